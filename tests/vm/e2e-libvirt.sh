#!/bin/sh
# Inside the test VM (run-vm --systemd): the real libvirt daemon runs
# gpuvirt's hook (issue 16). One boot for every check:
#  - a domain without the opt-in: libvirt starts it (and fails on the
#    unbound NVMe); gpuvirtd is not even started, nothing changes;
#  - `gpuvirtctl export libvirt` of the e1000e, pasted into a domain with
#    virsh define; virsh start runs the hook at prepare: gpuvirtd starts by
#    D-Bus activation, the e1000e is on vfio-pci, and the nested QEMU (TCG,
#    no disk: firmware idling) holds /dev/vfio/<group>, as gpuvirtctl show
#    says; the journal has the hook's lines; virsh destroy runs release:
#    back on e1000e;
#  - a second start while another process holds the e1000e's VFIO group:
#    virsh start fails with gpuvirt's reason, nothing changes;
#  - the multifunction export of a GPU with companions (the simulator's
#    golden file) defined: libvirt keeps the guest addresses and adds the
#    PCIe root port of the guest bus.
NAME=e2e-libvirt
. "$(dirname "$0")/e2e-lib.sh"

e2e_require_guest
e2e_require_systemd
e2e_write_config
e2e_install_system
HOOK=/etc/libvirt/hooks/qemu.d/gpuvirt
check "the hook is installed as $HOOK -> $(readlink "$HOOK")" test -x "$HOOK"

# libvirt in a VM on a 9p/overlay root: no AppArmor profiles, QEMU as root
# (the overlay's files are root's), no private /dev namespace (the test
# reads /dev/vfio as QEMU has it)
cat >> /etc/libvirt/qemu.conf <<'EOF'
security_driver = "none"
user = "root"
group = "root"
namespaces = [ ]
EOF
systemctl start libvirtd.service || die "systemctl start libvirtd"
pass "libvirtd started ($(elapsed))"
virsh -q version > /dev/null || die "virsh cannot reach libvirtd"

domain() { # NAME METADATA DEVICES: a q35 domain with no disk
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <metadata>
$2
  </metadata>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
$3
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}
hook_lines() { journalctl -b --no-pager -o cat SYSLOG_IDENTIFIER=gpuvirt-libvirt-hook GPUVIRT_DOMAIN="$1"; }
record() { ls /run/gpuvirt-libvirt-hook/ 2>/dev/null | tr '\n' ' '; }

# ---- a domain without the opt-in: gpuvirt untouched
echo "$NAME: no opt-in ($(elapsed))"
NVME_HOSTDEV="<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
domain gv-plain "" "$NVME_HOSTDEV" > /tmp/plain.xml
virsh define /tmp/plain.xml > /dev/null || die "virsh define gv-plain"
before=$(kernel_state)
if virsh start gv-plain > /tmp/plain.out 2>&1; then
  fail "gv-plain started with its NVMe on nvme"; virsh destroy gv-plain > /dev/null 2>&1
else
  pass "gv-plain refused by libvirt itself: $(grep -m 1 'error: [^F]' /tmp/plain.out)"
fi
check "no opt-in: gpuvirtd was not started (state $(systemctl is-active "$unit"))" \
  test "$(systemctl is-active "$unit")" != active
check "no opt-in: the kernel state did not change" test "$before" = "$(kernel_state)"
check "no opt-in: the hook logged nothing for gv-plain" test -z "$(hook_lines gv-plain)"
check "no opt-in: no record" test -z "$(record)"
expect_driver "$PF" nvme "no opt-in"

# ---- export, define, start: prepare binds through gpuvirtd
echo "$NAME: export and start ($(elapsed))"
"$CTL" export libvirt "$NIC" --json > /tmp/export.json 2> /tmp/export.err \
  || { cat /tmp/export.err; die "gpuvirtctl export libvirt $NIC"; }
check "gpuvirtctl export started gpuvirtd by D-Bus activation" test "$(systemctl is-active "$unit")" = active
systemctl stop "$unit"
devices=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Devices"])' < /tmp/export.json)
meta=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Metadata"])' < /tmp/export.json)
domain gv-nic "$meta" "$devices" > /tmp/nic.xml
virsh define /tmp/nic.xml > /dev/null || die "virsh define gv-nic"
check "virsh dumpxml keeps gpuvirt's <metadata> element" \
  sh -c "virsh dumpxml gv-nic | grep -q 'https://gpuvirt.org/xmlns/libvirt/1'"
t_start=$(date +%s)
if virsh start gv-nic > /tmp/start.out 2>&1; then
  pass "virsh start gv-nic ($(( $(date +%s) - t_start )) s)"
else
  fail "virsh start gv-nic: $(cat /tmp/start.out)"
