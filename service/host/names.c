#include "host/names.h"

#include <systemd/sd-hwdb.h>

struct _GvHostNames {
  sd_hwdb *hwdb; /* NULL without a hwdb */
  /* Repeated IDs are common (32 VFs per GPU): remember answers by key. */
  GHashTable *cache;
  GMutex lock; /* functions are read by several threads at a scan */
};

GvHostNames *
gv_host_names_new (void)
{
  GvHostNames *names = g_new0 (GvHostNames, 1);
  int r = sd_hwdb_new (&names->hwdb);

  if (r < 0) {
    g_debug ("No hardware database (%s): vendor and model names stay empty", g_strerror (-r));
    names->hwdb = NULL;
  }
  names->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&names->lock);
  return names;
}

void
gv_host_names_free (GvHostNames *names)
{
  if (!names)
    return;
  if (names->hwdb)
    sd_hwdb_unref (names->hwdb);
  g_hash_table_destroy (names->cache);
  g_mutex_clear (&names->lock);
  g_free (names);
}

gboolean
gv_host_names_available (GvHostNames *names)
{
  return names && names->hwdb;
}

static char *
lookup (GvHostNames *names, const char *modalias, const char *key)
{
  g_autofree char *cache_key = NULL;
  const char *value = NULL;
  const char *cached;

  if (!names || !names->hwdb)
    return g_strdup ("");
  cache_key = g_strconcat (modalias, "\n", key, NULL);
  g_mutex_lock (&names->lock);
  cached = g_hash_table_lookup (names->cache, cache_key);
  if (!cached) {
    if (sd_hwdb_get (names->hwdb, modalias, key, &value) < 0 || !value)
      value = "";
    cached = g_strdup (value);
    g_hash_table_insert (names->cache, g_steal_pointer (&cache_key), (char *) cached);
  }
  value = g_strdup (cached);
  g_mutex_unlock (&names->lock);
  return (char *) value;
}

char *
gv_host_names_vendor (GvHostNames *names, guint16 vendor)
{
  g_autofree char *modalias = g_strdup_printf ("pci:v%08X", (guint) vendor);
  return lookup (names, modalias, "ID_VENDOR_FROM_DATABASE");
}

char *
gv_host_names_model (GvHostNames *names, guint16 vendor, guint16 device)
{
  g_autofree char *modalias = g_strdup_printf ("pci:v%08Xd%08X", (guint) vendor, (guint) device);
  return lookup (names, modalias, "ID_MODEL_FROM_DATABASE");
}

char *
gv_host_names_class (GvHostNames *names, guint32 class_code)
{
  /* the modalias' class part as the kernel writes it (upper-case hex) */
  g_autofree char *modalias = g_strdup_printf ("pci:v00000000d00000000sv00000000sd00000000bc%02Xsc%02Xi%02X",
                                               (class_code >> 16) & 0xff, (class_code >> 8) & 0xff,
                                               class_code & 0xff);
  char *name = lookup (names, modalias, "ID_PCI_SUBCLASS_FROM_DATABASE");

  if (*name)
    return name;
  g_free (name);
  return lookup (names, modalias, "ID_PCI_CLASS_FROM_DATABASE");
}
