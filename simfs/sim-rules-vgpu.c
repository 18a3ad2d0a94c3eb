/* NVIDIA vGPU rules: mdev create/remove (drivers/vfio/mdev/mdev_sysfs.c,
 * mdev_core.c) and the vendor-specific VFIO framework's per-VF
 * nvidia/current_vgpu_type (public reports; see KERNEL-RULES.md).
 *
 * Placement: a GPU shares its framebuffer among its vGPUs; a type has at
 * most max_instance instances; unless the GPU is in heterogeneous mode,
 * all vGPUs of a GPU have the same type. With mdev on VFs and with
 * vendor-VFIO, a VF carries at most one vGPU.
 *
 * MIG (sim-mig.c): while MIG mode is on, only the MIG-backed types (those
 * with a GPU instance profile) are offered, each as many times as GPU
 * instances of its profile are free; a vGPU made takes one. While it is
 * off, only the others. */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

SimVgpuType *
sim_vgpu_find_type (SimVgpu *vgpu, const char *id)
{
  for (guint i = 0; vgpu && i < vgpu->types->len; i++) {
    SimVgpuType *type = vgpu->types->pdata[i];
    if (g_str_equal (type->id, id))
      return type;
  }
  return NULL;
}

static void
count_usage (SimHost *host, SimDevice *gpu, SimVgpuType *type, guint *same, guint *fb_used, gboolean *other)
{
  *same = 0;
  *fb_used = 0;
  *other = FALSE;

  for (guint i = 0; i < host->mdevs->len; i++) {
    SimMdev *mdev = host->mdevs->pdata[i];
    if (sim_device_gpu (mdev->parent) != gpu)
      continue;
    *fb_used += mdev->type->framebuffer_mb;
    if (mdev->type == type)
      (*same)++;
    else
      *other = TRUE;
  }
  for (guint i = 0; i < gpu->vfs->len; i++) {
    SimDevice *vf = gpu->vfs->pdata[i];
    SimVgpuType *cur;
    g_autofree char *id = NULL;
    if (!vf->current_vgpu_type)
      continue;
    id = g_strdup_printf ("%u", vf->current_vgpu_type);
    cur = sim_vgpu_find_type (gpu->vgpu, id);
    *fb_used += cur ? cur->framebuffer_mb : 0;
    if (cur == type)
      (*same)++;
    else
      *other = TRUE;
  }
}

/* Free GPU instances of TYPE's profile on a GPU in MIG mode. */
static guint
mig_capacity (SimHost *host, SimDevice *gpu, SimVgpuType *type)
{
  guint n = 0;

  if (!gpu->mig || !gpu->mig->current || !type->gi_profile)
    return 0;
  for (guint i = 0; i < gpu->mig->gis->len; i++) {
    SimMigGi *gi = gpu->mig->gis->pdata[i];
    gboolean used = FALSE;
    if (!g_str_equal (gi->profile, type->gi_profile))
      continue;
    for (guint j = 0; j < gpu->vfs->len; j++) {
      SimDevice *vf = gpu->vfs->pdata[j];
      used |= vf->current_vgpu_type && vf->mig_gi == gi->id;
    }
    for (guint j = 0; j < host->mdevs->len; j++) {
      SimMdev *mdev = host->mdevs->pdata[j];
      used |= sim_device_gpu (mdev->parent) == gpu && mdev->mig_gi == gi->id;
    }
    n += !used;
  }
  return n;
}

/* How many more vGPUs of this type the GPU can take. */
static guint
capacity (SimHost *host, SimDevice *gpu, SimVgpuType *type)
{
  guint same, fb_used, by_fb, by_max;
  gboolean other;

  if (type->gi_profile || (gpu->mig && gpu->mig->current))
    return mig_capacity (host, gpu, type);
  count_usage (host, gpu, type, &same, &fb_used, &other);
  if (other && !gpu->vgpu->heterogeneous)
    return 0;
  by_fb = type->framebuffer_mb == 0 ? G_MAXUINT
          : (gpu->vgpu->framebuffer_mb > fb_used ? (gpu->vgpu->framebuffer_mb - fb_used) / type->framebuffer_mb : 0);
  by_max = type->max_instance > same ? type->max_instance - same : 0;
  return MIN (by_fb, by_max);
}

