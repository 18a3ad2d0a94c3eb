#include "host/model.h"
#include "host/classify.h"

#include <string.h>

struct _GvHost {
  char *root;
  GvHostNames *names;
  GHashTable *fns;       /* BDF → GvHostFunction (reference): the facts */
  GPtrArray *devices;    /* GvHostDevice, sorted by BDF: facts plus derived data */
  GHashTable *by_bdf;    /* BDF → GvHostDevice, borrowed from devices */
  GPtrArray *mdevs;      /* GvHostMdev */
  GvHostFacts *facts;
  GPtrArray *extra_bdfs; /* char * */
  GArray *extra_classes; /* GvHostClassMatch */
  GHashTable *held;      /* BDF → count: not read now (gv_host_hold_reads) */
};

const char *
gv_host_role_to_string (GvHostRole role)
{
  switch (role) {
  case GV_HOST_ROLE_GPU: return "gpu";
  case GV_HOST_ROLE_EXTRA: return "extra";
  case GV_HOST_ROLE_COMPANION: return "companion";
  case GV_HOST_ROLE_VF: return "vf";
  case GV_HOST_ROLE_UNMANAGED:
  default: return "unmanaged";
  }
}

const char *
gv_host_verdict_to_string (GvHostVerdict verdict)
{
  switch (verdict) {
  case GV_HOST_GROUP_VIABLE: return "viable";
  case GV_HOST_GROUP_SHARED: return "shared";
  case GV_HOST_GROUP_NONE:
  default: return "none";
  }
}

/* ---- GvHostDevice ---- */

static void
device_clear (gpointer data)
{
  GvHostDevice *d = data;

  gv_host_function_unref (d->fn);
  g_free (d->owner);
  g_strfreev (d->companions);
  g_strfreev (d->group_members);
  g_free (d->vfio_group_node);
  g_strfreev (d->foreign);
}

GvHostDevice *
gv_host_device_ref (GvHostDevice *device)
{
  return g_atomic_rc_box_acquire (device);
}

void
gv_host_device_unref (GvHostDevice *device)
{
  if (device)
    g_atomic_rc_box_release_full (device, device_clear);
}

static gboolean
strv_equal (GStrv a, GStrv b)
{
  if (!a || !b)
    return a == b;
  return g_strv_equal ((const char *const *) a, (const char *const *) b);
}

gboolean
gv_host_device_equal (const GvHostDevice *a, const GvHostDevice *b)
{
  if (a == b)
    return TRUE;
  if (!a || !b)
    return FALSE;
  return gv_host_function_equal (a->fn, b->fn) && a->role == b->role && a->managed == b->managed &&
         g_strcmp0 (a->owner, b->owner) == 0 && strv_equal (a->companions, b->companions) &&
         strv_equal (a->group_members, b->group_members) &&
         g_strcmp0 (a->vfio_group_node, b->vfio_group_node) == 0 && a->verdict == b->verdict &&
         strv_equal (a->foreign, b->foreign) && a->framework == b->framework;
}

/* ---- class matches ---- */

gboolean
gv_host_class_match_parse (const char *text, GvHostClassMatch *out)
{
  const char *p = text;
  gsize len;
  guint32 v = 0;

  if (!p)
    return FALSE;
  if (g_str_has_prefix (p, "0x") || g_str_has_prefix (p, "0X"))
    p += 2;
  len = strlen (p);
  if (len != 2 && len != 4 && len != 6)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isxdigit (p[i]))
      return FALSE;
    v = v << 4 | (guint32) g_ascii_xdigit_value (p[i]);
  }
  out->value = v << (4 * (6 - len));
  out->mask = (0xffffffu << (4 * (6 - len))) & 0xffffffu;
  return TRUE;
}

/* ---- changes ---- */

void
gv_host_changes_free (GvHostChanges *changes)
{
  if (!changes)
    return;
  g_strfreev (changes->added);
  g_strfreev (changes->removed);
  g_strfreev (changes->changed);
  g_free (changes);
}

gboolean
gv_host_changes_is_empty (const GvHostChanges *c)
{
  return !c->added[0] && !c->removed[0] && !c->changed[0] && !c->mdevs_changed && !c->facts_changed;
}

static GStrv
strv_take_sorted (GPtrArray *array)
{
  g_ptr_array_sort (array, gv_sysfs_compare_names);
  g_ptr_array_add (array, NULL);
  return (GStrv) g_ptr_array_free (array, FALSE);
}

