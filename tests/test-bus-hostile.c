/* Hostile input over the bus (issue 21): every method of every interface
 * of the XML files of dbus/, read from them so that a new method is covered by
 * the generated cases at once, called with malformed addresses ("../",
 * overlong, control characters), unknown and wrong-typed option keys,
 * huge counts, invalid UUIDs and object paths, megabyte configuration
 * texts, the wrong signature, and on an object that does not exist.
 * polkit allows everything, so that only input validation stands
 * between a call and the simulated host. Each call must be answered
 * with a named error (org.gpuvirt.Error.*, or InvalidArgs for what is
 * malformed, or InconsistentMessage from sd-bus for a string it does
 * not take) whose message says what is wrong, escaped and short;
 * nothing is written (the simulator's write log stays empty, the
 * configuration file is not made); the daemon keeps serving after every
 * call and reports no sanitizer error. A method of the XML that the
 * table below does not name fails the test: each needs an object to be
 * called on. org.gpuvirt.Mig's methods are called on a MIG GPU, the A100
 * in MIG mode of the mig-host scenario, with the test NVML (/hostile/mig).
 *
 * Also: a process holding a GPU's node under a name that is not UTF-8
 * (any local user can name a process so) does not break the replies
 * that list holders. */
#include "bus-harness.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define A40 "0000:67:00.0"
#define A100X "0000:c1:00.0"  /* mig-host: MIG mode on */
#define UUID_A "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f"
#define UUID_A_PATH "/org/gpuvirt/mdevs/5b6c0f1e_2a3d_4c5b_8e9f_0a1b2c3d4e5f"
#define MANAGER_PATH "/org/gpuvirt"
#define MAX_MESSAGE 4096

/* Where each method is called: the Manager, the A40 (a GPU and SR-IOV
 * PF), its first VF (an mdev parent holding UUID_A), that mdev; or the
 * A100 in MIG mode of another gpuvirtd (/hostile/mig). */
typedef enum { ON_MANAGER, ON_GPU, ON_VF, ON_MDEV, ON_MIG } Target;

static const struct {
  const char *interface;
  const char *method;
  Target target;
  gboolean answers_problems;  /* may answer with a reply that lists problems */
} methods[] = {
  { "org.gpuvirt.Manager", "GetDevice", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "Refresh", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "BindVfio", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "GiveBack", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "Unbind", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "Doctor", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "GetConfig", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "CheckConfig", ON_MANAGER, TRUE },
  { "org.gpuvirt.Manager", "SaveConfig", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "ReloadConfig", ON_MANAGER, FALSE },
  { "org.gpuvirt.Manager", "ApplyConfig", ON_MANAGER, FALSE },
  { "org.gpuvirt.Device", "BindVfio", ON_GPU, FALSE },
  { "org.gpuvirt.Device", "GiveBack", ON_GPU, FALSE },
  { "org.gpuvirt.Device", "Unbind", ON_GPU, FALSE },
  { "org.gpuvirt.Sriov", "SetNumVfs", ON_GPU, FALSE },
  { "org.gpuvirt.Vgpu", "SetType", ON_VF, FALSE },
  { "org.gpuvirt.Vgpu", "ReleaseType", ON_VF, FALSE },
  { "org.gpuvirt.Vgpu", "CreateMdev", ON_VF, FALSE },
  { "org.gpuvirt.Vgpu", "CreateVgpu", ON_GPU, FALSE },
  { "org.gpuvirt.Vgpu", "CreateVgpus", ON_GPU, FALSE },
  { "org.gpuvirt.Vgpu", "RemoveVgpu", ON_GPU, FALSE },
  { "org.gpuvirt.Mdev", "Remove", ON_MDEV, FALSE },
  { "org.gpuvirt.Mig", "SetMode", ON_MIG, FALSE },
  { "org.gpuvirt.Mig", "CreateGpuInstances", ON_MIG, FALSE },
  { "org.gpuvirt.Mig", "DestroyGpuInstances", ON_MIG, FALSE },
};

