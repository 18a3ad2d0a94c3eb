/* SetNumVfs on org.gpuvirt.Sriov: the vGPU engine plans it (N -> 0 -> M,
 * the old count restored when the new one fails), bus_vgpu_op_run() does
 * the rest (busy, VFs in use, polkit org.gpuvirt.configure-sriov, the
 * worker, the PF and its old and new VFs read again so that
 * InterfacesAdded/Removed go out), and the reply is the VFs' objects. */
#include "bus/sriov.h"
#include "bus/objects.h"
#include "bus/options.h"
#include "bus/paths.h"
#include "bus/persist.h"
#include "bus/util.h"
#include "bus/vgpu-op.h"
#include "gpuvirt-names.h"

#include <errno.h>

static int
reply_vfs (BusVgpuOp *op)
{
  GvHostDevice *pf = gv_host_lookup (op->daemon->host, op->plan->function);
  g_autoptr (sd_bus_message) reply = NULL;
  int r;

  r = sd_bus_message_new_method_return (op->request, &reply);
  if (r >= 0)
    r = bus_append_device_paths (reply, pf ? (const char *const *) pf->fn->vfs : NULL, G_MAXUINT);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

int
bus_sriov_set_num_vfs (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *bdf = bus_device_path_to_bdf (sd_bus_message_get_path (m));
  gboolean persist = FALSE;
  guint32 count = 0, timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
    { GPUVIRT_OPT_PERSIST, 'b', &persist },
  };
  g_autoptr (GError) local = NULL;
  g_autofree char *vendor = NULL;
  g_autofree char *model = NULL;
  g_autofree char *count_text = NULL;
  GvHostDevice *device;
  BusVgpuCall call = { .timeout_ms = 0, .reply = reply_vfs };
  int r;

  r = sd_bus_message_read (m, "u", &count);
  if (r >= 0)
    r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
  call.plan = gv_vgpu_plan_set_num_vfs (daemon->host, device, count, &local);
  if (!call.plan)
    return bus_error_set (error, local);
  if (persist) {
    call.persist = bus_persist_new (daemon);
    bus_persist_num_vfs (call.persist, bdf, count);
  }
  vendor = g_strdup_printf ("%04x", device->fn->vendor_id);
  model = g_strdup_printf ("%04x", device->fn->device_id);
  count_text = g_strdup_printf ("%u", count);
  {
    const char *details[] = { GPUVIRT_DETAIL_DEVICE, bdf, GPUVIRT_DETAIL_VENDOR, vendor, GPUVIRT_DETAIL_MODEL, model,
                              GPUVIRT_DETAIL_COUNT, count_text, NULL };
    call.details = details;
    call.timeout_ms = timeout_ms;
    return bus_vgpu_op_run (daemon, m, &call, error);
  }
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
  bdf = bus_device_path_to_bdf (path);
  device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
  if (!device || (device->fn->sriov_capable && !gv_host_function_is_vf (device->fn)))
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
