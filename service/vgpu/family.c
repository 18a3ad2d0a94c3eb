/* The journal of SR-IOV and vGPU operations (see family.h): a GPU
 * family's target state written before the first write, and the
 * restore that takes a family back to it, used by recovery at start and
 * by callers that undo a failed multi-write step. */
#include "vgpu/family.h"
#include "vgpu/internal.h"
#include "journal/journal.h"
#include "sysfs/write.h"
#include "host/holders.h"
#include "host/function.h"
#include "sysfs/read.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
gv_vgpu_family_free (GvVgpuFamily *family)
{
  if (!family)
    return;
  g_free (family->gpu);
  g_hash_table_unref (family->vf_types);
  g_hash_table_unref (family->mdevs);
  g_free (family);
}

static GvVgpuFamily *
family_new (const char *gpu)
{
  GvVgpuFamily *family = g_new0 (GvVgpuFamily, 1);

  family->gpu = g_strdup (gpu);
  family->vf_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  family->mdevs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return family;
}

/* Is BDF the PF or one of VFS? */
static gboolean
in_family (const char *pf, const char *const *vfs, const char *bdf)
{
  return g_str_equal (bdf, pf) || g_strv_contains (vfs, bdf);
}

GvVgpuFamily *
gv_vgpu_family_read (const char *root, const char *gpu, GError **error)
{
  g_autofree char *dir = gv_vgpu_function_dir (root, gpu);
  g_autofree char *physfn = NULL;
  g_autoptr (GPtrArray) mdevs = NULL;
  g_auto (GStrv) vfs = NULL;
  GvVgpuFamily *family;
  const char *pf;

  if (!gv_host_bdf_is_valid (gpu) || !g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "No PCI function %s on this host", gpu);
    return NULL;
  }
  physfn = gv_host_read_physfn (root, gpu);
  pf = physfn ? physfn : gpu;
  family = family_new (pf);
  if (!gv_host_read_numvfs (root, pf, &family->num_vfs))
    family->num_vfs = 0;
  vfs = gv_host_read_vfs (root, pf);
  for (guint i = 0; vfs[i]; i++) {
    g_autofree char *vf_dir = gv_vgpu_function_dir (root, vfs[i]);
    g_autoptr (GvHostVendorVfio) vendor = gv_host_vendor_vfio_read (vf_dir);
    if (vendor && vendor->current_known && vendor->current_type != 0)
      g_hash_table_insert (family->vf_types, g_strdup (vfs[i]), GUINT_TO_POINTER (vendor->current_type));
  }
  mdevs = gv_host_mdevs_read (root);
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    if (in_family (pf, (const char *const *) vfs, m->parent))
      g_hash_table_add (family->mdevs, g_strdup (m->uuid));
  }
  return family;
}

/* ---- the journal ---- */

static GPtrArray *
sorted_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, gv_sysfs_compare_names);
  return keys;
}

char *
gv_vgpu_journal_begin (GvJournal *records, const char *operation, const GvVgpuFamily *target, gint wanted_num_vfs,
                       GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GPtrArray) vfs = sorted_keys (target->vf_types);
  g_autoptr (GPtrArray) types = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) mdevs = sorted_keys (target->mdevs);

  for (guint i = 0; i < vfs->len; i++)
    g_ptr_array_add (types, g_strdup_printf ("%s=%u", (char *) vfs->pdata[i],
                                             GPOINTER_TO_UINT (g_hash_table_lookup (target->vf_types,
                                                                                    vfs->pdata[i]))));
  g_key_file_set_string (kf, "Transaction", "Operation", operation);
  g_key_file_set_uint64 (kf, "Transaction", "NumVfs", target->num_vfs);
  if (wanted_num_vfs >= 0)
    g_key_file_set_uint64 (kf, "Transaction", "WantedNumVfs", (guint64) wanted_num_vfs);
  g_key_file_set_string_list (kf, "Transaction", "VfTypes", (const char *const *) types->pdata, types->len);
  g_key_file_set_string_list (kf, "Transaction", "Mdevs", (const char *const *) mdevs->pdata, mdevs->len);
  return gv_journal_begin (records, GV_VGPU_JOURNAL_KIND, target->gpu, kf, error);
}

gboolean
gv_vgpu_journal_end (GvJournal *records, const char *id, GError **error)
{
  return gv_journal_end (records, id, error);
}

