/* MigMode= and MigProfiles= in the boot plan (service/config/), D-Bus
 * free, on the simulator's mig-host scenario with the test NVML: the
 * order MIG mode -> SR-IOV -> GPU instances -> MIG-backed vGPU types
 * (read back from the simulator's write log), a second run writing
 * nothing, a layout that cannot fit or MIG-backed vGPUs without their
 * instances refused before anything of that GPU is written, a held GPU
 * left pending and said so, and a plan killed (SIGKILL) in the middle of
 * making GPU instances undone at the next start, after which it
 * completes. Proven against the test NVML only. */
#include "config/config.h"
#include "gpuvirt-names.h"
#include "sim-mount.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define H100 "0000:41:00.0"
#define A100 "0000:81:00.0"
#define A100X "0000:c1:00.0"

typedef struct {
  SimMount *mount;
  char *dir;
  char *state_dir;
  char *main_file;
  GvJournal *records;
  GvHost *host;
  GvMigNvml *nvml;
} Fx;

static Fx *
fx_new (void)
{
  Fx *fx = g_new0 (Fx, 1);
  g_autoptr (GError) error = NULL;

  fx->mount = sim_mount_start ("mig-host");
  g_setenv ("GPUVIRT_TEST_NVML_ROOT", fx->mount->root, TRUE);
  fx->dir = g_dir_make_tmp ("gpuvirt-mig-plan-XXXXXX", &error);
  fx->state_dir = g_build_filename (fx->dir, "state", NULL);
  fx->main_file = g_build_filename (fx->dir, "gpuvirt.conf", NULL);
  fx->records = gv_journal_open (fx->state_dir, &error);
  g_assert_no_error (error);
  fx->host = gv_host_new (fx->mount->root, &error);
  g_assert_no_error (error);
  fx->nvml = gv_mig_nvml_open (5000, &error);
  g_assert_no_error (error);
  return fx;
}

static void
fx_free (Fx *fx)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fx->dir);

  gv_mig_nvml_close (fx->nvml);
  gv_host_free (fx->host);
  gv_journal_free (fx->records);
  sim_mount_stop (fx->mount);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (fx->dir);
  g_free (fx->state_dir);
  g_free (fx->main_file);
  g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fx, fx_free)

static char *
sim_read (Fx *fx, const char *rel)
{
  g_autofree char *path = sim_mount_path (fx->mount, rel);
  char *text = sim_read_file (path);
  return text ? g_strchomp (text) : g_strdup ("");
}

static void
sim_write (Fx *fx, const char *rel, const char *data)
{
  g_autofree char *path = sim_mount_path (fx->mount, rel);
  g_assert_cmpint (sim_write_file (path, data), ==, 0);
}

static GvConfig *
fx_config (Fx *fx, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = NULL;
  GvConfig *config;

  g_file_set_contents (fx->main_file, text, -1, &error);
  config = gv_config_load (fx->main_file, NULL, &problems, &error);
  if (!config)
    g_error ("%s", error->message);
  return config;
}

/* The MIG GPUs as NVML shows them now, for the plan. */
static GHashTable *
fx_mig (Fx *fx)
{
  GHashTable *mig = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) gv_mig_gpu_free);
  const char *gpus[] = { H100, A100, A100X };

  for (gsize i = 0; i < G_N_ELEMENTS (gpus); i++) {
    g_autoptr (GError) error = NULL;
    GvMigGpu *gpu = gv_mig_gpu_read (fx->nvml, gpus[i], 5000, &error);
    g_assert_no_error (error);
    g_hash_table_insert (mig, g_strdup (gpus[i]), gpu);
  }
  return mig;
}

static GvConfigPlan *
fx_compute (Fx *fx, GvConfig *config)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) mig = fx_mig (fx);
  GvConfigPlanOptions opts = { .state_dir = fx->state_dir, .mig = mig };
  g_autofree char *text = NULL;
  GvConfigPlan *plan;

  g_assert_true (gv_host_rescan (fx->host, NULL, &error));
  plan = gv_config_plan_compute (config, fx->host, &opts);
  text = gv_config_plan_to_text (plan);
  g_test_message ("plan:\n%s", text);
  return plan;
}

