/* Reading a GPU's MIG state through NVML: mode, profiles with their
 * placements and what is free, GPU and compute instances. */
#include "mig/internal.h"

#include <string.h>

static void
profile_free (GvMigProfile *p)
{
  g_free (p->name);
  g_array_unref (p->placements);
  g_free (p);
}

static void
instance_free (GvMigInstance *in)
{
  g_free (in->profile);
  g_array_unref (in->compute);
  g_free (in);
}

void
gv_mig_gpu_free (GvMigGpu *gpu)
{
  if (!gpu)
    return;
  g_free (gpu->bdf);
  g_free (gpu->name);
  g_ptr_array_unref (gpu->profiles);
  g_ptr_array_unref (gpu->instances);
  g_free (gpu);
}

gboolean
gv_mig_device (GvMigTask *task, const char *bdf, GvMigNvmlDevice *device, GError **error)
{
  GvMigNvmlReturn r = GV_MIG_CALL (task, nvmlDeviceGetHandleByPciBusId_v2, bdf, device);

  if (r == GV_MIG_NVML_ERROR_NOT_FOUND) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "NVML does not see %s: it is not on the nvidia driver", bdf);
    return FALSE;
  }
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceGetHandleByPciBusId", bdf);
    return FALSE;
  }
  return TRUE;
}

static gint
by_id (gconstpointer a, gconstpointer b)
{
  const GvMigInstance *x = *(GvMigInstance *const *) a, *y = *(GvMigInstance *const *) b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* The compute instances of IN, every compute profile asked. */
static gboolean
read_compute (GvMigTask *task, GvMigNvmlGpuInstance handle, GvMigInstance *in, const char *bdf, GError **error)
{
  for (guint index = GV_MIG_NVML_CI_PROFILE_1_SLICE; index <= GV_MIG_NVML_CI_PROFILE_6_SLICE; index++) {
    GvMigNvmlComputeInstanceProfileInfo info = { 0 };
    GvMigNvmlComputeInstance cis[8];
    guint n = 0;
    GvMigNvmlReturn r = GV_MIG_CALL (task, nvmlGpuInstanceGetComputeInstanceProfileInfo, handle, index,
                                     GV_MIG_NVML_CI_ENGINE_PROFILE_SHARED, &info);

    if (r == GV_MIG_NVML_ERROR_NOT_SUPPORTED || r == GV_MIG_NVML_ERROR_INVALID_ARGUMENT)
      continue;
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetComputeInstanceProfileInfo", bdf);
      return FALSE;
    }
    r = GV_MIG_CALL (task, nvmlGpuInstanceGetComputeInstances, handle, info.id, cis, &n);
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetComputeInstances", bdf);
      return FALSE;
    }
    for (guint i = 0; i < n && i < G_N_ELEMENTS (cis); i++) {
      GvMigNvmlComputeInstanceInfo ci = { 0 };
      GvMigComputeInstance out;
      r = GV_MIG_CALL (task, nvmlComputeInstanceGetInfo_v2, cis[i], &ci);
      if (r != GV_MIG_NVML_SUCCESS) {
        gv_mig_nvml_error (task, error, r, "nvmlComputeInstanceGetInfo", bdf);
        return FALSE;
      }
      out = (GvMigComputeInstance) { ci.id, ci.profileId, ci.placement.start, ci.placement.size };
      g_array_append_val (in->compute, out);
    }
  }
  return TRUE;
}

/* Each profile the GPU has: NVML is asked for every index it may know
 * (unsupported ones answer NOT_SUPPORTED, the end INVALID_ARGUMENT). The
 * non-versioned query answers in either mode, so a GPU's profiles are
 * known before MIG mode is on. */
