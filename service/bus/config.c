/* The configuration on org.gpuvirt.Manager: ConfigFiles, ConfigErrors,
 * BootPlan, BootPlanState, and GetConfig, CheckConfig, SaveConfig,
 * ReloadConfig, ApplyConfig. A vtable of its own next to manager.c's
 * (sd-bus merges vtables of one interface). ApplyConfig and SaveConfig
 * with apply are answered when the plan they started ends. */
#include "bus/config.h"
#include "bus/announce.h"
#include "bus/bouncer.h"
#include "bus/objects.h"
#include "bus/options.h"
#include "bus/util.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>

/* ApplyConfig and SaveConfig calls answered when the plan ends; the bus
 * layer's, as they are messages. */
static GPtrArray *waiters;

static int
append_rows (GPtrArray *rows, sd_bus_message *reply)
{
  int r = sd_bus_message_open_container (reply, 'a', "(sssss)");

  for (guint i = 0; r >= 0 && rows && i < rows->len; i++) {
    DaemonPlanRow *row = rows->pdata[i];
    r = sd_bus_message_append (reply, "(sssss)", row->phase, row->device, row->action, row->status, row->message);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static int
get_config_files (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                  void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  return sd_bus_message_append_strv (reply, (char **) gv_config_get_files (daemon->config));
}

static int
get_config_errors (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                   void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  int r = sd_bus_message_open_container (reply, 'a', "(suss)");

  for (guint i = 0; r >= 0 && daemon->config_problems && i < daemon->config_problems->len; i++) {
    GvConfigProblem *p = daemon->config_problems->pdata[i];
    r = sd_bus_message_append (reply, "(suss)", p->file ? p->file : daemon->config_file, p->line,
                               p->key ? p->key : "", p->message);
  }
  return r < 0 ? r : sd_bus_message_close_container (reply);
}

static int
get_boot_plan (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
               void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  return append_rows (daemon->plan_rows, reply);
}

static int
get_boot_plan_state (sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
                     void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  return sd_bus_message_append (reply, "s", daemon->plan_state);
}

void
bus_config_plan_finished (Daemon *daemon)
{
  /* BootPlan's last rows go out before the answers */
  bus_announce_flush (daemon);
  for (guint i = 0; waiters && i < waiters->len; i++) {
    sd_bus_message *request = waiters->pdata[i];
    g_autoptr (sd_bus_message) reply = NULL;
    int r = sd_bus_message_new_method_return (request, &reply);
    /* SaveConfig has no result; ApplyConfig has the plan */
    if (r >= 0 && sd_bus_message_is_method_call (request, NULL, "ApplyConfig"))
      r = append_rows (daemon->plan_rows, reply);
    if (r >= 0)
      r = sd_bus_send (NULL, reply, NULL);
    if (r < 0)
      g_warning ("Could not answer %s: %s", sd_bus_message_get_member (request), g_strerror (-r));
  }
  if (waiters)
    g_ptr_array_set_size (waiters, 0);
}

/* Starts the boot plan for M, which is answered when it ends. */
static int
start_plan (Daemon *daemon, sd_bus_message *m, guint timeout_ms, sd_bus_error *error)
{
  g_autoptr (GError) local = NULL;

  if (!daemon_plan_start (daemon, timeout_ms, &local))
    return bus_error_set (error, local);
  if (!waiters)
    waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) sd_bus_message_unref);
  g_ptr_array_add (waiters, sd_bus_message_ref (m));
  return 1;
}

/* TEXT must be at most GV_CONFIG_MAX_SIZE (sd-bus has checked UTF-8). */
static int
check_size (const char *text, sd_bus_error *error)
{
  if (strlen (text) > GV_CONFIG_MAX_SIZE)
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "The configuration text is larger than %u bytes",
                              GV_CONFIG_MAX_SIZE);
  return 0;
}

static int
method_get_config (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (daemon->config_file, &text, NULL, &local)) {
    if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return sd_bus_reply_method_return (m, "s", "");
    return sd_bus_error_setf (error, GPUVIRT_ERROR_KERNEL, "%s", local->message);
  }
  if (!g_utf8_validate (text, -1, NULL))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "%s is not UTF-8 text", daemon->config_file);
  return sd_bus_reply_method_return (m, "s", text);
}

static int
method_check_config (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (sd_bus_message) reply = NULL;
  g_autoptr (GPtrArray) problems = NULL;
  const char *text;
  int r;

  r = sd_bus_message_read (m, "s", &text);
  if (r < 0)
    return r;
  r = check_size (text, error);
  if (r < 0)
    return r;
  problems = gv_config_check_text (text, daemon->config_dropins, daemon->host);
  r = sd_bus_message_new_method_return (m, &reply);
  if (r >= 0)
    r = sd_bus_message_open_container (reply, 'a', "(uss)");
  for (guint i = 0; r >= 0 && i < problems->len; i++) {
    GvConfigProblem *p = problems->pdata[i];
    /* a drop-in's problem names its file, since its lines are not TEXT's */
    g_autofree char *message = p->file ? g_strdup_printf ("%s:%u: %s", p->file, p->line, p->message)
                                       : g_strdup (p->message);
    r = sd_bus_message_append (reply, "(uss)", p->file ? 0 : p->line, p->key ? p->key : "", message);
  }
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r < 0 ? r : 1;
}

