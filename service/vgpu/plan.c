/* The SR-IOV and vGPU calls planned on the host model (see plan.h): what
 * each call checks before polkit is asked, so that a refused call writes
 * nothing and asks nobody. */
#include "vgpu/plan.h"
#include "host/holders.h"
#include "vgpu/capacity.h"

#include <string.h>

static const char *const kind_names[] = {
  [GV_VGPU_OP_SET_NUM_VFS] = "set-num-vfs",
  [GV_VGPU_OP_SET_TYPE] = "set-vgpu-type",
  [GV_VGPU_OP_RELEASE_TYPE] = "release-vgpu-type",
  [GV_VGPU_OP_CREATE_MDEV] = "create-mdev",
  [GV_VGPU_OP_REMOVE_MDEV] = "remove-mdev",
  [GV_VGPU_OP_CREATE_VGPU] = "create-vgpu",
  [GV_VGPU_OP_REMOVE_VGPU] = "remove-vgpu",
};

const char *
gv_vgpu_op_to_string (GvVgpuOpKind kind)
{
  return kind_names[kind];
}

void
gv_vgpu_plan_free (GvVgpuPlan *plan)
{
  if (!plan)
    return;
  g_free (plan->function);
  g_free (plan->gpu);
  g_free (plan->wanted);
  g_free (plan->type);
  g_free (plan->type_text);
  g_free (plan->uuid);
  g_strfreev (plan->busy);
  g_strfreev (plan->free_first);
  g_free (plan);
}

static GvVgpuPlan *
plan_new (GvVgpuOpKind kind, GvHostDevice *function, GvHostDevice *gpu)
{
  GvVgpuPlan *plan = g_new0 (GvVgpuPlan, 1);

  plan->kind = kind;
  plan->function = g_strdup (function->fn->bdf);
  plan->gpu = g_strdup (gpu->fn->bdf);
  plan->type = g_strdup ("");
  plan->uuid = g_strdup ("");
  plan->framework = function->framework;
  return plan;
}

/* The type as the configuration records it: its name when the host tells
 * it, else its id. */
static char *
type_text (const char *id, const char *name)
{
  return g_strdup (name && *name ? name : id);
}

/* ---- the model ---- */

GvHostDevice *
gv_vgpu_gpu_of (GvHost *host, GvHostDevice *device)
{
  if (device->fn->physfn) {
    GvHostDevice *pf = gv_host_lookup (host, device->fn->physfn);
    if (pf)
      return pf;
  }
  return device;
}

/* The GPU and its VFs as the model has them (borrowed). */
static GPtrArray *
family (GvHost *host, GvHostDevice *gpu)
{
  GPtrArray *list = g_ptr_array_new ();

  g_ptr_array_add (list, gpu);
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (host, gpu->fn->vfs[i]);
    if (vf)
      g_ptr_array_add (list, vf);
  }
  return list;
}

/* GPU and its VFs' BDFs (what a change of the whole family keeps busy). */
static GStrv
family_bdfs (GvHostDevice *gpu)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv list;

  g_strv_builder_add (builder, gpu->fn->bdf);
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++)
    g_strv_builder_add (builder, gpu->fn->vfs[i]);
  list = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return list;
}

static GStrv
strv_of (const char *a, const char *b)
{
  const char *both[] = { a, b && *b ? b : NULL, NULL };
  return g_strdupv ((char **) both);
}

static void
add_type (GString *list, const char *id, const char *name)
{
  g_autofree char *entry = g_strdup_printf ("%s (%s)", name && *name ? name : "?", id);

  if (strstr (list->str, entry))
    return;
  g_string_append_printf (list, "%s%s", list->len ? ", " : "", entry);
}

/* Whether any function of GPU's family offers, or carries, a type that
 * WANTED names. *OFFERED (may be NULL): "NVIDIA A40-8Q (nvidia-558), ..."
 * or "none". */
