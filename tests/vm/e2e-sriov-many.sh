#!/bin/sh
# Many VFs on a real kernel (issue 14, point 1): the NVMe offers 127 VFs
# (run-vm --vfs 127) and its PF plays an L40S on the test-only nvidia_model
# module (mode=vendor), so every VF comes up on nvidia as an NVIDIA GPU's
# do. gpuvirtd runs as its installed unit (run-vm --systemd):
#   1. the kernel alone: enabling VFs takes time per VF (8, then 127,
#      timed from the sysfs write);
#   2. `gpuvirtctl sriov PF 127` succeeds however long the kernel takes
#      (each VF's probe made to take 100 ms, as NVIDIA's takes about 0.2 s:
#      12.7 s at least), and all 127 VFs stay through `systemctl restart
#      gpuvirtd`;
#   3. the last VF takes a vGPU type; `sriov PF off` disables all 127.
# Checks tagged (14.N) assert issue 14's point N as fixed.
#
# usage (on the host): tests/vm/run-vm --systemd --vfs 127 --kmod tests/vm/nvidia-model \
#   /usr/bin/env BUILDDIR=BUILD tests/vm/e2e-sriov-many.sh
set -u
NAME=e2e-sriov-many
. "$(dirname "$0")/e2e-lib.sh"
. "$(dirname "$0")/vgpu-lib.sh"

N=127
e2e_require_guest
e2e_require_systemd
[ "$(cat $SYS/sriov_totalvfs)" = $N ] || die "the NVMe offers $(cat $SYS/sriov_totalvfs) VFs, not $N (run-vm --vfs $N)"

e2e_install_system
e2e_write_config
nvm_load mode=vendor
nvm_bind_pf

# --- 1. the kernel alone -------------------------------------------------------
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
enable_ms() { # COUNT: milliseconds the write of COUNT to sriov_numvfs took
  e_t0=$(ms); echo "$1" > $SYS/sriov_numvfs || return 1; e_t1=$(ms)
  echo $((e_t1 - e_t0))
}
all_on_nvidia() { # COUNT: COUNT VFs, each on nvidia with nvidia/
  n=0
  for v in $SYS/virtfn*; do
    [ "$(basename "$(readlink "$v/driver")")" = nvidia ] && [ -e "$v/nvidia/current_vgpu_type" ] && n=$((n + 1))
  done
  [ "$n" = "$1" ]
}
t8=$(enable_ms 8) || fail "echo 8 > sriov_numvfs"
echo 0 > $SYS/sriov_numvfs
tn=$(enable_ms $N) || fail "echo $N > sriov_numvfs"
echo "$NAME: the kernel enabled 8 VFs in $t8 ms ($((t8 / 8)) ms per VF), $N in $tn ms ($((tn / N)) ms per VF)"
check "the kernel: $N VFs take longer to enable than 8 ($tn ms against $t8 ms)" test "$tn" -gt "$t8"
check "the kernel: all $N VFs are on nvidia with nvidia/" all_on_nvidia $N
echo 0 > $SYS/sriov_numvfs

# --- 2. gpuvirtctl sriov PF 127, then a restart ----------------------------
systemctl start "$unit" || { show_log; die "systemctl start $unit"; }
pass "gpuvirtd started ($(elapsed))"
echo 100 > /sys/module/nvidia_model/parameters/vf_probe_ms
tc0=$(ms)
out=$("$CTL" sriov $PF $N 2>&1); rc=$?
tc1=$(ms)
printf '%s\n' "$out" | sed 's/^/  | /' | head -n 5
check "(14.1) gpuvirtctl sriov $PF $N succeeds (exit $rc after $((tc1 - tc0)) ms)" test "$rc" = 0
check "sysfs: sriov_numvfs is $N (got $(numvfs $PF))" test "$(numvfs $PF)" = $N
check "sysfs: $N virtfn links" test "$(ls -d $SYS/virtfn* | wc -l)" = $N
check "sysfs: all $N VFs are on nvidia with nvidia/" all_on_nvidia $N
sriov_json() { "$CTL" sriov $PF --json | jget '(j["NumVfs"], len(j["VirtualFunctions"]))'; }
check "gpuvirtctl sriov $PF: NumVfs $N, $N VirtualFunctions (got $(sriov_json))" test "$(sriov_json)" = "$N $N"
restart_daemon "after enabling $N VFs"
check "(14.1) after the restart: sriov_numvfs is still $N (got $(numvfs $PF))" test "$(numvfs $PF)" = $N
check "(14.1) after the restart: all $N VFs are on nvidia with nvidia/" all_on_nvidia $N
check "after the restart: gpuvirtctl sriov $PF says $N (got $(sriov_json))" test "$(sriov_json)" = "$N $N"
journalctl -b --no-pager -o cat -u "$unit" | grep -iE 'recover|undo|roll' | sed 's/^/  journal| /'

# --- 3. the last VF, then all off -------------------------------------------
LAST=$(vf_at $((N - 1)))
if [ -z "$LAST" ]; then
  fail "no VF $N to give a type to: the VFs are gone"
else
  if "$CTL" vgpu create "$LAST" L40S-1Q > /dev/null; then pass "vgpu create $LAST L40S-1Q (the last VF)"; else show_log; fail "vgpu create $LAST"; fi
  check "sysfs: $LAST carries 1155 and is a VFIO device" test "$(vf_type "$LAST")" = 1155 -a -n "$(vf_vfio_dev "$LAST")"
  "$CTL" vgpu remove "$LAST" > /dev/null || fail "vgpu remove $LAST"
fi
if "$CTL" sriov $PF off; then pass "gpuvirtctl sriov $PF off"; else show_log; fail "gpuvirtctl sriov $PF off"; fi
check "sysfs: no VFs (got $(numvfs $PF))" test "$(numvfs $PF)" = 0

check "gpuvirtd is still active" systemctl is-active --quiet "$unit"
echo "$NAME: $failures failure(s), $(elapsed)"
[ "$failures" -eq 0 ] || { show_log; exit 1; }
exit 0
