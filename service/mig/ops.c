/* Changing MIG: the mode (with the function reset that makes it current),
 * GPU instances made and destroyed, and a whole layout, each change of
 * instances a transaction: the instances as they were journaled before
 * the first change, put back when a step fails, and at the next start
 * when gpuvirtd was killed in the middle. */
#include "mig/internal.h"
#include "sysfs/read.h"
#include "sysfs/write.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_MS 10000

/* ---- who would lose the GPU to a reset ---- */

gboolean
gv_mig_check_reset (GvHost *host, GvHostDevice *gpu, GError **error)
{
  const char *root = gv_host_get_root (host);
  g_autofree char *modules = g_build_filename (root, "sys", "module", NULL);
  g_autoptr (GPtrArray) holders = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) who = g_string_new (NULL);
  GPtrArray *mdevs = gv_host_get_mdevs (host);

  /* vGPUs on its VFs would vanish under their virtual machines */
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (host, gpu->fn->vfs[i]);
    if (vf && vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type) {
      g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "%s carries vGPU type %u: a reset of %s would take it away; "
                   "remove the GPU's vGPUs first", vf->fn->bdf, vf->fn->vendor_vfio->current_type, gpu->fn->bdf);
      return FALSE;
    }
  }
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    GvHostDevice *parent = gv_host_lookup (host, m->parent);
    if (g_str_equal (m->parent, gpu->fn->bdf) || (parent && g_strcmp0 (parent->fn->physfn, gpu->fn->bdf) == 0)) {
      g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "mdev %s lives on %s: a reset of %s would take it away; remove "
                   "the GPU's vGPUs first", m->uuid, m->parent, gpu->fn->bdf);
      return FALSE;
    }
  }
  holders = gv_host_get_holders (host, gpu->fn->bdf, &local);
  if (!holders) {
    g_set_error (error, GV_ERROR, GV_ERROR_FAILED, "Could not read who holds %s: %s", gpu->fn->bdf, local->message);
    return FALSE;
  }
  for (guint i = 0; i < holders->len; i++) {
    const GvHostHolder *h = holders->pdata[i];
    g_autofree char *name = gv_host_holder_name (root, h);
    g_string_append_printf (who, "%s%s (pid %d) has %s open", who->len ? "; " : "", name, h->pid, h->node);
  }
  if (gv_sysfs_path_exists (modules, "nvidia_drm"))
    g_string_append_printf (who, "%sthe nvidia_drm module is loaded (it holds every NVIDIA GPU: sudo modprobe -r "
                            "nvidia_drm, after stopping the display manager)", who->len ? "; " : "");
  if (who->len) {
    g_set_error (error, GV_ERROR, GV_ERROR_HELD, "%s cannot be reset while it is held: %s", gpu->fn->bdf, who->str);
    return FALSE;
  }
  return TRUE;
}

void
gv_mig_mode_outcome_clear (GvMigModeOutcome *outcome)
{
  g_clear_pointer (&outcome->message, g_free);
}

/* ---- the mode ---- */

typedef struct {
  char *bdf;
  char *root;
  guint timeout_ms;
  gboolean enable, reset;
  GvMigModeOutcome out;
} ModeData;

static void
mode_clear (gpointer p)
{
  ModeData *d = p;
  g_free (d->bdf);
  g_free (d->root);
  gv_mig_mode_outcome_clear (&d->out);
}

static void
mode_unref (gpointer p)
{
  g_atomic_rc_box_release_full (p, mode_clear);
}

static gboolean
get_mode (GvMigTask *task, GvMigNvmlDevice device, const char *bdf, unsigned int *current, unsigned int *pending,
          GError **error)
{
  GvMigNvmlReturn r = GV_MIG_CALL (task, nvmlDeviceGetMigMode, device, current, pending);

  if (r == GV_MIG_NVML_ERROR_NOT_SUPPORTED) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s has no MIG (NVML: not supported)", bdf);
    return FALSE;
  }
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceGetMigMode", bdf);
    return FALSE;
  }
  return TRUE;
}

/* Writes 1 to the function's reset (bounded); 0 or an error. */
static gboolean
reset_function (ModeData *d, GError **error)
{
  g_autofree char *rel = g_build_filename ("sys", "bus", "pci", "devices", d->bdf, "reset", NULL);
  g_autofree char *text = NULL;
  int result = 0;

  if (!gv_sysfs_root_check (d->root, error))
    return FALSE;
  if (gv_sysfs_write (d->root, rel, "1", d->timeout_ms ? d->timeout_ms : DEFAULT_MS, &result, NULL, NULL, NULL) ==
      GV_SYSFS_WRITE_TIMEOUT) {
    g_set_error (error, GV_ERROR, GV_ERROR_STUCK, "the reset of %s did not return in time", d->bdf);
    return FALSE;
  }
  if (result == 0)
    return TRUE;
  text = gv_sysfs_errno_text (-result);
  if (result == -ENOENT || result == -ENOTTY)
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s cannot be reset through sysfs (%s: no reset method "
                 "applies; its reset_method lists them)", d->bdf, text);
  else
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "resetting %s failed: %s", d->bdf, text);
  return FALSE;
}

