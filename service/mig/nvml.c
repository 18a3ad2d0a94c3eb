/* Opening NVML at run time and calling it with a bound (see mig.h). A
 * driver that stopped answering must not take gpuvirtd with it: each task
 * runs in a thread of its own, and the caller stops waiting when one NVML
 * call outlives its bound. The library is then not called again until
 * that call returns (NVML is documented thread-safe, but a GPU whose
 * driver hangs in one call is no place for the next). */
#include "mig/internal.h"

#include <dlfcn.h>
#include <stdlib.h>

#define DEFAULT_MS 10000

/* ---- tasks ---- */

typedef struct {
  GvMigTask task;
  GvMigTaskFunc func;
  gpointer data;
  GDestroyNotify data_unref;
  gboolean ok;
  GError *error;
} Job;

static void
job_clear (gpointer p)
{
  Job *job = p;

  g_mutex_clear (&job->task.lock);
  g_cond_clear (&job->task.cond);
  g_clear_error (&job->error);
  if (job->data_unref && job->data)
    job->data_unref (job->data);
}

static gpointer
job_thread (gpointer p)
{
  Job *job = p;
  GError *error = NULL;
  gboolean ok = job->func (&job->task, job->data, &error);

  g_mutex_lock (&job->task.lock);
  job->ok = ok;
  job->error = error;
  job->task.done = TRUE;
  g_cond_broadcast (&job->task.cond);
  g_mutex_unlock (&job->task.lock);
  g_atomic_rc_box_release_full (job, job_clear);
  return NULL;
}

gboolean
gv_mig_call_begin (GvMigTask *task, const char *name)
{
  gboolean go;

  g_mutex_lock (&task->lock);
  go = !task->abandoned;
  if (go) {
    task->call_started = g_get_monotonic_time ();
    task->call_name = name;
  }
  g_mutex_unlock (&task->lock);
  return go;
}

GvMigNvmlReturn
gv_mig_call_end (GvMigTask *task, GvMigNvmlReturn result)
{
  gboolean late;

  g_mutex_lock (&task->lock);
  task->call_started = 0;
  late = task->abandoned;
  g_mutex_unlock (&task->lock);
  if (late) {
    /* the call the caller gave up on returned: NVML may be called again */
    g_mutex_lock (&task->nvml->lock);
    g_message ("NVML: %s returned at last (%d)", task->call_name, result);
    g_clear_pointer (&task->nvml->stuck_call, g_free);
    g_mutex_unlock (&task->nvml->lock);
  }
  return result;
}

gboolean
gv_mig_run (GvMigNvml *nvml, guint timeout_ms, GvMigTaskFunc func, gpointer data, GDestroyNotify data_unref,
            GError **error)
{
  Job *job;
  GThread *thread;
  gint64 bound = (gint64) (timeout_ms ? timeout_ms : DEFAULT_MS) * 1000;
  gboolean ok = FALSE;

  g_mutex_lock (&nvml->lock);
  if (nvml->stuck_call) {
    g_set_error (error, GV_ERROR, GV_ERROR_STUCK,
                 "NVML is stuck: %s has not returned; MIG calls are refused until it does", nvml->stuck_call);
    g_mutex_unlock (&nvml->lock);
    if (data_unref && data)
      data_unref (data);
    return FALSE;
  }
  g_mutex_unlock (&nvml->lock);

  job = g_atomic_rc_box_new0 (Job);
  g_mutex_init (&job->task.lock);
  g_cond_init (&job->task.cond);
  job->task.nvml = nvml;
  job->task.timeout_ms = timeout_ms;
  job->func = func;
  job->data = data;
  job->data_unref = data_unref;
  thread = g_thread_try_new ("gv-nvml", job_thread, g_atomic_rc_box_acquire (job), NULL);
  if (!thread) {
    g_set_error_literal (error, GV_ERROR, GV_ERROR_FAILED, "Could not start a thread for NVML");
    g_atomic_rc_box_release_full (job, job_clear);
    g_atomic_rc_box_release_full (job, job_clear);
    return FALSE;
  }
  g_thread_unref (thread);

  g_mutex_lock (&job->task.lock);
  while (!job->task.done) {
    gint64 now = g_get_monotonic_time ();
    gint64 until = now + 50 * 1000;
    if (job->task.call_started && now - job->task.call_started >= bound) {
      job->task.abandoned = TRUE;
      g_mutex_lock (&nvml->lock);
      g_free (nvml->stuck_call);
      nvml->stuck_call = g_strdup (job->task.call_name);
      g_mutex_unlock (&nvml->lock);
      g_set_error (error, GV_ERROR, GV_ERROR_STUCK,
                   "%s did not return within %.1f s; the driver may need the GPU reset or the host rebooted (MIG calls "
                   "are refused until it returns)", job->task.call_name, (double) bound / G_USEC_PER_SEC);
      break;
    }
    if (job->task.call_started)
      until = MIN (until, job->task.call_started + bound);
    g_cond_wait_until (&job->task.cond, &job->task.lock, until);
  }
  if (job->task.done) {
    ok = job->ok;
    if (!ok)
      g_propagate_error (error, g_steal_pointer (&job->error));
  }
  g_mutex_unlock (&job->task.lock);
  g_atomic_rc_box_release_full (job, job_clear);
  return ok;
}

