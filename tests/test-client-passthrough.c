/* gpuvirtctl bind, return and unbind against the real gpuvirtd on a
 * private bus over the simulated host (tests/bus-harness.h): exit codes,
 * messages, the JSON rows, progress lines, and the end state of every
 * function read back from the simulated sysfs. */
#include "bus-harness.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GPU "0000:01:00.0"
static const char *const workstation_functions[] = { "0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3", NULL };
static const char *const workstation_drivers[] = { "nvidia", "snd_hda_intel", "xhci_hcd", "nvidia-gpu", NULL };

/* ---- the simulated host ---- */

static void
write_sim_ok (BusHarness *h, const char *rel, const char *data)
{
  g_assert_cmpint (bus_harness_write_sim (h, rel, data), ==, 0);
}

/* "" when the function has no driver */
static char *
driver_of (BusHarness *h, const char *bdf)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/driver", bdf);
  g_autofree char *path = sim_mount_path (h->mount, rel);
  char *name = sim_link_name (path);
  return name ? name : g_strdup ("");
}

static char *
override_of (BusHarness *h, const char *bdf)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/driver_override", bdf);
  return bus_harness_read_sim (h, rel);
}

static void
assert_workstation_on (BusHarness *h, const char *const *drivers)
{
  for (guint i = 0; workstation_functions[i]; i++) {
    g_autofree char *driver = driver_of (h, workstation_functions[i]);
    g_assert_cmpstr (driver, ==, drivers[i]);
  }
}

static void
assert_workstation_original (BusHarness *h)
{
  assert_workstation_on (h, workstation_drivers);
  for (guint i = 0; workstation_functions[i]; i++) {
    g_autofree char *override = override_of (h, workstation_functions[i]);
    g_assert_cmpstr (override, ==, "(null)");
  }
}

static void
assert_workstation_vfio (BusHarness *h)
{
  const char *const vfio[] = { "vfio-pci", "vfio-pci", "vfio-pci", "vfio-pci", NULL };
  assert_workstation_on (h, vfio);
}

/* Xorg and nvidia-persistenced close the GPU's nodes (gnome-shell holds
 * only the iGPU's). */
static void
stop_holders (BusHarness *h)
{
  write_sim_ok (h, ".sim/holders", "remove 1834");
  write_sim_ok (h, ".sim/holders", "remove 1102");
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every NVIDIA display controller of the simulated host, by address. */
static GPtrArray *
nvidia_gpus (BusHarness *h)
{
  g_autofree char *dir_path = sim_mount_path (h->mount, "sys/bus/pci/devices");
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *gpus = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *vendor_rel = g_strdup_printf ("sys/bus/pci/devices/%s/vendor", name);
    g_autofree char *class_rel = g_strdup_printf ("sys/bus/pci/devices/%s/class", name);
    g_autofree char *vendor = bus_harness_read_sim (h, vendor_rel);
    g_autofree char *class = bus_harness_read_sim (h, class_rel);

    if (g_str_equal (vendor, "0x10de") && g_str_has_prefix (class, "0x03"))
      g_ptr_array_add (gpus, g_strdup (name));
  }
  g_ptr_array_sort (gpus, compare_strings);
  return gpus;
}

/* vfio-pci refuses a physical function with VFs enabled: disable them
 * everywhere, as an administrator would before binding every GPU, and
 * have gpuvirtd read the host again. */
static void
disable_sriov (BusHarness *h)
{
  g_autofree char *dir_path = sim_mount_path (h->mount, "sys/bus/pci/devices");
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr (GPtrArray) pfs = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  const char *refresh[] = { "busctl", "--system", "call", "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager",
                            "Refresh", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/sriov_numvfs", name);
    g_autofree char *num = bus_harness_read_sim (h, rel);
    if (*num && !g_str_equal (num, "0"))
      g_ptr_array_add (pfs, g_steal_pointer (&rel));
  }
  for (guint i = 0; i < pfs->len; i++)
    write_sim_ok (h, pfs->pdata[i], "0");
  if (bus_harness_run (h, FALSE, refresh, &out, &err) != 0)
    g_error ("Refresh failed: %s", err);
}

/* ---- running gpuvirtctl ---- */

