/* Reading the configuration: the main file and its drop-ins merged key by
 * key in order, every value checked, then the groups checked as a whole.
 * Any problem makes the whole configuration invalid: it is never taken in
 * part. Where each value was set is kept for messages and for edits. */
#include "config/internal.h"
#include "sysfs/read.h"

#include <errno.h>
#include <string.h>

typedef struct {
  GvConfigDevice pub;
  gboolean has_id;
  gboolean type_bad;        /* VgpuType given, but malformed */
} CfgDevice;

typedef struct {
  GvConfigMdev pub;
  gboolean has_parent_id;
  gboolean parent_bad;      /* given, but malformed: reported as such, not as missing */
  gboolean type_bad;
} CfgMdev;

typedef struct {
  char *file;
  guint line;
  char *group_written;
} Origin;

struct _GvConfig {
  gint ref;
  GStrv files;
  GPtrArray *devices;       /* GvConfigDevice (CfgDevice), sorted */
  GPtrArray *mdevs;         /* GvConfigMdev (CfgMdev), sorted */
  GHashTable *device_index; /* BDF -> CfgDevice */
  GHashTable *mdev_index;   /* UUID -> CfgMdev */
  GStrv manage_devices;
  GArray *manage_classes;   /* GvHostClassMatch */
  GHashTable *origins;      /* "group\037key" -> Origin */
};

static const char *const manage_keys[] = { "Classes", "Devices", NULL };
static const char *const device_keys[] = { "Id", "Passthrough", "NumVfs", "VgpuType", "VgpuCount", "MigMode",
                                           "MigProfiles", NULL };
static const char *const mdev_keys[] = { "Parent", "ParentId", "Type", NULL };
static const char *const group_kinds[] = { "Manage", "Device", "Mdev", NULL };

#define MAX_VFS 65535
#define MAX_VGPUS 4096
#define MAX_TYPE_LEN 256

static void
cfg_device_free (CfgDevice *d)
{
  g_free (d->pub.bdf);
  g_free (d->pub.vgpu_type);
  g_clear_pointer (&d->pub.mig_profiles, g_ptr_array_unref);
  g_free (d);
}

static void
cfg_mdev_free (CfgMdev *m)
{
  g_free (m->pub.uuid);
  g_free (m->pub.parent);
  g_free (m->pub.type);
  g_free (m);
}

static void
origin_free (Origin *o)
{
  g_free (o->file);
  g_free (o->group_written);
  g_free (o);
}

void
gv_config_source_free (GvConfigSource *source)
{
  if (!source)
    return;
  g_free (source->file);
  g_free (source->text);
  g_free (source);
}

static GvConfig *
config_new (void)
{
  GvConfig *c = g_new0 (GvConfig, 1);

  c->ref = 1;
  c->files = g_new0 (char *, 1);
  c->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) cfg_device_free);
  c->mdevs = g_ptr_array_new_with_free_func ((GDestroyNotify) cfg_mdev_free);
  c->device_index = g_hash_table_new (g_str_hash, g_str_equal);
  c->mdev_index = g_hash_table_new (g_str_hash, g_str_equal);
  c->manage_devices = g_new0 (char *, 1);
  c->manage_classes = g_array_new (FALSE, TRUE, sizeof (GvHostClassMatch));
  c->origins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) origin_free);
  return c;
}

GvConfig *
gv_config_new_empty (void)
{
  return config_new ();
}

GvConfig *
gv_config_ref (GvConfig *config)
{
  g_atomic_int_inc (&config->ref);
  return config;
}

void
gv_config_unref (GvConfig *config)
{
  if (!config || !g_atomic_int_dec_and_test (&config->ref))
    return;
  g_strfreev (config->files);
  g_hash_table_unref (config->device_index);
  g_hash_table_unref (config->mdev_index);
  g_ptr_array_unref (config->devices);
  g_ptr_array_unref (config->mdevs);
  g_strfreev (config->manage_devices);
  g_array_unref (config->manage_classes);
  g_hash_table_unref (config->origins);
  g_free (config);
}

