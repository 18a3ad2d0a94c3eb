/* Converts sd-bus messages to GVariants, so the rest of the client works
 * on values with a type it can inspect, whatever the daemon sends. */
#include "bus-model.h"

#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>

static int read_value (sd_bus_message *m, char type, const char *contents, GVariant **ret);

static int
read_basic (sd_bus_message *m, char type, GVariant **ret)
{
  union
  {
    guint8 y;
    int b;
    gint16 n;
    guint16 q;
    gint32 i;
    guint32 u;
    gint64 x;
    guint64 t;
    double d;
    const char *s;
  } v;
  int r;

  memset (&v, 0, sizeof v);
  r = sd_bus_message_read_basic (m, type, &v);
  if (r < 0)
    return r;
  switch (type)
    {
    case 'y': *ret = g_variant_new_byte (v.y); break;
    case 'b': *ret = g_variant_new_boolean (v.b); break;
    case 'n': *ret = g_variant_new_int16 (v.n); break;
    case 'q': *ret = g_variant_new_uint16 (v.q); break;
    case 'i': *ret = g_variant_new_int32 (v.i); break;
    case 'u': *ret = g_variant_new_uint32 (v.u); break;
    case 'x': *ret = g_variant_new_int64 (v.x); break;
    case 't': *ret = g_variant_new_uint64 (v.t); break;
    case 'd': *ret = g_variant_new_double (v.d); break;
    /* sd-bus has validated UTF-8, paths and signatures on receipt */
    case 's': *ret = g_variant_new_string (v.s); break;
    case 'o': *ret = g_variant_new_object_path (v.s); break;
    case 'g': *ret = g_variant_new_signature (v.s); break;
    default: return -EOPNOTSUPP;
    }
  return 0;
}

static int
read_container (sd_bus_message *m, char type, const char *contents, GVariant **ret)
{
  g_autofree char *signature = NULL;
  GVariantBuilder builder;
  GVariant *child = NULL;
  char t;
  const char *c;
  int r;

  switch (type)
    {
    case 'a': signature = g_strconcat ("a", contents, NULL); break;
    case 'r': signature = g_strconcat ("(", contents, ")", NULL); break;
    case 'e': signature = g_strconcat ("{", contents, "}", NULL); break;
    case 'v': signature = g_strdup ("v"); break;
    default: return -EOPNOTSUPP;
    }
  if (!g_variant_type_string_is_valid (signature))
    return -EBADMSG;

  r = sd_bus_message_enter_container (m, type, contents);
  if (r < 0)
    return r;

  if (type == 'v')
    {
      r = sd_bus_message_peek_type (m, &t, &c);
      if (r <= 0)
        return r < 0 ? r : -EBADMSG;
      r = read_value (m, t, c, &child);
      if (r < 0)
        return r;
      *ret = g_variant_new_variant (child);
      return sd_bus_message_exit_container (m);
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE (signature));
  while ((r = sd_bus_message_peek_type (m, &t, &c)) > 0)
    {
      r = read_value (m, t, c, &child);
      if (r < 0)
        break;
      g_variant_builder_add_value (&builder, child);
    }
  if (r < 0)
    {
      g_variant_builder_clear (&builder);
      return r;
    }
  *ret = g_variant_builder_end (&builder);
  return sd_bus_message_exit_container (m);
}

static int
read_value (sd_bus_message *m, char type, const char *contents, GVariant **ret)
{
  /* contents points into the message; keep our own copy across the reads */
  g_autofree char *inner = g_strdup (contents);

  if (strchr ("arev", type))
    return read_container (m, type, inner, ret);
  return read_basic (m, type, ret);
}

