/* MIG as the daemon keeps it: NVML opened at start, and each MIG GPU as
 * NVML last showed it, read again in workers after changes and on
 * Refresh (NVML tells nothing by itself). The bus serves the snapshots. */
#include "daemon/daemon.h"
#include "daemon/internal.h"

#define MIG_TIMEOUT_MS 10000

/* Functions NVML may know: physical functions on the nvidia driver (only
 * NVIDIA GPUs bind to it; NVML says which have MIG). Neither vendor nor
 * class is asked: the test VM's nvidia_model module binds an NVMe. */
static gboolean
nvml_may_know (const GvHostDevice *d)
{
  return d && !d->fn->physfn && g_strcmp0 (d->fn->driver, "nvidia") == 0;
}

static GStrv
candidates (Daemon *daemon)
{
  GPtrArray *devices = gv_host_get_devices (daemon->host);
  GPtrArray *list = g_ptr_array_new ();

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    if (nvml_may_know (d))
      g_ptr_array_add (list, g_strdup (d->fn->bdf));
  }
  g_ptr_array_add (list, NULL);
  return (GStrv) g_ptr_array_free (list, FALSE);
}

/* One GPU read; NULL when it has no MIG (or it could not be read: logged). */
static GvMigGpu *
read_one (GvMigNvml *nvml, const char *bdf)
{
  g_autoptr (GError) error = NULL;
  GvMigGpu *gpu = gv_mig_gpu_read (nvml, bdf, MIG_TIMEOUT_MS, &error);

  if (!gpu && !g_error_matches (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED))
    g_warning ("Could not read the MIG state of %s: %s", bdf, error->message);
  return gpu;
}

void
daemon_mig_start (Daemon *daemon)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) bdfs = NULL;

  daemon->nvml = gv_mig_nvml_open (MIG_TIMEOUT_MS, &error);
  g_free (daemon->mig_status);
  if (!daemon->nvml) {
    daemon->mig_status = g_strdup_printf ("MIG is unavailable: %s", error->message);
    g_message ("%s", daemon->mig_status);
    return;
  }
  daemon->mig_status = g_strdup (gv_mig_nvml_describe (daemon->nvml));
  g_message ("MIG through %s", daemon->mig_status);
  bdfs = candidates (daemon);
  for (guint i = 0; bdfs[i]; i++) {
    GvMigGpu *gpu = read_one (daemon->nvml, bdfs[i]);
    if (gpu)
      g_hash_table_insert (daemon->mig, g_strdup (bdfs[i]), gpu);
  }
}

void
daemon_mig_read_all (Daemon *daemon)
{
  g_auto (GStrv) bdfs = NULL;
  g_autoptr (GPtrArray) known = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  if (!daemon->nvml)
    return;
  bdfs = candidates (daemon);
  g_hash_table_iter_init (&iter, daemon->mig);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (known, g_strdup (key));
  for (guint i = 0; bdfs[i]; i++)
    daemon_mig_store (daemon, bdfs[i], read_one (daemon->nvml, bdfs[i]), g_get_monotonic_time ());
  /* a GPU that left the nvidia driver meanwhile has no MIG now */
  for (guint i = 0; i < known->len; i++)
    if (!g_strv_contains ((const char *const *) bdfs, known->pdata[i]))
      daemon_mig_store (daemon, known->pdata[i], NULL, g_get_monotonic_time ());
}

GvMigGpu *
daemon_mig_lookup (Daemon *daemon, const char *bdf)
{
  return daemon->mig && bdf ? g_hash_table_lookup (daemon->mig, bdf) : NULL;
}

GvMigContext
daemon_mig_context (Daemon *daemon, guint timeout_ms)
{
  return (GvMigContext) { daemon->nvml, daemon->root, daemon->journal, timeout_ms };
}

void
daemon_mig_store (Daemon *daemon, const char *bdf, GvMigGpu *gpu, gint64 read_at)
{
  gboolean had = g_hash_table_contains (daemon->mig, bdf);
  gpointer last;

  if (g_hash_table_lookup_extended (daemon->mig_read_at, bdf, NULL, &last) &&
      (gint64) GPOINTER_TO_SIZE (last) > read_at) {
    gv_mig_gpu_free (gpu);   /* an older read than the one kept */
    return;
  }
  if (gpu && had && gv_mig_gpu_equal (gpu, g_hash_table_lookup (daemon->mig, bdf))) {
    /* the same: the new snapshot is kept (names of new profiles) quietly */
    g_hash_table_insert (daemon->mig, g_strdup (bdf), gpu);
    g_hash_table_insert (daemon->mig_read_at, g_strdup (bdf), GSIZE_TO_POINTER ((gsize) read_at));
    return;
  }
  if (gpu)
    g_hash_table_insert (daemon->mig, g_strdup (bdf), gpu);
  else
    g_hash_table_remove (daemon->mig, bdf);
  g_hash_table_insert (daemon->mig_read_at, g_strdup (bdf), GSIZE_TO_POINTER ((gsize) read_at));
  if (had || gpu)
    daemon->handlers->mig_changed (daemon, bdf, had);
}

