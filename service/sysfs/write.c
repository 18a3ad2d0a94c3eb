/* The one way gpuvirtd writes to sysfs: one open/write/close in a thread
 * of its own, so that the caller can give up waiting. A driver's remove()
 * may block for as long as its users keep the device (nvidia with Xorg
 * running); the write cannot be cancelled, so it is abandoned and tells
 * its caller when it returns at last. Every write is below a root prefix
 * that gv_sysfs_root_check() accepted. */
#include "sysfs/write.h"

#include "common/gv-error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

gboolean
gv_sysfs_root_check (const char *root, GError **error)
{
  g_autofree char *real = NULL;
  g_autofree char *sys = NULL;
  g_autofree char *real_sys = NULL;

  if (!root || !*root) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_NO_ROOT,
                         "No root directory given; pass \"/\" explicitly to act on this host");
    return FALSE;
  }
  if (g_str_equal (root, "/"))
    return TRUE;
  if (root[0] != '/') {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_ROOT, "Root “%s” is not an absolute path", root);
    return FALSE;
  }
  real = realpath (root, NULL);
  if (!real) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_ROOT, "Root “%s”: %s", root, g_strerror (errno));
    return FALSE;
  }
  /* Only the literal "/" means the real host: anything else that lands
   * there (or whose sys/ is the real /sys) is a mistake. */
  sys = g_build_filename (real, "sys", NULL);
  real_sys = realpath (sys, NULL);
  if (g_str_equal (real, "/") || (real_sys && g_str_equal (real_sys, "/sys"))) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_ROOT,
                 "Root “%s” resolves to this host's /sys; pass \"/\" itself to act on this host", root);
    return FALSE;
  }
  return TRUE;
}

char *
gv_sysfs_errno_text (int err)
{
  const char *name = strerrorname_np (err);

  if (!name)
    return g_strdup_printf ("errno %d (%s)", err, g_strerror (err));
  return g_strdup_printf ("%s (%s)", name, g_strerror (err));
}

/* ---- the write ---- */

typedef struct {
  GMutex lock;
  GCond cond;
  char *path;
  char *data;
  gint64 start;
  gboolean done;
  gboolean abandoned;
  int result;
  GvSysfsLateFunc late;
  gpointer late_data;
  GDestroyNotify late_free;
} Job;

static void
job_clear (gpointer p)
{
  Job *job = p;

  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_free (job->path);
  g_free (job->data);
  if (job->late_free && job->late_data)
    job->late_free (job->late_data);
}

static void
job_unref (Job *job)
{
  g_atomic_rc_box_release_full (job, job_clear);
}

static int
write_once (const char *path, const char *data)
{
  size_t len = strlen (data);
  ssize_t n;
  int fd, err = 0;

  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  /* sysfs takes a store in one write(); no retry on a short count. */
  n = write (fd, data, len);
  if (n < 0)
    err = -errno;
  else if ((size_t) n != len)
    err = -EIO;
  if (close (fd) < 0 && err == 0 && errno != EINTR)
    err = -errno;
  return err;
}

static gpointer
job_thread (gpointer p)
{
  Job *job = p;
  int result = write_once (job->path, job->data);
  gboolean late;

  g_mutex_lock (&job->lock);
  job->done = TRUE;
  job->result = result;
  late = job->abandoned;
  g_cond_broadcast (&job->cond);
  g_mutex_unlock (&job->lock);

  /* Nobody waits any more: tell whoever asked to hear about it. */
  if (late && job->late)
    job->late (result, (guint) ((g_get_monotonic_time () - job->start) / 1000), job->late_data);
  job_unref (job);
  return NULL;
}

/* The file's directory, symlinks resolved, must stay below ROOT: the
 * simulator's links all point inside the mount, so a link that leads out
 * (to the real /sys) is refused before anything is opened. */
static gboolean
path_inside_root (const char *root, const char *path)
{
  g_autofree char *real_root = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *real_dir = NULL;

  if (g_str_equal (root, "/"))
    return TRUE;
  real_root = realpath (root, NULL);
  dir = g_path_get_dirname (path);
  real_dir = realpath (dir, NULL);
  if (!real_root || !real_dir || g_str_equal (real_root, "/"))
    return FALSE;
  return g_str_has_prefix (real_dir, real_root) && real_dir[strlen (real_root)] == '/';
}

GvSysfsWriteStatus
gv_sysfs_write (const char *root, const char *rel, const char *data, guint timeout_ms,
                int *result, GvSysfsLateFunc late, gpointer late_data, GDestroyNotify late_free)
{
  return gv_sysfs_write_watched (root, rel, data, timeout_ms, 0, NULL, NULL, result, late, late_data, late_free);
}

GvSysfsWriteStatus
gv_sysfs_write_watched (const char *root, const char *rel, const char *data, guint timeout_ms, guint tick_ms,
                        GvSysfsTickFunc tick, gpointer tick_data, int *result, GvSysfsLateFunc late,
                        gpointer late_data, GDestroyNotify late_free)
{
  Job *job;
  GThread *thread;
  gint64 deadline;
  GvSysfsWriteStatus status;
  g_autofree char *path = g_build_filename (root, rel, NULL);

  if (strstr (rel, "..") || !path_inside_root (root, path)) {
    *result = -EPERM;
    if (late_free && late_data)
      late_free (late_data);
    return GV_SYSFS_WRITE_DONE;
  }

  job = g_atomic_rc_box_new0 (Job);
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  job->path = g_steal_pointer (&path);
  job->data = g_strdup (data);
  job->start = g_get_monotonic_time ();
  job->late = late;
  job->late_data = late_data;
  job->late_free = late_free;

  thread = g_thread_try_new ("gv-sysfs-write", job_thread, g_atomic_rc_box_acquire (job), NULL);
  if (!thread) {
    /* nothing written: say so as the kernel would for lack of resources */
    job_unref (job);
    job_unref (job);
    *result = -EAGAIN;
    return GV_SYSFS_WRITE_DONE;
  }
  g_thread_unref (thread);

  deadline = job->start + (gint64) timeout_ms * 1000;
  g_mutex_lock (&job->lock);
  while (!job->done) {
    gint64 wake = deadline;
    if (tick && tick_ms)
      wake = MIN (deadline, g_get_monotonic_time () + (gint64) tick_ms * 1000);
    if (g_cond_wait_until (&job->cond, &job->lock, wake) || job->done)
      continue;
    if (g_get_monotonic_time () >= deadline)
      break;
    /* the callback may read sysfs: not under the lock */
    g_mutex_unlock (&job->lock);
    tick ((guint) ((g_get_monotonic_time () - job->start) / 1000), tick_data);
    g_mutex_lock (&job->lock);
  }
  if (job->done) {
    *result = job->result;
    status = GV_SYSFS_WRITE_DONE;
  } else {
    job->abandoned = TRUE;
    *result = 0;
    status = GV_SYSFS_WRITE_TIMEOUT;
  }
  g_mutex_unlock (&job->lock);
  job_unref (job);
  return status;
}
