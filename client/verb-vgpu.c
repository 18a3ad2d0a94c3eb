/* vgpu create DEVICE TYPE and vgpu remove VGPU: one call each of
 * org.gpuvirt.Vgpu.CreateVgpu() on DEVICE and RemoveVgpu() on the GPU the
 * vGPU belongs to. gpuvirtd picks the framework, the VF, the UUID when
 * none is given, and decides whether the type exists and fits. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "polkit-agent.h"
#include "text.h"
#include "vgpu-model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The method call's own timeout: CreateVgpu may enable VFs and wait for
 * them, then write a type or create an mdev, each bounded by timeout-ms,
 * and undo it all on failure; plus however long a password takes. */
#define VGPU_CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)
#define VGPU_CALL_TIMEOUT_PER_WRITE_TIMEOUT 100

/* Info keys printed under their own labels; others (a newer daemon) are
 * printed under their names. */
static const char *const known_info[] = {
  GPUVIRT_INFO_ADDRESS, GPUVIRT_INFO_FRAMEWORK, GPUVIRT_INFO_TYPE, GPUVIRT_INFO_TYPE_NAME,
  GPUVIRT_INFO_VFIO_GROUP_NODE, GPUVIRT_INFO_VFIO_DEVICE_NODE, GPUVIRT_INFO_MDEV_UUID,
  GPUVIRT_INFO_HOSTDEV_XML, NULL,
};

/* Sends M, with the polkit agent up for its duration. */
static int
call (sd_bus *bus, sd_bus_message *m, sd_bus_error *error, sd_bus_message **reply)
{
  guint64 timeout = VGPU_CALL_TIMEOUT_USEC;
  pid_t agent;
  int r;

  r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password);
  if (r < 0)
    return r;
  if (ctl_args.timeout_ms > 0)
    timeout = MAX (timeout, (guint64) ctl_args.timeout_ms * 1000 * VGPU_CALL_TIMEOUT_PER_WRITE_TIMEOUT);
  agent = ctl_polkit_agent_open ();
  r = sd_bus_call (bus, m, timeout, error, reply);
  ctl_polkit_agent_close (agent);
  return r;
}

/* ---- create ---- */

/* After a call the object did not know: is it because DEVICE has no
 * org.gpuvirt.Vgpu at all (not a vGPU GPU), or is gpuvirtd older? */
static gboolean
lacks_vgpu (sd_bus *bus, const char *path, const sd_bus_error *error, char **ret_framework)
{
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GVariant) device = NULL;
  g_autoptr (GVariant) vgpu = NULL;

  if (!sd_bus_error_has_names (error, SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_INTERFACE))
    return FALSE;
  if (bus_model_load (bus, &model, NULL) < 0)
    return FALSE;
  device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);
  if (!device || vgpu)
    return FALSE;
  *ret_framework = g_strdup (props_str (device, "VgpuFramework"));
  return TRUE;
}

static void
print_created (const char *path, GVariant *info)
{
  g_autoptr (CtlFields) fields = ctl_fields_new ();
  const char *type = "", *type_name = "", *hostdev = "";
  GVariantIter iter;
  const char *key;
  GVariant *value;

  (void) g_variant_lookup (info, GPUVIRT_INFO_TYPE, "&s", &type);
  (void) g_variant_lookup (info, GPUVIRT_INFO_TYPE_NAME, "&s", &type_name);
  (void) g_variant_lookup (info, GPUVIRT_INFO_HOSTDEV_XML, "&s", &hostdev);

  ctl_fields_add (fields, _("Object"), path);
  ctl_fields_add (fields, _("Address"), props_str (info, GPUVIRT_INFO_ADDRESS));
  ctl_fields_add (fields, _("Framework"), props_str (info, GPUVIRT_INFO_FRAMEWORK));
  ctl_fields_take (fields, _("Type"), g_strstrip (g_strjoin (" ", type, type_name, NULL)));
  ctl_fields_add (fields, _("mdev UUID"), props_str (info, GPUVIRT_INFO_MDEV_UUID));
  ctl_fields_add (fields, _("VFIO group"), props_str (info, GPUVIRT_INFO_VFIO_GROUP_NODE));
  ctl_fields_add (fields, _("VFIO device"), props_str (info, GPUVIRT_INFO_VFIO_DEVICE_NODE));
  g_variant_iter_init (&iter, info);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (!g_strv_contains (known_info, key))
        ctl_fields_take (fields, key, ctl_text_value (value));
      g_variant_unref (value);
    }
  ctl_fields_print (fields, stdout);
  if (*hostdev)
    /* whole and unindented, to be pasted into a domain's <devices> */
    printf ("\n%s\n%s%s", _("libvirt <hostdev> element (managed='no'):"), hostdev,
            g_str_has_suffix (hostdev, "\n") ? "" : "\n");
}

