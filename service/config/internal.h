/* Internals shared by the configuration's files (config/). Not part of
 * the API: the daemon uses config.h only. */
#pragma once

#include <glib.h>

#include "config/config.h"
#include "vgpu/type-names.h"

G_BEGIN_DECLS

/* ---- parse.c: the text, line by line ---- */

/* One "Key=value" line. */
typedef struct {
  char *key;      /* as written, trimmed */
  char *raw;      /* the value as written, trimmed (escapes not resolved) */
  guint line;
} GvConfigEntry;

/* One "[name]" line and the entries below it. */
typedef struct {
  char *name;     /* as written between the brackets */
  guint line;
  GPtrArray *entries; /* GvConfigEntry */
} GvConfigGroup;

void gv_config_group_free (GvConfigGroup *group);

/* Appends a problem to PROBLEMS (GvConfigProblem). */
void gv_config_problem_add (GPtrArray *problems, const char *file, guint line, const char *key, gboolean host,
                      const char *format, ...) G_GNUC_PRINTF (6, 7);
GPtrArray *gv_config_problems_new (void);

/* Splits TEXT into groups, reporting lines that are neither a group, a
 * key nor a comment, keys outside any group, and text that is not UTF-8.
 * FILE names the source in problems (NULL: the checked text). */
GPtrArray *gv_config_scan (const char *text, const char *file, GPtrArray *problems);

/* Values. Each returns FALSE with *WHY (free it) saying what is wrong. */
gboolean gv_config_parse_string (const char *raw, char **out, char **why);
/* A ';'-separated list, items trimmed, empty items dropped. */
gboolean gv_config_parse_list (const char *raw, GStrv *out, char **why);
gboolean gv_config_parse_bool (const char *raw, gboolean *out, char **why);
gboolean gv_config_parse_count (const char *raw, guint min, guint max, guint *out, char **why);
/* "10de:26b9" (either case) */
gboolean gv_config_parse_id (const char *raw, guint16 *vendor, guint16 *device, char **why);
/* A canonical UUID, lower case; NULL otherwise */
char *gv_config_normalize_uuid (const char *text);

/* " (did you mean “NumVfs”?)" when a word of CANDIDATES is close to
 * WORD, else "". */
char *gv_config_suggest (const char *word, const char *const *candidates);

/* ---- load.c: sources merged into a GvConfig ---- */

typedef struct {
  char *file;   /* NULL: the text under check */
  char *text;
} GvConfigSource;

void gv_config_source_free (GvConfigSource *source);

/* The drop-ins of DIR (*.conf, sorted), read; unreadable ones are problems. */
void gv_config_add_dropins (GPtrArray *sources, const char *dir, GPtrArray *problems);

/* Merges SOURCES in order into a configuration, every problem of the
 * text and of the merged result in PROBLEMS. Never NULL; with problems
 * it holds what could be read. */
GvConfig *gv_config_build (GPtrArray *sources, GPtrArray *problems);

/* Where a value was set (file NULL for the checked text). */
typedef struct {
  const char *file;
  guint line;
  const char *group_written;  /* the group's name as written there */
} GvConfigOrigin;

/* Canonical group names: "Manage", "Device 0000:41:00.0", "Mdev <uuid>". */
char *gv_config_device_group (const char *bdf);
char *gv_config_mdev_group (const char *uuid);
/* KEY "" is the group line. NULL when nothing set it. */
const GvConfigOrigin *gv_config_origin (GvConfig *config, const char *group, const char *key);
/* "Device 0000:41:00.0/NumVfs" as written where it was set. */
char *gv_config_origin_key (GvConfig *config, const char *group, const char *key);

/* ---- host.c: the configuration against a host ---- */

/* What the host has at a configured address, or will have once the
 * configuration's SR-IOV steps ran. */
typedef enum {
  GV_CONFIG_AT_PRESENT,     /* there now, with the configured vendor:device */
  GV_CONFIG_AT_REPLACED,    /* there now with another vendor:device */
  GV_CONFIG_AT_FUTURE_VF,   /* a VF the configured NumVfs of its PF creates (or re-creates) */
  GV_CONFIG_AT_DROPPED_VF,  /* a VF now, but its PF's configured NumVfs leaves it out */
  GV_CONFIG_AT_MISSING,     /* none, and no configured PF makes it */
} GvConfigAt;

