/* monitor: prints the changes gpuvirtd announces (PropertiesChanged,
 * InterfacesAdded/Removed, its name coming and going) as they arrive, one
 * line each, until SIGINT or SIGTERM. Nothing is polled: what the daemon
 * does not announce is not shown (Holders, for one). */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "text.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>


typedef struct
{
  JsonObject *json;
  GString *text;
} Event;

/* Starts an event: the timestamp, the kind and the object it is about. */
static void
event_begin (Event *e, const char *kind, const char *path)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *iso = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  g_autofree char *zone = g_date_time_format (now, "%:z");
  g_autofree char *stamp = g_strdup_printf ("%s.%06d%s", iso, g_date_time_get_microsecond (now), zone);
  g_autofree char *local = g_date_time_format (now, "%Y-%m-%d %H:%M:%S");
  g_autofree char *address = ctl_device_path_to_address (path);
  g_autofree char *name = ctl_object_name (path);

  e->json = json_object_new ();
  json_object_set_string_member (e->json, "Timestamp", stamp);
  json_object_set_int_member (e->json, "TimestampUSec",
                              g_date_time_to_unix (now) * G_USEC_PER_SEC + g_date_time_get_microsecond (now));
  json_object_set_string_member (e->json, "Event", kind);
  if (path)
    json_object_set_string_member (e->json, "Path", path);
  else
    json_object_set_null_member (e->json, "Path");
  if (address)
    json_object_set_string_member (e->json, "Address", address);
  else
    json_object_set_null_member (e->json, "Address");

  e->text = g_string_new (NULL);
  g_string_append_printf (e->text, "%s.%03d %s", local, g_date_time_get_microsecond (now) / 1000,
                          name ? name : "gpuvirtd");
}

static void
event_end (Event *e)
{
  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (e->json);
      ctl_json_print (root, CTL_JSON_SHORT);
    }
  else
    {
      json_object_unref (e->json);
      printf ("%s\n", e->text->str);
    }
  g_string_free (e->text, TRUE);
  /* a reader at the other end of a pipe wants each line now */
  fflush (stdout);
}

/* The last value seen of every property, "path iface name" -> GVariant:
 * a daemon may repeat unchanged values in PropertiesChanged (a Refresh
 * announces whole interfaces), and only real changes are worth a line. */
static GHashTable *known;

static char *
known_key (const char *path, const char *iface, const char *name)
{
  return g_strdup_printf ("%s %s %s", path, iface, name);
}

static void
remember (const char *path, const char *iface, GVariant *props)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, props);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    g_hash_table_replace (known, known_key (path, iface, name), value);
}

static gboolean
key_has_prefix (gpointer key, gpointer value, gpointer prefix)
{
  return g_str_has_prefix (key, prefix);
}

static void
forget (const char *path, const char *iface)
{
  g_autofree char *prefix = g_strdup_printf ("%s %s ", path, iface);

  g_hash_table_foreach_remove (known, key_has_prefix, prefix);
}

/* Reads what is there now; signals queued meanwhile are compared with it. */
static void
remember_all (sd_bus *bus)
{
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GVariant) manager = NULL;
  GHashTableIter objects;
  gpointer path, ifaces;

  if (bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &manager, NULL) >= 0)
    remember (GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, manager);
  if (bus_model_load (bus, &model, NULL) < 0)
    return;
  g_hash_table_iter_init (&objects, model->objects);
  while (g_hash_table_iter_next (&objects, &path, &ifaces))
    {
      GVariantIter iter;
      const char *iface;
      GVariant *props;

      g_variant_iter_init (&iter, ifaces);
      while (g_variant_iter_next (&iter, "{&s@a{sv}}", &iface, &props))
        {
          remember (path, iface, props);
          g_variant_unref (props);
        }
    }
}

