/* Running a planned SR-IOV or vGPU call (see plan.h), journaled: before
 * its first write the call records where its GPU family goes should the
 * daemon die halfway (vgpu/family.h), and the next start takes it there.
 * A call that adds (VFs, a type, an mdev, a vGPU) is undone: the target
 * is the family as it was. One that takes away (release, remove, disable)
 * is completed: the target is the family without what it removes. */
#include "vgpu/plan.h"
#include "vgpu/family.h"
#include "vgpu/internal.h"
#include "sysfs/read.h"
#include "sysfs/write.h"

void
gv_vgpu_outcome_clear (GvVgpuOutcome *outcome)
{
  g_clear_pointer (&outcome->type_name, g_free);
  g_clear_pointer (&outcome->uuid, g_free);
  g_clear_pointer (&outcome->type, g_free);
  g_clear_pointer (&outcome->vgpu, gv_vgpu_result_free);
  g_clear_pointer (&outcome->vgpus, g_ptr_array_unref);
  g_clear_pointer (&outcome->vfs, g_strfreev);
  g_clear_pointer (&outcome->journal, g_free);
}

/* The journal's id, or NULL when none could be written (logged: the call
 * goes on, as it did before journals existed). */
static char *
journal_begin (const GvVgpuContext *ctx, GvJournal *journal, const GvVgpuPlan *plan)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvVgpuFamily) target = NULL;
  const char *name = gv_vgpu_op_to_string (plan->kind);
  char *id;

  if (!journal)
    return NULL;
  target = gv_vgpu_family_read (ctx->root, plan->gpu, &error);
  if (!target) {
    g_warning ("Not journaling %s on %s: %s", name, plan->gpu, error->message);
    return NULL;
  }
  switch (plan->kind) {
  case GV_VGPU_OP_RELEASE_TYPE:
    g_hash_table_remove (target->vf_types, plan->function);
    break;
  case GV_VGPU_OP_REMOVE_MDEV:
    g_hash_table_remove (target->mdevs, plan->uuid);
    break;
  case GV_VGPU_OP_REMOVE_VGPU:
    if (plan->on_mdev)
      g_hash_table_remove (target->mdevs, plan->uuid);
    else
      g_hash_table_remove (target->vf_types, plan->function);
    if (plan->disable_vfs)
      target->num_vfs = 0;
    break;
  default:
    break;
  }
  id = gv_vgpu_journal_begin (journal, name, target, plan->kind == GV_VGPU_OP_SET_NUM_VFS ? (gint) plan->count : -1,
                              &error);
  if (!id)
    g_warning ("Could not journal %s on %s, going on without: %s", name, plan->gpu, error->message);
  return id;
}

/* FALSE when the journal stays open. */
static gboolean
journal_end (GvJournal *journal, const GvVgpuPlan *plan, const char *id, const GError *failure)
{
  g_autoptr (GError) error = NULL;

  /* a write is still under way: the journal stays until it is settled
   * (gv_vgpu_plan_settle(), or recovery at the next start) */
  if (!id)
    return TRUE;
  if (g_error_matches (failure, GV_ERROR, GV_ERROR_STUCK) || g_error_matches (failure, GV_ERROR, GV_ERROR_PENDING))
    return FALSE;
  if (!gv_vgpu_journal_end (journal, id, &error))
    g_warning ("Could not close the journal of %s on %s: %s", gv_vgpu_op_to_string (plan->kind), plan->gpu,
               error->message);
  return TRUE;
}

