/* What gpuvirtd must never forget (see journal.h): the driver and
 * driver_override each function had before gpuvirt first changed it, and
 * which operations were under way. Both live in the state directory and are written
 * durably (temporary file, fsync, rename, fsync of the directory), so a
 * power cut or SIGKILL leaves either the old or the new file, never half
 * of one. Transactions of different IOMMU groups run in parallel threads:
 * one mutex serializes the lot (the writes are small and rare). */
#include "journal/journal.h"

#include "common/gv-error.h"
#include "sysfs/file.h"
#include "sysfs/read.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define ORIGINALS_FILE "originals"
#define JOURNAL_DIR "journal"
#define JOURNAL_SUFFIX ".journal"

typedef struct {
  char *driver;
  char *override;
} Original;

struct _GvJournal {
  GMutex lock;
  char *dir;
  char *journal_dir;
  GHashTable *originals; /* BDF → Original */
  guint serial;
};

static void
original_free (gpointer p)
{
  Original *o = p;

  g_free (o->driver);
  g_free (o->override);
  g_free (o);
}

void
gv_journal_entry_free (GvJournalEntry *entry)
{
  if (!entry)
    return;
  g_free (entry->bdf);
  g_free (entry->driver);
  g_free (entry->override);
  g_free (entry);
}

/* DIR/NAME gets CONTENTS, all or nothing, and is on disk when this returns. */
static gboolean
write_durable (const char *dir, const char *name, const char *contents, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return gv_sysfs_save_file (path, contents, 0600, error);
}

static gboolean
remove_durable (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return gv_sysfs_remove_file (path, error);
}

/* ---- originals ---- */

static gboolean
load_originals (GvJournal *records, GError **error)
{
  g_autofree char *path = g_build_filename (records->dir, ORIGINALS_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL;
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local)) {
    if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return TRUE;
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "Cannot read %s: ", path);
    return FALSE;
  }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    Original *o = g_new0 (Original, 1);
    o->driver = g_key_file_get_string (kf, groups[i], "Driver", NULL);
    o->override = g_key_file_get_string (kf, groups[i], "Override", NULL);
    if (!o->driver)
      o->driver = g_strdup ("");
    if (!o->override)
      o->override = g_strdup ("");
    g_hash_table_replace (records->originals, g_strdup (groups[i]), o);
  }
  return TRUE;
}

static gboolean
save_originals (GvJournal *records, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GList) keys = g_list_sort (g_hash_table_get_keys (records->originals), (GCompareFunc) strcmp);
  g_autofree char *data = NULL;

  for (GList *l = keys; l; l = l->next) {
    const Original *o = g_hash_table_lookup (records->originals, l->data);
    g_key_file_set_string (kf, l->data, "Driver", o->driver);
    g_key_file_set_string (kf, l->data, "Override", o->override);
  }
  data = g_key_file_to_data (kf, NULL, NULL);
  return write_durable (records->dir, ORIGINALS_FILE, data, error);
}

GvJournal *
gv_journal_open (const char *state_dir, GError **error)
{
  GvJournal *records;

  if (!state_dir || !*state_dir) {
    g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "No state directory given");
    return NULL;
  }
  records = g_new0 (GvJournal, 1);
  g_mutex_init (&records->lock);
  records->dir = g_strdup (state_dir);
  records->journal_dir = g_build_filename (state_dir, JOURNAL_DIR, NULL);
  records->originals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, original_free);
  if (g_mkdir_with_parents (records->journal_dir, 0700) < 0) {
    int err = errno;
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "Cannot create %s: %s", records->journal_dir, g_strerror (err));
    gv_journal_free (records);
    return NULL;
  }
  if (!load_originals (records, error)) {
    gv_journal_free (records);
    return NULL;
  }
  return records;
}

void
gv_journal_free (GvJournal *records)
{
  if (!records)
    return;
  g_mutex_clear (&records->lock);
  g_free (records->dir);
  g_free (records->journal_dir);
  g_hash_table_destroy (records->originals);
  g_free (records);
}

gboolean
gv_journal_lookup_original (GvJournal *records, const char *bdf, char **driver, char **override)
{
  const Original *o;
  gboolean found;

  g_mutex_lock (&records->lock);
  o = bdf ? g_hash_table_lookup (records->originals, bdf) : NULL;
  found = o != NULL;
  if (driver)
    *driver = o ? g_strdup (o->driver) : NULL;
  if (override)
    *override = o ? g_strdup (o->override) : NULL;
  g_mutex_unlock (&records->lock);
  return found;
}

