#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs tshark with the WMMP plugin from a build tree, without installing it:
#   scripts/wmmp-tshark.sh [-B BUILD_DIR] [-k KEYS_FILE] TSHARK_ARGS...
#   scripts/wmmp-tshark.sh -h | --help | --version
# BUILD_DIR defaults to build/release (what scripts/demo.sh builds). Everything after the wrapper's own
# options goes to tshark, and tshark's exit code is the wrapper's.
#
# Wireshark loads WIRESHARK_PLUGIN_DIR/X.Y/epan/*.so (X.Y its own release), but ignores that variable when
# run as root. As root this script therefore runs the dissection (tshark) as the user "nobody" in a private
# folder (mode 0700, owned by nobody) holding copies of the plugin, of your Wireshark profile (so your
# wmmp_keys and wmmp_tags apply) and of the capture named by -r when nobody cannot read it; and does as
# root what nobody may not: capturing (dumpcap as root, its output piped into tshark -r -), and writing
# -w FILE and --export-objects PROTO,DIR (written into the private folder, then copied as you).
# Installing the plugin (cmake --install) avoids all of this.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
me=scripts/wmmp-tshark.sh

usage() {
  cat <<EOF
Usage: $me [-B BUILD_DIR] [-k KEYS_FILE] [TSHARK_OPTION...]
       $me -h | --help | --version

tshark with the WMMP plugin of a build tree, without installing it; also as root, where Wireshark ignores
WIRESHARK_PLUGIN_DIR (the dissection then runs as nobody, see the script's header).

Options of the wrapper (before tshark's):
  -B BUILD_DIR   build tree whose plugin to load (default build/release)
  -k KEYS_FILE   terminal keys (a wmmp_keys file such as captures/wmmp-keys.txt), added to the keys of
                 your Wireshark profile (~/.config/wireshark/wmmp_keys, also honoured as root)
  -h, --help     this help
  --version      the project's version and the Wireshark release the plugin is built for

All other options are tshark's: tshark -h. As root every mode works: -r FILE, -r - (stdin), live capture
(-i IFACE, -f, -c, -a, -s, -p, -B, -y: dumpcap captures as root, tshark dissects as nobody; -D, -L), -w FILE,
--export-objects PROTO,DIR; except the ring buffer -b (use dumpcap).

Examples:
  $me -B build/release -r captures/digest.pcap -k captures/wmmp-keys.txt -Y 'wmmp.digest.status == 1'
  $me -i lo -f 'udp port 9992' -a duration:10 -Y wmmp
EOF
}

build=build/release
keys=
while [[ $# -gt 0 ]]; do
  case $1 in
    -B) [[ $# -ge 2 ]] || { echo "wmmp-tshark: -B needs a build folder ($me -h)" >&2; exit 2; }
        build=$2; shift 2 ;;
    -k) [[ $# -ge 2 ]] || { echo "wmmp-tshark: -k needs a keys file ($me -h)" >&2; exit 2; }
        keys=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --version) show_version=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [[ -n $keys && ! -r $keys ]]; then
  echo "wmmp-tshark: cannot read the keys file $keys" >&2
  exit 2
fi

plugins="$build/wireshark-plugins"
# The build writes the plugin under the major.minor of the Wireshark it was configured against.
ws_release=$(tshark -v 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')
built=$(cd "$plugins" 2>/dev/null && ls -d -- */epan/wmmp.so 2>/dev/null | cut -d/ -f1 | tr '\n' ' ' || true)
built=${built% }

if [[ -n ${show_version:-} ]]; then
  version=$(sed -n 's/^project(wmmp VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
  echo "wmmp-tshark (wmmp) ${version:-unknown}"
  if [[ -n $built ]]; then
    echo "WMMP plugin: $plugins/${built// /, }/epan/wmmp.so, for Wireshark ${built// /, }"
  else
    echo "WMMP plugin: not built in $build (cmake --build $build)"
  fi
  echo "tshark: $(tshark -v 2>/dev/null | head -n 1)"
  exit 0
fi

if [[ ! -f "$plugins/$ws_release/epan/wmmp.so" ]]; then
  if [[ -n $built ]]; then
    echo "wmmp-tshark: $build has the plugin for Wireshark $built, but this tshark is ${ws_release:-unknown}:" \
         "configure a build against this Wireshark (cmake -S . -B $build)" >&2
  else
    echo "wmmp-tshark: no plugin at $plugins/${ws_release:-X.Y}/epan/wmmp.so; build first (cmake --build $build)" >&2
  fi
  exit 2
fi

# The caller's Wireshark profile folder, as Wireshark finds it.
profile_dir() {
  if [[ -n ${WIRESHARK_CONFIG_DIR:-} ]]; then
    echo "$WIRESHARK_CONFIG_DIR"
  elif [[ -d ${XDG_CONFIG_HOME:-$HOME/.config}/wireshark || ! -d $HOME/.wireshark ]]; then
    echo "${XDG_CONFIG_HOME:-$HOME/.config}/wireshark"
  else
    echo "$HOME/.wireshark"
  fi
}

# A private copy of the caller's profile in $1, with the -k keys added to its wmmp_keys.
make_profile() {
  local src
  src=$(profile_dir)
  mkdir -p "$1"
  if [[ -d $src ]]; then
    cp -R -- "$src/." "$1/"
  fi
  if [[ -n $keys ]]; then
    if [[ -s $1/wmmp_keys && -n $(tail -c 1 "$1/wmmp_keys") ]]; then echo >>"$1/wmmp_keys"; fi
    cat -- "$keys" >>"$1/wmmp_keys"
  fi
}

if [[ $(id -u) -ne 0 ]]; then
  if [[ -z $keys ]]; then
    exec env WIRESHARK_PLUGIN_DIR="$plugins" tshark "$@"
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/wmmp-tshark.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  make_profile "$tmp/profile"
  set +e
  env WIRESHARK_PLUGIN_DIR="$plugins" WIRESHARK_CONFIG_DIR="$tmp/profile" tshark "$@"
  exit $?
fi

# --- root: tshark as nobody ---------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/wmmp-tshark.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -R "$plugins" "$tmp/plugins"
mkdir "$tmp/home"

# tshark opens a few files relative to its working folder (IOR.txt): stay in the caller's folder when
# nobody may enter it (relative paths in other arguments then keep working), else work in the private one.
nobody_cwd=$PWD
as_nobody() {
  (cd "$nobody_cwd" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env -u XDG_CONFIG_HOME -u XDG_DATA_HOME HOME="$tmp/home" WIRESHARK_CONFIG_DIR="$tmp/profile" \
    WIRESHARK_PLUGIN_DIR="$tmp/plugins" "$@")
}

# Sort the arguments: capture options go to dumpcap, file arguments are redirected into $tmp.
args=() cap=() filter_words=() copies=()
read_file= live=0 list=0 n=0
takes_arg=aBbcCdeEfFGHijJKMNoOrRsStTuUwWXyYz
while [[ $# -gt 0 ]]; do
  a=$1
  shift
  opt= val= has_val=0
  case $a in
    --) args+=(--); filter_words+=("$@"); break ;;
    -k) # the wrapper's own (tshark has no -k), also after tshark's options
      [[ $# -ge 1 && -r $1 ]] || { echo "wmmp-tshark: cannot read the keys file ${1:-}" >&2; exit 2; }
      keys=$1; shift; continue ;;
    --*=*) opt=${a%%=*} val=${a#*=} has_val=1 ;;
    --read-file|--interface|--autostop|--ring-buffer|--buffer-size|--snapshot-length|--linktype|\
    --time-stamp-type|--export-objects|--display-filter|--read-filter|--capture-comment|--enable-protocol|\
    --disable-protocol|--enable-heuristic|--disable-heuristic|--elastic-mapping-filter|--temp-dir|\
    --export-tls-session-keys|--log-level|--log-fatal|--log-domains|--log-debug|--log-noisy|\
    --log-fatal-domains|--log-file|--compress|--hexdump)
      opt=$a
      if [[ $# -gt 0 ]]; then val=$1 has_val=1; shift; fi ;;
    --*) opt=$a ;;
    -?*)
      # a cluster of short options, e.g. -nr FILE or -c10
      i=1
      while (( i < ${#a} )); do
        c=${a:i:1}
        if [[ $takes_arg == *"$c"* ]]; then
          if (( i + 1 < ${#a} )); then val=${a:i+1} has_val=1; elif [[ $# -gt 0 ]]; then val=$1 has_val=1; shift; fi
          opt=-$c
          break
        fi
        case $c in
          p|I) cap+=("-$c") ;;
          D|L) cap+=("-$c"); list=1 ;;
          *) args+=("-$c") ;;
        esac
        i=$((i + 1))
      done
      [[ -n $opt ]] || continue ;;
    *) filter_words+=("$a"); continue ;;
  esac
  case $opt in
    -r|--read-file)
      read_file=$val
      if [[ $val == - ]]; then
        args+=(-r -)
      elif abs=$(realpath -e -- "$val" 2>/dev/null) && as_nobody test -r "$abs" 2>/dev/null; then
        args+=(-r "$abs")
      else
        n=$((n + 1))
        cp -- "$val" "$tmp/capture$n" 2>/dev/null || { echo "wmmp-tshark: cannot read $val" >&2; exit 2; }
        args+=(-r "$tmp/capture$n")
      fi ;;
    -w)
      if [[ $val == - ]]; then
        args+=(-w -)
      else
        n=$((n + 1))
        mkdir "$tmp/out$n"
        args+=(-w "$tmp/out$n/file")
        copies+=("$tmp/out$n/file" "$val")
      fi ;;
    --export-objects)
      n=$((n + 1))
      args+=(--export-objects "${val%%,*},$tmp/export$n")
      copies+=("$tmp/export$n" "${val#*,}") ;;
    -i|--interface|-f|-c|-a|--autostop|-s|--snapshot-length|-B|--buffer-size|-y|--linktype|--time-stamp-type)
      live=1
      cap+=("$opt" "$val") ;;
    -p|--no-promiscuous-mode|-I|--monitor-mode) cap+=("$opt") ;;
    -D|--list-interfaces|-L|--list-data-link-types|--list-time-stamp-types) cap+=("$opt"); list=1 ;;
    -b|--ring-buffer)
      echo "wmmp-tshark: the ring buffer (-b) is not supported here: capture with dumpcap -b, then read the files" >&2
      exit 2 ;;
    *)
      if [[ $a == --*=* ]]; then args+=("$a"); elif [[ $has_val -eq 1 ]]; then args+=("$opt" "$val"); else args+=("$opt"); fi ;;
  esac
done

make_profile "$tmp/profile"
if [[ $list -eq 1 ]]; then
  exec dumpcap "${cap[@]}"
fi
# Information only (tshark -G ..., -v, -h): nothing to capture.
info=0
case ${args[0]:-} in -G|-v|--version|-h|--help) info=1 ;; esac
if [[ -z $read_file && $info -eq 0 ]]; then live=1; fi
if [[ $live -eq 1 && -n $read_file ]]; then
  echo "wmmp-tshark: capture options (-i, -f, -c, -a, ...) and -r exclude each other" >&2
  exit 2
fi
if [[ $live -eq 1 && ${#filter_words[@]} -gt 0 ]]; then
  cap+=(-f "${filter_words[*]}")
  filter_words=()
fi

chown -R nobody:nogroup "$tmp"
chmod 0700 "$tmp"
as_nobody test -x . 2>/dev/null || nobody_cwd=$tmp/home
interrupted=0
trap 'interrupted=1' INT TERM
set +e
if [[ $live -eq 1 ]]; then
  dumpcap -q "${cap[@]}" -w - | as_nobody tshark -r - "${args[@]}" "${filter_words[@]}"
  status=("${PIPESTATUS[@]}")
  rc=${status[1]}
  # dumpcap's failure (no such interface, no permission) is the one to report; 141: tshark stopped first
  if [[ ${status[0]} -ne 0 && ${status[0]} -ne 141 && $interrupted -eq 0 ]]; then
    [[ $rc -ne 0 ]] || rc=${status[0]}
  fi
else
  as_nobody tshark "${args[@]}" "${filter_words[@]}"
  rc=$?
fi
set -e

# Copy what nobody wrote (-w, --export-objects) to where the caller asked for it, as the caller.
for ((i = 0; i < ${#copies[@]}; i += 2)); do
  from=${copies[i]} to=${copies[i + 1]}
  if [[ -d $from ]]; then
    mkdir -p -- "$to" && cp -R -- "$from/." "$to/" ||
      { echo "wmmp-tshark: could not copy the exported objects into $to" >&2; [[ $rc -ne 0 ]] || rc=1; }
  elif [[ -e $from ]]; then
    cp -- "$from" "$to" || { echo "wmmp-tshark: could not write $to" >&2; [[ $rc -ne 0 ]] || rc=1; }
  fi
done
exit "$rc"