typedef struct {
  BusHarness *h;
  GDBusConnection *c;
  char *vf;
  guint calls;
  GHashTable *per_method;   /* "iface.method" -> calls made */
} Ctx;

/* ---- hostile values, by D-Bus type ---- */

static GPtrArray *
hostile_strings (void)
{
  GPtrArray *s = g_ptr_array_new_with_free_func (g_free);
  GString *zeros = g_string_new ("0000:");

  g_ptr_array_add (s, g_strdup ("../../../sys/bus/pci/devices/" A40));
  g_ptr_array_add (s, g_strdup (A40 "/../../../etc/passwd"));
  g_ptr_array_add (s, g_strdup ("/org/gpuvirt/devices/../devices/pci_0000_67_00_0"));
  g_ptr_array_add (s, g_strnfill (70000, 'A'));
  for (guint i = 0; i < 2000; i++)
    g_string_append_c (zeros, '0');
  g_string_append (zeros, ":67:00.0");
  g_ptr_array_add (s, g_string_free (zeros, FALSE));
  g_ptr_array_add (s, g_strdup (A40 "\n"));
  g_ptr_array_add (s, g_strdup ("\x1b[2J\x1b[31mred\r\a"));
  g_ptr_array_add (s, g_strdup ("0000:67:00.0\t0000:67:00.1"));
  g_ptr_array_add (s, g_strdup ("0000:67:00.8"));
  g_ptr_array_add (s, g_strdup ("0000:ff:1f.7"));
  g_ptr_array_add (s, g_strdup ("5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e5"));
  g_ptr_array_add (s, g_strdup ("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"));
  g_ptr_array_add (s, g_strdup (UUID_A "/../x"));
  g_ptr_array_add (s, g_strdup ("nvidia-562/../../remove"));
  g_ptr_array_add (s, g_strdup ("A40-8Q\nA40-8Q"));
  g_ptr_array_add (s, g_strdup ("%s%s%s%n"));
  g_ptr_array_add (s, g_strdup ("\xef\xbf\xbf\xe2\x80\xae"));
  return s;
}

static GVariant *
options_of (const char *const *keys, GVariant *const *values, guint n)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  for (guint i = 0; i < n; i++)
    g_variant_builder_add (&b, "{sv}", keys[i], values[i]);
  return g_variant_builder_end (&b);
}

static GPtrArray *
hostile_options (void)
{
  GPtrArray *o = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariantBuilder many;

  g_ptr_array_add (o, g_variant_ref_sink (options_of ((const char *[]) { "bogus" },
                                                      (GVariant *[]) { g_variant_new_boolean (TRUE) }, 1)));
  g_ptr_array_add (o, g_variant_ref_sink (options_of ((const char *[]) { "force" },
                                                      (GVariant *[]) { g_variant_new_string ("yes") }, 1)));
  g_ptr_array_add (o, g_variant_ref_sink (options_of ((const char *[]) { "persist" },
                                                      (GVariant *[]) { g_variant_new_uint32 (1) }, 1)));
  g_ptr_array_add (o, g_variant_ref_sink (options_of ((const char *[]) { "" },
                                                      (GVariant *[]) { g_variant_new_string ("") }, 1)));
  g_ptr_array_add (o, g_variant_ref_sink (options_of ((const char *[]) { "force\n\x1b[31m" },
                                                      (GVariant *[]) { g_variant_new_boolean (TRUE) }, 1)));
  g_ptr_array_add (o, g_variant_ref_sink (options_of ((const char *[]) { "uuid" },
                                                      (GVariant *[]) { g_variant_new_variant (g_variant_new_string (UUID_A)) }, 1)));
  g_variant_builder_init (&many, G_VARIANT_TYPE ("a{sv}"));
  for (guint i = 0; i < 2000; i++) {
    g_autofree char *key = g_strdup_printf ("key%u", i);
    g_variant_builder_add (&many, "{sv}", key, g_variant_new_uint32 (i));
  }
  g_ptr_array_add (o, g_variant_ref_sink (g_variant_builder_end (&many)));
  return o;
}

