/* The shell completion of gpuvirtctl (completion/) against the real
 * gpuvirtd on a private bus over the simulated host: for bash (the
 * completion function run as readline would, completion/drive-bash.sh) and
 * zsh (typed with Tab into an interactive zsh on a pseudo-terminal,
 * completion/drive-zsh.zsh), the device addresses each verb is offered,
 * vGPU type ids and short names for 'vgpu create DEVICE', the vGPUs for
 * 'vgpu remove', each equal to what gpuvirtctl's JSON says; and a stopped
 * gpuvirtd costs the shell no more than the bound, with nothing printed.
 * Each part is its own test() in tests/meson.build. */
#include "bus-harness.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#define ACTION_VGPU "org.gpuvirt.configure-vgpu"
#define ACTION_SRIOV "org.gpuvirt.configure-sriov"

#define L40S "0000:41:00.0"   /* l40s-vendor-vfio: 32 VFs, none typed */
#define NVME "0000:42:00.0"   /* l40s-vendor-vfio: not managed */
#define T4 "0000:c8:00.0"     /* big-host: mdevs on the PF */
#define UUID "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"
#define ACTION_MIG "org.gpuvirt.configure-mig"
#define A100X "0000:c1:00.0"  /* mig-host: an A100 80GB in MIG mode */

/* While gpuvirtd answers: a bound far above any answer on a loaded
 * machine, so that what is checked is the candidates, not the speed. */
#define LIVE_TIMEOUT "30"

typedef enum { SHELL_BASH, SHELL_ZSH, N_SHELLS } Shell;
static const char *const shell_names[] = { "bash", "zsh" };

/* ---- sets of strings: sorted, unique ---- */

static GPtrArray *
set_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
set_add (GPtrArray *set, const char *s)
{
  for (guint i = 0; i < set->len; i++)
    if (g_str_equal (set->pdata[i], s))
      return;
  g_ptr_array_add (set, g_strdup (s));
  g_ptr_array_sort (set, compare_strings);
}

static gboolean
set_has (GPtrArray *set, const char *s)
{
  for (guint i = 0; i < set->len; i++)
    if (g_str_equal (set->pdata[i], s))
      return TRUE;
  return FALSE;
}

static char *
set_text (GPtrArray *set)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < set->len; i++)
    g_string_append_printf (s, "  %s\n", (const char *) set->pdata[i]);
  return g_string_free (s, FALSE);
}

/* The members of SET that start with PREFIX, less EXCEPT (may be NULL). */
static GPtrArray *
set_with_prefix (GPtrArray *set, const char *prefix, const char *except)
{
  GPtrArray *out = set_new ();

  for (guint i = 0; i < set->len; i++)
    if (g_str_has_prefix (set->pdata[i], prefix) && g_strcmp0 (set->pdata[i], except) != 0)
      set_add (out, set->pdata[i]);
  return out;
}

/* Addresses of domain 0000 in their short form ("41:00.0"). */
static GPtrArray *
set_short_forms (GPtrArray *set)
{
  GPtrArray *out = set_new ();

  for (guint i = 0; i < set->len; i++)
    if (g_str_has_prefix (set->pdata[i], "0000:"))
      set_add (out, (const char *) set->pdata[i] + strlen ("0000:"));
  return out;
}

/* ---- what gpuvirtctl's JSON says ---- */

static JsonNode *
ctl_json (BusHarness *h, ...) G_GNUC_NULL_TERMINATED;

/* gpuvirtctl ARGS... --json as root: the parsed output (must succeed). */
static JsonNode *
ctl_json (BusHarness *h, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  va_list ap;
  int status;

  g_ptr_array_add (argv, (gpointer) g_getenv ("GPUVIRTCTL"));
  va_start (ap, h);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, (gpointer) "--json");
  g_ptr_array_add (argv, NULL);
  status = bus_harness_run (h, FALSE, (const char *const *) argv->pdata, &out, &err);
  if (status != 0)
    g_error ("gpuvirtctl exited %d\nstdout:\n%s\nstderr:\n%s", status, out, err);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* The addresses `gpuvirtctl list [--all]` gives, or only those whose
 * MEMBER ("Sriov", "Vgpu") is not null. */
static GPtrArray *
listed (BusHarness *h, gboolean all, const char *member)
{
  g_autoptr (JsonNode) root = all ? ctl_json (h, "list", "--all", NULL) : ctl_json (h, "list", NULL);
  JsonArray *devices = json_object_get_array_member (json_node_get_object (root), "Devices");
  GPtrArray *set = set_new ();

  for (guint i = 0; i < json_array_get_length (devices); i++) {
    JsonObject *d = json_array_get_object_element (devices, i);
    if (member && json_object_get_null_member (d, member))
      continue;
    set_add (set, json_object_get_string_member (d, "Address"));
  }
  g_assert_cmpuint (set->len, >, 0);
  return set;
}

