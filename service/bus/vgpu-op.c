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

typedef enum { ITEM_DONE, ITEM_LATE } ItemKind;

typedef struct {
  ItemKind kind;
  BusVgpuOp *op;  /* DONE */
  char *what;     /* LATE: the BDF or UUID the late write was about */
  int result;
} Item;

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
  op->ctx.user_data = daemon;
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
  GThread *thread;

  daemon_mark_busy (op->daemon, (const char *const *) op->plan->busy, op);
  thread = g_thread_new ("gpuvirt-vgpu", worker, op);
  g_thread_unref (thread);
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
  gboolean stuck = g_error_matches (op->error, GV_ERROR, GV_ERROR_STUCK);
  const char *extra[4] = { NULL };
  sd_bus_error persist_error = SD_BUS_ERROR_NULL;
  g_autofree char *text = NULL;
  char *functions[] = { plan->function, NULL };
  int r;

  daemon_unmark_busy (daemon, (const char *const *) plan->busy);
  if (stuck) {
    /* held until the write returns: see on_late */
    daemon_mark_busy (daemon, (const char *const *) plan->busy, daemon);
    g_ptr_array_add (daemon->stuck_ops, g_strdupv (plan->busy));
  }
  extra[0] = plan->gpu;
  extra[1] = plan->function;
  extra[2] = op->outcome.vgpu ? op->outcome.vgpu->address : NULL;
  /* one pass over the family, VFs that appeared included (read for the
   * first time): each pass re-reads every function of it over sysfs */
  refresh_family (daemon, (const char *const *) plan->busy, extra,
                  (const char *const *) (op->outcome.vfs ? op->outcome.vfs
                                         : op->outcome.vgpu ? op->outcome.vgpu->vfs : NULL), FALSE);

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
  op_free (op);
}

static void
late (Daemon *daemon, const char *what, int result)
{
  if (result < 0)
    g_warning ("A stuck write about %s returned at last: %s", what, g_strerror (-result));
  else
    g_message ("A stuck write about %s returned at last", what);
  for (guint i = 0; i < daemon->stuck_ops->len; i++) {
    GStrv keys = daemon->stuck_ops->pdata[i];
    if (!g_strv_contains ((const char *const *) keys, what))
      continue;
    daemon_unmark_busy (daemon, (const char *const *) keys);
    refresh_family (daemon, (const char *const *) keys, NULL, NULL, TRUE);
    g_ptr_array_remove_index (daemon->stuck_ops, i);
    return;
  }
  {
    const char *one[] = { what, NULL };
    refresh_family (daemon, one, NULL, NULL, TRUE);
  }
}

void
bus_vgpu_op_report (gpointer data, gpointer user_data)
{
  Item *item = data;

  if (item->kind == ITEM_DONE)
    finish (item->op);
  else
    late (user_data, item->what, item->result);
  g_free (item->what);
  g_free (item);
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
