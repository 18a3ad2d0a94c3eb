/* org.gpuvirt.Mig over the bus, end to end: gpuvirtd with the test NVML
 * (tests/nvml) on the simulator's mig-host scenario. NVML missing, the
 * interface on MIG GPUs only, every method refused by polkit writing
 * nothing (sysfs and NVML alike: the test NVML's changes are writes in the
 * simulator's log), the mode with its reset and the holders that refuse
 * it, instances made and destroyed, a fault in NVML undone, the persist
 * option, gpuvirtctl mig, a gpuvirtd killed (SIGKILL) in the middle of a
 * change or of the boot plan recovered at its next start, and SIGTERM
 * waiting for a MIG change under way. Proven against the test NVML only. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define H100 "0000:41:00.0"
#define H100_PATH "/org/gpuvirt/devices/pci_0000_41_00_0"
#define A100 "0000:81:00.0"
#define A100_PATH "/org/gpuvirt/devices/pci_0000_81_00_0"
#define A100X "0000:c1:00.0"
#define A100X_PATH "/org/gpuvirt/devices/pci_0000_c1_00_0"
#define L4_PATH "/org/gpuvirt/devices/pci_0000_e1_00_0"
#define MIG "org.gpuvirt.Mig"

static const char *const mig_action[] = { "org.gpuvirt.configure-mig", NULL };

static GVariant *
set_mode (GDBusConnection *c, const char *path, gboolean on, GVariant *options, char **name, char **message)
{
  return bus_harness_call (c, path, MIG, "SetMode",
                           g_variant_new ("(b@a{sv})", on, options ? options : g_variant_new ("a{sv}", NULL)),
                           G_VARIANT_TYPE ("(bs)"), name, message);
}

static GVariant *
create (GDBusConnection *c, const char *path, const char *profile, guint count, GVariant *options, char **name,
        char **message)
{
  return bus_harness_call (c, path, MIG, "CreateGpuInstances",
                           g_variant_new ("(su@a{sv})", profile, count,
                                          options ? options : g_variant_new ("a{sv}", NULL)),
                           G_VARIANT_TYPE ("(au)"), name, message);
}

static GVariant *
destroy (GDBusConnection *c, const char *path, GVariant *ids, GVariant *options, char **name, char **message)
{
  return bus_harness_call (c, path, MIG, "DestroyGpuInstances",
                           g_variant_new ("(@au@a{sv})", ids ? ids : g_variant_new ("au", NULL),
                                          options ? options : g_variant_new ("a{sv}", NULL)),
                           NULL, name, message);
}

static guint
n_instances (GDBusConnection *c, const char *path)
{
  g_autoptr (GVariant) v = bus_harness_get_property (c, path, MIG, "GpuInstances");
  return (guint) g_variant_n_children (v);
}

static gboolean
has_mig (GDBusConnection *c, const char *path)
{
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  reply = bus_harness_call (c, path, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new ("(s)", MIG),
                            G_VARIANT_TYPE ("(a{sv})"), &name, NULL);
  return reply && g_variant_n_children (g_variant_get_child_value (reply, 0)) > 0;
}

/* ---- no NVML ---- */

static void
test_unavailable (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("GPUVIRT_NVML_LIBRARY"));
  g_autoptr (BusHarness) h = NULL;
  g_autoptr (GDBusConnection) c = NULL;
  g_autoptr (GVariant) available = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  g_setenv ("GPUVIRT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", TRUE);
  h = bus_harness_start ("mig-host");
  g_setenv ("GPUVIRT_NVML_LIBRARY", saved, TRUE);
  c = bus_harness_connect (h->address);
  available = bus_harness_get_property (c, "/org/gpuvirt", "org.gpuvirt.Manager", "MigAvailable");
  status = bus_harness_get_property (c, "/org/gpuvirt", "org.gpuvirt.Manager", "MigStatus");
  g_assert_false (g_variant_get_boolean (available));
  g_assert_nonnull (strstr (g_variant_get_string (status, NULL),
                            "MIG is unavailable: /nonexistent/libnvidia-ml.so.1 could not be loaded"));
  g_assert_false (has_mig (c, H100_PATH));
  EXPECT_ERROR (set_mode (c, H100_PATH, TRUE, NULL, &err_name, &err_message), "org.gpuvirt.Error.NotSupported",
                "MIG is unavailable");
  (void) name;
  (void) message;
}

/* ---- reading ---- */

