/* What the end-to-end tests do over and over on the test bed (declared in
 * bus-harness.h): name objects, read properties, watch the simulated
 * host's write log and the ObjectManager signals, and run gpuvirtctl. */
#include "bus-harness.h"

#include <stdarg.h>
#include <string.h>

#define DEVICE_PREFIX "/org/gpuvirt/devices/pci_"

char *
bus_harness_device_path (const char *bdf)
{
  g_autofree char *p = g_strdup_printf (DEVICE_PREFIX "%s", bdf);
  g_strdelimit (p + strlen (DEVICE_PREFIX), ":.", '_');
  return g_steal_pointer (&p);
}

char *
bus_harness_vf_bdf (const char *pf, guint i)
{
  guint devfn = 4 + i;
  return g_strdup_printf ("%.7s:%02x.%x", pf, devfn >> 3, devfn & 7);
}

GVariant *
bus_harness_get_property (GDBusConnection *c, const char *path, const char *iface, const char *prop)
{
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) v = bus_harness_call (c, path, "org.freedesktop.DBus.Properties", "Get",
                                             g_variant_new ("(ss)", iface, prop), G_VARIANT_TYPE ("(v)"), &name,
                                             &message);
  GVariant *inner = NULL;

  if (!v)
    g_error ("Get %s.%s on %s: %s: %s", iface, prop, path, name, message);
  g_variant_get (v, "(v)", &inner);
  return inner;
}

char *
bus_harness_device_string (GDBusConnection *c, const char *bdf, const char *iface, const char *prop)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  g_autoptr (GVariant) v = bus_harness_get_property (c, path, iface, prop);
  return g_variant_dup_string (v, NULL);
}

guint
bus_harness_num_vfs (GDBusConnection *c, const char *pf)
{
  g_autofree char *path = bus_harness_device_path (pf);
  g_autoptr (GVariant) v = bus_harness_get_property (c, path, "org.gpuvirt.Sriov", "NumVfs");
  return g_variant_get_uint32 (v);
}

char *
bus_harness_vgpu_info_string (GVariant *reply, const char *key)
{
  g_autoptr (GVariant) info = g_variant_get_child_value (reply, 1);
  const char *value = NULL;

  if (!g_variant_lookup (info, key, "&s", &value))
    g_error ("info has no %s", key);
  return g_strdup (value);
}

void
bus_harness_check_error (GVariant *reply, const char *call, const char *name, const char *message, const char *want,
                         const char *words)
{
  if (reply)
    g_error ("%s succeeded; expected %s", call, want);
  g_test_message ("%s -> %s: %s", call, name, message);
  g_assert_cmpstr (name, ==, want);
  if (words && !strstr (message, words))
    g_error ("%s: “%s” does not mention “%s”", call, message, words);
}

/* ---- the simulated host's write log ---- */

char *
bus_harness_sim_log (BusHarness *h)
{
  return bus_harness_read_sim (h, ".sim/log");
}

void
bus_harness_clear_sim_log (BusHarness *h)
{
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/log", "clear"), ==, 0);
}

void
bus_harness_assert_no_writes (BusHarness *h)
{
  g_autofree char *log = bus_harness_sim_log (h);
  g_assert_cmpstr (log, ==, "");
}

guint
bus_harness_count_lines (const char *text, const char *needle)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i]; i++)
    n += strstr (lines[i], needle) != NULL;
  return n;
}

/* ---- InterfacesAdded and InterfacesRemoved ---- */

static void
on_object_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface, const char *signal,
                  GVariant *params, gpointer data)
{
  BusHarnessSignals *signals = data;
  const char *object = NULL;

  g_variant_get_child (params, 0, "&o", &object);
  g_ptr_array_add (g_str_equal (signal, "InterfacesAdded") ? signals->added : signals->removed, g_strdup (object));
}

void
bus_harness_signals_start (BusHarnessSignals *signals, GDBusConnection *c)
{
  const char *const names[] = { "InterfacesAdded", "InterfacesRemoved" };

  signals->added = g_ptr_array_new_with_free_func (g_free);
  signals->removed = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    signals->subscriptions[i] = g_dbus_connection_signal_subscribe (
      c, "org.gpuvirt", "org.freedesktop.DBus.ObjectManager", names[i], NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_object_signal, signals, NULL);
}

void
bus_harness_signals_stop (BusHarnessSignals *signals, GDBusConnection *c)
{
  for (guint i = 0; i < G_N_ELEMENTS (signals->subscriptions); i++)
    g_dbus_connection_signal_unsubscribe (c, signals->subscriptions[i]);
  g_ptr_array_unref (signals->added);
  g_ptr_array_unref (signals->removed);
}

gboolean
bus_harness_paths_contain (GPtrArray *paths, const char *path)
{
  return g_ptr_array_find_with_equal_func (paths, path, g_str_equal, NULL);
}

void
bus_harness_drain (void)
{
  for (int i = 0; i < 50; i++) {
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_usleep (2000);
  }
}

/* ---- running gpuvirtctl ---- */

