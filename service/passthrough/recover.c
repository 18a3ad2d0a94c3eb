/* Crash recovery: a journal still on disk at start means the daemon died
 * inside a transaction (or left a function stranded). Only passthrough
 * journals are handled here; other kinds are left to their owners. Every function it
 * names goes where the journal says (its original driver, or the target of
 * an interrupted give-back) by the same verified steps as a give-back, and
 * the journal goes once all of them are there. */
#include "passthrough/internal.h"
#include "gpuvirt-names.h"
#include "host/function.h"
#include "sysfs/read.h"

static gboolean
recover_one (const GvPassthroughContext *ctx, GvJournal *records, const GvJournalEntry *e, GPtrArray *results,
             GString *problems, gboolean *any_stuck)
{
  g_autoptr (GvPassthroughFailure) failure = NULL;
  g_autofree char *driver = NULL;
  g_autofree char *override = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GError) local = NULL;
  const char *target = *e->driver ? e->driver : "no driver";
  const char *state;

  if (!gv_host_bdf_is_valid (e->bdf) || !gv_passthrough_read_function (ctx->root, e->bdf, NULL, NULL)) {
    /* Gone (hot-unplugged, or its VF disabled): nothing left to put back. */
    message = g_strdup_printf ("no longer on this host; nothing to recover");
    g_ptr_array_add (results, gv_passthrough_result_new (e->bdf, GPUVIRT_STATE_UNBOUND, "", message));
    if (ctx->progress)
      ctx->progress (e->bdf, GPUVIRT_STATE_UNBOUND, message, ctx->user_data);
    return TRUE;
  }
  if (*e->driver && !gv_passthrough_driver_exists (ctx->root, e->driver)) {
    gv_passthrough_read_function (ctx->root, e->bdf, &driver, &override);
    message = g_strdup_printf ("cannot go back to %s: no such driver on this host (load its module, then "
                               "restart gpuvirtd); it stays on %s", e->driver, *driver ? driver : "no driver");
    g_string_append_printf (problems, "; %s %s", e->bdf, message);
    g_ptr_array_add (results, gv_passthrough_result_new (e->bdf, gv_passthrough_state_for_driver (driver), driver, message));
    if (ctx->progress)
      ctx->progress (e->bdf, gv_passthrough_state_for_driver (driver), message, ctx->user_data);
    return FALSE;
  }

  if (ctx->progress)
    ctx->progress (e->bdf, GPUVIRT_STATE_RETURNING, "recovering after an interrupted operation", ctx->user_data);
  if (gv_passthrough_move (ctx, e->bdf, e->driver, e->override, GV_PASSTHROUGH_ATTACH_BIND, e->driver, e->override, &failure)) {
    state = gv_passthrough_state_for_driver (e->driver);
    message = g_strdup_printf ("recovered after an interrupted operation: on %s", target);
    g_ptr_array_add (results, gv_passthrough_result_new (e->bdf, state, e->driver, message));
    if (ctx->progress)
      ctx->progress (e->bdf, state, message, ctx->user_data);
    if (!gv_host_driver_is_vfio (e->driver) && !gv_journal_forget_original (records, e->bdf, &local))
      g_warning ("%s", local->message);
    return TRUE;
  }

  {
    g_autofree char *what = gv_passthrough_failure_describe (failure);
    g_autofree char *cmds = NULL;

    if (!gv_passthrough_read_function (ctx->root, e->bdf, &driver, &override)) {
      driver = g_strdup ("");
      override = g_strdup ("");
    }
    cmds = gv_passthrough_recovery_commands (ctx->root, e->bdf, driver, e->driver, e->override);
    state = failure->stuck ? GPUVIRT_STATE_STUCK : gv_passthrough_state_for_driver (driver);
    *any_stuck |= failure->stuck;
    message = g_strdup_printf ("NOT recovered: %s; it is on %s; to put it on %s by hand: %s", what,
                               *driver ? driver : "no driver", target, cmds);
    g_string_append_printf (problems, "; %s %s", e->bdf, message);
    g_ptr_array_add (results, gv_passthrough_result_new (e->bdf, state, driver, message));
    if (ctx->progress)
      ctx->progress (e->bdf, state, message, ctx->user_data);
  }
  return FALSE;
}

gboolean
gv_passthrough_recover (GvJournal *records, const char *root, GvPassthroughProgressFunc progress, gpointer user_data,
                    GPtrArray **results, GError **error)
{
  GvPassthroughContext ctx = { root, GV_PASSTHROUGH_DEFAULT_TIMEOUT_MS, progress, user_data };
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_passthrough_result_free);
  g_autoptr (GString) problems = g_string_new (NULL);
  g_auto (GStrv) ids = NULL;
  gboolean any_stuck = FALSE;

  if (results)
    *results = NULL;
  if (!gv_sysfs_root_check (root, error)) {
    if (results)
      *results = g_steal_pointer (&out);
    return FALSE;
  }

  ids = gv_journal_list (records);
  for (guint i = 0; ids[i]; i++) {
    g_autoptr (GError) local = NULL;
    g_autofree char *kind = gv_journal_kind (records, ids[i]);
    g_autoptr (GPtrArray) entries = NULL;
    gboolean done = TRUE;

    /* other kinds (SR-IOV, vGPU) have their own recovery (vgpu/family.c) */
    if (kind && !g_str_equal (kind, GV_JOURNAL_KIND_FUNCTIONS))
      continue;
    entries = gv_journal_read_functions (records, ids[i], &local);
    if (!entries) {
      g_string_append_printf (problems, "; journal %s is unreadable (%s) and was left in place", ids[i],
                              local->message);
      continue;
    }
    /* Newest first, as a rollback would: the GPU of a bind went last. */
    for (guint j = entries->len; j-- > 0;)
      done &= recover_one (&ctx, records, entries->pdata[j], out, problems, &any_stuck);
    if (done && !gv_journal_end (records, ids[i], &local))
      g_string_append_printf (problems, "; journal %s: %s", ids[i], local->message);
  }

  if (results)
    *results = g_steal_pointer (&out);
  if (problems->len) {
    g_set_error (error, GV_ERROR, any_stuck ? GV_ERROR_STUCK : GV_ERROR_KERNEL,
                 "Recovery of interrupted operations is incomplete%s", problems->str);
    return FALSE;
  }
  return TRUE;
}
