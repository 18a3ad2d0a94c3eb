/* The methods of org.gpuvirt.Vgpu (SetType, ReleaseType, CreateMdev,
 * CreateVgpu, RemoveVgpu) and org.gpuvirt.Mdev.Remove. Each: validate
 * input -> check state on the model -> polkit (org.gpuvirt.configure-vgpu)
 * -> act through the engine in a worker (bus-vgpu-op.c) -> the objects
 * read again, so InterfacesAdded/Removed and PropertiesChanged go out ->
 * reply. A no-op (the type already set, a free VF released) replies at
 * once without asking polkit or writing.
 *
 * The persist option: the call's configuration edits are tried before
 * polkit (ConfigInvalid, nothing written, when they cannot be made),
 * polkit is asked for org.gpuvirt.modify-config too, and the edits are
 * saved once the change succeeded (bus-persist.h). A no-op that persists
 * asks polkit for modify-config only and writes only the file. */
#include "bus/vgpu.h"
#include "bus/options.h"
#include "bus/paths.h"
#include "bus/persist.h"
#include "bus/util.h"
#include "bus/vgpu-check.h"
#include "bus/vgpu-op.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>

/* ---- shared steps ---- */

static int
reply_empty (VgpuOp *op)
{
  return sd_bus_reply_method_return (op->request, NULL);
}

/* The managed function at M's path; NULL with the error set. */
static GvHostDevice *
device_of_call (Daemon *daemon, sd_bus_message *m, sd_bus_error *error)
{
  g_autofree char *bdf = gpuvirt_device_path_to_bdf (sd_bus_message_get_path (m));
  GvHostDevice *device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;

  if (!device) {
    sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
    return NULL;
  }
  if (!device->managed) {
    sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages", bdf);
    return NULL;
  }
  return device;
}

/* The read-only daemon changes nothing. */
static int
refuse_unavailable (Daemon *daemon, sd_bus_error *error)
{
  if (daemon->read_only)
    return sd_bus_error_set (error, GPUVIRT_ERROR_NOT_SUPPORTED, "gpuvirtd runs with --read-only: nothing may change");
  return 0;
}

static int
refuse_busy (Daemon *daemon, const char *const *keys, sd_bus_error *error)
{
  const char *busy = vgpu_busy_conflict (daemon, keys);

  if (!busy)
    return 0;
  return sd_bus_error_setf (error, GPUVIRT_ERROR_BUSY, "%s is being changed by another request; try again when it is done",
                            busy);
}

/* 1 authorized, 0 asked (the handler runs again), < 0 refused. ACTION
 * NULL: a no-op that only persists (modify-config alone). */
static int
authorize (Daemon *daemon, sd_bus_message *m, const char *action, gboolean persist, GvHostDevice *device,
           const char *type, const char *uuid, sd_bus_error *error)
{
  const char *actions[3];
  g_autofree char *vendor = g_strdup_printf ("%04x", device->fn->vendor_id);
  g_autofree char *model = g_strdup_printf ("%04x", device->fn->device_id);
  const char *details[] = { GPUVIRT_DETAIL_DEVICE, device->fn->bdf, GPUVIRT_DETAIL_VENDOR, vendor,
                            GPUVIRT_DETAIL_MODEL, model, GPUVIRT_DETAIL_TYPE, type ? type : "",
                            uuid && *uuid ? GPUVIRT_DETAIL_UUID : NULL, uuid, NULL };

  return gpuvirt_polkit_check_all (daemon->polkit, m, bus_persist_actions (action, persist, actions), details, error);
}

/* Checks PERSIST's edits on the configuration; takes it. NULL (with ERROR
 * set) when they cannot be recorded, or when PERSIST is NULL. */
static BusPersist *
checked (BusPersist *persist, sd_bus_error *error)
{
  g_autoptr (BusPersist) owned = persist;

  if (!owned || bus_persist_check (owned, error) < 0)
    return NULL;
  return g_steal_pointer (&owned);
}

/* A call that finds the device as asked but persists: polkit for
 * modify-config, then only the file written. 1 done (the caller replies),
 * 0 asked polkit (the handler runs again), < 0 refused. */
static int
persist_only (Daemon *daemon, sd_bus_message *m, BusPersist *persist, GvHostDevice *device, const char *type,
              sd_bus_error *error)
{
  int r = authorize (daemon, m, NULL, TRUE, device, type, NULL, error);

  if (r <= 0)
    return r;
  r = bus_persist_commit (persist, NULL, TRUE, error);
  return r < 0 ? r : 1;
}

