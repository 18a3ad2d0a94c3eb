/* The doctor's MIG rows (see doctor.h, gv_doctor_mig()): whether NVML is
 * there, which GPUs have MIG, a MIG mode that waits for a reset, and what
 * holds a GPU so that the reset cannot be made. Read-only: what NVML
 * showed last comes from the caller, holders are read fresh. */
#include "doctor/doctor.h"
#include "mig/mig.h"

#include <string.h>

static void
add (GPtrArray *findings, const char *id, GvDoctorSeverity severity, const char *subject, char *message, char *fix)
{
  g_ptr_array_add (findings, gv_doctor_finding_new (id, severity, subject, message, fix));
  g_free (message);
  g_free (fix);
}

/* The commands that end what gv_mig_check_reset() found. */
static char *
release_fix (const char *bdf, const char *why, gboolean pending, gboolean on)
{
  GString *fix = g_string_new (NULL);

  if (strstr (why, "nvidia_drm"))
    g_string_append (fix, "Unload nvidia_drm (it holds every NVIDIA GPU; stop the display manager first if it uses "
                          "one): sudo modprobe -r nvidia_drm\n");
  if (strstr (why, "has /dev/"))
    g_string_append_printf (fix, "Stop the programs that have the GPU open (gpuvirtctl show %s lists them; "
                                 "nvidia-persistenced: sudo systemctl stop nvidia-persistenced)\n", bdf);
  if (strstr (why, "vGPU") || strstr (why, "mdev"))
    g_string_append_printf (fix, "Remove the GPU's vGPUs first (gpuvirtctl vgpu list)\n");
  if (pending)
    g_string_append_printf (fix, "Then: gpuvirtctl mig %s %s (gpuvirtd resets the GPU), or reboot", bdf,
                            on ? "on" : "off");
  else
    g_string_append (fix, "Until then a MIG mode change waits for the next boot");
  return g_string_free (fix, FALSE);
}

void
gv_doctor_mig (GPtrArray *findings, GvHost *host, gboolean available, const char *status, GHashTable *mig)
{
  GPtrArray *devices = gv_host_get_devices (host);
  gboolean nvidia = FALSE, datacenter = FALSE;

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    if (d->role == GV_HOST_ROLE_GPU && d->fn->vendor_id == 0x10de && !d->fn->physfn) {
      nvidia = TRUE;
      /* MIG GPUs are 3D controllers (class 0302) */
      datacenter |= (d->fn->class_code >> 8) == 0x0302;
    }
  }
  if (!nvidia)
    return;
  if (!available) {
    add (findings, GV_DOCTOR_MIG_NVML, datacenter ? GV_DOCTOR_SEVERITY_WARNING : GV_DOCTOR_SEVERITY_INFO,
         GV_DOCTOR_SUBJECT_HOST,
         g_strdup_printf ("%s; MIG (A100, A30, H100 and later) cannot be checked or changed", status),
         g_strdup ("Install NVIDIA's driver with its management library libnvidia-ml.so.1 (it comes with the driver "
                   "packages, e.g. libnvidia-ml1 or nvidia-utils), then: sudo systemctl restart gpuvirtd"));
    return;
  }
  add (findings, GV_DOCTOR_MIG_NVML, GV_DOCTOR_SEVERITY_OK, GV_DOCTOR_SUBJECT_HOST,
       g_strdup_printf ("MIG through %s", status), NULL);

  for (guint i = 0; i < devices->len; i++) {
    GvHostDevice *d = devices->pdata[i];
    const char *bdf = d->fn->bdf;
    GvMigGpu *gpu = mig ? g_hash_table_lookup (mig, bdf) : NULL;
    g_autoptr (GError) held = NULL;
    gboolean pending;

    if (!gpu)
      continue;
    add (findings, GV_DOCTOR_MIG_CAPABLE, GV_DOCTOR_SEVERITY_OK, bdf,
         g_strdup_printf ("%s (%s) supports MIG: mode %s, %u GPU instance%s", bdf, gpu->name,
                          gpu->current ? "on" : "off", gpu->instances->len, gpu->instances->len == 1 ? "" : "s"),
         NULL);
    pending = gpu->current != gpu->pending;
    gv_mig_check_reset (host, d, &held);
    if (pending)
      add (findings, GV_DOCTOR_MIG_PENDING, GV_DOCTOR_SEVERITY_WARNING, bdf,
           g_strdup_printf ("MIG mode %s is pending on %s: it takes effect at the next reset of the GPU or boot%s",
                            gpu->pending ? "on" : "off", bdf, held ? ", and the GPU is held (see mig-reset-blocked)"
                                                                   : ""),
           held ? g_strdup ("Release the GPU (see mig-reset-blocked), then reset it, or reboot")
                : g_strdup_printf ("gpuvirtctl mig %s %s (gpuvirtd resets the GPU), or reboot", bdf,
                                   gpu->pending ? "on" : "off"));
    if (held)
      add (findings, GV_DOCTOR_MIG_RESET_BLOCKED, pending ? GV_DOCTOR_SEVERITY_ERROR : GV_DOCTOR_SEVERITY_INFO, bdf,
           g_strdup_printf ("%s: a MIG mode change cannot take effect now", held->message),
           release_fix (bdf, held->message, pending, gpu->pending));
    else
      add (findings, GV_DOCTOR_MIG_RESET_BLOCKED, GV_DOCTOR_SEVERITY_OK, bdf,
           g_strdup_printf ("Nothing holds %s: a MIG mode change takes effect at once", bdf), NULL);
  }
}
