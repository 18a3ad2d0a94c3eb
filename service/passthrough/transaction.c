/* One IOMMU group's move as a transaction. Before the first write every
 * function's original is recorded and the transaction journaled, so that
 * neither a failure nor a SIGKILL can lose where a function belongs; on
 * any failure the functions already touched go back, newest first, and
 * the caller learns where each one ended. */
#include "passthrough/internal.h"
#include "gpuvirt-names.h"
#include "host/function.h"
#include "sysfs/read.h"

#include <string.h>

typedef struct {
  char *bdf;
  char *pre_driver;       /* as found: where a rollback puts it */
  char *pre_override;
  char *driver;           /* where the operation puts it ("" = none) */
  char *override;         /* NULL = leave it */
  gboolean skip;          /* already there */
  gboolean touched;       /* a write was attempted */
  gboolean record_created;
  gboolean rolled_back;
  gboolean stranded;      /* stuck, or its rollback failed */
  gboolean rollback_failed;
  char *state;            /* how it ended */
  char *message;
} Fn;

static void
fn_free (gpointer p)
{
  Fn *f = p;

  g_free (f->bdf);
  g_free (f->pre_driver);
  g_free (f->pre_override);
  g_free (f->driver);
  g_free (f->override);
  g_free (f->state);
  g_free (f->message);
  g_free (f);
}

static void
fn_end (Fn *f, const char *state, char *message)
{
  g_free (f->state);
  g_free (f->message);
  f->state = g_strdup (state);
  f->message = message;
}

static const char *
name_or_none (const char *driver)
{
  return driver && *driver ? driver : "no driver";
}

static void
report (const GvPassthroughContext *ctx, const Fn *f)
{
  if (ctx->progress)
    ctx->progress (f->bdf, f->state, f->message, ctx->user_data);
}

/* Where each function goes, checked before anything is written. */
static gboolean
resolve_targets (const char *root, GvJournal *records, GvPassthroughOp op, const GvPassthroughOptions *opts,
                 GPtrArray *fns, GError **error)
{
  for (guint i = 0; i < fns->len; i++) {
    Fn *f = fns->pdata[i];
    g_autofree char *rec_driver = NULL;
    g_autofree char *rec_override = NULL;
    gboolean has_record;

    switch (op) {
    case GV_PASSTHROUGH_BIND_VFIO:
      f->driver = g_strdup ("vfio-pci");
      f->override = g_strdup ("vfio-pci");
      /* vfio-pci or a variant driver: a VFIO driver already, leave it. */
      f->skip = gv_host_driver_is_vfio (f->pre_driver);
      break;

    case GV_PASSTHROUGH_UNBIND:
      f->driver = g_strdup ("");
      f->override = NULL;
      f->skip = !*f->pre_driver;
      break;

    case GV_PASSTHROUGH_GIVE_BACK:
      has_record = gv_journal_lookup_original (records, f->bdf, &rec_driver, &rec_override);
      /* a named driver takes the display controllers; HDMI audio, USB and
       * UCSI functions go back to their own drivers */
      if (opts->driver && gv_passthrough_is_display (root, f->bdf)) {
        f->driver = g_strdup (opts->driver);
        /* An override naming another driver would keep the named one out. */
        f->override = g_strdup (has_record && (!*rec_override || g_str_equal (rec_override, opts->driver))
                                  ? rec_override : "");
      } else if (has_record) {
        f->driver = g_steal_pointer (&rec_driver);
        f->override = g_steal_pointer (&rec_override);
      } else if (gv_host_driver_is_vfio (f->pre_driver) && opts->driver) {
        /* the GPU was named a driver; this companion has no record of its
         * own: better on vfio-pci than on a guessed driver */
        f->driver = g_strdup (f->pre_driver);
        f->override = g_strdup (f->pre_override);
      } else if (gv_host_driver_is_vfio (f->pre_driver)) {
        g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DRIVER,
                     "%s is on %s, and gpuvirt has no record of the driver it had before (it was there before "
                     "gpuvirt saw it, or another tool put it there): name the driver to give it to "
                     "(--driver NAME)", f->bdf, f->pre_driver);
        return FALSE;
      } else {
        /* Never ours: on its host driver, or without one, as found. */
        f->driver = g_strdup (f->pre_driver);
        f->override = g_strdup (f->pre_override);
      }
      if (*f->driver && !gv_passthrough_driver_exists (root, f->driver)) {
        g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DRIVER,
                     "No driver “%s” on this host (%s/sys/bus/pci/drivers/%s is missing), so %s cannot go back "
                     "to it: load its module first (modprobe %s) or name another driver (--driver NAME)",
                     f->driver, g_str_equal (root, "/") ? "" : root, f->driver, f->bdf, f->driver);
        return FALSE;
      }
      f->skip = g_str_equal (f->pre_driver, f->driver) && g_str_equal (f->pre_override, f->override);
      break;
    }
  }
  return TRUE;
}

