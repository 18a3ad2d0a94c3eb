/* The planner: which functions an operation moves, in which transactions,
 * and whether it may. It only reads (the model and ROOT/proc); every
 * refusal names the problem and what to do about it. */
#include "passthrough/internal.h"
#include "sysfs/read.h"

#include <string.h>

void
gv_passthrough_plan_free (GvPassthroughPlan *plan)
{
  if (!plan)
    return;
  for (guint i = 0; plan->groups && i < plan->groups->len; i++) {
    GvPassthroughGroup *g = plan->groups->pdata[i];
    g_strfreev (g->bdfs);
    g_free (g);
  }
  if (plan->groups)
    g_ptr_array_unref (plan->groups);
  g_strfreev (plan->all_bdfs);
  g_free (plan);
}

void
gv_passthrough_result_free (GvPassthroughResult *result)
{
  if (!result)
    return;
  g_free (result->bdf);
  g_free (result->state);
  g_free (result->driver);
  g_free (result->message);
  g_free (result);
}

/* The GPU or extra function a managed function belongs to (itself for a
 * primary), NULL for an unmanaged one. */
static const char *
unit_of (const GvHostDevice *d)
{
  if (!d->managed)
    return NULL;
  return d->owner ? d->owner : d->fn->bdf;
}

static gboolean
on_vfio (const GvHostDevice *d)
{
  return gv_host_driver_is_vfio (d->fn->driver);
}

static gboolean
on_host_driver (const GvHostDevice *d)
{
  return *d->fn->driver && !on_vfio (d);
}

static gboolean
is_vendor_vfio_vf (const GvHostDevice *d)
{
  return d->fn->vendor_vfio || (gv_host_function_is_vf (d->fn) && d->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO);
}

/* "0000:3b:00.0 (and its 32 VFs), 0000:3c:00.0": VFs of a listed PF are
 * counted rather than named, and a long list is cut short. */
static char *
describe_bdfs (GvHost *host, GPtrArray *bdfs)
{
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) vf_count = g_hash_table_new (g_str_hash, g_str_equal);
  GString *out = g_string_new (NULL);
  guint shown = 0, hidden = 0;

  for (guint i = 0; i < bdfs->len; i++)
    g_hash_table_add (listed, bdfs->pdata[i]);
  for (guint i = 0; i < bdfs->len; i++) {
    GvHostDevice *d = gv_host_lookup (host, bdfs->pdata[i]);
    if (d && d->fn->physfn && g_hash_table_contains (listed, d->fn->physfn)) {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (vf_count, d->fn->physfn));
      g_hash_table_insert (vf_count, d->fn->physfn, GUINT_TO_POINTER (n + 1));
    }
  }
  for (guint i = 0; i < bdfs->len; i++) {
    const char *bdf = bdfs->pdata[i];
    GvHostDevice *d = gv_host_lookup (host, bdf);
    guint vfs = GPOINTER_TO_UINT (g_hash_table_lookup (vf_count, bdf));

    if (d && d->fn->physfn && g_hash_table_contains (listed, d->fn->physfn))
      continue;
    if (shown == 12) {
      hidden++;
      continue;
    }
    if (shown++)
      g_string_append (out, ", ");
    g_string_append (out, bdf);
    if (vfs)
      g_string_append_printf (out, " (and its %u VF%s)", vfs, vfs == 1 ? "" : "s");
  }
  if (hidden)
    g_string_append_printf (out, " and %u more", hidden);
  return g_string_free (out, FALSE);
}

/* *OUT gets "Xorg (pid 1834, /dev/dri/card1, /dev/nvidia0),
 * nvidia-persistenced (pid 1102, /dev/nvidia0)" for the holders of BDF's
 * nodes starting with one of PREFIXES (NULL: any), or NULL when none. */
