/* Directory layout of the simulated host. Each directory kind lists its
 * entries from the model on every call, so the tree always shows the
 * current state, as sysfs does. */
#include "sim-tree.h"
#include "sim-attr.h"
#include "sim-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  SimHost *host;
  const char *dirpath;   /* relative to the mount root */
  const char *want;      /* name looked up, or NULL to list everything */
  SimNode *found;
  gboolean done;
  SimFillFunc fill;
  gpointer fill_data;
} Lister;

void
sim_node_clear (SimNode *node)
{
  g_clear_pointer (&node->target, g_free);
}

static void
emit (Lister *ls, const char *name, SimNode node)
{
  if (ls->done) {
    g_free (node.target);
    return;
  }
  if (ls->want) {
    if (g_str_equal (ls->want, name)) {
      *ls->found = node;
      ls->done = TRUE;
      return;
    }
  } else {
    ls->fill (ls->fill_data, name, &node);
  }
  g_free (node.target);
}

static void
emit_dir (Lister *ls, const char *name, SimDir kind, gpointer obj, gpointer obj2, int num)
{
  emit (ls, name, (SimNode) { SIM_NODE_DIR, kind, 0755, obj, obj2, num, NULL });
}

static void
emit_file (Lister *ls, const char *name, SimAttr attr, mode_t mode, gpointer obj, gpointer obj2, int num)
{
  emit (ls, name, (SimNode) { SIM_NODE_FILE, attr, mode, obj, obj2, num, NULL });
}

static void
emit_link_raw (Lister *ls, const char *name, char *target)
{
  emit (ls, name, (SimNode) { SIM_NODE_LINK, 0, 0777, NULL, NULL, 0, target });
}

/* A link to TARGET (relative to sys/) from the directory being listed,
 * written relative, as sysfs writes its links. */
/* A lookup wants one name: skip building every other entry. */
static gboolean
skip (Lister *ls, const char *name)
{
  return ls->done || (ls->want && !g_str_equal (ls->want, name));
}

static void
emit_sys_link (Lister *ls, const char *name, const char *target)
{
  GString *rel;
  guint depth = 0;

  if (skip (ls, name))
    return;
  rel = g_string_new (NULL);
  for (const char *p = ls->dirpath; *p; p++)
    depth += *p == '/';
  /* dirpath "sys/bus/pci/devices" has 3 slashes: 3 levels below sys/ */
  for (guint i = 0; i < depth; i++)
    g_string_append (rel, "../");
  g_string_append (rel, target);
  emit_link_raw (ls, name, g_string_free (rel, FALSE));
}

static void
emit_device_link (Lister *ls, const char *name, const SimDevice *dev)
{
  g_autofree char *path = NULL;

  if (skip (ls, name))
    return;
  path = sim_device_sys_path (dev);
  emit_sys_link (ls, name, path);
}

/* ---- sys/ ---- */

static void
list_pci_roots (Lister *ls)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < ls->host->devices->len; i++) {
    SimDevice *dev = ls->host->devices->pdata[i];
    char *name;
    if (dev->parent)
      continue;
    name = g_strdup_printf ("pci%04x:%02x", dev->domain, dev->bus);
    if (g_hash_table_add (seen, name))
      emit_dir (ls, name, D_PCI_ROOT, NULL, NULL, (int) (dev->domain << 8 | dev->bus));
  }
}

static gboolean
has_devlinks (SimHost *host)
{
  for (guint i = 0; i < host->devices->len; i++)
    if (((SimDevice *) host->devices->pdata[i])->consumers->len > 0)
      return TRUE;
  return FALSE;
}

static const char *
iommu_unit (SimHost *host)
{
  return host->iommu == SIM_IOMMU_INTEL ? "dmar0" : host->iommu == SIM_IOMMU_AMD ? "ivhd0" : NULL;
}

static void
list_device_children (Lister *ls, SimDevice *parent, int root)
{
  for (guint i = 0; i < ls->host->devices->len; i++) {
    SimDevice *dev = ls->host->devices->pdata[i];
    if (dev->parent != parent)
      continue;
    if (!parent && (int) (dev->domain << 8 | dev->bus) != root)
      continue;
    emit_dir (ls, dev->bdf, D_DEVICE, dev, NULL, 0);
  }
}