static gboolean
read_profiles (GvMigTask *task, GvMigNvmlDevice device, GvMigGpu *gpu, GError **error)
{
  for (guint index = 0; index < GV_MIG_NVML_GI_PROFILE_SCAN; index++) {
    GvMigNvmlGpuInstanceProfileInfo info = { 0 };
    g_autofree GvMigNvmlPlacement *placements = NULL;
    GvMigProfile *p;
    guint n = 0;
    GvMigNvmlReturn r = GV_MIG_CALL (task, nvmlDeviceGetGpuInstanceProfileInfo, device, index, &info);

    if (r == GV_MIG_NVML_ERROR_INVALID_ARGUMENT)
      break;
    if (r == GV_MIG_NVML_ERROR_NOT_SUPPORTED)
      continue;
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlDeviceGetGpuInstanceProfileInfo", gpu->bdf);
      return FALSE;
    }
    p = g_new0 (GvMigProfile, 1);
    g_ptr_array_add (gpu->profiles, p);
    p->index = index;
    p->id = info.id;
    p->slices = info.sliceCount;
    p->max = info.instanceCount;
    p->memory_mb = info.memorySizeMB;
    p->multiprocessors = info.multiprocessorCount;
    p->copy_engines = info.copyEngineCount;
    p->decoders = info.decoderCount;
    p->encoders = info.encoderCount;
    p->jpegs = info.jpegCount;
    p->ofas = info.ofaCount;
    p->name = gv_mig_profile_name (index, info.sliceCount, info.memorySizeMB, gpu->memory_mb);
    p->placements = g_array_new (FALSE, TRUE, sizeof (GvMigPlacement));
    r = GV_MIG_CALL (task, nvmlDeviceGetGpuInstancePossiblePlacements_v2, device, info.id, NULL, &n);
    if (r == GV_MIG_NVML_SUCCESS && n > 0) {
      placements = g_new0 (GvMigNvmlPlacement, n);
      r = GV_MIG_CALL (task, nvmlDeviceGetGpuInstancePossiblePlacements_v2, device, info.id, placements, &n);
    }
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlDeviceGetGpuInstancePossiblePlacements", gpu->bdf);
      return FALSE;
    }
    for (guint i = 0; i < n; i++) {
      GvMigPlacement pl = { placements[i].start, placements[i].size };
      g_array_append_val (p->placements, pl);
    }
    if (gpu->current) {
      r = GV_MIG_CALL (task, nvmlDeviceGetGpuInstanceRemainingCapacity, device, info.id, &p->free);
      if (r != GV_MIG_NVML_SUCCESS) {
        gv_mig_nvml_error (task, error, r, "nvmlDeviceGetGpuInstanceRemainingCapacity", gpu->bdf);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static gboolean
read_instances (GvMigTask *task, GvMigNvmlDevice device, GvMigGpu *gpu, GError **error)
{
  for (guint i = 0; i < gpu->profiles->len; i++) {
    const GvMigProfile *p = gpu->profiles->pdata[i];
    g_autofree GvMigNvmlGpuInstance *handles = g_new0 (GvMigNvmlGpuInstance, MAX (p->max, 1));
    guint n = 0;
    GvMigNvmlReturn r = GV_MIG_CALL (task, nvmlDeviceGetGpuInstances, device, p->id, handles, &n);

    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlDeviceGetGpuInstances", gpu->bdf);
      return FALSE;
    }
    for (guint j = 0; j < n && j < MAX (p->max, 1); j++) {
      GvMigNvmlGpuInstanceInfo info = { 0 };
      GvMigInstance *in;
      r = GV_MIG_CALL (task, nvmlGpuInstanceGetInfo, handles[j], &info);
      if (r != GV_MIG_NVML_SUCCESS) {
        gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetInfo", gpu->bdf);
        return FALSE;
      }
      in = g_new0 (GvMigInstance, 1);
      g_ptr_array_add (gpu->instances, in);
      in->id = info.id;
      in->profile_id = info.profileId;
      in->profile = g_strdup (p->name);
      in->placement = (GvMigPlacement) { info.placement.start, info.placement.size };
      in->compute = g_array_new (FALSE, TRUE, sizeof (GvMigComputeInstance));
      if (!read_compute (task, handles[j], in, gpu->bdf, error))
        return FALSE;
    }
  }
  g_ptr_array_sort (gpu->instances, by_id);
  return TRUE;
}

GvMigGpu *
gv_mig_gpu_read_in (GvMigTask *task, const char *bdf, GError **error)
{
  g_autoptr (GvMigGpu) gpu = g_new0 (GvMigGpu, 1);
  GvMigNvmlDevice device = NULL;
  GvMigNvmlMemory memory = { 0 };
  char name[GV_MIG_NVML_BUFFER_SIZE] = "";
  unsigned int current = 0, pending = 0;
  GvMigNvmlReturn r;

  gpu->bdf = g_strdup (bdf);
  gpu->profiles = g_ptr_array_new_with_free_func ((GDestroyNotify) profile_free);
  gpu->instances = g_ptr_array_new_with_free_func ((GDestroyNotify) instance_free);
  if (!gv_mig_device (task, bdf, &device, error))
    return NULL;
  r = GV_MIG_CALL (task, nvmlDeviceGetMigMode, device, &current, &pending);
  if (r == GV_MIG_NVML_ERROR_NOT_SUPPORTED) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s has no MIG (NVML: not supported)", bdf);
    return NULL;
  }
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceGetMigMode", bdf);
    return NULL;
  }
  gpu->current = current == GV_MIG_NVML_MIG_ENABLE;
  gpu->pending = pending == GV_MIG_NVML_MIG_ENABLE;
  r = GV_MIG_CALL (task, nvmlDeviceGetName, device, name, sizeof name);
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceGetName", bdf);
    return NULL;
  }
  gpu->name = g_strdup (name);
  r = GV_MIG_CALL (task, nvmlDeviceGetMemoryInfo, device, &memory);
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceGetMemoryInfo", bdf);
    return NULL;
  }
  gpu->memory_mb = memory.total >> 20;
  if (!read_profiles (task, device, gpu, error))
    return NULL;
  if (gpu->current && !read_instances (task, device, gpu, error))
    return NULL;
  return g_steal_pointer (&gpu);
}

