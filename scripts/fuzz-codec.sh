#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the libFuzzer harnesses of the codec and the emulator's nodes (fuzz/) for a set time each and
# prints the figures: executions, time, coverage, corpus, crashes.
#
#   scripts/fuzz-codec.sh [-t SECONDS] [-B FUZZ_BUILD_DIR] [-H "header body ..."] [-o FINDINGS_DIR]
#                         [-r REPORT_FILE] [-j JOBS] [CAPTURE_OR_DIR...]
#
#   -t  seconds per harness (default 60)
#   -B  the clang build of fuzz/ (default build/fuzz; configured and built when missing)
#   -H  harnesses to run (default all: header body tlv health fragment decrypt message keys platform terminal)
#   -o  where crashing inputs go (default fuzz-findings); copy them to fuzz/regressions/<harness>/ and add a
#       unit test beside the fixed code. Inputs slower than 10 s (slow-unit-*) are
#       kept there too and counted, not failed
#   -r  also write the figures (a Markdown table) to this file
#   -j  parallel libFuzzer jobs per harness (default 1)
#
# Seeds: cut from the captures given, else from captures/*.pcap (the reference captures) when there are any,
# always also from the plugin's test captures and every wmmp-emulate scenario (fuzz/make_seeds.py). The
# corpus grows in FUZZ_BUILD_DIR/corpus/<harness> from run to run. Exit status 1 when a harness crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=60 build=build/fuzz harnesses="" findings=fuzz-findings report="" jobs=1
while getopts "t:B:H:o:r:j:" opt; do
  case $opt in
    t) secs=$OPTARG ;;
    B) build=$OPTARG ;;
    H) harnesses=$OPTARG ;;
    o) findings=$OPTARG ;;
    r) report=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
root=$(pwd)
abs() { [[ $1 = /* ]] && echo "$1" || echo "$root/$1"; }
build=$(abs "$build") findings=$(abs "$findings")

cc=${CC:-clang}
if ! command -v "$cc" >/dev/null; then
  echo "fuzz-codec: $cc not found: apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S fuzz -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$(nproc)" >/dev/null
[[ -z $harnesses ]] && harnesses=$(sed -n 's/^set(WMMP_FUZZ_\(CODEC\|NODE\)_HARNESSES \(.*\))$/\2/p' fuzz/harnesses.cmake | tr '\n' ' ')

# ---- seeds
work=$(mktemp -d /tmp/wmmp-fuzz-codec.XXXXXX)
trap 'rm -rf "$work"' EXIT
inputs=("$@")
if [[ ${#inputs[@]} -eq 0 ]]; then
  shopt -s nullglob
  refs=(captures/*.pcap)
  shopt -u nullglob
  [[ ${#refs[@]} -gt 0 ]] && inputs+=("${refs[@]}")
  ASAN_OPTIONS=detect_leaks=0 "$build/wmmp-gen-test-captures" "$work/test-captures" >/dev/null
  inputs+=("$work/test-captures")
  mkdir -p "$work/scenarios"
  for s in $("$build/emulator/wmmp-emulate" --list | sed -n 's/^scenarios: //p' | tr -d ','); do
    for tcp in "" --tcp; do
      ASAN_OPTIONS=detect_leaks=0 "$build/emulator/wmmp-emulate" --scenario "$s" --seed 3 $tcp \
        --pcap "$work/scenarios/$s${tcp:+-tcp}.pcap" >/dev/null 2>&1 || true
    done
  done
  inputs+=("$work/scenarios")
fi
python3 fuzz/make_seeds.py "$work/seeds" "${inputs[@]}" >"$work/seeds.txt"

# ---- runs
mkdir -p "$findings"
rows=() total_execs=0 total_secs=0 total_crashes=0
for h in $harnesses; do
  corpus="$build/corpus/$h"
  mkdir -p "$corpus" "$work/seeds/$h"
  log="$work/$h.log"
  # crash-, leak-, timeout- and oom- artifacts are failures; slow-unit- ones (over 10 s, e.g. on a busy
  # machine) are kept and counted apart
  before=$(ls "$findings" | { grep -c "^$h-\(crash\|leak\|timeout\|oom\)-" || true; })
  slow_before=$(ls "$findings" | { grep -c "^$h-slow-unit-" || true; })
  start=$(date +%s)
  # -jobs > 1 runs workers with their own logs (fuzz-N.log); their stats are summed below
  set +e
  (cd "$work" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
     "$build/fuzz_$h" -max_total_time="$secs" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
     -dict="$root/fuzz/wmmp.dict" -artifact_prefix="$findings/$h-" \
     $([[ $jobs -gt 1 ]] && echo "-jobs=$jobs -workers=$jobs") \
     "$corpus" "$work/seeds/$h") >"$log" 2>&1
  set -e
  elapsed=$(($(date +%s) - start))
  logs=("$log")
  [[ $jobs -gt 1 ]] && logs=("$work"/fuzz-*.log)
  execs=$(cat "${logs[@]}" | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s += $1} END {print s + 0}')
  cov=$(cat "${logs[@]}" | { grep -o 'cov: [0-9]*' || true; } | awk '{if ($2 > m) m = $2} END {print m + 0}')
  seeds=$(ls "$work/seeds/$h" | wc -l)
  size=$(ls "$corpus" | wc -l)
  after=$(ls "$findings" | { grep -c "^$h-\(crash\|leak\|timeout\|oom\)-" || true; })
  crashes=$((after - before))
  slow=$(($(ls "$findings" | { grep -c "^$h-slow-unit-" || true; }) - slow_before))
  if grep -q "ERROR: \(AddressSanitizer\|UndefinedBehaviorSanitizer\|LeakSanitizer\|libFuzzer\)\|runtime error:" "${logs[@]}"; then
    [[ $crashes -eq 0 ]] && crashes=1
    grep -m3 -h "ERROR:\|runtime error:\|SUMMARY:" "${logs[@]}" >&2 || true
    cp "$log" "$findings/$h-$(date +%Y%m%d-%H%M%S).log"
  fi
  rm -f "$work"/fuzz-*.log
  rows+=("| $h | $execs | $elapsed s | $((execs / (elapsed > 0 ? elapsed : 1)))/s | $cov | $seeds | $size | $slow | $crashes |")
  total_execs=$((total_execs + execs)) total_secs=$((total_secs + elapsed)) total_crashes=$((total_crashes + crashes))
  echo "fuzz $h: $execs executions in $elapsed s, coverage $cov, corpus $size (seeds $seeds), slow inputs $slow, crashes $crashes" >&2
done

{
  echo "libFuzzer + ASan + UBSan, $secs s per harness, $jobs job(s), $(date -u +%Y-%m-%d), $(clang --version | head -n 1)"
  echo
  echo "| harness | executions | time | rate | coverage (edges) | seeds | corpus after | slow inputs | crashes |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo "| **total** | **$total_execs** | **$total_secs s** | | | | | | **$total_crashes** |"
} | tee ${report:+"$report"}
[[ $total_crashes -eq 0 ]]
