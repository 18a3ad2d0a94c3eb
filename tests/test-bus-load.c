/* Load on gpuvirtd (issue 21): N concurrent clients, each on its own bus
 * connection, making M mixed calls on the simulated l40s-vendor-vfio
 * host: reads (properties, GetDevice, GetAll), changes polkit denies
 * (SaveConfig: modify-config is not allowed), and allowed changes on
 * devices of their own (one client binds GPU 81:00.0 to vfio-pci and
 * gives it back, enables 2 VFs, sets a vGPU type on one and releases it,
 * disables them; a few set and release vGPU types on VFs of 01:00.0).
 * The clients are user nobody, so polkit (the harness's mock) decides
 * every change. Each call's latency is measured; an error other than the
 * denial is unexpected. The daemon's RSS and open fds are read before and after.
 *
 * Without options it is the meson test bus-load: 8 clients x 100 calls,
 * 0 unexpected errors, the fds the same after as before. bench/bench-load.sh
 * runs it with --clients 64 --calls 1000, --minutes N (a soak: the same
 * load again and again, the figures every minute) and --idle SECONDS (the
 * daemon's context switches while nobody calls it). */
#include "bus-harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define GPU_CYCLE "0000:81:00.0"   /* no VFs at start: bound, given back, SR-IOV, vGPU */
#define GPU_TYPES "0000:01:00.0"   /* 32 VFs at start: vGPU types set and released */
#define TYPE "1153"                /* NVIDIA L40S-1B: 32 fit on a GPU */
#define N_TYPE_WRITERS 4

static int opt_clients = 8;
static int opt_calls = 100;
static int opt_minutes = 0;
static int opt_idle = 0;

typedef struct {
  const char *address;
  guint index;
  guint calls;
  GArray *latencies_us;      /* double */
  guint unexpected;
  guint denied;
  char *first_error;
} Client;

static const char *const read_devices[] = { "0000:01:00.0", "0000:41:00.0", "0000:81:00.0", "0000:c1:00.0",
                                            "0000:01:00.4", "0000:41:00.5", "0000:c1:00.6", "0000:42:00.0" };

/* One call, timed; an error other than WANT_ERROR (NULL: none) is unexpected. */
static gboolean
call (Client *cl, sd_bus *bus, const char *path, const char *iface, const char *method, const char *want_error,
      const char *types, ...)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message *m = NULL, *reply = NULL;
  gint64 t0;
  double us;
  va_list ap;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, "org.gpuvirt", path, iface, method);
  if (r >= 0 && types) {
    va_start (ap, types);
    r = sd_bus_message_appendv (m, types, ap);
    va_end (ap);
  }
  if (r < 0)
    g_error ("building %s.%s: %s", iface, method, g_strerror (-r));
  t0 = g_get_monotonic_time ();
  r = sd_bus_call (bus, m, 120 * G_USEC_PER_SEC, &error, &reply);
  us = (double) (g_get_monotonic_time () - t0);
  g_array_append_val (cl->latencies_us, us);
  cl->calls++;
  if (r < 0 && want_error && sd_bus_error_has_name (&error, want_error)) {
    cl->denied++;
  } else if (r < 0 || want_error) {
    cl->unexpected++;
    if (!cl->first_error)
      cl->first_error = g_strdup_printf ("%s.%s on %s: %s: %s", iface, method, path,
                                         r < 0 ? error.name : "succeeded", r < 0 ? error.message : "but should not");
  }
  sd_bus_error_free (&error);
  sd_bus_message_unref (reply);
  sd_bus_message_unref (m);
  return r >= 0;
}

static void
read_one (Client *cl, sd_bus *bus, guint j)
{
  const char *bdf = read_devices[(cl->index + j) % G_N_ELEMENTS (read_devices)];
  g_autofree char *path = bus_harness_device_path (bdf);

  switch (j % 3) {
  case 0:
    call (cl, bus, path, "org.freedesktop.DBus.Properties", "Get", NULL, "ss", "org.gpuvirt.Device", "State");
    break;
  case 1:
    call (cl, bus, "/org/gpuvirt", "org.gpuvirt.Manager", "GetDevice", NULL, "s", bdf + 5);
    break;
  default:
    call (cl, bus, "/org/gpuvirt", "org.freedesktop.DBus.Properties", "GetAll", NULL, "s", "org.gpuvirt.Manager");
    break;
  }
}

