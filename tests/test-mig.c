/* The MIG engine (service/mig/) over the test NVML (tests/nvml) and the
 * simulator's mig-host scenario, D-Bus free: the library missing, reading
 * profiles and instances, the mode with its reset, making and destroying
 * instances, layouts, a fault at every NVML call of a change leaving the
 * old layout, a fault at every NVML call of a mode change leaving the mode
 * as it was or saying what it is now, a hung call, and recovery of a
 * change a killed daemon left.
 * What it proves is proven against the test NVML only. */
#include "mig/mig.h"
#include "sim-mount.h"

#include <string.h>

#define H100 "0000:41:00.0"
#define A100 "0000:81:00.0"
#define A100X "0000:c1:00.0"
#define L4 "0000:e1:00.0"

typedef struct {
  SimMount *m;
  GvMigNvml *nvml;
  char *state;
  GvJournal *journal;
  GvMigContext ctx;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->m = sim_mount_start ("mig-host");
  g_setenv ("GPUVIRT_TEST_NVML_ROOT", f->m->root, TRUE);
  g_assert_nonnull (g_getenv ("GPUVIRT_NVML_LIBRARY"));
  f->nvml = gv_mig_nvml_open (2000, &error);
  g_assert_no_error (error);
  f->state = g_dir_make_tmp ("test-mig-state.XXXXXX", NULL);
  f->journal = gv_journal_open (f->state, &error);
  g_assert_no_error (error);
  f->ctx = (GvMigContext) { f->nvml, f->m->root, f->journal, 2000 };
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->state);

  gv_mig_nvml_close (f->nvml);
  gv_journal_free (f->journal);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->state);
  sim_mount_stop (f->m);
}

static char *
sim (Fixture *f, const char *rel)
{
  g_autofree char *path = sim_mount_path (f->m, rel);
  char *text = sim_read_file (path);
  return text ? g_strchomp (text) : g_strdup ("");
}

static int
sim_write (Fixture *f, const char *rel, const char *data)
{
  g_autofree char *path = sim_mount_path (f->m, rel);
  return sim_write_file (path, data);
}

/* The instances of BDF as the simulator has them: "gi ..." and "ci ..."
 * lines, the layout a test compares before and after. */
static char *
layout (Fixture *f, const char *bdf)
{
  g_autofree char *text = sim (f, ".sim/mig");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++)
    if ((g_str_has_prefix (lines[i], "gi ") || g_str_has_prefix (lines[i], "ci ")) && strstr (lines[i], bdf))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

static GvMigGpu *
read_gpu (Fixture *f, const char *bdf)
{
  g_autoptr (GError) error = NULL;
  GvMigGpu *gpu = gv_mig_gpu_read (f->nvml, bdf, 2000, &error);
  g_assert_no_error (error);
  return gpu;
}

/* MIG mode on, made current by a reset. */
static void
mig_on (Fixture *f, const char *bdf)
{
  g_auto (GvMigModeOutcome) out = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (gv_mig_set_mode (&f->ctx, bdf, TRUE, TRUE, &out, &error));
  g_assert_no_error (error);
  g_assert_true (out.current);
}

static GPtrArray *
wants (const char *text)
{
  g_autofree char *why = NULL;
  GPtrArray *w = gv_mig_wants_parse (text, &why);
  g_assert_null (why);
  g_assert_nonnull (w);
  return w;
}

/* ---- no library ---- */