/* NoSuchType naming what is offered, or NoCapacity when the GPU offers
 * nothing because its vGPUs take all of it; 0 when WANTED is known. */
static int
refuse_unknown_type (Daemon *daemon, GvHostDevice *gpu, const char *wanted, sd_bus_error *error)
{
  g_autofree char *offered = NULL;

  if (vgpu_check_type_known (daemon, gpu, wanted, &offered))
    return 0;
  if (g_str_equal (offered, "none") && vgpu_check_has_vgpus (daemon, gpu, NULL, NULL))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_CAPACITY,
                              "%s offers no vGPU type now, so not “%s” either: its vGPUs take all of it; remove one "
                              "first", gpu->fn->bdf, wanted);
  return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_TYPE, "%s offers no vGPU type “%s”; it offers: %s",
                            gpu->fn->bdf, wanted, offered);
}

/* NoSuchType when other GPUs of GPU's model show their types and none of
 * them, nor any vendor-VFIO type seen on this host, is WANTED; 0 when one
 * is, or when no such GPU tells. */
static int
refuse_unknown_type_by_model (Daemon *daemon, GvHostDevice *gpu, const char *wanted, sd_bus_error *error)
{
  GPtrArray *devices = gv_host_get_devices (daemon->host);
  g_autofree char *offered = NULL;
  GvHostDevice *witness = NULL;

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *other = devices->pdata[i];
    if (other == gpu || other->role != GV_HOST_ROLE_GPU || other->fn->vendor_id != gpu->fn->vendor_id ||
        other->fn->device_id != gpu->fn->device_id || other->framework == GV_HOST_FRAMEWORK_PENDING ||
        other->framework == GV_HOST_FRAMEWORK_NONE)
      continue;
    g_clear_pointer (&offered, g_free);
    if (vgpu_check_type_known (daemon, other, wanted, &offered))
      return 0;
    witness = other;
  }
  if (!witness || vgpu_check_cached_type_matches (daemon, wanted))
    return 0;
  if (witness->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO) {
    g_free (offered);
    offered = vgpu_check_cached_types_text (daemon);
  }
  return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_TYPE,
                            "%s has no vGPU type “%s”: GPUs of its model (%04x:%04x, e.g. %s) offer: %s", gpu->fn->bdf,
                            wanted, gpu->fn->vendor_id, gpu->fn->device_id, witness->fn->bdf, offered);
}

static gboolean
is_vendor_vf (GvHostDevice *device)
{
  return gv_host_function_is_vf (device->fn) && device->fn->vendor_vfio != NULL;
}

static int
refuse_not_vendor_vf (GvHostDevice *device, sd_bus_error *error)
{
  const char *framework = gv_host_framework_to_string (device->framework);

  if (!gv_host_function_is_vf (device->fn))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                              "%s is not a VF: vendor-VFIO types are set on a GPU's VFs (or use CreateVgpu on the "
                              "GPU)", device->fn->bdf);
  return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                            "%s has no nvidia/current_vgpu_type: its GPU's vGPU framework is %s, not vendor-vfio%s",
                            device->fn->bdf, framework,
                            device->framework == GV_HOST_FRAMEWORK_MDEV_VF ? " (use CreateMdev on the VF)" : "");
}

/* The vendor-VFIO VF that SetType or ReleaseType is called on, when the
 * daemon may change it and no other call is changing it; NULL with *RET
 * and ERROR set otherwise. */
static GvHostDevice *
vendor_vf_of_call (Daemon *daemon, sd_bus_message *m, int *ret, sd_bus_error *error)
{
  GvHostDevice *device = device_of_call (daemon, m, error);
  const char *keys[2] = { NULL };

  *ret = -EINVAL;
  if (!device)
    return NULL;
  if (!is_vendor_vf (device)) {
    *ret = refuse_not_vendor_vf (device, error);
    return NULL;
  }
  *ret = refuse_unavailable (daemon, error);
  if (*ret < 0)
    return NULL;
  keys[0] = device->fn->bdf;
  *ret = refuse_busy (daemon, keys, error);
  return *ret < 0 ? NULL : device;
}

/* ---- SetType ---- */

