/* What follows from the functions of a host taken together (see
 * classify.h and model.h): which are GPUs, extra functions, their
 * companions and VFs; each GPU's companions, IOMMU group verdict and vGPU
 * framework. Companions are claimed from the most certain evidence to the
 * least: same slot and device links first, then the IOMMU group. */
#include "host/classify.h"
#include "sysfs/read.h"

#include <string.h>

static GStrv
strv_take_sorted (GPtrArray *array)
{
  g_ptr_array_sort (array, gv_sysfs_compare_names);
  g_ptr_array_add (array, NULL);
  return (GStrv) g_ptr_array_free (array, FALSE);
}


typedef struct {
  GvHostFunction *fn;
  GvHostRole role;
  const char *owner; /* BDF of the managed function it belongs to (borrowed) */
} Work;

static gboolean
extra_match (const GvHostClassifyInput *in, const GvHostFunction *fn)
{
  if (g_ptr_array_find_with_equal_func (in->extra_bdfs, fn->bdf, g_str_equal, NULL))
    return TRUE;
  for (guint i = 0; i < in->extra_classes->len; i++) {
    const GvHostClassMatch *m = &g_array_index (in->extra_classes, GvHostClassMatch, i);
    if ((fn->class_code & m->mask) == m->value)
      return TRUE;
  }
  return FALSE;
}

static gboolean
is_primary (const Work *w)
{
  return w->role == GV_HOST_ROLE_GPU || w->role == GV_HOST_ROLE_EXTRA;
}

/* The managed function whose own set W belongs to: itself for a GPU or
 * extra function, its owner for a companion or VF, NULL if unmanaged. */
static const char *
unit_of (const Work *w)
{
  if (is_primary (w))
    return w->fn->bdf;
  return w->owner;
}

static void
claim (Work *w, GvHostRole role, const char *owner)
{
  w->role = role;
  w->owner = owner;
}

typedef struct {
  const GvHostClassifyInput *in;
  GPtrArray *works;       /* Work *, sorted by BDF */
  GHashTable *by_bdf;     /* BDF → Work * */
  GHashTable *groups;     /* group number → GPtrArray of BDF (sorted) */
} Model;

static void
model_init (Model *m, const GvHostClassifyInput *in)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  m->in = in;
  m->works = g_ptr_array_new_with_free_func (g_free);
  m->by_bdf = g_hash_table_new (g_str_hash, g_str_equal);
  m->groups = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_ptr_array_unref);

  g_hash_table_iter_init (&iter, in->fns);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, gv_sysfs_compare_names);
  for (guint i = 0; i < keys->len; i++) {
    Work *w = g_new0 (Work, 1);
    GPtrArray *members;

    w->fn = g_hash_table_lookup (in->fns, keys->pdata[i]);
    w->role = GV_HOST_ROLE_UNMANAGED;
    g_ptr_array_add (m->works, w);
    g_hash_table_insert (m->by_bdf, w->fn->bdf, w);
    if (w->fn->iommu_group < 0)
      continue;
    members = g_hash_table_lookup (m->groups, GINT_TO_POINTER (w->fn->iommu_group));
    if (!members) {
      members = g_ptr_array_new ();
      g_hash_table_insert (m->groups, GINT_TO_POINTER (w->fn->iommu_group), members);
    }
    g_ptr_array_add (members, w->fn->bdf);
  }
}

static void
model_clear (Model *m)
{
  g_hash_table_destroy (m->groups);
  g_hash_table_destroy (m->by_bdf);
  g_ptr_array_unref (m->works);
}

static Work *
model_find (Model *m, const char *bdf)
{
  return bdf ? g_hash_table_lookup (m->by_bdf, bdf) : NULL;
}

/* GPUs and extra functions. A display function in the slot of a
 * lower-numbered one (the second head of an old dual-head card) is that
 * one's companion, not a GPU of its own. */
