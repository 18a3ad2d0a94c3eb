/* Column tables for the text output. */
#pragma once

#include "ctl.h"

#include <stdio.h>

typedef struct CtlTable CtlTable;

CtlTable *ctl_table_new (guint n_columns, const char *const *headers);
void ctl_table_free (CtlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlTable, ctl_table_free)

/* The column that gives up width when a terminal is too narrow. */
void ctl_table_set_shrinkable (CtlTable *table, guint column);
/* Adds a row of n_columns cells; NULL or "" cells print as "-". */
void ctl_table_add_row (CtlTable *table, const char *const *cells);
guint ctl_table_n_rows (CtlTable *table);
/* Prints the header and rows. MAX_WIDTH > 0 (a terminal's width) lets the
 * shrinkable column be cut with an ellipsis; 0 prints every cell whole. */
void ctl_table_print (CtlTable *table, FILE *f, int max_width);

/* The terminal's width when stdout is one, else 0. */
int ctl_terminal_width (void);
