/* org.gpuvirt.Mdev on /org/gpuvirt/mdevs/<uuid>: one object per mediated
 * device, from the host model. */
#include "bus/objects.h"
#include "bus/paths.h"
#include "bus/util.h"
#include "bus/vgpu.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>

static GvHostMdev *
mdev_at (Daemon *daemon, const char *path)
{
  g_autofree char *uuid = bus_mdev_path_to_uuid (path);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  for (guint i = 0; uuid && i < mdevs->len; i++)
    if (g_ascii_strcasecmp (((GvHostMdev *) mdevs->pdata[i])->uuid, uuid) == 0)
      return mdevs->pdata[i];
  return NULL;
}

static const char *
type_name (Daemon *daemon, GvHostMdev *mdev)
{
  GvHostDevice *parent = gv_host_lookup (daemon->host, mdev->parent);

  for (guint i = 0; parent && parent->fn->mdev_types && i < parent->fn->mdev_types->len; i++) {
    GvHostMdevType *t = parent->fn->mdev_types->pdata[i];
    if (g_str_equal (t->id, mdev->type_id))
      return t->name;
  }
  return "";
}

/* Every getter's head: the mdev at PATH, or the call fails. */
#define MDEV_OR_FAIL(daemon, path)                                                              \
  GvHostMdev *mdev = mdev_at (daemon, path);                                                    \
  if (!mdev)                                                                                    \
    return sd_bus_error_setf (error, GPUVIRT_ERROR_NO_SUCH_DEVICE, "%s is gone", path)

#define GETTER(name, signature, value)                                                          \
  static int                                                                                    \
  get_##name (sd_bus *bus, const char *path, const char *iface, const char *prop,               \
              sd_bus_message *reply, void *userdata, sd_bus_error *error)                       \
  {                                                                                             \
    Daemon *daemon = userdata;                                                                  \
    MDEV_OR_FAIL (daemon, path);                                                                \
    return sd_bus_message_append (reply, signature, value);                                     \
  }

GETTER (uuid, "s", mdev->uuid)
GETTER (type, "s", mdev->type_id)
GETTER (type_name, "s", type_name (daemon, mdev))
GETTER (iommu_group, "i", mdev->iommu_group)
GETTER (vfio_group_node, "s", mdev->vfio_group_node ? mdev->vfio_group_node : "")
GETTER (vfio_device_node, "s", mdev->vfio_cdev_node ? mdev->vfio_cdev_node : "")

static int
get_parent (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
            void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  MDEV_OR_FAIL (daemon, path);
  return bus_append_device_path_or_root (reply, mdev->parent);
}

/* The processes holding the mdev's VFIO nodes (its parent's holders
 * filtered to those nodes). */
static int
get_mdev_holders (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                  void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (GPtrArray) holders = NULL;
  g_autoptr (GError) local = NULL;
  int r;
  MDEV_OR_FAIL (daemon, path);

  holders = daemon_holders (daemon, mdev->parent, &local);
  if (!holders)
    return sd_bus_error_setf (error, SD_BUS_ERROR_FAILED, "Could not read who holds %s: %s", mdev->uuid, local->message);
  r = sd_bus_message_open_container (reply, 'a', "(uss)");
  for (guint i = 0; r >= 0 && i < holders->len; i++) {
    GvHostHolder *h = holders->pdata[i];
    if (g_strcmp0 (h->node, mdev->vfio_group_node) != 0 && g_strcmp0 (h->node, mdev->vfio_cdev_node) != 0)
      continue;
    r = sd_bus_message_append (reply, "(uss)", (guint32) h->pid, h->comm ? h->comm : "", h->node);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static const sd_bus_vtable mdev_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("Uuid", "s", get_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("Type", "s", get_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("TypeName", "s", get_type_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("Parent", "o", get_parent, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("IommuGroup", "i", get_iommu_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("VfioGroupNode", "s", get_vfio_group_node, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("VfioDeviceNode", "s", get_vfio_device_node, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY ("Holders", "a(uss)", get_mdev_holders, 0, 0),
  SD_BUS_METHOD_WITH_ARGS ("Remove", SD_BUS_ARGS ("a{sv}", options), SD_BUS_NO_RESULT, bus_vgpu_mdev_remove,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

static int
find_mdev (sd_bus *bus, const char *path, const char *iface, void *userdata, void **found, sd_bus_error *error)
{
  if (!mdev_at (userdata, path))
    return 0;
  *found = userdata;
  return 1;
}

static int
enumerate_mdevs (sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  GPtrArray *list = g_ptr_array_sized_new (mdevs->len + 1);

  for (guint i = 0; i < mdevs->len; i++)
    g_ptr_array_add (list, bus_mdev_path (((GvHostMdev *) mdevs->pdata[i])->uuid));
  g_ptr_array_add (list, NULL);
  /* g_malloc is the system malloc (GLib >= 2.46): sd-bus may free() it */
  *nodes = (char **) g_ptr_array_free (list, FALSE);
  return 0;
}

int
bus_mdev_register (Daemon *daemon)
{
  int r = sd_bus_add_fallback_vtable (daemon->bus, NULL, GPUVIRT_MDEVS_PATH, GPUVIRT_MDEV_IFACE, mdev_vtable,
                                      find_mdev, daemon);
  if (r >= 0)
    r = sd_bus_add_node_enumerator (daemon->bus, NULL, GPUVIRT_MDEVS_PATH, enumerate_mdevs, daemon);
  return r;
}