const char *const *
gv_config_get_files (GvConfig *config)
{
  return (const char *const *) config->files;
}

GPtrArray *
gv_config_get_devices (GvConfig *config)
{
  return config->devices;
}

GPtrArray *
gv_config_get_mdevs (GvConfig *config)
{
  return config->mdevs;
}

const GvConfigDevice *
gv_config_lookup_device (GvConfig *config, const char *bdf)
{
  g_autofree char *norm = gv_host_bdf_normalize (bdf);
  CfgDevice *d = norm ? g_hash_table_lookup (config->device_index, norm) : NULL;
  return d ? &d->pub : NULL;
}

const GvConfigMdev *
gv_config_lookup_mdev (GvConfig *config, const char *uuid)
{
  g_autofree char *norm = gv_config_normalize_uuid (uuid);
  CfgMdev *m = norm ? g_hash_table_lookup (config->mdev_index, norm) : NULL;
  return m ? &m->pub : NULL;
}

gboolean
gv_config_has_desired_state (GvConfig *config)
{
  for (guint i = 0; i < config->devices->len; i++) {
    const GvConfigDevice *d = config->devices->pdata[i];
    if (d->passthrough || d->has_num_vfs || d->vgpu_type)
      return TRUE;
  }
  return config->mdevs->len > 0;
}

void
gv_config_apply_manage (GvConfig *config, GvHost *host)
{
  gv_host_set_extra_managed (host, (const char *const *) config->manage_devices,
                             (const GvHostClassMatch *) (gpointer) config->manage_classes->data,
                             config->manage_classes->len);
}

char *
gv_config_default_dropin_dir (const char *main_file)
{
  g_autofree char *dir = g_path_get_dirname (main_file);
  return g_build_filename (dir, "conf.d", NULL);
}

/* ---- origins ---- */

char *
gv_config_device_group (const char *bdf)
{
  return g_strconcat ("Device ", bdf, NULL);
}

char *
gv_config_mdev_group (const char *uuid)
{
  return g_strconcat ("Mdev ", uuid, NULL);
}

static char *
origin_id (const char *group, const char *key)
{
  return g_strconcat (group, "\037", key, NULL);
}

static void
set_origin (GvConfig *c, const char *group, const char *key, const char *file, guint line, const char *written)
{
  Origin *o = g_new0 (Origin, 1);

  o->file = g_strdup (file);
  o->line = line;
  o->group_written = g_strdup (written);
  g_hash_table_replace (c->origins, origin_id (group, key), o);
}

static void
clear_origin (GvConfig *c, const char *group, const char *key)
{
  g_autofree char *id = origin_id (group, key);
  g_hash_table_remove (c->origins, id);
}

const GvConfigOrigin *
gv_config_origin (GvConfig *config, const char *group, const char *key)
{
  g_autofree char *id = origin_id (group, key);
  /* Origin and GvConfigOrigin have the same layout */
  return g_hash_table_lookup (config->origins, id);
}

G_STATIC_ASSERT (sizeof (Origin) == sizeof (GvConfigOrigin));
G_STATIC_ASSERT (G_STRUCT_OFFSET (Origin, line) == G_STRUCT_OFFSET (GvConfigOrigin, line));
G_STATIC_ASSERT (G_STRUCT_OFFSET (Origin, group_written) == G_STRUCT_OFFSET (GvConfigOrigin, group_written));

char *
gv_config_origin_key (GvConfig *config, const char *group, const char *key)
{
  const GvConfigOrigin *o = gv_config_origin (config, group, key);
  const GvConfigOrigin *g = gv_config_origin (config, group, "");
  const char *written = o ? o->group_written : g ? g->group_written : group;

  return *key ? g_strdup_printf ("%s/%s", written, key) : g_strdup (written);
}

gboolean
gv_config_get_origin (GvConfig *config, const char *group, const char *key, const char **file, guint *line)
{
  const GvConfigOrigin *o = gv_config_origin (config, group, key ? key : "");

  if (!o)
    return FALSE;
  if (file)
    *file = o->file;
  if (line)
    *line = o->line;
  return TRUE;
}

