# Shared by the tests/vm/e2e-*.sh scripts (sourced, POSIX sh). They run
# inside the QEMU guest of tests/vm/run-vm, as root; the caller sets NAME
# (the prefix of its messages) before sourcing.

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; echo "$NAME: aborted"; exit 1; }
check() { # DESCRIPTION COMMAND...
  d=$1; shift
  if "$@"; then pass "$d"; else fail "$d"; fi
}

# The test bed's devices (run-vm's QEMU command line).
PF=0000:01:00.0                # NVMe PF with SR-IOV, at most 2 VFs
NIC=0000:00:02.0               # e1000e
SYS=/sys/bus/pci/devices/$PF

t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 )) s"; }

wait_for() { # SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds, at most SECONDS
  w_tries=$(( $1 * 5 )); shift
  until "$@"; do
    [ "$w_tries" -gt 0 ] || return 1
    sleep 0.2; w_tries=$((w_tries - 1))
  done
}

# Refuse to run anywhere but in the test VM: these scripts write to /sys.
e2e_require_guest() {
  [ "${GPUVIRT_IN_VM:-}" = 1 ] || die "not in the test VM (run through tests/vm/run-vm)"
  grep -qw vmtest.guest=1 /proc/cmdline || die "vmtest.guest=1 missing from the kernel command line"
  [ -n "${BUILDDIR:-}" ] && [ -d "$BUILDDIR" ] || die "BUILDDIR is not set to the build tree"
}

e2e_require_systemd() {
  [ "$(cat /proc/1/comm)" = systemd ] || die "PID 1 is not systemd (run through run-vm --systemd)"
}

# Under the guest's systemd: install, and let systemd and the bus see the
# new unit and policy. Sets unit (gpuvirtd.service as installed).
e2e_install_system() {
  e2e_install
  systemctl daemon-reload || die "systemctl daemon-reload"
  systemctl reload dbus || die "reload dbus"
  unit=$(basename "$UNIT")
}
show_log() { echo "--- gpuvirtd journal:"; journalctl -b --no-pager -o cat -u "$unit" | tail -n 40; echo "---"; }

# meson install of $BUILDDIR into the guest's overlay root; sets UNIT, CTL,
# POLICY, ACTIONS, RULES_EXAMPLE to the installed paths.
e2e_install() {
  meson install -C "$BUILDDIR" --no-rebuild --quiet > /tmp/install.log 2>&1 \
    || { cat /tmp/install.log; die "meson install"; }
  pass "meson install into the guest's root ($(elapsed))"
  E2E_INSTALLED=$(meson introspect "$BUILDDIR" --installed) || die "meson introspect --installed"
  UNIT=$(e2e_dest gpuvirtd.service)
  CTL=$(e2e_dest gpuvirtctl)
  POLICY=$(e2e_dest org.gpuvirt.conf)
  ACTIONS=$(e2e_dest org.gpuvirt.policy)
  RULES_EXAMPLE=$(e2e_dest org.gpuvirt.rules.example)
  echo "$NAME: unit $UNIT, client $CTL, bus policy $POLICY, polkit actions $ACTIONS"
  [ -f "$UNIT" ] && [ -x "$CTL" ] && [ -f "$POLICY" ] && [ -f "$ACTIONS" ] && [ -f "$RULES_EXAMPLE" ] \
    || die "installed files missing"
}

e2e_dest() { # the installed path of the file whose installed name ends in /$1
  printf '%s' "$E2E_INSTALLED" | python3 -c 'import json, sys
for dst in json.load(sys.stdin).values():
    if dst.endswith("/" + sys.argv[1]):
        print(dst); break' "$1"
}

# The emulated NVMe and e1000e are not GPUs: let gpuvirt manage them.
e2e_write_config() {
  mkdir -p /etc/gpuvirt
  cat > /etc/gpuvirt/gpuvirt.conf <<'EOF'
# tests/vm: let gpuvirt manage the emulated NVMe and e1000e controllers
[Manage]
Classes=0108;0200
EOF
}

kdriver() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
lspci_driver() { lspci -k -s "$1" | sed -n 's/^[[:space:]]*Kernel driver in use: //p'; }
expect_driver() { # ADDRESS DRIVER STEP
  check "$3: sysfs says $1 is on ${2:-no driver} (got '$(kdriver "$1")')" test "$(kdriver "$1")" = "$2"
  check "$3: lspci -k says $1 is on ${2:-no driver} (got '$(lspci_driver "$1")')" test "$(lspci_driver "$1")" = "$2"
}
numvfs() { cat "/sys/bus/pci/devices/$1/sriov_numvfs"; }

bus_object() { # the object path of ADDRESS, from Manager.GetDevice
  busctl --system call org.gpuvirt /org/gpuvirt org.gpuvirt.Manager GetDevice s "$1" | sed -n 's/^o "\(.*\)"$/\1/p'
}
bus_driver() { # the Driver property of ADDRESS's object, read with busctl
  obj=$(bus_object "$1")
  [ -n "$obj" ] && busctl --system get-property org.gpuvirt "$obj" org.gpuvirt.Device Driver | sed -n 's/^s "\(.*\)"$/\1/p'
}

# What a denied call must not change: drivers, overrides, VF counts of every
# PCI function, the VFIO nodes, the configuration file.
kernel_state() {
  # a few execs, not several per device: each costs ~40 ms under TCG
  ls -l /sys/bus/pci/devices/*/driver 2>/dev/null | sed 's/.* \/sys/\/sys/'
  grep -H . /sys/bus/pci/devices/*/driver_override /sys/bus/pci/devices/*/sriov_numvfs 2>/dev/null
  ls /dev/vfio 2>/dev/null | tr '\n' ' '; echo
  cksum /etc/gpuvirt/gpuvirt.conf 2>/dev/null
}

# QEMU's NVMe VFs start offline: nvme probes each new VF and gives up
# ("Device not ready") after a while. Wait for that, so the kernel's own
# late change is not taken for one of ours.
vfs_off_nvme() { ! ls -l /sys/bus/pci/devices/$1/virtfn*/driver 2>/dev/null | grep -q '/nvme$'; }
wait_vfs_settled() { # PF
  wait_for 30 vfs_off_nvme "$1" || { echo "$NAME: VFs of $1 still on nvme after 30 s"; return 1; }
}

# Runs COMMAND as USER (no login, no session).
as() { u=$1; shift; runuser -u "$u" -- "$@"; }

# A change USER must not make: gpuvirtctl fails naming polkit, and the
# kernel state does not change. $CTL is the installed gpuvirtctl.
denied() { # USER DESCRIPTION GPUVIRTCTL-ARGS...: fails, polkit named, kernel unchanged
  u=$1; what=$2; shift 2
  before=$(kernel_state)
  out=$(as "$u" "$CTL" "$@" < /dev/null 2>&1); rc=$?
  after=$(kernel_state)
  if [ $rc -ne 0 ] && printf '%s' "$out" | grep -qiE 'polkit|authoriz|authentic'; then
    pass "$u: gpuvirtctl $* denied ($what): $(printf '%s' "$out" | head -n 1)"
  else
    fail "$u: gpuvirtctl $* was not denied by polkit ($what): exit $rc: $out"
  fi
  if [ "$before" = "$after" ]; then
    pass "$u: gpuvirtctl $*: kernel state unchanged"
  else
    fail "$u: gpuvirtctl $* changed the kernel state"
    printf '%s\n' "$before" > /tmp/before; printf '%s\n' "$after" > /tmp/after; diff /tmp/before /tmp/after
  fi
}