/* The ids and short names of the types `gpuvirtctl types DEVICE` gives. */
static GPtrArray *
type_names (BusHarness *h, const char *device)
{
  g_autoptr (JsonNode) root = ctl_json (h, "types", device, NULL);
  JsonArray *types = json_object_get_array_member (json_node_get_object (root), "Types");
  GPtrArray *set = set_new ();

  for (guint i = 0; i < json_array_get_length (types); i++) {
    JsonObject *t = json_array_get_object_element (types, i);
    JsonObject *details = json_object_get_object_member (t, "Details");
    set_add (set, json_object_get_string_member (t, "Id"));
    set_add (set, json_object_get_string_member (details, "short_name"));
  }
  g_assert_cmpuint (set->len, >, 0);
  return set;
}

/* The "Vgpu" of every row of `gpuvirtctl vgpu list`. */
static GPtrArray *
vgpus (BusHarness *h)
{
  g_autoptr (JsonNode) root = ctl_json (h, "vgpu", "list", NULL);
  JsonArray *rows = json_object_get_array_member (json_node_get_object (root), "Vgpus");
  GPtrArray *set = set_new ();

  for (guint i = 0; i < json_array_get_length (rows); i++)
    set_add (set, json_object_get_string_member (json_array_get_object_element (rows, i), "Vgpu"));
  return set;
}

/* ---- the completion ---- */

/* The candidates SHELL completes for LINE (the cursor at its end); the
 * driver must succeed and nothing may reach stderr. *RET_MS: how long the
 * completion took in the shell (the driver's "#ms N", its start left out). */
static GPtrArray *
complete (BusHarness *h, Shell shell, const char *line, gint64 *ret_ms)
{
  const char *dir = g_getenv ("GPUVIRT_COMPLETION_DIR");
  const char *bash_completion = g_getenv ("GPUVIRT_BASH_COMPLETION");
  const char *zsh = g_getenv ("GPUVIRT_ZSH");
  g_autofree char *bash_driver = NULL;
  g_autofree char *bash_file = NULL;
  g_autofree char *zsh_driver = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *set = set_new ();
  gint64 ms = -1;
  int status;

  g_assert_nonnull (dir);
  bash_driver = g_build_filename (dir, "drive-bash.sh", NULL);
  bash_file = g_build_filename (dir, "gpuvirtctl.bash", NULL);
  zsh_driver = g_build_filename (dir, "drive-zsh.zsh", NULL);
  /* a missing shell fails the test; it never skips */
  if (shell == SHELL_BASH && !g_file_test (bash_completion ? bash_completion : "", G_FILE_TEST_EXISTS))
    g_error ("bash-completion's script “%s” is missing: install bash-completion (tools/deps.sh)", bash_completion);
  if (shell == SHELL_ZSH && !(zsh && *zsh && g_file_test (zsh, G_FILE_TEST_IS_EXECUTABLE)))
    g_error ("zsh is missing: install zsh (tools/deps.sh)");

  if (shell == SHELL_BASH)
    status = bus_harness_run (h, FALSE, (const char *const[]) { bash_driver, bash_completion, bash_file, line, NULL },
                              &out, &err);
  else
    status = bus_harness_run (h, FALSE, (const char *const[]) { zsh, zsh_driver, dir, line, NULL }, &out, &err);
  g_test_message ("%s: “%s” ->\n%s", shell_names[shell], line, out);
  if (status != 0 || *err)
    g_error ("%s completion of “%s”: exit %d\nstdout:\n%s\nstderr:\n%s", shell_names[shell], line, status, out, err);

  lines = g_strsplit (out, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "#ms "))
      ms = g_ascii_strtoll (*l + strlen ("#ms "), NULL, 10);
    else if (**l && **l != '#')
      set_add (set, *l);
  g_assert_cmpint (ms, >=, 0);
  if (ret_ms)
    *ret_ms = ms;
  return set;
}