/* Client 0's cycle on GPU_CYCLE, one step per call. */
static void
cycle_step (Client *cl, sd_bus *bus, guint step)
{
  g_autofree char *gpu = bus_harness_device_path (GPU_CYCLE);
  g_autofree char *vf = bus_harness_vf_bdf (GPU_CYCLE, 0);
  g_autofree char *vf_path = bus_harness_device_path (vf);

  switch (step % 6) {
  case 0: call (cl, bus, gpu, "org.gpuvirt.Device", "BindVfio", NULL, "a{sv}", 0); break;
  case 1: call (cl, bus, gpu, "org.gpuvirt.Device", "GiveBack", NULL, "a{sv}", 0); break;
  case 2: call (cl, bus, gpu, "org.gpuvirt.Sriov", "SetNumVfs", NULL, "ua{sv}", 2, 0); break;
  case 3: call (cl, bus, vf_path, "org.gpuvirt.Vgpu", "SetType", NULL, "sa{sv}", TYPE, 0); break;
  case 4: call (cl, bus, vf_path, "org.gpuvirt.Vgpu", "ReleaseType", NULL, "a{sv}", 0); break;
  default: call (cl, bus, gpu, "org.gpuvirt.Sriov", "SetNumVfs", NULL, "ua{sv}", 0, 0); break;
  }
}

/* Clients 1..N_TYPE_WRITERS: a type on a VF of their own, and back. */
static void
type_step (Client *cl, sd_bus *bus, guint step)
{
  g_autofree char *vf = bus_harness_vf_bdf (GPU_TYPES, 8 + cl->index);
  g_autofree char *vf_path = bus_harness_device_path (vf);

  if (step % 2 == 0)
    call (cl, bus, vf_path, "org.gpuvirt.Vgpu", "SetType", NULL, "sa{sv}", TYPE, 0);
  else
    call (cl, bus, vf_path, "org.gpuvirt.Vgpu", "ReleaseType", NULL, "a{sv}", 0);
}

static gpointer
client_run (gpointer data)
{
  Client *cl = data;
  sd_bus *bus = NULL;
  guint step = 0;
  int r;

  /* a local user, as gpuvirtctl's callers are (root is not asked to
   * polkit): this thread alone becomes nobody (the raw system calls
   * change only the calling thread), and the bus takes its credentials
   * at connect */
  if (syscall (SYS_setgroups, 0, NULL) < 0 || syscall (SYS_setresgid, 65534, 65534, 65534) < 0 ||
      syscall (SYS_setresuid, 65534, 65534, 65534) < 0)
    g_error ("client %u: cannot become nobody: %s", cl->index, g_strerror (errno));
  r = sd_bus_new (&bus);
  if (r >= 0)
    r = sd_bus_set_address (bus, cl->address);
  if (r >= 0)
    r = sd_bus_set_bus_client (bus, TRUE);
  if (r >= 0)
    r = sd_bus_start (bus);
  if (r < 0)
    g_error ("client %u: cannot connect: %s", cl->index, g_strerror (-r));

  for (guint j = 0; j < (guint) opt_calls; j++) {
    guint kind = j % 10;
    if (kind >= 8 && cl->index == 0)
      cycle_step (cl, bus, step++);
    else if (kind >= 8 && cl->index <= N_TYPE_WRITERS)
      type_step (cl, bus, step++);
    else if (kind >= 6)
      call (cl, bus, "/org/gpuvirt", "org.gpuvirt.Manager", "SaveConfig", SD_BUS_ERROR_ACCESS_DENIED, "sa{sv}",
            "[Manage]\nClasses=0108\n", 0);
    else
      read_one (cl, bus, j);
  }
  /* leave its devices as they were, so that a soak's next round starts the same */
  while (cl->index == 0 && step % 6 != 0)
    cycle_step (cl, bus, step++);
  while (cl->index >= 1 && cl->index <= N_TYPE_WRITERS && step % 2 != 0)
    type_step (cl, bus, step++);
  sd_bus_flush_close_unref (bus);
  return NULL;
}

/* ---- the daemon's figures ---- */

static guint64
status_field (const char *file, const char *field)
{
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (file, &text, NULL, NULL) || !(p = strstr (text, field)))
    return 0;
  return g_ascii_strtoull (p + strlen (field), NULL, 10);
}

