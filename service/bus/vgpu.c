/* The methods of org.gpuvirt.Vgpu (SetType, ReleaseType, CreateMdev,
 * CreateVgpu, RemoveVgpu) and org.gpuvirt.Mdev.Remove. Each reads its
 * arguments, has the vGPU engine plan the call on the host model
 * (vgpu/plan.h: every check of the device's state), says what the
 * persist option records, and hands the rest to bus_vgpu_op_run():
 * busy, in use, polkit (org.gpuvirt.configure-vgpu), the worker, the
 * objects read again, the reply. A call that finds the device as asked
 * replies at once without asking polkit or writing (with persist, after
 * polkit for modify-config, only the file is written). */
#include "bus/vgpu.h"
#include "bus/objects.h"
#include "bus/options.h"
#include "bus/paths.h"
#include "bus/persist.h"
#include "bus/util.h"
#include "bus/vgpu-op.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The polkit details of a vGPU call on DEVICE, in DETAILS (room for 13). */
static const char *const *
details_of (GvHostDevice *device, const GvVgpuPlan *plan, const char *uuid, char ids[2][5], char count[11],
            const char *details[13])
{
  guint n = 0;

  g_snprintf (ids[0], 5, "%04x", device->fn->vendor_id);
  g_snprintf (ids[1], 5, "%04x", device->fn->device_id);
  details[n++] = GPUVIRT_DETAIL_DEVICE;
  details[n++] = device->fn->bdf;
  details[n++] = GPUVIRT_DETAIL_VENDOR;
  details[n++] = ids[0];
  details[n++] = GPUVIRT_DETAIL_MODEL;
  details[n++] = ids[1];
  details[n++] = GPUVIRT_DETAIL_TYPE;
  details[n++] = plan->type;
  if (uuid && *uuid) {
    details[n++] = GPUVIRT_DETAIL_UUID;
    details[n++] = uuid;
  }
  if (plan->batch) {
    g_snprintf (count, 11, "%u", plan->batch);
    details[n++] = GPUVIRT_DETAIL_COUNT;
    details[n++] = count;
  }
  details[n] = NULL;
  return details;
}

/* Hands PLAN (taken; NULL: refused, LOCAL says why) to the shared steps. */
static int
run (Daemon *daemon, sd_bus_message *m, GvVgpuPlan *plan, GError *local, BusPersist *persist,
     BusVgpuOpPersistFunc persist_result, const char *uuid, guint timeout_ms, BusVgpuOpReplyFunc reply,
     sd_bus_error *error)
{
  GvHostDevice *subject;
  char ids[2][5];
  char count[11];
  const char *details[13];
  BusVgpuCall call = { plan, persist, persist_result, NULL, timeout_ms, reply };

  if (!plan) {
    bus_persist_free (persist);
    return bus_error_set (error, local);
  }
  subject = gv_host_lookup (daemon->host, plan->function);
  call.details = details_of (subject, plan, uuid, ids, count, details);
  return bus_vgpu_op_run (daemon, m, &call, error);
}

static int
reply_empty (BusVgpuOp *op)
{
  return sd_bus_reply_method_return (op->request, NULL);
}

/* ---- SetType, ReleaseType ---- */

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
  g_autoptr (GError) local = NULL;
  BusPersist *persisting = NULL;
  GvHostDevice *device;
  GvVgpuPlan *plan;
  int r;

  r = sd_bus_message_read (m, "s", &wanted);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!(device = bus_device_of_call (daemon, m, error)))
    return -EINVAL;
  plan = gv_vgpu_plan_set_type (daemon->host, daemon->type_names, device, wanted, &local);
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    bus_persist_vgpu_type (persisting, plan->function, plan->type_text);
  }
  return run (daemon, m, plan, local, persisting, NULL, NULL, timeout_ms, reply_empty, error);
}

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
  BusPersist *persisting = NULL;
  GvHostDevice *device;
  GvVgpuPlan *plan;
  int r;

  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!(device = bus_device_of_call (daemon, m, error)))
    return -EINVAL;
  plan = gv_vgpu_plan_release_type (daemon->host, device, &local);
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    bus_persist_vgpu_type (persisting, plan->function, NULL);
  }
  return run (daemon, m, plan, local, persisting, NULL, NULL, timeout_ms, reply_empty, error);
}

/* ---- CreateMdev, Mdev.Remove ---- */

static int
reply_mdev (BusVgpuOp *op)
{
  g_autofree char *path = bus_mdev_path (op->outcome.uuid);
  return sd_bus_reply_method_return (op->request, "o", path);
}

