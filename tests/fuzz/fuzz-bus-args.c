/* The bus side's argument parsing, on D-Bus messages built from the
 * input: a device argument (a BDF as typed, or an object path), mdev
 * object paths and UUIDs, and a method's options a{sv} with keys and
 * value types the input chooses. Parts (NUL-separated): the argument
 * text, then one option each: first byte the key, second the value's
 * type, the rest its value.
 *
 * A refused argument names the problem as InvalidArgs; an accepted one
 * is canonical (parses again to itself). */
#include "fuzz.h"

#include "bus/options.h"
#include "bus/paths.h"
#include "bus/util.h"
#include "config/internal.h"
#include "host/bdf.h"
#include "vgpu/vgpu.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static sd_bus *
message_bus (void)
{
  static sd_bus *bus;
  int fds[2];

  if (bus)
    return bus;
  /* messages need a started bus; nothing is ever sent on this one */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new (&bus) < 0 ||
      sd_bus_set_fd (bus, fds[0], fds[0]) < 0 || sd_bus_start (bus) < 0)
    abort ();
  return bus;
}

static void
check_refusal (const sd_bus_error *error)
{
  if (!sd_bus_error_has_name (error, SD_BUS_ERROR_INVALID_ARGS) || !error->message || !*error->message)
    abort ();
}

static void
device_argument (const char *text)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autofree char *bdf = NULL;
  g_autofree char *path = NULL;
  g_autofree char *mdev = NULL;
  g_autofree char *uuid = NULL;
  GvHostBdf parsed;

  if (!g_utf8_validate (text, -1, NULL))
    return;   /* sd-bus refuses such a string before any handler sees it */
  bdf = bus_resolve_device_argument (text, &error);
  if (bdf) {
    g_autofree char *again = gv_host_bdf_normalize (bdf);
    g_autofree char *back = NULL;
    if (!gv_host_bdf_is_valid (bdf) || !gv_host_bdf_parse (bdf, &parsed) || g_strcmp0 (again, bdf) != 0)
      abort ();
    path = bus_device_path (bdf);
    back = bus_device_path_to_bdf (path);
    if (!sd_bus_object_path_is_valid (path) || g_strcmp0 (back, bdf) != 0)
      abort ();
  } else {
    check_refusal (&error);
  }
  sd_bus_error_free (&error);

  uuid = gv_config_normalize_uuid (text);
  if (uuid && (!gv_vgpu_uuid_is_valid (uuid) || !gv_vgpu_uuid_is_valid (text)))
    abort ();
  gv_host_bdf_parse (text, &parsed);

  /* object paths reach the handlers only valid (sd-bus checks them) */
  if (!sd_bus_object_path_is_valid (text))
    return;
  mdev = bus_mdev_path_to_uuid (text);
  if (mdev) {
    g_autofree char *mpath = bus_mdev_path (mdev);
    g_autofree char *mback = bus_mdev_path_to_uuid (mpath);
    if (!sd_bus_object_path_is_valid (mpath) || g_strcmp0 (mback, mdev) != 0)
      abort ();
  }
}

static const char *const keys[] = { "force", "persist", "count", "uuid", "allow-foreign", "", "Force", "type" };

/* Appends one {sv} entry to M from PART; FALSE when sd-bus refuses what
 * it describes (not valid UTF-8, not an object path...), as a client's
 * library would. */
static gboolean
append_entry (sd_bus_message *m, const char *part)
{
  const char *key = keys[(guchar) part[0] % G_N_ELEMENTS (keys)];
  char type = part[0] ? part[1] : '\0';
  const char *value = part[0] && part[1] ? part + 2 : "";
  guint64 number = g_ascii_strtoull (value, NULL, 10);
  int r;

  r = sd_bus_message_open_container (m, 'e', "sv");
  if (r >= 0)
    r = sd_bus_message_append (m, "s", key);
  switch (type % 8) {
  case 0: r = r < 0 ? r : sd_bus_message_append (m, "v", "b", (int) (number & 1)); break;
  case 1: r = r < 0 ? r : sd_bus_message_append (m, "v", "u", (guint32) number); break;
  case 2: r = r < 0 ? r : sd_bus_message_append (m, "v", "s", value); break;
  case 3: r = r < 0 ? r : sd_bus_message_append (m, "v", "i", (gint32) number); break;
  case 4: r = r < 0 ? r : sd_bus_message_append (m, "v", "o", value); break;
  case 5: r = r < 0 ? r : sd_bus_message_append (m, "v", "as", 2, value, key); break;
  case 6: r = r < 0 ? r : sd_bus_message_append (m, "v", "t", number); break;
  default: r = r < 0 ? r : sd_bus_message_append (m, "v", "v", "s", value); break;
  }
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  return r >= 0;
}

static void
options (GStrv parts)
{
  g_autoptr (sd_bus_message) m = NULL;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  gboolean force = FALSE, persist = FALSE;
  guint32 count = 0;
  g_autofree char *uuid = NULL;
  const BusOption known[] = {
    { "force", 'b', &force }, { "persist", 'b', &persist }, { "count", 'u', &count }, { "uuid", 's', &uuid },
  };
  int r;

  if (sd_bus_message_new_method_call (message_bus (), &m, "org.gpuvirt", "/org/gpuvirt", "org.gpuvirt.Vgpu",
                                      "CreateVgpu") < 0 ||
      sd_bus_message_open_container (m, 'a', "{sv}") < 0)
    abort ();
  for (guint i = 1; parts[i]; i++)
    if (!append_entry (m, parts[i]))
      return;
  if (sd_bus_message_close_container (m) < 0 || sd_bus_message_seal (m, 1, 0) < 0 || sd_bus_message_rewind (m, TRUE) < 0)
    abort ();
  r = bus_read_options (m, known, G_N_ELEMENTS (known), &error);
  if (r < 0 && sd_bus_error_is_set (&error))
    check_refusal (&error);
  if (r >= 0 && uuid)
    gv_vgpu_uuid_is_valid (uuid);
  sd_bus_error_free (&error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, 16);

  device_argument (parts[0]);
  options (parts);
  return 0;
}
