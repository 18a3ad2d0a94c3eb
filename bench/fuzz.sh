#!/usr/bin/env bash
# Fuzzes every target of tests/fuzz/ with libFuzzer under ASan/UBSan for
# SECONDS each (default 60), one after the other and niced (the machine is
# shared), and prints runs, coverage and crashes per target. The build is
# build-fuzz (clang, -Dfuzzing=true); new inputs go to build-fuzz/fuzz-corpus/,
# never into the seed corpus, and crashes to build-fuzz/fuzz-crashes/TARGET/.
# A crash is a bug: its input becomes tests/fuzz/regressions/TARGET/NAME.
#   bench/fuzz.sh [SECONDS] [TARGET[:SECONDS]...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_FUZZ:-$top/build-fuzz}
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(cd "$top/tests/fuzz/corpus" && ls))
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$top" -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
nice meson compile -C "$build" $(for t in "${targets[@]}"; do echo "tests/fuzz/fuzz-${t%%:*}"; done) >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
total_runs=0
total_crashes=0
printf '%-14s %10s %8s %8s %8s %8s %8s\n' target runs seconds exec/s cov ft crashes
for spec in "${targets[@]}"; do
  t=${spec%%:*}
  secs=$seconds
  [ "$spec" != "$t" ] && secs=${spec#*:}
  corpus=$build/fuzz-corpus/$t
  crashes=$build/fuzz-crashes/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  regress=()
  [ -d "$top/tests/fuzz/regressions/$t" ] && regress=("$top/tests/fuzz/regressions/$t")
  # GLib's quark arrays (lsan.supp) are told apart only with full stacks
  lsan=suppressions=$top/tests/fuzz/lsan.supp
  [ "$t" = type-names ] && lsan=$lsan:fast_unwind_on_malloc=0
  rc=0
  LSAN_OPTIONS=$lsan nice -n 15 "$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$corpus" "$top/tests/fuzz/corpus/$t" "${regress[@]}" >"$log" 2>&1 || rc=$?
  runs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
  speed=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log" | tail -1)
  cov=$( (grep -oE 'cov: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
  ft=$( (grep -oE 'ft: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
  n=$(find "$crashes" -type f | wc -l)
  if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; fi   # died without an artifact: still a failure
  printf '%-14s %10s %8s %8s %8s %8s %8s\n' "$t" "${runs:-0}" "$secs" "${speed:-0}" "${cov:-?}" "${ft:-?}" "$n"
  total_runs=$((total_runs + ${runs:-0}))
  total_crashes=$((total_crashes + n))
done
printf '%-14s %10s %8s %8s %8s %8s %8s\n' total "$total_runs" "" "" "" "" "$total_crashes"
[ "$total_crashes" -eq 0 ]
