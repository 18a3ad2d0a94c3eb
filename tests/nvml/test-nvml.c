/* A test NVML: the entry points gpuvirtd uses (service/mig/nvml-abi.h),
 * answering as NVIDIA's API reference documents them, over the GPUs of a
 * simulated host. The state (MIG mode, GPU and compute instances) lives in
 * the simulator, which keeps it for each GPU as the hardware would and
 * applies the kernel-side rules (a function reset makes a pending mode
 * current, enabling VFs wipes the instances); this library reads it from
 * .sim/mig and changes it with commands written there. In the QEMU test
 * VM the same state and rules are the test kernel module's
 * (tests/vm/nvidia-model, GPUVIRT_TEST_NVML_MIG names its file), so the
 * reset is the real kernel's. Profiles and placements are the GPU model's
 * (models.c). See README.md. */
#include "test-nvml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the simulated host ---- */

static GMutex lock;
static guint init_count;
static char *root;              /* the simulator's mount (the VM: "/") */
static char *mig_file;          /* ROOT/.sim/mig, or GPUVIRT_TEST_NVML_MIG */
static GPtrArray *devices;      /* TestDevice: handles live until the last shutdown */
static GPtrArray *handles;      /* TestGi, TestCi: the same */

typedef struct GvMigNvmlDeviceSt {
  char bdf[16];
  const TestModel *model;
  guint16 device_id;
} TestDevice;

typedef struct GvMigNvmlGpuInstanceSt {
  TestDevice *device;
  guint id;
} TestGi;

typedef struct GvMigNvmlComputeInstanceSt {
  TestGi *gi;
  guint id;
} TestCi;

typedef struct {
  guint id, profile_id, start, size, slices;
  char profile[32];
  gboolean used;
} GiState;

typedef struct {
  guint gi, id, profile_id, start, size;
} CiState;

typedef struct {
  gboolean present;
  guint current, pending, held, vfs, vgpus, slices;
  guint device;  /* the PCI device id it stands for (the VM's module), 0: its own */
  GArray *gis;   /* GiState */
  GArray *cis;   /* CiState */
} GpuState;

