/* bind, return (also give-back and reclaim) and unbind: one call of
 * gpuvirtd's passthrough methods. The call is asynchronous: while gpuvirtd
 * works (an unbind can take minutes), the state changes it announces for
 * the functions involved are printed as they come, and a polkit text
 * agent can ask for a password on the terminal. One DEVICE goes to its
 * Device object; several, --all and --keep-going to the Manager's bulk
 * form, which handles independent IOMMU groups in parallel. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "polkit-agent.h"
#include "text.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>


/* The method call's own timeout: the call lasts as long as its slowest
 * group, a few sysfs writes per function each bounded by timeout-ms (and
 * the rollback's as many again), plus however long a password takes. */
#define CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)
#define CALL_TIMEOUT_PER_WRITE_TIMEOUT 100

/* Progress lines align their messages after the longest state name,
 * "releasing" and "returning". */
#define STATE_WIDTH 9

typedef enum
{
  PT_BIND,
  PT_RETURN,
  PT_UNBIND,
} PtVerb;

static const char *const methods[] = { "BindVfio", "GiveBack", "Unbind" };

typedef struct
{
  sd_event *event;
  GHashTable *involved;    /* device paths whose changes are shown; NULL: all */
  gboolean show_progress;
  sd_bus_message *reply;
  sd_bus_error error;
  int error_errno;
  gboolean interrupted;
} Call;

/* ---- the functions a call involves ---- */

static void
add_paths (GHashTable *set, GQueue *todo, GVariant *props, const char *name)
{
  g_autoptr (GVariant) v = props ? g_variant_lookup_value (props, name, NULL) : NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH))
    g_ptr_array_add (found, g_variant_dup_string (v, NULL));
  else if (v && g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH_ARRAY))
    for (gsize i = 0; i < g_variant_n_children (v); i++)
      {
        g_autoptr (GVariant) child = g_variant_get_child_value (v, i);
        g_ptr_array_add (found, g_variant_dup_string (child, NULL));
      }
  for (guint i = 0; i < found->len; i++)
    {
      const char *path = found->pdata[i];

      if (g_str_equal (path, "/") || g_hash_table_contains (set, path))
        continue;
      g_hash_table_add (set, g_strdup (path));
      g_queue_push_tail (todo, g_strdup (path));
    }
}

/* The named functions, the GPU a companion belongs to, every GPU's
 * companions and the members of all their IOMMU groups: what the daemon
 * may move. (Unbind moves less; the others' states then do not change.) */
static GHashTable *
involved_functions (BusModel *model, GPtrArray *paths)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GQueue todo = G_QUEUE_INIT;
  char *path;

  for (guint i = 0; i < paths->len; i++)
    if (g_hash_table_add (set, g_strdup (paths->pdata[i])))
      g_queue_push_tail (&todo, g_strdup (paths->pdata[i]));
  while ((path = g_queue_pop_head (&todo)))
    {
      g_autoptr (GVariant) props = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);

      if (g_str_equal (props_str (props, "Kind"), GPUVIRT_KIND_COMPANION))
        add_paths (set, &todo, props, "Gpu");
      add_paths (set, &todo, props, "Companions");
      add_paths (set, &todo, props, "IommuGroupMembers");
      g_free (path);
    }
  return set;
}

/* "0000:01:00.0 NVIDIA Corporation GA102 (nvidia)" */
static char *
describe (BusModel *model, const char *path)
{
  g_autoptr (GVariant) props = model ? bus_model_props (model, path, GPUVIRT_DEVICE_IFACE) : NULL;
  g_autofree char *address = ctl_object_name (path);
  g_autofree char *description = props ? ctl_device_description (props) : NULL;
  const char *driver = props_str (props, "Driver");
  GString *out = g_string_new (address);

  if (description && *description)
    g_string_append_printf (out, " %s", description);
  g_string_append_printf (out, " (%s)", *driver ? driver : _("no driver"));
  return g_string_free (out, FALSE);
}

/* ---- the question unbind asks ---- */

static int
confirm_unbind (BusModel *model, GPtrArray *paths)
{
  g_autofree char *line = NULL;
  size_t size = 0;

  fprintf (stderr, "%s\n", ngettext ("This function will have no driver:",
                                      "These functions will have no driver:", paths->len));
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *text = describe (model, paths->pdata[i]);
      fprintf (stderr, "  %s\n", text);
    }
  fprintf (stderr, "%s", ngettext ("Nothing on the host can use it until it is bound again. Unbind? [y/N] ",
                                    "Nothing on the host can use them until they are bound again. Unbind? [y/N] ",
                                    paths->len));
  fflush (stderr);
  if (getline (&line, &size, stdin) < 0 || !ctl_answer_is_yes (g_strstrip (line)))
    {
      fprintf (stderr, "%s\n", _("Nothing was changed."));
      return GV_EXIT_FAILURE;
    }
  return 0;
}