/* A problem at the place GROUP/KEY was set (the group line when KEY is
 * "" or was not set). */
static void
problem_at (GvConfig *c, GPtrArray *problems, const char *group, const char *key, const char *format, ...)
  G_GNUC_PRINTF (5, 6);

static void
problem_at (GvConfig *c, GPtrArray *problems, const char *group, const char *key, const char *format, ...)
{
  const GvConfigOrigin *o = gv_config_origin (c, group, key);
  g_autofree char *where = NULL;
  g_autofree char *message = NULL;
  va_list args;

  if (!o) {
    o = gv_config_origin (c, group, "");
    key = "";
  }
  where = gv_config_origin_key (c, group, key);
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  gv_config_problem_add (problems, o ? o->file : NULL, o ? o->line : 0, where, FALSE, "%s", message);
}

/* ---- one source ---- */

typedef enum { KIND_MANAGE, KIND_DEVICE, KIND_MDEV, KIND_BAD } GroupKind;

typedef struct {
  GvConfig *config;
  GPtrArray *problems;
  const char *file;
  GHashTable *groups_seen;  /* canonical group -> first line in this file */
  GHashTable *keys_seen;    /* origin id -> first line in this file */
  /* devices and mdevs by canonical address, while merging */
  GHashTable *devices;
  GHashTable *mdevs;
} Merge;

static GroupKind
classify (Merge *m, const GvConfigGroup *g, char **canonical, char **address)
{
  const char *space = strchr (g->name, ' ');
  g_autofree char *word = space ? g_strndup (g->name, (gsize) (space - g->name)) : g_strdup (g->name);
  const char *rest = space ? space + 1 : "";

  while (*rest == ' ')
    rest++;
  if (g_str_equal (g->name, "Manage")) {
    *canonical = g_strdup ("Manage");
    return KIND_MANAGE;
  }
  if (g_str_equal (word, "Device")) {
    *address = gv_host_bdf_normalize (rest);
    if (!*address) {
      gv_config_problem_add (m->problems, m->file, g->line, g->name, FALSE,
                       *rest ? "“%s” is not a PCI address (e.g. [Device 0000:41:00.0])"
                             : "%sa [Device] group needs the function's PCI address: [Device 0000:41:00.0]", rest);
      return KIND_BAD;
    }
    *canonical = gv_config_device_group (*address);
    return KIND_DEVICE;
  }
  if (g_str_equal (word, "Mdev")) {
    *address = gv_config_normalize_uuid (rest);
    if (!*address) {
      gv_config_problem_add (m->problems, m->file, g->line, g->name, FALSE,
                       *rest ? "“%s” is not a UUID (8-4-4-4-12 hex digits, e.g. [Mdev "
                               "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f])"
                             : "%san [Mdev] group needs the mdev's UUID: [Mdev 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f]",
                       rest);
      return KIND_BAD;
    }
    *canonical = gv_config_mdev_group (*address);
    return KIND_MDEV;
  }
  {
    g_autofree char *hint = gv_config_suggest (word, group_kinds);
    gv_config_problem_add (m->problems, m->file, g->line, g->name, FALSE,
                     "unknown group [%s]%s; the groups are [Manage], [Device ADDRESS] and [Mdev UUID]", g->name, hint);
  }
  return KIND_BAD;
}

/* "Type belongs in [Mdev UUID] groups" when KEY is another kind's. */
static const char *
other_home (GroupKind kind, const char *key)
{
  if (kind != KIND_MANAGE && g_strv_contains (manage_keys, key))
    return "[Manage]";
  if (kind != KIND_DEVICE && g_strv_contains (device_keys, key))
    return "[Device ADDRESS]";
  if (kind != KIND_MDEV && g_strv_contains (mdev_keys, key))
    return "[Mdev UUID]";
  return NULL;
}

static void
value_problem (Merge *m, const GvConfigGroup *g, const GvConfigEntry *e, const char *why)
{
  g_autofree char *where = g_strdup_printf ("%s/%s", g->name, e->key);
  gv_config_problem_add (m->problems, m->file, e->line, where, FALSE, "%s", why);
}