static gboolean
type_known (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *gpu, const char *wanted, char **offered)
{
  g_autoptr (GPtrArray) members = family (host, gpu);
  GString *list = g_string_new (NULL);
  gboolean found = FALSE;

  for (guint i = 0; i < members->len; i++) {
    GvHostFunction *fn = ((GvHostDevice *) members->pdata[i])->fn;
    for (guint j = 0; fn->mdev_types && j < fn->mdev_types->len; j++) {
      GvHostMdevType *t = fn->mdev_types->pdata[j];
      found = found || gv_vgpu_type_matches (t->id, t->name, wanted);
      add_type (list, t->id, t->name);
    }
    for (guint j = 0; fn->vendor_vfio && j < fn->vendor_vfio->creatable->len; j++) {
      GvHostVendorType *t = fn->vendor_vfio->creatable->pdata[j];
      g_autofree char *id = g_strdup_printf ("%u", t->id);
      found = found || gv_vgpu_type_matches (id, t->name, wanted);
      add_type (list, id, t->name);
    }
    if (fn->vendor_vfio && fn->vendor_vfio->current_type != 0) {
      g_autofree char *id = g_strdup_printf ("%u", fn->vendor_vfio->current_type);
      const char *name = gv_vgpu_type_names_lookup (names, fn->vendor_vfio->current_type);
      found = found || gv_vgpu_type_matches (id, name ? name : "", wanted);
    }
  }
  if (offered)
    *offered = list->len ? g_string_free (list, FALSE) : (g_string_free (list, TRUE), g_strdup ("none"));
  else
    g_string_free (list, TRUE);
  return found;
}

GvHostMdevType *
gv_vgpu_mdev_type (GvHostDevice *parent, const char *wanted)
{
  for (guint i = 0; parent->fn->mdev_types && i < parent->fn->mdev_types->len; i++) {
    GvHostMdevType *t = parent->fn->mdev_types->pdata[i];
    if (gv_vgpu_type_matches (t->id, t->name, wanted))
      return t;
  }
  return NULL;
}

GvHostMdev *
gv_vgpu_find_mdev (GvHost *host, const char *uuid)
{
  GPtrArray *mdevs = gv_host_get_mdevs (host);

  for (guint i = 0; uuid && i < mdevs->len; i++)
    if (g_ascii_strcasecmp (((GvHostMdev *) mdevs->pdata[i])->uuid, uuid) == 0)
      return mdevs->pdata[i];
  return NULL;
}

/* The one mdev made on PARENT (borrowed); NULL when none or several. */
static GvHostMdev *
only_mdev_of (GvHost *host, GvHostDevice *parent)
{
  GPtrArray *mdevs = gv_host_get_mdevs (host);
  GvHostMdev *found = NULL;

  for (guint i = 0; i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    if (g_strcmp0 (mdev->parent, parent->fn->bdf) != 0)
      continue;
    if (found)
      return NULL;
    found = mdev;
  }
  return found;
}

/* Whether GPU's family still has a vGPU besides EXCEPT_VF / EXCEPT_UUID. */
static gboolean
has_vgpus (GvHost *host, GvHostDevice *gpu, const char *except_vf, const char *except_uuid)
{
  GPtrArray *mdevs = gv_host_get_mdevs (host);
  g_autoptr (GPtrArray) members = family (host, gpu);

  for (guint i = 0; i < members->len; i++) {
    GvHostFunction *fn = ((GvHostDevice *) members->pdata[i])->fn;
    if (fn->vendor_vfio && fn->vendor_vfio->current_type != 0 && g_strcmp0 (fn->bdf, except_vf) != 0)
      return TRUE;
    for (guint j = 0; j < mdevs->len; j++) {
      GvHostMdev *mdev = mdevs->pdata[j];
      if (g_strcmp0 (mdev->parent, fn->bdf) == 0 && g_strcmp0 (mdev->uuid, except_uuid) != 0)
        return TRUE;
    }
  }
  return FALSE;
}

/* ---- who uses it (ROOT/proc, read now: a VM may have just started) ---- */

/* "qemu-system-x86 (pid 4242) through /dev/vfio/57" for each holder of
 * BDF's VFIO nodes that matches NODE_A or NODE_B (NULL: any VFIO node). */
static gboolean
append_vfio_holders (GvHost *host, const char *bdf, const char *node_a, const char *node_b, const char *label,
                     GString *users, GError **error)
{
  g_autoptr (GPtrArray) holders = gv_host_get_holders (host, bdf, error);

  if (!holders)
    return FALSE;
  for (guint i = 0; i < holders->len; i++) {
    GvHostHolder *h = holders->pdata[i];
    if (!g_str_has_prefix (h->node, "/dev/vfio"))
      continue;
    if ((node_a || node_b) && g_strcmp0 (h->node, node_a) != 0 && g_strcmp0 (h->node, node_b) != 0)
      continue;
    g_string_append_printf (users, "%s%s is open by %s (pid %d) through %s", users->len ? "; " : "", label,
                            *h->comm ? h->comm : "?", h->pid, h->node);
  }
  return TRUE;
}

