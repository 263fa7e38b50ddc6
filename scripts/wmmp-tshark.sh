#!/usr/bin/env bash
# Runs tshark with the WMMP plugin from a build tree, without installing it:
#   scripts/wmmp-tshark.sh [-B BUILD_DIR] TSHARK_ARGS...
# BUILD_DIR defaults to build/release (what scripts/demo.sh builds).
#
# Wireshark loads WIRESHARK_PLUGIN_DIR/4.0/epan/*.so, but ignores that variable when run as root. As
# root this script therefore runs tshark as the user "nobody" on private, readable copies of the plugin
# and of the capture named by -r (the output still comes to you). Other file arguments (-w, --export-objects)
# must then be writable by nobody. Installing the plugin (cmake --install) avoids all of this.
set -euo pipefail

build=build/release
if [[ ${1:-} == -B ]]; then
  build=$2
  shift 2
fi
plugins="$build/wireshark-plugins"
if [[ ! -f "$plugins/4.0/epan/wmmp.so" ]]; then
  echo "wmmp-tshark: no plugin at $plugins/4.0/epan/wmmp.so; build first (cmake --build $build)" >&2
  exit 2
fi

if [[ $(id -u) -ne 0 ]]; then
  exec env WIRESHARK_PLUGIN_DIR="$plugins" tshark "$@"
fi

tmp=$(mktemp -d /tmp/wmmp-tshark.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -r "$plugins" "$tmp/plugins"
args=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == -r && $# -ge 2 ]]; then
    cp "$2" "$tmp/capture"
    args+=(-r "$tmp/capture")
    shift 2
  else
    args+=("$1")
    shift
  fi
done
chmod -R a+rX "$tmp"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
  env HOME="$tmp" WIRESHARK_PLUGIN_DIR="$tmp/plugins" tshark "${args[@]}"
