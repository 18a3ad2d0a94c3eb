/* The one table of errors (see gv-error.h). The hints are translated by
 * gpuvirtctl (gettext domain gpuvirt); the daemon's messages never are. */
#include "common/gv-error.h"

#include "gpuvirt-names.h"

#include <errno.h>

#define N_(s) (s)

G_DEFINE_QUARK (gv-error-quark, gv_error)

#define HINT_NOT_RUNNING N_("gpuvirtd is not running: start it with 'systemctl start gpuvirtd' and see 'journalctl -u gpuvirtd'.")
#define HINT_TOO_OLD N_("gpuvirtd does not know this call: it is older than gpuvirtctl; update and restart it.")

static const GvErrorInfo errors[] = {
  /* gpuvirt's own */
  { GPUVIRT_ERROR_NO_SUCH_DEVICE, ENODEV, GV_EXIT_NO_SUCH,
    N_("'gpuvirtctl list --all' shows every PCI function of this host.") },
  { GPUVIRT_ERROR_NOT_MANAGED, EPERM, GV_EXIT_REFUSED,
    N_("Only GPUs, their companion functions and VFs (and classes the configuration allows) can be changed; check the address with 'gpuvirtctl list'.") },
  { GPUVIRT_ERROR_BUSY, EBUSY, GV_EXIT_REFUSED,
    N_("Another operation on this device is running; wait until it ends ('gpuvirtctl monitor' shows it) and try again.") },
  { GPUVIRT_ERROR_HELD, EBUSY, GV_EXIT_REFUSED,
    N_("Programs on the host use the GPU: close them ('gpuvirtctl show DEVICE' lists them) or force the operation.") },
  { GPUVIRT_ERROR_BOOT_VGA, EBUSY, GV_EXIT_REFUSED,
    N_("This GPU shows the console: move the host's display to another GPU first, or force the operation.") },
  { GPUVIRT_ERROR_GROUP_NOT_VIABLE, EXDEV, GV_EXIT_REFUSED,
    N_("Other devices share the GPU's IOMMU group: use another slot or enable ACS in the firmware, or allow the foreign devices explicitly.") },
  { GPUVIRT_ERROR_NO_IOMMU, ENXIO, GV_EXIT_REFUSED,
    N_("Enable the IOMMU (VT-d or AMD-Vi) in the firmware and on the kernel command line (intel_iommu=on or amd_iommu=on), then reboot.") },
  { GPUVIRT_ERROR_KERNEL, EIO, GV_EXIT_FAILURE,
    N_("The kernel refused the change; 'journalctl -u gpuvirtd' and 'dmesg' tell why.") },
  { GPUVIRT_ERROR_STUCK, ETIMEDOUT, GV_EXIT_FAILURE,
    N_("A driver stopped answering; the device may only recover after a reboot. See 'dmesg'.") },
  { GPUVIRT_ERROR_PENDING, EINPROGRESS, GV_EXIT_PENDING,
    N_("The kernel is still carrying the change out; gpuvirtd announces how it ended on the device ('gpuvirtctl monitor' or 'gpuvirtctl show DEVICE' shows it).") },
  { GPUVIRT_ERROR_NOT_SUPPORTED, EOPNOTSUPP, GV_EXIT_REFUSED,
    N_("This device or its driver does not support that; 'gpuvirtctl show DEVICE' shows what it offers.") },
  { GPUVIRT_ERROR_NO_SUCH_DRIVER, ENOPKG, GV_EXIT_REFUSED,
    N_("The driver is not loaded: load its module first (e.g. 'modprobe vfio-pci'), or name another one.") },
  { GPUVIRT_ERROR_NO_SUCH_TYPE, ENOENT, GV_EXIT_NO_SUCH,
    N_("'gpuvirtctl types DEVICE' lists the vGPU types this GPU offers now.") },
  { GPUVIRT_ERROR_NO_CAPACITY, ENOSPC, GV_EXIT_REFUSED,
    N_("No instance of this vGPU type is free: remove a vGPU or choose a smaller type.") },
  { GPUVIRT_ERROR_IN_USE, EBUSY, GV_EXIT_REFUSED,
    N_("Something still uses it; the message names what (a virtual machine through its VFIO node, vGPU types or mdevs on its VFs): stop or remove that first.") },
  { GPUVIRT_ERROR_EXISTS, EEXIST, GV_EXIT_REFUSED,
    N_("It exists already: remove or release it first, or choose another one.") },
  { GPUVIRT_ERROR_CONFIG, EBADMSG, GV_EXIT_FAILURE,
    N_("'gpuvirtctl config check' lists the configuration's problems with their lines; a drop-in that sets the same key is changed in that file. The message says whether the device was changed.") },
  /* the standard ones gpuvirtd answers with or a client meets on the way */
  { SD_BUS_ERROR_FAILED, EIO, GV_EXIT_FAILURE, NULL },
  { SD_BUS_ERROR_INVALID_ARGS, EINVAL, GV_EXIT_USAGE, NULL },
  /* the hint names the example rules' path: gpuvirtctl adds it */
  { SD_BUS_ERROR_ACCESS_DENIED, EACCES, GV_EXIT_ACCESS, NULL },
  { SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, EACCES, GV_EXIT_ACCESS,
    N_("Authentication is needed: run it in a terminal without --no-ask-password, or have an administrator allow it with a polkit rule.") },
  { SD_BUS_ERROR_SERVICE_UNKNOWN, EHOSTDOWN, GV_EXIT_UNAVAILABLE, HINT_NOT_RUNNING },
  { SD_BUS_ERROR_NAME_HAS_NO_OWNER, ENXIO, GV_EXIT_UNAVAILABLE, HINT_NOT_RUNNING },
  /* a timeout, or gpuvirtd leaving the bus with the call unanswered */
  { SD_BUS_ERROR_NO_REPLY, ETIMEDOUT, GV_EXIT_FAILURE,
    N_("gpuvirtd did not answer: it took too long or stopped; see 'journalctl -u gpuvirtd' and 'gpuvirtctl list'.") },
  { SD_BUS_ERROR_TIMEOUT, ETIMEDOUT, GV_EXIT_FAILURE,
    N_("gpuvirtd did not answer in time; see 'journalctl -u gpuvirtd'.") },
  { SD_BUS_ERROR_UNKNOWN_METHOD, EBADR, GV_EXIT_FAILURE, HINT_TOO_OLD },
  { SD_BUS_ERROR_UNKNOWN_INTERFACE, EBADR, GV_EXIT_FAILURE, HINT_TOO_OLD },
  { SD_BUS_ERROR_UNKNOWN_PROPERTY, EBADR, GV_EXIT_FAILURE, HINT_TOO_OLD },
  { SD_BUS_ERROR_UNKNOWN_OBJECT, EBADR, GV_EXIT_NO_SUCH,
    N_("The object went away; 'gpuvirtctl list --all' shows what exists now.") },
  { NULL, 0, 0, NULL },
};

