/* Which polkit action each method needs, in one table (bouncer.c), and
 * the one way a handler asks for it. A method the table does not name is
 * refused: a new mutating method cannot slip through unguarded.
 *
 *   r = bus_bouncer_check (daemon, m, need, details, error);
 *   if (r < 0) return r;   // refused (AccessDenied, ...): nothing was written
 *   if (r == 0) return 1;  // polkit asked; the handler runs again with the answer
 */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon/daemon.h"

typedef enum {
  BUS_NEED_ACTION = 1 << 0,  /* the method's own action */
  BUS_NEED_FORCE = 1 << 1,   /* its stronger action instead (past holders, foreign functions) */
  BUS_NEED_PERSIST = 1 << 2, /* and org.gpuvirt.modify-config, for the persist option */
} BusNeed;

/* NEED 0 + BUS_NEED_PERSIST: a call that changes no device and only
 * records (the device already is as asked). DETAILS: NULL-terminated
 * key/value pairs for polkit rules. Returns 1 (authorized), 0 (asked) or
 * a negative errno with ERROR set. */
int bus_bouncer_check (Daemon *daemon, sd_bus_message *m, BusNeed need, const char *const *details,
                       sd_bus_error *error);

/* The action of INTERFACE.MEMBER (FORCE: its stronger one), or NULL when
 * the table has none (tests and the contract check read it). */
const char *bus_bouncer_action (const char *interface, const char *member, gboolean force);