/* Completing LINE in SHELL gives exactly WANT (consumed). */
static void
expect_completion (BusHarness *h, Shell shell, const char *line, GPtrArray *want)
{
  g_autoptr (GPtrArray) owned_want = want;
  g_autoptr (GPtrArray) got = complete (h, shell, line, NULL);
  gboolean equal = got->len == want->len;

  for (guint i = 0; equal && i < got->len; i++)
    equal = g_str_equal (got->pdata[i], want->pdata[i]);
  if (!equal) {
    g_autofree char *got_text = set_text (got);
    g_autofree char *want_text = set_text (want);
    g_error ("%s completes “%s” to\n%swhere gpuvirtctl's JSON says\n%s", shell_names[shell], line, got_text,
             want_text);
  }
}

static GPtrArray *
set_of (const char *first, ...) G_GNUC_NULL_TERMINATED;

static GPtrArray *
set_of (const char *first, ...)
{
  GPtrArray *set = set_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *s = first; s; s = va_arg (ap, const char *))
    set_add (set, s);
  va_end (ap);
  return set;
}

static GPtrArray *
set_copy (GPtrArray *set)
{
  return set_with_prefix (set, "", NULL);
}

/* gpuvirtd stopped (SIGSTOP): the bus takes each call, nobody answers.
 * With the default bound (1 s) LINE gives nothing, prints nothing, and the
 * completion is done within 2 s. */
static void
expect_bounded (BusHarness *h, Shell shell, const char *line)
{
  const gint64 limit_ms = 2000;
  g_autoptr (GPtrArray) got = NULL;
  gint64 ms;

  got = complete (h, shell, line, &ms);
  g_test_message ("%s: “%s” with gpuvirtd stopped: %" G_GINT64_FORMAT " ms", shell_names[shell], line, ms);
  if (got->len != 0) {
    g_autofree char *text = set_text (got);
    g_error ("%s completes “%s” to\n%swith gpuvirtd stopped", shell_names[shell], line, text);
  }
  /* it did wait for the bound: the measure covers the query */
  g_assert_cmpint (ms, >=, 900);
  if (ms >= limit_ms)
    g_error ("%s took %" G_GINT64_FORMAT " ms for “%s” with gpuvirtd stopped (limit %" G_GINT64_FORMAT " ms)",
             shell_names[shell], ms, line, limit_ms);
}

static void
allow_all (BusHarness *h)
{
  bus_harness_polkit_allow (h, (const char *const[]) { ACTION_VGPU, ACTION_SRIOV, NULL });
}

/* ---- the parts ---- */

