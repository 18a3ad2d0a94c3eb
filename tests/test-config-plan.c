/* The boot plan (service/config/plan.c, run.c) and the journal of
 * SR-IOV and vGPU steps (service/vgpu/family.c), D-Bus free, on the
 * simulator: a configuration applied to a fresh host reaches exactly the
 * configured state (read back from sysfs); computed again everything is
 * skipped and a second run writes nothing; a renumbered device is refused
 * and never written to; a failed SR-IOV step fails the steps that need it
 * and no others; and a daemon killed in the middle of each kind of step
 * leaves nothing half-done once recovery ran, after which the plan
 * completes. */
#include "config/config.h"
#include "gpuvirt-names.h"
#include "sysfs/read.h"
#include "sim-mount.h"
#include "vgpu/family.h"
#include "vgpu/plan.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UUID_A "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"
#define UUID_B "0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a90"

/* ---- fixture ---- */

typedef struct {
  SimMount *mount;
  char *dir;
  char *state_dir;
  char *main_file;
  GvJournal *records;
  GvHost *host;
  GPtrArray *progress;  /* "INDEX STATUS" for each report */
  GMutex lock;
} Fx;

static void
fx_open (Fx *fx)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&fx->records, gv_journal_free);
  g_clear_pointer (&fx->host, gv_host_free);
  fx->records = gv_journal_open (fx->state_dir, &error);
  g_assert_no_error (error);
  fx->host = gv_host_new (fx->mount->root, &error);
  g_assert_no_error (error);
}

static Fx *
fx_new (const char *scenario)
{
  Fx *fx = g_new0 (Fx, 1);
  g_autoptr (GError) error = NULL;

  fx->mount = sim_mount_start (scenario);
  fx->dir = g_dir_make_tmp ("gpuvirt-plan-XXXXXX", &error);
  g_assert_no_error (error);
  fx->state_dir = g_build_filename (fx->dir, "state", NULL);
  fx->main_file = g_build_filename (fx->dir, "gpuvirt.conf", NULL);
  fx->progress = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&fx->lock);
  fx_open (fx);
  return fx;
}

static void
fx_free (Fx *fx)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fx->dir);

  gv_host_free (fx->host);
  gv_journal_free (fx->records);
  sim_mount_stop (fx->mount);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (fx->dir);
  g_free (fx->state_dir);
  g_free (fx->main_file);
  g_ptr_array_unref (fx->progress);
  g_mutex_clear (&fx->lock);
  g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fx, fx_free)

static GvConfig *
fx_config (Fx *fx, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = NULL;
  GvConfig *config;

  g_file_set_contents (fx->main_file, text, -1, &error);
  g_assert_no_error (error);
  config = gv_config_load (fx->main_file, NULL, &problems, &error);
  g_assert_no_error (error);
  return config;
}

static GvConfigPlan *
fx_compute (Fx *fx, GvConfig *config)
{
  g_autoptr (GError) error = NULL;
  GvConfigPlanOptions opts = { fx->state_dir };
  GvConfigPlan *plan;
  g_autofree char *text = NULL;

  g_assert_true (gv_host_rescan (fx->host, NULL, &error));
  g_assert_no_error (error);
  plan = gv_config_plan_compute (config, fx->host, &opts);
  text = gv_config_plan_to_text (plan);
  g_test_message ("plan:\n%s", text);
  return plan;
}

static void
on_progress (guint index, const GvConfigStep *step, gpointer data)
{
  Fx *fx = data;

  g_mutex_lock (&fx->lock);
  g_ptr_array_add (fx->progress, g_strdup_printf ("%u %s", index, gv_config_step_status_to_string (step->status)));
  g_mutex_unlock (&fx->lock);
}

static GvConfigRunOptions
run_options (Fx *fx, GvJournal *records)
{
  GvConfigRunOptions opts = { 0 };

  opts.root = fx->mount->root;
  opts.records = records;
  opts.state_dir = fx->state_dir;
  opts.timeout_ms = 10000;
  opts.appear_ms = 3000;
  opts.busy_retry_ms = 2000;
  opts.busy_retry_every_ms = 50;
  opts.progress = on_progress;
  opts.user_data = fx;
  return opts;
}

static gboolean
fx_run (Fx *fx, GvConfigPlan *plan, GError **error)
{
  GvConfigRunOptions opts = run_options (fx, fx->records);
  gboolean ok = gv_config_plan_run (plan, &opts, error);
  g_autofree char *text = gv_config_plan_to_text (plan);

  g_test_message ("ran:\n%s", text);
  return ok;
}

/* Steps' statuses, in order, as "done skipped failed ...". */
static void
assert_statuses (GvConfigPlan *plan, const char *want)
{
  g_autoptr (GString) got = g_string_new (NULL);

  for (guint i = 0; i < gv_config_plan_get_n_steps (plan); i++)
    g_string_append_printf (got, "%s%s", i ? " " : "",
                            gv_config_step_status_to_string (gv_config_plan_get_step (plan, i)->status));
  g_assert_cmpstr (got->str, ==, want);
}

static const GvConfigStep *
step (GvConfigPlan *plan, guint i)
{
  const GvConfigStep *s = gv_config_plan_get_step (plan, i);
  g_assert_nonnull (s);
  return s;
}

