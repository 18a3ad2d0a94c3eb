#!/usr/bin/env bash
# Installs every Debian 12 package that gpuvirt's build, tests and demo need.
# Safe to run repeatedly: it asks apt only for what is missing.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libjson-glib-dev libsystemd-dev libfuse3-dev
  # gpuvirtctl config import mig-parted reads YAML
  libyaml-dev
  # libvirt domain XML (gpuvirtd's doctor, the libvirt hook)
  libxml2-dev
  # simulated host and its checks
  fuse3 pciutils hwdata kmod
  # bus, polkit, and the integration harness
  dbus-daemon dbus-bin systemd polkitd pkexec python3 python3-dbusmock python3-gi
  # the API contract, bus policy and polkit file checks
  libxml2-utils
  # manual pages: scdoc builds them, man-db's man (with groff) checks them
  scdoc man-db
  # real-kernel test bed
  qemu-system-x86 busybox-static cpio xz-utils zstd
  # the test-only kernel module for the guest (run-vm --kmod): Debian's
  # kbuild is unpacked, not installed, so its compiler and libraries here
  gcc-12 make libelf1 libssl3
  # the guest booting its own systemd (run-vm --systemd): the system bus
  # unit, console logins with a logind session, users for the polkit tests
  dbus libpam-systemd login passwd util-linux
  # libvirt: virt-xml-validate checks gpuvirtctl export libvirt (suite
  # libvirt); the daemon and its QEMU driver run the hook in the test VM
  # (vm-libvirt)
  libvirt-clients libvirt-daemon-system libvirt-daemon-driver-qemu
  # benchmark arithmetic
  bc
  # the fuzz targets' libFuzzer build (bench/fuzz.sh, -Dfuzzing=true):
  # clang and its runtime libraries (libclang_rt.fuzzer and the sanitizers)
  clang libclang-rt-14-dev
  # leak checks
  valgrind
  # runs the example polkit rules (JavaScript) in a test
  nodejs
  # the hardware database (hwdb.bin) that vendor and model names come from
  udev
  # locale sources: the po suite generates de_DE.UTF-8 and zh_CN.UTF-8 into
  # a temporary directory (localedef, LOCPATH), nothing system-wide
  locales
  # the shell completion's tests source bash-completion and drive zsh
  bash-completion zsh
  # the Debian package (tools/build-deb.sh, suite deb): its build tools and
  # checker; its build and run-time dependencies are all listed above, so
  # the VM test's apt installs it offline
  dpkg-dev debhelper lintian git
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "gpuvirt: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# udev's postinst builds the binary hwdb, but not in every container or
# chroot; sd-hwdb needs it for vendor and model names.
if [ ! -e /usr/lib/udev/hwdb.bin ] && [ ! -e /etc/udev/hwdb.bin ]; then
  echo "gpuvirt: building the hardware database (systemd-hwdb update)" >&2
  $SUDO systemd-hwdb update
fi
