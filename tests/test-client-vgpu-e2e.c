/* gpuvirtctl types and vgpu list/create/remove against the real gpuvirtd
 * on a private bus over the simulated host (tests/bus-harness.h): exit
 * codes, messages, the JSON output, and what reached the simulated sysfs
 * (read back from the tree and from its write log). Each part is its own
 * test() in tests/meson.build so that they run side by side. */
#include "bus-harness.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define ACTION_VGPU "org.gpuvirt.configure-vgpu"
#define ACTION_SRIOV "org.gpuvirt.configure-sriov"

#define L40S_COLD "0000:81:00.0"   /* l40s-vendor-vfio: 0 of 32 VFs, framework "pending" */
#define L40S_WARM "0000:01:00.0"   /* l40s-vendor-vfio: 32 VFs, none typed */
#define A40 "0000:67:00.0"         /* a40-mdev: cold, mdevs on its VFs */
#define T4 "0000:c8:00.0"          /* big-host: mdevs on the PF, 16 VFs it never needs */
#define UUID_UPPER "5B6C0F1E-2A3D-4C5B-8E9F-0A1B2C3D4E5F"
#define UUID_LOWER "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"

/* ---- the simulated host ---- */

static char *
read_dev (BusHarness *h, const char *bdf, const char *file)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/%s", bdf, file);
  return bus_harness_read_sim (h, rel);
}

static void
assert_dev (BusHarness *h, const char *bdf, const char *file, const char *want)
{
  g_autofree char *value = read_dev (h, bdf, file);
  if (!g_str_equal (value, want))
    g_error ("%s/%s is “%s”, expected “%s”", bdf, file, value, want);
}

static gboolean
dev_has (BusHarness *h, const char *bdf, const char *file)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/%s", bdf, file);
  g_autofree char *path = sim_mount_path (h->mount, rel);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* ---- running gpuvirtctl ---- */

static void
expect (BusHarnessCtlRun *run, int status)
{
  if (run->status != status)
    g_error ("gpuvirtctl exited %d, expected %d\nstdout:\n%s\nstderr:\n%s", run->status, status, run->out, run->err);
}

static void
assert_contains (const char *text, const char *words)
{
  if (!strstr (text, words))
    g_error ("“%s” does not contain “%s”", text, words);
}

/* The --json output's root object (owned by the returned parser). */
static JsonObject *
parse_json (const char *out, JsonParser **ret_parser)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  *ret_parser = g_steal_pointer (&parser);
  return json_node_get_object (json_parser_get_root (*ret_parser));
}

static gboolean
member_is_null (JsonObject *o, const char *name)
{
  g_assert_true (json_object_has_member (o, name));
  return JSON_NODE_HOLDS_NULL (json_object_get_member (o, name));
}

/* The entry of a Types array whose Name is NAME. */
static JsonObject *
find_type (JsonArray *types, const char *name)
{
  for (guint i = 0; i < json_array_get_length (types); i++) {
    JsonObject *t = json_array_get_object_element (types, i);
    if (g_str_equal (json_object_get_string_member (t, "Name"), name))
      return t;
  }
  g_error ("no type “%s” in the list", name);
}

/* The "Vgpus" entry whose "Vgpu" is NAME, or NULL. */
static JsonObject *
find_vgpu (JsonArray *vgpus, const char *name)
{
  for (guint i = 0; i < json_array_get_length (vgpus); i++) {
    JsonObject *v = json_array_get_object_element (vgpus, i);
    if (g_str_equal (json_object_get_string_member (v, "Vgpu"), name))
      return v;
  }
  return NULL;
}

static void
allow_all (BusHarness *h)
{
  bus_harness_polkit_allow (h, (const char *const[]) { ACTION_VGPU, ACTION_SRIOV, NULL });
}