int
bus_vgpu_set_type (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *wanted = NULL;
  gboolean persist = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  GvHostDevice *device, *gpu;
  GvHostVendorVfio *vendor;
  g_autofree char *current = NULL;
  g_autofree char *offered = NULL;
  g_autoptr (BusPersist) persisting = NULL;
  const char *keys[2] = { NULL };
  const char *type_text = NULL;
  VgpuOp *op;
  int r;

  /* validate */
  r = sd_bus_message_read (m, "s", &wanted);
  if (r < 0)
    return r;
  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!*wanted)
    return sd_bus_error_set (error, SD_BUS_ERROR_INVALID_ARGS, "No vGPU type given: name one by id or by name");
  device = vendor_vf_of_call (daemon, m, &r, error);
  if (!device)
    return r;
  keys[0] = device->fn->bdf;
  gpu = vgpu_check_gpu_of (daemon, device);
  vendor = device->fn->vendor_vfio;
  if (vendor->current_type != 0) {
    const char *name = vgpu_check_vendor_type_name (daemon, vendor->current_type);
    current = g_strdup_printf ("%u", vendor->current_type);
    if (gv_vgpu_type_matches (current, name, wanted)) {
      if (persist) {
        persisting = bus_persist_new (daemon);
        bus_persist_vgpu_type (persisting, device->fn->bdf, bus_persist_type_text (current, name));
        if (!(persisting = checked (g_steal_pointer (&persisting), error)))
          return -EINVAL;
        r = persist_only (daemon, m, persisting, device, current, error);
        if (r <= 0)
          return r < 0 ? r : 1;
      }
      return sd_bus_reply_method_return (m, NULL);
    }
    return sd_bus_error_setf (error, GPUVIRT_ERROR_EXISTS, "%s carries vGPU type %s%s%s%s; release it first",
                              device->fn->bdf, current, *name ? " (" : "", name, *name ? ")" : "");
  }
  r = refuse_unknown_type (daemon, gpu, wanted, error);
  if (r < 0)
    return r;
  {
    g_autofree char *fit_id = NULL;
    for (guint i = 0; i < vendor->creatable->len && !type_text; i++) {
      GvHostVendorType *t = vendor->creatable->pdata[i];
      g_autofree char *id = g_strdup_printf ("%u", t->id);
      if (gv_vgpu_type_matches (id, t->name, wanted)) {
        fit_id = g_steal_pointer (&id);
        type_text = bus_persist_type_text (fit_id, t->name);
      }
    }
    if (!type_text)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_CAPACITY,
                                "%s cannot take “%s” now: the types already set on its GPU %s leave no room for it",
                                device->fn->bdf, wanted, gpu->fn->bdf);
    /* the configuration can take the type, or nothing is written */
    if (persist) {
      persisting = bus_persist_new (daemon);
      bus_persist_vgpu_type (persisting, device->fn->bdf, type_text);
      if (!(persisting = checked (g_steal_pointer (&persisting), error)))
        return -EINVAL;
    }
  }

  /* polkit */
  r = authorize (daemon, m, GPUVIRT_ACTION_VGPU, persist, device, wanted, NULL, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  /* act */
  op = vgpu_op_new (daemon, m, VGPU_OP_SET_TYPE, device->fn->bdf, gpu->fn->bdf, timeout_ms, reply_empty);
  op->wanted = g_strdup (wanted);
  op->persist = g_steal_pointer (&persisting);
  vgpu_op_start (op, keys);
  return 1;
}

/* ---- ReleaseType ---- */

int
bus_vgpu_release_type (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  gboolean persist = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  g_autofree char *users = NULL;
  g_autofree char *current = NULL;
  g_autoptr (BusPersist) persisting = NULL;
  const char *keys[2] = { NULL };
  GvHostDevice *device, *gpu;
  VgpuOp *op;
  int r;

  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  device = vendor_vf_of_call (daemon, m, &r, error);
  if (!device)
    return r;
  keys[0] = device->fn->bdf;
  if (persist) {
    persisting = bus_persist_new (daemon);
    bus_persist_vgpu_type (persisting, device->fn->bdf, NULL);
  }
  if (device->fn->vendor_vfio->current_type == 0) {
    if (persist) {
      if (!(persisting = checked (g_steal_pointer (&persisting), error)))
        return -EINVAL;
      r = persist_only (daemon, m, persisting, device, "", error);
      if (r <= 0)
        return r < 0 ? r : 1;
    }
    return sd_bus_reply_method_return (m, NULL);
  }
  users = vgpu_check_vf_holders (daemon, device, &local);
  if (!users)
    return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not find who holds %s: %s", device->fn->bdf,
                              local->message);
  if (*users)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_IN_USE,
                              "The vGPU of %s is in use: %s; stop the virtual machine first", device->fn->bdf, users);

  if (persist && !(persisting = checked (g_steal_pointer (&persisting), error)))
    return -EINVAL;

  current = g_strdup_printf ("%u", device->fn->vendor_vfio->current_type);
  r = authorize (daemon, m, GPUVIRT_ACTION_VGPU, persist, device, current, NULL, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  gpu = vgpu_check_gpu_of (daemon, device);
  op = vgpu_op_new (daemon, m, VGPU_OP_RELEASE_TYPE, device->fn->bdf, gpu->fn->bdf, timeout_ms, reply_empty);
  op->persist = g_steal_pointer (&persisting);
  vgpu_op_start (op, keys);
  return 1;
}

