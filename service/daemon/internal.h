/* What the daemon core's files share. Not for the bus layer. */
#pragma once

#include "daemon/daemon.h"

/* Runs on the main loop for each report of the boot plan's worker (config.c). */
void daemon_plan_report (gpointer item, gpointer user_data);