/* ---- the call ---- */

static int
on_state_changed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Call *call = userdata;
  const char *path = sd_bus_message_get_path (m);
  g_autoptr (GVariant) changed = NULL;
  g_autofree char *address = NULL;
  const char *iface, *state = NULL, *message = "";

  if (!path || (call->involved && !g_hash_table_contains (call->involved, path)))
    return 0;
  if (sd_bus_message_read (m, "s", &iface) < 0 || !g_str_equal (iface, GPUVIRT_DEVICE_IFACE)
      || bus_message_read_gvariant (m, &changed) < 0 || !g_variant_is_of_type (changed, G_VARIANT_TYPE_VARDICT)
      || !g_variant_lookup (changed, "State", "&s", &state))
    return 0;
  (void) g_variant_lookup (changed, "StateMessage", "&s", &message);
  /* gpuvirtd announces State once per transition */
  if (!call->show_progress)
    return 0;
  address = ctl_object_name (path);
  if (*message)
    fprintf (stderr, "%s: %-*s %s\n", address, STATE_WIDTH, state, message);
  else
    fprintf (stderr, "%s: %s\n", address, state);
  fflush (stderr);
  return 0;
}

static int
on_reply (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Call *call = userdata;
  const sd_bus_error *error = sd_bus_message_get_error (m);

  if (error)
    {
      (void) sd_bus_error_copy (&call->error, error);
      call->error_errno = sd_bus_message_get_errno (m);
    }
  else
    call->reply = sd_bus_message_ref (m);
  return sd_event_exit (call->event, 0);
}

static int
on_interrupt (sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
  Call *call = userdata;

  call->interrupted = TRUE;
  return sd_event_exit (call->event, 0);
}

static int
append_options (sd_bus_message *m, PtVerb verb, gboolean bulk)
{
  int r = sd_bus_message_open_container (m, 'a', "{sv}");

  if (r >= 0 && ctl_args.force)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_FORCE, "b", 1);
  if (r >= 0 && ctl_args.allow_foreign)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_ALLOW_FOREIGN, "b", 1);
  if (r >= 0 && verb == PT_BIND && ctl_args.all)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_ALL_NVIDIA, "b", 1);
  if (r >= 0 && bulk && ctl_args.keep_going)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_KEEP_GOING, "b", 1);
  if (r >= 0 && ctl_args.timeout_ms > 0)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_TIMEOUT_MS, "u", ctl_args.timeout_ms);
  if (r >= 0 && ctl_args.driver)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_DRIVER, "s", ctl_args.driver);
  if (r >= 0)
    r = ctl_append_persist (m);
  return r < 0 ? r : sd_bus_message_close_container (m);
}

static int
new_call (sd_bus *bus, PtVerb verb, GPtrArray *paths, sd_bus_message **ret)
{
  g_autoptr (sd_bus_message) m = NULL;
  gboolean bulk = paths->len != 1 || ctl_args.all || ctl_args.keep_going;
  int r;

  if (bulk)
    {
      r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH,
                                          GPUVIRT_MANAGER_IFACE, methods[verb]);
      if (r >= 0)
        r = sd_bus_message_open_container (m, 'a', "s");
      for (guint i = 0; r >= 0 && i < paths->len; i++)
        {
          /* by address, the form every log and error message uses */
          g_autofree char *address = ctl_object_name (paths->pdata[i]);
          r = sd_bus_message_append (m, "s", address);
        }
      if (r >= 0)
        r = sd_bus_message_close_container (m);
    }
  else
    r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, paths->pdata[0],
                                        GPUVIRT_DEVICE_IFACE, methods[verb]);
  if (r >= 0)
    r = append_options (m, verb, bulk);
  if (r >= 0)
    r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password);
  if (r < 0)
    return r;
  *ret = g_steal_pointer (&m);
  return 0;
}

/* Sends the call and runs the loop until the reply; the polkit agent
 * lives as long as the call. */
