/* DEVICE arguments and the names objects are shown by. */
#pragma once

#include "ctl.h"

/* "/org/gpuvirt/devices/pci_0000_01_00_0" -> "0000:01:00.0", else NULL. */
char *ctl_device_path_to_address (const char *path);
/* "/org/gpuvirt/mdevs/5b6c..._..." -> the UUID, else NULL. */
char *ctl_mdev_path_to_uuid (const char *path);
/* How an object is named to people and scripts: an address, a UUID, NULL
 * for "/" (no object), or the path itself. */
char *ctl_object_name (const char *path);

/* "/org/gpuvirt/devices/pci_0000_01_00_0" for ARG "0000:01:00.0" (the
 * full lower-case form gpuvirtd uses), as the contract names device
 * objects, without asking gpuvirtd; NULL for any other ARG. */
char *ctl_device_path_of_address (const char *arg);

/* Asks gpuvirtd which object ARG (full or short address, or object path)
 * is. On failure prints why and returns the exit code, else 0. */
int ctl_resolve_device (sd_bus *bus, const char *arg, char **ret_path);
