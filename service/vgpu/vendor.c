/* NVIDIA's vendor-specific VFIO framework (Ada, Hopper and newer): a VF
 * gets a vGPU type by writing its id to nvidia/current_vgpu_type, and is
 * freed by writing 0. The creatable list shrinks as sibling VFs take
 * room on the GPU, so it is read just before each write; the current
 * type is read back after it. */
#include "vgpu/internal.h"
#include "sysfs/read.h"
#include "sysfs/write.h"

#include <errno.h>
#include <string.h>

void
gv_vgpu_vendor_vf_free (GvVgpuVendorVf *vf)
{
  if (!vf)
    return;
  g_free (vf->bdf);
  gv_host_vendor_vfio_free (vf->vendor);
  g_free (vf);
}

GPtrArray *
gv_vgpu_vendor_survey (const char *root, const char *pf)
{
  g_auto (GStrv) vfs = gv_host_read_vfs (root, pf);
  GPtrArray *survey = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_vgpu_vendor_vf_free);

  for (guint i = 0; vfs[i]; i++) {
    g_autofree char *dir = gv_vgpu_function_dir (root, vfs[i]);
    GvVgpuVendorVf *vf = g_new0 (GvVgpuVendorVf, 1);
    vf->bdf = g_strdup (vfs[i]);
    vf->vendor = gv_host_vendor_vfio_read (dir);
    g_ptr_array_add (survey, vf);
  }
  return survey;
}

const GvHostVendorType *
gv_vgpu_vendor_find (GPtrArray *creatable, const char *wanted)
{
  for (guint i = 0; creatable && i < creatable->len; i++) {
    const GvHostVendorType *type = creatable->pdata[i];
    g_autofree char *id = g_strdup_printf ("%u", type->id);
    if (gv_vgpu_type_matches (id, type->name, wanted))
      return type;
  }
  return NULL;
}

char *
gv_vgpu_vendor_list_text (GPtrArray *creatable)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; creatable && i < creatable->len; i++) {
    const GvHostVendorType *type = creatable->pdata[i];
    g_string_append_printf (text, "%s%u %s", i ? ", " : "", type->id, type->name);
  }
  if (text->len == 0)
    g_string_append (text, "none");
  return g_string_free (text, FALSE);
}

const char *
gv_vgpu_vendor_type_name (GPtrArray *survey, guint id)
{
  for (guint i = 0; survey && i < survey->len; i++) {
    GvVgpuVendorVf *vf = survey->pdata[i];
    for (guint j = 0; vf->vendor && j < vf->vendor->creatable->len; j++) {
      const GvHostVendorType *type = vf->vendor->creatable->pdata[j];
      if (type->id == id)
        return type->name;
    }
  }
  return NULL;
}

static gboolean
is_number (const char *text)
{
  if (!text || !*text)
    return FALSE;
  for (; *text; text++)
    if (!g_ascii_isdigit (*text))
      return FALSE;
  return TRUE;
}

GvVgpuStanding
gv_vgpu_vendor_standing (GPtrArray *survey, const char *wanted, guint *id, char **name)
{
  gboolean unnamed = FALSE, offering = FALSE, carrying = FALSE;

  if (name)
    *name = NULL;
  for (guint i = 0; survey && i < survey->len; i++) {
    GvVgpuVendorVf *vf = survey->pdata[i];
    const GvHostVendorType *type = vf->vendor ? gv_vgpu_vendor_find (vf->vendor->creatable, wanted) : NULL;
    if (type) {
      if (id)
        *id = type->id;
      if (name)
        *name = g_strdup (type->name);
      return GV_VGPU_TYPE_OFFERED;
    }
  }
  for (guint i = 0; survey && i < survey->len; i++) {
    GvVgpuVendorVf *vf = survey->pdata[i];
    g_autofree char *cur = NULL;
    const char *cur_name;

    if (vf->vendor && vf->vendor->creatable->len > 0)
      offering = TRUE;
    if (!vf->vendor || vf->vendor->current_type == 0)
      continue;
    carrying = TRUE;
    cur = g_strdup_printf ("%u", vf->vendor->current_type);
    cur_name = gv_vgpu_vendor_type_name (survey, vf->vendor->current_type);
    if (gv_vgpu_type_matches (cur, cur_name, wanted)) {
      if (id)
        *id = vf->vendor->current_type;
      if (name)
        *name = g_strdup (cur_name);
      return GV_VGPU_TYPE_CARRIED;
    }
    if (!cur_name)
      unnamed = TRUE;
  }
  /* A type shows only on lists, and a full GPU lists nothing: whether
   * WANTED is one of its types cannot be told then. */
  if (carrying && !offering)
    return GV_VGPU_TYPE_FULL;
  return unnamed && !is_number (wanted) ? GV_VGPU_TYPE_MAYBE : GV_VGPU_TYPE_UNKNOWN;
}