static GvConfigRunOptions
run_options (Fx *fx, GvJournal *records, GvMigNvml *nvml)
{
  GvConfigRunOptions opts = { 0 };

  opts.root = fx->mount->root;
  opts.records = records;
  opts.state_dir = fx->state_dir;
  opts.timeout_ms = 10000;
  opts.appear_ms = 3000;
  opts.nvml = nvml;
  return opts;
}

static gboolean
fx_run (Fx *fx, GvConfigPlan *plan, GError **error)
{
  GvConfigRunOptions opts = run_options (fx, fx->records, fx->nvml);
  gboolean ok = gv_config_plan_run (plan, &opts, error);
  g_autofree char *text = gv_config_plan_to_text (plan);

  g_test_message ("ran:\n%s", text);
  return ok;
}

/* "phase status" of every step, space separated */
static char *
statuses (GvConfigPlan *plan)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < gv_config_plan_get_n_steps (plan); i++) {
    const GvConfigStep *step = gv_config_plan_get_step (plan, i);
    g_string_append_printf (s, "%s%s:%s", i ? " " : "", step->phase, gv_config_step_status_to_string (step->status));
  }
  return g_string_free (s, FALSE);
}

/* Index of the first log line containing NEEDLE (G_MAXUINT if none). */
static guint
log_index (const char *log, const char *needle)
{
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], needle))
      return i;
  return G_MAXUINT;
}

static guint
count_lines (const char *text, const char *needle)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i]; i++)
    n += strstr (lines[i], needle) != NULL;
  return n;
}

static const char *h100_config =
  "[Device " H100 "]\nId=10de:2331\nMigMode=true\nMigProfiles=1g.10gb:2;3g.40gb\nNumVfs=2\n\n"
  "[Device 0000:41:00.4]\nId=10de:2331\nVgpuType=H100-1-10C\n\n"
  "[Device 0000:41:00.5]\nId=10de:2331\nVgpuType=NVIDIA H100-3-40C\n";

/* MIG mode, then VFs (which drop instances), then GPU instances, then
 * the MIG-backed types on the VFs. */
static void
test_order (void)
{
  g_autoptr (Fx) fx = fx_new ();
  g_autoptr (GvConfig) config = fx_config (fx, h100_config);
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GvConfigPlan) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *st = statuses (plan);
  g_autofree char *log = NULL;
  g_autofree char *mig = NULL;
  guint reset, sriov, gi, type4, type5;

  g_assert_cmpstr (st, ==, "mig-mode:pending sriov:pending mig:pending vgpu:pending vgpu:pending");
  g_assert_true (fx_run (fx, plan, &error));
  g_assert_no_error (error);
  g_free (st);
  st = statuses (plan);
  g_assert_cmpstr (st, ==, "mig-mode:done sriov:done mig:done vgpu:done vgpu:done");
  log = sim_read (fx, ".sim/log");
  g_test_message ("log:\n%s", log);
  reset = log_index (log, H100 "/reset \"1\"");
  sriov = log_index (log, H100 "/sriov_numvfs \"2\"");
  gi = log_index (log, ".sim/mig \"gi-create " H100);
  type4 = log_index (log, "0000:41:00.4/nvidia/current_vgpu_type");
  type5 = log_index (log, "0000:41:00.5/nvidia/current_vgpu_type");
  g_assert_cmpuint (reset, <, sriov);
  g_assert_cmpuint (sriov, <, gi);
  g_assert_cmpuint (gi, <, type4);
  g_assert_cmpuint (type4, <, type5);
  g_assert_cmpuint (type5, !=, G_MAXUINT);
  /* MIG-backed vGPUs: instances without compute instances, each used */
  mig = sim_read (fx, ".sim/mig");
  g_assert_cmpuint (count_lines (mig, "gi " H100), ==, 3);
  g_assert_cmpuint (count_lines (mig, "ci " H100), ==, 0);
  g_assert_cmpuint (count_lines (mig, "used=0000:41:00.4"), ==, 1);
  g_assert_cmpuint (count_lines (mig, "used=0000:41:00.5"), ==, 1);
  g_assert_cmpuint (count_lines (mig, "profile=3g.40gb"), ==, 1);
  g_assert_nonnull (strstr (mig, "profile=3g.40gb start=0 size=4 slices=3 used=0000:41:00.5"));

  /* again: every step skipped, nothing written */
  sim_write (fx, ".sim/log", "clear");
  again = fx_compute (fx, config);
  g_free (st);
  st = statuses (again);
  g_assert_cmpstr (st, ==, "mig-mode:skipped sriov:skipped mig:skipped vgpu:skipped vgpu:skipped");
  g_assert_true (fx_run (fx, again, &error));
  g_free (log);
  log = sim_read (fx, ".sim/log");
  g_assert_cmpstr (log, ==, "");
}

