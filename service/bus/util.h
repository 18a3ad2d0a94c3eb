/* Small helpers shared by the bus objects. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "daemon/daemon.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)

/* Appends "ao" of the device paths of N BDFs. */
int bus_append_device_paths (sd_bus_message *reply, const char *const *bdfs, guint n);
/* "0000:01:00.0", "01:00.0" or a device object path -> full BDF; NULL
 * with InvalidArgs naming the problem otherwise. */
char *bus_resolve_device_argument (const char *text, sd_bus_error *error);
/* "o" of the device path of BDF, or "/" when BDF is NULL or empty. */
int bus_append_device_path_or_root (sd_bus_message *reply, const char *bdf);

/* ERROR (GV_ERROR) as the D-Bus error it answers as; returns < 0. */
int bus_error_set (sd_bus_error *error, const GError *gerror);
/* The function whose object M is called on, when it is there and
 * gpuvirtd manages it; NULL with ERROR set (NoSuchDevice, NotManaged)
 * otherwise. */
GvHostDevice *bus_device_of_call (Daemon *daemon, sd_bus_message *m, sd_bus_error *error);
