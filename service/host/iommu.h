/* IOMMU facts the host model does not keep: its kind and whether it
 * remaps interrupts. Read-only. */
#pragma once

#include <glib.h>

#include "host/facts.h"

/* "intel" (dmar*), "amd" (ivhd*), "other" (groups without a known unit) or "none". */
const char *gv_host_iommu_kind (const GvHostFacts *facts);
/* Intel: ecap bit 3 (IR) of the first dmar unit; AMD: the features
 * register says nothing simple, so an AMD IOMMU counts as remapping when
 * the kernel command line does not turn it off. FALSE without an IOMMU. */
gboolean gv_host_iommu_interrupt_remapping (const char *root);
