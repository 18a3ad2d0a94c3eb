/* Manager.Doctor() → a(sssss): read-only, so no polkit. The rows come
 * from the host model plus the doctor's fresh reads (doctor.h). */
#include "bus-doctor.h"

#include "bus-util.h"
#include "daemon.h"
#include "doctor.h"
#include "gpuvirt-names.h"

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
  /* The configuration's findings (config-invalid, config-device-moved,
   * config-device-missing) are appended to FINDINGS here, with
   * gv_finding_new(), once the configuration module provides them. */

  r = sd_bus_message_new_method_return (m, &reply);
  if (r < 0)
    return r;
  r = sd_bus_message_open_container (reply, 'a', "(sssss)");
  for (guint i = 0; r >= 0 && i < findings->len; i++) {
    const GvFinding *f = findings->pdata[i];
    r = sd_bus_message_append (reply, "(sssss)", f->id, gv_severity_to_string (f->severity), f->subject,
                               f->message, f->fix);
  }
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r < 0)
    return r;
  return sd_bus_send (NULL, reply, NULL);
}
