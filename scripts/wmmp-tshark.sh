#!/usr/bin/env bash
# Runs tshark with the WMMP plugin from a build tree, without installing it:
#   scripts/wmmp-tshark.sh [-B BUILD_DIR] TSHARK_ARGS...
# BUILD_DIR defaults to build/release (what scripts/demo.sh builds).
#
# Wireshark loads WIRESHARK_PLUGIN_DIR/X.Y/epan/*.so (X.Y its own release), but ignores that variable when run as root. As
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
# The build writes the plugin under the major.minor of the Wireshark it was configured against.
ws_release=$(tshark -v 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')
if [[ ! -f "$plugins/$ws_release/epan/wmmp.so" ]]; then
  built=$(cd "$plugins" 2>/dev/null && ls -d -- */epan/wmmp.so 2>/dev/null | cut -d/ -f1 | tr '\n' ' ' || true)
  if [[ -n $built ]]; then
    echo "wmmp-tshark: $build has the plugin for Wireshark ${built% }, but this tshark is ${ws_release:-unknown}:" \
         "configure a build against this Wireshark (cmake -S . -B $build)" >&2
  else
    echo "wmmp-tshark: no plugin at $plugins/${ws_release:-X.Y}/epan/wmmp.so; build first (cmake --build $build)" >&2
  fi
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
