/* Kernel uevents for PCI functions and mdevs: a change behind the
 * daemon's back (a plain echo into sysfs) is re-read and announced. A
 * burst of events (enabling 32 VFs) is gathered into one refresh.
 *
 * What comes: "pci" for a function added, removed, bound or unbound (and
 * a PF's change when its VFs are enabled or disabled); "mdev" for an mdev
 * made or removed; "vfio-dev" when a function becomes or stops being a
 * VFIO device (vfio-pci, or a vendor-VFIO VF given or freed of its vGPU
 * type), for its PCI parent. A VF's current_vgpu_type written directly
 * sends nothing but that vfio-dev event; the files that change with no
 * event at all are read again when a client reads them (bus/fresh.c). */
#include "daemon/daemon.h"

#include <errno.h>

#define FLUSH_DELAY_USEC (50 * 1000)

static int
on_flush (sd_event_source *source, uint64_t usec, void *userdata)
{
  Daemon *daemon = userdata;
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer key;
  gboolean mdevs = daemon->uevent_mdevs;

  g_hash_table_iter_init (&iter, daemon->uevent_bdfs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (bdfs, g_strdup (key));
  g_ptr_array_add (bdfs, NULL);
  g_hash_table_remove_all (daemon->uevent_bdfs);
  daemon->uevent_mdevs = FALSE;
  if (!daemon_refresh_functions (daemon, (const char *const *) bdfs->pdata, mdevs, &error))
    g_warning ("Could not re-read the host after a uevent, ignoring: %s", error->message);
  return 0;
}

static int
on_uevent (sd_device_monitor *monitor, sd_device *device, void *userdata)
{
  Daemon *daemon = userdata;
  const char *subsystem = NULL, *sysname = NULL;
  uint64_t now;
  int r;

  if (sd_device_get_subsystem (device, &subsystem) < 0 || sd_device_get_sysname (device, &sysname) < 0)
    return 0;
  if (g_str_equal (subsystem, "pci")) {
    g_hash_table_add (daemon->uevent_bdfs, g_strdup (sysname));
  } else if (g_str_equal (subsystem, "mdev")) {
    daemon->uevent_mdevs = TRUE;
  } else if (g_str_equal (subsystem, "vfio-dev")) {
    /* vfio-dev/vfioN of a PCI function, or of an mdev */
    sd_device *parent = NULL;
    const char *parent_subsystem = NULL, *bdf = NULL;
    if (sd_device_get_parent (device, &parent) >= 0 && sd_device_get_subsystem (parent, &parent_subsystem) >= 0 &&
        g_str_equal (parent_subsystem, "pci") && sd_device_get_sysname (parent, &bdf) >= 0)
      g_hash_table_add (daemon->uevent_bdfs, g_strdup (bdf));
    else
      daemon->uevent_mdevs = TRUE;
  } else {
    return 0;
  }

  if (daemon->uevent_flush) {
    int enabled = SD_EVENT_OFF;
    if (sd_event_source_get_enabled (daemon->uevent_flush, &enabled) >= 0 && enabled != SD_EVENT_OFF)
      return 0;
  }
  r = sd_event_now (daemon->event, CLOCK_MONOTONIC, &now);
  if (r < 0)
    return 0;
  if (daemon->uevent_flush) {
    sd_event_source_set_time (daemon->uevent_flush, now + FLUSH_DELAY_USEC);
    sd_event_source_set_enabled (daemon->uevent_flush, SD_EVENT_ONESHOT);
  } else {
    r = sd_event_add_time (daemon->event, &daemon->uevent_flush, CLOCK_MONOTONIC, now + FLUSH_DELAY_USEC, 0,
                           on_flush, daemon);
    if (r < 0)
      g_warning ("Could not schedule a refresh after a uevent, ignoring: %s", g_strerror (-r));
  }
  return 0;
}

int
daemon_uevents_start (Daemon *daemon)
{
  int r;

  r = sd_device_monitor_new (&daemon->monitor);
  if (r >= 0)
    r = sd_device_monitor_filter_add_match_subsystem_devtype (daemon->monitor, "pci", NULL);
  if (r >= 0)
    r = sd_device_monitor_filter_add_match_subsystem_devtype (daemon->monitor, "mdev", NULL);
  if (r >= 0)
    r = sd_device_monitor_filter_add_match_subsystem_devtype (daemon->monitor, "vfio-dev", NULL);
  if (r >= 0)
    r = sd_device_monitor_attach_event (daemon->monitor, daemon->event);
  if (r >= 0)
    r = sd_device_monitor_start (daemon->monitor, on_uevent, daemon);
  return r;
}
