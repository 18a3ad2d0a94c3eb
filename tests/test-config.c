/* The configuration (service/config-*.c), D-Bus free: every kind of
 * mistake reported with its file, line and key; drop-ins applied in
 * order; the documented examples valid; edits for the persist option
 * round-tripping with comments kept; atomic saves that leave the old file
 * when they fail; CheckConfig against a simulated host whose device was
 * replaced. */
#include "config/config.h"
#include "host/model.h"
#include "sim-mount.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define GPU "[Device 0000:41:00.0]\nId=10de:26b9\n"
#define UUID "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"
#define UUID_UPPER "5B6C0F1E-2A3D-4C5B-8E9F-0A1B2C3D4E5F"

/* ---- helpers ---- */

static char *
tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("gpuvirt-config-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *dir)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
put (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_mkdir_with_parents (parent, 0755);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static char *
slurp (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
dump_problems (GPtrArray *problems)
{
  g_autofree char *text = gv_config_problems_to_text (problems, 0);
  g_test_message ("problems:\n%s", text);
}

/* ---- validation, table-driven ---- */

typedef struct {
  const char *text;
  guint line;
  const char *key;
  const char *message; /* a part of it */
} Bad;

static const Bad bad[] = {
  { "[Manage]\nClasses=01x8\n", 2, "Manage/Classes", "“01x8” is not a PCI class" },
  { "[Manage]\nDevices=0000:05:00.0;0000:05:00\n", 2, "Manage/Devices", "“0000:05:00” is not a PCI address" },
  { "[Manage]\nParent=0000:67:00.4\n", 2, "Manage/Parent", "it belongs in [Mdev UUID] groups" },
  { "[Devices 0000:41:00.0]\nId=10de:26b9\n", 1, "Devices 0000:41:00.0", "did you mean “Device”?" },
  { "[Manag]\nClasses=0108\n", 1, "Manag", "did you mean “Manage”?" },
  { GPU "NumVF=4\n", 3, "Device 0000:41:00.0/NumVF", "did you mean “NumVfs”?" },
  { GPU "numvfs=4\n", 3, "Device 0000:41:00.0/numvfs", "did you mean “NumVfs”?" },
  { GPU "Type=L40S-24Q\n", 3, "Device 0000:41:00.0/Type", "did you mean “VgpuType”?" },
  { GPU "Id[de]=10de:26b9\n", 3, "Device 0000:41:00.0/Id[de]", "did you mean “Id”?" },
  { "[Device 0000:41:00.0]\nId=10de-26b9\nPassthrough=true\n", 2, "Device 0000:41:00.0/Id",
    "“10de-26b9” is not a vendor:device pair" },
  { "[Device 0000:41:00.0]\nId=10de:26b\nPassthrough=true\n", 2, "Device 0000:41:00.0/Id", "4 hex digits each" },
  { "[Device 0000:41:00.0]\nId=10de:26b9   # the L40S\n", 2, "Device 0000:41:00.0/Id",
    "comments go on lines of their own" },
  { GPU "Passthrough=maybe\n", 3, "Device 0000:41:00.0/Passthrough", "“maybe” is not a boolean" },
  { GPU "NumVfs=four\n", 3, "Device 0000:41:00.0/NumVfs", "“four” is not a whole number from 0 to 65535" },
  { GPU "NumVfs=-1\n", 3, "Device 0000:41:00.0/NumVfs", "is not a whole number" },
  { GPU "NumVfs=70000\n", 3, "Device 0000:41:00.0/NumVfs", "from 0 to 65535" },
  { GPU "VgpuType=L40S-24Q\nVgpuCount=0\n", 4, "Device 0000:41:00.0/VgpuCount", "from 1 to 4096" },
  { GPU "VgpuType=L40S\\x24Q\n", 3, "Device 0000:41:00.0/VgpuType", "invalid escape “\\x”" },
  { GPU "Passthrough=true\nNumVfs=4\n", 3, "Device 0000:41:00.0/Passthrough", "cannot be combined with NumVfs" },
  { GPU "VgpuType=L40S-24Q\nPassthrough=yes\n", 4, "Device 0000:41:00.0/Passthrough",
    "cannot be combined with VgpuType" },
  { GPU "VgpuCount=2\n", 3, "Device 0000:41:00.0/VgpuCount", "VgpuCount needs VgpuType" },
  { GPU "VgpuType=L40S-24Q\nNumVfs=4\n", 3, "Device 0000:41:00.0/VgpuType", "NumVfs makes 0000:41:00.0 a PF" },
  { "[Device 0000:41:00.0]\nPassthrough=true\n", 1, "Device 0000:41:00.0", "no Id=" },
  { "[Device 41:00.0]\nPassthrough=true\n", 1, "Device 41:00.0", "no Id=" },
  { "[Device 0000:41:00.9]\nId=10de:26b9\n", 1, "Device 0000:41:00.9", "“0000:41:00.9” is not a PCI address" },
  { "[Device]\nId=10de:26b9\n", 1, "Device", "needs the function's PCI address" },
  { "[Device 0000:41:00.0\nId=10de:26b9\n", 1, "", "is not a group line" },
  { "Id=10de:26b9\n" GPU, 1, "Id", "a key before any group" },
  { GPU "passthrough\n", 3, "Device 0000:41:00.0", "is neither Key=value" },
  { GPU "=true\n", 3, "Device 0000:41:00.0", "a value without a key" },
  { GPU "Id=10de:26b9\n", 3, "Device 0000:41:00.0/Id", "given a second time in [Device 0000:41:00.0] (first at "
                                                        "line 2)" },
  { GPU "NumVfs=4\n\n[Device 41:00.0]\nNumVfs=4\n", 5, "Device 41:00.0", "appears a second time in this file "
                                                                         "(first at line 1)" },
  { GPU "VgpuType=\xff\xfe\n", 3, "", "not valid UTF-8" },
  { "[Mdev 5b6c0f1e-2a3d]\nParent=0000:67:00.4\n", 1, "Mdev 5b6c0f1e-2a3d", "is not a UUID" },
  { "[Mdev]\nParent=0000:67:00.4\n", 1, "Mdev", "needs the mdev's UUID" },
  { "[Mdev " UUID "]\nParent=0000:67:00.4\n", 1, "Mdev " UUID, "missing ParentId= (the parent's vendor:device), "
                                                                "Type=" },
  { "[Mdev " UUID "]\nParent=67:00.4x\nParentId=10de:2235\nType=A40-8Q\n", 2, "Mdev " UUID "/Parent",
    "is not a PCI address" },
  { "[Mdev " UUID "]\nParent=0000:67:00.4\nParentId=10de:2235\nType=A40-8Q\n\n[Mdev " UUID_UPPER
    "]\nParent=0000:67:00.5\nParentId=10de:2235\nType=A40-8Q\n",
    6, "Mdev " UUID_UPPER, "appears a second time in this file (first at line 1)" },
  { "[Device 0000:67:00.4]\nId=10de:2235\nPassthrough=true\n\n[Mdev " UUID
    "]\nParent=0000:67:00.4\nParentId=10de:2235\nType=A40-8Q\n",
    6, "Mdev " UUID "/Parent", "is configured for passthrough" },
  { "[Device 0000:67:00.4]\nId=10de:2236\n\n[Mdev " UUID "]\nParent=0000:67:00.4\nParentId=10de:2235\nType=A40-8Q\n",
    6, "Mdev " UUID "/ParentId", "ParentId=10de:2235, but [Device 0000:67:00.4] says Id=10de:2236" },
};

static void
test_bad (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GPtrArray) problems = gv_config_check_text (bad[i].text, NULL, NULL);
    const GvConfigProblem *p;

    g_test_message ("snippet %u: %s", i, bad[i].text);
    if (problems->len != 1)
      dump_problems (problems);
    g_assert_cmpuint (problems->len, ==, 1);
    p = problems->pdata[0];
    g_assert_null (p->file);
    g_assert_cmpuint (p->line, ==, bad[i].line);
    g_assert_cmpstr (p->key, ==, bad[i].key);
    if (!strstr (p->message, bad[i].message))
      g_error ("snippet %u: “%s” does not say “%s”", i, p->message, bad[i].message);
    g_assert_false (p->host);
  }
}

/* Several problems at once: all reported, in order, each with its line. */
static void
test_many (void)
{
  const char *text = "# a comment\n"
                     "[Manage]\n"
                     "Classes=0108\n"
                     "\n"
                     "[Device 0000:41:00.0]\n"
                     "Id=10de:26b9\n"
                     "NumVfs=lots\n"
                     "Passthru=true\n"
                     "\n"
                     "[Device 0000:81:00.0]\n"
                     "NumVfs=4\n";
  g_autoptr (GPtrArray) problems = gv_config_check_text (text, NULL, NULL);
  const guint lines[] = { 7, 8, 10 };

  dump_problems (problems);
  g_assert_cmpuint (problems->len, ==, G_N_ELEMENTS (lines));
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    g_assert_cmpuint (((GvConfigProblem *) problems->pdata[i])->line, ==, lines[i]);
  g_assert_nonnull (strstr (((GvConfigProblem *) problems->pdata[1])->message, "did you mean “Passthrough”?"));
}

static void
test_good (void)
{
  const char *text = "# everything there is\n"
                     "[Manage]\n"
                     "Classes=0108; 02 ;\n"
                     "Devices=05:00.0\n"
                     "\n"
                     "[Device 0000:01:00.0]\n"
                     "Id=10DE:1EB1\n"
                     "Passthrough=TRUE\n"
                     "[Device 0000:81:00.0]\n"
                     "Id=10de:26b9\n"
                     "NumVfs=4\n"
                     "[Device 0000:81:00.4]\n"
                     "Id=10de:26b9\n"
                     "VgpuType=NVIDIA\\sL40S-24Q\n"
                     "[Device 0000:c8:00.0]\n"
                     "Id=10de:1eb8\n"
                     "VgpuType=T4-2Q\n"
                     "VgpuCount=4\n"
                     "[Mdev " UUID_UPPER "]\n"
                     "Parent=0000:67:00.4\n"
                     "ParentId=10de:2235\n"
                     "Type=nvidia-562\n";
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GvConfig) config = NULL;
  const GvConfigDevice *d;
  const GvConfigMdev *m;
  const char *file;
  guint line;

  put (dir, "gpuvirt.conf", text);
  config = gv_config_load (main_file, NULL, &problems, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_cmpuint (gv_config_get_devices (config)->len, ==, 4);
  d = gv_config_lookup_device (config, "01:00.0");
  g_assert_nonnull (d);
  g_assert_cmpstr (d->bdf, ==, "0000:01:00.0");
  g_assert_cmphex (d->vendor_id, ==, 0x10de);
  g_assert_cmphex (d->device_id, ==, 0x1eb1);
  g_assert_true (d->passthrough);
  d = gv_config_lookup_device (config, "0000:81:00.0");
  g_assert_true (d->has_num_vfs);
  g_assert_cmpuint (d->num_vfs, ==, 4);
  d = gv_config_lookup_device (config, "0000:81:00.4");
  g_assert_cmpstr (d->vgpu_type, ==, "NVIDIA L40S-24Q");
  g_assert_cmpuint (d->vgpu_count, ==, 0);
  d = gv_config_lookup_device (config, "0000:c8:00.0");
  g_assert_cmpuint (d->vgpu_count, ==, 4);
  m = gv_config_lookup_mdev (config, UUID);
  g_assert_nonnull (m);
  g_assert_cmpstr (m->uuid, ==, UUID);
  g_assert_cmpstr (m->parent, ==, "0000:67:00.4");
  g_assert_cmpstr (m->type, ==, "nvidia-562");
  g_assert_true (gv_config_has_desired_state (config));
  g_assert_true (gv_config_get_origin (config, "Device 0000:81:00.0", "NumVfs", &file, &line));
  g_assert_cmpstr (file, ==, main_file);
  g_assert_cmpuint (line, ==, 11);
  g_assert_cmpstrv (gv_config_get_files (config), ((const char *const[]) { main_file, NULL }));
  rm_rf (dir);
}

/* A missing main file is an empty configuration; an unreadable one is an
 * IO problem of the whole file. */
static void
test_missing_and_unreadable (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GvConfig) config = gv_config_load (main_file, NULL, &problems, &error);
  const GvConfigProblem *p;

  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_false (gv_config_has_desired_state (config));
  g_assert_null (gv_config_get_files (config)[0]);

  g_clear_pointer (&config, gv_config_unref);
  g_clear_pointer (&problems, g_ptr_array_unref);
  g_assert_cmpint (g_mkdir (main_file, 0755), ==, 0); /* a directory where the file should be */
  config = gv_config_load (main_file, NULL, &problems, &error);
  g_assert_null (config);
  g_assert_error (error, GV_ERROR, GV_ERROR_IO);
  g_assert_cmpuint (problems->len, ==, 1);
  p = problems->pdata[0];
  g_assert_cmpstr (p->file, ==, main_file);
  g_assert_cmpuint (p->line, ==, 0);
  g_assert_nonnull (strstr (p->message, "cannot be read"));
  rm_rf (dir);
}

