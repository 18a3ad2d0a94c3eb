/* The configuration over the bus, end to end on the simulator: the boot
 * plan at start reaches the configured state and a second start changes
 * nothing; a renumbered device is refused; a file with errors is reported
 * with its lines and changes nothing; Check/Save/Reload/ApplyConfig and
 * SIGHUP; a daemon killed in the middle of its boot plan ends, once
 * restarted, in the configured state. */
#include "bus-harness.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define MANAGER "/org/gpuvirt"
#define MANAGER_IFACE "org.gpuvirt.Manager"

/* l40s-vendor-vfio: GPU 81:00.0 (no VFs) to vfio-pci, GPU 01:00.0 from
 * 32 VFs to 4, two of them typed. */
static const char l40s_config[] =
  "# what this node should look like\n"
  "[Device 0000:81:00.0]\n"
  "Id=10de:26b9\n"
  "Passthrough=true\n"
  "\n"
  "[Device 0000:01:00.0]\n"
  "Id=10de:26b9\n"
  "NumVfs=4\n"
  "\n"
  "[Device 0000:01:00.4]\n"
  "Id=10de:26b9\n"
  "VgpuType=L40S-24Q\n"
  "\n"
  "[Device 0000:01:00.5]\n"
  "Id=10de:26b9\n"
  "VgpuType=1163\n";

static GVariant *
manager_prop (GDBusConnection *c, const char *prop)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) v = g_dbus_connection_call_sync (c, "org.gpuvirt", MANAGER, "org.freedesktop.DBus.Properties",
                                                        "Get", g_variant_new ("(ss)", MANAGER_IFACE, prop),
                                                        G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 20000, NULL,
                                                        &error);
  GVariant *inner = NULL;
  if (!v)
    g_error ("Get %s: %s", prop, error->message);
  g_variant_get (v, "(v)", &inner);
  return inner;
}

static char *
plan_state (GDBusConnection *c)
{
  g_autoptr (GVariant) v = manager_prop (c, "BootPlanState");
  return g_variant_dup_string (v, NULL);
}

/* Waits for BootPlanState to leave "running"/"pending"; returns it. */
static char *
wait_plan (BusHarness *h, GDBusConnection *c)
{
  for (int i = 0; i < 600; i++) {
    g_autofree char *state = plan_state (c);
    if (!g_str_equal (state, "running") && !g_str_equal (state, "pending"))
      return g_steal_pointer (&state);
    g_usleep (100000);
  }
  {
    g_autofree char *log = bus_harness_daemon_log (h);
    g_error ("the boot plan did not end within 60 s:\n%s", log);
  }
  return NULL;
}

/* "phase device action status message" lines of BootPlan. */
static char *
plan_text (GDBusConnection *c)
{
  g_autoptr (GVariant) rows = manager_prop (c, "BootPlan");
  GString *text = g_string_new (NULL);
  GVariantIter iter;
  const char *phase, *device, *action, *status, *message;

  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &phase, &device, &action, &status, &message))
    g_string_append_printf (text, "%s %s %s: %s %s\n", phase, device, action, status, message);
  return g_string_free (text, FALSE);
}

static char *
sim (BusHarness *h, const char *bdf, const char *attr)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/%s", bdf, attr);
  return bus_harness_read_sim (h, rel);
}

static char *
driver_of (BusHarness *h, const char *bdf)
{
  g_autofree char *link = g_strdup_printf ("%s/sys/bus/pci/devices/%s/driver", h->root, bdf);
  g_autofree char *target = g_file_read_link (link, NULL);
  return target ? g_path_get_basename (target) : g_strdup ("");
}

static void
assert_configured_state (BusHarness *h)
{
  g_autofree char *drv = driver_of (h, "0000:81:00.0");
  g_autofree char *numvfs = sim (h, "0000:01:00.0", "sriov_numvfs");
  g_autofree char *t4 = sim (h, "0000:01:00.4", "nvidia/current_vgpu_type");
  g_autofree char *t5 = sim (h, "0000:01:00.5", "nvidia/current_vgpu_type");
  g_autofree char *t6 = sim (h, "0000:01:00.6", "nvidia/current_vgpu_type");
  g_assert_cmpstr (drv, ==, "vfio-pci");
  g_assert_cmpstr (numvfs, ==, "4");
  g_assert_cmpstr (t4, ==, "1163");
  g_assert_cmpstr (t5, ==, "1163");
  g_assert_cmpstr (t6, ==, "0");
}

