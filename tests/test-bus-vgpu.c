/* vGPU over the bus, end to end on the simulator: vendor-VFIO types set and
 * released on L40S VFs (by id and by name, siblings' lists shrinking and
 * recovering), mdevs created and removed on A40 VFs and on a T4, CreateVgpu
 * until a GPU is full, RemoveVgpu, the refusals that must write nothing
 * (polkit, bad input, a VM holding the vGPU), and failed writes that must
 * leave nothing half-configured. */
#include "bus-harness.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#define VGPU "org.gpuvirt.Vgpu"
#define SRIOV "org.gpuvirt.Sriov"
#define MDEV "org.gpuvirt.Mdev"
#define ACTION_VGPU "org.gpuvirt.configure-vgpu"
#define ACTION_SRIOV "org.gpuvirt.configure-sriov"

/* ---- helpers ---- */

/* The ids in a Types property, "1163 1164" */
static char *
type_ids (GDBusConnection *c, const char *bdf)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  g_autoptr (GVariant) types = bus_harness_get_property (c, path, VGPU, "Types");
  GString *ids = g_string_new (NULL);
  GVariantIter iter;
  const char *id;

  g_variant_iter_init (&iter, types);
  while (g_variant_iter_next (&iter, "(&s&suu@a{sv})", &id, NULL, NULL, NULL, NULL))
    g_string_append_printf (ids, "%s%s", ids->len ? " " : "", id);
  return g_string_free (ids, FALSE);
}

static GVariant *
no_options (void)
{
  return g_variant_new ("a{sv}", NULL);
}

static GVariant *
set_type (GDBusConnection *c, const char *vf, const char *type, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (vf);
  return bus_harness_call (c, path, VGPU, "SetType", g_variant_new ("(s@a{sv})", type, no_options ()), NULL, name,
                           message);
}

static GVariant *
release_type (GDBusConnection *c, const char *vf, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (vf);
  return bus_harness_call (c, path, VGPU, "ReleaseType", g_variant_new ("(@a{sv})", no_options ()), NULL, name,
                           message);
}

static GVariant *
create_mdev (GDBusConnection *c, const char *parent, const char *type, const char *uuid, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (parent);
  return bus_harness_call (c, path, VGPU, "CreateMdev", g_variant_new ("(ss@a{sv})", type, uuid, no_options ()),
                           G_VARIANT_TYPE ("(o)"), name, message);
}

static GVariant *
create_vgpu (GDBusConnection *c, const char *bdf, const char *type, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  return bus_harness_call (c, path, VGPU, "CreateVgpu",
                           g_variant_new ("(s@a{sv})", type, options ? options : no_options ()),
                           G_VARIANT_TYPE ("(oa{sv})"), name, message);
}

static GVariant *
remove_vgpu (GDBusConnection *c, const char *gpu, const char *object, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (gpu);
  return bus_harness_call (c, path, VGPU, "RemoveVgpu",
                           g_variant_new ("(o@a{sv})", object, options ? options : no_options ()), NULL, name,
                           message);
}

static GVariant *
set_num_vfs (GDBusConnection *c, const char *pf, guint count, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (pf);
  return bus_harness_call (c, path, SRIOV, "SetNumVfs", g_variant_new ("(u@a{sv})", count, no_options ()),
                           G_VARIANT_TYPE ("(ao)"), name, message);
}

static void
allow_all (BusHarness *h)
{
  bus_harness_polkit_allow (h, (const char *const[]) { ACTION_VGPU, ACTION_SRIOV, NULL });
}

/* Opens the VFIO group node of BDF in the simulated host: a VM holding it. */
static int
hold_vfio (BusHarness *h, GDBusConnection *c, const char *bdf)
{
  g_autofree char *node = bus_harness_device_string (c, bdf, "org.gpuvirt.Device", "VfioGroupNode");
  g_autofree char *file = g_build_filename (h->root, node, NULL);
  int fd;

  g_assert_cmpstr (node, !=, "");
  fd = open (file, O_RDWR);
  if (fd < 0)
    g_error ("open %s: %s", file, g_strerror (errno));
  return fd;
}

/* ---- vendor-specific VFIO ---- */

#define L40S "0000:01:00.0"
#define L40S_SLOW "0000:41:00.0"   /* EBUSY for 500 ms after a release */
#define L40S_COLD "0000:81:00.0"   /* no VFs at start */
#define L40S_NAME_FIRST "0000:c1:00.0"

