/* libvirt integration (issue 16), end to end on the simulated host:
 * `gpuvirtctl export libvirt` (a golden file, and virt-xml-validate on a
 * domain holding its output), the libvirt hook's decisions against the
 * real gpuvirtd, the doctor's libvirt rows, and `config import driverctl`
 * and `mdevctl`. One part per test() in meson. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define GPU "0000:01:00.0"

static char *
data_file (const char *name)
{
  g_autofree char *path = g_build_filename (LIBVIRT_TEST_DIR, name, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("%s", error->message);
  return text;
}

/* A minimal q35 domain around DEVICES and METADATA, as virsh define takes it. */
static char *
domain_xml (const char *name, const char *metadata, const char *devices)
{
  return g_strdup_printf ("<domain type='qemu'>\n"
                          "  <name>%s</name>\n"
                          "  <uuid>%s</uuid>\n"
                          "  <memory unit='MiB'>64</memory>\n"
                          "%s%s%s"
                          "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n"
                          "  <devices>\n%s  </devices>\n"
                          "</domain>\n",
                          name, "c7a5fdbd-edaf-9455-926a-d65c16db1809", metadata ? "  <metadata>\n" : "",
                          metadata ? metadata : "", metadata ? "  </metadata>\n" : "", devices ? devices : "");
}

/* virt-xml-validate (libvirt-clients) on XML as a domain; missing, it fails. */
static void
assert_valid_domain (BusHarness *h, const char *xml)
{
  g_autofree char *file = g_build_filename (h->dir, "domain-under-test.xml", NULL);
  const char *argv[] = { "virt-xml-validate", file, "domain", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_assert_true (g_file_set_contents (file, xml, -1, NULL));
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error))
    g_error ("virt-xml-validate (package libvirt-clients) could not run: %s", error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("virt-xml-validate refused the domain:\n%s\n%s%s", xml, out, err);
  g_test_message ("virt-xml-validate: %s", g_strstrip (out));
}

/* export --json's Devices and Metadata. */
static void
export_json (BusHarness *h, const char *arg, char **devices, char **metadata, char **kind)
{
  BusHarnessCtlRun run = { 0 };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *o;

  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", arg, "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, run.out, -1, &error));
  o = json_node_get_object (json_parser_get_root (parser));
  *devices = g_strdup (json_object_get_string_member (o, "Devices"));
  *metadata = g_strdup (json_object_get_string_member (o, "Metadata"));
  if (kind)
    *kind = g_strdup (json_object_get_string_member (o, "Kind"));
  bus_harness_ctl_run_clear (&run);
}

/* ---- export ---- */

static void
test_export_gpu (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  BusHarnessCtlRun run = { 0 };
  g_autofree char *golden = data_file ("workstation-export.xml");
  g_autofree char *devices = NULL;
  g_autofree char *metadata = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *domain = NULL;

  /* a companion stands for its GPU: the same four functions, GPU first */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", "01:00.1", NULL), ==, 0);
  g_assert_cmpstr (run.out, ==, golden);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", GPU, NULL), ==, 0);
  g_assert_cmpstr (run.out, ==, golden);
  /* another guest bus */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", GPU, "--guest-bus=0x07", NULL), ==, 0);
  g_assert_nonnull (strstr (run.out, "bus='0x07' slot='0x00' function='0x0' multifunction='on'"));
  g_assert_cmpint (bus_harness_count_lines (run.out, "bus='0x07'"), ==, 4);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", GPU, "--guest-bus=0", NULL), ==, 2);
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "xen", GPU, NULL), ==, 2);
  g_assert_nonnull (strstr (run.err, "libvirt"));
  /* not managed (the NVMe): refused, no XML */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", "02:00.0", NULL), ==, 6);
  g_assert_cmpstr (run.out, ==, "");
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", "0000:77:00.0", NULL), ==, 3);

  export_json (h, GPU, &devices, &metadata, &kind);
  g_assert_cmpstr (kind, ==, "pci");
  g_assert_nonnull (strstr (golden, devices));
  g_assert_nonnull (strstr (golden, metadata));
  domain = domain_xml ("gpuvirt-test", metadata, devices);
  assert_valid_domain (h, domain);
  bus_harness_assert_no_writes (h);
  bus_harness_ctl_run_clear (&run);
}

