/* The persist option (see persist.h): a call's edits of the main
 * configuration file, checked before the device changes and saved after. */
#include "bus/persist.h"
#include "gpuvirt-names.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

typedef enum {
  EDIT_PASSTHROUGH,
  EDIT_NUM_VFS,
  EDIT_PF_NUM_VFS,     /* a VF's PF: NumVfs only when the configuration sets none */
  EDIT_VGPU_TYPE,
  EDIT_ADD_MDEV,
  EDIT_REMOVE_MDEV,
  EDIT_MIG_MODE,
  EDIT_MIG_PROFILES,
} EditKind;

typedef struct {
  EditKind kind;
  char *bdf;           /* the device, the PF, or the mdev's parent */
  gboolean known;      /* BDF is on the host: VENDOR and DEVICE are its ids */
  guint16 vendor, device;
  gboolean flag;
  guint count;
  char *type;
  char *uuid;          /* NULL for an mdev the call has not made yet */
} Edit;

struct BusPersist {
  Daemon *daemon;
  GPtrArray *edits;    /* Edit */
};

static void
edit_free (Edit *edit)
{
  g_free (edit->bdf);
  g_free (edit->type);
  g_free (edit->uuid);
  g_free (edit);
}

BusPersist *
bus_persist_new (Daemon *daemon)
{
  BusPersist *persist = g_new0 (BusPersist, 1);

  persist->daemon = daemon;
  persist->edits = g_ptr_array_new_with_free_func ((GDestroyNotify) edit_free);
  return persist;
}

void
bus_persist_free (BusPersist *persist)
{
  if (!persist)
    return;
  g_ptr_array_unref (persist->edits);
  g_free (persist);
}

void
bus_persist_clear (BusPersist *persist)
{
  g_ptr_array_set_size (persist->edits, 0);
}

const char *
bus_persist_type_text (const char *id, const char *name)
{
  return name && *name ? name : id;
}

/* A new edit of BDF, with its ids from the host model. */
static Edit *
add (BusPersist *persist, EditKind kind, const char *bdf)
{
  Edit *edit = g_new0 (Edit, 1);
  GvHostDevice *d = bdf ? gv_host_lookup (persist->daemon->host, bdf) : NULL;

  edit->kind = kind;
  edit->bdf = g_strdup (bdf);
  if (d) {
    edit->known = TRUE;
    edit->vendor = d->fn->vendor_id;
    edit->device = d->fn->device_id;
  }
  g_ptr_array_add (persist->edits, edit);
  return edit;
}

/* On a VF, its PF's VF count as it is now, for when the configuration
 * does not create the VF. */
static void
add_pf_of (BusPersist *persist, const char *bdf)
{
  GvHostDevice *d = gv_host_lookup (persist->daemon->host, bdf);
  GvHostDevice *pf = d && d->fn->physfn ? gv_host_lookup (persist->daemon->host, d->fn->physfn) : NULL;

  if (pf)
    add (persist, EDIT_PF_NUM_VFS, pf->fn->bdf)->count = pf->fn->sriov_numvfs;
}

void
bus_persist_passthrough (BusPersist *persist, const char *bdf, gboolean passthrough)
{
  add (persist, EDIT_PASSTHROUGH, bdf)->flag = passthrough;
}

void
bus_persist_num_vfs (BusPersist *persist, const char *pf, guint count)
{
  add (persist, EDIT_NUM_VFS, pf)->count = count;
}

void
bus_persist_vgpu_type (BusPersist *persist, const char *vf, const char *type)
{
  add (persist, EDIT_VGPU_TYPE, vf)->type = g_strdup (type);
  if (type)
    add_pf_of (persist, vf);
}

void
bus_persist_add_mdev (BusPersist *persist, const char *uuid, const char *parent, const char *type)
{
  Edit *edit = add (persist, EDIT_ADD_MDEV, parent);

  edit->uuid = g_strdup (uuid);
  edit->type = g_strdup (type);
  add_pf_of (persist, parent);
}