/* The rows of --json output: {"Results": [{"Address", "State", "Message"}]} */
static JsonArray *
parse_results (const char *out)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  JsonArray *results;

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (root), ==, 1);
  results = json_object_get_array_member (root, "Results");
  g_assert_nonnull (results);
  for (guint i = 0; i < json_array_get_length (results); i++) {
    JsonObject *row = json_array_get_object_element (results, i);
    g_assert_cmpuint (json_object_get_size (row), ==, 3);
    g_assert_nonnull (json_object_get_string_member (row, "Address"));
    g_assert_nonnull (json_object_get_string_member (row, "State"));
    g_assert_nonnull (json_object_get_string_member (row, "Message"));
  }
  return json_array_ref (results);
}

static const char *
row_state (JsonArray *rows, const char *address)
{
  for (guint i = 0; i < json_array_get_length (rows); i++) {
    JsonObject *row = json_array_get_object_element (rows, i);
    if (g_str_equal (json_object_get_string_member (row, "Address"), address))
      return json_object_get_string_member (row, "State");
  }
  return NULL;
}

/* The text output's line for ADDRESS: "ADDRESS STATE [MESSAGE]". */
static char *
text_row (const char *out, const char *address)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], address) && lines[i][strlen (address)] == ' ')
      return g_strdup (lines[i]);
  return NULL;
}

/* ---- tests ---- */

static void
test_round_trip (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (JsonArray) rows = NULL;
  BusHarnessCtlRun run = { 0 };

  /* Xorg holds the GPU: refused with its name, a hint, nothing written */
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "01:00.0", NULL), ==, 6);
  g_assert_nonnull (strstr (run.err, "Xorg"));
  g_assert_nonnull (strstr (run.err, "Hint: "));
  g_assert_cmpstr (run.out, ==, "");
  bus_harness_assert_no_writes (h);
  assert_workstation_original (h);

  stop_holders (h);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "01:00.0", "--verbose", NULL), ==, 0);
  assert_workstation_vfio (h);
  /* one line per function: address, end state, message */
  for (guint i = 0; workstation_functions[i]; i++) {
    g_autofree char *line = text_row (run.out, workstation_functions[i]);
    g_autofree char *transition = g_strdup_printf ("%s: releasing ", workstation_functions[i]);
    g_autofree char *arrived = g_strdup_printf ("%s: vfio ", workstation_functions[i]);
    g_assert_nonnull (line);
    g_assert_true (g_str_has_prefix (line + strlen (workstation_functions[i]), " vfio"));
    /* progress, in order, on stderr */
    g_assert_nonnull (strstr (run.err, transition));
    g_assert_nonnull (strstr (run.err, arrived));
    g_assert_true (strstr (run.err, transition) < strstr (run.err, arrived));
  }
  {
    g_auto (GStrv) lines = g_strsplit (run.out, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 5); /* and "" after the last */
  }

  /* back for the display, each function on the driver it had */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", "01:00.0", NULL), ==, 0);
  assert_workstation_original (h);
  for (guint i = 0; workstation_functions[i]; i++) {
    g_autofree char *line = text_row (run.out, workstation_functions[i]);
    g_assert_nonnull (line);
    g_assert_nonnull (strstr (line, " host"));
  }
  /* no terminal, no --verbose: no progress */
  g_assert_null (strstr (run.err, "returning"));

  /* the same with JSON rows, a companion's address and the other names */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--json", "01:00.1", NULL), ==, 0);
  assert_workstation_vfio (h);
  rows = parse_results (run.out);
  g_assert_cmpuint (json_array_get_length (rows), ==, 4);
  for (guint i = 0; workstation_functions[i]; i++)
    g_assert_cmpstr (row_state (rows, workstation_functions[i]), ==, "vfio");
  g_clear_pointer (&rows, json_array_unref);

  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "give-back", "--json=short", GPU, NULL), ==, 0);
  g_assert_null (strchr (g_strchomp (run.out), '\n'));
  rows = parse_results (run.out);
  for (guint i = 0; workstation_functions[i]; i++)
    g_assert_cmpstr (row_state (rows, workstation_functions[i]), ==, "host");
  assert_workstation_original (h);

  /* --driver: the GPU to the named driver, the companions to theirs */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "/org/gpuvirt/devices/pci_0000_01_00_0", NULL), ==, 0);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "reclaim", GPU, "--driver", "no_such_driver", NULL), ==, 6);
  g_assert_nonnull (strstr (run.err, "no_such_driver"));
  g_assert_nonnull (strstr (run.err, "Hint: "));
  assert_workstation_vfio (h);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "reclaim", GPU, "--driver", "nvidia", NULL), ==, 0);
  {
    g_autofree char *driver = driver_of (h, GPU);
    g_assert_cmpstr (driver, ==, "nvidia");
  }
  /* the companions to theirs: by that call already (dbus/ says so) or by
   * this one (what gpuvirtd does now) */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", GPU, NULL), ==, 0);
  assert_workstation_original (h);
  bus_harness_ctl_run_clear (&run);
}