static CfgDevice *
device_for (Merge *m, const char *bdf)
{
  CfgDevice *d = g_hash_table_lookup (m->devices, bdf);

  if (!d) {
    d = g_new0 (CfgDevice, 1);
    d->pub.bdf = g_strdup (bdf);
    g_hash_table_insert (m->devices, d->pub.bdf, d);
  }
  return d;
}

static CfgMdev *
mdev_for (Merge *m, const char *uuid)
{
  CfgMdev *md = g_hash_table_lookup (m->mdevs, uuid);

  if (!md) {
    md = g_new0 (CfgMdev, 1);
    md->pub.uuid = g_strdup (uuid);
    g_hash_table_insert (m->mdevs, md->pub.uuid, md);
  }
  return md;
}

/* One key of a [Manage] group; FALSE when the value is wrong. */
static gboolean
merge_manage (Merge *m, const GvConfigEntry *e, gboolean reset, char **why)
{
  GvConfig *c = m->config;
  g_auto (GStrv) items = NULL;

  if (reset) {
    if (g_str_equal (e->key, "Classes"))
      g_array_set_size (c->manage_classes, 0);
    else {
      g_strfreev (c->manage_devices);
      c->manage_devices = g_new0 (char *, 1);
    }
    return TRUE;
  }
  if (!gv_config_parse_list (e->raw, &items, why))
    return FALSE;
  if (g_str_equal (e->key, "Classes")) {
    g_autoptr (GArray) classes = g_array_new (FALSE, TRUE, sizeof (GvHostClassMatch));
    for (guint i = 0; items[i]; i++) {
      GvHostClassMatch cm;
      if (!gv_host_class_match_parse (items[i], &cm)) {
        *why = g_strdup_printf ("“%s” is not a PCI class (2, 4 or 6 hex digits, e.g. 0108 for NVMe)", items[i]);
        return FALSE;
      }
      g_array_append_val (classes, cm);
    }
    g_array_unref (c->manage_classes);
    c->manage_classes = g_steal_pointer (&classes);
  } else {
    g_autoptr (GPtrArray) bdfs = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; items[i]; i++) {
      char *bdf = gv_host_bdf_normalize (items[i]);
      if (!bdf) {
        *why = g_strdup_printf ("“%s” is not a PCI address (e.g. 0000:05:00.0)", items[i]);
        return FALSE;
      }
      g_ptr_array_add (bdfs, bdf);
    }
    g_ptr_array_add (bdfs, NULL);
    g_strfreev (c->manage_devices);
    c->manage_devices = (GStrv) g_ptr_array_free (g_steal_pointer (&bdfs), FALSE);
  }
  return TRUE;
}

static gboolean
parse_type (const char *raw, char **out, char **why)
{
  g_autofree char *s = NULL;

  if (!gv_config_parse_string (raw, &s, why))
    return FALSE;
  if (strlen (s) > MAX_TYPE_LEN) {
    *why = g_strdup_printf ("is longer than %u characters", MAX_TYPE_LEN);
    return FALSE;
  }
  for (const char *p = s; *p; p++)
    if (g_ascii_iscntrl (*p) || *p == ';') {
      *why = g_strdup_printf ("“%s” is not a vGPU type id or name", s);
      return FALSE;
    }
  *out = g_steal_pointer (&s);
  return TRUE;
}

