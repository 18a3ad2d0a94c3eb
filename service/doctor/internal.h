/* What doctor.c (host checks) and doctor-gpu.c (per-GPU checks) share. */
#pragma once

#include "doctor/doctor.h"
#include "host/names.h"

typedef struct {
  GvHost *host;
  const char *root;
  GvHostFacts *facts;     /* read fresh for this run */
  GvHostNames *names;     /* for class names */
  GStrv cmdline;          /* ROOT/proc/cmdline split into words, up to a lone "--" */
  const char *cpu;        /* "intel", "amd" or NULL */
  GPtrArray *findings;
} GvDoctorRun;

/* Appends a finding; takes MESSAGE and FIX (FIX may be NULL). */
void gv_doctor_add (GvDoctorRun *d, const char *id, GvDoctorSeverity severity, const char *subject, char *message, char *fix);

/* The per-GPU rows (doctor-gpu.c). FALSE only when ROOT/proc cannot be read. */
gboolean gv_doctor_check_devices (GvDoctorRun *d, GError **error);