static void
test_polkit (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  BusHarnessCtlRun run = { 0 };

  stop_holders (h);
  bus_harness_clear_sim_log (h);
  /* polkit says no: exit 4 and not one write */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "bind", "01:00.0", NULL), ==, 4);
  g_assert_nonnull (strstr (run.err, "Hint: "));
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "bind", "--no-ask-password", "01:00.0", "01:00.1", NULL), ==, 4);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "unbind", "--yes", "01:00.0", NULL), ==, 4);
  bus_harness_assert_no_writes (h);
  assert_workstation_original (h);

  /* the ordinary action allowed: --force needs the stronger one */
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.assign-device", NULL });
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "bind", "--force", "01:00.0", NULL), ==, 4);
  bus_harness_assert_no_writes (h);

  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "bind", "01:00.0", NULL), ==, 0);
  assert_workstation_vfio (h);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "return", "01:00.0", NULL), ==, 0);
  assert_workstation_original (h);
  bus_harness_ctl_run_clear (&run);
}

static void
test_unbind (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  BusHarnessCtlRun run = { 0 };

  stop_holders (h);
  bus_harness_clear_sim_log (h);
  /* no terminal to ask on, no --yes: a usage error before anything */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "unbind", GPU, NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "--yes"));
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "unbind", GPU, NULL), ==, 2);
  bus_harness_assert_no_writes (h);
  assert_workstation_original (h);

  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "unbind", "--yes", GPU, NULL), ==, 0);
  {
    g_autofree char *line = text_row (run.out, GPU);
    g_autofree char *driver = driver_of (h, GPU);
    g_assert_nonnull (line);
    g_assert_nonnull (strstr (line, " unbound"));
    g_assert_cmpstr (driver, ==, "");
  }
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", GPU, "--driver", "nvidia", NULL), ==, 0);
  assert_workstation_original (h);
  bus_harness_ctl_run_clear (&run);
}

static void
test_usage (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  BusHarnessCtlRun run = { 0 };

  bus_harness_clear_sim_log (h);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--all", GPU, NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", "--all", GPU, NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", "--allow-foreign", GPU, NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "--allow-foreign"));
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--driver", "nvidia", GPU, NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--yes", GPU, NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--timeout", "0", GPU, NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--timeout", "soon", GPU, NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "list", "--force", NULL), ==, 2);
  /* gpuvirtd decides what names a device */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "not-a-device", NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "0000:09:00.0", NULL), ==, 3);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "return", "--driver", "../../etc", GPU, NULL), ==, 2);
  /* the host's disk is not a GPU */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--force", "02:00.0", NULL), ==, 6);
  g_assert_nonnull (strstr (run.err, "Hint: "));
  bus_harness_assert_no_writes (h);
  assert_workstation_original (h);

  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "--allow-foreign"));
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "reclaim", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "return DEVICE..."));
  g_assert_nonnull (strstr (run.out, "--driver"));
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "unbind DEVICE..."));
  bus_harness_ctl_run_clear (&run);
}

