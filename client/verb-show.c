/* show DEVICE: every property of one function, with the functions and mdevs
 * it names described from the same GetManagedObjects() snapshot. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "mig-text.h"
#include "table.h"
#include "text.h"

#include <stdio.h>

/* Properties shown by name below; any others (a newer daemon) are shown
 * after them under their D-Bus names, so nothing is ever hidden. */
static const char *const known_device[] = {
  "Address", "VendorId", "DeviceId", "SubsystemVendorId", "SubsystemDeviceId",
  "Class", "Revision", "VendorName", "DeviceName", "Kind", "Managed", "Driver",
  "DriverOverride", "OriginalDriver", "IommuGroup", "IommuGroupMembers",
  "GroupVerdict", "ForeignGroupMembers", "Companions", "Gpu", "PhysicalFunction",
  "VfioGroupNode", "VfioDeviceNode", "BootVga", "NumaNode", "Holders", "State",
  "StateMessage", "VgpuFramework", NULL,
};
static const char *const known_sriov[] = { "TotalVfs", "NumVfs", "VirtualFunctions", NULL };
static const char *const known_vgpu[] = {
  "Framework", "Types", "CurrentType", "CurrentTypeName", "Mdevs", NULL,
};
static const char *const known_mig[] = { "Mode", "PendingMode", "Profiles", "GpuInstances", NULL };

/* Object-path properties that name other functions. */
static const char *const related_props[] = {
  "IommuGroupMembers", "ForeignGroupMembers", "Companions", "Gpu", "PhysicalFunction", NULL,
};

/* "0000:01:00.1 NVIDIA Corporation GA102 HD Audio (snd_hda_intel)" */
static char *
describe_function (BusModel *model, const char *path)
{
  g_autoptr (GVariant) props = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  g_autofree char *address = ctl_object_name (path);
  g_autofree char *description = NULL;
  const char *driver;
  GString *out;

  if (!props)
    return g_strdup (address);
  out = g_string_new (address);
  description = ctl_device_description (props);
  if (*description)
    g_string_append_printf (out, " %s", description);
  driver = props_str (props, "Driver");
  if (*driver)
    g_string_append_printf (out, " (%s)", driver);
  return g_string_free (out, FALSE);
}

/* A path or array of paths as one described function per line. */
static char *
describe_functions (BusModel *model, GVariant *props, const char *name)
{
  g_autoptr (GVariant) v = props ? g_variant_lookup_value (props, name, NULL) : NULL;
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH)
      && !g_str_equal (g_variant_get_string (v, NULL), "/"))
    g_ptr_array_add (lines, describe_function (model, g_variant_get_string (v, NULL)));
  else if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH_ARRAY))
    for (gsize i = 0; i < g_variant_n_children (v); i++)
      {
        const char *path;
        g_variant_get_child (v, i, "&o", &path);
        g_ptr_array_add (lines, describe_function (model, path));
      }
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

static char *
format_holders (GVariant *props)
{
  g_autoptr (GVariant) rows = g_variant_lookup_value (props, "Holders", G_VARIANT_TYPE ("a(uss)"));
  GString *out = g_string_new (NULL);
  GVariantIter iter;
  const char *command, *node;
  guint32 pid;

  if (rows)
    {
      g_variant_iter_init (&iter, rows);
      while (g_variant_iter_next (&iter, "(u&s&s)", &pid, &command, &node))
        g_string_append_printf (out, "%s%u %s %s", out->len ? "\n" : "", pid, command, node);
    }
  return g_string_free (out, FALSE);
}

static char *
format_number (gint32 n)
{
  return n < 0 ? g_strdup ("-") : g_strdup_printf ("%d", n);
}

static void
add_extra_props (CtlFields *fields, GVariant *props, const char *const *known)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (!props)
    return;
  g_variant_iter_init (&iter, props);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      if (!g_strv_contains (known, name))
        ctl_fields_take (fields, name, ctl_text_value (value));
      g_variant_unref (value);
    }
}