char *
gv_vgpu_vendor_carried_text (GPtrArray *survey)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  GString *text = g_string_new (NULL);
  guint carrying = 0;

  for (guint i = 0; survey && i < survey->len; i++) {
    GvVgpuVendorVf *vf = survey->pdata[i];
    gboolean seen = FALSE;
    if (!vf->vendor || vf->vendor->current_type == 0)
      continue;
    carrying++;
    for (guint j = 0; j < ids->len && !seen; j++)
      seen = g_array_index (ids, guint, j) == vf->vendor->current_type;
    if (!seen)
      g_array_append_val (ids, vf->vendor->current_type);
  }
  if (carrying == 0)
    return g_string_free (text, FALSE);
  g_string_append_printf (text, "%u VF%s carr%s vGPU type%s ", carrying, carrying == 1 ? "" : "s",
                          carrying == 1 ? "ies" : "y", ids->len == 1 ? "" : "s:");
  for (guint j = 0; j < ids->len; j++) {
    guint id = g_array_index (ids, guint, j);
    const char *name = gv_vgpu_vendor_type_name (survey, id);
    guint shown = 0, more = 0;

    g_string_append_printf (text, "%s%u%s%s on ", j ? "; " : "", id, name ? " " : "", name ? name : "");
    for (guint i = 0; i < survey->len; i++) {
      GvVgpuVendorVf *vf = survey->pdata[i];
      if (!vf->vendor || vf->vendor->current_type != id)
        continue;
      if (shown < 4)
        g_string_append_printf (text, "%s%s", shown++ ? ", " : "", vf->bdf);
      else
        more++;
    }
    if (more)
      g_string_append_printf (text, " and %u more", more);
  }
  return g_string_free (text, FALSE);
}

static char *
current_rel (const char *vf)
{
  return g_build_filename ("sys", "bus", "pci", "devices", vf, "nvidia", "current_vgpu_type", NULL);
}

/* current_vgpu_type of VF; FALSE when unreadable. */
static gboolean
read_current (const char *root, const char *vf, guint *type)
{
  g_autofree char *dir = gv_vgpu_function_dir (root, vf);
  g_autofree char *nvidia = g_build_filename (dir, "nvidia", NULL);
  guint64 v;

  if (!gv_sysfs_read_uint (nvidia, "current_vgpu_type", FALSE, &v) || v > G_MAXUINT)
    return FALSE;
  *type = (guint) v;
  return TRUE;
}

static void
append_current (const char *root, const char *vf, GError *error)
{
  guint now = 0;

  if (!read_current (root, vf, &now))
    gv_vgpu_error_append (error, "; current_vgpu_type of %s cannot be read now", vf);
  else if (now == 0)
    gv_vgpu_error_append (error, "; %s carries no vGPU type", vf);
  else
    gv_vgpu_error_append (error, "; %s carries vGPU type %u", vf, now);
}

gboolean
gv_vgpu_vendor_apply (const GvVgpuContext *ctx, const char *vf, const GvHostVendorType *type, int *err, GError **error)
{
  g_autofree char *rel = current_rel (vf);
  g_autofree char *path = g_build_filename (ctx->root, rel, NULL);
  g_autofree char *data = g_strdup_printf ("%u", type->id);
  g_autofree char *step = g_strdup_printf ("setting vGPU type %u (%s) on %s", type->id, type->name, vf);
  g_autoptr (GError) undo = NULL;
  guint now = 0;

  switch (gv_vgpu_write (ctx, vf, step, rel, data, err, error)) {
  case GV_VGPU_WRITE_STUCK:
    return FALSE;
  case GV_VGPU_WRITE_FAILED:
    append_current (ctx->root, vf, *error);
    return FALSE;
  case GV_VGPU_WRITE_OK:
    break;
  }
  if (read_current (ctx->root, vf, &now) && now == type->id)
    return TRUE;
  if (!read_current (ctx->root, vf, &now)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
                 "%s: writing “%s” to %s was accepted, but current_vgpu_type can no longer be read", step, data, path);
    return FALSE;
  }
  g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "%s: writing “%s” to %s was accepted, but it reads %u",
               step, data, path, now);
  if (now == 0)
    return FALSE;
  /* whatever it carries now, this call put there: take it away */
  {
    g_autofree char *undo_step = g_strdup_printf ("undoing: freeing %s", vf);
    if (gv_vgpu_write (ctx, vf, undo_step, rel, "0", NULL, &undo) == GV_VGPU_WRITE_OK) {
      append_current (ctx->root, vf, *error);
      return FALSE;
    }
    gv_vgpu_error_append (*error, "; then %s", undo->message);
    append_current (ctx->root, vf, *error);
    gv_vgpu_error_append (*error, "; to free it: echo 0 > %s", path);
  }
  return FALSE;
}

