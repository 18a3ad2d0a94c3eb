/* Running the boot plan in a worker thread: each step re-reads sysfs,
 * skips what is already so, journals the GPU family it changes before its
 * first write (the passthrough engine journals its own transactions),
 * and undoes what it did when it fails. Also the recovery at start that
 * undoes what a killed daemon left unfinished, of every kind. */
#include "config/internal.h"
#include "gpuvirt-names.h"
#include "sysfs/read.h"
#include "vgpu/family.h"

#include <string.h>

#define POLL_MS 10
#define DEFAULT_MS 10000

typedef struct {
  GvConfigPlan *plan;
  const GvConfigRunOptions *opts;
  const char *root;
  GvVgpuContext ctx;
  GvVgpuTypeNames *names;
} Run;

static void
report (Run *r, guint index)
{
  GvConfigPlanStep *s = r->plan->steps->pdata[index];

  if (r->opts->progress)
    r->opts->progress (index, &s->pub, r->opts->user_data);
}

static void
finish (Run *r, guint index, GvConfigStepStatus status, char *message)
{
  gv_config_step_set (r->plan->steps->pdata[index], status, message);
  report (r, index);
}

static char *
function_dir (const char *root, const char *bdf)
{
  return g_build_filename (root, "sys", "bus", "pci", "devices", bdf, NULL);
}

/* Waits up to the context's appear_ms for ROOT/sys/bus/pci/devices/BDF/SUB
 * (SUB NULL: the function itself). */
static gboolean
wait_for (Run *r, const char *bdf, const char *sub)
{
  g_autofree char *dir = function_dir (r->root, bdf);
  g_autofree char *path = sub ? g_build_filename (dir, sub, NULL) : g_strdup (dir);
  guint ms = r->ctx.appear_ms ? r->ctx.appear_ms : r->ctx.timeout_ms ? r->ctx.timeout_ms : DEFAULT_MS;
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    g_usleep (POLL_MS * 1000);
  }
  return TRUE;
}

/* The device at S's address is still the configured one; a failure
 * message otherwise. */
static char *
check_id (Run *r, const GvConfigPlanStep *s, const char *bdf, const char *role)
{
  guint16 vendor, device;

  if (!gv_config_read_id (r->root, bdf, &vendor, &device))
    return g_strdup_printf ("%sno PCI function %s on this host: device moved or removed", role, bdf);
  if (vendor != s->vendor_id || device != s->device_id) {
    g_autofree char *got = gv_config_id_text (vendor, device);
    g_autofree char *want = gv_config_id_text (s->vendor_id, s->device_id);
    return g_strdup_printf ("%s%s is %s, configured %s: device moved or replaced", role, bdf, got, want);
  }
  return NULL;
}

/* ---- the journal of one step ---- */

typedef struct {
  GvVgpuFamily *before;
  char *journal;
} Txn;

static void
txn_clear (Txn *t)
{
  g_clear_pointer (&t->before, gv_vgpu_family_free);
  g_clear_pointer (&t->journal, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Txn, txn_clear)

/* Before the first write: the family as it is, journaled as the state to
 * go back to. */
static gboolean
txn_begin (Run *r, const GvConfigPlanStep *s, gint wanted_num_vfs, Txn *t, char **why)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("boot plan: %s %s", s->pub.device, s->pub.action);

  t->before = gv_vgpu_family_read (r->root, s->gpu, &error);
  if (t->before)
    t->journal = gv_vgpu_journal_begin (r->opts->records, what, t->before, wanted_num_vfs, &error);
  if (!t->journal) {
    *why = g_strdup_printf ("nothing was written: the journal could not be written: %s", error->message);
    return FALSE;
  }
  return TRUE;
}

/* After the step: on failure (ERROR set) what it did is undone first, and
 * *MESSAGE gets how. A stuck write leaves the journal for the next start. */
