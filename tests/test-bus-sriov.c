/* SetNumVfs over the bus, end to end, on the simulator: VFs appear and go
 * as objects, nothing is written when nothing changes or when the call is
 * refused, and kernel errors come back named. Also gpuvirtctl sriov. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <string.h>

#define L40S_EMPTY "0000:81:00.0"          /* starts with 0 of 32 VFs */
#define L40S_EMPTY_PATH "/org/gpuvirt/devices/pci_0000_81_00_0"
#define L40S_FULL "0000:01:00.0"           /* starts with 32 VFs */
#define L40S_FULL_PATH "/org/gpuvirt/devices/pci_0000_01_00_0"
#define WORKSTATION_GPU_PATH "/org/gpuvirt/devices/pci_0000_01_00_0"

/* The reply, or NULL with the remote error's name and message. */
static GVariant *
set_num_vfs (GDBusConnection *c, const char *path, guint count, GVariant *options, char **name, char **message)
{
  if (!options)
    options = g_variant_new ("a{sv}", NULL);
  return bus_harness_call (c, path, "org.gpuvirt.Sriov", "SetNumVfs", g_variant_new ("(u@a{sv})", count, options),
                           G_VARIANT_TYPE ("(ao)"), name, message);
}

static void
allow (BusHarness *h)
{
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-sriov", NULL });
}

static char *
vf_path (const char *bus_slot, guint i)
{
  /* L40S: offset 4, stride 1 */
  guint devfn = 4 + i;
  return g_strdup_printf ("/org/gpuvirt/devices/pci_0000_%s_%02x_%x", bus_slot, devfn >> 3, devfn & 7);
}

static void
test_enable_change_disable (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  BusHarnessSignals seen;

  allow (h);
  bus_harness_signals_start (&seen, c);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_EMPTY), ==, 0);

  /* 0 -> 4: four objects appear */
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 4, NULL, &name, &message);
  if (!reply)
    g_error ("SetNumVfs 4 failed: %s %s", name, message);
  bus_harness_drain ();
  {
    g_autoptr (GVariant) vfs = g_variant_get_child_value (reply, 0);
    g_autoptr (GVariant) prop = bus_harness_get_property (c, L40S_EMPTY_PATH, "org.gpuvirt.Sriov", "VirtualFunctions");
    g_assert_cmpuint (g_variant_n_children (vfs), ==, 4);
    g_assert_true (g_variant_equal (vfs, prop));
    for (guint i = 0; i < 4; i++) {
      g_autofree char *p = vf_path ("81", i);
      g_autoptr (GVariant) child = g_variant_get_child_value (vfs, i);
      g_assert_cmpstr (g_variant_get_string (child, NULL), ==, p);
      if (!bus_harness_paths_contain (seen.added, p))
        g_error ("no InterfacesAdded for %s", p);
    }
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_EMPTY), ==, 4);
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_EMPTY "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "4");
  }

  /* 4 again: nothing written */
  bus_harness_clear_sim_log (h);
  g_clear_pointer (&reply, g_variant_unref);
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 4, NULL, &name, &message);
  if (!reply)
    g_error ("SetNumVfs 4 again failed: %s %s", name, message);
  {
    g_autoptr (GVariant) vfs = g_variant_get_child_value (reply, 0);
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpuint (g_variant_n_children (vfs), ==, 4);
    g_assert_cmpstr (log, ==, "");
  }

  /* 4 -> 2: through 0 */
  g_ptr_array_set_size (seen.added, 0);
  g_ptr_array_set_size (seen.removed, 0);
  g_clear_pointer (&reply, g_variant_unref);
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 2, NULL, &name, &message);
  if (!reply)
    g_error ("SetNumVfs 2 failed: %s %s", name, message);
  bus_harness_drain ();
  {
    g_autoptr (GVariant) vfs = g_variant_get_child_value (reply, 0);
    g_autofree char *log = bus_harness_sim_log (h);
    g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
    guint writes = 0;
    g_assert_cmpuint (g_variant_n_children (vfs), ==, 2);
    for (guint i = 0; lines[i]; i++)
      if (strstr (lines[i], "sriov_numvfs")) {
        g_test_message ("%s", lines[i]);
        g_assert_nonnull (strstr (lines[i], writes == 0 ? "\"0\"" : "\"2\""));
        writes++;
      }
    g_assert_cmpuint (writes, ==, 2);
    for (guint i = 2; i < 4; i++) {
      g_autofree char *p = vf_path ("81", i);
      g_assert_true (bus_harness_paths_contain (seen.removed, p));
    }
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_EMPTY), ==, 2);

  /* off: the objects go */
  g_ptr_array_set_size (seen.removed, 0);
  g_clear_pointer (&reply, g_variant_unref);
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 0, NULL, &name, &message);
  if (!reply)
    g_error ("SetNumVfs 0 failed: %s %s", name, message);
  bus_harness_drain ();
  {
    g_autoptr (GVariant) vfs = g_variant_get_child_value (reply, 0);
    g_autoptr (GVariant) prop = bus_harness_get_property (c, L40S_EMPTY_PATH, "org.gpuvirt.Sriov", "VirtualFunctions");
    g_assert_cmpuint (g_variant_n_children (vfs), ==, 0);
    g_assert_cmpuint (g_variant_n_children (prop), ==, 0);
    for (guint i = 0; i < 2; i++) {
      g_autofree char *p = vf_path ("81", i);
      g_assert_true (bus_harness_paths_contain (seen.removed, p));
    }
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_EMPTY), ==, 0);

  bus_harness_signals_stop (&seen, c);
}

