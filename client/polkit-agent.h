/* A polkit text agent for the duration of one call, as systemctl and
 * hostnamectl start one: pkttyagent, registered for this process, asks
 * for the password on the terminal when gpuvirtd's polkit check needs it. */
#pragma once

#include "ctl.h"

#include <sys/types.h>

/* Starts pkttyagent when a password may be asked (--no-ask-password not
 * given, stdin a terminal, not root) and waits until it is registered.
 * Returns its pid, or 0 when none runs (not wanted, or pkttyagent is not
 * installed or failed: the call goes on without it). Call it before
 * signals are blocked: the agent inherits the signal mask. */
pid_t ctl_polkit_agent_open (void);
/* Stops the agent PID (0: none) and reaps it. */
void ctl_polkit_agent_close (pid_t pid);
