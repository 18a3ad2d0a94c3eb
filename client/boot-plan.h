/* The boot plan's rows, a(sssss) (phase, device, action, status,
 * message): as Manager.BootPlan shows them and ApplyConfig() answers,
 * printed by status, apply and config save --apply. */
#pragma once

#include "ctl.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

/* The rows as a table (PHASE DEVICE ACTION STATUS MESSAGE). */
void ctl_plan_print (GVariant *rows, FILE *f);
/* [{"Phase", "Device", "Action", "Status", "Message"}, ...] */
JsonNode *ctl_plan_json (GVariant *rows);
/* How many rows have the status "failed". */
guint ctl_plan_n_failed (GVariant *rows);
