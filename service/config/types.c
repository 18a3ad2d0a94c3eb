/* Names of NVIDIA vendor-VFIO type ids. A VF shows only the types it can
 * still take (creatable_vgpu_types), and a full GPU shows none: then
 * "VF 0000:41:00.4 carries 1163" cannot be matched to VgpuType=L40S-24Q
 * from sysfs alone. Every list seen is learned and kept in the state
 * directory (STATE_DIR/vgpu-types), so a second run of the plan, or one
 * after a restart, still knows that 1163 is NVIDIA L40S-24Q. Type ids
 * name the same type on every GPU (NVIDIA's vgpuConfig.xml). */
#include "config/internal.h"
#include "sysfs/read.h"

#include <stdlib.h>
#include <string.h>

#define GROUP "Vendor-VFIO"

struct _CfgTypeNames {
  char *path;          /* NULL: not kept */
  GHashTable *names;   /* id (GUINT_TO_POINTER) -> name */
  gboolean dirty;
};

GvConfigTypeNames *
gv_config_type_names_open (const char *state_dir)
{
  GvConfigTypeNames *t = g_new0 (GvConfigTypeNames, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) keys = NULL;

  t->names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  if (!state_dir)
    return t;
  t->path = g_build_filename (state_dir, "vgpu-types", NULL);
  if (!g_key_file_load_from_file (kf, t->path, G_KEY_FILE_NONE, NULL))
    return t;
  keys = g_key_file_get_keys (kf, GROUP, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *name = g_key_file_get_string (kf, GROUP, keys[i], NULL);
    guint id = (guint) strtoul (keys[i], NULL, 10);
    if (id && name && *name)
      g_hash_table_replace (t->names, GUINT_TO_POINTER (id), g_steal_pointer (&name));
  }
  return t;
}

void
gv_config_type_names_free (GvConfigTypeNames *names)
{
  if (!names)
    return;
  g_free (names->path);
  g_hash_table_unref (names->names);
  g_free (names);
}

void
gv_config_type_names_learn (GvConfigTypeNames *names, guint id, const char *name)
{
  const char *known;

  if (!id || !name || !*name)
    return;
  known = g_hash_table_lookup (names->names, GUINT_TO_POINTER (id));
  if (known && g_str_equal (known, name))
    return;
  g_hash_table_replace (names->names, GUINT_TO_POINTER (id), g_strdup (name));
  names->dirty = TRUE;
}

void
gv_config_type_names_learn_family (GvConfigTypeNames *names, const char *root, const char *pf)
{
  g_autofree char *pf_dir = g_build_filename (root, "sys", "bus", "pci", "devices", pf, NULL);
  g_autoptr (GPtrArray) entries = gv_sysfs_list_dir (pf_dir);

  for (guint i = 0; i < entries->len; i++) {
    const char *entry = entries->pdata[i];
    g_autofree char *vf = NULL;
    g_autofree char *vf_dir = NULL;
    g_autoptr (GvHostVendorVfio) vendor = NULL;

    if (!g_str_has_prefix (entry, "virtfn"))
      continue;
    vf = gv_sysfs_read_link_name (pf_dir, entry);
    if (!vf)
      continue;
    vf_dir = g_build_filename (root, "sys", "bus", "pci", "devices", vf, NULL);
    vendor = gv_host_vendor_vfio_read (vf_dir);
    for (guint j = 0; vendor && j < vendor->creatable->len; j++) {
      const GvHostVendorType *type = vendor->creatable->pdata[j];
      gv_config_type_names_learn (names, type->id, type->name);
    }
  }
}

const char *
gv_config_type_names_lookup (GvConfigTypeNames *names, guint id)
{
  return g_hash_table_lookup (names->names, GUINT_TO_POINTER (id));
}

guint
gv_config_type_names_resolve (GvConfigTypeNames *names, const char *wanted)
{
  GHashTableIter iter;
  gpointer key, value;
  gboolean number = *wanted != '\0';

  for (const char *p = wanted; *p; p++)
    number &= g_ascii_isdigit (*p);
  if (number)
    return (guint) strtoul (wanted, NULL, 10);
  g_hash_table_iter_init (&iter, names->names);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autofree char *id = g_strdup_printf ("%u", GPOINTER_TO_UINT (key));
    if (gv_vgpu_type_matches (id, value, wanted))
      return GPOINTER_TO_UINT (key);
  }
  return 0;
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);
  return x < y ? -1 : x > y;
}

void
gv_config_type_names_save (GvConfigTypeNames *names)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GList) ids = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;

  if (!names->path || !names->dirty)
    return;
  ids = g_list_sort (g_hash_table_get_keys (names->names), compare_ids);
  for (GList *l = ids; l; l = l->next) {
    g_autofree char *id = g_strdup_printf ("%u", GPOINTER_TO_UINT (l->data));
    g_key_file_set_string (kf, GROUP, id, g_hash_table_lookup (names->names, l->data));
  }
  data = g_key_file_to_data (kf, NULL, NULL);
  if (gv_config_save_text (names->path, data, &error))
    names->dirty = FALSE;
  else
    g_warning ("Could not keep the vGPU type names: %s", error->message);
}
