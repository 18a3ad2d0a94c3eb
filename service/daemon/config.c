/* The daemon's configuration and boot plan: reading the files (start,
 * SIGHUP, ReloadConfig, after a save), and running the plan in a worker
 * while the main loop keeps BootPlan's rows. */
#include "daemon/daemon.h"
#include "daemon/internal.h"
#include "gpuvirt-names.h"
#include "host/bdf.h"

#include <errno.h>
#include <systemd/sd-daemon.h>

static void
emit_manager (Daemon *daemon, const char *first, ...) G_GNUC_NULL_TERMINATED;

/* Tells the bus layer which Manager properties changed. */
static void
emit_manager (Daemon *daemon, const char *first, ...)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *n = first; n; n = va_arg (ap, const char *))
    g_ptr_array_add (names, (gpointer) n);
  va_end (ap);
  g_ptr_array_add (names, NULL);
  daemon->handlers->manager_changed (daemon, (const char *const *) names->pdata);
}

void
daemon_notify_ready (Daemon *daemon)
{
  g_autofree char *status = g_strdup_printf ("Serving; boot plan %s", daemon->plan_state);
  /* READY=1 once; later calls only update the status line */
  sd_notifyf (0, "%sSTATUS=%s", daemon->ready_sent ? "" : "READY=1\n", status);
  daemon->ready_sent = TRUE;
}

/* ---- reading the files ---- */

static gboolean
problems_equal (GPtrArray *a, GPtrArray *b)
{
  if (!a || !b || a->len != b->len)
    return a == b;
  for (guint i = 0; i < a->len; i++) {
    GvConfigProblem *x = a->pdata[i], *y = b->pdata[i];
    if (g_strcmp0 (x->file, y->file) != 0 || x->line != y->line || g_strcmp0 (x->key, y->key) != 0 ||
        g_strcmp0 (x->message, y->message) != 0)
      return FALSE;
  }
  return TRUE;
}

gboolean
daemon_config_reload (Daemon *daemon, GError **error)
{
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GvConfig) config = gv_config_load (daemon->config_file, daemon->config_dropins, &problems, &local);
  const char *const *old_files = gv_config_get_files (daemon->config);
  gboolean files_changed = FALSE, problems_changed;

  if (!problems)
    problems = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_problem_free);
  problems_changed = !problems_equal (daemon->config_problems, problems);
  g_clear_pointer (&daemon->config_problems, g_ptr_array_unref);
  daemon->config_problems = g_steal_pointer (&problems);

  if (config) {
    files_changed = !g_strv_equal (old_files, gv_config_get_files (config));
    g_clear_pointer (&daemon->config, gv_config_unref);
    daemon->config = g_steal_pointer (&config);
    gv_config_apply_manage (daemon->config, daemon->host);
  }
  if (files_changed || problems_changed)
    emit_manager (daemon, "ConfigFiles", "ConfigErrors", NULL);
  if (local) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  return TRUE;
}

/* ---- the plan's rows ---- */

void
daemon_plan_row_free (DaemonPlanRow *row)
{
  g_free (row->phase);
  g_free (row->device);
  g_free (row->action);
  g_free (row->status);
  g_free (row->message);
  g_free (row);
}

static DaemonPlanRow *
row_new (const GvConfigStep *step)
{
  DaemonPlanRow *row = g_new0 (DaemonPlanRow, 1);
  row->phase = g_strdup (step->phase);
  row->device = g_strdup (step->device);
  row->action = g_strdup (step->action);
  row->status = g_strdup (gv_config_step_status_to_string (step->status));
  row->message = g_strdup (step->message ? step->message : "");
  return row;
}

static GPtrArray *
rows_of (GvConfigPlan *plan)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) daemon_plan_row_free);
  for (guint i = 0; i < gv_config_plan_get_n_steps (plan); i++)
    g_ptr_array_add (rows, row_new (gv_config_plan_get_step (plan, i)));
  return rows;
}

/* "failed" when a row failed, "running"/"pending" while one is, else
 * "done"; "none" without rows. */
static const char *
state_of_rows (GPtrArray *rows, gboolean running)
{
  gboolean failed = FALSE;

  if (!rows || rows->len == 0)
    return GPUVIRT_PLAN_NONE;
  if (running)
    return GPUVIRT_PLAN_RUNNING;
  for (guint i = 0; i < rows->len; i++) {
    const char *status = ((DaemonPlanRow *) rows->pdata[i])->status;
    if (g_str_equal (status, GPUVIRT_STEP_FAILED))
      failed = TRUE;
    else if (g_str_equal (status, GPUVIRT_STEP_PENDING) || g_str_equal (status, GPUVIRT_STEP_RUNNING))
      return GPUVIRT_PLAN_PENDING;
  }
  return failed ? GPUVIRT_PLAN_FAILED : GPUVIRT_PLAN_DONE;
}

