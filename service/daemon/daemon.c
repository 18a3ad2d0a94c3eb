/* The daemon's core state (see daemon.h): the host model kept fresh, what
 * is being changed, and the hand-over of every change to the bus layer. */
#include "daemon/daemon.h"
#include "daemon/internal.h"
#include "gpuvirt-names.h"
#include "host/holders.h"
#include "host/iommu.h"

#include <errno.h>

/* A queue from worker threads to the main loop; FALSE with ERROR set. */
static gboolean
queue_new (Daemon *daemon, DaemonQueue **queue, DaemonQueueFunc func, const char *what, GError **error)
{
  int r = 0;

  *queue = daemon_queue_new (daemon->event, func, daemon, &r);
  if (!*queue)
    g_set_error (error, GV_ERROR, GV_ERROR_FAILED, "Could not set up the %s queue: %s", what, g_strerror (-r));
  return *queue != NULL;
}

Daemon *
daemon_new (sd_event *event, sd_bus *bus, const char *root, const char *state_dir, gboolean read_only,
            const DaemonHandlers *handlers, GError **error)
{
  g_autoptr (Daemon) daemon = g_new0 (Daemon, 1);

  daemon->event = sd_event_ref (event);
  daemon->bus = sd_bus_ref (bus);
  daemon->handlers = handlers;
  daemon->root = g_strdup (root);
  daemon->uevent_bdfs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->host = gv_host_new (root, error);
  if (!daemon->host || !gv_host_rescan (daemon->host, NULL, error))
    return NULL;
  daemon->interrupt_remapping = gv_host_iommu_interrupt_remapping (root);
  daemon->polkit = daemon_polkit_new (bus);
  daemon->state_dir = g_strdup (state_dir);
  daemon->read_only = read_only;
  daemon->op_state = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  daemon->op_message = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  daemon->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->stuck_ops = g_ptr_array_new_with_free_func ((GDestroyNotify) daemon_stuck_op_free);
  daemon->sriov_pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->vgpu_read_at = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->mig = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) gv_mig_gpu_free);
  daemon->mig_read_at = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->mig_status = g_strdup ("MIG is unavailable: NVML was not opened");
  /* a read-only daemon never writes, not even its records */
  daemon->type_names = gv_vgpu_type_names_new (read_only ? NULL : state_dir);
  gv_vgpu_type_names_learn_host (daemon->type_names, daemon->host);
  daemon->config = gv_config_new_empty ();
  daemon->plan_state = GPUVIRT_PLAN_NONE;
  if (!queue_new (daemon, &daemon->passthrough_queue, handlers->passthrough_report, "passthrough", error) ||
      !queue_new (daemon, &daemon->vgpu_queue, handlers->vgpu_report, "vGPU", error) ||
      !queue_new (daemon, &daemon->plan_queue, daemon_plan_report, "boot plan", error) ||
      !queue_new (daemon, &daemon->mig_queue, daemon_mig_report, "MIG", error) ||
      !queue_new (daemon, &daemon->mig_op_queue, handlers->mig_report, "MIG operation", error))
    return NULL;
  if (!read_only) {
    daemon->journal = gv_journal_open (state_dir, error);
    if (!daemon->journal)
      return NULL;
  }
  return g_steal_pointer (&daemon);
}

const char *
daemon_device_state (Daemon *daemon, GvHostDevice *device)
{
  const char *state = g_hash_table_lookup (daemon->op_state, device->fn->bdf);
  return state ? state : gv_host_function_state (device->fn);
}

const char *
daemon_device_message (Daemon *daemon, const char *bdf)
{
  const char *message = g_hash_table_lookup (daemon->op_message, bdf);
  return message ? message : "";
}

/* A function whose write is stuck is not read until the write returns:
 * the write holds its device lock, which reading some of its attributes
 * (sriov_numvfs, driver_override) waits for, and the main loop would. */
