/* Object paths of PCI functions and mdevs. */
#pragma once

#include <glib.h>

/* "0000:01:00.0" -> "/org/gpuvirt/devices/pci_0000_01_00_0" */
char *bus_device_path (const char *bdf);
/* The reverse; NULL when PATH is not a device path. */
char *bus_device_path_to_bdf (const char *path);
/* "2f82ee72-3ac5-..." -> "/org/gpuvirt/mdevs/2f82ee72_3ac5_..." */
char *bus_mdev_path (const char *uuid);
char *bus_mdev_path_to_uuid (const char *path);
