#include "host/function.h"

#include "gpuvirt-names.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
pci_function_clear (gpointer data)
{
  GvHostFunction *fn = data;

  g_free (fn->bdf);
  g_free (fn->vendor_name);
  g_free (fn->model_name);
  g_free (fn->driver);
  g_free (fn->driver_override);
  g_free (fn->upstream_bridge);
  g_free (fn->vfio_cdev_node);
  g_strfreev (fn->vfs);
  g_free (fn->physfn);
  g_strfreev (fn->consumers);
  g_strfreev (fn->drm_nodes);
  g_clear_pointer (&fn->mdev_types, g_ptr_array_unref);
  g_clear_pointer (&fn->vendor_vfio, gv_host_vendor_vfio_free);
}

GvHostFunction *
gv_host_function_ref (GvHostFunction *fn)
{
  return g_atomic_rc_box_acquire (fn);
}

void
gv_host_function_unref (GvHostFunction *fn)
{
  if (fn)
    g_atomic_rc_box_release_full (fn, pci_function_clear);
}

static GStrv
strv_from_array (GPtrArray *array)
{
  g_ptr_array_set_free_func (array, NULL);
  g_ptr_array_add (array, NULL);
  return (GStrv) g_ptr_array_free (array, FALSE);
}

static guint64
read_hex (const char *dir, const char *name, guint64 max)
{
  guint64 v = 0;

  if (!gv_sysfs_read_uint (dir, name, TRUE, &v) || v > max)
    return 0;
  return v;
}

/* The group number is the name the iommu_group link points to. */
static int
read_iommu_group (const char *dir)
{
  g_autofree char *name = gv_sysfs_read_link_name (dir, "iommu_group");
  char *end = NULL;
  guint64 g;

  if (!name || !g_ascii_isdigit (name[0]))
    return -1;
  g = g_ascii_strtoull (name, &end, 10);
  if (*end != '\0' || g > G_MAXINT)
    return -1;
  return (int) g;
}

typedef struct {
  guint64 n;
  char *bdf;
} VirtFn;

static gint
virtfn_compare (gconstpointer a, gconstpointer b)
{
  const VirtFn *x = a, *y = b;
  return x->n < y->n ? -1 : x->n > y->n;
}

/* virtfnN links sorted by N as a number: virtfn10 comes after virtfn9. */
static GStrv
read_vfs (const char *dir, GHashTable *entries)
{
  g_autoptr (GArray) vfs = g_array_new (FALSE, FALSE, sizeof (VirtFn));
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, entries);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    const char *e = key;
    const char *num = e + strlen ("virtfn");
    char *end = NULL;
    VirtFn vf;

    if (!g_str_has_prefix (e, "virtfn") || !g_ascii_isdigit (*num))
      continue;
    vf.n = g_ascii_strtoull (num, &end, 10);
    if (*end != '\0')
      continue;
    vf.bdf = gv_sysfs_read_link_name (dir, e);
    if (!vf.bdf || !gv_host_bdf_is_valid (vf.bdf)) {
      g_free (vf.bdf);
      continue;
    }
    g_array_append_val (vfs, vf);
  }
  g_array_sort (vfs, virtfn_compare);
  for (guint i = 0; i < vfs->len; i++)
    g_ptr_array_add (out, g_array_index (vfs, VirtFn, i).bdf);
  return strv_from_array (out);
}

GStrv
gv_host_read_vfs (const char *root, const char *pf)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", pf, NULL);
  g_autoptr (GPtrArray) names = gv_sysfs_list_dir (dir);
  g_autoptr (GHashTable) entries = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < names->len; i++)
    g_hash_table_add (entries, names->pdata[i]);
  return read_vfs (dir, entries);
}

char *
gv_host_read_physfn (const char *root, const char *bdf)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", bdf, NULL);
  char *pf = gv_sysfs_read_link_name (dir, "physfn");

  if (pf && !gv_host_bdf_is_valid (pf))
    g_clear_pointer (&pf, g_free);
  return pf;
}

