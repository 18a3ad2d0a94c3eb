/* status: the Manager's properties, read with one GetAll(). */
#include "ctl.h"

#include "boot-plan.h"
#include "bus-model.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "text.h"

#include <stdio.h>

static gboolean
has_prop (GVariant *props, const char *name)
{
  g_autoptr (GVariant) v = g_variant_lookup_value (props, name, NULL);

  return v != NULL;
}

static guint
array_length (GVariant *props, const char *name)
{
  g_autoptr (GVariant) v = g_variant_lookup_value (props, name, NULL);

  return v && g_variant_is_container (v) ? (guint) g_variant_n_children (v) : 0;
}

static char *
format_iommu (GVariant *props)
{
  if (!props_bool (props, "IommuPresent"))
    return g_strdup (_("none (no IOMMU groups: VFIO is impossible)"));
  return g_strdup_printf ("%s, %s", ctl_dash (props_str (props, "IommuKind")),
                          props_bool (props, "InterruptRemapping")
                          ? _("interrupt remapping") : _("no interrupt remapping"));
}

/* ConfigErrors a(suss) as "file:line: key: message" lines. */
static char *
format_config_errors (GVariant *props)
{
  g_autoptr (GVariant) rows = g_variant_lookup_value (props, "ConfigErrors", G_VARIANT_TYPE ("a(suss)"));
  GString *out = g_string_new (NULL);
  GVariantIter iter;
  const char *file, *key, *message;
  guint32 line;

  if (!rows || g_variant_n_children (rows) == 0)
    {
      g_string_free (out, TRUE);
      return g_strdup (_("none"));
    }
  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&su&s&s)", &file, &line, &key, &message))
    g_string_append_printf (out, "%s%s:%u: %s%s%s", out->len ? "\n" : "", file, line,
                            key, *key ? ": " : "", message);
  return g_string_free (out, FALSE);
}

static char *
format_boot_plan (GVariant *props)
{
  guint n = array_length (props, "BootPlan");

  /* TRANSLATORS: the boot plan's state ("done") and its number of steps */
  return g_strdup_printf (ngettext ("%s (%u step)", "%s (%u steps)", n),
                          ctl_dash (props_str (props, "BootPlanState")), n);
}

int
verb_status (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (CtlFields) fields = NULL;
  g_autoptr (GVariant) files = NULL;
  guint n;
  int r;

  r = bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &props, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read gpuvirtd's state"));

  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (ctl_json_props (props));
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }

  fields = ctl_fields_new ();
  ctl_fields_take (fields, _("Version"),
                   g_strdup_printf (_("%s (API %u)"), ctl_dash (props_str (props, "Version")),
                                    props_uint (props, "ApiVersion")));
  ctl_fields_add (fields, _("Root"), props_str (props, "Root"));
  ctl_fields_add (fields, _("Kernel command line"), props_str (props, "KernelCommandLine"));
  ctl_fields_take (fields, _("IOMMU"), format_iommu (props));
  ctl_fields_add (fields, _("vfio-pci"),
                  props_bool (props, "VfioPciLoaded") ? _("loaded") : _("not loaded"));
  ctl_fields_add (fields, _("vGPU manager"),
                  props_bool (props, "NvidiaVgpuManager") ? _("installed") : _("not installed"));
  /* MIG came with a later daemon: nothing when it does not say */
  if (has_prop (props, "MigAvailable"))
    {
      const char *status = props_str (props, "MigStatus");

      if (props_bool (props, "MigAvailable"))
        ctl_fields_add (fields, _("MIG"), status);
      else
        ctl_fields_take (fields, _("MIG"),
                         /* TRANSLATORS: why MIG cannot be used, in gpuvirtd's words (English) */
                         g_strdup_printf (_("unavailable (%s)"),
                                          g_str_has_prefix (status, "MIG is unavailable: ")
                                            ? status + strlen ("MIG is unavailable: ") : status));
    }
  n = array_length (props, "Devices");
  ctl_fields_take (fields, _("Devices"),
                   g_strdup_printf (ngettext ("%u managed function", "%u managed functions", n), n));
  n = array_length (props, "Mdevs");
  ctl_fields_take (fields, _("Mdevs"), g_strdup_printf ("%u", n));
  /* the configuration properties came with a later daemon: say nothing
   * rather than "none" when they are absent */
  files = g_variant_lookup_value (props, "ConfigFiles", G_VARIANT_TYPE_STRING_ARRAY);
  if (files && g_variant_n_children (files) > 0)
    {
      g_autofree const char **list = g_variant_get_strv (files, NULL);
      ctl_fields_take (fields, _("Config files"), g_strjoinv ("\n", (char **) list));
    }
  else if (files)
    ctl_fields_add (fields, _("Config files"), _("none"));
  if (has_prop (props, "ConfigErrors"))
    ctl_fields_take (fields, _("Config errors"), format_config_errors (props));
  if (has_prop (props, "BootPlanState"))
    ctl_fields_take (fields, _("Boot plan"), format_boot_plan (props));
  ctl_fields_print (fields, stdout);
  /* the plan's steps, unless nothing is configured */
  if (g_strcmp0 (props_str (props, "BootPlanState"), GPUVIRT_PLAN_NONE) != 0)
    {
      g_autoptr (GVariant) rows = g_variant_lookup_value (props, "BootPlan", G_VARIANT_TYPE ("a(sssss)"));

      if (rows && g_variant_n_children (rows) > 0)
        {
          printf ("\n");
          ctl_plan_print (rows, stdout);
        }
    }
  return GV_EXIT_OK;
}
