#!/bin/sh
# vGPUs on the vendor-specific VFIO framework on a real kernel (issue 14):
# the NVMe PF plays an L40S (48 GiB) bound to the test-only nvidia_model
# module (tests/vm/nvidia-model, mode=vendor): its VFs come up on nvidia
# with nvidia/creatable_vgpu_types and nvidia/current_vgpu_type, and a VF
# that carries a type is a VFIO device registered through vfio-pci-core.
# gpuvirtd runs as its installed unit (run-vm --systemd); only gpuvirtctl
# talks to it, and every state is read back from sysfs:
#   1. types, vgpu create (enabling VFs), vgpu list, the VF's VFIO nodes;
#   2. capacity: the AVAILABLE figure, NoSuchType, NoCapacity when full;
#      SR-IOV off refused while VFs carry types;
#   3. a VFIO user holding a VF: vgpu remove refused (InUse), then done;
#   4. a type set and released behind gpuvirtd's back shows in vgpu list
#      without Refresh;
#   5. the boot plan: vgpu create --persist, the kernel state wiped,
#      systemctl restart brings it back; VgpuType + VgpuCount on the GPU;
#   6. many VFs: the kernel's sriov_numvfs write returns once every VF is
#      added and probed (time per VF); `gpuvirtctl sriov PF 127` succeeds
#      however long that takes (each VF's probe made to take 60 ms, of the
#      order of NVIDIA's), and all 127 VFs stay through `systemctl restart`;
#      the last VF takes a type; `sriov off` disables them all;
#   7. MIG (issue 18), through the test NVML over the MIG state nvidia_model
#      keeps for the PF (an H100 to the test NVML): a pending mode made
#      current by a reset through the PF's sysfs reset file, by hand and by
#      gpuvirtd (the kernel's pci_reset_function() calls the driver's
#      reset_done); GPU instances dropped by enabling VFs on the real
#      kernel; MIG mode off refused while VFs exist; a disabled
#      reset_method leaves the mode pending, said so.
# Checks tagged (14.N) assert issue 14's point N as fixed, (18) issue 18's
# real-kernel part. One VM for all of it: a --systemd boot and the install
# cost ~30 s.
#
# usage (on the host): tests/vm/run-vm --systemd --vfs 127 --kmod tests/vm/nvidia-model \
#   /usr/bin/env BUILDDIR=BUILD tests/vm/e2e-vgpu-vendor.sh
set -u
NAME=e2e-vgpu-vendor
. "$(dirname "$0")/e2e-lib.sh"
. "$(dirname "$0")/vgpu-lib.sh"

e2e_require_guest
e2e_require_systemd
N=127
[ "$(cat $SYS/sriov_totalvfs)" = $N ] || die "the NVMe offers $(cat $SYS/sriov_totalvfs) VFs, not $N (run-vm --vfs $N)"

e2e_install_system
e2e_write_config
nvm_test_nvml
nvm_load mode=vendor mig_model=0x2331
nvm_bind_pf

# --- the kernel alone: enabling VFs takes time per VF -------------------------
# The write returns once every VF is added and its driver's probe is done:
# with each probe taking 50 ms, 32 VFs take 1.6 s more than the kernel's own.
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
on_nvidia() { # COUNT: the PF has COUNT VFs, each on nvidia with nvidia/ (3 execs, not 2 per VF)
  [ "$(ls -l $SYS/virtfn*/driver 2>/dev/null | grep -c '/nvidia$')" = "$1" ] &&
    [ "$(ls $SYS/virtfn*/nvidia/current_vgpu_type 2>/dev/null | wc -l)" = "$1" ]
}
echo 50 > /sys/module/nvidia_model/parameters/vf_probe_ms
tp0=$(ms); echo 32 > $SYS/sriov_numvfs || fail "echo 32 > sriov_numvfs"; tp1=$(ms)
check "the kernel: all 32 VFs are on nvidia with nvidia/ when the write returns" on_nvidia 32
echo "$NAME: enabling 32 VFs took $((tp1 - tp0)) ms, 1600 of them the probes': the kernel's own $(( (tp1 - tp0 - 1600) / 32 )) ms per VF"
check "the kernel: the write waited for the 32 probes of 50 ms ($((tp1 - tp0)) ms)" test $((tp1 - tp0)) -ge 1600
echo 0 > /sys/module/nvidia_model/parameters/vf_probe_ms
echo 0 > $SYS/sriov_numvfs

