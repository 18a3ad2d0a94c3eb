/* What the daemon core's files share. Not for the bus layer. */
#pragma once

#include "daemon/daemon.h"

/* Runs on the main loop for each report of the boot plan's worker (config.c). */
void daemon_plan_report (gpointer item, gpointer user_data);
/* Runs on the main loop for each MIG refresh (mig.c). */
void daemon_mig_report (gpointer item, gpointer user_data);
/* Reads every MIG GPU again, blocking: before serving, after recovery
 * changed what NVML shows. */
void daemon_mig_read_all (Daemon *daemon);
/* After a refresh: reads again the GPUs whose driver or VFs changed. */
void daemon_mig_follow (Daemon *daemon, const GvHostChanges *changes, GHashTable *before);
