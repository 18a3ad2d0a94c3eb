/* The configuration (desired state of the host) and its boot plan. No
 * D-Bus here: the bus layer wraps it (ConfigFiles, ConfigErrors,
 * BootPlan, BootPlanState, GetConfig, CheckConfig, SaveConfig,
 * ReloadConfig, ApplyConfig, the persist option, SIGHUP).
 *
 * The format is documented for users in data/CONFIGURATION.md: GKeyFile
 * text, the main file (/etc/gpuvirt/gpuvirt.conf) then the drop-ins of
 * conf.d/ next to it (*.conf, in lexical order); a later file's key
 * overrides an earlier one of the same group, and an empty value ("Key=")
 * resets what an earlier file set.
 *
 *   [Manage]                       extra functions gpuvirt may change
 *   Classes=0108;0200              PCI classes (2, 4 or 6 hex digits)
 *   Devices=0000:05:00.0           single functions
 *
 *   [Device 0000:41:00.0]          a PCI function by its address
 *   Id=10de:26b9                   required: the vendor:device expected there
 *   Passthrough=true               on vfio-pci with its companions
 *   NumVfs=4                       SR-IOV VFs enabled
 *   VgpuType=L40S-24Q              on a VF: the vendor-VFIO type it carries;
 *   VgpuCount=2                    with VgpuCount, on a GPU: that many vGPUs of it
 *   MigMode=true                   MIG mode of a GPU (through NVML)
 *   MigProfiles=1g.10gb:3;3g.40gb  its GPU instances (count 1 when not given)
 *
 *   [Mdev 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f]
 *   Parent=0000:67:00.4            the function it is made on
 *   ParentId=10de:2235             its vendor:device
 *   Type=nvidia-562                mdev type id or name
 *
 * Threads: a GvConfig is immutable once loaded and may be read from any
 * thread. A GvConfigPlan is computed on the thread that owns the GvHost,
 * then run in one worker thread; while it runs only the progress
 * callback may look at its steps. */
#pragma once

#include <glib.h>

#include "common/gv-error.h"

#include "host/model.h"
#include "mig/mig.h"
#include "passthrough/passthrough.h"
#include "vgpu/type-names.h"
#include "vgpu/vgpu.h"

G_BEGIN_DECLS

/* Default locations; a drop-in directory of NULL means conf.d/ next to
 * the main file. */
#define GV_CONFIG_MAIN_FILE "/etc/gpuvirt/gpuvirt.conf"
/* "/etc/gpuvirt/conf.d" for "/etc/gpuvirt/gpuvirt.conf" */
char *gv_config_default_dropin_dir (const char *main_file);

/* Files are refused above this size (the contract's limit for CheckConfig
 * and SaveConfig texts). */
#define GV_CONFIG_MAX_SIZE (1024 * 1024)

/* ---- problems ---- */

/* One problem, a row of ConfigErrors a(suss) (file, line, key, message)
 * or, for the text given to CheckConfig, of its a(uss). */
typedef struct {
  char *file;       /* the file's path; NULL for a text given to gv_config_check_text() */
  guint line;       /* 1-based; 0 for the whole file */
  char *key;        /* "Device 0000:41:00.0" or "Device 0000:41:00.0/NumVfs" as written; "" when none */
  char *message;    /* "NumVfs: “four” is not a number of VFs (0 to 65535)" */
  gboolean host;    /* found by comparing with the host (device missing or replaced), not in the text */
} GvConfigProblem;

void gv_config_problem_free (GvConfigProblem *problem);
/* "FILE:LINE: KEY: MESSAGE" lines, for logs and error messages; at most
 * MAX rows (0: all), then "and N more". */
char *gv_config_problems_to_text (GPtrArray *problems, guint max);

/* ---- the configuration ---- */

/* A [Device BDF] group as all files together set it. */
typedef struct {
  char *bdf;              /* full, lower case: "0000:41:00.0" */
  guint16 vendor_id;      /* Id= */
  guint16 device_id;
  gboolean passthrough;   /* Passthrough=true */
  gboolean has_num_vfs;   /* NumVfs= given */
  guint num_vfs;
  char *vgpu_type;        /* VgpuType=, NULL when not given */
  guint vgpu_count;       /* VgpuCount=, 0 when not given */
  gboolean has_mig_mode;  /* MigMode= given */
  gboolean mig_mode;
  GPtrArray *mig_profiles; /* MigProfiles= (GvMigWant, merged by profile), NULL when not given */
} GvConfigDevice;

