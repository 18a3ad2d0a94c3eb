/* The doctor (service/doctor*.c), D-Bus free: on each simulated scenario
 * the findings the scenario calls for, with their fixes; on small fake
 * roots the GRUB lines, the CPU vendor and the vfio-pci module checks; and
 * on this machine's real /sys, read only, that it runs and says something
 * about the IOMMU. */
#include "doctor/doctor.h"
#include "gpuvirt-names.h"
#include "sim-mount.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  SimMount *mount;
  GvHost *host;
  GPtrArray *findings;
} Run;

static void
print_findings (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++) {
    const GvDoctorFinding *f = findings->pdata[i];
    g_test_message ("%-7s %-20s %-13s %s%s%s", gv_doctor_severity_to_string (f->severity), f->id, f->subject,
                    f->message, *f->fix ? "\n        fix: " : "", f->fix);
  }
}

/* Every row is well formed: a known severity, a subject that is "host" or
 * a PCI address, a message. */
static void
check_rows (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++) {
    const GvDoctorFinding *f = findings->pdata[i];
    const char *severity = gv_doctor_severity_to_string (f->severity);
    g_assert_true (g_str_equal (severity, GPUVIRT_SEVERITY_OK) || g_str_equal (severity, GPUVIRT_SEVERITY_INFO) ||
                   g_str_equal (severity, GPUVIRT_SEVERITY_WARNING) || g_str_equal (severity, GPUVIRT_SEVERITY_ERROR));
    g_assert_true (*f->id);
    g_assert_true (g_str_equal (f->subject, GV_DOCTOR_SUBJECT_HOST) || strlen (f->subject) == 12);
    g_assert_true (*f->message);
    g_assert_null (strchr (f->message, '\n'));
    g_assert_nonnull (f->fix);
    /* something to do is said for every problem but plain notes */
    if (f->severity >= GV_DOCTOR_SEVERITY_WARNING)
      g_assert_true (*f->fix);
    g_assert_true (g_utf8_validate (f->message, -1, NULL) && g_utf8_validate (f->fix, -1, NULL));
  }
}

static Run *
run_scenario (const char *name)
{
  Run *run = g_new0 (Run, 1);
  g_autoptr (GError) error = NULL;

  run->mount = sim_mount_start (name);
  run->host = gv_host_new (run->mount->root, &error);
  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (run->host, NULL, &error));
  g_assert_no_error (error);
  run->findings = gv_doctor_run (run->host, &error);
  g_assert_no_error (error);
  g_assert_nonnull (run->findings);
  print_findings (run->findings);
  check_rows (run->findings);
  return run;
}

static void
run_free (Run *run)
{
  g_autofree char *log = sim_mount_path (run->mount, ".sim/log");
  g_autofree char *written = sim_read_file (log);

  /* the doctor writes nothing */
  g_assert_cmpstr (written, ==, "");
  g_ptr_array_unref (run->findings);
  gv_host_free (run->host);
  sim_mount_stop (run->mount);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

/* The one finding ID has about SUBJECT with SEVERITY (asserts). */
static const GvDoctorFinding *
expect (GPtrArray *findings, const char *id, const char *subject, GvDoctorSeverity severity)
{
  const GvDoctorFinding *found = NULL;

  for (guint i = 0; i < findings->len; i++) {
    const GvDoctorFinding *f = findings->pdata[i];
    if (g_str_equal (f->id, id) && g_str_equal (f->subject, subject) && f->severity == severity) {
      if (found)
        g_error ("two %s findings about %s", id, subject);
      found = f;
    }
  }
  if (!found)
    g_error ("no %s finding about %s with severity %s", id, subject, gv_doctor_severity_to_string (severity));
  return found;
}

static guint
count_id (GPtrArray *findings, const char *id, const char *subject)
{
  guint n = 0;

  for (guint i = 0; i < findings->len; i++) {
    const GvDoctorFinding *f = findings->pdata[i];
    n += g_str_equal (f->id, id) && (!subject || g_str_equal (f->subject, subject));
  }
  return n;
}

#define ASSERT_HAS(haystack, needle)                                                       \
  G_STMT_START {                                                                           \
    if (!strstr ((haystack), (needle)))                                                    \
      g_error ("“%s” does not contain “%s”", (haystack), (needle));                        \
  } G_STMT_END

/* The four host rows come first, in order. */
static void
expect_host_rows_first (GPtrArray *findings)
{
  static const char *const ids[] = { GV_DOCTOR_IOMMU_PRESENT, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_INTERRUPT_REMAPPING,
                                     GV_DOCTOR_VFIO_PCI_MODULE };

  g_assert_cmpuint (findings->len, >=, G_N_ELEMENTS (ids));
  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++) {
    const GvDoctorFinding *f = findings->pdata[i];
    g_assert_cmpstr (f->id, ==, ids[i]);
    g_assert_cmpstr (f->subject, ==, GV_DOCTOR_SUBJECT_HOST);
  }
}

