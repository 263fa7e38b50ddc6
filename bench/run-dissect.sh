#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Dissection benchmark (issue 7): tshark -T fields on a WMMP capture made by wmmp-emulate, with the WMMP
# plugin versus the same capture decoded as plain data (-d udp.port==9992,data); single pass, two passes
# (-2), with keys (digest verification; decryption on a --security full capture); and per-message cost
# versus Wireshark's CoAP dissector on the CoAP twin of the capture (bench_coap_twin). Median of RUNS runs
# of wall time, CPU time (user + sys) and peak RSS (/usr/bin/time -v), ratios to the baseline.
#
#   bench/run-dissect.sh [--messages N] [--runs R] [--cases LIST] [--work DIR] [--build DIR]
#
#   --messages N   capture size (default 1000000); the session scenario gives 8 messages per 3 records
#   --runs R       runs per case (default 5)
#   --cases LIST   comma-separated subset of: data,wmmp,data2,wmmp2,keys,fulldata,fullkeys,fulldata2,fullkeys2,
#                  coapdata,coap, wmmpnh (the plugin with its health-record sub-dissector disabled: the protocol
#                  layer alone), wmmpv,coapv (-V: the packet details of WMMP and of the CoAP twin),
#                  datas,wmmps (tshark's summary lines: the Info column, no tree, as the GUI's packet list),
#                  crypto (the capture's MD5s and 3DES by the codec alone: the lowest ratio keys allow)
#   --work DIR     captures and outputs (default /dev/shm/wmmp-bench, else $TMPDIR)
#   --build DIR    Release build to use (default build/bench, configured and built here)
#
# The mix is the emulator's "session" scenario: LOGIN, then a health record every second (vitals; every
# 5th record with a 1 s ECG of 250 samples) and a heartbeat every 3 s, each answered, then LOGOUT; digests
# on (security digest) -- 3/8 records, 3/8 record ACKs, 1/8 heartbeats, 1/8 heartbeat ACKs.
# As root, tshark runs as "nobody" (Wireshark ignores personal plugin folders for root), like
# scripts/wmmp-tshark.sh does, on copies readable by nobody.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

