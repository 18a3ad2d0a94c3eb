/* Helpers shared by the rule files; not part of the model's public face. */
#pragma once

#include "sim-model.h"

gboolean sim_host_wait (SimHost *host);
void sim_host_sleep (SimHost *host, guint ms);
SimVgpu *sim_vgpu_new (void);
int sim_iommu_group_alloc (SimHost *host);
int sim_vfio_cdev_alloc (SimHost *host);
gboolean sim_device_vfio_held (SimHost *host, SimDevice *dev);
gboolean sim_device_host_nodes_held (SimHost *host, SimDevice *dev);

/* Driver core */
gboolean sim_driver_matches (SimDriver *drv, SimDevice *dev);
int sim_device_attach (SimHost *host, SimDevice *dev);
void sim_device_release_driver (SimHost *host, SimDevice *dev);
gboolean sim_device_lock (SimHost *host, SimDevice *dev) G_GNUC_WARN_UNUSED_RESULT;
void sim_host_bury_device (SimHost *host, SimDevice *dev);
void sim_device_unlock (SimHost *host, SimDevice *dev);

/* vGPU side effects of binding and unbinding */
void sim_vgpu_driver_removed (SimHost *host, SimDevice *dev);
void sim_mdev_destroy (SimHost *host, SimMdev *mdev);

/* SR-IOV */
void sim_sriov_remove_vfs (SimHost *host, SimDevice *pf);

void sim_fault_free (gpointer fault);