static SimDevice *
find_supplier (SimHost *host, SimDevice *consumer, guint *index)
{
  for (; *index < host->devices->len; (*index)++) {
    SimDevice *dev = host->devices->pdata[*index];
    for (guint j = 0; j < dev->consumers->len; j++)
      if (g_str_equal (dev->consumers->pdata[j], consumer->bdf)) {
        (*index)++;
        return dev;
      }
  }
  return NULL;
}

static void
list_device (Lister *ls, SimDevice *dev)
{
  SimHost *host = ls->host;
  SimDevice *supplier;
  guint si = 0;
  static const struct { const char *name; SimAttr attr; mode_t mode; } common[] = {
    { "vendor", A_VENDOR, 0444 }, { "device", A_DEVICE, 0444 },
    { "subsystem_vendor", A_SUBVENDOR, 0444 }, { "subsystem_device", A_SUBDEVICE, 0444 },
    { "class", A_CLASS, 0444 }, { "revision", A_REVISION, 0444 }, { "config", A_CONFIG, 0644 },
    { "driver_override", A_DRIVER_OVERRIDE, 0644 }, { "numa_node", A_NUMA, 0644 },
    { "enable", A_ENABLE, 0644 }, { "irq", A_IRQ, 0444 }, { "modalias", A_MODALIAS, 0444 },
    { "uevent", A_UEVENT, 0644 }, { "resource", A_RESOURCE, 0444 },
    { "local_cpulist", A_LOCAL_CPULIST, 0444 }, { "local_cpus", A_LOCAL_CPUS, 0444 },
    { "dma_mask_bits", A_DMA_MASK_BITS, 0444 }, { "consistent_dma_mask_bits", A_DMA_MASK_BITS, 0444 },
    { "d3cold_allowed", A_D3COLD, 0644 }, { "msi_bus", A_MSI_BUS, 0644 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (common); i++)
    emit_file (ls, common[i].name, common[i].attr, common[i].mode, dev, NULL, 0);
  if (!dev->is_bridge)
    emit_file (ls, "reset", A_RESET, 0200, dev, NULL, 0);
  if (sim_device_is_vga (dev))
    emit_file (ls, "boot_vga", A_BOOT_VGA, 0444, dev, NULL, 0);
  emit_sys_link (ls, "subsystem", "bus/pci");
  if (dev->driver) {
    g_autofree char *target = g_strdup_printf ("bus/pci/drivers/%s", dev->driver->name);
    emit_sys_link (ls, "driver", target);
  }
  if (dev->iommu_group >= 0) {
    g_autofree char *target = g_strdup_printf ("kernel/iommu_groups/%d", dev->iommu_group);
    emit_sys_link (ls, "iommu_group", target);
  }
  if (dev->has_sriov) {
    emit_file (ls, "sriov_totalvfs", A_SRIOV_TOTAL, 0444, dev, NULL, 0);
    emit_file (ls, "sriov_numvfs", A_SRIOV_NUM, 0644, dev, NULL, 0);
    emit_file (ls, "sriov_offset", A_SRIOV_OFFSET, 0444, dev, NULL, 0);
    emit_file (ls, "sriov_stride", A_SRIOV_STRIDE, 0444, dev, NULL, 0);
    emit_file (ls, "sriov_vf_device", A_SRIOV_VFDEV, 0444, dev, NULL, 0);
    emit_file (ls, "sriov_drivers_autoprobe", A_SRIOV_AUTOPROBE, 0644, dev, NULL, 0);
    for (guint i = 0; i < dev->vfs->len; i++) {
      g_autofree char *name = g_strdup_printf ("virtfn%u", i);
      g_autofree char *target = g_strdup_printf ("../%s", ((SimDevice *) dev->vfs->pdata[i])->bdf);
      emit_link_raw (ls, name, g_steal_pointer (&target));
    }
  }
  if (dev->physfn)
    emit_link_raw (ls, "physfn", g_strdup_printf ("../%s", dev->physfn->bdf));
  for (guint i = 0; i < dev->consumers->len; i++) {
    g_autofree char *name = g_strdup_printf ("consumer:pci:%s", (char *) dev->consumers->pdata[i]);
    g_autofree char *target = g_strdup_printf ("devices/virtual/devlink/pci:%s--pci:%s", dev->bdf,
                                               (char *) dev->consumers->pdata[i]);
    emit_sys_link (ls, name, target);
  }
  while ((supplier = find_supplier (host, dev, &si))) {
    g_autofree char *name = g_strdup_printf ("supplier:pci:%s", supplier->bdf);
    g_autofree char *target = g_strdup_printf ("devices/virtual/devlink/pci:%s--pci:%s", supplier->bdf, dev->bdf);
    emit_sys_link (ls, name, target);
  }
  if (dev->is_bridge)
    emit_dir (ls, "pci_bus", D_PCI_BUS, dev, NULL, 0);
  if (sim_device_is_mdev_parent (dev))
    emit_dir (ls, "mdev_supported_types", D_MDEV_TYPES, dev, NULL, 0);
  for (guint i = 0; i < host->mdevs->len; i++) {
    SimMdev *mdev = host->mdevs->pdata[i];
    if (mdev->parent == dev)
      emit_dir (ls, mdev->uuid, D_MDEV, mdev, NULL, 0);
  }
  if (sim_device_has_vendor_vfio (dev))
    emit_dir (ls, "nvidia", D_NVIDIA, dev, NULL, 0);
  if (sim_device_vfio_registered (dev) && dev->vfio_cdev >= 0)
    emit_dir (ls, "vfio-dev", D_VFIO_DEV, dev, NULL, dev->vfio_cdev);
  if (dev->drm_card >= 0 && dev->driver && !dev->driver->vfio)
    emit_dir (ls, "drm", D_DRM, dev, NULL, 0);
  list_device_children (ls, dev, 0);
}

static void
list_mdev (Lister *ls, SimMdev *mdev)
{
  g_autofree char *group = g_strdup_printf ("kernel/iommu_groups/%d", mdev->iommu_group);

  emit_link_raw (ls, "mdev_type", g_strdup_printf ("../mdev_supported_types/%s", mdev->type->id));
  emit_sys_link (ls, "iommu_group", group);
  emit_sys_link (ls, "subsystem", "bus/mdev");
  emit_file (ls, "remove", A_MDEV_REMOVE, 0200, mdev, NULL, 0);
  emit_file (ls, "uevent", A_UEVENT, 0644, NULL, NULL, 0);
  if (mdev->vfio_cdev >= 0)
    emit_dir (ls, "vfio-dev", D_VFIO_DEV, NULL, NULL, mdev->vfio_cdev);
}

static void
list_mdev_types (Lister *ls, SimDevice *parent)
{
  SimDevice *gpu = sim_device_gpu (parent);

  for (guint i = 0; i < gpu->vgpu->types->len; i++) {
    SimVgpuType *type = gpu->vgpu->types->pdata[i];
    emit_dir (ls, type->id, D_MDEV_TYPE, parent, type, 0);
  }
}

static void
list_mdev_type (Lister *ls, SimDevice *parent, SimVgpuType *type)
{
  emit_file (ls, "name", A_MT_NAME, 0444, parent, type, 0);
  emit_file (ls, "description", A_MT_DESCRIPTION, 0444, parent, type, 0);
  emit_file (ls, "device_api", A_MT_DEVICE_API, 0444, parent, type, 0);
  emit_file (ls, "available_instances", A_MT_AVAILABLE, 0444, parent, type, 0);
  emit_file (ls, "create", A_MT_CREATE, 0200, parent, type, 0);
  emit_dir (ls, "devices", D_MDEV_TYPE_DEVICES, parent, type, 0);
}

static void
list_mdev_type_devices (Lister *ls, SimDevice *parent, SimVgpuType *type)
{
  for (guint i = 0; i < ls->host->mdevs->len; i++) {
    SimMdev *mdev = ls->host->mdevs->pdata[i];
    if (mdev->parent == parent && mdev->type == type)
      emit_link_raw (ls, mdev->uuid, g_strdup_printf ("../../../%s", mdev->uuid));
  }
}

static void
list_iommu_group (Lister *ls, int group)
{
  emit_dir (ls, "devices", D_GROUP_DEVICES, NULL, NULL, group);
  emit_file (ls, "type", A_GROUP_TYPE, 0644, NULL, NULL, group);
  emit_file (ls, "reserved_regions", A_GROUP_RESV, 0444, NULL, NULL, group);
}

static void
list_iommu_group_devices (Lister *ls, int group)
{
  for (guint i = 0; i < ls->host->devices->len; i++) {
    SimDevice *dev = ls->host->devices->pdata[i];
    if (dev->iommu_group == group)
      emit_device_link (ls, dev->bdf, dev);
  }
  for (guint i = 0; i < ls->host->mdevs->len; i++) {
    SimMdev *mdev = ls->host->mdevs->pdata[i];
    g_autofree char *path = NULL;
    if (mdev->iommu_group != group)
      continue;
    path = sim_mdev_sys_path (mdev);
    emit_sys_link (ls, mdev->uuid, path);
  }
}

static void
list_devlinks (Lister *ls)
{
  for (guint i = 0; i < ls->host->devices->len; i++) {
    SimDevice *dev = ls->host->devices->pdata[i];
    for (guint j = 0; j < dev->consumers->len; j++) {
      g_autofree char *name = g_strdup_printf ("pci:%s--pci:%s", dev->bdf, (char *) dev->consumers->pdata[j]);
      emit_dir (ls, name, D_DEVLINK, dev, dev->consumers->pdata[j], 0);
    }
  }
}

static void
list_devlink (Lister *ls, SimDevice *supplier, const char *consumer_bdf)
{
  SimDevice *consumer = sim_host_find_device (ls->host, consumer_bdf);

  emit_device_link (ls, "supplier", supplier);
  if (consumer)
    emit_device_link (ls, "consumer", consumer);
  emit_file (ls, "status", A_DEVLINK_STATUS, 0444, supplier, consumer, 0);
  emit_file (ls, "auto_remove_on", A_DEVLINK_AUTOREMOVE, 0444, NULL, NULL, 0);
}

static void
list_modules (Lister *ls)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean vfio = sim_vfio_container_exists (ls->host);
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < ls->host->drivers->len; i++)
    if (((SimDriver *) ls->host->drivers->pdata[i])->module)
      g_ptr_array_add (names, ((SimDriver *) ls->host->drivers->pdata[i])->module);
  if (vfio) {
    g_ptr_array_add (names, (gpointer) "vfio");
    g_ptr_array_add (names, (gpointer) "vfio_iommu_type1");
  }
  if (ls->host->nvidia_vgpu_manager)
    g_ptr_array_add (names, (gpointer) "nvidia_vgpu_vfio");
  for (guint i = 0; i < names->len; i++)
    if (g_hash_table_add (seen, names->pdata[i]))
      emit_dir (ls, names->pdata[i], D_MODULE, NULL, NULL, 0);
  g_ptr_array_unref (names);
}

