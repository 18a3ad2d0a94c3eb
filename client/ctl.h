/* What every part of gpuvirtctl shares: the parsed options, the exit
 * codes and the verbs. Everything the client knows comes over D-Bus. */
#pragma once

#include <glib.h>
#include <libintl.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "common/gv-error.h" /* the exit codes, GV_EXIT_* */

#define _(s) gettext (s)
#define N_(s) (s)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_event, sd_event_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (sd_bus_error, sd_bus_error_free)

typedef enum
{
  CTL_JSON_OFF,
  CTL_JSON_PRETTY,
  CTL_JSON_SHORT,
} CtlJson;

typedef struct
{
  CtlJson json;
  gboolean all;
  gboolean ask_password;
  /* bind, return, unbind */
  gboolean force;
  gboolean allow_foreign;
  gboolean keep_going;
  gboolean yes;
  gboolean verbose;
  guint32 timeout_ms;       /* 0: gpuvirtd's default */
  const char *driver;       /* return --driver, NULL: the recorded one */
  /* vgpu create, vgpu remove */
  char *uuid;               /* --uuid, checked and lowercased; NULL: generated */
  guint32 num_vfs;          /* --num-vfs, 0: not given (gpuvirtd's default) */
  gboolean disable_vfs;
  /* bind, return, sriov, vgpu create, vgpu remove */
  gboolean persist;         /* --persist: gpuvirtd records the change in its configuration */
  /* config save, apply */
  gboolean apply;           /* config save --apply, config import --apply */
  gboolean dry_run;         /* apply --dry-run */
  /* mig */
  guint32 count;            /* mig create --count, 0: not given (1) */
  gboolean pending;         /* mig DEVICE on|off --pending: no reset */
  gboolean no_compute;      /* mig create --no-compute-instances */
  /* export libvirt */
  guint guest_bus;          /* --guest-bus, default 0x10 */
  /* config import */
  const char *root;         /* --root (driverctl, mdevctl); NULL: not given ("/") */
  const char *config_name;  /* --config NAME (mig-parted) */
} CtlArgs;

extern CtlArgs ctl_args;

/* Each verb gets the connected bus and its own arguments (argv[0] is the
 * verb) and returns an exit code. */
int verb_status (sd_bus *bus, int argc, char **argv);
int verb_list (sd_bus *bus, int argc, char **argv);
int verb_show (sd_bus *bus, int argc, char **argv);
int verb_monitor (sd_bus *bus, int argc, char **argv);
int verb_bind (sd_bus *bus, int argc, char **argv);
int verb_return (sd_bus *bus, int argc, char **argv);
int verb_unbind (sd_bus *bus, int argc, char **argv);
int verb_sriov (sd_bus *bus, int argc, char **argv);
int verb_types (sd_bus *bus, int argc, char **argv);
int verb_vgpu_list (sd_bus *bus, int argc, char **argv);
int verb_vgpu_create (sd_bus *bus, int argc, char **argv);
int verb_vgpu_remove (sd_bus *bus, int argc, char **argv);
int verb_doctor (sd_bus *bus, int argc, char **argv);
int verb_config_show (sd_bus *bus, int argc, char **argv);
int verb_config_check (sd_bus *bus, int argc, char **argv);
int verb_config_save (sd_bus *bus, int argc, char **argv);
int verb_config_reload (sd_bus *bus, int argc, char **argv);
int verb_apply (sd_bus *bus, int argc, char **argv);
int verb_mig (sd_bus *bus, int argc, char **argv);
int verb_mig_list (sd_bus *bus, int argc, char **argv);
int verb_mig_create (sd_bus *bus, int argc, char **argv);
int verb_mig_destroy (sd_bus *bus, int argc, char **argv);
int verb_export (sd_bus *bus, int argc, char **argv);
int verb_config_import (sd_bus *bus, int argc, char **argv);

/* SaveConfig(TEXT) with --apply as given, then what config save prints;
 * NAME says where TEXT came from. Returns an exit code. */
int ctl_config_save_text (sd_bus *bus, const char *name, const char *text);

/* config import driverctl|mdevctl (import-driverctl.c, import-mdevctl.c):
 * the tool's files below ROOT as gpuvirt's configuration. Exit codes. */
int ctl_import_driverctl (sd_bus *bus, const char *root);
int ctl_import_mdevctl (sd_bus *bus, const char *root);
/* config import mig-parted FILE (import-mig-parted.c): the configuration
 * ctl_args.config_name of NVIDIA mig-parted's FILE. Exit codes. */
int ctl_import_mig_parted (sd_bus *bus, const char *file);

/* Appends {"persist": true} to an open options a{sv} when --persist was
 * given. */
int ctl_append_persist (sd_bus_message *m);
/* Opens the options a{sv} of a change with what every change takes:
 * timeout-ms from --timeout, persist from --persist. The caller closes it. */
int ctl_open_change_options (sd_bus_message *m);

/* Prints MESSAGE and where help is on stderr; returns GV_EXIT_USAGE. */
int ctl_usage_error (const char *message);
