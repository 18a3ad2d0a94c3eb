/* Capture mode: reads a real host's sys/ and proc/ under a root directory
 * and writes it as a scenario (SCENARIOS.md), so that users can attach
 * their host to a bug report and we can replay it in the simulator.
 *
 * Strictly read-only: files are opened only by read_file(), with O_RDONLY;
 * otherwise the tree is touched only by opendir(), readlink() and access().
 * Processes are not recorded.
 *
 * What sysfs does not say, and how the scenario makes do:
 * - Drivers' id tables are not in sysfs. A driver's "ids" lists the exact
 *   VENDOR:DEVICE of the functions bound to it now (VFs included), so that a
 *   replayed drivers_probe rebinds what was bound, and nothing else.
 * - VFs (functions with a physfn link) are not listed as devices: their
 *   PF's sriov.numvfs records them, and the simulator recreates them.
 * - vGPU types are what is visible now: the types of the mdev parents, or
 *   the union of the VFs' creatable_vgpu_types (which shrink as vGPUs are
 *   created). A GPU without VFs shows no types. Whether a GPU mixes type
 *   sizes (heterogeneous) is not in sysfs and is left out.
 * - ACS is read from the outcome: a bridge sharing its IOMMU group with a
 *   function below it gets "acs": false. */
#include "sim-capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#define READ_MAX (64 * 1024)       /* any sysfs attribute (config space: 4 KiB) */
#define READ_MAX_BIG (1024 * 1024) /* /boot/config-*, /proc/interrupts */

typedef struct {
  const char *framework;   /* static string */
  GPtrArray *types;        /* JsonObject*, first seen wins */
  GHashTable *ids;         /* type id (borrowed from types) -> TRUE */
  gboolean name_first;
  gboolean header;
} Vgpu;

typedef struct {
  char *root;
  GHashTable *listed;        /* BDF -> JsonObject (borrowed) of each device listed */
  GHashTable *configs;       /* BDF -> config space as hex */
  GHashTable *bound;         /* driver -> GPtrArray of "vvvv:dddd" */
  GHashTable *sriov_drivers; /* drivers bound to a PF with VFs enabled */
  GHashTable *vgpus;         /* PF BDF -> Vgpu */
} Capture;

/* The only place anything is opened. Returns what could be read, which for
 * config space as an unprivileged user is just the first 64 bytes, or NULL
 * when the file cannot be opened or is empty. */
static char *
read_file (const char *path, gsize max, gsize *len)
{
  g_autoptr (GByteArray) buf = NULL;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    return NULL;
  buf = g_byte_array_new ();
  while (buf->len < max) {
    guint8 chunk[4096];
    ssize_t n = read (fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    g_byte_array_append (buf, chunk, (guint) n);
  }
  close (fd);
  if (buf->len == 0)
    return NULL;
  if (len)
    *len = buf->len;
  g_byte_array_append (buf, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&buf), FALSE);
}

static char *
read_value (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = read_file (path, READ_MAX, NULL);

  return text ? g_strstrip (text) : NULL;
}

/* sysfs prints ids as "0x10de"; scenarios hold "10de". */
static char *
read_hex (const char *dir, const char *name)
{
  g_autofree char *v = read_value (dir, name);

  if (!v || !*v)
    return NULL;
  return g_ascii_strdown (g_str_has_prefix (v, "0x") ? v + 2 : v, -1);
}

static gboolean
read_int (const char *dir, const char *name, gint64 *out)
{
  g_autofree char *v = read_value (dir, name);
  char *end;

  if (!v || !*v)
    return FALSE;
  *out = g_ascii_strtoll (v, &end, 10);
  return *end == '\0';
}

static char *
link_name (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *target = g_file_read_link (path, NULL);

  return target ? g_path_get_basename (target) : NULL;
}

static gboolean
exists (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return access (path, F_OK) == 0;
}

