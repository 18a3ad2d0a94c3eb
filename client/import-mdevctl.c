/* config import mdevctl: mdevctl's persistent definitions,
 * ROOT/etc/mdevctl.d/PARENT/UUID, each a JSON object
 * {"mdev_type": "nvidia-555", "start": "auto"|"manual", "attrs": [...]}.
 * An automatically started one is gpuvirt's [Mdev UUID] with Parent=,
 * ParentId= (from the host) and Type=. What has no equivalent is named:
 * "start": "manual" (gpuvirt makes every configured mdev at boot),
 * attributes (gpuvirt writes none), parents this host lacks, files that are
 * not JSON definitions. Read with json-glib. */
#include "import-merge.h"

#include "error-hint.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static int
cmp_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *
sorted_names (const char *dir, gboolean *ok)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  *ok = d != NULL;
  while (d && (name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_name);
  return names;
}

static void
import_one (BusModel *model, const char *parent, const char *uuid, const char *path, GPtrArray *groups,
            GPtrArray *problems)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *parent_id = NULL;
  g_autofree char *header = NULL;
  g_autofree char *comment = NULL;
  JsonObject *o;
  const char *type, *start;
  CtlImportGroup *g;

  if (!g_uuid_string_is_valid (uuid))
    {
      g_ptr_array_add (problems, g_strdup_printf (_("%s: the name is no mdev UUID"), path));
      return;
    }
  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_ptr_array_add (problems, g_strdup_printf (_("%s: not valid JSON: %s"), path, error->message));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_ptr_array_add (problems, g_strdup_printf (_("%s: not an mdevctl definition (no JSON object)"), path));
      return;
    }
  o = json_node_get_object (json_parser_get_root (parser));
  type = json_object_has_member (o, "mdev_type") ? json_object_get_string_member_with_default (o, "mdev_type", NULL)
                                                 : NULL;
  start = json_object_get_string_member_with_default (o, "start", "");
  if (!type || !*type)
    {
      g_ptr_array_add (problems, g_strdup_printf (_("%s: no \"mdev_type\""), path));
      return;
    }
  if (!g_str_equal (start, "auto"))
    {
      g_ptr_array_add (problems,
                       g_strdup_printf (_("%s: \"start\": \"%s\": gpuvirt makes every configured mdev at boot, "
                                          "it has no mdevs started by hand"),
                                        path, start));
      return;
    }
  if (json_object_has_member (o, "attrs"))
    {
      JsonNode *attrs = json_object_get_member (o, "attrs");
      if (!JSON_NODE_HOLDS_ARRAY (attrs) || json_array_get_length (json_node_get_array (attrs)) > 0)
        {
          g_ptr_array_add (problems,
                           g_strdup_printf (_("%s: \"attrs\": gpuvirt writes no mdev attributes"), path));
          return;
        }
    }
  parent_id = ctl_import_device_id (model, parent, NULL);
  if (!parent_id)
    {
      g_ptr_array_add (problems,
                       g_strdup_printf (_("%s: this host has no PCI function %s, so its ParentId= is unknown"), path,
                                        parent));
      return;
    }
  {
    g_autofree char *lower = g_ascii_strdown (uuid, -1);
    header = g_strdup_printf ("Mdev %s", lower);
  }
  comment = g_strdup_printf ("# from %s", path);
  g = ctl_import_group_new (header, comment);
  ctl_import_group_set (g, "Parent", parent);
  ctl_import_group_set (g, "ParentId", parent_id);
  ctl_import_group_set (g, "Type", type);
  g_ptr_array_add (groups, g);
}

int
ctl_import_mdevctl (sd_bus *bus, const char *root)
{
  g_autofree char *dir = g_build_filename (root, "etc", "mdevctl.d", NULL);
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify) ctl_import_group_free);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) parents = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autofree char *source = NULL;
  gboolean ok;
  guint found = 0;
  int r;

  parents = sorted_names (dir, &ok);
  if (!ok)
    {
      if (!g_file_test (dir, G_FILE_TEST_EXISTS))
        {
          fprintf (stderr, _("%s does not exist: mdevctl has no definitions here.\n"), dir);
          return GV_EXIT_OK;
        }
      fprintf (stderr, _("Could not read %s\n"), dir);
      return GV_EXIT_FAILURE;
    }
  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
  for (guint i = 0; i < parents->len; i++)
    {
      const char *parent = parents->pdata[i];
      g_autofree char *sub = g_build_filename (dir, parent, NULL);
      g_autoptr (GPtrArray) uuids = NULL;

      if (g_str_equal (parent, "scripts.d"))
        {
          g_ptr_array_add (problems, g_strdup_printf (_("%s: mdevctl's callout scripts are not imported"), sub));
          continue;
        }
      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        {
          g_ptr_array_add (problems, g_strdup_printf (_("%s: not a parent's directory"), sub));
          continue;
        }
      uuids = sorted_names (sub, &ok);
      for (guint j = 0; j < uuids->len; j++)
        {
          g_autofree char *path = g_build_filename (sub, uuids->pdata[j], NULL);
          import_one (model, parent, uuids->pdata[j], path, groups, problems);
          found++;
        }
    }
  if (found == 0)
    fprintf (stderr, _("%s has no definitions.\n"), dir);
  source = g_strdup_printf ("%s (mdevctl)", dir);
  return ctl_import_finish (bus, source, groups, problems);
}