/* ---- drop-ins ---- */

static void
test_dropins (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autofree char *d10 = g_build_filename (dir, "conf.d", "10-lab.conf", NULL);
  g_autofree char *d20 = g_build_filename (dir, "conf.d", "20-site.conf", NULL);
  g_autofree char *d30 = g_build_filename (dir, "conf.d", "30-reset.conf", NULL);
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GvConfig) config = NULL;
  const GvConfigDevice *d;
  const GvConfigProblem *p;
  const char *file;
  guint line;

  put (dir, "gpuvirt.conf", "[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=4\n\n[Device 0000:81:00.4]\n"
                            "Id=10de:26b9\nVgpuType=L40S-24Q\n\n[Manage]\nClasses=0108\n");
  /* written out of order: lexical order decides, not creation */
  put (dir, "conf.d/30-reset.conf", "[Device 0000:81:00.4]\nVgpuType=\n\n[Manage]\nClasses=\n");
  put (dir, "conf.d/20-site.conf", "# the site's count wins\n[Device 81:00.0]\nNumVfs=2\n");
  put (dir, "conf.d/10-lab.conf", "[Device 0000:81:00.0]\nNumVfs=8\n[Device 0000:41:00.0]\nId=10de:26b9\n"
                                  "Passthrough=true\n");
  put (dir, "conf.d/README", "not a drop-in: [nonsense\n");
  put (dir, "conf.d/.hidden.conf", "[nonsense\n");
  put (dir, "conf.d/40-old.conf.bak", "[nonsense\n");

  config = gv_config_load (main_file, NULL, &problems, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (gv_config_get_files (config), ((const char *const[]) { main_file, d10, d20, d30, NULL }));
  d = gv_config_lookup_device (config, "0000:81:00.0");
  g_assert_cmpuint (d->num_vfs, ==, 2);
  g_assert_cmphex (d->device_id, ==, 0x26b9); /* Id from the main file */
  g_assert_true (gv_config_get_origin (config, "Device 0000:81:00.0", "NumVfs", &file, &line));
  g_assert_cmpstr (file, ==, d20);
  g_assert_cmpuint (line, ==, 3);
  g_assert_true (gv_config_get_origin (config, "Device 0000:81:00.0", "Id", &file, &line));
  g_assert_cmpstr (file, ==, main_file);
  /* reset by an empty value */
  d = gv_config_lookup_device (config, "0000:81:00.4");
  g_assert_null (d->vgpu_type);
  g_assert_false (gv_config_get_origin (config, "Device 0000:81:00.4", "VgpuType", NULL, NULL));
  g_assert_true (gv_config_lookup_device (config, "0000:41:00.0")->passthrough);

  /* a problem in a drop-in: the whole configuration is refused, and the
   * problem names the drop-in and its line */
  g_clear_pointer (&config, gv_config_unref);
  g_clear_pointer (&problems, g_ptr_array_unref);
  put (dir, "conf.d/20-site.conf", "# the site's count wins\n[Device 81:00.0]\nNumVfs=two\n");
  config = gv_config_load (main_file, NULL, &problems, &error);
  g_assert_null (config);
  g_assert_error (error, GV_ERROR, GV_ERROR_CONFIG_INVALID);
  g_assert_nonnull (strstr (error->message, "20-site.conf:3: Device 81:00.0/NumVfs: NumVfs: “two”"));
  g_assert_cmpuint (problems->len, ==, 1);
  p = problems->pdata[0];
  g_assert_cmpstr (p->file, ==, d20);
  g_assert_cmpuint (p->line, ==, 3);
  g_assert_cmpstr (p->key, ==, "Device 81:00.0/NumVfs");

  /* a rule across files: Passthrough in one, NumVfs in another */
  g_clear_error (&error);
  g_clear_pointer (&problems, g_ptr_array_unref);
  put (dir, "conf.d/20-site.conf", "[Device 0000:41:00.0]\nNumVfs=2\n");
  config = gv_config_load (main_file, NULL, &problems, &error);
  g_assert_null (config);
  g_assert_cmpuint (problems->len, ==, 1);
  p = problems->pdata[0];
  g_assert_cmpstr (p->file, ==, d10);
  g_assert_cmpuint (p->line, ==, 5);
  g_assert_cmpstr (p->key, ==, "Device 0000:41:00.0/Passthrough");

  /* CheckConfig: a text checked as the main file, the drop-ins after it */
  {
    g_autofree char *dropins = g_build_filename (dir, "conf.d", NULL);
    g_autoptr (GPtrArray) checked = NULL;
    put (dir, "conf.d/20-site.conf", "[Device 0000:81:00.0]\nNumVfs=2\n");
    g_assert_cmpint (g_unlink (d30), ==, 0);
    checked = gv_config_check_text ("[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=1\n", dropins, NULL);
    g_assert_cmpuint (checked->len, ==, 0);
    g_clear_pointer (&checked, g_ptr_array_unref);
    checked = gv_config_check_text ("[Device 0000:81:00.0]\nNumVfs=1\n", dropins, NULL);
    dump_problems (checked);
    g_assert_cmpuint (checked->len, ==, 1);
    /* the group's last line: in the drop-in */
    g_assert_cmpstr (((GvConfigProblem *) checked->pdata[0])->file, ==, d20);
  }
  rm_rf (dir);
}

