// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The PF as a parent of the kernel's mdev core (Linux 6.1's API:
 * mdev_register_parent() and a struct mdev_driver), as NVIDIA's driver
 * does for Turing and older GPUs: mdev_supported_types/nvidia-N with name,
 * description, device_api, available_instances and create; each mdev is
 * a VFIO device with an emulated IOMMU, so it has /dev/vfio/<group>.
 *
 * Who counts instances is the point of the two mdev drivers below. In
 * 6.1, mdev_device_create() checks and decrements a per-parent counter
 * (initialised from mdev_driver.max_instances, EUSERS at 0) only when the
 * driver has no get_available; with get_available the core creates the
 * device and only the driver's probe can refuse it, and
 * available_instances shows what get_available says, per type.
 *  - "nvidia-vgpu" (the default) has get_available and refuses in probe
 *    (EUSERS, like the core), per type: the placement rule of
 *    placement.c, as NVIDIA's per-type available_instances shows it.
 *  - "nvidia-vgpu-counted" (mdev_counting=core) has none: the core counts
 *    for the whole parent and every type shows the same number.
 */
#include <linux/module.h>

#include "nvidia-model.h"

struct nvm_mdev_vfio {
	struct vfio_device vdev;	/* first: vfio_alloc_device() */
	struct nvm_mdev_type *mtype;
};

static struct nvm_mdev_type *nvm_mtype(struct mdev_type *mtype)
{
	return container_of(mtype, struct nvm_mdev_type, type);
}

/* ---- the VFIO device of an mdev ---- */

static void nvm_mdev_vfio_release(struct vfio_device *vdev)
{
	vfio_free_device(vdev);
}

static const struct vfio_device_ops nvm_mdev_vfio_ops = {
	.name = "nvidia-vgpu-mdev",
	.release = nvm_mdev_vfio_release,
};

/* ---- the mdev driver ---- */

static int nvm_mdev_probe(struct mdev_device *mdev)
{
	struct nvm_mdev_type *mt = nvm_mtype(mdev->type);
	struct nvm_gpu *gpu = mt->gpu;
	struct nvm_mdev_vfio *v;
	int ret;

	mutex_lock(&gpu->lock);
	if (!gpu->core_counts && !nvm_capacity(gpu, mt->index)) {
		mutex_unlock(&gpu->lock);
		dev_info(&mdev->dev, "nvidia-model: no room for %s on %s: refused in probe\n",
			 gpu->model->types[mt->index].name, pci_name(gpu->pdev));
		return -EUSERS;
	}
	gpu->used[mt->index]++;
	mutex_unlock(&gpu->lock);

	v = vfio_alloc_device(nvm_mdev_vfio, vdev, &mdev->dev, &nvm_mdev_vfio_ops);
	if (IS_ERR(v)) {
		ret = PTR_ERR(v);
		goto undo;
	}
	v->mtype = mt;
	ret = vfio_register_emulated_iommu_dev(&v->vdev);
	if (ret) {
		vfio_put_device(&v->vdev);
		goto undo;
	}
	dev_set_drvdata(&mdev->dev, v);
	return 0;

undo:
	mutex_lock(&gpu->lock);
	gpu->used[mt->index]--;
	mutex_unlock(&gpu->lock);
	return ret;
}

static void nvm_mdev_remove(struct mdev_device *mdev)
{
	struct nvm_mdev_vfio *v = dev_get_drvdata(&mdev->dev);
	struct nvm_gpu *gpu = v->mtype->gpu;
	int index = v->mtype->index;

	/* blocks while a VFIO user has the device open */
	vfio_unregister_group_dev(&v->vdev);
	vfio_put_device(&v->vdev);
	mutex_lock(&gpu->lock);
	gpu->used[index]--;
	mutex_unlock(&gpu->lock);
}

static unsigned int nvm_mdev_get_available(struct mdev_type *mtype)
{
	struct nvm_mdev_type *mt = nvm_mtype(mtype);
	unsigned int n;

	mutex_lock(&mt->gpu->lock);
	n = nvm_capacity(mt->gpu, mt->index);
	mutex_unlock(&mt->gpu->lock);
	return n;
}

/* NVIDIA's form: "num_heads=4, frl_config=60, framebuffer=1024M,
 * max_resolution=5120x2880, max_instance=16". */
static ssize_t nvm_mdev_show_description(struct mdev_type *mtype, char *buf)
{
	struct nvm_mdev_type *mt = nvm_mtype(mtype);
	const struct nvm_type *t = &mt->gpu->model->types[mt->index];

	return sysfs_emit(buf, "num_heads=%u, frl_config=%u, framebuffer=%uM, max_resolution=%s, max_instance=%u\n",
			  t->num_heads, t->frl_config, t->fb_mib, t->max_resolution, t->max_instance);
}

static struct mdev_driver nvm_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "nvidia-vgpu",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = nvm_mdev_probe,
	.remove = nvm_mdev_remove,
	.get_available = nvm_mdev_get_available,
	.show_description = nvm_mdev_show_description,
};

static struct mdev_driver nvm_mdev_driver_counted = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "nvidia-vgpu-counted",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = nvm_mdev_probe,
	.remove = nvm_mdev_remove,
	.show_description = nvm_mdev_show_description,
};

int nvm_mdev_init(unsigned int core_instances)
{
	int ret;

	nvm_mdev_driver_counted.max_instances = core_instances;
	ret = mdev_register_driver(&nvm_mdev_driver);
	if (ret)
		return ret;
	ret = mdev_register_driver(&nvm_mdev_driver_counted);
	if (ret)
		mdev_unregister_driver(&nvm_mdev_driver);
	return ret;
}

void nvm_mdev_exit(void)
{
	mdev_unregister_driver(&nvm_mdev_driver_counted);
	mdev_unregister_driver(&nvm_mdev_driver);
}

/* ---- the PF as a parent ---- */

int nvm_mdev_gpu_probe(struct nvm_gpu *gpu)
{
	unsigned int n = gpu->model->n_types, i;
	int ret;

	gpu->mtypes = kcalloc(n, sizeof(*gpu->mtypes), GFP_KERNEL);
	gpu->mtype_ptrs = kcalloc(n, sizeof(*gpu->mtype_ptrs), GFP_KERNEL);
	if (!gpu->mtypes || !gpu->mtype_ptrs) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct nvm_mdev_type *mt = &gpu->mtypes[i];

		mt->gpu = gpu;
		mt->index = i;
		/* the core names the directory "<driver>-<sysfs_name>": nvidia-230 */
		snprintf(mt->sysfs_name, sizeof(mt->sysfs_name), "%u", gpu->model->types[i].id);
		mt->type.sysfs_name = mt->sysfs_name;
		mt->type.pretty_name = gpu->model->types[i].name;
		gpu->mtype_ptrs[i] = &mt->type;
	}
	ret = mdev_register_parent(&gpu->parent, &gpu->pdev->dev,
				   gpu->core_counts ? &nvm_mdev_driver_counted : &nvm_mdev_driver,
				   gpu->mtype_ptrs, n);
	if (ret)
		goto fail;
	return 0;

fail:
	kfree(gpu->mtype_ptrs);
	kfree(gpu->mtypes);
	return ret;
}

/* Removes every mdev of the parent (each waits for its VFIO users). */
void nvm_mdev_gpu_remove(struct nvm_gpu *gpu)
{
	mdev_unregister_parent(&gpu->parent);
	kfree(gpu->mtype_ptrs);
	kfree(gpu->mtypes);
}
