/* config import mig-parted FILE --config NAME [--apply]: NVIDIA
 * mig-parted's configuration (YAML) as gpuvirt's. mig-parted's format:
 *
 *   version: v1
 *   mig-configs:
 *     NAME:
 *       - devices: all | [0, 1]        NVML indices: NVIDIA GPUs by PCI address
 *         device-filter: "0x20B210DE"  optional: device id and vendor, or a list
 *         mig-enabled: true
 *         mig-devices: {"1g.10gb": 2, "3g.40gb": 1}
 *
 * Each GPU an entry names becomes [Device ADDRESS] with Id=, MigMode= and
 * MigProfiles=. What has no equivalent is named, never dropped silently:
 * unknown keys, GPUs without MIG, profiles a GPU lacks, compute-instance
 * profiles ("1c.3g.40gb": gpuvirt makes one compute instance per GPU
 * instance). The YAML is read with libyaml; a syntax error is reported
 * with its line and column. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

typedef struct {
  char *address;
  guint16 vendor, device;
  char *name;
  GVariant *mig;            /* NULL: no MIG */
} Gpu;

typedef struct {
  const char *file;
  yaml_document_t *doc;
  GPtrArray *gpus;          /* Gpu, NVML's order */
  GPtrArray *problems;      /* char*: what cannot be mapped */
  GHashTable *result;       /* address -> Result */
  GPtrArray *order;         /* addresses as first set */
} Import;

typedef struct {
  gboolean enabled;
  GString *profiles;        /* "1g.10gb:2;3g.40gb:1" */
  char *source;             /* "mig-configs.NAME[0]" */
  Gpu *gpu;
} Result;

static void
gpu_free (Gpu *g)
{
  g_free (g->address);
  g_free (g->name);
  if (g->mig)
    g_variant_unref (g->mig);
  g_free (g);
}

static void
result_free (Result *r)
{
  g_string_free (r->profiles, TRUE);
  g_free (r->source);
  g_free (r);
}

/* ---- YAML ---- */

static const char *
scalar (yaml_node_t *node)
{
  return node && node->type == YAML_SCALAR_NODE ? (const char *) node->data.scalar.value : NULL;
}

static yaml_node_t *
lookup (yaml_document_t *doc, yaml_node_t *map, const char *key)
{
  if (!map || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    if (g_strcmp0 (scalar (yaml_document_get_node (doc, p->key)), key) == 0)
      return yaml_document_get_node (doc, p->value);
  return NULL;
}

static void
problem (Import *im, yaml_node_t *at, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
problem (Import *im, yaml_node_t *at, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (at)
    g_ptr_array_add (im->problems, g_strdup_printf ("%s:%zu:%zu: %s", im->file, at->start_mark.line + 1,
                                                    at->start_mark.column + 1, text));
  else
    g_ptr_array_add (im->problems, g_strdup_printf ("%s: %s", im->file, text));
}

static gboolean
yaml_bool (const char *s, gboolean *out)
{
  static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL };
  static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL };

  if (s && g_strv_contains (yes, s))
    return *out = TRUE, TRUE;
  if (s && g_strv_contains (no, s))
    return *out = FALSE, TRUE;
  return FALSE;
}

/* ---- the host's GPUs, as NVML counts them ---- */

static gint
by_address (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(Gpu *const *) a)->address, (*(Gpu *const *) b)->address);
}

