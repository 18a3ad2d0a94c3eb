/* org.gpuvirt.Mig on the device objects of MIG GPUs: the snapshot the
 * daemon keeps (daemon_mig_lookup()), and SetMode, CreateGpuInstances and
 * DestroyGpuInstances in the contract's order: read the call, check the
 * state (MIG there, nothing busy, nothing holds the GPU for a reset, the
 * configuration can take the persist option), polkit
 * (org.gpuvirt.configure-mig), the engine in a worker that reads the GPU
 * again afterwards, then on the main loop the snapshot stored (and
 * announced), the audit record, the persist option and the reply. */
#include "bus/mig.h"
#include "bus/announce.h"
#include "bus/audit.h"
#include "bus/objects.h"
#include "bus/bouncer.h"
#include "bus/options.h"
#include "bus/paths.h"
#include "bus/persist.h"
#include "bus/util.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>

/* ---- properties ---- */

static GvMigGpu *
mig_at (Daemon *daemon, const char *path)
{
  g_autofree char *bdf = bus_device_path_to_bdf (path);
  return daemon_mig_lookup (daemon, bdf);
}

#define MIG_OR_FAIL(daemon, path)                                                                                      \
  GvMigGpu *gpu = mig_at (daemon, path);                                                                               \
  if (!gpu)                                                                                                            \
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s has no MIG now", path)

static int
get_mode (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *userdata,
          sd_bus_error *error)
{
  MIG_OR_FAIL (userdata, path);
  return sd_bus_message_append (reply, "b", (int) gpu->current);
}

static int
get_pending_mode (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                  void *userdata, sd_bus_error *error)
{
  MIG_OR_FAIL (userdata, path);
  return sd_bus_message_append (reply, "b", (int) gpu->pending);
}

static int
append_count (sd_bus_message *reply, const char *key, guint value)
{
  return sd_bus_message_append (reply, "{sv}", key, "u", (guint32) value);
}