static void
classify_primaries (Model *m, gboolean vfs)
{
  for (guint i = 0; i < m->works->len; i++) {
    Work *w = m->works->pdata[i];
    gboolean gpu = gv_host_function_is_gpu (w->fn);

    if (w->role != GV_HOST_ROLE_UNMANAGED || gv_host_function_is_vf (w->fn) != vfs)
      continue;
    if (!gpu && !extra_match (m->in, w->fn))
      continue;
    if (!vfs) {
      Work *first = NULL;
      for (guint j = 0; j < i && !first; j++) {
        Work *o = m->works->pdata[j];
        if (is_primary (o) && !gv_host_function_is_vf (o->fn) && gv_host_bdf_same_slot (&o->fn->address, &w->fn->address))
          first = o;
      }
      if (first) {
        claim (w, GV_HOST_ROLE_COMPANION, first->fn->bdf);
        continue;
      }
    }
    claim (w, gpu ? GV_HOST_ROLE_GPU : GV_HOST_ROLE_EXTRA, NULL);
  }
}

static void
claim_companion (Work *w, Work *primary)
{
  if (w && w != primary && w->role == GV_HOST_ROLE_UNMANAGED && !gv_host_function_is_vf (w->fn))
    claim (w, GV_HOST_ROLE_COMPANION, primary->fn->bdf);
}

static void
classify_companions (Model *m)
{
  /* Same slot and device links first: they are certain. */
  for (guint i = 0; i < m->works->len; i++) {
    Work *p = m->works->pdata[i];
    if (!is_primary (p) || gv_host_function_is_vf (p->fn))
      continue;
    for (guint j = 0; j < m->works->len; j++) {
      Work *w = m->works->pdata[j];
      if (gv_host_bdf_same_slot (&w->fn->address, &p->fn->address))
        claim_companion (w, p);
    }
    for (guint j = 0; p->fn->consumers[j]; j++)
      claim_companion (model_find (m, p->fn->consumers[j]), p);
  }

  /* Then the IOMMU group, narrowly: see model.h. */
  for (guint i = 0; i < m->works->len; i++) {
    Work *p = m->works->pdata[i];
    GPtrArray *members;

    if (!is_primary (p) || gv_host_function_is_vf (p->fn) || p->fn->iommu_group < 0 || !p->fn->upstream_bridge)
      continue;
    members = g_hash_table_lookup (m->groups, GINT_TO_POINTER (p->fn->iommu_group));
    for (guint j = 0; members && j < members->len; j++) {
      Work *w = model_find (m, members->pdata[j]);
      if (!w || gv_host_function_is_bridge (w->fn) || w->fn->vendor_id != p->fn->vendor_id ||
          g_strcmp0 (w->fn->upstream_bridge, p->fn->upstream_bridge) != 0)
        continue;
      claim_companion (w, p);
    }
  }
}

static void
classify_vfs (Model *m)
{
  for (guint i = 0; i < m->works->len; i++) {
    Work *w = m->works->pdata[i];
    Work *pf = model_find (m, w->fn->physfn);
    if (w->role != GV_HOST_ROLE_UNMANAGED || !pf || pf->role == GV_HOST_ROLE_UNMANAGED)
      continue;
    claim (w, GV_HOST_ROLE_VF, unit_of (pf));
  }
}

static GvHostFramework
framework_of (Model *m, const Work *w)
{
  GvHostFrameworkEvidence e = { 0 };

  if (!is_primary (w))
    return GV_HOST_FRAMEWORK_NONE;
  e.pf_is_mdev_parent = w->fn->mdev_parent;
  e.pf_driver = w->fn->driver;
  e.sriov_totalvfs = w->fn->sriov_totalvfs;
  for (guint i = 0; w->fn->vfs[i]; i++) {
    Work *vf = model_find (m, w->fn->vfs[i]);
    e.n_vfs++;
    if (vf && vf->fn->mdev_parent)
      e.any_vf_mdev_parent = TRUE;
    if (vf && vf->fn->vendor_vfio)
      e.any_vf_vendor_vfio = TRUE;
  }
  return gv_host_framework_detect (&e);
}