/* ---- refreshing in a worker ---- */

typedef struct {
  Daemon *daemon;
  GvMigNvml *nvml;
  GStrv bdfs;
  GPtrArray *gpus;   /* GvMigGpu or NULL, one per BDF */
  gint64 read_at;
  void (*then) (Daemon *daemon);
} Refresh;

static gpointer
refresh_worker (gpointer data)
{
  Refresh *r = data;

  for (guint i = 0; r->bdfs[i]; i++)
    g_ptr_array_add (r->gpus, read_one (r->nvml, r->bdfs[i]));
  daemon_queue_push (r->daemon->mig_queue, r);
  return NULL;
}

void
daemon_mig_refresh (Daemon *daemon, const char *const *bdfs)
{
  daemon_mig_refresh_then (daemon, bdfs, NULL);
}

void
daemon_mig_refresh_then (Daemon *daemon, const char *const *bdfs, void (*then) (Daemon *daemon))
{
  Refresh *r;

  if (!daemon->nvml) {
    if (then)
      then (daemon);
    return;
  }
  r = g_new0 (Refresh, 1);
  r->daemon = daemon;
  r->nvml = daemon->nvml;
  if (bdfs) {
    /* only GPUs NVML may know; one that left the nvidia driver has no MIG now */
    r->bdfs = g_strdupv ((char **) bdfs);
  } else {
    g_auto (GStrv) now = candidates (daemon);
    GHashTableIter iter;
    gpointer key;
    GPtrArray *all = g_ptr_array_new ();
    for (guint i = 0; now[i]; i++)
      g_ptr_array_add (all, g_strdup (now[i]));
    g_hash_table_iter_init (&iter, daemon->mig);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (!g_strv_contains ((const char *const *) now, key))
        g_ptr_array_add (all, g_strdup (key));
    g_ptr_array_add (all, NULL);
    r->bdfs = (GStrv) g_ptr_array_free (all, FALSE);
  }
  r->gpus = g_ptr_array_new ();
  r->read_at = g_get_monotonic_time ();
  r->then = then;
  daemon_worker_start (daemon, "gpuvirt-mig-read", refresh_worker, r);
}

void
daemon_mig_follow (Daemon *daemon, const GvHostChanges *changes, GHashTable *before)
{
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new_with_free_func (g_free);
  const char *const *lists[] = { (const char *const *) changes->changed, (const char *const *) changes->added,
                                 (const char *const *) changes->removed };

  if (!daemon->nvml)
    return;
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] && lists[l][i]; i++) {
      const char *bdf = lists[l][i];
      GvHostDevice *now = gv_host_lookup (daemon->host, bdf);
      GvHostDevice *was = before ? g_hash_table_lookup (before, bdf) : NULL;
      /* a GPU that came, went or changed driver or VFs (enabling VFs
       * drops its GPU instances); VFs' own changes touch no instance */
      if (!nvml_may_know (now) && !nvml_may_know (was))
        continue;
      if (now && was && g_strcmp0 (now->fn->driver, was->fn->driver) == 0 &&
          now->fn->sriov_numvfs == was->fn->sriov_numvfs)
        continue;
      g_ptr_array_add (bdfs, g_strdup (bdf));
    }
  if (bdfs->len == 0)
    return;
  g_ptr_array_add (bdfs, NULL);
  daemon_mig_refresh (daemon, (const char *const *) bdfs->pdata);
}

void
daemon_mig_report (gpointer item, gpointer user_data)
{
  Refresh *r = item;
  Daemon *daemon = user_data;

  for (guint i = 0; r->bdfs[i]; i++) {
    GvHostDevice *d = gv_host_lookup (daemon->host, r->bdfs[i]);
    GvMigGpu *gpu = r->gpus->pdata[i];
    /* a GPU that went, or left the nvidia driver meanwhile, has none */
    if (!d || g_strcmp0 (d->fn->driver, "nvidia") != 0)
      g_clear_pointer (&gpu, gv_mig_gpu_free);
    daemon_mig_store (daemon, r->bdfs[i], gpu, r->read_at);
  }
  if (r->then)
    r->then (daemon);
  g_strfreev (r->bdfs);
  g_ptr_array_unref (r->gpus);
  g_free (r);
}
