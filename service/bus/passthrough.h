/* BindVfio, GiveBack and Unbind (see passthrough.c): handlers for the
 * Device and Manager vtables. */
#pragma once

#include "daemon/daemon.h"

int bus_passthrough_bind (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_passthrough_give_back (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_passthrough_unbind (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_passthrough_bulk_bind (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_passthrough_bulk_give_back (sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_passthrough_bulk_unbind (sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Progress and results from the worker threads, on the main loop. */
void bus_passthrough_report (gpointer item, gpointer user_data);