static void
test_vendor_set_release (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (L40S, 1);
  g_autofree char *vf2 = bus_harness_vf_bdf (L40S, 2);
  g_autofree char *full_before = type_ids (c, vf1);
  g_autofree char *log = NULL;

  allow_all (h);
  g_assert_nonnull (strstr (full_before, "1163"));
  g_assert_nonnull (strstr (full_before, "1164"));

  EXPECT_ERROR (set_type (c, vf0, "L40S-99Q", &err_name, &err_message), "org.gpuvirt.Error.NoSuchType",
                "NVIDIA L40S-48Q (1164)");

  /* by short name, any case */
  bus_harness_clear_sim_log (h);
  EXPECT_OK (set_type (c, vf0, "l40s-24q", &ok_name, &ok_message));
  {
    g_autofree char *cur = bus_harness_device_string (c, vf0, VGPU, "CurrentType");
    g_autofree char *cur_name = bus_harness_device_string (c, vf0, VGPU, "CurrentTypeName");
    g_autofree char *sibling = type_ids (c, vf1);
    g_autofree char *node = bus_harness_device_string (c, vf0, "org.gpuvirt.Device", "VfioGroupNode");
    g_assert_cmpstr (cur, ==, "1163");
    g_assert_cmpstr (cur_name, ==, "NVIDIA L40S-24Q");
    /* 24 GiB of 48 left, one type per GPU: the siblings offer only 24Q */
    g_assert_cmpstr (sibling, ==, "1163");
    g_assert_true (g_str_has_prefix (node, "/dev/vfio/"));
  }
  log = bus_harness_sim_log (h);
  g_assert_cmpuint (bus_harness_count_lines (log, "current_vgpu_type"), ==, 1);

  /* the same again: nothing written */
  bus_harness_clear_sim_log (h);
  EXPECT_OK (set_type (c, vf0, "1163", &ok_name, &ok_message));
  EXPECT_OK (set_type (c, vf0, "NVIDIA L40S-24Q", &ok_name, &ok_message));
  bus_harness_assert_no_writes (h);

  /* another type on a VF that has one */
  EXPECT_ERROR (set_type (c, vf0, "L40S-12Q", &err_name, &err_message), "org.gpuvirt.Error.AlreadyExists",
                "release it first");
  /* by id, by full name, on siblings: the GPU is then full */
  EXPECT_OK (set_type (c, vf1, "1163", &ok_name, &ok_message));
  {
    g_autofree char *sibling = type_ids (c, vf2);
    g_assert_cmpstr (sibling, ==, "");
  }
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (set_type (c, vf2, "NVIDIA L40S-24Q", &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                vf2);
  /* a full GPU lists no type at all, so whether L40S-99Q exists cannot be told */
  EXPECT_ERROR (set_type (c, vf2, "L40S-99Q", &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                "remove one first");
  bus_harness_assert_no_writes (h);

  /* release: the siblings' lists recover */
  EXPECT_OK (release_type (c, vf1, &ok_name, &ok_message));
  EXPECT_OK (release_type (c, vf0, &ok_name, &ok_message));
  {
    g_autofree char *cur = bus_harness_device_string (c, vf0, VGPU, "CurrentType");
    g_autofree char *after = type_ids (c, vf2);
    g_assert_cmpstr (cur, ==, "");
    g_assert_cmpstr (after, ==, full_before);
  }
  /* releasing a free VF changes nothing */
  bus_harness_clear_sim_log (h);
  EXPECT_OK (release_type (c, vf0, &ok_name, &ok_message));
  bus_harness_assert_no_writes (h);

  /* the name-first list form */
  {
    g_autofree char *vf = bus_harness_vf_bdf (L40S_NAME_FIRST, 3);
    g_autofree char *cur = NULL;
    EXPECT_OK (set_type (c, vf, "L40S-48C", &ok_name, &ok_message));
    cur = bus_harness_device_string (c, vf, VGPU, "CurrentType");
    g_assert_cmpstr (cur, ==, "1181");
  }
}

static void
test_vendor_in_use (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf = bus_harness_vf_bdf (L40S_SLOW, 5);
  gint64 start;
  int fd;

  allow_all (h);
  EXPECT_OK (set_type (c, vf, "L40S-8Q", &ok_name, &ok_message));

  /* a VM holds it: release and disabling the VFs are refused, untouched */
  fd = hold_vfio (h, c, vf);
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (release_type (c, vf, &err_name, &err_message), "org.gpuvirt.Error.InUse", "test-bus-vgpu");
  EXPECT_ERROR (set_num_vfs (c, L40S_SLOW, 0, &err_name, &err_message), "org.gpuvirt.Error.InUse",
                "carries vGPU type 1160");
  {
    g_autofree char *path = bus_harness_device_path (vf);
    EXPECT_ERROR (remove_vgpu (c, L40S_SLOW, path, NULL, &err_name, &err_message), "org.gpuvirt.Error.InUse",
                  "stop the virtual machine");
  }
  bus_harness_assert_no_writes (h);
  close (fd);

  /* just after the VM: the driver answers EBUSY for 500 ms; retried */
  start = g_get_monotonic_time ();
  EXPECT_OK (release_type (c, vf, &ok_name, &ok_message));
  g_test_message ("released in %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  {
    g_autofree char *cur = bus_harness_device_string (c, vf, VGPU, "CurrentType");
    g_autofree char *log = bus_harness_sim_log (h);
    g_assert_cmpstr (cur, ==, "");
    g_assert_cmpuint (bus_harness_count_lines (log, "EBUSY"), >=, 1);
  }
}

/* CreateVgpu on a GPU without VFs: they are enabled, then typed, until the
 * GPU is full; RemoveVgpu of the last one with disable-vfs takes them away. */
static void
test_vendor_create_until_full (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) first = NULL;
  g_autoptr (GVariant) second = NULL;
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S_COLD, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (L40S_COLD, 1);
  const char *object = NULL;
  BusHarnessSignals seen;

  allow_all (h);
  bus_harness_signals_start (&seen, c);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
  {
    g_autofree char *fw = bus_harness_device_string (c, L40S_COLD, VGPU, "Framework");
    g_assert_cmpstr (fw, ==, "pending");
  }
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    first = create_vgpu (c, L40S_COLD, "L40S-24Q", NULL, &err_name, &err_message);
    if (!first)
      g_error ("CreateVgpu: %s: %s", err_name, err_message);
  }
  bus_harness_drain ();
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 32);
  g_variant_get_child (first, 0, "&o", &object);
  {
    g_autofree char *p = bus_harness_device_path (vf0);
    g_autofree char *address = bus_harness_vgpu_info_string (first, "address");
    g_autofree char *framework = bus_harness_vgpu_info_string (first, "framework");
    g_autofree char *type = bus_harness_vgpu_info_string (first, "type");
    g_autofree char *type_name = bus_harness_vgpu_info_string (first, "type_name");
    g_autofree char *group = bus_harness_vgpu_info_string (first, "vfio_group_node");
    g_autofree char *uuid = bus_harness_vgpu_info_string (first, "mdev_uuid");
    g_autofree char *xml = bus_harness_vgpu_info_string (first, "hostdev_xml");
    g_assert_cmpstr (object, ==, p);
    g_assert_cmpstr (address, ==, vf0);
    g_assert_cmpstr (framework, ==, "vendor-vfio");
    g_assert_cmpstr (type, ==, "1163");
    g_assert_cmpstr (type_name, ==, "NVIDIA L40S-24Q");
    g_assert_true (g_str_has_prefix (group, "/dev/vfio/"));
    g_assert_cmpstr (uuid, ==, "");
    g_assert_nonnull (strstr (xml, "managed='no'"));
    g_assert_nonnull (strstr (xml, "bus='0x81' slot='0x00' function='0x4'"));
    g_assert_true (bus_harness_paths_contain (seen.added, p));
  }
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    second = create_vgpu (c, L40S_COLD, "NVIDIA L40S-24Q", NULL, &err_name, &err_message);
    if (!second)
      g_error ("second CreateVgpu: %s: %s", err_name, err_message);
  }
  {
    g_autofree char *address = bus_harness_vgpu_info_string (second, "address");
    g_assert_cmpstr (address, ==, vf1);
  }
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (create_vgpu (c, L40S_COLD, "L40S-24Q", NULL, &err_name, &err_message),
                "org.gpuvirt.Error.NoCapacity", L40S_COLD);
  bus_harness_assert_no_writes (h);

  /* remove both; the last one takes the VFs with it */
  {
    g_autofree char *p0 = bus_harness_device_path (vf0);
    g_autofree char *p1 = bus_harness_device_path (vf1);
    GVariantBuilder b;
    EXPECT_OK (remove_vgpu (c, L40S_COLD, p0, NULL, &ok_name, &ok_message));
    g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 32);
    g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
    g_variant_builder_add (&b, "{sv}", "disable-vfs", g_variant_new_boolean (TRUE));
    EXPECT_OK (remove_vgpu (c, L40S_COLD, p1, g_variant_builder_end (&b), &ok_name, &ok_message));
    bus_harness_drain ();
    g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
    g_assert_true (bus_harness_paths_contain (seen.removed, p0));
  }
  bus_harness_signals_stop (&seen, c);
}

