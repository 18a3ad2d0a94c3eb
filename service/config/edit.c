/* Editing the main configuration file for the persist option: line by
 * line, every comment kept, one group per device or mdev, and the result
 * checked against the drop-ins (which apply after the main file and
 * would silently win). Saving is atomic: a temporary file in the same
 * directory, fsync, rename, fsync of the directory. */
#include "config/internal.h"
#include "sysfs/file.h"
#include "sysfs/read.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _GvConfigEditor {
  char *path;
  GPtrArray *lines;     /* the main file's lines, without their newline */
  GPtrArray *dropins;   /* GvConfigSource, read when the editor was made */
};

/* ---- saving ---- */

gboolean
gv_config_save_text (const char *path, const char *text, GError **error)
{
  return gv_sysfs_save_file (path, text, 0644, error);
}

/* ---- the editor: the main file as lines ----
 *
 * GKeyFile keeps comments, but ties those above a group to the group
 * before it: removing a group loses the next one's comment, and it adds
 * blank lines of its own. The editor works on the lines instead, with the
 * scanner that knows where every group and key is: a changed key is
 * rewritten on its own line, a new key goes after the group's last key, a
 * new group at the end, and a removed group takes the comment lines right
 * above it along. Every other line stays byte for byte. */

GvConfigEditor *
gv_config_editor_new (const char *main_file, const char *dropin_dir, GError **error)
{
  g_autoptr (GvConfigEditor) ed = g_new0 (GvConfigEditor, 1);
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) problems = gv_config_problems_new ();
  g_autofree char *default_dir = dropin_dir ? NULL : gv_config_default_dropin_dir (main_file);
  g_autofree char *text = NULL;
  gsize len = 0;

  ed->path = g_strdup (main_file);
  ed->lines = g_ptr_array_new_with_free_func (g_free);
  ed->dropins = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_source_free);
  if (!g_file_get_contents (main_file, &text, &len, &local)) {
    if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      g_set_error (error, GV_ERROR, GV_ERROR_IO, "Cannot read %s: %s", main_file, local->message);
      return NULL;
    }
  } else if (len > GV_CONFIG_MAX_SIZE || strlen (text) != len || !g_utf8_validate (text, -1, NULL)) {
    g_set_error (error, GV_ERROR, GV_ERROR_CONFIG_INVALID, "%s cannot be edited: it is not a UTF-8 text "
                 "file of at most 1 MiB", main_file);
    return NULL;
  } else {
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    guint n = g_strv_length (lines);
    /* "a\nb\n" splits into a, b, "": the last newline ends a line */
    if (n > 0 && !*lines[n - 1])
      n--;
    for (guint i = 0; i < n; i++)
      g_ptr_array_add (ed->lines, g_strdup (lines[i]));
  }
  gv_config_add_dropins (ed->dropins, dropin_dir ? dropin_dir : default_dir, problems);
  return g_steal_pointer (&ed);
}

void
gv_config_editor_free (GvConfigEditor *editor)
{
  if (!editor)
    return;
  g_free (editor->path);
  g_ptr_array_unref (editor->lines);
  g_ptr_array_unref (editor->dropins);
  g_free (editor);
}

char *
gv_config_editor_get_text (GvConfigEditor *editor)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < editor->lines->len; i++)
    g_string_append_printf (text, "%s\n", (char *) editor->lines->pdata[i]);
  return g_string_free (text, FALSE);
}

static void
set_text (GvConfigEditor *ed, const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);

  if (n > 0 && !*lines[n - 1])
    n--;
  g_ptr_array_set_size (ed->lines, 0);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (ed->lines, g_strdup (lines[i]));
}

/* The groups of the text as it stands (GvConfigGroup). */
static GPtrArray *
scan (GvConfigEditor *ed)
{
  g_autofree char *text = gv_config_editor_get_text (ed);
  g_autoptr (GPtrArray) ignored = gv_config_problems_new ();

  return gv_config_scan (text, ed->path, ignored);
}