gboolean
gv_host_read_numvfs (const char *root, const char *pf, guint *count)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", pf, NULL);
  guint64 n;

  if (!gv_sysfs_read_uint (dir, "sriov_numvfs", FALSE, &n) || n > G_MAXUINT16)
    return FALSE;
  *count = (guint) n;
  return TRUE;
}

/* consumer:pci:<BDF> device links (the GPU is the supplier of its audio,
 * USB and UCSI functions): the name says it all. */
static GStrv
read_consumers (GHashTable *entries)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, entries);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    const char *e = key;
    const char *bdf = e + strlen ("consumer:pci:");
    if (g_str_has_prefix (e, "consumer:pci:") && gv_host_bdf_is_valid (bdf))
      g_ptr_array_add (out, g_strdup (bdf));
  }
  g_ptr_array_sort (out, gv_sysfs_compare_names);
  return strv_from_array (out);
}

static gboolean
name_with_number (const char *name, const char *prefix)
{
  const char *p;

  if (!g_str_has_prefix (name, prefix))
    return FALSE;
  p = name + strlen (prefix);
  if (!*p)
    return FALSE;
  for (; *p; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static GStrv
read_drm_nodes (const char *dir)
{
  g_autofree char *drm = g_build_filename (dir, "drm", NULL);
  g_autoptr (GPtrArray) entries = gv_sysfs_list_dir (drm);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < entries->len; i++) {
    const char *e = entries->pdata[i];
    if (name_with_number (e, "card") || name_with_number (e, "renderD"))
      g_ptr_array_add (out, g_strconcat ("/dev/dri/", e, NULL));
  }
  return strv_from_array (out);
}

/* ROOT/sys/bus/pci/devices/<BDF> links into the device hierarchy:
 * "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0". The component
 * before the last is the upstream bridge, or "pci0000:00" on a root bus. */
static char *
read_upstream_bridge (const char *devices_dir, const char *bdf)
{
  g_autofree char *link = g_build_filename (devices_dir, bdf, NULL);
  g_autofree char *target = g_file_read_link (link, NULL);
  g_autofree char *parent_dir = NULL;
  char *parent;

  if (!target)
    return NULL;
  parent_dir = g_path_get_dirname (target);
  parent = g_path_get_basename (parent_dir);
  if (!gv_host_bdf_is_valid (parent)) {
    g_free (parent);
    return NULL;
  }
  return parent;
}

/* "Device Minor: \t 0" in the nvidia driver's per-GPU information file. */
static int
read_nvidia_minor (const char *root, const char *bdf)
{
  g_autofree char *dir = g_build_filename (root, "proc", "driver", "nvidia", "gpus", bdf, NULL);
  g_autofree char *info = gv_sysfs_read_attr_raw (dir, "information");
  g_auto (GStrv) lines = NULL;

  if (!info)
    return -1;
  lines = g_strsplit (info, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const char *v;
    char *end = NULL;
    guint64 minor;

    if (!g_str_has_prefix (lines[i], "Device Minor:"))
      continue;
    v = lines[i] + strlen ("Device Minor:");
    while (*v == ' ' || *v == '\t')
      v++;
    if (!g_ascii_isdigit (*v))
      return -1;
    minor = g_ascii_strtoull (v, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r')
      end++;
    return *end == '\0' && minor <= G_MAXINT ? (int) minor : -1;
  }
  return -1;
}

/* The entries of the function's directory: we only open what is listed,
 * which on a simulator mount (FUSE) saves a round trip per missing file. */
static GHashTable *
list_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  GHashTable *set;
  const char *name;

  if (!d)
    return NULL;
  set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while ((name = g_dir_read_name (d)))
    g_hash_table_add (set, g_strdup (name));
  return set;
}

struct _GvPciReadCache {
  GHashTable *mdev_bus;    /* entries of sys/class/mdev_bus */
  GHashTable *nvidia_gpus; /* entries of proc/driver/nvidia/gpus */
};

static GHashTable *
list_entries (const char *dir);

GvHostReadCache *
gv_host_read_cache_new (const char *root)
{
  g_autofree char *mdev_bus = g_build_filename (root, "sys", "class", "mdev_bus", NULL);
  g_autofree char *gpus = g_build_filename (root, "proc", "driver", "nvidia", "gpus", NULL);
  GvHostReadCache *cache = g_new0 (GvHostReadCache, 1);

  cache->mdev_bus = list_entries (mdev_bus);
  cache->nvidia_gpus = list_entries (gpus);
  return cache;
}

void
gv_host_read_cache_free (GvHostReadCache *cache)
{
  if (!cache)
    return;
  g_clear_pointer (&cache->mdev_bus, g_hash_table_destroy);
  g_clear_pointer (&cache->nvidia_gpus, g_hash_table_destroy);
  g_free (cache);
}

/* Is ROOT/<sub>/<name> there? From the cached listing when there is one. */
static gboolean
listed (GHashTable *listing, gboolean have_cache, const char *root, const char *sub, const char *name)
{
  g_autofree char *path = NULL;

  if (have_cache)
    return listing && g_hash_table_contains (listing, name);
  path = g_build_filename (root, sub, name, NULL);
  return gv_sysfs_file_exists (path);
}

static void read_driver_part (GvHostFunction *fn, const char *root, const char *dir, GHashTable *has,
                              GvHostReadCache *cache);
static void read_sriov_part (GvHostFunction *fn, const char *dir, GHashTable *has);
static void read_vgpu_part (GvHostFunction *fn, const char *root, const char *dir, GHashTable *has,
                            GvHostReadCache *cache);

GvHostFunction *
gv_host_function_read (const char *root, const char *bdf, GvHostNames *names, GError **error)
{
  return gv_host_function_read_cached (root, bdf, names, NULL, error);
}

GvHostFunction *
gv_host_function_read_cached (const char *root, const char *bdf, GvHostNames *names,
                             GvHostReadCache *cache, GError **error)
{
  g_autofree char *devices_dir = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (GHashTable) has = NULL;
  GvHostFunction *fn;
  GvHostBdf address;
  guint64 v;
  gint64 n;

  if (!gv_host_bdf_parse (bdf, &address)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                 "“%s” is not a PCI address of the form dddd:bb:ss.f", bdf ? bdf : "(null)");
    return NULL;
  }
  devices_dir = g_build_filename (root, "sys", "bus", "pci", "devices", NULL);
  dir = g_build_filename (devices_dir, bdf, NULL);
  has = list_entries (dir);
  if (!has) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE,
                 "No PCI function %s on this host (%s is missing)", bdf, dir);
    return NULL;
  }
