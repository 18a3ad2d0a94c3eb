/* The passthrough engine (service/pt-*.c) on the simulator: plans and their
 * refusals, transactions with fault injection at every write they make,
 * writes that never return, crash recovery, and parallel groups. Every
 * write goes to a gpuvirt-simfs mount; the state after each run is read
 * back from the simulated sysfs. */
#include "passthrough/passthrough.h"
#include "passthrough/internal.h"
#include "sim-mount.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WS_GPU "0000:01:00.0"
static const char *const ws_group[] = { "0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3", NULL };

/* ---- fixture ---- */

typedef struct {
  SimMount *mount;
  GvHost *host;
  char *state_dir;
  GvJournal *records;
} Fx;

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *child = g_build_filename (path, name, NULL);
    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      rm_rf (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

static void
fx_rescan (Fx *fx)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (gv_host_rescan (fx->host, NULL, &error));
  g_assert_no_error (error);
}

static void
fx_open_records (Fx *fx)
{
  g_autoptr (GError) error = NULL;
  g_clear_pointer (&fx->records, gv_journal_free);
  fx->records = gv_journal_open (fx->state_dir, &error);
  g_assert_no_error (error);
}

static Fx *
fx_new (const char *scenario)
{
  Fx *fx = g_new0 (Fx, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;

  fx->mount = sim_mount_start (scenario);
  fx->host = gv_host_new (fx->mount->root, &error);
  g_assert_no_error (error);
  fx_rescan (fx);
  dir = g_dir_make_tmp ("gpuvirt-pt-state-XXXXXX", &error);
  g_assert_no_error (error);
  /* a directory that does not exist yet: gv_journal_open makes it */
  fx->state_dir = g_build_filename (dir, "state", NULL);
  fx_open_records (fx);
  return fx;
}

static void
fx_free (Fx *fx)
{
  g_autofree char *parent = g_path_get_dirname (fx->state_dir);

  gv_journal_free (fx->records);
  rm_rf (parent);
  g_free (fx->state_dir);
  gv_host_free (fx->host);
  sim_mount_stop (fx->mount);
  g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fx, fx_free)

static void
sim_ctl (Fx *fx, const char *file, const char *text)
{
  g_autofree char *path = g_build_filename (fx->mount->root, ".sim", file, NULL);
  g_assert_cmpint (sim_write_file (path, text), ==, 0);
}

static char *
sim_ctl_read (Fx *fx, const char *file)
{
  g_autofree char *path = g_build_filename (fx->mount->root, ".sim", file, NULL);
  char *text = sim_read_file (path);
  g_assert_nonnull (text);
  return text;
}

/* Xorg and nvidia-persistenced hold /dev/nvidia0 in the workstation scenario. */
static void
remove_holders (Fx *fx)
{
  sim_ctl (fx, "holders", "remove 1834");
  sim_ctl (fx, "holders", "remove 1102");
}

/* ---- reading the simulated sysfs ---- */

/* "driver|override", "" for none */
static char *
fn_state (Fx *fx, const char *bdf)
{
  g_autofree char *driver = NULL;
  g_autofree char *override = NULL;

  g_assert_true (gv_passthrough_read_function (fx->mount->root, bdf, &driver, &override));
  return g_strdup_printf ("%s|%s", driver, override);
}

static char *
fn_driver (Fx *fx, const char *bdf)
{
  g_autofree char *driver = NULL;
  g_assert_true (gv_passthrough_read_function (fx->mount->root, bdf, &driver, NULL));
  return g_steal_pointer (&driver);
}

static GHashTable *
snapshot (Fx *fx, const char *const *bdfs)
{
  GHashTable *snap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; bdfs[i]; i++)
    g_hash_table_insert (snap, g_strdup (bdfs[i]), fn_state (fx, bdfs[i]));
  return snap;
}

/* Every function of WANT is where WANT says, except SKIP (may be NULL). */
static void
assert_snapshot (Fx *fx, GHashTable *want, const char *skip, const char *context)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, want);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autofree char *now = NULL;
    if (skip && g_str_equal (skip, key))
      continue;
    now = fn_state (fx, key);
    if (!g_str_equal (now, value))
      g_error ("%s: %s is %s, expected %s", context, (char *) key, now, (char *) value);
    /* never driverless where it had a driver */
    g_assert_false (((char *) value)[0] != '|' && now[0] == '|');
  }
}

static guint
n_journals (Fx *fx)
{
  g_auto (GStrv) ids = gv_journal_list (fx->records);
  return g_strv_length (ids);
}

/* ---- progress ---- */

typedef struct {
  GMutex lock;
  GCond cond;
  GPtrArray *events; /* "BDF STATE MESSAGE" */
} Recorder;

static Recorder *
recorder_new (void)
{
  Recorder *r = g_new0 (Recorder, 1);
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->events = g_ptr_array_new_with_free_func (g_free);
  return r;
}

static void
recorder_free (Recorder *r)
{
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
  g_ptr_array_unref (r->events);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recorder, recorder_free)

static void
record_progress (const char *bdf, const char *state, const char *message, gpointer data)
{
  Recorder *r = data;

  g_assert_nonnull (bdf);
  g_assert_nonnull (state);
  g_mutex_lock (&r->lock);
  g_ptr_array_add (r->events, g_strdup_printf ("%s %s %s", bdf, state, message ? message : ""));
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
}

static guint
recorder_len (Recorder *r)
{
  guint n;
  g_mutex_lock (&r->lock);
  n = r->events->len;
  g_mutex_unlock (&r->lock);
  return n;
}

/* The first event for BDF at index FROM or later, waiting up to TIMEOUT_MS. */
static char *
recorder_wait (Recorder *r, guint from, const char *bdf, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  char *found = NULL;

  g_mutex_lock (&r->lock);
  while (!found) {
    for (guint i = from; i < r->events->len && !found; i++)
      if (g_str_has_prefix (r->events->pdata[i], bdf))
        found = g_strdup (r->events->pdata[i]);
    if (!found && !g_cond_wait_until (&r->cond, &r->lock, deadline))
      break;
  }
  g_mutex_unlock (&r->lock);
  return found;
}

/* ---- planning and running ---- */

static GvPassthroughPlan *
plan_ok (Fx *fx, GvPassthroughOp op, const char *const *bdfs, const GvPassthroughOptions *opts)
{
  g_autoptr (GError) error = NULL;
  GvPassthroughPlan *plan = gv_passthrough_plan (fx->host, op, bdfs, opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan);
  return plan;
}

static GvPassthroughPlan *
plan_one (Fx *fx, GvPassthroughOp op, const char *bdf, const GvPassthroughOptions *opts)
{
  const char *bdfs[] = { bdf, NULL };
  return plan_ok (fx, op, bdfs, opts);
}

static void
plan_fails (Fx *fx, GvPassthroughOp op, const char *const *bdfs, const GvPassthroughOptions *opts, int code,
            const char *const *must_say)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvPassthroughPlan) plan = gv_passthrough_plan (fx->host, op, bdfs, opts, &error);

  g_assert_null (plan);
  g_assert_error (error, GV_ERROR, code);
  g_test_message ("refused: %s", error->message);
  for (guint i = 0; must_say && must_say[i]; i++)
    if (!strstr (error->message, must_say[i]))
      g_error ("“%s” does not say “%s”", error->message, must_say[i]);
}

