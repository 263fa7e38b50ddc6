#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every shell command shown in README.md and docs/*.md, run as a new user would, and checked.

    test_docs.py --source-dir SRC --build-dir BUILD [--work DIR] [--only TEXT]

The commands are the indented 4-space blocks and the fenced blocks without a language (or sh, bash,
shell, console) of the docs. An HTML comment before a block steers it:

    <!-- docs-test: skip: WHY -->             the block is not run (GUI, installs system-wide, ...): WHY says
                                              what checks it instead
    <!-- docs-test: skip "PREFIX": WHY -->    the same for the block's commands that start with PREFIX
    <!-- docs-test: output -->                a sample of output, not commands
    <!-- docs-test: with in.pcap=captures/x.pcap -->   placeholders the block uses, replaced
    <!-- docs-test: traffic -->               a live capture: an emulator pair talks on lo (port 9992) while
                                              the block runs (root only, in a private network namespace)

Each block runs as one bash script (so `&`, `%1` and variables carry from line to line) in a private copy
of the source tree's layout (symlinks; build/release -> BUILD), with HOME, /tmp/ and /dev/shm/ paths
redirected into a private folder, build/release/emulator on PATH, and `tshark` meaning tshark with the
build's plugin (scripts/wmmp-tshark.sh -B BUILD, what an installed plugin gives). As root every block runs
in its own network namespace, so the docs' fixed ports (9992) collide with nothing. Each command's exit
code is checked, and the property its text promises by the CHECKS below (a check that matches no command
fails the test: the docs and this file must stay in step). A `wmmp-...: warning` on stderr fails a
command: a new user following the docs should meet none. The display filters of docs/PLUGIN.md's table
are each compiled and run on a capture.