/* VF's nvidia/ directory (DIR), for setting or releasing a type: NULL
 * when it has none (NotSupported) or its current_vgpu_type cannot be read
 * (Kernel), since neither can go on without knowing what it carries. */
static GvHostVendorVfio *
read_vf_vendor (const char *dir, const char *vf, GError **error)
{
  g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (dir);

  if (!vendor) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s has no nvidia/ directory: it is not a VF of a vendor-specific VFIO GPU on the nvidia driver", vf);
    return NULL;
  }
  if (!vendor->current_known) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "current_vgpu_type of %s cannot be read", vf);
    return NULL;
  }
  return g_steal_pointer (&vendor);
}

gboolean
gv_vgpu_set_type (const GvVgpuContext *ctx, const char *vf, const char *wanted, guint *type_id,
                         char **type_name, gboolean *changed, GError **error)
{
  g_autoptr (GvHostVendorVfio) vendor = NULL;
  g_autoptr (GPtrArray) survey = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pf = NULL;
  const GvHostVendorType *type;

  if (type_id)
    *type_id = 0;
  if (type_name)
    *type_name = NULL;
  if (changed)
    *changed = FALSE;
  if (!gv_vgpu_check_root (ctx, error) || !gv_vgpu_check_function (ctx, vf, "VF", &dir, error))
    return FALSE;
  if (!wanted || !*wanted) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "No vGPU type given (an id or a name)");
    return FALSE;
  }
  vendor = read_vf_vendor (dir, vf, error);
  if (!vendor)
    return FALSE;
  gv_vgpu_note_types (ctx, vendor);
  pf = gv_host_read_physfn (ctx->root, vf);
  /* the siblings tell the names of types a VF carries, and why one is missing */
  if (pf && (vendor->current_type != 0 || !gv_vgpu_vendor_find (vendor->creatable, wanted)))
    survey = gv_vgpu_vendor_survey (ctx->root, pf);

  if (vendor->current_type != 0) {
    g_autofree char *cur = g_strdup_printf ("%u", vendor->current_type);
    const char *cur_name = gv_vgpu_vendor_type_name (survey, vendor->current_type);
    g_autofree char *other_name = NULL;
    guint other_id = 0;

    if (gv_vgpu_type_matches (cur, cur_name, wanted)) {
      if (type_id)
        *type_id = vendor->current_type;
      if (type_name)
        *type_name = g_strdup (cur_name ? cur_name : "");
      return TRUE;
    }
    if (cur_name || gv_vgpu_vendor_standing (survey, wanted, &other_id, &other_name) == GV_VGPU_TYPE_OFFERED)
      g_set_error (error, GV_ERROR, GV_ERROR_EXISTS,
                   "%s carries vGPU type %u%s%s already, not “%s”; release it first", vf, vendor->current_type,
                   cur_name ? " " : "", cur_name ? cur_name : "", wanted);
    else
      g_set_error (error, GV_ERROR, GV_ERROR_EXISTS,
                   "%s carries vGPU type %u already; no VF of %s lists that type now, so whether it is “%s” cannot "
                   "be told: give the type by id, or release it first",
                   vf, vendor->current_type, pf ? pf : "its GPU", wanted);
    return FALSE;
  }

  type = gv_vgpu_vendor_find (vendor->creatable, wanted);
  if (!type) {
    g_autofree char *offered = gv_vgpu_vendor_list_text (vendor->creatable);
    g_autofree char *carried = gv_vgpu_vendor_carried_text (survey);
    g_autofree char *name = NULL;
    guint id = 0;

    switch (gv_vgpu_vendor_standing (survey, wanted, &id, &name)) {
    case GV_VGPU_TYPE_OFFERED:
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                   "%s cannot take vGPU type %u %s now: its list offers %s, though another VF of %s offers it "
                   "(the room on the GPU is changing; try again)", vf, id, name, offered, pf);
      break;
    case GV_VGPU_TYPE_CARRIED:
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                   "%s cannot take vGPU type %u%s%s now: %s has no room for another (%s); %s offers %s", vf, id,
                   name ? " " : "", name ? name : "", pf, carried, vf, offered);
      break;
    case GV_VGPU_TYPE_FULL:
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                   "%s cannot take vGPU type “%s” now: no VF of %s offers any type (%s), so the GPU has no room for "
                   "another vGPU, whichever type “%s” is", vf, wanted, pf, carried, wanted);
      break;
    case GV_VGPU_TYPE_MAYBE:
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                   "%s cannot take vGPU type “%s” now: %s offers %s, and no VF of %s lists it; %s, whose names no "
                   "list shows now, so it may be one of them and the GPU has no room for another",
                   vf, wanted, vf, offered, pf, carried);
      break;
    case GV_VGPU_TYPE_UNKNOWN:
    default:
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s offers no vGPU type “%s”; it offers: %s%s%s",
                   vf, wanted, offered, *carried ? "; " : "", carried);
      break;
    }
    return FALSE;
  }

  if (!gv_vgpu_vendor_apply (ctx, vf, type, NULL, &local)) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (type_id)
    *type_id = type->id;
  if (type_name)
    *type_name = g_strdup (type->name);
  if (changed)
    *changed = TRUE;
  return TRUE;
}