/* Originals first (BIND, UNBIND): a function already on a VFIO driver
 * that gpuvirt never moved is recorded as such, so that no give-back
 * ever takes it to a host driver it never had. */
static gboolean
record_originals (GvJournal *records, GvPassthroughOp op, GPtrArray *fns, GError **error)
{
  if (op == GV_PASSTHROUGH_GIVE_BACK)
    return TRUE;
  for (guint i = 0; i < fns->len; i++) {
    Fn *f = fns->pdata[i];
    if (f->skip && op == GV_PASSTHROUGH_UNBIND)
      continue;
    if (!gv_journal_remember_original (records, f->bdf, f->pre_driver, f->pre_override, &f->record_created, error))
      return FALSE;
  }
  return TRUE;
}

/* Where recovery puts each function should this process die mid-way:
 * its original for BIND and UNBIND, the give-back's target otherwise. */
static char *
begin_journal (GvJournal *records, GvPassthroughOp op, GPtrArray *fns, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_journal_entry_free);

  for (guint i = 0; i < fns->len; i++) {
    Fn *f = fns->pdata[i];
    GvJournalEntry *e;

    if (f->skip)
      continue;
    e = g_new0 (GvJournalEntry, 1);
    e->bdf = g_strdup (f->bdf);
    if (op == GV_PASSTHROUGH_GIVE_BACK || !gv_journal_lookup_original (records, f->bdf, &e->driver, &e->override)) {
      e->driver = g_strdup (op == GV_PASSTHROUGH_GIVE_BACK ? f->driver : f->pre_driver);
      e->override = g_strdup (op == GV_PASSTHROUGH_GIVE_BACK ? f->override : f->pre_override);
    }
    g_ptr_array_add (entries, e);
  }
  return gv_journal_begin_functions (records, gv_passthrough_op_to_string (op), entries, error);
}

static char *
success_message (GvPassthroughOp op, const Fn *f)
{
  if (f->skip) {
    if (op == GV_PASSTHROUGH_GIVE_BACK && gv_host_driver_is_vfio (f->driver))
      return g_strdup_printf ("left on %s, where it was before gpuvirt first moved it", f->driver);
    return g_strdup_printf ("already on %s", name_or_none (f->pre_driver));
  }
  switch (op) {
  case GV_PASSTHROUGH_BIND_VFIO:
    return g_strdup_printf ("on %s (was on %s)", f->driver, name_or_none (f->pre_driver));
  case GV_PASSTHROUGH_UNBIND:
    return g_strdup_printf ("unbound from %s", f->pre_driver);
  case GV_PASSTHROUGH_GIVE_BACK:
  default:
    if (!*f->driver)
      return g_strdup_printf ("released from %s and left without a driver, as it was", f->pre_driver);
    return g_strdup_printf ("back on %s", f->driver);
  }
}

/* Puts a touched function back where it was; FALSE leaves it stranded,
 * with a message saying exactly where it is and how to recover it. */
static void
roll_back (const GvPassthroughContext *ctx, Fn *f, const char *cause)
{
  g_autoptr (GvPassthroughFailure) failure = NULL;
  g_autofree char *driver = NULL;
  g_autofree char *override = NULL;
  g_autofree char *what = NULL;
  g_autofree char *cmds = NULL;

  if (gv_passthrough_move (ctx, f->bdf, f->pre_driver, f->pre_override, GV_PASSTHROUGH_ATTACH_BIND, f->pre_driver, f->pre_override,
               &failure)) {
    f->rolled_back = TRUE;
    fn_end (f, gv_passthrough_state_for_driver (f->pre_driver),
            g_strdup_printf ("rolled back to %s after %s", name_or_none (f->pre_driver), cause));
    report (ctx, f);
    return;
  }
  f->stranded = TRUE;
  f->rollback_failed = TRUE;
  what = gv_passthrough_failure_describe (failure);
  if (!gv_passthrough_read_function (ctx->root, f->bdf, &driver, &override)) {
    fn_end (f, GPUVIRT_STATE_UNBOUND, g_strdup_printf ("rollback failed: %s; the function is gone", what));
    report (ctx, f);
    return;
  }
  cmds = gv_passthrough_recovery_commands (ctx->root, f->bdf, driver, f->pre_driver, f->pre_override);
  fn_end (f, failure->stuck ? GPUVIRT_STATE_STUCK : gv_passthrough_state_for_driver (driver),
          g_strdup_printf ("NOT rolled back: %s; it is on %s with driver_override %s; to put it back on %s "
                           "by hand: %s",
                           what, name_or_none (driver), *override ? override : "(null)",
                           name_or_none (f->pre_driver), cmds));
  report (ctx, f);
}

