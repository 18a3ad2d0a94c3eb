/* The client does not parse addresses itself: Manager.GetDevice() is the
 * one place that decides what names a device, so the client and other
 * callers can never disagree. Paths are only turned back into names. */
#include "device-arg.h"

#include "error-hint.h"
#include "gpuvirt-names.h"

#include <stdio.h>
#include <string.h>

static gboolean
all_xdigits (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

char *
ctl_device_path_to_address (const char *path)
{
  const char *prefix = GPUVIRT_DEVICES_PATH "/" GPUVIRT_DEVICE_PATH_PREFIX;
  g_auto (GStrv) parts = NULL;

  if (!path || !g_str_has_prefix (path, prefix))
    return NULL;
  /* DDDD_BB_SS_F; domains may be wider than four digits (VMD) */
  parts = g_strsplit (path + strlen (prefix), "_", -1);
  if (g_strv_length (parts) != 4 || strlen (parts[0]) < 4 || strlen (parts[1]) != 2
      || strlen (parts[2]) != 2 || strlen (parts[3]) != 1)
    return NULL;
  for (int i = 0; i < 4; i++)
    if (!all_xdigits (parts[i], strlen (parts[i])))
      return NULL;
  return g_strdup_printf ("%s:%s:%s.%s", parts[0], parts[1], parts[2], parts[3]);
}

char *
ctl_mdev_path_to_uuid (const char *path)
{
  const char *prefix = GPUVIRT_MDEVS_PATH "/";
  char *uuid;

  if (!path || !g_str_has_prefix (path, prefix) || strlen (path) != strlen (prefix) + 36)
    return NULL;
  uuid = g_strdup (path + strlen (prefix));
  g_strdelimit (uuid, "_", '-');
  return uuid;
}

char *
ctl_object_name (const char *path)
{
  char *name;

  if (!path || g_str_equal (path, "/"))
    return NULL;
  name = ctl_device_path_to_address (path);
  if (!name)
    name = ctl_mdev_path_to_uuid (path);
  return name ? name : g_strdup (path);
}

char *
ctl_device_path_of_address (const char *arg)
{
  /* DDDD:BB:SS.F */
  static const char form[] = "xxxx:xx:xx.x";
  g_autofree char *name = NULL;

  if (strlen (arg) != sizeof form - 1)
    return NULL;
  for (gsize i = 0; form[i]; i++)
    if (form[i] == 'x' ? !(g_ascii_isdigit (arg[i]) || (arg[i] >= 'a' && arg[i] <= 'f')) : arg[i] != form[i])
      return NULL;
  name = g_strdup (arg);
  g_strdelimit (name, ":.", '_');
  return g_strconcat (GPUVIRT_DEVICES_PATH "/" GPUVIRT_DEVICE_PATH_PREFIX, name, NULL);
}

int
ctl_resolve_device (sd_bus *bus, const char *arg, char **ret_path)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  const char *path;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE,
                          "GetDevice", &error, &reply, "s", arg);
  if (r >= 0)
    r = sd_bus_message_read (reply, "o", &path);
  if (r >= 0)
    {
      *ret_path = g_strdup (path);
      return 0;
    }

  if (sd_bus_error_has_name (&error, GPUVIRT_ERROR_NO_SUCH_DEVICE))
    {
      /* TRANSLATORS: %s is what the user typed, e.g. 0b:00.0 */
      fprintf (stderr, _("No PCI function '%s' on this host.\n"), arg);
      ctl_print_hint (GPUVIRT_ERROR_NO_SUCH_DEVICE);
      return GV_EXIT_NO_SUCH;
    }
  if (sd_bus_error_has_name (&error, SD_BUS_ERROR_INVALID_ARGS))
    {
      fprintf (stderr, _("'%s' is not a PCI address or device object path: %s\n"), arg, error.message);
      fprintf (stderr, _("Hint: name a device as 0000:0b:00.0, 0b:00.0 or /org/gpuvirt/devices/pci_0000_0b_00_0.\n"));
      return GV_EXIT_USAGE;
    }
  return ctl_fail (&error, r, _("Could not look up the device"));
}