static GVariant *
benign (Ctx *ctx, const GDBusArgInfo *arg, const char *method)
{
  const char *sig = arg->signature;

  if (g_str_equal (sig, "a{sv}"))
    return g_variant_new ("a{sv}", NULL);
  if (g_str_equal (sig, "as"))
    return g_variant_new_strv ((const char *[]) { A40 }, 1);
  if (g_str_equal (sig, "u"))
    return g_variant_new_uint32 (g_str_equal (arg->name, "count") ? 1 : 0);
  if (g_str_equal (sig, "b"))
    return g_variant_new_boolean (TRUE);
  if (g_str_equal (sig, "au")) {
    const guint32 none[] = { 77 };   /* no such GPU instance */
    return g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, none, 1, sizeof (guint32));
  }
  if (g_str_equal (sig, "o"))
    return g_variant_new_object_path (UUID_A_PATH);
  if (g_str_equal (sig, "s")) {
    if (g_str_equal (arg->name, "type"))
      return g_variant_new_string ("A40-8Q");
    if (g_str_equal (arg->name, "uuid"))
      return g_variant_new_string ("0e3b6d3a-6c43-4c1f-9a0e-6f3f3b2a9d10");
    if (g_str_equal (arg->name, "text"))
      return g_variant_new_string ("");
    if (g_str_equal (arg->name, "profile"))
      return g_variant_new_string ("1g.10gb");
    return g_variant_new_string (A40);
  }
  g_error ("%s: no benign value for an argument of type %s: add one", method, sig);
}

/* Values of SIG that must be refused. */
static GPtrArray *
hostile_values (const char *sig, const char *arg_name, GPtrArray *strings, GPtrArray *options)
{
  GPtrArray *v = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  if (g_str_equal (sig, "s")) {
    for (guint i = 0; i < strings->len; i++)
      g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_string (strings->pdata[i])));
    if (g_str_equal (arg_name, "text")) {
      /* a megabyte of configuration: over the limit, and under it but garbage */
      g_autofree char *over = g_strnfill (1024 * 1024 + 1, '#');
      GString *garbage = g_string_new (NULL);
      while (garbage->len < 1000 * 1024)
        g_string_append (garbage, "[Device 0000:67:00.0]\nId=10de:2235\nNumVfs=99999999999\n[[\x1b\n");
      g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_string (over)));
      g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_take_string (g_string_free (garbage, FALSE))));
    }
  } else if (g_str_equal (sig, "as")) {
    const char *many[5000];
    for (guint i = 0; i < strings->len; i++)
      g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_strv ((const char *[]) { strings->pdata[i] }, 1)));
    for (guint i = 0; i < G_N_ELEMENTS (many); i++)
      many[i] = "0000:ff:1f.7";
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_strv (many, G_N_ELEMENTS (many))));
  } else if (g_str_equal (sig, "u")) {
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_uint32 (G_MAXUINT32)));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_uint32 (65536)));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_uint32 (4097)));
  } else if (g_str_equal (sig, "o")) {
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_object_path ("/")));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_object_path ("/org/gpuvirt/mdevs/00000000_0000_0000_0000_000000000000")));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_object_path ("/org/gpuvirt/mdevs/zzzzzzzz_zzzz_zzzz_zzzz_zzzzzzzzzzzz")));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_object_path ("/org/gpuvirt/devices/pci_0000_ff_1f_7")));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_object_path ("/org/gpuvirt/devices/pci_0000_00_00_0")));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_object_path ("/org/gpuvirt/devices/pci_" "0000_67_00_0_0")));
  } else if (g_str_equal (sig, "a{sv}")) {
    for (guint i = 0; i < options->len; i++)
      g_ptr_array_add (v, g_variant_ref ((GVariant *) options->pdata[i]));
  } else if (g_str_equal (sig, "au")) {
    guint32 many[5000];
    const guint32 huge[] = { G_MAXUINT32 }, zero[] = { 0 };
    for (guint i = 0; i < G_N_ELEMENTS (many); i++)
      many[i] = 77 + i;
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, huge, 1,
                                                                       sizeof (guint32))));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, zero, 1,
                                                                       sizeof (guint32))));
    g_ptr_array_add (v, g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, many,
                                                                       G_N_ELEMENTS (many), sizeof (guint32))));
  } else if (g_str_equal (sig, "b")) {
    /* a boolean cannot be malformed: the other arguments are */
  } else {
    g_error ("no hostile values for D-Bus type %s: add them", sig);
  }
  return v;
}

