/* The boot plan: what it takes to bring the host to the configured state,
 * step by step in the order they must run (passthrough binds, SR-IOV
 * counts, then VF types, mdevs and vGPU counts), each already decided as
 * far as the host tells now: pending, skipped (already so) or failed
 * (the device is missing or another one, the planner refuses, ...). Only
 * reads: the host model and sysfs below its root. */
#include "config/internal.h"
#include "gpuvirt-names.h"
#include "sysfs/read.h"
#include "vgpu/family.h"

#include <string.h>

static void
step_free (GvConfigPlanStep *s)
{
  g_free (s->pub.device);
  g_free (s->pub.action);
  g_free (s->pub.message);
  g_free (s->gpu);
  g_clear_pointer (&s->pt, gv_passthrough_plan_free);
  g_free (s->type);
  g_free (s->uuid);
  g_free (s->mig_profile);
  g_free (s);
}

void
gv_config_plan_free (GvConfigPlan *plan)
{
  if (!plan)
    return;
  g_free (plan->root);
  g_ptr_array_unref (plan->steps);
  g_clear_pointer (&plan->config, gv_config_unref);
  g_free (plan);
}

const char *
gv_config_step_status_to_string (GvConfigStepStatus status)
{
  switch (status) {
  case GV_CONFIG_STEP_PENDING: return GPUVIRT_STEP_PENDING;
  case GV_CONFIG_STEP_RUNNING: return GPUVIRT_STEP_RUNNING;
  case GV_CONFIG_STEP_DONE: return GPUVIRT_STEP_DONE;
  case GV_CONFIG_STEP_SKIPPED: return GPUVIRT_STEP_SKIPPED;
  case GV_CONFIG_STEP_FAILED:
  default: return GPUVIRT_STEP_FAILED;
  }
}

guint
gv_config_plan_get_n_steps (GvConfigPlan *plan)
{
  return plan->steps->len;
}

const GvConfigStep *
gv_config_plan_get_step (GvConfigPlan *plan, guint index)
{
  return index < plan->steps->len ? &((GvConfigPlanStep *) plan->steps->pdata[index])->pub : NULL;
}

const char *
gv_config_plan_get_state (GvConfigPlan *plan)
{
  gboolean pending = FALSE, failed = FALSE;

  if (plan->steps->len == 0)
    return GPUVIRT_PLAN_NONE;
  for (guint i = 0; i < plan->steps->len; i++) {
    const GvConfigPlanStep *s = plan->steps->pdata[i];
    if (s->pub.status == GV_CONFIG_STEP_RUNNING)
      return GPUVIRT_PLAN_RUNNING;
    pending |= s->pub.status == GV_CONFIG_STEP_PENDING;
    failed |= s->pub.status == GV_CONFIG_STEP_FAILED;
  }
  return pending ? GPUVIRT_PLAN_PENDING : failed ? GPUVIRT_PLAN_FAILED : GPUVIRT_PLAN_DONE;
}

char *
gv_config_plan_to_text (GvConfigPlan *plan)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < plan->steps->len; i++) {
    const GvConfigPlanStep *s = plan->steps->pdata[i];
    g_string_append_printf (out, "%s%s %s %s: %s%s%s%s", i ? "\n" : "", s->pub.phase, s->pub.device, s->pub.action,
                            gv_config_step_status_to_string (s->pub.status), *s->pub.message ? " (" : "",
                            s->pub.message, *s->pub.message ? ")" : "");
  }
  return g_string_free (out, FALSE);
}

void
gv_config_step_set (GvConfigPlanStep *step, GvConfigStepStatus status, char *message)
{
  step->pub.status = status;
  g_free (step->pub.message);
  step->pub.message = message ? message : g_strdup ("");
}

char *
gv_config_step_name (GvConfigPlan *plan, guint index)
{
  const GvConfigPlanStep *s = plan->steps->pdata[index];
  return g_strdup_printf ("step %u (%s %s: %s)", index + 1, s->pub.phase, s->pub.device, s->pub.action);
}

gboolean
gv_config_read_id (const char *root, const char *bdf, guint16 *vendor, guint16 *device)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", bdf, NULL);
  guint64 v = 0, d = 0;

  if (!gv_sysfs_read_uint (dir, "vendor", TRUE, &v) || !gv_sysfs_read_uint (dir, "device", TRUE, &d))
    return FALSE;
  *vendor = (guint16) v;
  *device = (guint16) d;
  return TRUE;
}

/* ---- counting vGPUs ---- */

/* Does the mdev type TYPE_ID of PARENT (its name read from sysfs) match WANTED? */
static gboolean
mdev_type_matches (const char *root, const char *parent, const char *type_id, const char *wanted)
{
  g_autofree char *dir = g_build_filename (root, "sys", "bus", "pci", "devices", parent, "mdev_supported_types",
                                           type_id, NULL);
  g_autofree char *name = gv_sysfs_read_attr (dir, "name");

  return gv_vgpu_type_matches (type_id, name, wanted);
}

