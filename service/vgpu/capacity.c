/* The capacity of a vendor-VFIO GPU (see capacity.h). */
#include "vgpu/capacity.h"

#include <string.h>

/* "L40S" of "NVIDIA L40S-24Q": the model a type belongs to. */
static char *
model_of (const char *name)
{
  GvHostTypeName parsed = { 0 };
  char *model = NULL;

  gv_host_type_name_parse (name, &parsed);
  if (parsed.short_name && strchr (parsed.short_name, '-'))
    model = g_strndup (parsed.short_name, strchr (parsed.short_name, '-') - parsed.short_name);
  gv_host_type_name_clear (&parsed);
  return model;
}

static guint
framebuffer_of (const char *name)
{
  GvHostTypeName parsed = { 0 };
  guint mb;

  gv_host_type_name_parse (name, &parsed);
  mb = parsed.framebuffer_mb;
  gv_host_type_name_clear (&parsed);
  return mb;
}

/* The name of TYPE_ID from the family's lists or the catalogue. */
static const char *
name_of (GvVgpuTypeNames *names, GPtrArray *vfs, guint type_id)
{
  for (guint i = 0; i < vfs->len; i++) {
    GvHostVendorVfio *vendor = ((GvHostDevice *) vfs->pdata[i])->fn->vendor_vfio;
    for (guint j = 0; vendor && j < vendor->creatable->len; j++) {
      GvHostVendorType *t = vendor->creatable->pdata[j];
      if (t->id == type_id)
        return t->name;
    }
  }
  return gv_vgpu_type_names_lookup (names, type_id);
}

GvVgpuCapacity
gv_vgpu_vendor_capacity (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *gpu, guint type_id)
{
  g_autoptr (GPtrArray) vfs = g_ptr_array_new ();
  GvVgpuCapacity capacity = { 0, 0 };
  g_autofree char *model = NULL;
  const char *name;
  guint offered = 0, carried = 0, fb, total = 0, used = 0;

  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (host, gpu->fn->vfs[i]);
    if (vf && vf->fn->vendor_vfio)
      g_ptr_array_add (vfs, vf);
  }
  name = name_of (names, vfs, type_id);
  fb = name ? framebuffer_of (name) : 0;
  model = name ? model_of (name) : NULL;

  for (guint i = 0; i < vfs->len; i++) {
    GvHostVendorVfio *vendor = ((GvHostDevice *) vfs->pdata[i])->fn->vendor_vfio;
    if (vendor->current_type != 0) {
      const char *carried_name = name_of (names, vfs, vendor->current_type);
      used += carried_name ? framebuffer_of (carried_name) : 0;
      carried += vendor->current_type == type_id;
      continue;
    }
    for (guint j = 0; j < vendor->creatable->len; j++)
      if (((GvHostVendorType *) vendor->creatable->pdata[j])->id == type_id) {
        offered++;
        break;
      }
  }
  /* the whole framebuffer: the largest type of the model seen, here or
   * in the catalogue */
  for (guint i = 0; model && i < vfs->len; i++) {
    GvHostVendorVfio *vendor = ((GvHostDevice *) vfs->pdata[i])->fn->vendor_vfio;
    for (guint j = 0; j < vendor->creatable->len; j++) {
      GvHostVendorType *t = vendor->creatable->pdata[j];
      g_autofree char *m = model_of (t->name);
      if (g_strcmp0 (m, model) == 0)
        total = MAX (total, framebuffer_of (t->name));
    }
  }
  if (model)
    total = MAX (total, gv_vgpu_type_names_largest (names, model));
  if (fb == 0 || total == 0) {
    capacity.fits = offered;
    return capacity;
  }
  capacity.max_instance = MIN (total / fb, MAX (vfs->len, gpu->fn->sriov_totalvfs));
  capacity.fits = MIN (offered, total > used ? (total - used) / fb : 0);
  capacity.fits = MIN (capacity.fits, capacity.max_instance > carried ? capacity.max_instance - carried : 0);
  return capacity;
}
