/* org.gpuvirt.Manager at /org/gpuvirt, with the ObjectManager. */
#include "bus/doctor.h"
#include "bus/objects.h"
#include "bus/passthrough.h"
#include "bus/paths.h"
#include "bus/util.h"
#include "gpuvirt-names.h"
#include "host/iommu.h"

#include <errno.h>
#include <string.h>

static int
get_version (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
             void *userdata, sd_bus_error *error)
{
  return sd_bus_message_append (reply, "s", GPUVIRT_VERSION);
}

static int
get_api_version (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                 void *userdata, sd_bus_error *error)
{
  return sd_bus_message_append (reply, "u", GPUVIRT_API_VERSION);
}

static int
get_root (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
          void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  return sd_bus_message_append (reply, "s", daemon->root);
}

/* A getter appending one value computed from DAEMON and its host's FACTS. */
#define FACT_GETTER(name, signature, value)                                                     \
  static int                                                                                    \
  get_##name (sd_bus *bus, const char *path, const char *iface, const char *prop,               \
              sd_bus_message *reply, void *userdata, sd_bus_error *error)                       \
  {                                                                                             \
    Daemon *daemon = userdata;                                                                  \
    const GvHostFacts *facts = gv_host_get_facts (daemon->host);                                \
    (void) facts;                                                                               \
    return sd_bus_message_append (reply, signature, value);                                     \
  }

FACT_GETTER (iommu_present, "b", (int) facts->iommu_present)
FACT_GETTER (iommu_kind, "s", gv_host_iommu_kind (facts))
FACT_GETTER (interrupt_remapping, "b", (int) daemon->interrupt_remapping)
FACT_GETTER (vfio_pci_loaded, "b", (int) facts->vfio_pci_loaded)
FACT_GETTER (nvidia_vgpu_manager, "b", (int) facts->nvidia_vgpu_manager)
FACT_GETTER (mig_available, "b", (int) (daemon->nvml != NULL))
FACT_GETTER (mig_status, "s", daemon->mig_status ? daemon->mig_status : "")

static int
get_kernel_command_line (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                         void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const GvHostFacts *facts = gv_host_get_facts (daemon->host);
  g_autofree char *cmdline = g_strstrip (g_strdup (facts->kernel_cmdline ? facts->kernel_cmdline : ""));

  return sd_bus_message_append (reply, "s", cmdline);
}

static int
get_devices (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
             void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (GPtrArray) managed = gv_host_dup_managed (daemon->host);
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new ();

  for (guint i = 0; i < managed->len; i++)
    g_ptr_array_add (bdfs, ((GvHostDevice *) managed->pdata[i])->fn->bdf);
  return bus_append_device_paths (reply, (const char *const *) bdfs->pdata, bdfs->len);
}

static int
get_mdevs (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
           void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  int r = sd_bus_message_open_container (reply, 'a', "o");

  for (guint i = 0; r >= 0 && i < mdevs->len; i++) {
    g_autofree char *p = bus_mdev_path (((GvHostMdev *) mdevs->pdata[i])->uuid);
    r = sd_bus_message_append (reply, "o", p);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

/* GetDevice(s device) -> o: "0000:01:00.0", "01:00.0" or an object path. */
static int
method_get_device (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *text;
  g_autofree char *bdf = NULL;
  g_autofree char *path = NULL;
  int r;

  r = sd_bus_message_read (m, "s", &text);
  if (r < 0)
    return r;
  bdf = bus_resolve_device_argument (text, error);
  if (!bdf)
    return -EINVAL;
  if (!gv_host_lookup (daemon->host, bdf))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE,
                              "No PCI function %s on this host (see 'gpuvirtctl list --all')", bdf);
  path = bus_device_path (bdf);
  return sd_bus_reply_method_return (m, "o", path);
}

/* Refresh(): reads the whole host again and announces what changed. */
static int
method_refresh (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (GError) local = NULL;

  if (!daemon_rescan (daemon, &local))
    return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not read the host: %s", local->message);
  /* NVML is read in a worker; its changes are announced when it is done */
  daemon_mig_refresh (daemon, NULL);
  return sd_bus_reply_method_return (m, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("ApiVersion", "u", get_api_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("Root", "s", get_root, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("IommuPresent", "b", get_iommu_present, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("IommuKind", "s", get_iommu_kind, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("InterruptRemapping", "b", get_interrupt_remapping, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("KernelCommandLine", "s", get_kernel_command_line, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("VfioPciLoaded", "b", get_vfio_pci_loaded, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("NvidiaVgpuManager", "b", get_nvidia_vgpu_manager, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("MigAvailable", "b", get_mig_available, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("MigStatus", "s", get_mig_status, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("Devices", "ao", get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("Mdevs", "ao", get_mdevs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_METHOD_WITH_ARGS ("GetDevice", SD_BUS_ARGS ("s", device), SD_BUS_RESULT ("o", object),
                           method_get_device, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Refresh", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_refresh, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("BindVfio", SD_BUS_ARGS ("as", devices, "a{sv}", options),
                           SD_BUS_RESULT ("a(sss)", results), bus_passthrough_bulk_bind, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("GiveBack", SD_BUS_ARGS ("as", devices, "a{sv}", options),
                           SD_BUS_RESULT ("a(sss)", results), bus_passthrough_bulk_give_back, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Unbind", SD_BUS_ARGS ("as", devices, "a{sv}", options),
                           SD_BUS_RESULT ("a(sss)", results), bus_passthrough_bulk_unbind, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Doctor", SD_BUS_NO_ARGS, SD_BUS_RESULT ("a(sssss)", findings), bus_doctor_method, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

int
bus_manager_register (Daemon *daemon)
{
  int r;

  r = sd_bus_add_object_vtable (daemon->bus, NULL, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, manager_vtable, daemon);
  if (r < 0)
    return r;
  return sd_bus_add_object_manager (daemon->bus, NULL, GPUVIRT_MANAGER_PATH);
}
