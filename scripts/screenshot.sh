#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A screenshot of the real Wireshark GUI (wireshark-qt) with the WMMP plugin loaded, showing a capture's
# packet list and the WMMP tree of one packet, taken on a virtual X display (Xvfb):
#   scripts/screenshot.sh [-B BUILD_DIR] [-r CAPTURE -f FRAME] [-k KEYS] [-o OUT.png] [--size WxH]
# Defaults: build/release (built if needed), the reference capture captures/digest.pcap (the seed paper's
# figure 4 with every message signed: login, heartbeat, configuration, a health record with ECG, logout;
# made by `wmmp-emulate --scenario figure4 --seed 7 --security digest`, which is run when the file is
# missing), its first health record, captures/wmmp-keys.txt (digests shown Good) and
# docs/images/wireshark-wmmp.png.
#
# Installs wireshark-qt, xvfb, xauth and xdotool when missing (apt-get; WMMP_SKIP_APT=1 skips that).
# Wireshark runs with a private, temporary configuration (your own profile is not read or changed) and
# the plugin from the build tree; as root it runs as the user "nobody", because Wireshark loads plugins
# only from its global folder when run as root (see scripts/wmmp-tshark.sh). The WMMP subtrees are opened
# with the keyboard (xdotool), following the tree that tshark -V prints for the same packet; which ones
# is set by --expand (prefixes of item labels) and --select. docs/VISUALS.md explains it all.
set -euo pipefail
abs() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }   # paths given are from where you are

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  echo "Options: --expand 'LABEL|LABEL...' (subtrees to open), --select LABEL (item to highlight),"
  echo "         --filter DISPLAY_FILTER (packet list filter), --keep DIR (keep the work files there)"
}

build=build/release capture="" frame="" keys=captures/wmmp-keys.txt out=docs/images/wireshark-wmmp.png
size=1400x1250 filter="" keep=""
expand='Wireless M2M Protocol|Header|Body|User data (|WMMP Health Record|ECG waveform|Digest (MD5) ('
select='WMMP Health Record'
while [[ $# -gt 0 ]]; do
  case $1 in
    -B) build=$(abs "$2"); shift 2 ;;
    -r) capture=$(abs "$2"); shift 2 ;;
    -f) frame=$2; shift 2 ;;
    -k) keys=""; [[ -n $2 ]] && keys=$(abs "$2"); shift 2 ;;
    -o) out=$(abs "$2"); shift 2 ;;
    --size) size=$2; shift 2 ;;
    --expand) expand=$2; shift 2 ;;
    --select) select=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --keep) keep=$(abs "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "screenshot: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "screenshot: --size must be WIDTHxHEIGHT" >&2; exit 2; }
width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
cd "$(dirname "$0")/.."
started=$(date +%s)

# --- packages -----------------------------------------------------------------------------------------
gui_packages=(wireshark-qt xvfb xauth xdotool fonts-dejavu-core)
if [[ ${WMMP_SKIP_APT:-0} != 1 ]]; then
  scripts/install-deps.sh
  missing=()
  for p in "${gui_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    as_root=()
    [[ $(id -u) -ne 0 ]] && as_root=(sudo)
    echo "== installing ${missing[*]}"
    "${as_root[@]}" apt-get update -qq
    echo "wireshark-common wireshark-common/install-setuid boolean false" | "${as_root[@]}" debconf-set-selections
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi
for tool in wireshark xvfb-run xauth xdotool tshark python3; do
  command -v "$tool" >/dev/null || { echo "screenshot: $tool not found: apt-get install ${gui_packages[*]}" >&2; exit 2; }
done

# --- build and capture --------------------------------------------------------------------------------
if ! compgen -G "$build/wireshark-plugins/*/epan/wmmp.so" >/dev/null ||
   [[ -z $capture && ! -x $build/emulator/wmmp-emulate ]]; then
  echo "== building $build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi

