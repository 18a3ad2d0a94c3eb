/* N vGPUs of one type in one transaction (see vgpu.h). Each vGPU is made
 * as gv_vgpu_create() makes one, so every write is read back; what the
 * batch saves is the per-call work around it: one authorization, one
 * journal, one refresh of the family at the end. */
#include "vgpu/internal.h"

/* Undoes MADE (newest first); FALSE when one could not be undone, with
 * what remains appended to FAILURE. */
static gboolean
undo_made (const GvVgpuContext *ctx, GPtrArray *made, const char *pf, gboolean enabled_vfs, GError *failure)
{
  g_autoptr (GString) left = g_string_new (NULL);
  guint undone = 0;

  for (guint i = made->len; i-- > 0;) {
    GvVgpuResult *r = made->pdata[i];
    g_autoptr (GError) local = NULL;
    gboolean ok = r->mdev_uuid ? gv_vgpu_remove_mdev (ctx, r->mdev_uuid, &local)
                               : gv_vgpu_release_type (ctx, r->address, NULL, &local);
    if (ok)
      undone++;
    else
      g_string_append_printf (left, "%s%s (%s)", left->len ? ", " : "", r->mdev_uuid ? r->mdev_uuid : r->address,
                              local->message);
  }
  if (made->len)
    gv_vgpu_error_append (failure, "; the %u vGPUs this call made before were removed again", undone);
  if (left->len) {
    gv_vgpu_error_append (failure, "; these could not be removed and remain: %s", left->str);
    return FALSE;
  }
  if (enabled_vfs) {
    g_autoptr (GError) undo = NULL;
    if (g_error_matches (failure, GV_ERROR, GV_ERROR_STUCK))
      gv_vgpu_error_append (failure, "; the VFs this call enabled on %s stay enabled until that write returns, and "
                            "are disabled again then", pf);
    else if (gv_vgpu_set_num_vfs (ctx, pf, 0, NULL, &undo))
      gv_vgpu_error_append (failure, "; the VFs this call enabled on %s were disabled again", pf);
    else {
      gv_vgpu_error_append (failure, "; disabling the VFs this call enabled failed: %s; to disable them: echo 0 > "
                            "%s/sys/bus/pci/devices/%s/sriov_numvfs", undo->message, ctx->root, pf);
      return FALSE;
    }
  }
  return TRUE;
}

GPtrArray *
gv_vgpu_hint_new (const char *const *vfs)
{
  GPtrArray *hint = g_ptr_array_new ();

  for (guint i = 0; vfs && vfs[i]; i++)
    g_ptr_array_add (hint, (gpointer) vfs[i]);
  g_ptr_array_add (hint, NULL);
  return hint;
}

void
gv_vgpu_hint_drop (GPtrArray *hint, const char *address)
{
  for (guint i = 0; hint->pdata[i]; i++)
    if (g_str_equal (hint->pdata[i], address)) {
      g_ptr_array_remove_index (hint, i);
      return;
    }
}

gboolean
gv_vgpu_create_batch (const GvVgpuContext *ctx, const GvVgpuRequest *request, guint count, GPtrArray **results,
                      GError **error)
{
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_vgpu_result_free);
  g_autoptr (GPtrArray) hint = gv_vgpu_hint_new (request->free_first);
  g_autofree char *physfn = gv_host_read_physfn (ctx->root, request->function);
  const char *pf = physfn ? physfn : request->function;
  gboolean enabled_vfs = FALSE;

  *results = NULL;
  if (count == 0) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "A count of 0 vGPUs makes nothing");
    return FALSE;
  }
  if (count > 1 && request->uuid && *request->uuid) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                         "One uuid cannot name several vGPUs; leave it out and each mdev gets its own");
    return FALSE;
  }

  for (guint i = 0; i < count; i++) {
    GvVgpuRequest one = *request;
    g_autoptr (GError) local = NULL;
    GvVgpuResult *r = NULL;

    one.free_first = (const char *const *) hint->pdata;
    if (!gv_vgpu_create (ctx, &one, &r, &local)) {
      if (count > 1)
        g_prefix_error (&local, "vGPU %u of %u: ", i + 1, count);
      undo_made (ctx, made, pf, enabled_vfs, local);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    enabled_vfs = enabled_vfs || r->enabled_vfs;
    gv_vgpu_hint_drop (hint, r->address);
    g_ptr_array_add (made, r);
    if (ctx->progress && count > 1) {
      g_autofree char *message = g_strdup_printf ("%u of %u vGPUs made on %s", i + 1, count, pf);
      ctx->progress (pf, message, ctx->user_data);
    }
  }
  *results = g_steal_pointer (&made);
  return TRUE;
}
