#!/bin/sh
# usage: test-scripts.sh DEB
# The maintainer scripts of DEB do what debian/rules and README.Debian say
# (vm-e2e-deb runs them for install, remove and purge; an upgrade costs one
# more apt run there, so its part is checked here, on the text):
#   postinst: the group from sysusers.d; the unit enabled, never started;
#             on an upgrade ("$2" set) restarted only if it runs (try-restart);
#   preinst:  no stop before an upgrade (the old daemon runs until then);
#   prerm:    stop on removal;
#   postrm:   purge removes /var/lib/gpuvirt and the unit's enablement.
set -u
deb=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -e "$deb" "$tmp" || { echo "FAIL: dpkg-deb -e $deb"; exit 1; }
failures=0
has() { # SCRIPT DESCRIPTION EXTENDED-REGEX
  if [ -f "$tmp/$1" ] && grep -qE -- "$3" "$tmp/$1"; then echo "PASS: $1: $2"
  else echo "FAIL: $1: $2 (no line matching: $3)"; failures=$((failures + 1)); fi
}
hasnt() {
  if [ -f "$tmp/$1" ] && grep -qE -- "$3" "$tmp/$1"; then
    echo "FAIL: $1: $2 ($(grep -E -- "$3" "$tmp/$1" | head -n 1))"; failures=$((failures + 1))
  else echo "PASS: $1: $2"; fi
}
has postinst "creates the group with systemd-sysusers" '^ *systemd-sysusers .*gpuvirt\.conf$'
has postinst "enables gpuvirtd.service" "deb-systemd-helper enable 'gpuvirtd\\.service'"
has postinst "restarts it after an upgrade only if it runs" "deb-systemd-invoke try-restart 'gpuvirtd\\.service'"
hasnt postinst "never starts or restarts it unconditionally" "deb-systemd-invoke (start|restart) "
# try-restart only on an upgrade: inside the test of $2 (the old version)
if awk '/if \[ -n "\$2" \]; then/ { up = 1 } up && /try-restart/ { ok = 1 } /^[[:space:]]*fi$/ { up = 0 }
        END { exit !ok }' "$tmp/postinst"; then
  echo "PASS: postinst: try-restart only when \$2 (an upgrade) is set"
else
  echo "FAIL: postinst: try-restart is not inside 'if [ -n \"\$2\" ]'"; failures=$((failures + 1))
fi
hasnt preinst "does not stop gpuvirtd before an upgrade" "deb-systemd-invoke stop"
has prerm "stops gpuvirtd on removal" 'deb-systemd-invoke stop gpuvirtd\.service'
has postrm "purge removes /var/lib/gpuvirt" 'rm -rf "\$\{DPKG_ROOT:-\}/var/lib/gpuvirt"'
has postrm "purge removes the unit's enablement" "deb-systemd-helper purge 'gpuvirtd\\.service'"
echo "test-scripts: $failures failure(s)"
[ "$failures" -eq 0 ]
