/* "Give me one vGPU of type T" on a GPU: an mdev on the PF (mdev-pf), or
 * the first free VF that can take T now (mdev-vf, vendor-vfio), enabling
 * the VFs first when there are none. Whatever this call enabled is
 * disabled again when it fails. */
#include "vgpu/internal.h"
#include "sysfs/read.h"

#include <errno.h>
#include <string.h>

void
gv_vgpu_result_free (GvVgpuResult *result)
{
  if (!result)
    return;
  g_free (result->address);
  g_free (result->type_id);
  g_free (result->type_name);
  g_free (result->mdev_uuid);
  g_strfreev (result->vfs);
  g_free (result);
}

GvVgpuResult *
gv_vgpu_result_copy (const GvVgpuResult *result)
{
  GvVgpuResult *copy = g_new0 (GvVgpuResult, 1);

  *copy = *result;
  copy->address = g_strdup (result->address);
  copy->type_id = g_strdup (result->type_id);
  copy->type_name = g_strdup (result->type_name);
  copy->mdev_uuid = g_strdup (result->mdev_uuid);
  copy->vfs = g_strdupv (result->vfs);
  return copy;
}

/* What the VFs said when none could take the type. */
typedef struct {
  guint candidates;
  guint no_files;     /* no nvidia/ or mdev_supported_types */
  guint taken;        /* vendor: carries a type; mdev: hosts an mdev */
  guint offer_other;  /* vendor: its list lacks the type but has others; mdev: type not listed */
  guint offer_none;   /* vendor: its list is empty */
  guint no_room;      /* mdev: available_instances 0 */
  guint raced;        /* the write failed with EINVAL, EBUSY or EUSERS: room taken meanwhile */
  char *raced_text;   /* the last such failure */
} Tally;

static void
tally_clear (Tally *t)
{
  g_free (t->raced_text);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Tally, tally_clear)

static void
tally_raced (Tally *t, GError *error)
{
  t->raced++;
  g_free (t->raced_text);
  t->raced_text = g_strdup (error->message);
}

/* Appends "3 offer nothing" (after ", " when TEXT is not empty); nothing for 0. */
static void
tally_part (GString *text, guint n, const char *one, const char *many)
{
  if (n == 0)
    return;
  g_string_append_printf (text, "%s%u %s", text->len ? ", " : "", n, n == 1 ? one : many);
}

/* Appends how many lost their room to a sibling meanwhile, and the last
 * such failure. */
static void
tally_raced_part (GString *text, const Tally *t)
{
  tally_part (text, t->raced, "was taken meanwhile", "were taken meanwhile");
  if (t->raced_text)
    g_string_append_printf (text, " (last: %s)", t->raced_text);
}

/* When no candidate showed the framework's files at all (LACKING says
 * which), the GPU or its driver does not do FRAMEWORK: refused as
 * NotSupported rather than reported as full. */
static gboolean
refuse_if_none_has_files (const Tally *t, const char *pf, const char *lacking, const char *framework, GError **error)
{
  if (t->candidates == 0 || t->no_files != t->candidates)
    return FALSE;
  g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
               "No VF of %s %s (%u looked at): they are not on the nvidia driver, or the GPU does not do %s", pf,
               lacking, t->candidates, framework);
  return TRUE;
}

/* What the kernel answers a write that lost the room to a sibling: the
 * vendor driver EINVAL (no longer creatable) or EBUSY, mdev EUSERS. */
static gboolean
is_race (int err)
{
  return err == EINVAL || err == EBUSY || err == EUSERS;
}

/* How many of VFS have an nvidia/ directory, how many mdev_supported_types. */
static void
count_files (const char *root, const char *const *vfs, guint *vendor, guint *mdev)
{
  *vendor = *mdev = 0;
  for (guint i = 0; vfs[i]; i++) {
    g_autofree char *dir = gv_vgpu_function_dir (root, vfs[i]);
    if (gv_sysfs_dir_exists (dir, "nvidia"))
      (*vendor)++;
    if (gv_sysfs_dir_exists (dir, "mdev_supported_types"))
      (*mdev)++;
  }
}

/* Decides the framework by what the VFs show; with WAIT, waits
 * (appear_ms) for every VF to show it. NONE when no VF shows anything. */
