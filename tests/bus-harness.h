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
  char *libvirt_dir;  /* gpuvirtd's libvirt domain definitions (absent unless a test makes it) */
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

/* ---- what the tests share (bus-harness-helpers.c) ---- */

/* "/org/gpuvirt/devices/pci_0000_01_00_0" for "0000:01:00.0". */
char *bus_harness_device_path (const char *bdf);
/* The address of VF I of PF "0000:BB:00.0" (offset 4, stride 1 on every
 * SR-IOV GPU of the scenarios). */
char *bus_harness_vf_bdf (const char *pf, guint i);
/* Properties.Get of IFACE.PROP on PATH: the value; a failed call fails the test. */
GVariant *bus_harness_get_property (GDBusConnection *c, const char *path, const char *iface, const char *prop);
/* A string property of BDF's device object. */
char *bus_harness_device_string (GDBusConnection *c, const char *bdf, const char *iface, const char *prop);
/* org.gpuvirt.Sriov.NumVfs of PF's device object. */
guint bus_harness_num_vfs (GDBusConnection *c, const char *pf);
/* The string KEY of a CreateVgpu reply's info (the test fails without it). */
char *bus_harness_vgpu_info_string (GVariant *reply, const char *key);

/* The simulated host's write log: read, emptied, asserted empty (the
 * call in between wrote nothing); lines of TEXT that contain NEEDLE. */
char *bus_harness_sim_log (BusHarness *h);
void bus_harness_clear_sim_log (BusHarness *h);
void bus_harness_assert_no_writes (BusHarness *h);
guint bus_harness_count_lines (const char *text, const char *needle);

/* The object paths of the InterfacesAdded and InterfacesRemoved signals
 * org.gpuvirt sent since bus_harness_signals_start(), in order. */
typedef struct {
  GPtrArray *added;
  GPtrArray *removed;
  guint subscriptions[2];
} BusHarnessSignals;

void bus_harness_signals_start (BusHarnessSignals *signals, GDBusConnection *c);
void bus_harness_signals_stop (BusHarnessSignals *signals, GDBusConnection *c);
gboolean bus_harness_paths_contain (GPtrArray *paths, const char *path);
/* Signals sent before a reply are queued before it: lets them dispatch. */
void bus_harness_drain (void);

/* Fails the test unless REPLY is NULL with the error WANT and a MESSAGE
 * that contains WORDS (NULL: any message); CALL is named in failures. */
void bus_harness_check_error (GVariant *reply, const char *call, const char *name, const char *message,
                              const char *want, const char *words);

/* Asserts CALL succeeds; CALL is given &ok_name, &ok_message for the
 * error it reports otherwise. */
#define EXPECT_OK(call)                                                                                                \
  G_STMT_START {                                                                                                       \
    g_autofree char *ok_name = NULL;                                                                                   \
    g_autofree char *ok_message = NULL;                                                                                \
    GVariant *ok_reply = (call);                                                                                       \
    if (!ok_reply)                                                                                                     \
      g_error ("%s failed: %s: %s", #call, ok_name, ok_message);                                                       \
    g_variant_unref (ok_reply);                                                                                        \
  } G_STMT_END

/* Asserts CALL (given &err_name, &err_message) fails with ERROR_NAME and
 * a message that contains WORDS (NULL: any message). */
#define EXPECT_ERROR(call, error_name, words)                                                                          \
  G_STMT_START {                                                                                                       \
    g_autofree char *err_name = NULL;                                                                                  \
    g_autofree char *err_message = NULL;                                                                               \
    GVariant *err_reply = (call);                                                                                      \
    bus_harness_check_error (err_reply, #call, err_name, err_message, error_name, words);                              \
  } G_STMT_END

/* gpuvirtctl's exit status and output. */
typedef struct {
  int status;
  char *out, *err;
} BusHarnessCtlRun;

void bus_harness_ctl_run_clear (BusHarnessCtlRun *run);
/* Runs gpuvirtctl ARGS... (NULL-terminated) as root or, UNPRIVILEGED, as
 * nobody, into RUN (cleared first); logs the command line and the output
 * and returns the exit status. */
int bus_harness_ctl (BusHarness *h, gboolean unprivileged, BusHarnessCtlRun *run, ...) G_GNUC_NULL_TERMINATED;

/* Every property of every object as GetManagedObjects gives it:
 * "PATH IFACE PROP" -> its value printed (g_variant_print). */
GHashTable *bus_harness_all_properties (GDBusConnection *c);

/* The PropertiesChanged org.gpuvirt sends between start and stop:
 * "PATH IFACE PROP" -> GPtrArray of the values announced, in order. */
typedef struct {
  GHashTable *announced;
  GPtrArray *signals;   /* each signal's "PATH IFACE PROP" -> value, in order */
  guint id;
} BusHarnessChanges;

void bus_harness_changes_start (BusHarnessChanges *changes, GDBusConnection *c);
/* Stops listening; returns what was announced (CHANGES->signals stays
 * valid until then: read it before stopping). */
GHashTable *bus_harness_changes_stop (BusHarnessChanges *changes, GDBusConnection *c);
/* Fails the test (naming WHAT) unless every announcement of ANNOUNCED is
 * a change (never the value before it again), the last one is what a Get
 * gives now (AFTER), and every emitting property that differs between
 * BEFORE and AFTER was announced. */
void bus_harness_assert_announced_once (GHashTable *before, GHashTable *after, GHashTable *announced,
                                        const char *what);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusHarness, bus_harness_stop)
