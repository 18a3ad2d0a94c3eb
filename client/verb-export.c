/* export libvirt DEVICE|VGPU: the libvirt XML a domain needs for a GPU
 * (with its companions) or a vGPU, and gpuvirt's <metadata> element that
 * opts the domain in to the libvirt hook (gpuvirt-libvirt-hook(8)).
 *
 * - A GPU, or one of its functions: one <hostdev type='pci' managed='no'>
 *   per function a bind takes (the GPU, its companions and the rest of
 *   its IOMMU group that gpuvirt may move), the GPU first. With more than
 *   one function, each carries a guest <address> on one guest bus
 *   (--guest-bus, default 0x10) and slot 0, the GPU function 0 with
 *   multifunction='on', so the guest sees one multifunction device as on
 *   the host (HDMI audio as function 1 of the GPU, which NVIDIA's and
 *   AMD's guest drivers expect). Without addresses libvirt would give each
 *   hostdev a slot of its own. libvirt adds the PCIe root port the guest
 *   bus needs when the domain has none with that index.
 * - An mdev (its UUID or object path): <hostdev type='mdev'
 *   model='vfio-pci'> with the UUID, and <gpuvirt:mdev> with its parent
 *   and type, so the hook can make it again when it is gone.
 * - A vendor-VFIO VF that carries a type: a PCI hostdev with
 *   managed='no' (it stays on nvidia) and <gpuvirt:vf> with its type. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"

#include <stdio.h>
#include <string.h>

#define GPUVIRT_LIBVIRT_NS "https://gpuvirt.org/xmlns/libvirt/1"
#define PCI_CLASS_BRIDGE 0x06

typedef struct
{
  const char *kind;      /* "pci", "mdev", "vendor-vfio" */
  GPtrArray *functions;  /* char*: host addresses, the GPU first */
  GString *devices;      /* the <hostdev> elements */
  GString *metadata;     /* the gpuvirt:vm element */
  char *uuid;
} Export;

static gboolean
is_object (const char *path)
{
  return path && *path && !g_str_equal (path, "/");
}

static gboolean
parse_address (const char *address, guint *d, guint *b, guint *s, guint *f)
{
  return address && sscanf (address, "%x:%x:%x.%x", d, b, s, f) == 4;
}

static int
cmp_address (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
add_path (GPtrArray *paths, const char *path)
{
  if (!is_object (path))
    return;
  for (guint i = 0; i < paths->len; i++)
    if (g_str_equal (paths->pdata[i], path))
      return;
  g_ptr_array_add (paths, g_strdup (path));
}

static void
add_paths (GPtrArray *paths, GVariant *props, const char *name)
{
  g_autoptr (GVariant) list = props ? g_variant_lookup_value (props, name, G_VARIANT_TYPE ("ao")) : NULL;
  GVariantIter iter;
  const char *p;

  if (!list)
    return;
  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "&o", &p))
    add_path (paths, p);
}

static void
pci_hostdev (GString *out, const char *address, int guest_function, gboolean multifunction)
{
  guint d, b, s, f;

  if (!parse_address (address, &d, &b, &s, &f))
    return;
  g_string_append_printf (out,
                          "<hostdev mode='subsystem' type='pci' managed='no'>\n"
                          "  <source>\n"
                          "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                          "  </source>\n",
                          d, b, s, f);
  if (guest_function >= 0)
    g_string_append_printf (out,
                            "  <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' function='0x%x'%s/>\n",
                            ctl_args.guest_bus, (guint) guest_function, multifunction ? " multifunction='on'" : "");
  g_string_append (out, "</hostdev>\n");
}

/* The functions a bind of PATH takes that a guest can use: the GPU, its
 * companions, and its group's other members but foreign ones and bridges. */
