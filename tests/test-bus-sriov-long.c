/* Enabling many VFs takes long: the kernel adds and probes them one after
 * the other inside the sriov_numvfs write (the simulator's
 * sriov_vf_delay_ms, as the test VM's NVMe showed: 127 VFs in 12 s). What
 * the bus must say meanwhile and after (issue 14, point 1):
 *   - the bound grows with the VFs: a write that needs longer than
 *     timeout-ms, but not longer than its bound, succeeds;
 *   - while it runs, Sriov.Pending is true and the PF's StateMessage
 *     counts the VFs as they appear;
 *   - past its bound the call answers Pending (not a failure), the GPU
 *     stays busy, and when the kernel is done the outcome is announced
 *     (Pending false, NumVfs, StateMessage) and the persist option saved;
 *   - neither a restart nor a SIGKILL during the write undoes what the
 *     kernel completed. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define L40S "0000:81:00.0" /* 0 of 32 VFs */
#define L40S_PATH "/org/gpuvirt/devices/pci_0000_81_00_0"
#define SRIOV "org.gpuvirt.Sriov"
#define DEVICE "org.gpuvirt.Device"

static GVariant *
set_num_vfs (GDBusConnection *c, guint count, guint timeout_ms, gboolean persist, char **name, char **message)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  if (timeout_ms)
    g_variant_builder_add (&b, "{sv}", "timeout-ms", g_variant_new_uint32 (timeout_ms));
  if (persist)
    g_variant_builder_add (&b, "{sv}", "persist", g_variant_new_boolean (TRUE));
  return bus_harness_call (c, L40S_PATH, SRIOV, "SetNumVfs", g_variant_new ("(u@a{sv})", count, g_variant_builder_end (&b)),
                           G_VARIANT_TYPE ("(ao)"), name, message);
}

static BusHarness *
start (const char *config)
{
  BusHarness *h = bus_harness_start_with_config ("l40s-vendor-vfio", config);

  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-sriov", "org.gpuvirt.modify-config",
                                                       NULL });
  return h;
}

static void
set_vf_delay (BusHarness *h, guint ms)
{
  g_autofree char *line = g_strdup_printf ("sriov_vf_delay_ms=%u", ms);

  g_assert_cmpint (bus_harness_write_sim (h, ".sim/kernel", line), ==, 0);
}

static gboolean
pending (GDBusConnection *c)
{
  g_autoptr (GVariant) v = bus_harness_get_property (c, L40S_PATH, SRIOV, "Pending");

  return g_variant_get_boolean (v);
}

/* The values StateMessage of the PF was announced with, in order. */
static GPtrArray *
announced (GHashTable *changes, const char *iface, const char *prop)
{
  g_autofree char *key = g_strdup_printf ("%s %s %s", L40S_PATH, iface, prop);
  GPtrArray *values = g_hash_table_lookup (changes, key);

  return values ? g_ptr_array_ref (values) : g_ptr_array_new ();
}

/* Waits (up to 20 s) until Sriov.Pending is false again. */
static void
wait_settled (GDBusConnection *c)
{
  for (int i = 0; i < 400 && pending (c); i++)
    g_usleep (50 * 1000);
  g_assert_false (pending (c));
}

static guint
open_journals (BusHarness *h)
{
  g_autofree char *dir = g_build_filename (h->state_dir, "journal", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".journal"))
      n++;
  return n;
}

/* 32 VFs × 60 ms = 1.9 s, with timeout-ms 1000: bound 1000 + 32 × 100 ms. */
static void
test_proportional (void)
{
  g_autoptr (BusHarness) h = start (NULL);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GHashTable) changes = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GPtrArray) pendings = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  BusHarnessChanges watch;
  guint progress = 0;
  gint64 t0;

  set_vf_delay (h, 60);
  bus_harness_changes_start (&watch, c);
  t0 = g_get_monotonic_time ();
  reply = set_num_vfs (c, 32, 1000, FALSE, &name, &message);
  if (!reply)
    g_error ("SetNumVfs 32, taking 1.9 s with timeout-ms 1000, failed: %s: %s", name, message);
  g_test_message ("took %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - t0) / 1000);
  g_assert_cmpint (g_get_monotonic_time () - t0, >, 1000 * 1000);
  bus_harness_drain ();
  changes = bus_harness_changes_stop (&watch, c);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S), ==, 32);

  /* Pending went true, then false */
  pendings = announced (changes, SRIOV, "Pending");
  g_assert_cmpuint (pendings->len, ==, 2);
  g_assert_cmpstr (pendings->pdata[0], ==, "true");
  g_assert_cmpstr (pendings->pdata[1], ==, "false");
  /* the VFs were counted as they came */
  messages = announced (changes, DEVICE, "StateMessage");
  for (guint i = 0; i < messages->len; i++) {
    g_test_message ("StateMessage: %s", (char *) messages->pdata[i]);
    if (strstr (messages->pdata[i], "of 32 VFs so far"))
      progress++;
  }
  g_assert_cmpuint (progress, >=, 2);
  g_assert_false (pending (c));
  g_assert_cmpuint (open_journals (h), ==, 0);
}