messages=1000000
runs=5
cases=data,wmmp,data2,wmmp2,keys,fulldata,fullkeys,fulldata2,fullkeys2,coapdata,coap,wmmpnh,wmmpv,coapv,datas,wmmps,crypto
work=
build=
while [[ $# -gt 0 ]]; do
  case $1 in
    --messages) messages=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "run-dissect: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -z $work ]]; then
  if [[ -w /dev/shm ]]; then work=/dev/shm/wmmp-bench; else work=${TMPDIR:-/tmp}/wmmp-bench; fi
fi
if [[ -z $build ]]; then
  build=build/bench
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWMMP_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --target wmmp-emulate wmmp bench_coap_twin bench_crypto_alone -j"$(nproc)" >/dev/null
fi
command -v /usr/bin/time >/dev/null || { echo "run-dissect: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$work"
chmod 1777 "$work" # tshark (as nobody when root) writes its outputs here

# ---- captures (made once per size; delete $work to remake) ----
records=$(( (messages - 4) * 3 / 8 ))
digest=$work/session-$messages.pcap
full=$work/session-full-$messages.pcap
coap=$work/coap-$messages.pcap
if [[ ! -s $digest ]]; then
  echo "making $digest ($records records)" >&2
  "$build/emulator/wmmp-emulate" --scenario session --records "$records" --pcap "$digest" >/dev/null
fi
if [[ ! -s $full && $cases == *full* ]]; then
  echo "making $full" >&2
  "$build/emulator/wmmp-emulate" --scenario session --records "$records" --security full --pcap "$full" >/dev/null
fi
if [[ ! -s $coap && $cases == *coap* ]]; then
  echo "making $coap" >&2
  "$build/bench/bench_coap_twin" "$digest" "$coap" 2>/dev/null
fi
rm -rf "$work/plugins"
cp -r "$build/wireshark-plugins" "$work/plugins"
chmod -R a+rX "$work"
count() { capinfos -c -M "$1" | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }'; }
n_digest=$(count "$digest")

keys=$(grep -m1 '^"' captures/wmmp-keys.txt)
fields=(-e frame.number -e frame.time_epoch -e ip.src -e udp.srcport -e wmmp.command -e wmmp.sequence
        -e wmmp.terminal_id -e wmmp.result -e coap.code -e coap.mid -e data.len)
as_user=()
if [[ $(id -u) -eq 0 ]]; then # and ahead of whatever else runs on the machine
  as_user=(nice -n -10 setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

# run MODE CAPTURE ARGS... -> "wall_s cpu_s maxrss_kb" of one run; MODE: fields (-T fields with the columns
# above), verbose (-V, the packet details), summary (tshark's one line per packet: the Info column, no tree)
run() {
  local mode=$1 cap=$2
  shift 2
  local out=()
  case $mode in
    fields) out=(-T fields "${fields[@]}") ;;
    verbose) out=(-V) ;;
    summary) out=() ;;
  esac
  "${as_user[@]}" env HOME="$work" WIRESHARK_PLUGIN_DIR="$work/plugins" \
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.out" tshark -r "$cap" "${out[@]}" "$@" \
    > "$work/fields.out" 2> "$work/tshark.err" || { cat "$work/tshark.err" >&2; exit 1; }
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time.out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A wall cpu rss msgs
measure() { # NAME MODE CAPTURE TSHARK-ARGS...
  local name=$1 mode=$2 cap=$3
  shift 3
  [[ ,$cases, == *,$name,* ]] || return 0
  local w=() c=() m=()
  for ((i = 0; i < runs; i++)); do
    read -r a b d < <(run "$mode" "$cap" "$@")
    w+=("$a") c+=("$b") m+=("$d")
  done
  wall[$name]=$(printf '%s\n' "${w[@]}" | median)
  cpu[$name]=$(printf '%s\n' "${c[@]}" | median)
  rss[$name]=$(printf '%s\n' "${m[@]}" | median)
  msgs[$name]=$(count "$cap")
  echo "  $name: wall ${w[*]}  cpu ${c[*]}  rss ${m[*]}" >&2
}

echo "dissection benchmark: $n_digest messages, $runs runs per case, $(tshark --version 2>/dev/null | head -1)" >&2
measure data fields "$digest" -d udp.port==9992,data
measure wmmp fields "$digest"
measure data2 fields "$digest" -2 -d udp.port==9992,data
measure wmmp2 fields "$digest" -2
measure keys fields "$digest" -o "uat:wmmp_keys:$keys"
measure fulldata fields "$full" -d udp.port==9992,data
measure fullkeys fields "$full" -o "uat:wmmp_keys:$keys"
measure fulldata2 fields "$full" -2 -d udp.port==9992,data
measure fullkeys2 fields "$full" -2 -o "uat:wmmp_keys:$keys"
measure coapdata fields "$coap" -d udp.port==5683,data
measure coap fields "$coap"
measure wmmpnh fields "$digest" --disable-protocol wmmp.health
measure wmmpv verbose "$digest"
measure coapv verbose "$coap"
measure datas summary "$digest" -d udp.port==9992,data
measure wmmps summary "$digest"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { # name baseline what target
  local n=$1 b=$2
  [[ -n ${wall[$n]:-} ]] || return 0
  local us
  us=$(awk -v t="${wall[$n]}" -v m="${msgs[$n]}" 'BEGIN { printf "%.2f", t * 1e6 / m }')
  if [[ -n $b && -n ${wall[$b]:-} ]]; then
    printf '| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s |\n' "$3" "${msgs[$n]}" "${wall[$n]}" "${cpu[$n]}" "$us" \
      "$(awk -v k="${rss[$n]}" 'BEGIN { print k / 1024 }')" "$(ratio "${wall[$n]}" "${wall[$b]}")" \
      "$(ratio "${cpu[$n]}" "${cpu[$b]}")" "$(ratio "${rss[$n]}" "${rss[$b]}")" "$4"
  else
    printf '| %s | %s | %s | %s | %s | %.0f | baseline | | | %s |\n' "$3" "${msgs[$n]}" "${wall[$n]}" "${cpu[$n]}" "$us" \
      "$(awk -v k="${rss[$n]}" 'BEGIN { print k / 1024 }')" "$4"
  fi
}
echo "| case | messages | wall s | CPU s | µs/msg (wall) | max RSS MB | time ratio (wall) | time ratio (CPU) | memory ratio | target |"
echo "|---|---|---|---|---|---|---|---|---|---|"
row data "" "data (-d udp.port==9992,data)" ""
row wmmp data "WMMP plugin, single pass" "time ≤ 1.25, memory ≤ 1.3"
row data2 "" "data, -2" ""
row wmmp2 data2 "WMMP plugin, -2" "time ≤ 1.25"
row keys data "WMMP plugin + keys (digests verified)" "time ≤ 1.6"
row fulldata "" "data, --security full capture" ""
row fullkeys fulldata "WMMP plugin + keys, --security full (verified + decrypted)" "time ≤ 1.6"
row coapdata "" "CoAP twin as data (-d udp.port==5683,data)" ""
row coap coapdata "CoAP dissector on the CoAP twin" ""
row wmmpnh data "WMMP plugin without the health-record sub-dissector" ""
row fulldata2 "" "data, -2, --security full capture" ""
row fullkeys2 fulldata2 "WMMP plugin + keys, -2, --security full" "time ≤ 1.6"
row datas "" "data, summary lines (tshark -r)" ""
row wmmps datas "WMMP plugin, summary lines (Info column)" ""
row coapv "" "CoAP dissector -V on the CoAP twin" ""
row wmmpv coapv "WMMP plugin -V (ratio to CoAP -V)" "time ≤ 1 (per message)"
if [[ -n ${wall[coap]:-} && -n ${wall[wmmp]:-} ]]; then
  echo
  awk -v w="${wall[wmmp]}" -v c="${wall[coap]}" -v wd="${wall[data]:-0}" -v cd="${wall[coapdata]:-0}" \
      -v wc="${cpu[wmmp]}" -v cc="${cpu[coap]}" -v n="${msgs[wmmp]}" -v m="${msgs[coap]}" 'BEGIN {
    printf "per message: WMMP %.2f µs, CoAP %.2f µs (wall; CPU %.2f vs %.2f): WMMP/CoAP %.2f (target <= 1)\n",
           w * 1e6 / n, c * 1e6 / m, wc * 1e6 / n, cc * 1e6 / m, (w / n) / (c / m)
    if (wd > 0 && cd > 0)
      printf "above the data baseline: WMMP %.2f µs, CoAP %.2f µs per message\n", (w - wd) * 1e6 / n, (c - cd) * 1e6 / m
  }'
fi

# The crypto keys add, done by the codec alone on the same captures: a decode with keys can be no cheaper than
# the data decode plus this (the limit of the keys rows).
if [[ ,$cases, == *,crypto,* ]]; then
  echo
  for pair in "keys:$digest:data" "fullkeys:$full:fulldata"; do
    IFS=: read -r name cap base <<< "$pair"
    [[ -s $cap && -n ${wall[$base]:-} ]] || continue
    read -r m d b secs < <("$build/bench/bench_crypto_alone" "$cap" captures/wmmp-keys.txt)
    awk -v n="$name" -v m="$m" -v d="$d" -v b="$b" -v s="$secs" -v base="${wall[$base]}" -v got="${wall[$name]:-0}" 'BEGIN {
      printf "crypto alone (%s): %d messages, %d MD5s, %d bytes of 3DES in %.3f s (%.2f µs/message): limit %.2f x data",
             n, m, d, b, s, s * 1e6 / m, (base + s) / base
      if (got > 0) printf "; measured %.2f x", got / base
      printf "\n" }'
  done
fi
