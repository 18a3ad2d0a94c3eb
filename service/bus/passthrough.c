/* BindVfio, GiveBack and Unbind on org.gpuvirt.Device and their bulk forms
 * on org.gpuvirt.Manager. Each call: validate input -> check state ->
 * polkit -> act (one worker thread per IOMMU group, so independent groups
 * move in parallel and the bus keeps answering) -> PropertiesChanged at
 * every transition -> reply when every group is done. */
#include "bus/passthrough.h"
#include "bus/announce.h"
#include "bus/audit.h"
#include "bus/bouncer.h"
#include "bus/options.h"
#include "bus/paths.h"
#include "bus/persist.h"
#include "bus/util.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>

typedef struct Operation Operation;

struct Operation {
  Daemon *daemon;
  sd_bus_message *request;
  GvPassthroughPlan *plan;
  GvPassthroughOptions options;
  gboolean keep_going;
  GStrv persist;            /* the persist option: the functions named, recorded once they moved */
  guint running;            /* groups still in their worker thread */
  GPtrArray *results;       /* GvPassthroughResult, every group's */
  GPtrArray *succeeded;     /* GvPassthroughGroup* of groups that succeeded (not owned) */
  GError *error;            /* the first failure */
  GvPassthroughPlan *undo_plan;        /* giving back what succeeded, after a failure */
};

typedef enum { ITEM_PROGRESS, ITEM_GROUP_DONE } ItemKind;

typedef struct {
  ItemKind kind;
  char *bdf, *state, *message;    /* PROGRESS */
  Operation *op;                  /* GROUP_DONE */
  GvPassthroughGroup *group;
  GPtrArray *results;
  GError *error;
} QueueItem;

typedef struct {
  Operation *op;
  GvPassthroughGroup *group;
  GvPassthroughPlan *plan;             /* the plan this group belongs to (op->plan or an undo plan) */
} GroupJob;

static void undo_plan_free (GvPassthroughPlan *plan);

static void
operation_free (Operation *op)
{
  undo_plan_free (op->undo_plan);
  sd_bus_message_unref (op->request);
  gv_passthrough_plan_free (op->plan);
  g_free (op->options.driver);
  g_strfreev (op->persist);
  g_ptr_array_unref (op->results);
  g_ptr_array_unref (op->succeeded);
  g_clear_error (&op->error);
  g_free (op);
}

static const char *
operation_verb (GvPassthroughOp operation)
{
  return operation == GV_PASSTHROUGH_BIND_VFIO ? "bind-vfio" : operation == GV_PASSTHROUGH_GIVE_BACK ? "give-back" : "unbind";
}

/* ---- worker side ---- */

/* Called in worker threads (and by late stuck writes). */
static void
on_progress (const char *bdf, const char *state, const char *message, gpointer user_data)
{
  Daemon *daemon = user_data;
  QueueItem *item = g_new0 (QueueItem, 1);

  item->kind = ITEM_PROGRESS;
  item->bdf = g_strdup (bdf);
  item->state = g_strdup (state);
  item->message = g_strdup (message ? message : "");
  daemon_queue_push (daemon->passthrough_queue, item);
}

static gpointer
group_thread (gpointer data)
{
  GroupJob *job = data;
  Daemon *daemon = job->op->daemon;
  QueueItem *item = g_new0 (QueueItem, 1);

  item->kind = ITEM_GROUP_DONE;
  item->op = job->op;
  item->group = job->group;
  gv_passthrough_run (daemon->root, daemon->journal, job->plan, job->group, &job->op->options, on_progress, daemon,
                      &item->results, &item->error);
  daemon_queue_push (daemon->passthrough_queue, item);
  g_free (job);
  return NULL;
}

static void
start_group (Operation *op, GvPassthroughPlan *plan, GvPassthroughGroup *group)
{
  GroupJob *job = g_new0 (GroupJob, 1);

  job->op = op;
  job->plan = plan;
  job->group = group;
  op->running++;
  daemon_worker_start (op->daemon, "gpuvirt-group", group_thread, job);
}

/* ---- main loop side ---- */

