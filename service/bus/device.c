/* org.gpuvirt.Device, org.gpuvirt.Sriov and org.gpuvirt.Vgpu on
 * /org/gpuvirt/devices/pci_*: one object per PCI function, served from the
 * host model through fallback vtables, one small getter per property. */
#include "bus/announce.h"
#include "bus/objects.h"
#include "bus/mig.h"
#include "bus/passthrough.h"
#include "bus/paths.h"
#include "bus/sriov.h"
#include "bus/util.h"
#include "bus/vgpu.h"
#include "gpuvirt-names.h"
#include "vgpu/capacity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The function a property call is about. */
static GvHostDevice *
device_at (Daemon *daemon, const char *path)
{
  g_autofree char *bdf = bus_device_path_to_bdf (path);
  return bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
}

/* Every getter's head: the function at PATH as DEVICE and FN, or the
 * call fails (it went between the lookup and the read). */
#define DEVICE_OR_FAIL(daemon, path)                                                            \
  GvHostDevice *device = device_at (daemon, path);                                              \
  if (!device)                                                                                  \
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", path);        \
  GvHostFunction *fn = device->fn

/* A getter appending one value computed from DEVICE and FN. */
#define GETTER(name, signature, value)                                                          \
  static int                                                                                    \
  get_##name (sd_bus *bus, const char *path, const char *iface, const char *prop,               \
              sd_bus_message *reply, void *userdata, sd_bus_error *error)                       \
  {                                                                                             \
    Daemon *daemon = userdata;                                                                  \
    DEVICE_OR_FAIL (daemon, path);                                                              \
    (void) fn;                                                                                  \
    return sd_bus_message_append (reply, signature, value);                                     \
  }

/* A getter appending the object paths of a list of BDFs. */
#define PATHS_GETTER(name, list)                                                                \
  static int                                                                                    \
  get_##name (sd_bus *bus, const char *path, const char *iface, const char *prop,               \
              sd_bus_message *reply, void *userdata, sd_bus_error *error)                       \
  {                                                                                             \
    Daemon *daemon = userdata;                                                                  \
    DEVICE_OR_FAIL (daemon, path);                                                              \
    (void) fn;                                                                                  \
    return bus_append_device_paths (reply, (const char *const *) (list), G_MAXUINT);            \
  }

static const char *
or_empty (const char *text)
{
  return text ? text : "";
}

static const char *
device_kind (GvHostDevice *device)
{
  if (gv_host_function_is_vf (device->fn))
    return GPUVIRT_KIND_VF;
  if (device->role == GV_HOST_ROLE_GPU)
    return GPUVIRT_KIND_GPU;
  if (device->role == GV_HOST_ROLE_COMPANION)
    return GPUVIRT_KIND_COMPANION;
  if (gv_host_function_is_bridge (device->fn))
    return GPUVIRT_KIND_BRIDGE;
  return GPUVIRT_KIND_OTHER;
}

/* ---- org.gpuvirt.Device ---- */

GETTER (address, "s", fn->bdf)
GETTER (vendor_id, "q", fn->vendor_id)
GETTER (device_id, "q", fn->device_id)
GETTER (subsystem_vendor_id, "q", fn->subsystem_vendor_id)
GETTER (subsystem_device_id, "q", fn->subsystem_device_id)
GETTER (class, "u", fn->class_code)
GETTER (revision, "y", fn->revision)
GETTER (vendor_name, "s", or_empty (fn->vendor_name))
GETTER (device_name, "s", or_empty (fn->model_name))
GETTER (kind, "s", device_kind (device))
GETTER (managed, "b", (int) device->managed)
GETTER (driver, "s", or_empty (fn->driver))
GETTER (driver_override, "s", or_empty (fn->driver_override))
GETTER (iommu_group, "i", fn->iommu_group)
PATHS_GETTER (iommu_group_members, device->group_members)
GETTER (group_verdict, "s", gv_host_verdict_to_string (device->verdict))
PATHS_GETTER (foreign_group_members, device->foreign)
PATHS_GETTER (companions, device->companions)
GETTER (vfio_group_node, "s", or_empty (device->vfio_group_node))
GETTER (vfio_device_node, "s", or_empty (fn->vfio_cdev_node))
GETTER (boot_vga, "b", (int) (fn->boot_vga == 1))
GETTER (numa_node, "i", fn->numa_node)
GETTER (state, "s", daemon_device_state (daemon, device))
GETTER (state_message, "s", daemon_device_message (daemon, fn->bdf))
GETTER (vgpu_framework, "s", gv_host_framework_to_string (device->framework))

