/* PCI addresses (see bdf.h). */
#include "host/bdf.h"

#include <string.h>

static gboolean
parse_hex_field (const char **p, guint min_digits, guint max_digits, guint *out)
{
  guint v = 0, n = 0;

  while (g_ascii_isxdigit (**p) && n < max_digits) {
    if (g_ascii_isupper (**p))
      return FALSE; /* sysfs names are lower case; keep one spelling */
    v = v * 16 + g_ascii_xdigit_value (**p);
    (*p)++;
    n++;
  }
  if (n < min_digits || g_ascii_isxdigit (**p))
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
gv_host_bdf_parse (const char *text, GvHostBdf *out)
{
  const char *p = text;
  GvHostBdf bdf;

  if (!text)
    return FALSE;
  if (!parse_hex_field (&p, 4, 8, &bdf.domain) || *p++ != ':')
    return FALSE;
  if (!parse_hex_field (&p, 2, 2, &bdf.bus) || *p++ != ':')
    return FALSE;
  if (!parse_hex_field (&p, 2, 2, &bdf.slot) || *p++ != '.')
    return FALSE;
  if (!g_ascii_isdigit (*p) || *p > '7' || p[1] != '\0')
    return FALSE;
  bdf.function = *p - '0';
  if (bdf.slot > 0x1f)
    return FALSE;
  if (out)
    *out = bdf;
  return TRUE;
}

gboolean
gv_host_bdf_is_valid (const char *text)
{
  return gv_host_bdf_parse (text, NULL);
}

gboolean
gv_host_bdf_same_slot (const GvHostBdf *a, const GvHostBdf *b)
{
  return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

char *
gv_host_bdf_normalize (const char *text)
{
  g_autofree char *full = NULL;
  GvHostBdf bdf;

  if (!text)
    return NULL;
  full = g_ascii_strdown (text, -1);
  /* "0b:00.0": domain 0000 */
  if (strlen (full) == 7) {
    char *with_domain = g_strconcat ("0000:", full, NULL);
    g_free (full);
    full = with_domain;
  }
  if (!gv_host_bdf_parse (full, &bdf))
    return NULL;
  return g_strdup_printf ("%04x:%02x:%02x.%x", bdf.domain, bdf.bus, bdf.slot, bdf.function);
}
