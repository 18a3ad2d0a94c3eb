/* The part of NVIDIA's management library (NVML, libnvidia-ml.so.1)
 * gpuvirtd uses, declared from NVIDIA's documented C API: NVML API
 * version 12 (nvml.h of CUDA 12.x, NVML_API_VERSION 12; the same layouts
 * and values in the 13.x header). Nothing links against NVML: the library
 * is opened with dlopen() at run time (nvml.c) and each entry point is
 * looked up by the name given here, so a host without NVIDIA's driver
 * still runs gpuvirtd, with MIG reported as unavailable.
 *
 * Only what is used is declared, under gpuvirt's own names (the layouts,
 * values and entry point names are NVML's). The test NVML (tests/nvml/)
 * implements the same entry points against these declarations. */
#pragma once

/* nvmlReturn_t */
typedef int GvMigNvmlReturn;
#define GV_MIG_NVML_SUCCESS 0
#define GV_MIG_NVML_ERROR_UNINITIALIZED 1
#define GV_MIG_NVML_ERROR_INVALID_ARGUMENT 2
#define GV_MIG_NVML_ERROR_NOT_SUPPORTED 3
#define GV_MIG_NVML_ERROR_NO_PERMISSION 4
#define GV_MIG_NVML_ERROR_NOT_FOUND 6
#define GV_MIG_NVML_ERROR_INSUFFICIENT_SIZE 7
#define GV_MIG_NVML_ERROR_DRIVER_NOT_LOADED 9
#define GV_MIG_NVML_ERROR_TIMEOUT 10
#define GV_MIG_NVML_ERROR_GPU_IS_LOST 15
#define GV_MIG_NVML_ERROR_RESET_REQUIRED 16
#define GV_MIG_NVML_ERROR_IN_USE 19
#define GV_MIG_NVML_ERROR_MEMORY 20
#define GV_MIG_NVML_ERROR_INSUFFICIENT_RESOURCES 23
#define GV_MIG_NVML_ERROR_UNKNOWN 999

/* nvmlDeviceSetMigMode() modes */
#define GV_MIG_NVML_MIG_DISABLE 0
#define GV_MIG_NVML_MIG_ENABLE 1

/* NVML_GPU_INSTANCE_PROFILE_*: the "profile" argument of
 * nvmlDeviceGetGpuInstanceProfileInfo(), an index (not the profile id).
 * Indices the driver does not support answer NOT_SUPPORTED; the end of
 * what the library knows answers INVALID_ARGUMENT. */
#define GV_MIG_NVML_GI_PROFILE_1_SLICE 0x0
#define GV_MIG_NVML_GI_PROFILE_2_SLICE 0x1
#define GV_MIG_NVML_GI_PROFILE_3_SLICE 0x2
#define GV_MIG_NVML_GI_PROFILE_4_SLICE 0x3
#define GV_MIG_NVML_GI_PROFILE_7_SLICE 0x4
#define GV_MIG_NVML_GI_PROFILE_8_SLICE 0x5
#define GV_MIG_NVML_GI_PROFILE_6_SLICE 0x6
#define GV_MIG_NVML_GI_PROFILE_1_SLICE_REV1 0x7   /* "+me": with the media engines */
#define GV_MIG_NVML_GI_PROFILE_2_SLICE_REV1 0x8   /* "+me" */
#define GV_MIG_NVML_GI_PROFILE_1_SLICE_REV2 0x9   /* twice the memory of 1_SLICE */
#define GV_MIG_NVML_GI_PROFILE_1_SLICE_GFX 0xA    /* "+gfx" (12.8 and later) */
#define GV_MIG_NVML_GI_PROFILE_2_SLICE_GFX 0xB
#define GV_MIG_NVML_GI_PROFILE_4_SLICE_GFX 0xC
#define GV_MIG_NVML_GI_PROFILE_1_SLICE_NO_ME 0xD  /* "-me": without them */
#define GV_MIG_NVML_GI_PROFILE_2_SLICE_NO_ME 0xE
#define GV_MIG_NVML_GI_PROFILE_1_SLICE_ALL_ME 0xF /* "+me.all" */
#define GV_MIG_NVML_GI_PROFILE_2_SLICE_ALL_ME 0x10
/* the indices gpuvirtd asks for: 0 up to this one (excluded) */
#define GV_MIG_NVML_GI_PROFILE_SCAN 0x11

