// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nvidia_model: a PCI driver named "nvidia" for gpuvirt's VM tests. It has
 * no ID table: it binds what driver_override or new_id hands it (the test
 * VM's SR-IOV NVMe, 1b36:0010). A PF becomes a GPU of the model in the mode
 * the "mode" parameter says when it is probed; VFs made by a vendor-VFIO
 * GPU get driver_override=nvidia as they appear, so they come up on nvidia
 * as an NVIDIA GPU's VFs do. See README.md.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "nvidia-model.h"

static char *mode = "vendor";
module_param(mode, charp, 0644);
MODULE_PARM_DESC(mode, "what a PF probed from now on does: vendor (VFs with nvidia/current_vgpu_type, an L40S) "
		 "or mdev (an mdev parent, a T4)");

static char *mdev_counting = "driver";
module_param(mdev_counting, charp, 0644);
MODULE_PARM_DESC(mdev_counting, "mdev mode: driver (get_available, per type; the default) or core (no "
		 "get_available: Linux 6.1's mdev core counts per parent)");

static unsigned int mdev_core_instances = 4;
module_param(mdev_core_instances, uint, 0444);
MODULE_PARM_DESC(mdev_core_instances, "mdev_counting=core: the parent's instances (mdev_driver.max_instances)");

/* Public figures put NVIDIA's VF set-up at ~0.2 s per VF (sriov-manage,
 * 8 GPUs, 160 VFs: 30+ s); the kernel's own work under TCG is ~60 ms. */
unsigned int nvm_vf_probe_ms;
module_param_named(vf_probe_ms, nvm_vf_probe_ms, uint, 0644);
MODULE_PARM_DESC(vf_probe_ms, "milliseconds each VF's probe takes (default 0)");

static int nvm_pf_probe(struct pci_dev *pdev)
{
	struct nvm_gpu *gpu;
	int ret;

	gpu = kzalloc(sizeof(*gpu), GFP_KERNEL);
	if (!gpu)
		return -ENOMEM;
	gpu->pdev = pdev;
	mutex_init(&gpu->lock);
	if (sysfs_streq(mode, "mdev")) {
		gpu->mode = NVM_MODE_MDEV;
		gpu->model = &nvm_t4;
		gpu->core_counts = sysfs_streq(mdev_counting, "core");
	} else if (sysfs_streq(mode, "vendor")) {
		gpu->mode = NVM_MODE_VENDOR;
		gpu->model = &nvm_l40s;
	} else {
		pci_err(pdev, "nvidia-model: mode=%s is neither vendor nor mdev\n", mode);
		ret = -EINVAL;
		goto fail;
	}
	gpu->used = kcalloc(gpu->model->n_types, sizeof(*gpu->used), GFP_KERNEL);
	if (!gpu->used) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = nvm_mig_gpu_probe(gpu);
	if (ret)
		goto fail;
	pci_set_drvdata(pdev, gpu);
	if (gpu->mode == NVM_MODE_MDEV) {
		ret = nvm_mdev_gpu_probe(gpu);
		if (ret)
			goto fail;
	}
	pci_info(pdev, "nvidia-model: a %s (%u MiB), %s%s%s\n", gpu->model->name, gpu->model->fb_mib,
		 gpu->mode == NVM_MODE_MDEV ? "mdev parent" : "vendor-specific VFIO on its VFs",
		 gpu->mode == NVM_MODE_MDEV && gpu->core_counts ? ", instances counted by the mdev core" : "",
		 gpu->mig ? ", MIG-capable" : "");
	return 0;

fail:
	pci_set_drvdata(pdev, NULL);
	nvm_mig_gpu_remove(gpu);
	kfree(gpu->used);
	kfree(gpu);
	return ret;
}

static void nvm_pf_remove(struct pci_dev *pdev)
{
	struct nvm_gpu *gpu = pci_get_drvdata(pdev);

	if (gpu->mode == NVM_MODE_MDEV)
		nvm_mdev_gpu_remove(gpu);
	else
		nvm_vendor_gpu_remove(gpu);
	pci_set_drvdata(pdev, NULL);
	nvm_mig_gpu_remove(gpu);
	kfree(gpu->used);
	kfree(gpu);
}

static int nvm_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return pdev->is_virtfn ? nvm_vf_probe(pdev) : nvm_pf_probe(pdev);
}

