/* The persist option over the bus, end to end on the simulator: each
 * mutating method called with persist=true changes the device and
 * records the result in gpuvirtd's main configuration file (with Id=
 * from the host, comments kept), and GetConfig shows it; a drop-in that
 * sets the same key, or a main file with problems, is ConfigInvalid with
 * nothing written to the device; a save that fails after the change says
 * the change was made; Unbind has no persist. Then gpuvirtctl --persist
 * as an unprivileged user: polkit's org.gpuvirt.modify-config decides,
 * and `config show` shows what was recorded. */
#include "bus-harness.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define DEVICE "org.gpuvirt.Device"
#define MANAGER "org.gpuvirt.Manager"
#define VGPU "org.gpuvirt.Vgpu"
#define SRIOV "org.gpuvirt.Sriov"
#define MDEV "org.gpuvirt.Mdev"
#define CONFIG_ERROR "org.gpuvirt.Error.ConfigInvalid"

/* The file each test starts with: only a comment, so no boot plan runs. */
#define HEADER "# written by hand; gpuvirtd keeps this line\n"

/* ---- helpers ---- */

static char *
mdev_path (const char *uuid)
{
  g_autofree char *p = g_strdup_printf ("/org/gpuvirt/mdevs/%s", uuid);
  g_strdelimit (p + strlen ("/org/gpuvirt/mdevs/"), "-", '_');
  return g_steal_pointer (&p);
}

/* a{sv} with persist=true and the pairs given (key, GVariant*), NULL-ended. */
static GVariant *
persist_opts (const char *first, ...)
{
  GVariantBuilder b;
  va_list ap;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "persist", g_variant_new_boolean (TRUE));
  va_start (ap, first);
  for (const char *key = first; key; key = va_arg (ap, const char *))
    g_variant_builder_add (&b, "{sv}", key, va_arg (ap, GVariant *));
  va_end (ap);
  return g_variant_builder_end (&b);
}

/* "10de:26b9" as the simulated host's sysfs has it for BDF. */
static char *
sim_id (BusHarness *h, const char *bdf)
{
  g_autofree char *vrel = g_strdup_printf ("sys/bus/pci/devices/%s/vendor", bdf);
  g_autofree char *drel = g_strdup_printf ("sys/bus/pci/devices/%s/device", bdf);
  g_autofree char *vendor = bus_harness_read_sim (h, vrel);
  g_autofree char *device = bus_harness_read_sim (h, drel);

  g_assert_true (g_str_has_prefix (vendor, "0x") && g_str_has_prefix (device, "0x"));
  return g_strdup_printf ("%s:%s", vendor + 2, device + 2);
}

static char *
driver_of (BusHarness *h, const char *bdf)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/driver", bdf);
  g_autofree char *path = sim_mount_path (h->mount, rel);
  return sim_link_name (path);
}

static char *
config_text (BusHarness *h)
{
  char *text = NULL;

  if (!g_file_get_contents (h->config, &text, NULL, NULL))
    text = g_strdup ("");
  return text;
}

/* KEY of GROUP in the main file; NULL when absent (KEY NULL: the group). */
static char *
config_value (BusHarness *h, const char *group, const char *key)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *text = config_text (h);

  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, NULL))
    g_error ("the main file does not parse:\n%s", text);
  if (!key)
    return g_key_file_has_group (kf, group) ? g_strdup ("") : NULL;
  return g_key_file_get_value (kf, group, key, NULL);
}

#define ASSERT_CONFIG(h, group, key, want)                                                                             \
  G_STMT_START {                                                                                                       \
    g_autofree char *cv_value = config_value ((h), (group), (key));                                                    \
    if (g_strcmp0 (cv_value, (want)) != 0) {                                                                           \
      g_autofree char *cv_text = config_text (h);                                                                      \
      g_error ("[%s] %s is %s, expected %s, in:\n%s", (group), (key) ? (key) : "(group)",                              \
               cv_value ? cv_value : "(absent)", (want) ? (want) : "(absent)", cv_text);                               \
    }                                                                                                                  \
  } G_STMT_END

/* The comment the file started with is still there, and GetConfig shows
 * the file as stored. */
