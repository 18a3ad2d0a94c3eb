/* prepare and release over gpuvirtd's API (dbus/). Every decision is
 * taken first, from one GetManagedObjects() snapshot; a refusal then
 * changes nothing. The changes follow, each written to the record before
 * it is made (so a crash leaves it known), and a failure undoes what this
 * run did, in reverse, before the hook exits non-zero. */
#include "hook.h"

#include "bus-model.h"
#include "gpuvirt-names.h"

#include <string.h>

/* gpuvirtd's bound of each sysfs write (its default) */
#define WRITE_TIMEOUT_MS 10000

typedef struct {
  GPtrArray *bind;       /* addresses to BindVfio */
  GPtrArray *mdevs;      /* const GvLibvirtMdev* to make */
  GPtrArray *vfs;        /* const GvLibvirtVf* to give a type */
} Plan;

static char *
device_path (const char *address)
{
  g_autofree char *lower = g_ascii_strdown (address, -1);

  g_strdelimit (lower, ":.", '_');
  return g_strconcat (GPUVIRT_DEVICES_PATH "/" GPUVIRT_DEVICE_PATH_PREFIX, lower, NULL);
}

static char *
mdev_path (const char *uuid)
{
  g_autofree char *lower = g_ascii_strdown (uuid, -1);

  g_strdelimit (lower, "-", '_');
  return g_strconcat (GPUVIRT_MDEVS_PATH "/", lower, NULL);
}

/* "Xorg (1834), qemu-system-x86 (4321)" from Holders a(uss); NULL: none. */
static char *
holders_of (GVariant *props)
{
  g_autoptr (GVariant) holders = props ? g_variant_lookup_value (props, "Holders", G_VARIANT_TYPE ("a(uss)")) : NULL;
  g_autoptr (GString) s = g_string_new (NULL);
  GVariantIter iter;
  guint32 pid;
  const char *comm, *node;

  if (!holders || g_variant_n_children (holders) == 0)
    return NULL;
  g_variant_iter_init (&iter, holders);
  while (g_variant_iter_next (&iter, "(u&s&s)", &pid, &comm, &node))
    g_string_append_printf (s, "%s%s (%u) on %s", s->len ? ", " : "", comm, pid, node);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static guint64
remaining_usec (Hook *hook)
{
  gint64 left = hook->deadline - g_get_monotonic_time ();
  return left > G_USEC_PER_SEC ? (guint64) left : G_USEC_PER_SEC;
}

/* The system bus, and gpuvirtd through it: started by D-Bus activation
 * when it is not running. */
static gboolean
connect_gpuvirtd (Hook *hook, BusModel **model)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  int r;

  r = sd_bus_open_system (&hook->bus);
  if (r < 0) {
    hook_error ("domain '%s': no system bus (%s): nothing was changed", hook->domain->name, g_strerror (-r));
    return FALSE;
  }
  (void) sd_bus_set_method_call_timeout (hook->bus, remaining_usec (hook));
  r = bus_model_load (hook->bus, model, &error);
  if (r < 0) {
    hook_error ("domain '%s': gpuvirtd is not available (%s%s%s): nothing was changed", hook->domain->name,
                error.name ? error.name : g_strerror (-r), error.message ? ": " : "", error.message ? error.message : "");
    return FALSE;
  }
  return TRUE;
}

/* Calls METHOD on PATH's IFACE with the arguments APPEND adds, then the
 * options {timeout-ms}; FALSE with the error in *ERROR. */
typedef int (*AppendArgs) (sd_bus_message *m, gconstpointer data);

