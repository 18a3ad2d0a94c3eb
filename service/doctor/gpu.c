/* The doctor's per-GPU checks: the IOMMU group verdict, the processes that
 * hold the GPU, the boot console, the vGPU framework with NVIDIA's vGPU
 * manager, and SR-IOV that is advertised but unused. Read-only. */
#include "doctor/internal.h"

#include "sysfs/read.h"

#include <string.h>

/* "0000:3b:00.0 (3D controller)" */
static char *
describe_function (GvDoctorRun *d, const char *bdf)
{
  GvHostDevice *o = gv_host_lookup (d->host, bdf);
  g_autofree char *cls = NULL;

  if (!o)
    return g_strdup (bdf);
  cls = gv_host_names_class (d->names, o->fn->class_code);
  if (!*cls) {
    g_free (cls);
    cls = g_strdup_printf ("class %04x", o->fn->class_code >> 8);
  }
  return g_strdup_printf ("%s (%s)", bdf, cls);
}

static char *
join_described (GvDoctorRun *d, const char *const *bdfs)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; bdfs[i]; i++) {
    g_autofree char *one = describe_function (d, bdfs[i]);
    g_string_append_printf (out, "%s%s", i ? ", " : "", one);
  }
  return g_string_free (out, FALSE);
}

/* ---- group-shared ---- */

static void
check_group (GvDoctorRun *d, GvHostDevice *gpu)
{
  const char *bdf = gpu->fn->bdf;
  int group = gpu->fn->iommu_group;
  g_autoptr (GPtrArray) bridges = g_ptr_array_new ();
  g_autoptr (GPtrArray) own = g_ptr_array_new ();

  if (gpu->verdict == GV_HOST_GROUP_NONE) {
    gv_doctor_add (d, GV_DOCTOR_GROUP_SHARED, GV_DOCTOR_SEVERITY_ERROR, bdf,
                g_strdup_printf ("%s is in no IOMMU group: VFIO cannot take it", bdf),
                g_strdup ("Turn the IOMMU on (see iommu-present)."));
    return;
  }
  for (guint i = 0; gpu->group_members[i]; i++) {
    GvHostDevice *m = gv_host_lookup (d->host, gpu->group_members[i]);
    if (m && gv_host_function_is_bridge (m->fn))
      g_ptr_array_add (bridges, gpu->group_members[i]);
    else if (!g_strv_contains ((const char *const *) gpu->foreign, gpu->group_members[i]))
      g_ptr_array_add (own, gpu->group_members[i]);
  }
  g_ptr_array_add (bridges, NULL);
  g_ptr_array_add (own, NULL);

  if (gpu->verdict == GV_HOST_GROUP_VIABLE) {
    g_autofree char *list = g_strjoinv (", ", (char **) own->pdata);
    gv_doctor_add (d, GV_DOCTOR_GROUP_SHARED, GV_DOCTOR_SEVERITY_OK, bdf,
                own->len - 1 <= 4
                  ? g_strdup_printf ("%s's IOMMU group %d holds only its own functions (%s)%s", bdf, group, list,
                                     bridges->len > 1 ? " and bridges" : "")
                  : g_strdup_printf ("%s's IOMMU group %d holds only its own %u functions%s", bdf, group,
                                     own->len - 1, bridges->len > 1 ? " and bridges" : ""),
                NULL);
    return;
  }

  {
    g_autofree char *foreign = join_described (d, (const char *const *) gpu->foreign);
    g_autofree char *ports = g_strjoinv (", ", (char **) bridges->pdata);
    GString *message = g_string_new (NULL);
    GString *fix = g_string_new (NULL);

    g_string_append_printf (message, "%s shares IOMMU group %d with %s", bdf, group, foreign);
    if (bridges->len > 1)
      g_string_append_printf (message, "; the bridge%s %s in that group do%s not isolate them (no ACS)",
                              bridges->len > 2 ? "s" : "", ports, bridges->len > 2 ? "" : "es");
    g_string_append_printf (fix, "Pass the group through as a whole: gpuvirtctl bind --allow-foreign %s\n", bdf);
    if (bridges->len > 1)
      g_string_append (fix, "Or turn ACS on for those ports in the firmware setup, or move the card to a slot "
                            "whose root port isolates it.\n");
    else
      g_string_append (fix, "Or move the card to a slot with an IOMMU group of its own.\n");
    g_string_append (fix, "pcie_acs_override= (the ACS override patch, only on patched kernels such as linux-zen or "
                          "Proxmox VE's) splits the group but weakens isolation: the devices could still reach "
                          "each other's memory.");
    gv_doctor_add (d, GV_DOCTOR_GROUP_SHARED, GV_DOCTOR_SEVERITY_WARNING, bdf, g_string_free (message, FALSE),
                g_string_free (fix, FALSE));
  }
}

