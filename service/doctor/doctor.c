/* The doctor's host-wide checks: the IOMMU, the kernel command line (with
 * the exact GRUB line that fixes it), interrupt remapping and vfio-pci.
 * The per-GPU checks are in doctor-gpu.c. Read-only. */
#include "doctor/internal.h"

#include "gpuvirt-names.h"
#include "host/iommu.h"
#include "sysfs/read.h"

#include <string.h>

const char *
gv_doctor_severity_to_string (GvDoctorSeverity severity)
{
  switch (severity) {
  case GV_DOCTOR_SEVERITY_OK:
    return GPUVIRT_SEVERITY_OK;
  case GV_DOCTOR_SEVERITY_INFO:
    return GPUVIRT_SEVERITY_INFO;
  case GV_DOCTOR_SEVERITY_WARNING:
    return GPUVIRT_SEVERITY_WARNING;
  case GV_DOCTOR_SEVERITY_ERROR:
    return GPUVIRT_SEVERITY_ERROR;
  }
  g_return_val_if_reached (GPUVIRT_SEVERITY_ERROR);
}

GvDoctorFinding *
gv_doctor_finding_new (const char *id, GvDoctorSeverity severity, const char *subject, const char *message, const char *fix)
{
  GvDoctorFinding *f = g_new0 (GvDoctorFinding, 1);

  f->id = g_strdup (id);
  f->severity = severity;
  f->subject = g_strdup (subject);
  f->message = g_strdup (message);
  f->fix = g_strdup (fix ? fix : "");
  return f;
}

void
gv_doctor_finding_free (GvDoctorFinding *finding)
{
  if (!finding)
    return;
  g_free (finding->id);
  g_free (finding->subject);
  g_free (finding->message);
  g_free (finding->fix);
  g_free (finding);
}

GvDoctorSeverity
gv_doctor_worst (GPtrArray *findings)
{
  GvDoctorSeverity worst = GV_DOCTOR_SEVERITY_OK;

  for (guint i = 0; findings && i < findings->len; i++)
    worst = MAX (worst, ((GvDoctorFinding *) findings->pdata[i])->severity);
  return worst;
}

void
gv_doctor_add (GvDoctorRun *d, const char *id, GvDoctorSeverity severity, const char *subject, char *message, char *fix)
{
  g_ptr_array_add (d->findings, gv_doctor_finding_new (id, severity, subject, message, fix));
  g_free (message);
  g_free (fix);
}

/* ---- the CPU vendor ---- */

const char *
gv_doctor_cpu_vendor (GvHost *host)
{
  const char *root = gv_host_get_root (host);
  g_autofree char *proc = g_build_filename (root, "proc", NULL);
  g_autofree char *cpuinfo = gv_sysfs_read_attr (proc, "cpuinfo");
  const char *kind;
  GvHostDevice *bridge;

  if (cpuinfo) {
    g_auto (GStrv) lines = g_strsplit (cpuinfo, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
      const char *colon = strchr (lines[i], ':');
      if (!g_str_has_prefix (lines[i], "vendor_id") || !colon)
        continue;
      if (strstr (colon, "GenuineIntel"))
        return "intel";
      /* Hygon's Dhyana is an AMD design with AMD's IOMMU */
      if (strstr (colon, "AuthenticAMD") || strstr (colon, "HygonGenuine"))
        return "amd";
      break;
    }
  }
  /* The simulator and some containers have no cpuinfo: an IOMMU unit
   * (dmar, ivhd) is the CPU vendor's, and so is, on x86, the root
   * complex's host bridge. */
  kind = gv_host_iommu_kind (gv_host_get_facts (host));
  if (g_str_equal (kind, "intel") || g_str_equal (kind, "amd"))
    return kind;
  bridge = gv_host_lookup (host, "0000:00:00.0");
  if (bridge && (bridge->fn->class_code >> 8) == 0x0600) {
    if (bridge->fn->vendor_id == 0x8086)
      return "intel";
    if (bridge->fn->vendor_id == 0x1022 || bridge->fn->vendor_id == 0x1d94)
      return "amd";
  }
  return NULL;
}

/* ---- the kernel command line ---- */

