/* mig: Multi-Instance GPU through gpuvirtd (org.gpuvirt.Mig).
 *
 *   mig [list]                     every MIG GPU: mode, pending mode, instances
 *   mig DEVICE                     one GPU: mode, profiles, instances
 *   mig DEVICE on|off              SetMode (a reset, or --pending)
 *   mig create DEVICE PROFILE      CreateGpuInstances (--count N)
 *   mig destroy DEVICE [ID...]     DestroyGpuInstances (--all)
 *
 * What gpuvirtd shows is what NVML answered last. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "mig-text.h"
#include "polkit-agent.h"
#include "table.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

/* NVML calls and a reset, each bounded by gpuvirtd, plus a password. */
#define MIG_CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)

static gboolean
has_mig_props (GVariant *manager)
{
  g_autoptr (GVariant) v = g_variant_lookup_value (manager, "MigAvailable", G_VARIANT_TYPE_BOOLEAN);
  return v != NULL;
}

/* The MIG properties of PATH from a fresh snapshot; on failure prints why
 * (no MIG, MIG unavailable) and returns the exit code. */
static int
load_mig (sd_bus *bus, const char *path, BusModel **ret_model, GVariant **ret_mig)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autofree char *address = ctl_object_name (path);
  int r;

  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
  *ret_mig = bus_model_props (model, path, GPUVIRT_MIG_IFACE);
  if (!*ret_mig)
    {
      g_autoptr (GVariant) manager = NULL;
      /* the Manager is not among GetManagedObjects' objects */
      if (bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &manager, NULL) >= 0
          && has_mig_props (manager) && !props_bool (manager, "MigAvailable"))
        fprintf (stderr, "%s\n", props_str (manager, "MigStatus"));
      else
        fprintf (stderr, _("%s has no MIG (no org.gpuvirt.Mig on its object).\n"), address);
      ctl_print_hint (GPUVIRT_ERROR_NOT_SUPPORTED);
      return GV_EXIT_REFUSED;
    }
  *ret_model = g_steal_pointer (&model);
  return 0;
}

/* Sends M with the polkit agent up for its duration. */
static int
call (sd_bus *bus, sd_bus_message *m, sd_bus_error *error, sd_bus_message **reply)
{
  guint64 timeout = MIG_CALL_TIMEOUT_USEC;
  pid_t agent;
  int r;

  r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password);
  if (r < 0)
    return r;
  agent = ctl_polkit_agent_open ();
  r = sd_bus_call (bus, m, timeout, error, reply);
  ctl_polkit_agent_close (agent);
  return r;
}

/* ---- showing ---- */

static void
print_gpu_json (BusModel *model, const char *path, GVariant *mig)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  JsonObject *object = json_object_new ();
  g_autofree char *address = ctl_object_name (path);

  json_object_set_string_member (object, "Address", address);
  json_object_set_string_member (object, "DeviceName", props_str (device, "DeviceName"));
  json_object_set_object_member (object, "Mig", ctl_json_props (mig));
  ctl_json_print (ctl_json_take_object (object), ctl_args.json);
}

