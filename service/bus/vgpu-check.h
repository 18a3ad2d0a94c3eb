/* State checks of the SR-IOV and vGPU methods, made on the host model
 * before polkit is asked (a refused call writes nothing and asks nobody). */
#pragma once

#include <glib.h>

#include "daemon/daemon.h"

/* The GPU (physical function) DEVICE belongs to: its PF, or itself. */
GvHostDevice *vgpu_check_gpu_of (Daemon *daemon, GvHostDevice *device);

/* Whether any function of GPU's family offers, or carries, a type that
 * WANTED names. *OFFERED (may be NULL): "NVIDIA A40-8Q (nvidia-558), ..."
 * or "none". */
gboolean vgpu_check_type_known (Daemon *daemon, GvHostDevice *gpu, const char *wanted, char **offered);

/* Remembers the names of the vendor-VFIO types the VFs list now (after
 * every read of the host). */
void vgpu_check_learn_type_names (Daemon *daemon);
/* The name of vendor-VFIO type ID as a VF once listed it, or "". */
const char *vgpu_check_vendor_type_name (Daemon *daemon, guint id);

/* Whether WANTED names a vendor-VFIO type seen on this host; the names of
 * all of them, "NVIDIA L40S-1B (1153), ...", by id, or "none". */
gboolean vgpu_check_cached_type_matches (Daemon *daemon, const char *wanted);
char *vgpu_check_cached_types_text (Daemon *daemon);

/* PARENT's mdev type WANTED names (borrowed), or NULL. */
GvHostMdevType *vgpu_check_mdev_type (GvHostDevice *parent, const char *wanted);

/* The mdev with UUID (any case; borrowed), or NULL. */
GvHostMdev *vgpu_check_find_mdev (Daemon *daemon, const char *uuid);

/* The one mdev made on PARENT (borrowed); NULL when none or several. */
GvHostMdev *vgpu_check_only_mdev_of (Daemon *daemon, GvHostDevice *parent);

/* Who holds VF's (or MDEV's) VFIO nodes: "" when nobody, NULL on error. */
char *vgpu_check_vf_holders (Daemon *daemon, GvHostDevice *vf, GError **error);
char *vgpu_check_mdev_holders (Daemon *daemon, GvHostMdev *mdev, GError **error);

/* What keeps PF's VFs from going: types carried, mdevs hosted, VFIO nodes
 * open, each named; EXCEPT_VF / EXCEPT_UUID (may be NULL) are left out
 * (the vGPU being removed). "" when nothing, NULL on error. */
char *vgpu_check_vfs_in_use (Daemon *daemon, GvHostDevice *pf, const char *except_vf, const char *except_uuid,
                             GError **error);

/* Whether GPU's family still has a vGPU besides EXCEPT_VF / EXCEPT_UUID. */
gboolean vgpu_check_has_vgpus (Daemon *daemon, GvHostDevice *gpu, const char *except_vf, const char *except_uuid);

/* GPU and its VFs' BDFs (for marking busy). */
GStrv vgpu_check_family_bdfs (GvHostDevice *gpu);