static void
add_device_fields (CtlFields *f, BusModel *model, const char *path, GVariant *p)
{
  ctl_fields_add (f, _("Address"), props_str (p, "Address"));
  ctl_fields_add (f, _("Object"), path);
  ctl_fields_take (f, _("Vendor"), g_strdup_printf ("%04x %s", props_uint (p, "VendorId"), props_str (p, "VendorName")));
  ctl_fields_take (f, _("Device"), g_strdup_printf ("%04x %s", props_uint (p, "DeviceId"), props_str (p, "DeviceName")));
  ctl_fields_take (f, _("Subsystem"), g_strdup_printf ("%04x:%04x", props_uint (p, "SubsystemVendorId"),
                                                       props_uint (p, "SubsystemDeviceId")));
  ctl_fields_take (f, _("Class"), g_strdup_printf ("%06x", props_uint (p, "Class")));
  ctl_fields_take (f, _("Revision"), g_strdup_printf ("%02x", props_uint (p, "Revision")));
  ctl_fields_add (f, _("Kind"), props_str (p, "Kind"));
  ctl_fields_add (f, _("Managed"), props_bool (p, "Managed") ? _("yes") : _("no"));
  ctl_fields_add (f, _("Driver"), props_str (p, "Driver"));
  ctl_fields_add (f, _("Driver override"), props_str (p, "DriverOverride"));
  ctl_fields_add (f, _("Original driver"), props_str (p, "OriginalDriver"));
  ctl_fields_add (f, _("State"), props_str (p, "State"));
  ctl_fields_add (f, _("State message"), props_str (p, "StateMessage"));
  ctl_fields_add (f, _("Boot VGA"), props_bool (p, "BootVga") ? _("yes") : _("no"));
  ctl_fields_take (f, _("NUMA node"), format_number (props_int (p, "NumaNode", -1)));
  ctl_fields_take (f, _("IOMMU group"), format_number (props_int (p, "IommuGroup", -1)));
  ctl_fields_add (f, _("Group verdict"), props_str (p, "GroupVerdict"));
  ctl_fields_take (f, _("Group members"), describe_functions (model, p, "IommuGroupMembers"));
  ctl_fields_take (f, _("Foreign members"), describe_functions (model, p, "ForeignGroupMembers"));
  ctl_fields_take (f, _("Companions"), describe_functions (model, p, "Companions"));
  ctl_fields_take (f, _("GPU"), describe_functions (model, p, "Gpu"));
  ctl_fields_take (f, _("Physical function"), describe_functions (model, p, "PhysicalFunction"));
  ctl_fields_add (f, _("VFIO group"), props_str (p, "VfioGroupNode"));
  ctl_fields_add (f, _("VFIO device"), props_str (p, "VfioDeviceNode"));
  ctl_fields_add (f, _("vGPU framework"), props_str (p, "VgpuFramework"));
  ctl_fields_take (f, _("Holders"), format_holders (p));
  add_extra_props (f, p, known_device);
}

static void
add_sriov_fields (CtlFields *f, BusModel *model, GVariant *s)
{
  ctl_fields_take (f, _("Total VFs"), g_strdup_printf ("%u", props_uint (s, "TotalVfs")));
  ctl_fields_take (f, _("Enabled VFs"), g_strdup_printf ("%u", props_uint (s, "NumVfs")));
  ctl_fields_take (f, _("Virtual functions"), describe_functions (model, s, "VirtualFunctions"));
  add_extra_props (f, s, known_sriov);
}

static void
add_vgpu_fields (CtlFields *f, GVariant *device, GVariant *v)
{
  const char *type = props_str (v, "CurrentType");

  /* Vgpu.Framework repeats Device.VgpuFramework; say it only if it differs */
  if (!g_str_equal (props_str (v, "Framework"), props_str (device, "VgpuFramework")))
    ctl_fields_add (f, _("vGPU framework (Vgpu)"), props_str (v, "Framework"));
  if (*type)
    ctl_fields_take (f, _("Current type"), g_strdup_printf ("%s %s", type, props_str (v, "CurrentTypeName")));
  else
    ctl_fields_add (f, _("Current type"), "");
  add_extra_props (f, v, known_vgpu);
}

