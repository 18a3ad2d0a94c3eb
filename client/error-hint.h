/* D-Bus errors to exit codes and one-line hints. */
#pragma once

#include "ctl.h"

/* The exit code for a failed call: from the error name when there is one,
 * else from the errno R. */
int ctl_error_exit_code (const sd_bus_error *error, int r);
/* A translated one-line hint for an error name, NULL when there is none. */
const char *ctl_error_hint (const char *name);
/* Prints "Hint: ..." on stderr when NAME has a hint. */
void ctl_print_hint (const char *name);

/* Prints "WHAT: message" and the hint on stderr; returns the exit code. */
int ctl_fail (const sd_bus_error *error, int r, const char *what);
/* The same for a failure to reach the system bus. */
int ctl_fail_connect (int r);
