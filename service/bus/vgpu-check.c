/* What the vGPU methods check on the host model before asking polkit: the
 * types a GPU knows, who uses a VF or an mdev, whether a GPU still has
 * vGPUs. Only reads the model (and /proc through daemon_holders). */
#include "bus/vgpu-check.h"
#include "vgpu/vgpu.h"

#include <string.h>

GvHostDevice *
vgpu_check_gpu_of (Daemon *daemon, GvHostDevice *device)
{
  if (device->fn->physfn) {
    GvHostDevice *pf = gv_host_lookup (daemon->host, device->fn->physfn);
    if (pf)
      return pf;
  }
  return device;
}

/* The GPU and its VFs as the model has them (borrowed). */
static GPtrArray *
family (Daemon *daemon, GvHostDevice *gpu)
{
  GPtrArray *list = g_ptr_array_new ();

  g_ptr_array_add (list, gpu);
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++) {
    GvHostDevice *vf = gv_host_lookup (daemon->host, gpu->fn->vfs[i]);
    if (vf)
      g_ptr_array_add (list, vf);
  }
  return list;
}

static void
add_type (GString *list, const char *id, const char *name)
{
  g_autofree char *entry = g_strdup_printf ("%s (%s)", name && *name ? name : "?", id);

  if (strstr (list->str, entry))
    return;
  g_string_append_printf (list, "%s%s", list->len ? ", " : "", entry);
}

gboolean
vgpu_check_type_known (Daemon *daemon, GvHostDevice *gpu, const char *wanted, char **offered)
{
  g_autoptr (GPtrArray) members = family (daemon, gpu);
  GString *list = g_string_new (NULL);
  gboolean found = FALSE;

  for (guint i = 0; i < members->len; i++) {
    GvHostFunction *fn = ((GvHostDevice *) members->pdata[i])->fn;
    for (guint j = 0; fn->mdev_types && j < fn->mdev_types->len; j++) {
      GvHostMdevType *t = fn->mdev_types->pdata[j];
      found = found || gv_vgpu_type_matches (t->id, t->name, wanted);
      add_type (list, t->id, t->name);
    }
    for (guint j = 0; fn->vendor_vfio && j < fn->vendor_vfio->creatable->len; j++) {
      GvHostVendorType *t = fn->vendor_vfio->creatable->pdata[j];
      g_autofree char *id = g_strdup_printf ("%u", t->id);
      found = found || gv_vgpu_type_matches (id, t->name, wanted);
      add_type (list, id, t->name);
    }
    if (fn->vendor_vfio && fn->vendor_vfio->current_type != 0) {
      g_autofree char *id = g_strdup_printf ("%u", fn->vendor_vfio->current_type);
      const char *name = vgpu_check_vendor_type_name (daemon, fn->vendor_vfio->current_type);
      found = found || gv_vgpu_type_matches (id, name, wanted);
    }
  }
  if (offered)
    *offered = list->len ? g_string_free (list, FALSE) : (g_string_free (list, TRUE), g_strdup ("none"));
  else
    g_string_free (list, TRUE);
  return found;
}

void
vgpu_check_learn_type_names (Daemon *daemon)
{
  GPtrArray *devices = gv_host_get_devices (daemon->host);

  for (guint i = 0; i < devices->len; i++) {
    GvHostVendorVfio *vendor = ((GvHostDevice *) devices->pdata[i])->fn->vendor_vfio;
    for (guint j = 0; vendor && j < vendor->creatable->len; j++) {
      GvHostVendorType *t = vendor->creatable->pdata[j];
      if (!g_hash_table_contains (daemon->vendor_type_names, GUINT_TO_POINTER (t->id)))
        g_hash_table_insert (daemon->vendor_type_names, GUINT_TO_POINTER (t->id), g_strdup (t->name));
    }
  }
}

const char *
vgpu_check_vendor_type_name (Daemon *daemon, guint id)
{
  const char *name = g_hash_table_lookup (daemon->vendor_type_names, GUINT_TO_POINTER (id));
  return name ? name : "";
}

gboolean
vgpu_check_cached_type_matches (Daemon *daemon, const char *wanted)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, daemon->vendor_type_names);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autofree char *id = g_strdup_printf ("%u", GPOINTER_TO_UINT (key));
    if (gv_vgpu_type_matches (id, value, wanted))
      return TRUE;
  }
  return FALSE;
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);
  return x < y ? -1 : x > y;
}

char *
vgpu_check_cached_types_text (Daemon *daemon)
{
  GList *ids = g_list_sort (g_hash_table_get_keys (daemon->vendor_type_names), compare_uint);
  GString *text = g_string_new (NULL);

  for (GList *l = ids; l; l = l->next)
    g_string_append_printf (text, "%s%s (%u)", text->len ? ", " : "",
                            (char *) g_hash_table_lookup (daemon->vendor_type_names, l->data),
                            GPOINTER_TO_UINT (l->data));
  g_list_free (ids);
  if (text->len == 0)
    g_string_append (text, "none");
  return g_string_free (text, FALSE);
}

GvHostMdevType *
vgpu_check_mdev_type (GvHostDevice *parent, const char *wanted)
{
  for (guint i = 0; parent->fn->mdev_types && i < parent->fn->mdev_types->len; i++) {
    GvHostMdevType *t = parent->fn->mdev_types->pdata[i];
    if (gv_vgpu_type_matches (t->id, t->name, wanted))
      return t;
  }
  return NULL;
}

GvHostMdev *
vgpu_check_find_mdev (Daemon *daemon, const char *uuid)
{
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  for (guint i = 0; uuid && i < mdevs->len; i++)
    if (g_ascii_strcasecmp (((GvHostMdev *) mdevs->pdata[i])->uuid, uuid) == 0)
      return mdevs->pdata[i];
  return NULL;
}