static GvHostFramework
vf_framework (const GvVgpuContext *ctx, const char *const *vfs, GvHostFramework framework, gboolean wait)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) gv_vgpu_appear_ms (ctx) * 1000;
  guint n = g_strv_length ((GStrv) vfs);
  guint vendor, mdev;

  /* VFs that were there before the call, of a known framework: the
   * candidates' own reads say whether each shows its files */
  if (!wait && framework != GV_HOST_FRAMEWORK_PENDING)
    return framework;
  for (;;) {
    guint have;
    count_files (ctx->root, vfs, &vendor, &mdev);
    have = framework == GV_HOST_FRAMEWORK_VENDOR_VFIO ? vendor
           : framework == GV_HOST_FRAMEWORK_MDEV_VF   ? mdev
                                                      : MAX (vendor, mdev);
    if (have >= n || !wait || !gv_vgpu_sleep_until (deadline, GV_VGPU_POLL_MS))
      break;
  }
  if (framework == GV_HOST_FRAMEWORK_VENDOR_VFIO)
    return vendor ? framework : GV_HOST_FRAMEWORK_NONE;
  if (framework == GV_HOST_FRAMEWORK_MDEV_VF)
    return mdev ? framework : GV_HOST_FRAMEWORK_NONE;
  return vendor >= mdev && vendor ? GV_HOST_FRAMEWORK_VENDOR_VFIO
         : mdev                   ? GV_HOST_FRAMEWORK_MDEV_VF
                                  : GV_HOST_FRAMEWORK_NONE;
}

/* ---- vendor-specific VFIO ---- */

static gboolean
create_vendor (const GvVgpuContext *ctx, const char *pf, const char *const *candidates, const char *wanted,
               GvVgpuResult *result, GError **error)
{
  g_auto (Tally) t = { 0 };
  g_autoptr (GPtrArray) survey = NULL;
  g_autoptr (GPtrArray) offered = NULL;
  g_autofree char *name = NULL;
  g_autofree char *carried = NULL;
  g_autofree char *list = NULL;
  GString *why;
  GvVgpuStanding standing;
  guint id = 0;

  for (guint i = 0; candidates[i]; i++) {
    g_autofree char *dir = gv_vgpu_function_dir (ctx->root, candidates[i]);
    g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);
    g_autoptr (GError) local = NULL;
    const GvHostVendorType *type;
    int err = 0;

    t.candidates++;
    gv_vgpu_note_types (ctx, vendor);
    if (!vendor || !vendor->current_known) {
      t.no_files++;
      continue;
    }
    if (vendor->current_type != 0) {
      t.taken++;
      continue;
    }
    type = gv_vgpu_vendor_find (vendor->creatable, wanted);
    if (!type) {
      if (vendor->creatable->len)
        t.offer_other++;
      else
        t.offer_none++;
      continue;
    }
    if (gv_vgpu_vendor_apply (ctx, candidates[i], type, &err, &local)) {
      result->framework = GV_HOST_FRAMEWORK_VENDOR_VFIO;
      result->address = g_strdup (candidates[i]);
      result->type_id = g_strdup_printf ("%u", type->id);
      result->type_name = g_strdup (type->name);
      return TRUE;
    }
    /* a sibling took the room between our read and our write: next one */
    if (local->code == GV_ERROR_KERNEL && is_race (err)) {
      tally_raced (&t, local);
      continue;
    }
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }

  if (refuse_if_none_has_files (&t, pf, "shows an nvidia/ directory", "vendor-specific VFIO", error))
    return FALSE;

  /* why not: the GPU's VFs as a whole */
  survey = gv_vgpu_vendor_survey (ctx->root, pf);
  standing = gv_vgpu_vendor_standing (survey, wanted, &id, &name);
  carried = gv_vgpu_vendor_carried_text (survey);
  if (t.raced == 0 && standing == GV_VGPU_TYPE_UNKNOWN) {
    offered = g_ptr_array_new ();
    for (guint i = 0; i < survey->len; i++) {
      GvVgpuVendorVf *vf = survey->pdata[i];
      for (guint j = 0; vf->vendor && j < vf->vendor->creatable->len; j++) {
        GvHostVendorType *type = vf->vendor->creatable->pdata[j];
        gboolean seen = FALSE;
        for (guint k = 0; k < offered->len && !seen; k++)
          seen = ((GvHostVendorType *) offered->pdata[k])->id == type->id;
        if (!seen)
          g_ptr_array_add (offered, type);
      }
    }
    list = gv_vgpu_vendor_list_text (offered);
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE,
                 "No VF of %s offers a vGPU type “%s”; offered now: %s%s%s", pf, wanted, list, *carried ? "; " : "",
                 carried);
    return FALSE;
  }

  why = g_string_new (NULL);
  if (!*carried)
    tally_part (why, t.taken, "VF carries a vGPU type", "VFs carry vGPU types");
  tally_part (why, t.offer_other, "offers only other types", "offer only other types");
  tally_part (why, t.offer_none, "offers nothing", "offer nothing");
  tally_part (why, t.no_files, "shows no nvidia/ directory", "show no nvidia/ directory");
  tally_raced_part (why, &t);
  if (*carried)
    g_string_prepend (why, why->len ? "; of the other VFs, " : "");
  g_string_prepend (why, carried);
  if (standing == GV_VGPU_TYPE_FULL)
    g_string_append (why, "; the GPU is full: no VF offers any type now");
  else if (standing == GV_VGPU_TYPE_MAYBE)
    g_string_append_printf (why, "; no list shows “%s”, and the types the VFs carry may include it", wanted);
  if (candidates[0] && !candidates[1])
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY, "%s cannot create %s%s%s now: %s%s%s%s%s%s",
                 candidates[0], name ? "" : "“", name ? name : wanted, name ? "" : "”",
                 t.taken ? "it carries a vGPU type already"
                 : t.offer_other ? "its list offers only other types"
                 : t.offer_none ? "its list offers nothing"
                 : t.no_files ? "it shows no nvidia/ directory"
                              : "its room was taken meanwhile",
                 t.raced_text ? " (" : "", t.raced_text ? t.raced_text : "", t.raced_text ? ")" : "",
                 *carried ? "; on its GPU, " : "", carried);
  else
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY, "No free VF of %s can create %s%s%s now: %s", pf,
                 name ? "" : "“", name ? name : wanted, name ? "" : "”", why->str);
  g_string_free (why, TRUE);
  return FALSE;
}