static void
add_mig_fields (CtlFields *f, GVariant *mig)
{
  g_autoptr (GVariant) profiles = g_variant_lookup_value (mig, "Profiles", G_VARIANT_TYPE ("a(suuuuta{sv})"));
  g_autoptr (GString) names = g_string_new (NULL);

  ctl_fields_take (f, _("MIG mode"), ctl_mig_mode_text (mig));
  ctl_fields_take (f, _("GPU instances"), ctl_mig_instances_text (mig));
  for (gsize i = 0; profiles && i < g_variant_n_children (profiles); i++)
    {
      const char *name;
      guint32 free_now;
      g_variant_get_child (profiles, i, "(&suuuut@a{sv})", &name, NULL, NULL, NULL, &free_now, NULL, NULL);
      g_string_append_printf (names, "%s%s (%u)", i ? ", " : "", name, free_now);
    }
  /* TRANSLATORS: each GPU instance profile with how many more fit, e.g. "1g.10gb (7), 3g.40gb (2)" */
  ctl_fields_add (f, _("MIG profiles (free)"), names->str);
  add_extra_props (f, mig, known_mig);
}

static void
print_types (GVariant *vgpu)
{
  g_autoptr (GVariant) types = g_variant_lookup_value (vgpu, "Types", G_VARIANT_TYPE ("a(ssuua{sv})"));
  const char *headers[] = { _("ID"), _("NAME"), _("FRAMEBUFFER"), _("AVAILABLE") };
  g_autoptr (CtlTable) table = ctl_table_new (4, headers);
  GVariantIter iter;
  const char *id, *name;
  guint32 framebuffer, available;

  printf ("\n%s\n", _("vGPU types:"));
  if (!types || g_variant_n_children (types) == 0)
    {
      printf ("%s\n", _("none offered now"));
      return;
    }
  g_variant_iter_init (&iter, types);
  while (g_variant_iter_next (&iter, "(&s&suu@a{sv})", &id, &name, &framebuffer, &available, NULL))
    {
      g_autofree char *fb = g_strdup_printf (_("%u MiB"), framebuffer);
      g_autofree char *avail = g_strdup_printf ("%u", available);
      const char *cells[] = { id, name, fb, avail };

      ctl_table_add_row (table, cells);
    }
  ctl_table_print (table, stdout, ctl_terminal_width ());
}

static void
print_mdevs (BusModel *model, GVariant *vgpu)
{
  g_autoptr (GVariant) mdevs = g_variant_lookup_value (vgpu, "Mdevs", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);
  const char *headers[] = { _("UUID"), _("TYPE"), _("NAME"), _("VFIO"), _("HOLDERS") };
  g_autoptr (CtlTable) table = ctl_table_new (5, headers);

  if (!mdevs || g_variant_n_children (mdevs) == 0)
    return;
  for (gsize i = 0; i < g_variant_n_children (mdevs); i++)
    {
      const char *path;
      g_autoptr (GVariant) m = NULL;
      g_autofree char *uuid = NULL, *holders = NULL;

      g_variant_get_child (mdevs, i, "&o", &path);
      m = bus_model_props (model, path, GPUVIRT_MDEV_IFACE);
      uuid = ctl_object_name (path);
      holders = format_holders (m);
      g_strdelimit (holders, "\n", ',');
      {
        const char *cells[] = { uuid, props_str (m, "Type"), props_str (m, "TypeName"),
                                props_str (m, "VfioGroupNode"), holders };
        ctl_table_add_row (table, cells);
      }
    }
  printf ("\n%s\n", _("Mediated devices:"));
  ctl_table_print (table, stdout, ctl_terminal_width ());
}

/* "Related": the functions the device's properties name, by address;
 * "MdevDetails": its mdevs' properties, by UUID. */