static gboolean
find_holders (GvHost *host, const char *bdf, const char *const *prefixes, char **out, GError **error)
{
  g_autoptr (GPtrArray) holders = gv_host_get_holders (host, bdf, error);
  GString *text = NULL;
  int last_pid = -1;

  *out = NULL;
  if (!holders)
    return FALSE;
  for (guint i = 0; i < holders->len; i++) {
    const GvHostHolder *h = holders->pdata[i];
    gboolean wanted = prefixes == NULL;

    for (guint p = 0; prefixes && prefixes[p]; p++)
      wanted |= g_str_has_prefix (h->node, prefixes[p]);
    if (!wanted)
      continue;
    if (!text)
      text = g_string_new (NULL);
    if (h->pid != last_pid) {
      g_autofree char *name = gv_host_holder_name (gv_host_get_root (host), h);
      if (last_pid != -1)
        g_string_append (text, "), ");
      g_string_append_printf (text, "%s (pid %d", name, h->pid);
      last_pid = h->pid;
    }
    g_string_append_printf (text, ", %s", h->node);
  }
  if (text) {
    g_string_append (text, ")");
    *out = g_string_free (text, FALSE);
  }
  return TRUE;
}

typedef struct {
  GvHost *host;
  GvPassthroughOp op;
  GvPassthroughOptions opts;
  GPtrArray *requested;    /* GvHostDevice (borrowed), in the order asked */
  GHashTable *units;       /* units of the requested functions */
  GPtrArray *set;          /* GvHostDevice (borrowed): every function to move */
  GHashTable *in_set;
  gboolean needs_force;
} Planner;

static void
add (Planner *p, GvHostDevice *d)
{
  if (d && !g_hash_table_contains (p->in_set, d->fn->bdf)) {
    g_hash_table_add (p->in_set, d->fn->bdf);
    g_ptr_array_add (p->set, d);
  }
}

static gboolean
is_requested (Planner *p, const GvHostDevice *d)
{
  for (guint i = 0; i < p->requested->len; i++)
    if (p->requested->pdata[i] == d)
      return TRUE;
  return FALSE;
}

static gboolean
is_foreign (Planner *p, const GvHostDevice *d)
{
  const char *unit = unit_of (d);
  return !is_requested (p, d) && !(unit && g_hash_table_contains (p->units, unit));
}

static gboolean
resolve_requested (Planner *p, const char *const *requested, GError **error)
{
  if (!requested || !requested[0]) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "No device given");
    return FALSE;
  }
  for (guint i = 0; requested[i]; i++) {
    GvHostDevice *d;

    if (!gv_host_bdf_is_valid (requested[i])) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE,
                   "“%s” is not a PCI address; write it in full, as dddd:bb:ss.f (e.g. 0000:01:00.0)", requested[i]);
      return FALSE;
    }
    d = gv_host_lookup (p->host, requested[i]);
    if (!d) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE,
                   "No PCI function %s on this host (lspci -D lists the addresses)", requested[i]);
      return FALSE;
    }
    if (!d->managed) {
      g_set_error (error, GV_ERROR, GV_ERROR_NOT_MANAGED,
                   "%s (class %06x, on %s) is not a GPU or a GPU's companion function, so gpuvirt leaves it "
                   "alone: a mistaken address must not detach a disk or a network card; if it really should "
                   "move, add it to the managed functions in the configuration",
                   d->fn->bdf, d->fn->class_code, *d->fn->driver ? d->fn->driver : "no driver");
      return FALSE;
    }
    if (!is_requested (p, d))
      g_ptr_array_add (p->requested, d);
    if (unit_of (d))
      g_hash_table_add (p->units, (gpointer) unit_of (d));
  }
  return TRUE;
}