/* Who holds VF's (or MDEV's) VFIO nodes: "" when nobody, NULL on error. */
static char *
vf_holders (GvHost *host, GvHostDevice *vf, GError **error)
{
  g_autoptr (GString) users = g_string_new (NULL);

  if (!append_vfio_holders (host, vf->fn->bdf, vf->vfio_group_node, vf->fn->vfio_cdev_node, vf->fn->bdf, users,
                            error))
    return NULL;
  return g_string_free (g_steal_pointer (&users), FALSE);
}

static char *
mdev_holders (GvHost *host, GvHostMdev *mdev, GError **error)
{
  g_autoptr (GString) users = g_string_new (NULL);
  g_autofree char *label = g_strdup_printf ("mdev %s", mdev->uuid);

  if ((mdev->vfio_group_node || mdev->vfio_cdev_node) &&
      !append_vfio_holders (host, mdev->parent, mdev->vfio_group_node, mdev->vfio_cdev_node, label, users, error))
    return NULL;
  return g_string_free (g_steal_pointer (&users), FALSE);
}

/* What keeps PF's VFs from going: types carried, mdevs hosted, VFIO nodes
 * open, each named; EXCEPT_VF / EXCEPT_UUID (may be NULL) are left out
 * (the vGPU being removed). "" when nothing, NULL on error. */
static char *
vfs_in_use (GvHost *host, GvHostDevice *pf, const char *except_vf, const char *except_uuid, GError **error)
{
  g_autoptr (GString) users = g_string_new (NULL);
  GPtrArray *mdevs = gv_host_get_mdevs (host);

  for (guint i = 0; pf->fn->vfs && pf->fn->vfs[i]; i++) {
    const char *bdf = pf->fn->vfs[i];
    GvHostDevice *vf = gv_host_lookup (host, bdf);

    if (!vf)
      continue;
    if (vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type != 0 && g_strcmp0 (bdf, except_vf) != 0)
      g_string_append_printf (users, "%s%s carries vGPU type %u", users->len ? "; " : "", bdf,
                              vf->fn->vendor_vfio->current_type);
    for (guint j = 0; j < mdevs->len; j++) {
      GvHostMdev *mdev = mdevs->pdata[j];
      if (g_strcmp0 (mdev->parent, bdf) == 0 && g_strcmp0 (mdev->uuid, except_uuid) != 0)
        g_string_append_printf (users, "%s%s hosts mdev %s", users->len ? "; " : "", bdf, mdev->uuid);
    }
    if ((gv_host_driver_is_vfio (vf->fn->driver) || vf->fn->vendor_vfio) &&
        !append_vfio_holders (host, bdf, NULL, NULL, bdf, users, error))
      return NULL;
  }
  return g_string_free (g_steal_pointer (&users), FALSE);
}

/* ---- refusals shared by several calls ---- */

/* NoSuchType naming what is offered, or NoCapacity when the GPU offers
 * nothing because its vGPUs take all of it; TRUE when WANTED is known. */
static gboolean
check_type_known (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *gpu, const char *wanted, GError **error)
{
  g_autofree char *offered = NULL;

  if (type_known (host, names, gpu, wanted, &offered))
    return TRUE;
  if (g_str_equal (offered, "none") && has_vgpus (host, gpu, NULL, NULL))
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                 "%s offers no vGPU type now, so not “%s” either: its vGPUs take all of it; remove one first",
                 gpu->fn->bdf, wanted);
  else
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s offers no vGPU type “%s”; it offers: %s",
                 gpu->fn->bdf, wanted, offered);
  return FALSE;
}

/* A pending GPU shows its types only once its VFs exist: GPUs of its model
 * that show theirs, or the vendor-VFIO types seen on this host, tell
 * before anything is written. NoSuchType when they do and none is WANTED;
 * TRUE when one is, or when no such GPU tells. */
