/* Asynchronous polkit checks (see polkit.h). Written from polkit's
 * documented D-Bus interface (org.freedesktop.PolicyKit1.Authority,
 * CheckAuthorization) and sd-bus's public API. */
#include "daemon/polkit.h"

#include <errno.h>
#include <string.h>
#include <systemd/sd-event.h>

#define POLKIT_CHECK_ALLOW_INTERACTION 1u
/* a password dialog may stay open for a while */
#define INTERACTIVE_TIMEOUT_USEC (300ull * 1000 * 1000)

struct DaemonPolkit {
  sd_bus *bus;
  GHashTable *queries;   /* sd_bus_message* (the caller's) -> Query* */
};

typedef struct {
  DaemonPolkit *polkit;
  sd_bus_message *request;   /* the caller's method call, referenced */
  char **actions;            /* asked one after the other, each once the one before allowed it */
  guint current;             /* the action asked now (or answered last) */
  char **details;
  sd_bus_slot *slot;         /* the CheckAuthorization call in flight */
  gboolean done;
  gboolean authorized;
  gboolean challenge;
  char *error_name;          /* polkit's own failure, if any */
  char *error_message;
  sd_event_source *cleanup;  /* frees an answer nobody came back for */
} Query;

static void
query_free (Query *q)
{
  sd_bus_slot_unref (q->slot);
  sd_event_source_disable_unref (q->cleanup);
  sd_bus_message_unref (q->request);
  g_strfreev (q->actions);
  g_strfreev (q->details);
  g_free (q->error_name);
  g_free (q->error_message);
  g_free (q);
}

DaemonPolkit *
daemon_polkit_new (sd_bus *bus)
{
  DaemonPolkit *polkit = g_new0 (DaemonPolkit, 1);

  polkit->bus = sd_bus_ref (bus);
  polkit->queries = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) query_free);
  return polkit;
}

void
daemon_polkit_free (DaemonPolkit *polkit)
{
  if (!polkit)
    return;
  g_hash_table_unref (polkit->queries);
  sd_bus_unref (polkit->bus);
  g_free (polkit);
}

guint
daemon_polkit_pending (DaemonPolkit *polkit)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, polkit->queries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += !((Query *) value)->done;
  return n;
}

static gboolean
same_request (Query *q, const char *const *actions, const char *const *details)
{
  guint n = details ? g_strv_length ((char **) details) : 0;

  if (!g_strv_equal ((const char *const *) q->actions, actions) || g_strv_length (q->details) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!g_str_equal (q->details[i], details[i]))
      return FALSE;
  return TRUE;
}

static int
on_cleanup (sd_event_source *source, void *userdata)
{
  Query *q = userdata;
  g_hash_table_remove (q->polkit->queries, q->request);
  return 0;
}

static int send_query (Query *q);

/* polkit answered: keep the answer (or ask for the next action), then run
 * the caller's message again. */
static int
on_check_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Query *q = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  sd_event *event = sd_bus_get_event (q->polkit->bus);
  int r, authorized = 0, challenge = 0;

  q->slot = sd_bus_slot_unref (q->slot);
  q->done = TRUE;
  if (e) {
    q->error_name = g_strdup (e->name);
    q->error_message = g_strdup (e->message);
  } else {
    r = sd_bus_message_enter_container (reply, 'r', "bba{ss}");
    if (r >= 0)
      r = sd_bus_message_read (reply, "bb", &authorized, &challenge);
    if (r < 0) {
      q->error_name = g_strdup (SD_BUS_ERROR_INVALID_ARGS);
      q->error_message = g_strdup ("polkit sent an answer that could not be read");
    }
    q->authorized = authorized;
    q->challenge = challenge;
  }

  /* allowed, and the call needs another action too: ask for that one
   * before the handler runs again */
  if (!q->error_name && q->authorized && q->actions[q->current + 1]) {
    q->current++;
    q->done = FALSE;
    q->authorized = q->challenge = FALSE;
    r = send_query (q);
    if (r >= 0)
      return 0;
    q->done = TRUE;
    q->error_name = g_strdup (SD_BUS_ERROR_FAILED);
    q->error_message = g_strdup_printf ("could not ask polkit: %s", g_strerror (-r));
  }

  r = sd_bus_message_rewind (q->request, 1);
  if (r >= 0)
    r = sd_bus_enqueue_for_read (q->polkit->bus, q->request);
  if (r < 0) {
    g_warning ("Could not re-run a method call after polkit answered: %s", g_strerror (-r));
    g_hash_table_remove (q->polkit->queries, q->request);
    return 0;
  }
  /* The re-run normally consumes the answer first; if the handler bails
   * out before asking again, free it once the loop is idle. */
  if (event && sd_event_add_defer (event, &q->cleanup, on_cleanup, q) >= 0)
    sd_event_source_set_priority (q->cleanup, SD_EVENT_PRIORITY_IDLE);
  return 0;
}