#define HAS(name) g_hash_table_contains (has, name)

  fn = g_atomic_rc_box_new0 (GvHostFunction);
  fn->bdf = g_strdup (bdf);
  fn->address = address;
  fn->vendor_id = HAS ("vendor") ? read_hex (dir, "vendor", 0xffff) : 0;
  fn->device_id = HAS ("device") ? read_hex (dir, "device", 0xffff) : 0;
  fn->subsystem_vendor_id = HAS ("subsystem_vendor") ? read_hex (dir, "subsystem_vendor", 0xffff) : 0;
  fn->subsystem_device_id = HAS ("subsystem_device") ? read_hex (dir, "subsystem_device", 0xffff) : 0;
  fn->class_code = HAS ("class") ? read_hex (dir, "class", 0xffffff) : 0;
  fn->revision = HAS ("revision") ? read_hex (dir, "revision", 0xff) : 0;
  fn->vendor_name = gv_host_names_vendor (names, fn->vendor_id);
  fn->model_name = gv_host_names_model (names, fn->vendor_id, fn->device_id);

  fn->upstream_bridge = read_upstream_bridge (devices_dir, bdf);
  fn->iommu_group = HAS ("iommu_group") ? read_iommu_group (dir) : -1;

  fn->boot_vga = -1;
  if (HAS ("boot_vga") && gv_sysfs_read_uint (dir, "boot_vga", FALSE, &v))
    fn->boot_vga = v != 0;
  fn->numa_node = HAS ("numa_node") && gv_sysfs_read_int (dir, "numa_node", &n) && n >= -1 && n <= G_MAXINT ? (int) n : -1;

  if (HAS ("sriov_totalvfs") && gv_sysfs_read_uint (dir, "sriov_totalvfs", FALSE, &v)) {
    fn->sriov_capable = TRUE;
    fn->sriov_totalvfs = MIN (v, G_MAXUINT);
  }
  fn->physfn = HAS ("physfn") ? gv_sysfs_read_link_name (dir, "physfn") : NULL;
  if (fn->physfn && !gv_host_bdf_is_valid (fn->physfn))
    g_clear_pointer (&fn->physfn, g_free);
