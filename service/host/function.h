/* One PCI function as sysfs shows it under a root prefix ("/" on a real
 * host, a simulator mount in tests). A GvHostFunction is a snapshot: it is
 * never changed after gv_host_function_read(); re-reading makes a new one.
 * It is reference counted so that callers can keep an old snapshot to
 * compare with a new one. */
#pragma once

#include <glib.h>

#include "common/gv-error.h"
#include "host/bdf.h"
#include "host/names.h"
#include "sysfs/read.h"
#include "host/vgpu-files.h"

G_BEGIN_DECLS

typedef struct {
  char *bdf;                  /* "0000:01:00.0" */
  GvHostBdf address;
  guint16 vendor_id;
  guint16 device_id;
  guint16 subsystem_vendor_id;
  guint16 subsystem_device_id;
  guint32 class_code;         /* 0x030000 */
  guint8 revision;
  char *vendor_name;          /* from the hwdb; "" when it has none */
  char *model_name;           /* from the hwdb; "" when it has none */
  char *driver;               /* basename of the driver link; "" when unbound */
  char *driver_override;      /* NULL for "(null)" or when missing */
  char *upstream_bridge;      /* BDF of the bridge above it; NULL on a root bus */
  int iommu_group;            /* -1 without an IOMMU group (members and the
                               * /dev/vfio node are group facts: see GvHostDevice) */
  char *vfio_cdev_node;       /* "/dev/vfio/devices/vfioN" from vfio-dev/vfioN, else NULL */
  gboolean vfio_group_seen;   /* ROOT/dev/vfio/<iommu_group> existed when the driver part was read
                               * (the group's node: see GvHostDevice.vfio_group_node) */
  int boot_vga;               /* 0 or 1; -1 where there is no boot_vga file */
  int numa_node;              /* -1 when unknown */
  gboolean sriov_capable;     /* has sriov_totalvfs */
  guint sriov_totalvfs;
  guint sriov_numvfs;
  GStrv vfs;                  /* virtfn0, virtfn1, ... in numeric order */
  char *physfn;               /* the PF of a VF, else NULL */
  GStrv consumers;            /* BDFs of its consumer:pci:<BDF> links, sorted */
  GStrv drm_nodes;            /* "/dev/dri/card1", "/dev/dri/renderD129" from drm/ */
  int nvidia_minor;           /* "Device Minor:" of proc/driver/nvidia/gpus/<BDF>/information, else -1 */
  gboolean mdev_parent;       /* under sys/class/mdev_bus or has mdev_supported_types */
  GPtrArray *mdev_types;      /* GvHostMdevType when an mdev parent with types, else NULL */
  GvHostVendorVfio *vendor_vfio;  /* its nvidia/ directory (vendor-VFIO VF), else NULL */
} GvHostFunction;

/* Reads ROOT/sys/bus/pci/devices/BDF. NAMES may be NULL (names stay "").
 * Fails only when BDF is malformed or the function does not exist; any
 * missing or odd attribute leaves its field at the "unknown" value. */
GvHostFunction *gv_host_function_read (const char *root, const char *bdf,
                                     GvHostNames *names, GError **error);

/* Listings a scan of many functions reads once instead of per function
 * (ROOT/sys/class/mdev_bus, ROOT/proc/driver/nvidia/gpus). */
typedef struct _GvPciReadCache GvHostReadCache;

GvHostReadCache *gv_host_read_cache_new (const char *root);
void gv_host_read_cache_free (GvHostReadCache *cache);
/* gv_host_function_read() with CACHE (may be NULL). */
GvHostFunction *gv_host_function_read_cached (const char *root, const char *bdf, GvHostNames *names,
                                            GvHostReadCache *cache, GError **error);

/* What of a function can change while it exists. The rest (ids, class,
 * names, upstream bridge, IOMMU group, boot_vga, NUMA node, physfn,
 * sriov_totalvfs) is fixed for its life. */
typedef enum {
  GV_HOST_PART_DRIVER = 1 << 0, /* driver, driver_override, vfio-dev node, consumers, DRM nodes, nvidia minor */
  GV_HOST_PART_SRIOV = 1 << 1,  /* sriov_numvfs and the virtfn links */
  GV_HOST_PART_VGPU = 1 << 2,   /* mdev types (with available instances and devices), nvidia/ (types) */
  GV_HOST_PART_ALL = (1 << 3) - 1,
} GvHostParts;

/* A new snapshot of OLD's function with PARTS read again below ROOT and
 * everything else taken from OLD: what an operation can have changed,
 * without a whole read. NULL (NO_SUCH_DEVICE) when the function is gone.
 * CACHE may be NULL. */
GvHostFunction *gv_host_function_reread (const char *root, const GvHostFunction *old, GvHostParts parts,
                                       GvHostReadCache *cache, GError **error);

/* Read afresh (no model): the VFs of PF from its virtfnN links, in index
 * order (never NULL); the PF of a VF (its physfn link) or NULL; PF's
 * sriov_numvfs (FALSE when it cannot be read). For the engines, which
 * must see sysfs as it is just before they write. */
GStrv gv_host_read_vfs (const char *root, const char *pf);
char *gv_host_read_physfn (const char *root, const char *bdf);
gboolean gv_host_read_numvfs (const char *root, const char *pf, guint *count);

GvHostFunction *gv_host_function_ref (GvHostFunction *fn);
void gv_host_function_unref (GvHostFunction *fn);

/* Every field equal (names, vGPU types and all). */
gboolean gv_host_function_equal (const GvHostFunction *a, const GvHostFunction *b);

/* Display controller, class 03xxxx. */
gboolean gv_host_function_is_gpu (const GvHostFunction *fn);
/* PCI-to-PCI bridge, class 0604xx. */
gboolean gv_host_function_is_bridge (const GvHostFunction *fn);
/* An SR-IOV virtual function (has physfn). */
gboolean gv_host_function_is_vf (const GvHostFunction *fn);
/* Bound to a VFIO driver: vfio-pci or a variant driver (…vfio-pci / …_vfio_pci). */
gboolean gv_host_driver_is_vfio (const char *driver);
/* The Device.State the function is in as far as sysfs tells:
 * GPUVIRT_STATE_UNBOUND, GPUVIRT_STATE_VFIO or GPUVIRT_STATE_HOST. */
const char *gv_host_function_state (const GvHostFunction *fn);
/* "/dev/nvidiaN" when the nvidia driver gave it a minor, else NULL (to be freed). */
char *gv_host_function_nvidia_node (const GvHostFunction *fn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostFunction, gv_host_function_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostReadCache, gv_host_read_cache_free)

G_END_DECLS