/* The name each engine code answers with. */
static const char *const names[] = {
  [GV_ERROR_FAILED] = SD_BUS_ERROR_FAILED,
  [GV_ERROR_INVALID_ARGS] = SD_BUS_ERROR_INVALID_ARGS,
  [GV_ERROR_NO_SUCH_DEVICE] = GPUVIRT_ERROR_NO_SUCH_DEVICE,
  [GV_ERROR_NOT_MANAGED] = GPUVIRT_ERROR_NOT_MANAGED,
  [GV_ERROR_BUSY] = GPUVIRT_ERROR_BUSY,
  [GV_ERROR_HELD] = GPUVIRT_ERROR_HELD,
  [GV_ERROR_BOOT_VGA] = GPUVIRT_ERROR_BOOT_VGA,
  [GV_ERROR_GROUP_NOT_VIABLE] = GPUVIRT_ERROR_GROUP_NOT_VIABLE,
  [GV_ERROR_NO_IOMMU] = GPUVIRT_ERROR_NO_IOMMU,
  [GV_ERROR_KERNEL] = GPUVIRT_ERROR_KERNEL,
  [GV_ERROR_STUCK] = GPUVIRT_ERROR_STUCK,
  [GV_ERROR_PENDING] = GPUVIRT_ERROR_PENDING,
  [GV_ERROR_NOT_SUPPORTED] = GPUVIRT_ERROR_NOT_SUPPORTED,
  [GV_ERROR_NO_SUCH_DRIVER] = GPUVIRT_ERROR_NO_SUCH_DRIVER,
  [GV_ERROR_NO_SUCH_TYPE] = GPUVIRT_ERROR_NO_SUCH_TYPE,
  [GV_ERROR_NO_CAPACITY] = GPUVIRT_ERROR_NO_CAPACITY,
  [GV_ERROR_IN_USE] = GPUVIRT_ERROR_IN_USE,
  [GV_ERROR_EXISTS] = GPUVIRT_ERROR_EXISTS,
  [GV_ERROR_CONFIG_INVALID] = GPUVIRT_ERROR_CONFIG,
  [GV_ERROR_CONFIG_OVERRIDDEN] = GPUVIRT_ERROR_CONFIG,
  [GV_ERROR_IO] = GPUVIRT_ERROR_KERNEL,
  [GV_ERROR_NO_ROOT] = SD_BUS_ERROR_FAILED,
  [GV_ERROR_PLAN_FAILED] = SD_BUS_ERROR_FAILED,
};