/* Every example of the documentation is a valid configuration. */
static void
test_documented_examples (void)
{
  g_autofree char *doc = slurp (DATA_DIR "/CONFIGURATION.md");
  g_autofree char *example = g_build_filename (DATA_DIR, "gpuvirt.conf.example", NULL);
  g_autoptr (GPtrArray) problems = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GvConfig) config = gv_config_load (example, "/nonexistent", &problems, &error);
  const char *p = doc;
  guint blocks = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  /* the example is all comments: it configures nothing */
  g_assert_false (gv_config_has_desired_state (config));

  while ((p = strstr (p, "```ini\n"))) {
    const char *end = strstr (p + 7, "```");
    g_autofree char *block = NULL;
    g_autoptr (GPtrArray) found = NULL;

    g_assert_nonnull (end);
    block = g_strndup (p + 7, (gsize) (end - p - 7));
    found = gv_config_check_text (block, NULL, NULL);
    if (found->len)
      dump_problems (found);
    g_assert_cmpuint (found->len, ==, 0);
    blocks++;
    p = end + 3;
  }
  g_assert_cmpuint (blocks, >=, 4);

  /* uncommented, the example's settings are valid too */
  {
    g_autofree char *text = slurp (example);
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    g_autoptr (GString) on = g_string_new (NULL);
    g_autoptr (GPtrArray) found = NULL;
    for (guint i = 0; lines[i]; i++) {
      const char *l = lines[i];
      /* "#[Device …]" and "#Key=value" are settings, "# text" is prose */
      if (l[0] == '#' && (l[1] == '[' || g_ascii_isupper (l[1])))
        l++;
      g_string_append_printf (on, "%s\n", l);
    }
    found = gv_config_check_text (on->str, NULL, NULL);
    if (found->len)
      dump_problems (found);
    g_assert_cmpuint (found->len, ==, 0);
  }
}

