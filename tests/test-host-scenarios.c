/* The host model (service/host-*.c) against every simulated scenario: the
 * model read from the mount must say what the scenario JSON defines, device
 * by device, before and after the test changes the host through the mount
 * (VFs enabled, vfio-pci bound, vGPU types set, mdevs created). After every
 * change, the refreshed model must also equal a model scanned from scratch. */
#include "host/model.h"
#include "sim-mount.h"

#include <json-glib/json-glib.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char *parent;  /* BDF */
  char *type_id;
} CreatedMdev;

typedef struct {
  const char *name;
  SimMount *mount;
  JsonParser *parser;
  JsonObject *scenario;
  GHashTable *json_devs;      /* BDF → JsonObject of scenario devices */
  GvHost *host;
  /* what the test did to the host */
  GHashTable *numvfs;         /* PF BDF → GUINT (VFs enabled now) */
  GHashTable *vf_types;       /* VF BDF → GUINT (current_vgpu_type set) */
  GHashTable *mdevs;          /* UUID → CreatedMdev */
  GHashTable *vfio_bound;     /* BDFs bound to vfio-pci by the test */
  GPtrArray *extra_classes;   /* class match strings made managed */
  /* expectations per scenario */
  GHashTable *companions;     /* GPU BDF → "a,b,c" */
  GHashTable *hwdb;           /* modalias → GHashTable of KEY → VALUE */
} Ctx;

static void
created_mdev_free (CreatedMdev *m)
{
  g_free (m->parent);
  g_free (m->type_id);
  g_free (m);
}

/* ---- JSON helpers ---- */

static const char *
jstr (JsonObject *o, const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  return json_node_get_string (n);
}

static gint64
jint (JsonObject *o, const char *member, gint64 dflt)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return dflt;
  return json_node_get_int (n);
}

static gboolean
jbool (JsonObject *o, const char *member, gboolean dflt)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return dflt;
  return json_node_get_boolean (n);
}

static JsonObject *
jobj (JsonObject *o, const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (!n || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  return json_node_get_object (n);
}

static JsonArray *
jarr (JsonObject *o, const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (!n || !JSON_NODE_HOLDS_ARRAY (n))
    return NULL;
  return json_node_get_array (n);
}

static guint
jhex (JsonObject *o, const char *member, guint dflt)
{
  const char *s = jstr (o, member);
  return s ? (guint) g_ascii_strtoull (s, NULL, 16) : dflt;
}

/* ---- hwdb, asked through its own tool ---- */

static char *
hwdb_value (Ctx *ctx, const char *modalias, const char *key)
{
  GHashTable *props = g_hash_table_lookup (ctx->hwdb, modalias);

  if (!props) {
    const char *argv[] = { "systemd-hwdb", "query", modalias, NULL };
    g_autofree char *out = NULL;
    g_auto (GStrv) lines = NULL;
    g_autoptr (GError) error = NULL;
    int status = 0;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, &out, NULL, &status, &error);
    g_assert_no_error (error);
    props = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    lines = g_strsplit (out ? out : "", "\n", -1);
    for (guint i = 0; lines[i]; i++) {
      char *eq = strchr (lines[i], '=');
      if (eq)
        g_hash_table_insert (props, g_strndup (lines[i], eq - lines[i]), g_strdup (eq + 1));
    }
    g_hash_table_insert (ctx->hwdb, g_strdup (modalias), props);
  }
  return g_strdup (g_hash_table_lookup (props, key) ? g_hash_table_lookup (props, key) : "");
}

static void
check_names (Ctx *ctx, const GvHostFunction *fn)
{
  g_autofree char *v = g_strdup_printf ("pci:v%08X", fn->vendor_id);
  g_autofree char *vd = g_strdup_printf ("pci:v%08Xd%08X", fn->vendor_id, fn->device_id);
  g_autofree char *vendor = hwdb_value (ctx, v, "ID_VENDOR_FROM_DATABASE");
  g_autofree char *model = hwdb_value (ctx, vd, "ID_MODEL_FROM_DATABASE");

  g_assert_cmpstr (fn->vendor_name, ==, vendor);
  g_assert_cmpstr (fn->model_name, ==, model);
}

/* ---- setup ---- */

static Ctx *
ctx_new (const char *name)
{
  Ctx *ctx = g_new0 (Ctx, 1);
  g_autofree char *file = g_strdup_printf ("%s/%s.json", SCENARIO_DIR, name);
  g_autoptr (GError) error = NULL;
  JsonArray *devices;

  ctx->name = name;
  ctx->parser = json_parser_new ();
  json_parser_load_from_file (ctx->parser, file, &error);
  g_assert_no_error (error);
  ctx->scenario = json_node_get_object (json_parser_get_root (ctx->parser));
  ctx->json_devs = g_hash_table_new (g_str_hash, g_str_equal);
  devices = jarr (ctx->scenario, "devices");
  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    g_hash_table_insert (ctx->json_devs, (gpointer) jstr (d, "bdf"), d);
  }
  ctx->numvfs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    JsonObject *sriov = jobj (d, "sriov");
    if (sriov)
      g_hash_table_insert (ctx->numvfs, g_strdup (jstr (d, "bdf")), GUINT_TO_POINTER (jint (sriov, "numvfs", 0)));
  }
  ctx->vf_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ctx->mdevs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) created_mdev_free);
  ctx->vfio_bound = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ctx->extra_classes = g_ptr_array_new_with_free_func (g_free);
  ctx->companions = g_hash_table_new (g_str_hash, g_str_equal);
  ctx->hwdb = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);

  ctx->mount = sim_mount_start (name);
  ctx->host = gv_host_new (ctx->mount->root, &error);
  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (ctx->host, NULL, &error));
  g_assert_no_error (error);
  return ctx;
}

