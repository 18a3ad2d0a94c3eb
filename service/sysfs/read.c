#include "sysfs/read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads at most GV_SYSFS_ATTR_MAX_SIZE bytes. sysfs reports a size of 4096 and
 * procfs of 0 whatever the content, so read until EOF instead of trusting
 * st_size. O_NONBLOCK keeps a FIFO planted in a test tree from hanging us
 * (EAGAIN fails the read). */
char *
gv_sysfs_read_attr_raw (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GString) buf = NULL;
  int fd;

  /* No fstat: each call is a round trip on FUSE; a directory fails read()
   * with EISDIR and a FIFO returns at once. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return NULL;
  buf = g_string_sized_new (128);
  for (;;) {
    char chunk[4096];
    ssize_t n = read (fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      close (fd);
      return NULL;
    }
    if (n == 0)
      break;
    g_string_append_len (buf, chunk, n);
    if (buf->len >= GV_SYSFS_ATTR_MAX_SIZE) {
      g_string_truncate (buf, GV_SYSFS_ATTR_MAX_SIZE);
      break;
    }
  }
  close (fd);
  /* Binary content (a NUL) is cut there: these are text attributes. */
  g_string_truncate (buf, strlen (buf->str));
  /* Their text goes out on D-Bus, which carries UTF-8 only: bytes that
   * are not (a process may name itself so, a driver may write them)
   * read as U+FFFD, or one reply with them would fail as a whole. */
  if (!g_utf8_validate (buf->str, buf->len, NULL))
    return g_utf8_make_valid (buf->str, buf->len);
  return g_string_free (g_steal_pointer (&buf), FALSE);
}

char *
gv_sysfs_read_attr (const char *dir, const char *name)
{
  char *s = gv_sysfs_read_attr_raw (dir, name);

  if (s)
    g_strchomp (s);
  return s;
}

gboolean
gv_sysfs_read_uint (const char *dir, const char *name, gboolean hex, guint64 *out)
{
  g_autofree char *s = gv_sysfs_read_attr (dir, name);
  const char *p;
  char *end = NULL;
  guint64 v;

  if (!s)
    return FALSE;
  p = g_strchug (s);
  if (hex && (g_str_has_prefix (p, "0x") || g_str_has_prefix (p, "0X")))
    p += 2;
  if (!g_ascii_isxdigit (*p) || (!hex && !g_ascii_isdigit (*p)))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (p, &end, hex ? 16 : 10);
  if (errno != 0 || end == p || *end != '\0')
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
gv_sysfs_read_int (const char *dir, const char *name, gint64 *out)
{
  g_autofree char *s = gv_sysfs_read_attr (dir, name);
  const char *p;
  char *end = NULL;
  gint64 v;

  if (!s)
    return FALSE;
  p = g_strchug (s);
  if (*p == '\0')
    return FALSE;
  errno = 0;
  v = g_ascii_strtoll (p, &end, 10);
  if (errno != 0 || end == p || *end != '\0')
    return FALSE;
  *out = v;
  return TRUE;
}

char *
gv_sysfs_read_link_name (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *target = g_file_read_link (path, NULL);
  char *base;

  if (!target || !*target)
    return NULL;
  base = g_path_get_basename (target);
  /* "/" or "." tell us nothing */
  if (g_str_equal (base, G_DIR_SEPARATOR_S) || g_str_equal (base, ".")) {
    g_free (base);
    return NULL;
  }
  return base;
}

/* stat(), not access(): under the unit's DevicePolicy=closed the device
 * cgroup answers access() on a device node it does not allow with EPERM,
 * so access() would call /dev/vfio/<group> missing while it exists. */
gboolean
gv_sysfs_file_exists (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0;
}

gboolean
gv_sysfs_path_exists (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return gv_sysfs_file_exists (path);
}

gboolean
gv_sysfs_dir_exists (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

gboolean
gv_sysfs_dir_has_entries (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  return d && g_dir_read_name (d) != NULL;
}

gint
gv_sysfs_compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
gv_sysfs_list_dir (const char *path)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  if (!d)
    return names;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, gv_sysfs_compare_names);
  return names;
}
