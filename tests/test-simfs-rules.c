/* The simulated host answers writes as Linux does: each test mounts the
 * "rules" scenario, writes with plain open()/write() through the mount,
 * and checks the end state and the errno. */
#include "sim-mount.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  SimMount *m;
} Fixture;

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define USB "0000:01:00.2"
#define IGPU "0000:00:02.0"
#define NVME "0000:00:03.0"
#define NIC "0000:00:04.0"
#define L40S "0000:00:05.0"
#define A40 "0000:00:06.0"
#define T4 "0000:00:07.0"
#define L40S_NAMEFIRST "0000:00:08.0"
#define BRIDGE "0000:00:01.0"

static void
setup (Fixture *f, gconstpointer data)
{
  f->m = sim_mount_start (SCENARIO_RULES);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sim_mount_stop (f->m);
}

static char *
p (Fixture *f, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static char *
p (Fixture *f, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *rel = NULL;

  va_start (ap, fmt);
  rel = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return sim_mount_path (f->m, rel);
}

static int
w (Fixture *f, const char *rel, const char *data)
{
  g_autofree char *path = sim_mount_path (f->m, rel);
  return sim_write_file (path, data);
}

static int
wdev (Fixture *f, const char *bdf, const char *attr, const char *data)
{
  g_autofree char *path = p (f, "sys/bus/pci/devices/%s/%s", bdf, attr);
  return sim_write_file (path, data);
}

static char *
r (Fixture *f, const char *rel)
{
  g_autofree char *path = sim_mount_path (f->m, rel);
  char *s = sim_read_file (path);
  return s ? g_strchomp (s) : NULL;
}

static char *
rdev (Fixture *f, const char *bdf, const char *attr)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/%s", bdf, attr);
  return r (f, rel);
}

static char *
driver_of (Fixture *f, const char *bdf)
{
  g_autofree char *path = p (f, "sys/bus/pci/devices/%s/driver", bdf);
  return sim_link_name (path);
}

static gboolean
exists (Fixture *f, const char *rel)
{
  g_autofree char *path = sim_mount_path (f->m, rel);
  struct stat st;
  return lstat (path, &st) == 0;
}

static char *
group_of (Fixture *f, const char *bdf)
{
  g_autofree char *path = p (f, "sys/bus/pci/devices/%s/iommu_group", bdf);
  return sim_link_name (path);
}

#define assert_driver(f, bdf, want) \
  G_STMT_START { g_autofree char *_d = driver_of (f, bdf); g_assert_cmpstr (_d, ==, want); } G_STMT_END
#define assert_read(f, rel, want) \
  G_STMT_START { g_autofree char *_s = r (f, rel); g_assert_cmpstr (_s, ==, want); } G_STMT_END
#define assert_attr(f, bdf, attr, want) \
  G_STMT_START { g_autofree char *_s = rdev (f, bdf, attr); g_assert_cmpstr (_s, ==, want); } G_STMT_END

/* Moves AUDIO to vfio-pci the way the kernel documents it. */
static void
audio_to_vfio (Fixture *f)
{
  g_assert_cmpint (wdev (f, AUDIO, "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, 0);
  assert_driver (f, AUDIO, "vfio-pci");
}

/* ---- driver_override ---- */

static void
test_override_set_and_clear (Fixture *f, gconstpointer data)
{
  g_autofree char *path = p (f, "sys/bus/pci/devices/%s/driver_override", AUDIO);

  assert_attr (f, AUDIO, "driver_override", "(null)");
  g_assert_cmpint (sim_write_file (path, "vfio-pci\n"), ==, 0);
  assert_attr (f, AUDIO, "driver_override", "vfio-pci");
  /* a zero-length write never reaches store(): nothing changes */
  g_assert_cmpint (sim_write_bytes (path, "", 0), ==, 0);
  assert_attr (f, AUDIO, "driver_override", "vfio-pci");
  /* "\n" clears it */
  g_assert_cmpint (sim_write_file (path, "\n"), ==, 0);
  assert_attr (f, AUDIO, "driver_override", "(null)");
  /* the value stops at the first newline */
  g_assert_cmpint (sim_write_file (path, "foo\nbar"), ==, 0);
  assert_attr (f, AUDIO, "driver_override", "foo");
  /* a leading NUL clears, as strlen() of the buffer is 0 */
  g_assert_cmpint (sim_write_bytes (path, "\0x", 2), ==, 0);
  assert_attr (f, AUDIO, "driver_override", "(null)");
  /* setting it does not rebind */
  assert_driver (f, AUDIO, "snd_hda_intel");
}

static void
test_override_too_long (Fixture *f, gconstpointer data)
{
  g_autofree char *path = p (f, "sys/bus/pci/devices/%s/driver_override", AUDIO);
  g_autofree char *big = g_strnfill (4095, 'a');

  g_assert_cmpint (sim_write_file (path, big), ==, EINVAL);
  assert_attr (f, AUDIO, "driver_override", "(null)");
}

/* ---- unbind, bind, drivers_probe ---- */

static void
test_unbind (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/nvidia/unbind", AUDIO), ==, ENODEV);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", "garbage"), ==, ENODEV);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", "01:00.1"), ==, ENODEV);
  assert_driver (f, AUDIO, "snd_hda_intel");
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO "\n"), ==, 0);
  assert_driver (f, AUDIO, NULL);
  g_assert_false (exists (f, "sys/bus/pci/drivers/snd_hda_intel/" AUDIO));
  /* through the device's own driver link, as scripts do */
  g_assert_cmpint (wdev (f, USB, "driver/unbind", USB), ==, 0);
  assert_driver (f, USB, NULL);
}

