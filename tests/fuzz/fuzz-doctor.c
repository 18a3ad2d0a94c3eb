/* The kernel command line and what the doctor makes of it: the input's
 * NUL-separated parts are /proc/cmdline, /proc/cpuinfo, /etc/default/grub
 * and the kernel's modules.dep, of a host without PCI functions; the
 * doctor runs every host check on them. Every finding has an id, a
 * one-line message and a fix. */
#include "fuzz.h"

#include "doctor/doctor.h"
#include "host/model.h"

#include <stdlib.h>
#include <string.h>

static const char *const files[] = {
  "proc/cmdline", "proc/cpuinfo", "etc/default/grub", "lib/modules/6.1.0-fuzz/modules.dep",
};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) parts = fuzz_split (data, size, G_N_ELEMENTS (files));
  g_autofree char *root = g_build_filename (fuzz_tmpdir (), "root", NULL);
  g_autofree char *devices = g_build_filename (root, "sys/bus/pci/devices", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GvHost) host = NULL;
  g_autoptr (GPtrArray) findings = NULL;

  fuzz_rm_tree (root);
  g_mkdir_with_parents (devices, 0700);
  fuzz_put (root, "proc/sys/kernel/osrelease", "6.1.0-fuzz\n");
  fuzz_put (root, "usr/sbin/update-grub", "#!/bin/sh\n");
  for (guint i = 0; parts[i]; i++)
    fuzz_put (root, files[i], parts[i]);
  host = gv_host_new (root, &error);
  if (!host || !gv_host_rescan (host, NULL, &error))
    g_error ("fuzz-doctor: %s", error->message);
  findings = gv_doctor_run (host, &error);
  if (!findings)
    g_error ("fuzz-doctor: %s", error->message);
  for (guint i = 0; i < findings->len; i++) {
    GvDoctorFinding *f = findings->pdata[i];
    if (!f->id || !*f->id || !f->message || !*f->message || strchr (f->message, '\n') || !f->fix)
      abort ();
  }
  return 0;
}
