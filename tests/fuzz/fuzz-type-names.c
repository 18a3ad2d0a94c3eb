/* vGPU type names: the catalogue gpuvirtd keeps in its state directory
 * (STATE_DIR/vgpu-types, read at start), what it learns from creatable
 * lists, and the names a caller asks for (an id, a name, a short name).
 * Parts (NUL-separated): the state file, a VF's creatable list, then
 * names asked for. What is learned and saved reads back the same. */
#include "fuzz.h"

#include "host/vgpu-files.h"
#include "vgpu/type-names.h"
#include "vgpu/vgpu.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, 8);
  g_autofree char *state = g_build_filename (fuzz_tmpdir (), "state", NULL);
  g_autoptr (GvVgpuTypeNames) names = NULL;
  g_autoptr (GvVgpuTypeNames) again = NULL;
  g_autofree char *vf = g_build_filename (fuzz_tmpdir (), "vf", NULL);
  g_autoptr (GvHostVendorVfio) vendor = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;

  fuzz_rm_tree (state);
  fuzz_put (state, "vgpu-types", parts[0]);
  names = gv_vgpu_type_names_new (state);
  /* the list as a VF's nvidia/ directory gives it, through the reader */
  fuzz_rm_tree (vf);
  if (parts[1])
    fuzz_put (vf, "nvidia/creatable_vgpu_types", parts[1]);
  vendor = gv_host_vendor_vfio_read (vf);
  for (guint i = 0; vendor && i < vendor->creatable->len; i++) {
    GvHostVendorType *t = vendor->creatable->pdata[i];
    gv_vgpu_type_names_learn (names, t->id, t->name);
  }
  for (guint i = 2; parts[1] && parts[i]; i++) {
    guint id = gv_vgpu_type_names_resolve (names, parts[i]);
    const char *name = gv_vgpu_type_names_lookup (names, id);
    g_autofree char *id_text = g_strdup_printf ("%u", id);
    gv_vgpu_type_names_knows (names, parts[i]);
    gv_vgpu_type_names_largest (names, parts[i]);
    gv_vgpu_uuid_is_valid (parts[i]);
    /* a name the catalogue resolves matches what it resolved to */
    if (name && !gv_vgpu_type_matches (id_text, name, parts[i]))
      abort ();
  }
  text = gv_vgpu_type_names_to_text (names);
  gv_vgpu_type_names_save (names);
  again = gv_vgpu_type_names_new (state);
  text_again = gv_vgpu_type_names_to_text (again);
  if (!g_str_equal (text, text_again)) {
    g_printerr ("saved:   %s\nread back: %s\n", text, text_again);
    abort ();
  }
  return 0;
}