static GStrv
split_cmdline (const char *cmdline)
{
  g_auto (GStrv) words = g_strsplit_set (cmdline ? cmdline : "", " \t\n", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; words[i]; i++) {
    if (!*words[i])
      continue;
    /* what follows a lone "--" goes to init, not to the kernel */
    if (g_str_equal (words[i], "--"))
      break;
    g_ptr_array_add (out, g_strdup (words[i]));
  }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (out, FALSE);
}

/* The value of the last KEY= on the command line, or NULL. */
static const char *
cmdline_value (GvDoctorRun *d, const char *key)
{
  const char *value = NULL;
  gsize n = strlen (key);

  for (guint i = 0; d->cmdline[i]; i++)
    if (strncmp (d->cmdline[i], key, n) == 0 && d->cmdline[i][n] == '=')
      value = d->cmdline[i] + n + 1;
  return value;
}

/* Is WORD one of VALUE's comma-separated options ("on,sm_on")? */
static gboolean
has_option (const char *value, const char *word)
{
  g_auto (GStrv) parts = NULL;

  if (!value)
    return FALSE;
  parts = g_strsplit (value, ",", -1);
  return g_strv_contains ((const char *const *) parts, word);
}

/* The option that turns the IOMMU on for this CPU. */
static const char *
enable_option (GvDoctorRun *d)
{
  if (g_strcmp0 (d->cpu, "amd") == 0)
    return "amd_iommu=on";
  if (g_strcmp0 (d->cpu, "intel") == 0)
    return "intel_iommu=on";
  return NULL;
}

/* What on the command line turns the IOMMU off ("intel_iommu=off"), or NULL. */
static char *
disabling_option (GvDoctorRun *d)
{
  static const char *const keys[] = { "intel_iommu", "amd_iommu", "iommu" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (has_option (cmdline_value (d, keys[i]), "off"))
      return g_strconcat (keys[i], "=off", NULL);
  return NULL;
}

/* ---- the GRUB line ---- */

/* The value of VAR="..." (or '...', or unquoted) in /etc/default/grub's
 * text, the last assignment winning; NULL when not assigned. */
static char *
grub_value (const char *text, const char *var)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  char *value = NULL;
  gsize n = strlen (var);

  for (guint i = 0; lines[i]; i++) {
    const char *p = lines[i];
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp (p, var, n) != 0 || p[n] != '=')
      continue;
    p += n + 1;
    g_free (value);
    if (*p == '"' || *p == '\'') {
      const char *end = strchr (p + 1, *p);
      value = end ? g_strndup (p + 1, end - p - 1) : g_strdup (p + 1);
    } else {
      value = g_strdup (p);
      g_strstrip (value);
    }
  }
  return value;
}

static gboolean
same_key (const char *word, const char *option)
{
  const char *eq = strchr (option, '=');
  gsize n = eq ? (gsize) (eq - option) : strlen (option);

  return strncmp (word, option, n) == 0 && (word[n] == '=' || word[n] == '\0');
}

/* VALUE's words without those that set a key of ADD or equal one of
 * DROP, then ADD. */
static char *
rewrite_value (const char *value, const char *const *add, const char *const *drop)
{
  g_auto (GStrv) words = g_strsplit_set (value, " \t", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; words[i]; i++) {
    gboolean keep = *words[i] != '\0';
    for (guint j = 0; keep && add[j]; j++)
      keep = !same_key (words[i], add[j]);
    for (guint j = 0; keep && drop && drop[j]; j++)
      keep = !g_str_equal (words[i], drop[j]);
    if (keep)
      g_string_append_printf (out, "%s%s", out->len ? " " : "", words[i]);
  }
  for (guint j = 0; add[j]; j++)
    g_string_append_printf (out, "%s%s", out->len ? " " : "", add[j]);
  return g_string_free (out, FALSE);
}

/* The steps that put ADD on the kernel command line (and take DROP off):
 * the exact /etc/default/grub line(s) when that file can be read, else the
 * line with "..." for what is there; NOTE (may be NULL); the command that
 * regenerates grub.cfg; the reboot. */
