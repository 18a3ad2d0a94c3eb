/* Manager.Doctor() → a(sssss): read-only, so no polkit. The rows come
 * from the host model plus the doctor's fresh reads (doctor.h). */
#include "bus/doctor.h"

#include "bus/util.h"
#include "daemon/daemon.h"
#include "doctor/doctor.h"
#include "gpuvirt-names.h"

#include <string.h>

/* The address a problem's group names ("Device 0000:41:00.0/Id"), or
 * its file. */
static char *
subject_of (const GvConfigProblem *p, const char *main_file)
{
  if (p->key && g_str_has_prefix (p->key, "Device ")) {
    const char *start = p->key + strlen ("Device ");
    const char *slash = strchr (start, '/');
    return g_strndup (start, slash ? (gsize) (slash - start) : strlen (start));
  }
  return g_strdup (p->file ? p->file : main_file);
}

/* The configuration's rows: files with problems (never taken), and
 * configured devices the host lacks or shows with another vendor:device. */
static void
add_config_findings (Daemon *daemon, GPtrArray *findings)
{
  g_autoptr (GPtrArray) host_problems = gv_config_check_host (daemon->config, daemon->host);
  g_autofree char *check = g_strdup_printf ("gpuvirtctl config check; then fix %s and run gpuvirtctl config reload",
                                            daemon->config_file);

  for (guint i = 0; daemon->config_problems && i < daemon->config_problems->len; i++) {
    GvConfigProblem *p = daemon->config_problems->pdata[i];
    g_autofree char *message = g_strdup_printf ("%s:%u: %s%s%s (the file is not used until fixed)",
                                                p->file ? p->file : daemon->config_file, p->line,
                                                p->key && *p->key ? p->key : "", p->key && *p->key ? ": " : "",
                                                p->message);
    g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_CONFIG_INVALID, GV_DOCTOR_SEVERITY_ERROR,
                                               p->file ? p->file : daemon->config_file, message, check));
  }
  for (guint i = 0; i < host_problems->len; i++) {
    GvConfigProblem *p = host_problems->pdata[i];
    gboolean missing = g_str_has_prefix (p->message, "no PCI function");
    g_autofree char *where = g_strdup_printf ("%s:%u", p->file ? p->file : daemon->config_file, p->line);
    g_autofree char *fix = g_strdup_printf ("Check the hardware with lspci -nn; then correct or remove the "
                                            "entry at %s (gpuvirtctl config show)", where);
    g_autofree char *subject = subject_of (p, daemon->config_file);
    g_ptr_array_add (findings, gv_doctor_finding_new (missing ? GV_DOCTOR_CONFIG_DEVICE_MISSING : GV_DOCTOR_CONFIG_DEVICE_MOVED,
                                               missing ? GV_DOCTOR_SEVERITY_WARNING : GV_DOCTOR_SEVERITY_ERROR, subject,
                                               p->message, fix));
  }
  if (daemon->config_problems && daemon->config_problems->len == 0 && host_problems->len == 0 &&
      gv_config_get_files (daemon->config)[0])
    g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_CONFIG_INVALID, GV_DOCTOR_SEVERITY_OK, daemon->config_file,
                                               "The configuration is valid and matches the devices it names", NULL));
}

int
bus_doctor_method (sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  Daemon *daemon = userdata;
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) findings = gv_doctor_run (daemon->host, &local);
  g_autoptr (sd_bus_message) reply = NULL;
  int r;

  if (!findings)
    return sd_bus_error_setf (error, GPUVIRT_ERROR_KERNEL, "Could not check the host: %s", local->message);
  add_config_findings (daemon, findings);
  gv_doctor_mig (findings, daemon->host, daemon->nvml != NULL, daemon->mig_status, daemon->mig);
  gv_doctor_check_libvirt (daemon->host, daemon->libvirt_dir, findings);

  r = sd_bus_message_new_method_return (m, &reply);
  if (r < 0)
    return r;
  r = sd_bus_message_open_container (reply, 'a', "(sssss)");
  for (guint i = 0; r >= 0 && i < findings->len; i++) {
    const GvDoctorFinding *f = findings->pdata[i];
    r = sd_bus_message_append (reply, "(sssss)", f->id, gv_doctor_severity_to_string (f->severity), f->subject,
                               f->message, f->fix);
  }
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r < 0)
    return r;
  return sd_bus_send (NULL, reply, NULL);
}
