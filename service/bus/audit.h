/* A journal record of every change and of who asked. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

/* MESSAGE_ID of every passthrough change record. */
#define BUS_AUDIT_MESSAGE_ID "5b3c1f8e2a7d4c6e9f0a1b2c3d4e5f60"

/* FAILURE is NULL on success; SUMMARY lists where each function ended. */
void bus_audit_operation (sd_bus_message *request, const char *operation, char **functions, const char *failure,
                          const char *summary);
