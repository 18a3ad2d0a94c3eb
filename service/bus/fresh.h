/* Bounded staleness of the vGPU files that change without a uevent: read
 * again when a client reads them (see fresh.c). */
#pragma once

#include "daemon/daemon.h"

int bus_fresh_register (Daemon *daemon);