static void
assert_file_served (BusHarness *h, GDBusConnection *c)
{
  g_autofree char *text = config_text (h);
  g_autoptr (GVariant) reply = bus_harness_call (c, "/org/gpuvirt", MANAGER, "GetConfig", NULL,
                                                 G_VARIANT_TYPE ("(s)"), NULL, NULL);
  const char *served = NULL;

  g_assert_true (g_str_has_prefix (text, HEADER));
  g_assert_nonnull (reply);
  g_variant_get (reply, "(&s)", &served);
  g_assert_cmpstr (served, ==, text);
}

/* A drop-in conf.d/NAME next to the main file. */
static void
write_dropin (BusHarness *h, const char *name, const char *text)
{
  g_autofree char *dir = g_build_filename (h->dir, "conf.d", NULL);
  g_autofree char *file = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (file, text, -1, &error);
  g_assert_no_error (error);
}

static void
remove_dropin (BusHarness *h, const char *name)
{
  g_autofree char *file = g_build_filename (h->dir, "conf.d", name, NULL);
  g_assert_cmpint (g_unlink (file), ==, 0);
}

static GVariant *
device_call (GDBusConnection *c, const char *bdf, const char *method, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  return bus_harness_call (c, path, DEVICE, method, g_variant_new ("(@a{sv})", options), NULL, name, message);
}

static GVariant *
set_num_vfs (GDBusConnection *c, const char *pf, guint count, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (pf);
  return bus_harness_call (c, path, SRIOV, "SetNumVfs", g_variant_new ("(u@a{sv})", count, options),
                           G_VARIANT_TYPE ("(ao)"), name, message);
}

static GVariant *
set_type (GDBusConnection *c, const char *vf, const char *type, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (vf);
  return bus_harness_call (c, path, VGPU, "SetType", g_variant_new ("(s@a{sv})", type, options), NULL, name,
                           message);
}

static GVariant *
release_type (GDBusConnection *c, const char *vf, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (vf);
  return bus_harness_call (c, path, VGPU, "ReleaseType", g_variant_new ("(@a{sv})", options), NULL, name, message);
}

static GVariant *
create_mdev (GDBusConnection *c, const char *parent, const char *type, const char *uuid, GVariant *options,
             char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (parent);
  return bus_harness_call (c, path, VGPU, "CreateMdev", g_variant_new ("(ss@a{sv})", type, uuid, options),
                           G_VARIANT_TYPE ("(o)"), name, message);
}

static GVariant *
remove_mdev (GDBusConnection *c, const char *uuid, GVariant *options, char **name, char **message)
{
  g_autofree char *path = mdev_path (uuid);
  return bus_harness_call (c, path, MDEV, "Remove", g_variant_new ("(@a{sv})", options), NULL, name, message);
}

static GVariant *
create_vgpu (GDBusConnection *c, const char *bdf, const char *type, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (bdf);
  return bus_harness_call (c, path, VGPU, "CreateVgpu", g_variant_new ("(s@a{sv})", type, options),
                           G_VARIANT_TYPE ("(oa{sv})"), name, message);
}

static GVariant *
remove_vgpu (GDBusConnection *c, const char *gpu, const char *object, GVariant *options, char **name, char **message)
{
  g_autofree char *path = bus_harness_device_path (gpu);
  return bus_harness_call (c, path, VGPU, "RemoveVgpu", g_variant_new ("(o@a{sv})", object, options), NULL, name,
                           message);
}

/* ---- passthrough: workstation ---- */

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
static const char *const gpu_functions[] = { "0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3", NULL };

static void
assert_drivers (BusHarness *h, const char *want_gpu)
{
  for (guint i = 0; gpu_functions[i]; i++) {
    g_autofree char *driver = driver_of (h, gpu_functions[i]);
    if (want_gpu)
      g_assert_cmpstr (driver, ==, want_gpu);
    else
      g_assert_cmpstr (driver, !=, "vfio-pci");
  }
}