static void
test_export_vgpu (void)
{
  BusHarnessCtlRun run = { 0 };
  g_autofree char *devices = NULL;
  g_autofree char *metadata = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *domain = NULL;
  const char *uuid = "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f";

  {
    /* an mdev on an A40's VF: by UUID (any case) and by the VF */
    g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
    const char *const allow[] = { "org.gpuvirt.configure-vgpu", "org.gpuvirt.configure-sriov", NULL };
    g_autofree char *upper = g_ascii_strup (uuid, -1);

    bus_harness_polkit_allow (h, allow);
    g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "vgpu", "create", "0000:67:00.0", "A40-8Q", "--uuid", uuid,
                                      "--num-vfs=4", NULL), ==, 0);
    export_json (h, upper, &devices, &metadata, &kind);
    g_assert_cmpstr (kind, ==, "mdev");
    g_assert_nonnull (strstr (devices, "type='mdev' model='vfio-pci'"));
    g_assert_nonnull (strstr (devices, uuid));
    g_assert_nonnull (strstr (metadata, "<gpuvirt:mdev uuid='5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f' parent='0000:67:00.4' type='nvidia-"));
    domain = domain_xml ("gpuvirt-mdev", metadata, devices);
    assert_valid_domain (h, domain);
    g_clear_pointer (&devices, g_free);
    g_clear_pointer (&metadata, g_free);
    g_clear_pointer (&kind, g_free);
    export_json (h, "0000:67:00.4", &devices, &metadata, &kind);
    g_assert_cmpstr (kind, ==, "mdev");
    g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "export", "libvirt", "6b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f", NULL),
                     ==, 3);
  }
  g_clear_pointer (&devices, g_free);
  g_clear_pointer (&metadata, g_free);
  g_clear_pointer (&kind, g_free);
  g_clear_pointer (&domain, g_free);
  {
    /* a vendor-VFIO VF with a type: managed='no', the type in the metadata */
    g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
    const char *const allow[] = { "org.gpuvirt.configure-vgpu", "org.gpuvirt.configure-sriov", NULL };

    bus_harness_polkit_allow (h, allow);
    g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "vgpu", "create", "0000:01:00.0", "L40S-24Q", NULL), ==, 0);
    export_json (h, "0000:01:00.4", &devices, &metadata, &kind);
    g_assert_cmpstr (kind, ==, "vendor-vfio");
    g_assert_nonnull (strstr (devices, "managed='no'"));
    g_assert_nonnull (strstr (devices, "bus='0x01' slot='0x00' function='0x4'"));
    g_assert_null (strstr (devices, "multifunction"));
    g_assert_nonnull (strstr (metadata, "<gpuvirt:vf address='0000:01:00.4' type='"));
    domain = domain_xml ("gpuvirt-vf", metadata, devices);
    assert_valid_domain (h, domain);
  }
  bus_harness_ctl_run_clear (&run);
}


/* ---- the hook ---- */

/* Runs the hook as libvirt does (root, the XML on stdin) with its record
 * in the harness's directory; returns its exit status. */
static int
run_hook (BusHarness *h, const char *xml, const char *name, const char *op, const char *subop, char **err)
{
  g_autofree char *file = g_build_filename (h->dir, "hook-input.xml", NULL);
  g_autofree char *state = g_build_filename (h->dir, "hook-state", NULL);
  g_autofree char *script = g_strdup_printf ("GPUVIRT_HOOK_STATE_DIR='%s' exec \"$0\" \"$@\" - < '%s'", state, file);
  const char *argv[] = { "/bin/sh", "-c", script, g_getenv ("GPUVIRT_LIBVIRT_HOOK"), name, op, subop, NULL };
  g_autofree char *out = NULL;
  g_autofree char *e = NULL;
  int status;

  g_assert_nonnull (argv[3]);
  g_assert_true (g_file_set_contents (file, xml, -1, NULL));
  status = bus_harness_run (h, FALSE, argv, &out, &e);
  g_test_message ("hook %s %s %s -> %d\nstdout: %s\nstderr: %s", name, op, subop, status, out, e);
  /* libvirt shows stderr; stdout stays empty (it would be taken as XML at migrate) */
  g_assert_cmpstr (out, ==, "");
  if (err)
    *err = g_steal_pointer (&e);
  return status;
}