static guint64
rss_kb (GPid pid)
{
  g_autofree char *file = g_strdup_printf ("/proc/%d/status", pid);
  return status_field (file, "VmRSS:");
}

static guint
open_fds (GPid pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  return n;
}

/* Context switches of every thread of PID so far: each is a wake-up. */
static guint64
context_switches (GPid pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *tid;
  guint64 n = 0;

  g_assert_nonnull (d);
  while ((tid = g_dir_read_name (d))) {
    g_autofree char *file = g_strdup_printf ("%s/%s/status", dir, tid);
    n += status_field (file, "voluntary_ctxt_switches:") + status_field (file, "nonvoluntary_ctxt_switches:");
  }
  return n;
}

static guint
threads_of (GPid pid)
{
  g_autofree char *file = g_strdup_printf ("/proc/%d/status", pid);
  return (guint) status_field (file, "Threads:");
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

typedef struct {
  guint calls, unexpected, denied;
  double p50_ms, p99_ms, max_ms;
  double seconds;
  char *first_error;
} Round;

/* One round: every client's calls, side by side. */
static Round
run_round (BusHarness *h)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  Client *clients = g_new0 (Client, opt_clients);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (double));
  Round round = { 0 };
  gint64 t0 = g_get_monotonic_time ();

  for (int i = 0; i < opt_clients; i++) {
    clients[i].address = h->address;
    clients[i].index = (guint) i;
    clients[i].latencies_us = g_array_new (FALSE, FALSE, sizeof (double));
    g_ptr_array_add (threads, g_thread_new ("client", client_run, &clients[i]));
  }
  for (int i = 0; i < opt_clients; i++) {
    g_thread_join (threads->pdata[i]);
    g_array_append_vals (all, clients[i].latencies_us->data, clients[i].latencies_us->len);
    round.calls += clients[i].calls;
    round.unexpected += clients[i].unexpected;
    round.denied += clients[i].denied;
    if (clients[i].first_error && !round.first_error)
      round.first_error = g_steal_pointer (&clients[i].first_error);
    g_free (clients[i].first_error);
    g_array_unref (clients[i].latencies_us);
  }
  g_free (clients);
  round.seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  g_array_sort (all, compare_doubles);
  if (all->len) {
    round.p50_ms = g_array_index (all, double, all->len / 2) / 1000;
    round.p99_ms = g_array_index (all, double, MIN (all->len - 1, all->len * 99 / 100)) / 1000;
    round.max_ms = g_array_index (all, double, all->len - 1) / 1000;
  }
  return round;
}

static void
print_round (const char *what, const Round *r, BusHarness *h)
{
  g_print ("%s: %u calls in %.1f s (%.0f/s), p50 %.2f ms, p99 %.2f ms, max %.1f ms, %u denied as expected, "
           "%u unexpected errors; gpuvirtd RSS %.1f MB, %u fds, %u threads\n",
           what, r->calls, r->seconds, r->calls / r->seconds, r->p50_ms, r->p99_ms, r->max_ms, r->denied,
           r->unexpected, rss_kb (h->daemon_pid) / 1024.0, open_fds (h->daemon_pid), threads_of (h->daemon_pid));
  if (r->first_error)
    g_print ("  first unexpected error: %s\n", r->first_error);
}

static void
measure_idle (BusHarness *h, const char *when)
{
  guint64 before = context_switches (h->daemon_pid), after;

  g_usleep ((gulong) opt_idle * G_USEC_PER_SEC);
  after = context_switches (h->daemon_pid);
  g_print ("idle %s: %" G_GUINT64_FORMAT " wake-ups (context switches of all %u threads) in %d s\n", when,
           after - before, threads_of (h->daemon_pid), opt_idle);
}

