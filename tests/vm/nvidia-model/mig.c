// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * MIG as NVIDIA's driver keeps it for a GPU, for gpuvirt's test NVML
 * (tests/nvml) on the VM's real kernel: the mode now and after the next
 * reset, and the GPU and compute instances. The state is read and changed
 * through one driver attribute, /sys/bus/pci/drivers/nvidia/mig, in the
 * text protocol of the simulator's .sim/mig (simfs/sim-mig.c has the same
 * rules), which the test NVML reads and writes where NVIDIA's library
 * would make ioctls:
 *
 *   $ cat /sys/bus/pci/drivers/nvidia/mig
 *   gpu 0000:01:00.0 current=1 pending=1 held=0 vfs=0 vgpus=0 resets=1 slices=8 device=2331
 *   gi 0000:01:00.0 1 pid=19 profile=1g.10gb start=0 size=1 slices=1 used=-
 *   ci 0000:01:00.0 1 0 pid=0 start=0 size=1
 *   $ echo 'gi-create 0000:01:00.0 19 1g.10gb 0 1 1' > /sys/bus/pci/drivers/nvidia/mig
 *
 * What the kernel does here, and is the point of it: a function reset
 * through the PF's sysfs reset file (pci_reset_function()) calls this
 * driver's reset_done, which makes the pending mode current and drops
 * every instance, as a reset does to a MIG GPU; enabling VFs drops them
 * too. A PF is MIG-capable only with the parameter mig_model (a PCI
 * device id the test NVML knows, e.g. 0x2331 for an H100). Profiles and
 * placements are the test NVML's; here an instance is a range of memory
 * slices. Not NVIDIA's code and no NVIDIA interface: see README.md.
 */
#include <linux/device/driver.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "nvidia-model.h"

static unsigned int mig_model;
module_param(mig_model, uint, 0444);
MODULE_PARM_DESC(mig_model, "PCI device id a PF probed from now on reports to the test NVML as a MIG GPU "
		 "(e.g. 0x2331, an H100 80GB); 0, the default: no MIG");

int nvm_mig_gpu_probe(struct nvm_gpu *gpu)
{
	if (!mig_model)
		return 0;
	gpu->mig = kzalloc(sizeof(*gpu->mig), GFP_KERNEL);
	if (!gpu->mig)
		return -ENOMEM;
	gpu->mig->device = mig_model;
	return 0;
}

void nvm_mig_gpu_remove(struct nvm_gpu *gpu)
{
	kfree(gpu->mig);
	gpu->mig = NULL;
}

/* gpu->lock held */
static void nvm_mig_wipe(struct nvm_gpu *gpu)
{
	gpu->mig->n_gi = 0;
}

/* The PF's function reset is done (the kernel calls this after
 * pci_reset_function() reset it, whatever the method). */
void nvm_mig_reset_done(struct nvm_gpu *gpu)
{
	bool on;

	if (!gpu->mig)
		return;
	mutex_lock(&gpu->lock);
	gpu->mig->resets++;
	gpu->mig->mode = gpu->mig->pending;
	nvm_mig_wipe(gpu);
	on = gpu->mig->mode;
	mutex_unlock(&gpu->lock);
	pci_info(gpu->pdev, "nvidia-model: function reset: MIG mode %s, no GPU instances\n", on ? "on" : "off");
}

void nvm_mig_vfs_enabled(struct nvm_gpu *gpu)
{
	if (!gpu->mig)
		return;
	mutex_lock(&gpu->lock);
	nvm_mig_wipe(gpu);
	mutex_unlock(&gpu->lock);
}

/* vGPUs on the GPU (gpu->lock held) */
static unsigned int nvm_mig_vgpus(struct nvm_gpu *gpu)
{
	unsigned int n = 0;
	int t;

	for (t = 0; t < (int)gpu->model->n_types; t++)
		n += gpu->used[t];
	return n;
}

/* ---- the listing ---- */

struct nvm_mig_show {
	char *buf;
	int len;
};

