/* NVIDIA's creatable_vgpu_types in both line forms (id first, name
 * first, with or without a header) and what each type name says. Every
 * type parsed has a name, and says of itself what its name says. */
#include "fuzz.h"

#include "host/vgpu-files.h"

#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GPtrArray) types = gv_host_vendor_types_parse (text);

  if (!types)
    abort ();
  for (guint i = 0; i < types->len; i++) {
    GvHostVendorType *t = types->pdata[i];
    GvHostTypeName again = { 0 };
    if (!t->name || !*t->name)
      abort ();
    gv_host_type_name_parse (t->name, &again);
    if (again.framebuffer_mb != t->parsed.framebuffer_mb || again.series != t->parsed.series)
      abort ();
    gv_host_type_name_clear (&again);
  }
  return 0;
}
