/* The fuzz targets without libFuzzer: runs the target once on every file
 * named on the command line and every file of every directory named
 * (its corpus, its regression inputs). A crash or sanitizer report fails
 * the run, as it would fail the fuzzer; the count of inputs is printed so
 * that an empty corpus is seen (and fails). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static guint
run_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize size = 0;

  if (!g_file_get_contents (path, &data, &size, &error))
    g_error ("replay: %s", error->message);
  LLVMFuzzerTestOneInput ((const uint8_t *) data, size);
  return 1;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static guint
run_path (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;
  guint n = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path);
  dir = g_dir_open (path, 0, NULL);
  if (!dir)
    g_error ("replay: cannot read %s", path);
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  for (guint i = 0; i < names->len; i++)
    n += run_path (names->pdata[i]);
  return n;
}

int
main (int argc, char **argv)
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    n += run_path (argv[i]);
  printf ("%s: %u inputs replayed\n", argv[0], n);
  if (n == 0) {
    fprintf (stderr, "%s: no input (an empty corpus tests nothing)\n", argv[0]);
    return 1;
  }
  return 0;
}
