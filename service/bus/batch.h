/* PropertiesChanged queued per object and interface, and sent once per
 * main-loop iteration: a change that touches several properties, or one
 * property reached by several paths (a refresh and an operation's end),
 * is announced in one signal, each property once. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct BusBatch BusBatch;

/* Called first thing when the batch is sent (PATH NULL: all of it), to
 * queue what can only be decided then (announce.c: State). */
typedef void (*BusBatchPrepare) (BusBatch *batch, const char *path, gpointer user_data);

BusBatch *bus_batch_new (sd_bus *bus, sd_event *event, BusBatchPrepare prepare, gpointer user_data);
/* Sends what is queued, then frees. */
void bus_batch_free (BusBatch *batch);

/* Queues NAMES (NULL-terminated) of IFACE at PATH; sent at the end of
 * this main-loop iteration, with the values they have then. */
void bus_batch_add (BusBatch *batch, const char *path, const char *iface, const char *const *names);
/* Makes sure the batch is sent at the end of this iteration, even with
 * nothing queued yet (the prepare function may queue then). */
void bus_batch_touch (BusBatch *batch);
/* Sends what is queued for PATH now (before a value it announces changes
 * again, so that no transition is lost). */
void bus_batch_flush_path (BusBatch *batch, const char *path);
/* Forgets what is queued for IFACE at PATH: the interface came or went,
 * and InterfacesAdded/Removed says it all. */
void bus_batch_drop (BusBatch *batch, const char *path, const char *iface);
/* Sends everything queued now. */
void bus_batch_flush (BusBatch *batch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusBatch, bus_batch_free)
