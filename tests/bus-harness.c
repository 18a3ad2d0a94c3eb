/* The end-to-end test bed (see bus-harness.h). Every process it starts
 * dies with the test (PR_SET_PDEATHSIG), and every wait has a deadline. */
#include "bus-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define START_TIMEOUT_USEC (20 * G_USEC_PER_SEC)

/* The system bus's stance (nothing may be owned or called unless a
 * policy opens it), gpuvirt's own policy, and what the polkit mock needs. */
static const char bus_config[] =
  "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
  " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
  "<busconfig>\n"
  "  <type>system</type>\n"
  "  <listen>unix:path=%s</listen>\n"
  "  <auth>EXTERNAL</auth>\n"
  "  <policy context=\"default\">\n"
  "    <allow user=\"*\"/>\n"
  "    <deny own=\"*\"/>\n"
  "    <deny send_type=\"method_call\"/>\n"
  "    <allow send_type=\"signal\"/>\n"
  "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
  "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
  "    <allow receive_type=\"method_call\"/>\n"
  "    <allow receive_type=\"method_return\"/>\n"
  "    <allow receive_type=\"error\"/>\n"
  "    <allow receive_type=\"signal\"/>\n"
  "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
  "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
  "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
  "  </policy>\n"
  "  <!-- the polkit authority mock, as polkit's own policy allows -->\n"
  "  <policy user=\"root\">\n"
  "    <allow own=\"org.freedesktop.PolicyKit1\"/>\n"
  "    <allow send_destination=\"org.freedesktop.PolicyKit1\"/>\n"
  "  </policy>\n"
  "  <policy context=\"default\">\n"
  "    <allow send_destination=\"org.freedesktop.PolicyKit1\" send_interface=\"org.freedesktop.PolicyKit1.Authority\"/>\n"
  "  </policy>\n"
  "  <include>%s</include>\n"
  "</busconfig>\n";

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static GPid
spawn (const char *const *argv, char **envp, int *stdout_fd, const char *log)
{
  g_autoptr (GError) error = NULL;
  GPid pid;
  int log_fd = -1;

  if (log) {
    log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    g_assert_cmpint (log_fd, >=, 0);
  }
  g_spawn_async_with_pipes_and_fds (NULL, argv, (const char *const *) envp,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, die_with_parent, NULL,
                                    -1, stdout_fd ? -1 : log_fd, log_fd, NULL, NULL, 0, &pid, NULL,
                                    stdout_fd, NULL, &error);
  g_assert_no_error (error);
  if (log_fd >= 0)
    close (log_fd);
  return pid;
}

static void
stop (GPid *pid)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  int status;

  if (*pid <= 0)
    return;
  kill (*pid, SIGTERM);
  while (waitpid (*pid, &status, WNOHANG) != *pid) {
    if (g_get_monotonic_time () > deadline) {
      kill (*pid, SIGKILL);
      waitpid (*pid, &status, 0);
      break;
    }
    g_usleep (5000);
  }
  g_spawn_close_pid (*pid);
  *pid = 0;
}

static char **
child_env (BusHarness *h)
{
  char **env = g_get_environ ();
  env = g_environ_setenv (env, "DBUS_SYSTEM_BUS_ADDRESS", h->address, TRUE);
  return env;
}

static gboolean
name_has_owner (sd_bus *bus, const char *name)
{
  sd_bus_message *reply = NULL;
  int has = 0;

  if (sd_bus_call_method (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "NameHasOwner", NULL, &reply, "s", name) >= 0)
    sd_bus_message_read (reply, "b", &has);
  sd_bus_message_unref (reply);
  return has;
}

static void
wait_for_name (BusHarness *h, const char *name, GPid pid, const char *what)
{
  /* under a checker (valgrind) a start is tens of times slower, and CI's
   * 2 cores may be busy with a VM */
  const char *wrap = g_getenv ("GPUVIRT_DAEMON_WRAPPER");
  gint64 timeout = (wrap && *wrap ? 5 : 1) * START_TIMEOUT_USEC;
  gint64 deadline = g_get_monotonic_time () + timeout;
  int status;

  while (!name_has_owner (h->bus, name)) {
    if (waitpid (pid, &status, WNOHANG) == pid) {
      g_autofree char *log = bus_harness_daemon_log (h);
      g_error ("%s exited before owning %s (status %d)\n%s", what, name, status, log);
    }
    if (g_get_monotonic_time () > deadline)
      g_error ("%s did not own %s within %d s", what, name, (int) (timeout / G_USEC_PER_SEC));
    g_usleep (10000);
  }
}

/* GPUVIRT_DAEMON_WRAPPER (e.g. "valgrind --leak-check=full
 * --error-exitcode=99") runs the daemon under a checker; its verdict is
 * the daemon's exit status, asserted when the daemon is stopped. */
