/* What each file of the simulated tree reads, and where a write goes.
 * Formats follow the kernel's show() functions (drivers/pci/pci-sysfs.c,
 * iov.c, drivers/vfio/mdev/mdev_sysfs.c). */
#include "sim-tree.h"
#include "sim-attr.h"
#include "sim-internal.h"
#include "sim-errno.h"

#include <errno.h>
#include <string.h>

static char *
modalias (const SimDevice *dev)
{
  return g_strdup_printf ("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", dev->vendor, dev->device,
                          dev->subvendor, dev->subdevice, (dev->class_ >> 16) & 0xff,
                          (dev->class_ >> 8) & 0xff, dev->class_ & 0xff);
}

static char *
read_uevent (const SimDevice *dev)
{
  GString *s = g_string_new (NULL);
  g_autofree char *alias = modalias (dev);

  if (dev->driver)
    g_string_append_printf (s, "DRIVER=%s\n", dev->driver->name);
  g_string_append_printf (s, "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n",
                          dev->class_, dev->vendor, dev->device, dev->subvendor, dev->subdevice, dev->bdf, alias);
  return g_string_free (s, FALSE);
}

static char *
read_creatable (SimHost *host, SimDevice *vf)
{
  g_autoptr (GPtrArray) types = sim_vendor_creatable (host, vf);
  SimDevice *gpu = sim_device_gpu (vf);
  GString *s = g_string_new (NULL);

  if (gpu->vgpu->header)
    g_string_append (s, gpu->vgpu->name_first ? "vGPU Name    ID\n" : "ID    : vGPU Name\n");
  for (guint i = 0; i < types->len; i++) {
    SimVgpuType *t = types->pdata[i];
    if (gpu->vgpu->name_first)
      g_string_append_printf (s, "%s  %u\n", t->name, t->numeric_id);
    else
      g_string_append_printf (s, "%-5u : %s\n", t->numeric_id, t->name);
  }
  return g_string_free (s, FALSE);
}

static char *
read_nvidia_information (SimDevice *dev)
{
  return g_strdup_printf ("Model: \t\t %s\nIRQ:   \t\t 0\nGPU UUID: \t GPU-%08x-0000-0000-0000-%012x\n"
                          "Video BIOS: \t 00.00.00.00.00\nBus Type: \t PCIe\nDMA Size: \t 47 bits\n"
                          "DMA Mask: \t 0x7fffffffffff\nBus Location: \t %s\nDevice Minor: \t %d\n"
                          "GPU Excluded:\t No\n",
                          dev->nvidia_model ? dev->nvidia_model : "NVIDIA Device",
                          (guint) (dev->vendor << 16 | dev->device), (guint) (dev->bus << 8 | dev->slot << 3 | dev->func),
                          dev->bdf, dev->nvidia_minor);
}

static char *
join_cmdline (SimProcess *proc, gsize *len)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; proc->cmdline && proc->cmdline[i]; i++)
    g_string_append_len (s, proc->cmdline[i], (gssize) strlen (proc->cmdline[i]) + 1);
  *len = s->len;
  return g_string_free (s, FALSE);
}

static char *
read_devlink_status (SimDevice *supplier, SimDevice *consumer)
{
  /* "active" while both ends are bound, as device_links_driver_bound() makes it */
  if (supplier->driver && consumer && consumer->driver)
    return g_strdup ("active\n");
  if (supplier->driver)
    return g_strdup ("available\n");
  return g_strdup ("dormant\n");
}