static gboolean
mode_task (GvMigTask *task, gpointer data, GError **error)
{
  ModeData *d = data;
  GvMigNvmlDevice device = NULL;
  unsigned int current = 0, pending = 0, want = d->enable ? GV_MIG_NVML_MIG_ENABLE : GV_MIG_NVML_MIG_DISABLE;
  GvMigNvmlReturn activation = GV_MIG_NVML_SUCCESS, r;
  const char *what = d->enable ? "on" : "off";
  g_autoptr (GError) reset_error = NULL;

  if (!gv_mig_device (task, d->bdf, &device, error) || !get_mode (task, device, d->bdf, &current, &pending, error))
    return FALSE;
  if (current == want && pending == want) {
    d->out.current = TRUE;
    d->out.message = g_strdup_printf ("MIG mode is %s already", what);
    return TRUE;
  }
  if (pending != want) {
    r = GV_MIG_CALL (task, nvmlDeviceSetMigMode, device, want, &activation);
    if (r == GV_MIG_NVML_ERROR_IN_USE) {
      g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "NVML refuses MIG mode %s on %s while it has %s", what, d->bdf,
                   d->enable ? "vGPUs" : "VFs or vGPUs (disable its VFs first)");
      return FALSE;
    }
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlDeviceSetMigMode", d->bdf);
      return FALSE;
    }
    d->out.changed = TRUE;
    if (!get_mode (task, device, d->bdf, &current, &pending, error)) {
      g_prefix_error (error, "MIG mode %s was set pending on %s (it takes effect at the next reset of the GPU or "
                      "boot), then: ", what, d->bdf);
      return FALSE;
    }
    if (current == want) {
      d->out.current = TRUE;
      d->out.message = g_strdup_printf ("MIG mode %s (NVML made it current)", what);
      return TRUE;
    }
  }
  if (!d->reset) {
    d->out.message = g_strdup_printf ("MIG mode %s is pending on %s: it takes effect at the next reset of the GPU or "
                                      "boot%s", what, d->bdf,
                                      activation == GV_MIG_NVML_ERROR_IN_USE ? " (NVML: the GPU is in use)" : "");
    return TRUE;
  }
  d->out.changed = TRUE;
  if (!reset_function (d, &reset_error)) {
    g_set_error (error, reset_error->domain, reset_error->code, "MIG mode %s is pending on %s, but %s; it takes "
                 "effect at the next boot", what, d->bdf, reset_error->message);
    return FALSE;
  }
  d->out.reset = TRUE;
  if (!get_mode (task, device, d->bdf, &current, &pending, error)) {
    g_prefix_error (error, "%s was reset for MIG mode %s, which should be current now, then: ", d->bdf, what);
    return FALSE;
  }
  if (current != want) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "%s was reset, but its MIG mode is still %s (pending %s); it "
                 "takes effect at the next boot", d->bdf, current ? "on" : "off", pending ? "on" : "off");
    return FALSE;
  }
  d->out.current = TRUE;
  d->out.message = g_strdup_printf ("MIG mode %s, current after a function reset of %s", what, d->bdf);
  return TRUE;
}

gboolean
gv_mig_set_mode (const GvMigContext *ctx, const char *bdf, gboolean enable, gboolean reset, GvMigModeOutcome *outcome,
                 GError **error)
{
  ModeData *d = g_atomic_rc_box_new0 (ModeData);
  gboolean ok;

  d->bdf = g_strdup (bdf);
  d->root = g_strdup (ctx->root);
  d->timeout_ms = ctx->timeout_ms;
  d->enable = enable;
  d->reset = reset;
  ok = gv_mig_run (ctx->nvml, ctx->timeout_ms, mode_task, g_atomic_rc_box_acquire (d), mode_unref, error);
  if (ok && outcome) {
    *outcome = d->out;
    memset (&d->out, 0, sizeof d->out);
  }
  mode_unref (d);
  return ok;
}

/* ---- layouts as journaled: "19@0+1:0;9@4+4" (profile id @ start + size :
 * compute profile ids, "/"-separated) ---- */