/* The function, its companions and the rest of its IOMMU group. */
static void
add_with_group (Planner *p, GvHostDevice *d, gboolean foreign_only_on_vfio)
{
  add (p, d);
  for (guint i = 0; d->companions && d->companions[i]; i++)
    add (p, gv_host_lookup (p->host, d->companions[i]));
  for (guint i = 0; d->fn->iommu_group >= 0 && d->group_members[i]; i++) {
    GvHostDevice *m = gv_host_lookup (p->host, d->group_members[i]);
    if (!m || gv_host_function_is_bridge (m->fn))
      continue;
    if (foreign_only_on_vfio && is_foreign (p, m) && !on_vfio (m))
      continue;
    add (p, m);
  }
}

static gboolean
check_foreign (Planner *p, GError **error)
{
  g_autoptr (GPtrArray) foreign = g_ptr_array_new ();
  g_autofree char *list = NULL;
  const GvHostDevice *first = p->requested->pdata[0];
  int group = -1;

  for (guint i = 0; i < p->set->len; i++) {
    GvHostDevice *d = p->set->pdata[i];
    if (is_foreign (p, d)) {
      g_ptr_array_add (foreign, d->fn->bdf);
      group = d->fn->iommu_group;
    }
  }
  if (foreign->len == 0 || p->opts.allow_foreign)
    return TRUE;
  for (guint i = 0; i < p->requested->len; i++) {
    const GvHostDevice *r = p->requested->pdata[i];
    if (r->fn->iommu_group == group)
      first = r;
  }
  list = describe_bdfs (p->host, foreign);
  g_set_error (error, GV_ERROR, GV_ERROR_GROUP_NOT_VIABLE,
               "IOMMU group %d of %s also holds %s, which %s not %s's own (no ACS isolation between them); "
               "VFIO takes a group as a whole: allow-foreign takes %s too. The ACS override patch "
               "(pcie_acs_override) would split the group, but only by pretending an isolation the hardware "
               "does not give: the devices could still reach each other's memory",
               group, first->fn->bdf, list, foreign->len == 1 ? "is" : "are", first->fn->bdf,
               foreign->len == 1 ? "it" : "them");
  return FALSE;
}

/* Processes holding D's nodes (starting with one of PREFIXES, NULL: any)
 * refuse the move unless forced; forcing past them needs the stronger
 * polkit action. */
static gboolean
refuse_unless_forced_held (Planner *p, const GvHostDevice *d, const char *const *prefixes, GError **error)
{
  g_autofree char *holders = NULL;

  if (!find_holders (p->host, d->fn->bdf, prefixes, &holders, error))
    return FALSE;
  if (holders) {
    if (!p->opts.force) {
      g_set_error (error, GV_ERROR, GV_ERROR_HELD,
                   "%s is in use by %s; stop them or pass force (the unbind then waits until they let go)",
                   d->fn->bdf, holders);
      return FALSE;
    }
    p->needs_force = TRUE;
  }
  return TRUE;
}

