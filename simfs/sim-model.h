/* The simulated host: PCI functions, drivers, IOMMU groups, VFIO nodes,
 * mdevs and vGPU types, and the kernel rules that change them.
 *
 * Nothing here knows about FUSE. Every rule is called with host->lock held
 * and returns 0 or -errno exactly as the kernel's store() would; rules that
 * block in the kernel (an unbind waiting for a device to be released) wait
 * on host->cond with the lock released. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define SIM_ANY_ID 0xffffffffu

typedef struct SimHost SimHost;
typedef struct SimDevice SimDevice;
typedef struct SimDriver SimDriver;

typedef struct {
  guint32 vendor, device, subvendor, subdevice;
  guint32 class_, class_mask;
} SimPciId;

struct SimDriver {
  char *name;
  char *module;    /* NULL: built into the kernel */
  GArray *ids;     /* SimPciId: the static id_table */
  GArray *dynids;  /* SimPciId: added through new_id */
  gboolean vfio;   /* behaves as vfio-pci */
  gboolean sriov_configure;
  guint unbind_delay_ms;
  guint probe_delay_ms;
};

typedef enum {
  SIM_VGPU_NONE,
  SIM_VGPU_MDEV_PF,
  SIM_VGPU_MDEV_VF,
  SIM_VGPU_VENDOR_VFIO,
} SimVgpuFramework;

typedef struct {
  char *id;           /* mdev type directory, or decimal vendor-VFIO id */
  guint numeric_id;   /* vendor-VFIO id */
  char *name;
  char *description;
  char *device_api;
  guint framebuffer_mb;
  guint max_instance;
} SimVgpuType;

typedef struct {
  SimVgpuFramework framework;
  GPtrArray *types;   /* SimVgpuType */
  guint framebuffer_mb;
  gboolean heterogeneous;
  gboolean name_first;
  gboolean header;
  guint release_delay_ms;
} SimVgpu;

typedef struct {
  char uuid[37];
  SimDevice *parent;
  SimVgpuType *type;
  int iommu_group;
  int vfio_cdev;
  gboolean removed;
} SimMdev;

struct SimDevice {
  char *bdf;
  guint domain, bus, slot, func;
  guint16 vendor, device, subvendor, subdevice;
  guint32 class_;
  guint8 revision;
  gboolean is_bridge;
  guint secondary_bus, subordinate_bus;
  gboolean no_acs;              /* bridge without ACS: functions created below join its group */
  SimDevice *parent;            /* upstream bridge; NULL on a root bus */
  int numa_node;
  gboolean boot_vga;
  int iommu_group;              /* -1: none */
  SimDriver *driver;
  char *driver_override;        /* NULL reads as "(null)" */
  GPtrArray *consumers;         /* char* BDFs: devlink consumers of this supplier */
  GHashTable *probe_fails;      /* driver name -> errno */
  GBytes *config;               /* captured config space, or NULL */
  int nvidia_minor;             /* -1: none */
  char *nvidia_model;
  int drm_card, drm_render;     /* -1: none */
  guint unbind_delay_ms;

  /* SR-IOV, on a physical function */
  gboolean has_sriov;
  guint totalvfs, vf_offset, vf_stride;
  guint16 vf_device;
  guint32 vf_class;
  gboolean vf_autoprobe;
  GHashTable *vf_probe_fails;
  GPtrArray *vfs;               /* SimDevice*, index = virtfn number */
  SimDevice *physfn;            /* on a VF */

  SimVgpu *vgpu;                /* on the PF: the whole GPU's catalog */
  guint current_vgpu_type;      /* vendor-VFIO VF */
  gint64 vgpu_busy_until;       /* monotonic µs: 0-writes answer EBUSY until then */
  int vfio_cdev;                /* vfio-dev/vfio<N>, -1: none */

  gboolean locked;              /* device_lock() held by a write in progress */
  gboolean removed;             /* gone from the bus; kept until exit for waiters */
};

typedef struct {
  guint pid;
  char *comm;
  char **cmdline;
  GPtrArray *files;             /* absolute paths, e.g. "/dev/nvidia0" */
  gboolean real;                /* a real process that opened files in the mount */
} SimProcess;

typedef enum { SIM_IOMMU_NONE, SIM_IOMMU_INTEL, SIM_IOMMU_AMD, SIM_IOMMU_OTHER } SimIommu;

struct SimHost {
  GMutex lock;
  GCond cond;

  char *name;
  char *description;
  char *kernel_release;
  char *cmdline;
  SimIommu iommu;
  gboolean interrupt_remapping;
  char *iommu_group_type;
  gboolean vfio_cdev;
  gboolean nvidia_vgpu_manager;
  guint sriov_enable_delay_ms;
  guint sriov_disable_delay_ms;
  guint sriov_vf_delay_ms;   /* the probe of each new VF (pci_bus_add_device()), one after the other */
  gboolean drivers_autoprobe;

  GPtrArray *drivers;           /* SimDriver*, in registration order */
  GPtrArray *devices;           /* SimDevice*, kept sorted by BDF */
  GPtrArray *mdevs;             /* SimMdev* */
  GPtrArray *processes;         /* SimProcess* */
  GPtrArray *graveyard;         /* removed mdevs, freed at exit */
  GPtrArray *dead_devices;      /* removed devices, freed at exit (writers may wait on them) */
  GHashTable *opens;            /* handle -> SimOpen*: files opened through the mount */
  guint64 next_handle;

