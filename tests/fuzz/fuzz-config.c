/* The configuration: the main file's text and up to seven drop-ins
 * (NUL-separated), scanned, merged and checked as gpuvirtd does for
 * its files and for CheckConfig, then compared with an empty host and
 * planned on it. Every problem must have a message, and a
 * configuration is either valid or has problems, never both. */
#include "fuzz.h"

#include "config/config.h"
#include "config/internal.h"
#include "host/model.h"

#include <stdlib.h>
#include <string.h>

static GvHost *
empty_host (void)
{
  static GvHost *host;
  g_autoptr (GError) error = NULL;

  if (host)
    return host;
  {
    g_autofree char *root = g_build_filename (fuzz_tmpdir (), "host", NULL);
    g_autofree char *devices = g_build_filename (root, "sys/bus/pci/devices", NULL);
    g_mkdir_with_parents (devices, 0700);
    host = gv_host_new (root, &error);
    if (!host || !gv_host_rescan (host, NULL, &error))
      g_error ("fuzz-config: %s", error ? error->message : "no host");
  }
  return host;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, 8);
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_source_free);
  g_autoptr (GPtrArray) problems = gv_config_problems_new ();
  g_autoptr (GPtrArray) host_problems = NULL;
  g_autofree char *text = NULL;
  GvConfig *config;
  GvConfigPlan *plan;

  if (size > GV_CONFIG_MAX_SIZE)
    return 0;
  for (guint i = 0; parts[i]; i++) {
    GvConfigSource *s = g_new0 (GvConfigSource, 1);
    s->file = i == 0 ? NULL : g_strdup_printf ("/etc/gpuvirt/conf.d/%02u.conf", i);
    s->text = g_strdup (parts[i]);
    g_ptr_array_add (sources, s);
  }
  config = gv_config_build (sources, problems);
  if (!config)
    abort ();
  for (guint i = 0; i < problems->len; i++) {
    GvConfigProblem *p = problems->pdata[i];
    if (!p->message || !*p->message || !p->key)
      abort ();
  }
  text = gv_config_problems_to_text (problems, 5);

  /* what the daemon reads of a configuration */
  for (guint i = 0; i < gv_config_get_devices (config)->len; i++) {
    const GvConfigDevice *d = gv_config_get_devices (config)->pdata[i];
    g_autofree char *group = g_strdup_printf ("Device %s", d->bdf);
    const char *file = NULL;
    guint line = 0;
    if (gv_config_lookup_device (config, d->bdf) != d)
      abort ();
    gv_config_get_origin (config, group, "", &file, &line);
  }
  for (guint i = 0; i < gv_config_get_mdevs (config)->len; i++) {
    const GvConfigMdev *m = gv_config_get_mdevs (config)->pdata[i];
    if (gv_config_lookup_mdev (config, m->uuid) != m)
      abort ();
  }
  gv_config_has_desired_state (config);

  /* against a host without any function: every device missing */
  host_problems = gv_config_check_host (config, empty_host ());
  plan = gv_config_plan_compute (config, empty_host (), NULL);
  g_free (gv_config_plan_to_text (plan));
  gv_config_plan_free (plan);
  gv_config_unref (config);
  return 0;
}