/* ---- editing ---- */

static const char *commented =
  "# gpuvirt on host lab-7\n"
  "# (edited by hand and by gpuvirtctl --persist)\n"
  "\n"
  "[Manage]\n"
  "# the NVMe disk the storage VM gets\n"
  "Classes=0108\n"
  "\n"
  "# the desktop GPU, for the gaming VM\n"
  "[Device 0000:01:00.0]\n"
  "Id=10de:1eb1\n"
  "Passthrough=true\n";

static void
test_edit_round_trip (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autoptr (GvConfigEditor) ed = NULL;
  g_autoptr (GvConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  const GvConfigDevice *d;
  const GvConfigMdev *m;
  struct stat st;

  put (dir, "gpuvirt.conf", commented);
  ed = gv_config_editor_new (main_file, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (gv_config_editor_set_passthrough (ed, "41:00.0", 0x10de, 0x26b9, TRUE, &error));
  g_assert_true (gv_config_editor_set_num_vfs (ed, "0000:81:00.0", 0x10de, 0x26b9, 4, &error));
  g_assert_true (gv_config_editor_set_vgpu_type (ed, "0000:81:00.4", 0x10de, 0x26b9, "NVIDIA L40S-24Q", &error));
  g_assert_true (gv_config_editor_set_vgpu_count (ed, "0000:c8:00.0", 0x10de, 0x1eb8, "T4-2Q", 4, &error));
  g_assert_true (gv_config_editor_add_mdev (ed, UUID_UPPER, "67:00.4", 0x10de, 0x2235, "nvidia-562", &error));
  /* the same device again: the value changes, no second group */
  g_assert_true (gv_config_editor_set_num_vfs (ed, "0000:81:00.0", 0x10de, 0x26b9, 8, &error));
  g_assert_no_error (error);
  umask (077); /* the file is 0644 whatever the umask */
  g_assert_true (gv_config_editor_save (ed, &error));
  umask (022);
  g_assert_no_error (error);

  text = slurp (main_file);
  g_test_message ("saved:\n%s", text);
  /* the old text untouched, the new groups after it, in the order made */
  g_assert_true (g_str_has_prefix (text, commented));
  g_assert_cmpstr (text + strlen (commented), ==,
                   "\n[Device 0000:41:00.0]\nId=10de:26b9\nPassthrough=true\n"
                   "\n[Device 0000:81:00.0]\nId=10de:26b9\nNumVfs=8\n"
                   "\n[Device 0000:81:00.4]\nId=10de:26b9\nVgpuType=NVIDIA L40S-24Q\n"
                   "\n[Device 0000:c8:00.0]\nId=10de:1eb8\nVgpuType=T4-2Q\nVgpuCount=4\n"
                   "\n[Mdev " UUID "]\nParent=0000:67:00.4\nParentId=10de:2235\nType=nvidia-562\n");
  g_assert_cmpint (g_stat (main_file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0644);

  config = gv_config_load (main_file, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (gv_config_lookup_device (config, "0000:41:00.0")->passthrough);
  d = gv_config_lookup_device (config, "0000:81:00.4");
  g_assert_cmpstr (d->vgpu_type, ==, "NVIDIA L40S-24Q");
  g_assert_cmpuint (d->vgpu_count, ==, 0);
  d = gv_config_lookup_device (config, "0000:c8:00.0");
  g_assert_cmpstr (d->vgpu_type, ==, "T4-2Q");
  g_assert_cmpuint (d->vgpu_count, ==, 4);
  m = gv_config_lookup_mdev (config, UUID);
  g_assert_cmpstr (m->parent, ==, "0000:67:00.4");
  g_assert_cmphex (m->parent_device_id, ==, 0x2235);

  /* and back: every group goes again, the comments of the rest stay */
  g_clear_pointer (&ed, gv_config_editor_free);
  g_clear_pointer (&config, gv_config_unref);
  ed = gv_config_editor_new (main_file, NULL, &error);
  g_assert_true (gv_config_editor_set_passthrough (ed, "0000:41:00.0", 0x10de, 0x26b9, FALSE, &error));
  g_assert_true (gv_config_editor_set_num_vfs (ed, "0000:81:00.0", 0x10de, 0x26b9, 0, &error));
  g_assert_true (gv_config_editor_set_vgpu_type (ed, "0000:81:00.4", 0x10de, 0x26b9, NULL, &error));
  g_assert_true (gv_config_editor_set_vgpu_count (ed, "0000:c8:00.0", 0x10de, 0x1eb8, NULL, 0, &error));
  g_assert_true (gv_config_editor_remove_mdev (ed, UUID, &error));
  g_assert_true (gv_config_editor_remove_mdev (ed, UUID, &error)); /* not there: fine */
  /* giving back what was never configured changes nothing */
  g_assert_true (gv_config_editor_set_passthrough (ed, "0000:02:00.0", 0x144d, 0xa80a, FALSE, &error));
  g_assert_true (gv_config_editor_save (ed, &error));
  g_assert_no_error (error);
  g_free (text);
  text = slurp (main_file);
  g_test_message ("saved:\n%s", text);
  g_assert_cmpstr (text, ==, commented);

  /* a group of the middle goes with its comment; the next one keeps its */
  g_clear_pointer (&ed, gv_config_editor_free);
  put (dir, "gpuvirt.conf", "[Manage]\nClasses=0108\n\n# the L40S\n[Device 0000:41:00.0]\nId=10de:26b9\n"
                            "NumVfs=4\n\n# the desktop GPU\n[Device 01:00.0]\n# on vfio-pci for the gaming VM\n"
                            "Passthrough = true\nId=10de:1eb1\n");
  ed = gv_config_editor_new (main_file, NULL, &error);
  g_assert_true (gv_config_editor_set_num_vfs (ed, "0000:41:00.0", 0x10de, 0x26b9, 0, &error));
  /* a key of a group written short is found; a new key goes after the last */
  g_assert_true (gv_config_editor_set_passthrough (ed, "0000:01:00.0", 0x10de, 0x1eb1, TRUE, &error));
  g_assert_true (gv_config_editor_set_vgpu_type (ed, "0000:01:00.0", 0x10de, 0x1eb1, " odd\\name", &error));
  g_assert_no_error (error);
  g_free (text);
  text = gv_config_editor_get_text (ed);
  g_assert_cmpstr (text, ==, "[Manage]\nClasses=0108\n\n# the desktop GPU\n[Device 01:00.0]\n"
                             "# on vfio-pci for the gaming VM\nPassthrough=true\nId=10de:1eb1\n"
                             "VgpuType=\\sodd\\\\name\n");
  /* (Passthrough with VgpuType: not saved) */
  g_assert_false (gv_config_editor_save (ed, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_CONFIG_INVALID);
  g_clear_error (&error);

  /* the Id is the host's now: a replaced GPU is recorded as it is */
  g_clear_pointer (&ed, gv_config_editor_free);
  ed = gv_config_editor_new (main_file, NULL, &error);
  g_assert_true (gv_config_editor_set_passthrough (ed, "0000:01:00.0", 0x10de, 0x2204, TRUE, &error));
  g_assert_no_error (error);
  g_free (text);
  text = gv_config_editor_get_text (ed);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "[Device 01:00.0]\n# on vfio-pci for the gaming VM\nPassthrough=true\n"
                                  "Id=10de:2204\n"));
  g_assert_null (strstr (text, "1eb1"));

  /* bad arguments */
  g_assert_false (gv_config_editor_set_passthrough (ed, "01:00", 0x10de, 0x2204, TRUE, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_config_editor_add_mdev (ed, "nope", "0000:67:00.4", 0x10de, 0x2235, "A40-8Q", &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (gv_config_editor_set_vgpu_type (ed, "0000:81:00.4", 0x10de, 0x26b9, "A;B", &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS);
  rm_rf (dir);
}

/* An edit a drop-in would override fails, naming it, and leaves the text. */
static void
test_edit_overridden (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autofree char *dropin = g_build_filename (dir, "conf.d", "50-lab.conf", NULL);
  g_autoptr (GvConfigEditor) ed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  put (dir, "gpuvirt.conf", commented);
  put (dir, "conf.d/50-lab.conf", "[Device 0000:01:00.0]\nPassthrough=true\n\n[Device 0000:81:00.0]\nNumVfs=2\n");
  ed = gv_config_editor_new (main_file, NULL, &error);
  g_assert_no_error (error);
  before = gv_config_editor_get_text (ed);
  g_assert_false (gv_config_editor_set_passthrough (ed, "0000:01:00.0", 0x10de, 0x1eb1, FALSE, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_CONFIG_OVERRIDDEN);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, dropin));
  g_assert_nonnull (strstr (error->message, " line 2 sets Passthrough of [Device 0000:01:00.0]"));
  after = gv_config_editor_get_text (ed);
  g_assert_cmpstr (before, ==, after);
  g_clear_error (&error);
  g_assert_false (gv_config_editor_set_num_vfs (ed, "0000:81:00.0", 0x10de, 0x26b9, 4, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_CONFIG_OVERRIDDEN);
  g_assert_nonnull (strstr (error->message, " line 5 sets NumVfs of [Device 0000:81:00.0]"));
  g_clear_error (&error);
  /* what the drop-in already says is fine */
  g_assert_true (gv_config_editor_set_num_vfs (ed, "0000:81:00.0", 0x10de, 0x26b9, 2, &error));
  g_assert_no_error (error);

  /* a main file with problems is not saved, even with other edits */
  g_clear_pointer (&ed, gv_config_editor_free);
  put (dir, "gpuvirt.conf", "[Device 0000:01:00.0]\nId=10de:1eb1\nPassthrough=perhaps\n");
  ed = gv_config_editor_new (main_file, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (gv_config_editor_set_num_vfs (ed, "0000:41:00.0", 0x10de, 0x26b9, 4, &error));
  g_assert_false (gv_config_editor_save (ed, &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_CONFIG_INVALID);
  g_assert_nonnull (strstr (error->message, ":3: Device 0000:01:00.0/Passthrough"));
  g_free (after);
  after = slurp (main_file);
  g_assert_null (strstr (after, "41:00.0"));
  rm_rf (dir);
}

/* No temporary file is left in DIR. */
static void
assert_no_temporaries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)))
    g_assert_false (name[0] == '.');
}

static void
test_save_failures (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autofree char *blocked = g_build_filename (dir, "blocker", "gpuvirt.conf", NULL);
  g_autofree char *big = g_strnfill (64 * 1024, '#');
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  struct rlimit old, small = { 4096, 4096 };
  void (*old_handler) (int);

  /* a fresh directory is made */
  {
    g_autofree char *nested = g_build_filename (dir, "etc", "gpuvirt", "gpuvirt.conf", NULL);
    g_assert_true (gv_config_save_text (nested, "[Manage]\n", &error));
    g_assert_no_error (error);
  }

  put (dir, "gpuvirt.conf", commented);
  /* the disk fills up (a file size limit: EFBIG) while writing */
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old), ==, 0);
  small.rlim_max = old.rlim_max; /* the soft limit only: it can be raised again */
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  g_assert_false (gv_config_save_text (main_file, big, &error));
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);
  signal (SIGXFSZ, old_handler);
  g_assert_error (error, GV_ERROR, GV_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "EFBIG"));
  g_assert_nonnull (strstr (error->message, "the file is unchanged"));
  text = slurp (main_file);
  g_assert_cmpstr (text, ==, commented);
  assert_no_temporaries (dir);
  g_clear_error (&error);

  /* its directory cannot be made: a file is in the way */
  put (dir, "blocker", "a file, not a directory\n");
  g_assert_false (gv_config_save_text (blocked, "[Manage]\n", &error));
  g_assert_error (error, GV_ERROR, GV_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "creating its directory"));
  g_clear_error (&error);

  /* the rename cannot replace a directory: the temporary file goes */
  {
    g_autofree char *as_dir = g_build_filename (dir, "taken.conf", NULL);
    g_assert_cmpint (g_mkdir (as_dir, 0755), ==, 0);
    put (dir, "taken.conf/keep", "x");
    g_assert_false (gv_config_save_text (as_dir, "[Manage]\n", &error));
    g_assert_error (error, GV_ERROR, GV_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "renaming"));
    assert_no_temporaries (dir);
  }
  rm_rf (dir);
}