/* ---- CreateMdev ---- */

static int
reply_mdev (VgpuOp *op)
{
  g_autofree char *path = gpuvirt_mdev_path (op->out_uuid);
  return sd_bus_reply_method_return (op->request, "o", path);
}

/* The mdev as made: its UUID (perhaps generated) on its parent. */
static void
persist_mdev_made (VgpuOp *op)
{
  GvHostDevice *parent = gv_host_lookup (op->daemon->host, op->function);
  GvHostMdevType *type = parent ? vgpu_check_mdev_type (parent, op->out_type) : NULL;

  bus_persist_clear (op->persist);
  bus_persist_add_mdev (op->persist, op->out_uuid, op->function,
                        bus_persist_type_text (op->out_type, type ? type->name : NULL));
}

/* UUID must be "" or canonical; FALSE with InvalidArgs otherwise. */
static int
check_uuid (const char *uuid, sd_bus_error *error)
{
  if (*uuid && !gv_vgpu_uuid_is_valid (uuid))
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                              "“%s” is not a UUID: give one like 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f, or \"\" to have "
                              "one made", uuid);
  return 0;
}

int
bus_vgpu_create_mdev (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *wanted = NULL, *uuid = NULL;
  gboolean persist = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autofree char *offered = NULL;
  g_autoptr (BusPersist) persisting = NULL;
  const char *keys[3] = { NULL };
  GvHostDevice *device, *gpu;
  GvHostMdevType *type;
  VgpuOp *op;
  int r;

  r = sd_bus_message_read (m, "ss", &wanted, &uuid);
  if (r < 0)
    return r;
  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!*wanted)
    return sd_bus_error_set (error, SD_BUS_ERROR_INVALID_ARGS, "No vGPU type given: name one by id or by name");
  r = check_uuid (uuid, error);
  if (r < 0)
    return r;
  device = device_of_call (daemon, m, error);
  if (!device)
    return -EINVAL;
  if (!device->fn->mdev_types)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "%s is not an mdev parent (framework %s)%s",
                              device->fn->bdf, gv_host_framework_to_string (device->framework),
                              device->framework == GV_HOST_FRAMEWORK_MDEV_VF && !gv_host_function_is_vf (device->fn)
                                ? ": its mdevs are made on its VFs; call CreateMdev on a VF, or CreateVgpu on the GPU"
                                : "");
  r = refuse_unavailable (daemon, error);
  if (r < 0)
    return r;

  keys[0] = device->fn->bdf;
  keys[1] = *uuid ? uuid : NULL;
  r = refuse_busy (daemon, keys, error);
  if (r < 0)
    return r;
  if (*uuid && vgpu_check_find_mdev (daemon, uuid))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_EXISTS, "An mdev with UUID %s exists already", uuid);
  gpu = vgpu_check_gpu_of (daemon, device);
  type = vgpu_check_mdev_type (device, wanted);
  if (!type) {
    vgpu_check_type_known (daemon, device, wanted, &offered);
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_TYPE, "%s offers no mdev type “%s”; it offers: %s",
                              device->fn->bdf, wanted, offered);
  }
  if (type->available_instances == 0)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_CAPACITY,
                              "No instance of %s (%s) is left on %s (available_instances is 0)", type->name, type->id,
                              device->fn->bdf);
  /* the configuration can take the mdev, or nothing is written (a UUID
   * the call generates is recorded once it is made) */
  if (persist) {
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    persisting = bus_persist_new (daemon);
    bus_persist_add_mdev (persisting, *uuid ? lower : NULL, device->fn->bdf,
                          bus_persist_type_text (type->id, type->name));
    if (!(persisting = checked (g_steal_pointer (&persisting), error)))
      return -EINVAL;
  }

  r = authorize (daemon, m, GPUVIRT_ACTION_VGPU, persist, device, type->id, uuid, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  op = vgpu_op_new (daemon, m, VGPU_OP_CREATE_MDEV, device->fn->bdf, gpu->fn->bdf, timeout_ms, reply_mdev);
  op->wanted = g_strdup (type->id);
  op->uuid = g_ascii_strdown (uuid, -1); /* the kernel names mdevs in lowercase */
  op->persist = g_steal_pointer (&persisting);
  op->persist_result = persist_mdev_made;
  vgpu_op_start (op, keys);
  return 1;
}

