#!/usr/bin/env bash
# Load, soak and idle figures of gpuvirtd (issue 21), on the simulated
# l40s-vendor-vfio host with a private system bus, polkit mock, state
# directory and configuration of its own (tests/bus-harness.c; never the
# real /sys or /etc/gpuvirt):
#   1. idle: the daemon's wake-ups (context switches of all its threads)
#      over IDLE seconds after start, and again after the load;
#   2. load: CLIENTS concurrent clients (user nobody, each on its own bus
#      connection) x CALLS mixed calls: reads, changes polkit denies,
#      bind/give back, SR-IOV and vGPU types on devices of their own;
#      p50/p99 latency, unexpected errors (must be 0), RSS and fds before
#      and after (fds must be equal);
#   3. soak: the same load for SOAK_MINUTES, the figures every minute.
# Benchmarks print figures; the program asserts only 0 unexpected errors
# and flat fds. The meson test bus-load is the same program, 8 x 100.
#   bench/bench-load.sh [CLIENTS [CALLS [SOAK_MINUTES [IDLE]]]]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
clients=${1:-64}
calls=${2:-1000}
soak=${3:-5}
idle=${4:-60}

export GPUVIRT_SIMFS=$build/simfs/gpuvirt-simfs
export GPUVIRTD=$build/service/gpuvirtd
export GPUVIRTCTL=$build/client/gpuvirtctl
export GPUVIRT_BUS_POLICY=$top/data/org.gpuvirt.conf
export G_DEBUG=fatal-criticals
nice meson compile -C "$build" tests/test-bus-load service/gpuvirtd simfs/gpuvirt-simfs >/dev/null

echo "== idle ${idle} s, then ${clients} clients x ${calls} calls"
"$build/tests/test-bus-load" --clients "$clients" --calls "$calls" --idle "$idle" | grep -v '^#\|^ok\|^1\.\.'
if [ "$soak" -gt 0 ]; then
  echo "== soak: ${soak} minutes of ${clients} clients x 100 calls, round after round"
  "$build/tests/test-bus-load" --clients "$clients" --calls 100 --minutes "$soak" | grep -v '^#\|^ok\|^1\.\.'
fi