/* vgpu create ... --json as root: the new VF's address from Info. */
static char *
create_vendor (BusHarness *h, const char *gpu, const char *type, const char *type_id, const char *type_name)
{
  g_autoptr (JsonParser) parser = NULL;
  BusHarnessCtlRun run = { 0 };
  JsonObject *root, *info;
  const char *address;
  char *result;

  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", gpu, type, "--json", NULL);
  expect (&run, 0);
  root = parse_json (run.out, &parser);
  info = json_object_get_object_member (root, "Info");
  g_assert_nonnull (info);
  address = json_object_get_string_member (info, "address");
  g_assert_cmpstr (json_object_get_string_member (root, "Object"), ==, address);
  {
    g_autofree char *path = g_strdup_printf ("/org/gpuvirt/devices/pci_%s", address);
    g_strdelimit (path + strlen ("/org/gpuvirt/devices/pci_"), ":.", '_');
    g_assert_cmpstr (json_object_get_string_member (root, "Path"), ==, path);
  }
  /* a VF of GPU (same bus) */
  g_assert_cmpint (strncmp (address, gpu, 7), ==, 0);
  g_assert_cmpstr (address, !=, gpu);
  g_assert_cmpstr (json_object_get_string_member (info, "framework"), ==, "vendor-vfio");
  g_assert_cmpstr (json_object_get_string_member (info, "type"), ==, type_id);
  g_assert_cmpstr (json_object_get_string_member (info, "type_name"), ==, type_name);
  g_assert_cmpstr (json_object_get_string_member (info, "mdev_uuid"), ==, "");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (info, "vfio_group_node"), "/dev/vfio/"));
  {
    g_autofree char *bus_attr = g_strdup_printf ("bus='0x%.2s'", address + 5);
    g_autofree char *fn_attr = g_strdup_printf ("function='0x%c'", address[11]);
    const char *xml = json_object_get_string_member (info, "hostdev_xml");
    assert_contains (xml, "type='pci' managed='no'");
    assert_contains (xml, bus_attr);
    assert_contains (xml, fn_attr);
  }
  /* what the kernel sees */
  assert_dev (h, address, "nvidia/current_vgpu_type", type_id);
  result = g_strdup (address);
  bus_harness_ctl_run_clear (&run);
  return result;
}

/* ---- tests ---- */