static void
ctx_free (Ctx *ctx)
{
  gv_host_free (ctx->host);
  sim_mount_stop (ctx->mount);
  g_hash_table_unref (ctx->json_devs);
  g_object_unref (ctx->parser);
  g_hash_table_unref (ctx->numvfs);
  g_hash_table_unref (ctx->vf_types);
  g_hash_table_unref (ctx->mdevs);
  g_hash_table_unref (ctx->vfio_bound);
  g_ptr_array_unref (ctx->extra_classes);
  g_hash_table_unref (ctx->companions);
  g_hash_table_unref (ctx->hwdb);
  g_free (ctx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ctx, ctx_free)

static char *
mount_path (Ctx *ctx, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static char *
mount_path (Ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *rel = NULL;

  va_start (ap, fmt);
  rel = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return sim_mount_path (ctx->mount, rel);
}

static void
write_mount (Ctx *ctx, const char *rel, const char *data)
{
  g_autofree char *path = sim_mount_path (ctx->mount, rel);
  int err = sim_write_file (path, data);
  if (err)
    g_error ("writing “%s” to %s: %s", data, rel, g_strerror (err));
}

/* ---- expectations from the scenario ---- */

/* The VFs a PF has with NUMVFS enabled: routing ID + offset + i * stride. */
static GPtrArray *
expected_vfs (JsonObject *pf, guint numvfs)
{
  GPtrArray *vfs = g_ptr_array_new_with_free_func (g_free);
  JsonObject *sriov = jobj (pf, "sriov");
  GvHostBdf a;
  guint rid, offset, stride;

  g_assert_true (gv_host_bdf_parse (jstr (pf, "bdf"), &a));
  rid = a.bus << 8 | a.slot << 3 | a.function;
  offset = jint (sriov, "offset", 1);
  stride = jint (sriov, "stride", 1);
  for (guint i = 0; i < numvfs; i++) {
    guint r = rid + offset + i * stride;
    g_ptr_array_add (vfs, g_strdup_printf ("%04x:%02x:%02x.%u", a.domain, r >> 8, (r >> 3) & 0x1f, r & 7));
  }
  return vfs;
}

static guint
numvfs_of (Ctx *ctx, const char *pf)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (ctx->numvfs, pf));
}

/* VF BDF → its PF's JSON object. */
static GHashTable *
vf_map (Ctx *ctx)
{
  GHashTable *map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, ctx->json_devs);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autoptr (GPtrArray) vfs = NULL;
    if (!jobj (value, "sriov"))
      continue;
    vfs = expected_vfs (value, numvfs_of (ctx, key));
    for (guint i = 0; i < vfs->len; i++)
      g_hash_table_insert (map, g_strdup (vfs->pdata[i]), value);
  }
  return map;
}

static gboolean
parent_isolates (Ctx *ctx, JsonObject *dev)
{
  JsonObject *parent = g_hash_table_lookup (ctx->json_devs, jstr (dev, "parent") ? jstr (dev, "parent") : "");
  return !parent || jbool (jobj (parent, "bridge"), "acs", TRUE);
}

static const char *
expected_framework (Ctx *ctx, JsonObject *gpu)
{
  const char *fw = jstr (jobj (gpu, "vgpu"), "framework");

  if (!fw)
    return "none";
  /* the framework of an SR-IOV GPU shows once its VFs exist */
  if ((g_str_equal (fw, "mdev-vf") || g_str_equal (fw, "vendor-vfio")) && numvfs_of (ctx, jstr (gpu, "bdf")) == 0)
    return "pending";
  return fw;
}

static JsonObject *
find_type (JsonObject *gpu, const char *id)
{
  JsonArray *types = jarr (jobj (gpu, "vgpu"), "types");
  for (guint i = 0; i < json_array_get_length (types); i++) {
    JsonObject *t = json_array_get_object_element (types, i);
    if (g_str_equal (jstr (t, "id"), id))
      return t;
  }
  return NULL;
}

/* How many more vGPUs of TYPE the GPU takes, from what the test made:
 * framebuffer shared, max_instance per type, one type per GPU unless
 * heterogeneous (the placement rules of SCENARIOS.md). */
static guint
capacity (Ctx *ctx, JsonObject *gpu, JsonObject *type)
{
  JsonObject *vgpu = jobj (gpu, "vgpu");
  g_autoptr (GHashTable) vfs = vf_map (ctx);
  guint same = 0, fb_used = 0, fb_total = jint (vgpu, "framebuffer_mb", 0);
  guint fb = jint (type, "framebuffer_mb", 0), max = jint (type, "max_instance", 0);
  gboolean other = FALSE;
  GHashTableIter iter;
  gpointer key, value;
  guint by_fb, by_max;

  g_hash_table_iter_init (&iter, ctx->mdevs);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    CreatedMdev *m = value;
    JsonObject *owner = g_hash_table_lookup (ctx->json_devs, m->parent);
    JsonObject *t;
    if (!owner)
      owner = g_hash_table_lookup (vfs, m->parent);
    if (owner != gpu)
      continue;
    t = find_type (gpu, m->type_id);
    fb_used += jint (t, "framebuffer_mb", 0);
    if (t == type)
      same++;
    else
      other = TRUE;
  }
  g_hash_table_iter_init (&iter, ctx->vf_types);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autofree char *id = g_strdup_printf ("%u", GPOINTER_TO_UINT (value));
    JsonObject *t;
    if (g_hash_table_lookup (vfs, key) != gpu)
      continue;
    t = find_type (gpu, id);
    fb_used += jint (t, "framebuffer_mb", 0);
    if (t == type)
      same++;
    else
      other = TRUE;
  }
  if (other && !jbool (vgpu, "heterogeneous", FALSE))
    return 0;
  by_fb = fb == 0 ? G_MAXUINT : (fb_total > fb_used ? (fb_total - fb_used) / fb : 0);
  by_max = max > same ? max - same : 0;
  return MIN (by_fb, by_max);
}

static gboolean
parent_has_mdev (Ctx *ctx, const char *parent)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, ctx->mdevs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (((CreatedMdev *) value)->parent, parent))
      return TRUE;
  return FALSE;
}

static void
check_mdev_types (Ctx *ctx, const GvHostFunction *fn, JsonObject *gpu, gboolean on_vf)
{
  JsonArray *types = jarr (jobj (gpu, "vgpu"), "types");

  g_assert_true (fn->mdev_parent);
  g_assert_nonnull (fn->mdev_types);
  g_assert_cmpuint (fn->mdev_types->len, ==, json_array_get_length (types));
  for (guint i = 0; i < fn->mdev_types->len; i++) {
    const GvHostMdevType *t = fn->mdev_types->pdata[i];
    JsonObject *jt = find_type (gpu, t->id);
    g_autoptr (GPtrArray) devices = g_ptr_array_new ();
    GHashTableIter iter;
    gpointer key, value;
    guint avail;
    g_autofree char *expect_fb = NULL;

    g_assert_nonnull (jt);
    g_assert_cmpstr (t->name, ==, jstr (jt, "name"));
    g_assert_cmpstr (t->description, ==, jstr (jt, "description"));
    g_assert_cmpstr (t->device_api, ==, jstr (jt, "device_api"));
    g_assert_cmpuint (t->framebuffer_mb, ==, jint (jt, "framebuffer_mb", 0));
    g_assert_cmpint (t->max_instance, ==, jint (jt, "max_instance", -1));
    expect_fb = g_strdup_printf ("%" G_GINT64_FORMAT "M", jint (jt, "framebuffer_mb", 0));
    g_assert_cmpstr (gv_host_mdev_type_get_field (t, "framebuffer"), ==, expect_fb);
    g_assert_nonnull (gv_host_mdev_type_get_field (t, "num_heads"));
    /* the name says the same size as the description */
    g_assert_cmpuint (t->parsed.framebuffer_mb, ==, t->framebuffer_mb);
    g_assert_true (g_str_has_suffix (jstr (jt, "name"), t->parsed.short_name));

    avail = capacity (ctx, gpu, jt);
    if (on_vf)
      avail = parent_has_mdev (ctx, fn->bdf) ? 0 : MIN (avail, 1);
    g_assert_cmpint (t->available_instances, ==, (int) avail);

    g_hash_table_iter_init (&iter, ctx->mdevs);
    while (g_hash_table_iter_next (&iter, &key, &value)) {
      CreatedMdev *m = value;
      if (g_str_equal (m->parent, fn->bdf) && g_str_equal (m->type_id, t->id))
        g_ptr_array_add (devices, key);
    }
    g_ptr_array_sort (devices, gv_sysfs_compare_names);
    g_ptr_array_add (devices, NULL);
    g_assert_cmpstrv (t->devices, (const char *const *) devices->pdata);
  }
}