static int nvm_mig_show_one(struct device *dev, void *data)
{
	struct nvm_mig_show *out = data;
	struct pci_dev *pdev = to_pci_dev(dev);
	struct nvm_gpu *gpu = pdev->is_virtfn ? NULL : pci_get_drvdata(pdev);
	struct nvm_mig *m;
	unsigned int i, j;

	if (!gpu || !gpu->mig)
		return 0;
	mutex_lock(&gpu->lock);
	m = gpu->mig;
	out->len += sysfs_emit_at(out->buf, out->len,
				  "gpu %s current=%d pending=%d held=0 vfs=%d vgpus=%u resets=%u slices=%u device=%04x\n",
				  pci_name(pdev), m->mode, m->pending, pci_num_vf(pdev), nvm_mig_vgpus(gpu),
				  m->resets, NVM_MIG_SLICES, m->device);
	for (i = 0; i < m->n_gi; i++) {
		struct nvm_mig_gi *gi = &m->gi[i];

		out->len += sysfs_emit_at(out->buf, out->len,
					  "gi %s %u pid=%u profile=%s start=%u size=%u slices=%u used=-\n",
					  pci_name(pdev), gi->id, gi->profile_id, gi->profile, gi->start, gi->size,
					  gi->slices);
		for (j = 0; j < gi->n_ci; j++)
			out->len += sysfs_emit_at(out->buf, out->len, "ci %s %u %u pid=%u start=%u size=%u\n",
						  pci_name(pdev), gi->id, gi->ci[j].id, gi->ci[j].profile_id,
						  gi->ci[j].start, gi->ci[j].size);
	}
	mutex_unlock(&gpu->lock);
	return 0;
}

static ssize_t mig_show(struct device_driver *drv, char *buf)
{
	struct nvm_mig_show out = { buf, 0 };

	driver_for_each_device(drv, NULL, &out, nvm_mig_show_one);
	return out.len;
}

/* ---- the commands ---- */

#define NVM_MIG_WORDS 9

static int nvm_mig_uint(const char *word, unsigned int max, unsigned int *out)
{
	return word && !kstrtouint(word, 10, out) && *out <= max ? 0 : -EINVAL;
}

static struct nvm_mig_gi *nvm_mig_find_gi(struct nvm_mig *m, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < m->n_gi; i++)
		if (m->gi[i].id == id)
			return &m->gi[i];
	return NULL;
}

/* "mode BDF 0|1": the pending mode; refused under vGPUs, and off while
 * VFs are enabled. */
static int nvm_mig_mode(struct nvm_gpu *gpu, char **w)
{
	unsigned int mode;

	if (nvm_mig_uint(w[2], 1, &mode) || w[3])
		return -EINVAL;
	if (mode == gpu->mig->pending)
		return 0;
	if (nvm_mig_vgpus(gpu) || (mode == 0 && pci_num_vf(gpu->pdev)))
		return -EBUSY;
	gpu->mig->pending = mode;
	return 0;
}

/* "gi-create BDF PROFILE_ID NAME START SIZE SLICES" */
static int nvm_mig_gi_create(struct nvm_gpu *gpu, char **w)
{
	struct nvm_mig *m = gpu->mig;
	unsigned int pid, start, size, slices, id = 1, i, at;

	if (nvm_mig_uint(w[2], 1000, &pid) || !w[3] || strlen(w[3]) >= sizeof(m->gi[0].profile) ||
	    nvm_mig_uint(w[4], 64, &start) || nvm_mig_uint(w[5], 64, &size) || nvm_mig_uint(w[6], 64, &slices) ||
	    !size || w[7])
		return -EINVAL;
	if (!m->mode)
		return -EOPNOTSUPP;
	if (start + size > NVM_MIG_SLICES)
		return -EINVAL;
	for (i = 0; i < m->n_gi; i++)
		if (start < m->gi[i].start + m->gi[i].size && m->gi[i].start < start + size)
			return -ENOSPC;
	if (m->n_gi == NVM_MIG_MAX_GI)
		return -ENOSPC;
	while (nvm_mig_find_gi(m, id))
		id++;
	/* kept in id order */
	for (at = 0; at < m->n_gi && m->gi[at].id < id; at++)
		;
	memmove(&m->gi[at + 1], &m->gi[at], (m->n_gi - at) * sizeof(m->gi[0]));
	memset(&m->gi[at], 0, sizeof(m->gi[0]));
	m->gi[at].id = id;
	m->gi[at].profile_id = pid;
	strscpy(m->gi[at].profile, w[3], sizeof(m->gi[at].profile));
	m->gi[at].start = start;
	m->gi[at].size = size;
	m->gi[at].slices = slices;
	m->n_gi++;
	return 0;
}

/* "gi-destroy BDF ID": EBUSY while it has compute instances. */
static int nvm_mig_gi_destroy(struct nvm_gpu *gpu, char **w)
{
	struct nvm_mig *m = gpu->mig;
	struct nvm_mig_gi *gi;
	unsigned int id;

	if (nvm_mig_uint(w[2], UINT_MAX, &id) || w[3])
		return -EINVAL;
	gi = nvm_mig_find_gi(m, id);
	if (!gi)
		return -ENOENT;
	if (gi->n_ci)
		return -EBUSY;
	memmove(gi, gi + 1, (m->n_gi - (gi - m->gi) - 1) * sizeof(*gi));
	m->n_gi--;
	return 0;
}

