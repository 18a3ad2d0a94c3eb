/* Moving one function between drivers, every step read back. The kernel
 * answers success to drivers_probe (and to a bind whose probe defers)
 * even when no driver took the device, so a write's return value alone
 * says little: the driver link is the truth. Used by transactions, their
 * rollbacks and crash recovery alike. */
#include "passthrough/internal.h"
#include "gpuvirt-names.h"
#include "host/function.h"

#include <errno.h>
#include <string.h>

const char *
gv_passthrough_state_for_driver (const char *driver)
{
  if (!driver || !*driver)
    return GPUVIRT_STATE_UNBOUND;
  return gv_host_driver_is_vfio (driver) ? GPUVIRT_STATE_VFIO : GPUVIRT_STATE_HOST;
}

GvPassthroughResult *
gv_passthrough_result_new (const char *bdf, const char *state, const char *driver, const char *message)
{
  GvPassthroughResult *r = g_new0 (GvPassthroughResult, 1);

  r->bdf = g_strdup (bdf);
  r->state = g_strdup (state);
  r->driver = g_strdup (driver ? driver : "");
  r->message = g_strdup (message ? message : "");
  return r;
}

void
gv_passthrough_failure_free (GvPassthroughFailure *failure)
{
  if (!failure)
    return;
  g_free (failure->step);
  g_free (failure->path);
  g_free (failure->data);
  g_free (failure->mismatch);
  g_free (failure);
}

char *
gv_passthrough_failure_describe (const GvPassthroughFailure *f)
{
  g_autofree char *shown = g_strescape (f->data ? f->data : "", NULL);

  if (f->stuck)
    return g_strdup_printf ("%s did not return within %u ms (writing “%s” to %s)", f->step, f->waited_ms, shown,
                            f->path);
  if (f->err) {
    g_autofree char *text = gv_sysfs_errno_text (f->err);
    return g_strdup_printf ("%s failed: %s (writing “%s” to %s)", f->step, text, shown, f->path);
  }
  return g_strdup_printf ("%s returned success, but %s (writing “%s” to %s)", f->step, f->mismatch, shown, f->path);
}

char *
gv_passthrough_recovery_commands (const char *root, const char *bdf, const char *cur_driver, const char *driver,
                      const char *override)
{
  g_autoptr (GPtrArray) cmds = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *ovr_path = g_build_filename (root, "sys", "bus", "pci", "devices", bdf, "driver_override", NULL);
  gboolean move = g_strcmp0 (cur_driver, driver) != 0;

  /* "echo > driver_override" writes "\n", which is what clears it. */
  if (override && *override)
    g_ptr_array_add (cmds, g_strdup_printf ("echo %s > %s", override, ovr_path));
  else
    g_ptr_array_add (cmds, g_strdup_printf ("echo > %s", ovr_path));
  if (move && cur_driver && *cur_driver) {
    g_autofree char *p = g_build_filename (root, "sys", "bus", "pci", "drivers", cur_driver, "unbind", NULL);
    g_ptr_array_add (cmds, g_strdup_printf ("echo %s > %s", bdf, p));
  }
  if (move && driver && *driver) {
    g_autofree char *p = g_build_filename (root, "sys", "bus", "pci", "drivers", driver, "bind", NULL);
    g_ptr_array_add (cmds, g_strdup_printf ("echo %s > %s", bdf, p));
  }
  g_ptr_array_add (cmds, NULL);
  return g_strjoinv ("; ", (char **) cmds->pdata);
}

/* ---- a write that outlives its timeout ---- */

typedef struct {
  char *root;
  char *bdf;
  char *step;
  char *home_driver;    /* where it should be if it ends up stranded */
  char *home_override;
  GvPassthroughProgressFunc progress;
  gpointer user_data;
} Late;

static void
late_free (gpointer p)
{
  Late *l = p;

  g_free (l->root);
  g_free (l->bdf);
  g_free (l->step);
  g_free (l->home_driver);
  g_free (l->home_override);
  g_free (l);
}

/* The stuck write returned: read where the function is now and say so,
 * with the commands to put it back when it is not where it should be. */
static void
late_report (int result, guint waited_ms, gpointer p)
{
  Late *l = p;
  g_autofree char *driver = NULL;
  g_autofree char *override = NULL;
  g_autofree char *outcome = result ? gv_sysfs_errno_text (-result) : g_strdup ("success");
  g_autofree char *message = NULL;

  if (!l->progress)
    return;
  if (!gv_passthrough_read_function (l->root, l->bdf, &driver, &override)) {
    message = g_strdup_printf ("%s returned after %u ms (%s); the function is gone", l->step, waited_ms, outcome);
    l->progress (l->bdf, GPUVIRT_STATE_UNBOUND, message, l->user_data);
    return;
  }
  if (g_str_equal (driver, l->home_driver) && g_str_equal (override, l->home_override)) {
    message = g_strdup_printf ("%s returned after %u ms (%s); it is on %s, where it was", l->step, waited_ms,
                               outcome, *driver ? driver : "no driver");
  } else {
    g_autofree char *cmds = gv_passthrough_recovery_commands (l->root, l->bdf, driver, l->home_driver, l->home_override);
    message = g_strdup_printf ("%s returned after %u ms (%s); it is now on %s (driver_override %s); "
                               "to put it back on %s: %s",
                               l->step, waited_ms, outcome, *driver ? driver : "no driver",
                               *override ? override : "none", *l->home_driver ? l->home_driver : "no driver", cmds);
  }
  l->progress (l->bdf, gv_passthrough_state_for_driver (driver), message, l->user_data);
}

