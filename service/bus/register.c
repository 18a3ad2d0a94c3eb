/* The bus layer put together (see bus.h). */
#include "bus/bus.h"
#include "bus/announce.h"
#include "bus/config.h"
#include "bus/fresh.h"
#include "bus/objects.h"
#include "bus/passthrough.h"
#include "bus/vgpu-op.h"

const DaemonHandlers bus_handlers = {
  .host_changed = bus_announce_host_changed,
  .state_changed = bus_announce_state_changed,
  .manager_changed = bus_announce_manager_changed,
  .plan_finished = bus_config_plan_finished,
  .passthrough_report = bus_passthrough_report,
  .vgpu_report = bus_vgpu_op_report,
};

int
bus_register (Daemon *daemon)
{
  int r;

  bus_announce_init (daemon);
  if ((r = bus_manager_register (daemon)) < 0 || (r = bus_config_register (daemon)) < 0 ||
      (r = bus_device_register (daemon)) < 0 || (r = bus_mdev_register (daemon)) < 0 ||
      (r = bus_sriov_register (daemon)) < 0 || (r = bus_vgpu_register (daemon)) < 0 ||
      (r = bus_fresh_register (daemon)) < 0)
    return r;
  return 0;
}
