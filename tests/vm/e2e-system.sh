#!/bin/sh
# End to end on a real kernel with the real system services (issue 8): the
# guest boots its own systemd (tests/vm/run-vm --systemd), so dbus-daemon,
# polkitd, systemd-logind and gpuvirtd all run as their installed units,
# gpuvirtd with every sandboxing option of gpuvirtd.service. Only
# gpuvirtctl and busctl talk to gpuvirtd; every state is read back from the
# kernel's sysfs and lspci -k.
#   1. unprivileged reads work; every mutating call is denied by polkitd
#      with the shipped defaults, and the kernel state does not change;
#   2. the shipped example rules, enabled for the privileged group: a member
#      at a console session (logind seat0, active) may bind and give back
#      the e1000e;
#      the same member outside a session is still denied;
#   3. a VF on vfio-pci with its /dev/vfio group held open by a process of
#      another user (the unit's ProtectProc=invisible, PrivateDevices= with
#      /dev/vfio bound in, ProtectKernelTunables= with its sysfs paths):
#      disabling the VFs is refused and names the holder; once the holder
#      exits, the VFs are disabled;
#   4. a driver unbound behind gpuvirtd's back (echo into sysfs) shows in
#      `gpuvirtctl monitor` from the kernel's uevent, without Refresh.
# Prints PASS/FAIL lines; exits 1 on any FAIL.
#
# usage (on the host):
#   tests/vm/run-vm --systemd /usr/bin/env BUILDDIR=BUILD tests/vm/e2e-system.sh
set -u
NAME=e2e-system
. "$(dirname "$0")/e2e-lib.sh"

GROUP=gpuvirt   # meson option privileged-group, the default
e2e_require_guest
e2e_require_systemd
[ -e "$SYS" ] && [ -e /sys/bus/pci/devices/$NIC ] || die "the emulated NVMe or e1000e is missing"

# --- install, the system's services, gpuvirtd as its unit -----------------
e2e_install_system
e2e_write_config
# polkitd reads its actions at start.
systemctl restart polkit || die "start polkit"
pass "system bus reloaded, polkitd running ($(elapsed))"
if systemctl start "$unit"; then
  pass "systemctl start $unit (Type=notify: READY=1 came) ($(elapsed))"
else
  systemctl status --no-pager "$unit"; journalctl -b --no-pager -u "$unit" | tail -30
  die "systemctl start $unit"
fi
check "gpuvirtd owns org.gpuvirt" busctl --system status org.gpuvirt > /dev/null
# The sandbox is the one the tests below prove (issue 21).
for prop in ProtectProc=invisible PrivateDevices=yes ProtectKernelTunables=yes PrivateMounts=yes UMask=0077; do
  check "the running unit has $prop" sh -c "systemctl show -p '${prop%%=*}' '$unit' | grep -qx '$prop'"
done
echo "$NAME: $(systemd-analyze security "$unit" 2>/dev/null | tail -n 1)"

getent group "$GROUP" > /dev/null || groupadd --system "$GROUP" || die "groupadd $GROUP"
useradd --create-home --shell /bin/sh alice || die "useradd alice"
useradd --create-home --shell /bin/sh --groups "$GROUP" bob || die "useradd bob"

# --- 1. unprivileged: reads work, every change is denied ---------------------
if out=$(as alice "$CTL" list --all --json 2>&1) && printf '%s' "$out" | grep -q "\"$PF\""; then
  pass "alice: gpuvirtctl list --all --json shows $PF"
else
  echo "$out"; fail "alice: gpuvirtctl list --all --json"
fi
check "alice: gpuvirtctl show $PF" sh -c "runuser -u alice -- '$CTL' show $PF > /dev/null"
check "alice: gpuvirtctl doctor runs" sh -c "runuser -u alice -- '$CTL' doctor > /dev/null; [ \$? -le 1 ]"
check "alice: busctl reads Driver of $PF" test "$(as alice busctl --system get-property org.gpuvirt \
  "$(bus_object $PF)" org.gpuvirt.Device Driver)" = 's "nvme"'

