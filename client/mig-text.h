/* A MIG GPU's state in words, for list, show and mig. */
#pragma once

#include "ctl.h"

/* "on", "off", or "off (on after the next reset)" from org.gpuvirt.Mig's
 * properties; "-" for NULL (no MIG). */
char *ctl_mig_mode_text (GVariant *mig);
/* "2 × 1g.10gb, 3g.40gb", "none" without instances, "-" for NULL. */
char *ctl_mig_instances_text (GVariant *mig);
