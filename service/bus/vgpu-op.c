/* Runs SR-IOV and vGPU operations: worker thread -> main loop -> reply
 * (see bus-vgpu-op.h). */
#include "bus/vgpu-op.h"
#include "bus/vgpu-journal.h"
#include "bus/audit.h"
#include "bus/paths.h"
#include "gpuvirt-names.h"
#include "sysfs/read.h"

#include <errno.h>
#include <string.h>

typedef enum { ITEM_DONE, ITEM_LATE } ItemKind;

typedef struct {
  ItemKind kind;
  VgpuOp *op;     /* DONE */
  char *what;     /* LATE: the BDF or UUID the late write was about */
  int result;
} Item;

static const char *const kind_names[] = {
  [VGPU_OP_SET_NUM_VFS] = "set-num-vfs",
  [VGPU_OP_SET_TYPE] = "set-vgpu-type",
  [VGPU_OP_RELEASE_TYPE] = "release-vgpu-type",
  [VGPU_OP_CREATE_MDEV] = "create-mdev",
  [VGPU_OP_REMOVE_MDEV] = "remove-mdev",
  [VGPU_OP_CREATE_VGPU] = "create-vgpu",
  [VGPU_OP_REMOVE_VGPU] = "remove-vgpu",
};

const char *
vgpu_op_kind_to_string (VgpuOpKind kind)
{
  return kind_names[kind];
}

const char *
vgpu_busy_conflict (Daemon *daemon, const char *const *keys)
{
  for (guint i = 0; keys && keys[i]; i++)
    if (g_hash_table_contains (daemon->busy, keys[i]))
      return keys[i];
  return NULL;
}

static void
vgpu_op_free (VgpuOp *op)
{
  sd_bus_message_unref (op->request);
  g_free (op->root);
  g_free (op->function);
  g_free (op->gpu);
  g_free (op->wanted);
  g_free (op->uuid);
  g_strfreev (op->busy);
  bus_persist_free (op->persist);
  g_clear_error (&op->error);
  g_free (op->type_name);
  g_free (op->out_uuid);
  g_free (op->out_type);
  if (op->result)
    gv_vgpu_result_free (op->result);
  g_strfreev (op->vfs);
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
  main_queue_push (daemon->vgpu_queue, item);
}

VgpuOp *
vgpu_op_new (Daemon *daemon, sd_bus_message *m, VgpuOpKind kind, const char *function, const char *gpu,
             guint timeout_ms, VgpuOpReplyFunc reply)
{
  VgpuOp *op = g_new0 (VgpuOp, 1);

  op->daemon = daemon;
  op->request = sd_bus_message_ref (m);
  op->kind = kind;
  op->root = g_strdup (daemon->root);
  op->function = g_strdup (function);
  op->gpu = g_strdup (gpu ? gpu : function);
  op->reply = reply;
  op->ctx.root = op->root;
  op->ctx.timeout_ms = timeout_ms;
  op->ctx.late = on_late;
  op->ctx.user_data = daemon;
  return op;
}

/* ---- worker side ---- */

static void
run (VgpuOp *op)
{
  const GvVgpuContext *ctx = &op->ctx;
  g_autofree char *journal = vgpu_op_journal_begin (op);

  switch (op->kind) {
  case VGPU_OP_SET_NUM_VFS:
    gv_vgpu_set_num_vfs (ctx, op->function, op->count, &op->vfs, &op->error);
    break;
  case VGPU_OP_SET_TYPE:
    gv_vgpu_set_type (ctx, op->function, op->wanted, &op->type_id, &op->type_name, &op->changed, &op->error);
    break;
  case VGPU_OP_RELEASE_TYPE:
    gv_vgpu_release_type (ctx, op->function, &op->changed, &op->error);
    break;
  case VGPU_OP_CREATE_MDEV:
    gv_vgpu_create_mdev (ctx, op->function, op->wanted, op->uuid, &op->out_uuid, &op->out_type, &op->error);
    break;
  case VGPU_OP_REMOVE_MDEV:
    gv_vgpu_remove_mdev (ctx, op->uuid, &op->error);
    break;
  case VGPU_OP_CREATE_VGPU: {
    GvVgpuRequest request = {
      .function = op->function,
      .framework = op->framework,
      .wanted = op->wanted,
      .uuid = op->uuid,
      .num_vfs = op->count,
    };
    gv_vgpu_create (ctx, &request, &op->result, &op->error);
    break;
  }
  case VGPU_OP_REMOVE_VGPU: {
    gboolean removed;
    if (op->uuid && *op->uuid)
      removed = gv_vgpu_remove_mdev (ctx, op->uuid, &op->error);
    else
      removed = gv_vgpu_release_type (ctx, op->function, NULL, &op->error);
    if (removed && op->disable_vfs) {
      g_autoptr (GError) local = NULL;
      if (!gv_vgpu_set_num_vfs (ctx, op->gpu, 0, &op->vfs, &local)) {
        /* the vGPU is gone; only the clean-up failed: say exactly that */
        g_set_error (&op->error, local->domain, local->code,
                     "The vGPU was removed, but disabling the VFs of %s failed: %s", op->gpu, local->message);
      }
    }
    break;
  }
  }
  vgpu_op_journal_end (op, journal);
}

