/* gpuvirt-simfs: mounts a simulated GPU host with FUSE (see README.md). */
#define FUSE_USE_VERSION 35

#include "sim-model.h"
#include "sim-tree.h"
#ifdef HAVE_CAPTURE
#include "sim-capture.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>

static SimHost *host;
static time_t mount_time;

static gint stop_requested;
static char *mountpoint;

static gboolean
fs_stopping (void)
{
  struct fuse_context *ctx = fuse_get_context ();

  if (g_atomic_int_get (&stop_requested))
    return TRUE;
  return ctx && ctx->fuse && fuse_session_exited (fuse_get_session (ctx->fuse));
}

/* SIGTERM, SIGINT and SIGHUP (also PR_SET_PDEATHSIG from a test) end the
 * simulator for sure: blocked writes give up and the mount is detached,
 * which ends FUSE's loop even while requests are in flight. */
static gpointer
signal_thread (gpointer data)
{
  sigset_t *set = data;
  int sig = 0;

  sigwait (set, &sig);
  g_atomic_int_set (&stop_requested, 1);
  if (getuid () == 0) {
    umount2 (mountpoint, MNT_DETACH);
  } else {
    const char *argv[] = { "fusermount3", "-u", "-z", mountpoint, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                  NULL, NULL, NULL, NULL);
  }
  return NULL;
}

static const char *
rel (const char *path)
{
  while (*path == '/')
    path++;
  return path;
}

static sigset_t *daemon_signals;   /* set when fuse_main forks: the thread starts in the child */

static void *
sim_init (struct fuse_conn_info *conn, struct fuse_config *cfg)
{
  if (daemon_signals)
    g_thread_unref (g_thread_new ("signals", signal_thread, daemon_signals));
  /* sysfs answers from live state: no caching of names, attributes or data */
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->use_ino = 0;
  return NULL;
}

static void
fill_stat (const SimNode *node, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_uid = 0;
  st->st_gid = 0;
  st->st_atime = st->st_mtime = st->st_ctime = mount_time;
  switch (node->kind) {
  case SIM_NODE_DIR:
    st->st_mode = S_IFDIR | node->mode;
    st->st_nlink = 2;
    break;
  case SIM_NODE_LINK:
    st->st_mode = S_IFLNK | 0777;
    st->st_nlink = 1;
    st->st_size = (off_t) strlen (node->target);
    break;
  case SIM_NODE_FILE:
    st->st_mode = S_IFREG | node->mode;
    st->st_nlink = 1;
    st->st_size = sim_node_is_dev (node) ? 0 : 4096;
    break;
  }
}

static int
sim_getattr (const char *path, struct stat *st, struct fuse_file_info *fi)
{
  SimNode node;
  int r = -ENOENT;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    fill_stat (&node, st);
    sim_node_clear (&node);
    r = 0;
  }
  sim_host_unlock (host);
  return r;
}

static int
sim_readlink (const char *path, char *buf, size_t size)
{
  SimNode node;
  int r = -ENOENT;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    if (node.kind != SIM_NODE_LINK) {
      r = -EINVAL;
    } else {
      g_strlcpy (buf, node.target, size);
      r = 0;
    }
    sim_node_clear (&node);
  }
  sim_host_unlock (host);
  return r;
}

typedef struct {
  void *buf;
  fuse_fill_dir_t filler;
} FillData;

static void
fill_one (gpointer data, const char *name, const SimNode *node)
{
  FillData *fd = data;
  struct stat st;

  fill_stat (node, &st);
  fd->filler (fd->buf, name, &st, 0, 0);
}

static int
sim_readdir (const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
             struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
  SimNode node;
  FillData fd = { buf, filler };
  int r = -ENOENT;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    if (node.kind == SIM_NODE_DIR) {
      filler (buf, ".", NULL, 0, 0);
      filler (buf, "..", NULL, 0, 0);
      sim_tree_list (host, rel (path), &node, fill_one, &fd);
      r = 0;
    } else {
      r = -ENOTDIR;
    }
    sim_node_clear (&node);
  }
  sim_host_unlock (host);
  return r;
}

/* kernfs_fop_open(): opening an attribute for reading without show(), or
 * for writing without store(), is EACCES even for root. */