static void
hold_stuck (Daemon *daemon, const char *bdf, const char *state)
{
  gboolean was = g_strcmp0 (g_hash_table_lookup (daemon->op_state, bdf), GPUVIRT_STATE_STUCK) == 0;
  gboolean is = g_strcmp0 (state, GPUVIRT_STATE_STUCK) == 0;

  if (is && !was)
    gv_host_hold_reads (daemon->host, bdf);
  else if (was && !is)
    gv_host_release_reads (daemon->host, bdf);
}

void
daemon_set_state (Daemon *daemon, const char *bdf, const char *state, const char *message)
{
  daemon->handlers->state_changed (daemon, bdf, TRUE);
  hold_stuck (daemon, bdf, state);
  if (state)
    g_hash_table_insert (daemon->op_state, g_strdup (bdf), g_strdup (state));
  else
    g_hash_table_remove (daemon->op_state, bdf);
  g_hash_table_insert (daemon->op_message, g_strdup (bdf), g_strdup (message ? message : ""));
  daemon->handlers->state_changed (daemon, bdf, FALSE);
}

void
daemon_clear_state (Daemon *daemon, const char *bdf, gboolean keep_message)
{
  daemon->handlers->state_changed (daemon, bdf, TRUE);
  hold_stuck (daemon, bdf, NULL);
  g_hash_table_remove (daemon->op_state, bdf);
  if (!keep_message)
    g_hash_table_remove (daemon->op_message, bdf);
  daemon->handlers->state_changed (daemon, bdf, FALSE);
}

gboolean
daemon_check_writable (Daemon *daemon, GError **error)
{
  if (daemon->stopping) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_BUSY,
                         "gpuvirtd is stopping: it finishes the operations under way and takes no new ones");
    return FALSE;
  }
  if (!daemon->read_only)
    return TRUE;
  g_set_error_literal (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "gpuvirtd runs with --read-only: nothing may change");
  return FALSE;
}

/* ---- workers and stopping ---- */

typedef struct {
  Daemon *daemon;
  GThreadFunc func;
  gpointer data;
} Worker;

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  Daemon *daemon = w->daemon;

  w->func (w->data);
  g_free (w);
  /* after the report was pushed: see daemon_worker_start() */
  g_atomic_int_dec_and_test (&daemon->workers);
  return NULL;
}

void
daemon_worker_start (Daemon *daemon, const char *name, GThreadFunc func, gpointer data)
{
  Worker *w = g_new0 (Worker, 1);

  w->daemon = daemon;
  w->func = func;
  w->data = data;
  g_atomic_int_inc (&daemon->workers);
  g_thread_unref (g_thread_new (name, worker_main, w));
}

#define STOP_WAIT_SEC 60
#define STOP_POLL_USEC (50 * 1000)

static int
on_stop_wait (sd_event_source *source, uint64_t usec, void *userdata)
{
  Daemon *daemon = userdata;
  uint64_t now = 0;

  if (g_atomic_int_get (&daemon->workers) == 0) {
    g_message ("The operations under way have ended; stopping");
    return sd_event_exit (daemon->event, 0);
  }
  sd_event_now (daemon->event, CLOCK_MONOTONIC, &now);
  if (now - daemon->stop_since > (uint64_t) STOP_WAIT_SEC * G_USEC_PER_SEC) {
    g_warning ("Stopping with %d operation(s) still under way; the next start finishes or undoes them",
               g_atomic_int_get (&daemon->workers));
    return sd_event_exit (daemon->event, 0);
  }
  sd_event_source_set_time (source, now + STOP_POLL_USEC);
  return sd_event_source_set_enabled (source, SD_EVENT_ONESHOT);
}

void
daemon_stop (Daemon *daemon)
{
  uint64_t now = 0;
  int n = g_atomic_int_get (&daemon->workers);

  if (n == 0 || daemon->stopping) {
    sd_event_exit (daemon->event, 0);
    return;
  }
  daemon->stopping = TRUE;
  g_message ("Stopping once the %d operation(s) under way have ended (at most %d s)", n, STOP_WAIT_SEC);
  sd_event_now (daemon->event, CLOCK_MONOTONIC, &now);
  daemon->stop_since = now;
  if (sd_event_add_time (daemon->event, &daemon->stop_wait, CLOCK_MONOTONIC, now + STOP_POLL_USEC, 0, on_stop_wait,
                         daemon) < 0)
    sd_event_exit (daemon->event, 0);
}