static void
start_daemon (BusHarness *h)
{
  g_auto (GStrv) env = child_env (h);
  g_auto (GStrv) wrapper = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *wrap = g_getenv ("GPUVIRT_DAEMON_WRAPPER");

  g_assert_nonnull (g_getenv ("GPUVIRTD"));
  if (wrap && *wrap) {
    g_assert_true (g_shell_parse_argv (wrap, NULL, &wrapper, NULL));
    for (guint i = 0; wrapper[i]; i++)
      g_ptr_array_add (argv, wrapper[i]);
  }
  g_ptr_array_add (argv, (char *) g_getenv ("GPUVIRTD"));
  g_ptr_array_add (argv, (char *) "--root");
  g_ptr_array_add (argv, h->root);
  g_ptr_array_add (argv, (char *) "--state-dir");
  g_ptr_array_add (argv, h->state_dir);
  g_ptr_array_add (argv, (char *) "--config");
  g_ptr_array_add (argv, h->config);
  /* libvirt's domain definitions for Doctor(): absent unless a test writes them */
  g_ptr_array_add (argv, (char *) "--libvirt-dir");
  g_ptr_array_add (argv, h->libvirt_dir);
  /* this machine's own /sys is only ever read */
  if (!h->mount)
    g_ptr_array_add (argv, (char *) "--read-only");
  g_ptr_array_add (argv, NULL);
  env = g_environ_setenv (env, "G_MESSAGES_DEBUG", "all", TRUE);
  /* the test NVML (tests/nvml) sees the simulated host's GPUs */
  if (h->mount)
    env = g_environ_setenv (env, "GPUVIRT_TEST_NVML_ROOT", h->root, TRUE);
  h->daemon_pid = spawn ((const char *const *) argv->pdata, env, NULL, h->daemon_log);
  wait_for_name (h, "org.gpuvirt", h->daemon_pid, "gpuvirtd");
}

/* Stops the daemon; it must exit cleanly (and, wrapped, pass its checker). */
static void
stop_daemon (BusHarness *h)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  int status;

  if (h->daemon_pid <= 0)
    return;
  kill (h->daemon_pid, SIGTERM);
  while (waitpid (h->daemon_pid, &status, WNOHANG) != h->daemon_pid) {
    if (g_get_monotonic_time () > deadline) {
      kill (h->daemon_pid, SIGKILL);
      waitpid (h->daemon_pid, &status, 0);
      g_error ("gpuvirtd did not exit within 30 s of SIGTERM");
    }
    g_usleep (5000);
  }
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    g_autofree char *log = bus_harness_daemon_log (h);
    g_error ("gpuvirtd did not exit cleanly on SIGTERM (status %d):\n%s", status, log);
  }
}

BusHarness *
bus_harness_start (const char *scenario)
{
  return bus_harness_start_with_config (scenario, NULL);
}

BusHarness *
bus_harness_start_with_config (const char *scenario, const char *config_text)
{
  BusHarness *h = g_new0 (BusHarness, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GIOChannel) channel = NULL;
  const char *policy = g_getenv ("GPUVIRT_BUS_POLICY");
  const char *python_argv[] = { "/usr/bin/python3", "-m", "dbusmock", "--template", "polkitd", "--system", NULL };
  int out_fd = -1;

  g_assert_nonnull (policy);
  h->dir = g_dir_make_tmp ("gpuvirt-bus-XXXXXX", &error);
  g_assert_no_error (error);
  g_chmod (h->dir, 0755);   /* the unprivileged caller must reach the socket */
  h->daemon_log = g_build_filename (h->dir, "gpuvirtd.log", NULL);
  h->state_dir = g_build_filename (h->dir, "state", NULL);
  h->config = g_build_filename (h->dir, "gpuvirt.conf", NULL);
  h->libvirt_dir = g_build_filename (h->dir, "libvirt-qemu", NULL);
  if (config_text) {
    g_file_set_contents (h->config, config_text, -1, &error);
    g_assert_no_error (error);
  }
  socket = g_build_filename (h->dir, "system_bus_socket", NULL);
  config_path = g_build_filename (h->dir, "bus.conf", NULL);
  config = g_strdup_printf (bus_config, socket, policy);
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);

  {
    g_autofree char *config_arg = g_strdup_printf ("--config-file=%s", config_path);
    const char *argv[] = { "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog", config_arg, "--print-address=1", NULL };
    g_auto (GStrv) env = g_get_environ ();
    h->bus_pid = spawn (argv, env, &out_fd, NULL);
  }
  channel = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (channel, TRUE);
  g_io_channel_read_line (channel, &line, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  h->address = g_strdup (g_strstrip (line));
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", h->address, TRUE);
  g_assert_cmpint (sd_bus_open_system (&h->bus), >=, 0);

  {
    g_auto (GStrv) env = child_env (h);
    h->polkit_pid = spawn (python_argv, env, NULL, h->daemon_log);
  }
  wait_for_name (h, "org.freedesktop.PolicyKit1", h->polkit_pid, "the polkit mock (python3-dbusmock)");

  /* NULL: this machine's own /sys, read-only tests only */
  if (scenario) {
    h->mount = sim_mount_start (scenario);
    h->root = g_strdup (h->mount->root);
  } else {
    h->root = g_strdup ("/");
  }
  start_daemon (h);
  return h;
}