guint
gv_config_count_vgpus (const char *root, const char *gpu, const char *wanted, GvVgpuTypeNames *names, guint *unknown)
{
  g_autoptr (GvVgpuFamily) family = gv_vgpu_family_read (root, gpu, NULL);
  g_autoptr (GPtrArray) mdevs = NULL;
  guint id = names ? gv_vgpu_type_names_resolve (names, wanted) : 0;
  GHashTableIter iter;
  gpointer key, value;
  guint n = 0;

  *unknown = 0;
  if (!family)
    return 0;
  g_hash_table_iter_init (&iter, family->vf_types);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    guint type = GPOINTER_TO_UINT (value);
    if (id && type == id)
      n++;
    else if (!id && !(names && gv_vgpu_type_names_lookup (names, type)))
      (*unknown)++; /* WANTED is no known name, and neither is this type's */
  }
  mdevs = gv_host_mdevs_read (root);
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    if (g_hash_table_contains (family->mdevs, m->uuid) && mdev_type_matches (root, m->parent, m->type_id, wanted))
      n++;
  }
  return n;
}

/* ---- computing ---- */

typedef struct {
  GvConfig *config;
  GvHost *host;
  const char *root;
  GvConfigPlan *plan;
  GvVgpuTypeNames *names;
  GHashTable *sriov_step;   /* PF -> step index + 1 */
  const GvConfigPlanOptions *options;
  GHashTable *mode_step;    /* GPU -> its MIG mode step's index + 1 */
  GHashTable *mig_step;     /* GPU -> its GPU instances step's index + 1 */
  GHashTable *mig_bad;      /* GPU -> why its MIG target cannot be reached (every step of it fails) */
} Compute;

static GvConfigPlanStep *
add_step (Compute *c, GvConfigStepKind kind, const char *phase, const char *device, char *action)
{
  GvConfigPlanStep *s = g_new0 (GvConfigPlanStep, 1);

  s->kind = kind;
  s->pub.phase = phase;
  s->pub.device = g_strdup (device);
  s->pub.action = action;
  s->pub.status = GV_CONFIG_STEP_PENDING;
  s->pub.message = g_strdup ("");
  s->depends = -1;
  s->depends_mig = -1;
  g_ptr_array_add (c->plan->steps, s);
  return s;
}

static int
sriov_step_of (Compute *c, const char *pf)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (c->sriov_step, pf)) - 1;
}

/* "1163 (NVIDIA L40S-24Q)" when the type is known by id, else "“L40S-24Q”". */
static char *
vendor_type_text (Compute *c, const char *wanted)
{
  guint id = gv_vgpu_type_names_resolve (c->names, wanted);
  const char *name = id ? gv_vgpu_type_names_lookup (c->names, id) : NULL;

  if (id && name)
    return g_strdup_printf ("%u (%s)", id, name);
  if (id)
    return g_strdup_printf ("%u", id);
  return g_strdup_printf ("“%s”", wanted);
}

static gboolean
on_vfio (GvHost *host, const char *bdf)
{
  GvHostDevice *d = gv_host_lookup (host, bdf);
  return d && gv_host_driver_is_vfio (d->fn->driver);
}

/* D is a VF that the configured NumVfs of its PF creates or re-creates. */
static gboolean
is_future_vf (Compute *c, const GvConfigDevice *d)
{
  GvConfigLookup at;
  gboolean future;

  gv_config_lookup_address (c->config, c->host, d->bdf, d->vendor_id, d->device_id, &at);
  future = at.at == GV_CONFIG_AT_FUTURE_VF;
  gv_config_lookup_clear (&at);
  return future;
}

/* Passthrough of D: planned now (with the configured GPUs that share its
 * IOMMU group, which would otherwise be "foreign" to each other). */
