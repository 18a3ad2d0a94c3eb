/* SR-IOV counts: sriov_numvfs of a PF, done as the kernel requires (a
 * non-zero count changes only through 0), read back after each write,
 * the new VFs waited for, and the old count put back on failure.
 *
 * The kernel adds the VFs inside the write, one after the other, each
 * offered to its driver before the next: a write takes time per VF, so
 * its bound grows with the VFs it adds or removes, and the virtfnN links
 * that appear meanwhile are reported as progress (they are readable
 * without the device lock the write holds; sriov_numvfs is not). */
#include "vgpu/internal.h"
#include "sysfs/read.h"

#include <errno.h>

typedef struct {
  const GvVgpuContext *ctx;
  const char *pf;
  char *rel;  /* sys/bus/pci/devices/PF/sriov_numvfs */
  char *path; /* ROOT/REL, for messages */
} Sriov;

static void
sriov_clear (Sriov *s)
{
  g_free (s->rel);
  g_free (s->path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sriov, sriov_clear)

guint
gv_vgpu_sriov_bound_ms (const GvVgpuContext *ctx, guint n)
{
  guint64 base = gv_vgpu_timeout_ms (ctx);

  return (guint) MIN (base + base * n / 10, G_MAXUINT);
}

/* The appear wait grows the same way. */
static guint
appear_bound_ms (const GvVgpuContext *ctx, guint n)
{
  guint64 base = gv_vgpu_appear_ms (ctx);

  return (guint) MIN (base + base * n / 10, G_MAXUINT);
}

/* Waits for virtfn0 .. virtfnCOUNT-1 of the PF. */
static gboolean
wait_for_vfs (Sriov *s, guint count, guint *seen)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) appear_bound_ms (s->ctx, count) * 1000;

  for (;;) {
    g_auto (GStrv) vfs = gv_host_read_vfs (s->ctx->root, s->pf);
    *seen = g_strv_length (vfs);
    if (*seen >= count)
      return TRUE;
    if (!gv_vgpu_sleep_until (deadline, GV_VGPU_POLL_MS))
      return FALSE;
  }
}

/* What a write of sriov_numvfs has done so far, for ctx->progress. */
typedef struct {
  Sriov *s;
  const char *step;
  guint from, to;   /* virtfn links before and wanted */
  guint last;       /* the count last reported */
} Watch;

static guint
count_vfs (Sriov *s)
{
  g_auto (GStrv) vfs = gv_host_read_vfs (s->ctx->root, s->pf);

  return g_strv_length (vfs);
}

static void
on_tick (guint waited_ms, gpointer data)
{
  Watch *w = data;
  guint now = count_vfs (w->s);
  g_autofree char *message = NULL;

  if (now == w->last)
    return;
  w->last = now;
  if (w->to > w->from)
    message = g_strdup_printf ("%s: %u of %u VFs so far (%u.%u s)", w->step, now, w->to, waited_ms / 1000,
                               waited_ms % 1000 / 100);
  else
    message = g_strdup_printf ("%s: %u VFs left (%u.%u s)", w->step, now, waited_ms / 1000, waited_ms % 1000 / 100);
  w->s->ctx->progress (w->s->pf, message, w->s->ctx->user_data);
}

/* The write outlived its bound: the kernel is still at it. */
static void
set_pending (Sriov *s, Watch *w, guint bound, GError *error)
{
  guint now = count_vfs (s);

  error->code = GV_ERROR_PENDING;
  g_free (error->message);
  error->message = g_strdup_printf ("%s: the kernel is still at it after %u ms (%u VFs so far; the write stays "
                                    "under way and cannot be cancelled); gpuvirtd announces how it ends on %s",
                                    w->step, bound, now, s->pf);
}

/* One write of VALUE, read back; for a non-zero VALUE its VFs waited for. */
static gboolean
set_count (Sriov *s, guint value, const char *step, gboolean *stuck, GError **error)
{
  g_autofree char *data = g_strdup_printf ("%u", value);
  guint now = 0, seen = 0;
  guint before = count_vfs (s);
  guint bound = gv_vgpu_sriov_bound_ms (s->ctx, MAX (value, before));
  Watch watch = { s, step, before, value, before };
  int err = 0;

  switch (gv_vgpu_write_watched (s->ctx, s->pf, step, s->rel, data, bound, s->ctx->progress ? on_tick : NULL, &watch,
                                 &err, error)) {
  case GV_VGPU_WRITE_STUCK:
    set_pending (s, &watch, bound, *error);
    *stuck = TRUE;
    return FALSE;
  case GV_VGPU_WRITE_FAILED:
    if (err == ENOENT) {
      (*error)->code = GV_ERROR_NOT_SUPPORTED;
      gv_vgpu_error_append (*error, " (%s has no driver, or its driver cannot configure SR-IOV)", s->pf);
    }
    return FALSE;
  case GV_VGPU_WRITE_OK:
    break;
  }
  if (!gv_host_read_numvfs (s->ctx->root, s->pf, &now)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
                 "%s: writing “%s” to %s was accepted, but sriov_numvfs can no longer be read", step, data, s->path);
    return FALSE;
  }
  if (now != value) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
                 "%s: writing “%s” to %s was accepted, but it reads %u", step, data, s->path, now);
    return FALSE;
  }
  if (value > 0 && !wait_for_vfs (s, value, &seen)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL,
                 "%s: sriov_numvfs reads %u, but only %u virtfn links of %s appeared within %u ms", step, value,
                 seen, s->pf, appear_bound_ms (s->ctx, value));
    return FALSE;
  }
  return TRUE;
}