gboolean
gv_journal_remember_original (GvJournal *records, const char *bdf, const char *driver, const char *override,
                     gboolean *created, GError **error)
{
  gboolean ok = TRUE;
  Original *o;

  *created = FALSE;
  g_mutex_lock (&records->lock);
  if (!g_hash_table_contains (records->originals, bdf)) {
    o = g_new0 (Original, 1);
    o->driver = g_strdup (driver);
    o->override = g_strdup (override);
    g_hash_table_insert (records->originals, g_strdup (bdf), o);
    ok = save_originals (records, error);
    if (ok)
      *created = TRUE;
    else
      g_hash_table_remove (records->originals, bdf);
  }
  g_mutex_unlock (&records->lock);
  return ok;
}

gboolean
gv_journal_forget_original (GvJournal *records, const char *bdf, GError **error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&records->lock);
  if (g_hash_table_remove (records->originals, bdf))
    ok = save_originals (records, error);
  g_mutex_unlock (&records->lock);
  return ok;
}

/* ---- journals ---- */

static char *
journal_name (const char *id)
{
  return g_strconcat (id, JOURNAL_SUFFIX, NULL);
}

static GStrv
list_journals_locked (GvJournal *records)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (records->journal_dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    if (name[0] != '.' && g_str_has_suffix (name, JOURNAL_SUFFIX))
      g_ptr_array_add (ids, g_strndup (name, strlen (name) - strlen (JOURNAL_SUFFIX)));
  g_ptr_array_sort (ids, gv_sysfs_compare_names);
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}

static GKeyFile *
load_journal_locked (GvJournal *records, const char *id, GError **error)
{
  g_autofree char *name = journal_name (id);
  g_autofree char *path = g_build_filename (records->journal_dir, name, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return NULL;
  return g_steal_pointer (&kf);
}

static gboolean
save_journal_locked (GvJournal *records, const char *id, GKeyFile *kf, GError **error)
{
  g_autofree char *name = journal_name (id);
  g_autofree char *data = g_key_file_to_data (kf, NULL, NULL);

  return write_durable (records->journal_dir, name, data, error);
}

/* An older journal that did not finish names some of BDFS: the new
 * transaction now owns them, so recovery must not undo what it does. */
static gboolean
supersede_locked (GvJournal *records, GHashTable *bdfs, GError **error)
{
  g_auto (GStrv) ids = list_journals_locked (records);

  for (guint i = 0; ids[i]; i++) {
    g_autoptr (GKeyFile) kf = load_journal_locked (records, ids[i], NULL);
    g_auto (GStrv) fns = NULL;
    g_autoptr (GPtrArray) kept = g_ptr_array_new ();
    gboolean changed = FALSE;

    if (!kf)
      continue;
    fns = g_key_file_get_string_list (kf, "Transaction", "Functions", NULL, NULL);
    for (guint j = 0; fns && fns[j]; j++) {
      if (g_hash_table_contains (bdfs, fns[j])) {
        g_key_file_remove_group (kf, fns[j], NULL);
        changed = TRUE;
      } else {
        g_ptr_array_add (kept, fns[j]);
      }
    }
    if (!changed)
      continue;
    if (kept->len == 0) {
      g_autofree char *name = journal_name (ids[i]);
      if (!remove_durable (records->journal_dir, name, error))
        return FALSE;
      continue;
    }
    g_key_file_set_string_list (kf, "Transaction", "Functions", (const char *const *) kept->pdata, kept->len);
    if (!save_journal_locked (records, ids[i], kf, error))
      return FALSE;
  }
  return TRUE;
}

char *
gv_journal_begin_functions (GvJournal *records, const char *operation, GPtrArray *entries, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GHashTable) bdfs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autofree char *id = NULL;
  gboolean ok;

  for (guint i = 0; i < entries->len; i++) {
    const GvJournalEntry *e = entries->pdata[i];
    g_ptr_array_add (names, e->bdf);
    g_hash_table_add (bdfs, e->bdf);
    g_key_file_set_string (kf, e->bdf, "Driver", e->driver);
    g_key_file_set_string (kf, e->bdf, "Override", e->override);
  }
  g_key_file_set_string (kf, "Transaction", "Operation", operation);
  g_key_file_set_int64 (kf, "Transaction", "Pid", getpid ());
  g_key_file_set_string_list (kf, "Transaction", "Functions", (const char *const *) names->pdata, names->len);

  g_mutex_lock (&records->lock);
  /* Sortable by time of creation; the serial keeps ids of one process unique. */
  id = g_strdup_printf ("%016" G_GINT64_MODIFIER "x-%d-%u", g_get_real_time (), (int) getpid (), ++records->serial);
  ok = supersede_locked (records, bdfs, error) && save_journal_locked (records, id, kf, error);
  g_mutex_unlock (&records->lock);
  return ok ? g_steal_pointer (&id) : NULL;
}

