/* The daemon's state and how model changes reach the bus: every function
 * that appears, goes or changes is announced with InterfacesAdded,
 * InterfacesRemoved or PropertiesChanged. */
#include "daemon/daemon.h"
#include "bus/paths.h"
#include "gpuvirt-names.h"
#include "host/iommu.h"
#include "bus/passthrough.h"
#include "bus/sriov.h"
#include "bus/vgpu-op.h"
#include "bus/vgpu-check.h"
#include "bus/changes.h"

#include <errno.h>

static void log_emit_failure (int r, const char *what, const char *path);

Daemon *
daemon_new (sd_event *event, sd_bus *bus, const char *root, const char *state_dir, gboolean read_only,
            GError **error)
{
  g_autoptr (Daemon) daemon = g_new0 (Daemon, 1);
  int r = 0;

  daemon->event = sd_event_ref (event);
  daemon->bus = sd_bus_ref (bus);
  daemon->root = g_strdup (root);
  daemon->published = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->published_mdevs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->uevent_bdfs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->host = gv_host_new (root, error);
  if (!daemon->host || !gv_host_rescan (daemon->host, NULL, error))
    return NULL;
  daemon->interrupt_remapping = gv_host_iommu_interrupt_remapping (root);
  daemon->polkit = gpuvirt_polkit_new (bus);
  daemon->state_dir = g_strdup (state_dir);
  daemon->read_only = read_only;
  daemon->op_state = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  daemon->op_message = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  daemon->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  daemon->queue = main_queue_new (event, bus_passthrough_queue_item, daemon, &r);
  if (!daemon->queue) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (-r), "Could not set up the worker queue: %s", g_strerror (-r));
    return NULL;
  }
  daemon->stuck_ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  daemon->vendor_type_names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  vgpu_check_learn_type_names (daemon);
  daemon->vgpu_queue = main_queue_new (event, bus_vgpu_queue_item, daemon, &r);
  if (!daemon->vgpu_queue) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (-r), "Could not set up the vGPU queue: %s", g_strerror (-r));
    return NULL;
  }
  daemon->config = gv_config_new_empty ();
  daemon->plan_state = GPUVIRT_PLAN_NONE;
  daemon->plan_waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) sd_bus_message_unref);
  daemon->plan_queue = main_queue_new (event, daemon_plan_queue_item, daemon, &r);
  if (!daemon->plan_queue) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (-r), "Could not set up the plan queue: %s", g_strerror (-r));
    return NULL;
  }
  /* a read-only daemon never writes, not even its records */
  if (!read_only) {
    daemon->records = gv_journal_open (state_dir, error);
    if (!daemon->records)
      return NULL;
  }
  return g_steal_pointer (&daemon);
}

const char *
daemon_device_state (Daemon *daemon, GvHostDevice *device)
{
  const char *state = g_hash_table_lookup (daemon->op_state, device->fn->bdf);
  return state ? state : gv_host_function_state (device->fn);
}

void
daemon_emit_state (Daemon *daemon, const char *bdf)
{
  g_autofree char *path = gpuvirt_device_path (bdf);
  int r;

  if (!gv_host_lookup (daemon->host, bdf))
    return;
  r = sd_bus_emit_properties_changed (daemon->bus, path, GPUVIRT_DEVICE_IFACE, "State", "StateMessage", NULL);
  log_emit_failure (r, "the state", path);
}

void
daemon_recover (Daemon *daemon)
{
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  if (!daemon->records)
    return;
  if (!gv_config_recover (daemon->records, daemon->root, &results, &error))
    g_warning ("Could not finish the transactions a previous gpuvirtd left: %s", error->message);
  for (guint i = 0; results && i < results->len; i++)
    g_message ("Recovered: %s", (const char *) results->pdata[i]);
  if (results && results->len > 0) {
    g_autoptr (GError) local = NULL;
    g_message ("Put %u function(s) or GPU families back after interrupted transactions", results->len);
    if (!gv_host_rescan (daemon->host, NULL, &local))
      g_warning ("Could not re-read the host after recovery: %s", local->message);
  }
}

/* What daemon_free() leaves to a worker that still runs at exit. */
static Daemon *left_to_workers;

/* A write that did not return in time still has a thread that reports
 * when it does (passthrough: state "stuck"; vGPU: stuck_ops). */
static gboolean
has_stuck_writes (Daemon *daemon)
{
  GHashTableIter iter;
  gpointer state;

  if (daemon->stuck_ops && daemon->stuck_ops->len > 0)
    return TRUE;
  if (!daemon->op_state)
    return FALSE;
  g_hash_table_iter_init (&iter, daemon->op_state);
  while (g_hash_table_iter_next (&iter, NULL, &state))
    if (g_strcmp0 (state, GPUVIRT_STATE_STUCK) == 0)
      return TRUE;
  return FALSE;
}

