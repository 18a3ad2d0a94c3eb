/* vGPU operations: SR-IOV counts, NVIDIA vendor-specific VFIO types on VFs,
 * mdevs on their parents, and the "one vGPU of type T" transaction built
 * from them. No D-Bus here. Every call blocks (the bus layer runs it in a
 * worker thread) and reads sysfs afresh below ROOT just before it writes:
 * the host model is a snapshot and a sibling may have changed since (a
 * vendor-VFIO VF's creatable list shrinks as its siblings get types).
 *
 * Writes go through gv_sysfs_write() (bounded, abandoned when stuck) to
 * ROOT/sys only; ROOT follows gv_sysfs_root_check(). Each write is read back:
 * a write the kernel accepted but that did not take effect is an error.
 * On any failure, what the call itself changed is undone before it
 * returns, and the error message says what failed and the state now. */
#pragma once

#include <glib.h>

#include "common/gv-error.h"

#include "host/vgpu-files.h"
#include "vgpu/type-names.h"

G_BEGIN_DECLS

/* Called once, from the writer's thread, when a write that outlived its
 * timeout returns at last. WHAT: the BDF (or mdev UUID) that write was
 * about: the PF for sriov_numvfs, the VF for current_vgpu_type, the
 * parent for an mdev's create, the mdev's UUID for its remove; RESULT: 0
 * or -errno. */
typedef void (*GvVgpuLateFunc) (const char *what, int result, gpointer user_data);

/* Called from the worker while a long write runs, when the kernel has
 * done more: FUNCTION is the PF, MESSAGE what it did so far ("enabling
 * 127 VFs on 0000:01:00.0: 42 so far"). */
typedef void (*GvVgpuProgressFunc) (const char *function, const char *message, gpointer user_data);

typedef struct {
  const char *root;
  guint timeout_ms;          /* bound of each write; 0 = 10 s */
  guint busy_retry_ms;       /* how long a release retries EBUSY; 0 = 10 s */
  guint busy_retry_every_ms; /* between those tries; 0 = 1 s */
  guint appear_ms;           /* wait for new VFs (virtfnN) and their vGPU files
                              * (nvidia/ or mdev_supported_types/); 0 = timeout_ms */
  GvVgpuLateFunc late;       /* may be NULL; USER_DATA must outlive the late write */
  GvVgpuProgressFunc progress; /* may be NULL */
  /* may be NULL: learns the names of every type list read before a write,
   * the only time a GPU's largest types show (see capacity.c) */
  GvVgpuTypeNames *names;
  gpointer user_data;
} GvVgpuContext;

/* Type lookup: WANTED equals ID, or NAME ("NVIDIA L40S-24Q") or its short
 * name ("L40S-24Q") ignoring case. */
gboolean gv_vgpu_type_matches (const char *id, const char *name, const char *wanted);

/* A canonical UUID: 8-4-4-4-12 hex digits (either case). */
gboolean gv_vgpu_uuid_is_valid (const char *uuid);
/* A random (version 4) UUID, lowercase. */
char *gv_vgpu_uuid_generate (void);

/* ---- SR-IOV ---- */

/* Sets PF's sriov_numvfs to COUNT: nothing when it already is; N -> 0 ->
 * M when both are above 0; the old count put back when the new one
 * fails. Then waits for the virtfnN links. *VFS (may be NULL) gets the VFs
 * after the call, in index order, even on failure. Does not check whether
 * VFs are in use: the caller does (the kernel only blocks).
 *
 * The kernel adds and probes the VFs one after the other inside the
 * write, so a write of N VFs (and of 0 disabling N) is bounded by
 * gv_vgpu_sriov_bound_ms(), and ctx->progress hears of the VFs as they
 * appear. A write still running past its bound is PENDING: nothing is put
 * back (the kernel is not done), and ctx->late hears how it ended. */
gboolean gv_vgpu_set_num_vfs (const GvVgpuContext *ctx, const char *pf, guint count, GStrv *vfs, GError **error);

/* The bound of a sriov_numvfs write that adds or removes N VFs: the
 * context's timeout, plus a tenth of it per VF (10 s + 1 s per VF by
 * default: NVIDIA's sriov-manage takes 30 s and more for 8 GPUs, and an
 * emulated NVMe probing each of 127 VFs 12 s). */
guint gv_vgpu_sriov_bound_ms (const GvVgpuContext *ctx, guint n);

/* ---- NVIDIA vendor-specific VFIO (a VF's nvidia/ directory) ---- */

/* Gives VF the type WANTED (id or name), resolved on its creatable list
 * read just now. Already carrying that type: nothing written, *CHANGED
 * FALSE. Carrying another: EXISTS. Not on the list: NO_CAPACITY when a
 * sibling VF carries or offers it, NO_SUCH_TYPE naming the list
 * otherwise. current_vgpu_type is read back; when it does not show the
 * type, 0 is written to undo and the error is KERNEL. *TYPE_ID and
 * *TYPE_NAME (may be NULL) get the type set. */