static void
plan_bind (Compute *c, const GvConfigDevice *d)
{
  GPtrArray *devices = gv_config_get_devices (c->config);
  g_autoptr (GPtrArray) requested = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) with = g_string_new (NULL);
  GvConfigPlanStep *s = add_step (c, GV_CONFIG_DO_BIND, GPUVIRT_PHASE_PASSTHROUGH, d->bdf, g_strdup ("bind vfio-pci"));
  gboolean all_vfio = TRUE;
  GvConfigLookup at;

  s->vendor_id = d->vendor_id;
  s->device_id = d->device_id;
  gv_config_lookup_address (c->config, c->host, d->bdf, d->vendor_id, d->device_id, &at);
  if (at.at == GV_CONFIG_AT_FUTURE_VF) {
    /* made by the SR-IOV step, which runs first: planned when it exists */
    s->depends = sriov_step_of (c, at.pf->bdf);
    g_free (s->pub.action);
    s->pub.action = g_strdup_printf ("bind vfio-pci (a VF of %s)", at.pf->bdf);
    gv_config_lookup_clear (&at);
    return;
  }
  if (at.at != GV_CONFIG_AT_PRESENT) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_steal_pointer (&at.message));
    return;
  }
  g_ptr_array_add (requested, d->bdf);
  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *o = devices->pdata[i];
    GvHostDevice *od = o->passthrough && o != d ? gv_host_lookup (c->host, o->bdf) : NULL;
    if (od && od->fn->iommu_group >= 0 && od->fn->iommu_group == at.device->fn->iommu_group &&
        od->fn->vendor_id == o->vendor_id && od->fn->device_id == o->device_id)
      g_ptr_array_add (requested, o->bdf);
  }
  g_ptr_array_add (requested, NULL);
  s->pt = gv_passthrough_plan (c->host, GV_PASSTHROUGH_BIND_VFIO, (const char *const *) requested->pdata, NULL, &error);
  if (!s->pt) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup (error->message));
    return;
  }
  for (guint i = 0; s->pt->all_bdfs[i]; i++) {
    all_vfio &= on_vfio (c->host, s->pt->all_bdfs[i]);
    if (!g_str_equal (s->pt->all_bdfs[i], d->bdf))
      g_string_append_printf (with, "%s%s", with->len ? ", " : " with ", s->pt->all_bdfs[i]);
  }
  if (with->len) {
    g_free (s->pub.action);
    s->pub.action = g_strdup_printf ("bind vfio-pci%s", with->str);
  }
  if (all_vfio)
    gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED, g_strdup ("already on vfio-pci"));
}

/* Whatever the VFs of PF carry or whoever holds them: a reason not to
 * change their count, or NULL. */
static char *
vfs_in_use (Compute *c, const GvHostDevice *pf)
{
  GPtrArray *mdevs = gv_host_get_mdevs (c->host);

  for (guint i = 0; pf->fn->vfs && pf->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (c->host, pf->fn->vfs[i]);
    g_autoptr (GPtrArray) holders = NULL;

    if (!vf)
      continue;
    if (vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type != 0)
      return g_strdup_printf ("%s carries vGPU type %u", vf->fn->bdf, vf->fn->vendor_vfio->current_type);
    for (guint j = 0; j < mdevs->len; j++) {
      const GvHostMdev *m = mdevs->pdata[j];
      if (g_str_equal (m->parent, vf->fn->bdf))
        return g_strdup_printf ("%s hosts mdev %s", vf->fn->bdf, m->uuid);
    }
    holders = gv_host_get_holders (c->host, vf->fn->bdf, NULL);
    if (holders && holders->len) {
      const GvHostHolder *h = holders->pdata[0];
      return g_strdup_printf ("%s is held by %s (pid %d, %s)", vf->fn->bdf, h->comm, h->pid, h->node);
    }
  }
  return NULL;
}

static void
plan_num_vfs (Compute *c, const GvConfigDevice *d, guint index)
{
  GvConfigPlanStep *s = add_step (c, GV_CONFIG_DO_NUM_VFS, GPUVIRT_PHASE_SRIOV, d->bdf,
                          d->num_vfs ? g_strdup_printf ("enable %u VF%s", d->num_vfs, d->num_vfs == 1 ? "" : "s")
                                     : g_strdup ("disable the VFs"));
  const GvHostFunction *fn;
  g_autofree char *busy = NULL;
  GvConfigLookup at;

  s->vendor_id = d->vendor_id;
  s->device_id = d->device_id;
  s->count = d->num_vfs;
  s->gpu = g_strdup (d->bdf);
  g_hash_table_insert (c->sriov_step, s->gpu, GINT_TO_POINTER (index + 1));
  gv_config_lookup_address (c->config, c->host, d->bdf, d->vendor_id, d->device_id, &at);
  if (at.at != GV_CONFIG_AT_PRESENT) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, at.message ? g_steal_pointer (&at.message)
                                                     : g_strdup_printf ("%s does not exist yet", d->bdf));
    return;
  }
  fn = at.device->fn;
  if (fn->physfn) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s is a VF itself: only its PF %s has VFs", d->bdf,
                                                           fn->physfn));
    return;
  }
  if (!fn->sriov_capable || fn->sriov_totalvfs == 0) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s does not support SR-IOV (no sriov_totalvfs)",
                                                           d->bdf));
    return;
  }
  if (d->num_vfs > fn->sriov_totalvfs) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s supports at most %u VFs (sriov_totalvfs), not %u",
                                                           d->bdf, fn->sriov_totalvfs, d->num_vfs));
    return;
  }
  if (fn->sriov_numvfs == d->num_vfs) {
    gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED, d->num_vfs ? g_strdup_printf ("%u VFs are enabled already", d->num_vfs)
                                                      : g_strdup ("no VFs are enabled"));
    return;
  }
  if (fn->sriov_numvfs > 0) {
    g_free (s->pub.action);
    s->pub.action = g_strdup_printf ("change from %u to %u VFs", fn->sriov_numvfs, d->num_vfs);
    busy = vfs_in_use (c, at.device);
    if (busy)
      gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                    g_strdup_printf ("its %u VFs are in use (%s): changing their count would take them away; remove "
                                     "their vGPUs first, then apply again", fn->sriov_numvfs, busy));
  }
}

