/* The inventory over the bus: on each scenario, every object's properties
 * equal what the scenario defines, read as root and as an unprivileged
 * user; Refresh announces changes made behind the daemon's back; the live
 * introspection matches the contract in dbus/. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

/* path -> interface -> property -> value */
static GVariant *
managed_objects (GDBusConnection *c)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt",
                                                             "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                                             NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                                             G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  g_assert_no_error (error);
  return g_variant_get_child_value (reply, 0);
}

static GVariant *
prop (GVariant *objects, const char *path, const char *iface, const char *name)
{
  g_autoptr (GVariant) ifaces = g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_autoptr (GVariant) props = NULL;
  GVariant *value;

  if (!ifaces)
    g_error ("no object %s", path);
  props = g_variant_lookup_value (ifaces, iface, G_VARIANT_TYPE ("a{sv}"));
  if (!props)
    g_error ("object %s has no %s", path, iface);
  value = g_variant_lookup_value (props, name, NULL);
  if (!value)
    g_error ("object %s has no %s.%s", path, iface, name);
  return value;
}

static gboolean
has_iface (GVariant *objects, const char *path, const char *iface)
{
  g_autoptr (GVariant) ifaces = g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_autoptr (GVariant) props = ifaces ? g_variant_lookup_value (ifaces, iface, NULL) : NULL;
  return props != NULL;
}

static char *
path_of (const char *bdf)
{
  g_autofree char *name = g_strdup (bdf);
  for (char *p = name; *p; p++)
    if (*p == ':' || *p == '.')
      *p = '_';
  return g_strdup_printf ("/org/gpuvirt/devices/pci_%s", name);
}

static guint
hex (JsonObject *o, const char *member, guint fallback)
{
  const char *s = json_object_get_string_member_with_default (o, member, NULL);
  return s ? (guint) g_ascii_strtoull (s, NULL, 16) : fallback;
}

#define ASSERT_PROP_U(objs, path, iface, name, want)                                             \
  G_STMT_START {                                                                                 \
    g_autoptr (GVariant) _v = prop (objs, path, iface, name);                                    \
    guint64 _got = g_variant_is_of_type (_v, G_VARIANT_TYPE_UINT16) ? g_variant_get_uint16 (_v)  \
                 : g_variant_is_of_type (_v, G_VARIANT_TYPE_BYTE)   ? g_variant_get_byte (_v)    \
                                                                    : g_variant_get_uint32 (_v); \
    if (_got != (guint64) (want))                                                                \
      g_error ("%s %s.%s = %" G_GUINT64_FORMAT ", scenario says %u", path, iface, name, _got, (guint) (want)); \
  } G_STMT_END

#define ASSERT_PROP_S(objs, path, iface, name, want)                                             \
  G_STMT_START {                                                                                 \
    g_autoptr (GVariant) _v = prop (objs, path, iface, name);                                    \
    g_assert_cmpstr (g_variant_get_string (_v, NULL), ==, want);                                 \
  } G_STMT_END

#define ASSERT_PROP_I(objs, path, iface, name, want)                                             \
  G_STMT_START {                                                                                 \
    g_autoptr (GVariant) _v = prop (objs, path, iface, name);                                    \
    g_assert_cmpint (g_variant_get_int32 (_v), ==, want);                                        \
  } G_STMT_END

