/* The bus layer: org.gpuvirt's objects over the daemon's core. gpuvirtd
 * creates the core with bus_handlers, then registers the objects. */
#pragma once

#include "daemon/daemon.h"

/* What the core calls when the bus has something to announce or a
 * worker reports. */
extern const DaemonHandlers bus_handlers;

/* Registers the Manager (with the ObjectManager), the device and mdev
 * objects and the filters on DAEMON's bus, and takes note of what exists
 * now (announce.h). */
int bus_register (Daemon *daemon);