const char *
gv_error_name (const GError *error)
{
  if (!error || error->domain != GV_ERROR || error->code < 0 || (gsize) error->code >= G_N_ELEMENTS (names) ||
      !names[error->code])
    return SD_BUS_ERROR_FAILED;
  return names[error->code];
}

const GvErrorInfo *
gv_error_lookup (const char *name)
{
  for (const GvErrorInfo *e = errors; name && e->name; e++)
    if (g_str_equal (e->name, name))
      return e;
  return NULL;
}

const GvErrorInfo *
gv_error_table (void)
{
  return errors;
}

const sd_bus_error_map *
gv_error_bus_map (void)
{
  static sd_bus_error_map *map;

  /* built once from the table: SD_BUS_ERROR_MAP_END closes it */
  if (g_once_init_enter (&map)) {
    sd_bus_error_map *m = g_new0 (sd_bus_error_map, G_N_ELEMENTS (errors));
    gsize n = 0;
    for (const GvErrorInfo *e = errors; e->name; e++, n++)
      m[n] = (sd_bus_error_map) SD_BUS_ERROR_MAP (e->name, e->errnum);
    m[n] = (sd_bus_error_map) SD_BUS_ERROR_MAP_END;
    g_once_init_leave (&map, m);
  }
  return map;
}

char *
gv_error_escape (const char *text)
{
  GString *out = g_string_new (NULL);
  const char *p = text ? text : "";

  while (*p) {
    /* enough to recognise it: a caller's megabyte is not sent back */
    if (out->len >= GV_ERROR_ESCAPE_MAX) {
      g_string_append_printf (out, "... (%zu bytes)", strlen (text));
      break;
    }
    gunichar ch = g_utf8_get_char_validated (p, -1);
    if (ch == (gunichar) -1 || ch == (gunichar) -2) {
      g_string_append_printf (out, "\\x%02x", (guchar) *p);
      p++;
    } else if (ch < 0x20 || ch == 0x7f) {
      g_string_append_printf (out, "\\x%02x", (guint) ch);
      p++;
    } else if (ch == '\\') {
      g_string_append (out, "\\\\");
      p++;
    } else {
      const char *next = g_utf8_next_char (p);
      g_string_append_len (out, p, next - p);
      p = next;
    }
  }
  return g_string_free (out, FALSE);
}

gboolean
gv_error_has_control (const char *text)
{
  for (const char *p = text ? text : ""; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}
