/* Profile names, the profiles MIG-backed vGPU types run on, layouts as
 * the configuration writes them, and placing a layout on a GPU's memory
 * slices. No NVML calls here. */
#include "mig/internal.h"

#include <math.h>
#include <string.h>

/* The attribute a profile index adds to the name. */
static const char *
suffix_of (guint index)
{
  switch (index) {
  case GV_MIG_NVML_GI_PROFILE_1_SLICE_REV1:
  case GV_MIG_NVML_GI_PROFILE_2_SLICE_REV1: return "+me";
  case GV_MIG_NVML_GI_PROFILE_1_SLICE_GFX:
  case GV_MIG_NVML_GI_PROFILE_2_SLICE_GFX:
  case GV_MIG_NVML_GI_PROFILE_4_SLICE_GFX: return "+gfx";
  case GV_MIG_NVML_GI_PROFILE_1_SLICE_NO_ME:
  case GV_MIG_NVML_GI_PROFILE_2_SLICE_NO_ME: return "-me";
  case GV_MIG_NVML_GI_PROFILE_1_SLICE_ALL_ME:
  case GV_MIG_NVML_GI_PROFILE_2_SLICE_ALL_ME: return "+me.all";
  default: return "";
  }
}

char *
gv_mig_profile_name (guint index, guint slices, guint64 memory_mb, guint64 total_mb)
{
  /* the instance's share of the GPU's memory, rounded up to eighths
   * (the memory slices), of the GPU's size in whole GB */
  double share = total_mb ? ceil ((double) memory_mb / (double) total_mb * 8.0) / 8.0 : 0.0;
  guint64 total_gb = (total_mb + 1023) / 1024;
  guint64 gb = (guint64) llround (share * (double) total_gb);

  return g_strdup_printf ("%ug.%" G_GUINT64_FORMAT "gb%s", slices, gb, suffix_of (index));
}

gboolean
gv_mig_profile_name_valid (const char *name, char **normalized)
{
  g_autofree char *low = name ? g_ascii_strdown (name, -1) : NULL;
  const char *p = low;
  static const char *const suffixes[] = { "", "+me", "-me", "+me.all", "+gfx" };

  if (!p || !g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (strncmp (p, "g.", 2) != 0 || !g_ascii_isdigit (p[2]))
    return FALSE;
  p += 2;
  while (g_ascii_isdigit (*p))
    p++;
  if (strncmp (p, "gb", 2) != 0)
    return FALSE;
  p += 2;
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_equal (p, suffixes[i])) {
      if (normalized)
        *normalized = g_steal_pointer (&low);
      return TRUE;
    }
  return FALSE;
}

char *
gv_mig_profile_for_vgpu_type (const char *type)
{
  static const struct { const char *tail, *suffix; } tails[] = {
    { "MEALL", "+me.all" }, { "NOME", "-me" }, { "ME", "+me" }, { "GFX", "+gfx" }, { "", "" },
  };
  g_autofree char *upper = NULL;
  g_auto (GStrv) parts = NULL;
  const char *name = type;
  guint n;
  char *end;
  guint64 slices, gb;

  if (!name)
    return NULL;
  if (g_ascii_strncasecmp (name, "NVIDIA ", 7) == 0)
    name += 7;
  upper = g_ascii_strup (name, -1);
  /* GPU-<slices>-<GB><series>[suffix]: A100-1-5C, H100-1-10CME, A100D-2-20C */
  parts = g_strsplit (upper, "-", -1);
  n = g_strv_length (parts);
  if (n != 3 || !*parts[0])
    return NULL;
  if (!g_ascii_string_to_unsigned (parts[1], 10, 1, 8, &slices, NULL))
    return NULL;
  gb = g_ascii_strtoull (parts[2], &end, 10);
  if (end == parts[2] || gb == 0 || !g_ascii_isalpha (*end))
    return NULL;
  end++;  /* the series letter: C, Q, ... */
  for (gsize i = 0; i < G_N_ELEMENTS (tails); i++)
    if (g_str_equal (end, tails[i].tail))
      return g_strdup_printf ("%" G_GUINT64_FORMAT "g.%" G_GUINT64_FORMAT "gb%s", slices, gb, tails[i].suffix);
  return NULL;
}

/* ---- layouts ---- */

void
gv_mig_want_free (GvMigWant *want)
{
  if (!want)
    return;
  g_free (want->profile);
  g_free (want);
}

void
gv_mig_slot_clear (GvMigSlot *slot)
{
  g_clear_pointer (&slot->profile, g_free);
}

GPtrArray *
gv_mig_wants_parse (const char *text, char **why)
{
  g_autoptr (GPtrArray) wants = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_mig_want_free);
  g_auto (GStrv) items = g_strsplit_set (text ? text : "", ";,", -1);

  for (guint i = 0; items[i]; i++) {
    char *item = g_strstrip (items[i]);
    char *colon = strchr (item, ':');
    g_autofree char *profile = NULL;
    guint64 count = 1;
    GvMigWant *want = NULL;

    if (!*item)
      continue;
    if (colon) {
      *colon = '\0';
      g_strstrip (item);
      if (!g_ascii_string_to_unsigned (g_strstrip (colon + 1), 10, 1, 64, &count, NULL)) {
        *why = g_strdup_printf ("“%s” needs a count from 1 to 64 after the colon, not “%s”", item, colon + 1);
        return NULL;
      }
    }
    if (!gv_mig_profile_name_valid (item, &profile)) {
      *why = g_strdup_printf ("“%s” is no GPU instance profile (such as 1g.10gb, 3g.40gb or 1g.10gb+me)", item);
      return NULL;
    }
    for (guint j = 0; j < wants->len && !want; j++)
      if (g_str_equal (((GvMigWant *) wants->pdata[j])->profile, profile))
        want = wants->pdata[j];
    if (!want) {
      want = g_new0 (GvMigWant, 1);
      want->profile = g_steal_pointer (&profile);
      g_ptr_array_add (wants, want);
    }
    want->count += (guint) count;
  }
  return g_steal_pointer (&wants);
}

