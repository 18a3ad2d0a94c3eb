/* The configuration against a host: what is at each configured address
 * now, or will be once the configured SR-IOV counts are set (a VF's
 * address follows from its PF's sriov_offset and sriov_stride, as the
 * kernel computes it in pci_iov_virtfn_bus/devfn), and the problems
 * CheckConfig reports for devices the host lacks or has replaced. */
#include "config/internal.h"
#include "sysfs/read.h"

#include <string.h>

void
gv_config_lookup_clear (GvConfigLookup *lookup)
{
  g_clear_pointer (&lookup->message, g_free);
}

GStrv
gv_config_future_vfs (const char *root, const char *pf, guint count)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", pf, NULL);
  g_autoptr (GPtrArray) vfs = g_ptr_array_new_with_free_func (g_free);
  guint64 offset = 0, stride = 0;
  GvHostBdf bdf;
  guint rid;

  if (!gv_host_bdf_parse (pf, &bdf) || !gv_sysfs_read_uint (dir, "sriov_offset", FALSE, &offset) ||
      !gv_sysfs_read_uint (dir, "sriov_stride", FALSE, &stride))
    return NULL;
  rid = bdf.bus << 8 | bdf.slot << 3 | bdf.function;
  for (guint i = 0; i < count; i++) {
    guint64 r = rid + offset + (guint64) i * stride;
    if (r > 0xffff)
      break;
    g_ptr_array_add (vfs, g_strdup_printf ("%04x:%02x:%02x.%x", bdf.domain, (guint) (r >> 8), (guint) (r >> 3) & 0x1f,
                                           (guint) r & 7));
  }
  g_ptr_array_add (vfs, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&vfs), FALSE);
}

/* The configured PF whose SR-IOV step will change the VFs BDF is or will
 * be one of; *IN_RANGE says whether BDF is among the VFs it makes. */
static const GvConfigDevice *
configured_pf_of (GvConfig *config, GvHost *host, const char *bdf, GvHostDevice *now, gboolean *in_range)
{
  GPtrArray *devices = gv_config_get_devices (config);
  const char *root = gv_host_get_root (host);

  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *pf = devices->pdata[i];
    GvHostDevice *pf_dev;
    g_auto (GStrv) future = NULL;

    if (!pf->has_num_vfs || g_str_equal (pf->bdf, bdf))
      continue;
    pf_dev = gv_host_lookup (host, pf->bdf);
    if (!pf_dev || !pf_dev->fn->sriov_capable || pf_dev->fn->vendor_id != pf->vendor_id ||
        pf_dev->fn->device_id != pf->device_id)
      continue;
    /* a VF of a PF whose count stays is what it is now */
    if (now && pf_dev->fn->sriov_numvfs == pf->num_vfs)
      continue;
    future = gv_config_future_vfs (root, pf->bdf, pf->num_vfs);
    *in_range = future && g_strv_contains ((const char *const *) future, bdf);
    if (*in_range || (now && g_strcmp0 (now->fn->physfn, pf->bdf) == 0))
      return pf;
  }
  return NULL;
}

void
gv_config_lookup_address (GvConfig *config, GvHost *host, const char *bdf, guint16 vendor, guint16 device, GvConfigLookup *out)
{
  GvHostDevice *now = gv_host_lookup (host, bdf);
  g_autofree char *want = gv_config_id_text (vendor, device);
  gboolean in_range = FALSE;
  const GvConfigDevice *pf = configured_pf_of (config, host, bdf, now, &in_range);

  memset (out, 0, sizeof *out);
  out->device = now;
  if (pf && in_range) {
    g_autofree char *pf_dir = g_build_filename (gv_host_get_root (host), "sys", "bus", "pci", "devices", pf->bdf, NULL);
    guint64 vf_device = 0;

    out->at = GV_CONFIG_AT_FUTURE_VF;
    out->pf = pf;
    out->vendor_id = pf->vendor_id;
    out->device_id = gv_sysfs_read_uint (pf_dir, "sriov_vf_device", TRUE, &vf_device) ? (guint16) vf_device : device;
    if (out->vendor_id != vendor || out->device_id != device) {
      g_autofree char *got = gv_config_id_text (out->vendor_id, out->device_id);
      out->message = g_strdup_printf ("%s will be a VF of %s, which makes VFs %s, configured %s: device moved or "
                                      "replaced", bdf, pf->bdf, got, want);
    }
    return;
  }
  if (pf && now) {
    out->at = GV_CONFIG_AT_DROPPED_VF;
    out->pf = pf;
    out->message = g_strdup_printf ("%s is a VF of %s now, but NumVfs=%u of %s leaves it out", bdf, pf->bdf,
                                    pf->num_vfs, pf->bdf);
    return;
  }
  if (!now) {
    out->at = GV_CONFIG_AT_MISSING;
    out->message = g_strdup_printf ("no PCI function %s on this host (configured %s): device moved or removed", bdf,
                                    want);
    return;
  }
  out->vendor_id = now->fn->vendor_id;
  out->device_id = now->fn->device_id;
  if (now->fn->vendor_id != vendor || now->fn->device_id != device) {
    g_autofree char *got = gv_config_id_text (now->fn->vendor_id, now->fn->device_id);
    out->at = GV_CONFIG_AT_REPLACED;
    out->message = g_strdup_printf ("%s is %s, configured %s: device moved or replaced", bdf, got, want);
    return;
  }
  out->at = GV_CONFIG_AT_PRESENT;
}