static gboolean
merge_device (Merge *m, CfgDevice *d, const GvConfigEntry *e, gboolean reset, char **why)
{
  GvConfigDevice *p = &d->pub;
  const char *k = e->key;

  if (g_str_equal (k, "Id")) {
    guint16 vendor = 0, device = 0;
    /* a malformed Id is reported as such, not also as a missing one */
    if (!reset && !gv_config_parse_id (e->raw, &vendor, &device, why))
      return d->has_id = TRUE, FALSE;
    d->has_id = !reset;
    p->vendor_id = vendor;
    p->device_id = device;
    return TRUE;
  }
  if (g_str_equal (k, "Passthrough"))
    return reset ? (p->passthrough = FALSE, TRUE) : gv_config_parse_bool (e->raw, &p->passthrough, why);
  if (g_str_equal (k, "NumVfs")) {
    if (reset) {
      p->has_num_vfs = FALSE;
      p->num_vfs = 0;
      return TRUE;
    }
    if (!gv_config_parse_count (e->raw, 0, MAX_VFS, &p->num_vfs, why))
      return FALSE;
    p->has_num_vfs = TRUE;
    return TRUE;
  }
  if (g_str_equal (k, "VgpuType")) {
    g_autofree char *type = NULL;
    if (!reset && !parse_type (e->raw, &type, why))
      return d->type_bad = TRUE, FALSE;
    d->type_bad = FALSE;
    g_free (p->vgpu_type);
    p->vgpu_type = g_steal_pointer (&type);
    return TRUE;
  }
  if (g_str_equal (k, "MigMode")) {
    if (reset) {
      p->has_mig_mode = p->mig_mode = FALSE;
      return TRUE;
    }
    if (!gv_config_parse_bool (e->raw, &p->mig_mode, why))
      return FALSE;
    p->has_mig_mode = TRUE;
    return TRUE;
  }
  if (g_str_equal (k, "MigProfiles")) {
    g_autofree char *text = NULL;
    GPtrArray *wants = NULL;
    g_clear_pointer (&p->mig_profiles, g_ptr_array_unref);
    if (reset)
      return TRUE;
    if (!gv_config_parse_string (e->raw, &text, why))
      return FALSE;
    wants = gv_mig_wants_parse (text, why);
    if (!wants)
      return FALSE;
    if (wants->len == 0) {
      g_ptr_array_unref (wants);
      *why = g_strdup ("lists no GPU instance profile (leave it out, or write e.g. 1g.10gb:3;3g.40gb)");
      return FALSE;
    }
    p->mig_profiles = wants;
    return TRUE;
  }
  /* VgpuCount */
  if (reset) {
    p->vgpu_count = 0;
    return TRUE;
  }
  return gv_config_parse_count (e->raw, 1, MAX_VGPUS, &p->vgpu_count, why);
}

static gboolean
merge_mdev (Merge *m, CfgMdev *md, const GvConfigEntry *e, gboolean reset, char **why)
{
  GvConfigMdev *p = &md->pub;
  const char *k = e->key;

  if (g_str_equal (k, "Parent")) {
    g_autofree char *bdf = reset ? NULL : gv_host_bdf_normalize (e->raw);
    if (!reset && !bdf) {
      g_autofree char *hint = strchr (e->raw, '#') ? g_strdup (" (comments go on lines of their own)") : g_strdup ("");
      *why = g_strdup_printf ("“%s” is not a PCI address (e.g. 0000:67:00.4)%s", e->raw, hint);
      return md->parent_bad = TRUE, FALSE;
    }
    md->parent_bad = FALSE;
    g_free (p->parent);
    p->parent = g_steal_pointer (&bdf);
    return TRUE;
  }
  if (g_str_equal (k, "ParentId")) {
    guint16 vendor = 0, device = 0;
    if (!reset && !gv_config_parse_id (e->raw, &vendor, &device, why))
      return md->has_parent_id = TRUE, FALSE;
    md->has_parent_id = !reset;
    p->parent_vendor_id = vendor;
    p->parent_device_id = device;
    return TRUE;
  }
  /* Type */
  {
    g_autofree char *type = NULL;
    if (!reset && !parse_type (e->raw, &type, why))
      return md->type_bad = TRUE, FALSE;
    md->type_bad = FALSE;
    g_free (p->type);
    p->type = g_steal_pointer (&type);
  }
  return TRUE;
}