static void
check_vendor_vfio (Ctx *ctx, const GvHostFunction *vf, JsonObject *gpu)
{
  JsonArray *types = jarr (jobj (gpu, "vgpu"), "types");
  guint current = GPOINTER_TO_UINT (g_hash_table_lookup (ctx->vf_types, vf->bdf));
  guint n = 0;

  g_assert_nonnull (vf->vendor_vfio);
  g_assert_true (vf->vendor_vfio->current_known);
  g_assert_cmpuint (vf->vendor_vfio->current_type, ==, current);
  /* a VF with a vGPU offers nothing more; the others what still fits */
  for (guint i = 0; current == 0 && i < json_array_get_length (types); i++) {
    JsonObject *jt = json_array_get_object_element (types, i);
    const GvHostVendorType *t;
    if (capacity (ctx, gpu, jt) == 0)
      continue;
    g_assert_cmpuint (n, <, vf->vendor_vfio->creatable->len);
    t = vf->vendor_vfio->creatable->pdata[n++];
    g_assert_cmpuint (t->id, ==, g_ascii_strtoull (jstr (jt, "id"), NULL, 10));
    g_assert_cmpstr (t->name, ==, jstr (jt, "name"));
    g_assert_cmpuint (t->parsed.framebuffer_mb, ==, jint (jt, "framebuffer_mb", 0));
    g_assert_true (g_str_has_suffix (t->name, t->parsed.short_name));
    g_assert_true (t->parsed.series != '\0' && strchr ("ABCQ", t->parsed.series) != NULL);
  }
  g_assert_cmpuint (vf->vendor_vfio->creatable->len, ==, n);
}

static gboolean
extra_managed (Ctx *ctx, guint32 class_code)
{
  for (guint i = 0; i < ctx->extra_classes->len; i++) {
    GvHostClassMatch m;
    g_assert_true (gv_host_class_match_parse (ctx->extra_classes->pdata[i], &m));
    if ((class_code & m.mask) == m.value)
      return TRUE;
  }
  return FALSE;
}

/* The GPU or extra function whose own set BDF belongs to, or NULL. */
static const char *
expected_unit (Ctx *ctx, const char *bdf, GHashTable *vfs)
{
  JsonObject *d = g_hash_table_lookup (ctx->json_devs, bdf);
  JsonObject *pf = g_hash_table_lookup (vfs, bdf);
  GHashTableIter iter;
  gpointer key, value;

  if (pf)
    return expected_unit (ctx, jstr (pf, "bdf"), vfs);
  if (jhex (d, "class", 0) >> 16 == 0x03 || extra_managed (ctx, jhex (d, "class", 0)))
    return bdf;
  g_hash_table_iter_init (&iter, ctx->companions);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_auto (GStrv) list = g_strsplit (value, ",", -1);
    if (g_strv_contains ((const char *const *) list, bdf))
      return key;
  }
  return NULL;
}

static int
expected_group (Ctx *ctx, const char *bdf, GHashTable *vfs)
{
  JsonObject *pf = g_hash_table_lookup (vfs, bdf);

  if (pf)
    return parent_isolates (ctx, pf) ? -2 /* a new group of its own */ : jint (pf, "iommu_group", -1);
  return jint (g_hash_table_lookup (ctx->json_devs, bdf), "iommu_group", -1);
}