/* A healthy Intel or AMD host: IOMMU, remapping and vfio-pci all fine. */
static void
expect_healthy_host (GPtrArray *findings, const char *unit)
{
  const GvDoctorFinding *f = expect (findings, GV_DOCTOR_IOMMU_PRESENT, "host", GV_DOCTOR_SEVERITY_OK);

  ASSERT_HAS (f->message, unit);
  expect (findings, GV_DOCTOR_INTERRUPT_REMAPPING, "host", GV_DOCTOR_SEVERITY_OK);
  f = expect (findings, GV_DOCTOR_VFIO_PCI_MODULE, "host", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "module vfio_pci");
}

static void
test_workstation (void)
{
  g_autoptr (Run) run = run_scenario ("workstation");
  GPtrArray *fs = run->findings;
  const GvDoctorFinding *f;

  expect_host_rows_first (fs);
  expect_healthy_host (fs, "Intel VT-d (dmar0)");
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "intel_iommu=on iommu=pt");

  /* the Quadro: its own group, held by Xorg and nvidia-persistenced */
  f = expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:01:00.0", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "IOMMU group 8 holds only its own functions (0000:01:00.0, 0000:01:00.1, "
                          "0000:01:00.2, 0000:01:00.3)");
  f = expect (fs, GV_DOCTOR_GPU_HELD, "0000:01:00.0", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "nvidia-persistenced (pid 1102: /dev/nvidia0)");
  ASSERT_HAS (f->message, "Xorg (pid 1834: /dev/dri/card1, /dev/nvidia0)");
  ASSERT_HAS (f->fix, "sudo systemctl stop nvidia-persistenced");
  ASSERT_HAS (f->fix, "sudo systemctl stop display-manager");
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_GPU_HELD, "0000:01:00.0"), ==, 1);
  expect (fs, GV_DOCTOR_BOOT_VGA, "0000:01:00.0", GV_DOCTOR_SEVERITY_OK);
  f = expect (fs, GV_DOCTOR_VGPU_MANAGER, "0000:01:00.0", GV_DOCTOR_SEVERITY_INFO);
  ASSERT_HAS (f->message, "not installed");
  ASSERT_HAS (f->fix, "vgpu-kvm.run");

  /* the iGPU: the boot console, the desktop on it */
  f = expect (fs, GV_DOCTOR_BOOT_VGA, "0000:00:02.0", GV_DOCTOR_SEVERITY_INFO);
  ASSERT_HAS (f->message, "boot console");
  f = expect (fs, GV_DOCTOR_GPU_HELD, "0000:00:02.0", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "gnome-shell (pid 2011: /dev/dri/card0, /dev/dri/renderD128)");
  expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:00:02.0", GV_DOCTOR_SEVERITY_OK);
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_VGPU_MANAGER, "0000:00:02.0"), ==, 0);

  /* nothing about functions that are no GPU, nothing about SR-IOV */
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_SRIOV_UNUSED, NULL), ==, 0);
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_GROUP_SHARED, NULL), ==, 2);
  g_assert_cmpint (gv_doctor_worst (fs), ==, GV_DOCTOR_SEVERITY_WARNING);
}

