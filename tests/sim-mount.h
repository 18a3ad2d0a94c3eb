/* Mounts a simulated host for a test and takes it down again. */
#pragma once

#include <glib.h>

typedef struct {
  char *dir;    /* temporary directory holding the mount point */
  char *root;   /* the mount point: the simulated host's "/" */
  GPid pid;
} SimMount;

/* SCENARIO is a built-in name or a path; aborts the test when it cannot mount. */
SimMount *sim_mount_start (const char *scenario);
void sim_mount_stop (SimMount *mount);
/* ROOT/REL, to be freed. */
char *sim_mount_path (SimMount *mount, const char *rel);

/* Plain I/O as the daemon does it: 0 or the errno of open()/write(). */
int sim_write_file (const char *path, const char *data);
int sim_write_bytes (const char *path, const char *data, gsize len);
/* The file's content, or NULL with errno set. */
char *sim_read_file (const char *path);
/* Basename of the link target, or NULL when there is no link. */
char *sim_link_name (const char *path);

/* One line of the simulator's write log (.sim/log):
 * "SEQ PATH \"DATA\" -> RESULT". */
typedef struct {
  char *path;   /* canonical, relative to the mount */
  char *data;   /* unescaped */
  char *result; /* "OK", "EBUSY", ... */
} SimWrite;

void sim_write_free (SimWrite *write);
/* The writes of a .sim/log text, in order (lines that do not parse are
 * skipped). */
GPtrArray *sim_parse_log (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimMount, sim_mount_stop)
