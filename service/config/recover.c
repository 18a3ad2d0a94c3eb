/* Recovery at start of every kind of operation a killed daemon left
 * unfinished (see config.h): the journals of both engines, in the order
 * that lets each find what it needs. The boot plan then completes the
 * configured state. */
#include "config/config.h"
#include "vgpu/family.h"

gboolean
gv_config_recover (GvJournal *records, const char *root, GPtrArray **results, GError **error)
{
  return gv_config_recover_all (records, root, NULL, results, error);
}

gboolean
gv_config_recover_all (GvJournal *records, const char *root, GvMigNvml *nvml, GPtrArray **results, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) pt = NULL;
  g_autoptr (GPtrArray) vg = NULL;
  g_autoptr (GError) pt_error = NULL;
  g_autoptr (GError) vg_error = NULL;
  g_autoptr (GPtrArray) mg = NULL;
  g_autoptr (GError) mg_error = NULL;
  GvVgpuContext ctx = { .root = root };
  GvMigContext mig = { nvml, root, records, 0 };
  gboolean ok;

  /* passthrough first: it gives functions back to drivers the vGPU
   * recovery may need (nvidia on a PF) */
  ok = gv_passthrough_recover (records, root, NULL, NULL, &pt, &pt_error);
  for (guint i = 0; pt && i < pt->len; i++) {
    const GvPassthroughResult *fr = pt->pdata[i];
    g_ptr_array_add (out, g_strdup_printf ("%s: %s", fr->bdf, fr->message));
  }
  ok &= gv_vgpu_journal_recover (records, &ctx, &vg, vg_error ? NULL : &vg_error);
  for (guint i = 0; vg && i < vg->len; i++)
    g_ptr_array_add (out, g_strdup (vg->pdata[i]));
  /* MIG last: enabling VFs again takes GPU instances with it */
  ok &= gv_mig_journal_recover (&mig, &mg, &mg_error);
  for (guint i = 0; mg && i < mg->len; i++)
    g_ptr_array_add (out, g_strdup (mg->pdata[i]));
  if (results)
    *results = g_steal_pointer (&out);
  if (!ok) {
    g_set_error (error, GV_ERROR, GV_ERROR_PLAN_FAILED, "%s%s%s%s%s", pt_error ? pt_error->message : "",
                 pt_error && vg_error ? "; " : "", vg_error ? vg_error->message : "",
                 (pt_error || vg_error) && mg_error ? "; " : "", mg_error ? mg_error->message : "");
    return FALSE;
  }
  return TRUE;
}
