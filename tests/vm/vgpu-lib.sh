# Shared by the vGPU tests in the QEMU guest (e2e-vgpu-*.sh),
# sourced after e2e-lib.sh. The NVMe PF plays an NVIDIA GPU: it is bound to
# the test-only nvidia_model module (tests/vm/nvidia-model, built for the
# guest kernel by run-vm --kmod), whose PCI driver is named "nvidia".

VM_DIR=$(cd "$(dirname "$0")" && pwd)

# Loads nvidia_model with MODULE PARAMETERS (mode=vendor|mdev, ...), after
# the kernel modules it links against.
nvm_load() {
  nvm_ko=
  for k in ${VMTEST_KMODS:-}; do
    case $k in */nvidia_model.ko) nvm_ko=$k ;; esac
  done
  [ -n "$nvm_ko" ] || die "nvidia_model.ko was not built (run-vm --kmod tests/vm/nvidia-model)"
  modprobe -a vfio_pci_core mdev vfio_iommu_type1 || die "modprobe vfio_pci_core mdev vfio_iommu_type1"
  insmod "$nvm_ko" "$@" || die "insmod $nvm_ko $*"
  pass "nvidia_model loaded ($*)"
}

# gpuvirtd's unit with the test NVML (tests/nvml, from the build tree)
# instead of NVIDIA's libnvidia-ml.so.1, over the MIG state nvidia_model
# keeps (loaded with mig_model=...): a drop-in, as an administrator would
# add one; before the unit starts. The library is copied out of the build
# tree: a tree below /tmp is hidden from the unit by its PrivateTmp=.
nvm_test_nvml() {
  [ -f "$BUILDDIR/tests/nvml/libnvidia-ml.so.1" ] || die "the test NVML was not built ($BUILDDIR/tests/nvml)"
  mkdir -p /usr/local/lib/gpuvirt-test-nvml /etc/systemd/system/gpuvirtd.service.d
  cp "$BUILDDIR/tests/nvml/libnvidia-ml.so.1" /usr/local/lib/gpuvirt-test-nvml/ || die "copying the test NVML"
  printf '%s\n' '[Service]' \
    "Environment=GPUVIRT_NVML_LIBRARY=/usr/local/lib/gpuvirt-test-nvml/libnvidia-ml.so.1" \
    'Environment=GPUVIRT_TEST_NVML_ROOT=/' \
    'Environment=GPUVIRT_TEST_NVML_MIG=/sys/bus/pci/drivers/nvidia/mig' \
    > /etc/systemd/system/gpuvirtd.service.d/test-nvml.conf
  systemctl daemon-reload || die "systemctl daemon-reload"
}

# The PF onto nvidia, as the host's own driver would have it at boot.
nvm_bind_pf() {
  echo nvidia > $SYS/driver_override
  [ -z "$(kdriver $PF)" ] || echo $PF > $SYS/driver/unbind
  echo $PF > /sys/bus/pci/drivers_probe
  [ "$(kdriver $PF)" = nvidia ] || die "$PF did not bind to nvidia (on '$(kdriver $PF)')"
}