/* The entries of CHANGED whose value differs from the last one seen. */
static GVariant *
only_changed (const char *path, const char *iface, GVariant *changed)
{
  GVariantBuilder builder;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_autofree char *key = known_key (path, iface, name);
      GVariant *old = g_hash_table_lookup (known, key);

      if (!old || !g_variant_equal (old, value))
        g_variant_builder_add (&builder, "{sv}", name, value);
      g_hash_table_replace (known, g_steal_pointer (&key), value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static const char *
short_iface (const char *iface)
{
  return g_str_has_prefix (iface, "org.gpuvirt.") ? iface + strlen ("org.gpuvirt.") : iface;
}

static int
on_properties_changed (sd_bus_message *m)
{
  g_autoptr (GVariant) all = NULL, changed = NULL, invalidated = NULL;
  const char *iface, *name, *path = sd_bus_message_get_path (m);
  GVariantIter iter;
  GVariant *value;
  Event e;
  int r;

  r = sd_bus_message_read (m, "s", &iface);
  if (r >= 0)
    r = bus_message_read_gvariant (m, &all);
  if (r >= 0)
    r = bus_message_read_gvariant (m, &invalidated);
  if (r < 0 || !g_variant_is_of_type (all, G_VARIANT_TYPE ("a{sv}"))
      || !g_variant_is_of_type (invalidated, G_VARIANT_TYPE_STRING_ARRAY))
    return 0; /* not the standard signal; nothing to show */
  changed = only_changed (path, iface, all);
  if (g_variant_n_children (changed) == 0 && g_variant_n_children (invalidated) == 0)
    return 0;

  event_begin (&e, "changed", path);
  json_object_set_string_member (e.json, "Interface", iface);
  json_object_set_object_member (e.json, "Changed", ctl_json_props (changed));
  json_object_set_member (e.json, "Invalidated", ctl_json_value ("Invalidated", invalidated));

  g_string_append_printf (e.text, " %s %s:", short_iface (iface), _("changed"));
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_autofree char *text = ctl_text_value (value);
      g_string_append_printf (e.text, " %s=%s", name, text);
      g_variant_unref (value);
    }
  g_variant_iter_init (&iter, invalidated);
  while (g_variant_iter_next (&iter, "&s", &name))
    g_string_append_printf (e.text, " %s %s", name, _("(invalidated)"));
  event_end (&e);
  return 0;
}

/* InterfacesAdded (with the new properties) and InterfacesRemoved. */
static int
on_interfaces (sd_bus_message *m, gboolean added)
{
  g_autoptr (GVariant) ifaces = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  JsonArray *list = json_array_new ();
  const char *path, *iface;
  GVariantIter iter;
  GVariant *props;
  Event e;
  int r;

  r = sd_bus_message_read (m, "o", &path);
  if (r >= 0)
    r = bus_message_read_gvariant (m, &ifaces);
  if (r < 0 || !g_variant_is_of_type (ifaces, added ? G_VARIANT_TYPE ("a{sa{sv}}") : G_VARIANT_TYPE_STRING_ARRAY))
    {
      json_array_unref (list);
      return 0;
    }

  event_begin (&e, added ? "added" : "removed", path);
  g_variant_iter_init (&iter, ifaces);
  if (added)
    {
      JsonObject *properties = json_object_new ();

      while (g_variant_iter_next (&iter, "{&s@a{sv}}", &iface, &props))
        {
          g_ptr_array_add (names, g_strdup (short_iface (iface)));
          json_array_add_string_element (list, iface);
          json_object_set_object_member (properties, iface, ctl_json_props (props));
          forget (path, iface);
          remember (path, iface, props);
          g_variant_unref (props);
        }
      json_object_set_array_member (e.json, "Interfaces", list);
      json_object_set_object_member (e.json, "Properties", properties);
    }
  else
    {
      while (g_variant_iter_next (&iter, "&s", &iface))
        {
          g_ptr_array_add (names, g_strdup (short_iface (iface)));
          json_array_add_string_element (list, iface);
          forget (path, iface);
        }
      json_object_set_array_member (e.json, "Interfaces", list);
    }
  g_ptr_array_add (names, NULL);
  {
    g_autofree char *joined = g_strjoinv (", ", (char **) names->pdata);
    g_string_append_printf (e.text, " %s: %s", added ? _("added") : _("removed"), joined);
  }
  event_end (&e);
  return 0;
}

static int
on_signal (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Event e;

  if (sd_bus_message_is_signal (m, "org.freedesktop.DBus.Properties", "PropertiesChanged"))
    return on_properties_changed (m);
  if (sd_bus_message_is_signal (m, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded"))
    return on_interfaces (m, TRUE);
  if (sd_bus_message_is_signal (m, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved"))
    return on_interfaces (m, FALSE);

  /* a signal of the API this client does not know yet: name it at least
   * (others, e.g. a test mock's own, are not gpuvirt's news) */
  if (!g_str_has_prefix (sd_bus_message_get_interface (m), "org.gpuvirt."))
    return 0;
  event_begin (&e, "signal", sd_bus_message_get_path (m));
  json_object_set_string_member (e.json, "Interface", sd_bus_message_get_interface (m));
  json_object_set_string_member (e.json, "Member", sd_bus_message_get_member (m));
  g_string_append_printf (e.text, " %s %s.%s", _("signal"),
                          sd_bus_message_get_interface (m), sd_bus_message_get_member (m));
  event_end (&e);
  return 0;
}

static int
on_owner_changed (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  const char *name, *old_owner, *new_owner;
  gboolean started;
  Event e;

  /* NameOwnerChanged of the daemon's unique name reaches this callback too
   * (seen with dbus-daemon 1.14 and sd-bus 252); only the well-known
   * name's tells whether gpuvirtd is there */
  if (sd_bus_message_read (m, "sss", &name, &old_owner, &new_owner) < 0
      || !g_str_equal (name, GPUVIRT_BUS_NAME))
    return 0;
  started = *new_owner != '\0';
  /* a new daemon's values are news: compare with nothing */
  g_hash_table_remove_all (known);
  event_begin (&e, started ? "service-started" : "service-stopped", NULL);
  g_string_append_printf (e.text, " %s", started ? _("started") : _("stopped"));
  event_end (&e);
  return 0;
}

static int
on_exit_signal (sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
  return sd_event_exit (sd_event_source_get_event (s), GV_EXIT_OK);
}

static gboolean
service_running (sd_bus *bus)
{
  g_autoptr (sd_bus_message) reply = NULL;
  int has = 0;

  if (sd_bus_call_method (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "NameHasOwner", NULL, &reply, "s", GPUVIRT_BUS_NAME) < 0
      || sd_bus_message_read (reply, "b", &has) < 0)
    return TRUE; /* do not claim it is down when we cannot tell */
  return has;
}

int
verb_monitor (sd_bus *bus, int argc, char **argv)
{
  g_autoptr (sd_event) event = NULL;
  sigset_t mask;
  int r;

  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigprocmask (SIG_BLOCK, &mask, NULL);

  r = sd_event_default (&event);
  if (r >= 0)
    r = sd_event_add_signal (event, NULL, SIGINT, on_exit_signal, NULL);
  if (r >= 0)
    r = sd_event_add_signal (event, NULL, SIGTERM, on_exit_signal, NULL);
  if (r >= 0)
    r = sd_bus_attach_event (bus, event, SD_EVENT_PRIORITY_NORMAL);
  if (r >= 0)
    r = sd_bus_set_exit_on_disconnect (bus, 1);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not set up the event loop"));

  /* the bus resolves the well-known sender, also across daemon restarts */
  r = sd_bus_add_match (bus, NULL,
                        "type='signal',sender='" GPUVIRT_BUS_NAME "',path_namespace='" GPUVIRT_MANAGER_PATH "'",
                        on_signal, NULL);
  if (r >= 0)
    r = sd_bus_match_signal (bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", "NameOwnerChanged", on_owner_changed, NULL);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not subscribe to gpuvirtd's signals"));

  known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
  remember_all (bus);

  /* stderr, so stdout stays pure data; tests wait for this line */
  fprintf (stderr, "%s\n", _("Monitoring gpuvirtd; press Ctrl+C to stop."));
  if (!service_running (bus))
    fprintf (stderr, "%s\n", _("gpuvirtd is not running now; waiting for it."));

  r = sd_event_loop (event);
  sd_bus_detach_event (bus);
  g_clear_pointer (&known, g_hash_table_unref);
  if (r < 0)
    return ctl_fail (NULL, r, _("Monitoring failed"));
  if (r != GV_EXIT_OK)
    {
      fprintf (stderr, "%s\n", _("Lost the connection to the system bus."));
      return GV_EXIT_UNAVAILABLE;
    }
  return GV_EXIT_OK;
}