/* Runs every group of PLAN one after the other; results of all groups. */
static gboolean
run_plan (Fx *fx, const GvPassthroughPlan *plan, const GvPassthroughOptions *opts, Recorder *rec, GPtrArray **results,
          GError **error)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_passthrough_result_free);
  gboolean ok = TRUE;

  for (guint i = 0; i < plan->groups->len && ok; i++) {
    g_autoptr (GPtrArray) res = NULL;
    ok = gv_passthrough_run (fx->mount->root, fx->records, plan, plan->groups->pdata[i], opts,
                             rec ? record_progress : NULL, rec, &res, error);
    g_assert_nonnull (res);
    for (guint j = 0; j < res->len; j++)
      g_ptr_array_add (all, g_steal_pointer (&res->pdata[j]));
    g_ptr_array_set_free_func (res, NULL);
  }
  if (results)
    *results = all;
  else
    g_ptr_array_unref (all);
  return ok;
}

static void
run_ok (Fx *fx, GvPassthroughOp op, const char *bdf, const GvPassthroughOptions *opts)
{
  g_autoptr (GvPassthroughPlan) plan = plan_one (fx, op, bdf, opts);
  g_autoptr (GError) error = NULL;

  g_assert_true (run_plan (fx, plan, opts, NULL, NULL, &error));
  g_assert_no_error (error);
  fx_rescan (fx);
}

static const GvPassthroughResult *
find_result (GPtrArray *results, const char *bdf)
{
  for (guint i = 0; i < results->len; i++) {
    const GvPassthroughResult *r = results->pdata[i];
    if (g_str_equal (r->bdf, bdf))
      return r;
  }
  g_error ("no result for %s", bdf);
  return NULL;
}

/* ---- the simulator's write log ---- */

typedef SimWrite Write;

static GPtrArray *
read_log (Fx *fx)
{
  g_autofree char *text = sim_ctl_read (fx, "log");
  return sim_parse_log (text);
}

/* The function a write is about: its data, or the device directory. */
static char *
write_bdf (const Write *w)
{
  g_autofree char *dir = NULL;

  if (gv_host_bdf_is_valid (w->data))
    return g_strdup (w->data);
  dir = g_path_get_dirname (w->path);
  return g_path_get_basename (dir);
}

/* The errors the kernel can give to this kind of write. */
static const char *const *
errnos_for (const char *path)
{
  static const char *const override[] = { "EINVAL", "ENOMEM", NULL };
  static const char *const unbind[] = { "ENODEV", "EBUSY", "EIO", NULL };
  static const char *const probe[] = { "ENODEV", "EINVAL", "ENOMEM", "EIO", "EBUSY", NULL };
  static const char *const bind[] = { "ENODEV", "EBUSY", "EINVAL", "EIO", "ENOMEM", "EEXIST", NULL };

  if (g_str_has_suffix (path, "/driver_override"))
    return override;
  if (g_str_has_suffix (path, "/unbind"))
    return unbind;
  if (g_str_has_suffix (path, "/drivers_probe"))
    return probe;
  if (g_str_has_suffix (path, "/bind"))
    return bind;
  g_error ("unexpected write to %s", path);
  return NULL;
}

/* The next write matching W (path and, for a BDF, data) does WHAT. */
static void
arm (Fx *fx, const Write *w, const char *what)
{
  g_autofree char *rule = gv_host_bdf_is_valid (w->data)
                            ? g_strdup_printf ("%s %s data=%s count=1", w->path, what, w->data)
                            : g_strdup_printf ("%s %s count=1", w->path, what);
  sim_ctl (fx, "faults", rule);
}

static void
assert_faults_consumed (Fx *fx)
{
  g_autofree char *faults = sim_ctl_read (fx, "faults");
  g_assert_cmpstr (faults, ==, "");
}

static void
assert_no_records (Fx *fx, const char *const *bdfs)
{
  for (guint i = 0; bdfs[i]; i++)
    g_assert_false (gv_journal_lookup_original (fx->records, bdfs[i], NULL, NULL));
}

/* ---- tests ---- */