static void
test_load (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  guint64 rss_before;
  guint fds_before, fds_after;
  Round r;

  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.assign-device", "org.gpuvirt.configure-sriov",
                                                       "org.gpuvirt.configure-vgpu", NULL });
  if (opt_idle)
    measure_idle (h, "after start");
  /* one call of each kind first: what the daemon allocates once is not growth */
  {
    int clients = opt_clients, calls = opt_calls;
    opt_clients = N_TYPE_WRITERS + 1;
    opt_calls = 20;
    r = run_round (h);
    opt_clients = clients;
    opt_calls = calls;
    if (r.unexpected)
      g_error ("warm-up: %u unexpected errors, the first: %s", r.unexpected, r.first_error);
    g_free (r.first_error);
  }
  rss_before = rss_kb (h->daemon_pid);
  fds_before = open_fds (h->daemon_pid);
  g_print ("before: gpuvirtd RSS %.1f MB, %u fds, %u threads\n", rss_before / 1024.0, fds_before,
           threads_of (h->daemon_pid));

  if (opt_minutes == 0) {
    g_autofree char *what = g_strdup_printf ("%d clients x %d calls", opt_clients, opt_calls);
    r = run_round (h);
    print_round (what, &r, h);
    if (r.unexpected)
      g_error ("%u unexpected errors, the first: %s", r.unexpected, r.first_error);
    g_assert_cmpuint (r.denied, >, 0);
    g_free (r.first_error);
  } else {
    gint64 end = g_get_monotonic_time () + (gint64) opt_minutes * 60 * G_USEC_PER_SEC;
    gint64 next = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    Round minute = { 0 };
    guint n_minute = 0, total_unexpected = 0;
    g_autoptr (GArray) p50 = g_array_new (FALSE, FALSE, sizeof (double));
    g_autoptr (GArray) p99 = g_array_new (FALSE, FALSE, sizeof (double));

    while (g_get_monotonic_time () < end) {
      r = run_round (h);
      minute.calls += r.calls;
      minute.unexpected += r.unexpected;
      minute.denied += r.denied;
      minute.seconds += r.seconds;
      g_array_append_val (p50, r.p50_ms);
      g_array_append_val (p99, r.p99_ms);
      minute.max_ms = MAX (minute.max_ms, r.max_ms);
      if (!minute.first_error)
        minute.first_error = g_steal_pointer (&r.first_error);
      g_free (r.first_error);
      if (g_get_monotonic_time () >= next || g_get_monotonic_time () >= end) {
        g_autofree char *what = g_strdup_printf ("minute %u", ++n_minute);
        g_array_sort (p50, compare_doubles);
        g_array_sort (p99, compare_doubles);
        minute.p50_ms = g_array_index (p50, double, p50->len / 2);
        minute.p99_ms = g_array_index (p99, double, p99->len / 2);
        print_round (what, &minute, h);
        total_unexpected += minute.unexpected;
        g_free (minute.first_error);
        memset (&minute, 0, sizeof minute);
        g_array_set_size (p50, 0);
        g_array_set_size (p99, 0);
        next += 60 * G_USEC_PER_SEC;
      }
    }
    g_print ("soak: %d minutes, %u unexpected errors\n", opt_minutes, total_unexpected);
    g_assert_cmpuint (total_unexpected, ==, 0);
  }

  /* let worker threads and pending replies wind down before counting */
  g_usleep (G_USEC_PER_SEC / 2);
  fds_after = open_fds (h->daemon_pid);
  g_print ("after: gpuvirtd RSS %.1f MB (before %.1f MB), %u fds (before %u), %u threads\n",
           rss_kb (h->daemon_pid) / 1024.0, rss_before / 1024.0, fds_after, fds_before, threads_of (h->daemon_pid));
  g_assert_cmpuint (fds_after, ==, fds_before);
  if (opt_idle)
    measure_idle (h, "after the load");
  {
    g_autofree char *log = bus_harness_daemon_log (h);
    g_assert_null (strstr (log, "runtime error"));
    g_assert_null (strstr (log, "AddressSanitizer"));
  }
}

int
main (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "clients", 0, 0, G_OPTION_ARG_INT, &opt_clients, "Concurrent clients (8)", "N" },
    { "calls", 0, 0, G_OPTION_ARG_INT, &opt_calls, "Calls per client and round (100)", "M" },
    { "minutes", 0, 0, G_OPTION_ARG_INT, &opt_minutes, "Soak: rounds for this long, figures every minute", "N" },
    { "idle", 0, 0, G_OPTION_ARG_INT, &opt_idle, "Count the daemon's wake-ups while idle for this long", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    g_error ("%s", error->message);
  g_assert_cmpint (opt_clients, >, N_TYPE_WRITERS);
  g_test_add_func ("/load/mixed", test_load);
  return g_test_run ();
}