static gboolean
check_type_known_by_model (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *gpu, const char *wanted,
                           GError **error)
{
  GPtrArray *devices = gv_host_get_devices (host);
  g_autofree char *offered = NULL;
  GvHostDevice *witness = NULL;

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *other = devices->pdata[i];
    if (other == gpu || other->role != GV_HOST_ROLE_GPU || other->fn->vendor_id != gpu->fn->vendor_id ||
        other->fn->device_id != gpu->fn->device_id || other->framework == GV_HOST_FRAMEWORK_PENDING ||
        other->framework == GV_HOST_FRAMEWORK_NONE)
      continue;
    g_clear_pointer (&offered, g_free);
    if (type_known (host, names, other, wanted, &offered))
      return TRUE;
    witness = other;
  }
  if (!witness || gv_vgpu_type_names_knows (names, wanted))
    return TRUE;
  if (witness->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO) {
    g_free (offered);
    offered = gv_vgpu_type_names_to_text (names);
  }
  g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE,
               "%s has no vGPU type “%s”: GPUs of its model (%04x:%04x, e.g. %s) offer: %s", gpu->fn->bdf, wanted,
               gpu->fn->vendor_id, gpu->fn->device_id, witness->fn->bdf, offered);
  return FALSE;
}

static gboolean
is_vendor_vf (GvHostDevice *device)
{
  return gv_host_function_is_vf (device->fn) && device->fn->vendor_vfio != NULL;
}

/* NotSupported unless DEVICE is a vendor-VFIO VF (SetType, ReleaseType). */
static gboolean
check_vendor_vf (GvHostDevice *device, GError **error)
{
  if (is_vendor_vf (device))
    return TRUE;
  if (!gv_host_function_is_vf (device->fn))
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s is not a VF: vendor-VFIO types are set on a GPU's VFs (or use CreateVgpu on the GPU)",
                 device->fn->bdf);
  else
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s has no nvidia/current_vgpu_type: its GPU's vGPU framework is %s, not vendor-vfio%s",
                 device->fn->bdf, gv_host_framework_to_string (device->framework),
                 device->framework == GV_HOST_FRAMEWORK_MDEV_VF ? " (use CreateMdev on the VF)" : "");
  return FALSE;
}

/* InvalidArgs unless UUID is "" or canonical. */
static gboolean
check_uuid (const char *uuid, GError **error)
{
  g_autofree char *shown = NULL;

  if (!*uuid || gv_vgpu_uuid_is_valid (uuid))
    return TRUE;
  shown = gv_error_escape (uuid);
  g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
               "“%s” is not a UUID: give one like 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f, or \"\" to have one made",
               shown);
  return FALSE;
}

#define MAX_WANTED_LEN 256

static gboolean
check_wanted (const char *wanted, GError **error)
{
  if (!wanted || !*wanted) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "No vGPU type given: name one by id or by name");
    return FALSE;
  }
  /* no type name holds one; shown as it came, so the mistake is seen */
  if (gv_error_has_control (wanted)) {
    g_autofree char *shown = gv_error_escape (wanted);
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                 "“%s” is not a vGPU type: it holds a control character", shown);
    return FALSE;
  }
  /* nor is one this long (the configuration's limit too); the messages
   * that quote a type it does not know would send it all back */
  if (strlen (wanted) > MAX_WANTED_LEN) {
    g_autofree char *shown = gv_error_escape (wanted);
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a vGPU type: longer than %d bytes", shown,
                 MAX_WANTED_LEN);
    return FALSE;
  }
  return TRUE;
}

/* ---- the calls ---- */

GvVgpuPlan *
gv_vgpu_plan_set_num_vfs (GvHost *host, GvHostDevice *device, guint count, GError **error)
{
  GvHostFunction *fn = device->fn;
  GvVgpuPlan *plan;

  if (!fn->sriov_capable || fn->sriov_totalvfs == 0 || gv_host_function_is_vf (fn)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s does not support SR-IOV (no sriov_totalvfs)", fn->bdf);
    return NULL;
  }
  if (!device->managed) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages", fn->bdf);
    return NULL;
  }
  if (count > fn->sriov_totalvfs) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "%s supports at most %u VFs (TotalVfs), not %u", fn->bdf,
                 fn->sriov_totalvfs, count);
    return NULL;
  }
  plan = plan_new (GV_VGPU_OP_SET_NUM_VFS, device, device);
  plan->count = count;
  plan->busy = family_bdfs (device);
  plan->no_op = count == fn->sriov_numvfs;
  if (!plan->no_op && (!fn->driver || !*fn->driver)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s has no driver: the kernel changes VFs only through the PF's driver", fn->bdf);
    gv_vgpu_plan_free (plan);
    return NULL;
  }
  return plan;
}

