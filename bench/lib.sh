# Shared by the benchmark scripts: a simulated host, a private system bus
# and gpuvirtd on it. Benchmarks print figures; they assert nothing.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$top/build}
work=$(mktemp -d /tmp/gpuvirt-bench-XXXXXX)
chmod 755 "$work"
mnt=$work/root
mkdir -p "$mnt" "$work/state"
pids=()

# Processes started in a command substitution (t=$(start_daemon)) run in
# a subshell whose pids+=() is lost: those write their pid to this file.
pidfile=$work/pids

cleanup() {
  local p
  if [ -f "$pidfile" ]; then while read -r p; do pids+=("$p"); done < "$pidfile"; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # they are not this shell's children when started in a subshell
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
  wait 2>/dev/null || true
  fusermount3 -u -z "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

start_bus() {
  cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$work/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>
CONF
  dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile & pids+=($!)
  export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus
  for _ in $(seq 100); do [ -S "$work/bus" ] && return; sleep 0.02; done
  echo "bench: dbus-daemon did not start" >&2; exit 1
}

name_owned() {
  busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.gpuvirt 2>/dev/null | grep -q true
}

# start_daemon: prints the start-to-ready time in ms
start_daemon() {
  local t0 t1
  t0=$(now_ms)
  "$build/service/gpuvirtd" --root "$mnt" --state-dir "$work/state" --config "$work/gpuvirt.conf" >"$work/gpuvirtd.log" 2>&1 &
  pids+=($!); echo $! >> "$pidfile"
  until name_owned; do sleep 0.005; done
  t1=$(now_ms)
  echo $((t1 - t0))
}

# mean_ms N CMD...: mean wall time of N runs, in ms
mean_ms() {
  local n=$1; shift
  local t0 t1
  t0=$(now_ms)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done
  t1=$(now_ms)
  echo "scale=1; ($t1 - $t0) / $n" | bc
}