static void
test_absent (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("GPUVIRT_NVML_LIBRARY"));
  g_autoptr (GError) error = NULL;

  g_setenv ("GPUVIRT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", TRUE);
  g_assert_null (gv_mig_nvml_open (1000, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/libnvidia-ml.so.1 could not be loaded"));
  g_clear_error (&error);
  /* a library that loads but whose driver is not there */
  g_setenv ("GPUVIRT_NVML_LIBRARY", saved, TRUE);
  g_unsetenv ("GPUVIRT_TEST_NVML_ROOT");
  g_assert_null (gv_mig_nvml_open (1000, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "nvmlInit failed: Driver Not Loaded"));
}

/* ---- names ---- */

static void
test_names (void)
{
  static const struct { const char *type, *profile; } types[] = {
    { "H100-1-10C", "1g.10gb" }, { "NVIDIA H100-1-10C", "1g.10gb" }, { "A100-1-5CME", "1g.5gb+me" },
    { "A100D-2-20C", "2g.20gb" }, { "A100-7-40C", "7g.40gb" }, { "GB200-1-24CNOME", "1g.24gb-me" },
    { "H200-1-18CMEALL", "1g.18gb+me.all" }, { "RTXPRO6000-1-24QGFX", "1g.24gb+gfx" },
    { "L40S-24Q", NULL }, { "GRID T4-4Q", NULL }, { "A100-4C", NULL }, { "A100-9-40C", NULL }, { "", NULL },
  };
  g_autofree char *why = NULL;
  g_autoptr (GPtrArray) w = NULL;
  g_autofree char *text = NULL;
  char *norm = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++) {
    g_autofree char *p = gv_mig_profile_for_vgpu_type (types[i].type);
    g_assert_cmpstr (p, ==, types[i].profile);
  }
  /* NVIDIA's names from memory shares: 4864 MiB of 40 GiB is an eighth */
  {
    g_autofree char *a = gv_mig_profile_name (0, 1, 4864, 40960);
    g_autofree char *b = gv_mig_profile_name (7, 1, 4864, 40960);
    g_autofree char *c = gv_mig_profile_name (4, 7, 80896, 81559);
    g_autofree char *d = gv_mig_profile_name (9, 1, 19968, 81920);
    g_assert_cmpstr (a, ==, "1g.5gb");
    g_assert_cmpstr (b, ==, "1g.5gb+me");
    g_assert_cmpstr (c, ==, "7g.80gb");
    g_assert_cmpstr (d, ==, "1g.20gb");
  }
  g_assert_true (gv_mig_profile_name_valid ("1G.10GB+ME", &norm));
  g_assert_cmpstr (norm, ==, "1g.10gb+me");
  g_free (norm);
  g_assert_false (gv_mig_profile_name_valid ("1g10gb", NULL));
  g_assert_false (gv_mig_profile_name_valid ("1g.10gb+xx", NULL));

  w = gv_mig_wants_parse ("1g.10gb:3, 3g.40gb; 1G.10GB:1", &why);
  g_assert_null (why);
  text = gv_mig_wants_to_string (w);
  g_assert_cmpstr (text, ==, "1g.10gb:4;3g.40gb:1");
  g_assert_null (gv_mig_wants_parse ("1g.10gb:x", &why));
  g_assert_nonnull (strstr (why, "count from 1 to 64"));
  g_clear_pointer (&why, g_free);
  g_assert_null (gv_mig_wants_parse ("big", &why));
  g_assert_nonnull (strstr (why, "“big” is no GPU instance profile"));
}

/* ---- reading ---- */