/* The GPU of a VF configured at BDF, and whether its VFs are made by a
 * step of this plan (*DEPENDS). FALSE with the step failed otherwise. */
static gboolean
locate_vf (Compute *c, GvConfigPlanStep *s, const char *bdf, guint16 vendor, guint16 device, const char *role,
           const GvHostDevice **gpu)
{
  GvConfigLookup at;

  gv_config_lookup_address (c->config, c->host, bdf, vendor, device, &at);
  *gpu = NULL;
  if (at.message) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s%s", role, at.message));
    gv_config_lookup_clear (&at);
    return FALSE;
  }
  if (at.at == GV_CONFIG_AT_FUTURE_VF) {
    s->depends = sriov_step_of (c, at.pf->bdf);
    s->gpu = g_strdup (at.pf->bdf);
    *gpu = gv_host_lookup (c->host, at.pf->bdf);
    return TRUE;
  }
  s->gpu = g_strdup (at.device->fn->physfn ? at.device->fn->physfn : bdf);
  *gpu = gv_host_lookup (c->host, s->gpu);
  return TRUE;
}

static void
plan_vf_type (Compute *c, const GvConfigDevice *d)
{
  g_autofree char *text = vendor_type_text (c, d->vgpu_type);
  GvConfigPlanStep *s = add_step (c, GV_CONFIG_DO_VF_TYPE, GPUVIRT_PHASE_VGPU, d->bdf, g_strdup_printf ("set type %s", text));
  GvHostDevice *vf = gv_host_lookup (c->host, d->bdf);
  const GvHostDevice *gpu = NULL;
  guint want;

  s->vendor_id = d->vendor_id;
  s->device_id = d->device_id;
  s->type = g_strdup (d->vgpu_type);
  if (!locate_vf (c, s, d->bdf, d->vendor_id, d->device_id, "", &gpu))
    return;
  if (gpu && gpu->framework == GV_HOST_FRAMEWORK_MDEV_VF) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                  g_strdup_printf ("%s makes mdevs on its VFs, not vendor-specific VFIO types: configure the vGPU "
                                   "as [Mdev UUID] with Parent=%s", gpu->fn->bdf, d->bdf));
    return;
  }
  if (s->depends >= 0 || !vf)
    return; /* the VF is made (again) by the SR-IOV step */
  if (!vf->fn->physfn) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                  g_strdup_printf ("%s is no VF: VgpuType alone is the type a VF carries; for vGPUs on this GPU add "
                                   "VgpuCount=N", d->bdf));
    return;
  }
  if (!vf->fn->vendor_vfio) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                  g_strdup_printf ("%s has no nvidia/ directory: it is not a VF of a vendor-specific VFIO GPU on the "
                                   "nvidia driver", d->bdf));
    return;
  }
  if (vf->fn->vendor_vfio->current_type == 0)
    return;
  want = gv_vgpu_type_names_resolve (c->names, d->vgpu_type);
  if (want == vf->fn->vendor_vfio->current_type) {
    g_autofree char *now = vendor_type_text (c, d->vgpu_type);
    gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED, g_strdup_printf ("carries %s already", now));
  } else {
    const char *name = gv_vgpu_type_names_lookup (c->names, vf->fn->vendor_vfio->current_type);
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                  g_strdup_printf ("carries vGPU type %u%s%s%s, configured %s%s: release it first (gpuvirtctl vgpu "
                                   "remove %s)", vf->fn->vendor_vfio->current_type, name ? " (" : "",
                                   name ? name : "", name ? ")" : "", d->vgpu_type,
                                   want || name ? "" : " (no list names that type now: give VgpuType by id)", d->bdf));
  }
}

static const GvHostMdevType *
find_mdev_type (GPtrArray *types, const char *wanted)
{
  for (guint i = 0; types && i < types->len; i++) {
    const GvHostMdevType *t = types->pdata[i];
    if (gv_vgpu_type_matches (t->id, t->name, wanted))
      return t;
  }
  return NULL;
}