systemctl start "$unit" || { show_log; die "systemctl start $unit"; }
pass "gpuvirtd started, $PF on nvidia (vendor-VFIO model) ($(elapsed))"

# --- 1. types, create, list ---------------------------------------------------
echo "--- 1. types, create, list ($(elapsed))"
check "types $PF: framework pending before any VF exists" \
  test "$("$CTL" types $PF --json | jget 'j["Framework"]')" = pending
if "$CTL" vgpu create $PF L40S-24Q --num-vfs 4; then pass "vgpu create $PF L40S-24Q --num-vfs 4"; else show_log; fail "vgpu create $PF L40S-24Q"; fi
check "sysfs: 4 VFs enabled (got $(numvfs $PF))" test "$(numvfs $PF)" = 4
check "sysfs: one VF carries 1163 (got $(vfs_with_type 1163))" test "$(vfs_with_type 1163)" = 1
VF1=
for i in 0 1 2 3; do
  v=$(vf_at $i)
  expect_driver "$v" nvidia "VF $v"
  [ "$(vf_type "$v")" = 1163 ] && VF1=$v
done
[ -n "$VF1" ] || die "no VF carries the type"
G1=$(group_of /sys/bus/pci/devices/$VF1)
check "sysfs: $VF1 carries a type and is a VFIO device (vfio-dev/$(vf_vfio_dev $VF1))" test -n "$(vf_vfio_dev $VF1)"
check "/dev/vfio/$G1 (the group of $VF1) exists" test -c /dev/vfio/$G1
for i in 0 1 2 3; do
  v=$(vf_at $i)
  [ "$v" = "$VF1" ] || check "sysfs: $v carries no type and has no vfio-dev" test "$(vf_type "$v")" = 0 -a -z "$(vf_vfio_dev "$v")"
done
list=$("$CTL" vgpu list --json)
check "vgpu list: one vGPU, $VF1 with 1163 on /dev/vfio/$G1" test \
  "$(printf '%s' "$list" | jget '[(v["Vgpu"], v["Type"], v["VfioGroupNode"]) for v in j["Vgpus"]]')" = \
  "('$VF1', '1163', '/dev/vfio/$G1')"

# --- 2. capacity and refusals -------------------------------------------------
echo "--- 2. capacity and refusals ($(elapsed))"
FREE=$(vf_at 3); [ "$FREE" != "$VF1" ] || FREE=$(vf_at 2)
check "types $FREE lists what its creatable_vgpu_types lists ($(creatable_ids $FREE))" test \
  "$("$CTL" types $FREE --json | jget 'sorted(int(t["Id"]) for t in j["Types"])') " = "$(creatable_ids $FREE)"
