#!/usr/bin/env bash
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

scripts/install-deps.sh
build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

out="$build/demo"
rm -rf "$out"
mkdir -p "$out"
udp=${WMMP_DEMO_UDP_PORT:-19992} tcp=${WMMP_DEMO_TCP_PORT:-19991}
port=$udp
[[ ${#transport[@]} -gt 0 ]] && port=$tcp
keys=captures/wmmp-keys.txt

echo "== wmmp-platform on 127.0.0.1 (UDP $udp, TCP $tcp), database $out/platform.db"
"$build"/emulator/wmmp-platform --listen 127.0.0.1 --udp-port "$udp" --tcp-port "$tcp" --keys "$keys" \
  --db "$out/platform.db" --security "$security" --heartbeat 5 >"$out/platform.log" 2>&1 &
platform=$!
trap 'kill "$platform" 2>/dev/null || true' EXIT
sleep 0.5
kill -0 "$platform" 2>/dev/null || { cat "$out/platform.log" >&2; exit 1; }

echo "== wmmp-terminal: $records health records, security $security${transport:+, TCP}"
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
echo "== the terminal's capture decoded by tshark + the WMMP plugin ($out/session.pcap)"
scripts/wmmp-tshark.sh -B "$build" -o "uat:wmmp_keys:$(grep -v '^#' "$keys" | head -n 1)" -r "$out/session.pcap" \
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
echo "== plots of the capture: ECG waveform and vitals (scripts/wmmp-plot.sh: tshark fields + gnuplot)"
if ! scripts/wmmp-plot.sh -B "$build" -k "$keys" -o "$out/plots" "$out/session.pcap"; then
  echo "plotting failed" >&2
  if [[ $status -eq 0 ]]; then status=1; fi
fi
echo
echo "More: $build/emulator/wmmp-emulate --list; decode any capture with scripts/wmmp-tshark.sh -B $build -r FILE -V;"
echo "plot one with scripts/wmmp-plot.sh -B $build [-k KEYS] -o DIR FILE"
exit "$status"
