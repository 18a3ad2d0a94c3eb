/* The configuration text line by line, as GKeyFile reads it, but with the
 * line of every group and key kept (GKeyFile forgets them), and the
 * parsers of each kind of value, each saying what is wrong. */
#include "config/internal.h"
#include "sysfs/read.h"
#include "vgpu/vgpu.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
gv_config_problem_free (GvConfigProblem *problem)
{
  if (!problem)
    return;
  g_free (problem->file);
  g_free (problem->key);
  g_free (problem->message);
  g_free (problem);
}

GPtrArray *
gv_config_problems_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_problem_free);
}

/* Problems quote what was written: control characters show as \xNN
 * (a terminal shows them as they are), and a line of a megabyte is cut,
 * not sent back whole in ConfigErrors and error messages. */
#define PROBLEM_TEXT_MAX 256

static char *
tidy (char *text)
{
  GString *out = g_string_new (NULL);
  gsize len = strlen (text);

  if (!g_utf8_validate (text, -1, NULL)) {
    char *valid = g_utf8_make_valid (text, -1);
    g_free (text);
    text = valid;
  }
  for (const char *p = text; *p; p = g_utf8_next_char (p)) {
    if (out->len >= PROBLEM_TEXT_MAX) {
      g_string_append_printf (out, "… (%zu bytes)", len);
      break;
    }
    if ((guchar) *p < 0x20 || *p == 0x7f)
      g_string_append_printf (out, "\\x%02x", (guchar) *p);
    else
      g_string_append_len (out, p, g_utf8_next_char (p) - p);
  }
  g_free (text);
  return g_string_free (out, FALSE);
}

void
gv_config_problem_add (GPtrArray *problems, const char *file, guint line, const char *key, gboolean host,
                 const char *format, ...)
{
  GvConfigProblem *p = g_new0 (GvConfigProblem, 1);
  va_list args;

  p->file = g_strdup (file);
  p->line = line;
  p->key = tidy (g_strdup (key ? key : ""));
  p->host = host;
  va_start (args, format);
  p->message = tidy (g_strdup_vprintf (format, args));
  va_end (args);
  g_ptr_array_add (problems, p);
}

char *
gv_config_problems_to_text (GPtrArray *problems, guint max)
{
  GString *out = g_string_new (NULL);
  guint n = problems ? problems->len : 0;

  for (guint i = 0; i < n && (max == 0 || i < max); i++) {
    const GvConfigProblem *p = problems->pdata[i];
    if (out->len)
      g_string_append_c (out, '\n');
    g_string_append (out, p->file ? p->file : "(text)");
    if (p->line)
      g_string_append_printf (out, ":%u", p->line);
    g_string_append (out, ": ");
    if (*p->key)
      g_string_append_printf (out, "%s: ", p->key);
    g_string_append (out, p->message);
  }
  if (max && n > max)
    g_string_append_printf (out, "\nand %u more", n - max);
  return g_string_free (out, FALSE);
}

void
gv_config_group_free (GvConfigGroup *group)
{
  if (!group)
    return;
  g_free (group->name);
  g_ptr_array_unref (group->entries);
  g_free (group);
}

static void
entry_free (GvConfigEntry *entry)
{
  g_free (entry->key);
  g_free (entry->raw);
  g_free (entry);
}

/* ---- scanning ---- */