static void
test_a40_mdev (void)
{
  g_autoptr (Run) run = run_scenario ("a40-mdev");
  GPtrArray *fs = run->findings;
  const char *a40s[] = { "0000:67:00.0", "0000:e8:00.0" };
  const GvDoctorFinding *f;

  expect_host_rows_first (fs);
  expect_healthy_host (fs, "Intel VT-d (dmar0)");
  /* no cpuinfo, no host bridge listed: the dmar unit says Intel */
  g_assert_cmpstr (gv_doctor_cpu_vendor (run->host), ==, "intel");
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "intel_iommu=on iommu=pt");
  for (gsize i = 0; i < G_N_ELEMENTS (a40s); i++) {
    g_autofree char *cmd = g_strdup_printf ("gpuvirtctl sriov %s 32", a40s[i]);
    expect (fs, GV_DOCTOR_GROUP_SHARED, a40s[i], GV_DOCTOR_SEVERITY_OK);
    expect (fs, GV_DOCTOR_GPU_HELD, a40s[i], GV_DOCTOR_SEVERITY_OK);
    expect (fs, GV_DOCTOR_BOOT_VGA, a40s[i], GV_DOCTOR_SEVERITY_OK);
    f = expect (fs, GV_DOCTOR_VGPU_MANAGER, a40s[i], GV_DOCTOR_SEVERITY_OK);
    ASSERT_HAS (f->message, "NVIDIA vGPU manager installed");
    /* A40: SR-IOV with mdevs on the VFs, none enabled yet: "pending" */
    f = expect (fs, GV_DOCTOR_SRIOV_UNUSED, a40s[i], GV_DOCTOR_SEVERITY_INFO);
    ASSERT_HAS (f->message, "pending");
    ASSERT_HAS (f->fix, cmd);
  }
  /* the BMC's VGA behind its PCIe-to-PCI bridge: a group of its own with
   * the bridge; it shows the console, but the host has other GPUs */
  f = expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:03:00.0", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "and bridges");
  expect (fs, GV_DOCTOR_BOOT_VGA, "0000:03:00.0", GV_DOCTOR_SEVERITY_INFO);
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_VGPU_MANAGER, "0000:03:00.0"), ==, 0);
  g_assert_cmpint (gv_doctor_worst (fs), ==, GV_DOCTOR_SEVERITY_INFO);
}

static void
test_l40s_vendor_vfio (void)
{
  g_autoptr (Run) run = run_scenario ("l40s-vendor-vfio");
  GPtrArray *fs = run->findings;
  const char *with_vfs[] = { "0000:01:00.0", "0000:41:00.0", "0000:c1:00.0" };
  const GvDoctorFinding *f;

  expect_host_rows_first (fs);
  expect_healthy_host (fs, "AMD-Vi (ivhd0)");
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "amd_iommu=on iommu=pt");
  for (gsize i = 0; i < G_N_ELEMENTS (with_vfs); i++) {
    f = expect (fs, GV_DOCTOR_VGPU_MANAGER, with_vfs[i], GV_DOCTOR_SEVERITY_OK);
    ASSERT_HAS (f->message, "vendor-vfio");
    ASSERT_HAS (f->message, "0 of 32 VFs carry one");
    f = expect (fs, GV_DOCTOR_SRIOV_UNUSED, with_vfs[i], GV_DOCTOR_SEVERITY_OK);
    ASSERT_HAS (f->message, "32 of 32 SR-IOV VFs enabled");
    expect (fs, GV_DOCTOR_GROUP_SHARED, with_vfs[i], GV_DOCTOR_SEVERITY_OK);
    expect (fs, GV_DOCTOR_GPU_HELD, with_vfs[i], GV_DOCTOR_SEVERITY_OK);
  }
  /* GPU 2 comes up without VFs */
  f = expect (fs, GV_DOCTOR_VGPU_MANAGER, "0000:81:00.0", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "once its VFs are enabled");
  f = expect (fs, GV_DOCTOR_SRIOV_UNUSED, "0000:81:00.0", GV_DOCTOR_SEVERITY_INFO);
  ASSERT_HAS (f->fix, "gpuvirtctl sriov 0000:81:00.0 32");
  expect (fs, GV_DOCTOR_BOOT_VGA, "0000:c3:00.0", GV_DOCTOR_SEVERITY_INFO);
  g_assert_cmpint (gv_doctor_worst (fs), ==, GV_DOCTOR_SEVERITY_INFO);
}

