/* Capture mode (simfs/sim-capture.c) against small fake hosts built in a
 * temporary directory from plain files and symlinks, laid out as sysfs and
 * procfs lay them out. */
#include "sim-capture.h"

#include <errno.h>
#include <ftw.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  char *root;
} Fixture;

static void
put (const char *root, const char *rel, const char *contents)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
put_dir (const char *root, const char *rel)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

static void
put_link (const char *root, const char *rel, const char *target)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (symlink (target, path), ==, 0);
}

/* "../" once per component of REL_DIR, to climb from it back to ROOT. */
static char *
climb (const char *rel_dir)
{
  GString *up = g_string_new ("");
  g_auto (GStrv) parts = g_strsplit (rel_dir, "/", -1);

  for (char **p = parts; *p; p++)
    g_string_append (up, "../");
  return g_string_free (up, FALSE);
}

typedef struct {
  const char *path;       /* below sys/devices, e.g. "pci0000:00/0000:00:01.0" */
  const char *vendor, *device, *cls;
  const char *driver;     /* NULL: unbound */
  int group;              /* -1: none */
  int secondary, subordinate;   /* > 0: a bridge */
} Fn;

/* One PCI function: attribute files, a 256-byte config space, the bus link,
 * and driver and iommu_group links. Returns its sysfs directory (relative). */
static char *
add_fn (const char *root, const Fn *fn)
{
  g_autofree char *bdf = g_path_get_basename (fn->path);
  char *dir = g_strdup_printf ("sys/devices/%s", fn->path);
  g_autofree char *up = climb (dir);
  guint8 config[256] = { 0 };
  guint32 vendor = (guint32) g_ascii_strtoull (fn->vendor, NULL, 16);
  guint32 device = (guint32) g_ascii_strtoull (fn->device, NULL, 16);
  guint32 cls = (guint32) g_ascii_strtoull (fn->cls, NULL, 16);
  g_autofree char *config_path = g_build_filename (root, dir, "config", NULL);
  g_autoptr (GError) error = NULL;

#define PUT(name, ...) G_STMT_START { \
    g_autofree char *rel_ = g_build_filename (dir, name, NULL); \
    g_autofree char *text_ = g_strdup_printf (__VA_ARGS__); \
    put (root, rel_, text_); \
  } G_STMT_END
  PUT ("vendor", "0x%s\n", fn->vendor);
  PUT ("device", "0x%s\n", fn->device);
  PUT ("class", "0x%s\n", fn->cls);
  PUT ("subsystem_vendor", "0x%s\n", "1043");
  PUT ("subsystem_device", "0x%s\n", "8694");
  PUT ("revision", "0x%s\n", "a1");
  PUT ("numa_node", "%d\n", -1);
  PUT ("driver_override", "%s\n", "(null)");
#undef PUT

  config[0] = vendor & 0xff;
  config[1] = vendor >> 8;
  config[2] = device & 0xff;
  config[3] = device >> 8;
  config[8] = 0xa1;
  config[9] = cls & 0xff;
  config[10] = (cls >> 8) & 0xff;
  config[11] = cls >> 16;
  if (fn->secondary > 0) {
    config[0x0e] = 0x01;
    config[0x19] = (guint8) fn->secondary;
    config[0x1a] = (guint8) fn->subordinate;
  }
  g_file_set_contents (config_path, (const char *) config, sizeof config, &error);
  g_assert_no_error (error);

  {
    g_autofree char *bus_link = g_strdup_printf ("sys/bus/pci/devices/%s", bdf);
    g_autofree char *bus_target = g_strdup_printf ("../../../devices/%s", fn->path);
    put_link (root, bus_link, bus_target);
  }
  if (fn->driver) {
    g_autofree char *link = g_build_filename (dir, "driver", NULL);
    g_autofree char *target = g_strdup_printf ("%sbus/pci/drivers/%s", up + 3, fn->driver);
    put_link (root, link, target);
  }
  if (fn->group >= 0) {
    g_autofree char *link = g_build_filename (dir, "iommu_group", NULL);
    g_autofree char *target = g_strdup_printf ("%skernel/iommu_groups/%d", up + 3, fn->group);
    g_autofree char *gdir = g_strdup_printf ("sys/kernel/iommu_groups/%d/devices", fn->group);
    put_link (root, link, target);
    put_dir (root, gdir);
  }
  return dir;
}