static void
test_bind (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/bind", AUDIO), ==, EBUSY);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), ==, 0);
  /* vfio-pci's table matches only through driver_override */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/bind", AUDIO), ==, ENODEV);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/bind", "0000:09:00.0"), ==, ENODEV);
  /* an override excludes every other driver */
  g_assert_cmpint (wdev (f, AUDIO, "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/bind", AUDIO), ==, ENODEV);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/bind", AUDIO), ==, 0);
  assert_driver (f, AUDIO, "vfio-pci");
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/bind", AUDIO), ==, EBUSY);
  g_assert_true (exists (f, "sys/bus/pci/drivers/vfio-pci/" AUDIO));
}

static void
test_drivers_probe (Fixture *f, gconstpointer data)
{
  /* a bound device: success, nothing changes */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, 0);
  assert_driver (f, AUDIO, "snd_hda_intel");
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", "0000:09:00.0"), ==, ENODEV);
  /* an override naming no driver: success, and the device stays unbound */
  g_assert_cmpint (wdev (f, AUDIO, "driver_override", "no-such-driver"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, 0);
  assert_driver (f, AUDIO, NULL);
  /* cleared: the default driver takes it back */
  g_assert_cmpint (wdev (f, AUDIO, "driver_override", "\n"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, 0);
  assert_driver (f, AUDIO, "snd_hda_intel");
}

static void
test_vfio_node (Fixture *f, gconstpointer data)
{
  g_autofree char *group = group_of (f, AUDIO);
  g_autofree char *node = g_strdup_printf ("dev/vfio/%s", group);

  g_assert_cmpstr (group, ==, "12");
  g_assert_false (exists (f, node));
  audio_to_vfio (f);
  g_assert_true (exists (f, node));
  g_assert_true (exists (f, "dev/vfio/vfio"));
  g_assert_true (exists (f, "sys/bus/pci/devices/" AUDIO "/vfio-dev"));
  g_assert_true (exists (f, "dev/vfio/devices/vfio0"));
  assert_read (f, "sys/bus/pci/devices/" AUDIO "/vfio-dev/vfio0/dev", "511:0");
  /* give back: clear, unbind, probe */
  g_assert_cmpint (wdev (f, AUDIO, "driver_override", "\n"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/unbind", AUDIO), ==, 0);
  g_assert_false (exists (f, node));
  g_assert_false (exists (f, "dev/vfio/devices/vfio0"));
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, 0);
  assert_driver (f, AUDIO, "snd_hda_intel");
}

static void
test_vfio_refuses_bridge (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (wdev (f, BRIDGE, "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/pcieport/unbind", BRIDGE), ==, 0);
  /* bind returns the probe's error ... */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/bind", BRIDGE), ==, EINVAL);
  /* ... drivers_probe swallows it and leaves the bridge unbound */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", BRIDGE), ==, 0);
  assert_driver (f, BRIDGE, NULL);
}

static void
test_new_id_remove_id (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/e1000e/unbind", NIC), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/new_id", "8086"), ==, EINVAL);
  /* new_id binds the unbound device it matches at once */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/new_id", "8086 10d3"), ==, 0);
  assert_driver (f, NIC, "vfio-pci");
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/new_id", "8086 10d3"), ==, EEXIST);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/remove_id", "8086 10d3"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/remove_id", "8086 10d3"), ==, ENODEV);
  /* removing the id does not unbind */
  assert_driver (f, NIC, "vfio-pci");
  /* a table id already matched is EEXIST too */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/e1000e/new_id", "8086 10d3"), ==, EEXIST);
}

