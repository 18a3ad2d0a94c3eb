#!/usr/bin/env bash
# The README's package command: installs the build dependencies of
# debian/control that are missing (apt-get build-dep), then builds the
# package in a clean copy of this tree (tools/build-deb.py): the checkout
# stays as it is, and the package lands in build-deb/. Options go to
# build-deb.py (--out DIR, --nocheck).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
apt_install() {
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "$@"
}
if ! command -v dpkg-checkbuilddeps > /dev/null || ! command -v git > /dev/null; then
  $SUDO apt-get update -q
  apt_install install -y -q --no-install-recommends dpkg-dev git
fi
if ! dpkg-checkbuilddeps 2> /dev/null; then
  echo "gpuvirt: installing the package's build dependencies" >&2
  $SUDO apt-get update -q
  apt_install build-dep -y -q --no-install-recommends ./
fi
exec /usr/bin/python3 tools/build-deb.py "$@"
