/* Internals shared by the passthrough engine's files (passthrough/). Not part of
 * the API: the bus layer uses passthrough.h only. */
#pragma once

#include <glib.h>

#include "passthrough/passthrough.h"
#include "sysfs/write.h"

G_BEGIN_DECLS

#define GV_PASSTHROUGH_DEFAULT_TIMEOUT_MS 10000

/* ---- read.c: what the engine reads afresh ---- */

/* A driver name that is safe as one path component. */
gboolean gv_passthrough_driver_name_is_valid (const char *name);

/* ROOT/sys/bus/pci/drivers/NAME is there. */
gboolean gv_passthrough_driver_exists (const char *root, const char *name);

/* The driver BDF is on ("" when none) and its driver_override ("" for
 * "(null)"). FALSE when the function is gone. */
gboolean gv_passthrough_read_function (const char *root, const char *bdf, char **driver, char **override);
/* A display controller (class 03xxxx), read from ROOT's sysfs. */
gboolean gv_passthrough_is_display (const char *root, const char *bdf);

/* ---- move.c: moving one function, verified ---- */

typedef struct {
  const char *root;
  guint timeout_ms;
  GvPassthroughProgressFunc progress;
  gpointer user_data;
} GvPassthroughContext;

/* What went wrong with one write. */
typedef struct {
  char *step;        /* "unbind of 0000:01:00.1 from snd_hda_intel" */
  char *path;        /* the file written, ROOT included */
  char *data;        /* what was written, for the message */
  int err;           /* the kernel's errno; 0 for a mismatch or a timeout */
  gboolean stuck;    /* the write did not return in time */
  guint waited_ms;
  char *mismatch;    /* "it is on no driver, not vfio-pci" when verification failed */
} GvPassthroughFailure;

void gv_passthrough_failure_free (GvPassthroughFailure *failure);
/* "unbind of X from D (“X” to PATH) failed: EIO (Input/output error)" etc. */
char *gv_passthrough_failure_describe (const GvPassthroughFailure *failure);

typedef enum {
  GV_PASSTHROUGH_ATTACH_BIND,   /* drivers/<driver>/bind */
  GV_PASSTHROUGH_ATTACH_PROBE,  /* drivers_probe, which honours driver_override */
} GvPassthroughAttach;

/* Puts BDF on DRIVER ("" = none) with driver_override OVERRIDE ("" = none,
 * NULL = leave it as it is): override first, then unbind from whatever it
 * is on, then attach; every step read back. Writes only what differs.
 * FALSE with *FAILURE on the first failed or mismatching step. Should a
 * write outlive the timeout, its late report tells how to put the function
 * on HOME_DRIVER with HOME_OVERRIDE (NULL: where it was before the move). */
gboolean gv_passthrough_move (const GvPassthroughContext *ctx, const char *bdf, const char *driver, const char *override,
                  GvPassthroughAttach attach, const char *home_driver, const char *home_override, GvPassthroughFailure **failure);

/* The Device.State for a function on DRIVER. */
const char *gv_passthrough_state_for_driver (const char *driver);

/* Shell commands that put BDF from CUR_DRIVER onto DRIVER with OVERRIDE,
 * one per line, ROOT included in the paths: for a message when our own
 * attempt failed. */
char *gv_passthrough_recovery_commands (const char *root, const char *bdf, const char *cur_driver,
                            const char *driver, const char *override);

GvPassthroughResult *gv_passthrough_result_new (const char *bdf, const char *state, const char *driver, const char *message);

/* "bind-vfio", "give-back", "unbind": the Operation= of its journals */
const char *gv_passthrough_op_to_string (GvPassthroughOp operation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvPassthroughFailure, gv_passthrough_failure_free)

G_END_DECLS