/* ---- Mdev.Remove ---- */

/* Refuses removing MDEV while a VM holds it; 0 when free. */
static int
refuse_mdev_in_use (Daemon *daemon, GvHostMdev *mdev, sd_bus_error *error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *users = vgpu_check_mdev_holders (daemon, mdev, &local);

  if (!users)
    return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not find who holds mdev %s: %s", mdev->uuid,
                              local->message);
  if (*users)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_IN_USE, "The mdev is in use: %s; stop the virtual machine first",
                              users);
  return 0;
}

int
bus_vgpu_mdev_remove (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *uuid = gpuvirt_mdev_path_to_uuid (sd_bus_message_get_path (m));
  gboolean persist = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  const char *keys[3] = { NULL };
  g_autoptr (BusPersist) persisting = NULL;
  GvHostDevice *parent, *gpu;
  GvHostMdev *mdev;
  VgpuOp *op;
  int r;

  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  mdev = vgpu_check_find_mdev (daemon, uuid);
  if (!mdev)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
  parent = gv_host_lookup (daemon->host, mdev->parent);
  if (!parent)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "The parent %s of mdev %s is gone", mdev->parent,
                              mdev->uuid);
  if (!parent->managed)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_MANAGED, "%s (parent of mdev %s) is outside the classes "
                              "gpuvirtd manages", parent->fn->bdf, mdev->uuid);
  r = refuse_unavailable (daemon, error);
  if (r < 0)
    return r;

  keys[0] = mdev->uuid;
  keys[1] = parent->fn->bdf;
  r = refuse_busy (daemon, keys, error);
  if (r < 0)
    return r;
  r = refuse_mdev_in_use (daemon, mdev, error);
  if (r < 0)
    return r;
  if (persist) {
    persisting = bus_persist_new (daemon);
    bus_persist_remove_mdev (persisting, mdev->uuid);
    if (!(persisting = checked (g_steal_pointer (&persisting), error)))
      return -EINVAL;
  }

  r = authorize (daemon, m, GPUVIRT_ACTION_VGPU, persist, parent, mdev->type_id, mdev->uuid, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  gpu = vgpu_check_gpu_of (daemon, parent);
  op = vgpu_op_new (daemon, m, VGPU_OP_REMOVE_MDEV, parent->fn->bdf, gpu->fn->bdf, timeout_ms, reply_empty);
  op->uuid = g_strdup (mdev->uuid);
  op->persist = g_steal_pointer (&persisting);
  vgpu_op_start (op, keys);
  return 1;
}

/* ---- CreateVgpu ---- */