static int
get_profiles (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
              void *userdata, sd_bus_error *error)
{
  int r;
  MIG_OR_FAIL (userdata, path);

  r = sd_bus_message_open_container (reply, 'a', "(suuuuta{sv})");
  for (guint i = 0; r >= 0 && i < gpu->profiles->len; i++) {
    const GvMigProfile *p = gpu->profiles->pdata[i];
    r = sd_bus_message_open_container (reply, 'r', "suuuuta{sv}");
    if (r >= 0)
      r = sd_bus_message_append (reply, "suuuut", p->name, p->id, p->slices, p->max, p->free, p->memory_mb);
    if (r >= 0)
      r = sd_bus_message_open_container (reply, 'a', "{sv}");
    if (r >= 0)
      r = sd_bus_message_open_container (reply, 'e', "sv");
    if (r >= 0)
      r = sd_bus_message_append (reply, "s", GPUVIRT_MIG_PLACEMENTS);
    if (r >= 0)
      r = sd_bus_message_open_container (reply, 'v', "a(uu)");
    if (r >= 0)
      r = sd_bus_message_open_container (reply, 'a', "(uu)");
    for (guint j = 0; r >= 0 && j < p->placements->len; j++) {
      GvMigPlacement pl = g_array_index (p->placements, GvMigPlacement, j);
      r = sd_bus_message_append (reply, "(uu)", pl.start, pl.size);
    }
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
    if (r >= 0)
      r = append_count (reply, GPUVIRT_MIG_MULTIPROCESSORS, p->multiprocessors);
    if (r >= 0)
      r = append_count (reply, GPUVIRT_MIG_COPY_ENGINES, p->copy_engines);
    if (r >= 0)
      r = append_count (reply, GPUVIRT_MIG_DECODERS, p->decoders);
    if (r >= 0)
      r = append_count (reply, GPUVIRT_MIG_ENCODERS, p->encoders);
    if (r >= 0)
      r = append_count (reply, GPUVIRT_MIG_JPEGS, p->jpegs);
    if (r >= 0)
      r = append_count (reply, GPUVIRT_MIG_OFAS, p->ofas);
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static int
get_gpu_instances (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                   void *userdata, sd_bus_error *error)
{
  int r;
  MIG_OR_FAIL (userdata, path);

  r = sd_bus_message_open_container (reply, 'a', "(uusuua(uuuu))");
  for (guint i = 0; r >= 0 && i < gpu->instances->len; i++) {
    const GvMigInstance *in = gpu->instances->pdata[i];
    r = sd_bus_message_open_container (reply, 'r', "uusuua(uuuu)");
    if (r >= 0)
      r = sd_bus_message_append (reply, "uusuu", in->id, in->profile_id, in->profile, in->placement.start,
                                 in->placement.size);
    if (r >= 0)
      r = sd_bus_message_open_container (reply, 'a', "(uuuu)");
    for (guint j = 0; r >= 0 && j < in->compute->len; j++) {
      const GvMigComputeInstance *c = &g_array_index (in->compute, GvMigComputeInstance, j);
      r = sd_bus_message_append (reply, "(uuuu)", c->id, c->profile_id, c->start, c->size);
    }
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
    if (r >= 0)
      r = sd_bus_message_close_container (reply);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

/* ---- the operations ---- */

typedef enum { OP_MODE, OP_CREATE, OP_DESTROY } OpKind;

typedef struct {
  Daemon *daemon;
  sd_bus_message *request;
  OpKind kind;
  char *bdf;
  char *root;
  GvMigContext ctx;
  gboolean enabled, reset, compute;
  char *profile;
  guint count;
  GArray *ids;                 /* DESTROY: asked (empty: all); CREATE: made */
  BusPersist *persist;
  gint64 started;
  /* set by the worker */
  GError *error;
  GvMigModeOutcome outcome;
  GvMigGpu *after;             /* the GPU read again afterwards (NULL: no MIG now, or unreadable) */
  gboolean after_known;        /* read, or NVML said it has no MIG */
  gint64 read_at;
} MigOp;

static const char *
op_name (OpKind kind)
{
  return kind == OP_MODE ? "set-mig-mode" : kind == OP_CREATE ? "create-gpu-instances" : "destroy-gpu-instances";
}

static void
op_free (MigOp *op)
{
  sd_bus_message_unref (op->request);
  g_free (op->bdf);
  g_free (op->root);
  g_free (op->profile);
  g_clear_pointer (&op->ids, g_array_unref);
  bus_persist_free (op->persist);
  g_clear_error (&op->error);
  gv_mig_mode_outcome_clear (&op->outcome);
  gv_mig_gpu_free (op->after);
  g_free (op);
}

static gpointer
worker (gpointer data)
{
  MigOp *op = data;
  g_autoptr (GError) read_error = NULL;

  switch (op->kind) {
  case OP_MODE:
    gv_mig_set_mode (&op->ctx, op->bdf, op->enabled, op->reset, &op->outcome, &op->error);
    break;
  case OP_CREATE: {
    GArray *made = NULL;
    if (gv_mig_create (&op->ctx, op->bdf, op->profile, op->count, op->compute, &made, &op->error)) {
      g_array_unref (op->ids);
      op->ids = made;
    }
    break;
  }
  case OP_DESTROY:
    gv_mig_destroy (&op->ctx, op->bdf, (const guint *) op->ids->data, op->ids->len, &op->error);
    break;
  }
  /* what NVML shows now, whatever happened (a stuck NVML answers STUCK at once) */
  op->read_at = g_get_monotonic_time ();
  op->after = gv_mig_gpu_read (op->ctx.nvml, op->bdf, op->ctx.timeout_ms, &read_error);
  op->after_known = op->after || g_error_matches (read_error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  if (!op->after_known)
    g_warning ("Could not read %s again after %s: %s", op->bdf, op_name (op->kind), read_error->message);
  daemon_queue_push (op->daemon->mig_op_queue, op);
  return NULL;
}

/* "1g.10gb:3;3g.40gb:1" of GPU's instances, "" when it has none. */
static char *
layout_of (const GvMigGpu *gpu)
{
  g_autoptr (GPtrArray) wants = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_mig_want_free);

  for (guint i = 0; gpu && i < gpu->instances->len; i++) {
    const GvMigInstance *in = gpu->instances->pdata[i];
    GvMigWant *w = NULL;
    for (guint j = 0; j < wants->len && !w; j++)
      if (g_str_equal (((GvMigWant *) wants->pdata[j])->profile, in->profile))
        w = wants->pdata[j];
    if (!w) {
      w = g_new0 (GvMigWant, 1);
      w->profile = g_strdup (in->profile);
      g_ptr_array_add (wants, w);
    }
    w->count++;
  }
  return gv_mig_wants_to_string (wants);
}

static char *
summary (MigOp *op)
{
  g_autofree char *layout = layout_of (op->after);

  if (op->kind == OP_MODE)
    return g_strdup_printf ("%s: %s", op->bdf, op->outcome.message ? op->outcome.message : "");
  return g_strdup_printf ("%s: GPU instances now %s", op->bdf, *layout ? layout : "none");
}

static int
reply (MigOp *op)
{
  g_autoptr (sd_bus_message) m = NULL;
  int r;

  if (op->kind == OP_MODE)
    return sd_bus_reply_method_return (op->request, "bs", (int) op->outcome.current,
                                       op->outcome.message ? op->outcome.message : "");
  if (op->kind == OP_DESTROY)
    return sd_bus_reply_method_return (op->request, NULL);
  r = sd_bus_message_new_method_return (op->request, &m);
  if (r >= 0)
    r = sd_bus_message_append_array (m, 'u', op->ids->data, op->ids->len * sizeof (guint32));
  if (r >= 0)
    r = sd_bus_send (NULL, m, NULL);
  return r;
}

void
bus_mig_report (gpointer data, gpointer user_data)
{
  MigOp *op = data;
  Daemon *daemon = op->daemon;
  const char *busy[] = { op->bdf, NULL };
  char *functions[] = { op->bdf, NULL };
  sd_bus_error persist_error = SD_BUS_ERROR_NULL;
  g_autofree char *text = NULL;
  int r;

  daemon_unmark_busy (daemon, busy);
  text = summary (op);
  /* an unreadable GPU keeps what was shown; one without MIG now loses it */
  if (op->after_known)
    daemon_mig_store (daemon, op->bdf, g_steal_pointer (&op->after), op->read_at);
  bus_audit_operation (op->request, op_name (op->kind), functions, op->error ? op->error->message : NULL, text);
  bus_announce_flush (daemon);
  if (op->error) {
    r = sd_bus_reply_method_errorf (op->request, gv_error_name (op->error), "%s", op->error->message);
  } else {
    if (op->persist && op->kind != OP_MODE) {
      g_autofree char *layout = layout_of (daemon_mig_lookup (daemon, op->bdf));
      bus_persist_clear (op->persist);
      bus_persist_mig_profiles (op->persist, op->bdf, layout);
    }
    if (op->persist && bus_persist_commit (op->persist, text, TRUE, &persist_error) < 0)
      r = sd_bus_reply_method_error (op->request, &persist_error);
    else
      r = reply (op);
  }
  if (r < 0)
    g_warning ("Could not reply to %s on %s: %s", op_name (op->kind), op->bdf, g_strerror (-r));
  sd_bus_error_free (&persist_error);
  op_free (op);
}

/* ---- the methods ---- */

/* The GPU of the call with its MIG as last read; an error otherwise. */
static GvMigGpu *
gpu_of_call (Daemon *daemon, sd_bus_message *m, GvHostDevice **device, sd_bus_error *error)
{
  GvMigGpu *gpu;

  *device = bus_device_of_call (daemon, m, error);
  if (!*device)
    return NULL;
  if (!daemon->nvml) {
    sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "%s", daemon->mig_status);
    return NULL;
  }
  gpu = daemon_mig_lookup (daemon, (*device)->fn->bdf);
  if (!gpu)
    sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "%s has no MIG (NVML)", (*device)->fn->bdf);
  return gpu;
}

static MigOp *
op_new (Daemon *daemon, sd_bus_message *m, OpKind kind, const char *bdf, guint timeout_ms)
{
  MigOp *op = g_new0 (MigOp, 1);

  op->daemon = daemon;
  op->request = sd_bus_message_ref (m);
  op->kind = kind;
  op->bdf = g_strdup (bdf);
  op->root = g_strdup (daemon->root);
  op->ctx = daemon_mig_context (daemon, timeout_ms);
  op->ctx.root = op->root;
  op->ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  return op;
}

/* The shared tail of the methods: busy, persist check, polkit, worker. */
static int
run (Daemon *daemon, sd_bus_message *m, MigOp *op, const char *const *details, sd_bus_error *error)
{
  g_autoptr (GError) local = NULL;
  const char *busy[] = { op->bdf, NULL };
  int r;

  if (!daemon_check_writable (daemon, &local) || !daemon_check_not_busy (daemon, busy, &local)) {
    op_free (op);
    return bus_error_set (error, local);
  }
  if (op->persist && (r = bus_persist_check (op->persist, error)) < 0) {
    op_free (op);
    return r;
  }
  r = bus_bouncer_check (daemon, m, BUS_NEED_ACTION | (op->persist ? BUS_NEED_PERSIST : 0), details, error);
  if (r <= 0) {
    op_free (op);
    return r < 0 ? r : 1;
  }
  daemon_mark_busy (daemon, busy, op);
  op->started = g_get_monotonic_time ();
  daemon_worker_start (daemon, "gpuvirt-mig", worker, op);
  return 1;
}

static int
method_set_mode (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  int enabled = 0, r;
  gboolean persist = FALSE, reset = TRUE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_RESET, 'b', &reset },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  GvHostDevice *device;
  GvMigGpu *gpu;
  MigOp *op;

  r = sd_bus_message_read (m, "b", &enabled);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  gpu = gpu_of_call (daemon, m, &device, error);
  if (!gpu)
    return -EOPNOTSUPP;
  /* a reset takes the GPU from whoever holds it: refused before anything */
  if (reset && (gpu->current != (gboolean) enabled || gpu->pending != (gboolean) enabled) &&
      !gv_mig_check_reset (daemon->host, device, &local))
    return bus_error_set (error, local);
  op = op_new (daemon, m, OP_MODE, device->fn->bdf, timeout_ms);
  op->enabled = enabled;
  op->reset = reset;
  if (persist) {
    op->persist = bus_persist_new (daemon);
    bus_persist_mig_mode (op->persist, op->bdf, enabled);
  }
  vendor = g_strdup_printf ("%04x", device->fn->vendor_id);
  model = g_strdup_printf ("%04x", device->fn->device_id);
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, op->bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL,
                              model, GPUVIRT_DETAIL_MIG_MODE, enabled ? "on" : "off", NULL };
    return run (daemon, m, op, details, error);
  }
}