vf_at() { basename "$(readlink $SYS/virtfn$1)"; }     # INDEX: the VF's address
vf_type() { cat /sys/bus/pci/devices/$1/nvidia/current_vgpu_type 2>/dev/null; }
vf_vfio_dev() { ls /sys/bus/pci/devices/$1/vfio-dev 2>/dev/null; }
group_of() { basename "$(readlink "$1/iommu_group")"; }  # SYSFS-DIR: its IOMMU group
creatable_ids() { # VF: the ids its creatable_vgpu_types lists, sorted, one line
  sed -n 's/^\([0-9][0-9]*\) *:.*/\1/p' /sys/bus/pci/devices/$1/nvidia/creatable_vgpu_types | sort -n | tr '\n' ' '
}
vfs_with_type() { # ID: how many VFs of the PF carry it
  n=0
  for v in $SYS/virtfn*; do
    [ "$(cat "$v/nvidia/current_vgpu_type" 2>/dev/null)" = "$1" ] && n=$((n + 1))
  done
  echo $n
}
# Every VF's type and VFIO device, the VF count, the mdevs and /dev/vfio:
# what a refused call must leave as it was.
vgpu_state() {
  cat $SYS/sriov_numvfs
  grep -H . $SYS/virtfn*/nvidia/current_vgpu_type 2>/dev/null
  ls -d $SYS/virtfn*/vfio-dev/* /sys/bus/mdev/devices/* 2>/dev/null
  ls /dev/vfio 2>/dev/null | tr '\n' ' '; echo
}

# wait_until SECONDS COMMAND...: polls COMMAND until it succeeds, for at
# most SECONDS of wall time (wait_for counts tries, which a slow command
# under TCG stretches far beyond its bound).
wait_until() {
  w_end=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$w_end" ] || return 1
    sleep 0.2
  done
}

# vgpu_entry ID: the object `gpuvirtctl vgpu list --json=short` has for ID
# (a VF's address or an mdev's UUID), on one line; nothing if not listed.
# grep, not Python: these are polled, and Python takes ~0.5 s to start here.
vgpu_entry() { "$CTL" vgpu list --json=short | tr '{' '\n' | grep "\"Vgpu\" *: *\"$1\""; }
listed() { # ID TYPE: vgpu list shows ID with TYPE; with TYPE "", does not show ID
  l_entry=$(vgpu_entry "$1")
  if [ -z "$2" ]; then [ -z "$l_entry" ]; else printf '%s' "$l_entry" | grep -q "\"Type\" *: *\"$2\""; fi
}
refresh() { busctl --system call org.gpuvirt /org/gpuvirt org.gpuvirt.Manager Refresh; }

# jget EXPRESSION: evaluates a Python expression over the JSON on stdin
# (as j) and prints the result; fails on a parse error.
jget() {
  python3 -c 'import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(" ".join(str(x) for x in r) if isinstance(r, (list, tuple)) else r)' "$1"
}

# refused DESCRIPTION EXIT PATTERN ARGS...: gpuvirtctl ARGS fails with EXIT,
# its message matches the extended regex PATTERN, and the vGPU state of the
# kernel is unchanged.
refused() {
  r_what=$1; r_exit=$2; r_pat=$3; shift 3
  r_before=$(vgpu_state)
  r_out=$("$CTL" "$@" 2>&1); r_rc=$?
  printf '%s\n' "$r_out" | sed 's/^/  | /'
  check "$r_what: gpuvirtctl $* exits $r_exit (got $r_rc)" test "$r_rc" = "$r_exit"
  check "$r_what: the message says /$r_pat/" sh -c 'printf "%s" "$1" | grep -qE "$2"' _ "$r_out" "$r_pat"
  check "$r_what: the kernel's vGPU state is unchanged" test "$r_before" = "$(vgpu_state)"
}

# A real VFIO user of DEVICE (a VF's address or an mdev's UUID) in GROUP,
# in the background; sets holder (its pid) once it holds the device.
hold_vfio() { # GROUP DEVICE
  /usr/bin/python3 "$VM_DIR/vfio-hold.py" "$1" "$2" > /tmp/vfio-hold.log 2>&1 &
  holder=$!
  if wait_for 20 grep -q "^holding $2" /tmp/vfio-hold.log; then
    pass "a VFIO user (pid $holder) holds $2 through /dev/vfio/$1"
  else
    cat /tmp/vfio-hold.log; fail "a VFIO user could not open $2 through /dev/vfio/$1"
  fi
}
release_vfio() { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }

# The configuration: [Manage] as e2e_write_config, then the text on stdin.
write_conf() {
  e2e_write_config
  cat >> /etc/gpuvirt/gpuvirt.conf
}

restart_daemon() { # DESCRIPTION
  if systemctl restart "$unit"; then
    pass "$1: systemctl restart $unit returned, the boot plan ran ($(elapsed))"
  else
    show_log; fail "$1: systemctl restart $unit"
  fi
}

plan_state() { "$CTL" status --json | jget 'j.get("BootPlanState")'; }
plan_statuses() { "$CTL" status --json | jget 'sorted(set(s.get("Status") for s in j.get("BootPlan") or []))'; }
