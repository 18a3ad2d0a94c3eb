/* Crash safety of the bus's SR-IOV and vGPU operations: before its first
 * write each one journals where its GPU family goes should gpuvirtd die
 * halfway (vgpu-journal.h); the next start takes it there. An operation
 * that adds (VFs, a type, an mdev, a vGPU) is undone: the target is the
 * family as it was. One that takes away (release, remove, disable) is
 * completed: the target is the family without what it removes. */
#include "bus/vgpu-journal.h"
#include "vgpu/family.h"

char *
vgpu_op_journal_begin (VgpuOp *op)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvVgpuFamily) target = NULL;
  char *id;

  if (!op->daemon->records)
    return NULL;
  target = gv_vgpu_family_read (op->root, op->gpu, &error);
  if (!target) {
    g_warning ("Not journaling %s on %s: %s", vgpu_op_kind_to_string (op->kind), op->gpu, error->message);
    return NULL;
  }
  switch (op->kind) {
  case VGPU_OP_RELEASE_TYPE:
    g_hash_table_remove (target->vf_types, op->function);
    break;
  case VGPU_OP_REMOVE_MDEV:
    g_hash_table_remove (target->mdevs, op->uuid);
    break;
  case VGPU_OP_REMOVE_VGPU:
    if (op->uuid && *op->uuid)
      g_hash_table_remove (target->mdevs, op->uuid);
    else
      g_hash_table_remove (target->vf_types, op->function);
    if (op->disable_vfs)
      target->num_vfs = 0;
    break;
  default:
    break;
  }
  id = gv_vgpu_journal_begin (op->daemon->records, vgpu_op_kind_to_string (op->kind), target, &error);
  if (!id)
    g_warning ("Could not journal %s on %s, going on without: %s", vgpu_op_kind_to_string (op->kind), op->gpu,
               error->message);
  return id;
}

void
vgpu_op_journal_end (VgpuOp *op, const char *id)
{
  g_autoptr (GError) error = NULL;

  if (!id)
    return;
  /* a stuck write is still under way: the next start finishes the job */
  if (op->error && g_error_matches (op->error, GV_ERROR, GV_ERROR_STUCK))
    return;
  if (!gv_vgpu_journal_end (op->daemon->records, id, &error))
    g_warning ("Could not close the journal of %s on %s: %s", vgpu_op_kind_to_string (op->kind), op->gpu,
               error->message);
}
