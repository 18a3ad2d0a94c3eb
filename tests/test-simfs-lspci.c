/* lspci, reading the simulated sysfs, sees what each scenario defines;
 * and a capture of this machine's real /sys, replayed through the
 * simulator, lists the same devices and drivers as lspci on the real tree
 * (read-only: capture never writes). */
#include "sim-mount.h"

#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char *slot, *vendor, *device, *driver;
} Record;

static void
record_free (Record *rec)
{
  g_free (rec->slot);
  g_free (rec->vendor);
  g_free (rec->device);
  g_free (rec->driver);
  g_free (rec);
}

static char *
run_lspci (const char *sysfs_bus_pci, const char *format)
{
  g_autofree char *opt = g_strdup_printf ("sysfs.path=%s", sysfs_bus_pci);
  const char *argv[] = { "lspci", "-A", "linux-sysfs", "-O", opt, "-D", format, "-k", NULL };
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

/* lspci -vmm -n -k: one block per function, "Tag:\tvalue" lines. */
static GHashTable *
parse_vmm (const char *text)
{
  GHashTable *recs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) record_free);
  g_auto (GStrv) blocks = g_strsplit (text, "\n\n", -1);

  for (guint i = 0; blocks[i]; i++) {
    g_auto (GStrv) lines = g_strsplit (blocks[i], "\n", -1);
    Record *rec = g_new0 (Record, 1);
    for (guint j = 0; lines[j]; j++) {
      char *tab = strchr (lines[j], '\t');
      if (!tab)
        continue;
      if (g_str_has_prefix (lines[j], "Slot:"))
        rec->slot = g_strdup (tab + 1);
      else if (g_str_has_prefix (lines[j], "Vendor:"))
        rec->vendor = g_strdup (tab + 1);
      else if (g_str_has_prefix (lines[j], "Device:"))
        rec->device = g_strdup (tab + 1);
      else if (g_str_has_prefix (lines[j], "Driver:"))
        rec->driver = g_strdup (tab + 1);
    }
    if (rec->slot)
      g_hash_table_insert (recs, rec->slot, rec);
    else
      record_free (rec);
  }
  return recs;
}

static void
test_scenario (gconstpointer data)
{
  const char *name = data;
  g_autofree char *file = g_strdup_printf ("%s/%s.json", SCENARIO_DIR, name);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SimMount) mount = NULL;
  g_autofree char *bus = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GHashTable) recs = NULL;
  JsonArray *devices;
  guint expected = 0;

  json_parser_load_from_file (parser, file, &error);
  g_assert_no_error (error);
  devices = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "devices");

  mount = sim_mount_start (name);
  bus = sim_mount_path (mount, "sys/bus/pci");
  out = run_lspci (bus, "-vmmn");
  recs = parse_vmm (out);

  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *dev = json_array_get_object_element (devices, i);
    const char *bdf = json_object_get_string_member (dev, "bdf");
    const char *driver = json_object_get_string_member_with_default (dev, "driver", NULL);
    Record *rec = g_hash_table_lookup (recs, bdf);

    g_test_message ("%s %s", name, bdf);
    g_assert_nonnull (rec);
    g_assert_cmpstr (rec->vendor, ==, json_object_get_string_member (dev, "vendor"));
    g_assert_cmpstr (rec->device, ==, json_object_get_string_member (dev, "device"));
    g_assert_cmpstr (rec->driver, ==, driver);
    expected++;
    if (json_object_has_member (dev, "sriov")) {
      JsonObject *sr = json_object_get_object_member (dev, "sriov");
      expected += (guint) json_object_get_int_member_with_default (sr, "numvfs", 0);
    }
  }
  /* the scenario's functions plus the VFs it enables at boot, nothing else */
  g_assert_cmpuint (g_hash_table_size (recs), ==, expected);
}

/* Lines of lspci -nnk without "Kernel modules:", which comes from the
 * running kernel's module index, not from sysfs. */
static char *
without_modules (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++)
    if (!strstr (lines[i], "Kernel modules:"))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

static void
test_capture_replay (void)
{
  const char *argv[] = { g_getenv ("GPUVIRT_SIMFS"), "--capture", "/", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gpuvirt-capture-XXXXXX", &error);
  g_autofree char *file = NULL;
  g_autoptr (SimMount) mount = NULL;
  g_autofree char *bus = NULL;
  g_autofree char *real = NULL;
  g_autofree char *replayed = NULL;
  g_autofree char *real_cmp = NULL;
  g_autofree char *replayed_cmp = NULL;
  int status;

  g_assert_no_error (error);
  g_assert_nonnull (argv[0]);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &json, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  file = g_build_filename (dir, "this-host.json", NULL);
  g_file_set_contents (file, json, -1, &error);
  g_assert_no_error (error);

  mount = sim_mount_start (file);
  bus = sim_mount_path (mount, "sys/bus/pci");
  real = run_lspci ("/sys/bus/pci", "-nn");
  replayed = run_lspci (bus, "-nn");
  real_cmp = without_modules (real);
  replayed_cmp = without_modules (replayed);
  g_assert_cmpstr (replayed_cmp, ==, real_cmp);
  g_assert_cmpuint (strlen (real_cmp), >, 0);

  g_unlink (file);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  const char *scenarios[] = { "workstation", "a40-mdev", "l40s-vendor-vfio", "big-host", "no-iommu", "qemu-testbed" };

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++) {
    g_autofree char *path = g_strdup_printf ("/simfs/lspci/%s", scenarios[i]);
    g_test_add_data_func (path, scenarios[i], test_scenario);
  }
  g_test_add_func ("/simfs/lspci/capture-replay", test_capture_replay);
  return g_test_run ();
}
