/* MIG as NVIDIA's driver keeps it for a GPU: the current and pending
 * mode and the GPU and compute instances (SimMig, see sim-model.h). Not
 * kernel code and not in sysfs: the test NVML (tests/nvml/) is its only
 * client, through .sim/mig, and the kernel side follows it where the two
 * meet (KERNEL-RULES.md, "NVIDIA MIG"):
 *
 *  - a function reset of the GPU (its reset file) makes the pending mode
 *    current, and GPU instances do not survive it;
 *  - enabling VFs wipes the GPU instances (CubeCOS, integrations.md);
 *  - MIG mode off is refused while VFs are enabled, and either change
 *    while vGPUs exist;
 *  - MIG-backed vGPU types (sim-rules-vgpu.c) need a free GPU instance of
 *    their profile, and an instance a vGPU runs on cannot be destroyed.
 *
 * Profiles and placements are the test NVML's business (it knows the GPU
 * models); here a GPU instance is a range of memory slices that must not
 * overlap another, and a compute instance a range of its compute slices.
 *
 *   $ cat .sim/mig
 *   gpu 0000:41:00.0 current=1 pending=1 held=0 vfs=0 vgpus=0 resets=1 slices=8
 *   gi 0000:41:00.0 1 pid=19 profile=1g.10gb start=0 size=1 slices=1 used=-
 *   ci 0000:41:00.0 1 1 pid=0 start=0 size=1
 *   $ echo 'gi-create 0000:41:00.0 19 1g.10gb 0 1 1' > .sim/mig
 */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <string.h>

static void
gi_free (SimMigGi *gi)
{
  g_free (gi->profile);
  g_ptr_array_unref (gi->cis);
  g_free (gi);
}

SimMig *
sim_mig_new (void)
{
  SimMig *mig = g_new0 (SimMig, 1);

  mig->memory_slices = 8;
  mig->gis = g_ptr_array_new_with_free_func ((GDestroyNotify) gi_free);
  return mig;
}

void
sim_mig_free (SimMig *mig)
{
  if (!mig)
    return;
  g_ptr_array_unref (mig->gis);
  g_free (mig);
}

gboolean
sim_host_module_loaded (SimHost *host, const char *name)
{
  for (guint i = 0; host->modules && i < host->modules->len; i++)
    if (g_str_equal (host->modules->pdata[i], name))
      return TRUE;
  return FALSE;
}

static SimMigGi *
find_gi (SimMig *mig, guint id)
{
  for (guint i = 0; i < mig->gis->len; i++)
    if (((SimMigGi *) mig->gis->pdata[i])->id == id)
      return mig->gis->pdata[i];
  return NULL;
}

/* What runs on GPU instance ID of GPU: the VF or mdev parent's address,
 * or NULL. */
static const char *
gi_user (SimHost *host, SimDevice *gpu, guint id)
{
  for (guint i = 0; i < gpu->vfs->len; i++) {
    SimDevice *vf = gpu->vfs->pdata[i];
    if (vf->current_vgpu_type && vf->mig_gi == id)
      return vf->bdf;
  }
  for (guint i = 0; i < host->mdevs->len; i++) {
    SimMdev *mdev = host->mdevs->pdata[i];
    if (sim_device_gpu (mdev->parent) == gpu && mdev->mig_gi == id)
      return mdev->parent->bdf;
  }
  return NULL;
}

static guint
count_vgpus (SimHost *host, SimDevice *gpu)
{
  guint n = 0;

  for (guint i = 0; i < gpu->vfs->len; i++)
    n += ((SimDevice *) gpu->vfs->pdata[i])->current_vgpu_type != 0;
  for (guint i = 0; i < host->mdevs->len; i++)
    n += sim_device_gpu (((SimMdev *) host->mdevs->pdata[i])->parent) == gpu;
  return n;
}

static void
wipe (SimHost *host, SimDevice *gpu)
{
  g_ptr_array_set_size (gpu->mig->gis, 0);
  for (guint i = 0; i < gpu->vfs->len; i++)
    ((SimDevice *) gpu->vfs->pdata[i])->mig_gi = 0;
  for (guint i = 0; i < host->mdevs->len; i++) {
    SimMdev *mdev = host->mdevs->pdata[i];
    if (sim_device_gpu (mdev->parent) == gpu)
      mdev->mig_gi = 0;
  }
  sim_host_changed (host);
}

