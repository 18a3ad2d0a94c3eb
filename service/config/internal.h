/* Internals shared by the configuration's files (config-*.c). Not part of
 * the API: the daemon uses config.h only. */
#pragma once

#include <glib.h>

#include "config/config.h"

G_BEGIN_DECLS

/* ---- config-parse.c: the text, line by line ---- */

/* One "Key=value" line. */
typedef struct {
  char *key;      /* as written, trimmed */
  char *raw;      /* the value as written, trimmed (escapes not resolved) */
  guint line;
} CfgEntry;

/* One "[name]" line and the entries below it. */
typedef struct {
  char *name;     /* as written between the brackets */
  guint line;
  GPtrArray *entries; /* CfgEntry */
} CfgGroup;

void cfg_group_free (CfgGroup *group);

/* Appends a problem to PROBLEMS (GvConfigProblem). */
void cfg_problem_add (GPtrArray *problems, const char *file, guint line, const char *key, gboolean host,
                      const char *format, ...) G_GNUC_PRINTF (6, 7);
GPtrArray *cfg_problems_new (void);

/* Splits TEXT into groups, reporting lines that are neither a group, a
 * key nor a comment, keys outside any group, and text that is not UTF-8.
 * FILE names the source in problems (NULL: the checked text). */
GPtrArray *cfg_scan (const char *text, const char *file, GPtrArray *problems);

/* Values. Each returns FALSE with *WHY (free it) saying what is wrong. */
gboolean cfg_parse_string (const char *raw, char **out, char **why);
/* A ';'-separated list, items trimmed, empty items dropped. */
gboolean cfg_parse_list (const char *raw, GStrv *out, char **why);
gboolean cfg_parse_bool (const char *raw, gboolean *out, char **why);
gboolean cfg_parse_count (const char *raw, guint min, guint max, guint *out, char **why);
/* "10de:26b9" (either case) */
gboolean cfg_parse_id (const char *raw, guint16 *vendor, guint16 *device, char **why);
/* "0000:41:00.0" or "41:00.0", normalized to the full lower-case form; NULL otherwise */
char *cfg_normalize_bdf (const char *text);
/* A canonical UUID, lower case; NULL otherwise */
char *cfg_normalize_uuid (const char *text);

/* " (did you mean “NumVfs”?)" when a word of CANDIDATES is close to
 * WORD, else "". */
char *cfg_suggest (const char *word, const char *const *candidates);

/* ---- config-load.c: sources merged into a GvConfig ---- */

typedef struct {
  char *file;   /* NULL: the text under check */
  char *text;
} CfgSource;

void cfg_source_free (CfgSource *source);

/* The drop-ins of DIR (*.conf, sorted), read; unreadable ones are problems. */
void cfg_add_dropins (GPtrArray *sources, const char *dir, GPtrArray *problems);

/* Merges SOURCES in order into a configuration, every problem of the
 * text and of the merged result in PROBLEMS. Never NULL; with problems
 * it holds what could be read. */
GvConfig *cfg_build (GPtrArray *sources, GPtrArray *problems);

/* Where a value was set (file NULL for the checked text). */
typedef struct {
  const char *file;
  guint line;
  const char *group_written;  /* the group's name as written there */
} CfgOrigin;

/* Canonical group names: "Manage", "Device 0000:41:00.0", "Mdev <uuid>". */
char *cfg_device_group (const char *bdf);
char *cfg_mdev_group (const char *uuid);
/* KEY "" is the group line. NULL when nothing set it. */
const CfgOrigin *cfg_origin (GvConfig *config, const char *group, const char *key);
/* "Device 0000:41:00.0/NumVfs" as written where it was set. */
char *cfg_origin_key (GvConfig *config, const char *group, const char *key);

/* ---- config-host.c: the configuration against a host ---- */

/* What the host has at a configured address, or will have once the
 * configuration's SR-IOV steps ran. */
typedef enum {
  CFG_AT_PRESENT,     /* there now, with the configured vendor:device */
  CFG_AT_REPLACED,    /* there now with another vendor:device */
  CFG_AT_FUTURE_VF,   /* a VF the configured NumVfs of its PF creates (or re-creates) */
  CFG_AT_DROPPED_VF,  /* a VF now, but its PF's configured NumVfs leaves it out */
  CFG_AT_MISSING,     /* none, and no configured PF makes it */
} CfgAt;