static void
test_read (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) status = bus_harness_get_property (c, "/org/gpuvirt", "org.gpuvirt.Manager", "MigStatus");
  g_autoptr (GVariant) profiles = bus_harness_get_property (c, H100_PATH, MIG, "Profiles");
  g_autoptr (GVariant) mode = bus_harness_get_property (c, A100X_PATH, MIG, "Mode");
  g_autoptr (GVariant) first = NULL;
  g_autoptr (GVariant) details = NULL;
  g_autoptr (GVariant) placements = NULL;
  const char *pname;
  guint32 id, slices, max, free_now;
  guint64 memory;

  g_assert_nonnull (strstr (g_variant_get_string (status, NULL), "NVML 12.550.54.14-test, driver 550.54.14"));
  g_assert_true (has_mig (c, H100_PATH));
  g_assert_true (has_mig (c, A100_PATH));
  g_assert_true (has_mig (c, A100X_PATH));
  g_assert_false (has_mig (c, L4_PATH));
  g_assert_true (g_variant_get_boolean (mode));
  g_assert_cmpuint (g_variant_n_children (profiles), ==, 7);
  first = g_variant_get_child_value (profiles, 2);
  g_variant_get (first, "(&suuuut@a{sv})", &pname, &id, &slices, &max, &free_now, &memory, &details);
  g_assert_cmpstr (pname, ==, "3g.40gb");
  g_assert_cmpuint (id, ==, 9);
  g_assert_cmpuint (slices, ==, 3);
  g_assert_cmpuint (max, ==, 2);
  g_assert_cmpuint (free_now, ==, 0);
  placements = g_variant_lookup_value (details, "placements", G_VARIANT_TYPE ("a(uu)"));
  g_assert_nonnull (placements);
  g_assert_cmpuint (g_variant_n_children (placements), ==, 2);
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 0);
  /* a Mig method where there is none says why */
  EXPECT_ERROR (set_mode (c, L4_PATH, TRUE, NULL, &err_name, &err_message), "org.gpuvirt.Error.NotSupported",
                "has no MIG");
}

/* ---- polkit: a refused call writes nothing, NVML included ---- */

static void
test_denied (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  /* polkit allows nothing; as nobody, so that polkit is asked (root is not) */
  const char *const calls[][8] = {
    { H100_PATH, "SetMode", "ba{sv}", "true", "0", NULL },
    { H100_PATH, "SetMode", "ba{sv}", "true", "1", "persist", "b", "true" },
    { A100X_PATH, "CreateGpuInstances", "sua{sv}", "1g.10gb", "2", "0", NULL },
    { A100X_PATH, "DestroyGpuInstances", "aua{sv}", "0", "0", NULL },
  };

  bus_harness_clear_sim_log (h);
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++) {
    const char *argv[16] = { "busctl", "--system", "call", "org.gpuvirt", calls[i][0], MIG, calls[i][1] };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    guint n = 7;
    int status;
    for (guint j = 2; j < 8 && calls[i][j]; j++)
      argv[n++] = calls[i][j];
    argv[n] = NULL;
    status = bus_harness_run (h, TRUE, argv, &out, &err);
    g_test_message ("%s %s: %d %s", calls[i][0], calls[i][1], status, err);
    g_assert_cmpint (status, !=, 0);
    g_assert_nonnull (strstr (err, "ccess denied"));
  }
  bus_harness_assert_no_writes (h);
  g_assert_false (g_file_test (h->config, G_FILE_TEST_EXISTS));
  {
    g_autoptr (GVariant) mode = bus_harness_get_property (c, H100_PATH, MIG, "PendingMode");
    g_assert_false (g_variant_get_boolean (mode));
  }
}

/* ---- the mode ---- */

static void
test_mode (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autofree char *log = NULL;
  gboolean current;
  const char *text;
  BusHarnessChanges changes;
  g_autoptr (GHashTable) announced = NULL;

  bus_harness_polkit_allow (h, mig_action);
  /* held: refused, naming the holder, nothing written */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", "add 4242 nvidia-persiste /dev/nvidia0"), ==, 0);
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (set_mode (c, H100_PATH, TRUE, NULL, &err_name, &err_message), "org.gpuvirt.Error.HeldByProcesses",
                "(pid 4242) has /dev/nvidia0 open");
  bus_harness_assert_no_writes (h);
  /* or left pending on request, said so */
  reply = set_mode (c, H100_PATH, TRUE, g_variant_new_parsed ("{'reset': <false>}"), &name, &message);
  if (!reply)
    g_error ("SetMode pending: %s %s", name, message);
  g_variant_get (reply, "(b&s)", &current, &text);
  g_assert_false (current);
  g_assert_nonnull (strstr (text, "pending on " H100 ": it takes effect at the next reset of the GPU or boot"));
  {
    g_autoptr (GVariant) pending = bus_harness_get_property (c, H100_PATH, MIG, "PendingMode");
    g_autoptr (GVariant) mode = bus_harness_get_property (c, H100_PATH, MIG, "Mode");
    g_assert_true (g_variant_get_boolean (pending));
    g_assert_false (g_variant_get_boolean (mode));
  }
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", "remove 4242"), ==, 0);
  /* nvidia_drm holds every NVIDIA GPU */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/kernel", "modules=nvidia_modeset,nvidia_drm"), ==, 0);
  EXPECT_ERROR (set_mode (c, H100_PATH, TRUE, NULL, &err_name, &err_message), "org.gpuvirt.Error.HeldByProcesses",
                "nvidia_drm");
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/kernel", "modules=nvidia_modeset"), ==, 0);

  /* free: the reset makes it current, announced before the reply */
  bus_harness_changes_start (&changes, c);
  bus_harness_clear_sim_log (h);
  g_clear_pointer (&reply, g_variant_unref);
  reply = set_mode (c, H100_PATH, TRUE, NULL, &name, &message);
  if (!reply)
    g_error ("SetMode: %s %s", name, message);
  g_variant_get (reply, "(b&s)", &current, &text);
  g_assert_true (current);
  g_assert_nonnull (strstr (text, "current after a function reset of " H100));
  log = bus_harness_sim_log (h);
  g_assert_cmpuint (bus_harness_count_lines (log, H100 "/reset \"1\" -> OK"), ==, 1);
  bus_harness_drain ();
  announced = bus_harness_changes_stop (&changes, c);
  {
    GPtrArray *values = g_hash_table_lookup (announced, H100_PATH " " MIG " Mode");
    g_assert_nonnull (values);
    g_assert_cmpstr (values->pdata[values->len - 1], ==, "true");
  }
}

