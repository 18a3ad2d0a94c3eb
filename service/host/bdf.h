/* PCI addresses. A full BDF is "dddd:bb:ss.f" in lower-case hex, as sysfs
 * names functions (domains may have more than 4 digits on some hosts, e.g.
 * behind Intel VMD). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint domain;
  guint bus;
  guint slot;
  guint function;
} GvHostBdf;

/* Only the full, lower-case form sysfs uses. */
gboolean gv_host_bdf_parse (const char *text, GvHostBdf *out);
gboolean gv_host_bdf_is_valid (const char *text);
/* Same domain, bus and slot. */
gboolean gv_host_bdf_same_slot (const GvHostBdf *a, const GvHostBdf *b);
/* What a person types: "0000:0b:00.0", "0B:00.0" (domain 0000) in either
 * case, as the full lower-case BDF; NULL when it is no PCI address. */
char *gv_host_bdf_normalize (const char *text);

G_END_DECLS