/* ---- steps ---- */

typedef struct {
  const GvPassthroughContext *ctx;
  const char *bdf;
  const char *home_driver;
  const char *home_override;
  GvPassthroughFailure **failure;
} Move;

/* Records what went wrong with STEP on ROOT/REL; takes MISMATCH. */
static gboolean
fail (Move *m, const char *step, const char *rel, const char *data, int err, gboolean stuck, char *mismatch)
{
  GvPassthroughFailure *f = g_new0 (GvPassthroughFailure, 1);

  f->step = g_strdup (step);
  f->path = g_build_filename (m->ctx->root, rel, NULL);
  f->data = g_strdup (data);
  f->err = err;
  f->stuck = stuck;
  f->waited_ms = stuck ? m->ctx->timeout_ms : 0;
  f->mismatch = mismatch;
  *m->failure = f;
  return FALSE;
}

/* Writes DATA to REL; STEP names it in messages. */
static gboolean
step_write (Move *m, const char *step, const char *rel, const char *data)
{
  Late *late = g_new0 (Late, 1);
  int result = 0;
  GvSysfsWriteStatus status;

  late->root = g_strdup (m->ctx->root);
  late->bdf = g_strdup (m->bdf);
  late->step = g_strdup (step);
  late->home_driver = g_strdup (m->home_driver);
  late->home_override = g_strdup (m->home_override);
  late->progress = m->ctx->progress;
  late->user_data = m->ctx->user_data;
  status = gv_sysfs_write (m->ctx->root, rel, data, m->ctx->timeout_ms, &result, late_report, late, late_free);
  if (status == GV_SYSFS_WRITE_TIMEOUT)
    return fail (m, step, rel, data, 0, TRUE, NULL);
  if (result < 0)
    return fail (m, step, rel, data, -result, FALSE, NULL);
  return TRUE;
}

/* After a write that returned success: is the function where it should be? */
static gboolean
verify (Move *m, const char *step, const char *rel, const char *data, const char *want_driver,
        const char *want_override)
{
  g_autofree char *driver = NULL;
  g_autofree char *override = NULL;

  if (!gv_passthrough_read_function (m->ctx->root, m->bdf, &driver, &override))
    return fail (m, step, rel, data, 0, FALSE, g_strdup ("the function is gone"));
  if (want_driver && !g_str_equal (driver, want_driver))
    return fail (m, step, rel, data, 0, FALSE,
                 g_strdup_printf ("it is on %s, not %s", *driver ? driver : "no driver",
                                  *want_driver ? want_driver : "no driver"));
  if (want_override && !g_str_equal (override, want_override))
    return fail (m, step, rel, data, 0, FALSE,
                 g_strdup_printf ("driver_override reads %s, not %s", *override ? override : "(null)",
                                  *want_override ? want_override : "(null)"));
  return TRUE;
}

gboolean
gv_passthrough_move (const GvPassthroughContext *ctx, const char *bdf, const char *driver, const char *override, GvPassthroughAttach attach,
         const char *home_driver, const char *home_override, GvPassthroughFailure **failure)
{
  g_autofree char *cur_driver = NULL;
  g_autofree char *cur_override = NULL;
  Move m = { ctx, bdf, NULL, NULL, failure };
  g_autofree char *dev_rel = g_build_filename ("sys", "bus", "pci", "devices", bdf, NULL);

  *failure = NULL;
  if (!gv_passthrough_read_function (ctx->root, bdf, &cur_driver, &cur_override))
    return fail (&m, "reading the function", dev_rel, "", 0, FALSE, g_strdup ("the function is gone"));
  /* Should a write hang, the late report says how to get to HOME (by
   * default where it was before this move). */
  m.home_driver = home_driver ? home_driver : cur_driver;
  m.home_override = home_override ? home_override : cur_override;

  /* The override first: it decides which driver may take the device once
   * it is free, and an unbind must never leave a stale one behind. */
  if (override && !g_str_equal (cur_override, override)) {
    g_autofree char *rel = g_build_filename (dev_rel, "driver_override", NULL);
    const char *data = *override ? override : "\n";
    g_autofree char *step = *override ? g_strdup_printf ("setting driver_override of %s to %s", bdf, override)
                                      : g_strdup_printf ("clearing driver_override of %s", bdf);

    if (!step_write (&m, step, rel, data) || !verify (&m, step, rel, data, NULL, override))
      return FALSE;
  }

  if (g_str_equal (cur_driver, driver))
    return TRUE;

  if (*cur_driver) {
    g_autofree char *rel = g_build_filename ("sys", "bus", "pci", "drivers", cur_driver, "unbind", NULL);
    g_autofree char *step_name = g_strdup_printf ("unbind of %s from %s", bdf, cur_driver);

    if (!step_write (&m, step_name, rel, bdf) || !verify (&m, step_name, rel, bdf, "", NULL))
      return FALSE;
  }

  if (*driver) {
    g_autofree char *rel = NULL;
    g_autofree char *step_name = NULL;

    if (attach == GV_PASSTHROUGH_ATTACH_PROBE) {
      rel = g_build_filename ("sys", "bus", "pci", "drivers_probe", NULL);
      step_name = g_strdup_printf ("drivers_probe of %s (for %s)", bdf, driver);
    } else {
      rel = g_build_filename ("sys", "bus", "pci", "drivers", driver, "bind", NULL);
      step_name = g_strdup_printf ("bind of %s to %s", bdf, driver);
    }
    if (!step_write (&m, step_name, rel, bdf) || !verify (&m, step_name, rel, bdf, driver, NULL))
      return FALSE;
  }
  return TRUE;
}