GvVgpuPlan *
gv_vgpu_plan_set_type (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *device, const char *wanted,
                       GError **error)
{
  g_autoptr (GvVgpuPlan) plan = NULL;
  GvHostDevice *gpu;
  GvHostVendorVfio *vendor;

  if (!check_wanted (wanted, error) || !check_vendor_vf (device, error))
    return NULL;
  gpu = gv_vgpu_gpu_of (host, device);
  vendor = device->fn->vendor_vfio;
  plan = plan_new (GV_VGPU_OP_SET_TYPE, device, gpu);
  plan->wanted = g_strdup (wanted);
  g_free (plan->type);
  plan->type = g_strdup (wanted);
  plan->busy = strv_of (device->fn->bdf, NULL);
  if (vendor->current_type != 0) {
    const char *name = gv_vgpu_type_names_lookup (names, vendor->current_type);
    g_autofree char *current = g_strdup_printf ("%u", vendor->current_type);
    if (!gv_vgpu_type_matches (current, name ? name : "", wanted)) {
      g_set_error (error, GV_ERROR, GV_ERROR_EXISTS, "%s carries vGPU type %s%s%s%s; release it first",
                   device->fn->bdf, current, name ? " (" : "", name ? name : "", name ? ")" : "");
      return NULL;
    }
    /* the type asked for is there already */
    plan->no_op = TRUE;
    g_free (plan->type);
    plan->type = g_strdup (current);
    plan->type_text = type_text (current, name);
    return g_steal_pointer (&plan);
  }
  if (!check_type_known (host, names, gpu, wanted, error))
    return NULL;
  for (guint i = 0; i < vendor->creatable->len && !plan->type_text; i++) {
    GvHostVendorType *t = vendor->creatable->pdata[i];
    g_autofree char *id = g_strdup_printf ("%u", t->id);
    if (gv_vgpu_type_matches (id, t->name, wanted))
      plan->type_text = type_text (id, t->name);
  }
  if (!plan->type_text) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                 "%s cannot take “%s” now: the types already set on its GPU %s leave no room for it",
                 device->fn->bdf, wanted, gpu->fn->bdf);
    return NULL;
  }
  return g_steal_pointer (&plan);
}

GvVgpuPlan *
gv_vgpu_plan_release_type (GvHost *host, GvHostDevice *device, GError **error)
{
  GvVgpuPlan *plan;

  if (!check_vendor_vf (device, error))
    return NULL;
  plan = plan_new (GV_VGPU_OP_RELEASE_TYPE, device, gv_vgpu_gpu_of (host, device));
  plan->busy = strv_of (device->fn->bdf, NULL);
  plan->no_op = device->fn->vendor_vfio->current_type == 0;
  if (!plan->no_op) {
    g_free (plan->type);
    plan->type = g_strdup_printf ("%u", device->fn->vendor_vfio->current_type);
  }
  return plan;
}

GvVgpuPlan *
gv_vgpu_plan_create_mdev (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *device, const char *wanted,
                          const char *uuid, GError **error)
{
  g_autoptr (GvVgpuPlan) plan = NULL;
  GvHostMdevType *type;

  if (!check_wanted (wanted, error) || !check_uuid (uuid, error))
    return NULL;
  if (!device->fn->mdev_types) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s is not an mdev parent (framework %s)%s",
                 device->fn->bdf, gv_host_framework_to_string (device->framework),
                 device->framework == GV_HOST_FRAMEWORK_MDEV_VF && !gv_host_function_is_vf (device->fn)
                   ? ": its mdevs are made on its VFs; call CreateMdev on a VF, or CreateVgpu on the GPU"
                   : "");
    return NULL;
  }
  plan = plan_new (GV_VGPU_OP_CREATE_MDEV, device, gv_vgpu_gpu_of (host, device));
  /* the kernel names mdevs in lower case */
  g_free (plan->uuid);
  plan->uuid = g_ascii_strdown (uuid, -1);
  plan->busy = strv_of (device->fn->bdf, uuid);
  if (*uuid && gv_vgpu_find_mdev (host, uuid)) {
    g_set_error (error, GV_ERROR, GV_ERROR_EXISTS, "An mdev with UUID %s exists already", uuid);
    return NULL;
  }
  type = gv_vgpu_mdev_type (device, wanted);
  if (!type) {
    g_autofree char *offered = NULL;
    type_known (host, names, device, wanted, &offered);
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s offers no mdev type “%s”; it offers: %s",
                 device->fn->bdf, wanted, offered);
    return NULL;
  }
  if (type->available_instances == 0) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                 "No instance of %s (%s) is left on %s (available_instances is 0)", type->name, type->id,
                 device->fn->bdf);
    return NULL;
  }
  plan->wanted = g_strdup (type->id);
  g_free (plan->type);
  plan->type = g_strdup (type->id);
  plan->type_text = type_text (type->id, type->name);
  return g_steal_pointer (&plan);
}

