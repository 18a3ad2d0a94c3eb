/* SetNumVfs on org.gpuvirt.Sriov: validate input -> check state (busy, VFs
 * in use) -> polkit -> act in a worker thread (N -> 0 -> M, each write
 * bounded, the old count restored when the new one fails) -> re-read the
 * PF and its old and new VFs, so that InterfacesAdded/Removed go out ->
 * reply with the VFs' objects. Results come back through
 * daemon->sriov_queue. */
#include "bus-sriov.h"
#include "audit.h"
#include "bus-options.h"
#include "bus-paths.h"
#include "bus-util.h"
#include "gpuvirt-names.h"
#include "host-util.h"
#include "pt-internal.h"

#include <errno.h>
#include <string.h>

typedef enum { SRIOV_ITEM_DONE, SRIOV_ITEM_LATE } SriovItemKind;

typedef struct {
  Daemon *daemon;
  sd_bus_message *request;
  char *root;
  char *pf;
  guint old_count, count;
  guint timeout_ms;
  GStrv busy_bdfs;        /* what this operation marked busy */
  /* set by the worker */
  GStrv new_vfs;
  char *error_name;
  char *error_message;
  gboolean stuck;
} SriovOp;

typedef struct {
  SriovItemKind kind;
  SriovOp *op;            /* DONE */
  Daemon *daemon;         /* LATE */
  char *pf;
  int result;
} SriovItem;

static void
sriov_op_free (SriovOp *op)
{
  sd_bus_message_unref (op->request);
  g_free (op->root);
  g_free (op->pf);
  g_strfreev (op->busy_bdfs);
  g_strfreev (op->new_vfs);
  g_free (op->error_name);
  g_free (op->error_message);
  g_free (op);
}

/* ---- worker side ---- */

typedef struct {
  Daemon *daemon;
  char *pf;
} LateData;

static void
late_data_free (gpointer p)
{
  LateData *late = p;
  g_free (late->pf);
  g_free (late);
}

/* A write that outlived its timeout returned: the PF leaves Busy. */
static void
on_late (int result, guint waited_ms, gpointer data)
{
  LateData *late = data;
  SriovItem *item = g_new0 (SriovItem, 1);

  item->kind = SRIOV_ITEM_LATE;
  item->daemon = late->daemon;
  item->pf = g_strdup (late->pf);
  item->result = result;
  main_queue_push (late->daemon->sriov_queue, item);
}

static guint
read_numvfs (const char *root, const char *pf)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", pf, NULL);
  g_autofree char *text = gv_read_attr (dir, "sriov_numvfs");
  return text ? (guint) g_ascii_strtoull (text, NULL, 10) : 0;
}

static GStrv
read_vfs (const char *root, const char *pf, guint count)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", pf, NULL);
  GPtrArray *vfs = g_ptr_array_new ();

  for (guint i = 0; i < count; i++) {
    g_autofree char *name = g_strdup_printf ("virtfn%u", i);
    char *bdf = gv_read_link_name (dir, name);
    if (bdf)
      g_ptr_array_add (vfs, bdf);
  }
  g_ptr_array_add (vfs, NULL);
  return (GStrv) g_ptr_array_free (vfs, FALSE);
}

/* One write of sriov_numvfs. FALSE with op's error set on failure. */
static gboolean
write_numvfs (SriovOp *op, guint value, const char *step)
{
  g_autofree char *rel = g_build_filename ("sys", "bus", "pci", "devices", op->pf, "sriov_numvfs", NULL);
  g_autofree char *data = g_strdup_printf ("%u", value);
  LateData *late = g_new0 (LateData, 1);
  int result = 0;

  late->daemon = op->daemon;
  late->pf = g_strdup (op->pf);
  if (pt_sysfs_write (op->root, rel, data, op->timeout_ms, &result, on_late, late, late_data_free) ==
      PT_WRITE_TIMEOUT) {
    op->stuck = TRUE;
    op->error_name = g_strdup (GPUVIRT_ERROR_STUCK);
    op->error_message = g_strdup_printf ("%s: writing %s to %s/%s did not return within %u ms; %s stays busy until it "
                                         "does", step, data, op->root, rel, op->timeout_ms, op->pf);
    return FALSE;
  }
  if (result < 0) {
    g_autofree char *err = pt_errno_text (-result);
    /* no PF driver, or one without sriov_configure */
    op->error_name = g_strdup (result == -ENOENT ? GPUVIRT_ERROR_NOT_SUPPORTED : GPUVIRT_ERROR_KERNEL);
    op->error_message = g_strdup_printf ("%s: writing %s to %s/%s failed: %s%s", step, data, op->root, rel, err,
                                         result == -ENOENT ? " (the PF's driver cannot configure SR-IOV)" : "");
    return FALSE;
  }
  return TRUE;
}