static void
print_gpu_text (BusModel *model, const char *path, GVariant *mig)
{
  g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
  g_autoptr (GVariant) profiles = g_variant_lookup_value (mig, "Profiles", G_VARIANT_TYPE ("a(suuuuta{sv})"));
  g_autoptr (GVariant) instances = g_variant_lookup_value (mig, "GpuInstances", G_VARIANT_TYPE ("a(uusuua(uuuu))"));
  g_autoptr (CtlFields) fields = ctl_fields_new ();
  g_autofree char *address = ctl_object_name (path);
  const char *profile_headers[] = { _("PROFILE"), _("ID"), _("SLICES"), _("MEMORY"), _("FREE"), _("MAX"),
                                    _("PLACEMENTS") };
  const char *instance_headers[] = { _("INSTANCE"), _("PROFILE"), _("PLACEMENT"), _("COMPUTE") };
  g_autoptr (CtlTable) ptable = ctl_table_new (G_N_ELEMENTS (profile_headers), profile_headers);
  g_autoptr (CtlTable) itable = ctl_table_new (G_N_ELEMENTS (instance_headers), instance_headers);
  GVariantIter iter;

  ctl_fields_add (fields, _("Address"), address);
  ctl_fields_add (fields, _("Device"), props_str (device, "DeviceName"));
  ctl_fields_take (fields, _("MIG mode"), ctl_mig_mode_text (mig));
  ctl_fields_print (fields, stdout);

  printf ("\n%s\n", _("GPU instance profiles:"));
  g_variant_iter_init (&iter, profiles);
  for (;;)
    {
      const char *name;
      guint32 id, slices, max, free_now;
      guint64 memory;
      g_autoptr (GVariant) details = NULL;
      g_autoptr (GVariant) placements = NULL;
      g_autoptr (GString) where = g_string_new (NULL);

      if (!g_variant_iter_next (&iter, "(&suuuut@a{sv})", &name, &id, &slices, &max, &free_now, &memory, &details))
        break;
      placements = g_variant_lookup_value (details, GPUVIRT_MIG_PLACEMENTS, G_VARIANT_TYPE ("a(uu)"));
      for (gsize i = 0; placements && i < g_variant_n_children (placements); i++)
        {
          guint32 start, size;
          g_variant_get_child (placements, i, "(uu)", &start, &size);
          g_string_append_printf (where, "%s%u", i ? "," : "", start);
          if (i + 1 == g_variant_n_children (placements))
            g_string_append_printf (where, ":%u", size);
        }
      {
        g_autofree char *sid = g_strdup_printf ("%u", id);
        g_autofree char *sslices = g_strdup_printf ("%u", slices);
        /* TRANSLATORS: a GPU instance's memory, e.g. "9856 MiB" */
        g_autofree char *smem = g_strdup_printf (_("%u MiB"), (guint) MIN (memory, G_MAXUINT));
        g_autofree char *sfree = g_strdup_printf ("%u", free_now);
        g_autofree char *smax = g_strdup_printf ("%u", max);
        const char *cells[] = { name, sid, sslices, smem, sfree, smax, where->str };
        ctl_table_add_row (ptable, cells);
      }
    }
  ctl_table_print (ptable, stdout, ctl_terminal_width ());

  printf ("\n%s\n", _("GPU instances:"));
  if (!instances || g_variant_n_children (instances) == 0)
    {
      printf ("%s\n", _("none"));
      return;
    }
  g_variant_iter_init (&iter, instances);
  for (;;)
    {
      guint32 id, pid, start, size;
      const char *profile;
      g_autoptr (GVariant) compute = NULL;

      if (!g_variant_iter_next (&iter, "(uu&suu@a(uuuu))", &id, &pid, &profile, &start, &size, &compute))
        break;
      {
        g_autofree char *sid = g_strdup_printf ("%u", id);
        g_autofree char *where = g_strdup_printf ("%u:%u", start, size);
        /* TRANSLATORS: how many compute instances a GPU instance has */
        g_autofree char *cis = g_strdup_printf ("%zu", g_variant_n_children (compute));
        const char *cells[] = { sid, profile, where, cis };
        ctl_table_add_row (itable, cells);
      }
    }
  ctl_table_print (itable, stdout, ctl_terminal_width ());
}

static int
show_gpu (sd_bus *bus, const char *path)
{
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GVariant) mig = NULL;
  int r = load_mig (bus, path, &model, &mig);

  if (r != 0)
    return r;
  if (ctl_args.json != CTL_JSON_OFF)
    print_gpu_json (model, path, mig);
  else
    print_gpu_text (model, path, mig);
  return GV_EXIT_OK;
}