static void
plan_mdev (Compute *c, const GvConfigMdev *m)
{
  GvConfigPlanStep *s = add_step (c, GV_CONFIG_DO_MDEV, GPUVIRT_PHASE_MDEV, m->parent,
                          g_strdup_printf ("create mdev %s of “%s”", m->uuid, m->type));
  GPtrArray *mdevs = gv_host_get_mdevs (c->host);
  const GvHostDevice *gpu = NULL;
  GvHostDevice *parent;
  const GvHostMdevType *type;

  s->vendor_id = m->parent_vendor_id;
  s->device_id = m->parent_device_id;
  s->type = g_strdup (m->type);
  s->uuid = g_strdup (m->uuid);
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *now = mdevs->pdata[i];
    if (!g_str_equal (now->uuid, m->uuid))
      continue;
    if (g_str_equal (now->parent, m->parent) && mdev_type_matches (c->root, now->parent, now->type_id, m->type))
      gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED, g_strdup_printf ("exists already (%s)", now->type_id));
    else
      gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                    g_strdup_printf ("mdev %s exists already on %s with type %s, configured %s “%s”: remove it "
                                     "first (gpuvirtctl vgpu remove %s)", m->uuid, now->parent, now->type_id,
                                     m->parent, m->type, m->uuid));
    return;
  }
  if (!locate_vf (c, s, m->parent, m->parent_vendor_id, m->parent_device_id, "parent ", &gpu))
    return;
  if (gpu && gpu->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED,
                  g_strdup_printf ("%s uses vendor-specific VFIO, not mdevs: give the VF its type with VgpuType= in "
                                   "[Device %s]", gpu->fn->bdf, m->parent));
    return;
  }
  parent = gv_host_lookup (c->host, m->parent);
  if (s->depends >= 0 || !parent)
    return;
  if (!parent->fn->mdev_types) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s is no mdev parent (no mdev_supported_types)",
                                                           m->parent));
    return;
  }
  type = find_mdev_type (parent->fn->mdev_types, m->type);
  if (!type) {
    GString *list = g_string_new (NULL);
    for (guint i = 0; i < parent->fn->mdev_types->len; i++) {
      const GvHostMdevType *t = parent->fn->mdev_types->pdata[i];
      g_string_append_printf (list, "%s%s %s", i ? ", " : "", t->id, t->name);
    }
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s has no mdev type “%s”; its types: %s", m->parent,
                                                           m->type, list->str));
    g_string_free (list, TRUE);
    return;
  }
  g_free (s->pub.action);
  s->pub.action = g_strdup_printf ("create mdev %s of %s%s%s", m->uuid, type->id, *type->name ? " " : "", type->name);
}

static void
plan_count (Compute *c, const GvConfigDevice *d)
{
  g_autofree char *text = NULL;
  GvConfigPlanStep *s;
  GvConfigLookup at;
  guint have, unknown = 0;
  gboolean others_pending = FALSE;

  gv_config_lookup_address (c->config, c->host, d->bdf, d->vendor_id, d->device_id, &at);
  if (at.at == GV_CONFIG_AT_PRESENT && at.device->framework != GV_HOST_FRAMEWORK_MDEV_PF &&
      at.device->framework != GV_HOST_FRAMEWORK_MDEV_VF)
    text = vendor_type_text (c, d->vgpu_type);
  else
    text = g_strdup_printf ("“%s”", d->vgpu_type);
  s = add_step (c, GV_CONFIG_DO_COUNT, GPUVIRT_PHASE_VGPU, d->bdf,
                g_strdup_printf ("create %u vGPU%s of %s", d->vgpu_count, d->vgpu_count == 1 ? "" : "s", text));
  s->vendor_id = d->vendor_id;
  s->device_id = d->device_id;
  s->type = g_strdup (d->vgpu_type);
  s->count = d->vgpu_count;
  s->gpu = g_strdup (d->bdf);
  if (at.at != GV_CONFIG_AT_PRESENT) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, at.message ? g_steal_pointer (&at.message)
                                                     : g_strdup_printf ("%s does not exist yet", d->bdf));
    gv_config_lookup_clear (&at);
    return;
  }
  s->framework = at.device->framework;
  if (at.device->fn->physfn) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s is a VF of %s: VgpuCount applies to a GPU (its PF)",
                                                           d->bdf, at.device->fn->physfn));
    return;
  }
  if (s->framework == GV_HOST_FRAMEWORK_NONE) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("%s makes no vGPUs: it has no mdev types, no "
                                                           "vendor-specific VFIO and no SR-IOV on the nvidia driver",
                                                           d->bdf));
    return;
  }
  s->depends = sriov_step_of (c, d->bdf);
  if (s->depends >= 0 && ((GvConfigPlanStep *) c->plan->steps->pdata[s->depends])->pub.status != GV_CONFIG_STEP_SKIPPED)
    return;
  s->depends = -1;
  for (guint i = 0; i < c->plan->steps->len; i++) {
    const GvConfigPlanStep *o = c->plan->steps->pdata[i];
    others_pending |= o != s && o->pub.status == GV_CONFIG_STEP_PENDING && g_strcmp0 (o->gpu, d->bdf) == 0;
  }
  have = gv_config_count_vgpus (c->root, d->bdf, d->vgpu_type, c->names, &unknown);
  if (!others_pending && have >= d->vgpu_count) {
    gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED,
                  g_strdup_printf ("%u vGPU%s of it exist already%s", have, have == 1 ? "" : "s",
                                   have > d->vgpu_count ? " (more than configured: gpuvirt never removes vGPUs "
                                                          "to match a count)" : ""));
    return;
  }
  if (!others_pending && have > 0) {
    g_free (s->pub.action);
    s->pub.action = g_strdup_printf ("create %u vGPU%s of %s (%u of %u exist)", d->vgpu_count - have,
                                     d->vgpu_count - have == 1 ? "" : "s", text, have, d->vgpu_count);
  }
}

