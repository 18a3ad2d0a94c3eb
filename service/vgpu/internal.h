/* Internals shared by the vGPU engine's files (vgpu/). Not part of the
 * API: the other layers use vgpu.h, plan.h, family.h and type-names.h. */
#pragma once

#include <glib.h>

#include "host/bdf.h"
#include "sysfs/write.h"
#include "host/function.h"
#include "vgpu/vgpu.h"

G_BEGIN_DECLS

#define GV_VGPU_DEFAULT_MS 10000
#define GV_VGPU_DEFAULT_RETRY_EVERY_MS 1000
/* How often a wait for sysfs to change looks again. */
#define GV_VGPU_POLL_MS 10
/* How often a long write's progress is looked at. */
#define GV_VGPU_TICK_MS 250

guint gv_vgpu_timeout_ms (const GvVgpuContext *ctx);
guint gv_vgpu_appear_ms (const GvVgpuContext *ctx);

/* ---- util.c ---- */

/* ctx->root passes gv_sysfs_root_check(); INVALID otherwise. */
gboolean gv_vgpu_check_root (const GvVgpuContext *ctx, GError **error);
/* BDF is well formed (INVALID) and ROOT has it (NO_SUCH_DEVICE). ROLE
 * names it in the message ("VF", "mdev parent"). *DIR (may be NULL) gets
 * ROOT/sys/bus/pci/devices/BDF. */
gboolean gv_vgpu_check_function (const GvVgpuContext *ctx, const char *bdf, const char *role, char **dir, GError **error);

/* ROOT/sys/bus/pci/devices/BDF */
char *gv_vgpu_function_dir (const char *root, const char *bdf);
/* ROOT/sys/bus/mdev/devices/UUID */
char *gv_vgpu_mdev_dir (const char *root, const char *uuid);

/* Sleeps MS, never past DEADLINE (monotonic µs). FALSE when DEADLINE has passed. */
/* Tells ctx->names (if any) the types VENDOR (may be NULL) lists. */
void gv_vgpu_note_types (const GvVgpuContext *ctx, const GvHostVendorVfio *vendor);

gboolean gv_vgpu_sleep_until (gint64 deadline, guint ms);

/* GError helpers: extend the message, change the code. */
void gv_vgpu_error_append (GError *error, const char *format, ...) G_GNUC_PRINTF (2, 3);

typedef enum {
  GV_VGPU_WRITE_OK,
  GV_VGPU_WRITE_FAILED, /* *ERR is the errno; ERROR is KERNEL */
  GV_VGPU_WRITE_STUCK,  /* ERROR is STUCK; ctx->late will hear of it */
} GvVgpuWriteStatus;

/* Writes DATA to ROOT/REL through gv_sysfs_write(), bounded by the
 * context's timeout. STEP says what the write is for ("setting vGPU type
 * 1163 on 0000:01:00.4"), WHAT is the BDF or UUID the late callback is
 * given. The error names the step, the file, the data and the errno;
 * callers add the state things are in. *ERR (may be NULL) gets the errno,
 * 0 unless FAILED. */
GvVgpuWriteStatus gv_vgpu_write (const GvVgpuContext *ctx, const char *what, const char *step, const char *rel, const char *data,
                        int *err, GError **error);
/* The same bounded by TIMEOUT_MS, TICK (may be NULL) called meanwhile
 * every GV_VGPU_TICK_MS. */
GvVgpuWriteStatus gv_vgpu_write_watched (const GvVgpuContext *ctx, const char *what, const char *step, const char *rel,
                                         const char *data, guint timeout_ms, GvSysfsTickFunc tick, gpointer tick_data,
                                         int *err, GError **error);

/* ---- vendor.c ---- */

/* The VFs of PF with what their nvidia/ directory says. */
typedef struct {
  char *bdf;
  GvHostVendorVfio *vendor; /* NULL: no nvidia/ directory (not on nvidia, or not vendor-VFIO) */
} GvVgpuVendorVf;

void gv_vgpu_vendor_vf_free (GvVgpuVendorVf *vf);
/* Every VF of PF in index order (GvVgpuVendorVf). */
GPtrArray *gv_vgpu_vendor_survey (const char *root, const char *pf);

/* The entry of CREATABLE (GvHostVendorType) that WANTED names, or NULL. */
const GvHostVendorType *gv_vgpu_vendor_find (GPtrArray *creatable, const char *wanted);
/* "1155 NVIDIA L40S-1Q, 1156 NVIDIA L40S-2Q", or "none". */
char *gv_vgpu_vendor_list_text (GPtrArray *creatable);

/* How WANTED stands on a GPU whose VFs are SURVEY. */
typedef enum {
  GV_VGPU_TYPE_UNKNOWN,   /* no VF offers it and none is known to carry it */
  GV_VGPU_TYPE_OFFERED,   /* a VF of SURVEY offers it now */
  GV_VGPU_TYPE_CARRIED,   /* a VF carries it */
  GV_VGPU_TYPE_FULL,      /* not offered nor known carried, but no VF offers anything: the GPU is full */
  GV_VGPU_TYPE_MAYBE,     /* not offered; VFs carry types whose names no list shows, it may be one */
} GvVgpuStanding;

/* Also *ID, *NAME (may be NULL) of the type when known. */
GvVgpuStanding gv_vgpu_vendor_standing (GPtrArray *survey, const char *wanted, guint *id, char **name);
/* The name of type ID from any list of SURVEY, or NULL. */
const char *gv_vgpu_vendor_type_name (GPtrArray *survey, guint id);
/* "2 VFs carry vGPU types (1163 on 0000:01:00.4, 1163 on 0000:01:00.5)" or "" */
char *gv_vgpu_vendor_carried_text (GPtrArray *survey);

/* Writes TYPE's id to VF's current_vgpu_type and reads it back (undoing
 * with 0 when it does not show). *ERR: the errno of the failed write. */
gboolean gv_vgpu_vendor_apply (const GvVgpuContext *ctx, const char *vf, const GvHostVendorType *type, int *err,
                          GError **error);

/* ---- mdev.c ---- */

/* The type of TYPES (GvHostMdevType) that WANTED names, or NULL. */
const GvHostMdevType *gv_vgpu_mdev_find (GPtrArray *types, const char *wanted);
/* "nvidia-555 NVIDIA A40-1B, ..." or "none" */
char *gv_vgpu_mdev_list_text (GPtrArray *types);
/* Does an mdev of ROOT have PARENT as parent? *UUID (may be NULL) gets the first one. */
gboolean gv_vgpu_mdev_parent_busy (GPtrArray *mdevs, const char *parent, const char **uuid);

/* Creates mdev UUID (valid, lowercase, free) of TYPE on PARENT: writes
 * create, checks the mdev appeared with that type (removing what
 * appeared otherwise). *ERR: the errno of a failed create write. */
gboolean gv_vgpu_mdev_apply (const GvVgpuContext *ctx, const char *parent, const GvHostMdevType *type, const char *uuid,
                        int *err, GError **error);

G_END_DECLS
