/* The simulated host's objects, lookups and derived state. */
#include "sim-model.h"
#include "sim-internal.h"

#include <stdio.h>
#include <string.h>

SimHost *
sim_host_new (void)
{
  SimHost *host = g_new0 (SimHost, 1);

  g_mutex_init (&host->lock);
  g_cond_init (&host->cond);
  host->kernel_release = g_strdup ("6.1.0-simulated");
  host->cmdline = g_strdup ("");
  host->iommu = SIM_IOMMU_INTEL;
  host->interrupt_remapping = TRUE;
  host->iommu_group_type = g_strdup ("DMA");
  host->vfio_cdev = TRUE;
  host->sriov_enable_delay_ms = 100;    /* sriov_enable(): msleep(100) */
  host->sriov_disable_delay_ms = 1000;  /* sriov_disable(): ssleep(1) */
  host->drivers_autoprobe = TRUE;
  host->drivers = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_driver_free);
  host->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_device_free);
  host->mdevs = g_ptr_array_new ();
  host->processes = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_process_free);
  host->faults = g_ptr_array_new_with_free_func (sim_fault_free);
  host->graveyard = g_ptr_array_new_with_free_func (g_free);
  host->dead_devices = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_device_free);
  host->log = g_string_new (NULL);
  host->modules = g_ptr_array_new_with_free_func (g_free);
  return host;
}

void
sim_host_free (SimHost *host)
{
  if (!host)
    return;
  g_ptr_array_foreach (host->mdevs, (GFunc) g_free, NULL);
  g_ptr_array_unref (host->mdevs);
  g_ptr_array_unref (host->devices);
  g_ptr_array_unref (host->drivers);
  g_ptr_array_unref (host->processes);
  g_ptr_array_unref (host->faults);
  g_ptr_array_unref (host->graveyard);
  g_ptr_array_unref (host->dead_devices);
  g_string_free (host->log, TRUE);
  if (host->opens)
    g_hash_table_unref (host->opens);
  if (host->dir_cache)
    g_hash_table_unref (host->dir_cache);
  g_free (host->name);
  g_free (host->description);
  g_free (host->kernel_release);
  g_free (host->cmdline);
  g_free (host->iommu_group_type);
  if (host->modules)
    g_ptr_array_unref (host->modules);
  g_mutex_clear (&host->lock);
  g_cond_clear (&host->cond);
  g_free (host);
}

void
sim_host_lock (SimHost *host)
{
  g_mutex_lock (&host->lock);
}

void
sim_host_unlock (SimHost *host)
{
  g_mutex_unlock (&host->lock);
}

void
sim_host_changed (SimHost *host)
{
  host->generation++;
  g_cond_broadcast (&host->cond);
}

/* Waits for a change. When the filesystem is going away (SIGTERM,
 * unmount) every wait ends at once, so no blocked write keeps the
 * simulator alive. Returns FALSE then. */
