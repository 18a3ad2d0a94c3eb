/* The state directory's records, shared by every kind of operation:
 *
 *  - originals: the driver and driver_override each function had before
 *    gpuvirt first changed it, so that a give-back returns it exactly;
 *  - journals: one file per operation under way, written before its first
 *    write and removed when it ends (succeeded, or failed and undone), so
 *    that the next start finds what a killed daemon left half done.
 *
 * Everything is written durably (temporary file, fsync, rename, fsync of
 * the directory): a power cut or SIGKILL leaves either the old or the new
 * file, never half of one. Thread-safe: passthrough transactions of
 * different IOMMU groups run in parallel threads. What a journal holds
 * and how it is recovered belongs to the engine that wrote it
 * (passthrough/recover.c, vgpu/family.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GvJournal GvJournal;

/* Opens STATE_DIR (created if missing, with its journal/). */
GvJournal *gv_journal_open (const char *state_dir, GError **error);
void gv_journal_free (GvJournal *records);

/* ---- originals ---- */

/* The driver and driver_override a function had before gpuvirt first
 * changed it ("" = none). FALSE when there is no record. */
gboolean gv_journal_lookup_original (GvJournal *records, const char *bdf, char **driver, char **override);
/* Records BDF's original unless it has one. *CREATED says whether this
 * call made it. Durable before it returns. */
gboolean gv_journal_remember_original (GvJournal *records, const char *bdf, const char *driver, const char *override,
                              gboolean *created, GError **error);
gboolean gv_journal_forget_original (GvJournal *records, const char *bdf, GError **error);

/* ---- journals of functions (passthrough) ---- */

/* One function of a journaled transaction: where recovery puts it. */
typedef struct {
  char *bdf;
  char *driver;    /* "" = leave it without a driver */
  char *override;  /* "" = none */
} GvJournalEntry;

void gv_journal_entry_free (GvJournalEntry *entry);

/* Writes a journal for a transaction about to make its first write
 * (OPERATION: its name, e.g. "bind-vfio"), and drops ENTRIES' BDFs from
 * older unfinished journals (the new transaction supersedes them).
 * Returns the journal's id. */
char *gv_journal_begin_functions (GvJournal *records, const char *operation, GPtrArray *entries, GError **error);
/* The entries of journal ID (GvJournalEntry), or NULL when unreadable. */
GPtrArray *gv_journal_read_functions (GvJournal *records, const char *id, GError **error);

/* ---- journals of any kind ---- */

/* Journals of other kinds share the directory, the durable writes and
 * the order of ids. Their [Transaction] group carries Kind= (a function
 * journal has none: GV_JOURNAL_KIND_FUNCTIONS) and Subject= (what the
 * operation changes, e.g. a GPU's PF). */
#define GV_JOURNAL_KIND_FUNCTIONS "functions"

/* Writes DATA (its groups as they are; [Transaction] gets Kind, Subject
 * and Pid) as a new journal, after removing older journals of the same
 * KIND and SUBJECT (the new operation supersedes them). Returns its id. */
char *gv_journal_begin (GvJournal *records, const char *kind, const char *subject, GKeyFile *data,
                                     GError **error);
/* The journal ID as written, or NULL when unreadable. */
GKeyFile *gv_journal_load (GvJournal *records, const char *id, GError **error);
/* The Kind= of journal ID (GV_JOURNAL_KIND_FUNCTIONS when it has none),
 * or NULL when unreadable. */
char *gv_journal_kind (GvJournal *records, const char *id);
/* The operation ended: its journal goes. */
gboolean gv_journal_end (GvJournal *records, const char *id, GError **error);
/* Ids of the journals on disk, sorted (oldest first). */
GStrv gv_journal_list (GvJournal *records);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvJournal, gv_journal_free)

G_END_DECLS
