/* Names of NVIDIA vendor-VFIO type ids. A VF shows only the types it can
 * still take (creatable_vgpu_types), and a full GPU shows none: then
 * "VF 0000:41:00.4 carries 1163" cannot be matched to VgpuType=L40S-24Q
 * from sysfs alone. Every list seen is learned and kept in the state
 * directory (STATE_DIR/vgpu-types), so a second run of the plan, or one
 * after a restart, still knows that 1163 is NVIDIA L40S-24Q. Type ids
 * name the same type on every GPU (NVIDIA's vgpuConfig.xml). */
#include "vgpu/type-names.h"
#include "host/function.h"
#include "sysfs/file.h"
#include "vgpu/vgpu.h"

#include <stdlib.h>
#include <string.h>

#define GROUP "Vendor-VFIO"

struct _GvVgpuTypeNames {
  GMutex lock;
  char *path;          /* NULL: not kept */
  GHashTable *names;   /* id (GUINT_TO_POINTER) -> interned name */
  gboolean dirty;
};

GvVgpuTypeNames *
gv_vgpu_type_names_new (const char *state_dir)
{
  GvVgpuTypeNames *t = g_new0 (GvVgpuTypeNames, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) keys = NULL;

  g_mutex_init (&t->lock);
  t->names = g_hash_table_new (NULL, NULL);
  if (!state_dir)
    return t;
  t->path = g_build_filename (state_dir, "vgpu-types", NULL);
  if (!g_key_file_load_from_file (kf, t->path, G_KEY_FILE_NONE, NULL))
    return t;
  keys = g_key_file_get_keys (kf, GROUP, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *name = g_key_file_get_string (kf, GROUP, keys[i], NULL);
    guint64 id;
    /* only what save() writes: a decimal id in range */
    if (g_ascii_string_to_unsigned (keys[i], 10, 1, G_MAXUINT, &id, NULL) && name && *name)
      g_hash_table_replace (t->names, GUINT_TO_POINTER ((guint) id), (gpointer) g_intern_string (name));
  }
  return t;
}

void
gv_vgpu_type_names_free (GvVgpuTypeNames *names)
{
  if (!names)
    return;
  g_mutex_clear (&names->lock);
  g_free (names->path);
  g_hash_table_unref (names->names);
  g_free (names);
}

static void
learn_locked (GvVgpuTypeNames *names, guint id, const char *name)
{
  const char *known;

  if (!id || !name || !*name)
    return;
  known = g_hash_table_lookup (names->names, GUINT_TO_POINTER (id));
  if (known && g_str_equal (known, name))
    return;
  g_hash_table_replace (names->names, GUINT_TO_POINTER (id), (gpointer) g_intern_string (name));
  names->dirty = TRUE;
}

static void
learn_vendor (GvVgpuTypeNames *names, const GvHostVendorVfio *vendor)
{
  for (guint i = 0; vendor && i < vendor->creatable->len; i++) {
    const GvHostVendorType *type = vendor->creatable->pdata[i];
    learn_locked (names, type->id, type->name);
  }
}

void
gv_vgpu_type_names_learn (GvVgpuTypeNames *names, guint id, const char *name)
{
  g_mutex_lock (&names->lock);
  learn_locked (names, id, name);
  g_mutex_unlock (&names->lock);
}

void
gv_vgpu_type_names_learn_family (GvVgpuTypeNames *names, const char *root, const char *pf)
{
  g_auto (GStrv) vfs = gv_host_read_vfs (root, pf);

  for (guint i = 0; vfs[i]; i++) {
    g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", vfs[i], NULL);
    g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);
    g_mutex_lock (&names->lock);
    learn_vendor (names, vendor);
    g_mutex_unlock (&names->lock);
  }
}

void
gv_vgpu_type_names_learn_vendor (GvVgpuTypeNames *names, const GvHostVendorVfio *vendor)
{
  g_mutex_lock (&names->lock);
  learn_vendor (names, vendor);
  g_mutex_unlock (&names->lock);
}

void
gv_vgpu_type_names_learn_host (GvVgpuTypeNames *names, GvHost *host)
{
  GPtrArray *devices = gv_host_get_devices (host);

  g_mutex_lock (&names->lock);
  for (guint i = 0; i < devices->len; i++)
    learn_vendor (names, ((GvHostDevice *) devices->pdata[i])->fn->vendor_vfio);
  g_mutex_unlock (&names->lock);
}