/* GROUP's canonical name ("Device 0000:41:00.0"), or NULL for another kind. */
static char *
canonical_of (const char *group)
{
  const char *space = strchr (group, ' ');
  g_autofree char *addr = NULL;

  if (!space)
    return g_strdup (group);
  while (*space == ' ')
    space++;
  if (g_str_has_prefix (group, "Device ") && (addr = gv_host_bdf_normalize (space)))
    return gv_config_device_group (addr);
  if (g_str_has_prefix (group, "Mdev ") && (addr = gv_config_normalize_uuid (space)))
    return gv_config_mdev_group (addr);
  return NULL;
}

/* The last group of GROUPS that stands for CANONICAL (however written). */
static GvConfigGroup *
find_group (GPtrArray *groups, const char *canonical)
{
  GvConfigGroup *found = NULL;

  for (guint i = 0; i < groups->len; i++) {
    GvConfigGroup *g = groups->pdata[i];
    g_autofree char *canon = canonical_of (g->name);
    if (canon && g_str_equal (canon, canonical))
      found = g;
  }
  return found;
}

/* GKeyFile's escaping of a string value. */
static char *
escape_value (const char *value)
{
  GString *out = g_string_new (NULL);

  for (const char *p = value; *p; p++) {
    switch (*p) {
    case ' ':
      g_string_append (out, p == value ? "\\s" : " ");
      break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\t': g_string_append (out, "\\t"); break;
    case '\r': g_string_append (out, "\\r"); break;
    case '\\': g_string_append (out, "\\\\"); break;
    default: g_string_append_c (out, *p); break;
    }
  }
  return g_string_free (out, FALSE);
}

/* KEY=VALUE in the group for CANONICAL: its line rewritten, or a new line
 * after the group's last key, or a new group at the end of the file. */
static void
set_key (GvConfigEditor *ed, const char *canonical, const char *key, const char *value)
{
  g_autoptr (GPtrArray) groups = scan (ed);
  GvConfigGroup *g = find_group (groups, canonical);
  g_autofree char *escaped = escape_value (value);
  char *line = g_strdup_printf ("%s=%s", key, escaped);
  guint after;

  if (!g) {
    if (ed->lines->len && *(char *) ed->lines->pdata[ed->lines->len - 1])
      g_ptr_array_add (ed->lines, g_strdup (""));
    g_ptr_array_add (ed->lines, g_strdup_printf ("[%s]", canonical));
    g_ptr_array_add (ed->lines, line);
    return;
  }
  for (guint i = g->entries->len; i-- > 0;) {
    const GvConfigEntry *e = g->entries->pdata[i];
    if (g_str_equal (e->key, key)) {
      g_free (ed->lines->pdata[e->line - 1]);
      ed->lines->pdata[e->line - 1] = line;
      return;
    }
  }
  after = g->entries->len ? ((GvConfigEntry *) g->entries->pdata[g->entries->len - 1])->line : g->line;
  g_ptr_array_insert (ed->lines, (gint) after, line);
}

static gboolean
is_comment (const char *line)
{
  while (*line == ' ' || *line == '\t')
    line++;
  return *line == '#';
}

static gboolean
is_blank (const char *line)
{
  while (*line == ' ' || *line == '\t' || *line == '\r')
    line++;
  return !*line;
}

/* Removes KEY from the group for CANONICAL (every line of it). */
static void
remove_key (GvConfigEditor *ed, const char *canonical, const char *key)
{
  g_autoptr (GPtrArray) groups = scan (ed);
  GvConfigGroup *g = find_group (groups, canonical);

  for (guint i = g ? g->entries->len : 0; i-- > 0;) {
    const GvConfigEntry *e = g->entries->pdata[i];
    if (g_str_equal (e->key, key))
      g_ptr_array_remove_index (ed->lines, e->line - 1);
  }
}

/* Removes every group for CANONICAL, with the comment lines right above
 * each (they describe it) and one blank line around it. */
static void
remove_group (GvConfigEditor *ed, const char *canonical)
{
  for (;;) {
    g_autoptr (GPtrArray) groups = scan (ed);
    GvConfigGroup *g = find_group (groups, canonical);
    guint first, last;

    if (!g)
      return;
    first = g->line - 1;
    last = g->entries->len ? ((GvConfigEntry *) g->entries->pdata[g->entries->len - 1])->line - 1 : first;
    while (first > 0 && is_comment (ed->lines->pdata[first - 1]))
      first--;
    /* a blank line before it, or after it when it starts the file */
    if (first > 0 && is_blank (ed->lines->pdata[first - 1]))
      first--;
    else if (last + 1 < ed->lines->len && is_blank (ed->lines->pdata[last + 1]))
      last++;
    g_ptr_array_remove_range (ed->lines, first, last - first + 1);
  }
}