static void
test_file_modes (Fixture *f, gconstpointer data)
{
  g_autofree char *bind = p (f, "sys/bus/pci/drivers/nvidia/bind");
  g_autofree char *vendor = p (f, "sys/bus/pci/devices/%s/vendor", GPU);
  g_autofree char *newfile = p (f, "sys/bus/pci/devices/%s/sriov_numvfs", GPU);
  int fd;

  /* kernfs: no show() means no reading, no store() means no writing */
  fd = open (bind, O_RDONLY);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (errno, ==, EACCES);
  fd = open (vendor, O_WRONLY);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (errno, ==, EACCES);
  /* a file that does not exist cannot be created */
  fd = open (newfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (errno, ==, EACCES);
  assert_attr (f, GPU, "vendor", "0x10de");
  assert_attr (f, GPU, "class", "0x030000");
  assert_attr (f, GPU, "subsystem_vendor", "0x1458");
  assert_attr (f, GPU, "revision", "0xa1");
  assert_attr (f, GPU, "boot_vga", "0");
  assert_attr (f, IGPU, "boot_vga", "1");
  g_assert_false (exists (f, "sys/bus/pci/devices/" AUDIO "/boot_vga"));
  g_assert_true (exists (f, "sys/bus/pci/devices/" GPU "/consumer:pci:" AUDIO));
  g_assert_true (exists (f, "sys/bus/pci/devices/" AUDIO "/supplier:pci:" GPU));
  assert_read (f, "sys/bus/pci/devices/" GPU "/consumer:pci:" AUDIO "/status", "active");
}

/* ---- SR-IOV ---- */

static void
test_sriov_enable_disable (Fixture *f, gconstpointer data)
{
  g_autofree char *vf0_group = NULL;

  assert_attr (f, L40S, "sriov_totalvfs", "4");
  assert_attr (f, L40S, "sriov_numvfs", "0");
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "2"), ==, 0);
  assert_attr (f, L40S, "sriov_numvfs", "2");
  /* offset 4, stride 1 */
  {
    g_autofree char *vf0_link = p (f, "sys/bus/pci/devices/%s/virtfn0", L40S);
    g_autofree char *vf1_link = p (f, "sys/bus/pci/devices/%s/virtfn1", L40S);
    g_autofree char *pf_link = p (f, "sys/bus/pci/devices/0000:00:05.4/physfn");
    g_autofree char *vf0 = sim_link_name (vf0_link);
    g_autofree char *vf1 = sim_link_name (vf1_link);
    g_autofree char *pf = sim_link_name (pf_link);
    g_assert_cmpstr (vf0, ==, "0000:00:05.4");
    g_assert_cmpstr (vf1, ==, "0000:00:05.5");
    g_assert_cmpstr (pf, ==, L40S);
  }
  /* each VF has its own IOMMU group and is probed by the PF's driver */
  vf0_group = group_of (f, "0000:00:05.4");
  g_assert_nonnull (vf0_group);
  {
    g_autofree char *vf1_group = group_of (f, "0000:00:05.5");
    g_autofree char *pf_group = group_of (f, L40S);
    g_assert_cmpstr (vf0_group, !=, vf1_group);
    g_assert_cmpstr (vf0_group, !=, pf_group);
  }
  assert_driver (f, "0000:00:05.4", "nvidia");
  assert_attr (f, "0000:00:05.4", "device", "0x26b9");
  /* same value: nothing to do */
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "2"), ==, 0);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "1"), ==, EBUSY);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "5"), ==, ERANGE);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "abc"), ==, EINVAL);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "-1"), ==, EINVAL);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "70000"), ==, EINVAL);
  assert_attr (f, L40S, "sriov_numvfs", "2");
  /* vfio-pci refuses a PF with VFs enabled */
  g_assert_cmpint (wdev (f, L40S, "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/nvidia/unbind", L40S), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/bind", L40S), ==, EBUSY);
  /* the VFs stay when the PF driver goes, but without a driver nothing changes */
  g_assert_true (exists (f, "sys/bus/pci/devices/0000:00:05.4"));
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "0"), ==, ENOENT);
  g_assert_cmpint (wdev (f, L40S, "driver_override", "\n"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", L40S), ==, 0);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "0"), ==, 0);
  assert_attr (f, L40S, "sriov_numvfs", "0");
  g_assert_false (exists (f, "sys/bus/pci/devices/0000:00:05.4"));
  g_assert_false (exists (f, "sys/bus/pci/devices/" L40S "/virtfn0"));
  {
    g_autofree char *gone = g_strdup_printf ("sys/kernel/iommu_groups/%s", vf0_group);
    g_assert_false (exists (f, gone));
  }
}

static void
test_sriov_no_sriov_configure (Fixture *f, gconstpointer data)
{
  /* a function without SR-IOV has no sriov_numvfs file at all */
  g_autofree char *path = p (f, "sys/bus/pci/devices/%s/sriov_numvfs", GPU);
  int fd;

  g_assert_false (exists (f, "sys/bus/pci/devices/" GPU "/sriov_numvfs"));
  g_assert_cmpint (wdev (f, GPU, "sriov_numvfs", "1"), ==, ENOENT);
  /* the shell's "echo 1 > sriov_numvfs" tries to create it: EACCES */
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (errno, ==, EACCES);
}

static void
test_sriov_vf_probe_fails (Fixture *f, gconstpointer data)
{
  /* nvme cannot start QEMU's VFs: they end up without a driver */
  g_assert_cmpint (wdev (f, NVME, "sriov_numvfs", "2"), ==, 0);
  assert_driver (f, "0000:00:03.1", NULL);
  assert_driver (f, "0000:00:03.2", NULL);
  g_assert_cmpint (wdev (f, "0000:00:03.1", "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", "0000:00:03.1"), ==, 0);
  assert_driver (f, "0000:00:03.1", "vfio-pci");
}

static void
test_sriov_autoprobe_off (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (wdev (f, L40S, "sriov_drivers_autoprobe", "0"), ==, 0);
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "1"), ==, 0);
  assert_driver (f, "0000:00:05.4", NULL);
  /* without autoprobe a VF binds only through an override */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/nvidia/bind", "0000:00:05.4"), ==, ENODEV);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "driver_override", "nvidia"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/nvidia/bind", "0000:00:05.4"), ==, 0);
}

