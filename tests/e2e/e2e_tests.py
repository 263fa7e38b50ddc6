# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end tests of wmmp-platform, wmmp-terminal and wmmp-emulate over loopback.

ctest runs one test per invocation:
    python3 e2e_tests.py --platform P --terminal T --emulate E --keys KEYS --source-dir SRC --build-dir BUILD Class.test

Every test uses free ports, a temporary database and spool, and short protocol timings (heartbeats,
response timeouts) so that it ends within about a minute. The database is read with Python's sqlite3.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import wmmp_testlib as testlib  # noqa: E402
from wmmp_testlib import free_port  # noqa: E402

CONFIG = argparse.Namespace()
SERIAL = "A00MS8011390002S"
FIGURE4 = ["LOGIN", "LOGIN_ACK", "HEART_BEAT", "HEART_BEAT_ACK", "CONFIG_SET", "CONFIG_SET_ACK",
           "TRANSPARENT_DATA", "TRANSPARENT_DATA_ACK", "HEART_BEAT", "HEART_BEAT_ACK", "LOGOUT", "LOGOUT_ACK"]
COMMANDS = {1: "LOGIN", 2: "LOGOUT", 3: "HEART_BEAT", 4: "TRANSPARENT_DATA", 5: "CONFIG_GET", 6: "CONFIG_SET",
            7: "CONFIG_TRAP", 8: "REGISTER", 0xA: "CONFIG_REQ", 0xB: "REMOTE_CTRL", 0xC: "DOWNLOAD_INFO",
            0xD: "FILE_REQ", 0xE: "SECURITY_CONFIG", 0xF: "TRANSPARENT_CMD"}
# Fast protocol timings for loopback
FAST_TERMINAL = testlib.FAST_TERMINAL


def command_name(cmd):
    name = COMMANDS.get(cmd & 0x7FFF, "0x%04x" % cmd)
    return name + "_ACK" if cmd & 0x8000 else name