gboolean
gv_vgpu_release_type (const GvVgpuContext *ctx, const char *vf, gboolean *changed, GError **error)
{
  g_autoptr (GvHostVendorVfio) vendor = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *rel = NULL;
  g_autofree char *path = NULL;
  g_autofree char *step = NULL;
  guint retry_ms = ctx->busy_retry_ms ? ctx->busy_retry_ms : GV_VGPU_DEFAULT_MS;
  guint every_ms = ctx->busy_retry_every_ms ? ctx->busy_retry_every_ms : GV_VGPU_DEFAULT_RETRY_EVERY_MS;
  gint64 start, deadline;
  guint tries = 0, now = 0;
  int err = 0;

  if (changed)
    *changed = FALSE;
  if (!gv_vgpu_check_root (ctx, error) || !gv_vgpu_check_function (ctx, vf, "VF", &dir, error))
    return FALSE;
  vendor = read_vf_vendor (dir, vf, error);
  if (!vendor)
    return FALSE;
  if (vendor->current_type == 0)
    return TRUE;

  rel = current_rel (vf);
  path = g_build_filename (ctx->root, rel, NULL);
  step = g_strdup_printf ("releasing vGPU type %u from %s", vendor->current_type, vf);
  start = g_get_monotonic_time ();
  deadline = start + (gint64) retry_ms * 1000;
  for (;;) {
    GvVgpuWriteStatus status;

    g_clear_error (&local);
    tries++;
    status = gv_vgpu_write (ctx, vf, step, rel, "0", &err, &local);
    if (status == GV_VGPU_WRITE_OK)
      break;
    if (status == GV_VGPU_WRITE_STUCK) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    /* not ready yet just after a VM let go of it: try again for a while */
    if (err == EBUSY && gv_vgpu_sleep_until (deadline, every_ms))
      continue;
    if (err == EBUSY) {
      g_autofree char *text = gv_sysfs_errno_text (EBUSY);
      g_clear_error (&local);
      g_set_error (&local, GV_ERROR, GV_ERROR_IN_USE,
                   "%s: writing “0” to %s answered %s %u time%s over %u ms: the driver is not ready yet after a VM "
                   "closed the VF, or the VF is still in use",
                   step, path, text, tries, tries == 1 ? "" : "s",
                   (guint) ((g_get_monotonic_time () - start) / 1000));
    }
    append_current (ctx->root, vf, local);
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (!read_current (ctx->root, vf, &now) || now != 0) {
    g_set_error (&local, GV_ERROR, GV_ERROR_KERNEL, "%s: writing “0” to %s was accepted, but it does not "
                 "read 0", step, path);
    append_current (ctx->root, vf, local);
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (changed)
    *changed = TRUE;
  return TRUE;
}