/* A driver directory, with a module link unless it is built in. */
static void
add_driver (const char *root, const char *name, const char *module)
{
  g_autofree char *dir = g_strdup_printf ("sys/bus/pci/drivers/%s", name);
  g_autofree char *link = g_strdup_printf ("%s/module", dir);
  g_autofree char *target = g_strdup_printf ("../../../../module/%s", module);

  put_dir (root, dir);
  if (module)
    put_link (root, link, target);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("test-sim-capture-XXXXXX", &error);
  g_assert_no_error (error);
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (nftw (f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
  g_free (f->root);
}

static JsonObject *
capture (Fixture *f, JsonParser *parser)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = sim_capture_to_json (f->root, &error);

  g_assert_no_error (error);
  g_assert_nonnull (text);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static JsonObject *
find (JsonObject *top, const char *array, const char *key, const char *value)
{
  JsonArray *a = json_object_get_array_member (top, array);

  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *o = json_array_get_object_element (a, i);
    if (g_str_equal (json_object_get_string_member (o, key), value))
      return o;
  }
  g_assert_not_reached ();
}

#define MDEV_DESC_1B "num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=32"
#define MDEV_DESC_48Q "num_heads=4, frl_config=60, framebuffer=49152M, max_resolution=7680x4320, max_instance=1"

/* An Intel host with an A40-like GPU (two VFs enabled, each an mdev parent)
 * and its audio function behind a root port. */
static void
build_mdev_host (const char *root)
{
  const char *rp = "pci0000:00/0000:00:01.0";
  const char *types[][3] = { { "nvidia-555", "NVIDIA A40-1B", MDEV_DESC_1B },
                             { "nvidia-566", "NVIDIA A40-48Q", MDEV_DESC_48Q } };
  g_autofree char *gpu = NULL;

  put (root, "proc/sys/kernel/osrelease", "6.8.0-test\n");
  put (root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz ro intel_iommu=on\n");
  put (root, "proc/interrupts", "           CPU0\n  0:   42  IR-IO-APIC    2-edge      timer\n");
  put (root, "boot/config-6.8.0-test", "# Linux\nCONFIG_VFIO=m\nCONFIG_VFIO_DEVICE_CDEV=y\n");
  put_dir (root, "sys/class/iommu/dmar0");
  put_dir (root, "sys/module/nvidia_vgpu_vfio");
  put (root, "proc/driver/nvidia/gpus/0000:01:00.0/information",
       "Model: \t\t NVIDIA A40\nIRQ:   \t\t 180\nBus Location: \t 0000:01:00.0\nDevice Minor: \t 0\n");

  g_free (add_fn (root, &(Fn) { rp, "8086", "1901", "060400", "pcieport", 1, 1, 1 }));
  put (root, "sys/kernel/iommu_groups/1/type", "DMA\n");
  gpu = add_fn (root, &(Fn) { "pci0000:00/0000:00:01.0/0000:01:00.0", "10de", "2235", "030200", "nvidia", 12, 0, 0 });
  g_free (add_fn (root, &(Fn) { "pci0000:00/0000:00:01.0/0000:01:00.1", "10de", "1aef", "040300", "snd_hda_intel", 12, 0, 0 }));
  put_link (root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/consumer:pci:0000:01:00.1",
            "../../../virtual/devlink/pci:0000:01:00.0--pci:0000:01:00.1");
  put_dir (root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/drm/card1");
  put_dir (root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/drm/renderD129");
#define GPU_FILE(name, text) put (root, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/" name, text)
  GPU_FILE ("sriov_totalvfs", "32\n");
  GPU_FILE ("sriov_numvfs", "2\n");
  GPU_FILE ("sriov_offset", "4\n");
  GPU_FILE ("sriov_stride", "1\n");
  GPU_FILE ("sriov_vf_device", "2235\n");
  GPU_FILE ("sriov_drivers_autoprobe", "1\n");
#undef GPU_FILE
  for (int vf = 0; vf < 2; vf++) {
    g_autofree char *path = g_strdup_printf ("pci0000:00/0000:00:01.0/0000:01:00.%d", 4 + vf);
    g_autofree char *bdf = g_path_get_basename (path);
    g_autofree char *dir = add_fn (root, &(Fn) { path, "10de", "2235", "030200", "nvidia", 13 + vf, 0, 0 });
    g_autofree char *physfn = g_build_filename (dir, "physfn", NULL);
    g_autofree char *virtfn = g_strdup_printf ("%s/virtfn%d", gpu, vf);
    g_autofree char *virtfn_target = g_strdup_printf ("../%s", bdf);
    g_autofree char *mdev_link = g_strdup_printf ("sys/class/mdev_bus/%s", bdf);
    g_autofree char *mdev_target = g_strdup_printf ("../../devices/%s", path);

    put_link (root, physfn, "../0000:01:00.0");
    put_link (root, virtfn, virtfn_target);
    put_link (root, mdev_link, mdev_target);
    for (guint t = 0; t < G_N_ELEMENTS (types); t++) {
      g_autofree char *tdir = g_strdup_printf ("%s/mdev_supported_types/%s", dir, types[t][0]);
      g_autofree char *name = g_strdup_printf ("%s/name", tdir);
      g_autofree char *desc = g_strdup_printf ("%s/description", tdir);
      g_autofree char *api = g_strdup_printf ("%s/device_api", tdir);
      g_autofree char *avail = g_strdup_printf ("%s/available_instances", tdir);
      g_autofree char *name_text = g_strdup_printf ("%s\n", types[t][1]);
      g_autofree char *desc_text = g_strdup_printf ("%s\n", types[t][2]);
      put (root, name, name_text);
      put (root, desc, desc_text);
      put (root, api, "vfio-pci\n");
      put (root, avail, "1\n");
    }
  }

  /* A BMC's VGA behind its PCIe-to-PCI bridge: one group for both. */
  g_free (add_fn (root, &(Fn) { "pci0000:00/0000:00:1c.0", "8086", "a190", "060400", "pcieport", 20, 2, 3 }));
  g_free (add_fn (root, &(Fn) { "pci0000:00/0000:00:1c.0/0000:02:00.0", "1a03", "1150", "060400", NULL, 21, 3, 3 }));
  g_free (add_fn (root, &(Fn) { "pci0000:00/0000:00:1c.0/0000:02:00.0/0000:03:00.0", "1a03", "2000", "030000", "ast", 21, 0, 0 }));
  put (root, "sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/0000:03:00.0/boot_vga", "1\n");

  /* A T4-like GPU with mdev types on the function itself, no SR-IOV. */
  g_free (add_fn (root, &(Fn) { "pci0000:00/0000:00:04.0", "10de", "1eb8", "030200", "nvidia", 4, 0, 0 }));
  put_link (root, "sys/class/mdev_bus/0000:00:04.0", "../../devices/pci0000:00/0000:00:04.0");
  put (root, "sys/devices/pci0000:00/0000:00:04.0/mdev_supported_types/nvidia-222/name", "GRID T4-1B\n");
  put (root, "sys/devices/pci0000:00/0000:00:04.0/mdev_supported_types/nvidia-222/description",
       "num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=16\n");

  add_driver (root, "nvidia", "nvidia");
  add_driver (root, "snd_hda_intel", "snd_hda_intel");
  add_driver (root, "pcieport", NULL);
  add_driver (root, "ast", "ast");
  add_driver (root, "vfio-pci", "vfio_pci");
}

static void
test_mdev_host (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *top, *k, *rp, *gpu, *audio, *sr, *vgpu, *t, *drm, *drv;
  JsonArray *devices, *types, *consumers, *ids;

  build_mdev_host (f->root);
  top = capture (f, parser);

  k = json_object_get_object_member (top, "kernel");
  g_assert_cmpstr (json_object_get_string_member (k, "release"), ==, "6.8.0-test");
  g_assert_cmpstr (json_object_get_string_member (k, "cmdline"), ==, "BOOT_IMAGE=/vmlinuz ro intel_iommu=on");
  g_assert_cmpstr (json_object_get_string_member (k, "iommu"), ==, "intel");
  g_assert_cmpstr (json_object_get_string_member (k, "iommu_group_type"), ==, "DMA");
  g_assert_true (json_object_get_boolean_member (k, "interrupt_remapping"));
  g_assert_true (json_object_get_boolean_member (k, "vfio_cdev"));
  g_assert_true (json_object_get_boolean_member (k, "nvidia_vgpu_manager"));

  /* Sorted by BDF; the VFs are left to the PF's numvfs. */
  devices = json_object_get_array_member (top, "devices");
  g_assert_cmpuint (json_array_get_length (devices), ==, 7);
  for (guint i = 0; i < 7; i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (devices, i), "bdf"), ==,
                     ((const char *[]) { "0000:00:01.0", "0000:00:04.0", "0000:00:1c.0", "0000:01:00.0",
                                         "0000:01:00.1", "0000:02:00.0", "0000:03:00.0" })[i]);
  rp = find (top, "devices", "bdf", "0000:00:01.0");
  gpu = find (top, "devices", "bdf", "0000:01:00.0");
  audio = find (top, "devices", "bdf", "0000:01:00.1");

  g_assert_true (json_object_get_null_member (rp, "parent"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (rp, "bridge"), "secondary"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (rp, "bridge"), "subordinate"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (rp, "driver"), ==, "pcieport");
  g_assert_cmpint (json_object_get_int_member (rp, "iommu_group"), ==, 1);
  g_assert_false (json_object_has_member (json_object_get_object_member (rp, "bridge"), "acs"));
  g_assert_cmpuint (strlen (json_object_get_string_member (rp, "config")), ==, 512);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (rp, "config"), "86800119"));

  g_assert_cmpstr (json_object_get_string_member (gpu, "parent"), ==, "0000:00:01.0");
  g_assert_cmpstr (json_object_get_string_member (gpu, "vendor"), ==, "10de");
  g_assert_cmpstr (json_object_get_string_member (gpu, "device"), ==, "2235");
  g_assert_cmpstr (json_object_get_string_member (gpu, "subsystem_vendor"), ==, "1043");
  g_assert_cmpstr (json_object_get_string_member (gpu, "class"), ==, "030200");
  g_assert_cmpstr (json_object_get_string_member (gpu, "revision"), ==, "a1");
  g_assert_cmpstr (json_object_get_string_member (gpu, "driver"), ==, "nvidia");
  g_assert_true (json_object_get_null_member (gpu, "driver_override"));
  g_assert_cmpint (json_object_get_int_member (gpu, "iommu_group"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (gpu, "numa_node"), ==, -1);
  g_assert_false (json_object_has_member (gpu, "boot_vga"));
  g_assert_false (json_object_has_member (gpu, "bridge"));
  consumers = json_object_get_array_member (gpu, "consumers");
  g_assert_cmpuint (json_array_get_length (consumers), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (consumers, 0), ==, "0000:01:00.1");
  g_assert_cmpint (json_object_get_int_member (gpu, "nvidia_minor"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (gpu, "nvidia_model"), ==, "NVIDIA A40");
  drm = json_object_get_object_member (gpu, "drm");
  g_assert_cmpint (json_object_get_int_member (drm, "card"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (drm, "render"), ==, 129);

  sr = json_object_get_object_member (gpu, "sriov");
  g_assert_cmpint (json_object_get_int_member (sr, "totalvfs"), ==, 32);
  g_assert_cmpint (json_object_get_int_member (sr, "numvfs"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (sr, "offset"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (sr, "stride"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (sr, "vf_device"), ==, "2235");
  g_assert_cmpstr (json_object_get_string_member (sr, "vf_class"), ==, "030200");
  g_assert_true (json_object_get_boolean_member (sr, "drivers_autoprobe"));

  /* Both VFs offer the same types: listed once, on the PF. */
  vgpu = json_object_get_object_member (gpu, "vgpu");
  g_assert_cmpstr (json_object_get_string_member (vgpu, "framework"), ==, "mdev-vf");
  g_assert_cmpint (json_object_get_int_member (vgpu, "framebuffer_mb"), ==, 49152);
  types = json_object_get_array_member (vgpu, "types");
  g_assert_cmpuint (json_array_get_length (types), ==, 2);
  t = json_array_get_object_element (types, 0);
  g_assert_cmpstr (json_object_get_string_member (t, "id"), ==, "nvidia-555");
  g_assert_cmpstr (json_object_get_string_member (t, "name"), ==, "NVIDIA A40-1B");
  g_assert_cmpstr (json_object_get_string_member (t, "description"), ==, MDEV_DESC_1B);
  g_assert_cmpstr (json_object_get_string_member (t, "device_api"), ==, "vfio-pci");
  g_assert_cmpint (json_object_get_int_member (t, "framebuffer_mb"), ==, 1024);
  g_assert_cmpint (json_object_get_int_member (t, "max_instance"), ==, 32);
  t = json_array_get_object_element (types, 1);
  g_assert_cmpstr (json_object_get_string_member (t, "id"), ==, "nvidia-566");
  g_assert_cmpint (json_object_get_int_member (t, "max_instance"), ==, 1);

  g_assert_false (json_object_has_member (audio, "sriov"));
  g_assert_false (json_object_has_member (audio, "vgpu"));
  g_assert_false (json_object_has_member (audio, "consumers"));

  /* The bridge that shares its group with the VGA below it isolates nothing. */
  g_assert_false (json_object_has_member (json_object_get_object_member (find (top, "devices", "bdf", "0000:00:1c.0"), "bridge"), "acs"));
  t = json_object_get_object_member (find (top, "devices", "bdf", "0000:02:00.0"), "bridge");
  g_assert_false (json_object_get_boolean_member (t, "acs"));
  g_assert_cmpint (json_object_get_int_member (t, "secondary"), ==, 3);
  g_assert_true (json_object_get_null_member (find (top, "devices", "bdf", "0000:02:00.0"), "driver"));
  g_assert_true (json_object_get_boolean_member (find (top, "devices", "bdf", "0000:03:00.0"), "boot_vga"));

  vgpu = json_object_get_object_member (find (top, "devices", "bdf", "0000:00:04.0"), "vgpu");
  g_assert_cmpstr (json_object_get_string_member (vgpu, "framework"), ==, "mdev-pf");
  g_assert_cmpint (json_object_get_int_member (vgpu, "framebuffer_mb"), ==, 16384);
  g_assert_false (json_object_has_member (vgpu, "creatable_format"));

  drv = find (top, "drivers", "name", "nvidia");
  g_assert_cmpstr (json_object_get_string_member (drv, "module"), ==, "nvidia");
  g_assert_true (json_object_get_boolean_member (drv, "sriov_configure"));
  ids = json_object_get_array_member (drv, "ids");
  g_assert_cmpuint (json_array_get_length (ids), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (ids, 0), ==, "10de:1eb8");
  g_assert_cmpstr (json_array_get_string_element (ids, 1), ==, "10de:2235");
  drv = find (top, "drivers", "name", "pcieport");
  g_assert_true (json_object_get_null_member (drv, "module"));
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (drv, "ids"), 0), ==, "8086:1901");
  g_assert_false (json_object_has_member (drv, "sriov_configure"));
  drv = find (top, "drivers", "name", "vfio-pci");
  g_assert_true (json_object_get_boolean_member (drv, "vfio"));
  g_assert_false (json_object_has_member (drv, "ids"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (top, "drivers")), ==, 5);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (top, "processes")), ==, 0);
}

/* An L40S-like PF with two VFs that list creatable types in TEXT0, TEXT1;
 * no IOMMU at all. */
static void
build_vendor_host (const char *root, const char *text0, const char *text1)
{
  const char *texts[] = { text0, text1 };

  put (root, "proc/sys/kernel/osrelease", "7.0.0-test\n");
  put (root, "proc/cmdline", "ro quiet\n");
  g_free (add_fn (root, &(Fn) { "pci0000:40/0000:40:01.1", "1022", "14ab", "060400", "pcieport", -1, 0x41, 0x41 }));
  g_free (add_fn (root, &(Fn) { "pci0000:40/0000:40:01.1/0000:41:00.0", "10de", "26b9", "030200", "nvidia", -1, 0, 0 }));
  put (root, "sys/devices/pci0000:40/0000:40:01.1/0000:41:00.0/sriov_totalvfs", "32\n");
  put (root, "sys/devices/pci0000:40/0000:40:01.1/0000:41:00.0/sriov_numvfs", "2\n");
  for (int vf = 0; vf < 2; vf++) {
    g_autofree char *path = g_strdup_printf ("pci0000:40/0000:40:01.1/0000:41:00.%d", 4 + vf);
    g_autofree char *dir = add_fn (root, &(Fn) { path, "10de", "26b9", "030200", "nvidia", -1, 0, 0 });
    g_autofree char *physfn = g_build_filename (dir, "physfn", NULL);
    g_autofree char *creatable = g_build_filename (dir, "nvidia", "creatable_vgpu_types", NULL);
    g_autofree char *current = g_build_filename (dir, "nvidia", "current_vgpu_type", NULL);

    put_link (root, physfn, "../0000:41:00.0");
    put (root, creatable, texts[vf]);
    put (root, current, "0\n");
  }
  add_driver (root, "nvidia", "nvidia");
  add_driver (root, "pcieport", NULL);
}

static void
check_vendor_types (JsonObject *top, const char *format, gboolean header, gint64 framebuffer,
                    const char *const ids[], const char *const names[], const gint64 max[], guint n)
{
  JsonObject *gpu = find (top, "devices", "bdf", "0000:41:00.0");
  JsonObject *vgpu = json_object_get_object_member (gpu, "vgpu");
  JsonArray *types = json_object_get_array_member (vgpu, "types");

  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (top, "devices")), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (vgpu, "framework"), ==, "vendor-vfio");
  g_assert_cmpstr (json_object_get_string_member (vgpu, "creatable_format"), ==, format);
  g_assert_true (json_object_get_boolean_member (vgpu, "creatable_header") == header);
  g_assert_cmpint (json_object_get_int_member (vgpu, "framebuffer_mb"), ==, framebuffer);
  g_assert_cmpuint (json_array_get_length (types), ==, n);
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element (types, i);
    g_assert_cmpstr (json_object_get_string_member (t, "id"), ==, ids[i]);
    g_assert_cmpstr (json_object_get_string_member (t, "name"), ==, names[i]);
    g_assert_cmpint (json_object_get_int_member (t, "max_instance"), ==, max[i]);
  }
}

static void
test_vendor_id_first (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *const ids[] = { "1155", "1156", "1164" };
  const char *const names[] = { "NVIDIA L40S-1Q", "NVIDIA L40S-2Q", "NVIDIA L40S-48Q" };
  const gint64 max[] = { 32, 24, 1 };
  JsonObject *top, *k, *gpu;

  /* The lists differ per VF (they shrink as vGPUs are made): the union. */
  build_vendor_host (f->root, "ID    : vGPU Name\n1155  : NVIDIA L40S-1Q\n1164  : NVIDIA L40S-48Q\n",
                     "ID : vGPU Name\n1155 : NVIDIA L40S-1Q\n1156 : NVIDIA L40S-2Q\n");
  top = capture (f, parser);
  check_vendor_types (top, "id-first", TRUE, 49152, ids, names, max, G_N_ELEMENTS (ids));

  k = json_object_get_object_member (top, "kernel");
  g_assert_cmpstr (json_object_get_string_member (k, "iommu"), ==, "none");
  g_assert_false (json_object_get_boolean_member (k, "interrupt_remapping"));
  g_assert_false (json_object_has_member (k, "iommu_group_type"));
  g_assert_false (json_object_has_member (k, "vfio_cdev"));
  g_assert_true (json_object_get_boolean_member (k, "nvidia_vgpu_manager"));
  gpu = find (top, "devices", "bdf", "0000:41:00.0");
  g_assert_false (json_object_has_member (gpu, "iommu_group"));
  g_assert_false (json_object_has_member (json_object_get_object_member (gpu, "sriov"), "vf_class"));
}

static void
test_vendor_name_first (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *const ids[] = { "1155", "1157", "1158" };
  const char *const names[] = { "NVIDIA L40S-1Q", "NVIDIA L40S-3Q", "NVIDIA L40S-4Q" };
  const gint64 max[] = { 4, 1, 1 };

  /* The largest type seen is 4 GB: that is all the framebuffer known. */
  build_vendor_host (f->root, "NVIDIA L40S-1Q  1155\nNVIDIA L40S-4Q\t1158\n", "\nNVIDIA L40S-3Q 1157\n");
  check_vendor_types (capture (f, parser), "name-first", FALSE, 4096, ids, names, max, G_N_ELEMENTS (ids));
}

/* path, size, mtime and contents of every entry, to compare before/after. */
static GString *snapshot_text;

static int
snapshot_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  g_autofree char *contents = NULL;
  g_autofree char *sum = NULL;
  gsize len = 0;

  if (S_ISREG (st->st_mode) && g_file_get_contents (path, &contents, &len, NULL))
    sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
  g_string_append_printf (snapshot_text, "%s %o %" G_GINT64_FORMAT " %ld.%09ld %ld.%09ld %s\n", path,
                          (guint) st->st_mode, (gint64) st->st_size, (long) st->st_mtim.tv_sec,
                          (long) st->st_mtim.tv_nsec, (long) st->st_ctim.tv_sec, (long) st->st_ctim.tv_nsec,
                          sum ? sum : "-");
  return 0;
}

