/* Manager.Doctor(): the doctor's findings over the bus (see doctor/doctor.h). */
#pragma once

#include <systemd/sd-bus.h>

int bus_doctor_method (sd_bus_message *m, void *userdata, sd_bus_error *error);