static int
run_call (sd_bus *bus, sd_bus_message *m, Call *call)
{
  g_autoptr (sd_event) event = NULL;
  g_autoptr (sd_bus_slot) match_slot = NULL;
  g_autoptr (sd_bus_slot) call_slot = NULL;
  guint64 timeout = CALL_TIMEOUT_USEC;
  sigset_t mask;
  pid_t agent;
  int r;

  r = sd_event_new (&event);
  if (r >= 0)
    r = sd_bus_attach_event (bus, event, SD_EVENT_PRIORITY_NORMAL);
  /* subscribed before the call, so that no transition is missed */
  if (r >= 0)
    r = sd_bus_add_match (bus, &match_slot,
                          "type='signal',sender='" GPUVIRT_BUS_NAME "',"
                          "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                          "path_namespace='" GPUVIRT_DEVICES_PATH "',arg0='" GPUVIRT_DEVICE_IFACE "'",
                          on_state_changed, call);
  if (r < 0)
    return r;
  call->event = event;

  /* before the signals are blocked: the agent inherits the mask */
  agent = ctl_polkit_agent_open ();

  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  r = sd_event_add_signal (event, NULL, SIGINT, on_interrupt, call);
  if (r >= 0)
    r = sd_event_add_signal (event, NULL, SIGTERM, on_interrupt, call);

  if (ctl_args.timeout_ms > 0)
    timeout = MAX (timeout, (guint64) ctl_args.timeout_ms * 1000 * CALL_TIMEOUT_PER_WRITE_TIMEOUT);
  if (r >= 0)
    r = sd_bus_call_async (bus, &call_slot, m, on_reply, call, timeout);
  if (r >= 0)
    r = sd_event_loop (event);

  ctl_polkit_agent_close (agent);
  /* after Ctrl+C the reply may still come: nobody waits for it now */
  call_slot = sd_bus_slot_unref (call_slot);
  match_slot = sd_bus_slot_unref (match_slot);
  sd_bus_detach_event (bus);
  call->event = NULL;
  return r;
}

/* ---- the answer ---- */

/* With keep-going, the message of a function whose group failed starts
 * with the D-Bus error name and ": ". */
static char *
row_error_name (const char *message)
{
  const char *colon = strstr (message, ": ");
  g_autofree char *name = colon ? g_strndup (message, colon - message) : NULL;

  if (!name || strchr (name, ' ') || !strstr (name, ".Error."))
    return NULL;
  return g_steal_pointer (&name);
}

static void
print_rows (GVariant *rows)
{
  GVariantIter iter;
  const char *address, *state, *message;
  int address_width = 0, state_width = 0;

  if (ctl_args.json != CTL_JSON_OFF)
    {
      JsonObject *root = json_object_new ();
      JsonArray *results = json_array_new ();
      g_autoptr (JsonNode) node = NULL;

      g_variant_iter_init (&iter, rows);
      while (g_variant_iter_next (&iter, "(&s&s&s)", &address, &state, &message))
        {
          JsonObject *row = json_object_new ();

          json_object_set_string_member (row, "Address", address);
          json_object_set_string_member (row, "State", state);
          json_object_set_string_member (row, "Message", message);
          json_array_add_object_element (results, row);
        }
      json_object_set_array_member (root, "Results", results);
      node = ctl_json_take_object (root);
      ctl_json_print (node, ctl_args.json);
      return;
    }

  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &address, &state, &message))
    {
      address_width = MAX (address_width, ctl_text_width (address));
      state_width = MAX (state_width, ctl_text_width (state));
    }
  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &address, &state, &message))
    if (*message)
      printf ("%-*s %-*s %s\n", address_width, address, state_width, state, message);
    else
      printf ("%-*s %s\n", address_width, address, state);
}

/* The exit code of a reply: 0, or that of the first group that failed
 * (keep-going), with the hint of each error. */
static int
rows_exit_code (GVariant *rows)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *address, *state, *message;
  int code = GV_EXIT_OK;

  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &address, &state, &message))
    {
      g_autofree char *name = row_error_name (message);

      if (name && !g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL))
        g_ptr_array_add (names, g_steal_pointer (&name));
    }
  if (names->len == 0)
    return GV_EXIT_OK;
  fprintf (stderr, "%s\n", _("Some functions could not be changed; the others were."));
  for (guint i = 0; i < names->len; i++)
    {
      sd_bus_error error = SD_BUS_ERROR_MAKE_CONST (names->pdata[i], NULL);

      if (code == GV_EXIT_OK)
        code = ctl_error_exit_code (&error, -EIO);
      ctl_print_hint (names->pdata[i]);
    }
  return code;
}