/* Every function of the model against the scenario and what the test did. */
static void
check_model (Ctx *ctx)
{
  GPtrArray *devices = gv_host_get_devices (ctx->host);
  g_autoptr (GHashTable) vfs = vf_map (ctx);
  g_autoptr (GHashTable) json_groups = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) vf_groups = g_hash_table_new (g_direct_hash, g_direct_equal);
  JsonArray *procs = jarr (ctx->scenario, "processes");
  JsonObject *kernel = jobj (ctx->scenario, "kernel");
  const GvHostFacts *facts = gv_host_get_facts (ctx->host);
  const char *iommu = jstr (kernel, "iommu");

  g_assert_cmpuint (devices->len, ==, g_hash_table_size (ctx->json_devs) + g_hash_table_size (vfs));
  {
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init (&iter, ctx->json_devs);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_hash_table_add (json_groups, GINT_TO_POINTER (jint (value, "iommu_group", -1)));
  }

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    const GvHostFunction *fn = d->fn;
    JsonObject *j = g_hash_table_lookup (ctx->json_devs, fn->bdf);
    JsonObject *pf = g_hash_table_lookup (vfs, fn->bdf);
    JsonObject *gpu = pf ? pf : j;
    const char *unit = expected_unit (ctx, fn->bdf, vfs);
    g_autofree char *dir = mount_path (ctx, "sys/bus/pci/devices/%s", fn->bdf);
    g_autofree char *link = g_build_filename (dir, "driver", NULL);
    g_autofree char *raw_driver = sim_link_name (link);
    int group = expected_group (ctx, fn->bdf, vfs);
    gboolean vfio = g_hash_table_contains (ctx->vfio_bound, fn->bdf) || g_hash_table_contains (ctx->vf_types, fn->bdf);
    g_autoptr (GPtrArray) members = g_ptr_array_new ();
    g_autoptr (GPtrArray) foreign = g_ptr_array_new ();
    g_autoptr (GPtrArray) expect_holders = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) holders = NULL;
    g_autoptr (GError) error = NULL;

    g_test_message ("%s: %s", ctx->name, fn->bdf);
    g_assert_true (j || pf);
    check_names (ctx, fn);
    g_assert_cmpstr (fn->driver, ==, raw_driver ? raw_driver : "");
    g_assert_cmpstr (gv_host_function_state (fn), ==,
                     !*fn->driver ? "unbound" : g_str_equal (fn->driver, "vfio-pci") ? "vfio" : "host");

    if (j) {
      /* a function the scenario lists */
      JsonObject *sriov = jobj (j, "sriov");
      JsonObject *drm = jobj (j, "drm");
      JsonArray *consumers = jarr (j, "consumers");
      g_autoptr (GPtrArray) expect_drm = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) expect_consumers = g_ptr_array_new ();

      g_assert_cmphex (fn->vendor_id, ==, jhex (j, "vendor", 0));
      g_assert_cmphex (fn->device_id, ==, jhex (j, "device", 0));
      g_assert_cmphex (fn->subsystem_vendor_id, ==, jhex (j, "subsystem_vendor", 0));
      g_assert_cmphex (fn->subsystem_device_id, ==, jhex (j, "subsystem_device", 0));
      g_assert_cmphex (fn->class_code, ==, jhex (j, "class", 0));
      g_assert_cmphex (fn->revision, ==, jhex (j, "revision", 0));
      if (!g_hash_table_contains (ctx->vfio_bound, fn->bdf)) {
        g_assert_cmpstr (fn->driver, ==, jstr (j, "driver") ? jstr (j, "driver") : "");
        g_assert_cmpstr (fn->driver_override, ==, jstr (j, "driver_override"));
      } else {
        g_assert_cmpstr (fn->driver, ==, "vfio-pci");
        g_assert_cmpstr (fn->driver_override, ==, "vfio-pci");
      }
      g_assert_cmpint (fn->numa_node, ==, jint (j, "numa_node", -1));
      g_assert_cmpstr (fn->upstream_bridge, ==, jstr (j, "parent"));
      if ((fn->class_code >> 8) == 0x0300)
        g_assert_cmpint (fn->boot_vga, ==, jbool (j, "boot_vga", FALSE));
      else
        g_assert_cmpint (fn->boot_vga, ==, -1);
      g_assert_null (fn->physfn);

      g_assert_cmpint (fn->sriov_capable, ==, sriov != NULL);
      if (sriov) {
        g_autoptr (GPtrArray) expect = expected_vfs (j, numvfs_of (ctx, fn->bdf));
        g_assert_cmpuint (fn->sriov_totalvfs, ==, jint (sriov, "totalvfs", 0));
        g_assert_cmpuint (fn->sriov_numvfs, ==, numvfs_of (ctx, fn->bdf));
        g_ptr_array_add (expect, NULL);
        g_assert_cmpstrv (fn->vfs, (const char *const *) expect->pdata);
      } else {
        g_assert_cmpuint (fn->sriov_totalvfs, ==, 0);
        g_assert_cmpuint (g_strv_length (fn->vfs), ==, 0);
      }

      for (guint k = 0; consumers && k < json_array_get_length (consumers); k++)
        g_ptr_array_add (expect_consumers, (gpointer) json_array_get_string_element (consumers, k));
      g_ptr_array_sort (expect_consumers, gv_sysfs_compare_names);
      g_ptr_array_add (expect_consumers, NULL);
      g_assert_cmpstrv (fn->consumers, (const char *const *) expect_consumers->pdata);

      if (drm && !gv_host_driver_is_vfio (fn->driver) && *fn->driver) {
        g_ptr_array_add (expect_drm, g_strdup_printf ("/dev/dri/card%" G_GINT64_FORMAT, jint (drm, "card", 0)));
        g_ptr_array_add (expect_drm, g_strdup_printf ("/dev/dri/renderD%" G_GINT64_FORMAT, jint (drm, "render", 0)));
      }
      g_ptr_array_add (expect_drm, NULL);
      g_assert_cmpstrv (fn->drm_nodes, (const char *const *) expect_drm->pdata);
      if (g_str_equal (fn->driver, "nvidia") && jint (j, "nvidia_minor", -1) >= 0)
        g_assert_cmpint (fn->nvidia_minor, ==, jint (j, "nvidia_minor", -1));
      else
        g_assert_cmpint (fn->nvidia_minor, ==, -1);
    } else {
      /* a VF the test enabled */
      JsonObject *sriov = jobj (pf, "sriov");
      g_autofree char *sv_path = g_build_filename (dir, "subsystem_vendor", NULL);
      g_autofree char *rev_path = g_build_filename (dir, "revision", NULL);
      g_autofree char *sv = sim_read_file (sv_path);
      g_autofree char *rev = sim_read_file (rev_path);

      g_assert_cmpstr (fn->physfn, ==, jstr (pf, "bdf"));
      g_assert_cmphex (fn->vendor_id, ==, jhex (pf, "vendor", 0));
      g_assert_cmphex (fn->device_id, ==, jhex (sriov, "vf_device", 0));
      g_assert_cmphex (fn->class_code, ==, jhex (sriov, "vf_class", 0));
      g_assert_cmphex (fn->subsystem_vendor_id, ==, g_ascii_strtoull (sv, NULL, 16));
      g_assert_cmphex (fn->revision, ==, g_ascii_strtoull (rev, NULL, 16));
      g_assert_cmpint (fn->numa_node, ==, jint (pf, "numa_node", -1));
      g_assert_cmpstr (fn->upstream_bridge, ==, jstr (pf, "parent"));
      g_assert_cmpint (fn->boot_vga, ==, -1);
      g_assert_false (fn->sriov_capable);
      g_assert_cmpuint (g_strv_length (fn->vfs), ==, 0);
      g_assert_cmpuint (g_strv_length (fn->drm_nodes), ==, 0);
      g_assert_cmpint (fn->nvidia_minor, ==, -1);
      g_assert_null (fn->driver_override);
    }

    /* IOMMU group, its members and its VFIO node */
    if (group == -2) {
      /* a VF below an isolating bridge: a group of its own, new */
      g_assert_cmpint (fn->iommu_group, >=, 0);
      g_assert_false (g_hash_table_contains (json_groups, GINT_TO_POINTER (fn->iommu_group)));
      g_assert_false (g_hash_table_contains (vf_groups, GINT_TO_POINTER (fn->iommu_group)));
      g_hash_table_add (vf_groups, GINT_TO_POINTER (fn->iommu_group));
      g_assert_cmpuint (g_strv_length (d->group_members), ==, 1);
      g_assert_cmpstr (d->group_members[0], ==, fn->bdf);
    } else {
      GHashTableIter iter;
      gpointer key, value;

      g_assert_cmpint (fn->iommu_group, ==, group);
      if (group >= 0) {
        g_hash_table_iter_init (&iter, ctx->json_devs);
        while (g_hash_table_iter_next (&iter, &key, &value))
          if (jint (value, "iommu_group", -1) == group)
            g_ptr_array_add (members, key);
        g_hash_table_iter_init (&iter, vfs);
        while (g_hash_table_iter_next (&iter, &key, &value))
          if (expected_group (ctx, key, vfs) == group)
            g_ptr_array_add (members, key);
      }
      g_ptr_array_sort (members, gv_sysfs_compare_names);
      g_ptr_array_add (members, NULL);
      g_assert_cmpstrv (d->group_members, (const char *const *) members->pdata);
      g_ptr_array_remove_index (members, members->len - 1);
    }
    if (fn->iommu_group >= 0) {
      g_autofree char *node = g_strdup_printf ("/dev/vfio/%d", fn->iommu_group);
      g_autofree char *in_mount = mount_path (ctx, "dev/vfio/%d", fn->iommu_group);
      gboolean group_vfio = FALSE;
      for (guint k = 0; d->group_members[k]; k++)
        group_vfio |= g_hash_table_contains (ctx->vfio_bound, d->group_members[k]) ||
                      g_hash_table_contains (ctx->vf_types, d->group_members[k]);
      g_assert_cmpstr (d->vfio_group_node, ==, group_vfio ? node : NULL);
      g_assert_cmpint (g_file_test (in_mount, G_FILE_TEST_EXISTS), ==, group_vfio);
    } else {
      g_assert_null (d->vfio_group_node);
      g_assert_cmpuint (g_strv_length (d->group_members), ==, 0);
    }
    if (vfio && jbool (kernel, "vfio_cdev", TRUE)) {
      g_autofree char *rel = NULL;
      g_assert_nonnull (fn->vfio_cdev_node);
      g_assert_true (g_str_has_prefix (fn->vfio_cdev_node, "/dev/vfio/devices/vfio"));
      rel = mount_path (ctx, "%s", fn->vfio_cdev_node);
      g_assert_true (g_file_test (rel, G_FILE_TEST_EXISTS));
    } else {
      g_assert_null (fn->vfio_cdev_node);
    }

    /* classification */
    g_assert_cmpint (d->managed, ==, unit != NULL);
    if (!unit) {
      g_assert_cmpint (d->role, ==, GV_HOST_ROLE_UNMANAGED);
      g_assert_null (d->owner);
    } else if (pf) {
      g_assert_cmpint (d->role, ==, GV_HOST_ROLE_VF);
      g_assert_cmpstr (d->owner, ==, unit);
    } else if (g_str_equal (unit, fn->bdf)) {
      const char *companions = g_hash_table_lookup (ctx->companions, fn->bdf);
      g_autofree char *got = g_strjoinv (",", d->companions);
      g_assert_cmpint (d->role, ==, (fn->class_code >> 16) == 0x03 ? GV_HOST_ROLE_GPU : GV_HOST_ROLE_EXTRA);
      g_assert_null (d->owner);
      g_assert_cmpstr (got, ==, companions ? companions : "");
    } else {
      g_assert_cmpint (d->role, ==, GV_HOST_ROLE_COMPANION);
      g_assert_cmpstr (d->owner, ==, unit);
    }
    if (d->role != GV_HOST_ROLE_GPU && d->role != GV_HOST_ROLE_EXTRA)
      g_assert_cmpuint (g_strv_length (d->companions), ==, 0);

    /* group verdict: members that are neither its own nor bridges */
    for (guint k = 0; d->group_members[k]; k++) {
      const char *m = d->group_members[k];
      GvHostDevice *md = gv_host_lookup (ctx->host, m);
      const char *mu = expected_unit (ctx, m, vfs);
      gboolean own = g_str_equal (m, fn->bdf) || (unit && g_strcmp0 (mu, unit) == 0);
      g_assert_nonnull (md);
      if (!own && (md->fn->class_code >> 8) != 0x0604)
        g_ptr_array_add (foreign, (gpointer) m);
    }
    g_ptr_array_add (foreign, NULL);
    g_assert_cmpstrv (d->foreign, (const char *const *) foreign->pdata);
    g_assert_cmpstr (gv_host_verdict_to_string (d->verdict), ==,
                     fn->iommu_group < 0 ? "none" : foreign->len > 1 ? "shared" : "viable");

    /* vGPU */
    if (d->role == GV_HOST_ROLE_GPU || d->role == GV_HOST_ROLE_VF)
      g_assert_cmpstr (gv_host_framework_to_string (d->framework), ==, expected_framework (ctx, gpu));
    else
      g_assert_cmpint (d->framework, ==, GV_HOST_FRAMEWORK_NONE);
    {
      const char *fw = jstr (jobj (gpu, "vgpu"), "framework");
      gboolean pf_parent = j && g_strcmp0 (fw, "mdev-pf") == 0 && g_str_equal (fn->driver, "nvidia");
      gboolean vf_parent = pf && g_strcmp0 (fw, "mdev-vf") == 0 && g_str_equal (fn->driver, "nvidia");
      gboolean vendor = pf && g_strcmp0 (fw, "vendor-vfio") == 0 && g_str_equal (fn->driver, "nvidia");
      if (pf_parent || vf_parent)
        check_mdev_types (ctx, fn, gpu, vf_parent);
      else
        g_assert_false (fn->mdev_parent);
      if (vendor)
        check_vendor_vfio (ctx, fn, gpu);
      else
        g_assert_null (fn->vendor_vfio);
    }

    /* holders: the scenario's processes that hold one of its nodes */
    for (guint k = 0; procs && k < json_array_get_length (procs); k++) {
      JsonObject *proc = json_array_get_object_element (procs, k);
      JsonArray *files = jarr (proc, "files");
      for (guint f = 0; f < json_array_get_length (files); f++) {
        const char *file = json_array_get_string_element (files, f);
        g_autofree char *nv = fn->nvidia_minor >= 0 ? g_strdup_printf ("/dev/nvidia%d", fn->nvidia_minor) : NULL;
        if (g_strcmp0 (file, nv) == 0 || g_strv_contains ((const char *const *) fn->drm_nodes, file))
          g_ptr_array_add (expect_holders, g_strdup_printf ("%" G_GINT64_FORMAT " %s %s", jint (proc, "pid", 0),
                                                            jstr (proc, "comm"), file));
      }
    }
    holders = gv_host_get_holders (ctx->host, fn->bdf, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (holders->len, ==, expect_holders->len);
    g_ptr_array_sort (expect_holders, gv_sysfs_compare_names);
    for (guint k = 0; k < holders->len; k++) {
      const GvHostHolder *h = holders->pdata[k];
      g_autofree char *s = g_strdup_printf ("%d %s %s", h->pid, h->comm, h->node);
      g_assert_true (g_ptr_array_find_with_equal_func (expect_holders, s, g_str_equal, NULL));
    }
  }

  /* mdevs */
  {
    GPtrArray *mdevs = gv_host_get_mdevs (ctx->host);
    g_assert_cmpuint (mdevs->len, ==, g_hash_table_size (ctx->mdevs));
    for (guint i = 0; i < mdevs->len; i++) {
      const GvHostMdev *m = mdevs->pdata[i];
      CreatedMdev *c = g_hash_table_lookup (ctx->mdevs, m->uuid);
      g_autofree char *node = g_strdup_printf ("/dev/vfio/%d", m->iommu_group);
      g_assert_nonnull (c);
      g_assert_cmpstr (m->type_id, ==, c->type_id);
      g_assert_cmpstr (m->parent, ==, c->parent);
      g_assert_cmpint (m->iommu_group, >=, 0);
      g_assert_cmpstr (m->vfio_group_node, ==, node);
      if (jbool (kernel, "vfio_cdev", TRUE))
        g_assert_true (g_str_has_prefix (m->vfio_cdev_node, "/dev/vfio/devices/vfio"));
      else
        g_assert_null (m->vfio_cdev_node);
    }
  }

  /* host-wide facts */
  g_assert_cmpstr (facts->kernel_cmdline, ==, jstr (kernel, "cmdline"));
  g_assert_cmpstr (facts->kernel_release, ==, jstr (kernel, "release"));
  g_assert_cmpint (facts->iommu_present, ==, !g_str_equal (iommu, "none"));
  g_assert_cmpint (facts->iommu_groups, ==, !g_str_equal (iommu, "none"));
  if (g_str_equal (iommu, "intel"))
    g_assert_cmpstrv (facts->iommu_units, ((const char *const[]) { "dmar0", NULL }));
  else if (g_str_equal (iommu, "amd"))
    g_assert_cmpstrv (facts->iommu_units, ((const char *const[]) { "ivhd0", NULL }));
  else
    g_assert_cmpuint (g_strv_length (facts->iommu_units), ==, 0);
  g_assert_true (facts->vfio_pci_loaded);
  g_assert_cmpint (facts->nvidia_vgpu_manager, ==, jbool (kernel, "nvidia_vgpu_manager", FALSE));
}

