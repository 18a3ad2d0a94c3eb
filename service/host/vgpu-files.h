/* vGPU facts of a host: which framework a GPU uses, the mdev types of an
 * mdev parent, the vendor-specific VFIO types of a VF (NVIDIA's
 * nvidia/creatable_vgpu_types and current_vgpu_type) and the existing
 * mediated devices. Pure readers and parsers; no writes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  GV_HOST_FRAMEWORK_NONE,        /* no vGPU on this GPU */
  GV_HOST_FRAMEWORK_PENDING,     /* SR-IOV GPU on nvidia whose VFs are not enabled yet */
  GV_HOST_FRAMEWORK_MDEV_PF,     /* mdev parent is the GPU itself (T4, older) */
  GV_HOST_FRAMEWORK_MDEV_VF,     /* mdev parents are its VFs (A40, A100) */
  GV_HOST_FRAMEWORK_VENDOR_VFIO, /* VFs with nvidia/current_vgpu_type (Ada, Hopper+) */
} GvHostFramework;

/* "none", "pending", "mdev-pf", "mdev-vf", "vendor-vfio" */
const char *gv_host_framework_to_string (GvHostFramework framework);

/* The facts a framework is decided from, gathered by the caller. */
typedef struct {
  gboolean pf_is_mdev_parent;   /* under sys/class/mdev_bus or has mdev_supported_types */
  const char *pf_driver;        /* "" when unbound */
  guint sriov_totalvfs;         /* 0 without SR-IOV */
  guint n_vfs;                  /* VFs that exist now */
  gboolean any_vf_mdev_parent;
  gboolean any_vf_vendor_vfio;  /* a VF has an nvidia/ directory */
} GvHostFrameworkEvidence;

/* Never from sriov_totalvfs alone: a T4 advertises 16 VFs but uses mdev on
 * the PF, and an SR-IOV GPU only shows its framework once VFs exist. */
GvHostFramework gv_host_framework_detect (const GvHostFrameworkEvidence *evidence);

/* What a type name says: "NVIDIA L40S-24Q" is short name "L40S-24Q",
 * 24576 MB, series 'Q'; "GRID A100-4-20C" is "A100-4-20C", 20480 MB, 'C'. */
typedef struct {
  char *short_name;     /* the last word of the name */
  guint framebuffer_mb; /* 0 when the name does not say */
  char series;          /* the suffix letter ('A', 'B', 'C', 'Q', ...), or '\0' */
} GvHostTypeName;

/* FALSE (OUT cleared, short_name still set when there is a word) when the
 * suffix is not "<number><letter>". */
gboolean gv_host_type_name_parse (const char *name, GvHostTypeName *out);
void gv_host_type_name_clear (GvHostTypeName *name);

/* One entry of mdev_supported_types/. */
typedef struct {
  char *id;               /* directory name, e.g. "nvidia-555" (do not rely on a prefix) */
  char *name;             /* "NVIDIA A40-1B"; "" when missing */
  char *description;      /* the raw text; "" when missing */
  GStrv field_keys;       /* the description's key=value fields, in order */
  GStrv field_values;     /*   ("framebuffer", "1024M"), ("max_instance", "32"), ... */
  guint framebuffer_mb;   /* framebuffer= field, else what the name says, else 0 */
  int max_instance;       /* max_instance= field, -1 when not given */
  int available_instances;/* -1 when unreadable */
  char *device_api;       /* "vfio-pci"; "" when missing */
  GStrv devices;          /* UUIDs of its existing mdevs, sorted */
  GvHostTypeName parsed;  /* what the name says */
} GvHostMdevType;

void gv_host_mdev_type_free (GvHostMdevType *type);
/* The value of a description field, or NULL. */
const char *gv_host_mdev_type_get_field (const GvHostMdevType *type, const char *key);
/* Splits "a=1, b=2M" into keys and values (both set, possibly empty). */
void gv_host_mdev_description_parse (const char *description, GStrv *keys, GStrv *values);
/* "1024M" → 1024, "48G" → 49152, "512K" → 0 (rounded down); FALSE when garbled. */
gboolean gv_host_parse_size_mb (const char *text, guint *mb);
/* DEVICE_DIR/mdev_supported_types/ as GvHostMdevType, sorted by id; NULL when
 * there is no such directory. */
GPtrArray *gv_host_mdev_types_read (const char *device_dir);

/* One line of creatable_vgpu_types. */
typedef struct {
  guint id;     /* the decimal id written to current_vgpu_type */
  char *name;   /* "NVIDIA L40S-24Q" */
  GvHostTypeName parsed;
} GvHostVendorType;

void gv_host_vendor_type_free (GvHostVendorType *type);

/* Parses creatable_vgpu_types. Both line forms are accepted, as public
 * sources disagree: id-first "1155  : NVIDIA L40S-24Q" (kubevirt device
 * plugin README, Proxmox) and name-first "NVIDIA L40S-24Q  1155" (a
 * dra-driver comment), each with or without a header line ("ID : vGPU
 * Name", "vGPU Name  ID"). Lines that fit neither are skipped. */
GPtrArray *gv_host_vendor_types_parse (const char *text);

/* The nvidia/ directory of a vendor-VFIO VF. */
typedef struct {
  GPtrArray *creatable;   /* GvHostVendorType, in file order; shrinks as vGPUs are made */
  guint current_type;     /* current_vgpu_type; 0 means the VF is free */
  gboolean current_known; /* FALSE when current_vgpu_type could not be read */
} GvHostVendorVfio;

/* Reference counted: snapshots of a function share what did not change;
 * _free() drops one reference. */
void gv_host_vendor_vfio_free (GvHostVendorVfio *vendor);
GvHostVendorVfio *gv_host_vendor_vfio_ref (GvHostVendorVfio *vendor);
/* NULL when DEVICE_DIR has no nvidia/ directory (or neither of its files). */
GvHostVendorVfio *gv_host_vendor_vfio_read (const char *device_dir);

/* An existing mediated device, from ROOT/sys/bus/mdev/devices/<uuid>. */
typedef struct {
  char *uuid;
  char *type_id;          /* basename of mdev_type; "" when unknown */
  char *parent;           /* the parent function's BDF; "" when unknown */
  int iommu_group;        /* -1 without one */
  char *vfio_group_node;  /* "/dev/vfio/<group>" when ROOT/dev/vfio/<group> exists, else NULL */
  char *vfio_cdev_node;   /* "/dev/vfio/devices/vfioN" from vfio-dev/, else NULL */
} GvHostMdev;

void gv_host_mdev_free (GvHostMdev *mdev);
/* Every mdev of ROOT, sorted by UUID; empty without an mdev bus. */
GPtrArray *gv_host_mdevs_read (const char *root);

/* "/dev/vfio/devices/vfioN" for the vfio-dev/vfioN entry of DIR when
 * ROOT/dev/vfio/devices/vfioN exists, or NULL. */
char *gv_host_read_vfio_cdev (const char *root, const char *dir);
/* "/dev/vfio/<group>" when ROOT/dev/vfio/<group> exists, or NULL. */
char *gv_host_vfio_group_node (const char *root, int group);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostMdevType, gv_host_mdev_type_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostVendorType, gv_host_vendor_type_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostVendorVfio, gv_host_vendor_vfio_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostMdev, gv_host_mdev_free)

G_END_DECLS
