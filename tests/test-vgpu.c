/* The vGPU engine (service/vg-*.c) on the simulator, D-Bus free: SR-IOV
 * counts, vendor-specific VFIO types, mdevs, and "one vGPU of type T"
 * until a GPU is full; then every write of each operation failed in turn
 * and hung in turn, checking that nothing is left half-configured. All
 * writes go to a gpuvirt-simfs mount; state is read back from it. */
#include "vgpu/vgpu.h"
#include "host/model.h"
#include "sysfs/read.h"
#include "sim-mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* l40s-vendor-vfio */
#define L40S_GPU0 "0000:01:00.0"  /* 32 VFs from the start */
#define L40S_GPU1 "0000:41:00.0"  /* release answers EBUSY for 500 ms after a VM let go */
#define L40S_COLD "0000:81:00.0"  /* no VFs at first */
#define L40S_GPU3 "0000:c1:00.0"  /* creatable types listed name-first, no header */
/* a40-mdev: both GPUs start without VFs; each VF is an mdev parent */
#define A40_GPU0 "0000:67:00.0"
#define A40_GPU1 "0000:e8:00.0"
/* big-host: a T4 that advertises SR-IOV but makes its mdevs on the PF */
#define T4 "0000:c8:00.0"

#define UUID_A "0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a90"
#define UUID_B "7d1f0a6e-2c3b-4f5a-8e9d-0c1b2a3d4e5f"

/* ---- fixture ---- */

typedef struct {
  SimMount *mount;
  GvVgpuContext ctx;
  GMutex lock;
  GCond cond;
  GPtrArray *late;  /* "WHAT RESULT" for each late write */
} Fx;

static void
on_late (const char *what, int result, gpointer data)
{
  Fx *fx = data;

  g_mutex_lock (&fx->lock);
  g_ptr_array_add (fx->late, g_strdup_printf ("%s %d", what, result));
  g_cond_broadcast (&fx->cond);
  g_mutex_unlock (&fx->lock);
}

static guint
late_count (Fx *fx)
{
  guint n;

  g_mutex_lock (&fx->lock);
  n = fx->late->len;
  g_mutex_unlock (&fx->lock);
  return n;
}

/* The late report number INDEX, waiting up to MS for it; NULL if none came. */
static char *
late_wait (Fx *fx, guint index, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  char *report = NULL;

  g_mutex_lock (&fx->lock);
  while (fx->late->len <= index)
    if (!g_cond_wait_until (&fx->cond, &fx->lock, deadline))
      break;
  if (fx->late->len > index)
    report = g_strdup (fx->late->pdata[index]);
  g_mutex_unlock (&fx->lock);
  return report;
}

static Fx *
fx_new (const char *scenario)
{
  Fx *fx = g_new0 (Fx, 1);

  fx->mount = sim_mount_start (scenario);
  g_mutex_init (&fx->lock);
  g_cond_init (&fx->cond);
  fx->late = g_ptr_array_new_with_free_func (g_free);
  fx->ctx.root = fx->mount->root;
  fx->ctx.timeout_ms = 5000;
  fx->ctx.busy_retry_ms = 2000;
  fx->ctx.busy_retry_every_ms = 50;
  fx->ctx.appear_ms = 3000;
  fx->ctx.late = on_late;
  fx->ctx.user_data = fx;
  return fx;
}

static void
fx_free (Fx *fx)
{
  sim_mount_stop (fx->mount);
  g_ptr_array_unref (fx->late);
  g_mutex_clear (&fx->lock);
  g_cond_clear (&fx->cond);
  g_free (fx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fx, fx_free)

static void
sim_ctl (Fx *fx, const char *file, const char *text)
{
  g_autofree char *path = g_build_filename (fx->mount->root, ".sim", file, NULL);
  g_assert_cmpint (sim_write_file (path, text), ==, 0);
}

static char *
sim_ctl_read (Fx *fx, const char *file)
{
  g_autofree char *path = g_build_filename (fx->mount->root, ".sim", file, NULL);
  char *text = sim_read_file (path);
  g_assert_nonnull (text);
  return text;
}

/* ---- the simulator's write log ---- */

typedef SimWrite Write;

static GPtrArray *
read_log (Fx *fx)
{
  g_autofree char *text = sim_ctl_read (fx, "log");
  return sim_parse_log (text);
}

static void
log_clear (Fx *fx)
{
  sim_ctl (fx, "log", "clear");
}

static guint
log_len (Fx *fx)
{
  g_autoptr (GPtrArray) writes = read_log (fx);
  return writes->len;
}

static gboolean
log_mentions (Fx *fx, const char *needle)
{
  g_autoptr (GPtrArray) writes = read_log (fx);

  for (guint i = 0; i < writes->len; i++)
    if (strstr (((Write *) writes->pdata[i])->path, needle))
      return TRUE;
  return FALSE;
}

/* The next write matching W's path and data does WHAT. */
static void
arm (Fx *fx, const Write *w, const char *what)
{
  g_autofree char *rule = g_strdup_printf ("%s %s data=%s count=1", w->path, what, w->data);
  sim_ctl (fx, "faults", rule);
}

static void
assert_faults_consumed (Fx *fx)
{
  g_autofree char *faults = sim_ctl_read (fx, "faults");
  g_assert_cmpstr (faults, ==, "");
}

/* The simulator's canonical path (as in .sim/log) of ROOT/REL. */
static char *
canonical (Fx *fx, const char *rel)
{
  g_autofree char *path = g_build_filename (fx->mount->root, rel, NULL);
  g_autofree char *real = realpath (path, NULL);
  g_autofree char *real_root = realpath (fx->mount->root, NULL);

  g_assert_nonnull (real);
  g_assert_true (g_str_has_prefix (real, real_root));
  return g_strdup (real + strlen (real_root) + 1);
}

/* ---- reading the simulated sysfs ---- */

static char *
dev_dir (Fx *fx, const char *bdf)
{
  return g_build_filename (fx->mount->root, "sys", "bus", "pci", "devices", bdf, NULL);
}

static guint
numvfs (Fx *fx, const char *pf)
{
  g_autofree char *dir = dev_dir (fx, pf);
  guint64 n = 0;

  g_assert_true (gv_sysfs_read_uint (dir, "sriov_numvfs", FALSE, &n));
  return (guint) n;
}

/* virtfnN links in index order */
static GStrv
vfs_of (Fx *fx, const char *pf)
{
  g_autofree char *dir = dev_dir (fx, pf);
  GPtrArray *vfs = g_ptr_array_new ();

  for (guint i = 0;; i++) {
    g_autofree char *name = g_strdup_printf ("virtfn%u", i);
    char *bdf = gv_sysfs_read_link_name (dir, name);
    if (!bdf)
      break;
    g_ptr_array_add (vfs, bdf);
  }
  g_ptr_array_add (vfs, NULL);
  return (GStrv) g_ptr_array_free (vfs, FALSE);
}

static guint
current_type (Fx *fx, const char *vf)
{
  g_autofree char *dir = dev_dir (fx, vf);
  g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);

  g_assert_nonnull (vendor);
  g_assert_true (vendor->current_known);
  return vendor->current_type;
}

static GPtrArray *
creatable (Fx *fx, const char *vf)
{
  g_autofree char *dir = dev_dir (fx, vf);
  g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);

  g_assert_nonnull (vendor);
  return g_ptr_array_ref (vendor->creatable);
}

static gboolean
mdev_exists (Fx *fx, const char *uuid)
{
  g_autofree char *dir = g_build_filename (fx->mount->root, "sys", "bus", "mdev", "devices", uuid, NULL);
  return g_file_test (dir, G_FILE_TEST_IS_DIR);
}