static void
list_sys (Lister *ls, SimNode *dir)
{
  SimHost *host = ls->host;
  const char *unit = iommu_unit (host);

  switch ((SimDir) dir->type) {
  case D_SYS:
    emit_dir (ls, "bus", D_SYS_BUS, NULL, NULL, 0);
    emit_dir (ls, "devices", D_SYS_DEVICES, NULL, NULL, 0);
    emit_dir (ls, "kernel", D_SYS_KERNEL, NULL, NULL, 0);
    emit_dir (ls, "class", D_SYS_CLASS, NULL, NULL, 0);
    emit_dir (ls, "module", D_SYS_MODULE, NULL, NULL, 0);
    break;
  case D_SYS_BUS:
    emit_dir (ls, "pci", D_BUS_PCI, NULL, NULL, 0);
    emit_dir (ls, "mdev", D_BUS_MDEV, NULL, NULL, 0);
    break;
  case D_BUS_PCI:
    emit_dir (ls, "devices", D_PCI_DEVICES, NULL, NULL, 0);
    emit_dir (ls, "drivers", D_PCI_DRIVERS, NULL, NULL, 0);
    emit_file (ls, "drivers_probe", A_DRIVERS_PROBE, 0200, NULL, NULL, 0);
    emit_file (ls, "drivers_autoprobe", A_DRIVERS_AUTOPROBE, 0644, NULL, NULL, 0);
    emit_file (ls, "uevent", A_UEVENT, 0200, NULL, NULL, 0);
    break;
  case D_PCI_DEVICES:
    for (guint i = 0; i < host->devices->len; i++) {
      SimDevice *dev = host->devices->pdata[i];
      emit_device_link (ls, dev->bdf, dev);
    }
    break;
  case D_PCI_DRIVERS:
    for (guint i = 0; i < host->drivers->len; i++) {
      SimDriver *drv = host->drivers->pdata[i];
      emit_dir (ls, drv->name, D_DRIVER, drv, NULL, 0);
    }
    break;
  case D_DRIVER: {
    SimDriver *drv = dir->obj;
    g_autofree char *module = drv->module ? g_strdup_printf ("module/%s", drv->module) : NULL;
    emit_file (ls, "bind", A_BIND, 0200, drv, NULL, 0);
    emit_file (ls, "unbind", A_UNBIND, 0200, drv, NULL, 0);
    emit_file (ls, "new_id", A_NEW_ID, 0200, drv, NULL, 0);
    emit_file (ls, "remove_id", A_REMOVE_ID, 0200, drv, NULL, 0);
    emit_file (ls, "uevent", A_UEVENT, 0200, NULL, NULL, 0);
    if (module)
      emit_sys_link (ls, "module", module);
    for (guint i = 0; i < host->devices->len; i++) {
      SimDevice *dev = host->devices->pdata[i];
      if (dev->driver == drv)
        emit_device_link (ls, dev->bdf, dev);
    }
    break;
  }
  case D_BUS_MDEV:
    emit_dir (ls, "devices", D_MDEV_DEVICES, NULL, NULL, 0);
    break;
  case D_MDEV_DEVICES:
    for (guint i = 0; i < host->mdevs->len; i++) {
      SimMdev *mdev = host->mdevs->pdata[i];
      g_autofree char *path = sim_mdev_sys_path (mdev);
      emit_sys_link (ls, mdev->uuid, path);
    }
    break;
  case D_SYS_DEVICES:
    list_pci_roots (ls);
    emit_dir (ls, "virtual", D_VIRTUAL, NULL, NULL, 0);
    break;
  case D_PCI_ROOT:
    list_device_children (ls, NULL, dir->num);
    break;
  case D_DEVICE:
    list_device (ls, dir->obj);
    break;
  case D_PCI_BUS: {
    SimDevice *br = dir->obj;
    g_autofree char *name = g_strdup_printf ("%04x:%02x", br->domain, br->secondary_bus);
    emit_dir (ls, name, D_EMPTY, NULL, NULL, 0);
    break;
  }
  case D_MDEV_TYPES:
    list_mdev_types (ls, dir->obj);
    break;
  case D_MDEV_TYPE:
    list_mdev_type (ls, dir->obj, dir->obj2);
    break;
  case D_MDEV_TYPE_DEVICES:
    list_mdev_type_devices (ls, dir->obj, dir->obj2);
    break;
  case D_MDEV:
    list_mdev (ls, dir->obj);
    break;
  case D_NVIDIA:
    emit_file (ls, "creatable_vgpu_types", A_CREATABLE, 0444, dir->obj, NULL, 0);
    emit_file (ls, "current_vgpu_type", A_CURRENT_TYPE, 0644, dir->obj, NULL, 0);
    break;
  case D_VFIO_DEV: {
    g_autofree char *name = g_strdup_printf ("vfio%d", dir->num);
    emit_dir (ls, name, D_VFIO_DEV_N, NULL, NULL, dir->num);
    break;
  }
  case D_VFIO_DEV_N:
    emit_file (ls, "dev", A_VFIO_DEVNUM, 0444, NULL, NULL, dir->num);
    break;
  case D_DRM: {
    SimDevice *dev = dir->obj;
    g_autofree char *card = g_strdup_printf ("card%d", dev->drm_card);
    g_autofree char *render = g_strdup_printf ("renderD%d", dev->drm_render);
    emit_dir (ls, card, D_EMPTY, NULL, NULL, 0);
    if (dev->drm_render >= 0)
      emit_dir (ls, render, D_EMPTY, NULL, NULL, 0);
    break;
  }
  case D_VIRTUAL:
    if (has_devlinks (host))
      emit_dir (ls, "devlink", D_DEVLINKS, NULL, NULL, 0);
    if (unit)
      emit_dir (ls, "iommu", D_VIRTUAL_IOMMU, NULL, NULL, 0);
    break;
  case D_VIRTUAL_IOMMU:
    if (unit)
      emit_dir (ls, unit, D_IOMMU_UNIT, NULL, NULL, 0);
    break;
  case D_IOMMU_UNIT:
    emit_dir (ls, host->iommu == SIM_IOMMU_INTEL ? "intel-iommu" : "amd-iommu", D_IOMMU_REGS, NULL, NULL, 0);
    break;
  case D_IOMMU_REGS:
    emit_file (ls, "cap", A_IOMMU_CAP, 0444, NULL, NULL, 0);
    emit_file (ls, host->iommu == SIM_IOMMU_INTEL ? "ecap" : "features", A_IOMMU_ECAP, 0444, NULL, NULL, 0);
    emit_file (ls, "version", A_IOMMU_VERSION, 0444, NULL, NULL, 0);
    break;
  case D_DEVLINKS:
    list_devlinks (ls);
    break;
  case D_DEVLINK:
    list_devlink (ls, dir->obj, dir->obj2);
    break;
  case D_SYS_KERNEL:
    emit_dir (ls, "iommu_groups", D_GROUPS, NULL, NULL, 0);
    break;
  case D_GROUPS: {
    g_autoptr (GPtrArray) ids = sim_iommu_group_ids (host);
    for (guint i = 0; i < ids->len; i++) {
      g_autofree char *name = g_strdup_printf ("%d", GPOINTER_TO_INT (ids->pdata[i]));
      emit_dir (ls, name, D_GROUP, NULL, NULL, GPOINTER_TO_INT (ids->pdata[i]));
    }
    break;
  }
  case D_GROUP:
    list_iommu_group (ls, dir->num);
    break;
  case D_GROUP_DEVICES:
    list_iommu_group_devices (ls, dir->num);
    break;
  case D_SYS_CLASS:
    emit_dir (ls, "iommu", D_CLASS_IOMMU, NULL, NULL, 0);
    emit_dir (ls, "mdev_bus", D_CLASS_MDEV_BUS, NULL, NULL, 0);
    break;
  case D_CLASS_IOMMU:
    if (unit) {
      g_autofree char *target = g_strdup_printf ("devices/virtual/iommu/%s", unit);
      emit_sys_link (ls, unit, target);
    }
    break;
  case D_CLASS_MDEV_BUS:
    for (guint i = 0; i < host->devices->len; i++) {
      SimDevice *dev = host->devices->pdata[i];
      if (sim_device_is_mdev_parent (dev))
        emit_device_link (ls, dev->bdf, dev);
    }
    break;
  case D_SYS_MODULE:
    list_modules (ls);
    break;
  case D_MODULE:
    emit_file (ls, "initstate", A_MODULE_INITSTATE, 0444, NULL, NULL, 0);
    break;
  default:
    break;
  }
}

