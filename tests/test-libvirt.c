/* libvirt integration (issue 16), end to end on the simulated host:
 * `gpuvirtctl export libvirt` (a golden file, and virt-xml-validate on a
 * domain holding its output), the libvirt hook's decisions against the
 * real gpuvirtd, the doctor's libvirt rows, and `config import driverctl`
 * and `mdevctl`. One part per test() in meson. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/libvirt/export/gpu", test_export_gpu);
  g_test_add_func ("/libvirt/export/vgpu", test_export_vgpu);
  return g_test_run ();
}
