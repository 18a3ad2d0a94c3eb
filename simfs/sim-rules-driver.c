/* Driver core rules: driver_override, bind, unbind, drivers_probe, new_id,
 * remove_id. Sources: drivers/base/bus.c, drivers/base/dd.c,
 * drivers/base/driver.c, drivers/pci/pci-driver.c, drivers/vfio/pci/. */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* device_lock(): writes touching the same device take turns. */
gboolean
sim_device_lock (SimHost *host, SimDevice *dev)
{
  while (dev->locked && !dev->removed)
    if (!sim_host_wait (host))
      return FALSE;
  if (dev->removed)
    return FALSE;
  dev->locked = TRUE;
  return TRUE;
}

void
sim_device_unlock (SimHost *host, SimDevice *dev)
{
  dev->locked = FALSE;
  sim_host_changed (host);
}

/* driver_set_override(): a write of "\n" or of a string starting with NUL
 * clears it; the value stops at the first newline. A zero-length write()
 * never reaches store(), so it changes nothing. */
int
sim_rule_driver_override (SimHost *host, SimDevice *dev, const char *buf, gsize len)
{
  gsize slen;
  const char *nl;

  if (len >= 4096 - 1)
    return -EINVAL;
  slen = strnlen (buf, len);
  if (slen == 0) {
    g_clear_pointer (&dev->driver_override, g_free);
    return 0;
  }
  nl = memchr (buf, '\n', slen);
  if (nl)
    slen = (gsize) (nl - buf);
  g_free (dev->driver_override);
  dev->driver_override = slen > 0 ? g_strndup (buf, slen) : NULL;
  return 0;
}

static gboolean
id_matches (const SimPciId *id, const SimDevice *dev)
{
  return (id->vendor == SIM_ANY_ID || id->vendor == dev->vendor) &&
         (id->device == SIM_ANY_ID || id->device == dev->device) &&
         (id->subvendor == SIM_ANY_ID || id->subvendor == dev->subvendor) &&
         (id->subdevice == SIM_ANY_ID || id->subdevice == dev->subdevice) &&
         !((id->class_ ^ dev->class_) & id->class_mask);
}

/* pci_match_device(): an override names the only driver that may match;
 * dynamic ids first, then the table; vfio-pci's table entry is
 * override_only, and an override always matches its driver. */
gboolean
sim_driver_matches (SimDriver *drv, SimDevice *dev)
{
  if (dev->driver_override && !g_str_equal (dev->driver_override, drv->name))
    return FALSE;
  for (guint i = 0; i < drv->dynids->len; i++)
    if (id_matches (&g_array_index (drv->dynids, SimPciId, i), dev))
      return TRUE;
  if (!drv->vfio)
    for (guint i = 0; i < drv->ids->len; i++)
      if (id_matches (&g_array_index (drv->ids, SimPciId, i), dev))
        return TRUE;
  return dev->driver_override != NULL;
}

/* pci_device_can_probe(): VFs of a PF whose sriov_drivers_autoprobe is 0
 * only probe with an override. */
static gboolean
can_probe (const SimDevice *dev)
{
  return !dev->physfn || dev->physfn->vf_autoprobe || dev->driver_override;
}

/* vfio_pci_probe() / vfio_pci_core_register_device(). */
static int
vfio_probe (SimHost *host, SimDevice *dev)
{
  SimDevice *gpu = sim_device_gpu (dev);

  if (dev->is_bridge)
    return EINVAL;                     /* hdr_type != PCI_HEADER_TYPE_NORMAL */
  if (dev->vfs->len > 0)
    return EBUSY;                      /* "Cannot bind to PF with SR-IOV enabled" */
  if (dev->iommu_group < 0)
    return EINVAL;                     /* no iommu_group and no noiommu mode */
  if (dev->physfn && gpu && gpu->vgpu->framework == SIM_VGPU_VENDOR_VFIO)
    return EINVAL;                     /* NVIDIA vendor-VFIO VF (kubevirt#17642) */
  dev->vfio_cdev = sim_vfio_cdev_alloc (host);
  return 0;
}

/* really_probe(): 0 when bound, a positive errno when the driver's probe
 * refused the device. */
static int
probe (SimHost *host, SimDriver *drv, SimDevice *dev)
{
  gpointer fail;
  int r = 0;

  if (!can_probe (dev))
    return ENODEV;
  sim_host_sleep (host, drv->probe_delay_ms);
  if (g_hash_table_lookup_extended (dev->probe_fails, drv->name, NULL, &fail))
    return GPOINTER_TO_INT (fail);
  if (drv->vfio)
    r = vfio_probe (host, dev);
  if (r == 0)
    dev->driver = drv;
  return r;
}

/* __device_attach(): try every driver in registration order; a refused
 * probe lets the next driver try. Returns 1 when bound. */
int
sim_device_attach (SimHost *host, SimDevice *dev)
{
  if (dev->driver)
    return 1;
  for (guint i = 0; i < host->drivers->len; i++) {
    SimDriver *drv = host->drivers->pdata[i];
    if (sim_driver_matches (drv, dev) && probe (host, drv, dev) == 0)
      return 1;
  }
  return 0;
}

/* device_release_driver(): the driver's remove() waits for users of the
 * device (vfio_unregister_group_dev() for VFIO; the NVIDIA driver while
 * /dev/nvidiaN is open), and takes the driver's own time. */
