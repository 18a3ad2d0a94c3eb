/* types DEVICE: the vGPU types a GPU or VF offers now (Vgpu.Types), with
 * what is left of each, the framework, the type a VF carries and, on a GPU
 * with VFs, how many VFs are free. Read from one GetManagedObjects()
 * snapshot, so the VFs' state matches the GPU's. */
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
  COL_ID, COL_NAME, COL_FRAMEBUFFER, COL_AVAILABLE, COL_MAX, COL_SERIES, COL_DESCRIPTION, N_COLUMNS
};

/* VFs that carry no vGPU: no vendor-VFIO type, no mdev. -1 when the
 * function has no SR-IOV. */
static gint64
count_free_vfs (BusModel *model, GVariant *sriov)
{
  g_autoptr (GVariant) vfs = sriov ? g_variant_lookup_value (sriov, "VirtualFunctions",
                                                             G_VARIANT_TYPE_OBJECT_PATH_ARRAY) : NULL;
  gint64 n = 0;

  if (!sriov)
    return -1;
  for (gsize i = 0; vfs && i < g_variant_n_children (vfs); i++)
    {
      const char *vf;
      g_autoptr (GVariant) vgpu = NULL;
      g_autoptr (GVariant) mdevs = NULL;

      g_variant_get_child (vfs, i, "&o", &vf);
      vgpu = bus_model_props (model, vf, GPUVIRT_VGPU_IFACE);
      mdevs = vgpu ? g_variant_lookup_value (vgpu, "Mdevs", G_VARIANT_TYPE_OBJECT_PATH_ARRAY) : NULL;
      if (!*props_str (vgpu, "CurrentType") && (!mdevs || g_variant_n_children (mdevs) == 0))
        n++;
    }
  return n;
}

static char *
detail_str (GVariant *details, const char *key)
{
  const char *s = NULL;

  if (details && g_variant_lookup (details, key, "&s", &s))
    return g_strdup (s);
  return NULL;
}

static char *
detail_uint (GVariant *details, const char *key)
{
  guint32 u;

  if (details && g_variant_lookup (details, key, "u", &u))
    return g_strdup_printf ("%u", u);
  return NULL;
}

static void
print_table (GVariant *types)
{
  const char *headers[N_COLUMNS] = {
    _("ID"), _("NAME"), _("FRAMEBUFFER"), _("AVAILABLE"), _("MAX"), _("SERIES"), _("DESCRIPTION"),
  };
  g_autoptr (CtlTable) table = ctl_table_new (N_COLUMNS, headers);
  GVariantIter iter;
  const char *id, *name;
  guint32 framebuffer, available;
  GVariant *details;

  ctl_table_set_shrinkable (table, COL_DESCRIPTION);
  g_variant_iter_init (&iter, types);
  while (g_variant_iter_next (&iter, "(&s&suu@a{sv})", &id, &name, &framebuffer, &available, &details))
    {
      g_autofree char *fb = g_strdup_printf (_("%u MiB"), framebuffer);
      g_autofree char *avail = g_strdup_printf ("%u", available);
      g_autofree char *max = detail_uint (details, GPUVIRT_TYPE_MAX_INSTANCE);
      g_autofree char *series = detail_str (details, GPUVIRT_TYPE_SERIES);
      g_autofree char *description = detail_str (details, GPUVIRT_TYPE_DESCRIPTION);
      const char *cells[N_COLUMNS];

      cells[COL_ID] = id;
      cells[COL_NAME] = name;
      cells[COL_FRAMEBUFFER] = fb;
      cells[COL_AVAILABLE] = avail;
      cells[COL_MAX] = max;
      cells[COL_SERIES] = series;
      cells[COL_DESCRIPTION] = description;
      ctl_table_add_row (table, cells);
      g_variant_unref (details);
    }
  ctl_table_print (table, stdout, ctl_terminal_width ());
}

