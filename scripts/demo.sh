#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: install the packages, build, run the emulator pair over loopback (platform and health
# tester, digests on, a few health records including a fragmented ECG), record the terminal's capture,
# print it decoded by tshark with the WMMP plugin, every digest checked with captures/wmmp-keys.txt, and
# plot its health records (ECG waveform, vitals over time) as PNG files with gnuplot.
#   scripts/demo.sh [--records N] [--security plain|digest|encrypted|full] [--tcp]
# Ports: WMMP_DEMO_UDP_PORT / WMMP_DEMO_TCP_PORT (default 19992 / 19991). Output: build/release/demo/
# (session.pcap, platform.db, platform.log, plots/*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
records=5 security=digest transport=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --records) records=$2; shift 2 ;;
    --security) security=$2; shift 2 ;;
    --tcp) transport=(--tcp); shift ;;
    *) echo "usage: $0 [--records N] [--security plain|digest|encrypted|full] [--tcp]" >&2; exit 2 ;;
  esac
done

build=build/release
out="$build/demo"
start=$SECONDS
step() { echo "== [$1/7] $2 ($((SECONDS - start)) s)"; }

step 1 "Debian packages (scripts/install-deps.sh; WMMP_SKIP_APT=1 skips)"
scripts/install-deps.sh

# Configuration and build: their output goes to a log; on the terminal one line per target built, with
# the build's own percentage, so a first build (a minute or two) is never silent.
mkdir -p "$build"
log="$build/demo-build.log"
step 2 "configuring $build (Release; log: $log)"
if ! cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "demo: configuration failed; the whole output is in $log" >&2
  exit 1
fi
step 3 "building $build with $(nproc) jobs"
set +e
cmake --build "$build" -j"$(nproc)" 2>&1 | tee -a "$log" |
  grep --line-buffered -E '^\[ *[0-9]+%\] Built target|: error:' | sed -u 's/^/   /'
build_status=${PIPESTATUS[0]}
set -e
if [[ $build_status -ne 0 ]]; then
  tail -n 30 "$log" >&2
  echo "demo: the build failed; the whole output is in $log" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
udp=${WMMP_DEMO_UDP_PORT:-19992} tcp=${WMMP_DEMO_TCP_PORT:-19991}
port=$udp
[[ ${#transport[@]} -gt 0 ]] && port=$tcp
keys=captures/wmmp-keys.txt

step 4 "wmmp-platform on 127.0.0.1 (UDP $udp, TCP $tcp), database $out/platform.db"
"$build"/emulator/wmmp-platform --listen 127.0.0.1 --udp-port "$udp" --tcp-port "$tcp" --keys "$keys" \
  --db "$out/platform.db" --security "$security" --heartbeat 5 >"$out/platform.log" 2>&1 &
platform=$!
trap 'kill "$platform" 2>/dev/null || true' EXIT
sleep 0.5
kill -0 "$platform" 2>/dev/null || { cat "$out/platform.log" >&2; exit 1; }

step 5 "wmmp-terminal: $records health records, security $security${transport:+, TCP}"
set +e
"$build"/emulator/wmmp-terminal --platform "127.0.0.1:$port" "${transport[@]}" --keys "$keys" \
  --records "$records" --security "$security" --seed 1 --ecg-seconds 3 --heartbeat-ms 2000 \
  --record-interval-ms 300 --spool "$out/spool" --pcap "$out/session.pcap"
status=$?
set -e
kill -TERM "$platform"
wait "$platform" || true
trap - EXIT
echo "terminal exit code $status (0: every record acknowledged)"

echo
step 6 "the terminal's capture decoded by tshark + the WMMP plugin ($out/session.pcap)"
scripts/wmmp-tshark.sh -B "$build" -k "$keys" -r "$out/session.pcap" \
  -Y wmmp -T fields -E header=y -e frame.number -e _ws.col.Info -e wmmp.class -e wmmp.digest.status \
  -e wmmp.response_time

echo
echo "== health records stored by the platform"
python3 - "$out/platform.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT terminal, record_id, heart_rate, spo2, temperature, bp_systolic, bp_diastolic, "
                  "ecg_samples FROM records ORDER BY record_id").fetchall()
print("terminal          record  HR  SpO2  temp   BP       ECG samples")
for t, rid, hr, spo2, temp, sys_, dia, ecg in rows:
    print(f"{t}  {rid:6}  {hr}  {spo2}    {temp:.2f}  {sys_}/{dia}   {ecg or 0}")
EOF

echo
step 7 "plots of the capture: ECG waveform and vitals (scripts/wmmp-plot.sh: tshark fields + gnuplot)"
if ! scripts/wmmp-plot.sh -B "$build" -k "$keys" -o "$out/plots" "$out/session.pcap"; then
  echo "plotting failed" >&2
  if [[ $status -eq 0 ]]; then status=1; fi
fi
echo
echo "== done in $((SECONDS - start)) s; the outputs:"
echo "   $out/session.pcap      the terminal's capture (open it in Wireshark with the plugin)"
echo "   $out/platform.db       the platform's SQLite database (sqlite3 $out/platform.db 'select * from records')"
echo "   $out/platform.log      the platform's log"
for f in "$out"/plots/*.png; do
  [[ -e $f ]] && echo "   $f"
done
echo "   $log   the build's output"
echo "   $build/emulator/        wmmp-platform, wmmp-terminal, wmmp-emulate"
echo "   $build/wireshark-plugins/ the plugin (load it with scripts/wmmp-tshark.sh -B $build, or cmake --install $build)"
echo "More: $build/emulator/wmmp-emulate --list; decode any capture with scripts/wmmp-tshark.sh -B $build -r FILE -V;"
echo "plot one with scripts/wmmp-plot.sh -B $build [-k KEYS] -o DIR FILE"
exit "$status"