static void
assert_contains (const char *text, const char *part)
{
  if (!strstr (text, part))
    g_error ("“%s” does not say “%s”", text, part);
}

/* ---- the simulator ---- */

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

/* The writes logged since the last clear (one line each). */
static GStrv
writes (Fx *fx)
{
  g_autofree char *log = sim_ctl_read (fx, "log");
  g_autoptr (GPtrArray) lines = g_ptr_array_new ();
  g_auto (GStrv) all = g_strsplit (log, "\n", -1);

  for (guint i = 0; all[i]; i++)
    if (*all[i])
      g_ptr_array_add (lines, g_strdup (all[i]));
  g_ptr_array_add (lines, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&lines), FALSE);
}

static void
assert_no_writes (Fx *fx)
{
  g_auto (GStrv) w = writes (fx);

  if (w[0]) {
    g_autofree char *all = g_strjoinv ("\n", w);
    g_error ("expected no writes, got:\n%s", all);
  }
}

static char *
dev_dir (Fx *fx, const char *bdf)
{
  return g_build_filename (fx->mount->root, "sys", "bus", "pci", "devices", bdf, NULL);
}

static char *
driver_of (Fx *fx, const char *bdf)
{
  g_autofree char *dir = dev_dir (fx, bdf);
  char *d = gv_sysfs_read_link_name (dir, "driver");
  return d ? d : g_strdup ("");
}

static guint
numvfs (Fx *fx, const char *pf)
{
  g_autofree char *dir = dev_dir (fx, pf);
  guint64 n = 0;

  g_assert_true (gv_sysfs_read_uint (dir, "sriov_numvfs", FALSE, &n));
  return (guint) n;
}

static guint
current_type (Fx *fx, const char *vf)
{
  g_autofree char *dir = g_build_filename (fx->mount->root, "sys", "bus", "pci", "devices", vf, "nvidia", NULL);
  guint64 t = 0;

  if (!gv_sysfs_read_uint (dir, "current_vgpu_type", FALSE, &t))
    return G_MAXUINT;
  return (guint) t;
}

/* The mdev's "PARENT TYPE", or NULL when there is none. */
static char *
mdev_of (Fx *fx, const char *uuid)
{
  g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (fx->mount->root);

  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    if (g_str_equal (m->uuid, uuid))
      return g_strdup_printf ("%s %s", m->parent, m->type_id);
  }
  return NULL;
}

static guint
mdevs_on (Fx *fx, const char *parent, const char *type)
{
  g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (fx->mount->root);
  guint n = 0;

  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    n += g_str_equal (m->parent, parent) && (!type || g_str_equal (m->type_id, type));
  }
  return n;
}

static guint
n_journals (Fx *fx)
{
  g_autofree char *dir = g_build_filename (fx->state_dir, "journal", NULL);
  g_autoptr (GPtrArray) names = gv_sysfs_list_dir (dir);
  guint n = 0;

  for (guint i = 0; i < names->len; i++)
    n += g_str_has_suffix (names->pdata[i], ".journal");
  return n;
}

/* Applies CONFIG again: every step is skipped and nothing is written. */
static void
assert_idempotent (Fx *fx, GvConfig *config)
{
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < gv_config_plan_get_n_steps (plan); i++)
    if (step (plan, i)->status != GV_CONFIG_STEP_SKIPPED)
      g_error ("step %u is %s, not skipped: %s", i + 1, gv_config_step_status_to_string (step (plan, i)->status),
               step (plan, i)->message);
  g_assert_cmpstr (gv_config_plan_get_state (plan), ==, GPUVIRT_PLAN_DONE);
  sim_ctl (fx, "log", "clear");
  g_assert_true (fx_run (fx, plan, &error));
  g_assert_no_error (error);
  assert_no_writes (fx);
}

/* ---- a fresh host reaches the configured state ---- */

static const char *l40s_config =
  "# the cold GPU to a VM whole\n"
  "[Device 0000:81:00.0]\n"
  "Id=10de:26b9\n"
  "Passthrough=true\n"
  "\n"
  "# GPU 0 comes up with 32 VFs: 4, each with a type\n"
  "[Device 0000:01:00.0]\n"
  "Id=10de:26b9\n"
  "NumVfs=4\n"
  "[Device 0000:01:00.4]\n"
  "Id=10de:26b9\n"
  "VgpuType=L40S-12Q\n"
  "[Device 0000:01:00.5]\n"
  "Id=10de:26b9\n"
  "VgpuType=NVIDIA L40S-12Q\n"
  "[Device 0000:01:00.6]\n"
  "Id=10de:26b9\n"
  "VgpuType=1161\n"
  "[Device 0000:01:00.7]\n"
  "Id=10de:26b9\n"
  "VgpuType=l40s-12q\n";

static void
assert_l40s_state (Fx *fx)
{
  const char *vfs[] = { "0000:01:00.4", "0000:01:00.5", "0000:01:00.6", "0000:01:00.7" };
  g_autofree char *driver = driver_of (fx, "0000:81:00.0");

  g_assert_cmpstr (driver, ==, "vfio-pci");
  g_assert_cmpuint (numvfs (fx, "0000:01:00.0"), ==, 4);
  for (guint i = 0; i < G_N_ELEMENTS (vfs); i++)
    g_assert_cmpuint (current_type (fx, vfs[i]), ==, 1161);
  g_assert_cmpuint (n_journals (fx), ==, 0);
}

