/* vGPUs are two kinds of object in the API: org.gpuvirt.Mdev objects, and
 * device objects of vendor-VFIO VFs whose Vgpu.CurrentType is set. Both
 * belong to a GPU, whose Vgpu.RemoveVgpu() removes them; an mdev's GPU is
 * found through its Parent (the GPU itself, or a VF of it). */
#include "vgpu-model.h"

#include "device-arg.h"
#include "gpuvirt-names.h"
#include "json-out.h"

#include <string.h>

void
ctl_vgpu_free (CtlVgpu *vgpu)
{
  if (!vgpu)
    return;
  g_free (vgpu->path);
  g_free (vgpu->gpu);
  g_free (vgpu->parent);
  g_free (vgpu->name);
  g_free (vgpu->address);
  g_free (vgpu->framework);
  g_free (vgpu->uuid);
  g_free (vgpu->type);
  g_free (vgpu->type_name);
  g_free (vgpu->vfio_group_node);
  g_free (vgpu->vfio_device_node);
  g_clear_pointer (&vgpu->holders, g_variant_unref);
  g_free (vgpu);
}

static gboolean
is_object (const char *path)
{
  return path && *path && !g_str_equal (path, "/");
}

char *
ctl_gpu_of_function (BusModel *model, const char *path)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  const char *gpu = props_str (device, "Gpu");

  if (!is_object (gpu))
    gpu = props_str (device, "PhysicalFunction");
  return g_strdup (is_object (gpu) ? gpu : path);
}

/* The framework of the function's GPU, as the function reports it. */
static char *
framework_of (BusModel *model, const char *path)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  g_autoptr (GVariant) vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);
  const char *framework = props_str (device, "VgpuFramework");

  return g_strdup (*framework ? framework : props_str (vgpu, "Framework"));
}

static GVariant *
holders_of (GVariant *props)
{
  GVariant *v = props ? g_variant_lookup_value (props, "Holders", G_VARIANT_TYPE ("a(uss)")) : NULL;

  return v ? v : g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("(uss)"), NULL, 0));
}

static CtlVgpu *
mdev_vgpu (BusModel *model, const char *path, GVariant *mdev)
{
  CtlVgpu *v = g_new0 (CtlVgpu, 1);
  const char *parent = props_str (mdev, "Parent");
  g_autofree char *uuid = ctl_mdev_path_to_uuid (path);

  v->path = g_strdup (path);
  v->is_mdev = TRUE;
  v->parent = g_strdup (parent);
  v->gpu = is_object (parent) ? ctl_gpu_of_function (model, parent) : g_strdup ("/");
  v->uuid = g_strdup (*props_str (mdev, "Uuid") ? props_str (mdev, "Uuid") : uuid ? uuid : "");
  v->name = g_strdup (*v->uuid ? v->uuid : path);
  v->address = is_object (parent) ? ctl_object_name (parent) : g_strdup ("");
  v->framework = framework_of (model, parent);
  v->type = g_strdup (props_str (mdev, "Type"));
  v->type_name = g_strdup (props_str (mdev, "TypeName"));
  v->vfio_group_node = g_strdup (props_str (mdev, "VfioGroupNode"));
  v->vfio_device_node = g_strdup (props_str (mdev, "VfioDeviceNode"));
  v->holders = holders_of (mdev);
  return v;
}

static CtlVgpu *
vf_vgpu (BusModel *model, const char *path, GVariant *device, GVariant *vgpu)
{
  CtlVgpu *v = g_new0 (CtlVgpu, 1);

  v->path = g_strdup (path);
  v->parent = g_strdup (path);
  v->gpu = ctl_gpu_of_function (model, path);
  v->name = ctl_object_name (path);
  v->address = g_strdup (v->name);
  v->framework = framework_of (model, path);
  v->uuid = g_strdup ("");
  v->type = g_strdup (props_str (vgpu, "CurrentType"));
  v->type_name = g_strdup (props_str (vgpu, "CurrentTypeName"));
  v->vfio_group_node = g_strdup (props_str (device, "VfioGroupNode"));
  v->vfio_device_node = g_strdup (props_str (device, "VfioDeviceNode"));
  v->holders = holders_of (device);
  return v;
}

static int
compare_vgpus (gconstpointer a, gconstpointer b)
{
  const CtlVgpu *x = *(const CtlVgpu *const *) a, *y = *(const CtlVgpu *const *) b;
  /* device paths embed the zero-padded address: path order is address order */
  int c = strcmp (x->gpu, y->gpu);

  return c ? c : strcmp (x->name, y->name);
}

GPtrArray *
ctl_vgpus_collect (BusModel *model)
{
  GPtrArray *vgpus = g_ptr_array_new_with_free_func ((GDestroyNotify) ctl_vgpu_free);
  g_autoptr (GPtrArray) mdevs = bus_model_paths (model, GPUVIRT_MDEV_IFACE);
  g_autoptr (GPtrArray) functions = bus_model_paths (model, GPUVIRT_VGPU_IFACE);

  for (guint i = 0; i < mdevs->len; i++)
    {
      g_autoptr (GVariant) mdev = bus_model_props (model, mdevs->pdata[i], GPUVIRT_MDEV_IFACE);
      g_ptr_array_add (vgpus, mdev_vgpu (model, mdevs->pdata[i], mdev));
    }
  for (guint i = 0; i < functions->len; i++)
    {
      g_autoptr (GVariant) vgpu = bus_model_props (model, functions->pdata[i], GPUVIRT_VGPU_IFACE);
      g_autoptr (GVariant) device = bus_model_props (model, functions->pdata[i], GPUVIRT_DEVICE_IFACE);

      /* CurrentType is "" on everything but a vendor-VFIO VF with a type */
      if (*props_str (vgpu, "CurrentType"))
        g_ptr_array_add (vgpus, vf_vgpu (model, functions->pdata[i], device, vgpu));
    }
  g_ptr_array_sort (vgpus, compare_vgpus);
  return vgpus;
}

char *
ctl_holders_users (GVariant *holders)
{
  g_autoptr (GPtrArray) users = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *command, *node;
  guint32 pid;

  g_variant_iter_init (&iter, holders);
  while (g_variant_iter_next (&iter, "(u&s&s)", &pid, &command, &node))
    {
      /* one process may hold the group node and the device node */
      char *user = g_strdup_printf ("%s (%u)", command, pid);

      if (g_ptr_array_find_with_equal_func (users, user, g_str_equal, NULL))
        g_free (user);
      else
        g_ptr_array_add (users, user);
    }
  g_ptr_array_add (users, NULL);
  return g_strjoinv (", ", (char **) users->pdata);
}

JsonObject *
ctl_vgpu_json (CtlVgpu *v)
{
  JsonObject *object = json_object_new ();
  g_autofree char *gpu = ctl_object_name (v->gpu);

  json_object_set_string_member (object, "Path", v->path);
  json_object_set_string_member (object, "Vgpu", v->name);
  if (gpu)
    json_object_set_string_member (object, "Gpu", gpu);
  else
    json_object_set_null_member (object, "Gpu");
  json_object_set_string_member (object, "Framework", v->framework);
  json_object_set_string_member (object, "Address", v->address);
  json_object_set_string_member (object, "Uuid", v->uuid);
  json_object_set_string_member (object, "Type", v->type);
  json_object_set_string_member (object, "TypeName", v->type_name);
  json_object_set_string_member (object, "VfioGroupNode", v->vfio_group_node);
  json_object_set_string_member (object, "VfioDeviceNode", v->vfio_device_node);
  json_object_set_member (object, "Holders", ctl_json_value ("Holders", v->holders));
  return object;
}