void
sim_mig_function_reset (SimHost *host, SimDevice *dev)
{
  if (!dev->mig)
    return;
  dev->mig->resets++;
  dev->mig->current = dev->mig->pending;
  wipe (host, dev);
}

void
sim_mig_vfs_enabled (SimHost *host, SimDevice *pf)
{
  if (pf->mig && pf->mig->gis->len)
    wipe (host, pf);
}

gboolean
sim_mig_held (SimHost *host, SimDevice *pf)
{
  return sim_device_host_nodes_held (host, pf) || sim_host_module_loaded (host, "nvidia_drm");
}

SimMigGi *
sim_mig_free_gi (SimHost *host, SimDevice *gpu, SimVgpuType *type)
{
  if (!gpu->mig || !gpu->mig->current || !type->gi_profile)
    return NULL;
  for (guint i = 0; i < gpu->mig->gis->len; i++) {
    SimMigGi *gi = gpu->mig->gis->pdata[i];
    if (g_str_equal (gi->profile, type->gi_profile) && !gi_user (host, gpu, gi->id))
      return gi;
  }
  return NULL;
}

char *
sim_mig_list (SimHost *host)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *dev = host->devices->pdata[i];
    SimMig *mig = dev->mig;
    if (!mig)
      continue;
    g_string_append_printf (s, "gpu %s current=%d pending=%d held=%d vfs=%u vgpus=%u resets=%u slices=%u\n", dev->bdf,
                            mig->current, mig->pending, sim_mig_held (host, dev), dev->vfs->len,
                            count_vgpus (host, dev), mig->resets, mig->memory_slices);
    for (guint j = 0; j < mig->gis->len; j++) {
      SimMigGi *gi = mig->gis->pdata[j];
      const char *user = gi_user (host, dev, gi->id);
      g_string_append_printf (s, "gi %s %u pid=%u profile=%s start=%u size=%u slices=%u used=%s\n", dev->bdf, gi->id,
                              gi->profile_id, gi->profile, gi->start, gi->size, gi->slices, user ? user : "-");
      for (guint k = 0; k < gi->cis->len; k++) {
        SimMigCi *ci = gi->cis->pdata[k];
        g_string_append_printf (s, "ci %s %u %u pid=%u start=%u size=%u\n", dev->bdf, gi->id, ci->id,
                                ci->profile_id, ci->start, ci->size);
      }
    }
  }
  return g_string_free (s, FALSE);
}