conf_alice=/tmp/alice.conf
printf '[Manage]\nClasses=0108;0200;0300\n' > $conf_alice; chmod 644 $conf_alice
denied alice "shipped defaults" bind $PF
denied alice "shipped defaults" bind $NIC
denied alice "shipped defaults" sriov $PF 2
denied alice "shipped defaults" config save $conf_alice
denied alice "shipped defaults" apply
# Some states only exist after a change: make them as root, deny again.
check "root: gpuvirtctl bind $NIC" "$CTL" bind $NIC
check "root: gpuvirtctl sriov $PF 2" "$CTL" sriov $PF 2
check "the kernel's nvme probe of the new VFs is over" wait_vfs_settled $PF
denied alice "shipped defaults" return $NIC
denied alice "shipped defaults" unbind --yes $PF
denied alice "shipped defaults" sriov $PF off
denied alice "shipped defaults" sriov $PF 1
# The same through busctl: the method itself, not only the client, is guarded.
before=$(kernel_state)
out=$(as alice busctl --system call org.gpuvirt "$(bus_object $NIC)" org.gpuvirt.Passthrough Return 'a{sv}' 0 2>&1)
check "alice: busctl Passthrough.Return refused: $out" sh -c "printf '%s' '$out' | grep -qiE 'authoriz|authentic|denied'"
check "alice: busctl Passthrough.Return: kernel state unchanged" test "$before" = "$(kernel_state)"
check "root: gpuvirtctl return $NIC" "$CTL" return $NIC
expect_driver $NIC e1000e "after root's return"

# --- 2. the shipped example rules, enabled for the group -------------------
# As its header says: copy it into /etc/polkit-1/rules.d and adapt the
# lists (here: the vendors of QEMU's NVMe, 1b36, and Intel's e1000e, 8086).
rules=/etc/polkit-1/rules.d/50-gpuvirt.rules
mkdir -p /etc/polkit-1/rules.d
sed 's/var vendors = \["10de"\];/var vendors = ["10de", "1b36", "8086"];/' "$RULES_EXAMPLE" > $rules
check "example rules: vendor list adapted" grep -q '"1b36", "8086"' $rules
check "example rules: for group $GROUP" grep -q "var group = \"$GROUP\"" $rules
systemctl restart polkit || die "restart polkit"
denied alice "rules enabled, not in $GROUP" bind $NIC
denied bob "rules enabled, in $GROUP but no console session" bind $NIC

# bob logs in on a virtual console (login -f on tty4 through PAM, so
# pam_systemd registers a seat0 session), runs his part from ~/.profile.
# pam_systemd does nothing unless logind runs; vmtest.target does not pull
# it in as multi-user.target would. /bin/login, not busybox's own.
cat > /home/bob/.profile <<EOF
exec > /tmp/bob.log 2>&1
echo "session: \$(loginctl show-session "\$XDG_SESSION_ID" -p Seat -p Active -p Remote -p Type | tr '\n' ' ')"
timeout 60 $CTL bind $NIC; echo "rc bind=\$?"
echo "driver after bind=\$(basename "\$(readlink /sys/bus/pci/devices/$NIC/driver)")"
timeout 60 $CTL return $NIC; echo "rc return=\$?"
echo "driver after return=\$(basename "\$(readlink /sys/bus/pci/devices/$NIC/driver)")"
exit 0
EOF
chown bob: /home/bob/.profile
systemctl start systemd-logind || die "start systemd-logind"
busybox openvt -c 4 -s -w -- /bin/login -f bob > /dev/null 2>&1
cat /tmp/bob.log 2>/dev/null | sed 's/^/  bob| /'
bob_says() { grep -qx "$1" /tmp/bob.log 2>/dev/null; }
bob_session() { for kv in Seat=seat0 Active=yes Remote=no; do grep -q "^session: .*$kv" /tmp/bob.log || return 1; done; }
check "bob's console login is a local, active seat0 session" bob_session
check "bob (in $GROUP, at the console): gpuvirtctl bind $NIC succeeds" bob_says "rc bind=0"
check "bob: $NIC was on vfio-pci after his bind" bob_says "driver after bind=vfio-pci"
check "bob: gpuvirtctl return $NIC succeeds" bob_says "rc return=0"
check "bob: $NIC was back on e1000e after his return" bob_says "driver after return=e1000e"
expect_driver $NIC e1000e "after bob's session"
rm -f $rules
systemctl restart polkit || die "restart polkit"