typedef struct {
  char *bdf;
  GvMigGpu *gpu;
} ReadData;

static void
read_data_clear (gpointer p)
{
  ReadData *d = p;
  g_free (d->bdf);
  gv_mig_gpu_free (d->gpu);
}

static void
read_data_unref (gpointer p)
{
  g_atomic_rc_box_release_full (p, read_data_clear);
}

static gboolean
read_task (GvMigTask *task, gpointer data, GError **error)
{
  ReadData *d = data;
  d->gpu = gv_mig_gpu_read_in (task, d->bdf, error);
  return d->gpu != NULL;
}

GvMigGpu *
gv_mig_gpu_read (GvMigNvml *nvml, const char *bdf, guint timeout_ms, GError **error)
{
  ReadData *d = g_atomic_rc_box_new0 (ReadData);
  GvMigGpu *gpu = NULL;

  d->bdf = g_strdup (bdf);
  if (gv_mig_run (nvml, timeout_ms, read_task, g_atomic_rc_box_acquire (d), read_data_unref, error))
    gpu = g_steal_pointer (&d->gpu);
  read_data_unref (d);
  return gpu;
}

const GvMigProfile *
gv_mig_gpu_find_profile (const GvMigGpu *gpu, const char *name)
{
  guint64 id;
  gboolean by_id = name && g_ascii_string_to_unsigned (name, 10, 0, G_MAXUINT, &id, NULL);

  for (guint i = 0; gpu && name && i < gpu->profiles->len; i++) {
    const GvMigProfile *p = gpu->profiles->pdata[i];
    if (by_id ? p->id == id : g_ascii_strcasecmp (p->name, name) == 0)
      return p;
  }
  return NULL;
}

char *
gv_mig_gpu_profile_names (const GvMigGpu *gpu)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < gpu->profiles->len; i++)
    g_string_append_printf (out, "%s%s", i ? ", " : "", ((GvMigProfile *) gpu->profiles->pdata[i])->name);
  return g_string_free (out, FALSE);
}

gboolean
gv_mig_gpu_equal (const GvMigGpu *a, const GvMigGpu *b)
{
  if (!a || !b)
    return a == b;
  if (a->current != b->current || a->pending != b->pending || a->profiles->len != b->profiles->len ||
      a->instances->len != b->instances->len)
    return FALSE;
  for (guint i = 0; i < a->profiles->len; i++)
    if (((GvMigProfile *) a->profiles->pdata[i])->free != ((GvMigProfile *) b->profiles->pdata[i])->free)
      return FALSE;
  for (guint i = 0; i < a->instances->len; i++) {
    const GvMigInstance *x = a->instances->pdata[i], *y = b->instances->pdata[i];
    if (x->id != y->id || x->profile_id != y->profile_id || x->placement.start != y->placement.start ||
        x->compute->len != y->compute->len)
      return FALSE;
  }
  return TRUE;
}
