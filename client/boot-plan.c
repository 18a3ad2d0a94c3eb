/* The boot plan's rows as a table and as JSON (see boot-plan.h). */
#include "boot-plan.h"

#include "gpuvirt-names.h"
#include "json-out.h"
#include "table.h"

enum
{
  COL_PHASE, COL_DEVICE, COL_ACTION, COL_STATUS, COL_MESSAGE, N_COLUMNS
};

void
ctl_plan_print (GVariant *rows, FILE *f)
{
  g_autoptr (CtlTable) table = NULL;
  const char *headers[N_COLUMNS] = {
    _("PHASE"), _("DEVICE"), _("ACTION"), _("STATUS"), _("MESSAGE"),
  };
  GVariantIter iter;
  const char *cells[N_COLUMNS];

  table = ctl_table_new (N_COLUMNS, headers);
  ctl_table_set_shrinkable (table, COL_MESSAGE);
  g_variant_iter_init (&iter, rows);
  /* phase, status and the rest as gpuvirtd sends them: the same words
   * as the JSON and the contract */
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &cells[COL_PHASE], &cells[COL_DEVICE], &cells[COL_ACTION],
                              &cells[COL_STATUS], &cells[COL_MESSAGE]))
    ctl_table_add_row (table, cells);
  ctl_table_print (table, f, f == stdout ? ctl_terminal_width () : 0);
}

JsonNode *
ctl_plan_json (GVariant *rows)
{
  /* the field names of BootPlan's tuples (json-out.c) */
  return ctl_json_value ("BootPlan", rows);
}

guint
ctl_plan_n_failed (GVariant *rows)
{
  GVariantIter iter;
  const char *status;
  guint n = 0;

  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", NULL, NULL, NULL, &status, NULL))
    n += g_str_equal (status, GPUVIRT_STEP_FAILED);
  return n;
}