GvVgpuPlan *
gv_vgpu_plan_remove_mdev (GvHost *host, GvHostMdev *mdev, GError **error)
{
  GvHostDevice *parent = gv_host_lookup (host, mdev->parent);
  GvVgpuPlan *plan;

  if (!parent) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "The parent %s of mdev %s is gone", mdev->parent,
                 mdev->uuid);
    return NULL;
  }
  if (!parent->managed) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_MANAGED, "%s (parent of mdev %s) is outside the classes gpuvirtd "
                 "manages", parent->fn->bdf, mdev->uuid);
    return NULL;
  }
  plan = plan_new (GV_VGPU_OP_REMOVE_MDEV, parent, gv_vgpu_gpu_of (host, parent));
  g_free (plan->uuid);
  plan->uuid = g_strdup (mdev->uuid);
  g_free (plan->type);
  plan->type = g_strdup (mdev->type_id);
  plan->on_mdev = TRUE;
  plan->busy = strv_of (mdev->uuid, parent->fn->bdf);
  return plan;
}

/* GPU's VFs whose vendor-VFIO files the model saw free (no type carried). */
static GStrv
free_vfs (GvHost *host, GvHostDevice *gpu)
{
  GStrvBuilder *free = g_strv_builder_new ();
  GStrv vfs;

  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (host, gpu->fn->vfs[i]);
    if (vf && vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type == 0)
      g_strv_builder_add (free, vf->fn->bdf);
  }
  vfs = g_strv_builder_end (free);
  g_strv_builder_unref (free);
  return vfs;
}

GvVgpuPlan *
gv_vgpu_plan_create_vgpu (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *device, const char *wanted,
                          const char *uuid, guint num_vfs, GError **error)
{
  g_autoptr (GvVgpuPlan) plan = NULL;
  gboolean on_vf = gv_host_function_is_vf (device->fn);
  GvHostDevice *gpu = gv_vgpu_gpu_of (host, device);

  if (!uuid)
    uuid = "";
  if (!check_wanted (wanted, error) || !check_uuid (uuid, error))
    return NULL;
  if (device->framework == GV_HOST_FRAMEWORK_NONE) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s has no vGPU framework: no mdev types, no nvidia/ vGPU files on its VFs%s", device->fn->bdf,
                 g_strcmp0 (gpu->fn->driver, "nvidia") != 0 ? " (it is not on the nvidia driver)"
                                                            : " (is the NVIDIA vGPU manager installed?)");
    return NULL;
  }
  if (*uuid && device->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                 "The uuid option applies to mdev vGPUs; %s uses the vendor-specific VFIO framework", gpu->fn->bdf);
    return NULL;
  }
  if (num_vfs > gpu->fn->sriov_totalvfs || (num_vfs && on_vf)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "num-vfs %u: %s", num_vfs,
                 on_vf ? "VFs are enabled on the GPU, not on a VF" : "more than the GPU's TotalVfs");
    return NULL;
  }
  plan = plan_new (GV_VGPU_OP_CREATE_VGPU, device, gpu);
  plan->wanted = g_strdup (wanted);
  g_free (plan->type);
  plan->type = g_strdup (wanted);
  g_free (plan->uuid);
  plan->uuid = g_ascii_strdown (uuid, -1);
  plan->count = num_vfs;
  plan->busy = on_vf ? strv_of (device->fn->bdf, NULL) : family_bdfs (gpu);
  plan->enables_vfs = !on_vf && device->framework != GV_HOST_FRAMEWORK_MDEV_PF && gpu->fn->sriov_numvfs == 0;
  plan->vfs_enabled = plan->enables_vfs ? (num_vfs ? num_vfs : gpu->fn->sriov_totalvfs) : 0;
  plan->free_first = on_vf ? NULL : free_vfs (host, gpu);
  if (*uuid && gv_vgpu_find_mdev (host, uuid)) {
    g_set_error (error, GV_ERROR, GV_ERROR_EXISTS, "An mdev with UUID %s exists already", uuid);
    return NULL;
  }
  if (device->framework != GV_HOST_FRAMEWORK_PENDING ? !check_type_known (host, names, gpu, wanted, error)
                                                     : !check_type_known_by_model (host, names, gpu, wanted, error))
    return NULL;
  return g_steal_pointer (&plan);
}