/* A layout that cannot fit, or MIG-backed vGPUs without their instances:
 * nothing of that GPU is written; another GPU's steps still run. */
static void
test_refused_whole (void)
{
  g_autoptr (Fx) fx = fx_new ();
  g_autoptr (GvConfig) config = fx_config (fx,
    "[Device " H100 "]\nId=10de:2331\nMigMode=true\nMigProfiles=7g.80gb;1g.10gb\nNumVfs=2\n\n"
    "[Device " A100 "]\nId=10de:20f1\nMigMode=true\nNumVfs=1\n\n"
    "[Mdev 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f]\nParent=0000:81:00.4\nParentId=10de:20f1\nType=A100-2-10C\n\n"
    "[Device " A100X "]\nId=10de:20b2\nMigMode=true\nMigProfiles=3g.40gb:2\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = gv_config_plan_to_text (plan);
  g_autofree char *log = NULL;
  g_autofree char *mig = NULL;

  g_assert_nonnull (strstr (text, "GPU instances 1g.10gb:1;7g.80gb:1: failed (" H100 " cannot hold 1 × 7g.80gb, "
                                  "1 × 1g.10gb"));
  g_assert_nonnull (strstr (text, "sriov " H100 " enable 2 VFs: failed (not run, so that " H100 " keeps its layout"));
  g_assert_nonnull (strstr (text, "mig-mode " H100 " MIG mode on: failed (not run"));
  g_assert_nonnull (strstr (text, "its MIG-backed vGPUs need GPU instances of 2g.10gb: add MigMode=true and "
                                  "MigProfiles=2g.10gb:1 to [Device " A100 "]"));
  g_assert_false (fx_run (fx, plan, &error));
  log = sim_read (fx, ".sim/log");
  g_test_message ("log:\n%s", log);
  g_assert_cmpuint (count_lines (log, H100), ==, 0);
  g_assert_cmpuint (count_lines (log, A100 "/"), ==, 0);
  /* the third GPU was done */
  mig = sim_read (fx, ".sim/mig");
  g_assert_cmpuint (count_lines (mig, "gi " A100X), ==, 2);
  g_assert_cmpuint (count_lines (mig, "ci " A100X), ==, 2);
}

/* A held GPU: the mode is set pending, not forced; the step says so and
 * the instances wait for it. */
static void
test_held (void)
{
  g_autoptr (Fx) fx = fx_new ();
  g_autoptr (GvConfig) config = fx_config (fx,
    "[Device " H100 "]\nId=10de:2331\nMigMode=true\nMigProfiles=1g.10gb:2\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *mig = NULL;

  sim_write (fx, ".sim/holders", "add 4242 nvidia-persiste /dev/nvidia0");
  g_assert_false (fx_run (fx, plan, &error));
  text = gv_config_plan_to_text (plan);
  g_assert_nonnull (strstr (text, "MIG mode on is pending on " H100 ": it takes effect at the next boot, as a reset "
                                  "now would take the GPU away"));
  g_assert_nonnull (strstr (text, "(pid 4242) has /dev/nvidia0 open"));
  g_assert_nonnull (strstr (text, "mig " H100 " GPU instances 1g.10gb:2: failed (not run: it needs step 1"));
  mig = sim_read (fx, ".sim/mig");
  g_assert_nonnull (strstr (mig, "gpu " H100 " current=0 pending=1"));
}

/* ---- killed in the middle ---- */

static void
wait_until_hung (Fx *fx)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  for (;;) {
    g_autofree char *faults = sim_read (fx, ".sim/faults");
    if (!*faults)
      return;
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (10000);
  }
}

static guint
n_journals (Fx *fx)
{
  g_auto (GStrv) ids = gv_journal_list (fx->records);
  return g_strv_length (ids);
}

/* A gpuvirtd killed while it makes the second of three GPU instances:
 * the next start puts back what was there (one 7g.80gb), and the plan
 * then completes. */
static void
test_killed (void)
{
  g_autoptr (Fx) fx = fx_new ();
  g_autoptr (GvConfig) config = fx_config (fx,
    "[Device " A100X "]\nId=10de:20b2\nMigMode=true\nMigProfiles=2g.20gb:3\n");
  g_autoptr (GvConfigPlan) plan = NULL;
  g_autoptr (GvConfigPlan) rerun = NULL;
  g_autoptr (GPtrArray) recovered = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *text = NULL;
  int status;
  pid_t child;

  /* the layout there before */
  {
    GvMigContext ctx = { fx->nvml, fx->mount->root, NULL, 5000 };
    g_assert_true (gv_mig_create (&ctx, A100X, "7g.80gb", 1, TRUE, NULL, &error));
    g_assert_no_error (error);
  }
  before = sim_read (fx, ".sim/mig");
  plan = fx_compute (fx, config);
  sim_write (fx, ".sim/faults", "nvml/nvmlDeviceCreateGpuInstanceWithPlacement hang skip=1");
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0) {
    GvJournal *records = gv_journal_open (fx->state_dir, NULL);
    GvMigNvml *nvml = gv_mig_nvml_open (5000, NULL);
    GvConfigRunOptions opts = run_options (fx, records, nvml);
    opts.timeout_ms = 60000;
    gv_config_plan_run (plan, &opts, NULL);
    _exit (0);
  }
  wait_until_hung (fx);
  g_assert_cmpint (kill (child, SIGKILL), ==, 0);
  sim_write (fx, ".sim/faults", "release");
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status));
  /* half done: the 7g.80gb destroyed, one 2g.20gb made */
  after = sim_read (fx, ".sim/mig");
  g_assert_cmpstr (before, !=, after);
  g_assert_cmpuint (n_journals (fx), ==, 1);

  /* the next start */
  g_assert_true (gv_config_recover_all (fx->records, fx->mount->root, fx->nvml, &recovered, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (recovered->len, ==, 1);
  g_test_message ("recovered: %s", (char *) recovered->pdata[0]);
  g_assert_nonnull (strstr (recovered->pdata[0], A100X " (apply interrupted): destroyed 2g.20gb at 0"));
  g_free (after);
  after = sim_read (fx, ".sim/mig");
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpuint (n_journals (fx), ==, 0);
  /* and the boot plan then completes */
  rerun = fx_compute (fx, config);
  g_assert_true (fx_run (fx, rerun, &error));
  g_assert_no_error (error);
  text = sim_read (fx, ".sim/mig");
  g_assert_cmpuint (count_lines (text, "gi " A100X), ==, 3);
  g_assert_cmpuint (count_lines (text, "profile=2g.20gb"), ==, 3);
}

/* NVML missing: the MIG steps fail with the reason, and the rest of the
 * GPU is left as it is. */
static void
test_unavailable (void)
{
  g_autoptr (Fx) fx = fx_new ();
  g_autoptr (GvConfig) config = fx_config (fx, h100_config);
  g_autoptr (GError) error = NULL;
  GvConfigPlanOptions opts = { .state_dir = fx->state_dir, .mig_unavailable = "MIG is unavailable: no NVML here" };
  g_autoptr (GvConfigPlan) plan = NULL;
  g_autofree char *text = NULL;

  g_assert_true (gv_host_rescan (fx->host, NULL, &error));
  plan = gv_config_plan_compute (config, fx->host, &opts);
  text = gv_config_plan_to_text (plan);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "mig-mode " H100 " MIG mode on: failed (MIG is unavailable: no NVML here)"));
  g_assert_nonnull (strstr (text, "sriov " H100 " enable 2 VFs: failed (not run, so that " H100 " keeps its layout"));
  g_assert_cmpstr (gv_config_plan_get_state (plan), ==, GPUVIRT_PLAN_FAILED);
}

