#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages the project builds and tests with. Needs root (runs sudo otherwise).
# WMMP_SKIP_APT=1 skips it, for machines that already have everything.
set -euo pipefail
[ "${WMMP_SKIP_APT:-0}" = 1 ] && exit 0

packages=(
  build-essential cmake pkg-config
  wireshark-dev libwireshark-dev tshark
  libglib2.0-dev libgcrypt20-dev libpcap-dev libcunit1-dev libsqlite3-dev
  valgrind python3 util-linux
  clang libclang-rt-dev
  gnuplot-nox fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(sudo)
echo "installing: ${missing[*]}"
echo "apt-get update"
"${as_root[@]}" apt-get update -qq
# tshark asks whether non-root users may capture; answer "no" without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${as_root[@]}" debconf-set-selections
# -q, not -qq: one line per package downloaded, unpacked and set up, so the install is never silent.
echo "apt-get install (${#missing[@]} packages and what they need)"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 \
  --no-install-recommends "${missing[@]}"
