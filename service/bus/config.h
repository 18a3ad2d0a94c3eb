/* The configuration's properties and methods on org.gpuvirt.Manager
 * (see bus-config.c). */
#pragma once

#include "daemon/daemon.h"

int bus_config_register (Daemon *daemon);
