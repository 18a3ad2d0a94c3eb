/* config import driverctl: driverctl's overrides, ROOT/etc/driverctl.d/
 * pci-ADDRESS, each file's content the driver the function is pinned to.
 * A function pinned to vfio-pci is gpuvirt's Passthrough=true: on its GPU
 * when it is a companion (companions follow their GPU), with [Manage]
 * Devices= when gpuvirt does not manage it yet. Any other driver has no
 * equivalent: gpuvirt gives a function back to the driver it had, it
 * never pins one. */
#include "import-merge.h"

#include "device-arg.h"
#include "error-hint.h"

#include <stdio.h>
#include <string.h>

static gboolean
is_object (const char *path)
{
  return path && *path && !g_str_equal (path, "/");
}

static int
cmp_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
ctl_import_driverctl (sd_bus *bus, const char *root)
{
  g_autofree char *dir = g_build_filename (root, "etc", "driverctl.d", NULL);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify) ctl_import_group_free);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GError) gerror = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &gerror);
  g_autofree char *source = NULL;
  const char *name;
  int r;

  if (!d)
    {
      if (g_error_matches (gerror, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          fprintf (stderr, _("%s does not exist: driverctl has no overrides here.\n"), dir);
          return GV_EXIT_OK;
        }
      fprintf (stderr, _("Could not read %s: %s\n"), dir, gerror->message);
      return GV_EXIT_FAILURE;
    }
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_name);
  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = names->pdata[i];
      g_autofree char *path = g_build_filename (dir, file, NULL);
      g_autofree char *driver = NULL;
      g_autofree char *id = NULL;
      g_autofree char *gpu_id = NULL;
      g_autofree char *gpu = NULL;
      g_autofree char *comment = NULL;
      g_autoptr (GVariant) props = NULL;
      const char *address = file + strlen ("pci-");
      CtlImportGroup *g;

      if (!g_str_has_prefix (file, "pci-"))
        {
          g_ptr_array_add (problems, g_strdup_printf (_("%s: not a PCI override; gpuvirt moves PCI functions only"), path));
          continue;
        }
      if (!g_file_get_contents (path, &driver, NULL, &gerror))
        {
          g_ptr_array_add (problems, g_strdup_printf ("%s: %s", path, gerror->message));
          g_clear_error (&gerror);
          continue;
        }
      g_strstrip (driver);
      if (!g_str_equal (driver, "vfio-pci"))
        {
          g_ptr_array_add (problems,
                           g_strdup_printf (_("%s: pins %s to %s; gpuvirt pins no driver but vfio-pci, it gives a "
                                              "function back to the driver it had"),
                                            path, address, *driver ? driver : "\"\""));
          continue;
        }
      id = ctl_import_device_id (model, address, &props);
      if (!id)
        {
          g_ptr_array_add (problems,
                           g_strdup_printf (_("%s: this host has no PCI function %s, so its Id= is unknown"), path,
                                            address));
          continue;
        }
      /* a companion stands for its GPU */
      gpu = is_object (props_str (props, "Gpu")) ? ctl_device_path_to_address (props_str (props, "Gpu")) : NULL;
      if (gpu && !g_str_equal (gpu, address))
        {
          gpu_id = ctl_import_device_id (model, gpu, NULL);
          comment = g_strdup_printf ("# from %s (companion %s follows its GPU)", path, address);
        }
      else
        {
          g_clear_pointer (&gpu, g_free);
          comment = g_strdup_printf ("# from %s", path);
        }
      if (!props_bool (props, "Managed"))
        {
          CtlImportGroup *manage = ctl_import_find (groups, "Manage");
          if (!manage)
            {
              manage = ctl_import_group_new ("Manage", "# functions gpuvirt may move besides GPUs (from driverctl)");
              g_ptr_array_insert (groups, 0, manage);
            }
          ctl_import_group_set (manage, "Devices", address);
        }
      {
        g_autofree char *header = g_strdup_printf ("Device %s", gpu ? gpu : address);
        g = ctl_import_find (groups, header);
        if (!g)
          {
            g = ctl_import_group_new (header, comment);
            g_ptr_array_add (groups, g);
          }
      }
      ctl_import_group_set (g, "Id", gpu ? gpu_id : id);
      ctl_import_group_set (g, "Passthrough", "true");
    }
  if (names->len == 0)
    fprintf (stderr, _("%s has no overrides.\n"), dir);
  source = g_strdup_printf ("%s (driverctl)", dir);
  return ctl_import_finish (bus, source, groups, problems);
}