/* A [Mdev UUID] group. */
typedef struct {
  char *uuid;             /* lower case */
  char *parent;           /* full BDF */
  guint16 parent_vendor_id;
  guint16 parent_device_id;
  char *type;             /* an mdev type id ("nvidia-562") or name ("A40-8Q") */
} GvConfigMdev;

typedef struct _GvConfig GvConfig;

/* Reads MAIN_FILE (missing: empty) and DROPIN_DIR/ *.conf (NULL: conf.d
 * next to MAIN_FILE; missing: none). *PROBLEMS (may be NULL) gets every
 * problem (GvConfigProblem), an empty array when there are none. A
 * configuration with a problem is never returned: NULL with
 * GV_ERROR_CONFIG_INVALID (the message names the first few), so the caller
 * keeps the one it had. */
GvConfig *gv_config_load (const char *main_file, const char *dropin_dir, GPtrArray **problems, GError **error);
/* An empty configuration (nothing managed beyond GPUs, nothing to do). */
GvConfig *gv_config_new_empty (void);
GvConfig *gv_config_ref (GvConfig *config);
void gv_config_unref (GvConfig *config);

/* The files read, in the order they apply (ConfigFiles): the main file
 * only if it exists. */
const char *const *gv_config_get_files (GvConfig *config);
/* GvConfigDevice sorted by BDF, GvConfigMdev sorted by UUID (borrowed). */
GPtrArray *gv_config_get_devices (GvConfig *config);
GPtrArray *gv_config_get_mdevs (GvConfig *config);
const GvConfigDevice *gv_config_lookup_device (GvConfig *config, const char *bdf);
const GvConfigMdev *gv_config_lookup_mdev (GvConfig *config, const char *uuid);
/* Something for a boot plan to do (BootPlanState "none" otherwise). */
gboolean gv_config_has_desired_state (GvConfig *config);
/* Where KEY ("" for the group line) of GROUP ("Device 0000:41:00.0") was
 * last set: FALSE when no file sets it. */
gboolean gv_config_get_origin (GvConfig *config, const char *group, const char *key, const char **file, guint *line);

/* The [Manage] group to HOST (gv_host_set_extra_managed); the empty
 * configuration clears what an earlier one added. */
void gv_config_apply_manage (GvConfig *config, GvHost *host);

/* CheckConfig: TEXT validated as the main file (DROPIN_DIR's files apply
 * after it). With HOST (may be NULL), devices and mdev parents the host
 * lacks, or finds with another vendor:device, are reported too (problems
 * with host TRUE), unless an SR-IOV PF of the configuration will create
 * them. Problems of TEXT have file NULL; those of drop-ins their path.
 * Never NULL. */
GPtrArray *gv_config_check_text (const char *text, const char *dropin_dir, GvHost *host);
/* The same host comparison for a loaded configuration (the daemon's
 * ConfigErrors may add them; doctor's config-device-moved/-missing). */
GPtrArray *gv_config_check_host (GvConfig *config, GvHost *host);

/* ---- editing the main file (the persist option, SaveConfig) ---- */

/* Edits keep the file's comments and layout: only the lines of the keys
 * changed are touched (a new key goes after its group's last one, a new
 * group at the end; a removed group takes the comment lines right above
 * it along). Every edit records Id= (or ParentId=) from the host, and a
 * group left with nothing but its Id= is removed. An edit of a key that a
 * drop-in sets fails with OVERRIDDEN (the main file would not decide). */
typedef struct _GvConfigEditor GvConfigEditor;

/* Reads MAIN_FILE (missing: empty; one with problems can be edited, but
 * is saved only once they are gone). DROPIN_DIR as for gv_config_load(). */
GvConfigEditor *gv_config_editor_new (const char *main_file, const char *dropin_dir, GError **error);
void gv_config_editor_free (GvConfigEditor *editor);

/* Passthrough=true, or (FALSE) the key removed: a device given back is no
 * longer managed by the file. */
gboolean gv_config_editor_set_passthrough (GvConfigEditor *editor, const char *bdf, guint16 vendor_id,
                                           guint16 device_id, gboolean passthrough, GError **error);