/* ---- instances ---- */

static void
test_instances (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) ids = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autofree char *config = NULL;
  guint32 first;

  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-mig", "org.gpuvirt.modify-config",
                                                       NULL });
  reply = create (c, A100X_PATH, "1G.10GB", 3, NULL, &name, &message);
  if (!reply)
    g_error ("CreateGpuInstances: %s %s", name, message);
  ids = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (ids), ==, 3);
  g_variant_get_child (ids, 0, "u", &first);
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 3);
  EXPECT_ERROR (create (c, A100X_PATH, "7g.80gb", 1, NULL, &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                NULL);
  EXPECT_ERROR (create (c, A100X_PATH, "9g.9gb", 1, NULL, &err_name, &err_message), "org.gpuvirt.Error.NoSuchType",
                "its profiles: 1g.10gb, 2g.20gb");
  EXPECT_ERROR (create (c, H100_PATH, "1g.10gb", 1, NULL, &err_name, &err_message), "org.gpuvirt.Error.NotSupported",
                "MIG mode is off");
  EXPECT_ERROR (create (c, A100X_PATH, "1g.10gb", 0, NULL, &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", NULL);

  /* a fault in NVML: undone, the instances as they were */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "nvml/nvmlGpuInstanceCreateComputeInstance errno=EIO"),
                   ==, 0);
  EXPECT_ERROR (create (c, A100X_PATH, "2g.20gb", 1, NULL, &err_name, &err_message), "org.gpuvirt.Error.KernelError",
                "undone: destroyed 2g.20gb");
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 3);

  /* destroy one, then the rest with persist: the file follows */
  g_clear_pointer (&reply, g_variant_unref);
  reply = destroy (c, A100X_PATH, g_variant_new_parsed ("[%u]", first), NULL, &name, &message);
  if (!reply)
    g_error ("DestroyGpuInstances: %s %s", name, message);
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 2);
  EXPECT_ERROR (destroy (c, A100X_PATH, g_variant_new_parsed ("[@u 77]"), NULL, &err_name, &err_message),
                "org.gpuvirt.Error.NoSuchDevice", "no GPU instance 77");
  g_clear_pointer (&reply, g_variant_unref);
  reply = create (c, A100X_PATH, "3g.40gb", 1, g_variant_new_parsed ("{'persist': <true>}"), &name, &message);
  if (!reply)
    g_error ("CreateGpuInstances persist: %s %s", name, message);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "[Device " A100X "]\nId=10de:20b2\nMigMode=true\nMigProfiles=1g.10gb:2;3g.40gb:1"));
  g_clear_pointer (&reply, g_variant_unref);
  reply = destroy (c, A100X_PATH, NULL, g_variant_new_parsed ("{'persist': <true>}"), &name, &message);
  if (!reply)
    g_error ("DestroyGpuInstances all: %s %s", name, message);
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 0);
  g_free (config);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  g_assert_null (strstr (config, "MigProfiles"));
  g_assert_nonnull (strstr (config, "MigMode=true"));
}

/* Enabling VFs drops the GPU instances: the interface follows. */
static void
test_sriov_wipes (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  gint64 deadline;

  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-mig", "org.gpuvirt.configure-sriov",
                                                       NULL });
  EXPECT_OK (set_mode (c, H100_PATH, TRUE, NULL, &ok_name, &ok_message));
  EXPECT_OK (create (c, H100_PATH, "1g.10gb", 2, g_variant_new_parsed ("{'compute-instances': <false>}"), &ok_name,
                     &ok_message));
  g_assert_cmpuint (n_instances (c, H100_PATH), ==, 2);
  EXPECT_OK (bus_harness_call (c, H100_PATH, "org.gpuvirt.Sriov", "SetNumVfs",
                               g_variant_new ("(u@a{sv})", 2, g_variant_new ("a{sv}", NULL)), G_VARIANT_TYPE ("(ao)"),
                               &ok_name, &ok_message));
  /* read again in the background after the SR-IOV change */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (n_instances (c, H100_PATH) != 0) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (50 * 1000);
  }
  /* and MIG mode off is refused by NVML while VFs are there */
  EXPECT_ERROR (set_mode (c, H100_PATH, FALSE, NULL, &err_name, &err_message), "org.gpuvirt.Error.InUse",
                "disable its VFs first");
  (void) name;
  (void) message;
}

/* ---- gpuvirtctl ---- */

/* RUN's stdout parsed as JSON (the test fails otherwise). */
static JsonNode *
ctl_json (BusHarnessCtlRun *run)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (run->out, &error);

  if (!node)
    g_error ("not JSON (%s): %s", error->message, run->out);
  return node;
}

