/* Hands work results from worker threads to the sd-event main loop: the
 * only place where threads meet the bus (sd-bus is not thread-safe). */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

typedef struct DaemonQueue DaemonQueue;
/* Runs on the main loop for every item pushed. */
typedef void (*DaemonQueueFunc) (gpointer item, gpointer user_data);

DaemonQueue *daemon_queue_new (sd_event *event, DaemonQueueFunc func, gpointer user_data, int *error);
/* Handles, on the calling (main) thread, what was pushed but not yet seen
 * by the loop: at shutdown a late report (a stuck write that returned)
 * must not be dropped with its memory. */
void daemon_queue_dispatch_pending (DaemonQueue *queue);
void daemon_queue_free (DaemonQueue *queue);
/* From any thread. */
void daemon_queue_push (DaemonQueue *queue, gpointer item);
