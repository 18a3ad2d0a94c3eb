/* Mediated devices (NVIDIA vGPU before Ada): created by writing a UUID to
 * PARENT/mdev_supported_types/TYPE/create, removed by writing 1 to
 * sys/bus/mdev/devices/UUID/remove. Each write is checked by looking at
 * sys/bus/mdev/devices afterwards. */
#include "vgpu/internal.h"
#include "sysfs/read.h"

#include <errno.h>
#include <unistd.h>

const GvHostMdevType *
gv_vgpu_mdev_find (GPtrArray *types, const char *wanted)
{
  for (guint i = 0; types && i < types->len; i++) {
    const GvHostMdevType *type = types->pdata[i];
    if (gv_vgpu_type_matches (type->id, type->name, wanted))
      return type;
  }
  return NULL;
}

char *
gv_vgpu_mdev_list_text (GPtrArray *types)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; types && i < types->len; i++) {
    const GvHostMdevType *type = types->pdata[i];
    g_string_append_printf (text, "%s%s%s%s", i ? ", " : "", type->id, *type->name ? " " : "", type->name);
  }
  if (text->len == 0)
    g_string_append (text, "none");
  return g_string_free (text, FALSE);
}

gboolean
gv_vgpu_mdev_parent_busy (GPtrArray *mdevs, const char *parent, const char **uuid)
{
  for (guint i = 0; mdevs && i < mdevs->len; i++) {
    const GvHostMdev *mdev = mdevs->pdata[i];
    if (g_str_equal (mdev->parent, parent)) {
      if (uuid)
        *uuid = mdev->uuid;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
mdev_exists (const char *root, const char *uuid)
{
  g_autofree char *dir = gv_vgpu_mdev_dir (root, uuid);
  return g_file_test (dir, G_FILE_TEST_IS_DIR);
}

/* Waits up to the context's appear_ms for mdev UUID to be there (or gone). */
static gboolean
wait_mdev (const GvVgpuContext *ctx, const char *uuid, gboolean present)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) gv_vgpu_appear_ms (ctx) * 1000;

  while (mdev_exists (ctx->root, uuid) != present)
    if (!gv_vgpu_sleep_until (deadline, GV_VGPU_POLL_MS))
      return FALSE;
  return TRUE;
}

/* The type and parent an existing mdev shows ("" when unknown). */
static void
mdev_facts (const char *root, const char *uuid, char **type, char **parent)
{
  g_autofree char *dir = gv_vgpu_mdev_dir (root, uuid);
  g_autofree char *target = g_file_read_link (dir, NULL);
  g_autofree char *up = target ? g_path_get_dirname (target) : NULL;
  char *p = up ? g_path_get_basename (up) : NULL;

  *type = gv_sysfs_read_link_name (dir, "mdev_type");
  if (!*type)
    *type = g_strdup ("");
  if (!p || !gv_host_bdf_is_valid (p)) {
    g_free (p);
    p = g_strdup ("");
  }
  *parent = p;
}

/* "mdev U of type T on P" for messages. */
static char *
mdev_text (const char *root, const char *uuid)
{
  g_autofree char *type = NULL;
  g_autofree char *parent = NULL;

  mdev_facts (root, uuid, &type, &parent);
  return g_strdup_printf ("mdev %s (type %s on %s)", uuid, *type ? type : "unknown", *parent ? parent : "unknown");
}

static GvVgpuWriteStatus
write_remove (const GvVgpuContext *ctx, const char *uuid, const char *step, GError **error)
{
  g_autofree char *rel = g_build_filename ("sys", "bus", "mdev", "devices", uuid, "remove", NULL);
  return gv_vgpu_write (ctx, uuid, step, rel, "1", NULL, error);
}

gboolean
gv_vgpu_mdev_apply (const GvVgpuContext *ctx, const char *parent, const GvHostMdevType *type, const char *uuid, int *err,
               GError **error)
{
  g_autofree char *rel = g_build_filename ("sys", "bus", "pci", "devices", parent, "mdev_supported_types", type->id,
                                           "create", NULL);
  g_autofree char *path = g_build_filename (ctx->root, rel, NULL);
  g_autofree char *step = g_strdup_printf ("creating mdev %s of type %s%s%s on %s", uuid, type->id,
                                           *type->name ? " " : "", type->name, parent);
  g_autofree char *got_type = NULL;
  g_autofree char *got_parent = NULL;
  g_autoptr (GError) undo = NULL;
  int e = 0;

  switch (gv_vgpu_write (ctx, parent, step, rel, uuid, &e, error)) {
  case GV_VGPU_WRITE_STUCK:
    return FALSE;
  case GV_VGPU_WRITE_FAILED:
    if (err)
      *err = e;
    if (e == EEXIST)
      (*error)->code = GV_ERROR_EXISTS;
    else if (e == EUSERS)
      (*error)->code = GV_ERROR_NO_CAPACITY;
    if (mdev_exists (ctx->root, uuid)) {
      g_autofree char *what = mdev_text (ctx->root, uuid);
      gv_vgpu_error_append (*error, "; %s exists", what);
    } else {
      gv_vgpu_error_append (*error, "; no mdev %s exists", uuid);
    }
    return FALSE;
  case GV_VGPU_WRITE_OK:
    break;
  }
  if (err)
    *err = 0;
  if (!wait_mdev (ctx, uuid, TRUE)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
                 "%s: writing “%s” to %s was accepted, but no sys/bus/mdev/devices/%s appeared within %u ms", step,
                 uuid, path, uuid, gv_vgpu_appear_ms (ctx));
    return FALSE;
  }
  mdev_facts (ctx->root, uuid, &got_type, &got_parent);
  if (g_str_equal (got_type, type->id) && g_str_equal (got_parent, parent))
    return TRUE;

  /* something else appeared: it is this call's doing, take it away */
  g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
               "%s: writing “%s” to %s was accepted, but mdev %s shows type “%s” on “%s”", step, uuid, path, uuid,
               got_type, got_parent);
  {
    g_autofree char *undo_step = g_strdup_printf ("undoing: removing mdev %s", uuid);
    if (write_remove (ctx, uuid, undo_step, &undo) == GV_VGPU_WRITE_OK && wait_mdev (ctx, uuid, FALSE)) {
      gv_vgpu_error_append (*error, "; it was removed again");
    } else if (undo) {
      gv_vgpu_error_append (*error, "; then %s; to remove it: echo 1 > %s/sys/bus/mdev/devices/%s/remove", undo->message,
                       ctx->root, uuid);
    } else {
      gv_vgpu_error_append (*error, "; removing it was accepted but it is still there; to remove it: echo 1 > "
                       "%s/sys/bus/mdev/devices/%s/remove", ctx->root, uuid);
    }
  }
  return FALSE;
}

