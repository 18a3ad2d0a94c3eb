/* Passthrough over the bus, end to end: the daemon moves simulated
 * functions through the kernel's rules, polkit decides, faults are
 * injected in the simulated sysfs, and every end state is read back from
 * it. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define GPU "0000:01:00.0"
#define GPU_PATH "/org/gpuvirt/devices/pci_0000_01_00_0"
static const char *const workstation_functions[] = { "0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3", NULL };
static const char *const workstation_drivers[] = { "nvidia", "snd_hda_intel", "xhci_hcd", "nvidia-gpu", NULL };

static GVariant *
no_options (void)
{
  return g_variant_new ("(a{sv})", NULL);
}

static char *
driver_of (BusHarness *h, const char *bdf)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/driver", bdf);
  g_autofree char *path = sim_mount_path (h->mount, rel);
  return sim_link_name (path);
}

static void
assert_original_drivers (BusHarness *h)
{
  for (guint i = 0; workstation_functions[i]; i++) {
    g_autofree char *driver = driver_of (h, workstation_functions[i]);
    g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/driver_override", workstation_functions[i]);
    g_autofree char *override = bus_harness_read_sim (h, rel);
    g_assert_cmpstr (driver, ==, workstation_drivers[i]);
    g_assert_cmpstr (override, ==, "(null)");
  }
}

static char *
prop_string (GDBusConnection *c, const char *path, const char *name)
{
  g_autoptr (GVariant) v = bus_harness_call (c, path, "org.freedesktop.DBus.Properties", "Get",
                                 g_variant_new ("(ss)", "org.gpuvirt.Device", name), NULL, NULL, NULL);
  g_autoptr (GVariant) inner = NULL;
  g_assert_nonnull (v);
  g_variant_get (v, "(v)", &inner);
  return g_variant_dup_string (inner, NULL);
}

/* Workstation's simulated Xorg, gnome-shell and nvidia-persistenced let go. */
static void
stop_holders (BusHarness *h)
{
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", "remove 1834"), ==, 0);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", "remove 1102"), ==, 0);
}

static void
test_round_trip (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  /* held by Xorg and nvidia-persistenced: refused, naming them */
  reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", "BindVfio", no_options (), NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.HeldByProcesses");
  g_assert_nonnull (strstr (message, "Xorg"));
  g_assert_nonnull (strstr (message, "1834"));
  assert_original_drivers (h);

  stop_holders (h);
  reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", "BindVfio", no_options (), NULL, &name, &message);
  if (!reply)
    g_error ("BindVfio failed: %s %s", name, message);
  g_assert_cmpuint (g_variant_n_children (g_variant_get_child_value (reply, 0)), ==, 4);
  for (guint i = 0; workstation_functions[i]; i++) {
    g_autofree char *driver = driver_of (h, workstation_functions[i]);
    g_assert_cmpstr (driver, ==, "vfio-pci");
  }
  {
    g_autofree char *state = prop_string (c, GPU_PATH, "State");
    g_autofree char *original = prop_string (c, GPU_PATH, "OriginalDriver");
    g_autofree char *node = prop_string (c, GPU_PATH, "VfioGroupNode");
    g_autofree char *rel = NULL;
    g_assert_cmpstr (state, ==, "vfio");
    g_assert_cmpstr (original, ==, "nvidia");
    g_assert_true (g_str_has_prefix (node, "/dev/vfio/"));
    rel = g_strdup (node + 1);
    {
      g_autofree char *full = sim_mount_path (h->mount, rel);
      g_assert_true (g_file_test (full, G_FILE_TEST_EXISTS));
    }
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* back for the display: every function on the driver it had */
  reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", "GiveBack", no_options (), NULL, &name, &message);
  if (!reply)
    g_error ("GiveBack failed: %s %s", name, message);
  assert_original_drivers (h);
  {
    g_autofree char *state = prop_string (c, GPU_PATH, "State");
    g_assert_cmpstr (state, ==, "host");
  }
}