/* ---- against a simulated host ---- */

static void
test_check_host (void)
{
  g_autoptr (SimMount) mount = sim_mount_start ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new (mount->root, &error);
  g_autoptr (GPtrArray) problems = NULL;
  const char *text =
    "[Device 0000:41:00.0]\n"  /* 1 */
    "Id=10de:26b5\n"           /* 2: renumbered, an L40 here is an L40S */
    "NumVfs=4\n"
    "\n"
    "[Device 0000:55:00.0]\n"  /* 5: nothing there */
    "Id=10de:26b9\n"
    "Passthrough=true\n"
    "\n"
    "[Device 0000:81:00.0]\n"  /* 9: cold GPU, its VFs made by the plan */
    "Id=10de:26b9\n"
    "NumVfs=4\n"
    "\n"
    "[Device 0000:81:00.4]\n"  /* 13: its first VF: fine */
    "Id=10de:26b9\n"
    "VgpuType=L40S-24Q\n"
    "\n"
    "[Device 0000:81:00.5]\n"  /* 17: its second VF, wrong Id */
    "Id=10de:2236\n"
    "VgpuType=L40S-24Q\n"
    "\n"
    "[Device 0000:81:01.0]\n"  /* 21: a fifth VF: NumVfs=4 does not make it */
    "Id=10de:26b9\n"
    "VgpuType=L40S-24Q\n"
    "\n"
    "[Device 0000:c1:00.0]\n"  /* 25: 32 VFs, asked for 64 */
    "Id=10de:26b9\n"
    "NumVfs=64\n"
    "\n"
    "[Device 0000:01:00.0]\n"  /* 29: a GPU given a VF's type */
    "Id=10de:26b9\n"
    "VgpuType=L40S-24Q\n";
  struct {
    guint line;
    const char *key;
    const char *message;
  } want[] = {
    { 31, "Device 0000:01:00.0/VgpuType", "0000:01:00.0 is no VF" },
    { 2, "Device 0000:41:00.0/Id", "0000:41:00.0 is 10de:26b9, configured 10de:26b5: device moved or replaced" },
    { 5, "Device 0000:55:00.0", "no PCI function 0000:55:00.0 on this host" },
    { 18, "Device 0000:81:00.5/Id", "0000:81:00.5 will be a VF of 0000:81:00.0, which makes VFs 10de:26b9, "
                                     "configured 10de:2236" },
    { 21, "Device 0000:81:01.0", "no PCI function 0000:81:01.0" },
    { 27, "Device 0000:c1:00.0/NumVfs", "at most 32 VFs" },
  };

  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (host, NULL, &error));
  problems = gv_config_check_text (text, NULL, host);
  dump_problems (problems);
  g_assert_cmpuint (problems->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
    const GvConfigProblem *p = problems->pdata[i];
    g_assert_cmpuint (p->line, ==, want[i].line);
    g_assert_cmpstr (p->key, ==, want[i].key);
    g_assert_true (p->host);
    if (!strstr (p->message, want[i].message))
      g_error ("“%s” does not say “%s”", p->message, want[i].message);
  }

  /* an mdev parent that is not there */
  g_clear_pointer (&problems, g_ptr_array_unref);
  problems = gv_config_check_text ("[Mdev " UUID "]\nParent=0000:67:00.4\nParentId=10de:2235\nType=A40-8Q\n", NULL,
                                   host);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_cmpuint (((GvConfigProblem *) problems->pdata[0])->line, ==, 2);
  g_assert_cmpstr (((GvConfigProblem *) problems->pdata[0])->key, ==, "Mdev " UUID "/Parent");
}

