/* Queued PropertiesChanged (see batch.h). A defer source runs once the
 * main loop has handled what woke it, so everything one wake-up changed
 * goes out together; entries keep the order they were queued in. */
#include "bus/batch.h"

typedef struct {
  char *path;
  char *iface;
  GPtrArray *names;   /* char *, each once, in the order queued */
} Entry;

struct BusBatch {
  sd_bus *bus;
  sd_event *event;
  BusBatchPrepare prepare;
  gpointer user_data;
  sd_event_source *flush;
  GPtrArray *entries; /* Entry */
};

static void
entry_free (Entry *entry)
{
  g_free (entry->path);
  g_free (entry->iface);
  g_ptr_array_unref (entry->names);
  g_free (entry);
}

static void
send_entry (BusBatch *batch, Entry *entry)
{
  int r;

  g_ptr_array_add (entry->names, NULL);
  r = sd_bus_emit_properties_changed_strv (batch->bus, entry->path, entry->iface, (char **) entry->names->pdata);
  if (r < 0)
    g_warning ("Could not announce changes of %s, ignoring: %s", entry->path, g_strerror (-r));
}

void
bus_batch_flush (BusBatch *batch)
{
  g_autoptr (GPtrArray) entries = NULL;

  if (batch->prepare)
    batch->prepare (batch, NULL, batch->user_data);
  entries = batch->entries;
  batch->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  for (guint i = 0; i < entries->len; i++)
    send_entry (batch, entries->pdata[i]);
}

static int
on_flush (sd_event_source *source, void *userdata)
{
  bus_batch_flush (userdata);
  return 0;
}

BusBatch *
bus_batch_new (sd_bus *bus, sd_event *event, BusBatchPrepare prepare, gpointer user_data)
{
  BusBatch *batch = g_new0 (BusBatch, 1);

  batch->prepare = prepare;
  batch->user_data = user_data;
  batch->bus = sd_bus_ref (bus);
  batch->event = sd_event_ref (event);
  batch->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  return batch;
}

void
bus_batch_free (BusBatch *batch)
{
  if (!batch)
    return;
  /* what is left goes out without asking the owner, which is going away */
  batch->prepare = NULL;
  bus_batch_flush (batch);
  sd_event_source_disable_unref (batch->flush);
  g_ptr_array_unref (batch->entries);
  sd_event_unref (batch->event);
  sd_bus_unref (batch->bus);
  g_free (batch);
}

static void
arm (BusBatch *batch)
{
  int r;

  if (batch->flush) {
    r = sd_event_source_set_enabled (batch->flush, SD_EVENT_ONESHOT);
  } else {
    r = sd_event_add_defer (batch->event, &batch->flush, on_flush, batch);
    /* before the next method call is answered from the new state */
    if (r >= 0)
      r = sd_event_source_set_priority (batch->flush, SD_EVENT_PRIORITY_IMPORTANT);
    if (r >= 0)
      r = sd_event_source_set_enabled (batch->flush, SD_EVENT_ONESHOT);
  }
  /* without a loop to run it, send at once rather than never */
  if (r < 0)
    bus_batch_flush (batch);
}

void
bus_batch_add (BusBatch *batch, const char *path, const char *iface, const char *const *names)
{
  Entry *entry = NULL;

  if (!names || !names[0])
    return;
  for (guint i = 0; i < batch->entries->len && !entry; i++) {
    Entry *e = batch->entries->pdata[i];
    if (g_str_equal (e->path, path) && g_str_equal (e->iface, iface))
      entry = e;
  }
  if (!entry) {
    entry = g_new0 (Entry, 1);
    entry->path = g_strdup (path);
    entry->iface = g_strdup (iface);
    entry->names = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (batch->entries, entry);
  }
  for (guint i = 0; names[i]; i++)
    if (!g_ptr_array_find_with_equal_func (entry->names, names[i], g_str_equal, NULL))
      g_ptr_array_add (entry->names, g_strdup (names[i]));
  arm (batch);
}

void
bus_batch_touch (BusBatch *batch)
{
  arm (batch);
}

void
bus_batch_flush_path (BusBatch *batch, const char *path)
{
  if (batch->prepare)
    batch->prepare (batch, path, batch->user_data);
  for (guint i = 0; i < batch->entries->len;) {
    Entry *e = batch->entries->pdata[i];
    if (g_str_equal (e->path, path)) {
      g_ptr_array_steal_index (batch->entries, i);
      send_entry (batch, e);
      entry_free (e);
    } else {
      i++;
    }
  }
}

void
bus_batch_drop (BusBatch *batch, const char *path, const char *iface)
{
  for (guint i = 0; i < batch->entries->len;) {
    Entry *e = batch->entries->pdata[i];
    if (g_str_equal (e->path, path) && (!iface || g_str_equal (e->iface, iface)))
      g_ptr_array_remove_index (batch->entries, i);
    else
      i++;
  }
}