/* NumVfs=COUNT; 0 removes the key (a PF comes up without VFs). */
gboolean gv_config_editor_set_num_vfs (GvConfigEditor *editor, const char *pf, guint16 vendor_id,
                                       guint16 device_id, guint count, GError **error);
/* VgpuType= of a VF; NULL removes it (ReleaseType). */
gboolean gv_config_editor_set_vgpu_type (GvConfigEditor *editor, const char *vf, guint16 vendor_id,
                                         guint16 device_id, const char *type, GError **error);
/* MigMode= of a GPU: TRUE/FALSE; with SET FALSE the key is removed (and
 * MigProfiles= with it). */
gboolean gv_config_editor_set_mig_mode (GvConfigEditor *editor, const char *gpu, guint16 vendor_id,
                                        guint16 device_id, gboolean set, gboolean enabled, GError **error);
/* MigProfiles= of a GPU ("1g.10gb:3;3g.40gb:1"), with MigMode=true; NULL
 * or "" removes it. */
gboolean gv_config_editor_set_mig_profiles (GvConfigEditor *editor, const char *gpu, guint16 vendor_id,
                                            guint16 device_id, const char *profiles, GError **error);
/* VgpuType= and VgpuCount= of a GPU; COUNT 0 removes both. */
gboolean gv_config_editor_set_vgpu_count (GvConfigEditor *editor, const char *gpu, guint16 vendor_id,
                                          guint16 device_id, const char *type, guint count, GError **error);
/* [Mdev UUID] with Parent=, ParentId=, Type= (replacing one of that UUID). */
gboolean gv_config_editor_add_mdev (GvConfigEditor *editor, const char *uuid, const char *parent,
                                    guint16 parent_vendor_id, guint16 parent_device_id, const char *type,
                                    GError **error);
/* Removes [Mdev UUID]; one that is not there is no error. */
gboolean gv_config_editor_remove_mdev (GvConfigEditor *editor, const char *uuid, GError **error);

/* The text as it stands. */
char *gv_config_editor_get_text (GvConfigEditor *editor);
/* Validates the text (INVALID with the problems' text when it has any)
 * and writes it with gv_config_save_text(). */
gboolean gv_config_editor_save (GvConfigEditor *editor, GError **error);

/* Replaces PATH with TEXT atomically: a temporary file in PATH's
 * directory (created 0755 if missing), written, mode 0644, fsync, rename
 * over PATH, fsync of the directory. On failure (IO, naming the step and
 * errno) PATH is unchanged and the temporary file is gone. Does not
 * validate. */
gboolean gv_config_save_text (const char *path, const char *text, GError **error);

/* ---- the boot plan ---- */

typedef enum {
  GV_CONFIG_STEP_PENDING,
  GV_CONFIG_STEP_RUNNING,
  GV_CONFIG_STEP_DONE,
  GV_CONFIG_STEP_SKIPPED,   /* already in the configured state */
  GV_CONFIG_STEP_FAILED,
} GvConfigStepStatus;

/* GPUVIRT_STEP_* strings: "pending", "running", "done", "skipped", "failed" */
const char *gv_config_step_status_to_string (GvConfigStepStatus status);

/* One row of BootPlan (phase, device, action, status, message). */
typedef struct {
  const char *phase;          /* GPUVIRT_PHASE_*: "passthrough", "sriov", "vgpu", "mdev" */
  char *device;               /* the address the configuration names (an mdev's parent for "mdev") */
  char *action;               /* "bind vfio-pci", "enable 4 VFs", "set type 1163 (NVIDIA L40S-24Q)",
                               * "create mdev 5b6c0f1e-…", "create 2 vGPUs of GRID T4-2Q" */
  GvConfigStepStatus status;
  char *message;              /* why skipped or failed, or what was done; "" otherwise */
} GvConfigStep;

typedef struct _GvConfigPlan GvConfigPlan;

typedef struct {
  /* where type names of vendor-VFIO ids seen on this host are kept
   * (STATE_DIR/vgpu-types), so that a full GPU, whose VFs list no types,
   * still matches VgpuType= names; NULL: only what the host lists now */
  const char *state_dir;
  /* the catalogue to use (the daemon's); NULL: one read from STATE_DIR */
  GvVgpuTypeNames *type_names;
  /* MIG as NVML showed it (GPU BDF -> GvMigGpu; NULL: nothing known), and
   * why MIG is unavailable (NULL: it is available) */
  GHashTable *mig;
  const char *mig_unavailable;
} GvConfigPlanOptions;

