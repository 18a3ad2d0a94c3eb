/* What the passthrough engine reads afresh from sysfs before and after
 * each write (the host model is a snapshot). */
#include "passthrough/internal.h"
#include "sysfs/read.h"

#include <string.h>

gboolean
gv_passthrough_driver_name_is_valid (const char *name)
{
  if (!name || !*name || g_str_equal (name, ".") || g_str_equal (name, "..") || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

gboolean
gv_passthrough_driver_exists (const char *root, const char *name)
{
  g_autofree char *dir = NULL;

  if (!gv_passthrough_driver_name_is_valid (name))
    return FALSE;
  dir = g_build_filename (root, "sys", "bus", "pci", "drivers", name, NULL);
  return g_file_test (dir, G_FILE_TEST_IS_DIR);
}

gboolean
gv_passthrough_read_function (const char *root, const char *bdf, char **driver, char **override)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", bdf, NULL);
  g_autofree char *drv = NULL;
  g_autofree char *ovr = NULL;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return FALSE;
  drv = gv_sysfs_read_link_name (dir, "driver");
  ovr = gv_sysfs_read_attr (dir, "driver_override");
  if (ovr && g_str_equal (ovr, "(null)"))
    g_clear_pointer (&ovr, g_free);
  if (driver)
    *driver = drv ? g_steal_pointer (&drv) : g_strdup ("");
  if (override)
    *override = ovr ? g_steal_pointer (&ovr) : g_strdup ("");
  return TRUE;
}

gboolean
gv_passthrough_is_display (const char *root, const char *bdf)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", bdf, NULL);
  g_autofree char *cls = gv_sysfs_read_attr (dir, "class");

  return cls && (g_ascii_strtoull (cls, NULL, 16) >> 16) == 0x03;
}

const char *
gv_passthrough_op_to_string (GvPassthroughOp operation)
{
  switch (operation) {
  case GV_PASSTHROUGH_BIND_VFIO: return "bind-vfio";
  case GV_PASSTHROUGH_GIVE_BACK: return "give-back";
  case GV_PASSTHROUGH_UNBIND: return "unbind";
  default: return "unknown";
  }
}
