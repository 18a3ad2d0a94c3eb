/* The daemon's core: its state (the host model, the journal, what is being
 * changed, the configuration and boot plan), kept fresh by refreshes and
 * uevents. It holds the bus connection and the event loop, but knows no
 * bus object: the bus layer (bus/) gives daemon_new() its handlers, which
 * the core calls when something the bus shows has changed and when a
 * worker reports. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "config/config.h"
#include "daemon/polkit.h"
#include "daemon/queue.h"
#include "host/model.h"
#include "journal/journal.h"
#include "mig/mig.h"
#include "vgpu/type-names.h"

typedef struct Daemon Daemon;

/* What the core tells the bus layer, always on the main loop. */
typedef struct {
  /* The host model changed. BEFORE: every function's snapshot before the
   * change (BDF -> GvHostDevice). */
  void (*host_changed) (Daemon *daemon, const GvHostChanges *changes, GHashTable *before);
  /* What daemon_device_state() or the state message of BDF says may have
   * changed; WILL: it is about to (what was is to be announced first). */
  void (*state_changed) (Daemon *daemon, const char *bdf, gboolean will);
  /* Properties of the Manager changed (NULL-terminated names). */
  void (*manager_changed) (Daemon *daemon, const char *const *names);
  /* The boot plan ended: BootPlan holds its rows as they ended. */
  void (*plan_finished) (Daemon *daemon);
  /* What NVML shows of BDF's MIG changed (HAD: it had MIG before; its
   * snapshot now is daemon_mig_lookup()). */
  void (*mig_changed) (Daemon *daemon, const char *bdf, gboolean had);
  /* Reports of the passthrough, SR-IOV/vGPU and MIG workers. */
  DaemonQueueFunc passthrough_report;
  DaemonQueueFunc vgpu_report;
  DaemonQueueFunc mig_report;
} DaemonHandlers;

/* An SR-IOV or vGPU operation whose write outlived its bound (stuck, or
 * pending for a long SR-IOV write): what it keeps busy until the write
 * returns, and what the bus layer needs to settle it then. */
typedef struct {
  GStrv keys;
  gpointer data;             /* the bus layer's */
  GDestroyNotify data_free;
} DaemonStuckOp;

/* One row of BootPlan, kept by the main loop while the plan's worker
 * owns the plan itself. */
typedef struct {
  char *phase, *device, *action, *status, *message;
} DaemonPlanRow;

struct Daemon {
  sd_event *event;
  sd_bus *bus;
  const DaemonHandlers *handlers;
  gpointer bus_state;              /* the bus layer's (what it announced, queued signals) */
  GDestroyNotify bus_state_free;
  GvHost *host;
  DaemonPolkit *polkit;
  char *root;
  gboolean interrupt_remapping;
  sd_device_monitor *monitor;
  sd_event_source *uevent_flush;   /* batches a burst of uevents into one refresh */
  GHashTable *uevent_bdfs;         /* BDFs reported since the last flush */
  gboolean uevent_mdevs;

  /* changes of devices */
  char *state_dir;
  gboolean read_only;              /* serving this machine for reading only (tests) */
  GvJournal *journal;              /* originals and operations under way; NULL when read-only */
  GvVgpuTypeNames *type_names;     /* vendor-VFIO type names, as lists showed them (a full GPU lists none) */
  DaemonQueue *passthrough_queue;  /* passthrough workers -> main loop */
  DaemonQueue *vgpu_queue;         /* SR-IOV and vGPU workers -> main loop */
  GPtrArray *stuck_ops;            /* DaemonStuckOp: SR-IOV/vGPU writes still under way past their bound */
  GHashTable *sriov_pending;       /* PF BDF -> set: a sriov_numvfs write is under way (Sriov.Pending) */
  GHashTable *op_state;            /* BDF -> Device.State while it moves, or "stuck" */
  GHashTable *op_message;          /* BDF -> Device.StateMessage */
  GHashTable *busy;                /* BDF or mdev UUID -> what changes it */