/* ---- the host ---- */

GvHost *
gv_host_new (const char *root, GError **error)
{
  g_autofree char *devices = NULL;
  GvHost *host;

  if (!root || !*root) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_NO_ROOT, "No root directory given");
    return NULL;
  }
  devices = g_build_filename (root, "sys", "bus", "pci", "devices", NULL);
  if (!g_file_test (devices, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_ROOT,
                 "%s is not a host root: %s is not a directory", root, devices);
    return NULL;
  }
  host = g_new0 (GvHost, 1);
  host->root = g_strdup (root);
  host->names = gv_host_names_new ();
  host->fns = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) gv_host_function_unref);
  host->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_device_unref);
  host->by_bdf = g_hash_table_new (g_str_hash, g_str_equal);
  host->mdevs = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_mdev_free);
  host->facts = gv_host_facts_read (root);
  host->extra_bdfs = g_ptr_array_new_with_free_func (g_free);
  host->extra_classes = g_array_new (FALSE, FALSE, sizeof (GvHostClassMatch));
  host->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return host;
}

void
gv_host_free (GvHost *host)
{
  if (!host)
    return;
  g_free (host->root);
  gv_host_names_free (host->names);
  g_hash_table_destroy (host->by_bdf);
  g_ptr_array_unref (host->devices);
  g_hash_table_destroy (host->fns);
  g_ptr_array_unref (host->mdevs);
  gv_host_facts_free (host->facts);
  g_ptr_array_unref (host->extra_bdfs);
  g_array_unref (host->extra_classes);
  g_hash_table_unref (host->held);
  g_free (host);
}

const char *
gv_host_get_root (GvHost *host)
{
  return host->root;
}

GPtrArray *
gv_host_get_devices (GvHost *host)
{
  return host->devices;
}

GvHostDevice *
gv_host_lookup (GvHost *host, const char *bdf)
{
  return bdf ? g_hash_table_lookup (host->by_bdf, bdf) : NULL;
}

GPtrArray *
gv_host_dup_managed (GvHost *host)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_host_device_unref);

  for (guint i = 0; i < host->devices->len; i++) {
    GvHostDevice *d = host->devices->pdata[i];
    if (d->managed)
      g_ptr_array_add (out, gv_host_device_ref (d));
  }
  return out;
}

GPtrArray *
gv_host_get_mdevs (GvHost *host)
{
  return host->mdevs;
}

const GvHostFacts *
gv_host_get_facts (GvHost *host)
{
  return host->facts;
}

/* Derives every GvHostDevice from the facts in host->fns. */
static void
rebuild (GvHost *host)
{
  GvHostClassifyInput in = { host->root, host->fns, host->extra_bdfs, host->extra_classes };
  g_autoptr (GPtrArray) devices = gv_host_classify (&in);

  g_hash_table_remove_all (host->by_bdf);
  g_ptr_array_unref (host->devices);
  host->devices = g_steal_pointer (&devices);
  for (guint i = 0; i < host->devices->len; i++) {
    GvHostDevice *d = host->devices->pdata[i];
    g_hash_table_insert (host->by_bdf, d->fn->bdf, d);
  }
}

/* ---- changes between two models ---- */

/* BDF → GvHostDevice reference, to compare a model before and after. */
static GHashTable *
snapshot (GvHost *host)
{
  GHashTable *snap = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) gv_host_device_unref);

  for (guint i = 0; i < host->devices->len; i++) {
    GvHostDevice *d = host->devices->pdata[i];
    g_hash_table_insert (snap, d->fn->bdf, gv_host_device_ref (d));
  }
  return snap;
}

static gboolean
mdevs_equal (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++) {
    const GvHostMdev *x = a->pdata[i], *y = b->pdata[i];
    if (!g_str_equal (x->uuid, y->uuid) || !g_str_equal (x->type_id, y->type_id) ||
        !g_str_equal (x->parent, y->parent) || x->iommu_group != y->iommu_group ||
        g_strcmp0 (x->vfio_group_node, y->vfio_group_node) != 0 ||
        g_strcmp0 (x->vfio_cdev_node, y->vfio_cdev_node) != 0)
      return FALSE;
  }
  return TRUE;
}

