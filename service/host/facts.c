#include "host/facts.h"
#include "sysfs/read.h"

GvHostFacts *
gv_host_facts_read (const char *root)
{
  GvHostFacts *facts = g_new0 (GvHostFacts, 1);
  g_autofree char *iommu = g_build_filename (root, "sys", "class", "iommu", NULL);
  g_autofree char *groups = g_build_filename (root, "sys", "kernel", "iommu_groups", NULL);
  g_autofree char *proc = g_build_filename (root, "proc", NULL);
  g_autofree char *proc_kernel = g_build_filename (root, "proc", "sys", "kernel", NULL);
  g_autofree char *drivers = g_build_filename (root, "sys", "bus", "pci", "drivers", NULL);
  g_autofree char *modules = g_build_filename (root, "sys", "module", NULL);
  GPtrArray *units = gv_sysfs_list_dir (iommu);

  g_ptr_array_set_free_func (units, NULL);
  g_ptr_array_add (units, NULL);
  facts->iommu_units = (GStrv) g_ptr_array_free (units, FALSE);
  facts->iommu_groups = gv_sysfs_dir_has_entries (groups);
  facts->iommu_present = facts->iommu_units[0] != NULL && facts->iommu_groups;
  facts->kernel_cmdline = gv_sysfs_read_attr (proc, "cmdline");
  if (!facts->kernel_cmdline)
    facts->kernel_cmdline = g_strdup ("");
  facts->kernel_release = gv_sysfs_read_attr (proc_kernel, "osrelease");
  if (!facts->kernel_release)
    facts->kernel_release = g_strdup ("");
  facts->vfio_pci_loaded = gv_sysfs_dir_exists (drivers, "vfio-pci");
  facts->nvidia_vgpu_manager = gv_sysfs_path_exists (modules, "nvidia_vgpu_vfio");
  return facts;
}

void
gv_host_facts_free (GvHostFacts *facts)
{
  if (!facts)
    return;
  g_strfreev (facts->iommu_units);
  g_free (facts->kernel_cmdline);
  g_free (facts->kernel_release);
  g_free (facts);
}

gboolean
gv_host_facts_equal (const GvHostFacts *a, const GvHostFacts *b)
{
  if (!a || !b)
    return a == b;
  return g_strv_equal ((const char *const *) a->iommu_units, (const char *const *) b->iommu_units) &&
         a->iommu_groups == b->iommu_groups && a->iommu_present == b->iommu_present &&
         g_str_equal (a->kernel_cmdline, b->kernel_cmdline) &&
         g_str_equal (a->kernel_release, b->kernel_release) &&
         a->vfio_pci_loaded == b->vfio_pci_loaded && a->nvidia_vgpu_manager == b->nvidia_vgpu_manager;
}