  /* configuration and boot plan (config.c) */
  char *config_file;               /* the main file */
  char *config_dropins;            /* its conf.d/ */
  char *libvirt_dir;               /* libvirt's domain definitions, for Doctor() */
  GvConfig *config;                /* the last valid configuration read; never NULL */
  GPtrArray *config_problems;      /* GvConfigProblem of the last read: ConfigErrors */
  GPtrArray *plan_rows;            /* DaemonPlanRow: BootPlan as the bus shows it */
  const char *plan_state;          /* BootPlanState */
  GvConfigPlan *plan;              /* the plan running, owned by its worker until it ends */
  GStrv plan_busy;                 /* what the running plan marked busy */
  DaemonQueue *plan_queue;         /* the plan's worker -> main loop */
  gboolean ready_sent;             /* READY=1 told to systemd (after the plan at start) */

  /* vGPU files that change without uevents, read again on a client's read */
  GHashTable *vgpu_read_at;        /* GPU PF BDF -> monotonic µs they were last read (bus/fresh.c) */

  /* MIG (mig.c) */
  GvMigNvml *nvml;                 /* NULL: MIG unavailable (mig_status says why) */
  char *mig_status;                /* Manager.MigStatus */
  GHashTable *mig;                 /* GPU BDF -> GvMigGpu: the MIG GPUs as NVML last showed them */
  GHashTable *mig_read_at;         /* GPU BDF -> monotonic µs the stored snapshot's read began */
  DaemonQueue *mig_queue;          /* MIG refreshes -> main loop */
  DaemonQueue *mig_op_queue;       /* the bus layer's MIG workers -> main loop */

  /* worker threads of operations (daemon_worker_start()), and stopping */
  gint workers;                    /* running now (atomic) */
  gboolean stopping;               /* SIGTERM came while workers ran: no new changes */
  sd_event_source *stop_wait;      /* looks whether they have ended */
  uint64_t stop_since;             /* CLOCK_MONOTONIC µs of the SIGTERM */

  /* holders: one /proc scan serves every object for a moment */
  GPtrArray *holders;              /* GvHostHolder of every function's nodes */
  gint64 holders_at;               /* monotonic µs of that scan */
};

/* Runs FUNC (DATA) in a thread of its own, counted in daemon->workers
 * until FUNC returns: FUNC pushes its report to a queue before it returns,
 * so a daemon with no worker has every report queued or handled. */
void daemon_worker_start (Daemon *daemon, const char *name, GThreadFunc func, gpointer data);

/* SIGTERM or SIGINT: ends the event loop at once when no worker runs;
 * otherwise refuses new changes (Busy: "gpuvirtd is stopping"), lets the
 * operations under way finish (each within its own time bounds), and ends
 * the loop when they have, or after 60 s at most (systemd waits 90). A
 * second signal ends it at once. */
void daemon_stop (Daemon *daemon);

/* Reads the host below ROOT. HANDLERS must outlive the daemon. */
Daemon *daemon_new (sd_event *event, sd_bus *bus, const char *root, const char *state_dir, gboolean read_only,
                    const DaemonHandlers *handlers, GError **error);
/* With workers still running (or a write stuck), nothing is freed: they
 * use it until the process ends, and the journal covers their step. */
void daemon_free (Daemon *daemon);

/* Re-reads everything (Refresh) or the given functions (uevents, after
 * a change), then tells the bus layer what changed. */
gboolean daemon_rescan (Daemon *daemon, GError **error);
gboolean daemon_refresh_functions (Daemon *daemon, const char *const *bdfs, gboolean mdevs, GError **error);
/* Re-reads only PARTS (BDF -> GvHostParts, see gv_host_refresh_parts()):
 * what an operation can have changed. */
gboolean daemon_refresh_parts (Daemon *daemon, GHashTable *parts, gboolean mdevs, GError **error);

/* Device.State as the bus shows it: an operation's override, else sysfs;
 * and Device.StateMessage (never NULL). */
const char *daemon_device_state (Daemon *daemon, GvHostDevice *device);
const char *daemon_device_message (Daemon *daemon, const char *bdf);
/* An operation moves BDF: STATE (a Device.State value) and MESSAGE
 * override what sysfs says until daemon_clear_state(). */
void daemon_set_state (Daemon *daemon, const char *bdf, const char *state, const char *message);
/* The override goes (sysfs speaks again); the message stays when KEEP_MESSAGE. */
void daemon_clear_state (Daemon *daemon, const char *bdf, gboolean keep_message);