/* ---- running ---- */

typedef enum { PLAN_ITEM_STEP, PLAN_ITEM_DONE, PLAN_ITEM_LATE } PlanItemKind;

typedef struct {
  PlanItemKind kind;
  guint index;
  DaemonPlanRow *row;   /* STEP */
  GError *error;        /* DONE */
  char *what;           /* LATE */
} PlanItem;

static void
on_progress (guint index, const GvConfigStep *step, gpointer user_data)
{
  Daemon *daemon = user_data;
  PlanItem *item = g_new0 (PlanItem, 1);

  item->kind = PLAN_ITEM_STEP;
  item->index = index;
  item->row = row_new (step);
  daemon_queue_push (daemon->plan_queue, item);
}

static void
on_late (const char *what, int result, gpointer user_data)
{
  Daemon *daemon = user_data;
  PlanItem *item = g_new0 (PlanItem, 1);

  item->kind = PLAN_ITEM_LATE;
  item->what = g_strdup (what);
  daemon_queue_push (daemon->plan_queue, item);
}

typedef struct {
  Daemon *daemon;
  GvConfigPlan *plan;
  char *root;
  char *state_dir;
  guint timeout_ms;
} PlanJob;

static gpointer
plan_worker (gpointer data)
{
  PlanJob *job = data;
  Daemon *daemon = job->daemon;
  PlanItem *item = g_new0 (PlanItem, 1);
  GvConfigRunOptions options = {
    .root = job->root,
    .records = daemon->journal,
    .state_dir = job->state_dir,
    .type_names = daemon->type_names,
    .timeout_ms = job->timeout_ms,
    .late = on_late,
    .late_data = daemon,
    .progress = on_progress,
    .user_data = daemon,
    .nvml = daemon->nvml,
    .mig_unavailable = daemon->nvml ? NULL : daemon->mig_status,
  };

  gv_config_plan_run (job->plan, &options, &item->error);
  item->kind = PLAN_ITEM_DONE;
  daemon_queue_push (daemon->plan_queue, item);
  g_free (job->root);
  g_free (job->state_dir);
  g_free (job);
  return NULL;
}

/* Every function the configuration names, with its GPU's family: kept
 * Busy while the plan runs, so no other call races it. */
static GStrv
plan_busy_bdfs (Daemon *daemon)
{
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *devices = gv_config_get_devices (daemon->config);
  GPtrArray *mdevs = gv_config_get_mdevs (daemon->config);
  g_autoptr (GPtrArray) named = g_ptr_array_new ();
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < devices->len; i++)
    g_ptr_array_add (named, ((GvConfigDevice *) devices->pdata[i])->bdf);
  for (guint i = 0; i < mdevs->len; i++)
    g_ptr_array_add (named, ((GvConfigMdev *) mdevs->pdata[i])->parent);
  for (guint i = 0; i < named->len; i++) {
    GvHostDevice *device = gv_host_lookup (daemon->host, named->pdata[i]);
    GvHostDevice *gpu = device && device->fn->physfn ? gv_host_lookup (daemon->host, device->fn->physfn) : device;
    g_hash_table_add (set, g_strdup (named->pdata[i]));
    if (!gpu)
      continue;
    g_hash_table_add (set, g_strdup (gpu->fn->bdf));
    for (guint j = 0; gpu->fn->vfs && gpu->fn->vfs[j]; j++)
      g_hash_table_add (set, g_strdup (gpu->fn->vfs[j]));
    for (guint j = 0; gpu->companions && gpu->companions[j]; j++)
      g_hash_table_add (set, g_strdup (gpu->companions[j]));
  }
  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (list, g_strdup (key));
  g_ptr_array_add (list, NULL);
  return (GStrv) g_ptr_array_free (list, FALSE);
}

/* The plan's end, once NVML's view of the GPUs is read again: the
 * devices stay busy until then, and callers are answered with Mig's
 * properties current. */
static void
plan_finished_tail (Daemon *daemon)
{
  for (guint i = 0; daemon->plan_busy && daemon->plan_busy[i]; i++)
    g_hash_table_remove (daemon->busy, daemon->plan_busy[i]);
  g_clear_pointer (&daemon->plan_busy, g_strfreev);
  g_clear_pointer (&daemon->plan, gv_config_plan_free);
  daemon->plan_state = state_of_rows (daemon->plan_rows, FALSE);
  emit_manager (daemon, "BootPlan", "BootPlanState", NULL);
  daemon->handlers->plan_finished (daemon);
  daemon_notify_ready (daemon);
}