static gboolean
parent_has_mdev (SimHost *host, SimDevice *parent)
{
  for (guint i = 0; i < host->mdevs->len; i++)
    if (((SimMdev *) host->mdevs->pdata[i])->parent == parent)
      return TRUE;
  return FALSE;
}

guint
sim_mdev_available (SimHost *host, SimDevice *parent, SimVgpuType *type)
{
  SimDevice *gpu = sim_device_gpu (parent);
  guint cap;

  if (!gpu || !sim_device_is_mdev_parent (parent))
    return 0;
  cap = capacity (host, gpu, type);
  if (gpu->vgpu->framework == SIM_VGPU_MDEV_VF)
    return parent_has_mdev (host, parent) ? 0 : MIN (cap, 1);
  return cap;
}

GPtrArray *
sim_vendor_creatable (SimHost *host, SimDevice *vf)
{
  GPtrArray *types = g_ptr_array_new ();
  SimDevice *gpu = sim_device_gpu (vf);

  if (!sim_device_has_vendor_vfio (vf) || vf->current_vgpu_type != 0)
    return types;
  for (guint i = 0; i < gpu->vgpu->types->len; i++) {
    SimVgpuType *type = gpu->vgpu->types->pdata[i];
    if (capacity (host, gpu, type) > 0)
      g_ptr_array_add (types, type);
  }
  return types;
}

/* uuid_is_valid(): 8-4-4-4-12 hex digits. */
static gboolean
uuid_valid (const char *s)
{
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return FALSE;
    } else if (!g_ascii_isxdigit (s[i])) {
      return FALSE;
    }
  }
  return TRUE;
}

/* create_store(): the write must be 36 or 37 bytes (a UUID and maybe a
 * newline) and parse as a UUID, else EINVAL; a UUID already in use on any
 * parent is EEXIST; no instance left is EUSERS (mdev_device_create()). */
int
sim_rule_mdev_create (SimHost *host, SimDevice *parent, SimVgpuType *type, const char *buf, gsize len)
{
  char uuid[37];
  SimMdev *mdev;

  if (len < 36 || len > 37)
    return -EINVAL;
  memcpy (uuid, buf, 36);
  uuid[36] = '\0';
  if (!uuid_valid (uuid))
    return -EINVAL;
  for (int i = 0; i < 36; i++)
    uuid[i] = g_ascii_tolower (uuid[i]);
  if (sim_host_find_mdev (host, uuid))
    return -EEXIST;
  if (sim_mdev_available (host, parent, type) == 0)
    return -EUSERS;

  mdev = g_new0 (SimMdev, 1);
  memcpy (mdev->uuid, uuid, sizeof uuid);
  mdev->parent = parent;
  mdev->type = type;
  if (type->gi_profile)
    mdev->mig_gi = sim_mig_free_gi (host, sim_device_gpu (parent), type)->id;
  /* vfio_register_emulated_iommu_dev() gives the mdev an iommu group of
   * its own, and with it a /dev/vfio node. */
  mdev->iommu_group = -1;
  mdev->vfio_cdev = -1;
  g_ptr_array_add (host->mdevs, mdev);
  mdev->iommu_group = host->iommu == SIM_IOMMU_NONE ? -1 : sim_iommu_group_alloc (host);
  if (mdev->iommu_group < 0) {
    /* no IOMMU: vfio still allocates an emulated group */
    int g = 0;
    while (sim_iommu_group_exists (host, g))
      g++;
    mdev->iommu_group = g;
  }
  mdev->vfio_cdev = sim_vfio_cdev_alloc (host);
  sim_host_changed (host);
  return 0;
}

static gboolean
mdev_held (SimHost *host, SimMdev *mdev)
{
  g_autofree char *group = g_strdup_printf ("/dev/vfio/%d", mdev->iommu_group);
  g_autofree char *cdev = mdev->vfio_cdev >= 0 ? g_strdup_printf ("/dev/vfio/devices/vfio%d", mdev->vfio_cdev) : NULL;

  return sim_path_held (host, group) || (cdev && sim_path_held (host, cdev));
}