static gboolean
remove_vgpu (const GvVgpuContext *ctx, const GvVgpuPlan *plan, GvVgpuOutcome *out, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (plan->on_mdev ? !gv_vgpu_remove_mdev (ctx, plan->uuid, error)
                    : !gv_vgpu_release_type (ctx, plan->function, NULL, error))
    return FALSE;
  if (plan->disable_vfs && !gv_vgpu_set_num_vfs (ctx, plan->gpu, 0, &out->vfs, &local)) {
    /* the vGPU is gone; only the clean-up failed: say exactly that */
    g_set_error (error, local->domain, local->code, "The vGPU was removed, but disabling the VFs of %s failed: %s",
                 plan->gpu, local->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
gv_vgpu_plan_run (const GvVgpuContext *ctx, GvJournal *journal, const GvVgpuPlan *plan, GvVgpuOutcome *out,
                  GError **error)
{
  g_autofree char *id = journal_begin (ctx, journal, plan);
  g_autoptr (GError) local = NULL;
  gboolean ok = FALSE;

  switch (plan->kind) {
  case GV_VGPU_OP_SET_NUM_VFS:
    ok = gv_vgpu_set_num_vfs (ctx, plan->function, plan->count, &out->vfs, &local);
    break;
  case GV_VGPU_OP_SET_TYPE:
    ok = gv_vgpu_set_type (ctx, plan->function, plan->wanted, &out->type_id, &out->type_name, &out->changed, &local);
    break;
  case GV_VGPU_OP_RELEASE_TYPE:
    ok = gv_vgpu_release_type (ctx, plan->function, &out->changed, &local);
    break;
  case GV_VGPU_OP_CREATE_MDEV:
    ok = gv_vgpu_create_mdev (ctx, plan->function, plan->wanted, plan->uuid, &out->uuid, &out->type, &local);
    break;
  case GV_VGPU_OP_REMOVE_MDEV:
    ok = gv_vgpu_remove_mdev (ctx, plan->uuid, &local);
    break;
  case GV_VGPU_OP_CREATE_VGPU: {
    GvVgpuRequest request = {
      .function = plan->function,
      .framework = plan->framework,
      .wanted = plan->wanted,
      .uuid = plan->uuid,
      .num_vfs = plan->count,
      .free_first = (const char *const *) plan->free_first,
    };
    if (plan->batch) {
      ok = gv_vgpu_create_batch (ctx, &request, plan->batch, &out->vgpus, &local);
      /* the first stands for the batch where one vGPU is looked at */
      if (ok && out->vgpus->len)
        out->vgpu = gv_vgpu_result_copy (out->vgpus->pdata[0]);
    } else {
      ok = gv_vgpu_create (ctx, &request, &out->vgpu, &local);
    }
    break;
  }
  case GV_VGPU_OP_REMOVE_VGPU:
    ok = remove_vgpu (ctx, plan, out, &local);
    break;
  }
  if (!journal_end (journal, plan, id, local))
    out->journal = g_steal_pointer (&id);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

/* ---- a write that returned late ---- */

static gboolean
vf_type_reached (const GvVgpuContext *ctx, const GvVgpuPlan *plan)
{
  g_autofree char *dir = gv_vgpu_function_dir (ctx->root, plan->function);
  g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);
  g_autoptr (GPtrArray) survey = NULL;
  g_autofree char *id = NULL;

  if (!vendor || !vendor->current_known)
    return FALSE;
  if (plan->kind == GV_VGPU_OP_RELEASE_TYPE)
    return vendor->current_type == 0;
  if (vendor->current_type == 0)
    return FALSE;
  id = g_strdup_printf ("%u", vendor->current_type);
  survey = gv_vgpu_vendor_survey (ctx->root, plan->gpu);
  return gv_vgpu_type_matches (id, gv_vgpu_vendor_type_name (survey, vendor->current_type), plan->wanted) ||
         g_strcmp0 (plan->type, id) == 0;
}

gboolean
gv_vgpu_plan_reached (const GvVgpuContext *ctx, const GvVgpuPlan *plan)
{
  g_autofree char *mdev = NULL;
  g_auto (GStrv) vfs = NULL;
  guint now = 0;

  switch (plan->kind) {
  case GV_VGPU_OP_SET_NUM_VFS:
    vfs = gv_host_read_vfs (ctx->root, plan->function);
    return gv_host_read_numvfs (ctx->root, plan->function, &now) && now == plan->count &&
           g_strv_length (vfs) == plan->count;
  case GV_VGPU_OP_SET_TYPE:
  case GV_VGPU_OP_RELEASE_TYPE:
    return vf_type_reached (ctx, plan);
  case GV_VGPU_OP_CREATE_MDEV:
  case GV_VGPU_OP_REMOVE_MDEV:
    if (!*plan->uuid)
      return FALSE; /* generated by the call, which failed: nobody knows it */
    mdev = gv_vgpu_mdev_dir (ctx->root, plan->uuid);
    return g_file_test (mdev, G_FILE_TEST_IS_DIR) == (plan->kind == GV_VGPU_OP_CREATE_MDEV);
  case GV_VGPU_OP_CREATE_VGPU:
  case GV_VGPU_OP_REMOVE_VGPU:
  default:
    return FALSE;
  }
}

gboolean
gv_vgpu_plan_settle (const GvVgpuContext *ctx, GvJournal *journal, const GvVgpuPlan *plan, const char *journal_id,
                     int result, gboolean *kept, GString *report, GError **error)
{
  gboolean reached = gv_vgpu_plan_reached (ctx, plan);

  *kept = reached;
  if (result < 0) {
    g_autofree char *text = gv_sysfs_errno_text (-result);
    g_string_append_printf (report, "the write failed: %s; ", text);
  }
  if (!journal || !journal_id) {
    g_string_append (report, reached ? "done, as asked" : "not done; the journal could not be written, so nothing was "
                                                          "put back");
    return TRUE;
  }
  return gv_vgpu_journal_settle (journal, ctx, journal_id, reached, report, error);
}

/* ---- what a run can have changed ---- */

static void
touch (GHashTable *parts, const char *bdf, GvHostParts more)
{
  gpointer had = NULL;

  if (!bdf || !gv_host_bdf_is_valid (bdf))
    return;
  g_hash_table_lookup_extended (parts, bdf, NULL, &had);
  g_hash_table_insert (parts, g_strdup (bdf), GUINT_TO_POINTER (GPOINTER_TO_UINT (had) | more));
}

static void
touch_all (GHashTable *parts, const char *const *bdfs, GvHostParts more)
{
  for (guint i = 0; bdfs && bdfs[i]; i++)
    touch (parts, bdfs[i], more);
}

GHashTable *
gv_vgpu_plan_touched (GvHost *host, const GvVgpuPlan *plan, const GvVgpuOutcome *outcome, gboolean *mdevs)
{
  GHashTable *parts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GvHostDevice *gpu = gv_host_lookup (host, plan->gpu);
  const GvVgpuResult *vgpu = outcome->vgpu;
  gboolean counted = plan->kind == GV_VGPU_OP_SET_NUM_VFS || (plan->kind == GV_VGPU_OP_CREATE_VGPU && plan->enables_vfs) ||
                     (plan->kind == GV_VGPU_OP_REMOVE_VGPU && plan->disable_vfs);

  /* the family before and after */
  touch (parts, plan->gpu, GV_HOST_PART_VGPU | (counted ? GV_HOST_PART_SRIOV : 0));
  if (gpu)
    touch_all (parts, (const char *const *) gpu->fn->vfs, GV_HOST_PART_VGPU);
  touch_all (parts, (const char *const *) outcome->vfs, GV_HOST_PART_VGPU);
  if (vgpu)
    touch_all (parts, (const char *const *) vgpu->vfs, GV_HOST_PART_VGPU);
  /* what was written to */
  touch (parts, plan->function, GV_HOST_PART_DRIVER | GV_HOST_PART_VGPU);
  if (vgpu)
    touch (parts, vgpu->address, GV_HOST_PART_DRIVER | GV_HOST_PART_VGPU);
  for (guint i = 0; outcome->vgpus && i < outcome->vgpus->len; i++)
    touch (parts, ((GvVgpuResult *) outcome->vgpus->pdata[i])->address, GV_HOST_PART_DRIVER | GV_HOST_PART_VGPU);

  *mdevs = plan->kind == GV_VGPU_OP_CREATE_MDEV || plan->kind == GV_VGPU_OP_REMOVE_MDEV ||
           plan->framework == GV_HOST_FRAMEWORK_MDEV_PF || plan->framework == GV_HOST_FRAMEWORK_MDEV_VF ||
           (vgpu && vgpu->mdev_uuid) || plan->on_mdev;
  return parts;
}