/* No vGPU may run on a GPU whose instances change. */
static gboolean
no_vgpus (Daemon *daemon, GvHostDevice *device, GError **error)
{
  for (guint i = 0; device->fn->vfs && device->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (daemon->host, device->fn->vfs[i]);
    if (vf && vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type) {
      g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "%s carries vGPU type %u, which may run on a GPU instance: "
                   "remove the GPU's vGPUs first", vf->fn->bdf, vf->fn->vendor_vfio->current_type);
      return FALSE;
    }
  }
  {
    GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
    for (guint i = 0; i < mdevs->len; i++) {
      const GvHostMdev *md = mdevs->pdata[i];
      GvHostDevice *parent = gv_host_lookup (daemon->host, md->parent);
      if (parent && (parent == device || g_strcmp0 (parent->fn->physfn, device->fn->bdf) == 0)) {
        g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "mdev %s runs on %s: remove the GPU's vGPUs first", md->uuid,
                     md->parent);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static int
method_create (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *profile = NULL;
  guint32 count = 0, timeout_ms = 0;
  gboolean persist = FALSE, compute = TRUE;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_COMPUTE_INSTANCES, 'b', &compute },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  g_autofree char *count_text = NULL;
  g_autofree char *name = NULL;
  const GvMigProfile *p;
  GvHostDevice *device;
  GvMigGpu *gpu;
  MigOp *op;
  int r;

  r = sd_bus_message_read (m, "su", &profile, &count);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (count < 1 || count > 64)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "count must be 1 to 64, not %u", count);
  if (gv_error_has_control (profile) || strlen (profile) > 64) {
    g_autofree char *shown = gv_error_escape (profile);
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "“%s” is no GPU instance profile", shown);
  }
  gpu = gpu_of_call (daemon, m, &device, error);
  if (!gpu)
    return -EOPNOTSUPP;
  if (!gpu->current)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "MIG mode is off on %s%s: turn it on first",
                              device->fn->bdf, gpu->pending ? " (it is on after the next reset)" : "");
  p = gv_mig_gpu_find_profile (gpu, profile);
  if (!p) {
    g_autofree char *names = gv_mig_gpu_profile_names (gpu);
    g_autofree char *shown = gv_error_escape (profile);
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_TYPE, "%s (%s) has no GPU instance profile “%s”; its "
                              "profiles: %s", device->fn->bdf, gpu->name, shown, names);
  }
  if (!no_vgpus (daemon, device, &local))
    return bus_error_set (error, local);
  op = op_new (daemon, m, OP_CREATE, device->fn->bdf, timeout_ms);
  op->profile = g_strdup (p->name);
  op->count = count;
  op->compute = compute;
  if (persist) {
    /* checked with the layout it should give; recorded as it is then */
    g_autofree char *now = layout_of (gpu);
    g_autofree char *want = g_strdup_printf ("%s%s%s:%u", now, *now ? ";" : "", p->name, count);
    op->persist = bus_persist_new (daemon);
    bus_persist_mig_profiles (op->persist, op->bdf, want);
  }
  vendor = g_strdup_printf ("%04x", device->fn->vendor_id);
  model = g_strdup_printf ("%04x", device->fn->device_id);
  count_text = g_strdup_printf ("%u", count);
  name = g_strdup (p->name);
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, op->bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL,
                              model, GPUVIRT_DETAIL_PROFILE, name, GPUVIRT_DETAIL_COUNT, count_text, NULL };
    return run (daemon, m, op, details, error);
  }
}