/* l40s-vendor-vfio: devices per verb, L40S types, a VF carrying a type. */
static void
test_vendor (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("l40s-vendor-vfio");
  g_autoptr (GPtrArray) all = listed (h, TRUE, NULL);
  g_autoptr (GPtrArray) managed = listed (h, FALSE, NULL);
  g_autoptr (GPtrArray) sriov = listed (h, FALSE, "Sriov");
  g_autoptr (GPtrArray) vgpu = listed (h, FALSE, "Vgpu");
  g_autoptr (GPtrArray) types = type_names (h, L40S);
  g_autofree char *vf = NULL;

  /* the scenario's facts the checks below rely on */
  g_assert_true (set_has (all, NVME));
  g_assert_false (set_has (managed, NVME));
  g_assert_cmpuint (sriov->len, ==, 4);
  g_assert_cmpuint (sriov->len, <, vgpu->len);
  g_assert_true (set_has (types, "L40S-24Q"));
  g_assert_true (set_has (types, "1153"));

  for (Shell s = 0; s < N_SHELLS; s++) {
    expect_completion (h, s, "gpuvirtctl show ", set_copy (all));
    expect_completion (h, s, "gpuvirtctl bind ", set_copy (managed));
    expect_completion (h, s, "gpuvirtctl --no-ask-password unbind --yes ", set_copy (managed));
    expect_completion (h, s, "gpuvirtctl bind --all ", set_new ());
    expect_completion (h, s, "gpuvirtctl sriov ", set_copy (sriov));
    expect_completion (h, s, "gpuvirtctl sriov 0000:41:", set_of (L40S, NULL));
    expect_completion (h, s, "gpuvirtctl sriov 0000:41:00.0 ", set_of ("off", NULL));
    /* short forms once the word cannot be a domain any more */
    {
      g_autoptr (GPtrArray) shorts = set_short_forms (vgpu);
      expect_completion (h, s, "gpuvirtctl types 41:00.", set_with_prefix (shorts, "41:00.", NULL));
    }
    /* a device already named is not offered again */
    expect_completion (h, s, "gpuvirtctl return 0000:01:00.0 0000:01:00.",
                       set_with_prefix (managed, "0000:01:00.", "0000:01:00.0"));
    expect_completion (h, s, "gpuvirtctl reclaim 01:00.0 0000:01:00.",
                       set_with_prefix (managed, "0000:01:00.", "0000:01:00.0"));
    expect_completion (h, s, "gpuvirtctl vgpu create ", set_copy (vgpu));
    expect_completion (h, s, "gpuvirtctl vgpu create 0000:41:00.0 ", set_copy (types));
    expect_completion (h, s, "gpuvirtctl vgpu create --json=short 41:00.0 L40S-24",
                       set_with_prefix (types, "L40S-24", NULL));
    expect_completion (h, s, "gpuvirtctl vgpu remove ", set_new ());
  }

  /* a VF that carries a type is a vGPU to remove, named by its address */
  allow_all (h);
  {
    g_autoptr (JsonNode) reply = ctl_json (h, "vgpu", "create", L40S, "L40S-24Q", NULL);
    JsonObject *info = json_object_get_object_member (json_node_get_object (reply), "Info");
    vf = g_strdup (json_object_get_string_member (info, "address"));
  }
  {
    g_autoptr (GPtrArray) listed_vgpus = vgpus (h);
    g_assert_cmpuint (listed_vgpus->len, ==, 1);
    g_assert_cmpstr (listed_vgpus->pdata[0], ==, vf);
  }
  for (Shell s = 0; s < N_SHELLS; s++) {
    expect_completion (h, s, "gpuvirtctl vgpu remove ", vgpus (h));
    expect_completion (h, s, "gpuvirtctl vgpu remove 0000:41:", set_of (vf, NULL));
    expect_completion (h, s, "gpuvirtctl vgpu remove --disable-vfs 0000:41:", set_of (vf, NULL));
  }

  /* gpuvirtd stopped: the default bound, and no candidates */
  g_unsetenv ("GPUVIRTCTL_COMPLETION_TIMEOUT");
  g_assert_cmpint (kill (h->daemon_pid, SIGSTOP), ==, 0);
  for (Shell s = 0; s < N_SHELLS; s++) {
    expect_bounded (h, s, "gpuvirtctl show ");
    expect_bounded (h, s, "gpuvirtctl vgpu create 0000:41:00.0 ");
    expect_bounded (h, s, "gpuvirtctl vgpu remove ");
  }
  g_assert_cmpint (kill (h->daemon_pid, SIGCONT), ==, 0);
  g_setenv ("GPUVIRTCTL_COMPLETION_TIMEOUT", LIVE_TIMEOUT, TRUE);
  /* and answers again once it runs */
  expect_completion (h, SHELL_BASH, "gpuvirtctl vgpu remove ", set_of (vf, NULL));
}

/* big-host: the T4's mdev types, and an mdev named by its UUID. */
static void
test_mdev (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("big-host");
  g_autoptr (GPtrArray) all = listed (h, TRUE, NULL);
  g_autoptr (GPtrArray) vgpu = listed (h, FALSE, "Vgpu");
  g_autoptr (GPtrArray) types = type_names (h, T4);

  g_assert_true (set_has (vgpu, T4));
  g_assert_true (set_has (types, "nvidia-231"));
  g_assert_true (set_has (types, "T4-4Q"));

  for (Shell s = 0; s < N_SHELLS; s++) {
    expect_completion (h, s, "gpuvirtctl show ", set_copy (all));
    expect_completion (h, s, "gpuvirtctl types ", set_copy (vgpu));
    expect_completion (h, s, "gpuvirtctl vgpu create c8:00.0 ", set_copy (types));
    expect_completion (h, s, "gpuvirtctl vgpu create 0000:c8:00.0 nvidia-23",
                       set_with_prefix (types, "nvidia-23", NULL));
    expect_completion (h, s, "gpuvirtctl vgpu create --uuid=" UUID " c8:00.0 T4-4",
                       set_with_prefix (types, "T4-4", NULL));
    expect_completion (h, s, "gpuvirtctl vgpu create --uuid " UUID " c8:00.0 T4-4",
                       set_with_prefix (types, "T4-4", NULL));
  }

  allow_all (h);
  {
    g_autoptr (JsonNode) reply = ctl_json (h, "vgpu", "create", T4, "T4-4Q", "--uuid=" UUID, NULL);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "Object"), ==, UUID);
  }
  for (Shell s = 0; s < N_SHELLS; s++) {
    expect_completion (h, s, "gpuvirtctl vgpu remove ", vgpus (h));
    expect_completion (h, s, "gpuvirtctl vgpu remove 5b6c", set_of (UUID, NULL));
    expect_completion (h, s, "gpuvirtctl vgpu remove " UUID " ", set_new ());
  }
}