/* The daemon's [Manage]: applied to the host model. */
static void
test_manage (void)
{
  g_autoptr (SimMount) mount = sim_mount_start ("l40s-vendor-vfio");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new (mount->root, &error);
  g_autofree char *dir = tmp_dir ();
  g_autofree char *main_file = g_build_filename (dir, "gpuvirt.conf", NULL);
  g_autoptr (GvConfig) config = NULL;
  g_autoptr (GvConfig) empty = gv_config_new_empty ();

  g_assert_true (gv_host_rescan (host, NULL, &error));
  g_assert_false (gv_host_lookup (host, "0000:42:00.0")->managed);
  put (dir, "gpuvirt.conf", "[Manage]\nClasses=0108\n");
  config = gv_config_load (main_file, NULL, NULL, &error);
  g_assert_no_error (error);
  gv_config_apply_manage (config, host);
  g_assert_true (gv_host_lookup (host, "0000:42:00.0")->managed);
  gv_config_apply_manage (empty, host);
  g_assert_false (gv_host_lookup (host, "0000:42:00.0")->managed);
  g_clear_pointer (&config, gv_config_unref);
  put (dir, "gpuvirt.conf", "[Manage]\nDevices=42:00.0\n");
  config = gv_config_load (main_file, NULL, NULL, &error);
  gv_config_apply_manage (config, host);
  g_assert_true (gv_host_lookup (host, "0000:42:00.0")->managed);
  rm_rf (dir);
}

