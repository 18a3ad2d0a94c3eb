/* See libvirt-domain.h. libxml2 does the parsing (well-formedness,
 * entities, namespaces); this file only walks the tree. No network, no
 * DTD: the parser options forbid both. */
#include "common/libvirt-domain.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (gv-libvirt-domain-error-quark, gv_libvirt_domain_error)

static void
pci_free (GvLibvirtPci *p)
{
  g_free (p->address);
  g_free (p);
}

static void
mdev_free (GvLibvirtMdev *m)
{
  g_free (m->uuid);
  g_free (m->parent);
  g_free (m->type);
  g_free (m);
}

static void
vf_free (GvLibvirtVf *v)
{
  g_free (v->address);
  g_free (v->type);
  g_free (v);
}

void
gv_libvirt_domain_free (GvLibvirtDomain *d)
{
  if (!d)
    return;
  g_free (d->name);
  g_free (d->uuid);
  g_ptr_array_unref (d->pci);
  g_ptr_array_unref (d->mdevs);
  g_ptr_array_unref (d->mdev_requests);
  g_ptr_array_unref (d->vf_requests);
  g_free (d);
}

static gboolean
parse_number (const char *text, guint max, guint *out)
{
  char *end = NULL;
  guint64 v;

  if (!text || !*text)
    return FALSE;
  v = g_ascii_strtoull (text, &end, g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X") ? 16 : 10);
  if (!end || *end || v > max)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

char *
gv_libvirt_pci_address (const char *domain, const char *bus, const char *slot, const char *function)
{
  guint d = 0, b, s, f;

  /* libvirt's default domain is 0 */
  if ((domain && !parse_number (domain, 0xffff, &d)) || !parse_number (bus, 0xff, &b) || !parse_number (slot, 0x1f, &s)
      || !parse_number (function, 7, &f))
    return NULL;
  return g_strdup_printf ("%04x:%02x:%02x.%x", d, b, s, f);
}

/* An attribute as a GLib string (NULL when absent). */
static char *
attr (xmlNode *node, const char *name)
{
  xmlChar *v = xmlGetProp (node, (const xmlChar *) name);
  char *copy = v ? g_strdup ((const char *) v) : NULL;

  xmlFree (v);
  return copy;
}

static gboolean
is (xmlNode *node, const char *name)
{
  return node->type == XML_ELEMENT_NODE && g_str_equal ((const char *) node->name, name);
}

static gboolean
is_ours (xmlNode *node, const char *name)
{
  return is (node, name) && node->ns && node->ns->href && g_str_equal ((const char *) node->ns->href, GV_LIBVIRT_NS);
}

static xmlNode *
child (xmlNode *node, const char *name)
{
  for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
    if (is (c, name) && (!c->ns || !c->ns->href))
      return c;
  return NULL;
}

static char *
text_of (xmlNode *node)
{
  xmlChar *v = node ? xmlNodeGetContent (node) : NULL;
  char *copy = v ? g_strstrip (g_strdup ((const char *) v)) : NULL;

  xmlFree (v);
  return copy;
}

static void
read_hostdev (GvLibvirtDomain *d, xmlNode *hostdev)
{
  g_autofree char *mode = attr (hostdev, "mode");
  g_autofree char *type = attr (hostdev, "type");
  xmlNode *address = child (child (hostdev, "source"), "address");

  if (g_strcmp0 (mode, "subsystem") != 0 || !address)
    return;
  if (g_strcmp0 (type, "pci") == 0) {
    g_autofree char *managed = attr (hostdev, "managed");
    g_autofree char *dom = attr (address, "domain");
    g_autofree char *bus = attr (address, "bus");
    g_autofree char *slot = attr (address, "slot");
    g_autofree char *fn = attr (address, "function");
    char *bdf = gv_libvirt_pci_address (dom, bus, slot, fn);
    GvLibvirtPci *p;

    if (!bdf)
      return;
    p = g_new0 (GvLibvirtPci, 1);
    p->address = bdf;
    p->managed = g_strcmp0 (managed, "yes") == 0;
    g_ptr_array_add (d->pci, p);
  } else if (g_strcmp0 (type, "mdev") == 0) {
    g_autofree char *uuid = attr (address, "uuid");
    if (uuid && g_uuid_string_is_valid (uuid))
      g_ptr_array_add (d->mdevs, g_ascii_strdown (uuid, -1));
  }
}

static gboolean
read_ours (GvLibvirtDomain *d, xmlNode *vm, GError **error)
{
  d->opted_in = TRUE;
  for (xmlNode *c = vm->children; c; c = c->next) {
    if (is_ours (c, "mdev")) {
      g_autofree char *uuid = attr (c, "uuid");
      GvLibvirtMdev *m;
      if (!uuid || !g_uuid_string_is_valid (uuid)) {
        g_set_error (error, gv_libvirt_domain_error_quark (), 1,
                     "<gpuvirt:mdev> needs uuid='8-4-4-4-12 hex digits', not '%s'", uuid ? uuid : "");
        return FALSE;
      }
      m = g_new0 (GvLibvirtMdev, 1);
      m->uuid = g_ascii_strdown (uuid, -1);
      m->parent = attr (c, "parent");
      m->type = attr (c, "type");
      g_ptr_array_add (d->mdev_requests, m);
    } else if (is_ours (c, "vf")) {
      GvLibvirtVf *v = g_new0 (GvLibvirtVf, 1);
      v->address = attr (c, "address");
      v->type = attr (c, "type");
      g_ptr_array_add (d->vf_requests, v);
      if (!v->address || !v->type || !*v->type) {
        g_set_error (error, gv_libvirt_domain_error_quark (), 1, "<gpuvirt:vf> needs address= and type=");
        return FALSE;
      }
    }
  }
  return TRUE;
}

GvLibvirtDomain *
gv_libvirt_domain_parse (const char *xml, gssize length, GError **error)
{
  g_autoptr (GvLibvirtDomain) d = g_new0 (GvLibvirtDomain, 1);
  xmlDoc *doc;
  xmlNode *root;
  gboolean ok = TRUE;

  d->pci = g_ptr_array_new_with_free_func ((GDestroyNotify) pci_free);
  d->mdevs = g_ptr_array_new_with_free_func (g_free);
  d->mdev_requests = g_ptr_array_new_with_free_func ((GDestroyNotify) mdev_free);
  d->vf_requests = g_ptr_array_new_with_free_func ((GDestroyNotify) vf_free);
  if (length < 0)
    length = (gssize) strlen (xml);
  if (length > G_MAXINT) {
    g_set_error (error, gv_libvirt_domain_error_quark (), 1, "the domain XML is too large");
    return NULL;
  }
  doc = xmlReadMemory (xml, (int) length, "domain.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) {
    const xmlError *e = xmlGetLastError ();
    g_set_error (error, gv_libvirt_domain_error_quark (), 1, "the domain XML is not well-formed%s%s",
                 e && e->message ? ": " : "", e && e->message ? g_strstrip (e->message) : "");
    return NULL;
  }
  root = xmlDocGetRootElement (doc);
  if (!root || !is (root, "domain")) {
    g_set_error (error, gv_libvirt_domain_error_quark (), 1, "the XML is not a libvirt <domain>");
    xmlFreeDoc (doc);
    return NULL;
  }
  d->name = text_of (child (root, "name"));
  d->uuid = text_of (child (root, "uuid"));
  for (xmlNode *c = child (root, "metadata") ? child (root, "metadata")->children : NULL; c && ok; c = c->next)
    if (is_ours (c, "vm"))
      ok = read_ours (d, c, error);
  for (xmlNode *c = child (root, "devices") ? child (root, "devices")->children : NULL; c; c = c->next)
    if (is (c, "hostdev"))
      read_hostdev (d, c);
  xmlFreeDoc (doc);
  if (!ok)
    return NULL;
  if (!d->name) {
    g_set_error (error, gv_libvirt_domain_error_quark (), 1, "the domain has no <name>");
    return NULL;
  }
  return g_steal_pointer (&d);
}

const GvLibvirtMdev *
gv_libvirt_domain_mdev_request (const GvLibvirtDomain *d, const char *uuid)
{
  for (guint i = 0; i < d->mdev_requests->len; i++) {
    const GvLibvirtMdev *m = d->mdev_requests->pdata[i];
    if (g_ascii_strcasecmp (m->uuid, uuid) == 0)
      return m;
  }
  return NULL;
}

const GvLibvirtVf *
gv_libvirt_domain_vf_request (const GvLibvirtDomain *d, const char *address)
{
  for (guint i = 0; i < d->vf_requests->len; i++) {
    const GvLibvirtVf *v = d->vf_requests->pdata[i];
    if (g_ascii_strcasecmp (v->address, address) == 0)
      return v;
  }
  return NULL;
}
