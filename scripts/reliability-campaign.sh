#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The long reliability campaign behind docs/RELIABILITY.md: every test of tests/reliability/reliability_tests.py
# (hostile peers, rate limiting, security, loss/duplication/reordering, kill -9 of either program) ROUNDS
# times at SCALE (records and flood durations multiplied), each round with other fault seeds; optionally the
# dissector fuzz campaign and the libFuzzer campaign. Writes OUT/figures.md (the tables) and the raw data.
#
#   scripts/reliability-campaign.sh [-B BUILD_DIR] [-s SCALE] [-n ROUNDS] [-d DISSECTOR_PASSES]
#                                   [-f FUZZ_SECONDS] [-F FUZZ_BUILD_DIR] [-o OUT_DIR] [TEST...]
#
#   -B  the normal build (default build/release)          -s  scale (default 10: 100 records a loss test)
#   -n  rounds (default 3)                                 -o  output (default reliability-results)
#   -d  also scripts/fuzz-dissector.sh -p N                -f  also scripts/fuzz-codec.sh -t N (needs clang)
#   TEST  only these tests (e.g. Faults.test_loss_30); default all
# The exit status is 1 when a test failed in any round (its log is in OUT/tests.log).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/release scale=10 rounds=3 dpasses=0 fuzz_secs=0 fuzz_build=build/fuzz out=reliability-results
while getopts "B:s:n:d:f:F:o:" opt; do
  case $opt in
    B) build=$OPTARG ;;
    s) scale=$OPTARG ;;
    n) rounds=$OPTARG ;;
    d) dpasses=$OPTARG ;;
    f) fuzz_secs=$OPTARG ;;
    F) fuzz_build=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '7,13p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
mkdir -p "$out"
results="$out/results.jsonl" verdicts="$out/verdicts.txt"
: >"$results"
: >"$verdicts"
tests=("$@")
if [[ ${#tests[@]} -eq 0 ]]; then
  mapfile -t tests < <(sed -n 's/^  \(\(Hostile\|RateLimit\|Security\|Faults\)\.test_[a-z0-9_]*\)$/\1/p' tests/reliability/CMakeLists.txt)
fi

failed=0 start=$(date +%s)
for ((round = 1; round <= rounds; round++)); do
  for t in "${tests[@]}"; do
    echo "== round $round/$rounds: $t (scale $scale)" | tee -a "$out/tests.log" >&2
    if WMMP_RELIABILITY_SCALE=$scale WMMP_RELIABILITY_SEED=$((round * 1000)) WMMP_RELIABILITY_RESULTS=$results \
       python3 -B tests/reliability/reliability_tests.py --platform "$build/emulator/wmmp-platform" \
         --terminal "$build/emulator/wmmp-terminal" \
         --emulate "$build/emulator/wmmp-emulate" --keys captures/wmmp-keys.txt --source-dir . "$t" \
         >>"$out/tests.log" 2>&1; then
      echo "$t passed" >>"$verdicts"
    else
      echo "$t failed" >>"$verdicts"
      echo "FAILED: $t (round $round): see $out/tests.log" >&2
      failed=1
    fi
  done
done
secs=$(($(date +%s) - start))

{
  echo "Reliability campaign: $rounds round(s) at scale $scale, $(date -u +%Y-%m-%d), $secs s"
  echo "Command: scripts/reliability-campaign.sh -B $build -s $scale -n $rounds"
  echo
  python3 -B tests/reliability/campaign_report.py "$results" --runs "$verdicts"
} >"$out/figures.md"

if [[ $dpasses -gt 0 ]]; then
  {
    echo
    echo "| dissector fuzz: captures | files | packets | passes | editcap -E | decodes | packets mutated | time | failures |"
    echo "|---|---|---|---|---|---|---|---|---|"
  } >>"$out/figures.md"
  scripts/fuzz-dissector.sh -B "$build" -p "$dpasses" -o "$out/dissector-failures" -r "$out/figures.md" || failed=1
fi
if [[ $fuzz_secs -gt 0 ]]; then
  echo >>"$out/figures.md"
  scripts/fuzz-codec.sh -t "$fuzz_secs" -B "$fuzz_build" -o "$out/fuzz-findings" -r "$out/fuzz-codec.md" || failed=1
  cat "$out/fuzz-codec.md" >>"$out/figures.md"
fi
cat "$out/figures.md"
exit $failed