static void
txn_end (Run *r, Txn *t, const GError *error, char **message)
{
  g_autoptr (GError) local = NULL;

  if (error && error->code == GV_ERROR_PENDING) {
    g_autofree char *m = *message;
    *message = g_strdup_printf ("%s; the next start of gpuvirtd keeps the VFs if the kernel completed the count, "
                                "and puts the previous count back otherwise", m);
    return;
  }
  if (error && error->code == GV_ERROR_STUCK) {
    g_autofree char *m = *message;
    *message = g_strdup_printf ("%s; it is undone at the next start of gpuvirtd if still needed", m);
    return;
  }
  if (error) {
    g_autoptr (GString) undo = g_string_new (NULL);
    if (!gv_vgpu_family_restore (&r->ctx, t->before, undo, &local)) {
      g_autofree char *m = *message;
      *message = g_strdup_printf ("%s; undoing it failed too: %s", m, local->message);
      return; /* the journal stays: recovery tries again at the next start */
    }
    if (undo->len) {
      g_autofree char *m = *message;
      *message = g_strdup_printf ("%s; undone: %s", m, undo->str);
    }
  }
  if (!gv_vgpu_journal_end (r->opts->records, t->journal, &local))
    g_warning ("%s", local->message);
}

/* ---- steps ---- */

static gboolean
all_on_vfio (Run *r, const GvPassthroughPlan *pt)
{
  for (guint i = 0; pt->all_bdfs[i]; i++) {
    g_autofree char *dir = function_dir (r->root, pt->all_bdfs[i]);
    g_autofree char *driver = gv_sysfs_read_link_name (dir, "driver");
    if (!gv_host_driver_is_vfio (driver))
      return FALSE;
  }
  return TRUE;
}

/* A VF made by an earlier step: planned now that it exists, on a model of
 * its own (the daemon's is not touched from here), managed as configured. */
static gboolean
plan_vf_bind (Run *r, GvConfigPlanStep *s, char **why)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new (r->root, &error);
  const char *requested[] = { s->pub.device, NULL };

  if (host) {
    gv_config_apply_manage (r->plan->config, host);
    if (gv_host_rescan (host, NULL, &error))
      s->pt = gv_passthrough_plan (host, GV_PASSTHROUGH_BIND_VFIO, requested, NULL, &error);
  }
  if (!s->pt)
    *why = g_strdup (error->message);
  return s->pt != NULL;
}