static char *
layout_text (const GvMigGpu *gpu)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < gpu->instances->len; i++) {
    const GvMigInstance *in = gpu->instances->pdata[i];
    g_string_append_printf (out, "%s%u@%u+%u", i ? ";" : "", in->profile_id, in->placement.start,
                            in->placement.size);
    for (guint j = 0; j < in->compute->len; j++)
      g_string_append_printf (out, "%c%u", j ? '/' : ':', g_array_index (in->compute, GvMigComputeInstance, j).profile_id);
  }
  return g_string_free (out, FALSE);
}

typedef struct {
  guint profile_id;
  GvMigPlacement placement;
  GArray *compute;   /* guint profile ids */
} Entry;

static void
entry_clear (Entry *e)
{
  g_clear_pointer (&e->compute, g_array_unref);
}

static GArray *
layout_parse (const char *text)
{
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_auto (GStrv) items = g_strsplit (text ? text : "", ";", -1);

  g_array_set_clear_func (entries, (GDestroyNotify) entry_clear);
  for (guint i = 0; items[i]; i++) {
    Entry e = { 0 };
    char *colon = strchr (items[i], ':');
    if (!*items[i])
      continue;
    if (colon)
      *colon = '\0';
    if (sscanf (items[i], "%u@%u+%u", &e.profile_id, &e.placement.start, &e.placement.size) != 3)
      continue;
    e.compute = g_array_new (FALSE, FALSE, sizeof (guint));
    if (colon) {
      g_auto (GStrv) cis = g_strsplit (colon + 1, "/", -1);
      for (guint j = 0; cis[j]; j++) {
        guint id = (guint) g_ascii_strtoull (cis[j], NULL, 10);
        g_array_append_val (e.compute, id);
      }
    }
    g_array_append_val (entries, e);
  }
  return entries;
}

static char *
journal_begin (const GvMigContext *ctx, const GvMigGpu *gpu, const char *operation, GError **error)
{
  g_autoptr (GKeyFile) data = g_key_file_new ();
  g_autofree char *layout = layout_text (gpu);

  if (!ctx->journal)
    return g_strdup ("");
  g_key_file_set_string (data, "Transaction", "Operation", operation);
  g_key_file_set_string (data, "Layout", "Instances", layout);
  return gv_journal_begin (ctx->journal, GV_MIG_JOURNAL_KIND, gpu->bdf, data, error);
}

static void
journal_end (const GvMigContext *ctx, const char *id)
{
  g_autoptr (GError) error = NULL;

  if (ctx->journal && id && *id && !gv_journal_end (ctx->journal, id, &error))
    g_warning ("%s", error->message);
}

/* ---- making and destroying, inside a task ---- */

/* The handle of instance ID (of profile PROFILE_ID), or NULL. */
static GvMigNvmlGpuInstance
instance_handle (GvMigTask *task, GvMigNvmlDevice device, const GvMigGpu *gpu, guint profile_id, guint id,
                 GError **error)
{
  const GvMigProfile *p = NULL;
  g_autofree GvMigNvmlGpuInstance *handles = NULL;
  guint n = 0;
  GvMigNvmlReturn r;

  for (guint i = 0; i < gpu->profiles->len && !p; i++)
    if (((GvMigProfile *) gpu->profiles->pdata[i])->id == profile_id)
      p = gpu->profiles->pdata[i];
  if (!p) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s has no profile id %u", gpu->bdf, profile_id);
    return NULL;
  }
  handles = g_new0 (GvMigNvmlGpuInstance, MAX (p->max, 1));
  r = GV_MIG_CALL (task, nvmlDeviceGetGpuInstances, device, profile_id, handles, &n);
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceGetGpuInstances", gpu->bdf);
    return NULL;
  }
  for (guint i = 0; i < n && i < MAX (p->max, 1); i++) {
    GvMigNvmlGpuInstanceInfo info = { 0 };
    r = GV_MIG_CALL (task, nvmlGpuInstanceGetInfo, handles[i], &info);
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetInfo", gpu->bdf);
      return NULL;
    }
    if (info.id == id)
      return handles[i];
  }
  g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "%s has no GPU instance %u", gpu->bdf, id);
  return NULL;
}

/* A compute instance of CI_PROFILE (an id; G_MAXUINT: the one over all of
 * the instance's SLICES) in HANDLE. */