static GvHostChanges *
diff (GvHost *host, GHashTable *before, gboolean mdevs_changed, gboolean facts_changed)
{
  GvHostChanges *c = g_new0 (GvHostChanges, 1);
  GPtrArray *added = g_ptr_array_new (), *removed = g_ptr_array_new (), *changed = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < host->devices->len; i++) {
    GvHostDevice *d = host->devices->pdata[i];
    GvHostDevice *old = g_hash_table_lookup (before, d->fn->bdf);
    if (!old)
      g_ptr_array_add (added, g_strdup (d->fn->bdf));
    else if (!gv_host_device_equal (old, d))
      g_ptr_array_add (changed, g_strdup (d->fn->bdf));
  }
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (host->by_bdf, key))
      g_ptr_array_add (removed, g_strdup (key));
  c->added = strv_take_sorted (added);
  c->removed = strv_take_sorted (removed);
  c->changed = strv_take_sorted (changed);
  c->mdevs_changed = mdevs_changed;
  c->facts_changed = facts_changed;
  return c;
}

/* ---- reading ---- */

/* Keeps the old snapshot when nothing changed, so that unchanged devices
 * share their facts with the previous model. */
static void
store_function (GvHost *host, GvHostFunction *fn)
{
  GvHostFunction *old = g_hash_table_lookup (host->fns, fn->bdf);

  if (old && gv_host_function_equal (old, fn)) {
    gv_host_function_unref (fn);
    return;
  }
  g_hash_table_replace (host->fns, fn->bdf, fn);
}

static gboolean
read_facts (GvHost *host)
{
  GvHostFacts *facts = gv_host_facts_read (host->root);
  gboolean changed = !gv_host_facts_equal (facts, host->facts);

  gv_host_facts_free (host->facts);
  host->facts = facts;
  return changed;
}

static gboolean
read_mdevs (GvHost *host)
{
  GPtrArray *mdevs = gv_host_mdevs_read (host->root);
  gboolean changed = !mdevs_equal (mdevs, host->mdevs);

  g_ptr_array_unref (host->mdevs);
  host->mdevs = mdevs;
  return changed;
}

void
gv_host_hold_reads (GvHost *host, const char *bdf)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (host->held, bdf));

  g_hash_table_insert (host->held, g_strdup (bdf), GUINT_TO_POINTER (n + 1));
}

void
gv_host_release_reads (GvHost *host, const char *bdf)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (host->held, bdf));

  if (n > 1)
    g_hash_table_insert (host->held, g_strdup (bdf), GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (host->held, bdf);
}

/* BDF is held and the model has it: keep that. */
static gboolean
keep_held (GvHost *host, const char *bdf)
{
  return g_hash_table_contains (host->held, bdf) && g_hash_table_contains (host->fns, bdf);
}

/* Reading a function is a few dozen small sysfs reads, each waiting on
 * the kernel (or the simulator): a scan reads several functions at once.
 * OUT[i] gets BDFS[i]'s function, NULL when it went away meanwhile. */
#define SCAN_THREADS 4

typedef struct {
  const char *root;
  const char *const *bdfs;
  guint n;
  GvHostFunction **out;
  GvHostNames *names;
  GvHostReadCache *cache;
  gint next;
} ScanJob;

static gpointer
scan_worker (gpointer data)
{
  ScanJob *job = data;

  for (;;) {
    gint i = g_atomic_int_add (&job->next, 1);
    if (i >= (gint) job->n)
      return NULL;
    job->out[i] = gv_host_function_read_cached (job->root, job->bdfs[i], job->names, job->cache, NULL);
  }
}

static void
read_functions (GvHost *host, const char *const *bdfs, guint n, GvHostReadCache *cache, GvHostFunction **out)
{
  ScanJob job = { host->root, bdfs, n, out, host->names, cache, 0 };
  GThread *threads[SCAN_THREADS] = { NULL };
  guint k = MIN (SCAN_THREADS, n / 16);

  for (guint t = 0; t < k; t++)
    threads[t] = g_thread_new ("gpuvirt-scan", scan_worker, &job);
  scan_worker (&job);
  for (guint t = 0; t < k; t++)
    g_thread_join (threads[t]);
}

