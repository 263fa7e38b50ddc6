#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every test: install the packages, build with -Werror, run the suite (unit tests also under valgrind),
# then rebuild with AddressSanitizer + UndefinedBehaviorSanitizer and run the suite again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== build (warnings are errors) and test"
cmake -S . -B build/ci -DWMMP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build/ci -j"$jobs"
log=build/ci/ctest-summary.log
ctest --test-dir build/ci --output-on-failure -j"$jobs" | tee "$log"

echo "== build with ASan + UBSan and test"
cmake -S . -B build/asan -DWMMP_WERROR=ON -DWMMP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j"$jobs"

echo "== docs recipes (tests/docs: every command of README.md and docs/*.md, one line each)"
cat build/ci/tests/docs/recipes.txt 2>/dev/null || echo "(docs.recipes did not run)"
echo "== CUnit summary (all suites, one run)"
build/ci/tests/unit/wmmp_unit_tests | sed -n '/^Run Summary/,$p'
echo "== ctest summary (normal build, from its run above)"
grep -E "tests passed|tests failed" "$log"
