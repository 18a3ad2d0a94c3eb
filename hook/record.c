/* The record of what prepare did, one GKeyFile per domain in the state
 * directory (/run/gpuvirt-libvirt-hook by default). Why /run: what it
 * describes (drivers bound, mdevs made, VF types set) is kernel state that
 * a reboot ends, so the record must end with the boot too, as libvirt's own
 * records of running domains in /run/libvirt do; it survives crashes of
 * the hook and of libvirtd, which is what release needs. The original
 * drivers are not in it: gpuvirtd keeps them (Device.OriginalDriver) in
 * its own state directory, and GiveBack() returns each function to its. */
#include "hook.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP "Record"

HookRecord *
hook_record_new (void)
{
  HookRecord *r = g_new0 (HookRecord, 1);

  r->bound = g_ptr_array_new_with_free_func (g_free);
  r->mdevs = g_ptr_array_new_with_free_func (g_free);
  r->vf_types = g_ptr_array_new_with_free_func (g_free);
  return r;
}

void
hook_record_free (HookRecord *r)
{
  if (!r)
    return;
  g_ptr_array_unref (r->bound);
  g_ptr_array_unref (r->mdevs);
  g_ptr_array_unref (r->vf_types);
  g_free (r);
}

gboolean
hook_record_is_empty (const HookRecord *r)
{
  return r->bound->len == 0 && r->mdevs->len == 0 && r->vf_types->len == 0;
}

void
hook_record_add (GPtrArray *list, const char *item)
{
  for (guint i = 0; i < list->len; i++)
    if (g_ascii_strcasecmp (list->pdata[i], item) == 0)
      return;
  g_ptr_array_add (list, g_strdup (item));
}

void
hook_record_remove (GPtrArray *list, const char *item)
{
  for (guint i = 0; i < list->len; i++)
    if (g_ascii_strcasecmp (list->pdata[i], item) == 0) {
      g_ptr_array_remove_index (list, i);
      return;
    }
}

static void
read_list (GKeyFile *kf, const char *key, GPtrArray *list)
{
  g_auto (GStrv) items = g_key_file_get_string_list (kf, GROUP, key, NULL, NULL);

  for (guint i = 0; items && items[i]; i++)
    if (*items[i])
      hook_record_add (list, items[i]);
}

gboolean
hook_record_load (const char *path, HookRecord **ret)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (HookRecord) r = hook_record_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error)) {
    if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      hook_error ("cannot read the record %s: %s", path, error->message);
      return FALSE;
    }
  } else {
    read_list (kf, "Bound", r->bound);
    read_list (kf, "Mdevs", r->mdevs);
    read_list (kf, "VfTypes", r->vf_types);
  }
  *ret = g_steal_pointer (&r);
  return TRUE;
}

static void
write_list (GKeyFile *kf, const char *key, GPtrArray *list)
{
  if (list->len)
    g_key_file_set_string_list (kf, GROUP, key, (const char *const *) list->pdata, list->len);
}

gboolean
hook_record_save (const char *path, const HookRecord *r)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = NULL;

  if (hook_record_is_empty (r)) {
    if (g_unlink (path) < 0 && errno != ENOENT) {
      hook_error ("cannot remove the record %s: %s", path, g_strerror (errno));
      return FALSE;
    }
    return TRUE;
  }
  if (g_mkdir_with_parents (dir, 0700) < 0) {
    hook_error ("cannot make %s: %s", dir, g_strerror (errno));
    return FALSE;
  }
  write_list (kf, "Bound", r->bound);
  write_list (kf, "Mdevs", r->mdevs);
  write_list (kf, "VfTypes", r->vf_types);
  text = g_key_file_to_data (kf, NULL, NULL);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                 &error)) {
    hook_error ("cannot write the record %s: %s", path, error->message);
    return FALSE;
  }
  return TRUE;
}