static int
method_destroy (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const guint32 *ids = NULL;
  size_t size = 0;
  guint32 timeout_ms = 0;
  gboolean persist = FALSE;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) which = g_string_new (NULL);
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  GvHostDevice *device;
  GvMigGpu *gpu;
  MigOp *op;
  int r;

  r = sd_bus_message_read_array (m, 'u', (const void **) &ids, &size);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  gpu = gpu_of_call (daemon, m, &device, error);
  if (!gpu)
    return -EOPNOTSUPP;
  if (!gpu->current)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "MIG mode is off on %s: it has no GPU instances",
                              device->fn->bdf);
  for (size_t i = 0; i < size / sizeof (guint32); i++) {
    gboolean found = FALSE;
    for (guint j = 0; j < gpu->instances->len; j++)
      found |= ((GvMigInstance *) gpu->instances->pdata[j])->id == ids[i];
    if (!found)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s has no GPU instance %u (GpuInstances "
                                "lists them)", device->fn->bdf, ids[i]);
    g_string_append_printf (which, "%s%u", which->len ? " " : "", ids[i]);
  }
  if (!no_vgpus (daemon, device, &local))
    return bus_error_set (error, local);
  op = op_new (daemon, m, OP_DESTROY, device->fn->bdf, timeout_ms);
  g_array_append_vals (op->ids, ids, (guint) (size / sizeof (guint32)));
  if (persist) {
    GPtrArray *kept = g_ptr_array_new ();
    g_autofree char *want = NULL;
    /* the layout without the instances named */
    GvMigGpu view = *gpu;
    for (guint j = 0; j < gpu->instances->len; j++) {
      GvMigInstance *in = gpu->instances->pdata[j];
      gboolean named = op->ids->len == 0;
      for (guint i = 0; i < op->ids->len; i++)
        named |= g_array_index (op->ids, guint32, i) == in->id;
      if (!named)
        g_ptr_array_add (kept, in);
    }
    view.instances = kept;
    want = layout_of (&view);
    g_ptr_array_unref (kept);
    op->persist = bus_persist_new (daemon);
    bus_persist_mig_profiles (op->persist, op->bdf, want);
  }
  vendor = g_strdup_printf ("%04x", device->fn->vendor_id);
  model = g_strdup_printf ("%04x", device->fn->device_id);
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, op->bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL,
                              model, GPUVIRT_DETAIL_INSTANCES, which->len ? which->str : "all", NULL };
    return run (daemon, m, op, details, error);
  }
}

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