static void
clear_log (BusHarness *h)
{
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/log", "clear"), ==, 0);
}

static void
test_boot_plan (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("l40s-vendor-vfio", l40s_config);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *state = wait_plan (h, c);
  g_autofree char *text = plan_text (c);

  g_test_message ("%s", text);
  g_assert_cmpstr (state, ==, "done");
  g_assert_nonnull (strstr (text, "passthrough 0000:81:00.0 bind vfio-pci: done"));
  g_assert_nonnull (strstr (text, "sriov 0000:01:00.0"));
  assert_configured_state (h);
  {
    g_autoptr (GVariant) files = manager_prop (c, "ConfigFiles");
    g_autoptr (GVariant) errors = manager_prop (c, "ConfigErrors");
    const char *first = NULL;
    g_assert_cmpuint (g_variant_n_children (files), ==, 1);
    g_variant_get_child (files, 0, "&s", &first);
    g_assert_cmpstr (first, ==, h->config);
    g_assert_cmpuint (g_variant_n_children (errors), ==, 0);
  }

  /* a second start: every step skipped, nothing written */
  clear_log (h);
  bus_harness_restart_daemon (h);
  {
    g_autoptr (GDBusConnection) c2 = bus_harness_connect (h->address);
    g_autofree char *again = wait_plan (h, c2);
    g_autofree char *text2 = plan_text (c2);
    g_autofree char *log = bus_harness_read_sim (h, ".sim/log");
    g_test_message ("%s", text2);
    g_assert_cmpstr (again, ==, "done");
    g_assert_null (strstr (text2, ": done"));
    g_assert_cmpstr (log, ==, "");
  }
  assert_configured_state (h);
}

static void
test_renumbered (void)
{
  /* 0000:41:00.0 is an L40S (26b9), not the 26b5 the file expects */
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("l40s-vendor-vfio",
                                                            "[Device 0000:41:00.0]\nId=10de:26b5\nPassthrough=true\n"
                                                            "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=2\n");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *state = wait_plan (h, c);
  g_autofree char *text = plan_text (c);
  g_autofree char *log = bus_harness_read_sim (h, ".sim/log");
  g_autofree char *drv = driver_of (h, "0000:41:00.0");
  g_autofree char *numvfs = sim (h, "0000:81:00.0", "sriov_numvfs");

  g_test_message ("%s", text);
  g_assert_cmpstr (state, ==, "failed");
  g_assert_nonnull (strstr (text, "10de:26b5"));
  g_assert_nonnull (strstr (text, "moved or replaced"));
  g_assert_null (strstr (log, "0000:41:"));
  g_assert_cmpstr (drv, ==, "nvidia");
  /* the other device's step still ran */
  g_assert_cmpstr (numvfs, ==, "2");

  /* and doctor says so */
  {
    g_autofree char *name = NULL;
    g_autofree char *message = NULL;
    g_autoptr (GVariant) reply = bus_harness_call (c, MANAGER, MANAGER_IFACE, "Doctor", NULL,
                                                   G_VARIANT_TYPE ("(a(sssss))"), &name, &message);
    g_autoptr (GVariant) rows = NULL;
    GVariantIter iter;
    const char *id, *severity, *subject, *msg, *fix;
    gboolean found = FALSE;
    if (!reply)
      g_error ("Doctor: %s %s", name, message);
    rows = g_variant_get_child_value (reply, 0);
    g_variant_iter_init (&iter, rows);
    while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &id, &severity, &subject, &msg, &fix))
      if (g_str_equal (id, "config-device-moved")) {
        g_test_message ("%s %s %s: %s / %s", id, severity, subject, msg, fix);
        g_assert_cmpstr (subject, ==, "0000:41:00.0");
        g_assert_cmpstr (severity, ==, "error");
        found = TRUE;
      }
    g_assert_true (found);
  }
}

static GVariant *
call (GDBusConnection *c, const char *method, GVariant *params, const char *reply_type, char **name, char **message)
{
  return bus_harness_call (c, MANAGER, MANAGER_IFACE, method, params,
                           reply_type ? G_VARIANT_TYPE (reply_type) : NULL, name, message);
}