/* ---- gpu-held ---- */

/* The nodes that stand for GPU: its own and those of its VFs (a VM holds
 * a vendor-VFIO VF's node, or an mdev's on a VF). */
static GStrv
gpu_nodes (GvDoctorRun *d, GvHostDevice *gpu)
{
  GPtrArray *mdevs = gv_host_get_mdevs (d->host);
  GPtrArray *nodes = g_ptr_array_new ();
  g_auto (GStrv) own = gv_host_holder_nodes_for (gpu->fn, gpu->vfio_group_node, mdevs);

  for (guint i = 0; own && own[i]; i++)
    g_ptr_array_add (nodes, g_strdup (own[i]));
  for (guint i = 0; gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (d->host, gpu->fn->vfs[i]);
    g_auto (GStrv) vf_nodes = vf ? gv_host_holder_nodes_for (vf->fn, vf->vfio_group_node, mdevs) : NULL;
    for (guint j = 0; vf_nodes && vf_nodes[j]; j++)
      if (!g_ptr_array_find_with_equal_func (nodes, vf_nodes[j], g_str_equal, NULL))
        g_ptr_array_add (nodes, g_strdup (vf_nodes[j]));
  }
  g_ptr_array_add (nodes, NULL);
  return (GStrv) g_ptr_array_free (nodes, FALSE);
}

static gboolean
is_display_server (const char *name)
{
  static const char *const names[] = {
    "Xorg", "X", "Xwayland", "gnome-shell", "kwin_wayland", "kwin_x11", "plasmashell", "mutter", "sway",
    "weston", "Hyprland", "cosmic-comp", "gdm", "gdm-x-session", "gdm-wayland-session", "sddm", "sddm-greeter",
    "lightdm", "xfwm4", "cinnamon", "marco", "labwc", "wayfire", "niri",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (name, names[i]))
      return TRUE;
  return FALSE;
}

/* "Xorg (pid 1834: /dev/dri/card1, /dev/nvidia0), ..." for HOLDERS
 * (sorted by pid); one fix line per program into FIX. */
static char *
describe_holders (GvDoctorRun *d, GPtrArray *holders, GString *fix)
{
  GString *text = g_string_new (NULL);
  gboolean display_said = FALSE;
  int last_pid = -1;

  for (guint i = 0; i < holders->len; i++) {
    const GvHostHolder *h = holders->pdata[i];
    if (h->pid != last_pid) {
      g_autofree char *name = gv_host_holder_name (d->root, h);
      if (last_pid != -1)
        g_string_append (text, "), ");
      g_string_append_printf (text, "%s (pid %d: ", name, h->pid);
      last_pid = h->pid;
      if (fix && g_str_equal (name, "nvidia-persistenced")) {
        g_string_append (fix, "sudo systemctl stop nvidia-persistenced\n");
      } else if (fix && is_display_server (name)) {
        if (!display_said)
          g_string_append (fix, "Log out of the desktop on this GPU, or: sudo systemctl stop display-manager\n");
        display_said = TRUE;
      } else if (fix) {
        g_string_append_printf (fix, "Stop %s (pid %d), e.g. sudo kill %d\n", name, h->pid, h->pid);
      }
    } else {
      g_string_append (text, ", ");
    }
    g_string_append (text, h->node);
  }
  if (text->len)
    g_string_append (text, ")");
  return g_string_free (text, FALSE);
}