GvVgpuPlan *
gv_vgpu_plan_create_vgpus (GvHost *host, GvVgpuTypeNames *names, GvHostDevice *device, const char *wanted,
                           guint count, guint num_vfs, GError **error)
{
  g_autoptr (GvVgpuPlan) plan = NULL;
  GvHostDevice *gpu;
  guint id, room = G_MAXUINT;

  if (count == 0 || count > GV_VGPU_BATCH_MAX) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "count %u: from 1 to %u vGPUs at once", count,
                 GV_VGPU_BATCH_MAX);
    return NULL;
  }
  plan = gv_vgpu_plan_create_vgpu (host, names, device, wanted, "", num_vfs, error);
  if (!plan)
    return NULL;
  plan->batch = count;
  gpu = gv_vgpu_gpu_of (host, device);
  /* what the model says fits, so that a batch too big writes nothing */
  if (gv_host_function_is_vf (device->fn))
    room = 1;
  else if (plan->enables_vfs)
    room = plan->vfs_enabled;
  else if (device->framework == GV_HOST_FRAMEWORK_VENDOR_VFIO &&
           (id = gv_vgpu_type_names_resolve (names, wanted)) != 0)
    room = gv_vgpu_vendor_capacity (host, names, gpu, id).fits;
  if (count > room) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY, "%s has room for %u more vGPUs of type “%s”%s, not %u",
                 device->fn->bdf, room, wanted, plan->enables_vfs ? " (one per VF it enables)" : "", count);
    return NULL;
  }
  return g_steal_pointer (&plan);
}

GvVgpuPlan *
gv_vgpu_plan_remove_vgpu (GvHost *host, GvHostDevice *device, const char *object, const char *uuid,
                          const char *vf_bdf, gboolean disable_vfs, GError **error)
{
  g_autoptr (GvVgpuPlan) plan = NULL;
  GvHostDevice *gpu = gv_vgpu_gpu_of (host, device);
  GvHostDevice *target;
  GvHostMdev *mdev = NULL;

  if (uuid) {
    mdev = gv_vgpu_find_mdev (host, uuid);
    if (!mdev) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "%s does not exist", object);
      return NULL;
    }
    target = gv_host_lookup (host, mdev->parent);
    if (!target) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "The parent %s of mdev %s is gone", mdev->parent,
                   mdev->uuid);
      return NULL;
    }
  } else {
    target = gv_host_lookup (host, vf_bdf);
    if (!target) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "%s does not exist", object);
      return NULL;
    }
    mdev = target->framework == GV_HOST_FRAMEWORK_MDEV_VF ? only_mdev_of (host, target) : NULL;
  }
  if (mdev) {
    if (target != device && gv_vgpu_gpu_of (host, target) != device) {
      g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "mdev %s is made on %s, not on %s or its VFs",
                   mdev->uuid, mdev->parent, device->fn->bdf);
      return NULL;
    }
  } else if (!is_vendor_vf (target) || target->fn->vendor_vfio->current_type == 0 ||
             (target != device && g_strcmp0 (target->fn->physfn, device->fn->bdf) != 0)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "%s is not a vGPU of %s: %s", vf_bdf, device->fn->bdf,
                 !is_vendor_vf (target) ? "neither a vendor-VFIO VF nor a VF hosting one mdev"
                 : target->fn->vendor_vfio->current_type == 0 ? "it carries no vGPU type"
                                                              : "it is another GPU's VF");
    return NULL;
  }
  if (!target->managed) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_MANAGED, "%s is outside the classes gpuvirtd manages",
                 target->fn->bdf);
    return NULL;
  }
  plan = plan_new (GV_VGPU_OP_REMOVE_VGPU, target, gpu);
  g_free (plan->type);
  plan->type = mdev ? g_strdup (mdev->type_id) : g_strdup_printf ("%u", target->fn->vendor_vfio->current_type);
  g_free (plan->uuid);
  plan->uuid = g_strdup (mdev ? mdev->uuid : "");
  plan->on_mdev = mdev != NULL;
  plan->disable_vfs = disable_vfs && gpu->fn->sriov_numvfs > 0 &&
                      !has_vgpus (host, gpu, mdev ? NULL : target->fn->bdf, mdev ? mdev->uuid : NULL);
  plan->busy = plan->disable_vfs ? family_bdfs (gpu) : strv_of (target->fn->bdf, NULL);
  if (mdev) {
    guint n = g_strv_length (plan->busy);
    plan->busy = g_renew (char *, plan->busy, n + 2);
    plan->busy[n] = g_strdup (mdev->uuid);
    plan->busy[n + 1] = NULL;
  }
  return g_steal_pointer (&plan);
}