/* A model refreshed step by step equals one read from scratch. */
static void
check_same_as_rescan (Ctx *ctx)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) fresh = gv_host_new (ctx->mount->root, &error);
  g_autoptr (GvHostChanges) changes = NULL;
  GPtrArray *a, *b;

  g_assert_no_error (error);
  {
    g_autoptr (GArray) classes = g_array_new (FALSE, FALSE, sizeof (GvHostClassMatch));
    for (guint i = 0; i < ctx->extra_classes->len; i++) {
      GvHostClassMatch m;
      g_assert_true (gv_host_class_match_parse (ctx->extra_classes->pdata[i], &m));
      g_array_append_val (classes, m);
    }
    gv_host_set_extra_managed (fresh, NULL, (GvHostClassMatch *) classes->data, classes->len);
  }
  g_assert_true (gv_host_rescan (fresh, NULL, &error));
  a = gv_host_get_devices (ctx->host);
  b = gv_host_get_devices (fresh);
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++) {
    g_test_message ("refreshed vs rescanned: %s", ((GvHostDevice *) a->pdata[i])->fn->bdf);
    g_assert_true (gv_host_device_equal (a->pdata[i], b->pdata[i]));
  }
  g_assert_cmpuint (gv_host_get_mdevs (ctx->host)->len, ==, gv_host_get_mdevs (fresh)->len);
  g_assert_true (gv_host_facts_equal (gv_host_get_facts (ctx->host), gv_host_get_facts (fresh)));
  /* and a rescan of a model that is current changes nothing */
  g_assert_true (gv_host_rescan (ctx->host, &changes, &error));
  g_assert_true (gv_host_changes_is_empty (changes));
}

