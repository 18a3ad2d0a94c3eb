/* Host-wide facts for the Manager and the doctor: is there an IOMMU, what
 * the kernel was booted with, which VFIO and vGPU modules are there. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GStrv iommu_units;           /* entries of ROOT/sys/class/iommu ("dmar0", "ivhd0"), sorted */
  gboolean iommu_groups;       /* ROOT/sys/kernel/iommu_groups is not empty */
  gboolean iommu_present;      /* both: IOMMU units and groups */
  char *kernel_cmdline;        /* ROOT/proc/cmdline; "" when unreadable */
  char *kernel_release;        /* ROOT/proc/sys/kernel/osrelease; "" when unreadable */
  gboolean vfio_pci_loaded;    /* ROOT/sys/bus/pci/drivers/vfio-pci exists */
  gboolean nvidia_vgpu_manager;/* ROOT/sys/module/nvidia_vgpu_vfio exists */
} GvHostFacts;

GvHostFacts *gv_host_facts_read (const char *root);
void gv_host_facts_free (GvHostFacts *facts);
gboolean gv_host_facts_equal (const GvHostFacts *a, const GvHostFacts *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostFacts, gv_host_facts_free)

G_END_DECLS
