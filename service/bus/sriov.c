/* SetNumVfs on org.gpuvirt.Sriov: validate input -> check state (busy, VFs
 * in use) -> polkit -> act in a worker thread (gv_vgpu_set_num_vfs: N ->
 * 0 -> M, each write bounded, the old count restored when the new one
 * fails) -> re-read the PF and its old and new VFs, so that
 * InterfacesAdded/Removed go out -> reply with the VFs' objects. The
 * worker and the reply run through bus-vgpu-op.c. */
#include "bus/sriov.h"
#include "bus/audit.h"
#include "bus/options.h"
#include "bus/paths.h"
#include "bus/persist.h"
#include "bus/util.h"
#include "gpuvirt-names.h"
#include "sysfs/read.h"
#include "bus/vgpu-check.h"
#include "bus/vgpu-op.h"

#include <errno.h>
#include <string.h>

static int
reply_vfs (VgpuOp *op)
{
  GvHostDevice *pf = gv_host_lookup (op->daemon->host, op->function);
  g_autoptr (sd_bus_message) reply = NULL;
  int r;

  r = sd_bus_message_new_method_return (op->request, &reply);
  if (r >= 0)
    r = bus_append_device_paths (reply, pf ? (const char *const *) pf->fn->vfs : NULL, G_MAXUINT);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

/* The persist option's edit, checked on the configuration; NULL with
 * ERROR set when it cannot be recorded. */
static BusPersist *
persist_edits (Daemon *daemon, const char *pf, guint count, sd_bus_error *error)
{
  g_autoptr (BusPersist) persist = bus_persist_new (daemon);

  bus_persist_num_vfs (persist, pf, count);
  if (bus_persist_check (persist, error) < 0)
    return NULL;
  return g_steal_pointer (&persist);
}

int
bus_sriov_set_num_vfs (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *bdf = gpuvirt_device_path_to_bdf (sd_bus_message_get_path (m));
  gboolean persist = FALSE;
  guint32 count = 0, timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autofree char *users = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  g_autofree char *count_text = NULL;
  g_autoptr (BusPersist) persisting = NULL;
  const char *actions[3];
  GvHostDevice *device;
  GvHostFunction *fn;
  VgpuOp *op;
  GPtrArray *busy;
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
  if (!fn->sriov_capable || fn->sriov_totalvfs == 0 || gv_host_function_is_vf (fn))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED, "%s does not support SR-IOV (no sriov_totalvfs)", bdf);
  if (!device->managed)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages", bdf);
  if (count > fn->sriov_totalvfs)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "%s supports at most %u VFs (TotalVfs), not %u", bdf,
                              fn->sriov_totalvfs, count);
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
  vendor = g_strdup_printf ("%04x", fn->vendor_id);
  model = g_strdup_printf ("%04x", fn->device_id);
  count_text = g_strdup_printf ("%u", count);
  if (count == fn->sriov_numvfs) {
    /* nothing to do on the device: the current VFs (and, to persist,
     * only the configuration written) */
    sd_bus_message *reply = NULL;
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    if (persist) {
      const char *details[] = { GPUVIRT_DETAIL_DEVICE, bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL, model,
                                GPUVIRT_DETAIL_COUNT, count_text, NULL };
      persisting = persist_edits (daemon, bdf, count, error);
      if (!persisting)
        return -EINVAL;
      r = gpuvirt_polkit_check_all (daemon->polkit, m, bus_persist_actions (NULL, TRUE, actions), details, error);
      if (r <= 0)
        return r < 0 ? r : 1;
      r = bus_persist_commit (persisting, NULL, TRUE, error);
      if (r < 0)
        return r;
    }
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
    g_autoptr (GError) local = NULL;
    users = vgpu_check_vfs_in_use (daemon, device, NULL, NULL, &local);
    if (!users || *users) {
      g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
      if (!users)
        return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not find who uses the VFs of %s: %s", bdf,
                                  local->message);
      return sd_bus_error_setf (error, GPUVIRT_ERROR_IN_USE, "The VFs of %s cannot go while in use: %s", bdf, users);
    }
  }
  if (!fn->driver || !*fn->driver) {
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_SUPPORTED,
                              "%s has no driver: the kernel changes VFs only through the PF's driver", bdf);
  }
  /* the configuration can take the count, or nothing changes */
  if (persist && !(persisting = persist_edits (daemon, bdf, count, error))) {
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    return -EINVAL;
  }

  /* polkit */
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL, model,
                              GPUVIRT_DETAIL_COUNT, count_text, NULL };
    r = gpuvirt_polkit_check_all (daemon->polkit, m, bus_persist_actions (GPUVIRT_ACTION_SRIOV, persist, actions),
                                  details, error);
  }
  if (r <= 0) {
    g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
    return r < 0 ? r : 1;
  }

  /* act */
  op = vgpu_op_new (daemon, m, VGPU_OP_SET_NUM_VFS, bdf, bdf, timeout_ms, reply_vfs);
  op->count = count;
  op->persist = g_steal_pointer (&persisting);
  vgpu_op_start (op, (const char *const *) busy->pdata);
  g_strfreev ((GStrv) g_ptr_array_free (busy, FALSE));
  return 1;
}

/* ---- SetNumVfs where there is no org.gpuvirt.Sriov ---- */

static int
filter (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Daemon *daemon = userdata;
  const char *path = sd_bus_message_get_path (m);
  g_autofree char *bdf = NULL;
  GvHostDevice *device;

  if (!sd_bus_message_is_method_call (m, GPUVIRT_SRIOV_IFACE, "SetNumVfs") || !path)
    return 0;
  bdf = gpuvirt_device_path_to_bdf (path);
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device || (daemon_device_interfaces (device) & GPUVIRT_IFACE_SRIOV))
    return 0;
  sd_bus_reply_method_errorf (m, GPUVIRT_ERROR_NOT_SUPPORTED, "%s does not support SR-IOV (no sriov_totalvfs)%s",
                              bdf, gv_host_function_is_vf (device->fn) ? ": it is a VF itself" : "");
  return 1;
}

int
bus_sriov_register (Daemon *daemon)
{
  return sd_bus_add_filter (daemon->bus, NULL, filter, daemon);
}
