/* The host model: every PCI function of a host read from a root prefix,
 * which of them gpuvirt manages (GPUs, their companion functions and
 * their VFs, plus what the configuration adds), each GPU's companions,
 * IOMMU group verdict and vGPU framework, the existing mdevs, and the
 * host-wide facts. No D-Bus here: the daemon wraps it.
 *
 * Companions of a managed function P are the union of
 *  - the other functions in P's slot (same domain:bus:slot), VFs excluded;
 *  - the targets of P's consumer:pci:<BDF> device links;
 *  - members of P's IOMMU group that are not bridges, not VFs and not
 *    managed functions themselves, that sit below the same upstream bridge
 *    as P (not on a root bus) and carry P's vendor ID: what an ARI device
 *    shows as another "slot". A group member that is not P's own is never
 *    swept in silently: it makes the verdict "shared" and is named.
 * The group verdict is "viable" when every member of the group is P's own
 * (P, its companions, their VFs) or a PCI bridge (class 0604), "shared"
 * naming the foreign functions otherwise, "none" without an IOMMU group. */
#pragma once

#include <glib.h>

#include "host/facts.h"
#include "host/holders.h"
#include "host/function.h"
#include "host/vgpu-files.h"

G_BEGIN_DECLS

typedef enum {
  GV_HOST_ROLE_UNMANAGED, /* listed read-only in the All view */
  GV_HOST_ROLE_GPU,       /* a display controller (class 03xxxx) */
  GV_HOST_ROLE_EXTRA,     /* made managed by gv_host_set_extra_managed() */
  GV_HOST_ROLE_COMPANION, /* a companion function of a GPU or extra function */
  GV_HOST_ROLE_VF,        /* a virtual function of a managed function */
} GvHostRole;

/* "unmanaged", "gpu", "extra", "companion", "vf" */
const char *gv_host_role_to_string (GvHostRole role);

typedef enum {
  GV_HOST_GROUP_NONE,   /* no IOMMU group: VFIO impossible */
  GV_HOST_GROUP_VIABLE, /* only its own functions and bridges */
  GV_HOST_GROUP_SHARED, /* foreign functions share the group */
} GvHostVerdict;

/* "none", "viable", "shared" */
const char *gv_host_verdict_to_string (GvHostVerdict verdict);

/* A function as the host model sees it: the facts read from sysfs plus
 * what follows from the other functions. A snapshot, never changed once
 * made: a refresh makes new ones. Reference counted. */
typedef struct {
  GvHostFunction *fn;          /* the facts (BDF, IDs, driver, SR-IOV, vGPU, ...) */
  GvHostRole role;
  gboolean managed;           /* role is GPU, EXTRA, COMPANION or VF */
  char *owner;                /* the GPU or extra function a companion or VF belongs to; else NULL */
  GStrv companions;           /* of a GPU or extra function, sorted; empty otherwise */
  GStrv group_members;        /* every PCI function in its IOMMU group (itself included), sorted */
  char *vfio_group_node;      /* "/dev/vfio/<group>" when ROOT/dev/vfio/<group> exists, else NULL */
  GvHostVerdict verdict;
  GStrv foreign;              /* the group members that make it "shared", sorted; empty otherwise */
  GvHostFramework framework;  /* of the GPU (a VF reports its PF's); none for others */
} GvHostDevice;

GvHostDevice *gv_host_device_ref (GvHostDevice *device);
void gv_host_device_unref (GvHostDevice *device);
/* Same facts and same derived data. */
gboolean gv_host_device_equal (const GvHostDevice *a, const GvHostDevice *b);

/* A class match for gv_host_set_extra_managed(): CLASS & MASK == VALUE. */
typedef struct {
  guint32 value;
  guint32 mask;
} GvHostClassMatch;

/* "01", "0108" or "010802" (an optional "0x" first): class, class and
 * subclass, or all three bytes. FALSE on anything else. */
gboolean gv_host_class_match_parse (const char *text, GvHostClassMatch *out);

