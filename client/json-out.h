/* The --json output, the stable scripting interface (client/README.md). */
#pragma once

#include "bus-model.h"

#include <json-glib/json-glib.h>

/* The JSON form of property NAME with value V (not variant-wrapped). */
JsonNode *ctl_json_value (const char *name, GVariant *v);
/* Every property of an a{sv}, in the daemon's order. */
JsonObject *ctl_json_props (GVariant *props);
/* One PCI function: Path, every org.gpuvirt.Device property, and "Sriov",
 * "Vgpu" and "Mig" objects with those interfaces' properties (null when
 * the object does not have the interface). */
JsonObject *ctl_json_device (BusModel *model, const char *path);
/* A node that owns OBJECT. */
JsonNode *ctl_json_take_object (JsonObject *object);
/* Prints ROOT on stdout, indented or on one line. */
void ctl_json_print (JsonNode *root, CtlJson mode);