static gboolean
call (Hook *hook, const char *path, const char *iface, const char *method, AppendArgs append, gconstpointer data,
      sd_bus_error *error)
{
  g_autoptr (sd_bus_message) m = NULL;
  g_autoptr (sd_bus_message) reply = NULL;
  int r;

  r = sd_bus_message_new_method_call (hook->bus, &m, GPUVIRT_BUS_NAME, path, iface, method);
  if (r >= 0 && append)
    r = append (m, data);
  if (r >= 0)
    r = sd_bus_message_append (m, "a{sv}", 1, GPUVIRT_OPT_TIMEOUT_MS, "u", (guint32) WRITE_TIMEOUT_MS);
  if (r >= 0)
    r = sd_bus_call (hook->bus, m, remaining_usec (hook), error, &reply);
  if (r < 0 && !sd_bus_error_is_set (error))
    sd_bus_error_set_errno (error, r);
  return r >= 0;
}

static int
append_addresses (sd_bus_message *m, gconstpointer data)
{
  const GPtrArray *list = data;
  int r = sd_bus_message_open_container (m, 'a', "s");

  for (guint i = 0; r >= 0 && i < list->len; i++)
    r = sd_bus_message_append (m, "s", (const char *) list->pdata[i]);
  return r >= 0 ? sd_bus_message_close_container (m) : r;
}

static int
append_mdev (sd_bus_message *m, gconstpointer data)
{
  const GvLibvirtMdev *mdev = data;
  return sd_bus_message_append (m, "ss", mdev->type, mdev->uuid);
}

static int
append_type (sd_bus_message *m, gconstpointer data)
{
  return sd_bus_message_append (m, "s", (const char *) data);
}

/* A VF's type as the domain asks for it: the type's id, its name or the
 * name without "NVIDIA " (as gpuvirt.conf's VgpuType takes them). */
static gboolean
type_matches (GVariant *vgpu, const char *want)
{
  const char *id = props_str (vgpu, "CurrentType"), *name = props_str (vgpu, "CurrentTypeName");

  if (!*id)
    return FALSE;
  return g_ascii_strcasecmp (id, want) == 0 || g_ascii_strcasecmp (name, want) == 0
         || (g_str_has_prefix (name, "NVIDIA ") && g_ascii_strcasecmp (name + strlen ("NVIDIA "), want) == 0);
}

/* ---- prepare ---- */

/* Decides, from MODEL, what prepare must do; FALSE (with the reason
 * logged) when the domain cannot start as it is. */