/* Sends CheckAuthorization for Q's current action. */
static int
send_query (Query *q)
{
  sd_bus_message *call = NULL;
  const char *sender = sd_bus_message_get_sender (q->request);
  gboolean interactive = sd_bus_message_get_allow_interactive_authorization (q->request) > 0;
  int r;

  r = sd_bus_message_new_method_call (q->polkit->bus, &call, "org.freedesktop.PolicyKit1",
                                      "/org/freedesktop/PolicyKit1/Authority",
                                      "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
  if (r >= 0)
    r = sd_bus_message_append (call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender,
                               q->actions[q->current]);
  if (r >= 0)
    r = sd_bus_message_open_container (call, 'a', "{ss}");
  for (guint i = 0; r >= 0 && q->details[i] && q->details[i + 1]; i += 2)
    r = sd_bus_message_append (call, "{ss}", q->details[i], q->details[i + 1]);
  if (r >= 0)
    r = sd_bus_message_close_container (call);
  if (r >= 0)
    r = sd_bus_message_append (call, "us", interactive ? POLKIT_CHECK_ALLOW_INTERACTION : 0u, "");
  if (r >= 0)
    r = sd_bus_call_async (q->polkit->bus, &q->slot, call, on_check_reply, q,
                           interactive ? INTERACTIVE_TIMEOUT_USEC : 0);
  sd_bus_message_unref (call);
  return r;
}

static int
start_query (DaemonPolkit *polkit, sd_bus_message *m, const char *const *actions, const char *const *details,
             sd_bus_error *error)
{
  Query *q;
  int r;

  if (!sd_bus_message_get_sender (m))
    return sd_bus_error_set (error, SD_BUS_ERROR_ACCESS_DENIED, "Caller has no bus name; cannot ask polkit");

  q = g_new0 (Query, 1);
  q->polkit = polkit;
  q->request = sd_bus_message_ref (m);
  q->actions = g_strdupv ((char **) actions);
  q->details = g_strdupv ((char **) (details ? details : (const char *const[]) { NULL }));
  r = send_query (q);
  if (r < 0) {
    query_free (q);
    return sd_bus_error_set_errnof (error, -r, "Could not ask polkit: %m");
  }
  g_hash_table_insert (polkit->queries, m, q);
  return 0;
}

static gboolean
polkit_absent (const char *name)
{
  return g_strcmp0 (name, SD_BUS_ERROR_SERVICE_UNKNOWN) == 0 || g_strcmp0 (name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) == 0;
}

static gboolean
sender_is_root (sd_bus_message *m)
{
  sd_bus_creds *creds = NULL;
  uid_t euid;
  gboolean root = FALSE;

  if (sd_bus_query_sender_creds (m, SD_BUS_CREDS_EUID, &creds) >= 0 && sd_bus_creds_get_euid (creds, &euid) >= 0)
    root = euid == 0;
  sd_bus_creds_unref (creds);
  return root;
}

int
daemon_polkit_check_all (DaemonPolkit *polkit, sd_bus_message *m, const char *const *actions,
                          const char *const *details, sd_bus_error *error)
{
  Query *q = g_hash_table_lookup (polkit->queries, m);
  const char *action;
  int r;

  g_return_val_if_fail (actions && actions[0], -EINVAL);
  /* root is not asked (polkit would say yes anyway), as systemd's services do */
  if (!q && sender_is_root (m))
    return 1;
  if (!q)
    return start_query (polkit, m, actions, details, error);
  if (!q->done)
    return 0;
  /* The handler asks for something else than what polkit answered
   * (the state changed between the passes): do not reuse the answer. */
  if (!same_request (q, actions, details)) {
    g_hash_table_remove (polkit->queries, m);
    return sd_bus_error_set (error, SD_BUS_ERROR_ACCESS_DENIED,
                             "The request changed while polkit was deciding; please try again");
  }

  action = q->actions[q->current];
  if (q->error_name) {
    r = sd_bus_error_setf (error, SD_BUS_ERROR_ACCESS_DENIED, "Could not ask polkit for %s: %s%s", action,
                           q->error_message ? q->error_message : q->error_name,
                           polkit_absent (q->error_name) ? " (is polkitd running?)" : "");
  } else if (q->authorized) {
    r = 1;
  } else if (q->challenge) {
    r = sd_bus_error_setf (error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                           "Authentication is required for %s; retry allowing interactive authorization", action);
  } else {
    r = sd_bus_error_setf (error, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized by polkit: %s", action);
  }
  g_hash_table_remove (polkit->queries, m);
  return r;
}

int
daemon_polkit_check (DaemonPolkit *polkit, sd_bus_message *m, const char *action,
                      const char *const *details, sd_bus_error *error)
{
  const char *actions[] = { action, NULL };

  return daemon_polkit_check_all (polkit, m, actions, details, error);
}