static void
test_passthrough (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("workstation", HEADER);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *id = sim_id (h, GPU);
  const char *group = "Device " GPU;

  /* Xorg and nvidia-persistenced let go of the GPU */
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", "remove 1834"), ==, 0);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/holders", "remove 1102"), ==, 0);

  /* named by its audio function: the GPU is recorded, not the companion */
  EXPECT_OK (device_call (c, AUDIO, "BindVfio", persist_opts (NULL), &ok_name, &ok_message));
  assert_drivers (h, "vfio-pci");
  ASSERT_CONFIG (h, group, "Id", id);
  ASSERT_CONFIG (h, group, "Passthrough", "true");
  ASSERT_CONFIG (h, "Device " AUDIO, NULL, NULL);
  assert_file_served (h, c);

  /* given back: the group goes, with nothing left but its Id */
  EXPECT_OK (device_call (c, GPU, "GiveBack", persist_opts (NULL), &ok_name, &ok_message));
  assert_drivers (h, NULL);
  ASSERT_CONFIG (h, group, NULL, NULL);
  assert_file_served (h, c);

  /* the Manager's bulk form, keep-going included */
  {
    g_autoptr (GVariant) reply = NULL;
    g_autofree char *name = NULL, *message = NULL;
    reply = bus_harness_call (c, "/org/gpuvirt", MANAGER, "BindVfio",
                              g_variant_new ("(^as@a{sv})", (const char *const[]) { "01:00.0", NULL },
                                             persist_opts ("keep-going", g_variant_new_boolean (TRUE), NULL)),
                              G_VARIANT_TYPE ("(a(sss))"), &name, &message);
    if (!reply)
      g_error ("Manager.BindVfio: %s: %s", name, message);
  }
  assert_drivers (h, "vfio-pci");
  ASSERT_CONFIG (h, group, "Passthrough", "true");

  /* a drop-in decides Passthrough: giving back with persist is refused
   * before anything is written, naming the drop-in */
  {
    g_autofree char *dropin = g_strdup_printf ("[Device %s]\nId=%s\nPassthrough=true\n", GPU, id);
    write_dropin (h, "50-vm.conf", dropin);
  }
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (device_call (c, GPU, "GiveBack", persist_opts (NULL), &err_name, &err_message), CONFIG_ERROR,
                "50-vm.conf");
  bus_harness_assert_no_writes (h);
  assert_drivers (h, "vfio-pci");
  ASSERT_CONFIG (h, group, "Passthrough", "true");
  {
    g_autofree char *state = bus_harness_device_string (c, GPU, DEVICE, "State");
    g_assert_cmpstr (state, ==, "vfio");
  }
  /* the same through the Manager */
  EXPECT_ERROR (bus_harness_call (c, "/org/gpuvirt", MANAGER, "GiveBack",
                                  g_variant_new ("(^as@a{sv})", (const char *const[]) { GPU, NULL }, persist_opts (NULL)),
                                  NULL, &err_name, &err_message),
                CONFIG_ERROR, "nothing was changed");
  bus_harness_assert_no_writes (h);
  remove_dropin (h, "50-vm.conf");

  /* Unbind records nothing: the contract gives it no persist */
  EXPECT_ERROR (device_call (c, GPU, "Unbind", persist_opts (NULL), &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "persist");
  EXPECT_ERROR (bus_harness_call (c, "/org/gpuvirt", MANAGER, "Unbind",
                                  g_variant_new ("(^as@a{sv})", (const char *const[]) { GPU, NULL }, persist_opts (NULL)),
                                  NULL, &err_name, &err_message),
                "org.freedesktop.DBus.Error.InvalidArgs", "persist");
  bus_harness_assert_no_writes (h);

  /* a main file with a problem is never saved: refused, nothing moves */
  {
    g_autofree char *good = config_text (h);
    g_autofree char *bad = g_strconcat (good, "[Devices 0000:01:00.0]\n", NULL);
    g_autoptr (GError) error = NULL;
    g_file_set_contents (h->config, bad, -1, &error);
    g_assert_no_error (error);
    EXPECT_ERROR (device_call (c, GPU, "GiveBack", persist_opts (NULL), &err_name, &err_message), CONFIG_ERROR,
                  "Devices");
    bus_harness_assert_no_writes (h);
    assert_drivers (h, "vfio-pci");
    /* without persist the file does not matter */
    EXPECT_OK (device_call (c, GPU, "GiveBack", g_variant_new ("a{sv}", NULL), &ok_name, &ok_message));
    assert_drivers (h, NULL);
  }
}

/* ---- SR-IOV and vendor-VFIO types: l40s-vendor-vfio ---- */

#define L40S_COLD "0000:81:00.0"   /* no VFs at start */