fi
check "prepare started gpuvirtd by D-Bus activation" test "$(systemctl is-active "$unit")" = active
expect_driver "$NIC" vfio-pci "after virsh start"
group=$(basename "$(readlink /sys/bus/pci/devices/$NIC/iommu_group)")
qpid=$(pgrep -f 'qemu-system-x86_64.*gv-nic' | head -n 1)
check "the nested QEMU ($qpid) holds /dev/vfio/$group" \
  sh -c "ls -l /proc/$qpid/fd 2>/dev/null | grep -q '/dev/vfio/$group\$'"
"$CTL" show "$NIC" > /tmp/show.txt 2>&1
check "gpuvirtctl show names the nested QEMU as holder: $(grep Holders /tmp/show.txt)" \
  sh -c "grep Holders /tmp/show.txt | grep -q ' $qpid qemu-system-x86 /dev/vfio/$group'"
check "the record names the e1000e: $(cat /run/gpuvirt-libvirt-hook/* 2>/dev/null | tr '\n' ' ')" \
  sh -c "grep -q '$NIC' /run/gpuvirt-libvirt-hook/*"
hook_lines gv-nic | sed 's/^/  journal: /'
check "the journal has the hook's prepare line" sh -c "hook_lines() { journalctl -b --no-pager -o cat SYSLOG_IDENTIFIER=gpuvirt-libvirt-hook GPUVIRT_DOMAIN=gv-nic; }; hook_lines | grep -q 'on vfio-pci'"

virsh destroy gv-nic > /dev/null 2>&1 || fail "virsh destroy gv-nic"
wait_for 20 sh -c "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$NIC/driver)\")\" = e1000e ]"
expect_driver "$NIC" e1000e "after virsh destroy (release)"
check "release removed the record" test -z "$(record)"
check "the journal has the hook's release line" sh -c "journalctl -b --no-pager -o cat SYSLOG_IDENTIFIER=gpuvirt-libvirt-hook GPUVIRT_DOMAIN=gv-nic | grep -q 'given back'"

# ---- refused: another process holds the e1000e's VFIO group
echo "$NAME: held by another process ($(elapsed))"
"$CTL" bind "$NIC" > /dev/null || fail "gpuvirtctl bind $NIC"
python3 "$(dirname "$0")/vfio-hold.py" "$group" "$NIC" > /tmp/hold.out 2>&1 &
holder=$!
wait_for 20 sh -c "ls -l /proc/$holder/fd 2>/dev/null | grep -q '/dev/vfio/$group\$'" || fail "vfio-hold.py did not open /dev/vfio/$group"
sleep 0.5
before=$(kernel_state)
if virsh start gv-nic > /tmp/refused.out 2>&1; then
  fail "gv-nic started although $holder holds its device"; virsh destroy gv-nic > /dev/null 2>&1
else
  sed 's/^/  virsh: /' /tmp/refused.out
  check "virsh start shows gpuvirt's reason, naming the holder" \
    sh -c "grep -q 'gpuvirt: domain .gv-nic.: $NIC is in use by python3 ($holder)' /tmp/refused.out"
fi
check "refused: the kernel state did not change" test "$before" = "$(kernel_state)"
check "refused: no record" test -z "$(record)"
kill "$holder"; wait "$holder" 2>/dev/null
"$CTL" return "$NIC" > /dev/null || fail "gpuvirtctl return $NIC"
expect_driver "$NIC" e1000e "after the holder is gone"

# ---- the multifunction export, as libvirt takes it
echo "$NAME: multifunction ($(elapsed))"
golden="$(dirname "$0")/../libvirt/workstation-export.xml"
mf_devices=$(sed -n '2,/^<!--/p' "$golden" | sed '$d')
domain gv-gpu "$(tail -n 1 "$golden")" "$mf_devices" > /tmp/gpu.xml
virsh define /tmp/gpu.xml > /dev/null || fail "virsh define of the workstation export"
virsh dumpxml gv-gpu > /tmp/gpu-dump.xml
check "libvirt added the PCIe root port of guest bus 0x10" \
  grep -q "<controller type='pci' index='16' model='pcie-root-port'>" /tmp/gpu-dump.xml
check "libvirt kept function 0 multifunction on bus 0x10 slot 0" \
  grep -q "<address type='pci' domain='0x0000' bus='0x10' slot='0x00' function='0x0' multifunction='on'/>" /tmp/gpu-dump.xml
check "libvirt kept the companions as functions 1-3 of that slot" \
  test "$(grep -c "bus='0x10' slot='0x00' function='0x[123]'/>" /tmp/gpu-dump.xml)" = 3

echo "$NAME: done in $(elapsed), $failures failure(s)"
[ "$failures" -eq 0 ]