gboolean
daemon_check_not_busy (Daemon *daemon, const char *const *keys, GError **error)
{
  for (guint i = 0; keys && keys[i]; i++)
    if (g_hash_table_contains (daemon->busy, keys[i])) {
      g_set_error (error, GV_ERROR, GV_ERROR_BUSY, "%s is being changed by another request; try again when it is done",
                   keys[i]);
      return FALSE;
    }
  return TRUE;
}

void
daemon_mark_busy (Daemon *daemon, const char *const *keys, gpointer owner)
{
  for (guint i = 0; keys && keys[i]; i++)
    g_hash_table_insert (daemon->busy, g_strdup (keys[i]), owner);
}

void
daemon_unmark_busy (Daemon *daemon, const char *const *keys)
{
  for (guint i = 0; keys && keys[i]; i++)
    g_hash_table_remove (daemon->busy, keys[i]);
}

void
daemon_set_sriov_pending (Daemon *daemon, const char *pf, gboolean pending)
{
  if (pending) {
    g_hash_table_add (daemon->sriov_pending, g_strdup (pf));
    gv_host_hold_reads (daemon->host, pf);
  } else if (g_hash_table_remove (daemon->sriov_pending, pf)) {
    gv_host_release_reads (daemon->host, pf);
  }
}

gboolean
daemon_sriov_pending (Daemon *daemon, const char *pf)
{
  return g_hash_table_contains (daemon->sriov_pending, pf);
}

void
daemon_stuck_op_free (DaemonStuckOp *op)
{
  if (!op)
    return;
  g_strfreev (op->keys);
  if (op->data_free && op->data)
    op->data_free (op->data);
  g_free (op);
}

void
daemon_stuck_add (Daemon *daemon, GStrv keys, gpointer data, GDestroyNotify data_free)
{
  DaemonStuckOp *op = g_new0 (DaemonStuckOp, 1);

  op->keys = keys;
  op->data = data;
  op->data_free = data_free;
  daemon_mark_busy (daemon, (const char *const *) keys, op);
  g_ptr_array_add (daemon->stuck_ops, op);
}

DaemonStuckOp *
daemon_stuck_take (Daemon *daemon, const char *what)
{
  for (guint i = 0; i < daemon->stuck_ops->len; i++) {
    DaemonStuckOp *op = daemon->stuck_ops->pdata[i];
    if (g_strv_contains ((const char *const *) op->keys, what))
      return g_ptr_array_steal_index (daemon->stuck_ops, i);
  }
  return NULL;
}

void
daemon_recover (Daemon *daemon)
{
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  if (!daemon->journal)
    return;
  if (!gv_config_recover_all (daemon->journal, daemon->root, daemon->nvml, &results, &error))
    g_warning ("Could not finish the transactions a previous gpuvirtd left: %s", error->message);
  for (guint i = 0; results && i < results->len; i++)
    g_message ("Recovered: %s", (const char *) results->pdata[i]);
  if (results && results->len > 0) {
    g_autoptr (GError) local = NULL;
    g_message ("Settled %u transaction(s) a previous gpuvirtd left unfinished", results->len);
    if (!daemon_rescan (daemon, &local))
      g_warning ("Could not re-read the host after recovery: %s", local->message);
    /* NVML was read before recovery changed GPU instances; sysfs tells
     * nothing of them */
    daemon_mig_read_all (daemon);
  }
}

/* What daemon_free() leaves to a worker that still runs at exit. */
static Daemon *left_to_workers;

/* A write that did not return in time still has a thread that reports
 * when it does (passthrough: state "stuck"; vGPU: stuck_ops). */