static int
append_results (sd_bus_message *reply, GPtrArray *results)
{
  int r = sd_bus_message_open_container (reply, 'a', "(sss)");

  for (guint i = 0; r >= 0 && i < results->len; i++) {
    GvPassthroughResult *res = results->pdata[i];
    r = sd_bus_message_append (reply, "(sss)", res->bdf, res->state, res->message ? res->message : "");
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

/* The persist option's edits for BDFS: on vfio-pci, or (GiveBack) no
 * longer. Unbind has no persist option. */
static BusPersist *
passthrough_edits (Daemon *daemon, GvPassthroughOp operation, const char *const *bdfs)
{
  BusPersist *persist = bus_persist_new (daemon);

  for (guint i = 0; bdfs && bdfs[i]; i++)
    bus_persist_passthrough (persist, bdfs[i], operation == GV_PASSTHROUGH_BIND_VFIO);
  return persist;
}

/* Whether BDF's group moved (with keep-going some may have failed). */
static gboolean
group_succeeded (Operation *op, const char *bdf)
{
  for (guint i = 0; i < op->succeeded->len; i++)
    if (g_strv_contains ((const char *const *) ((GvPassthroughGroup *) op->succeeded->pdata[i])->bdfs, bdf))
      return TRUE;
  return FALSE;
}

/* Records the functions named that moved; 0, or < 0 with ERROR set. */
static int
persist_done (Operation *op, const char *summary, sd_bus_error *error)
{
  g_autoptr (GPtrArray) moved = g_ptr_array_new ();
  g_autoptr (BusPersist) persist = NULL;
  g_autofree char *names = NULL;
  g_autofree char *done = NULL;

  for (guint i = 0; op->persist[i]; i++)
    if (!op->error || group_succeeded (op, op->persist[i]))
      g_ptr_array_add (moved, op->persist[i]);
  if (moved->len == 0)
    return 0;
  g_ptr_array_add (moved, NULL);
  persist = passthrough_edits (op->daemon, op->plan->operation, (const char *const *) moved->pdata);
  names = g_strjoinv (" ", (char **) moved->pdata);
  done = g_strdup_printf ("%s of %s (%s)", operation_verb (op->plan->operation), names, summary);
  /* binding or giving back again changes nothing on the device and records it */
  return bus_persist_commit (persist, done, TRUE, error);
}

static void
finish (Operation *op)
{
  Daemon *daemon = op->daemon;
  g_autoptr (GError) refresh_error = NULL;
  sd_bus_error persist_error = SD_BUS_ERROR_NULL;
  g_autofree char *summary = NULL;
  GString *rows = g_string_new (NULL);

  for (guint i = 0; op->plan->all_bdfs[i]; i++) {
    const char *bdf = op->plan->all_bdfs[i];
    const char *one[] = { bdf, NULL };
    daemon_unmark_busy (daemon, one);
    /* a stuck function stays stuck until its write returns */
    if (g_strcmp0 (g_hash_table_lookup (daemon->op_state, bdf), GPUVIRT_STATE_STUCK) != 0)
      daemon_clear_state (daemon, bdf, FALSE);
  }
  if (!daemon_refresh_functions (daemon, (const char *const *) op->plan->all_bdfs, FALSE, &refresh_error))
    g_warning ("Could not re-read the functions after %s, ignoring: %s", operation_verb (op->plan->operation),
               refresh_error->message);

  for (guint i = 0; i < op->results->len; i++) {
    GvPassthroughResult *res = op->results->pdata[i];
    g_string_append_printf (rows, "%s%s %s (%s)", i ? ", " : "", res->bdf, res->state,
                            res->driver && *res->driver ? res->driver : "no driver");
  }
  summary = g_string_free (rows, FALSE);
  bus_audit_operation (op->request, operation_verb (op->plan->operation), op->plan->all_bdfs,
                       op->error ? op->error->message : NULL, summary);

  /* the change is announced before the caller hears it is done */
  bus_announce_flush (daemon);
  if (op->error && !op->keep_going) {
    g_autofree char *message = g_strdup (op->error->message);
    sd_bus_reply_method_errorf (op->request, gv_error_name (op->error), "%s", message);
  } else if (op->persist && persist_done (op, summary, &persist_error) < 0) {
    sd_bus_reply_method_error (op->request, &persist_error);
  } else {
    sd_bus_message *reply = NULL;
    int r = sd_bus_message_new_method_return (op->request, &reply);
    if (r >= 0)
      r = append_results (reply, op->results);
    if (r >= 0)
      r = sd_bus_send (NULL, reply, NULL);
    if (r < 0)
      g_warning ("Could not reply to %s: %s", operation_verb (op->plan->operation), g_strerror (-r));
    sd_bus_message_unref (reply);
  }
  sd_bus_error_free (&persist_error);
  operation_free (op);
}

/* The undo plan owns copies of the groups, in give-back order. */
static void
undo_plan_free (GvPassthroughPlan *plan)
{
  if (!plan)
    return;
  for (guint i = 0; i < plan->groups->len; i++) {
    GvPassthroughGroup *group = plan->groups->pdata[i];
    g_strfreev (group->bdfs);
    g_free (group);
  }
  g_ptr_array_unref (plan->groups);
  g_strfreev (plan->all_bdfs);
  g_free (plan);
}

/* A bulk call without keep-going is one transaction: when a group failed,
 * the groups that had succeeded are given back too. */
static gboolean
undo_succeeded (Operation *op)
{
  GvPassthroughPlan *undo;

  if (op->undo_plan || op->keep_going || !op->error || op->plan->operation != GV_PASSTHROUGH_BIND_VFIO ||
      op->succeeded->len == 0)
    return FALSE;
  undo = g_new0 (GvPassthroughPlan, 1);
  undo->operation = GV_PASSTHROUGH_GIVE_BACK;
  undo->groups = g_ptr_array_new ();
  undo->all_bdfs = g_strdupv (op->plan->all_bdfs);
  for (guint i = 0; i < op->succeeded->len; i++) {
    GvPassthroughGroup *done = op->succeeded->pdata[i];
    GvPassthroughGroup *back = g_new0 (GvPassthroughGroup, 1);
    guint n = g_strv_length (done->bdfs);
    back->iommu_group = done->iommu_group;
    back->bdfs = g_new0 (char *, n + 1);
    for (guint j = 0; j < n; j++)
      back->bdfs[j] = g_strdup (done->bdfs[n - 1 - j]);
    g_ptr_array_add (undo->groups, back);
    /* their rows are replaced by the give-back's */
    for (guint r = 0; r < op->results->len;) {
      if (g_strv_contains ((const char *const *) done->bdfs, ((GvPassthroughResult *) op->results->pdata[r])->bdf))
        g_ptr_array_remove_index (op->results, r);
      else
        r++;
    }
  }
  op->undo_plan = undo;
  g_ptr_array_set_size (op->succeeded, 0);
  for (guint i = 0; i < undo->groups->len; i++)
    start_group (op, undo, undo->groups->pdata[i]);
  return TRUE;
}

static void
on_group_done (Daemon *daemon, QueueItem *item)
{
  Operation *op = item->op;

  op->running--;
  /* with keep-going a failed group's rows carry the error name */
  if (item->error && op->keep_going && item->results) {
    for (guint i = 0; i < item->results->len; i++) {
      GvPassthroughResult *res = item->results->pdata[i];
      char *prefixed = g_strdup_printf ("%s: %s", gv_error_name (item->error),
                                        res->message ? res->message : item->error->message);
      g_free (res->message);
      res->message = prefixed;
    }
  }
  if (item->results)
    g_ptr_array_extend_and_steal (op->results, g_steal_pointer (&item->results));
  if (item->error) {
    if (!op->error)
      op->error = g_steal_pointer (&item->error);
  } else if (!op->undo_plan) {
    g_ptr_array_add (op->succeeded, item->group);
  }
  if (op->running > 0)
    return;
  if (undo_succeeded (op))
    return;
  finish (op);
}

static void
on_progress_item (Daemon *daemon, QueueItem *item)
{
  const char *state = item->state;
  gboolean moving = g_str_equal (state, GPUVIRT_STATE_RELEASING) || g_str_equal (state, GPUVIRT_STATE_RETURNING) ||
                    g_str_equal (state, GPUVIRT_STATE_STUCK);

  const char *bdfs[] = { item->bdf, NULL };
  g_autoptr (GError) error = NULL;

  if (moving || g_hash_table_contains (daemon->busy, item->bdf)) {
    daemon_set_state (daemon, item->bdf, state, item->message);
    if (moving)
      return;
  } else {
    /* a write that was stuck returned: the function is where sysfs says */
    daemon_set_state (daemon, item->bdf, NULL, item->message);
  }
  /* the function arrived: its driver, override, records and VFIO nodes
   * are read now, so they go out with its State, in one signal, and a
   * Get never shows the new State with the old driver */
  if (!daemon_refresh_functions (daemon, bdfs, FALSE, &error))
    g_warning ("Could not re-read %s, ignoring: %s", item->bdf, error->message);
}

void
bus_passthrough_report (gpointer data, gpointer user_data)
{
  QueueItem *item = data;
  Daemon *daemon = user_data;

  if (item->kind == ITEM_PROGRESS)
    on_progress_item (daemon, item);
  else
    on_group_done (daemon, item);
  g_free (item->bdf);
  g_free (item->state);
  g_free (item->message);
  if (item->results)
    g_ptr_array_unref (item->results);
  g_clear_error (&item->error);
  g_free (item);
}

/* ---- the methods ---- */

static char *
join_ids (Daemon *daemon, const char *const *bdfs, gboolean model)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; bdfs[i]; i++) {
    GvHostDevice *d = gv_host_lookup (daemon->host, bdfs[i]);
    g_string_append_printf (s, "%s%04x", i ? " " : "", d ? (model ? d->fn->device_id : d->fn->vendor_id) : 0);
  }
  return g_string_free (s, FALSE);
}