typedef struct {
  char *path;
  const char *data;
  int result;
  gint64 took_us;
} AsyncWrite;

static gpointer
write_thread (gpointer data)
{
  AsyncWrite *aw = data;
  gint64 start = g_get_monotonic_time ();
  aw->result = sim_write_file (aw->path, aw->data);
  aw->took_us = g_get_monotonic_time () - start;
  return NULL;
}

static void
test_sriov_disable_blocks_while_vf_open (Fixture *f, gconstpointer data)
{
  AsyncWrite aw = { p (f, "sys/bus/pci/devices/%s/sriov_numvfs", NVME), "0", -1, 0 };
  g_autofree char *group = NULL;
  g_autofree char *node = NULL;
  GThread *thread;
  int fd;

  g_assert_cmpint (wdev (f, NVME, "sriov_numvfs", "1"), ==, 0);
  g_assert_cmpint (wdev (f, "0000:00:03.1", "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", "0000:00:03.1"), ==, 0);
  group = group_of (f, "0000:00:03.1");
  node = p (f, "dev/vfio/%s", group);
  fd = open (node, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  /* a VFIO group can be open only once */
  g_assert_cmpint (open (node, O_RDWR), ==, -1);
  g_assert_cmpint (errno, ==, EBUSY);

  thread = g_thread_new ("disable", write_thread, &aw);
  g_usleep (400 * 1000);
  /* still blocked, and the tree still answers */
  g_assert_cmpint (aw.result, ==, -1);
  assert_attr (f, NVME, "sriov_totalvfs", "2");
  close (fd);
  g_thread_join (thread);
  g_assert_cmpint (aw.result, ==, 0);
  g_assert_cmpint (aw.took_us, >=, 400 * 1000);
  assert_attr (f, NVME, "sriov_numvfs", "0");
  g_free (aw.path);
}

/* Enabling VFs takes time per VF (each is probed before the next): the
 * virtfn links come one by one while the write runs, and a read of
 * sriov_numvfs waits for the write, then shows its count. */
static void
test_sriov_enable_takes_time_per_vf (Fixture *f, gconstpointer data)
{
  AsyncWrite aw = { p (f, "sys/bus/pci/devices/%s/sriov_numvfs", L40S), "4", -1, 0 };
  g_autofree char *first = p (f, "sys/bus/pci/devices/%s/virtfn0", L40S);
  g_autofree char *last = p (f, "sys/bus/pci/devices/%s/virtfn3", L40S);
  GThread *thread;
  gint64 t0;

  assert_read (f, ".sim/kernel", "sriov_enable_delay_ms=0\nsriov_disable_delay_ms=50\nsriov_vf_delay_ms=0");
  g_assert_cmpint (w (f, ".sim/kernel", "sriov_vf_delay_ms=200"), ==, 0);
  g_assert_cmpint (w (f, ".sim/kernel", "sriov_vf_delay_ms=x"), ==, EINVAL);
  g_assert_cmpint (w (f, ".sim/kernel", "no_such_knob=1"), ==, EINVAL);
  thread = g_thread_new ("enable", write_thread, &aw);
  while (access (first, F_OK) != 0)
    g_usleep (10 * 1000);
  /* the first VF is there, the last not yet, and the write still runs */
  g_assert_cmpint (access (last, F_OK), !=, 0);
  g_assert_cmpint (aw.result, ==, -1);
  t0 = g_get_monotonic_time ();
  assert_attr (f, L40S, "sriov_numvfs", "4");
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 300 * 1000);
  g_thread_join (thread);
  g_assert_cmpint (aw.result, ==, 0);
  g_assert_cmpint (aw.took_us, >=, 4 * 200 * 1000);
  g_assert_cmpint (access (last, F_OK), ==, 0);
  g_free (aw.path);
}

/* ---- vendor-specific VFIO ---- */

