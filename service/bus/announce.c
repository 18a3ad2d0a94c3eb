/* Bringing what the bus was told in line with the daemon (see announce.h).
 *
 * Device.State and StateMessage are what an operation says while it runs,
 * else what sysfs says: they change through the model and through the
 * operation, often both in one iteration, and may pass through a value
 * nobody was told of (the override gone, the model not read yet). So
 * they are not compared on snapshots: a function whose state may have
 * changed is marked, and when the batch is sent what a Get returns then
 * is compared with what was announced last. */
#include "bus/announce.h"
#include "bus/batch.h"
#include "bus/changes.h"
#include "bus/paths.h"
#include "gpuvirt-names.h"

#include <string.h>

typedef struct {
  GHashTable *published;       /* BDF -> interfaces announced (BUS_IFACE_* bits) */
  GHashTable *published_mdevs; /* UUIDs announced */
  GHashTable *states;          /* BDF -> "State\nStateMessage" as last announced (or as at start) */
  GHashTable *unsure;          /* BDFs whose State or StateMessage may have changed since */
  BusBatch *batch;
} BusState;

static void
state_free (gpointer data)
{
  BusState *state = data;

  bus_batch_free (state->batch);
  g_hash_table_unref (state->published);
  g_hash_table_unref (state->published_mdevs);
  g_hash_table_unref (state->states);
  g_hash_table_unref (state->unsure);
  g_free (state);
}

static BusState *
state_of (Daemon *daemon)
{
  return daemon->bus_state;
}

guint
bus_device_interfaces (GvHostDevice *device)
{
  guint ifaces = BUS_IFACE_DEVICE;

  if (device->fn->sriov_capable && !gv_host_function_is_vf (device->fn))
    ifaces |= BUS_IFACE_SRIOV;
  if (device->framework != GV_HOST_FRAMEWORK_NONE)
    ifaces |= BUS_IFACE_VGPU;
  return ifaces;
}

static GStrv
iface_names (guint bits)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv names;

  if (bits & BUS_IFACE_DEVICE)
    g_strv_builder_add (builder, GPUVIRT_DEVICE_IFACE);
  if (bits & BUS_IFACE_SRIOV)
    g_strv_builder_add (builder, GPUVIRT_SRIOV_IFACE);
  if (bits & BUS_IFACE_VGPU)
    g_strv_builder_add (builder, GPUVIRT_VGPU_IFACE);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

static void
log_emit_failure (int r, const char *what, const char *path)
{
  if (r < 0)
    g_warning ("Could not announce %s of %s, ignoring: %s", what, path, g_strerror (-r));
}

/* "State\nStateMessage" as a Get of BDF's object would return them now. */
static char *
visible_state (Daemon *daemon, const char *bdf)
{
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);

  if (!device)
    return NULL;
  return g_strdup_printf ("%s\n%s", daemon_device_state (daemon, device), daemon_device_message (daemon, bdf));
}

/* Queues State and StateMessage of BDF when they differ from what was
 * announced last. */
static void
queue_state (Daemon *daemon, BusState *state, const char *bdf)
{
  g_autofree char *now = visible_state (daemon, bdf);
  const char *was = g_hash_table_lookup (state->states, bdf);
  const char *names[3] = { NULL };
  const char *now_msg, *was_msg;
  guint n = 0;

  if (!now || !g_hash_table_contains (state->published, bdf)) {
    g_hash_table_remove (state->states, bdf);
    return;
  }
  if (!was) {
    g_hash_table_insert (state->states, g_strdup (bdf), g_steal_pointer (&now));
    return;
  }
  now_msg = strchr (now, '\n');
  was_msg = strchr (was, '\n');
  if (now_msg - now != was_msg - was || strncmp (now, was, (gsize) (now_msg - now)) != 0)
    names[n++] = "State";
  if (!g_str_equal (now_msg, was_msg))
    names[n++] = "StateMessage";
  if (n > 0) {
    g_autofree char *path = bus_device_path (bdf);
    bus_batch_add (state->batch, path, GPUVIRT_DEVICE_IFACE, names);
    g_hash_table_insert (state->states, g_strdup (bdf), g_steal_pointer (&now));
  }
}

/* The batch goes out (PATH NULL: all of it): the states marked unsure
 * are decided now. */
static void
prepare (BusBatch *batch, const char *path, gpointer user_data)
{
  Daemon *daemon = user_data;
  BusState *state = state_of (daemon);
  g_autoptr (GPtrArray) bdfs = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, state->unsure);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    g_autofree char *p = path ? bus_device_path (key) : NULL;
    if (!path || g_str_equal (p, path)) {
      g_ptr_array_add (bdfs, g_strdup (key));
      g_hash_table_iter_remove (&iter);
    }
  }
  for (guint i = 0; i < bdfs->len; i++)
    queue_state (daemon, state, bdfs->pdata[i]);
}

static void
mark_unsure (BusState *state, const char *bdf)
{
  g_hash_table_add (state->unsure, g_strdup (bdf));
  bus_batch_touch (state->batch);
}

void
bus_announce_state_changed (Daemon *daemon, const char *bdf, gboolean will)
{
  BusState *state = state_of (daemon);

  /* what is queued for it carries the value before this change: it goes
   * out first, so that every transition is seen */
  if (will) {
    g_autofree char *path = bus_device_path (bdf);
    bus_batch_flush_path (state->batch, path);
    return;
  }
  mark_unsure (state, bdf);
}

