/* An end-to-end test bed: a private system bus run by dbus-daemon with the
 * project's own bus policy (data/org.gpuvirt.conf), a polkit authority mock
 * (python3-dbusmock's polkitd template), the simulated host of a scenario,
 * and gpuvirtd serving it. */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <systemd/sd-bus.h>

#include "sim-mount.h"

typedef struct {
  char *dir;          /* sockets, configuration, state; readable by others */
  char *address;      /* the private system bus */
  SimMount *mount;    /* NULL when serving this machine's /sys */
  char *root;
  char *state_dir;    /* gpuvirtd's records, kept across restarts */
  char *config;       /* gpuvirtd's configuration file (absent unless given) */
  GPid bus_pid, polkit_pid, daemon_pid;
  sd_bus *bus;        /* the test's own connection (as root) */
  char *daemon_log;
} BusHarness;

/* Starts everything; polkit allows nothing until bus_harness_polkit_allow().
 * SCENARIO NULL serves this machine's real /sys: for read-only tests only. */
BusHarness *bus_harness_start (const char *scenario);
/* The same, with CONFIG_TEXT as gpuvirtd's configuration file. */
BusHarness *bus_harness_start_with_config (const char *scenario, const char *config_text);
void bus_harness_stop (BusHarness *h);
/* SetAllowed on the polkit mock (NULL-terminated action ids). */
void bus_harness_polkit_allow (BusHarness *h, const char *const *actions);
/* Restarts gpuvirtd on the same bus and host (state kept). */
void bus_harness_restart_daemon (BusHarness *h);
/* Runs ARGV with DBUS_SYSTEM_BUS_ADDRESS set, as root or, when
 * UNPRIVILEGED, as user nobody; returns its exit status and output. */
int bus_harness_run (BusHarness *h, gboolean unprivileged, const char *const *argv, char **out, char **err);
/* A copy of BINARY that user nobody can run (the checkout may be private). */
char *bus_harness_public_copy (BusHarness *h, const char *binary);
/* The daemon's log so far (for failure messages). */
char *bus_harness_daemon_log (BusHarness *h);

/* A GDBus connection to the private bus at ADDRESS (asserts on failure). */
GDBusConnection *bus_harness_connect (const char *address);
/* Calls METHOD on org.gpuvirt; the reply, or NULL with the remote error's
 * name and message in *NAME and *MESSAGE (either may be NULL; previous
 * values are freed, so callers can reuse them). */
GVariant *bus_harness_call (GDBusConnection *c, const char *path, const char *iface, const char *method,
                            GVariant *params, const GVariantType *reply_type, char **name, char **message);
/* Reads (stripped; "" when unreadable) and writes (0 or errno) a file of
 * the simulated host. */
char *bus_harness_read_sim (BusHarness *h, const char *rel);
int bus_harness_write_sim (BusHarness *h, const char *rel, const char *data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusHarness, bus_harness_stop)