static void
merge_group (Merge *m, const GvConfigGroup *g)
{
  g_autofree char *canonical = NULL;
  g_autofree char *address = NULL;
  GroupKind kind = classify (m, g, &canonical, &address);
  const char *const *known;
  CfgDevice *d = NULL;
  CfgMdev *md = NULL;
  gboolean repeated;
  gpointer first;

  if (kind == KIND_BAD)
    return;
  repeated = g_hash_table_lookup_extended (m->groups_seen, canonical, NULL, &first);
  if (repeated)
    gv_config_problem_add (m->problems, m->file, g->line, g->name, FALSE,
                     "[%s] appears a second time in this file (first at line %u): write each group once",
                     g->name, GPOINTER_TO_UINT (first));
  else
    g_hash_table_insert (m->groups_seen, g_strdup (canonical), GUINT_TO_POINTER (g->line));
  set_origin (m->config, canonical, "", m->file, g->line, g->name);

  known = kind == KIND_MANAGE ? manage_keys : kind == KIND_DEVICE ? device_keys : mdev_keys;
  if (kind == KIND_DEVICE)
    d = device_for (m, address);
  else if (kind == KIND_MDEV)
    md = mdev_for (m, address);

  for (guint i = 0; i < g->entries->len; i++) {
    const GvConfigEntry *e = g->entries->pdata[i];
    g_autofree char *id = origin_id (canonical, e->key);
    g_autofree char *why = NULL;
    gboolean reset = *e->raw == '\0';
    gboolean ok;

    if (!g_strv_contains (known, e->key)) {
      g_autofree char *where = g_strdup_printf ("%s/%s", g->name, e->key);
      const char *home = other_home (kind, e->key);
      g_autofree char *hint = gv_config_suggest (e->key, known);
      if (home && !*hint)
        gv_config_problem_add (m->problems, m->file, e->line, where, FALSE, "unknown key “%s” in [%s]: it belongs in %s "
                         "groups", e->key, g->name, home);
      else
        gv_config_problem_add (m->problems, m->file, e->line, where, FALSE, "unknown key “%s” in [%s]%s; its keys are %s",
                         e->key, g->name, hint, kind == KIND_MANAGE ? "Classes and Devices"
                         : kind == KIND_DEVICE ? "Id, Passthrough, NumVfs, VgpuType, VgpuCount, MigMode and MigProfiles"
                                               : "Parent, ParentId and Type");
      continue;
    }
    /* keys of a repeated group are not reported once more */
    if (repeated) {
      /* nothing */
    } else if (g_hash_table_lookup_extended (m->keys_seen, id, NULL, &first)) {
      g_autofree char *where = g_strdup_printf ("%s/%s", g->name, e->key);
      gv_config_problem_add (m->problems, m->file, e->line, where, FALSE,
                       "%s is given a second time in [%s] (first at line %u)", e->key, g->name,
                       GPOINTER_TO_UINT (first));
    } else {
      g_hash_table_insert (m->keys_seen, g_strdup (id), GUINT_TO_POINTER (e->line));
    }

    if (kind == KIND_MANAGE)
      ok = merge_manage (m, e, reset, &why);
    else if (kind == KIND_DEVICE)
      ok = merge_device (m, d, e, reset, &why);
    else
      ok = merge_mdev (m, md, e, reset, &why);
    if (!ok) {
      g_autofree char *msg = g_strdup_printf ("%s: %s", e->key, why);
      value_problem (m, g, e, msg);
      continue;
    }
    if (reset)
      clear_origin (m->config, canonical, e->key);
    else
      set_origin (m->config, canonical, e->key, m->file, e->line, g->name);
  }
}

/* ---- the groups as a whole ---- */