GPtrArray *
gv_config_scan (const char *text, const char *file, GPtrArray *problems)
{
  GPtrArray *groups = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_group_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GvConfigGroup *current = NULL;
  gboolean warned_outside = FALSE;

  /* a byte-order mark, which some editors write, is no part of the text */
  if (lines[0] && g_str_has_prefix (lines[0], "\xef\xbb\xbf"))
    memmove (lines[0], lines[0] + 3, strlen (lines[0]) - 2);
  for (guint i = 0; lines[i]; i++) {
    guint n = i + 1;
    char *line = lines[i];
    gsize len;

    if (!g_utf8_validate (line, -1, NULL)) {
      gv_config_problem_add (problems, file, n, "", FALSE, "the line is not valid UTF-8");
      continue;
    }
    g_strstrip (line);
    len = strlen (line);
    if (len == 0 || line[0] == '#')
      continue;

    if (line[0] == '[') {
      gboolean ok = len >= 3 && line[len - 1] == ']';
      for (gsize j = 1; ok && j + 1 < len; j++)
        ok = line[j] != '[' && line[j] != ']' && !g_ascii_iscntrl (line[j]);
      if (!ok) {
        gv_config_problem_add (problems, file, n, "", FALSE,
                         "“%s” is not a group line: write [Manage], [Device ADDRESS] or [Mdev UUID]", line);
        current = NULL;
        warned_outside = TRUE; /* its keys belong to the broken group: not reported again */
        continue;
      }
      current = g_new0 (GvConfigGroup, 1);
      current->name = g_strndup (line + 1, len - 2);
      current->line = n;
      current->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
      g_ptr_array_add (groups, current);
      continue;
    }

    {
      const char *eq = strchr (line, '=');
      g_autofree char *key = NULL;
      GvConfigEntry *e;

      if (!eq) {
        gv_config_problem_add (problems, file, n, current ? current->name : "", FALSE,
                         "“%s” is neither Key=value, a [group] nor a comment (comments start with #)", line);
        continue;
      }
      key = g_strstrip (g_strndup (line, (gsize) (eq - line)));
      if (!*key) {
        gv_config_problem_add (problems, file, n, current ? current->name : "", FALSE, "a value without a key: “%s”",
                         line);
        continue;
      }
      if (!current) {
        if (!warned_outside)
          gv_config_problem_add (problems, file, n, key, FALSE,
                           "a key before any group: put it below [Manage], [Device ADDRESS] or [Mdev UUID]");
        warned_outside = TRUE;
        continue;
      }
      e = g_new0 (GvConfigEntry, 1);
      e->key = g_steal_pointer (&key);
      e->raw = g_strstrip (g_strdup (eq + 1));
      e->line = n;
      g_ptr_array_add (current->entries, e);
    }
  }
  return groups;
}

/* ---- values ---- */

/* GKeyFile's unescaping: \s \n \t \r \\, and \; inside lists. */
static gboolean
unescape (const char *raw, gsize len, gboolean in_list, char **out, char **why)
{
  GString *s = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++) {
    if (raw[i] != '\\') {
      g_string_append_c (s, raw[i]);
      continue;
    }
    if (++i == len) {
      *why = g_strdup ("ends in a lone backslash");
      g_string_free (s, TRUE);
      return FALSE;
    }
    switch (raw[i]) {
    case 's': g_string_append_c (s, ' '); break;
    case 'n': g_string_append_c (s, '\n'); break;
    case 't': g_string_append_c (s, '\t'); break;
    case 'r': g_string_append_c (s, '\r'); break;
    case '\\': g_string_append_c (s, '\\'); break;
    case ';':
      if (in_list) {
        g_string_append_c (s, ';');
        break;
      }
      G_GNUC_FALLTHROUGH;
    default:
      *why = g_strdup_printf ("has an invalid escape “\\%c”", raw[i]);
      g_string_free (s, TRUE);
      return FALSE;
    }
  }
  *out = g_string_free (s, FALSE);
  return TRUE;
}

/* A value with "  # ..." in it was probably meant as an end-of-line
 * comment, which GKeyFile does not have. */
static char *
comment_hint (const char *raw)
{
  return g_strdup (strstr (raw, "#") ? " (comments go on lines of their own: “#” does not end a value)" : "");
}

gboolean
gv_config_parse_string (const char *raw, char **out, char **why)
{
  return unescape (raw, strlen (raw), FALSE, out, why);
}

gboolean
gv_config_parse_list (const char *raw, GStrv *out, char **why)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  gsize start = 0, len = strlen (raw);

  for (gsize i = 0; i <= len; i++) {
    char *item = NULL;
    if (i < len && raw[i] == '\\') {
      i++;
      continue;
    }
    if (i < len && raw[i] != ';')
      continue;
    if (!unescape (raw + start, i - start, TRUE, &item, why))
      return FALSE;
    g_strstrip (item);
    if (*item)
      g_ptr_array_add (items, item);
    else
      g_free (item);
    start = i + 1;
  }
  g_ptr_array_add (items, NULL);
  *out = (GStrv) g_ptr_array_free (g_steal_pointer (&items), FALSE);
  return TRUE;
}