static int
load_gpus (sd_bus *bus, GPtrArray *gpus)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  int r = bus_model_load (bus, &model, &error);

  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
  paths = bus_model_paths (model, GPUVIRT_DEVICE_IFACE);
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GVariant) p = bus_model_props (model, paths->pdata[i], GPUVIRT_DEVICE_IFACE);
      const char *pf;
      Gpu *g;

      g_variant_lookup (p, "PhysicalFunction", "&o", &pf);
      if (props_uint (p, "VendorId") != 0x10de || !g_str_equal (props_str (p, "Kind"), GPUVIRT_KIND_GPU) ||
          !g_str_equal (props_str (p, "Driver"), "nvidia"))
        continue;
      g = g_new0 (Gpu, 1);
      g->address = g_strdup (props_str (p, "Address"));
      g->vendor = (guint16) props_uint (p, "VendorId");
      g->device = (guint16) props_uint (p, "DeviceId");
      g->name = g_strdup (props_str (p, "DeviceName"));
      g->mig = bus_model_props (model, paths->pdata[i], GPUVIRT_MIG_IFACE);
      g_ptr_array_add (gpus, g);
    }
  g_ptr_array_sort (gpus, by_address);
  return 0;
}

/* ---- one entry ---- */

/* "0x20B210DE" (device id, then vendor) matches GPU. */
static gboolean
filter_matches (const char *filter, const Gpu *g)
{
  guint64 v;
  const char *s = filter;

  if (g_str_has_prefix (s, "0x") || g_str_has_prefix (s, "0X"))
    s += 2;
  if (!g_ascii_string_to_unsigned (s, 16, 0, G_MAXUINT32, &v, NULL))
    return FALSE;
  return (v >> 16) == g->device && (v & 0xffff) == g->vendor;
}

/* Whether GPU offers PROFILE; its name as the GPU spells it in *NAME. */
static gboolean
gpu_has_profile (const Gpu *g, const char *profile, const char **name)
{
  g_autoptr (GVariant) profiles = g_variant_lookup_value (g->mig, "Profiles", G_VARIANT_TYPE ("a(suuuuta{sv})"));

  for (gsize i = 0; profiles && i < g_variant_n_children (profiles); i++)
    {
      const char *n;
      g_variant_get_child (profiles, i, "(&suuuut@a{sv})", &n, NULL, NULL, NULL, NULL, NULL, NULL);
      if (g_ascii_strcasecmp (n, profile) == 0)
        {
          *name = n;
          return TRUE;
        }
    }
  return FALSE;
}

static char *
profile_list (const Gpu *g)
{
  g_autoptr (GVariant) profiles = g_variant_lookup_value (g->mig, "Profiles", G_VARIANT_TYPE ("a(suuuuta{sv})"));
  GString *out = g_string_new (NULL);

  for (gsize i = 0; profiles && i < g_variant_n_children (profiles); i++)
    {
      const char *n;
      g_variant_get_child (profiles, i, "(&suuuut@a{sv})", &n, NULL, NULL, NULL, NULL, NULL, NULL);
      g_string_append_printf (out, "%s%s", i ? ", " : "", n);
    }
  return g_string_free (out, FALSE);
}