static gboolean
make_compute (GvMigTask *task, GvMigNvmlGpuInstance handle, const char *bdf, guint slices, guint ci_profile,
              GError **error)
{
  GvMigNvmlComputeInstance ci = NULL;
  GvMigNvmlReturn r;

  if (ci_profile == G_MAXUINT) {
    for (guint index = GV_MIG_NVML_CI_PROFILE_1_SLICE; index <= GV_MIG_NVML_CI_PROFILE_6_SLICE; index++) {
      GvMigNvmlComputeInstanceProfileInfo info = { 0 };
      r = GV_MIG_CALL (task, nvmlGpuInstanceGetComputeInstanceProfileInfo, handle, index,
                       GV_MIG_NVML_CI_ENGINE_PROFILE_SHARED, &info);
      if (r == GV_MIG_NVML_ERROR_NOT_SUPPORTED || r == GV_MIG_NVML_ERROR_INVALID_ARGUMENT)
        continue;
      if (r != GV_MIG_NVML_SUCCESS) {
        gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetComputeInstanceProfileInfo", bdf);
        return FALSE;
      }
      if (info.sliceCount == slices)
        ci_profile = info.id;
    }
    if (ci_profile == G_MAXUINT) {
      g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s offers no compute instance over all %u slices of a "
                   "GPU instance", bdf, slices);
      return FALSE;
    }
  }
  r = GV_MIG_CALL (task, nvmlGpuInstanceCreateComputeInstance, handle, ci_profile, &ci);
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceCreateComputeInstance", bdf);
    return FALSE;
  }
  return TRUE;
}

/* A GPU instance of PROFILE_ID at PLACEMENT, with the compute instances
 * COMPUTE (profile ids; NULL: none) or, with FULL_COMPUTE, one over it all.
 * *ID gets its id. */
static gboolean
make_instance (GvMigTask *task, GvMigNvmlDevice device, const GvMigGpu *gpu, guint profile_id,
               GvMigPlacement placement, GArray *compute, gboolean full_compute, guint *id, GError **error)
{
  GvMigNvmlPlacement pl = { placement.start, placement.size };
  GvMigNvmlGpuInstance handle = NULL;
  GvMigNvmlGpuInstanceInfo info = { 0 };
  const GvMigProfile *p = NULL;
  g_autofree char *what = NULL;
  GvMigNvmlReturn r;

  for (guint i = 0; i < gpu->profiles->len && !p; i++)
    if (((GvMigProfile *) gpu->profiles->pdata[i])->id == profile_id)
      p = gpu->profiles->pdata[i];
  what = g_strdup_printf ("%s, %s at memory slice %u", gpu->bdf, p ? p->name : "?", placement.start);
  r = GV_MIG_CALL (task, nvmlDeviceCreateGpuInstanceWithPlacement, device, profile_id, &pl, &handle);
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlDeviceCreateGpuInstanceWithPlacement", what);
    return FALSE;
  }
  r = GV_MIG_CALL (task, nvmlGpuInstanceGetInfo, handle, &info);
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetInfo", what);
    return FALSE;
  }
  *id = info.id;
  if (full_compute && !make_compute (task, handle, gpu->bdf, p ? p->slices : 1, G_MAXUINT, error))
    return FALSE;
  for (guint i = 0; compute && i < compute->len; i++)
    if (!make_compute (task, handle, gpu->bdf, 0, g_array_index (compute, guint, i), error))
      return FALSE;
  return TRUE;
}

/* Destroys instance IN, its compute instances first. */
static gboolean
destroy_instance (GvMigTask *task, GvMigNvmlDevice device, const GvMigGpu *gpu, const GvMigInstance *in,
                  GError **error)
{
  GvMigNvmlGpuInstance handle = instance_handle (task, device, gpu, in->profile_id, in->id, error);
  g_autofree char *what = g_strdup_printf ("%s, GPU instance %u (%s)", gpu->bdf, in->id, in->profile);
  GvMigNvmlReturn r;

  if (!handle)
    return FALSE;
  for (guint j = 0; j < in->compute->len; j++) {
    const GvMigComputeInstance *c = &g_array_index (in->compute, GvMigComputeInstance, j);
    GvMigNvmlComputeInstance cis[8];
    guint n = 0;
    r = GV_MIG_CALL (task, nvmlGpuInstanceGetComputeInstances, handle, c->profile_id, cis, &n);
    if (r != GV_MIG_NVML_SUCCESS) {
      gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceGetComputeInstances", what);
      return FALSE;
    }
    for (guint k = 0; k < n && k < G_N_ELEMENTS (cis); k++) {
      GvMigNvmlComputeInstanceInfo info = { 0 };
      r = GV_MIG_CALL (task, nvmlComputeInstanceGetInfo_v2, cis[k], &info);
      if (r == GV_MIG_NVML_SUCCESS && info.id == c->id)
        r = GV_MIG_CALL (task, nvmlComputeInstanceDestroy, cis[k]);
      if (r != GV_MIG_NVML_SUCCESS) {
        gv_mig_nvml_error (task, error, r, "nvmlComputeInstanceDestroy", what);
        return FALSE;
      }
    }
  }
  r = GV_MIG_CALL (task, nvmlGpuInstanceDestroy, handle);
  if (r == GV_MIG_NVML_ERROR_IN_USE) {
    g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "GPU instance %u (%s) of %s is in use (a vGPU runs on it, or its "
                 "compute instances do): NVML refuses to destroy it", in->id, in->profile, gpu->bdf);
    return FALSE;
  }
  if (r != GV_MIG_NVML_SUCCESS) {
    gv_mig_nvml_error (task, error, r, "nvmlGpuInstanceDestroy", what);
    return FALSE;
  }
  return TRUE;
}