/* ---- users ---- */

static gboolean
check_vf_users (GvHost *host, GvHostDevice *vf, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *users = vf_holders (host, vf, &local);

  if (!users)
    g_set_error (error, GV_ERROR, GV_ERROR_FAILED, "Could not find who holds %s: %s", vf->fn->bdf, local->message);
  else if (*users)
    g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "The vGPU of %s is in use: %s; stop the virtual machine first",
                 vf->fn->bdf, users);
  return users && !*users;
}

static gboolean
check_mdev_users (GvHost *host, GvHostMdev *mdev, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *users = mdev_holders (host, mdev, &local);

  if (!users)
    g_set_error (error, GV_ERROR, GV_ERROR_FAILED, "Could not find who holds mdev %s: %s", mdev->uuid,
                 local->message);
  else if (*users)
    g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "The mdev is in use: %s; stop the virtual machine first", users);
  return users && !*users;
}

/* VERB: "go" (SetNumVfs) or "be disabled" (RemoveVgpu). */
static gboolean
check_vfs_users (GvHost *host, GvHostDevice *pf, const char *except_vf, const char *except_uuid, const char *verb,
                 GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *users = vfs_in_use (host, pf, except_vf, except_uuid, &local);

  if (!users)
    g_set_error (error, GV_ERROR, GV_ERROR_FAILED, "Could not find who uses the VFs of %s: %s", pf->fn->bdf,
                 local->message);
  else if (*users)
    g_set_error (error, GV_ERROR, GV_ERROR_IN_USE, "The VFs of %s cannot %s while in use: %s", pf->fn->bdf, verb,
                 users);
  return users && !*users;
}

gboolean
gv_vgpu_plan_check_users (GvHost *host, const GvVgpuPlan *plan, GError **error)
{
  GvHostDevice *function = gv_host_lookup (host, plan->function);
  GvHostDevice *gpu = gv_host_lookup (host, plan->gpu);
  GvHostMdev *mdev = plan->on_mdev ? gv_vgpu_find_mdev (host, plan->uuid) : NULL;

  if (plan->no_op || !function || !gpu)
    return TRUE;
  switch (plan->kind) {
  case GV_VGPU_OP_SET_NUM_VFS:
    /* every VF goes, at least for a moment */
    return gpu->fn->sriov_numvfs == 0 || check_vfs_users (host, gpu, NULL, NULL, "go", error);
  case GV_VGPU_OP_RELEASE_TYPE:
    return check_vf_users (host, function, error);
  case GV_VGPU_OP_REMOVE_MDEV:
    return !mdev || check_mdev_users (host, mdev, error);
  case GV_VGPU_OP_REMOVE_VGPU:
    if (mdev ? !check_mdev_users (host, mdev, error) : !check_vf_users (host, function, error))
      return FALSE;
    return !plan->disable_vfs || check_vfs_users (host, gpu, mdev ? NULL : function->fn->bdf,
                                                  mdev ? mdev->uuid : NULL, "be disabled", error);
  case GV_VGPU_OP_SET_TYPE:
  case GV_VGPU_OP_CREATE_MDEV:
  case GV_VGPU_OP_CREATE_VGPU:
  default:
    return TRUE;
  }
}
