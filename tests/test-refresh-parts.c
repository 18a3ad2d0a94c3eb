/* After each SR-IOV and vGPU operation gpuvirtd re-reads only what the
 * operation can have changed (gv_vgpu_plan_touched() and
 * gv_host_refresh_parts()) instead of the GPU's whole family. This test
 * runs the operations of every framework, successful and failing, on the
 * simulator and after each compares the model refreshed that way with a
 * model read whole from scratch: every device and every mdev must be the
 * same (issue 20, "read only what changed"). */
#include "host/model.h"
#include "sim-mount.h"
#include "vgpu/plan.h"

#include <string.h>

typedef struct {
  SimMount *mount;
  GvHost *host;
  GvVgpuTypeNames *names;
  GvVgpuContext ctx;
} Fx;

static Fx *
fx_new (const char *scenario)
{
  Fx *fx = g_new0 (Fx, 1);
  g_autoptr (GError) error = NULL;

  fx->mount = sim_mount_start (scenario);
  fx->host = gv_host_new (fx->mount->root, &error);
  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (fx->host, NULL, &error));
  fx->names = gv_vgpu_type_names_new (NULL);
  gv_vgpu_type_names_learn_host (fx->names, fx->host);
  fx->ctx.root = fx->mount->root;
  fx->ctx.timeout_ms = 5000;
  fx->ctx.appear_ms = 3000;
  fx->ctx.busy_retry_ms = 1000;
  fx->ctx.busy_retry_every_ms = 50;
  return fx;
}

static void
fx_free (Fx *fx)
{
  gv_vgpu_type_names_free (fx->names);
  gv_host_free (fx->host);
  sim_mount_stop (fx->mount);
  g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fx, fx_free)

static gboolean
mdevs_same (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++) {
    const GvHostMdev *x = a->pdata[i], *y = b->pdata[i];
    if (!g_str_equal (x->uuid, y->uuid) || !g_str_equal (x->type_id, y->type_id) ||
        !g_str_equal (x->parent, y->parent) || x->iommu_group != y->iommu_group ||
        g_strcmp0 (x->vfio_group_node, y->vfio_group_node) != 0 ||
        g_strcmp0 (x->vfio_cdev_node, y->vfio_cdev_node) != 0)
      return FALSE;
  }
  return TRUE;
}

/* The model after a targeted refresh is the model read whole. */
static void
assert_same_as_whole (Fx *fx, const char *what)
{
  g_autoptr (GError) error = NULL;
  GvHost *whole = gv_host_new (fx->mount->root, &error);
  GPtrArray *mine, *theirs;
  guint compared = 0;

  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (whole, NULL, &error));
  mine = gv_host_get_devices (fx->host);
  theirs = gv_host_get_devices (whole);
  for (guint i = 0; i < theirs->len; i++) {
    GvHostDevice *t = theirs->pdata[i];
    GvHostDevice *m = gv_host_lookup (fx->host, t->fn->bdf);
    if (!m)
      g_error ("%s: %s is on the host but not in the refreshed model", what, t->fn->bdf);
    if (!gv_host_device_equal (m, t))
      g_error ("%s: %s differs between the refreshed model and a whole read", what, t->fn->bdf);
    compared++;
  }
  if (mine->len != theirs->len)
    g_error ("%s: the refreshed model has %u functions, the host %u", what, mine->len, theirs->len);
  if (!mdevs_same (gv_host_get_mdevs (fx->host), gv_host_get_mdevs (whole)))
    g_error ("%s: the mdevs differ between the refreshed model and a whole read", what);
  g_test_message ("%s: %u functions the same", what, compared);
  gv_host_free (whole);
}

/* PLAN, or the test fails with ERROR's message. */
static GvVgpuPlan *
planned (GvVgpuPlan *plan, GError **error)
{
  if (!plan)
    g_error ("not planned: %s", *error ? (*error)->message : "(no error)");
  return plan;
}

/* Runs PLAN (taken), refreshes what it touched, compares. WANT_OK: the
 * run must succeed (else fail). */
static void
run (Fx *fx, GvVgpuPlan *plan, gboolean want_ok, const char *what)
{
  g_autoptr (GvVgpuPlan) owned = plan;
  g_autoptr (GHashTable) parts = NULL;
  g_autoptr (GError) error = NULL;
  GvVgpuOutcome outcome = { 0 };
  gboolean mdevs = FALSE, ok;

  if (!plan)
    g_error ("%s: not planned", what);
  ok = gv_vgpu_plan_run (&fx->ctx, NULL, plan, &outcome, &error);
  if (ok != want_ok)
    g_error ("%s: %s (%s)", what, ok ? "succeeded" : "failed", error ? error->message : "");
  parts = gv_vgpu_plan_touched (fx->host, plan, &outcome, &mdevs);
  g_assert_true (gv_host_refresh_parts (fx->host, parts, mdevs, NULL, NULL));
  gv_vgpu_type_names_learn_host (fx->names, fx->host);
  g_test_message ("%s: %u functions re-read in part%s", what, g_hash_table_size (parts), mdevs ? ", and the mdevs" : "");
  assert_same_as_whole (fx, what);
  gv_vgpu_outcome_clear (&outcome);
}

