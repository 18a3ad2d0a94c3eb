/* CheckConfig (see config.h): a text validated as the main file would be,
 * then compared with the host. Above both the loader and the host
 * comparison, so that neither needs the other. */
#include "config/internal.h"

#include <string.h>

GPtrArray *
gv_config_check_text (const char *text, const char *dropin_dir, GvHost *host)
{
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_source_free);
  GPtrArray *problems = gv_config_problems_new ();
  g_autoptr (GvConfig) config = NULL;
  GvConfigSource *s;

  if (strlen (text) > GV_CONFIG_MAX_SIZE) {
    gv_config_problem_add (problems, NULL, 0, "", FALSE, "the text is larger than 1 MiB");
    return problems;
  }
  s = g_new0 (GvConfigSource, 1);
  s->text = g_strdup (text);
  g_ptr_array_add (sources, s);
  if (dropin_dir)
    gv_config_add_dropins (sources, dropin_dir, problems);
  config = gv_config_build (sources, problems);
  if (host) {
    g_autoptr (GPtrArray) more = gv_config_check_host (config, host);
    g_ptr_array_extend_and_steal (problems, g_steal_pointer (&more));
  }
  return problems;
}