static int
sim_open (const char *path, struct fuse_file_info *fi)
{
  SimNode node;
  int r = -ENOENT;
  int acc = fi->flags & O_ACCMODE;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    gboolean readable = (node.mode & 0444) != 0;
    gboolean writable = (node.mode & 0222) != 0;
    r = 0;
    if ((acc == O_RDONLY || acc == O_RDWR) && !readable)
      r = -EACCES;
    if ((acc == O_WRONLY || acc == O_RDWR) && !writable)
      r = -EACCES;
    fi->direct_io = 1;
    fi->fh = 0;
    if (r == 0 && sim_node_is_dev (&node)) {
      guint64 handle = 0;
      g_autofree char *abs = g_strdup_printf ("/%s", rel (path));
      r = sim_open_dev (host, abs, (guint) fuse_get_context ()->pid, &handle);
      fi->fh = handle;
    }
    sim_node_clear (&node);
  }
  sim_host_unlock (host);
  return r;
}

static int
sim_release (const char *path, struct fuse_file_info *fi)
{
  if (fi->fh) {
    sim_host_lock (host);
    sim_release_dev (host, fi->fh);
    sim_host_unlock (host);
  }
  return 0;
}

static int
sim_read (const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *fi)
{
  SimNode node;
  int r = -ENOENT;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    g_autoptr (GBytes) bytes = sim_tree_read (host, &node);
    gsize len;
    const guint8 *data = g_bytes_get_data (bytes, &len);
    r = 0;
    if ((gsize) offset < len) {
      r = (int) MIN (size, len - (gsize) offset);
      memcpy (buf, data + offset, (gsize) r);
    }
    sim_node_clear (&node);
  }
  sim_host_unlock (host);
  return r;
}

static int
sim_write (const char *path, const char *buf, size_t size, off_t offset, struct fuse_file_info *fi)
{
  SimNode node;
  int r = -ENOENT;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    /* store() sees a NUL-terminated copy of what was written */
    char *terminated = g_malloc (size + 1);
    memcpy (terminated, buf, size);
    terminated[size] = '\0';
    if (node.kind != SIM_NODE_FILE)
      r = -EISDIR;
    else if (sim_node_is_dev (&node))
      r = -EINVAL;
    else
      r = sim_tree_write (host, rel (path), &node, terminated, size);
    if (r == 0)
      r = (int) size;
    g_free (terminated);
    sim_node_clear (&node);
  }
  sim_host_unlock (host);
  return r;
}

/* `echo x > file` opens with O_TRUNC; sysfs ignores the truncation. */
static int
sim_truncate (const char *path, off_t size, struct fuse_file_info *fi)
{
  SimNode node;
  int r = -ENOENT;

  sim_host_lock (host);
  if (sim_tree_lookup (host, rel (path), &node)) {
    r = node.kind == SIM_NODE_FILE && (node.mode & 0222) ? 0 : -EACCES;
    sim_node_clear (&node);
  }
  sim_host_unlock (host);
  return r;
}

static int
sim_create (const char *path, mode_t mode, struct fuse_file_info *fi)
{
  return -EACCES;
}

static int
sim_mknod (const char *path, mode_t mode, dev_t rdev)
{
  return -EACCES;
}

static int
sim_refuse (void)
{
  return -EPERM;
}

static int sim_mkdir (const char *p, mode_t m) { return sim_refuse (); }
static int sim_unlink (const char *p) { return sim_refuse (); }
static int sim_rmdir (const char *p) { return sim_refuse (); }
static int sim_symlink (const char *a, const char *b) { return sim_refuse (); }
static int sim_rename (const char *a, const char *b, unsigned int f) { return sim_refuse (); }
static int sim_link (const char *a, const char *b) { return sim_refuse (); }
static int sim_chmod (const char *p, mode_t m, struct fuse_file_info *fi) { return sim_refuse (); }
static int sim_chown (const char *p, uid_t u, gid_t g, struct fuse_file_info *fi) { return sim_refuse (); }

static const struct fuse_operations sim_ops = {
  .init = sim_init,
  .getattr = sim_getattr,
  .readlink = sim_readlink,
  .readdir = sim_readdir,
  .open = sim_open,
  .release = sim_release,
  .read = sim_read,
  .write = sim_write,
  .truncate = sim_truncate,
  .create = sim_create,
  .mknod = sim_mknod,
  .mkdir = sim_mkdir,
  .unlink = sim_unlink,
  .rmdir = sim_rmdir,
  .symlink = sim_symlink,
  .rename = sim_rename,
  .link = sim_link,
  .chmod = sim_chmod,
  .chown = sim_chown,
};

