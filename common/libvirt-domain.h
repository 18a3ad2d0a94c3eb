/* A libvirt domain's XML, read for what gpuvirt cares about: its PCI and
 * mdev <hostdev> elements and gpuvirt's own element in <metadata>, the
 * opt-in of the libvirt hook (man gpuvirt-libvirt-hook(8)):
 *
 *   <metadata>
 *     <gpuvirt:vm xmlns:gpuvirt="https://gpuvirt.org/xmlns/libvirt/1">
 *       <gpuvirt:mdev uuid="UUID" parent="0000:81:00.0" type="nvidia-222"/>
 *       <gpuvirt:vf address="0000:41:00.4" type="NVIDIA L40S-24Q"/>
 *     </gpuvirt:vm>
 *   </metadata>
 *
 * Parsed with libxml2 (namespaces resolved, so any prefix works). Shared
 * by gpuvirtd's doctor and the hook; no D-Bus, no I/O but the parse. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GV_LIBVIRT_NS "https://gpuvirt.org/xmlns/libvirt/1"

/* The domain of parse errors (one code, 1: the message says what). */
GQuark gv_libvirt_domain_error_quark (void);

typedef struct {
  char *address;      /* "0000:01:00.0" (lowercase hex) */
  gboolean managed;   /* managed='yes' */
} GvLibvirtPci;

typedef struct {
  char *uuid;         /* lowercase */
  char *parent;       /* NULL when not given */
  char *type;         /* NULL when not given */
} GvLibvirtMdev;

typedef struct {
  char *address;
  char *type;
} GvLibvirtVf;

typedef struct {
  char *name;
  char *uuid;         /* the domain's <uuid>, NULL when absent */
  gboolean opted_in;  /* gpuvirt:vm in <metadata> */
  GPtrArray *pci;     /* GvLibvirtPci: <hostdev type='pci'>, in document order */
  GPtrArray *mdevs;   /* char*: UUIDs of <hostdev type='mdev'> */
  GPtrArray *mdev_requests; /* GvLibvirtMdev: gpuvirt:mdev */
  GPtrArray *vf_requests;   /* GvLibvirtVf: gpuvirt:vf */
} GvLibvirtDomain;

/* Parses XML (LENGTH bytes, -1: NUL-terminated). NULL with an error when
 * it is not well-formed, not a <domain>, or gpuvirt's element has a bad
 * attribute (the message names it). */
GvLibvirtDomain *gv_libvirt_domain_parse (const char *xml, gssize length, GError **error);
void gv_libvirt_domain_free (GvLibvirtDomain *domain);

/* "0000:01:00.0" from libvirt's domain/bus/slot/function attributes
 * (hex with 0x, or decimal), NULL when one is missing or out of range. */
char *gv_libvirt_pci_address (const char *domain, const char *bus, const char *slot, const char *function);

/* The request for the mdev UUID, or the VF ADDRESS; NULL when none. */
const GvLibvirtMdev *gv_libvirt_domain_mdev_request (const GvLibvirtDomain *domain, const char *uuid);
const GvLibvirtVf *gv_libvirt_domain_vf_request (const GvLibvirtDomain *domain, const char *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvLibvirtDomain, gv_libvirt_domain_free)

G_END_DECLS