static void
test_vendor_vfio_types (Fixture *f, gconstpointer data)
{
  g_autofree char *vf0 = NULL;
  g_autofree char *node = NULL;

  /* the PF has no nvidia/ directory */
  g_assert_false (exists (f, "sys/bus/pci/devices/" L40S "/nvidia"));
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "3"), ==, 0);
  assert_attr (f, "0000:00:05.4", "nvidia/current_vgpu_type", "0");
  assert_attr (f, "0000:00:05.4", "nvidia/creatable_vgpu_types",
               "ID    : vGPU Name\n1150  : NVIDIA L40S-48Q\n1155  : NVIDIA L40S-24Q\n1160  : NVIDIA L40S-12Q");
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "9999"), ==, EINVAL);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "abc"), ==, EINVAL);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "1155"), ==, 0);
  assert_attr (f, "0000:00:05.4", "nvidia/current_vgpu_type", "1155");
  /* a VF carries one type; its siblings lose what no longer fits */
  assert_attr (f, "0000:00:05.4", "nvidia/creatable_vgpu_types", "ID    : vGPU Name");
  assert_attr (f, "0000:00:05.5", "nvidia/creatable_vgpu_types", "ID    : vGPU Name\n1155  : NVIDIA L40S-24Q");
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "1155"), ==, EBUSY);
  g_assert_cmpint (wdev (f, "0000:00:05.5", "nvidia/current_vgpu_type", "1150"), ==, EINVAL);
  /* the VF is a VFIO device on the nvidia driver */
  assert_driver (f, "0000:00:05.4", "nvidia");
  vf0 = group_of (f, "0000:00:05.4");
  node = g_strdup_printf ("dev/vfio/%s", vf0);
  g_assert_true (exists (f, node));
  g_assert_true (exists (f, "sys/bus/pci/devices/0000:00:05.4/vfio-dev"));
  /* the GPU is full after a second 24Q */
  g_assert_cmpint (wdev (f, "0000:00:05.5", "nvidia/current_vgpu_type", "1155"), ==, 0);
  assert_attr (f, "0000:00:05.6", "nvidia/creatable_vgpu_types", "ID    : vGPU Name");
  /* release, and the lists recover */
  g_assert_cmpint (wdev (f, "0000:00:05.5", "nvidia/current_vgpu_type", "0"), ==, 0);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "0\n"), ==, 0);
  g_assert_false (exists (f, node));
  assert_attr (f, "0000:00:05.6", "nvidia/creatable_vgpu_types",
               "ID    : vGPU Name\n1150  : NVIDIA L40S-48Q\n1155  : NVIDIA L40S-24Q\n1160  : NVIDIA L40S-12Q");
}

static void
test_vendor_vfio_release_guard (Fixture *f, gconstpointer data)
{
  g_autofree char *group = NULL;
  g_autofree char *node = NULL;
  int fd;

  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "1"), ==, 0);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "1160"), ==, 0);
  group = group_of (f, "0000:00:05.4");
  node = p (f, "dev/vfio/%s", group);
  fd = open (node, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "0"), ==, EBUSY);
  close (fd);
  /* not ready right after the VM closed it (release_delay_ms 300) ... */
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "0"), ==, EBUSY);
  g_usleep (400 * 1000);
  /* ... then it is */
  g_assert_cmpint (wdev (f, "0000:00:05.4", "nvidia/current_vgpu_type", "0"), ==, 0);
}

static void
test_vendor_vfio_rejects_vfio_pci (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (wdev (f, L40S, "sriov_numvfs", "1"), ==, 0);
  g_assert_cmpint (wdev (f, "0000:00:05.4", "driver_override", "vfio-pci"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/nvidia/unbind", "0000:00:05.4"), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/vfio-pci/bind", "0000:00:05.4"), ==, EINVAL);
  assert_driver (f, "0000:00:05.4", NULL);
}

static void
test_vendor_vfio_name_first (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (wdev (f, L40S_NAMEFIRST, "sriov_numvfs", "1"), ==, 0);
  assert_attr (f, "0000:00:08.4", "nvidia/creatable_vgpu_types", "vGPU Name    ID\nNVIDIA L40S-24Q  1155");
}

/* ---- mdev ---- */

#define UUID1 "2f82ee72-3ac5-4615-9c0b-327c12e8c83d"
#define UUID2 "242e5ea7-90e2-4d6e-afeb-a0b9a656c108"