static char *
grub_fix (GvDoctorRun *d, const char *first_step, const char *const *add, const char *const *drop, const char *note)
{
  g_autofree char *etc = g_build_filename (d->root, "etc", "default", NULL);
  g_autofree char *text = gv_sysfs_read_attr (etc, "grub");
  g_autofree char *joined = g_strjoinv (" ", (char **) add);
  g_autofree char *sbin = g_build_filename (d->root, "usr", "sbin", NULL);
  GString *fix = g_string_new (NULL);
  gboolean debian = gv_sysfs_path_exists (sbin, "update-grub");
  gboolean fedora = gv_sysfs_path_exists (sbin, "grub2-mkconfig");

  if (first_step)
    g_string_append_printf (fix, "%s\n", first_step);
  if (text) {
    g_autofree char *dflt = grub_value (text, "GRUB_CMDLINE_LINUX_DEFAULT");
    g_autofree char *linux_ = grub_value (text, "GRUB_CMDLINE_LINUX");
    g_autofree char *new_dflt = rewrite_value (dflt ? dflt : "", add, drop);
    g_string_append_printf (fix, "In /etc/default/grub set: GRUB_CMDLINE_LINUX_DEFAULT=\"%s\"\n", new_dflt);
    /* an option that turns the IOMMU off may sit in the other variable */
    for (guint i = 0; linux_ && drop && drop[i]; i++) {
      g_auto (GStrv) words = g_strsplit_set (linux_, " \t", -1);
      if (g_strv_contains ((const char *const *) words, drop[i])) {
        const char *none[] = { NULL };
        g_autofree char *new_linux = rewrite_value (linux_, none, drop);
        g_string_append_printf (fix, "and: GRUB_CMDLINE_LINUX=\"%s\"\n", new_linux);
        break;
      }
    }
  } else if (*joined) {
    g_string_append_printf (fix, "In /etc/default/grub add %s to the line (... is what it holds now): "
                            "GRUB_CMDLINE_LINUX_DEFAULT=\"... %s\"\n", joined, joined);
  } else {
    g_string_append (fix, "In /etc/default/grub edit GRUB_CMDLINE_LINUX_DEFAULT:\n");
  }
  if (!text && drop && drop[0]) {
    g_autofree char *dropped = g_strjoinv (" ", (char **) drop);
    g_string_append_printf (fix, "and remove %s from GRUB_CMDLINE_LINUX_DEFAULT and GRUB_CMDLINE_LINUX\n", dropped);
  }
  if (note)
    g_string_append_printf (fix, "%s\n", note);
  if (debian && !fedora)
    g_string_append (fix, "Then run: sudo update-grub\n");
  else if (fedora && !debian)
    g_string_append (fix, "Then run: sudo grub2-mkconfig -o /boot/grub2/grub.cfg\n");
  else
    g_string_append (fix, "Then run: sudo update-grub (Fedora, RHEL: sudo grub2-mkconfig -o /boot/grub2/grub.cfg)\n");
  g_string_append (fix, "and reboot.");
  return g_string_free (fix, FALSE);
}

/* ---- host checks ---- */

static const char *
firmware_switch (GvDoctorRun *d)
{
  if (g_strcmp0 (d->cpu, "amd") == 0)
    return "Enable the IOMMU (AMD-Vi, often \"IOMMU\" under the chipset or NBIO settings) in the firmware setup.";
  if (g_strcmp0 (d->cpu, "intel") == 0)
    return "Enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware setup.";
  return "Enable the IOMMU (VT-d on Intel, AMD-Vi on AMD) in the firmware setup.";
}

static gboolean
on_cmdline (GvDoctorRun *d, const char *word)
{
  return g_strv_contains ((const char *const *) d->cmdline, word);
}

/* The options to add that are not there yet: the CPU's enabling option
 * (none when the CPU is unknown) and iommu=pt. */
static GPtrArray *
options_to_add (GvDoctorRun *d)
{
  GPtrArray *add = g_ptr_array_new ();

  if (enable_option (d) && !on_cmdline (d, enable_option (d)))
    g_ptr_array_add (add, (gpointer) enable_option (d));
  if (!on_cmdline (d, "iommu=pt"))
    g_ptr_array_add (add, (gpointer) "iommu=pt");
  g_ptr_array_add (add, NULL);
  return add;
}

/* Does the command line ask for the IOMMU (the CPU's option; either when
 * the CPU is unknown)? amd_iommu=on is what guides tell AMD users to add,
 * but the AMD driver knows no "on": its IOMMU is on unless turned off, so
 * on AMD the firmware switch is what matters. */