#undef HAS
  /* what can change, as gv_host_function_reread() reads it */
  read_driver_part (fn, root, dir, has, cache);
  read_sriov_part (fn, dir, has);
  read_vgpu_part (fn, root, dir, has, cache);
  return fn;
}

/* The parts of gv_host_function_read_cached() that can change, into FN
 * (whose fixed parts are set). DIR: its directory; HAS: its entries
 * (NULL: not listed, only VGPU may be asked). */
static void
read_driver_part (GvHostFunction *fn, const char *root, const char *dir, GHashTable *has, GvHostReadCache *cache)
{
  g_autofree char *override = NULL;

  fn->driver = g_hash_table_contains (has, "driver") ? gv_sysfs_read_link_name (dir, "driver") : NULL;
  if (!fn->driver)
    fn->driver = g_strdup ("");
  override = g_hash_table_contains (has, "driver_override") ? gv_sysfs_read_attr (dir, "driver_override") : NULL;
  if (override && *override && !g_str_equal (override, "(null)"))
    fn->driver_override = g_steal_pointer (&override);
  fn->vfio_cdev_node = g_hash_table_contains (has, "vfio-dev") ? gv_host_read_vfio_cdev (root, dir) : NULL;
  /* the group's node comes and goes with a VFIO driver (or a vendor-VFIO
   * type) on a member: read with the driver, not per refresh and device */
  if (fn->iommu_group >= 0) {
    g_autofree char *node = gv_host_vfio_group_node (root, fn->iommu_group);
    fn->vfio_group_seen = node != NULL;
  }
  fn->consumers = read_consumers (has);
  fn->drm_nodes = g_hash_table_contains (has, "drm") ? read_drm_nodes (dir) : g_new0 (char *, 1);
  /* proc/driver/nvidia/gpus/<BDF> is there while nvidia drives it */
  fn->nvidia_minor = -1;
  if (g_str_equal (fn->driver, "nvidia") &&
      listed (cache ? cache->nvidia_gpus : NULL, cache != NULL, root, "proc/driver/nvidia/gpus", fn->bdf))
    fn->nvidia_minor = read_nvidia_minor (root, fn->bdf);
}

static void
read_sriov_part (GvHostFunction *fn, const char *dir, GHashTable *has)
{
  guint64 v;

  if (fn->sriov_capable && gv_sysfs_read_uint (dir, "sriov_numvfs", FALSE, &v))
    fn->sriov_numvfs = MIN (v, G_MAXUINT);
  fn->vfs = read_vfs (dir, has);
}

static void
read_vgpu_part (GvHostFunction *fn, const char *root, const char *dir, GHashTable *has, GvHostReadCache *cache)
{
  gboolean types = has ? g_hash_table_contains (has, "mdev_supported_types")
                       : gv_sysfs_path_exists (dir, "mdev_supported_types");

  fn->mdev_types = types ? gv_host_mdev_types_read (dir) : NULL;
  fn->mdev_parent = fn->mdev_types != NULL;
  /* an mdev parent needs a driver; the class lists every parent */
  if (!fn->mdev_parent && *fn->driver)
    fn->mdev_parent = listed (cache ? cache->mdev_bus : NULL, cache != NULL, root, "sys/class/mdev_bus", fn->bdf);
  fn->vendor_vfio = !has || g_hash_table_contains (has, "nvidia") ? gv_host_vendor_vfio_read (dir) : NULL;
}

