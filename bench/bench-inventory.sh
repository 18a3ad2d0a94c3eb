#!/usr/bin/env bash
# Inventory figures on the simulated big-host with every VF enabled (8 GPUs
# x 32 VFs, 288 PCI functions): gpuvirtd's start-to-ready time, `gpuvirtctl list`, and
# lspci -nnk reading the same tree. Run after building (bash tools/test.sh
# or meson compile -C build).
source "$(dirname "$0")/lib.sh"

"$build/simfs/gpuvirt-simfs" big-host "$mnt"
start_bus
# for scale: every SR-IOV GPU with all its VFs (256 VFs on big-host)
for d in "$mnt"/sys/bus/pci/devices/*; do
  [ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor")" = 0x10de ] && [ ! -e "$d/mdev_supported_types" ] &&
    cat "$d/sriov_totalvfs" > "$d/sriov_numvfs"
done
functions=$(ls "$mnt/sys/bus/pci/devices" | wc -l)
ready=$(start_daemon)
echo "big-host: $functions PCI functions"
echo "gpuvirtd start to ready:          ${ready} ms"
if [ -x "$build/client/gpuvirtctl" ]; then
  echo "gpuvirtctl list (mean of 10):     $(mean_ms 10 "$build/client/gpuvirtctl" list) ms"
  echo "gpuvirtctl list --all (mean of 10): $(mean_ms 10 "$build/client/gpuvirtctl" list --all) ms"
fi
echo "GetManagedObjects via busctl (10): $(mean_ms 10 busctl --system call org.gpuvirt /org/gpuvirt org.freedesktop.DBus.ObjectManager GetManagedObjects) ms"
echo "lspci -nnk on the same tree (10): $(mean_ms 10 lspci -A linux-sysfs -O "sysfs.path=$mnt/sys/bus/pci" -nnk) ms"
