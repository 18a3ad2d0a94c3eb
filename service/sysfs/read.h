/* Small readers for sysfs and procfs, used by the host model. Every reader
 * tolerates a missing or odd file: it reports "not there" instead of
 * failing, because the kernel adds and drops attributes between releases
 * and devices come and go while we read. */
#pragma once

#include <glib.h>

#include "common/gv-error.h"

G_BEGIN_DECLS

/* Upper bound for one attribute; sysfs attributes are a page, the largest
 * procfs file we read is far smaller. Anything longer is truncated. */
#define GV_ATTR_MAX_SIZE (256 * 1024)

/* DIR/NAME with trailing whitespace removed, or NULL when it cannot be read. */
char *gv_read_attr (const char *dir, const char *name);
/* Same, but keeps the content untouched (multi-line files). */
char *gv_read_attr_raw (const char *dir, const char *name);

/* Parses DIR/NAME as an unsigned number: "0x10de" or "10de" when HEX,
 * decimal otherwise. FALSE (and *out untouched) when missing or garbled. */
gboolean gv_read_uint (const char *dir, const char *name, gboolean hex, guint64 *out);
/* Signed decimal ("-1" for numa_node). */
gboolean gv_read_int (const char *dir, const char *name, gint64 *out);

/* Basename of the symlink DIR/NAME's target, or NULL when it is no link. */
char *gv_read_link_name (const char *dir, const char *name);

/* Is DIR/NAME there (following links), and is it a directory? */
/* Whether PATH (DIR/NAME) exists, device nodes the daemon may not open included. */
gboolean gv_file_exists (const char *path);
gboolean gv_path_exists (const char *dir, const char *name);
gboolean gv_dir_exists (const char *dir, const char *name);
/* Does the directory hold at least one entry? */
gboolean gv_dir_has_entries (const char *path);

/* Entry names of a directory, sorted with strcmp; an empty array when it
 * cannot be read. */
GPtrArray *gv_list_dir (const char *path);

/* PCI addresses. A full BDF is "dddd:bb:ss.f" in lower-case hex, as sysfs
 * names functions (domains may have more than 4 digits on some hosts). */
typedef struct {
  guint domain;
  guint bus;
  guint slot;
  guint function;
} GvBdf;

gboolean gv_bdf_parse (const char *text, GvBdf *out);
gboolean gv_bdf_is_valid (const char *text);
/* Same domain, bus and slot. */
gboolean gv_bdf_same_slot (const GvBdf *a, const GvBdf *b);
/* g_ptr_array_sort() comparator for arrays of strings. */
gint gv_strv_compare (gconstpointer a, gconstpointer b);
/* Does the GPtrArray of strings (may be NULL) hold STR? */
gboolean gv_ptr_array_has_str (GPtrArray *array, const char *str);

G_END_DECLS