static void
state_clear (GpuState *s)
{
  g_clear_pointer (&s->gis, g_array_unref);
  g_clear_pointer (&s->cis, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GpuState, state_clear)

static char *
sim_path (const char *rel)
{
  return g_build_filename (root, rel, NULL);
}

static char *
read_sim (const char *rel)
{
  g_autofree char *path = sim_path (rel);
  char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
}

/* One write to .sim/mig: 0 or the errno the simulator answered. */
static int
write_mig (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static int
write_mig (const char *fmt, ...)
{
  const char *path = mig_file;
  g_autofree char *line = NULL;
  va_list ap;
  ssize_t n;
  int fd, err = 0;

  va_start (ap, fmt);
  line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  n = write (fd, line, strlen (line));
  if (n < 0)
    err = errno;
  close (fd);
  return err;
}

static GvMigNvmlReturn
from_errno (int err)
{
  switch (err) {
  case 0: return GV_MIG_NVML_SUCCESS;
  case EINVAL: return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  case EOPNOTSUPP: return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  case EPERM: case EACCES: return GV_MIG_NVML_ERROR_NO_PERMISSION;
  case ENOENT: return GV_MIG_NVML_ERROR_NOT_FOUND;
  case ENXIO: return GV_MIG_NVML_ERROR_DRIVER_NOT_LOADED;
  case ETIMEDOUT: return GV_MIG_NVML_ERROR_TIMEOUT;
  case ENODEV: return GV_MIG_NVML_ERROR_GPU_IS_LOST;
  case EBUSY: return GV_MIG_NVML_ERROR_IN_USE;
  case ENOMEM: return GV_MIG_NVML_ERROR_MEMORY;
  case ENOSPC: return GV_MIG_NVML_ERROR_INSUFFICIENT_RESOURCES;
  default: return GV_MIG_NVML_ERROR_UNKNOWN;
  }
}

/* Every entry point asks first whether a fault is armed for it
 * (.sim/faults, path nvml/NAME): an errno, a delay, or a hang. */
static GvMigNvmlReturn
enter (const char *name)
{
  if (!init_count)
    return GV_MIG_NVML_ERROR_UNINITIALIZED;
  return from_errno (write_mig ("call %s", name));
}

#define ENTER()                                                                                                        \
  G_STMT_START {                                                                                                       \
    GvMigNvmlReturn enter_r = enter (G_STRFUNC);                                                                       \
    if (enter_r != GV_MIG_NVML_SUCCESS)                                                                                \
      return enter_r;                                                                                                  \
  } G_STMT_END

static guint
field (const char *word, const char *key)
{
  gsize n = strlen (key);
  return strncmp (word, key, n) == 0 && word[n] == '=' ? (guint) g_ascii_strtoull (word + n + 1, NULL, 10) : 0;
}

/* The GPU's MIG state as the simulator keeps it. */
static gboolean
read_state (const char *bdf, GpuState *out)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  g_file_get_contents (mig_file, &text, NULL, NULL);
  lines = g_strsplit (text ? text : "", "\n", -1);
  memset (out, 0, sizeof *out);
  out->gis = g_array_new (FALSE, TRUE, sizeof (GiState));
  out->cis = g_array_new (FALSE, TRUE, sizeof (CiState));
  for (guint i = 0; lines[i]; i++) {
    g_auto (GStrv) w = g_strsplit (lines[i], " ", -1);
    guint n = g_strv_length (w);
    if (n < 3 || !g_str_equal (w[1], bdf))
      continue;
    if (g_str_equal (w[0], "gpu")) {
      out->present = TRUE;
      for (guint j = 2; j < n; j++) {
        out->current |= field (w[j], "current");
        out->pending |= field (w[j], "pending");
        out->held |= field (w[j], "held");
        out->vfs += field (w[j], "vfs");
        out->vgpus += field (w[j], "vgpus");
        out->slices += field (w[j], "slices");
        if (g_str_has_prefix (w[j], "device="))
          out->device = (guint) g_ascii_strtoull (w[j] + 7, NULL, 16);
      }
    } else if (g_str_equal (w[0], "gi")) {
      GiState gi = { .id = (guint) g_ascii_strtoull (w[2], NULL, 10) };
      for (guint j = 3; j < n; j++) {
        gi.profile_id += field (w[j], "pid");
        gi.start += field (w[j], "start");
        gi.size += field (w[j], "size");
        gi.slices += field (w[j], "slices");
        if (g_str_has_prefix (w[j], "profile="))
          g_strlcpy (gi.profile, w[j] + 8, sizeof gi.profile);
        if (g_str_has_prefix (w[j], "used="))
          gi.used = !g_str_equal (w[j] + 5, "-");
      }
      g_array_append_val (out->gis, gi);
    } else if (g_str_equal (w[0], "ci") && n >= 4) {
      CiState ci = { (guint) g_ascii_strtoull (w[2], NULL, 10), (guint) g_ascii_strtoull (w[3], NULL, 10) };
      for (guint j = 4; j < n; j++) {
        ci.profile_id += field (w[j], "pid");
        ci.start += field (w[j], "start");
        ci.size += field (w[j], "size");
      }
      g_array_append_val (out->cis, ci);
    }
  }
  return out->present;
}

static const GiState *
find_gi (const GpuState *s, guint id)
{
  for (guint i = 0; i < s->gis->len; i++)
    if (g_array_index (s->gis, GiState, i).id == id)
      return &g_array_index (s->gis, GiState, i);
  return NULL;
}

/* Only MIG GPUs of a known model have MIG in NVML. */
static gboolean
mig_device (GvMigNvmlDevice device, GpuState *state)
{
  return device && device->model && read_state (device->bdf, state);
}

/* ---- library ---- */

GvMigNvmlReturn
nvmlInit_v2 (void)
{
  const char *r = g_getenv ("GPUVIRT_TEST_NVML_ROOT");
  const char *file = g_getenv ("GPUVIRT_TEST_NVML_MIG");
  g_autofree char *mig = NULL;

  g_mutex_lock (&lock);
  if (init_count == 0) {
    if (!r || !*r) {
      g_mutex_unlock (&lock);
      return GV_MIG_NVML_ERROR_DRIVER_NOT_LOADED;
    }
    mig = file && *file ? g_strdup (file) : g_build_filename (r, ".sim", "mig", NULL);
    if (!g_file_test (mig, G_FILE_TEST_EXISTS)) {
      g_mutex_unlock (&lock);
      return GV_MIG_NVML_ERROR_DRIVER_NOT_LOADED;
    }
    root = g_strdup (r);
    mig_file = g_steal_pointer (&mig);
    devices = g_ptr_array_new_with_free_func (g_free);
    handles = g_ptr_array_new_with_free_func (g_free);
  }
  init_count++;
  g_mutex_unlock (&lock);
  {
    GvMigNvmlReturn rc = enter (G_STRFUNC);
    if (rc != GV_MIG_NVML_SUCCESS)
      nvmlShutdown ();
    return rc;
  }
}

GvMigNvmlReturn
nvmlShutdown (void)
{
  g_mutex_lock (&lock);
  if (init_count == 0) {
    g_mutex_unlock (&lock);
    return GV_MIG_NVML_ERROR_UNINITIALIZED;
  }
  if (--init_count == 0) {
    g_clear_pointer (&devices, g_ptr_array_unref);
    g_clear_pointer (&handles, g_ptr_array_unref);
    g_clear_pointer (&root, g_free);
    g_clear_pointer (&mig_file, g_free);
  }
  g_mutex_unlock (&lock);
  return GV_MIG_NVML_SUCCESS;
}

const char *
nvmlErrorString (GvMigNvmlReturn result)
{
  switch (result) {
  case GV_MIG_NVML_SUCCESS: return "Success";
  case GV_MIG_NVML_ERROR_UNINITIALIZED: return "Uninitialized";
  case GV_MIG_NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
  case GV_MIG_NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
  case GV_MIG_NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
  case GV_MIG_NVML_ERROR_NOT_FOUND: return "Not Found";
  case GV_MIG_NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
  case GV_MIG_NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
  case GV_MIG_NVML_ERROR_TIMEOUT: return "Timeout";
  case GV_MIG_NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
  case GV_MIG_NVML_ERROR_RESET_REQUIRED: return "GPU requires reset";
  case GV_MIG_NVML_ERROR_IN_USE: return "In use by another client";
  case GV_MIG_NVML_ERROR_MEMORY: return "Insufficient Memory";
  case GV_MIG_NVML_ERROR_INSUFFICIENT_RESOURCES: return "Insufficient Resources";
  default: return "Unknown Error";
  }
}

GvMigNvmlReturn
nvmlSystemGetNVMLVersion (char *version, unsigned int length)
{
  ENTER ();
  if (!version)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (g_strlcpy (version, "12.550.54.14-test", length) >= length)
    return GV_MIG_NVML_ERROR_INSUFFICIENT_SIZE;
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlSystemGetDriverVersion (char *version, unsigned int length)
{
  ENTER ();
  if (!version)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (g_strlcpy (version, "550.54.14", length) >= length)
    return GV_MIG_NVML_ERROR_INSUFFICIENT_SIZE;
  return GV_MIG_NVML_SUCCESS;
}

/* ---- devices ---- */

/* "00000000:41:00.0" or "0000:41:00.0", either case, to "0000:41:00.0" */
static gboolean
normalize_bus_id (const char *id, char out[16])
{
  unsigned d, b, s, f;
  char end;

  if (!id || sscanf (id, "%x:%x:%x.%x%c", &d, &b, &s, &f, &end) != 4 || d > 0xffff || b > 0xff || s > 0x1f || f > 7)
    return FALSE;
  g_snprintf (out, 16, "%04x:%02x:%02x.%x", d, b, s, f);
  return TRUE;
}

GvMigNvmlReturn
nvmlDeviceGetHandleByPciBusId_v2 (const char *pciBusId, GvMigNvmlDevice *device)
{
  char bdf[16];
  g_autofree char *dir = NULL;
  g_autofree char *driver = NULL;
  g_autofree char *id = NULL;
  TestDevice *dev = NULL;

  ENTER ();
  if (!device || !normalize_bus_id (pciBusId, bdf))
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  /* NVML sees the GPUs its driver has */
  dir = g_build_filename ("sys", "bus", "pci", "devices", bdf, NULL);
  {
    g_autofree char *link = g_build_filename (root, dir, "driver", NULL);
    g_autofree char *target = g_file_read_link (link, NULL);
    driver = target ? g_path_get_basename (target) : NULL;
  }
  if (g_strcmp0 (driver, "nvidia") != 0)
    return GV_MIG_NVML_ERROR_NOT_FOUND;
  {
    g_autofree char *rel = g_build_filename (dir, "device", NULL);
    id = read_sim (rel);
  }
  g_mutex_lock (&lock);
  for (guint i = 0; i < devices->len && !dev; i++)
    if (g_str_equal (((TestDevice *) devices->pdata[i])->bdf, bdf))
      dev = devices->pdata[i];
  if (!dev) {
    g_auto (GpuState) s = { 0 };
    dev = g_new0 (TestDevice, 1);
    g_strlcpy (dev->bdf, bdf, sizeof dev->bdf);
    dev->device_id = (guint16) g_ascii_strtoull (id ? id : "0", NULL, 16);
    /* the VM's module names the model its GPU stands for */
    if (read_state (bdf, &s) && s.device)
      dev->device_id = (guint16) s.device;
    dev->model = test_model_for (dev->device_id);
    g_ptr_array_add (devices, dev);
  }
  g_mutex_unlock (&lock);
  *device = dev;
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlDeviceGetName (GvMigNvmlDevice device, char *name, unsigned int length)
{
  ENTER ();
  if (!device || !name)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (g_strlcpy (name, device->model ? device->model->name : "NVIDIA Device", length) >= length)
    return GV_MIG_NVML_ERROR_INSUFFICIENT_SIZE;
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlDeviceGetMemoryInfo (GvMigNvmlDevice device, GvMigNvmlMemory *memory)
{
  ENTER ();
  if (!device || !memory)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  memory->total = (unsigned long long) (device->model ? device->model->memory_mb : 23034) << 20;
  memory->used = 0;
  memory->free = memory->total;
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlDeviceGetMigMode (GvMigNvmlDevice device, unsigned int *currentMode, unsigned int *pendingMode)
{
  g_auto (GpuState) s = { 0 };

  ENTER ();
  if (!device || !currentMode || !pendingMode)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (!mig_device (device, &s))
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  *currentMode = s.current;
  *pendingMode = s.pending;
  return GV_MIG_NVML_SUCCESS;
}

/* The mode is set pending; this library never resets the GPU itself (as
 * on platforms where NVML cannot): it becomes current at a function reset
 * through sysfs, or never. activationStatus says why it did not yet: the
 * GPU is held (IN_USE) or simply needs the reset (RESET_REQUIRED). */
GvMigNvmlReturn
nvmlDeviceSetMigMode (GvMigNvmlDevice device, unsigned int mode, GvMigNvmlReturn *activationStatus)
{
  g_auto (GpuState) s = { 0 };
  int err;

  ENTER ();
  if (!device || !activationStatus || mode > 1)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (!mig_device (device, &s))
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  err = write_mig ("mode %s %u", device->bdf, mode);
  if (err)
    return from_errno (err);
  *activationStatus = s.current == mode ? GV_MIG_NVML_SUCCESS
                      : s.held ? GV_MIG_NVML_ERROR_IN_USE : GV_MIG_NVML_ERROR_RESET_REQUIRED;
  return GV_MIG_NVML_SUCCESS;
}

/* ---- GPU instance profiles ---- */

GvMigNvmlReturn
nvmlDeviceGetGpuInstanceProfileInfo (GvMigNvmlDevice device, unsigned int profile,
                                     GvMigNvmlGpuInstanceProfileInfo *info)
{
  g_auto (GpuState) s = { 0 };
  const TestProfile *p;

  ENTER ();
  if (!device || !info || profile >= GV_MIG_NVML_GI_PROFILE_SCAN + 1)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  /* answered whatever the mode (the API reference: NOT_SUPPORTED when the
   * device does not support MIG or the profile) */
  if (!mig_device (device, &s) || !(p = test_profile_by_index (device->model, profile)))
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  *info = (GvMigNvmlGpuInstanceProfileInfo) {
    .id = p->id, .isP2pSupported = 0, .sliceCount = p->slices, .instanceCount = p->count,
    .multiprocessorCount = p->sms, .copyEngineCount = p->copy_engines, .decoderCount = p->decoders,
    .encoderCount = p->encoders, .jpegCount = p->jpegs, .ofaCount = p->ofas, .memorySizeMB = p->memory_mb,
  };
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlDeviceGetGpuInstancePossiblePlacements_v2 (GvMigNvmlDevice device, unsigned int profileId,
                                               GvMigNvmlPlacement *placements, unsigned int *count)
{
  g_auto (GpuState) s = { 0 };
  const TestProfile *p;

  ENTER ();
  if (!device || !count)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (!mig_device (device, &s))
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  p = test_profile_by_id (device->model, profileId);
  if (!p)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (placements && *count < p->n_starts)
    return GV_MIG_NVML_ERROR_INSUFFICIENT_SIZE;
  for (guint i = 0; placements && i < p->n_starts; i++)
    placements[i] = (GvMigNvmlPlacement) { p->starts[i], p->size };
  *count = p->n_starts;
  return GV_MIG_NVML_SUCCESS;
}

static gboolean
overlaps (const GpuState *s, guint start, guint size, const GArray *extra)
{
  for (guint i = 0; i < s->gis->len; i++) {
    const GiState *gi = &g_array_index (s->gis, GiState, i);
    if (start < gi->start + gi->size && gi->start < start + size)
      return TRUE;
  }
  for (guint i = 0; extra && i < extra->len; i++) {
    guint o = g_array_index (extra, guint, i);
    if (start < o + size && o < start + size)
      return TRUE;
  }
  return FALSE;
}

static guint
count_of (const GpuState *s, guint profile_id)
{
  guint n = 0;
  for (guint i = 0; i < s->gis->len; i++)
    n += g_array_index (s->gis, GiState, i).profile_id == profile_id;
  return n;
}

GvMigNvmlReturn
nvmlDeviceGetGpuInstanceRemainingCapacity (GvMigNvmlDevice device, unsigned int profileId, unsigned int *count)
{
  g_auto (GpuState) s = { 0 };
  g_autoptr (GArray) taken = g_array_new (FALSE, FALSE, sizeof (guint));
  const TestProfile *p;

  ENTER ();
  if (!device || !count)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (!mig_device (device, &s) || !s.current)
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  p = test_profile_by_id (device->model, profileId);
  if (!p)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  /* free placements taken one after the other, up to the profile's count */
  for (guint i = 0; i < p->n_starts; i++)
    if (count_of (&s, p->id) + taken->len < p->count && !overlaps (&s, p->starts[i], p->size, taken))
      g_array_append_val (taken, p->starts[i]);
  *count = taken->len;
  return GV_MIG_NVML_SUCCESS;
}

static TestGi *
gi_handle (TestDevice *device, guint id)
{
  TestGi *gi = g_new0 (TestGi, 1);

  gi->device = device;
  gi->id = id;
  g_mutex_lock (&lock);
  g_ptr_array_add (handles, gi);
  g_mutex_unlock (&lock);
  return gi;
}

GvMigNvmlReturn
nvmlDeviceCreateGpuInstanceWithPlacement (GvMigNvmlDevice device, unsigned int profileId,
                                          const GvMigNvmlPlacement *placement, GvMigNvmlGpuInstance *gpuInstance)
{
  g_auto (GpuState) s = { 0 };
  g_auto (GpuState) after = { 0 };
  const TestProfile *p;
  gboolean allowed = FALSE;
  int err;

  ENTER ();
  if (!device || !placement || !gpuInstance)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (!mig_device (device, &s) || !s.current)
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  p = test_profile_by_id (device->model, profileId);
  if (!p)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  for (guint i = 0; i < p->n_starts; i++)
    allowed |= p->starts[i] == placement->start && p->size == placement->size;
  if (!allowed)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (count_of (&s, p->id) >= p->count)
    return GV_MIG_NVML_ERROR_INSUFFICIENT_RESOURCES;
  err = write_mig ("gi-create %s %u %s %u %u %u", device->bdf, p->id, p->name, placement->start, placement->size,
                   p->slices);
  if (err)
    return from_errno (err);
  read_state (device->bdf, &after);
  for (guint i = 0; i < after.gis->len; i++) {
    const GiState *gi = &g_array_index (after.gis, GiState, i);
    if (gi->start == placement->start) {
      *gpuInstance = gi_handle (device, gi->id);
      return GV_MIG_NVML_SUCCESS;
    }
  }
  return GV_MIG_NVML_ERROR_UNKNOWN;
}

GvMigNvmlReturn
nvmlDeviceGetGpuInstances (GvMigNvmlDevice device, unsigned int profileId, GvMigNvmlGpuInstance *gpuInstances,
                           unsigned int *count)
{
  g_auto (GpuState) s = { 0 };
  const TestProfile *p;
  guint n = 0;

  ENTER ();
  if (!device || !gpuInstances || !count)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  if (!mig_device (device, &s) || !s.current)
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  p = test_profile_by_id (device->model, profileId);
  if (!p)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  /* the buffer holds the profile's instance count, as the reference asks */
  for (guint i = 0; i < s.gis->len && n < p->count; i++)
    if (g_array_index (s.gis, GiState, i).profile_id == profileId)
      gpuInstances[n++] = gi_handle (device, g_array_index (s.gis, GiState, i).id);
  *count = n;
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlGpuInstanceGetInfo (GvMigNvmlGpuInstance gpuInstance, GvMigNvmlGpuInstanceInfo *info)
{
  g_auto (GpuState) s = { 0 };
  const GiState *gi;

  ENTER ();
  if (!gpuInstance || !info || !mig_device (gpuInstance->device, &s) || !(gi = find_gi (&s, gpuInstance->id)))
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  *info = (GvMigNvmlGpuInstanceInfo) { gpuInstance->device, gi->id, gi->profile_id, { gi->start, gi->size } };
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlGpuInstanceDestroy (GvMigNvmlGpuInstance gpuInstance)
{
  int err;

  ENTER ();
  if (!gpuInstance)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  err = write_mig ("gi-destroy %s %u", gpuInstance->device->bdf, gpuInstance->id);
  /* a handle of an instance that is gone is invalid */
  return err == ENOENT ? GV_MIG_NVML_ERROR_INVALID_ARGUMENT : from_errno (err);
}

/* ---- compute instances ---- */

static const guint ci_slices[] = { 1, 2, 3, 4, 7, 8, 6 };

GvMigNvmlReturn
nvmlGpuInstanceGetComputeInstanceProfileInfo (GvMigNvmlGpuInstance gpuInstance, unsigned int profile,
                                              unsigned int engProfile, GvMigNvmlComputeInstanceProfileInfo *info)
{
  g_auto (GpuState) s = { 0 };
  const GiState *gi;
  const TestProfile *p;

  ENTER ();
  if (!gpuInstance || !info || engProfile != GV_MIG_NVML_CI_ENGINE_PROFILE_SHARED || profile >= 9 ||
      !mig_device (gpuInstance->device, &s) || !(gi = find_gi (&s, gpuInstance->id)))
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  p = test_profile_by_id (gpuInstance->device->model, gi->profile_id);
  if (profile >= G_N_ELEMENTS (ci_slices) || ci_slices[profile] > gi->slices || !p)
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  *info = (GvMigNvmlComputeInstanceProfileInfo) {
    .id = profile, .sliceCount = ci_slices[profile], .instanceCount = gi->slices / ci_slices[profile],
    .multiprocessorCount = p->sms / gi->slices * ci_slices[profile], .sharedCopyEngineCount = p->copy_engines,
    .sharedDecoderCount = p->decoders, .sharedEncoderCount = p->encoders, .sharedJpegCount = p->jpegs,
    .sharedOfaCount = p->ofas,
  };
  return GV_MIG_NVML_SUCCESS;
}

static TestCi *
ci_handle (TestGi *gi, guint id)
{
  TestCi *ci = g_new0 (TestCi, 1);

  ci->gi = gi_handle (gi->device, gi->id);
  ci->id = id;
  g_mutex_lock (&lock);
  g_ptr_array_add (handles, ci);
  g_mutex_unlock (&lock);
  return ci;
}

GvMigNvmlReturn
nvmlGpuInstanceCreateComputeInstance (GvMigNvmlGpuInstance gpuInstance, unsigned int profileId,
                                      GvMigNvmlComputeInstance *computeInstance)
{
  g_auto (GpuState) s = { 0 };
  g_auto (GpuState) after = { 0 };
  const GiState *gi;
  guint size, start;
  int err;

  ENTER ();
  if (!gpuInstance || !computeInstance || profileId >= G_N_ELEMENTS (ci_slices) ||
      !mig_device (gpuInstance->device, &s) || !(gi = find_gi (&s, gpuInstance->id)))
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  size = ci_slices[profileId];
  if (size > gi->slices)
    return GV_MIG_NVML_ERROR_NOT_SUPPORTED;
  /* the first free range of compute slices */
  for (start = 0; start + size <= gi->slices; start++) {
    gboolean free = TRUE;
    for (guint i = 0; i < s.cis->len; i++) {
      const CiState *ci = &g_array_index (s.cis, CiState, i);
      if (ci->gi == gi->id && start < ci->start + ci->size && ci->start < start + size)
        free = FALSE;
    }
    if (free)
      break;
  }
  if (start + size > gi->slices)
    return GV_MIG_NVML_ERROR_INSUFFICIENT_RESOURCES;
  err = write_mig ("ci-create %s %u %u %u %u", gpuInstance->device->bdf, gi->id, profileId, start, size);
  if (err)
    return from_errno (err);
  read_state (gpuInstance->device->bdf, &after);
  for (guint i = 0; i < after.cis->len; i++) {
    const CiState *ci = &g_array_index (after.cis, CiState, i);
    if (ci->gi == gpuInstance->id && ci->start == start) {
      *computeInstance = ci_handle (gpuInstance, ci->id);
      return GV_MIG_NVML_SUCCESS;
    }
  }
  return GV_MIG_NVML_ERROR_UNKNOWN;
}

GvMigNvmlReturn
nvmlGpuInstanceGetComputeInstances (GvMigNvmlGpuInstance gpuInstance, unsigned int profileId,
                                    GvMigNvmlComputeInstance *computeInstances, unsigned int *count)
{
  g_auto (GpuState) s = { 0 };
  const GiState *gi;
  guint n = 0;

  ENTER ();
  if (!gpuInstance || !computeInstances || !count || profileId >= G_N_ELEMENTS (ci_slices) ||
      !mig_device (gpuInstance->device, &s) || !(gi = find_gi (&s, gpuInstance->id)))
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  for (guint i = 0; i < s.cis->len; i++) {
    const CiState *ci = &g_array_index (s.cis, CiState, i);
    if (ci->gi == gi->id && ci->profile_id == profileId && n < gi->slices)
      computeInstances[n++] = ci_handle (gpuInstance, ci->id);
  }
  *count = n;
  return GV_MIG_NVML_SUCCESS;
}

GvMigNvmlReturn
nvmlComputeInstanceGetInfo_v2 (GvMigNvmlComputeInstance computeInstance, GvMigNvmlComputeInstanceInfo *info)
{
  g_auto (GpuState) s = { 0 };

  ENTER ();
  if (!computeInstance || !info || !mig_device (computeInstance->gi->device, &s))
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  for (guint i = 0; i < s.cis->len; i++) {
    const CiState *ci = &g_array_index (s.cis, CiState, i);
    if (ci->gi == computeInstance->gi->id && ci->id == computeInstance->id) {
      *info = (GvMigNvmlComputeInstanceInfo) { computeInstance->gi->device, computeInstance->gi, ci->id,
                                               ci->profile_id, { ci->start, ci->size } };
      return GV_MIG_NVML_SUCCESS;
    }
  }
  return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
}

GvMigNvmlReturn
nvmlComputeInstanceDestroy (GvMigNvmlComputeInstance computeInstance)
{
  int err;

  ENTER ();
  if (!computeInstance)
    return GV_MIG_NVML_ERROR_INVALID_ARGUMENT;
  err = write_mig ("ci-destroy %s %u %u", computeInstance->gi->device->bdf, computeInstance->gi->id,
                   computeInstance->id);
  return err == ENOENT ? GV_MIG_NVML_ERROR_INVALID_ARGUMENT : from_errno (err);
}