static gboolean
cmdline_enables (GvDoctorRun *d)
{
  gboolean intel = has_option (cmdline_value (d, "intel_iommu"), "on");
  gboolean amd = has_option (cmdline_value (d, "amd_iommu"), "on");

  if (g_strcmp0 (d->cpu, "intel") == 0)
    return intel;
  if (g_strcmp0 (d->cpu, "amd") == 0)
    return amd;
  return intel || amd;
}

static guint
count_groups (GvDoctorRun *d)
{
  g_autofree char *dir = g_build_filename (d->root, "sys", "kernel", "iommu_groups", NULL);
  g_autoptr (GPtrArray) groups = gv_sysfs_list_dir (dir);

  return groups->len;
}

/* The GRUB steps that add what is missing (and take OFF, may be NULL,
 * away), after FIRST_STEP (may be NULL). When the CPU is unknown, the
 * line has iommu=pt only and a note names both vendors' options. */
static char *
enable_fix (GvDoctorRun *d, const char *first_step, const char *off)
{
  g_autoptr (GPtrArray) add = options_to_add (d);
  const char *drop[] = { off, NULL };

  return grub_fix (d, first_step, (const char *const *) add->pdata, drop,
                   enable_option (d) ? NULL : "Add intel_iommu=on (Intel) or amd_iommu=on (AMD) to that line too.");
}

static void
check_iommu_present (GvDoctorRun *d)
{
  const char *kind = gv_host_iommu_kind (d->facts);
  g_autofree char *off = disabling_option (d);
  char *message, *fix;

  if (d->facts->iommu_present || (d->facts->iommu_groups && g_str_equal (kind, "other"))) {
    g_autofree char *units = g_strjoinv (", ", d->facts->iommu_units);
    guint groups = count_groups (d);
    if (g_str_equal (kind, "intel"))
      message = g_strdup_printf ("IOMMU on: Intel VT-d (%s), %u IOMMU groups", units, groups);
    else if (g_str_equal (kind, "amd"))
      message = g_strdup_printf ("IOMMU on: AMD-Vi (%s), %u IOMMU groups", units, groups);
    else
      message = g_strdup_printf ("IOMMU on: %u IOMMU groups (no dmar or ivhd unit: e.g. virtio-iommu or an SMMU)",
                                 groups);
    gv_doctor_add (d, GV_DOCTOR_IOMMU_PRESENT, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST, message, NULL);
    return;
  }

  if (off) {
    message = g_strdup_printf ("No IOMMU: the kernel command line turns it off (%s), so no device can be "
                               "passed through", off);
    fix = enable_fix (d, NULL, off);
  } else if (cmdline_enables (d)) {
    message = g_strdup ("No IOMMU although the kernel command line asks for it: it is off in the firmware "
                        "(or the platform has none), so no device can be passed through");
    fix = g_strdup_printf ("%s\nThen reboot.", firmware_switch (d));
  } else {
    message = g_strdup ("No IOMMU: /sys/class/iommu is empty and there are no IOMMU groups, so no device can be "
                        "passed through");
    fix = enable_fix (d, firmware_switch (d), NULL);
  }
  gv_doctor_add (d, GV_DOCTOR_IOMMU_PRESENT, GV_DOCTOR_SEVERITY_ERROR, GV_DOCTOR_SUBJECT_HOST, message, fix);
}

/* ROOT/sys/kernel/iommu_groups/<first>/type: "identity" under iommu=pt,
 * "DMA" or "DMA-FQ" when host DMA is translated; NULL when unknown. */
static char *
group_type (GvDoctorRun *d)
{
  g_autofree char *dir = g_build_filename (d->root, "sys", "kernel", "iommu_groups", NULL);
  g_autoptr (GPtrArray) groups = gv_sysfs_list_dir (dir);
  g_autofree char *group = NULL;

  if (groups->len == 0)
    return NULL;
  group = g_build_filename (dir, groups->pdata[0], NULL);
  return gv_sysfs_read_attr (group, "type");
}