void
bus_harness_restart_daemon (BusHarness *h)
{
  stop_daemon (h);
  start_daemon (h);
}

void
bus_harness_polkit_allow (BusHarness *h, const char *const *actions)
{
  sd_bus_message *m = NULL;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  r = sd_bus_message_new_method_call (h->bus, &m, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                      "org.freedesktop.DBus.Mock", "SetAllowed");
  g_assert_cmpint (r, >=, 0);
  g_assert_cmpint (sd_bus_message_append_strv (m, (char **) actions), >=, 0);
  r = sd_bus_call (h->bus, m, 0, &error, NULL);
  if (r < 0)
    g_error ("SetAllowed on the polkit mock failed: %s", error.message);
  sd_bus_message_unref (m);
}

char *
bus_harness_daemon_log (BusHarness *h)
{
  char *log = NULL;

  if (!g_file_get_contents (h->daemon_log, &log, NULL, NULL))
    log = g_strdup ("");
  return log;
}

static void
become_nobody (gpointer data)
{
  struct passwd *pw = getpwnam ("nobody");

  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (!pw || setgroups (0, NULL) < 0 || setresgid (pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
      setresuid (pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
    _exit (126);
}

/* The checkout may not be reachable by nobody (a 0700 clone directory):
 * unprivileged runs use a copy of a build-tree binary in the harness's own
 * directory, which anyone may read. */
char *
bus_harness_public_copy (BusHarness *h, const char *binary)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_path_get_basename (binary);
  g_autofree char *data = NULL;
  char *copy = g_build_filename (h->dir, base, NULL);
  gsize len;

  if (!g_file_test (copy, G_FILE_TEST_EXISTS)) {
    g_file_get_contents (binary, &data, &len, &error);
    g_assert_no_error (error);
    g_file_set_contents_full (copy, data, (gssize) len, G_FILE_SET_CONTENTS_NONE, 0755, &error);
    g_assert_no_error (error);
  }
  return copy;
}

int
bus_harness_run (BusHarness *h, gboolean unprivileged, const char *const *argv, char **out, char **err)
{
  g_auto (GStrv) env = child_env (h);
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_autofree char *copy = NULL;
  g_autofree char **args = g_memdup2 (argv, (g_strv_length ((char **) argv) + 1) * sizeof (char *));

  env = g_environ_setenv (env, "LC_ALL", "C", TRUE);
  if (unprivileged && g_path_is_absolute (argv[0]) && !g_str_has_prefix (argv[0], "/usr/")) {
    copy = bus_harness_public_copy (h, argv[0]);
    args[0] = copy;
  }
  g_spawn_sync (h->dir, args, env, G_SPAWN_SEARCH_PATH,
                unprivileged ? become_nobody : die_with_parent, NULL, out, err, &status, &error);
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *child = g_build_filename (path, name, NULL);
    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      rm_rf (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

void
bus_harness_stop (BusHarness *h)
{
  if (!h)
    return;
  stop_daemon (h);
  if (h->mount)
    sim_mount_stop (h->mount);
  sd_bus_flush_close_unref (h->bus);
  stop (&h->polkit_pid);
  stop (&h->bus_pid);
  if (g_getenv ("GPUVIRT_KEEP_LOGS") == NULL) {
    rm_rf (h->dir);
  }
  g_free (h->address);
  g_free (h->root);
  g_free (h->state_dir);
  g_free (h->config);
  g_free (h->libvirt_dir);
  g_free (h->daemon_log);
  g_free (h->dir);
  g_free (h);
}

GDBusConnection *
bus_harness_connect (const char *address)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *c = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);
  g_assert_no_error (error);
  return c;
}

GVariant *
bus_harness_call (GDBusConnection *c, const char *path, const char *iface, const char *method, GVariant *params,
                  const GVariantType *reply_type, char **name, char **message)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (c, "org.gpuvirt", path, iface, method, params, reply_type,
                                                 G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);
  if (name) {
    g_free (*name);
    *name = error ? g_dbus_error_get_remote_error (error) : NULL;
  }
  if (message) {
    g_free (*message);
    *message = error ? g_strdup (error->message) : NULL;
  }
  return reply;
}

char *
bus_harness_read_sim (BusHarness *h, const char *rel)
{
  g_autofree char *path = sim_mount_path (h->mount, rel);
  char *s = sim_read_file (path);
  return s ? g_strchomp (s) : g_strdup ("");
}

int
bus_harness_write_sim (BusHarness *h, const char *rel, const char *data)
{
  g_autofree char *path = sim_mount_path (h->mount, rel);
  return sim_write_file (path, data);
}