void
daemon_free (Daemon *daemon)
{
  if (!daemon)
    return;
  /* reports the loop did not get to, while all they need is still there */
  main_queue_dispatch_pending (daemon->queue);
  main_queue_dispatch_pending (daemon->vgpu_queue);
  main_queue_dispatch_pending (daemon->plan_queue);
  if (daemon->plan || has_stuck_writes (daemon)) {
    /* a worker still writes and will report: leave it what it uses, the
     * process ends now and the journal covers the unfinished step; kept
     * reachable so that leak checkers do not count it */
    left_to_workers = daemon;
    if (daemon->plan)
      g_warning ("Stopping while the boot plan runs; the next start finishes or undoes its step");
    else
      g_warning ("Stopping while a sysfs write is stuck; the next start finishes or undoes its step");
    return;
  }
  main_queue_free (daemon->plan_queue);
  if (daemon->plan_waiters)
    g_ptr_array_unref (daemon->plan_waiters);
  if (daemon->plan_rows)
    g_ptr_array_unref (daemon->plan_rows);
  g_strfreev (daemon->plan_busy);
  if (daemon->config)
    gv_config_unref (daemon->config);
  if (daemon->config_problems)
    g_ptr_array_unref (daemon->config_problems);
  g_free (daemon->config_file);
  g_free (daemon->config_dropins);
  main_queue_free (daemon->queue);
  main_queue_free (daemon->vgpu_queue);
  if (daemon->stuck_ops)
    g_ptr_array_unref (daemon->stuck_ops);
  if (daemon->vendor_type_names)
    g_hash_table_unref (daemon->vendor_type_names);
  gv_journal_free (daemon->records);
  if (daemon->op_state)
    g_hash_table_unref (daemon->op_state);
  if (daemon->op_message)
    g_hash_table_unref (daemon->op_message);
  if (daemon->busy)
    g_hash_table_unref (daemon->busy);
  g_free (daemon->state_dir);
  if (daemon->holders)
    g_ptr_array_unref (daemon->holders);
  sd_device_monitor_unref (daemon->monitor);
  sd_event_source_disable_unref (daemon->uevent_flush);
  gpuvirt_polkit_free (daemon->polkit);
  gv_host_free (daemon->host);
  g_hash_table_unref (daemon->published);
  g_hash_table_unref (daemon->published_mdevs);
  g_hash_table_unref (daemon->uevent_bdfs);
  sd_bus_unref (daemon->bus);
  sd_event_unref (daemon->event);
  g_free (daemon->root);
  g_free (daemon);
}

guint
daemon_device_interfaces (GvHostDevice *device)
{
  guint ifaces = GPUVIRT_IFACE_DEVICE;

  if (device->fn->sriov_capable && !gv_host_function_is_vf (device->fn))
    ifaces |= GPUVIRT_IFACE_SRIOV;
  if (device->framework != GV_HOST_FRAMEWORK_NONE)
    ifaces |= GPUVIRT_IFACE_VGPU;
  return ifaces;
}

