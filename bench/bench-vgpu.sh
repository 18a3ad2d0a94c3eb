#!/usr/bin/env bash
# vGPU figures on the simulated big-host, from cold (8 L40S with no VFs,
# framework "pending"; a T4 doing mdevs on its PF): every L40S brought to
# 32 VFs with an L40S-1Q on each (32 x 1 GiB fill its 48 GiB) through
# `gpuvirtctl vgpu create GPU L40S-1Q`, 32 calls per GPU, one GPU after
# another and then one client loop per GPU in parallel; next to the same
# done by a shell loop of writes as NVIDIA's how-to does (echo 32 >
# sriov_numvfs, then echo ID > nvidia/current_vgpu_type on each VF). Then
# the T4 filled with 16 T4-1Q mdevs both ways (echo UUID > .../create).
# Each run starts from a freshly mounted scenario. Set GPUS=N to use only
# the first N L40S.
source "$(dirname "$0")/lib.sh"

ctl=$build/client/gpuvirtctl
daemon_pid=
sim_pid=
T4=0000:c8:00.0

# A freshly mounted big-host with gpuvirtd serving it (its start not timed).
fresh() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; fi
  if [ -n "$sim_pid" ]; then
    fusermount3 -u -z "$mnt"
    kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work/state" "$work/gpuvirt.conf"; mkdir -p "$work/state"
  "$build/simfs/gpuvirt-simfs" --foreground big-host "$mnt" & sim_pid=$!
  until [ -e "$mnt/.sim/scenario" ]; do sleep 0.02; done
  "$build/service/gpuvirtd" --root "$mnt" --state-dir "$work/state" --config "$work/gpuvirt.conf" >>"$work/gpuvirtd.log" 2>&1 &
  daemon_pid=$!
  pids+=("$sim_pid" "$daemon_pid")
  until name_owned; do sleep 0.01; done
}

# the L40S-like GPUs: SR-IOV, NVIDIA, no mdev types on the PF
l40s() {
  local d n=0
  for d in "$mnt"/sys/bus/pci/devices/*; do
    if [ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor")" = 0x10de ] && [ ! -e "$d/mdev_supported_types" ] &&
       [ "$n" -lt "${GPUS:-99}" ]; then
      basename "$d"; n=$((n + 1))
    fi
  done
}

typed_vfs() {
  local n=0 t
  for t in "$mnt"/sys/bus/pci/devices/*/nvidia/current_vgpu_type; do
    [ -e "$t" ] && [ "$(cat "$t")" != 0 ] && n=$((n + 1))
  done
  echo "$n"
}

fill_with_ctl() {   # GPU: 32 vGPUs, one call each
  for _ in $(seq 32); do "$ctl" vgpu create "$1" L40S-1Q >/dev/null; done
}

fill_with_shell() { # GPU: the how-to's writes
  local pf=$mnt/sys/bus/pci/devices/$1 id vf
  echo 32 > "$pf/sriov_numvfs"
  id=$(awk '/L40S-1Q/ { print $1; exit }' "$pf"/virtfn0/nvidia/creatable_vgpu_types)
  for vf in "$pf"/virtfn*; do echo "$id" > "$vf/nvidia/current_vgpu_type"; done
}

per_op() { echo "scale=1; $1 / $2" | bc; }

start_bus
fresh
gpus=$(l40s)
n=$(echo "$gpus" | wc -w)
ops=$((n * 32))
echo "big-host, cold: $n L40S with 0 VFs each, L40S-1Q on 32 VFs of each ($ops vGPUs)"

t0=$(now_ms)
for g in $gpus; do fill_with_ctl "$g"; done
t1=$(now_ms)
echo "gpuvirtctl vgpu create, one GPU after another:  $((t1 - t0)) ms, $(per_op $((t1 - t0)) $ops) ms per vGPU ($(typed_vfs) VFs typed)"

fresh
t0=$(now_ms)
loops=()
for g in $gpus; do fill_with_ctl "$g" & loops+=($!); done
wait "${loops[@]}"
t1=$(now_ms)
echo "gpuvirtctl vgpu create, a loop per GPU at once: $((t1 - t0)) ms, $(per_op $((t1 - t0)) $ops) ms per vGPU ($(typed_vfs) VFs typed)"

fresh
t0=$(now_ms)
for g in $gpus; do fill_with_shell "$g"; done
t1=$(now_ms)
echo "shell loop of writes (how-to), one GPU after another: $((t1 - t0)) ms, $(per_op $((t1 - t0)) $ops) ms per vGPU ($(typed_vfs) VFs typed)"

# the same as a configuration: one boot plan, VgpuCount=32 per GPU
fresh
for g in $gpus; do
  printf '[Device %s]\nId=10de:%s\nVgpuType=L40S-1Q\nVgpuCount=32\n\n' "$g" \
    "$(sed 's/^0x//' "$mnt/sys/bus/pci/devices/$g/device")"
done > "$work/plan.conf"
t0=$(now_ms)
"$ctl" config save "$work/plan.conf" --apply >/dev/null
t1=$(now_ms)
echo "gpuvirtctl config save --apply (the boot plan, VgpuCount=32 per GPU): $((t1 - t0)) ms, $(per_op $((t1 - t0)) $ops) ms per vGPU ($(typed_vfs) VFs typed)"

# the T4: 16 T4-1Q mdevs on the PF, never any VF
fresh
t0=$(now_ms)
for _ in $(seq 16); do "$ctl" vgpu create "$T4" T4-1Q >/dev/null; done
t1=$(now_ms)
echo "T4: gpuvirtctl vgpu create T4-1Q x16:  $((t1 - t0)) ms, $(per_op $((t1 - t0)) 16) ms per mdev ($(ls "$mnt/sys/bus/pci/devices/$T4/mdev_supported_types/nvidia-229/devices" | wc -l) mdevs)"

fresh
t0=$(now_ms)
for _ in $(seq 16); do
  cat /proc/sys/kernel/random/uuid > "$mnt/sys/bus/pci/devices/$T4/mdev_supported_types/nvidia-229/create"
done
t1=$(now_ms)
echo "T4: shell loop of writes x16:          $((t1 - t0)) ms, $(per_op $((t1 - t0)) 16) ms per mdev ($(ls "$mnt/sys/bus/pci/devices/$T4/mdev_supported_types/nvidia-229/devices" | wc -l) mdevs)"