static void
test_read (Fixture *f, gconstpointer data)
{
  g_autoptr (GvMigGpu) h100 = read_gpu (f, H100);
  g_autoptr (GvMigGpu) a100 = read_gpu (f, A100);
  g_autoptr (GvMigGpu) a100x = read_gpu (f, A100X);
  g_autoptr (GError) error = NULL;
  g_autofree char *names = NULL;
  const GvMigProfile *p;
  g_autofree char *describe = g_strdup_printf ("NVML 12.550.54.14-test, driver 550.54.14 (%s)",
                                               g_getenv ("GPUVIRT_NVML_LIBRARY"));

  g_assert_cmpstr (gv_mig_nvml_describe (f->nvml), ==, describe);
  g_assert_cmpstr (h100->name, ==, "NVIDIA H100 PCIe");
  g_assert_false (h100->current);
  g_assert_false (h100->pending);
  names = gv_mig_gpu_profile_names (h100);
  /* known before MIG mode is on, in NVML's index order */
  g_assert_cmpstr (names, ==, "1g.10gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb, 1g.10gb+me, 1g.20gb");
  p = gv_mig_gpu_find_profile (h100, "3G.40GB");
  g_assert_nonnull (p);
  g_assert_cmpuint (p->id, ==, 9);
  g_assert_cmpuint (p->max, ==, 2);
  g_assert_cmpuint (p->placements->len, ==, 2);
  g_assert_cmpuint (g_array_index (p->placements, GvMigPlacement, 1).start, ==, 4);
  g_assert_cmpuint (g_array_index (p->placements, GvMigPlacement, 1).size, ==, 4);
  g_assert_cmpuint (p->free, ==, 0);   /* MIG mode off */
  g_assert_true (gv_mig_gpu_find_profile (h100, "19") == gv_mig_gpu_find_profile (h100, "1g.10gb"));
  g_assert_null (gv_mig_gpu_find_profile (h100, "1g.5gb"));
  g_assert_nonnull (gv_mig_gpu_find_profile (a100, "1g.5gb+me"));
  g_assert_nonnull (gv_mig_gpu_find_profile (a100, "2g.10gb"));
  g_assert_true (a100x->current);
  g_assert_cmpuint (a100x->instances->len, ==, 0);
  g_assert_cmpuint (gv_mig_gpu_find_profile (a100x, "1g.10gb")->free, ==, 7);

  /* an L4 has no MIG, the root port is no GPU of NVML's */
  g_assert_null (gv_mig_gpu_read (f->nvml, L4, 2000, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_null (gv_mig_gpu_read (f->nvml, "0000:40:01.0", 2000, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "not on the nvidia driver"));
}

/* ---- the mode ---- */

static void
test_mode (Fixture *f, gconstpointer data)
{
  g_auto (GvMigModeOutcome) out = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GvMigGpu) gpu = NULL;
  g_autofree char *log = NULL;

  /* without a reset it stays pending, and says so */
  g_assert_true (gv_mig_set_mode (&f->ctx, H100, TRUE, FALSE, &out, &error));
  g_assert_no_error (error);
  g_assert_true (out.changed);
  g_assert_false (out.current);
  g_assert_false (out.reset);
  g_assert_nonnull (strstr (out.message, "MIG mode on is pending on " H100 ": it takes effect at the next reset"));
  gpu = read_gpu (f, H100);
  g_assert_false (gpu->current);
  g_assert_true (gpu->pending);
  gv_mig_mode_outcome_clear (&out);
  g_clear_pointer (&gpu, gv_mig_gpu_free);

  /* with it, current through the function's reset */
  g_assert_true (gv_mig_set_mode (&f->ctx, H100, TRUE, TRUE, &out, &error));
  g_assert_true (out.current);
  g_assert_true (out.reset);
  log = sim (f, ".sim/log");
  g_assert_nonnull (strstr (log, "devices/pci0000:40/0000:40:01.0/" H100 "/reset \"1\" -> OK"));
  gpu = read_gpu (f, H100);
  g_assert_true (gpu->current);
  g_assert_cmpuint (gv_mig_gpu_find_profile (gpu, "1g.10gb")->free, ==, 7);
  gv_mig_mode_outcome_clear (&out);

  /* again: nothing to do, nothing written */
  g_assert_cmpint (sim_write (f, ".sim/log", "clear"), ==, 0);
  g_assert_true (gv_mig_set_mode (&f->ctx, H100, TRUE, TRUE, &out, &error));
  g_assert_false (out.changed);
  g_assert_true (out.current);
  g_free (log);
  log = sim (f, ".sim/log");
  g_assert_cmpstr (log, ==, "");
  gv_mig_mode_outcome_clear (&out);

  /* off is refused by NVML while VFs are enabled */
  g_assert_cmpint (sim_write (f, "sys/bus/pci/devices/" H100 "/sriov_numvfs", "2"), ==, 0);
  g_assert_false (gv_mig_set_mode (&f->ctx, H100, FALSE, TRUE, &out, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_IN_USE);
  g_assert_nonnull (strstr (error->message, "disable its VFs first"));
  g_clear_error (&error);
  /* the GPU without any reset method: left pending, and the message says so */
  g_assert_cmpint (sim_write (f, "sys/bus/pci/devices/" A100 "/reset_method", "\n"), ==, 0);
  g_assert_false (gv_mig_set_mode (&f->ctx, A100, TRUE, TRUE, &out, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "MIG mode on is pending on " A100 ", but " A100 " cannot be reset"));
  g_assert_nonnull (strstr (error->message, "it takes effect at the next boot"));
}

/* Holders block the reset: processes with the GPU's nodes open, and
 * nvidia_drm. */
static void
test_check_reset (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new (f->m->root, &error);

  g_assert_true (gv_host_rescan (host, NULL, &error));
  g_assert_true (gv_mig_check_reset (host, gv_host_lookup (host, H100), &error));
  g_assert_cmpint (sim_write (f, ".sim/holders", "add 4242 nvidia-persiste /dev/nvidia0"), ==, 0);
  g_assert_false (gv_mig_check_reset (host, gv_host_lookup (host, H100), &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_HELD);
  g_assert_nonnull (strstr (error->message, "(pid 4242) has /dev/nvidia0 open"));
  g_clear_error (&error);
  g_assert_cmpint (sim_write (f, ".sim/holders", "remove 4242"), ==, 0);
  g_assert_cmpint (sim_write (f, ".sim/kernel", "modules=nvidia_modeset,nvidia_drm"), ==, 0);
  g_assert_false (gv_mig_check_reset (host, gv_host_lookup (host, A100X), &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_HELD);
  g_assert_nonnull (strstr (error->message, "the nvidia_drm module is loaded"));
  g_assert_nonnull (strstr (error->message, "modprobe -r nvidia_drm"));
}

/* ---- instances ---- */

static void
test_create_destroy (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = NULL;
  g_autoptr (GvMigGpu) gpu = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto (GStrv) state = NULL;

  /* not before MIG mode is on */
  g_assert_false (gv_mig_create (&f->ctx, H100, "1g.10gb", 1, TRUE, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "MIG mode is off on " H100));
  g_clear_error (&error);
  mig_on (f, H100);

  g_assert_true (gv_mig_create (&f->ctx, H100, "1g.10gb", 3, TRUE, &ids, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 3);
  gpu = read_gpu (f, H100);
  g_assert_cmpuint (gpu->instances->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    const GvMigInstance *in = gpu->instances->pdata[i];
    g_assert_cmpstr (in->profile, ==, "1g.10gb");
    g_assert_cmpuint (in->compute->len, ==, 1);   /* one compute instance over its slice */
  }
  g_assert_cmpuint (gv_mig_gpu_find_profile (gpu, "1g.10gb")->free, ==, 4);
  g_clear_pointer (&gpu, gv_mig_gpu_free);

  /* what does not fit changes nothing */
  before = layout (f, H100);
  g_assert_false (gv_mig_create (&f->ctx, H100, "7g.80gb", 1, TRUE, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  g_clear_error (&error);
  g_assert_false (gv_mig_create (&f->ctx, H100, "1g.5gb", 1, TRUE, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  g_assert_nonnull (strstr (error->message, "its profiles: 1g.10gb, 2g.20gb"));
  g_clear_error (&error);
  after = layout (f, H100);
  g_assert_cmpstr (before, ==, after);

  /* without compute instances (MIG-backed vGPU makes them in the guest) */
  g_assert_true (gv_mig_create (&f->ctx, H100, "3g.40gb", 1, FALSE, NULL, &error));
  gpu = read_gpu (f, H100);
  g_assert_cmpuint (gpu->instances->len, ==, 4);
  g_assert_cmpuint (((GvMigInstance *) gpu->instances->pdata[3])->placement.start, ==, 4);
  g_assert_cmpuint (((GvMigInstance *) gpu->instances->pdata[3])->compute->len, ==, 0);

  g_assert_true (gv_mig_destroy (&f->ctx, H100, (guint[]) { g_array_index (ids, guint, 1) }, 1, &error));
  g_assert_no_error (error);
  g_assert_false (gv_mig_destroy (&f->ctx, H100, (guint[]) { 99 }, 1, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_clear_error (&error);
  g_assert_true (gv_mig_destroy (&f->ctx, H100, NULL, 0, &error));
  g_free (after);
  after = layout (f, H100);
  g_assert_cmpstr (after, ==, "");
  /* nothing left in the journal */
  state = gv_journal_list (f->journal);
  g_assert_cmpuint (g_strv_length (state), ==, 0);
}

static void
test_apply (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) w1 = wants ("3g.40gb:1;1g.10gb:3");
  g_autoptr (GPtrArray) w2 = wants ("7g.80gb");
  g_autoptr (GPtrArray) w3 = wants ("4g.40gb:2");
  g_autoptr (GString) done = g_string_new (NULL);
  g_autoptr (GvMigGpu) gpu = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gboolean changed = FALSE;

  mig_on (f, A100X);
  g_assert_true (gv_mig_apply (&f->ctx, A100X, w1, TRUE, &changed, done, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  gpu = read_gpu (f, A100X);
  g_assert_cmpuint (gpu->instances->len, ==, 4);
  g_clear_pointer (&gpu, gv_mig_gpu_free);
  /* the same again: nothing */
  before = layout (f, A100X);
  g_assert_true (gv_mig_apply (&f->ctx, A100X, w1, TRUE, &changed, NULL, &error));
  g_assert_false (changed);
  after = layout (f, A100X);
  g_assert_cmpstr (before, ==, after);
  /* a layout that needs every slice: the others go */
  g_assert_true (gv_mig_apply (&f->ctx, A100X, w2, TRUE, &changed, NULL, &error));
  g_assert_true (changed);
  gpu = read_gpu (f, A100X);
  g_assert_cmpuint (gpu->instances->len, ==, 1);
  g_assert_cmpstr (((GvMigInstance *) gpu->instances->pdata[0])->profile, ==, "7g.80gb");
  /* one that cannot be is refused before anything changes */
  g_free (before);
  before = layout (f, A100X);
  g_assert_false (gv_mig_apply (&f->ctx, A100X, w3, TRUE, &changed, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  g_assert_nonnull (strstr (error->message, "holds at most 1 instance of 4g.40gb, not 2"));
  g_free (after);
  after = layout (f, A100X);
  g_assert_cmpstr (before, ==, after);
}

/* ---- faults ---- */

/* A fault armed at the K-th NVML call (every entry point) of a change,
 * for K = 0, 1, ... until the change gets through: each time the change
 * fails and the GPU keeps its old layout. */
static void
test_faults_every_call (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) start = wants ("3g.40gb:1;1g.10gb:2");
  g_autoptr (GPtrArray) target = wants ("2g.20gb:2;1g.10gb:3");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  guint k, failed = 0;

  mig_on (f, A100X);
  g_assert_true (gv_mig_apply (&f->ctx, A100X, start, TRUE, NULL, NULL, &error));
  g_assert_no_error (error);
  before = layout (f, A100X);
  for (k = 0; k < 400; k++) {
    g_autofree char *rule = g_strdup_printf ("nvml/* errno=EIO skip=%u", k);
    g_autofree char *now = NULL;
    g_autofree char *armed = NULL;
    gboolean ok;

    g_assert_cmpint (sim_write (f, ".sim/faults", "clear"), ==, 0);
    g_assert_cmpint (sim_write (f, ".sim/faults", rule), ==, 0);
    ok = gv_mig_apply (&f->ctx, A100X, target, TRUE, NULL, NULL, &error);
    armed = sim (f, ".sim/faults");
    if (ok) {
      g_assert_cmpstr (armed, !=, "");   /* the fault never fired: every call was tried */
      break;
    }
    g_assert_nonnull (error);
    g_assert_cmpstr (armed, ==, "");
    now = layout (f, A100X);
    if (g_strcmp0 (now, before) != 0)
      g_error ("a fault at NVML call %u (%s) left another layout:\n%s\nbefore:\n%s", k, error->message, now, before);
    g_clear_error (&error);
    failed++;
  }
  g_assert_cmpuint (k, <, 400);
  /* reading, destroying and making together take dozens of calls */
  g_assert_cmpuint (failed, >, 30);
  g_test_message ("%u NVML calls faulted, each left the old layout", failed);
  /* and nothing stays journaled */
  {
    g_auto (GStrv) ids = gv_journal_list (f->journal);
    g_assert_cmpuint (g_strv_length (ids), ==, 0);
  }
}

/* "current pending" of BDF as the simulator has them. */
static char *
mode_of (Fixture *f, const char *bdf)
{
  g_autofree char *text = sim (f, ".sim/mig");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("gpu %s ", bdf);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix)) {
      const char *c = strstr (lines[i], "current=");
      const char *p = strstr (lines[i], "pending=");
      g_assert_nonnull (c);
      g_assert_nonnull (p);
      return g_strdup_printf ("%c %c", c[8], p[8]);
    }
  g_assert_not_reached ();
}

/* A fault at each NVML call of a mode change with its reset: the mode is
 * as it was, or the error says what it is now (pending, or reset). */
static void
test_faults_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint k, failed = 0, said = 0;

  for (k = 0; k < 50; k++) {
    g_autofree char *rule = g_strdup_printf ("nvml/* errno=EIO skip=%u", k);
    g_autofree char *now = NULL;
    g_autofree char *armed = NULL;
    g_autofree char *was = NULL;
    g_auto (GvMigModeOutcome) out = { 0 };
    gboolean ok;

    /* off, and nothing pending, before each try */
    g_assert_cmpint (sim_write (f, ".sim/faults", "clear"), ==, 0);
    was = mode_of (f, H100);
    if (g_strcmp0 (was, "0 0") != 0) {
      g_auto (GvMigModeOutcome) back = { 0 };
      g_assert_true (gv_mig_set_mode (&f->ctx, H100, FALSE, TRUE, &back, &error));
      g_assert_no_error (error);
    }
    g_assert_cmpint (sim_write (f, ".sim/faults", rule), ==, 0);
    ok = gv_mig_set_mode (&f->ctx, H100, TRUE, TRUE, &out, &error);
    armed = sim (f, ".sim/faults");
    if (ok) {
      g_assert_cmpstr (armed, !=, "");   /* every call was tried */
      g_assert_true (out.current);
      break;
    }
    g_assert_cmpstr (armed, ==, "");
    now = mode_of (f, H100);
    g_test_message ("fault at call %u: %s (mode now %s)", k, error->message, now);
    if (g_str_equal (now, "0 1")) {
      g_assert_nonnull (strstr (error->message, "MIG mode on was set pending on " H100));
      said++;
    } else if (g_str_equal (now, "1 1")) {
      g_assert_nonnull (strstr (error->message, H100 " was reset for MIG mode on"));
      said++;
    } else {
      g_assert_cmpstr (now, ==, "0 0");
    }
    g_clear_error (&error);
    failed++;
  }
  g_assert_cmpuint (k, <, 50);
  g_assert_cmpuint (failed, >=, 4);
  /* both states after the change began were met */
  g_assert_cmpuint (said, >=, 2);
}

/* The driver's own refusals (the simulator's .sim/mig answers) undo too. */
static void
test_faults_driver (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) start = wants ("1g.10gb:2");
  g_autoptr (GPtrArray) target = wants ("1g.10gb:4");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  mig_on (f, H100);
  g_assert_true (gv_mig_apply (&f->ctx, H100, start, TRUE, NULL, NULL, &error));
  before = layout (f, H100);
  /* the second instance made fails in the driver */
  g_assert_cmpint (sim_write (f, ".sim/faults", ".sim/mig errno=ENOSPC data=gi-create* skip=1"), ==, 0);
  g_assert_false (gv_mig_apply (&f->ctx, H100, target, TRUE, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  g_assert_nonnull (strstr (error->message, "Insufficient Resources"));
  g_assert_nonnull (strstr (error->message, "; undone: destroyed 1g.10gb"));
  after = layout (f, H100);
  g_assert_cmpstr (before, ==, after);
}

/* A call that hangs: the caller is told in time, NVML is not called again
 * until it returns, and what it left is put back by recovery. */
static void
test_hang (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  GvMigContext quick = f->ctx;
  gint64 t0;

  mig_on (f, H100);
  g_assert_true (gv_mig_create (&f->ctx, H100, "1g.10gb", 1, TRUE, NULL, &error));
  before = layout (f, H100);
  quick.timeout_ms = 300;
  g_assert_cmpint (sim_write (f, ".sim/faults", "nvml/nvmlDeviceCreateGpuInstanceWithPlacement hang"), ==, 0);
  t0 = g_get_monotonic_time ();
  g_assert_false (gv_mig_create (&quick, H100, "2g.20gb", 1, TRUE, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_STUCK);
  g_assert_nonnull (strstr (error->message, "nvmlDeviceCreateGpuInstanceWithPlacement did not return within 0.3 s"));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
  g_clear_error (&error);
  g_assert_true (gv_mig_nvml_stuck (f->nvml));
  g_assert_null (gv_mig_gpu_read (f->nvml, H100, 300, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_STUCK);
  g_assert_nonnull (strstr (error->message, "NVML is stuck"));
  g_clear_error (&error);
  /* it returns: the instance is made late, the transaction stays journaled */
  g_assert_cmpint (sim_write (f, ".sim/faults", "release"), ==, 0);
  while (gv_mig_nvml_stuck (f->nvml))
    g_usleep (20 * 1000);
  g_usleep (200 * 1000);   /* the task thread ends */
  after = layout (f, H100);
  g_assert_cmpstr (before, !=, after);
  g_assert_true (gv_mig_journal_recover (&f->ctx, &results, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_nonnull (strstr (results->pdata[0], H100 " (create interrupted): destroyed 2g.20gb"));
  g_free (after);
  after = layout (f, H100);
  g_assert_cmpstr (before, ==, after);
}

/* A daemon killed in the middle of a change: recovery takes the GPU back
 * to what the journal holds; a GPU reset meanwhile only closes it. */
static void
test_recover (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GPtrArray) w = wants ("3g.40gb:1;1g.10gb:2");
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  g_auto (GStrv) left = NULL;

  mig_on (f, A100X);
  g_assert_true (gv_mig_apply (&f->ctx, A100X, w, TRUE, NULL, NULL, &error));
  before = layout (f, A100X);
  /* the journal a change writes first, as a killed gpuvirtd leaves it */
  {
    g_autoptr (GvMigGpu) gpu = read_gpu (f, A100X);
    GString *text = g_string_new (NULL);
    for (guint i = 0; i < gpu->instances->len; i++) {
      const GvMigInstance *in = gpu->instances->pdata[i];
      g_string_append_printf (text, "%s%u@%u+%u:%u", i ? ";" : "", in->profile_id, in->placement.start,
                              in->placement.size, g_array_index (in->compute, GvMigComputeInstance, 0).profile_id);
    }
    g_key_file_set_string (kf, "Transaction", "Operation", "apply");
    g_key_file_set_string (kf, "Layout", "Instances", text->str);
    g_string_free (text, TRUE);
  }
  id = gv_journal_begin (f->journal, GV_MIG_JOURNAL_KIND, A100X, kf, &error);
  g_assert_no_error (error);
  /* ... and what it had done through NVML: one instance destroyed (its
   * compute instance first), another made elsewhere */
  g_assert_cmpint (sim_write (f, ".sim/mig", "ci-destroy " A100X " 3 0"), ==, 0);
  g_assert_cmpint (sim_write (f, ".sim/mig", "gi-destroy " A100X " 3"), ==, 0);
  g_assert_cmpint (sim_write (f, ".sim/mig", "gi-create " A100X " 19 1g.10gb 6 1 1"), ==, 0);
  g_assert_cmpint (sim_write (f, ".sim/mig", "ci-destroy " A100X " 1 0"), ==, 0);
  g_assert_true (gv_mig_journal_recover (&f->ctx, &results, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_nonnull (strstr (results->pdata[0], A100X " (apply interrupted): destroyed 1g.10gb at 6"));
  g_assert_nonnull (strstr (results->pdata[0], "made a compute instance of 3g.40gb"));
  after = layout (f, A100X);
  g_assert_cmpstr (after, ==, before);
  /* the same instances where they were */
  {
    g_autoptr (GvMigGpu) gpu = read_gpu (f, A100X);
    g_autofree char *names = NULL;
    GString *s = g_string_new (NULL);
    for (guint i = 0; i < gpu->instances->len; i++) {
      const GvMigInstance *in = gpu->instances->pdata[i];
      g_string_append_printf (s, "%s@%u/%u ", in->profile, in->placement.start, in->compute->len);
    }
    names = g_string_free (s, FALSE);
    g_assert_nonnull (strstr (names, "3g.40gb@"));
    g_assert_nonnull (strstr (names, "1g.10gb@"));
    g_assert_cmpuint (gpu->instances->len, ==, 3);
  }
  left = gv_journal_list (f->journal);
  g_assert_cmpuint (g_strv_length (left), ==, 0);

  /* a reset meanwhile took every instance: they are made again */
  id2 = gv_journal_begin (f->journal, GV_MIG_JOURNAL_KIND, A100X, kf, &error);
  g_assert_cmpint (sim_write (f, "sys/bus/pci/devices/" A100X "/reset", "1"), ==, 0);
  g_clear_pointer (&results, g_ptr_array_unref);
  g_assert_true (gv_mig_journal_recover (&f->ctx, &results, &error));
  g_assert_cmpuint (results->len, ==, 1);
  g_test_message ("%s", (char *) results->pdata[0]);
  g_assert_nonnull (strstr (results->pdata[0], "made profile 9 at 0 again"));
  g_clear_pointer (&after, g_free);
  after = layout (f, A100X);
  g_assert_cmpstr (after, ==, before);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mig/absent", test_absent);
  g_test_add_func ("/mig/names", test_names);
#define T(name, fn) g_test_add ("/mig/" name, Fixture, NULL, setup, fn, teardown)
  T ("read", test_read);
  T ("mode", test_mode);
  T ("check-reset", test_check_reset);
  T ("create-destroy", test_create_destroy);
  T ("apply", test_apply);
  T ("faults/every-call", test_faults_every_call);
  T ("faults/driver", test_faults_driver);
  T ("faults/mode", test_faults_mode);
  T ("hang", test_hang);
  T ("recover", test_recover);
  return g_test_run ();
}
