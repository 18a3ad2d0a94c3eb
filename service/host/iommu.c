/* IOMMU kind and interrupt remapping, from sysfs under a root prefix. */
#include "host/iommu.h"

#include <stdlib.h>
#include <string.h>

const char *
gv_host_iommu_kind (const GvHostFacts *facts)
{
  for (guint i = 0; facts->iommu_units && facts->iommu_units[i]; i++) {
    if (g_str_has_prefix (facts->iommu_units[i], "dmar"))
      return "intel";
    if (g_str_has_prefix (facts->iommu_units[i], "ivhd"))
      return "amd";
  }
  return facts->iommu_groups ? "other" : "none";
}

static char *
first_unit (const char *root, const char *prefix)
{
  g_autofree char *dir = g_build_filename (root, "sys/class/iommu", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  char *best = NULL;

  while (d && (name = g_dir_read_name (d))) {
    if (g_str_has_prefix (name, prefix) && (!best || strcmp (name, best) < 0)) {
      g_free (best);
      best = g_strdup (name);
    }
  }
  return best;
}

gboolean
gv_host_iommu_interrupt_remapping (const char *root)
{
  g_autofree char *dmar = first_unit (root, "dmar");
  g_autofree char *ivhd = NULL;
  g_autofree char *cmdline_path = NULL;
  g_autofree char *cmdline = NULL;

  if (dmar) {
    g_autofree char *path = g_build_filename (root, "sys/class/iommu", dmar, "intel-iommu/ecap", NULL);
    g_autofree char *ecap = NULL;
    if (!g_file_get_contents (path, &ecap, NULL, NULL))
      return FALSE;
    return (g_ascii_strtoull (ecap, NULL, 16) & 0x8) != 0;
  }
  ivhd = first_unit (root, "ivhd");
  if (!ivhd)
    return FALSE;
  cmdline_path = g_build_filename (root, "proc/cmdline", NULL);
  if (g_file_get_contents (cmdline_path, &cmdline, NULL, NULL) && strstr (cmdline, "intremap=off"))
    return FALSE;
  return TRUE;
}