static void
test_l40s (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GvConfig) config = fx_config (fx, l40s_config);
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (gv_config_plan_get_n_steps (plan), ==, 6);
  g_assert_cmpstr (gv_config_plan_get_state (plan), ==, GPUVIRT_PLAN_PENDING);
  g_assert_cmpstr (step (plan, 0)->phase, ==, GPUVIRT_PHASE_PASSTHROUGH);
  g_assert_cmpstr (step (plan, 0)->device, ==, "0000:81:00.0");
  assert_contains (step (plan, 0)->action, "bind vfio-pci");
  g_assert_cmpstr (step (plan, 1)->phase, ==, GPUVIRT_PHASE_SRIOV);
  g_assert_cmpstr (step (plan, 1)->action, ==, "change from 32 to 4 VFs");
  g_assert_cmpstr (step (plan, 2)->phase, ==, GPUVIRT_PHASE_VGPU);
  g_assert_cmpstr (step (plan, 2)->device, ==, "0000:01:00.4");
  g_assert_cmpstr (step (plan, 2)->action, ==, "set type 1161 (NVIDIA L40S-12Q)");
  assert_statuses (plan, "pending pending pending pending pending pending");

  g_assert_true (fx_run (fx, plan, &error));
  g_assert_no_error (error);
  assert_statuses (plan, "done done done done done done");
  g_assert_cmpstr (gv_config_plan_get_state (plan), ==, GPUVIRT_PLAN_DONE);
  assert_contains (step (plan, 1)->message, "4 VFs: 0000:01:00.4 to 0000:01:00.7");
  assert_contains (step (plan, 3)->message, "type 1161 (NVIDIA L40S-12Q)");
  /* progress: running then done, step by step */
  g_assert_cmpuint (fx->progress->len, ==, 12);
  g_assert_cmpstr (fx->progress->pdata[0], ==, "0 running");
  g_assert_cmpstr (fx->progress->pdata[1], ==, "0 done");
  g_assert_cmpstr (fx->progress->pdata[11], ==, "5 done");
  assert_l40s_state (fx);

  /* again, as after a restart (new records, new host model): all skipped */
  fx_open (fx);
  assert_idempotent (fx, config);
  assert_l40s_state (fx);
}

static void
test_a40 (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GvConfig) config = fx_config (fx, "[Device 0000:67:00.0]\nId=10de:2235\nNumVfs=2\n\n"
                                               "[Mdev " UUID_A "]\nParent=0000:67:00.4\nParentId=10de:2235\n"
                                               "Type=A40-8Q\n\n"
                                               "[Mdev " UUID_B "]\nParent=0000:67:00.5\nParentId=10de:2235\n"
                                               "Type=nvidia-562\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  g_assert_cmpuint (gv_config_plan_get_n_steps (plan), ==, 3);
  g_assert_cmpstr (step (plan, 1)->phase, ==, GPUVIRT_PHASE_MDEV);
  g_assert_cmpstr (step (plan, 1)->device, ==, "0000:67:00.4");
  /* its VF does not exist yet: the type is resolved when it does */
  g_assert_cmpstr (step (plan, 1)->action, ==, "create mdev " UUID_A " of “A40-8Q”");
  g_assert_true (fx_run (fx, plan, &error));
  g_assert_no_error (error);
  assert_statuses (plan, "done done done");
  a = mdev_of (fx, UUID_A);
  b = mdev_of (fx, UUID_B);
  g_assert_cmpstr (a, ==, "0000:67:00.4 nvidia-562");
  g_assert_cmpstr (b, ==, "0000:67:00.5 nvidia-562");
  g_assert_cmpuint (numvfs (fx, "0000:67:00.0"), ==, 2);
  g_assert_cmpuint (numvfs (fx, "0000:e8:00.0"), ==, 0);
  g_assert_cmpuint (n_journals (fx), ==, 0);

  fx_open (fx);
  assert_idempotent (fx, config);
  {
    g_autoptr (GvConfigPlan) again = fx_compute (fx, config);
    g_assert_cmpstr (step (again, 1)->action, ==, "create mdev " UUID_A " of “A40-8Q”");
    assert_contains (step (again, 1)->message, "exists already (nvidia-562)");
  }
}

/* VgpuCount: a T4 (mdevs on the GPU) and an L40S (types on VFs it
 * enables itself); a count raised later adds only the difference. */
