/* Bringing what the bus was told in line with the daemon (see announce.h).
 *
 * Most properties are facts of one function, and comparing its snapshots
 * before and after a refresh says exactly which changed (changes.c).
 * Some are not: Device.State and StateMessage follow operations as well
 * as sysfs, and may pass through a value nobody was told of (the override
 * gone, the model not read yet); OriginalDriver follows the records; and
 * every org.gpuvirt.Vgpu property of a GPU follows its VFs and the mdevs.
 * Those are "tracked": whenever something they depend on may have
 * changed they are marked unsure, and when the batch is sent what a Get
 * returns then is compared with what was announced last, so each goes out
 * once per change and never without one. */
#include "bus/announce.h"
#include "bus/batch.h"
#include "bus/changes.h"
#include "bus/objects.h"
#include "bus/paths.h"
#include "gpuvirt-names.h"

#include <string.h>

typedef struct {
  GHashTable *published;       /* BDF -> interfaces announced (BUS_IFACE_* bits) */
  GHashTable *published_mdevs; /* UUIDs announced */
  GHashTable *announced;       /* "PATH IFACE PROP" of a tracked property -> its value as last announced */
  GHashTable *unsure;          /* those keys whose value may have changed since */
  BusBatch *batch;
} BusState;

static const char *const tracked_device[] = { "State", "StateMessage", "OriginalDriver", NULL };
static const char *const tracked_vgpu[] = { "Framework", "Types", "CurrentType", "CurrentTypeName", "Mdevs", NULL };

