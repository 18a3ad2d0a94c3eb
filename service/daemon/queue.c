/* A GAsyncQueue drained on the main loop when an eventfd says there is
 * something in it. */
#include "daemon/queue.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct DaemonQueue {
  GAsyncQueue *items;
  int fd;
  sd_event_source *source;
  DaemonQueueFunc func;
  gpointer user_data;
};

static int
on_ready (sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
  DaemonQueue *queue = userdata;
  uint64_t count;
  gpointer item;

  if (read (queue->fd, &count, sizeof count) < 0 && errno != EAGAIN)
    g_warning ("Could not read the worker queue's eventfd: %s", g_strerror (errno));
  while ((item = g_async_queue_try_pop (queue->items)))
    queue->func (item, queue->user_data);
  return 0;
}

DaemonQueue *
daemon_queue_new (sd_event *event, DaemonQueueFunc func, gpointer user_data, int *error)
{
  DaemonQueue *queue = g_new0 (DaemonQueue, 1);
  int r;

  queue->items = g_async_queue_new ();
  queue->func = func;
  queue->user_data = user_data;
  queue->fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (queue->fd < 0) {
    *error = -errno;
    daemon_queue_free (queue);
    return NULL;
  }
  r = sd_event_add_io (event, &queue->source, queue->fd, EPOLLIN, on_ready, queue);
  if (r < 0) {
    *error = r;
    daemon_queue_free (queue);
    return NULL;
  }
  return queue;
}

void
daemon_queue_dispatch_pending (DaemonQueue *queue)
{
  gpointer item;

  if (!queue)
    return;
  while ((item = g_async_queue_try_pop (queue->items)))
    queue->func (item, queue->user_data);
}

void
daemon_queue_free (DaemonQueue *queue)
{
  if (!queue)
    return;
  sd_event_source_disable_unref (queue->source);
  if (queue->fd >= 0)
    close (queue->fd);
  g_async_queue_unref (queue->items);
  g_free (queue);
}

void
daemon_queue_push (DaemonQueue *queue, gpointer item)
{
  uint64_t one = 1;

  g_async_queue_push (queue->items, item);
  if (write (queue->fd, &one, sizeof one) < 0)
    g_warning ("Could not wake the main loop: %s", g_strerror (errno));
}
