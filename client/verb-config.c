/* config show, config check, config save and config reload: gpuvirtd's
 * configuration through Manager.GetConfig(), CheckConfig(), SaveConfig()
 * and ReloadConfig(), with the ConfigFiles and ConfigErrors properties.
 * gpuvirtd reads, checks and writes the files; the client only carries
 * their text. */
#include "ctl.h"

#include "boot-plan.h"
#include "bus-model.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "polkit-agent.h"
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The contract's limit of a configuration text (CheckConfig, SaveConfig). */
#define CONFIG_MAX_SIZE (1024 * 1024)
/* SaveConfig with --apply answers when the plan has run: each step is a
 * few bounded writes, plus however long a password takes. */
#define SAVE_CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)
#define CHECK_CALL_TIMEOUT_USEC (60 * G_USEC_PER_SEC)

/* ---- shared ---- */

/* "FILE:LINE: KEY: message" (LINE left out when 0, KEY when ""). */
static char *
problem_line (const char *file, guint32 line, const char *key, const char *message)
{
  GString *out = g_string_new (file);

  if (line)
    g_string_append_printf (out, ":%u", line);
  g_string_append (out, ": ");
  if (*key)
    g_string_append_printf (out, "%s: ", key);
  g_string_append (out, message);
  return g_string_free (out, FALSE);
}

/* ConfigErrors a(suss) as lines, "" when there are none. */
static char *
config_errors_text (GVariant *rows)
{
  GString *out = g_string_new (NULL);
  GVariantIter iter;
  const char *file, *key, *message;
  guint32 line;

  if (!rows)
    return g_string_free (out, FALSE);
  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&su&s&s)", &file, &line, &key, &message))
    {
      g_autofree char *text = problem_line (file, line, key, message);
      g_string_append_printf (out, "%s%s", out->len ? "\n" : "", text);
    }
  return g_string_free (out, FALSE);
}

static int
get_config_text (sd_bus *bus, char **ret_text)
{
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  const char *text;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "GetConfig", &error,
                          &reply, "");
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read gpuvirtd's configuration"));
  r = sd_bus_message_read (reply, "s", &text);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));
  *ret_text = g_strdup (text);
  return 0;
}

/* The text of ARG: a file, or stdin for "-". On failure prints why and
 * returns the exit code. */
static int
read_text (const char *arg, char **ret_name, char **ret_text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  if (g_str_equal (arg, "-"))
    {
      GString *in = g_string_new (NULL);
      char buf[8192];
      size_t n;

      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0 && in->len <= CONFIG_MAX_SIZE)
        g_string_append_len (in, buf, (gssize) n);
      if (ferror (stdin))
        {
          int err = errno;
          g_string_free (in, TRUE);
          fprintf (stderr, _("Could not read the configuration from stdin: %s\n"), g_strerror (err));
          return GV_EXIT_FAILURE;
        }
      len = in->len;
      text = g_string_free (in, FALSE);
      *ret_name = g_strdup (_("stdin"));
    }
  else
    {
      if (!g_file_get_contents (arg, &text, &len, &error))
        {
          fprintf (stderr, _("Could not read %s: %s\n"), arg, error->message);
          return GV_EXIT_FAILURE;
        }
      *ret_name = g_strdup (arg);
    }
  /* what D-Bus cannot carry, or gpuvirtd would refuse, never leaves */
  if (len > CONFIG_MAX_SIZE)
    {
      g_autofree char *m = g_strdup_printf (_("%s is larger than 1 MiB: it is not a gpuvirt configuration."),
                                            *ret_name);
      return ctl_usage_error (m);
    }
  if (strlen (text) != len || !g_utf8_validate (text, (gssize) len, NULL))
    {
      g_autofree char *m = g_strdup_printf (_("%s is not UTF-8 text: it is not a gpuvirt configuration."), *ret_name);
      return ctl_usage_error (m);
    }
  *ret_text = g_steal_pointer (&text);
  return 0;
}

/* The main file's path as ConfigFiles names it (its first entry, when the
 * main file has text), else NULL. */
static char *
main_file_name (GVariant *props, const char *text)
{
  g_autoptr (GVariant) files = g_variant_lookup_value (props, "ConfigFiles", G_VARIANT_TYPE_STRING_ARRAY);
  const char *first = NULL;

  if (!*text || !files || g_variant_n_children (files) == 0)
    return NULL;
  g_variant_get_child (files, 0, "&s", &first);
  return g_strdup (first);
}

/* ---- config show ---- */