/* ---- mdev ---- */

#define A40 "0000:67:00.0"
#define T4 "0000:c8:00.0"
#define UUID_A "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"
#define UUID_A_PATH "/org/gpuvirt/mdevs/5b6c0f1e_2a3d_4c5b_8e9f_0a1b2c3d4e5f"

static void
test_mdev_vf (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf0 = bus_harness_vf_bdf (A40, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (A40, 1);
  g_autofree char *vf2 = bus_harness_vf_bdf (A40, 2);
  g_autofree char *generated = NULL;
  BusHarnessSignals seen;

  allow_all (h);
  bus_harness_signals_start (&seen, c);
  EXPECT_OK (set_num_vfs (c, A40, 4, &ok_name, &ok_message));
  {
    g_autofree char *fw = bus_harness_device_string (c, A40, VGPU, "Framework");
    g_assert_cmpstr (fw, ==, "mdev-vf");
  }
  /* on the PF: mdevs live on the VFs */
  EXPECT_ERROR (create_mdev (c, A40, "A40-8Q", "", &err_name, &err_message), "org.gpuvirt.Error.NotSupported",
                "on its VFs");

  /* a given UUID */
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    g_autoptr (GVariant) reply = create_mdev (c, vf0, "A40-8Q", UUID_A, &err_name, &err_message);
    const char *path = NULL;
    if (!reply)
      g_error ("CreateMdev: %s: %s", err_name, err_message);
    bus_harness_drain ();
    g_variant_get (reply, "(&o)", &path);
    g_assert_cmpstr (path, ==, UUID_A_PATH);
    g_assert_true (bus_harness_paths_contain (seen.added, UUID_A_PATH));
  }
  {
    g_autoptr (GVariant) type = bus_harness_get_property (c, UUID_A_PATH, MDEV, "Type");
    g_autoptr (GVariant) type_name = bus_harness_get_property (c, UUID_A_PATH, MDEV, "TypeName");
    g_autoptr (GVariant) parent = bus_harness_get_property (c, UUID_A_PATH, MDEV, "Parent");
    g_autoptr (GVariant) node = bus_harness_get_property (c, UUID_A_PATH, MDEV, "VfioGroupNode");
    g_autofree char *vf0_path = bus_harness_device_path (vf0);
    g_autofree char *sim = bus_harness_read_sim (h, "sys/bus/mdev/devices/" UUID_A "/mdev_type/name");
    g_assert_cmpstr (g_variant_get_string (type, NULL), ==, "nvidia-562");
    g_assert_cmpstr (g_variant_get_string (type_name, NULL), ==, "NVIDIA A40-8Q");
    g_assert_cmpstr (g_variant_get_string (parent, NULL), ==, vf0_path);
    g_assert_true (g_str_has_prefix (g_variant_get_string (node, NULL), "/dev/vfio/"));
    g_assert_cmpstr (sim, ==, "NVIDIA A40-8Q");
  }

  bus_harness_clear_sim_log (h);
  /* the same UUID again, a malformed one, a VF that already hosts one */
  EXPECT_ERROR (create_mdev (c, vf1, "A40-8Q", UUID_A, &err_name, &err_message), "org.gpuvirt.Error.AlreadyExists",
                UUID_A);
  EXPECT_ERROR (create_mdev (c, vf1, "A40-8Q", "not-a-uuid", &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "not-a-uuid");
  EXPECT_ERROR (create_mdev (c, vf0, "nvidia-562", "", &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                "available_instances");
  EXPECT_ERROR (create_mdev (c, vf1, "A40-7Q", "", &err_name, &err_message), "org.gpuvirt.Error.NoSuchType",
                "NVIDIA A40-8Q");
  bus_harness_assert_no_writes (h);

  /* a generated UUID */
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    g_autoptr (GVariant) reply = create_mdev (c, vf1, "nvidia-562", "", &err_name, &err_message);
    const char *path = NULL;
    if (!reply)
      g_error ("CreateMdev with a generated UUID: %s: %s", err_name, err_message);
    g_variant_get (reply, "(&o)", &path);
    g_assert_true (g_str_has_prefix (path, "/org/gpuvirt/mdevs/"));
    generated = g_strdup (path);
  }

  /* disabling the VFs is refused while they host mdevs */
  EXPECT_ERROR (set_num_vfs (c, A40, 0, &err_name, &err_message), "org.gpuvirt.Error.InUse", "hosts mdev " UUID_A);
  {
    /* a VM holds one: Remove refused */
    g_autoptr (GVariant) node = bus_harness_get_property (c, UUID_A_PATH, MDEV, "VfioGroupNode");
    g_autofree char *file = g_build_filename (h->root, g_variant_get_string (node, NULL), NULL);
    int fd = open (file, O_RDWR);
    g_assert_cmpint (fd, >=, 0);
    EXPECT_ERROR (bus_harness_call (c, UUID_A_PATH, MDEV, "Remove", g_variant_new ("(@a{sv})", no_options ()), NULL,
                                    &err_name, &err_message),
                  "org.gpuvirt.Error.InUse", "test-bus-vgpu");
    close (fd);
  }
  EXPECT_OK (bus_harness_call (c, UUID_A_PATH, MDEV, "Remove", g_variant_new ("(@a{sv})", no_options ()), NULL,
                               &ok_name, &ok_message));
  bus_harness_drain ();
  g_assert_true (bus_harness_paths_contain (seen.removed, UUID_A_PATH));
  {
    g_autofree char *gone = bus_harness_read_sim (h, "sys/bus/mdev/devices/" UUID_A "/mdev_type/name");
    g_assert_cmpstr (gone, ==, "");
  }
  /* RemoveVgpu of the other through its GPU, and the VFs with it */
  {
    GVariantBuilder b;
    g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
    g_variant_builder_add (&b, "{sv}", "disable-vfs", g_variant_new_boolean (TRUE));
    EXPECT_ERROR (remove_vgpu (c, "0000:e8:00.0", generated, NULL, &err_name, &err_message),
                  "org.freedesktop.DBus.Error.InvalidArgs", "not on 0000:e8:00.0");
    EXPECT_OK (remove_vgpu (c, A40, generated, g_variant_builder_end (&b), &ok_name, &ok_message));
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, A40), ==, 0);
  (void) vf2;
  bus_harness_signals_stop (&seen, c);
}