void
bus_harness_ctl_run_clear (BusHarnessCtlRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

int
bus_harness_ctl (BusHarness *h, gboolean unprivileged, BusHarnessCtlRun *run, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *line = NULL;
  const char *binary = g_getenv ("GPUVIRTCTL");
  const char *arg;
  va_list ap;

  g_assert_nonnull (binary);
  bus_harness_ctl_run_clear (run);
  g_ptr_array_add (argv, (gpointer) binary);
  va_start (ap, run);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  run->status = bus_harness_run (h, unprivileged, (const char *const *) argv->pdata, &run->out, &run->err);
  line = g_strjoinv (" ", (char **) argv->pdata + 1);
  g_test_message ("%sgpuvirtctl %s -> %d\nstdout:\n%s\nstderr:\n%s", unprivileged ? "(nobody) " : "", line,
                  run->status, run->out, run->err);
  return run->status;
}

/* ---- PropertiesChanged: each change announced once ---- */

/* Every property of every object as GetManagedObjects gives it:
 * "PATH IFACE PROP" -> printed value. */
GHashTable *
bus_harness_all_properties (GDBusConnection *c)
{
  g_autoptr (GVariant) reply = bus_harness_call (c, "/org/gpuvirt", "org.freedesktop.DBus.ObjectManager",
                                                 "GetManagedObjects", NULL, NULL, NULL, NULL);
  g_autoptr (GVariant) objects = NULL;
  GHashTable *props = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GVariantIter objs, ifaces, values;
  const char *path, *iface, *prop;
  GVariant *ifaces_v, *values_v, *value;

  g_assert_nonnull (reply);
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&objs, objects);
  while (g_variant_iter_next (&objs, "{&o@a{sa{sv}}}", &path, &ifaces_v)) {
    g_variant_iter_init (&ifaces, ifaces_v);
    while (g_variant_iter_next (&ifaces, "{&s@a{sv}}", &iface, &values_v)) {
      g_variant_iter_init (&values, values_v);
      while (g_variant_iter_next (&values, "{&sv}", &prop, &value)) {
        g_hash_table_insert (props, g_strdup_printf ("%s %s %s", path, iface, prop), g_variant_print (value, FALSE));
        g_variant_unref (value);
      }
      g_variant_unref (values_v);
    }
    g_variant_unref (ifaces_v);
  }
  return props;
}

/* Each PropertiesChanged: its values into CHANGES->announced ("PATH
 * IFACE PROP" -> GPtrArray of the printed values, in order) and, for the
 * order across properties, into CHANGES->signals (one GHashTable of
 * "PATH IFACE PROP" -> value per signal). */
static void
on_properties_changed (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                       const char *signal, GVariant *params, gpointer user_data)
{
  BusHarnessChanges *changes = user_data;
  g_autoptr (GVariant) changed = g_variant_get_child_value (params, 1);
  g_autoptr (GVariant) invalidated = g_variant_get_child_value (params, 2);
  GHashTable *one = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *changed_iface = NULL;
  GVariantIter iter;
  const char *prop;
  GVariant *value;

  g_variant_get_child (params, 0, "&s", &changed_iface);
  /* the contract announces values, never bare invalidations */
  g_assert_cmpuint (g_variant_n_children (invalidated), ==, 0);
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &prop, &value)) {
    char *key = g_strdup_printf ("%s %s %s", path, changed_iface, prop);
    GPtrArray *seq = g_hash_table_lookup (changes->announced, key);
    if (!seq) {
      seq = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (changes->announced, g_strdup (key), seq);
    }
    g_ptr_array_add (seq, g_variant_print (value, FALSE));
    g_hash_table_insert (one, key, g_variant_print (value, FALSE));
    g_variant_unref (value);
  }
  g_ptr_array_add (changes->signals, one);
}

/* Every announcement of ANNOUNCED is a change (never the value before it
 * again), the last one is what a Get gives now (AFTER), and every
 * emitting property that differs between BEFORE and AFTER was announced. */
void
bus_harness_assert_announced_once (GHashTable *before, GHashTable *after, GHashTable *announced, const char *what)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, announced);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    GPtrArray *seq = value;
    const char *previous = g_hash_table_lookup (before, key);
    for (guint i = 0; i < seq->len; i++) {
      if (g_strcmp0 (previous, seq->pdata[i]) == 0)
        g_error ("%s: %s announced %s again without a change (announcement %u of %u)", what, (char *) key,
                 (char *) seq->pdata[i], i + 1, seq->len);
      previous = seq->pdata[i];
    }
    if (g_hash_table_contains (after, key))
      g_assert_cmpstr (previous, ==, g_hash_table_lookup (after, key));
  }
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    const char *was = g_hash_table_lookup (before, key);
    /* Holders is computed when read and never announced (the contract) */
    if (g_str_has_suffix (key, " Holders") || !was || g_str_equal (was, value))
      continue;
    if (!g_hash_table_contains (announced, key))
      g_error ("%s: %s changed from %s to %s without PropertiesChanged", what, (char *) key, was, (char *) value);
  }
}

void
bus_harness_changes_start (BusHarnessChanges *changes, GDBusConnection *c)
{
  changes->announced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  changes->signals = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  changes->id = g_dbus_connection_signal_subscribe (c, "org.gpuvirt", "org.freedesktop.DBus.Properties",
                                                    "PropertiesChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                    on_properties_changed, changes, NULL);
}

GHashTable *
bus_harness_changes_stop (BusHarnessChanges *changes, GDBusConnection *c)
{
  g_dbus_connection_signal_unsubscribe (c, changes->id);
  g_clear_pointer (&changes->signals, g_ptr_array_unref);
  return g_steal_pointer (&changes->announced);
}