/* The GPUs of DEVICES (all, an index or a list of them) and FILTER. */
static GPtrArray *
entry_gpus (Import *im, const char *where, yaml_node_t *devices, yaml_node_t *filter)
{
  GPtrArray *out = g_ptr_array_new ();
  g_autoptr (GPtrArray) filters = g_ptr_array_new ();
  gboolean all = g_strcmp0 (scalar (devices), "all") == 0;
  g_autoptr (GArray) indices = g_array_new (FALSE, FALSE, sizeof (guint));

  if (!devices)
    {
      problem (im, NULL, _("%s has no \"devices\": which GPUs is it for?"), where);
      return out;
    }
  if (!all && devices->type == YAML_SCALAR_NODE)
    {
      guint64 i;
      if (!g_ascii_string_to_unsigned (scalar (devices), 10, 0, 1023, &i, NULL))
        problem (im, devices, _("%s: \"devices\" is neither \"all\" nor a GPU index"), where);
      else
        g_array_append_val (indices, i);
    }
  else if (devices->type == YAML_SEQUENCE_NODE)
    for (yaml_node_item_t *it = devices->data.sequence.items.start; it < devices->data.sequence.items.top; it++)
      {
        yaml_node_t *n = yaml_document_get_node (im->doc, *it);
        guint64 i;
        if (!g_ascii_string_to_unsigned (scalar (n) ? scalar (n) : "", 10, 0, 1023, &i, NULL))
          problem (im, n, _("%s: a GPU index in \"devices\" is no number"), where);
        else
          g_array_append_val (indices, i);
      }
  else if (!all)
    problem (im, devices, _("%s: \"devices\" is neither \"all\" nor a list of GPU indices"), where);
  if (filter && filter->type == YAML_SCALAR_NODE)
    g_ptr_array_add (filters, (gpointer) scalar (filter));
  else if (filter && filter->type == YAML_SEQUENCE_NODE)
    for (yaml_node_item_t *it = filter->data.sequence.items.start; it < filter->data.sequence.items.top; it++)
      g_ptr_array_add (filters, (gpointer) scalar (yaml_document_get_node (im->doc, *it)));
  for (guint i = 0; i < filters->len; i++)
    if (!filters->pdata[i] || !filter_matches (filters->pdata[i], &(Gpu) { 0 }))
      {
        const char *f = filters->pdata[i];
        guint64 v;
        if (!f || !g_ascii_string_to_unsigned (g_str_has_prefix (f, "0x") || g_str_has_prefix (f, "0X") ? f + 2 : f,
                                               16, 0, G_MAXUINT32, &v, NULL))
          problem (im, filter, _("%s: \"device-filter\" %s is not a PCI device and vendor id such as 0x20B210DE"),
                   where, f ? f : "?");
      }

  for (guint i = 0; i < indices->len; i++)
    if (g_array_index (indices, guint, i) >= im->gpus->len)
      problem (im, devices, _("%s: there is no GPU %u here (NVML counts %u NVIDIA GPUs on the nvidia driver)"),
               where, g_array_index (indices, guint, i), im->gpus->len);
  for (guint i = 0; i < im->gpus->len; i++)
    {
      Gpu *g = im->gpus->pdata[i];
      gboolean named = all, passes = filters->len == 0;
      for (guint j = 0; j < indices->len; j++)
        named |= g_array_index (indices, guint, j) == i;
      for (guint j = 0; j < filters->len; j++)
        passes |= filters->pdata[j] && filter_matches (filters->pdata[j], g);
      if (named && passes)
        g_ptr_array_add (out, g);
    }
  return out;
}