/* After a failure (not a stuck write): back to OLD VFs. Says on ERROR how
 * that went and the count now. */
static void
put_back (Sriov *s, guint old, GError *error)
{
  g_autoptr (GError) again = NULL;
  gboolean stuck = FALSE;
  guint now = 0;
  gboolean known = gv_host_read_numvfs (s->ctx->root, s->pf, &now);

  if (known && now == old) {
    gv_vgpu_error_append (error, "; sriov_numvfs of %s is %u, as before", s->pf, now);
    return;
  }
  if (!known || now != 0) {
    g_autofree char *step = g_strdup_printf ("undoing: disabling the VFs of %s", s->pf);
    if (!set_count (s, 0, step, &stuck, &again)) {
      gv_vgpu_error_append (error, "; then %s", again->message);
      goto state;
    }
  }
  if (old > 0) {
    g_autofree char *step = g_strdup_printf ("restoring the previous %u VFs of %s", old, s->pf);
    if (!set_count (s, old, step, &stuck, &again)) {
      gv_vgpu_error_append (error, "; then %s", again->message);
      goto state;
    }
    gv_vgpu_error_append (error, "; the previous %u VFs of %s were restored", old, s->pf);
  } else {
    gv_vgpu_error_append (error, "; the VFs of %s were disabled again", s->pf);
  }
  return;

state:
  if (stuck)
    return;
  known = gv_host_read_numvfs (s->ctx->root, s->pf, &now);
  if (known)
    gv_vgpu_error_append (error, "; sriov_numvfs of %s is now %u, not %u as before", s->pf, now, old);
  else
    gv_vgpu_error_append (error, "; sriov_numvfs of %s cannot be read now", s->pf);
  if (old > 0 && known && now == 0)
    gv_vgpu_error_append (error, "; to put it back: echo %u > %s", old, s->path);
  else if (old > 0)
    gv_vgpu_error_append (error, "; to put it back: echo 0 > %s; echo %u > %s", s->path, old, s->path);
  else
    gv_vgpu_error_append (error, "; to put it back: echo 0 > %s", s->path);
}

gboolean
gv_vgpu_set_num_vfs (const GvVgpuContext *ctx, const char *pf, guint count, GStrv *vfs, GError **error)
{
  g_auto (Sriov) s = { ctx, pf, NULL, NULL };
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *physfn = NULL;
  gboolean stuck = FALSE;
  gboolean ok = TRUE;
  guint64 total = 0;
  guint old = 0;

  if (vfs)
    *vfs = NULL;
  if (!gv_vgpu_check_root (ctx, error) || !gv_vgpu_check_function (ctx, pf, "PF", &dir, error))
    return FALSE;
  physfn = gv_host_read_physfn (ctx->root, pf);
  if (physfn) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s is a VF itself: only its PF %s has VFs", pf, physfn);
    return FALSE;
  }
  if (!gv_sysfs_read_uint (dir, "sriov_totalvfs", FALSE, &total) || total == 0) {
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s does not support SR-IOV (no sriov_totalvfs)", pf);
    return FALSE;
  }
  if (count > total) {
    g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                 "%s supports at most %u VFs (sriov_totalvfs), not %u", pf, (guint) total, count);
    return FALSE;
  }
  if (!gv_host_read_numvfs (ctx->root, pf, &old)) {
    g_set_error (error, GV_ERROR, GV_ERROR_KERNEL, "sriov_numvfs of %s cannot be read", pf);
    return FALSE;
  }
  s.rel = g_build_filename ("sys", "bus", "pci", "devices", pf, "sriov_numvfs", NULL);
  s.path = g_build_filename (ctx->root, s.rel, NULL);

  if (old != count) {
    if (old > 0) {
      g_autofree char *step = count > 0 ? g_strdup_printf ("disabling the %u VFs of %s before enabling %u (the kernel "
                                                           "changes a count only through 0)", old, pf, count)
                                        : g_strdup_printf ("disabling the %u VFs of %s", old, pf);
      ok = set_count (&s, 0, step, &stuck, &local);
    }
    if (ok && count > 0) {
      g_autofree char *step = g_strdup_printf ("enabling %u VFs on %s", count, pf);
      ok = set_count (&s, count, step, &stuck, &local);
    }
    if (!ok && stuck)
      gv_vgpu_error_append (local, "; the VFs of %s cannot be changed until then", pf);
    else if (!ok)
      put_back (&s, old, local);
  }
  if (vfs)
    *vfs = gv_host_read_vfs (ctx->root, pf);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}
