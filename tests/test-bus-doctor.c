/* Manager.Doctor() over the bus and `gpuvirtctl doctor`, end to end on the
 * simulated host: the rows the host calls for, the same rows in
 * `gpuvirtctl doctor --json` run by an unprivileged user, the text form,
 * the exit status, and nothing written to the host. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* The rows of one Doctor() call. */
static GVariant *
call_doctor (BusHarness *h)
{
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  g_autoptr (GVariant) reply = bus_harness_call (c, "/org/gpuvirt", "org.gpuvirt.Manager", "Doctor", NULL,
                                                 G_VARIANT_TYPE ("(a(sssss))"), &name, &message);

  if (!reply)
    g_error ("Doctor() failed: %s: %s", name, message);
  return g_variant_get_child_value (reply, 0);
}

/* The row (id, subject) of ROWS, with its severity; asserts there is one. */
static void
find_row (GVariant *rows, const char *id, const char *subject, const char **severity, const char **message,
          const char **fix)
{
  GVariantIter iter;
  const char *i, *sev, *subj, *msg, *fx;
  guint n = 0;

  g_variant_iter_init (&iter, rows);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &i, &sev, &subj, &msg, &fx))
    if (g_str_equal (i, id) && g_str_equal (subj, subject)) {
      *severity = sev;
      *message = msg;
      *fix = fx;
      n++;
    }
  if (n != 1)
    g_error ("%u rows %s about %s", n, id, subject);
}

static void
assert_nothing_written (BusHarness *h)
{
  g_autofree char *log = bus_harness_read_sim (h, ".sim/log");

  g_assert_cmpstr (log, ==, "");
}

/* The JSON of `gpuvirtctl doctor --json` holds exactly ROWS, in order. */
static void
assert_json_equals_rows (const char *json, GVariant *rows)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *findings;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  findings = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "Findings");
  g_assert_nonnull (findings);
  g_assert_cmpuint (json_array_get_length (findings), ==, g_variant_n_children (rows));
  for (guint k = 0; k < json_array_get_length (findings); k++) {
    JsonObject *o = json_array_get_object_element (findings, k);
    const char *id, *severity, *subject, *message, *fix;
    g_variant_get_child (rows, k, "(&s&s&s&s&s)", &id, &severity, &subject, &message, &fix);
    g_assert_cmpstr (json_object_get_string_member (o, "Id"), ==, id);
    g_assert_cmpstr (json_object_get_string_member (o, "Severity"), ==, severity);
    g_assert_cmpstr (json_object_get_string_member (o, "Subject"), ==, subject);
    g_assert_cmpstr (json_object_get_string_member (o, "Message"), ==, message);
    g_assert_cmpstr (json_object_get_string_member (o, "Fix"), ==, fix);
  }
}

/* big-host: the shared group and the T4 over the bus; the same rows from
 * gpuvirtctl run as nobody; the text form; exit 0 (no error). */
static void
test_big_host (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autoptr (GVariant) rows = NULL;
  const char *ctl = g_getenv ("GPUVIRTCTL");
  const char *json_argv[] = { ctl, "doctor", "--json", NULL };
  const char *text_argv[] = { ctl, "doctor", NULL };
  const char *severity, *message, *fix;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_nonnull (ctl);
  g_assert_cmpint (bus_harness_write_sim (h, ".sim/log", "clear"), ==, 0);
  rows = call_doctor (h);

  find_row (rows, "iommu-present", "host", &severity, &message, &fix);
  g_assert_cmpstr (severity, ==, "ok");
  find_row (rows, "iommu-cmdline", "host", &severity, &message, &fix);
  g_assert_cmpstr (severity, ==, "info");
  g_assert_nonnull (strstr (fix, "iommu=pt"));
  find_row (rows, "group-shared", "0000:3a:00.0", &severity, &message, &fix);
  g_assert_cmpstr (severity, ==, "warning");
  g_assert_nonnull (strstr (message, "with 0000:3b:00.0 (3D controller)"));
  g_assert_nonnull (strstr (fix, "pcie_acs_override="));
  find_row (rows, "sriov-unused", "0000:c8:00.0", &severity, &message, &fix);
  g_assert_cmpstr (severity, ==, "info");
  g_assert_nonnull (strstr (message, "VFs are not needed"));
  find_row (rows, "sriov-unused", "0000:98:00.0", &severity, &message, &fix);
  g_assert_nonnull (strstr (fix, "gpuvirtctl sriov 0000:98:00.0 32"));

  /* gpuvirtctl, unprivileged: the same rows */
  status = bus_harness_run (h, TRUE, json_argv, &out, &err);
  if (status != 0)
    g_error ("gpuvirtctl doctor --json: status %d, %s", status, err);
  assert_json_equals_rows (out, rows);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = bus_harness_run (h, TRUE, text_argv, &out, &err);
  g_test_message ("%s", out);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "Host\n  ok       IOMMU on: Intel VT-d (dmar0)"));
  /* a device heading names the device; a fix is indented under its finding */
  g_assert_nonnull (strstr (out, "\n0000:3a:00.0  NVIDIA Corporation"));
  g_assert_nonnull (strstr (out, " [group-shared]\n           fix: Pass the group through as a whole: "
                                 "gpuvirtctl bind --allow-foreign 0000:3a:00.0\n                "));
  g_assert_nonnull (strstr (out, "\n0 errors, 2 warnings, 11 notes, "));
  assert_nothing_written (h);
}

/* no-iommu: an error, so exit 6; the GRUB line for Intel. */
static void
test_no_iommu (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("no-iommu");
  g_autoptr (GVariant) rows = NULL;
  const char *ctl = g_getenv ("GPUVIRTCTL");
  const char *json_argv[] = { ctl, "doctor", "--json=short", NULL };
  const char *text_argv[] = { ctl, "doctor", NULL };
  const char *severity, *message, *fix;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (bus_harness_write_sim (h, ".sim/log", "clear"), ==, 0);
  rows = call_doctor (h);
  find_row (rows, "iommu-present", "host", &severity, &message, &fix);
  g_assert_cmpstr (severity, ==, "error");
  g_assert_nonnull (strstr (fix, "GRUB_CMDLINE_LINUX_DEFAULT=\"... intel_iommu=on iommu=pt\""));
  find_row (rows, "group-shared", "0000:01:00.0", &severity, &message, &fix);
  g_assert_cmpstr (severity, ==, "error");

  g_assert_cmpint (bus_harness_run (h, TRUE, json_argv, &out, &err), ==, 6);
  g_assert_null (strchr (g_strchomp (out), '\n'));
  assert_json_equals_rows (out, rows);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (bus_harness_run (h, TRUE, text_argv, &out, &err), ==, 6);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "  error    No IOMMU: "));
  g_assert_nonnull (strstr (out, "\n2 errors, "));
  assert_nothing_written (h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus/doctor/big-host", test_big_host);
  g_test_add_func ("/bus/doctor/no-iommu", test_no_iommu);
  return g_test_run ();
}