/* ---- dev/ and proc/ ---- */

static gboolean
any_bound_to (SimHost *host, const char *driver)
{
  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *dev = host->devices->pdata[i];
    if (dev->driver && g_str_equal (dev->driver->name, driver))
      return TRUE;
  }
  return FALSE;
}

static void
list_dev (Lister *ls, SimNode *dir)
{
  SimHost *host = ls->host;

  switch ((SimDir) dir->type) {
  case D_DEV:
    emit_dir (ls, "vfio", D_DEV_VFIO, NULL, NULL, 0);
    emit_dir (ls, "dri", D_DEV_DRI, NULL, NULL, 0);
    if (host->vfio_cdev && sim_vfio_container_exists (host))
      emit_file (ls, "iommu", A_DEVNODE, 0600, NULL, NULL, 0);
    if (any_bound_to (host, "nvidia"))
      emit_file (ls, "nvidiactl", A_DEVNODE, 0666, NULL, NULL, 0);
    for (guint i = 0; i < host->devices->len; i++) {
      SimDevice *dev = host->devices->pdata[i];
      g_autofree char *name = NULL;
      if (dev->nvidia_minor < 0 || !dev->driver || !g_str_equal (dev->driver->name, "nvidia"))
        continue;
      name = g_strdup_printf ("nvidia%d", dev->nvidia_minor);
      emit_file (ls, name, A_DEVNODE, 0666, NULL, NULL, 0);
    }
    break;
  case D_DEV_VFIO: {
    g_autoptr (GPtrArray) ids = sim_iommu_group_ids (host);
    if (sim_vfio_container_exists (host))
      emit_file (ls, "vfio", A_DEVNODE, 0666, NULL, NULL, 0);
    for (guint i = 0; i < ids->len; i++) {
      int g = GPOINTER_TO_INT (ids->pdata[i]);
      g_autofree char *name = NULL;
      if (!sim_group_has_vfio_node (host, g))
        continue;
      name = g_strdup_printf ("%d", g);
      emit_file (ls, name, A_DEVNODE, 0600, NULL, NULL, g);
    }
    if (host->vfio_cdev)
      emit_dir (ls, "devices", D_DEV_VFIO_DEVICES, NULL, NULL, 0);
    break;
  }
  case D_DEV_VFIO_DEVICES:
    for (guint i = 0; i < host->devices->len + host->mdevs->len; i++) {
      int n;
      g_autofree char *name = NULL;
      if (i < host->devices->len) {
        SimDevice *dev = host->devices->pdata[i];
        if (!sim_device_vfio_registered (dev))
          continue;
        n = dev->vfio_cdev;
      } else {
        n = ((SimMdev *) host->mdevs->pdata[i - host->devices->len])->vfio_cdev;
      }
      if (n < 0)
        continue;
      name = g_strdup_printf ("vfio%d", n);
      emit_file (ls, name, A_DEVNODE, 0600, NULL, NULL, n);
    }
    break;
  case D_DEV_DRI:
    for (guint i = 0; i < host->devices->len; i++) {
      SimDevice *dev = host->devices->pdata[i];
      g_autofree char *card = NULL;
      g_autofree char *render = NULL;
      if (dev->drm_card < 0 || !dev->driver || dev->driver->vfio)
        continue;
      card = g_strdup_printf ("card%d", dev->drm_card);
      emit_file (ls, card, A_DEVNODE, 0660, NULL, NULL, 0);
      if (dev->drm_render >= 0) {
        render = g_strdup_printf ("renderD%d", dev->drm_render);
        emit_file (ls, render, A_DEVNODE, 0666, NULL, NULL, 0);
      }
    }
    break;
  default:
    break;
  }
}

