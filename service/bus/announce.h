/* How the daemon's changes reach the bus: objects that appear or go
 * (InterfacesAdded/Removed, at once) and properties that change
 * (PropertiesChanged, batched per object once per main-loop iteration,
 * each property once per change). These are the core's handlers
 * (bus_handlers in bus.h). */
#pragma once

#include "daemon/daemon.h"

/* The interfaces a function's object carries. */
enum {
  BUS_IFACE_DEVICE = 1 << 0,
  BUS_IFACE_SRIOV = 1 << 1,
  BUS_IFACE_VGPU = 1 << 2,
};
guint bus_device_interfaces (GvHostDevice *device);

/* Sets up what the bus layer keeps in DAEMON (what was announced, the
 * batch) and takes note of the objects present at start. */
void bus_announce_init (Daemon *daemon);

/* Sends every PropertiesChanged queued, now: before a method's reply,
 * so that a caller has seen the change announced once it has its answer. */
void bus_announce_flush (Daemon *daemon);

/* Queues property NAME of IFACE on BDF's object, when the object carries
 * that interface: for what the bus layer itself changes (Sriov.Pending). */
void bus_announce_property (Daemon *daemon, const char *bdf, const char *iface, const char *name);

/* The core's handlers. */
void bus_announce_host_changed (Daemon *daemon, const GvHostChanges *changes, GHashTable *before);
void bus_announce_state_changed (Daemon *daemon, const char *bdf, gboolean will);
void bus_announce_manager_changed (Daemon *daemon, const char *const *names);