gboolean
gv_config_parse_bool (const char *raw, gboolean *out, char **why)
{
  static const char *const yes[] = { "true", "yes", "1", NULL };
  static const char *const no[] = { "false", "no", "0", NULL };

  for (guint i = 0; yes[i]; i++)
    if (g_ascii_strcasecmp (raw, yes[i]) == 0) {
      *out = TRUE;
      return TRUE;
    }
  for (guint i = 0; no[i]; i++)
    if (g_ascii_strcasecmp (raw, no[i]) == 0) {
      *out = FALSE;
      return TRUE;
    }
  {
    g_autofree char *hint = comment_hint (raw);
    *why = g_strdup_printf ("“%s” is not a boolean (true or false)%s", raw, hint);
  }
  return FALSE;
}

gboolean
gv_config_parse_count (const char *raw, guint min, guint max, guint *out, char **why)
{
  guint64 v = 0;
  gboolean ok = *raw != '\0' && strlen (raw) <= 10;

  for (const char *p = raw; ok && *p; p++)
    ok = g_ascii_isdigit (*p);
  if (ok)
    v = g_ascii_strtoull (raw, NULL, 10);
  if (!ok || v < min || v > max) {
    g_autofree char *hint = comment_hint (raw);
    *why = g_strdup_printf ("“%s” is not a whole number from %u to %u%s", raw, min, max, hint);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

static gboolean
hex4 (const char *p, guint16 *out)
{
  guint v = 0;

  for (int i = 0; i < 4; i++) {
    if (!g_ascii_isxdigit (p[i]))
      return FALSE;
    v = v << 4 | (guint) g_ascii_xdigit_value (p[i]);
  }
  *out = (guint16) v;
  return TRUE;
}

gboolean
gv_config_parse_id (const char *raw, guint16 *vendor, guint16 *device, char **why)
{
  if (strlen (raw) == 9 && raw[4] == ':' && hex4 (raw, vendor) && hex4 (raw + 5, device))
    return TRUE;
  {
    g_autofree char *hint = comment_hint (raw);
    *why = g_strdup_printf ("“%s” is not a vendor:device pair of 4 hex digits each (e.g. 10de:26b9, as lspci -nn "
                            "shows)%s", raw, hint);
  }
  return FALSE;
}

char *
gv_config_normalize_uuid (const char *text)
{
  if (!text || !gv_vgpu_uuid_is_valid (text))
    return NULL;
  return g_ascii_strdown (text, -1);
}

char *
gv_config_id_text (guint16 vendor, guint16 device)
{
  return g_strdup_printf ("%04x:%04x", vendor, device);
}

/* ---- suggestions ---- */

static guint
distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (gsize i = 1; i <= la; i++) {
    guint diag = row[0];
    row[0] = (guint) i;
    for (gsize j = 1; j <= lb; j++) {
      guint up = row[j];
      guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
      row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
      diag = up;
    }
  }
  return row[lb];
}

char *
gv_config_suggest (const char *word, const char *const *candidates)
{
  const char *best = NULL;
  guint best_d = G_MAXUINT;
  g_autofree char *lower = g_ascii_strdown (word, -1);

  for (guint i = 0; candidates[i]; i++) {
    g_autofree char *cand = g_ascii_strdown (candidates[i], -1);
    guint d = distance (word, candidates[i]);
    gsize common = 0;
    /* "Type" in a [Device] is VgpuType; "vfs" is NumVfs */
    if (strlen (lower) >= 3 && (strstr (cand, lower) || strstr (lower, cand)))
      d = MIN (d, 1);
    /* "Passthru" is Passthrough */
    while (lower[common] && lower[common] == cand[common])
      common++;
    if (common >= 4 && common * 2 >= MIN (strlen (lower), strlen (cand)))
      d = MIN (d, 1);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  if (best && best_d <= MAX (2u, (guint) strlen (word) / 3))
    return g_strdup_printf (" (did you mean “%s”?)", best);
  return g_strdup ("");
}