static void
refresh (Ctx *ctx, const char *bdf, GvHostChanges **changes)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (gv_host_refresh_function (ctx->host, bdf, changes, &error));
  g_assert_no_error (error);
}

static void
enable_vfs (Ctx *ctx, const char *pf, guint n)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/sriov_numvfs", pf);
  g_autofree char *num = g_strdup_printf ("%u", n);
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GPtrArray) expect = NULL;

  write_mount (ctx, rel, num);
  g_hash_table_insert (ctx->numvfs, g_strdup (pf), GUINT_TO_POINTER (n));
  refresh (ctx, pf, &changes);
  /* the VFs are reported as added, the PF as changed */
  expect = expected_vfs (g_hash_table_lookup (ctx->json_devs, pf), n);
  g_assert_cmpuint (g_strv_length (changes->added), ==, expect->len);
  for (guint i = 0; i < expect->len; i++)
    g_assert_true (g_strv_contains ((const char *const *) changes->added, expect->pdata[i]));
  g_assert_true (g_strv_contains ((const char *const *) changes->changed, pf));
}

static void
create_mdev (Ctx *ctx, const char *parent, const char *type_id, const char *uuid)
{
  g_autofree char *rel = g_strdup_printf ("sys/bus/pci/devices/%s/mdev_supported_types/%s/create", parent, type_id);
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GError) error = NULL;
  CreatedMdev *m = g_new0 (CreatedMdev, 1);

  write_mount (ctx, rel, uuid);
  m->parent = g_strdup (parent);
  m->type_id = g_strdup (type_id);
  g_hash_table_insert (ctx->mdevs, g_strdup (uuid), m);
  /* an mdev uevent: the daemon re-reads the mdevs and their parents */
  g_assert_true (gv_host_refresh_mdevs (ctx->host, &changes, &error));
  g_assert_no_error (error);
  g_assert_true (changes->mdevs_changed);
  g_assert_true (g_strv_contains ((const char *const *) changes->changed, parent));
}

/* ---- the scenarios ---- */