GvHostFunction *
gv_host_function_reread (const char *root, const GvHostFunction *old, GvHostParts parts, GvHostReadCache *cache,
                         GError **error)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", old->bdf, NULL);
  g_autoptr (GHashTable) has = NULL;
  GvHostFunction *fn;

  /* the listing serves the driver and SR-IOV parts; the vGPU part alone
   * opens its two or three files directly */
  if (parts & (GV_HOST_PART_DRIVER | GV_HOST_PART_SRIOV)) {
    has = list_entries (dir);
    if (!has) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "No PCI function %s on this host (%s is missing)",
                   old->bdf, dir);
      return NULL;
    }
  } else if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "No PCI function %s on this host (%s is missing)",
                 old->bdf, dir);
    return NULL;
  }

  fn = g_atomic_rc_box_new0 (GvHostFunction);
  /* fixed for the function's life */
  fn->bdf = g_strdup (old->bdf);
  fn->address = old->address;
  fn->vendor_id = old->vendor_id;
  fn->device_id = old->device_id;
  fn->subsystem_vendor_id = old->subsystem_vendor_id;
  fn->subsystem_device_id = old->subsystem_device_id;
  fn->class_code = old->class_code;
  fn->revision = old->revision;
  fn->vendor_name = g_strdup (old->vendor_name);
  fn->model_name = g_strdup (old->model_name);
  fn->upstream_bridge = g_strdup (old->upstream_bridge);
  fn->iommu_group = old->iommu_group;
  fn->boot_vga = old->boot_vga;
  fn->numa_node = old->numa_node;
  fn->sriov_capable = old->sriov_capable;
  fn->sriov_totalvfs = old->sriov_totalvfs;
  fn->physfn = g_strdup (old->physfn);

  if (parts & GV_HOST_PART_DRIVER) {
    read_driver_part (fn, root, dir, has, cache);
  } else {
    fn->driver = g_strdup (old->driver);
    fn->driver_override = g_strdup (old->driver_override);
    fn->vfio_cdev_node = g_strdup (old->vfio_cdev_node);
    fn->vfio_group_seen = old->vfio_group_seen;
    fn->consumers = g_strdupv (old->consumers);
    fn->drm_nodes = g_strdupv (old->drm_nodes);
    fn->nvidia_minor = old->nvidia_minor;
  }
  if (parts & GV_HOST_PART_SRIOV) {
    read_sriov_part (fn, dir, has);
  } else {
    fn->sriov_numvfs = old->sriov_numvfs;
    fn->vfs = g_strdupv (old->vfs);
  }
  if (parts & GV_HOST_PART_VGPU) {
    read_vgpu_part (fn, root, dir, has, cache);
  } else {
    fn->mdev_types = old->mdev_types ? g_ptr_array_ref (old->mdev_types) : NULL;
    fn->mdev_parent = old->mdev_parent;
    fn->vendor_vfio = gv_host_vendor_vfio_ref (old->vendor_vfio);
  }
  return fn;
}

gboolean
gv_host_function_is_gpu (const GvHostFunction *fn)
{
  return (fn->class_code >> 16) == 0x03;
}

gboolean
gv_host_function_is_bridge (const GvHostFunction *fn)
{
  return (fn->class_code >> 8) == 0x0604;
}

gboolean
gv_host_function_is_vf (const GvHostFunction *fn)
{
  return fn->physfn != NULL;
}

gboolean
gv_host_driver_is_vfio (const char *driver)
{
  return driver && (g_str_equal (driver, "vfio-pci") ||
                    g_str_has_suffix (driver, "-vfio-pci") ||
                    g_str_has_suffix (driver, "_vfio_pci"));
}

const char *
gv_host_function_state (const GvHostFunction *fn)
{
  if (!fn->driver || !*fn->driver)
    return GPUVIRT_STATE_UNBOUND;
  if (gv_host_driver_is_vfio (fn->driver))
    return GPUVIRT_STATE_VFIO;
  return GPUVIRT_STATE_HOST;
}