static void
check_iommu_cmdline (GvDoctorRun *d)
{
  const char *kind = gv_host_iommu_kind (d->facts);
  gboolean on = d->facts->iommu_present || d->facts->iommu_groups;
  const char *enable = enable_option (d);
  gboolean pt = has_option (cmdline_value (d, "iommu"), "pt") || g_strcmp0 (cmdline_value (d, "iommu.passthrough"), "1") == 0;
  g_autofree char *type = on ? group_type (d) : NULL;
  g_autofree char *off = disabling_option (d);

  if (off) {
    gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_ERROR, GV_DOCTOR_SUBJECT_HOST,
                g_strdup_printf ("The kernel command line has %s, which turns the IOMMU off", off),
                enable_fix (d, NULL, off));
    return;
  }
  if (!on) {
    if (cmdline_enables (d))
      gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
                  g_strdup ("The kernel command line asks for the IOMMU (it is off elsewhere: see iommu-present)"),
                  NULL);
    else
      gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_WARNING, GV_DOCTOR_SUBJECT_HOST,
                  enable ? g_strdup_printf ("The kernel command line lacks %s", enable)
                         : g_strdup ("The kernel command line has neither intel_iommu=on nor amd_iommu=on"),
                  enable_fix (d, NULL, NULL));
    return;
  }
  if (g_str_equal (kind, "other")) {
    gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
                g_strdup ("This IOMMU needs no option on the kernel command line"), NULL);
    return;
  }
  if (pt) {
    gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
                cmdline_enables (d) && enable ? g_strdup_printf ("The kernel command line has %s iommu=pt", enable)
                                              : g_strdup ("The kernel command line has iommu=pt"),
                NULL);
    return;
  }
  if (g_strcmp0 (type, "identity") == 0) {
    gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
                g_strdup ("Host devices bypass IOMMU translation (identity domains, as with iommu=pt)"), NULL);
    return;
  }
  {
    const char *add[] = { "iommu=pt", NULL };
    gv_doctor_add (d, GV_DOCTOR_IOMMU_CMDLINE, GV_DOCTOR_SEVERITY_INFO, GV_DOCTOR_SUBJECT_HOST,
                g_strdup_printf ("iommu=pt is not set: the host's own devices' DMA is translated too (IOMMU group "
                                 "type %s); passthrough mode spares the host that cost, and VFIO devices stay "
                                 "isolated either way", type ? type : "DMA"),
                grub_fix (d, NULL, add, NULL, NULL));
  }
}

static void
check_interrupt_remapping (GvDoctorRun *d)
{
  g_autofree char *params = g_build_filename (d->root, "sys", "module", "vfio_iommu_type1", "parameters", NULL);
  g_autofree char *unsafe = gv_sysfs_read_attr (params, "allow_unsafe_interrupts");
  const char *intremap = cmdline_value (d, "intremap");
  gboolean remapping = gv_host_iommu_interrupt_remapping (d->root) && !has_option (intremap, "off");

  if (!d->facts->iommu_present && !d->facts->iommu_groups) {
    gv_doctor_add (d, GV_DOCTOR_INTERRUPT_REMAPPING, GV_DOCTOR_SEVERITY_INFO, GV_DOCTOR_SUBJECT_HOST,
                g_strdup ("Interrupt remapping cannot be checked without an IOMMU (see iommu-present)"), NULL);
    return;
  }
  if (remapping) {
    gv_doctor_add (d, GV_DOCTOR_INTERRUPT_REMAPPING, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
                g_strdup ("The IOMMU remaps interrupts"), NULL);
    return;
  }
  if (g_str_equal (gv_host_iommu_kind (d->facts), "other")) {
    /* e.g. an SMMU, whose MSI remapping is the interrupt controller's */
    gv_doctor_add (d, GV_DOCTOR_INTERRUPT_REMAPPING, GV_DOCTOR_SEVERITY_INFO, GV_DOCTOR_SUBJECT_HOST,
                g_strdup ("Interrupt remapping is not checked for this IOMMU (no dmar or ivhd unit)"), NULL);
    return;
  }
  if (unsafe && (g_str_equal (unsafe, "Y") || g_str_equal (unsafe, "1"))) {
    gv_doctor_add (d, GV_DOCTOR_INTERRUPT_REMAPPING, GV_DOCTOR_SEVERITY_WARNING, GV_DOCTOR_SUBJECT_HOST,
                g_strdup ("No interrupt remapping; vfio_iommu_type1 allow_unsafe_interrupts=Y lets VFIO work, "
                          "but a VM's device can then inject interrupts into the host"),
                g_strdup_printf ("Enable interrupt remapping (x2APIC) in the firmware setup%s, then remove "
                                 "allow_unsafe_interrupts from /etc/modprobe.d.",
                                 intremap ? " and remove intremap= from the kernel command line" : ""));
    return;
  }
  gv_doctor_add (d, GV_DOCTOR_INTERRUPT_REMAPPING, GV_DOCTOR_SEVERITY_ERROR, GV_DOCTOR_SUBJECT_HOST,
              g_strdup_printf ("No interrupt remapping%s: VFIO refuses to assign devices",
                               has_option (intremap, "off") ? " (intremap=off on the kernel command line)" : ""),
              g_strdup_printf ("Enable interrupt remapping (x2APIC) in the firmware setup%s and reboot.\n"
                               "Or, accepting that a VM's device can inject interrupts into the host: "
                               "echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' | "
                               "sudo tee /etc/modprobe.d/vfio-unsafe-interrupts.conf",
                               has_option (intremap, "off") ? ", remove intremap=off from /etc/default/grub" : ""));
}

