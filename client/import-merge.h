/* What config import driverctl and mdevctl share: the groups they make,
 * printed or merged into gpuvirtd's main configuration file's text. */
#pragma once

#include "bus-model.h"

typedef struct
{
  char *header;     /* "Device 0000:01:00.0", "Mdev UUID", "Manage" */
  char *comment;    /* "# from ..." line(s), or NULL */
  GPtrArray *keys;  /* char*: "Key=value", in order */
} CtlImportGroup;

CtlImportGroup *ctl_import_group_new (const char *header, const char *comment);
void ctl_import_group_free (CtlImportGroup *group);
void ctl_import_group_set (CtlImportGroup *group, const char *key, const char *value);
/* The group in GROUPS with HEADER (its address or UUID compared as gpuvirt
 * compares them), else NULL. */
CtlImportGroup *ctl_import_find (GPtrArray *groups, const char *header);

/* TEXT with GROUPS merged in: a key of a group TEXT already has replaces
 * that key's line (Devices= of [Manage] is extended instead), other keys
 * go after the group's last line, new groups at the end. Comments and
 * everything else stay as they are. */
char *ctl_import_merge (const char *text, GPtrArray *groups);

/* Prints GROUPS (and PROBLEMS, "cannot map: ..." on stderr), or with
 * --apply merges them into the main file and saves it (refused when there
 * are problems). SOURCE names what was read. Returns the exit code. */
int ctl_import_finish (sd_bus *bus, const char *source, GPtrArray *groups, GPtrArray *problems);

/* The vendor:device of the device at ADDRESS in MODEL as "10de:26b9",
 * its org.gpuvirt.Device properties in *PROPS (may be NULL); NULL when
 * the host has no such function. */
char *ctl_import_device_id (BusModel *model, const char *address, GVariant **props);