avail=$("$CTL" types $PF --json | jget '[t["Available"] for t in j["Types"] if t["Id"] == "1163"]')
check "(14.6) types $PF: AVAILABLE of L40S-24Q is 1, how many more fit in 48 GiB (got '$avail')" test "$avail" = 1
refused "an unknown type" 3 'no vGPU type' vgpu create $PF L40S-5Q
if "$CTL" vgpu create $PF L40S-24Q > /dev/null; then pass "vgpu create $PF L40S-24Q (the second)"; else fail "second L40S-24Q"; fi
check "sysfs: two VFs carry 1163" test "$(vfs_with_type 1163)" = 2
check "sysfs: no VF offers a type any more" test -z "$(for i in 0 1 2 3; do creatable_ids "$(vf_at $i)"; done | tr -d ' ')"
refused "the GPU is full" 6 'full|no room|fit' vgpu create $PF L40S-24Q
refused "a type that no longer fits" 6 'full|room|fit|take all' vgpu create $PF L40S-1Q
avail=$("$CTL" types $PF --json | jget 'sum(t["Available"] for t in j["Types"])')
check "(14.6) types $PF: nothing is available when full (got '$avail')" test "$avail" = 0
r_before=$(vgpu_state)
out=$("$CTL" sriov $PF off 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
check "sriov $PF off is refused while VFs carry vGPU types (exit $rc)" test "$rc" = 6
check "the refusal names the VFs and their types" sh -c 'printf "%s" "$1" | grep -q "carries vGPU type 1163"' _ "$out"
check "(14.7) the refusal does not claim a virtual machine uses them" sh -c '! printf "%s" "$1" | grep -qi "virtual machine uses"' _ "$out"
check "after the refusal: the kernel's vGPU state is unchanged" test "$r_before" = "$(vgpu_state)"

# --- 3. a VFIO user holds a VF ------------------------------------------------
echo "--- 3. a VFIO user holds a VF ($(elapsed))"
hold_vfio "$G1" "$VF1"
list=$("$CTL" vgpu list --json)
check "vgpu list names the holder of $VF1 (pid $holder)" test \
  "$(printf '%s' "$list" | jget "[h['Pid'] for v in j['Vgpus'] if v['Vgpu'] == '$VF1' for h in v['Holders']]")" = "$holder"
refused "$VF1 is open by a VFIO user" 6 "in use.*($holder|python)" vgpu remove $VF1
# coreutils printf names the errno (dash's echo says only "I/O error")
err=$(/usr/bin/printf 0 2>&1 > /sys/bus/pci/devices/$VF1/nvidia/current_vgpu_type)
check "the module refuses a release behind gpuvirtd's back too: $err" \
  sh -c 'printf "%s" "$1" | grep -q "Device or resource busy"' _ "$err"
release_vfio
if "$CTL" vgpu remove $VF1; then pass "vgpu remove $VF1 once the VFIO user exited"; else show_log; fail "vgpu remove $VF1"; fi
check "sysfs: $VF1 carries no type" test "$(vf_type $VF1)" = 0
check "sysfs: $VF1 is no VFIO device any more (no vfio-dev)" test -z "$(vf_vfio_dev $VF1)"
check "/dev/vfio/$G1 is gone" test ! -e /dev/vfio/$G1
check "sysfs: $VF1 is still on nvidia" test "$(kdriver $VF1)" = nvidia

# --- 4. behind gpuvirtd's back ------------------------------------------------
echo "--- 4. behind gpuvirtd's back ($(elapsed))"
# No uevent tells of a write to current_vgpu_type; vfio-dev's add and
# remove do. Each direction starts from a state gpuvirtd has right.
/usr/bin/printf 1163 > /sys/bus/pci/devices/$VF1/nvidia/current_vgpu_type || fail "1163 > $VF1/nvidia/current_vgpu_type"
check "another tool set 1163 on $VF1: vfio-dev appeared" test -n "$(vf_vfio_dev $VF1)"
check "(14.2) vgpu list shows $VF1 with 1163 without Refresh" wait_until 20 listed $VF1 1163
listed $VF1 1163 || refresh > /dev/null
/usr/bin/printf 0 > /sys/bus/pci/devices/$VF1/nvidia/current_vgpu_type || fail "0 > $VF1/nvidia/current_vgpu_type"
check "(14.2) vgpu list no longer shows $VF1 after another tool released it" wait_until 20 listed $VF1 ""
listed $VF1 "" || refresh > /dev/null
check "vgpu list shows the VF of the second vGPU only" test \
  "$("$CTL" vgpu list --json | jget '[v["Vgpu"] for v in j["Vgpus"]]')" = "$(for i in 0 1 2 3; do v=$(vf_at $i); [ "$(vf_type $v)" = 1163 ] && echo $v; done)"

# --- 5. the boot plan ---------------------------------------------------------
echo "--- 5. the boot plan ($(elapsed))"
VF2=$("$CTL" vgpu list --json | jget 'j["Vgpus"][0]["Vgpu"]')
"$CTL" vgpu remove $VF2 > /dev/null || fail "vgpu remove $VF2"
"$CTL" sriov $PF off > /dev/null || fail "sriov $PF off"
check "sysfs: VFs disabled" test "$(numvfs $PF)" = 0
if "$CTL" vgpu create $PF L40S-12Q --num-vfs 4 --persist > /dev/null; then
  pass "vgpu create $PF L40S-12Q --num-vfs 4 --persist"
else
  show_log; fail "vgpu create --persist"
fi
VF=
for i in 0 1 2 3; do [ "$(vf_type "$(vf_at $i)")" = 1161 ] && VF=$(vf_at $i); done
sed 's/^/  conf| /' /etc/gpuvirt/gpuvirt.conf
check "the configuration enables 4 VFs on $PF" \
  sh -c "sed -n '/^\[Device $PF\]/,/^\[/p' /etc/gpuvirt/gpuvirt.conf | grep -qx 'NumVfs=4'"
check "the configuration gives $VF its type" \
  sh -c "sed -n '/^\[Device $VF\]/,/^\[/p' /etc/gpuvirt/gpuvirt.conf | grep -qE '^VgpuType=(1161|.*L40S-12Q)$'"
echo 0 > /sys/bus/pci/devices/$VF/nvidia/current_vgpu_type && echo 0 > $SYS/sriov_numvfs \
  || fail "wiping the state by hand"
check "wiped by hand: no VFs" test "$(numvfs $PF)" = 0
restart_daemon "after the wipe"
check "boot plan: state done (got $(plan_state))" test "$(plan_state)" = done
check "boot plan: 4 VFs again (got $(numvfs $PF))" test "$(numvfs $PF)" = 4
check "boot plan: $VF carries 1161 again (got '$(vf_type $VF)')" test "$(vf_type $VF)" = 1161
check "boot plan: $VF is a VFIO device again" test -n "$(vf_vfio_dev $VF)"

# VgpuCount: three of the type on the GPU, the configured VF's counting.
write_conf <<EOF
[Device $PF]
Id=1b36:0010
NumVfs=4
VgpuType=L40S-12Q
VgpuCount=3

[Device $VF]
Id=1b36:0010
VgpuType=L40S-12Q
EOF
restart_daemon "VgpuCount=3"
check "boot plan: state done (got $(plan_state))" test "$(plan_state)" = done
check "VgpuCount=3: three VFs carry 1161 (got $(vfs_with_type 1161))" test "$(vfs_with_type 1161)" = 3
check "VgpuCount=3: $VF is one of them" test "$(vf_type $VF)" = 1161
before=$(vgpu_state)
restart_daemon "once more"
check "a second restart changes nothing" test "$before" = "$(vgpu_state)"
check "a second restart: every step skipped (got $(plan_statuses))" test "$(plan_statuses)" = skipped

# --- 6. many VFs --------------------------------------------------------------
echo "--- 6. many VFs ($(elapsed))"
write_conf < /dev/null
for v in $(for i in 0 1 2 3; do vf_at $i; done); do
  [ "$(vf_type "$v")" = 0 ] || "$CTL" vgpu remove "$v" > /dev/null || fail "vgpu remove $v"
done
"$CTL" sriov $PF off > /dev/null || fail "sriov $PF off"
echo 60 > /sys/module/nvidia_model/parameters/vf_probe_ms
tc0=$(ms)
out=$("$CTL" sriov $PF $N 2>&1); rc=$?
tc1=$(ms)
printf '%s\n' "$out" | sed 's/^/  | /' | head -n 3
check "(14.1) gpuvirtctl sriov $PF $N succeeds (exit $rc after $((tc1 - tc0)) ms)" test "$rc" = 0
check "sysfs: sriov_numvfs is $N (got $(numvfs $PF))" test "$(numvfs $PF)" = $N
check "sysfs: all $N VFs are on nvidia with nvidia/" on_nvidia $N
sriov_json() { "$CTL" sriov $PF --json | jget '(j["NumVfs"], len(j["VirtualFunctions"]))'; }
check "gpuvirtctl sriov $PF: NumVfs $N, $N VirtualFunctions (got $(sriov_json))" test "$(sriov_json)" = "$N $N"
restart_daemon "after enabling $N VFs"
check "(14.1) after the restart: sriov_numvfs is still $N (got $(numvfs $PF))" test "$(numvfs $PF)" = $N
check "(14.1) after the restart: all $N VFs are on nvidia with nvidia/" on_nvidia $N
check "after the restart: gpuvirtctl sriov $PF says $N (got $(sriov_json))" test "$(sriov_json)" = "$N $N"
journalctl -b --no-pager -o cat -u "$unit" | grep -iE 'recover|undo|roll|put .* back' | sed 's/^/  journal| /'
LAST=$(vf_at $((N - 1)))
if [ -z "$LAST" ]; then
  fail "no VF $N to give a type to: the VFs are gone"
else
  if "$CTL" vgpu create "$LAST" L40S-1Q > /dev/null; then pass "vgpu create $LAST L40S-1Q (the last VF)"; else show_log; fail "vgpu create $LAST"; fi
  check "sysfs: $LAST carries 1155 and is a VFIO device" test "$(vf_type "$LAST")" = 1155 -a -n "$(vf_vfio_dev "$LAST")"
  "$CTL" vgpu remove "$LAST" > /dev/null || fail "vgpu remove $LAST"
fi
if "$CTL" sriov $PF off > /dev/null; then pass "gpuvirtctl sriov $PF off ($N VFs)"; else show_log; fail "gpuvirtctl sriov $PF off"; fi
check "sysfs: no VFs (got $(numvfs $PF))" test "$(numvfs $PF)" = 0

# --- 7. MIG: the sysfs reset that makes a pending mode current ----------------
echo "--- 7. MIG ($(elapsed))"
MIGF=/sys/bus/pci/drivers/nvidia/mig
mig_field() { sed -n "/^gpu $PF /s/.* $1=\([0-9a-f]*\).*/\1/p" $MIGF; }   # the module's state
mig_mode() { echo "$(mig_field current):$(mig_field pending):$(mig_field resets)"; }
gis() { grep -c "^gi $PF " $MIGF; }
mig_json() { "$CTL" mig $PF --json | jget "$1"; }
mode_shown() { [ "$(mig_json '(j["Mig"]["Mode"], j["Mig"]["PendingMode"])')" = "$1" ]; }
gis_shown() { [ "$(mig_json 'len(j["Mig"]["GpuInstances"])')" = "$1" ]; }
sed 's/^/  mig| /' $MIGF
check "(18) mig list: MIG available through the test NVML, $PF listed" test \
  "$("$CTL" mig list --json | jget '(j["MigAvailable"], [g["Address"] for g in j["Gpus"]])')" = "True ['$PF']"
check "(18) mig $PF: an H100's profiles, mode off" test \
  "$(mig_json '(j["Mig"]["Mode"], "1g.10gb" in [p["Name"] for p in j["Mig"]["Profiles"]])')" = "False True"
r0=$(mig_field resets)

# a pending mode, made current by a reset by hand: the kernel's path
out=$("$CTL" mig $PF on --pending 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
check "(18) mig $PF on --pending (exit $rc) says it is pending" \
  sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "takes effect at the next reset"' _ "$rc" "$out"
check "(18) the module: mode off, pending on, no reset yet (got $(mig_mode))" test "$(mig_mode)" = "0:1:$r0"
echo 1 > $SYS/reset || fail "echo 1 > $SYS/reset"
check "(18) echo 1 > $PF/reset: the kernel's reset called reset_done, the mode is current (got $(mig_mode))" \
  test "$(mig_mode)" = "1:1:$((r0 + 1))"
dmesg | grep 'nvidia-model: function reset' | tail -n 1 | sed 's/^/  dmesg| /'
refresh > /dev/null
check "(18) after Refresh gpuvirtd shows MIG mode on" wait_until 20 mode_shown "True True"

# GPU instances, dropped by enabling VFs on the real kernel
"$CTL" mig create $PF 1g.10gb --count=2 > /dev/null || { show_log; fail "mig create $PF 1g.10gb --count=2"; }
"$CTL" mig create $PF 3g.40gb > /dev/null || { show_log; fail "mig create $PF 3g.40gb"; }
check "(18) the module holds 3 GPU instances (got $(gis))" test "$(gis)" = 3
check "(18) gpuvirtd shows 3 GPU instances" gis_shown 3
"$CTL" sriov $PF 2 > /dev/null || { show_log; fail "sriov $PF 2"; }
check "(18) enabling VFs dropped the GPU instances (the module's sriov_configure; got $(gis))" test "$(gis)" = 0
check "(18) gpuvirtd shows none after the SR-IOV change, without Refresh" wait_until 20 gis_shown 0
refused_mig() { # DESCRIPTION EXIT PATTERN ARGS...: as refused, the module's MIG state unchanged
  m_what=$1; m_exit=$2; m_pat=$3; shift 3
  m_before=$(cat $MIGF)
  m_out=$("$CTL" "$@" 2>&1); m_rc=$?
  printf '%s\n' "$m_out" | sed 's/^/  | /'
  check "(18) $m_what: gpuvirtctl $* exits $m_exit (got $m_rc)" test "$m_rc" = "$m_exit"
  check "(18) $m_what: the message says /$m_pat/" sh -c 'printf "%s" "$1" | grep -qE "$2"' _ "$m_out" "$m_pat"
  check "(18) $m_what: the module's MIG state is unchanged" test "$m_before" = "$(cat $MIGF)"
}
refused_mig "MIG mode off with VFs" 6 'disable its VFs first' mig $PF off
"$CTL" mig create $PF 1g.10gb --no-compute-instances > /dev/null || fail "mig create after sriov"
check "(18) a GPU instance made after the VFs stays (got $(gis))" test "$(gis)" = 1
"$CTL" mig destroy $PF --all > /dev/null || fail "mig destroy $PF --all"
"$CTL" sriov $PF off > /dev/null || fail "sriov $PF off"

# a function the kernel cannot reset, then gpuvirtd's own reset
echo > $SYS/reset_method || fail "disabling $PF's reset methods"
out=$("$CTL" mig $PF off 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
check "(18) no reset method: mig $PF off fails (exit $rc)" test "$rc" = 6
check "(18) no reset method: it says the mode is pending and why" \
  sh -c 'printf "%s" "$1" | grep -q "pending on $2.*cannot be reset through sysfs"' _ "$out" "$PF"
check "(18) no reset method: the module has off pending, on current, no reset (got $(mig_mode))" \
  test "$(mig_mode)" = "1:0:$((r0 + 1))"
echo default > $SYS/reset_method || fail "restoring $PF's reset methods"
out=$("$CTL" mig $PF off 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
check "(18) mig $PF off: gpuvirtd reset the GPU (exit $rc)" \
  sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "current after a function reset of $3"' _ "$rc" "$out" "$PF"
check "(18) the module: off current after gpuvirtd's write to $PF/reset (got $(mig_mode))" \
  test "$(mig_mode)" = "0:0:$((r0 + 2))"
check "(18) gpuvirtd shows MIG mode off" mode_shown "False False"
out=$("$CTL" mig $PF on 2>&1) || { printf '%s\n' "$out"; show_log; fail "mig $PF on"; }
check "(18) mig $PF on: current through gpuvirtd's reset (got $(mig_mode))" test "$(mig_mode)" = "1:1:$((r0 + 3))"
"$CTL" mig $PF off > /dev/null || fail "mig $PF off"

check "gpuvirtd is still active" systemctl is-active --quiet "$unit"
echo "$NAME: $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || { show_log; exit 1; }
exit 0