/* "1g.10gb at 0 (id 3), 3g.40gb at 4 (id 2)", or "none" */
static char *
instances_text (const GvMigGpu *gpu)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; gpu && i < gpu->instances->len; i++) {
    const GvMigInstance *in = gpu->instances->pdata[i];
    g_string_append_printf (out, "%s%s at %u (id %u)", i ? ", " : "", in->profile, in->placement.start, in->id);
  }
  if (!out->len)
    g_string_append (out, "none");
  return g_string_free (out, FALSE);
}

/* The compute instances of E that IN lacks, made again. */
static gboolean
restore_compute (GvMigTask *task, GvMigNvmlDevice device, const GvMigGpu *gpu, const GvMigInstance *in,
                 const Entry *e, GString *report, GError **error)
{
  GvMigNvmlGpuInstance handle = NULL;

  for (guint k = 0; k < e->compute->len; k++) {
    guint pid = g_array_index (e->compute, guint, k), want = 0, have = 0;
    for (guint m = 0; m < e->compute->len; m++)
      want += g_array_index (e->compute, guint, m) == pid;
    for (guint m = 0; m < in->compute->len; m++)
      have += g_array_index (in->compute, GvMigComputeInstance, m).profile_id == pid;
    /* once per profile id, for all that are missing */
    if (have >= want || g_array_index (e->compute, guint, 0) != pid)
      continue;
    if (!handle && !(handle = instance_handle (task, device, gpu, in->profile_id, in->id, error)))
      return FALSE;
    for (; have < want; have++) {
      if (!make_compute (task, handle, gpu->bdf, 0, pid, error))
        return FALSE;
      g_string_append_printf (report, "%smade a compute instance of %s at %u again", report->len ? ", " : "",
                              in->profile, in->placement.start);
    }
  }
  return TRUE;
}

/* Takes the GPU to the instances of LAYOUT (journal text): those not in it
 * destroyed, the missing ones made where they were. REPORT gets what was
 * done. */
static gboolean
restore (GvMigTask *task, const char *bdf, const char *layout, GString *report, GError **error)
{
  g_autoptr (GvMigGpu) gpu = gv_mig_gpu_read_in (task, bdf, error);
  g_autoptr (GArray) want = layout_parse (layout);
  GvMigNvmlDevice device = NULL;

  if (!gpu || !gv_mig_device (task, bdf, &device, error))
    return FALSE;
  if (!gpu->current) {
    g_string_append_printf (report, "%sMIG mode is off now (the GPU was reset): no instances to put back",
                            report->len ? "; " : "");
    return TRUE;
  }
  for (guint i = 0; i < gpu->instances->len; i++) {
    const GvMigInstance *in = gpu->instances->pdata[i];
    gboolean wanted = FALSE;
    for (guint j = 0; j < want->len; j++) {
      const Entry *e = &g_array_index (want, Entry, j);
      wanted |= e->profile_id == in->profile_id && e->placement.start == in->placement.start;
    }
    if (wanted)
      continue;
    if (!destroy_instance (task, device, gpu, in, error))
      return FALSE;
    g_string_append_printf (report, "%sdestroyed %s at %u", report->len ? ", " : "", in->profile, in->placement.start);
  }
  for (guint j = 0; j < want->len; j++) {
    const Entry *e = &g_array_index (want, Entry, j);
    const GvMigInstance *there = NULL;
    guint id;
    for (guint i = 0; i < gpu->instances->len; i++) {
      const GvMigInstance *in = gpu->instances->pdata[i];
      if (e->profile_id == in->profile_id && e->placement.start == in->placement.start)
        there = in;
    }
    if (there) {
      /* its compute instances, where a change took some */
      if (!restore_compute (task, device, gpu, there, e, report, error))
        return FALSE;
      continue;
    }
    if (!make_instance (task, device, gpu, e->profile_id, e->placement, e->compute, FALSE, &id, error))
      return FALSE;
    g_string_append_printf (report, "%smade profile %u at %u again", report->len ? ", " : "", e->profile_id,
                            e->placement.start);
  }
  return TRUE;
}

/* After a failure: the instances put back as BEFORE had them; the
 * message says how, or what remains. */