One line per command: PASS / FAIL / NOT RUN doc:line command (why). Exit 0 when nothing failed.
"""

import argparse
import csv
import glob
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

SHELL_LANGS = {"", "sh", "bash", "shell", "console"}
WARNING = re.compile(r"^wmmp-[a-z-]+: warning.*$", re.M)


# ---------------------------------------------------------------------------------------------------------
# Extraction

class Block:
    def __init__(self, doc, directives):
        self.doc = doc
        self.directives = directives
        self.commands = []  # (line, text)

    def directive(self, name):
        return [d for d in self.directives if d[0] == name]


def parse_directive(text):
    text = text.strip()
    m = re.match(r'skip\s+"([^"]+)"\s*:\s*(.*)$', text, re.S)
    if m:
        return ("skip-prefix", m.group(1), m.group(2).strip())
    m = re.match(r"skip\s*:\s*(.*)$", text, re.S)
    if m:
        return ("skip", m.group(1).strip())
    if text == "output":
        return ("output",)
    if text == "traffic":
        return ("traffic",)
    m = re.match(r"with\s+(.*)$", text, re.S)
    if m:
        return ("with", dict(kv.split("=", 1) for kv in m.group(1).split()))
    raise ValueError("unknown docs-test directive: " + text)


def split_commands(lines):
    """(line, text) of each command: backslash continuations joined, comment-only lines dropped."""
    out, cur, start = [], [], None
    for no, text in lines:
        if not cur and (not text.strip() or text.lstrip().startswith("#")):
            continue
        if not cur:
            start = no
        cur.append(text)
        if not text.rstrip().endswith("\\"):
            out.append((start, "\n".join(cur)))
            cur = []
    if cur:
        out.append((start, "\n".join(cur)))
    return out


def extract(path, rel):
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, pending, i, prev_blank = [], [], 0, True
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*<!--\s*docs-test:(.*?)-->\s*$", line)
        if m:
            pending.append(parse_directive(m.group(1)))
            i += 1
            continue
        if line.startswith("```"):
            lang = line[3:].strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if lang in SHELL_LANGS:
                b = Block(rel, pending)
                b.commands = split_commands([(k + 1, lines[k]) for k in range(i + 1, j)])
                blocks.append(b)
            pending, i, prev_blank = [], j + 1, False
            continue
        if line.startswith("    ") and line.strip() and prev_blank:
            j, body = i, []
            while j < len(lines) and (lines[j].startswith("    ") or
                                      (not lines[j].strip() and j + 1 < len(lines) and lines[j + 1].startswith("    "))):
                body.append((j + 1, lines[j][4:]))
                j += 1
            b = Block(rel, pending)
            b.commands = split_commands(body)
            blocks.append(b)
            pending, i, prev_blank = [], j, False
            continue
        if line.strip():
            pending = [] if not line.lstrip().startswith("<!--") else pending
        prev_blank = not line.strip()
        i += 1
    return blocks


# ---------------------------------------------------------------------------------------------------------
# Checks of what the text promises: (name, regex on the command, function(ctx) -> None or why it failed)

def lines_of(s):
    return [l for l in s.splitlines() if l.strip()]


def digest_statuses(ctx, extra=()):
    p = subprocess.run([ctx.wrapper, "-B", ctx.build, *extra, "-r", os.path.join(ctx.src, "captures/digest.pcap"),
                        "-T", "fields", "-e", "wmmp.digest.status"], capture_output=True, text=True,
                       env=ctx.env, cwd=ctx.root)
    return [l.strip() for l in p.stdout.splitlines() if l.strip()]


def check_keys_copied(ctx):
    st = digest_statuses(ctx)
    good = st.count("1")
    if good != 12 or len(st) != 12:
        return "the wrapper on captures/digest.pcap after the copy: %d of %d digests Good, 12 of 12 promised" % (good, len(st))


def check_digest_fields(ctx):
    rows = [l.split("\t") for l in lines_of(ctx.out)]
    good = sum(1 for r in rows if r[-1] == "1")
    if len(rows) != 12 or good != 12:
        return "%d of %d digests Good (wmmp.digest.status 1), 12 of 12 promised" % (good, len(rows))


def read_csv(ctx, name, columns):
    path = os.path.join(ctx.cwd, name)
    if not os.path.exists(path):
        return None, "%s not written" % name
    text = open(path, newline="").read()
    rows = list(csv.reader(io.StringIO(text), strict=True))
    if not rows or len(rows[0]) != columns:
        return None, "%s: header of %d columns, %d expected" % (name, len(rows[0]) if rows else 0, columns)
    bad = [r for r in rows if len(r) != columns]
    if bad:
        return None, "%s: %d rows do not have %d columns, e.g. %r" % (name, len(bad), columns, bad[0])
    return rows, None


def check_messages_csv(ctx):
    rows, err = read_csv(ctx, "messages.csv", 7)
    if err:
        return err
    if len(rows) < 2:
        return "messages.csv has no rows"


def check_vitals_csv(ctx):
    rows, err = read_csv(ctx, "vitals.csv", 9)
    if err:
        return err
    ids = [(r[0], r[1]) for r in rows[1:]]
    if len(ids) != 10 or len(set(ids)) != 10:
        return "vitals.csv: %d rows for %d records, one per record (10) promised" % (len(ids), len(set(ids)))


def check_ecg(ctx):
    path = os.path.join(ctx.cwd, "ecg.txt")
    if not os.path.exists(path):
        return "ecg.txt not written"
    ls = open(path).read().split("\n")
    if ls and ls[-1] == "":
        ls.pop()
    if len(ls) != 2500 or not all(re.fullmatch(r"-?\d+", l) for l in ls):
        return "ecg.txt: %d lines (%d samples), 2,500 lines of one sample promised" % (
            len(ls), sum(1 for l in ls if re.fullmatch(r"-?\d+", l)))


def check_fw_crc(ctx):
    m = re.search(r"(\S+)\t(0x[0-9a-f]+)", ctx.out)
    if not m:
        return "no URL and CRC-32 printed"
    ctx.state["crc"] = m.group(2)


def check_fw_file(ctx):
    got = ctx.out.strip()
    if got != ctx.state.get("crc"):
        return "CRC-32 of the exported image %s, DOWNLOAD_INFO announced %s" % (got, ctx.state.get("crc"))


def check_export(ctx):
    f = os.path.join(ctx.cwd, "firmware", "ht-2.0.bin")
    if not os.path.exists(f) or os.path.getsize(f) != 8192:
        return "firmware/ht-2.0.bin (8 KiB) not exported"


def check_help(ctx):
    if "Usage:" not in ctx.out or "tshark -h" not in ctx.out:
        return "no usage with the wrapper's options and the pointer to tshark -h"


def check_version(ctx):
    v = re.search(r"project\(wmmp VERSION ([0-9.]+)", open(os.path.join(ctx.src, "CMakeLists.txt")).read()).group(1)
    rel = ctx.ws_release
    if v not in ctx.out or ("Wireshark " + rel) not in ctx.out:
        return "--version does not say %s and the plugin's Wireshark %s" % (v, rel)


def check_contains(*words, absent=()):
    def f(ctx):
        miss = [w for w in words if w not in ctx.out]
        if miss:
            return "output lacks %s" % ", ".join(repr(w) for w in miss)
        bad = [w for w in absent if w in ctx.out]
        if bad:
            return "output has %s" % ", ".join(repr(w) for w in bad)
    return f


def check_same_capture(ctx):
    m = re.search(r"--pcap\s+(\S+).*#\s*=\s*(captures/\S+\.pcap)", ctx.cmd)
    made, ref = os.path.join(ctx.cwd, m.group(1)), os.path.join(ctx.src, m.group(2))
    if not os.path.exists(made):
        return "%s not written" % m.group(1)
    if open(made, "rb").read() != open(ref, "rb").read():
        return "%s differs from %s (the text says they are equal)" % (m.group(1), m.group(2))


def check_plots(ctx):
    m = re.search(r"-o\s+(\S+)", ctx.cmd)
    d = os.path.join(ctx.cwd, m.group(1))
    pngs = glob.glob(os.path.join(d, "*.png"))
    if not pngs or any(open(p, "rb").read(8) != b"\x89PNG\r\n\x1a\n" for p in pngs):
        return "no valid PNG in %s" % m.group(1)


def check_records(n):
    def f(ctx):
        if len(lines_of(ctx.out)) != n:
            return "%d records in the database, %d expected" % (len(lines_of(ctx.out)), n)
    return f


def check_load(ctx):
    import json
    try:
        summary = json.loads(lines_of(ctx.out)[-1])
    except Exception:
        return "no JSON summary on stdout"
    if summary.get("ok") != 10000 or summary.get("records_acked") != 30000:
        return "summary: ok %s, records_acked %s (10000 terminals x 3 records promised)" % (
            summary.get("ok"), summary.get("records_acked"))


def check_deb(ctx):
    if not glob.glob(os.path.join(ctx.cwd, "wmmp-tools_*_amd64.deb")):
        return "no wmmp-tools_*.deb written"


CHECKS = [
    ("wrapper help", r"wmmp-tshark\.sh -h\b", check_help),
    ("wrapper version", r"wmmp-tshark\.sh --version", check_version),
    ("plugin loads", r"-G plugins \| grep wmmp", check_contains("wmmp")),
    ("stdin", r"-r - <", check_contains("LOGIN", "LOGOUT_ACK", absent=("BAD DIGEST",))),
    ("export objects", r"--export-objects wmmp,firmware/", check_export),
    ("live capture", r"-i lo ", check_contains("LOGIN", "TRANSPARENT_DATA", "LOGOUT_ACK", absent=("BAD DIGEST",))),
    ("keys copied", r"^cp captures/wmmp-keys\.txt ~/\.config/wireshark/wmmp_keys", check_keys_copied),
    ("digests good", r"-e wmmp\.digest\.status$", check_digest_fields),
    ("messages.csv", r"> messages\.csv", check_messages_csv),
    ("statistics", r"-z wmmp,tree -z wmmp,srt", check_contains("WMMP SRT", "TRANSPARENT_DATA")),
    ("expert", r"-z expert", check_contains("never answered")),
    ("vitals.csv", r"> vitals\.csv", check_vitals_csv),
    ("ecg", r"> ecg\.txt", check_ecg),
    ("firmware crc", r"-Y wmmp\.fw\.crc32", check_fw_crc),
    ("firmware file", r"zlib\.crc32", check_fw_file),
    ("decode -V", r"-r capture\.pcap -V", check_contains("WMMP", "Digest status")),
    ("same capture", r"--pcap\s+\S+.*#\s*=\s*captures/", check_same_capture),
    ("plots", r"wmmp-plot\.sh .*-o ", check_plots),
    ("records stored", r"^sqlite3 .*wmmp\.db", check_records(10)),
    ("emulator decode", r"wmmp-tshark\.sh .*-r /tmp/t\.pcap", check_contains("TRANSPARENT_DATA", "LOGOUT_ACK",
                                                                        absent=("BAD DIGEST",))),
    ("load mode", r"--load 10000", check_load),
    ("deb", r"cpack -G DEB", check_deb),
    ("deb files", r"^dpkg -c ", check_contains("/epan/wmmp.so", "usr/bin/wmmp-platform", "wmmp-terminal.1")),
    ("deb control", r"^dpkg -I ", check_contains("Package: wmmp-tools", "Depends:", "wireshark-common")),
]


# ---------------------------------------------------------------------------------------------------------
# Running

class Ctx:
    pass


def can_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


TRAFFIC = r"""
( sleep 3
  wmmp-platform --keys "$W/captures/wmmp-keys.txt" --db "$T/traffic.db" --heartbeat 5 & p=$!
  sleep 0.5
  wmmp-terminal --platform 127.0.0.1:9992 --keys "$W/captures/wmmp-keys.txt" --records 2 --spool "$T/traffic-spool" \
    --heartbeat-ms 2000
  kill $p; wait $p ) >"$T/traffic.log" 2>&1 &
