#!/bin/sh
# vGPUs on the kernel's real mdev core (issue 14): the NVMe PF plays a T4
# (16 GiB, mdev types on the PF) bound to the test-only nvidia_model module
# (tests/vm/nvidia-model, mode=mdev); each mdev is a VFIO device with an
# emulated IOMMU. gpuvirtd runs as its installed unit (run-vm --systemd);
# only gpuvirtctl talks to it, and every state is read back from sysfs:
#   1. types (name, description, available_instances), vgpu create by
#      UUID, vgpu list, the mdev's VFIO group node;
#   2. capacity: homogeneity and instances (NoCapacity), NoSuchType;
#   3. a VFIO user holding an mdev: vgpu remove refused (InUse), then done;
#   4. an mdev created and removed behind gpuvirtd's back shows in vgpu
#      list without Refresh;
#   5. the boot plan: vgpu create --persist ([Mdev]), the mdevs removed by
#      hand, systemctl restart brings them back; VgpuType + VgpuCount;
#   6. the kernel: who counts instances in Linux 6.1's mdev core (only
#      when the driver has no get_available).
# Checks tagged (14.N) assert issue 14's point N as fixed.
#
# usage (on the host): tests/vm/run-vm --systemd --kmod tests/vm/nvidia-model \
#   /usr/bin/env BUILDDIR=BUILD tests/vm/e2e-vgpu-mdev.sh
set -u
NAME=e2e-vgpu-mdev
. "$(dirname "$0")/e2e-lib.sh"
. "$(dirname "$0")/vgpu-lib.sh"

e2e_require_guest
e2e_require_systemd

T=$SYS/mdev_supported_types
MDEVS=/sys/bus/mdev/devices
U1=5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e51
U2=5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e52
U3=5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e53
avail() { cat $T/nvidia-$1/available_instances; }
mdev_type() { basename "$(readlink $MDEVS/$1/mdev_type)"; }
mdevs_of() { # TYPE-DIR: how many mdevs of it exist
  ls $T/$1/devices 2>/dev/null | wc -l
}

e2e_install_system
e2e_write_config
nvm_load mode=mdev
nvm_bind_pf
check "sysfs: $PF is an mdev parent (/sys/class/mdev_bus/$PF)" test -e /sys/class/mdev_bus/$PF
systemctl start "$unit" || { show_log; die "systemctl start $unit"; }
pass "gpuvirtd started, $PF on nvidia (mdev model) ($(elapsed))"