/* Why a function offers no type now. */
static const char *
why_no_types (GVariant *device, GVariant *vgpu)
{
  if (g_str_equal (props_str (vgpu, "Framework"), GPUVIRT_FRAMEWORK_PENDING))
    return _("No vGPU types yet: the GPU's VFs are not enabled ('gpuvirtctl vgpu create' enables them).");
  if (*props_str (vgpu, "CurrentType"))
    return _("No vGPU types: this VF carries a type; 'gpuvirtctl vgpu remove' frees it.");
  if (g_str_equal (props_str (device, "Kind"), GPUVIRT_KIND_VF))
    return _("No vGPU types fit this VF now: the GPU's other vGPUs take its frame buffer.");
  return _("No vGPU types can be created here now.");
}

static void
print_text (BusModel *model, const char *path, GVariant *device, GVariant *vgpu, gint64 free_vfs)
{
  g_autoptr (GVariant) types = g_variant_lookup_value (vgpu, "Types", G_VARIANT_TYPE ("a(ssuua{sv})"));
  g_autoptr (GVariant) sriov = bus_model_props (model, path, GPUVIRT_SRIOV_IFACE);
  g_autoptr (CtlFields) fields = ctl_fields_new ();
  g_autofree char *description = ctl_device_description (device);
  g_autofree char *gpu = ctl_gpu_of_function (model, path);
  const char *type = props_str (vgpu, "CurrentType");
  g_autofree char *name = g_strjoin (" ", props_str (device, "Address"), description, NULL);

  ctl_fields_add (fields, _("Device"), g_strstrip (name));
  if (!g_str_equal (gpu, path))
    ctl_fields_take (fields, _("GPU"), ctl_object_name (gpu));
  ctl_fields_add (fields, _("Framework"), props_str (vgpu, "Framework"));
  if (g_str_equal (props_str (device, "Kind"), GPUVIRT_KIND_VF) || *type)
    ctl_fields_take (fields, _("Current type"),
                     *type ? g_strdup_printf ("%s %s", type, props_str (vgpu, "CurrentTypeName")) : NULL);
  if (free_vfs >= 0)
    /* TRANSLATORS: "2 of 32 enabled, 1 free" */
    ctl_fields_take (fields, _("VFs"), g_strdup_printf (_("%u of %u enabled, %u free"),
                                                        props_uint (sriov, "NumVfs"), props_uint (sriov, "TotalVfs"),
                                                        (guint) free_vfs));
  ctl_fields_print (fields, stdout);
  printf ("\n");
  if (!types || g_variant_n_children (types) == 0)
    printf ("%s\n", why_no_types (device, vgpu));
  else
    print_table (types);
}

static void
print_json (BusModel *model, const char *path, GVariant *device, GVariant *vgpu, gint64 free_vfs)
{
  JsonObject *object = ctl_json_props (vgpu);
  g_autofree char *gpu = ctl_gpu_of_function (model, path);
  g_autofree char *gpu_name = g_str_equal (gpu, path) ? NULL : ctl_object_name (gpu);
  g_autoptr (JsonNode) root = ctl_json_take_object (object);

  json_object_set_string_member (object, "Address", props_str (device, "Address"));
  if (gpu_name)
    json_object_set_string_member (object, "Gpu", gpu_name);
  else
    json_object_set_null_member (object, "Gpu");
  if (free_vfs >= 0)
    json_object_set_int_member (object, "FreeVfs", free_vfs);
  else
    json_object_set_null_member (object, "FreeVfs");
  ctl_json_print (root, ctl_args.json);
}

int
verb_types (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GVariant) device = NULL, vgpu = NULL, sriov = NULL;
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  gint64 free_vfs;
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
  address = ctl_object_name (path);
  vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);
  if (!vgpu)
    {
      /* TRANSLATORS: %s is a PCI address, the second %s a framework name such as "none" */
      fprintf (stderr, _("%s offers no vGPU types (no org.gpuvirt.Vgpu on its object; vGPU framework: %s).\n"),
               address, ctl_dash (props_str (device, "VgpuFramework")));
      ctl_print_hint (GPUVIRT_ERROR_NOT_SUPPORTED);
      return GV_EXIT_REFUSED;
    }
  sriov = bus_model_props (model, path, GPUVIRT_SRIOV_IFACE);
  free_vfs = count_free_vfs (model, sriov);

  if (ctl_args.json != CTL_JSON_OFF)
    print_json (model, path, device, vgpu, free_vfs);
  else
    print_text (model, path, device, vgpu, free_vfs);
  return GV_EXIT_OK;
}
