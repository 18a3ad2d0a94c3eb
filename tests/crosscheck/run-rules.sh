#!/bin/sh
# Kernel rules for PCI driver binding and SR-IOV, run unchanged against the
# real kernel in the test VM (ROOT=/) and against gpuvirt-simfs (ROOT=<mount>).
# Each rule prints one normalized line:
#   rule NAME: errno=E state=...
# (E is the errno name of the write, 0 on success, "-" for a read-only check.)
# Other lines start with "#" and are informational. The comparer
# (./crosscheck) diffs the "rule" lines of both sides.
#
# Devices come from the environment; the defaults are the test VM's
# (tests/vm/run-vm), mirrored by simfs's "qemu-testbed" scenario.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILDDIR=${BUILDDIR:-$HERE/../../build}
SYSW=${SYSW:-$BUILDDIR/tests/crosscheck/sysw}
HOLD=${VFIO_HOLD:-$BUILDDIR/tests/crosscheck/vfio-hold}
PF=${PF:-0000:01:00.0}            # NVMe with SR-IOV, behind a root port
NIC=${NIC:-0000:00:02.0}          # e1000e
NOBDF=${NOBDF:-0000:00:1e.0}      # no such device
PF_DRIVER=${PF_DRIVER:-nvme}
NIC_DRIVER=${NIC_DRIVER:-e1000e}
NIC_ID=${NIC_ID:-8086 10d3}
VFIO=${VFIO_DRIVER:-vfio-pci}

if [ -z "${ROOT:-}" ]; then
  [ "${GPUVIRT_IN_VM:-}" = 1 ] || { echo "run-rules: set ROOT=<simfs mount> (ROOT=/ only inside the test VM)" >&2; exit 2; }
  ROOT=/
fi
R=${ROOT%/}
# Never touch this machine's own /sys: ROOT=/ only inside the test VM.
if [ "$(cd "$ROOT" && pwd -P)" = / ] && ! grep -q 'vmtest.guest=1' /proc/cmdline; then
  echo "run-rules: refusing ROOT=/ outside the test VM" >&2
  exit 2
fi
for b in "$SYSW" "$HOLD"; do
  [ -x "$b" ] || { echo "run-rules: missing $b (meson compile -C build)" >&2; exit 2; }