/* ---- mdev on VFs ---- */

static gboolean
create_mdev_vf (const GvVgpuContext *ctx, const char *pf, const char *const *candidates, const char *wanted,
                const char *uuid, GvVgpuResult *result, GError **error)
{
  g_auto (Tally) t = { 0 };
  g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (ctx->root);
  g_autoptr (GPtrArray) some_types = NULL;
  g_autofree char *known = NULL;
  GString *why;

  for (guint i = 0; candidates[i]; i++) {
    g_autofree char *dir = gv_vgpu_function_dir (ctx->root, candidates[i]);
    g_autoptr (GPtrArray) types = NULL;
    g_autoptr (GError) local = NULL;
    const GvHostMdevType *type;
    int err = 0;

    t.candidates++;
    /* one vGPU per VF: a VF hosting an mdev is not looked into */
    if (gv_vgpu_mdev_parent_busy (mdevs, candidates[i], NULL)) {
      t.taken++;
      continue;
    }
    types = gv_host_mdev_types_read (dir);
    if (!types) {
      t.no_files++;
      continue;
    }
    type = gv_vgpu_mdev_find (types, wanted);
    if (!type) {
      t.offer_other++;
      if (!some_types)
        some_types = g_steal_pointer (&types);
      continue;
    }
    if (!known)
      known = g_strdup_printf ("%s%s%s", type->id, *type->name ? " " : "", type->name);
    if (type->available_instances == 0) {
      t.no_room++;
      continue;
    }
    if (gv_vgpu_mdev_apply (ctx, candidates[i], type, uuid, &err, &local)) {
      result->framework = GV_HOST_FRAMEWORK_MDEV_VF;
      result->address = g_strdup (candidates[i]);
      result->type_id = g_strdup (type->id);
      result->type_name = g_strdup (type->name);
      result->mdev_uuid = g_strdup (uuid);
      return TRUE;
    }
    if ((local->code == GV_ERROR_KERNEL || local->code == GV_ERROR_NO_CAPACITY) && is_race (err)) {
      tally_raced (&t, local);
      continue;
    }
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }

  if (refuse_if_none_has_files (&t, pf, "is an mdev parent", "mdev on VFs", error))
    return FALSE;
  if (!known) {
    /* every parent lists all its types, available or not */
    const GvHostMdevType *type;
    for (guint i = 0; candidates[i] && !some_types; i++) {
      g_autofree char *dir = gv_vgpu_function_dir (ctx->root, candidates[i]);
      some_types = gv_host_mdev_types_read (dir);
    }
    type = gv_vgpu_mdev_find (some_types, wanted);
    if (!type) {
      g_autofree char *list = gv_vgpu_mdev_list_text (some_types);
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "The VFs of %s have no mdev type “%s”; their "
                   "types: %s", pf, wanted, list);
      return FALSE;
    }
    known = g_strdup_printf ("%s%s%s", type->id, *type->name ? " " : "", type->name);
  }

  why = g_string_new (NULL);
  tally_part (why, t.taken, "VF hosts an mdev (one vGPU per VF)", "VFs host an mdev (one vGPU per VF)");
  tally_part (why, t.no_room, "has available_instances 0 for it", "have available_instances 0 for it");
  tally_part (why, t.offer_other, "does not list it", "do not list it");
  tally_part (why, t.no_files, "is no mdev parent", "are no mdev parents");
  tally_raced_part (why, &t);
  if (candidates[0] && !candidates[1])
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY, "%s cannot create an mdev of %s now: %s%s%s%s",
                 candidates[0], known ? known : wanted,
                 t.taken ? "it hosts an mdev already (one vGPU per VF)"
                 : t.no_room ? "its available_instances for it is 0"
                 : t.offer_other ? "it does not list it"
                 : t.no_files ? "it is no mdev parent"
                              : "its room was taken meanwhile",
                 t.raced_text ? " (" : "", t.raced_text ? t.raced_text : "", t.raced_text ? ")" : "");
  else
    g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY, "No free VF of %s can create an mdev of %s now: %s",
                 pf, known ? known : wanted, why->str);
  g_string_free (why, TRUE);
  return FALSE;
}