static void
map_entry (Import *im, const char *name, guint index, yaml_node_t *entry)
{
  g_autofree char *where = g_strdup_printf ("mig-configs.%s[%u]", name, index);
  static const char *const known[] = { "devices", "device-filter", "mig-enabled", "mig-devices", NULL };
  yaml_node_t *enabled_node = lookup (im->doc, entry, "mig-enabled");
  yaml_node_t *devices_node = lookup (im->doc, entry, "mig-devices");
  g_autoptr (GPtrArray) gpus = NULL;
  gboolean enabled = FALSE;

  if (!entry || entry->type != YAML_MAPPING_NODE)
    {
      problem (im, entry, _("%s is not a mapping of devices, mig-enabled and mig-devices"), where);
      return;
    }
  for (yaml_node_pair_t *p = entry->data.mapping.pairs.start; p < entry->data.mapping.pairs.top; p++)
    {
      yaml_node_t *k = yaml_document_get_node (im->doc, p->key);
      if (!scalar (k) || !g_strv_contains (known, scalar (k)))
        problem (im, k, _("%s: \"%s\" has no equivalent in gpuvirt's configuration"), where,
                 scalar (k) ? scalar (k) : "?");
    }
  if (!enabled_node || !yaml_bool (scalar (enabled_node), &enabled))
    {
      problem (im, enabled_node ? enabled_node : entry, _("%s: \"mig-enabled\" must be true or false"), where);
      return;
    }
  if (devices_node && devices_node->type != YAML_MAPPING_NODE)
    {
      problem (im, devices_node, _("%s: \"mig-devices\" must map profiles to counts"), where);
      return;
    }
  gpus = entry_gpus (im, where, lookup (im->doc, entry, "devices"), lookup (im->doc, entry, "device-filter"));
  for (guint i = 0; i < gpus->len; i++)
    {
      Gpu *g = gpus->pdata[i];
      Result *res;
      g_autoptr (GString) profiles = g_string_new (NULL);
      gboolean ok = TRUE;

      if (!g->mig)
        {
          /* mig-parted leaves a GPU without MIG alone when MIG is to be off
           * ("all-disabled" on a mixed host): so does gpuvirt */
          if (enabled)
            problem (im, entry, _("%s: GPU %s (%s) has no MIG"), where, g->address, g->name);
          continue;
        }
      for (yaml_node_pair_t *p = devices_node ? devices_node->data.mapping.pairs.start : NULL;
           devices_node && p < devices_node->data.mapping.pairs.top; p++)
        {
          yaml_node_t *k = yaml_document_get_node (im->doc, p->key);
          yaml_node_t *v = yaml_document_get_node (im->doc, p->value);
          const char *profile = scalar (k), *gpu_name = NULL;
          guint64 count;

          if (!profile || !g_ascii_string_to_unsigned (scalar (v) ? scalar (v) : "", 10, 0, 64, &count, NULL))
            {
              problem (im, v, _("%s: the count of %s must be a number from 0 to 64"), where, profile ? profile : "?");
              ok = FALSE;
              continue;
            }
          if (count == 0)
            continue;
          if (!enabled)
            {
              problem (im, k, _("%s: mig-devices with mig-enabled false: GPU instances need MIG mode on"), where);
              ok = FALSE;
              continue;
            }
          if (g_str_has_prefix (profile, "1c.") || (g_ascii_isdigit (profile[0]) && profile[1] == 'c'))
            {
              problem (im, k, _("%s: %s is a compute-instance profile; gpuvirt makes one compute instance over each "
                                "GPU instance, so it cannot be expressed"), where, profile);
              ok = FALSE;
              continue;
            }
          if (!gpu_has_profile (g, profile, &gpu_name))
            {
              g_autofree char *list = profile_list (g);
              problem (im, k, _("%s: %s (%s) has no GPU instance profile %s; its profiles: %s"), where, g->address,
                       g->name, profile, list);
              ok = FALSE;
              continue;
            }
          g_string_append_printf (profiles, "%s%s:%" G_GUINT64_FORMAT, profiles->len ? ";" : "", gpu_name, count);
        }
      if (!ok)
        continue;
      res = g_hash_table_lookup (im->result, g->address);
      if (res)
        /* as mig-parted applies entries in order, the later one wins */
        g_hash_table_remove (im->result, g->address);
      else
        g_ptr_array_add (im->order, g->address);
      res = g_new0 (Result, 1);
      res->enabled = enabled;
      res->profiles = g_string_new (profiles->str);
      res->source = g_strdup (where);
      res->gpu = g;
      g_hash_table_insert (im->result, g->address, res);
    }
}

/* ---- output ---- */

static char *
group_text (const char *file, const char *config, Result *r)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "# from mig-parted %s, %s\n", file, r->source);
  g_string_append_printf (out, "[Device %s]\nId=%04x:%04x\nMigMode=%s\n", r->gpu->address, r->gpu->vendor,
                          r->gpu->device, r->enabled ? "true" : "false");
  if (r->enabled && r->profiles->len)
    g_string_append_printf (out, "MigProfiles=%s\n", r->profiles->str);
  return g_string_free (out, FALSE);
}

