/* Writing to sysfs below a root prefix ("/" on a real host, a simulator
 * mount in tests): the root check that keeps tests off the real /sys, and
 * the bounded write every engine uses. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ROOT must be given. "/" is accepted only when written as "/": a prefix
 * that merely resolves to "/" ("/tmp/..", "//") is refused, so that a test
 * or a mistake can never reach the real /sys by accident. */
gboolean gv_sysfs_root_check (const char *root, GError **error);

/* Called once, from the writer's thread, when a write that outlived its
 * timeout returns at last: RESULT is 0 or -errno. */
typedef void (*GvSysfsLateFunc) (int result, guint waited_ms, gpointer data);

typedef enum {
  GV_SYSFS_WRITE_DONE,     /* the write returned: see *result */
  GV_SYSFS_WRITE_TIMEOUT,  /* still blocked; LATE will be called when it returns */
} GvSysfsWriteStatus;

/* Writes DATA to ROOT/REL (open O_WRONLY, one write(), close) in a thread
 * of its own and waits up to TIMEOUT_MS. *RESULT is 0 or -errno. On
 * GV_SYSFS_WRITE_TIMEOUT the thread keeps going; it then calls LATE (may be
 * NULL) and frees LATE_DATA with LATE_FREE. Refuses (-EPERM, no write) a
 * path that leaves ROOT through a symlink. */
GvSysfsWriteStatus gv_sysfs_write (const char *root, const char *rel, const char *data, guint timeout_ms,
                              int *result, GvSysfsLateFunc late, gpointer late_data, GDestroyNotify late_free);

/* Called from the waiting thread every TICK_MS while the write has not
 * returned (never after gv_sysfs_write_watched() returned): a caller shows
 * progress the kernel makes meanwhile (VFs appearing one by one). */
typedef void (*GvSysfsTickFunc) (guint waited_ms, gpointer data);

/* gv_sysfs_write() that calls TICK (may be NULL) every TICK_MS while it
 * waits. */
GvSysfsWriteStatus gv_sysfs_write_watched (const char *root, const char *rel, const char *data, guint timeout_ms,
                                           guint tick_ms, GvSysfsTickFunc tick, gpointer tick_data, int *result,
                                           GvSysfsLateFunc late, gpointer late_data, GDestroyNotify late_free);

/* "EIO (Input/output error)" */
char *gv_sysfs_errno_text (int err);

G_END_DECLS
