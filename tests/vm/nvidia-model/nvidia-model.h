/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test-only model of the sysfs surface of NVIDIA's vGPU host driver, for
 * gpuvirt's VM tests (tests/vm/). It is not NVIDIA's driver and drives no
 * hardware: see README.md for what follows public sources and what is
 * invented.
 */
#ifndef NVIDIA_MODEL_H
#define NVIDIA_MODEL_H

#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>

/* How a GPU (a PF bound to "nvidia") makes its vGPUs. */
enum nvm_mode {
	NVM_MODE_VENDOR,	/* VFs with nvidia/current_vgpu_type (Ada and later) */
	NVM_MODE_MDEV,		/* the PF as an mdev parent (Turing T4 and older) */
};

/* One vGPU type of a GPU model's catalogue. */
struct nvm_type {
	unsigned int id;	/* vendor-VFIO id; mdev: the N of "nvidia-N" */
	const char *name;	/* "NVIDIA L40S-24Q" */
	unsigned int fb_mib;
	unsigned int max_instance;
	unsigned int num_heads;
	unsigned int frl_config;
	const char *max_resolution;
};

struct nvm_gpu_model {
	const char *name;
	unsigned int fb_mib;
	const struct nvm_type *types;
	unsigned int n_types;
};

extern const struct nvm_gpu_model nvm_l40s;	/* vendor-VFIO */
extern const struct nvm_gpu_model nvm_t4;	/* mdev on the PF */

struct nvm_gpu;

/* MIG (mig.c), as the test NVML reads it: memory slices of a GPU, at most
 * one GPU instance per slice, compute instances per GPU instance. */
#define NVM_MIG_SLICES 8
#define NVM_MIG_MAX_GI NVM_MIG_SLICES
#define NVM_MIG_MAX_CI 8

struct nvm_mig_ci {
	unsigned int id, profile_id, start, size;
};

struct nvm_mig_gi {
	unsigned int id, profile_id;
	char profile[24];		/* the profile's name, as the test NVML gave it */
	unsigned int start, size;	/* memory slices */
	unsigned int slices;		/* compute slices */
	unsigned int n_ci;
	struct nvm_mig_ci ci[NVM_MIG_MAX_CI];
};

struct nvm_mig {
	unsigned int device;		/* the PCI device id the test NVML is told */
	bool mode, pending;		/* MIG mode now, and after the next reset */
	unsigned int resets;		/* function resets seen (reset_done) */
	unsigned int n_gi;
	struct nvm_mig_gi gi[NVM_MIG_MAX_GI];	/* by id */
};

/* A VF of a vendor-VFIO GPU: the type it carries and, while it carries
 * one, the VFIO device registered for it through vfio-pci-core. */
struct nvm_vf_vfio {
	struct vfio_pci_core_device core;	/* first: vfio_alloc_device() */
	atomic_t opened;			/* open device fds (VFIO users) */
};

struct nvm_vf {
	struct pci_dev *pdev;		/* while bound to nvidia, else NULL */
	int type;			/* index into the catalogue, -1: none */
	struct nvm_vf_vfio *vfio;	/* while it carries a type */
};

/* An mdev type of a parent, one per catalogue entry. */
struct nvm_mdev_type {
	struct mdev_type type;
	struct nvm_gpu *gpu;
	int index;
	char sysfs_name[12];
};

/* The drvdata of a PF bound to nvidia. */
struct nvm_gpu {
	struct pci_dev *pdev;
	enum nvm_mode mode;
	const struct nvm_gpu_model *model;
	struct mutex lock;		/* the placement: used[], vfs[].type; mig */
	unsigned int *used;		/* vGPUs per catalogue entry */

	/* vendor mode: one entry per VF while SR-IOV is enabled */
	struct nvm_vf *vfs;
	int num_vfs;

	/* mdev mode */
	bool core_counts;		/* the mdev driver without get_available */
	struct mdev_parent parent;
	struct nvm_mdev_type *mtypes;
	struct mdev_type **mtype_ptrs;

	/* MIG-capable (the parameter mig_model), else NULL */
	struct nvm_mig *mig;
};

extern struct pci_driver nvm_pci_driver;
extern unsigned int nvm_vf_probe_ms;

/* placement.c: how many more vGPUs of catalogue entry T fit (lock held). */
unsigned int nvm_capacity(struct nvm_gpu *gpu, int t);
int nvm_type_index(const struct nvm_gpu_model *model, unsigned int id);

/* vendor.c */
int nvm_vf_probe(struct pci_dev *pdev);
void nvm_vf_remove(struct pci_dev *pdev);
int nvm_sriov_configure(struct pci_dev *pdev, int num_vfs);
void nvm_vendor_gpu_remove(struct nvm_gpu *gpu);

/* mig.c */
int nvm_mig_init(void);
void nvm_mig_exit(void);
int nvm_mig_gpu_probe(struct nvm_gpu *gpu);
void nvm_mig_gpu_remove(struct nvm_gpu *gpu);
void nvm_mig_reset_done(struct nvm_gpu *gpu);
void nvm_mig_vfs_enabled(struct nvm_gpu *gpu);

/* mdev.c */
int nvm_mdev_init(unsigned int core_instances);
void nvm_mdev_exit(void);
int nvm_mdev_gpu_probe(struct nvm_gpu *gpu);
void nvm_mdev_gpu_remove(struct nvm_gpu *gpu);

#endif
