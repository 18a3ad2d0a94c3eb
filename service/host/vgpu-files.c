#include "host/vgpu-files.h"
#include "host/bdf.h"
#include "sysfs/read.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *
gv_host_framework_to_string (GvHostFramework framework)
{
  switch (framework) {
  case GV_HOST_FRAMEWORK_PENDING: return "pending";
  case GV_HOST_FRAMEWORK_MDEV_PF: return "mdev-pf";
  case GV_HOST_FRAMEWORK_MDEV_VF: return "mdev-vf";
  case GV_HOST_FRAMEWORK_VENDOR_VFIO: return "vendor-vfio";
  case GV_HOST_FRAMEWORK_NONE:
  default: return "none";
  }
}

GvHostFramework
gv_host_framework_detect (const GvHostFrameworkEvidence *e)
{
  /* The mdev parent wins: a T4 advertises sriov_totalvfs=16 yet does its
   * vGPUs on the PF (gpu-operator#2365). */
  if (e->pf_is_mdev_parent)
    return GV_HOST_FRAMEWORK_MDEV_PF;
  if (e->n_vfs > 0 && e->any_vf_mdev_parent)
    return GV_HOST_FRAMEWORK_MDEV_VF;
  if (e->n_vfs > 0 && e->any_vf_vendor_vfio)
    return GV_HOST_FRAMEWORK_VENDOR_VFIO;
  /* SR-IOV on nvidia without VFs: mdev-on-VF and vendor VFIO both look
   * like this until sriov-manage -e; only the VFs tell them apart. */
  if (e->sriov_totalvfs > 0 && e->n_vfs == 0 && g_strcmp0 (e->pf_driver, "nvidia") == 0)
    return GV_HOST_FRAMEWORK_PENDING;
  return GV_HOST_FRAMEWORK_NONE;
}

void
gv_host_type_name_clear (GvHostTypeName *name)
{
  g_clear_pointer (&name->short_name, g_free);
  name->framebuffer_mb = 0;
  name->series = '\0';
}

gboolean
gv_host_type_name_parse (const char *name, GvHostTypeName *out)
{
  g_autofree char *copy = g_strstrip (g_strdup (name ? name : ""));
  const char *word, *suffix, *p;
  guint gb = 0, digits = 0;

  memset (out, 0, sizeof *out);
  word = strrchr (copy, ' ');
  word = word ? word + 1 : copy;
  /* tabs count as blanks too */
  if (strrchr (word, '\t'))
    word = strrchr (word, '\t') + 1;
  out->short_name = g_strdup (word);
  if (!*word)
    return FALSE;

  /* The size is the last dash-separated part: "24Q", "20C" of "A100-4-20C". */
  suffix = strrchr (word, '-');
  if (!suffix)
    return FALSE;
  suffix++;
  for (p = suffix; g_ascii_isdigit (*p) && digits < 6; p++, digits++)
    gb = gb * 10 + (guint) (*p - '0');
  if (digits == 0 || !g_ascii_isalpha (p[0]) || p[1] != '\0')
    return FALSE;
  out->series = g_ascii_toupper (p[0]);
  /* Maxwell's "M60-0Q"/"M60-0B" types have 512 MB. */
  out->framebuffer_mb = gb == 0 ? 512 : gb * 1024;
  return TRUE;
}

/* ---- mdev types ---- */

void
gv_host_mdev_type_free (GvHostMdevType *type)
{
  if (!type)
    return;
  g_free (type->id);
  g_free (type->name);
  g_free (type->description);
  g_strfreev (type->field_keys);
  g_strfreev (type->field_values);
  g_free (type->device_api);
  g_strfreev (type->devices);
  gv_host_type_name_clear (&type->parsed);
  g_free (type);
}

const char *
gv_host_mdev_type_get_field (const GvHostMdevType *type, const char *key)
{
  for (guint i = 0; type->field_keys && type->field_keys[i]; i++)
    if (g_str_equal (type->field_keys[i], key))
      return type->field_values[i];
  return NULL;
}