gboolean
sim_host_wait (SimHost *host)
{
  if (host->stopping && host->stopping ())
    return FALSE;
  g_cond_wait_until (&host->cond, &host->lock, g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
  return !(host->stopping && host->stopping ());
}

void
sim_host_sleep (SimHost *host, guint ms)
{
  if (ms == 0)
    return;
  g_mutex_unlock (&host->lock);
  g_usleep ((gulong) ms * 1000);
  g_mutex_lock (&host->lock);
}

gboolean
sim_parse_bdf (const char *s, guint *domain, guint *bus, guint *slot, guint *func)
{
  unsigned d, b, sl, f;
  int n = 0;

  if (!s || sscanf (s, "%4x:%2x:%2x.%1x%n", &d, &b, &sl, &f, &n) != 4 || n != 12 || s[n] != '\0')
    return FALSE;
  if (sl > 31 || f > 7)
    return FALSE;
  *domain = d;
  *bus = b;
  *slot = sl;
  *func = f;
  return TRUE;
}

SimDevice *
sim_device_new (const char *bdf)
{
  SimDevice *dev = g_new0 (SimDevice, 1);

  dev->bdf = g_strdup (bdf);
  sim_parse_bdf (bdf, &dev->domain, &dev->bus, &dev->slot, &dev->func);
  dev->numa_node = -1;
  dev->iommu_group = -1;
  dev->nvidia_minor = -1;
  dev->drm_card = -1;
  dev->drm_render = -1;
  dev->vfio_cdev = -1;
  dev->subvendor = 0;
  dev->subdevice = 0;
  dev->vf_autoprobe = TRUE;
  dev->consumers = g_ptr_array_new_with_free_func (g_free);
  dev->probe_fails = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  dev->vf_probe_fails = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  dev->vfs = g_ptr_array_new ();
  return dev;
}

void
sim_device_free (SimDevice *dev)
{
  if (!dev)
    return;
  g_free (dev->bdf);
  g_free (dev->driver_override);
  g_free (dev->nvidia_model);
  g_ptr_array_unref (dev->consumers);
  g_hash_table_unref (dev->probe_fails);
  g_hash_table_unref (dev->vf_probe_fails);
  g_ptr_array_unref (dev->vfs);
  if (dev->config)
    g_bytes_unref (dev->config);
  sim_vgpu_free (dev->vgpu);
  sim_mig_free (dev->mig);
  g_free (dev);
}

static int
compare_devices (gconstpointer a, gconstpointer b)
{
  const SimDevice *da = *(SimDevice *const *) a;
  const SimDevice *db = *(SimDevice *const *) b;
  return strcmp (da->bdf, db->bdf);
}

void
sim_host_add_device (SimHost *host, SimDevice *dev)
{
  g_ptr_array_add (host->devices, dev);
  g_ptr_array_sort (host->devices, compare_devices);
}

SimDriver *
sim_driver_new (const char *name)
{
  SimDriver *drv = g_new0 (SimDriver, 1);

  drv->name = g_strdup (name);
  drv->module = g_strdup (name);
  drv->ids = g_array_new (FALSE, TRUE, sizeof (SimPciId));
  drv->dynids = g_array_new (FALSE, TRUE, sizeof (SimPciId));
  return drv;
}

void
sim_driver_free (SimDriver *drv)
{
  if (!drv)
    return;
  g_free (drv->name);
  g_free (drv->module);
  g_array_unref (drv->ids);
  g_array_unref (drv->dynids);
  g_free (drv);
}

static void
vgpu_type_free (SimVgpuType *type)
{
  g_free (type->id);
  g_free (type->name);
  g_free (type->description);
  g_free (type->device_api);
  g_free (type->gi_profile);
  g_free (type);
}

SimVgpu *
sim_vgpu_new (void)
{
  SimVgpu *vgpu = g_new0 (SimVgpu, 1);
  vgpu->types = g_ptr_array_new_with_free_func ((GDestroyNotify) vgpu_type_free);
  vgpu->header = TRUE;
  return vgpu;
}

void
sim_vgpu_free (SimVgpu *vgpu)
{
  if (!vgpu)
    return;
  g_ptr_array_unref (vgpu->types);
  g_free (vgpu);
}

void
sim_process_free (SimProcess *proc)
{
  if (!proc)
    return;
  g_free (proc->comm);
  g_strfreev (proc->cmdline);
  g_ptr_array_unref (proc->files);
  g_free (proc);
}

SimDevice *
sim_host_find_device (SimHost *host, const char *bdf)
{
  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *dev = host->devices->pdata[i];
    if (g_str_equal (dev->bdf, bdf))
      return dev;
  }
  return NULL;
}

/* bus_find_device_by_name() compares with sysfs_streq(): one trailing
 * newline is ignored, nothing else is. */
SimDevice *
sim_host_find_device_by_name (SimHost *host, const char *buf)
{
  g_autofree char *name = g_strdup (buf);
  gsize len = strlen (name);

  if (len > 0 && name[len - 1] == '\n')
    name[len - 1] = '\0';
  return sim_host_find_device (host, name);
}

SimDriver *
sim_host_find_driver (SimHost *host, const char *name)
{
  for (guint i = 0; i < host->drivers->len; i++) {
    SimDriver *drv = host->drivers->pdata[i];
    if (g_str_equal (drv->name, name))
      return drv;
  }
  return NULL;
}

SimMdev *
sim_host_find_mdev (SimHost *host, const char *uuid)
{
  for (guint i = 0; i < host->mdevs->len; i++) {
    SimMdev *mdev = host->mdevs->pdata[i];
    if (g_ascii_strcasecmp (mdev->uuid, uuid) == 0)
      return mdev;
  }
  return NULL;
}