work=$(mktemp -d /tmp/wmmp-screenshot.XXXXXX)
cleanup() {
  if [[ -n $keep ]]; then mkdir -p "$keep" && cp -r "$work"/. "$keep"/; fi
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"

if [[ -z $capture && -f captures/digest.pcap ]]; then
  capture=$PWD/captures/digest.pcap
elif [[ -z $capture ]]; then
  capture=$work/figure4-digest.pcap
  "$build"/emulator/wmmp-emulate --scenario figure4 --seed 7 --security digest --pcap "$capture" >/dev/null
fi
[[ -f $capture ]] || { echo "screenshot: no such capture: $capture" >&2; exit 2; }
shot_capture=$work/$(basename "$capture")
[[ $capture -ef $shot_capture ]] || cp "$capture" "$shot_capture"

keyopts=()
if [[ -n $keys ]]; then
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    keyopts+=(-o "uat:wmmp_keys:$line")
  done <"$keys"
fi
# tshark with default preferences (an empty profile, as the GUI's below) and the keys
mkdir -p "$work/tshark-home/.config"
tshark_() {
  HOME=$work/tshark-home XDG_CONFIG_HOME=$work/tshark-home/.config \
    scripts/wmmp-tshark.sh -B "$build" "${keyopts[@]}" "$@"
}

if [[ -z $frame ]]; then
  frame=$(tshark_ -r "$shot_capture" -Y wmmp.health -T fields -e frame.number | awk 'NR == 1')
  [[ -n $frame ]] || frame=$(tshark_ -r "$shot_capture" -Y wmmp -T fields -e frame.number | awk 'NR == 1')
  [[ -n $frame ]] || { echo "screenshot: no WMMP packet in $capture" >&2; exit 1; }
fi

# --- the keys that open the wanted subtrees -----------------------------------------------------------
# tshark -2 -V prints the packet's tree with every item expanded, one line per GUI row, 4 spaces per
# level, as the GUI (two passes) builds it. From it: Home, then Down/Up to each item to open (in tree
# order) and Right, then Home and Down to the item to highlight.
tshark_ -2 -r "$shot_capture" -Y "frame.number == $frame" -V >"$work/tree.txt"
keyseq=$(python3 - "$work/tree.txt" "$expand" "$select" <<'EOF'
import sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
prefixes = [p for p in sys.argv[2].split("|") if p]
select = sys.argv[3]
nodes = []                       # [depth, text, children, parent]
stack = []
for l in lines:
    depth = (len(l) - len(l.lstrip(" "))) // 4
    node = [depth, l.strip(), [], None]
    while stack and stack[-1][0] >= depth:
        stack.pop()
    if stack:
        node[3] = stack[-1]
        stack[-1][2].append(node)
    nodes.append(node)
    stack.append(node)
roots = [n for n in nodes if n[3] is None]
wmmp = next((n for n in roots if n[1].startswith("Wireless M2M Protocol")), None)
if wmmp is None:
    sys.exit("screenshot: the packet has no WMMP tree")

def under(n, top):
    while n is not None:
        if n is top:
            return True
        n = n[3]
    return False

def matches(text, p):
    """The label is p, or starts with p followed by ':' or ',' (or p ends with '(' or ' ')."""
    if not text.startswith(p):
        return False
    return len(text) == len(p) or p[-1] in "( " or text[len(p)] in ":,"

expanded = set()
def visible():
    rows = []
    def walk(ns):
        for n in ns:
            rows.append(n)
            if id(n) in expanded:
                walk(n[2])
    walk(roots)
    return rows

keys, cur = ["Home"], 0
for n in nodes:                  # tree order: a parent is opened before its children
    if not n[2] or not under(n, wmmp) or not any(matches(n[1], p) for p in prefixes):
        continue
    rows = visible()
    if not any(r is n for r in rows):
        continue                 # inside a subtree that stays closed
    idx = next(i for i, r in enumerate(rows) if r is n)
    keys += ["Down"] * (idx - cur) + ["Up"] * (cur - idx) + ["Right"]
    expanded.add(id(n))
    cur = idx
rows = visible()
target = next((i for i, r in enumerate(rows) if under(r, wmmp) and matches(r[1], select)), rows.index(wmmp))
keys += ["Home"] + ["Down"] * target
print(" ".join(keys))
print(f"{len(rows)} rows in the packet details, {len(expanded)} subtrees opened")
EOF
)
plan=${keyseq#*$'\n'}
keyseq=${keyseq%%$'\n'*}

# --- a private Wireshark configuration ----------------------------------------------------------------
home=$work/home conf=$work/home/.config/wireshark
mkdir -p "$conf" "$work/plugins" "$work/fb" "$work/run"
cp -r "$build/wireshark-plugins/." "$work/plugins/"
[[ -n $keys ]] && grep -v '^#' "$keys" >"$conf/wmmp_keys"
upper=$(( height / 5 > 180 ? height / 5 : 180 ))
cat >"$conf/preferences" <<EOF
# packet list and packet details only (no bytes pane)
gui.layout_content_3: NONE
EOF
cat >"$conf/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $width
gui.geometry_main_height: $height
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOF
cat >"$conf/recent" <<EOF
gui.geometry_main_upper_pane: $upper
column.width: %m, 50, %t, 80, %s, 85, %d, 85, %p, 65, %L, 55, %i, 940
EOF
[[ $(id -u) -eq 0 ]] && chown -R nobody:nogroup "$home" "$work/run"
chmod 700 "$work/run"
chmod -R a+rX "$work/plugins" "$shot_capture"

# --- the GUI on a virtual display ---------------------------------------------------------------------
cat >"$work/gui.sh" <<'EOF'
#!/usr/bin/env bash
# Runs inside xvfb-run: start Wireshark, wait for its window, open the subtrees, copy the framebuffer.
set -euo pipefail
cp "$XAUTHORITY" "$WORK/xauth"
chmod 644 "$WORK/xauth"
args=(-r "$SHOT_CAPTURE" -g "$FRAME")
[[ -n $FILTER ]] && args+=(-Y "$FILTER")
run_as=()
[[ $AS_NOBODY == 1 ]] && run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
"${run_as[@]}" env HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_RUNTIME_DIR="$WORK/run" \
  XAUTHORITY="$WORK/xauth" WIRESHARK_PLUGIN_DIR="$WORK/plugins" wireshark "${args[@]}" >"$WORK/wireshark.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
win=$(timeout 90 xdotool search --sync --onlyvisible --name "^$(basename "$SHOT_CAPTURE")" | head -n 1) || {
  echo "screenshot: no Wireshark window within 90 s" >&2; cat "$WORK/wireshark.log" >&2; exit 1; }
sleep 3                                        # the packet list is read and the packet selected
xdotool windowfocus --sync "$win"
sleep 0.5
# a click on the empty part of the packet details (only the top-level rows are there) gives it the focus
xdotool mousemove $((WIDTH / 2)) $((HEIGHT * 7 / 8)) click 1
sleep 0.5
# shellcheck disable=SC2086
xdotool key --delay 60 $KEYSEQ
xdotool mousemove "$WIDTH" "$HEIGHT"           # the pointer out of the way
sleep 2
cp "$WORK/fb/Xvfb_screen0" "$WORK/screen.xwd"
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
EOF
chmod 755 "$work/gui.sh"
echo "== Wireshark $(wireshark --version 2>/dev/null | head -n 1 | awk '{print $2}') on a ${width}x${height} virtual display:" \
     "$(basename "$capture"), frame $frame; $plan"
export WORK=$work SHOT_CAPTURE=$shot_capture FRAME=$frame FILTER=$filter KEYSEQ=$keyseq WIDTH=$width \
  HEIGHT=$height AS_NOBODY=$([[ $(id -u) -eq 0 ]] && echo 1 || echo 0)
xvfb-run -a -f "$work/xauth.server" -s "-screen 0 ${width}x${height}x24 -fbdir $work/fb -nocursor" "$work/gui.sh" \
  || { echo "screenshot: the GUI run failed" >&2; exit 1; }

# --- framebuffer (XWD) to PNG -------------------------------------------------------------------------
mkdir -p "$(dirname "$out")"
python3 - "$work/screen.xwd" "$out" <<'EOF'
import struct, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
for order in (">", "<"):
    hdr = struct.unpack(order + "25I", data[:100])
    if hdr[1] == 7 and 100 <= hdr[0] < 4096:       # XWD version 7, sane header size
        break
else:
    sys.exit(f"screenshot: {src} is not an XWD file")
(hsize, _, pixfmt, _, width, height, _, byte_order, _, _, _, bpp, bpl, _,
 rmask, gmask, bmask, _, _, ncolors) = hdr[:20]
if pixfmt != 2 or bpp != 32:
    sys.exit(f"screenshot: unsupported XWD pixel format {pixfmt}/{bpp} bits")
def byte_of(mask):                                   # where an 8-bit channel sits in a 32-bit pixel
    b = ((mask & -mask).bit_length() - 1) // 8
    return b if byte_order == 0 else 3 - b
r, g, b = byte_of(rmask), byte_of(gmask), byte_of(bmask)
off = hsize + 12 * ncolors
raw = bytearray()
for y in range(height):
    row = data[off + y * bpl: off + y * bpl + 4 * width]
    rgb = bytearray(3 * width)
    rgb[0::3], rgb[1::3], rgb[2::3] = row[r::4], row[g::4], row[b::4]
    raw += b"\0" + rgb
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
with open(dst, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
EOF
echo "$out ($(( $(date +%s) - started )) s)"
