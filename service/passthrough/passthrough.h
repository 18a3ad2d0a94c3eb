/* Passthrough: moving a GPU and its companion functions to vfio-pci and
 * back, as transactions. No D-Bus here. The bus layer plans with
 * gv_passthrough_plan() on the main loop, then runs each planned group
 * with gv_passthrough_run() in a worker thread (groups in parallel).
 *
 * Sysfs writes follow the kernel's documented sequence:
 *   to vfio-pci:  driver_override="vfio-pci", drivers/<old>/unbind, drivers_probe
 *   back:         driver_override=<recorded or "\n">, drivers/vfio-pci/unbind,
 *                 drivers/<original>/bind (or drivers_probe when it had none)
 * and every step is verified by reading the driver link back. */
#pragma once

#include <glib.h>

#include "common/gv-error.h"

#include "host/model.h"
#include "journal/journal.h"

G_BEGIN_DECLS

typedef enum {
  GV_PASSTHROUGH_BIND_VFIO,   /* to vfio-pci, with companions and the rest of the IOMMU group */
  GV_PASSTHROUGH_GIVE_BACK,   /* to the recorded original driver (or a named one) */
  GV_PASSTHROUGH_UNBIND,      /* leave driverless (experts) */
} GvPassthroughOp;

typedef struct {
  gboolean force;          /* past holders of the GPU's nodes, the boot VGA, an open VFIO node */
  gboolean allow_foreign;  /* take foreign functions that share the IOMMU group too */
  char *driver;            /* GIVE_BACK: this driver instead of the recorded one */
  guint timeout_ms;        /* per sysfs write; 0 = the default (10 s) */
} GvPassthroughOptions;

/* One IOMMU group's worth of work: run as one transaction. */
typedef struct {
  int iommu_group;         /* -1 without IOMMU (only for GIVE_BACK and UNBIND) */
  GStrv bdfs;              /* in the order they are moved: companions first, the GPU last
                            * (reversed when giving back) */
} GvPassthroughGroup;

typedef struct {
  GvPassthroughOp operation;
  GPtrArray *groups;       /* GvPassthroughGroup */
  GStrv all_bdfs;          /* every function touched, sorted */
  gboolean needs_force;    /* FALSE unless options.force was needed to pass a check */
} GvPassthroughPlan;

void gv_passthrough_plan_free (GvPassthroughPlan *plan);

/* Checks and plans, reading only the model and ROOT/proc (holders).
 * REQUESTED: full BDFs. For BIND_VFIO each requested function pulls in its
 * companions and every non-bridge member of its IOMMU group; members that
 * are not any requested function's own are "foreign" and refused unless
 * allow_foreign. Refused too: unknown or unmanaged functions, no IOMMU
 * group, holders of the GPU's /dev/nvidiaN and /dev/dri nodes and the
 * boot VGA while bound to a host driver (unless force), a vendor-VFIO VF.
 * GIVE_BACK refuses a function whose VFIO nodes are held (a running VM)
 * unless force. Functions already where the operation would put them are
 * planned anyway (the transaction skips them). */
GvPassthroughPlan *gv_passthrough_plan (GvHost *host, GvPassthroughOp operation, const char *const *requested,
                             const GvPassthroughOptions *options, GError **error);

/* Progress, called from the worker thread: STATE is a Device.State value
 * ("releasing", "vfio", "returning", "host", "unbound", "stuck"). */
typedef void (*GvPassthroughProgressFunc) (const char *bdf, const char *state, const char *message, gpointer user_data);

/* How one function ended. */
typedef struct {
  char *bdf;
  char *state;     /* Device.State value it ended in */
  char *driver;    /* driver it ended on, "" when none */
  char *message;   /* what happened, e.g. "on vfio-pci", "rolled back to nvidia after unbind failed: EIO" */
} GvPassthroughResult;

void gv_passthrough_result_free (GvPassthroughResult *result);

/* Runs GROUP of PLAN, blocking (call it in a worker thread; several
 * groups run at once in their own threads, so RECORDS is thread-safe). Writes go to
 * ROOT/sys (ROOT is never "/" in tests). On any failure every function
 * already changed goes back to where it was, and the error (KERNEL, with
 * the errno, or STUCK) says what failed; RESULTS always says where each
 * function ended. A write that does not return within the timeout leaves
 * its function "stuck": it is not rolled back (the kernel still holds the
 * write); the others are. When that write returns at last, PROGRESS is
 * called once more for the function (from the thread that made it) with
 * the state read back, so a stuck function is never forgotten. */
gboolean gv_passthrough_run (const char *root, GvJournal *records, const GvPassthroughPlan *plan, const GvPassthroughGroup *group,
                             const GvPassthroughOptions *options, GvPassthroughProgressFunc progress, gpointer user_data,
                             GPtrArray **results, GError **error);

/* At daemon start: finds journaled transactions that did not finish (the
 * daemon was killed), puts every function of each back on its original
 * driver, and removes the journal. RESULTS says what was done. Journals
 * of SR-IOV and vGPU operations are left alone (gv_vgpu_journal_recover;
 * gv_config_recover does both). */
gboolean gv_passthrough_recover (GvJournal *records, const char *root, GvPassthroughProgressFunc progress, gpointer user_data,
                             GPtrArray **results, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvPassthroughPlan, gv_passthrough_plan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvPassthroughResult, gv_passthrough_result_free)

G_END_DECLS