/* "...; rolled back: A on x, B on y; untouched: C on z" */
static char *
summarize (GPtrArray *fns, guint failed)
{
  GString *out = g_string_new (NULL);
  const char *sep;

  sep = "; rolled back: ";
  for (guint j = failed + 1; j-- > 0;) {
    Fn *f = fns->pdata[j];
    if (f->rolled_back) {
      g_string_append_printf (out, "%s%s on %s", sep, f->bdf, name_or_none (f->pre_driver));
      sep = ", ";
    }
  }
  sep = "; untouched: ";
  for (guint j = 0; j < fns->len; j++) {
    Fn *f = fns->pdata[j];
    if (!f->touched) {
      g_string_append_printf (out, "%s%s on %s", sep, f->bdf, name_or_none (f->pre_driver));
      sep = ", ";
    }
  }
  for (guint j = failed + 1; j-- > 0;) {
    Fn *f = fns->pdata[j];
    if (f->rollback_failed)
      g_string_append_printf (out, "; %s %s", f->bdf, f->message);
  }
  return g_string_free (out, FALSE);
}

static GPtrArray *
make_results (const char *root, GPtrArray *fns)
{
  GPtrArray *results = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_passthrough_result_free);

  for (guint i = 0; i < fns->len; i++) {
    Fn *f = fns->pdata[i];
    g_autofree char *driver = NULL;

    if (!gv_passthrough_read_function (root, f->bdf, &driver, NULL))
      driver = g_strdup ("");
    g_ptr_array_add (results, gv_passthrough_result_new (f->bdf, f->state ? f->state : gv_passthrough_state_for_driver (driver), driver,
                                             f->message ? f->message : "unchanged"));
  }
  return results;
}

/* Everything before the first write: the functions as found, their
 * targets, their originals and the journal. Nothing is changed on failure. */
static gboolean
prepare (const char *root, GvJournal *records, GvPassthroughOp op, const GvPassthroughOptions *opts,
         const GvPassthroughGroup *group, GPtrArray *fns, char **journal, GError **error)
{
  gboolean all_skipped = TRUE;

  for (guint i = 0; group->bdfs && group->bdfs[i]; i++) {
    Fn *f = g_new0 (Fn, 1);
    f->bdf = g_strdup (group->bdfs[i]);
    g_ptr_array_add (fns, f);
    if (!gv_host_bdf_is_valid (f->bdf) || !gv_passthrough_read_function (root, f->bdf, &f->pre_driver, &f->pre_override)) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE,
                   "No PCI function %s on this host (any more); nothing was changed", f->bdf);
      return FALSE;
    }
  }
  if (!resolve_targets (root, records, op, opts, fns, error))
    return FALSE;
  for (guint i = 0; i < fns->len; i++)
    all_skipped &= ((Fn *) fns->pdata[i])->skip;
  if (record_originals (records, op, fns, error) && (all_skipped || (*journal = begin_journal (records, op, fns, error))))
    return TRUE;

  /* Nothing was written: records made just now describe nothing. */
  for (guint i = 0; i < fns->len; i++) {
    Fn *f = fns->pdata[i];
    if (f->record_created)
      gv_journal_forget_original (records, f->bdf, NULL);
  }
  return FALSE;
}

/* All done: a give-back ends gpuvirt's change, so its records go (a VFIO
 * original stays: it says the function must never leave VFIO). */
static void
finish (GvJournal *records, GvPassthroughOp op, GPtrArray *fns, const char *journal)
{
  g_autoptr (GError) local = NULL;

  for (guint i = 0; i < fns->len && op == GV_PASSTHROUGH_GIVE_BACK; i++) {
    Fn *f = fns->pdata[i];
    if (!gv_host_driver_is_vfio (f->driver) && !gv_journal_forget_original (records, f->bdf, &local)) {
      g_warning ("%s", local->message);
      g_clear_error (&local);
    }
  }
  if (journal && !gv_journal_end (records, journal, &local))
    g_warning ("%s", local->message);
}

/* After a rollback: records made by this transaction for functions that
 * are back go; the journal goes, or, when a function is stranded, is
 * replaced by one naming only those, with the place the rollback meant
 * for them, for recovery at the next start. */
static void
settle_journal (GvJournal *records, GvPassthroughOp op, GPtrArray *fns, const char *journal)
{
  g_autoptr (GPtrArray) stranded = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_journal_entry_free);
  g_autoptr (GError) local = NULL;
  g_autofree char *kept = NULL;

  for (guint i = 0; i < fns->len; i++) {
    Fn *f = fns->pdata[i];
    if (f->stranded) {
      GvJournalEntry *e = g_new0 (GvJournalEntry, 1);
      e->bdf = g_strdup (f->bdf);
      e->driver = g_strdup (f->pre_driver);
      e->override = g_strdup (f->pre_override);
      g_ptr_array_add (stranded, e);
    } else if (f->record_created && !gv_journal_forget_original (records, f->bdf, &local)) {
      g_warning ("%s", local->message);
      g_clear_error (&local);
    }
  }
  if (stranded->len > 0 && !(kept = gv_journal_begin_functions (records, gv_passthrough_op_to_string (op), stranded, &local))) {
    /* the old journal is better than none */
    g_warning ("%s", local->message);
    return;
  }
  if (!gv_journal_end (records, journal, &local))
    g_warning ("%s", local->message);
}