/* ---- one call ---- */

static gboolean
has_control (const char *text)
{
  /* a newline separates the rows of a list (a configuration's problems) */
  for (const char *p = text; *p; p++)
    if (((guchar) *p < 0x20 && *p != '\n') || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static void
daemon_serves (Ctx *ctx, const char *after)
{
  g_autofree char *name = NULL, *message = NULL;
  g_autoptr (GVariant) reply = bus_harness_call (ctx->c, MANAGER_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                                                 g_variant_new ("(s)", "org.gpuvirt.Manager"), NULL, &name, &message);
  if (!reply) {
    g_autofree char *log = bus_harness_daemon_log (ctx->h);
    g_error ("gpuvirtd stopped serving after %s: %s: %s\n%s", after, name, message, log);
  }
}

/* Calls and checks; UNKNOWN_OBJECT: the path does not exist. */
static void
hostile_call (Ctx *ctx, const char *path, const char *iface, const char *method, GVariant *params,
              gboolean answers_problems, gboolean unknown_object, const char *what)
{
  g_autofree char *name = NULL, *message = NULL;
  g_autofree char *label = g_strdup_printf ("%s.%s on %s with %s", iface, method, path, what);
  g_autofree char *key = g_strdup_printf ("%s.%s", iface, method);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *log = NULL;

  g_variant_ref_sink (params);
  reply = bus_harness_call (ctx->c, path, iface, method, params, NULL, &name, &message);
  g_variant_unref (params);
  ctx->calls++;
  g_hash_table_insert (ctx->per_method, g_strdup (key),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (ctx->per_method, key)) + 1));

  if (reply) {
    GVariant *problems = NULL;
    if (!answers_problems)
      g_error ("%s: accepted (%s)", label, g_variant_print (reply, FALSE));
    problems = g_variant_get_child_value (reply, 0);
    if (g_variant_n_children (problems) == 0)
      g_error ("%s: accepted without a problem", label);
    g_variant_unref (problems);
  } else {
    const char *text;
    g_assert_nonnull (name);
    if (unknown_object) {
      if (!g_str_equal (name, "org.freedesktop.DBus.Error.UnknownObject") &&
          !g_str_equal (name, "org.freedesktop.DBus.Error.UnknownMethod") &&
          !g_str_equal (name, "org.freedesktop.DBus.Error.UnknownInterface"))
        g_error ("%s: %s: %s", label, name, message);
    } else if (!g_str_has_prefix (name, "org.gpuvirt.Error.") &&
               !g_str_equal (name, "org.freedesktop.DBus.Error.InvalidArgs") &&
               /* sd-bus refuses Unicode noncharacters (U+FFFF), which GLib sends */
               !g_str_equal (name, "org.freedesktop.DBus.Error.InconsistentMessage")) {
      g_error ("%s: answered %s (%s), not a named error of gpuvirt or InvalidArgs", label, name, message);
    }
    text = message;
    if (g_str_has_prefix (text, "GDBus.Error:") && strstr (text, ": "))
      text = strstr (text, ": ") + 2;
    if (!*text || has_control (text) || strlen (text) > MAX_MESSAGE)
      g_error ("%s: %s with a message that does not say what is wrong in escaped text of at most %d bytes "
               "(%zu bytes): %.300s", label, name, MAX_MESSAGE, strlen (text), text);
  }
  log = bus_harness_sim_log (ctx->h);
  if (*log)
    g_error ("%s: wrote to the host:\n%s", label, log);
  daemon_serves (ctx, label);
}