static void
run_bind (Run *r, guint index, GvConfigPlanStep *s)
{
  GvPassthroughOptions opts = { .timeout_ms = r->opts->timeout_ms };
  g_autoptr (GString) done = g_string_new (NULL);
  char *why = check_id (r, s, s->pub.device, "");

  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (!s->pt && !plan_vf_bind (r, s, &why)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (all_on_vfio (r, s->pt)) {
    finish (r, index, GV_CONFIG_STEP_SKIPPED, g_strdup ("already on vfio-pci"));
    return;
  }
  for (guint i = 0; i < s->pt->groups->len; i++) {
    g_autoptr (GPtrArray) results = NULL;
    g_autoptr (GError) error = NULL;

    if (!gv_passthrough_run (r->root, r->opts->records, s->pt, s->pt->groups->pdata[i], &opts, NULL, NULL, &results,
                             &error)) {
      finish (r, index, GV_CONFIG_STEP_FAILED,
              g_strdup_printf ("%s%s%s", error->message, done->len ? "; before that: " : "", done->str));
      return;
    }
    for (guint j = 0; results && j < results->len; j++) {
      const GvPassthroughResult *fr = results->pdata[j];
      g_string_append_printf (done, "%s%s %s", done->len ? ", " : "", fr->bdf, fr->message);
    }
  }
  finish (r, index, GV_CONFIG_STEP_DONE, g_string_free (g_steal_pointer (&done), FALSE));
}

static void
run_num_vfs (Run *r, guint index, GvConfigPlanStep *s)
{
  g_auto (Txn) t = { 0 };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) vfs = NULL;
  g_autofree char *message = NULL;
  char *why = check_id (r, s, s->pub.device, "");
  guint now = 0;

  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  {
    g_autofree char *dir = function_dir (r->root, s->pub.device);
    guint64 v = 0;
    if (gv_sysfs_read_uint (dir, "sriov_numvfs", FALSE, &v))
      now = (guint) v;
    if (now == s->count && gv_sysfs_path_exists (dir, "sriov_numvfs")) {
      finish (r, index, GV_CONFIG_STEP_SKIPPED, s->count ? g_strdup_printf ("%u VFs are enabled already", s->count)
                                                       : g_strdup ("no VFs are enabled"));
      return;
    }
  }
  if (!txn_begin (r, s, (gint) s->count, &t, &why)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (gv_vgpu_set_num_vfs (&r->ctx, s->pub.device, s->count, &vfs, &error)) {
    guint n = vfs ? g_strv_length (vfs) : 0;
    message = n ? g_strdup_printf ("%u VFs: %s to %s", n, vfs[0], vfs[n - 1]) : g_strdup ("VFs disabled");
    txn_end (r, &t, NULL, &message);
    gv_vgpu_type_names_learn_family (r->names, r->root, s->pub.device);
    finish (r, index, GV_CONFIG_STEP_DONE, g_steal_pointer (&message));
    return;
  }
  message = g_strdup (error->message);
  txn_end (r, &t, error, &message);
  finish (r, index, GV_CONFIG_STEP_FAILED, g_steal_pointer (&message));
}

/* The engine is given the type's id when its name is known: a VF that
 * carries it then matches even when no list shows the name any more. */
static char *
type_arg (Run *r, const char *wanted)
{
  guint id = gv_vgpu_type_names_resolve (r->names, wanted);
  return id ? g_strdup_printf ("%u", id) : g_strdup (wanted);
}

static void
run_vf_type (Run *r, guint index, GvConfigPlanStep *s)
{
  g_auto (Txn) t = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *arg = NULL;
  g_autofree char *name = NULL;
  gboolean changed = FALSE;
  guint id = 0;
  char *why;

  wait_for (r, s->pub.device, "nvidia");
  why = check_id (r, s, s->pub.device, "");
  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  gv_vgpu_type_names_learn_family (r->names, r->root, s->gpu);
  arg = type_arg (r, s->type);
  {
    g_autofree char *dir = function_dir (r->root, s->pub.device);
    g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);
    guint want = gv_vgpu_type_names_resolve (r->names, s->type);
    if (vendor && vendor->current_known && want && vendor->current_type == want) {
      const char *known = gv_vgpu_type_names_lookup (r->names, want);
      finish (r, index, GV_CONFIG_STEP_SKIPPED, g_strdup_printf ("carries %u%s%s%s already", want, known ? " (" : "",
                                                               known ? known : "", known ? ")" : ""));
      return;
    }
  }
  if (!txn_begin (r, s, -1, &t, &why)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (gv_vgpu_set_type (&r->ctx, s->pub.device, arg, &id, &name, &changed, &error)) {
    gv_vgpu_type_names_learn (r->names, id, name);
    message = g_strdup_printf ("%s %u%s%s%s", changed ? "type" : "carries", id, name && *name ? " (" : "",
                               name && *name ? name : "", name && *name ? ")" : "");
    txn_end (r, &t, NULL, &message);
    finish (r, index, changed ? GV_CONFIG_STEP_DONE : GV_CONFIG_STEP_SKIPPED,
            changed ? g_steal_pointer (&message) : g_strdup_printf ("%s already", message));
    return;
  }
  message = g_strdup (error->message);
  txn_end (r, &t, error, &message);
  finish (r, index, GV_CONFIG_STEP_FAILED, g_steal_pointer (&message));
}

static void
run_mdev (Run *r, guint index, GvConfigPlanStep *s)
{
  g_auto (Txn) t = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *type_id = NULL;
  g_autofree char *mdev_dir = g_build_filename (r->root, "sys", "bus", "mdev", "devices", s->uuid, NULL);
  char *why;

  wait_for (r, s->pub.device, "mdev_supported_types");
  why = check_id (r, s, s->pub.device, "parent ");
  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (g_file_test (mdev_dir, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (r->root);
    const char *parent = NULL, *type = NULL;

    for (guint i = 0; i < mdevs->len; i++) {
      const GvHostMdev *m = mdevs->pdata[i];
      if (g_str_equal (m->uuid, s->uuid)) {
        parent = m->parent;
        type = m->type_id;
      }
    }
    if (g_strcmp0 (parent, s->pub.device) == 0 && type) {
      g_autofree char *tdir = g_build_filename (r->root, "sys", "bus", "pci", "devices", parent,
                                                "mdev_supported_types", type, NULL);
      g_autofree char *tname = gv_sysfs_read_attr (tdir, "name");
      if (gv_vgpu_type_matches (type, tname, s->type)) {
        finish (r, index, GV_CONFIG_STEP_SKIPPED, g_strdup_printf ("exists already (%s)", type));
        return;
      }
    }
    finish (r, index, GV_CONFIG_STEP_FAILED,
            g_strdup_printf ("mdev %s exists already on %s with type %s, configured %s “%s”", s->uuid,
                             parent ? parent : "?", type ? type : "?", s->pub.device, s->type));
    return;
  }
  if (!txn_begin (r, s, -1, &t, &why)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (gv_vgpu_create_mdev (&r->ctx, s->pub.device, s->type, s->uuid, NULL, &type_id, &error)) {
    message = g_strdup_printf ("created, type %s", type_id);
    txn_end (r, &t, NULL, &message);
    finish (r, index, GV_CONFIG_STEP_DONE, g_steal_pointer (&message));
    return;
  }
  message = g_strdup (error->message);
  txn_end (r, &t, error, &message);
  finish (r, index, GV_CONFIG_STEP_FAILED, g_steal_pointer (&message));
}

/* VFs show their vGPU files a moment after they appear. */
static void
wait_for_vf_files (Run *r, const char *pf)
{
  g_autofree char *dir = function_dir (r->root, pf);
  g_autoptr (GPtrArray) entries = gv_sysfs_list_dir (dir);

  for (guint i = 0; i < entries->len; i++) {
    g_autofree char *vf = NULL;
    if (!g_str_has_prefix (entries->pdata[i], "virtfn"))
      continue;
    vf = gv_sysfs_read_link_name (dir, entries->pdata[i]);
    if (vf && !wait_for (r, vf, "nvidia"))
      wait_for (r, vf, "mdev_supported_types");
  }
}

static void
run_count (Run *r, guint index, GvConfigPlanStep *s)
{
  g_auto (Txn) t = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) made = g_string_new (NULL);
  g_autofree char *message = NULL;
  g_autofree char *arg = NULL;
  GvVgpuRequest req = { s->pub.device, s->framework, NULL, NULL, 0, NULL };
  g_auto (GStrv) hint_vfs = NULL;
  g_autoptr (GPtrArray) hint = NULL;
  guint have, unknown = 0, need, i;
  char *why = check_id (r, s, s->pub.device, "");

  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (s->framework != GV_HOST_FRAMEWORK_MDEV_PF)
    wait_for_vf_files (r, s->pub.device);
  gv_vgpu_type_names_learn_family (r->names, r->root, s->pub.device);
  have = gv_config_count_vgpus (r->root, s->pub.device, s->type, r->names, &unknown);
  if (have >= s->count) {
    finish (r, index, GV_CONFIG_STEP_SKIPPED,
            g_strdup_printf ("%u vGPU%s of it exist already%s", have, have == 1 ? "" : "s",
                             have > s->count ? " (more than configured: gpuvirt never removes vGPUs to match a "
                                               "count)" : ""));
    return;
  }
  if (unknown) {
    finish (r, index, GV_CONFIG_STEP_FAILED,
            g_strdup_printf ("%u VF%s of %s carry vGPU types whose names no list shows now, so whether they are "
                             "“%s” cannot be told: give VgpuType by id", unknown, unknown == 1 ? "" : "s",
                             s->pub.device, s->type));
    return;
  }
  need = s->count - have;
  arg = s->framework == GV_HOST_FRAMEWORK_MDEV_PF || s->framework == GV_HOST_FRAMEWORK_MDEV_VF
          ? g_strdup (s->type) : type_arg (r, s->type);
  req.wanted = arg;
  if (!txn_begin (r, s, -1, &t, &why)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  /* the VFs not used by this step yet, tried first: each vGPU's search
   * then starts where the last one ended, not at VF 0 */
  hint_vfs = gv_host_read_vfs (r->root, s->pub.device);
  hint = gv_vgpu_hint_new ((const char *const *) hint_vfs);
  for (i = 0; i < need; i++) {
    g_autoptr (GvVgpuResult) res = NULL;
    req.free_first = (const char *const *) hint->pdata;
    if (!gv_vgpu_create (&r->ctx, &req, &res, &error))
      break;
    gv_vgpu_hint_drop (hint, res->address);
    gv_vgpu_type_names_learn (r->names, (guint) g_ascii_strtoull (res->type_id, NULL, 10), res->type_name);
    if (res->mdev_uuid)
      g_string_append_printf (made, "%smdev %s on %s", made->len ? ", " : "", res->mdev_uuid, res->address);
    else
      g_string_append_printf (made, "%s%s", made->len ? ", " : "", res->address);
  }
  if (error) {
    message = g_strdup_printf ("%s%s%s", error->message, made->len ? "; made before that: " : "", made->str);
    txn_end (r, &t, error, &message);
    finish (r, index, GV_CONFIG_STEP_FAILED, g_steal_pointer (&message));
    return;
  }
  if (have)
    g_string_append_printf (made, "; %u existed", have);
  message = g_strdup_printf ("created %u: %s", need, made->str);
  txn_end (r, &t, NULL, &message);
  finish (r, index, GV_CONFIG_STEP_DONE, g_steal_pointer (&message));
}

/* ---- MIG ---- */

static GvMigContext
mig_context (Run *r)
{
  return (GvMigContext) { r->opts->nvml, r->root, r->opts->records, r->opts->timeout_ms };
}

/* Whether a reset of GPU now would take it from someone: NULL when not,
 * else why (HELD, IN_USE). Read on a model of its own. */
static char *
reset_blocked (Run *r, const char *gpu)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new (r->root, &error);
  GvHostDevice *device;

  if (!host || !gv_host_rescan (host, NULL, &error))
    return g_strdup_printf ("the host could not be read: %s", error->message);
  device = gv_host_lookup (host, gpu);
  if (!device)
    return g_strdup_printf ("%s is gone", gpu);
  return gv_mig_check_reset (host, device, &error) ? NULL : g_strdup (error->message);
}

static void
run_mig_mode (Run *r, guint index, GvConfigPlanStep *s)
{
  GvMigContext ctx = mig_context (r);
  g_auto (GvMigModeOutcome) out = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *blocked = NULL;
  char *why = check_id (r, s, s->pub.device, "");

  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (!ctx.nvml) {
    finish (r, index, GV_CONFIG_STEP_FAILED, g_strdup (r->opts->mig_unavailable ? r->opts->mig_unavailable
                                                                                 : "MIG is unavailable"));
    return;
  }
  blocked = reset_blocked (r, s->pub.device);
  /* held: set pending only, so that it takes effect at the next boot */
  if (!gv_mig_set_mode (&ctx, s->pub.device, s->flag, blocked == NULL, &out, &error)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, g_strdup (error->message));
    return;
  }
  if (!out.changed && out.current) {
    finish (r, index, GV_CONFIG_STEP_SKIPPED, g_steal_pointer (&out.message));
    return;
  }
  if (!out.current) {
    finish (r, index, GV_CONFIG_STEP_FAILED,
            g_strdup_printf ("MIG mode %s is pending on %s: it takes effect at the next boot, as a reset now would "
                             "take the GPU away (%s)", s->flag ? "on" : "off", s->pub.device,
                             blocked ? blocked : out.message));
    return;
  }
  finish (r, index, GV_CONFIG_STEP_DONE, g_steal_pointer (&out.message));
}

static void
run_mig (Run *r, guint index, GvConfigPlanStep *s)
{
  GvMigContext ctx = mig_context (r);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) done = g_string_new (NULL);
  gboolean changed = FALSE;
  char *why = check_id (r, s, s->pub.device, "");

  if (why) {
    finish (r, index, GV_CONFIG_STEP_FAILED, why);
    return;
  }
  if (!ctx.nvml) {
    finish (r, index, GV_CONFIG_STEP_FAILED, g_strdup (r->opts->mig_unavailable ? r->opts->mig_unavailable
                                                                                 : "MIG is unavailable"));
    return;
  }
  if (!gv_mig_apply (&ctx, s->pub.device, s->wants, s->flag, &changed, done, &error)) {
    finish (r, index, GV_CONFIG_STEP_FAILED, g_strdup (error->message));
    return;
  }
  if (!changed)
    finish (r, index, GV_CONFIG_STEP_SKIPPED, g_strdup ("it has these GPU instances already"));
  else
    finish (r, index, GV_CONFIG_STEP_DONE, g_string_free (g_steal_pointer (&done), FALSE));
}

