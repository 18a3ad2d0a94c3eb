/* SetNumVfs on org.gpuvirt.Sriov (see sriov.c). */
#pragma once

#include <systemd/sd-bus.h>

int bus_sriov_set_num_vfs (sd_bus_message *m, void *userdata, sd_bus_error *error);
