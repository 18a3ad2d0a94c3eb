/* Runs SR-IOV and vGPU operations: worker thread -> main loop -> reply
 * (see vgpu-op.h). */
#include "bus/vgpu-op.h"
#include "bus/announce.h"
#include "bus/audit.h"
#include "bus/bouncer.h"
#include "bus/util.h"
#include "bus/paths.h"
#include "gpuvirt-names.h"
#include "host/bdf.h"

#include <errno.h>
#include <string.h>

typedef enum { ITEM_DONE, ITEM_LATE, ITEM_PROGRESS, ITEM_SETTLED } ItemKind;

typedef struct {
  ItemKind kind;
  BusVgpuOp *op;          /* DONE */
  DaemonStuckOp *stuck;   /* SETTLED: the operation, its keys still busy */
  char *what;             /* LATE: the BDF or UUID the late write was about; PROGRESS: the PF */
  char *message;          /* PROGRESS; SETTLED: what settling did */
  int result;             /* LATE, SETTLED: the late write's 0 or -errno */
  gboolean kept;          /* SETTLED: the kernel completed what was asked */
  GError *error;          /* SETTLED: settling failed */
} Item;

static void
item_free (Item *item)
{
  g_free (item->what);
  g_free (item->message);
  g_clear_error (&item->error);
  g_free (item);
}

/* Does the plan write the GPU's sriov_numvfs? (Sriov.Pending, and the
 * PF not read meanwhile: see daemon_set_sriov_pending().) */
static gboolean
writes_num_vfs (const GvVgpuPlan *plan)
{
  return plan->kind == GV_VGPU_OP_SET_NUM_VFS || (plan->kind == GV_VGPU_OP_CREATE_VGPU && plan->enables_vfs) ||
         (plan->kind == GV_VGPU_OP_REMOVE_VGPU && plan->disable_vfs);
}

static void
set_pending (Daemon *daemon, const char *pf, gboolean pending)
{
  daemon_set_sriov_pending (daemon, pf, pending);
  bus_announce_property (daemon, pf, GPUVIRT_SRIOV_IFACE, "Pending");
}

static void
op_free (BusVgpuOp *op)
{
  sd_bus_message_unref (op->request);
  gv_vgpu_plan_free (op->plan);
  g_free (op->root);
  bus_persist_free (op->persist);
  g_clear_error (&op->error);
  gv_vgpu_outcome_clear (&op->outcome);
  g_free (op);
}

/* From the thread of a write that returned after its timeout. */
static void
on_late (const char *what, int result, gpointer user_data)
{
  Daemon *daemon = user_data;
  Item *item = g_new0 (Item, 1);

  item->kind = ITEM_LATE;
  item->what = g_strdup (what);
  item->result = result;
  daemon_queue_push (daemon->vgpu_queue, item);
}

/* From the worker, while a long write runs. */
static void
on_progress (const char *function, const char *message, gpointer user_data)
{
  Daemon *daemon = user_data;
  Item *item = g_new0 (Item, 1);

  item->kind = ITEM_PROGRESS;
  item->what = g_strdup (function);
  item->message = g_strdup (message);
  daemon_queue_push (daemon->vgpu_queue, item);
}

static BusVgpuOp *
op_new (Daemon *daemon, sd_bus_message *m, GvVgpuPlan *plan, guint timeout_ms, BusVgpuOpReplyFunc reply)
{
  BusVgpuOp *op = g_new0 (BusVgpuOp, 1);

  op->daemon = daemon;
  op->request = sd_bus_message_ref (m);
  op->plan = plan;
  op->root = g_strdup (daemon->root);
  op->reply = reply;
  op->ctx.root = op->root;
  op->ctx.timeout_ms = timeout_ms;
  op->ctx.late = on_late;
  op->ctx.progress = on_progress;
  op->ctx.user_data = daemon;
  op->ctx.names = daemon->type_names;
  return op;
}

/* ---- worker side ---- */

static gpointer
worker (gpointer data)
{
  BusVgpuOp *op = data;
  Item *item = g_new0 (Item, 1);

  gv_vgpu_plan_run (&op->ctx, op->daemon->journal, op->plan, &op->outcome, &op->error);
  item->kind = ITEM_DONE;
  item->op = op;
  daemon_queue_push (op->daemon->vgpu_queue, item);
  return NULL;
}