static int
str_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* "nvidia-99" before "nvidia-100", group "9" before "10". */
static int
natural_cmp (gconstpointer pa, gconstpointer pb)
{
  const char *a = *(char *const *) pa, *b = *(char *const *) pb;

  while (*a && *b) {
    if (g_ascii_isdigit (*a) && g_ascii_isdigit (*b)) {
      char *ea, *eb;
      guint64 x = g_ascii_strtoull (a, &ea, 10), y = g_ascii_strtoull (b, &eb, 10);
      if (x != y)
        return x < y ? -1 : 1;
      a = ea;
      b = eb;
    } else if (*a != *b) {
      return (guchar) *a - (guchar) *b;
    } else {
      a++;
      b++;
    }
  }
  return (guchar) *a - (guchar) *b;
}

/* Entry names of a directory, sorted; NULL (errno set) if it cannot be read. */
static GPtrArray *
list_dir (const char *path, GCompareFunc cmp)
{
  DIR *d = opendir (path);
  GPtrArray *names;
  struct dirent *e;

  if (!d)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (e->d_name));
  closedir (d);
  g_ptr_array_sort (names, cmp);
  return names;
}

static gboolean
all_digits (const char *s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* DOMAIN:BB:DD.F; VMD domains have 5 hex digits. */
static gboolean
is_bdf (const char *s)
{
  const char *p = strchr (s, ':');

  if (!p || p - s < 4)
    return FALSE;
  for (const char *q = s; q < p; q++)
    if (!g_ascii_isxdigit (*q))
      return FALSE;
  p++;
  return strlen (p) == 7 && g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]) && p[2] == ':' &&
         g_ascii_isxdigit (p[3]) && g_ascii_isxdigit (p[4]) && p[5] == '.' && p[6] >= '0' && p[6] <= '7';
}

static void
set_hex (JsonObject *o, const char *member, const char *dir, const char *file)
{
  g_autofree char *v = read_hex (dir, file);

  if (v)
    json_object_set_string_member (o, member, v);
}

/* json_object_get_object_member() is critical about missing members. */
static JsonObject *
member_object (JsonObject *o, const char *name)
{
  return json_object_has_member (o, name) ? json_object_get_object_member (o, name) : NULL;
}

static Vgpu *
vgpu_for (Capture *cap, const char *pf, const char *framework)
{
  Vgpu *vg = g_hash_table_lookup (cap->vgpus, pf);

  if (!vg) {
    vg = g_new0 (Vgpu, 1);
    vg->framework = framework;
    vg->types = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
    vg->ids = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_insert (cap->vgpus, g_strdup (pf), vg);
  }
  return vg;
}

static void
vgpu_free (Vgpu *vg)
{
  g_hash_table_unref (vg->ids);
  g_ptr_array_unref (vg->types);
  g_free (vg);
}

/* Takes T; drops it when a type with its id is already known. */
static void
vgpu_add_type (Vgpu *vg, JsonObject *t)
{
  const char *id = json_object_get_string_member (t, "id");

  if (g_hash_table_contains (vg->ids, id)) {
    json_object_unref (t);
    return;
  }
  g_ptr_array_add (vg->types, t);
  g_hash_table_add (vg->ids, (gpointer) id);
}

/* The number after KEY in an mdev description such as
 * "num_heads=4, frl_config=45, framebuffer=1024M, ..., max_instance=32". */
static guint64
desc_number (const char *desc, const char *key)
{
  const char *p = desc ? strstr (desc, key) : NULL;

  return p ? g_ascii_strtoull (p + strlen (key), NULL, 10) : 0;
}