void
gv_host_mdev_description_parse (const char *description, GStrv *keys, GStrv *values)
{
  g_autoptr (GStrvBuilder) kb = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) vb = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit_set (description ? description : "", ",\n", -1);

  for (guint i = 0; parts[i]; i++) {
    char *part = g_strstrip (parts[i]);
    char *eq = strchr (part, '=');
    if (!eq || eq == part)
      continue;
    *eq = '\0';
    g_strv_builder_add (kb, g_strstrip (part));
    g_strv_builder_add (vb, g_strstrip (eq + 1));
  }
  *keys = g_strv_builder_end (kb);
  *values = g_strv_builder_end (vb);
}

gboolean
gv_host_parse_size_mb (const char *text, guint *mb)
{
  guint64 v = 0;
  const char *p = text;
  guint digits = 0;
  char unit;

  if (!p)
    return FALSE;
  while (g_ascii_isspace (*p))
    p++;
  for (; g_ascii_isdigit (*p); p++, digits++) {
    if (digits >= 12)
      return FALSE;
    v = v * 10 + (guint64) (*p - '0');
  }
  if (digits == 0)
    return FALSE;
  unit = g_ascii_toupper (*p);
  if (unit != '\0')
    p++;
  if (*p == 'B' || *p == 'b')
    p++;
  if (*p != '\0')
    return FALSE;
  switch (unit) {
  case 'K': v /= 1024; break;
  /* NVIDIA writes "framebuffer=1024M"; a bare number is taken as MB too. */
  case '\0':
  case 'M': break;
  case 'G': v *= 1024; break;
  case 'T': v *= 1024 * 1024; break;
  default: return FALSE;
  }
  if (v > G_MAXUINT)
    return FALSE;
  *mb = (guint) v;
  return TRUE;
}

static GStrv
list_dir_strv (const char *path)
{
  g_autoptr (GPtrArray) names = gv_sysfs_list_dir (path);
  g_ptr_array_set_free_func (names, NULL);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static GvHostMdevType *
mdev_type_read (const char *types_dir, const char *id)
{
  g_autofree char *dir = g_build_filename (types_dir, id, NULL);
  g_autofree char *devices = g_build_filename (dir, "devices", NULL);
  GvHostMdevType *type = g_new0 (GvHostMdevType, 1);
  const char *v;
  gint64 n;

  type->id = g_strdup (id);
  type->name = gv_sysfs_read_attr (dir, "name");
  type->description = gv_sysfs_read_attr (dir, "description");
  type->device_api = gv_sysfs_read_attr (dir, "device_api");
  type->available_instances = gv_sysfs_read_int (dir, "available_instances", &n) && n >= 0 && n <= G_MAXINT ? (int) n : -1;
  if (!type->name && !type->description && !type->device_api && type->available_instances < 0) {
    gv_host_mdev_type_free (type);
    return NULL;
  }
  if (!type->name)
    type->name = g_strdup ("");
  if (!type->description)
    type->description = g_strdup ("");
  if (!type->device_api)
    type->device_api = g_strdup ("");
  type->devices = list_dir_strv (devices);
  gv_host_mdev_description_parse (type->description, &type->field_keys, &type->field_values);
  gv_host_type_name_parse (type->name, &type->parsed);

  v = gv_host_mdev_type_get_field (type, "framebuffer");
  if (!v || !gv_host_parse_size_mb (v, &type->framebuffer_mb))
    type->framebuffer_mb = type->parsed.framebuffer_mb;
  type->max_instance = -1;
  v = gv_host_mdev_type_get_field (type, "max_instance");
  if (v) {
    char *end = NULL;
    guint64 m = g_ascii_strtoull (v, &end, 10);
    if (end != v && *end == '\0' && m <= G_MAXINT)
      type->max_instance = (int) m;
  }
  return type;
}

GPtrArray *
gv_host_mdev_types_read (const char *device_dir)
{
  g_autofree char *types_dir = g_build_filename (device_dir, "mdev_supported_types", NULL);
  g_autoptr (GDir) d = g_dir_open (types_dir, 0, NULL);
  g_autoptr (GPtrArray) ids = NULL;
  GPtrArray *types;

  if (!d)
    return NULL;
  ids = gv_sysfs_list_dir (types_dir);
  types = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_mdev_type_free);
  for (guint i = 0; i < ids->len; i++) {
    GvHostMdevType *type = mdev_type_read (types_dir, ids->pdata[i]);
    /* a stray file is no type: nothing of a type could be read from it */
    if (!type)
      continue;
    g_ptr_array_add (types, type);
  }
  return types;
}