static void
print_created_json (const char *path, GVariant *info)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) root = ctl_json_take_object (object);
  g_autofree char *name = ctl_object_name (path);

  json_object_set_string_member (object, "Path", path);
  if (name)
    json_object_set_string_member (object, "Object", name);
  else
    json_object_set_null_member (object, "Object");
  json_object_set_object_member (object, "Info", ctl_json_props (info));
  ctl_json_print (root, ctl_args.json);
}

int
verb_vgpu_create (sd_bus *bus, int argc, char **argv)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) info = NULL;
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *framework = NULL;
  const char *type = argv[2];
  const char *object;
  int r;

  if (!*type)
    return ctl_usage_error (_("TYPE is empty: give a type id or name; 'gpuvirtctl types DEVICE' lists them."));
  /* a full address names its object: no lookup before the call */
  path = ctl_device_path_of_address (argv[1]);
  if (!path && (r = ctl_resolve_device (bus, argv[1], &path)) != 0)
    return r;
  address = ctl_object_name (path);

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, path, GPUVIRT_VGPU_IFACE, "CreateVgpu");
  if (r >= 0)
    r = sd_bus_message_append (m, "s", type);
  if (r >= 0)
    r = ctl_open_change_options (m);
  if (r >= 0 && ctl_args.uuid)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_UUID, "s", ctl_args.uuid);
  if (r >= 0 && ctl_args.num_vfs > 0)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_NUM_VFS, "u", ctl_args.num_vfs);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));

  r = call (bus, m, &error, &reply);
  /* no such object: the lookup says why, as for any DEVICE */
  if (r < 0 && sd_bus_error_has_name (&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
    {
      g_autofree char *looked_up = NULL;
      int rr = ctl_resolve_device (bus, argv[1], &looked_up);
      if (rr != 0)
        return rr;
    }
  if (r < 0 && lacks_vgpu (bus, path, &error, &framework))
    {
      /* TRANSLATORS: %s is a PCI address, the second %s a framework name such as "none" */
      fprintf (stderr, _("%s cannot host vGPUs (no org.gpuvirt.Vgpu on its object; vGPU framework: %s).\n"),
               address, ctl_dash (framework));
      ctl_print_hint (GPUVIRT_ERROR_NOT_SUPPORTED);
      return GV_EXIT_REFUSED;
    }
  if (r < 0)
    {
      /* TRANSLATORS: "Could not create a vGPU of type L40S-24Q on 0000:41:00.0" */
      g_autofree char *what = g_strdup_printf (_("Could not create a vGPU of type %s on %s"), type, address);
      return ctl_fail (&error, r, what);
    }

  r = sd_bus_message_read (reply, "o", &object);
  if (r >= 0)
    r = bus_message_read_gvariant (reply, &info);
  if (r >= 0 && !g_variant_is_of_type (info, G_VARIANT_TYPE_VARDICT))
    r = -EBADMSG;
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));

  if (ctl_args.json != CTL_JSON_OFF)
    print_created_json (object, info);
  else
    print_created (object, info);
  return GV_EXIT_OK;
}

/* ---- remove ---- */

/* VGPU as an object path: an mdev's from its UUID or path, else a device
 * object from GetDevice(). On failure prints why and returns the exit
 * code, else 0. */
static int
resolve_vgpu_arg (sd_bus *bus, const char *arg, char **ret_path)
{
  if (g_uuid_string_is_valid (arg))
    {
      g_autofree char *uuid = g_ascii_strdown (arg, -1);

      g_strdelimit (uuid, "-", '_');
      *ret_path = g_strconcat (GPUVIRT_MDEVS_PATH "/", uuid, NULL);
      return 0;
    }
  if (g_str_has_prefix (arg, GPUVIRT_MDEVS_PATH "/"))
    {
      *ret_path = g_strdup (arg);
      return 0;
    }
  if (strchr (arg, ':') || arg[0] == '/')
    return ctl_resolve_device (bus, arg, ret_path);
  {
    g_autofree char *m = g_strdup_printf (_("'%s' is not an mdev UUID, an mdev object path or a VF's PCI address."), arg);
    return ctl_usage_error (m);
  }
}

/* The vGPU PATH names: an mdev or a VF with a type; or a VF that hosts
 * exactly one mdev (mdev-vf GPUs make one vGPU per VF). */
