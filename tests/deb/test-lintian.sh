#!/bin/sh
# usage: test-lintian.sh DEB
# lintian on the build of DEB (its .changes: the package, its -dbgsym and
# the .buildinfo) must report no error and no warning. Info and pedantic
# tags are printed for the log; README ("Install") says why those that
# remain are there.
set -u
deb=$1
changes=${deb%.deb}.changes
command -v lintian > /dev/null || { echo "FAIL: lintian is not installed (tools/deps.sh)"; exit 1; }
[ -f "$changes" ] || { echo "FAIL: no $changes beside $deb"; exit 1; }
lintian --fail-on error,warning --display-info --pedantic --color never "$changes" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: lintian found errors or warnings (exit $rc)"
  exit 1
fi
echo "lintian: no errors, no warnings"
