// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Vendor-specific VFIO, as public reports describe NVIDIA's for Ada and
 * later GPUs (cozystack#2608, kubevirt#17642): SR-IOV on the PF; each VF
 * stays on nvidia and has nvidia/creatable_vgpu_types and
 * nvidia/current_vgpu_type; once a VF carries a type it is a VFIO device
 * (vfio-dev/vfioN, /dev/vfio/<group>) while still on nvidia. Here the VFIO
 * device is vfio-pci-core's, registered from this driver, the way vfio-pci
 * and the vendor variant drivers register theirs.
 */
#include <linux/delay.h>
#include <linux/sysfs.h>

#include "nvidia-model.h"

/* ---- VFIO: the VF while it carries a type ---- */

static int nvm_vf_open_device(struct vfio_device *core_vdev)
{
	struct nvm_vf_vfio *v = container_of(core_vdev, struct nvm_vf_vfio, core.vdev);
	int ret;

	ret = vfio_pci_core_enable(&v->core);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(&v->core);
	atomic_inc(&v->opened);
	return 0;
}

static void nvm_vf_close_device(struct vfio_device *core_vdev)
{
	struct nvm_vf_vfio *v = container_of(core_vdev, struct nvm_vf_vfio, core.vdev);

	vfio_pci_core_close_device(core_vdev);
	atomic_dec(&v->opened);
}

static const struct vfio_device_ops nvm_vf_vfio_ops = {
	.name		= "nvidia-vgpu-vfio",
	.init		= vfio_pci_core_init_dev,
	.release	= vfio_pci_core_release_dev,
	.open_device	= nvm_vf_open_device,
	.close_device	= nvm_vf_close_device,
	.ioctl		= vfio_pci_core_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
};

/* vfio-pci-core wants its device as the drvdata while registered. */
static int nvm_vf_vfio_register(struct nvm_vf *vf)
{
	struct device *dev = &vf->pdev->dev;
	struct nvm_vf_vfio *v;
	int ret;

	v = vfio_alloc_device(nvm_vf_vfio, core.vdev, dev, &nvm_vf_vfio_ops);
	if (IS_ERR(v))
		return PTR_ERR(v);
	atomic_set(&v->opened, 0);
	dev_set_drvdata(dev, &v->core);
	ret = vfio_pci_core_register_device(&v->core);
	if (ret) {
		dev_set_drvdata(dev, NULL);
		vfio_put_device(&v->core.vdev);
		return ret;
	}
	vf->vfio = v;
	return 0;
}

/* Waits for VFIO users, like every VFIO driver's remove. */
static void nvm_vf_vfio_unregister(struct pci_dev *pdev, struct nvm_vf_vfio *v)
{
	vfio_pci_core_unregister_device(&v->core);
	dev_set_drvdata(&pdev->dev, NULL);
	vfio_put_device(&v->core.vdev);
}

/* ---- nvidia/ ---- */

static struct nvm_vf *nvm_vf_of(struct pci_dev *pdev, struct nvm_gpu **gpu_out)
{
	struct nvm_gpu *gpu = pci_iov_get_pf_drvdata(pdev, &nvm_pci_driver);
	int id;

	if (IS_ERR(gpu) || !gpu || gpu->mode != NVM_MODE_VENDOR)
		return NULL;
	id = pci_iov_vf_id(pdev);
	if (id < 0 || id >= gpu->num_vfs)
		return NULL;
	*gpu_out = gpu;
	return &gpu->vfs[id];
}

/* "ID    : vGPU Name" and one "1155  : NVIDIA L40S-1Q" line per type that
 * fits now; only the header on a VF that carries a type. */
static ssize_t creatable_vgpu_types_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nvm_gpu *gpu;
	struct nvm_vf *vf = nvm_vf_of(to_pci_dev(dev), &gpu);
	ssize_t len;
	unsigned int i;

	if (!vf)
		return -ENODEV;
	len = sysfs_emit(buf, "ID    : vGPU Name\n");
	mutex_lock(&gpu->lock);
	for (i = 0; vf->type < 0 && i < gpu->model->n_types; i++)
		if (nvm_capacity(gpu, i))
			len += sysfs_emit_at(buf, len, "%-5u : %s\n", gpu->model->types[i].id,
					     gpu->model->types[i].name);
	mutex_unlock(&gpu->lock);
	return len;
}
static DEVICE_ATTR_RO(creatable_vgpu_types);

static ssize_t current_vgpu_type_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct nvm_gpu *gpu;
	struct nvm_vf *vf = nvm_vf_of(to_pci_dev(dev), &gpu);
	unsigned int id;

	if (!vf)
		return -ENODEV;
	mutex_lock(&gpu->lock);
	id = vf->type < 0 ? 0 : gpu->model->types[vf->type].id;
	mutex_unlock(&gpu->lock);
	return sysfs_emit(buf, "%u\n", id);
}

static int nvm_vf_set_type(struct nvm_gpu *gpu, struct nvm_vf *vf, unsigned int id)
{
	int t, ret;

	mutex_lock(&gpu->lock);
	ret = -EBUSY;
	if (vf->type >= 0)
		goto out;
	ret = -EINVAL;
	t = nvm_type_index(gpu->model, id);
	if (t < 0 || !nvm_capacity(gpu, t))
		goto out;
	ret = nvm_vf_vfio_register(vf);
	if (ret) {
		pci_warn(vf->pdev, "nvidia-model: registering the VFIO device failed: %d\n", ret);
		goto out;
	}
	vf->type = t;
	gpu->used[t]++;
	pci_info(vf->pdev, "nvidia-model: vGPU type %u (%s) set\n", id, gpu->model->types[t].name);
out:
	mutex_unlock(&gpu->lock);
	return ret;
}