/* ---- vendor-specific VFIO ---- */

void
gv_host_vendor_type_free (GvHostVendorType *type)
{
  if (!type)
    return;
  g_free (type->name);
  gv_host_type_name_clear (&type->parsed);
  g_free (type);
}

static gboolean
parse_decimal_id (const char *s, gsize len, guint *out)
{
  guint64 v = 0;

  if (len == 0 || len > 9)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
    v = v * 10 + (guint64) (s[i] - '0');
  }
  *out = (guint) v;
  return TRUE;
}

/* "1155  : NVIDIA L40S-24Q" */
static gboolean
parse_id_first (const char *line, guint *id, char **name)
{
  const char *p = line;
  const char *rest;

  while (g_ascii_isdigit (*p))
    p++;
  if (!parse_decimal_id (line, p - line, id))
    return FALSE;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p != ':')
    return FALSE;
  rest = p + 1;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  if (!*rest)
    return FALSE;
  *name = g_strdup (rest);
  return TRUE;
}

/* "NVIDIA L40S-24Q  1155" */
static gboolean
parse_name_first (const char *line, guint *id, char **name)
{
  const char *end = line + strlen (line);
  const char *start = end;
  g_autofree char *n = NULL;

  while (start > line && g_ascii_isdigit (start[-1]))
    start--;
  if (start == line || (start[-1] != ' ' && start[-1] != '\t'))
    return FALSE;
  if (!parse_decimal_id (start, end - start, id))
    return FALSE;
  n = g_strndup (line, start - line);
  g_strstrip (n);
  if (!*n)
    return FALSE;
  *name = g_steal_pointer (&n);
  return TRUE;
}

GPtrArray *
gv_host_vendor_types_parse (const char *text)
{
  GPtrArray *types = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_vendor_type_free);
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    char *line = g_strstrip (lines[i]);
    GvHostVendorType *type;
    char *name = NULL;
    guint id = 0;

    /* Header lines ("ID    : vGPU Name", "vGPU Name    ID") match neither form. */
    if (!*line)
      continue;
    if (!parse_id_first (line, &id, &name) && !parse_name_first (line, &id, &name))
      continue;
    type = g_new0 (GvHostVendorType, 1);
    type->id = id;
    type->name = name;
    gv_host_type_name_parse (name, &type->parsed);
    g_ptr_array_add (types, type);
  }
  return types;
}

static void
vendor_vfio_clear (gpointer data)
{
  GvHostVendorVfio *vendor = data;

  g_clear_pointer (&vendor->creatable, g_ptr_array_unref);
}

void
gv_host_vendor_vfio_free (GvHostVendorVfio *vendor)
{
  if (vendor)
    g_atomic_rc_box_release_full (vendor, vendor_vfio_clear);
}

GvHostVendorVfio *
gv_host_vendor_vfio_ref (GvHostVendorVfio *vendor)
{
  return vendor ? g_atomic_rc_box_acquire (vendor) : NULL;
}

GvHostVendorVfio *
gv_host_vendor_vfio_read (const char *device_dir)
{
  g_autofree char *dir = g_build_filename (device_dir, "nvidia", NULL);
  g_autofree char *creatable = NULL;
  GvHostVendorVfio *vendor;
  guint64 current;

  creatable = gv_sysfs_read_attr_raw (dir, "creatable_vgpu_types");
  if (!creatable && !gv_sysfs_read_uint (dir, "current_vgpu_type", FALSE, &current))
    return NULL; /* no nvidia/ directory, or nothing in it we know */
  vendor = g_atomic_rc_box_new0 (GvHostVendorVfio);
  vendor->creatable = gv_host_vendor_types_parse (creatable);
  if (gv_sysfs_read_uint (dir, "current_vgpu_type", FALSE, &current) && current <= G_MAXUINT) {
    vendor->current_type = (guint) current;
    vendor->current_known = TRUE;
  }
  return vendor;
}

