/* Consistency of the built-in scenarios (the JSON files in simfs/scenarios) beyond what
 * the loader checks: the PCI topology adds up, IOMMU groups agree with the
 * bridges' isolation, vGPU catalogs fit their GPU, and simulated processes
 * hold nodes that exist. One test case per file. */
#include <json-glib/json-glib.h>
#include <string.h>

#ifndef SCENARIO_DIR
#error "SCENARIO_DIR must name simfs/scenarios"
#endif

/* Fails the test naming the function (or type) at fault, and goes on. */
#define CHECK(where, cond) G_STMT_START { \
    if (!(cond)) \
      g_test_fail_printf ("%s: %s", (where), #cond); \
  } G_STMT_END

static guint
bus_of (const char *bdf)
{
  return (guint) g_ascii_strtoull (strchr (bdf, ':') + 1, NULL, 16);
}

static gint64
int_or (JsonObject *o, const char *member, gint64 fallback)
{
  return json_object_has_member (o, member) && !json_object_get_null_member (o, member)
           ? json_object_get_int_member (o, member) : fallback;
}

static JsonObject *
object_or_null (JsonObject *o, const char *member)
{
  return json_object_has_member (o, member) ? json_object_get_object_member (o, member) : NULL;
}

static const char *
parent_of (JsonObject *dev)
{
  return json_object_get_string_member_with_default (dev, "parent", NULL);
}

static void
check_vgpu (const char *bdf, JsonObject *dev, JsonObject *vgpu)
{
  const char *fw = json_object_get_string_member (vgpu, "framework");
  gint64 gpu_fb = json_object_get_int_member (vgpu, "framebuffer_mb");
  JsonObject *sriov = object_or_null (dev, "sriov");
  gint64 vfs = sriov ? json_object_get_int_member (sriov, "totalvfs") : 0;
  JsonArray *types = json_object_get_array_member (vgpu, "types");
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  CHECK (bdf, g_str_equal (fw, "mdev-pf") || g_str_equal (fw, "mdev-vf") || g_str_equal (fw, "vendor-vfio"));
  if (!g_str_equal (fw, "mdev-pf"))
    CHECK (bdf, vfs > 0);
  CHECK (bdf, json_array_get_length (types) > 0);
  for (guint i = 0; i < json_array_get_length (types); i++) {
    JsonObject *t = json_array_get_object_element (types, i);
    const char *id = json_object_get_string_member (t, "id");
    const char *desc = json_object_get_string_member_with_default (t, "description", NULL);
    gint64 fb = json_object_get_int_member (t, "framebuffer_mb");
    gint64 max = json_object_get_int_member (t, "max_instance");

    g_autofree char *where = g_strdup_printf ("%s type %s", bdf, id);
    CHECK (where, g_hash_table_add (ids, (gpointer) id));
    CHECK (where, fb * max <= gpu_fb);
    if (vfs && !g_str_equal (fw, "mdev-pf"))
      CHECK (where, max <= vfs);   /* one vGPU per VF */
    if (desc) {
      g_autofree char *fb_text = g_strdup_printf ("framebuffer=%" G_GINT64_FORMAT "M,", fb);
      g_autofree char *max_text = g_strdup_printf ("max_instance=%" G_GINT64_FORMAT, max);
      CHECK (where, strstr (desc, fb_text) != NULL);
      CHECK (where, g_str_has_suffix (desc, max_text));
    }
  }
}

