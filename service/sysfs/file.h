/* Files gpuvirtd keeps (configuration, state directory), replaced or
 * removed durably. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Replaces PATH with TEXT atomically: a temporary file in PATH's
 * directory (created 0755 if missing), written, MODE, fsync, rename over
 * PATH, fsync of the directory. On failure (GV_ERROR_IO, naming the step
 * and errno) PATH is unchanged and the temporary file is gone. */
gboolean gv_sysfs_save_file (const char *path, const char *text, guint mode, GError **error);
/* Removes PATH (gone already is fine) and syncs its directory. */
gboolean gv_sysfs_remove_file (const char *path, GError **error);

G_END_DECLS
