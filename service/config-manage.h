/* Which functions beyond GPUs and their companions gpuvirt may change,
 * from the [Manage] group of the configuration file:
 *
 *   [Manage]
 *   Classes=0108;0200     # PCI classes, as 2, 4 or 6 hex digits
 *   Devices=0000:05:00.0  # single functions
 *
 * The rest of the configuration (desired state, boot plan) comes later. */
#pragma once

#include <glib.h>

#include "host-scan.h"

/* Reads FILE (a missing file is an empty configuration) and applies it
 * to HOST. Errors name the file, the line and the key. */
gboolean config_manage_apply (GvHost *host, const char *file, GError **error);
