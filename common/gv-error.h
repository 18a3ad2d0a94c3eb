/* Errors, in one table shared by gpuvirtd and gpuvirtctl: the code an
 * engine sets (one GError domain for every layer of the daemon), the
 * D-Bus error name the bus answers with, the errno sd-bus maps it to, the
 * exit code of gpuvirtctl and the hint it prints. The names themselves
 * are the contract's (dbus/gpuvirt-names.h); the engines never see them. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

#define GV_ERROR (gv_error_quark ())
GQuark gv_error_quark (void);

/* What went wrong, as the API says it. The comment names the D-Bus error. */
typedef enum {
  GV_ERROR_FAILED,             /* org.freedesktop.DBus.Error.Failed: none of the below */
  GV_ERROR_INVALID_ARGS,       /* org.freedesktop.DBus.Error.InvalidArgs: malformed input */
  GV_ERROR_NO_SUCH_DEVICE,     /* NoSuchDevice: well-formed, but not on this host (or gone) */
  GV_ERROR_NOT_MANAGED,        /* NotManaged: not a GPU, companion, VF or allowed class */
  GV_ERROR_BUSY,               /* Busy: another operation on it is running */
  GV_ERROR_HELD,               /* HeldByProcesses: host processes have its nodes open */
  GV_ERROR_BOOT_VGA,           /* BootVga: it shows the console */
  GV_ERROR_GROUP_NOT_VIABLE,   /* GroupNotViable: foreign devices share its IOMMU group */
  GV_ERROR_NO_IOMMU,           /* NoIommu: no IOMMU group, VFIO impossible */
  GV_ERROR_KERNEL,             /* KernelError: a write failed or did not read back (errno named) */
  GV_ERROR_STUCK,              /* Stuck: a write did not return in time */
  GV_ERROR_PENDING,            /* Pending: a long write (enabling VFs) still runs; its outcome is announced */
  GV_ERROR_NOT_SUPPORTED,      /* NotSupported: not this device, framework or driver */
  GV_ERROR_NO_SUCH_DRIVER,     /* NoSuchDriver */
  GV_ERROR_NO_SUCH_TYPE,       /* NoSuchType: names what is offered */
  GV_ERROR_NO_CAPACITY,        /* NoCapacity: the type exists but fits nowhere now */
  GV_ERROR_IN_USE,             /* InUse: a VM (VFIO node open), VFs or vGPUs use it */
  GV_ERROR_EXISTS,             /* AlreadyExists */
  GV_ERROR_CONFIG_INVALID,     /* ConfigInvalid: the configuration files have problems */
  /* Finer codes for the engines and their tests; each answers as the
   * name given. */
  GV_ERROR_CONFIG_OVERRIDDEN,  /* ConfigInvalid: a drop-in sets the key an edit of the main file sets */
  GV_ERROR_IO,                 /* KernelError: a file could not be read or written (errno named) */
  GV_ERROR_NO_ROOT,            /* Failed: the root prefix has no usable sys/bus/pci */
  GV_ERROR_PLAN_FAILED,        /* Failed: boot plan steps failed (the plan says which and why) */
} GvError;

/* gpuvirtctl's exit codes; documented in client/README.md and
 * gpuvirtctl(1), never renumbered. */
typedef enum {
  GV_EXIT_OK = 0,
  GV_EXIT_FAILURE = 1,     /* anything not listed below */
  GV_EXIT_USAGE = 2,       /* bad verb, option or argument */
  GV_EXIT_NO_SUCH = 3,     /* no such device (or vGPU type) */
  GV_EXIT_ACCESS = 4,      /* polkit or the bus said no */
  GV_EXIT_UNAVAILABLE = 5, /* no system bus, or gpuvirtd is not running */
  GV_EXIT_REFUSED = 6,     /* the device's state does not allow it */
  GV_EXIT_PENDING = 7,     /* the kernel is still carrying the change out */
} GvExit;

/* One D-Bus error: gpuvirt's own and the standard ones a client meets. */
typedef struct {
  const char *name;
  int errnum;          /* what sd-bus maps the name to */
  GvExit exit;         /* gpuvirtctl's exit code */
  const char *hint;    /* untranslated (N_), or NULL */
} GvErrorInfo;

/* The D-Bus error name of CODE (GV_ERROR domain); Failed for others. */
const char *gv_error_name (const GError *error);
/* The row of NAME, or NULL for a name the table does not know. */
const GvErrorInfo *gv_error_lookup (const char *name);
/* Every row, NAME NULL at the end. */
const GvErrorInfo *gv_error_table (void);
/* The table as sd-bus wants it: sd_bus_error_add_map (gv_error_bus_map ())
 * makes sd_bus_error_get_errno() and the -errno of a failed call follow it. */
const sd_bus_error_map *gv_error_bus_map (void);

/* TEXT (what a caller sent) fit to quote in a message: control
 * characters, backslashes and bytes that are not UTF-8 as \xNN or \\, so
 * that a terminal shows what was really sent; cut after about
 * GV_ERROR_ESCAPE_MAX bytes with "... (N bytes)". NULL gives "". */
#define GV_ERROR_ESCAPE_MAX 128
char *gv_error_escape (const char *text);
/* Whether TEXT holds a control character (a name never does). */
gboolean gv_error_has_control (const char *text);

G_END_DECLS
