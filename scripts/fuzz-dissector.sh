#!/usr/bin/env bash
# Fuzzes the WMMP dissector the way Wireshark's tools/fuzz-test.sh does: mutate every capture with
# editcap -E, decode each mutant with tshark -nVxr (and -2), fail on a non-zero exit or a dissector bug.
#
#   scripts/fuzz-dissector.sh [-B BUILD_DIR] [-p PASSES] [-e ERROR_RATE] [-V] [-o FAIL_DIR] [CAPTURE...]
#
# Without captures it fuzzes the generated test captures (tools/wmmp-gen-test-captures). Each pass
# mutates every capture twice: anywhere, and with the Ethernet/IP/UDP headers and the 28-byte WMMP header
# left intact (editcap -o), so the body parsers get the mutations. -V runs tshark under valgrind
# (slow: use few passes). Failing mutants are kept in FAIL_DIR (default: fuzz-failures).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/release passes=10 rate=0.02 valgrind=0 faildir=fuzz-failures
while getopts "B:p:e:Vo:" opt; do
  case $opt in
    B) build=$OPTARG ;;
    p) passes=$OPTARG ;;
    e) rate=$OPTARG ;;
    V) valgrind=1 ;;
    o) faildir=$OPTARG ;;
    *) echo "usage: $0 [-B BUILD_DIR] [-p PASSES] [-e ERROR_RATE] [-V] [-o FAIL_DIR] [CAPTURE...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

work=$(mktemp -d /tmp/wmmp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [[ $# -eq 0 ]]; then
  "$build/tools/wmmp-gen-test-captures" "$work/captures" >/dev/null
  set -- "$work"/captures/*.pcap
fi
keys=$(grep -v '^#' captures/wmmp-keys.txt | head -n 1)

# Wireshark's debug settings: strict wmem, abort on a dissector bug, checked GLib slices.
export WIRESHARK_DEBUG_WMEM_OVERRIDE=strict WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 G_SLICE=debug-blocks
runner=(scripts/wmmp-tshark.sh -B "$build")
if [[ $valgrind -eq 1 ]]; then
  # valgrind must wrap tshark itself, inside the wrapper's privilege drop: put a shim first on PATH.
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexec valgrind -q --error-exitcode=1 --leak-check=no %s "$@"\n' "$(command -v tshark)" > "$work/bin/tshark"
  chmod a+rx "$work" "$work/bin" "$work/bin/tshark" # the wrapper runs tshark as nobody when root
  export PATH="$work/bin:$PATH"
fi

runs=0 failures=0
for ((pass = 1; pass <= passes; pass++)); do
  for capture in "$@"; do
    for skip in 0 70; do # 70 = Ethernet 14 + IPv4 20 + UDP 8 + WMMP header 28
      mutant="$work/mutant.pcap"
      editcap -E "$rate" -o "$skip" "$capture" "$mutant" >/dev/null 2>&1
      for twopass in "" "-2"; do
        runs=$((runs + 1))
        if ! "${runner[@]}" -nVx $twopass -o "uat:wmmp_keys:$keys" -r "$mutant" >"$work/out.txt" 2>&1 ||
           grep -q "Dissector bug" "$work/out.txt"; then
          failures=$((failures + 1))
          mkdir -p "$faildir"
          keep="$faildir/$(basename "$capture" .pcap)-pass$pass-skip$skip$twopass.pcap"
          cp "$mutant" "$keep"
          echo "FAIL: $keep" >&2
          grep -m5 -i "bug\|error\|abort\|invalid" "$work/out.txt" >&2 || true
        fi
      done
    done
  done
done
echo "fuzz: $runs decodes of mutated captures ($# captures x $passes passes x 2 mutations x 2 modes, error rate $rate$([[ $valgrind -eq 1 ]] && echo ', valgrind')): $failures failures"
[[ $failures -eq 0 ]]