int
verb_config_show (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) files = NULL;
  g_autoptr (GVariant) errors = NULL;
  g_autoptr (CtlFields) fields = NULL;
  g_autofree char *text = NULL;
  g_autofree char *problems = NULL;
  int r;

  r = get_config_text (bus, &text);
  if (r != 0)
    return r;
  r = bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &props, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read gpuvirtd's state"));
  files = g_variant_lookup_value (props, "ConfigFiles", G_VARIANT_TYPE_STRING_ARRAY);
  errors = g_variant_lookup_value (props, "ConfigErrors", G_VARIANT_TYPE ("a(suss)"));

  if (ctl_args.json != CTL_JSON_OFF)
    {
      JsonObject *object = json_object_new ();
      g_autoptr (JsonNode) root = ctl_json_take_object (object);

      json_object_set_string_member (object, "Text", text);
      /* absent from an older gpuvirtd: empty */
      if (files)
        json_object_set_member (object, "ConfigFiles", ctl_json_value ("ConfigFiles", files));
      else
        json_object_set_array_member (object, "ConfigFiles", json_array_new ());
      if (errors)
        json_object_set_member (object, "ConfigErrors", ctl_json_value ("ConfigErrors", errors));
      else
        json_object_set_array_member (object, "ConfigErrors", json_array_new ());
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }

  fields = ctl_fields_new ();
  if (files && g_variant_n_children (files) > 0)
    {
      g_autofree const char **list = g_variant_get_strv (files, NULL);
      ctl_fields_take (fields, _("Files"), g_strjoinv ("\n", (char **) list));
    }
  else
    ctl_fields_add (fields, _("Files"), _("none"));
  problems = config_errors_text (errors);
  ctl_fields_add (fields, _("Problems"), *problems ? problems : _("none"));
  ctl_fields_print (fields, stdout);
  if (*text)
    /* the main file as stored, whole */
    printf ("\n%s%s", text, g_str_has_suffix (text, "\n") ? "" : "\n");
  else
    fputs (_("The main configuration file is empty or does not exist.\n"), stderr);
  if (*problems)
    ctl_print_hint (GPUVIRT_ERROR_CONFIG);
  return GV_EXIT_OK;
}

/* ---- config check ---- */

int
verb_config_check (sd_bus *bus, int argc, char **argv)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) problems = NULL;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  gboolean unnamed = FALSE;
  GVariantIter iter;
  const char *key, *message;
  guint32 line;
  int r;

  if (argc > 1)
    r = read_text (argv[1], &name, &text);
  else
    {
      g_autoptr (GVariant) props = NULL;

      r = get_config_text (bus, &text);
      if (r == 0 && bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &props, NULL) >= 0)
        name = main_file_name (props, text);
      if (!name)
        {
          /* for the text only: JSON says null, untranslated */
          name = g_strdup (_("the main file"));
          unnamed = TRUE;
        }
    }
  if (r != 0)
    return r;

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE,
                                      "CheckConfig");
  if (r >= 0)
    r = sd_bus_message_append (m, "s", text);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  r = sd_bus_call (bus, m, CHECK_CALL_TIMEOUT_USEC, &error, &reply);
  if (r < 0)
    {
      /* TRANSLATORS: %s is a file name, "stdin" or "the main file" */
      g_autofree char *what = g_strdup_printf (_("Could not check %s"), name);
      return ctl_fail (&error, r, what);
    }
  r = bus_message_read_gvariant (reply, &problems);
  if (r >= 0 && !g_variant_is_of_type (problems, G_VARIANT_TYPE ("a(uss)")))
    r = -EBADMSG;
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));

  if (ctl_args.json != CTL_JSON_OFF)
    {
      JsonObject *object = json_object_new ();
      g_autoptr (JsonNode) root = ctl_json_take_object (object);
      JsonArray *rows = json_array_new ();

      g_variant_iter_init (&iter, problems);
      while (g_variant_iter_next (&iter, "(u&s&s)", &line, &key, &message))
        {
          JsonObject *row = json_object_new ();
          json_object_set_int_member (row, "Line", line);
          json_object_set_string_member (row, "Key", key);
          json_object_set_string_member (row, "Message", message);
          json_array_add_object_element (rows, row);
        }
      if (unnamed)
        json_object_set_null_member (object, "File");
      else
        json_object_set_string_member (object, "File", name);
      json_object_set_array_member (object, "Problems", rows);
      ctl_json_print (root, ctl_args.json);
    }
  else if (g_variant_n_children (problems) == 0)
    /* TRANSLATORS: %s is a file name, "stdin" or "the main file" */
    printf (_("%s: no problems found.\n"), name);
  else
    {
      g_variant_iter_init (&iter, problems);
      while (g_variant_iter_next (&iter, "(u&s&s)", &line, &key, &message))
        {
          g_autofree char *text_line = problem_line (name, line, key, message);
          printf ("%s\n", text_line);
        }
    }
  return g_variant_n_children (problems) > 0 ? GV_EXIT_FAILURE : GV_EXIT_OK;
}

/* ---- config save ---- */