/* mdev_device_remove(): unregistering the VFIO device waits for its users. */
void
sim_mdev_destroy (SimHost *host, SimMdev *mdev)
{
  while (!mdev->removed && mdev_held (host, mdev) && sim_host_wait (host))
    ;
  if (mdev->removed)
    return;
  mdev->removed = TRUE;
  g_ptr_array_remove (host->mdevs, mdev);
  g_ptr_array_add (host->graveyard, mdev);
  sim_host_changed (host);
}

/* remove_store(): kstrtoul; 0 does nothing; anything else removes. */
int
sim_rule_mdev_remove (SimHost *host, SimMdev *mdev, const char *buf)
{
  char *end;
  unsigned long val;

  errno = 0;
  val = strtoul (buf, &end, 0);
  if (errno || end == buf || !g_ascii_isdigit (buf[0]) || (*end && !(*end == '\n' && end[1] == '\0')))
    return -EINVAL;
  if (val)
    sim_mdev_destroy (host, mdev);
  return 0;
}

/* When the vendor driver lets go of a function, its mdev parent goes
 * (taking every mdev with it) and a VF's vGPU type is dropped. */
void
sim_vgpu_driver_removed (SimHost *host, SimDevice *dev)
{
  if (sim_device_is_mdev_parent (dev)) {
    for (guint i = 0; i < host->mdevs->len;) {
      SimMdev *mdev = host->mdevs->pdata[i];
      if (mdev->parent == dev)
        sim_mdev_destroy (host, mdev);
      else
        i++;
    }
  }
  dev->current_vgpu_type = 0;
}

/* nvidia/current_vgpu_type: a decimal id. 0 releases (EBUSY while the
 * VF's VFIO node is open, or for release_delay_ms after it closed); a
 * non-zero id must be in creatable_vgpu_types (else EINVAL) and the VF
 * must be free (else EBUSY). */
int
sim_rule_vgpu_type (SimHost *host, SimDevice *vf, const char *buf)
{
  char *end;
  unsigned long val;
  int r = 0;

  errno = 0;
  val = strtoul (buf, &end, 10);
  if (errno || end == buf || !g_ascii_isdigit (buf[0]) || (*end && !(*end == '\n' && end[1] == '\0')) || val > G_MAXUINT)
    return -EINVAL;

  if (!sim_device_lock (host, vf))
    return -ENODEV;
  if (val == 0) {
    if (vf->current_vgpu_type == 0)
      goto out;
    if (sim_device_vfio_held (host, vf) || g_get_monotonic_time () < vf->vgpu_busy_until) {
      r = -EBUSY;
      goto out;
    }
    vf->current_vgpu_type = 0;
    vf->mig_gi = 0;
    vf->vfio_cdev = -1;
  } else {
    g_autoptr (GPtrArray) creatable = NULL;
    SimDevice *gpu = sim_device_gpu (vf);
    SimVgpuType *known = NULL;
    gboolean found = FALSE;

    if (vf->current_vgpu_type != 0) {
      r = -EBUSY;
      goto out;
    }
    creatable = sim_vendor_creatable (host, vf);
    for (guint i = 0; i < creatable->len && !found; i++)
      found = ((SimVgpuType *) creatable->pdata[i])->numeric_id == val;
    for (guint i = 0; i < gpu->vgpu->types->len; i++)
      if (((SimVgpuType *) gpu->vgpu->types->pdata[i])->numeric_id == val)
        known = gpu->vgpu->types->pdata[i];
    if (!found) {
      /* the driver fails to make a MIG-backed vGPU without a free GPU
       * instance of its profile with EIO, listed or not (CubeCOS) */
      r = known && known->gi_profile && gpu->mig && gpu->mig->current ? -EIO : -EINVAL;
      goto out;
    }
    if (known && known->gi_profile)
      vf->mig_gi = sim_mig_free_gi (host, gpu, known)->id;
    vf->current_vgpu_type = (guint) val;
    vf->vfio_cdev = sim_vfio_cdev_alloc (host);
  }
out:
  sim_device_unlock (host, vf);
  return r;
}