/* ---- VFIO nodes ---- */

char *
gv_host_read_vfio_cdev (const char *root, const char *dir)
{
  g_autofree char *vfio_dev = g_build_filename (dir, "vfio-dev", NULL);
  g_autoptr (GPtrArray) entries = gv_sysfs_list_dir (vfio_dev);

  for (guint i = 0; i < entries->len; i++) {
    const char *e = entries->pdata[i];
    const char *p = e + strlen ("vfio");
    if (!g_str_has_prefix (e, "vfio") || !*p)
      continue;
    while (g_ascii_isdigit (*p))
      p++;
    /* Kernels without iommufd cdevs (6.1) show vfio-dev/vfioN too, but
     * make no /dev/vfio/devices/vfioN: report only a node that exists. */
    if (*p == '\0') {
      g_autofree char *node = g_build_filename (root, "dev", "vfio", "devices", e, NULL);
      return gv_sysfs_file_exists (node) ? g_strconcat ("/dev/vfio/devices/", e, NULL) : NULL;
    }
  }
  return NULL;
}

char *
gv_host_vfio_group_node (const char *root, int group)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (group < 0)
    return NULL;
  name = g_strdup_printf ("%d", group);
  path = g_build_filename (root, "dev", "vfio", name, NULL);
  if (!gv_sysfs_file_exists (path))
    return NULL;
  return g_strconcat ("/dev/vfio/", name, NULL);
}

/* ---- mdevs ---- */

void
gv_host_mdev_free (GvHostMdev *mdev)
{
  if (!mdev)
    return;
  g_free (mdev->uuid);
  g_free (mdev->type_id);
  g_free (mdev->parent);
  g_free (mdev->vfio_group_node);
  g_free (mdev->vfio_cdev_node);
  g_free (mdev);
}

/* The parent is the directory that holds the mdev: the link reads
 * "../../../devices/pci0000:c7/0000:c7:01.0/0000:c8:00.0/<uuid>". */
static char *
mdev_parent (const char *devices_dir, const char *uuid)
{
  g_autofree char *link = g_build_filename (devices_dir, uuid, NULL);
  g_autofree char *target = g_file_read_link (link, NULL);
  g_autofree char *dir = NULL;
  char *parent;

  if (!target)
    return g_strdup ("");
  dir = g_path_get_dirname (target);
  parent = g_path_get_basename (dir);
  if (!gv_host_bdf_is_valid (parent)) {
    g_free (parent);
    return g_strdup ("");
  }
  return parent;
}

GPtrArray *
gv_host_mdevs_read (const char *root)
{
  g_autofree char *devices_dir = g_build_filename (root, "sys", "bus", "mdev", "devices", NULL);
  g_autoptr (GPtrArray) uuids = gv_sysfs_list_dir (devices_dir);
  GPtrArray *mdevs = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_mdev_free);

  for (guint i = 0; i < uuids->len; i++) {
    const char *uuid = uuids->pdata[i];
    g_autofree char *dir = g_build_filename (devices_dir, uuid, NULL);
    g_autofree char *group = NULL;
    GvHostMdev *mdev;

    if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
      continue;
    mdev = g_new0 (GvHostMdev, 1);
    mdev->uuid = g_strdup (uuid);
    mdev->type_id = gv_sysfs_read_link_name (dir, "mdev_type");
    if (!mdev->type_id)
      mdev->type_id = g_strdup ("");
    mdev->parent = mdev_parent (devices_dir, uuid);
    mdev->iommu_group = -1;
    group = gv_sysfs_read_link_name (dir, "iommu_group");
    if (group) {
      char *end = NULL;
      guint64 g = g_ascii_strtoull (group, &end, 10);
      if (end != group && *end == '\0' && g <= G_MAXINT)
        mdev->iommu_group = (int) g;
    }
    mdev->vfio_group_node = gv_host_vfio_group_node (root, mdev->iommu_group);
    mdev->vfio_cdev_node = gv_host_read_vfio_cdev (root, dir);
    g_ptr_array_add (mdevs, mdev);
  }
  return mdevs;
}
