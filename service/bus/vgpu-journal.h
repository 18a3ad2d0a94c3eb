/* Journaling of the bus's SR-IOV and vGPU operations (see
 * bus-vgpu-journal.c). Both run in the operation's worker thread. */
#pragma once

#include "bus/vgpu-op.h"

/* The journal's id, or NULL when none could be written (logged). */
char *vgpu_op_journal_begin (VgpuOp *op);
/* Closes it, unless a write is stuck (recovery at the next start). */
void vgpu_op_journal_end (VgpuOp *op, const char *id);