static void
test_ctl (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  BusHarnessCtlRun run = { 0 };
  g_autoptr (JsonNode) list = NULL;
  JsonArray *gpus;
  guint made0;

  bus_harness_polkit_allow (h, mig_action);
  /* mig list: the MIG GPUs only, mode and instances */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "list", "--json=short", NULL), ==, 0);
  list = ctl_json (&run);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (list), "MigAvailable"));
  gpus = json_object_get_array_member (json_node_get_object (list), "Gpus");
  g_assert_cmpuint (json_array_get_length (gpus), ==, 3);
  {
    JsonObject *a100x = json_array_get_object_element (gpus, 2);
    JsonObject *mig = json_object_get_object_member (a100x, "Mig");
    JsonArray *profiles = json_object_get_array_member (mig, "Profiles");
    g_assert_cmpstr (json_object_get_string_member (a100x, "Address"), ==, A100X);
    g_assert_true (json_object_get_boolean_member (mig, "Mode"));
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (profiles, 0), "Name"), ==,
                     "1g.10gb");
  }
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "ADDRESS"));
  g_assert_nonnull (strstr (run.out, A100X));
  g_assert_null (strstr (run.out, "0000:e1:00.0"));
  bus_harness_ctl_run_clear (&run);
  /* one GPU: its profiles */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "41:00.0", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "GPU instance profiles:"));
  g_assert_nonnull (strstr (run.out, "1g.10gb+me"));
  g_assert_nonnull (strstr (run.out, "MIG mode:"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "e1:00.0", NULL), ==, 6);
  g_assert_nonnull (strstr (run.err, "has no MIG"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "41:00.0", "maybe", NULL), ==, 2);
  bus_harness_ctl_run_clear (&run);

  /* the mode: pending, then with the reset */
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "41:00.0", "on", "--pending", "--json=short", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "\"Current\":false"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "off (on after the next reset)"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "41:00.0", "on", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "current after a function reset of " H100));
  bus_harness_ctl_run_clear (&run);
  {
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpuint (bus_harness_count_lines (log, H100 "/reset \"1\" -> OK"), ==, 1);
  }

  /* instances */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "create", "c1:00.0", "1g.10gb", "--count", "2",
                                    "--json=short", NULL), ==, 0);
  {
    g_autoptr (JsonNode) made = ctl_json (&run);
    JsonArray *ids = json_object_get_array_member (json_node_get_object (made), "Made");
    g_assert_cmpuint (json_array_get_length (ids), ==, 2);
    made0 = (guint) json_array_get_int_element (ids, 0);
  }
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "create", "c1:00.0", "7g.80gb", NULL), ==, 6);
  g_assert_nonnull (strstr (run.err, "Could not make 1 GPU instance of 7g.80gb on " A100X));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "create", "c1:00.0", "5g.99gb", NULL), ==, 3);
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "create", "c1:00.0", "1g.10gb", "--count", "0", NULL), ==,
                   2);
  bus_harness_ctl_run_clear (&run);
  /* list and show carry the mode */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "list", "--json=short", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "\"Mig\":null"));
  g_assert_nonnull (strstr (run.out, "\"Mig\":{\"Mode\":true"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "show", "c1:00.0", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "2 × 1g.10gb"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "2 × 1g.10gb"));
  bus_harness_ctl_run_clear (&run);

  /* destroy one, then the rest */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "destroy", "c1:00.0", NULL), ==, 2);
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "destroy", "c1:00.0", "x1", NULL), ==, 2);
  bus_harness_ctl_run_clear (&run);
  {
    g_autofree char *id = g_strdup_printf ("%u", made0);
    g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "destroy", "c1:00.0", id, NULL), ==, 0);
    bus_harness_ctl_run_clear (&run);
  }
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 1);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "destroy", "c1:00.0", "--all", "--json=short", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "\"GpuInstances\":[]"));
  bus_harness_ctl_run_clear (&run);

  /* polkit says no: exit 4, nothing written */
  bus_harness_polkit_allow (h, (const char *const[]) { NULL });
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "81:00.0", "on", "--no-ask-password", NULL), ==, 4);
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "mig", "create", "c1:00.0", "1g.10gb", "--no-ask-password", NULL),
                   ==, 4);
  bus_harness_ctl_run_clear (&run);
  bus_harness_assert_no_writes (h);
}

/* ---- gpuvirtctl config import mig-parted ---- */

static const char mig_parted_yaml[] =
  "version: v1\n"
  "mig-configs:\n"
  "  all-disabled:\n"
  "    - devices: all\n"
  "      mig-enabled: false\n"
  "\n"
  "  custom:\n"
  "    - devices: [0]\n"
  "      mig-enabled: true\n"
  "      mig-devices:\n"
  "        \"1g.10gb\": 2\n"
  "        \"3g.40gb\": 1\n"
  "    - devices: all\n"
  "      device-filter: [\"0x20B210DE\"]\n"
  "      mig-enabled: true\n"
  "      mig-devices:\n"
  "        \"3g.40gb\": 2\n"
  "\n"
  "  bad:\n"
  "    - devices: [1, 7]\n"
  "      mig-enabled: true\n"
  "      flavor: sweet\n"
  "      mig-devices:\n"
  "        \"1c.3g.20gb\": 1\n"
  "        \"5g.99gb\": 1\n"
  "    - devices: [3]\n"
  "      mig-enabled: true\n";