static Target
target_of (const char *iface, const char *method, gboolean *answers_problems)
{
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].interface, iface) && g_str_equal (methods[i].method, method)) {
      *answers_problems = methods[i].answers_problems;
      return methods[i].target;
    }
  g_error ("%s.%s (dbus/) has no hostile case in tests/test-bus-hostile.c: name the object to call it on", iface,
           method);
}

static char *
path_of (Ctx *ctx, Target target)
{
  switch (target) {
  case ON_MANAGER: return g_strdup (MANAGER_PATH);
  case ON_GPU: return bus_harness_device_path (A40);
  case ON_VF: return bus_harness_device_path (ctx->vf);
  case ON_MDEV: return g_strdup (UUID_A_PATH);
  case ON_MIG: return bus_harness_device_path (A100X);
  default: g_assert_not_reached ();
  }
}

static GVariant *
args_with (Ctx *ctx, const GDBusMethodInfo *m, guint hostile_index, GVariant *hostile)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_TUPLE);
  for (guint i = 0; m->in_args && m->in_args[i]; i++)
    g_variant_builder_add_value (&b, i == hostile_index ? hostile : benign (ctx, m->in_args[i], m->name));
  return g_variant_builder_end (&b);
}

static void
hostile_method (Ctx *ctx, const char *iface, const GDBusMethodInfo *m, GPtrArray *strings, GPtrArray *options)
{
  gboolean answers_problems = FALSE;
  Target target = target_of (iface, m->name, &answers_problems);
  g_autofree char *path = path_of (ctx, target);

  /* each argument in turn hostile, the others as a caller would give them */
  for (guint a = 0; m->in_args && m->in_args[a]; a++) {
    g_autoptr (GPtrArray) values = hostile_values (m->in_args[a]->signature, m->in_args[a]->name, strings, options);
    for (guint i = 0; i < values->len; i++) {
      g_autofree char *shown = g_variant_print (values->pdata[i], FALSE);
      g_autofree char *what = g_strdup_printf ("%s = %.80s%s", m->in_args[a]->name, shown,
                                               strlen (shown) > 80 ? "..." : "");
      hostile_call (ctx, path, iface, m->name, args_with (ctx, m, a, values->pdata[i]), answers_problems, FALSE, what);
    }
  }
  /* the wrong signature */
  hostile_call (ctx, path, iface, m->name, g_variant_new ("(ius)", -1, G_MAXUINT32, "../"), FALSE, FALSE,
                "the signature (ius)");
  /* an object that does not exist (or is no device) */
  if (target != ON_MANAGER) {
    hostile_call (ctx, "/org/gpuvirt/devices/pci_0000_ff_1f_7", iface, m->name, args_with (ctx, m, G_MAXUINT, NULL),
                  FALSE, TRUE, "a device that is not there");
    hostile_call (ctx, "/org/gpuvirt/mdevs/00000000_0000_0000_0000_000000000000", iface, m->name,
                  args_with (ctx, m, G_MAXUINT, NULL), FALSE, TRUE, "an mdev that is not there");
  }
}

/* ---- the test ---- */

static void
setup (Ctx *ctx)
{
  g_autofree char *name = NULL, *message = NULL;
  g_autofree char *pf_path = bus_harness_device_path (A40);
  g_autofree char *vf_path = NULL;
  GVariant *reply;

  bus_harness_polkit_allow (ctx->h, (const char *const[]) { "org.gpuvirt.assign-device",
                                                            "org.gpuvirt.assign-device-force",
                                                            "org.gpuvirt.configure-sriov",
                                                            "org.gpuvirt.configure-vgpu",
                                                            "org.gpuvirt.modify-config", NULL });
  reply = bus_harness_call (ctx->c, pf_path, "org.gpuvirt.Sriov", "SetNumVfs", g_variant_new ("(ua{sv})", 2, NULL),
                            NULL, &name, &message);
  if (!reply)
    g_error ("SetNumVfs: %s: %s", name, message);
  g_variant_unref (reply);
  ctx->vf = bus_harness_vf_bdf (A40, 0);
  vf_path = bus_harness_device_path (ctx->vf);
  reply = bus_harness_call (ctx->c, vf_path, "org.gpuvirt.Vgpu", "CreateMdev",
                            g_variant_new ("(ssa{sv})", "A40-8Q", UUID_A, NULL), NULL, &name, &message);
  if (!reply)
    g_error ("CreateMdev: %s: %s", name, message);
  g_variant_unref (reply);
  bus_harness_drain ();
  bus_harness_clear_sim_log (ctx->h);
}