"""


def run_block(ctx, block, results, only):
    subs = {}
    for d in block.directive("with"):
        subs.update(d[1])
    skip_all = block.directive("skip")
    prefixes = block.directive("skip-prefix")
    output = block.directive("output")
    traffic = block.directive("traffic")
    cmds = []
    for line, text in block.commands:
        where = "%s:%d" % (block.doc, line)
        first = text.split("\n")[0]
        if only and only not in where and only not in text:
            continue
        if output:
            results.append(("NOT RUN", where, first, "sample output, not a command"))
            continue
        if skip_all:
            results.append(("NOT RUN", where, first, skip_all[0][1]))
            continue
        pre = [p for p in prefixes if text.startswith(p[1])]
        if pre:
            results.append(("NOT RUN", where, first, pre[0][2]))
            continue
        if traffic and not ctx.netns:
            results.append(("NOT RUN", where, first,
                            "live capture needs root and a private lo: checked by ctest's captures.live"))
            continue
        cmds.append((where, text))
    if not cmds:
        return
    ctx.nblock = getattr(ctx, "nblock", 0) + 1
    tmp = os.path.join(ctx.tmp, "t%d" % ctx.nblock)  # each block its own /tmp
    os.makedirs(tmp, exist_ok=True)
    script = ["W=%s; T=%s" % (shq(ctx.root), shq(tmp)),
              'tshark() { "$W/scripts/wmmp-tshark.sh" -B "$W/build/release" "$@"; }',
              "exec 3>%s" % shq(os.path.join(ctx.tmp, "rc"))]
    if ctx.netns:
        script.insert(0, "ip link set lo up")
    if traffic:
        script.append(TRAFFIC)
    for i, (where, text) in enumerate(cmds):
        t = text
        for k, v in subs.items():
            t = re.sub(r"(?<![\w./-])%s(?![\w])" % re.escape(k), v, t)
        t = t.replace("/tmp/", tmp + "/").replace("/dev/shm/", tmp + "/")
        cmds[i] = (where, text, t)
        script.append("{\n%s\n} >%s 2>%s\necho \"%d $?\" >&3" % (
            t, shq(os.path.join(ctx.tmp, "out.%d" % i)), shq(os.path.join(ctx.tmp, "err.%d" % i)), i))
    path = os.path.join(ctx.tmp, "block.sh")
    open(path, "w").write("\n".join(script) + "\nwait\n" if traffic else "\n".join(script) + "\n")
    argv = ["bash", path]
    if ctx.netns:
        argv = ["unshare", "-n"] + argv
    p = subprocess.Popen(argv, cwd=ctx.root, env=ctx.env, start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=600)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)  # whatever the block left running (a platform started with &)
    except ProcessLookupError:
        pass
    p.wait()
    rcs = {}
    if os.path.exists(os.path.join(ctx.tmp, "rc")):
        for l in open(os.path.join(ctx.tmp, "rc")):
            i, rc = l.split()
            rcs[int(i)] = int(rc)
    cwd = ctx.root
    for i, (where, text, t) in enumerate(cmds):
        first = text.split("\n")[0]
        c = ctx
        c.cmd = " ".join(l.strip().rstrip("\\") for l in t.split("\n"))
        orig = " ".join(l.strip().rstrip("\\") for l in text.split("\n"))
        c.out = read(os.path.join(ctx.tmp, "out.%d" % i))
        c.err = read(os.path.join(ctx.tmp, "err.%d" % i))
        m = re.match(r"(\()?cd (\S+)", c.cmd)
        if m:
            c.cwd = os.path.join(cwd, m.group(2).rstrip(")"))
            if not m.group(1):
                cwd = c.cwd  # not a subshell: the folder carries to the next commands
        else:
            c.cwd = cwd
        rc = rcs.get(i)
        why = None
        if rc is None:
            why = "did not finish (timeout or the block stopped)"
        elif rc != 0:
            why = "exit code %d: %s" % (rc, (c.err.strip().splitlines() or [""])[-1][:200])
        else:
            w = WARNING.search(c.err)
            if w:
                why = "warning on stderr: " + w.group(0)[:200]
        for name, rx, fn in CHECKS:
            if re.search(rx, orig, re.M):
                ctx.matched.add(name)
                if why is None:
                    try:
                        why = fn(c)
                    except Exception as e:  # noqa: BLE001
                        why = "check %s: %r" % (name, e)
        results.append(("FAIL" if why else "PASS", where, first, why))
    for f in glob.glob(os.path.join(ctx.tmp, "*.[0-9]*")) + [os.path.join(ctx.tmp, "rc")]:
        if os.path.exists(f):
            os.remove(f)


def check_filters(ctx, results, only):
    """Each display filter of docs/PLUGIN.md's table compiles and runs (two passes) on a capture."""
    doc = "docs/PLUGIN.md"
    lines = open(os.path.join(ctx.src, doc), encoding="utf-8").read().split("\n")
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("**Display filters.**"))
    except StopIteration:
        return
    for i in range(start, len(lines)):
        m = re.match(r"\| (.+?) \| `(.+)` \|$", lines[i])
        if not m or m.group(2) == "filter":
            if i > start + 3 and not lines[i].startswith("|"):
                break
            continue
        where = "%s:%d" % (doc, i + 1)
        flt = m.group(2)
        if only and only not in where and only not in flt:
            continue
        cap = "captures/failure.pcap" if "never answered" in flt else "captures/loss-30.pcap"
        p = subprocess.run([ctx.wrapper, "-B", ctx.build, "-2", "-r", os.path.join(ctx.src, cap), "-Y", flt],
                           capture_output=True, text=True, env=ctx.env, cwd=ctx.root)
        why = None
        if p.returncode != 0:
            why = "exit code %d: %s" % (p.returncode, (p.stderr.strip().splitlines() or [""])[0])
        elif "never answered" in flt and not p.stdout.strip():
            why = "matches nothing in %s (it has unanswered requests)" % cap
        results.append(("FAIL" if why else "PASS", where, "filter " + flt, why))