static void
test_workstation (void)
{
  g_autoptr (Ctx) ctx = ctx_new ("workstation");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GPtrArray) holders = NULL;
  GvHostDevice *gpu, *nvme;
  GvHostClassMatch nvme_class;
  g_autofree char *group_node = NULL;
  int fd;

  g_hash_table_insert (ctx->companions, (gpointer) "0000:01:00.0", (gpointer) "0000:01:00.1,0000:01:00.2,0000:01:00.3");
  check_model (ctx);

  gpu = gv_host_lookup (ctx->host, "0000:01:00.0");
  g_assert_cmpstrv (gpu->companions, ((const char *const[]) { "0000:01:00.1", "0000:01:00.2", "0000:01:00.3", NULL }));
  g_assert_cmpint (gpu->verdict, ==, GV_HOST_GROUP_VIABLE);
  g_assert_cmpint (gpu->framework, ==, GV_HOST_FRAMEWORK_NONE);
  g_assert_cmpstr (gpu->fn->vendor_name, ==, "NVIDIA Corporation");
  holders = gv_host_get_holders (ctx->host, "0000:01:00.0", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (holders->len, ==, 3);
  g_assert_cmpint (((GvHostHolder *) holders->pdata[0])->pid, ==, 1102);
  g_assert_cmpstr (((GvHostHolder *) holders->pdata[1])->comm, ==, "Xorg");
  g_clear_pointer (&holders, g_ptr_array_unref);

  /* NVMe managed by configuration (class 0108) */
  g_assert_false (gv_host_lookup (ctx->host, "0000:02:00.0")->managed);
  g_assert_true (gv_host_class_match_parse ("0108", &nvme_class));
  gv_host_set_extra_managed (ctx->host, NULL, &nvme_class, 1);
  g_ptr_array_add (ctx->extra_classes, g_strdup ("0108"));
  nvme = gv_host_lookup (ctx->host, "0000:02:00.0");
  g_assert_true (nvme->managed);
  g_assert_cmpint (nvme->role, ==, GV_HOST_ROLE_EXTRA);
  check_model (ctx);

  /* bind it to vfio-pci behind the model's back, then refresh it */
  write_mount (ctx, "sys/bus/pci/devices/0000:02:00.0/driver_override", "vfio-pci");
  write_mount (ctx, "sys/bus/pci/devices/0000:02:00.0/driver/unbind", "0000:02:00.0");
  write_mount (ctx, "sys/bus/pci/drivers/vfio-pci/bind", "0000:02:00.0");
  g_hash_table_add (ctx->vfio_bound, g_strdup ("0000:02:00.0"));
  refresh (ctx, "0000:02:00.0", &changes);
  g_assert_cmpstrv (changes->changed, ((const char *const[]) { "0000:02:00.0", NULL }));
  g_assert_cmpuint (g_strv_length (changes->added) + g_strv_length (changes->removed), ==, 0);
  nvme = gv_host_lookup (ctx->host, "0000:02:00.0");
  g_assert_cmpstr (gv_host_function_state (nvme->fn), ==, "vfio");
  g_assert_cmpstr (nvme->vfio_group_node, ==, "/dev/vfio/9");
  check_model (ctx);
  check_same_as_rescan (ctx);

  /* a process of ours opening the group node holds the NVMe */
  group_node = mount_path (ctx, "dev/vfio/9");
  fd = open (group_node, O_RDWR | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  holders = gv_host_get_holders (ctx->host, "0000:02:00.0", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (holders->len, ==, 1);
  g_assert_cmpint (((GvHostHolder *) holders->pdata[0])->pid, ==, getpid ());
  g_assert_cmpstr (((GvHostHolder *) holders->pdata[0])->node, ==, "/dev/vfio/9");
  g_assert_cmpstr (((GvHostHolder *) holders->pdata[0])->comm, !=, "");
  close (fd);

  /* bad addresses */
  g_clear_pointer (&changes, gv_host_changes_free);
  g_assert_false (gv_host_refresh_function (ctx->host, "0000:09:00.0", &changes, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_clear_error (&error);
  g_assert_false (gv_host_refresh_function (ctx->host, "../../etc", &changes, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_null (gv_host_get_holders (ctx->host, "0000:09:00.0", &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE);
  g_assert_null (changes);
}

static void
test_a40_mdev (void)
{
  g_autoptr (Ctx) ctx = ctx_new ("a40-mdev");
  const char *a40 = "0000:67:00.0";
  GvHostDevice *d;

  check_model (ctx);
  d = gv_host_lookup (ctx->host, a40);
  g_assert_cmpint (d->framework, ==, GV_HOST_FRAMEWORK_PENDING);
  g_assert_false (d->fn->mdev_parent);
  g_assert_cmpuint (d->fn->sriov_totalvfs, ==, 32);

  enable_vfs (ctx, a40, 4);
  d = gv_host_lookup (ctx->host, a40);
  g_assert_cmpint (d->framework, ==, GV_HOST_FRAMEWORK_MDEV_VF);
  g_assert_cmpuint (g_strv_length (d->fn->vfs), ==, 4);
  g_assert_true (gv_host_lookup (ctx->host, d->fn->vfs[0])->fn->mdev_parent);
  check_model (ctx);
  check_same_as_rescan (ctx);

  create_mdev (ctx, "0000:67:00.4", "nvidia-558", "5b2a5a76-3c36-4b8e-9c38-9f6c2a1e0d11");
  check_model (ctx);
  check_same_as_rescan (ctx);
  {
    GPtrArray *mdevs = gv_host_get_mdevs (ctx->host);
    const GvHostMdev *m = mdevs->pdata[0];
    g_assert_cmpstr (m->type_id, ==, "nvidia-558");
    g_assert_cmpstr (m->parent, ==, "0000:67:00.4");
  }

  /* remove the mdev, disable the VFs, then enable all 32 as sriov-manage -e does */
  g_hash_table_remove_all (ctx->mdevs);
  write_mount (ctx, "sys/bus/mdev/devices/5b2a5a76-3c36-4b8e-9c38-9f6c2a1e0d11/remove", "1");
  {
    g_autoptr (GvHostChanges) changes = NULL;
    g_autoptr (GError) error = NULL;
    g_assert_true (gv_host_refresh_mdevs (ctx->host, &changes, &error));
    g_assert_true (changes->mdevs_changed);
  }
  enable_vfs (ctx, a40, 0);
  check_model (ctx);
  enable_vfs (ctx, a40, 32);
  check_model (ctx);
  check_same_as_rescan (ctx);
}

static void
test_l40s_vendor_vfio (void)
{
  g_autoptr (Ctx) ctx = ctx_new ("l40s-vendor-vfio");
  g_autoptr (GvHostChanges) changes = NULL;
  GvHostDevice *d;
  const char *vf0 = "0000:01:00.4";
  const char *vf1 = "0000:01:00.5";

  check_model (ctx);
  g_assert_cmpint (gv_host_lookup (ctx->host, "0000:01:00.0")->framework, ==, GV_HOST_FRAMEWORK_VENDOR_VFIO);
  g_assert_cmpint (gv_host_lookup (ctx->host, "0000:81:00.0")->framework, ==, GV_HOST_FRAMEWORK_PENDING);
  /* GPU 3 writes its types name-first without a header */
  d = gv_host_lookup (ctx->host, "0000:c1:00.4");
  g_assert_cmpuint (d->fn->vendor_vfio->creatable->len, ==, 29);
  g_assert_cmpuint (((GvHostVendorType *) d->fn->vendor_vfio->creatable->pdata[10])->id, ==, 1163);
  g_assert_cmpstr (((GvHostVendorType *) d->fn->vendor_vfio->creatable->pdata[10])->parsed.short_name, ==, "L40S-24Q");
  g_assert_cmpuint (((GvHostVendorType *) d->fn->vendor_vfio->creatable->pdata[10])->parsed.framebuffer_mb, ==, 24576);

  /* GPU 2: VFs make the framework known */
  enable_vfs (ctx, "0000:81:00.0", 32);
  g_assert_cmpint (gv_host_lookup (ctx->host, "0000:81:00.0")->framework, ==, GV_HOST_FRAMEWORK_VENDOR_VFIO);
  check_model (ctx);
  check_same_as_rescan (ctx);

  /* a vGPU type on one VF: its siblings' lists shrink with one refresh */
  write_mount (ctx, "sys/bus/pci/devices/0000:01:00.4/nvidia/current_vgpu_type", "1163");
  g_hash_table_insert (ctx->vf_types, g_strdup (vf0), GUINT_TO_POINTER (1163));
  refresh (ctx, vf0, &changes);
  g_assert_true (g_strv_contains ((const char *const *) changes->changed, vf0));
  g_assert_true (g_strv_contains ((const char *const *) changes->changed, vf1));
  d = gv_host_lookup (ctx->host, vf0);
  g_assert_cmpuint (d->fn->vendor_vfio->current_type, ==, 1163);
  g_assert_cmpuint (d->fn->vendor_vfio->creatable->len, ==, 0);
  g_assert_nonnull (d->vfio_group_node);
  g_assert_nonnull (d->fn->vfio_cdev_node);
  d = gv_host_lookup (ctx->host, vf1);
  g_assert_cmpuint (d->fn->vendor_vfio->creatable->len, ==, 1);
  g_assert_cmpstr (((GvHostVendorType *) d->fn->vendor_vfio->creatable->pdata[0])->name, ==, "NVIDIA L40S-24Q");
  check_model (ctx);
  check_same_as_rescan (ctx);
}

static void
test_big_host (void)
{
  g_autoptr (Ctx) ctx = ctx_new ("big-host");
  GvHostDevice *a, *b, *t4;

  check_model (ctx);
  /* two L40S behind the non-ACS switch share a group: each names the other */
  a = gv_host_lookup (ctx->host, "0000:3a:00.0");
  b = gv_host_lookup (ctx->host, "0000:3b:00.0");
  g_assert_cmpint (a->verdict, ==, GV_HOST_GROUP_SHARED);
  g_assert_cmpint (b->verdict, ==, GV_HOST_GROUP_SHARED);
  g_assert_true (g_strv_contains ((const char *const *) a->foreign, "0000:3b:00.0"));
  g_assert_true (g_strv_contains ((const char *const *) b->foreign, "0000:3a:00.0"));
  for (guint i = 0; a->foreign[i]; i++) {
    GvHostDevice *f = gv_host_lookup (ctx->host, a->foreign[i]);
    g_assert_true (g_str_equal (f->fn->bdf, "0000:3b:00.0") || g_strcmp0 (f->fn->physfn, "0000:3b:00.0") == 0);
  }
  g_assert_false (g_strv_contains ((const char *const *) a->foreign, "0000:37:01.0"));
  g_assert_true (g_strv_contains ((const char *const *) a->group_members, "0000:37:01.0"));
  g_assert_cmpint (gv_host_lookup (ctx->host, "0000:16:00.0")->verdict, ==, GV_HOST_GROUP_VIABLE);

  /* the T4 advertises SR-IOV but does mdev on the PF */
  t4 = gv_host_lookup (ctx->host, "0000:c8:00.0");
  g_assert_cmpuint (t4->fn->sriov_totalvfs, ==, 16);
  g_assert_cmpint (t4->framework, ==, GV_HOST_FRAMEWORK_MDEV_PF);
  /* a cold host: the L40S shows its framework once VFs exist */
  g_assert_cmpint (gv_host_lookup (ctx->host, "0000:16:00.0")->framework, ==, GV_HOST_FRAMEWORK_PENDING);

  create_mdev (ctx, "0000:c8:00.0", "nvidia-222", "0c3f2e5a-9d41-4b7a-8e6c-1f2a3b4c5d6e");
  t4 = gv_host_lookup (ctx->host, "0000:c8:00.0");
  g_assert_cmpint (((GvHostMdevType *) t4->fn->mdev_types->pdata[0])->available_instances, ==, 15);
  check_model (ctx);
  check_same_as_rescan (ctx);
}

static void
test_no_iommu (void)
{
  g_autoptr (Ctx) ctx = ctx_new ("no-iommu");
  GvHostDevice *gpu;

  g_hash_table_insert (ctx->companions, (gpointer) "0000:01:00.0", (gpointer) "0000:01:00.1");
  check_model (ctx);
  gpu = gv_host_lookup (ctx->host, "0000:01:00.0");
  g_assert_cmpint (gpu->fn->iommu_group, ==, -1);
  g_assert_cmpint (gpu->verdict, ==, GV_HOST_GROUP_NONE);
  g_assert_false (gv_host_get_facts (ctx->host)->iommu_present);
  g_assert_cmpint (gpu->fn->boot_vga, ==, 1);
}

static void
test_qemu_testbed (void)
{
  g_autoptr (Ctx) ctx = ctx_new ("qemu-testbed");
  g_autoptr (GPtrArray) managed = NULL;
  GvHostClassMatch nvme_class;

  check_model (ctx);
  managed = gv_host_dup_managed (ctx->host);
  g_assert_cmpuint (managed->len, ==, 0);

  g_assert_true (gv_host_class_match_parse ("0x010802", &nvme_class));
  gv_host_set_extra_managed (ctx->host, NULL, &nvme_class, 1);
  g_ptr_array_add (ctx->extra_classes, g_strdup ("010802"));
  enable_vfs (ctx, "0000:01:00.0", 2);
  g_assert_cmpint (gv_host_lookup (ctx->host, "0000:01:00.1")->role, ==, GV_HOST_ROLE_VF);
  g_assert_cmpstr (gv_host_lookup (ctx->host, "0000:01:00.1")->fn->driver, ==, "");
  check_model (ctx);
  check_same_as_rescan (ctx);
  enable_vfs (ctx, "0000:01:00.0", 0);
  check_model (ctx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/host/scenario/workstation", test_workstation);
  g_test_add_func ("/host/scenario/a40-mdev", test_a40_mdev);
  g_test_add_func ("/host/scenario/l40s-vendor-vfio", test_l40s_vendor_vfio);
  g_test_add_func ("/host/scenario/big-host", test_big_host);
  g_test_add_func ("/host/scenario/no-iommu", test_no_iommu);
  g_test_add_func ("/host/scenario/qemu-testbed", test_qemu_testbed);
  return g_test_run ();
}
