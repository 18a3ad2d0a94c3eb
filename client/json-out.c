/* Properties become JSON members under their D-Bus names, which the API
 * never renames; a few values are reshaped for scripts: PCI IDs as the hex
 * strings lspci prints, object paths as addresses or UUIDs, and tuples as
 * objects with named fields. Unknown properties of a newer daemon pass
 * through with the generic rules. */
#include "json-out.h"

#include "device-arg.h"
#include "gpuvirt-names.h"

#include <stdio.h>

static const struct
{
  const char *name;
  int digits;
} hex_props[] = {
  { "VendorId", 4 }, { "DeviceId", 4 },
  { "SubsystemVendorId", 4 }, { "SubsystemDeviceId", 4 },
  { "Class", 6 }, { "Revision", 2 },
};

/* Field names of the tuple-typed properties, in signature order. */
static const struct
{
  const char *name;
  const char *fields[8];
} tuple_props[] = {
  { "Holders", { "Pid", "Command", "Node" } },
  { "Types", { "Id", "Name", "FramebufferMiB", "Available", "Details" } },
  { "ConfigErrors", { "File", "Line", "Key", "Message" } },
  { "BootPlan", { "Phase", "Device", "Action", "Status", "Message" } },
  { "Profiles", { "Name", "Id", "Slices", "Max", "Free", "MemoryMiB", "Details" } },
  { "GpuInstances", { "Id", "ProfileId", "Profile", "Start", "Size", "ComputeInstances" } },
};

static JsonNode *
hex_value (const char *name, GVariant *v)
{
  guint64 n;

  if (g_variant_is_of_type (v, G_VARIANT_TYPE_BYTE))
    n = g_variant_get_byte (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    n = g_variant_get_uint16 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    n = g_variant_get_uint32 (v);
  else
    return NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (hex_props); i++)
    if (g_str_equal (hex_props[i].name, name))
      {
        g_autofree char *s = g_strdup_printf ("%0*" G_GINT64_MODIFIER "x", hex_props[i].digits, n);
        return json_node_init_string (json_node_alloc (), s);
      }
  return NULL;
}

static const char *const *
tuple_fields (const char *name, gsize n_children)
{
  for (size_t i = 0; i < G_N_ELEMENTS (tuple_props); i++)
    if (g_str_equal (tuple_props[i].name, name)
        && g_strv_length ((char **) tuple_props[i].fields) == n_children)
      return tuple_props[i].fields;
  return NULL;
}

static JsonNode *
container_value (const char *name, GVariant *v)
{
  const GVariantType *type = g_variant_get_type (v);
  gsize n = g_variant_n_children (v);

  if (g_variant_type_is_array (type) && g_variant_type_is_dict_entry (g_variant_type_element (type))
      && g_variant_type_equal (g_variant_type_key (g_variant_type_element (type)), G_VARIANT_TYPE_STRING))
    {
      /* a{s*}: an object keyed by the dictionary's keys */
      JsonObject *object = json_object_new ();

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GVariant) entry = g_variant_get_child_value (v, i);
          g_autoptr (GVariant) key = g_variant_get_child_value (entry, 0);
          g_autoptr (GVariant) value = g_variant_get_child_value (entry, 1);
          const char *k = g_variant_get_string (key, NULL);

          json_object_set_member (object, k, ctl_json_value (k, value));
        }
      return ctl_json_take_object (object);
    }

  if (g_variant_type_is_tuple (type) && tuple_fields (name, n))
    {
      const char *const *fields = tuple_fields (name, n);
      JsonObject *object = json_object_new ();

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GVariant) child = g_variant_get_child_value (v, i);
          json_object_set_member (object, fields[i], ctl_json_value (fields[i], child));
        }
      return ctl_json_take_object (object);
    }

  /* arrays, other tuples, dict entries: a JSON array; elements of an
   * array keep the property's name so its tuples get their fields */
  JsonArray *array = json_array_new ();
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (v, i);
      json_array_add_element (array, ctl_json_value (g_variant_type_is_array (type) ? name : "", child));
    }
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

JsonNode *
ctl_json_value (const char *name, GVariant *v)
{
  JsonNode *node;

  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (v);
      return ctl_json_value (name, inner);
    }
  if ((node = hex_value (name, v)))
    return node;

  switch (g_variant_classify (v))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      return json_node_init_boolean (json_node_alloc (), g_variant_get_boolean (v));
    case G_VARIANT_CLASS_BYTE:
      return json_node_init_int (json_node_alloc (), g_variant_get_byte (v));
    case G_VARIANT_CLASS_INT16:
      return json_node_init_int (json_node_alloc (), g_variant_get_int16 (v));
    case G_VARIANT_CLASS_UINT16:
      return json_node_init_int (json_node_alloc (), g_variant_get_uint16 (v));
    case G_VARIANT_CLASS_INT32:
      return json_node_init_int (json_node_alloc (), g_variant_get_int32 (v));
    case G_VARIANT_CLASS_UINT32:
      return json_node_init_int (json_node_alloc (), g_variant_get_uint32 (v));
    case G_VARIANT_CLASS_INT64:
      return json_node_init_int (json_node_alloc (), g_variant_get_int64 (v));
    case G_VARIANT_CLASS_UINT64:
      /* JSON numbers beyond 2^63 are not portable anyway */
      return json_node_init_int (json_node_alloc (), (gint64) MIN (g_variant_get_uint64 (v), (guint64) G_MAXINT64));
    case G_VARIANT_CLASS_DOUBLE:
      return json_node_init_double (json_node_alloc (), g_variant_get_double (v));
    case G_VARIANT_CLASS_OBJECT_PATH:
      {
        g_autofree char *object = ctl_object_name (g_variant_get_string (v, NULL));
        return object ? json_node_init_string (json_node_alloc (), object)
                      : json_node_init_null (json_node_alloc ());
      }
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_SIGNATURE:
      return json_node_init_string (json_node_alloc (), g_variant_get_string (v, NULL));
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_VARIANT:
      /* not sent by gpuvirtd (and handles never reach GVariant here) */
      return json_node_init_null (json_node_alloc ());
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      return container_value (name, v);
    }
}

static void
add_props (JsonObject *object, GVariant *props)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (!props)
    return;
  g_variant_iter_init (&iter, props);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      json_object_set_member (object, name, ctl_json_value (name, value));
      g_variant_unref (value);
    }
}

JsonObject *
ctl_json_props (GVariant *props)
{
  JsonObject *object = json_object_new ();

  add_props (object, props);
  return object;
}

static void
set_interface (JsonObject *object, const char *member, BusModel *model,
               const char *path, const char *iface)
{
  g_autoptr (GVariant) props = bus_model_props (model, path, iface);

  if (props)
    json_object_set_object_member (object, member, ctl_json_props (props));
  else
    json_object_set_null_member (object, member);
}

JsonObject *
ctl_json_device (BusModel *model, const char *path)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "Path", path);
  add_props (object, device);
  set_interface (object, "Sriov", model, path, GPUVIRT_SRIOV_IFACE);
  set_interface (object, "Vgpu", model, path, GPUVIRT_VGPU_IFACE);
  set_interface (object, "Mig", model, path, GPUVIRT_MIG_IFACE);
  return object;
}

JsonNode *
ctl_json_take_object (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

void
ctl_json_print (JsonNode *root, CtlJson mode)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, mode != CTL_JSON_SHORT);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  fprintf (stdout, "%s\n", text);
}