/* The failing function first (it may be half-way), then every earlier
 * one, newest first. A stuck one is the kernel's until its write returns:
 * touching it now would only queue behind it. */
static void
fail_and_roll_back (const GvPassthroughContext *ctx, GvJournal *records, GvPassthroughOp op, GPtrArray *fns, guint failed,
                    const GvPassthroughFailure *failure, const char *journal, GError **error)
{
  Fn *f = fns->pdata[failed];
  g_autofree char *what = gv_passthrough_failure_describe (failure);
  g_autofree char *cause = NULL;
  g_autofree char *summary = NULL;

  if (failure->stuck)
    cause = g_strdup_printf ("%s did not return", failure->step);
  else if (failure->err)
    cause = g_strdup_printf ("%s failed: %s", failure->step, strerrorname_np (failure->err));
  else
    cause = g_strdup_printf ("%s: %s", failure->step, failure->mismatch);
  if (failure->stuck) {
    f->stranded = TRUE;
    fn_end (f, GPUVIRT_STATE_STUCK,
            g_strdup_printf ("stuck: %s; left to the kernel, reported again when the write returns", what));
    report (ctx, f);
  }
  for (guint j = failed + 1; j-- > 0;) {
    Fn *g = fns->pdata[j];
    if (g->touched && !g->stranded)
      roll_back (ctx, g, cause);
  }
  settle_journal (records, op, fns, journal);

  summary = summarize (fns, failed);
  if (failure->stuck)
    g_set_error (error, GV_ERROR, GV_ERROR_STUCK,
                 "%s is stuck: %s; it is left to the kernel and reported when the write returns%s", f->bdf, what,
                 summary);
  else
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "%s%s", what, summary);
}

gboolean
gv_passthrough_run (const char *root, GvJournal *records, const GvPassthroughPlan *plan, const GvPassthroughGroup *group,
                    const GvPassthroughOptions *options, GvPassthroughProgressFunc progress, gpointer user_data,
                    GPtrArray **results, GError **error)
{
  static const GvPassthroughOptions no_options = { 0 };
  const GvPassthroughOptions *opts = options ? options : &no_options;
  GvPassthroughContext ctx = { root, opts->timeout_ms ? opts->timeout_ms : GV_PASSTHROUGH_DEFAULT_TIMEOUT_MS, progress, user_data };
  g_autoptr (GPtrArray) fns = g_ptr_array_new_with_free_func (fn_free);
  g_autoptr (GvPassthroughFailure) failure = NULL;
  g_autofree char *journal = NULL;
  GvPassthroughOp op = plan->operation;
  gboolean ok = TRUE;
  guint i;

  if (results)
    *results = NULL;
  if (!gv_sysfs_root_check (root, error)) {
    if (results)
      *results = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_passthrough_result_free);
    return FALSE;
  }

  if (prepare (root, records, op, opts, group, fns, &journal, error)) {
    for (i = 0; i < fns->len && ok; i++) {
      Fn *f = fns->pdata[i];

      if (f->skip) {
        fn_end (f, gv_passthrough_state_for_driver (f->pre_driver), success_message (op, f));
        continue;
      }
      f->touched = TRUE;
      fn_end (f, op == GV_PASSTHROUGH_GIVE_BACK ? GPUVIRT_STATE_RETURNING : GPUVIRT_STATE_RELEASING,
              g_strdup_printf ("leaving %s for %s", name_or_none (f->pre_driver), name_or_none (f->driver)));
      report (&ctx, f);
      ok = gv_passthrough_move (&ctx, f->bdf, f->driver, f->override,
                    op == GV_PASSTHROUGH_BIND_VFIO ? GV_PASSTHROUGH_ATTACH_PROBE : GV_PASSTHROUGH_ATTACH_BIND, f->pre_driver, f->pre_override,
                    &failure);
      if (!ok)
        break;
      fn_end (f, gv_passthrough_state_for_driver (f->driver), success_message (op, f));
      report (&ctx, f);
    }
    if (ok)
      finish (records, op, fns, journal);
    else
      fail_and_roll_back (&ctx, records, op, fns, i, failure, journal, error);
  } else {
    ok = FALSE;
  }

  if (results)
    *results = make_results (root, fns);
  return ok;
}