typedef struct {
  GvConfigAt at;
  GvHostDevice *device;        /* borrowed from the host; NULL when not there now */
  const GvConfigDevice *pf;/* FUTURE_VF, DROPPED_VF: the configured PF */
  guint16 vendor_id;       /* found (PRESENT, REPLACED) or expected from the PF (FUTURE_VF) */
  guint16 device_id;
  char *message;           /* REPLACED, DROPPED_VF, MISSING: what is wrong; a FUTURE_VF whose PF
                            * makes VFs of another vendor:device too */
} GvConfigLookup;

void gv_config_lookup_clear (GvConfigLookup *lookup);
/* BDF as configured with VENDOR:DEVICE. ROLE ("", "parent of mdev X")
 * goes into messages. */
void gv_config_lookup_address (GvConfig *config, GvHost *host, const char *bdf, guint16 vendor, guint16 device, GvConfigLookup *out);

/* The VFs PF will have with COUNT VFs, from its sriov_offset and
 * sriov_stride (NULL when they cannot be read). */
GStrv gv_config_future_vfs (const char *root, const char *pf, guint count);

/* "10de:26b9" */
char *gv_config_id_text (guint16 vendor, guint16 device);

/* ---- plan.c, run.c: the boot plan ---- */

typedef enum {
  GV_CONFIG_DO_BIND,      /* passthrough: a GPU with its companions to vfio-pci */
  GV_CONFIG_DO_NUM_VFS,   /* sriov: sriov_numvfs of a PF */
  GV_CONFIG_DO_VF_TYPE,   /* vgpu: current_vgpu_type of a VF */
  GV_CONFIG_DO_MDEV,      /* mdev: an mdev by UUID */
  GV_CONFIG_DO_COUNT,     /* vgpu: so many vGPUs of a type on a GPU */
  GV_CONFIG_DO_MIG_MODE,  /* mig-mode: MIG mode of a GPU */
  GV_CONFIG_DO_MIG,       /* mig: a GPU's GPU instances */
} GvConfigStepKind;

typedef struct {
  GvConfigStep pub;
  GvConfigStepKind kind;
  int depends;             /* the step it needs (an SR-IOV step making its VF), or -1 */
  int depends_mig;         /* a second one: the MIG step its GPU instance needs, or -1 */
  guint16 vendor_id;       /* expected at pub.device, checked again when the step runs */
  guint16 device_id;
  char *gpu;               /* the PF whose family the step changes (journaled); NULL for BIND */
  GvPassthroughPlan *pt;              /* BIND: planned on the host's thread; NULL for a VF its
                            * SR-IOV step makes, planned when the step runs */
  guint count;             /* NUM_VFS: VFs; COUNT: vGPUs wanted */
  char *type;              /* VF_TYPE, MDEV, COUNT: as configured */
  char *uuid;              /* MDEV */
  GvHostFramework framework; /* COUNT: the GPU's at compute time */
  gboolean flag;           /* MIG_MODE: on; MIG: with compute instances */
  GPtrArray *wants;        /* MIG: GvMigWant (borrowed from the configuration, which the plan holds) */
  char *mig_profile;       /* VF_TYPE, MDEV, COUNT: the GPU instance profile a MIG-backed type needs */
} GvConfigPlanStep;

struct _GvConfigPlan {
  char *root;
  GPtrArray *steps;        /* GvConfigPlanStep */
  GvConfig *config;        /* its [Manage] group, for binds planned while running */
};

/* Replaces STEP's status and message (MESSAGE is taken). */
void gv_config_step_set (GvConfigPlanStep *step, GvConfigStepStatus status, char *message);
/* "step 3 (sriov 0000:81:00.0: enable 4 VFs)" */
char *gv_config_step_name (GvConfigPlan *plan, guint index);

/* vGPUs of WANTED on GPU's family now, read from ROOT: VFs carrying the
 * type (vendor-VFIO, WANTED resolved by NAMES) and mdevs of it on the PF
 * or its VFs. *UNKNOWN gets those whose type cannot be told apart. */
guint gv_config_count_vgpus (const char *root, const char *gpu, const char *wanted, GvVgpuTypeNames *names, guint *unknown);

/* The vendor:device at BDF now; FALSE when it is not there. */
gboolean gv_config_read_id (const char *root, const char *bdf, guint16 *vendor, guint16 *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvConfigGroup, gv_config_group_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvConfigSource, gv_config_source_free)

G_END_DECLS