static const sd_bus_vtable mig_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("Mode", "b", get_mode, 0, EMITS),
  SD_BUS_PROPERTY ("PendingMode", "b", get_pending_mode, 0, EMITS),
  SD_BUS_PROPERTY ("Profiles", "a(suuuuta{sv})", get_profiles, 0, EMITS),
  SD_BUS_PROPERTY ("GpuInstances", "a(uusuua(uuuu))", get_gpu_instances, 0, EMITS),
  SD_BUS_METHOD_WITH_ARGS ("SetMode", SD_BUS_ARGS ("b", enabled, "a{sv}", options),
                           SD_BUS_RESULT ("b", current, "s", message), method_set_mode, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CreateGpuInstances", SD_BUS_ARGS ("s", profile, "u", count, "a{sv}", options),
                           SD_BUS_RESULT ("au", ids), method_create, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("DestroyGpuInstances", SD_BUS_ARGS ("au", ids, "a{sv}", options), SD_BUS_NO_RESULT,
                           method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

const sd_bus_vtable *
bus_mig_vtable (void)
{
  return mig_vtable;
}

static int
find_mig (sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, sd_bus_error *error)
{
  if (!mig_at (userdata, path))
    return 0;
  *found = userdata;
  return 1;
}

/* A Mig method on a device without MIG: why not, instead of "unknown
 * interface". */
static int
filter (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Daemon *daemon = userdata;
  const char *path = sd_bus_message_get_path (m);
  g_autofree char *bdf = NULL;
  GvHostDevice *device;

  if (!sd_bus_message_is_method_call (m, GPUVIRT_MIG_IFACE, NULL) || !path)
    return 0;
  bdf = bus_device_path_to_bdf (path);
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device || daemon_mig_lookup (daemon, bdf))
    return 0;
  if (!daemon->nvml)
    sd_bus_reply_method_errorf (m, GPUVIRT_ERROR_NOT_SUPPORTED, "%s", daemon->mig_status);
  else
    sd_bus_reply_method_errorf (m, GPUVIRT_ERROR_NOT_SUPPORTED, "%s has no MIG (NVML%s)", bdf,
                                g_strcmp0 (device->fn->driver, "nvidia") == 0 ? "" : " sees only GPUs on the nvidia "
                                "driver");
  return 1;
}

int
bus_mig_register (Daemon *daemon)
{
  int r = sd_bus_add_fallback_vtable (daemon->bus, NULL, GPUVIRT_DEVICES_PATH, GPUVIRT_MIG_IFACE, mig_vtable,
                                      find_mig, daemon);
  return r < 0 ? r : sd_bus_add_filter (daemon->bus, NULL, filter, daemon);
}