int
bus_message_read_gvariant (sd_bus_message *m, GVariant **ret)
{
  GVariant *v = NULL;
  char type;
  const char *contents;
  int r;

  r = sd_bus_message_peek_type (m, &type, &contents);
  if (r <= 0)
    return r < 0 ? r : -ENXIO;
  r = read_value (m, type, contents, &v);
  if (r < 0)
    {
      if (v)
        g_variant_unref (g_variant_ref_sink (v));
      return r;
    }
  *ret = g_variant_ref_sink (v);
  /* serialise now: strings borrowed from children then stay valid for as
   * long as the whole value lives, whatever is unreferenced meanwhile */
  (void) g_variant_get_data (*ret);
  return 0;
}

int
bus_model_load (sd_bus *bus, BusModel **ret, sd_bus_error *error)
{
  g_autoptr (sd_bus_message) reply = NULL;
  g_autoptr (BusModel) model = g_new0 (BusModel, 1);
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH,
                          "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                          error, &reply, NULL);
  if (r < 0)
    return r;
  r = bus_message_read_gvariant (reply, &model->reply);
  if (r < 0)
    return r;
  if (!g_variant_is_of_type (model->reply, G_VARIANT_TYPE ("a{oa{sa{sv}}}")))
    return -EBADMSG;

  model->objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_variant_unref);
  g_variant_iter_init (&iter, model->reply);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    g_hash_table_replace (model->objects, g_strdup (path), ifaces);
  *ret = g_steal_pointer (&model);
  return 0;
}

void
bus_model_free (BusModel *model)
{
  if (!model)
    return;
  g_clear_pointer (&model->objects, g_hash_table_unref);
  g_clear_pointer (&model->reply, g_variant_unref);
  g_free (model);
}

GVariant *
bus_model_props (BusModel *model, const char *path, const char *iface)
{
  GVariant *ifaces = g_hash_table_lookup (model->objects, path);

  return ifaces ? g_variant_lookup_value (ifaces, iface, G_VARIANT_TYPE ("a{sv}")) : NULL;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
bus_model_paths (BusModel *model, const char *iface)
{
  GPtrArray *paths = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer path, ifaces;

  g_hash_table_iter_init (&iter, model->objects);
  while (g_hash_table_iter_next (&iter, &path, &ifaces))
    {
      g_autoptr (GVariant) props = g_variant_lookup_value (ifaces, iface, NULL);

      if (props)
        g_ptr_array_add (paths, path);
    }
  /* device paths embed the zero-padded address, so this is address order */
  g_ptr_array_sort (paths, compare_paths);
  return paths;
}

int
bus_get_all (sd_bus *bus, const char *path, const char *iface,
             GVariant **ret, sd_bus_error *error)
{
  g_autoptr (sd_bus_message) reply = NULL;
  GVariant *v = NULL;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                          "GetAll", error, &reply, "s", iface);
  if (r < 0)
    return r;
  r = bus_message_read_gvariant (reply, &v);
  if (r < 0)
    return r;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE ("a{sv}")))
    {
      g_variant_unref (v);
      return -EBADMSG;
    }
  *ret = v;
  return 0;
}

const char *
props_str (GVariant *props, const char *name)
{
  const char *s = NULL;

  /* g_variant_lookup() answers FALSE for a value of another type */
  if (props && (g_variant_lookup (props, name, "&s", &s) || g_variant_lookup (props, name, "&o", &s)))
    return s;
  return "";
}

gboolean
props_bool (GVariant *props, const char *name)
{
  gboolean b = FALSE;

  if (props)
    g_variant_lookup (props, name, "b", &b);
  return b;
}

guint32
props_uint (GVariant *props, const char *name)
{
  g_autoptr (GVariant) v = props ? g_variant_lookup_value (props, name, NULL) : NULL;

  if (!v)
    return 0;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_BYTE))
    return g_variant_get_byte (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return g_variant_get_uint16 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v);
  return 0;
}

gint32
props_int (GVariant *props, const char *name, gint32 absent)
{
  gint32 i = absent;

  if (props)
    g_variant_lookup (props, name, "i", &i);
  return i;
}
