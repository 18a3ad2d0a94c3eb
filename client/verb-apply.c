/* apply [--dry-run]: Manager.ApplyConfig(), the boot plan run now (or only
 * computed), printed one row per step. Exit status 1 when a step failed. */
#include "ctl.h"

#include "boot-plan.h"
#include "bus-model.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "polkit-agent.h"

#include <errno.h>
#include <stdio.h>

/* The call lasts as long as the plan: each step a few writes bounded by
 * timeout-ms, plus however long a password takes. */
#define APPLY_CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)
#define APPLY_CALL_TIMEOUT_PER_WRITE_TIMEOUT 100

int
verb_apply (sd_bus *bus, int argc, char **argv)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) rows = NULL;
  guint64 timeout = APPLY_CALL_TIMEOUT_USEC;
  pid_t agent = 0;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE,
                                      "ApplyConfig");
  if (r >= 0)
    r = sd_bus_message_open_container (m, 'a', "{sv}");
  if (r >= 0 && ctl_args.dry_run)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_DRY_RUN, "b", 1);
  if (r >= 0 && ctl_args.timeout_ms > 0)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_TIMEOUT_MS, "u", ctl_args.timeout_ms);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  /* a dry run needs no authorization */
  if (r >= 0)
    r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password && !ctl_args.dry_run);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  if (ctl_args.timeout_ms > 0)
    timeout = MAX (timeout, (guint64) ctl_args.timeout_ms * 1000 * APPLY_CALL_TIMEOUT_PER_WRITE_TIMEOUT);
  if (!ctl_args.dry_run)
    agent = ctl_polkit_agent_open ();
  r = sd_bus_call (bus, m, timeout, &error, &reply);
  ctl_polkit_agent_close (agent);
  if (r < 0)
    return ctl_fail (&error, r, ctl_args.dry_run ? _("Could not compute the boot plan")
                                                 : _("Could not apply the configuration"));
  r = bus_message_read_gvariant (reply, &rows);
  if (r >= 0 && !g_variant_is_of_type (rows, G_VARIANT_TYPE ("a(sssss)")))
    r = -EBADMSG;
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));

  if (ctl_args.json != CTL_JSON_OFF)
    {
      JsonObject *object = json_object_new ();
      g_autoptr (JsonNode) root = ctl_json_take_object (object);

      json_object_set_boolean_member (object, "DryRun", ctl_args.dry_run);
      json_object_set_member (object, "Plan", ctl_plan_json (rows));
      ctl_json_print (root, ctl_args.json);
    }
  else if (g_variant_n_children (rows) == 0)
    fputs (_("Nothing to do: the configuration describes no device ('gpuvirtctl config show').\n"), stderr);
  else
    ctl_plan_print (rows, stdout);
  return ctl_plan_n_failed (rows) > 0 ? GV_EXIT_FAILURE : GV_EXIT_OK;
}
