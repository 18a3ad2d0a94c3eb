/* doctor: Manager.Doctor()'s findings as a checklist, grouped by subject
 * (the host first, then each device), each fix indented under its finding.
 * Exit status 6 when a finding has severity "error". */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

/* Doctor() reads /proc and sysfs of the whole host; on a large host under
 * load that takes a while, but it never waits on a device. */
#define DOCTOR_CALL_TIMEOUT_USEC (120 * G_USEC_PER_SEC)

typedef struct
{
  const char *id, *severity, *subject, *message, *fix;
} Finding;

static const char *
severity_word (const char *severity)
{
  if (g_str_equal (severity, GPUVIRT_SEVERITY_OK))
    /* TRANSLATORS: a doctor finding's severity; keep them short */
    return _("ok");
  if (g_str_equal (severity, GPUVIRT_SEVERITY_INFO))
    return _("info");
  if (g_str_equal (severity, GPUVIRT_SEVERITY_WARNING))
    return _("warning");
  if (g_str_equal (severity, GPUVIRT_SEVERITY_ERROR))
    return _("error");
  /* a severity a newer gpuvirtd added */
  return severity;
}


/* "0000:01:00.0  NVIDIA Corporation TU104GL [Quadro RTX 4000]", or the
 * subject alone when gpuvirtd has no such device (or no name for it). */
static char *
heading (sd_bus *bus, const char *subject)
{
  g_autofree char *path = NULL;
  g_autoptr (GVariant) props = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autofree char *description = NULL;

  if (g_str_equal (subject, "host"))
    return g_strdup (_("Host"));
  path = ctl_device_path_of_address (subject);
  if (!path || bus_get_all (bus, path, GPUVIRT_DEVICE_IFACE, &props, &error) < 0)
    return g_strdup (subject);
  description = ctl_device_description (props);
  if (!*description)
    return g_strdup (subject);
  return g_strdup_printf ("%s  %s", subject, description);
}

static void
print_text (sd_bus *bus, GArray *findings)
{
  g_autoptr (GPtrArray) subjects = g_ptr_array_new ();
  static const char *const severities[] = { GPUVIRT_SEVERITY_OK, GPUVIRT_SEVERITY_INFO, GPUVIRT_SEVERITY_WARNING,
                                            GPUVIRT_SEVERITY_ERROR };
  guint counts[G_N_ELEMENTS (severities)] = { 0 };
  int width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (severities); i++)
    width = MAX (width, ctl_text_width (severity_word (severities[i])));
  for (guint i = 0; i < findings->len; i++)
    {
      const Finding *f = &g_array_index (findings, Finding, i);
      if (!g_ptr_array_find_with_equal_func (subjects, f->subject, g_str_equal, NULL))
        g_ptr_array_add (subjects, (gpointer) f->subject);
      for (gsize s = 0; s < G_N_ELEMENTS (severities); s++)
        counts[s] += g_str_equal (f->severity, severities[s]);
      width = MAX (width, ctl_text_width (severity_word (f->severity)));
    }

  /* grouped by subject, in the order gpuvirtd lists them */
  for (guint s = 0; s < subjects->len; s++)
    {
      g_autofree char *head = heading (bus, subjects->pdata[s]);

      printf ("%s%s\n", s ? "\n" : "", head);
      for (guint i = 0; i < findings->len; i++)
        {
          const Finding *f = &g_array_index (findings, Finding, i);
          const char *word = severity_word (f->severity);
          g_auto (GStrv) lines = NULL;

          if (!g_str_equal (f->subject, subjects->pdata[s]))
            continue;
          printf ("  %s%*s  %s [%s]\n", word, width - ctl_text_width (word), "", f->message, f->id);
          if (!*f->fix)
            continue;
          lines = g_strsplit (f->fix, "\n", -1);
          for (guint l = 0; lines[l]; l++)
            /* TRANSLATORS: before the first line of a finding's fix;
               the lines after it are indented to match */
            printf ("  %*s  %s%*s %s\n", width, "", l == 0 ? _("fix:") : "",
                    l == 0 ? 0 : ctl_text_width (_("fix:")), "", lines[l]);
        }
    }

  printf ("\n");
  {
    /* TRANSLATORS: the pieces of the doctor's summary, joined by the
       format below */
    g_autofree char *errors = g_strdup_printf (ngettext ("%u error", "%u errors", counts[3]), counts[3]);
    g_autofree char *warnings = g_strdup_printf (ngettext ("%u warning", "%u warnings", counts[2]), counts[2]);
    g_autofree char *notes = g_strdup_printf (ngettext ("%u note", "%u notes", counts[1]), counts[1]);
    g_autofree char *passed = g_strdup_printf (ngettext ("%u passed", "%u passed", counts[0]), counts[0]);
    /* TRANSLATORS: the doctor's summary: errors, warnings, notes, passed
       ("1 error, 2 warnings, 3 notes, 9 passed."); reorder with %1$s */
    printf (_("%1$s, %2$s, %3$s, %4$s.\n"), errors, warnings, notes, passed);
  }
}

static void
print_json (GArray *findings)
{
  JsonObject *root = json_object_new ();
  JsonArray *rows = json_array_new ();

  for (guint i = 0; i < findings->len; i++)
    {
      const Finding *f = &g_array_index (findings, Finding, i);
      JsonObject *row = json_object_new ();
      json_object_set_string_member (row, "Id", f->id);
      json_object_set_string_member (row, "Severity", f->severity);
      json_object_set_string_member (row, "Subject", f->subject);
      json_object_set_string_member (row, "Message", f->message);
      json_object_set_string_member (row, "Fix", f->fix);
      json_array_add_object_element (rows, row);
    }
  json_object_set_array_member (root, "Findings", rows);
  ctl_json_print (ctl_json_take_object (root), ctl_args.json);
}

int
verb_doctor (sd_bus *bus, int argc, char **argv)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GArray) findings = g_array_new (FALSE, TRUE, sizeof (Finding));
  gboolean any_error = FALSE;
  Finding f;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE,
                                      "Doctor");
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  r = sd_bus_call (bus, m, DOCTOR_CALL_TIMEOUT_USEC, &error, &reply);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not check the host"));

  r = sd_bus_message_enter_container (reply, 'a', "(sssss)");
  while (r >= 0 && (r = sd_bus_message_read (reply, "(sssss)", &f.id, &f.severity, &f.subject, &f.message,
                                             &f.fix)) > 0)
    {
      g_array_append_val (findings, f);
      any_error |= g_str_equal (f.severity, GPUVIRT_SEVERITY_ERROR);
    }
  if (r >= 0)
    r = sd_bus_message_exit_container (reply);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));

  if (ctl_args.json != CTL_JSON_OFF)
    print_json (findings);
  else
    print_text (bus, findings);
  return any_error ? GV_EXIT_REFUSED : GV_EXIT_OK;
}
