/* Text rendering shared by status, show and monitor, so a value reads the
 * same wherever it appears. */
#include "text.h"
#include "bus-model.h"
#include "ctl.h"
#include "device-arg.h"

#include <stdlib.h>
#include <string.h>

const char *
ctl_dash (const char *s)
{
  return s && *s ? s : "-";
}

static void
append_value (GString *out, GVariant *v)
{
  const GVariantType *type = g_variant_get_type (v);

  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (v);
      append_value (out, inner);
    }
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING)
           || g_variant_is_of_type (v, G_VARIANT_TYPE_SIGNATURE))
    g_string_append (out, ctl_dash (g_variant_get_string (v, NULL)));
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_OBJECT_PATH))
    {
      g_autofree char *name = ctl_object_name (g_variant_get_string (v, NULL));
      g_string_append (out, ctl_dash (name));
    }
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (v) ? _("yes") : _("no"));
  else if (g_variant_type_is_array (type) || g_variant_type_is_tuple (type)
           || g_variant_type_is_dict_entry (type))
    {
      /* arrays list their items; tuples and dict entries are one item */
      const char *sep = g_variant_type_is_array (type) ? ", "
                        : g_variant_type_is_dict_entry (type) ? "=" : " ";
      gsize n = g_variant_n_children (v);

      if (n == 0)
        g_string_append (out, "-");
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GVariant) child = g_variant_get_child_value (v, i);

          if (i > 0)
            g_string_append (out, sep);
          append_value (out, child);
        }
    }
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    g_string_append_printf (out, "%g", g_variant_get_double (v));
  else
    {
      /* the remaining basic types are integers; print them in decimal */
      g_autofree char *s = g_variant_print (v, FALSE);
      g_string_append (out, s);
    }
}

char *
ctl_text_value (GVariant *v)
{
  GString *out = g_string_new (NULL);

  append_value (out, v);
  return g_string_free (out, FALSE);
}

char *
ctl_device_description (GVariant *props)
{
  g_autofree char *text = g_strjoin (" ", props_str (props, "VendorName"),
                                     props_str (props, "DeviceName"), NULL);

  return g_strdup (g_strstrip (text));
}

int
ctl_char_width (gunichar c)
{
  /* combining marks and other zero-width characters join the one before */
  if (g_unichar_iszerowidth (c))
    return 0;
  /* CJK ideographs, kana, hangul, fullwidth forms */
  return g_unichar_iswide (c) ? 2 : 1;
}

int
ctl_text_width (const char *s)
{
  int width = 0;

  if (!s)
    return 0;
  if (!g_utf8_validate (s, -1, NULL))
    return (int) strlen (s);
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    width += ctl_char_width (g_utf8_get_char (p));
  return width;
}

int
ctl_text_pad (const char *s, int width)
{
  return MAX (0, width - ctl_text_width (s));
}

void
ctl_print_field (FILE *f, int width, const char *label, const char *value)
{
  g_auto (GStrv) lines = g_strsplit (ctl_dash (value), "\n", -1);
  int pad = width - ctl_text_width (label);

  fprintf (f, "%*s%s: %s\n", pad > 0 ? pad : 0, "", label, lines[0]);
  for (int i = 1; lines[i]; i++)
    fprintf (f, "%*s  %s\n", width, "", lines[i]);
}

struct CtlFields
{
  GPtrArray *labels;
  GPtrArray *values;
};

CtlFields *
ctl_fields_new (void)
{
  CtlFields *fields = g_new0 (CtlFields, 1);

  fields->labels = g_ptr_array_new_with_free_func (g_free);
  fields->values = g_ptr_array_new_with_free_func (g_free);
  return fields;
}

void
ctl_fields_free (CtlFields *fields)
{
  if (!fields)
    return;
  g_ptr_array_unref (fields->labels);
  g_ptr_array_unref (fields->values);
  g_free (fields);
}

void
ctl_fields_take (CtlFields *fields, const char *label, char *value)
{
  g_ptr_array_add (fields->labels, g_strdup (label));
  g_ptr_array_add (fields->values, value);
}

void
ctl_fields_add (CtlFields *fields, const char *label, const char *value)
{
  ctl_fields_take (fields, label, g_strdup (value));
}

void
ctl_fields_print (CtlFields *fields, FILE *f)
{
  int width = 0;

  for (guint i = 0; i < fields->labels->len; i++)
    width = MAX (width, ctl_text_width (g_ptr_array_index (fields->labels, i)));
  for (guint i = 0; i < fields->labels->len; i++)
    ctl_print_field (f, width, g_ptr_array_index (fields->labels, i),
                     g_ptr_array_index (fields->values, i));
}

char *
ctl_text_safe (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text ? text : ""; *p; p++) {
    guchar ch = (guchar) *p;
    if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
      g_string_append_printf (out, "\\x%02x", ch);
    else
      g_string_append_c (out, *p);
  }
  return g_string_free (out, FALSE);
}

gboolean
ctl_answer_is_yes (const char *answer)
{
  /* TRANSLATORS: the letter that answers yes to a [y/N] question, the
     same as in the question's translation ("[j/N]": "j") */
  const char *yes = _("y");

  if (!answer || !*answer)
    return FALSE;
  if (rpmatch (answer) == 1)
    return TRUE;
  return g_unichar_tolower (g_utf8_get_char_validated (answer, -1)) ==
         g_unichar_tolower (g_utf8_get_char_validated (yes, -1));
}