/* Removes the group for CANONICAL when it holds nothing but KEEP_ALONE (Id=). */
static void
drop_if_idle (GvConfigEditor *ed, const char *canonical, const char *keep_alone)
{
  g_autoptr (GPtrArray) groups = scan (ed);
  GvConfigGroup *g = find_group (groups, canonical);

  if (!g)
    return;
  for (guint i = 0; i < g->entries->len; i++)
    if (!g_str_equal (((GvConfigEntry *) g->entries->pdata[i])->key, keep_alone))
      return;
  remove_group (ed, canonical);
}

static gboolean
has_group (GvConfigEditor *ed, const char *canonical)
{
  g_autoptr (GPtrArray) groups = scan (ed);
  return find_group (groups, canonical) != NULL;
}

/* The main file's text and the drop-ins merged; PROBLEMS may be NULL. */
static GvConfig *
effective (GvConfigEditor *ed, GPtrArray *problems)
{
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_source_free);
  g_autoptr (GPtrArray) ignored = gv_config_problems_new ();
  GvConfigSource *s = g_new0 (GvConfigSource, 1);

  s->file = g_strdup (ed->path);
  s->text = gv_config_editor_get_text (ed);
  g_ptr_array_add (sources, s);
  for (guint i = 0; i < ed->dropins->len; i++) {
    const GvConfigSource *d = ed->dropins->pdata[i];
    GvConfigSource *copy = g_new0 (GvConfigSource, 1);
    copy->file = g_strdup (d->file);
    copy->text = g_strdup (d->text);
    g_ptr_array_add (sources, copy);
  }
  return gv_config_build (sources, problems ? problems : ignored);
}

gboolean
gv_config_editor_save (GvConfigEditor *editor, GError **error)
{
  g_autoptr (GPtrArray) problems = gv_config_problems_new ();
  g_autoptr (GPtrArray) own = gv_config_problems_new ();
  g_autofree char *text = NULL;

  /* only the problems matter here */
  gv_config_unref (effective (editor, problems));
  /* the drop-ins' own problems are not the main file's to fix */
  for (guint i = 0; i < problems->len; i++) {
    GvConfigProblem *p = problems->pdata[i];
    if (g_strcmp0 (p->file, editor->path) == 0)
      g_ptr_array_add (own, g_steal_pointer (&problems->pdata[i]));
  }
  if (own->len) {
    g_autofree char *list = gv_config_problems_to_text (own, 3);
    g_set_error (error, GV_ERROR, GV_ERROR_CONFIG_INVALID, "%s would have %u problem%s, so it was not "
                 "written: %s", editor->path, own->len, own->len == 1 ? "" : "s", list);
    return FALSE;
  }
  text = gv_config_editor_get_text (editor);
  return gv_config_save_text (editor->path, text, error);
}

/* What the drop-ins make of KEY of CANONICAL differs from what the edit
 * wanted: fails naming the drop-in that sets it. */
static gboolean
overridden (GvConfig *config, const char *path, const char *canonical, const char *key, GError **error)
{
  const GvConfigOrigin *o = gv_config_origin (config, canonical, key);

  if (!o)
    o = gv_config_origin (config, canonical, "");
  if (o && g_strcmp0 (o->file, path) != 0) {
    g_set_error (error, GV_ERROR, GV_ERROR_CONFIG_OVERRIDDEN,
                 "%s line %u sets %s%s[%s], which overrides the main file %s: change it there", o->file, o->line,
                 *key ? key : "", *key ? " of " : "", o->group_written, path);
    return TRUE;
  }
  g_set_error (error, GV_ERROR, GV_ERROR_CONFIG_OVERRIDDEN,
               "the drop-ins of %s decide %s of [%s], not the main file", path, *key ? key : "the group", canonical);
  return TRUE;
}