static char *
record_of (BusHarness *h)
{
  g_autofree char *path = g_build_filename (h->dir, "hook-state", "c7a5fdbd-edaf-9455-926a-d65c16db1809", NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static char *
driver_of (BusHarness *h, const char *bdf)
{
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  return bus_harness_device_string (c, bdf, "org.gpuvirt.Device", "Driver");
}

static void
assert_drivers (BusHarness *h, const char *const *bdfs, const char *const *drivers)
{
  for (guint i = 0; bdfs[i]; i++) {
    g_autofree char *driver = driver_of (h, bdfs[i]);
    g_assert_cmpstr (driver, ==, drivers[i]);
  }
}

static const char *const ws_functions[] = { "0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3", NULL };
static const char *const ws_host[] = { "nvidia", "snd_hda_intel", "xhci_hcd", "nvidia-gpu", NULL };
static const char *const ws_vfio[] = { "vfio-pci", "vfio-pci", "vfio-pci", "vfio-pci", NULL };

#define GPU_HOSTDEV(managed)                                                                                          \
  "<hostdev mode='subsystem' type='pci' managed='" managed "'><source>"                                             \
  "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>\n"
#define OPT_IN "<gv:vm xmlns:gv='https://gpuvirt.org/xmlns/libvirt/1'/>\n"

static void
test_hook_passthrough (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autofree char *plain = domain_xml ("plain", NULL, GPU_HOSTDEV ("no"));
  g_autofree char *yes = domain_xml ("yes", OPT_IN, GPU_HOSTDEV ("yes"));
  /* the GPU alone: its companions follow it; plus a function gpuvirt does not manage */
  g_autofree char *vm = domain_xml ("win11", OPT_IN,
                                    GPU_HOSTDEV ("no")
                                    "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                    "<address domain='0' bus='2' slot='0' function='0'/></source></hostdev>\n");
  g_autofree char *err = NULL;
  g_autofree char *record = NULL;

  bus_harness_clear_sim_log (h);
  /* without the opt-in: nothing at all, whatever the operation */
  g_assert_cmpint (run_hook (h, plain, "plain", "prepare", "begin", NULL), ==, 0);
  g_assert_cmpint (run_hook (h, plain, "plain", "release", "end", NULL), ==, 0);
  /* other operations of an opted-in domain: nothing */
  g_assert_cmpint (run_hook (h, vm, "win11", "start", "begin", NULL), ==, 0);
  g_assert_cmpint (run_hook (h, vm, "win11", "stopped", "end", NULL), ==, 0);
  bus_harness_assert_no_writes (h);
  g_assert_null (record_of (h));

  /* Xorg holds the GPU: refused with gpuvirtd's reason, nothing changed */
  g_assert_cmpint (run_hook (h, vm, "win11", "prepare", "begin", &err), ==, 1);
  g_assert_nonnull (strstr (err, "Xorg"));
  g_assert_nonnull (strstr (err, "Nothing was changed"));
  bus_harness_assert_no_writes (h);
  assert_drivers (h, ws_functions, ws_host);
  g_assert_null (record_of (h));
  g_clear_pointer (&err, g_free);

  /* managed='yes' on a GPU gpuvirt manages: refused before anything */
  g_assert_cmpint (run_hook (h, yes, "yes", "prepare", "begin", &err), ==, 1);
  g_assert_nonnull (strstr (err, "managed='yes'"));
  g_assert_nonnull (strstr (err, "gpuvirtctl export libvirt 0000:01:00.0"));
  bus_harness_assert_no_writes (h);
  g_clear_pointer (&err, g_free);

  /* the display closes the GPU: bound with its companions, recorded */
  bus_harness_write_sim (h, ".sim/holders", "remove 1834");
  bus_harness_write_sim (h, ".sim/holders", "remove 1102");
  g_assert_cmpint (run_hook (h, vm, "win11", "prepare", "begin", NULL), ==, 0);
  assert_drivers (h, ws_functions, ws_vfio);
  record = record_of (h);
  g_assert_nonnull (record);
  g_assert_nonnull (strstr (record, "Bound=0000:01:00.0;"));
  g_clear_pointer (&record, g_free);
  /* the NVMe (not managed) was left alone */
  {
    g_autofree char *nvme = driver_of (h, "0000:02:00.0");
    g_assert_cmpstr (nvme, ==, "nvme");
  }

  /* libvirt retries: a second prepare changes nothing and keeps the record */
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (run_hook (h, vm, "win11", "prepare", "begin", NULL), ==, 0);
  bus_harness_assert_no_writes (h);
  record = record_of (h);
  g_assert_nonnull (record);
  g_clear_pointer (&record, g_free);

  /* a VM holds it: another domain's prepare is refused naming it */
  {
    g_autofree char *other = g_strdup (vm);
    g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
    g_autofree char *node = bus_harness_device_string (c, GPU, "org.gpuvirt.Device", "VfioGroupNode");
    g_autofree char *add = g_strdup_printf ("add 4321 qemu-system-x86 %s", node);
    g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", add), ==, 0);
    /* gpuvirtd reads holders again after 250 ms */
    g_usleep (300 * 1000);
    bus_harness_clear_sim_log (h);
    g_assert_cmpint (run_hook (h, other, "win11", "prepare", "begin", &err), ==, 1);
    g_assert_nonnull (strstr (err, "qemu-system-x86 (4321)"));
    bus_harness_assert_no_writes (h);
    bus_harness_write_sim (h, ".sim/holders", "remove 4321");
    g_usleep (300 * 1000);
    g_clear_pointer (&err, g_free);
  }

  /* release: every function back to the driver it had, the record gone */
  g_assert_cmpint (run_hook (h, vm, "win11", "release", "end", NULL), ==, 0);
  assert_drivers (h, ws_functions, ws_host);
  g_assert_null (record_of (h));
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (run_hook (h, vm, "win11", "release", "end", NULL), ==, 0);
  bus_harness_assert_no_writes (h);

  /* a device the configuration's boot plan bound (on vfio-pci before
   * prepare) is not prepare's: release leaves it there */
  {
    const char *argv[] = { g_getenv ("GPUVIRTCTL"), "bind", GPU, NULL };
    g_autofree char *o = NULL;
    g_autofree char *e = NULL;
    g_assert_cmpint (bus_harness_run (h, FALSE, argv, &o, &e), ==, 0);
  }
  g_assert_cmpint (run_hook (h, vm, "win11", "prepare", "begin", NULL), ==, 0);
  g_assert_null (record_of (h));
  g_assert_cmpint (run_hook (h, vm, "win11", "release", "end", NULL), ==, 0);
  assert_drivers (h, ws_functions, ws_vfio);

  /* gpuvirtd gone and not activatable (this private bus has no activation
   * file): a clear message, nothing changed */
  {
    int status = -1;
    kill (h->daemon_pid, SIGTERM);
    g_assert_cmpint (waitpid (h->daemon_pid, &status, 0), ==, h->daemon_pid);
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    g_spawn_close_pid (h->daemon_pid);
    h->daemon_pid = 0;
  }
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (run_hook (h, vm, "second", "prepare", "begin", &err), ==, 1);
  g_assert_nonnull (strstr (err, "gpuvirtd is not available"));
  g_assert_nonnull (strstr (err, "nothing was changed"));
  bus_harness_assert_no_writes (h);
}

static void
test_hook_vgpu (void)
{
  const char *uuid = "8a2f4c1e-0b3d-4e5f-9a6b-7c8d9e0f1a2b";
  g_autofree char *err = NULL;

  {
    /* a T4 (mdevs on the GPU): prepare makes the mdev with the domain's UUID */
    g_autoptr (BusHarness) h = bus_harness_start ("big-host");
    g_autofree char *devices = g_strdup_printf ("<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
                                                "<address uuid='%s'/></source></hostdev>\n", uuid);
    g_autofree char *meta = g_strdup_printf ("<gv:vm xmlns:gv='https://gpuvirt.org/xmlns/libvirt/1'>"
                                             "<gv:mdev uuid='%s' parent='0000:c8:00.0' type='nvidia-231'/></gv:vm>\n",
                                             uuid);
    g_autofree char *vm = domain_xml ("vgpu", meta, devices);
    g_autofree char *bare = domain_xml ("vgpu", OPT_IN, devices);
    g_autofree char *record = NULL;
    g_autofree char *rel = g_strdup_printf ("sys/bus/mdev/devices/%s/mdev_type/name", uuid);

    /* no type for a missing mdev: refused, nothing made */
    bus_harness_clear_sim_log (h);
    g_assert_cmpint (run_hook (h, bare, "vgpu", "prepare", "begin", &err), ==, 1);
    g_assert_nonnull (strstr (err, "<gpuvirt:mdev"));
    bus_harness_assert_no_writes (h);
    g_clear_pointer (&err, g_free);

    g_assert_cmpint (run_hook (h, vm, "vgpu", "prepare", "begin", NULL), ==, 0);
    {
      g_autofree char *name = bus_harness_read_sim (h, rel);
      g_assert_cmpstr (name, !=, "");
    }
    record = record_of (h);
    g_assert_nonnull (strstr (record, uuid));
    bus_harness_clear_sim_log (h);
    g_assert_cmpint (run_hook (h, vm, "vgpu", "prepare", "begin", NULL), ==, 0);
    bus_harness_assert_no_writes (h);
    g_assert_cmpint (run_hook (h, vm, "vgpu", "release", "end", NULL), ==, 0);
    {
      g_autofree char *name = bus_harness_read_sim (h, rel);
      g_assert_cmpstr (name, ==, "");
    }
    g_assert_null (record_of (h));
  }
  {
    /* a vendor-VFIO VF: prepare gives it the type and leaves it on nvidia */
    g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
    g_autofree char *vm = domain_xml ("vf",
                                      "<gv:vm xmlns:gv='https://gpuvirt.org/xmlns/libvirt/1'>"
                                      "<gv:vf address='0000:01:00.4' type='L40S-24Q'/></gv:vm>\n",
                                      "<hostdev mode='subsystem' type='pci' managed='no'><source>"
                                      "<address domain='0x0000' bus='0x01' slot='0x00' function='0x4'/>"
                                      "</source></hostdev>\n");
    g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
    g_autofree char *type = NULL;
    g_autofree char *driver = NULL;

    g_assert_cmpint (run_hook (h, vm, "vf", "prepare", "begin", NULL), ==, 0);
    type = bus_harness_device_string (c, "0000:01:00.4", "org.gpuvirt.Vgpu", "CurrentTypeName");
    g_assert_cmpstr (type, ==, "NVIDIA L40S-24Q");
    driver = driver_of (h, "0000:01:00.4");
    g_assert_cmpstr (driver, ==, "nvidia");
    bus_harness_clear_sim_log (h);
    g_assert_cmpint (run_hook (h, vm, "vf", "prepare", "begin", NULL), ==, 0);
    bus_harness_assert_no_writes (h);
    g_assert_cmpint (run_hook (h, vm, "vf", "release", "end", NULL), ==, 0);
    g_clear_pointer (&type, g_free);
    type = bus_harness_device_string (c, "0000:01:00.4", "org.gpuvirt.Vgpu", "CurrentType");
    g_assert_cmpstr (type, ==, "");
    g_assert_null (record_of (h));
  }
}

/* ---- doctor ---- */

static void
put (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* The rows of `gpuvirtctl doctor --json` (as nobody) about SUBJECT: "id severity" each. */
static char *
doctor_rows (BusHarness *h, const char *subject, char **fixes)
{
  BusHarnessCtlRun run = { 0 };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GString) rows = g_string_new (NULL);
  g_autoptr (GString) fix = g_string_new (NULL);
  JsonArray *findings;

  bus_harness_ctl (h, TRUE, &run, "doctor", "--json", NULL);
  g_assert_true (json_parser_load_from_data (parser, run.out, -1, NULL));
  findings = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "Findings");
  for (guint i = 0; i < json_array_get_length (findings); i++) {
    JsonObject *f = json_array_get_object_element (findings, i);
    if (!g_str_equal (json_object_get_string_member (f, "Subject"), subject))
      continue;
    g_string_append_printf (rows, "%s %s\n", json_object_get_string_member (f, "Id"),
                            json_object_get_string_member (f, "Severity"));
    g_string_append_printf (fix, "%s\n%s\n", json_object_get_string_member (f, "Message"),
                            json_object_get_string_member (f, "Fix"));
  }
  bus_harness_ctl_run_clear (&run);
  if (fixes)
    *fixes = g_strdup (fix->str);
  return g_string_free (g_steal_pointer (&rows), FALSE);
}

static void
test_doctor (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autofree char *golden = data_file ("workstation-export.xml");
  g_autofree char *yes = domain_xml ("yes", NULL, GPU_HOSTDEV ("yes"));
  g_autofree char *good = domain_xml ("good", OPT_IN, golden);
  g_autofree char *nvme = domain_xml ("nvme", NULL,
                                      "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                      "<address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source>"
                                      "</hostdev>\n");
  g_autofree char *f_yes = g_build_filename (h->libvirt_dir, "yes.xml", NULL);
  g_autofree char *f_good = g_build_filename (h->libvirt_dir, "good.xml", NULL);
  g_autofree char *f_nvme = g_build_filename (h->libvirt_dir, "nvme.xml", NULL);
  g_autofree char *f_bad = g_build_filename (h->libvirt_dir, "broken.xml", NULL);
  g_autofree char *rows = NULL;
  g_autofree char *fixes = NULL;
  BusHarnessCtlRun run = { 0 };

  /* no directory: no rows */
  rows = doctor_rows (h, f_yes, NULL);
  g_assert_cmpstr (rows, ==, "");
  g_clear_pointer (&rows, g_free);

  put (h->libvirt_dir, "yes.xml", yes);
  put (h->libvirt_dir, "good.xml", good);
  put (h->libvirt_dir, "nvme.xml", nvme);
  put (h->libvirt_dir, "broken.xml", "<domain><name>x</name>");
  put (h->libvirt_dir, "notes.txt", "not a domain");
  g_chmod (h->libvirt_dir, 0700);

  rows = doctor_rows (h, f_yes, &fixes);
  g_assert_cmpstr (rows, ==, "libvirt-managed warning\nlibvirt-companions warning\nlibvirt-opt-in warning\n");
  g_assert_nonnull (strstr (fixes, "0000:01:00.1, 0000:01:00.2, 0000:01:00.3"));
  g_assert_nonnull (strstr (fixes, "Run: gpuvirtctl export libvirt 0000:01:00.0"));
  g_assert_nonnull (strstr (fixes, "virsh edit yes"));
  g_clear_pointer (&rows, g_free);
  rows = doctor_rows (h, f_good, NULL);
  g_assert_cmpstr (rows, ==, "libvirt-domain ok\n");
  g_clear_pointer (&rows, g_free);
  /* a function gpuvirt does not manage is libvirt's own business */
  rows = doctor_rows (h, f_nvme, NULL);
  g_assert_cmpstr (rows, ==, "");
  g_clear_pointer (&rows, g_free);
  rows = doctor_rows (h, f_bad, NULL);
  g_assert_cmpstr (rows, ==, "libvirt-domain info\n");

  /* the text form: the file as the subject, the fix below the row */
  bus_harness_ctl (h, TRUE, &run, "doctor", NULL);
  g_assert_nonnull (strstr (run.out, "[libvirt-managed]"));
  g_assert_nonnull (strstr (run.out, "fix: Run: gpuvirtctl export libvirt 0000:01:00.0"));
  bus_harness_ctl_run_clear (&run);
  bus_harness_assert_no_writes (h);
}

/* ---- config import ---- */

static void
test_import_driverctl (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autofree char *root = g_build_filename (h->dir, "other-host", NULL);
  g_autofree char *dir = g_build_filename (root, "etc", "driverctl.d", NULL);
  g_autofree char *bad1 = g_build_filename (dir, "pci-0000:00:14.0", NULL);
  g_autofree char *bad2 = g_build_filename (dir, "pci-0000:77:00.0", NULL);
  g_autofree char *config = NULL;
  BusHarnessCtlRun run = { 0 };

  /* nothing there: said, exit 0 */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "driverctl", "--root", root, NULL), ==, 0);
  g_assert_nonnull (strstr (run.err, "does not exist"));

  put (dir, "pci-0000:01:00.1", "vfio-pci\n");   /* a companion: its GPU */
  put (dir, "pci-0000:02:00.0", "vfio-pci\n");   /* the NVMe: [Manage] first */
  put (dir, "pci-0000:00:14.0", "xhci_hcd\n");   /* another driver */
  put (dir, "pci-0000:77:00.0", "vfio-pci\n");   /* not on this host */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "driverctl", "--root", root, NULL), ==, 1);
  {
    g_autofree char *want = g_strdup_printf ("# functions gpuvirt may move besides GPUs (from driverctl)\n"
                                             "[Manage]\nDevices=0000:02:00.0\n\n"
                                             "# from %s/pci-0000:01:00.1 (companion 0000:01:00.1 follows its GPU)\n"
                                             "[Device 0000:01:00.0]\nId=10de:1eb1\nPassthrough=true\n\n"
                                             "# from %s/pci-0000:02:00.0\n"
                                             "[Device 0000:02:00.0]\nId=144d:a80a\nPassthrough=true\n",
                                             dir, dir);
    g_assert_cmpstr (run.out, ==, want);
  }
  g_assert_cmpint (bus_harness_count_lines (run.err, "cannot map: "), ==, 2);
  g_assert_nonnull (strstr (run.err, "pins 0000:00:14.0 to xhci_hcd"));
  g_assert_nonnull (strstr (run.err, "no PCI function 0000:77:00.0"));
  /* --apply with entries that cannot be mapped saves nothing */
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "driverctl", "--root", root, "--apply", NULL),
                   ==, 1);
  g_assert_false (g_file_test (h->config, G_FILE_TEST_EXISTS));

  /* merged into the main file, with what is there kept, and applied */
  g_assert_cmpint (g_unlink (bad1), ==, 0);
  g_assert_cmpint (g_unlink (bad2), ==, 0);
  bus_harness_write_sim (h, ".sim/holders", "remove 1834");
  bus_harness_write_sim (h, ".sim/holders", "remove 1102");
  put (h->dir, "gpuvirt.conf", "# mine\n[Manage]\nClasses=0200\n\n[Device 01:00.0]\nId=10de:1eb1\n");
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "config", "reload", NULL), ==, 0);
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "config", "import", "driverctl", "--root", root, "--apply", NULL),
                   ==, 0);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  g_test_message ("merged:\n%s", config);
  g_assert_true (g_str_has_prefix (config, "# mine\n[Manage]\nClasses=0200\nDevices=0000:02:00.0\n\n"
                                           "[Device 01:00.0]\nId=10de:1eb1\nPassthrough=true\n"));
  g_assert_nonnull (strstr (config, "[Device 0000:02:00.0]\nId=144d:a80a\nPassthrough=true\n"));
  assert_drivers (h, ws_functions, ws_vfio);
  {
    g_autofree char *nvme = driver_of (h, "0000:02:00.0");
    g_assert_cmpstr (nvme, ==, "vfio-pci");
  }
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "rpm", NULL), ==, 2);
  bus_harness_ctl_run_clear (&run);
}