/* Before anything runs: every GPU whose MIG target NVML now says cannot be
 * reached gets all its steps failed, so that nothing of it changes. */
static void
mig_precheck (Run *r)
{
  g_autoptr (GHashTable) bad = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < r->plan->steps->len; i++) {
    GvConfigPlanStep *s = r->plan->steps->pdata[i];
    g_autoptr (GvMigGpu) gpu = NULL;
    g_autoptr (GArray) slots = NULL;
    g_autoptr (GError) error = NULL;

    if ((s->kind != GV_CONFIG_DO_MIG && s->kind != GV_CONFIG_DO_MIG_MODE) || s->pub.status != GV_CONFIG_STEP_PENDING ||
        g_hash_table_contains (bad, s->gpu))
      continue;
    if (!r->opts->nvml) {
      g_hash_table_insert (bad, g_strdup (s->gpu), g_strdup (r->opts->mig_unavailable ? r->opts->mig_unavailable
                                                                                       : "MIG is unavailable"));
      continue;
    }
    gpu = gv_mig_gpu_read (r->opts->nvml, s->gpu, r->opts->timeout_ms, &error);
    if (gpu && s->kind == GV_CONFIG_DO_MIG)
      slots = gv_mig_place (gpu, s->wants, NULL, &error);
    if (!gpu || (s->kind == GV_CONFIG_DO_MIG && !slots))
      g_hash_table_insert (bad, g_strdup (s->gpu), g_strdup (error->message));
  }
  for (guint i = 0; i < r->plan->steps->len; i++) {
    GvConfigPlanStep *s = r->plan->steps->pdata[i];
    const char *gpu = s->gpu ? s->gpu : s->pub.device;
    const char *why = gpu ? g_hash_table_lookup (bad, gpu) : NULL;
    if (why && s->pub.status == GV_CONFIG_STEP_PENDING)
      finish (r, i, GV_CONFIG_STEP_FAILED, g_strdup_printf ("not run, so that %s keeps its layout: %s", gpu, why));
  }
}

