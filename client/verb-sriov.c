/* sriov DEVICE [N|off]: without N, the physical function's TotalVfs,
 * NumVfs and VFs; with N (or off, which is 0), one SetNumVfs call, then
 * the same view of the result. gpuvirtd decides everything: whether the
 * function has SR-IOV, whether N fits, whether VFs in use may go. */
#include "ctl.h"

#include "bus-model.h"
#include "device-arg.h"
#include "error-hint.h"
#include "gpuvirt-names.h"
#include "json-out.h"
#include "polkit-agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The method call's own timeout: two writes of sriov_numvfs (and a
 * restore), each bounded by timeout-ms, plus however long a password takes. */
#define SRIOV_CALL_TIMEOUT_USEC (30 * 60 * G_USEC_PER_SEC)

static gboolean
parse_count (const char *arg, guint32 *count)
{
  guint64 value;

  if (g_str_equal (arg, "off"))
    {
      *count = 0;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (arg, 10, 0, G_MAXUINT16, &value, NULL))
    return FALSE;
  *count = (guint32) value;
  return TRUE;
}

static int
set_num_vfs (sd_bus *bus, const char *path, guint32 count)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autofree char *address = ctl_object_name (path);
  g_autofree char *what = NULL;
  pid_t agent;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, GPUVIRT_BUS_NAME, path, GPUVIRT_SRIOV_IFACE, "SetNumVfs");
  if (r >= 0)
    r = sd_bus_message_append (m, "u", count);
  if (r >= 0)
    r = sd_bus_message_open_container (m, 'a', "{sv}");
  if (r >= 0 && ctl_args.timeout_ms > 0)
    r = sd_bus_message_append (m, "{sv}", GPUVIRT_OPT_TIMEOUT_MS, "u", ctl_args.timeout_ms);
  if (r >= 0)
    r = ctl_append_persist (m);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd_bus_message_set_allow_interactive_authorization (m, ctl_args.ask_password);
  if (r < 0)
    return ctl_fail (NULL, r, _("Could not build the call"));
  agent = ctl_polkit_agent_open ();
  r = sd_bus_call (bus, m, SRIOV_CALL_TIMEOUT_USEC, &error, &reply);
  ctl_polkit_agent_close (agent);
  if (r < 0)
    {
      what = g_strdup_printf (_("Could not set %u VFs on %s"), count, address);
      return ctl_fail (&error, r, what);
    }
  return 0;
}

static void
print_text (const char *address, GVariant *props)
{
  g_autoptr (GVariant) vfs = g_variant_lookup_value (props, "VirtualFunctions", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);

  printf (_("%s: %u of %u VFs enabled\n"), address, props_uint (props, "NumVfs"), props_uint (props, "TotalVfs"));
  for (gsize i = 0; vfs && i < g_variant_n_children (vfs); i++)
    {
      const char *vf;
      g_autofree char *name = NULL;
      g_variant_get_child (vfs, i, "&o", &vf);
      name = ctl_object_name (vf);
      printf ("  %s\n", name);
    }
}

static void
print_json (const char *address, GVariant *props)
{
  JsonObject *object = ctl_json_props (props);

  json_object_set_string_member (object, "Address", address);
  ctl_json_print (ctl_json_take_object (object), ctl_args.json);
}

int
verb_sriov (sd_bus *bus, int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GVariant) props = NULL;
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  guint32 count = 0;
  int r;

  if (argc > 2 && !parse_count (argv[2], &count))
    {
      g_autofree char *message = g_strdup_printf (_("'%s' is not a number of VFs (0 to 65535) or 'off'"), argv[2]);
      return ctl_usage_error (message);
    }
  if (argc <= 2 && ctl_args.persist)
    return ctl_usage_error (_("--persist records a change: give N (or 'off') to 'sriov'."));
  r = ctl_resolve_device (bus, argv[1], &path);
  if (r != 0)
    return r;
  address = ctl_object_name (path);
  if (argc > 2)
    {
      r = set_num_vfs (bus, path, count);
      if (r != 0)
        return r;
    }
  r = bus_get_all (bus, path, GPUVIRT_SRIOV_IFACE, &props, &error);
  if (r < 0 && (sd_bus_error_has_name (&error, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
                sd_bus_error_has_name (&error, SD_BUS_ERROR_UNKNOWN_OBJECT)))
    {
      fprintf (stderr, _("%s does not support SR-IOV (no org.gpuvirt.Sriov on its object).\n"), address);
      ctl_print_hint (GPUVIRT_ERROR_NOT_SUPPORTED);
      return GV_EXIT_REFUSED;
    }
  if (r < 0)
    return ctl_fail (&error, r, _("Could not read the SR-IOV state"));
  if (ctl_args.json != CTL_JSON_OFF)
    print_json (address, props);
  else
    print_text (address, props);
  return GV_EXIT_OK;
}