static void
test_timeout_stuck (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  BusHarnessCtlRun run = { 0 };

  stop_holders (h);
  /* the GPU's unbind never returns: stuck after the per-write timeout,
   * the companions put back, and the message names the states */
  /* count=1: after "release" a later unbind (the undo) must not hang again */
  write_sim_ok (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind hang count=1");
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--timeout", "0.5", "--verbose", GPU, NULL), ==, 1);
  g_assert_nonnull (strstr (run.err, "0000:01:00.0: stuck"));
  g_assert_nonnull (strstr (run.err, "Hint: "));
  for (guint i = 1; workstation_functions[i]; i++) {
    g_autofree char *driver = driver_of (h, workstation_functions[i]);
    g_assert_cmpstr (driver, ==, workstation_drivers[i]);
  }
  write_sim_ok (h, ".sim/faults", "release");
  bus_harness_ctl_run_clear (&run);
}

static void
test_bulk (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autoptr (GPtrArray) gpus = NULL;
  g_autoptr (JsonArray) rows = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *fault = NULL;
  const char *failing;
  BusHarnessCtlRun run = { 0 };

  disable_sriov (h);
  gpus = nvidia_gpus (h);
  g_assert_cmpuint (gpus->len, >=, 8);
  /* 0000:16:00.0, alone in its IOMMU group */
  failing = gpus->pdata[0];

  /* keep-going: the group whose probe fails is reported, the rest moves */
  fault = g_strdup_printf ("sys/bus/pci/drivers_probe errno=EIO data=%s", failing);
  write_sim_ok (h, ".sim/faults", fault);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--all", "--keep-going", "--json", NULL), ==, 1);
  g_assert_nonnull (strstr (run.err, "Hint: "));
  rows = parse_results (run.out);
  for (guint i = 0; i < gpus->len; i++) {
    g_autofree char *driver = driver_of (h, gpus->pdata[i]);
    g_assert_cmpstr (driver, ==, i == 0 ? "nvidia" : "vfio-pci");
    g_assert_cmpstr (row_state (rows, gpus->pdata[i]), ==, i == 0 ? "host" : "vfio");
  }
  for (guint i = 0; i < json_array_get_length (rows); i++) {
    JsonObject *row = json_array_get_object_element (rows, i);
    if (g_str_equal (json_object_get_string_member (row, "Address"), failing))
      g_assert_true (g_str_has_prefix (json_object_get_string_member (row, "Message"),
                                       "org.gpuvirt.Error.KernelError: "));
  }
  g_clear_pointer (&rows, json_array_unref);
  write_sim_ok (h, ".sim/faults", "clear");

  /* every NVIDIA GPU, one call */
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "bind", "--all", "--json", NULL), ==, 0);
  rows = parse_results (run.out);
  for (guint i = 0; i < gpus->len; i++) {
    g_autofree char *driver = driver_of (h, gpus->pdata[i]);
    g_assert_cmpstr (driver, ==, "vfio-pci");
    g_assert_cmpstr (row_state (rows, gpus->pdata[i]), ==, "vfio");
  }

  /* and all back through the bulk GiveBack */
  g_ptr_array_add (argv, (gpointer) g_getenv ("GPUVIRTCTL"));
  g_ptr_array_add (argv, (gpointer) "return");
  for (guint i = 0; i < gpus->len; i++)
    g_ptr_array_add (argv, gpus->pdata[i]);
  g_ptr_array_add (argv, NULL);
  bus_harness_ctl_run_clear (&run);
  run.status = bus_harness_run (h, FALSE, (const char *const *) argv->pdata, &run.out, &run.err);
  g_test_message ("return ... -> %d\n%s\n%s", run.status, run.out, run.err);
  g_assert_cmpint (run.status, ==, 0);
  for (guint i = 0; i < gpus->len; i++) {
    g_autofree char *driver = driver_of (h, gpus->pdata[i]);
    g_autofree char *line = text_row (run.out, gpus->pdata[i]);
    g_assert_cmpstr (driver, ==, "nvidia");
    g_assert_nonnull (line);
  }
  bus_harness_ctl_run_clear (&run);
}

/* ---- while the call runs ---- */

/* Starts "gpuvirtctl --verbose bind GPU" as root and reads its stderr up
 * to the line that says the GPU is being released. */
static GPid
start_bind (BusHarness *h, GString *err_text, int *err_fd)
{
  const char *argv[] = { g_getenv ("GPUVIRTCTL"), "--verbose", "bind", GPU, NULL };
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "DBUS_SYSTEM_BUS_ADDRESS", h->address, TRUE);
  g_autoptr (GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  GPid pid;

  env = g_environ_setenv (env, "LC_ALL", "C", TRUE);
  g_spawn_async_with_pipes (NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                            NULL, NULL, &pid, NULL, NULL, err_fd, &error);
  g_assert_no_error (error);
  while (!strstr (err_text->str, GPU ": releasing")) {
    char buf[512];
    ssize_t n = read (*err_fd, buf, sizeof buf);
    g_assert_cmpint (n, >, 0);
    g_string_append_len (err_text, buf, n);
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
  }
  return pid;
}