void
gv_mig_nvml_error (GvMigTask *task, GError **error, GvMigNvmlReturn result, const char *name, const char *what)
{
  const char *text;
  GvError code;

  if (result == GV_MIG_NVML_ERROR_TIMEOUT && task->abandoned) {
    g_set_error (error, GV_ERROR, GV_ERROR_STUCK, "%s about %s was not made: an earlier NVML call is stuck", name,
                 what);
    return;
  }
  text = task->nvml->fn.nvmlErrorString ? task->nvml->fn.nvmlErrorString (result) : NULL;
  switch (result) {
  case GV_MIG_NVML_ERROR_NOT_SUPPORTED: code = GV_ERROR_NOT_SUPPORTED; break;
  case GV_MIG_NVML_ERROR_IN_USE: code = GV_ERROR_IN_USE; break;
  case GV_MIG_NVML_ERROR_INSUFFICIENT_RESOURCES: code = GV_ERROR_NO_CAPACITY; break;
  case GV_MIG_NVML_ERROR_TIMEOUT: code = GV_ERROR_STUCK; break;
  default: code = GV_ERROR_KERNEL; break;
  }
  g_set_error (error, GV_ERROR, code, "%s (%s): %s (NVML error %d)", name, what, text ? text : "unknown error",
               result);
}

/* ---- the library ---- */

typedef struct {
  char version[GV_MIG_NVML_BUFFER_SIZE];
  char driver[GV_MIG_NVML_BUFFER_SIZE];
} InitData;

static gboolean
init_task (GvMigTask *task, gpointer data, GError **error)
{
  InitData *d = data;
  GvMigNvmlReturn r = GV_MIG_CALL (task, nvmlInit_v2);

  if (r != GV_MIG_NVML_SUCCESS) {
    const char *text = task->nvml->fn.nvmlErrorString (r);
    g_set_error (error, GV_ERROR, r == GV_MIG_NVML_ERROR_TIMEOUT ? GV_ERROR_STUCK : GV_ERROR_NOT_SUPPORTED,
                 "nvmlInit failed: %s (NVML error %d)", text ? text : "unknown error", r);
    return FALSE;
  }
  task->nvml->initialized = TRUE;
  if (GV_MIG_CALL (task, nvmlSystemGetNVMLVersion, d->version, sizeof d->version) != GV_MIG_NVML_SUCCESS)
    g_strlcpy (d->version, "?", sizeof d->version);
  if (GV_MIG_CALL (task, nvmlSystemGetDriverVersion, d->driver, sizeof d->driver) != GV_MIG_NVML_SUCCESS)
    g_strlcpy (d->driver, "?", sizeof d->driver);
  return TRUE;
}

static void
init_unref (gpointer data)
{
  g_atomic_rc_box_release (data);
}

GvMigNvml *
gv_mig_nvml_open (guint timeout_ms, GError **error)
{
  /* for tests only (documented in gpuvirtd(8)): the test NVML */
  const char *override = secure_getenv (GV_MIG_NVML_LIBRARY_ENV);
  const char *path = override && *override ? override : GV_MIG_NVML_LIBRARY;
  GvMigNvml *nvml;
  InitData *data;
  void *handle;

  handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror ();
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED,
                 "%s could not be loaded (%s): NVIDIA's driver with its management library is not installed",
                 path, why ? why : "unknown error");
    return NULL;
  }
  nvml = g_new0 (GvMigNvml, 1);
  g_mutex_init (&nvml->lock);
  nvml->handle = handle;
  nvml->path = g_strdup (path);
#define GV_MIG_LOOKUP(name, ret, args)                                                                                 \
  nvml->fn.name = (ret (*) args) dlsym (handle, #name);                                                                \
  if (!nvml->fn.name) {                                                                                                \
    g_set_error (error, GV_ERROR, GV_ERROR_NOT_SUPPORTED, "%s has no %s: it is older than NVML API version 12",        \
                 path, #name);                                                                                         \
    gv_mig_nvml_close (nvml);                                                                                          \
    return NULL;                                                                                                       \
  }
  GV_MIG_NVML_ENTRY_POINTS (GV_MIG_LOOKUP)
#undef GV_MIG_LOOKUP

  data = g_atomic_rc_box_new0 (InitData);
  if (!gv_mig_run (nvml, timeout_ms, init_task, g_atomic_rc_box_acquire (data), init_unref, error)) {
    g_atomic_rc_box_release (data);
    /* a stuck nvmlInit keeps the object alive for its thread */
    if (!nvml->stuck_call)
      gv_mig_nvml_close (nvml);
    return NULL;
  }
  nvml->description = g_strdup_printf ("NVML %s, driver %s (%s)", data->version, data->driver, path);
  g_atomic_rc_box_release (data);
  return nvml;
}

const char *
gv_mig_nvml_describe (GvMigNvml *nvml)
{
  return nvml->description ? nvml->description : nvml->path;
}

gboolean
gv_mig_nvml_stuck (GvMigNvml *nvml)
{
  gboolean stuck;

  g_mutex_lock (&nvml->lock);
  stuck = nvml->stuck_call != NULL;
  g_mutex_unlock (&nvml->lock);
  return stuck;
}

void
gv_mig_nvml_close (GvMigNvml *nvml)
{
  if (!nvml)
    return;
  /* a thread is still inside the library: leave it all to that thread */
  if (gv_mig_nvml_stuck (nvml))
    return;
  if (nvml->initialized)
    nvml->fn.nvmlShutdown ();
  /* the library stays loaded: dlclose() of NVML is not worth the risk of
   * its threads running on */
  g_free (nvml->path);
  g_free (nvml->description);
  g_mutex_clear (&nvml->lock);
  g_free (nvml);
}
