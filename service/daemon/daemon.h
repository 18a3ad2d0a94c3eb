/* The daemon's state: the event loop, the bus, the host model and what has
 * been announced on the bus. The bus layer (bus-*.c) reads it. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "bus/polkit.h"
#include "host/model.h"
#include "daemon/main-queue.h"
#include "config/config.h"
#include "passthrough/passthrough.h"

typedef struct {
  sd_event *event;
  sd_bus *bus;
  GvHost *host;
  GpuvirtPolkit *polkit;
  char *root;
  gboolean interrupt_remapping;
  sd_device_monitor *monitor;
  sd_event_source *uevent_flush;   /* batches a burst of uevents into one refresh */
  GHashTable *uevent_bdfs;         /* BDFs reported since the last flush */
  gboolean uevent_mdevs;
  GHashTable *published;           /* BDF -> interfaces announced (GPUVIRT_IFACE_* bits) */
  GHashTable *published_mdevs;     /* UUIDs announced */

  /* passthrough */
  char *state_dir;
  gboolean read_only;              /* serving this machine for reading only (tests) */
  GvJournal *records;
  MainQueue *queue;                /* worker threads -> main loop */
  MainQueue *vgpu_queue;           /* SR-IOV and vGPU workers -> main loop (bus-vgpu-op.c) */
  GPtrArray *stuck_ops;
  GHashTable *vendor_type_names;   /* vendor-VFIO type id -> name, as the VFs' lists showed them
                                    * (a full GPU lists none, yet its VFs' types need names) */            /* GStrv: what a stuck SR-IOV/vGPU write keeps busy */
  GHashTable *op_state;            /* BDF -> Device.State while it moves, or "stuck" */
  GHashTable *op_message;          /* BDF -> Device.StateMessage */
  GHashTable *busy;                /* BDF -> the operation moving it */

  /* configuration and boot plan (daemon-config.c, bus-config.c) */
  char *config_file;               /* the main file */
  char *config_dropins;            /* its conf.d/ */
  GvConfig *config;                /* the last valid configuration read; never NULL */
  GPtrArray *config_problems;      /* GvConfigProblem of the last read: ConfigErrors */
  GPtrArray *plan_rows;            /* DaemonPlanRow: BootPlan as the bus shows it */
  const char *plan_state;          /* BootPlanState */
  GvConfigPlan *plan;                /* the plan running, owned by its worker until it ends */
  GPtrArray *plan_waiters;         /* ApplyConfig/SaveConfig calls answered when the plan ends */
  GStrv plan_busy;                 /* what the running plan marked busy */
  MainQueue *plan_queue;           /* the plan's worker -> main loop */
  gboolean ready_sent;             /* READY=1 told to systemd (after the plan at start) */

  /* holders: one /proc scan serves every object for a moment */
  GPtrArray *holders;              /* GvHostHolder of every function's nodes */
  gint64 holders_at;               /* monotonic µs of that scan */
} Daemon;

enum {
  GPUVIRT_IFACE_DEVICE = 1 << 0,
  GPUVIRT_IFACE_SRIOV = 1 << 1,
  GPUVIRT_IFACE_VGPU = 1 << 2,
};

Daemon *daemon_new (sd_event *event, sd_bus *bus, const char *root, const char *state_dir, gboolean read_only,
                    GError **error);
void daemon_free (Daemon *daemon);

/* Which interfaces a function's object carries. */
guint daemon_device_interfaces (GvHostDevice *device);
/* Re-reads everything (Refresh) or the given functions (uevents), then
 * announces what changed on the bus. */
int daemon_rescan (Daemon *daemon, GError **error);
int daemon_refresh_functions (Daemon *daemon, const char *const *bdfs, gboolean mdevs, GError **error);
/* Announces objects present at start. */
void daemon_publish_all (Daemon *daemon);

/* Device.State as the bus shows it: an operation's override, else sysfs. */
const char *daemon_device_state (Daemon *daemon, GvHostDevice *device);
/* Announces State and StateMessage of BDF. */
void daemon_emit_state (Daemon *daemon, const char *bdf);
/* The processes holding BDF's nodes (borrowed GvHostHolder pointers, valid
 * until the next call): all functions' nodes are scanned in one pass of
 * /proc, reused for a moment, so GetManagedObjects costs one scan. */
GPtrArray *daemon_holders (Daemon *daemon, const char *bdf, GError **error);
/* Puts back transactions a killed daemon left unfinished (at start). */
void daemon_recover (Daemon *daemon);

/* Registers the vtables, enumerators and the object manager. */
int bus_manager_register (Daemon *daemon);
int bus_device_register (Daemon *daemon);
int bus_mdev_register (Daemon *daemon);
/* Listens to kernel uevents (only on a real root). */
int daemon_uevents_start (Daemon *daemon);

/* One row of BootPlan, kept by the main loop while the plan's worker
 * owns the plan itself. */
typedef struct {
  char *phase, *device, *action, *status, *message;
} DaemonPlanRow;

/* Reads the configuration files again (start, SIGHUP, ReloadConfig,
 * after SaveConfig or a persist edit). Files with problems are not taken:
 * the previous configuration stays, ConfigErrors lists them, and FALSE
 * with GV_ERROR_CONFIG_INVALID. ConfigFiles and ConfigErrors are
 * announced when they change; [Manage] takes effect at once. */
gboolean daemon_config_reload (Daemon *daemon, GError **error);
/* Computes the boot plan and, unless DRY_RUN, runs it in a worker (each
 * write bounded by TIMEOUT_MS, 0: the default)
 * (BootPlan and BootPlanState follow each step). REQUEST (may be NULL: the
 * plan at start) is answered with the plan's rows when it ends (at once
 * for a dry run). Busy when a plan runs already. */
int daemon_plan_start (Daemon *daemon, sd_bus_message *request, gboolean dry_run, guint timeout_ms,
                       sd_bus_error *error);
/* Tells systemd READY=1 (the first time) and the plan's state. */
void daemon_notify_ready (Daemon *daemon);
/* Runs on the main loop for each report of the plan's worker. */
void daemon_plan_queue_item (gpointer item, gpointer user_data);
/* Appends BootPlan's rows, a(sssss). */
int daemon_append_plan_rows (Daemon *daemon, sd_bus_message *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Daemon, daemon_free)
