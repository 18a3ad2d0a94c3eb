/* Which properties of a function's object differ between two snapshots,
 * so PropertiesChanged carries only what changed. */
#pragma once

#include "host/model.h"

/* Names of org.gpuvirt.Device / Sriov properties that differ between
 * OLD and NOW (NULL-terminated, possibly empty). State, StateMessage,
 * OriginalDriver and the Vgpu properties are not among them: they follow
 * operations, records or other functions too, and announce.c compares
 * their values with what it announced. */
GStrv bus_changed_device_properties (const GvHostDevice *old, const GvHostDevice *now);
GStrv bus_changed_sriov_properties (const GvHostDevice *old, const GvHostDevice *now);
