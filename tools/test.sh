#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
# Under CI=true it also runs the suite once more under ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh

passed=0
failed=0
run_suite() {
  local dir=$1; shift
  local log rc=0
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs --num-processes 2 | tee "$log" || rc=$?
  passed=$((passed + $(awk '/^Ok:/ {print $2}' "$log")))
  failed=$((failed + $(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $3 ? $3 : $2} END {print n + 0}' "$log")))
  rm -f "$log"
  return "$rc"
}

start=$(date +%s)
run_suite build
if [ "${CI:-}" = "true" ] || [ "${GPUVIRT_SANITIZE:-}" = "1" ]; then
  run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
fi
echo "gpuvirt: all test runs passed in $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