  GPtrArray *faults;            /* armed fault rules (sim-fault.c) */
  GString *log;                 /* every write made, for .sim/log */
  guint64 log_seq;
  guint64 release_gen;          /* bumped by "release": wakes hung writes */
  guint64 generation;           /* bumped by every change; invalidates dir_cache */
  guint64 dir_cache_generation;
  GHashTable *dir_cache;        /* path -> SimNode* of directories resolved since the last change */
  gboolean (*stopping) (void);  /* set by main: the filesystem is going away */
};

/* Lifecycle */
SimHost *sim_host_new (void);
void sim_host_free (SimHost *host);
void sim_host_lock (SimHost *host);
void sim_host_unlock (SimHost *host);
void sim_host_changed (SimHost *host);   /* wakes every waiting rule */

SimDevice *sim_device_new (const char *bdf);
void sim_device_free (SimDevice *dev);
gboolean sim_parse_bdf (const char *s, guint *domain, guint *bus, guint *slot, guint *func);
void sim_host_add_device (SimHost *host, SimDevice *dev);
SimDriver *sim_driver_new (const char *name);
void sim_driver_free (SimDriver *drv);
void sim_vgpu_free (SimVgpu *vgpu);
void sim_process_free (SimProcess *proc);

/* Lookups */
SimDevice *sim_host_find_device (SimHost *host, const char *bdf);
SimDevice *sim_host_find_device_by_name (SimHost *host, const char *buf);
SimDriver *sim_host_find_driver (SimHost *host, const char *name);
SimMdev *sim_host_find_mdev (SimHost *host, const char *uuid);
SimProcess *sim_host_find_process (SimHost *host, guint pid);
gboolean sim_iommu_group_exists (SimHost *host, int group);
GPtrArray *sim_iommu_group_ids (SimHost *host);          /* sorted ints */
gboolean sim_device_is_vga (const SimDevice *dev);

/* State derived from the model */
SimDevice *sim_device_gpu (SimDevice *dev);              /* the PF carrying the vGPU catalog */
gboolean sim_device_is_mdev_parent (const SimDevice *dev);
gboolean sim_device_has_vendor_vfio (const SimDevice *dev);
gboolean sim_device_vfio_registered (const SimDevice *dev);
gboolean sim_group_has_vfio_node (SimHost *host, int group);
gboolean sim_path_held (SimHost *host, const char *path);
gboolean sim_vfio_container_exists (SimHost *host);
guint sim_mdev_available (SimHost *host, SimDevice *parent, SimVgpuType *type);
GPtrArray *sim_vendor_creatable (SimHost *host, SimDevice *vf);   /* SimVgpuType* */
SimVgpuType *sim_vgpu_find_type (SimVgpu *vgpu, const char *id);
char *sim_device_sys_path (const SimDevice *dev);         /* "devices/pci0000:00/.../BDF" */
char *sim_mdev_sys_path (const SimMdev *mdev);
GPtrArray *sim_device_host_nodes (SimDevice *dev);        /* "/dev/nvidia0", ... while bound */

/* Kernel rules: 0 or -errno */
int sim_rule_driver_override (SimHost *host, SimDevice *dev, const char *buf, gsize len);
int sim_rule_bind (SimHost *host, SimDriver *drv, const char *buf);
int sim_rule_unbind (SimHost *host, SimDriver *drv, const char *buf);
int sim_rule_drivers_probe (SimHost *host, const char *buf);
int sim_rule_new_id (SimHost *host, SimDriver *drv, const char *buf);
int sim_rule_remove_id (SimHost *host, SimDriver *drv, const char *buf);
int sim_rule_sriov_numvfs (SimHost *host, SimDevice *pf, const char *buf);
int sim_rule_sriov_autoprobe (SimHost *host, SimDevice *pf, const char *buf);
int sim_rule_reset (SimHost *host, SimDevice *dev, const char *buf);
int sim_rule_mdev_create (SimHost *host, SimDevice *parent, SimVgpuType *type, const char *buf, gsize len);
int sim_rule_mdev_remove (SimHost *host, SimMdev *mdev, const char *buf);
int sim_rule_vgpu_type (SimHost *host, SimDevice *vf, const char *buf);
int sim_rule_bus_autoprobe (SimHost *host, const char *buf);

/* Real processes opening files in the mount */
int sim_open_dev (SimHost *host, const char *path, guint pid, guint64 *handle);
void sim_release_dev (SimHost *host, guint64 handle);
void sim_path_released (SimHost *host, const char *path);
int sim_holders_command (SimHost *host, const char *line);

/* The kernel's timing while running (sim-kernel.c, .sim/kernel) */
char *sim_kernel_list (SimHost *host);
int sim_kernel_command (SimHost *host, const char *line);

/* Fault injection and the write log (sim-fault.c) */
int sim_fault_command (SimHost *host, const char *line);
int sim_fault_apply (SimHost *host, const char *path, const char *data);
char *sim_fault_list (SimHost *host);
void sim_log_write (SimHost *host, const char *path, const char *data, gsize len, int result);

/* Scenarios (sim-scenario.c) */
SimHost *sim_scenario_load (const char *path, GError **error);
char *sim_scenario_find (const char *name_or_path);
