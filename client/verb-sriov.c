/* sriov DEVICE [N|off]: without N, the physical function's TotalVfs,
 * NumVfs and VFs; with N (or off, which is 0), one SetNumVfs call, then
 * the same view of the result. gpuvirtd decides everything: whether the
 * function has SR-IOV, whether N fits, whether VFs in use may go.
 *
 * The kernel adds VFs one after the other inside the write: while it
 * works, the PF's StateMessage counts them (shown on a terminal or with
 * --verbose). A write that outlives gpuvirtd's bound is answered Pending;
 * gpuvirtctl then waits for Sriov.Pending to turn false and reports how
 * it ended (Ctrl+C stops waiting, not the kernel). */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "polkit-agent.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>

/* The method call's own timeout: writes of sriov_numvfs (and a restore)
 * each bounded by gpuvirtd, plus however long a password takes. */
#define SRIOV_CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)

static gboolean
parse_count (const char *arg, guint32 *count)
{
  guint64 value;

  if (g_str_equal (arg, "off"))
    {
      *count = 0;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (arg, 10, 0, G_MAXUINT16, &value, NULL))
    return FALSE;
  *count = (guint32) value;
  return TRUE;
}

typedef struct
{
  sd_event *event;
  sd_bus *bus;
  const char *path;
  const char *address;
  gboolean show_progress;
  gboolean waiting;       /* answered Pending: until Sriov.Pending is false */
  gboolean settled;       /* ... which it now is */
  gboolean interrupted;
  char *shown;            /* the last StateMessage printed */
  sd_bus_error error;
  int error_errno;
} SriovCall;

static gboolean
still_pending (SriovCall *call)
{
  int pending = 0;

  return sd_bus_get_property_trivial (call->bus, GPUVIRT_BUS_NAME, call->path, GPUVIRT_SRIOV_IFACE, "Pending", NULL,
                                      'b', &pending) >= 0 && pending;
}

static int
on_changed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  SriovCall *call = userdata;
  g_autoptr (GVariant) changed = NULL;
  const char *iface, *message = NULL;
  gboolean pending = TRUE;

  if (sd_bus_message_read (m, "s", &iface) < 0 || bus_message_read_gvariant (m, &changed) < 0 ||
      !g_variant_is_of_type (changed, G_VARIANT_TYPE_VARDICT))
    return 0;
  if (g_str_equal (iface, GPUVIRT_DEVICE_IFACE) && g_variant_lookup (changed, "StateMessage", "&s", &message) &&
      *message && call->show_progress && !call->waiting)
    {
      fprintf (stderr, "%s: %s\n", call->address, message);
      fflush (stderr);
      g_free (call->shown);
      call->shown = g_strdup (message);
    }
  if (g_str_equal (iface, GPUVIRT_SRIOV_IFACE) && g_variant_lookup (changed, "Pending", "b", &pending) && !pending &&
      call->waiting)
    {
      call->settled = TRUE;
      return sd_event_exit (call->event, 0);
    }
  return 0;
}

static int
on_reply (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  SriovCall *call = userdata;
  const sd_bus_error *error = sd_bus_message_get_error (m);

  if (error && sd_bus_error_has_name (error, GPUVIRT_ERROR_PENDING))
    {
      /* not a failure: the outcome is to come (the message may have been
       * shown as progress already) */
      if (g_strcmp0 (call->shown, error->message) != 0)
        fprintf (stderr, "%s: %s\n", call->address, error->message);
      fprintf (stderr, _("Waiting for the kernel to finish (Ctrl+C stops waiting; gpuvirtd keeps watching).\n"));
      fflush (stderr);
      call->waiting = TRUE;
      if (still_pending (call))
        return 0;
      call->settled = TRUE;
    }
  else if (error)
    {
      (void) sd_bus_error_copy (&call->error, error);
      call->error_errno = sd_bus_message_get_errno (m);
    }
  return sd_event_exit (call->event, 0);
}

static int
on_interrupt (sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
  SriovCall *call = userdata;

  call->interrupted = TRUE;
  return sd_event_exit (call->event, 0);
}

static int
new_call (sd_bus *bus, const char *path, guint32 count, sd_bus_message **ret)
{
  g_autoptr (sd_bus_message) m = NULL;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, path, GPUVIRT_SRIOV_IFACE, "SetNumVfs");
  if (r >= 0)
    r = sd_bus_message_append (m, "u", count);
  if (r >= 0)
    r = ctl_open_change_options (m);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password);
  if (r >= 0)
    *ret = g_steal_pointer (&m);
  return r;
}

