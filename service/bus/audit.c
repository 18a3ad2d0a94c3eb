/* Structured journal records of changes (uid, pid and unit of the caller). */
#include "bus/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

/* Under systemd stderr is the journal already (JOURNAL_STREAM names it):
 * the structured record is then the only copy, not one of two. */
static gboolean
stderr_is_journal (void)
{
  const char *stream = getenv ("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;

  if (!stream || sscanf (stream, "%llu:%llu", &dev, &ino) != 2 || fstat (STDERR_FILENO, &st) < 0)
    return FALSE;
  return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void
bus_audit_operation (sd_bus_message *request, const char *operation, char **functions, const char *failure,
                     const char *summary)
{
  sd_bus_creds *creds = NULL;
  uid_t uid = (uid_t) -1;
  pid_t pid = 0;
  const char *unit = NULL, *comm = NULL;
  g_autofree char *devices = g_strjoinv (" ", functions);

  /* the bus daemon vouches for uid and pid only; comm and unit come from
   * /proc/PID (AUGMENT), a label for the record, not a security decision */
  if (sd_bus_query_sender_creds (request, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID | SD_BUS_CREDS_COMM | SD_BUS_CREDS_UNIT
                                 | SD_BUS_CREDS_AUGMENT, &creds) >= 0) {
    sd_bus_creds_get_euid (creds, &uid);
    sd_bus_creds_get_pid (creds, &pid);
    sd_bus_creds_get_comm (creds, &comm);
    sd_bus_creds_get_unit (creds, &unit);
  }
  sd_journal_send ("MESSAGE=%s of %s %s (asked by uid %d, pid %d %s): %s", operation, devices,
                   failure ? "failed" : "done", (int) uid, (int) pid, comm ? comm : "?", failure ? failure : summary,
                   "MESSAGE_ID=" BUS_AUDIT_MESSAGE_ID, "PRIORITY=%d", failure ? LOG_WARNING : LOG_NOTICE,
                   "GPUVIRT_OPERATION=%s", operation, "GPUVIRT_DEVICES=%s", devices,
                   "GPUVIRT_RESULT=%s", summary ? summary : "", "GPUVIRT_REQUESTER_UID=%d", (int) uid,
                   "GPUVIRT_REQUESTER_PID=%d", (int) pid, "GPUVIRT_REQUESTER_UNIT=%s", unit ? unit : "", NULL);
  if (!stderr_is_journal ())
    g_message ("%s of %s %s (uid %d, pid %d): %s", operation, devices, failure ? "failed" : "done", (int) uid,
               (int) pid, failure ? failure : summary);
  sd_bus_creds_unref (creds);
}
