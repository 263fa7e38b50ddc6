#!/usr/bin/env bash
# The main job: install the packages, build, print a decoded WMMP session made by the codec, then write
# the reference test captures and decode one with tshark and the WMMP plugin, digests checked with the
# keys of captures/wmmp-keys.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

echo "== a session built and decoded by the codec"
"$build"/tools/wmmp-demo-exchange --keys captures/wmmp-keys.txt "$@"

echo
echo "== the paper's figure-4 flow with digests, written as a capture and decoded by tshark + the WMMP plugin"
"$build"/tools/wmmp-gen-test-captures "$build/captures" >/dev/null
keys=$(grep -v '^#' captures/wmmp-keys.txt | head -n 1)
scripts/wmmp-tshark.sh -B "$build" -o "uat:wmmp_keys:$keys" -r "$build/captures/udp-figure4-digest.pcap" \
  -T fields -E header=y -e frame.number -e _ws.col.Info -e wmmp.class -e wmmp.digest.status \
  -e wmmp.response_time
echo
echo "Captures: $build/captures/*.pcap (decode with scripts/wmmp-tshark.sh -B $build -r FILE -V)"