static CtlVgpu *
find_vgpu (BusModel *model, GPtrArray *vgpus, const char *path)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  CtlVgpu *hosted = NULL;
  guint n_hosted = 0;

  for (guint i = 0; i < vgpus->len; i++)
    {
      CtlVgpu *v = vgpus->pdata[i];

      if (g_str_equal (v->path, path))
        return v;
      if (v->is_mdev && g_str_equal (v->parent, path))
        {
          hosted = v;
          n_hosted++;
        }
    }
  if (n_hosted == 1 && g_str_equal (props_str (device, "Kind"), GPUVIRT_KIND_VF))
    return hosted;
  return NULL;
}

static int
no_such_vgpu (GPtrArray *vgpus, const char *arg, const char *path)
{
  g_autoptr (GPtrArray) hosted = g_ptr_array_new ();
  g_autofree char *name = ctl_object_name (path);

  for (guint i = 0; i < vgpus->len; i++)
    {
      CtlVgpu *v = vgpus->pdata[i];
      if (v->is_mdev && g_str_equal (v->parent, path))
        g_ptr_array_add (hosted, v->name);
    }
  if (g_str_has_prefix (path, GPUVIRT_MDEVS_PATH "/"))
    fprintf (stderr, _("No mdev '%s' on this host.\n"), arg);
  else if (hosted->len > 0)
    {
      g_autofree char *list = NULL;

      g_ptr_array_add (hosted, NULL);
      list = g_strjoinv (", ", (char **) hosted->pdata);
      /* TRANSLATORS: %s is a PCI address, then a list of mdev UUIDs */
      fprintf (stderr, _("%s is not a vGPU itself; name one of its mdevs: %s.\n"), name, list);
    }
  else
    /* TRANSLATORS: %s is a PCI address */
    fprintf (stderr, _("%s is not a vGPU: it carries no vGPU type and hosts no mdev.\n"), name);
  fprintf (stderr, "%s\n", _("Hint: 'gpuvirtctl vgpu list' shows every vGPU of this host."));
  return GV_EXIT_NO_SUCH;
}

static void
print_removed (CtlVgpu *v)
{
  g_autofree char *type = g_strstrip (g_strjoin (" ", v->type, v->type_name, NULL));

  if (v->is_mdev)
    /* TRANSLATORS: "Removed mdev 5b6c...-... (nvidia-222 GRID T4-1B) of 0000:81:00.0." */
    printf (_("Removed mdev %s (%s) of %s.\n"), v->name, type, v->address);
  else
    /* TRANSLATORS: "Removed type 1155 NVIDIA L40S-24Q from VF 0000:41:00.4." */
    printf (_("Removed type %s from VF %s.\n"), type, v->name);
}

int
verb_vgpu_remove (sd_bus *bus, int argc, char **argv)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GPtrArray) vgpus = NULL;
  g_autofree char *path = NULL;
  g_autofree char *gpu = NULL;
  CtlVgpu *v;
  int r;

  r = resolve_vgpu_arg (bus, argv[1], &path);
  if (r != 0)
    return r;
  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the vGPUs from gpuvirtd"));
  vgpus = ctl_vgpus_collect (model);
  v = find_vgpu (model, vgpus, path);
  if (!v)
    return no_such_vgpu (vgpus, argv[1], path);
  gpu = ctl_object_name (v->gpu);
  if (!gpu)
    {
      fprintf (stderr, _("Cannot tell which GPU %s belongs to: gpuvirtd names no parent for it.\n"), v->name);
      return GV_EXIT_FAILURE;
    }

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, v->gpu, GPUVIRT_VGPU_IFACE, "RemoveVgpu");
  if (r >= 0)
    r = sd_bus_message_append (m, "o", v->path);
  if (r >= 0)
    r = ctl_open_change_options (m);
  if (r >= 0 && ctl_args.disable_vfs)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_DISABLE_VFS, "b", 1);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));

  r = call (bus, m, &error, NULL);
  if (r < 0)
    {
      /* TRANSLATORS: "Could not remove vGPU 5b6c...-... of 0000:81:00.0" */
      g_autofree char *what = g_strdup_printf (_("Could not remove vGPU %s of %s"), v->name, gpu);
      return ctl_fail (&error, r, what);
    }

  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (json_object_new ());

      json_object_set_object_member (json_node_get_object (root), "Removed", ctl_vgpu_json (v));
      ctl_json_print (root, ctl_args.json);
    }
  else
    print_removed (v);
  return GV_EXIT_OK;
}