static void
op_start (BusVgpuOp *op)
{

  daemon_mark_busy (op->daemon, (const char *const *) op->plan->busy, op);
  if (writes_num_vfs (op->plan))
    set_pending (op->daemon, op->plan->gpu, TRUE);
  op->started = g_get_monotonic_time ();
  daemon_worker_start (op->daemon, "gpuvirt-vgpu", worker, op);
}

/* ---- main loop side ---- */

/* Reads again the GPU and every VF it had or has now: the BDFs of KEYS,
 * EXTRA and MORE (mdev UUIDs are skipped) and the VFs they list, each
 * once. The mdev list is read with it, and the parents of mdevs that came
 * or went; ALL_MDEV_PARENTS re-reads every mdev parent of the host too
 * (for a late write, whose mdev may be anywhere). */
static void
refresh_family (Daemon *daemon, const char *const *keys, const char *const *extra, const char *const *more,
                gboolean all_mdev_parents)
{
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  const char *const *lists[] = { keys, extra, more };

  for (guint pass = 0; pass < G_N_ELEMENTS (lists); pass++) {
    const char *const *list = lists[pass];
    for (guint i = 0; list && list[i]; i++) {
      char *bdf = gv_host_bdf_normalize (list[i]);
      GvHostDevice *device;
      if (!bdf)
        continue; /* an mdev UUID */
      device = gv_host_lookup (daemon->host, bdf);
      for (guint j = 0; device && device->fn->vfs && device->fn->vfs[j]; j++)
        g_ptr_array_add (bdfs, g_strdup (device->fn->vfs[j]));
      g_ptr_array_add (bdfs, bdf);
    }
  }
  g_ptr_array_add (bdfs, NULL);
  if (!daemon_refresh_functions (daemon, (const char *const *) bdfs->pdata, all_mdev_parents, &error))
    g_warning ("Could not re-read the functions of an SR-IOV or vGPU change, ignoring: %s", error->message);
}

static char *
summary (BusVgpuOp *op)
{
  const GvVgpuPlan *plan = op->plan;
  const GvVgpuOutcome *out = &op->outcome;
  GvHostDevice *gpu = gv_host_lookup (op->daemon->host, plan->gpu);
  guint numvfs = gpu ? gpu->fn->sriov_numvfs : 0;

  switch (plan->kind) {
  case GV_VGPU_OP_SET_NUM_VFS:
    return g_strdup_printf ("%s: %u VFs asked, %u now", plan->gpu, plan->count, numvfs);
  case GV_VGPU_OP_CREATE_VGPU:
    if (out->vgpu)
      return g_strdup_printf ("%s: vGPU %s (%s) on %s%s%s%s", plan->gpu, out->vgpu->type_id, out->vgpu->type_name,
                              out->vgpu->address, out->vgpu->mdev_uuid ? ", mdev " : "",
                              out->vgpu->mdev_uuid ? out->vgpu->mdev_uuid : "",
                              out->vgpu->enabled_vfs ? ", VFs enabled for it" : "");
    break;
  case GV_VGPU_OP_SET_TYPE:
  case GV_VGPU_OP_RELEASE_TYPE:
    return g_strdup_printf ("%s: %s", plan->function, out->changed ? "changed" : "nothing to change");
  default:
    break;
  }
  return g_strdup_printf ("%s%s%s", plan->function, *plan->uuid ? " mdev " : "",
                          *plan->uuid ? plan->uuid : out->uuid ? out->uuid : "");
}

/* The persist option, once the change succeeded: 0, or < 0 with ERROR. */
static int
persist (BusVgpuOp *op, const char *summary, sd_bus_error *error)
{
  g_autofree char *done = g_strdup_printf ("%s (%s)", gv_vgpu_op_to_string (op->plan->kind), summary);
  /* a count or a type set again changes nothing and records it; a vGPU
   * made or removed again is another call */
  gboolean again = op->plan->kind == GV_VGPU_OP_SET_NUM_VFS || op->plan->kind == GV_VGPU_OP_SET_TYPE ||
                   op->plan->kind == GV_VGPU_OP_RELEASE_TYPE;

  if (op->persist_result)
    op->persist_result (op);
  return bus_persist_commit (op->persist, done, again, error);
}

