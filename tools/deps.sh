#!/usr/bin/env bash
# Installs every Debian 12 package that gpuvirt's build, tests and demo need.
# Safe to run repeatedly: it asks apt only for what is missing.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libjson-glib-dev libsystemd-dev libfuse3-dev
  # simulated host and its checks
  fuse3 pciutils hwdata kmod
  # bus, polkit, and the integration harness
  dbus-daemon dbus-bin systemd polkitd pkexec python3 python3-dbusmock python3-gi
  # the API contract, bus policy and polkit file checks
  libxml2-utils
  # real-kernel test bed
  qemu-system-x86 busybox-static cpio xz-utils zstd
  # leak checks
  valgrind
  # runs the example polkit rules (JavaScript) in a test
  nodejs
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "gpuvirt: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