static void
plan_finished (Daemon *daemon, GError *error)
{
  g_autoptr (GError) rescan_error = NULL;
  g_autofree char *text = gv_config_plan_to_text (daemon->plan);

  /* the rows as the plan ended, whatever progress reports were lost */
  g_clear_pointer (&daemon->plan_rows, g_ptr_array_unref);
  daemon->plan_rows = rows_of (daemon->plan);
  /* BootPlanState stays "running" until the tail */
  if (error)
    g_warning ("The boot plan ended with failures: %s\n%s", error->message, text);
  else
    g_message ("The boot plan is %s\n%s", state_of_rows (daemon->plan_rows, FALSE), text);
  if (!daemon_rescan (daemon, &rescan_error))
    g_warning ("Could not re-read the host after the boot plan: %s", rescan_error->message);
  daemon_mig_refresh_then (daemon, NULL, plan_finished_tail);
}

void
daemon_plan_report (gpointer data, gpointer user_data)
{
  PlanItem *item = data;
  Daemon *daemon = user_data;

  switch (item->kind) {
  case PLAN_ITEM_STEP:
    if (daemon->plan_rows && item->index < daemon->plan_rows->len) {
      daemon_plan_row_free (daemon->plan_rows->pdata[item->index]);
      daemon->plan_rows->pdata[item->index] = g_steal_pointer (&item->row);
      emit_manager (daemon, "BootPlan", NULL);
    }
    break;
  case PLAN_ITEM_DONE:
    plan_finished (daemon, item->error);
    break;
  case PLAN_ITEM_LATE: {
    g_autofree char *bdf = gv_host_bdf_normalize (item->what);
    const char *one[] = { bdf, NULL };
    g_autoptr (GError) error = NULL;
    /* a stuck write of the plan returned at last */
    if (bdf && !daemon_refresh_functions (daemon, one, TRUE, &error))
      g_warning ("Could not re-read %s: %s", bdf, error->message);
    break;
  }
  }
  if (item->row)
    daemon_plan_row_free (item->row);
  g_clear_error (&item->error);
  g_free (item->what);
  g_free (item);
}

GPtrArray *
daemon_plan_preview (Daemon *daemon, GError **error)
{
  GvConfigPlanOptions options = { .state_dir = daemon->state_dir, .type_names = daemon->type_names,
                                  .mig = daemon->mig, .mig_unavailable = daemon->nvml ? NULL : daemon->mig_status };
  g_autoptr (GError) local = NULL;
  g_autoptr (GvConfigPlan) plan = NULL;

  if (!daemon_rescan (daemon, &local)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "Could not read the host: %s", local->message);
    return NULL;
  }
  plan = gv_config_plan_compute (daemon->config, daemon->host, &options);
  return rows_of (plan);
}

gboolean
daemon_plan_start (Daemon *daemon, guint timeout_ms, GError **error)
{
  g_autoptr (GError) local = NULL;
  GvConfigPlanOptions options = { .state_dir = daemon->state_dir, .type_names = daemon->type_names,
                                  .mig = daemon->mig, .mig_unavailable = daemon->nvml ? NULL : daemon->mig_status };
  PlanJob *job;

  if (!daemon_check_writable (daemon, error))
    return FALSE;
  if (daemon->plan) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_BUSY,
                         "The boot plan is running; wait for BootPlanState to leave \"running\"");
    return FALSE;
  }
  if (!daemon_rescan (daemon, &local)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "Could not read the host: %s", local->message);
    return FALSE;
  }

  daemon->plan_busy = plan_busy_bdfs (daemon);
  for (guint i = 0; daemon->plan_busy[i]; i++)
    if (g_hash_table_contains (daemon->busy, daemon->plan_busy[i])) {
      g_set_error (error, GV_ERROR, GV_ERROR_BUSY,
                   "%s is being changed by another request; apply the configuration when it is done",
                   daemon->plan_busy[i]);
      g_clear_pointer (&daemon->plan_busy, g_strfreev);
      return FALSE;
    }
  daemon_mark_busy (daemon, (const char *const *) daemon->plan_busy, daemon);

  daemon->plan = gv_config_plan_compute (daemon->config, daemon->host, &options);
  g_clear_pointer (&daemon->plan_rows, g_ptr_array_unref);
  daemon->plan_rows = rows_of (daemon->plan);
  daemon->plan_state = state_of_rows (daemon->plan_rows, TRUE);
  emit_manager (daemon, "BootPlan", "BootPlanState", NULL);
  {
    g_autofree char *text = gv_config_plan_to_text (daemon->plan);
    g_message ("Running the boot plan:\n%s", text);
  }

  job = g_new0 (PlanJob, 1);
  job->daemon = daemon;
  job->plan = daemon->plan;
  job->root = g_strdup (daemon->root);
  job->state_dir = g_strdup (daemon->state_dir);
  job->timeout_ms = timeout_ms;
  daemon_worker_start (daemon, "gpuvirt-plan", plan_worker, job);
  return TRUE;
}
