/* The part every SR-IOV and vGPU method shares once it has planned its
 * call (vgpu/plan.h), checked state and passed polkit: mark what it
 * touches busy, run the plan in a worker thread, then on the main loop
 * re-read the GPU's family and the mdevs (so InterfacesAdded/Removed and
 * PropertiesChanged go out), write the audit record, record the persist
 * option's edits and reply.
 *
 * While the worker writes the GPU's sriov_numvfs, Sriov.Pending is true
 * and the PF's StateMessage shows the VFs as the kernel adds them. A write
 * that outlives its bound (Stuck, or Pending for a long SR-IOV write)
 * keeps everything the operation marked busy until it returns (the
 * engine's late callback); then, in a worker, the operation is settled
 * (gv_vgpu_plan_settle(): kept when the kernel completed what was asked,
 * else taken where its journal says), the functions are read again, and
 * the outcome goes to the GPU's StateMessage, the audit log and, when
 * kept, the persist option's configuration edit. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus/persist.h"
#include "daemon/daemon.h"
#include "vgpu/plan.h"

typedef struct BusVgpuOp BusVgpuOp;

/* Builds and sends the reply of a successful operation (on the main loop,
 * after the model was read again). Returns a negative errno on failure. */
typedef int (*BusVgpuOpReplyFunc) (BusVgpuOp *op);
/* Records the persist option's edits that depend on what the worker did
 * (the VF picked, the mdev's UUID) in OP->persist, on the main loop after
 * the model was read again. */
typedef void (*BusVgpuOpPersistFunc) (BusVgpuOp *op);

struct BusVgpuOp {
  Daemon *daemon;
  sd_bus_message *request;
  GvVgpuPlan *plan;                 /* what the call does (owned) */
  char *root;
  GvVgpuContext ctx;
  BusVgpuOpReplyFunc reply;
  BusPersist *persist;              /* the persist option: edits saved once the change succeeded (owned) */
  BusVgpuOpPersistFunc persist_result; /* may be NULL */

  gint64 started;                   /* monotonic µs the worker started */

  /* set by the worker */
  GError *error;
  GvVgpuOutcome outcome;
};

/* A planned call, as its method hands it over. */
typedef struct {
  GvVgpuPlan *plan;                 /* taken */
  BusPersist *persist;              /* the persist option's edits (taken); NULL without it */
  BusVgpuOpPersistFunc persist_result; /* edits that need what the call did; may be NULL */
  const char *const *details;       /* for polkit rules (NULL-terminated key/value pairs) */
  guint timeout_ms;                 /* each write's bound; 0 = the engine's default */
  BusVgpuOpReplyFunc reply;         /* also for a call that finds the device as asked */
} BusVgpuCall;

/* The rest of every SR-IOV and vGPU method, in the contract's order:
 * refused on a read-only daemon, while another call changes what it
 * touches, or (with persist) when the configuration cannot take the
 * change; a call that finds the device as asked replies at once (with
 * persist, after polkit for modify-config and the file written); one a
 * VM would lose its device to is refused (InUse); then polkit, then the
 * worker. Returns what a handler returns. */
int bus_vgpu_op_run (Daemon *daemon, sd_bus_message *m, BusVgpuCall *call, sd_bus_error *error);

/* The daemon's handler for the workers' reports (bus_handlers). */
void bus_vgpu_op_report (gpointer item, gpointer user_data);
