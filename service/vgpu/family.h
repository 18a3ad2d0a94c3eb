/* Crash safety for SR-IOV and vGPU operations, on the passthrough
 * engine's journal (GvJournal: same directory, same durable writes, one
 * recovery at start).
 *
 * Every operation of the vGPU engine changes one GPU's family: its PF's
 * sriov_numvfs, the vendor-VFIO types of its VFs, and the mdevs made on
 * the PF or its VFs. Before its first write an operation journals the
 * state the family must be brought back to should the daemon die before
 * it ends: for a change that adds (enable VFs, set a type, create an mdev
 * or vGPUs, a boot plan step) the state before it (undo); for one that
 * takes away (release, remove, disable) the state it aims at (complete).
 * Either way recovery only takes away: it removes mdevs and releases
 * types the target lacks, then sets sriov_numvfs to the target's count.
 * An mdev or VF whose VFIO node a process holds is never taken from it
 * (a VM runs on it); it is left and reported.
 *
 * One exception keeps what the kernel did: a journal of an SR-IOV count
 * names the count asked for (WantedNumVfs). Enabling many VFs can outlive
 * the call's bound, or the daemon; when recovery finds that count there
 * with its VFs and nothing else added, the kernel completed what was
 * asked, and it is kept. Every recovery says what it did and why.
 *
 *   [Transaction]
 *   Kind=vgpu-family        Subject=0000:41:00.0 (the PF)
 *   Operation=sriov         what was under way (free text for messages)
 *   NumVfs=0
 *   WantedNumVfs=127        only when the operation sets a count
 *   VfTypes=0000:41:00.4=1163;   VFs with a type (others: none)
 *   Mdevs=5b6c0f1e-…;            mdevs on the PF or its VFs
 */
#pragma once

#include <glib.h>

#include "journal/journal.h"
#include "vgpu/vgpu.h"

G_BEGIN_DECLS

#define GV_VGPU_JOURNAL_KIND "vgpu-family"

/* What one GPU's family holds. */
typedef struct {
  char *gpu;            /* the PF */
  guint num_vfs;        /* its sriov_numvfs (0 without SR-IOV) */
  GHashTable *vf_types; /* VF BDF -> vendor-VFIO type id (GUINT_TO_POINTER), only VFs with a type */
  GHashTable *mdevs;    /* UUIDs of the mdevs whose parent is the PF or one of its VFs (a set) */
} GvVgpuFamily;

/* Reads GPU's family below ROOT (GPU may be a VF: its PF's family is
 * read). NULL when GPU is not there. */
GvVgpuFamily *gv_vgpu_family_read (const char *root, const char *gpu, GError **error);
void gv_vgpu_family_free (GvVgpuFamily *family);

/* Journals TARGET as where recovery takes the family; OPERATION says what
 * runs, for messages; WANTED_NUM_VFS the count an SR-IOV operation asks
 * for (kept if found complete, see above), or -1. An older unfinished
 * journal of the same GPU is superseded. Returns the journal's id. */
char *gv_vgpu_journal_begin (GvJournal *records, const char *operation, const GvVgpuFamily *target,
                             gint wanted_num_vfs, GError **error);
/* The operation ended (succeeded, or failed and undid itself). */
gboolean gv_vgpu_journal_end (GvJournal *records, const char *id, GError **error);

/* Takes TARGET's family to TARGET by taking away (see above). REPORT (may
 * be NULL) gets "; "-separated notes of what was done and what was left
 * in use. FALSE (KERNEL or STUCK) when a write failed. */
gboolean gv_vgpu_family_restore (const GvVgpuContext *ctx, const GvVgpuFamily *target, GString *report,
                                 GError **error);

/* Settles journal ID now, when the write an operation left pending has
 * returned: KEEP (the kernel completed what the operation asked) closes
 * it; otherwise its family is restored to its target first. REPORT gets
 * what was done. FALSE (the journal stays for the next start) when the
 * restore failed. */
gboolean gv_vgpu_journal_settle (GvJournal *records, const GvVgpuContext *ctx, const char *id, gboolean keep,
                                 GString *report, GError **error);

/* At start: restores the family of every unfinished vgpu-family journal
 * and removes the journal (kept when a write failed). RESULTS (may be
 * NULL) gets a line per journal, e.g. "0000:81:00.0 (set-num-vfs
 * interrupted): undone: VFs 4 -> 0", or "...: the kernel had completed it:
 * 127 VFs kept". */
gboolean gv_vgpu_journal_recover (GvJournal *records, const GvVgpuContext *ctx, GPtrArray **results,
                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvVgpuFamily, gv_vgpu_family_free)

G_END_DECLS
