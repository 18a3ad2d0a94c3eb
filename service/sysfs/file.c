/* Files replaced durably: the configuration, the records and journals of
 * the state directory, the catalogue of vGPU type names. A power cut or a
 * SIGKILL leaves either the old or the new file, never half of one. */
#include "sysfs/file.h"

#include "common/gv-error.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
io_error (GError **error, int err, const char *path, const char *step)
{
  g_set_error (error, GV_ERROR, GV_ERROR_IO, "Cannot save %s: %s failed: %s (%s); the file is unchanged",
               path, step, g_strerror (err), strerrorname_np (err) ? strerrorname_np (err) : "?");
  return FALSE;
}

gboolean
gv_sysfs_save_file (const char *path, const char *text, guint mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  g_autofree char *step = NULL;
  size_t len = strlen (text), off = 0;
  int fd, dfd, err = 0;

  if (g_mkdir_with_parents (dir, 0755) < 0)
    return io_error (error, errno, path, "creating its directory");
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, (int) mode);
  if (fd < 0)
    return io_error (error, errno, path, "creating a temporary file in its directory");
  if (fchmod (fd, (mode_t) mode) < 0) {
    err = errno;
    step = g_strdup_printf ("setting the mode of %s", tmp);
  }
  while (!err && off < len) {
    ssize_t n = write (fd, text + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = errno;
      step = g_strdup_printf ("writing %s", tmp);
      break;
    }
    off += (size_t) n;
  }
  if (!err && fsync (fd) < 0) {
    err = errno;
    step = g_strdup_printf ("fsync of %s", tmp);
  }
  if (close (fd) < 0 && !err && errno != EINTR) {
    err = errno;
    step = g_strdup_printf ("closing %s", tmp);
  }
  if (!err && rename (tmp, path) < 0) {
    err = errno;
    step = g_strdup_printf ("renaming %s to it", tmp);
  }
  if (err) {
    g_unlink (tmp);
    return io_error (error, err, path, step);
  }
  /* the rename is durable only once the directory is */
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync (dfd) < 0) {
    err = errno;
    if (dfd >= 0)
      close (dfd);
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "%s was replaced, but fsync of %s failed: %s", path,
                 dir, g_strerror (err));
    return FALSE;
  }
  close (dfd);
  return TRUE;
}

gboolean
gv_sysfs_remove_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd, err;

  if (g_unlink (path) < 0 && errno != ENOENT) {
    err = errno;
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "Cannot remove %s: %s", path, g_strerror (err));
    return FALSE;
  }
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync (dfd) < 0) {
    err = errno;
    if (dfd >= 0)
      close (dfd);
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "%s was removed, but fsync of %s failed: %s", path, dir,
                 g_strerror (err));
    return FALSE;
  }
  close (dfd);
  return TRUE;
}