/* NVML_COMPUTE_INSTANCE_PROFILE_*: indices for
 * nvmlGpuInstanceGetComputeInstanceProfileInfo() */
#define GV_MIG_NVML_CI_PROFILE_1_SLICE 0x0
#define GV_MIG_NVML_CI_PROFILE_2_SLICE 0x1
#define GV_MIG_NVML_CI_PROFILE_3_SLICE 0x2
#define GV_MIG_NVML_CI_PROFILE_4_SLICE 0x3
#define GV_MIG_NVML_CI_PROFILE_7_SLICE 0x4
#define GV_MIG_NVML_CI_PROFILE_8_SLICE 0x5
#define GV_MIG_NVML_CI_PROFILE_6_SLICE 0x6
#define GV_MIG_NVML_CI_ENGINE_PROFILE_SHARED 0x0

#define GV_MIG_NVML_BUFFER_SIZE 96   /* covers NVML_DEVICE_NAME_V2_BUFFER_SIZE and the version strings (80) */

typedef struct GvMigNvmlDeviceSt *GvMigNvmlDevice;            /* nvmlDevice_t */
typedef struct GvMigNvmlGpuInstanceSt *GvMigNvmlGpuInstance;  /* nvmlGpuInstance_t */
typedef struct GvMigNvmlComputeInstanceSt *GvMigNvmlComputeInstance; /* nvmlComputeInstance_t */

/* nvmlMemory_t */
typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} GvMigNvmlMemory;

/* nvmlGpuInstancePlacement_t: memory slices */
typedef struct {
  unsigned int start;
  unsigned int size;
} GvMigNvmlPlacement;

/* nvmlGpuInstanceProfileInfo_t */
typedef struct {
  unsigned int id;                  /* the profile id (19 for 1g.10gb on an H100), not the index */
  unsigned int isP2pSupported;
  unsigned int sliceCount;          /* compute slices */
  unsigned int instanceCount;       /* how many such instances the GPU can hold */
  unsigned int multiprocessorCount;
  unsigned int copyEngineCount;
  unsigned int decoderCount;
  unsigned int encoderCount;
  unsigned int jpegCount;
  unsigned int ofaCount;
  unsigned long long memorySizeMB;
} GvMigNvmlGpuInstanceProfileInfo;

/* nvmlGpuInstanceInfo_t */
typedef struct {
  GvMigNvmlDevice device;
  unsigned int id;
  unsigned int profileId;
  GvMigNvmlPlacement placement;
} GvMigNvmlGpuInstanceInfo;

/* nvmlComputeInstanceProfileInfo_t */
typedef struct {
  unsigned int id;
  unsigned int sliceCount;
  unsigned int instanceCount;
  unsigned int multiprocessorCount;
  unsigned int sharedCopyEngineCount;
  unsigned int sharedDecoderCount;
  unsigned int sharedEncoderCount;
  unsigned int sharedJpegCount;
  unsigned int sharedOfaCount;
} GvMigNvmlComputeInstanceProfileInfo;

/* nvmlComputeInstancePlacement_t, nvmlComputeInstanceInfo_t */
typedef struct {
  unsigned int start;
  unsigned int size;
} GvMigNvmlCiPlacement;

typedef struct {
  GvMigNvmlDevice device;
  GvMigNvmlGpuInstance gpuInstance;
  unsigned int id;
  unsigned int profileId;
  GvMigNvmlCiPlacement placement;
} GvMigNvmlComputeInstanceInfo;

/* The entry points, by the names the library exports. X (NAME, RETURN,
 * ARGUMENTS) for each; nvml.c makes a table of pointers from it. */
