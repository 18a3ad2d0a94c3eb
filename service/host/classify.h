/* The classification of a host's functions (classify.c), the part of the
 * model that follows from all of them together. Internal to host/. */
#pragma once

#include "host/model.h"

typedef struct {
  const char *root;           /* for the /dev/vfio nodes of groups */
  GHashTable *fns;            /* BDF -> GvHostFunction: the facts */
  GPtrArray *extra_bdfs;      /* char *: also managed */
  GArray *extra_classes;      /* GvHostClassMatch: also managed */
} GvHostClassifyInput;

/* Every function of IN as a GvHostDevice, sorted by BDF (a new array
 * holding references). */
GPtrArray *gv_host_classify (const GvHostClassifyInput *in);