/* A byte-order mark, which some editors write first, is not a problem:
 * the text reads as without it (it was "neither Key=value, a [group] nor a
 * comment"). One anywhere else is. */
static void
test_bom (void)
{
  g_autoptr (GPtrArray) first = gv_config_check_text ("\xef\xbb\xbf[Manage]\nClasses=0108\n", NULL, NULL);
  g_autoptr (GPtrArray) later = gv_config_check_text ("[Manage]\n\xef\xbb\xbf" "Classes=0108\n", NULL, NULL);
  g_autoptr (GPtrArray) group = gv_config_check_text ("\xef\xbb\xbf[Device 0000:41:00.0]\nId=10de:26b9\nNumVfs=4\n",
                                                      NULL, NULL);

  g_assert_cmpuint (first->len, ==, 0);
  g_assert_cmpuint (group->len, ==, 0);
  g_assert_cmpuint (later->len, ==, 1);
  g_assert_cmpuint (((GvConfigProblem *) later->pdata[0])->line, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/parse/bad", test_bad);
  g_test_add_func ("/config/parse/many", test_many);
  g_test_add_func ("/config/parse/good", test_good);
  g_test_add_func ("/config/parse/bom", test_bom);
  g_test_add_func ("/config/parse/missing", test_missing_and_unreadable);
  g_test_add_func ("/config/parse/dropins", test_dropins);
  g_test_add_func ("/config/parse/documented", test_documented_examples);
  g_test_add_func ("/config/edit/round-trip", test_edit_round_trip);
  g_test_add_func ("/config/edit/overridden", test_edit_overridden);
  g_test_add_func ("/config/edit/save-failures", test_save_failures);
  g_test_add_func ("/config/host/check", test_check_host);
  g_test_add_func ("/config/host/manage", test_manage);
  return g_test_run ();
}
