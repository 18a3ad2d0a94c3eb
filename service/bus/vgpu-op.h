/* The part every SR-IOV and vGPU method shares once it has validated,
 * checked state and passed polkit: mark what it touches busy, run the
 * engine call (vgpu.h) in a worker thread, then on the main loop re-read
 * the GPU's family and the mdevs (so InterfacesAdded/Removed and
 * PropertiesChanged go out), write the journal record and reply.
 *
 * A write that outlives its timeout keeps everything the operation marked
 * busy until the write returns (the engine's late callback), then the
 * functions are read again. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus/persist.h"
#include "daemon/daemon.h"
#include "vgpu/vgpu.h"

typedef enum {
  VGPU_OP_SET_NUM_VFS,
  VGPU_OP_SET_TYPE,
  VGPU_OP_RELEASE_TYPE,
  VGPU_OP_CREATE_MDEV,
  VGPU_OP_REMOVE_MDEV,
  VGPU_OP_CREATE_VGPU,
  VGPU_OP_REMOVE_VGPU,
} VgpuOpKind;

typedef struct VgpuOp VgpuOp;

/* Builds and sends the reply of a successful operation (on the main loop,
 * after the model was read again). Returns a negative errno on failure. */
typedef int (*VgpuOpReplyFunc) (VgpuOp *op);
/* Records the persist option's edits that depend on what the worker did
 * (the VF picked, the mdev's UUID) in OP->persist, on the main loop after
 * the model was read again. */
typedef void (*VgpuOpPersistFunc) (VgpuOp *op);

struct VgpuOp {
  Daemon *daemon;
  sd_bus_message *request;
  VgpuOpKind kind;
  char *root;
  GvVgpuContext ctx;
  VgpuOpReplyFunc reply;

  /* input, set by the method */
  char *function;          /* the function the call acts on */
  char *gpu;               /* its GPU's physical function */
  char *wanted;            /* type id or name */
  char *uuid;              /* mdev UUID ("" = generate) */
  guint count;             /* SetNumVfs: VFs wanted; CreateVgpu: VFs to enable */
  gboolean disable_vfs;    /* RemoveVgpu: the GPU's last vGPU takes its VFs along */
  GvHostFramework framework;
  GStrv busy;              /* BDFs and mdev UUIDs marked busy */
  BusPersist *persist;     /* the persist option: edits saved once the change succeeded (owned) */
  VgpuOpPersistFunc persist_result; /* may be NULL */

  /* output, set by the worker */
  GError *error;
  gboolean changed;        /* SetType/ReleaseType: something was written */
  guint type_id;
  char *type_name;
  char *out_uuid;
  char *out_type;
  GvVgpuResult *result;
  GStrv vfs;               /* the GPU's VFs afterwards */
};

/* Audit names of the kinds ("set-num-vfs", "create-vgpu", ...). */
const char *vgpu_op_kind_to_string (VgpuOpKind kind);

/* The first of KEYS another operation holds, or NULL. */
const char *vgpu_busy_conflict (Daemon *daemon, const char *const *keys);

/* A new operation answering M. GPU may equal FUNCTION. */
VgpuOp *vgpu_op_new (Daemon *daemon, sd_bus_message *m, VgpuOpKind kind, const char *function, const char *gpu,
                     guint timeout_ms, VgpuOpReplyFunc reply);
/* Marks BUSY (NULL-terminated, copied) and starts the worker; the
 * operation then belongs to the runner. */
void vgpu_op_start (VgpuOp *op, const char *const *busy);

/* Runs on the main loop for each worker result (daemon->vgpu_queue). */
void bus_vgpu_queue_item (gpointer item, gpointer user_data);