void
bus_persist_remove_mdev (BusPersist *persist, const char *uuid)
{
  add (persist, EDIT_REMOVE_MDEV, NULL)->uuid = g_strdup (uuid);
}

void
bus_persist_mig_mode (BusPersist *persist, const char *gpu, gboolean enabled)
{
  add (persist, EDIT_MIG_MODE, gpu)->flag = enabled;
}

void
bus_persist_mig_profiles (BusPersist *persist, const char *gpu, const char *profiles)
{
  add (persist, EDIT_MIG_PROFILES, gpu)->type = profiles && *profiles ? g_strdup (profiles) : NULL;
}

/* ---- applying the edits ---- */

/* Whether the configuration as the files are now (else as last taken)
 * enables VFs on PF. */
static gboolean
pf_configured (BusPersist *persist, const char *pf)
{
  Daemon *daemon = persist->daemon;
  g_autoptr (GvConfig) now = gv_config_load (daemon->config_file, daemon->config_dropins, NULL, NULL);
  GvConfig *config = now ? now : daemon->config;
  const GvConfigDevice *d = config ? gv_config_lookup_device (config, pf) : NULL;

  /* the call's own NumVfs edit decides too */
  for (guint i = 0; i < persist->edits->len; i++) {
    Edit *e = persist->edits->pdata[i];
    if (e->kind == EDIT_NUM_VFS && g_str_equal (e->bdf, pf))
      return TRUE;
  }
  return d && d->has_num_vfs && d->num_vfs > 0;
}

/* Applies the edits to ED. BEFORE: the check before the call, which skips
 * mdevs whose UUID the call makes. */
static gboolean
apply (BusPersist *persist, GvConfigEditor *ed, gboolean before, GError **error)
{
  for (guint i = 0; i < persist->edits->len; i++) {
    Edit *e = persist->edits->pdata[i];
    gboolean ok = TRUE;

    if (e->kind == EDIT_ADD_MDEV && !e->uuid && before)
      continue;
    if (e->kind != EDIT_REMOVE_MDEV && !e->known) {
      g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS,
                   "%s is not on this host, so its vendor:device cannot be recorded", e->bdf ? e->bdf : "?");
      return FALSE;
    }
    switch (e->kind) {
    case EDIT_PASSTHROUGH:
      ok = gv_config_editor_set_passthrough (ed, e->bdf, e->vendor, e->device, e->flag, error);
      break;
    case EDIT_NUM_VFS:
      ok = gv_config_editor_set_num_vfs (ed, e->bdf, e->vendor, e->device, e->count, error);
      break;
    case EDIT_PF_NUM_VFS:
      if (e->count > 0 && !pf_configured (persist, e->bdf))
        ok = gv_config_editor_set_num_vfs (ed, e->bdf, e->vendor, e->device, e->count, error);
      break;
    case EDIT_VGPU_TYPE:
      ok = gv_config_editor_set_vgpu_type (ed, e->bdf, e->vendor, e->device, e->type, error);
      break;
    case EDIT_ADD_MDEV:
      if (!e->uuid) {
        g_set_error (error, GV_ERROR, GV_ERROR_INVALID_ARGS, "the mdev's UUID is not known");
        return FALSE;
      }
      ok = gv_config_editor_add_mdev (ed, e->uuid, e->bdf, e->vendor, e->device, e->type, error);
      break;
    case EDIT_REMOVE_MDEV:
      ok = gv_config_editor_remove_mdev (ed, e->uuid, error);
      break;
    case EDIT_MIG_MODE:
      ok = gv_config_editor_set_mig_mode (ed, e->bdf, e->vendor, e->device, TRUE, e->flag, error);
      break;
    case EDIT_MIG_PROFILES:
      ok = gv_config_editor_set_mig_profiles (ed, e->bdf, e->vendor, e->device, e->type, error);
      break;
    }
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* The problems of the main file's text as ED holds it (those of drop-ins
 * are not its to fix, as gv_config_editor_save() judges). */
