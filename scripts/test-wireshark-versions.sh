#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds and tests the project against the Wireshark releases of newer Debian suites, each in its own
# chroot: trixie (Wireshark 4.4, GCC 14) and sid (Wireshark 4.6, GCC 16). The host (Debian 12) covers 4.0
# through scripts/test.sh.
#
#   scripts/test-wireshark-versions.sh [SUITE...]      default: trixie sid
#
# Each chroot is made once with debootstrap --variant=minbase from the Debian mirror apt already uses on
# this machine, gets the packages of scripts/install-deps.sh, and is reused by later runs (in
# $WMMP_CHROOT_DIR, default /var/cache/wmmp-chroots; delete a suite's folder to start it afresh). For each
# suite the source tree is copied in, configured with -DWMMP_WERROR=ON, built, and its unit, tshark and
# captures tests run (ctest -L 'unit|tshark|captures'); then tshark -G plugins must list wmmp with this
# project's version, and captures/digest.pcap with the example keys must give the field values of
# captures/golden/digest.fields (made on 4.0). One line per suite says what happened, after a line for the
# host's own Wireshark (4.0) when scripts/test.sh has just run there (build/ci); the exit status is 0 only
# when every suite built and passed. Needs root (debootstrap, chroot, mount).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
base=${WMMP_CHROOT_DIR:-/var/cache/wmmp-chroots}
suites=("$@")
[[ ${#suites[@]} -gt 0 ]] || suites=(trixie sid)
version=$(sed -n 's/^project(wmmp VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
# What the host runs but the chroots do not, and why (printed, so that nothing is skipped silently).
not_here="e2e (emulator-only), reliability, visuals and the ASan build: emulator code, no Wireshark API; run on the host by scripts/test.sh"

[[ $(id -u) -eq 0 ]] || { echo "test-wireshark-versions: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
  echo "== installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The first plain Debian archive in apt's sources (deb822 .sources files or sources.list), not a
# security or updates one: the chroots come from the same mirror as the host's packages.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk 'BEGIN{RS=""} /(^|\n)Types:[^\n]*deb([ \n]|$)/ && !/Suites:[^\n]*-security/ {
           if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f"
  done
  if [[ -f /etc/apt/sources.list ]]; then
    awk '$1 == "deb" && $3 !~ /-security|-updates/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list
  fi
}
mirror=$(debian_mirror | head -n 1)
[[ -n $mirror ]] || { echo "test-wireshark-versions: no Debian mirror found in apt's sources" >&2; exit 2; }

in_chroot() { chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /bin/sh -c "$2"; }

# Makes (once) a chroot of the suite with the project's build dependencies; prints progress to stderr.
prepare() {
  local suite=$1 dir=$2
  if [[ ! -f $dir/.wmmp-ready ]]; then
    rm -rf "$dir"
    echo "== $suite: debootstrap --variant=minbase from $mirror (once; reused by later runs)" >&2
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" > "$base/$suite-debootstrap.log" 2>&1 ||
      { echo "debootstrap failed, see $base/$suite-debootstrap.log" >&2; return 1; }
    # the mirror's Release files for these suites can be reported as expired
    echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99wmmp-no-valid-until"
  fi
  mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
  cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  mkdir -p "$dir/wmmp"
  cp scripts/install-deps.sh "$dir/wmmp/install-deps.sh"
  if [[ ! -f $dir/.wmmp-ready ]]; then
    echo "== $suite: installing the packages of scripts/install-deps.sh" >&2
  fi
  in_chroot "$dir" "/wmmp/install-deps.sh" > "$base/$suite-deps.log" 2>&1 ||
    { echo "installing packages failed, see $base/$suite-deps.log" >&2; return 1; }
  touch "$dir/.wmmp-ready"
}

# Copies the source tree in, builds with -Werror and runs the tests; prints the suite's summary line.
run_suite() {
  local suite=$1 dir=$base/$1 log=$base/$1-test.log
  if ! prepare "$suite" "$dir"; then
    echo "RESULT $suite: chroot not ready (see $base/$suite-*.log)"
    return 1
  fi
  rm -rf "$dir/wmmp/src" "$dir/wmmp/build"
  mkdir -p "$dir/wmmp/src"
  tar --exclude=./build --exclude=./.git -cf - . | tar -C "$dir/wmmp/src" -xf -
  local ws gcc
  ws=$(in_chroot "$dir" "dpkg-query -W -f='\${Version}' libwireshark-dev" | sed 's/-.*//')
  gcc=$(in_chroot "$dir" "gcc -dumpfullversion")
  echo "== $suite: Wireshark $ws, GCC $gcc: configure (-DWMMP_WERROR=ON), build, test" >&2
  local build=failed tests="not run" plugin="not checked" digest="not checked"
  if in_chroot "$dir" "cd /wmmp/src && cmake -S . -B /wmmp/build -DWMMP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
                       cmake --build /wmmp/build -j$(nproc)" > "$log" 2>&1; then
    build="ok (-Werror, 0 warnings)"
    in_chroot "$dir" "cd /wmmp/build && ctest -L 'unit|tshark|captures' -j$(nproc) --output-on-failure" >> "$log" 2>&1 || true
    # ctest's own count, e.g. "100% tests passed, 0 tests failed out of 58"
    tests=$(grep -E "tests passed, [0-9]+ tests? failed out of" "$log" | tail -n 1 |
            sed -E 's/.*, ([0-9]+) tests? failed out of ([0-9]+).*/\2 \1/' |
            awk '{ printf "%d passed, %d failed", $1 - $2, $2 }')
    [[ -n $tests ]] || tests="no ctest summary"
    grep -E "\*\*\*(Failed|Not Run|Timeout)|Skipped|\(Disabled\)" "$log" | sed "s/^/    $suite: /" >&2 || true
    plugin=$(check_plugin "$dir") || true
    digest=$(check_digest "$dir") || true
  fi
  echo "RESULT $suite: Wireshark $ws (GCC $gcc): build $build; tests $tests; $plugin; $digest"
  [[ $build == ok* && $tests == *" 0 failed" && $plugin == "tshark -G plugins: wmmp $version"* &&
     $digest == *"field values same as"* ]]
}

# tshark as nobody with the build tree's plugin (root would ignore WIRESHARK_PLUGIN_DIR).
TSHARK_AS_NOBODY="chmod -R a+rX /wmmp && cd /tmp && setpriv --reuid=nobody --regid=nogroup --clear-groups \
  env HOME=/tmp WIRESHARK_PLUGIN_DIR=/wmmp/build/wireshark-plugins tshark"

check_plugin() {
  local line
  line=$(in_chroot "$1" "$TSHARK_AS_NOBODY -G plugins" 2>/dev/null | awk '$1 == "wmmp.so" { print $2; exit }')
  if [[ $line == "$version" ]]; then echo "tshark -G plugins: wmmp $line"; else echo "tshark -G plugins: wmmp missing"; fi
}

# digest.pcap's field values against captures/golden/digest.fields (written on 4.0 with the goldens).
check_digest() {
  in_chroot "$1" "cd /wmmp/src && python3 -B captures/captures.py fields --plugin-dir /wmmp/build/wireshark-plugins" \
    2>&1 | tail -n 1
}

# The host's own Wireshark (4.0 on Debian 12), from the build scripts/test.sh just tested, for one line per
# version in the summary: the same plugin and digest.pcap checks, and ctest's count of the same labels.
host_line() {
  local b=build/ci ws gcc tests plugin digest
  [[ -f $b/ctest-summary.log ]] || return 0
  ws=$(dpkg-query -W -f='${Version}' libwireshark-dev 2>/dev/null | sed 's/-.*//')
  gcc=$(gcc -dumpfullversion)
  tests=$(ctest --test-dir "$b" -N -L 'unit|tshark|captures' | sed -n 's/^Total Tests: //p')
  if grep -q "100% tests passed" "$b/ctest-summary.log"; then tests="$tests passed, 0 failed"
  else tests="see $b/ctest-summary.log ($(grep -E 'tests passed' "$b/ctest-summary.log"))"; fi
  plugin=$(scripts/wmmp-tshark.sh -B "$b" -G plugins 2>/dev/null | awk '$1 == "wmmp.so" { print $2; exit }')
  digest=$(python3 -B captures/captures.py fields --plugin-dir "$b/wireshark-plugins" 2>&1 | tail -n 1)
  echo "host: Wireshark $ws (GCC $gcc): build ok (-Werror, scripts/test.sh); tests $tests (unit, tshark and captures of scripts/test.sh's run); tshark -G plugins: wmmp ${plugin:-missing}; $digest"
}

mkdir -p "$base"
status=0
results=()
if [[ $# -eq 0 ]]; then
  line=$(host_line) || true
  [[ -z $line ]] || results+=("$line")
fi
for suite in "${suites[@]}"; do
  line=$(run_suite "$suite") || status=1
  results+=("${line#RESULT }")
  mountpoint -q "$base/$suite/proc" && umount "$base/$suite/proc"
done
echo "== Wireshark versions (logs in $base)"
for r in "${results[@]}"; do echo "$r"; done
echo "not run in the chroots: $not_here"
exit $status
