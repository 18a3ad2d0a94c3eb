/* Object paths: the BDF with ':' and '.' as '_', so a path maps back to
 * its address without a table. */
#include "bus/paths.h"
#include "host/bdf.h"
#include "gpuvirt-names.h"

#include <stdio.h>
#include <string.h>

char *
bus_device_path (const char *bdf)
{
  g_autofree char *name = g_strdup (bdf);

  for (char *p = name; *p; p++)
    if (*p == ':' || *p == '.')
      *p = '_';
  return g_strdup_printf ("%s/pci_%s", GPUVIRT_DEVICES_PATH, name);
}

char *
bus_device_path_to_bdf (const char *path)
{
  const char *prefix = GPUVIRT_DEVICES_PATH "/pci_";
  g_autofree char *bdf = NULL;
  gsize n;

  /* the domain has 4 to 8 digits (more than 4 behind Intel VMD), so the
   * separators are found from the end: "dddd_bb_ss_f" */
  if (!g_str_has_prefix (path, prefix))
    return NULL;
  bdf = g_strdup (path + strlen (prefix));
  n = strlen (bdf);
  if (n < 12 || n > 16 || bdf[n - 8] != '_' || bdf[n - 5] != '_' || bdf[n - 2] != '_')
    return NULL;
  bdf[n - 8] = ':';
  bdf[n - 5] = ':';
  bdf[n - 2] = '.';
  return gv_host_bdf_normalize (bdf);
}

char *
bus_mdev_path (const char *uuid)
{
  g_autofree char *name = g_strdup (uuid);

  for (char *p = name; *p; p++)
    if (*p == '-')
      *p = '_';
  return g_strdup_printf ("%s/%s", GPUVIRT_MDEVS_PATH, name);
}

char *
bus_mdev_path_to_uuid (const char *path)
{
  const char *prefix = GPUVIRT_MDEVS_PATH "/";
  char *uuid;

  if (!g_str_has_prefix (path, prefix) || strlen (path) != strlen (prefix) + 36)
    return NULL;
  uuid = g_strdup (path + strlen (prefix));
  for (char *p = uuid; *p; p++)
    if (*p == '_')
      *p = '-';
  return uuid;
}
