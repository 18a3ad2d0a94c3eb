/* Helpers shared by the bus objects. */
#include "bus/util.h"
#include "host/bdf.h"
#include "bus/paths.h"
#include "common/gv-error.h"
#include "gpuvirt-names.h"

#include <errno.h>

int
bus_append_device_paths (sd_bus_message *reply, const char *const *bdfs, guint n)
{
  int r = sd_bus_message_open_container (reply, 'a', "o");

  for (guint i = 0; r >= 0 && i < n && bdfs && bdfs[i]; i++) {
    g_autofree char *path = bus_device_path (bdfs[i]);
    r = sd_bus_message_append (reply, "o", path);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

int
bus_append_device_path_or_root (sd_bus_message *reply, const char *bdf)
{
  g_autofree char *path = bdf && *bdf ? bus_device_path (bdf) : g_strdup ("/");
  return sd_bus_message_append (reply, "o", path);
}

char *
bus_resolve_device_argument (const char *text, sd_bus_error *error)
{
  char *bdf;

  if (g_str_has_prefix (text, "/")) {
    bdf = bus_device_path_to_bdf (text);
    if (!bdf) {
      g_autofree char *shown = gv_error_escape (text);
      sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                         "'%s' is not a device object path (expected /org/gpuvirt/devices/pci_0000_01_00_0)", shown);
    }
    return bdf;
  }
  bdf = gv_host_bdf_normalize (text);
  if (!bdf) {
    g_autofree char *shown = gv_error_escape (text);
    sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                       "'%s' is not a PCI address (expected 0000:01:00.0 or 01:00.0)", shown);
  }
  return bdf;
}

int
bus_error_set (sd_bus_error *error, const GError *gerror)
{
  int r = sd_bus_error_set (error, gv_error_name (gerror), gerror->message);
  return r < 0 ? r : -EINVAL;
}

GvHostDevice *
bus_device_of_call (Daemon *daemon, sd_bus_message *m, sd_bus_error *error)
{
  g_autofree char *bdf = bus_device_path_to_bdf (sd_bus_message_get_path (m));
  GvHostDevice *device = bdf ? gv_host_lookup (daemon->host, bdf) : NULL;

  if (!device) {
    sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", sd_bus_message_get_path (m));
    return NULL;
  }
  if (!device->managed) {
    sd_bus_error_setf (error, GPUVIRT_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages", bdf);
    return NULL;
  }
  return device;
}
