#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every benchmark in one run, for the tables of docs/PERFORMANCE.md: the machine, then codec, dissection,
# capture generation and platform, each script's own table, and the time it all took. Run it on a quiet
# machine (nothing else busy: the load average is printed before and after); the output also goes to LOG.
#
#   bench/run-all.sh [--log LOG] [--quick]
#
#   --log LOG   where the output is kept as well (default bench-results-DATE.txt in the current directory)
#   --quick     fewer runs and smaller sizes, to check that everything works (not for the doc's figures)
#
# The full run takes about 30 minutes on the 2-CPU machine of docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."

log=bench-results-$(date -u +%Y%m%dT%H%M%SZ).txt
quick=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --log) log=$2; shift 2 ;;
    --quick) quick=true; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-all: unknown option $1" >&2; exit 2 ;;
  esac
done

if $quick; then
  dissect=(--messages 20000 --runs 1) offline=(--runs 1 --sizes 100000) codec=100000
  platform=(--runs 1 --seconds 5 --cases latency,scale10k)
else
  dissect=(--messages 200000 --runs 3) offline=(--runs 3 --sizes "100000 1000000") codec=1000000
  platform=(--runs 3 --cases load42k,load52k,latency,scale10k,scale100k)
fi

build=build/bench
{
  start=$(date +%s)
  echo "# bench/run-all.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB;" \
       "$(tshark --version 2>/dev/null | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWMMP_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
  echo
  echo "## codec (bench/run-codec.sh $codec)"
  bench/run-codec.sh "$codec"
  echo
  echo "## dissection (bench/run-dissect.sh ${dissect[*]})"
  bench/run-dissect.sh --build "$build" "${dissect[@]}"
  echo
  echo "## capture generation (bench/run-offline.sh ${offline[*]})"
  bench/run-offline.sh --build "$build" "${offline[@]}"
  echo
  echo "## platform (bench/run-platform.sh ${platform[*]})"
  bench/run-platform.sh --build "$build" "${platform[@]}"
  echo
  echo "done in $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$log"
