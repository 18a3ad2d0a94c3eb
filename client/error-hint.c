/* One table for every error the daemon may answer with (the names of
 * gpuvirt-names.h and the standard ones it uses), so each has an exit code
 * and a hint that says what to do, not only what went wrong. The daemon's
 * messages stay English; the hints are translated. */
#include "error-hint.h"

#include "gpuvirt-names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef GPUVIRT_RULES_EXAMPLE
#error "GPUVIRT_RULES_EXAMPLE must name the installed example polkit rules"
#endif

#define HINT_NOT_RUNNING N_("gpuvirtd is not running: start it with 'systemctl start gpuvirtd' and see 'journalctl -u gpuvirtd'.")
#define HINT_TOO_OLD N_("gpuvirtd does not know this call: it is older than gpuvirtctl; update and restart it.")

static const struct
{
  const char *name;
  CtlExit exit;
  const char *hint; /* N_() */
} error_table[] = {
  { SD_BUS_ERROR_ACCESS_DENIED, CTL_EXIT_ACCESS, NULL /* needs the path, see below */ },
  { SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, CTL_EXIT_ACCESS,
    N_("Authentication is needed: run it in a terminal without --no-ask-password, or have an administrator allow it with a polkit rule.") },
  { SD_BUS_ERROR_SERVICE_UNKNOWN, CTL_EXIT_UNAVAILABLE, HINT_NOT_RUNNING },
  { SD_BUS_ERROR_NAME_HAS_NO_OWNER, CTL_EXIT_UNAVAILABLE, HINT_NOT_RUNNING },
  /* a timeout, or gpuvirtd leaving the bus with the call unanswered */
  { SD_BUS_ERROR_NO_REPLY, CTL_EXIT_FAILURE,
    N_("gpuvirtd did not answer: it took too long or stopped; see 'journalctl -u gpuvirtd' and 'gpuvirtctl list'.") },
  { SD_BUS_ERROR_TIMEOUT, CTL_EXIT_FAILURE,
    N_("gpuvirtd did not answer in time; see 'journalctl -u gpuvirtd'.") },
  { SD_BUS_ERROR_UNKNOWN_METHOD, CTL_EXIT_FAILURE, HINT_TOO_OLD },
  { SD_BUS_ERROR_UNKNOWN_INTERFACE, CTL_EXIT_FAILURE, HINT_TOO_OLD },
  { SD_BUS_ERROR_UNKNOWN_PROPERTY, CTL_EXIT_FAILURE, HINT_TOO_OLD },
  { SD_BUS_ERROR_UNKNOWN_OBJECT, CTL_EXIT_NO_SUCH,
    N_("The object went away; 'gpuvirtctl list --all' shows what exists now.") },
  { SD_BUS_ERROR_INVALID_ARGS, CTL_EXIT_USAGE, NULL },
  { GPUVIRT_ERROR_NO_SUCH_DEVICE, CTL_EXIT_NO_SUCH,
    N_("'gpuvirtctl list --all' shows every PCI function of this host.") },
  { GPUVIRT_ERROR_NOT_MANAGED, CTL_EXIT_REFUSED,
    N_("Only GPUs, their companion functions and VFs (and classes the configuration allows) can be changed; check the address with 'gpuvirtctl list'.") },
  { GPUVIRT_ERROR_BUSY, CTL_EXIT_REFUSED,
    N_("Another operation on this device is running; wait until it ends ('gpuvirtctl monitor' shows it) and try again.") },
  { GPUVIRT_ERROR_HELD, CTL_EXIT_REFUSED,
    N_("Programs on the host use the GPU: close them ('gpuvirtctl show DEVICE' lists them) or force the operation.") },
  { GPUVIRT_ERROR_BOOT_VGA, CTL_EXIT_REFUSED,
    N_("This GPU shows the console: move the host's display to another GPU first, or force the operation.") },
  { GPUVIRT_ERROR_GROUP_NOT_VIABLE, CTL_EXIT_REFUSED,
    N_("Other devices share the GPU's IOMMU group: use another slot or enable ACS in the firmware, or allow the foreign devices explicitly.") },
  { GPUVIRT_ERROR_NO_IOMMU, CTL_EXIT_REFUSED,
    N_("Enable the IOMMU (VT-d or AMD-Vi) in the firmware and on the kernel command line (intel_iommu=on or amd_iommu=on), then reboot.") },
  { GPUVIRT_ERROR_KERNEL, CTL_EXIT_FAILURE,
    N_("The kernel refused the change; 'journalctl -u gpuvirtd' and 'dmesg' tell why.") },
  { GPUVIRT_ERROR_STUCK, CTL_EXIT_FAILURE,
    N_("A driver stopped answering; the device may only recover after a reboot. See 'dmesg'.") },
  { GPUVIRT_ERROR_NOT_SUPPORTED, CTL_EXIT_REFUSED,
    N_("This device or its driver does not support that; 'gpuvirtctl show DEVICE' shows what it offers.") },
  { GPUVIRT_ERROR_NO_SUCH_DRIVER, CTL_EXIT_REFUSED,
    N_("The driver is not loaded: load its module first (e.g. 'modprobe vfio-pci'), or name another one.") },
  { GPUVIRT_ERROR_NO_SUCH_TYPE, CTL_EXIT_NO_SUCH,
    N_("'gpuvirtctl types DEVICE' lists the vGPU types this GPU offers now.") },
  { GPUVIRT_ERROR_NO_CAPACITY, CTL_EXIT_REFUSED,
    N_("No instance of this vGPU type is free: remove a vGPU or choose a smaller type.") },
  { GPUVIRT_ERROR_IN_USE, CTL_EXIT_REFUSED,
    N_("A virtual machine uses it: shut the virtual machine down first, or force the operation.") },
  { GPUVIRT_ERROR_EXISTS, CTL_EXIT_REFUSED,
    N_("It exists already: remove or release it first, or choose another one.") },
  { GPUVIRT_ERROR_CONFIG, CTL_EXIT_FAILURE,
    N_("'gpuvirtctl config check' lists the configuration's problems with their lines; a drop-in that sets the same key is changed in that file. The message says whether the device was changed.") },
};