static void
test_counts (void)
{
  g_autoptr (Fx) fx = fx_new ("big-host");
  g_autoptr (GvConfig) config = fx_config (fx, "[Device 0000:c8:00.0]\nId=10de:1eb8\nVgpuType=GRID T4-2Q\n"
                                               "VgpuCount=3\n\n"
                                               "[Device 0000:16:00.0]\nId=10de:26b9\nVgpuType=L40S-24Q\n"
                                               "VgpuCount=2\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;
  guint typed = 0;

  g_assert_cmpuint (gv_config_plan_get_n_steps (plan), ==, 2);
  g_assert_cmpstr (step (plan, 0)->device, ==, "0000:16:00.0");
  /* a cold L40S lists no types yet: the name is resolved once VFs exist */
  g_assert_cmpstr (step (plan, 0)->action, ==, "create 2 vGPUs of “L40S-24Q”");
  g_assert_cmpstr (step (plan, 1)->action, ==, "create 3 vGPUs of “GRID T4-2Q”");
  g_assert_true (fx_run (fx, plan, &error));
  g_assert_no_error (error);
  assert_statuses (plan, "done done");
  g_assert_cmpuint (mdevs_on (fx, "0000:c8:00.0", "nvidia-230"), ==, 3);
  g_assert_cmpuint (mdevs_on (fx, "0000:c8:00.0", NULL), ==, 3);
  g_assert_cmpuint (numvfs (fx, "0000:16:00.0"), ==, 32);
  for (guint i = 0; i < 32; i++) {
    g_autofree char *vf = g_strdup_printf ("0000:16:%02x.%x", (4 + i) >> 3, (4 + i) & 7);
    guint t = current_type (fx, vf);
    g_assert_true (t == 0 || t == 1163);
    typed += t == 1163;
  }
  g_assert_cmpuint (typed, ==, 2);

  /* the L40S is full now: no VF lists L40S-24Q any more; the type names
   * kept in the state directory still tell that 1163 is it */
  fx_open (fx);
  assert_idempotent (fx, config);

  /* one more of each: only the difference is made */
  {
    g_autoptr (GvConfig) more = fx_config (fx, "[Device 0000:c8:00.0]\nId=10de:1eb8\nVgpuType=T4-2Q\n"
                                               "VgpuCount=5\n");
    g_autoptr (GvConfigPlan) again = fx_compute (fx, more);
    g_assert_cmpstr (step (again, 0)->action, ==, "create 2 vGPUs of “T4-2Q” (3 of 5 exist)");
    g_assert_true (fx_run (fx, again, &error));
    g_assert_no_error (error);
    assert_statuses (again, "done");
    g_assert_cmpuint (mdevs_on (fx, "0000:c8:00.0", "nvidia-230"), ==, 5);
  }
  /* fewer than exist: nothing is removed */
  {
    g_autoptr (GvConfig) fewer = fx_config (fx, "[Device 0000:c8:00.0]\nId=10de:1eb8\nVgpuType=T4-2Q\n"
                                                "VgpuCount=1\n");
    g_autoptr (GvConfigPlan) again = fx_compute (fx, fewer);
    assert_statuses (again, "skipped");
    assert_contains (step (again, 0)->message, "5 vGPUs of it exist already (more than configured");
  }
}

/* A VF to vfio-pci (an SR-IOV NIC's or GPU's): planned after the SR-IOV
 * step that makes it, on the VM test bed's NVMe (tests/vm proves the same
 * on a real kernel). */
static void
test_vf_passthrough (void)
{
  g_autoptr (Fx) fx = fx_new ("qemu-testbed");
  g_autoptr (GvConfig) config = fx_config (fx, "[Manage]\nClasses=0108\n\n"
                                               "[Device 0000:01:00.0]\nId=1b36:0010\nNumVfs=2\n\n"
                                               "[Device 0000:01:00.1]\nId=1b36:0010\nPassthrough=true\n");
  g_autoptr (GvConfigPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *vf_driver = NULL;
  g_autofree char *other_driver = NULL;

  gv_config_apply_manage (config, fx->host);
  plan = fx_compute (fx, config);
  g_assert_cmpuint (gv_config_plan_get_n_steps (plan), ==, 2);
  g_assert_cmpstr (step (plan, 0)->device, ==, "0000:01:00.0");
  g_assert_cmpstr (step (plan, 1)->device, ==, "0000:01:00.1");
  g_assert_cmpstr (step (plan, 1)->action, ==, "bind vfio-pci (a VF of 0000:01:00.0)");
  assert_statuses (plan, "pending pending");
  g_assert_true (fx_run (fx, plan, &error));
  g_assert_no_error (error);
  assert_statuses (plan, "done done");
  g_assert_cmpuint (numvfs (fx, "0000:01:00.0"), ==, 2);
  vf_driver = driver_of (fx, "0000:01:00.1");
  other_driver = driver_of (fx, "0000:01:00.2");
  g_assert_cmpstr (vf_driver, ==, "vfio-pci");
  g_assert_cmpstr (other_driver, !=, "vfio-pci");

  fx_open (fx);
  gv_config_apply_manage (config, fx->host);
  assert_idempotent (fx, config);

  /* without the PF's count the VF would not exist at the next boot */
  {
    g_autoptr (GvConfig) alone = fx_config (fx, "[Manage]\nClasses=0108\n\n"
                                                "[Device 0000:01:00.1]\nId=1b36:0010\nPassthrough=true\n");
    g_autoptr (GPtrArray) problems = NULL;
    gboolean named = FALSE;

    gv_config_apply_manage (alone, fx->host);
    g_assert_true (gv_host_rescan (fx->host, NULL, &error));
    problems = gv_config_check_host (alone, fx->host);
    for (guint i = 0; i < problems->len; i++) {
      const GvConfigProblem *p = problems->pdata[i];
      g_test_message ("problem: %s", p->message);
      named |= strstr (p->message, "add NumVfs= to [Device 0000:01:00.0]") != NULL;
    }
    g_assert_true (named);
  }
}

/* ---- refusals ---- */

/* The bus was renumbered: another GPU (an L40, 10de:26b5, in the
 * configuration) sat at 41:00.0 when the file was written. */
static void
test_renumbered (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GvConfig) config = fx_config (fx, "[Device 0000:41:00.0]\nId=10de:26b5\nNumVfs=4\n"
                                               "[Device 0000:41:00.4]\nId=10de:26b5\nVgpuType=L40S-12Q\n"
                                               "[Device 0000:41:00.5]\nId=10de:26b5\nPassthrough=true\n"
                                               "[Device 0000:c1:00.0]\nId=10de:26b9\nNumVfs=2\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) w = NULL;

  assert_statuses (plan, "failed failed pending failed");
  g_assert_cmpstr (step (plan, 1)->message, ==,
                   "0000:41:00.0 is 10de:26b9, configured 10de:26b5: device moved or replaced");
  g_assert_cmpstr (step (plan, 3)->message, ==,
                   "0000:41:00.4 is 10de:26b9, configured 10de:26b5: device moved or replaced");
  g_assert_cmpstr (gv_config_plan_get_state (plan), ==, GPUVIRT_PLAN_PENDING);
  sim_ctl (fx, "log", "clear");
  g_assert_false (fx_run (fx, plan, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_PLAN_FAILED);
  assert_contains (error->message, "3 of 4 steps failed; first step 1 (passthrough 0000:41:00.5");
  assert_statuses (plan, "failed failed done failed");
  g_assert_cmpstr (gv_config_plan_get_state (plan), ==, GPUVIRT_PLAN_FAILED);
  /* the independent step ran; nothing of 41:00.x was touched */
  g_assert_cmpuint (numvfs (fx, "0000:c1:00.0"), ==, 2);
  g_assert_cmpuint (numvfs (fx, "0000:41:00.0"), ==, 32);
  w = writes (fx);
  g_assert_nonnull (w[0]);
  for (guint i = 0; w[i]; i++)
    g_assert_null (strstr (w[i], "0000:41:"));
}

/* A device replaced between compute and run (a hotplug) is refused at
 * run time too. */
static void
test_replaced_before_run (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GvConfig) config = fx_config (fx, "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=2\n"
                                               "[Device 0000:81:00.4]\nId=10de:26b5\nVgpuType=L40S-12Q\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;

  /* its future VF is an L40S VF, not the L40 one configured */
  assert_statuses (plan, "pending failed");
  assert_contains (step (plan, 1)->message, "0000:81:00.4 will be a VF of 0000:81:00.0, which makes VFs 10de:26b9, "
                                            "configured 10de:26b5");
  g_assert_false (fx_run (fx, plan, &error));
  assert_statuses (plan, "done failed");
  g_assert_cmpuint (current_type (fx, "0000:81:00.4"), ==, 0);
}

/* Enabling the VFs fails (EIO): the types of its VFs fail naming that
 * step, the other GPU's steps run. */
static void
test_dependency_failure (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GvConfig) config = fx_config (fx, "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=4\n"
                                               "[Device 0000:81:00.4]\nId=10de:26b9\nVgpuType=L40S-12Q\n"
                                               "[Device 0000:81:00.5]\nId=10de:26b9\nVgpuType=L40S-12Q\n"
                                               "[Device 0000:c1:00.0]\nId=10de:26b9\nNumVfs=2\n"
                                               "[Device 0000:c1:00.4]\nId=10de:26b9\nVgpuType=L40S-12Q\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GError) error = NULL;

  assert_statuses (plan, "pending pending pending pending pending");
  g_assert_cmpstr (step (plan, 0)->device, ==, "0000:81:00.0");
  sim_ctl (fx, "faults", "*/0000:81:00.0/sriov_numvfs errno=EIO count=1");
  g_assert_false (fx_run (fx, plan, &error));
  assert_statuses (plan, "failed done failed failed done");
  assert_contains (step (plan, 0)->message, "EIO");
  g_assert_cmpstr (step (plan, 2)->message, ==,
                   "not run: it needs step 1 (sriov 0000:81:00.0: enable 4 VFs), which failed");
  g_assert_cmpstr (step (plan, 3)->message, ==,
                   "not run: it needs step 1 (sriov 0000:81:00.0: enable 4 VFs), which failed");
  g_assert_cmpuint (numvfs (fx, "0000:81:00.0"), ==, 0);
  g_assert_cmpuint (numvfs (fx, "0000:c1:00.0"), ==, 2);
  g_assert_cmpuint (current_type (fx, "0000:c1:00.4"), ==, 1161);
  g_assert_cmpuint (n_journals (fx), ==, 0);

  /* the fault is gone: applying again completes it, and leaves the rest */
  {
    g_autoptr (GvConfigPlan) again = fx_compute (fx, config);
    assert_statuses (again, "pending skipped pending pending skipped");
    g_assert_true (fx_run (fx, again, &error));
    assert_statuses (again, "done skipped done done skipped");
  }
  assert_idempotent (fx, config);
}

/* A count change on VFs that carry vGPUs is refused, not forced. */
static void
test_vfs_in_use (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GvConfig) first = fx_config (fx, "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=2\n"
                                              "[Device 0000:81:00.4]\nId=10de:26b9\nVgpuType=L40S-12Q\n");
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, first);
  g_autoptr (GError) error = NULL;

  g_assert_true (fx_run (fx, plan, &error));
  {
    g_autoptr (GvConfig) more = fx_config (fx, "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=4\n");
    g_autoptr (GvConfigPlan) again = fx_compute (fx, more);
    assert_statuses (again, "failed");
    g_assert_cmpstr (step (again, 0)->action, ==, "change from 2 to 4 VFs");
    assert_contains (step (again, 0)->message, "0000:81:00.4 carries vGPU type 1161");
  }
}

/* ---- killed in the middle ---- */

typedef struct {
  const char *name;
  const char *scenario;
  const char *hang;       /* the fault rule: the write the daemon dies in */
  const char *before;     /* a rule armed first, for a write to let through (may be NULL) */
  guint n_steps;
} Kill;

static const char *a40_config =
  "[Device 0000:67:00.0]\nId=10de:2235\nNumVfs=2\n\n"
  "[Mdev " UUID_A "]\nParent=0000:67:00.4\nParentId=10de:2235\nType=A40-8Q\n\n"
  "[Mdev " UUID_B "]\nParent=0000:67:00.5\nParentId=10de:2235\nType=A40-8Q\n";

static const char *t4_config = "[Device 0000:c8:00.0]\nId=10de:1eb8\nVgpuType=T4-2Q\nVgpuCount=3\n";

static const Kill kills[] = {
  { "bind", "l40s-vendor-vfio", "sys/bus/pci/drivers/nvidia/unbind hang data=0000:81:00.0 count=1", NULL, 6 },
  { "sriov", "l40s-vendor-vfio", "*/0000:01:00.0/sriov_numvfs hang data=4 count=1", NULL, 6 },
  /* died in 32 -> 0, before 0 -> 4 */
  { "sriov-half", "l40s-vendor-vfio", "*/0000:01:00.0/sriov_numvfs hang data=0 count=1", NULL, 6 },
  { "vf-type", "l40s-vendor-vfio", "*/0000:01:00.6/nvidia/current_vgpu_type hang count=1", NULL, 6 },
  { "mdev", "a40-mdev", "*/0000:67:00.5/mdev_supported_types/*/create hang count=1", NULL, 3 },
  /* the first vGPU of the count is made, the daemon dies in the second */
  { "count", "big-host", "*/0000:c8:00.0/mdev_supported_types/*/create hang count=1",
    "*/0000:c8:00.0/mdev_supported_types/*/create delay=1 count=1", 1 },
};

static void
assert_a40_state (Fx *fx)
{
  g_autofree char *a = mdev_of (fx, UUID_A);
  g_autofree char *b = mdev_of (fx, UUID_B);

  g_assert_cmpuint (numvfs (fx, "0000:67:00.0"), ==, 2);
  g_assert_cmpstr (a, ==, "0000:67:00.4 nvidia-562");
  g_assert_cmpstr (b, ==, "0000:67:00.5 nvidia-562");
}

static void
wait_until_hung (Fx *fx)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  /* the rule is gone once a write is blocked in it */
  for (;;) {
    g_autofree char *faults = sim_ctl_read (fx, "faults");
    if (!*faults)
      return;
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (10000);
  }
}