/* A40-24Q: two per GPU, one per VF, then no capacity; the cold GPU gets
 * its VFs on the way. */
static void
test_mdev_create_until_full (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) first = NULL;
  g_autoptr (GVariant) second = NULL;
  g_autofree char *vf0 = bus_harness_vf_bdf (A40, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (A40, 1);
  GVariantBuilder b;

  allow_all (h);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "uuid", g_variant_new_string (UUID_A));
  g_variant_builder_add (&b, "{sv}", "num-vfs", g_variant_new_uint32 (8));
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    first = create_vgpu (c, A40, "A40-24Q", g_variant_builder_end (&b), &err_name, &err_message);
    if (!first)
      g_error ("CreateVgpu: %s: %s", err_name, err_message);
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, A40), ==, 8);
  {
    const char *object = NULL;
    g_autofree char *address = bus_harness_vgpu_info_string (first, "address");
    g_autofree char *framework = bus_harness_vgpu_info_string (first, "framework");
    g_autofree char *uuid = bus_harness_vgpu_info_string (first, "mdev_uuid");
    g_autofree char *xml = bus_harness_vgpu_info_string (first, "hostdev_xml");
    g_variant_get_child (first, 0, "&o", &object);
    g_assert_cmpstr (object, ==, UUID_A_PATH);
    g_assert_cmpstr (address, ==, vf0);
    g_assert_cmpstr (framework, ==, "mdev-vf");
    g_assert_cmpstr (uuid, ==, UUID_A);
    g_assert_nonnull (strstr (xml, "type='mdev'"));
    g_assert_nonnull (strstr (xml, UUID_A));
  }
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    second = create_vgpu (c, A40, "nvidia-565", NULL, &err_name, &err_message);
    if (!second)
      g_error ("second CreateVgpu: %s: %s", err_name, err_message);
  }
  {
    g_autofree char *address = bus_harness_vgpu_info_string (second, "address");
    g_autofree char *uuid = bus_harness_vgpu_info_string (second, "mdev_uuid");
    g_assert_cmpstr (address, ==, vf1);
    g_assert_cmpuint (strlen (uuid), ==, 36);
  }
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (create_vgpu (c, A40, "A40-24Q", NULL, &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                NULL);
  /* vendor-VFIO has no UUID */
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "uuid", g_variant_new_string ("bad"));
  EXPECT_ERROR (create_vgpu (c, A40, "A40-24Q", g_variant_builder_end (&b), &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "bad");
  bus_harness_assert_no_writes (h);

  /* RemoveVgpu given the VF that hosts the one mdev */
  {
    g_autofree char *p = bus_harness_device_path (vf0);
    g_autofree char *gone = NULL;
    EXPECT_OK (remove_vgpu (c, A40, p, NULL, &ok_name, &ok_message));
    gone = bus_harness_read_sim (h, "sys/bus/mdev/devices/" UUID_A "/mdev_type/name");
    g_assert_cmpstr (gone, ==, "");
  }
}