static void
capture_kernel (Capture *cap, JsonObject *k)
{
  g_autofree char *release = read_value (cap->root, "proc/sys/kernel/osrelease");
  g_autofree char *cmdline = read_value (cap->root, "proc/cmdline");
  g_autofree char *units_dir = g_build_filename (cap->root, "sys/class/iommu", NULL);
  g_autofree char *groups_dir = g_build_filename (cap->root, "sys/kernel/iommu_groups", NULL);
  g_autoptr (GPtrArray) units = list_dir (units_dir, str_cmp);
  g_autoptr (GPtrArray) groups = list_dir (groups_dir, natural_cmp);
  g_autofree char *config = NULL;
  const char *iommu = "none";

  if (release)
    json_object_set_string_member (k, "release", release);
  if (cmdline)
    json_object_set_string_member (k, "cmdline", cmdline);
  for (guint i = 0; units && i < units->len && g_str_equal (iommu, "none"); i++) {
    if (g_str_has_prefix (units->pdata[i], "dmar"))
      iommu = "intel";
    else if (g_str_has_prefix (units->pdata[i], "ivhd"))
      iommu = "amd";
  }
  /* Some other IOMMU (virtio-iommu, an SMMU): groups without dmar/ivhd. */
  if (g_str_equal (iommu, "none") && ((units && units->len) || (groups && groups->len)))
    iommu = "other";
  json_object_set_string_member (k, "iommu", iommu);
  for (guint i = 0; groups && i < groups->len; i++) {
    g_autofree char *dir = g_build_filename (groups_dir, groups->pdata[i], NULL);
    g_autofree char *type = read_value (dir, "type");
    if (type) {
      json_object_set_string_member (k, "iommu_group_type", type);
      break;
    }
  }
  /* With interrupt remapping on, the irq domains read "IR-IO-APIC",
   * "IR-PCI-MSI", ... in /proc/interrupts. */
  if (g_str_equal (iommu, "none")) {
    json_object_set_boolean_member (k, "interrupt_remapping", FALSE);
  } else {
    g_autofree char *path = g_build_filename (cap->root, "proc/interrupts", NULL);
    g_autofree char *irqs = read_file (path, READ_MAX_BIG, NULL);
    if (irqs)
      json_object_set_boolean_member (k, "interrupt_remapping", strstr (irqs, "IR-") != NULL);
  }
  /* iommufd cdevs: the kernel's config says; failing that, a cdev node in
   * use proves it. Unknown otherwise. */
  if (release) {
    g_autofree char *path = g_strdup_printf ("%s/boot/config-%s", cap->root, release);
    config = read_file (path, READ_MAX_BIG, NULL);
  }
  if (config)
    json_object_set_boolean_member (k, "vfio_cdev", strstr (config, "\nCONFIG_VFIO_DEVICE_CDEV=y") != NULL);
  else if (exists (cap->root, "dev/vfio/devices"))
    json_object_set_boolean_member (k, "vfio_cdev", TRUE);
  /* nvidia_vgpu_vfio is the mdev-era vGPU manager; capture_host() also sets
   * this when it finds vGPU types. */
  json_object_set_boolean_member (k, "nvidia_vgpu_manager", exists (cap->root, "sys/module/nvidia_vgpu_vfio"));
}

static void
note_bound (Capture *cap, const char *driver, const char *vendor, const char *device, const char *override)
{
  GPtrArray *ids;
  g_autofree char *id = NULL;

  /* vfio-pci matches through driver_override, not its table: only functions
   * bound without one (new_id, vfio-pci.ids=) tell anything about its ids. */
  if (!driver || !vendor || !device || (g_str_equal (driver, "vfio-pci") && override))
    return;
  ids = g_hash_table_lookup (cap->bound, driver);
  if (!ids) {
    ids = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (cap->bound, g_strdup (driver), ids);
  }
  id = g_strdup_printf ("%s:%s", vendor, device);
  if (!g_ptr_array_find_with_equal_func (ids, id, g_str_equal, NULL))
    g_ptr_array_add (ids, g_steal_pointer (&id));
}

/* "1155 : NVIDIA L40S-1Q" (id first) or "NVIDIA A40-2Q  558" (name first):
 * both are reported from real hosts, so both are accepted. */
static gboolean
parse_creatable (const char *line, char **id, char **name, gboolean *name_first)
{
  const char *colon = strchr (line, ':');
  const char *p = line + strlen (line);

  if (colon) {
    g_autofree char *left = g_strstrip (g_strndup (line, colon - line));
    if (all_digits (left)) {
      *id = g_steal_pointer (&left);
      *name = g_strstrip (g_strdup (colon + 1));
      return TRUE;
    }
  }
  while (p > line && !g_ascii_isspace (p[-1]))
    p--;
  if (p > line && all_digits (p)) {
    *id = g_strdup (p);
    *name = g_strstrip (g_strndup (line, p - line));
    *name_first = TRUE;
    return TRUE;
  }
  return FALSE;
}

