/* The methods of org.gpuvirt.Vgpu and org.gpuvirt.Mdev (see vgpu.c). */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon/daemon.h"

int bus_vgpu_set_type (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_vgpu_release_type (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_vgpu_create_mdev (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_vgpu_create_vgpu (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_vgpu_create_vgpus (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_vgpu_remove_vgpu (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_vgpu_mdev_remove (sd_bus_message *m, void *userdata, sd_bus_error *error);