static void
list_proc (Lister *ls, SimNode *dir)
{
  SimHost *host = ls->host;

  switch ((SimDir) dir->type) {
  case D_PROC:
    emit_file (ls, "cmdline", A_CMDLINE, 0444, NULL, NULL, 0);
    emit_dir (ls, "sys", D_PROC_SYS, NULL, NULL, 0);
    if (sim_host_find_driver (host, "nvidia"))
      emit_dir (ls, "driver", D_PROC_DRIVER, NULL, NULL, 0);
    for (guint i = 0; i < host->processes->len; i++) {
      SimProcess *proc = host->processes->pdata[i];
      g_autofree char *name = g_strdup_printf ("%u", proc->pid);
      emit_dir (ls, name, D_PROC_PID, proc, NULL, (int) proc->pid);
    }
    break;
  case D_PROC_SYS:
    emit_dir (ls, "kernel", D_PROC_SYS_KERNEL, NULL, NULL, 0);
    break;
  case D_PROC_SYS_KERNEL:
    emit_file (ls, "osrelease", A_OSRELEASE, 0444, NULL, NULL, 0);
    break;
  case D_PROC_DRIVER:
    emit_dir (ls, "nvidia", D_PROC_NVIDIA, NULL, NULL, 0);
    break;
  case D_PROC_NVIDIA:
    emit_dir (ls, "gpus", D_PROC_NVIDIA_GPUS, NULL, NULL, 0);
    emit_file (ls, "version", A_NV_VERSION, 0444, NULL, NULL, 0);
    break;
  case D_PROC_NVIDIA_GPUS:
    for (guint i = 0; i < host->devices->len; i++) {
      SimDevice *dev = host->devices->pdata[i];
      if (dev->nvidia_minor >= 0 && dev->driver && g_str_equal (dev->driver->name, "nvidia"))
        emit_dir (ls, dev->bdf, D_PROC_NVIDIA_GPU, dev, NULL, 0);
    }
    break;
  case D_PROC_NVIDIA_GPU:
    emit_file (ls, "information", A_NV_INFORMATION, 0444, dir->obj, NULL, 0);
    break;
  case D_PROC_PID:
    emit_file (ls, "comm", A_PROC_COMM, 0444, dir->obj, NULL, 0);
    emit_file (ls, "cmdline", A_PROC_CMDLINE, 0444, dir->obj, NULL, 0);
    emit_dir (ls, "fd", D_PROC_PID_FD, dir->obj, NULL, dir->num);
    break;
  case D_PROC_PID_FD: {
    SimProcess *proc = dir->obj;
    for (guint i = 0; i < proc->files->len; i++) {
      g_autofree char *name = g_strdup_printf ("%u", i + 3);
      emit_link_raw (ls, name, g_strdup (proc->files->pdata[i]));
    }
    break;
  }
  default:
    break;
  }
}