static void
test_import (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("mig-host", "[Device 0000:41:00.0]\nId=10de:2331\n"
                                                                         "NumVfs=0\nMigMode=false\n");
  g_autofree char *file = g_build_filename (h->dir, "mig-parted.yaml", NULL);
  g_autofree char *broken = g_build_filename (h->dir, "broken.yaml", NULL);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *config = NULL;
  BusHarnessCtlRun run = { 0 };

  g_assert_true (g_file_set_contents (file, mig_parted_yaml, -1, NULL));
  g_assert_cmpint (g_chmod (file, 0644), ==, 0);
  /* the equivalent configuration, printed */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config", "custom", NULL),
                   ==, 0);
  g_assert_nonnull (strstr (run.out, "[Device 0000:41:00.0]\nId=10de:2331\nMigMode=true\n"
                                     "MigProfiles=1g.10gb:2;3g.40gb:1\n"));
  g_assert_nonnull (strstr (run.out, "[Device 0000:c1:00.0]\nId=10de:20b2\nMigMode=true\nMigProfiles=3g.40gb:2\n"));
  g_assert_null (strstr (run.out, "81:00.0"));
  bus_harness_ctl_run_clear (&run);
  /* all-disabled leaves the L4 (no MIG) alone, as mig-parted does */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config=all-disabled",
                                    NULL), ==, 0);
  g_assert_cmpuint (bus_harness_count_lines (run.out, "MigMode=false"), ==, 3);
  g_assert_null (strstr (run.out, "e1:00.0"));
  bus_harness_ctl_run_clear (&run);
  /* every entry that cannot be mapped is named, with its line and column */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config", "bad", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (run.err, "mig-parted.yaml:22:7: mig-configs.bad[0]: \"flavor\" has no equivalent"));
  g_assert_nonnull (strstr (run.err, "mig-parted.yaml:20:16: mig-configs.bad[0]: there is no GPU 7 here"));
  g_assert_nonnull (strstr (run.err, "mig-parted.yaml:24:9: mig-configs.bad[0]: 1c.3g.20gb is a compute-instance"));
  g_assert_nonnull (strstr (run.err, "mig-parted.yaml:25:9: mig-configs.bad[0]: " A100 " (") );
  g_assert_nonnull (strstr (run.err, "has no GPU instance profile 5g.99gb; its profiles: 1g.5gb"));
  g_assert_nonnull (strstr (run.err, "mig-configs.bad[1]: GPU 0000:e1:00.0 (") );
  g_assert_nonnull (strstr (run.err, ") has no MIG"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config", "nope", NULL),
                   ==, 3);
  g_assert_nonnull (strstr (run.err, "it has: all-disabled, custom, bad"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, NULL), ==, 2);
  bus_harness_ctl_run_clear (&run);
  /* one verb for every format: mig-parted reads FILE with --config, the
   * others their directories with --root */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", "--config=custom", NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "needs FILE"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config=custom",
                                    "--root=/tmp", NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "--root goes with driverctl and mdevctl"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "driverctl", file, NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "takes no FILE"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mdevctl", "--config=custom", NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "--config goes with mig-parted"));
  bus_harness_ctl_run_clear (&run);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "nvidia-smi", NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "knows driverctl, mdevctl and mig-parted"));
  bus_harness_ctl_run_clear (&run);
  /* bad YAML: where */
  g_assert_true (g_file_set_contents (broken, "version: v1\nmig-configs:\n  x:\n    - devices: [0\n      "
                                              "mig-enabled: true\n", -1, NULL));
  g_assert_cmpint (g_chmod (broken, 0644), ==, 0);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", broken, "--config", "x", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (run.err, "broken.yaml:5:18: not valid YAML: did not find expected ',' or ']' "
                               "(while parsing a flow sequence at line 4, column 16)"));
  bus_harness_ctl_run_clear (&run);

  /* the boot plan of the start ends (NVML read again) before a save may apply */
  for (int i = 0;; i++) {
    g_autoptr (GVariant) state = bus_harness_get_property (c, "/org/gpuvirt", "org.gpuvirt.Manager", "BootPlanState");
    if (!g_str_equal (g_variant_get_string (state, NULL), "running"))
      break;
    g_assert_cmpint (i, <, 200);
    g_usleep (50 * 1000);
  }
  /* --apply refuses a file with problems, saving nothing */
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.modify-config", "org.gpuvirt.configure-mig",
                                                       NULL });
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config", "bad",
                                    "--apply", NULL), ==, 1);
  g_assert_nonnull (strstr (run.err, "Nothing was saved"));
  bus_harness_ctl_run_clear (&run);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  g_assert_null (strstr (config, "MigProfiles"));
  g_clear_pointer (&config, g_free);
  bus_harness_assert_no_writes (h);
  /* merged into the existing group (its other keys kept), new groups
   * added, saved and applied */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mig-parted", file, "--config", "custom",
                                    "--apply", NULL), ==, 0);
  bus_harness_ctl_run_clear (&run);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "[Device 0000:41:00.0]\nId=10de:2331\nNumVfs=0\nMigMode=true\n"
                                    "MigProfiles=1g.10gb:2;3g.40gb:1\n"));
  g_assert_cmpuint (bus_harness_count_lines (config, "MigMode="), ==, 2);
  g_assert_nonnull (strstr (config, "[Device 0000:c1:00.0]\nId=10de:20b2\nMigMode=true\nMigProfiles=3g.40gb:2\n"));
  g_assert_cmpuint (n_instances (c, H100_PATH), ==, 3);
  g_assert_cmpuint (n_instances (c, A100X_PATH), ==, 2);
}

/* ---- the doctor ---- */

/* The (severity, message, fix) of the Doctor() row ID about SUBJECT, or
 * FALSE. */