def read(path):
    try:
        return open(path, errors="replace").read()
    except FileNotFoundError:
        return ""


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work", help="scratch folder (default: a temporary one, removed at the end)")
    ap.add_argument("--only", help="run only the commands whose doc:line or text contains this")
    ap.add_argument("--report", help="also write the result lines to this file (scripts/test.sh prints it)")
    a = ap.parse_args()
    src, build = os.path.abspath(a.source_dir), os.path.abspath(a.build_dir)

    ctx = Ctx()
    ctx.src, ctx.build, ctx.state, ctx.matched = src, build, {}, set()
    ctx.wrapper = os.path.join(src, "scripts", "wmmp-tshark.sh")
    ctx.netns = can_unshare()
    v = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout
    ctx.ws_release = re.search(r"TShark \(Wireshark\) (\d+\.\d+)", v).group(1)
    work = a.work or tempfile.mkdtemp(prefix="wmmp-docs-")
    if a.work:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    os.chmod(work, 0o755)
    ctx.root = os.path.join(work, "tree")
    ctx.tmp = os.path.join(work, "tmp")
    home = os.path.join(work, "home")
    for d in (ctx.root, ctx.tmp, home, os.path.join(ctx.root, "build")):
        os.makedirs(d, exist_ok=True)
    for name in os.listdir(src):
        if name not in ("build", ".git"):
            os.symlink(os.path.join(src, name), os.path.join(ctx.root, name))
    os.symlink(build, os.path.join(ctx.root, "build", "release"))
    ctx.env = dict(os.environ, HOME=home, WMMP_SKIP_APT="1", LC_ALL="C.UTF-8",
                   PATH=os.path.join(build, "emulator") + os.pathsep + os.environ.get("PATH", ""))
    for k in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "WIRESHARK_CONFIG_DIR"):
        ctx.env.pop(k, None)
    before = set(os.listdir(build))

    results = []
    try:
        docs = ["README.md"] + sorted(os.path.relpath(p, src) for p in glob.glob(os.path.join(src, "docs", "*.md")))
        for doc in docs:
            for block in extract(os.path.join(src, doc), doc):
                run_block(ctx, block, results, a.only)
        check_filters(ctx, results, a.only)
    finally:
        for name in set(os.listdir(build)) - before:  # what the recipes left in the build tree (cpack)
            p = os.path.join(build, name)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)

    if not a.only:
        for name, rx, fn in CHECKS:
            if name not in ctx.matched:
                results.append(("FAIL", "tests/docs/test_docs.py", "check " + name,
                                "matches no command of the docs (%s)" % rx))
    failed = sum(1 for r in results if r[0] == "FAIL")
    lines = ["%s %s %s%s" % (status, where, cmd.strip(), " (why: %s)" % why if why else "")
             for status, where, cmd, why in results]
    lines.append("docs: %d commands: %d passed, %d failed, %d not run" % (
        len(results), sum(1 for r in results if r[0] == "PASS"), failed, sum(1 for r in results if r[0] == "NOT RUN")))
    print("\n".join(lines))
    if a.report:
        with open(a.report, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