/* What a rescan or refresh changed, by BDF, each list sorted. */
typedef struct {
  GStrv added;
  GStrv removed;
  GStrv changed;          /* facts or derived data differ */
  gboolean mdevs_changed;
  gboolean facts_changed; /* host-wide facts */
} GvHostChanges;

void gv_host_changes_free (GvHostChanges *changes);
/* Nothing changed at all. */
gboolean gv_host_changes_is_empty (const GvHostChanges *changes);

/* Not thread-safe: use a GvHost from one thread (the daemon's event loop). */
typedef struct _GvHost GvHost;

/* A model of the host below ROOT ("/" on a real host). Reads nothing yet
 * but checks that ROOT/sys/bus/pci/devices is there. */
GvHost *gv_host_new (const char *root, GError **error);
void gv_host_free (GvHost *host);
const char *gv_host_get_root (GvHost *host);

/* Also manage these BDFs and classes (e.g. NVMe for tests), on top of the
 * GPUs. Either may be NULL. Takes effect at once (no re-read needed). */
void gv_host_set_extra_managed (GvHost *host, const char *const *bdfs,
                                const GvHostClassMatch *classes, gsize n_classes);

/* Functions whose reads would block: a sriov_numvfs write under way
 * holds the PF's device lock, which reading its sriov_numvfs waits for.
 * Until released, rescans and refreshes keep what the model had for BDF
 * (its VFs are still read). Holds nest. */
void gv_host_hold_reads (GvHost *host, const char *bdf);
void gv_host_release_reads (GvHost *host, const char *bdf);

/* Reads everything again. CHANGES (may be NULL) gets what differs from
 * the model before the call. */
gboolean gv_host_rescan (GvHost *host, GvHostChanges **changes, GError **error);

/* Re-reads one function (on a uevent): a function that is gone is removed
 * from the model, a new one added. Also re-read: the VFs it lists or no
 * longer lists, and for a GPU with VFs or mdevs its whole family (PF and
 * VFs), whose vGPU type lists change together; and the mdevs. Fails when
 * BDF is malformed, or neither on the host nor in the model. */
gboolean gv_host_refresh_function (GvHost *host, const char *bdf,
                                   GvHostChanges **changes, GError **error);
/* Same for several BDFs at once (e.g. a burst of uevents). */
gboolean gv_host_refresh_functions (GvHost *host, const char *const *bdfs,
                                    GvHostChanges **changes, GError **error);
/* Re-reads what PARTS says and nothing else: BDF -> GvHostParts
 * (GUINT_TO_POINTER) for functions in the model; a BDF the model lacks is
 * read whole, one gone is removed; MDEVS: the mdev list too. What an
 * operation can have changed, instead of whole families. */
gboolean gv_host_refresh_parts (GvHost *host, GHashTable *parts, gboolean mdevs, GvHostChanges **changes,
                                GError **error);
/* Re-reads the mdevs and their parents' families (on an mdev uevent). */
gboolean gv_host_refresh_mdevs (GvHost *host, GvHostChanges **changes, GError **error);

/* Every function, sorted by BDF (borrowed; valid until the next refresh). */
GPtrArray *gv_host_get_devices (GvHost *host);
/* The managed ones (a new array holding references). */
GPtrArray *gv_host_dup_managed (GvHost *host);
/* A function by BDF (borrowed), or NULL. */
GvHostDevice *gv_host_lookup (GvHost *host, const char *bdf);
/* The existing mdevs (GvHostMdev, sorted by UUID; borrowed). */
GPtrArray *gv_host_get_mdevs (GvHost *host);
/* Host-wide facts (borrowed). */
const GvHostFacts *gv_host_get_facts (GvHost *host);

/* The processes holding BDF's nodes now (GvHostHolder): its /dev/nvidiaN,
 * /dev/dri nodes, /dev/vfio/<group>, its cdev and its mdevs' VFIO nodes.
 * Read from ROOT/proc on each call. */
GPtrArray *gv_host_get_holders (GvHost *host, const char *bdf, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostDevice, gv_host_device_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHostChanges, gv_host_changes_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvHost, gv_host_free)

G_END_DECLS