static void
test_kill (gconstpointer data)
{
  const Kill *k = data;
  g_autoptr (Fx) fx = fx_new (k->scenario);
  const char *text = g_str_equal (k->scenario, "a40-mdev") ? a40_config
                     : g_str_equal (k->scenario, "big-host") ? t4_config : l40s_config;
  g_autoptr (GvConfig) config = fx_config (fx, text);
  g_autoptr (GvConfigPlan) plan = fx_compute (fx, config);
  g_autoptr (GPtrArray) recovered = NULL;
  g_autoptr (GError) error = NULL;
  int status;
  pid_t child;

  g_assert_cmpuint (gv_config_plan_get_n_steps (plan), ==, k->n_steps);
  if (k->before)
    sim_ctl (fx, "faults", k->before);
  sim_ctl (fx, "faults", k->hang);
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0) {
    GvJournal *records = gv_journal_open (fx->state_dir, NULL);
    GvConfigRunOptions opts = run_options (fx, records);
    opts.progress = NULL;
    opts.timeout_ms = 60000;
    gv_config_plan_run (plan, &opts, NULL);
    _exit (0);
  }
  wait_until_hung (fx);
  /* the kernel finishes a write even for a killed writer: kill, then let it go */
  g_assert_cmpint (kill (child, SIGKILL), ==, 0);
  sim_ctl (fx, "faults", "release");
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status));
  g_usleep (200000); /* the released write lands */
  g_assert_cmpuint (n_journals (fx), >=, 1);

  /* restart: recovery puts back what the killed step had done */
  fx_open (fx);
  g_assert_true (gv_config_recover (fx->records, fx->mount->root, &recovered, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < recovered->len; i++)
    g_test_message ("recovered: %s", (char *) recovered->pdata[i]);
  g_assert_cmpuint (recovered->len, >=, 1);
  g_assert_cmpuint (n_journals (fx), ==, 0);
  if (g_str_equal (k->name, "bind")) {
    g_autofree char *driver = driver_of (fx, "0000:81:00.0");
    g_assert_cmpstr (driver, ==, "nvidia");
  } else if (g_str_equal (k->name, "sriov")) {
    /* died in the write of 4 (after 32 -> 0), which the kernel completed:
     * that is what the step asked, and it is kept (issue 14, point 1) */
    g_assert_cmpuint (numvfs (fx, "0000:01:00.0"), ==, 4);
    assert_contains (recovered->pdata[0], "the kernel completed it: 4 VFs of 0000:01:00.0 kept");
  } else if (g_str_equal (k->name, "sriov-half")) {
    /* the kernel did not reach the count asked: back to the 32 it had */
    g_assert_cmpuint (numvfs (fx, "0000:01:00.0"), ==, 32);
    assert_contains (recovered->pdata[0], "undone, as the kernel had not completed the count asked");
  } else if (g_str_equal (k->name, "vf-type")) {
    /* the steps before it stay done; the interrupted one is undone */
    g_assert_cmpuint (numvfs (fx, "0000:01:00.0"), ==, 4);
    g_assert_cmpuint (current_type (fx, "0000:01:00.4"), ==, 1161);
    g_assert_cmpuint (current_type (fx, "0000:01:00.5"), ==, 1161);
    g_assert_cmpuint (current_type (fx, "0000:01:00.6"), ==, 0);
    g_assert_cmpuint (current_type (fx, "0000:01:00.7"), ==, 0);
  } else if (g_str_equal (k->name, "mdev")) {
    g_autofree char *a = mdev_of (fx, UUID_A);
    g_autofree char *b = mdev_of (fx, UUID_B);
    g_assert_nonnull (a);
    g_assert_null (b);
  } else {
    /* the step made 1 of 3 and died in the second: neither is left */
    g_assert_cmpuint (mdevs_on (fx, "0000:c8:00.0", NULL), ==, 0);
    g_assert_cmpuint (recovered->len, ==, 1);
    assert_contains (recovered->pdata[0], " removed; mdev ");
  }
  /* nothing left to recover the second time */
  g_clear_pointer (&recovered, g_ptr_array_unref);
  g_assert_true (gv_config_recover (fx->records, fx->mount->root, &recovered, &error));
  g_assert_cmpuint (recovered->len, ==, 0);

  /* and the boot plan completes it */
  {
    g_autoptr (GvConfigPlan) again = fx_compute (fx, config);
    g_assert_true (fx_run (fx, again, &error));
    g_assert_no_error (error);
  }
  if (g_str_equal (k->scenario, "a40-mdev"))
    assert_a40_state (fx);
  else if (g_str_equal (k->scenario, "big-host"))
    g_assert_cmpuint (mdevs_on (fx, "0000:c8:00.0", "nvidia-230"), ==, 3);
  else
    assert_l40s_state (fx);
  assert_idempotent (fx, config);
}