static int nvm_vf_release_type(struct nvm_gpu *gpu, struct nvm_vf *vf)
{
	struct nvm_vf_vfio *v;
	int ret = 0;

	mutex_lock(&gpu->lock);
	if (vf->type < 0)
		goto out;
	v = vf->vfio;
	/* a VM has the device open: refused, not waited for */
	ret = -EBUSY;
	if (atomic_read(&v->opened))
		goto out;
	ret = 0;
	nvm_vf_vfio_unregister(vf->pdev, v);
	vf->vfio = NULL;
	gpu->used[vf->type]--;
	vf->type = -1;
	pci_info(vf->pdev, "nvidia-model: vGPU type released\n");
out:
	mutex_unlock(&gpu->lock);
	return ret;
}

/* A decimal id sets it (EINVAL unless creatable now; EBUSY while a type
 * is set), 0 releases it (EBUSY while the VFIO device is open). */
static ssize_t current_vgpu_type_store(struct device *dev, struct device_attribute *attr,
				       const char *buf, size_t count)
{
	struct nvm_gpu *gpu;
	struct nvm_vf *vf = nvm_vf_of(to_pci_dev(dev), &gpu);
	unsigned int id;
	int ret;

	if (!vf)
		return -ENODEV;
	if (kstrtouint(buf, 10, &id))
		return -EINVAL;
	ret = id ? nvm_vf_set_type(gpu, vf, id) : nvm_vf_release_type(gpu, vf);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(current_vgpu_type);

static struct attribute *nvm_vf_attrs[] = {
	&dev_attr_creatable_vgpu_types.attr,
	&dev_attr_current_vgpu_type.attr,
	NULL,
};

static const struct attribute_group nvm_vf_group = {
	.name = "nvidia",
	.attrs = nvm_vf_attrs,
};

/* ---- the VF on nvidia ---- */

int nvm_vf_probe(struct pci_dev *pdev)
{
	struct nvm_gpu *gpu;
	struct nvm_vf *vf = nvm_vf_of(pdev, &gpu);
	int ret;

	if (!vf)
		return -ENODEV;	/* its PF is not a vendor-VFIO GPU on nvidia */
	if (nvm_vf_probe_ms)
		msleep(nvm_vf_probe_ms);
	mutex_lock(&gpu->lock);
	vf->pdev = pdev;
	vf->type = -1;
	mutex_unlock(&gpu->lock);
	dev_set_drvdata(&pdev->dev, NULL);
	ret = sysfs_create_group(&pdev->dev.kobj, &nvm_vf_group);
	if (ret) {
		mutex_lock(&gpu->lock);
		vf->pdev = NULL;
		mutex_unlock(&gpu->lock);
	}
	return ret;
}

void nvm_vf_remove(struct pci_dev *pdev)
{
	struct nvm_gpu *gpu;
	struct nvm_vf *vf = nvm_vf_of(pdev, &gpu);
	struct nvm_vf_vfio *v;
	int t;

	if (!vf)
		return;
	/* waits for writes under way; they take gpu->lock, so not held here */
	sysfs_remove_group(&pdev->dev.kobj, &nvm_vf_group);
	mutex_lock(&gpu->lock);
	v = vf->vfio;
	t = vf->type;
	vf->vfio = NULL;
	vf->type = -1;
	mutex_unlock(&gpu->lock);
	if (v)
		nvm_vf_vfio_unregister(pdev, v);
	mutex_lock(&gpu->lock);
	if (t >= 0)
		gpu->used[t]--;
	vf->pdev = NULL;
	mutex_unlock(&gpu->lock);
}

/* ---- SR-IOV on the PF ---- */

int nvm_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	struct nvm_gpu *gpu = pci_get_drvdata(pdev);
	struct nvm_vf *vfs;
	int ret, i;

	if (gpu->mode != NVM_MODE_VENDOR)
		return -EOPNOTSUPP;	/* a T4 has no VFs */
	if (num_vfs == 0) {
		nvm_vendor_gpu_remove(gpu);
		return 0;
	}
	/* the VFs are probed inside pci_enable_sriov(): their state first */
	vfs = kcalloc(num_vfs, sizeof(*vfs), GFP_KERNEL);
	if (!vfs)
		return -ENOMEM;
	for (i = 0; i < num_vfs; i++)
		vfs[i].type = -1;
	mutex_lock(&gpu->lock);
	gpu->vfs = vfs;
	gpu->num_vfs = num_vfs;
	mutex_unlock(&gpu->lock);
	ret = pci_enable_sriov(pdev, num_vfs);
	if (ret) {
		mutex_lock(&gpu->lock);
		gpu->vfs = NULL;
		gpu->num_vfs = 0;
		mutex_unlock(&gpu->lock);
		kfree(vfs);
		return ret;
	}
	/* enabling VFs drops a MIG GPU's instances */
	nvm_mig_vfs_enabled(gpu);
	return num_vfs;
}

/* Disables the VFs (each one's remove releases its type, waiting for its
 * VFIO users), then forgets them. */
void nvm_vendor_gpu_remove(struct nvm_gpu *gpu)
{
	struct nvm_vf *vfs;

	if (pci_num_vf(gpu->pdev))
		pci_disable_sriov(gpu->pdev);
	mutex_lock(&gpu->lock);
	vfs = gpu->vfs;
	gpu->vfs = NULL;
	gpu->num_vfs = 0;
	mutex_unlock(&gpu->lock);
	kfree(vfs);
}
