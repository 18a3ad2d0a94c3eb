/* What the files of mig/ share: the library's function table and the
 * bounded tasks that call it. Not for other folders. */
#pragma once

#include "mig/mig.h"
#include "mig/nvml-abi.h"

/* The entry points, one pointer each. */
#define GV_MIG_FIELD(name, ret, args) ret (*name) args;
typedef struct {
  GV_MIG_NVML_ENTRY_POINTS (GV_MIG_FIELD)
} GvMigNvmlTable;
#undef GV_MIG_FIELD

struct _GvMigNvml {
  void *handle;
  char *path;
  char *description;
  GvMigNvmlTable fn;
  GMutex lock;
  char *stuck_call;        /* the call that did not return, or NULL */
  gboolean initialized;
};

/* A task runs in a thread of its own; every NVML call it makes goes
 * through GV_MIG_CALL, which the waiting caller bounds. */
typedef struct {
  GvMigNvml *nvml;
  GMutex lock;
  GCond cond;
  guint timeout_ms;
  gint64 call_started;     /* monotonic µs; 0 outside a call */
  const char *call_name;
  gboolean done;
  gboolean abandoned;      /* the caller gave up: make no more calls */
} GvMigTask;

/* Runs FUNC (TASK, DATA, ERROR) in a new thread and waits; a single NVML
 * call that outlives TIMEOUT_MS ends the wait with STUCK (the thread goes
 * on, makes no further call, and frees DATA with DATA_UNREF). DATA must
 * therefore be the task's own (a reference, released by DATA_UNREF): the
 * caller reads it only when this returned without STUCK. */
typedef gboolean (*GvMigTaskFunc) (GvMigTask *task, gpointer data, GError **error);
gboolean gv_mig_run (GvMigNvml *nvml, guint timeout_ms, GvMigTaskFunc func, gpointer data,
                     GDestroyNotify data_unref, GError **error);

gboolean gv_mig_call_begin (GvMigTask *task, const char *name);
GvMigNvmlReturn gv_mig_call_end (GvMigTask *task, GvMigNvmlReturn result);

/* NAME (ARGS...) through the task's bound; TIMEOUT without a call once the
 * caller gave up. */
#define GV_MIG_CALL(task, name, ...)                                                                                    \
  (gv_mig_call_begin ((task), #name) ? gv_mig_call_end ((task), (task)->nvml->fn.name (__VA_ARGS__))                    \
                                     : GV_MIG_NVML_ERROR_TIMEOUT)

/* An error for RESULT of the call NAME about WHAT: IN_USE, NO_CAPACITY,
 * NOT_SUPPORTED, STUCK (the task was abandoned) or KERNEL, the message
 * naming the call, WHAT and NVML's text. */
void gv_mig_nvml_error (GvMigTask *task, GError **error, GvMigNvmlReturn result, const char *name, const char *what);

/* The GPU's handle (NOT_SUPPORTED when NVML does not see it). */
gboolean gv_mig_device (GvMigTask *task, const char *bdf, GvMigNvmlDevice *device, GError **error);
/* Reads the GPU inside a task. */
GvMigGpu *gv_mig_gpu_read_in (GvMigTask *task, const char *bdf, GError **error);