/* The T4 advertises SR-IOV, but its vGPUs are mdevs on the PF: CreateVgpu
 * never touches sriov_numvfs and never waits for VFs. */
static void
test_t4_mdev_pf (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *fw = bus_harness_device_string (c, T4, VGPU, "Framework");
  g_autofree char *log = NULL;
  gint64 start;

  g_assert_cmpstr (fw, ==, "mdev-pf");
  allow_all (h);
  bus_harness_clear_sim_log (h);
  start = g_get_monotonic_time ();
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    reply = create_vgpu (c, T4, "T4-8Q", NULL, &err_name, &err_message);
    if (!reply)
      g_error ("CreateVgpu on the T4: %s: %s", err_name, err_message);
  }
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  {
    g_autofree char *address = bus_harness_vgpu_info_string (reply, "address");
    g_autofree char *framework = bus_harness_vgpu_info_string (reply, "framework");
    g_assert_cmpstr (address, ==, T4);
    g_assert_cmpstr (framework, ==, "mdev-pf");
  }
  EXPECT_OK (create_vgpu (c, T4, "GRID T4-8Q", NULL, &ok_name, &ok_message));
  EXPECT_ERROR (create_vgpu (c, T4, "T4-8Q", NULL, &err_name, &err_message), "org.gpuvirt.Error.NoCapacity", NULL);
  log = bus_harness_sim_log (h);
  g_assert_cmpuint (bus_harness_count_lines (log, "sriov_numvfs"), ==, 0);
  g_assert_cmpuint (bus_harness_count_lines (log, "/create"), ==, 2);
  g_assert_cmpuint (bus_harness_num_vfs (c, T4), ==, 0);
}

/* ---- refusals that write nothing ---- */

static void
test_denied_and_bad_input (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S, 0);
  g_autofree char *script = NULL;
  GVariantBuilder b;

  /* polkit allows nothing; run as nobody so polkit is asked */
  bus_harness_clear_sim_log (h);
  {
    g_autofree char *path = bus_harness_device_path (vf0);
    g_autofree char *gpu_path = bus_harness_device_path (L40S_COLD);
    const char *const calls[][2] = {
      { path, "SetType sa{sv} L40S-24Q 0" },
      { gpu_path, "CreateVgpu sa{sv} L40S-24Q 0" },
      { gpu_path, "CreateVgpus sua{sv} L40S-24Q 2 0" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (calls); i++) {
      g_auto (GStrv) words = g_strsplit (calls[i][1], " ", -1);
      const char *argv[] = { "busctl", "--system", "call", "org.gpuvirt", calls[i][0], VGPU, words[0], words[1],
                             words[2], words[3], words[4], NULL };
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = bus_harness_run (h, TRUE, argv, &out, &err);
      g_test_message ("%s: %d %s", calls[i][1], status, err);
      g_assert_cmpint (status, !=, 0);
      g_assert_nonnull (strstr (err, "ccess denied"));
    }
  }
  bus_harness_assert_no_writes (h);
  {
    g_autofree char *cur = bus_harness_device_string (c, vf0, VGPU, "CurrentType");
    g_assert_cmpstr (cur, ==, "");
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);

  allow_all (h);
  EXPECT_ERROR (set_type (c, vf0, "", &err_name, &err_message), "org.freedesktop.DBus.Error.InvalidArgs", "No vGPU type");
  EXPECT_ERROR (set_type (c, L40S, "L40S-24Q", &err_name, &err_message), "org.gpuvirt.Error.NotSupported", "not a VF");
  EXPECT_ERROR (create_vgpu (c, L40S, "L40S-77Q", NULL, &err_name, &err_message), "org.gpuvirt.Error.NoSuchType",
                "NVIDIA L40S-24Q (1163)");
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "num-vfs", g_variant_new_uint32 (64));
  EXPECT_ERROR (create_vgpu (c, L40S_COLD, "L40S-24Q", g_variant_builder_end (&b), &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "TotalVfs");
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "colour", g_variant_new_string ("green"));
  EXPECT_ERROR (create_vgpu (c, L40S, "L40S-24Q", g_variant_builder_end (&b), &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "colour");
  EXPECT_ERROR (set_num_vfs (c, L40S_COLD, 33, &err_name, &err_message), "org.freedesktop.DBus.Error.InvalidArgs",
                "at most 32");
  EXPECT_ERROR (remove_vgpu (c, L40S, "/org/gpuvirt/devices/pci_0000_01_00_4", NULL, &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "carries no vGPU type");
  EXPECT_ERROR (remove_vgpu (c, L40S, "/org/gpuvirt/elsewhere", NULL, &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "neither");
  /* a control character in a type is named and shown, not swallowed by
   * the terminal (it read "offers no vGPU type “1163”" while 1163 was there) */
  EXPECT_ERROR (set_type (c, vf0, "1163\x01", &err_name, &err_message), "org.freedesktop.DBus.Error.InvalidArgs",
                "“1163\\x01” is not a vGPU type: it holds a control character");
  EXPECT_ERROR (create_vgpu (c, L40S, "L40S-24Q\x1b[2J", NULL, &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "L40S-24Q\\x1b[2J");
  bus_harness_assert_no_writes (h);
  (void) script;
}

static void
test_no_framework (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("workstation");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);

  allow_all (h);
  bus_harness_clear_sim_log (h);
  /* no Vgpu interface there: NotSupported with the reason */
  EXPECT_ERROR (create_vgpu (c, "0000:01:00.0", "A40-8Q", NULL, &err_name, &err_message),
                "org.gpuvirt.Error.NotSupported", "no vGPU framework");
  EXPECT_ERROR (set_type (c, "0000:01:00.1", "A40-8Q", &err_name, &err_message), "org.gpuvirt.Error.NotSupported",
                "not a GPU");
  bus_harness_assert_no_writes (h);
}

/* ---- failed writes ---- */

/* CreateVgpu on a cold L40S makes two writes: sriov_numvfs, then
 * current_vgpu_type. Fail each: afterwards no VF is left enabled and no
 * type set, and the error names the errno. */
static void
test_create_faults (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  const char *const faults[] = {
    "sys/devices/*/sriov_numvfs errno=EIO data=32 count=1",
    "sys/devices/*/nvidia/current_vgpu_type errno=EIO count=1",
    "sys/devices/*/nvidia/current_vgpu_type errno=ENOSPC count=32",
  };

  allow_all (h);
  for (guint i = 0; i < G_N_ELEMENTS (faults); i++) {
    g_autofree char *faults_left = NULL;
    g_test_message ("fault: %s", faults[i]);
    g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", faults[i]), ==, 0);
    EXPECT_ERROR (create_vgpu (c, L40S_COLD, "L40S-24Q", NULL, &err_name, &err_message),
                  "org.gpuvirt.Error.KernelError", i == 2 ? "ENOSPC" : "EIO");
    g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
    {
      g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_COLD "/sriov_numvfs");
      g_assert_cmpstr (numvfs, ==, "0");
    }
    g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "clear"), ==, 0);
  }
  /* and then it works */
  EXPECT_OK (create_vgpu (c, L40S_COLD, "L40S-24Q", NULL, &ok_name, &ok_message));
}