const char *
gv_vgpu_type_names_lookup (GvVgpuTypeNames *names, guint id)
{
  const char *name;

  g_mutex_lock (&names->lock);
  name = g_hash_table_lookup (names->names, GUINT_TO_POINTER (id));
  g_mutex_unlock (&names->lock);
  return name;
}

/* The id of a known type WANTED names, or 0. */
static guint
find_locked (GvVgpuTypeNames *names, const char *wanted)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, names->names);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autofree char *id = g_strdup_printf ("%u", GPOINTER_TO_UINT (key));
    if (gv_vgpu_type_matches (id, value, wanted))
      return GPOINTER_TO_UINT (key);
  }
  return 0;
}

guint
gv_vgpu_type_names_resolve (GvVgpuTypeNames *names, const char *wanted)
{
  /* ids as the kernel writes them: "03" is no id, as for gv_vgpu_type_matches() */
  gboolean number = *wanted != '\0' && *wanted != '0';
  guint64 v;
  guint id;

  for (const char *p = wanted; *p; p++)
    number &= g_ascii_isdigit (*p);
  /* an id out of range is none, not the id it wraps to */
  if (number)
    return g_ascii_string_to_unsigned (wanted, 10, 1, G_MAXUINT, &v, NULL) ? (guint) v : 0;
  g_mutex_lock (&names->lock);
  id = find_locked (names, wanted);
  g_mutex_unlock (&names->lock);
  return id;
}

gboolean
gv_vgpu_type_names_knows (GvVgpuTypeNames *names, const char *wanted)
{
  guint id;

  g_mutex_lock (&names->lock);
  id = find_locked (names, wanted);
  g_mutex_unlock (&names->lock);
  return id != 0;
}

guint
gv_vgpu_type_names_largest (GvVgpuTypeNames *names, const char *model)
{
  g_autofree char *prefix = g_strconcat (model, "-", NULL);
  GHashTableIter iter;
  gpointer value;
  guint largest = 0;

  g_mutex_lock (&names->lock);
  g_hash_table_iter_init (&iter, names->names);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    GvHostTypeName parsed = { 0 };
    gv_host_type_name_parse (value, &parsed);
    if (parsed.short_name && g_str_has_prefix (parsed.short_name, prefix))
      largest = MAX (largest, parsed.framebuffer_mb);
    gv_host_type_name_clear (&parsed);
  }
  g_mutex_unlock (&names->lock);
  return largest;
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);
  return x < y ? -1 : x > y;
}

char *
gv_vgpu_type_names_to_text (GvVgpuTypeNames *names)
{
  GString *text = g_string_new (NULL);
  GList *ids;

  g_mutex_lock (&names->lock);
  ids = g_list_sort (g_hash_table_get_keys (names->names), compare_ids);
  for (GList *l = ids; l; l = l->next)
    g_string_append_printf (text, "%s%s (%u)", text->len ? ", " : "",
                            (const char *) g_hash_table_lookup (names->names, l->data), GPOINTER_TO_UINT (l->data));
  g_mutex_unlock (&names->lock);
  g_list_free (ids);
  if (text->len == 0)
    g_string_append (text, "none");
  return g_string_free (text, FALSE);
}

void
gv_vgpu_type_names_save (GvVgpuTypeNames *names)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GList) ids = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&names->lock);
  if (!names->path || !names->dirty) {
    g_mutex_unlock (&names->lock);
    return;
  }
  ids = g_list_sort (g_hash_table_get_keys (names->names), compare_ids);
  for (GList *l = ids; l; l = l->next) {
    g_autofree char *id = g_strdup_printf ("%u", GPOINTER_TO_UINT (l->data));
    g_key_file_set_string (kf, GROUP, id, g_hash_table_lookup (names->names, l->data));
  }
  data = g_key_file_to_data (kf, NULL, NULL);
  if (gv_sysfs_save_file (names->path, data, 0644, &error))
    names->dirty = FALSE;
  else
    g_warning ("Could not keep the vGPU type names: %s", error->message);
  g_mutex_unlock (&names->lock);
}