static void
test_mdev_pf (Fixture *f, gconstpointer data)
{
  const char *types = "sys/class/mdev_bus/" T4 "/mdev_supported_types";
  g_autofree char *create = g_strdup_printf ("%s/nvidia-231/create", types);
  g_autofree char *avail = g_strdup_printf ("%s/nvidia-231/available_instances", types);
  g_autofree char *avail_1b = g_strdup_printf ("%s/nvidia-222/available_instances", types);
  g_autofree char *group = NULL;
  g_autofree char *node = NULL;

  assert_read (f, "sys/class/mdev_bus/" T4 "/mdev_supported_types/nvidia-231/name", "GRID T4-8Q");
  assert_read (f, "sys/class/mdev_bus/" T4 "/mdev_supported_types/nvidia-231/device_api", "vfio-pci");
  assert_read (f, avail, "2");
  g_assert_cmpint (w (f, create, "not-a-uuid-at-all-not-a-uuid-at-all"), ==, EINVAL);
  g_assert_cmpint (w (f, create, "2f82ee72"), ==, EINVAL);
  g_assert_cmpint (w (f, create, UUID1), ==, 0);
  assert_read (f, avail, "1");
  /* homogeneous GPU: other types are gone */
  assert_read (f, avail_1b, "0");
  g_assert_cmpint (w (f, create, UUID1 "\n"), ==, EEXIST);
  g_assert_true (exists (f, "sys/bus/mdev/devices/" UUID1));
  g_assert_true (exists (f, "sys/bus/pci/devices/" T4 "/" UUID1));
  assert_read (f, "sys/class/mdev_bus/" T4 "/mdev_supported_types/nvidia-231/devices/" UUID1 "/mdev_type/name",
               "GRID T4-8Q");
  {
    g_autofree char *link = p (f, "sys/bus/mdev/devices/%s/iommu_group", UUID1);
    group = sim_link_name (link);
  }
  node = g_strdup_printf ("dev/vfio/%s", group);
  g_assert_true (exists (f, node));
  g_assert_cmpint (w (f, create, UUID2), ==, 0);
  g_assert_cmpint (w (f, create, "11111111-2222-3333-4444-555555555555"), ==, EUSERS);
  /* remove: "0" does nothing, "1" removes */
  g_assert_cmpint (w (f, "sys/bus/mdev/devices/" UUID1 "/remove", "0"), ==, 0);
  g_assert_true (exists (f, "sys/bus/mdev/devices/" UUID1));
  g_assert_cmpint (w (f, "sys/bus/mdev/devices/" UUID1 "/remove", "1"), ==, 0);
  g_assert_false (exists (f, "sys/bus/mdev/devices/" UUID1));
  g_assert_false (exists (f, node));
  assert_read (f, avail, "1");
}

static void
test_mdev_vf (Fixture *f, gconstpointer data)
{
  const char *vf0 = "sys/class/mdev_bus/0000:00:06.4/mdev_supported_types";
  g_autofree char *create = g_strdup_printf ("%s/nvidia-565/create", vf0);
  g_autofree char *avail = g_strdup_printf ("%s/nvidia-555/available_instances", vf0);

  /* no VFs, no mdev parents: the A40's PF is not one */
  g_assert_false (exists (f, "sys/class/mdev_bus/" A40));
  g_assert_cmpint (wdev (f, A40, "sriov_numvfs", "4"), ==, 0);
  g_assert_true (exists (f, "sys/class/mdev_bus/0000:00:06.7"));
  assert_read (f, avail, "1");
  g_assert_cmpint (w (f, create, UUID1), ==, 0);
  /* one vGPU per VF */
  assert_read (f, avail, "0");
  assert_read (f, "sys/class/mdev_bus/0000:00:06.5/mdev_supported_types/nvidia-565/available_instances", "1");
  g_assert_cmpint (w (f, "sys/class/mdev_bus/0000:00:06.5/mdev_supported_types/nvidia-565/create", UUID2), ==, 0);
  /* two 24Q fill the A40 */
  assert_read (f, "sys/class/mdev_bus/0000:00:06.6/mdev_supported_types/nvidia-565/available_instances", "0");
  /* disabling the VFs takes their mdevs with them */
  g_assert_cmpint (wdev (f, A40, "sriov_numvfs", "0"), ==, 0);
  g_assert_false (exists (f, "sys/bus/mdev/devices/" UUID1));
}