done
S=$R/sys
BUS=$S/bus/pci
DRV=$BUS/drivers
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Exec-free helpers (builtins and subshells only): each exec costs ~40 ms in
# the VM, where the host's binaries come over 9p.
dev() { echo "$BUS/devices/$1"; }
# link_name LINK: last component of the link's target, or "none".
link_name() { _t=$(cd -P "$1" 2>/dev/null && pwd -P) && echo "${_t##*/}" || echo none; }
driver() { link_name "$BUS/devices/$1/driver"; }
override() { read -r o 2>/dev/null < "$BUS/devices/$1/driver_override" && echo "$o" || echo missing; }
group() { link_name "$BUS/devices/$1/iommu_group"; }
vfio_node() { g=$(group "$1"); [ "$g" != none ] && [ -e "$R/dev/vfio/$g" ] && echo yes || echo no; }
dev_state() { echo "driver=$(driver "$1") override=$(override "$1") vfio_node=$(vfio_node "$1")"; }
nic() { dev_state "$NIC"; }
pf() { echo "$(dev_state "$PF") $(sriov)"; }
# A VF's group is "own" when it holds that VF alone (and so differs from the PF's).
own_group() {
  set -- "$1" "$S/kernel/iommu_groups/$(group "$1")/devices"/*
  [ $# = 2 ] && [ "${2##*/}" = "$1" ] && echo own || echo "shared($(($# - 1)))"
}
sriov() {
  p=$(dev "$PF")
  read -r n 2>/dev/null < "$p/sriov_numvfs" || n=missing
  out="pf_driver=$(driver "$PF") numvfs=$n"
  for l in "$p"/virtfn*; do
    [ -e "$l" ] || continue
    vf=$(link_name "$l")
    out="$out ${l##*/}=$vf(physfn=$(link_name "$(dev "$vf")/physfn"),group=$(own_group "$vf"),$(dev_state "$vf"))"
  done
  vfs=0
  for d in "$BUS/devices/${PF%.*}".[1-7]; do [ -e "$d" ] && vfs=$((vfs + 1)); done
  echo "$out bus_vfs=$vfs"
}
# wr NAME STATEFN PATH DATA: write DATA plus "\n" (as echo does), print the rule line.
wr() { e=$("$SYSW" -n "$3" "$4"); echo "rule $1: errno=$e state=$($2)"; }
# wr_raw: the same, writing DATA exactly (possibly zero bytes).
wr_raw() { e=$("$SYSW" "$3" "$4"); echo "rule $1: errno=$e state=$($2)"; }
check() { echo "rule $1: errno=- state=$($2)"; }
# wait_file FILE SECONDS: until FILE is non-empty.
wait_file() {
  i=0
  while [ ! -s "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  [ -s "$1" ]
}

# Preconditions: both devices bound to their drivers, vfio-pci registered.
if [ "$(driver "$PF")" != "$PF_DRIVER" ] || [ "$(driver "$NIC")" != "$NIC_DRIVER" ] || [ ! -d "$DRV/$VFIO" ]; then
  echo "run-rules: precondition failed: PF=$(driver "$PF") NIC=$(driver "$NIC") $VFIO=$([ -d "$DRV/$VFIO" ] && echo yes || echo no)" >&2
  exit 1
fi
echo "# ROOT=$ROOT PF=$PF NIC=$NIC"

# driver_override
check driver_override.initial nic
wr driver_override.set nic "$(dev "$NIC")/driver_override" "$VFIO"
wr_raw driver_override.empty_write nic "$(dev "$NIC")/driver_override" ""
wr driver_override.clear_newline nic "$(dev "$NIC")/driver_override" ""

# unbind / bind refusals while bound to the native driver
wr unbind.not_owned nic "$DRV/$PF_DRIVER/unbind" "$NIC"
wr unbind.garbage nic "$DRV/$NIC_DRIVER/unbind" "garbage"
wr bind.while_bound nic "$DRV/$NIC_DRIVER/bind" "$NIC"
wr bind.vfio_no_override nic "$DRV/$VFIO/bind" "$NIC"
wr bind.garbage nic "$DRV/$NIC_DRIVER/bind" "garbage"
wr bind.no_such_device nic "$DRV/$NIC_DRIVER/bind" "$NOBDF"
wr driver_override.set_vfio nic "$(dev "$NIC")/driver_override" "$VFIO"
wr bind.vfio_while_bound nic "$DRV/$VFIO/bind" "$NIC"

# hand over to vfio-pci with bind, give back with drivers_probe
wr unbind.owned nic "$DRV/$NIC_DRIVER/unbind" "$NIC"
wr bind.override_excludes nic "$DRV/$NIC_DRIVER/bind" "$NIC"
wr bind.vfio nic "$DRV/$VFIO/bind" "$NIC"
wr driver_override.clear_while_bound nic "$(dev "$NIC")/driver_override" ""
wr unbind.vfio nic "$DRV/$VFIO/unbind" "$NIC"
wr drivers_probe.giveback nic "$BUS/drivers_probe" "$NIC"

# hand over with drivers_probe
wr drivers_probe.set_vfio nic "$(dev "$NIC")/driver_override" "$VFIO"
wr drivers_probe.unbind nic "$DRV/$NIC_DRIVER/unbind" "$NIC"
wr drivers_probe.override_vfio nic "$BUS/drivers_probe" "$NIC"
wr drivers_probe.clear nic "$(dev "$NIC")/driver_override" ""
wr drivers_probe.unbind_vfio nic "$DRV/$VFIO/unbind" "$NIC"
wr drivers_probe.giveback2 nic "$BUS/drivers_probe" "$NIC"

# an override naming no driver: probing succeeds and binds nothing
wr drivers_probe.set_missing nic "$(dev "$NIC")/driver_override" "no-such-driver"
wr drivers_probe.unbind_missing nic "$DRV/$NIC_DRIVER/unbind" "$NIC"
wr drivers_probe.override_missing nic "$BUS/drivers_probe" "$NIC"
wr drivers_probe.clear_missing nic "$(dev "$NIC")/driver_override" ""
wr drivers_probe.giveback3 nic "$BUS/drivers_probe" "$NIC"

# new_id / remove_id on vfio-pci
wr new_id.unbind nic "$DRV/$NIC_DRIVER/unbind" "$NIC"
wr new_id.binds_unbound nic "$DRV/$VFIO/new_id" "$NIC_ID"
wr new_id.duplicate nic "$DRV/$VFIO/new_id" "$NIC_ID"
wr remove_id.known nic "$DRV/$VFIO/remove_id" "$NIC_ID"
wr remove_id.unknown nic "$DRV/$VFIO/remove_id" "$NIC_ID"
wr new_id.unbind_vfio nic "$DRV/$VFIO/unbind" "$NIC"
wr new_id.giveback nic "$BUS/drivers_probe" "$NIC"

# SR-IOV on the PF. QEMU's NVMe VFs fail to probe, so VF autoprobe is off.
P=$(dev "$PF")
wr sriov.not_capable nic "$(dev "$NIC")/sriov_numvfs" 1
check sriov.initial sriov
wr sriov.autoprobe_off sriov "$P/sriov_drivers_autoprobe" 0
wr sriov.enable sriov "$P/sriov_numvfs" 2
wr sriov.change_busy sriov "$P/sriov_numvfs" 1
wr sriov.above_total sriov "$P/sriov_numvfs" 3
wr sriov.garbage sriov "$P/sriov_numvfs" abc
wr sriov.unbind_pf sriov "$DRV/$PF_DRIVER/unbind" "$PF"
wr sriov.no_pf_driver sriov "$P/sriov_numvfs" 0
wr sriov.pf_set_vfio pf "$P/driver_override" "$VFIO"
wr sriov.vfio_pf_busy pf "$DRV/$VFIO/bind" "$PF"
wr sriov.pf_clear pf "$P/driver_override" ""
wr sriov.rebind_pf sriov "$DRV/$PF_DRIVER/bind" "$PF"
wr sriov.disable sriov "$P/sriov_numvfs" 0

# Disabling blocks while a VF is opened by a VFIO user.
wr sriov.reenable sriov "$P/sriov_numvfs" 2
VF=$(link_name "$P/virtfn0")
vf() { dev_state "$VF"; }
wr sriov.vf_set_vfio vf "$(dev "$VF")/driver_override" "$VFIO"
wr sriov.vf_bind_vfio vf "$DRV/$VFIO/bind" "$VF"
VFG=$(group "$VF")
"$HOLD" "$R/dev/vfio/$VFG" "$VF" > "$TMP/hold" 2>&1 &
hold_pid=$!
wait_file "$TMP/hold" 20
echo "# vfio-hold: $(cat "$TMP/hold")"
"$SYSW" -n "$P/sriov_numvfs" 0 > "$TMP/write" &
write_pid=$!
t0=$(date +%s.%N)
sleep 2
[ -s "$TMP/write" ] && blocked=no || blocked=yes
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
wait_file "$TMP/write" 30 || { kill "$write_pid" 2>/dev/null; echo HUNG > "$TMP/write"; }
wait "$write_pid" 2>/dev/null
echo "# blocked write completed $(awk "BEGIN { print $(date +%s.%N) - $t0 }") s after it started"
[ -e "$R/dev/vfio/$VFG" ] && node=yes || node=no
echo "rule sriov.disable_blocks_while_vfio_open: errno=$(cat "$TMP/write") state=blocked_after_2s=$blocked vf_vfio_node=$node $(sriov)"
# Function reset (reset, reset_method; drivers/pci/pci-sysfs.c, pci.c). The
# NIC sits on the root bus, the PF alone below a root port.
BRIDGE=${BRIDGE:-0000:00:05.0}
methods() { if [ -e "$BUS/devices/$1/reset_method" ]; then read -r m 2>/dev/null < "$BUS/devices/$1/reset_method"; echo "[${m:-}]"; else echo missing; fi; }
rst_nic() { echo "$(dev_state "$NIC") methods=$(methods "$NIC")"; }
rst_pf() { echo "driver=$(driver "$PF") methods=$(methods "$PF") numvfs=$(cat "$P/sriov_numvfs")"; }
check reset.methods_nic rst_nic
check reset.methods_pf rst_pf
wr reset.bridge_has_none rst_nic "$(dev "$BRIDGE")/reset" 1
wr reset.nic rst_nic "$(dev "$NIC")/reset" 1
wr reset.zero rst_nic "$(dev "$NIC")/reset" 0
wr reset.two rst_nic "$(dev "$NIC")/reset" 2
wr reset.garbage rst_nic "$(dev "$NIC")/reset" abc
wr reset.hex_one rst_nic "$(dev "$NIC")/reset" 0x1
wr reset_method.unknown rst_nic "$(dev "$NIC")/reset_method" nope
wr reset_method.unsupported rst_nic "$(dev "$NIC")/reset_method" flr
wr reset_method.reorder rst_pf "$P/reset_method" "bus flr"
wr reset_method.one rst_pf "$P/reset_method" "bus"
wr reset_method.spaces rst_pf "$P/reset_method" "  flr   bus "
wr reset_method.default rst_pf "$P/reset_method" default
wr reset_method.disable rst_pf "$P/reset_method" ""
wr reset.disabled rst_pf "$P/reset" 1
wr reset_method.restore rst_pf "$P/reset_method" default
wr reset.pf rst_pf "$P/reset" 1
wr reset.vfs_enable rst_pf "$P/sriov_numvfs" 2
VF1=$(link_name "$P/virtfn1")
rst_vf() { echo "driver=$(driver "$VF1") methods=$(methods "$VF1") numvfs=$(cat "$P/sriov_numvfs")"; }
check reset.methods_vf rst_vf
wr reset.vf rst_vf "$(dev "$VF1")/reset" 1
wr reset.pf_with_vfs rst_pf "$P/reset" 1
wr reset.vfs_disable rst_pf "$P/sriov_numvfs" 0
exit 0