typedef gboolean (*EffectFunc) (GvConfig *config, gconstpointer want, const char **key);

/* Runs EDIT on the key file; undoes it when the merged configuration
 * does not show what was wanted (CHECK). */
static gboolean
edit_checked (GvConfigEditor *ed, const char *canonical, EffectFunc check, gconstpointer want, char *before,
              GError **error)
{
  g_autofree char *saved = before;
  g_autoptr (GvConfig) config = effective (ed, NULL);
  const char *key = "";

  if (check (config, want, &key))
    return TRUE;
  overridden (config, ed->path, canonical, key, error);
  set_text (ed, saved);
  return FALSE;
}

static gboolean
check_args (const char *bdf, char **norm, GError **error)
{
  *norm = gv_host_bdf_normalize (bdf);
  if (!*norm) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a PCI address", bdf ? bdf : "");
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_type (const char *type, GError **error)
{
  gboolean ok = type && *type && strlen (type) <= 256;

  for (const char *p = type; ok && *p; p++)
    ok = !g_ascii_iscntrl (*p) && *p != ';';
  if (!ok)
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a vGPU type id or name",
                 type ? type : "");
  return ok;
}

/* The [Device BDF] group to edit: Id= set to the host's now (the group
 * made when missing and CREATE). FALSE when there is none. */
static gboolean
device_group (GvConfigEditor *ed, const char *canonical, guint16 vendor, guint16 device, gboolean create)
{
  g_autofree char *id = gv_config_id_text (vendor, device);

  if (!create && !has_group (ed, canonical))
    return FALSE;
  set_key (ed, canonical, "Id", id);
  return TRUE;
}

typedef struct {
  const char *bdf;
  guint16 vendor, device;
  gboolean flag;
  guint count;
  const char *type;
} Want;

static gboolean
id_matches (const GvConfigDevice *d, const Want *w, const char **key)
{
  *key = "Id";
  return d && d->vendor_id == w->vendor && d->device_id == w->device;
}

static gboolean
effect_passthrough (GvConfig *config, gconstpointer data, const char **key)
{
  const Want *w = data;
  const GvConfigDevice *d = gv_config_lookup_device (config, w->bdf);

  *key = "Passthrough";
  if (!d || d->passthrough != w->flag)
    return !d && !w->flag;
  return !w->flag || id_matches (d, w, key);
}

/* The edit every [Device BDF] setter makes, W->bdf normalized: with
 * VALUES, each of KEYS (NULL-terminated) set to its value and Id= to the
 * host's now (the group made when missing); without, KEYS removed, and
 * the group with them when Id= is all that is left. EFFECT then checks
 * that the merged configuration says what was asked (else undone). */
static gboolean
edit_device_keys (GvConfigEditor *editor, const Want *w, const char *const *keys, const char *const *values,
                  EffectFunc effect, GError **error)
{
  g_autofree char *canonical = gv_config_device_group (w->bdf);
  char *before = gv_config_editor_get_text (editor);

  if (device_group (editor, canonical, w->vendor, w->device, values != NULL)) {
    for (guint i = 0; keys[i]; i++) {
      if (values)
        set_key (editor, canonical, keys[i], values[i]);
      else
        remove_key (editor, canonical, keys[i]);
    }
    if (!values)
      drop_if_idle (editor, canonical, "Id");
  }
  return edit_checked (editor, canonical, effect, w, before, error);
}

gboolean
gv_config_editor_set_passthrough (GvConfigEditor *editor, const char *bdf, guint16 vendor_id, guint16 device_id,
                                  gboolean passthrough, GError **error)
{
  g_autofree char *norm = NULL;
  const char *const keys[] = { "Passthrough", NULL };
  const char *const values[] = { "true" };
  Want w = { NULL, vendor_id, device_id, passthrough, 0, NULL };

  if (!check_args (bdf, &norm, error))
    return FALSE;
  w.bdf = norm;
  return edit_device_keys (editor, &w, keys, passthrough ? values : NULL, effect_passthrough, error);
}