static void
test_root_check (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autofree char *tmp = g_dir_make_tmp ("gpuvirt-pt-root-XXXXXX", NULL);
  g_autofree char *outside = g_dir_make_tmp ("gpuvirt-pt-outside-XXXXXX", NULL);
  g_autofree char *escape = g_dir_make_tmp ("gpuvirt-pt-escape-XXXXXX", NULL);
  g_autofree char *link = g_build_filename (tmp, "sys", NULL);
  g_autofree char *link2 = g_build_filename (escape, "sys", NULL);
  g_autofree char *target = g_build_filename (outside, "victim", NULL);
  const char *bad[] = { "", "relative/root", "/tmp/..", "//", "/nonexistent-gpuvirt-root" };
  g_autoptr (GPtrArray) results = NULL;
  int result = 0;

  g_assert_false (gv_sysfs_root_check (NULL, &error));
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (gv_sysfs_root_check (bad[i], &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_NO_ROOT);
    g_clear_error (&error);
  }
  /* The literal "/" is the caller's explicit choice (only checked here:
   * nothing in this test ever writes below it). */
  g_assert_true (gv_sysfs_root_check ("/", NULL));
  g_assert_true (gv_sysfs_root_check (fx->mount->root, NULL));

  /* a prefix whose sys/ is the real /sys */
  g_assert_cmpint (symlink ("/sys", link), ==, 0);
  g_assert_false (gv_sysfs_root_check (tmp, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_ROOT);
  g_clear_error (&error);

  /* a link that leads out of the root is refused before open() */
  g_assert_cmpint (symlink (outside, link2), ==, 0);
  g_assert_cmpint (sim_write_file (target, "x"), ==, ENOENT);
  g_file_set_contents (target, "untouched", -1, NULL);
  g_assert_cmpint (gv_sysfs_write (escape, "sys/victim", "changed", 1000, &result, NULL, NULL, NULL), ==,
                   GV_SYSFS_WRITE_DONE);
  g_assert_cmpint (result, ==, -EPERM);
  {
    g_autofree char *content = sim_read_file (target);
    g_assert_cmpstr (content, ==, "untouched");
  }

  /* the engine's entry points refuse a missing root before anything else */
  {
    g_autoptr (GvPassthroughPlan) plan = NULL;
    remove_holders (fx);
    plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
    g_assert_false (gv_passthrough_run (NULL, fx->records, plan, plan->groups->pdata[0], NULL, NULL, NULL,
                                        &results, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_NO_ROOT);
    g_clear_error (&error);
    g_assert_false (gv_passthrough_recover (fx->records, "", NULL, NULL, NULL, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_NO_ROOT);
    g_clear_error (&error);
  }

  g_unlink (link);
  g_unlink (link2);
  g_unlink (target);
  g_rmdir (tmp);
  g_rmdir (escape);
  g_rmdir (outside);
}

/* Bind the GPU with its three companions, give it all back. */
static void
test_round_trip (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (Recorder) rec = recorder_new ();
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GvPassthroughPlan) back = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *vfio_node = g_build_filename (fx->mount->root, "dev", "vfio", "8", NULL);
  const GvPassthroughGroup *g;
  GvPassthroughOptions force = { .force = TRUE };

  original = snapshot (fx, ws_group);
  g_assert_cmpstr (g_hash_table_lookup (original, "0000:01:00.0"), ==, "nvidia|");
  g_assert_cmpstr (g_hash_table_lookup (original, "0000:01:00.1"), ==, "snd_hda_intel|");
  g_assert_cmpstr (g_hash_table_lookup (original, "0000:01:00.2"), ==, "xhci_hcd|");
  g_assert_cmpstr (g_hash_table_lookup (original, "0000:01:00.3"), ==, "nvidia-gpu|");

  /* Xorg and nvidia-persistenced hold /dev/nvidia0: refused, named; force passes. */
  {
    const char *bdfs[] = { WS_GPU, NULL };
    const char *say[] = { "Xorg (pid 1834", "/dev/nvidia0", "nvidia-persistenced (pid 1102", "force", NULL };
    g_autoptr (GvPassthroughPlan) forced = NULL;
    plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, bdfs, NULL, GV_ERROR_HELD, say);
    forced = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, &force);
    g_assert_true (forced->needs_force);
  }
  remove_holders (fx);

  plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
  g_assert_false (plan->needs_force);
  g_assert_cmpuint (plan->groups->len, ==, 1);
  g_assert_true (g_strv_equal ((const char *const *) plan->all_bdfs, ws_group));
  g = plan->groups->pdata[0];
  g_assert_cmpint (g->iommu_group, ==, 8);
  /* companions first, the GPU last */
  g_assert_cmpstr (g->bdfs[0], ==, "0000:01:00.1");
  g_assert_cmpstr (g->bdfs[3], ==, WS_GPU);

  g_assert_true (run_plan (fx, plan, NULL, rec, &results, &error));
  g_assert_no_error (error);
  for (guint i = 0; ws_group[i]; i++) {
    g_autofree char *now = fn_state (fx, ws_group[i]);
    const GvPassthroughResult *r = find_result (results, ws_group[i]);
    g_assert_cmpstr (now, ==, "vfio-pci|vfio-pci");
    g_assert_cmpstr (r->state, ==, "vfio");
    g_assert_cmpstr (r->driver, ==, "vfio-pci");
  }
  g_assert_true (g_file_test (vfio_node, G_FILE_TEST_EXISTS));
  /* progress: releasing then vfio, per function */
  g_assert_cmpuint (rec->events->len, ==, 8);
  g_assert_true (g_str_has_prefix (rec->events->pdata[0], "0000:01:00.1 releasing"));
  g_assert_true (g_str_has_prefix (rec->events->pdata[1], "0000:01:00.1 vfio"));
  g_assert_true (g_str_has_prefix (rec->events->pdata[7], "0000:01:00.0 vfio"));
  g_assert_cmpuint (n_journals (fx), ==, 0);

  /* The originals survive a restart of the daemon. */
  fx_open_records (fx);
  for (guint i = 0; ws_group[i]; i++) {
    g_autofree char *driver = NULL;
    g_autofree char *override = NULL;
    g_autofree char *want = g_strdup (g_hash_table_lookup (original, ws_group[i]));
    g_assert_true (gv_journal_lookup_original (fx->records, ws_group[i], &driver, &override));
    *strchr (want, '|') = '\0';
    g_assert_cmpstr (driver, ==, want);
    g_assert_cmpstr (override, ==, "");
  }

  /* Binding again changes nothing. */
  {
    g_autoptr (GPtrArray) again = NULL;
    fx_rescan (fx);
    g_clear_pointer (&plan, gv_passthrough_plan_free);
    plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
    sim_ctl (fx, "log", "clear");
    g_autoptr (GPtrArray) log = NULL;
    g_assert_true (run_plan (fx, plan, NULL, NULL, &again, &error));
    g_assert_no_error (error);
    log = read_log (fx);
    g_assert_cmpuint (log->len, ==, 0);
    g_assert_cmpstr (find_result (again, WS_GPU)->message, ==, "already on vfio-pci");
  }

  /* A VM holds /dev/vfio/8: give-back refused unless forced. */
  fx_rescan (fx);
  {
    int fd = open (vfio_node, O_RDWR);
    g_autofree char *pid = g_strdup_printf ("pid %d", getpid ());
    const char *say[] = { pid, "/dev/vfio/8", "force", NULL };
    const char *bdfs[] = { WS_GPU, NULL };
    g_autoptr (GvPassthroughPlan) forced = NULL;

    g_assert_cmpint (fd, >=, 0);
    plan_fails (fx, GV_PASSTHROUGH_GIVE_BACK, bdfs, NULL, GV_ERROR_IN_USE, say);
    forced = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, &force);
    g_assert_true (forced->needs_force);
    close (fd);
  }

  back = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
  g_assert_cmpuint (back->groups->len, ==, 1);
  g = back->groups->pdata[0];
  /* the GPU back first */
  g_assert_cmpstr (g->bdfs[0], ==, WS_GPU);
  g_assert_cmpstr (g->bdfs[3], ==, "0000:01:00.1");
  g_clear_pointer (&results, g_ptr_array_unref);
  g_assert_true (run_plan (fx, back, NULL, rec, &results, &error));
  g_assert_no_error (error);
  assert_snapshot (fx, original, NULL, "after give-back");
  for (guint i = 0; ws_group[i]; i++)
    g_assert_cmpstr (find_result (results, ws_group[i])->state, ==, "host");
  g_assert_false (g_file_test (vfio_node, G_FILE_TEST_EXISTS));
  assert_no_records (fx, ws_group);
  g_assert_cmpuint (n_journals (fx), ==, 0);
}

/* Planner refusals on the workstation; each message names the fix. */
static void
test_plan_refusals (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  GvPassthroughOptions force = { .force = TRUE };
  const char *unknown[] = { "0000:09:00.0", NULL };
  const char *malformed[] = { "01:00.0", NULL };
  const char *trick[] = { "0000:01:00.0/../../x", NULL };
  const char *nvme[] = { "0000:02:00.0", NULL };
  const char *igpu[] = { "0000:00:02.0", NULL };
  const char *none[] = { NULL };
  const char *say_unknown[] = { "0000:09:00.0", NULL };
  const char *say_form[] = { "dddd:bb:ss.f", NULL };
  const char *say_nvme[] = { "0000:02:00.0", "nvme", "configuration", NULL };
  const char *say_vga[] = { "0000:00:02.0", "boot VGA", "i915", "force", NULL };
  const char *say_driver[] = { "../x", NULL };
  GvPassthroughOptions bad_driver = { .driver = (char *) "../x" };

  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, unknown, NULL, GV_ERROR_NO_SUCH_DEVICE, say_unknown);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, malformed, NULL, GV_ERROR_NO_SUCH_DEVICE, say_form);
  plan_fails (fx, GV_PASSTHROUGH_GIVE_BACK, trick, NULL, GV_ERROR_NO_SUCH_DEVICE, say_form);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, none, NULL, GV_ERROR_NO_SUCH_DEVICE, NULL);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, NULL, NULL, GV_ERROR_NO_SUCH_DEVICE, NULL);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, nvme, NULL, GV_ERROR_NOT_MANAGED, say_nvme);
  plan_fails (fx, GV_PASSTHROUGH_UNBIND, nvme, &force, GV_ERROR_NOT_MANAGED, say_nvme);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, igpu, NULL, GV_ERROR_BOOT_VGA, say_vga);
  /* past the boot VGA with force, it is gnome-shell's too: force passes both */
  {
    g_autoptr (GvPassthroughPlan) plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, "0000:00:02.0", &force);
    g_assert_true (plan->needs_force);
    sim_ctl (fx, "holders", "remove 2011");
    plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, igpu, NULL, GV_ERROR_BOOT_VGA, say_vga);
    sim_ctl (fx, "holders", "add 2011 gnome-shell /dev/dri/card0 /dev/dri/renderD128");
  }
  {
    GvPassthroughOptions vga_only = { .force = FALSE };
    g_autoptr (GError) error = NULL;
    g_autoptr (GvPassthroughPlan) plan = gv_passthrough_plan (fx->host, GV_PASSTHROUGH_UNBIND, igpu, &vga_only, &error);
    g_assert_error (error, GV_ERROR, GV_ERROR_BOOT_VGA);
  }
  plan_fails (fx, GV_PASSTHROUGH_GIVE_BACK, ws_group, &bad_driver, GV_ERROR_NO_SUCH_DRIVER, say_driver);
}