/* types on a cold GPU and on a VF; vgpu create until full; list; remove. */
static void
test_vendor (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autofree char *warm_vf = bus_harness_vf_bdf (L40S_WARM, 0);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  BusHarnessCtlRun run = { 0 };

  /* a cold L40S: framework pending, no types until VFs exist */
  bus_harness_ctl (h, FALSE, &run, "types", L40S_COLD, NULL);
  expect (&run, 0);
  assert_contains (run.out, "Framework: pending");
  assert_contains (run.out, "VFs: 0 of 32 enabled, 0 free");
  assert_contains (run.out, "No vGPU types yet");
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonObject *root;

    bus_harness_ctl (h, FALSE, &run, "types", L40S_COLD, "--json", NULL);
    expect (&run, 0);
    root = parse_json (run.out, &parser);
    g_assert_cmpstr (json_object_get_string_member (root, "Framework"), ==, "pending");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "Types")), ==, 0);
    g_assert_cmpstr (json_object_get_string_member (root, "Address"), ==, L40S_COLD);
    g_assert_true (member_is_null (root, "Gpu"));
    g_assert_cmpint (json_object_get_int_member (root, "FreeVfs"), ==, 0);
  }

  /* a free VF of a warm L40S: every type, one instance each */
  bus_harness_ctl (h, FALSE, &run, "types", warm_vf, NULL);
  expect (&run, 0);
  assert_contains (run.out, "GPU: " L40S_WARM);
  assert_contains (run.out, "Framework: vendor-vfio");
  assert_contains (run.out, "Current type: -");
  {
    g_auto (GStrv) lines = g_strsplit (run.out, "\n", -1);
    gboolean header = FALSE, row = FALSE;
    for (guint i = 0; lines[i]; i++) {
      g_auto (GStrv) cells = g_strsplit_set (lines[i], " ", -1);
      g_autofree char *squeezed = NULL;
      /* columns are aligned with runs of spaces; compare the words */
      g_autoptr (GPtrArray) words = g_ptr_array_new ();
      for (guint j = 0; cells[j]; j++)
        if (*cells[j])
          g_ptr_array_add (words, cells[j]);
      g_ptr_array_add (words, NULL);
      squeezed = g_strjoinv (" ", (char **) words->pdata);
      header |= g_str_equal (squeezed, "ID NAME FRAMEBUFFER AVAILABLE MAX SERIES DESCRIPTION");
      row |= g_str_equal (squeezed, "1163 NVIDIA L40S-24Q 24576 MiB 1 - Q -");
    }
    g_assert_true (header);
    g_assert_true (row);
  }
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonObject *root, *t, *details;
    JsonArray *types;

    bus_harness_ctl (h, FALSE, &run, "types", warm_vf, "--json", NULL);
    expect (&run, 0);
    root = parse_json (run.out, &parser);
    g_assert_cmpstr (json_object_get_string_member (root, "Framework"), ==, "vendor-vfio");
    g_assert_cmpstr (json_object_get_string_member (root, "Address"), ==, warm_vf);
    g_assert_cmpstr (json_object_get_string_member (root, "Gpu"), ==, L40S_WARM);
    g_assert_cmpstr (json_object_get_string_member (root, "CurrentType"), ==, "");
    g_assert_true (member_is_null (root, "FreeVfs"));
    types = json_object_get_array_member (root, "Types");
    g_assert_cmpuint (json_array_get_length (types), ==, 29);
    for (guint i = 0; i < json_array_get_length (types); i++)
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (types, i), "Available"), ==, 1);
    t = find_type (types, "NVIDIA L40S-24Q");
    g_assert_cmpstr (json_object_get_string_member (t, "Id"), ==, "1163");
    g_assert_cmpint (json_object_get_int_member (t, "FramebufferMiB"), ==, 24576);
    details = json_object_get_object_member (t, "Details");
    g_assert_cmpstr (json_object_get_string_member (details, "series"), ==, "Q");
    g_assert_cmpstr (json_object_get_string_member (details, "short_name"), ==, "L40S-24Q");
  }
  {
    /* its GPU: 32 free VFs, the 1 GiB type available on each */
    g_autoptr (JsonParser) parser = NULL;
    JsonObject *root;

    bus_harness_ctl (h, FALSE, &run, "types", L40S_WARM, "--json", NULL);
    expect (&run, 0);
    root = parse_json (run.out, &parser);
    g_assert_cmpint (json_object_get_int_member (root, "FreeVfs"), ==, 32);
    g_assert_cmpint (json_object_get_int_member (find_type (json_object_get_array_member (root, "Types"),
                                                            "NVIDIA L40S-1Q"), "Available"), ==, 32);
  }

  /* two L40S-24Q fill the cold GPU: VFs enabled on the way, two typed */
  bus_harness_clear_sim_log (h);
  first = create_vendor (h, L40S_COLD, "L40S-24Q", "1163", "NVIDIA L40S-24Q");
  assert_dev (h, L40S_COLD, "sriov_numvfs", "32");
  second = create_vendor (h, L40S_COLD, "L40S-24Q", "1163", "NVIDIA L40S-24Q");
  g_assert_cmpstr (first, !=, second);
  {
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpuint (bus_harness_count_lines (log, "sriov_numvfs \"32\" -> OK"), ==, 1);
    g_assert_cmpuint (bus_harness_count_lines (log, "current_vgpu_type \"1163\" -> OK"), ==, 2);
    g_assert_cmpuint (bus_harness_count_lines (log, " -> "), ==, 3);
  }
  /* the third does not fit: NoCapacity, exit 6, nothing written */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", L40S_COLD, "L40S-24Q", NULL);
  expect (&run, 6);
  g_assert_cmpstr (run.out, ==, "");
  assert_contains (run.err, "No free VF of " L40S_COLD " can create");
  assert_contains (run.err, "Hint: No instance of this vGPU type is free");
  bus_harness_assert_no_writes (h);
  bus_harness_ctl (h, FALSE, &run, "types", L40S_COLD, NULL);
  expect (&run, 0);
  assert_contains (run.out, "VFs: 32 of 32 enabled, 30 free");

  /* list: both, with their GPU and type */
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonArray *vgpus;

    bus_harness_ctl (h, FALSE, &run, "vgpu", "list", "--json", NULL);
    expect (&run, 0);
    vgpus = json_object_get_array_member (parse_json (run.out, &parser), "Vgpus");
    g_assert_cmpuint (json_array_get_length (vgpus), ==, 2);
    for (guint i = 0; i < 2; i++) {
      JsonObject *v = find_vgpu (vgpus, i == 0 ? first : second);
      g_assert_nonnull (v);
      g_assert_cmpstr (json_object_get_string_member (v, "Gpu"), ==, L40S_COLD);
      g_assert_cmpstr (json_object_get_string_member (v, "Address"), ==, i == 0 ? first : second);
      g_assert_cmpstr (json_object_get_string_member (v, "Framework"), ==, "vendor-vfio");
      g_assert_cmpstr (json_object_get_string_member (v, "Type"), ==, "1163");
      g_assert_cmpstr (json_object_get_string_member (v, "TypeName"), ==, "NVIDIA L40S-24Q");
      g_assert_cmpstr (json_object_get_string_member (v, "Uuid"), ==, "");
    }
  }

  /* remove one: its type released, the VFs stay */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", first, NULL);
  expect (&run, 0);
  {
    g_autofree char *line = g_strdup_printf ("Removed type 1163 NVIDIA L40S-24Q from VF %s.\n", first);
    g_assert_cmpstr (run.out, ==, line);
  }
  assert_dev (h, first, "nvidia/current_vgpu_type", "0");
  assert_dev (h, second, "nvidia/current_vgpu_type", "1163");
  assert_dev (h, L40S_COLD, "sriov_numvfs", "32");
  {
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpuint (bus_harness_count_lines (log, " -> "), ==, 1);
  }
  /* a VF without a type is not a vGPU: exit 3 before any call */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", first, NULL);
  expect (&run, 3);
  assert_contains (run.err, "is not a vGPU");
  bus_harness_assert_no_writes (h);

  /* the VFs cannot go while one carries a type: the refusal says so, and
   * the hint does not send the user looking for a virtual machine */
  bus_harness_ctl (h, FALSE, &run, "sriov", L40S_COLD, "off", NULL);
  expect (&run, 6);
  assert_contains (run.err, "carries vGPU type 1163");
  assert_contains (run.err, "Hint: Something still uses it; the message names what");
  g_assert_null (strstr (run.err, "A virtual machine uses it"));
  bus_harness_assert_no_writes (h);

  /* the last one, with --disable-vfs: the GPU is cold again */
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonObject *removed;

    bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", second, "--disable-vfs", "--json", NULL);
    expect (&run, 0);
    removed = json_object_get_object_member (parse_json (run.out, &parser), "Removed");
    g_assert_cmpstr (json_object_get_string_member (removed, "Vgpu"), ==, second);
    g_assert_cmpstr (json_object_get_string_member (removed, "Gpu"), ==, L40S_COLD);
  }
  assert_dev (h, L40S_COLD, "sriov_numvfs", "0");
  g_assert_false (dev_has (h, second, "nvidia"));
  bus_harness_ctl (h, FALSE, &run, "vgpu", "list", "--json", NULL);
  expect (&run, 0);
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonArray *vgpus = json_object_get_array_member (parse_json (run.out, &parser), "Vgpus");
    g_assert_cmpuint (json_array_get_length (vgpus), ==, 0);
  }
  bus_harness_ctl (h, FALSE, &run, "types", L40S_COLD, NULL);
  expect (&run, 0);
  assert_contains (run.out, "Framework: pending");
  bus_harness_ctl_run_clear (&run);
}