static void
list_any (Lister *ls, SimNode *dir)
{
  switch ((SimDir) dir->type) {
  case D_ROOT:
    emit_dir (ls, "sys", D_SYS, NULL, NULL, 0);
    emit_dir (ls, "dev", D_DEV, NULL, NULL, 0);
    emit_dir (ls, "proc", D_PROC, NULL, NULL, 0);
    emit_dir (ls, ".sim", D_SIM, NULL, NULL, 0);
    break;
  case D_SIM:
    emit_file (ls, "log", A_SIM_LOG, 0644, NULL, NULL, 0);
    emit_file (ls, "faults", A_SIM_FAULTS, 0644, NULL, NULL, 0);
    emit_file (ls, "holders", A_SIM_HOLDERS, 0644, NULL, NULL, 0);
    emit_file (ls, "scenario", A_SIM_SCENARIO, 0444, NULL, NULL, 0);
    emit_file (ls, "kernel", A_SIM_KERNEL, 0644, NULL, NULL, 0);
    break;
  case D_DEV: case D_DEV_VFIO: case D_DEV_VFIO_DEVICES: case D_DEV_DRI:
    list_dev (ls, dir);
    break;
  case D_PROC: case D_PROC_SYS: case D_PROC_SYS_KERNEL: case D_PROC_DRIVER: case D_PROC_NVIDIA:
  case D_PROC_NVIDIA_GPUS: case D_PROC_NVIDIA_GPU: case D_PROC_PID: case D_PROC_PID_FD:
    list_proc (ls, dir);
    break;
  default:
    list_sys (ls, dir);
    break;
  }
}

