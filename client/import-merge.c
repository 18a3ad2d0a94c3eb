/* See import-merge.h. The main file's text is merged line by line, so
 * that what the administrator wrote (comments, order, other keys) stays;
 * gpuvirtd checks the result again when it is saved. */
#include "import-merge.h"

#include "bus-model.h"
#include "error-hint.h"
#include "gpuvirt-names.h"

#include <stdio.h>
#include <string.h>

CtlImportGroup *
ctl_import_group_new (const char *header, const char *comment)
{
  CtlImportGroup *g = g_new0 (CtlImportGroup, 1);

  g->header = g_strdup (header);
  g->comment = g_strdup (comment);
  g->keys = g_ptr_array_new_with_free_func (g_free);
  return g;
}

void
ctl_import_group_free (CtlImportGroup *g)
{
  g_free (g->header);
  g_free (g->comment);
  g_ptr_array_unref (g->keys);
  g_free (g);
}

static gboolean
key_is (const char *line, const char *key)
{
  size_t n = strlen (key);
  const char *p = line + strspn (line, " \t");

  if (strncmp (p, key, n) != 0)
    return FALSE;
  p += n;
  p += strspn (p, " \t");
  return *p == '=';
}

static char *
key_of (const char *kv)
{
  const char *eq = strchr (kv, '=');
  return g_strndup (kv, eq ? (gsize) (eq - kv) : strlen (kv));
}

void
ctl_import_group_set (CtlImportGroup *g, const char *key, const char *value)
{
  for (guint i = 0; i < g->keys->len; i++)
    if (key_is (g->keys->pdata[i], key))
      {
        if (g_str_equal (key, "Devices"))
          {
            /* a list: add to it */
            char *joined = g_strconcat (g->keys->pdata[i], ";", value, NULL);
            g_free (g->keys->pdata[i]);
            g->keys->pdata[i] = joined;
          }
        else
          {
            g_free (g->keys->pdata[i]);
            g->keys->pdata[i] = g_strdup_printf ("%s=%s", key, value);
          }
        return;
      }
  g_ptr_array_add (g->keys, g_strdup_printf ("%s=%s", key, value));
}

/* "Device 0000:01:00.0" and "Device 01:00.0" are one group; UUIDs in any case. */
static char *
normalize (const char *header)
{
  g_autofree char *h = g_strstrip (g_strdup (header));
  if (g_str_has_prefix (h, "Device "))
    {
      const char *a = h + strlen ("Device ");
      a += strspn (a, " ");
      if (strlen (a) == 7)
        {
          g_autofree char *full = g_strconcat ("Device 0000:", a, NULL);
          return g_ascii_strdown (full, -1);
        }
      return g_ascii_strdown (h, -1);
    }
  if (g_str_has_prefix (h, "Mdev "))
    return g_ascii_strdown (h, -1);
  return g_steal_pointer (&h);
}

CtlImportGroup *
ctl_import_find (GPtrArray *groups, const char *header)
{
  g_autofree char *want = normalize (header);

  for (guint i = 0; i < groups->len; i++)
    {
      CtlImportGroup *g = groups->pdata[i];
      g_autofree char *have = normalize (g->header);
      if (g_str_equal (have, want))
        return g;
    }
  return NULL;
}

/* The header of a "[...]" line, else NULL. */
static char *
header_of (const char *line)
{
  const char *p = line + strspn (line, " \t");
  const char *end;

  if (*p != '[' || !(end = strrchr (p, ']')))
    return NULL;
  return g_strndup (p + 1, (gsize) (end - p - 1));
}