/* ---- the request ---- */

static gboolean
create_mdev_pf (const GvVgpuContext *ctx, const GvVgpuRequest *request, GvVgpuResult *result, GError **error)
{
  g_autofree char *uuid = NULL;
  g_autofree char *type_id = NULL;
  g_autofree char *pf = gv_host_read_physfn (ctx->root, request->function);

  if (!gv_vgpu_create_mdev (ctx, request->function, request->wanted, request->uuid, &uuid, &type_id, error))
    return FALSE;
  result->framework = GV_HOST_FRAMEWORK_MDEV_PF;
  result->address = g_strdup (request->function);
  {
    g_autofree char *dir = gv_vgpu_function_dir (ctx->root, request->function);
    g_autofree char *type_dir = g_build_filename (dir, "mdev_supported_types", type_id, NULL);
    result->type_name = gv_sysfs_read_attr (type_dir, "name");
  }
  if (!result->type_name)
    result->type_name = g_strdup ("");
  result->type_id = g_steal_pointer (&type_id);
  result->mdev_uuid = g_steal_pointer (&uuid);
  result->vfs = gv_host_read_vfs (ctx->root, pf ? pf : request->function);
  return TRUE;
}

/* VFS with those of FREE_FIRST (the host model's guess of the VFs that
 * carry nothing, may be NULL) first, each still read before it is used:
 * on a GPU half full, the first read finds room. */
static const char **
order_candidates (GStrv vfs, const char *const *free_first)
{
  guint n = g_strv_length (vfs), k = 0;
  const char **ordered = g_new0 (const char *, n + 1);
  g_autofree gboolean *taken = g_new0 (gboolean, n);

  for (guint i = 0; free_first && free_first[i]; i++)
    for (guint j = 0; j < n; j++)
      if (!taken[j] && g_str_equal (vfs[j], free_first[i])) {
        ordered[k++] = vfs[j];
        taken[j] = TRUE;
        break;
      }
  for (guint j = 0; j < n; j++)
    if (!taken[j])
      ordered[k++] = vfs[j];
  return ordered;
}