/* "qemu-system-x86 (pid 4242) through /dev/vfio/57" for each holder of
 * BDF's VFIO nodes that matches NODE_A or NODE_B (NULL: any VFIO node). */
static gboolean
append_vfio_holders (Daemon *daemon, const char *bdf, const char *node_a, const char *node_b, const char *label,
                     GString *users, GError **error)
{
  /* read now, not the daemon's cached scan: a VM may have just started */
  g_autoptr (GPtrArray) holders = gv_host_get_holders (daemon->host, bdf, error);

  if (!holders)
    return FALSE;
  for (guint i = 0; i < holders->len; i++) {
    GvHostHolder *h = holders->pdata[i];
    if (!g_str_has_prefix (h->node, "/dev/vfio"))
      continue;
    if ((node_a || node_b) && g_strcmp0 (h->node, node_a) != 0 && g_strcmp0 (h->node, node_b) != 0)
      continue;
    g_string_append_printf (users, "%s%s is open by %s (pid %d) through %s", users->len ? "; " : "", label,
                            *h->comm ? h->comm : "?", h->pid, h->node);
  }
  return TRUE;
}

char *
vgpu_check_vf_holders (Daemon *daemon, GvHostDevice *vf, GError **error)
{
  GString *users = g_string_new (NULL);

  if (!append_vfio_holders (daemon, vf->fn->bdf, vf->vfio_group_node, vf->fn->vfio_cdev_node, vf->fn->bdf, users,
                            error)) {
    g_string_free (users, TRUE);
    return NULL;
  }
  return g_string_free (users, FALSE);
}

char *
vgpu_check_mdev_holders (Daemon *daemon, GvHostMdev *mdev, GError **error)
{
  GString *users = g_string_new (NULL);
  g_autofree char *label = g_strdup_printf ("mdev %s", mdev->uuid);

  if (!mdev->vfio_group_node && !mdev->vfio_cdev_node)
    return g_string_free (users, FALSE);
  if (!append_vfio_holders (daemon, mdev->parent, mdev->vfio_group_node, mdev->vfio_cdev_node, label, users, error)) {
    g_string_free (users, TRUE);
    return NULL;
  }
  return g_string_free (users, FALSE);
}

char *
vgpu_check_vfs_in_use (Daemon *daemon, GvHostDevice *pf, const char *except_vf, const char *except_uuid, GError **error)
{
  GString *users = g_string_new (NULL);
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);

  for (guint i = 0; pf->fn->vfs && pf->fn->vfs[i]; i++) {
    const char *bdf = pf->fn->vfs[i];
    GvHostDevice *vf = gv_host_lookup (daemon->host, bdf);

    if (!vf)
      continue;
    if (vf->fn->vendor_vfio && vf->fn->vendor_vfio->current_type != 0 && g_strcmp0 (bdf, except_vf) != 0)
      g_string_append_printf (users, "%s%s carries vGPU type %u", users->len ? "; " : "", bdf,
                              vf->fn->vendor_vfio->current_type);
    for (guint j = 0; j < mdevs->len; j++) {
      GvHostMdev *mdev = mdevs->pdata[j];
      if (g_strcmp0 (mdev->parent, bdf) == 0 && g_strcmp0 (mdev->uuid, except_uuid) != 0)
        g_string_append_printf (users, "%s%s hosts mdev %s", users->len ? "; " : "", bdf, mdev->uuid);
    }
    if (gv_host_driver_is_vfio (vf->fn->driver) || vf->fn->vendor_vfio) {
      if (!append_vfio_holders (daemon, bdf, NULL, NULL, bdf, users, error)) {
        g_string_free (users, TRUE);
        return NULL;
      }
    }
  }
  return g_string_free (users, FALSE);
}

gboolean
vgpu_check_has_vgpus (Daemon *daemon, GvHostDevice *gpu, const char *except_vf, const char *except_uuid)
{
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  g_autoptr (GPtrArray) members = family (daemon, gpu);

  for (guint i = 0; i < members->len; i++) {
    GvHostFunction *fn = ((GvHostDevice *) members->pdata[i])->fn;
    if (fn->vendor_vfio && fn->vendor_vfio->current_type != 0 && g_strcmp0 (fn->bdf, except_vf) != 0)
      return TRUE;
    for (guint j = 0; j < mdevs->len; j++) {
      GvHostMdev *mdev = mdevs->pdata[j];
      if (g_strcmp0 (mdev->parent, fn->bdf) == 0 && g_strcmp0 (mdev->uuid, except_uuid) != 0)
        return TRUE;
    }
  }
  return FALSE;
}

GStrv
vgpu_check_family_bdfs (GvHostDevice *gpu)
{
  GPtrArray *list = g_ptr_array_new ();

  g_ptr_array_add (list, g_strdup (gpu->fn->bdf));
  for (guint i = 0; gpu->fn->vfs && gpu->fn->vfs[i]; i++)
    g_ptr_array_add (list, g_strdup (gpu->fn->vfs[i]));
  g_ptr_array_add (list, NULL);
  return (GStrv) g_ptr_array_free (list, FALSE);
}

GvHostMdev *
vgpu_check_only_mdev_of (Daemon *daemon, GvHostDevice *parent)
{
  GPtrArray *mdevs = gv_host_get_mdevs (daemon->host);
  GvHostMdev *found = NULL;

  for (guint i = 0; i < mdevs->len; i++) {
    GvHostMdev *mdev = mdevs->pdata[i];
    if (g_strcmp0 (mdev->parent, parent->fn->bdf) != 0)
      continue;
    if (found)
      return NULL;
    found = mdev;
  }
  return found;
}