static void
test_denied_writes_nothing (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  const char *argv[] = { "busctl", "--system", "call", "org.gpuvirt", GPU_PATH, "org.gpuvirt.Device", "BindVfio",
                         "a{sv}", "0", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *log = NULL;
  int status;

  stop_holders (h);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/log", "clear"), ==, 0);
  status = bus_harness_run (h, TRUE, argv, &out, &err);
  g_assert_cmpint (status, !=, 0);
  /* busctl prints systemd's short text for AccessDenied */
  if (!strstr (err, "Access denied"))
    g_error ("denied call said: %s", err);
  log = bus_harness_read_sim (h, ".sim/log");
  g_assert_cmpstr (log, ==, "");
  assert_original_drivers (h);

  /* the same caller, now allowed */
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.assign-device", NULL });
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = bus_harness_run (h, TRUE, argv, &out, &err);
  if (status != 0)
    g_error ("allowed BindVfio failed: %s", err);
  {
    g_autofree char *driver = driver_of (h, GPU);
    g_assert_cmpstr (driver, ==, "vfio-pci");
  }
}

static void
test_bad_input (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  struct {
    const char *path, *iface, *method;
    GVariant *params;
    const char *error;
  } cases[] = {
    { "/org/gpuvirt", "org.gpuvirt.Manager", "BindVfio", g_variant_new_parsed ("(['zz'], @a{sv} {})"),
      "org.freedesktop.DBus.Error.InvalidArgs" },
    { "/org/gpuvirt", "org.gpuvirt.Manager", "BindVfio", g_variant_new_parsed ("(['0000:09:00.0'], @a{sv} {})"),
      "org.gpuvirt.Error.NoSuchDevice" },
    { "/org/gpuvirt", "org.gpuvirt.Manager", "BindVfio", g_variant_new_parsed ("(@as [], @a{sv} {})"),
      "org.freedesktop.DBus.Error.InvalidArgs" },
    { GPU_PATH, "org.gpuvirt.Device", "BindVfio", g_variant_new_parsed ("({'bogus': <true>},)"),
      "org.freedesktop.DBus.Error.InvalidArgs" },
    { GPU_PATH, "org.gpuvirt.Device", "BindVfio", g_variant_new_parsed ("({'force': <'yes'>},)"),
      "org.freedesktop.DBus.Error.InvalidArgs" },
    { GPU_PATH, "org.gpuvirt.Device", "GiveBack", g_variant_new_parsed ("({'driver': <'../../etc'>},)"),
      "org.freedesktop.DBus.Error.InvalidArgs" },
    { GPU_PATH, "org.gpuvirt.Device", "GiveBack", g_variant_new_parsed ("({'driver': <'no_such_driver'>},)"),
      "org.gpuvirt.Error.NoSuchDriver" },
    /* the host's disk is not a GPU: never taken by mistake */
    { "/org/gpuvirt/devices/pci_0000_02_00_0", "org.gpuvirt.Device", "BindVfio", g_variant_new_parsed ("(@a{sv} {},)"),
      "org.gpuvirt.Error.NotManaged" },
  };

  stop_holders (h);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/log", "clear"), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *name = NULL;
    g_autofree char *message = NULL;
    g_autoptr (GVariant) reply = bus_harness_call (c, cases[i].path, cases[i].iface, cases[i].method, cases[i].params, NULL, &name, &message);
    g_test_message ("case %zu: %s %s", i, name, message);
    g_assert_null (reply);
    g_assert_cmpstr (name, ==, cases[i].error);
  }
  /* what the caller sent is shown as it was: a control character is
   * escaped, not swallowed by the terminal (it read "'0000:01:00.0' is not
   * a PCI address") */
  {
    g_autofree char *name = NULL;
    g_autofree char *message = NULL;
    g_autoptr (GVariant) reply = bus_harness_call (c, "/org/gpuvirt", "org.gpuvirt.Manager", "GetDevice",
                                                   g_variant_new ("(s)", "0000:01:00.0\x01"), NULL, &name, &message);
    g_assert_null (reply);
    g_assert_cmpstr (name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
    g_assert_nonnull (strstr (message, "'0000:01:00.0\\x01' is not a PCI address"));
    g_clear_pointer (&name, g_free);
    g_clear_pointer (&message, g_free);
    {
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&b, "{sv}", "for\x07" "ce", g_variant_new_boolean (TRUE));
      reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", "BindVfio", g_variant_new ("(a{sv})", &b), NULL,
                                &name, &message);
    }
    g_assert_null (reply);
    g_assert_nonnull (strstr (message, "Unknown option 'for\\x07ce'"));
  }
  {
    g_autofree char *log = bus_harness_read_sim (h, ".sim/log");
    g_assert_cmpstr (log, ==, "");
  }
}

typedef struct {
  GDBusConnection *c;
  const char *method;
  GVariant *params;
  char *error_name;
  char *error_message;
  gboolean ok;
} AsyncCall;

