/* Which processes hold a function's device nodes open: /dev/nvidiaN,
 * /dev/dri/cardN and renderDN, /dev/vfio/<group> and the iommufd cdev
 * /dev/vfio/devices/vfioN, found in ROOT/proc/<pid>/fd. The fd links read
 * as host paths ("/dev/nvidia0"), which mean ROOT/dev/nvidia0. */
#pragma once

#include <glib.h>

#include "host/function.h"

G_BEGIN_DECLS

typedef struct {
  int pid;
  char *comm;   /* proc/<pid>/comm; "" when unreadable */
  char *node;   /* the node it holds, e.g. "/dev/nvidia0" */
} GvHostHolder;

void gv_host_holder_free (GvHostHolder *holder);

/* The nodes that stand for FN: its /dev/nvidiaN, drm nodes, its VFIO group
 * node VFIO_GROUP_NODE (may be NULL) and cdev, plus the VFIO nodes of the
 * mdevs in MDEVS (GvHostMdev, may be NULL) whose parent it is. */
GStrv gv_host_holder_nodes_for (const GvHostFunction *fn, const char *vfio_group_node, GPtrArray *mdevs);

/* Every (process, node) pair for the NODES held, sorted by pid then node.
 * Processes whose fd directory cannot be read (gone, or not ours) are
 * skipped and counted in N_UNREADABLE (may be NULL). Fails only when
 * ROOT/proc cannot be read at all. */
GPtrArray *gv_host_holders_scan (const char *root, const char *const *nodes,
                            guint *n_unreadable, GError **error);

/* The holder's program name: its comm, or the name from its cmdline when
 * comm was cut at 15 characters ("nvidia-persiste"); "?" when unknown. */
char *gv_host_holder_name (const char *root, const GvHostHolder *holder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostHolder, gv_host_holder_free)

G_END_DECLS
