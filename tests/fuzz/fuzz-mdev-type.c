/* One mdev type directory as a driver writes it: the input's NUL-separated
 * parts are name, description, device_api, available_instances and the
 * nvidia/ directory's creatable_vgpu_types and current_vgpu_type of the
 * same function, read through the host model's readers. Every field of
 * a description has a key, a field it gives is found again, and every
 * text read is UTF-8 (it goes out on D-Bus). */
#include "fuzz.h"

#include "host/vgpu-files.h"

#include <stdlib.h>
#include <string.h>

static const char *const files[] = {
  "mdev_supported_types/nvidia-562/name",
  "mdev_supported_types/nvidia-562/description",
  "mdev_supported_types/nvidia-562/device_api",
  "mdev_supported_types/nvidia-562/available_instances",
  "nvidia/creatable_vgpu_types",
  "nvidia/current_vgpu_type",
};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, G_N_ELEMENTS (files));
  g_autofree char *dir = g_build_filename (fuzz_tmpdir (), "fn", NULL);
  g_autoptr (GPtrArray) types = NULL;
  g_autoptr (GvHostVendorVfio) vendor = NULL;

  fuzz_rm_tree (dir);
  for (guint i = 0; parts[i]; i++)
    fuzz_put (dir, files[i], parts[i]);
  types = gv_host_mdev_types_read (dir);
  for (guint i = 0; types && i < types->len; i++) {
    GvHostMdevType *t = types->pdata[i];
    guint mb = 0;
    if (!t->name || !t->description || !t->device_api || !t->field_keys || !t->field_values)
      abort ();
    if (g_strv_length (t->field_keys) != g_strv_length (t->field_values))
      abort ();
    /* all of it may go out on D-Bus */
    if (!g_utf8_validate (t->name, -1, NULL) || !g_utf8_validate (t->description, -1, NULL) ||
        !g_utf8_validate (t->device_api, -1, NULL))
      abort ();
    for (guint k = 0; t->field_keys[k]; k++) {
      if (!*t->field_keys[k])
        abort ();
      if (!gv_host_mdev_type_get_field (t, t->field_keys[k]))
        abort ();
      gv_host_parse_size_mb (t->field_values[k], &mb);
    }
  }
  vendor = gv_host_vendor_vfio_read (dir);
  if (vendor && !vendor->creatable)
    abort ();
  for (guint i = 0; vendor && i < vendor->creatable->len; i++)
    if (!g_utf8_validate (((GvHostVendorType *) vendor->creatable->pdata[i])->name, -1, NULL))
      abort ();
  return 0;
}