/* The target a journal names, or NULL when it does not parse. *WANTED:
 * its WantedNumVfs, or -1. */
static GvVgpuFamily *
family_from_journal (GKeyFile *kf, char **operation, gint *wanted, GError **error)
{
  g_autofree char *gpu = g_key_file_get_string (kf, "Transaction", "Subject", error);
  g_auto (GStrv) types = NULL;
  g_auto (GStrv) mdevs = NULL;
  g_autoptr (GvVgpuFamily) family = NULL;
  g_autoptr (GError) local = NULL;
  guint64 num_vfs;

  if (!gpu)
    return NULL;
  if (!gv_host_bdf_is_valid (gpu)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "Subject “%s” is no PCI address", gpu);
    return NULL;
  }
  num_vfs = g_key_file_get_uint64 (kf, "Transaction", "NumVfs", &local);
  if (local) {
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }
  family = family_new (gpu);
  family->num_vfs = (guint) MIN (num_vfs, G_MAXUINT);
  types = g_key_file_get_string_list (kf, "Transaction", "VfTypes", NULL, NULL);
  for (guint i = 0; types && types[i]; i++) {
    char *eq = strchr (types[i], '=');
    if (!eq)
      continue;
    *eq = '\0';
    g_hash_table_insert (family->vf_types, g_strdup (types[i]), GUINT_TO_POINTER ((guint) strtoul (eq + 1, NULL, 10)));
  }
  mdevs = g_key_file_get_string_list (kf, "Transaction", "Mdevs", NULL, NULL);
  for (guint i = 0; mdevs && mdevs[i]; i++)
    g_hash_table_add (family->mdevs, g_strdup (mdevs[i]));
  *wanted = -1;
  if (g_key_file_has_key (kf, "Transaction", "WantedNumVfs", NULL)) {
    guint64 w = g_key_file_get_uint64 (kf, "Transaction", "WantedNumVfs", &local);
    if (local) {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
    *wanted = (gint) MIN (w, G_MAXUINT16);
  }
  *operation = g_key_file_get_string (kf, "Transaction", "Operation", NULL);
  if (!*operation)
    *operation = g_strdup ("an operation");
  return g_steal_pointer (&family);
}

/* ---- restore ---- */

/* "qemu-system-x86 (pid 4242)" for the first holder of NODES, or NULL. */
static char *
held_by (const char *root, const char *const *nodes)
{
  g_autoptr (GPtrArray) holders = NULL;
  const GvHostHolder *h;

  if (!nodes || !nodes[0])
    return NULL;
  holders = gv_host_holders_scan (root, nodes, NULL, NULL);
  if (!holders || holders->len == 0)
    return NULL;
  h = holders->pdata[0];
  return g_strdup_printf ("%s (pid %d, %s)", *h->comm ? h->comm : "?", h->pid, h->node);
}

static char *
function_held_by (const char *root, const char *bdf)
{
  g_autoptr (GvHostFunction) fn = gv_host_function_read (root, bdf, NULL, NULL);
  g_autofree char *group = NULL;
  g_auto (GStrv) nodes = NULL;

  if (!fn)
    return NULL;
  group = gv_host_vfio_group_node (root, fn->iommu_group);
  nodes = gv_host_holder_nodes_for (fn, group, NULL);
  return held_by (root, (const char *const *) nodes);
}

static char *
mdev_held_by (const char *root, const GvHostMdev *m)
{
  const char *nodes[3] = { NULL, NULL, NULL };
  guint n = 0;

  if (m->vfio_group_node)
    nodes[n++] = m->vfio_group_node;
  if (m->vfio_cdev_node)
    nodes[n++] = m->vfio_cdev_node;
  return held_by (root, nodes);
}