static void
test_big_host (void)
{
  g_autoptr (Run) run = run_scenario ("big-host");
  GPtrArray *fs = run->findings;
  const char *l40s[] = { "0000:16:00.0", "0000:29:00.0", "0000:2a:00.0", "0000:3a:00.0",
                         "0000:3b:00.0", "0000:98:00.0", "0000:a8:00.0", "0000:b8:00.0" };
  const GvDoctorFinding *f;

  expect_host_rows_first (fs);
  expect_healthy_host (fs, "Intel VT-d (dmar0)");
  /* intel_iommu=on without iommu=pt, DMA-FQ domains: a note with the line */
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_INFO);
  ASSERT_HAS (f->message, "iommu=pt is not set");
  ASSERT_HAS (f->message, "DMA-FQ");
  ASSERT_HAS (f->fix, "GRUB_CMDLINE_LINUX_DEFAULT=\"... iommu=pt\"");
  ASSERT_HAS (f->fix, "reboot");

  /* the pair below the switch without ACS: each names the other */
  f = expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:3a:00.0", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "0000:3a:00.0 shares IOMMU group 40 with 0000:3b:00.0 (3D controller)");
  ASSERT_HAS (f->message, "0000:37:01.0, 0000:38:00.0, 0000:39:00.0, 0000:39:01.0");
  ASSERT_HAS (f->message, "no ACS");
  ASSERT_HAS (f->fix, "gpuvirtctl bind --allow-foreign 0000:3a:00.0");
  ASSERT_HAS (f->fix, "pcie_acs_override=");
  ASSERT_HAS (f->fix, "weakens isolation");
  ASSERT_HAS (f->fix, "patched kernels");
  f = expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:3b:00.0", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "with 0000:3a:00.0 (3D controller)");
  /* the GPUs behind the switch with ACS are fine */
  expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:29:00.0", GV_DOCTOR_SEVERITY_OK);
  expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:2a:00.0", GV_DOCTOR_SEVERITY_OK);

  /* every L40S is cold: VFs to enable */
  for (gsize i = 0; i < G_N_ELEMENTS (l40s); i++) {
    g_autofree char *cmd = g_strdup_printf ("gpuvirtctl sriov %s 32", l40s[i]);
    f = expect (fs, GV_DOCTOR_SRIOV_UNUSED, l40s[i], GV_DOCTOR_SEVERITY_INFO);
    ASSERT_HAS (f->message, "pending");
    ASSERT_HAS (f->fix, cmd);
    expect (fs, GV_DOCTOR_VGPU_MANAGER, l40s[i], GV_DOCTOR_SEVERITY_OK);
  }
  /* the T4: SR-IOV advertised, vGPU through mdevs on the PF */
  f = expect (fs, GV_DOCTOR_SRIOV_UNUSED, "0000:c8:00.0", GV_DOCTOR_SEVERITY_INFO);
  ASSERT_HAS (f->message, "advertises 16 SR-IOV VFs");
  ASSERT_HAS (f->message, "VFs are not needed");
  g_assert_cmpstr (f->fix, ==, "");
  f = expect (fs, GV_DOCTOR_VGPU_MANAGER, "0000:c8:00.0", GV_DOCTOR_SEVERITY_OK);
  ASSERT_HAS (f->message, "mdev-pf");

  expect (fs, GV_DOCTOR_BOOT_VGA, "0000:03:00.0", GV_DOCTOR_SEVERITY_INFO);
  /* NVMe and ConnectX are no GPUs */
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_GROUP_SHARED, "0000:5a:00.0"), ==, 0);
  g_assert_cmpuint (count_id (fs, GV_DOCTOR_GROUP_SHARED, NULL), ==, 10);
  g_assert_cmpint (gv_doctor_worst (fs), ==, GV_DOCTOR_SEVERITY_WARNING);
}

static void
test_no_iommu (void)
{
  g_autoptr (Run) run = run_scenario ("no-iommu");
  GPtrArray *fs = run->findings;
  const GvDoctorFinding *f;

  expect_host_rows_first (fs);
  /* Rocket Lake: Intel, told by the host bridge (the simulator has no cpuinfo) */
  g_assert_cmpstr (gv_doctor_cpu_vendor (run->host), ==, "intel");
  f = expect (fs, GV_DOCTOR_IOMMU_PRESENT, "host", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->message, "No IOMMU");
  ASSERT_HAS (f->fix, "VT-d");
  ASSERT_HAS (f->fix, "GRUB_CMDLINE_LINUX_DEFAULT=\"... intel_iommu=on iommu=pt\"");
  ASSERT_HAS (f->fix, "sudo update-grub");
  ASSERT_HAS (f->fix, "grub2-mkconfig -o /boot/grub2/grub.cfg");
  ASSERT_HAS (f->fix, "reboot");
  g_assert_null (strstr (f->fix, "amd_iommu"));
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "lacks intel_iommu=on");
  ASSERT_HAS (f->fix, "intel_iommu=on iommu=pt");
  expect (fs, GV_DOCTOR_INTERRUPT_REMAPPING, "host", GV_DOCTOR_SEVERITY_INFO);
  expect (fs, GV_DOCTOR_VFIO_PCI_MODULE, "host", GV_DOCTOR_SEVERITY_OK);

  f = expect (fs, GV_DOCTOR_GROUP_SHARED, "0000:01:00.0", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->message, "no IOMMU group");
  f = expect (fs, GV_DOCTOR_GPU_HELD, "0000:01:00.0", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "Xorg (pid 1290: /dev/dri/card0, /dev/nvidia0)");
  f = expect (fs, GV_DOCTOR_BOOT_VGA, "0000:01:00.0", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "only GPU");
  expect (fs, GV_DOCTOR_VGPU_MANAGER, "0000:01:00.0", GV_DOCTOR_SEVERITY_INFO);
  g_assert_cmpint (gv_doctor_worst (fs), ==, GV_DOCTOR_SEVERITY_ERROR);
}