static void
capture_vendor_vfio (Capture *cap, const char *vf_dir)
{
  g_autofree char *pf = link_name (vf_dir, "physfn");
  g_autofree char *path = g_build_filename (vf_dir, "nvidia", "creatable_vgpu_types", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean first = TRUE;
  Vgpu *vg;

  if (!pf || access (path, F_OK) != 0)
    return;
  vg = vgpu_for (cap, pf, "vendor-vfio");
  text = read_file (path, READ_MAX, NULL);
  lines = g_strsplit (text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++) {
    char *line = g_strstrip (*l);
    g_autofree char *id = NULL, *name = NULL;
    JsonObject *t;

    if (!*line)
      continue;
    if (first && g_str_has_prefix (line, "ID")) {
      vg->header = TRUE;
      first = FALSE;
      continue;
    }
    first = FALSE;
    if (!parse_creatable (line, &id, &name, &vg->name_first) || !*name)
      continue;
    t = json_object_new ();
    json_object_set_string_member (t, "id", id);
    json_object_set_string_member (t, "name", name);
    vgpu_add_type (vg, t);
  }
}

static void
capture_mdev (Capture *cap)
{
  g_autofree char *bus_dir = g_build_filename (cap->root, "sys/class/mdev_bus", NULL);
  g_autoptr (GPtrArray) parents = list_dir (bus_dir, str_cmp);

  for (guint i = 0; parents && i < parents->len; i++) {
    const char *parent = parents->pdata[i];
    g_autofree char *pdir = g_build_filename (bus_dir, parent, NULL);
    g_autofree char *pf = link_name (pdir, "physfn");
    g_autofree char *tdir = g_build_filename (pdir, "mdev_supported_types", NULL);
    g_autoptr (GPtrArray) types = list_dir (tdir, natural_cmp);
    Vgpu *vg;

    if (!types)
      continue;
    /* Types on VFs (A40, A100) or on the GPU itself (T4 and older). */
    vg = vgpu_for (cap, pf ? pf : parent, pf ? "mdev-vf" : "mdev-pf");
    for (guint j = 0; j < types->len; j++) {
      g_autofree char *dir = g_build_filename (tdir, types->pdata[j], NULL);
      g_autofree char *name = read_value (dir, "name");
      g_autofree char *desc = read_value (dir, "description");
      g_autofree char *api = read_value (dir, "device_api");
      guint64 fb = desc_number (desc, "framebuffer="), max = desc_number (desc, "max_instance=");
      JsonObject *t = json_object_new ();

      json_object_set_string_member (t, "id", types->pdata[j]);
      if (name)
        json_object_set_string_member (t, "name", name);
      if (desc)
        json_object_set_string_member (t, "description", desc);
      if (api)
        json_object_set_string_member (t, "device_api", api);
      if (fb)
        json_object_set_int_member (t, "framebuffer_mb", (gint64) fb);
      if (max)
        json_object_set_int_member (t, "max_instance", (gint64) max);
      vgpu_add_type (vg, t);
    }
  }
}

/* "NVIDIA L40S-24Q" -> 24576: vendor-VFIO types show only a name. */
static guint64
name_framebuffer (const char *name)
{
  const char *dash = strrchr (name, '-');

  return dash && g_ascii_isdigit (dash[1]) ? g_ascii_strtoull (dash + 1, NULL, 10) * 1024 : 0;
}

static int
type_cmp (gconstpointer a, gconstpointer b)
{
  const char *x = json_object_get_string_member (*(JsonObject *const *) a, "id");
  const char *y = json_object_get_string_member (*(JsonObject *const *) b, "id");

  return natural_cmp (&x, &y);
}

/* The GPU's framebuffer is not in sysfs either: take the largest a type
 * implies (48Q x 1, 1B x 32, ...). */
static void
finish_vgpu (Vgpu *vg, JsonObject *pf)
{
  gboolean vendor = g_str_equal (vg->framework, "vendor-vfio");
  JsonObject *sriov = member_object (pf, "sriov");
  gint64 totalvfs = sriov ? json_object_get_int_member_with_default (sriov, "totalvfs", 0) : 0;
  JsonObject *v = json_object_new ();
  JsonArray *types = json_array_new ();
  gint64 gpu_fb = 0;

  g_ptr_array_sort (vg->types, type_cmp);
  for (guint i = 0; i < vg->types->len; i++) {
    JsonObject *t = vg->types->pdata[i];
    gint64 fb, max;
    if (vendor && !json_object_has_member (t, "framebuffer_mb") &&
        name_framebuffer (json_object_get_string_member (t, "name")))
      json_object_set_int_member (t, "framebuffer_mb", (gint64) name_framebuffer (json_object_get_string_member (t, "name")));
    fb = json_object_get_int_member_with_default (t, "framebuffer_mb", 0);
    max = json_object_get_int_member_with_default (t, "max_instance", 1);
    gpu_fb = MAX (gpu_fb, fb * max);
  }
  for (guint i = 0; vendor && i < vg->types->len; i++) {
    JsonObject *t = vg->types->pdata[i];
    gint64 fb = json_object_get_int_member_with_default (t, "framebuffer_mb", 0);
    if (fb > 0 && gpu_fb > 0)
      json_object_set_int_member (t, "max_instance", totalvfs > 0 ? MIN (gpu_fb / fb, totalvfs) : gpu_fb / fb);
  }
  json_object_set_string_member (v, "framework", vg->framework);
  if (gpu_fb > 0)
    json_object_set_int_member (v, "framebuffer_mb", gpu_fb);
  if (vendor) {
    json_object_set_string_member (v, "creatable_format", vg->name_first ? "name-first" : "id-first");
    json_object_set_boolean_member (v, "creatable_header", vg->header);
  }
  for (guint i = 0; i < vg->types->len; i++)
    json_array_add_object_element (types, json_object_ref (vg->types->pdata[i]));
  json_object_set_array_member (v, "types", types);
  json_object_set_object_member (pf, "vgpu", v);
}

static void
capture_bridge (JsonObject *o, const char *dir, const guint8 *config, gsize len, const char *cls)
{
  JsonObject *br;
  gint64 secondary = -1, subordinate = -1;

  if (config && len > 0x1a) {
    if ((config[0x0e] & 0x7f) != 1)   /* header type 1: PCI-to-PCI bridge */
      return;
    secondary = config[0x19];
    subordinate = config[0x1a];
  } else if (cls && g_str_has_prefix (cls, "0604")) {
    /* No config space to read: pci_bus/ names the secondary bus. */
    g_autofree char *bus_dir = g_build_filename (dir, "pci_bus", NULL);
    g_autoptr (GPtrArray) buses = list_dir (bus_dir, str_cmp);
    const char *colon = buses && buses->len ? strrchr (buses->pdata[0], ':') : NULL;
    if (!colon)
      return;
    secondary = subordinate = (gint64) g_ascii_strtoull (colon + 1, NULL, 16);
  } else {
    return;
  }
  br = json_object_new ();
  json_object_set_int_member (br, "secondary", secondary);
  json_object_set_int_member (br, "subordinate", subordinate);
  json_object_set_object_member (o, "bridge", br);
}

static void
capture_nvidia (Capture *cap, JsonObject *o, const char *bdf)
{
  g_autofree char *path = g_build_filename (cap->root, "proc/driver/nvidia/gpus", bdf, "information", NULL);
  g_autofree char *text = read_file (path, READ_MAX, NULL);
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  /* "Model: \t\t NVIDIA A40", "Device Minor: \t 0" */
  for (char **l = lines; *l; l++) {
    char *colon = strchr (*l, ':');
    const char *key, *value;
    if (!colon)
      continue;
    *colon = '\0';
    key = g_strstrip (*l);
    value = g_strstrip (colon + 1);
    if (g_str_equal (key, "Device Minor") && all_digits (value))
      json_object_set_int_member (o, "nvidia_minor", g_ascii_strtoll (value, NULL, 10));
    else if (g_str_equal (key, "Model") && *value)
      json_object_set_string_member (o, "nvidia_model", value);
  }
}

static void
capture_drm (JsonObject *o, const char *dir)
{
  g_autofree char *drm_dir = g_build_filename (dir, "drm", NULL);
  g_autoptr (GPtrArray) names = list_dir (drm_dir, natural_cmp);
  JsonObject *drm = json_object_new ();

  for (guint i = 0; names && i < names->len; i++) {
    const char *n = names->pdata[i];
    if (g_str_has_prefix (n, "card") && all_digits (n + 4) && !json_object_has_member (drm, "card"))
      json_object_set_int_member (drm, "card", g_ascii_strtoll (n + 4, NULL, 10));
    else if (g_str_has_prefix (n, "renderD") && all_digits (n + 7) && !json_object_has_member (drm, "render"))
      json_object_set_int_member (drm, "render", g_ascii_strtoll (n + 7, NULL, 10));
  }
  if (json_object_get_size (drm))
    json_object_set_object_member (o, "drm", drm);
  else
    json_object_unref (drm);
}

static void
capture_sriov (Capture *cap, JsonObject *o, const char *dir, const char *driver)
{
  JsonObject *sr;
  gint64 v;
  g_autofree char *autoprobe = read_value (dir, "sriov_drivers_autoprobe");
  g_autofree char *vf0 = g_build_filename (dir, "virtfn0", NULL);
  g_autofree char *vf_device = NULL;

  if (!read_int (dir, "sriov_totalvfs", &v))
    return;
  sr = json_object_new ();
  json_object_set_int_member (sr, "totalvfs", v);
  if (read_int (dir, "sriov_numvfs", &v)) {
    json_object_set_int_member (sr, "numvfs", v);
    if (v > 0 && driver)
      g_hash_table_add (cap->sriov_drivers, g_strdup (driver));
  }
  if (read_int (dir, "sriov_offset", &v))
    json_object_set_int_member (sr, "offset", v);
  if (read_int (dir, "sriov_stride", &v))
    json_object_set_int_member (sr, "stride", v);
  vf_device = read_hex (dir, "sriov_vf_device");   /* printed as %x: "10" for 0010 */
  if (vf_device) {
    g_autofree char *padded = g_strdup_printf ("%04" G_GINT64_MODIFIER "x", g_ascii_strtoll (vf_device, NULL, 16));
    json_object_set_string_member (sr, "vf_device", padded);
  }
  /* A VF's class is only visible once VFs exist. */
  set_hex (sr, "vf_class", vf0, "class");
  if (autoprobe)
    json_object_set_boolean_member (sr, "drivers_autoprobe", g_str_equal (autoprobe, "1"));
  json_object_set_object_member (o, "sriov", sr);
}

/* The parent bridge is the directory above the function in sys/devices. */
static char *
parent_bdf (const char *link)
{
  g_autofree char *target = g_file_read_link (link, NULL);
  g_autofree char *link_dir = g_path_get_dirname (link);
  g_autofree char *real = NULL, *up = NULL, *name = NULL;

  if (!target)
    return NULL;
  real = g_canonicalize_filename (target, link_dir);
  up = g_path_get_dirname (real);
  name = g_path_get_basename (up);
  return is_bdf (name) ? g_steal_pointer (&name) : NULL;
}

/* One function, or NULL for a VF (recorded through its PF instead). */
static JsonObject *
capture_function (Capture *cap, const char *devices_dir, const char *bdf)
{
  g_autofree char *dir = g_build_filename (devices_dir, bdf, NULL);
  g_autofree char *vendor = read_hex (dir, "vendor"), *device = read_hex (dir, "device");
  g_autofree char *cls = read_hex (dir, "class");
  g_autofree char *driver = link_name (dir, "driver");
  g_autofree char *override = read_value (dir, "driver_override");
  g_autofree char *parent = NULL, *group = NULL, *boot_vga = NULL, *config_path = NULL, *config = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  JsonArray *consumers;
  JsonObject *o;
  gsize config_len = 0;
  gint64 v;

  if (override && g_str_equal (override, "(null)"))
    g_clear_pointer (&override, g_free);
  note_bound (cap, driver, vendor, device, override);
  if (exists (dir, "physfn")) {
    capture_vendor_vfio (cap, dir);
    return NULL;
  }

  o = json_object_new ();
  json_object_set_string_member (o, "bdf", bdf);
  parent = parent_bdf (dir);
  if (parent)
    json_object_set_string_member (o, "parent", parent);
  else
    json_object_set_null_member (o, "parent");
  if (vendor)
    json_object_set_string_member (o, "vendor", vendor);
  if (device)
    json_object_set_string_member (o, "device", device);
  set_hex (o, "subsystem_vendor", dir, "subsystem_vendor");
  set_hex (o, "subsystem_device", dir, "subsystem_device");
  if (cls)
    json_object_set_string_member (o, "class", cls);
  set_hex (o, "revision", dir, "revision");

  config_path = g_build_filename (dir, "config", NULL);
  config = read_file (config_path, 4096, &config_len);
  capture_bridge (o, dir, (const guint8 *) config, config ? config_len : 0, cls);
  if (config && config_len >= 64) {
    GString *hex = g_string_sized_new (config_len * 2);
    for (gsize i = 0; i < config_len; i++)
      g_string_append_printf (hex, "%02x", (guint8) config[i]);
    g_hash_table_insert (cap->configs, g_strdup (bdf), g_string_free (hex, FALSE));
  }

  if (driver)
    json_object_set_string_member (o, "driver", driver);
  else
    json_object_set_null_member (o, "driver");
  if (override)
    json_object_set_string_member (o, "driver_override", override);
  else
    json_object_set_null_member (o, "driver_override");
  group = link_name (dir, "iommu_group");
  if (group && all_digits (group))
    json_object_set_int_member (o, "iommu_group", g_ascii_strtoll (group, NULL, 10));
  if (read_int (dir, "numa_node", &v))
    json_object_set_int_member (o, "numa_node", v);
  boot_vga = read_value (dir, "boot_vga");
  if (boot_vga)
    json_object_set_boolean_member (o, "boot_vga", g_str_equal (boot_vga, "1"));

  consumers = json_array_new ();
  entries = list_dir (dir, str_cmp);
  for (guint i = 0; entries && i < entries->len; i++)
    if (g_str_has_prefix (entries->pdata[i], "consumer:pci:"))
      json_array_add_string_element (consumers, (char *) entries->pdata[i] + strlen ("consumer:pci:"));
  if (json_array_get_length (consumers))
    json_object_set_array_member (o, "consumers", consumers);
  else
    json_array_unref (consumers);

  capture_nvidia (cap, o, bdf);
  capture_drm (o, dir);
  capture_sriov (cap, o, dir, driver);
  return o;
}

/* A bridge that shares its IOMMU group with a function below it does not
 * isolate what is below it (no ACS, or a PCIe-to-PCI bridge): pci_device_group()
 * put them together, and will do the same with VFs created there later. */
static void
mark_non_isolating (Capture *cap, JsonArray *devices)
{
  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *o = json_array_get_object_element (devices, i);
    const char *parent = json_object_get_string_member_with_default (o, "parent", NULL);
    JsonObject *up = parent ? g_hash_table_lookup (cap->listed, parent) : NULL;
    JsonObject *bridge = up ? member_object (up, "bridge") : NULL;

    if (bridge && json_object_has_member (o, "iommu_group") && json_object_has_member (up, "iommu_group") &&
        json_object_get_int_member (o, "iommu_group") == json_object_get_int_member (up, "iommu_group"))
      json_object_set_boolean_member (bridge, "acs", FALSE);
  }
}

