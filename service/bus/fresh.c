/* vGPU files the kernel changes without a uevent: a VF's
 * nvidia/current_vgpu_type and creatable_vgpu_types written by another
 * tool, an mdev type's available_instances. Rather than poll (and wake
 * the daemon while idle), they are read again when a client reads them:
 * before a Get or GetAll of a device object, or a GetManagedObjects, the
 * GPU families concerned are re-read if they were last read more than
 * BUS_FRESH_USEC ago (bounded staleness, as the Holders cache does). A
 * change found is announced like any other. */
#include "bus/fresh.h"
#include "bus/paths.h"
#include "gpuvirt-names.h"
#include "vgpu/plan.h"

#include <string.h>

#define BUS_FRESH_USEC (1000 * 1000)

/* Re-reads DEVICE's GPU family (PF and VFs) unless it has no vGPU files,
 * was read recently, or is being changed (its operation reads it when it
 * ends; a sriov_numvfs write under way must not be waited for). */
static void
refresh_family (Daemon *daemon, GvHostDevice *device, gint64 now, GHashTable *parts)
{
  GvHostDevice *gpu = gv_vgpu_gpu_of (daemon->host, device);
  gint64 last;

  if (!gpu || gpu->framework == GV_HOST_FRAMEWORK_NONE)
    return;
  last = GPOINTER_TO_SIZE (g_hash_table_lookup (daemon->vgpu_read_at, gpu->fn->bdf));
  if (last && now - last < BUS_FRESH_USEC)
    return;
  if (g_hash_table_contains (daemon->busy, gpu->fn->bdf) || daemon_sriov_pending (daemon, gpu->fn->bdf))
    return;
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++)
    if (g_hash_table_contains (daemon->busy, gpu->fn->vfs[i]))
      return;
  g_hash_table_insert (daemon->vgpu_read_at, g_strdup (gpu->fn->bdf), GSIZE_TO_POINTER ((gsize) now));
  /* only the vGPU files: the rest comes with uevents */
  g_hash_table_insert (parts, g_strdup (gpu->fn->bdf), GUINT_TO_POINTER (GV_HOST_PART_VGPU));
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++)
    g_hash_table_insert (parts, g_strdup (gpu->fn->vfs[i]), GUINT_TO_POINTER (GV_HOST_PART_VGPU));
}

static int
filter (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Daemon *daemon = userdata;
  const char *path = sd_bus_message_get_path (m);
  g_autoptr (GHashTable) parts = NULL;
  g_autoptr (GError) error = NULL;
  gint64 now;

  if (!path || !sd_bus_message_is_method_call (m, NULL, NULL))
    return 0;
  now = g_get_monotonic_time ();
  parts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (sd_bus_message_is_method_call (m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")) {
    GPtrArray *devices = gv_host_get_devices (daemon->host);
    for (guint i = 0; i < devices->len; i++) {
      GvHostDevice *device = devices->pdata[i];
      if (device->framework != GV_HOST_FRAMEWORK_NONE && !gv_host_function_is_vf (device->fn))
        refresh_family (daemon, device, now, parts);
    }
  } else if (sd_bus_message_is_method_call (m, "org.freedesktop.DBus.Properties", "Get") ||
             sd_bus_message_is_method_call (m, "org.freedesktop.DBus.Properties", "GetAll")) {
    g_autofree char *bdf = bus_device_path_to_bdf (path);
    GvHostDevice *device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;
    if (device)
      refresh_family (daemon, device, now, parts);
  }
  if (g_hash_table_size (parts) == 0)
    return 0;
  if (!daemon_refresh_parts (daemon, parts, TRUE, &error))
    g_warning ("Could not re-read vGPU files before a read, ignoring: %s", error->message);
  return 0; /* the call itself is dispatched as usual */
}

int
bus_fresh_register (Daemon *daemon)
{
  return sd_bus_add_filter (daemon->bus, NULL, filter, daemon);
}
