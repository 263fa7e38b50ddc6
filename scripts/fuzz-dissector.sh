#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzzes the WMMP dissector the way Wireshark's tools/fuzz-test.sh does: mutate every capture with
# editcap -E, decode each mutant with tshark -nr in four modes (one-pass and two-pass -2, each with the tree
# -Vx and without it), fail on a non-zero exit or a dissector bug.
#
#   scripts/fuzz-dissector.sh [-B BUILD_DIR] [-p PASSES] [-e ERROR_RATE] [-V | -A] [-o FAIL_DIR] [-r REPORT]
#                             [CAPTURE_OR_DIR...]
#
# Captures: the files given (a directory means every *.pcap and *.pcapng in it); without any, the reference
# captures captures/*.pcap when there are some, else the generated test captures
# (tools/wmmp-gen-test-captures). Each pass mutates every capture twice: anywhere, and with the
# Ethernet/IP/UDP headers and the 28-byte WMMP header left intact (editcap -o), so the body parsers get the
# mutations. Wireshark's debug settings are on: WIRESHARK_DEBUG_WMEM_OVERRIDE=strict,
# WIRESHARK_ABORT_ON_DISSECTOR_BUG=1, G_SLICE=debug-blocks.
#   -V  tshark under valgrind (slow: use few passes)
#   -A  BUILD_DIR holds an AddressSanitizer build of the plugin (-DWMMP_SANITIZE=ON): libasan is preloaded
#       into tshark and any sanitizer report fails the decode
#   -o  failing mutants are kept there (default: fuzz-failures)
#   -r  also write the figures (one Markdown table row) to this file
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/release passes=10 rate=0.02 valgrind=0 asan=0 faildir=fuzz-failures report=""
usage() { sed -n '4,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
while getopts "B:p:e:VAo:r:" opt; do
  case $opt in
    B) build=$OPTARG ;;
    p) passes=$OPTARG ;;
    e) rate=$OPTARG ;;
    V) valgrind=1 ;;
    A) asan=1 ;;
    o) faildir=$OPTARG ;;
    r) report=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))

work=$(mktemp -d /tmp/wmmp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
captures=()
for a in "$@"; do
  if [[ -d $a ]]; then
    shopt -s nullglob
    captures+=("$a"/*.pcap "$a"/*.pcapng)
    shopt -u nullglob
  else
    captures+=("$a")
  fi
done
if [[ $# -eq 0 ]]; then
  shopt -s nullglob
  captures=(captures/*.pcap captures/*.pcapng)
  shopt -u nullglob
  source="reference captures"
  if [[ ${#captures[@]} -eq 0 ]]; then
    "$build/tools/wmmp-gen-test-captures" "$work/captures" >/dev/null
    captures=("$work"/captures/*.pcap)
    source="generated test captures"
  fi
else
  source="$*"
fi
[[ ${#captures[@]} -gt 0 ]] || { echo "fuzz-dissector: no captures in $*" >&2; exit 2; }
keys=$(grep -v '^#' captures/wmmp-keys.txt | head -n 1)

packets=0
for c in "${captures[@]}"; do
  n=$(capinfos -M -c "$c" 2>/dev/null | sed -n 's/^Number of packets: *//p')
  packets=$((packets + ${n:-0}))
done

# Wireshark's debug settings: strict wmem, abort on a dissector bug, checked GLib slices.
export WIRESHARK_DEBUG_WMEM_OVERRIDE=strict WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 G_SLICE=debug-blocks
runner=(scripts/wmmp-tshark.sh -B "$build")
mode=""
if [[ $valgrind -eq 1 ]]; then
  # valgrind must wrap tshark itself, inside the wrapper's privilege drop: put a shim first on PATH.
  mkdir -p "$work/bin"
  # suppressions for libraries newer tshark releases load (copied: nobody may not read the source tree)
  cp scripts/valgrind-wireshark.supp "$work/bin/"
  printf '#!/bin/sh\nexec valgrind -q --error-exitcode=1 --leak-check=no --suppressions=%s %s "$@"\n' \
    "$work/bin/valgrind-wireshark.supp" "$(command -v tshark)" > "$work/bin/tshark"
  chmod a+rx "$work" "$work/bin" "$work/bin/tshark" # the wrapper runs tshark as nobody when root
  chmod a+r "$work/bin/valgrind-wireshark.supp"
  export PATH="$work/bin:$PATH"
  mode=", valgrind"
fi
if [[ $asan -eq 1 ]]; then
  # tshark is not instrumented, the plugin is: preload the runtime into tshark only (a shim first on PATH,
  # as for valgrind); leaks of tshark itself are not ours.
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$(gcc -print-file-name=libasan.so)" "$(command -v tshark)" > "$work/bin/tshark"
  chmod a+rx "$work" "$work/bin" "$work/bin/tshark"
  export PATH="$work/bin:$PATH"
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  mode=", ASan + UBSan plugin"
fi

# the plugin must be what decodes: an unmutated capture shows WMMP (an ASan plugin without -A would not load)
if ! "${runner[@]}" -n -r "${captures[0]}" 2>&1 | grep -q WMMP; then
  echo "fuzz-dissector: the WMMP plugin of $build does not decode ${captures[0]} (not built, or -A missing/extra)" >&2
  exit 2
fi

runs=0 failures=0 mutated=0 start=$(date +%s)
for ((pass = 1; pass <= passes; pass++)); do
  for capture in "${captures[@]}"; do
    for skip in 0 70; do # 70 = Ethernet 14 + IPv4 20 + UDP 8 + WMMP header 28
      mutant="$work/mutant.pcap"
      editcap -E "$rate" -o "$skip" "$capture" "$mutant" >/dev/null 2>&1
      for decode in "" "-2" "-Vx" "-2 -Vx"; do # one-pass and two-pass, without and with the tree
        runs=$((runs + 1))
        # shellcheck disable=SC2086 # $decode is a list of options
        if ! "${runner[@]}" -n $decode -o "uat:wmmp_keys:$keys" -r "$mutant" >"$work/out.txt" 2>&1 ||
           grep -q "Dissector bug\|ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$work/out.txt"; then
          failures=$((failures + 1))
          mkdir -p "$faildir"
          tag=${decode// /}
          keep="$faildir/$(basename "$capture" .pcap)-pass$pass-skip$skip${tag}.pcap"
          cp "$mutant" "$keep"
          cp "$work/out.txt" "$keep.txt"
          echo "FAIL: $keep" >&2
          grep -m5 -i "bug\|error\|abort\|invalid" "$work/out.txt" >&2 || true
        fi
      done
    done
  done
done
secs=$(($(date +%s) - start))
mutated=$((packets * passes * 2))
echo "fuzz: $runs decodes of mutated captures (${#captures[@]} captures, $packets packets, x $passes passes x 2 mutations x 4 modes, error rate $rate$mode): $mutated packets mutated, $failures failures, $secs s"
if [[ -n $report ]]; then
  echo "| $source | ${#captures[@]} | $packets | $passes | $rate | $runs | $mutated | ${mode#, }${mode:+ }$secs s | $failures |" >>"$report"
fi
[[ $failures -eq 0 ]]