static int
finish (GPid pid, int err_fd, GString *err_text)
{
  char buf[512];
  ssize_t n;
  int status;

  while ((n = read (err_fd, buf, sizeof buf)) > 0)
    g_string_append_len (err_text, buf, n);
  close (err_fd);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_test_message ("stderr:\n%s", err_text->str);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_interrupt (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GString) err_text = g_string_new (NULL);
  int err_fd;
  GPid pid;

  stop_holders (h);
  write_sim_ok (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind delay=2000");
  pid = start_bind (h, err_text, &err_fd);
  /* Ctrl+C stops the waiting, not the operation */
  kill (pid, SIGINT);
  g_assert_cmpint (finish (pid, err_fd, err_text), ==, 1);
  g_assert_nonnull (strstr (err_text->str, "Interrupted"));
  for (int i = 0; i < 200; i++) {
    g_autofree char *driver = driver_of (h, GPU);
    if (g_str_equal (driver, "vfio-pci"))
      break;
    g_usleep (50 * 1000);
  }
  assert_workstation_vfio (h);
}

static void
test_daemon_dies (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GString) err_text = g_string_new (NULL);
  int err_fd, status;
  GPid pid;

  stop_holders (h);
  /* the GPU's unbind takes 3 s: gpuvirtd is killed while it may be in
   * that write (count=1: the undo's unbind is quick) */
  write_sim_ok (h, ".sim/faults", "sys/bus/pci/drivers/nvidia/unbind delay=3000 count=1");
  pid = start_bind (h, err_text, &err_fd);
  /* gpuvirtd goes away in the middle: the call ends with an error once
   * it is gone, instead of waiting out its timeout. A killed process
   * whose write is blocked in the kernel goes only once the write
   * returns (and does what it asked), so at most 3 s later. */
  kill (h->daemon_pid, SIGKILL);
  g_assert_cmpint (finish (pid, err_fd, err_text), ==, 1);
  g_assert_nonnull (strstr (err_text->str, "Could not bind " GPU " to vfio-pci: "));
  g_assert_nonnull (strstr (err_text->str, "Hint: "));
  /* then the next gpuvirtd puts the moved companions back */
  waitpid (h->daemon_pid, &status, 0);
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
  bus_harness_restart_daemon (h);
  assert_workstation_original (h);
}

/* ---- on a terminal (script(1) gives gpuvirtctl a pseudo-terminal) ---- */

static gboolean
have_script (void)
{
  /* bsdutils ships script(1) and is essential: its absence is a failure */
  g_autofree char *path = g_find_program_in_path ("script");
  g_assert_nonnull (path);
  return TRUE;
}

/* A stand-in for pkttyagent that records how it was started, says it is
 * ready by closing the notify fd, and records being stopped. */
