/* Asynchronous polkit checks for sd-bus method handlers: the mechanism;
 * which action a method needs is the bus layer's table (bus/bouncer.c).
 *
 * A handler calls daemon_polkit_check() after validating its input and
 * checking state, before acting:
 *   r = daemon_polkit_check (registry, m, ACTION, details, error);
 *   if (r < 0) return r;   // denied, or polkit failed: error is set
 *   if (r == 0) return 1;  // asked polkit; the handler runs again with the answer
 *   ... act ...
 * Callers with uid 0 are authorized without asking polkit. The first
 * call of anyone else sends CheckAuthorization without blocking the bus; when
 * polkit answers, the original message is queued again and the handler
 * runs from the top, finding the answer. Interactivity follows the
 * caller's ALLOW_INTERACTIVE_AUTHORIZATION flag. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

typedef struct DaemonPolkit DaemonPolkit;

DaemonPolkit *daemon_polkit_new (sd_bus *bus);
void daemon_polkit_free (DaemonPolkit *polkit);
/* Queries still waiting for polkit (the daemon does not exit meanwhile). */
guint daemon_polkit_pending (DaemonPolkit *polkit);

/* DETAILS: NULL-terminated key/value pairs passed to polkit (rules can
 * read them with action.lookup()). Returns 1 (authorized), 0 (pending) or
 * a negative errno with ERROR set: AccessDenied, or
 * InteractiveAuthorizationRequired when a password would be needed but
 * the caller did not allow interaction. */
int daemon_polkit_check (DaemonPolkit *polkit, sd_bus_message *m, const char *action,
                          const char *const *details, sd_bus_error *error);
/* The same for a call that needs several actions (NULL-terminated, e.g.
 * the device's and, for the persist option, org.gpuvirt.modify-config):
 * polkit is asked for each in turn, the next only once the one before is
 * allowed; 1 when all are, else the error names the first refused. */
int daemon_polkit_check_all (DaemonPolkit *polkit, sd_bus_message *m, const char *const *actions,
                              const char *const *details, sd_bus_error *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DaemonPolkit, daemon_polkit_free)