static char *
mdev_type_of (Fx *fx, const char *uuid)
{
  g_autofree char *dir = g_build_filename (fx->mount->root, "sys", "bus", "mdev", "devices", uuid, NULL);
  return gv_sysfs_read_link_name (dir, "mdev_type");
}

static int
available (Fx *fx, const char *parent, const char *type)
{
  g_autofree char *dir = dev_dir (fx, parent);
  g_autofree char *type_dir = g_build_filename (dir, "mdev_supported_types", type, NULL);
  gint64 n = -1;

  g_assert_true (gv_sysfs_read_int (type_dir, "available_instances", &n));
  return (int) n;
}

/* Opens the /dev/vfio/<group> node of sysfs directory DIR (a VF or an
 * mdev): in the simulator that stands for a VM holding it. */
static int
open_vfio_node (Fx *fx, const char *dir, char **node)
{
  g_autofree char *group = gv_sysfs_read_link_name (dir, "iommu_group");
  g_autofree char *path = NULL;
  int fd;

  g_assert_nonnull (group);
  path = g_build_filename (fx->mount->root, "dev", "vfio", group, NULL);
  fd = open (path, O_RDWR | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  if (node)
    *node = g_strconcat ("/dev/vfio/", group, NULL);
  return fd;
}

/* What a GPU carries: its VF count, the types of its VFs and its mdevs
 * (on the PF or a VF). Two equal strings mean nothing changed. */
static char *
state_of (Fx *fx, const char *pf)
{
  GString *s = g_string_new (NULL);
  g_auto (GStrv) vfs = vfs_of (fx, pf);
  g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (fx->mount->root);
  g_autofree char *pf_dir = dev_dir (fx, pf);
  guint64 n = 0;

  if (gv_sysfs_read_uint (pf_dir, "sriov_numvfs", FALSE, &n))
    g_string_append_printf (s, "numvfs=%u vfs=%u", (guint) n, g_strv_length (vfs));
  for (guint i = 0; vfs[i]; i++) {
    g_autofree char *dir = dev_dir (fx, vfs[i]);
    g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);
    if (vendor && vendor->current_type)
      g_string_append_printf (s, " %s=%u", vfs[i], vendor->current_type);
  }
  for (guint i = 0; i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    if (g_str_equal (mdev->parent, pf) || g_strv_contains ((const char *const *) vfs, mdev->parent))
      g_string_append_printf (s, " mdev %s@%s:%s", mdev->uuid, mdev->parent, mdev->type_id);
  }
  return g_string_free (s, FALSE);
}

static gboolean
strv_is_sorted_vfs (GStrv vfs, const char *pf, guint n)
{
  GvHostBdf a;

  if (g_strv_length (vfs) != n)
    return FALSE;
  g_assert_true (gv_host_bdf_parse (pf, &a));
  for (guint i = 0; i < n; i++) {
    guint rid = ((a.bus << 8) | (a.slot << 3) | a.function) + 4 + i;
    g_autofree char *want = g_strdup_printf ("%04x:%02x:%02x.%x", a.domain, (rid >> 8) & 0xff, (rid >> 3) & 0x1f,
                                             rid & 7);
    if (!g_str_equal (vfs[i], want))
      return FALSE;
  }
  return TRUE;
}

/* The framework the host model sees for GPU. */
static GvHostFramework
framework_of (Fx *fx, const char *gpu)
{
  g_autoptr (GError) error = NULL;
  GvHost *host = gv_host_new (fx->mount->root, &error);
  GvHostFramework framework;
  GvHostDevice *device;

  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (host, NULL, &error));
  g_assert_no_error (error);
  device = gv_host_lookup (host, gpu);
  g_assert_nonnull (device);
  framework = device->framework;
  gv_host_free (host);
  return framework;
}

/* ---- engine calls that must work ---- */

static void
must_set_num_vfs (Fx *fx, const char *pf, guint count)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (gv_vgpu_set_num_vfs (&fx->ctx, pf, count, NULL, &error));
  g_assert_no_error (error);
}

