/* What gpuvirtctl makes of an error: its exit code and a hint that says
 * what to do, both from the error table gpuvirtd shares
 * (common/gv-error.c). The daemon's messages stay English; the hints are
 * translated. */
#include "error-hint.h"
#include "text.h"

#include "common/gv-error.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef GPUVIRT_RULES_EXAMPLE
#error "GPUVIRT_RULES_EXAMPLE must name the installed example polkit rules"
#endif

const char *
ctl_error_hint (const char *name)
{
  static char *access_hint;
  const GvErrorInfo *info = gv_error_lookup (name);

  if (!info)
    return NULL;
  if (g_str_equal (name, SD_BUS_ERROR_ACCESS_DENIED))
    {
      if (!access_hint)
        /* TRANSLATORS: %s is the path of the example polkit rules */
        access_hint = g_strdup_printf (_("Ask an administrator, or see the example polkit rules in %s."),
                                       GPUVIRT_RULES_EXAMPLE);
      return access_hint;
    }
  return info->hint ? _(info->hint) : NULL;
}

void
ctl_print_hint (const char *name)
{
  const char *hint = ctl_error_hint (name);

  if (hint)
    fprintf (stderr, _("Hint: %s\n"), hint);
}

int
ctl_error_exit_code (const sd_bus_error *error, int r)
{
  const GvErrorInfo *info = gv_error_lookup (error ? error->name : NULL);

  if (info)
    return info->exit;
  switch (r)
    {
    case -EACCES:
    case -EPERM:
      return GV_EXIT_ACCESS;
    case -ENOENT:
    case -ECONNREFUSED:
    case -ENOTCONN:
    case -ECONNRESET:
      return GV_EXIT_UNAVAILABLE;
    default:
      return GV_EXIT_FAILURE;
    }
}

int
ctl_fail (const sd_bus_error *error, int r, const char *what)
{
  const char *message = error && sd_bus_error_is_set (error) && error->message
                        ? error->message : g_strerror (r < 0 ? -r : r);
  g_autofree char *safe = ctl_text_safe (message);

  fprintf (stderr, "%s: %s\n", what, safe);
  if (error && sd_bus_error_is_set (error))
    ctl_print_hint (error->name);
  else if (r == -EBADMSG)
    fprintf (stderr, _("Hint: gpuvirtd answered with data gpuvirtctl does not understand; are both the same version?\n"));
  return ctl_error_exit_code (error, r);
}

int
ctl_fail_connect (int r)
{
  const char *address = g_getenv ("DBUS_SYSTEM_BUS_ADDRESS");

  fprintf (stderr, _("Could not connect to the system bus: %s\n"), g_strerror (-r));
  if (address)
    fprintf (stderr, _("Hint: DBUS_SYSTEM_BUS_ADDRESS is '%s'; is a bus listening there?\n"), address);
  else
    fprintf (stderr, _("Hint: is dbus running? 'systemctl status dbus' tells.\n"));
  return r == -EACCES || r == -EPERM ? GV_EXIT_ACCESS : GV_EXIT_UNAVAILABLE;
}