gboolean
gv_config_plan_run (GvConfigPlan *plan, const GvConfigRunOptions *options, GError **error)
{
  g_autoptr (GvVgpuTypeNames) own = options->type_names ? NULL : gv_vgpu_type_names_new (options->state_dir);
  GvVgpuTypeNames *names = own ? own : options->type_names;
  Run r = { plan, options, options->root ? options->root : plan->root, { 0 }, names };
  guint failed = 0, first_failed = 0;

  g_return_val_if_fail (options->records != NULL, FALSE);

  r.ctx.root = r.root;
  r.ctx.timeout_ms = options->timeout_ms;
  r.ctx.busy_retry_ms = options->busy_retry_ms;
  r.ctx.busy_retry_every_ms = options->busy_retry_every_ms;
  r.ctx.appear_ms = options->appear_ms;
  r.ctx.late = options->late;
  r.ctx.user_data = options->late_data;
  r.ctx.names = names;

  mig_precheck (&r);
  for (guint i = 0; i < plan->steps->len; i++) {
    GvConfigPlanStep *s = plan->steps->pdata[i];
    int dep;

    if (s->pub.status != GV_CONFIG_STEP_PENDING)
      goto tally;
    dep = s->depends >= 0 && ((GvConfigPlanStep *) plan->steps->pdata[s->depends])->pub.status == GV_CONFIG_STEP_FAILED
            ? s->depends
          : s->depends_mig >= 0 &&
              ((GvConfigPlanStep *) plan->steps->pdata[s->depends_mig])->pub.status == GV_CONFIG_STEP_FAILED
            ? s->depends_mig : -1;
    if (dep >= 0) {
      g_autofree char *name = gv_config_step_name (plan, (guint) dep);
      finish (&r, i, GV_CONFIG_STEP_FAILED, g_strdup_printf ("not run: it needs %s, which failed", name));
      goto tally;
    }
    gv_config_step_set (s, GV_CONFIG_STEP_RUNNING, NULL);
    report (&r, i);
    switch (s->kind) {
    case GV_CONFIG_DO_BIND: run_bind (&r, i, s); break;
    case GV_CONFIG_DO_NUM_VFS: run_num_vfs (&r, i, s); break;
    case GV_CONFIG_DO_VF_TYPE: run_vf_type (&r, i, s); break;
    case GV_CONFIG_DO_MDEV: run_mdev (&r, i, s); break;
    case GV_CONFIG_DO_COUNT: run_count (&r, i, s); break;
    case GV_CONFIG_DO_MIG_MODE: run_mig_mode (&r, i, s); break;
    case GV_CONFIG_DO_MIG: run_mig (&r, i, s); break;
    default: finish (&r, i, GV_CONFIG_STEP_FAILED, g_strdup ("unknown step")); break;
    }
  tally:
    if (s->pub.status == GV_CONFIG_STEP_FAILED && failed++ == 0)
      first_failed = i;
  }
  gv_vgpu_type_names_save (names);
  if (failed) {
    g_autofree char *name = gv_config_step_name (plan, first_failed);
    g_set_error (error, GV_ERROR, GV_ERROR_PLAN_FAILED, "%u of %u steps failed; first %s: %s", failed,
                 plan->steps->len, name, ((GvConfigPlanStep *) plan->steps->pdata[first_failed])->pub.message);
    return FALSE;
  }
  return TRUE;
}
