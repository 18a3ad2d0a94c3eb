/* vgpu list: every vGPU of the host (mdevs, and vendor-VFIO VFs that
 * carry a type) from one GetManagedObjects() call. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "table.h"
#include "text.h"
#include "vgpu-model.h"

#include <stdio.h>

enum
{
  COL_GPU, COL_VGPU, COL_TYPE, COL_NAME, COL_VFIO, COL_HOLDERS, N_COLUMNS
};

int
verb_vgpu_list (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GPtrArray) vgpus = NULL;
  g_autoptr (CtlTable) table = NULL;
  const char *headers[N_COLUMNS] = {
    _("GPU"), _("VGPU"), _("TYPE"), _("NAME"), _("VFIO"), _("HOLDERS"),
  };
  int r;

  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the vGPUs from gpuvirtd"));
  vgpus = ctl_vgpus_collect (model);

  if (ctl_args.json != CTL_JSON_OFF)
    {
      JsonArray *array = json_array_new ();
      g_autoptr (JsonNode) root = ctl_json_take_object (json_object_new ());

      for (guint i = 0; i < vgpus->len; i++)
        json_array_add_object_element (array, ctl_vgpu_json (vgpus->pdata[i]));
      json_object_set_array_member (json_node_get_object (root), "Vgpus", array);
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }

  if (vgpus->len == 0)
    {
      fputs (_("No vGPUs; 'gpuvirtctl vgpu create DEVICE TYPE' makes one.\n"), stderr);
      return GV_EXIT_OK;
    }
  table = ctl_table_new (N_COLUMNS, headers);
  ctl_table_set_shrinkable (table, COL_NAME);
  for (guint i = 0; i < vgpus->len; i++)
    {
      CtlVgpu *v = vgpus->pdata[i];
      g_autofree char *gpu = ctl_object_name (v->gpu);
      g_autofree char *users = ctl_holders_users (v->holders);
      const char *cells[N_COLUMNS];

      cells[COL_GPU] = gpu;
      cells[COL_VGPU] = v->name;
      cells[COL_TYPE] = v->type;
      cells[COL_NAME] = v->type_name;
      cells[COL_VFIO] = *v->vfio_group_node ? v->vfio_group_node : v->vfio_device_node;
      cells[COL_HOLDERS] = users;
      ctl_table_add_row (table, cells);
    }
  ctl_table_print (table, stdout, ctl_terminal_width ());
  return GV_EXIT_OK;
}
