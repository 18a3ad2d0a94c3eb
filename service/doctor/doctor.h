/* The doctor: read-only checks of what stands in the way of passthrough
 * and vGPU on a host, each answered as a finding (id, severity, subject,
 * message, fix), the rows of Manager.Doctor(). No D-Bus here, and nothing
 * is written anywhere.
 *
 * gv_doctor_run() reads the host model as last scanned, plus what the
 * model does not keep, read fresh: the host-wide facts, ROOT/proc (holders,
 * cpuinfo, cmdline), the IOMMU's registers and group type, module
 * parameters, ROOT/etc/default/grub and ROOT/lib/modules/<release>.
 *
 * Every check that applies gives one row, "ok" when it passed, so that the
 * result reads as a checklist: first the host ("host" rows, in the order
 * iommu-present, iommu-cmdline, interrupt-remapping, vfio-pci-module), then
 * each GPU by address (group-shared, gpu-held, boot-vga, then for NVIDIA
 * GPUs vgpu-manager and for SR-IOV GPUs sriov-unused); functions the
 * configuration makes managed get their group-shared row.
 *
 * The result is a plain GPtrArray of GvDoctorFinding that the caller may extend:
 * the configuration module appends its config-invalid, config-device-moved
 * and config-device-missing rows (subject: the file, or the address the
 * configuration names) with gv_doctor_finding_new(). */
#pragma once

#include <glib.h>

#include "host/model.h"

G_BEGIN_DECLS

/* The stable ids of dbus/org.gpuvirt.Manager.xml's Doctor(). */
#define GV_DOCTOR_IOMMU_PRESENT "iommu-present"
#define GV_DOCTOR_IOMMU_CMDLINE "iommu-cmdline"
#define GV_DOCTOR_INTERRUPT_REMAPPING "interrupt-remapping"
#define GV_DOCTOR_VFIO_PCI_MODULE "vfio-pci-module"
#define GV_DOCTOR_GROUP_SHARED "group-shared"
#define GV_DOCTOR_GPU_HELD "gpu-held"
#define GV_DOCTOR_BOOT_VGA "boot-vga"
#define GV_DOCTOR_VGPU_MANAGER "vgpu-manager"
#define GV_DOCTOR_SRIOV_UNUSED "sriov-unused"
/* written by gv_doctor_mig() */
#define GV_DOCTOR_MIG_NVML "mig-nvml"
#define GV_DOCTOR_MIG_CAPABLE "mig-capable"
#define GV_DOCTOR_MIG_PENDING "mig-mode-pending"
#define GV_DOCTOR_MIG_RESET_BLOCKED "mig-reset-blocked"
/* written by the configuration module, not by gv_doctor_run() */
#define GV_DOCTOR_CONFIG_INVALID "config-invalid"
#define GV_DOCTOR_CONFIG_DEVICE_MOVED "config-device-moved"
#define GV_DOCTOR_CONFIG_DEVICE_MISSING "config-device-missing"
/* written by gv_doctor_check_libvirt(), subject: the domain's XML file */
#define GV_DOCTOR_LIBVIRT_MANAGED "libvirt-managed"
#define GV_DOCTOR_LIBVIRT_COMPANIONS "libvirt-companions"
#define GV_DOCTOR_LIBVIRT_OPT_IN "libvirt-opt-in"
#define GV_DOCTOR_LIBVIRT_DOMAIN "libvirt-domain"

/* The subject of host-wide findings. */
#define GV_DOCTOR_SUBJECT_HOST "host"

typedef enum {
  GV_DOCTOR_SEVERITY_OK,
  GV_DOCTOR_SEVERITY_INFO,
  GV_DOCTOR_SEVERITY_WARNING,
  GV_DOCTOR_SEVERITY_ERROR,
} GvDoctorSeverity;

/* "ok", "info", "warning", "error" (GPUVIRT_SEVERITY_*). */
const char *gv_doctor_severity_to_string (GvDoctorSeverity severity);

typedef struct {
  char *id;         /* GV_DOCTOR_* */
  GvDoctorSeverity severity;
  char *subject;    /* "host", a PCI address or a configuration file */
  char *message;    /* what was found; one line */
  char *fix;        /* how to fix it: exact commands, one step per line; "" when nothing to do */
} GvDoctorFinding;

/* FIX may be NULL (""). */
GvDoctorFinding *gv_doctor_finding_new (const char *id, GvDoctorSeverity severity, const char *subject,
                           const char *message, const char *fix);
void gv_doctor_finding_free (GvDoctorFinding *finding);

/* Runs every check on HOST (see above). A new array of GvDoctorFinding that
 * frees them. Fails only when ROOT/proc cannot be read at all (holders
 * cannot be checked). */
GPtrArray *gv_doctor_run (GvHost *host, GError **error);

/* The MIG rows, appended to FINDINGS: mig-nvml (host: NVML there, its
 * version; or missing, with what to install), then for each GPU of MIG
 * (BDF -> GvMigGpu as NVML last showed them) mig-capable, mig-mode-pending
 * (only while a mode waits for a reset) and mig-reset-blocked (the
 * processes, nvidia_drm or vGPUs that keep gpuvirtd from resetting it,
 * with the commands that release it). Nothing for a host without NVIDIA
 * GPUs. STATUS: NVML's version, or why it is unavailable. */
void gv_doctor_mig (GPtrArray *findings, GvHost *host, gboolean available, const char *status, GHashTable *mig);
/* Appends the libvirt rows (libvirt.c) of each domain definition DIR/NAME.xml
 * (ROOT/etc/libvirt/qemu on a host) that passes a function HOST manages:
 * libvirt-managed (managed='yes'), libvirt-companions (a GPU without its
 * companions), libvirt-opt-in (no gpuvirt element in <metadata>), and
 * libvirt-domain (ok, or an unreadable file: info). Subject: the file. A
 * missing DIR adds nothing. */
void gv_doctor_check_libvirt (GvHost *host, const char *dir, GPtrArray *findings);

/* The worst severity among FINDINGS (GV_DOCTOR_SEVERITY_OK when empty). */
GvDoctorSeverity gv_doctor_worst (GPtrArray *findings);

/* The CPU vendor the IOMMU option follows: "intel" or "amd", from
 * ROOT/proc/cpuinfo's vendor_id, else from the IOMMU units (dmar, ivhd),
 * else from the vendor of the host bridge 0000:00:00.0 (Intel 8086, AMD
 * 1022, Hygon 1d94); NULL when none says. */
const char *gv_doctor_cpu_vendor (GvHost *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvDoctorFinding, gv_doctor_finding_free)

G_END_DECLS
