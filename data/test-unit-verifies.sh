#!/bin/sh
# Verifies the generated gpuvirtd.service with systemd-analyze.
#
# usage: test-unit-verifies.sh SYSTEMD_ANALYZE UNIT
#
# The installed daemon (ExecStart=) does not exist at test time and verify
# rightly refuses a missing binary, so a copy of the unit has ExecStart=
# pointed at an executable that exists; every other line is verified as
# shipped, and any message from verify fails the test. The security
# exposure is printed for the log.
set -eu
analyze=$1
unit=$2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

exec_line=$(grep '^ExecStart=' "$unit" || true)
case "$exec_line" in
  ExecStart=/*/gpuvirtd) ;;
  *) echo "FAIL: ExecStart= is not an absolute path to gpuvirtd: '$exec_line'"; exit 1 ;;
esac

stand_in=$(command -v true)
sed "s|^ExecStart=.*|ExecStart=$stand_in|" "$unit" > "$tmp/gpuvirtd.service"

# Facts of the design the unit must keep (issue 7: boot ordering).
for want in 'Type=notify' 'NotifyAccess=main' 'BusName=org.gpuvirt' 'StateDirectory=gpuvirt' 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qx "$want" "$unit" || { echo "FAIL: $want missing"; exit 1; }
done
grep -q '^Before=.*libvirtd\.service' "$unit" || { echo "FAIL: not ordered before libvirtd.service"; exit 1; }
grep -q '^After=.*systemd-modules-load\.service' "$unit" || { echo "FAIL: not ordered after systemd-modules-load.service"; exit 1; }

status=0
"$analyze" verify --man=no --recursive-errors=no "$tmp/gpuvirtd.service" > "$tmp/out" 2>&1 || status=$?
if [ "$status" -ne 0 ] || [ -s "$tmp/out" ]; then
  cat "$tmp/out"
  echo "FAIL: systemd-analyze verify (exit $status)"
  exit 1
fi
echo "systemd-analyze verify: clean"

# The sandbox's exposure (issue 21: 2.4 before, 1.6 now; every item
# left open is justified in the unit): a unit that loosens it fails.
max_exposure=1.6
"$analyze" security --offline=true "$tmp/gpuvirtd.service" > "$tmp/security" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security")
if [ -z "$exposure" ]; then
  cat "$tmp/security"
  echo "FAIL: systemd-analyze security --offline=true gave no exposure level"
  exit 1
fi
echo "systemd-analyze security: exposure $exposure (at most $max_exposure)"
if ! awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
  grep '✗' "$tmp/security" || true
  echo "FAIL: exposure $exposure is above $max_exposure"
  exit 1
fi