static GvHostDevice *
make_device (Model *m, Work *w, GHashTable *group_nodes, GHashTable *frameworks)
{
  GvHostDevice *d = g_atomic_rc_box_new0 (GvHostDevice);
  const char *unit = unit_of (w);
  GPtrArray *members = NULL;
  GPtrArray *companions = g_ptr_array_new ();
  GPtrArray *foreign = g_ptr_array_new ();
  GPtrArray *group = g_ptr_array_new ();

  d->fn = gv_host_function_ref (w->fn);
  d->role = w->role;
  d->managed = w->role != GV_HOST_ROLE_UNMANAGED;
  d->owner = g_strdup (w->owner);

  if (is_primary (w)) {
    for (guint i = 0; i < m->works->len; i++) {
      Work *o = m->works->pdata[i];
      if (o->role == GV_HOST_ROLE_COMPANION && g_strcmp0 (o->owner, w->fn->bdf) == 0)
        g_ptr_array_add (companions, g_strdup (o->fn->bdf));
    }
  }
  d->companions = strv_take_sorted (companions);

  if (w->fn->iommu_group >= 0)
    members = g_hash_table_lookup (m->groups, GINT_TO_POINTER (w->fn->iommu_group));
  for (guint i = 0; members && i < members->len; i++) {
    Work *o = model_find (m, members->pdata[i]);
    gboolean own = o == w || (unit && g_strcmp0 (unit_of (o), unit) == 0);
    g_ptr_array_add (group, g_strdup (o->fn->bdf));
    if (!own && !gv_host_function_is_bridge (o->fn))
      g_ptr_array_add (foreign, g_strdup (o->fn->bdf));
  }
  d->group_members = strv_take_sorted (group);
  d->foreign = strv_take_sorted (foreign);
  if (w->fn->iommu_group < 0)
    d->verdict = GV_HOST_GROUP_NONE;
  else
    d->verdict = d->foreign[0] ? GV_HOST_GROUP_SHARED : GV_HOST_GROUP_VIABLE;

  /* the group's node, as its members saw it when their drivers were read
   * (no stat per device and refresh) */
  if (w->fn->iommu_group >= 0) {
    gpointer key = GINT_TO_POINTER (w->fn->iommu_group);
    if (!g_hash_table_contains (group_nodes, key)) {
      gboolean seen = w->fn->vfio_group_seen;
      for (guint i = 0; !seen && members && i < members->len; i++) {
        Work *o = model_find (m, members->pdata[i]);
        seen = o && o->fn->vfio_group_seen;
      }
      g_hash_table_insert (group_nodes, key,
                           seen ? g_strdup_printf ("/dev/vfio/%d", w->fn->iommu_group) : NULL);
    }
    d->vfio_group_node = g_strdup (g_hash_table_lookup (group_nodes, key));
  }

  if (is_primary (w))
    d->framework = GPOINTER_TO_INT (g_hash_table_lookup (frameworks, w->fn->bdf));
  else if (w->role == GV_HOST_ROLE_VF && w->fn->physfn)
    d->framework = GPOINTER_TO_INT (g_hash_table_lookup (frameworks, w->fn->physfn));
  return d;
}

GPtrArray *
gv_host_classify (const GvHostClassifyInput *in)
{
  g_autoptr (GHashTable) group_nodes = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  g_autoptr (GHashTable) frameworks = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *devices = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_device_unref);
  Model m;

  model_init (&m, in);
  classify_primaries (&m, FALSE);
  classify_companions (&m);
  classify_vfs (&m);
  /* A VF named in the configuration whose PF is not managed. */
  classify_primaries (&m, TRUE);

  for (guint i = 0; i < m.works->len; i++) {
    Work *w = m.works->pdata[i];
    if (is_primary (w))
      g_hash_table_insert (frameworks, w->fn->bdf, GINT_TO_POINTER (framework_of (&m, w)));
  }
  for (guint i = 0; i < m.works->len; i++)
    g_ptr_array_add (devices, make_device (&m, m.works->pdata[i], group_nodes, frameworks));
  model_clear (&m);
  return devices;
}