static void
test_sriov_types (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("l40s-vendor-vfio", HEADER);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *pf_id = sim_id (h, L40S_COLD);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S_COLD, 0);
  g_autofree char *vf0_id = NULL;
  g_autofree char *vf0_group = g_strdup_printf ("Device %s", vf0);
  const char *pf_group = "Device " L40S_COLD;

  EXPECT_OK (set_num_vfs (c, L40S_COLD, 2, persist_opts (NULL), &ok_name, &ok_message));
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 2);
  ASSERT_CONFIG (h, pf_group, "Id", pf_id);
  ASSERT_CONFIG (h, pf_group, "NumVfs", "2");
  assert_file_served (h, c);

  /* a VF's type, by its short name: recorded by its full name */
  vf0_id = sim_id (h, vf0);
  EXPECT_OK (set_type (c, vf0, "L40S-24Q", persist_opts (NULL), &ok_name, &ok_message));
  {
    g_autofree char *current = bus_harness_device_string (c, vf0, VGPU, "CurrentType");
    g_assert_cmpstr (current, ==, "1163");
  }
  ASSERT_CONFIG (h, vf0_group, "Id", vf0_id);
  ASSERT_CONFIG (h, vf0_group, "VgpuType", "NVIDIA L40S-24Q");
  ASSERT_CONFIG (h, pf_group, "NumVfs", "2");

  /* the type it carries already: nothing written to sysfs, the file stays */
  bus_harness_clear_sim_log (h);
  EXPECT_OK (set_type (c, vf0, "1163", persist_opts (NULL), &ok_name, &ok_message));
  bus_harness_assert_no_writes (h);
  ASSERT_CONFIG (h, vf0_group, "VgpuType", "NVIDIA L40S-24Q");

  /* released: the VF's group goes */
  EXPECT_OK (release_type (c, vf0, persist_opts (NULL), &ok_name, &ok_message));
  {
    g_autofree char *current = bus_harness_device_string (c, vf0, VGPU, "CurrentType");
    g_assert_cmpstr (current, ==, "");
  }
  ASSERT_CONFIG (h, vf0_group, NULL, NULL);

  /* the count as it is, persisted: only the file changes */
  EXPECT_OK (set_num_vfs (c, L40S_COLD, 0, persist_opts (NULL), &ok_name, &ok_message));
  ASSERT_CONFIG (h, pf_group, NULL, NULL);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
  bus_harness_clear_sim_log (h);
  EXPECT_OK (set_num_vfs (c, L40S_COLD, 0, g_variant_new ("a{sv}", NULL), &ok_name, &ok_message));
  {
    g_autofree char *with_vfs = g_strconcat (HEADER, "\n[Device " L40S_COLD "]\nId=", pf_id, "\nNumVfs=3\n", NULL);
    g_autoptr (GError) error = NULL;
    g_file_set_contents (h->config, with_vfs, -1, &error);
    g_assert_no_error (error);
  }
  EXPECT_OK (set_num_vfs (c, L40S_COLD, 0, persist_opts (NULL), &ok_name, &ok_message));
  bus_harness_assert_no_writes (h);
  ASSERT_CONFIG (h, pf_group, NULL, NULL);
  assert_file_served (h, c);

  /* a drop-in sets NumVfs: refused before the VFs are touched */
  {
    g_autofree char *dropin = g_strdup_printf ("[Device %s]\nId=%s\nNumVfs=4\n", L40S_COLD, pf_id);
    write_dropin (h, "60-sriov.conf", dropin);
  }
  EXPECT_ERROR (set_num_vfs (c, L40S_COLD, 2, persist_opts (NULL), &err_name, &err_message), CONFIG_ERROR,
                "60-sriov.conf");
  bus_harness_assert_no_writes (h);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
  ASSERT_CONFIG (h, pf_group, NULL, NULL);
  remove_dropin (h, "60-sriov.conf");
}

