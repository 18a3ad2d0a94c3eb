/* Editing the main file by hand-written text (the persist option and
 * SaveConfig keep its comments and layout): the text (before the first
 * NUL) is the main file, the rest one drop-in. Each kind of edit is made
 * on a device the text names and on one it does not; the edited text is
 * scanned again. */
#include "fuzz.h"

#include "config/config.h"
#include "config/internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const uuids[] = { "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f", NULL };

static void
edit (GvConfigEditor *editor, const char *bdf)
{
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL, e7 = NULL;

  gv_config_editor_set_passthrough (editor, bdf, 0x10de, 0x26b9, TRUE, &e1);
  gv_config_editor_set_num_vfs (editor, bdf, 0x10de, 0x26b9, 4, &e2);
  gv_config_editor_set_vgpu_type (editor, bdf, 0x10de, 0x26b9, "NVIDIA L40S-24Q", &e3);
  gv_config_editor_set_vgpu_count (editor, bdf, 0x10de, 0x26b9, "L40S-24Q", 2, &e4);
  gv_config_editor_add_mdev (editor, uuids[0], bdf, 0x10de, 0x2235, "nvidia-562", &e5);
  gv_config_editor_set_num_vfs (editor, bdf, 0x10de, 0x26b9, 0, &e6);
  gv_config_editor_set_passthrough (editor, bdf, 0x10de, 0x26b9, FALSE, &e7);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, 2);
  g_autofree char *main_file = g_build_filename (fuzz_tmpdir (), "gpuvirt.conf", NULL);
  g_autofree char *dropins = g_build_filename (fuzz_tmpdir (), "conf.d", NULL);
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GvConfig) loaded = NULL;
  GvConfigEditor *editor;
  g_autofree char *text = NULL;

  if (size > GV_CONFIG_MAX_SIZE)
    return 0;
  fuzz_put (fuzz_tmpdir (), "gpuvirt.conf", parts[0]);
  fuzz_rm_tree (dropins);
  if (parts[1])
    fuzz_put (dropins, "50-fuzz.conf", parts[1]);

  loaded = gv_config_load (main_file, dropins, &problems, &error);
  if (!loaded == !error)
    abort ();
  if (loaded && problems->len > 0)
    abort ();

  editor = gv_config_editor_new (main_file, dropins, NULL);
  if (!editor)
    return 0;
  edit (editor, "0000:41:00.0");
  if (loaded && gv_config_get_devices (loaded)->len > 0)
    edit (editor, ((GvConfigDevice *) gv_config_get_devices (loaded)->pdata[0])->bdf);
  gv_config_editor_remove_mdev (editor, uuids[0], NULL);
  text = gv_config_editor_get_text (editor);
  if (!text)
    abort ();
  {
    /* the edited text scans again */
    g_autoptr (GPtrArray) again = gv_config_problems_new ();
    g_ptr_array_unref (gv_config_scan (text, NULL, again));
  }
  gv_config_editor_free (editor);
  return 0;
}