/* The call, the progress and a pending outcome, in one event loop. */
static int
run_call (sd_bus *bus, sd_bus_message *m, SriovCall *call)
{
  g_autoptr (sd_event) event = NULL;
  g_autoptr (sd_bus_slot) match_slot = NULL;
  g_autoptr (sd_bus_slot) call_slot = NULL;
  g_autofree char *match = g_strdup_printf ("type='signal',sender='" GPUVIRT_BUS_NAME "',"
                                            "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                                            "path='%s'", call->path);
  sigset_t mask;
  pid_t agent;
  int r;

  r = sd_event_new (&event);
  if (r >= 0)
    r = sd_bus_attach_event (bus, event, SD_EVENT_PRIORITY_NORMAL);
  /* the VFs are read after the loop: the bus must stay open when it ends */
  if (r >= 0)
    r = sd_bus_set_close_on_exit (bus, 0);
  if (r >= 0)
    r = sd_bus_add_match (bus, &match_slot, match, on_changed, call);
  if (r < 0)
    return r;
  call->event = event;
  call->bus = bus;
  agent = ctl_polkit_agent_open ();
  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  r = sd_event_add_signal (event, NULL, SIGINT, on_interrupt, call);
  if (r >= 0)
    r = sd_event_add_signal (event, NULL, SIGTERM, on_interrupt, call);
  if (r >= 0)
    r = sd_bus_call_async (bus, &call_slot, m, on_reply, call, SRIOV_CALL_TIMEOUT_USEC);
  if (r >= 0)
    r = sd_event_loop (event);
  ctl_polkit_agent_close (agent);
  call_slot = sd_bus_slot_unref (call_slot);
  match_slot = sd_bus_slot_unref (match_slot);
  sd_bus_detach_event (bus);
  call->event = NULL;
  return r;
}

/* After Pending: how it ended, from the PF's StateMessage and NumVfs. */
static int
report_outcome (sd_bus *bus, SriovCall *call, guint32 count)
{
  g_autoptr (GVariant) device = NULL;
  g_autoptr (GVariant) sriov = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  int r;

  r = bus_get_all (bus, call->path, GPUVIRT_DEVICE_IFACE, &device, &error);
  if (r >= 0)
    r = bus_get_all (bus, call->path, GPUVIRT_SRIOV_IFACE, &sriov, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read how the change ended"));
  fprintf (stderr, "%s: %s\n", call->address, props_str (device, "StateMessage"));
  if (props_uint (sriov, "NumVfs") == count)
    return 0;
  fprintf (stderr, _("%s has %u VFs, not the %u asked for.\n"), call->address, props_uint (sriov, "NumVfs"), count);
  return GV_EXIT_FAILURE;
}

static int
set_num_vfs (sd_bus *bus, const char *path, guint32 count)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autofree char *address = ctl_object_name (path);
  SriovCall call = { .path = path, .address = address, .error = SD_BUS_ERROR_NULL };
  int r;

  r = new_call (bus, path, count, &m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  call.show_progress = ctl_args.verbose || isatty (STDERR_FILENO);
  r = run_call (bus, m, &call);
  g_free (call.shown);
  if (r < 0)
    {
      sd_bus_error_free (&call.error);
      return ctl_fail (NULL, r, _("Could not call gpuvirtd"));
    }
  if (call.interrupted)
    {
      sd_bus_error_free (&call.error);
      fprintf (stderr, "%s\n", _("Interrupted. The kernel finishes what it has started and gpuvirtd reports how it "
                                 "ended; 'gpuvirtctl sriov DEVICE' shows the VFs then."));
      return call.waiting ? GV_EXIT_PENDING : GV_EXIT_FAILURE;
    }
  if (sd_bus_error_is_set (&call.error))
    {
      g_autofree char *what = g_strdup_printf (_("Could not set %u VFs on %s"), count, address);
      r = ctl_fail (&call.error, call.error_errno, what);
      sd_bus_error_free (&call.error);
      return r;
    }
  return call.settled ? report_outcome (bus, &call, count) : 0;
}

static void
print_text (const char *address, GVariant *props)
{
  g_autoptr (GVariant) vfs = g_variant_lookup_value (props, "VirtualFunctions", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);

  printf (_("%s: %u of %u VFs enabled\n"), address, props_uint (props, "NumVfs"), props_uint (props, "TotalVfs"));
  for (gsize i = 0; vfs && i < g_variant_n_children (vfs); i++)
    {
      const char *vf;
      g_autofree char *name = NULL;
      g_variant_get_child (vfs, i, "&o", &vf);
      name = ctl_object_name (vf);
      printf ("  %s\n", name);
    }
}

static void
print_json (const char *address, GVariant *props)
{
  JsonObject *object = ctl_json_props (props);

  json_object_set_string_member (object, "Address", address);
  ctl_json_print (ctl_json_take_object (object), ctl_args.json);
}

int
verb_sriov (sd_bus *bus, int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GVariant) props = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  guint32 count = 0;
  int r;

  if (argc > 2 && !parse_count (argv[2], &count))
    {
      g_autofree char *message = g_strdup_printf (_("'%s' is not a number of VFs (0 to 65535) or 'off'"), argv[2]);
      return ctl_usage_error (message);
    }
  if (argc <= 2 && ctl_args.persist)
    return ctl_usage_error (_("--persist records a change: give N (or 'off') to 'sriov'."));
  r = ctl_resolve_device (bus, argv[1], &path);
  if (r != 0)
    return r;
  address = ctl_object_name (path);
  if (argc > 2)
    {
      r = set_num_vfs (bus, path, count);
      if (r != 0)
        return r;
    }
  r = bus_get_all (bus, path, GPUVIRT_SRIOV_IFACE, &props, &error);
  if (r < 0 && (sd_bus_error_has_name (&error, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
                sd_bus_error_has_name (&error, SD_BUS_ERROR_UNKNOWN_OBJECT)))
    {
      fprintf (stderr, _("%s does not support SR-IOV (no org.gpuvirt.Sriov on its object).\n"), address);
      ctl_print_hint (GPUVIRT_ERROR_NOT_SUPPORTED);
      return GV_EXIT_REFUSED;
    }
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the SR-IOV state"));
  if (ctl_args.json != CTL_JSON_OFF)
    print_json (address, props);
  else
    print_text (address, props);
  return GV_EXIT_OK;
}
