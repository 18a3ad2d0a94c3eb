/* Names of NVIDIA vendor-VFIO type ids, learned from every creatable list
 * seen (see type-names.c), kept in the state directory when one is given.
 * Thread-safe: the daemon's main loop and the boot plan's worker share
 * one catalogue. */
#pragma once

#include <glib.h>

#include "host/model.h"

G_BEGIN_DECLS

typedef struct _GvVgpuTypeNames GvVgpuTypeNames;

/* Reads STATE_DIR/vgpu-types (STATE_DIR NULL: a catalogue that is not kept). */
GvVgpuTypeNames *gv_vgpu_type_names_new (const char *state_dir);
void gv_vgpu_type_names_free (GvVgpuTypeNames *names);

void gv_vgpu_type_names_learn (GvVgpuTypeNames *names, guint id, const char *name);
/* Every type the creatable lists of PF's VFs show now (reads sysfs below ROOT). */
void gv_vgpu_type_names_learn_family (GvVgpuTypeNames *names, const char *root, const char *pf);
/* Every type the creatable lists of HOST's model show. */
/* Every type VENDOR (may be NULL) lists. */
void gv_vgpu_type_names_learn_vendor (GvVgpuTypeNames *names, const GvHostVendorVfio *vendor);
void gv_vgpu_type_names_learn_host (GvVgpuTypeNames *names, GvHost *host);

/* The name of type ID (valid for the life of the process), or NULL. */
const char *gv_vgpu_type_names_lookup (GvVgpuTypeNames *names, guint id);
/* The id WANTED names (an id, a name or a short name), or 0. A number is
 * taken as an id even when no list showed it. */
guint gv_vgpu_type_names_resolve (GvVgpuTypeNames *names, const char *wanted);
/* Whether WANTED names a type the catalogue knows. */
gboolean gv_vgpu_type_names_knows (GvVgpuTypeNames *names, const char *wanted);
/* The framebuffer (MiB) of the largest type of MODEL ("L40S") known; 0
 * when none is. */
guint gv_vgpu_type_names_largest (GvVgpuTypeNames *names, const char *model);
/* "NVIDIA L40S-1B (1153), NVIDIA L40S-2B (1154)", by id, or "none". */
char *gv_vgpu_type_names_to_text (GvVgpuTypeNames *names);

/* Writes what was learned (durably) when anything was. */
void gv_vgpu_type_names_save (GvVgpuTypeNames *names);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvVgpuTypeNames, gv_vgpu_type_names_free)

G_END_DECLS
