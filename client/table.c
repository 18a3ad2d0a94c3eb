/* A plain column table. Output to a pipe is never cut, so scripts that
 * read the text (they should use --json) see whole cells. */
#include "table.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define COLUMN_GAP 2
#define MIN_SHRUNK 12

struct CtlTable
{
  guint n_columns;
  int shrinkable;
  GPtrArray *rows; /* of GStrv, the header first */
};

CtlTable *
ctl_table_new (guint n_columns, const char *const *headers)
{
  CtlTable *table = g_new0 (CtlTable, 1);

  table->n_columns = n_columns;
  table->shrinkable = -1;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  ctl_table_add_row (table, headers);
  return table;
}

void
ctl_table_free (CtlTable *table)
{
  if (!table)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

void
ctl_table_set_shrinkable (CtlTable *table, guint column)
{
  g_return_if_fail (column < table->n_columns);
  table->shrinkable = (int) column;
}

void
ctl_table_add_row (CtlTable *table, const char *const *cells)
{
  char **row = g_new0 (char *, table->n_columns + 1);

  for (guint i = 0; i < table->n_columns; i++)
    row[i] = g_strdup (ctl_dash (cells[i]));
  g_ptr_array_add (table->rows, row);
}

guint
ctl_table_n_rows (CtlTable *table)
{
  return table->rows->len - 1;
}

/* The longest prefix of S that fits WIDTH terminal columns (wide characters
 * count 2, combining marks 0), with "..." at the end. */
static char *
ellipsize (const char *s, int width)
{
  GString *out = g_string_new (NULL);
  int used = 0;

  /* D-Bus strings are valid UTF-8 */
  if (ctl_text_width (s) <= width || !g_utf8_validate (s, -1, NULL))
    return g_strdup (s);
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      int w = ctl_char_width (c);

      /* a wide character that does not fit whole is left out; zero-width
       * ones after the last character kept stay with it */
      if (used + w > width - 3)
        break;
      g_string_append_unichar (out, c);
      used += w;
    }
  g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

void
ctl_table_print (CtlTable *table, FILE *f, int max_width)
{
  g_autofree int *widths = g_new0 (int, table->n_columns);
  int total = 0;

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], ctl_text_width (row[c]));
    }
  for (guint c = 0; c < table->n_columns; c++)
    total += widths[c] + (c > 0 ? COLUMN_GAP : 0);
  if (max_width > 0 && total > max_width && table->shrinkable >= 0)
    {
      int *w = &widths[table->shrinkable];
      *w = MAX (MIN (*w, MIN_SHRUNK), *w - (total - max_width));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      GString *line = g_string_new (NULL);

      for (guint c = 0; c < table->n_columns; c++)
        {
          g_autofree char *cell = ellipsize (row[c], widths[c]);

          if (c > 0)
            g_string_append_printf (line, "%*s", COLUMN_GAP, "");
          g_string_append (line, cell);
          /* no padding after the last column */
          if (c + 1 < table->n_columns)
            g_string_append_printf (line, "%*s", ctl_text_pad (cell, widths[c]), "");
        }
      fprintf (f, "%s\n", line->str);
      g_string_free (line, TRUE);
    }
}

int
ctl_terminal_width (void)
{
  struct winsize ws = { 0 };
  const char *columns = g_getenv ("COLUMNS");

  if (!isatty (STDOUT_FILENO))
    return 0;
  if (columns && atoi (columns) > 0)
    return atoi (columns);
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 80;
}