/* The group's address as the main file writes it, full form. */
static char *
group_address (const char *line)
{
  g_autofree char *inner = NULL;
  const char *s = line, *e;

  while (*s == ' ' || *s == '\t')
    s++;
  if (*s != '[' || !(e = strchr (s, ']')))
    return NULL;
  inner = g_strstrip (g_strndup (s + 1, (gsize) (e - s - 1)));
  if (!g_str_has_prefix (inner, "Device "))
    return g_strdup ("");
  {
    const char *a = inner + 7;
    while (*a == ' ')
      a++;
    return strlen (a) == 7 ? g_strdup_printf ("0000:%s", a) : g_ascii_strdown (a, -1);
  }
}

static gboolean
is_key (const char *line, const char *key)
{
  gsize n = strlen (key);

  while (*line == ' ' || *line == '\t')
    line++;
  if (strncmp (line, key, n) != 0)
    return FALSE;
  line += n;
  while (*line == ' ' || *line == '\t')
    line++;
  return *line == '=';
}

/* TEXT with each result's MigMode and MigProfiles set in its [Device]
 * group (other lines kept), and new groups at the end. */
static char *
merge (Import *im, const char *text, const char *file, const char *config)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);
  GString *out = g_string_new (NULL);
  Result *current = NULL;
  guint n = g_strv_length (lines);

  /* a text ending in a newline splits into a last empty line */
  if (n > 0 && !*lines[n - 1])
    n--;
  for (guint i = 0; i <= n; i++)
    {
      const char *line = i < n ? lines[i] : NULL;
      g_autofree char *address = line ? group_address (line) : g_strdup ("");

      if (address && current)
        {
          /* the group ends: what it still lacks */
          g_string_append_printf (out, "MigMode=%s\n", current->enabled ? "true" : "false");
          if (current->enabled && current->profiles->len)
            g_string_append_printf (out, "MigProfiles=%s\n", current->profiles->str);
          current = NULL;
        }
      if (!line)
        break;
      if (address)
        {
          current = g_hash_table_lookup (im->result, address);
          if (current)
            g_hash_table_add (done, current->gpu->address);
        }
      else if (current && (is_key (line, "MigMode") || is_key (line, "MigProfiles")))
        continue;
      g_string_append_printf (out, "%s\n", line);
    }
  for (guint i = 0; i < im->order->len; i++)
    {
      Result *r = g_hash_table_lookup (im->result, im->order->pdata[i]);
      g_autofree char *group = NULL;
      if (g_hash_table_contains (done, r->gpu->address))
        continue;
      group = group_text (file, config, r);
      g_string_append_printf (out, "%s%s", out->len ? "\n" : "", group);
    }
  return g_string_free (out, FALSE);
}

static int
get_config_text (sd_bus *bus, char **text)
{
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  const char *t;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "GetConfig", &error,
                          &reply, NULL);
  if (r >= 0)
    r = sd_bus_message_read (reply, "s", &t);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read gpuvirtd's configuration"));
  *text = g_strdup (t);
  return 0;
}