static void
test_vgpu_vendor (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("l40s-vendor-vfio", HEADER);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *pf_id = sim_id (h, L40S_COLD);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S_COLD, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (L40S_COLD, 1);
  g_autofree char *vf0_group = g_strdup_printf ("Device %s", vf0);
  g_autofree char *vf1_group = g_strdup_printf ("Device %s", vf1);
  g_autofree char *address = NULL;
  const char *pf_group = "Device " L40S_COLD;

  /* on a GPU without VFs: the VFs it enables and the VF's type */
  {
    g_autofree char *name = NULL, *message = NULL;
    g_autoptr (GVariant) reply = create_vgpu (c, L40S_COLD, "L40S-24Q",
                                              persist_opts ("num-vfs", g_variant_new_uint32 (2), NULL), &name,
                                              &message);
    if (!reply)
      g_error ("CreateVgpu: %s: %s", name, message);
    address = bus_harness_vgpu_info_string (reply, "address");
  }
  g_assert_cmpstr (address, ==, vf0);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 2);
  ASSERT_CONFIG (h, pf_group, "Id", pf_id);
  ASSERT_CONFIG (h, pf_group, "NumVfs", "2");
  {
    g_autofree char *vf_id = sim_id (h, vf0);
    ASSERT_CONFIG (h, vf0_group, "Id", vf_id);
  }
  ASSERT_CONFIG (h, vf0_group, "VgpuType", "NVIDIA L40S-24Q");
  assert_file_served (h, c);

  /* the GPU's last vGPU with disable-vfs: everything recorded goes */
  {
    g_autofree char *p = bus_harness_device_path (vf0);
    EXPECT_OK (remove_vgpu (c, L40S_COLD, p, persist_opts ("disable-vfs", g_variant_new_boolean (TRUE), NULL),
                            &ok_name, &ok_message));
  }
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 0);
  ASSERT_CONFIG (h, pf_group, NULL, NULL);
  ASSERT_CONFIG (h, vf0_group, NULL, NULL);
  assert_file_served (h, c);

  /* the VF the call picks is known only once made: a drop-in that sets
   * its type is found when saving, after the change, and the error says
   * the vGPU was made */
  EXPECT_OK (set_num_vfs (c, L40S_COLD, 2, g_variant_new ("a{sv}", NULL), &ok_name, &ok_message));
  {
    g_autofree char *vf_id = sim_id (h, vf0);
    g_autofree char *dropin = g_strdup_printf ("[Device %s]\nId=%s\nVgpuType=L40S-48Q\n", vf0, vf_id);
    write_dropin (h, "70-vgpu.conf", dropin);
  }
  {
    g_autofree char *name = NULL, *message = NULL;
    g_autoptr (GVariant) reply = create_vgpu (c, L40S_COLD, "L40S-24Q", persist_opts (NULL), &name, &message);
    bus_harness_check_error (reply, "CreateVgpu", name, message, CONFIG_ERROR, "create-vgpu");
    g_assert_nonnull (strstr (message, "was done, but the configuration could not be written"));
    g_assert_nonnull (strstr (message, "70-vgpu.conf"));
    g_assert_nonnull (strstr (message, h->config));
  }
  {
    g_autofree char *current = bus_harness_device_string (c, vf0, VGPU, "CurrentType");
    g_autofree char *text = config_text (h);
    g_assert_cmpstr (current, ==, "1163");
    g_assert_cmpstr (text, ==, HEADER);
  }
  remove_dropin (h, "70-vgpu.conf");
  /* SetType of the type the VF carries, with persist, writes only the
   * file; the VFs its PF needs at boot are recorded with it */
  bus_harness_clear_sim_log (h);
  EXPECT_OK (set_type (c, vf0, "NVIDIA L40S-24Q", persist_opts (NULL), &ok_name, &ok_message));
  bus_harness_assert_no_writes (h);
  ASSERT_CONFIG (h, vf0_group, "VgpuType", "NVIDIA L40S-24Q");
  ASSERT_CONFIG (h, pf_group, "NumVfs", "2");
  /* CreateVgpu named on a VF records that VF */
  EXPECT_OK (create_vgpu (c, vf1, "L40S-24Q", persist_opts (NULL), &ok_name, &ok_message));
  ASSERT_CONFIG (h, vf1_group, "VgpuType", "NVIDIA L40S-24Q");
  assert_file_served (h, c);
}

/* ---- mdevs: a40-mdev ---- */

#define A40 "0000:67:00.0"
#define T4 "0000:c8:00.0"          /* in big-host */
#define UUID_A "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"
#define UUID_B "0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a90"