gboolean
gv_host_rescan (GvHost *host, GvHostChanges **changes, GError **error)
{
  g_autofree char *devices_dir = g_build_filename (host->root, "sys", "bus", "pci", "devices", NULL);
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GvHostReadCache) cache = NULL;
  g_autoptr (GPtrArray) todo = NULL;
  g_autofree GvHostFunction **read = NULL;
  GHashTableIter iter;
  gpointer key;
  gboolean mdevs_changed, facts_changed;

  if (!g_file_test (devices_dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, GV_ERROR, GV_ERROR_NO_ROOT,
                 "Cannot scan %s: %s is not a directory", host->root, devices_dir);
    return FALSE;
  }
  before = snapshot (host);
  cache = gv_host_read_cache_new (host->root);
  names = gv_sysfs_list_dir (devices_dir);
  todo = g_ptr_array_new ();
  for (guint i = 0; i < names->len; i++) {
    if (!gv_host_bdf_is_valid (names->pdata[i]))
      continue;
    if (keep_held (host, names->pdata[i])) {
      g_hash_table_add (seen, names->pdata[i]);
      continue;
    }
    g_ptr_array_add (todo, names->pdata[i]);
  }
  read = g_new0 (GvHostFunction *, todo->len + 1);
  read_functions (host, (const char *const *) todo->pdata, todo->len, cache, read);
  for (guint i = 0; i < todo->len; i++) {
    /* A function removed while we list is simply not there. */
    if (!read[i])
      continue;
    g_hash_table_add (seen, todo->pdata[i]);
    store_function (host, read[i]);
  }
  g_hash_table_iter_init (&iter, host->fns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      g_hash_table_iter_remove (&iter);
  mdevs_changed = read_mdevs (host);
  facts_changed = read_facts (host);
  rebuild (host);
  if (changes)
    *changes = diff (host, before, mdevs_changed, facts_changed);
  return TRUE;
}

/* The VFs a function lists now or listed before. */
static void
queue_vfs (GPtrArray *queue, const GvHostFunction *fn)
{
  for (guint i = 0; fn && fn->vfs[i]; i++)
    g_ptr_array_add (queue, g_strdup (fn->vfs[i]));
}

static gboolean
has_vgpu (const GvHostFunction *fn)
{
  return fn && (fn->mdev_parent || fn->vendor_vfio);
}

/* Re-reads every BDF of QUEUE and what they pull in; BDFs in DONE are not
 * read twice. */
static void
reread (GvHost *host, GPtrArray *queue, GHashTable *done)
{
  g_autoptr (GvHostReadCache) cache = queue->len > 1 ? gv_host_read_cache_new (host->root) : NULL;

  for (guint i = 0; i < queue->len; i++) {
    const char *bdf = queue->pdata[i];
    g_autoptr (GvHostFunction) old = NULL;
    GvHostFunction *fn;

    if (g_hash_table_contains (done, bdf))
      continue;
    g_hash_table_add (done, g_strdup (bdf));
    if (keep_held (host, bdf))
      continue;
    old = g_hash_table_lookup (host->fns, bdf);
    if (old)
      gv_host_function_ref (old);
    fn = gv_host_function_read_cached (host->root, bdf, host->names, cache, NULL);

    /* VFs that come or go with it; a vGPU family's type lists change
     * together, so a VF pulls in its PF, and the PF all its VFs. */
    queue_vfs (queue, old);
    queue_vfs (queue, fn);
    if (has_vgpu (old) || has_vgpu (fn)) {
      const char *pf = fn && fn->physfn ? fn->physfn : old ? old->physfn : NULL;
      if (pf)
        g_ptr_array_add (queue, g_strdup (pf));
    }

    if (fn)
      store_function (host, fn);
    else
      g_hash_table_remove (host->fns, bdf);
  }
}

static void
queue_mdev_parents (GPtrArray *queue, GPtrArray *mdevs)
{
  for (guint i = 0; i < mdevs->len; i++) {
    const GvHostMdev *mdev = mdevs->pdata[i];
    if (*mdev->parent)
      g_ptr_array_add (queue, g_strdup (mdev->parent));
  }
}

