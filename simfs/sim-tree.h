/* The filesystem view of a SimHost: which names exist under a directory,
 * what a file reads, and which rule a write goes to. Called with the
 * host's lock held; paths are relative to the mount root ("" is the root). */
#pragma once

#include "sim-model.h"

#include <sys/stat.h>

typedef enum { SIM_NODE_DIR, SIM_NODE_FILE, SIM_NODE_LINK } SimNodeKind;

typedef struct {
  SimNodeKind kind;
  int type;          /* directory kind or attribute, private to sim-tree.c */
  mode_t mode;       /* permission bits */
  gpointer obj, obj2;
  int num;
  char *target;      /* symlink target */
} SimNode;

typedef void (*SimFillFunc) (gpointer data, const char *name, const SimNode *node);

void sim_node_clear (SimNode *node);
/* FALSE when the path does not exist. */
gboolean sim_tree_lookup (SimHost *host, const char *path, SimNode *out);
void sim_tree_list (SimHost *host, const char *path, const SimNode *dir, SimFillFunc fill, gpointer data);
/* The bytes a read sees. */
GBytes *sim_tree_read (SimHost *host, const SimNode *node);
/* 0 or -errno, after fault injection; logged unless it is a .sim/ file. */
int sim_tree_write (SimHost *host, const char *path, const SimNode *node, const char *buf, gsize len);
gboolean sim_node_is_dev (const SimNode *node);
gboolean sim_node_is_control (const SimNode *node);
