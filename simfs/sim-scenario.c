/* Loads a scenario (JSON, see SCENARIOS.md) into a SimHost. Every error
 * names the file, the object and the field at fault. */
#include "sim-model.h"
#include "sim-internal.h"
#include "sim-errno.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define SIM_ERROR (g_quark_from_static_string ("gpuvirt-simfs"))

typedef struct {
  const char *file;
  GError **error;
  char *type_error;   /* the first member of the wrong JSON type */
} Ctx;

static gboolean
fail (Ctx *ctx, const char *where, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Ctx *ctx, const char *where, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (ctx->error, SIM_ERROR, 1, "%s: %s: %s", ctx->file, where, msg);
  return FALSE;
}

/* Members and elements of the JSON type the loader expects. One of
 * another type is recorded (the scenario then fails to load, naming it)
 * and read as missing, so that a wrong file never reaches json-glib's
 * type assertions. */
static JsonNode *
typed (Ctx *ctx, JsonNode *node, const char *name, JsonNodeType type, GType value_type)
{
  const char *what = type == JSON_NODE_OBJECT ? "an object" : type == JSON_NODE_ARRAY ? "an array"
                     : value_type == G_TYPE_STRING ? "a string" : "true or false";

  if (!node || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (JSON_NODE_TYPE (node) == type && (type != JSON_NODE_VALUE || json_node_get_value_type (node) == value_type))
    return node;
  if (!ctx->type_error)
    ctx->type_error = g_strdup_printf ("\"%s\" must be %s", name, what);
  return NULL;
}

static const char *
str_member (Ctx *ctx, JsonObject *o, const char *member, const char *dflt)
{
  JsonNode *node = typed (ctx, json_object_get_member (o, member), member, JSON_NODE_VALUE, G_TYPE_STRING);
  return node ? json_node_get_string (node) : dflt;
}

static gboolean
bool_member (Ctx *ctx, JsonObject *o, const char *member, gboolean dflt)
{
  JsonNode *node = typed (ctx, json_object_get_member (o, member), member, JSON_NODE_VALUE, G_TYPE_BOOLEAN);
  return node ? json_node_get_boolean (node) : dflt;
}

static JsonObject *
obj_member (Ctx *ctx, JsonObject *o, const char *member)
{
  JsonNode *node = typed (ctx, json_object_get_member (o, member), member, JSON_NODE_OBJECT, G_TYPE_INVALID);
  return node ? json_node_get_object (node) : NULL;
}

static JsonArray *
arr_member (Ctx *ctx, JsonObject *o, const char *member)
{
  JsonNode *node = typed (ctx, json_object_get_member (o, member), member, JSON_NODE_ARRAY, G_TYPE_INVALID);
  return node ? json_node_get_array (node) : NULL;
}

static JsonObject *
obj_element (Ctx *ctx, JsonArray *a, guint i)
{
  JsonNode *node = typed (ctx, json_array_get_element (a, i), "[]", JSON_NODE_OBJECT, G_TYPE_INVALID);
  return node ? json_node_get_object (node) : NULL;
}

static const char *
str_element (Ctx *ctx, JsonArray *a, guint i)
{
  JsonNode *node = typed (ctx, json_array_get_element (a, i), "[]", JSON_NODE_VALUE, G_TYPE_STRING);
  return node ? json_node_get_string (node) : NULL;
}

static gboolean
get_hex (Ctx *ctx, JsonObject *obj, const char *where, const char *member, guint32 max, guint32 *out)
{
  const char *s;
  char *end;
  guint64 v;

  if (!json_object_has_member (obj, member))
    return TRUE;
  s = str_member (ctx, obj, member, NULL);
  if (!s)
    return fail (ctx, where, "\"%s\" must be a hex string such as \"10de\"", member);
  v = g_ascii_strtoull (s, &end, 16);
  if (*s == '\0' || *end != '\0' || v > max)
    return fail (ctx, where, "\"%s\": \"%s\" is not a hex number up to %x", member, s, max);
  *out = (guint32) v;
  return TRUE;
}

static gboolean
get_uint (Ctx *ctx, JsonObject *obj, const char *where, const char *member, guint *out)
{
  JsonNode *node = json_object_get_member (obj, member);
  gint64 v;

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (ctx, where, "\"%s\" must be an integer", member);
  v = json_node_get_int (node);
  if (v < 0 || v > G_MAXUINT32)
    return fail (ctx, where, "\"%s\" is out of range", member);
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_int (Ctx *ctx, JsonObject *obj, const char *where, const char *member, int *out)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (ctx, where, "\"%s\" must be an integer", member);
  *out = (int) json_node_get_int (node);
  return TRUE;
}

static gboolean
parse_id (const char *s, SimPciId *id)
{
  g_auto (GStrv) parts = g_strsplit (s, ":", -1);
  guint n = g_strv_length (parts);
  guint32 *fields[] = { &id->vendor, &id->device, &id->subvendor, &id->subdevice, &id->class_, &id->class_mask };

  if (n != 2 && n != 4 && n != 6)
    return FALSE;
  *id = (SimPciId) { SIM_ANY_ID, SIM_ANY_ID, SIM_ANY_ID, SIM_ANY_ID, 0, 0 };
  for (guint i = 0; i < n; i++) {
    char *end;
    guint64 v;
    if (g_str_equal (parts[i], "*")) {
      if (i >= 4)
        return FALSE;
      continue;
    }
    v = g_ascii_strtoull (parts[i], &end, 16);
    if (parts[i][0] == '\0' || *end != '\0' || v > 0xffffff)
      return FALSE;
    *fields[i] = (guint32) v;
  }
  return TRUE;
}

static gboolean
load_errno_map (Ctx *ctx, JsonObject *obj, const char *where, const char *member, GHashTable *map)
{
  JsonObject *fails;
  g_autoptr (GList) names = NULL;

  if (!json_object_has_member (obj, member))
    return TRUE;
  fails = obj_member (ctx, obj, member);
  if (!fails)
    return fail (ctx, where, "\"%s\" must be an object of driver: errno", member);
  names = json_object_get_members (fails);
  for (GList *l = names; l; l = l->next) {
    const char *err = str_member (ctx, fails, l->data, "");
    int e = sim_errno_from_name (err);
    if (!e)
      return fail (ctx, where, "\"%s\": unknown errno name \"%s\"", member, err);
    g_hash_table_insert (map, g_strdup (l->data), GINT_TO_POINTER (e));
  }
  return TRUE;
}

static gboolean
load_kernel (Ctx *ctx, SimHost *host, JsonObject *root)
{
  JsonObject *k = json_object_has_member (root, "kernel") ? obj_member (ctx, root, "kernel") : NULL;
  const char *iommu;

  if (!k)
    return TRUE;
  g_free (host->kernel_release);
  host->kernel_release = g_strdup (str_member (ctx, k, "release", "6.1.0-simulated"));
  g_free (host->cmdline);
  host->cmdline = g_strdup (str_member (ctx, k, "cmdline", ""));
  iommu = str_member (ctx, k, "iommu", "intel");
  if (g_str_equal (iommu, "intel"))
    host->iommu = SIM_IOMMU_INTEL;
  else if (g_str_equal (iommu, "amd"))
    host->iommu = SIM_IOMMU_AMD;
  else if (g_str_equal (iommu, "none"))
    host->iommu = SIM_IOMMU_NONE;
  else if (g_str_equal (iommu, "other"))
    host->iommu = SIM_IOMMU_OTHER;
  else
    return fail (ctx, "kernel", "\"iommu\" must be \"intel\", \"amd\", \"other\" or \"none\", not \"%s\"", iommu);
  g_free (host->iommu_group_type);
  host->iommu_group_type = g_strdup (str_member (ctx, k, "iommu_group_type", "DMA"));
  host->vfio_cdev = bool_member (ctx, k, "vfio_cdev", TRUE);
  host->nvidia_vgpu_manager = bool_member (ctx, k, "nvidia_vgpu_manager", FALSE);
  host->interrupt_remapping = bool_member (ctx, k, "interrupt_remapping", TRUE);
  {
    JsonArray *mods = arr_member (ctx, k, "modules");
    for (guint i = 0; mods && i < json_array_get_length (mods); i++) {
      const char *m = str_element (ctx, mods, i);
      if (!m || !*m)
        return fail (ctx, "kernel", "modules[%u] must be a module name such as \"nvidia_drm\"", i);
      g_ptr_array_add (host->modules, g_strdup (m));
    }
  }
  return get_uint (ctx, k, "kernel", "sriov_enable_delay_ms", &host->sriov_enable_delay_ms) &&
         get_uint (ctx, k, "kernel", "sriov_disable_delay_ms", &host->sriov_disable_delay_ms) &&
         get_uint (ctx, k, "kernel", "sriov_vf_delay_ms", &host->sriov_vf_delay_ms);
}

static gboolean
load_driver (Ctx *ctx, SimHost *host, JsonObject *o, guint index)
{
  g_autofree char *where = g_strdup_printf ("drivers[%u]", index);
  const char *name = str_member (ctx, o, "name", NULL);
  SimDriver *drv;
  JsonArray *ids;

  if (!name || !*name)
    return fail (ctx, where, "\"name\" is missing");
  if (sim_host_find_driver (host, name))
    return fail (ctx, where, "driver \"%s\" is listed twice", name);
  drv = sim_driver_new (name);
  g_ptr_array_add (host->drivers, drv);
  g_free (drv->module);
  /* "module": null is a built-in driver, with no module link */
  if (json_object_has_member (o, "module"))
    drv->module = g_strdup (str_member (ctx, o, "module", NULL));
  else
    drv->module = g_strdup (name);
  drv->vfio = bool_member (ctx, o, "vfio", FALSE);
  drv->sriov_configure = bool_member (ctx, o, "sriov_configure", FALSE);
  ids = json_object_has_member (o, "ids") ? arr_member (ctx, o, "ids") : NULL;
  for (guint i = 0; ids && i < json_array_get_length (ids); i++) {
    const char *s = str_element (ctx, ids, i);
    SimPciId id;
    if (!s || !parse_id (s, &id))
      return fail (ctx, where, "ids[%u] must read VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE[:CLASS:MASK]]", i);
    g_array_append_val (drv->ids, id);
  }
  return get_uint (ctx, o, where, "unbind_delay_ms", &drv->unbind_delay_ms) &&
         get_uint (ctx, o, where, "probe_delay_ms", &drv->probe_delay_ms);
}

static gboolean
load_vgpu (Ctx *ctx, SimDevice *dev, JsonObject *o, const char *where)
{
  const char *fw = str_member (ctx, o, "framework", "none");
  const char *format = str_member (ctx, o, "creatable_format", "id-first");
  JsonArray *types = json_object_has_member (o, "types") ? arr_member (ctx, o, "types") : NULL;
  SimVgpu *vgpu = sim_vgpu_new ();

  dev->vgpu = vgpu;
  if (g_str_equal (fw, "mdev-pf"))
    vgpu->framework = SIM_VGPU_MDEV_PF;
  else if (g_str_equal (fw, "mdev-vf"))
    vgpu->framework = SIM_VGPU_MDEV_VF;
  else if (g_str_equal (fw, "vendor-vfio"))
    vgpu->framework = SIM_VGPU_VENDOR_VFIO;
  else
    return fail (ctx, where, "vgpu.framework must be mdev-pf, mdev-vf or vendor-vfio, not \"%s\"", fw);
  if (!g_str_equal (format, "id-first") && !g_str_equal (format, "name-first"))
    return fail (ctx, where, "vgpu.creatable_format must be id-first or name-first");
  vgpu->name_first = g_str_equal (format, "name-first");
  vgpu->header = bool_member (ctx, o, "creatable_header", TRUE);
  vgpu->heterogeneous = bool_member (ctx, o, "heterogeneous", FALSE);
  if (!get_uint (ctx, o, where, "framebuffer_mb", &vgpu->framebuffer_mb) ||
      !get_uint (ctx, o, where, "release_delay_ms", &vgpu->release_delay_ms))
    return FALSE;
  for (guint i = 0; types && i < json_array_get_length (types); i++) {
    JsonObject *t = obj_element (ctx, types, i);
    g_autofree char *twhere = g_strdup_printf ("%s: vgpu.types[%u]", where, i);
    SimVgpuType *type = g_new0 (SimVgpuType, 1);
    const char *id = t ? str_member (ctx, t, "id", NULL) : NULL;
    g_ptr_array_add (vgpu->types, type);
    if (!id || !*id)
      return fail (ctx, twhere, "\"id\" is missing");
    type->id = g_strdup (id);
    type->name = g_strdup (str_member (ctx, t, "name", id));
    type->description = g_strdup (str_member (ctx, t, "description", ""));
    type->device_api = g_strdup (str_member (ctx, t, "device_api", "vfio-pci"));
    type->gi_profile = g_strdup (str_member (ctx, t, "gpu_instance_profile", NULL));
    if (!get_uint (ctx, t, twhere, "framebuffer_mb", &type->framebuffer_mb) ||
        !get_uint (ctx, t, twhere, "max_instance", &type->max_instance))
      return FALSE;
    if (vgpu->framework == SIM_VGPU_VENDOR_VFIO) {
      guint64 v;
      if (!g_ascii_string_to_unsigned (id, 10, 1, G_MAXUINT32, &v, NULL))
        return fail (ctx, twhere, "a vendor-vfio type id must be a positive decimal number, not \"%s\"", id);
      type->numeric_id = (guint) v;
    }
  }
  return TRUE;
}

static gboolean
load_sriov (Ctx *ctx, SimDevice *dev, JsonObject *o, const char *where, guint *numvfs)
{
  guint32 vf_device = dev->device, vf_class = 0;

  dev->has_sriov = TRUE;
  dev->vf_offset = 1;
  dev->vf_stride = 1;
  if (!get_uint (ctx, o, where, "totalvfs", &dev->totalvfs) ||
      !get_uint (ctx, o, where, "numvfs", numvfs) ||
      !get_uint (ctx, o, where, "offset", &dev->vf_offset) ||
      !get_uint (ctx, o, where, "stride", &dev->vf_stride) ||
      !get_hex (ctx, o, where, "vf_device", 0xffff, &vf_device) ||
      !get_hex (ctx, o, where, "vf_class", 0xffffff, &vf_class) ||
      !load_errno_map (ctx, o, where, "vf_probe_fails", dev->vf_probe_fails))
    return FALSE;
  dev->vf_device = (guint16) vf_device;
  dev->vf_class = vf_class;
  dev->vf_autoprobe = bool_member (ctx, o, "drivers_autoprobe", TRUE);
  if (*numvfs > dev->totalvfs)
    return fail (ctx, where, "sriov.numvfs %u is above totalvfs %u", *numvfs, dev->totalvfs);
  return TRUE;
}

/* "reset": what the function can do besides a bus reset; "mig": MIG. */
static gboolean
load_reset_and_mig (Ctx *ctx, SimDevice *dev, JsonObject *o, const char *where)
{
  if (json_object_has_member (o, "reset")) {
    JsonArray *list = json_object_get_array_member (o, "reset");
    if (!list)
      return fail (ctx, where, "\"reset\" must be a list such as [\"flr\"]");
    for (guint i = 0; i < json_array_get_length (list); i++) {
      const char *name = json_array_get_string_element (list, i);
      int m = name ? sim_reset_method_lookup (name) : 0;
      if (!m || m == SIM_RESET_BUS)
        return fail (ctx, where, "reset[%u] must be device_specific, acpi, flr, af_flr or pm (\"bus\" follows from the "
                     "topology)", i);
      dev->reset_caps |= 1u << m;
    }
  } else if (!dev->is_bridge) {
    dev->reset_caps = 1u << SIM_RESET_FLR;
  }
  if (json_object_has_member (o, "mig")) {
    JsonObject *mig = json_object_get_object_member (o, "mig");
    if (!mig)
      return fail (ctx, where, "\"mig\" must be an object");
    dev->mig = sim_mig_new ();
    dev->mig->current = json_object_get_boolean_member_with_default (mig, "current", FALSE);
    dev->mig->pending = json_object_get_boolean_member_with_default (mig, "pending", dev->mig->current);
    if (!get_uint (ctx, mig, where, "memory_slices", &dev->mig->memory_slices))
      return FALSE;
  }
  return TRUE;
}

static gboolean
load_device (Ctx *ctx, SimHost *host, JsonObject *o, guint index, GHashTable *numvfs)
{
  g_autofree char *where = g_strdup_printf ("devices[%u]", index);
  const char *bdf = str_member (ctx, o, "bdf", NULL);
  guint d, b, s, f;
  guint32 vendor = 0xffff, device = 0xffff, subv = 0, subd = 0, cls = 0, rev = 0;
  SimDevice *dev;
  const char *config;

  if (!bdf || !sim_parse_bdf (bdf, &d, &b, &s, &f))
    return fail (ctx, where, "\"bdf\" must be a full address such as \"0000:01:00.0\"");
  if (sim_host_find_device (host, bdf))
    return fail (ctx, where, "%s is listed twice", bdf);
  g_free (where);
  where = g_strdup_printf ("devices[%u] (%s)", index, bdf);
  if (!json_object_has_member (o, "vendor") || !json_object_has_member (o, "device") ||
      !json_object_has_member (o, "class"))
    return fail (ctx, where, "\"vendor\", \"device\" and \"class\" are required");

  dev = sim_device_new (bdf);
  sim_host_add_device (host, dev);
  if (!get_hex (ctx, o, where, "vendor", 0xffff, &vendor) ||
      !get_hex (ctx, o, where, "device", 0xffff, &device) ||
      !get_hex (ctx, o, where, "subsystem_vendor", 0xffff, &subv) ||
      !get_hex (ctx, o, where, "subsystem_device", 0xffff, &subd) ||
      !get_hex (ctx, o, where, "class", 0xffffff, &cls) ||
      !get_hex (ctx, o, where, "revision", 0xff, &rev) ||
      !get_int (ctx, o, where, "numa_node", &dev->numa_node) ||
      !get_int (ctx, o, where, "iommu_group", &dev->iommu_group) ||
      !get_int (ctx, o, where, "nvidia_minor", &dev->nvidia_minor) ||
      !get_uint (ctx, o, where, "unbind_delay_ms", &dev->unbind_delay_ms) ||
      !load_errno_map (ctx, o, where, "probe_fails", dev->probe_fails))
    return FALSE;
  dev->vendor = (guint16) vendor;
  dev->device = (guint16) device;
  dev->subvendor = (guint16) subv;
  dev->subdevice = (guint16) subd;
  dev->class_ = cls;
  dev->revision = (guint8) rev;
  dev->boot_vga = bool_member (ctx, o, "boot_vga", FALSE);
  dev->nvidia_model = g_strdup (str_member (ctx, o, "nvidia_model", NULL));
  if (json_object_has_member (o, "driver_override"))
    dev->driver_override = g_strdup (str_member (ctx, o, "driver_override", NULL));

  if (json_object_has_member (o, "bridge")) {
    JsonObject *br = obj_member (ctx, o, "bridge");
    if (!br || !get_uint (ctx, br, where, "secondary", &dev->secondary_bus) ||
        !get_uint (ctx, br, where, "subordinate", &dev->subordinate_bus))
      return br ? FALSE : fail (ctx, where, "\"bridge\" must be an object");
    dev->is_bridge = TRUE;
    dev->no_acs = !bool_member (ctx, br, "acs", TRUE);
  }
  if (json_object_has_member (o, "drm")) {
    JsonObject *drm = obj_member (ctx, o, "drm");
    if (!drm || !get_int (ctx, drm, where, "card", &dev->drm_card) ||
        !get_int (ctx, drm, where, "render", &dev->drm_render))
      return drm ? FALSE : fail (ctx, where, "\"drm\" must be an object");
  }
  if (json_object_has_member (o, "consumers")) {
    JsonArray *c = arr_member (ctx, o, "consumers");
    for (guint i = 0; c && i < json_array_get_length (c); i++)
      g_ptr_array_add (dev->consumers, g_strdup (str_element (ctx, c, i)));
  }
  config = str_member (ctx, o, "config", NULL);
  if (config) {
    gsize len = strlen (config);
    g_autofree guint8 *bytes = NULL;
    if (len % 2 != 0 || len < 128)
      return fail (ctx, where, "\"config\" must hold at least 64 whole bytes as hex");
    bytes = g_malloc (len / 2);
    for (gsize i = 0; i < len; i += 2) {
      int hi = g_ascii_xdigit_value (config[i]), lo = g_ascii_xdigit_value (config[i + 1]);
      if (hi < 0 || lo < 0)
        return fail (ctx, where, "\"config\" must be hex bytes");
      bytes[i / 2] = (guint8) (hi << 4 | lo);
    }
    dev->config = g_bytes_new (bytes, len / 2);
  }
  if (json_object_has_member (o, "sriov")) {
    guint n = 0;
    JsonObject *sr = obj_member (ctx, o, "sriov");
    if (!sr || !load_sriov (ctx, dev, sr, where, &n))
      return sr ? FALSE : fail (ctx, where, "\"sriov\" must be an object");
    if (n)
      g_hash_table_insert (numvfs, dev, GUINT_TO_POINTER (n));
  }
  if (json_object_has_member (o, "vgpu")) {
    JsonObject *vg = obj_member (ctx, o, "vgpu");
    if (!vg || !load_vgpu (ctx, dev, vg, where))
      return vg ? FALSE : fail (ctx, where, "\"vgpu\" must be an object");
  }
  return load_reset_and_mig (ctx, dev, o, where);
}

/* Links between devices, once all are known. */
static gboolean
resolve_device (Ctx *ctx, SimHost *host, JsonObject *o)
{
  const char *bdf = str_member (ctx, o, "bdf", NULL);
  SimDevice *dev = sim_host_find_device (host, bdf);
  const char *parent = str_member (ctx, o, "parent", NULL);
  const char *driver = str_member (ctx, o, "driver", NULL);

  if (parent) {
    dev->parent = sim_host_find_device (host, parent);
    if (!dev->parent || !dev->parent->is_bridge)
      return fail (ctx, bdf, "parent %s is not a bridge listed in \"devices\"", parent);
  }
  if (driver) {
    dev->driver = sim_host_find_driver (host, driver);
    if (!dev->driver)
      return fail (ctx, bdf, "driver \"%s\" is not listed in \"drivers\"", driver);
    if (dev->driver->vfio)
      dev->vfio_cdev = sim_vfio_cdev_alloc (host);
  }
  for (guint i = 0; i < dev->consumers->len; i++)
    if (!sim_host_find_device (host, dev->consumers->pdata[i]))
      return fail (ctx, bdf, "consumer %s is not listed in \"devices\"", (char *) dev->consumers->pdata[i]);
  if (host->iommu == SIM_IOMMU_NONE)
    dev->iommu_group = -1;
  return TRUE;
}

static gboolean
load_process (Ctx *ctx, SimHost *host, JsonObject *o, guint index)
{
  g_autofree char *where = g_strdup_printf ("processes[%u]", index);
  SimProcess *proc = g_new0 (SimProcess, 1);
  JsonArray *argv = json_object_has_member (o, "cmdline") ? arr_member (ctx, o, "cmdline") : NULL;
  JsonArray *files = json_object_has_member (o, "files") ? arr_member (ctx, o, "files") : NULL;
  GPtrArray *args = g_ptr_array_new ();

  g_ptr_array_add (host->processes, proc);
  proc->files = g_ptr_array_new_with_free_func (g_free);
  proc->comm = g_strdup (str_member (ctx, o, "comm", "unknown"));
  for (guint i = 0; argv && i < json_array_get_length (argv); i++)
    g_ptr_array_add (args, g_strdup (str_element (ctx, argv, i)));
  g_ptr_array_add (args, NULL);
  proc->cmdline = (char **) g_ptr_array_free (args, FALSE);
  for (guint i = 0; files && i < json_array_get_length (files); i++) {
    const char *f = str_element (ctx, files, i);
    if (!f || f[0] != '/')
      return fail (ctx, where, "files[%u] must be an absolute path such as /dev/nvidia0", i);
    g_ptr_array_add (proc->files, g_strdup (f));
  }
  if (!get_uint (ctx, o, where, "pid", &proc->pid))
    return FALSE;
  if (proc->pid == 0)
    return fail (ctx, where, "\"pid\" is required");
  return TRUE;
}

SimHost *
sim_scenario_load (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GHashTable) numvfs = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autofree char *base = g_path_get_basename (path);
  Ctx ctx = { path, error, NULL };
  SimHost *host;
  JsonObject *root;
  JsonArray *drivers, *devices, *procs;
  GHashTableIter iter;
  gpointer key, value;

  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  root = json_parser_get_root (parser) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
             ? json_node_get_object (json_parser_get_root (parser)) : NULL;
  if (!root) {
    fail (&ctx, "top level", "must be a JSON object");
    return NULL;
  }
  host = sim_host_new ();
  host->name = g_strdup (str_member (&ctx, root, "name", base));
  host->description = g_strdup (str_member (&ctx, root, "description", ""));
  drivers = json_object_has_member (root, "drivers") ? arr_member (&ctx, root, "drivers") : NULL;
  devices = json_object_has_member (root, "devices") ? arr_member (&ctx, root, "devices") : NULL;
  procs = json_object_has_member (root, "processes") ? arr_member (&ctx, root, "processes") : NULL;
  if (!load_kernel (&ctx, host, root))
    goto failed;
  for (guint i = 0; drivers && i < json_array_get_length (drivers); i++)
    if (!obj_element (&ctx, drivers, i) || !load_driver (&ctx, host, obj_element (&ctx, drivers, i), i))
      goto failed_element;
  for (guint i = 0; devices && i < json_array_get_length (devices); i++)
    if (!obj_element (&ctx, devices, i) || !load_device (&ctx, host, obj_element (&ctx, devices, i), i, numvfs))
      goto failed_element;
  for (guint i = 0; devices && i < json_array_get_length (devices); i++)
    if (!resolve_device (&ctx, host, obj_element (&ctx, devices, i)))
      goto failed;
  for (guint i = 0; procs && i < json_array_get_length (procs); i++)
    if (!obj_element (&ctx, procs, i) || !load_process (&ctx, host, obj_element (&ctx, procs, i), i))
      goto failed_element;
  /* the reset methods are probed as each function is enumerated, before
   * VFs exist */
  for (guint i = 0; i < host->devices->len; i++)
    sim_device_init_reset_methods (host, host->devices->pdata[i]);

  /* VFs enabled at boot are created as the kernel would, without delay. */
  g_hash_table_iter_init (&iter, numvfs);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    SimDevice *pf = key;
    g_autofree char *n = g_strdup_printf ("%u", GPOINTER_TO_UINT (value));
    guint enable = host->sriov_enable_delay_ms;
    gboolean had = pf->driver && pf->driver->sriov_configure;
    if (!had) {
      fail (&ctx, pf->bdf, "sriov.numvfs needs a driver with sriov_configure");
      goto failed;
    }
    host->sriov_enable_delay_ms = 0;
    sim_host_lock (host);
    sim_rule_sriov_numvfs (host, pf, n);
    sim_host_unlock (host);
    host->sriov_enable_delay_ms = enable;
  }
  if (ctx.type_error) {
    fail (&ctx, "scenario", "%s", ctx.type_error);
    goto failed;
  }
  return host;

failed_element:
  /* an element that is no object fails here; one that is, in its loader */
  if (ctx.type_error && !(error && *error))
    fail (&ctx, "scenario", "drivers, devices and processes must be objects");
failed:
  g_free (ctx.type_error);
  sim_host_free (host);
  return NULL;
}

char *
sim_scenario_find (const char *name)
{
  const char *dirs[] = { g_getenv ("GPUVIRT_SIMFS_SCENARIOS"), SIMFS_SOURCE_SCENARIOS, SIMFS_INSTALLED_SCENARIOS };
  g_autofree char *file = g_str_has_suffix (name, ".json") ? g_strdup (name) : g_strdup_printf ("%s.json", name);

  if (strchr (name, '/') || g_file_test (name, G_FILE_TEST_IS_REGULAR))
    return g_strdup (name);
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree char *path = NULL;
    if (!dirs[i])
      continue;
    path = g_build_filename (dirs[i], file, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return g_steal_pointer (&path);
  }
  return NULL;
}