/* Does ROOT/lib/modules/<release> list vfio-pci? TRUE/FALSE, or -1 when
 * that directory cannot be read (a simulated host, a container). */
static int
vfio_pci_available (GvDoctorRun *d)
{
  g_autofree char *dir = NULL;
  g_autofree char *dep = NULL;
  g_autofree char *builtin = NULL;

  if (!*d->facts->kernel_release)
    return -1;
  dir = g_build_filename (d->root, "lib", "modules", d->facts->kernel_release, NULL);
  dep = gv_sysfs_read_attr (dir, "modules.dep");
  builtin = gv_sysfs_read_attr (dir, "modules.builtin");
  if (!dep && !builtin)
    return -1;
  return (dep && strstr (dep, "/vfio-pci.ko")) || (builtin && strstr (builtin, "/vfio-pci.ko"));
}

static void
check_vfio_pci (GvDoctorRun *d)
{
  const char *load = "sudo modprobe vfio-pci\n"
                     "To load it at every boot: echo vfio-pci | sudo tee /etc/modules-load.d/vfio-pci.conf";
  int available;

  if (d->facts->vfio_pci_loaded) {
    g_autofree char *drv = g_build_filename (d->root, "sys", "bus", "pci", "drivers", "vfio-pci", NULL);
    g_autofree char *module = gv_sysfs_read_link_name (drv, "module");
    gv_doctor_add (d, GV_DOCTOR_VFIO_PCI_MODULE, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
                g_strdup_printf ("vfio-pci is loaded (%s)", module ? "module vfio_pci" : "built into the kernel"),
                NULL);
    return;
  }
  available = vfio_pci_available (d);
  if (available == 0)
    gv_doctor_add (d, GV_DOCTOR_VFIO_PCI_MODULE, GV_DOCTOR_SEVERITY_ERROR, GV_DOCTOR_SUBJECT_HOST,
                g_strdup_printf ("This kernel (%s) has no vfio-pci module: nothing can be passed through",
                                 d->facts->kernel_release),
                g_strdup ("Boot a kernel built with CONFIG_VFIO_PCI (every major distribution's own kernel is)."));
  else
    gv_doctor_add (d, GV_DOCTOR_VFIO_PCI_MODULE, GV_DOCTOR_SEVERITY_WARNING, GV_DOCTOR_SUBJECT_HOST,
                g_strdup_printf ("vfio-pci is not loaded%s: passthrough needs it (gpuvirtd never loads modules)",
                                 available > 0 ? " (this kernel has it as a module)" : ""),
                g_strdup (load));
}

GPtrArray *
gv_doctor_run (GvHost *host, GError **error)
{
  g_autoptr (GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_doctor_finding_free);
  GvDoctorRun d = {
    .host = host,
    .root = gv_host_get_root (host),
    .findings = findings,
  };
  gboolean ok;

  d.facts = gv_host_facts_read (d.root);
  d.names = gv_host_names_new ();
  d.cmdline = split_cmdline (d.facts->kernel_cmdline);
  d.cpu = gv_doctor_cpu_vendor (host);

  check_iommu_present (&d);
  check_iommu_cmdline (&d);
  check_interrupt_remapping (&d);
  check_vfio_pci (&d);
  ok = gv_doctor_check_devices (&d, error);

  g_strfreev (d.cmdline);
  gv_host_names_free (d.names);
  gv_host_facts_free (d.facts);
  return ok ? g_steal_pointer (&findings) : NULL;
}