/* A hung write: Stuck, the VF stays Busy until the write returns, then
 * the model catches up. */
static void
test_stuck (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf = bus_harness_vf_bdf (L40S, 7);
  GVariantBuilder b;

  allow_all (h);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/devices/*/nvidia/current_vgpu_type hang count=1"), ==, 0);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "timeout-ms", g_variant_new_uint32 (300));
  {
    g_autofree char *path = bus_harness_device_path (vf);
    EXPECT_ERROR (bus_harness_call (c, path, VGPU, "SetType",
                                    g_variant_new ("(s@a{sv})", "L40S-4Q", g_variant_builder_end (&b)), NULL,
                                    &err_name, &err_message),
                  "org.gpuvirt.Error.Stuck", "300 ms");
  }
  EXPECT_ERROR (set_type (c, vf, "L40S-4Q", &err_name, &err_message), "org.gpuvirt.Error.Busy", vf);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "release"), ==, 0);
  for (int i = 0; i < 100; i++) {
    g_autofree char *cur = bus_harness_device_string (c, vf, VGPU, "CurrentType");
    if (g_str_equal (cur, "1158"))
      break;
    g_usleep (100000);
  }
  {
    g_autofree char *cur = bus_harness_device_string (c, vf, VGPU, "CurrentType");
    g_assert_cmpstr (cur, ==, "1158");
  }
  /* no longer busy */
  EXPECT_OK (release_type (c, vf, &ok_name, &ok_message));
}

/* gpuvirtd killed while CreateVgpu's type write hangs, after it enabled
 * the VFs: the next start undoes the half-made vGPU (no type, no VFs). */
static void
test_killed (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GDBusMessage) msg = g_dbus_message_new_method_call ("org.gpuvirt", "/org/gpuvirt/devices/pci_0000_81_00_0",
                                                                 VGPU, "CreateVgpu");
  int status;

  allow_all (h);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "sys/devices/*/nvidia/current_vgpu_type hang count=1"), ==, 0);
  g_dbus_message_set_body (msg, g_variant_new ("(s@a{sv})", "L40S-24Q", no_options ()));
  g_assert_true (g_dbus_connection_send_message (c, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL));
  for (int i = 0; i < 200; i++) {
    g_autofree char *faults = bus_harness_read_sim (h, ".sim/faults");
    if (!*faults)
      break;
    g_usleep (50000);
  }
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_COLD "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "32");
  }
  kill (h->daemon_pid, SIGKILL);
  /* the hung write completes as the process dies, as a kernel write would */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", "release"), ==, 0);
  waitpid (h->daemon_pid, &status, 0);
  g_spawn_close_pid (h->daemon_pid);
  h->daemon_pid = 0;

  bus_harness_restart_daemon (h);
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_COLD "/sriov_numvfs");
    g_autofree char *log = bus_harness_daemon_log (h);
    g_test_message ("%s", log);
    g_assert_cmpstr (numvfs, ==, "0");
  }
}

/* ---- what is announced: each change once, none without a signal ---- */

/* Runs CALL (a GVariant expression using c) between two snapshots of every
 * property and checks what was announced; returns what was announced. */
#define CHECK_ANNOUNCED(c, what, call)                                                                                 \
  ({                                                                                                                   \
    g_autoptr (GHashTable) before_ = bus_harness_all_properties (c);                                                   \
    g_autoptr (GHashTable) after_ = NULL;                                                                              \
    BusHarnessChanges changes_;                                                                                        \
    GHashTable *announced_;                                                                                            \
    bus_harness_changes_start (&changes_, c);                                                                          \
    EXPECT_OK (call);                                                                                                  \
    bus_harness_drain ();                                                                                              \
    announced_ = bus_harness_changes_stop (&changes_, c);                                                              \
    after_ = bus_harness_all_properties (c);                                                                           \
    bus_harness_assert_announced_once (before_, after_, announced_, what);                                             \
    announced_;                                                                                                        \
  })

static gboolean
was_announced (GHashTable *announced, const char *bdf, const char *iface, const char *prop)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  g_autofree char *key = g_strdup_printf ("%s %s %s", path, iface, prop);
  return g_hash_table_contains (announced, key);
}