char *
gv_host_function_nvidia_node (const GvHostFunction *fn)
{
  return fn->nvidia_minor >= 0 ? g_strdup_printf ("/dev/nvidia%d", fn->nvidia_minor) : NULL;
}

/* ---- equality ---- */

static gboolean
strv_equal (GStrv a, GStrv b)
{
  if (!a || !b)
    return a == b;
  return g_strv_equal ((const char *const *) a, (const char *const *) b);
}

static gboolean
type_name_equal (const GvHostTypeName *a, const GvHostTypeName *b)
{
  return g_strcmp0 (a->short_name, b->short_name) == 0 &&
         a->framebuffer_mb == b->framebuffer_mb && a->series == b->series;
}

static gboolean
mdev_type_equal (const GvHostMdevType *a, const GvHostMdevType *b)
{
  return g_str_equal (a->id, b->id) && g_str_equal (a->name, b->name) &&
         g_str_equal (a->description, b->description) && g_str_equal (a->device_api, b->device_api) &&
         strv_equal (a->field_keys, b->field_keys) && strv_equal (a->field_values, b->field_values) &&
         a->framebuffer_mb == b->framebuffer_mb && a->max_instance == b->max_instance &&
         a->available_instances == b->available_instances && strv_equal (a->devices, b->devices) &&
         type_name_equal (&a->parsed, &b->parsed);
}

static gboolean
mdev_types_equal (GPtrArray *a, GPtrArray *b)
{
  if (!a || !b)
    return a == b;
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!mdev_type_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

static gboolean
vendor_vfio_equal (const GvHostVendorVfio *a, const GvHostVendorVfio *b)
{
  if (!a || !b)
    return a == b;
  if (a->current_type != b->current_type || a->current_known != b->current_known ||
      a->creatable->len != b->creatable->len)
    return FALSE;
  for (guint i = 0; i < a->creatable->len; i++) {
    const GvHostVendorType *x = a->creatable->pdata[i], *y = b->creatable->pdata[i];
    if (x->id != y->id || !g_str_equal (x->name, y->name))
      return FALSE;
  }
  return TRUE;
}

gboolean
gv_host_function_equal (const GvHostFunction *a, const GvHostFunction *b)
{
  if (a == b)
    return TRUE;
  if (!a || !b)
    return FALSE;
  return g_str_equal (a->bdf, b->bdf) &&
         a->vendor_id == b->vendor_id && a->device_id == b->device_id &&
         a->subsystem_vendor_id == b->subsystem_vendor_id &&
         a->subsystem_device_id == b->subsystem_device_id &&
         a->class_code == b->class_code && a->revision == b->revision &&
         g_str_equal (a->vendor_name, b->vendor_name) && g_str_equal (a->model_name, b->model_name) &&
         g_str_equal (a->driver, b->driver) && g_strcmp0 (a->driver_override, b->driver_override) == 0 &&
         g_strcmp0 (a->upstream_bridge, b->upstream_bridge) == 0 && a->iommu_group == b->iommu_group &&
         g_strcmp0 (a->vfio_cdev_node, b->vfio_cdev_node) == 0 && a->vfio_group_seen == b->vfio_group_seen &&
         a->boot_vga == b->boot_vga && a->numa_node == b->numa_node &&
         a->sriov_capable == b->sriov_capable && a->sriov_totalvfs == b->sriov_totalvfs &&
         a->sriov_numvfs == b->sriov_numvfs && strv_equal (a->vfs, b->vfs) &&
         g_strcmp0 (a->physfn, b->physfn) == 0 && strv_equal (a->consumers, b->consumers) &&
         strv_equal (a->drm_nodes, b->drm_nodes) && a->nvidia_minor == b->nvidia_minor &&
         a->mdev_parent == b->mdev_parent && mdev_types_equal (a->mdev_types, b->mdev_types) &&
         vendor_vfio_equal (a->vendor_vfio, b->vendor_vfio);
}