int
ctl_import_mig_parted (sd_bus *bus, const char *file)
{
  const char *name = ctl_args.config_name;
  g_autofree char *contents = NULL;
  g_autoptr (GError) gerror = NULL;
  g_autoptr (GPtrArray) gpus = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_free);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) result = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) result_free);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *root, *configs, *entries;
  gsize length = 0;
  int r, code = GV_EXIT_OK;
  Import im = { file, &doc, gpus, problems, result, order };

  if (!name)
    return ctl_usage_error (_("'config import mig-parted' needs --config NAME: which of the file's mig-configs."));
  if (!g_file_get_contents (file, &contents, &length, &gerror))
    {
      fprintf (stderr, _("Could not read %s: %s\n"), file, gerror->message);
      return GV_EXIT_FAILURE;
    }
  yaml_parser_initialize (&parser);
  yaml_parser_set_input_string (&parser, (const unsigned char *) contents, length);
  if (!yaml_parser_load (&parser, &doc))
    {
      /* libyaml's words are English: "did not find expected ',' or ']'" */
      if (parser.context)
        /* TRANSLATORS: "FILE:5:18: not valid YAML: did not find expected key (while parsing a block
           mapping at line 4, column 7)" */
        fprintf (stderr, _("%s:%zu:%zu: not valid YAML: %s (%s at line %zu, column %zu)\n"), file,
                 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "?", parser.context, parser.context_mark.line + 1,
                 parser.context_mark.column + 1);
      else
        /* TRANSLATORS: "FILE:5:18: not valid YAML: found character that cannot start any token" */
        fprintf (stderr, _("%s:%zu:%zu: not valid YAML: %s\n"), file, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "?");
      yaml_parser_delete (&parser);
      return GV_EXIT_FAILURE;
    }
  yaml_parser_delete (&parser);
  root = yaml_document_get_root_node (&doc);
  configs = lookup (&doc, root, "mig-configs");
  if (!configs || configs->type != YAML_MAPPING_NODE)
    {
      fprintf (stderr, _("%s: no \"mig-configs\" mapping: this is not a mig-parted configuration\n"), file);
      yaml_document_delete (&doc);
      return GV_EXIT_FAILURE;
    }
  {
    const char *version = scalar (lookup (&doc, root, "version"));
    if (g_strcmp0 (version, "v1") != 0)
      problem (&im, lookup (&doc, root, "version"), _("version %s: only mig-parted's v1 is known"),
               version ? version : _("(none)"));
  }
  entries = lookup (&doc, configs, name);
  if (!entries)
    {
      GString *names = g_string_new (NULL);
      for (yaml_node_pair_t *p = configs->data.mapping.pairs.start; p < configs->data.mapping.pairs.top; p++)
        g_string_append_printf (names, "%s%s", names->len ? ", " : "", scalar (yaml_document_get_node (&doc, p->key)));
      fprintf (stderr, _("%s has no configuration '%s'; it has: %s\n"), file, name, names->str);
      g_string_free (names, TRUE);
      yaml_document_delete (&doc);
      return GV_EXIT_NO_SUCH;
    }
  r = load_gpus (bus, gpus);
  if (r != 0)
    {
      yaml_document_delete (&doc);
      return r;
    }
  if (entries->type != YAML_SEQUENCE_NODE)
    problem (&im, entries, _("mig-configs.%s is not a list of entries"), name);
  else
    for (yaml_node_item_t *it = entries->data.sequence.items.start; it < entries->data.sequence.items.top; it++)
      map_entry (&im, name, (guint) (it - entries->data.sequence.items.start), yaml_document_get_node (&doc, *it));

  for (guint i = 0; i < problems->len; i++)
    fprintf (stderr, _("cannot map: %s\n"), (char *) problems->pdata[i]);
  if (problems->len)
    code = GV_EXIT_FAILURE;
  if (ctl_args.apply)
    {
      g_autofree char *text = NULL;
      g_autofree char *merged = NULL;
      g_autofree char *source = g_strdup_printf ("%s (mig-parted %s)", file, name);
      if (problems->len)
        {
          fputs (_("Nothing was saved: the entries above cannot be mapped. Fix the file, or import without --apply "
                   "and edit the result.\n"), stderr);
          yaml_document_delete (&doc);
          return GV_EXIT_FAILURE;
        }
      r = get_config_text (bus, &text);
      if (r == 0)
        {
          merged = merge (&im, text, file, name);
          r = ctl_config_save_text (bus, source, merged);
        }
      yaml_document_delete (&doc);
      return r;
    }
  for (guint i = 0; i < order->len; i++)
    {
      g_autofree char *group = group_text (file, name, g_hash_table_lookup (result, order->pdata[i]));
      printf ("%s%s", i ? "\n" : "", group);
    }
  if (order->len == 0)
    fputs (_("No GPU of this host is named by that configuration.\n"), stderr);
  yaml_document_delete (&doc);
  return code;
}
