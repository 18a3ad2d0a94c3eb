/* gpuvirt-libvirt-hook: libvirt's qemu hook for domains that opt in
 * (gpuvirt-libvirt-hook(8)). What its parts share. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "common/libvirt-domain.h"

/* One run: the domain, where its record is kept, the bus. */
typedef struct {
  const char *operation;     /* "prepare", "release" */
  GvLibvirtDomain *domain;
  char *record_path;         /* STATE_DIR/<domain uuid or name> */
  sd_bus *bus;               /* NULL until connected */
  gint64 deadline;           /* g_get_monotonic_time() bound of the whole run */
} Hook;

/* What prepare did to the domain's devices, kept across crashes of the
 * hook and of libvirtd in the record file (record.c), so that release
 * undoes exactly that and nothing else. */
typedef struct {
  GPtrArray *bound;          /* addresses prepare moved to vfio-pci (char*) */
  GPtrArray *mdevs;          /* UUIDs of mdevs prepare made */
  GPtrArray *vf_types;       /* addresses of VFs prepare gave a type */
} HookRecord;

HookRecord *hook_record_new (void);
void hook_record_free (HookRecord *record);
/* The record at PATH; an empty one when there is none. FALSE (and a
 * message logged) when it exists but cannot be read. */
gboolean hook_record_load (const char *path, HookRecord **ret);
/* Written atomically and durably; an empty record removes the file. */
gboolean hook_record_save (const char *path, const HookRecord *record);
gboolean hook_record_is_empty (const HookRecord *record);
void hook_record_add (GPtrArray *list, const char *item);
void hook_record_remove (GPtrArray *list, const char *item);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HookRecord, hook_record_free)

/* Logging: every line to the journal (SYSLOG_IDENTIFIER
 * gpuvirt-libvirt-hook, with GPUVIRT_DOMAIN and GPUVIRT_OPERATION);
 * errors also to stderr, which libvirt shows in virsh start's error. */
void hook_log_init (const char *domain, const char *operation);
void hook_info (const char *format, ...) G_GNUC_PRINTF (1, 2);
void hook_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* The operations (act.c). Each returns the exit status. */
int hook_prepare (Hook *hook);
int hook_release (Hook *hook);