/* Steps in the order they run: every passthrough step (a GPU with its
 * companions and IOMMU group; GvPlans are made here, as they need HOST),
 * then MIG modes, SR-IOV counts (which drop GPU instances), GPU instances
 * (MigProfiles), then VF types, mdevs, and vGPU counts (a MIG-backed
 * type needs its GPU instance). A GPU whose MIG layout cannot fit, or
 * whose MIG-backed vGPUs lack instances, gets every step failed before
 * anything is written to it. Each step
 * is "pending", "skipped" (already so: nothing will be written) or
 * "failed" with the reason (device missing, another vendor:device at the
 * address, refused by the planner, ...); a step whose device an SR-IOV
 * step creates depends on it. HOST must be fresh (rescanned). Never
 * NULL. With OPTIONS NULL: no state directory. */
GvConfigPlan *gv_config_plan_compute (GvConfig *config, GvHost *host, const GvConfigPlanOptions *options);
void gv_config_plan_free (GvConfigPlan *plan);

guint gv_config_plan_get_n_steps (GvConfigPlan *plan);
const GvConfigStep *gv_config_plan_get_step (GvConfigPlan *plan, guint index);
/* GPUVIRT_PLAN_*: "none" without steps, "running" or "pending" while a
 * step is, else "failed" when one failed, else "done". */
const char *gv_config_plan_get_state (GvConfigPlan *plan);
/* "0000:41:00.0 sriov enable 4 VFs: failed (…)" lines, for logs. */
char *gv_config_plan_to_text (GvConfigPlan *plan);

/* Called from the running thread each time a step changes status
 * (running, then done, skipped or failed). STEP is valid during the call. */
typedef void (*GvConfigProgressFunc) (guint index, const GvConfigStep *step, gpointer user_data);

typedef struct {
  const char *root;            /* as gv_host_get_root() of the computing host */
  GvJournal *records;          /* originals and the journal (passthrough and vGPU alike) */
  const char *state_dir;       /* as in GvConfigPlanOptions; may be NULL */
  GvVgpuTypeNames *type_names; /* as in GvConfigPlanOptions; may be NULL */
  guint timeout_ms;            /* each sysfs write; 0 = 10 s */
  guint appear_ms;             /* wait for new VFs and their vGPU files; 0 = timeout_ms */
  guint busy_retry_ms;         /* as in GvVgpuContext; 0 = default */
  guint busy_retry_every_ms;
  GvVgpuLateFunc late;         /* a stuck write's late return (may be NULL) */
  gpointer late_data;
  GvConfigProgressFunc progress; /* may be NULL */
  gpointer user_data;
  GvMigNvml *nvml;             /* NULL: MIG unavailable (MIG_UNAVAILABLE says why) */
  const char *mig_unavailable;
} GvConfigRunOptions;

/* Runs the pending steps in order, blocking (a worker thread; no GvHost
 * is touched). Each step is its own transaction: journaled before its
 * first write, and on failure what it did is undone. A step that needs a
 * failed one fails too, naming it; the others still run. Every step
 * re-reads sysfs first: one that finds its target reached is "skipped"
 * and writes nothing. TRUE when every step ended done or skipped; FALSE
 * (GV_ERROR_PLAN_FAILED: "N of M steps failed; first: …") otherwise. */
gboolean gv_config_plan_run (GvConfigPlan *plan, const GvConfigRunOptions *options, GError **error);

/* ---- crash recovery ---- */

/* At start, before serving: undoes every journaled operation a killed
 * daemon left unfinished, passthrough (gv_passthrough_recover) and SR-IOV/vGPU
 * (gv_vgpu_journal_recover) alike. The boot plan run afterwards then
 * completes the configured state. RESULTS (may be NULL) gets one line
 * per function or family put back. */
gboolean gv_config_recover (GvJournal *records, const char *root, GPtrArray **results, GError **error);
/* The same, MIG layouts included (after SR-IOV, which wipes GPU
 * instances), through NVML (NULL: MIG journals stay for a start that has
 * it). */
gboolean gv_config_recover_all (GvJournal *records, const char *root, GvMigNvml *nvml, GPtrArray **results,
                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvConfigProblem, gv_config_problem_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvConfig, gv_config_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvConfigEditor, gv_config_editor_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvConfigPlan, gv_config_plan_free)

G_END_DECLS