int
verb_mig_list (sd_bus *bus, int argc, char **argv)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (GVariant) manager = NULL;
  const char *headers[] = { _("ADDRESS"), _("DEVICE"), _("MODE"), _("INSTANCES") };
  g_autoptr (CtlTable) table = ctl_table_new (G_N_ELEMENTS (headers), headers);
  JsonArray *gpus = json_array_new ();
  int r;

  r = bus_model_load (bus, &model, &error);
  if (r < 0)
    {
      json_array_unref (gpus);
      return ctl_fail (&error, r, _("Could not read the devices from gpuvirtd"));
    }
  r = bus_get_all (bus, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, &manager, &error);
  if (r < 0)
    {
      json_array_unref (gpus);
      return ctl_fail (&error, r, _("Could not read gpuvirtd's state"));
    }
  ctl_table_set_shrinkable (table, 1);
  paths = bus_model_paths (model, GPUVIRT_MIG_IFACE);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
      g_autoptr (GVariant) mig = bus_model_props (model, path, GPUVIRT_MIG_IFACE);
      g_autofree char *address = ctl_object_name (path);
      g_autofree char *mode = ctl_mig_mode_text (mig);
      g_autofree char *instances = ctl_mig_instances_text (mig);
      const char *cells[] = { address, props_str (device, "DeviceName"), mode, instances };
      JsonObject *object = json_object_new ();

      ctl_table_add_row (table, cells);
      json_object_set_string_member (object, "Address", address);
      json_object_set_string_member (object, "DeviceName", props_str (device, "DeviceName"));
      json_object_set_object_member (object, "Mig", ctl_json_props (mig));
      json_array_add_object_element (gpus, object);
    }
  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (json_object_new ());
      JsonObject *o = json_node_get_object (root);

      json_object_set_boolean_member (o, "MigAvailable", props_bool (manager, "MigAvailable"));
      json_object_set_string_member (o, "MigStatus", props_str (manager, "MigStatus"));
      json_object_set_array_member (o, "Gpus", gpus);
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }
  json_array_unref (gpus);
  if (!props_bool (manager, "MigAvailable"))
    {
      fprintf (stderr, "%s\n", props_str (manager, "MigStatus"));
      return GV_EXIT_OK;
    }
  if (ctl_table_n_rows (table) == 0)
    {
      fputs (_("No GPU with MIG on this host.\n"), stderr);
      return GV_EXIT_OK;
    }
  ctl_table_print (table, stdout, ctl_terminal_width ());
  return GV_EXIT_OK;
}

/* ---- mig DEVICE [on|off] ---- */

int
verb_mig (sd_bus *bus, int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  gboolean on;
  int current = 0, r;
  const char *message = "";

  if (argc <= 2)
    {
      if (ctl_args.persist || ctl_args.pending)
        return ctl_usage_error (_("--persist and --pending go with a change: give 'on' or 'off' to 'mig'."));
      r = ctl_resolve_device (bus, argv[1], &path);
      return r != 0 ? r : show_gpu (bus, path);
    }
  if (!g_str_equal (argv[2], "on") && !g_str_equal (argv[2], "off"))
    {
      g_autofree char *m2 = g_strdup_printf (_("'%s' is not 'on' or 'off'."), argv[2]);
      return ctl_usage_error (m2);
    }
  on = g_str_equal (argv[2], "on");
  r = ctl_resolve_device (bus, argv[1], &path);
  if (r != 0)
    return r;
  address = ctl_object_name (path);
  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, path, GPUVIRT_MIG_IFACE, "SetMode");
  if (r >= 0)
    r = sd_bus_message_append (m, "b", (int) on);
  if (r >= 0)
    r = ctl_open_change_options (m);
  if (r >= 0 && ctl_args.pending)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_RESET, "b", 0);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  r = call (bus, m, &error, &reply);
  if (r < 0)
    {
      /* TRANSLATORS: "Could not turn MIG mode on on 0000:41:00.0" */
      g_autofree char *what = on ? g_strdup_printf (_("Could not turn MIG mode on on %s"), address)
                                 : g_strdup_printf (_("Could not turn MIG mode off on %s"), address);
      return ctl_fail (&error, r, what);
    }
  r = sd_bus_message_read (reply, "bs", &current, &message);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));
  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (json_object_new ());
      JsonObject *o = json_node_get_object (root);

      json_object_set_string_member (o, "Address", address);
      json_object_set_boolean_member (o, "Enabled", on);
      json_object_set_boolean_member (o, "Current", current);
      json_object_set_string_member (o, "Message", message);
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }
  {
    g_autofree char *safe = ctl_text_safe (message);
    printf ("%s: %s\n", address, safe);
  }
  if (!current)
    printf ("%s\n", _("The mode is pending: it takes effect at the next reset of the GPU or boot."));
  return GV_EXIT_OK;
}

