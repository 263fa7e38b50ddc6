#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Codec throughput (issue 7): encode + decode round trips per second on one core, median of 5 runs.
#   bench/run-codec.sh [ITERATIONS]      (default 1000000 heartbeats; the 1 KB record runs a quarter)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DWMMP_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench --target bench_codec -j"$(nproc)" >/dev/null
taskset -c 0 build/bench/bench/bench_codec "${1:-1000000}"
