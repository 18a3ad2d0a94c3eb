/* The doctor's libvirt rows: each domain definition libvirt keeps
 * (DIR/NAME.xml, /etc/libvirt/qemu on a host; read-only, never through
 * libvirt) that passes a function gpuvirt manages. libvirt's own detach
 * (managed='yes') re-probes the default driver on release instead of the
 * one the function had and knows nothing of companions; a GPU without its
 * companions gives the guest half a device; a domain without gpuvirt's
 * opt-in gets nothing bound for it. Each is a row with its fix: gpuvirtctl
 * export libvirt, whose output also carries the opt-in. */
#include "doctor/doctor.h"

#include "common/libvirt-domain.h"

#include <string.h>

static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
domain_has (const GvLibvirtDomain *d, const char *address)
{
  for (guint i = 0; i < d->pci->len; i++)
    if (g_str_equal (((GvLibvirtPci *) d->pci->pdata[i])->address, address))
      return TRUE;
  return FALSE;
}

static char *
export_fix (const char *name, const char *gpu)
{
  return g_strdup_printf ("Run: gpuvirtctl export libvirt %s\n"
                          "Then in 'virsh edit %s' (or virt-manager's XML view) replace the domain's <hostdev> "
                          "elements of it with the ones printed, and add the gpuvirt element printed to <metadata>",
                          gpu, name);
}

static void
check_domain (GvHost *host, const char *file, const GvLibvirtDomain *d, GPtrArray *findings)
{
  g_autoptr (GPtrArray) gpus = g_ptr_array_new_with_free_func (g_free);
  guint problems = 0;

  for (guint i = 0; i < d->pci->len; i++) {
    const GvLibvirtPci *p = d->pci->pdata[i];
    GvHostDevice *device = gv_host_lookup (host, p->address);
    const char *gpu;
    gboolean seen = FALSE;

    if (!device || !device->managed)
      continue;
    gpu = device->role == GV_HOST_ROLE_COMPANION && device->owner ? device->owner : p->address;
    if (p->managed) {
      g_autofree char *m = g_strdup_printf ("Domain '%s' passes %s with managed='yes': libvirt detaches it itself, "
                                            "gives it to the default driver on release instead of the one it had, "
                                            "and leaves its companions on the host",
                                            d->name, p->address);
      g_autofree char *fix = export_fix (d->name, gpu);
      g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_LIBVIRT_MANAGED, GV_DOCTOR_SEVERITY_WARNING, file, m,
                                                        fix));
      problems++;
    }
    for (guint j = 0; j < gpus->len; j++)
      seen |= g_str_equal (gpus->pdata[j], gpu);
    if (!seen)
      g_ptr_array_add (gpus, g_strdup (gpu));
  }

  for (guint i = 0; i < gpus->len; i++) {
    const char *gpu = gpus->pdata[i];
    GvHostDevice *device = gv_host_lookup (host, gpu);
    g_autoptr (GString) missing = g_string_new (NULL);

    if (!domain_has (d, gpu))
      g_string_append (missing, gpu);
    for (guint j = 0; device && device->companions && device->companions[j]; j++)
      if (!domain_has (d, device->companions[j]))
        g_string_append_printf (missing, "%s%s", missing->len ? ", " : "", device->companions[j]);
    if (missing->len) {
      g_autofree char *m = g_strdup_printf ("Domain '%s' passes part of %s but not %s: they are bound to vfio-pci "
                                            "together, and the guest gets only what the domain lists",
                                            d->name, gpu, missing->str);
      g_autofree char *fix = export_fix (d->name, gpu);
      g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_LIBVIRT_COMPANIONS, GV_DOCTOR_SEVERITY_WARNING, file,
                                                        m, fix));
      problems++;
    }
    if (!d->opted_in) {
      g_autofree char *m = g_strdup_printf ("Domain '%s' passes %s without gpuvirt's opt-in in its <metadata>: "
                                            "nothing binds it before the domain starts or gives it back after",
                                            d->name, gpu);
      g_autofree char *fix = export_fix (d->name, gpu);
      g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_LIBVIRT_OPT_IN, GV_DOCTOR_SEVERITY_WARNING, file, m,
                                                        fix));
      problems++;
    }
  }
  if (gpus->len && problems == 0) {
    g_autofree char *m = g_strdup_printf ("Domain '%s' passes its devices with managed='no', companions included, and "
                                          "opts in to gpuvirt's hook",
                                          d->name);
    g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_LIBVIRT_DOMAIN, GV_DOCTOR_SEVERITY_OK, file, m, NULL));
  }
}

void
gv_doctor_check_libvirt (GvHost *host, const char *dir, GPtrArray *findings)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".xml") && name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *file = g_build_filename (dir, names->pdata[i], NULL);
    g_autofree char *xml = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (GvLibvirtDomain) domain = NULL;
    gsize length = 0;

    if (!g_file_get_contents (file, &xml, &length, &error)
        || !(domain = gv_libvirt_domain_parse (xml, (gssize) length, &error))) {
      g_autofree char *m = g_strdup_printf ("Could not read the libvirt domain %s: %s", file, error->message);
      g_ptr_array_add (findings, gv_doctor_finding_new (GV_DOCTOR_LIBVIRT_DOMAIN, GV_DOCTOR_SEVERITY_INFO, file, m, NULL));
      continue;
    }
    check_domain (host, file, domain, findings);
  }
}