static void
add_json_context (JsonObject *object, BusModel *model, GVariant *device, GVariant *sriov, GVariant *vgpu)
{
  JsonObject *related = json_object_new ();
  JsonObject *mdevs = json_object_new ();
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GVariant) vfs = sriov ? g_variant_lookup_value (sriov, "VirtualFunctions", NULL) : NULL;
  g_autoptr (GVariant) mdev_paths = vgpu ? g_variant_lookup_value (vgpu, "Mdevs", G_VARIANT_TYPE_OBJECT_PATH_ARRAY) : NULL;

  for (int i = 0; related_props[i]; i++)
    {
      g_autoptr (GVariant) v = g_variant_lookup_value (device, related_props[i], NULL);
      if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH))
        g_ptr_array_add (paths, g_variant_dup_string (v, NULL));
      else if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH_ARRAY))
        for (gsize j = 0; j < g_variant_n_children (v); j++)
          {
            g_autoptr (GVariant) child = g_variant_get_child_value (v, j);
            g_ptr_array_add (paths, g_variant_dup_string (child, NULL));
          }
    }
  if (vfs && g_variant_is_of_type (vfs, G_VARIANT_TYPE_OBJECT_PATH_ARRAY))
    for (gsize j = 0; j < g_variant_n_children (vfs); j++)
      {
        g_autoptr (GVariant) child = g_variant_get_child_value (vfs, j);
        g_ptr_array_add (paths, g_variant_dup_string (child, NULL));
      }

  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GVariant) p = bus_model_props (model, paths->pdata[i], GPUVIRT_DEVICE_IFACE);
      g_autofree char *address = ctl_object_name (paths->pdata[i]);
      JsonObject *summary;

      if (!p || !address || json_object_has_member (related, address))
        continue;
      summary = json_object_new ();
      json_object_set_string_member (summary, "VendorName", props_str (p, "VendorName"));
      json_object_set_string_member (summary, "DeviceName", props_str (p, "DeviceName"));
      json_object_set_string_member (summary, "Kind", props_str (p, "Kind"));
      json_object_set_string_member (summary, "Driver", props_str (p, "Driver"));
      json_object_set_string_member (summary, "State", props_str (p, "State"));
      json_object_set_object_member (related, address, summary);
    }
  for (gsize i = 0; mdev_paths && i < g_variant_n_children (mdev_paths); i++)
    {
      const char *path;
      g_autoptr (GVariant) m = NULL;
      g_autofree char *uuid = NULL;

      g_variant_get_child (mdev_paths, i, "&o", &path);
      m = bus_model_props (model, path, GPUVIRT_MDEV_IFACE);
      uuid = ctl_object_name (path);
      if (m)
        json_object_set_object_member (mdevs, uuid, ctl_json_props (m));
    }
  json_object_set_object_member (object, "Related", related);
  json_object_set_object_member (object, "MdevDetails", mdevs);
}

int
verb_show (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GVariant) device = NULL, sriov = NULL, vgpu = NULL, mig = NULL;
  g_autoptr (CtlFields) fields = NULL;
  g_autofree char *path = NULL;
  int r;

  r = ctl_resolve_device (bus, argv[1], &path);
  if (r != 0)
    return r;
  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
  device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  if (!device)
    {
      fprintf (stderr, _("No PCI function '%s' on this host (any more).\n"), argv[1]);
      ctl_print_hint (GPUVIRT_ERROR_NO_SUCH_DEVICE);
      return GV_EXIT_NO_SUCH;
    }
  sriov = bus_model_props (model, path, GPUVIRT_SRIOV_IFACE);
  vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);
  mig = bus_model_props (model, path, GPUVIRT_MIG_IFACE);

  if (ctl_args.json != CTL_JSON_OFF)
    {
      JsonObject *object = ctl_json_device (model, path);
      g_autoptr (JsonNode) root = ctl_json_take_object (object);

      add_json_context (object, model, device, sriov, vgpu);
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }

  fields = ctl_fields_new ();
  add_device_fields (fields, model, path, device);
  if (sriov)
    add_sriov_fields (fields, model, sriov);
  if (vgpu)
    add_vgpu_fields (fields, device, vgpu);
  if (mig)
    add_mig_fields (fields, mig);
  ctl_fields_print (fields, stdout);
  if (vgpu)
    {
      print_types (vgpu);
      print_mdevs (model, vgpu);
    }
  return GV_EXIT_OK;
}
