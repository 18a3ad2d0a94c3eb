/* Internals shared by the passthrough engine's files (pt-*.c). Not part of
 * the API: the bus layer uses passthrough.h only. */
#pragma once

#include <glib.h>

#include "passthrough/passthrough.h"

G_BEGIN_DECLS

#define PT_DEFAULT_TIMEOUT_MS 10000

/* ---- pt-sysfs.c: paths, reads and the one write primitive ---- */

/* ROOT must be given. "/" is accepted only when written as "/": a prefix
 * that merely resolves to "/" ("/tmp/..", "//") is refused, so that a test
 * or a mistake can never reach the real /sys by accident. */
gboolean pt_root_check (const char *root, GError **error);

/* A driver name that is safe as one path component. */
gboolean pt_driver_name_is_valid (const char *name);

/* ROOT/sys/bus/pci/drivers/NAME is there. */
gboolean pt_driver_exists (const char *root, const char *name);

/* The driver BDF is on ("" when none) and its driver_override ("" for
 * "(null)"). FALSE when the function is gone. */
gboolean pt_read_function (const char *root, const char *bdf, char **driver, char **override);
/* A display controller (class 03xxxx), read from ROOT's sysfs. */
gboolean pt_function_is_display (const char *root, const char *bdf);

/* Called once, from the writer's thread, when a write that outlived its
 * timeout returns at last: RESULT is 0 or -errno. */
typedef void (*PtLateFunc) (int result, guint waited_ms, gpointer data);

typedef enum {
  PT_WRITE_DONE,     /* the write returned: see *result */
  PT_WRITE_TIMEOUT,  /* still blocked; LATE will be called when it returns */
} PtWriteStatus;

/* Writes DATA to ROOT/REL (open O_WRONLY, one write(), close) in a thread
 * of its own and waits up to TIMEOUT_MS. *RESULT is 0 or -errno. On
 * PT_WRITE_TIMEOUT the thread keeps going; it then calls LATE (may be
 * NULL) and frees LATE_DATA with LATE_FREE. Refuses (-EPERM, no write) a
 * path that leaves ROOT through a symlink. */
PtWriteStatus pt_sysfs_write (const char *root, const char *rel, const char *data, guint timeout_ms,
                              int *result, PtLateFunc late, gpointer late_data, GDestroyNotify late_free);

/* "EIO (Input/output error)" */
char *pt_errno_text (int err);

/* ---- pt-move.c: moving one function, verified ---- */

typedef struct {
  const char *root;
  guint timeout_ms;
  GvProgressFunc progress;
  gpointer user_data;
} PtContext;

/* What went wrong with one write. */
typedef struct {
  char *step;        /* "unbind of 0000:01:00.1 from snd_hda_intel" */
  char *path;        /* the file written, ROOT included */
  char *data;        /* what was written, for the message */
  int err;           /* the kernel's errno; 0 for a mismatch or a timeout */
  gboolean stuck;    /* the write did not return in time */
  guint waited_ms;
  char *mismatch;    /* "it is on no driver, not vfio-pci" when verification failed */
} PtFailure;

void pt_failure_free (PtFailure *failure);
/* "unbind of X from D (“X” to PATH) failed: EIO (Input/output error)" etc. */
char *pt_failure_describe (const PtFailure *failure);

typedef enum {
  PT_ATTACH_BIND,   /* drivers/<driver>/bind */
  PT_ATTACH_PROBE,  /* drivers_probe, which honours driver_override */
} PtAttach;

/* Puts BDF on DRIVER ("" = none) with driver_override OVERRIDE ("" = none,
 * NULL = leave it as it is): override first, then unbind from whatever it
 * is on, then attach; every step read back. Writes only what differs.
 * FALSE with *FAILURE on the first failed or mismatching step. Should a
 * write outlive the timeout, its late report tells how to put the function
 * on HOME_DRIVER with HOME_OVERRIDE (NULL: where it was before the move). */
gboolean pt_move (const PtContext *ctx, const char *bdf, const char *driver, const char *override,
                  PtAttach attach, const char *home_driver, const char *home_override, PtFailure **failure);

/* The Device.State for a function on DRIVER. */
const char *pt_state_for_driver (const char *driver);

/* Shell commands that put BDF from CUR_DRIVER onto DRIVER with OVERRIDE,
 * one per line, ROOT included in the paths: for a message when our own
 * attempt failed. */
char *pt_recovery_commands (const char *root, const char *bdf, const char *cur_driver,
                            const char *driver, const char *override);

GvFunctionResult *pt_result_new (const char *bdf, const char *state, const char *driver, const char *message);

/* ---- pt-records.c ---- */

/* Records BDF's original unless it has one. *CREATED says whether this
 * call made it. Durable before it returns. */
gboolean pt_records_remember (GvRecords *records, const char *bdf, const char *driver, const char *override,
                              gboolean *created, GError **error);
gboolean pt_records_forget (GvRecords *records, const char *bdf, GError **error);

/* One function of a journaled transaction: where recovery puts it. */
typedef struct {
  char *bdf;
  char *driver;    /* "" = leave it without a driver */
  char *override;  /* "" = none */
} PtJournalEntry;

void pt_journal_entry_free (PtJournalEntry *entry);

/* Writes a journal for a transaction about to make its first write, and
 * drops ENTRIES' BDFs from older unfinished journals (the new transaction
 * supersedes them). Returns the journal's id. */
char *pt_records_journal_begin (GvRecords *records, GvOperation operation, GPtrArray *entries, GError **error);
gboolean pt_records_journal_end (GvRecords *records, const char *id, GError **error);
/* Ids of the journals on disk, sorted (oldest first). */
GStrv pt_records_journal_list (GvRecords *records);
/* The entries of journal ID (PtJournalEntry), or NULL when unreadable. */
GPtrArray *pt_records_journal_read (GvRecords *records, const char *id, GError **error);

const char *pt_operation_to_string (GvOperation operation);

/* Journals of other kinds share the directory, the durable writes and
 * the order of ids, so that every operation of the daemon is journaled
 * the same way (vg-journal.c: SR-IOV and vGPU). Their [Transaction] group
 * carries Kind= (a passthrough journal has none: PT_JOURNAL_KIND_FUNCTIONS)
 * and Subject= (what the operation changes, e.g. a GPU's PF). */
#define PT_JOURNAL_KIND_FUNCTIONS "functions"

/* Writes DATA (its groups as they are; [Transaction] gets Kind, Subject
 * and Pid) as a new journal, after removing older journals of the same
 * KIND and SUBJECT (the new operation supersedes them). Returns its id. */
char *pt_records_journal_begin_kind (GvRecords *records, const char *kind, const char *subject, GKeyFile *data,
                                     GError **error);
/* The journal ID as written, or NULL when unreadable. */
GKeyFile *pt_records_journal_load (GvRecords *records, const char *id, GError **error);
/* The Kind= of journal ID (PT_JOURNAL_KIND_FUNCTIONS when it has none),
 * or NULL when unreadable. */
char *pt_records_journal_kind (GvRecords *records, const char *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PtFailure, pt_failure_free)

G_END_DECLS
