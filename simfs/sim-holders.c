/* Holders of device nodes: simulated processes from the scenario or
 * .sim/holders, and real processes that open dev/ files in the mount. */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  guint pid;
  char *path;
} SimOpen;

static void
sim_open_free (SimOpen *open)
{
  g_free (open->path);
  g_free (open);
}

static SimProcess *
real_process (SimHost *host, guint pid)
{
  SimProcess *proc = sim_host_find_process (host, pid);
  g_autofree char *comm_path = NULL;
  g_autofree char *cmdline_path = NULL;
  g_autofree char *comm = NULL;
  g_autofree char *cmdline = NULL;
  gsize len = 0;

  if (proc)
    return proc;
  comm_path = g_strdup_printf ("/proc/%u/comm", pid);
  cmdline_path = g_strdup_printf ("/proc/%u/cmdline", pid);
  proc = g_new0 (SimProcess, 1);
  proc->pid = pid;
  proc->real = TRUE;
  proc->files = g_ptr_array_new_with_free_func (g_free);
  if (g_file_get_contents (comm_path, &comm, NULL, NULL))
    proc->comm = g_strdup (g_strchomp (comm));
  else
    proc->comm = g_strdup ("unknown");
  if (g_file_get_contents (cmdline_path, &cmdline, &len, NULL) && len > 0) {
    GPtrArray *argv = g_ptr_array_new ();
    for (gsize i = 0; i < len; i += strlen (cmdline + i) + 1)
      g_ptr_array_add (argv, g_strdup (cmdline + i));
    g_ptr_array_add (argv, NULL);
    proc->cmdline = (char **) g_ptr_array_free (argv, FALSE);
  } else {
    proc->cmdline = g_new0 (char *, 1);
  }
  g_ptr_array_add (host->processes, proc);
  return proc;
}

static gboolean
is_group_node (const char *path)
{
  const char *rest;

  if (!g_str_has_prefix (path, "/dev/vfio/"))
    return FALSE;
  rest = path + strlen ("/dev/vfio/");
  return g_ascii_isdigit (rest[0]) && strchr (rest, '/') == NULL;
}

/* vfio_group_fops_open(): a group node can be open only once. */
int
sim_open_dev (SimHost *host, const char *path, guint pid, guint64 *handle)
{
  SimProcess *proc;
  SimOpen *open;

  if (!host->opens)
    host->opens = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) sim_open_free);
  if (is_group_node (path) && sim_path_held (host, path))
    return -EBUSY;

  proc = real_process (host, pid);
  g_ptr_array_add (proc->files, g_strdup (path));
  open = g_new0 (SimOpen, 1);
  open->pid = pid;
  open->path = g_strdup (path);
  *handle = ++host->next_handle;
  g_hash_table_insert (host->opens, g_memdup2 (handle, sizeof *handle), open);
  sim_host_changed (host);
  return 0;
}

/* The NVIDIA driver is not always ready for a release right after the VM
 * closes the VF (Proxmox retries for 10 s): model that with the GPU's
 * release_delay_ms. */
void
sim_path_released (SimHost *host, const char *path)
{
  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *dev = host->devices->pdata[i];
    SimDevice *gpu = sim_device_gpu (dev);
    g_autofree char *group = NULL;
    g_autofree char *cdev = NULL;

    if (!gpu || !sim_device_has_vendor_vfio (dev) || !dev->current_vgpu_type)
      continue;
    group = g_strdup_printf ("/dev/vfio/%d", dev->iommu_group);
    cdev = g_strdup_printf ("/dev/vfio/devices/vfio%d", dev->vfio_cdev);
    if (g_str_equal (path, group) || g_str_equal (path, cdev))
      dev->vgpu_busy_until = g_get_monotonic_time () + (gint64) gpu->vgpu->release_delay_ms * 1000;
  }
  sim_host_changed (host);
}

void
sim_release_dev (SimHost *host, guint64 handle)
{
  SimOpen *open = host->opens ? g_hash_table_lookup (host->opens, &handle) : NULL;
  SimProcess *proc;

  if (!open)
    return;
  proc = sim_host_find_process (host, open->pid);
  if (proc) {
    for (guint i = 0; i < proc->files->len; i++) {
      if (g_str_equal (proc->files->pdata[i], open->path)) {
        g_ptr_array_remove_index (proc->files, i);
        break;
      }
    }
    if (proc->real && proc->files->len == 0)
      g_ptr_array_remove (host->processes, proc);
  }
  sim_path_released (host, open->path);
  g_hash_table_remove (host->opens, &handle);
}

/* .sim/holders: "add PID COMM PATH..." or "remove PID". */
int
sim_holders_command (SimHost *host, const char *line)
{
  g_auto (GStrv) words = g_strsplit_set (g_strstrip ((char *) line), " \t\n", -1);
  guint n = g_strv_length (words);
  guint64 pid;

  if (n >= 2 && g_str_equal (words[0], "remove")) {
    SimProcess *proc;
    if (!g_ascii_string_to_unsigned (words[1], 10, 1, G_MAXUINT32, &pid, NULL))
      return -EINVAL;
    proc = sim_host_find_process (host, (guint) pid);
    if (!proc || proc->real)
      return -ESRCH;
    for (guint i = 0; i < proc->files->len; i++)
      sim_path_released (host, proc->files->pdata[i]);
    g_ptr_array_remove (host->processes, proc);
    sim_host_changed (host);
    return 0;
  }
  if (n >= 4 && g_str_equal (words[0], "add")) {
    SimProcess *proc;
    if (!g_ascii_string_to_unsigned (words[1], 10, 1, G_MAXUINT32, &pid, NULL))
      return -EINVAL;
    if (sim_host_find_process (host, (guint) pid))
      return -EEXIST;
    proc = g_new0 (SimProcess, 1);
    proc->pid = (guint) pid;
    proc->comm = g_strdup (words[2]);
    proc->cmdline = g_strdupv ((char *[]) { words[2], NULL });
    proc->files = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 3; i < n; i++)
      if (words[i][0] == '/')
        g_ptr_array_add (proc->files, g_strdup (words[i]));
    g_ptr_array_add (host->processes, proc);
    sim_host_changed (host);
    return 0;
  }
  return -EINVAL;
}