GBytes *
sim_tree_read (SimHost *host, const SimNode *node)
{
  SimDevice *dev = node->obj;
  SimVgpuType *type = node->obj2;
  char *s = NULL;
  gsize len = 0;

  switch ((SimAttr) node->type) {
  case A_CONFIG:
    return sim_config_space (host, dev);
  case A_VENDOR: s = g_strdup_printf ("0x%04x\n", dev->vendor); break;
  case A_DEVICE: s = g_strdup_printf ("0x%04x\n", dev->device); break;
  case A_SUBVENDOR: s = g_strdup_printf ("0x%04x\n", dev->subvendor); break;
  case A_SUBDEVICE: s = g_strdup_printf ("0x%04x\n", dev->subdevice); break;
  case A_CLASS: s = g_strdup_printf ("0x%06x\n", dev->class_); break;
  case A_REVISION: s = g_strdup_printf ("0x%02x\n", dev->revision); break;
  case A_DRIVER_OVERRIDE:
    s = g_strdup_printf ("%s\n", dev->driver_override ? dev->driver_override : "(null)");
    break;
  case A_BOOT_VGA: s = g_strdup_printf ("%d\n", dev->boot_vga ? 1 : 0); break;
  case A_NUMA: s = g_strdup_printf ("%d\n", dev->numa_node); break;
  case A_ENABLE: s = g_strdup_printf ("%d\n", dev->driver ? 1 : 0); break;
  case A_IRQ: s = g_strdup ("0\n"); break;
  case A_MODALIAS: {
    g_autofree char *alias = modalias (dev);
    s = g_strdup_printf ("%s\n", alias);
    break;
  }
  case A_UEVENT: s = dev ? read_uevent (dev) : g_strdup (""); break;
  case A_RESOURCE: {
    GString *r = g_string_new (NULL);
    for (int i = 0; i < 13; i++)
      g_string_append (r, "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    s = g_string_free (r, FALSE);
    break;
  }
  case A_LOCAL_CPULIST: s = g_strdup ("0-1\n"); break;
  case A_LOCAL_CPUS: s = g_strdup ("3\n"); break;
  case A_DMA_MASK_BITS: s = g_strdup ("64\n"); break;
  case A_D3COLD: s = g_strdup ("1\n"); break;
  case A_MSI_BUS: s = g_strdup ("1\n"); break;
  case A_SRIOV_TOTAL: s = g_strdup_printf ("%u\n", dev->totalvfs); break;
  case A_SRIOV_NUM:
    /* sriov_numvfs_show() takes the device lock (since 5.11, "Serialize
     * vs sriov_numvfs_store()"): a read waits for a write under way, and
     * then sees the count it left */
    while (dev->locked && !dev->removed && sim_host_wait (host))
      ;
    s = g_strdup_printf ("%u\n", dev->vfs->len);
    break;
  case A_SRIOV_OFFSET: s = g_strdup_printf ("%u\n", dev->vf_offset); break;
  case A_SRIOV_STRIDE: s = g_strdup_printf ("%u\n", dev->vf_stride); break;
  case A_SRIOV_VFDEV: s = g_strdup_printf ("%x\n", dev->vf_device); break;
  case A_SRIOV_AUTOPROBE: s = g_strdup_printf ("%u\n", dev->vf_autoprobe ? 1 : 0); break;
  case A_DRIVERS_AUTOPROBE: s = g_strdup_printf ("%d\n", host->drivers_autoprobe ? 1 : 0); break;
  case A_MT_NAME: s = g_strdup_printf ("%s\n", type->name); break;
  case A_MT_DESCRIPTION: s = g_strdup_printf ("%s\n", type->description); break;
  case A_MT_DEVICE_API: s = g_strdup_printf ("%s\n", type->device_api); break;
  case A_MT_AVAILABLE: s = g_strdup_printf ("%u\n", sim_mdev_available (host, dev, type)); break;
  case A_CREATABLE: s = read_creatable (host, dev); break;
  case A_CURRENT_TYPE: s = g_strdup_printf ("%u\n", dev->current_vgpu_type); break;
  case A_VFIO_DEVNUM: s = g_strdup_printf ("%d:%d\n", 511, node->num); break;
  case A_DEVLINK_STATUS: s = read_devlink_status (dev, node->obj2); break;
  case A_DEVLINK_AUTOREMOVE: s = g_strdup ("consumer unbind\n"); break;
  case A_GROUP_TYPE: s = g_strdup_printf ("%s\n", host->iommu_group_type); break;
  case A_GROUP_RESV: s = g_strdup ("0x00000000fee00000 0x00000000feefffff msi\n"); break;
  case A_IOMMU_CAP: s = g_strdup ("d2008c40660462\n"); break;
  /* ecap bit 3 is interrupt remapping (Intel VT-d spec) */
  case A_IOMMU_ECAP: s = g_strdup (host->interrupt_remapping ? "f050da\n" : "f050d2\n"); break;
  case A_IOMMU_VERSION: s = g_strdup ("1:0\n"); break;
  case A_MODULE_INITSTATE: s = g_strdup ("live\n"); break;
  case A_DEVNODE: s = g_strdup (""); break;
  case A_CMDLINE: s = g_strdup_printf ("%s\n", host->cmdline); break;
  case A_OSRELEASE: s = g_strdup_printf ("%s\n", host->kernel_release); break;
  case A_NV_VERSION: s = g_strdup ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  (simulated)\n"); break;
  case A_NV_INFORMATION: s = read_nvidia_information (dev); break;
  case A_PROC_COMM: s = g_strdup_printf ("%s\n", ((SimProcess *) node->obj)->comm); break;
  case A_PROC_CMDLINE:
    s = join_cmdline (node->obj, &len);
    return g_bytes_new_take (s, len);
  case A_SIM_LOG: s = g_strdup (host->log->str); break;
  case A_SIM_FAULTS: s = sim_fault_list (host); break;
  case A_SIM_KERNEL: s = sim_kernel_list (host); break;
  case A_SIM_HOLDERS: {
    GString *h = g_string_new (NULL);
    for (guint i = 0; i < host->processes->len; i++) {
      SimProcess *proc = host->processes->pdata[i];
      g_string_append_printf (h, "%u %s%s", proc->pid, proc->comm, proc->real ? " (real)" : "");
      for (guint j = 0; j < proc->files->len; j++)
        g_string_append_printf (h, " %s", (char *) proc->files->pdata[j]);
      g_string_append_c (h, '\n');
    }
    s = g_string_free (h, FALSE);
    break;
  }
  case A_SIM_SCENARIO: s = g_strdup_printf ("%s\n", host->name ? host->name : ""); break;
  default:
    s = g_strdup ("");
    break;
  }
  return g_bytes_new_take (s, strlen (s));
}

/* kobject_action_type(): the actions a uevent file accepts. */
static int
write_uevent (const char *buf)
{
  static const char *actions[] = { "add", "remove", "change", "move", "online", "offline", "bind", "unbind" };
  g_autofree char *word = g_strdup (buf);

  g_strchomp (word);
  for (char *sp = word; *sp; sp++)
    if (*sp == ' ') {
      *sp = '\0';
      break;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_str_equal (word, actions[i]))
      return 0;
  return -EINVAL;
}

static int
write_bool01 (const char *buf)
{
  return (buf[0] == '0' || buf[0] == '1') && (buf[1] == '\0' || (buf[1] == '\n' && buf[2] == '\0')) ? 0 : -EINVAL;
}

static int
dispatch (SimHost *host, const SimNode *node, const char *buf, gsize len)
{
  SimDevice *dev = node->obj;

  switch ((SimAttr) node->type) {
  case A_DRIVER_OVERRIDE: return sim_rule_driver_override (host, dev, buf, len);
  case A_BIND: return sim_rule_bind (host, node->obj, buf);
  case A_UNBIND: return sim_rule_unbind (host, node->obj, buf);
  case A_NEW_ID: return sim_rule_new_id (host, node->obj, buf);
  case A_REMOVE_ID: return sim_rule_remove_id (host, node->obj, buf);
  case A_DRIVERS_PROBE: return sim_rule_drivers_probe (host, buf);
  case A_DRIVERS_AUTOPROBE: return sim_rule_bus_autoprobe (host, buf);
  case A_SRIOV_NUM: return sim_rule_sriov_numvfs (host, dev, buf);
  case A_SRIOV_AUTOPROBE: return sim_rule_sriov_autoprobe (host, dev, buf);
  case A_RESET: return sim_rule_reset (host, dev, buf);
  case A_MT_CREATE: return sim_rule_mdev_create (host, dev, node->obj2, buf, len);
  case A_MDEV_REMOVE: return sim_rule_mdev_remove (host, node->obj, buf);
  case A_CURRENT_TYPE: return sim_rule_vgpu_type (host, dev, buf);
  case A_UEVENT: return write_uevent (buf);
  case A_ENABLE: case A_D3COLD: case A_MSI_BUS: return write_bool01 (buf);
  case A_NUMA: return -EPERM;   /* numa_node_store() needs CAP_SYS_ADMIN and taints; refuse */
  case A_CONFIG: return -EPERM; /* config writes are not simulated */
  case A_GROUP_TYPE: return -EINVAL;
  case A_SIM_LOG:
    g_string_truncate (host->log, 0);
    return 0;
  case A_SIM_FAULTS: return sim_fault_command (host, buf);
  case A_SIM_HOLDERS: return sim_holders_command (host, buf);
  case A_SIM_KERNEL: return sim_kernel_command (host, buf);
  default:
    return -EACCES;
  }
}

int
sim_tree_write (SimHost *host, const char *path, const SimNode *node, const char *buf, gsize len)
{
  int r;

  /* kernfs hands store() at most a page */
  if (len > 4096)
    return -E2BIG;
  if (sim_node_is_control (node))
    return dispatch (host, node, buf, len);
  r = sim_fault_apply (host, path, buf);
  if (r == 0)
    r = dispatch (host, node, buf, len);
  sim_log_write (host, path, buf, len, r);
  host->generation++;   /* any write may change what exists */
  return r;
}
