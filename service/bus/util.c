/* Helpers shared by the bus objects. */
#include "bus/util.h"
#include "host/bdf.h"
#include "bus/paths.h"

int
bus_append_device_paths (sd_bus_message *reply, const char *const *bdfs, guint n)
{
  int r = sd_bus_message_open_container (reply, 'a', "o");

  for (guint i = 0; r >= 0 && i < n && bdfs && bdfs[i]; i++) {
    g_autofree char *path = gpuvirt_device_path (bdfs[i]);
    r = sd_bus_message_append (reply, "o", path);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

int
bus_append_device_path_or_root (sd_bus_message *reply, const char *bdf)
{
  g_autofree char *path = bdf && *bdf ? gpuvirt_device_path (bdf) : g_strdup ("/");
  return sd_bus_message_append (reply, "o", path);
}

char *
bus_resolve_device_argument (const char *text, sd_bus_error *error)
{
  char *bdf;

  if (g_str_has_prefix (text, "/")) {
    bdf = gpuvirt_device_path_to_bdf (text);
    if (!bdf)
      sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                         "'%s' is not a device object path (expected /org/gpuvirt/devices/pci_0000_01_00_0)", text);
    return bdf;
  }
  bdf = gv_host_bdf_normalize (text);
  if (!bdf)
    sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS,
                       "'%s' is not a PCI address (expected 0000:01:00.0 or 01:00.0)", text);
  return bdf;
}
