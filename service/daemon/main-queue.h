/* Hands work results from worker threads to the sd-event main loop: the
 * only place where threads meet the bus (sd-bus is not thread-safe). */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

typedef struct MainQueue MainQueue;
/* Runs on the main loop for every item pushed. */
typedef void (*MainQueueFunc) (gpointer item, gpointer user_data);

MainQueue *main_queue_new (sd_event *event, MainQueueFunc func, gpointer user_data, int *error);
/* Handles, on the calling (main) thread, what was pushed but not yet seen
 * by the loop: at shutdown a late report (a stuck write that returned)
 * must not be dropped with its memory. */
void main_queue_dispatch_pending (MainQueue *queue);
void main_queue_free (MainQueue *queue);
/* From any thread. */
void main_queue_push (MainQueue *queue, gpointer item);