/* Fault injection at every write of the bind and give-back paths, with
 * every errno the kernel can return there: the call fails with KERNEL and
 * every function is back where it was. */
static void
test_faults (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GHashTable) bound = NULL;
  g_autoptr (GPtrArray) binds = NULL;
  g_autoptr (GPtrArray) gives = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GvPassthroughPlan) back = NULL;
  g_autoptr (GError) error = NULL;
  GvPassthroughOptions opts = { .timeout_ms = 5000 };
  guint cases = 0;

  remove_holders (fx);
  original = snapshot (fx, ws_group);
  plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);

  /* the writes a clean bind and a clean give-back make */
  sim_ctl (fx, "log", "clear");
  g_assert_true (run_plan (fx, plan, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  binds = read_log (fx);
  bound = snapshot (fx, ws_group);
  fx_rescan (fx);
  back = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
  sim_ctl (fx, "log", "clear");
  g_assert_true (run_plan (fx, back, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  gives = read_log (fx);
  assert_snapshot (fx, original, NULL, "clean round trip");
  /* per function: driver_override, unbind, drivers_probe (bind) */
  g_assert_cmpuint (binds->len, ==, 12);
  g_assert_cmpuint (gives->len, ==, 12);
  for (guint n = 0; n < binds->len; n++)
    g_test_message ("bind write %u: %s “%s”", n, ((Write *) binds->pdata[n])->path,
                    ((Write *) binds->pdata[n])->data);

  for (guint n = 0; n < binds->len; n++) {
    const Write *w = binds->pdata[n];
    const char *const *errs = errnos_for (w->path);
    for (guint e = 0; errs[e]; e++) {
      g_autoptr (GPtrArray) results = NULL;
      g_autofree char *what = g_strdup_printf ("errno=%s", errs[e]);
      g_autofree char *context = g_strdup_printf ("bind, write %u (%s) %s", n, w->path, errs[e]);

      arm (fx, w, what);
      g_assert_false (run_plan (fx, plan, &opts, NULL, &results, &error));
      g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
      g_assert_nonnull (strstr (error->message, errs[e]));
      if (n == 0 && e == 0)
        g_test_message ("%s: %s", context, error->message);
      g_clear_error (&error);
      assert_faults_consumed (fx);
      assert_snapshot (fx, original, NULL, context);
      for (guint i = 0; ws_group[i]; i++) {
        const GvPassthroughResult *r = find_result (results, ws_group[i]);
        g_autofree char *want = g_strdup (g_hash_table_lookup (original, ws_group[i]));
        *strchr (want, '|') = '\0';
        g_assert_cmpstr (r->driver, ==, want);
        g_assert_cmpstr (r->state, ==, "host");
      }
      assert_no_records (fx, ws_group);
      g_assert_cmpuint (n_journals (fx), ==, 0);
      cases++;
    }
  }

  g_assert_true (run_plan (fx, plan, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_snapshot (fx, bound, NULL, "bound again");
  for (guint n = 0; n < gives->len; n++) {
    const Write *w = gives->pdata[n];
    const char *const *errs = errnos_for (w->path);
    for (guint e = 0; errs[e]; e++) {
      g_autoptr (GPtrArray) results = NULL;
      g_autofree char *what = g_strdup_printf ("errno=%s", errs[e]);
      g_autofree char *context = g_strdup_printf ("give-back, write %u (%s) %s", n, w->path, errs[e]);

      arm (fx, w, what);
      g_assert_false (run_plan (fx, back, &opts, NULL, &results, &error));
      g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
      g_assert_nonnull (strstr (error->message, errs[e]));
      if (n == 2 && e == 0)
        g_test_message ("%s: %s", context, error->message);
      g_clear_error (&error);
      assert_faults_consumed (fx);
      assert_snapshot (fx, bound, NULL, context);
      for (guint i = 0; ws_group[i]; i++) {
        g_assert_cmpstr (find_result (results, ws_group[i])->driver, ==, "vfio-pci");
        g_assert_true (gv_journal_lookup_original (fx->records, ws_group[i], NULL, NULL));
      }
      g_assert_cmpuint (n_journals (fx), ==, 0);
      cases++;
    }
  }
  g_assert_true (run_plan (fx, back, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_snapshot (fx, original, NULL, "given back");
  g_test_message ("%u fault cases", cases);
  g_assert_cmpuint (cases, ==, 84);
}

/* A write that blocks past the timeout, at every position: the function
 * is reported stuck, the others go back; when the write returns, the
 * progress callback reports where the stuck one ended; recovery then puts
 * it back too. */
static void
test_hangs (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (Recorder) rec = recorder_new ();
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GHashTable) bound = NULL;
  g_autoptr (GPtrArray) binds = NULL;
  g_autoptr (GPtrArray) gives = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GvPassthroughPlan) back = NULL;
  g_autoptr (GError) error = NULL;
  GvPassthroughOptions opts = { .timeout_ms = 300 };

  remove_holders (fx);
  original = snapshot (fx, ws_group);
  plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
  sim_ctl (fx, "log", "clear");
  g_assert_true (run_plan (fx, plan, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  binds = read_log (fx);
  bound = snapshot (fx, ws_group);
  fx_rescan (fx);
  back = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
  sim_ctl (fx, "log", "clear");
  g_assert_true (run_plan (fx, back, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  gives = read_log (fx);

  for (guint pass = 0; pass < 2; pass++) {
    GPtrArray *writes = pass == 0 ? binds : gives;
    GvPassthroughPlan *p = pass == 0 ? plan : back;
    GHashTable *before = pass == 0 ? original : bound;

    if (pass == 1) {
      g_assert_true (run_plan (fx, plan, &opts, NULL, NULL, &error));
      g_assert_no_error (error);
    }
    for (guint n = 0; n < writes->len; n++) {
      const Write *w = writes->pdata[n];
      g_autofree char *bdf = write_bdf (w);
      g_autofree char *context = g_strdup_printf ("%s, write %u (%s) hangs", pass ? "give-back" : "bind", n,
                                                  w->path);
      g_autoptr (GPtrArray) results = NULL;
      g_autoptr (GPtrArray) recovered = NULL;
      g_autofree char *late = NULL;
      g_autofree char *now = NULL;
      g_autofree char *now_driver = NULL;
      gint64 t0;
      guint from;

      arm (fx, w, "hang");
      t0 = g_get_monotonic_time ();
      g_assert_false (run_plan (fx, p, &opts, rec, &results, &error));
      g_assert_error (error, GV_ERROR, GV_ERROR_STUCK);
      g_assert_true (g_str_has_prefix (error->message, bdf));
      g_assert_nonnull (strstr (error->message, "300 ms"));
      if (n == 1)
        g_test_message ("%s: %s", context, error->message);
      g_clear_error (&error);
      g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
      g_assert_cmpstr (find_result (results, bdf)->state, ==, "stuck");
      assert_snapshot (fx, before, bdf, context);
      /* kept for the stuck function only */
      g_assert_cmpuint (n_journals (fx), ==, 1);

      from = recorder_len (rec);
      sim_ctl (fx, "faults", "release");
      late = recorder_wait (rec, from, bdf, 5000);
      g_assert_nonnull (late);
      g_test_message ("%s, then: %s", context, late);
      now_driver = fn_driver (fx, bdf);
      {
        g_autofree char *prefix = g_strdup_printf ("%s %s ", bdf, gv_passthrough_state_for_driver (now_driver));
        g_assert_true (g_str_has_prefix (late, prefix));
      }
      g_assert_nonnull (strstr (late, "returned after"));

      /* recovery finishes what the rollback could not */
      g_assert_true (gv_passthrough_recover (fx->records, fx->mount->root, NULL, NULL, &recovered, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (recovered->len, ==, 1);
      assert_snapshot (fx, before, NULL, context);
      g_assert_cmpuint (n_journals (fx), ==, 0);
      now = fn_state (fx, bdf);
      g_assert_cmpstr (now, ==, g_hash_table_lookup (before, bdf));
    }
  }
  g_assert_true (run_plan (fx, back, &opts, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_snapshot (fx, original, NULL, "given back");
}

/* The daemon killed with SIGKILL in the middle of a bind: a child process
 * runs the transaction, blocks in a write and is killed; the next start
 * finds the journal and puts every function back. */
static void
test_crash_recovery (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  gint64 deadline;
  pid_t child;
  int status;

  remove_holders (fx);
  original = snapshot (fx, ws_group);
  plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
  /* .1 goes first, .2 second: its unbind blocks */
  sim_ctl (fx, "faults", "sys/bus/pci/drivers/xhci_hcd/unbind hang data=0000:01:00.2 count=1");

  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0) {
    GvPassthroughOptions opts = { .timeout_ms = 60000 };
    GvJournal *records = gv_journal_open (fx->state_dir, NULL);
    gv_passthrough_run (fx->mount->root, records, plan, plan->groups->pdata[0], &opts, NULL, NULL, NULL, NULL);
    _exit (0);
  }

  /* the rule is gone once the write is blocked in it */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  for (;;) {
    g_autofree char *faults = sim_ctl_read (fx, "faults");
    if (!*faults)
      break;
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (10000);
  }
  /* A process blocked in a sysfs write dies only once the write returns
   * (the kernel does not abandon it): kill, then let the write go. */
  g_assert_cmpint (kill (child, SIGKILL), ==, 0);
  sim_ctl (fx, "faults", "release");
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status));

  /* the write itself went through */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;) {
    g_autofree char *driver = fn_driver (fx, "0000:01:00.2");
    if (!*driver)
      break;
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (10000);
  }
  {
    g_autofree char *s1 = fn_state (fx, "0000:01:00.1");
    g_autofree char *s2 = fn_state (fx, "0000:01:00.2");
    g_assert_cmpstr (s1, ==, "vfio-pci|vfio-pci");
    g_assert_cmpstr (s2, ==, "|vfio-pci");
  }

  /* restart */
  fx_open_records (fx);
  g_assert_cmpuint (n_journals (fx), ==, 1);
  for (guint i = 0; ws_group[i]; i++)
    g_assert_true (gv_journal_lookup_original (fx->records, ws_group[i], NULL, NULL));
  g_assert_true (gv_passthrough_recover (fx->records, fx->mount->root, NULL, NULL, &results, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 4);
  assert_snapshot (fx, original, NULL, "after recovery");
  g_assert_cmpuint (n_journals (fx), ==, 0);
  assert_no_records (fx, ws_group);

  /* nothing left to do the second time */
  g_clear_pointer (&results, g_ptr_array_unref);
  g_assert_true (gv_passthrough_recover (fx->records, fx->mount->root, NULL, NULL, &results, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 0);
}

/* A function on vfio-pci before gpuvirt ever saw it is recorded as such
 * and stays there on give-back. */
static void
test_vfio_at_boot (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ovr = g_build_filename (fx->mount->root, "sys/bus/pci/devices/0000:01:00.1/driver_override", NULL);
  g_autofree char *unbind = g_build_filename (fx->mount->root, "sys/bus/pci/drivers/snd_hda_intel/unbind", NULL);
  g_autofree char *probe = g_build_filename (fx->mount->root, "sys/bus/pci/drivers_probe", NULL);
  g_autofree char *driver = NULL;
  g_autofree char *override = NULL;

  remove_holders (fx);
  /* what vfio-pci.ids or driverctl does at boot */
  g_assert_cmpint (sim_write_file (ovr, "vfio-pci"), ==, 0);
  g_assert_cmpint (sim_write_file (unbind, "0000:01:00.1"), ==, 0);
  g_assert_cmpint (sim_write_file (probe, "0000:01:00.1"), ==, 0);
  fx_rescan (fx);
  original = snapshot (fx, ws_group);
  g_assert_cmpstr (g_hash_table_lookup (original, "0000:01:00.1"), ==, "vfio-pci|vfio-pci");

  plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
  g_assert_true (run_plan (fx, plan, NULL, NULL, &results, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (find_result (results, "0000:01:00.1")->message, ==, "already on vfio-pci");
  g_assert_true (gv_journal_lookup_original (fx->records, "0000:01:00.1", &driver, &override));
  g_assert_cmpstr (driver, ==, "vfio-pci");
  g_assert_cmpstr (override, ==, "vfio-pci");

  fx_rescan (fx);
  g_clear_pointer (&results, g_ptr_array_unref);
  g_clear_pointer (&plan, gv_passthrough_plan_free);
  plan = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
  g_assert_true (run_plan (fx, plan, NULL, NULL, &results, &error));
  g_assert_no_error (error);
  assert_snapshot (fx, original, NULL, "after give-back");
  g_assert_cmpstr (find_result (results, "0000:01:00.1")->state, ==, "vfio");
  /* still recorded: it must never be "given back" to a host driver */
  g_assert_true (gv_journal_lookup_original (fx->records, "0000:01:00.1", NULL, NULL));
  g_assert_false (gv_journal_lookup_original (fx->records, WS_GPU, NULL, NULL));
}

/* Give-back errors before any write, and a named driver. */
static void
test_give_back_errors (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) original = NULL;
  g_autofree char *state2 = NULL;
  GvPassthroughOptions nosuch = { .driver = (char *) "nosuch" };
  GvPassthroughOptions nvidia = { .driver = (char *) "nvidia" };

  remove_holders (fx);
  original = snapshot (fx, ws_group);
  run_ok (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);

  /* an unknown driver: NO_SUCH_DRIVER, no write at all */
  {
    g_autoptr (GvPassthroughPlan) plan = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, &nosuch);
    g_autoptr (GPtrArray) log = NULL;
    g_assert_cmpuint (plan->groups->len, ==, 1);
    /* the whole group is planned; the named driver is for the GPU */
    g_assert_cmpuint (g_strv_length (((GvPassthroughGroup *) plan->groups->pdata[0])->bdfs), ==, 4);
    sim_ctl (fx, "log", "clear");
    g_assert_false (run_plan (fx, plan, &nosuch, NULL, NULL, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DRIVER);
    g_assert_nonnull (strstr (error->message, "modprobe nosuch"));
    g_clear_error (&error);
    log = read_log (fx);
    g_assert_cmpuint (log->len, ==, 0);
  }

  /* no record (another state directory) and no driver named */
  {
    g_autofree char *saved = g_strdup (fx->state_dir);
    g_autoptr (GvPassthroughPlan) plan = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
    g_autoptr (GPtrArray) log = NULL;

    state2 = g_build_filename (fx->state_dir, "other", NULL);
    g_free (fx->state_dir);
    fx->state_dir = g_strdup (state2);
    fx_open_records (fx);
    sim_ctl (fx, "log", "clear");
    g_assert_false (run_plan (fx, plan, NULL, NULL, NULL, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DRIVER);
    g_assert_nonnull (strstr (error->message, "--driver NAME"));
    g_test_message ("%s", error->message);
    g_clear_error (&error);
    log = read_log (fx);
    g_assert_cmpuint (log->len, ==, 0);

    /* naming it works for the GPU; companions without a record stay on vfio-pci */
    {
      g_autoptr (GvPassthroughPlan) named = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, &nvidia);
      g_autofree char *now = NULL;
      g_autofree char *audio = NULL;
      g_assert_true (run_plan (fx, named, &nvidia, NULL, NULL, &error));
      g_assert_no_error (error);
      now = fn_state (fx, WS_GPU);
      audio = fn_state (fx, "0000:01:00.1");
      g_assert_cmpstr (now, ==, "nvidia|");
      g_assert_cmpstr (audio, ==, "vfio-pci|vfio-pci");
    }
    g_free (fx->state_dir);
    fx->state_dir = g_steal_pointer (&saved);
    fx_open_records (fx);
  }

  /* the rest goes back by its records */
  fx_rescan (fx);
  {
    g_autoptr (GvPassthroughPlan) plan = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
    g_assert_true (run_plan (fx, plan, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
  }
  assert_snapshot (fx, original, NULL, "after give-back");
}

/* Unbind only: driverless, override untouched; give-back binds it again. */
static void
test_unbind (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (Recorder) rec = recorder_new ();
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) original = NULL;
  g_autofree char *now = NULL;

  original = snapshot (fx, ws_group);
  plan = plan_one (fx, GV_PASSTHROUGH_UNBIND, "0000:01:00.1", NULL);
  g_assert_cmpuint (g_strv_length (plan->all_bdfs), ==, 1);
  g_assert_true (run_plan (fx, plan, NULL, rec, NULL, &error));
  g_assert_no_error (error);
  now = fn_state (fx, "0000:01:00.1");
  g_assert_cmpstr (now, ==, "|");
  g_assert_true (g_str_has_prefix (rec->events->pdata[0], "0000:01:00.1 releasing"));
  g_assert_true (g_str_has_prefix (rec->events->pdata[1], "0000:01:00.1 unbound"));
  g_assert_true (gv_journal_lookup_original (fx->records, "0000:01:00.1", NULL, NULL));

  /* the GPU itself is held */
  {
    const char *bdfs[] = { WS_GPU, NULL };
    plan_fails (fx, GV_PASSTHROUGH_UNBIND, bdfs, NULL, GV_ERROR_HELD, NULL);
  }

  fx_rescan (fx);
  run_ok (fx, GV_PASSTHROUGH_GIVE_BACK, "0000:01:00.1", NULL);
  assert_snapshot (fx, original, NULL, "after give-back");
  g_assert_false (gv_journal_lookup_original (fx->records, "0000:01:00.1", NULL, NULL));
}

/* drivers_probe answers success when no driver took the device: only
 * reading the driver link back tells. A PF with VFs enabled is one such
 * case (vfio-pci's probe says EBUSY, silently). */
static void
test_verify_probe (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autofree char *numvfs = g_build_filename (fx->mount->root, "sys/bus/pci/devices/0000:67:00.0/sriov_numvfs", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autofree char *now = NULL;
  const char *bdfs[] = { "0000:67:00.0", NULL };
  const char *say[] = { "SR-IOV", "sriov_numvfs", NULL };
  char *group_bdfs[] = { (char *) "0000:67:00.0", NULL };
  GvPassthroughGroup group = { 61, group_bdfs };
  g_autoptr (GPtrArray) groups = g_ptr_array_new ();
  GvPassthroughPlan plan = { GV_PASSTHROUGH_BIND_VFIO, groups, group_bdfs, FALSE };

  g_ptr_array_add (groups, &group);
  g_assert_cmpint (sim_write_file (numvfs, "1"), ==, 0);
  fx_rescan (fx);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, bdfs, NULL, GV_ERROR_NOT_SUPPORTED, say);

  /* past the planner, the transaction still catches it */
  g_assert_false (gv_passthrough_run (fx->mount->root, fx->records, &plan, &group, NULL, NULL, NULL, &results,
                                      &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
  g_assert_nonnull (strstr (error->message, "returned success, but it is on no driver, not vfio-pci"));
  g_test_message ("%s", error->message);
  now = fn_state (fx, "0000:67:00.0");
  g_assert_cmpstr (now, ==, "nvidia|");
  g_assert_cmpstr (find_result (results, "0000:67:00.0")->state, ==, "host");
  g_assert_cmpuint (n_journals (fx), ==, 0);
}

static void
test_no_iommu (void)
{
  g_autoptr (Fx) fx = fx_new ("no-iommu");
  const char *bdfs[] = { "0000:01:00.0", NULL };
  const char *say[] = { "IOMMU", "intel_iommu=on", NULL };
  GvPassthroughOptions force = { .force = TRUE };

  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, bdfs, NULL, GV_ERROR_NO_IOMMU, say);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, bdfs, &force, GV_ERROR_NO_IOMMU, say);
  /* giving back needs no IOMMU: nothing is on vfio-pci, so nothing moves */
  {
    g_autoptr (GvPassthroughPlan) plan = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, "0000:01:00.0", NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) log = NULL;
    g_assert_cmpint (((GvPassthroughGroup *) plan->groups->pdata[0])->iommu_group, ==, -1);
    sim_ctl (fx, "log", "clear");
    g_assert_true (run_plan (fx, plan, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    log = read_log (fx);
    g_assert_cmpuint (log->len, ==, 0);
  }
}

static void
test_vendor_vfio (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  GvHostDevice *pf = gv_host_lookup (fx->host, "0000:01:00.0");
  const char *vf[] = { NULL, NULL };
  const char *pf_bdfs[] = { "0000:01:00.0", NULL };
  const char *say_vf[] = { "vendor-specific VFIO", "current_vgpu_type", NULL };
  const char *say_pf[] = { "SR-IOV", NULL };
  GvPassthroughOptions force = { .force = TRUE, .allow_foreign = TRUE };

  g_assert_nonnull (pf);
  vf[0] = pf->fn->vfs[0];
  g_assert_nonnull (vf[0]);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, vf, &force, GV_ERROR_NOT_SUPPORTED, say_vf);
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, pf_bdfs, &force, GV_ERROR_NOT_SUPPORTED, say_pf);
  /* GPU 2 has no VFs: it may go */
  {
    g_autoptr (GvPassthroughPlan) plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, "0000:81:00.0", NULL);
    g_assert_cmpuint (plan->groups->len, ==, 1);
  }
}

/* ---- big-host: foreign group members, parallel groups ---- */

typedef struct {
  Fx *fx;
  const GvPassthroughPlan *plan;
  const GvPassthroughGroup *group;
  const GvPassthroughOptions *opts;
  const char *path;  /* for disable_vfs */
  gboolean ok;
  GError *error;
} Job;

static gpointer
run_group (gpointer data)
{
  Job *job = data;
  g_autoptr (GPtrArray) results = NULL;

  job->ok = gv_passthrough_run (job->fx->mount->root, job->fx->records, job->plan, job->group, job->opts, NULL,
                                NULL, &results, &job->error);
  return NULL;
}

/* Every group in a thread of its own, as the daemon does; seconds taken. */
static double
run_parallel (Fx *fx, const GvPassthroughPlan *plan, const GvPassthroughOptions *opts)
{
  g_autofree Job *jobs = g_new0 (Job, plan->groups->len);
  g_autofree GThread **threads = g_new0 (GThread *, plan->groups->len);
  gint64 t0 = g_get_monotonic_time ();

  for (guint i = 0; i < plan->groups->len; i++) {
    jobs[i] = (Job) { fx, plan, plan->groups->pdata[i], opts, NULL, FALSE, NULL };
    threads[i] = g_thread_new ("group", run_group, &jobs[i]);
  }
  for (guint i = 0; i < plan->groups->len; i++) {
    g_thread_join (threads[i]);
    g_assert_no_error (jobs[i].error);
    g_assert_true (jobs[i].ok);
  }
  return (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

static gpointer
disable_vfs (gpointer data)
{
  Job *job = data;
  job->ok = sim_write_file (job->path, "0") == 0;
  return NULL;
}

#define SLOW_OVERRIDE "sys/devices/*/driver_override delay=1000 data=vfio-pci count=20"
#define SLOW_UNBIND "sys/bus/pci/drivers/nvidia/unbind delay=1000 count=20"

/* Binds GPUS with FAULT armed, groups in parallel threads or one after
 * the other; checks and gives them back. Seconds the bind took. */
static double
timed_bind (Fx *fx, GPtrArray *gpus, const char *fault, gboolean parallel)
{
  GvPassthroughOptions opts = { .timeout_ms = 20000 };
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GvPassthroughPlan) back = NULL;
  g_autoptr (GError) error = NULL;
  double seconds;

  fx_rescan (fx);
  plan = plan_ok (fx, GV_PASSTHROUGH_BIND_VFIO, (const char *const *) gpus->pdata, NULL);
  sim_ctl (fx, "faults", "clear");
  sim_ctl (fx, "faults", fault);
  if (parallel) {
    seconds = run_parallel (fx, plan, &opts);
  } else {
    gint64 t0 = g_get_monotonic_time ();
    g_assert_true (run_plan (fx, plan, &opts, NULL, NULL, &error));
    g_assert_no_error (error);
    seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  }
  sim_ctl (fx, "faults", "clear");
  for (guint i = 0; gpus->pdata[i]; i++) {
    g_autofree char *now = fn_state (fx, gpus->pdata[i]);
    g_assert_cmpstr (now, ==, "vfio-pci|vfio-pci");
  }

  fx_rescan (fx);
  back = plan_ok (fx, GV_PASSTHROUGH_GIVE_BACK, (const char *const *) gpus->pdata, NULL);
  run_parallel (fx, back, &opts);
  for (guint i = 0; gpus->pdata[i]; i++) {
    g_autofree char *now = fn_state (fx, gpus->pdata[i]);
    g_assert_cmpstr (now, ==, "nvidia|");
  }
  return seconds;
}

static void
test_big_host (void)
{
  g_autoptr (Fx) fx = fx_new ("big-host");
  g_autoptr (GPtrArray) gpus = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GvPassthroughPlan) plan = NULL;
  const char *pair_a[] = { "0000:3a:00.0", NULL };
  const char *pair[] = { "0000:3a:00.0", "0000:3b:00.0", NULL };
  const char *say_foreign[] = { "IOMMU group 40", "0000:3b:00.0", "allow-foreign", "ACS", NULL };
  GvPassthroughOptions foreign = { .allow_foreign = TRUE };
  GPtrArray *devices = gv_host_get_devices (fx->host);
  double parallel;

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    if (d->role == GV_HOST_ROLE_GPU && d->fn->vendor_id == 0x10de)
      g_ptr_array_add (gpus, g_strdup (d->fn->bdf));
  }
  g_assert_cmpuint (gpus->len, ==, 9); /* eight L40S and a T4 */

  /* with its VFs there, the pair's group holds 3b's VFs too */
  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, pair_a, NULL, GV_ERROR_GROUP_NOT_VIABLE, say_foreign);

  /* vfio-pci takes no PF with VFs enabled: disable them, all at once */
  {
    g_autofree Job *jobs = g_new0 (Job, gpus->len);
    g_autofree GThread **threads = g_new0 (GThread *, gpus->len);
    for (guint i = 0; i < gpus->len; i++) {
      g_ptr_array_add (paths, g_strdup_printf ("%s/sys/bus/pci/devices/%s/sriov_numvfs", fx->mount->root,
                                               (char *) gpus->pdata[i]));
      jobs[i].path = paths->pdata[i];
      threads[i] = g_thread_new ("numvfs", disable_vfs, &jobs[i]);
    }
    for (guint i = 0; i < gpus->len; i++) {
      g_thread_join (threads[i]);
      g_assert_true (jobs[i].ok);
    }
  }
  fx_rescan (fx);

  plan_fails (fx, GV_PASSTHROUGH_BIND_VFIO, pair_a, NULL, GV_ERROR_GROUP_NOT_VIABLE, say_foreign);
  {
    g_autoptr (GvPassthroughPlan) taken = plan_ok (fx, GV_PASSTHROUGH_BIND_VFIO, pair_a, &foreign);
    const GvPassthroughGroup *g = taken->groups->pdata[0];
    g_assert_cmpuint (taken->groups->len, ==, 1);
    g_assert_cmpint (g->iommu_group, ==, 40);
    g_assert_cmpuint (g_strv_length (g->bdfs), ==, 2);
    g_assert_cmpstr (g->bdfs[0], ==, "0000:3b:00.0");
    g_assert_cmpstr (g->bdfs[1], ==, "0000:3a:00.0");
  }
  {
    /* both asked for: neither is foreign to the other */
    g_autoptr (GvPassthroughPlan) both = plan_ok (fx, GV_PASSTHROUGH_BIND_VFIO, pair, NULL);
    g_assert_cmpuint (both->groups->len, ==, 1);
    g_assert_cmpuint (g_strv_length (((GvPassthroughGroup *) both->groups->pdata[0])->bdfs), ==, 2);
  }

  g_ptr_array_add (gpus, NULL);
  plan = plan_ok (fx, GV_PASSTHROUGH_BIND_VFIO, (const char *const *) gpus->pdata, NULL);
  g_assert_cmpuint (plan->groups->len, ==, 8);

  /* A second per GPU in a write of its own device: with one thread per
   * group, the nine GPUs take two seconds (group 40 has two of them). */
  parallel = timed_bind (fx, gpus, SLOW_OVERRIDE, TRUE);
  g_printerr ("# big-host bind, 9 GPUs in 8 groups, 1 s per GPU, one thread per group: %.2f s\n", parallel);
  g_assert_cmpfloat (parallel, <, 4.0);

  if (g_test_perf ()) {
    /* vfio-manage.sh style for comparison: one GPU after the other */
    double sequential = timed_bind (fx, gpus, SLOW_OVERRIDE, FALSE);
    g_printerr ("# big-host bind, same, one GPU after the other: %.2f s\n", sequential);
    g_test_minimized_result (parallel, "parallel %.2f s, sequential %.2f s", parallel, sequential);
    /* The slow nvidia unbind itself: every GPU's unbind is a write to the
     * one file drivers/nvidia/unbind, and FUSE (without
     * FOPEN_PARALLEL_DIRECT_WRITES, which libfuse 3.14 cannot ask for)
     * takes that inode's lock for each write; kernfs does not. On the
     * simulator these take turns whatever the engine does. */
    g_printerr ("# big-host bind, 1 s nvidia unbind, parallel groups (serialized by FUSE): %.2f s\n",
                timed_bind (fx, gpus, SLOW_UNBIND, TRUE));
    g_printerr ("# big-host bind, 1 s nvidia unbind, one GPU after the other: %.2f s\n",
                timed_bind (fx, gpus, SLOW_UNBIND, FALSE));
  }
}

/* The rollback itself fails: the function is reported exactly, with the
 * commands to recover it by hand, the journal stays, and recovery at the
 * next start puts it back. */
static void
test_rollback_fails (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GPtrArray) recovered = NULL;
  g_autoptr (GError) error = NULL;
  const GvPassthroughResult *r;
  const char *say[] = { "drivers_probe of 0000:01:00.3 (for vfio-pci) failed: EIO",
                        "rolled back: 0000:01:00.2 on xhci_hcd, 0000:01:00.1 on snd_hda_intel",
                        "untouched: 0000:01:00.0 on nvidia",
                        "0000:01:00.3 NOT rolled back: bind of 0000:01:00.3 to nvidia-gpu failed: EIO",
                        "it is on no driver", "echo 0000:01:00.3 > ", "/sys/bus/pci/drivers/nvidia-gpu/bind", NULL };

  remove_holders (fx);
  original = snapshot (fx, ws_group);
  plan = plan_one (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
  sim_ctl (fx, "faults", "sys/bus/pci/drivers_probe errno=EIO data=0000:01:00.3 count=1");
  sim_ctl (fx, "faults", "sys/bus/pci/drivers/nvidia-gpu/bind errno=EIO data=0000:01:00.3 count=1");
  g_assert_false (run_plan (fx, plan, NULL, NULL, &results, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
  g_test_message ("%s", error->message);
  for (guint i = 0; say[i]; i++)
    if (!strstr (error->message, say[i]))
      g_error ("“%s” does not say “%s”", error->message, say[i]);
  g_clear_error (&error);
  r = find_result (results, "0000:01:00.3");
  g_assert_cmpstr (r->state, ==, "unbound");
  g_assert_cmpstr (r->driver, ==, "");
  g_assert_nonnull (strstr (r->message, "by hand"));
  assert_snapshot (fx, original, "0000:01:00.3", "after a failed rollback");
  g_assert_cmpuint (n_journals (fx), ==, 1);
  g_assert_true (gv_journal_lookup_original (fx->records, "0000:01:00.3", NULL, NULL));

  fx_open_records (fx);
  g_assert_true (gv_passthrough_recover (fx->records, fx->mount->root, NULL, NULL, &recovered, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (recovered->len, ==, 1);
  g_assert_cmpstr (((GvPassthroughResult *) recovered->pdata[0])->driver, ==, "nvidia-gpu");
  assert_snapshot (fx, original, NULL, "after recovery");
  g_assert_cmpuint (n_journals (fx), ==, 0);
  assert_no_records (fx, ws_group);
}

/* A function that had no driver goes back to having none: "exactly the
 * driver it had", not whatever drivers_probe would pick. */
static void
test_driverless_original (void)
{
  g_autoptr (Fx) fx = fx_new ("workstation");
  g_autoptr (GHashTable) original = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GvPassthroughPlan) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *unbind = g_build_filename (fx->mount->root, "sys/bus/pci/drivers/nvidia-gpu/unbind", NULL);
  g_autofree char *driver = NULL;

  remove_holders (fx);
  g_assert_cmpint (sim_write_file (unbind, "0000:01:00.3"), ==, 0);
  fx_rescan (fx);
  original = snapshot (fx, ws_group);
  g_assert_cmpstr (g_hash_table_lookup (original, "0000:01:00.3"), ==, "|");

  run_ok (fx, GV_PASSTHROUGH_BIND_VFIO, WS_GPU, NULL);
  g_assert_true (gv_journal_lookup_original (fx->records, "0000:01:00.3", &driver, NULL));
  g_assert_cmpstr (driver, ==, "");
  {
    g_autofree char *now = fn_state (fx, "0000:01:00.3");
    g_assert_cmpstr (now, ==, "vfio-pci|vfio-pci");
  }
  back = plan_one (fx, GV_PASSTHROUGH_GIVE_BACK, WS_GPU, NULL);
  g_assert_true (run_plan (fx, back, NULL, NULL, &results, &error));
  g_assert_no_error (error);
  assert_snapshot (fx, original, NULL, "after give-back");
  g_assert_cmpstr (find_result (results, "0000:01:00.3")->state, ==, "unbound");
  assert_no_records (fx, ws_group);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/passthrough/root-check", test_root_check);
  g_test_add_func ("/passthrough/workstation-round-trip", test_round_trip);
  g_test_add_func ("/passthrough/workstation-plan-refusals", test_plan_refusals);
  g_test_add_func ("/passthrough/workstation-vfio-at-boot", test_vfio_at_boot);
  g_test_add_func ("/passthrough/workstation-give-back-errors", test_give_back_errors);
  g_test_add_func ("/passthrough/workstation-unbind", test_unbind);
  g_test_add_func ("/passthrough/workstation-rollback-fails", test_rollback_fails);
  g_test_add_func ("/passthrough/workstation-driverless-original", test_driverless_original);
  g_test_add_func ("/passthrough/verify-probe", test_verify_probe);
  g_test_add_func ("/passthrough/no-iommu", test_no_iommu);
  g_test_add_func ("/passthrough/vendor-vfio", test_vendor_vfio);
  g_test_add_func ("/faults/errno", test_faults);
  g_test_add_func ("/faults/hang", test_hangs);
  g_test_add_func ("/recovery/sigkill", test_crash_recovery);
  g_test_add_func ("/parallel/big-host", test_big_host);
  return g_test_run ();
}
