/* What the vGPU engine's files share: the error domain, type and UUID
 * checks, paths below the root, and the bounded write that turns
 * gv_sysfs_write()'s answer into a GV_ERROR. */
#include "vgpu/internal.h"
#include "sysfs/read.h"
#include "sysfs/write.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

guint
gv_vgpu_timeout_ms (const GvVgpuContext *ctx)
{
  return ctx->timeout_ms ? ctx->timeout_ms : GV_VGPU_DEFAULT_MS;
}

guint
gv_vgpu_appear_ms (const GvVgpuContext *ctx)
{
  return ctx->appear_ms ? ctx->appear_ms : gv_vgpu_timeout_ms (ctx);
}

gboolean
gv_vgpu_type_matches (const char *id, const char *name, const char *wanted)
{
  const char *word;

  if (!wanted || !*wanted)
    return FALSE;
  if (id && g_str_equal (id, wanted))
    return TRUE;
  if (!name || !*name)
    return FALSE;
  if (g_ascii_strcasecmp (name, wanted) == 0)
    return TRUE;
  /* the short name is the last word: "L40S-24Q" of "NVIDIA L40S-24Q" */
  word = name + strlen (name);
  while (word > name && word[-1] != ' ' && word[-1] != '\t')
    word--;
  return word != name && *word && g_ascii_strcasecmp (word, wanted) == 0;
}

gboolean
gv_vgpu_uuid_is_valid (const char *uuid)
{
  if (!uuid || strlen (uuid) != 36)
    return FALSE;
  for (guint i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uuid[i] != '-')
        return FALSE;
    } else if (!g_ascii_isxdigit (uuid[i])) {
      return FALSE;
    }
  }
  return TRUE;
}

char *
gv_vgpu_uuid_generate (void)
{
  /* version 4, lower case */
  return g_uuid_string_random ();
}

/* ---- checks and paths ---- */

gboolean
gv_vgpu_check_root (const GvVgpuContext *ctx, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!gv_sysfs_root_check (ctx->root, &local)) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, local->message);
    return FALSE;
  }
  return TRUE;
}

char *
gv_vgpu_function_dir (const char *root, const char *bdf)
{
  return g_build_filename (root, "sys", "bus", "pci", "devices", bdf, NULL);
}

char *
gv_vgpu_mdev_dir (const char *root, const char *uuid)
{
  return g_build_filename (root, "sys", "bus", "mdev", "devices", uuid, NULL);
}

gboolean
gv_vgpu_check_function (const GvVgpuContext *ctx, const char *bdf, const char *role, char **dir, GError **error)
{
  g_autofree char *path = NULL;

  if (!gv_host_bdf_is_valid (bdf)) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                 "“%s” is not a PCI address of the form 0000:01:00.0 (the %s)", bdf ? bdf : "", role);
    return FALSE;
  }
  path = gv_vgpu_function_dir (ctx->root, bdf);
  if (!g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "%s (the %s) is not on this host (no %s)", bdf,
                 role, path);
    return FALSE;
  }
  if (dir)
    *dir = g_steal_pointer (&path);
  return TRUE;
}

void
gv_vgpu_note_types (const GvVgpuContext *ctx, const GvHostVendorVfio *vendor)
{
  if (ctx->names && vendor)
    gv_vgpu_type_names_learn_vendor (ctx->names, vendor);
}

gboolean
gv_vgpu_sleep_until (gint64 deadline, guint ms)
{
  gint64 now = g_get_monotonic_time ();
  gint64 us = (gint64) ms * 1000;

  if (now >= deadline)
    return FALSE;
  g_usleep ((gulong) MIN (us, deadline - now));
  return TRUE;
}

void
gv_vgpu_error_append (GError *error, const char *format, ...)
{
  g_autofree char *more = NULL;
  char *old;
  va_list args;

  if (!error)
    return;
  va_start (args, format);
  more = g_strdup_vprintf (format, args);
  va_end (args);
  old = error->message;
  error->message = g_strconcat (old, more, NULL);
  g_free (old);
}

/* ---- the bounded write ---- */

typedef struct {
  GvVgpuLateFunc late;
  gpointer user_data;
  char *what;
} Late;

static void
late_free (gpointer p)
{
  Late *late = p;
  g_free (late->what);
  g_free (late);
}

static void
on_late (int result, guint waited_ms, gpointer data)
{
  Late *late = data;

  if (late->late) {
    late->late (late->what, result, late->user_data);
  } else if (result < 0) {
    g_autofree char *err = gv_sysfs_errno_text (-result);
    g_message ("A stuck write about %s returned after %u ms: %s", late->what, waited_ms, err);
  } else {
    g_message ("A stuck write about %s returned after %u ms and succeeded", late->what, waited_ms);
  }
}

GvVgpuWriteStatus
gv_vgpu_write (const GvVgpuContext *ctx, const char *what, const char *step, const char *rel, const char *data, int *err,
          GError **error)
{
  return gv_vgpu_write_watched (ctx, what, step, rel, data, gv_vgpu_timeout_ms (ctx), NULL, NULL, err, error);
}

GvVgpuWriteStatus
gv_vgpu_write_watched (const GvVgpuContext *ctx, const char *what, const char *step, const char *rel, const char *data,
                       guint timeout, GvSysfsTickFunc tick, gpointer tick_data, int *err, GError **error)
{
  g_autofree char *path = g_build_filename (ctx->root, rel, NULL);
  Late *late = g_new0 (Late, 1);
  int result = 0;

  if (err)
    *err = 0;
  late->late = ctx->late;
  late->user_data = ctx->user_data;
  late->what = g_strdup (what);
  if (gv_sysfs_write_watched (ctx->root, rel, data, timeout, GV_VGPU_TICK_MS, tick, tick_data, &result, on_late, late,
                              late_free) == GV_SYSFS_WRITE_TIMEOUT) {
    g_set_error (error, GV_ERROR, GV_ERROR_STUCK,
                 "%s: writing “%s” to %s did not return within %u ms; the write is still pending in the kernel, "
                 "and what it does to %s shows only when it returns",
                 step, data, path, timeout, what);
    return GV_VGPU_WRITE_STUCK;
  }
  if (result < 0) {
    g_autofree char *text = gv_sysfs_errno_text (-result);
    if (err)
      *err = -result;
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "%s: writing “%s” to %s failed: %s", step, data, path,
                 text);
    return GV_VGPU_WRITE_FAILED;
  }
  return GV_VGPU_WRITE_OK;
}