gboolean
gv_vgpu_create_mdev (const GvVgpuContext *ctx, const char *parent, const char *wanted, const char *uuid,
                char **uuid_out, char **type_id, GError **error)
{
  g_autoptr (GPtrArray) types = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *id = NULL;
  const GvHostMdevType *type;

  if (uuid_out)
    *uuid_out = NULL;
  if (type_id)
    *type_id = NULL;
  if (!gv_vgpu_check_root (ctx, error) || !gv_vgpu_check_function (ctx, parent, "mdev parent", &dir, error))
    return FALSE;
  if (!wanted || !*wanted) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "No mdev type given (an id or a name)");
    return FALSE;
  }
  if (uuid && *uuid && !gv_vgpu_uuid_is_valid (uuid)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                 "“%s” is not a UUID (8-4-4-4-12 hex digits, such as 0b4e1d3c-5a2f-4c1e-9d7a-3f2b8c6e1a90)", uuid);
    return FALSE;
  }
  id = uuid && *uuid ? g_ascii_strdown (uuid, -1) : gv_vgpu_uuid_generate ();

  types = gv_host_mdev_types_read (dir);
  if (!types) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s is not an mdev parent (no mdev_supported_types): it has no vGPU driver, or its GPU makes "
                 "vGPUs another way", parent);
    return FALSE;
  }
  type = gv_vgpu_mdev_find (types, wanted);
  if (!type) {
    g_autofree char *list = gv_vgpu_mdev_list_text (types);
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_TYPE, "%s has no mdev type “%s”; its types: %s", parent,
                 wanted, list);
    return FALSE;
  }
  if (mdev_exists (ctx->root, id)) {
    g_autofree char *what = mdev_text (ctx->root, id);
    g_set_error (error, GV_ERROR, GV_ERROR_EXISTS, "%s exists already; choose another UUID", what);
    return FALSE;
  }
  if (type->available_instances == 0) {
    g_autoptr (GPtrArray) mdevs = gv_host_mdevs_read (ctx->root);
    GString *hosted = g_string_new (NULL);
    guint n = 0;

    for (guint i = 0; i < mdevs->len; i++) {
      const GvHostMdev *mdev = mdevs->pdata[i];
      if (!g_str_equal (mdev->parent, parent))
        continue;
      if (n++ < 4)
        g_string_append_printf (hosted, "%s%s of %s", n > 1 ? ", " : "", mdev->uuid, mdev->type_id);
    }
    if (n > 4)
      g_string_append_printf (hosted, " and %u more", n - 4);
    if (n)
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                   "available_instances of %s (%s) on %s is 0: it hosts mdev %s", type->id, type->name, parent,
                   hosted->str);
    else
      g_set_error (error, GV_ERROR, GV_ERROR_NO_CAPACITY,
                   "available_instances of %s (%s) on %s is 0: the room on its GPU is taken by vGPUs on other "
                   "functions, or by vGPUs of other types", type->id, type->name, parent);
    g_string_free (hosted, TRUE);
    return FALSE;
  }

  if (!gv_vgpu_mdev_apply (ctx, parent, type, id, NULL, &local)) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (type_id)
    *type_id = g_strdup (type->id);
  if (uuid_out)
    *uuid_out = g_steal_pointer (&id);
  return TRUE;
}