static gboolean
check_bind (Planner *p, GError **error)
{
  static const char *const host_nodes[] = { "/dev/nvidia", "/dev/dri/", NULL };

  for (guint i = 0; i < p->requested->len; i++) {
    const GvHostDevice *r = p->requested->pdata[i];
    if (r->fn->iommu_group < 0) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_IOMMU,
                   "%s has no IOMMU group, so VFIO cannot isolate it: turn on VT-d or AMD-Vi in the firmware "
                   "and boot with intel_iommu=on (or amd_iommu=on)", r->fn->bdf);
      return FALSE;
    }
  }
  for (guint i = 0; i < p->requested->len; i++)
    add_with_group (p, p->requested->pdata[i], FALSE);
  if (!check_foreign (p, error))
    return FALSE;

  for (guint i = 0; i < p->set->len; i++) {
    const GvHostDevice *d = p->set->pdata[i];
    guint nvfs = d->fn->vfs ? g_strv_length (d->fn->vfs) : 0;

    if (on_vfio (d))
      continue;
    if (is_vendor_vfio_vf (d)) {
      g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                   "%s is a VF of %s, which does vGPU through NVIDIA's vendor-specific VFIO: vfio-pci cannot "
                   "take it (the kernel refuses with EINVAL); give it a vGPU type (nvidia/current_vgpu_type) "
                   "instead", d->fn->bdf, d->fn->physfn ? d->fn->physfn : "its GPU");
      return FALSE;
    }
    if (nvfs > 0 || d->fn->sriov_numvfs > 0) {
      g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                   "%s has %u SR-IOV VFs enabled, and vfio-pci refuses a PF with SR-IOV enabled (EBUSY): "
                   "disable them first (0 to sriov_numvfs)", d->fn->bdf, MAX (nvfs, d->fn->sriov_numvfs));
      return FALSE;
    }
  }

  for (guint i = 0; i < p->set->len; i++) {
    const GvHostDevice *d = p->set->pdata[i];

    if (d->fn->boot_vga == 1 && on_host_driver (d)) {
      if (!p->opts.force) {
        g_set_error (error, GV_ERROR, GV_ERROR_BOOT_VGA,
                     "%s is the boot VGA device and %s drives the console on it; taking it leaves this host "
                     "without a console: pass force to take it anyway", d->fn->bdf, d->fn->driver);
        return FALSE;
      }
      p->needs_force = TRUE;
    }
    if (on_vfio (d))
      continue;
    if (!refuse_unless_forced_held (p, d, host_nodes, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_give_back (Planner *p, GError **error)
{
  static const char *const vfio_nodes[] = { "/dev/vfio/", NULL };

  /* The whole group goes back; a named driver is for the GPU only (the
   * transaction sends companions to their own recorded drivers). */
  for (guint i = 0; i < p->requested->len; i++)
    add_with_group (p, p->requested->pdata[i], TRUE);
  if (!check_foreign (p, error))
    return FALSE;
  for (guint i = 0; i < p->set->len; i++) {
    const GvHostDevice *d = p->set->pdata[i];
    g_autofree char *holders = NULL;

    if (!on_vfio (d))
      continue;
    if (!find_holders (p->host, d->fn->bdf, vfio_nodes, &holders, error))
      return FALSE;
    if (holders) {
      if (!p->opts.force) {
        g_set_error (error, GV_ERROR, GV_ERROR_IN_USE,
                     "%s is in use through VFIO by %s, a VM most likely; shut it down first or pass force "
                     "(the unbind then waits until it lets go)", d->fn->bdf, holders);
        return FALSE;
      }
      p->needs_force = TRUE;
    }
  }
  return TRUE;
}

static gboolean
check_unbind (Planner *p, GError **error)
{
  for (guint i = 0; i < p->requested->len; i++)
    add (p, p->requested->pdata[i]);
  for (guint i = 0; i < p->set->len; i++) {
    const GvHostDevice *d = p->set->pdata[i];

    if (d->fn->boot_vga == 1 && on_host_driver (d)) {
      if (!p->opts.force) {
        g_set_error (error, GV_ERROR, GV_ERROR_BOOT_VGA,
                     "%s is the boot VGA device and %s drives the console on it; unbinding it leaves this "
                     "host without a console: pass force to unbind it anyway", d->fn->bdf, d->fn->driver);
        return FALSE;
      }
      p->needs_force = TRUE;
    }
    if (!*d->fn->driver)
      continue;
    if (!refuse_unless_forced_held (p, d, NULL, error))
      return FALSE;
  }
  return TRUE;
}

static gint
group_compare (gconstpointer a, gconstpointer b)
{
  const GvPassthroughGroup *x = *(const GvPassthroughGroup *const *) a, *y = *(const GvPassthroughGroup *const *) b;
  return x->iommu_group < y->iommu_group ? -1 : x->iommu_group > y->iommu_group;
}

/* One transaction per IOMMU group; in each, the functions that were not
 * asked for first and the asked-for ones (the GPUs) last, so that a GPU
 * leaves its host driver only once its companions have; reversed when
 * giving back, so that the GPU is back first. */
static GPtrArray *
make_groups (Planner *p)
{
  g_autoptr (GHashTable) by_group = g_hash_table_new (g_direct_hash, g_direct_equal);
  GPtrArray *groups = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  for (guint pass = 0; pass < 2; pass++) {
    g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
    for (guint i = 0; i < p->set->len; i++) {
      GvHostDevice *d = p->set->pdata[i];
      if (is_requested (p, d) == (pass == 1))
        g_ptr_array_add (sorted, d->fn->bdf);
    }
    g_ptr_array_sort (sorted, gv_sysfs_compare_names);
    for (guint i = 0; i < sorted->len; i++) {
      GvHostDevice *d = gv_host_lookup (p->host, sorted->pdata[i]);
      int group_no = MAX (d->fn->iommu_group, -1);
      GPtrArray *list = g_hash_table_lookup (by_group, GINT_TO_POINTER (group_no));
      if (!list) {
        list = g_ptr_array_new ();
        g_hash_table_insert (by_group, GINT_TO_POINTER (group_no), list);
      }
      g_ptr_array_add (list, d->fn->bdf);
    }
  }

  g_hash_table_iter_init (&iter, by_group);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    GPtrArray *list = value;
    GvPassthroughGroup *g = g_new0 (GvPassthroughGroup, 1);
    g->iommu_group = GPOINTER_TO_INT (key);
    g->bdfs = g_new0 (char *, list->len + 1);
    for (guint i = 0; i < list->len; i++) {
      guint from = p->op == GV_PASSTHROUGH_GIVE_BACK ? list->len - 1 - i : i;
      g->bdfs[i] = g_strdup (list->pdata[from]);
    }
    g_ptr_array_unref (list);
    g_ptr_array_add (groups, g);
  }
  g_ptr_array_sort (groups, group_compare);
  return groups;
}

GvPassthroughPlan *
gv_passthrough_plan (GvHost *host, GvPassthroughOp operation, const char *const *requested,
                     const GvPassthroughOptions *options, GError **error)
{
  Planner p = { 0 };
  GvPassthroughPlan *plan = NULL;
  gboolean ok = FALSE;
  GPtrArray *all;

  p.host = host;
  p.op = operation;
  if (options)
    p.opts = *options;
  p.requested = g_ptr_array_new ();
  p.units = g_hash_table_new (g_str_hash, g_str_equal);
  p.set = g_ptr_array_new ();
  p.in_set = g_hash_table_new (g_str_hash, g_str_equal);

  if (p.opts.driver && !gv_passthrough_driver_name_is_valid (p.opts.driver)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DRIVER,
                 "“%s” is not a driver name (letters, digits, '_', '-' and '.' only)", p.opts.driver);
    goto out;
  }
  if (!resolve_requested (&p, requested, error))
    goto out;
  switch (operation) {
  case GV_PASSTHROUGH_BIND_VFIO: ok = check_bind (&p, error); break;
  case GV_PASSTHROUGH_GIVE_BACK: ok = check_give_back (&p, error); break;
  case GV_PASSTHROUGH_UNBIND: ok = check_unbind (&p, error); break;
  default:
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "Unknown operation %d",
                 (int) operation);
  }
  if (!ok)
    goto out;

  plan = g_new0 (GvPassthroughPlan, 1);
  plan->operation = operation;
  plan->groups = make_groups (&p);
  plan->needs_force = p.needs_force;
  all = g_ptr_array_new ();
  for (guint i = 0; i < p.set->len; i++)
    g_ptr_array_add (all, g_strdup (((GvHostDevice *) p.set->pdata[i])->fn->bdf));
  g_ptr_array_sort (all, gv_sysfs_compare_names);
  g_ptr_array_add (all, NULL);
  plan->all_bdfs = (GStrv) g_ptr_array_free (all, FALSE);

out:
  g_ptr_array_unref (p.requested);
  g_hash_table_destroy (p.units);
  g_ptr_array_unref (p.set);
  g_hash_table_destroy (p.in_set);
  return plan;
}
