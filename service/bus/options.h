/* Reads a method's "options" a{sv}: every key must be one the method
 * knows, with its type, or the call is refused with InvalidArgs naming it,
 * so an option this daemon does not understand is never ignored. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

typedef struct {
  const char *key;
  char type;          /* 'b', 'u' or 's' */
  gpointer target;    /* gboolean*, guint32*, char** (freed by the caller) */
} BusOption;

/* Reads the a{sv} at the current position of M. */
int bus_read_options (sd_bus_message *m, const BusOption *known, gsize n_known, sd_bus_error *error);
