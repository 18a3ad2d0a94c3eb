/* pkttyagent for one call. The agent is registered for this process (pid
 * and start time, so a recycled pid cannot inherit it) and closes its end
 * of a pipe once polkitd knows it; only then may the call that can need
 * a password be sent. --fallback leaves a desktop's own agent in charge
 * where there is one. */
#include "polkit-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long to wait for the agent to register before going on without
 * waiting; polkitd answers in milliseconds when it works at all. */
#define AGENT_REGISTER_TIMEOUT_MS 10000
/* The fd number the agent gets its end of the pipe as. */
#define AGENT_NOTIFY_FD 3

static void
note (const char *message)
{
  if (ctl_args.verbose)
    fprintf (stderr, "%s\n", message);
}

/* "PID,START" as pkttyagent --process takes it; "PID" alone if the start
 * time cannot be read. */
static char *
process_subject (void)
{
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL) && (after = strrchr (stat, ')')))
    {
      /* after "pid (comm) ": field 3 (state) onwards; starttime is 22 */
      fields = g_strsplit (after + 2, " ", 21);
      if (g_strv_length (fields) >= 20 && g_ascii_isdigit (fields[19][0]))
        return g_strdup_printf ("%d,%s", (int) getpid (), fields[19]);
    }
  return g_strdup_printf ("%d", (int) getpid ());
}

static char *
agent_binary (void)
{
  const char *override = g_getenv ("GPUVIRTCTL_PKTTYAGENT"); /* tests */
  char *path;

  if (override)
    return *override ? g_strdup (override) : NULL;
  path = g_find_program_in_path ("pkttyagent");
  if (!path && g_file_test ("/usr/bin/pkttyagent", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/bin/pkttyagent");
  return path;
}

pid_t
ctl_polkit_agent_open (void)
{
  g_autofree char *binary = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *notify = g_strdup_printf ("%d", AGENT_NOTIFY_FD);
  g_autoptr (GError) error = NULL;
  int fds[2];
  GPid pid = 0;
  int status;

  /* gpuvirtd never asks polkit about root, and a prompt needs a terminal */
  if (!ctl_args.ask_password || geteuid () == 0 || !isatty (STDIN_FILENO))
    return 0;
  binary = agent_binary ();
  if (!binary)
    {
      note (_("pkttyagent is not installed; a password cannot be asked on this terminal."));
      return 0;
    }
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return 0;
  subject = process_subject ();
  {
    const char *argv[] = { binary, "--process", subject, "--notify-fd", notify, "--fallback", NULL };
    const int target_fds[] = { AGENT_NOTIFY_FD };

    g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                                      -1, -1, -1, &fds[1], target_fds, 1, &pid, NULL, NULL, NULL, &error);
  }
  close (fds[1]);
  if (error)
    {
      g_autofree char *m = g_strdup_printf (_("Could not start %s, going on without it: %s"), binary, error->message);
      note (m);
      close (fds[0]);
      return 0;
    }

  /* registered (it closes the fd), or gone (the fd closes with it) */
  {
    struct pollfd p = { .fd = fds[0], .events = POLLIN };
    int r;

    do
      r = poll (&p, 1, AGENT_REGISTER_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    if (r == 0)
      note (_("pkttyagent did not say it was ready; going on."));
  }
  close (fds[0]);

  if (waitpid (pid, &status, WNOHANG) == pid)
    {
      g_autofree char *m = g_strdup_printf (_("pkttyagent ended at once (status %d); going on without it."),
                                            WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
      note (m);
      g_spawn_close_pid (pid);
      return 0;
    }
  return pid;
}

void
ctl_polkit_agent_close (pid_t pid)
{
  int r;

  if (pid <= 0)
    return;
  (void) kill (pid, SIGTERM);
  /* as systemd does; pkttyagent puts the terminal back (echo on) when a
   * signal ends it in the middle of a password */
  do
    r = waitpid (pid, NULL, 0);
  while (r < 0 && errno == EINTR);
  g_spawn_close_pid (pid);
}