static char *
hostdev_xml (const char *address, const char *uuid)
{
  guint domain = 0, bus = 0, slot = 0, function = 0;

  if (uuid)
    return g_strdup_printf ("<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>\n"
                            "  <source>\n    <address uuid='%s'/>\n  </source>\n</hostdev>\n", uuid);
  if (sscanf (address, "%x:%x:%x.%x", &domain, &bus, &slot, &function) != 4)
    return g_strdup ("");
  return g_strdup_printf ("<hostdev mode='subsystem' type='pci' managed='no'>\n"
                          "  <source>\n    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                          "  </source>\n</hostdev>\n", domain, bus, slot, function);
}

static int
reply_vgpu (VgpuOp *op)
{
  Daemon *daemon = op->daemon;
  GvVgpuResult *result = op->result;
  g_autoptr (sd_bus_message) reply = NULL;
  g_autofree char *path = NULL;
  g_autofree char *xml = hostdev_xml (result->address, result->mdev_uuid);
  const char *group_node = "", *cdev_node = "";
  int r;

  if (result->mdev_uuid) {
    GvHostMdev *mdev = vgpu_check_find_mdev (daemon, result->mdev_uuid);
    path = gpuvirt_mdev_path (result->mdev_uuid);
    if (mdev) {
      group_node = mdev->vfio_group_node ? mdev->vfio_group_node : "";
      cdev_node = mdev->vfio_cdev_node ? mdev->vfio_cdev_node : "";
    }
  } else {
    GvHostDevice *vf = gv_host_lookup (daemon->host, result->address);
    path = gpuvirt_device_path (result->address);
    if (vf) {
      group_node = vf->vfio_group_node ? vf->vfio_group_node : "";
      cdev_node = vf->fn->vfio_cdev_node ? vf->fn->vfio_cdev_node : "";
    }
  }
  r = sd_bus_message_new_method_return (op->request, &reply);
  if (r >= 0)
    r = sd_bus_message_append (reply, "o", path);
  if (r >= 0)
    r = sd_bus_message_append (reply, "a{sv}", 8,
                               "address", "s", result->address,
                               "framework", "s", gv_host_framework_to_string (result->framework),
                               "type", "s", result->type_id,
                               "type_name", "s", result->type_name ? result->type_name : "",
                               "vfio_group_node", "s", group_node,
                               "vfio_device_node", "s", cdev_node,
                               "mdev_uuid", "s", result->mdev_uuid ? result->mdev_uuid : "",
                               "hostdev_xml", "s", xml);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

/* The vGPU as made: its VF's type or its mdev, and the VFs when the
 * call enabled them. */
static void
persist_vgpu_made (VgpuOp *op)
{
  GvVgpuResult *result = op->result;
  GvHostDevice *gpu = gv_host_lookup (op->daemon->host, op->gpu);
  const char *type = bus_persist_type_text (result->type_id, result->type_name);

  bus_persist_clear (op->persist);
  if (result->enabled_vfs && gpu)
    bus_persist_num_vfs (op->persist, op->gpu, gpu->fn->sriov_numvfs);
  if (result->mdev_uuid)
    bus_persist_add_mdev (op->persist, result->mdev_uuid, result->address, type);
  else
    bus_persist_vgpu_type (op->persist, result->address, type);
}

int
bus_vgpu_create_vgpu (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *wanted = NULL;
  g_autofree char *uuid = NULL;
  gboolean persist = FALSE;
  guint32 timeout_ms = 0, num_vfs = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_UUID, 's', &uuid },
    { GPUVIRT_OPT_NUM_VFS, 'u', &num_vfs },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autofree char *offered = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (BusPersist) persisting = NULL;
  GvHostDevice *device, *gpu;
  gboolean on_vf;
  VgpuOp *op;
  int r;

  r = sd_bus_message_read (m, "s", &wanted);
  if (r < 0)
    return r;
  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!*wanted)
    return sd_bus_error_set (error, SD_BUS_ERROR_INVALID_ARGS, "No vGPU type given: name one by id or by name");
  r = check_uuid (uuid ? uuid : "", error);
  if (r < 0)
    return r;
  device = device_of_call (daemon, m, error);
  if (!device)
    return -EINVAL;
  on_vf = gv_host_function_is_vf (device->fn);
  gpu = vgpu_check_gpu_of (daemon, device);
  if (device->framework == GV_HOST_FRAMEWORK_NONE)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                              "%s has no vGPU framework: no mdev types, no nvidia/ vGPU files on its VFs%s",
                              device->fn->bdf,
                              g_strcmp0 (gpu->fn->driver, "nvidia") != 0
                                ? " (it is not on the nvidia driver)"
                                : " (is the NVIDIA vGPU manager installed?)");
  if (uuid && *uuid && device->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                              "The uuid option applies to mdev vGPUs; %s uses the vendor-specific VFIO framework",
                              gpu->fn->bdf);
  if (num_vfs > gpu->fn->sriov_totalvfs || (num_vfs && on_vf))
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "num-vfs %u: %s", num_vfs,
                              on_vf ? "VFs are enabled on the GPU, not on a VF"
                                    : "more than the GPU's TotalVfs");
  r = refuse_unavailable (daemon, error);
  if (r < 0)
    return r;

  /* check state */
  if (on_vf) {
    keys = g_new0 (char *, 2);
    keys[0] = g_strdup (device->fn->bdf);
  } else {
    keys = vgpu_check_family_bdfs (gpu);
  }
  r = refuse_busy (daemon, (const char *const *) keys, error);
  if (r < 0)
    return r;
  if (uuid && *uuid && vgpu_check_find_mdev (daemon, uuid))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_EXISTS, "An mdev with UUID %s exists already", uuid);
  if (device->framework != GV_HOST_FRAMEWORK_PENDING) {
    r = refuse_unknown_type (daemon, gpu, wanted, error);
    if (r < 0)
      return r;
  } else {
    /* a pending GPU shows its types only once its VFs exist; a GPU of the
     * same model that has them tells before anything is written */
    r = refuse_unknown_type_by_model (daemon, gpu, wanted, error);
    if (r < 0)
      return r;
  }
  /* the configuration can take what is known of the vGPU now (the VFs
   * the call enables, an mdev's UUID, the VF named), or nothing is
   * written; the VF or UUID the call picks is recorded once made */
  if (persist) {
    gboolean mdev = device->framework == GV_HOST_FRAMEWORK_MDEV_PF || device->framework == GV_HOST_FRAMEWORK_MDEV_VF;
    persisting = bus_persist_new (daemon);
    if (!on_vf && device->framework != GV_HOST_FRAMEWORK_MDEV_PF && gpu->fn->sriov_numvfs == 0)
      bus_persist_num_vfs (persisting, gpu->fn->bdf, num_vfs ? num_vfs : gpu->fn->sriov_totalvfs);
    if (mdev && uuid && *uuid) {
      g_autofree char *lower = g_ascii_strdown (uuid, -1);
      bus_persist_add_mdev (persisting, lower, device->fn->bdf, wanted);
    } else if (on_vf && !mdev) {
      bus_persist_vgpu_type (persisting, device->fn->bdf, wanted);
    }
    if (!(persisting = checked (g_steal_pointer (&persisting), error)))
      return -EINVAL;
  }

  r = authorize (daemon, m, GPUVIRT_ACTION_VGPU, persist, device, wanted, uuid, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  op = vgpu_op_new (daemon, m, VGPU_OP_CREATE_VGPU, device->fn->bdf, gpu->fn->bdf, timeout_ms, reply_vgpu);
  op->wanted = g_strdup (wanted);
  op->uuid = g_ascii_strdown (uuid ? uuid : "", -1);
  op->count = num_vfs;
  op->framework = device->framework;
  op->persist = g_steal_pointer (&persisting);
  op->persist_result = persist_vgpu_made;
  vgpu_op_start (op, (const char *const *) keys);
  return 1;
}

