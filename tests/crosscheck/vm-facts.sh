#!/bin/sh
# Prints what the test VM's kernel shows (devices, drivers, IOMMU groups,
# files), for mirroring in simfs's "qemu-testbed" scenario:
#   tests/vm/run-vm tests/crosscheck/vm-facts.sh
# Read-only except for a VF enable/disable on the PF (inside the VM only).
set -u
grep -q 'vmtest.guest=1' /proc/cmdline || { echo "vm-facts: run this inside the test VM" >&2; exit 2; }
PF=${PF:-0000:01:00.0}
NIC=${NIC:-0000:00:02.0}
D=/sys/bus/pci/devices
section() { echo; echo "== $*"; }
section uname -r; uname -r
section cat /proc/cmdline; cat /proc/cmdline
section lspci -nnk; lspci -nnk
section ls -l $D/; ls -l $D/
section drivers; ls /sys/bus/pci/drivers/
for d in nvme e1000e pcieport vfio-pci; do echo "$d: $(ls /sys/bus/pci/drivers/$d | tr '\n' ' ')"; done
section IOMMU groups
for g in /sys/kernel/iommu_groups/*; do echo "${g##*/} type=$(cat "$g/type") devices=$(ls "$g/devices" | tr '\n' ' ')"; done
ls /sys/class/iommu/
section per-device files
for b in $(ls $D); do
  echo "$b: vendor=$(cat $D/$b/vendor) device=$(cat $D/$b/device) class=$(cat $D/$b/class) driver=$(basename "$(readlink $D/$b/driver)" 2>/dev/null) group=$(basename "$(readlink $D/$b/iommu_group)") override=$(cat $D/$b/driver_override)"
done
section ls $D/$PF/; ls $D/$PF/
section PF SR-IOV files
for f in $D/$PF/sriov_*; do echo "${f##*/}=$(cat "$f")"; done
section ls $D/$NIC/; ls $D/$NIC/
section bus files; ls /sys/bus/pci/ /sys/bus/pci/drivers/vfio-pci/
echo "drivers_autoprobe=$(cat /sys/bus/pci/drivers_autoprobe)"
section ls -l /dev/vfio; ls -l /dev/vfio
section "VFs enabled (sriov_drivers_autoprobe=0, sriov_numvfs=2)"
echo 0 > $D/$PF/sriov_drivers_autoprobe
echo 2 > $D/$PF/sriov_numvfs
ls -l $D/$PF/ | grep virtfn
lspci -nnk -s 01:
for vf in $(ls $D | grep "^${PF%.*}\.[1-7]$"); do
  echo "$vf: physfn -> $(readlink $D/$vf/physfn) group=$(basename "$(readlink $D/$vf/iommu_group)") vendor=$(cat $D/$vf/vendor) device=$(cat $D/$vf/device) driver=$(basename "$(readlink $D/$vf/driver)" 2>/dev/null)"
done
ls $D/${PF%.*}.1/
for g in /sys/kernel/iommu_groups/*; do echo "${g##*/} type=$(cat "$g/type") devices=$(ls "$g/devices" | tr '\n' ' ')"; done
section "VF 0 bound to vfio-pci, then sriov_numvfs=0"
echo vfio-pci > $D/${PF%.*}.1/driver_override
echo ${PF%.*}.1 > /sys/bus/pci/drivers/vfio-pci/bind
ls -l /dev/vfio
echo 0 > $D/$PF/sriov_numvfs
ls -l /dev/vfio
