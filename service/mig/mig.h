/* MIG (Multi-Instance GPU) through NVIDIA's management library: the MIG
 * mode of a GPU, its GPU instance profiles and placements, its GPU and
 * compute instances, and the changes to them. No D-Bus here.
 *
 * NVML (libnvidia-ml.so.1) is opened at run time (nvml.c; nothing links
 * against it): without it, MIG is unavailable with the reason, and the
 * rest of gpuvirt works as before. Every NVML call runs in a thread of its
 * own task and is bounded (timeout_ms): a call that does not return is
 * abandoned (STUCK), and until it returns the library is not called again.
 * Callers block: the daemon calls from worker threads (and at start,
 * before it serves).
 *
 * A MIG mode change becomes current on a reset of the GPU. gpuvirtd makes
 * that reset itself through the function's sysfs reset file when nothing
 * holds the GPU (gv_mig_check_reset()), or leaves the mode pending until
 * the next reset or boot, and says so.
 *
 * Changes of instances are transactions: journaled (kind "mig-layout")
 * before the first NVML call that changes something, undone on failure,
 * and undone at the next start when gpuvirtd was killed meanwhile
 * (gv_mig_journal_recover()).
 *
 * What the NVML calls do is proven only against the test NVML of
 * tests/nvml (a simulated driver), never against NVIDIA's. */
#pragma once

#include <glib.h>

#include "common/gv-error.h"

#include "host/model.h"
#include "journal/journal.h"

G_BEGIN_DECLS

/* ---- the library ---- */

#define GV_MIG_NVML_LIBRARY "libnvidia-ml.so.1"
/* For tests only: the path of another library to open instead (the test
 * NVML). Read with secure_getenv(), so ignored in a privileged process
 * started by an unprivileged one. */
#define GV_MIG_NVML_LIBRARY_ENV "GPUVIRT_NVML_LIBRARY"

typedef struct _GvMigNvml GvMigNvml;

/* dlopen()s the library and initialises it (each call bounded by
 * TIMEOUT_MS, 0: 10 s). NULL with NOT_SUPPORTED when it is missing, lacks
 * an entry point or cannot initialise (the message says which: the reason
 * MIG is unavailable), STUCK when nvmlInit does not return. */
GvMigNvml *gv_mig_nvml_open (guint timeout_ms, GError **error);
/* nvmlShutdown, unless a call is still stuck. The library stays loaded. */
void gv_mig_nvml_close (GvMigNvml *nvml);
/* "NVML 12.550.54.14, driver 550.54.14 (libnvidia-ml.so.1)" */
const char *gv_mig_nvml_describe (GvMigNvml *nvml);
/* A call has not returned (the library is not called until it does). */
gboolean gv_mig_nvml_stuck (GvMigNvml *nvml);

/* ---- what a GPU has ---- */

typedef struct {
  guint start;  /* the first memory slice */
  guint size;   /* memory slices */
} GvMigPlacement;

/* A GPU instance profile, as NVML describes it (its names are NVIDIA's:
 * "1g.10gb", "1g.10gb+me", "7g.80gb"). */
typedef struct {
  guint index;             /* NVML_GPU_INSTANCE_PROFILE_* */
  guint id;                /* the profile id NVML uses elsewhere (19 for 1g.10gb on an H100) */
  char *name;
  guint slices;            /* compute slices */
  guint max;               /* instances of it the GPU can hold */
  guint free;              /* how many more fit now (0 while MIG mode is off) */
  guint64 memory_mb;
  guint multiprocessors, copy_engines, decoders, encoders, jpegs, ofas;
  GArray *placements;      /* GvMigPlacement: where it may go */
} GvMigProfile;

typedef struct {
  guint id;
  guint profile_id;        /* NVML_COMPUTE_INSTANCE_PROFILE_* id */
  guint start, size;       /* compute slices within the GPU instance */
} GvMigComputeInstance;

typedef struct {
  guint id;
  guint profile_id;
  char *profile;           /* the profile's name */
  GvMigPlacement placement;
  GArray *compute;         /* GvMigComputeInstance */
} GvMigInstance;

/* One MIG-capable GPU as NVML shows it now. */
typedef struct {
  char *bdf;
  char *name;              /* nvmlDeviceGetName: "NVIDIA H100 PCIe" */
  guint64 memory_mb;
  gboolean current;        /* MIG mode now */
  gboolean pending;        /* after the next reset */
  GPtrArray *profiles;     /* GvMigProfile, by index */
  GPtrArray *instances;    /* GvMigInstance, by id */
} GvMigGpu;

void gv_mig_gpu_free (GvMigGpu *gpu);
/* Reads BDF: NOT_SUPPORTED when it has no MIG (or NVML does not see it:
 * not on the nvidia driver), KERNEL naming the NVML call and its error,
 * STUCK. */
GvMigGpu *gv_mig_gpu_read (GvMigNvml *nvml, const char *bdf, guint timeout_ms, GError **error);
/* By name, case ignored ("1G.10GB"), or by profile id ("19"); NULL if none. */
const GvMigProfile *gv_mig_gpu_find_profile (const GvMigGpu *gpu, const char *name);
/* "1g.10gb, 1g.10gb+me, ..." for messages */
char *gv_mig_gpu_profile_names (const GvMigGpu *gpu);
/* Same state (mode, instances and free counts). */
gboolean gv_mig_gpu_equal (const GvMigGpu *a, const GvMigGpu *b);

/* The profile name NVIDIA derives from a GPU instance's memory (a share
 * of TOTAL_MB rounded up to eighths, times the GPU's size in GB) and the
 * profile index ("+me" and the like). */
