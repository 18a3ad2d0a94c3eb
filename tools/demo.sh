#!/usr/bin/env bash
# The README's demo command: builds gpuvirt, mounts the built-in simulated
# host "workstation" (an iGPU, and an NVIDIA GPU with HDMI audio, USB and
# UCSI functions), starts a private system bus with gpuvirt's own policy and
# gpuvirtd on it, and tours gpuvirtctl. Nothing here touches this
# machine's /sys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
meson compile -C build >/dev/null

work=$(mktemp -d /tmp/gpuvirt-demo-XXXXXX)
chmod 755 "$work"
mnt=$work/root
mnt2=$work/root-l40s
mkdir -p "$mnt" "$mnt2"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  fusermount3 -u -z "$mnt" 2>/dev/null || true
  fusermount3 -u -z "$mnt2" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
ctl() { show gpuvirtctl "$@"; }
gpuvirtctl() { "$PWD/build/client/gpuvirtctl" "$@"; }

step "A simulated host: a FUSE sysfs that answers writes as Linux does"
show build/simfs/gpuvirt-simfs workstation "$mnt"
show lspci -A linux-sysfs -O sysfs.path="$mnt/sys/bus/pci" -nnk -s 01:00 2>/dev/null

step "A private system bus with gpuvirt's own bus policy, and gpuvirtd serving the simulated host"
cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><deny own="*"/><deny send_type="method_call"/>
    <allow send_type="signal"/><allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/><allow receive_type="method_call"/>
    <allow receive_type="method_return"/><allow receive_type="error"/><allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>$PWD/data/org.gpuvirt.conf</include>
</busconfig>
CONF
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile & pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/system_bus_socket
for _ in $(seq 100); do [ -S "$work/system_bus_socket" ] && break; sleep 0.05; done
build/service/gpuvirtd --root "$mnt" --state-dir "$work/state" --config "$work/gpuvirt.conf" >"$work/gpuvirtd.log" 2>&1 & pids+=($!)
for _ in $(seq 200); do gpuvirtctl status >/dev/null 2>&1 && break; sleep 0.05; done
ctl status

step "The inventory: GPUs and their companion functions (--all lists every PCI function)"
ctl list
ctl show 01:00.0

step "Taking the GPU for a VM: refused while Xorg and nvidia-persistenced hold it"
ctl bind 01:00.0 || true

step "They let go (the simulator's holders quit); now the GPU, its audio, USB and UCSI go to vfio-pci together"
show bash -c "echo 'remove 1834' > $mnt/.sim/holders; echo 'remove 1102' > $mnt/.sim/holders"
ctl bind 01:00.0
ctl list

step "Reclaiming it for the display: every function back on the exact driver it had"
ctl return 01:00.0
ctl list

step "What the kernel saw: every write gpuvirtd made, in order"
show cat "$mnt/.sim/log"

step "Another simulated host: a node with four NVIDIA L40S on the vendor-specific vGPU framework"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
show build/simfs/gpuvirt-simfs l40s-vendor-vfio "$mnt2"
build/service/gpuvirtd --root "$mnt2" --state-dir "$work/state2" --config "$work/gpuvirt-l40s.conf" >"$work/gpuvirtd-l40s.log" 2>&1 & pids+=($!)
for _ in $(seq 200); do gpuvirtctl status >/dev/null 2>&1 && break; sleep 0.05; done
ctl status

step "GPU 81:00.0 has no VFs yet; one vGPU of type L40S-24Q: VFs enabled, a free VF typed, what a VM needs"
ctl types 81:00.0
ctl vgpu create 81:00.0 L40S-24Q
ctl vgpu create 81:00.0 L40S-24Q --json=short

step "48 GB hold two 24Q vGPUs: the third is refused, and nothing is written"
ctl vgpu create 81:00.0 L40S-24Q || true
ctl vgpu list

step "Giving them back; the last one takes the VFs with it"
ctl vgpu remove 81:00.4
ctl vgpu remove 81:00.5 --disable-vfs
ctl sriov 81:00.0
show cat "$mnt2/.sim/log"

echo
echo "gpuvirt demo: done (the bus, gpuvirtd and the simulated host stop on exit)."