static gpointer
call_thread (gpointer data)
{
  AsyncCall *ac = data;
  g_autoptr (GVariant) reply = bus_harness_call (ac->c, GPU_PATH, "org.gpuvirt.Device", ac->method, ac->params, NULL, &ac->error_name,
                                     &ac->error_message);
  ac->ok = reply != NULL;
  return NULL;
}

static void
test_busy_and_responsive (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GDBusConnection) other = bus_harness_connect (h->address);
  AsyncCall ac = { c, "BindVfio", g_variant_ref_sink (no_options ()), NULL, NULL, FALSE };
  g_autofree char *name = NULL;
  GThread *thread;
  gint64 start, slowest = 0;

  stop_holders (h);
  /* the GPU's unbind takes 5 s */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind delay=5000"), ==, 0);
  thread = g_thread_new ("bind", call_thread, &ac);
  g_usleep (1500 * 1000);
  /* a second caller is told at once */
  {
    g_autoptr (GVariant) r = bus_harness_call (other, GPU_PATH, "org.gpuvirt.Device", "GiveBack", no_options (), NULL, &name, NULL);
    g_assert_null (r);
    g_assert_cmpstr (name, ==, "org.gpuvirt.Error.Busy");
  }
  /* and reads are answered meanwhile */
  for (int i = 0; i < 20; i++) {
    g_autofree char *state = NULL;
    start = g_get_monotonic_time ();
    state = prop_string (other, GPU_PATH, "State");
    slowest = MAX (slowest, g_get_monotonic_time () - start);
  }
  g_test_message ("slowest property read during a blocked unbind: %" G_GINT64_FORMAT " µs", slowest);
  g_assert_cmpint (slowest, <, 500 * 1000);
  {
    g_autofree char *state = prop_string (other, GPU_PATH, "State");
    g_assert_cmpstr (state, ==, "releasing");
  }
  g_thread_join (thread);
  if (!ac.ok)
    g_error ("BindVfio failed: %s %s", ac.error_name, ac.error_message);
  g_variant_unref (ac.params);
  g_free (ac.error_name);
  g_free (ac.error_message);
}

static void
test_fault_rolls_back (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = NULL;

  stop_holders (h);
  /* the last function's probe by vfio-pci fails: all go back */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/bus/pci/drivers_probe errno=EIO data=" GPU), ==, 0);
  reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", "BindVfio", no_options (), NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.KernelError");
  g_assert_nonnull (strstr (message, "EIO"));
  assert_original_drivers (h);
}

static void
test_stuck (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = NULL;

  stop_holders (h);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind hang"), ==, 0);
  reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", "BindVfio", g_variant_new_parsed ("({'timeout-ms': <@u 500>},)"), NULL,
                &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.Stuck");
  {
    g_autofree char *state = prop_string (c, GPU_PATH, "State");
    g_assert_cmpstr (state, ==, "stuck");
  }
  /* the companions went back */
  for (guint i = 1; workstation_functions[i]; i++) {
    g_autofree char *driver = driver_of (h, workstation_functions[i]);
    g_assert_cmpstr (driver, ==, workstation_drivers[i]);
  }
  /* the write returns at last: the function is not forgotten */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "release"), ==, 0);
  for (int i = 0; i < 100; i++) {
    g_autofree char *state = prop_string (c, GPU_PATH, "State");
    if (!g_str_equal (state, "stuck"))
      break;
    g_usleep (50 * 1000);
  }
  {
    g_autofree char *state = prop_string (c, GPU_PATH, "State");
    g_autofree char *msg = prop_string (c, GPU_PATH, "StateMessage");
    g_assert_cmpstr (state, !=, "stuck");
    g_test_message ("after release: %s (%s)", state, msg);
  }
}

static void
test_recover_after_kill (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  int status;

  stop_holders (h);
  /* the bind stops half way: companions moved, the GPU's unbind hangs */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind hang"), ==, 0);
  g_dbus_connection_call (c, "org.gpuvirt", GPU_PATH, "org.gpuvirt.Device", "BindVfio", no_options (), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 60000, NULL, NULL, NULL);
  g_dbus_connection_flush_sync (c, NULL, NULL);
  for (int i = 0; i < 100; i++) {
    g_autofree char *driver = driver_of (h, "0000:01:00.1");
    if (g_strcmp0 (driver, "vfio-pci") == 0)
      break;
    g_usleep (50 * 1000);
  }
  g_test_message ("killing gpuvirtd mid-bind");
  kill (h->daemon_pid, SIGKILL);
  /* as with a real driver, the killed daemon's write stays in the kernel
   * (the process cannot be reaped) until the write returns */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "release"), ==, 0);
  waitpid (h->daemon_pid, &status, 0);
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
  g_test_message ("restarting gpuvirtd");
  /* the next gpuvirtd finds the journal and puts everything back */
  bus_harness_restart_daemon (h);
  assert_original_drivers (h);
  (void) reply;
  (void) name;
}