# --- 1. types, create, list ---------------------------------------------------
echo "--- 1. types, create, list ($(elapsed))"
types=$("$CTL" types $PF --json)
check "types $PF: framework mdev-pf" test "$(printf '%s' "$types" | jget 'j["Framework"]')" = mdev-pf
want=$(for d in $T/*; do printf '%s:%s:%s ' "$(basename $d)" "$(cat $d/name)" "$(cat $d/available_instances)"; done)
check "types $PF: every type with its name and available_instances as sysfs has them" test \
  "$(printf '%s' "$types" | jget 'sorted("%s:%s:%s" % (t["Id"], t["Name"], t["Available"]) for t in j["Types"])') " = "$want"
check "types $PF: T4-4Q has 4096 MiB and max_instance 4 (from its description)" test \
  "$(printf '%s' "$types" | jget '[(t["FramebufferMiB"], t["Details"].get("max_instance")) for t in j["Types"] if t["Id"] == "nvidia-232"]')" = "(4096, 4)"
if "$CTL" vgpu create $PF T4-4Q --uuid $U1 > /dev/null; then pass "vgpu create $PF T4-4Q --uuid $U1"; else show_log; fail "vgpu create $U1"; fi
check "sysfs: mdev $U1 exists, of nvidia-232" test "$(mdev_type $U1)" = nvidia-232
check "sysfs: T4-4Q has 3 instances left" test "$(avail 232)" = 3
check "sysfs: other types have none left (homogeneous)" test "$(avail 230)$(avail 234)" = 00
G1=$(group_of $MDEVS/$U1)
check "/dev/vfio/$G1 (the mdev's emulated IOMMU group) exists" test -c /dev/vfio/$G1
check "vgpu list: $U1 of nvidia-232 on /dev/vfio/$G1" test \
  "$("$CTL" vgpu list --json | jget '[(v["Uuid"], v["Type"], v["VfioGroupNode"]) for v in j["Vgpus"]]')" = \
  "('$U1', 'nvidia-232', '/dev/vfio/$G1')"
check "types $PF: AVAILABLE of T4-4Q is 3" test \
  "$("$CTL" types $PF --json | jget '[t["Available"] for t in j["Types"] if t["Id"] == "nvidia-232"]')" = 3

# --- 2. capacity and refusals -------------------------------------------------
echo "--- 2. capacity and refusals ($(elapsed))"
refused "another type on a homogeneous GPU" 6 'available_instances|no room|left|full' vgpu create $PF T4-1Q
refused "an unknown type" 3 'no (mdev|vGPU) type' vgpu create $PF T4-3Q
for u in $U2 $U3 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e54; do
  "$CTL" vgpu create $PF nvidia-232 --uuid $u > /dev/null || fail "vgpu create $PF nvidia-232 --uuid $u"
done
check "sysfs: 4 mdevs of T4-4Q, none left" test "$(mdevs_of nvidia-232):$(avail 232)" = 4:0
refused "all instances taken" 6 'available_instances|no room|left|full' vgpu create $PF T4-4Q
refused "a taken UUID" 6 'exists' vgpu create $PF T4-4Q --uuid $U2

# --- 3. a VFIO user holds an mdev ---------------------------------------------
echo "--- 3. a VFIO user holds an mdev ($(elapsed))"
hold_vfio "$G1" "$U1"
refused "mdev $U1 is open by a VFIO user" 6 "in use.*($holder|python)" vgpu remove $U1
release_vfio
if "$CTL" vgpu remove $U1; then pass "vgpu remove $U1 once the VFIO user exited"; else show_log; fail "vgpu remove $U1"; fi
check "sysfs: mdev $U1 is gone" test ! -e $MDEVS/$U1
check "/dev/vfio/$G1 is gone" test ! -e /dev/vfio/$G1
check "sysfs: T4-4Q has 1 instance left" test "$(avail 232)" = 1

# --- 4. behind gpuvirtd's back ------------------------------------------------
echo "--- 4. behind gpuvirtd's back ($(elapsed))"
# Each direction starts from a state gpuvirtd has right.
echo $U1 > $T/nvidia-232/create || fail "echo $U1 > nvidia-232/create"
check "(14.2) vgpu list shows mdev $U1, made by another tool, without Refresh" wait_until 20 listed $U1 nvidia-232
listed $U1 nvidia-232 || refresh > /dev/null
echo 1 > $MDEVS/$U2/remove || fail "echo 1 > $U2/remove"
check "(14.2) vgpu list no longer shows mdev $U2, removed by another tool" wait_until 20 listed $U2 ""
listed $U2 "" || refresh > /dev/null

# --- 5. the boot plan ---------------------------------------------------------
echo "--- 5. the boot plan ($(elapsed))"
for u in $(ls $MDEVS); do "$CTL" vgpu remove $u > /dev/null || fail "vgpu remove $u"; done
check "sysfs: no mdevs left" test -z "$(ls $MDEVS)"
if "$CTL" vgpu create $PF T4-4Q --uuid $U1 --persist > /dev/null; then pass "vgpu create $PF T4-4Q --uuid $U1 --persist"; else show_log; fail "vgpu create --persist"; fi
sed 's/^/  conf| /' /etc/gpuvirt/gpuvirt.conf
check "the configuration has [Mdev $U1] on $PF" \
  sh -c "sed -n '/^\[Mdev $U1\]/,/^\[/p' /etc/gpuvirt/gpuvirt.conf | grep -qx 'Parent=$PF'"
echo 1 > $MDEVS/$U1/remove || fail "removing $U1 by hand"
restart_daemon "after removing the mdev by hand"
check "boot plan: state done (got $(plan_state))" test "$(plan_state)" = done
check "boot plan: mdev $U1 of nvidia-232 is back" test "$(mdev_type $U1)" = nvidia-232
cat >> /etc/gpuvirt/gpuvirt.conf <<EOF

[Device $PF]
Id=1b36:0010
VgpuType=T4-4Q
VgpuCount=3
EOF
restart_daemon "VgpuCount=3"
check "boot plan: state done (got $(plan_state))" test "$(plan_state)" = done
check "VgpuCount=3: three mdevs of nvidia-232 (got $(mdevs_of nvidia-232)), $U1 one of them" \
  test "$(mdevs_of nvidia-232):$(mdev_type $U1)" = 3:nvidia-232
before=$(vgpu_state)
restart_daemon "once more"
check "a second restart changes nothing" test "$before" = "$(vgpu_state)"
systemctl stop "$unit"

# --- 6. the kernel: who counts mdev instances (Linux 6.1) ---------------------
echo "--- 6. the kernel: who counts mdev instances (Linux 6.1) ($(elapsed))"
# The default driver has get_available: the core never counts, and a create
# with no room reaches the driver's probe, which refuses it.
for u in $(ls $MDEVS); do echo 1 > $MDEVS/$u/remove; done
for u in $U1 $U2 $U3 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e54; do echo $u > $T/nvidia-232/create; done
dmesg -c > /dev/null
check "get_available: a fifth T4-4Q is refused" sh -c "! echo 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e55 > $T/nvidia-232/create"
check "get_available: the refusal came from the driver's probe (the core let it through)" \
  sh -c 'dmesg | grep -q "refused in probe"'
for u in $(ls $MDEVS); do echo 1 > $MDEVS/$u/remove; done
# Without get_available the core counts per parent (max_instances, 4 here):
# every type shows the same number, whatever the framebuffer says.
echo core > /sys/module/nvidia_model/parameters/mdev_counting
echo $PF > /sys/bus/pci/drivers/nvidia/unbind
echo $PF > /sys/bus/pci/drivers_probe
check "core counting: every type shows the parent's 4 (got $(cat $T/*/available_instances | sort -u | tr '\n' ' '))" \
  test "$(cat $T/*/available_instances | sort -u)" = 4
for u in $U1 $U2; do echo $u > $T/nvidia-234/create || fail "core counting: T4-16Q $u"; done
for u in $U3 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e54; do echo $u > $T/nvidia-230/create || fail "core counting: T4-1Q $u"; done
check "core counting: four mdevs of two types made, two 16 GiB ones among them" test "$(ls $MDEVS | wc -l)" = 4
dmesg -c > /dev/null
# coreutils printf names the errno (dash's echo says only "I/O error")
err=$(/usr/bin/printf 5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e55 2>&1 > $T/nvidia-230/create)
check "core counting: a fifth is refused by the core: $err" sh -c 'printf "%s" "$1" | grep -qi "too many users"' _ "$err"
check "core counting: the driver's probe never saw it" sh -c '! dmesg | grep -q "5b6c0f1e-2a3d-4c5b-8e9f-0a1b2c3d4e55"'
check "core counting: available_instances reads 0 for every type" test "$(cat $T/*/available_instances | sort -u)" = 0

echo "$NAME: $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || { show_log; exit 1; }
exit 0