static char *
kind_of (GKeyFile *kf)
{
  char *kind = g_key_file_get_string (kf, "Transaction", "Kind", NULL);
  return kind ? kind : g_strdup (GV_JOURNAL_KIND_FUNCTIONS);
}

char *
gv_journal_begin (GvJournal *records, const char *kind, const char *subject, GKeyFile *data,
                               GError **error)
{
  g_auto (GStrv) ids = NULL;
  g_autofree char *id = NULL;
  gboolean ok = TRUE;

  g_key_file_set_string (data, "Transaction", "Kind", kind);
  g_key_file_set_string (data, "Transaction", "Subject", subject);
  g_key_file_set_int64 (data, "Transaction", "Pid", getpid ());

  g_mutex_lock (&records->lock);
  ids = list_journals_locked (records);
  for (guint i = 0; ok && ids[i]; i++) {
    g_autoptr (GKeyFile) old = load_journal_locked (records, ids[i], NULL);
    g_autofree char *old_kind = old ? kind_of (old) : NULL;
    g_autofree char *old_subject = old ? g_key_file_get_string (old, "Transaction", "Subject", NULL) : NULL;

    if (old_kind && g_str_equal (old_kind, kind) && g_strcmp0 (old_subject, subject) == 0) {
      g_autofree char *name = journal_name (ids[i]);
      ok = remove_durable (records->journal_dir, name, error);
    }
  }
  id = g_strdup_printf ("%016" G_GINT64_MODIFIER "x-%d-%u", g_get_real_time (), (int) getpid (), ++records->serial);
  ok = ok && save_journal_locked (records, id, data, error);
  g_mutex_unlock (&records->lock);
  return ok ? g_steal_pointer (&id) : NULL;
}

GKeyFile *
gv_journal_load (GvJournal *records, const char *id, GError **error)
{
  GKeyFile *kf;

  g_mutex_lock (&records->lock);
  kf = load_journal_locked (records, id, error);
  g_mutex_unlock (&records->lock);
  return kf;
}

char *
gv_journal_kind (GvJournal *records, const char *id)
{
  g_autoptr (GKeyFile) kf = gv_journal_load (records, id, NULL);

  return kf ? kind_of (kf) : NULL;
}

gboolean
gv_journal_end (GvJournal *records, const char *id, GError **error)
{
  g_autofree char *name = journal_name (id);
  gboolean ok;

  g_mutex_lock (&records->lock);
  ok = remove_durable (records->journal_dir, name, error);
  g_mutex_unlock (&records->lock);
  return ok;
}

GStrv
gv_journal_list (GvJournal *records)
{
  GStrv ids;

  g_mutex_lock (&records->lock);
  ids = list_journals_locked (records);
  g_mutex_unlock (&records->lock);
  return ids;
}

GPtrArray *
gv_journal_read_functions (GvJournal *records, const char *id, GError **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_auto (GStrv) fns = NULL;
  GPtrArray *entries;

  g_mutex_lock (&records->lock);
  kf = load_journal_locked (records, id, error);
  g_mutex_unlock (&records->lock);
  if (!kf)
    return NULL;
  fns = g_key_file_get_string_list (kf, "Transaction", "Functions", NULL, error);
  if (!fns)
    return NULL;
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_journal_entry_free);
  for (guint i = 0; fns[i]; i++) {
    GvJournalEntry *e = g_new0 (GvJournalEntry, 1);
    e->bdf = g_strdup (fns[i]);
    e->driver = g_key_file_get_string (kf, fns[i], "Driver", NULL);
    e->override = g_key_file_get_string (kf, fns[i], "Override", NULL);
    if (!e->driver)
      e->driver = g_strdup ("");
    if (!e->override)
      e->override = g_strdup ("");
    g_ptr_array_add (entries, e);
  }
  return entries;
}
