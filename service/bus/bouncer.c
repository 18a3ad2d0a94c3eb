/* The table from method to polkit action (see bouncer.h). */
#include "bus/bouncer.h"

#include "gpuvirt-names.h"

#include <errno.h>

static const struct {
  const char *interface;
  const char *member;
  const char *action;
  const char *force_action;  /* with force or allow-foreign; NULL: none stronger */
} rules[] = {
  { GPUVIRT_DEVICE_IFACE, "BindVfio", GPUVIRT_ACTION_ASSIGN, GPUVIRT_ACTION_ASSIGN_FORCE },
  { GPUVIRT_DEVICE_IFACE, "GiveBack", GPUVIRT_ACTION_ASSIGN, GPUVIRT_ACTION_ASSIGN_FORCE },
  { GPUVIRT_DEVICE_IFACE, "Unbind", GPUVIRT_ACTION_ASSIGN, GPUVIRT_ACTION_ASSIGN_FORCE },
  { GPUVIRT_MANAGER_IFACE, "BindVfio", GPUVIRT_ACTION_ASSIGN, GPUVIRT_ACTION_ASSIGN_FORCE },
  { GPUVIRT_MANAGER_IFACE, "GiveBack", GPUVIRT_ACTION_ASSIGN, GPUVIRT_ACTION_ASSIGN_FORCE },
  { GPUVIRT_MANAGER_IFACE, "Unbind", GPUVIRT_ACTION_ASSIGN, GPUVIRT_ACTION_ASSIGN_FORCE },
  { GPUVIRT_SRIOV_IFACE, "SetNumVfs", GPUVIRT_ACTION_SRIOV, NULL },
  { GPUVIRT_VGPU_IFACE, "SetType", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_VGPU_IFACE, "ReleaseType", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_VGPU_IFACE, "CreateMdev", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_VGPU_IFACE, "CreateVgpu", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_VGPU_IFACE, "CreateVgpus", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_VGPU_IFACE, "RemoveVgpu", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_MDEV_IFACE, "Remove", GPUVIRT_ACTION_VGPU, NULL },
  { GPUVIRT_MIG_IFACE, "SetMode", GPUVIRT_ACTION_MIG, NULL },
  { GPUVIRT_MIG_IFACE, "CreateGpuInstances", GPUVIRT_ACTION_MIG, NULL },
  { GPUVIRT_MIG_IFACE, "DestroyGpuInstances", GPUVIRT_ACTION_MIG, NULL },
  { GPUVIRT_MANAGER_IFACE, "SaveConfig", GPUVIRT_ACTION_CONFIG, NULL },
  { GPUVIRT_MANAGER_IFACE, "ApplyConfig", GPUVIRT_ACTION_CONFIG, NULL },
};

const char *
bus_bouncer_action (const char *interface, const char *member, gboolean force)
{
  for (gsize i = 0; interface && member && i < G_N_ELEMENTS (rules); i++)
    if (g_str_equal (rules[i].interface, interface) && g_str_equal (rules[i].member, member))
      return force && rules[i].force_action ? rules[i].force_action : rules[i].action;
  return NULL;
}

int
bus_bouncer_check (Daemon *daemon, sd_bus_message *m, BusNeed need, const char *const *details, sd_bus_error *error)
{
  const char *actions[3] = { NULL };
  guint n = 0;

  if (need & (BUS_NEED_ACTION | BUS_NEED_FORCE)) {
    const char *action = bus_bouncer_action (sd_bus_message_get_interface (m), sd_bus_message_get_member (m),
                                             need & BUS_NEED_FORCE);
    if (!action)
      return sd_bus_error_setf (error, SD_BUS_ERROR_ACCESS_DENIED, "%s.%s has no polkit action; refused",
                                sd_bus_message_get_interface (m), sd_bus_message_get_member (m));
    actions[n++] = action;
  }
  /* recording in the configuration is a change of its own */
  if ((need & BUS_NEED_PERSIST) && (n == 0 || !g_str_equal (actions[0], GPUVIRT_ACTION_CONFIG)))
    actions[n++] = GPUVIRT_ACTION_CONFIG;
  if (n == 0)
    return sd_bus_error_set (error, SD_BUS_ERROR_ACCESS_DENIED, "Nothing to authorize; refused");
  return daemon_polkit_check_all (daemon->polkit, m, actions, details, error);
}