char *gv_mig_profile_name (guint index, guint slices, guint64 memory_mb, guint64 total_mb);
/* The GPU instance profile a MIG-backed vGPU type runs on: "H100-1-10C"
 * and "NVIDIA H100-1-10C" give "1g.10gb", "A100-1-5CME" "1g.5gb+me"
 * (suffixes ME, NOME, MEALL, GFX as +me, -me, +me.all, +gfx); NULL for a
 * time-sliced type ("L40S-24Q"). */
char *gv_mig_profile_for_vgpu_type (const char *type);
/* "1g.10gb" and friends: a plausible profile name (digits g. digits gb
 * and an optional +me, -me, +me.all or +gfx), lower case in *NORMALIZED. */
gboolean gv_mig_profile_name_valid (const char *name, char **normalized);

/* ---- layouts ---- */

/* COUNT instances of PROFILE (a name). */
typedef struct {
  char *profile;
  guint count;
} GvMigWant;

void gv_mig_want_free (GvMigWant *want);
/* "1g.10gb:3;2g.20gb" (";" or ","; a missing count is 1): GvMigWant,
 * merged by profile in the order first named; NULL with *WHY. */
GPtrArray *gv_mig_wants_parse (const char *text, char **why);
/* "1g.10gb:3;2g.20gb:1", sorted by profile */
char *gv_mig_wants_to_string (GPtrArray *wants);

/* Where new instances go. */
typedef struct {
  guint profile_id;
  char *profile;
  GvMigPlacement placement;
} GvMigSlot;

void gv_mig_slot_clear (GvMigSlot *slot);
/* Places WANTS on GPU around the instances KEEP (GvMigInstance, may be
 * NULL): a GArray of GvMigSlot for the instances to make, in the order to
 * make them. NULL with NO_SUCH_TYPE (a profile the GPU lacks, naming
 * its profiles) or NO_CAPACITY (they do not fit, saying why). */
GArray *gv_mig_place (const GvMigGpu *gpu, GPtrArray *wants, GPtrArray *keep, GError **error);

/* ---- changes ---- */

typedef struct {
  GvMigNvml *nvml;
  const char *root;       /* for the sysfs reset (gv_sysfs_root_check) */
  GvJournal *journal;     /* may be NULL: changes are not journaled */
  guint timeout_ms;       /* each NVML call and sysfs write; 0 = 10 s */
} GvMigContext;

/* Why a reset of GPU now would take the GPU from someone: NULL when
 * nothing holds it, else HELD naming the holders (processes with its
 * /dev/nvidiaN or DRM nodes open, the nvidia_drm module), or IN_USE for
 * VFs and vGPUs. Read from HOST (fresh) and below its root. */
gboolean gv_mig_check_reset (GvHost *host, GvHostDevice *gpu, GError **error);

typedef struct {
  gboolean changed;       /* something was asked of NVML or the kernel */
  gboolean current;       /* the mode asked for is current now */
  gboolean reset;         /* the function was reset for it */
  char *message;          /* what happened, or that it is pending and why */
} GvMigModeOutcome;

void gv_mig_mode_outcome_clear (GvMigModeOutcome *outcome);
/* MIG mode ENABLE on BDF. Already current: nothing. Otherwise the mode is
 * set (pending) and, with RESET, the function is reset through sysfs (the
 * caller checked gv_mig_check_reset()) and the mode read again: KERNEL
 * when it is still not current. Without RESET it stays pending; so it
 * does when NVML reports the GPU busy (OUT says why). */
gboolean gv_mig_set_mode (const GvMigContext *ctx, const char *bdf, gboolean enable, gboolean reset,
                          GvMigModeOutcome *outcome, GError **error);

/* COUNT instances of PROFILE, placed together around the existing ones,
 * each with one compute instance over all its slices when COMPUTE. On any
 * failure those made are destroyed again (the message says so, or what
 * remains). *IDS (may be NULL) gets the new instances' ids. */
gboolean gv_mig_create (const GvMigContext *ctx, const char *bdf, const char *profile, guint count, gboolean compute,
                        GArray **ids, GError **error);
/* Destroys the instances IDS (N_IDS 0: all), compute instances first. An
 * instance a vGPU runs on is IN_USE (nothing destroyed). On failure those
 * destroyed are made again where they were. */
gboolean gv_mig_destroy (const GvMigContext *ctx, const char *bdf, const guint *ids, guint n_ids, GError **error);
/* Brings BDF's instances to WANTS: kept where they match, the others
 * destroyed, the missing ones made (with a compute instance when
 * COMPUTE). Checked to fit before anything changes; undone on failure.
 * *CHANGED says whether anything was. DONE (may be NULL) gets what was
 * done. */
gboolean gv_mig_apply (const GvMigContext *ctx, const char *bdf, GPtrArray *wants, gboolean compute,
                       gboolean *changed, GString *done, GError **error);

/* At start: puts every GPU a killed gpuvirtd left in the middle of a
 * change back to the instances it had before (journal "mig-layout"),
 * made again where they were if a reset took them meanwhile; with MIG
 * mode off by then, nothing is made. RESULTS (may be NULL) gets a line per
 * journal. Without NVML (CTX->nvml NULL) the journals stay. */
gboolean gv_mig_journal_recover (const GvMigContext *ctx, GPtrArray **results, GError **error);

#define GV_MIG_JOURNAL_KIND "mig-layout"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvMigGpu, gv_mig_gpu_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvMigWant, gv_mig_want_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GvMigModeOutcome, gv_mig_mode_outcome_clear)

G_END_DECLS