static void
test_scenario (gconstpointer data)
{
  const char *path = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) by_bdf = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *base = g_path_get_basename (path);
  JsonObject *top, *kernel;
  JsonArray *devices, *drivers, *procs;
  gboolean no_iommu;
  guint boot_vgas = 0, vfio_drivers = 0;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  top = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (g_str_has_prefix (base, json_object_get_string_member (top, "name")));
  kernel = json_object_get_object_member (top, "kernel");
  no_iommu = g_str_equal (json_object_get_string_member (kernel, "iommu"), "none");
  devices = json_object_get_array_member (top, "devices");
  drivers = json_object_get_array_member (top, "drivers");

  for (guint i = 0; i < json_array_get_length (drivers); i++) {
    JsonObject *d = json_array_get_object_element (drivers, i);
    if (json_object_get_boolean_member_with_default (d, "vfio", FALSE)) {
      g_assert_cmpstr (json_object_get_string_member (d, "name"), ==, "vfio-pci");
      vfio_drivers++;
    }
  }
  g_assert_cmpuint (vfio_drivers, ==, 1);

  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    g_assert_true (g_hash_table_insert (by_bdf, (gpointer) json_object_get_string_member (d, "bdf"), d));
  }

  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    const char *bdf = json_object_get_string_member (d, "bdf");
    const char *cls = json_object_get_string_member (d, "class");
    JsonObject *bridge = object_or_null (d, "bridge"), *drm = object_or_null (d, "drm");
    JsonObject *sriov = object_or_null (d, "sriov"), *vgpu = object_or_null (d, "vgpu");
    gint64 group = int_or (d, "iommu_group", -1), minor = int_or (d, "nvidia_minor", -1);

    /* The bus is the parent's secondary bus, or a root bus. */
    if (parent_of (d)) {
      JsonObject *p = g_hash_table_lookup (by_bdf, parent_of (d));
      JsonObject *pb = object_or_null (p, "bridge");
      CHECK (bdf, pb && bus_of (bdf) == json_object_get_int_member (pb, "secondary"));
    }
    if (bridge) {
      CHECK (bdf, json_object_get_int_member (bridge, "secondary") > bus_of (bdf));
      CHECK (bdf, json_object_get_int_member (bridge, "subordinate") >= json_object_get_int_member (bridge, "secondary"));
    }
    /* Every function has a group, or none has. Below a bridge that does not
     * isolate, every function shares the bridge's group. */
    CHECK (bdf, no_iommu ? group < 0 : group >= 0);
    for (const char *up = parent_of (d); up; up = parent_of (g_hash_table_lookup (by_bdf, up))) {
      JsonObject *pb = object_or_null (g_hash_table_lookup (by_bdf, up), "bridge");
      if (pb && !json_object_get_boolean_member_with_default (pb, "acs", TRUE))
        CHECK (bdf, group == int_or (g_hash_table_lookup (by_bdf, up), "iommu_group", -1));
    }
    if (json_object_has_member (d, "boot_vga")) {
      CHECK (bdf, g_str_has_prefix (cls, "0300"));
      boot_vgas += json_object_get_boolean_member (d, "boot_vga");
    }
    if (json_object_has_member (d, "consumers")) {
      JsonArray *c = json_object_get_array_member (d, "consumers");
      for (guint j = 0; j < json_array_get_length (c); j++) {
        const char *consumer = json_array_get_string_element (c, j);
        CHECK (bdf, g_hash_table_lookup (by_bdf, consumer) != NULL);
        CHECK (bdf, strncmp (consumer, bdf, 10) == 0);   /* same slot */
      }
    }
    if (minor >= 0)
      CHECK (bdf, g_hash_table_add (nodes, g_strdup_printf ("/dev/nvidia%" G_GINT64_FORMAT, minor)));
    if (drm) {
      CHECK (bdf, g_hash_table_add (nodes, g_strdup_printf ("/dev/dri/card%" G_GINT64_FORMAT,
                                                            json_object_get_int_member (drm, "card"))));
      CHECK (bdf, g_hash_table_add (nodes, g_strdup_printf ("/dev/dri/renderD%" G_GINT64_FORMAT,
                                                            json_object_get_int_member (drm, "render"))));
    }
    /* The VFs' addresses must be free. */
    if (sriov) {
      /* "0000:01:00.0": routing id = bus << 8 | slot << 3 | function */
      guint rid = bus_of (bdf) << 8 | (guint) g_ascii_strtoull (bdf + 8, NULL, 16) << 3 | (guint) (bdf[11] - '0');
      for (gint64 vf = 0; vf < json_object_get_int_member (sriov, "totalvfs"); vf++) {
        guint r = rid + (guint) (json_object_get_int_member (sriov, "offset") + vf * json_object_get_int_member (sriov, "stride"));
        g_autofree char *vf_bdf = g_strdup_printf ("%.4s:%02x:%02x.%x", bdf, r >> 8, (r >> 3) & 0x1f, r & 7);
        CHECK (vf_bdf, g_hash_table_lookup (by_bdf, vf_bdf) == NULL);
      }
    }
    if (vgpu)
      check_vgpu (bdf, d, vgpu);
  }
  g_assert_cmpuint (boot_vgas, <=, 1);
  g_hash_table_add (nodes, g_strdup ("/dev/nvidiactl"));

  procs = json_object_get_array_member (top, "processes");
  for (guint i = 0; i < json_array_get_length (procs); i++) {
    JsonArray *files = json_object_get_array_member (json_array_get_object_element (procs, i), "files");
    for (guint j = 0; j < json_array_get_length (files); j++)
      CHECK (json_array_get_string_element (files, j), g_hash_table_contains (nodes, json_array_get_string_element (files, j)));
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_open (SCENARIO_DIR, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *test = NULL;
    if (!g_str_has_suffix (name, ".json"))
      continue;
    g_ptr_array_add (paths, g_build_filename (SCENARIO_DIR, name, NULL));
    test = g_strdup_printf ("/scenarios/%s", name);
    g_test_add_data_func (test, paths->pdata[paths->len - 1], test_scenario);
  }
  g_assert_cmpuint (paths->len, >, 0);
  return g_test_run ();
}