static gboolean
doctor_row (GDBusConnection *c, const char *id, const char *subject, char **severity, char **message, char **fix)
{
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GVariant) reply = bus_harness_call (c, "/org/gpuvirt", "org.gpuvirt.Manager", "Doctor", NULL,
                                                 G_VARIANT_TYPE ("(a(sssss))"), &name, &text);
  g_autoptr (GVariant) rows = NULL;
  GVariantIter iter;
  const char *i, *sev, *subj, *msg, *fx;

  if (!reply)
    g_error ("Doctor: %s %s", name, text);
  rows = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &i, &sev, &subj, &msg, &fx))
    if (g_str_equal (i, id) && g_str_equal (subj, subject)) {
      *severity = g_strdup (sev);
      *message = g_strdup (msg);
      *fix = g_strdup (fx);
      return TRUE;
    }
  return FALSE;
}

static void
clear3 (char **a, char **b, char **c)
{
  g_clear_pointer (a, g_free);
  g_clear_pointer (b, g_free);
  g_clear_pointer (c, g_free);
}

static void
test_doctor (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *sev = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *fix = NULL;
  BusHarnessCtlRun run = { 0 };

  g_assert_true (doctor_row (c, "mig-nvml", "host", &sev, &msg, &fix));
  g_assert_cmpstr (sev, ==, "ok");
  clear3 (&sev, &msg, &fix);
  g_assert_true (doctor_row (c, "mig-capable", H100, &sev, &msg, &fix));
  g_assert_nonnull (strstr (msg, H100 " (NVIDIA H100 PCIe) supports MIG: mode off, 0 GPU instances"));
  clear3 (&sev, &msg, &fix);
  g_assert_false (doctor_row (c, "mig-capable", "0000:e1:00.0", &sev, &msg, &fix));
  g_assert_false (doctor_row (c, "mig-mode-pending", H100, &sev, &msg, &fix));

  /* a pending mode, and nvidia_drm keeping the reset from being made */
  bus_harness_polkit_allow (h, mig_action);
  EXPECT_OK (set_mode (c, H100_PATH, TRUE, g_variant_new_parsed ("{'reset': <false>}"), &ok_name, &ok_message));
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/kernel", "modules=nvidia_modeset,nvidia_drm"), ==, 0);
  g_assert_true (doctor_row (c, "mig-mode-pending", H100, &sev, &msg, &fix));
  g_assert_cmpstr (sev, ==, "warning");
  g_assert_nonnull (strstr (msg, "MIG mode on is pending on " H100));
  clear3 (&sev, &msg, &fix);
  g_assert_true (doctor_row (c, "mig-reset-blocked", H100, &sev, &msg, &fix));
  g_assert_cmpstr (sev, ==, "error");
  g_assert_nonnull (strstr (msg, "the nvidia_drm module is loaded"));
  g_assert_nonnull (strstr (fix, "sudo modprobe -r nvidia_drm"));
  g_assert_nonnull (strstr (fix, "gpuvirtctl mig " H100 " on"));
  /* and in gpuvirtctl doctor --json */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "doctor", "--json", NULL), ==, 6);
  g_assert_nonnull (strstr (run.out, "\"mig-reset-blocked\""));
  g_assert_nonnull (strstr (run.out, "sudo modprobe -r nvidia_drm"));
  bus_harness_ctl_run_clear (&run);
  /* released: the blocking row turns ok */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/kernel", "modules=nvidia_modeset"), ==, 0);
  clear3 (&sev, &msg, &fix);
  g_assert_true (doctor_row (c, "mig-reset-blocked", H100, &sev, &msg, &fix));
  g_assert_cmpstr (sev, ==, "ok");
}

static void
test_doctor_no_nvml (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("GPUVIRT_NVML_LIBRARY"));
  g_autoptr (BusHarness) h = NULL;
  g_autoptr (GDBusConnection) c = NULL;
  g_autofree char *sev = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *fix = NULL;

  g_setenv ("GPUVIRT_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", TRUE);
  h = bus_harness_start ("mig-host");
  g_setenv ("GPUVIRT_NVML_LIBRARY", saved, TRUE);
  c = bus_harness_connect (h->address);
  g_assert_true (doctor_row (c, "mig-nvml", "host", &sev, &msg, &fix));
  g_assert_cmpstr (sev, ==, "warning");
  g_assert_nonnull (strstr (msg, "could not be loaded"));
  g_assert_nonnull (strstr (fix, "libnvidia-ml.so.1"));
  g_assert_nonnull (strstr (fix, "systemctl restart gpuvirtd"));
}

/* ---- killed, stopped ---- */

/* The GPU instances of BDF as the simulator keeps them: "gi" lines. */
static char *
sim_instances (BusHarness *h, const char *bdf)
{
  g_autofree char *mig = bus_harness_read_sim (h, ".sim/mig");
  g_auto (GStrv) lines = g_strsplit (mig, "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("gi %s ", bdf);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

/* "profile@start+size" of every GPU instance the bus shows for PATH */
static char *
bus_instances (GDBusConnection *c, const char *path)
{
  g_autoptr (GVariant) v = bus_harness_get_property (c, path, MIG, "GpuInstances");
  GString *out = g_string_new (NULL);
  GVariantIter iter;
  const char *profile;
  guint32 start, size;

  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "(uu&suu@a(uuuu))", NULL, NULL, &profile, &start, &size, NULL))
    g_string_append_printf (out, "%s%s@%u+%u", out->len ? " " : "", profile, start, size);
  return g_string_free (out, FALSE);
}

