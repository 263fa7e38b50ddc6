#!/usr/bin/env bash
# The main job: install the packages, build, and print a decoded WMMP session made by the codec.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
build/release/tools/wmmp-demo-exchange --keys captures/wmmp-keys.txt "$@"
