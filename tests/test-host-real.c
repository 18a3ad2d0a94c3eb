/* The host model on this machine's real /sys, read only: every PCI address,
 * vendor/device/subsystem ID, class, revision and driver must be what
 * `lspci -nnk -D` prints. Nothing is written anywhere. */
#include "host/model.h"

#include <string.h>

typedef struct {
  char *bdf;
  guint class16;     /* "[0300]" */
  guint vendor, device;
  int revision;      /* -1 when lspci prints none */
  int subvendor, subdevice; /* -1 without a Subsystem line */
  char *driver;      /* "" without "Kernel driver in use" */
} LspciEntry;

static void
lspci_entry_free (LspciEntry *e)
{
  g_free (e->bdf);
  g_free (e->driver);
  g_free (e);
}

/* The last "[xxxx:yyyy]" of LINE. Names may hold brackets of their own
 * ("GA102 [GeForce RTX 3090] [10de:2204]"), the IDs come last. */
static gboolean
last_id_pair (const char *line, guint *a, guint *b)
{
  g_autoptr (GRegex) re = g_regex_new ("\\[([0-9a-f]{4}):([0-9a-f]{4})\\]", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *x = NULL;
  g_autofree char *y = NULL;
  gboolean found = FALSE;

  g_regex_match (re, line, 0, &match);
  while (g_match_info_matches (match)) {
    g_free (x);
    g_free (y);
    x = g_match_info_fetch (match, 1);
    y = g_match_info_fetch (match, 2);
    found = TRUE;
    g_match_info_next (match, NULL);
  }
  if (found) {
    *a = g_ascii_strtoull (x, NULL, 16);
    *b = g_ascii_strtoull (y, NULL, 16);
  }
  return found;
}

static GHashTable *
run_lspci (void)
{
  const char *argv[] = { "lspci", "-nnk", "-D", "-A", "linux-sysfs", NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  GHashTable *entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) lspci_entry_free);
  g_autoptr (GRegex) head = g_regex_new ("^([0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]) .*?\\[([0-9a-f]{4})\\]: ", 0, 0, NULL);
  g_autoptr (GRegex) rev = g_regex_new ("\\(rev ([0-9a-f]{2})\\)", 0, 0, NULL);
  LspciEntry *cur = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const char *line = lines[i];
    g_autoptr (GMatchInfo) m = NULL;

    if (g_regex_match (head, line, 0, &m)) {
      g_autofree char *cls = g_match_info_fetch (m, 2);
      g_autoptr (GMatchInfo) r = NULL;
      cur = g_new0 (LspciEntry, 1);
      cur->bdf = g_match_info_fetch (m, 1);
      cur->class16 = g_ascii_strtoull (cls, NULL, 16);
      g_assert_true (last_id_pair (line, &cur->vendor, &cur->device));
      cur->revision = -1;
      if (g_regex_match (rev, line, 0, &r)) {
        g_autofree char *rv = g_match_info_fetch (r, 1);
        cur->revision = g_ascii_strtoull (rv, NULL, 16);
      }
      cur->subvendor = cur->subdevice = -1;
      cur->driver = g_strdup ("");
      g_hash_table_insert (entries, cur->bdf, cur);
    } else if (cur && g_str_has_prefix (line, "\tSubsystem: ")) {
      guint a, b;
      if (last_id_pair (line, &a, &b)) {
        cur->subvendor = a;
        cur->subdevice = b;
      }
    } else if (cur && g_str_has_prefix (line, "\tKernel driver in use: ")) {
      g_free (cur->driver);
      cur->driver = g_strstrip (g_strdup (line + strlen ("\tKernel driver in use: ")));
    } else if (*line && line[0] != '\t') {
      g_error ("unexpected lspci line: %s", line);
    }
  }
  return entries;
}

static void
test_real_sys (void)
{
  g_autoptr (GHashTable) lspci = run_lspci ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = gv_host_new ("/", &error);
  GPtrArray *devices;

  g_assert_no_error (error);
  g_assert_true (gv_host_rescan (host, NULL, &error));
  g_assert_no_error (error);
  devices = gv_host_get_devices (host);
  g_test_message ("%u PCI functions here, %u in lspci", devices->len, g_hash_table_size (lspci));
  g_assert_cmpuint (devices->len, ==, g_hash_table_size (lspci));
  g_assert_cmpuint (devices->len, >, 0);

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    const GvHostFunction *fn = d->fn;
    LspciEntry *e = g_hash_table_lookup (lspci, fn->bdf);
    g_autoptr (GPtrArray) holders = NULL;

    g_test_message ("%s %04x:%04x class %06x driver \"%s\"", fn->bdf, fn->vendor_id, fn->device_id,
                    fn->class_code, fn->driver);
    g_assert_nonnull (e);
    g_assert_cmphex (fn->vendor_id, ==, e->vendor);
    g_assert_cmphex (fn->device_id, ==, e->device);
    g_assert_cmphex (fn->class_code >> 8, ==, e->class16);
    if (e->revision >= 0)
      g_assert_cmphex (fn->revision, ==, e->revision);
    else
      g_assert_cmphex (fn->revision, ==, 0);
    if (e->subvendor >= 0) {
      g_assert_cmphex (fn->subsystem_vendor_id, ==, e->subvendor);
      g_assert_cmphex (fn->subsystem_device_id, ==, e->subdevice);
    }
    g_assert_cmpstr (fn->driver, ==, e->driver);
    g_assert_cmpint (d->managed, ==, (fn->class_code >> 16) == 0x03 || d->role == GV_HOST_ROLE_COMPANION || d->role == GV_HOST_ROLE_VF);

    /* reading /proc for holders works here too (whatever it finds) */
    holders = gv_host_get_holders (host, fn->bdf, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpstr (gv_host_get_facts (host)->kernel_cmdline, !=, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/host/real/lspci", test_real_sys);
  return g_test_run ();
}