static void
list_scenarios (void)
{
  const char *dirs[] = { SIMFS_SOURCE_SCENARIOS, SIMFS_INSTALLED_SCENARIOS };

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autoptr (GDir) dir = g_dir_open (dirs[i], 0, NULL);
    const char *name;
    if (!dir)
      continue;
    while ((name = g_dir_read_name (dir)))
      if (g_str_has_suffix (name, ".json"))
        printf ("%.*s\n", (int) (strlen (name) - 5), name);
    return;
  }
}

int
main (int argc, char **argv)
{
  gboolean foreground = FALSE, debug = FALSE, capture = FALSE, list = FALSE;
  g_auto (GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground, "Stay in the foreground", NULL },
    { "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Print every FUSE request", NULL },
    { "capture", 0, 0, G_OPTION_ARG_NONE, &capture, "Print this host (or ROOT) as a scenario, read-only", NULL },
    { "list-scenarios", 0, 0, G_OPTION_ARG_NONE, &list, "List the built-in scenarios", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, "SCENARIO MOUNTPOINT" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("SCENARIO MOUNTPOINT");
  g_autoptr (GError) error = NULL;
  g_autofree char *scenario = NULL;
  GPtrArray *fargs;
  int r;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx,
    "Mounts a simulated GPU host: a sysfs, /dev and /proc tree that answers\n"
    "writes as Linux does. Unmount with: fusermount3 -u MOUNTPOINT\n\n"
    "  gpuvirt-simfs --capture [ROOT] > host.json   records a real host, read-only");
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "gpuvirt-simfs: %s\n", error->message);
    return 2;
  }
  if (list) {
    list_scenarios ();
    return 0;
  }
  if (capture) {
#ifdef HAVE_CAPTURE
    g_autofree char *json = sim_capture_to_json (rest && rest[0] ? rest[0] : "/", &error);
    if (!json) {
      fprintf (stderr, "gpuvirt-simfs: capture failed: %s\n", error->message);
      return 1;
    }
    fputs (json, stdout);
    return 0;
#else
    return 1;
#endif
  }
  if (!rest || g_strv_length (rest) != 2) {
    fprintf (stderr, "gpuvirt-simfs: expected SCENARIO and MOUNTPOINT (see --help)\n");
    return 2;
  }
  scenario = sim_scenario_find (rest[0]);
  if (!scenario) {
    fprintf (stderr, "gpuvirt-simfs: no scenario named '%s' (see --list-scenarios)\n", rest[0]);
    return 2;
  }
  host = sim_scenario_load (scenario, &error);
  if (!host) {
    fprintf (stderr, "gpuvirt-simfs: %s\n", error->message);
    return 1;
  }
  mount_time = time (NULL);
  host->stopping = fs_stopping;
  mountpoint = g_canonicalize_filename (rest[1], NULL);

  fargs = g_ptr_array_new ();
  g_ptr_array_add (fargs, argv[0]);
  g_ptr_array_add (fargs, rest[1]);
  g_ptr_array_add (fargs, (char *) "-o");
  g_ptr_array_add (fargs, (char *) (getuid () == 0 ? "fsname=gpuvirt-simfs,subtype=gpuvirt-simfs,default_permissions,allow_other,max_threads=64,max_idle_threads=16"
                                                   : "fsname=gpuvirt-simfs,subtype=gpuvirt-simfs,default_permissions,max_threads=64,max_idle_threads=16"));
  if (foreground)
    g_ptr_array_add (fargs, (char *) "-f");
  if (debug)
    g_ptr_array_add (fargs, (char *) "-d");
  /* the signals go to our own thread, in every thread FUSE starts too */
  {
    static sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    if (foreground)
      g_thread_unref (g_thread_new ("signals", signal_thread, &set));
    else
      daemon_signals = &set;
  }
  r = fuse_main ((int) fargs->len, (char **) fargs->pdata, &sim_ops, NULL);
  g_ptr_array_unref (fargs);
  sim_host_free (host);
  return r;
}
