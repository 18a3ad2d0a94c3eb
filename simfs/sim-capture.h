/* Capture mode: record a real host as a scenario (see SCENARIOS.md). */
#pragma once

#include <glib.h>

/* Reads the host mounted at ROOT ("/" when NULL) strictly read-only and
 * returns the scenario as JSON text (2-space indent, newline-terminated).
 * Fails only when ROOT has no readable sys/bus/pci/devices; anything else
 * that cannot be read is left out of the scenario. */
char *sim_capture_to_json (const char *root, GError **error);
