/* Test fixture: runs gpuvirt-simfs in the foreground on a temporary mount
 * point and unmounts it at the end, killing it if it does not exit. */
#include "sim-mount.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
simfs_binary (void)
{
  const char *env = g_getenv ("GPUVIRT_SIMFS");
  return env ? env : GPUVIRT_SIMFS_BINARY;
}

char *
sim_mount_path (SimMount *mount, const char *rel)
{
  return g_build_filename (mount->root, rel, NULL);
}

/* The simulator goes with the test: a test that aborts must not leave a
 * mount (and a pipe the test runner waits on) behind. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

SimMount *
sim_mount_start (const char *scenario)
{
  SimMount *mount = g_new0 (SimMount, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *ready = NULL;
  const char *argv[] = { simfs_binary (), "--foreground", scenario, NULL, NULL };
  gint64 deadline;

  mount->dir = g_dir_make_tmp ("gpuvirt-simfs-XXXXXX", &error);
  g_assert_no_error (error);
  mount->root = g_build_filename (mount->dir, "root", NULL);
  g_assert_cmpint (g_mkdir (mount->root, 0755), ==, 0);
  argv[3] = mount->root;
  g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, &mount->pid, &error);
  g_assert_no_error (error);

  /* The control directory shows up once FUSE serves the mount. */
  ready = sim_mount_path (mount, ".sim/scenario");
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!g_file_test (ready, G_FILE_TEST_EXISTS)) {
    int status;
    if (waitpid (mount->pid, &status, WNOHANG) == mount->pid)
      g_error ("gpuvirt-simfs exited before mounting %s (status %d)", scenario, status);
    if (g_get_monotonic_time () > deadline)
      g_error ("gpuvirt-simfs did not mount %s within 10 s", scenario);
    g_usleep (5000);
  }
  return mount;
}

void
sim_mount_stop (SimMount *mount)
{
  const char *argv[] = { "fusermount3", "-u", "-z", mount->root, NULL };
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  int status;

  if (!mount)
    return;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, NULL, NULL);
  while (mount->pid > 0 && waitpid (mount->pid, &status, WNOHANG) != mount->pid) {
    if (g_get_monotonic_time () > deadline) {
      kill (mount->pid, SIGKILL);
      waitpid (mount->pid, &status, 0);
      break;
    }
    g_usleep (5000);
  }
  if (mount->pid > 0)
    g_spawn_close_pid (mount->pid);
  g_rmdir (mount->root);
  g_rmdir (mount->dir);
  g_free (mount->root);
  g_free (mount->dir);
  g_free (mount);
}

int
sim_write_bytes (const char *path, const char *data, gsize len)
{
  int fd = open (path, O_WRONLY);
  int err = 0;

  if (fd < 0)
    return errno;
  if (write (fd, data, len) < 0)
    err = errno;
  close (fd);
  return err;
}

int
sim_write_file (const char *path, const char *data)
{
  return sim_write_bytes (path, data, strlen (data));
}

char *
sim_read_file (const char *path)
{
  char *contents = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error)) {
    errno = error->domain == G_FILE_ERROR ? ENOENT : EIO;
    if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES))
      errno = EACCES;
    return NULL;
  }
  return contents;
}

char *
sim_link_name (const char *path)
{
  g_autofree char *target = g_file_read_link (path, NULL);
  return target ? g_path_get_basename (target) : NULL;
}

void
sim_write_free (SimWrite *write)
{
  g_free (write->path);
  g_free (write->data);
  g_free (write->result);
  g_free (write);
}

GPtrArray *
sim_parse_log (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *writes = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_write_free);

  for (guint i = 0; lines[i]; i++) {
    const char *sp = strchr (lines[i], ' ');
    const char *q = sp ? strstr (sp, " \"") : NULL;
    const char *end = q ? g_strrstr (q, "\" -> ") : NULL;
    g_autofree char *escaped = NULL;
    SimWrite *w;

    if (!end)
      continue;
    w = g_new0 (SimWrite, 1);
    w->path = g_strndup (sp + 1, (gsize) (q - sp - 1));
    escaped = g_strndup (q + 2, (gsize) (end - q - 2));
    w->data = g_strcompress (escaped);
    w->result = g_strstrip (g_strdup (end + strlen ("\" -> ")));
    g_ptr_array_add (writes, w);
  }
  return writes;
}
