/* The host's vGPUs as 'vgpu list' and 'vgpu remove' see them, from one
 * GetManagedObjects() snapshot. */
#pragma once

#include "bus-model.h"

#include <json-glib/json-glib.h>

/* One vGPU: an mdev, or a vendor-VFIO VF that carries a type. */
typedef struct
{
  char *path;          /* the object RemoveVgpu() takes: the mdev's, or the VF's */
  char *gpu;           /* the GPU's device object, whose Vgpu methods act on it */
  char *parent;        /* the function it lives on: the mdev's parent, or the VF */
  gboolean is_mdev;
  char *name;          /* an mdev's UUID, a VF's address */
  char *address;       /* the parent's (or VF's) address */
  char *framework;     /* the GPU's vGPU framework */
  char *uuid;          /* "" for a VF */
  char *type;
  char *type_name;
  char *vfio_group_node;
  char *vfio_device_node;
  GVariant *holders;   /* a(uss), never NULL */
} CtlVgpu;

void ctl_vgpu_free (CtlVgpu *vgpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlVgpu, ctl_vgpu_free)

/* The GPU a function belongs to: its Gpu, else its PhysicalFunction, else
 * the function itself (a GPU, e.g. the parent of mdev-pf mdevs). */
char *ctl_gpu_of_function (BusModel *model, const char *path);

/* Every vGPU of the host, by GPU address, then by name. */
GPtrArray *ctl_vgpus_collect (BusModel *model);

/* "qemu-system-x86 (4321), ..." from Holders a(uss); "" when none. */
char *ctl_holders_users (GVariant *holders);

/* The JSON form of one vGPU (client/README.md, 'vgpu list'). */
JsonObject *ctl_vgpu_json (CtlVgpu *vgpu);
