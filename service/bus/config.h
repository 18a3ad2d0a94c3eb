/* The configuration's properties and methods on org.gpuvirt.Manager
 * (see config.c). */
#pragma once

#include "daemon/daemon.h"

/* The boot plan ended: the calls waiting for it (ApplyConfig, SaveConfig
 * with apply) are answered. */
void bus_config_plan_finished (Daemon *daemon);
