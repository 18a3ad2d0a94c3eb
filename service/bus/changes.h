/* Which properties of a function's object differ between two snapshots,
 * so PropertiesChanged carries only what changed. */
#pragma once

#include "host/model.h"

/* Names of org.gpuvirt.Device / Sriov / Vgpu properties that differ
 * between OLD and NOW (NULL-terminated, possibly empty). State and
 * StateMessage are not among them: they follow operations too, and
 * announce.c compares them with what it announced. */
GStrv bus_changed_device_properties (const GvHostDevice *old, const GvHostDevice *now);
GStrv bus_changed_sriov_properties (const GvHostDevice *old, const GvHostDevice *now);
GStrv bus_changed_vgpu_properties (const GvHostDevice *old, const GvHostDevice *now);