static void
append_end_state (SriovOp *op)
{
  g_autofree char *old = op->error_message;
  op->error_message = g_strdup_printf ("%s; NumVfs of %s is now %u", old, op->pf, read_numvfs (op->root, op->pf));
}

static gpointer
sriov_thread (gpointer data)
{
  SriovOp *op = data;
  SriovItem *item = g_new0 (SriovItem, 1);
  gboolean ok = TRUE;

  if (op->old_count > 0)
    ok = write_numvfs (op, 0, op->count > 0 ? "disabling the VFs before setting the new count" : "disabling the VFs");
  if (ok && op->count > 0) {
    g_autofree char *step = g_strdup_printf ("enabling %u VFs", op->count);
    ok = write_numvfs (op, op->count, step);
    /* put back what was there */
    if (!ok && !op->stuck && op->old_count > 0) {
      g_autofree char *first_name = g_steal_pointer (&op->error_name);
      g_autofree char *first_message = g_steal_pointer (&op->error_message);
      g_autofree char *restore = g_strdup_printf ("restoring %u VFs", op->old_count);
      if (write_numvfs (op, op->old_count, restore)) {
        op->error_name = g_steal_pointer (&first_name);
        op->error_message = g_strdup_printf ("%s; the previous %u VFs were restored", first_message, op->old_count);
      } else if (!op->stuck) {
        g_autofree char *second = g_steal_pointer (&op->error_message);
        op->error_message = g_strdup_printf ("%s; then %s", first_message, second);
      }
    }
  }
  if (!ok && !op->stuck)
    append_end_state (op);
  if (!op->stuck)
    op->new_vfs = read_vfs (op->root, op->pf, read_numvfs (op->root, op->pf));
  item->kind = SRIOV_ITEM_DONE;
  item->op = op;
  main_queue_push (op->daemon->sriov_queue, item);
  return NULL;
}

/* ---- main loop side ---- */

static void
refresh (Daemon *daemon, const char *pf, const char *const *old_vfs, const char *const *new_vfs)
{
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (bdfs, (gpointer) pf);
  for (guint i = 0; old_vfs && old_vfs[i]; i++)
    g_ptr_array_add (bdfs, (gpointer) old_vfs[i]);
  for (guint i = 0; new_vfs && new_vfs[i]; i++)
    if (!old_vfs || !g_strv_contains (old_vfs, new_vfs[i]))
      g_ptr_array_add (bdfs, (gpointer) new_vfs[i]);
  g_ptr_array_add (bdfs, NULL);
  if (daemon_refresh_functions (daemon, (const char *const *) bdfs->pdata, TRUE, &error) < 0)
    g_warning ("Could not re-read %s and its VFs, ignoring: %s", pf, error->message);
}

static void
finish (SriovOp *op)
{
  Daemon *daemon = op->daemon;
  GvDevice *pf;
  g_autofree char *summary = NULL;
  char *functions[] = { op->pf, NULL };
  int r;

  /* a stuck write keeps the PF busy until it returns (see on_late) */
  for (guint i = 0; op->busy_bdfs[i]; i++)
    if (!op->stuck || !g_str_equal (op->busy_bdfs[i], op->pf))
      g_hash_table_remove (daemon->busy, op->busy_bdfs[i]);
  if (op->stuck) {
    g_hash_table_insert (daemon->busy, g_strdup (op->pf), daemon);
  }
  refresh (daemon, op->pf, (const char *const *) op->busy_bdfs, (const char *const *) op->new_vfs);

  pf = gv_host_lookup (daemon->host, op->pf);
  summary = g_strdup_printf ("%s: %u VFs before, %u asked, %u now", op->pf, op->old_count, op->count,
                             pf ? pf->fn->sriov_numvfs : 0);
  audit_log_operation (op->request, "set-num-vfs", functions, op->error_message, summary);

  if (op->error_name) {
    r = sd_bus_reply_method_errorf (op->request, op->error_name, "%s", op->error_message);
  } else {
    sd_bus_message *reply = NULL;
    r = sd_bus_message_new_method_return (op->request, &reply);
    if (r >= 0)
      r = bus_append_device_paths (reply, pf ? (const char *const *) pf->fn->vfs : NULL, G_MAXUINT);
    if (r >= 0)
      r = sd_bus_send (NULL, reply, NULL);
    sd_bus_message_unref (reply);
  }
  if (r < 0)
    g_warning ("Could not reply to SetNumVfs on %s: %s", op->pf, g_strerror (-r));
  sriov_op_free (op);
}