/* Every fact the scenario states about a function, as the bus shows it. */
static void
check_against_scenario (GVariant *objects, JsonParser *parser)
{
  JsonObject *root, *kernel;
  JsonArray *devices;
  gboolean no_iommu;
  guint expected = 0, found = 0;
  GVariantIter iter;
  const char *path;

  root = json_node_get_object (json_parser_get_root (parser));
  kernel = json_object_get_object_member (root, "kernel");
  no_iommu = g_strcmp0 (json_object_get_string_member_with_default (kernel, "iommu", "intel"), "none") == 0;
  devices = json_object_get_array_member (root, "devices");

  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    const char *bdf = json_object_get_string_member (d, "bdf");
    g_autofree char *p = path_of (bdf);
    const char *driver = json_object_get_string_member_with_default (d, "driver", NULL);
    const char *override = json_object_get_string_member_with_default (d, "driver_override", NULL);
    guint cls = hex (d, "class", 0);

    ASSERT_PROP_S (objects, p, "org.gpuvirt.Device", "Address", bdf);
    ASSERT_PROP_U (objects, p, "org.gpuvirt.Device", "VendorId", hex (d, "vendor", 0));
    ASSERT_PROP_U (objects, p, "org.gpuvirt.Device", "DeviceId", hex (d, "device", 0));
    ASSERT_PROP_U (objects, p, "org.gpuvirt.Device", "SubsystemVendorId", hex (d, "subsystem_vendor", 0));
    ASSERT_PROP_U (objects, p, "org.gpuvirt.Device", "SubsystemDeviceId", hex (d, "subsystem_device", 0));
    ASSERT_PROP_U (objects, p, "org.gpuvirt.Device", "Class", cls);
    ASSERT_PROP_U (objects, p, "org.gpuvirt.Device", "Revision", hex (d, "revision", 0));
    ASSERT_PROP_S (objects, p, "org.gpuvirt.Device", "Driver", driver ? driver : "");
    ASSERT_PROP_S (objects, p, "org.gpuvirt.Device", "DriverOverride", override ? override : "");
    ASSERT_PROP_I (objects, p, "org.gpuvirt.Device", "IommuGroup",
                   no_iommu ? -1 : (int) json_object_get_int_member_with_default (d, "iommu_group", -1));
    ASSERT_PROP_I (objects, p, "org.gpuvirt.Device", "NumaNode",
                   (int) json_object_get_int_member_with_default (d, "numa_node", -1));
    {
      g_autoptr (GVariant) v = prop (objects, p, "org.gpuvirt.Device", "BootVga");
      g_assert_cmpint (g_variant_get_boolean (v), ==, json_object_get_boolean_member_with_default (d, "boot_vga", FALSE));
    }
    {
      /* display controllers are managed; so are their companions */
      g_autoptr (GVariant) v = prop (objects, p, "org.gpuvirt.Device", "Managed");
      if ((cls >> 16) == 0x03)
        g_assert_true (g_variant_get_boolean (v));
    }
    if (json_object_has_member (d, "sriov")) {
      JsonObject *sr = json_object_get_object_member (d, "sriov");
      guint numvfs = (guint) json_object_get_int_member_with_default (sr, "numvfs", 0);
      g_autoptr (GVariant) vfs = NULL;
      g_assert_true (has_iface (objects, p, "org.gpuvirt.Sriov"));
      ASSERT_PROP_U (objects, p, "org.gpuvirt.Sriov", "TotalVfs", json_object_get_int_member (sr, "totalvfs"));
      ASSERT_PROP_U (objects, p, "org.gpuvirt.Sriov", "NumVfs", numvfs);
      vfs = prop (objects, p, "org.gpuvirt.Sriov", "VirtualFunctions");
      g_assert_cmpuint (g_variant_n_children (vfs), ==, numvfs);
      expected += numvfs;
    } else {
      g_assert_false (has_iface (objects, p, "org.gpuvirt.Sriov"));
    }
    if (json_object_has_member (d, "vgpu")) {
      JsonObject *vg = json_object_get_object_member (d, "vgpu");
      const char *fw = json_object_get_string_member (vg, "framework");
      guint numvfs = json_object_has_member (d, "sriov")
                       ? (guint) json_object_get_int_member_with_default (json_object_get_object_member (d, "sriov"), "numvfs", 0)
                       : 0;
      /* an SR-IOV GPU shows its framework only once it has VFs */
      const char *want = (g_str_equal (fw, "mdev-pf") || numvfs > 0) ? fw : "pending";
      ASSERT_PROP_S (objects, p, "org.gpuvirt.Vgpu", "Framework", want);
      ASSERT_PROP_S (objects, p, "org.gpuvirt.Device", "VgpuFramework", want);
    }
    expected++;
  }
  /* nothing else is on the bus: the scenario's functions and their VFs */
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL))
    if (g_str_has_prefix (path, "/org/gpuvirt/devices/"))
      found++;
  g_assert_cmpuint (found, ==, expected);
}

static char *
scenario_file (const char *name)
{
  return g_strdup_printf ("%s/%s.json", SCENARIO_DIR, name);
}