static int
lookup (const char *name)
{
  if (!name)
    return -1;
  for (size_t i = 0; i < G_N_ELEMENTS (error_table); i++)
    if (g_str_equal (error_table[i].name, name))
      return (int) i;
  return -1;
}

const char *
ctl_error_hint (const char *name)
{
  static char *access_hint;
  int i = lookup (name);

  if (i < 0)
    return NULL;
  if (g_str_equal (name, SD_BUS_ERROR_ACCESS_DENIED))
    {
      if (!access_hint)
        /* TRANSLATORS: %s is the path of the example polkit rules */
        access_hint = g_strdup_printf (_("Ask an administrator, or see the example polkit rules in %s."),
                                       GPUVIRT_RULES_EXAMPLE);
      return access_hint;
    }
  return error_table[i].hint ? _(error_table[i].hint) : NULL;
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
  int i = lookup (error ? error->name : NULL);

  if (i >= 0)
    return error_table[i].exit;
  switch (r)
    {
    case -EACCES:
    case -EPERM:
      return CTL_EXIT_ACCESS;
    case -ENOENT:
    case -ECONNREFUSED:
    case -ENOTCONN:
    case -ECONNRESET:
      return CTL_EXIT_UNAVAILABLE;
    default:
      return CTL_EXIT_FAILURE;
    }
}

int
ctl_fail (const sd_bus_error *error, int r, const char *what)
{
  const char *message = error && sd_bus_error_is_set (error) && error->message
                        ? error->message : g_strerror (r < 0 ? -r : r);

  fprintf (stderr, "%s: %s\n", what, message);
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
  return r == -EACCES || r == -EPERM ? CTL_EXIT_ACCESS : CTL_EXIT_UNAVAILABLE;
}