static void nvm_remove(struct pci_dev *pdev)
{
	if (pdev->is_virtfn)
		nvm_vf_remove(pdev);
	else
		nvm_pf_remove(pdev);
}

/* After a function reset (pci_reset_function(): the sysfs reset file):
 * a MIG GPU's pending mode becomes current. */
static void nvm_reset_done(struct pci_dev *pdev)
{
	struct nvm_gpu *gpu = pdev->is_virtfn ? NULL : pci_get_drvdata(pdev);

	if (gpu)
		nvm_mig_reset_done(gpu);
}

static const struct pci_error_handlers nvm_err_handlers = {
	.reset_done = nvm_reset_done,
};

struct pci_driver nvm_pci_driver = {
	.name = "nvidia",
	.probe = nvm_probe,
	.remove = nvm_remove,
	.sriov_configure = nvm_sriov_configure,
	.err_handler = &nvm_err_handlers,
	/*
	 * As vfio-pci: a VF's DMA is its VFIO user's. Without this the driver
	 * core claims the default DMA domain at probe, the group is not
	 * viable and VFIO_GROUP_SET_CONTAINER fails with EPERM.
	 */
	.driver_managed_dma = true,
};

/* A new VF of a vendor-VFIO GPU on nvidia is for nvidia, before any
 * driver is offered it. */
static int nvm_bus_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct device *dev = data;
	struct pci_dev *pdev = to_pci_dev(dev);
	struct pci_dev *pf;
	struct nvm_gpu *gpu;
	int ret;

	if (action != BUS_NOTIFY_ADD_DEVICE || !pdev->is_virtfn)
		return NOTIFY_DONE;
	pf = pci_physfn(pdev);
	/* the PF's own sriov_configure runs this: its driver is stable */
	if (pf->dev.driver != &nvm_pci_driver.driver)
		return NOTIFY_DONE;
	gpu = pci_get_drvdata(pf);
	if (!gpu || gpu->mode != NVM_MODE_VENDOR)
		return NOTIFY_DONE;
	ret = driver_set_override(dev, &pdev->driver_override, nvm_pci_driver.name,
				  strlen(nvm_pci_driver.name));
	if (ret)
		pci_warn(pdev, "nvidia-model: cannot set driver_override: %d\n", ret);
	return NOTIFY_OK;
}

static struct notifier_block nvm_bus_nb = {
	.notifier_call = nvm_bus_notify,
};

static int __init nvm_init(void)
{
	int ret;

	ret = nvm_mdev_init(mdev_core_instances);
	if (ret)
		return ret;
	ret = bus_register_notifier(&pci_bus_type, &nvm_bus_nb);
	if (ret)
		goto fail_mdev;
	ret = pci_register_driver(&nvm_pci_driver);
	if (ret)
		goto fail_notifier;
	ret = nvm_mig_init();
	if (ret)
		goto fail_driver;
	return 0;

fail_driver:
	pci_unregister_driver(&nvm_pci_driver);
fail_notifier:
	bus_unregister_notifier(&pci_bus_type, &nvm_bus_nb);
fail_mdev:
	nvm_mdev_exit();
	return ret;
}

static void __exit nvm_exit(void)
{
	nvm_mig_exit();
	pci_unregister_driver(&nvm_pci_driver);
	bus_unregister_notifier(&pci_bus_type, &nvm_bus_nb);
	nvm_mdev_exit();
}

module_init(nvm_init);
module_exit(nvm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only model of the NVIDIA vGPU sysfs surface (not NVIDIA's driver)");
MODULE_SOFTDEP("pre: vfio_iommu_type1");