gboolean gv_vgpu_set_type (const GvVgpuContext *ctx, const char *vf, const char *wanted, guint *type_id,
                                  char **type_name, gboolean *changed, GError **error);

/* Frees VF (writes 0 to current_vgpu_type). A free VF: nothing written.
 * EBUSY (the driver is not ready just after a VM closed the VF) is
 * retried every busy_retry_every_ms for busy_retry_ms, then IN_USE.
 * Whether the VFIO node is open is the caller's check, made before. */
gboolean gv_vgpu_release_type (const GvVgpuContext *ctx, const char *vf, gboolean *changed, GError **error);

/* ---- mdev ---- */

/* Creates an mdev of WANTED (id or name) on PARENT (a BDF): resolved on
 * PARENT's mdev_supported_types read just now; available_instances 0 is
 * NO_CAPACITY; UUID NULL or "" generates one; an existing UUID is EXISTS.
 * Checks that sys/bus/mdev/devices/UUID appeared with that type (else
 * removes what appeared, KERNEL). *UUID_OUT, *TYPE_ID (may be NULL). */
gboolean gv_vgpu_create_mdev (const GvVgpuContext *ctx, const char *parent, const char *wanted, const char *uuid,
                         char **uuid_out, char **type_id, GError **error);

/* Removes mdev UUID (writes 1 to its remove) and checks it is gone. */
gboolean gv_vgpu_remove_mdev (const GvVgpuContext *ctx, const char *uuid, GError **error);

/* ---- one vGPU of a type ---- */

typedef struct {
  const char *function;        /* a GPU's PF, or one VF to use only that VF */
  GvHostFramework framework;   /* the GPU's, from the host model */
  const char *wanted;          /* type id or name */
  const char *uuid;            /* mdev frameworks; NULL or "" = generate */
  guint num_vfs;               /* VFs to enable when none are; 0 = sriov_totalvfs */
  const char *const *free_first; /* may be NULL: VFs to try first (a hint, each is read) */
} GvVgpuRequest;

typedef struct {
  GvHostFramework framework;   /* the framework used ("pending" resolved) */
  char *address;               /* the VF carrying it, or the mdev's parent */
  char *type_id;               /* "1155" or "nvidia-558" */
  char *type_name;             /* "NVIDIA L40S-24Q"; "" when unknown */
  char *mdev_uuid;             /* NULL for vendor-VFIO */
  gboolean enabled_vfs;        /* this call enabled the GPU's VFs */
  GStrv vfs;                   /* the PF's VFs after the call (may be empty) */
} GvVgpuResult;

void gv_vgpu_result_free (GvVgpuResult *result);
GvVgpuResult *gv_vgpu_result_copy (const GvVgpuResult *result);

/* "Give me one vGPU of type WANTED": on mdev-pf an mdev on the PF; on
 * pending, mdev-vf or vendor-vfio, enables the VFs when none are (then
 * waits for their vGPU files), and takes the first free VF (no type, no
 * mdev) that can create the type now. A VF given as FUNCTION is the only
 * candidate. Fails with NO_CAPACITY when no candidate can, NO_SUCH_TYPE
 * when none offers such a type at all. A VF whose write fails with EINVAL
 * or EBUSY (a sibling took the room meanwhile) is passed over for the
 * next one; any other failure ends the call. On failure the VFs this call
 * enabled are disabled again, and nothing else is left changed. *RESULT
 * is set on success only. */
gboolean gv_vgpu_create (const GvVgpuContext *ctx, const GvVgpuRequest *request, GvVgpuResult **result,
                         GError **error);

/* A free_first hint for several vGPUs in a row: a NULL-terminated array
 * of VFS (borrowed), from which gv_vgpu_hint_drop() takes each VF used. */
GPtrArray *gv_vgpu_hint_new (const char *const *vfs);
void gv_vgpu_hint_drop (GPtrArray *hint, const char *address);

/* COUNT vGPUs of REQUEST's type, one after another as gv_vgpu_create()
 * makes each (the VFs enabled by the first when none are), as one
 * transaction: when one fails, those made before are removed again (and
 * the VFs disabled if the batch enabled them), and ERROR says which one
 * failed and what is left. ctx->progress hears of each vGPU made.
 * *RESULTS: the GvVgpuResults, in order. */
gboolean gv_vgpu_create_batch (const GvVgpuContext *ctx, const GvVgpuRequest *request, guint count,
                               GPtrArray **results, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvVgpuResult, gv_vgpu_result_free)

G_END_DECLS