static int
get_gpu (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
         void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  DEVICE_OR_FAIL (daemon, path);
  (void) fn;
  return bus_append_device_path_or_root (reply, device->owner);
}

static int
get_physical_function (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                       void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  DEVICE_OR_FAIL (daemon, path);
  return bus_append_device_path_or_root (reply, fn->physfn);
}

/* The driver the function had before gpuvirt first moved it, from the
 * journal's records: "" until then and once it is given back. */
static int
get_original_driver (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                     void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *driver = NULL;
  gboolean known;
  DEVICE_OR_FAIL (daemon, path);

  known = daemon->journal && gv_journal_lookup_original (daemon->journal, fn->bdf, &driver, NULL);
  return sd_bus_message_append (reply, "s", known && driver ? driver : "");
}

/* Holders are read from /proc on every call: nothing tells the daemon
 * when a process opens a node. */
static int
get_holders (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
             void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) holders = NULL;
  int r;
  DEVICE_OR_FAIL (daemon, path);

  holders = daemon_holders (daemon, fn->bdf, &local);
  if (!holders)
    return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not read who holds %s: %s", fn->bdf, local->message);
  r = sd_bus_message_open_container (reply, 'a', "(uss)");
  for (guint i = 0; r >= 0 && i < holders->len; i++) {
    GvHostHolder *h = holders->pdata[i];
    r = sd_bus_message_append (reply, "(uss)", (guint32) h->pid, h->comm ? h->comm : "", h->node);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

/* ---- org.gpuvirt.Sriov ---- */

GETTER (total_vfs, "u", fn->sriov_totalvfs)
GETTER (num_vfs, "u", fn->sriov_numvfs)
PATHS_GETTER (virtual_functions, fn->vfs)
GETTER (pending, "b", (int) daemon_sriov_pending (daemon, fn->bdf))

/* ---- org.gpuvirt.Vgpu ---- */

static int
append_type_details (sd_bus_message *reply, const char *description, const char *device_api, int max_instance,
                     const GvHostTypeName *parsed)
{
  char series[2] = { parsed->series, '\0' };
  int r = sd_bus_message_open_container (reply, 'a', "{sv}");

  if (r >= 0 && description && *description)
    r = sd_bus_message_append (reply, "{sv}", "description", "s", description);
  if (r >= 0 && device_api && *device_api)
    r = sd_bus_message_append (reply, "{sv}", "device_api", "s", device_api);
  if (r >= 0 && max_instance >= 0)
    r = sd_bus_message_append (reply, "{sv}", "max_instance", "u", (guint32) max_instance);
  if (r >= 0 && parsed->series)
    r = sd_bus_message_append (reply, "{sv}", "series", "s", series);
  if (r >= 0 && parsed->short_name)
    r = sd_bus_message_append (reply, "{sv}", "short_name", "s", parsed->short_name);
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static int
append_mdev_type (sd_bus_message *reply, GvHostMdevType *t, guint available)
{
  int r = sd_bus_message_open_container (reply, 'r', "ssuua{sv}");

  if (r >= 0)
    r = sd_bus_message_append (reply, "ssuu", t->id, t->name, t->framebuffer_mb, available);
  if (r >= 0)
    r = append_type_details (reply, t->description, t->device_api, t->max_instance, &t->parsed);
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static int
append_vendor_type (sd_bus_message *reply, GvHostVendorType *t, guint available, int max_instance)
{
  g_autofree char *id = g_strdup_printf ("%u", t->id);
  int r = sd_bus_message_open_container (reply, 'r', "ssuua{sv}");

  if (r >= 0)
    r = sd_bus_message_append (reply, "ssuu", id, t->name, t->parsed.framebuffer_mb, available);
  if (r >= 0)
    r = append_type_details (reply, NULL, NULL, max_instance, &t->parsed);
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

/* Types on a physical function with per-VF types: each type once, with
 * the sum over the VFs of what each can still take. */
typedef struct {
  GvHostMdevType *mdev;          /* one of these two */
  GvHostVendorType *vendor;
  guint available;
} TypeSum;

static void
add_type (GHashTable *index, GArray *sums, char *id, GvHostMdevType *mdev, GvHostVendorType *vendor, guint available)
{
  gpointer pos;

  if (g_hash_table_lookup_extended (index, id, NULL, &pos)) {
    g_array_index (sums, TypeSum, GPOINTER_TO_UINT (pos)).available += available;
    g_free (id);
    return;
  }
  g_hash_table_insert (index, id, GUINT_TO_POINTER (sums->len));
  g_array_append_val (sums, ((TypeSum) { mdev, vendor, available }));
}

static int
append_vf_types (Daemon *daemon, sd_bus_message *reply, GvHostFunction *pf)
{
  g_autoptr (GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GArray) sums = g_array_new (FALSE, TRUE, sizeof (TypeSum));
  int r;

  for (guint i = 0; pf->vfs && pf->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (daemon->host, pf->vfs[i]);
    if (!vf)
      continue;
    for (guint j = 0; vf->fn->mdev_types && j < vf->fn->mdev_types->len; j++) {
      GvHostMdevType *t = vf->fn->mdev_types->pdata[j];
      add_type (index, sums, g_strdup (t->id), t, NULL, (guint) MAX (t->available_instances, 0));
    }
    for (guint j = 0; vf->fn->vendor_vfio && j < vf->fn->vendor_vfio->creatable->len; j++) {
      GvHostVendorType *t = vf->fn->vendor_vfio->creatable->pdata[j];
      add_type (index, sums, g_strdup_printf ("%u", t->id), NULL, t, 1);
    }
  }
  r = sd_bus_message_open_container (reply, 'a', "(ssuua{sv})");
  for (guint i = 0; r >= 0 && i < sums->len; i++) {
    TypeSum *sum = &g_array_index (sums, TypeSum, i);
    if (sum->mdev) {
      r = append_mdev_type (reply, sum->mdev, sum->available);
    } else {
      /* how many more fit on the GPU, not how many VFs list it */
      GvHostDevice *gpu = gv_host_lookup (daemon->host, pf->bdf);
      GvVgpuCapacity capacity = gv_vgpu_vendor_capacity (daemon->host, daemon->type_names, gpu, sum->vendor->id);
      r = append_vendor_type (reply, sum->vendor, capacity.fits,
                              capacity.max_instance ? (int) capacity.max_instance : -1);
    }
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static int
get_types (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
           void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  int r;
  DEVICE_OR_FAIL (daemon, path);

  if (!gv_host_function_is_vf (fn) && (device->framework == GV_HOST_FRAMEWORK_MDEV_VF ||
                                      device->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO))
    return append_vf_types (daemon, reply, fn);
  r = sd_bus_message_open_container (reply, 'a', "(ssuua{sv})");
  for (guint i = 0; r >= 0 && fn->mdev_types && i < fn->mdev_types->len; i++) {
    GvHostMdevType *t = fn->mdev_types->pdata[i];
    r = append_mdev_type (reply, t, (guint) MAX (t->available_instances, 0));
  }
  for (guint i = 0; r >= 0 && fn->vendor_vfio && i < fn->vendor_vfio->creatable->len; i++)
    r = append_vendor_type (reply, fn->vendor_vfio->creatable->pdata[i], 1, -1);
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

GETTER (framework, "s", gv_host_framework_to_string (device->framework))

static int
get_current_type (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                  void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *id = NULL;
  DEVICE_OR_FAIL (daemon, path);

  id = fn->vendor_vfio && fn->vendor_vfio->current_type ? g_strdup_printf ("%u", fn->vendor_vfio->current_type)
                                                         : g_strdup ("");
  return sd_bus_message_append (reply, "s", id);
}

static int
get_current_type_name (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                       void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *name = NULL;
  DEVICE_OR_FAIL (daemon, path);

  if (fn->vendor_vfio && fn->vendor_vfio->current_type)
    name = gv_vgpu_type_names_lookup (daemon->type_names, fn->vendor_vfio->current_type);
  return sd_bus_message_append (reply, "s", or_empty (name));
}

/* Its own mdevs, and on a PF those of its VFs too. */
static int
get_mdevs (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
           void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  GPtrArray *mdevs;
  int r;
  DEVICE_OR_FAIL (daemon, path);

  mdevs = gv_host_get_mdevs (daemon->host);
  r = sd_bus_message_open_container (reply, 'a', "o");
  for (guint i = 0; r >= 0 && i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    GvHostDevice *parent = gv_host_lookup (daemon->host, mdev->parent);
    g_autofree char *p = NULL;
    if (g_strcmp0 (mdev->parent, fn->bdf) != 0 && !(parent && g_strcmp0 (parent->fn->physfn, fn->bdf) == 0))
      continue;
    p = bus_mdev_path (mdev->uuid);
    r = sd_bus_message_append (reply, "o", p);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define CONST SD_BUS_VTABLE_PROPERTY_CONST

static const sd_bus_vtable device_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("Address", "s", get_address, 0, CONST),
  SD_BUS_PROPERTY ("VendorId", "q", get_vendor_id, 0, CONST),
  SD_BUS_PROPERTY ("DeviceId", "q", get_device_id, 0, CONST),
  SD_BUS_PROPERTY ("SubsystemVendorId", "q", get_subsystem_vendor_id, 0, CONST),
  SD_BUS_PROPERTY ("SubsystemDeviceId", "q", get_subsystem_device_id, 0, CONST),
  SD_BUS_PROPERTY ("Class", "u", get_class, 0, CONST),
  SD_BUS_PROPERTY ("Revision", "y", get_revision, 0, CONST),
  SD_BUS_PROPERTY ("VendorName", "s", get_vendor_name, 0, CONST),
  SD_BUS_PROPERTY ("DeviceName", "s", get_device_name, 0, CONST),
  SD_BUS_PROPERTY ("Kind", "s", get_kind, 0, EMITS),
  SD_BUS_PROPERTY ("Managed", "b", get_managed, 0, EMITS),
  SD_BUS_PROPERTY ("Driver", "s", get_driver, 0, EMITS),
  SD_BUS_PROPERTY ("DriverOverride", "s", get_driver_override, 0, EMITS),
  SD_BUS_PROPERTY ("OriginalDriver", "s", get_original_driver, 0, EMITS),
  SD_BUS_PROPERTY ("IommuGroup", "i", get_iommu_group, 0, CONST),
  SD_BUS_PROPERTY ("IommuGroupMembers", "ao", get_iommu_group_members, 0, EMITS),
  SD_BUS_PROPERTY ("GroupVerdict", "s", get_group_verdict, 0, EMITS),
  SD_BUS_PROPERTY ("ForeignGroupMembers", "ao", get_foreign_group_members, 0, EMITS),
  SD_BUS_PROPERTY ("Companions", "ao", get_companions, 0, EMITS),
  SD_BUS_PROPERTY ("Gpu", "o", get_gpu, 0, EMITS),
  SD_BUS_PROPERTY ("PhysicalFunction", "o", get_physical_function, 0, CONST),
  SD_BUS_PROPERTY ("VfioGroupNode", "s", get_vfio_group_node, 0, EMITS),
  SD_BUS_PROPERTY ("VfioDeviceNode", "s", get_vfio_device_node, 0, EMITS),
  SD_BUS_PROPERTY ("BootVga", "b", get_boot_vga, 0, CONST),
  SD_BUS_PROPERTY ("NumaNode", "i", get_numa_node, 0, CONST),
  SD_BUS_PROPERTY ("Holders", "a(uss)", get_holders, 0, 0),
  SD_BUS_PROPERTY ("State", "s", get_state, 0, EMITS),
  SD_BUS_PROPERTY ("StateMessage", "s", get_state_message, 0, EMITS),
  SD_BUS_PROPERTY ("VgpuFramework", "s", get_vgpu_framework, 0, EMITS),
  SD_BUS_METHOD_WITH_ARGS ("BindVfio", SD_BUS_ARGS ("a{sv}", options), SD_BUS_RESULT ("a(sss)", results),
                           bus_passthrough_bind, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GiveBack", SD_BUS_ARGS ("a{sv}", options), SD_BUS_RESULT ("a(sss)", results),
                           bus_passthrough_give_back, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Unbind", SD_BUS_ARGS ("a{sv}", options), SD_BUS_RESULT ("a(sss)", results),
                           bus_passthrough_unbind, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

static const sd_bus_vtable sriov_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("TotalVfs", "u", get_total_vfs, 0, CONST),
  SD_BUS_PROPERTY ("NumVfs", "u", get_num_vfs, 0, EMITS),
  SD_BUS_PROPERTY ("VirtualFunctions", "ao", get_virtual_functions, 0, EMITS),
  SD_BUS_PROPERTY ("Pending", "b", get_pending, 0, EMITS),
  SD_BUS_METHOD_WITH_ARGS ("SetNumVfs", SD_BUS_ARGS ("u", count, "a{sv}", options),
                           SD_BUS_RESULT ("ao", virtual_functions), bus_sriov_set_num_vfs, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

static const sd_bus_vtable vgpu_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("Framework", "s", get_framework, 0, EMITS),
  SD_BUS_PROPERTY ("Types", "a(ssuua{sv})", get_types, 0, EMITS),
  SD_BUS_PROPERTY ("CurrentType", "s", get_current_type, 0, EMITS),
  SD_BUS_PROPERTY ("CurrentTypeName", "s", get_current_type_name, 0, EMITS),
  SD_BUS_PROPERTY ("Mdevs", "ao", get_mdevs, 0, EMITS),
  SD_BUS_METHOD_WITH_ARGS ("SetType", SD_BUS_ARGS ("s", type, "a{sv}", options), SD_BUS_NO_RESULT,
                           bus_vgpu_set_type, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("ReleaseType", SD_BUS_ARGS ("a{sv}", options), SD_BUS_NO_RESULT,
                           bus_vgpu_release_type, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CreateMdev", SD_BUS_ARGS ("s", type, "s", uuid, "a{sv}", options),
                           SD_BUS_RESULT ("o", object), bus_vgpu_create_mdev, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CreateVgpu", SD_BUS_ARGS ("s", type, "a{sv}", options),
                           SD_BUS_RESULT ("o", object, "a{sv}", info), bus_vgpu_create_vgpu,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CreateVgpus", SD_BUS_ARGS ("s", type, "u", count, "a{sv}", options),
                           SD_BUS_RESULT ("a(oa{sv})", vgpus), bus_vgpu_create_vgpus, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("RemoveVgpu", SD_BUS_ARGS ("o", object, "a{sv}", options), SD_BUS_NO_RESULT,
                           bus_vgpu_remove_vgpu, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

/* Which interfaces exist at PATH: the find callbacks of the fallback
 * vtables. userdata stays the daemon; getters look the function up. */
static int
find_with (Daemon *daemon, const char *path, guint bit, void **found)
{
  GvHostDevice *device = device_at (daemon, path);

  if (!device || !(bus_device_interfaces (daemon, device) & bit))
    return 0;
  *found = daemon;
  return 1;
}

static int
find_device (sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, sd_bus_error *error)
{
  return find_with (userdata, path, BUS_IFACE_DEVICE, found);
}

static int
find_sriov (sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, sd_bus_error *error)
{
  return find_with (userdata, path, BUS_IFACE_SRIOV, found);
}

static int
find_vgpu (sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, sd_bus_error *error)
{
  return find_with (userdata, path, BUS_IFACE_VGPU, found);
}

/* Lists every function's object (sd-bus frees the result with free()). */
static int
enumerate_devices (sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  GPtrArray *devices = gv_host_get_devices (daemon->host);
  GPtrArray *list = g_ptr_array_sized_new (devices->len + 1);

  for (guint i = 0; i < devices->len; i++)
    g_ptr_array_add (list, bus_device_path (((GvHostDevice *) devices->pdata[i])->fn->bdf));
  g_ptr_array_add (list, NULL);
  /* g_malloc is the system malloc (GLib >= 2.46): sd-bus may free() it */
  *nodes = (char **) g_ptr_array_free (list, FALSE);
  return 0;
}

int
bus_device_register (Daemon *daemon)
{
  int r;

  r = sd_bus_add_fallback_vtable (daemon->bus, NULL, GPUVIRT_DEVICES_PATH, GPUVIRT_DEVICE_IFACE, device_vtable,
                                  find_device, daemon);
  if (r >= 0)
    r = sd_bus_add_fallback_vtable (daemon->bus, NULL, GPUVIRT_DEVICES_PATH, GPUVIRT_SRIOV_IFACE, sriov_vtable,
                                    find_sriov, daemon);
  if (r >= 0)
    r = sd_bus_add_fallback_vtable (daemon->bus, NULL, GPUVIRT_DEVICES_PATH, GPUVIRT_VGPU_IFACE, vgpu_vtable,
                                    find_vgpu, daemon);
  if (r >= 0)
    r = sd_bus_add_node_enumerator (daemon->bus, NULL, GPUVIRT_DEVICES_PATH, enumerate_devices, daemon);
  return r;
}

/* ---- a property's value as text, to compare with what was announced ---- */

static const sd_bus_vtable *
vtable_of (const char *iface)
{
  if (g_str_equal (iface, GPUVIRT_DEVICE_IFACE))
    return device_vtable;
  if (g_str_equal (iface, GPUVIRT_SRIOV_IFACE))
    return sriov_vtable;
  if (g_str_equal (iface, GPUVIRT_VGPU_IFACE))
    return vgpu_vtable;
  if (g_str_equal (iface, GPUVIRT_MIG_IFACE))
    return bus_mig_vtable ();
  return NULL;
}

char *
bus_device_property_text (Daemon *daemon, const char *path, const char *iface, const char *prop)
{
  const sd_bus_vtable *v = vtable_of (iface);
  g_autoptr (sd_bus_message) m = NULL;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  char *text = NULL;
  size_t size = 0;
  FILE *f;
  int r;

  for (; v && v->type != _SD_BUS_VTABLE_END; v++) {
    if (v->type == _SD_BUS_VTABLE_PROPERTY && g_str_equal (v->x.property.member, prop))
      break;
  }
  if (!v || v->type != _SD_BUS_VTABLE_PROPERTY)
    return NULL;
  /* the getter appends to a message as for a Get; the message is dumped */
  r = sd_bus_message_new_signal (daemon->bus, &m, path, iface, "Value");
  if (r >= 0)
    r = sd_bus_message_open_container (m, 'v', v->x.property.signature);
  if (r >= 0)
    r = v->x.property.get (daemon->bus, path, iface, prop, m, daemon, &error);
  sd_bus_error_free (&error);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd_bus_message_seal (m, 1, 0);
  if (r >= 0)
    r = sd_bus_message_rewind (m, TRUE);
  if (r < 0)
    return NULL;
  f = open_memstream (&text, &size);
  if (!f)
    return NULL;
  r = sd_bus_message_dump (m, f, SD_BUS_MESSAGE_DUMP_SUBTREE_ONLY);
  fclose (f);
  if (r < 0) {
    free (text);
    return NULL;
  }
  /* memstream's buffer comes from malloc: g_free is free (GLib >= 2.46) */
  return text;
}