static GPtrArray *
own_problems (BusPersist *persist, GvConfigEditor *ed)
{
  g_autofree char *text = gv_config_editor_get_text (ed);
  g_autoptr (GPtrArray) all = gv_config_check_text (text, persist->daemon->config_dropins, NULL);
  GPtrArray *own = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_config_problem_free);

  for (guint i = 0; i < all->len; i++) {
    GvConfigProblem *p = all->pdata[i];
    if (p->file || p->host)
      continue;
    p->file = g_strdup (persist->daemon->config_file);
    g_ptr_array_add (own, g_steal_pointer (&all->pdata[i]));
  }
  return own;
}

/* Whether the file could be replaced: its directory, or the nearest one
 * above that exists (saving creates the rest), is writable. */
static gboolean
writable (const char *file, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (file);

  while (!g_file_test (dir, G_FILE_TEST_EXISTS)) {
    char *up = g_path_get_dirname (dir);
    if (g_str_equal (up, dir)) {
      g_free (up);
      break;
    }
    g_free (dir);
    dir = up;
  }
  if (access (dir, W_OK) < 0) {
    int err = errno;
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "%s cannot be written: %s is not writable (%s)", file,
                 dir, g_strerror (err));
    return FALSE;
  }
  if (g_file_test (file, G_FILE_TEST_EXISTS) && !g_file_test (file, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "%s is not a regular file", file);
    return FALSE;
  }
  return TRUE;
}

static GvConfigEditor *
editor_new (BusPersist *persist, GError **error)
{
  Daemon *daemon = persist->daemon;

  if (!daemon->config_file) {
    g_set_error (error, GV_ERROR, GV_ERROR_IO, "gpuvirtd was started without a configuration file");
    return NULL;
  }
  return gv_config_editor_new (daemon->config_file, daemon->config_dropins, error);
}

int
bus_persist_check (BusPersist *persist, sd_bus_error *error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GvConfigEditor) ed = editor_new (persist, &local);
  g_autoptr (GPtrArray) problems = NULL;

  if (ed && apply (persist, ed, TRUE, &local)) {
    problems = own_problems (persist, ed);
    if (problems->len) {
      g_autofree char *list = gv_config_problems_to_text (problems, 3);
      g_set_error (&local, GV_ERROR, GV_ERROR_CONFIG_INVALID,
                   "%s has %u problem%s, so it cannot be saved (see 'gpuvirtctl config check'): %s",
                   persist->daemon->config_file, problems->len, problems->len == 1 ? "" : "s", list);
    } else {
      writable (persist->daemon->config_file, &local);
    }
  }
  if (!local)
    return 0;
  if (g_error_matches (local, GV_ERROR, GV_ERROR_INVALID_ARGS))
    return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "The change cannot be recorded in the configuration: "
                              "%s; nothing was changed", local->message);
  return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "The change cannot be recorded in the configuration: %s; "
                            "nothing was changed", local->message);
}

int
bus_persist_commit (BusPersist *persist, const char *done, gboolean again, sd_bus_error *error)
{
  Daemon *daemon = persist->daemon;
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) reload = NULL;
  g_autoptr (GvConfigEditor) ed = editor_new (persist, &local);

  if (!ed || !apply (persist, ed, FALSE, &local) || !gv_config_editor_save (ed, &local)) {
    const char *file = daemon->config_file ? daemon->config_file : GV_CONFIG_MAIN_FILE;
    if (!done)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "The configuration could not be written: %s; the "
                                "device needed no change", local->message);
    if (again)
      return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "%s was done, but the configuration could not be "
                                "written: %s; run the command again with --persist, or edit %s", done,
                                local->message, file);
    return sd_bus_error_setf (error, GPUVIRT_ERROR_CONFIG, "%s was done, but the configuration could not be "
                              "written: %s; edit %s to record it (running the command again would not: it is done)",
                              done, local->message, file);
  }
  g_message ("Recorded %s in %s", done ? done : "the state as it is", daemon->config_file);
  /* the main file is as it should be; drop-ins with problems keep the
   * whole from being taken, which ConfigErrors says */
  if (!daemon_config_reload (daemon, &reload))
    g_warning ("Saved %s, but the configuration is not taken: %s", daemon->config_file, reload->message);
  return 0;
}