static int
method_save_config (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  const char *text;
  gboolean apply = FALSE;
  const BusOption opts[] = {
    { GPUVIRT_OPT_APPLY, 'b', &apply },
  };
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GPtrArray) own = g_ptr_array_new ();
  g_autoptr (GError) local = NULL;
  const char *details[] = { NULL };
  int r;

  /* validate */
  r = sd_bus_message_read (m, "s", &text);
  if (r < 0)
    return r;
  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  r = check_size (text, error);
  if (r < 0)
    return r;
  /* devices the host lacks do not make a file invalid: the plan and
   * doctor report them */
  problems = gv_config_check_text (text, daemon->config_dropins, NULL);
  for (guint i = 0; i < problems->len; i++)
    if (!((GvConfigProblem *) problems->pdata[i])->host)
      g_ptr_array_add (own, problems->pdata[i]);
  if (own->len > 0) {
    g_autofree char *list = gv_config_problems_to_text (own, 5);
    return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "The configuration has %u problem(s); nothing was "
                              "written:\n%s", own->len, list);
  }
  /* check state */
  if (daemon->read_only)
    return sd_bus_error_set (error, GPUVIRT_ERROR_NOT_SUPPORTED, "gpuvirtd runs with --read-only: nothing may change");
  if (apply && daemon->plan)
    return sd_bus_error_set (error, GPUVIRT_ERROR_BUSY, "The boot plan is running; save when it is done");

  /* polkit */
  r = bus_bouncer_check (daemon, m, BUS_NEED_ACTION, details, error);
  if (r <= 0)
    return r < 0 ? r : 1;

  /* act */
  if (!gv_config_save_text (daemon->config_file, text, &local))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_KERNEL, "%s", local->message);
  g_message ("The configuration %s was replaced through SaveConfig", daemon->config_file);
  if (!daemon_config_reload (daemon, &local))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "Saved, but the configuration is not taken: %s",
                              local->message);
  if (apply)
    return start_plan (daemon, m, 0, error);
  return sd_bus_reply_method_return (m, NULL);
}

static int
method_reload_config (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (GError) local = NULL;

  if (!daemon_config_reload (daemon, &local))
    return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "%s (the previous configuration stays in use; see "
                              "ConfigErrors)", local->message);
  return sd_bus_reply_method_return (m, NULL);
}

static int
method_apply_config (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  gboolean dry_run = FALSE;
  guint32 timeout_ms = 0;
  const BusOption opts[] = {
    { GPUVIRT_OPT_DRY_RUN, 'b', &dry_run },
    { GPUVIRT_OPT_TIMEOUT_MS, 'u', &timeout_ms },
  };
  const char *details[] = { NULL };
  int r;

  r = bus_read_options (m, opts, G_N_ELEMENTS (opts), error);
  if (r < 0)
    return r;
  if (daemon->config_problems && daemon->config_problems->len > 0) {
    g_autofree char *list = gv_config_problems_to_text (daemon->config_problems, 5);
    return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "The configuration files have problems; nothing was "
                              "done:\n%s", list);
  }
  if (!dry_run) {
    if (daemon->plan)
      return sd_bus_error_set (error, GPUVIRT_ERROR_BUSY, "The boot plan is running; wait for BootPlanState to "
                               "leave \"running\"");
    r = bus_bouncer_check (daemon, m, BUS_NEED_ACTION, details, error);
    if (r <= 0)
      return r < 0 ? r : 1;
    return start_plan (daemon, m, timeout_ms, error);
  }
  {
    g_autoptr (GError) local = NULL;
    g_autoptr (GPtrArray) rows = daemon_plan_preview (daemon, &local);
    g_autoptr (sd_bus_message) reply = NULL;
    if (!rows)
      return bus_error_set (error, local);
    r = sd_bus_message_new_method_return (m, &reply);
    if (r >= 0)
      r = append_rows (rows, reply);
    if (r >= 0)
      r = sd_bus_send (NULL, reply, NULL);
    return r < 0 ? r : 1;
  }
}

static const sd_bus_vtable config_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("ConfigFiles", "as", get_config_files, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("ConfigErrors", "a(suss)", get_config_errors, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("BootPlan", "a(sssss)", get_boot_plan, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY ("BootPlanState", "s", get_boot_plan_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_METHOD_WITH_ARGS ("GetConfig", SD_BUS_NO_ARGS, SD_BUS_RESULT ("s", text), method_get_config,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("CheckConfig", SD_BUS_ARGS ("s", text), SD_BUS_RESULT ("a(uss)", problems),
                           method_check_config, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("SaveConfig", SD_BUS_ARGS ("s", text, "a{sv}", options), SD_BUS_NO_RESULT,
                           method_save_config, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("ReloadConfig", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload_config,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("ApplyConfig", SD_BUS_ARGS ("a{sv}", options), SD_BUS_RESULT ("a(sssss)", plan),
                           method_apply_config, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

int
bus_config_register (Daemon *daemon)
{
  return sd_bus_add_object_vtable (daemon->bus, NULL, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, config_vtable,
                                   daemon);
}