static gboolean
must_set_type (Fx *fx, const char *vf, const char *wanted, guint want_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  gboolean changed = FALSE;
  guint id = 0;

  g_assert_true (gv_vgpu_set_type (&fx->ctx, vf, wanted, &id, &name, &changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (id, ==, want_id);
  g_assert_cmpuint (current_type (fx, vf), ==, want_id);
  return changed;
}

static gboolean
must_release (Fx *fx, const char *vf)
{
  g_autoptr (GError) error = NULL;
  gboolean changed = FALSE;

  g_assert_true (gv_vgpu_release_type (&fx->ctx, vf, &changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (current_type (fx, vf), ==, 0);
  return changed;
}

/* Takes GPU back to COUNT VFs, none carrying a type, no mdev. */
static void
reset_gpu (Fx *fx, const char *pf, guint count)
{
  g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (fx->mount->root);
  g_auto (GStrv) vfs = vfs_of (fx, pf);

  for (guint i = 0; i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    g_autoptr (GError) error = NULL;
    if (!g_str_equal (mdev->parent, pf) && !g_strv_contains ((const char *const *) vfs, mdev->parent))
      continue;
    g_assert_true (gv_vgpu_remove_mdev (&fx->ctx, mdev->uuid, &error));
    g_assert_no_error (error);
  }
  for (guint i = 0; vfs[i]; i++) {
    g_autofree char *dir = dev_dir (fx, vfs[i]);
    g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);
    if (vendor && vendor->current_type)
      must_release (fx, vfs[i]);
  }
  if (numvfs (fx, pf) != count)
    must_set_num_vfs (fx, pf, count);
}

#define assert_error_contains(error, text)                                                                            \
  G_STMT_START {                                                                                                      \
    if (!strstr ((error)->message, (text)))                                                                           \
      g_error ("“%s” is not in the error: %s", (text), (error)->message);                                             \
  } G_STMT_END

/* ---- tests: pure helpers ---- */

static void
test_type_matches (void)
{
  g_assert_true (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "1163"));
  g_assert_true (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "NVIDIA L40S-24Q"));
  g_assert_true (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "nvidia l40s-24q"));
  g_assert_true (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "L40S-24Q"));
  g_assert_true (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "l40s-24Q"));
  g_assert_true (gv_vgpu_type_matches ("nvidia-558", "NVIDIA A40-2Q", "nvidia-558"));
  g_assert_true (gv_vgpu_type_matches ("nvidia-222", "GRID T4-1B", "t4-1b"));
  g_assert_true (gv_vgpu_type_matches ("1163", NULL, "1163"));
  g_assert_false (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "L40S-24"));
  g_assert_false (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "NVIDIA"));
  g_assert_false (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "1163 "));
  g_assert_false (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", "116"));
  g_assert_false (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", ""));
  g_assert_false (gv_vgpu_type_matches ("1163", "NVIDIA L40S-24Q", NULL));
  g_assert_false (gv_vgpu_type_matches ("nvidia-558", "", "A40-2Q"));
  g_assert_false (gv_vgpu_type_matches ("nvidia-558", "NVIDIA A40-2Q", "NVIDIA-558 "));
}

static void
test_uuid (void)
{
  g_autofree char *a = gv_vgpu_uuid_generate ();
  g_autofree char *b = gv_vgpu_uuid_generate ();

  g_assert_true (gv_vgpu_uuid_is_valid (UUID_A));
  g_assert_true (gv_vgpu_uuid_is_valid ("0B4E1D3C-5A2F-4C1E-9D7A-3F2B8C6E1A90"));
  g_assert_false (gv_vgpu_uuid_is_valid (NULL));
  g_assert_false (gv_vgpu_uuid_is_valid (""));
  g_assert_false (gv_vgpu_uuid_is_valid ("0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a9"));
  g_assert_false (gv_vgpu_uuid_is_valid ("0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a900"));
  g_assert_false (gv_vgpu_uuid_is_valid ("0b4e1d3c5a2f4c1e9d7a3f2b8c6e1a90"));
  g_assert_false (gv_vgpu_uuid_is_valid ("0b4e1d3c-5a2f-4c1e-9d7a_3f2b8c6e1a90"));
  g_assert_false (gv_vgpu_uuid_is_valid ("0b4e1d3g-5a2f-4c1e-9d7a-3f2b8c6e1a90"));
  g_assert_false (gv_vgpu_uuid_is_valid ("0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a9\n"));
  g_assert_true (gv_vgpu_uuid_is_valid (a));
  g_assert_true (gv_vgpu_uuid_is_valid (b));
  g_assert_cmpstr (a, !=, b);
  for (const char *p = a; *p; p++)
    g_assert_false (g_ascii_isupper (*p));
  g_assert_cmpint (a[14], ==, '4');
  g_assert_nonnull (strchr ("89ab", a[19]));
}

/* A root that is not a simulator mount is refused before anything. */
static void
test_root_refused (void)
{
  const char *roots[] = { "/tmp/..", "//", "relative", "" };
  g_autoptr (GvVgpuResult) result = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (roots) + 1; i++) {
    GvVgpuContext ctx = { .root = i < G_N_ELEMENTS (roots) ? roots[i] : NULL, .timeout_ms = 100 };
    GvVgpuRequest request = { .function = L40S_COLD, .framework = GV_HOST_FRAMEWORK_VENDOR_VFIO, .wanted = "1163" };
    g_autoptr (GError) error = NULL;
    gboolean changed = TRUE;

    g_assert_false (gv_vgpu_set_num_vfs (&ctx, L40S_COLD, 1, NULL, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    g_assert_false (gv_vgpu_set_type (&ctx, "0000:01:00.4", "1163", NULL, NULL, &changed, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
    g_assert_false (changed);
    g_clear_error (&error);
    g_assert_false (gv_vgpu_release_type (&ctx, "0000:01:00.4", NULL, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    g_assert_false (gv_vgpu_create_mdev (&ctx, A40_GPU0, "A40-2Q", NULL, NULL, NULL, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    g_assert_false (gv_vgpu_remove_mdev (&ctx, UUID_A, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
    g_clear_error (&error);
    g_assert_false (gv_vgpu_create (&ctx, &request, &result, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
    g_assert_null (result);
  }
}

/* ---- tests: vendor-specific VFIO ---- */

static void
test_vendor_set_release (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  const char *a = "0000:01:00.4", *b = "0000:01:00.5", *c = "0000:01:00.6";
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  gboolean changed = FALSE;
  guint id = 0;

  list = creatable (fx, c);
  g_assert_cmpuint (list->len, ==, 29);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* by id */
  g_assert_true (gv_vgpu_set_type (&fx->ctx, a, "1163", &id, &name, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  g_assert_cmpuint (id, ==, 1163);
  g_assert_cmpstr (name, ==, "NVIDIA L40S-24Q");
  g_assert_cmpuint (current_type (fx, a), ==, 1163);
  /* the siblings' lists shrink to what still fits next to it; its own is empty */
  list = creatable (fx, c);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (((GvHostVendorType *) list->pdata[0])->id, ==, 1163);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = creatable (fx, a);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* the same type again, however named: nothing written */
  log_clear (fx);
  g_assert_false (must_set_type (fx, a, "NVIDIA L40S-24Q", 1163));
  g_assert_false (must_set_type (fx, a, "l40s-24q", 1163));
  g_assert_false (must_set_type (fx, a, "1163", 1163));
  /* another type: EXISTS, nothing written */
  g_assert_false (gv_vgpu_set_type (&fx->ctx, a, "L40S-4Q", NULL, NULL, &changed, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_EXISTS);
  g_assert_false (changed);
  assert_error_contains (error, "1163");
  g_test_message ("another type: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);

  /* by short name in any case: the GPU is full then */
  g_assert_true (must_set_type (fx, b, "l40s-24Q", 1163));
  list = creatable (fx, c);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  log_clear (fx);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, c, "1163", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, a);
  assert_error_contains (error, b);
  g_test_message ("full, by id: %s", error->message);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, c, "L40S-24Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  g_test_message ("full, by name: %s", error->message);
  g_clear_error (&error);
  /* a full GPU lists nothing: another type is no capacity too */
  g_assert_false (gv_vgpu_set_type (&fx->ctx, c, "1155", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "no VF of " L40S_GPU0 " offers any type");
  g_test_message ("full, another type: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);
  /* by id, a VF carrying it is recognized even when no list names it; by
   * name it cannot be (sysfs shows a type's name only on the lists) */
  g_assert_false (must_set_type (fx, a, "1163", 1163));
  g_assert_false (gv_vgpu_set_type (&fx->ctx, a, "L40S-24Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_EXISTS);
  assert_error_contains (error, "give the type by id");
  g_test_message ("full, same type by name: %s", error->message);
  g_clear_error (&error);

  /* release: the lists recover */
  g_assert_true (must_release (fx, b));
  list = creatable (fx, c);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  log_clear (fx);
  g_assert_false (must_release (fx, b));
  g_assert_cmpuint (log_len (fx), ==, 0);
  g_assert_true (must_release (fx, a));
  list = creatable (fx, c);
  g_assert_cmpuint (list->len, ==, 29);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* by full name */
  g_assert_true (must_set_type (fx, c, "NVIDIA L40S-8Q", 1160));
  g_assert_true (must_release (fx, c));

  /* unknown types: NO_SUCH_TYPE naming what is offered, nothing written */
  log_clear (fx);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, c, "L40S-99Z", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  assert_error_contains (error, "1155 NVIDIA L40S-1Q");
  assert_error_contains (error, "1181 NVIDIA L40S-48C");
  g_test_message ("unknown type: %s", error->message);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, c, "9999", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);
}

static void
test_vendor_bad_input (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;

  log_clear (fx);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, "01:00.4", "1163", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, "0000:01:00.4/../..", "1163", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, "0000:01:1f.7", "1163", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, "0000:01:00.4", "", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_type (&fx->ctx, "0000:01:00.4", NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  /* the PF has no nvidia/ directory */
  g_assert_false (gv_vgpu_set_type (&fx->ctx, L40S_GPU0, "1163", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_release_type (&fx->ctx, L40S_GPU0, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);
}

/* GPU 3 lists its types name-first without a header. */
static void
test_vendor_name_first (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  const char *vf = "0000:c1:00.4";
  g_autofree char *dir = dev_dir (fx, vf);
  g_autofree char *path = g_build_filename (dir, "nvidia", "creatable_vgpu_types", NULL);
  g_autofree char *raw = sim_read_file (path);
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  gboolean changed = FALSE;
  guint id = 0;

  g_assert_nonnull (raw);
  g_assert_true (g_str_has_prefix (raw, "NVIDIA L40S-1B"));
  g_assert_true (gv_vgpu_set_type (&fx->ctx, vf, "L40S-2Q", &id, &name, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  g_assert_cmpuint (id, ==, 1156);
  g_assert_cmpstr (name, ==, "NVIDIA L40S-2Q");
  g_assert_false (must_set_type (fx, vf, "NVIDIA L40S-2Q", 1156));
  g_assert_true (must_release (fx, vf));
}

/* GPU 1 answers EBUSY for 500 ms after the VF's VFIO node closed, and
 * for as long as it is open. */
static void
test_vendor_release_busy (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  const char *vf = "0000:41:00.4";
  g_autofree char *dir = dev_dir (fx, vf);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = NULL;
  gboolean changed = TRUE;
  guint busy = 0;
  gint64 t0;
  int fd;

  g_assert_true (must_set_type (fx, vf, "L40S-4Q", 1158));

  /* held by a "VM": gives up after busy_retry_ms */
  fd = open_vfio_node (fx, dir, NULL);
  fx->ctx.busy_retry_ms = 300;
  g_assert_false (gv_vgpu_release_type (&fx->ctx, vf, &changed, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_IN_USE);
  g_assert_false (changed);
  assert_error_contains (error, "EBUSY");
  assert_error_contains (error, "carries vGPU type 1158");
  g_test_message ("held: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (current_type (fx, vf), ==, 1158);

  /* the VM let go: retried until the driver is ready */
  close (fd);
  fx->ctx.busy_retry_ms = 3000;
  log_clear (fx);
  t0 = g_get_monotonic_time ();
  g_assert_true (must_release (fx, vf));
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 300 * 1000);
  writes = read_log (fx);
  for (guint i = 0; i < writes->len; i++)
    if (g_str_equal (((Write *) writes->pdata[i])->result, "EBUSY"))
      busy++;
  g_test_message ("%u EBUSY answers before the release went through", busy);
  g_assert_cmpuint (busy, >=, 2);
  g_assert_cmpuint (writes->len, ==, busy + 1);

  /* retrying for less than the driver needs: IN_USE, still typed */
  g_assert_true (must_set_type (fx, vf, "L40S-4Q", 1158));
  close (open_vfio_node (fx, dir, NULL));
  fx->ctx.busy_retry_ms = 100;
  fx->ctx.busy_retry_every_ms = 20;
  g_assert_false (gv_vgpu_release_type (&fx->ctx, vf, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_IN_USE);
  g_clear_error (&error);
  g_assert_cmpuint (current_type (fx, vf), ==, 1158);
  g_usleep (600 * 1000);
  g_assert_true (must_release (fx, vf));
}

/* ---- tests: mdev ---- */

static void
test_mdev (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GError) error = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *generated = NULL;
  g_autofree char *type = NULL;
  g_autofree char *shown = NULL;
  g_auto (GStrv) vfs = NULL;

  g_assert_true (gv_vgpu_set_num_vfs (&fx->ctx, A40_GPU0, 4, &vfs, &error));
  g_assert_no_error (error);
  g_assert_true (strv_is_sorted_vfs (vfs, A40_GPU0, 4));

  /* a given UUID, in capitals: stored and returned in lower case */
  g_assert_true (gv_vgpu_create_mdev (&fx->ctx, vfs[0], "A40-2Q", "0B4E1D3C-5A2F-4C1E-9D7A-3F2B8C6E1A90", &uuid, &type,
                                 &error));
  g_assert_no_error (error);
  g_assert_cmpstr (uuid, ==, UUID_A);
  g_assert_cmpstr (type, ==, "nvidia-558");
  g_assert_true (mdev_exists (fx, UUID_A));
  shown = mdev_type_of (fx, UUID_A);
  g_assert_cmpstr (shown, ==, "nvidia-558");
  g_assert_cmpint (available (fx, vfs[0], "nvidia-558"), ==, 0);

  /* refused before writing */
  log_clear (fx);
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "nvidia-558", UUID_A, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_EXISTS);
  assert_error_contains (error, vfs[0]);
  g_test_message ("duplicate: %s", error->message);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "nvidia-558", "not-a-uuid", NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "nvidia-558", "0b4e1d3c5a2f4c1e9d7a3f2b8c6e1a90", NULL, NULL,
                                  &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "A40-99Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  assert_error_contains (error, "nvidia-555 NVIDIA A40-1B");
  g_test_message ("unknown type: %s", error->message);
  g_clear_error (&error);
  /* one vGPU per VF */
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[0], "A40-2Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, UUID_A);
  g_test_message ("VF taken: %s", error->message);
  g_clear_error (&error);
  /* the PF of an mdev-vf GPU is no mdev parent */
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, A40_GPU0, "A40-2Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);

  /* a generated UUID, type by full name */
  g_clear_pointer (&type, g_free);
  g_assert_true (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "NVIDIA A40-2Q", NULL, &generated, &type, &error));
  g_assert_no_error (error);
  g_assert_true (gv_vgpu_uuid_is_valid (generated));
  g_assert_cmpstr (type, ==, "nvidia-558");
  g_assert_true (mdev_exists (fx, generated));
  /* a homogeneous GPU: another type has no room */
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[2], "A40-4Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "available_instances of nvidia-560");
  g_test_message ("other type: %s", error->message);
  g_clear_error (&error);

  /* remove */
  g_assert_true (gv_vgpu_remove_mdev (&fx->ctx, UUID_A, &error));
  g_assert_no_error (error);
  g_assert_false (mdev_exists (fx, UUID_A));
  g_assert_cmpint (available (fx, vfs[0], "nvidia-558"), ==, 1);
  g_assert_false (gv_vgpu_remove_mdev (&fx->ctx, UUID_A, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_remove_mdev (&fx->ctx, "0b4e1d3c", &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_true (gv_vgpu_remove_mdev (&fx->ctx, generated, &error));
  g_assert_no_error (error);

  /* a type with no instance left: A40-48Q fills the GPU */
  g_assert_true (gv_vgpu_create_mdev (&fx->ctx, vfs[0], "A40-48Q", UUID_B, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (gv_vgpu_create_mdev (&fx->ctx, vfs[1], "A40-48Q", NULL, NULL, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "available_instances of nvidia-566 (NVIDIA A40-48Q)");
  g_test_message ("no instance left: %s", error->message);
  g_clear_error (&error);
  g_assert_true (gv_vgpu_remove_mdev (&fx->ctx, UUID_B, &error));
  g_assert_no_error (error);
  must_set_num_vfs (fx, A40_GPU0, 0);
}

/* ---- tests: SR-IOV ---- */

static void
test_sriov (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = NULL;
  g_autofree char *path = canonical (fx, "sys/bus/pci/devices/" L40S_COLD "/sriov_numvfs");
  g_autofree char *rule = NULL;
  g_auto (GStrv) vfs = NULL;

  /* 0 -> 4 */
  log_clear (fx);
  g_assert_true (gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 4, &vfs, &error));
  g_assert_no_error (error);
  g_assert_true (strv_is_sorted_vfs (vfs, L40S_COLD, 4));
  writes = read_log (fx);
  g_assert_cmpuint (writes->len, ==, 1);
  g_assert_cmpstr (((Write *) writes->pdata[0])->path, ==, path);
  g_assert_cmpstr (((Write *) writes->pdata[0])->data, ==, "4");
  g_clear_pointer (&writes, g_ptr_array_unref);
  g_clear_pointer (&vfs, g_strfreev);

  /* equal: nothing written */
  log_clear (fx);
  g_assert_true (gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 4, &vfs, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (vfs), ==, 4);
  g_assert_cmpuint (log_len (fx), ==, 0);
  g_clear_pointer (&vfs, g_strfreev);

  /* 4 -> 2 goes through 0 */
  g_assert_true (gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 2, &vfs, &error));
  g_assert_no_error (error);
  g_assert_true (strv_is_sorted_vfs (vfs, L40S_COLD, 2));
  writes = read_log (fx);
  g_assert_cmpuint (writes->len, ==, 2);
  g_assert_cmpstr (((Write *) writes->pdata[0])->data, ==, "0");
  g_assert_cmpstr (((Write *) writes->pdata[1])->data, ==, "2");
  g_assert_cmpuint (numvfs (fx, L40S_COLD), ==, 2);
  g_clear_pointer (&vfs, g_strfreev);

  /* refused before writing */
  log_clear (fx);
  g_assert_false (gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 33, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  assert_error_contains (error, "at most 32");
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_num_vfs (&fx->ctx, "0000:81:00.4", 1, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  assert_error_contains (error, "VF itself");
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_num_vfs (&fx->ctx, "0000:42:00.0", 1, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (gv_vgpu_set_num_vfs (&fx->ctx, "0000:81:1f.0", 1, NULL, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);

  /* the new count fails: the old one is put back */
  rule = g_strdup_printf ("%s errno=EIO data=3 count=1", path);
  sim_ctl (fx, "faults", rule);
  g_assert_false (gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 3, &vfs, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
  assert_error_contains (error, "EIO (Input/output error)");
  assert_error_contains (error, "previous 2 VFs of " L40S_COLD " were restored");
  g_test_message ("restored: %s", error->message);
  g_clear_error (&error);
  assert_faults_consumed (fx);
  g_assert_true (strv_is_sorted_vfs (vfs, L40S_COLD, 2));
  g_assert_cmpuint (numvfs (fx, L40S_COLD), ==, 2);
  g_clear_pointer (&vfs, g_strfreev);
  g_clear_pointer (&rule, g_free);

  /* ... and when that fails too, the message says how to recover */
  rule = g_strdup_printf ("%s errno=EIO data=3 count=1\n%s errno=EIO data=2 count=1", path, path);
  sim_ctl (fx, "faults", rule);
  g_assert_false (gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 3, &vfs, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
  assert_error_contains (error, "is now 0, not 2");
  assert_error_contains (error, "echo 2 >");
  g_test_message ("not restored: %s", error->message);
  g_clear_error (&error);
  assert_faults_consumed (fx);
  g_assert_cmpuint (g_strv_length (vfs), ==, 0);
  g_assert_cmpuint (numvfs (fx, L40S_COLD), ==, 0);
}

/* ---- tests: one vGPU of a type ---- */

static GvVgpuResult *
must_create (Fx *fx, const GvVgpuRequest *request)
{
  g_autoptr (GError) error = NULL;
  GvVgpuResult *result = NULL;

  g_assert_true (gv_vgpu_create (&fx->ctx, request, &result, &error));
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static void
test_create_l40s (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = NULL;
  GvVgpuResult *result = NULL;
  GvVgpuRequest request = { .function = L40S_GPU0, .wanted = "L40S-12Q" };
  g_auto (GStrv) gpu0_vfs = vfs_of (fx, L40S_GPU0);

  g_assert_cmpint (framework_of (fx, L40S_GPU0), ==, GV_HOST_FRAMEWORK_VENDOR_VFIO);
  g_assert_cmpint (framework_of (fx, L40S_COLD), ==, GV_HOST_FRAMEWORK_PENDING);

  /* until the GPU is full: 4 of L40S-12Q, on the first free VFs in order */
  request.framework = GV_HOST_FRAMEWORK_VENDOR_VFIO;
  for (guint i = 0; i < 4; i++) {
    g_autoptr (GvVgpuResult) made = must_create (fx, &request);
    g_assert_cmpint (made->framework, ==, GV_HOST_FRAMEWORK_VENDOR_VFIO);
    g_assert_cmpstr (made->address, ==, gpu0_vfs[i]);
    g_assert_cmpstr (made->type_id, ==, "1161");
    g_assert_cmpstr (made->type_name, ==, "NVIDIA L40S-12Q");
    g_assert_null (made->mdev_uuid);
    g_assert_false (made->enabled_vfs);
    g_assert_cmpuint (g_strv_length (made->vfs), ==, 32);
    g_assert_cmpuint (current_type (fx, gpu0_vfs[i]), ==, 1161);
  }
  log_clear (fx);
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  g_assert_null (result);
  assert_error_contains (error, "No free VF of " L40S_GPU0 " can create");
  assert_error_contains (error, "4 VFs carry vGPU type 1161 on");
  assert_error_contains (error, "28 offer nothing");
  g_test_message ("full: %s", error->message);
  g_clear_error (&error);
  request.wanted = "1155";
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "the GPU is full");
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);

  /* a cold GPU: its VFs are enabled first, and stay for the next call */
  request.function = L40S_COLD;
  request.framework = framework_of (fx, L40S_COLD);
  request.wanted = "NVIDIA L40S-24Q";
  {
    g_autoptr (GvVgpuResult) first = NULL;
    g_autoptr (GvVgpuResult) second = NULL;
    g_autofree char *numvfs_path = canonical (fx, "sys/bus/pci/devices/" L40S_COLD "/sriov_numvfs");

    log_clear (fx);
    first = must_create (fx, &request);
    g_assert_cmpint (first->framework, ==, GV_HOST_FRAMEWORK_VENDOR_VFIO);
    g_assert_true (first->enabled_vfs);
    g_assert_true (strv_is_sorted_vfs (first->vfs, L40S_COLD, 32));
    g_assert_cmpstr (first->address, ==, first->vfs[0]);
    g_assert_cmpstr (first->type_id, ==, "1163");
    writes = read_log (fx);
    g_assert_cmpuint (writes->len, ==, 2);
    g_assert_cmpstr (((Write *) writes->pdata[0])->path, ==, numvfs_path);
    g_assert_cmpstr (((Write *) writes->pdata[0])->data, ==, "32");
    g_assert_true (g_str_has_suffix (((Write *) writes->pdata[1])->path, "/nvidia/current_vgpu_type"));
    g_assert_cmpstr (((Write *) writes->pdata[1])->data, ==, "1163");
    g_clear_pointer (&writes, g_ptr_array_unref);

    second = must_create (fx, &request);
    g_assert_false (second->enabled_vfs);
    g_assert_cmpstr (second->address, ==, first->vfs[1]);
    g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
    g_test_message ("full after enabling: %s", error->message);
    g_clear_error (&error);
    /* the VFs stay: this call did not enable them */
    g_assert_cmpuint (numvfs (fx, L40S_COLD), ==, 32);
  }

  /* cold again, asking for fewer VFs */
  reset_gpu (fx, L40S_COLD, 0);
  request.num_vfs = 2;
  request.wanted = "1164";
  {
    g_autoptr (GvVgpuResult) made = must_create (fx, &request);
    g_assert_true (made->enabled_vfs);
    g_assert_cmpuint (g_strv_length (made->vfs), ==, 2);
    g_assert_cmpstr (made->type_name, ==, "NVIDIA L40S-48Q");
  }
  /* a failure undoes the VFs it enabled */
  reset_gpu (fx, L40S_COLD, 0);
  request.wanted = "L40S-99Z";
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  assert_error_contains (error, "were disabled again");
  assert_error_contains (error, "1155 NVIDIA L40S-1Q");
  g_test_message ("unknown on a cold GPU: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (numvfs (fx, L40S_COLD), ==, 0);

  /* a VF given: that one only */
  request = (GvVgpuRequest) { .function = "0000:c1:00.6", .framework = GV_HOST_FRAMEWORK_VENDOR_VFIO,
                              .wanted = "L40S-1Q" };
  {
    g_autoptr (GvVgpuResult) made = must_create (fx, &request);
    g_assert_cmpstr (made->address, ==, "0000:c1:00.6");
    g_assert_cmpstr (made->type_id, ==, "1155");
    g_assert_false (made->enabled_vfs);
    g_assert_cmpuint (g_strv_length (made->vfs), ==, 32);
  }
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "0000:c1:00.6 cannot create NVIDIA L40S-1Q");
  g_test_message ("the given VF is taken: %s", error->message);
  g_clear_error (&error);
  /* a type the GPU does not offer at all */
  request.function = L40S_GPU3;
  request.wanted = "L40S-99Z";
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  assert_error_contains (error, "1155 NVIDIA L40S-1Q");
  g_clear_error (&error);
  /* bad requests */
  request.wanted = "";
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  request = (GvVgpuRequest) { .function = "0000:42:00.0", .framework = GV_HOST_FRAMEWORK_NONE, .wanted = "1155" };
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
}

/* A VF whose write fails with EBUSY or EINVAL (a sibling took the room
 * between the read and the write) is passed over; any other errno ends
 * the call with nothing changed. */
static void
test_create_races (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = NULL;
  g_auto (GStrv) vfs = vfs_of (fx, L40S_GPU1);
  g_autofree char *first = g_strdup_printf ("sys/bus/pci/devices/%s/nvidia/current_vgpu_type", vfs[0]);
  g_autofree char *first_path = canonical (fx, first);
  g_autofree char *busy = g_strdup_printf ("%s errno=EBUSY count=1", first_path);
  g_autofree char *inval = g_strdup_printf ("%s errno=EINVAL count=1", first_path);
  g_autofree char *eio = g_strdup_printf ("%s errno=EIO count=1", first_path);
  g_autofree char *before = NULL;
  g_autofree char *now = NULL;
  GvVgpuRequest request = { .function = L40S_GPU1, .framework = GV_HOST_FRAMEWORK_VENDOR_VFIO, .wanted = "L40S-6Q" };
  GvVgpuResult *result = NULL;

  sim_ctl (fx, "faults", busy);
  log_clear (fx);
  {
    g_autoptr (GvVgpuResult) made = must_create (fx, &request);
    g_assert_cmpstr (made->address, ==, vfs[1]);
  }
  assert_faults_consumed (fx);
  writes = read_log (fx);
  g_assert_cmpuint (writes->len, ==, 2);
  g_assert_cmpstr (((Write *) writes->pdata[0])->result, ==, "EBUSY");
  g_assert_cmpstr (((Write *) writes->pdata[1])->result, ==, "OK");
  g_assert_cmpuint (current_type (fx, vfs[0]), ==, 0);

  sim_ctl (fx, "faults", inval);
  {
    g_autoptr (GvVgpuResult) made = must_create (fx, &request);
    g_assert_cmpstr (made->address, ==, vfs[2]);
  }
  assert_faults_consumed (fx);

  /* another errno: the call ends there, nothing changed */
  before = state_of (fx, L40S_GPU1);
  sim_ctl (fx, "faults", eio);
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
  assert_error_contains (error, vfs[0]);
  g_clear_error (&error);
  assert_faults_consumed (fx);
  now = state_of (fx, L40S_GPU1);
  g_assert_cmpstr (now, ==, before);

  /* the only candidate taken meanwhile: no capacity */
  request.function = vfs[0];
  sim_ctl (fx, "faults", busy);
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "its room was taken meanwhile");
  g_test_message ("raced: %s", error->message);
  g_clear_error (&error);
  assert_faults_consumed (fx);
  g_assert_cmpuint (current_type (fx, vfs[0]), ==, 0);
}

static void
test_create_a40 (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GError) error = NULL;
  GvVgpuResult *result = NULL;
  GvVgpuRequest request = { .function = A40_GPU0, .wanted = "A40-2Q" };
  g_autofree char *first_uuid = NULL;
  guint made = 0;

  request.framework = framework_of (fx, A40_GPU0);
  g_assert_cmpint (request.framework, ==, GV_HOST_FRAMEWORK_PENDING);

  /* the first VF's room is taken between the read and the write: the next VF */
  sim_ctl (fx, "faults", "*/0000:67:00.4/mdev_supported_types/nvidia-558/create errno=EUSERS count=1");
  result = must_create (fx, &request);
  assert_faults_consumed (fx);
  g_assert_cmpstr (result->address, ==, "0000:67:00.5");
  g_assert_true (result->enabled_vfs);
  {
    g_autoptr (GError) local = NULL;
    g_assert_true (gv_vgpu_remove_mdev (&fx->ctx, result->mdev_uuid, &local));
    g_assert_no_error (local);
  }
  g_clear_pointer (&result, gv_vgpu_result_free);
  must_set_num_vfs (fx, A40_GPU0, 0);

  /* A40-2Q: 24 fit in 48 GB, one per VF */
  for (;;) {
    if (!gv_vgpu_create (&fx->ctx, &request, &result, &error))
      break;
    g_assert_cmpint (result->framework, ==, GV_HOST_FRAMEWORK_MDEV_VF);
    g_assert_cmpuint (g_strv_length (result->vfs), ==, 32);
    g_assert_cmpstr (result->address, ==, result->vfs[made]);
    g_assert_cmpstr (result->type_id, ==, "nvidia-558");
    g_assert_cmpstr (result->type_name, ==, "NVIDIA A40-2Q");
    g_assert_true (gv_vgpu_uuid_is_valid (result->mdev_uuid));
    g_assert_true (mdev_exists (fx, result->mdev_uuid));
    g_assert_true (result->enabled_vfs == (made == 0));
    if (made == 0)
      first_uuid = g_strdup (result->mdev_uuid);
    g_clear_pointer (&result, gv_vgpu_result_free);
    made++;
    g_assert_cmpuint (made, <=, 24);
  }
  g_assert_cmpuint (made, ==, 24);
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  assert_error_contains (error, "No free VF of " A40_GPU0 " can create an mdev of nvidia-558 NVIDIA A40-2Q");
  assert_error_contains (error, "24 VFs host an mdev");
  assert_error_contains (error, "8 have available_instances 0");
  g_test_message ("full: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (numvfs (fx, A40_GPU0), ==, 32);

  /* unknown type; a UUID in use: nothing written */
  log_clear (fx);
  request.wanted = "A40-99Q";
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE);
  assert_error_contains (error, "nvidia-566 NVIDIA A40-48Q");
  g_clear_error (&error);
  request.wanted = "A40-2Q";
  request.uuid = first_uuid;
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_EXISTS);
  g_clear_error (&error);
  request.uuid = "0b4e1d3c";
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_cmpuint (log_len (fx), ==, 0);

  /* the other GPU, told mdev-vf while cold, with a given UUID */
  request = (GvVgpuRequest) { .function = A40_GPU1, .framework = GV_HOST_FRAMEWORK_MDEV_VF, .wanted = "nvidia-566",
                              .uuid = UUID_A, .num_vfs = 4 };
  {
    g_autoptr (GvVgpuResult) one = must_create (fx, &request);
    g_assert_true (one->enabled_vfs);
    g_assert_cmpuint (g_strv_length (one->vfs), ==, 4);
    g_assert_cmpstr (one->mdev_uuid, ==, UUID_A);
    g_assert_cmpstr (one->address, ==, one->vfs[0]);
  }
  request.uuid = UUID_B;
  g_assert_false (gv_vgpu_create (&fx->ctx, &request, &result, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY);
  g_test_message ("48Q taken: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (numvfs (fx, A40_GPU1), ==, 4);
}

/* The T4 advertises 16 VFs but makes mdevs on its PF: never a VF write. */
static void
test_create_big_host_t4 (void)
{
  g_autoptr (Fx) fx = fx_new ("big-host");
  g_autoptr (GError) error = NULL;
  GvVgpuRequest request = { .function = T4, .wanted = "T4-1B" };
  g_autofree char *dir = dev_dir (fx, T4);
  guint64 total = 0;

  g_assert_true (gv_sysfs_read_uint (dir, "sriov_totalvfs", FALSE, &total));
  g_assert_cmpuint (total, ==, 16);
  request.framework = framework_of (fx, T4);
  g_assert_cmpint (request.framework, ==, GV_HOST_FRAMEWORK_MDEV_PF);

  log_clear (fx);
  for (guint i = 0; i < 2; i++) {
    g_autoptr (GvVgpuResult) made = must_create (fx, &request);
    g_assert_cmpint (made->framework, ==, GV_HOST_FRAMEWORK_MDEV_PF);
    g_assert_cmpstr (made->address, ==, T4);
    g_assert_cmpstr (made->type_id, ==, "nvidia-222");
    g_assert_cmpstr (made->type_name, ==, "GRID T4-1B");
    g_assert_true (gv_vgpu_uuid_is_valid (made->mdev_uuid));
    g_assert_false (made->enabled_vfs);
    g_assert_cmpuint (g_strv_length (made->vfs), ==, 0);
  }
  g_assert_cmpuint (log_len (fx), ==, 2);
  g_assert_false (log_mentions (fx, "sriov_numvfs"));
  g_assert_cmpuint (numvfs (fx, T4), ==, 0);
  reset_gpu (fx, T4, 0);
}

/* ---- fault injection at every write ---- */

typedef struct {
  const char *name;
  const char *gpu;                          /* whose state must not change */
  gboolean (*run) (Fx *fx, GError **error); /* the operation */
  void (*prepare) (Fx *fx);                 /* from any state, the one before the operation */
  guint writes;                             /* a clean run makes so many */
} Op;

static gboolean
op_set_type (Fx *fx, GError **error)
{
  return gv_vgpu_set_type (&fx->ctx, "0000:01:00.4", "L40S-24Q", NULL, NULL, NULL, error);
}

static void
prep_set_type (Fx *fx)
{
  reset_gpu (fx, L40S_GPU0, 32);
}

static gboolean
op_release (Fx *fx, GError **error)
{
  return gv_vgpu_release_type (&fx->ctx, "0000:01:00.4", NULL, error);
}

static void
prep_release (Fx *fx)
{
  if (current_type (fx, "0000:01:00.4") == 0)
    must_set_type (fx, "0000:01:00.4", "1163", 1163);
}

static gboolean
op_sriov_enable (Fx *fx, GError **error)
{
  return gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 2, NULL, error);
}

static void
prep_sriov_enable (Fx *fx)
{
  reset_gpu (fx, L40S_COLD, 0);
}

static gboolean
op_sriov_change (Fx *fx, GError **error)
{
  return gv_vgpu_set_num_vfs (&fx->ctx, L40S_COLD, 3, NULL, error);
}

static void
prep_sriov_change (Fx *fx)
{
  reset_gpu (fx, L40S_COLD, 2);
}

static gboolean
op_create_cold_vendor (Fx *fx, GError **error)
{
  GvVgpuRequest request = { .function = L40S_COLD, .framework = GV_HOST_FRAMEWORK_PENDING, .wanted = "L40S-24Q",
                            .num_vfs = 4 };
  g_autoptr (GvVgpuResult) result = NULL;
  return gv_vgpu_create (&fx->ctx, &request, &result, error);
}

static void
prep_cold (Fx *fx)
{
  reset_gpu (fx, L40S_COLD, 0);
}

static gboolean
op_mdev_create (Fx *fx, GError **error)
{
  return gv_vgpu_create_mdev (&fx->ctx, "0000:67:00.4", "A40-8Q", UUID_A, NULL, NULL, error);
}

static void
prep_mdev_create (Fx *fx)
{
  reset_gpu (fx, A40_GPU0, 2);
}

static gboolean
op_mdev_remove (Fx *fx, GError **error)
{
  return gv_vgpu_remove_mdev (&fx->ctx, UUID_A, error);
}

static void
prep_mdev_remove (Fx *fx)
{
  if (numvfs (fx, A40_GPU0) != 2)
    reset_gpu (fx, A40_GPU0, 2);
  if (!mdev_exists (fx, UUID_A)) {
    g_autoptr (GError) error = NULL;
    g_assert_true (op_mdev_create (fx, &error));
    g_assert_no_error (error);
  }
}

static gboolean
op_create_cold_mdev (Fx *fx, GError **error)
{
  GvVgpuRequest request = { .function = A40_GPU1, .framework = GV_HOST_FRAMEWORK_PENDING, .wanted = "A40-8Q",
                            .uuid = UUID_B, .num_vfs = 4 };
  g_autoptr (GvVgpuResult) result = NULL;
  return gv_vgpu_create (&fx->ctx, &request, &result, error);
}

static void
prep_cold_mdev (Fx *fx)
{
  reset_gpu (fx, A40_GPU1, 0);
}

static const Op l40s_ops[] = {
  { "set type", L40S_GPU0, op_set_type, prep_set_type, 1 },
  { "release", L40S_GPU0, op_release, prep_release, 1 },
  { "SR-IOV 0 -> 2", L40S_COLD, op_sriov_enable, prep_sriov_enable, 1 },
  { "SR-IOV 2 -> 3", L40S_COLD, op_sriov_change, prep_sriov_change, 2 },
  { "CreateVgpu on a cold vendor-VFIO GPU", L40S_COLD, op_create_cold_vendor, prep_cold, 2 },
};

static const Op a40_ops[] = {
  { "mdev create", A40_GPU0, op_mdev_create, prep_mdev_create, 1 },
  { "mdev remove", A40_GPU0, op_mdev_remove, prep_mdev_remove, 1 },
  { "CreateVgpu on a cold mdev-vf GPU", A40_GPU1, op_create_cold_mdev, prep_cold_mdev, 2 },
};

/* The writes a clean run of OP makes; the GPU is back as before afterwards. */
static GPtrArray *
clean_run (Fx *fx, const Op *op, const char *before)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *after = NULL;
  GPtrArray *writes;

  log_clear (fx);
  g_assert_true (op->run (fx, &error));
  g_assert_no_error (error);
  writes = read_log (fx);
  for (guint n = 0; n < writes->len; n++)
    g_test_message ("%s, write %u: %s “%s”", op->name, n, ((Write *) writes->pdata[n])->path,
                    ((Write *) writes->pdata[n])->data);
  g_assert_cmpuint (writes->len, ==, op->writes);
  op->prepare (fx);
  after = state_of (fx, op->gpu);
  g_assert_cmpstr (after, ==, before);
  return writes;
}

static void
fail_each_write (Fx *fx, const Op *ops, guint n_ops)
{
  guint cases = 0;

  for (guint o = 0; o < n_ops; o++) {
    const Op *op = &ops[o];
    g_autofree char *before = NULL;
    g_autoptr (GPtrArray) writes = NULL;

    op->prepare (fx);
    before = state_of (fx, op->gpu);
    writes = clean_run (fx, op, before);
    for (guint n = 0; n < writes->len; n++) {
      g_autoptr (GError) error = NULL;
      g_autofree char *now = NULL;

      arm (fx, writes->pdata[n], "errno=EIO");
      g_assert_false (op->run (fx, &error));
      g_assert_error (error, GV_ERROR, GV_ERROR_KERNEL);
      assert_error_contains (error, "EIO (Input/output error)");
      assert_error_contains (error, ((Write *) writes->pdata[n])->data);
      g_test_message ("%s, write %u fails: %s", op->name, n, error->message);
      assert_faults_consumed (fx);
      /* nothing half-configured: exactly as before */
      now = state_of (fx, op->gpu);
      g_assert_cmpstr (now, ==, before);
      cases++;
    }
  }
  g_test_message ("%u fault cases", cases);
}

static void
test_faults_l40s (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  fail_each_write (fx, l40s_ops, G_N_ELEMENTS (l40s_ops));
}

static void
test_faults_a40 (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  fail_each_write (fx, a40_ops, G_N_ELEMENTS (a40_ops));
}

/* ---- writes that do not return ---- */

/* The BDF or UUID a late report about write W names. */
static char *
late_subject (const Write *w)
{
  g_auto (GStrv) parts = g_strsplit (w->path, "/", -1);
  guint n = g_strv_length (parts);

  if (g_str_has_suffix (w->path, "/nvidia/current_vgpu_type"))
    return g_strdup (parts[n - 3]);
  if (g_str_has_suffix (w->path, "/create"))
    return g_strdup (parts[n - 4]);
  /* sriov_numvfs: the PF; remove: the mdev */
  return g_strdup (parts[n - 2]);
}

/* The bound of each write while one hangs: above the simulator's 1 s
 * wait of an SR-IOV disable, which comes before some hung writes. */
#define HANG_TIMEOUT_MS 1500

static void
hang_each_write (Fx *fx, const Op *ops, guint n_ops)
{
  for (guint o = 0; o < n_ops; o++) {
    const Op *op = &ops[o];
    g_autofree char *before = NULL;
    g_autoptr (GPtrArray) writes = NULL;

    op->prepare (fx);
    before = state_of (fx, op->gpu);
    writes = clean_run (fx, op, before);
    for (guint n = 0; n < writes->len; n++) {
      const Write *w = writes->pdata[n];
      g_autoptr (GError) error = NULL;
      g_autofree char *subject = late_subject (w);
      g_autofree char *want = g_strdup_printf ("%s 0", subject);
      g_autofree char *report = NULL;
      g_autofree char *now = NULL;
      guint from = late_count (fx);
      gint64 t0;

      gboolean numvfs = g_str_has_suffix (w->path, "/sriov_numvfs");
      guint bound;

      arm (fx, w, "hang");
      fx->ctx.timeout_ms = HANG_TIMEOUT_MS;
      /* a count is bounded by the VFs it adds or removes: at most 32 here */
      bound = numvfs ? gv_vgpu_sriov_bound_ms (&fx->ctx, 32) : HANG_TIMEOUT_MS;
      t0 = g_get_monotonic_time ();
      g_assert_false (op->run (fx, &error));
      fx->ctx.timeout_ms = 5000;
      /* a count of VFs is a write the kernel may legitimately take long
       * over: Pending (the outcome is to come), bounded by the VFs it
       * adds; a CreateVgpu fails whatever that write does: Stuck */
      if (numvfs && !g_str_has_prefix (op->name, "CreateVgpu")) {
        g_assert_error (error, GV_ERROR, GV_ERROR_PENDING);
        assert_error_contains (error, "still at it");
      } else {
        g_assert_error (error, GV_ERROR, GV_ERROR_STUCK);
      }
      if (numvfs) {
        assert_error_contains (error, " ms (");
      } else {
        assert_error_contains (error, G_STRINGIFY (HANG_TIMEOUT_MS) " ms");
        assert_error_contains (error, w->data);
      }
      g_test_message ("%s, write %u hangs: %s", op->name, n, error->message);
      /* one bounded wait, plus at most one SR-IOV disable before it */
      g_assert_cmpint (g_get_monotonic_time () - t0, <, (gint64) (bound + 2000) * 1000);
      g_assert_cmpuint (late_count (fx), ==, from);

      /* it returns at last: the late callback hears of it */
      sim_ctl (fx, "faults", "release");
      report = late_wait (fx, from, 5000);
      g_assert_nonnull (report);
      g_assert_cmpstr (report, ==, want);
      op->prepare (fx);
      now = state_of (fx, op->gpu);
      g_assert_cmpstr (now, ==, before);
    }
  }
}

static void
test_hangs_l40s (void)
{
  g_autoptr (Fx) fx = fx_new ("l40s-vendor-vfio");
  hang_each_write (fx, l40s_ops, G_N_ELEMENTS (l40s_ops));
}

static void
test_hangs_a40 (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  hang_each_write (fx, a40_ops, G_N_ELEMENTS (a40_ops));
}

/* Removing an mdev a VM holds blocks in the kernel: STUCK, and the late
 * report once the VM lets go. */
static void
test_hang_mdev_held (void)
{
  g_autoptr (Fx) fx = fx_new ("a40-mdev");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (fx->mount->root, "sys", "bus", "mdev", "devices", UUID_A, NULL);
  g_autofree char *node = NULL;
  g_autofree char *report = NULL;
  g_autofree char *want = g_strdup_printf ("%s 0", UUID_A);
  gint64 t0;
  int fd;

  must_set_num_vfs (fx, A40_GPU0, 1);
  g_assert_true (gv_vgpu_create_mdev (&fx->ctx, "0000:67:00.4", "A40-4Q", UUID_A, NULL, NULL, &error));
  g_assert_no_error (error);
  fd = open_vfio_node (fx, dir, &node);
  fx->ctx.timeout_ms = 300;
  t0 = g_get_monotonic_time ();
  g_assert_false (gv_vgpu_remove_mdev (&fx->ctx, UUID_A, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_STUCK);
  assert_error_contains (error, node);
  g_test_message ("held: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 3 * G_USEC_PER_SEC);
  g_assert_true (mdev_exists (fx, UUID_A));
  g_assert_cmpuint (late_count (fx), ==, 0);
  close (fd);
  report = late_wait (fx, 0, 5000);
  g_assert_cmpstr (report, ==, want);
  g_assert_false (mdev_exists (fx, UUID_A));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vgpu/type-matches", test_type_matches);
  g_test_add_func ("/vgpu/uuid", test_uuid);
  g_test_add_func ("/vgpu/root-refused", test_root_refused);
  g_test_add_func ("/vgpu/vendor-set-release", test_vendor_set_release);
  g_test_add_func ("/vgpu/vendor-bad-input", test_vendor_bad_input);
  g_test_add_func ("/vgpu/vendor-name-first", test_vendor_name_first);
  g_test_add_func ("/vgpu/vendor-release-busy", test_vendor_release_busy);
  g_test_add_func ("/vgpu/mdev-create-remove", test_mdev);
  g_test_add_func ("/vgpu/sriov-counts", test_sriov);
  g_test_add_func ("/vgpu-create/l40s", test_create_l40s);
  g_test_add_func ("/vgpu-create/races", test_create_races);
  g_test_add_func ("/vgpu-create/a40", test_create_a40);
  g_test_add_func ("/vgpu-create/big-host-t4", test_create_big_host_t4);
  g_test_add_func ("/vgpu-faults/l40s", test_faults_l40s);
  g_test_add_func ("/vgpu-faults/a40", test_faults_a40);
  g_test_add_func ("/vgpu-hangs/l40s", test_hangs_l40s);
  g_test_add_func ("/vgpu-hangs/a40", test_hangs_a40);
  g_test_add_func ("/vgpu-hangs/mdev-held", test_hang_mdev_held);
  return g_test_run ();
}