static gboolean
plan_prepare (Hook *hook, BusModel *model, Plan *plan)
{
  const GvLibvirtDomain *d = hook->domain;

  for (guint i = 0; i < d->pci->len; i++) {
    const GvLibvirtPci *p = d->pci->pdata[i];
    g_autofree char *path = device_path (p->address);
    g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
    g_autofree char *held = holders_of (device);

    if (!device) {
      hook_info ("%s is not on this host; left to libvirt", p->address);
      continue;
    }
    if (gv_libvirt_domain_vf_request (d, p->address))
      continue; /* a vendor-VFIO VF stays on its driver: see below */
    if (!props_bool (device, "Managed")) {
      hook_info ("%s is not managed by gpuvirt; left to libvirt", p->address);
      continue;
    }
    if (p->managed) {
      hook_error ("domain '%s': %s has managed='yes': libvirt would detach it itself and then re-probe it "
                  "(not back to the driver it had, and without its companions). Set managed='no' on its "
                  "<hostdev>, as 'gpuvirtctl export libvirt %s' prints it. Nothing was changed.",
                  d->name, p->address, p->address);
      return FALSE;
    }
    if (g_str_equal (props_str (device, "Driver"), "vfio-pci")) {
      /* already bound (a second prepare, or the configuration's boot plan) */
      if (held) {
        hook_error ("domain '%s': %s is in use by %s (another virtual machine?). Nothing was changed.", d->name,
                    p->address, held);
        return FALSE;
      }
      continue;
    }
    hook_record_add (plan->bind, p->address);
  }

  for (guint i = 0; i < d->mdevs->len; i++) {
    const char *uuid = d->mdevs->pdata[i];
    g_autofree char *path = mdev_path (uuid);
    g_autoptr (GVariant) mdev = bus_model_props (model, path, GPUVIRT_MDEV_IFACE);
    const GvLibvirtMdev *want = gv_libvirt_domain_mdev_request (d, uuid);

    if (mdev) {
      g_autofree char *held = holders_of (mdev);
      if (held) {
        hook_error ("domain '%s': mdev %s is in use by %s. Nothing was changed.", d->name, uuid, held);
        return FALSE;
      }
      if (want && want->type && *want->type && g_ascii_strcasecmp (props_str (mdev, "Type"), want->type) != 0
          && g_ascii_strcasecmp (props_str (mdev, "TypeName"), want->type) != 0) {
        hook_error ("domain '%s': mdev %s exists with type %s, the domain asks for %s. Nothing was changed.",
                    d->name, uuid, props_str (mdev, "Type"), want->type);
        return FALSE;
      }
      continue;
    }
    if (!want || !want->parent || !want->type || !*want->parent || !*want->type) {
      hook_error ("domain '%s': mdev %s does not exist, and no <gpuvirt:mdev uuid='%s' parent='...' type='...'/> in "
                  "the domain's metadata says how to make it ('gpuvirtctl export libvirt %s' prints it once it "
                  "exists). Nothing was changed.",
                  d->name, uuid, uuid, uuid);
      return FALSE;
    }
    {
      g_autofree char *parent = device_path (want->parent);
      if (!bus_model_props (model, parent, GPUVIRT_VGPU_IFACE)) {
        hook_error ("domain '%s': mdev %s: %s is no GPU or VF that makes vGPUs. Nothing was changed.", d->name, uuid,
                    want->parent);
        return FALSE;
      }
    }
    g_ptr_array_add (plan->mdevs, (gpointer) want);
  }

  for (guint i = 0; i < d->vf_requests->len; i++) {
    const GvLibvirtVf *v = d->vf_requests->pdata[i];
    g_autofree char *path = device_path (v->address);
    g_autoptr (GVariant) vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);
    g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
    g_autofree char *held = holders_of (device);

    if (!vgpu) {
      hook_error ("domain '%s': %s is no VF that takes a vGPU type. Nothing was changed.", d->name, v->address);
      return FALSE;
    }
    if (held) {
      hook_error ("domain '%s': %s is in use by %s. Nothing was changed.", d->name, v->address, held);
      return FALSE;
    }
    if (type_matches (vgpu, v->type))
      continue;
    if (*props_str (vgpu, "CurrentType")) {
      hook_error ("domain '%s': %s carries vGPU type %s (%s), the domain asks for %s. Nothing was changed.", d->name,
                  v->address, props_str (vgpu, "CurrentType"), props_str (vgpu, "CurrentTypeName"), v->type);
      return FALSE;
    }
    g_ptr_array_add (plan->vfs, (gpointer) v);
  }
  return TRUE;
}

/* What this run did, for its undo on failure. */
typedef struct {
  gboolean bound;
  GPtrArray *mdevs;   /* const char* UUIDs made */
  GPtrArray *vfs;     /* const char* addresses typed */
} Done;

static void
undo (Hook *hook, HookRecord *record, Plan *plan, Done *done)
{
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;

  for (guint i = done->vfs->len; i-- > 0;) {
    g_autofree char *path = device_path (done->vfs->pdata[i]);
    if (call (hook, path, GPUVIRT_VGPU_IFACE, "ReleaseType", NULL, NULL, &error))
      hook_record_remove (record->vf_types, done->vfs->pdata[i]);
    else
      hook_error ("undo: ReleaseType on %s failed: %s", (char *) done->vfs->pdata[i], error.message);
    sd_bus_error_free (&error);
  }
  for (guint i = done->mdevs->len; i-- > 0;) {
    g_autofree char *path = mdev_path (done->mdevs->pdata[i]);
    if (call (hook, path, GPUVIRT_MDEV_IFACE, "Remove", NULL, NULL, &error))
      hook_record_remove (record->mdevs, done->mdevs->pdata[i]);
    else
      hook_error ("undo: removing mdev %s failed: %s", (char *) done->mdevs->pdata[i], error.message);
    sd_bus_error_free (&error);
  }
  if (done->bound) {
    if (call (hook, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "GiveBack", append_addresses, plan->bind, &error))
      for (guint i = 0; i < plan->bind->len; i++)
        hook_record_remove (record->bound, plan->bind->pdata[i]);
    else
      hook_error ("undo: giving back %u functions failed: %s", plan->bind->len, error.message);
  }
  (void) hook_record_save (hook->record_path, record);
}