/* Refusals: polkit, unknown types, malformed UUIDs. Nothing is written. */
static void
test_refused (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autofree char *vf = bus_harness_vf_bdf (L40S_WARM, 0);
  BusHarnessCtlRun run = { 0 };

  /* nobody, polkit allowing nothing: exit 4 and not one write */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, TRUE, &run, "vgpu", "create", "--no-ask-password", L40S_COLD, "L40S-24Q", NULL);
  expect (&run, 4);
  g_assert_cmpstr (run.out, ==, "");
  bus_harness_ctl (h, TRUE, &run, "vgpu", "create", "--no-ask-password", L40S_WARM, "L40S-24Q", NULL);
  expect (&run, 4);
  bus_harness_assert_no_writes (h);
  assert_dev (h, L40S_COLD, "sriov_numvfs", "0");
  assert_dev (h, vf, "nvidia/current_vgpu_type", "0");
  /* reading needs no authorization */
  bus_harness_ctl (h, TRUE, &run, "types", vf, NULL);
  expect (&run, 0);
  bus_harness_ctl (h, TRUE, &run, "vgpu", "list", NULL);
  expect (&run, 0);

  /* allowed: nobody makes one, and may not remove it once polkit says no again */
  allow_all (h);
  bus_harness_ctl (h, TRUE, &run, "vgpu", "create", "--no-ask-password", vf, "L40S-24Q", NULL);
  expect (&run, 0);
  assert_dev (h, vf, "nvidia/current_vgpu_type", "1163");
  bus_harness_polkit_allow (h, (const char *const[]) { NULL });
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, TRUE, &run, "vgpu", "remove", "--no-ask-password", vf, NULL);
  expect (&run, 4);
  bus_harness_assert_no_writes (h);
  assert_dev (h, vf, "nvidia/current_vgpu_type", "1163");

  /* an unknown type on a GPU with VFs: exit 3 with the types it offers
   * (only L40S-24Q now: a VF carries one, and types do not mix) */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", L40S_WARM, "L40S-99Q", NULL);
  expect (&run, 3);
  assert_contains (run.err, "L40S-99Q");
  assert_contains (run.err, "NVIDIA L40S-24Q");
  assert_contains (run.err, "Hint: ");
  bus_harness_assert_no_writes (h);
  /* on a cold one too: the other L40S tell its types, so nothing is
   * written (not even VFs enabled to learn them) */
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", L40S_COLD, "L40S-99Q", NULL);
  expect (&run, 3);
  assert_contains (run.err, "NVIDIA L40S-48C (1181)");
  assert_dev (h, L40S_COLD, "sriov_numvfs", "0");
  bus_harness_assert_no_writes (h);
  /* a malformed UUID never reaches gpuvirtd */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", L40S_WARM, "L40S-24Q", "--uuid", "5b6c0f1e-nope", NULL);
  expect (&run, 2);
  assert_contains (run.err, "5b6c0f1e-nope");
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", "--uuid=" UUID_LOWER "0", L40S_WARM, "L40S-24Q", NULL);
  expect (&run, 2);
  /* not a device at all */
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", "X", "L40S-24Q", NULL);
  expect (&run, 2);
  bus_harness_assert_no_writes (h);
  bus_harness_ctl_run_clear (&run);
}