typedef struct {
  CfgAt at;
  GvDevice *device;        /* borrowed from the host; NULL when not there now */
  const GvConfigDevice *pf;/* FUTURE_VF, DROPPED_VF: the configured PF */
  guint16 vendor_id;       /* found (PRESENT, REPLACED) or expected from the PF (FUTURE_VF) */
  guint16 device_id;
  char *message;           /* REPLACED, DROPPED_VF, MISSING: what is wrong; a FUTURE_VF whose PF
                            * makes VFs of another vendor:device too */
} CfgLookup;

void cfg_lookup_clear (CfgLookup *lookup);
/* BDF as configured with VENDOR:DEVICE. ROLE ("", "parent of mdev X")
 * goes into messages. */
void cfg_lookup (GvConfig *config, GvHost *host, const char *bdf, guint16 vendor, guint16 device, CfgLookup *out);

/* The VFs PF will have with COUNT VFs, from its sriov_offset and
 * sriov_stride (NULL when they cannot be read). */
GStrv cfg_future_vfs (const char *root, const char *pf, guint count);

/* "10de:26b9" */
char *cfg_id_text (guint16 vendor, guint16 device);

/* ---- config-types.c: names of vendor-VFIO type ids ---- */

typedef struct _CfgTypeNames CfgTypeNames;

/* Reads STATE_DIR/vgpu-types (STATE_DIR NULL: a catalogue that is not kept). */
CfgTypeNames *cfg_type_names_open (const char *state_dir);
void cfg_type_names_free (CfgTypeNames *names);
/* Learns every type the creatable lists of VF's GPU show now (reads sysfs). */
void cfg_type_names_learn_family (CfgTypeNames *names, const char *root, const char *pf);
void cfg_type_names_learn (CfgTypeNames *names, guint id, const char *name);
const char *cfg_type_names_lookup (CfgTypeNames *names, guint id);
/* The id WANTED names (an id, a name or a short name), or 0. */
guint cfg_type_names_resolve (CfgTypeNames *names, const char *wanted);
/* Writes what was learned (durably) when anything was. */
void cfg_type_names_save (CfgTypeNames *names);

/* ---- config-plan.c, config-run.c: the boot plan ---- */

typedef enum {
  STEP_BIND,      /* passthrough: a GPU with its companions to vfio-pci */
  STEP_NUM_VFS,   /* sriov: sriov_numvfs of a PF */
  STEP_VF_TYPE,   /* vgpu: current_vgpu_type of a VF */
  STEP_MDEV,      /* mdev: an mdev by UUID */
  STEP_COUNT,     /* vgpu: so many vGPUs of a type on a GPU */
} StepKind;

typedef struct {
  GvBootStep pub;
  StepKind kind;
  int depends;             /* the step it needs (an SR-IOV step making its VF), or -1 */
  guint16 vendor_id;       /* expected at pub.device, checked again when the step runs */
  guint16 device_id;
  char *gpu;               /* the PF whose family the step changes (journaled); NULL for BIND */
  GvPlan *pt;              /* BIND: planned on the host's thread; NULL for a VF its
                            * SR-IOV step makes, planned when the step runs */
  guint count;             /* NUM_VFS: VFs; COUNT: vGPUs wanted */
  char *type;              /* VF_TYPE, MDEV, COUNT: as configured */
  char *uuid;              /* MDEV */
  GvVgpuFramework framework; /* COUNT: the GPU's at compute time */
} BootStep;

struct _GvBootPlan {
  char *root;
  GPtrArray *steps;        /* BootStep */
  GvConfig *config;        /* its [Manage] group, for binds planned while running */
};

/* Replaces STEP's status and message (MESSAGE is taken). */
void cfg_step_set (BootStep *step, GvBootStepStatus status, char *message);
/* "step 3 (sriov 0000:81:00.0: enable 4 VFs)" */
char *cfg_step_name (GvBootPlan *plan, guint index);

/* vGPUs of WANTED on GPU's family now, read from ROOT: VFs carrying the
 * type (vendor-VFIO, WANTED resolved by NAMES) and mdevs of it on the PF
 * or its VFs. *UNKNOWN gets those whose type cannot be told apart. */
guint cfg_count_vgpus (const char *root, const char *gpu, const char *wanted, CfgTypeNames *names, guint *unknown);

/* The vendor:device at BDF now; FALSE when it is not there. */
gboolean cfg_read_id (const char *root, const char *bdf, guint16 *vendor, guint16 *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfgGroup, cfg_group_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfgSource, cfg_source_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CfgTypeNames, cfg_type_names_free)

G_END_DECLS