/* The vGPU journal by itself: a family snapshot, restored by taking away
 * only; an mdev a VM holds is left alone. */
static void
test_journal_restore (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GvVgpuFamily) before = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) report = g_string_new (NULL);
  GvVgpuContext ctx = { fx->mount->root, 5000, 2000, 50, 3000, NULL, NULL };
  g_autofree char *id = NULL;
  g_autofree char *node = NULL;
  g_autofree char *holder_cmd = NULL;
  g_autoptr (GPtrArray) mdevs = NULL;
  int fd;

  before = gv_vgpu_family_read (fx->mount->root, "0000:67:00.0", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (before->num_vfs, ==, 0);
  id = gv_vgpu_journal_begin (fx->records, "test", before, -1, &error);
  g_assert_no_error (error);
  g_assert_true (gv_vgpu_set_num_vfs (&ctx, "0000:67:00.0", 2, NULL, &error));
  g_assert_true (gv_vgpu_create_mdev (&ctx, "0000:67:00.4", "A40-8Q", UUID_A, NULL, NULL, &error));
  g_assert_true (gv_vgpu_create_mdev (&ctx, "0000:67:00.5", "A40-8Q", UUID_B, NULL, NULL, &error));
  g_assert_no_error (error);

  /* a VM holds UUID_B's VFIO node */
  mdevs = gv_host_mdevs_read (fx->mount->root);
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    if (g_str_equal (m->uuid, UUID_B))
      node = g_build_filename (fx->mount->root, m->vfio_group_node, NULL);
  }
  g_assert_nonnull (node);
  fd = open (node, O_RDWR);
  g_assert_cmpint (fd, >=, 0);

  g_assert_true (gv_vgpu_family_restore (&ctx, before, report, &error));
  g_assert_no_error (error);
  g_test_message ("%s", report->str);
  assert_contains (report->str, "mdev " UUID_A " on 0000:67:00.4 removed");
  assert_contains (report->str, "mdev " UUID_B " left in place");
  assert_contains (report->str, "2 VFs of 0000:67:00.0 left enabled");
  g_assert_null (mdev_of (fx, UUID_A));
  g_assert_cmpuint (numvfs (fx, "0000:67:00.0"), ==, 2);
  close (fd);

  /* let go: the next restore (as recovery would) finishes */
  g_string_truncate (report, 0);
  g_assert_true (gv_vgpu_family_restore (&ctx, before, report, &error));
  assert_contains (report->str, "VFs of 0000:67:00.0 2 -> 0");
  g_assert_null (mdev_of (fx, UUID_B));
  g_assert_cmpuint (numvfs (fx, "0000:67:00.0"), ==, 0);
  g_assert_true (gv_vgpu_journal_end (fx->records, id, &error));
  g_assert_cmpuint (n_journals (fx), ==, 0);
}