/* Runs the common path once the requested functions are known. */
static int
run_operation (Daemon *daemon, sd_bus_message *m, GvPassthroughOp operation, GPtrArray *requested,
               GvPassthroughOptions *options, gboolean keep_going, gboolean persist, sd_bus_error *error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GvPassthroughPlan) plan = NULL;
  g_autofree char *devices = NULL;
  g_autofree char *functions = NULL;
  g_autofree char *vendors = NULL;
  g_autofree char *models = NULL;
  Operation *op;
  int r;

  /* check state: nothing already moving, a feasible plan */
  g_ptr_array_add (requested, NULL);
  if (!daemon_check_writable (daemon, &local) ||
      !daemon_check_not_busy (daemon, (const char *const *) requested->pdata, &local))
    return bus_error_set (error, local);
  plan = gv_passthrough_plan (daemon->host, operation, (const char *const *) requested->pdata, options, &local);
  if (!plan || !daemon_check_not_busy (daemon, (const char *const *) plan->all_bdfs, &local))
    return bus_error_set (error, local);
  /* the configuration can take the change, or nothing moves */
  if (persist) {
    g_autoptr (BusPersist) edits = passthrough_edits (daemon, operation, (const char *const *) requested->pdata);
    r = bus_persist_check (edits, error);
    if (r < 0)
      return r;
  }

  /* polkit: taking foreign functions is as strong as forcing past holders */
  devices = g_strjoinv (" ", (char **) requested->pdata);
  functions = g_strjoinv (" ", plan->all_bdfs);
  vendors = join_ids (daemon, (const char *const *) requested->pdata, FALSE);
  models = join_ids (daemon, (const char *const *) requested->pdata, TRUE);
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, devices, GPUVIRT_DETAIL_VENDOR, vendors,
                              GPUVIRT_DETAIL_MODEL, models, GPUVIRT_DETAIL_FUNCTIONS, functions,
                              options->driver ? GPUVIRT_DETAIL_DRIVER : NULL, options->driver, NULL };
    BusNeed need = options->force || options->allow_foreign ? BUS_NEED_FORCE : BUS_NEED_ACTION;
    r = bus_bouncer_check (daemon, m, need | (persist ? BUS_NEED_PERSIST : 0), details, error);
  }
  if (r <= 0)
    return r < 0 ? r : 1;   /* denied, or polkit will call us again */

  /* act */
  op = g_new0 (Operation, 1);
  op->daemon = daemon;
  op->request = sd_bus_message_ref (m);
  op->plan = g_steal_pointer (&plan);
  op->options = *options;
  options->driver = NULL;   /* now the operation's */
  op->keep_going = keep_going;
  op->persist = persist ? g_strdupv ((char **) requested->pdata) : NULL;
  op->results = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_passthrough_result_free);
  op->succeeded = g_ptr_array_new ();
  daemon_mark_busy (daemon, (const char *const *) op->plan->all_bdfs, op);
  for (guint i = 0; op->plan->all_bdfs[i]; i++)
    g_hash_table_remove (daemon->op_message, op->plan->all_bdfs[i]);
  for (guint i = 0; i < op->plan->groups->len; i++)
    start_group (op, op->plan, op->plan->groups->pdata[i]);
  return 1;
}