void
bus_sriov_queue_item (gpointer data, gpointer user_data)
{
  SriovItem *item = data;

  if (item->kind == SRIOV_ITEM_DONE) {
    finish (item->op);
  } else {
    GvDevice *pf = gv_host_lookup (item->daemon->host, item->pf);
    g_auto (GStrv) old = pf && pf->fn->vfs ? g_strdupv (pf->fn->vfs) : NULL;
    g_auto (GStrv) now = read_vfs (item->daemon->root, item->pf, read_numvfs (item->daemon->root, item->pf));
    if (item->result < 0) {
      g_autofree char *err = pt_errno_text (-item->result);
      g_warning ("The stuck write to sriov_numvfs of %s returned at last: %s", item->pf, err);
    }
    g_hash_table_remove (item->daemon->busy, item->pf);
    refresh (item->daemon, item->pf, (const char *const *) old, (const char *const *) now);
  }
  g_free (item->pf);
  g_free (item);
}

/* ---- the method ---- */

/* "0000:81:00.4 carries vGPU type 1155" etc., for each VF that would go
 * and is in use; NULL when none is. */
static char *
vfs_in_use (Daemon *daemon, GvPciFunction *pf, sd_bus_error *error)
{
  GString *users = g_string_new (NULL);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  for (guint i = 0; pf->vfs && pf->vfs[i]; i++) {
    const char *bdf = pf->vfs[i];
    GvDevice *vf = gv_host_lookup (daemon->host, bdf);

    if (!vf)
      continue;
    if (vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type != 0)
      g_string_append_printf (users, "%s%s carries vGPU type %u", users->len ? "; " : "", bdf,
                              vf->fn->vendor_vfio->current_type);
    for (guint j = 0; mdevs && j < mdevs->len; j++) {
      GvMdev *mdev = mdevs->pdata[j];
      if (g_strcmp0 (mdev->parent, bdf) == 0)
        g_string_append_printf (users, "%s%s hosts mdev %s", users->len ? "; " : "", bdf, mdev->uuid);
    }
    if (gv_driver_is_vfio (vf->fn->driver) || vf->fn->vendor_vfio) {
      g_autoptr (GError) local = NULL;
      g_autoptr (GPtrArray) holders = gv_host_get_holders (daemon->host, bdf, &local);
      if (!holders) {
        g_string_free (users, TRUE);
        sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not find who holds %s: %s", bdf, local->message);
        return NULL;
      }
      for (guint j = 0; j < holders->len; j++) {
        GvHolder *holder = holders->pdata[j];
        if (g_str_has_prefix (holder->node, "/dev/vfio"))
          g_string_append_printf (users, "%s%s is open by %s (pid %d) through %s", users->len ? "; " : "", bdf,
                                  *holder->comm ? holder->comm : "?", holder->pid, holder->node);
      }
    }
  }
  if (users->len == 0) {
    g_string_free (users, TRUE);
    return g_strdup ("");
  }
  return g_string_free (users, FALSE);
}