#define GV_MIG_NVML_ENTRY_POINTS(X)                                                                                    \
  X (nvmlInit_v2, GvMigNvmlReturn, (void))                                                                             \
  X (nvmlShutdown, GvMigNvmlReturn, (void))                                                                            \
  X (nvmlErrorString, const char *, (GvMigNvmlReturn result))                                                         \
  X (nvmlSystemGetNVMLVersion, GvMigNvmlReturn, (char *version, unsigned int length))                                  \
  X (nvmlSystemGetDriverVersion, GvMigNvmlReturn, (char *version, unsigned int length))                                \
  X (nvmlDeviceGetHandleByPciBusId_v2, GvMigNvmlReturn, (const char *pciBusId, GvMigNvmlDevice *device))               \
  X (nvmlDeviceGetName, GvMigNvmlReturn, (GvMigNvmlDevice device, char *name, unsigned int length))                    \
  X (nvmlDeviceGetMemoryInfo, GvMigNvmlReturn, (GvMigNvmlDevice device, GvMigNvmlMemory *memory))                     \
  X (nvmlDeviceGetMigMode, GvMigNvmlReturn, (GvMigNvmlDevice device, unsigned int *currentMode,                        \
                                             unsigned int *pendingMode))                                               \
  X (nvmlDeviceSetMigMode, GvMigNvmlReturn, (GvMigNvmlDevice device, unsigned int mode,                                \
                                             GvMigNvmlReturn *activationStatus))                                       \
  X (nvmlDeviceGetGpuInstanceProfileInfo, GvMigNvmlReturn, (GvMigNvmlDevice device, unsigned int profile,              \
                                                            GvMigNvmlGpuInstanceProfileInfo *info))                    \
  X (nvmlDeviceGetGpuInstancePossiblePlacements_v2, GvMigNvmlReturn,                                                   \
     (GvMigNvmlDevice device, unsigned int profileId, GvMigNvmlPlacement *placements, unsigned int *count))            \
  X (nvmlDeviceGetGpuInstanceRemainingCapacity, GvMigNvmlReturn, (GvMigNvmlDevice device, unsigned int profileId,      \
                                                                  unsigned int *count))                                \
  X (nvmlDeviceCreateGpuInstanceWithPlacement, GvMigNvmlReturn,                                                        \
     (GvMigNvmlDevice device, unsigned int profileId, const GvMigNvmlPlacement *placement,                             \
      GvMigNvmlGpuInstance *gpuInstance))                                                                              \
  X (nvmlDeviceGetGpuInstances, GvMigNvmlReturn, (GvMigNvmlDevice device, unsigned int profileId,                      \
                                                  GvMigNvmlGpuInstance *gpuInstances, unsigned int *count))            \
  X (nvmlGpuInstanceGetInfo, GvMigNvmlReturn, (GvMigNvmlGpuInstance gpuInstance, GvMigNvmlGpuInstanceInfo *info))     \
  X (nvmlGpuInstanceDestroy, GvMigNvmlReturn, (GvMigNvmlGpuInstance gpuInstance))                                      \
  X (nvmlGpuInstanceGetComputeInstanceProfileInfo, GvMigNvmlReturn,                                                    \
     (GvMigNvmlGpuInstance gpuInstance, unsigned int profile, unsigned int engProfile,                                 \
      GvMigNvmlComputeInstanceProfileInfo *info))                                                                      \
  X (nvmlGpuInstanceCreateComputeInstance, GvMigNvmlReturn, (GvMigNvmlGpuInstance gpuInstance, unsigned int profileId, \
                                                             GvMigNvmlComputeInstance *computeInstance))               \
  X (nvmlGpuInstanceGetComputeInstances, GvMigNvmlReturn,                                                              \
     (GvMigNvmlGpuInstance gpuInstance, unsigned int profileId, GvMigNvmlComputeInstance *computeInstances,            \
      unsigned int *count))                                                                                            \
  X (nvmlComputeInstanceGetInfo_v2, GvMigNvmlReturn, (GvMigNvmlComputeInstance computeInstance,                        \
                                                      GvMigNvmlComputeInstanceInfo *info))                             \
  X (nvmlComputeInstanceDestroy, GvMigNvmlReturn, (GvMigNvmlComputeInstance computeInstance))
