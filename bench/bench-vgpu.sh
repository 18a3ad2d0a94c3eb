#!/usr/bin/env bash
# vGPU figures on the simulated big-host, from cold (8 L40S with no VFs,
# framework "pending"; a T4 doing mdevs on its PF): every L40S brought to
# 32 VFs with an L40S-1Q on each (32 x 1 GiB fill its 48 GiB) through
# `gpuvirtctl vgpu create GPU L40S-1Q` (one call per vGPU, one GPU after
# another, then one client loop per GPU at once), org.gpuvirt.Vgpu.CreateVgpus
# (32 per call, by busctl) and the boot plan; then the T4 filled with 16 T4-1Q
# mdevs. Each figure is printed as a ratio against the floor measured in
# the same run: the same writes in a shell loop as NVIDIA's how-to does
# them (echo 32 > sriov_numvfs, echo ID > nvidia/current_vgpu_type on each
# VF; echo UUID > .../create), through the same simulator. Each run starts
# from a freshly mounted scenario. Set GPUS=N to use only the first N L40S.
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

ratio() { echo "scale=1; $1 / $2" | bc; }
# batch DEVICE TYPE N: org.gpuvirt.Vgpu.CreateVgpus (gpuvirtctl has no --count for it yet)
batch() {
  busctl --system --timeout=600 call org.gpuvirt "/org/gpuvirt/devices/pci_$(echo "$1" | tr ':.' '__')" \
    org.gpuvirt.Vgpu CreateVgpus 'sua{sv}' "$2" "$3" 0 >/dev/null
}
# figure LABEL MS COUNT: remembered, printed with its ratio at the end
labels=(); figures=(); counts=()
figure() {
  labels+=("$1"); figures+=("$2"); counts+=("$3")
  echo "  $1: $2 ms, $(per_op "$2" "$3") ms each" >&2
}

start_bus
fresh
gpus=$(l40s)
n=$(echo "$gpus" | wc -w)
ops=$((n * 32))
echo "big-host, cold: $n L40S with 0 VFs each, L40S-1Q on 32 VFs of each ($ops vGPUs); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
check() { [ "$(typed_vfs)" = "$1" ] || { echo "bench: $(typed_vfs) VFs typed, not $1" >&2; exit 1; }; }

# the floor: the how-to's writes, measured first and last (load drifts)
t0=$(now_ms); for g in $gpus; do fill_with_shell "$g"; done; t1=$(now_ms); check "$ops"
floor_a=$((t1 - t0))

fresh
t0=$(now_ms); for g in $gpus; do fill_with_ctl "$g"; done; t1=$(now_ms); check "$ops"
figure "gpuvirtctl vgpu create, one call per vGPU, one GPU after another" $((t1 - t0)) "$ops"

fresh
t0=$(now_ms)
loops=()
for g in $gpus; do fill_with_ctl "$g" & loops+=($!); done
wait "${loops[@]}"
t1=$(now_ms); check "$ops"
figure "gpuvirtctl vgpu create, one call per vGPU, a loop per GPU at once" $((t1 - t0)) "$ops"

fresh
t0=$(now_ms); for g in $gpus; do batch "$g" L40S-1Q 32; done; t1=$(now_ms); check "$ops"
figure "CreateVgpus (busctl), 32 per call, one call per GPU" $((t1 - t0)) "$ops"

# the same as a configuration: one boot plan, VgpuCount=32 per GPU
fresh
for g in $gpus; do
  printf '[Device %s]\nId=10de:%s\nVgpuType=L40S-1Q\nVgpuCount=32\n\n' "$g" \
    "$(sed 's/^0x//' "$mnt/sys/bus/pci/devices/$g/device")"
done > "$work/plan.conf"
t0=$(now_ms); "$ctl" config save "$work/plan.conf" --apply >/dev/null; t1=$(now_ms); check "$ops"
figure "gpuvirtctl config save --apply (boot plan, VgpuCount=32 per GPU)" $((t1 - t0)) "$ops"

fresh
t0=$(now_ms); for g in $gpus; do fill_with_shell "$g"; done; t1=$(now_ms); check "$ops"
floor_b=$((t1 - t0))
floor=$(( (floor_a + floor_b) / 2 ))

# the T4: 16 T4-1Q mdevs on the PF, never any VF
t4_mdevs() { ls "$mnt/sys/bus/pci/devices/$T4/mdev_supported_types/nvidia-229/devices" | wc -l; }
fresh
t0=$(now_ms)
for _ in $(seq 16); do cat /proc/sys/kernel/random/uuid > "$mnt/sys/bus/pci/devices/$T4/mdev_supported_types/nvidia-229/create"; done
t1=$(now_ms); [ "$(t4_mdevs)" = 16 ] || exit 1
t4_floor=$((t1 - t0))
fresh
t0=$(now_ms); for _ in $(seq 16); do "$ctl" vgpu create "$T4" T4-1Q >/dev/null; done; t1=$(now_ms); [ "$(t4_mdevs)" = 16 ] || exit 1
t4_one=$((t1 - t0))
fresh
t0=$(now_ms); batch "$T4" T4-1Q 16; t1=$(now_ms); [ "$(t4_mdevs)" = 16 ] || exit 1
t4_batch=$((t1 - t0))

echo
echo "floor (shell loop of the how-to's writes): $floor ms for $ops vGPUs ($floor_a and $floor_b ms, before and after), $(per_op "$floor" "$ops") ms each"
for i in "${!labels[@]}"; do
  printf '%-70s %7s ms each  %6sx the floor\n' "${labels[$i]}" "$(per_op "${figures[$i]}" "${counts[$i]}")" \
    "$(ratio "${figures[$i]}" "$floor")"
done
echo "T4, 16 T4-1Q mdevs: floor $(per_op "$t4_floor" 16) ms each"
printf '%-70s %7s ms each  %6sx the floor\n' "gpuvirtctl vgpu create T4-1Q, one call per mdev" "$(per_op "$t4_one" 16)" "$(ratio "$t4_one" "$t4_floor")"
printf '%-70s %7s ms each  %6sx the floor\n' "CreateVgpus (busctl) T4-1Q, 16 in one call" "$(per_op "$t4_batch" 16)" "$(ratio "$t4_batch" "$t4_floor")"