static gpointer
worker (gpointer data)
{
  VgpuOp *op = data;
  Item *item = g_new0 (Item, 1);

  run (op);
  item->kind = ITEM_DONE;
  item->op = op;
  main_queue_push (op->daemon->vgpu_queue, item);
  return NULL;
}

void
vgpu_op_start (VgpuOp *op, const char *const *busy)
{
  GThread *thread;

  op->busy = g_strdupv ((GStrv) busy);
  for (guint i = 0; op->busy[i]; i++)
    g_hash_table_insert (op->daemon->busy, g_strdup (op->busy[i]), op);
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
  if (daemon_refresh_functions (daemon, (const char *const *) bdfs->pdata, all_mdev_parents, &error) < 0)
    g_warning ("Could not re-read the functions of an SR-IOV or vGPU change, ignoring: %s", error->message);
}

static char *
summary (VgpuOp *op)
{
  GvHostDevice *gpu = gv_host_lookup (op->daemon->host, op->gpu);
  guint numvfs = gpu ? gpu->fn->sriov_numvfs : 0;

  switch (op->kind) {
  case VGPU_OP_SET_NUM_VFS:
    return g_strdup_printf ("%s: %u VFs asked, %u now", op->gpu, op->count, numvfs);
  case VGPU_OP_CREATE_VGPU:
    if (op->result)
      return g_strdup_printf ("%s: vGPU %s (%s) on %s%s%s%s", op->gpu, op->result->type_id, op->result->type_name,
                              op->result->address, op->result->mdev_uuid ? ", mdev " : "",
                              op->result->mdev_uuid ? op->result->mdev_uuid : "",
                              op->result->enabled_vfs ? ", VFs enabled for it" : "");
    break;
  default:
    break;
  }
  if (op->kind == VGPU_OP_SET_TYPE || op->kind == VGPU_OP_RELEASE_TYPE)
    return g_strdup_printf ("%s: %s", op->function, op->changed ? "changed" : "nothing to change");
  return g_strdup_printf ("%s%s%s", op->function, op->uuid && *op->uuid ? " mdev " : "",
                          op->uuid ? op->uuid : op->out_uuid ? op->out_uuid : "");
}

/* The persist option, once the change succeeded: 0, or < 0 with ERROR. */
static int
persist (VgpuOp *op, const char *summary, sd_bus_error *error)
{
  g_autofree char *done = g_strdup_printf ("%s (%s)", vgpu_op_kind_to_string (op->kind), summary);
  /* a count or a type set again changes nothing and records it; a vGPU
   * made or removed again is another call */
  gboolean again = op->kind == VGPU_OP_SET_NUM_VFS || op->kind == VGPU_OP_SET_TYPE ||
                   op->kind == VGPU_OP_RELEASE_TYPE;

  if (op->persist_result)
    op->persist_result (op);
  return bus_persist_commit (op->persist, done, again, error);
}

static void
finish (VgpuOp *op)
{
  Daemon *daemon = op->daemon;
  gboolean stuck = op->error && g_error_matches (op->error, GV_ERROR, GV_ERROR_STUCK);
  const char *extra[4] = { NULL };
  sd_bus_error persist_error = SD_BUS_ERROR_NULL;
  g_autofree char *text = NULL;
  char *functions[] = { op->function, NULL };
  int r;

  for (guint i = 0; op->busy[i]; i++)
    g_hash_table_remove (daemon->busy, op->busy[i]);
  if (stuck) {
    /* held until the write returns: see on_late */
    for (guint i = 0; op->busy[i]; i++)
      g_hash_table_insert (daemon->busy, g_strdup (op->busy[i]), daemon);
    g_ptr_array_add (daemon->stuck_ops, g_strdupv (op->busy));
  }
  extra[0] = op->gpu;
  extra[1] = op->function;
  extra[2] = op->result ? op->result->address : NULL;
  /* one pass over the family, VFs that appeared included (read for the
   * first time): each pass re-reads every function of it over sysfs */
  refresh_family (daemon, (const char *const *) op->busy, extra,
                  (const char *const *) (op->vfs ? op->vfs : op->result ? op->result->vfs : NULL), FALSE);

  text = summary (op);
  audit_log_operation (op->request, vgpu_op_kind_to_string (op->kind), functions,
                       op->error ? op->error->message : NULL, text);
  if (op->error)
    r = sd_bus_reply_method_errorf (op->request, gv_error_name (op->error), "%s", op->error->message);
  else if (op->persist && persist (op, text, &persist_error) < 0)
    /* the device change stays: the error says so */
    r = sd_bus_reply_method_error (op->request, &persist_error);
  else
    r = op->reply (op);
  if (r < 0)
    g_warning ("Could not reply to %s on %s: %s", vgpu_op_kind_to_string (op->kind), op->function, g_strerror (-r));
  sd_bus_error_free (&persist_error);
  vgpu_op_free (op);
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
    for (guint j = 0; keys[j]; j++)
      g_hash_table_remove (daemon->busy, keys[j]);
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
bus_vgpu_queue_item (gpointer data, gpointer user_data)
{
  Item *item = data;

  if (item->kind == ITEM_DONE)
    finish (item->op);
  else
    late (user_data, item->what, item->result);
  g_free (item->what);
  g_free (item);
}
