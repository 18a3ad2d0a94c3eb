/* gpuvirtd's objects as GVariants: sd-bus carries the messages, GLib holds
 * the values, so that verbs, the JSON and the text share one reader. */
#pragma once

#include "ctl.h"

/* Reads the next complete value of M (any type but 'h') into *RET. */
int bus_message_read_gvariant (sd_bus_message *m, GVariant **ret);

/* Every object of the service from one GetManagedObjects() call. */
typedef struct
{
  GVariant *reply;     /* a{oa{sa{sv}}} */
  GHashTable *objects; /* path -> a{sa{sv}} */
} BusModel;

int bus_model_load (sd_bus *bus, BusModel **ret, sd_bus_error *error);
void bus_model_free (BusModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusModel, bus_model_free)

/* The a{sv} of IFACE on PATH, NULL when the object or interface is absent. */
GVariant *bus_model_props (BusModel *model, const char *path, const char *iface);
/* Paths of the objects that have IFACE, sorted. */
GPtrArray *bus_model_paths (BusModel *model, const char *iface);

/* Properties.GetAll(IFACE) on PATH as an a{sv}. */
int bus_get_all (sd_bus *bus, const char *path, const char *iface,
                 GVariant **ret, sd_bus_error *error);

/* Typed reads from an a{sv}, with neutral values when a property is absent
 * or has another type (an older or newer daemon). */
const char *props_str (GVariant *props, const char *name);
gboolean props_bool (GVariant *props, const char *name);
guint32 props_uint (GVariant *props, const char *name); /* y, q or u */
gint32 props_int (GVariant *props, const char *name, gint32 absent);
