#!/usr/bin/env bash
# The README's demo command: builds gpuvirt, mounts the built-in simulated
# host "workstation" and tours it. Nothing here touches this machine's /sys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
meson compile -C build >/dev/null

simfs=build/simfs/gpuvirt-simfs
mnt=$(mktemp -d /tmp/gpuvirt-demo-XXXXXX)
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "Mount the simulated host 'workstation' (iGPU + NVIDIA GPU with audio, USB and UCSI functions)"
show "$simfs" workstation "$mnt"

step "lspci reads it like a real /sys"
show lspci -A linux-sysfs -O sysfs.path="$mnt/sys/bus/pci" -nnk 2>/dev/null

gpu=0000:01:00.0
step "The GPU's IOMMU group and who holds it"
show ls "$mnt/sys/kernel/iommu_groups/$(basename "$(readlink "$mnt/sys/bus/pci/devices/$gpu/iommu_group")")/devices"
for p in "$mnt"/proc/[0-9]*; do
  printf '  pid %s %-20s holds %s\n' "$(basename "$p")" "$(cat "$p/comm")" "$(cd "$p/fd" && for f in *; do readlink "$f"; done | tr '\n' ' ')"
done

step "The kernel's answers: move the HDMI audio function to vfio-pci the documented way"
audio=0000:01:00.1
show bash -c "echo vfio-pci > $mnt/sys/bus/pci/devices/$audio/driver_override"
show bash -c "echo $audio > $mnt/sys/bus/pci/devices/$audio/driver/unbind"
show bash -c "echo $audio > $mnt/sys/bus/pci/drivers_probe"
show readlink "$mnt/sys/bus/pci/devices/$audio/driver"
show ls "$mnt/dev/vfio"
step "Binding it again while bound is EBUSY, as on Linux"
show bash -c "echo $audio > $mnt/sys/bus/pci/drivers/vfio-pci/bind" || true
step "Every write the simulator saw"
show cat "$mnt/.sim/log"

echo
echo "gpuvirt demo: done (the simulated host is unmounted on exit)."