/* The configuration may add classes: the same disk is then managed. */
static void
test_configured_class (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("workstation", "[Manage]\nClasses=0108\n");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = bus_harness_call (c, "/org/gpuvirt/devices/pci_0000_02_00_0", "org.gpuvirt.Device", "BindVfio",
                                     no_options (), NULL, &name, &message);

  if (!reply)
    g_error ("BindVfio of a configured class failed: %s %s", name, message);
  {
    g_autofree char *driver = driver_of (h, "0000:02:00.0");
    g_assert_cmpstr (driver, ==, "vfio-pci");
  }
  g_clear_pointer (&reply, g_variant_unref);
  reply = bus_harness_call (c, "/org/gpuvirt/devices/pci_0000_02_00_0", "org.gpuvirt.Device", "GiveBack", no_options (), NULL, &name,
                &message);
  g_assert_nonnull (reply);
  {
    g_autofree char *driver = driver_of (h, "0000:02:00.0");
    g_assert_cmpstr (driver, ==, "nvme");
  }
}

static void
test_bulk_parallel (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint64 start, took;

  /* FUSE serializes writes to one file (libfuse 3.14 cannot ask for
   * parallel direct writes), so the second each GPU takes is put on its
   * own driver_override write rather than on the shared unbind file */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/devices/*/driver_override delay=1000 data=vfio-pci count=100"), ==, 0);
  start = g_get_monotonic_time ();
  reply = bus_harness_call (c, "/org/gpuvirt", "org.gpuvirt.Manager", "BindVfio",
                g_variant_new_parsed ("(@as [], {'all-nvidia': <true>})"), NULL, &name, &message);
  took = g_get_monotonic_time () - start;
  if (!reply)
    g_error ("bulk BindVfio failed: %s %s", name, message);
  g_test_message ("bulk bind of every NVIDIA GPU, each taking 1 s: %.2f s", took / 1e6);
  g_assert_cmpint (took, <, 6 * G_USEC_PER_SEC);
}

/* ---- PropertiesChanged: each change announced once ---- */

/* Value of "PATH IFACE PROP" in KNOWN (the values as announced so far). */
static const char *
known_value (GHashTable *known, const char *path, const char *iface, const char *prop)
{
  g_autofree char *key = g_strdup_printf ("%s %s %s", path, iface, prop);
  return g_hash_table_lookup (known, key);
}

/* When a function's State is announced as "vfio" or "host", the facts it
 * summarises are announced in that signal or before it: a VM manager
 * reacting to State=vfio finds the driver and the VFIO node. */
static void
assert_state_follows_facts (GHashTable *before, GPtrArray *signals, const char *what)
{
  g_autoptr (GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (known, g_strdup (key), g_strdup (value));
  for (guint i = 0; i < signals->len; i++) {
    GHashTable *one = signals->pdata[i];
    g_hash_table_iter_init (&iter, one);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_hash_table_insert (known, g_strdup (key), g_strdup (value));
    g_hash_table_iter_init (&iter, one);
    while (g_hash_table_iter_next (&iter, &key, &value)) {
      g_auto (GStrv) parts = g_strsplit (key, " ", 3);
      const char *driver, *node;
      if (!g_str_equal (parts[2], "State"))
        continue;
      driver = known_value (known, parts[0], parts[1], "Driver");
      node = known_value (known, parts[0], parts[1], "VfioGroupNode");
      if (g_str_equal (value, "'vfio'") && (g_strcmp0 (driver, "'vfio-pci'") != 0 || g_strcmp0 (node, "''") == 0))
        g_error ("%s: %s announced State vfio while its Driver was %s and VfioGroupNode %s", what, parts[0], driver,
                 node);
      if (g_str_equal (value, "'host'") && (g_strcmp0 (driver, "'vfio-pci'") == 0 || g_strcmp0 (driver, "''") == 0))
        g_error ("%s: %s announced State host while its Driver was %s", what, parts[0], driver);
    }
  }
}

/* One call: what it announced, checked against the properties before and after. */
static void
check_call_announces (GDBusConnection *c, const char *method, const char *const *want_states)
{
  g_autoptr (GHashTable) before = bus_harness_all_properties (c);
  g_autoptr (GHashTable) announced = NULL;
  g_autoptr (GHashTable) after = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autofree char *state_key = g_strdup_printf ("%s org.gpuvirt.Device State", GPU_PATH);
  BusHarnessChanges changes;
  GPtrArray *states;

  bus_harness_changes_start (&changes, c);

  reply = bus_harness_call (c, GPU_PATH, "org.gpuvirt.Device", method, no_options (), NULL, &name, &message);
  if (!reply)
    g_error ("%s failed: %s %s", method, name, message);
  bus_harness_drain ();
  assert_state_follows_facts (before, changes.signals, method);
  announced = bus_harness_changes_stop (&changes, c);
  after = bus_harness_all_properties (c);
  bus_harness_assert_announced_once (before, after, announced, method);
  /* every transition of the GPU's State, in order, each once */
  states = g_hash_table_lookup (announced, state_key);
  g_assert_nonnull (states);
  g_assert_cmpuint (states->len, ==, g_strv_length ((GStrv) want_states));
  for (guint i = 0; want_states[i]; i++) {
    g_autofree char *quoted = g_strdup_printf ("'%s'", want_states[i]);
    g_assert_cmpstr (states->pdata[i], ==, quoted);
  }
}

static void
test_signals_once (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  const char *const bind_states[] = { "releasing", "vfio", NULL };
  const char *const back_states[] = { "returning", "host", NULL };

  stop_holders (h);
  check_call_announces (c, "BindVfio", bind_states);
  check_call_announces (c, "GiveBack", back_states);
  assert_original_drivers (h);
}

/* SIGTERM while a bind runs: gpuvirtd refuses new changes, lets the bind
 * finish and answer, then exits cleanly (it used to free what the worker
 * was using: a crash or a hang at exit). */
static void
test_sigterm_waits (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GDBusConnection) other = bus_harness_connect (h->address);
  AsyncCall ac = { c, "BindVfio", g_variant_ref_sink (no_options ()), NULL, NULL, FALSE };
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autofree char *driver = NULL;
  GThread *thread;
  int status = 0;
  gint64 t0;

  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.assign-device", NULL });
  stop_holders (h);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind delay=2000"), ==, 0);
  thread = g_thread_new ("bind", call_thread, &ac);
  g_usleep (700 * 1000);
  g_assert_cmpint (kill (h->daemon_pid, SIGTERM), ==, 0);
  g_usleep (100 * 1000);
  /* a new change is refused, saying why */
  {
    const char *igpu[] = { "0000:00:02.0", NULL };
    g_autoptr (GVariant) r = bus_harness_call (other, "/org/gpuvirt", "org.gpuvirt.Manager", "GiveBack",
                                               g_variant_new ("(^as@a{sv})", igpu, g_variant_new ("a{sv}", NULL)),
                                               NULL, &name, &message);
    g_assert_null (r);
    g_assert_cmpstr (name, ==, "org.gpuvirt.Error.Busy");
    g_assert_nonnull (strstr (message, "stopping"));
  }
  g_thread_join (thread);
  if (!ac.ok)
    g_error ("BindVfio during SIGTERM failed: %s %s", ac.error_name, ac.error_message);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (waitpid (h->daemon_pid, &status, 0), ==, h->daemon_pid);
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
  driver = driver_of (h, GPU);
  g_assert_cmpstr (driver, ==, "vfio-pci");
  g_variant_unref (ac.params);
  g_free (ac.error_name);
  g_free (ac.error_message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus/passthrough/round-trip", test_round_trip);
  g_test_add_func ("/bus/passthrough/signals-once", test_signals_once);
  g_test_add_func ("/bus/passthrough/denied-writes-nothing", test_denied_writes_nothing);
  g_test_add_func ("/bus/passthrough/bad-input", test_bad_input);
  g_test_add_func ("/bus/passthrough/busy-and-responsive", test_busy_and_responsive);
  g_test_add_func ("/bus/passthrough/fault-rolls-back", test_fault_rolls_back);
  g_test_add_func ("/bus/passthrough/stuck", test_stuck);
  g_test_add_func ("/bus/passthrough/recover-after-kill", test_recover_after_kill);
  g_test_add_func ("/bus/passthrough/bulk-parallel", test_bulk_parallel);
  g_test_add_func ("/bus/passthrough/configured-class", test_configured_class);
  g_test_add_func ("/bus/passthrough/sigterm-waits", test_sigterm_waits);
  return g_test_run ();
}