/* The mdev as made: its UUID (perhaps generated) on its parent. */
static void
persist_mdev_made (BusVgpuOp *op)
{
  GvHostDevice *parent = gv_host_lookup (op->daemon->host, op->plan->function);
  GvHostMdevType *type = parent ? gv_vgpu_mdev_type (parent, op->outcome.type) : NULL;

  bus_persist_clear (op->persist);
  bus_persist_add_mdev (op->persist, op->outcome.uuid, op->plan->function,
                        bus_persist_type_text (op->outcome.type, type ? type->name : NULL));
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
  g_autoptr (GError) local = NULL;
  BusPersist *persisting = NULL;
  GvHostDevice *device;
  GvVgpuPlan *plan;
  int r;

  r = sd_bus_message_read (m, "ss", &wanted, &uuid);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!(device = bus_device_of_call (daemon, m, error)))
    return -EINVAL;
  plan = gv_vgpu_plan_create_mdev (daemon->host, daemon->type_names, device, wanted, uuid, &local);
  /* a UUID the call generates is recorded once the mdev is made */
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    bus_persist_add_mdev (persisting, *plan->uuid ? plan->uuid : NULL, plan->function, plan->type_text);
  }
  return run (daemon, m, plan, local, persisting, persist_mdev_made, uuid, timeout_ms, reply_mdev, error);
}

int
bus_vgpu_mdev_remove (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *uuid = bus_mdev_path_to_uuid (sd_bus_message_get_path (m));
  gboolean persist = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  BusPersist *persisting = NULL;
  GvHostMdev *mdev;
  GvVgpuPlan *plan;
  int r;

  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  mdev = gv_vgpu_find_mdev (daemon->host, uuid);
  if (!mdev)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
  plan = gv_vgpu_plan_remove_mdev (daemon->host, mdev, &local);
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    bus_persist_remove_mdev (persisting, plan->uuid);
  }
  return run (daemon, m, plan, local, persisting, NULL, plan ? plan->uuid : NULL, timeout_ms, reply_empty, error);
}

/* ---- CreateVgpu, RemoveVgpu ---- */

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

/* (o a{sv}): RESULT's object and what a VM manager needs of it. */
static int
append_vgpu (Daemon *daemon, sd_bus_message *reply, const GvVgpuResult *result)
{
  g_autofree char *path = NULL;
  g_autofree char *xml = hostdev_xml (result->address, result->mdev_uuid);
  const char *group_node = "", *cdev_node = "";
  int r;

  if (result->mdev_uuid) {
    GvHostMdev *mdev = gv_vgpu_find_mdev (daemon->host, result->mdev_uuid);
    path = bus_mdev_path (result->mdev_uuid);
    if (mdev) {
      group_node = mdev->vfio_group_node ? mdev->vfio_group_node : "";
      cdev_node = mdev->vfio_cdev_node ? mdev->vfio_cdev_node : "";
    }
  } else {
    GvHostDevice *vf = gv_host_lookup (daemon->host, result->address);
    path = bus_device_path (result->address);
    if (vf) {
      group_node = vf->vfio_group_node ? vf->vfio_group_node : "";
      cdev_node = vf->fn->vfio_cdev_node ? vf->fn->vfio_cdev_node : "";
    }
  }
  r = sd_bus_message_append (reply, "o", path);
  if (r >= 0)
    r = sd_bus_message_append (reply, "a{sv}", 8,
                               GPUVIRT_INFO_ADDRESS, "s", result->address,
                               GPUVIRT_INFO_FRAMEWORK, "s", gv_host_framework_to_string (result->framework),
                               GPUVIRT_INFO_TYPE, "s", result->type_id,
                               GPUVIRT_INFO_TYPE_NAME, "s", result->type_name ? result->type_name : "",
                               GPUVIRT_INFO_VFIO_GROUP_NODE, "s", group_node,
                               GPUVIRT_INFO_VFIO_DEVICE_NODE, "s", cdev_node,
                               GPUVIRT_INFO_MDEV_UUID, "s", result->mdev_uuid ? result->mdev_uuid : "",
                               GPUVIRT_INFO_HOSTDEV_XML, "s", xml);
  return r;
}

