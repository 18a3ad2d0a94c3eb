/* The test NVML's parts (see README.md). */
#pragma once

#include <glib.h>

#include "mig/nvml-abi.h"

typedef struct {
  guint index;           /* NVML_GPU_INSTANCE_PROFILE_* */
  guint id;              /* the profile id NVML reports */
  const char *name;      /* as NVIDIA names it */
  guint slices;          /* compute slices */
  guint count;           /* instances the GPU can hold */
  guint sms, copy_engines, decoders, encoders, jpegs, ofas;
  guint memory_mb;
  guint size;            /* memory slices of each placement */
  guint n_starts;
  guint starts[8];
} TestProfile;

typedef struct {
  guint16 device_ids[2];
  const char *name;
  guint memory_mb;
  const TestProfile *profiles;
  guint n_profiles;
} TestModel;

const TestModel *test_model_for (guint16 device_id);
const TestProfile *test_profile_by_index (const TestModel *model, guint index);
const TestProfile *test_profile_by_id (const TestModel *model, guint id);

/* The entry points, as the library exports them. */
#define TEST_NVML_DECLARE(name, ret, args) ret name args;
GV_MIG_NVML_ENTRY_POINTS (TEST_NVML_DECLARE)
