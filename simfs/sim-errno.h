#pragma once

/* 0 when the name is unknown. */
int sim_errno_from_name (const char *name);
/* "EBUSY" for EBUSY or -EBUSY, "OK" for 0. */
const char *sim_errno_name (int value);