static void
check_held (GvDoctorRun *d, GvHostDevice *gpu, GPtrArray *all_holders)
{
  const char *bdf = gpu->fn->bdf;
  g_auto (GStrv) nodes = gpu_nodes (d, gpu);
  g_autoptr (GPtrArray) host = g_ptr_array_new ();
  g_autoptr (GPtrArray) vms = g_ptr_array_new ();

  for (guint i = 0; i < all_holders->len; i++) {
    GvHostHolder *h = all_holders->pdata[i];
    if (!g_strv_contains ((const char *const *) nodes, h->node))
      continue;
    g_ptr_array_add (g_str_has_prefix (h->node, "/dev/vfio/") ? vms : host, h);
  }
  if (host->len) {
    GString *fix = g_string_new (NULL);
    g_autofree char *who = describe_holders (d, host, fix);
    g_strchomp (fix->str);
    fix->len = strlen (fix->str);
    gv_doctor_add (d, GV_DOCTOR_GPU_HELD, GV_DOCTOR_SEVERITY_WARNING, bdf,
                g_strdup_printf ("%s is in use on the host by %s; bind refuses it until they let go", bdf, who),
                g_string_free (fix, FALSE));
  }
  if (vms->len) {
    g_autofree char *who = describe_holders (d, vms, NULL);
    gv_doctor_add (d, GV_DOCTOR_GPU_HELD, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s is in use by a virtual machine: %s", bdf, who), NULL);
  }
  if (!host->len && !vms->len)
    gv_doctor_add (d, GV_DOCTOR_GPU_HELD, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("No process holds %s's device nodes", bdf), NULL);
}

/* ---- boot-vga ---- */

static void
check_boot_vga (GvDoctorRun *d, GvHostDevice *gpu, guint n_gpus)
{
  const char *bdf = gpu->fn->bdf;

  if (gpu->fn->boot_vga != 1) {
    gv_doctor_add (d, GV_DOCTOR_BOOT_VGA, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s does not show the boot console", bdf), NULL);
    return;
  }
  /* only a lone GPU is worth a warning: that is single-GPU passthrough;
   * beside others (an iGPU, a BMC's VGA) it is what the host keeps */
  if (n_gpus > 1)
    gv_doctor_add (d, GV_DOCTOR_BOOT_VGA, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s shows the boot console (boot_vga): bind needs --force, and the console "
                                 "goes dark; keep it for the host", bdf),
                g_strdup ("To pass it through, make another GPU the primary display in the firmware setup."));
  else
    gv_doctor_add (d, GV_DOCTOR_BOOT_VGA, GV_DOCTOR_SEVERITY_WARNING, bdf,
                g_strdup_printf ("%s is the host's only GPU and shows the boot console: passing it through "
                                 "needs --force and leaves the host without a display", bdf),
                g_strdup ("Add a second GPU (or enable the integrated one) and make it the primary display in the "
                          "firmware setup, or manage the host over the network."));
}

/* ---- vgpu-manager ---- */

static guint
count_vfs_with (GvDoctorRun *d, GvHostDevice *gpu, gboolean typed)
{
  guint n = 0;

  for (guint i = 0; gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (d->host, gpu->fn->vfs[i]);
    if (!vf)
      continue;
    if (!typed && (vf->fn->vendor_vfio || vf->fn->mdev_parent))
      n++;
    else if (typed && vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type != 0)
      n++;
  }
  return n;
}

static void
check_vgpu (GvDoctorRun *d, GvHostDevice *gpu)
{
  const char *bdf = gpu->fn->bdf;
  const char *driver = *gpu->fn->driver ? gpu->fn->driver : "no driver";
  gboolean manager = d->facts->nvidia_vgpu_manager;
  const char *have = manager ? "NVIDIA vGPU manager installed" : "";
  const char *install = "Install NVIDIA's vGPU host driver (the vGPU manager, NVIDIA-Linux-x86_64-*-vgpu-kvm.run "
                        "from the NVIDIA Licensing Portal), if this GPU supports vGPU.";

  if (gpu->framework == GV_HOST_FRAMEWORK_NONE && gpu->fn->vendor_id != 0x10de)
    return;

  if (gpu->framework != GV_HOST_FRAMEWORK_NONE && gpu->framework != GV_HOST_FRAMEWORK_PENDING && !manager) {
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_WARNING, bdf,
                g_strdup_printf ("%s shows vGPU types (%s), but the NVIDIA vGPU manager's module nvidia_vgpu_vfio "
                                 "is not loaded", bdf, gv_host_framework_to_string (gpu->framework)),
                g_strdup ("sudo modprobe nvidia_vgpu_vfio && sudo systemctl restart nvidia-vgpu-mgr"));
    return;
  }
  switch (gpu->framework) {
  case GV_HOST_FRAMEWORK_MDEV_PF:
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s: vGPUs are mdevs on the GPU itself (mdev-pf, %u types); %s", bdf,
                                 gpu->fn->mdev_types ? gpu->fn->mdev_types->len : 0, have),
                NULL);
    return;
  case GV_HOST_FRAMEWORK_MDEV_VF:
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s: vGPUs are mdevs on its VFs (mdev-vf, %u VFs); %s", bdf,
                                 count_vfs_with (d, gpu, FALSE), have),
                NULL);
    return;
  case GV_HOST_FRAMEWORK_VENDOR_VFIO:
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s: vGPUs are VFs with a type (NVIDIA vendor-specific VFIO, vendor-vfio; %u of "
                                 "%u VFs carry one); %s", bdf, count_vfs_with (d, gpu, TRUE),
                                 count_vfs_with (d, gpu, FALSE), have),
                NULL);
    return;
  case GV_HOST_FRAMEWORK_PENDING:
    if (manager)
      gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_OK, bdf,
                  g_strdup_printf ("%s: %s; its vGPU framework (mdevs on VFs or vendor-specific VFIO) shows once "
                                   "its VFs are enabled (see sriov-unused)", bdf, have),
                  NULL);
    else
      gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_INFO, bdf,
                  g_strdup_printf ("%s: no vGPU, the NVIDIA vGPU manager is not installed (passthrough does not "
                                   "need it)", bdf),
                  g_strdup (install));
    return;
  case GV_HOST_FRAMEWORK_NONE:
    break;
  }
  if (gv_host_driver_is_vfio (gpu->fn->driver))
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s is on %s: passed through whole, no vGPU", bdf, driver), NULL);
  else if (manager)
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s (on %s) shows no vGPU types although the NVIDIA vGPU manager is installed: "
                                 "this GPU may not support vGPU", bdf, driver),
                NULL);
  else
    gv_doctor_add (d, GV_DOCTOR_VGPU_MANAGER, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s (on %s): no vGPU, the NVIDIA vGPU manager is not installed (passthrough "
                                 "does not need it)", bdf, driver),
                g_strdup (install));
}