SimProcess *
sim_host_find_process (SimHost *host, guint pid)
{
  for (guint i = 0; i < host->processes->len; i++) {
    SimProcess *proc = host->processes->pdata[i];
    if (proc->pid == pid)
      return proc;
  }
  return NULL;
}

gboolean
sim_iommu_group_exists (SimHost *host, int group)
{
  if (group < 0)
    return FALSE;
  for (guint i = 0; i < host->devices->len; i++)
    if (((SimDevice *) host->devices->pdata[i])->iommu_group == group)
      return TRUE;
  for (guint i = 0; i < host->mdevs->len; i++)
    if (((SimMdev *) host->mdevs->pdata[i])->iommu_group == group)
      return TRUE;
  return FALSE;
}

static int
compare_ints (gconstpointer a, gconstpointer b)
{
  return GPOINTER_TO_INT (*(gconstpointer *) a) - GPOINTER_TO_INT (*(gconstpointer *) b);
}

GPtrArray *
sim_iommu_group_ids (SimHost *host)
{
  GPtrArray *ids = g_ptr_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint i = 0; i < host->devices->len + host->mdevs->len; i++) {
    int g = i < host->devices->len
              ? ((SimDevice *) host->devices->pdata[i])->iommu_group
              : ((SimMdev *) host->mdevs->pdata[i - host->devices->len])->iommu_group;
    if (g >= 0 && g_hash_table_add (seen, GINT_TO_POINTER (g + 1)))
      g_ptr_array_add (ids, GINT_TO_POINTER (g));
  }
  g_ptr_array_sort (ids, compare_ints);
  return ids;
}

/* iommu_group_alloc() takes the lowest free id (ida_alloc). */
int
sim_iommu_group_alloc (SimHost *host)
{
  if (host->iommu == SIM_IOMMU_NONE)
    return -1;
  for (int g = 0;; g++)
    if (!sim_iommu_group_exists (host, g))
      return g;
}

/* vfio_device cdev indexes come from an ida too. */
int
sim_vfio_cdev_alloc (SimHost *host)
{
  if (!host->vfio_cdev)
    return -1;
  for (int n = 0;; n++) {
    gboolean used = FALSE;
    for (guint i = 0; i < host->devices->len && !used; i++)
      used = ((SimDevice *) host->devices->pdata[i])->vfio_cdev == n;
    for (guint i = 0; i < host->mdevs->len && !used; i++)
      used = ((SimMdev *) host->mdevs->pdata[i])->vfio_cdev == n;
    if (!used)
      return n;
  }
}

gboolean
sim_device_is_vga (const SimDevice *dev)
{
  return (dev->class_ >> 8) == 0x0300;
}

SimDevice *
sim_device_gpu (SimDevice *dev)
{
  if (dev->physfn)
    dev = dev->physfn;
  return dev->vgpu ? dev : NULL;
}

static gboolean
bound_to_nvidia (const SimDevice *dev)
{
  return dev->driver && g_str_equal (dev->driver->name, "nvidia");
}

/* The vendor's driver registers an mdev parent when it probes. */
gboolean
sim_device_is_mdev_parent (const SimDevice *dev)
{
  SimDevice *gpu = sim_device_gpu ((SimDevice *) dev);

  if (!gpu || !bound_to_nvidia (dev))
    return FALSE;
  if (gpu->vgpu->framework == SIM_VGPU_MDEV_PF)
    return dev->physfn == NULL;
  if (gpu->vgpu->framework == SIM_VGPU_MDEV_VF)
    return dev->physfn != NULL;
  return FALSE;
}

/* nvidia/ on a VF of an Ada/Hopper GPU, while nvidia drives it; the PF has none. */
gboolean
sim_device_has_vendor_vfio (const SimDevice *dev)
{
  SimDevice *gpu = sim_device_gpu ((SimDevice *) dev);

  return gpu && gpu->vgpu->framework == SIM_VGPU_VENDOR_VFIO && dev->physfn && bound_to_nvidia (dev);
}

gboolean
sim_device_vfio_registered (const SimDevice *dev)
{
  if (dev->driver && dev->driver->vfio)
    return TRUE;
  return sim_device_has_vendor_vfio (dev) && dev->current_vgpu_type != 0;
}