/* ---- RemoveVgpu ---- */

int
bus_vgpu_remove_vgpu (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *object = NULL;
  gboolean persist = FALSE, disable_vfs = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_DISABLE_VFS, 'b', &disable_vfs },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autofree char *uuid = NULL;
  g_autofree char *vf_bdf = NULL;
  g_autofree char *type = NULL;
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (BusPersist) persisting = NULL;
  GvHostDevice *device, *gpu, *target;
  GvHostMdev *mdev = NULL;
  gboolean disable = FALSE;
  VgpuOp *op;
  int r;

  r = sd_bus_message_read (m, "o", &object);
  if (r < 0)
    return r;
  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  device = device_of_call (daemon, m, error);
  if (!device)
    return -EINVAL;
  gpu = vgpu_check_gpu_of (daemon, device);

  uuid = gpuvirt_mdev_path_to_uuid (object);
  vf_bdf = uuid ? NULL : gpuvirt_device_path_to_bdf (object);
  if (!uuid && !vf_bdf)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                              "%s is neither an mdev object nor a device object", object);
  if (uuid) {
    mdev = vgpu_check_find_mdev (daemon, uuid);
    if (!mdev)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s does not exist", object);
    target = gv_host_lookup (daemon->host, mdev->parent);
    if (!target)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "The parent %s of mdev %s is gone", mdev->parent,
                                mdev->uuid);
  } else {
    target = gv_host_lookup (daemon->host, vf_bdf);
    if (!target)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s does not exist", object);
    mdev = target->framework == GV_HOST_FRAMEWORK_MDEV_VF ? vgpu_check_only_mdev_of (daemon, target) : NULL;
  }
  if (mdev) {
    if (target != device && vgpu_check_gpu_of (daemon, target) != device)
      return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "mdev %s is made on %s, not on %s or its VFs",
                                mdev->uuid, mdev->parent, device->fn->bdf);
    type = g_strdup (mdev->type_id);
  } else {
    if (!is_vendor_vf (target) || target->fn->vendor_vfio->current_type == 0 ||
        (target != device && g_strcmp0 (target->fn->physfn, device->fn->bdf) != 0))
      return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "%s is not a vGPU of %s: %s", vf_bdf,
                                device->fn->bdf,
                                !is_vendor_vf (target) ? "neither a vendor-VFIO VF nor a VF hosting one mdev"
                                : target->fn->vendor_vfio->current_type == 0 ? "it carries no vGPU type"
                                                                             : "it is another GPU's VF");
    type = g_strdup_printf ("%u", target->fn->vendor_vfio->current_type);
  }
  if (!target->managed)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages",
                              target->fn->bdf);
  r = refuse_unavailable (daemon, error);
  if (r < 0)
    return r;

  /* check state */
  disable = disable_vfs && gpu->fn->sriov_numvfs > 0 &&
            !vgpu_check_has_vgpus (daemon, gpu, mdev ? NULL : target->fn->bdf, mdev ? mdev->uuid : NULL);
  if (disable) {
    keys = vgpu_check_family_bdfs (gpu);
  } else {
    keys = g_new0 (char *, 2);
    keys[0] = g_strdup (target->fn->bdf);
  }
  if (mdev) {
    guint n = g_strv_length (keys);
    keys = g_renew (char *, keys, n + 2);
    keys[n] = g_strdup (mdev->uuid);
    keys[n + 1] = NULL;
  }
  r = refuse_busy (daemon, (const char *const *) keys, error);
  if (r < 0)
    return r;
  if (mdev) {
    r = refuse_mdev_in_use (daemon, mdev, error);
    if (r < 0)
      return r;
  } else {
    g_autofree char *users = vgpu_check_vf_holders (daemon, target, &local);
    if (!users)
      return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not find who holds %s: %s", target->fn->bdf,
                                local->message);
    if (*users)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_IN_USE,
                                "The vGPU of %s is in use: %s; stop the virtual machine first", target->fn->bdf, users);
  }
  if (disable) {
    g_autofree char *users = vgpu_check_vfs_in_use (daemon, gpu, mdev ? NULL : target->fn->bdf,
                                                    mdev ? mdev->uuid : NULL, &local);
    if (!users)
      return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not find who uses the VFs of %s: %s",
                                gpu->fn->bdf, local->message);
    if (*users)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_IN_USE, "The VFs of %s cannot be disabled while in use: %s",
                                gpu->fn->bdf, users);
  }
  /* the inverse of CreateVgpu's edits, or nothing is written */
  if (persist) {
    persisting = bus_persist_new (daemon);
    if (mdev)
      bus_persist_remove_mdev (persisting, mdev->uuid);
    else
      bus_persist_vgpu_type (persisting, target->fn->bdf, NULL);
    if (disable)
      bus_persist_num_vfs (persisting, gpu->fn->bdf, 0);
    if (!(persisting = checked (g_steal_pointer (&persisting), error)))
      return -EINVAL;
  }

  r = authorize (daemon, m, GPUVIRT_ACTION_VGPU, persist, target, type, mdev ? mdev->uuid : NULL, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  op = vgpu_op_new (daemon, m, VGPU_OP_REMOVE_VGPU, target->fn->bdf, gpu->fn->bdf, timeout_ms, reply_empty);
  op->uuid = g_strdup (mdev ? mdev->uuid : "");
  op->disable_vfs = disable;
  op->persist = g_steal_pointer (&persisting);
  vgpu_op_start (op, (const char *const *) keys);
  return 1;
}