static void
test_scenario (gconstpointer data)
{
  const char *name = data;
  g_autoptr (BusHarness) h = NULL;
  g_autoptr (GDBusConnection) c = NULL;
  g_autoptr (GVariant) objects = NULL;
  g_autofree char *file = scenario_file (name);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  /* read while privileged: the checkout need not be readable by nobody */
  json_parser_load_from_file (parser, file, &error);
  g_assert_no_error (error);
  if (g_test_subprocess ()) {
    /* the unprivileged half: reads work for anyone */
    struct passwd *pw = getpwnam ("nobody");
    g_assert_nonnull (pw);
    g_assert_cmpint (setresgid (pw->pw_gid, pw->pw_gid, pw->pw_gid), ==, 0);
    g_assert_cmpint (setresuid (pw->pw_uid, pw->pw_uid, pw->pw_uid), ==, 0);
    c = bus_harness_connect (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"));
    objects = managed_objects (c);
    check_against_scenario (objects, parser);
    return;
  }

  h = bus_harness_start (name);
  c = bus_harness_connect (h->address);
  objects = managed_objects (c);
  check_against_scenario (objects, parser);
  {
    g_autofree char *test_path = g_strdup_printf ("/bus/inventory/%s", name);
    g_test_trap_subprocess (test_path, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
  }
}

/* What workstation says beyond the raw facts: companions, verdict, holders. */
static void
test_workstation_derived (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) objects = managed_objects (c);
  g_autoptr (GVariant) companions = prop (objects, "/org/gpuvirt/devices/pci_0000_01_00_0", "org.gpuvirt.Device", "Companions");
  g_autoptr (GVariant) holders = prop (objects, "/org/gpuvirt/devices/pci_0000_01_00_0", "org.gpuvirt.Device", "Holders");
  g_autoptr (GVariant) gpu_of_audio = prop (objects, "/org/gpuvirt/devices/pci_0000_01_00_1", "org.gpuvirt.Device", "Gpu");
  g_autofree char *printed = g_variant_print (holders, FALSE);

  g_assert_cmpuint (g_variant_n_children (companions), ==, 3);
  ASSERT_PROP_S (objects, "/org/gpuvirt/devices/pci_0000_01_00_0", "org.gpuvirt.Device", "GroupVerdict", "viable");
  ASSERT_PROP_S (objects, "/org/gpuvirt/devices/pci_0000_01_00_0", "org.gpuvirt.Device", "Kind", "gpu");
  ASSERT_PROP_S (objects, "/org/gpuvirt/devices/pci_0000_01_00_1", "org.gpuvirt.Device", "Kind", "companion");
  ASSERT_PROP_S (objects, "/org/gpuvirt/devices/pci_0000_01_00_0", "org.gpuvirt.Device", "State", "host");
  g_assert_cmpstr (g_variant_get_string (gpu_of_audio, NULL), ==, "/org/gpuvirt/devices/pci_0000_01_00_0");
  g_assert_nonnull (strstr (printed, "'Xorg', '/dev/nvidia0'"));
  g_assert_nonnull (strstr (printed, "'/dev/dri/card1'"));
}

typedef struct {
  GMainLoop *loop;
  GVariant *changed;
} Waiter;

static void
on_properties_changed (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                       const char *signal, GVariant *params, gpointer data)
{
  Waiter *w = data;
  const char *changed_iface;

  g_variant_get (params, "(&s@a{sv}@as)", &changed_iface, &w->changed, NULL);
  if (!g_str_equal (changed_iface, "org.gpuvirt.Device")) {
    g_clear_pointer (&w->changed, g_variant_unref);
    return;
  }
  g_main_loop_quit (w->loop);
}

static gboolean
on_timeout (gpointer data)
{
  g_error ("no PropertiesChanged within 10 s");
  return G_SOURCE_REMOVE;
}

static void
test_refresh_announces (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GError) error = NULL;
  g_autofree char *unbind = sim_mount_path (h->mount, "sys/bus/pci/drivers/snd_hda_intel/unbind");
  Waiter w = { g_main_loop_new (NULL, FALSE), NULL };
  g_autoptr (GVariant) driver = NULL;
  g_autoptr (GVariant) state = NULL;
  guint sub, timeout;

  sub = g_dbus_connection_signal_subscribe (c, "org.gpuvirt", "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                            "/org/gpuvirt/devices/pci_0000_01_00_1", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                            on_properties_changed, &w, NULL);
  /* behind the daemon's back, as a plain echo would */
  g_assert_cmpint (sim_write_file (unbind, "0000:01:00.1"), ==, 0);
  g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager", "Refresh", NULL, NULL,
                               G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  g_assert_no_error (error);
  timeout = g_timeout_add_seconds (10, on_timeout, NULL);
  g_main_loop_run (w.loop);
  g_source_remove (timeout);
  driver = g_variant_lookup_value (w.changed, "Driver", G_VARIANT_TYPE_STRING);
  state = g_variant_lookup_value (w.changed, "State", G_VARIANT_TYPE_STRING);
  g_assert_nonnull (driver);
  g_assert_cmpstr (g_variant_get_string (driver, NULL), ==, "");
  g_assert_cmpstr (g_variant_get_string (state, NULL), ==, "unbound");
  g_dbus_connection_signal_unsubscribe (c, sub);
  g_variant_unref (w.changed);
  g_main_loop_unref (w.loop);
}

static void
test_get_device_errors (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  const char *bad[] = { "zz", "0000:01:00", "../../etc", "0000:01:00.8", "/org/gpuvirt/devices/nope", "" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) r = g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager", "GetDevice",
                                                          g_variant_new ("(s)", bad[i]), NULL, G_DBUS_CALL_FLAGS_NONE,
                                                          10000, NULL, &error);
    g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;
    g_assert_null (r);
    g_assert_cmpstr (remote, ==, "org.freedesktop.DBus.Error.InvalidArgs");
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) r = g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager", "GetDevice",
                                                          g_variant_new ("(s)", "0000:09:00.0"), NULL,
                                                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
    g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;
    g_assert_null (r);
    g_assert_cmpstr (remote, ==, "org.gpuvirt.Error.NoSuchDevice");
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) r = g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager", "GetDevice",
                                                          g_variant_new ("(s)", "01:00.0"), G_VARIANT_TYPE ("(o)"),
                                                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
    g_assert_no_error (error);
  }
}