/* After SaveConfig with apply: the plan as it ran. */
static int
print_plan_after_save (sd_bus *bus)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) rows = NULL;
  int r;

  r = bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &props, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the boot plan"));
  rows = g_variant_lookup_value (props, "BootPlan", G_VARIANT_TYPE ("a(sssss)"));
  if (!rows || g_variant_n_children (rows) == 0)
    {
      fputs (_("Nothing to apply: the configuration describes no device.\n"), stdout);
      return GV_EXIT_OK;
    }
  printf ("\n");
  ctl_plan_print (rows, stdout);
  return ctl_plan_n_failed (rows) > 0 ? GV_EXIT_FAILURE : GV_EXIT_OK;
}

int
ctl_config_save_text (sd_bus *bus, const char *name, const char *text)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) props = NULL;
  g_autofree char *saved_as = NULL;
  pid_t agent;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE,
                                      "SaveConfig");
  if (r >= 0)
    r = sd_bus_message_append (m, "s", text);
  if (r >= 0)
    r = sd_bus_message_open_container (m, 'a', "{sv}");
  if (r >= 0 && ctl_args.apply)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_APPLY, "b", 1);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  agent = ctl_polkit_agent_open ();
  r = sd_bus_call (bus, m, SAVE_CALL_TIMEOUT_USEC, &error, NULL);
  ctl_polkit_agent_close (agent);
  if (r < 0)
    {
      /* TRANSLATORS: %s is a file name or "stdin" */
      g_autofree char *what = g_strdup_printf (_("Could not save %s as gpuvirtd's configuration"), name);
      return ctl_fail (&error, r, what);
    }

  if (bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &props, NULL) >= 0)
    saved_as = main_file_name (props, text);
  if (saved_as)
    /* TRANSLATORS: "Saved new.conf as /etc/gpuvirt/gpuvirt.conf." */
    printf (_("Saved %s as %s.\n"), name, saved_as);
  else
    printf (_("Saved %s as gpuvirtd's configuration.\n"), name);
  if (ctl_args.apply)
    return print_plan_after_save (bus);
  return GV_EXIT_OK;
}

int
verb_config_save (sd_bus *bus, int argc, char **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  int r;

  r = read_text (argv[1], &name, &text);
  if (r != 0)
    return r;
  return ctl_config_save_text (bus, name, text);
}

/* ---- config reload ---- */

int
verb_config_reload (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (GVariant) props = NULL;
  int r;

  r = sd_bus_call_method (bus, GPUVIRT_BUS_NAME, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "ReloadConfig", &error,
                          NULL, "");
  if (r < 0)
    {
      int code = ctl_fail (&error, r, _("Could not reload the configuration"));

      /* the problems, one per line, as ConfigErrors lists them */
      if (sd_bus_error_has_name (&error, GPUVIRT_ERROR_CONFIG)
          && bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &props, NULL) >= 0)
        {
          g_autoptr (GVariant) errors = g_variant_lookup_value (props, "ConfigErrors", G_VARIANT_TYPE ("a(suss)"));
          g_autofree char *lines = config_errors_text (errors);
          if (*lines)
            fprintf (stderr, "%s\n", lines);
        }
      return code;
    }
  fputs (_("gpuvirtd read its configuration again.\n"), stdout);
  return GV_EXIT_OK;
}

/* ---- config import ---- */

/* config import FORMAT: the formats of tools whose settings live in
 * files below --root (import-driverctl.c, import-mdevctl.c). */
int
verb_config_import (sd_bus *bus, int argc, char **argv)
{
  const char *format = argv[1];
  gboolean mig_parted = g_str_equal (format, "mig-parted");

  if (!mig_parted && !g_str_equal (format, "driverctl") && !g_str_equal (format, "mdevctl"))
    {
      g_autofree char *m = g_strdup_printf (_("Unknown format '%s': 'config import' knows driverctl, mdevctl and "
                                              "mig-parted."), format);
      return ctl_usage_error (m);
    }
  /* mig-parted reads one FILE; driverctl and mdevctl their directories */
  if (mig_parted != (argc == 3))
    {
      g_autofree char *m = mig_parted
        ? g_strdup (_("'config import mig-parted' needs FILE, the tool's YAML."))
        : g_strdup_printf (_("'config import %s' takes no FILE: it reads the tool's directory (--root)."), format);
      return ctl_usage_error (m);
    }
  if (mig_parted ? ctl_args.root != NULL : ctl_args.config_name != NULL)
    {
      g_autofree char *m = g_strdup_printf (mig_parted ? _("--root goes with driverctl and mdevctl, not %s.")
                                                       : _("--config goes with mig-parted, not %s."), format);
      return ctl_usage_error (m);
    }
  if (mig_parted)
    return ctl_import_mig_parted (bus, argv[2]);
  if (g_str_equal (format, "driverctl"))
    return ctl_import_driverctl (bus, ctl_args.root ? ctl_args.root : "/");
  return ctl_import_mdevctl (bus, ctl_args.root ? ctl_args.root : "/");
}
