#!/bin/sh
# End to end on a real kernel, first slice of issue 8: inside the QEMU guest
# (tests/vm/run-vm), install the build into the guest's overlay root, start
# the system bus with the installed policy and the installed gpuvirtd as its
# unit would, then, only through gpuvirtctl and busctl: inventory, bind the
# emulated NVMe PF to vfio-pci and give it back, enable and disable two
# SR-IOV VFs. Every state is read back from the kernel's own sysfs and
# lspci -k. Prints PASS/FAIL lines; exits 1 on any FAIL.
#
# usage (on the host): tests/vm/run-vm /usr/bin/env BUILDDIR=BUILD tests/vm/e2e-basic.sh
# The guest runs no systemd here (busybox init): this is gpuvirtd without a
# service manager, started by hand as on a distribution without systemd.
# polkitd is not started, as gpuvirtd does not ask polkit for uid 0;
# e2e-system.sh covers polkitd, logind and the unit under systemd.
set -u
NAME=e2e-basic
. "$(dirname "$0")/e2e-lib.sh"

e2e_require_guest
[ -e "$SYS" ] || die "no $PF in the guest"

# --- install into the overlay root --------------------------------------
e2e_install
case "$POLICY" in
  /usr/share/dbus-1/system.d/*|/etc/dbus-1/system.d/*) pass "bus policy installed where the system bus reads it ($POLICY)" ;;
  *) fail "bus policy installed at $POLICY, which the system bus never reads" ;;
esac

# --- the system bus --------------------------------------------------------
mkdir -p /run/dbus /var/lib/dbus
dbus-daemon --system --nofork --nopidfile --nosyslog > /tmp/dbus.log 2>&1 &
DBUS_PID=$!
wait_for 20 test -S /run/dbus/system_bus_socket || { cat /tmp/dbus.log; die "system dbus-daemon did not start"; }
pass "system dbus-daemon on /run/dbus/system_bus_socket ($(elapsed))"

# --- configuration and gpuvirtd as the unit starts it ---------------------
e2e_write_config
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
umask_unit=$(sed -n 's/^UMask=//p' "$UNIT")
[ -n "$exec_start" ] || die "no ExecStart= in $UNIT"
# StateDirectory=gpuvirt, RuntimeDirectory=gpuvirt, ConfigurationDirectory=gpuvirt
mkdir -p /var/lib/gpuvirt /run/gpuvirt
echo "e2e-basic: starting $exec_start"
( umask "${umask_unit:-0022}"
  cd /
  exec env STATE_DIRECTORY=/var/lib/gpuvirt RUNTIME_DIRECTORY=/run/gpuvirt \
    CONFIGURATION_DIRECTORY=/etc/gpuvirt $exec_start ) > /tmp/gpuvirtd.log 2>&1 &
DAEMON_PID=$!
cleanup() {
  kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
  kill "$DBUS_PID" 2>/dev/null; wait "$DBUS_PID" 2>/dev/null
}
trap cleanup EXIT
i=0
until busctl --system status org.gpuvirt > /dev/null 2>&1; do
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat /tmp/gpuvirtd.log; die "gpuvirtd exited"; }
  [ $i -lt 300 ] || { cat /tmp/gpuvirtd.log; die "gpuvirtd did not take org.gpuvirt in 60 s"; }
  sleep 0.2; i=$((i + 1))
done
pass "gpuvirtd owns org.gpuvirt on the system bus ($(elapsed))"

show_log() { echo "--- gpuvirtd log:"; tail -n 30 /tmp/gpuvirtd.log; echo "---"; }

# --- inventory -------------------------------------------------------------
json_has() { # JSON ADDRESS DRIVER: the listing has ADDRESS on DRIVER, managed (the [Manage] classes)
  printf '%s' "$1" | python3 -c 'import json, sys
def walk(x):
    if isinstance(x, dict):
        if x.get("Address") == sys.argv[1]:
            yield x
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
found = list(walk(json.load(sys.stdin)))
sys.exit(0 if found and all(d.get("Driver") == sys.argv[2] and d.get("Managed") is True
                            for d in found) else 1)' "$2" "$3"
}
expect_driver $PF nvme "before"
if out=$("$CTL" list --all --json 2>&1); then
  check "gpuvirtctl list --all --json shows $PF on nvme, managed" json_has "$out" $PF nvme
  check "gpuvirtctl list --all --json shows 0000:00:02.0 on e1000e, managed" json_has "$out" 0000:00:02.0 e1000e
else
  echo "$out"; fail "gpuvirtctl list --all --json"
fi
check "busctl: Driver of $PF's object is nvme (got '$(bus_driver $PF)')" test "$(bus_driver $PF)" = nvme

# --- bind and return -------------------------------------------------------
if "$CTL" bind $PF; then pass "gpuvirtctl bind $PF"; else show_log; fail "gpuvirtctl bind $PF"; fi
expect_driver $PF vfio-pci "after bind"
check "after bind: busctl Driver is vfio-pci (got '$(bus_driver $PF)')" test "$(bus_driver $PF)" = vfio-pci
group=$(basename "$(readlink $SYS/iommu_group)")
check "after bind: /dev/vfio/$group exists" test -c "/dev/vfio/$group"
if "$CTL" return $PF; then pass "gpuvirtctl return $PF"; else show_log; fail "gpuvirtctl return $PF"; fi
expect_driver $PF nvme "after return"
check "after return: driver_override is cleared (got '$(cat $SYS/driver_override)')" \
  test "$(cat $SYS/driver_override)" = "(null)"

# --- SR-IOV ------------------------------------------------------------------
if "$CTL" sriov $PF 2; then pass "gpuvirtctl sriov $PF 2"; else show_log; fail "gpuvirtctl sriov $PF 2"; fi
check "after sriov 2: sriov_numvfs is 2 (got '$(cat $SYS/sriov_numvfs)')" test "$(cat $SYS/sriov_numvfs)" = 2
check "after sriov 2: virtfn0 and virtfn1 exist" test -e $SYS/virtfn0 -a -e $SYS/virtfn1
vfs=$(for v in $SYS/virtfn*; do basename "$(readlink "$v")"; done)
echo "e2e-basic: VFs $vfs"
for vf in $vfs; do
  check "after sriov 2: VF $vf is in /sys/bus/pci/devices" test -e "/sys/bus/pci/devices/$vf/physfn"
done
if "$CTL" sriov $PF off; then pass "gpuvirtctl sriov $PF off"; else show_log; fail "gpuvirtctl sriov $PF off"; fi
check "after sriov off: sriov_numvfs is 0 (got '$(cat $SYS/sriov_numvfs)')" test "$(cat $SYS/sriov_numvfs)" = 0
check "after sriov off: no virtfn links" test ! -e $SYS/virtfn0
for vf in $vfs; do
  check "after sriov off: VF $vf is gone from /sys/bus/pci/devices" test ! -e "/sys/bus/pci/devices/$vf"
done
expect_driver $PF nvme "at the end"

check "gpuvirtd is still running" kill -0 "$DAEMON_PID"
echo "e2e-basic: $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || { show_log; exit 1; }
exit 0