/* This machine's own /sys, read only (gpuvirtd --read-only): what
 * `gpuvirtctl list --all --json` says equals what lspci -nnk says. */
static void
test_real_sys_matches_lspci (void)
{
  g_autoptr (BusHarness) h = bus_harness_start (NULL);
  const char *ctl[] = { g_getenv ("GPUVIRTCTL"), "list", "--all", "--json", NULL };
  const char *lspci[] = { "lspci", "-nnk", "-D", NULL };
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) want = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = NULL;
  JsonArray *devices;
  char *current = NULL;
  int status;

  g_assert_nonnull (ctl[0]);
  status = bus_harness_run (h, FALSE, ctl, &json, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_spawn_sync (NULL, (char **) lspci, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &text, NULL, &status, &error));
  g_assert_no_error (error);

  /* "0000:00:03.0 Ethernet controller [0200]: ... [1af4:1041] (rev 01)" then "\tKernel driver in use: x" */
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (lines[i][0] && lines[i][0] != '\t') {
      const char *end = strrchr (lines[i], ']');
      const char *start;
      g_autofree char *bdf = g_strndup (lines[i], 12);
      if (g_strrstr (lines[i], "] (rev"))
        end = g_strrstr (lines[i], "] (rev");
      start = end ? g_strrstr_len (lines[i], end - lines[i], "[") : NULL;
      g_assert_nonnull (start);
      current = g_strdup_printf ("%.*s|", (int) (end - start - 1), start + 1);
      g_hash_table_insert (want, g_steal_pointer (&bdf), current);
    } else if (current && g_str_has_prefix (lines[i], "\tKernel driver in use: ")) {
      char *with_driver = g_strconcat (current, lines[i] + strlen ("\tKernel driver in use: "), NULL);
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, want);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (value == current) {
          g_hash_table_iter_replace (&iter, with_driver);
          current = with_driver;
          break;
        }
    }
  }
  g_assert_cmpuint (g_hash_table_size (want), >, 0);

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  devices = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "Devices");
  g_assert_cmpuint (json_array_get_length (devices), ==, g_hash_table_size (want));
  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    const char *bdf = json_object_get_string_member (d, "Address");
    g_autofree char *got = g_strdup_printf ("%s:%s|%s", json_object_get_string_member (d, "VendorId"),
                                            json_object_get_string_member (d, "DeviceId"),
                                            json_object_get_string_member (d, "Driver"));
    g_test_message ("%s: gpuvirtctl %s, lspci %s", bdf, got, (char *) g_hash_table_lookup (want, bdf));
    g_assert_cmpstr (got, ==, g_hash_table_lookup (want, bdf));
  }
}

int
main (int argc, char **argv)
{
  const char *scenarios[] = { "workstation", "a40-mdev", "l40s-vendor-vfio", "big-host", "no-iommu", "qemu-testbed" };

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++) {
    g_autofree char *path = g_strdup_printf ("/bus/inventory/%s", scenarios[i]);
    g_test_add_data_func (path, scenarios[i], test_scenario);
  }
  g_test_add_func ("/bus/workstation-derived", test_workstation_derived);
  g_test_add_func ("/bus/refresh-announces", test_refresh_announces);
  g_test_add_func ("/bus/get-device-errors", test_get_device_errors);
  g_test_add_func ("/bus/real-sys-matches-lspci", test_real_sys_matches_lspci);
  return g_test_run ();
}