static void
note (GString *report, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
note (GString *report, const char *format, ...)
{
  va_list args;

  if (!report)
    return;
  if (report->len)
    g_string_append (report, "; ");
  va_start (args, format);
  g_string_append_vprintf (report, format, args);
  va_end (args);
}

/* Keeps the first failure; a stuck one wins (its code says more). */
static void
keep_error (GError **first, GError *error)
{
  gboolean hung = error->code == GV_ERROR_STUCK || error->code == GV_ERROR_PENDING;

  if (!*first || (hung && (*first)->code != GV_ERROR_STUCK && (*first)->code != GV_ERROR_PENDING)) {
    g_clear_error (first);
    *first = g_error_copy (error);
  }
}

gboolean
gv_vgpu_family_restore (const GvVgpuContext *ctx, const GvVgpuFamily *target, GString *report, GError **error)
{
  g_autoptr (GvVgpuFamily) now = NULL;
  g_autoptr (GPtrArray) mdevs = NULL;
  g_autoptr (GPtrArray) typed = NULL;
  g_autoptr (GError) first = NULL;
  g_auto (GStrv) vfs = NULL;
  gboolean in_use = FALSE;

  if (!gv_vgpu_check_root (ctx, error))
    return FALSE;
  now = gv_vgpu_family_read (ctx->root, target->gpu, NULL);
  if (!now) {
    note (report, "%s is no longer on this host", target->gpu);
    return TRUE;
  }
  vfs = gv_host_read_vfs (ctx->root, target->gpu);

  /* mdevs made since */
  mdevs = gv_host_mdevs_read (ctx->root);
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *m = mdevs->pdata[i];
    g_autofree char *holder = NULL;
    g_autoptr (GError) local = NULL;

    if (!in_family (target->gpu, (const char *const *) vfs, m->parent) || g_hash_table_contains (target->mdevs, m->uuid))
      continue;
    holder = mdev_held_by (ctx->root, m);
    if (holder) {
      note (report, "mdev %s left in place: %s uses it", m->uuid, holder);
      in_use = TRUE;
      continue;
    }
    if (gv_vgpu_remove_mdev (ctx, m->uuid, &local))
      note (report, "mdev %s on %s removed", m->uuid, m->parent);
    else
      keep_error (&first, local);
  }

  /* types set since */
  typed = sorted_keys (now->vf_types);
  for (guint i = 0; i < typed->len; i++) {
    const char *vf = typed->pdata[i];
    guint type = GPOINTER_TO_UINT (g_hash_table_lookup (now->vf_types, vf));
    g_autofree char *holder = NULL;
    g_autoptr (GError) local = NULL;

    if (GPOINTER_TO_UINT (g_hash_table_lookup (target->vf_types, vf)) == type)
      continue;
    holder = function_held_by (ctx->root, vf);
    if (holder) {
      note (report, "vGPU type %u of %s left in place: %s uses it", type, vf, holder);
      in_use = TRUE;
      continue;
    }
    if (gv_vgpu_release_type (ctx, vf, NULL, &local))
      note (report, "vGPU type %u of %s released", type, vf);
    else
      keep_error (&first, local);
  }

  /* the VF count last: the VFs must be free of what went above */
  if (now->num_vfs != target->num_vfs) {
    g_autofree char *holder = NULL;
    g_autoptr (GError) local = NULL;

    for (guint i = 0; vfs[i] && !holder; i++)
      holder = function_held_by (ctx->root, vfs[i]);
    if (holder || in_use || first)
      note (report, "%u VFs of %s left enabled (%u before): %s", now->num_vfs, target->gpu, target->num_vfs,
            holder ? holder : first ? "an earlier step of the undo failed" : "a VF is in use");
    else if (gv_vgpu_set_num_vfs (ctx, target->gpu, target->num_vfs, NULL, &local))
      note (report, "VFs of %s %u -> %u", target->gpu, now->num_vfs, target->num_vfs);
    else
      keep_error (&first, local);
  }

  if (first) {
    g_propagate_error (error, g_steal_pointer (&first));
    return FALSE;
  }
  return TRUE;
}

/* Did the kernel complete the SR-IOV count WANTED asked for? The count
 * and its VFs are there, and nothing the target lacks besides. */
static gboolean
completed (const GvVgpuContext *ctx, const GvVgpuFamily *target, gint wanted)
{
  g_autoptr (GvVgpuFamily) now = NULL;
  g_auto (GStrv) vfs = NULL;
  GHashTableIter iter;
  gpointer key;

  if (wanted < 0)
    return FALSE;
  now = gv_vgpu_family_read (ctx->root, target->gpu, NULL);
  if (!now || now->num_vfs != (guint) wanted)
    return FALSE;
  vfs = gv_host_read_vfs (ctx->root, target->gpu);
  if (g_strv_length (vfs) != (guint) wanted)
    return FALSE;
  g_hash_table_iter_init (&iter, now->vf_types);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (target->vf_types, key))
      return FALSE;
  g_hash_table_iter_init (&iter, now->mdevs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (target->mdevs, key))
      return FALSE;
  return TRUE;
}