# --- 3. a VF on vfio-pci, its VFIO group held open --------------------------
[ "$(numvfs $PF)" = 2 ] || check "root: gpuvirtctl sriov $PF 2" "$CTL" sriov $PF 2
wait_vfs_settled $PF
VF=$(basename "$(readlink $SYS/virtfn0)")
[ -n "$VF" ] || die "no VF after enabling SR-IOV"
vf_driver_before=$(kdriver "$VF")
echo "$NAME: VF $VF starts on '${vf_driver_before:-no driver}'"
if "$CTL" bind "$VF"; then pass "gpuvirtctl bind $VF (a VF)"; else show_log; fail "gpuvirtctl bind $VF"; fi
expect_driver "$VF" vfio-pci "after binding the VF"
vgroup=$(basename "$(readlink /sys/bus/pci/devices/$VF/iommu_group)")
check "the VF's group node /dev/vfio/$vgroup exists" test -c /dev/vfio/$vgroup
# A stand-in for a VM: a process holding the VF's VFIO group open, as
# another user (a VM's qemu runs as libvirt-qemu): under the unit's
# ProtectProc=invisible gpuvirtd sees it only through CAP_SYS_PTRACE.
chown nobody /dev/vfio/$vgroup
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "exec 3<>/dev/vfio/$vgroup; exec sleep 600" &
holder=$!
holds() { ls -l /proc/$holder/fd 2>/dev/null | grep -q "/dev/vfio/$vgroup\$"; }
check "the holder (pid $holder) has /dev/vfio/$vgroup open" wait_for 10 holds
out=$("$CTL" sriov $PF off 2>&1); rc=$?
echo "$out" | sed 's/^/  | /'
check "sriov $PF off refused while the VF's group is held open" test $rc -ne 0
check "the refusal names the holder (pid $holder or sleep)" \
  sh -c "printf '%s' \"\$1\" | grep -qE '$holder|sleep'" _ "$out"
check "after the refusal: sriov_numvfs is still 2 (got $(numvfs $PF))" test "$(numvfs $PF)" = 2
expect_driver "$VF" vfio-pci "after the refusal"
kill $holder; wait $holder 2>/dev/null
if "$CTL" sriov $PF off; then pass "gpuvirtctl sriov $PF off once the holder exited"; else show_log; fail "gpuvirtctl sriov $PF off after release"; fi
check "after sriov off: sriov_numvfs is 0 (got $(numvfs $PF))" test "$(numvfs $PF)" = 0
check "after sriov off: $VF is gone" test ! -e /sys/bus/pci/devices/$VF
expect_driver $PF nvme "after disabling the VFs"

# --- 4. behind gpuvirtd's back: the uevent reaches gpuvirtctl monitor ------
expect_driver $NIC e1000e "before the unbind behind gpuvirtd's back"
as alice "$CTL" monitor --json > /tmp/monitor.log 2> /tmp/monitor.err &
monitor=$!
# it says so on stderr once its match rules are in place (synchronous calls)
check "gpuvirtctl monitor is subscribed" wait_for 20 grep -q '^Monitoring gpuvirtd' /tmp/monitor.err
seen() { # DRIVER: the monitor printed Driver=DRIVER for the NIC
  python3 - "$1" "$NIC" <<'PY'
import json, sys
want, address = sys.argv[1], sys.argv[2]
for line in open('/tmp/monitor.log'):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get('Event') == 'changed' and e.get('Address') == address \
            and e.get('Changed', {}).get('Driver') == want:
        sys.exit(0)
sys.exit(1)
PY
}
echo $NIC > /sys/bus/pci/drivers/e1000e/unbind
check "echo > e1000e/unbind: sysfs says $NIC has no driver" test -z "$(kdriver $NIC)"
check "gpuvirtctl monitor printed Driver='' for $NIC (uevent, no Refresh)" wait_for 10 seen ""
check "busctl: Driver of $NIC is now '' (got '$(bus_driver $NIC)')" test -z "$(bus_driver $NIC)"
echo $NIC > /sys/bus/pci/drivers/e1000e/bind
check "gpuvirtctl monitor printed Driver=e1000e for $NIC after the rebind" wait_for 10 seen e1000e
check "busctl: Driver of $NIC is e1000e again" test "$(bus_driver $NIC)" = e1000e
kill $monitor; wait $monitor 2>/dev/null
sed 's/^/  monitor| /' /tmp/monitor.log | grep "$NIC" | head -n 6

check "gpuvirtd is still active" systemctl is-active --quiet "$unit"
echo "$NAME: $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || { show_log; exit 1; }
exit 0
