#include "host/holders.h"
#include "sysfs/read.h"

#include <errno.h>
#include <string.h>

void
gv_host_holder_free (GvHostHolder *holder)
{
  if (!holder)
    return;
  g_free (holder->comm);
  g_free (holder->node);
  g_free (holder);
}

static void
add_unique (GPtrArray *nodes, const char *node)
{
  if (node && !g_ptr_array_find_with_equal_func (nodes, node, g_str_equal, NULL))
    g_ptr_array_add (nodes, g_strdup (node));
}

GStrv
gv_host_holder_nodes_for (const GvHostFunction *fn, const char *vfio_group_node, GPtrArray *mdevs)
{
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *nvidia = gv_host_function_nvidia_node (fn);

  add_unique (nodes, nvidia);
  for (guint i = 0; fn->drm_nodes && fn->drm_nodes[i]; i++)
    add_unique (nodes, fn->drm_nodes[i]);
  add_unique (nodes, vfio_group_node);
  add_unique (nodes, fn->vfio_cdev_node);
  for (guint i = 0; mdevs && i < mdevs->len; i++) {
    const GvHostMdev *mdev = mdevs->pdata[i];
    if (!g_str_equal (mdev->parent, fn->bdf))
      continue;
    add_unique (nodes, mdev->vfio_group_node);
    add_unique (nodes, mdev->vfio_cdev_node);
  }
  g_ptr_array_set_free_func (nodes, NULL);
  g_ptr_array_add (nodes, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&nodes), FALSE);
}

static gint
holder_compare (gconstpointer a, gconstpointer b)
{
  const GvHostHolder *x = *(const GvHostHolder *const *) a, *y = *(const GvHostHolder *const *) b;

  if (x->pid != y->pid)
    return x->pid < y->pid ? -1 : 1;
  return strcmp (x->node, y->node);
}

static gboolean
all_digits (const char *s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

GPtrArray *
gv_host_holders_scan (const char *root, const char *const *nodes, guint *n_unreadable, GError **error)
{
  g_autofree char *proc = g_build_filename (root, "proc", NULL);
  g_autoptr (GPtrArray) holders = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_holder_free);
  g_autoptr (GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) local = NULL;
  const char *pid_name;
  guint unreadable = 0;

  for (guint i = 0; nodes && nodes[i]; i++)
    g_hash_table_add (wanted, (gpointer) nodes[i]);

  dir = g_dir_open (proc, 0, &local);
  if (!dir) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "Cannot list processes: ");
    return NULL;
  }
  if (g_hash_table_size (wanted) == 0)
    goto out;

  while ((pid_name = g_dir_read_name (dir))) {
    g_autofree char *pid_dir = NULL;
    g_autofree char *fd_dir = NULL;
    g_autoptr (GDir) fds = NULL;
    g_autoptr (GHashTable) seen = NULL;
    g_autofree char *comm = NULL;
    const char *fd;
    guint64 pid;

    if (!all_digits (pid_name) || strlen (pid_name) > 9)
      continue;
    pid = g_ascii_strtoull (pid_name, NULL, 10);
    pid_dir = g_build_filename (proc, pid_name, NULL);
    fd_dir = g_build_filename (pid_dir, "fd", NULL);
    fds = g_dir_open (fd_dir, 0, NULL);
    if (!fds) {
      /* a process that exited meanwhile is not worth counting */
      if (g_file_test (pid_dir, G_FILE_TEST_IS_DIR))
        unreadable++;
      continue;
    }
    seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    while ((fd = g_dir_read_name (fds))) {
      g_autofree char *link = g_build_filename (fd_dir, fd, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);
      GvHostHolder *holder;

      if (!target || !g_hash_table_contains (wanted, target) || g_hash_table_contains (seen, target))
        continue;
      if (!comm) {
        comm = gv_sysfs_read_attr (pid_dir, "comm");
        if (!comm)
          comm = g_strdup ("");
      }
      holder = g_new0 (GvHostHolder, 1);
      holder->pid = (int) pid;
      holder->comm = g_strdup (comm);
      holder->node = g_strdup (target);
      g_hash_table_add (seen, g_steal_pointer (&target));
      g_ptr_array_add (holders, holder);
    }
  }

out:
  g_ptr_array_sort (holders, holder_compare);
  if (n_unreadable)
    *n_unreadable = unreadable;
  return g_steal_pointer (&holders);
}

char *
gv_host_holder_name (const char *root, const GvHostHolder *holder)
{
  g_autofree char *dir = g_strdup_printf ("%s/proc/%d", root, holder->pid);
  g_autofree char *cmdline = gv_sysfs_read_attr_raw (dir, "cmdline");
  g_autofree char *base = cmdline && *cmdline ? g_path_get_basename (cmdline) : NULL;

  /* comm is cut at 15 characters ("nvidia-persiste"): the program name
   * from cmdline reads better when it is the same program */
  if (base && strlen (holder->comm) == 15 && g_str_has_prefix (base, holder->comm))
    return g_steal_pointer (&base);
  return g_strdup (*holder->comm ? holder->comm : "?");
}