gboolean
gv_vgpu_remove_mdev (const GvVgpuContext *ctx, const char *uuid, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *id = NULL;
  g_autofree char *what = NULL;
  g_autofree char *step = NULL;
  g_autofree char *group = NULL;

  if (!gv_vgpu_check_root (ctx, error))
    return FALSE;
  if (!gv_vgpu_uuid_is_valid (uuid)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a UUID (8-4-4-4-12 hex digits)",
                 uuid ? uuid : "");
    return FALSE;
  }
  id = g_ascii_strdown (uuid, -1);
  if (!mdev_exists (ctx->root, id)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "There is no mdev %s on this host", id);
    return FALSE;
  }
  what = mdev_text (ctx->root, id);
  step = g_strdup_printf ("removing %s", what);
  {
    g_autofree char *dir = gv_vgpu_mdev_dir (ctx->root, id);
    group = gv_sysfs_read_link_name (dir, "iommu_group");
  }
  switch (write_remove (ctx, id, step, &local)) {
  case GV_VGPU_WRITE_STUCK:
    gv_vgpu_error_append (local, "; the kernel removes an mdev only once its VFIO node%s%s is closed: is a VM still "
                     "using it?", group ? " /dev/vfio/" : "", group ? group : "");
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  case GV_VGPU_WRITE_FAILED:
    gv_vgpu_error_append (local, mdev_exists (ctx->root, id) ? "; mdev %s is still there" : "; mdev %s is gone", id);
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  case GV_VGPU_WRITE_OK:
    break;
  }
  if (!wait_mdev (ctx, id, FALSE)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
                 "%s: writing “1” to %s/sys/bus/mdev/devices/%s/remove was accepted, but the mdev is still there "
                 "after %u ms", step, ctx->root, id, gv_vgpu_appear_ms (ctx));
    return FALSE;
  }
  return TRUE;
}