static JsonArray *
capture_drivers (Capture *cap)
{
  g_autofree char *drivers_dir = g_build_filename (cap->root, "sys/bus/pci/drivers", NULL);
  g_autoptr (GPtrArray) names = list_dir (drivers_dir, str_cmp);
  JsonArray *drivers = json_array_new ();

  for (guint i = 0; names && i < names->len; i++) {
    const char *name = names->pdata[i];
    g_autofree char *dir = g_build_filename (drivers_dir, name, NULL);
    g_autofree char *module = link_name (dir, "module");
    GPtrArray *bound = g_hash_table_lookup (cap->bound, name);
    gboolean vfio = g_str_equal (name, "vfio-pci");
    JsonObject *d = json_object_new ();

    json_object_set_string_member (d, "name", name);
    if (module)
      json_object_set_string_member (d, "module", module);
    else
      json_object_set_null_member (d, "module");   /* built in */
    if (bound || !vfio) {
      JsonArray *ids = json_array_new ();
      for (guint j = 0; bound && j < bound->len; j++)
        json_array_add_string_element (ids, bound->pdata[j]);
      json_object_set_array_member (d, "ids", ids);
    }
    if (vfio)
      json_object_set_boolean_member (d, "vfio", TRUE);
    if (g_hash_table_contains (cap->sriov_drivers, name))
      json_object_set_boolean_member (d, "sriov_configure", TRUE);
    json_array_add_object_element (drivers, d);
  }
  return drivers;
}