static void
test_mdev_remove_blocks_while_open (Fixture *f, gconstpointer data)
{
  AsyncWrite aw = { p (f, "sys/bus/mdev/devices/%s/remove", UUID1), "1", -1, 0 };
  g_autofree char *group = NULL;
  g_autofree char *node = NULL;
  GThread *thread;
  int fd;

  g_assert_cmpint (w (f, "sys/class/mdev_bus/" T4 "/mdev_supported_types/nvidia-222/create", UUID1), ==, 0);
  {
    g_autofree char *link = p (f, "sys/bus/mdev/devices/%s/iommu_group", UUID1);
    group = sim_link_name (link);
  }
  node = p (f, "dev/vfio/%s", group);
  fd = open (node, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  thread = g_thread_new ("remove", write_thread, &aw);
  g_usleep (300 * 1000);
  g_assert_cmpint (aw.result, ==, -1);
  close (fd);
  g_thread_join (thread);
  g_assert_cmpint (aw.result, ==, 0);
  g_assert_false (exists (f, "sys/bus/mdev/devices/" UUID1));
  g_free (aw.path);
}

/* ---- holders ---- */

static void
test_holders_in_proc (Fixture *f, gconstpointer data)
{
  g_autofree char *fd_link = p (f, "proc/1500/fd/3");
  g_autofree char *target = g_file_read_link (fd_link, NULL);
  g_autofree char *node = p (f, "dev/nvidia0");
  g_autofree char *mine = g_strdup_printf ("proc/%d/comm", getpid ());
  int fd;

  assert_read (f, "proc/1500/comm", "Xorg");
  g_assert_cmpstr (target, ==, "/dev/nvidia0");
  assert_read (f, "proc/driver/nvidia/gpus/" GPU "/information",
               "Model: \t\t NVIDIA Device\nIRQ:   \t\t 0\nGPU UUID: \t GPU-10de2204-0000-0000-0000-000000000100\n"
               "Video BIOS: \t 00.00.00.00.00\nBus Type: \t PCIe\nDMA Size: \t 47 bits\n"
               "DMA Mask: \t 0x7fffffffffff\nBus Location: \t 0000:01:00.0\nDevice Minor: \t 0\nGPU Excluded:\t No");
  g_assert_false (exists (f, mine));
  /* a real process opening a node shows up as its holder */
  fd = open (node, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  g_assert_true (exists (f, mine));
  close (fd);
  g_assert_false (exists (f, mine));
  assert_read (f, "proc/cmdline", "root=/dev/nvme0n1p2 ro intel_iommu=on iommu=pt");
}

static void
test_nvidia_unbind_waits_for_holders (Fixture *f, gconstpointer data)
{
  AsyncWrite aw = { p (f, "sys/bus/pci/drivers/nvidia/unbind"), GPU, -1, 0 };
  GThread *thread = g_thread_new ("unbind", write_thread, &aw);

  g_usleep (300 * 1000);
  g_assert_cmpint (aw.result, ==, -1);
  assert_driver (f, GPU, "nvidia");
  g_assert_cmpint (w (f, ".sim/holders", "remove 1500"), ==, 0);
  g_thread_join (thread);
  g_assert_cmpint (aw.result, ==, 0);
  assert_driver (f, GPU, NULL);
  g_assert_false (exists (f, "dev/nvidia0"));
  g_free (aw.path);
}

/* ---- fault injection and the log ---- */

static void
test_fault_errno (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (w (f, ".sim/faults", "sys/bus/pci/drivers/*/unbind errno=EIO data=" AUDIO), ==, 0);
  g_assert_cmpint (w (f, ".sim/faults", "bogus errno=ENOPE"), ==, EINVAL);
  /* another device's write does not trip it */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/xhci_hcd/unbind", USB), ==, 0);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), ==, EIO);
  assert_driver (f, AUDIO, "snd_hda_intel");
  /* armed once */
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO), ==, 0);
  assert_driver (f, AUDIO, NULL);
  g_assert_cmpint (w (f, ".sim/faults", "sys/bus/pci/drivers_probe errno=ENOMEM count=2"), ==, 0);
  assert_read (f, ".sim/faults", "sys/bus/pci/drivers_probe errno=ENOMEM count=2");
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, ENOMEM);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, ENOMEM);
  g_assert_cmpint (w (f, "sys/bus/pci/drivers_probe", AUDIO), ==, 0);
  assert_read (f, ".sim/log",
               "1 sys/bus/pci/drivers/xhci_hcd/unbind \"0000:01:00.2\" -> OK\n"
               "2 sys/bus/pci/drivers/snd_hda_intel/unbind \"0000:01:00.1\" -> EIO\n"
               "3 sys/bus/pci/drivers/snd_hda_intel/unbind \"0000:01:00.1\" -> OK\n"
               "4 sys/bus/pci/drivers_probe \"0000:01:00.1\" -> ENOMEM\n"
               "5 sys/bus/pci/drivers_probe \"0000:01:00.1\" -> ENOMEM\n"
               "6 sys/bus/pci/drivers_probe \"0000:01:00.1\" -> OK");
  g_assert_cmpint (w (f, ".sim/log", "clear"), ==, 0);
  assert_read (f, ".sim/log", "");
}

static void
test_fault_delay_and_hang (Fixture *f, gconstpointer data)
{
  AsyncWrite aw = { p (f, "sys/bus/pci/drivers/snd_hda_intel/unbind"), AUDIO, -1, 0 };
  GThread *thread;
  gint64 start, took;

  g_assert_cmpint (w (f, ".sim/faults", "sys/bus/pci/drivers/xhci_hcd/unbind delay=300"), ==, 0);
  start = g_get_monotonic_time ();
  g_assert_cmpint (w (f, "sys/bus/pci/drivers/xhci_hcd/unbind", USB), ==, 0);
  took = g_get_monotonic_time () - start;
  g_assert_cmpint (took, >=, 300 * 1000);
  assert_driver (f, USB, NULL);

  g_assert_cmpint (w (f, ".sim/faults", "sys/bus/pci/drivers/snd_hda_intel/unbind hang"), ==, 0);
  thread = g_thread_new ("hang", write_thread, &aw);
  g_usleep (300 * 1000);
  g_assert_cmpint (aw.result, ==, -1);
  /* reads are answered at once meanwhile */
  start = g_get_monotonic_time ();
  assert_attr (f, AUDIO, "vendor", "0x10de");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 200 * 1000);
  g_assert_cmpint (w (f, ".sim/faults", "release"), ==, 0);
  g_thread_join (thread);
  g_assert_cmpint (aw.result, ==, 0);
  assert_driver (f, AUDIO, NULL);
  g_free (aw.path);
}