/* Waits until the armed fault has fired (.sim/faults empty): the call
 * it names now hangs. */
static void
wait_fault_taken (BusHarness *h)
{
  for (int i = 0; i < 400; i++) {
    g_autofree char *faults = bus_harness_read_sim (h, ".sim/faults");
    if (!*faults)
      return;
    g_usleep (50000);
  }
  g_error ("the armed fault never fired");
}

static void
kill_daemon (BusHarness *h)
{
  int status;

  g_assert_cmpint (kill (h->daemon_pid, SIGKILL), ==, 0);
  /* the hung call returns (and does what it was asked) only now */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "release"), ==, 0);
  g_assert_cmpint (waitpid (h->daemon_pid, &status, 0), ==, h->daemon_pid);
  g_assert_true (WIFSIGNALED (status));
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
}

static void
call_async (GDBusConnection *c, const char *path, const char *method, GVariant *params)
{
  g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", path, MIG, method);

  g_dbus_message_set_body (msg, params);
  g_assert_true (g_dbus_connection_send_message (c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL));
}

/* gpuvirtd killed while CreateGpuInstances makes the second of three:
 * the next start puts the instances back as they were, and its Mig
 * properties show that, not what it read before recovering. */
static void
test_killed (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *before = NULL;
  g_autofree char *half = NULL;
  g_autofree char *after = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *log = NULL;

  bus_harness_polkit_allow (h, mig_action);
  EXPECT_OK (create (c, A100X_PATH, "3g.40gb", 1, NULL, &ok_name, &ok_message));
  before = sim_instances (h, A100X);
  shown = bus_instances (c, A100X_PATH);
  g_assert_cmpstr (shown, ==, "3g.40gb@0+4");
  g_clear_pointer (&shown, g_free);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "nvml/nvmlDeviceCreateGpuInstanceWithPlacement hang skip=1"),
                   ==, 0);
  call_async (c, A100X_PATH, "CreateGpuInstances", g_variant_new ("(su@a{sv})", "1g.10gb", 3,
                                                                   g_variant_new ("a{sv}", NULL)));
  wait_fault_taken (h);
  kill_daemon (h);
  half = sim_instances (h, A100X);
  g_test_message ("left by the killed gpuvirtd:\n%s", half);
  g_assert_cmpstr (half, !=, before);

  bus_harness_restart_daemon (h);
  g_clear_object (&c);
  c = bus_harness_connect (h->address);
  after = sim_instances (h, A100X);
  g_assert_cmpstr (after, ==, before);
  shown = bus_instances (c, A100X_PATH);
  g_assert_cmpstr (shown, ==, "3g.40gb@0+4");
  log = bus_harness_daemon_log (h);
  g_assert_nonnull (strstr (log, "Recovered: " A100X));
  {
    g_autofree char *journal = g_build_filename (h->state_dir, "journal", NULL);
    g_autoptr (GDir) dir = g_dir_open (journal, 0, NULL);
    g_assert_nonnull (dir);
    g_assert_null (g_dir_read_name (dir));
  }
}

static const char *plan_config =
  "[Device " H100 "]\nId=10de:2331\nMigMode=true\nMigProfiles=1g.10gb:2;3g.40gb\nNumVfs=2\n\n"
  "[Device 0000:41:00.4]\nId=10de:2331\nVgpuType=H100-1-10C\n\n"
  "[Device " A100X "]\nId=10de:20b2\nMigMode=true\nMigProfiles=2g.20gb:3\n";

static char *
plan_state (GDBusConnection *c)
{
  g_autoptr (GVariant) v = bus_harness_get_property (c, "/org/gpuvirt", "org.gpuvirt.Manager", "BootPlanState");
  return g_variant_dup_string (v, NULL);
}

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

/* gpuvirtd killed while its plan makes GPU instances (the H100's after
 * its VFs, then the A100's replacing a 7g.80gb): the next start undoes the
 * half step, runs the plan to the end in the hardware's order, and shows
 * the result. */