/* ---- mig create / destroy ---- */

int
verb_mig_create (sd_bus *bus, int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  const guint32 *ids = NULL;
  size_t size = 0;
  guint32 count = ctl_args.count ? ctl_args.count : 1;
  int r;

  r = ctl_resolve_device (bus, argv[1], &path);
  if (r != 0)
    return r;
  address = ctl_object_name (path);
  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, path, GPUVIRT_MIG_IFACE, "CreateGpuInstances");
  if (r >= 0)
    r = sd_bus_message_append (m, "su", argv[2], count);
  if (r >= 0)
    r = ctl_open_change_options (m);
  if (r >= 0 && ctl_args.no_compute)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_COMPUTE_INSTANCES, "b", 0);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  r = call (bus, m, &error, &reply);
  if (r < 0)
    {
      /* TRANSLATORS: "Could not make 3 GPU instances of 1g.10gb on 0000:41:00.0" */
      g_autofree char *what = g_strdup_printf (ngettext ("Could not make %u GPU instance of %s on %s",
                                                         "Could not make %u GPU instances of %s on %s", count),
                                               count, argv[2], address);
      return ctl_fail (&error, r, what);
    }
  r = sd_bus_message_read_array (reply, 'u', (const void **) &ids, &size);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not read gpuvirtd's answer"));
  if (ctl_args.json != CTL_JSON_OFF)
    {
      g_autoptr (JsonNode) root = ctl_json_take_object (json_object_new ());
      JsonArray *array = json_array_new ();

      for (size_t i = 0; i < size / sizeof (guint32); i++)
        json_array_add_int_element (array, ids[i]);
      json_object_set_string_member (json_node_get_object (root), "Address", address);
      json_object_set_array_member (json_node_get_object (root), "Made", array);
      ctl_json_print (root, ctl_args.json);
      return GV_EXIT_OK;
    }
  {
    g_autoptr (GString) list = g_string_new (NULL);
    for (size_t i = 0; i < size / sizeof (guint32); i++)
      g_string_append_printf (list, "%s%u", i ? ", " : "", ids[i]);
    /* TRANSLATORS: "0000:41:00.0: GPU instances 1, 2, 3 made" */
    printf (_("%s: GPU instances %s made\n"), address, list->str);
  }
  return GV_EXIT_OK;
}

int
verb_mig_destroy (sd_bus *bus, int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (sd_bus_message) m = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  int r;

  if ((argc > 2) == ctl_args.all)
    return ctl_usage_error (_("'mig destroy' needs the GPU instances' ids, or --all."));
  for (int i = 2; i < argc; i++)
    {
      guint64 id;
      if (!g_ascii_string_to_unsigned (argv[i], 10, 0, G_MAXUINT32, &id, NULL))
        {
          g_autofree char *m2 = g_strdup_printf (_("'%s' is not a GPU instance id ('gpuvirtctl mig DEVICE' lists "
                                                   "them)."), argv[i]);
          return ctl_usage_error (m2);
        }
      {
        guint32 id32 = (guint32) id;
        g_array_append_val (ids, id32);
      }
    }
  r = ctl_resolve_device (bus, argv[1], &path);
  if (r != 0)
    return r;
  address = ctl_object_name (path);
  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, path, GPUVIRT_MIG_IFACE, "DestroyGpuInstances");
  if (r >= 0)
    r = sd_bus_message_append_array (m, 'u', ids->data, ids->len * sizeof (guint32));
  if (r >= 0)
    r = ctl_open_change_options (m);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  r = call (bus, m, &error, NULL);
  if (r < 0)
    {
      /* TRANSLATORS: "Could not destroy GPU instances of 0000:41:00.0" */
      g_autofree char *what = g_strdup_printf (_("Could not destroy GPU instances of %s"), address);
      return ctl_fail (&error, r, what);
    }
  if (ctl_args.json != CTL_JSON_OFF)
    return show_gpu (bus, path);
  /* TRANSLATORS: "0000:41:00.0: GPU instances destroyed" */
  printf (_("%s: GPU instances destroyed\n"), address);
  return GV_EXIT_OK;
}