static void
test_devices_listing (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = p (f, "sys/bus/pci/devices");
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  g_assert_cmpuint (n, ==, 11);
  assert_read (f, "sys/kernel/iommu_groups/12/type", "DMA");
  g_assert_true (exists (f, "sys/kernel/iommu_groups/12/devices/" AUDIO));
  g_assert_true (exists (f, "sys/class/iommu/dmar0"));
  g_assert_true (exists (f, "sys/module/vfio_pci"));
  assert_read (f, "sys/bus/pci/devices/" GPU "/uevent",
               "DRIVER=nvidia\nPCI_CLASS=30000\nPCI_ID=10DE:2204\nPCI_SUBSYS_ID=1458:403B\n"
               "PCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00");
}

/* ---- the simulator's own life ---- */

static gboolean
mounted (const char *root)
{
  g_autofree char *mounts = NULL;
  g_autofree char *needle = g_strdup_printf (" %s ", root);

  g_assert_true (g_file_get_contents ("/proc/self/mounts", &mounts, NULL, NULL));
  return strstr (mounts, needle) != NULL;
}

static void
test_unmount_leaves_nothing (void)
{
  SimMount *m = sim_mount_start (SCENARIO_RULES);
  const char *argv[] = { "fusermount3", "-u", m->root, NULL };
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  int status;

  g_assert_true (mounted (m->root));
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  /* the simulator exits by itself once unmounted */
  while (waitpid (m->pid, &status, WNOHANG) != m->pid) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (10000);
  }
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_false (mounted (m->root));
  m->pid = 0;
  sim_mount_stop (m);
}

static void
test_crash_does_not_hang (void)
{
  SimMount *m = sim_mount_start (SCENARIO_RULES);
  g_autofree char *vendor = sim_mount_path (m, "sys/bus/pci/devices/" GPU "/vendor");
  g_autofree char *contents = NULL;
  g_autofree char *root = NULL;
  int status;

  kill (m->pid, SIGKILL);
  waitpid (m->pid, &status, 0);
  m->pid = 0;
  /* the kernel aborts the FUSE connection: calls fail, they do not hang */
  contents = sim_read_file (vendor);
  g_assert_null (contents);
  root = g_strdup (m->root);
  sim_mount_stop (m);
  g_assert_false (mounted (root));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define T(name, fn) g_test_add ("/simfs/" name, Fixture, NULL, setup, fn, teardown)
  T ("override/set-and-clear", test_override_set_and_clear);
  T ("override/too-long", test_override_too_long);
  T ("driver/unbind", test_unbind);
  T ("driver/bind", test_bind);
  T ("driver/drivers-probe", test_drivers_probe);
  T ("driver/vfio-node", test_vfio_node);
  T ("driver/vfio-refuses-bridge", test_vfio_refuses_bridge);
  T ("driver/new-id-remove-id", test_new_id_remove_id);
  T ("tree/file-modes", test_file_modes);
  T ("tree/listing", test_devices_listing);
  T ("sriov/enable-disable", test_sriov_enable_disable);
  T ("sriov/not-capable", test_sriov_no_sriov_configure);
  T ("sriov/vf-probe-fails", test_sriov_vf_probe_fails);
  T ("sriov/autoprobe-off", test_sriov_autoprobe_off);
  T ("sriov/disable-blocks-while-vf-open", test_sriov_disable_blocks_while_vf_open);
  T ("sriov/enable-takes-time-per-vf", test_sriov_enable_takes_time_per_vf);
  T ("vendor-vfio/types", test_vendor_vfio_types);
  T ("vendor-vfio/release-guard", test_vendor_vfio_release_guard);
  T ("vendor-vfio/rejects-vfio-pci", test_vendor_vfio_rejects_vfio_pci);
  T ("vendor-vfio/name-first", test_vendor_vfio_name_first);
  T ("mdev/pf", test_mdev_pf);
  T ("mdev/vf", test_mdev_vf);
  T ("mdev/remove-blocks-while-open", test_mdev_remove_blocks_while_open);
  T ("holders/proc", test_holders_in_proc);
  T ("holders/nvidia-unbind-waits", test_nvidia_unbind_waits_for_holders);
  T ("faults/errno", test_fault_errno);
  T ("faults/delay-and-hang", test_fault_delay_and_hang);
  g_test_add_func ("/simfs/life/unmount-leaves-nothing", test_unmount_leaves_nothing);
  g_test_add_func ("/simfs/life/crash-does-not-hang", test_crash_does_not_hang);
  return g_test_run ();
}