void
sim_tree_list (SimHost *host, const char *path, const SimNode *dir, SimFillFunc fill, gpointer data)
{
  Lister ls = { host, path, NULL, NULL, FALSE, fill, data };
  list_any (&ls, (SimNode *) dir);
}

/* Every FUSE call names a full path and the kernel caches nothing (sysfs
 * must look live), so the directories resolved since the last change are
 * remembered: a scan of a big host stays linear. */
static const SimNode *
cached_dir (SimHost *host, const char *path)
{
  if (!host->dir_cache || host->dir_cache_generation != host->generation)
    return NULL;
  return g_hash_table_lookup (host->dir_cache, path);
}

static void
cache_dir (SimHost *host, const char *path, const SimNode *node)
{
  if (!host->dir_cache)
    host->dir_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (host->dir_cache_generation != host->generation) {
    g_hash_table_remove_all (host->dir_cache);
    host->dir_cache_generation = host->generation;
  }
  g_hash_table_insert (host->dir_cache, g_strdup (path), g_memdup2 (node, sizeof *node));
}

gboolean
sim_tree_lookup (SimHost *host, const char *path, SimNode *out)
{
  g_auto (GStrv) parts = NULL;
  GString *sofar = g_string_new (NULL);
  SimNode cur = { SIM_NODE_DIR, D_ROOT, 0755, NULL, NULL, 0, NULL };
  gboolean ok = TRUE;
  const char *slash = strrchr (path, '/');
  guint first = 0;

  /* start from the parent directory when it is known */
  if (slash) {
    g_autofree char *parent = g_strndup (path, (gsize) (slash - path));
    const SimNode *hit = cached_dir (host, parent);
    if (hit) {
      cur = *hit;
      g_string_assign (sofar, parent);
      path = slash + 1;
    }
  }
  parts = g_strsplit (path, "/", -1);

  for (guint i = first; parts[i] && ok; i++) {
    SimNode next = { 0 };
    Lister ls = { host, sofar->str, parts[i], &next, FALSE, NULL, NULL };

    if (!*parts[i])
      continue;
    if (cur.kind != SIM_NODE_DIR) {
      ok = FALSE;   /* symlinks are resolved by the kernel, not here */
      break;
    }
    list_any (&ls, &cur);
    if (!ls.done) {
      ok = FALSE;
      break;
    }
    sim_node_clear (&cur);
    cur = next;
    if (sofar->len)
      g_string_append_c (sofar, '/');
    g_string_append (sofar, parts[i]);
    if (cur.kind == SIM_NODE_DIR)
      cache_dir (host, sofar->str, &cur);
  }
  g_string_free (sofar, TRUE);
  if (!ok) {
    sim_node_clear (&cur);
    return FALSE;
  }
  *out = cur;
  return TRUE;
}

gboolean
sim_node_is_dev (const SimNode *node)
{
  return node->kind == SIM_NODE_FILE && node->type == A_DEVNODE;
}

gboolean
sim_node_is_control (const SimNode *node)
{
  return node->kind == SIM_NODE_FILE &&
         (node->type == A_SIM_LOG || node->type == A_SIM_FAULTS || node->type == A_SIM_HOLDERS ||
          node->type == A_SIM_SCENARIO || node->type == A_SIM_KERNEL);
}