/* A40: an mdev with a given UUID on a VF, listed, removed by UUID. */
static void
test_mdev (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autofree char *vf = bus_harness_vf_bdf (A40, 0);
  BusHarnessCtlRun run = { 0 };

  allow_all (h);
  bus_harness_clear_sim_log (h);
  /* any case in, lowercase sent */
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", A40, "A40-8Q", "--uuid", UUID_UPPER, NULL);
  expect (&run, 0);
  assert_contains (run.out, "Object: /org/gpuvirt/mdevs/5b6c0f1e_2a3d_4c5b_8e9f_0a1b2c3d4e5f");
  assert_contains (run.out, "Framework: mdev-vf");
  assert_contains (run.out, "Type: nvidia-562 NVIDIA A40-8Q");
  assert_contains (run.out, "mdev UUID: " UUID_LOWER);
  assert_contains (run.out, "<address uuid='" UUID_LOWER "'/>");
  {
    g_autofree char *parent = g_strdup_printf ("Address: %s", vf);
    g_autofree char *link_rel = g_strdup_printf ("sys/bus/pci/devices/%s/%s/mdev_type", vf, UUID_LOWER);
    g_autofree char *link = sim_mount_path (h->mount, link_rel);
    g_autofree char *link_name = sim_link_name (link);
    g_autofree char *log = bus_harness_sim_log (h);

    assert_contains (run.out, parent);
    g_assert_cmpstr (link_name, ==, "nvidia-562");
    assert_dev (h, A40, "sriov_numvfs", "32");
    g_assert_cmpuint (bus_harness_count_lines (log, "nvidia-562/create \"" UUID_LOWER "\" -> OK"), ==, 1);
  }

  /* the same UUID again: AlreadyExists, exit 6 */
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", A40, "A40-8Q", "--uuid", UUID_LOWER, NULL);
  expect (&run, 6);
  assert_contains (run.err, "exists already");
  bus_harness_assert_no_writes (h);

  bus_harness_ctl (h, FALSE, &run, "vgpu", "list", NULL);
  expect (&run, 0);
  {
    g_autofree char *row = NULL;
    g_auto (GStrv) lines = g_strsplit (run.out, "\n", -1);
    g_assert_true (g_str_has_prefix (lines[0], "GPU "));
    for (guint i = 1; lines[i]; i++)
      if (strstr (lines[i], UUID_LOWER))
        row = g_strdup (lines[i]);
    g_assert_nonnull (row);
    assert_contains (row, A40);
    assert_contains (row, "nvidia-562");
    assert_contains (row, "NVIDIA A40-8Q");
    assert_contains (row, "/dev/vfio/");
  }
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonArray *vgpus;
    JsonObject *v;

    bus_harness_ctl (h, FALSE, &run, "vgpu", "list", "--json", NULL);
    expect (&run, 0);
    vgpus = json_object_get_array_member (parse_json (run.out, &parser), "Vgpus");
    g_assert_cmpuint (json_array_get_length (vgpus), ==, 1);
    v = find_vgpu (vgpus, UUID_LOWER);
    g_assert_nonnull (v);
    g_assert_cmpstr (json_object_get_string_member (v, "Gpu"), ==, A40);
    g_assert_cmpstr (json_object_get_string_member (v, "Address"), ==, vf);
    g_assert_cmpstr (json_object_get_string_member (v, "Framework"), ==, "mdev-vf");
    g_assert_cmpstr (json_object_get_string_member (v, "Uuid"), ==, UUID_LOWER);
  }
  /* the GPU hosts no mdev of its own: exit 3 */
  bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", A40, NULL);
  expect (&run, 3);

  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", UUID_UPPER, NULL);
  expect (&run, 0);
  g_assert_cmpstr (run.out, ==, "Removed mdev " UUID_LOWER " (nvidia-562 NVIDIA A40-8Q) of 0000:67:00.4.\n");
  g_assert_false (dev_has (h, vf, UUID_LOWER));
  {
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpuint (bus_harness_count_lines (log, UUID_LOWER "/remove \"1\" -> OK"), ==, 1);
    g_assert_cmpuint (bus_harness_count_lines (log, " -> "), ==, 1);
  }
  bus_harness_ctl (h, FALSE, &run, "vgpu", "list", "--json", NULL);
  expect (&run, 0);
  {
    g_autoptr (JsonParser) parser = NULL;
    JsonArray *vgpus = json_object_get_array_member (parse_json (run.out, &parser), "Vgpus");
    g_assert_cmpuint (json_array_get_length (vgpus), ==, 0);
  }
  /* gone: exit 3 */
  bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", UUID_LOWER, NULL);
  expect (&run, 3);
  bus_harness_ctl_run_clear (&run);
}