static void
test_signals_mdev (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GHashTable) created = NULL;
  g_autoptr (GHashTable) removed = NULL;
  GVariantBuilder b;

  allow_all (h);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "uuid", g_variant_new_string (UUID_A));
  g_variant_builder_add (&b, "{sv}", "num-vfs", g_variant_new_uint32 (4));
  created = CHECK_ANNOUNCED (c, "CreateVgpu on the A40",
                             create_vgpu (c, A40, "A40-24Q", g_variant_builder_end (&b), &ok_name, &ok_message));
  g_assert_true (was_announced (created, A40, VGPU, "Mdevs"));
  /* the mdev goes: the GPU's Mdevs and the types its VFs offer change,
   * and are announced (they were not: point 4 of issue 14) */
  removed = CHECK_ANNOUNCED (c, "RemoveVgpu on the A40",
                             remove_vgpu (c, A40, UUID_A_PATH, NULL, &ok_name, &ok_message));
  g_assert_true (was_announced (removed, A40, VGPU, "Mdevs"));
  g_assert_true (was_announced (removed, A40, VGPU, "Types"));
}

static void
test_signals_vendor (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S, 0);
  g_autoptr (GHashTable) set = NULL;
  g_autoptr (GHashTable) released = NULL;

  allow_all (h);
  set = CHECK_ANNOUNCED (c, "SetType", set_type (c, vf0, "L40S-24Q", &ok_name, &ok_message));
  g_assert_true (was_announced (set, vf0, VGPU, "CurrentType"));
  g_assert_true (was_announced (set, L40S, VGPU, "Types"));
  /* the type does not change the framework: never announced */
  g_assert_false (was_announced (set, vf0, VGPU, "Framework"));
  released = CHECK_ANNOUNCED (c, "ReleaseType", release_type (c, vf0, &ok_name, &ok_message));
  g_assert_true (was_announced (released, vf0, VGPU, "CurrentType"));
}

/* The GPU's Types say how many more vGPUs of each type fit, and how many
 * the GPU holds at most: by framebuffer (48 GiB), not by how many free VFs
 * list the type (it said 32 for L40S-48Q, of which 1 fits). */
static void
assert_type_figures (GDBusConnection *c, const char *bdf, const char *id, guint available, guint max)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  g_autoptr (GVariant) types = bus_harness_get_property (c, path, VGPU, "Types");
  GVariantIter iter;
  const char *tid;
  guint avail;
  GVariant *details;
  gboolean found = FALSE;

  g_variant_iter_init (&iter, types);
  while (g_variant_iter_next (&iter, "(&s&suu@a{sv})", &tid, NULL, NULL, &avail, &details)) {
    if (g_str_equal (tid, id)) {
      guint32 m = 0;
      found = TRUE;
      g_assert_true (g_variant_lookup (details, "max_instance", "u", &m));
      if (avail != available || m != max)
        g_error ("%s type %s: available %u (want %u), max_instance %u (want %u)", bdf, id, avail, available, m, max);
    }
    g_variant_unref (details);
  }
  if (!found)
    g_error ("%s lists no type %s", bdf, id);
}

static void
test_vendor_capacity (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S, 0);

  allow_all (h);
  assert_type_figures (c, L40S, "1164", 1, 1);   /* 48Q: the whole GPU */
  assert_type_figures (c, L40S, "1163", 2, 2);   /* 24Q */
  assert_type_figures (c, L40S, "1161", 4, 4);   /* 12Q */
  assert_type_figures (c, L40S, "1153", 32, 32); /* 1B: 48 by framebuffer, but 32 VFs */
  EXPECT_OK (set_type (c, vf0, "L40S-24Q", &ok_name, &ok_message));
  assert_type_figures (c, L40S, "1163", 1, 2);
}

static GVariant *
create_vgpus (GDBusConnection *c, const char *bdf, const char *type, guint count, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  return bus_harness_call (c, path, VGPU, "CreateVgpus", g_variant_new ("(sua{sv})", type, count, NULL),
                           G_VARIANT_TYPE ("(a(oa{sv}))"), name, message);
}

/* How many VFs of PF carry a type, read from the simulated sysfs. */
static guint
typed_vfs (BusHarness *h, const char *pf)
{
  guint n = 0;
  for (guint i = 0; i < 32; i++) {
    g_autofree char *vf = bus_harness_vf_bdf (pf, i);
    g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/nvidia/current_vgpu_type", vf);
    g_autofree char *cur = bus_harness_read_sim (h, rel);
    if (cur && !g_str_equal (g_strstrip (cur), "0"))
      n++;
  }
  return n;
}

/* CreateVgpus: N vGPUs in one call (the VFs enabled by it), each answered
 * with what CreateVgpu answers; a batch that does not fit by the GPU's
 * figures is refused before any write; one that fails half way leaves
 * nothing of it, VFs included (issue 20). */