static void
test_killed_mid_plan (void)
{
  const char *const hangs[] = {
    "nvml/nvmlDeviceCreateGpuInstanceWithPlacement hang skip=1",   /* the H100's second instance */
    "nvml/nvmlGpuInstanceDestroy hang",                             /* the A100's 7g.80gb going */
  };

  for (guint i = 0; i < G_N_ELEMENTS (hangs); i++) {
    g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
    g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
    g_autofree char *state = NULL;
    g_autofree char *log = NULL;
    g_autofree char *daemon_log = NULL;

    g_test_message ("kill -9 while this NVML call hangs: %s", hangs[i]);
    bus_harness_polkit_allow (h, mig_action);
    EXPECT_OK (create (c, A100X_PATH, "7g.80gb", 1, NULL, &ok_name, &ok_message));
    bus_harness_clear_sim_log (h);
    g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", hangs[i]), ==, 0);
    g_assert_true (g_file_set_contents (h->config, plan_config, -1, NULL));
    {
      g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", "/org/gpuvirt",
                                                                     "org.gpuvirt.Manager", "ReloadConfig");
      g_autoptr (GDBusMessage) reply = g_dbus_connection_send_message_with_reply_sync (
        c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, 10000, NULL, NULL, NULL);
      g_assert_nonnull (reply);
      g_assert_cmpint (g_dbus_message_get_message_type (reply), ==, G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
    }
    {
      g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", "/org/gpuvirt",
                                                                     "org.gpuvirt.Manager", "ApplyConfig");
      g_dbus_message_set_body (msg, g_variant_new ("(a{sv})", NULL));
      g_assert_true (g_dbus_connection_send_message (c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL));
    }
    wait_fault_taken (h);
    g_usleep (200000);
    kill_daemon (h);
    /* the killed run kept the hardware's order: reset, VFs, instances */
    log = bus_harness_sim_log (h);
    {
      g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
      guint reset = G_MAXUINT, sriov = G_MAXUINT, gi = G_MAXUINT;
      for (guint l = 0; lines[l]; l++) {
        if (reset == G_MAXUINT && strstr (lines[l], H100 "/reset \"1\""))
          reset = l;
        if (sriov == G_MAXUINT && strstr (lines[l], H100 "/sriov_numvfs \"2\""))
          sriov = l;
        if (gi == G_MAXUINT && strstr (lines[l], "gi-create " H100))
          gi = l;
      }
      g_assert_cmpuint (reset, <, sriov);
      g_assert_cmpuint (sriov, <, gi);
      g_assert_cmpuint (gi, !=, G_MAXUINT);
    }

    bus_harness_restart_daemon (h);
    g_clear_object (&c);
    c = bus_harness_connect (h->address);
    state = wait_plan (h, c);
    daemon_log = bus_harness_daemon_log (h);
    g_test_message ("%s", daemon_log);
    g_assert_cmpstr (state, ==, "done");
    g_assert_nonnull (strstr (daemon_log, "Recovered: "));
    /* what the configuration says, and the bus shows it */
    {
      g_autofree char *a100 = bus_instances (c, A100X_PATH);
      g_assert_cmpstr (a100, ==, "2g.20gb@0+2 2g.20gb@2+2 2g.20gb@4+2");
    }
    {
      g_autofree char *h100 = bus_instances (c, H100_PATH);
      g_auto (GStrv) words = g_strsplit (h100, " ", -1);
      guint small = 0, big = 0;
      for (guint w = 0; words[w]; w++) {
        small += g_str_has_prefix (words[w], "1g.10gb@");
        big += g_str_has_prefix (words[w], "3g.40gb@");
      }
      g_assert_cmpuint (g_strv_length (words), ==, 3);
      g_assert_cmpuint (small, ==, 2);
      g_assert_cmpuint (big, ==, 1);
    }
    {
      g_autofree char *type = bus_harness_read_sim (h, "sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type");
      g_assert_cmpstr (g_strstrip (type), !=, "0");
    }
  }
}

/* SIGTERM while a MIG change calls NVML: gpuvirtd finishes it, answers,
 * refuses new changes meanwhile, then exits 0. */
static void
test_sigterm_waits (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GDBusConnection) other = bus_harness_connect (h->address);
  g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", A100X_PATH, MIG,
                                                                 "CreateGpuInstances");
  int status = 0;

  bus_harness_polkit_allow (h, mig_action);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults",
                                          "nvml/nvmlDeviceCreateGpuInstanceWithPlacement delay=2000 count=1"), ==, 0);
  g_dbus_message_set_body (msg, g_variant_new ("(su@a{sv})", "1g.10gb", 2, g_variant_new ("a{sv}", NULL)));
  /* the call goes out, then SIGTERM while NVML takes its time */
  {
    guint32 serial = 0;
    g_assert_true (g_dbus_connection_send_message (c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, &serial, NULL));
  }
  wait_fault_taken (h);
  g_assert_cmpint (kill (h->daemon_pid, SIGTERM), ==, 0);
  g_usleep (200 * 1000);
  EXPECT_ERROR (set_mode (other, H100_PATH, TRUE, NULL, &err_name, &err_message), "org.gpuvirt.Error.Busy",
                "stopping");
  g_assert_cmpint (waitpid (h->daemon_pid, &status, 0), ==, h->daemon_pid);
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  /* it finished the change: both instances there */
  {
    g_autofree char *gis = sim_instances (h, A100X);
    g_assert_cmpuint (bus_harness_count_lines (gis, "profile=1g.10gb"), ==, 2);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mig-bus/unavailable", test_unavailable);
  g_test_add_func ("/mig-bus/read", test_read);
  g_test_add_func ("/mig-bus/denied", test_denied);
  g_test_add_func ("/mig-bus/mode", test_mode);
  g_test_add_func ("/mig-bus/instances", test_instances);
  g_test_add_func ("/mig-bus/sriov-wipes", test_sriov_wipes);
  g_test_add_func ("/mig-bus/ctl", test_ctl);
  g_test_add_func ("/mig-bus/import", test_import);
  g_test_add_func ("/mig-bus/doctor", test_doctor);
  g_test_add_func ("/mig-bus/doctor-no-nvml", test_doctor_no_nvml);
  g_test_add_func ("/mig-bus/killed", test_killed);
  g_test_add_func ("/mig-bus/killed-mid-plan", test_killed_mid_plan);
  g_test_add_func ("/mig-bus/sigterm-waits", test_sigterm_waits);
  return g_test_run ();
}