/* big-host's T4: mdevs on the PF; its SR-IOV is never touched. */
static void
test_t4 (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *root, *info;
  const char *uuid;
  BusHarnessCtlRun run = { 0 };

  bus_harness_ctl (h, FALSE, &run, "types", T4, NULL);
  expect (&run, 0);
  assert_contains (run.out, "Framework: mdev-pf");
  bus_harness_clear_sim_log (h);
  bus_harness_ctl (h, FALSE, &run, "vgpu", "create", T4, "T4-4Q", "--json", NULL);
  expect (&run, 0);
  root = parse_json (run.out, &parser);
  info = json_object_get_object_member (root, "Info");
  uuid = json_object_get_string_member (info, "mdev_uuid");
  g_assert_true (g_uuid_string_is_valid (uuid));
  g_assert_cmpstr (json_object_get_string_member (root, "Object"), ==, uuid);
  g_assert_cmpstr (json_object_get_string_member (info, "address"), ==, T4);
  g_assert_cmpstr (json_object_get_string_member (info, "framework"), ==, "mdev-pf");
  g_assert_cmpstr (json_object_get_string_member (info, "type"), ==, "nvidia-231");
  g_assert_cmpstr (json_object_get_string_member (info, "type_name"), ==, "GRID T4-4Q");
  {
    g_autofree char *log = bus_harness_sim_log (h);
    g_autofree char *link_rel = g_strdup_printf ("sys/bus/pci/devices/" T4 "/%s/mdev_type", uuid);
    g_autofree char *link = sim_mount_path (h->mount, link_rel);
    g_autofree char *link_name = sim_link_name (link);

    g_assert_cmpuint (bus_harness_count_lines (log, "sriov_numvfs"), ==, 0);
    g_assert_cmpuint (bus_harness_count_lines (log, "nvidia-231/create"), ==, 1);
    g_assert_cmpuint (bus_harness_count_lines (log, " -> "), ==, 1);
    g_assert_cmpstr (link_name, ==, "nvidia-231");
    assert_dev (h, T4, "sriov_numvfs", "0");
    assert_dev (h, T4, "mdev_supported_types/nvidia-231/available_instances", "3");
  }
  /* listed under the T4 itself, and removed */
  {
    g_autoptr (JsonParser) list_parser = NULL;
    JsonObject *v;

    bus_harness_ctl (h, FALSE, &run, "vgpu", "list", "--json", NULL);
    expect (&run, 0);
    v = find_vgpu (json_object_get_array_member (parse_json (run.out, &list_parser), "Vgpus"), uuid);
    g_assert_nonnull (v);
    g_assert_cmpstr (json_object_get_string_member (v, "Gpu"), ==, T4);
    g_assert_cmpstr (json_object_get_string_member (v, "Address"), ==, T4);
  }
  bus_harness_ctl (h, FALSE, &run, "vgpu", "remove", uuid, "--disable-vfs", NULL);
  expect (&run, 0);
  assert_dev (h, T4, "mdev_supported_types/nvidia-231/available_instances", "4");
  {
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpuint (bus_harness_count_lines (log, "sriov_numvfs"), ==, 0);
  }
  bus_harness_ctl_run_clear (&run);
}

