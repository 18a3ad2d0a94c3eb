/* Which processes hold a GPU's nodes: /proc/PID/fd links and the
 * holder's comm and cmdline, as the holder scan reads them. Each
 * NUL-separated part is one process: "PID\nCOMM\nCMDLINE\nTARGET\n
 * TARGET...", each TARGET an fd link's target (the kernel's forms:
 * "/dev/nvidia0", "/dev/vfio/12", "socket:[123]", "/x (deleted)",
 * "anon_inode:[eventfd]"). Every holder found holds a node asked for,
 * once per process, and has a UTF-8 name (it goes out on D-Bus). */
#include "fuzz.h"

#include "host/holders.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const nodes[] = {
  "/dev/nvidia0", "/dev/dri/card1", "/dev/dri/renderD128", "/dev/vfio/12", "/dev/vfio/devices/vfio0", NULL,
};

static void
put_process (const char *proc, guint index, const char *part)
{
  g_auto (GStrv) lines = g_strsplit (part, "\n", 20);
  g_autofree char *pid = NULL;
  g_autofree char *fd_dir = NULL;

  if (!lines[0] || !*lines[0] || strchr (lines[0], '/') || g_str_equal (lines[0], ".") || g_str_equal (lines[0], ".."))
    pid = g_strdup_printf ("%u", 100 + index);
  else
    pid = g_strndup (lines[0], 64);
  fd_dir = g_build_filename (proc, pid, "fd", NULL);
  g_mkdir_with_parents (fd_dir, 0700);
  if (lines[0] && lines[1]) {
    g_autofree char *comm = g_build_filename (pid, "comm", NULL);
    g_autofree char *cmdline = g_build_filename (pid, "cmdline", NULL);
    fuzz_put (proc, comm, lines[1]);
    if (lines[2])
      fuzz_put (proc, cmdline, lines[2]);
  }
  for (guint i = 3; lines[0] && lines[1] && lines[2] && lines[i]; i++) {
    g_autofree char *link = g_strdup_printf ("%s/%u", fd_dir, i);
    if (*lines[i])
      symlink (lines[i], link);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, 8);
  g_autofree char *root = g_build_filename (fuzz_tmpdir (), "root", NULL);
  g_autofree char *proc = g_build_filename (root, "proc", NULL);
  g_autoptr (GPtrArray) holders = NULL;
  g_autoptr (GError) error = NULL;
  guint unreadable = 0;

  fuzz_rm_tree (root);
  g_mkdir_with_parents (proc, 0700);
  for (guint i = 0; parts[i]; i++)
    put_process (proc, i, parts[i]);
  holders = gv_host_holders_scan (root, nodes, &unreadable, &error);
  if (!holders)
    g_error ("fuzz-holders: %s", error->message);
  for (guint i = 0; i < holders->len; i++) {
    GvHostHolder *h = holders->pdata[i];
    g_autofree char *name = gv_host_holder_name (root, h);
    if (!g_strv_contains (nodes, h->node) || !h->comm || !name || !*name || h->pid < 0 ||
        !g_utf8_validate (h->comm, -1, NULL) || !g_utf8_validate (name, -1, NULL))
      abort ();
    if (i > 0) {
      GvHostHolder *prev = holders->pdata[i - 1];
      if (prev->pid == h->pid && g_str_equal (prev->node, h->node))
        abort ();
    }
  }
  return 0;
}