static void
test_mdev (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("a40-mdev", HEADER);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *a40_id = sim_id (h, A40);
  g_autofree char *vf0 = bus_harness_vf_bdf (A40, 0);
  g_autofree char *vf1 = bus_harness_vf_bdf (A40, 1);
  g_autofree char *vf0_id = NULL;

  /* VFs enabled without persist; the mdev on a VF records them too, as it
   * needs them at boot */
  EXPECT_OK (set_num_vfs (c, A40, 2, g_variant_new ("a{sv}", NULL), &ok_name, &ok_message));
  vf0_id = sim_id (h, vf0);
  EXPECT_OK (create_mdev (c, vf0, "A40-8Q", UUID_A, persist_opts (NULL), &ok_name, &ok_message));
  {
    g_autofree char *p = mdev_path (UUID_A);
    g_autoptr (GVariant) type = bus_harness_get_property (c, p, MDEV, "Type");
    g_assert_cmpstr (g_variant_get_string (type, NULL), ==, "nvidia-562");
  }
  ASSERT_CONFIG (h, "Mdev " UUID_A, "Parent", vf0);
  ASSERT_CONFIG (h, "Mdev " UUID_A, "ParentId", vf0_id);
  ASSERT_CONFIG (h, "Mdev " UUID_A, "Type", "NVIDIA A40-8Q");
  ASSERT_CONFIG (h, "Device " A40, "Id", a40_id);
  ASSERT_CONFIG (h, "Device " A40, "NumVfs", "2");
  assert_file_served (h, c);

  /* removed: its group goes, the VF count stays */
  EXPECT_OK (remove_mdev (c, UUID_A, persist_opts (NULL), &ok_name, &ok_message));
  ASSERT_CONFIG (h, "Mdev " UUID_A, NULL, NULL);
  ASSERT_CONFIG (h, "Device " A40, "NumVfs", "2");

  /* a drop-in already defines that UUID otherwise: no mdev is made */
  {
    g_autofree char *dropin = g_strdup_printf ("[Mdev %s]\nParent=%s\nParentId=%s\nType=nvidia-563\n", UUID_B, vf1,
                                               vf0_id);
    write_dropin (h, "80-mdev.conf", dropin);
  }
  bus_harness_clear_sim_log (h);
  EXPECT_ERROR (create_mdev (c, vf1, "A40-8Q", UUID_B, persist_opts (NULL), &err_name, &err_message), CONFIG_ERROR,
                "80-mdev.conf");
  bus_harness_assert_no_writes (h);
  {
    g_autofree char *name = NULL;
    g_autofree char *p = mdev_path (UUID_B);
    g_autoptr (GVariant) reply = bus_harness_call (c, p, "org.freedesktop.DBus.Properties", "Get",
                                                   g_variant_new ("(ss)", MDEV, "Uuid"), NULL, &name, NULL);
    g_assert_null (reply);
  }
  remove_dropin (h, "80-mdev.conf");
  assert_file_served (h, c);
}

static void
test_mdev_pf (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("big-host", HEADER);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *t4_id = sim_id (h, T4);
  g_autofree char *generated = NULL;
  g_autofree char *generated_group = NULL;

  /* CreateVgpu on the T4 (mdevs on the GPU) with a UUID it generates */
  {
    g_autofree char *name = NULL, *message = NULL;
    g_autoptr (GVariant) reply = create_vgpu (c, T4, "T4-8Q", persist_opts (NULL), &name, &message);
    if (!reply)
      g_error ("CreateVgpu on the T4: %s: %s", name, message);
    generated = bus_harness_vgpu_info_string (reply, "mdev_uuid");
  }
  generated_group = g_strdup_printf ("Mdev %s", generated);
  ASSERT_CONFIG (h, generated_group, "Parent", T4);
  ASSERT_CONFIG (h, generated_group, "ParentId", t4_id);
  ASSERT_CONFIG (h, generated_group, "Type", "GRID T4-8Q");
  ASSERT_CONFIG (h, "Device " T4, NULL, NULL);
  /* and RemoveVgpu takes it out again */
  {
    g_autofree char *p = mdev_path (generated);
    EXPECT_OK (remove_vgpu (c, T4, p, persist_opts (NULL), &ok_name, &ok_message));
  }
  ASSERT_CONFIG (h, generated_group, NULL, NULL);
  assert_file_served (h, c);
}

/* ---- gpuvirtctl --persist, as an unprivileged user ---- */