static void
capture_clear (Capture *cap)
{
  g_free (cap->root);
  g_hash_table_unref (cap->listed);
  g_hash_table_unref (cap->configs);
  g_hash_table_unref (cap->bound);
  g_hash_table_unref (cap->sriov_drivers);
  g_hash_table_unref (cap->vgpus);
}

char *
sim_capture_to_json (const char *root, GError **error)
{
  Capture cap = {
    /* Absolute, so that links resolve against it (g_canonicalize_filename). */
    .root = g_canonicalize_filename (root && *root ? root : "/", NULL),
    .listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
    .configs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .bound = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref),
    .sriov_drivers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
    .vgpus = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) vgpu_free),
  };
  g_autofree char *devices_dir = g_build_filename (cap.root, "sys/bus/pci/devices", NULL);
  g_autoptr (GPtrArray) bdfs = list_dir (devices_dir, str_cmp);
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL, *description = NULL;
  JsonObject *top, *kernel;
  JsonArray *devices;
  GHashTableIter iter;
  gpointer key, value;

  if (!bdfs) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "Cannot read %s: %s", devices_dir,
                 g_strerror (e));
    capture_clear (&cap);
    return NULL;
  }

  top = json_object_new ();
  kernel = json_object_new ();
  json_object_set_string_member (top, "name", "captured");
  description = g_strdup_printf ("Captured with gpuvirt-simfs --capture from %s. Driver ids list only the "
                                 "functions bound at capture time; processes are not recorded.", cap.root);
  json_object_set_string_member (top, "description", description);
  json_object_set_object_member (top, "kernel", kernel);
  capture_kernel (&cap, kernel);

  devices = json_array_new ();
  for (guint i = 0; i < bdfs->len; i++) {
    JsonObject *o = capture_function (&cap, devices_dir, bdfs->pdata[i]);
    if (o) {
      g_hash_table_insert (cap.listed, g_strdup (bdfs->pdata[i]), o);
      json_array_add_object_element (devices, o);
    }
  }
  mark_non_isolating (&cap, devices);
  capture_mdev (&cap);
  g_hash_table_iter_init (&iter, cap.vgpus);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    JsonObject *pf = g_hash_table_lookup (cap.listed, key);
    if (pf)
      finish_vgpu (value, pf);
  }
  if (g_hash_table_size (cap.vgpus))
    json_object_set_boolean_member (kernel, "nvidia_vgpu_manager", TRUE);
  /* Config space last: it is long, and nobody reads it by eye. */
  g_hash_table_iter_init (&iter, cap.configs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_string_member (g_hash_table_lookup (cap.listed, key), "config", value);

  json_object_set_array_member (top, "drivers", capture_drivers (&cap));
  json_object_set_array_member (top, "devices", devices);
  json_object_set_array_member (top, "processes", json_array_new ());

  node = json_node_init_object (json_node_alloc (), top);
  json_object_unref (top);
  gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  capture_clear (&cap);
  return g_strconcat (text, "\n", NULL);
}
