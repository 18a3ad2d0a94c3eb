#!/usr/bin/env bash
# Passthrough figures on the simulated big-host: every NVIDIA GPU to
# vfio-pci and back through gpuvirtctl (independent IOMMU groups move in
# parallel), next to the same moves done one GPU after another by a shell
# loop of writes, as vfio-manage.sh does. Each GPU's move is slowed by 1 s
# (on its own driver_override write: FUSE serializes writes to one file, so
# a delay on the shared unbind file could not overlap in the simulator).
source "$(dirname "$0")/lib.sh"

"$build/simfs/gpuvirt-simfs" big-host "$mnt"
start_bus
start_daemon >/dev/null
slow() { echo "sys/devices/*/driver_override delay=1000 data=vfio-pci count=1000" > "$mnt/.sim/faults"; }
gpus=$(for d in "$mnt"/sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor")" = 0x10de ] && [ "$(cut -c1-4 < "$d/class")" = 0x03 ] && basename "$d"; done)
n=$(echo "$gpus" | wc -w)

slow
t0=$(now_ms); "$build/client/gpuvirtctl" bind --all >/dev/null; t1=$(now_ms)
echo "gpuvirtctl bind --all ($n GPUs, 1 s each):   $((t1 - t0)) ms"
echo clear > "$mnt/.sim/faults"
"$build/client/gpuvirtctl" return $gpus >/dev/null

# reads while one unbind blocks for 5 s
first=$(echo "$gpus" | head -1)
path=/org/gpuvirt/devices/pci_$(echo "$first" | tr ':.' '__')
echo "sys/bus/pci/drivers/nvidia/unbind delay=5000" > "$mnt/.sim/faults"
"$build/client/gpuvirtctl" bind "$first" >/dev/null & bind_pid=$!
sleep 1
echo "property read while an unbind blocks (mean of 20): $(mean_ms 20 busctl --system get-property org.gpuvirt "$path" org.gpuvirt.Device State) ms"
echo "  (State during it: $(busctl --system get-property org.gpuvirt "$path" org.gpuvirt.Device State))"
wait "$bind_pid"
echo clear > "$mnt/.sim/faults"
"$build/client/gpuvirtctl" return "$first" >/dev/null

slow
t0=$(now_ms)
for g in $gpus; do   # vfio-manage.sh's sequence, one GPU after another
  d=$mnt/sys/bus/pci/devices/$g
  echo vfio-pci > "$d/driver_override"
  [ -e "$d/driver" ] && echo "$g" > "$d/driver/unbind"
  echo "$g" > "$mnt/sys/bus/pci/drivers_probe"
done
t1=$(now_ms)
echo "shell loop, one GPU after another:         $((t1 - t0)) ms"