static void
check_device (GvConfig *c, GPtrArray *problems, CfgDevice *cd)
{
  const GvConfigDevice *d = &cd->pub;
  g_autofree char *group = gv_config_device_group (d->bdf);

  if (!cd->has_id)
    problem_at (c, problems, group, "", "no Id=: give the vendor:device expected at %s (lspci -nn -s %s shows it, "
                "e.g. Id=10de:26b9), so that a renumbered bus is noticed instead of acted on", d->bdf, d->bdf);
  if (d->passthrough && (d->has_num_vfs || d->vgpu_type || d->vgpu_count))
    problem_at (c, problems, group, "Passthrough",
                "Passthrough=true gives the whole function to a VM on vfio-pci and cannot be combined with %s",
                d->has_num_vfs ? "NumVfs" : "VgpuType or VgpuCount");
  if (d->vgpu_count && !d->vgpu_type && !cd->type_bad)
    problem_at (c, problems, group, "VgpuCount", "VgpuCount needs VgpuType: which type to make %u of", d->vgpu_count);
  if (d->vgpu_type && !d->vgpu_count && d->has_num_vfs)
    problem_at (c, problems, group, "VgpuType",
                "VgpuType without VgpuCount is the type a VF carries, but NumVfs makes %s a PF: add VgpuCount=N "
                "for N vGPUs of %s on this GPU", d->bdf, d->vgpu_type);
  if (d->passthrough && (d->has_mig_mode || d->mig_profiles))
    problem_at (c, problems, group, d->has_mig_mode ? "MigMode" : "MigProfiles",
                "Passthrough=true gives the whole GPU to a VM on vfio-pci; its MIG is the VM's business, not %s",
                d->has_mig_mode ? "MigMode" : "MigProfiles");
  else if (d->mig_profiles && !(d->has_mig_mode && d->mig_mode))
    problem_at (c, problems, group, "MigProfiles", "MigProfiles needs MigMode=true: GPU instances exist only in MIG "
                "mode");
  if (d->vgpu_type && !d->vgpu_count && (d->has_mig_mode || d->mig_profiles))
    problem_at (c, problems, group, d->has_mig_mode ? "MigMode" : "MigProfiles",
                "VgpuType alone is the type a VF carries; MIG is the GPU's (its PF's) setting");
}

static void
check_mdev (GvConfig *c, GPtrArray *problems, CfgMdev *cm)
{
  const GvConfigMdev *md = &cm->pub;
  g_autofree char *group = gv_config_mdev_group (md->uuid);
  GString *missing = g_string_new (NULL);
  CfgDevice *parent;

  if (!md->parent && !cm->parent_bad)
    g_string_append (missing, "Parent= (the PCI address it is made on)");
  if (!cm->has_parent_id)
    g_string_append_printf (missing, "%sParentId= (the parent's vendor:device)", missing->len ? ", " : "");
  if (!md->type && !cm->type_bad)
    g_string_append_printf (missing, "%sType= (an mdev type id or name)", missing->len ? ", " : "");
  if (missing->len)
    problem_at (c, problems, group, "", "missing %s", missing->str);
  g_string_free (missing, TRUE);

  parent = md->parent ? g_hash_table_lookup (c->device_index, md->parent) : NULL;
  if (parent && parent->pub.passthrough)
    problem_at (c, problems, group, "Parent", "%s is configured for passthrough (Passthrough=true), so no mdev can "
                "be made on it", md->parent);
  if (parent && parent->has_id && cm->has_parent_id &&
      (parent->pub.vendor_id != md->parent_vendor_id || parent->pub.device_id != md->parent_device_id))
    problem_at (c, problems, group, "ParentId", "ParentId=%04x:%04x, but [Device %s] says Id=%04x:%04x",
                md->parent_vendor_id, md->parent_device_id, md->parent, parent->pub.vendor_id,
                parent->pub.device_id);
  if (parent && parent->pub.vgpu_type && !parent->pub.vgpu_count)
    problem_at (c, problems, group, "Parent", "%s is given VgpuType= (a vendor-VFIO type) in [Device %s]; a function "
                "carries either that or mdevs", md->parent, md->parent);
}

static gint
device_compare (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(GvConfigDevice *const *) a)->bdf, (*(GvConfigDevice *const *) b)->bdf);
}

static gint
mdev_compare (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(GvConfigMdev *const *) a)->uuid, (*(GvConfigMdev *const *) b)->uuid);
}

