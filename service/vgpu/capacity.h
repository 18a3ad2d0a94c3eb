/* How many more vGPUs of a vendor-VFIO type fit on a GPU now, from what
 * sysfs and the type catalogue tell (the figure Vgpu.Types gives a GPU).
 * NVIDIA's time-sliced vGPUs share the GPU's framebuffer: a type of F MiB
 * fits as often as the framebuffer left allows, the GPU's largest type of
 * its model being the whole framebuffer; each needs a free VF that lists
 * it (the driver's own verdict, which also says whether sizes may mix). */
#pragma once

#include <glib.h>

#include "host/model.h"
#include "vgpu/type-names.h"

G_BEGIN_DECLS

typedef struct {
  guint fits;          /* more vGPUs of the type that fit now */
  guint max_instance;  /* on the GPU when it carries none: framebuffer / the type's, at most its VFs; 0: unknown */
} GvVgpuCapacity;

/* For type TYPE_ID on GPU (the PF). */
GvVgpuCapacity gv_vgpu_vendor_capacity (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *gpu, guint type_id);

G_END_DECLS
