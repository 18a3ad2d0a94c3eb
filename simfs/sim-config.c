/* PCI configuration space: the captured bytes when a scenario has them,
 * otherwise a standard header built from the function's IDs, enough for
 * lspci to list it (PCI Local Bus spec, "Configuration Space Header"). */
#include "sim-attr.h"

#include <string.h>

static void
put16 (guint8 *b, gsize off, guint16 v)
{
  b[off] = v & 0xff;
  b[off + 1] = v >> 8;
}

static gboolean
is_multifunction (SimHost *host, SimDevice *dev)
{
  for (guint i = 0; i < host->devices->len; i++) {
    SimDevice *other = host->devices->pdata[i];
    if (other != dev && !other->physfn && !dev->physfn && other->domain == dev->domain &&
        other->bus == dev->bus && other->slot == dev->slot)
      return TRUE;
  }
  return FALSE;
}

GBytes *
sim_config_space (SimHost *host, SimDevice *dev)
{
  guint8 b[256];

  if (dev->config)
    return g_bytes_ref (dev->config);
  memset (b, 0, sizeof b);
  put16 (b, 0x00, dev->vendor);
  put16 (b, 0x02, dev->device);
  put16 (b, 0x04, dev->driver ? 0x0007 : 0x0000);   /* command: I/O, memory, bus master */
  b[0x08] = dev->revision;
  b[0x09] = dev->class_ & 0xff;
  b[0x0a] = (dev->class_ >> 8) & 0xff;
  b[0x0b] = (dev->class_ >> 16) & 0xff;
  b[0x0e] = (dev->is_bridge ? 0x01 : 0x00) | (is_multifunction (host, dev) ? 0x80 : 0x00);
  if (dev->is_bridge) {
    b[0x18] = (guint8) dev->bus;
    b[0x19] = (guint8) dev->secondary_bus;
    b[0x1a] = (guint8) dev->subordinate_bus;
  } else {
    put16 (b, 0x2c, dev->subvendor);
    put16 (b, 0x2e, dev->subdevice);
  }
  b[0x3c] = 0xff;
  b[0x3d] = 0x01;
  return g_bytes_new (b, sizeof b);
}