/* A journal left open by a write that outlived its bound, settled when
 * the write returns (or at the next start): what the kernel completed
 * is kept, anything else taken back, and the report says which and why
 * (issue 14, point 1). */
static void
test_journal_settle (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GError) error = NULL;
  GvVgpuContext ctx = { .root = fx->mount->root, .timeout_ms = 5000, .appear_ms = 3000 };
  const char *gpu = "0000:67:00.0";

  /* the count asked for is there: kept */
  {
    g_autoptr (GvVgpuFamily) before = gv_vgpu_family_read (fx->mount->root, gpu, &error);
    g_autoptr (GString) report = g_string_new (NULL);
    g_autofree char *id = gv_vgpu_journal_begin (fx->records, "set-num-vfs", before, 4, &error);
    g_assert_no_error (error);
    g_assert_true (gv_vgpu_set_num_vfs (&ctx, gpu, 4, NULL, &error));
    g_assert_true (gv_vgpu_journal_settle (fx->records, &ctx, id, FALSE, report, &error));
    g_assert_no_error (error);
    g_test_message ("%s", report->str);
    assert_contains (report->str, "the kernel completed it: 4 VFs of 0000:67:00.0 kept");
    g_assert_cmpuint (numvfs (fx, gpu), ==, 4);
    g_assert_cmpuint (n_journals (fx), ==, 0);
  }
  /* another count than asked: taken back, saying why */
  {
    g_autoptr (GvVgpuFamily) before = gv_vgpu_family_read (fx->mount->root, gpu, &error);
    g_autoptr (GString) report = g_string_new (NULL);
    g_autofree char *id = gv_vgpu_journal_begin (fx->records, "set-num-vfs", before, 8, &error);
    g_assert_no_error (error);
    g_assert_true (gv_vgpu_set_num_vfs (&ctx, gpu, 2, NULL, &error));
    g_assert_true (gv_vgpu_journal_settle (fx->records, &ctx, id, FALSE, report, &error));
    g_test_message ("%s", report->str);
    assert_contains (report->str, "undone, as the kernel had not completed the count asked: VFs of 0000:67:00.0 2 -> 4");
    g_assert_cmpuint (numvfs (fx, gpu), ==, 4);
    g_assert_cmpuint (n_journals (fx), ==, 0);
  }
  /* the late write failed: the plan's aim is not reached, the family goes
   * back, and the errno is named */
  {
    g_autoptr (GvVgpuFamily) before = gv_vgpu_family_read (fx->mount->root, gpu, &error);
    g_autoptr (GString) report = g_string_new (NULL);
    g_autofree char *id = gv_vgpu_journal_begin (fx->records, "set-num-vfs", before, 6, &error);
    GvVgpuPlan plan = { .kind = GV_VGPU_OP_SET_NUM_VFS, .function = (char *) gpu, .gpu = (char *) gpu, .count = 6 };
    gboolean kept = TRUE;

    g_assert_true (gv_vgpu_set_num_vfs (&ctx, gpu, 0, NULL, &error));
    g_assert_true (gv_vgpu_plan_settle (&ctx, fx->records, &plan, id, -EIO, &kept, report, &error));
    g_test_message ("%s", report->str);
    g_assert_false (kept);
    assert_contains (report->str, "the write failed: EIO");
    assert_contains (report->str, "VFs of 0000:67:00.0 0 -> 4");
    g_assert_cmpuint (numvfs (fx, gpu), ==, 4);
    g_assert_cmpuint (n_journals (fx), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plan/apply/l40s", test_l40s);
  g_test_add_func ("/plan/apply/a40", test_a40);
  g_test_add_func ("/plan/apply/counts", test_counts);
  g_test_add_func ("/plan/apply/vf-passthrough", test_vf_passthrough);
  g_test_add_func ("/plan/refuse/renumbered", test_renumbered);
  g_test_add_func ("/plan/refuse/replaced", test_replaced_before_run);
  g_test_add_func ("/plan/refuse/dependency", test_dependency_failure);
  g_test_add_func ("/plan/refuse/vfs-in-use", test_vfs_in_use);
  g_test_add_func ("/plan/journal/restore", test_journal_restore);
  g_test_add_func ("/plan/journal/settle", test_journal_settle);
  for (guint i = 0; i < G_N_ELEMENTS (kills); i++) {
    g_autofree char *path = g_strdup_printf ("/plan/kill/%s", kills[i].name);
    g_test_add_data_func (path, &kills[i], test_kill);
  }
  return g_test_run ();
}
