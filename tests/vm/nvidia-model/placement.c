// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The GPU models and the placement rule of NVIDIA's time-sliced vGPUs as
 * public documentation describes them: the vGPUs of a GPU share its
 * framebuffer, a type has at most max_instance instances, and all vGPUs
 * of a GPU have one type (the default, homogeneous mode). The type ids
 * and the T4 "nvidia-N" numbers are in the pattern of public listings but
 * are not checked against NVIDIA's driver.
 */
#include "nvidia-model.h"

#define Q(id_, name_, fb_, max_, res_) \
	{ .id = id_, .name = name_, .fb_mib = fb_, .max_instance = max_, \
	  .num_heads = 4, .frl_config = 60, .max_resolution = res_ }

/* An L40S: 48 GiB, its Q-series types (vendor-specific VFIO). */
static const struct nvm_type l40s_types[] = {
	Q(1155, "NVIDIA L40S-1Q", 1024, 32, "5120x2880"),
	Q(1156, "NVIDIA L40S-2Q", 2048, 24, "7680x4320"),
	Q(1158, "NVIDIA L40S-4Q", 4096, 12, "7680x4320"),
	Q(1160, "NVIDIA L40S-8Q", 8192, 6, "7680x4320"),
	Q(1161, "NVIDIA L40S-12Q", 12288, 4, "7680x4320"),
	Q(1163, "NVIDIA L40S-24Q", 24576, 2, "7680x4320"),
	Q(1164, "NVIDIA L40S-48Q", 49152, 1, "7680x4320"),
};

const struct nvm_gpu_model nvm_l40s = {
	.name = "L40S",
	.fb_mib = 49152,
	.types = l40s_types,
	.n_types = ARRAY_SIZE(l40s_types),
};

/* A T4: 16 GiB, mdev types on the PF. */
static const struct nvm_type t4_types[] = {
	Q(222, "GRID T4-1B", 1024, 16, "5120x2880"),
	Q(230, "GRID T4-1Q", 1024, 16, "5120x2880"),
	Q(231, "GRID T4-2Q", 2048, 8, "7680x4320"),
	Q(232, "GRID T4-4Q", 4096, 4, "7680x4320"),
	Q(233, "GRID T4-8Q", 8192, 2, "7680x4320"),
	Q(234, "GRID T4-16Q", 16384, 1, "7680x4320"),
};

const struct nvm_gpu_model nvm_t4 = {
	.name = "T4",
	.fb_mib = 16384,
	.types = t4_types,
	.n_types = ARRAY_SIZE(t4_types),
};

int nvm_type_index(const struct nvm_gpu_model *model, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < model->n_types; i++)
		if (model->types[i].id == id)
			return i;
	return -1;
}

unsigned int nvm_capacity(struct nvm_gpu *gpu, int t)
{
	const struct nvm_gpu_model *m = gpu->model;
	unsigned int fb_used = 0, by_fb, by_max, i;

	lockdep_assert_held(&gpu->lock);
	for (i = 0; i < m->n_types; i++) {
		/* homogeneous: another type on the GPU leaves no room */
		if ((int)i != t && gpu->used[i])
			return 0;
		fb_used += gpu->used[i] * m->types[i].fb_mib;
	}
	by_fb = fb_used < m->fb_mib ? (m->fb_mib - fb_used) / m->types[t].fb_mib : 0;
	by_max = m->types[t].max_instance > gpu->used[t] ?
		 m->types[t].max_instance - gpu->used[t] : 0;
	return min(by_fb, by_max);
}