static gboolean
parse_uint (const char *word, guint max, guint *out)
{
  guint64 v;

  if (!word || !g_ascii_string_to_unsigned (word, 10, 0, max, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static gint
by_id (gconstpointer a, gconstpointer b)
{
  const SimMigGi *x = *(SimMigGi *const *) a, *y = *(SimMigGi *const *) b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* "mode BDF 0|1": the pending mode. */
static int
command_mode (SimHost *host, SimDevice *gpu, char **w)
{
  guint mode;

  if (!parse_uint (w[2], 1, &mode))
    return -EINVAL;
  if ((gboolean) mode == gpu->mig->pending)
    return 0;
  /* the driver refuses to change the mode under vGPUs, and to turn it
   * off while VFs are enabled (CubeCOS config_gpu.cpp) */
  if (count_vgpus (host, gpu) || (mode == 0 && gpu->vfs->len))
    return -EBUSY;
  gpu->mig->pending = mode;
  sim_host_changed (host);
  return 0;
}

/* "gi-create BDF PROFILE_ID NAME START SIZE SLICES" */
static int
command_gi_create (SimHost *host, SimDevice *gpu, char **w)
{
  SimMig *mig = gpu->mig;
  guint pid, start, size, slices, id = 1;
  SimMigGi *gi;

  if (!parse_uint (w[2], 1000, &pid) || !w[3] || !*w[3] || !parse_uint (w[4], 64, &start) ||
      !parse_uint (w[5], 64, &size) || !parse_uint (w[6], 64, &slices) || size == 0 || w[7])
    return -EINVAL;
  if (!mig->current)
    return -EOPNOTSUPP;
  if (start + size > mig->memory_slices)
    return -EINVAL;
  for (guint i = 0; i < mig->gis->len; i++) {
    SimMigGi *o = mig->gis->pdata[i];
    if (start < o->start + o->size && o->start < start + size)
      return -ENOSPC;
  }
  while (find_gi (mig, id))
    id++;
  gi = g_new0 (SimMigGi, 1);
  gi->id = id;
  gi->profile_id = pid;
  gi->profile = g_strdup (w[3]);
  gi->start = start;
  gi->size = size;
  gi->slices = slices;
  gi->cis = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (mig->gis, gi);
  g_ptr_array_sort (mig->gis, by_id);
  sim_host_changed (host);
  return 0;
}

/* "gi-destroy BDF ID": EBUSY while it has compute instances or a vGPU runs on it. */
static int
command_gi_destroy (SimHost *host, SimDevice *gpu, char **w)
{
  guint id;
  SimMigGi *gi;

  if (!parse_uint (w[2], G_MAXUINT, &id) || w[3])
    return -EINVAL;
  gi = find_gi (gpu->mig, id);
  if (!gi)
    return -ENOENT;
  if (gi->cis->len || gi_user (host, gpu, id))
    return -EBUSY;
  g_ptr_array_remove (gpu->mig->gis, gi);
  sim_host_changed (host);
  return 0;
}

/* "ci-create BDF GI PROFILE_ID START SIZE" */
static int
command_ci_create (SimHost *host, SimDevice *gpu, char **w)
{
  guint giid, pid, start, size, id = 0;
  SimMigGi *gi;
  SimMigCi *ci;
  gboolean taken;

  if (!parse_uint (w[2], G_MAXUINT, &giid) || !parse_uint (w[3], 1000, &pid) || !parse_uint (w[4], 64, &start) ||
      !parse_uint (w[5], 64, &size) || size == 0 || w[6])
    return -EINVAL;
  gi = find_gi (gpu->mig, giid);
  if (!gi)
    return -ENOENT;
  if (start + size > gi->slices)
    return -EINVAL;
  for (guint i = 0; i < gi->cis->len; i++) {
    SimMigCi *o = gi->cis->pdata[i];
    if (start < o->start + o->size && o->start < start + size)
      return -ENOSPC;
  }
  do {
    taken = FALSE;
    for (guint i = 0; i < gi->cis->len; i++)
      taken |= ((SimMigCi *) gi->cis->pdata[i])->id == id;
  } while (taken && ++id);
  ci = g_new0 (SimMigCi, 1);
  ci->id = id;
  ci->profile_id = pid;
  ci->start = start;
  ci->size = size;
  g_ptr_array_add (gi->cis, ci);
  sim_host_changed (host);
  return 0;
}

/* "ci-destroy BDF GI CI" */
static int
command_ci_destroy (SimHost *host, SimDevice *gpu, char **w)
{
  guint giid, ciid;
  SimMigGi *gi;

  if (!parse_uint (w[2], G_MAXUINT, &giid) || !parse_uint (w[3], G_MAXUINT, &ciid) || w[4])
    return -EINVAL;
  gi = find_gi (gpu->mig, giid);
  if (!gi)
    return -ENOENT;
  for (guint i = 0; i < gi->cis->len; i++)
    if (((SimMigCi *) gi->cis->pdata[i])->id == ciid) {
      g_ptr_array_remove_index (gi->cis, i);
      sim_host_changed (host);
      return 0;
    }
  return -ENOENT;
}

int
sim_mig_command (SimHost *host, const char *line)
{
  g_autofree char *copy = g_strstrip (g_strdup (line));
  g_auto (GStrv) w = g_strsplit_set (copy, " \t", -1);
  SimDevice *gpu;
  guint n = 0;

  /* several blanks in a row are one separator */
  for (guint i = 0; w[i]; i++) {
    if (*w[i])
      w[n++] = w[i];
    else
      g_free (w[i]);
  }
  w[n] = NULL;

  if (!w[0] || !w[1])
    return -EINVAL;
  gpu = sim_host_find_device (host, w[1]);
  if (!gpu || gpu->removed)
    return -ENODEV;
  if (!gpu->mig)
    return -EOPNOTSUPP;
  if (g_str_equal (w[0], "mode"))
    return command_mode (host, gpu, w);
  if (g_str_equal (w[0], "gi-create"))
    return command_gi_create (host, gpu, w);
  if (g_str_equal (w[0], "gi-destroy"))
    return command_gi_destroy (host, gpu, w);
  if (g_str_equal (w[0], "ci-create"))
    return command_ci_create (host, gpu, w);
  if (g_str_equal (w[0], "ci-destroy"))
    return command_ci_destroy (host, gpu, w);
  return -EINVAL;
}
