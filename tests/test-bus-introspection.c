/* The daemon's live introspection agrees with the contract in dbus/:
 * every member it implements is in the interface XML with the same
 * arguments, types, access and change-signal annotation. Members of the
 * contract not implemented yet are listed, not failed. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <string.h>

static GDBusNodeInfo *
introspect (GDBusConnection *c, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (c, "org.gpuvirt", path, "org.freedesktop.DBus.Introspectable",
                                                             "Introspect", NULL, G_VARIANT_TYPE ("(s)"),
                                                             G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  const char *xml;
  GDBusNodeInfo *node;

  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  return node;
}

static GDBusInterfaceInfo *
contract (const char *iface, GDBusNodeInfo **keep)
{
  g_autofree char *file = g_strdup_printf ("%s/%s.xml", CONTRACT_DIR, iface);
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (file, &xml, NULL, &error))
    g_error ("the contract has no %s: %s", file, error->message);
  *keep = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  return g_dbus_node_info_lookup_interface (*keep, iface);
}

static const char *
emits (GDBusAnnotationInfo **annotations)
{
  const char *v = g_dbus_annotation_info_lookup (annotations, "org.freedesktop.DBus.Property.EmitsChangedSignal");
  return v ? v : "true";   /* the D-Bus default */
}

static void
compare_args (const char *what, GDBusArgInfo **live, GDBusArgInfo **want)
{
  guint n = 0;

  for (; live && live[n]; n++) {
    if (!want || !want[n])
      g_error ("%s: argument %s is not in the contract", what, live[n]->name);
    g_assert_cmpstr (live[n]->name, ==, want[n]->name);
    g_assert_cmpstr (live[n]->signature, ==, want[n]->signature);
  }
  if (want && want[n])
    g_error ("%s: the contract has argument %s too", what, want[n]->name);
}

static guint
check_interface (GDBusInterfaceInfo *live)
{
  g_autoptr (GDBusNodeInfo) keep = NULL;
  GDBusInterfaceInfo *want = contract (live->name, &keep);
  guint implemented = 0, total = 0;

  g_assert_nonnull (want);
  for (guint i = 0; live->methods && live->methods[i]; i++) {
    GDBusMethodInfo *m = live->methods[i];
    GDBusMethodInfo *w = g_dbus_interface_info_lookup_method (want, m->name);
    g_autofree char *what = g_strdup_printf ("%s.%s()", live->name, m->name);
    if (!w)
      g_error ("%s is implemented but not in the contract", what);
    compare_args (what, m->in_args, w->in_args);
    compare_args (what, m->out_args, w->out_args);
    implemented++;
  }
  for (guint i = 0; live->properties && live->properties[i]; i++) {
    GDBusPropertyInfo *p = live->properties[i];
    GDBusPropertyInfo *w = g_dbus_interface_info_lookup_property (want, p->name);
    if (!w)
      g_error ("%s.%s is implemented but not in the contract", live->name, p->name);
    if (!g_str_equal (p->signature, w->signature) || p->flags != w->flags)
      g_error ("%s.%s: live %s flags %d, contract %s flags %d", live->name, p->name, p->signature, p->flags,
               w->signature, w->flags);
    if (!g_str_equal (emits (p->annotations), emits (w->annotations)))
      g_error ("%s.%s: live EmitsChangedSignal=%s, contract says %s", live->name, p->name, emits (p->annotations),
               emits (w->annotations));
    implemented++;
  }
  for (guint i = 0; live->signals && live->signals[i]; i++) {
    GDBusSignalInfo *s = live->signals[i];
    GDBusSignalInfo *w = g_dbus_interface_info_lookup_signal (want, s->name);
    g_autofree char *what = g_strdup_printf ("signal %s.%s", live->name, s->name);
    if (!w)
      g_error ("%s is implemented but not in the contract", what);
    compare_args (what, s->args, w->args);
    implemented++;
  }
  /* what the contract has that the daemon does not serve yet */
  for (guint i = 0; want->methods && want->methods[i]; i++, total++)
    if (!g_dbus_interface_info_lookup_method (live, want->methods[i]->name))
      g_test_message ("not implemented yet: %s.%s()", want->name, want->methods[i]->name);
  for (guint i = 0; want->properties && want->properties[i]; i++, total++)
    if (!g_dbus_interface_info_lookup_property (live, want->properties[i]->name))
      g_test_message ("not implemented yet: %s.%s", want->name, want->properties[i]->name);
  for (guint i = 0; want->signals && want->signals[i]; i++, total++)
    ;
  g_test_message ("%s: %u members live, %u in the contract", live->name, implemented, total);
  return implemented;
}

static guint
check_object (GDBusConnection *c, const char *path, const char *const *must_have)
{
  g_autoptr (GDBusNodeInfo) node = introspect (c, path);
  guint checked = 0;

  for (guint i = 0; must_have[i]; i++)
    if (!g_dbus_node_info_lookup_interface (node, must_have[i]))
      g_error ("%s does not carry %s", path, must_have[i]);
  for (guint i = 0; node->interfaces && node->interfaces[i]; i++)
    if (g_str_has_prefix (node->interfaces[i]->name, "org.gpuvirt."))
      checked += check_interface (node->interfaces[i]);
  return checked;
}

static void
test_introspection (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GError) error = NULL;
  g_autofree char *numvfs = sim_mount_path (h->mount, "sys/bus/pci/devices/0000:e8:00.0/sriov_numvfs");
  g_autofree char *create = NULL;
  guint checked = 0;

  /* an mdev exists so that its object can be checked too */
  g_assert_cmpint (sim_write_file (numvfs, "1"), ==, 0);
  create = sim_mount_path (h->mount, "sys/class/mdev_bus/0000:e8:00.4/mdev_supported_types/nvidia-558/create");
  g_assert_cmpint (sim_write_file (create, "2f82ee72-3ac5-4615-9c0b-327c12e8c83d"), ==, 0);
  g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager", "Refresh", NULL, NULL,
                               G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  g_assert_no_error (error);

  checked += check_object (c, "/org/gpuvirt", (const char *const[]) { "org.gpuvirt.Manager", "org.freedesktop.DBus.ObjectManager", NULL });
  checked += check_object (c, "/org/gpuvirt/devices/pci_0000_e8_00_0",
                           (const char *const[]) { "org.gpuvirt.Device", "org.gpuvirt.Sriov", "org.gpuvirt.Vgpu", NULL });
  checked += check_object (c, "/org/gpuvirt/devices/pci_0000_e8_00_4",
                           (const char *const[]) { "org.gpuvirt.Device", "org.gpuvirt.Vgpu", NULL });
  checked += check_object (c, "/org/gpuvirt/mdevs/2f82ee72_3ac5_4615_9c0b_327c12e8c83d",
                           (const char *const[]) { "org.gpuvirt.Mdev", NULL });
  g_assert_cmpuint (checked, >, 40);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus/introspection-matches-contract", test_introspection);
  return g_test_run ();
}