/* ---- MIG ---- */

static int
step_of (GHashTable *table, const char *gpu)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (table, gpu)) - 1;
}

/* GPU's MIG can never be reached: every step of it fails (mig_fail_families). */
static void
mig_bad (Compute *c, const char *gpu, char *why)
{
  if (!g_hash_table_contains (c->mig_bad, gpu))
    g_hash_table_insert (c->mig_bad, g_strdup (gpu), why);
  else
    g_free (why);
}

/* Whether MIG can be planned for S's device at all; fails S otherwise.
 * *GPU: what NVML showed of it (NULL: not known yet, checked when run). */
static gboolean
mig_present (Compute *c, GvConfigPlanStep *s, const GvConfigDevice *d, GvMigGpu **gpu)
{
  GvConfigLookup at;

  *gpu = NULL;
  gv_config_lookup_address (c->config, c->host, d->bdf, d->vendor_id, d->device_id, &at);
  if (at.at != GV_CONFIG_AT_PRESENT) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, at.message ? g_steal_pointer (&at.message)
                                                             : g_strdup_printf ("%s does not exist", d->bdf));
    gv_config_lookup_clear (&at);
    return FALSE;
  }
  if (c->options && c->options->mig_unavailable) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup (c->options->mig_unavailable));
    mig_bad (c, d->bdf, g_strdup (c->options->mig_unavailable));
    return FALSE;
  }
  if (c->options && c->options->mig) {
    *gpu = g_hash_table_lookup (c->options->mig, d->bdf);
    if (!*gpu) {
      g_autofree char *why = g_strdup_printf ("%s has no MIG (NVML%s)", d->bdf,
                                              g_strcmp0 (at.device->fn->driver, "nvidia") == 0
                                                ? "" : " sees only GPUs on the nvidia driver");
      gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup (why));
      mig_bad (c, d->bdf, g_steal_pointer (&why));
      return FALSE;
    }
  }
  return TRUE;
}

static void
plan_mig_mode (Compute *c, const GvConfigDevice *d)
{
  GvConfigPlanStep *s = add_step (c, GV_CONFIG_DO_MIG_MODE, GPUVIRT_PHASE_MIG_MODE, d->bdf,
                                  g_strdup_printf ("MIG mode %s", d->mig_mode ? "on" : "off"));
  GvMigGpu *gpu;

  s->vendor_id = d->vendor_id;
  s->device_id = d->device_id;
  s->flag = d->mig_mode;
  s->gpu = g_strdup (d->bdf);
  g_hash_table_insert (c->mode_step, s->gpu, GINT_TO_POINTER ((int) c->plan->steps->len));
  if (!mig_present (c, s, d, &gpu) || !gpu)
    return;
  if (gpu->current == d->mig_mode && gpu->pending == d->mig_mode)
    gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED, g_strdup_printf ("MIG mode is %s already", d->mig_mode ? "on" : "off"));
}

/* GPU's instances are WANTS exactly. */
static gboolean
layout_is (const GvMigGpu *gpu, GPtrArray *wants)
{
  guint total = 0;

  if (!gpu->current)
    return FALSE;
  for (guint i = 0; i < wants->len; i++) {
    const GvMigWant *w = wants->pdata[i];
    guint n = 0;
    for (guint j = 0; j < gpu->instances->len; j++)
      n += g_ascii_strcasecmp (((GvMigInstance *) gpu->instances->pdata[j])->profile, w->profile) == 0;
    if (n != w->count)
      return FALSE;
    total += n;
  }
  return total == gpu->instances->len;
}

static void
plan_mig (Compute *c, const GvConfigDevice *d)
{
  g_autofree char *text = gv_mig_wants_to_string (d->mig_profiles);
  GvConfigPlanStep *s = add_step (c, GV_CONFIG_DO_MIG, GPUVIRT_PHASE_MIG, d->bdf,
                                  g_strdup_printf ("GPU instances %s", text));
  g_autoptr (GArray) slots = NULL;
  g_autoptr (GError) error = NULL;
  GvMigGpu *gpu;

  s->vendor_id = d->vendor_id;
  s->device_id = d->device_id;
  s->wants = d->mig_profiles;
  s->flag = TRUE;
  s->gpu = g_strdup (d->bdf);
  s->depends = step_of (c->mode_step, d->bdf);
  g_hash_table_insert (c->mig_step, s->gpu, GINT_TO_POINTER ((int) c->plan->steps->len));
  if (!mig_present (c, s, d, &gpu) || !gpu)
    return;
  /* the whole layout must fit, whatever is there now */
  slots = gv_mig_place (gpu, d->mig_profiles, NULL, &error);
  if (!slots) {
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup (error->message));
    mig_bad (c, d->bdf, g_strdup_printf ("its MigProfiles cannot be: %s", error->message));
    return;
  }
  /* nothing to do unless the mode changes or enabling VFs drops them */
  if (layout_is (gpu, d->mig_profiles) && (s->depends < 0 ||
      ((GvConfigPlanStep *) c->plan->steps->pdata[s->depends])->pub.status == GV_CONFIG_STEP_SKIPPED) &&
      (sriov_step_of (c, d->bdf) < 0 ||
       ((GvConfigPlanStep *) c->plan->steps->pdata[sriov_step_of (c, d->bdf)])->pub.status == GV_CONFIG_STEP_SKIPPED))
    gv_config_step_set (s, GV_CONFIG_STEP_SKIPPED, g_strdup_printf ("it has these GPU instances already"));
}