static int
ctl (BusHarness *h, char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;
  int status;

  g_ptr_array_add (argv, (gpointer) g_getenv ("GPUVIRTCTL"));
  g_ptr_array_add (argv, (gpointer) "--no-ask-password");
  va_start (ap, err);
  for (const char *a = va_arg (ap, const char *); a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  status = bus_harness_run (h, TRUE, (const char *const *) argv->pdata, out, err);
  g_test_message ("gpuvirtctl ... -> %d\n%s%s", status, *out, *err);
  return status;
}

static void
test_client (void)
{
  g_autoptr (BusHarness) h = bus_harness_start_with_config ("l40s-vendor-vfio", HEADER);
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *pf_id = sim_id (h, L40S_COLD);
  g_autofree char *vf0 = bus_harness_vf_bdf (L40S_COLD, 0);
  char *out = NULL, *err = NULL;

  /* allowed to change the VFs, not the configuration: refused, nothing written */
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-sriov", "org.gpuvirt.configure-vgpu",
                                                        NULL });
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (ctl (h, &out, &err, "sriov", L40S_COLD, "2", "--persist", NULL), ==, 4);
  g_assert_nonnull (strstr (err, "org.gpuvirt.modify-config"));
  bus_harness_assert_no_writes (h);
  {
    g_autofree char *text = config_text (h);
    g_assert_cmpstr (text, ==, HEADER);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* with modify-config too */
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-sriov", "org.gpuvirt.configure-vgpu",
                                                        "org.gpuvirt.modify-config", NULL });
  g_assert_cmpint (ctl (h, &out, &err, "sriov", L40S_COLD, "2", "--persist", NULL), ==, 0);
  g_assert_cmpuint (bus_harness_num_vfs (c, L40S_COLD), ==, 2);
  ASSERT_CONFIG (h, "Device " L40S_COLD, "NumVfs", "2");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl (h, &out, &err, "vgpu", "create", L40S_COLD, "L40S-24Q", "--persist", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* the round trip: config show has what --persist recorded */
  g_assert_cmpint (ctl (h, &out, &err, "config", "show", NULL), ==, 0);
  {
    g_autofree char *text = config_text (h);
    g_autofree char *pf_lines = g_strdup_printf ("[Device %s]\nId=%s\nNumVfs=2\n", L40S_COLD, pf_id);
    g_autofree char *vf_lines = g_strdup_printf ("[Device %s]\n", vf0);
    g_assert_nonnull (strstr (out, h->config));
    g_assert_nonnull (strstr (out, "Problems: none"));
    g_assert_true (g_str_has_suffix (out, text));
    g_assert_nonnull (strstr (out, pf_lines));
    g_assert_nonnull (strstr (out, vf_lines));
    g_assert_nonnull (strstr (out, "VgpuType=NVIDIA L40S-24Q\n"));
    g_assert_nonnull (strstr (out, HEADER));
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl (h, &out, &err, "config", "show", "--json", NULL), ==, 0);
  {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) error = NULL;
    g_autofree char *text = config_text (h);
    JsonObject *root;
    json_parser_load_from_data (parser, out, -1, &error);
    g_assert_no_error (error);
    root = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpstr (json_object_get_string_member (root, "Text"), ==, text);
    g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (root, "ConfigFiles"), 0), ==,
                     h->config);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "ConfigErrors")), ==, 0);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* what was recorded is valid, and a second apply has nothing to do */
  g_assert_cmpint (ctl (h, &out, &err, "config", "check", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "no problems"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (ctl (h, &out, &err, "apply", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "skipped"));
  g_assert_null (strstr (out, "done "));
  bus_harness_assert_no_writes (h);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* vgpu remove --persist, then sriov off --persist: back to the header */
  g_assert_cmpint (ctl (h, &out, &err, "vgpu", "remove", vf0, "--persist", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (ctl (h, &out, &err, "sriov", L40S_COLD, "off", "--persist", NULL), ==, 0);
  {
    g_autofree char *text = config_text (h);
    g_assert_cmpstr (text, ==, HEADER);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* a drop-in that decides: exit 1 with the hint to config check */
  {
    g_autofree char *dropin = g_strdup_printf ("[Device %s]\nId=%s\nNumVfs=4\n", L40S_COLD, pf_id);
    write_dropin (h, "60-sriov.conf", dropin);
  }
  bus_harness_clear_sim_log (h);
  g_assert_cmpint (ctl (h, &out, &err, "sriov", L40S_COLD, "2", "--persist", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "60-sriov.conf"));
  g_assert_nonnull (strstr (err, "gpuvirtctl config check"));
  bus_harness_assert_no_writes (h);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/persist/passthrough", test_passthrough);
  g_test_add_func ("/persist/sriov-types", test_sriov_types);
  g_test_add_func ("/persist/vgpu-vendor", test_vgpu_vendor);
  g_test_add_func ("/persist/mdev", test_mdev);
  g_test_add_func ("/persist/mdev-pf", test_mdev_pf);
  g_test_add_func ("/persist/client", test_client);
  return g_test_run ();
}
