/* Small readers for sysfs and procfs, used by the host model. Every reader
 * tolerates a missing or odd file: it reports "not there" instead of
 * failing, because the kernel adds and drops attributes between releases
 * and devices come and go while we read. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Upper bound for one attribute; sysfs attributes are a page, the largest
 * procfs file we read is far smaller. Anything longer is truncated. */
#define GV_SYSFS_ATTR_MAX_SIZE (256 * 1024)

/* DIR/NAME with trailing whitespace removed, or NULL when it cannot be read. */
char *gv_sysfs_read_attr (const char *dir, const char *name);
/* Same, but keeps the content untouched (multi-line files). */
char *gv_sysfs_read_attr_raw (const char *dir, const char *name);

/* Parses DIR/NAME as an unsigned number: "0x10de" or "10de" when HEX,
 * decimal otherwise. FALSE (and *out untouched) when missing or garbled. */
gboolean gv_sysfs_read_uint (const char *dir, const char *name, gboolean hex, guint64 *out);
/* Signed decimal ("-1" for numa_node). */
gboolean gv_sysfs_read_int (const char *dir, const char *name, gint64 *out);

/* Basename of the symlink DIR/NAME's target, or NULL when it is no link. */
char *gv_sysfs_read_link_name (const char *dir, const char *name);

/* Is DIR/NAME there (following links), and is it a directory? */
/* Whether PATH (DIR/NAME) exists, device nodes the daemon may not open included. */
gboolean gv_sysfs_file_exists (const char *path);
gboolean gv_sysfs_path_exists (const char *dir, const char *name);
gboolean gv_sysfs_dir_exists (const char *dir, const char *name);
/* Does the directory hold at least one entry? */
gboolean gv_sysfs_dir_has_entries (const char *path);

/* Entry names of a directory, sorted with strcmp; an empty array when it
 * cannot be read. */
GPtrArray *gv_sysfs_list_dir (const char *path);

/* g_ptr_array_sort() comparator for arrays of strings. */
gint gv_sysfs_compare_names (gconstpointer a, gconstpointer b);

G_END_DECLS