static gboolean
refresh (GvHost *host, const char *const *bdfs, gboolean strict, gboolean mdevs_only,
         GvHostChanges **changes, GError **error)
{
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GPtrArray) queue = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) old_mdevs = NULL;
  gboolean mdevs_changed, facts_changed;

  for (guint i = 0; bdfs && bdfs[i]; i++) {
    g_autofree char *dir = NULL;

    if (!gv_host_bdf_is_valid (bdfs[i])) {
      g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                   "“%s” is not a PCI address of the form dddd:bb:ss.f", bdfs[i]);
      return FALSE;
    }
    dir = g_build_filename (host->root, "sys", "bus", "pci", "devices", bdfs[i], NULL);
    if (strict && !g_hash_table_contains (host->fns, bdfs[i]) && !g_file_test (dir, G_FILE_TEST_IS_DIR)) {
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE,
                   "No PCI function %s on this host", bdfs[i]);
      return FALSE;
    }
    g_ptr_array_add (queue, g_strdup (bdfs[i]));
  }

  before = snapshot (host);
  reread (host, queue, done);

  /* mdevs, and the families of the parents of those that came or went */
  old_mdevs = g_ptr_array_ref (host->mdevs);
  mdevs_changed = read_mdevs (host);
  if (mdevs_changed || mdevs_only) {
    g_ptr_array_set_size (queue, 0);
    g_hash_table_remove_all (done);
    queue_mdev_parents (queue, old_mdevs);
    queue_mdev_parents (queue, host->mdevs);
    reread (host, queue, done);
  }
  facts_changed = read_facts (host);
  rebuild (host);
  if (changes)
    *changes = diff (host, before, mdevs_changed, facts_changed);
  return TRUE;
}

gboolean
gv_host_refresh_function (GvHost *host, const char *bdf, GvHostChanges **changes, GError **error)
{
  const char *bdfs[] = { bdf, NULL };

  if (!bdf) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "No PCI address given");
    return FALSE;
  }
  return refresh (host, bdfs, TRUE, FALSE, changes, error);
}

gboolean
gv_host_refresh_functions (GvHost *host, const char *const *bdfs, GvHostChanges **changes, GError **error)
{
  return refresh (host, bdfs, FALSE, FALSE, changes, error);
}

gboolean
gv_host_refresh_parts (GvHost *host, GHashTable *parts, gboolean mdevs, GvHostChanges **changes, GError **error)
{
  g_autoptr (GHashTable) before = snapshot (host);
  g_autoptr (GvHostReadCache) cache = NULL;
  gboolean mdevs_changed = FALSE;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, parts);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!gv_host_bdf_is_valid (key)) {
      g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "“%s” is not a PCI address of the form dddd:bb:ss.f",
                   (const char *) key);
      return FALSE;
    }
  if (g_hash_table_size (parts) > 1)
    cache = gv_host_read_cache_new (host->root);
  g_hash_table_iter_init (&iter, parts);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    const char *bdf = key;
    GvHostFunction *old = g_hash_table_lookup (host->fns, bdf);
    GvHostFunction *fn;

    if (keep_held (host, bdf))
      continue;
    /* a function new to the model is read whole */
    fn = old ? gv_host_function_reread (host->root, old, GPOINTER_TO_UINT (value), cache, NULL)
             : gv_host_function_read_cached (host->root, bdf, host->names, cache, NULL);
    if (fn)
      store_function (host, fn);
    else
      g_hash_table_remove (host->fns, bdf);
  }
  if (mdevs)
    mdevs_changed = read_mdevs (host);
  rebuild (host);
  if (changes)
    *changes = diff (host, before, mdevs_changed, FALSE);
  return TRUE;
}

gboolean
gv_host_refresh_mdevs (GvHost *host, GvHostChanges **changes, GError **error)
{
  return refresh (host, NULL, FALSE, TRUE, changes, error);
}

void
gv_host_set_extra_managed (GvHost *host, const char *const *bdfs, const GvHostClassMatch *classes, gsize n_classes)
{
  g_ptr_array_set_size (host->extra_bdfs, 0);
  g_array_set_size (host->extra_classes, 0);
  for (guint i = 0; bdfs && bdfs[i]; i++)
    g_ptr_array_add (host->extra_bdfs, g_strdup (bdfs[i]));
  if (classes && n_classes)
    g_array_append_vals (host->extra_classes, classes, n_classes);
  rebuild (host);
}

GPtrArray *
gv_host_get_holders (GvHost *host, const char *bdf, GError **error)
{
  GvHostDevice *d = gv_host_lookup (host, bdf);
  g_auto (GStrv) nodes = NULL;

  if (!d) {
    if (!gv_host_bdf_is_valid (bdf))
      g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                   "“%s” is not a PCI address of the form dddd:bb:ss.f", bdf ? bdf : "(null)");
    else
      g_set_error (error, GV_ERROR, GV_ERROR_NO_SUCH_DEVICE, "No PCI function %s on this host", bdf);
    return NULL;
  }
  nodes = gv_host_holder_nodes_for (d->fn, d->vfio_group_node, host->mdevs);
  return gv_host_holders_scan (host->root, (const char *const *) nodes, NULL, error);
}