static char *
what_failed (PtVerb verb, GPtrArray *paths)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *list = NULL;

  for (guint i = 0; i < paths->len; i++)
    g_ptr_array_add (names, ctl_object_name (paths->pdata[i]));
  g_ptr_array_add (names, NULL);
  list = g_strjoinv (", ", (char **) names->pdata);
  switch (verb)
    {
    case PT_BIND:
      return ctl_args.all ? g_strdup (_("Could not bind the NVIDIA GPUs to vfio-pci"))
                          /* TRANSLATORS: %s is one or more PCI addresses */
                          : g_strdup_printf (_("Could not bind %s to vfio-pci"), list);
    case PT_RETURN:
      return g_strdup_printf (_("Could not give %s back to the host"), list);
    case PT_UNBIND:
    default:
      return g_strdup_printf (_("Could not unbind %s"), list);
    }
}

static int
run_passthrough (sd_bus *bus, PtVerb verb, int argc, char **argv)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (BusModel) model = NULL;
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (GVariant) rows = NULL;
  g_autoptr (GHashTable) involved = NULL;
  Call call = { .error = SD_BUS_ERROR_NULL };
  int r, code;

  if (verb == PT_BIND && ctl_args.all && argc > 1)
    return ctl_usage_error (_("'bind --all' takes no DEVICE: it binds every NVIDIA GPU."));
  if (argc < 2 && !(verb == PT_BIND && ctl_args.all))
    return ctl_usage_error (_("'bind' needs DEVICE... or --all."));
  if (verb == PT_UNBIND && !ctl_args.yes && !isatty (STDIN_FILENO))
    return ctl_usage_error (_("Not unbinding without --yes: stdin is not a terminal to ask for confirmation on."));

  for (int i = 1; i < argc; i++)
    {
      char *path = NULL;

      r = ctl_resolve_device (bus, argv[i], &path);
      if (r != 0)
        return r;
      if (g_ptr_array_find_with_equal_func (paths, path, g_str_equal, NULL))
        g_free (path);
      else
        g_ptr_array_add (paths, path);
    }

  /* what is there now: for the question, and the functions whose
   * progress is shown */
  if (bus_model_load (bus, &model, NULL) < 0)
    g_clear_pointer (&model, bus_model_free);
  if (model && !(verb == PT_BIND && ctl_args.all))
    involved = involved_functions (model, paths);

  if (verb == PT_UNBIND && !ctl_args.yes)
    {
      r = confirm_unbind (model, paths);
      if (r != 0)
        return r;
    }

  r = new_call (bus, verb, paths, &m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call to gpuvirtd"));

  call.involved = involved;
  call.show_progress = ctl_args.verbose || isatty (STDERR_FILENO);
  r = run_call (bus, m, &call);
  if (r < 0)
    {
      sd_bus_error_free (&call.error);
      sd_bus_message_unref (call.reply);
      return ctl_fail (NULL, r, _("Could not call gpuvirtd"));
    }
  if (call.interrupted)
    {
      fprintf (stderr, "%s\n", _("Interrupted. gpuvirtd finishes what it has started; "
                                 "'gpuvirtctl monitor' or 'gpuvirtctl list' show the outcome."));
      sd_bus_error_free (&call.error);
      sd_bus_message_unref (call.reply);
      return GV_EXIT_FAILURE;
    }
  if (sd_bus_error_is_set (&call.error))
    {
      g_autofree char *what = what_failed (verb, paths);

      code = ctl_fail (&call.error, call.error_errno, what);
      sd_bus_error_free (&call.error);
      return code;
    }

  r = bus_message_read_gvariant (call.reply, &rows);
  sd_bus_message_unref (call.reply);
  if (r < 0 || !g_variant_is_of_type (rows, G_VARIANT_TYPE ("a(sss)")))
    return ctl_fail (NULL, r < 0 ? r : -EBADMSG, _("Could not read gpuvirtd's answer"));
  print_rows (rows);
  fflush (stdout);
  return rows_exit_code (rows);
}

int
verb_bind (sd_bus *bus, int argc, char **argv)
{
  return run_passthrough (bus, PT_BIND, argc, argv);
}

int
verb_return (sd_bus *bus, int argc, char **argv)
{
  return run_passthrough (bus, PT_RETURN, argc, argv);
}

int
verb_unbind (sd_bus *bus, int argc, char **argv)
{
  return run_passthrough (bus, PT_UNBIND, argc, argv);
}