/* Brings what the bus was told about BDF in line with the model. OLD is
 * its snapshot before the change (NULL: announce every property). */
static void
announce_device (Daemon *daemon, const char *bdf, GvHostDevice *old, gboolean changed)
{
  BusState *state = state_of (daemon);
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
  guint had = GPOINTER_TO_UINT (g_hash_table_lookup (state->published, bdf));
  guint now = device ? bus_device_interfaces (device) : 0;
  guint added = now & ~had, removed = had & ~now, kept = now & had;
  g_autofree char *path = bus_device_path (bdf);

  if (removed) {
    g_auto (GStrv) names = iface_names (removed);
    for (guint i = 0; names[i]; i++)
      bus_batch_drop (state->batch, path, names[i]);
    log_emit_failure (sd_bus_emit_interfaces_removed_strv (daemon->bus, path, names), "removal", path);
  }
  if (added) {
    g_auto (GStrv) names = iface_names (added);
    for (guint i = 0; names[i]; i++)
      bus_batch_drop (state->batch, path, names[i]);
    log_emit_failure (sd_bus_emit_interfaces_added_strv (daemon->bus, path, names), "arrival", path);
  }
  if (changed && kept && old) {
    g_auto (GStrv) dev = bus_changed_device_properties (old, device);
    g_auto (GStrv) sriov = bus_changed_sriov_properties (old, device);
    g_auto (GStrv) vgpu = bus_changed_vgpu_properties (old, device);
    if (kept & BUS_IFACE_DEVICE)
      bus_batch_add (state->batch, path, GPUVIRT_DEVICE_IFACE, (const char *const *) dev);
    if (kept & BUS_IFACE_SRIOV)
      bus_batch_add (state->batch, path, GPUVIRT_SRIOV_IFACE, (const char *const *) sriov);
    if (kept & BUS_IFACE_VGPU)
      bus_batch_add (state->batch, path, GPUVIRT_VGPU_IFACE, (const char *const *) vgpu);
  } else if (changed && kept) {
    g_auto (GStrv) names = iface_names (kept);
    for (guint i = 0; names[i]; i++)
      log_emit_failure (sd_bus_emit_properties_changed_strv (daemon->bus, path, names[i], NULL), "changes", path);
  }
  if (now)
    g_hash_table_insert (state->published, g_strdup (bdf), GUINT_TO_POINTER (now));
  else
    g_hash_table_remove (state->published, bdf);
  /* a new object's State is in its InterfacesAdded; a gone one has none */
  if (added & BUS_IFACE_DEVICE)
    g_hash_table_insert (state->states, g_strdup (bdf), visible_state (daemon, bdf));
  else if (!now)
    g_hash_table_remove (state->states, bdf);
  else
    mark_unsure (state, bdf);
}

static void
announce_mdevs (Daemon *daemon)
{
  BusState *state = state_of (daemon);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  g_autoptr (GHashTable) now = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  const char *const names[] = { GPUVIRT_MDEV_IFACE, NULL };
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    g_hash_table_add (now, mdev->uuid);
    if (!g_hash_table_contains (state->published_mdevs, mdev->uuid)) {
      g_autofree char *path = bus_mdev_path (mdev->uuid);
      log_emit_failure (sd_bus_emit_interfaces_added_strv (daemon->bus, path, (char **) names), "arrival", path);
      g_hash_table_add (state->published_mdevs, g_strdup (mdev->uuid));
    }
  }
  g_hash_table_iter_init (&iter, state->published_mdevs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (now, key))
      g_ptr_array_add (gone, g_strdup (key));
  for (guint i = 0; i < gone->len; i++) {
    g_autofree char *path = bus_mdev_path (gone->pdata[i]);
    log_emit_failure (sd_bus_emit_interfaces_removed_strv (daemon->bus, path, (char **) names), "removal", path);
    g_hash_table_remove (state->published_mdevs, gone->pdata[i]);
  }
}

void
bus_announce_host_changed (Daemon *daemon, const GvHostChanges *changes, GHashTable *before)
{
  BusState *state = state_of (daemon);
  g_autoptr (GPtrArray) manager = g_ptr_array_new ();
  gboolean managed_set = FALSE;

  if (gv_host_changes_is_empty (changes))
    return;
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
  bus_batch_add (state->batch, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, (const char *const *) manager->pdata);
}

void
bus_announce_manager_changed (Daemon *daemon, const char *const *names)
{
  bus_batch_add (state_of (daemon)->batch, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, names);
}

void
bus_announce_flush (Daemon *daemon)
{
  bus_batch_flush (state_of (daemon)->batch);
}

void
bus_announce_init (Daemon *daemon)
{
  BusState *state = g_new0 (BusState, 1);
  GPtrArray *devices = gv_host_get_devices (daemon->host);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  state->published = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->published_mdevs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  state->unsure = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->batch = bus_batch_new (daemon->bus, daemon->event, prepare, daemon);
  daemon->bus_state = state;
  daemon->bus_state_free = state_free;
  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *device = devices->pdata[i];
    g_hash_table_insert (state->published, g_strdup (device->fn->bdf),
                         GUINT_TO_POINTER (bus_device_interfaces (device)));
    g_hash_table_insert (state->states, g_strdup (device->fn->bdf), visible_state (daemon, device->fn->bdf));
  }
  for (guint i = 0; i < mdevs->len; i++)
    g_hash_table_add (state->published_mdevs, g_strdup (((GvHostMdev *) mdevs->pdata[i])->uuid));
}