int
hook_prepare (Hook *hook)
{
  const GvLibvirtDomain *d = hook->domain;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (HookRecord) record = NULL;
  g_autoptr (GPtrArray) bind = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) mdevs = g_ptr_array_new ();
  g_autoptr (GPtrArray) vfs = g_ptr_array_new ();
  g_autoptr (GPtrArray) done_mdevs = g_ptr_array_new ();
  g_autoptr (GPtrArray) done_vfs = g_ptr_array_new ();
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  Plan plan = { bind, mdevs, vfs };
  Done done = { FALSE, done_mdevs, done_vfs };

  if (!hook_record_load (hook->record_path, &record))
    return 1;
  if (!connect_gpuvirtd (hook, &model))
    return 1;
  if (!plan_prepare (hook, model, &plan))
    return 1;
  if (bind->len == 0 && mdevs->len == 0 && vfs->len == 0) {
    hook_info ("domain '%s': every device is ready; nothing to do", d->name);
    return 0;
  }

  if (bind->len) {
    g_autofree char *list = NULL;
    for (guint i = 0; i < bind->len; i++)
      hook_record_add (record->bound, bind->pdata[i]);
    if (!hook_record_save (hook->record_path, record))
      return 1;
    {
      GString *s = g_string_new (NULL);
      for (guint i = 0; i < bind->len; i++)
        g_string_append_printf (s, "%s%s", i ? " " : "", (char *) bind->pdata[i]);
      list = g_string_free (s, FALSE);
    }
    if (!call (hook, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "BindVfio", append_addresses, bind, &error)) {
      /* gpuvirtd's transaction put every function back */
      for (guint i = 0; i < bind->len; i++)
        hook_record_remove (record->bound, bind->pdata[i]);
      (void) hook_record_save (hook->record_path, record);
      hook_error ("domain '%s': binding %s to vfio-pci was refused: %s. Nothing was changed.", d->name, list,
                  error.message);
      return 1;
    }
    done.bound = TRUE;
    hook_info ("domain '%s': %s on vfio-pci, with their companions", d->name, list);
  }

  for (guint i = 0; i < mdevs->len; i++) {
    const GvLibvirtMdev *m = mdevs->pdata[i];
    g_autofree char *parent = device_path (m->parent);

    hook_record_add (record->mdevs, m->uuid);
    if (!hook_record_save (hook->record_path, record)) {
      undo (hook, record, &plan, &done);
      return 1;
    }
    if (!call (hook, parent, GPUVIRT_VGPU_IFACE, "CreateMdev", append_mdev, m, &error)) {
      hook_record_remove (record->mdevs, m->uuid);
      hook_error ("domain '%s': making mdev %s (%s on %s) failed: %s", d->name, m->uuid, m->type, m->parent,
                  error.message);
      undo (hook, record, &plan, &done);
      hook_error ("domain '%s': what this start changed was undone", d->name);
      return 1;
    }
    g_ptr_array_add (done_mdevs, m->uuid);
    hook_info ("domain '%s': made mdev %s (%s on %s)", d->name, m->uuid, m->type, m->parent);
  }

  for (guint i = 0; i < vfs->len; i++) {
    const GvLibvirtVf *v = vfs->pdata[i];
    g_autofree char *path = device_path (v->address);

    hook_record_add (record->vf_types, v->address);
    if (!hook_record_save (hook->record_path, record)) {
      undo (hook, record, &plan, &done);
      return 1;
    }
    if (!call (hook, path, GPUVIRT_VGPU_IFACE, "SetType", append_type, v->type, &error)) {
      hook_record_remove (record->vf_types, v->address);
      hook_error ("domain '%s': giving %s the vGPU type %s failed: %s", d->name, v->address, v->type, error.message);
      undo (hook, record, &plan, &done);
      hook_error ("domain '%s': what this start changed was undone", d->name);
      return 1;
    }
    g_ptr_array_add (done_vfs, v->address);
    hook_info ("domain '%s': %s carries vGPU type %s", d->name, v->address, v->type);
  }
  return 0;
}