static GStrv
iface_names (guint bits)
{
  GPtrArray *names = g_ptr_array_new ();

  if (bits & GPUVIRT_IFACE_DEVICE)
    g_ptr_array_add (names, g_strdup (GPUVIRT_DEVICE_IFACE));
  if (bits & GPUVIRT_IFACE_SRIOV)
    g_ptr_array_add (names, g_strdup (GPUVIRT_SRIOV_IFACE));
  if (bits & GPUVIRT_IFACE_VGPU)
    g_ptr_array_add (names, g_strdup (GPUVIRT_VGPU_IFACE));
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

static void
log_emit_failure (int r, const char *what, const char *path)
{
  if (r < 0)
    g_warning ("Could not announce %s of %s, ignoring: %s", what, path, g_strerror (-r));
}

static void
emit_changed (Daemon *daemon, const char *path, const char *iface, GStrv names)
{
  if (names && names[0])
    log_emit_failure (sd_bus_emit_properties_changed_strv (daemon->bus, path, iface, names), "changes", path);
}

/* Brings what the bus was told about BDF in line with the model. OLD is
 * its snapshot before the change (NULL: announce every property). */
static void
announce_device (Daemon *daemon, const char *bdf, GvHostDevice *old, gboolean changed)
{
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
  guint had = GPOINTER_TO_UINT (g_hash_table_lookup (daemon->published, bdf));
  guint now = device ? daemon_device_interfaces (device) : 0;
  guint added = now & ~had, removed = had & ~now, kept = now & had;
  g_autofree char *path = gpuvirt_device_path (bdf);

  if (removed) {
    g_auto (GStrv) names = iface_names (removed);
    log_emit_failure (sd_bus_emit_interfaces_removed_strv (daemon->bus, path, names), "removal", path);
  }
  if (added) {
    g_auto (GStrv) names = iface_names (added);
    log_emit_failure (sd_bus_emit_interfaces_added_strv (daemon->bus, path, names), "arrival", path);
  }
  if (changed && kept && old) {
    g_auto (GStrv) dev = bus_changed_device_properties (old, device);
    g_auto (GStrv) sriov = bus_changed_sriov_properties (old, device);
    g_auto (GStrv) vgpu = bus_changed_vgpu_properties (old, device);
    if (kept & GPUVIRT_IFACE_DEVICE)
      emit_changed (daemon, path, GPUVIRT_DEVICE_IFACE, dev);
    if (kept & GPUVIRT_IFACE_SRIOV)
      emit_changed (daemon, path, GPUVIRT_SRIOV_IFACE, sriov);
    if (kept & GPUVIRT_IFACE_VGPU)
      emit_changed (daemon, path, GPUVIRT_VGPU_IFACE, vgpu);
  } else if (changed && kept) {
    g_auto (GStrv) names = iface_names (kept);
    for (guint i = 0; names[i]; i++)
      log_emit_failure (sd_bus_emit_properties_changed_strv (daemon->bus, path, names[i], NULL), "changes", path);
  }
  if (now)
    g_hash_table_insert (daemon->published, g_strdup (bdf), GUINT_TO_POINTER (now));
  else
    g_hash_table_remove (daemon->published, bdf);
}

static void
announce_mdevs (Daemon *daemon)
{
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  g_autoptr (GHashTable) now = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    g_hash_table_add (now, mdev->uuid);
    if (!g_hash_table_contains (daemon->published_mdevs, mdev->uuid)) {
      g_autofree char *path = gpuvirt_mdev_path (mdev->uuid);
      g_auto (GStrv) names = g_strdupv ((char *[]) { (char *) GPUVIRT_MDEV_IFACE, NULL });
      log_emit_failure (sd_bus_emit_interfaces_added_strv (daemon->bus, path, names), "arrival", path);
      g_hash_table_add (daemon->published_mdevs, g_strdup (mdev->uuid));
    }
  }
  g_hash_table_iter_init (&iter, daemon->published_mdevs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (now, key))
      g_ptr_array_add (gone, g_strdup (key));
  for (guint i = 0; i < gone->len; i++) {
    g_autofree char *path = gpuvirt_mdev_path (gone->pdata[i]);
    g_auto (GStrv) names = g_strdupv ((char *[]) { (char *) GPUVIRT_MDEV_IFACE, NULL });
    log_emit_failure (sd_bus_emit_interfaces_removed_strv (daemon->bus, path, names), "removal", path);
    g_hash_table_remove (daemon->published_mdevs, gone->pdata[i]);
  }
}

/* Every function's snapshot before a refresh (references). */
static GHashTable *
snapshot (Daemon *daemon)
{
  GHashTable *before = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) gv_host_device_unref);
  GPtrArray *devices = gv_host_get_devices (daemon->host);

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    g_hash_table_insert (before, d->fn->bdf, gv_host_device_ref (d));
  }
  return before;
}

static void
announce_changes (Daemon *daemon, GvHostChanges *changes, GHashTable *before)
{
  GPtrArray *manager = g_ptr_array_new ();
  gboolean managed_set = FALSE;

  if (gv_host_changes_is_empty (changes)) {
    g_ptr_array_unref (manager);
    return;
  }
  for (guint i = 0; changes->removed && changes->removed[i]; i++)
    announce_device (daemon, changes->removed[i], NULL, FALSE);
  for (guint i = 0; changes->added && changes->added[i]; i++)
    announce_device (daemon, changes->added[i], NULL, FALSE);
  for (guint i = 0; changes->changed && changes->changed[i]; i++) {
    GvHostDevice *old = g_hash_table_lookup (before, changes->changed[i]);
    GvHostDevice *now = gv_host_lookup (daemon->host, changes->changed[i]);
    announce_device (daemon, changes->changed[i], old, TRUE);
    managed_set |= old && now && old->managed != now->managed;
  }
  if (changes->mdevs_changed)
    announce_mdevs (daemon);
  /* what lives on the Manager */
  if (managed_set || (changes->added && changes->added[0]) || (changes->removed && changes->removed[0]))
    g_ptr_array_add (manager, (gpointer) "Devices");
  if (changes->mdevs_changed)
    g_ptr_array_add (manager, (gpointer) "Mdevs");
  if (changes->facts_changed) {
    g_ptr_array_add (manager, (gpointer) "IommuPresent");
    g_ptr_array_add (manager, (gpointer) "IommuKind");
    g_ptr_array_add (manager, (gpointer) "InterruptRemapping");
    g_ptr_array_add (manager, (gpointer) "VfioPciLoaded");
    g_ptr_array_add (manager, (gpointer) "NvidiaVgpuManager");
  }
  g_ptr_array_add (manager, NULL);
  emit_changed (daemon, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, (GStrv) manager->pdata);
  g_ptr_array_unref (manager);
}