static void
test_vendor_batch (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GVariant) made = NULL;
  g_autoptr (GVariant) vgpus = NULL;
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S_COLD, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (L40S_COLD, 1);
  GVariantIter iter;
  const char *object;
  GVariant *info;
  guint n = 0;

  allow_all (h);
  /* refused before anything is written */
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (create_vgpus (c, L40S_COLD, "L40S-24Q", 0, &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "count 0");
  EXPECT_ERROR (create_vgpus (c, L40S, "L40S-24Q", 3, &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                "room for 2 more");
  EXPECT_ERROR (create_vgpus (c, L40S_COLD, "L40S-1Q", 33, &err_name, &err_message),
                "org.gpuvirt.Error.NoCapacity", "room for 32 more");
  bus_harness_assert_no_writes (h);

  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    made = create_vgpus (c, L40S_COLD, "L40S-24Q", 2, &err_name, &err_message);
    if (!made)
      g_error ("CreateVgpus: %s: %s", err_name, err_message);
  }
  vgpus = g_variant_get_child_value (made, 0);
  g_variant_iter_init (&iter, vgpus);
  while (g_variant_iter_next (&iter, "(&o@a{sv})", &object, &info)) {
    g_autofree char *want = bus_harness_device_path (n == 0 ? vf0 : vf1);
    const char *type = NULL;
    g_assert_cmpstr (object, ==, want);
    g_assert_true (g_variant_lookup (info, "type", "&s", &type));
    g_assert_cmpstr (type, ==, "1163");
    g_variant_unref (info);
    n++;
  }
  g_assert_cmpuint (n, ==, 2);
  bus_harness_drain ();
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 32);
  g_assert_cmpuint (typed_vfs (h, L40S_COLD), ==, 2);
  /* full: the next is refused, by the figures or by the kernel */
  EXPECT_ERROR (create_vgpus (c, L40S_COLD, "L40S-24Q", 1, &err_name, &err_message), "org.gpuvirt.Error.NoCapacity",
                "L40S-24Q");
  {
    g_autofree char *cur = bus_harness_device_string (c, vf1, VGPU, "CurrentType");
    g_assert_cmpstr (cur, ==, "1163");
  }
}

/* A batch whose third write fails: the two made are released, the VFs it
 * enabled disabled, and the error says so. */
static void
test_vendor_batch_rollback (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);

  g_autofree char *vf2 = bus_harness_vf_bdf (L40S_COLD, 2);
  g_autofree char *fault = g_strdup_printf ("sys/devices/*%s/nvidia/current_vgpu_type errno=EIO count=1", vf2);

  allow_all (h);
  /* the VFs are taken in order: the third vGPU's write fails */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/faults", fault), ==, 0);
  {
    g_autofree char *err_name = NULL, *err_message = NULL;
    g_autoptr (GVariant) made = create_vgpus (c, L40S_COLD, "L40S-1Q", 4, &err_name, &err_message);
    g_assert_null (made);
    g_test_message ("%s: %s", err_name, err_message);
    g_assert_cmpstr (err_name, ==, "org.gpuvirt.Error.KernelError");
    g_assert_nonnull (strstr (err_message, "vGPU 3 of 4"));
    g_assert_nonnull (strstr (err_message, "the 2 vGPUs this call made before were removed again"));
    g_assert_nonnull (strstr (err_message, "were disabled again"));
  }
  bus_harness_drain ();
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
  {
    g_autofree char *numvfs = bus_harness_read_sim (h, "sys/bus/pci/devices/" L40S_COLD "/sriov_numvfs");
    g_assert_cmpstr (numvfs, ==, "0");
  }
}

/* A host whose GPUs all come up without VFs lists no type before the
 * first CreateVgpu: the figures must still count the whole GPU, whose
 * largest type (L40S-48Q) showed only on the lists read before the first
 * type was set (issue 14, point 6, as seen in the test VM). */
static void
test_vendor_capacity_cold (void)
{
  g_autofree char *source = g_build_filename (SCENARIO_DIR, "l40s-vendor-vfio.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gpuvirt-cold-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "l40s-cold.json", NULL);
  g_auto (GStrv) parts = NULL;
  g_autofree char *cold = NULL;

  g_assert_true (g_file_get_contents (source, &text, NULL, NULL));
  parts = g_strsplit (text, "\"numvfs\": 32", -1);
  g_assert_cmpuint (g_strv_length (parts), ==, 4); /* three GPUs had VFs */
  cold = g_strjoinv ("\"numvfs\": 0", parts);
  g_assert_true (g_file_set_contents (path, cold, -1, NULL));
  {
    g_autoptr (BusHarness) h = bus_harness_start (path);
    g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
    g_autofree char *err_name = NULL, *err_message = NULL;
    g_autoptr (GVariant) made = NULL;

    allow_all (h);
    made = create_vgpu (c, L40S, "L40S-24Q", NULL, &err_name, &err_message);
    if (!made)
      g_error ("CreateVgpu: %s: %s", err_name, err_message);
    bus_harness_drain ();
    assert_type_figures (c, L40S, "1163", 1, 2); /* 24Q: one more fits */
  }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vgpu/vendor/set-release", test_vendor_set_release);
  g_test_add_func ("/vgpu/vendor/in-use", test_vendor_in_use);
  g_test_add_func ("/vgpu/vendor/create-until-full", test_vendor_create_until_full);
  g_test_add_func ("/vgpu/vendor/capacity", test_vendor_capacity);
  g_test_add_func ("/vgpu/vendor/capacity-cold", test_vendor_capacity_cold);
  g_test_add_func ("/vgpu/vendor/batch", test_vendor_batch);
  g_test_add_func ("/vgpu/vendor/batch-rollback", test_vendor_batch_rollback);
  g_test_add_func ("/vgpu/mdev/vf", test_mdev_vf);
  g_test_add_func ("/vgpu/mdev/create-until-full", test_mdev_create_until_full);
  g_test_add_func ("/vgpu/mdev/t4-on-pf", test_t4_mdev_pf);
  g_test_add_func ("/vgpu/refused/denied-and-bad-input", test_denied_and_bad_input);
  g_test_add_func ("/vgpu/refused/no-framework", test_no_framework);
  g_test_add_func ("/vgpu/faults/create", test_create_faults);
  g_test_add_func ("/vgpu/faults/stuck", test_stuck);
  g_test_add_func ("/vgpu/faults/killed", test_killed);
  g_test_add_func ("/vgpu/signals/mdev", test_signals_mdev);
  g_test_add_func ("/vgpu/signals/vendor", test_signals_vendor);
  return g_test_run ();
}