/* Takes the family of journal KF where it must go: kept when the kernel
 * completed the count asked for (or KEEP), restored to the target
 * otherwise. REPORT says what and why. */
static gboolean
settle (const GvVgpuContext *ctx, GKeyFile *kf, gboolean keep, GString *report, char **operation, char **gpu,
        GError **error)
{
  g_autoptr (GvVgpuFamily) target = NULL;
  gint wanted = -1;

  target = family_from_journal (kf, operation, &wanted, error);
  if (!target)
    return FALSE;
  *gpu = g_strdup (target->gpu);
  if (keep || completed (ctx, target, wanted)) {
    if (wanted >= 0)
      note (report, "the kernel completed it: %d VFs of %s kept, as asked", wanted, target->gpu);
    else
      note (report, "the kernel completed it: kept, as asked");
    return TRUE;
  }
  if (!gv_vgpu_family_restore (ctx, target, report, error))
    return FALSE;
  if (report->len == 0)
    note (report, "nothing was left half-done");
  else if (wanted >= 0)
    g_string_prepend (report, "undone, as the kernel had not completed the count asked: ");
  else if (g_str_has_prefix (*operation, "release") || g_str_has_prefix (*operation, "remove"))
    g_string_prepend (report, "completed, as it takes away and had not ended: ");
  else
    g_string_prepend (report, "undone, as it had not ended: ");
  return TRUE;
}

gboolean
gv_vgpu_journal_settle (GvJournal *records, const GvVgpuContext *ctx, const char *id, gboolean keep, GString *report,
                        GError **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_autofree char *operation = NULL;
  g_autofree char *gpu = NULL;

  if (!gv_vgpu_check_root (ctx, error))
    return FALSE;
  kf = gv_journal_load (records, id, error);
  if (!kf || !settle (ctx, kf, keep, report, &operation, &gpu, error))
    return FALSE;
  return gv_journal_end (records, id, error);
}

gboolean
gv_vgpu_journal_recover (GvJournal *records, const GvVgpuContext *ctx, GPtrArray **results, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) problems = g_string_new (NULL);
  g_auto (GStrv) ids = NULL;
  gboolean any_stuck = FALSE;

  if (results)
    *results = NULL;
  if (!gv_vgpu_check_root (ctx, error))
    return FALSE;
  ids = gv_journal_list (records);
  /* newest first, as an undo goes */
  for (guint i = g_strv_length (ids); i-- > 0;) {
    g_autofree char *kind = gv_journal_kind (records, ids[i]);
    g_autoptr (GKeyFile) kf = NULL;
    g_autoptr (GString) report = g_string_new (NULL);
    g_autoptr (GError) local = NULL;
    g_autofree char *operation = NULL;
    g_autofree char *gpu = NULL;

    if (!kind || !g_str_equal (kind, GV_VGPU_JOURNAL_KIND))
      continue;
    kf = gv_journal_load (records, ids[i], &local);
    if (!kf || (!settle (ctx, kf, FALSE, report, &operation, &gpu, &local) && !gpu)) {
      g_string_append_printf (problems, "; journal %s is unreadable (%s) and was left in place", ids[i],
                              local->message);
      continue;
    }
    if (local) {
      any_stuck |= local->code == GV_ERROR_STUCK || local->code == GV_ERROR_PENDING;
      g_string_append_printf (problems, "; %s (%s interrupted): %s%s%s", gpu, operation, local->message,
                              report->len ? "; " : "", report->str);
      g_ptr_array_add (out, g_strdup_printf ("%s (%s interrupted): NOT recovered: %s", gpu, operation,
                                             local->message));
      continue;
    }
    g_ptr_array_add (out, g_strdup_printf ("%s (%s interrupted): %s", gpu, operation, report->str));
    if (!gv_journal_end (records, ids[i], &local))
      g_string_append_printf (problems, "; journal %s: %s", ids[i], local->message);
  }
  if (results)
    *results = g_steal_pointer (&out);
  if (problems->len) {
    g_set_error (error, GV_ERROR, any_stuck ? GV_ERROR_STUCK : GV_ERROR_KERNEL,
                 "Recovery of interrupted SR-IOV and vGPU operations is incomplete%s", problems->str);
    return FALSE;
  }
  return TRUE;
}
