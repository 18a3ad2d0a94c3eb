/* Helpers of the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

GStrv
fuzz_split (const uint8_t *data, size_t size, guint max)
{
  GPtrArray *parts = g_ptr_array_new ();
  size_t start = 0;

  for (size_t i = 0; i <= size; i++) {
    if (i < size && (data[i] != '\0' || parts->len + 1 >= max))
      continue;
    g_ptr_array_add (parts, g_strndup ((const char *) data + start, i - start));
    start = i + 1;
  }
  g_ptr_array_add (parts, NULL);
  return (GStrv) g_ptr_array_free (parts, FALSE);
}

static char *tmpdir;

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  if (remove (path) < 0 && errno != ENOENT)
    g_error ("fuzz: cannot remove %s: %s", path, g_strerror (errno));
  return 0;
}

void
fuzz_rm_tree (const char *path)
{
  nftw (path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
remove_tmpdir (void)
{
  if (tmpdir)
    fuzz_rm_tree (tmpdir);
}

const char *
fuzz_tmpdir (void)
{
  if (!tmpdir) {
    tmpdir = g_dir_make_tmp ("gpuvirt-fuzz-XXXXXX", NULL);
    if (!tmpdir)
      g_error ("fuzz: cannot make a temporary directory");
    atexit (remove_tmpdir);
  }
  return tmpdir;
}

void
fuzz_put (const char *dir, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (parent, 0700) < 0)
    g_error ("fuzz: cannot make %s: %s", parent, g_strerror (errno));
  if (!g_file_set_contents (path, text, -1, &error))
    g_error ("fuzz: %s", error->message);
}

/* GLib ends a fatal message with SIGTRAP, which libFuzzer does not
 * catch: as SIGABRT it saves the input. */
static void
trap_to_abort (int sig)
{
  (void) sig;
  abort ();
}

/* A GLib critical is a failed precondition: fatal under the fuzzer as
 * under meson test (G_DEBUG=fatal-criticals). */
__attribute__ ((constructor)) static void
fatal_criticals (void)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  signal (SIGTRAP, trap_to_abort);
}