/* "ci-create BDF GI PROFILE_ID START SIZE" */
static int nvm_mig_ci_create(struct nvm_gpu *gpu, char **w)
{
	unsigned int giid, pid, start, size, id = 0, i;
	struct nvm_mig_gi *gi;
	bool taken;

	if (nvm_mig_uint(w[2], UINT_MAX, &giid) || nvm_mig_uint(w[3], 1000, &pid) || nvm_mig_uint(w[4], 64, &start) ||
	    nvm_mig_uint(w[5], 64, &size) || !size || w[6])
		return -EINVAL;
	gi = nvm_mig_find_gi(gpu->mig, giid);
	if (!gi)
		return -ENOENT;
	if (start + size > gi->slices)
		return -EINVAL;
	for (i = 0; i < gi->n_ci; i++)
		if (start < gi->ci[i].start + gi->ci[i].size && gi->ci[i].start < start + size)
			return -ENOSPC;
	if (gi->n_ci == NVM_MIG_MAX_CI)
		return -ENOSPC;
	do {
		taken = false;
		for (i = 0; i < gi->n_ci; i++)
			taken |= gi->ci[i].id == id;
	} while (taken && ++id);
	gi->ci[gi->n_ci].id = id;
	gi->ci[gi->n_ci].profile_id = pid;
	gi->ci[gi->n_ci].start = start;
	gi->ci[gi->n_ci].size = size;
	gi->n_ci++;
	return 0;
}

/* "ci-destroy BDF GI CI" */
static int nvm_mig_ci_destroy(struct nvm_gpu *gpu, char **w)
{
	unsigned int giid, ciid, i;
	struct nvm_mig_gi *gi;

	if (nvm_mig_uint(w[2], UINT_MAX, &giid) || nvm_mig_uint(w[3], UINT_MAX, &ciid) || w[4])
		return -EINVAL;
	gi = nvm_mig_find_gi(gpu->mig, giid);
	if (!gi)
		return -ENOENT;
	for (i = 0; i < gi->n_ci; i++)
		if (gi->ci[i].id == ciid) {
			memmove(&gi->ci[i], &gi->ci[i + 1], (gi->n_ci - i - 1) * sizeof(gi->ci[0]));
			gi->n_ci--;
			return 0;
		}
	return -ENOENT;
}

static int nvm_mig_command(char **w)
{
	struct device *dev;
	struct pci_dev *pdev;
	struct nvm_gpu *gpu;
	int ret;

	/* the test NVML announces each entry point it enters; no faults here */
	if (w[0] && !strcmp(w[0], "call"))
		return 0;
	if (!w[0] || !w[1])
		return -EINVAL;
	dev = driver_find_device_by_name(&nvm_pci_driver.driver, w[1]);
	if (!dev)
		return -ENODEV;
	pdev = to_pci_dev(dev);
	gpu = pdev->is_virtfn ? NULL : pci_get_drvdata(pdev);
	if (!gpu || !gpu->mig) {
		put_device(dev);
		return -EOPNOTSUPP;
	}
	mutex_lock(&gpu->lock);
	if (!strcmp(w[0], "mode"))
		ret = nvm_mig_mode(gpu, w);
	else if (!strcmp(w[0], "gi-create"))
		ret = nvm_mig_gi_create(gpu, w);
	else if (!strcmp(w[0], "gi-destroy"))
		ret = nvm_mig_gi_destroy(gpu, w);
	else if (!strcmp(w[0], "ci-create"))
		ret = nvm_mig_ci_create(gpu, w);
	else if (!strcmp(w[0], "ci-destroy"))
		ret = nvm_mig_ci_destroy(gpu, w);
	else
		ret = -EINVAL;
	mutex_unlock(&gpu->lock);
	put_device(dev);
	return ret;
}

static ssize_t mig_store(struct device_driver *drv, const char *buf, size_t count)
{
	char *copy, *p, *word, *w[NVM_MIG_WORDS + 1] = { NULL };
	int n = 0, ret;

	copy = kstrndup(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	/* several blanks in a row are one separator */
	p = copy;
	while ((word = strsep(&p, " \t\n"))) {
		if (!*word)
			continue;
		if (n == NVM_MIG_WORDS) {
			kfree(copy);
			return -EINVAL;
		}
		w[n++] = word;
	}
	ret = nvm_mig_command(w);
	kfree(copy);
	return ret ? ret : count;
}
static DRIVER_ATTR_RW(mig);

int nvm_mig_init(void)
{
	return driver_create_file(&nvm_pci_driver.driver, &driver_attr_mig);
}

void nvm_mig_exit(void)
{
	driver_remove_file(&nvm_pci_driver.driver, &driver_attr_mig);
}