static void
test_refused (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autofree char *log = NULL;

  allow (h);
  /* a VF of the full GPU carries a vGPU type */
  g_assert_cmpint (bus_harness_write_sim (h, "sys/bus/pci/devices/0000:01:00.4/nvidia/current_vgpu_type", "1155"), ==, 0);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) done = g_dbus_connection_call_sync (c, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Manager",
                                                             "Refresh", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 60000, NULL,
                                                             &error);
    g_assert_no_error (error);
  }
  bus_harness_clear_sim_log (h);
  reply = set_num_vfs (c, L40S_FULL_PATH, 0, NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.InUse");
  if (!strstr (message, "0000:01:00.4") || !strstr (message, "1155"))
    g_error ("InUse does not name the VF and its type: %s", message);
  log = bus_harness_sim_log (h);
  g_assert_cmpstr (log, ==, "");
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_FULL), ==, 32);
  /* changing the count would remove it too */
  reply = set_num_vfs (c, L40S_FULL_PATH, 8, NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.InUse");

  /* above TotalVfs */
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 33, NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
  g_assert_nonnull (strstr (message, "32"));

  /* unknown option, wrong type */
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 1, g_variant_new_parsed ("{'frobnicate': <true>}"), &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 1, g_variant_new_parsed ("{'timeout-ms': <'x'>}"), &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
  /* persist is a boolean (what it does: test-bus-persist.c) */
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 1, g_variant_new_parsed ("{'persist': <'yes'>}"), &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
  g_clear_pointer (&log, g_free);
  log = bus_harness_sim_log (h);
  g_assert_cmpstr (log, ==, "");

  /* a kernel error: named, and NumVfs as it was */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/devices/*/sriov_numvfs errno=EIO"), ==, 0);
  reply = set_num_vfs (c, L40S_EMPTY_PATH, 2, NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.KernelError");
  if (!strstr (message, "EIO") || !strstr (message, "is 0"))
    g_error ("KernelError without errno or end state: %s", message);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_EMPTY), ==, 0);
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_EMPTY "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "0");
  }
}

static void
test_not_supported (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  allow (h);
  reply = set_num_vfs (c, WORKSTATION_GPU_PATH, 2, NULL, &name, &message);
  g_assert_null (reply);
  g_assert_cmpstr (name, ==, "org.gpuvirt.Error.NotSupported");
  g_assert_nonnull (strstr (message, "SR-IOV"));
}

static void
test_polkit_denied (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  const char *argv[] = { "busctl", "--system", "call", "org.gpuvirt", L40S_EMPTY_PATH, "org.gpuvirt.Sriov", "SetNumVfs",
                         "ua{sv}", "2", "0", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *log = NULL;
  int status;

  bus_harness_clear_sim_log (h);
  status = bus_harness_run (h, TRUE, argv, &out, &err);
  g_assert_cmpint (status, !=, 0);
  if (!strstr (err, "Access denied"))
    g_error ("denied call said: %s", err);
  log = bus_harness_sim_log (h);
  g_assert_cmpstr (log, ==, "");

  /* the same caller, now allowed */
  allow (h);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = bus_harness_run (h, TRUE, argv, &out, &err);
  if (status != 0)
    g_error ("allowed SetNumVfs failed: %s", err);
  g_assert_nonnull (strstr (out, "ao 2"));
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_EMPTY "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "2");
  }
}

static void
test_client (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  const char *ctl = g_getenv ("GPUVIRTCTL");
  const char *show[] = { ctl, "sriov", L40S_EMPTY, "--json=short", NULL };
  const char *enable[] = { ctl, "sriov", L40S_EMPTY, "3", NULL };
  const char *off[] = { ctl, "sriov", L40S_EMPTY, "off", "--json=short", NULL };
  const char *bad[] = { ctl, "sriov", L40S_EMPTY, "many", NULL };
  const char *nosriov[] = { ctl, "sriov", "0000:42:00.0", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_nonnull (ctl);
  allow (h);
  status = bus_harness_run (h, FALSE, show, &out, &err);
  g_test_message ("show: %d %s %s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\"TotalVfs\":32"));
  g_assert_nonnull (strstr (out, "\"NumVfs\":0"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = bus_harness_run (h, FALSE, enable, &out, &err);
  g_test_message ("enable: %d %s %s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "0000:81:00.6"));
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_EMPTY "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "3");
  }

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = bus_harness_run (h, FALSE, off, &out, &err);
  g_test_message ("off: %d %s %s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\"NumVfs\":0"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = bus_harness_run (h, FALSE, bad, &out, &err);
  g_assert_cmpint (status, ==, 2);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = bus_harness_run (h, FALSE, nosriov, &out, &err);
  g_test_message ("no SR-IOV: %d %s %s", status, out, err);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "SR-IOV"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sriov/enable-change-disable", test_enable_change_disable);
  g_test_add_func ("/sriov/refused", test_refused);
  g_test_add_func ("/sriov/not-supported", test_not_supported);
  g_test_add_func ("/sriov/polkit-denied", test_polkit_denied);
  g_test_add_func ("/sriov/client", test_client);
  return g_test_run ();
}