/* ---- release ---- */

int
hook_release (Hook *hook)
{
  const GvLibvirtDomain *d = hook->domain;
  g_autoptr (BusModel) model = NULL;
  g_autoptr (HookRecord) record = NULL;
  g_autoptr (GPtrArray) give = g_ptr_array_new ();
  g_auto (sd_bus_error) error = SD_BUS_ERROR_NULL;
  gboolean ok = TRUE;

  if (!hook_record_load (hook->record_path, &record))
    return 1;
  if (hook_record_is_empty (record)) {
    hook_info ("domain '%s': its start changed nothing; nothing to give back", d->name);
    return 0;
  }
  if (!connect_gpuvirtd (hook, &model))
    return 1;

  for (guint i = record->vf_types->len; i-- > 0;) {
    g_autofree char *address = g_strdup (record->vf_types->pdata[i]);
    g_autofree char *path = device_path (address);
    g_autoptr (GVariant) vgpu = bus_model_props (model, path, GPUVIRT_VGPU_IFACE);

    if (vgpu && *props_str (vgpu, "CurrentType")
        && !call (hook, path, GPUVIRT_VGPU_IFACE, "ReleaseType", NULL, NULL, &error)) {
      hook_error ("domain '%s': releasing the vGPU type of %s failed: %s", d->name, address, error.message);
      sd_bus_error_free (&error);
      ok = FALSE;
      continue;
    }
    hook_info ("domain '%s': %s carries no vGPU type any more", d->name, address);
    hook_record_remove (record->vf_types, address);
  }
  for (guint i = record->mdevs->len; i-- > 0;) {
    g_autofree char *uuid = g_strdup (record->mdevs->pdata[i]);
    g_autofree char *path = mdev_path (uuid);

    if (bus_model_props (model, path, GPUVIRT_MDEV_IFACE)
        && !call (hook, path, GPUVIRT_MDEV_IFACE, "Remove", NULL, NULL, &error)) {
      hook_error ("domain '%s': removing mdev %s failed: %s", d->name, uuid, error.message);
      sd_bus_error_free (&error);
      ok = FALSE;
      continue;
    }
    hook_info ("domain '%s': mdev %s removed", d->name, uuid);
    hook_record_remove (record->mdevs, uuid);
  }
  for (guint i = 0; i < record->bound->len; i++) {
    g_autofree char *path = device_path (record->bound->pdata[i]);
    g_autoptr (GVariant) device = bus_model_props (model, path, GPUVIRT_DEVICE_IFACE);
    if (device && g_str_equal (props_str (device, "Driver"), "vfio-pci"))
      g_ptr_array_add (give, record->bound->pdata[i]);
  }
  if (give->len && !call (hook, GPUVIRT_MANAGER_PATH, GPUVIRT_MANAGER_IFACE, "GiveBack", append_addresses, give, &error)) {
    hook_error ("domain '%s': giving the devices back failed: %s", d->name, error.message);
    ok = FALSE;
  } else {
    for (guint i = 0; i < record->bound->len; i++)
      hook_info ("domain '%s': %s given back, with its companions", d->name, (char *) record->bound->pdata[i]);
    g_ptr_array_set_size (record->bound, 0);
  }
  if (!hook_record_save (hook->record_path, record))
    return 1;
  return ok ? 0 : 1;
}