static gboolean
effect_num_vfs (GvConfig *config, gconstpointer data, const char **key)
{
  const Want *w = data;
  const GvConfigDevice *d = gv_config_lookup_device (config, w->bdf);

  *key = "NumVfs";
  if (!d)
    return w->count == 0;
  if (w->count == 0)
    return !d->has_num_vfs || d->num_vfs == 0;
  return d->has_num_vfs && d->num_vfs == w->count && id_matches (d, w, key);
}

gboolean
gv_config_editor_set_num_vfs (GvConfigEditor *editor, const char *pf, guint16 vendor_id, guint16 device_id,
                              guint count, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *value = g_strdup_printf ("%u", count);
  const char *const keys[] = { "NumVfs", NULL };
  const char *const values[] = { value };
  Want w = { NULL, vendor_id, device_id, FALSE, count, NULL };

  if (!check_args (pf, &norm, error))
    return FALSE;
  w.bdf = norm;
  return edit_device_keys (editor, &w, keys, count ? values : NULL, effect_num_vfs, error);
}

static gboolean
effect_vgpu_type (GvConfig *config, gconstpointer data, const char **key)
{
  const Want *w = data;
  const GvConfigDevice *d = gv_config_lookup_device (config, w->bdf);

  *key = "VgpuType";
  if (!d)
    return w->type == NULL;
  if (g_strcmp0 (d->vgpu_type, w->type) != 0)
    return FALSE;
  *key = "VgpuCount";
  if (d->vgpu_count != w->count)
    return FALSE;
  return !w->type || id_matches (d, w, key);
}

gboolean
gv_config_editor_set_vgpu_type (GvConfigEditor *editor, const char *vf, guint16 vendor_id, guint16 device_id,
                                const char *type, GError **error)
{
  g_autofree char *norm = NULL;
  const char *const keys[] = { "VgpuType", NULL };
  const char *const values[] = { type };
  Want w = { NULL, vendor_id, device_id, FALSE, 0, type };

  if (!check_args (vf, &norm, error) || (type && !check_type (type, error)))
    return FALSE;
  w.bdf = norm;
  return edit_device_keys (editor, &w, keys, type ? values : NULL, effect_vgpu_type, error);
}

gboolean
gv_config_editor_set_vgpu_count (GvConfigEditor *editor, const char *gpu, guint16 vendor_id, guint16 device_id,
                                 const char *type, guint count, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *value = g_strdup_printf ("%u", count);
  const char *const keys[] = { "VgpuType", "VgpuCount", NULL };
  const char *const values[] = { type, value };
  Want w = { NULL, vendor_id, device_id, FALSE, count, count ? type : NULL };

  if (!check_args (gpu, &norm, error) || (count && !check_type (type, error)))
    return FALSE;
  w.bdf = norm;
  return edit_device_keys (editor, &w, keys, count ? values : NULL, effect_vgpu_type, error);
}

typedef struct {
  const char *uuid;
  const char *parent;
  guint16 vendor, device;
  const char *type;  /* NULL: removed */
} WantMdev;

static gboolean
effect_mdev (GvConfig *config, gconstpointer data, const char **key)
{
  const WantMdev *w = data;
  const GvConfigMdev *m = gv_config_lookup_mdev (config, w->uuid);

  *key = "";
  if (!w->type)
    return m == NULL;
  if (!m)
    return FALSE;
  if (g_strcmp0 (m->parent, w->parent) != 0)
    return *key = "Parent", FALSE;
  if (m->parent_vendor_id != w->vendor || m->parent_device_id != w->device)
    return *key = "ParentId", FALSE;
  *key = "Type";
  return g_strcmp0 (m->type, w->type) == 0;
}

gboolean
gv_config_editor_add_mdev (GvConfigEditor *editor, const char *uuid, const char *parent, guint16 parent_vendor_id,
                           guint16 parent_device_id, const char *type, GError **error)
{
  g_autofree char *norm_uuid = gv_config_normalize_uuid (uuid);
  g_autofree char *norm_parent = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *id = gv_config_id_text (parent_vendor_id, parent_device_id);
  char *before;
  WantMdev w = { NULL, NULL, parent_vendor_id, parent_device_id, type };

  if (!norm_uuid) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a UUID", uuid ? uuid : "");
    return FALSE;
  }
  if (!check_args (parent, &norm_parent, error) || !check_type (type, error))
    return FALSE;
  w.uuid = norm_uuid;
  w.parent = norm_parent;
  canonical = gv_config_mdev_group (norm_uuid);
  before = gv_config_editor_get_text (editor);
  set_key (editor, canonical, "Parent", norm_parent);
  set_key (editor, canonical, "ParentId", id);
  set_key (editor, canonical, "Type", type);
  return edit_checked (editor, canonical, effect_mdev, &w, before, error);
}