static char *
snapshot (const char *root)
{
  snapshot_text = g_string_new ("");
  g_assert_cmpint (nftw (root, snapshot_entry, 16, FTW_PHYS), ==, 0);
  return g_string_free (g_steal_pointer (&snapshot_text), FALSE);
}

static void
test_read_only (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL, *after = NULL, *text = NULL;
  g_autoptr (GError) error = NULL;

  build_mdev_host (f->root);
  before = snapshot (f->root);
  text = sim_capture_to_json (f->root, &error);
  g_assert_no_error (error);
  after = snapshot (f->root);
  g_assert_cmpstr (before, ==, after);
}

/* A relative ROOT names the same host (links resolve against it). */
static void
test_relative_root (Fixture *f, gconstpointer data)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *parent = g_path_get_dirname (f->root);
  g_autofree char *base = g_path_get_basename (f->root);
  g_autofree char *absolute = NULL, *relative = NULL;
  g_autoptr (GError) error = NULL;

  build_mdev_host (f->root);
  absolute = sim_capture_to_json (f->root, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chdir (parent), ==, 0);
  relative = sim_capture_to_json (base, &error);
  g_assert_cmpint (chdir (cwd), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpstr (absolute, ==, relative);
}

static void
test_no_sysfs (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = sim_capture_to_json ("/nonexistent/gpuvirt-capture-root", &error);

  g_assert_null (text);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* This machine, read-only: every function that is not a VF is listed. */
static void
test_this_host (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GDir) dir = g_dir_open ("/sys/bus/pci/devices", 0, NULL);
  g_autofree char *text = NULL;
  const char *name;
  guint expected = 0;

  if (!dir) {
    g_test_skip ("no /sys/bus/pci/devices here");
    return;
  }
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *physfn = g_build_filename ("/sys/bus/pci/devices", name, "physfn", NULL);
    if (!g_file_test (physfn, G_FILE_TEST_EXISTS))
      expected++;
  }
  text = sim_capture_to_json ("/", &error);
  g_assert_no_error (error);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (json_parser_get_root (parser)), "devices")), ==, expected);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sim-capture/mdev-host", Fixture, NULL, fixture_setup, test_mdev_host, fixture_teardown);
  g_test_add ("/sim-capture/vendor-vfio/id-first", Fixture, NULL, fixture_setup, test_vendor_id_first, fixture_teardown);
  g_test_add ("/sim-capture/vendor-vfio/name-first", Fixture, NULL, fixture_setup, test_vendor_name_first, fixture_teardown);
  g_test_add ("/sim-capture/read-only", Fixture, NULL, fixture_setup, test_read_only, fixture_teardown);
  g_test_add ("/sim-capture/relative-root", Fixture, NULL, fixture_setup, test_relative_root, fixture_teardown);
  g_test_add_func ("/sim-capture/no-sysfs", test_no_sysfs);
  g_test_add_func ("/sim-capture/this-host", test_this_host);
  return g_test_run ();
}