static guint
n_vgpus (BusHarness *h)
{
  g_autoptr (JsonParser) parser = NULL;
  BusHarnessCtlRun run = { 0 };
  guint n;

  bus_harness_ctl (h, FALSE, &run, "vgpu", "list", "--json", NULL);
  expect (&run, 0);
  n = json_array_get_length (json_object_get_array_member (parse_json (run.out, &parser), "Vgpus"));
  bus_harness_ctl_run_clear (&run);
  return n;
}

/* Another tool writes current_vgpu_type (no uevent on a real kernel, none
 * at all on the simulator): a read more than a second later shows it,
 * announced, without Refresh (issue 14, point 2). */
static void
test_behind_back (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GHashTable) announced = NULL;
  BusHarnessChanges changes;
  const char *values[] = { "1155", "0" };

  g_assert_cmpuint (n_vgpus (h), ==, 0);
  for (guint round = 0; round < G_N_ELEMENTS (values); round++) {
    bus_harness_changes_start (&changes, c);
    for (guint i = 0; i < 3; i++) {
      g_autofree char *vf = bus_harness_vf_bdf (L40S_WARM, i);
      g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/nvidia/current_vgpu_type", vf);
      g_assert_cmpint (bus_harness_write_sim (h, rel, values[round]), ==, 0);
    }
    g_usleep (1100 * 1000);
    g_assert_cmpuint (n_vgpus (h), ==, round == 0 ? 3 : 0);
    bus_harness_drain ();
    announced = bus_harness_changes_stop (&changes, c);
    {
      g_autofree char *vf = bus_harness_vf_bdf (L40S_WARM, 2);
      g_autofree char *path = bus_harness_device_path (vf);
      g_autofree char *key = g_strdup_printf ("%s org.gpuvirt.Vgpu CurrentType", path);
      GPtrArray *seen = g_hash_table_lookup (announced, key);
      if (!seen || seen->len != 1)
        g_error ("%s: CurrentType announced %u times, want once", vf, seen ? seen->len : 0);
    }
    g_clear_pointer (&announced, g_hash_table_unref);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vgpu-client/vendor", test_vendor);
  g_test_add_func ("/vgpu-client/refused", test_refused);
  g_test_add_func ("/vgpu-client/mdev", test_mdev);
  g_test_add_func ("/vgpu-client/t4", test_t4);
  g_test_add_func ("/vgpu-client/behind-back", test_behind_back);
  return g_test_run ();
}