static GvHostDevice *
dev (Fx *fx, const char *bdf)
{
  GvHostDevice *d = gv_host_lookup (fx->host, bdf);

  if (!d)
    g_error ("no %s in the model", bdf);
  return d;
}

static void
fault (Fx *fx, const char *rule)
{
  g_autofree char *path = sim_mount_path (fx->mount, ".sim/faults");

  g_assert_cmpint (sim_write_file (path, rule), ==, 0);
}

static void
test_vendor (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;
  const char *cold = "0000:81:00.0", *warm = "0000:01:00.0";

  run (fx, gv_vgpu_plan_set_num_vfs (fx->host, dev (fx, cold), 4, &error), TRUE, "SetNumVfs 0 -> 4");
  run (fx, gv_vgpu_plan_set_num_vfs (fx->host, dev (fx, cold), 2, &error), TRUE, "SetNumVfs 4 -> 2");
  run (fx, gv_vgpu_plan_set_type (fx->host, fx->names, dev (fx, "0000:01:00.4"), "L40S-24Q", &error), TRUE,
       "SetType");
  run (fx, gv_vgpu_plan_create_vgpu (fx->host, fx->names, dev (fx, warm), "L40S-24Q", NULL, 0, &error), TRUE,
       "CreateVgpu on a warm GPU");
  run (fx, gv_vgpu_plan_release_type (fx->host, dev (fx, "0000:01:00.4"), &error), TRUE, "ReleaseType");
  run (fx, gv_vgpu_plan_set_num_vfs (fx->host, dev (fx, cold), 0, &error), TRUE, "SetNumVfs 2 -> 0");
  run (fx, gv_vgpu_plan_create_vgpu (fx->host, fx->names, dev (fx, cold), "L40S-12Q", NULL, 4, &error), TRUE,
       "CreateVgpu on a cold GPU (enables VFs)");
  /* failures: what the engine undid is seen too */
  fault (fx, "sys/devices/*/nvidia/current_vgpu_type errno=EIO count=1");
  run (fx, gv_vgpu_plan_set_type (fx->host, fx->names, dev (fx, "0000:01:00.6"), "L40S-24Q", &error), FALSE,
       "SetType failing with EIO");
  fault (fx, "sys/devices/*/sriov_numvfs errno=EIO data=8 count=1");
  run (fx, gv_vgpu_plan_set_num_vfs (fx->host, dev (fx, "0000:c1:00.0"), 8, &error), FALSE,
       "SetNumVfs failing with EIO");
  /* batches */
  run (fx, planned (gv_vgpu_plan_create_vgpus (fx->host, fx->names, dev (fx, warm), "L40S-24Q", 1, 0, &error), &error),
       TRUE, "CreateVgpus of 1 on a warm GPU");
  run (fx, gv_vgpu_plan_create_vgpus (fx->host, fx->names, dev (fx, "0000:41:00.0"), "L40S-1Q", 3, 0, &error), TRUE,
       "CreateVgpus of 3");
}

#define UUID_A "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"

static void
test_mdev (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GError) error = NULL;
  const char *a40 = "0000:67:00.0";

  run (fx, gv_vgpu_plan_create_vgpu (fx->host, fx->names, dev (fx, a40), "A40-8Q", UUID_A, 4, &error), TRUE,
       "CreateVgpu on an mdev-vf GPU (enables VFs, an mdev on a VF)");
  run (fx, gv_vgpu_plan_create_mdev (fx->host, fx->names, dev (fx, "0000:67:00.5"), "A40-8Q", "", &error), TRUE,
       "CreateMdev on a VF");
  run (fx, gv_vgpu_plan_remove_mdev (fx->host, gv_vgpu_find_mdev (fx->host, UUID_A), &error), TRUE, "RemoveMdev");
  fault (fx, "sys/devices/*/mdev_supported_types/*/create errno=EIO count=1");
  run (fx, gv_vgpu_plan_create_mdev (fx->host, fx->names, dev (fx, "0000:67:00.6"), "A40-8Q", "", &error), FALSE,
       "CreateMdev failing with EIO");
  run (fx, gv_vgpu_plan_create_vgpus (fx->host, fx->names, dev (fx, a40), "A40-8Q", 2, 0, &error), TRUE,
       "CreateVgpus of 2 mdevs on VFs");
}

static void
test_mdev_pf (void)
{
  g_autoptr (Fx) fx = fx_new ("big-host");
  g_autoptr (GError) error = NULL;
  const char *t4 = "0000:c8:00.0";

  run (fx, gv_vgpu_plan_create_vgpu (fx->host, fx->names, dev (fx, t4), "T4-1Q", UUID_A, 0, &error), TRUE,
       "CreateVgpu on the T4's PF");
  run (fx, gv_vgpu_plan_remove_vgpu (fx->host, dev (fx, t4), UUID_A, UUID_A, NULL, FALSE, &error), TRUE,
       "RemoveVgpu of the mdev");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/refresh-parts/vendor-vfio", test_vendor);
  g_test_add_func ("/refresh-parts/mdev-vf", test_mdev);
  g_test_add_func ("/refresh-parts/mdev-pf", test_mdev_pf);
  return g_test_run ();
}
