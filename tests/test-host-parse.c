/* The host model's parsers and its tolerance of odd input: addresses, vGPU
 * type names, both creatable_vgpu_types forms, mdev descriptions, the
 * framework decision table, and a hand-made root full of garbage that must
 * be read without a crash and with "unknown" values. */
#include "host/model.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_bdf (void)
{
  GvHostBdf a;

  g_assert_true (gv_host_bdf_parse ("0000:01:00.0", &a));
  g_assert_cmpuint (a.domain, ==, 0);
  g_assert_cmpuint (a.bus, ==, 1);
  g_assert_cmpuint (a.slot, ==, 0);
  g_assert_cmpuint (a.function, ==, 0);
  g_assert_true (gv_host_bdf_parse ("10000:ff:1f.7", &a));
  g_assert_cmpuint (a.domain, ==, 0x10000);
  g_assert_cmpuint (a.bus, ==, 0xff);
  g_assert_cmpuint (a.slot, ==, 0x1f);
  g_assert_cmpuint (a.function, ==, 7);

  static const char *const bad[] = {
    "", "0000:01:00.8", "0000:1:00.0", "000:01:00.0", "0000:01:20.0", "0000:0A:00.0",
    "0000:01:00.0 ", "0000:01:00.00", "0000:01:00", "../../etc", "0000:01:00.0/../x",
    "000000000:01:00.0", "pci0000:00", "0000-01-00.0",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (gv_host_bdf_is_valid (bad[i]));
  g_assert_false (gv_host_bdf_is_valid (NULL));
}

static void
check_name (const char *name, gboolean ok, const char *short_name, guint mb, char series)
{
  GvHostTypeName n;

  g_assert_cmpint (gv_host_type_name_parse (name, &n), ==, ok);
  g_assert_cmpstr (n.short_name, ==, short_name);
  g_assert_cmpuint (n.framebuffer_mb, ==, mb);
  g_assert_cmpint (n.series, ==, series);
  gv_host_type_name_clear (&n);
}

static void
test_type_names (void)
{
  check_name ("NVIDIA L40S-24Q", TRUE, "L40S-24Q", 24576, 'Q');
  check_name ("GRID A100-4-20C", TRUE, "A100-4-20C", 20480, 'C');
  check_name ("NVIDIA A40-1B", TRUE, "A40-1B", 1024, 'B');
  check_name ("GRID T4-16A", TRUE, "T4-16A", 16384, 'A');
  check_name ("NVIDIA H200X-141C", TRUE, "H200X-141C", 141 * 1024, 'C');
  check_name ("GRID M60-0Q", TRUE, "M60-0Q", 512, 'Q');
  check_name ("  NVIDIA\tL40S-48C  ", TRUE, "L40S-48C", 49152, 'C');
  check_name ("A40-2Q", TRUE, "A40-2Q", 2048, 'Q');
  check_name ("NVIDIA", FALSE, "NVIDIA", 0, 0);
  check_name ("NVIDIA L40S-Q", FALSE, "L40S-Q", 0, 0);
  check_name ("NVIDIA L40S-24QQ", FALSE, "L40S-24QQ", 0, 0);
  check_name ("NVIDIA L40S-24", FALSE, "L40S-24", 0, 0);
  check_name ("X-99999999Q", FALSE, "X-99999999Q", 0, 0);
  check_name ("", FALSE, "", 0, 0);
  check_name (NULL, FALSE, "", 0, 0);
}

static void
check_creatable (const char *text, guint n, const guint *ids, const char *const *names)
{
  g_autoptr (GPtrArray) types = gv_host_vendor_types_parse (text);

  g_assert_cmpuint (types->len, ==, n);
  for (guint i = 0; i < n; i++) {
    const GvHostVendorType *t = types->pdata[i];
    g_assert_cmpuint (t->id, ==, ids[i]);
    g_assert_cmpstr (t->name, ==, names[i]);
  }
}

static void
test_creatable (void)
{
  static const guint ids[] = { 1155, 1163, 558 };
  static const char *const names[] = { "NVIDIA L40S-1Q", "NVIDIA L40S-24Q", "NVIDIA A40-2Q" };

  /* id-first, with and without the header (kubevirt README, Proxmox) */
  check_creatable ("ID    : vGPU Name\n1155  : NVIDIA L40S-1Q\n1163  : NVIDIA L40S-24Q\n558 : NVIDIA A40-2Q\n", 3, ids, names);
  check_creatable ("1155 : NVIDIA L40S-1Q\n1163:NVIDIA L40S-24Q\n558\t:\tNVIDIA A40-2Q", 3, ids, names);
  /* name-first, with and without a header (dra-driver comment) */
  check_creatable ("vGPU Name    ID\nNVIDIA L40S-1Q  1155\nNVIDIA L40S-24Q  1163\nNVIDIA A40-2Q  558\n", 3, ids, names);
  check_creatable ("NVIDIA L40S-1Q 1155\r\nNVIDIA L40S-24Q\t1163\r\n  NVIDIA A40-2Q    558  \r\n", 3, ids, names);
  /* nothing, or nothing usable */
  check_creatable ("", 0, NULL, NULL);
  check_creatable (NULL, 0, NULL, NULL);
  check_creatable ("ID    : vGPU Name\n", 0, NULL, NULL);
  check_creatable ("garbage\n: no id\n12 :\n  \n1234567890 : too long\nNVIDIA 99999999999\n1155 NVIDIA\n", 0, NULL, NULL);
  check_creatable ("\x01\x02\xff\n1155 : NVIDIA L40S-1Q\n", 1, ids, names);
}

static void
test_descriptions (void)
{
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) values = NULL;
  guint mb = 0;

  gv_host_mdev_description_parse ("num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=32",
                             &keys, &values);
  g_assert_cmpstrv (keys, ((const char *const[]) { "num_heads", "frl_config", "framebuffer", "max_resolution", "max_instance", NULL }));
  g_assert_cmpstrv (values, ((const char *const[]) { "4", "45", "1024M", "5120x2880", "32", NULL }));
  g_clear_pointer (&keys, g_strfreev);
  g_clear_pointer (&values, g_strfreev);

  gv_host_mdev_description_parse ("=, ,a=,=b,,c = d = e\nf=1", &keys, &values);
  g_assert_cmpstrv (keys, ((const char *const[]) { "a", "c", "f", NULL }));
  g_assert_cmpstrv (values, ((const char *const[]) { "", "d = e", "1", NULL }));
  g_clear_pointer (&keys, g_strfreev);
  g_clear_pointer (&values, g_strfreev);
  gv_host_mdev_description_parse (NULL, &keys, &values);
  g_assert_cmpuint (g_strv_length (keys), ==, 0);

  g_assert_true (gv_host_parse_size_mb ("1024M", &mb));
  g_assert_cmpuint (mb, ==, 1024);
  g_assert_true (gv_host_parse_size_mb ("48G", &mb));
  g_assert_cmpuint (mb, ==, 49152);
  g_assert_true (gv_host_parse_size_mb ("1GB", &mb));
  g_assert_cmpuint (mb, ==, 1024);
  g_assert_true (gv_host_parse_size_mb ("2048", &mb));
  g_assert_cmpuint (mb, ==, 2048);
  g_assert_true (gv_host_parse_size_mb ("512K", &mb));
  g_assert_cmpuint (mb, ==, 0);
  static const char *const bad[] = { "", "M", "x", "1024Q", "12 M", "-1M", "99999999999999T", "1024MBB" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (gv_host_parse_size_mb (bad[i], &mb));
  g_assert_false (gv_host_parse_size_mb (NULL, &mb));
}

static void
test_class_match (void)
{
  GvHostClassMatch m;

  g_assert_true (gv_host_class_match_parse ("0108", &m));
  g_assert_cmphex (m.value, ==, 0x010800);
  g_assert_cmphex (m.mask, ==, 0xffff00);
  g_assert_true (gv_host_class_match_parse ("0x010802", &m));
  g_assert_cmphex (m.value, ==, 0x010802);
  g_assert_cmphex (m.mask, ==, 0xffffff);
  g_assert_true (gv_host_class_match_parse ("03", &m));
  g_assert_cmphex (m.value, ==, 0x030000);
  g_assert_cmphex (m.mask, ==, 0xff0000);
  static const char *const bad[] = { "", "1", "010", "01080211", "zz", "0x", "01 08" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (gv_host_class_match_parse (bad[i], &m));
  g_assert_false (gv_host_class_match_parse (NULL, &m));
}

static void
test_framework (void)
{
  static const struct {
    GvHostFrameworkEvidence e;
    const char *expect;
  } cases[] = {
    /* T4: SR-IOV advertised, mdev on the PF (gpu-operator#2365) */
    { { TRUE, "nvidia", 16, 0, FALSE, FALSE }, "mdev-pf" },
    /* A40/A100 and L40S before sriov-manage -e: unknown yet */
    { { FALSE, "nvidia", 32, 0, FALSE, FALSE }, "pending" },
    { { FALSE, "nvidia", 32, 32, TRUE, FALSE }, "mdev-vf" },
    { { FALSE, "nvidia", 32, 32, FALSE, TRUE }, "vendor-vfio" },
    /* VFs without either (no vGPU manager): plain SR-IOV */
    { { FALSE, "nvidia", 32, 4, FALSE, FALSE }, "none" },
    /* not on nvidia: no guess from sriov_totalvfs */
    { { FALSE, "", 32, 0, FALSE, FALSE }, "none" },
    { { FALSE, "vfio-pci", 32, 0, FALSE, FALSE }, "none" },
    { { FALSE, "nvme", 8, 0, FALSE, FALSE }, "none" },
    { { FALSE, "nvidia", 0, 0, FALSE, FALSE }, "none" },
    { { FALSE, NULL, 0, 0, FALSE, FALSE }, "none" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (gv_host_framework_to_string (gv_host_framework_detect (&cases[i].e)), ==, cases[i].expect);
}

/* ---- a root full of odd content ---- */

static void
put (const char *root, const char *rel, const char *content)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}

static void
link_to (const char *root, const char *rel, const char *target)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (symlink (target, path), ==, 0);
}

static void
mkdirs (const char *root, const char *rel)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

static void
remove_tree (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

#define DEV "sys/devices/pci0000:00/"

static char *
odd_root (void)
{
  g_autoptr (GError) error = NULL;
  char *root = g_dir_make_tmp ("gpuvirt-odd-XXXXXX", &error);
  g_autofree char *fifo = NULL;
  g_autofree char *big = NULL;

  g_assert_no_error (error);
  /* a well-formed GPU with an audio companion */
  link_to (root, "sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
  link_to (root, "sys/bus/pci/devices/0000:01:00.1", "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.1");
  link_to (root, "sys/bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0");
  put (root, DEV "0000:00:01.0/class", "0x060400\n");
  put (root, DEV "0000:00:01.0/vendor", "0x8086\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/vendor", "0x10de\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/device", "0x2204");            /* no newline */
  put (root, DEV "0000:00:01.0/0000:01:00.0/class", "0x030000\n\n\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/revision", "zz\n");             /* garbage */
  put (root, DEV "0000:00:01.0/0000:01:00.0/subsystem_vendor", "0x12345\n"); /* too big */
  put (root, DEV "0000:00:01.0/0000:01:00.0/numa_node", "abc\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/boot_vga", "\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/sriov_totalvfs", "-5\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/sriov_numvfs", "x\n");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/driver", "../../../../bus/pci/drivers/nvidia"); /* dangling */
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/iommu_group", "../../../../kernel/iommu_groups/notanumber");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/virtfnX", "../0000:01:00.4");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/virtfn0", "../garbage");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/virtfn", "../0000:01:00.5");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/physfn", "/");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/consumer:pci:garbage", "x");
  link_to (root, DEV "0000:00:01.0/0000:01:00.0/consumer:pci:0000:01:00.1", "x");
  mkdirs (root, DEV "0000:00:01.0/0000:01:00.0/drm/cardX");
  mkdirs (root, DEV "0000:00:01.0/0000:01:00.0/drm/card3");
  mkdirs (root, DEV "0000:00:01.0/0000:01:00.0/drm/renderD");
  mkdirs (root, DEV "0000:00:01.0/0000:01:00.0/vfio-dev/vfiox");
  /* a FIFO where an attribute should be: must not block */
  fifo = g_build_filename (root, DEV "0000:00:01.0/0000:01:00.0/driver_override", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  /* mdev types: one good, one empty, one stray file */
  put (root, DEV "0000:00:01.0/0000:01:00.0/mdev_supported_types/nvidia-1/name", "GRID T4-2Q\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/mdev_supported_types/nvidia-1/description", "framebuffer=junk, max_instance=-3\n");
  put (root, DEV "0000:00:01.0/0000:01:00.0/mdev_supported_types/nvidia-1/available_instances", "99999999999999999999\n");
  mkdirs (root, DEV "0000:00:01.0/0000:01:00.0/mdev_supported_types/empty");
  put (root, DEV "0000:00:01.0/0000:01:00.0/mdev_supported_types/stray", "x");
  /* vendor-VFIO files with junk, and a huge one */
  big = g_strnfill (GV_SYSFS_ATTR_MAX_SIZE + 1000, '7');
  put (root, DEV "0000:00:01.0/0000:01:00.0/nvidia/creatable_vgpu_types", big);
  put (root, DEV "0000:00:01.0/0000:01:00.0/nvidia/current_vgpu_type", "-1\n");
  /* the audio function: nothing but a class */
  put (root, DEV "0000:00:01.0/0000:01:00.1/class", "0x040300\n");
  /* a function directory that is a plain file, and a name that is no BDF */
  put (root, "sys/bus/pci/devices/0000:02:00.0", "not a directory");
  mkdirs (root, "sys/bus/pci/devices/garbage");
  /* nvidia's proc file without a minor, and junk processes */
  put (root, "proc/driver/nvidia/gpus/0000:01:00.0/information", "Model: x\nDevice Minor: \t abc\n");
  put (root, "proc/cmdline", "");
  mkdirs (root, "proc/123/fd");
  link_to (root, "proc/123/fd/3", "/dev/dri/card3");
  link_to (root, "proc/123/fd/4", "/dev/dri/card3");
  link_to (root, "proc/123/fd/5", "/dev/dri/card3 (deleted)");
  link_to (root, "proc/123/fd/6", "socket:[1234]");
  put (root, "proc/123/comm", "\n");
  mkdirs (root, "proc/77");               /* no fd directory */
  mkdirs (root, "proc/self");
  put (root, "proc/9x9", "");
  /* an mdev whose links point nowhere sensible */
  mkdirs (root, "sys/devices/virtual/x/5b2a5a76-3c36-4b8e-9c38-9f6c2a1e0d11");
  link_to (root, "sys/bus/mdev/devices/5b2a5a76-3c36-4b8e-9c38-9f6c2a1e0d11",
           "../../../devices/virtual/x/5b2a5a76-3c36-4b8e-9c38-9f6c2a1e0d11");
  put (root, "sys/bus/mdev/devices/stray", "");
  return root;
}

static void
test_odd_root (void)
{
  g_autofree char *root = odd_root ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new (root, &error);
  g_autoptr (GPtrArray) holders = NULL;
  GvHostDevice *gpu, *audio;
  const GvHostFunction *fn;
  const GvHostMdevType *t;

  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (host, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gv_host_get_devices (host)->len, ==, 3);

  gpu = gv_host_lookup (host, "0000:01:00.0");
  fn = gpu->fn;
  g_assert_cmphex (fn->vendor_id, ==, 0x10de);
  g_assert_cmphex (fn->device_id, ==, 0x2204);
  g_assert_cmphex (fn->class_code, ==, 0x030000);
  g_assert_cmphex (fn->revision, ==, 0);
  g_assert_cmphex (fn->subsystem_vendor_id, ==, 0);
  g_assert_cmpint (fn->numa_node, ==, -1);
  g_assert_cmpint (fn->boot_vga, ==, -1);
  g_assert_false (fn->sriov_capable);
  g_assert_cmpstr (fn->driver, ==, "nvidia"); /* the link's name, dangling or not */
  g_assert_null (fn->driver_override);
  g_assert_cmpint (fn->iommu_group, ==, -1);
  g_assert_cmpuint (g_strv_length (fn->vfs), ==, 0);
  g_assert_null (fn->physfn);
  g_assert_cmpstrv (fn->consumers, ((const char *const[]) { "0000:01:00.1", NULL }));
  g_assert_cmpstrv (fn->drm_nodes, ((const char *const[]) { "/dev/dri/card3", NULL }));
  g_assert_null (fn->vfio_cdev_node);
  g_assert_cmpint (fn->nvidia_minor, ==, -1);
  g_assert_cmpstr (fn->upstream_bridge, ==, "0000:00:01.0");
  g_assert_true (fn->mdev_parent);
  g_assert_cmpuint (fn->mdev_types->len, ==, 1);
  t = fn->mdev_types->pdata[0];
  g_assert_cmpstr (t->id, ==, "nvidia-1");
  g_assert_cmpuint (t->framebuffer_mb, ==, 2048); /* from the name, the field is junk */
  g_assert_cmpint (t->max_instance, ==, -1);
  g_assert_cmpint (t->available_instances, ==, -1);
  g_assert_cmpstr (t->device_api, ==, "");
  g_assert_nonnull (fn->vendor_vfio);
  g_assert_false (fn->vendor_vfio->current_known);
  g_assert_cmpuint (fn->vendor_vfio->creatable->len, ==, 0);
  g_assert_cmpint (gpu->role, ==, GV_HOST_ROLE_GPU);
  g_assert_cmpint (gpu->verdict, ==, GV_HOST_GROUP_NONE);
  g_assert_cmpint (gpu->framework, ==, GV_HOST_FRAMEWORK_MDEV_PF);
  g_assert_cmpstrv (gpu->companions, ((const char *const[]) { "0000:01:00.1", NULL }));

  audio = gv_host_lookup (host, "0000:01:00.1");
  g_assert_cmpint (audio->role, ==, GV_HOST_ROLE_COMPANION);
  g_assert_cmpstr (audio->fn->driver, ==, "");
  g_assert_cmphex (audio->fn->vendor_id, ==, 0);

  g_assert_cmpuint (gv_host_get_mdevs (host)->len, ==, 1);
  g_assert_cmpstr (((GvHostMdev *) gv_host_get_mdevs (host)->pdata[0])->parent, ==, "");
  g_assert_cmpstr (((GvHostMdev *) gv_host_get_mdevs (host)->pdata[0])->type_id, ==, "");
  g_assert_cmpint (((GvHostMdev *) gv_host_get_mdevs (host)->pdata[0])->iommu_group, ==, -1);

  g_assert_false (gv_host_get_facts (host)->iommu_present);
  g_assert_cmpstr (gv_host_get_facts (host)->kernel_cmdline, ==, "");
  g_assert_cmpstr (gv_host_get_facts (host)->kernel_release, ==, "");

  /* one holder entry per process and node */
  holders = gv_host_get_holders (host, "0000:01:00.0", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (holders->len, ==, 1);
  g_assert_cmpint (((GvHostHolder *) holders->pdata[0])->pid, ==, 123);
  g_assert_cmpstr (((GvHostHolder *) holders->pdata[0])->comm, ==, "");
  g_assert_cmpstr (((GvHostHolder *) holders->pdata[0])->node, ==, "/dev/dri/card3");

  /* a function that is gone, on refresh */
  {
    g_autoptr (GvHostChanges) changes = NULL;
    g_autofree char *link = g_build_filename (root, "sys/bus/pci/devices/0000:01:00.1", NULL);
    g_assert_cmpint (unlink (link), ==, 0);
    g_assert_true (gv_host_refresh_function (host, "0000:01:00.1", &changes, &error));
    g_assert_no_error (error);
    g_assert_cmpstrv (changes->removed, ((const char *const[]) { "0000:01:00.1", NULL }));
    g_assert_null (gv_host_lookup (host, "0000:01:00.1"));
    /* the GPU still names its consumer, but it is no companion any more */
    g_assert_true (g_strv_contains ((const char *const *) changes->changed, "0000:01:00.0"));
    g_assert_cmpuint (g_strv_length (gv_host_lookup (host, "0000:01:00.0")->companions), ==, 0);
  }

  remove_tree (root);
}

/* The /dev/vfio nodes are reported only when they exist: kernel 6.1 shows
 * vfio-dev/vfioN in sysfs without making /dev/vfio/devices/vfioN (seen in
 * tests/vm), and a group's node exists only while vfio-pci holds it. */
static void
test_vfio_nodes (void)
{
  g_autoptr (GError) error = NULL;
  char *root = g_dir_make_tmp ("gpuvirt-vfio-XXXXXX", &error);
  GvHostDevice *d;

  g_assert_no_error (error);
  link_to (root, "sys/bus/pci/devices/0000:03:00.0", "../../../devices/pci0000:00/0000:03:00.0");
  put (root, DEV "0000:03:00.0/class", "0x030000\n");
  put (root, DEV "0000:03:00.0/vendor", "0x10de\n");
  link_to (root, DEV "0000:03:00.0/driver", "../../../bus/pci/drivers/vfio-pci");
  link_to (root, DEV "0000:03:00.0/iommu_group", "../../../kernel/iommu_groups/5");
  mkdirs (root, DEV "0000:03:00.0/vfio-dev/vfio0");
  {
    g_autoptr (GvHost) host = gv_host_new (root, &error);
    g_assert_no_error (error);
    g_assert_true (gv_host_rescan (host, NULL, &error));
    d = gv_host_lookup (host, "0000:03:00.0");
    g_assert_nonnull (d);
    g_assert_cmpint (d->fn->iommu_group, ==, 5);
    g_assert_null (d->fn->vfio_cdev_node);
    g_assert_null (d->vfio_group_node);
  }
  put (root, "dev/vfio/5", "");
  put (root, "dev/vfio/devices/vfio0", "");
  {
    g_autoptr (GvHost) host = gv_host_new (root, &error);
    g_assert_no_error (error);
    g_assert_true (gv_host_rescan (host, NULL, &error));
    d = gv_host_lookup (host, "0000:03:00.0");
    g_assert_cmpstr (d->fn->vfio_cdev_node, ==, "/dev/vfio/devices/vfio0");
    g_assert_cmpstr (d->vfio_group_node, ==, "/dev/vfio/5");
  }
  remove_tree (root);
  g_free (root);
}

static void
test_no_root (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new ("/nonexistent-gpuvirt-root", &error);
  GvHostFunction *fn;

  g_assert_null (host);
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_ROOT);
  g_clear_error (&error);
  g_assert_null (gv_host_new ("", &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_ROOT);
  g_clear_error (&error);

  fn = gv_host_function_read ("/nonexistent-gpuvirt-root", "0000:00:00.0", NULL, &error);
  g_assert_null (fn);
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_clear_error (&error);
  fn = gv_host_function_read ("/", "../../../etc", NULL, &error);
  g_assert_null (fn);
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_null (gv_host_holders_scan ("/nonexistent-gpuvirt-root", NULL, NULL, &error));
  g_assert_nonnull (error);
}

static void
test_names (void)
{
  g_autoptr (GvHostNames) names = gv_host_names_new ();
  g_autofree char *none = gv_host_names_vendor (NULL, 0x10de);
  g_autofree char *unknown = gv_host_names_model (names, 0xfffe, 0xfffe);

  g_assert_cmpstr (none, ==, "");
  g_assert_cmpstr (unknown, ==, "");
  /* tools/deps.sh installs udev, which builds the hwdb */
  if (gv_host_names_available (names)) {
    g_autofree char *vendor = gv_host_names_vendor (names, 0x10de);
    g_autofree char *again = gv_host_names_vendor (names, 0x10de);
    g_autofree char *model = gv_host_names_model (names, 0x10de, 0x2204);
    g_assert_cmpstr (vendor, ==, "NVIDIA Corporation");
    g_assert_cmpstr (again, ==, vendor);
    g_assert_true (strstr (model, "3090") != NULL);
  } else {
    g_test_fail_printf ("no hwdb.bin: run tools/deps.sh (udev, systemd-hwdb update)");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/host/parse/bdf", test_bdf);
  g_test_add_func ("/host/parse/type-names", test_type_names);
  g_test_add_func ("/host/parse/creatable", test_creatable);
  g_test_add_func ("/host/parse/descriptions", test_descriptions);
  g_test_add_func ("/host/parse/class-match", test_class_match);
  g_test_add_func ("/host/parse/framework", test_framework);
  g_test_add_func ("/host/parse/odd-root", test_odd_root);
  g_test_add_func ("/host/parse/no-root", test_no_root);
  g_test_add_func ("/host/parse/vfio-nodes", test_vfio_nodes);
  g_test_add_func ("/host/parse/names", test_names);
  return g_test_run ();
}