void
daemon_publish_all (Daemon *daemon)
{
  GPtrArray *devices = gv_host_get_devices (daemon->host);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *device = devices->pdata[i];
    g_hash_table_insert (daemon->published, g_strdup (device->fn->bdf),
                         GUINT_TO_POINTER (daemon_device_interfaces (device)));
  }
  for (guint i = 0; i < mdevs->len; i++)
    g_hash_table_add (daemon->published_mdevs, g_strdup (((GvHostMdev *) mdevs->pdata[i])->uuid));
}

int
daemon_rescan (Daemon *daemon, GError **error)
{
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GHashTable) before = snapshot (daemon);

  if (!gv_host_rescan (daemon->host, &changes, error))
    return -EIO;
  daemon->interrupt_remapping = gv_host_iommu_interrupt_remapping (daemon->root);
  vgpu_check_learn_type_names (daemon);
  announce_changes (daemon, changes, before);
  return 0;
}

int
daemon_refresh_functions (Daemon *daemon, const char *const *bdfs, gboolean mdevs, GError **error)
{
  g_autoptr (GvHostChanges) changes = NULL;
  g_autoptr (GvHostChanges) mdev_changes = NULL;
  g_autoptr (GHashTable) before = snapshot (daemon);

  if (bdfs && bdfs[0] && !gv_host_refresh_functions (daemon->host, bdfs, &changes, error))
    return -EIO;
  vgpu_check_learn_type_names (daemon);
  if (changes)
    announce_changes (daemon, changes, before);
  if (mdevs) {
    g_autoptr (GHashTable) before_mdevs = snapshot (daemon);
    if (!gv_host_refresh_mdevs (daemon->host, &mdev_changes, error))
      return -EIO;
    announce_changes (daemon, mdev_changes, before_mdevs);
  }
  return 0;
}

#define HOLDERS_FRESH_USEC (250 * 1000)

GPtrArray *
daemon_holders (Daemon *daemon, const char *bdf, GError **error)
{
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  g_auto (GStrv) mine = NULL;
  GPtrArray *result;
  gint64 now = g_get_monotonic_time ();

  if (!device) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No PCI function %s on this host", bdf);
    return NULL;
  }
  if (!daemon->holders || now - daemon->holders_at > HOLDERS_FRESH_USEC) {
    GPtrArray *devices = gv_host_get_devices (daemon->host);
    g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
    GPtrArray *scan;

    GHashTableIter iter;
    gpointer key;

    for (guint i = 0; i < devices->len; i++) {
      GvHostDevice *d = devices->pdata[i];
      g_auto (GStrv) n = gv_host_holder_nodes_for (d->fn, d->vfio_group_node, mdevs);
      for (guint j = 0; n && n[j]; j++)
        g_hash_table_add (seen, g_strdup (n[j]));
    }
    /* the strings in NODES belong to SEEN */
    g_hash_table_iter_init (&iter, seen);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (nodes, key);
    g_ptr_array_add (nodes, NULL);
    scan = gv_host_holders_scan (daemon->root, (const char *const *) nodes->pdata, NULL, error);
    if (!scan)
      return NULL;
    if (daemon->holders)
      g_ptr_array_unref (daemon->holders);
    daemon->holders = scan;
    daemon->holders_at = now;
  }
  mine = gv_host_holder_nodes_for (device->fn, device->vfio_group_node, mdevs);
  result = g_ptr_array_new ();
  for (guint i = 0; i < daemon->holders->len; i++) {
    GvHostHolder *h = daemon->holders->pdata[i];
    if (mine && g_strv_contains ((const char *const *) mine, h->node))
      g_ptr_array_add (result, h);
  }
  return result;
}
