/* Vendor and model names of PCI IDs, from the udev hardware database
 * (hwdb.bin, built from the PCI ID list) through sd-hwdb. No table of our
 * own: a name is "" when the hwdb has none or is not installed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GvHostNames GvHostNames;

/* Opens the hwdb. Never fails: without a hwdb every name is "". */
GvHostNames *gv_host_names_new (void);
void gv_host_names_free (GvHostNames *names);
/* Whether a hwdb was found. */
gboolean gv_host_names_available (GvHostNames *names);

/* ID_VENDOR_FROM_DATABASE of "pci:v0000VVVV", or "" (never NULL; to be freed).
 * NAMES may be NULL. */
char *gv_host_names_vendor (GvHostNames *names, guint16 vendor);
/* ID_MODEL_FROM_DATABASE of "pci:v0000VVVVd0000DDDD", or "". */
char *gv_host_names_model (GvHostNames *names, guint16 vendor, guint16 device);
/* The name lspci gives a class code (0x020000): ID_PCI_SUBCLASS_FROM_DATABASE
 * ("Ethernet controller"), else ID_PCI_CLASS_FROM_DATABASE, else "". */
char *gv_host_names_class (GvHostNames *names, guint32 class_code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostNames, gv_host_names_free)

G_END_DECLS