static void
undo (GvMigTask *task, const GvMigContext *ctx, const GvMigGpu *before, const char *journal, GError **error)
{
  g_autofree char *layout = layout_text (before);
  g_autoptr (GString) report = g_string_new (NULL);
  g_autoptr (GError) local = NULL;

  if (!error || !*error)
    return;
  if (restore (task, before->bdf, layout, report, &local)) {
    char *m = g_strdup_printf ("%s%s%s", (*error)->message, report->len ? "; undone: " : "; nothing had changed",
                               report->str);
    g_free ((*error)->message);
    (*error)->message = m;
    journal_end (ctx, journal);
    return;
  }
  {
    g_autoptr (GError) read_error = NULL;
    g_autoptr (GvMigGpu) now = gv_mig_gpu_read_in (task, before->bdf, &read_error);
    g_autofree char *left = now ? instances_text (now) : g_strdup_printf ("unknown (%s)", read_error->message);
    char *m = g_strdup_printf ("%s; undoing it failed too (%s): its GPU instances now: %s; gpuvirtd tries again at "
                               "its next start", (*error)->message, local->message, left);
    g_free ((*error)->message);
    (*error)->message = m;
  }
  /* the journal stays for the next start */
}

/* ---- create, destroy, apply ---- */

typedef struct {
  GvMigContext ctx;
  char *bdf;
  char *root;
  char *profile;
  guint count;
  gboolean compute;
  GArray *ids;          /* in: to destroy (empty: all); out: made */
  GPtrArray *wants;     /* apply */
  gboolean changed;
  GString *done;
} OpData;

static void
op_clear (gpointer p)
{
  OpData *d = p;
  g_free (d->bdf);
  g_free (d->root);
  g_free (d->profile);
  g_clear_pointer (&d->ids, g_array_unref);
  g_clear_pointer (&d->wants, g_ptr_array_unref);
  g_string_free (d->done, TRUE);
}

static void
op_unref (gpointer p)
{
  g_atomic_rc_box_release_full (p, op_clear);
}

static OpData *
op_new (const GvMigContext *ctx, const char *bdf)
{
  OpData *d = g_atomic_rc_box_new0 (OpData);

  d->ctx = *ctx;
  d->bdf = g_strdup (bdf);
  d->root = g_strdup (ctx->root);
  d->ctx.root = d->root;
  d->ids = g_array_new (FALSE, FALSE, sizeof (guint));
  d->done = g_string_new (NULL);
  return d;
}

static GvMigGpu *
read_current (GvMigTask *task, const char *bdf, GError **error)
{
  g_autoptr (GvMigGpu) gpu = gv_mig_gpu_read_in (task, bdf, error);

  if (!gpu)
    return NULL;
  if (!gpu->current) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "MIG mode is off on %s%s: turn it on first", bdf,
                 gpu->pending ? " (it is on after the next reset)" : "");
    return NULL;
  }
  return g_steal_pointer (&gpu);
}

/* Makes SLOTS (GvMigSlot) on GPU after destroying GO (GvMigInstance),
 * journaled; undone on failure. */
static gboolean
change (GvMigTask *task, OpData *d, const GvMigGpu *gpu, GPtrArray *go, GArray *slots, const char *operation,
        GError **error)
{
  g_autofree char *journal = NULL;
  GvMigNvmlDevice device = NULL;

  if (!gv_mig_device (task, d->bdf, &device, error))
    return FALSE;
  journal = journal_begin (&d->ctx, gpu, operation, error);
  if (!journal) {
    g_prefix_error (error, "nothing was changed: the journal could not be written: ");
    return FALSE;
  }
  d->changed = TRUE;
  for (guint i = 0; go && i < go->len; i++) {
    const GvMigInstance *in = go->pdata[i];
    if (!destroy_instance (task, device, gpu, in, error)) {
      undo (task, &d->ctx, gpu, journal, error);
      return FALSE;
    }
    g_string_append_printf (d->done, "%sdestroyed %s (id %u)", d->done->len ? ", " : "", in->profile, in->id);
  }
  for (guint i = 0; slots && i < slots->len; i++) {
    const GvMigSlot *slot = &g_array_index (slots, GvMigSlot, i);
    guint id = 0;
    if (!make_instance (task, device, gpu, slot->profile_id, slot->placement, NULL, d->compute, &id, error)) {
      undo (task, &d->ctx, gpu, journal, error);
      return FALSE;
    }
    g_array_append_val (d->ids, id);
    g_string_append_printf (d->done, "%smade %s at memory slice %u (id %u)", d->done->len ? ", " : "", slot->profile,
                            slot->placement.start, id);
  }
  journal_end (&d->ctx, journal);
  return TRUE;
}