static void
finish (BusVgpuOp *op)
{
  Daemon *daemon = op->daemon;
  const GvVgpuPlan *plan = op->plan;
  gboolean stuck = g_error_matches (op->error, GV_ERROR, GV_ERROR_STUCK) ||
                   g_error_matches (op->error, GV_ERROR, GV_ERROR_PENDING);
  const char *extra[4] = { NULL };
  sd_bus_error persist_error = SD_BUS_ERROR_NULL;
  g_autofree char *text = NULL;
  char *functions[] = { plan->function, NULL };
  int r;

  daemon_unmark_busy (daemon, (const char *const *) plan->busy);
  if (stuck) {
    /* busy until the write returns and the operation is settled: see late() */
    daemon_stuck_add (daemon, g_strdupv (plan->busy), op, (GDestroyNotify) op_free);
    daemon_set_state (daemon, plan->gpu, NULL, op->error->message);
  } else if (writes_num_vfs (plan)) {
    set_pending (daemon, plan->gpu, FALSE);
  }
  if (stuck) {
    /* the write is still under way: whatever is readable, whole */
    extra[0] = plan->gpu;
    extra[1] = plan->function;
    extra[2] = op->outcome.vgpu ? op->outcome.vgpu->address : NULL;
    refresh_family (daemon, (const char *const *) plan->busy, extra,
                    (const char *const *) (op->outcome.vfs ? op->outcome.vfs
                                           : op->outcome.vgpu ? op->outcome.vgpu->vfs : NULL), FALSE);
  } else {
    /* only what the run can have changed (vgpu/run.c says what) */
    gboolean mdevs = FALSE;
    g_autoptr (GHashTable) parts = gv_vgpu_plan_touched (daemon->host, plan, &op->outcome, &mdevs);
    g_autoptr (GError) local = NULL;
    if (!daemon_refresh_parts (daemon, parts, mdevs, &local))
      g_warning ("Could not re-read what %s changed, ignoring: %s", gv_vgpu_op_to_string (plan->kind),
                 local->message);
  }

  text = summary (op);
  bus_audit_operation (op->request, gv_vgpu_op_to_string (plan->kind), functions,
                       op->error ? op->error->message : NULL, text);
  /* the change is announced before the caller hears it is done */
  bus_announce_flush (daemon);
  if (op->error)
    r = sd_bus_reply_method_errorf (op->request, gv_error_name (op->error), "%s", op->error->message);
  else if (op->persist && persist (op, text, &persist_error) < 0)
    /* the device change stays: the error says so */
    r = sd_bus_reply_method_error (op->request, &persist_error);
  else
    r = op->reply (op);
  if (r < 0)
    g_warning ("Could not reply to %s on %s: %s", gv_vgpu_op_to_string (plan->kind), plan->function,
               g_strerror (-r));
  sd_bus_error_free (&persist_error);
  if (!stuck)
    op_free (op);
}

/* ---- a write that outlived its bound returns ---- */

static gpointer
settle_worker (gpointer data)
{
  Item *item = data;
  BusVgpuOp *op = item->stuck->data;
  g_autoptr (GString) report = g_string_new (NULL);

  if (!gv_vgpu_plan_settle (&op->ctx, op->daemon->journal, op->plan, op->outcome.journal, item->result, &item->kept,
                            report, &item->error))
    g_prefix_error (&item->error, "%s%s", report->str, report->len ? "; " : "");
  item->message = g_string_free (g_steal_pointer (&report), FALSE);
  item->kind = ITEM_SETTLED;
  daemon_queue_push (op->daemon->vgpu_queue, item);
  return NULL;
}

static void
late (Daemon *daemon, Item *item)
{
  DaemonStuckOp *stuck = daemon_stuck_take (daemon, item->what);

  if (item->result < 0)
    g_warning ("A write about %s that outlived its bound returned at last: %s", item->what, g_strerror (-item->result));
  else
    g_message ("A write about %s that outlived its bound returned at last", item->what);
  if (!stuck) {
    const char *one[] = { item->what, NULL };
    refresh_family (daemon, one, NULL, NULL, TRUE);
    item_free (item);
    return;
  }
  /* its keys stay busy until the operation is settled, in a worker:
   * settling reads sysfs and may write (an undo) */
  item->stuck = stuck;
  daemon_worker_start (daemon, "gpuvirt-settle", settle_worker, item);
}