/* A companion stands for its GPU when moving to vfio-pci and back (the
 * whole GPU moves); Unbind touches only the function named. */
static const char *
owner_of (Daemon *daemon, GvPassthroughOp operation, const char *bdf)
{
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
  if (operation == GV_PASSTHROUGH_UNBIND)
    return bdf;
  return device && device->role == GV_HOST_ROLE_COMPANION && device->owner ? device->owner : bdf;
}

static int
bus_refuse_driver_name (const char *name, sd_bus_error *error)
{
  g_autofree char *shown = gv_error_escape (name);
  return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                            "'%s' is not a driver name (letters, digits, '_' and '-')", shown);
}

static gboolean
valid_driver_name (const char *name)
{
  if (!*name || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static int
device_method (sd_bus_message *m, Daemon *daemon, GvPassthroughOp operation, sd_bus_error *error)
{
  g_autofree char *bdf = bus_device_path_to_bdf (sd_bus_message_get_path (m));
  GvPassthroughOptions options = { 0 };
  gboolean persist = FALSE;
  g_autoptr (GPtrArray) requested = g_ptr_array_new ();
  const BusOption bind_opts[] = {
    { GPUVIRT_OPT_FORCE, 'b', &options.force }, { GPUVIRT_OPT_ALLOW_FOREIGN, 'b', &options.allow_foreign },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &options.timeout_ms }, { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  const BusOption back_opts[] = {
    { GPUVIRT_OPT_DRIVER, 's', &options.driver }, { GPUVIRT_OPT_FORCE, 'b', &options.force },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &options.timeout_ms }, { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  /* Unbind records nothing: the configuration has no "driverless" state */
  const BusOption unbind_opts[] = {
    { GPUVIRT_OPT_FORCE, 'b', &options.force }, { GPUVIRT_OPT_TIMEOUT_MS, 'u', &options.timeout_ms },
  };
  int r;

  if (operation == GV_PASSTHROUGH_BIND_VFIO)
    r = bus_read_options (m, bind_opts, G_N_ELEMENTS (bind_opts), error);
  else if (operation == GV_PASSTHROUGH_GIVE_BACK)
    r = bus_read_options (m, back_opts, G_N_ELEMENTS (back_opts), error);
  else
    r = bus_read_options (m, unbind_opts, G_N_ELEMENTS (unbind_opts), error);
  if (r >= 0 && options.driver && !valid_driver_name (options.driver))
    r = bus_refuse_driver_name (options.driver, error);
  if (r >= 0 && (!bdf || !gv_host_lookup (daemon->host, bdf)))
    r = sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
  if (r >= 0) {
    g_ptr_array_add (requested, g_strdup (owner_of (daemon, operation, bdf)));
    g_ptr_array_set_free_func (requested, g_free);
    r = run_operation (daemon, m, operation, requested, &options, FALSE, persist, error);
  }
  g_free (options.driver);
  return r;
}

int
bus_passthrough_bind (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  return device_method (m, userdata, GV_PASSTHROUGH_BIND_VFIO, error);
}

int
bus_passthrough_give_back (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  return device_method (m, userdata, GV_PASSTHROUGH_GIVE_BACK, error);
}

int
bus_passthrough_unbind (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  return device_method (m, userdata, GV_PASSTHROUGH_UNBIND, error);
}

static int
manager_method (sd_bus_message *m, Daemon *daemon, GvPassthroughOp operation, sd_bus_error *error)
{
  GvPassthroughOptions options = { 0 };
  gboolean persist = FALSE, keep_going = FALSE, all_nvidia = FALSE;
  g_autoptr (GPtrArray) requested = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) devices = NULL;
  const BusOption opts[] = {
    { GPUVIRT_OPT_FORCE, 'b', &options.force }, { GPUVIRT_OPT_ALLOW_FOREIGN, 'b', &options.allow_foreign },
    { GPUVIRT_OPT_ALL_NVIDIA, 'b', &all_nvidia }, { GPUVIRT_OPT_TIMEOUT_MS, 'u', &options.timeout_ms },
    { GPUVIRT_OPT_KEEP_GOING, 'b', &keep_going }, { GPUVIRT_OPT_DRIVER, 's', &options.driver },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  /* driver only for GiveBack, allow-foreign and all-nvidia only for
   * BindVfio; persist (the last) not for Unbind */
  gsize n_opts = G_N_ELEMENTS (opts) - (operation == GV_PASSTHROUGH_UNBIND);
  int r;

  r = sd_bus_message_read_strv (m, &devices);
  if (r >= 0)
    r = bus_read_options (m, opts, n_opts, error);
  if (r >= 0 && options.driver && operation != GV_PASSTHROUGH_GIVE_BACK)
    r = sd_bus_error_set (error, SD_BUS_ERROR_INVALID_ARGS, "The driver option belongs to GiveBack");
  else if (r >= 0 && options.driver && !valid_driver_name (options.driver))
    r = bus_refuse_driver_name (options.driver, error);
  if (r >= 0 && (all_nvidia || options.allow_foreign) && operation != GV_PASSTHROUGH_BIND_VFIO)
    r = sd_bus_error_set (error, SD_BUS_ERROR_INVALID_ARGS, "all-nvidia and allow-foreign belong to BindVfio");
  for (guint i = 0; r >= 0 && devices && devices[i]; i++) {
    g_autofree char *bdf = bus_resolve_device_argument (devices[i], error);
    if (!bdf)
      r = -EINVAL;
    else if (!gv_host_lookup (daemon->host, bdf))
      r = sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "No PCI function %s on this host", bdf);
    else if (!g_ptr_array_find_with_equal_func (requested, owner_of (daemon, operation, bdf), g_str_equal, NULL))
      g_ptr_array_add (requested, g_strdup (owner_of (daemon, operation, bdf)));
  }
  if (r >= 0 && all_nvidia) {
    GPtrArray *all = gv_host_get_devices (daemon->host);
    for (guint i = 0; i < all->len; i++) {
      GvHostDevice *d = all->pdata[i];
      if (d->role == GV_HOST_ROLE_GPU && d->fn->vendor_id == 0x10de && !gv_host_function_is_vf (d->fn) &&
          !g_ptr_array_find_with_equal_func (requested, d->fn->bdf, g_str_equal, NULL))
        g_ptr_array_add (requested, g_strdup (d->fn->bdf));
    }
  }
  if (r >= 0 && requested->len == 0)
    r = sd_bus_error_set (error, SD_BUS_ERROR_INVALID_ARGS,
                          all_nvidia ? "There is no NVIDIA GPU on this host" : "No device named (or use all-nvidia)");
  if (r >= 0)
    r = run_operation (daemon, m, operation, requested, &options, keep_going, persist, error);
  g_free (options.driver);
  return r;
}

int
bus_passthrough_bulk_bind (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  return manager_method (m, userdata, GV_PASSTHROUGH_BIND_VFIO, error);
}

int
bus_passthrough_bulk_give_back (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  return manager_method (m, userdata, GV_PASSTHROUGH_GIVE_BACK, error);
}

int
bus_passthrough_bulk_unbind (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  return manager_method (m, userdata, GV_PASSTHROUGH_UNBIND, error);
}