int
bus_sriov_set_num_vfs (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *bdf = gpuvirt_device_path_to_bdf (sd_bus_message_get_path (m));
  gboolean force = FALSE, persist = FALSE;
  guint32 count = 0, timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_FORCE, 'b', &force },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autofree char *users = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  g_autofree char *count_text = NULL;
  GvDevice *device;
  GvPciFunction *fn;
  SriovOp *op;
  GPtrArray *busy;
  GThread *thread;
  int r;

  /* validate */
  r = sd_bus_message_read (m, "u", &count);
  if (r < 0)
    return r;
  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
  fn = device->fn;
  if (!fn->sriov_capable || fn->sriov_totalvfs == 0 || gv_pci_function_is_vf (fn))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "%s does not support SR-IOV (no sriov_totalvfs)", bdf);
  if (!device->managed)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages", bdf);
  if (count > fn->sriov_totalvfs)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "%s supports at most %u VFs (TotalVfs), not %u", bdf,
                              fn->sriov_totalvfs, count);
  if (force)
    return sd_bus_error_set (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                             "force cannot apply to SetNumVfs: the kernel blocks disabling VFs while they are in use; "
                             "free the VFs first");
  if (persist)
    return sd_bus_error_set (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                             "The persist option needs the configuration support, which this gpuvirtd lacks");
  if (daemon->read_only)
    return sd_bus_error_set (error, GPUVIRT_ERROR_NOT_SUPPORTED, "gpuvirtd runs with --read-only: nothing may change");

  /* check state */
  busy = g_ptr_array_new ();
  g_ptr_array_add (busy, g_strdup (bdf));
  for (guint i = 0; fn->vfs && fn->vfs[i]; i++)
    g_ptr_array_add (busy, g_strdup (fn->vfs[i]));
  g_ptr_array_add (busy, NULL);
  for (guint i = 0; busy->pdata[i]; i++)
    if (g_hash_table_contains (daemon->busy, busy->pdata[i])) {
      r = sd_bus_error_setf (error, GPUVIRT_ERROR_BUSY,
                             "%s is being changed by another request; try again when it is done",
                             (char *) busy->pdata[i]);
      g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
      return r;
    }
  if (count == fn->sriov_numvfs) {
    /* nothing to do: the current VFs */
    sd_bus_message *reply = NULL;
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    r = sd_bus_message_new_method_return (m, &reply);
    if (r >= 0)
      r = bus_append_device_paths (reply, (const char *const *) fn->vfs, G_MAXUINT);
    if (r >= 0)
      r = sd_bus_send (NULL, reply, NULL);
    sd_bus_message_unref (reply);
    return r < 0 ? r : 1;
  }
  if (fn->sriov_numvfs > 0) {
    /* every VF goes, at least for a moment */
    users = vfs_in_use (daemon, fn, error);
    if (!users || *users) {
      g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
      if (!users)
        return -EIO;
      return sd_bus_error_setf (error, GPUVIRT_ERROR_IN_USE, "The VFs of %s cannot go while in use: %s", bdf, users);
    }
  }
  if (!fn->driver || !*fn->driver) {
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                              "%s has no driver: the kernel changes VFs only through the PF's driver", bdf);
  }

  /* polkit */
  vendor = g_strdup_printf ("%04x", fn->vendor_id);
  model = g_strdup_printf ("%04x", fn->device_id);
  count_text = g_strdup_printf ("%u", count);
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL, model,
                              GPUVIRT_DETAIL_COUNT, count_text, NULL };
    r = gpuvirt_polkit_check (daemon->polkit, m, GPUVIRT_ACTION_SRIOV, details, error);
  }
  if (r <= 0) {
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    return r < 0 ? r : 1;
  }

  /* act */
  op = g_new0 (SriovOp, 1);
  op->daemon = daemon;
  op->request = sd_bus_message_ref (m);
  op->root = g_strdup (daemon->root);
  op->pf = g_strdup (bdf);
  op->old_count = fn->sriov_numvfs;
  op->count = count;
  op->timeout_ms = timeout_ms ? timeout_ms : PT_DEFAULT_TIMEOUT_MS;
  op->busy_bdfs = (GStrv) g_ptr_array_free (busy, FALSE);
  for (guint i = 0; op->busy_bdfs[i]; i++)
    g_hash_table_insert (daemon->busy, g_strdup (op->busy_bdfs[i]), op);
  thread = g_thread_new ("gpuvirt-sriov", sriov_thread, op);
  g_thread_unref (thread);
  return 1;
}

/* ---- SetNumVfs where there is no org.gpuvirt.Sriov ---- */

static int
filter (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Daemon *daemon = userdata;
  const char *path = sd_bus_message_get_path (m);
  g_autofree char *bdf = NULL;
  GvDevice *device;

  if (!sd_bus_message_is_method_call (m, GPUVIRT_SRIOV_IFACE, "SetNumVfs") || !path)
    return 0;
  bdf = gpuvirt_device_path_to_bdf (path);
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device || (daemon_device_interfaces (device) & GPUVIRT_IFACE_SRIOV))
    return 0;
  sd_bus_reply_method_errorf (m, GPUVIRT_ERROR_NOT_SUPPORTED, "%s does not support SR-IOV (no sriov_totalvfs)%s",
                              bdf, gv_pci_function_is_vf (device->fn) ? ": it is a VF itself" : "");
  return 1;
}

int
bus_sriov_register (Daemon *daemon)
{
  return sd_bus_add_filter (daemon->bus, NULL, filter, daemon);
}