static gboolean
has_stuck_writes (Daemon *daemon)
{
  GHashTableIter iter;
  gpointer state;

  if (daemon->stuck_ops && daemon->stuck_ops->len > 0)
    return TRUE;
  if (!daemon->op_state)
    return FALSE;
  g_hash_table_iter_init (&iter, daemon->op_state);
  while (g_hash_table_iter_next (&iter, NULL, &state))
    if (g_strcmp0 (state, GPUVIRT_STATE_STUCK) == 0)
      return TRUE;
  return FALSE;
}

void
daemon_free (Daemon *daemon)
{
  if (!daemon)
    return;
  /* reports the loop did not get to, while all they need is still there */
  daemon_queue_dispatch_pending (daemon->passthrough_queue);
  daemon_queue_dispatch_pending (daemon->vgpu_queue);
  daemon_queue_dispatch_pending (daemon->plan_queue);
  daemon_queue_dispatch_pending (daemon->mig_queue);
  daemon_queue_dispatch_pending (daemon->mig_op_queue);
  if (daemon->plan || has_stuck_writes (daemon) || g_atomic_int_get (&daemon->workers) > 0) {
    /* a worker still writes and will report: leave it what it uses, the
     * process ends now and the journal covers the unfinished step; kept
     * reachable so that leak checkers do not count it */
    left_to_workers = daemon;
    if (daemon->plan)
      g_warning ("Stopping while the boot plan runs; the next start finishes or undoes its step");
    else if (g_atomic_int_get (&daemon->workers) > 0)
      g_warning ("Stopping while operations run; the next start finishes or undoes their steps");
    else
      g_warning ("Stopping while a sysfs write is stuck; the next start finishes or undoes its step");
    return;
  }
  if (daemon->bus_state_free)
    daemon->bus_state_free (daemon->bus_state);
  daemon_queue_free (daemon->plan_queue);
  if (daemon->plan_rows)
    g_ptr_array_unref (daemon->plan_rows);
  g_strfreev (daemon->plan_busy);
  if (daemon->config)
    gv_config_unref (daemon->config);
  if (daemon->config_problems)
    g_ptr_array_unref (daemon->config_problems);
  g_free (daemon->config_file);
  g_free (daemon->libvirt_dir);
  g_free (daemon->config_dropins);
  daemon_queue_free (daemon->passthrough_queue);
  daemon_queue_free (daemon->vgpu_queue);
  daemon_queue_free (daemon->mig_queue);
  daemon_queue_free (daemon->mig_op_queue);
  if (daemon->mig)
    g_hash_table_unref (daemon->mig);
  if (daemon->mig_read_at)
    g_hash_table_unref (daemon->mig_read_at);
  g_free (daemon->mig_status);
  gv_mig_nvml_close (daemon->nvml);
  if (daemon->stuck_ops)
    g_ptr_array_unref (daemon->stuck_ops);
  if (daemon->sriov_pending)
    g_hash_table_unref (daemon->sriov_pending);
  if (daemon->vgpu_read_at)
    g_hash_table_unref (daemon->vgpu_read_at);
  gv_vgpu_type_names_free (daemon->type_names);
  gv_journal_free (daemon->journal);
  if (daemon->op_state)
    g_hash_table_unref (daemon->op_state);
  if (daemon->op_message)
    g_hash_table_unref (daemon->op_message);
  if (daemon->busy)
    g_hash_table_unref (daemon->busy);
  g_free (daemon->state_dir);
  if (daemon->holders)
    g_ptr_array_unref (daemon->holders);
  sd_device_monitor_unref (daemon->monitor);
  sd_event_source_disable_unref (daemon->uevent_flush);
  sd_event_source_disable_unref (daemon->stop_wait);
  daemon_polkit_free (daemon->polkit);
  gv_host_free (daemon->host);
  g_hash_table_unref (daemon->uevent_bdfs);
  sd_bus_unref (daemon->bus);
  sd_event_unref (daemon->event);
  g_free (daemon->root);
  g_free (daemon);
}

/* Every function's snapshot before a refresh (references). */
static GHashTable *
snapshot (Daemon *daemon)
{
  GHashTable *before = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) gv_host_device_unref);
  GPtrArray *devices = gv_host_get_devices (daemon->host);

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    g_hash_table_insert (before, d->fn->bdf, gv_host_device_ref (d));
  }
  return before;
}