/* Error GV_ERROR_NOT_SUPPORTED when the daemon serves for reading only. */
gboolean daemon_check_writable (Daemon *daemon, GError **error);
/* Busy: GV_ERROR_BUSY naming the first of KEYS (BDFs, mdev UUIDs) that
 * another call is changing; TRUE when none is. */
gboolean daemon_check_not_busy (Daemon *daemon, const char *const *keys, GError **error);
void daemon_mark_busy (Daemon *daemon, const char *const *keys, gpointer owner);
void daemon_unmark_busy (Daemon *daemon, const char *const *keys);

/* A sriov_numvfs write of PF starts or ends (Sriov.Pending). While it
 * runs the kernel holds PF's device lock, which reading its sriov_numvfs
 * waits for: the model keeps what it had for PF instead of reading it. */
void daemon_set_sriov_pending (Daemon *daemon, const char *pf, gboolean pending);
gboolean daemon_sriov_pending (Daemon *daemon, const char *pf);

/* Keeps KEYS busy (taken) until the write returns; DATA is the bus
 * layer's (freed with DATA_FREE). */
void daemon_stuck_add (Daemon *daemon, GStrv keys, gpointer data, GDestroyNotify data_free);
/* The stuck operation whose keys include WHAT, taken out of the list
 * (its keys are still busy); NULL when none. */
DaemonStuckOp *daemon_stuck_take (Daemon *daemon, const char *what);
void daemon_stuck_op_free (DaemonStuckOp *op);

/* The processes holding BDF's nodes (borrowed GvHostHolder pointers, valid
 * until the next call): all functions' nodes are scanned in one pass of
 * /proc, reused for a moment, so GetManagedObjects costs one scan. */
GPtrArray *daemon_holders (Daemon *daemon, const char *bdf, GError **error);
/* Puts back operations a killed daemon left unfinished (at start). */
void daemon_recover (Daemon *daemon);
/* Listens to kernel uevents (only on a real root). */
int daemon_uevents_start (Daemon *daemon);

/* ---- MIG (mig.c) ---- */

/* Opens NVML and reads every NVIDIA GPU on the nvidia driver, blocking
 * (each call bounded): at start, before the bus objects are registered. */
void daemon_mig_start (Daemon *daemon);
/* Reads BDFS again (NULL: every candidate GPU) in a worker; the snapshots
 * are stored and announced on the main loop. */
void daemon_mig_refresh (Daemon *daemon, const char *const *bdfs);
/* The same, then THEN (on the main loop) once the snapshots are stored;
 * at once when NVML is unavailable. */
void daemon_mig_refresh_then (Daemon *daemon, const char *const *bdfs, void (*then) (Daemon *daemon));
/* BDF's MIG as last read (borrowed), NULL when it has none. */
GvMigGpu *daemon_mig_lookup (Daemon *daemon, const char *bdf);
/* Stores GPU (taken; NULL: BDF has no MIG) read from READ_AT on, unless a
 * later read is stored already, and tells the bus layer. */
void daemon_mig_store (Daemon *daemon, const char *bdf, GvMigGpu *gpu, gint64 read_at);
/* The engine's context for a worker. */
GvMigContext daemon_mig_context (Daemon *daemon, guint timeout_ms);

/* ---- configuration and boot plan (config.c) ---- */

/* Reads the configuration files again (start, SIGHUP, ReloadConfig,
 * after SaveConfig or a persist edit). Files with problems are not taken:
 * the previous configuration stays, ConfigErrors lists them, and FALSE
 * with GV_ERROR_CONFIG_INVALID. ConfigFiles and ConfigErrors are
 * announced when they change; [Manage] takes effect at once. */
gboolean daemon_config_reload (Daemon *daemon, GError **error);
/* The boot plan's rows as computing it now would give them (dry run). */
GPtrArray *daemon_plan_preview (Daemon *daemon, GError **error);
/* Computes the boot plan and runs it in a worker (each write bounded by
 * TIMEOUT_MS, 0: the default); BootPlan and BootPlanState follow each
 * step, handlers->plan_finished is called when it ends. Busy when a plan
 * runs already or another call changes a device it names. */
gboolean daemon_plan_start (Daemon *daemon, guint timeout_ms, GError **error);
/* Tells systemd READY=1 (the first time) and the plan's state. */
void daemon_notify_ready (Daemon *daemon);
void daemon_plan_row_free (DaemonPlanRow *row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Daemon, daemon_free)