static gint
by_profile (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(GvMigWant *const *) a)->profile, (*(GvMigWant *const *) b)->profile);
}

char *
gv_mig_wants_to_string (GPtrArray *wants)
{
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  GString *out = g_string_new (NULL);

  for (guint i = 0; wants && i < wants->len; i++)
    g_ptr_array_add (sorted, wants->pdata[i]);
  g_ptr_array_sort (sorted, by_profile);
  for (guint i = 0; i < sorted->len; i++) {
    GvMigWant *w = sorted->pdata[i];
    g_string_append_printf (out, "%s%s:%u", i ? ";" : "", w->profile, w->count);
  }
  return g_string_free (out, FALSE);
}

/* ---- placing ---- */

typedef struct {
  const GvMigProfile *profile;
} Need;

/* Larger instances first: fewer choices, so the search ends sooner. */
static gint
by_size (gconstpointer a, gconstpointer b)
{
  const Need *x = a, *y = b;
  guint sx = x->profile->placements->len ? g_array_index (x->profile->placements, GvMigPlacement, 0).size : 0;
  guint sy = y->profile->placements->len ? g_array_index (y->profile->placements, GvMigPlacement, 0).size : 0;
  return sx != sy ? (sx > sy ? -1 : 1) : (x->profile->index < y->profile->index ? -1 : x->profile->index > y->profile->index);
}

/* Places NEEDS[I..] in the free slices of MASK; chosen placements go to OUT. */
static gboolean
search (GArray *needs, guint i, guint64 mask, GvMigPlacement *out)
{
  const Need *need;

  if (i == needs->len)
    return TRUE;
  need = &g_array_index (needs, Need, i);
  for (guint p = 0; p < need->profile->placements->len; p++) {
    GvMigPlacement pl = g_array_index (need->profile->placements, GvMigPlacement, p);
    guint64 bits = (pl.size >= 64 ? G_MAXUINT64 : ((G_GUINT64_CONSTANT (1) << pl.size) - 1)) << pl.start;
    /* two instances of one profile: the second never left of the first,
     * which would only try the same layouts again */
    if (i > 0 && g_array_index (needs, Need, i - 1).profile == need->profile && pl.start < out[i - 1].start)
      continue;
    if (pl.start >= 64 || (mask & bits))
      continue;
    out[i] = pl;
    if (search (needs, i + 1, mask | bits, out))
      return TRUE;
  }
  return FALSE;
}

GArray *
gv_mig_place (const GvMigGpu *gpu, GPtrArray *wants, GPtrArray *keep, GError **error)
{
  g_autoptr (GArray) needs = g_array_new (FALSE, FALSE, sizeof (Need));
  g_autofree GvMigPlacement *chosen = NULL;
  GArray *slots;
  guint64 mask = 0;
  g_autoptr (GString) asked = g_string_new (NULL);

  for (guint i = 0; keep && i < keep->len; i++) {
    const GvMigInstance *in = keep->pdata[i];
    mask |= ((G_GUINT64_CONSTANT (1) << in->placement.size) - 1) << in->placement.start;
  }
  for (guint i = 0; wants && i < wants->len; i++) {
    const GvMigWant *w = wants->pdata[i];
    const GvMigProfile *p = gv_mig_gpu_find_profile (gpu, w->profile);
    guint kept = 0;

    if (!p) {
      g_autofree char *names = gv_mig_gpu_profile_names (gpu);
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s (%s) has no GPU instance profile %s; its profiles: %s",
                   gpu->bdf, gpu->name, w->profile, names);
      return NULL;
    }
    for (guint k = 0; keep && k < keep->len; k++)
      kept += ((GvMigInstance *) keep->pdata[k])->profile_id == p->id;
    if (w->count > p->max) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY, "%s holds at most %u instance%s of %s, not %u", gpu->bdf,
                   p->max, p->max == 1 ? "" : "s", p->name, w->count);
      return NULL;
    }
    g_string_append_printf (asked, "%s%u × %s", asked->len ? ", " : "", w->count, p->name);
    for (guint n = kept; n < w->count; n++)
      g_array_append_val (needs, ((Need) { p }));
  }
  g_array_sort (needs, by_size);
  chosen = g_new0 (GvMigPlacement, needs->len + 1);
  if (!search (needs, 0, mask, chosen)) {
    guint slices = 0;
    for (guint i = 0; i < gpu->profiles->len; i++) {
      const GvMigProfile *p = gpu->profiles->pdata[i];
      for (guint j = 0; j < p->placements->len; j++) {
        GvMigPlacement pl = g_array_index (p->placements, GvMigPlacement, j);
        slices = MAX (slices, pl.start + pl.size);
      }
    }
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                 "%s cannot hold %s%s: they do not fit in its %u memory slices where NVML allows each profile to go",
                 gpu->bdf, asked->str, keep && keep->len ? " besides the instances kept" : "", slices);
    return NULL;
  }
  slots = g_array_sized_new (FALSE, TRUE, sizeof (GvMigSlot), needs->len);
  g_array_set_clear_func (slots, (GDestroyNotify) gv_mig_slot_clear);
  for (guint i = 0; i < needs->len; i++) {
    const Need *need = &g_array_index (needs, Need, i);
    GvMigSlot slot = { need->profile->id, g_strdup (need->profile->name), chosen[i] };
    g_array_append_val (slots, slot);
  }
  return slots;
}