static gboolean
create_task (GvMigTask *task, gpointer data, GError **error)
{
  OpData *d = data;
  g_autoptr (GvMigGpu) gpu = read_current (task, d->bdf, error);
  g_autoptr (GPtrArray) wants = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_mig_want_free);
  g_autoptr (GArray) slots = NULL;
  const GvMigProfile *p;
  GvMigWant *w;
  guint have = 0;

  if (!gpu)
    return FALSE;
  p = gv_mig_gpu_find_profile (gpu, d->profile);
  if (!p) {
    g_autofree char *names = gv_mig_gpu_profile_names (gpu);
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s (%s) has no GPU instance profile %s; its profiles: %s",
                 d->bdf, gpu->name, d->profile, names);
    return FALSE;
  }
  for (guint i = 0; i < gpu->instances->len; i++)
    have += ((GvMigInstance *) gpu->instances->pdata[i])->profile_id == p->id;
  w = g_new0 (GvMigWant, 1);
  w->profile = g_strdup (p->name);
  w->count = have + d->count;
  g_ptr_array_add (wants, w);
  slots = gv_mig_place (gpu, wants, gpu->instances, error);
  if (!slots) {
    g_prefix_error (error, "%u more %s: ", d->count, p->name);
    return FALSE;
  }
  return change (task, d, gpu, NULL, slots, "create", error);
}

gboolean
gv_mig_create (const GvMigContext *ctx, const char *bdf, const char *profile, guint count, gboolean compute,
               GArray **ids, GError **error)
{
  OpData *d = op_new (ctx, bdf);
  gboolean ok;

  d->profile = g_strdup (profile);
  d->count = count;
  d->compute = compute;
  ok = gv_mig_run (ctx->nvml, ctx->timeout_ms, create_task, g_atomic_rc_box_acquire (d), op_unref, error);
  if (ok && ids)
    *ids = g_array_ref (d->ids);
  op_unref (d);
  return ok;
}

static gboolean
destroy_task (GvMigTask *task, gpointer data, GError **error)
{
  OpData *d = data;
  g_autoptr (GvMigGpu) gpu = read_current (task, d->bdf, error);
  g_autoptr (GPtrArray) go = g_ptr_array_new ();

  if (!gpu)
    return FALSE;
  for (guint i = 0; i < gpu->instances->len; i++) {
    GvMigInstance *in = gpu->instances->pdata[i];
    gboolean named = d->ids->len == 0;
    for (guint j = 0; j < d->ids->len; j++)
      named |= g_array_index (d->ids, guint, j) == in->id;
    if (named)
      g_ptr_array_add (go, in);
  }
  for (guint j = 0; j < d->ids->len; j++) {
    guint id = g_array_index (d->ids, guint, j);
    gboolean found = FALSE;
    for (guint i = 0; i < go->len; i++)
      found |= ((GvMigInstance *) go->pdata[i])->id == id;
    if (!found) {
      g_autofree char *list = instances_text (gpu);
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "%s has no GPU instance %u; its instances: %s", d->bdf,
                   id, list);
      return FALSE;
    }
  }
  g_array_set_size (d->ids, 0);
  if (go->len == 0)
    return TRUE;
  return change (task, d, gpu, go, NULL, "destroy", error);
}

gboolean
gv_mig_destroy (const GvMigContext *ctx, const char *bdf, const guint *ids, guint n_ids, GError **error)
{
  OpData *d = op_new (ctx, bdf);
  gboolean ok;

  g_array_append_vals (d->ids, ids, ids ? n_ids : 0);
  ok = gv_mig_run (ctx->nvml, ctx->timeout_ms, destroy_task, g_atomic_rc_box_acquire (d), op_unref, error);
  op_unref (d);
  return ok;
}

static gboolean
apply_task (GvMigTask *task, gpointer data, GError **error)
{
  OpData *d = data;
  g_autoptr (GvMigGpu) gpu = read_current (task, d->bdf, error);
  g_autoptr (GPtrArray) keep = g_ptr_array_new ();
  g_autoptr (GPtrArray) go = g_ptr_array_new ();
  g_autoptr (GArray) slots = NULL;
  g_autoptr (GError) kept_error = NULL;

  if (!gpu)
    return FALSE;
  /* instances of a wanted profile stay, up to its count (lowest ids) */
  for (guint i = 0; i < gpu->instances->len; i++) {
    GvMigInstance *in = gpu->instances->pdata[i];
    guint want = 0, kept = 0;
    for (guint j = 0; j < d->wants->len; j++)
      if (g_ascii_strcasecmp (((GvMigWant *) d->wants->pdata[j])->profile, in->profile) == 0)
        want = ((GvMigWant *) d->wants->pdata[j])->count;
    for (guint k = 0; k < keep->len; k++)
      kept += ((GvMigInstance *) keep->pdata[k])->profile_id == in->profile_id;
    g_ptr_array_add (kept < want ? keep : go, in);
  }
  slots = gv_mig_place (gpu, d->wants, keep, &kept_error);
  if (!slots) {
    /* around the instances kept they do not fit: all of it anew */
    slots = gv_mig_place (gpu, d->wants, NULL, error);
    if (!slots)
      return FALSE;
    g_ptr_array_set_size (go, 0);
    for (guint i = 0; i < gpu->instances->len; i++)
      g_ptr_array_add (go, gpu->instances->pdata[i]);
  }
  if (go->len == 0 && slots->len == 0)
    return TRUE;
  return change (task, d, gpu, go, slots, "apply", error);
}