static void
test_qemu_testbed (void)
{
  g_autoptr (Run) run = run_scenario ("qemu-testbed");
  GPtrArray *fs = run->findings;
  const GvDoctorFinding *f;

  expect_host_rows_first (fs);
  expect_healthy_host (fs, "Intel VT-d (dmar0)");
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_INFO);
  ASSERT_HAS (f->message, "type DMA)");
  /* no GPU: only the host rows */
  g_assert_cmpuint (fs->len, ==, 4);
  g_assert_cmpint (gv_doctor_worst (fs), ==, GV_DOCTOR_SEVERITY_INFO);
}

/* ---- fake roots: plain directories ---- */

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

static GPtrArray *
doctor_on (const char *root)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = NULL;
  g_autofree char *devices = g_build_filename (root, "sys/bus/pci/devices", NULL);
  GPtrArray *findings;

  g_assert_cmpint (g_mkdir_with_parents (devices, 0755), ==, 0);
  host = gv_host_new (root, &error);
  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (host, NULL, &error));
  findings = gv_doctor_run (host, &error);
  g_assert_no_error (error);
  print_findings (findings);
  check_rows (findings);
  return findings;
}

static void
remove_tree (const char *dir)
{
  const char *argv[] = { "rm", "-rf", dir, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* AMD, no IOMMU, /etc/default/grub readable, update-grub installed, the
 * kernel's modules listing vfio-pci, which is not loaded. */
static void
test_fake_amd_grub (void)
{
  g_autofree char *root = g_dir_make_tmp ("gpuvirt-doctor-XXXXXX", NULL);
  g_autoptr (GPtrArray) fs = NULL;
  const GvDoctorFinding *f;

  put (root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n");
  put (root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet splash\n");
  put (root, "proc/sys/kernel/osrelease", "6.1.0-9-amd64\n");
  put (root, "etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n");
  put (root, "usr/sbin/update-grub", "#!/bin/sh\n");
  put (root, "lib/modules/6.1.0-9-amd64/modules.dep",
       "kernel/drivers/vfio/vfio.ko: kernel/drivers/vfio/vfio_iommu_type1.ko\n"
       "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n");

  fs = doctor_on (root);
  f = expect (fs, GV_DOCTOR_IOMMU_PRESENT, "host", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->fix, "AMD-Vi");
  ASSERT_HAS (f->fix, "In /etc/default/grub set: GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash amd_iommu=on iommu=pt\"");
  ASSERT_HAS (f->fix, "Then run: sudo update-grub\n");
  g_assert_null (strstr (f->fix, "grub2-mkconfig"));
  g_assert_null (strstr (f->fix, "intel_iommu"));
  f = expect (fs, GV_DOCTOR_VFIO_PCI_MODULE, "host", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "this kernel has it as a module");
  ASSERT_HAS (f->fix, "sudo modprobe vfio-pci");
  ASSERT_HAS (f->fix, "/etc/modules-load.d/vfio-pci.conf");

  /* the configuration module's rows go into the same array */
  g_ptr_array_add (fs, gv_doctor_finding_new (GV_DOCTOR_CONFIG_INVALID, GV_DOCTOR_SEVERITY_ERROR, "/etc/gpuvirt/gpuvirt.conf",
                                       "line 3: unknown key", NULL));
  g_assert_cmpstr (((GvDoctorFinding *) fs->pdata[fs->len - 1])->fix, ==, "");
  remove_tree (root);
}

/* Intel, IOMMU turned off on the command line (in GRUB_CMDLINE_LINUX too),
 * a kernel whose modules lack vfio-pci. */
static void
test_fake_intel_off (void)
{
  g_autofree char *root = g_dir_make_tmp ("gpuvirt-doctor-XXXXXX", NULL);
  g_autoptr (GPtrArray) fs = NULL;
  const GvDoctorFinding *f;

  put (root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\n");
  put (root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz ro quiet intel_iommu=off iommu=soft -- single\n");
  put (root, "proc/sys/kernel/osrelease", "6.8.0-1-generic\n");
  put (root, "etc/default/grub",
       "GRUB_CMDLINE_LINUX_DEFAULT='quiet iommu=soft'\n# GRUB_CMDLINE_LINUX_DEFAULT=\"old\"\n"
       "GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=off\"\n");
  put (root, "usr/sbin/grub2-mkconfig", "#!/bin/sh\n");
  put (root, "lib/modules/6.8.0-1-generic/modules.dep", "kernel/drivers/net/e1000e.ko:\n");

  fs = doctor_on (root);
  f = expect (fs, GV_DOCTOR_IOMMU_PRESENT, "host", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->message, "intel_iommu=off");
  ASSERT_HAS (f->fix, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"");
  ASSERT_HAS (f->fix, "GRUB_CMDLINE_LINUX=\"console=ttyS0\"");
  ASSERT_HAS (f->fix, "Then run: sudo grub2-mkconfig -o /boot/grub2/grub.cfg\n");
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->message, "intel_iommu=off");
  f = expect (fs, GV_DOCTOR_VFIO_PCI_MODULE, "host", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->message, "6.8.0-1-generic");
  remove_tree (root);
}

/* Neither cpuinfo nor a host bridge: both options are named. */
static void
test_fake_unknown_cpu (void)
{
  g_autofree char *root = g_dir_make_tmp ("gpuvirt-doctor-XXXXXX", NULL);
  g_autoptr (GPtrArray) fs = NULL;
  const GvDoctorFinding *f;

  put (root, "proc/cmdline", "ro\n");
  fs = doctor_on (root);
  f = expect (fs, GV_DOCTOR_IOMMU_PRESENT, "host", GV_DOCTOR_SEVERITY_ERROR);
  ASSERT_HAS (f->fix, "GRUB_CMDLINE_LINUX_DEFAULT=\"... iommu=pt\"");
  ASSERT_HAS (f->fix, "intel_iommu=on (Intel) or amd_iommu=on (AMD)");
  f = expect (fs, GV_DOCTOR_IOMMU_CMDLINE, "host", GV_DOCTOR_SEVERITY_WARNING);
  ASSERT_HAS (f->message, "neither intel_iommu=on nor amd_iommu=on");
  /* no lib/modules: not loaded, availability unknown */
  expect (fs, GV_DOCTOR_VFIO_PCI_MODULE, "host", GV_DOCTOR_SEVERITY_WARNING);
  g_assert_cmpuint (fs->len, ==, 4);
  remove_tree (root);
}

/* This machine, read only: it runs and says something about the IOMMU. */
static void
test_real_sys (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new ("/", &error);
  g_autoptr (GPtrArray) fs = NULL;
  guint iommu = 0;

  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (host, NULL, &error));
  fs = gv_doctor_run (host, &error);
  g_assert_no_error (error);
  print_findings (fs);
  check_rows (fs);
  expect_host_rows_first (fs);
  for (guint i = 0; i < fs->len; i++) {
    const GvDoctorFinding *f = fs->pdata[i];
    if (g_str_equal (f->id, GV_DOCTOR_IOMMU_PRESENT)) {
      iommu++;
      g_assert_cmpstr (f->subject, ==, "host");
      /* no IOMMU: the fix is the GRUB line for this CPU */
      if (f->severity == GV_DOCTOR_SEVERITY_ERROR)
        ASSERT_HAS (f->fix, "GRUB_CMDLINE_LINUX");
    }
  }
  g_assert_cmpuint (iommu, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/doctor/scenario/workstation", test_workstation);
  g_test_add_func ("/doctor/scenario/a40-mdev", test_a40_mdev);
  g_test_add_func ("/doctor/scenario/l40s-vendor-vfio", test_l40s_vendor_vfio);
  g_test_add_func ("/doctor/scenario/big-host", test_big_host);
  g_test_add_func ("/doctor/scenario/no-iommu", test_no_iommu);
  g_test_add_func ("/doctor/scenario/qemu-testbed", test_qemu_testbed);
  g_test_add_func ("/doctor/fake/amd-grub", test_fake_amd_grub);
  g_test_add_func ("/doctor/fake/intel-off", test_fake_intel_off);
  g_test_add_func ("/doctor/fake/unknown-cpu", test_fake_unknown_cpu);
  g_test_add_func ("/doctor/real-sys", test_real_sys);
  return g_test_run ();
}