static char *
fake_agent (const char *dir)
{
  g_autofree char *script = g_strdup_printf (
    "#!/bin/sh\n"
    "echo \"$@\" > %s/agent-args\n"
    "trap 'echo stopped > %s/agent-stopped; kill $child; exit 0' TERM\n"
    "exec 3>&-\n"
    "sleep 60 & child=$!\n"
    "wait\n",
    dir, dir);
  char *path = g_build_filename (dir, "fake-pkttyagent", NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  return path;
}

/* Runs gpuvirtctl ARGS as nobody on a pseudo-terminal that script(1)
 * makes, typing ANSWER (NULL: nothing, stdin at its end). What gpuvirtctl
 * writes to stdout and stderr both arrive in run->out, with "\r\n". */
static int
ctl_on_tty (BusHarness *h, const char *answer, const char *args, BusHarnessCtlRun *run)
{
  g_autofree char *binary = bus_harness_public_copy (h, g_getenv ("GPUVIRTCTL"));
  g_autofree char *command = g_strdup_printf ("%s %s", binary, args);
  g_autofree char *quoted = g_shell_quote (command);
  g_autofree char *shell = answer ? g_strdup_printf ("echo %s | script -qec %s /dev/null", answer, quoted)
                                  : g_strdup_printf ("script -qec %s /dev/null < /dev/null", quoted);
  const char *argv[] = { "/bin/sh", "-c", shell, NULL };

  bus_harness_ctl_run_clear (run);
  run->status = bus_harness_run (h, TRUE, argv, &run->out, &run->err);
  g_test_message ("%s -> %d\n%s\n%s", shell, run->status, run->out, run->err);
  return run->status;
}

static void
test_terminal (void)
{
  g_autoptr (BusHarness) h = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *agent = NULL;
  g_autofree char *args_file = NULL;
  g_autofree char *stopped_file = NULL;
  g_autofree char *args = NULL;
  BusHarnessCtlRun run = { 0 };

  if (!have_script ())
    return;
  h = bus_harness_start ("workstation");
  dir = g_dir_make_tmp ("gpuvirtctl-agent-XXXXXX", NULL);
  g_assert_nonnull (dir);
  g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
  agent = fake_agent (dir);
  args_file = g_build_filename (dir, "agent-args", NULL);
  stopped_file = g_build_filename (dir, "agent-stopped", NULL);
  g_setenv ("GPUVIRTCTL_PKTTYAGENT", agent, TRUE);

  stop_holders (h);
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.assign-device", NULL });

  /* on a terminal: the agent runs for the call, progress is shown */
  g_assert_cmpint (ctl_on_tty (h, NULL, "bind 01:00.0", &run), ==, 0);
  g_assert_nonnull (strstr (run.out, "0000:01:00.0: releasing"));
  assert_workstation_vfio (h);
  g_assert_true (g_file_get_contents (args_file, &args, NULL, NULL));
  g_assert_true (g_regex_match_simple ("^--process [0-9]+,[0-9]+ --notify-fd 3 --fallback\n$", args, 0, 0));
  g_assert_true (g_file_test (stopped_file, G_FILE_TEST_EXISTS));
  g_unlink (args_file);
  g_unlink (stopped_file);

  /* --no-ask-password: no agent */
  g_assert_cmpint (ctl_on_tty (h, NULL, "return --no-ask-password 01:00.0", &run), ==, 0);
  assert_workstation_original (h);
  g_assert_false (g_file_test (args_file, G_FILE_TEST_EXISTS));

  /* unbind asks; "n" changes nothing, "y" unbinds */
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (ctl_on_tty (h, "n", "unbind 01:00.0", &run), ==, 1);
  g_assert_nonnull (strstr (run.out, "0000:01:00.0"));
  g_assert_nonnull (strstr (run.out, "[y/N]"));
  bus_harness_assert_no_writes (h);
  g_assert_cmpint (ctl_on_tty (h, "y", "unbind 01:00.0", &run), ==, 0);
  {
    g_autofree char *driver = driver_of (h, GPU);
    g_assert_cmpstr (driver, ==, "");
  }

  /* no pkttyagent installed: the call goes on without one */
  g_setenv ("GPUVIRTCTL_PKTTYAGENT", "", TRUE);
  g_assert_cmpint (ctl_on_tty (h, NULL, "return --driver nvidia 01:00.0", &run), ==, 0);
  assert_workstation_original (h);
  g_unsetenv ("GPUVIRTCTL_PKTTYAGENT");

  g_unlink (agent);
  g_unlink (args_file);
  g_unlink (stopped_file);
  g_rmdir (dir);
  bus_harness_ctl_run_clear (&run);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/passthrough/round-trip", test_round_trip);
  g_test_add_func ("/client/passthrough/polkit", test_polkit);
  g_test_add_func ("/client/passthrough/unbind", test_unbind);
  g_test_add_func ("/client/passthrough/usage", test_usage);
  g_test_add_func ("/client/passthrough/timeout-stuck", test_timeout_stuck);
  g_test_add_func ("/client/passthrough/bulk", test_bulk);
  g_test_add_func ("/client/passthrough/interrupt", test_interrupt);
  g_test_add_func ("/client/passthrough/daemon-dies", test_daemon_dies);
  g_test_add_func ("/client/passthrough/terminal", test_terminal);
  return g_test_run ();
}