/* The GPU instance profile a configured vGPU type runs on (MIG-backed),
 * by its name; an id is looked up in the catalogue or, for mdev types,
 * on PARENT. NULL for a time-sliced type. */
static char *
mig_profile_of (Compute *c, const char *type, const char *parent)
{
  char *profile = gv_mig_profile_for_vgpu_type (type);
  guint64 id;

  if (profile)
    return profile;
  if (g_ascii_string_to_unsigned (type, 10, 1, G_MAXUINT, &id, NULL)) {
    const char *name = gv_vgpu_type_names_lookup (c->names, (guint) id);
    return name ? gv_mig_profile_for_vgpu_type (name) : NULL;
  }
  if (parent) {
    GvHostDevice *p = gv_host_lookup (c->host, parent);
    for (guint i = 0; p && p->fn->mdev_types && i < p->fn->mdev_types->len; i++) {
      const GvHostMdevType *t = p->fn->mdev_types->pdata[i];
      if (g_str_equal (t->id, type))
        return gv_mig_profile_for_vgpu_type (t->name);
    }
  }
  return NULL;
}

/* MIG-backed vGPU steps: each needs a GPU instance of its profile, made
 * by its GPU's MigProfiles (a step before it); their count per profile
 * must not exceed what MigProfiles makes. The GPU instances of a GPU
 * that runs MIG-backed vGPUs get no compute instances (the virtual
 * machine makes them). */
static void
plan_mig_backed (Compute *c)
{
  g_autoptr (GHashTable) need = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < c->plan->steps->len; i++) {
    GvConfigPlanStep *s = c->plan->steps->pdata[i];
    const char *parent = s->kind == GV_CONFIG_DO_MDEV ? s->pub.device : NULL;
    int mig;
    if ((s->kind != GV_CONFIG_DO_VF_TYPE && s->kind != GV_CONFIG_DO_MDEV && s->kind != GV_CONFIG_DO_COUNT) ||
        !s->type || !s->gpu)
      continue;
    s->mig_profile = mig_profile_of (c, s->type, parent);
    if (!s->mig_profile)
      continue;
    mig = step_of (c->mig_step, s->gpu);
    if (mig >= 0) {
      s->depends_mig = mig;
      ((GvConfigPlanStep *) c->plan->steps->pdata[mig])->flag = FALSE;
    }
    {
      g_autofree char *k = g_strdup_printf ("%s %s", s->gpu, s->mig_profile);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (need, k)) + (s->kind == GV_CONFIG_DO_COUNT ? s->count : 1);
      g_hash_table_insert (need, g_steal_pointer (&k), GUINT_TO_POINTER (n));
    }
  }
  g_hash_table_iter_init (&iter, need);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_auto (GStrv) parts = g_strsplit (key, " ", 2);
    const GvConfigDevice *gpu = gv_config_lookup_device (c->config, parts[0]);
    guint have = 0, want = GPOINTER_TO_UINT (value);
    for (guint i = 0; gpu && gpu->mig_profiles && i < gpu->mig_profiles->len; i++) {
      const GvMigWant *w = gpu->mig_profiles->pdata[i];
      if (g_ascii_strcasecmp (w->profile, parts[1]) == 0)
        have = w->count;
    }
    if (have >= want)
      continue;
    mig_bad (c, parts[0],
             have ? g_strdup_printf ("its MIG-backed vGPUs need %u GPU instances of %s, its MigProfiles make %u",
                                     want, parts[1], have)
                  : g_strdup_printf ("its MIG-backed vGPUs need GPU instances of %s: add MigMode=true and "
                                     "MigProfiles=%s:%u to [Device %s]", parts[1], parts[1], want, parts[0]));
  }
}

/* Every step of a GPU whose MIG target cannot be reached fails before
 * anything is written to it: the old layout stays whole. */
static void
mig_fail_families (Compute *c)
{
  for (guint i = 0; i < c->plan->steps->len; i++) {
    GvConfigPlanStep *s = c->plan->steps->pdata[i];
    const char *gpu = s->gpu ? s->gpu : s->pub.device;
    const char *why = gpu ? g_hash_table_lookup (c->mig_bad, gpu) : NULL;
    if (!why || s->pub.status == GV_CONFIG_STEP_FAILED)
      continue;
    gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("not run, so that %s keeps its layout: %s", gpu,
                                                                   why));
  }
}