static gboolean
create_on_vfs (const GvVgpuContext *ctx, const GvVgpuRequest *request, GvVgpuResult *result, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *physfn = gv_host_read_physfn (ctx->root, request->function);
  g_autofree char *uuid = NULL;
  g_auto (GStrv) vfs = NULL;
  const char *pf = physfn ? physfn : request->function;
  const char *only[] = { request->function, NULL };
  const char *const *candidates;
  g_autofree const char **ordered = NULL;
  GvHostFramework framework;
  gboolean enabled = FALSE;
  gboolean ok = FALSE;

  /* a taken UUID fails before anything is changed */
  if (request->framework != GV_HOST_FRAMEWORK_VENDOR_VFIO) {
    uuid = request->uuid && *request->uuid ? g_ascii_strdown (request->uuid, -1) : gv_vgpu_uuid_generate ();
    {
      g_autofree char *dir = gv_vgpu_mdev_dir (ctx->root, uuid);
      if (g_file_test (dir, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, GV_ERROR, GV_ERROR_EXISTS, "mdev %s exists already; choose another UUID", uuid);
        return FALSE;
      }
    }
  }

  vfs = gv_host_read_vfs (ctx->root, pf);
  if (!vfs[0] && !physfn) {
    g_autofree char *dir = gv_vgpu_function_dir (ctx->root, pf);
    guint64 total = 0;
    guint count;

    if (!gv_sysfs_read_uint (dir, "sriov_totalvfs", FALSE, &total) || total == 0) {
      g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                   "%s has no VFs and does not support SR-IOV (no sriov_totalvfs), yet its vGPU framework is %s", pf,
                   gv_host_framework_to_string (request->framework));
      return FALSE;
    }
    count = request->num_vfs ? request->num_vfs : (guint) total;
    g_clear_pointer (&vfs, g_strfreev);
    if (!gv_vgpu_set_num_vfs (ctx, pf, count, &vfs, &local)) {
      gv_vgpu_error_append (local, "; no vGPU was made");
      if (local->code == GV_ERROR_PENDING) {
        /* the vGPU will not come of it: the call failed, whatever the write does */
        local->code = GV_ERROR_STUCK;
        gv_vgpu_error_append (local, "; the VFs it enables are disabled again when it returns");
      }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    enabled = TRUE;
  }

  framework = vf_framework (ctx, (const char *const *) vfs, request->framework, enabled);
  if (physfn)
    candidates = only;
  else
    candidates = (const char *const *) (ordered = order_candidates (vfs, request->free_first));
  if (framework == GV_HOST_FRAMEWORK_NONE)
    g_set_error (&local, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "None of the %u VFs of %s shows %s%s: the vGPU manager is not loaded, or the VFs are not on the "
                 "nvidia driver", g_strv_length (vfs), pf,
                 request->framework == GV_HOST_FRAMEWORK_MDEV_VF ? "mdev_supported_types" : "an nvidia/ directory",
                 request->framework == GV_HOST_FRAMEWORK_PENDING ? " or mdev_supported_types" : "");
  else if (framework == GV_HOST_FRAMEWORK_VENDOR_VFIO)
    ok = create_vendor (ctx, pf, candidates, request->wanted, result, &local);
  else
    ok = create_mdev_vf (ctx, pf, candidates, request->wanted, uuid, result, &local);

  if (ok) {
    result->enabled_vfs = enabled;
    /* the VFs enabled (and waited for) above, or those that were there */
    result->vfs = g_strdupv (vfs);
    return TRUE;
  }

  if (enabled && local->code == GV_ERROR_STUCK) {
    gv_vgpu_error_append (local, "; the %u VFs this call enabled on %s stay enabled until that write returns, and are "
                          "disabled again then", g_strv_length (vfs), pf);
  } else if (enabled) {
    g_autoptr (GError) undo = NULL;
    if (gv_vgpu_set_num_vfs (ctx, pf, 0, NULL, &undo))
      gv_vgpu_error_append (local, "; the %u VFs this call enabled on %s were disabled again", g_strv_length (vfs), pf);
    else
      gv_vgpu_error_append (local, "; disabling the VFs this call enabled failed: %s; to disable them: echo 0 > "
                       "%s/sys/bus/pci/devices/%s/sriov_numvfs", undo->message, ctx->root, pf);
  }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

gboolean
gv_vgpu_create (const GvVgpuContext *ctx, const GvVgpuRequest *request, GvVgpuResult **result, GError **error)
{
  g_autoptr (GvVgpuResult) made = NULL;
  gboolean ok;

  *result = NULL;
  if (!gv_vgpu_check_root (ctx, error) || !gv_vgpu_check_function (ctx, request->function, "GPU or VF", NULL, error))
    return FALSE;
  if (!request->wanted || !*request->wanted) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "No vGPU type given (an id or a name)");
    return FALSE;
  }
  if (request->uuid && *request->uuid && !gv_vgpu_uuid_is_valid (request->uuid)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a UUID (8-4-4-4-12 hex digits)",
                 request->uuid);
    return FALSE;
  }

  made = g_new0 (GvVgpuResult, 1);
  switch (request->framework) {
  case GV_HOST_FRAMEWORK_MDEV_PF:
    ok = create_mdev_pf (ctx, request, made, error);
    break;
  case GV_HOST_FRAMEWORK_PENDING:
  case GV_HOST_FRAMEWORK_MDEV_VF:
  case GV_HOST_FRAMEWORK_VENDOR_VFIO:
    ok = create_on_vfs (ctx, request, made, error);
    break;
  case GV_HOST_FRAMEWORK_NONE:
  default:
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s makes no vGPUs: it has no mdev types, no vendor-specific VFIO and no SR-IOV on the nvidia driver",
                 request->function);
    return FALSE;
  }
  if (!ok)
    return FALSE;
  if (!made->vfs)
    made->vfs = g_new0 (char *, 1);
  *result = g_steal_pointer (&made);
  return TRUE;
}