/* ---- sriov-unused ---- */

static void
check_sriov (GvDoctorRun *d, GvHostDevice *gpu)
{
  const char *bdf = gpu->fn->bdf;
  guint total = gpu->fn->sriov_totalvfs;
  guint enabled = g_strv_length (gpu->fn->vfs);

  if (!gpu->fn->sriov_capable || total == 0)
    return;
  if (gpu->framework == GV_HOST_FRAMEWORK_MDEV_PF) {
    gv_doctor_add (d, GV_DOCTOR_SRIOV_UNUSED, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s advertises %u SR-IOV VFs, but its vGPUs are mdevs on the GPU itself "
                                 "(mdev-pf): VFs are not needed for them", bdf, total),
                NULL);
    return;
  }
  if (enabled > 0) {
    gv_doctor_add (d, GV_DOCTOR_SRIOV_UNUSED, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s has %u of %u SR-IOV VFs enabled", bdf, enabled, total), NULL);
    return;
  }
  if (gv_host_driver_is_vfio (gpu->fn->driver)) {
    gv_doctor_add (d, GV_DOCTOR_SRIOV_UNUSED, GV_DOCTOR_SEVERITY_OK, bdf,
                g_strdup_printf ("%s is passed through whole (%s); its %u SR-IOV VFs are not used", bdf,
                                 gpu->fn->driver, total),
                NULL);
    return;
  }
  if (gpu->framework == GV_HOST_FRAMEWORK_PENDING)
    gv_doctor_add (d, GV_DOCTOR_SRIOV_UNUSED, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s has none of its %u SR-IOV VFs enabled, and its vGPUs live on VFs (pending)",
                                 bdf, total),
                g_strdup_printf ("gpuvirtctl sriov %s %u\n"
                                 "Or let the first vGPU enable them: gpuvirtctl vgpu create %s TYPE",
                                 bdf, total, bdf));
  else
    gv_doctor_add (d, GV_DOCTOR_SRIOV_UNUSED, GV_DOCTOR_SEVERITY_INFO, bdf,
                g_strdup_printf ("%s advertises %u SR-IOV VFs, none enabled", bdf, total),
                g_strdup_printf ("To use them: gpuvirtctl sriov %s N (N up to %u)", bdf, total));
}

/* ---- all devices ---- */

gboolean
gv_doctor_check_devices (GvDoctorRun *d, GError **error)
{
  GPtrArray *devices = gv_host_get_devices (d->host);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr (GPtrArray) holders = NULL;
  GHashTableIter iter;
  gpointer key;
  guint n_gpus = 0;

  /* one pass over ROOT/proc for every GPU's nodes */
  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *dev = devices->pdata[i];
    g_auto (GStrv) mine = NULL;
    if (dev->role != GV_HOST_ROLE_GPU)
      continue;
    n_gpus++;
    mine = gpu_nodes (d, dev);
    for (guint j = 0; mine[j]; j++)
      g_hash_table_add (seen, g_strdup (mine[j]));
  }
  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (nodes, key);
  g_ptr_array_add (nodes, NULL);
  holders = gv_host_holders_scan (d->root, (const char *const *) nodes->pdata, NULL, error);
  if (!holders)
    return FALSE;

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *dev = devices->pdata[i];
    if (dev->role == GV_HOST_ROLE_EXTRA) {
      check_group (d, dev);
      continue;
    }
    if (dev->role != GV_HOST_ROLE_GPU)
      continue;
    check_group (d, dev);
    check_held (d, dev, holders);
    check_boot_vga (d, dev, n_gpus);
    check_vgpu (d, dev);
    check_sriov (d, dev);
  }
  return TRUE;
}
