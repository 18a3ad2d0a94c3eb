#!/bin/sh
# The reboot story, guest half (tests/vm/e2e-reboot runs it in two freshly
# booted VMs, tests/vm/run-vm --systemd):
#   first:  gpuvirtd as its unit; the state is changed with --persist
#           (SR-IOV VFs on the NVMe PF, the e1000e and one VF on vfio-pci);
#           the configuration gpuvirtd wrote is printed between markers for
#           the host half to carry to the next boot;
#   second: a new VM, every device as the kernel made it; that configuration
#           in /etc/gpuvirt, `systemctl start gpuvirtd` returns once the
#           boot plan ran (Type=notify), and the kernel's sysfs shows the
#           configured state; a restart changes nothing.
# usage: e2e-reboot-guest.sh first | second CONFIG
set -u
NAME=e2e-reboot
. "$(dirname "$0")/e2e-lib.sh"

e2e_require_guest
e2e_require_systemd
step=${1:-}

e2e_install_system
start_unit() {
  if systemctl start "$unit"; then pass "systemctl start $unit ($(elapsed))"; else show_log; die "systemctl start $unit"; fi
}
expect_configured() { # STEP: the configured state, read from the kernel
  check "$1: sriov_numvfs of $PF is 2 (got $(numvfs $PF))" test "$(numvfs $PF)" = 2
  expect_driver $PF nvme "$1"
  expect_driver $NIC vfio-pci "$1"
  expect_driver $VF vfio-pci "$1"
}

plan_is() { # STATE STEP-STATUSES: BootPlanState and the status of every step, from gpuvirtctl status --json
  "$CTL" status --json | python3 -c 'import json, sys
state, allowed = sys.argv[1], sys.argv[2].split()
def find(x, key):
    if isinstance(x, dict):
        if key in x:
            return x[key]
        for v in x.values():
            r = find(v, key)
            if r is not None:
                return r
    return None
s = json.load(sys.stdin)
steps = find(s, "BootPlan") or []
got = [step.get("Status") for step in steps]
print("  plan %s, steps %s" % (find(s, "BootPlanState"), got))
sys.exit(0 if find(s, "BootPlanState") == state and steps and all(g in allowed for g in got) else 1)' "$1" "$2"
}

case "$step" in
first)
  e2e_write_config
  start_unit
  check "fresh VM: $PF has no VFs" test "$(numvfs $PF)" = 0
  expect_driver $NIC e1000e "fresh VM"
  if "$CTL" sriov --persist $PF 2; then pass "gpuvirtctl sriov --persist $PF 2"; else show_log; fail "sriov --persist"; fi
  VF=$(basename "$(readlink $SYS/virtfn0)")
  [ -n "$VF" ] || die "no VF after sriov"
  if "$CTL" bind --persist $NIC; then pass "gpuvirtctl bind --persist $NIC"; else show_log; fail "bind --persist $NIC"; fi
  if "$CTL" bind --persist "$VF"; then pass "gpuvirtctl bind --persist $VF (a VF)"; else show_log; fail "bind --persist $VF"; fi
  expect_configured "after the persistent changes"
  "$CTL" config show
  echo "----- BEGIN gpuvirt.conf"
  cat /etc/gpuvirt/gpuvirt.conf
  echo "----- END gpuvirt.conf"
  ;;
second)
  config=${2:-}
  [ -f "$config" ] || die "no configuration from the first boot ($config)"
  VF=0000:01:00.1
  check "fresh VM: $PF has no VFs" test "$(numvfs $PF)" = 0
  expect_driver $NIC e1000e "fresh VM"
  mkdir -p /etc/gpuvirt && cp "$config" /etc/gpuvirt/gpuvirt.conf
  systemctl enable "$unit" > /dev/null 2>&1 || fail "systemctl enable $unit"
  check "$unit is enabled (WantedBy=multi-user.target)" systemctl is-enabled --quiet "$unit"
  start_unit
  # Type=notify: start returned after READY=1, i.e. after the boot plan.
  expect_configured "right after systemctl start"
  "$CTL" status
  check "status: boot plan done, every step done or skipped" plan_is done "done skipped"
  wait_vfs_settled $PF
  before=$(kernel_state)
  if systemctl restart "$unit"; then pass "systemctl restart $unit"; else show_log; fail "restart"; fi
  check "after the restart: the kernel state is unchanged" test "$before" = "$(kernel_state)"
  check "after the restart: boot plan done, every step skipped (already so)" plan_is done skipped
  expect_configured "after the restart"
  ;;
*)
  die "usage: e2e-reboot-guest.sh first | second CONFIG"
  ;;
esac

check "gpuvirtd is still active" systemctl is-active --quiet "$unit"
echo "$NAME ($step): $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || { show_log; exit 1; }
exit 0