gboolean
sim_group_has_vfio_node (SimHost *host, int group)
{
  if (group < 0)
    return FALSE;
  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *dev = host->devices->pdata[i];
    if (dev->iommu_group == group && sim_device_vfio_registered (dev))
      return TRUE;
  }
  for (guint i = 0; i < host->mdevs->len; i++)
    if (((SimMdev *) host->mdevs->pdata[i])->iommu_group == group)
      return TRUE;
  return FALSE;
}

gboolean
sim_vfio_container_exists (SimHost *host)
{
  for (guint i = 0; i < host->drivers->len; i++)
    if (((SimDriver *) host->drivers->pdata[i])->vfio)
      return TRUE;
  return host->nvidia_vgpu_manager;
}

gboolean
sim_path_held (SimHost *host, const char *path)
{
  for (guint i = 0; i < host->processes->len; i++) {
    SimProcess *proc = host->processes->pdata[i];
    for (guint j = 0; j < proc->files->len; j++)
      if (g_str_equal (proc->files->pdata[j], path))
        return TRUE;
  }
  return FALSE;
}

char *
sim_device_sys_path (const SimDevice *dev)
{
  g_autoptr (GPtrArray) chain = g_ptr_array_new ();
  const SimDevice *top = dev;
  GString *path;

  g_ptr_array_add (chain, (gpointer) dev);
  while (top->parent) {
    top = top->parent;
    g_ptr_array_insert (chain, 0, (gpointer) top);
  }
  path = g_string_new (NULL);
  g_string_printf (path, "devices/pci%04x:%02x", top->domain, top->bus);
  for (guint i = 0; i < chain->len; i++)
    g_string_append_printf (path, "/%s", ((const SimDevice *) chain->pdata[i])->bdf);
  return g_string_free (path, FALSE);
}

char *
sim_mdev_sys_path (const SimMdev *mdev)
{
  g_autofree char *parent = sim_device_sys_path (mdev->parent);
  return g_strdup_printf ("%s/%s", parent, mdev->uuid);
}

GPtrArray *
sim_device_host_nodes (SimDevice *dev)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func (g_free);

  if (!dev->driver || dev->driver->vfio)
    return nodes;
  if (dev->nvidia_minor >= 0 && bound_to_nvidia (dev))
    g_ptr_array_add (nodes, g_strdup_printf ("/dev/nvidia%d", dev->nvidia_minor));
  if (dev->drm_card >= 0)
    g_ptr_array_add (nodes, g_strdup_printf ("/dev/dri/card%d", dev->drm_card));
  if (dev->drm_render >= 0)
    g_ptr_array_add (nodes, g_strdup_printf ("/dev/dri/renderD%d", dev->drm_render));
  return nodes;
}

/* A simulated or real process holds one of this device's VFIO nodes. */
gboolean
sim_device_vfio_held (SimHost *host, SimDevice *dev)
{
  g_autofree char *group = NULL;
  g_autofree char *cdev = NULL;

  if (dev->iommu_group >= 0) {
    group = g_strdup_printf ("/dev/vfio/%d", dev->iommu_group);
    if (sim_path_held (host, group))
      return TRUE;
  }
  if (dev->vfio_cdev >= 0) {
    cdev = g_strdup_printf ("/dev/vfio/devices/vfio%d", dev->vfio_cdev);
    if (sim_path_held (host, cdev))
      return TRUE;
  }
  return FALSE;
}

gboolean
sim_device_host_nodes_held (SimHost *host, SimDevice *dev)
{
  g_autoptr (GPtrArray) nodes = sim_device_host_nodes (dev);

  for (guint i = 0; i < nodes->len; i++)
    if (sim_path_held (host, nodes->pdata[i]))
      return TRUE;
  return FALSE;
}

/* A removed device stays allocated (a write may still be waiting on it)
 * but leaves the bus. */
void
sim_host_bury_device (SimHost *host, SimDevice *dev)
{
  guint index;

  dev->removed = TRUE;
  dev->locked = FALSE;
  if (g_ptr_array_find (host->devices, dev, &index))
    g_ptr_array_steal_index (host->devices, index);
  g_ptr_array_add (host->dead_devices, dev);
  sim_host_changed (host);
}