/* A step that needs a failed one fails too. */
static void
propagate_failures (GvConfigPlan *plan)
{
  for (guint i = 0; i < plan->steps->len; i++) {
    GvConfigPlanStep *s = plan->steps->pdata[i];
    int dep = s->depends >= 0 && ((GvConfigPlanStep *) plan->steps->pdata[s->depends])->pub.status ==
                                     GV_CONFIG_STEP_FAILED ? s->depends
              : s->depends_mig >= 0 && ((GvConfigPlanStep *) plan->steps->pdata[s->depends_mig])->pub.status ==
                                         GV_CONFIG_STEP_FAILED ? s->depends_mig : -1;
    if (dep >= 0 && s->pub.status == GV_CONFIG_STEP_PENDING) {
      g_autofree char *name = gv_config_step_name (plan, (guint) dep);
      gv_config_step_set (s, GV_CONFIG_STEP_FAILED, g_strdup_printf ("not run: it needs %s, which failed", name));
    }
  }
}

/* Learns the type names every vendor-VFIO VF lists now. */
static void
learn_names (Compute *c)
{
  gv_vgpu_type_names_learn_host (c->names, c->host);
  gv_vgpu_type_names_save (c->names);
}

static gint
mdev_by_parent (gconstpointer a, gconstpointer b)
{
  const GvConfigMdev *x = *(GvConfigMdev *const *) a, *y = *(GvConfigMdev *const *) b;
  int c = g_strcmp0 (x->parent, y->parent);
  return c ? c : strcmp (x->uuid, y->uuid);
}

GvConfigPlan *
gv_config_plan_compute (GvConfig *config, GvHost *host, const GvConfigPlanOptions *options)
{
  /* the caller's catalogue, or one of the plan's own */
  g_autoptr (GvVgpuTypeNames) own = options && options->type_names ? NULL
                                    : gv_vgpu_type_names_new (options ? options->state_dir : NULL);
  GvVgpuTypeNames *names = own ? own : options->type_names;
  g_autoptr (GHashTable) sriov_step = g_hash_table_new (g_str_hash, g_str_equal);
  GvConfigPlan *plan = g_new0 (GvConfigPlan, 1);
  GPtrArray *devices = gv_config_get_devices (config);
  GPtrArray *mdevs = gv_config_get_mdevs (config);
  g_autoptr (GPtrArray) by_parent = g_ptr_array_sized_new (mdevs->len); /* borrowed pointers */
  g_autoptr (GPtrArray) vf_binds = g_ptr_array_new ();                   /* borrowed too */
  g_autoptr (GHashTable) mode_step = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) mig_step = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) mig_bad = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Compute c = { config, host, gv_host_get_root (host), plan, names, sriov_step, options, mode_step, mig_step,
                mig_bad };

  /* mdevs in the order of their parents, as the devices are */
  for (guint i = 0; i < mdevs->len; i++)
    g_ptr_array_add (by_parent, mdevs->pdata[i]);
  g_ptr_array_sort (by_parent, mdev_by_parent);

  plan->root = g_strdup (c.root);
  plan->config = gv_config_ref (config);
  plan->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  learn_names (&c);

  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *d = devices->pdata[i];
    if (!d->passthrough)
      continue;
    if (is_future_vf (&c, d))
      g_ptr_array_add (vf_binds, (gpointer) d);
    else
      plan_bind (&c, d);
  }
  /* MIG mode first: it changes at a reset of the GPU */
  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *d = devices->pdata[i];
    if (d->has_mig_mode && !d->passthrough)
      plan_mig_mode (&c, d);
  }
  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *d = devices->pdata[i];
    if (d->has_num_vfs && !d->passthrough)
      plan_num_vfs (&c, d, plan->steps->len);
  }
  /* VFs to vfio-pci (an SR-IOV NIC's or GPU's): after the step making them */
  for (guint i = 0; i < vf_binds->len; i++)
    plan_bind (&c, vf_binds->pdata[i]);
  /* GPU instances after SR-IOV, which drops them, and before vGPU types */
  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *d = devices->pdata[i];
    if (d->mig_profiles && d->has_mig_mode && d->mig_mode && !d->passthrough)
      plan_mig (&c, d);
  }
  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *d = devices->pdata[i];
    if (d->vgpu_type && !d->vgpu_count && !d->passthrough)
      plan_vf_type (&c, d);
  }
  for (guint i = 0; i < by_parent->len; i++) {
    const GvConfigMdev *m = by_parent->pdata[i];
    if (m->parent && m->type)
      plan_mdev (&c, m);
  }
  for (guint i = 0; i < devices->len; i++) {
    const GvConfigDevice *d = devices->pdata[i];
    if (d->vgpu_type && d->vgpu_count && !d->passthrough)
      plan_count (&c, d);
  }
  plan_mig_backed (&c);
  mig_fail_families (&c);
  propagate_failures (plan);
  return plan;
}