static GPtrArray *
contract_interfaces (void)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_dbus_node_info_unref);
  g_autoptr (GDir) dir = g_dir_open (CONTRACT_DIR, 0, NULL);
  const char *file;

  g_assert_nonnull (dir);
  while ((file = g_dir_read_name (dir))) {
    g_autofree char *path = g_build_filename (CONTRACT_DIR, file, NULL);
    g_autofree char *xml = NULL;
    g_autoptr (GError) error = NULL;
    GDBusNodeInfo *node;

    if (!g_str_has_suffix (file, ".xml"))
      continue;
    g_assert_true (g_file_get_contents (path, &xml, NULL, NULL));
    node = g_dbus_node_info_new_for_xml (xml, &error);
    g_assert_no_error (error);
    g_ptr_array_add (nodes, node);
  }
  g_assert_cmpuint (nodes->len, >=, 5);
  return nodes;
}

static void
test_every_method (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GPtrArray) nodes = contract_interfaces ();
  g_autoptr (GPtrArray) strings = hostile_strings ();
  g_autoptr (GPtrArray) options = hostile_options ();
  Ctx ctx = { h, c, NULL, 0, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };
  guint n_methods = 0;
  g_autofree char *log = NULL;

  setup (&ctx);
  for (guint n = 0; n < nodes->len; n++) {
    GDBusNodeInfo *node = nodes->pdata[n];
    for (guint i = 0; node->interfaces && node->interfaces[i]; i++) {
      GDBusInterfaceInfo *iface = node->interfaces[i];
      for (guint m = 0; iface->methods && iface->methods[m]; m++) {
        g_autofree char *key = g_strdup_printf ("%s.%s", iface->name, iface->methods[m]->name);
        gboolean answers_problems;
        n_methods++;
        /* MIG GPUs are another scenario's: /hostile/mig */
        if (target_of (iface->name, iface->methods[m]->name, &answers_problems) == ON_MIG)
          continue;
        hostile_method (&ctx, iface->name, iface->methods[m], strings, options);
        /* every method gets at least its generated cases */
        g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (ctx.per_method, key)), >=, 1);
      }
    }
  }
  g_assert_cmpuint (n_methods, ==, G_N_ELEMENTS (methods));
  g_test_message ("%u hostile calls on %u methods", ctx.calls, n_methods);
  g_print ("# %u hostile calls on %u methods: each a named error, nothing written\n", ctx.calls, n_methods);

  /* nothing made the configuration file either */
  g_assert_false (g_file_test (h->config, G_FILE_TEST_EXISTS));
  log = bus_harness_daemon_log (h);
  g_assert_null (strstr (log, "runtime error"));
  g_assert_null (strstr (log, "AddressSanitizer"));
  g_assert_null (strstr (log, "LeakSanitizer"));
  g_assert_cmpint (kill (h->daemon_pid, 0), ==, 0);
  g_hash_table_unref (ctx.per_method);
  g_free (ctx.vf);
}

/* org.gpuvirt.Mig's methods on the A100 in MIG mode (mig-host, the test
 * NVML), polkit allowing everything: every hostile argument refused with
 * a named error, nothing written to sysfs or asked of NVML (its changes
 * are writes in the simulator's log), gpuvirtd serving. */