GvConfig *
gv_config_build (GPtrArray *sources, GPtrArray *problems)
{
  GvConfig *c = config_new ();
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) devices = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) mdevs = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer value;

  for (guint i = 0; i < sources->len; i++) {
    const GvConfigSource *s = sources->pdata[i];
    g_autoptr (GPtrArray) groups = gv_config_scan (s->text, s->file, problems);
    g_autoptr (GHashTable) groups_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr (GHashTable) keys_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    Merge m = { c, problems, s->file, groups_seen, keys_seen, devices, mdevs };

    if (s->file)
      g_ptr_array_add (files, g_strdup (s->file));
    for (guint j = 0; j < groups->len; j++)
      merge_group (&m, groups->pdata[j]);
  }
  g_ptr_array_add (files, NULL);
  g_strfreev (c->files);
  c->files = (GStrv) g_ptr_array_free (g_steal_pointer (&files), FALSE);

  g_hash_table_iter_init (&iter, devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (c->devices, value);
  g_hash_table_iter_init (&iter, mdevs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (c->mdevs, value);
  g_ptr_array_sort (c->devices, device_compare);
  g_ptr_array_sort (c->mdevs, mdev_compare);
  for (guint i = 0; i < c->devices->len; i++) {
    CfgDevice *d = c->devices->pdata[i];
    g_hash_table_insert (c->device_index, d->pub.bdf, d);
  }
  for (guint i = 0; i < c->mdevs->len; i++) {
    CfgMdev *md = c->mdevs->pdata[i];
    g_hash_table_insert (c->mdev_index, md->pub.uuid, md);
  }

  for (guint i = 0; i < c->devices->len; i++)
    check_device (c, problems, c->devices->pdata[i]);
  for (guint i = 0; i < c->mdevs->len; i++)
    check_mdev (c, problems, c->mdevs->pdata[i]);
  return c;
}

/* ---- files ---- */

/* SOURCES gets PATH's text; a missing file is skipped when OPTIONAL. */
static gboolean
add_file (GPtrArray *sources, const char *path, gboolean optional, GPtrArray *problems)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  GvConfigSource *s;

  if (!g_file_get_contents (path, &text, &len, &local)) {
    if (optional && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return TRUE;
    gv_config_problem_add (problems, path, 0, "", FALSE, "cannot be read: %s", local->message);
    return FALSE;
  }
  if (len > GV_CONFIG_MAX_SIZE || strlen (text) != len) {
    gv_config_problem_add (problems, path, 0, "", FALSE, len > GV_CONFIG_MAX_SIZE ? "is larger than 1 MiB"
                                                                            : "holds a NUL byte: not a text file");
    return FALSE;
  }
  s = g_new0 (GvConfigSource, 1);
  s->file = g_strdup (path);
  s->text = g_steal_pointer (&text);
  g_ptr_array_add (sources, s);
  return TRUE;
}

void
gv_config_add_dropins (GPtrArray *sources, const char *dir, GPtrArray *problems)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (!d) {
    if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      gv_config_problem_add (problems, dir, 0, "", FALSE, "the drop-in directory cannot be read: %s", local->message);
    return;
  }
  while ((name = g_dir_read_name (d)))
    if (name[0] != '.' && g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, gv_sysfs_compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR))
      continue;
    add_file (sources, path, TRUE, problems);
  }
}

GvConfig *
gv_config_load (const char *main_file, const char *dropin_dir, GPtrArray **problems_out, GError **error)
{
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_source_free);
  g_autoptr (GPtrArray) problems = gv_config_problems_new ();
  g_autofree char *default_dir = dropin_dir ? NULL : gv_config_default_dropin_dir (main_file);
  g_autoptr (GvConfig) config = NULL;
  gboolean io = !add_file (sources, main_file, TRUE, problems);
  guint before = problems->len;

  gv_config_add_dropins (sources, dropin_dir ? dropin_dir : default_dir, problems);
  io |= problems->len > before;
  config = gv_config_build (sources, problems);
  if (problems_out)
    *problems_out = g_ptr_array_ref (problems);
  if (problems->len) {
    g_autofree char *text = gv_config_problems_to_text (problems, 3);
    g_set_error (error, GV_ERROR, io ? GV_ERROR_IO : GV_ERROR_CONFIG_INVALID,
                 "The configuration has %u problem%s, so it is not used: %s", problems->len,
                 problems->len == 1 ? "" : "s", text);
    return NULL;
  }
  return g_steal_pointer (&config);
}