static void
test_import_mdevctl (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autofree char *root = g_build_filename (h->dir, "other-host", NULL);
  g_autofree char *dir = g_build_filename (root, "etc", "mdevctl.d", NULL);
  g_autofree char *t4 = g_build_filename (dir, "0000:c8:00.0", NULL);
  g_autofree char *config = NULL;
  g_autofree char *made = NULL;
  BusHarnessCtlRun run = { 0 };
  const char *uuid = "1a2b3c4d-0000-4000-8000-00000000000a";

  put (t4, uuid, "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": []}\n");
  put (t4, "1a2b3c4d-0000-4000-8000-00000000000b", "{\"mdev_type\": \"nvidia-231\", \"start\": \"manual\"}\n");
  put (t4, "1a2b3c4d-0000-4000-8000-00000000000c",
       "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\", \"attrs\": [{\"x\": \"1\"}]}\n");
  put (dir, "0000:99:00.0/1a2b3c4d-0000-4000-8000-00000000000d", "{\"mdev_type\": \"nvidia-231\", \"start\": \"auto\"}\n");
  put (dir, "scripts.d/callouts/x", "#!/bin/sh\n");
  put (t4, "not-a-uuid", "{}");
  g_assert_cmpint (bus_harness_ctl (h, TRUE, &run, "config", "import", "mdevctl", "--root", root, NULL), ==, 1);
  g_assert_nonnull (strstr (run.out, "[Mdev 1a2b3c4d-0000-4000-8000-00000000000a]\nParent=0000:c8:00.0\n"
                                     "ParentId=10de:1eb8\nType=nvidia-231\n"));
  g_assert_cmpint (bus_harness_count_lines (run.out, "[Mdev "), ==, 1);
  g_assert_cmpint (bus_harness_count_lines (run.err, "cannot map: "), ==, 5);
  g_assert_nonnull (strstr (run.err, "\"start\": \"manual\""));
  g_assert_nonnull (strstr (run.err, "\"attrs\""));
  g_assert_nonnull (strstr (run.err, "0000:99:00.0"));
  g_assert_nonnull (strstr (run.err, "callout scripts"));
  g_assert_nonnull (strstr (run.err, "no mdev UUID"));

  {
    g_autofree char *gone = g_build_filename (dir, "scripts.d", NULL);
    const char *argv[] = { "rm", "-rf", gone, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  {
    g_autofree char *keep = g_build_filename (t4, uuid, NULL);
    g_autofree char *text = NULL;
    g_assert_true (g_file_get_contents (keep, &text, NULL, NULL));
    const char *argv[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    put (t4, uuid, text);
  }
  g_assert_cmpint (bus_harness_ctl (h, FALSE, &run, "config", "import", "mdevctl", "--root", root, "--apply", NULL),
                   ==, 0);
  g_assert_true (g_file_get_contents (h->config, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "[Mdev 1a2b3c4d-0000-4000-8000-00000000000a]\nParent=0000:c8:00.0\n"));
  made = bus_harness_read_sim (h, "sys/bus/mdev/devices/1a2b3c4d-0000-4000-8000-00000000000a/mdev_type/name");
  g_assert_cmpstr (made, !=, "");
  bus_harness_ctl_run_clear (&run);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/libvirt/export/gpu", test_export_gpu);
  g_test_add_func ("/libvirt/export/vgpu", test_export_vgpu);
  g_test_add_func ("/libvirt/hook/passthrough", test_hook_passthrough);
  g_test_add_func ("/libvirt/hook/vgpu", test_hook_vgpu);
  g_test_add_func ("/libvirt/doctor", test_doctor);
  g_test_add_func ("/libvirt/import/driverctl", test_import_driverctl);
  g_test_add_func ("/libvirt/import/mdevctl", test_import_mdevctl);
  return g_test_run ();
}