/* ---- CheckConfig ---- */

static void
host_problem (GvConfig *config, GPtrArray *problems, const char *group, const char *key, const char *message)
{
  const GvConfigOrigin *o = gv_config_origin (config, group, key);
  g_autofree char *where = NULL;

  if (!o) {
    key = "";
    o = gv_config_origin (config, group, "");
  }
  where = gv_config_origin_key (config, group, key);
  gv_config_problem_add (problems, o ? o->file : NULL, o ? o->line : 0, where, TRUE, "%s", message);
}

static void
check_device (GvConfig *config, GvHost *host, const GvConfigDevice *d, GPtrArray *problems)
{
  g_autofree char *group = gv_config_device_group (d->bdf);
  GvConfigLookup at;

  gv_config_lookup_address (config, host, d->bdf, d->vendor_id, d->device_id, &at);
  if (at.message)
    host_problem (config, problems, group, at.at == GV_CONFIG_AT_MISSING || at.at == GV_CONFIG_AT_DROPPED_VF ? "" : "Id",
                  at.message);
  if (at.at == GV_CONFIG_AT_PRESENT) {
    const GvHostFunction *fn = at.device->fn;
    const GvConfigDevice *pf_config = fn->physfn ? gv_config_lookup_device (config, fn->physfn) : NULL;
    if (d->has_num_vfs && !fn->sriov_capable) {
      g_autofree char *m = g_strdup_printf ("%s has no SR-IOV (no sriov_totalvfs), so NumVfs cannot apply", d->bdf);
      host_problem (config, problems, group, "NumVfs", m);
    } else if (d->has_num_vfs && d->num_vfs > fn->sriov_totalvfs) {
      g_autofree char *m = g_strdup_printf ("%s supports at most %u VFs (sriov_totalvfs), not %u", d->bdf,
                                            fn->sriov_totalvfs, d->num_vfs);
      host_problem (config, problems, group, "NumVfs", m);
    }
    if (d->vgpu_type && !d->vgpu_count && !fn->physfn) {
      g_autofree char *m = g_strdup_printf ("%s is no VF: VgpuType alone is the type a VF carries; for vGPUs on "
                                            "this GPU add VgpuCount=N", d->bdf);
      host_problem (config, problems, group, "VgpuType", m);
    }
    if (d->vgpu_count && fn->physfn) {
      g_autofree char *m = g_strdup_printf ("%s is a VF of %s: VgpuCount applies to a GPU (its PF)", d->bdf,
                                            fn->physfn);
      host_problem (config, problems, group, "VgpuCount", m);
    } else if (d->vgpu_count && at.device->framework == GV_HOST_FRAMEWORK_NONE) {
      g_autofree char *m = g_strdup_printf ("%s makes no vGPUs (no mdev types, no vendor-specific VFIO, no SR-IOV "
                                            "on the nvidia driver)", d->bdf);
      host_problem (config, problems, group, "VgpuCount", m);
    }
    if ((d->has_mig_mode || d->mig_profiles) && (fn->physfn || fn->vendor_id != 0x10de ||
                                                  (fn->class_code >> 16) != 0x03)) {
      g_autofree char *m = fn->physfn
        ? g_strdup_printf ("%s is a VF of %s: MIG is a GPU's (its PF's) setting", d->bdf, fn->physfn)
        : g_strdup_printf ("%s is no NVIDIA GPU: MIG is NVIDIA's (A100, A30, H100 and later)", d->bdf);
      host_problem (config, problems, group, d->has_mig_mode ? "MigMode" : "MigProfiles", m);
    }
    if (d->passthrough && fn->physfn && !(pf_config && pf_config->has_num_vfs)) {
      g_autofree char *m = g_strdup_printf ("%s is a VF of %s, which has VFs only while told so: add NumVfs= "
                                            "to [Device %s] as well", d->bdf, fn->physfn, fn->physfn);
      host_problem (config, problems, group, "Passthrough", m);
    }
  }
  gv_config_lookup_clear (&at);
}

static void
check_mdev (GvConfig *config, GvHost *host, const GvConfigMdev *md, GPtrArray *problems)
{
  g_autofree char *group = gv_config_mdev_group (md->uuid);
  GvConfigLookup at;

  if (!md->parent)
    return;
  gv_config_lookup_address (config, host, md->parent, md->parent_vendor_id, md->parent_device_id, &at);
  if (at.message) {
    g_autofree char *m = g_strdup_printf ("parent %s", at.message);
    host_problem (config, problems, group, at.at == GV_CONFIG_AT_MISSING || at.at == GV_CONFIG_AT_DROPPED_VF ? "Parent"
                                                                                                 : "ParentId", m);
  }
  gv_config_lookup_clear (&at);
}

GPtrArray *
gv_config_check_host (GvConfig *config, GvHost *host)
{
  GPtrArray *problems = gv_config_problems_new ();
  GPtrArray *devices = gv_config_get_devices (config);
  GPtrArray *mdevs = gv_config_get_mdevs (config);

  for (guint i = 0; i < devices->len; i++)
    check_device (config, host, devices->pdata[i], problems);
  for (guint i = 0; i < mdevs->len; i++)
    check_mdev (config, host, mdevs->pdata[i], problems);
  return problems;
}
