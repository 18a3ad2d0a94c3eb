/* The registration of each family of objects (manager.c, config.c,
 * device.c, mdev.c) and of the filters that answer a method on an object
 * without its interface (sriov.c, vgpu.c). bus_register() calls them. */
#pragma once

#include "daemon/daemon.h"

int bus_manager_register (Daemon *daemon);
int bus_config_register (Daemon *daemon);
int bus_device_register (Daemon *daemon);
int bus_mdev_register (Daemon *daemon);
int bus_sriov_register (Daemon *daemon);
int bus_vgpu_register (Daemon *daemon);

/* What a Get of IFACE.PROP on the device object PATH returns now, as
 * text (NULL when it has no such property or the getter fails): the
 * announcer compares it with what it announced last. */
char *bus_device_property_text (Daemon *daemon, const char *path, const char *iface, const char *prop);