char *
ctl_import_merge (const char *text, GPtrArray *groups)
{
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  guint n = g_strv_length (lines);
  GString *out = g_string_new (NULL);
  g_autoptr (GHashTable) done = g_hash_table_new (NULL, NULL);

  /* a trailing newline leaves one empty last piece */
  if (n > 0 && !*lines[n - 1])
    n--;
  for (guint i = 0; i < n;)
    {
      g_autofree char *header = header_of (lines[i]);
      CtlImportGroup *g = header ? ctl_import_find (groups, header) : NULL;
      guint end, last;
      g_autoptr (GHashTable) set = NULL;

      if (!g)
        {
          g_string_append_printf (out, "%s\n", lines[i++]);
          continue;
        }
      g_hash_table_add (done, g);
      set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      /* the group runs to the next header; its keys' lines after the last key */
      for (end = i + 1; end < n; end++)
        {
          g_autofree char *next = header_of (lines[end]);
          if (next)
            break;
        }
      last = i;
      for (guint j = i + 1; j < end; j++)
        if (strchr (lines[j], '=') && lines[j][strspn (lines[j], " \t")] != '#')
          last = j;
      for (guint j = i; j < end; j++)
        {
          const char *line = lines[j];
          gboolean replaced = FALSE;

          for (guint k = 0; j > i && k < g->keys->len; k++)
            {
              g_autofree char *key = key_of (g->keys->pdata[k]);
              if (!key_is (line, key) || line[strspn (line, " \t")] == '#')
                continue;
              if (g_str_equal (key, "Devices"))
                {
                  /* extend the list with what it lacks */
                  g_autofree char *value = g_strstrip (g_strdup (strchr (line, '=') + 1));
                  g_auto (GStrv) have = g_strsplit (value, ";", -1);
                  g_auto (GStrv) add = g_strsplit (strchr (g->keys->pdata[k], '=') + 1, ";", -1);
                  GString *list = g_string_new (value);
                  for (guint a = 0; add[a]; a++)
                    if (*add[a] && !g_strv_contains ((const char *const *) have, add[a]))
                      g_string_append_printf (list, "%s%s", list->len ? ";" : "", add[a]);
                  g_string_append_printf (out, "Devices=%s\n", list->str);
                  g_string_free (list, TRUE);
                }
              else
                g_string_append_printf (out, "%s\n", (char *) g->keys->pdata[k]);
              g_hash_table_add (set, g_steal_pointer (&key));
              replaced = TRUE;
              break;
            }
          if (!replaced)
            g_string_append_printf (out, "%s\n", line);
          if (j == last)
            for (guint k = 0; k < g->keys->len; k++)
              {
                g_autofree char *key = key_of (g->keys->pdata[k]);
                if (!g_hash_table_contains (set, key))
                  g_string_append_printf (out, "%s\n", (char *) g->keys->pdata[k]);
              }
        }
      i = end;
    }
  for (guint i = 0; i < groups->len; i++)
    {
      CtlImportGroup *g = groups->pdata[i];
      if (g_hash_table_contains (done, g))
        continue;
      if (out->len && !g_str_has_suffix (out->str, "\n\n"))
        g_string_append_c (out, '\n');
      if (g->comment)
        g_string_append_printf (out, "%s\n", g->comment);
      g_string_append_printf (out, "[%s]\n", g->header);
      for (guint k = 0; k < g->keys->len; k++)
        g_string_append_printf (out, "%s\n", (char *) g->keys->pdata[k]);
    }
  return g_string_free (out, FALSE);
}

static int
get_config_text (sd_bus *bus, char **text)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  const char *t;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "GetConfig", &error,
                          &reply, "");
  if (r >= 0)
    r = sd_bus_message_read (reply, "s", &t);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the configuration"));
  *text = g_strdup (t);
  return 0;
}

int
ctl_import_finish (sd_bus *bus, const char *source, GPtrArray *groups, GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    fprintf (stderr, _("cannot map: %s\n"), (char *) problems->pdata[i]);
  if (ctl_args.apply)
    {
      g_autofree char *text = NULL;
      g_autofree char *merged = NULL;
      int r;

      if (problems->len)
        {
          fputs (_("Nothing was saved: the entries above cannot be mapped. Fix the file, or import without --apply "
                   "and edit the result.\n"),
                 stderr);
          return GV_EXIT_FAILURE;
        }
      if (groups->len == 0)
        return GV_EXIT_OK;
      r = get_config_text (bus, &text);
      if (r != 0)
        return r;
      merged = ctl_import_merge (text, groups);
      return ctl_config_save_text (bus, source, merged);
    }
  {
    g_autofree char *text = ctl_import_merge ("", groups);
    fputs (text, stdout);
  }
  return problems->len ? GV_EXIT_FAILURE : GV_EXIT_OK;
}

char *
ctl_import_device_id (BusModel *model, const char *address, GVariant **ret_props)
{
  g_autofree char *lower = g_ascii_strdown (address, -1);
  g_autofree char *path = NULL;
  g_autoptr (GVariant) props = NULL;

  if (strlen (lower) == 7)
    {
      char *full = g_strconcat ("0000:", lower, NULL);
      g_free (lower);
      lower = full;
    }
  g_strdelimit (lower, ":.", '_');
  path = g_strconcat (GPUVIRT_DEVICES_PATH "/" GPUVIRT_DEVICE_PATH_PREFIX, lower, NULL);
  props = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  if (!props)
    return NULL;
  if (ret_props)
    *ret_props = g_variant_ref (props);
  return g_strdup_printf ("%04x:%04x", props_uint (props, "VendorId"), props_uint (props, "DeviceId"));
}