gboolean
gv_config_editor_remove_mdev (GvConfigEditor *editor, const char *uuid, GError **error)
{
  g_autofree char *norm_uuid = gv_config_normalize_uuid (uuid);
  g_autofree char *canonical = NULL;
  char *before;
  WantMdev w = { NULL, NULL, 0, 0, NULL };

  if (!norm_uuid) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a UUID", uuid ? uuid : "");
    return FALSE;
  }
  w.uuid = norm_uuid;
  canonical = gv_config_mdev_group (norm_uuid);
  before = gv_config_editor_get_text (editor);
  remove_group (editor, canonical);
  return edit_checked (editor, canonical, effect_mdev, &w, before, error);
}

/* ---- MIG ---- */

static gboolean
effect_mig_mode (GvConfig *config, gconstpointer data, const char **key)
{
  const Want *w = data;
  const GvConfigDevice *d = gv_config_lookup_device (config, w->bdf);

  *key = "MigMode";
  if (!d)
    return w->count == 0;
  if (w->count == 0)
    return !d->has_mig_mode && !d->mig_profiles;
  return d->has_mig_mode && d->mig_mode == w->flag && id_matches (d, w, key);
}

gboolean
gv_config_editor_set_mig_mode (GvConfigEditor *editor, const char *gpu, guint16 vendor_id, guint16 device_id,
                               gboolean set, gboolean enabled, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *canonical = NULL;
  const char *const keys[] = { "MigMode", "MigProfiles", NULL };
  const char *const set_keys[] = { "MigMode", NULL };
  const char *const values[] = { enabled ? "true" : "false" };
  Want w = { NULL, vendor_id, device_id, enabled, set, NULL };

  if (!check_args (gpu, &norm, error))
    return FALSE;
  w.bdf = norm;
  if (set && !enabled) {
    /* off: no instances to keep either */
    canonical = gv_config_device_group (norm);
    remove_key (editor, canonical, "MigProfiles");
  }
  return edit_device_keys (editor, &w, set ? set_keys : keys, set ? values : NULL, effect_mig_mode, error);
}

static gboolean
effect_mig_profiles (GvConfig *config, gconstpointer data, const char **key)
{
  const Want *w = data;
  const GvConfigDevice *d = gv_config_lookup_device (config, w->bdf);
  g_autofree char *now = NULL;

  *key = "MigProfiles";
  if (!d)
    return w->type == NULL;
  if (!w->type)
    return d->mig_profiles == NULL;
  now = d->mig_profiles ? gv_mig_wants_to_string (d->mig_profiles) : NULL;
  return g_strcmp0 (now, w->type) == 0 && id_matches (d, w, key);
}

gboolean
gv_config_editor_set_mig_profiles (GvConfigEditor *editor, const char *gpu, guint16 vendor_id, guint16 device_id,
                                   const char *profiles, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *why = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) wants = NULL;
  const char *const keys[] = { "MigProfiles", NULL };
  const char *const set_keys[] = { "MigMode", "MigProfiles", NULL };
  const char *values[] = { "true", NULL };
  Want w = { NULL, vendor_id, device_id, FALSE, 0, NULL };

  if (!check_args (gpu, &norm, error))
    return FALSE;
  if (profiles && *profiles) {
    wants = gv_mig_wants_parse (profiles, &why);
    if (!wants || wants->len == 0) {
      g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "MigProfiles: %s", why ? why : "no profile");
      return FALSE;
    }
    text = gv_mig_wants_to_string (wants);
    values[1] = text;
  }
  w.bdf = norm;
  w.type = text;
  return edit_device_keys (editor, &w, text ? set_keys : keys, text ? values : NULL, effect_mig_profiles, error);
}
