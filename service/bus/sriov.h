/* SetNumVfs on org.gpuvirt.Sriov (see bus-sriov.c). */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "daemon/daemon.h"

int bus_sriov_set_num_vfs (sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Answers SetNumVfs on functions without org.gpuvirt.Sriov with
 * NotSupported instead of sd-bus' UnknownInterface. */
int bus_sriov_register (Daemon *daemon);