gboolean
gv_mig_apply (const GvMigContext *ctx, const char *bdf, GPtrArray *wants, gboolean compute, gboolean *changed,
              GString *done, GError **error)
{
  OpData *d = op_new (ctx, bdf);
  gboolean ok;

  d->compute = compute;
  d->wants = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_mig_want_free);
  for (guint i = 0; i < wants->len; i++) {
    const GvMigWant *w = wants->pdata[i];
    GvMigWant *copy = g_new0 (GvMigWant, 1);
    copy->profile = g_strdup (w->profile);
    copy->count = w->count;
    g_ptr_array_add (d->wants, copy);
  }
  ok = gv_mig_run (ctx->nvml, ctx->timeout_ms, apply_task, g_atomic_rc_box_acquire (d), op_unref, error);
  if (ok && changed)
    *changed = d->changed;
  if (ok && done)
    g_string_append (done, d->done->str);
  op_unref (d);
  return ok;
}

/* ---- recovery ---- */

typedef struct {
  char *bdf;
  char *layout;
  GString *report;
} RecoverData;

static void
recover_clear (gpointer p)
{
  RecoverData *d = p;
  g_free (d->bdf);
  g_free (d->layout);
  g_string_free (d->report, TRUE);
}

static void
recover_unref (gpointer p)
{
  g_atomic_rc_box_release_full (p, recover_clear);
}

static gboolean
recover_task (GvMigTask *task, gpointer data, GError **error)
{
  RecoverData *d = data;
  return restore (task, d->bdf, d->layout, d->report, error);
}

gboolean
gv_mig_journal_recover (const GvMigContext *ctx, GPtrArray **results, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) ids = ctx->journal ? gv_journal_list (ctx->journal) : NULL;
  g_autoptr (GString) failures = g_string_new (NULL);

  for (guint i = 0; ids && ids[i]; i++) {
    g_autofree char *kind = gv_journal_kind (ctx->journal, ids[i]);
    g_autoptr (GKeyFile) data = NULL;
    g_autoptr (GError) local = NULL;
    g_autofree char *bdf = NULL;
    g_autofree char *operation = NULL;
    RecoverData *d;

    if (g_strcmp0 (kind, GV_MIG_JOURNAL_KIND) != 0)
      continue;
    data = gv_journal_load (ctx->journal, ids[i], &local);
    bdf = data ? g_key_file_get_string (data, "Transaction", "Subject", NULL) : NULL;
    operation = data ? g_key_file_get_string (data, "Transaction", "Operation", NULL) : NULL;
    if (!bdf) {
      g_string_append_printf (failures, "%sjournal %s is unreadable", failures->len ? "; " : "", ids[i]);
      continue;
    }
    if (!ctx->nvml) {
      g_string_append_printf (failures, "%s%s (%s interrupted): NVML is not available; the journal stays",
                              failures->len ? "; " : "", bdf, operation ? operation : "MIG");
      continue;
    }
    d = g_atomic_rc_box_new0 (RecoverData);
    d->bdf = g_strdup (bdf);
    d->layout = g_key_file_get_string (data, "Layout", "Instances", NULL);
    d->report = g_string_new (NULL);
    if (gv_mig_run (ctx->nvml, ctx->timeout_ms, recover_task, g_atomic_rc_box_acquire (d), recover_unref, &local)) {
      g_ptr_array_add (out, g_strdup_printf ("%s (%s interrupted): %s", bdf, operation ? operation : "MIG",
                                             d->report->len ? d->report->str : "its GPU instances were as before"));
      g_clear_error (&local);
      if (!gv_journal_end (ctx->journal, ids[i], &local))
        g_string_append_printf (failures, "%s%s", failures->len ? "; " : "", local->message);
    } else {
      g_string_append_printf (failures, "%s%s (%s interrupted): %s", failures->len ? "; " : "", bdf,
                              operation ? operation : "MIG", local->message);
    }
    recover_unref (d);
  }
  if (results)
    *results = g_steal_pointer (&out);
  if (failures->len) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "%s", failures->str);
    return FALSE;
  }
  return TRUE;
}