/* 32 VFs × 100 ms = 3.2 s, timeout-ms 100: bound 420 ms. Pending, then
 * the outcome; a restart keeps the VFs; persist was saved. */
static void
test_pending (void)
{
  g_autoptr (BusHarness) h = start ("");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autofree char *config = NULL;
  g_autofree char *outcome = NULL;
  gint64 t0;

  set_vf_delay (h, 100);
  t0 = g_get_monotonic_time ();
  reply = set_num_vfs (c, 32, 100, TRUE, &name, &message);
  g_assert_null (reply);
  g_test_message ("%s: %s", name, message);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.Pending");
  g_assert_nonnull (strstr (message, "still at it"));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 2500 * 1000);
  /* under way: announced as such, and busy */
  g_assert_true (pending (c));
  g_clear_pointer (&name, g_free);
  g_clear_pointer (&message, g_free);
  reply = set_num_vfs (c, 0, 0, FALSE, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.Busy");

  wait_settled (c);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S), ==, 32);
  outcome = bus_harness_device_string (c, L40S, DEVICE, "StateMessage");
  g_test_message ("outcome: %s", outcome);
  g_assert_nonnull (strstr (outcome, "the kernel completed it: 32 VFs"));
  g_assert_cmpuint (open_journals (h), ==, 0);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  if (!strstr (config, "NumVfs=32"))
    g_error ("the persist option was not saved once the kernel completed the change:\n%s", config);

  /* a restart keeps what the kernel did */
  bus_harness_restart_daemon (h);
  g_object_unref (c);
  c = bus_harness_connect (h->address);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S), ==, 32);
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "32");
  }
}

/* gpuvirtd killed while the kernel enables the VFs: the next start finds
 * the count asked for complete and keeps it, and says so. */
static void
test_killed (void)
{
  g_autoptr (BusHarness) h = start (NULL);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", L40S_PATH, SRIOV, "SetNumVfs");
  g_autofree char *log = NULL;
  int status;

  set_vf_delay (h, 50);
  g_dbus_message_set_body (msg, g_variant_new ("(u@a{sv})", 32, g_variant_new ("a{sv}", NULL)));
  g_assert_true (g_dbus_connection_send_message (c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL));
  /* some VFs are there, not all */
  {
    g_autofree char *first = g_build_filename (h->root, "sys/bus/pci/devices", L40S, "virtfn0", NULL);
    g_autofree char *last = g_build_filename (h->root, "sys/bus/pci/devices", L40S, "virtfn31", NULL);
    for (int i = 0; i < 500 && !g_file_test (first, G_FILE_TEST_EXISTS); i++)
      g_usleep (10 * 1000);
    g_assert_true (g_file_test (first, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (last, G_FILE_TEST_EXISTS));
  }
  kill (h->daemon_pid, SIGKILL);
  waitpid (h->daemon_pid, &status, 0);
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
  g_assert_cmpuint (open_journals (h), ==, 1);

  bus_harness_restart_daemon (h);
  g_object_unref (c);
  c = bus_harness_connect (h->address);
  log = bus_harness_daemon_log (h);
  g_test_message ("%s", log);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S), ==, 32);
  if (!strstr (log, "the kernel completed it: 32 VFs of " L40S " kept"))
    g_error ("recovery did not say it kept what the kernel completed");
  g_assert_cmpuint (open_journals (h), ==, 0);
}

/* gpuvirtctl sriov: the VFs counted as they come (--verbose), and after
 * Pending it waits for the outcome and reports it, exiting 0. */
static void
test_client (void)
{
  g_autoptr (BusHarness) h = start (NULL);
  BusHarnessCtlRun run = { 0 };

  set_vf_delay (h, 100);
  bus_harness_ctl (h, FALSE, &run, "sriov", L40S, "32", "--timeout=0.1", "--verbose", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.err, "of 32 VFs so far"));
  g_assert_nonnull (strstr (run.err, "still at it"));
  g_assert_nonnull (strstr (run.err, "Waiting for the kernel to finish"));
  g_assert_nonnull (strstr (run.err, "the kernel completed it: 32 VFs"));
  g_assert_nonnull (strstr (run.out, "32 of 32 VFs enabled"));
  bus_harness_ctl_run_clear (&run);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sriov/long/proportional-bound", test_proportional);
  g_test_add_func ("/sriov/long/pending", test_pending);
  g_test_add_func ("/sriov/long/killed", test_killed);
  g_test_add_func ("/sriov/long/client", test_client);
  return g_test_run ();
}