static void
test_bad_file (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("l40s-vendor-vfio",
                                                            "[Device 0000:81:00.0]\nId=10de:26b9\n"
                                                            "NumVfs=four\n");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = NULL;

  /* reported with its line; the daemon serves; nothing is planned or written */
  {
    g_autoptr (GVariant) errors = manager_prop (c, "ConfigErrors");
    g_autofree char *state = plan_state (c);
    g_autofree char *log = bus_harness_read_sim (h, ".sim/log");
    const char *file, *key, *msg;
    guint line;
    g_assert_cmpuint (g_variant_n_children (errors), ==, 1);
    g_variant_get_child (errors, 0, "(&su&s&s)", &file, &line, &key, &msg);
    g_test_message ("%s:%u: %s: %s", file, line, key, msg);
    g_assert_cmpstr (file, ==, h->config);
    g_assert_cmpuint (line, ==, 3);
    g_assert_nonnull (strstr (key, "NumVfs"));
    g_assert_cmpstr (state, ==, "none");
    g_assert_cmpstr (log, ==, "");
  }
  reply = call (c, "ReloadConfig", NULL, NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.ConfigInvalid");
  reply = call (c, "ApplyConfig", g_variant_new ("(a{sv})", NULL), "(a(sssss))", &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.ConfigInvalid");

  /* CheckConfig of a text: its problems with lines and keys */
  reply = call (c, "CheckConfig", g_variant_new ("(s)", "[Device 0000:81:00.0]\nId=10de:26b9\nNumVf=2\n"
                                                        "[Device 0000:41:00.0]\nId=10de:26b5\n"),
                "(a(uss))", &name, &message);
  g_assert_nonnull (reply);
  {
    g_autoptr (GVariant) rows = g_variant_get_child_value (reply, 0);
    GVariantIter iter;
    guint line;
    const char *key, *msg;
    gboolean typo = FALSE, moved = FALSE;
    g_variant_iter_init (&iter, rows);
    while (g_variant_iter_next (&iter, "(u&s&s)", &line, &key, &msg)) {
      g_test_message ("%u: %s: %s", line, key, msg);
      typo = typo || (line == 3 && strstr (msg, "NumVfs"));
      moved = moved || strstr (msg, "26b5");
    }
    g_assert_true (typo);
    g_assert_true (moved);
  }
  g_clear_pointer (&reply, g_variant_unref);

  /* fixed by hand, then SIGHUP: taken, errors gone (nothing applied) */
  g_assert_true (g_file_set_contents (h->config, "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=2\n", -1, NULL));
  kill (h->daemon_pid, SIGHUP);
  for (int i = 0; i < 100; i++) {
    g_autoptr (GVariant) errors = manager_prop (c, "ConfigErrors");
    if (g_variant_n_children (errors) == 0)
      break;
    g_usleep (50000);
  }
  {
    g_autoptr (GVariant) errors = manager_prop (c, "ConfigErrors");
    g_autofree char *numvfs = sim (h, "0000:81:00.0", "sriov_numvfs");
    g_assert_cmpuint (g_variant_n_children (errors), ==, 0);
    g_assert_cmpstr (numvfs, ==, "0");
  }

  /* ApplyConfig: dry-run plans without writing, then for real */
  clear_log (h);
  reply = call (c, "ApplyConfig", g_variant_new_parsed ("({'dry-run': <true>},)"), "(a(sssss))", &name, &message);
  if (!reply)
    g_error ("ApplyConfig dry-run: %s %s", name, message);
  {
    g_autofree char *log = bus_harness_read_sim (h, ".sim/log");
    g_autofree char *printed = g_variant_print (reply, FALSE);
    g_assert_cmpstr (log, ==, "");
    g_assert_nonnull (strstr (printed, "'pending'"));
  }
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (c, "ApplyConfig", g_variant_new ("(a{sv})", NULL), "(a(sssss))", &name, &message);
  if (!reply)
    g_error ("ApplyConfig: %s %s", name, message);
  {
    g_autofree char *numvfs = sim (h, "0000:81:00.0", "sriov_numvfs");
    g_autofree char *printed = g_variant_print (reply, FALSE);
    g_autofree char *state = plan_state (c);
    g_assert_cmpstr (numvfs, ==, "2");
    g_assert_nonnull (strstr (printed, "'done'"));
    g_assert_cmpstr (state, ==, "done");
  }
}

static void
test_save_config (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  const char *text = "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=3\n";
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = NULL;

  /* an unprivileged caller is refused by polkit: no file */
  {
    const char *argv[] = { "busctl", "--system", "call", "org.gpuvirt", MANAGER, MANAGER_IFACE, "SaveConfig",
                           "sa{sv}", text, "0", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = bus_harness_run (h, TRUE, argv, &out, &err);
    g_assert_cmpint (status, !=, 0);
    g_assert_nonnull (strstr (err, "ccess denied"));
    g_assert_false (g_file_test (h->config, G_FILE_TEST_EXISTS));
  }
  /* a text with errors: ConfigInvalid, nothing written */
  reply = call (c, "SaveConfig", g_variant_new ("(s@a{sv})", "[Device 0000:81:00.0]\nNumVfs=3\n",
                                                g_variant_new ("a{sv}", NULL)),
                NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.ConfigInvalid");
  g_assert_nonnull (strstr (message, "Id"));
  g_assert_false (g_file_test (h->config, G_FILE_TEST_EXISTS));

  /* root: saved, reloaded, applied */
  reply = call (c, "SaveConfig", g_variant_new_parsed ("(%s, {'apply': <true>})", text), NULL, &name, &message);
  if (!reply)
    g_error ("SaveConfig: %s %s", name, message);
  {
    g_autofree char *saved = NULL;
    g_autofree char *numvfs = sim (h, "0000:81:00.0", "sriov_numvfs");
    g_autoptr (GVariant) files = manager_prop (c, "ConfigFiles");
    g_assert_true (g_file_get_contents (h->config, &saved, NULL, NULL));
    g_assert_cmpstr (saved, ==, text);
    g_assert_cmpstr (numvfs, ==, "3");
    g_assert_cmpuint (g_variant_n_children (files), ==, 1);
  }
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (c, "GetConfig", NULL, "(s)", &name, &message);
  g_assert_nonnull (reply);
  {
    const char *got = NULL;
    g_variant_get (reply, "(&s)", &got);
    g_assert_cmpstr (got, ==, text);
  }
}

/* The daemon is killed while a step's write hangs; the next start undoes
 * the half step and runs the plan to the end. */
static void
test_killed_mid_plan (void)
{
  const char *const hangs[] = {
    "sys/bus/pci/drivers_probe hang count=1",                        /* the bind */
    "sys/devices/*/0000:01:00.0/sriov_numvfs hang data=4 count=1",    /* 0 -> 4 */
    "sys/devices/*/0000:01:00.5/nvidia/current_vgpu_type hang count=1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (hangs); i++) {
    g_autoptr (BusHarness) h = NULL;
    g_autoptr (GDBusConnection) c = NULL;
    int status;

    g_test_message ("kill -9 while this write hangs: %s", hangs[i]);
    /* start without the file, arm the hang, then give the file and apply */
    h = bus_harness_start ("l40s-vendor-vfio");
    c = bus_harness_connect (h->address);
    g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", hangs[i]), ==, 0);
    g_assert_true (g_file_set_contents (h->config, l40s_config, -1, NULL));
    {
      g_autofree char *name = NULL;
      g_autofree char *message = NULL;
      g_autoptr (GVariant) reply = call (c, "ReloadConfig", NULL, NULL, &name, &message);
      if (!reply)
        g_error ("ReloadConfig: %s %s", name, message);
    }
    {
      g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", MANAGER, MANAGER_IFACE,
                                                                     "ApplyConfig");
      g_dbus_message_set_body (msg, g_variant_new ("(a{sv})", NULL));
      g_assert_true (g_dbus_connection_send_message (c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL));
    }
    /* wait until the hung write is the one pending */
    for (int t = 0; t < 200; t++) {
      g_autofree char *faults = bus_harness_read_sim (h, ".sim/faults");
      if (!*faults)
        break;
      g_usleep (50000);
    }
    g_usleep (200000);
    kill (h->daemon_pid, SIGKILL);
    /* the kernel lets a killed process go only once its write returns; it
     * then does what it was asked, as a real sysfs write would */
    g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "release"), ==, 0);
    waitpid (h->daemon_pid, &status, 0);
    g_spawn_close_pid (h->daemon_pid);
    h->daemon_pid = 0;

    bus_harness_restart_daemon (h);
    g_clear_object (&c);
    c = bus_harness_connect (h->address);
    {
      g_autofree char *state = wait_plan (h, c);
      g_autofree char *text = plan_text (c);
      g_test_message ("%s", text);
      g_assert_cmpstr (state, ==, "done");
    }
    assert_configured_state (h);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/boot-plan", test_boot_plan);
  g_test_add_func ("/config/renumbered", test_renumbered);
  g_test_add_func ("/config/bad-file", test_bad_file);
  g_test_add_func ("/config/save", test_save_config);
  g_test_add_func ("/config/killed-mid-plan", test_killed_mid_plan);
  return g_test_run ();
}
