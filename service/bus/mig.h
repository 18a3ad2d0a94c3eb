/* org.gpuvirt.Mig (mig.c): the MIG GPUs' interface and its methods. */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon/daemon.h"

/* The interface's vtable (a property's value as text, device.c). */
const sd_bus_vtable *bus_mig_vtable (void);
/* The daemon's handler for the MIG workers' reports (bus_handlers). */
void bus_mig_report (gpointer item, gpointer user_data);
