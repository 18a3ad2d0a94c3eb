/* Function reset: a function's reset and reset_method files, as Linux 6.1
 * has them (drivers/pci/pci-sysfs.c: reset_store(),
 * pci_dev_reset_attr_is_visible(); drivers/pci/pci.c: reset_method_show()
 * and _store(), pci_init_reset_methods(), pci_reset_function(),
 * __pci_reset_function_locked(), pci_parent_bus_reset()). Checked against
 * the test VM's kernel (tests/crosscheck, rules reset.* and
 * reset_method.*).
 *
 * What a function can do is the scenario's "reset" list (the hardware's
 * FLR, PM reset, ...); the bus reset follows from the topology: a
 * function alone on a bus below a bridge. Which methods the kernel uses
 * is decided when the function appears, in the kernel's order, and
 * reset_method changes it; the files exist only for a function that had
 * a method then. */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[SIM_RESET_METHODS] = {
  [SIM_RESET_DEVICE_SPECIFIC] = "device_specific",
  [SIM_RESET_ACPI] = "acpi",
  [SIM_RESET_FLR] = "flr",
  [SIM_RESET_AF_FLR] = "af_flr",
  [SIM_RESET_PM] = "pm",
  [SIM_RESET_BUS] = "bus",
};

int
sim_reset_method_lookup (const char *name)
{
  for (int m = 1; m < SIM_RESET_METHODS; m++)
    if (g_str_equal (name, method_names[m]))
      return m;
  return 0;
}

/* pci_parent_bus_reset(PCI_RESET_PROBE): not on a root bus, not a bridge
 * itself, and alone on its bus (VFs on the same bus count). */
static gboolean
bus_reset_possible (SimHost *host, SimDevice *dev)
{
  if (!dev->parent || dev->is_bridge)
    return FALSE;
  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *o = host->devices->pdata[i];
    if (o != dev && !o->removed && o->domain == dev->domain && o->bus == dev->bus)
      return FALSE;
  }
  return TRUE;
}

/* The method's reset_fn (dev, PCI_RESET_PROBE): 0 or -ENOTTY. */
static int
probe (SimHost *host, SimDevice *dev, int m)
{
  if (m == SIM_RESET_BUS)
    return bus_reset_possible (host, dev) ? 0 : -ENOTTY;
  return dev->reset_caps & (1u << m) ? 0 : -ENOTTY;
}

void
sim_device_init_reset_methods (SimHost *host, SimDevice *dev)
{
  guint n = 0;

  memset (dev->reset_methods, 0, sizeof dev->reset_methods);
  for (int m = 1; m < SIM_RESET_METHODS; m++)
    if (probe (host, dev, m) == 0)
      dev->reset_methods[n++] = (guint8) m;
  dev->reset_files = n > 0;
}

/* sysfs_streq(): equal, but a trailing newline on either side is ignored. */
static gboolean
sysfs_streq (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  if (la && a[la - 1] == '\n')
    la--;
  if (lb && b[lb - 1] == '\n')
    lb--;
  return la == lb && strncmp (a, b, la) == 0;
}

char *
sim_reset_method_show (SimDevice *dev)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < SIM_RESET_METHODS && dev->reset_methods[i]; i++)
    g_string_append_printf (s, "%s%s", s->len ? " " : "", method_names[dev->reset_methods[i]]);
  if (s->len)
    g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

/* reset_method_store(): "" disables every method, "default" restores the
 * probed list, otherwise the names separated by spaces, each known and
 * supported (else EINVAL, the old list kept), at most 6. */
int
sim_rule_reset_method (SimHost *host, SimDevice *dev, const char *buf, gsize len)
{
  guint8 methods[SIM_RESET_METHODS] = { 0 };
  g_autofree char *options = g_strndup (buf, len);
  char *rest = options, *name;
  guint n = 0;

  if (sysfs_streq (buf, "")) {
    dev->reset_methods[0] = 0;
    return 0;
  }
  if (sysfs_streq (buf, "default")) {
    gboolean files = dev->reset_files;  /* the files stay as they were made */
    sim_device_init_reset_methods (host, dev);
    dev->reset_files = files;
    return 0;
  }
  while ((name = strsep (&rest, " ")) != NULL) {
    int m;
    if (sysfs_streq (name, ""))
      continue;
    name = g_strstrip (name);
    m = sim_reset_method_lookup (name);
    if (!m || probe (host, dev, m) != 0 || n == SIM_RESET_METHODS - 1)
      return -EINVAL;   /* invalid, unsupported, or too many: nothing changes */
    methods[n++] = (guint8) m;
  }
  memcpy (dev->reset_methods, methods, sizeof methods);
  return 0;
}

/* reset_store(): kstrtoul (base prefixes allowed), then pci_reset_function()
 * for 1 only: under the device lock, each method in order until one does
 * not answer ENOTTY; none left is ENOTTY. */
int
sim_rule_reset (SimHost *host, SimDevice *dev, const char *buf)
{
  unsigned long val;
  char *end;
  int r = -ENOTTY;

  if (buf[0] == '+')
    buf++;
  errno = 0;
  val = strtoul (buf, &end, 0);
  if (errno || end == buf || !g_ascii_isdigit (buf[0]) || (*end && !(*end == '\n' && end[1] == '\0')))
    return -EINVAL;
  if (val != 1)
    return -EINVAL;
  if (dev->reset_methods[0] == 0)
    return -ENOTTY;
  if (!sim_device_lock (host, dev))
    return -ENODEV;
  for (int i = 0; i < SIM_RESET_METHODS && dev->reset_methods[i]; i++) {
    r = probe (host, dev, dev->reset_methods[i]);
    if (r != -ENOTTY)
      break;
  }
  if (r == 0) {
    sim_host_sleep (host, 100);
    sim_mig_function_reset (host, dev);
  }
  sim_device_unlock (host, dev);
  return r;
}