/* The addresses `gpuvirtctl mig list` gives. */
static GPtrArray *
mig_gpus (BusHarness *h)
{
  g_autoptr (JsonNode) root = ctl_json (h, "mig", "list", NULL);
  JsonArray *gpus = json_object_get_array_member (json_node_get_object (root), "Gpus");
  GPtrArray *set = set_new ();

  for (guint i = 0; i < json_array_get_length (gpus); i++)
    set_add (set, json_object_get_string_member (json_array_get_object_element (gpus, i), "Address"));
  g_assert_cmpuint (set->len, >, 0);
  return set;
}

/* The profile names, or the GPU instance ids, `gpuvirtctl mig DEVICE` gives. */
static GPtrArray *
mig_of (BusHarness *h, const char *device, gboolean instances)
{
  g_autoptr (JsonNode) root = ctl_json (h, "mig", device, NULL);
  JsonObject *mig = json_object_get_object_member (json_node_get_object (root), "Mig");
  JsonArray *rows = json_object_get_array_member (mig, instances ? "GpuInstances" : "Profiles");
  GPtrArray *set = set_new ();

  for (guint i = 0; i < json_array_get_length (rows); i++) {
    JsonObject *row = json_array_get_object_element (rows, i);
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (row, "Id"));
    set_add (set, instances ? id : json_object_get_string_member (row, "Name"));
  }
  return set;
}

/* mig-host: the MIG GPUs, the sub-verbs beside them, profiles, instances. */
static void
test_mig (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GPtrArray) gpus = mig_gpus (h);
  g_autoptr (GPtrArray) profiles = mig_of (h, A100X, FALSE);
  g_autoptr (GPtrArray) ids = NULL;
  g_autoptr (GPtrArray) first = NULL;

  g_assert_true (set_has (gpus, A100X));
  g_assert_true (set_has (profiles, "1g.10gb"));
  g_assert_true (set_has (profiles, "1g.10gb+me"));
  bus_harness_polkit_allow (h, (const char *const[]) { ACTION_MIG, NULL });
  {
    g_autoptr (JsonNode) made = ctl_json (h, "mig", "create", A100X, "1g.10gb", "--count=2", NULL);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (made), "Made")),
                      ==, 2);
  }
  ids = mig_of (h, A100X, TRUE);
  g_assert_cmpuint (ids->len, ==, 2);
  first = set_of (ids->pdata[0], NULL);

  for (Shell s = 0; s < N_SHELLS; s++) {
    g_autoptr (GPtrArray) word1 = set_copy (gpus);
    set_add (word1, "list");
    set_add (word1, "create");
    set_add (word1, "destroy");
    expect_completion (h, s, "gpuvirtctl mig ", g_steal_pointer (&word1));
    expect_completion (h, s, "gpuvirtctl mig 0000:c1:", set_of (A100X, NULL));
    expect_completion (h, s, "gpuvirtctl mig c1:00.0 ", set_of ("off", "on", NULL));
    expect_completion (h, s, "gpuvirtctl mig create ", set_copy (gpus));
    expect_completion (h, s, "gpuvirtctl mig create c1:00.0 ", set_copy (profiles));
    expect_completion (h, s, "gpuvirtctl mig create --count 2 0000:c1:00.0 1g.10gb+",
                       set_with_prefix (profiles, "1g.10gb+", NULL));
    expect_completion (h, s, "gpuvirtctl mig destroy c1:00.0 ", set_copy (ids));
    expect_completion (h, s, "gpuvirtctl mig destroy --all c1:00.0 ", set_new ());
    expect_completion (h, s, "gpuvirtctl mig destroy c1:00.0 1", set_with_prefix (first, "1", NULL));
  }
}

int
main (int argc, char **argv)
{
  const char *ctl = g_getenv ("GPUVIRTCTL");
  g_autofree char *ctl_dir = NULL;
  g_autofree char *path = NULL;

  g_test_init (&argc, &argv, NULL);
  /* the lines say "gpuvirtctl": the built one */
  g_assert_nonnull (ctl);
  ctl_dir = g_path_get_dirname (ctl);
  path = g_strdup_printf ("%s:%s", ctl_dir, g_getenv ("PATH"));
  g_setenv ("PATH", path, TRUE);
  g_setenv ("GPUVIRTCTL_COMPLETION_TIMEOUT", LIVE_TIMEOUT, TRUE);
  g_test_add_func ("/completion/vendor", test_vendor);
  g_test_add_func ("/completion/mdev", test_mdev);
  g_test_add_func ("/completion/mig", test_mig);
  return g_test_run ();
}