static void
test_mig (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("mig-host");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autoptr (GPtrArray) nodes = contract_interfaces ();
  g_autoptr (GPtrArray) strings = hostile_strings ();
  g_autoptr (GPtrArray) options = hostile_options ();
  Ctx ctx = { h, c, NULL, 0, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };
  guint n_methods = 0;
  g_autofree char *log = NULL;

  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.configure-mig", "org.gpuvirt.modify-config",
                                                       NULL });
  bus_harness_drain ();
  bus_harness_clear_sim_log (h);
  for (guint n = 0; n < nodes->len; n++) {
    GDBusNodeInfo *node = nodes->pdata[n];
    for (guint i = 0; node->interfaces && node->interfaces[i]; i++) {
      GDBusInterfaceInfo *iface = node->interfaces[i];
      for (guint m = 0; iface->methods && iface->methods[m]; m++) {
        g_autofree char *key = g_strdup_printf ("%s.%s", iface->name, iface->methods[m]->name);
        gboolean answers_problems;
        if (target_of (iface->name, iface->methods[m]->name, &answers_problems) != ON_MIG)
          continue;
        hostile_method (&ctx, iface->name, iface->methods[m], strings, options);
        g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (ctx.per_method, key)), >=, 1);
        n_methods++;
      }
    }
  }
  g_assert_cmpuint (n_methods, ==, 3);
  g_print ("# %u hostile calls on the %u methods of org.gpuvirt.Mig: each a named error, nothing written\n",
           ctx.calls, n_methods);
  g_assert_false (g_file_test (h->config, G_FILE_TEST_EXISTS));
  log = bus_harness_daemon_log (h);
  g_assert_null (strstr (log, "runtime error"));
  g_assert_null (strstr (log, "AddressSanitizer"));
  g_assert_cmpint (kill (h->daemon_pid, 0), ==, 0);
  g_hash_table_unref (ctx.per_method);
}

/* A holder of the A40's /dev/nvidia0 whose name is not UTF-8 (a process
 * writes any bytes to /proc/self/comm): the GPU's Holders and every reply
 * that lists them still go out, the name shown with U+FFFD. */
static void
test_holder_not_utf8 (void)
{
  g_autoptr (BusHarness) h = bus_harness_start ("a40-mdev");
  g_autoptr (GDBusConnection) c = bus_harness_connect (h->address);
  g_autofree char *node = sim_mount_path (h->mount, "dev/nvidia0");
  g_autofree char *script = g_strdup_printf ("printf '\\377\\376holder' > /proc/self/comm; exec 3< '%s'; "
                                             "echo ready; while :; do sleep 1; done", node);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autofree char *name = NULL, *message = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) objects = NULL;
  g_autoptr (GVariant) holders = NULL;
  g_autofree char *path = bus_harness_device_path (A40);
  g_autofree char *printed = NULL;
  GPid pid;
  int out_fd;
  char buf[8];

  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &pid, NULL,
                                           &out_fd, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (read (out_fd, buf, sizeof buf), >, 0);   /* "ready": the node is open */
  close (out_fd);

  EXPECT_OK (bus_harness_call (c, MANAGER_PATH, "org.gpuvirt.Manager", "Refresh", NULL, NULL, &ok_name, &ok_message));
  objects = bus_harness_call (c, MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
                              NULL, &name, &message);
  if (!objects)
    g_error ("GetManagedObjects with a holder named in other than UTF-8: %s: %s", name, message);
  holders = bus_harness_get_property (c, path, "org.gpuvirt.Device", "Holders");
  printed = g_variant_print (holders, FALSE);
  g_test_message ("Holders: %s", printed);
  g_assert_nonnull (strstr (printed, "\xef\xbf\xbd"));   /* U+FFFD */
  g_assert_nonnull (strstr (printed, "holder"));
  /* a change refused for it names it too, in UTF-8 */
  bus_harness_polkit_allow (h, (const char *const[]) { "org.gpuvirt.assign-device", NULL });
  EXPECT_ERROR (bus_harness_call (c, path, "org.gpuvirt.Device", "BindVfio", g_variant_new ("(a{sv})", NULL), NULL,
                                  &err_name, &err_message),
                "org.gpuvirt.Error.HeldByProcesses", "holder");
  bus_harness_assert_no_writes (h);

  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  g_spawn_close_pid (pid);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hostile/every-method", test_every_method);
  g_test_add_func ("/hostile/holder-not-utf8", test_holder_not_utf8);
  g_test_add_func ("/hostile/mig", test_mig);
  return g_test_run ();
}
