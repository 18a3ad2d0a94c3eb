/* Fault injection (.sim/faults) and the write log (.sim/log).
 * A rule matches the canonical path of a write, as the kernel sees it
 * after symlinks, and optionally the data written. */
#include "sim-model.h"
#include "sim-internal.h"
#include "sim-errno.h"

#include <errno.h>
#include <string.h>

typedef enum { FAULT_ERRNO, FAULT_DELAY, FAULT_HANG } FaultKind;

typedef struct {
  char *path_glob;
  char *data_glob;
  FaultKind kind;
  int err;
  guint ms;
  guint count;
  guint skip;       /* matching writes let through before it acts */
} SimFault;

void
sim_fault_free (gpointer p)
{
  SimFault *fault = p;
  g_free (fault->path_glob);
  g_free (fault->data_glob);
  g_free (fault);
}

static gboolean
parse_option (SimFault *fault, const char *word)
{
  guint64 v;

  if (g_str_equal (word, "hang")) {
    fault->kind = FAULT_HANG;
    return TRUE;
  }
  if (g_str_has_prefix (word, "errno=")) {
    fault->kind = FAULT_ERRNO;
    fault->err = sim_errno_from_name (word + 6);
    return fault->err != 0;
  }
  if (g_str_has_prefix (word, "delay=")) {
    fault->kind = FAULT_DELAY;
    if (!g_ascii_string_to_unsigned (word + 6, 10, 0, 3600 * 1000, &v, NULL))
      return FALSE;
    fault->ms = (guint) v;
    return TRUE;
  }
  if (g_str_has_prefix (word, "count=")) {
    if (!g_ascii_string_to_unsigned (word + 6, 10, 1, G_MAXUINT, &v, NULL))
      return FALSE;
    fault->count = (guint) v;
    return TRUE;
  }
  if (g_str_has_prefix (word, "skip=")) {
    if (!g_ascii_string_to_unsigned (word + 5, 10, 0, G_MAXUINT, &v, NULL))
      return FALSE;
    fault->skip = (guint) v;
    return TRUE;
  }
  if (g_str_has_prefix (word, "data=")) {
    g_free (fault->data_glob);
    fault->data_glob = g_strdup (word + 5);
    return TRUE;
  }
  return FALSE;
}

/* "PATH_GLOB errno=E|delay=MS|hang [data=GLOB] [skip=N] [count=N]", "release", "clear" */
int
sim_fault_command (SimHost *host, const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint l = 0; lines[l]; l++) {
    g_auto (GStrv) words = NULL;
    SimFault *fault;
    gboolean has_kind = FALSE;
    char *line = g_strstrip (lines[l]);

    if (!*line)
      continue;
    if (g_str_equal (line, "clear")) {
      g_ptr_array_set_size (host->faults, 0);
      continue;
    }
    if (g_str_equal (line, "release")) {
      host->release_gen++;
      sim_host_changed (host);
      continue;
    }
    words = g_strsplit_set (line, " \t", -1);
    fault = g_new0 (SimFault, 1);
    fault->path_glob = g_strdup (words[0][0] == '/' ? words[0] + 1 : words[0]);
    fault->count = 1;
    for (guint i = 1; words[i]; i++) {
      if (!*words[i])
        continue;
      if (!parse_option (fault, words[i])) {
        sim_fault_free (fault);
        return -EINVAL;
      }
      has_kind |= g_str_equal (words[i], "hang") || g_str_has_prefix (words[i], "errno=") ||
                  g_str_has_prefix (words[i], "delay=");
    }
    if (!has_kind) {
      sim_fault_free (fault);
      return -EINVAL;
    }
    g_ptr_array_add (host->faults, fault);
  }
  return 0;
}

char *
sim_fault_list (SimHost *host)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < host->faults->len; i++) {
    SimFault *f = host->faults->pdata[i];
    g_string_append (out, f->path_glob);
    if (f->kind == FAULT_ERRNO)
      g_string_append_printf (out, " errno=%s", sim_errno_name (f->err));
    else if (f->kind == FAULT_DELAY)
      g_string_append_printf (out, " delay=%u", f->ms);
    else
      g_string_append (out, " hang");
    if (f->data_glob)
      g_string_append_printf (out, " data=%s", f->data_glob);
    if (f->skip)
      g_string_append_printf (out, " skip=%u", f->skip);
    g_string_append_printf (out, " count=%u\n", f->count);
  }
  return g_string_free (out, FALSE);
}

/* Called before a write acts. Returns -errno when a rule makes it fail;
 * otherwise sleeps or hangs as armed (without the lock) and returns 0. */
int
sim_fault_apply (SimHost *host, const char *path, const char *data)
{
  g_autofree char *text = g_strchomp (g_strdup (data));

  for (guint i = 0; i < host->faults->len; i++) {
    SimFault *f = host->faults->pdata[i];
    FaultKind kind = f->kind;
    int err = f->err;
    guint ms = f->ms;

    if (!g_pattern_match_simple (f->path_glob, path))
      continue;
    if (f->data_glob && !g_pattern_match_simple (f->data_glob, text))
      continue;
    if (f->skip) {
      f->skip--;
      return 0;
    }
    if (--f->count == 0)
      g_ptr_array_remove_index (host->faults, i);
    if (kind == FAULT_ERRNO)
      return -err;
    if (kind == FAULT_DELAY) {
      sim_host_sleep (host, ms);
    } else {
      guint64 gen = host->release_gen;
      while (gen == host->release_gen && sim_host_wait (host))
        ;
    }
    return 0;
  }
  return 0;
}

void
sim_log_write (SimHost *host, const char *path, const char *data, gsize len, int result)
{
  g_autofree char *raw = g_strndup (data, len);
  g_autofree char *shown = g_strescape (raw, NULL);

  g_string_append_printf (host->log, "%" G_GUINT64_FORMAT " %s \"%s\" -> %s\n",
                          ++host->log_seq, path, shown, sim_errno_name (result));
}
