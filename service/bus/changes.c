/* Property-level differences between model snapshots (see changes.h).
 * Each property is compared on the model fields it is computed from. */
#include "bus/changes.h"

#include <string.h>

static gboolean
strv_same (GStrv a, GStrv b)
{
  if (!a || !b)
    return (!a || !*a) && (!b || !*b);
  return g_strv_equal ((const char *const *) a, (const char *const *) b);
}

static GStrv
finish (GPtrArray *names)
{
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

#define CHANGED(cond, name) G_STMT_START { if (cond) g_ptr_array_add (names, g_strdup (name)); } G_STMT_END

GStrv
bus_changed_device_properties (const GvHostDevice *old, const GvHostDevice *now)
{
  GPtrArray *names = g_ptr_array_new ();
  const GvHostFunction *a = old->fn, *b = now->fn;
  gboolean driver = g_strcmp0 (a->driver, b->driver) != 0;

  CHANGED (old->role != now->role, "Kind");
  CHANGED (old->managed != now->managed, "Managed");
  CHANGED (driver, "Driver");
  CHANGED (g_strcmp0 (a->driver_override, b->driver_override) != 0, "DriverOverride");
  CHANGED (!strv_same (old->group_members, now->group_members), "IommuGroupMembers");
  CHANGED (old->verdict != now->verdict, "GroupVerdict");
  CHANGED (!strv_same (old->foreign, now->foreign), "ForeignGroupMembers");
  CHANGED (!strv_same (old->companions, now->companions), "Companions");
  CHANGED (g_strcmp0 (old->owner, now->owner) != 0, "Gpu");
  CHANGED (g_strcmp0 (old->vfio_group_node, now->vfio_group_node) != 0, "VfioGroupNode");
  CHANGED (g_strcmp0 (a->vfio_cdev_node, b->vfio_cdev_node) != 0, "VfioDeviceNode");
  CHANGED (old->framework != now->framework, "VgpuFramework");
  return finish (names);
}

GStrv
bus_changed_sriov_properties (const GvHostDevice *old, const GvHostDevice *now)
{
  GPtrArray *names = g_ptr_array_new ();

  CHANGED (old->fn->sriov_numvfs != now->fn->sriov_numvfs, "NumVfs");
  CHANGED (!strv_same (old->fn->vfs, now->fn->vfs), "VirtualFunctions");
  return finish (names);
}

