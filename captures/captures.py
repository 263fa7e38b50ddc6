#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The reference captures: how each is made, its expected decode, and the checks on both.

    captures.py generate --emulate E --gen-malformed G --out DIR     write every capture into DIR
    captures.py golden   --tshark T --plugin-dir P --dir DIR         rewrite DIR/golden/*.txt from DIR/*.pcap
    captures.py fields   --tshark T --plugin-dir P --dir DIR         compare digest.pcap's field values with
                                                                      DIR/golden/digest.fields
    captures.py check    --emulate E --gen-malformed G --dir DIR [--tshark T --plugin-dir P]

`check` regenerates every capture into a temporary directory and compares it byte for byte with DIR; with
tshark it also decodes each one, compares the decode with DIR/golden/NAME.txt (a unified diff on mismatch),
checks that no capture but malformed.pcap shows a malformed packet or an expert item of severity Error or
group Malformed, that every frame of malformed.pcap shows the expert items its generator lists, and that
together they cover every expert item the plugin registers. Exit status 0 when all is well, 1 otherwise.

The CMake targets `captures` and `refresh-golden` (captures/CMakeLists.txt) and the ctests captures.*
(tests/captures) run this script. Python 3 standard library only.

The golden decode is tshark's verbose text (-V) restricted to WMMP: `tshark -2 -V -O wmmp,wmmp.health`
with the keys of wmmp-keys.txt, run with a clean environment (empty HOME, no personal preferences or
plugins, TZ=UTC, LANG=C.UTF-8). Each frame keeps its "Frame N" line and the WMMP subtrees; the Ethernet,
IPv4, UDP and TCP summary lines are dropped, so the file shows only what the plugin decides (field values
with their value strings, units, generated fields, expert items, reassembly, tracking) and nothing of the
lower layers' presentation, which changes between Wireshark versions. Text rather than JSON: it is what a
reader of the capture sees, and a diff of it reads like a decode.

One set of goldens serves Wireshark 4.0 to 4.6. They hold 4.0's text; where a newer release prints the same
value in another form (long byte strings in full with "[…]", durations in milliseconds, ISO 8601 times,
control characters as \\xNN instead of octal),
canonical() rewrites it into 4.0's form before the comparison, so every value is still compared but no
release's formatting is. A difference that canonical() does not know is a real difference and fails.
"""

import argparse
import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
KEYS = os.path.join(HERE, "wmmp-keys.txt")
MALFORMED = "malformed.pcap"
DECODE_AS_HEALTH = ["-d", "wmmp.user_data,wmmp.health"]


class Capture:
    def __init__(self, name, what, args, tshark_args=()):
        self.name = name
        self.what = what
        self.args = args  # wmmp-emulate options (None: made by wmmp-gen-malformed)
        self.tshark_args = list(tshark_args)

    @property
    def golden(self):
        return os.path.join("golden", os.path.splitext(self.name)[0] + ".txt")


def emulate(scenario, seed, *extra):
    return ["--scenario", scenario, "--seed", str(seed)] + list(extra)


# Every capture, in the order of captures/README.md. All use the first terminal of wmmp-keys.txt.
CAPTURES = [
    Capture("figure4.pcap", "the paper's figure 4 over UDP, exactly its 12 messages; no security (common messages)",
            emulate("figure4", 7, "--security", "plain")),
    Capture("figure4-tcp.pcap", "figure 4 over TCP (handshake, one segment per message, FIN)",
            emulate("figure4", 7, "--security", "plain", "--tcp")),
    Capture("register.pcap", "a terminal without a serial: REGISTER / REGISTER_ACK (serial assigned), LOGIN, "
            "a record, LOGOUT", emulate("register", 1)),
    Capture("digest.pcap", "figure 4 with every message signed (LOGIN 0xA0, the rest 0x20): digests Good",
            emulate("figure4", 7, "--security", "digest")),
    Capture("encrypted.pcap", "figure 4 encrypted (0xE0): session key in LOGIN_ACK's 0xE040, signal level in "
            "0xE040, decrypted with the base key", emulate("figure4", 7, "--security", "encrypted")),
    Capture("full.pcap", "figure 4 fully encrypted: after LOGIN_ACK every body one 0xE042 (0xF0), decrypted with "
            "the session key", emulate("figure4", 7, "--security", "full")),
    Capture("fragmented.pcap", "a 10 s ECG record (2500 samples) in 0x4008 parts with send-next controls, "
            "reassembled", emulate("fragmented", 1)),
    Capture("firmware.pcap", "DOWNLOAD_INFO of an 8 KiB image, 16 FILE_REQ / FILE_REQ_ACK blocks, CRC-32 good, "
            "CONFIG_TRAP of the new version (export: ht-2.0.bin)", emulate("firmware", 1)),
    Capture("config.pcap", "CONFIG_GET, CONFIG_SET, REMOTE_CTRL (report settings) from the platform; CONFIG_TRAP "
            "and CONFIG_REQ from the terminal", emulate("config", 1)),
    Capture("security.pcap", "SECURITY_CONFIG both ways: passwords and expiries in 0xE040 from the platform, "
            "parameter digests from the terminal (security encrypted)",
            emulate("security", 1, "--security", "encrypted")),
    Capture("loss-30.pcap", "10 records with 30 % loss: retransmissions (same Sequence_ID), repeated requests "
            "answered from the stored ACK", emulate("loss", 3, "--loss", "0.3")),
    Capture("failure.pcap", "the platform vanishes: retransmissions, communication failure, LOGOUT reason 1, "
            "unanswered LOGINs", emulate("failure", 1)),
    Capture("wrap.pcap", "Sequence_IDs 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 0, 1, ...", emulate("wrap", 1)),
    Capture("paper-dialect.pcap", "figure 4 in the seed paper's dialect: signal level as tag 0x0002 "
            "(decode with wmmp.dialect: paper)", emulate("figure4", 7, "--security", "digest", "--dialect", "paper"),
            tshark_args=["-o", "wmmp.dialect:paper"]),
    Capture("panel.pcap", "one health record with every vital, a 0.5 s ECG, all 14 lab analytes (flags normal, "
            "low, high, critical) and a reminder of each level", emulate("panel", 1)),
    Capture(MALFORMED, "hand-made defects, one per frame, raising every expert item of the plugin (health record "
            "ones with Decode As), then a clean exchange", None, tshark_args=DECODE_AS_HEALTH),
]


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- generation

def generate(out, emulate_bin, gen_malformed, keys=KEYS, expect_path=None):
    """Writes every capture into out; returns a list of problems (empty when all went well)."""
    problems = []
    os.makedirs(out, exist_ok=True)
    for c in CAPTURES:
        path = os.path.join(out, c.name)
        if c.args is None:
            cmd = [gen_malformed, "--keys", keys, path]
            if expect_path:
                cmd[1:1] = ["--expect", expect_path]
        else:
            cmd = [emulate_bin] + c.args + ["--keys", keys, "--pcap", path]
        p = subprocess.run(cmd, capture_output=True, text=True)
        out_text = p.stdout + p.stderr
        if p.returncode != 0 or (c.args is not None and "check: ok" not in out_text):
            problems.append("%s: %s exited with %d:\n%s" % (c.name, os.path.basename(cmd[0]), p.returncode,
                                                           out_text))
    return problems


# ---------------------------------------------------------------- tshark

def keys_uat(keys=KEYS):
    with open(keys) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")][0]


class Tshark:
    """tshark with the built plugin and nothing personal. As root, tshark ignores WIRESHARK_PLUGIN_DIR, so it
    runs as nobody on readable copies of the plugin and the captures (like scripts/wmmp-tshark.sh)."""

    def __init__(self, tshark, plugin_dir):
        self.tshark = tshark
        self.root = tempfile.mkdtemp(prefix="wmmp-captures-tshark-")
        self.as_nobody = os.geteuid() == 0
        self.home = os.path.join(self.root, "home")
        os.mkdir(self.home)
        if self.as_nobody:
            self.plugins = os.path.join(self.root, "plugins")
            shutil.copytree(plugin_dir, self.plugins)
            os.chmod(self.home, 0o777)
            for base, dirs, files in os.walk(self.root):
                os.chmod(base, 0o755 if base != self.home else 0o777)
                for f in files:
                    os.chmod(os.path.join(base, f), 0o644)
        else:
            self.plugins = plugin_dir
        self.n = 0

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def run(self, pcap, args):
        if self.as_nobody:
            self.n += 1
            copy = os.path.join(self.root, "%d-%s" % (self.n, os.path.basename(pcap)))
            shutil.copyfile(pcap, copy)
            os.chmod(copy, 0o644)
            pcap = copy
        env = ["PATH=/usr/bin:/bin", "HOME=" + self.home, "XDG_CONFIG_HOME=" + os.path.join(self.home, ".config"),
               "TZ=UTC", "LANG=C.UTF-8", "WIRESHARK_PLUGIN_DIR=" + self.plugins]
        cmd = ["env", "-i"] + env + [self.tshark, "-r", pcap, "-o", "uat:wmmp_keys:" + keys_uat()] + list(args)
        if self.as_nobody:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
        p = subprocess.run(cmd, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("tshark failed (%d) on %s:\n%s" % (p.returncode, pcap,
                                                                  p.stderr.decode("utf-8", "replace")))
        return p.stdout.decode("utf-8", "replace")


KEEP_TOP = ("Wireless M2M Protocol", "WMMP Health Record", "[Malformed Packet")
FRAME_LINE = re.compile(r"^Frame (\d+): ")


def filter_decode(text):
    """tshark -V text restricted to WMMP: 'Frame N' lines and the WMMP subtrees."""
    out, keep = [], False
    for line in text.splitlines():
        if not line.strip():
            keep = False
            if out and out[-1] != "":
                out.append("")
            continue
        if not line.startswith(" "):
            m = FRAME_LINE.match(line)
            if m:
                out.append("Frame " + m.group(1))
                keep = False
                continue
            keep = line.startswith(KEEP_TOP)
        if keep:
            out.append(line.rstrip())
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


# Wireshark 4.0 to 4.6 print some values differently; the golden files hold 4.0's form, and canonical()
# turns a newer release's form into it, so that one set of goldens compares the values on every release.
BYTES_SHOWN = 36  # 4.0 shows the first 36 bytes of a long FT_BYTES value, then "…"
BYTES_LINE = re.compile(r"^(\s*\[?)([^:\[]*?)(?: \[…\])?: ([0-9a-f]+)(…?)(\]?)$")
DURATION = re.compile(r"(-?\d+\.\d+) (milliseconds|microseconds|nanoseconds)\b")
DURATION_SCALE = {"milliseconds": 1e3, "microseconds": 1e6, "nanoseconds": 1e9}
ISO_TIME = re.compile(r"\b(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d\.\d{9})Z")
HEX_ESCAPE = re.compile(r"\\x([0-9a-f]{2})")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def canonical_line(line):
    m = BYTES_LINE.match(line)
    if m and len(m.group(3)) > 2 * BYTES_SHOWN:
        # 4.2+: "Name […]: <every byte>" for 4.0's "Name: <36 bytes>…"
        line = "%s%s: %s…%s" % (m.group(1), m.group(2), m.group(3)[:2 * BYTES_SHOWN], m.group(5))
    # 4.6: "20.000000 milliseconds" for 4.0's "0.020000000 seconds"
    line = DURATION.sub(lambda d: "%.9f seconds" % (float(d.group(1)) / DURATION_SCALE[d.group(2)]), line)
    # 4.2+: a control character in a string as "\x12" for 4.0's octal "\022"
    line = HEX_ESCAPE.sub(lambda e: "\\%03o" % int(e.group(1), 16), line)
    # 4.6: ISO 8601 "2026-01-01T00:00:00.000000000Z" for 4.0's "Jan  1, 2026 00:00:00.000000000 UTC"
    return ISO_TIME.sub(lambda t: "%s %2d, %s %s UTC" % (MONTHS[int(t.group(2)) - 1], int(t.group(3)), t.group(1),
                                                        t.group(4)), line)


def canonical(text):
    return "".join(canonical_line(l) + "\n" for l in text.splitlines())


def decode(ts, capture, pcap):
    return canonical(filter_decode(ts.run(pcap, ["-2", "-V", "-O", "wmmp,wmmp.health"] + capture.tshark_args)))


SEVERITY_ERROR = 0x00800000
GROUP_MALFORMED = 0x07000000
PROBLEM_FILTER = "_ws.malformed || _ws.expert.severity == 0x%08x || _ws.expert.group == 0x%08x" % (
    SEVERITY_ERROR, GROUP_MALFORMED)


def problem_frames(ts, capture, pcap):
    """Frames with a malformed packet or an Error / Malformed expert item: [(frame, messages)]."""
    out = ts.run(pcap, ["-2", "-Y", PROBLEM_FILTER, "-T", "fields", "-e", "frame.number", "-e",
                        "_ws.expert.message", "-E", "occurrence=a", "-E", "aggregator= | "] + capture.tshark_args)
    return [tuple(l.split("\t", 1)) for l in out.splitlines() if l.strip()]


# Expert items a reference capture cannot raise with the default preferences, and the test that raises them.
RAISED_ELSEWHERE = {
    "wmmp.tracking.limit": "needs more than wmmp.tracking_max_exchanges (5,000,000) requests; "
                           "tests/tshark/test_hostile.py raises it with a lowered preference",
}


def plugin_expert_items(source_dir=SOURCE_DIR):
    """Every expert item the plugin registers: {name: (group, severity)}."""
    items = {}
    pattern = re.compile(r'\{\s*&ei_\w+\s*,\s*\{\s*"([a-z0-9_.]+)"\s*,\s*(PI_\w+)\s*,\s*(PI_\w+)')
    plugin = os.path.join(source_dir, "plugin")
    for name in sorted(os.listdir(plugin)):
        if name.endswith(".c"):
            with open(os.path.join(plugin, name)) as f:
                for m in pattern.finditer(f.read()):
                    items[m.group(1)] = (m.group(2), m.group(3))
    return items


def expert_items_by_frame(ts, capture, pcap, names):
    """{frame: set of expert item names} from tshark's PDML."""
    xml = ts.run(pcap, ["-2", "-T", "pdml"] + capture.tshark_args)
    found = {}
    for packet in ET.fromstring(xml).iter("packet"):
        number = None
        seen = set()
        for field in packet.iter("field"):
            name = field.get("name")
            if name == "num" and number is None:
                number = int(field.get("show"))
            elif name in names:
                seen.add(name)
        found[number] = seen
    return found


def read_expectations(path):
    exp = {}
    with open(path) as f:
        for line in f:
            frame, items, what = line.rstrip("\n").split("\t")
            exp[int(frame)] = (set(items.split(",")), what)
    return exp


# ---------------------------------------------------------------- commands

def cmd_generate(a):
    problems = generate(a.out, a.emulate, a.gen_malformed)
    for p in problems:
        log(p)
    if not problems:
        for c in CAPTURES:
            log("%-20s %8d bytes" % (c.name, os.path.getsize(os.path.join(a.out, c.name))))
    return 1 if problems else 0


# Field values of one capture, as tshark -T fields prints them on every release: the cross-release check
# of scripts/test-wireshark-versions.sh (golden/digest.fields is written with the goldens, on 4.0).
FIELDS_CAPTURE = "digest.pcap"
FIELDS_GOLDEN = os.path.join("golden", "digest.fields")
FIELDS = ["frame.number", "wmmp.command", "wmmp.sequence", "wmmp.class", "wmmp.terminal_id", "wmmp.result",
          "wmmp.digest.status", "wmmp.response_in", "wmmp.response_to"]
DIGEST_GOOD = "1"


def decode_fields(ts, pcap):
    args = ["-2", "-T", "fields"]
    for f in FIELDS:
        args += ["-e", f]
    return ts.run(pcap, args)


def cmd_golden(a):
    ts = Tshark(a.tshark, a.plugin_dir)
    try:
        os.makedirs(os.path.join(a.dir, "golden"), exist_ok=True)
        for c in CAPTURES:
            text = decode(ts, c, os.path.join(a.dir, c.name))
            with open(os.path.join(a.dir, c.golden), "w", encoding="utf-8") as f:
                f.write(text)
            log("%-28s %8d bytes" % (c.golden, len(text.encode("utf-8"))))
        with open(os.path.join(a.dir, FIELDS_GOLDEN), "w", encoding="utf-8") as f:
            f.write(decode_fields(ts, os.path.join(a.dir, FIELDS_CAPTURE)))
        log("%-28s (fields %s)" % (FIELDS_GOLDEN, " ".join(FIELDS)))
    finally:
        ts.close()
    return 0


def fields_problems(ts, d, pcap):
    """[] when the capture's field values are those of golden/digest.fields; a summary line is logged."""
    got = decode_fields(ts, pcap)
    with open(os.path.join(d, FIELDS_GOLDEN), encoding="utf-8") as f:
        want = f.read()
    rows = [l.split("\t") for l in got.splitlines()]
    good = sum(1 for r in rows if r[FIELDS.index("wmmp.digest.status")] == DIGEST_GOOD)
    if got != want:
        diff = difflib.unified_diff(want.splitlines(True), got.splitlines(True), FIELDS_GOLDEN, "decoded now")
        return ["%s: field values differ from %s:\n%s" % (FIELDS_CAPTURE, FIELDS_GOLDEN, "".join(diff))]
    log("%s: %d messages, %d digests Good, field values same as %s" % (FIELDS_CAPTURE, len(rows), good,
                                                                      FIELDS_GOLDEN))
    return []


def cmd_fields(a):
    ts = Tshark(a.tshark, a.plugin_dir)
    try:
        problems = fields_problems(ts, a.dir, os.path.join(a.dir, FIELDS_CAPTURE))
    finally:
        ts.close()
    for p in problems:
        log(p)
    return 1 if problems else 0


def check_readme(d):
    problems = []
    with open(os.path.join(d, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for c in CAPTURES:
        rows = [l for l in readme.splitlines() if l.startswith("| `%s` |" % c.name)]
        if len(rows) != 1:
            problems.append("README.md: %d table rows for `%s` (one wanted)" % (len(rows), c.name))
        elif "keys: wmmp-keys.txt" not in rows[0]:
            problems.append("README.md: the row of `%s` does not name its keys file" % c.name)
    return problems


def cmd_check(a):
    problems = check_readme(a.dir)
    tmp = tempfile.mkdtemp(prefix="wmmp-captures-")
    ts = None
    try:
        expect_path = os.path.join(tmp, "malformed.expect")
        gen_problems = generate(tmp, a.emulate, a.gen_malformed, expect_path=expect_path)
        problems += gen_problems
        if not gen_problems:
            for c in CAPTURES:
                ref = os.path.join(a.dir, c.name)
                if not os.path.exists(ref):
                    problems.append("%s: not in %s (cmake --build B --target captures)" % (c.name, a.dir))
                elif not filecmp.cmp(ref, os.path.join(tmp, c.name), shallow=False):
                    problems.append("%s: the regenerated capture differs from the checked-in one "
                                    "(cmake --build B --target captures, then refresh-golden)" % c.name)
            log("byte identity: %d captures regenerated and compared" % len(CAPTURES))
        if a.tshark and not gen_problems:
            ts = Tshark(a.tshark, a.plugin_dir)
            problems += check_decodes(ts, a.dir, tmp, expect_path)
    finally:
        if ts:
            ts.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        log("FAIL: " + p)
    log("%s: %d problem(s)" % ("ok" if not problems else "FAILED", len(problems)))
    return 1 if problems else 0


def check_decodes(ts, d, tmp, expect_path):
    problems = fields_problems(ts, d, os.path.join(tmp, FIELDS_CAPTURE))
    for c in CAPTURES:
        pcap = os.path.join(tmp, c.name)
        text = decode(ts, c, pcap)
        golden_path = os.path.join(d, c.golden)
        if not os.path.exists(golden_path):
            problems.append("%s: no golden decode %s (cmake --build B --target refresh-golden)" % (c.name, c.golden))
        else:
            with open(golden_path, encoding="utf-8") as f:
                want = f.read()
            if want != text:
                diff = difflib.unified_diff(want.splitlines(True), text.splitlines(True), c.golden, "decoded now")
                problems.append("%s: the decode differs from %s:\n%s" % (c.name, c.golden, "".join(list(diff)[:400])))
        if c.name != MALFORMED:
            bad = problem_frames(ts, c, pcap)
            if bad:
                problems.append("%s: malformed or error expert items in frames %s" % (
                    c.name, "; ".join("%s: %s" % (f, m) for f, m in bad[:10])))
        log("decoded %-20s %6d lines" % (c.name, text.count("\n")))
    # malformed.pcap: each frame shows what its generator says; together every expert item of the plugin
    names = plugin_expert_items()
    cap = [c for c in CAPTURES if c.name == MALFORMED][0]
    found = expert_items_by_frame(ts, cap, os.path.join(tmp, MALFORMED), set(names))
    for frame, (items, what) in sorted(read_expectations(expect_path).items()):
        missing = items - found.get(frame, set())
        if missing:
            problems.append("malformed.pcap frame %d (%s): no %s; shown: %s" % (
                frame, what, ", ".join(sorted(missing)), ", ".join(sorted(found.get(frame, ()))) or "nothing"))
    covered = set().union(*found.values()) if found else set()
    uncovered = sorted(set(names) - covered - set(RAISED_ELSEWHERE))
    for name, why in sorted(RAISED_ELSEWHERE.items()):
        log("malformed.pcap: %s not expected here: %s" % (name, why))
    if uncovered:
        problems.append("malformed.pcap does not raise these expert items of the plugin: " + ", ".join(uncovered))
    log("malformed.pcap: %d of the plugin's %d expert items raised" % (len(covered & set(names)), len(names)))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--emulate", required=True)
    g.add_argument("--gen-malformed", required=True)
    g.add_argument("--out", default=HERE)
    r = sub.add_parser("golden")
    r.add_argument("--tshark", default="tshark")
    r.add_argument("--plugin-dir", required=True)
    r.add_argument("--dir", default=HERE)
    f = sub.add_parser("fields")
    f.add_argument("--tshark", default="tshark")
    f.add_argument("--plugin-dir", required=True)
    f.add_argument("--dir", default=HERE)
    c = sub.add_parser("check")
    c.add_argument("--emulate", required=True)
    c.add_argument("--gen-malformed", required=True)
    c.add_argument("--dir", default=HERE)
    c.add_argument("--tshark")
    c.add_argument("--plugin-dir")
    a = parser.parse_args()
    if a.command == "check" and bool(a.tshark) != bool(a.plugin_dir):
        parser.error("check: --tshark and --plugin-dir go together")
    return {"generate": cmd_generate, "golden": cmd_golden, "fields": cmd_fields, "check": cmd_check}[a.command](a)


if __name__ == "__main__":
    sys.exit(main())
