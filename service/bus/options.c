/* Options a{sv} of mutating methods (see options.h). */
#include "bus/options.h"
#include "common/gv-error.h"

#include <errno.h>
#include <string.h>

static GString *
known_keys (const BusOption *known, gsize n)
{
  GString *keys = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (keys, "%s%s (%c)", i ? ", " : "", known[i].key, known[i].type);
  if (n == 0)
    g_string_append (keys, "none");
  return keys;
}

int
bus_read_options (sd_bus_message *m, const BusOption *known, gsize n_known, sd_bus_error *error)
{
  const char *key;
  int r;

  r = sd_bus_message_enter_container (m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container (m, 'e', "sv")) > 0) {
    const BusOption *opt = NULL;
    char sig[2];
    const char *contents = NULL;

    r = sd_bus_message_read (m, "s", &key);
    if (r < 0)
      return r;
    for (gsize i = 0; i < n_known && !opt; i++)
      if (g_str_equal (known[i].key, key))
        opt = &known[i];
    if (!opt) {
      g_autoptr (GString) keys = known_keys (known, n_known);
      g_autofree char *shown = gv_error_escape (key);
      return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s' (this method takes: %s)",
                                shown, keys->str);
    }
    sig[0] = opt->type;
    sig[1] = '\0';
    r = sd_bus_message_peek_type (m, NULL, &contents);
    if (r < 0)
      return r;
    if (!contents || !g_str_equal (contents, sig))
      return sd_bus_error_setf (error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' must be of type '%s', not '%s'", key,
                                sig, contents ? contents : "?");
    r = sd_bus_message_enter_container (m, 'v', sig);
    if (r < 0)
      return r;
    if (opt->type == 'b') {
      int b;
      r = sd_bus_message_read (m, "b", &b);
      *(gboolean *) opt->target = b;
    } else if (opt->type == 'u') {
      r = sd_bus_message_read (m, "u", (guint32 *) opt->target);
    } else {
      const char *s;
      r = sd_bus_message_read (m, "s", &s);
      if (r >= 0) {
        g_free (*(char **) opt->target);
        *(char **) opt->target = g_strdup (s);
      }
    }
    if (r < 0)
      return r;
    r = sd_bus_message_exit_container (m);   /* v */
    if (r >= 0)
      r = sd_bus_message_exit_container (m); /* e */
    if (r < 0)
      return r;
  }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container (m);
}
