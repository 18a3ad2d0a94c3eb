/* list: every function in one GetManagedObjects() call, managed ones only
 * unless --all. */
#include "ctl.h"

#include "bus-model.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "mig-text.h"
#include "table.h"
#include "text.h"

#include <stdio.h>

enum
{
  COL_ADDRESS, COL_CLASS, COL_VENDOR, COL_DEVICE, COL_DESCRIPTION,
  COL_IOMMU, COL_VFIO, COL_DRIVER, COL_VGPU, COL_MIG, COL_STATE, N_COLUMNS
};

static void
add_row (CtlTable *table, GVariant *props, GVariant *mig)
{
  g_autofree char *mig_mode = mig ? ctl_mig_mode_text (mig) : NULL;
  g_autofree char *class = g_strdup_printf ("%04x", props_uint (props, "Class") >> 8);
  g_autofree char *vendor = g_strdup_printf ("%04x", props_uint (props, "VendorId"));
  g_autofree char *device = g_strdup_printf ("%04x", props_uint (props, "DeviceId"));
  g_autofree char *description = ctl_device_description (props);
  g_autofree char *group = NULL;
  const char *vfio = props_str (props, "VfioGroupNode");
  const char *framework = props_str (props, "VgpuFramework");
  const char *cells[N_COLUMNS];
  gint32 n = props_int (props, "IommuGroup", -1);

  if (n >= 0)
    group = g_strdup_printf ("%d", n);
  if (!*vfio)
    vfio = props_str (props, "VfioDeviceNode");
  if (g_str_equal (framework, GPUVIRT_FRAMEWORK_NONE))
    framework = "";

  cells[COL_ADDRESS] = props_str (props, "Address");
  cells[COL_CLASS] = class;
  cells[COL_VENDOR] = vendor;
  cells[COL_DEVICE] = device;
  cells[COL_DESCRIPTION] = description;
  cells[COL_IOMMU] = group;
  cells[COL_VFIO] = vfio;
  cells[COL_DRIVER] = props_str (props, "Driver");
  cells[COL_VGPU] = framework;
  cells[COL_MIG] = mig_mode;
  cells[COL_STATE] = props_str (props, "State");
  ctl_table_add_row (table, cells);
}

int
verb_list (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (CtlTable) table = NULL;
  JsonArray *devices = json_array_new ();
  const char *headers[N_COLUMNS] = {
    _("ADDRESS"), _("CLASS"), _("VENDOR"), _("DEVICE"), _("DESCRIPTION"),
    _("IOMMU"), _("VFIO"), _("DRIVER"), _("VGPU"), _("MIG"), _("STATE"),
  };
  int r;

  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    {
      json_array_unref (devices);
      return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
    }

  table = ctl_table_new (N_COLUMNS, headers);
  ctl_table_set_shrinkable (table, COL_DESCRIPTION);
  paths = bus_model_paths (model, GPUVIRT_DEVICE_IFACE);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr (GVariant) props = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
      g_autoptr (GVariant) mig = bus_model_props (model, path, GPUVIRT_MIG_IFACE);

      if (!ctl_args.all && !props_bool (props, "Managed"))
        continue;
      add_row (table, props, mig);
      json_array_add_object_element (devices, ctl_json_device (model, path));
    }

  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (json_object_new ());

      json_object_set_array_member (json_node_get_object (root), "Devices", devices);
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }
  json_array_unref (devices);

  if (ctl_table_n_rows (table) == 0)
    {
      fputs (ctl_args.all ? _("No PCI functions.\n")
             : _("No GPUs or functions gpuvirt manages; 'gpuvirtctl list --all' shows every PCI function.\n"),
             stderr);
      return GV_EXIT_OK;
    }
  ctl_table_print (table, stdout, ctl_terminal_width ());
  return GV_EXIT_OK;
}