static void
settled (Daemon *daemon, Item *item)
{
  BusVgpuOp *op = item->stuck->data;
  const GvVgpuPlan *plan = op->plan;
  char *functions[] = { plan->function, NULL };
  const char *extra[] = { plan->gpu, plan->function, NULL };
  double seconds = (double) (g_get_monotonic_time () - op->started) / G_USEC_PER_SEC;
  g_autofree char *outcome = NULL;
  g_autofree char *summary_text = NULL;
  sd_bus_error persist_error = SD_BUS_ERROR_NULL;

  daemon_unmark_busy (daemon, (const char *const *) item->stuck->keys);
  if (writes_num_vfs (plan))
    set_pending (daemon, plan->gpu, FALSE);
  refresh_family (daemon, (const char *const *) item->stuck->keys, extra, NULL, TRUE);
  summary_text = summary (op);
  if (item->error)
    outcome = g_strdup_printf ("%s ended after %.1f s; settling it failed: %s", gv_vgpu_op_to_string (plan->kind),
                               seconds, item->error->message);
  else
    outcome = g_strdup_printf ("%s ended after %.1f s: %s", gv_vgpu_op_to_string (plan->kind), seconds,
                               item->message);
  /* the persist option of a call whose change the kernel completed */
  if (!item->error && item->kept && op->persist && persist (op, summary_text, &persist_error) < 0) {
    char *more = g_strdup_printf ("%s; %s", outcome, persist_error.message);
    g_free (outcome);
    outcome = more;
  }
  sd_bus_error_free (&persist_error);
  daemon_set_state (daemon, plan->gpu, NULL, outcome);
  bus_audit_operation (op->request, gv_vgpu_op_to_string (plan->kind), functions,
                       item->kept ? NULL : outcome, item->kept ? outcome : summary_text);
  if (item->error || !item->kept)
    g_warning ("%s on %s: %s", gv_vgpu_op_to_string (plan->kind), plan->gpu, outcome);
  else
    g_message ("%s on %s: %s", gv_vgpu_op_to_string (plan->kind), plan->gpu, outcome);
  daemon_stuck_op_free (item->stuck);
  item->stuck = NULL;
}

static void
progress (Daemon *daemon, Item *item)
{
  /* only while the operation runs: a late report must not overwrite
   * the outcome */
  if (!daemon_sriov_pending (daemon, item->what))
    return;
  daemon_set_state (daemon, item->what, NULL, item->message);
}

void
bus_vgpu_op_report (gpointer data, gpointer user_data)
{
  Item *item = data;

  switch (item->kind) {
  case ITEM_DONE:
    finish (item->op);
    break;
  case ITEM_LATE:
    late (user_data, item);
    return; /* the item goes on to the settling worker */
  case ITEM_PROGRESS:
    progress (user_data, item);
    break;
  case ITEM_SETTLED:
    settled (user_data, item);
    break;
  }
  item_free (item);
}

/* ---- the shared steps of a method ---- */

int
bus_vgpu_op_run (Daemon *daemon, sd_bus_message *m, BusVgpuCall *call, sd_bus_error *error)
{
  g_autoptr (GvVgpuPlan) plan = g_steal_pointer (&call->plan);
  g_autoptr (BusPersist) persist = g_steal_pointer (&call->persist);
  g_autoptr (GError) local = NULL;
  BusVgpuOp *op;
  int r;

  /* check state */
  if (!daemon_check_writable (daemon, &local) ||
      !daemon_check_not_busy (daemon, (const char *const *) plan->busy, &local))
    return bus_error_set (error, local);
  if (plan->no_op) {
    /* nothing to do on the device: to persist, only the file is written */
    if (persist) {
      r = bus_persist_check (persist, error);
      if (r < 0)
        return r;
      r = bus_bouncer_check (daemon, m, BUS_NEED_PERSIST, call->details, error);
      if (r <= 0)
        return r < 0 ? r : 1;
      r = bus_persist_commit (persist, NULL, TRUE, error);
      if (r < 0)
        return r;
    }
    op = op_new (daemon, m, g_steal_pointer (&plan), call->timeout_ms, call->reply);
    r = op->reply (op);
    op_free (op);
    return r < 0 ? r : 1;
  }
  if (!gv_vgpu_plan_check_users (daemon->host, plan, &local))
    return bus_error_set (error, local);
  /* the configuration can take the change, or nothing is written */
  if (persist) {
    r = bus_persist_check (persist, error);
    if (r < 0)
      return r;
  }

  /* polkit */
  r = bus_bouncer_check (daemon, m, BUS_NEED_ACTION | (persist ? BUS_NEED_PERSIST : 0), call->details, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  /* act */
  op = op_new (daemon, m, g_steal_pointer (&plan), call->timeout_ms, call->reply);
  op->persist = g_steal_pointer (&persist);
  op->persist_result = call->persist_result;
  op_start (op);
  return 1;
}
