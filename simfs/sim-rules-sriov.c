/* SR-IOV rules: sriov_numvfs and sriov_drivers_autoprobe.
 * Sources: drivers/pci/iov.c (sriov_numvfs_store, sriov_enable,
 * sriov_disable, pci_iov_add_virtfn, pci_iov_remove_virtfn). */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* kstrtou16(buf, 0, ...): an optional '+', a base prefix, one trailing
 * newline, nothing else; overflow is an error too. */
static gboolean
parse_u16 (const char *buf, guint *out)
{
  char *end;
  unsigned long v;

  if (buf[0] == '+')
    buf++;
  if (!g_ascii_isdigit (buf[0]))
    return FALSE;
  errno = 0;
  v = strtoul (buf, &end, 0);
  if (errno || end == buf)
    return FALSE;
  if (*end == '\n')
    end++;
  if (*end != '\0' || v > 0xffff)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static SimDevice *
add_virtfn (SimHost *host, SimDevice *pf, guint index)
{
  guint rid = ((pf->bus << 8) | (pf->slot << 3) | pf->func) + pf->vf_offset + pf->vf_stride * index;
  g_autofree char *bdf = g_strdup_printf ("%04x:%02x:%02x.%x", pf->domain, (rid >> 8) & 0xff,
                                          (rid >> 3) & 0x1f, rid & 7);
  SimDevice *vf = sim_device_new (bdf);
  GHashTableIter iter;
  gpointer key, value;

  vf->vendor = pf->vendor;
  vf->device = pf->vf_device;
  vf->subvendor = pf->subvendor;
  vf->subdevice = pf->subdevice;
  vf->class_ = pf->vf_class ? pf->vf_class : pf->class_;
  vf->revision = pf->revision;
  vf->parent = pf->parent;
  vf->numa_node = pf->numa_node;
  vf->physfn = pf;
  /* pci_device_group(): below a bridge without ACS isolation a new
   * function joins the bridge's group; otherwise it gets its own. */
  if (pf->parent && pf->parent->no_acs && pf->parent->iommu_group >= 0)
    vf->iommu_group = pf->parent->iommu_group;
  else
    vf->iommu_group = sim_iommu_group_alloc (host);
  vf->nvidia_model = g_strdup (pf->nvidia_model);
  g_hash_table_iter_init (&iter, pf->vf_probe_fails);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (vf->probe_fails, g_strdup (key), value);
  g_ptr_array_add (pf->vfs, vf);
  sim_host_add_device (host, vf);
  return vf;
}

/* pci_iov_remove_virtfn(): the VF is stopped (its driver released, which
 * waits for VFIO users) and removed from the bus. */
static void
remove_virtfn (SimHost *host, SimDevice *vf)
{
  if (!sim_device_lock (host, vf))
    return;
  sim_device_release_driver (host, vf);
  g_ptr_array_remove (vf->physfn->vfs, vf);
  sim_host_bury_device (host, vf);
}

/* sriov_del_vfs() goes through the VFs in order; ssleep(1) follows. */
void
sim_sriov_remove_vfs (SimHost *host, SimDevice *pf)
{
  while (pf->vfs->len > 0)
    remove_virtfn (host, pf->vfs->pdata[0]);
  sim_host_sleep (host, host->sriov_disable_delay_ms);
}

/* sriov_add_vfs(): the VFs are added one after the other, and each is
 * offered to the drivers (pci_bus_add_device()) before the next; on a
 * real kernel that probe is what makes enabling many VFs take long
 * (sriov_vf_delay_ms each, the lock released meanwhile, so the VFs come
 * into view one by one while the write is pending). */
static void
enable_vfs (SimHost *host, SimDevice *pf, guint n)
{
  sim_host_sleep (host, host->sriov_enable_delay_ms);
  for (guint i = 0; i < n; i++) {
    SimDevice *vf = add_virtfn (host, pf, i);
    if (host->drivers_autoprobe)
      sim_device_attach (host, vf);
    if (host->sriov_vf_delay_ms) {
      sim_host_changed (host);
      sim_host_sleep (host, host->sriov_vf_delay_ms);
    }
  }
  sim_host_changed (host);
}

/* sriov_numvfs_store(). */
int
sim_rule_sriov_numvfs (SimHost *host, SimDevice *pf, const char *buf)
{
  guint n;
  int r = 0;

  if (!parse_u16 (buf, &n))
    return -EINVAL;
  if (n > pf->totalvfs)
    return -ERANGE;

  if (!sim_device_lock (host, pf))
    return -ENODEV;
  if (n == pf->vfs->len)
    goto out;
  if (!pf->driver || !pf->driver->sriov_configure) {
    r = -ENOENT;                 /* no driver, or no sriov_configure callback */
    goto out;
  }
  if (n == 0) {
    sim_sriov_remove_vfs (host, pf);
    goto out;
  }
  if (pf->vfs->len > 0) {
    r = -EBUSY;                  /* "%d VFs already enabled. Disable before enabling %d VFs" */
    goto out;
  }
  enable_vfs (host, pf, n);
out:
  sim_device_unlock (host, pf);
  return r;
}

/* sriov_drivers_autoprobe_store(): kstrtobool. */
int
sim_rule_sriov_autoprobe (SimHost *host, SimDevice *pf, const char *buf)
{
  switch (buf[0]) {
  case '1': case 'y': case 'Y': case 't': case 'T':
    pf->vf_autoprobe = TRUE;
    return 0;
  case '0': case 'n': case 'N': case 'f': case 'F':
    pf->vf_autoprobe = FALSE;
    return 0;
  case 'o': case 'O':
    if (buf[1] == 'n' || buf[1] == 'N') {
      pf->vf_autoprobe = TRUE;
      return 0;
    }
    if (buf[1] == 'f' || buf[1] == 'F') {
      pf->vf_autoprobe = FALSE;
      return 0;
    }
    return -EINVAL;
  default:
    return -EINVAL;
  }
}
