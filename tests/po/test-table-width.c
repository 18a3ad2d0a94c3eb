/* The client's column logic with translated and CJK text: tables, aligned
 * fields and the "..." cut go by terminal columns (a wide character takes
 * 2, a combining mark 0), never by bytes or characters. Each expected
 * string below comes out different when either of those is counted. */
#include "table.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What PRINT writes to a FILE, as a string. */
typedef void (*PrintFunc) (FILE *f, gpointer data);

static char *
capture (PrintFunc print, gpointer data)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream (&buf, &size);

  g_assert_nonnull (f);
  print (f, data);
  g_assert_cmpint (fclose (f), ==, 0);
  return buf;
}

typedef struct
{
  CtlTable *table;
  int max_width;
} TablePrint;

static void
print_table (FILE *f, gpointer data)
{
  TablePrint *p = data;

  ctl_table_print (p->table, f, p->max_width);
}

static char *
table_text (CtlTable *table, int max_width)
{
  TablePrint p = { table, max_width };

  return capture (print_table, &p);
}

/* Every line of TEXT fits MAX columns. */
static void
assert_lines_fit (const char *text, int max)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (ctl_text_width (lines[i]) > max)
      g_error ("line %u is %d columns wide, more than %d: '%s'", i, ctl_text_width (lines[i]), max, lines[i]);
}

static void
test_char_width (void)
{
  g_assert_cmpint (ctl_char_width ('A'), ==, 1);
  g_assert_cmpint (ctl_char_width (0x00E4), ==, 1);  /* ä */
  g_assert_cmpint (ctl_char_width (0x8BBE), ==, 2);  /* 设 */
  g_assert_cmpint (ctl_char_width (0xFF21), ==, 2);  /* fullwidth A */
  g_assert_cmpint (ctl_char_width (0x3002), ==, 2);  /* 。 */
  g_assert_cmpint (ctl_char_width (0x0301), ==, 0);  /* combining acute */
  g_assert_cmpint (ctl_char_width (0x200B), ==, 0);  /* zero width space */

  g_assert_cmpint (ctl_text_width (NULL), ==, 0);
  g_assert_cmpint (ctl_text_width (""), ==, 0);
  g_assert_cmpint (ctl_text_width ("GERÄT"), ==, 5);       /* 6 bytes */
  g_assert_cmpint (ctl_text_width ("设备"), ==, 4);        /* 6 bytes, 2 characters */
  g_assert_cmpint (ctl_text_width ("e\xcc\x81"), ==, 1);   /* 3 bytes, 2 characters */
  g_assert_cmpint (ctl_text_width ("show 设备..."), ==, 12);
  /* not UTF-8: one column per byte, as a terminal shows replacement marks */
  g_assert_cmpint (ctl_text_width ("\xff\xfe"), ==, 2);

  g_assert_cmpint (ctl_text_pad ("设备", 6), ==, 2);
  g_assert_cmpint (ctl_text_pad ("Gerät", 5), ==, 0);
  g_assert_cmpint (ctl_text_pad ("Gerät", 3), ==, 0);
}

static void
test_table_align (void)
{
  const char *headers[] = { "地址", "设备", "状态" };
  const char *row1[] = { "0000:01:00.0", "显卡", "vfio" };
  const char *row2[] = { "x", "Gerät", "host" };
  const char *row3[] = { "e\xcc\x81", "", "外部" }; /* "e" + combining acute; "" prints "-" */
  g_autoptr (CtlTable) table = ctl_table_new (3, headers);
  g_autofree char *text = NULL;

  ctl_table_add_row (table, row1);
  ctl_table_add_row (table, row2);
  ctl_table_add_row (table, row3);
  text = table_text (table, 0);
  g_assert_cmpstr (text, ==,
                   "地址          设备   状态\n"
                   "0000:01:00.0  显卡   vfio\n"
                   "x             Gerät  host\n"
                   "e\xcc\x81             -      外部\n");
}

static void
test_table_cut_wide (void)
{
  const char *headers[] = { "A", "描述" };
  const char *row[] = { "x", "设备设备设备设备设备设备设备设备" }; /* 16 characters, 32 columns */
  g_autoptr (CtlTable) table = ctl_table_new (2, headers);
  g_autofree char *text20 = NULL, *text19 = NULL, *whole = NULL;

  ctl_table_add_row (table, row);
  ctl_table_set_shrinkable (table, 1);

  /* 20 columns: the description gets 17, 14 of them for 7 characters */
  text20 = table_text (table, 20);
  g_assert_cmpstr (text20, ==,
                   "A  描述\n"
                   "x  设备设备设备设...\n");
  assert_lines_fit (text20, 20);

  /* 19 columns: 13 for text, an odd number: the 7th character does not
   * fit whole and is left out */
  text19 = table_text (table, 19);
  g_assert_cmpstr (text19, ==,
                   "A  描述\n"
                   "x  设备设备设备...\n");
  assert_lines_fit (text19, 19);

  /* a pipe (0) gets every cell whole */
  whole = table_text (table, 0);
  g_assert_nonnull (strstr (whole, row[1]));
}

static void
test_table_cut_combining (void)
{
  const char *headers[] = { "A", "B" };
  g_autoptr (GString) accents = g_string_new (NULL);
  g_autoptr (GString) want = g_string_new ("A  B\ny  ");
  g_autoptr (CtlTable) table = ctl_table_new (2, headers);
  g_autofree char *text = NULL;
  const char *row[2] = { "y", NULL };

  /* 20 × "é" as "e" + U+0301: 20 columns in 60 bytes, 40 characters */
  for (int i = 0; i < 20; i++)
    g_string_append (accents, "e\xcc\x81");
  row[1] = accents->str;
  ctl_table_add_row (table, row);
  ctl_table_set_shrinkable (table, 1);

  /* 15 columns leave 12 for the cell: 9 whole letters, accents included */
  text = table_text (table, 15);
  for (int i = 0; i < 9; i++)
    g_string_append (want, "e\xcc\x81");
  g_string_append (want, "...\n");
  g_assert_cmpstr (text, ==, want->str);
  assert_lines_fit (text, 15);
}

static void
print_fields (FILE *f, gpointer data)
{
  ctl_fields_print (data, f);
}

static void
test_fields_align (void)
{
  g_autoptr (CtlFields) fields = ctl_fields_new ();
  g_autofree char *text = NULL;

  ctl_fields_add (fields, "版本", "0.1.0");
  ctl_fields_add (fields, "Kernel", "6.1");
  ctl_fields_add (fields, "Gerät", "a\nb");
  ctl_fields_add (fields, "配置文件", "/etc/gpuvirt/gpuvirt.conf");
  text = capture (print_fields, fields);
  /* labels end at column 8, continuation lines start at column 10 */
  g_assert_cmpstr (text, ==,
                   "    版本: 0.1.0\n"
                   "  Kernel: 6.1\n"
                   "   Gerät: a\n"
                   "          b\n"
                   "配置文件: /etc/gpuvirt/gpuvirt.conf\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/width/chars", test_char_width);
  g_test_add_func ("/width/table-align", test_table_align);
  g_test_add_func ("/width/table-cut-wide", test_table_cut_wide);
  g_test_add_func ("/width/table-cut-combining", test_table_cut_combining);
  g_test_add_func ("/width/fields-align", test_fields_align);
  return g_test_run ();
}
