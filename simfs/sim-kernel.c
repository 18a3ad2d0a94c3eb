/* .sim/kernel: the kernel's timing, as the scenario's "kernel" object
 * sets it, read and changed while the simulator runs (a test slows the
 * probe of each new VF for one case without a scenario of its own).
 *
 *   $ cat .sim/kernel
 *   sriov_enable_delay_ms=0
 *   sriov_disable_delay_ms=1000
 *   sriov_vf_delay_ms=0
 *   $ echo sriov_vf_delay_ms=100 > .sim/kernel
 */
#include "sim-model.h"
#include "sim-internal.h"

#include <errno.h>
#include <string.h>

typedef struct {
  const char *name;
  gsize offset;
} Knob;

static const Knob knobs[] = {
  { "sriov_enable_delay_ms", G_STRUCT_OFFSET (SimHost, sriov_enable_delay_ms) },
  { "sriov_disable_delay_ms", G_STRUCT_OFFSET (SimHost, sriov_disable_delay_ms) },
  { "sriov_vf_delay_ms", G_STRUCT_OFFSET (SimHost, sriov_vf_delay_ms) },
};

char *
sim_kernel_list (SimHost *host)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (knobs); i++)
    g_string_append_printf (s, "%s=%u\n", knobs[i].name, G_STRUCT_MEMBER (guint, host, knobs[i].offset));
  return g_string_free (s, FALSE);
}

/* "NAME=MS", one trailing newline allowed. */
int
sim_kernel_command (SimHost *host, const char *line)
{
  g_autofree char *copy = g_strdup (line);
  char *eq;
  guint64 value;

  g_strchomp (copy);
  eq = strchr (copy, '=');
  if (!eq)
    return -EINVAL;
  *eq = '\0';
  if (!g_ascii_string_to_unsigned (eq + 1, 10, 0, 600000, &value, NULL))
    return -EINVAL;
  for (guint i = 0; i < G_N_ELEMENTS (knobs); i++)
    if (g_str_equal (copy, knobs[i].name)) {
      G_STRUCT_MEMBER (guint, host, knobs[i].offset) = (guint) value;
      return 0;
    }
  return -EINVAL;
}