static int
reply_vgpu (BusVgpuOp *op)
{
  g_autoptr (sd_bus_message) reply = NULL;
  int r = sd_bus_message_new_method_return (op->request, &reply);

  if (r >= 0)
    r = append_vgpu (op->daemon, reply, op->outcome.vgpu);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

static int
reply_vgpus (BusVgpuOp *op)
{
  g_autoptr (sd_bus_message) reply = NULL;
  int r = sd_bus_message_new_method_return (op->request, &reply);

  if (r >= 0)
    r = sd_bus_message_open_container (reply, 'a', "(oa{sv})");
  for (guint i = 0; r >= 0 && i < op->outcome.vgpus->len; i++) {
    r = sd_bus_message_open_container (reply, 'r', "oa{sv}");
    if (r >= 0)
      r = append_vgpu (op->daemon, reply, op->outcome.vgpus->pdata[i]);
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
  }
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

/* RESULT in the configuration: its VF's type or its mdev, and the VFs
 * when it was the vGPU that enabled them. */
static void
persist_one (BusVgpuOp *op, const GvVgpuResult *result, GvHostDevice *gpu)
{
  const char *type = bus_persist_type_text (result->type_id, result->type_name);

  if (result->enabled_vfs && gpu)
    bus_persist_num_vfs (op->persist, op->plan->gpu, gpu->fn->sriov_numvfs);
  if (result->mdev_uuid)
    bus_persist_add_mdev (op->persist, result->mdev_uuid, result->address, type);
  else
    bus_persist_vgpu_type (op->persist, result->address, type);
}

/* The vGPU as made: its VF's type or its mdev, and the VFs when the
 * call enabled them. */
static void
persist_vgpu_made (BusVgpuOp *op)
{
  bus_persist_clear (op->persist);
  persist_one (op, op->outcome.vgpu, gv_host_lookup (op->daemon->host, op->plan->gpu));
}

/* Every vGPU a batch made, and the VFs when it enabled them. */
static void
persist_vgpus_made (BusVgpuOp *op)
{
  GvHostDevice *gpu = gv_host_lookup (op->daemon->host, op->plan->gpu);

  bus_persist_clear (op->persist);
  for (guint i = 0; i < op->outcome.vgpus->len; i++)
    persist_one (op, op->outcome.vgpus->pdata[i], gpu);
}

static gboolean
is_mdev_framework (GvHostFramework framework)
{
  return framework == GV_HOST_FRAMEWORK_MDEV_PF || framework == GV_HOST_FRAMEWORK_MDEV_VF;
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
  g_autoptr (GError) local = NULL;
  BusPersist *persisting = NULL;
  GvHostDevice *device;
  GvVgpuPlan *plan;
  int r;

  r = sd_bus_message_read (m, "s", &wanted);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!(device = bus_device_of_call (daemon, m, error)))
    return -EINVAL;
  plan = gv_vgpu_plan_create_vgpu (daemon->host, daemon->type_names, device, wanted, uuid, num_vfs, &local);
  /* what is known of the vGPU now (the VFs the call enables, an mdev's
   * UUID, the VF named); the VF or UUID the call picks is recorded once
   * it is made */
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    if (plan->enables_vfs)
      bus_persist_num_vfs (persisting, plan->gpu, plan->vfs_enabled);
    if (is_mdev_framework (plan->framework) && *plan->uuid)
      bus_persist_add_mdev (persisting, plan->uuid, plan->function, plan->wanted);
    else if (gv_host_function_is_vf (device->fn) && !is_mdev_framework (plan->framework))
      bus_persist_vgpu_type (persisting, plan->function, plan->wanted);
  }
  return run (daemon, m, plan, local, persisting, persist_vgpu_made, uuid, timeout_ms, reply_vgpu, error);
}

int
bus_vgpu_create_vgpus (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *wanted = NULL;
  gboolean persist = FALSE;
  guint32 count = 0, timeout_ms = 0, num_vfs = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_NUM_VFS, 'u', &num_vfs },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  BusPersist *persisting = NULL;
  GvHostDevice *device;
  GvVgpuPlan *plan;
  int r;

  r = sd_bus_message_read (m, "su", &wanted, &count);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!(device = bus_device_of_call (daemon, m, error)))
    return -EINVAL;
  plan = gv_vgpu_plan_create_vgpus (daemon->host, daemon->type_names, device, wanted, count, num_vfs, &local);
  /* the VFs and types are recorded once the vGPUs are made */
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    if (plan->enables_vfs)
      bus_persist_num_vfs (persisting, plan->gpu, plan->vfs_enabled);
  }
  return run (daemon, m, plan, local, persisting, persist_vgpus_made, NULL, timeout_ms, reply_vgpus, error);
}

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
  g_autoptr (GError) local = NULL;
  BusPersist *persisting = NULL;
  GvHostDevice *device;
  GvVgpuPlan *plan;
  int r;

  r = sd_bus_message_read (m, "o", &object);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (!(device = bus_device_of_call (daemon, m, error)))
    return -EINVAL;
  uuid = bus_mdev_path_to_uuid (object);
  vf_bdf = uuid ? NULL : bus_device_path_to_bdf (object);
  if (!uuid && !vf_bdf)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "%s is neither an mdev object nor a device object",
                              object);
  plan = gv_vgpu_plan_remove_vgpu (daemon->host, device, object, uuid, vf_bdf, disable_vfs, &local);
  /* the inverse of CreateVgpu's edits */
  if (plan && persist) {
    persisting = bus_persist_new (daemon);
    if (plan->on_mdev)
      bus_persist_remove_mdev (persisting, plan->uuid);
    else
      bus_persist_vgpu_type (persisting, plan->function, NULL);
    if (plan->disable_vfs)
      bus_persist_num_vfs (persisting, plan->gpu, 0);
  }
  return run (daemon, m, plan, local, persisting, NULL, plan ? plan->uuid : NULL, timeout_ms, reply_empty, error);
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
  bdf = bus_device_path_to_bdf (path);
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device || device->framework != GV_HOST_FRAMEWORK_NONE)
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
