/* The [Manage] group of the configuration (see config-manage.h). */
#include "config-manage.h"
#include "bus-paths.h"

gboolean
config_manage_apply (GvHost *host, const char *file, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) classes = NULL;
  g_auto (GStrv) devices = NULL;
  g_autoptr (GArray) matches = g_array_new (FALSE, TRUE, sizeof (GvClassMatch));
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new_with_free_func (g_free);

  if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, &local)) {
    if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      gv_host_set_extra_managed (host, NULL, NULL, 0);
      return TRUE;
    }
    g_set_error (error, local->domain, local->code, "%s: %s", file, local->message);
    return FALSE;
  }
  classes = g_key_file_get_string_list (kf, "Manage", "Classes", NULL, NULL);
  devices = g_key_file_get_string_list (kf, "Manage", "Devices", NULL, NULL);
  for (guint i = 0; classes && classes[i]; i++) {
    GvClassMatch m;
    g_strstrip (classes[i]);
    if (!*classes[i])
      continue;
    if (!gv_class_match_parse (classes[i], &m)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [Manage] Classes: \"%s\" is not a PCI class (2, 4 or 6 hex digits, e.g. 0108)", file, classes[i]);
      return FALSE;
    }
    g_array_append_val (matches, m);
  }
  for (guint i = 0; devices && devices[i]; i++) {
    char *bdf = gpuvirt_normalize_bdf (g_strstrip (devices[i]));
    if (!bdf) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: [Manage] Devices: \"%s\" is not a PCI address (e.g. 0000:05:00.0)", file, devices[i]);
      return FALSE;
    }
    g_ptr_array_add (bdfs, bdf);
  }
  g_ptr_array_add (bdfs, NULL);
  gv_host_set_extra_managed (host, (const char *const *) bdfs->pdata, (GvClassMatch *) (gpointer) matches->data,
                             matches->len);
  return TRUE;
}