gboolean
daemon_rescan (Daemon *daemon, GError **error)
{
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GHashTable) before = snapshot (daemon);

  if (!gv_host_rescan (daemon->host, &changes, error))
    return FALSE;
  daemon->interrupt_remapping = gv_host_iommu_interrupt_remapping (daemon->root);
  gv_vgpu_type_names_learn_host (daemon->type_names, daemon->host);
  daemon->handlers->host_changed (daemon, changes, before);
  daemon_mig_follow (daemon, changes, before);
  return TRUE;
}

gboolean
daemon_refresh_functions (Daemon *daemon, const char *const *bdfs, gboolean mdevs, GError **error)
{
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GvHostChanges) mdev_changes = NULL;
  g_autoptr (GHashTable) before = snapshot (daemon);

  if (bdfs && bdfs[0] && !gv_host_refresh_functions (daemon->host, bdfs, &changes, error))
    return FALSE;
  gv_vgpu_type_names_learn_host (daemon->type_names, daemon->host);
  if (changes) {
    daemon->handlers->host_changed (daemon, changes, before);
    daemon_mig_follow (daemon, changes, before);
  }
  if (mdevs) {
    g_autoptr (GHashTable) before_mdevs = snapshot (daemon);
    if (!gv_host_refresh_mdevs (daemon->host, &mdev_changes, error))
      return FALSE;
    daemon->handlers->host_changed (daemon, mdev_changes, before_mdevs);
  }
  return TRUE;
}

gboolean
daemon_refresh_parts (Daemon *daemon, GHashTable *parts, gboolean mdevs, GError **error)
{
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GHashTable) before = snapshot (daemon);

  if (!gv_host_refresh_parts (daemon->host, parts, mdevs, &changes, error))
    return FALSE;
  gv_vgpu_type_names_learn_host (daemon->type_names, daemon->host);
  daemon->handlers->host_changed (daemon, changes, before);
  /* enabling VFs drops GPU instances: NVML is read again */
  daemon_mig_follow (daemon, changes, before);
  return TRUE;
}

#define HOLDERS_FRESH_USEC (250 * 1000)

GPtrArray *
daemon_holders (Daemon *daemon, const char *bdf, GError **error)
{
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  g_auto (GStrv) mine = NULL;
  GPtrArray *result;
  gint64 now = g_get_monotonic_time ();

  if (!device) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No PCI function %s on this host", bdf);
    return NULL;
  }
  if (!daemon->holders || now - daemon->holders_at > HOLDERS_FRESH_USEC) {
    GPtrArray *devices = gv_host_get_devices (daemon->host);
    g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
    GPtrArray *scan;

    GHashTableIter iter;
    gpointer key;

    for (guint i = 0; i < devices->len; i++) {
      GvHostDevice *d = devices->pdata[i];
      g_auto (GStrv) n = gv_host_holder_nodes_for (d->fn, d->vfio_group_node, mdevs);
      for (guint j = 0; n && n[j]; j++)
        g_hash_table_add (seen, g_strdup (n[j]));
    }
    /* the strings in NODES belong to SEEN */
    g_hash_table_iter_init (&iter, seen);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (nodes, key);
    g_ptr_array_add (nodes, NULL);
    scan = gv_host_holders_scan (daemon->root, (const char *const *) nodes->pdata, NULL, error);
    if (!scan)
      return NULL;
    if (daemon->holders)
      g_ptr_array_unref (daemon->holders);
    daemon->holders = scan;
    daemon->holders_at = now;
  }
  mine = gv_host_holder_nodes_for (device->fn, device->vfio_group_node, mdevs);
  result = g_ptr_array_new ();
  for (guint i = 0; i < daemon->holders->len; i++) {
    GvHostHolder *h = daemon->holders->pdata[i];
    if (mine && g_strv_contains ((const char *const *) mine, h->node))
      g_ptr_array_add (result, h);
  }
  return result;
}