static void
state_free (gpointer data)
{
  BusState *state = data;

  bus_batch_free (state->batch);
  g_hash_table_unref (state->published);
  g_hash_table_unref (state->published_mdevs);
  g_hash_table_unref (state->announced);
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

/* ---- tracked properties ---- */

static char *
tracked_key (const char *path, const char *iface, const char *prop)
{
  return g_strdup_printf ("%s %s %s", path, iface, prop);
}

static const char *const *
tracked_of (guint bit)
{
  return bit == BUS_IFACE_DEVICE ? tracked_device : bit == BUS_IFACE_VGPU ? tracked_vgpu : NULL;
}

/* Takes the tracked properties of BDF's interfaces BITS as they are now:
 * what InterfacesAdded (or the start) told of them. */
static void
note_tracked (Daemon *daemon, const char *bdf, guint bits)
{
  BusState *state = state_of (daemon);
  g_autofree char *path = bus_device_path (bdf);

  for (guint bit = BUS_IFACE_DEVICE; bit <= BUS_IFACE_VGPU; bit <<= 1) {
    const char *iface = bit == BUS_IFACE_DEVICE ? GPUVIRT_DEVICE_IFACE : GPUVIRT_VGPU_IFACE;
    const char *const *props = tracked_of (bit);
    for (guint i = 0; (bits & bit) && props && props[i]; i++) {
      char *value = bus_device_property_text (daemon, path, iface, props[i]);
      char *key = tracked_key (path, iface, props[i]);
      g_hash_table_remove (state->unsure, key);
      if (value)
        g_hash_table_insert (state->announced, key, value);
      else
        g_free (key);
    }
  }
}

/* Forgets the tracked properties of BDF's interfaces BITS (they went). */
static void
forget_tracked (Daemon *daemon, const char *bdf, guint bits)
{
  BusState *state = state_of (daemon);
  g_autofree char *path = bus_device_path (bdf);

  for (guint bit = BUS_IFACE_DEVICE; bit <= BUS_IFACE_VGPU; bit <<= 1) {
    const char *iface = bit == BUS_IFACE_DEVICE ? GPUVIRT_DEVICE_IFACE : GPUVIRT_VGPU_IFACE;
    const char *const *props = tracked_of (bit);
    for (guint i = 0; (bits & bit) && props && props[i]; i++) {
      g_autofree char *key = tracked_key (path, iface, props[i]);
      g_hash_table_remove (state->announced, key);
      g_hash_table_remove (state->unsure, key);
    }
  }
}

/* BDF's tracked properties of IFACE (NULL: of every interface it has)
 * may have changed. */
static void
mark_unsure (Daemon *daemon, const char *bdf, const char *iface)
{
  BusState *state = state_of (daemon);
  guint bits = GPOINTER_TO_UINT (g_hash_table_lookup (state->published, bdf));
  g_autofree char *path = bus_device_path (bdf);

  for (guint bit = BUS_IFACE_DEVICE; bit <= BUS_IFACE_VGPU; bit <<= 1) {
    const char *name = bit == BUS_IFACE_DEVICE ? GPUVIRT_DEVICE_IFACE : GPUVIRT_VGPU_IFACE;
    const char *const *props = tracked_of (bit);
    if (!(bits & bit) || !props || (iface && !g_str_equal (iface, name)))
      continue;
    for (guint i = 0; props[i]; i++)
      g_hash_table_add (state->unsure, tracked_key (path, name, props[i]));
  }
  bus_batch_touch (state->batch);
}

/* The vGPU properties of a GPU follow its VFs and mdevs, and a VF's its
 * siblings': any change in BDF's family makes the whole family unsure. */
static void
mark_family_unsure (Daemon *daemon, const char *bdf)
{
  GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
  GvHostDevice *pf = device && device->fn->physfn ? gv_host_lookup (daemon->host, device->fn->physfn) : device;

  if (!pf)
    return;
  mark_unsure (daemon, pf->fn->bdf, GPUVIRT_VGPU_IFACE);
  for (guint i = 0; pf->fn->vfs && pf->fn->vfs[i]; i++)
    mark_unsure (daemon, pf->fn->vfs[i], GPUVIRT_VGPU_IFACE);
}

/* The batch goes out (PATH NULL: all of it): the unsure properties are
 * decided now, against what a Get returns. */
static void
prepare (BusBatch *batch, const char *path, gpointer user_data)
{
  Daemon *daemon = user_data;
  BusState *state = state_of (daemon);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, state->unsure);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    const char *k = key;
    if (!path || (g_str_has_prefix (k, path) && k[strlen (path)] == ' ')) {
      g_ptr_array_add (keys, g_strdup (k));
      g_hash_table_iter_remove (&iter);
    }
  }
  for (guint i = 0; i < keys->len; i++) {
    g_auto (GStrv) parts = g_strsplit (keys->pdata[i], " ", 3);
    g_autofree char *now = bus_device_property_text (daemon, parts[0], parts[1], parts[2]);
    const char *was = g_hash_table_lookup (state->announced, keys->pdata[i]);
    const char *names[] = { parts[2], NULL };

    /* gone, or its interface went (InterfacesRemoved said so) */
    if (!now) {
      g_hash_table_remove (state->announced, keys->pdata[i]);
      continue;
    }
    if (g_strcmp0 (was, now) == 0)
      continue;
    bus_batch_add (batch, parts[0], parts[1], names);
    g_hash_table_insert (state->announced, g_strdup (keys->pdata[i]), g_steal_pointer (&now));
  }
}

void
bus_announce_property (Daemon *daemon, const char *bdf, const char *iface, const char *name)
{
  BusState *state = state_of (daemon);
  guint bits = GPOINTER_TO_UINT (g_hash_table_lookup (state->published, bdf));
  guint want = g_str_equal (iface, GPUVIRT_SRIOV_IFACE) ? BUS_IFACE_SRIOV
               : g_str_equal (iface, GPUVIRT_VGPU_IFACE) ? BUS_IFACE_VGPU
                                                        : BUS_IFACE_DEVICE;
  g_autofree char *path = NULL;
  const char *names[] = { name, NULL };

  if (!(bits & want))
    return;
  path = bus_device_path (bdf);
  bus_batch_add (state->batch, path, iface, names);
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
  mark_unsure (daemon, bdf, GPUVIRT_DEVICE_IFACE);
  /* a function on its way (releasing, returning) changes nothing else
   * that is announced: its progress goes out at once */
  {
    GvHostDevice *device = gv_host_lookup (daemon->host, bdf);
    const char *now = device ? daemon_device_state (daemon, device) : NULL;
    if (g_strcmp0 (now, GPUVIRT_STATE_RELEASING) == 0 || g_strcmp0 (now, GPUVIRT_STATE_RETURNING) == 0) {
      g_autofree char *path = bus_device_path (bdf);
      bus_batch_flush_path (state->batch, path);
    }
  }
}