def pcap_payloads(path):
    """The UDP and TCP payloads of a classic Ethernet pcap, in file order."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0xA1B2C3D4 else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
            continue
        ihl = (pkt[14] & 0x0F) * 4
        proto = pkt[23]
        l4 = pkt[14 + ihl:]
        if proto == 17:
            out.append(l4[8:])
        elif proto == 6:
            payload = l4[(l4[12] >> 4) * 4:]
            if payload:
                out.append(payload)
    return out


def wmmp_commands(path):
    """The WMMP command of each message in a capture written by the emulator (one message per packet)."""
    return [command_name(struct.unpack(">H", p[2:4])[0]) for p in pcap_payloads(path) if len(p) >= 28]


def Platform(tmp, extra=(), name="platform"):
    """wmmp-platform on free loopback ports with a temporary database and the example keys."""
    return testlib.Platform(CONFIG.platform, tmp, CONFIG.keys, extra, name)


def run(args, timeout=100):
    return subprocess.run(args, capture_output=True, timeout=timeout)


def text(proc):
    return (proc.stdout + proc.stderr).decode("utf-8", "replace")


class E2E(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wmmp-e2e-")
        self.platform = None

    def tearDown(self):
        if self.platform and self.platform.proc.poll() is None:
            self.platform.proc.kill()
            self.platform.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_platform(self, extra=()):
        self.platform = Platform(self.tmp, extra)
        return self.platform

    def terminal(self, args, tcp=False, timeout=100):
        p = self.platform
        cmd = [CONFIG.terminal, "--platform", p.address(tcp), "--keys", CONFIG.keys, "--serial", SERIAL,
               "--spool", os.path.join(self.tmp, "spool")] + (["--tcp"] if tcp else []) + FAST_TERMINAL + list(args)
        return run(cmd, timeout)

    def records(self, db):
        con = sqlite3.connect(db)
        try:
            return con.execute("SELECT terminal, record_id FROM records ORDER BY terminal, record_id").fetchall()
        finally:
            con.close()

    def assertExactlyOnce(self, db, n, serials=(SERIAL,)):
        rows = self.records(db)
        for serial in serials:
            ids = [r for t, r in rows if t == serial]
            self.assertEqual(len(ids), len(set(ids)), "%s: duplicated record IDs %r" % (serial, ids))
            self.assertEqual(ids, list(range(1, n + 1)), "%s: record IDs in the database" % serial)
        self.assertEqual(len(rows), n * len(serials), "records in the database")


class Usage(E2E):
    def test_help(self):
        for prog in (CONFIG.platform, CONFIG.terminal, CONFIG.emulate):
            p = run([prog, "--help"])
            self.assertEqual(p.returncode, 0, text(p))
            self.assertIn("Examples:", text(p))
            self.assertIn("Usage:", text(p))

    def test_bad_option(self):
        for prog in (CONFIG.platform, CONFIG.terminal, CONFIG.emulate):
            p = run([prog, "--no-such-option"])
            self.assertEqual(p.returncode, 2, text(p))
            lines = p.stderr.decode().strip().splitlines()
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("--no-such-option", lines[0])
        p = run([CONFIG.terminal, "--keys", CONFIG.keys, "--loss", "1.5"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--loss", p.stderr.decode())

    def test_bad_keys(self):
        bad = os.path.join(self.tmp, "bad-keys.txt")
        with open(bad, "w") as f:
            f.write('# keys\n"A00MS8011390002S","86000000000000X","460001234567890","12345678","87654321",'
                    '"0123456789abcdeffedcba98765432100011223344556677"\n')
        for cmd in ([CONFIG.terminal, "--keys", bad], [CONFIG.platform, "--keys", bad, "--db", bad + ".db"]):
            p = run(cmd)
            self.assertEqual(p.returncode, 2, text(p))
            lines = p.stderr.decode().strip().splitlines()
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("bad-keys.txt:2", lines[0])
        p = run([CONFIG.terminal, "--keys", os.path.join(self.tmp, "missing.txt")])
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing.txt", p.stderr.decode())

    def test_busy_port(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        try:
            p = run([CONFIG.platform, "--keys", CONFIG.keys, "--db", os.path.join(self.tmp, "x.db"),
                     "--udp-port", str(port), "--tcp-port", str(free_port(socket.SOCK_STREAM))])
        finally:
            s.close()
        self.assertEqual(p.returncode, 2, text(p))
        lines = p.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("127.0.0.1:%d" % port, lines[0])
        self.assertIn("UDP", lines[0])

    def test_unknown_scenario(self):
        p = run([CONFIG.emulate, "--scenario", "nope"])
        self.assertEqual(p.returncode, 2)
        lines = p.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("figure4", lines[0])


class Session(E2E):
    N = 10

    def session(self, tcp=False, extra=(), n=N):
        p = self.start_platform()
        t = self.terminal(["--records", str(n)] + list(extra), tcp=tcp)
        rc = p.stop()
        self.assertEqual(t.returncode, 0, "terminal:\n%s\nplatform:\n%s" % (text(t), p.stderr()))
        self.assertEqual(rc, 0, p.stderr())
        self.assertExactlyOnce(p.db, n)
        return t

    def test_udp(self):
        self.session()

    def test_tcp(self):
        self.session(tcp=True)

    def test_udp_loss_10(self):
        self.session(extra=["--loss", "0.1", "--seed", "11"])

    def test_udp_loss_30(self):
        self.session(extra=["--loss", "0.3", "--seed", "13"])

    def test_tcp_loss_10(self):
        self.session(tcp=True, extra=["--loss", "0.1", "--seed", "17"])

    def test_tcp_loss_30(self):
        self.session(tcp=True, extra=["--loss", "0.3", "--seed", "19"])

    def test_full_security(self):
        self.session(extra=["--security", "full", "--duplicate", "0.2", "--delay", "5+-5", "--seed", "23"])


class Refused(E2E):
    def test_login_refused(self):
        """A terminal whose uplink password the platform does not share: LOGIN_ACK result 3, exit 3."""
        wrong = os.path.join(self.tmp, "wrong-keys.txt")
        with open(CONFIG.keys) as f:
            line = [l for l in f if l.startswith('"')][0]
        fields = line.strip().split(",")
        fields[3] = '"00000000"'
        with open(wrong, "w") as f:
            f.write(",".join(fields) + "\n")
        p = self.start_platform()
        t = run([CONFIG.terminal, "--platform", p.address(), "--keys", wrong, "--spool", os.path.join(self.tmp, "s"),
                 "--records", "1", "--response-timeout-ms", "250"])
        self.assertEqual(p.stop(), 0)
        self.assertEqual(t.returncode, 3, text(t))
        self.assertEqual(self.records(p.db), [])

    def test_no_platform(self):
        """Nobody listening: communication failure, exit 4, the record stays spooled."""
        port = free_port(socket.SOCK_DGRAM)
        for tcp in ([], ["--tcp"]):
            t = run([CONFIG.terminal, "--platform", "127.0.0.1:%d" % port, "--keys", CONFIG.keys, "--records", "1",
                     "--spool", os.path.join(self.tmp, "s" + "".join(tcp)), "--response-timeout-ms", "100",
                     "--retries", "1", "--login-attempts", "2", "--backoff-ms", "100"] + tcp)
            self.assertEqual(t.returncode, 4, text(t))
            self.assertIn("pending 1", text(t))


class Shutdown(E2E):
    def test_sigterm_logs_out(self):
        p = self.start_platform()
        cmd = [CONFIG.terminal, "--platform", p.address(), "--keys", CONFIG.keys, "--serial", SERIAL, "--spool",
               os.path.join(self.tmp, "spool"), "--records", "100000", "--heartbeat-ms", "1000",
               "--record-interval-ms", "200", "--response-timeout-ms", "250"]
        term = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 20
            while time.time() < deadline and len(self.records(p.db)) < 3:
                time.sleep(0.2)
            self.assertGreaterEqual(len(self.records(p.db)), 3, p.stderr())
            rc = p.stop()
            self.assertEqual(rc, 0, p.stderr())
            self.assertIn("shutting down", p.stderr() + p.stdout())
            # logged out by the platform, the terminal waits to log in again: stop it (records are pending)
            time.sleep(0.5)
            term.send_signal(signal.SIGTERM)
            out, err = term.communicate(timeout=30)
        finally:
            if term.poll() is None:
                term.kill()
                term.wait()
        con = sqlite3.connect(p.db)
        sessions = con.execute("SELECT terminal, logout_at, logout_reason FROM sessions").fetchall()
        con.close()
        self.assertTrue(sessions)
        for serial, logout_at, reason in sessions:
            self.assertIsNotNone(logout_at, "session of %s still open: %r" % (serial, sessions))
        self.assertEqual(sessions[-1][2], 2, "the last session ends with LOGOUT reason 2 (shutdown)")
        self.assertEqual(term.returncode, 5, "records were pending: exit 5 (not acknowledged)\n%s"
                         % (out + err).decode(errors="replace"))


class Offline(E2E):
    def emulate(self, args):
        p = run([CONFIG.emulate] + args)
        self.assertEqual(p.returncode, 0, text(p))
        self.assertIn("check: ok", text(p))
        return p

    def reproducible(self, tcp):
        a, b = os.path.join(self.tmp, "a.pcap"), os.path.join(self.tmp, "b.pcap")
        extra = ["--tcp"] if tcp else []
        self.emulate(["--scenario", "figure4", "--seed", "7", "--pcap", a] + extra)
        self.emulate(["--scenario", "figure4", "--seed", "7", "--pcap", b] + extra)
        sha = [hashlib.sha256(open(x, "rb").read()).hexdigest() for x in (a, b)]
        self.assertEqual(sha[0], sha[1])
        self.assertEqual(wmmp_commands(a), FIGURE4)
        return a

    def test_figure4_reproducible(self):
        self.reproducible(False)

    def test_figure4_tcp_reproducible(self):
        self.reproducible(True)

    def test_scenarios(self):
        listed = run([CONFIG.emulate, "--list"]).stdout.decode()
        names = re.search(r"scenarios: (.*)", listed).group(1).split(", ")
        for name in names:
            for tcp in ([], ["--tcp"]):
                with self.subTest(scenario=name, tcp=bool(tcp)):
                    pcap = os.path.join(self.tmp, name + ".pcap")
                    self.emulate(["--scenario", name, "--seed", "3", "--pcap", pcap] + tcp)
                    self.assertTrue(wmmp_commands(pcap))


def project_version():
    with open(os.path.join(CONFIG.source_dir, "CMakeLists.txt")) as f:
        return re.search(r"project\(wmmp VERSION ([0-9.]+)", f.read()).group(1)


class NewUser(E2E):
    """What a new user meets first (issue 14): -h and --version, the documented figure 4 command, the
    example keys file, a terminal started from another folder, a terminal with no platform to talk to."""

    def test_help_and_version(self):
        version = project_version()
        for prog in (CONFIG.platform, CONFIG.terminal, CONFIG.emulate):
            name = os.path.basename(prog)
            for opt in ("-h", "--help"):
                p = run([prog, opt])
                self.assertEqual(p.returncode, 0, "%s %s: %s" % (name, opt, text(p)))
                self.assertIn("Usage: " + name, p.stdout.decode())
                self.assertIn("-h, --help", p.stdout.decode())
                self.assertIn("--version", p.stdout.decode())
                self.assertIn("Exit status:", p.stdout.decode())
                self.assertEqual(p.stderr, b"")
            p = run([prog, "--version"])
            self.assertEqual(p.returncode, 0, text(p))
            self.assertEqual(p.stdout.decode().splitlines()[0], "%s (WMMP tools) %s" % (name, version))
            p = run([prog, "-x"])
            self.assertEqual(p.returncode, 2, text(p))
            self.assertIn("-x", p.stderr.decode())

    def test_figure4_as_documented(self):
        """README.md, docs/EMULATOR.md and --help show how captures/figure4.pcap is made: it is."""
        ref = os.path.join(CONFIG.source_dir, "captures", "figure4.pcap")
        out = os.path.join(self.tmp, "figure4.pcap")
        p = run([CONFIG.emulate, "--scenario", "figure4", "--seed", "7", "--keys", CONFIG.keys, "--pcap", out])
        self.assertEqual(p.returncode, 0, text(p))
        self.assertEqual(open(out, "rb").read(), open(ref, "rb").read(), "not captures/figure4.pcap")
        helptext = run([CONFIG.emulate, "--help"]).stdout.decode()
        line = [l.strip() for l in helptext.splitlines() if "--scenario figure4" in l]
        self.assertTrue(line, helptext)
        args = line[0].split()[1:]
        args = [a.replace("captures/wmmp-keys.txt", CONFIG.keys).replace("/tmp/figure4.pcap", out) for a in args]
        os.unlink(out)
        p = run([CONFIG.emulate] + args)
        self.assertEqual(p.returncode, 0, text(p))
        self.assertEqual(open(out, "rb").read(), open(ref, "rb").read(), "--help's example: " + line[0])

    def test_example_keys_no_warning(self):
        """The public example keys (marked so) give no mode warning; a keys file without the mark does."""
        example = os.path.join(self.tmp, "example-keys.txt")
        real = os.path.join(self.tmp, "real-keys.txt")
        with open(CONFIG.keys) as f:
            content = f.read()
        self.assertIn("# example keys: public, not secret", content)
        with open(example, "w") as f:
            f.write(content)
        with open(real, "w") as f:
            f.write("".join(l for l in content.splitlines(True) if "example keys" not in l))
        for path, warned in ((example, False), (real, True)):
            os.chmod(path, 0o644)
            p = testlib.Platform(CONFIG.platform, self.tmp, path, name="p-" + os.path.basename(path))
            p.stop()
            self.assertEqual("warning: keys file" in p.stderr(), warned, p.stderr())
            t = run([CONFIG.terminal, "--keys", path, "--platform", p.address(), "--records", "0",
                     "--spool", os.path.join(self.tmp, "s"), "--response-timeout-ms", "50", "--retries", "0",
                     "--login-attempts", "1"])
            self.assertEqual("warning: keys file" in t.stderr.decode(), warned, text(t))

    def test_spool_survives_folder_change(self):
        """No --spool: the spool (and its next record ID) is under $XDG_STATE_HOME/wmmp, not the current
        folder, so a second run from another folder goes on with the next record IDs."""
        p = self.start_platform()
        state = os.path.join(self.tmp, "state")
        env = dict(os.environ, XDG_STATE_HOME=state, HOME=os.path.join(self.tmp, "home"))
        outs = []
        for folder in ("a", "b"):
            cwd = os.path.join(self.tmp, folder)
            os.mkdir(cwd)
            t = subprocess.run([CONFIG.terminal, "--platform", p.address(), "--keys", CONFIG.keys, "--records", "2"]
                               + FAST_TERMINAL, capture_output=True, timeout=100, cwd=cwd, env=env)
            outs.append(text(t))
            self.assertEqual(t.returncode, 0, text(t))
            self.assertEqual(os.listdir(cwd), [], "the terminal wrote into the current folder")
        self.assertEqual(p.stop(), 0)
        self.assertTrue(os.path.isfile(os.path.join(state, "wmmp", "spool-" + SERIAL, "state")))
        self.assertExactlyOnce(p.db, 4)
        # without XDG_STATE_HOME: ~/.local/state/wmmp
        env.pop("XDG_STATE_HOME")
        p = self.start_platform()
        t = subprocess.run([CONFIG.terminal, "--platform", p.address(), "--keys", CONFIG.keys, "--records", "1"]
                           + FAST_TERMINAL, capture_output=True, timeout=100, cwd=self.tmp, env=env)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(t.returncode, 0, text(t))
        self.assertTrue(os.path.isfile(os.path.join(env["HOME"], ".local", "state", "wmmp", "spool-" + SERIAL,
                                                    "state")))

    def test_reused_record_ids_reported(self):
        """Two spools of one terminal reuse record IDs: the platform says so (its log, result 8 to the
        terminal), the terminal logs it and sends the record again under a new ID; nothing lost, nothing
        stored twice."""
        p = self.start_platform()
        for spool in ("s1", "s2"):
            time.sleep(1.1)  # a new spool knows no earlier LOGIN: its LOGIN's System time must be newer
            t = run([CONFIG.terminal, "--platform", p.address(), "--keys", CONFIG.keys, "--records", "2", "--spool",
                     os.path.join(self.tmp, spool)] + FAST_TERMINAL)
            self.assertEqual(t.returncode, 0, text(t))
        self.assertEqual(p.stop(), 0)
        self.assertIn("record 1 already stored by the platform", t.stderr.decode())
        self.assertIn("already stored", p.stderr())
        self.assertExactlyOnce(p.db, 4)

    def test_no_platform_not_silent(self):
        """Nobody listening: the terminal says so on stderr at once (ICMP port unreachable) and after each
        unanswered LOGIN, without --verbose, and names what it does next."""
        port = free_port(socket.SOCK_DGRAM)
        cmd = [CONFIG.terminal, "--platform", "127.0.0.1:%d" % port, "--keys", CONFIG.keys, "--records", "1",
               "--spool", os.path.join(self.tmp, "s")]
        t = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(2)
        finally:
            t.send_signal(signal.SIGINT)
            t.send_signal(signal.SIGINT)
            out, err = t.communicate(timeout=30)
        err = err.decode()
        self.assertIn("127.0.0.1:%d" % port, err)
        self.assertIn("refused", err)
        t = run(cmd + ["--response-timeout-ms", "100", "--retries", "1", "--login-attempts", "2",
                       "--backoff-ms", "100"])
        self.assertEqual(t.returncode, 4, text(t))
        err = t.stderr.decode()
        self.assertRegex(err, r"no answer from 127\.0\.0\.1:%d to LOGIN \(2 tries, 0\.1 s each\); retrying in "
                         % port)
        self.assertIn("giving up", err)


class Load(E2E):
    def test_load(self):
        n, records = 300, 2
        p = self.start_platform(["--load-terminals", str(n), "--quiet"])
        t = run([CONFIG.terminal, "--platform", p.address(), "--keys", CONFIG.keys, "--load", str(n), "--records",
                 str(records), "--heartbeat-ms", "2000", "--record-interval-ms", "100", "--response-timeout-ms",
                 "1000", "--ramp-ms", "500", "--spool", os.path.join(self.tmp, "spool"), "--seed", "5"])
        rc = p.stop()
        self.assertEqual(t.returncode, 0, text(t)[-3000:])
        self.assertEqual(rc, 0)
        summary = json.loads(t.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(summary["ok"], n)
        self.assertEqual(summary["records_acked"], n * records)
        self.assertIn("ACK latency p50", t.stderr.decode())
        serials = ["LOAD%012d" % i for i in range(1, n + 1)]
        self.assertExactlyOnce(p.db, records, serials)


class Tshark(E2E):
    def tshark(self, pcap, fields):
        args = [os.path.join(CONFIG.source_dir, "scripts", "wmmp-tshark.sh"), "-B", CONFIG.build_dir, "-r", pcap,
                "-2", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-Y", "wmmp"]
        for f in fields:
            args += ["-e", f]
        keys = open(CONFIG.keys).read().splitlines()
        line = [k for k in keys if k.startswith('"')][0]
        args += ["-o", "uat:wmmp_keys:" + line]
        os.chmod(self.tmp, 0o755)
        os.chmod(pcap, 0o644)
        p = run(args)
        self.assertEqual(p.returncode, 0, text(p))
        return [l.split("\t") for l in p.stdout.decode().splitlines()]

    def assertDigestsGood(self, rows, at_least):
        self.assertGreaterEqual(len(rows), at_least)
        for cmd, status in rows:
            self.assertEqual(status.split(","), ["1"] * len(status.split(",")), "message %s: digest status %r"
                             % (cmd, status))
            self.assertTrue(status, "message %s has no digest" % cmd)

    def capture(self, tcp):
        n = 5
        pcap = os.path.join(self.tmp, "terminal.pcap")
        p = self.start_platform()
        t = self.terminal(["--records", str(n), "--security", "digest", "--pcap", pcap], tcp=tcp)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(t.returncode, 0, text(t))
        rows = self.tshark(pcap, ["wmmp.command", "wmmp.digest.status"])
        self.assertDigestsGood(rows, 2 * (n + 2))

    def test_terminal_capture_udp(self):
        self.capture(False)

    def test_terminal_capture_tcp(self):
        self.capture(True)

    def test_emulate_figure4(self):
        pcap = os.path.join(self.tmp, "figure4.pcap")
        p = run([CONFIG.emulate, "--scenario", "figure4", "--seed", "7", "--security", "digest", "--pcap", pcap])
        self.assertEqual(p.returncode, 0, text(p))
        rows = self.tshark(pcap, ["wmmp.command", "wmmp.digest.status"])
        self.assertEqual([int(r[0], 0) for r in rows],
                         [1, 0x8001, 3, 0x8003, 6, 0x8006, 4, 0x8004, 3, 0x8003, 2, 0x8002])
        self.assertDigestsGood(rows, 12)


if __name__ == "__main__":
    testlib.main(CONFIG, ("platform", "terminal", "emulate", "keys", "source-dir", "build-dir"))