void
sim_device_release_driver (SimHost *host, SimDevice *dev)
{
  SimDriver *drv = dev->driver;

  if (!drv)
    return;
  sim_host_sleep (host, drv->unbind_delay_ms + dev->unbind_delay_ms);
  if (drv->vfio || sim_device_has_vendor_vfio (dev))
    while (sim_device_vfio_held (host, dev) && sim_host_wait (host))
      ;
  if (g_str_equal (drv->name, "nvidia"))
    while (sim_device_host_nodes_held (host, dev) && sim_host_wait (host))
      ;
  sim_vgpu_driver_removed (host, dev);
  dev->driver = NULL;
  dev->vfio_cdev = -1;
  sim_host_changed (host);
}

/* bind_store(): ENODEV unless the name is a device this driver matches;
 * EBUSY when already bound; the probe's own error otherwise. */
int
sim_rule_bind (SimHost *host, SimDriver *drv, const char *buf)
{
  SimDevice *dev = sim_host_find_device_by_name (host, buf);
  int r;

  if (!dev || !sim_driver_matches (drv, dev))
    return -ENODEV;
  if (!sim_device_lock (host, dev))
    return -ENODEV;
  if (dev->driver)
    r = -EBUSY;
  else
    r = -probe (host, drv, dev);
  sim_device_unlock (host, dev);
  return r;
}

/* unbind_store(): ENODEV unless the device is bound to this driver. */
int
sim_rule_unbind (SimHost *host, SimDriver *drv, const char *buf)
{
  SimDevice *dev = sim_host_find_device_by_name (host, buf);

  if (!dev || dev->driver != drv)
    return -ENODEV;
  if (!sim_device_lock (host, dev))
    return -ENODEV;
  if (dev->driver == drv)
    sim_device_release_driver (host, dev);
  sim_device_unlock (host, dev);
  return 0;
}

/* drivers_probe_store(): ENODEV for an unknown device; otherwise success,
 * whether or not a driver took it. */
int
sim_rule_drivers_probe (SimHost *host, const char *buf)
{
  SimDevice *dev = sim_host_find_device_by_name (host, buf);

  if (!dev)
    return -ENODEV;
  if (!sim_device_lock (host, dev))
    return -ENODEV;
  sim_device_attach (host, dev);
  sim_device_unlock (host, dev);
  return 0;
}

int
sim_rule_bus_autoprobe (SimHost *host, const char *buf)
{
  host->drivers_autoprobe = buf[0] != '0';
  return 0;
}

static int
parse_ids (const char *buf, SimPciId *id, unsigned long *data)
{
  unsigned v, d, sv = SIM_ANY_ID, sd = SIM_ANY_ID, c = 0, cm = 0;
  unsigned long dd = 0;
  int fields = sscanf (buf, "%x %x %x %x %x %x %lx", &v, &d, &sv, &sd, &c, &cm, &dd);

  *id = (SimPciId) { v, d, sv, sd, c, cm };
  if (data)
    *data = dd;
  return fields;
}

/* new_id_store(): fewer than two fields is EINVAL; an id the driver
 * already matches is EEXIST (unless all seven fields are given);
 * driver_data must be one of the table's (all of ours are 0); then
 * driver_attach() binds every unbound device the new id matches. */
int
sim_rule_new_id (SimHost *host, SimDriver *drv, const char *buf)
{
  SimPciId id;
  unsigned long data;
  int fields = parse_ids (buf, &id, &data);

  if (fields < 2)
    return -EINVAL;
  if (fields != 7) {
    SimDevice probe_dev = { .vendor = (guint16) id.vendor, .device = (guint16) id.device,
                            .subvendor = (guint16) id.subvendor, .subdevice = (guint16) id.subdevice,
                            .class_ = id.class_ };
    if (sim_driver_matches (drv, &probe_dev))
      return -EEXIST;
  }
  if ((drv->ids->len > 0 || drv->vfio) && data != 0)
    return -EINVAL;
  g_array_append_val (drv->dynids, id);

  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *dev = host->devices->pdata[i];
    if (dev->driver || dev->locked || !sim_driver_matches (drv, dev))
      continue;
    if (!sim_device_lock (host, dev))
      continue;
    if (!dev->driver)
      probe (host, drv, dev);
    sim_device_unlock (host, dev);
  }
  return 0;
}

/* remove_id_store(): removes the first matching dynamic id, ENODEV when
 * none; bound devices stay bound. */
int
sim_rule_remove_id (SimHost *host, SimDriver *drv, const char *buf)
{
  SimPciId want;

  if (parse_ids (buf, &want, NULL) < 2)
    return -EINVAL;
  for (guint i = 0; i < drv->dynids->len; i++) {
    SimPciId *id = &g_array_index (drv->dynids, SimPciId, i);
    if (id->vendor == want.vendor && id->device == want.device &&
        (want.subvendor == SIM_ANY_ID || id->subvendor == want.subvendor) &&
        (want.subdevice == SIM_ANY_ID || id->subdevice == want.subdevice) &&
        !((id->class_ ^ want.class_) & want.class_mask)) {
      g_array_remove_index (drv->dynids, i);
      return 0;
    }
  }
  return -ENODEV;
}
