/* The GPU models the test NVML knows: their MIG GPU instance profiles
 * with the ids, counts and placements NVIDIA's MIG user guide gives for
 * the A100 40GB, A100 80GB and H100 80GB (7 compute slices, 8 memory
 * slices). Engine counts and sizes are the guide's where it gives them;
 * memory sizes are what such GPUs report, so that names derived from them
 * come out as NVIDIA names the profiles ("4864 MiB of 40 GiB" is 1/8:
 * 1g.5gb). Nothing here is NVIDIA code. */
#include "test-nvml.h"

#include <string.h>

#define P(...) { __VA_ARGS__ }

/* index, id, name, compute slices, max instances, SMs, copy engines,
 * decoders, encoders, JPEG, OFA, MiB, placement size, placement starts */
static const TestProfile a100_40[] = {
  { 0x0, 19, "1g.5gb", 1, 7, 14, 1, 0, 0, 0, 0, 4864, 1, 7, P (0, 1, 2, 3, 4, 5, 6) },
  { 0x1, 14, "2g.10gb", 2, 3, 28, 2, 1, 0, 0, 0, 9856, 2, 3, P (0, 2, 4) },
  { 0x2, 9, "3g.20gb", 3, 2, 42, 3, 2, 0, 0, 0, 19968, 4, 2, P (0, 4) },
  { 0x3, 5, "4g.20gb", 4, 1, 56, 4, 2, 0, 0, 0, 19968, 4, 1, P (0) },
  { 0x4, 0, "7g.40gb", 7, 1, 98, 7, 5, 0, 1, 1, 40192, 8, 1, P (0) },
  { 0x7, 20, "1g.5gb+me", 1, 1, 14, 1, 1, 0, 1, 1, 4864, 1, 7, P (0, 1, 2, 3, 4, 5, 6) },
  { 0x9, 15, "1g.10gb", 1, 4, 14, 1, 1, 0, 0, 0, 9856, 2, 4, P (0, 2, 4, 6) },
};

static const TestProfile a100_80[] = {
  { 0x0, 19, "1g.10gb", 1, 7, 14, 1, 0, 0, 0, 0, 9728, 1, 7, P (0, 1, 2, 3, 4, 5, 6) },
  { 0x1, 14, "2g.20gb", 2, 3, 28, 2, 1, 0, 0, 0, 19968, 2, 3, P (0, 2, 4) },
  { 0x2, 9, "3g.40gb", 3, 2, 42, 3, 2, 0, 0, 0, 40192, 4, 2, P (0, 4) },
  { 0x3, 5, "4g.40gb", 4, 1, 56, 4, 2, 0, 0, 0, 40192, 4, 1, P (0) },
  { 0x4, 0, "7g.80gb", 7, 1, 98, 7, 5, 0, 1, 1, 80896, 8, 1, P (0) },
  { 0x7, 20, "1g.10gb+me", 1, 1, 14, 1, 1, 0, 1, 1, 9728, 1, 7, P (0, 1, 2, 3, 4, 5, 6) },
  { 0x9, 15, "1g.20gb", 1, 4, 14, 1, 1, 0, 0, 0, 19968, 2, 4, P (0, 2, 4, 6) },
};

static const TestProfile h100_80[] = {
  { 0x0, 19, "1g.10gb", 1, 7, 16, 1, 1, 0, 1, 0, 9856, 1, 7, P (0, 1, 2, 3, 4, 5, 6) },
  { 0x1, 14, "2g.20gb", 2, 3, 32, 2, 2, 0, 2, 0, 19968, 2, 3, P (0, 2, 4) },
  { 0x2, 9, "3g.40gb", 3, 2, 60, 3, 3, 0, 3, 0, 40448, 4, 2, P (0, 4) },
  { 0x3, 5, "4g.40gb", 4, 1, 64, 4, 4, 0, 4, 0, 40448, 4, 1, P (0) },
  { 0x4, 0, "7g.80gb", 7, 1, 132, 8, 7, 0, 7, 1, 80896, 8, 1, P (0) },
  { 0x7, 20, "1g.10gb+me", 1, 1, 16, 1, 1, 0, 1, 1, 9856, 1, 7, P (0, 1, 2, 3, 4, 5, 6) },
  { 0x9, 15, "1g.20gb", 1, 4, 26, 1, 1, 0, 1, 0, 19968, 2, 4, P (0, 2, 4, 6) },
};

static const TestModel models[] = {
  { { 0x20b0, 0x20f1 }, "NVIDIA A100-PCIE-40GB", 40960, a100_40, G_N_ELEMENTS (a100_40) },
  { { 0x20b2, 0x20b5 }, "NVIDIA A100-SXM4-80GB", 81920, a100_80, G_N_ELEMENTS (a100_80) },
  { { 0x2330, 0x2331 }, "NVIDIA H100 PCIe", 81559, h100_80, G_N_ELEMENTS (h100_80) },
};

const TestModel *
test_model_for (guint16 device_id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (models[i].device_ids); j++)
      if (models[i].device_ids[j] == device_id)
        return &models[i];
  return NULL;
}

const TestProfile *
test_profile_by_index (const TestModel *model, guint index)
{
  for (guint i = 0; model && i < model->n_profiles; i++)
    if (model->profiles[i].index == index)
      return &model->profiles[i];
  return NULL;
}

const TestProfile *
test_profile_by_id (const TestModel *model, guint id)
{
  for (guint i = 0; model && i < model->n_profiles; i++)
    if (model->profiles[i].id == id)
      return &model->profiles[i];
  return NULL;
}
