/* gpuvirt-libvirt-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain XML
 *
 * libvirt runs every executable of /etc/libvirt/hooks/qemu.d/ so, as root,
 * for each step of a domain's life. This one acts at "prepare begin"
 * (bind, make vGPUs) and "release end" (give back, remove what prepare
 * made), and only for domains whose <metadata> holds gpuvirt's element;
 * every other call exits 0 having touched nothing, not even the bus. It
 * talks to gpuvirtd over the system bus only, never to libvirt (a hook
 * that calls libvirt deadlocks the daemon that waits for it). */
#include "hook.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#ifndef GPUVIRT_HOOK_STATE_DIR
#error "GPUVIRT_HOOK_STATE_DIR must be defined by the build"
#endif

/* The whole run's bound: libvirt waits for a hook without a limit while
 * the domain's start (and every other job on it) waits too, so the hook
 * sets its own, well below the 60 s virt-manager and virsh users tolerate
 * and above gpuvirtd's bound of one sysfs write (10 s). */
#define HOOK_DEADLINE_SEC 45
/* past the deadline by this much, the process ends whatever it waits for */
#define HOOK_ALARM_GRACE_SEC 5

static const char *log_domain = "", *log_operation = "";

void
hook_log_init (const char *domain, const char *operation)
{
  log_domain = domain;
  log_operation = operation;
}

static void
journal (int priority, const char *message)
{
  /* without a journal (tests, containers) this fails quietly */
  (void) sd_journal_send ("MESSAGE=%s", message, "PRIORITY=%i", priority,
                          "SYSLOG_IDENTIFIER=gpuvirt-libvirt-hook", "GPUVIRT_DOMAIN=%s", log_domain,
                          "GPUVIRT_OPERATION=%s", log_operation, NULL);
}

void
hook_info (const char *format, ...)
{
  va_list ap;
  g_autofree char *m = NULL;

  va_start (ap, format);
  m = g_strdup_vprintf (format, ap);
  va_end (ap);
  journal (LOG_INFO, m);
  if (g_getenv ("GPUVIRT_HOOK_VERBOSE"))
    fprintf (stderr, "gpuvirt: %s\n", m);
}

void
hook_error (const char *format, ...)
{
  va_list ap;
  g_autofree char *m = NULL;

  va_start (ap, format);
  m = g_strdup_vprintf (format, ap);
  va_end (ap);
  journal (LOG_ERR, m);
  /* what virsh start shows after "Hook script execution failed: ..." */
  fprintf (stderr, "gpuvirt: %s\n", m);
}

static void
on_alarm (int sig)
{
  static const char m[] = "gpuvirt: the hook ran out of time; gpuvirtd finishes what it started\n";
  (void) sig;
  (void) !write (STDERR_FILENO, m, sizeof m - 1);
  _exit (1);
}

static char *
read_stdin (gsize *length)
{
  g_autoptr (GString) s = g_string_new (NULL);
  char buf[65536];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0) {
    g_string_append_len (s, buf, (gssize) n);
    if (s->len > 64 * 1024 * 1024)
      return NULL;
  }
  *length = s->len;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvLibvirtDomain) domain = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *key = NULL;
  const char *state_dir;
  gsize length = 0;
  Hook hook = { 0 };
  int r;

  if (argc < 4) {
    fprintf (stderr, "Usage: %s DOMAIN OPERATION SUB-OPERATION [EXTRA] < DOMAIN-XML\n"
                     "libvirt's qemu hook of gpuvirt; see gpuvirt-libvirt-hook(8).\n",
             argv[0]);
    return 2;
  }
  hook_log_init (argv[1], argv[2]);
  /* libvirt writes the XML whatever the operation: read it, so that its
   * write never fails */
  xml = read_stdin (&length);
  if (!(g_str_equal (argv[2], "prepare") && g_str_equal (argv[3], "begin"))
      && !(g_str_equal (argv[2], "release") && g_str_equal (argv[3], "end")))
    return 0;
  if (!xml) {
    hook_error ("domain '%s': could not read its XML on standard input", argv[1]);
    return 1;
  }
  domain = gv_libvirt_domain_parse (xml, (gssize) length, &error);
  if (!domain) {
    /* no opt-in can be read from it: not ours, unless it names us */
    if (strstr (xml, GV_LIBVIRT_NS)) {
      hook_error ("domain '%s': %s", argv[1], error->message);
      return 1;
    }
    return 0;
  }
  if (!domain->opted_in)
    return 0;

  signal (SIGALRM, on_alarm);
  alarm (HOOK_DEADLINE_SEC + HOOK_ALARM_GRACE_SEC);
  state_dir = g_getenv ("GPUVIRT_HOOK_STATE_DIR");
  if (!state_dir || !*state_dir)
    state_dir = GPUVIRT_HOOK_STATE_DIR;
  /* the UUID: a domain renamed keeps its record */
  key = g_strdup (domain->uuid && *domain->uuid ? domain->uuid : domain->name);
  g_strdelimit (key, "/", '_');
  hook.operation = argv[2];
  hook.domain = domain;
  hook.record_path = g_build_filename (state_dir, key, NULL);
  hook.deadline = g_get_monotonic_time () + HOOK_DEADLINE_SEC * G_USEC_PER_SEC;

  r = g_str_equal (argv[2], "prepare") ? hook_prepare (&hook) : hook_release (&hook);
  if (hook.bus)
    sd_bus_flush_close_unref (hook.bus);
  g_free (hook.record_path);
  return r;
}