/* ---- objects and their facts ---- */

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
    forget_tracked (daemon, bdf, removed);
    log_emit_failure (sd_bus_emit_interfaces_removed_strv (daemon->bus, path, names), "removal", path);
  }
  if (now)
    g_hash_table_insert (state->published, g_strdup (bdf), GUINT_TO_POINTER (now));
  else
    g_hash_table_remove (state->published, bdf);
  if (added) {
    g_auto (GStrv) names = iface_names (added);
    for (guint i = 0; names[i]; i++)
      bus_batch_drop (state->batch, path, names[i]);
    /* InterfacesAdded carries every value: the tracked ones as they are */
    note_tracked (daemon, bdf, added);
    log_emit_failure (sd_bus_emit_interfaces_added_strv (daemon->bus, path, names), "arrival", path);
  }
  if (changed && kept && old) {
    g_auto (GStrv) dev = bus_changed_device_properties (old, device);
    g_auto (GStrv) sriov = bus_changed_sriov_properties (old, device);
    if (kept & BUS_IFACE_DEVICE)
      bus_batch_add (state->batch, path, GPUVIRT_DEVICE_IFACE, (const char *const *) dev);
    if (kept & BUS_IFACE_SRIOV)
      bus_batch_add (state->batch, path, GPUVIRT_SRIOV_IFACE, (const char *const *) sriov);
  } else if (changed && kept) {
    g_auto (GStrv) names = iface_names (kept);
    for (guint i = 0; names[i]; i++)
      log_emit_failure (sd_bus_emit_properties_changed_strv (daemon->bus, path, names[i], NULL), "changes", path);
  }
  if (kept)
    mark_unsure (daemon, bdf, GPUVIRT_DEVICE_IFACE);
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
  gpointer key, value;

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
  /* every GPU's Mdevs, and the types its parents offer, may follow */
  g_hash_table_iter_init (&iter, state->published);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) & BUS_IFACE_VGPU)
      mark_unsure (daemon, key, GPUVIRT_VGPU_IFACE);
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
  /* a vGPU family's properties follow every member */
  for (guint i = 0; changes->added && changes->added[i]; i++)
    mark_family_unsure (daemon, changes->added[i]);
  for (guint i = 0; changes->changed && changes->changed[i]; i++)
    mark_family_unsure (daemon, changes->changed[i]);
  for (guint i = 0; changes->removed && changes->removed[i]; i++) {
    GvHostDevice *old = g_hash_table_lookup (before, changes->removed[i]);
    if (old && old->fn->physfn)
      mark_family_unsure (daemon, old->fn->physfn);
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

/* Takes note of every object present at start. */
static void
publish_all (Daemon *daemon)
{
  BusState *state = state_of (daemon);
  GPtrArray *devices = gv_host_get_devices (daemon->host);

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *device = devices->pdata[i];
    guint bits = bus_device_interfaces (device);
    g_hash_table_insert (state->published, g_strdup (device->fn->bdf), GUINT_TO_POINTER (bits));
    note_tracked (daemon, device->fn->bdf, bits);
  }
}

void
bus_announce_init (Daemon *daemon)
{
  BusState *state = g_new0 (BusState, 1);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  state->published = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->published_mdevs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->announced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  state->unsure = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->batch = bus_batch_new (daemon->bus, daemon->event, prepare, daemon);
  daemon->bus_state = state;
  daemon->bus_state_free = state_free;
  publish_all (daemon);
  for (guint i = 0; i < mdevs->len; i++)
    g_hash_table_add (state->published_mdevs, g_strdup (((GvHostMdev *) mdevs->pdata[i])->uuid));
}