static GPtrArray *
bind_functions (BusModel *model, const char *path)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  const char *gpu_path = props_str (device, "Gpu");
  g_autoptr (GVariant) gpu = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) foreign = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *addresses = g_ptr_array_new_with_free_func (g_free);

  if (!is_object (gpu_path))
    gpu_path = path;
  gpu = bus_model_props (model, gpu_path, GPUVIRT_DEVICE_IFACE);
  add_path (paths, gpu_path);
  add_paths (paths, gpu, "Companions");
  add_paths (paths, gpu, "IommuGroupMembers");
  add_paths (foreign, gpu, "ForeignGroupMembers");
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GVariant) p = bus_model_props (model, paths->pdata[i], GPUVIRT_DEVICE_IFACE);
      gboolean is_foreign = FALSE;

      for (guint j = 0; j < foreign->len; j++)
        is_foreign |= g_str_equal (foreign->pdata[j], paths->pdata[i]);
      if (i > 0 && (is_foreign || !p || (props_uint (p, "Class") >> 16) == PCI_CLASS_BRIDGE))
        continue;
      g_ptr_array_add (addresses, ctl_device_path_to_address (paths->pdata[i]));
    }
  /* the GPU first, the rest by address */
  if (addresses->len > 2)
    g_qsort_with_data (addresses->pdata + 1, addresses->len - 1, sizeof (gpointer),
                       (GCompareDataFunc) cmp_address, NULL);
  return addresses;
}

static void
export_pci (Export *e, BusModel *model, const char *path)
{
  guint d0, b0, s0, f0, d, b, s, f;
  gboolean one_slot = TRUE;

  e->kind = "pci";
  e->functions = bind_functions (model, path);
  parse_address (e->functions->pdata[0], &d0, &b0, &s0, &f0);
  for (guint i = 0; i < e->functions->len; i++)
    {
      parse_address (e->functions->pdata[i], &d, &b, &s, &f);
      one_slot &= d == d0 && b == b0 && s == s0 && f0 == 0;
    }
  if (e->functions->len > 8)
    one_slot = FALSE;
  for (guint i = 0; i < e->functions->len; i++)
    {
      int guest = -1;

      if (e->functions->len > 1 && e->functions->len <= 8)
        {
          /* as on the host when they share a slot there, else in this order */
          parse_address (e->functions->pdata[i], &d, &b, &s, &f);
          guest = one_slot ? (int) f : (int) i;
        }
      pci_hostdev (e->devices, e->functions->pdata[i], guest, guest == 0);
    }
  g_string_append_printf (e->metadata, "<gpuvirt:vm xmlns:gpuvirt='%s'/>\n", GPUVIRT_LIBVIRT_NS);
}

static void
export_mdev (Export *e, GVariant *mdev)
{
  const char *uuid = props_str (mdev, "Uuid");
  g_autofree char *parent = ctl_device_path_to_address (props_str (mdev, "Parent"));

  e->kind = "mdev";
  e->uuid = g_ascii_strdown (uuid, -1);
  e->functions = g_ptr_array_new_with_free_func (g_free);
  if (parent)
    g_ptr_array_add (e->functions, g_strdup (parent));
  g_string_append_printf (e->devices,
                          "<hostdev mode='subsystem' type='mdev' model='vfio-pci' display='off'>\n"
                          "  <source>\n"
                          "    <address uuid='%s'/>\n"
                          "  </source>\n"
                          "</hostdev>\n",
                          e->uuid);
  g_string_append_printf (e->metadata,
                          "<gpuvirt:vm xmlns:gpuvirt='%s'>\n"
                          "  <gpuvirt:mdev uuid='%s' parent='%s' type='%s'/>\n"
                          "</gpuvirt:vm>\n",
                          GPUVIRT_LIBVIRT_NS, e->uuid, parent ? parent : "", props_str (mdev, "Type"));
}

static void
export_vf (Export *e, const char *address, const char *type)
{
  g_autofree char *escaped = g_markup_escape_text (type, -1);

  e->kind = "vendor-vfio";
  e->functions = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (e->functions, g_strdup (address));
  pci_hostdev (e->devices, address, -1, FALSE);
  g_string_append_printf (e->metadata,
                          "<gpuvirt:vm xmlns:gpuvirt='%s'>\n"
                          "  <gpuvirt:vf address='%s' type='%s'/>\n"
                          "</gpuvirt:vm>\n",
                          GPUVIRT_LIBVIRT_NS, address, escaped);
}