/* ---- vGPU methods where there is no org.gpuvirt.Vgpu ---- */

/* Answers them with NotSupported and the reason, instead of sd-bus'
 * UnknownInterface, as the contract says. */
static int
filter (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Daemon *daemon = userdata;
  const char *path = sd_bus_message_get_path (m);
  const char *iface = sd_bus_message_get_interface (m);
  g_autofree char *bdf = NULL;
  GvHostDevice *device;

  if (!sd_bus_message_is_method_call (m, NULL, NULL) || !path || g_strcmp0 (iface, GPUVIRT_VGPU_IFACE) != 0)
    return 0;
  bdf = gpuvirt_device_path_to_bdf (path);
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device || (daemon_device_interfaces (device) & GPUVIRT_IFACE_VGPU))
    return 0;
  sd_bus_reply_method_errorf (m, GPUVIRT_ERROR_NOT_SUPPORTED, "%s has no vGPU framework%s", bdf,
                              device->role != GV_HOST_ROLE_GPU && device->role != GV_HOST_ROLE_VF
                                ? ": it is not a GPU"
                                : g_strcmp0 (device->fn->driver, "nvidia") != 0
                                    ? ": vGPUs need the GPU on the nvidia driver with NVIDIA's vGPU manager"
                                    : ": no mdev types and no nvidia/ vGPU files (is NVIDIA's vGPU manager installed?)");
  return 1;
}

int
bus_vgpu_register (Daemon *daemon)
{
  return sd_bus_add_filter (daemon->bus, NULL, filter, daemon);
}