/* ---- the keys ---- */

static char *
problems_of (const char *text)
{
  g_autoptr (GPtrArray) problems = gv_config_check_text (text, NULL, NULL);
  return gv_config_problems_to_text (problems, 0);
}

static void
test_parse (void)
{
  g_autofree char *ok = problems_of ("[Device 0000:41:00.0]\nId=10de:2331\nMigMode=yes\n"
                                     "MigProfiles=1g.10gb:3,2g.20gb:2;1G.10GB\n");
  g_autofree char *no_mode = problems_of ("[Device 0000:41:00.0]\nId=10de:2331\nMigProfiles=1g.10gb:3\n");
  g_autofree char *bad = problems_of ("[Device 0000:41:00.0]\nId=10de:2331\nMigMode=true\nMigProfiles=1g.10gb:x\n");
  g_autofree char *name = problems_of ("[Device 0000:41:00.0]\nId=10de:2331\nMigMode=true\nMigProfiles=huge\n");
  g_autofree char *pt = problems_of ("[Device 0000:41:00.0]\nId=10de:2331\nPassthrough=true\nMigMode=true\n");
  g_autofree char *typo = problems_of ("[Device 0000:41:00.0]\nId=10de:2331\nMigProfile=1g.10gb\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvConfig) config = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gpuvirt-mig-keys-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "gpuvirt.conf", NULL);
  const GvConfigDevice *d;

  g_assert_cmpstr (ok, ==, "");
  g_assert_nonnull (strstr (no_mode, ":3: Device 0000:41:00.0/MigProfiles: MigProfiles needs MigMode=true"));
  g_assert_nonnull (strstr (bad, ":4: Device 0000:41:00.0/MigProfiles: MigProfiles: “1g.10gb” needs a count from 1 "
                                 "to 64 after the colon, not “x”"));
  g_assert_nonnull (strstr (name, "“huge” is no GPU instance profile"));
  g_assert_nonnull (strstr (pt, "Passthrough=true gives the whole GPU to a VM"));
  g_assert_nonnull (strstr (typo, "did you mean “MigProfiles”?"));

  /* merged per profile, and the editor writes them back */
  g_assert_true (g_file_set_contents (file, "[Device 0000:41:00.0]\nId=10de:2331\nMigMode=true\n"
                                            "MigProfiles=1g.10gb:3,2g.20gb:2;1G.10GB\n", -1, NULL));
  config = gv_config_load (file, NULL, NULL, &error);
  g_assert_no_error (error);
  d = gv_config_lookup_device (config, "0000:41:00.0");
  {
    g_autofree char *text = gv_mig_wants_to_string (d->mig_profiles);
    g_assert_cmpstr (text, ==, "1g.10gb:4;2g.20gb:2");
    g_assert_true (d->has_mig_mode && d->mig_mode);
  }
  {
    g_autoptr (GvConfigEditor) ed = gv_config_editor_new (file, NULL, &error);
    g_autofree char *text = NULL;
    g_assert_true (gv_config_editor_set_mig_profiles (ed, "0000:41:00.0", 0x10de, 0x2331, "3g.40gb:2", &error));
    g_assert_no_error (error);
    g_assert_true (gv_config_editor_set_mig_mode (ed, "0000:c1:00.0", 0x10de, 0x20b2, TRUE, TRUE, &error));
    text = gv_config_editor_get_text (ed);
    g_assert_nonnull (strstr (text, "MigProfiles=3g.40gb:2"));
    g_assert_nonnull (strstr (text, "[Device 0000:c1:00.0]\nId=10de:20b2\nMigMode=true"));
    /* off takes the instances with it */
    g_assert_true (gv_config_editor_set_mig_mode (ed, "0000:41:00.0", 0x10de, 0x2331, TRUE, FALSE, &error));
    g_free (text);
    text = gv_config_editor_get_text (ed);
    g_assert_null (strstr (text, "MigProfiles"));
    g_assert_nonnull (strstr (text, "[Device 0000:41:00.0]\nId=10de:2331\nMigMode=false"));
  }
  g_unlink (file);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config-mig/parse", test_parse);
  g_test_add_func ("/config-mig/order", test_order);
  g_test_add_func ("/config-mig/refused-whole", test_refused_whole);
  g_test_add_func ("/config-mig/held", test_held);
  g_test_add_func ("/config-mig/killed", test_killed);
  g_test_add_func ("/config-mig/unavailable", test_unavailable);
  return g_test_run ();
}