static void
print_json (Export *e)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) root = ctl_json_take_object (object);
  JsonArray *functions = json_array_new ();

  json_object_set_string_member (object, "Kind", e->kind);
  for (guint i = 0; i < e->functions->len; i++)
    json_array_add_string_element (functions, e->functions->pdata[i]);
  json_object_set_array_member (object, "Functions", functions);
  if (e->uuid)
    json_object_set_string_member (object, "Uuid", e->uuid);
  else
    json_object_set_null_member (object, "Uuid");
  json_object_set_string_member (object, "Devices", e->devices->str);
  json_object_set_string_member (object, "Metadata", e->metadata->str);
  ctl_json_print (root, ctl_args.json);
}

int
verb_export (sd_bus *bus, int argc, char **argv)
{
  const char *format = argv[1], *arg = argv[2];
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autofree char *path = NULL;
  Export e = { NULL, NULL, g_string_new (NULL), g_string_new (NULL), NULL };
  g_autoptr (GVariant) mdev = NULL;
  int r;

  if (!g_str_equal (format, "libvirt"))
    {
      g_autofree char *m = g_strdup_printf (_("Unknown format '%s': 'export' knows libvirt."), format);
      r = ctl_usage_error (m);
      goto out;
    }
  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    {
      r = ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
      goto out;
    }
  if (g_uuid_string_is_valid (arg))
    {
      g_autofree char *lower = g_ascii_strdown (arg, -1);
      path = g_strconcat (GPUVIRT_MDEVS_PATH "/", lower, NULL);
      g_strdelimit (path + strlen (GPUVIRT_MDEVS_PATH "/"), "-", '_');
    }
  else if (g_str_has_prefix (arg, GPUVIRT_MDEVS_PATH "/"))
    path = g_strdup (arg);
  if (path)
    {
      mdev = bus_model_props (model, path, GPUVIRT_MDEV_IFACE);
      if (!mdev)
        {
          fprintf (stderr, _("No mdev %s on this host ('gpuvirtctl vgpu list' shows them).\n"), arg);
          r = GV_EXIT_NO_SUCH;
          goto out;
        }
      export_mdev (&e, mdev);
    }
  else
    {
      g_autoptr (GVariant) device = NULL;
      g_autoptr (GVariant) vgpu = NULL;
      g_autoptr (GVariant) mdevs = NULL;

      r = ctl_resolve_device (bus, arg, &path);
      if (r != 0)
        goto out;
      device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
      vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);
      mdevs = vgpu ? g_variant_lookup_value (vgpu, "Mdevs", G_VARIANT_TYPE ("ao")) : NULL;
      if (vgpu && *props_str (vgpu, "CurrentType"))
        {
          g_autofree char *address = ctl_device_path_to_address (path);
          export_vf (&e, address, props_str (vgpu, "CurrentType"));
        }
      else if (is_object (props_str (device, "PhysicalFunction")) && mdevs && g_variant_n_children (mdevs) == 1)
        {
          /* a VF that hosts one mdev stands for it, as in 'vgpu remove' */
          const char *mdev_path = NULL;
          g_variant_get_child (mdevs, 0, "&o", &mdev_path);
          mdev = bus_model_props (model, mdev_path, GPUVIRT_MDEV_IFACE);
          if (mdev)
            export_mdev (&e, mdev);
        }
      if (!e.kind)
        {
          if (!props_bool (device, "Managed"))
            {
              fprintf (stderr, _("%s is not managed by gpuvirt: the hook would not bind it. Add it to [Manage] "
                                 "in gpuvirt.conf first.\n"),
                       arg);
              r = GV_EXIT_REFUSED;
              goto out;
            }
          export_pci (&e, model, path);
        }
    }

  if (ctl_args.json != CTL_JSON_OFF)
    print_json (&e);
  else
    /* TRANSLATORS: XML comments around the pasted elements; keep "<devices>" and "<metadata>" */
    printf ("<!-- %s -->\n%s<!-- %s -->\n%s", _("into the domain's <devices>:"), e.devices->str,
            _("into the domain's <metadata>, the opt-in for gpuvirt's libvirt hook:"), e.metadata->str);
  r = GV_EXIT_OK;
out:
  g_string_free (e.devices, TRUE);
  g_string_free (e.metadata, TRUE);
  if (e.functions)
    g_ptr_array_unref (e.functions);
  g_free (e.uuid);
  return r;
}
