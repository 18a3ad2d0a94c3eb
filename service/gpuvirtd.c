/* gpuvirtd: the gpuvirt system service. Owns org.gpuvirt on the system bus
 * (DBUS_SYSTEM_BUS_ADDRESS is honoured) and serves the host below --root. */
#include "bus/bus.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

static int
on_name_acquired (sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);

  if (e) {
    g_critical ("Could not own %s: %s", GPUVIRT_BUS_NAME, e->message);
    sd_event_exit (daemon->event, 1);
    return 0;
  }
  g_message ("gpuvirtd %s serving %s on the system bus", GPUVIRT_VERSION, daemon->root);
  /* the unit counts as started (and libvirt may start) once the boot
   * plan has run: daemon/config.c says READY=1 then */
  if (daemon->plan)
    sd_notify (0, "STATUS=Serving; running the boot plan");
  else
    daemon_notify_ready (daemon);
  return 0;
}

/* SIGHUP: read the configuration again (nothing is applied). */
static int
on_stop (sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
  Daemon **daemon = userdata;

  if (!*daemon)
    return sd_event_exit (sd_event_source_get_event (source), 0);
  daemon_stop (*daemon);
  return 0;
}

static int
on_sighup (sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
  Daemon *daemon = *(Daemon **) userdata;
  g_autoptr (GError) error = NULL;

  if (!daemon)
    return 0;
  if (daemon_config_reload (daemon, &error))
    g_message ("Configuration reloaded on SIGHUP");
  else
    g_warning ("Configuration not taken on SIGHUP, the previous one stays: %s", error->message);
  return 0;
}

static int
run (const char *root, const char *state_dir, const char *config, const char *libvirt_dir, gboolean read_only)
{
  g_autoptr (Daemon) daemon = NULL;
  g_autoptr (GError) error = NULL;
  sd_event *event = NULL;
  sd_bus *bus = NULL;
  sigset_t mask;
  int r, code = 1;

  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGHUP);
  sigprocmask (SIG_BLOCK, &mask, NULL);

  r = sd_event_default (&event);
  if (r < 0) {
    g_critical ("Could not create the event loop: %s", g_strerror (-r));
    goto out;
  }
  /* a clean exit, once the operations under way have ended */
  sd_event_add_signal (event, NULL, SIGTERM, on_stop, &daemon);
  sd_event_add_signal (event, NULL, SIGINT, on_stop, &daemon);
  sd_event_add_signal (event, NULL, SIGHUP, on_sighup, &daemon);
  sd_event_set_watchdog (event, TRUE);

  r = sd_bus_open_system (&bus);
  if (r < 0) {
    g_critical ("Could not connect to the system bus: %s", g_strerror (-r));
    goto out;
  }
  daemon = daemon_new (event, bus, root, state_dir, read_only, &bus_handlers, &error);
  if (!daemon) {
    g_critical ("Could not read the host below %s: %s", root, error->message);
    goto out;
  }
  /* NVML, before the objects are made: a MIG GPU's object carries
   * org.gpuvirt.Mig from the start */
  daemon_mig_start (daemon);
  /* a bad file must not stop the service: it is reported (ConfigErrors),
   * and only GPUs and their companions are managed */
  r = bus_register (daemon);
  if (r < 0) {
    g_critical ("Could not register the bus objects: %s", g_strerror (-r));
    goto out;
  }
  daemon->config_file = g_strdup (config);
  daemon->libvirt_dir = libvirt_dir ? g_strdup (libvirt_dir) : g_build_filename (root, "etc", "libvirt", "qemu", NULL);
  daemon->config_dropins = gv_config_default_dropin_dir (config);
  if (!daemon_config_reload (daemon, &error))
    g_warning ("Ignoring the configuration: %s", error->message);
  g_clear_error (&error);
  /* finish what a killed predecessor left half done, before serving */
  daemon_recover (daemon);
  /* then bring the host to its configured state, while serving */
  if (!read_only && gv_config_has_desired_state (daemon->config) && !daemon_plan_start (daemon, 0, &error)) {
    g_warning ("Could not start the boot plan: %s", error->message);
    g_clear_error (&error);
  }
  r = sd_bus_attach_event (bus, event, SD_EVENT_PRIORITY_NORMAL);
  if (r >= 0)
    r = sd_bus_request_name_async (bus, NULL, GPUVIRT_BUS_NAME, 0, on_name_acquired, daemon);
  if (r < 0) {
    g_critical ("Could not request %s: %s", GPUVIRT_BUS_NAME, g_strerror (-r));
    goto out;
  }
  /* Only the real kernel sends uevents; a simulated root is refreshed on request. */
  if (g_str_equal (root, "/")) {
    r = daemon_uevents_start (daemon);
    if (r < 0)
      g_warning ("Could not listen to kernel uevents, changes made behind gpuvirtd's back need Refresh(): %s",
                 g_strerror (-r));
  }

  r = sd_event_loop (event);
  code = r < 0 ? 1 : r;
  sd_notify (0, "STOPPING=1");
  sd_bus_flush (bus);
out:
  g_clear_pointer (&daemon, daemon_free);
  sd_bus_flush_close_unref (bus);
  sd_event_unref (event);
  return code;
}

int
main (int argc, char **argv)
{
  g_autofree char *root = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *config = NULL;
  g_autofree char *libvirt_dir = NULL;
  gboolean version = FALSE, read_only = FALSE;
  GOptionEntry entries[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root, "Serve the host below DIR (a simulated host); default /", "DIR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Keep records of original drivers and transactions in DIR; default $STATE_DIRECTORY or /var/lib/gpuvirt", "DIR" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config,
      "Read the configuration from FILE; default $CONFIGURATION_DIRECTORY/gpuvirt.conf or /etc/gpuvirt/gpuvirt.conf",
      "FILE" },
    { "libvirt-dir", 0, 0, G_OPTION_ARG_FILENAME, &libvirt_dir,
      "Read libvirt's domain definitions for the doctor from DIR; default ROOT/etc/libvirt/qemu", "DIR" },
    { "read-only", 0, 0, G_OPTION_ARG_NONE, &read_only, "Refuse every change (serve the host for reading only)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  umask (0022);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "The gpuvirt system service: moves GPUs between the host and virtual machines.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "gpuvirtd: %s\n", error->message);
    return 2;
  }
  if (version) {
    printf ("gpuvirtd %s (API %u)\n", GPUVIRT_VERSION, GPUVIRT_API_VERSION);
    return 0;
  }
  if (argc > 1) {
    fprintf (stderr, "gpuvirtd: unexpected argument '%s' (see --help)\n", argv[1]);
    return 2;
  }
  if (!root)
    root = g_strdup ("/");
  if (!state_dir)
    state_dir = g_strdup (g_getenv ("STATE_DIRECTORY") ? g_getenv ("STATE_DIRECTORY") : "/var/lib/gpuvirt");
  /* systemd may list several state directories; the first is ours */
  if (strchr (state_dir, ':'))
    *strchr (state_dir, ':') = '\0';
  if (!config)
    config = g_build_filename (g_getenv ("CONFIGURATION_DIRECTORY") ? g_getenv ("CONFIGURATION_DIRECTORY")
                                                                   : "/etc/gpuvirt", "gpuvirt.conf", NULL);
  return run (root, state_dir, config, libvirt_dir, read_only);
}
