# SPDX-License-Identifier: GPL-2.0-or-later
"""Reliability and security tests of wmmp-platform and wmmp-terminal over loopback (docs/RELIABILITY.md).

ctest runs one test per invocation:
    python3 reliability_tests.py --platform P --terminal T [--emulate E] --keys KEYS --source-dir SRC Class.test

    Hostile    floods of mutated and random datagrams and TCP streams, slowloris and idle connections while
               real terminals (UDP and TCP) finish their sessions; the platform's memory stays bounded
    RateLimit  one source flooding a platform with --rate-limit, a terminal at another address unharmed
    Security   bad digests never stored, replays after the session rejected, unknown terminals refused,
               no password or key in any log, the keys file's permissions
    Faults     loss of 1, 10 and 30 % on both programs, duplication and reordering, a platform killed
               (kill -9) and restarted mid-session, a terminal killed and restarted on its spool: every
               health record in the database exactly once

WMMP_RELIABILITY_SCALE (default 1) multiplies records and flood durations (scripts/reliability-campaign.sh
runs the long versions); WMMP_RELIABILITY_SEED is added to the fault injection seeds; WMMP_RELIABILITY_RESULTS
names a file that gets one JSON line of figures per passed test.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import wmmp_testlib as testlib  # noqa: E402
import wmmp_wire as w  # noqa: E402
from wmmp_testlib import free_port  # noqa: E402

CONFIG = argparse.Namespace()
SCALE = float(os.environ.get("WMMP_RELIABILITY_SCALE", "1"))
RESULTS = os.environ.get("WMMP_RELIABILITY_RESULTS")
SEED = int(os.environ.get("WMMP_RELIABILITY_SEED", "0"))  # added to every --seed (campaign rounds differ)
FAST_TERMINAL = testlib.FAST_TERMINAL + ["--ecg-seconds", "1"]
HOSTILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wmmp_hostile.py")


def records_n(base):
    return max(1, int(round(base * SCALE)))


def report(test, **figures):
    """One JSON line of figures for the campaign's table."""
    if RESULTS:
        figures["test"] = test
        with open(RESULTS, "a") as f:
            f.write(json.dumps(figures, sort_keys=True) + "\n")


def write_keys(path, n=2, mode=0o600):
    """The example terminal plus n - 1 more (own serial, IMEI, IMSI, passwords and base key)."""
    with open(CONFIG.keys) as f:
        first = [l.strip() for l in f if l.startswith('"')][0]
    lines = [first]
    for i in range(1, n):
        lines.append('"A00MS80113900%02dS","8600000000001%02d","4600012345679%02d","p%06du","p%06dd","%s"'
                     % (i + 2, i, i, i, i, ("%02x" % (0x40 + i)) * 24))
    with open(path, "w") as f:
        f.write("# keys of the reliability tests\n" + "\n".join(lines) + "\n")
    os.chmod(path, mode)
    return [w.Keys(l) for l in lines]


def sanitized(program):
    """True for an AddressSanitizer build (its memory figures are not the program's)."""
    try:
        return b"libasan" in subprocess.run(["ldd", program], capture_output=True, timeout=30).stdout
    except OSError:
        return False


def rss_kb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def Platform(tmp, keys, extra=(), **kw):
    """wmmp-platform on loopback (tests/wmmp_testlib.py), restartable on the same ports and database."""
    return testlib.Platform(CONFIG.platform, tmp, keys, extra, **kw)


def terminal_args(platform, keyfile, serial, spool, records, extra=(), tcp=False):
    return ([CONFIG.terminal, "--platform", platform.address(tcp), "--keys", keyfile, "--serial", serial,
             "--spool", spool, "--records", str(records)] + (["--tcp"] if tcp else []) + FAST_TERMINAL +
            list(extra))


def terminal_figures(text):
    m = re.search(r"records generated (\d+), sent (\d+), acknowledged (\d+), pending (\d+).*logins (\d+), "
                  r"failures (\d+); link: requests (\d+), retransmissions (\d+)", text)
    if not m:
        return {}
    keys = ["generated", "sent", "acknowledged", "pending", "logins", "failures", "requests", "retransmissions"]
    return dict(zip(keys, map(int, m.groups())))


class Base(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wmmp-rel-")
        self.platforms = []
        self.procs = []
        self.keyfile = os.path.join(self.tmp, "keys.txt")
        self.keys = write_keys(self.keyfile)

    def tearDown(self):
        for p in self.platforms:
            p.kill()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def platform(self, extra=(), **kw):
        p = Platform(self.tmp, self.keyfile, extra, **kw)
        self.platforms.append(p)
        return p

    def terminal(self, platform, serial, records, extra=(), tcp=False, spool=None, timeout=300):
        spool = spool or os.path.join(self.tmp, "spool-" + serial + ("-tcp" if tcp else ""))
        p = subprocess.run(terminal_args(platform, self.keyfile, serial, spool, records, extra, tcp),
                           capture_output=True, timeout=timeout)
        text = (p.stdout + p.stderr).decode("utf-8", "replace")
        return p.returncode, text

    def start_terminal(self, platform, serial, records, extra=(), tcp=False, spool=None):
        spool = spool or os.path.join(self.tmp, "spool-" + serial)
        out = open(os.path.join(self.tmp, "terminal-%s-%d.out" % (serial, len(self.procs))), "w+b")
        p = subprocess.Popen(terminal_args(platform, self.keyfile, serial, spool, records, extra, tcp),
                             stdout=out, stderr=subprocess.STDOUT)
        p.outfile = out
        self.procs.append(p)
        return p

    def proc_text(self, p):
        p.outfile.seek(0)
        return p.outfile.read().decode("utf-8", "replace")

    def rows(self, db, serial=None):
        con = sqlite3.connect(db)
        try:
            q = "SELECT terminal, record_id FROM records"
            rows = con.execute(q + (" WHERE terminal = ?" if serial else "") + " ORDER BY record_id",
                               (serial,) if serial else ()).fetchall()
        finally:
            con.close()
        return [r for _, r in rows]

    def wait_rows(self, db, serial, n, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if len(self.rows(db, serial)) >= n:
                    return
            except sqlite3.Error:
                pass
            time.sleep(0.1)
        self.fail("fewer than %d records of %s in the database after %d s" % (n, serial, timeout))

    def assertExactlyOnce(self, db, serial, ids):
        got = self.rows(db, serial)
        self.assertEqual(len(got), len(set(got)), "%s: duplicated record IDs" % serial)
        self.assertEqual(sorted(got), sorted(ids), "%s: record IDs in the database" % serial)
        return got

    def figures(self, db, serial, expected, *texts):
        """Records generated/sent (from the terminals' exit lines), stored, duplicated and lost (the database)."""
        got = self.rows(db, serial)
        runs = [terminal_figures(t) for t in texts]
        runs = [r for r in runs if r]

        def add(key):
            return sum(r[key] for r in runs) if runs else None
        return {"records_generated": add("generated") if runs else len(expected), "records_sent": add("sent"),
                "records_stored": len(set(got)), "records_duplicated": len(got) - len(set(got)),
                "records_lost": len(set(expected) - set(got)), "retransmissions": add("retransmissions"),
                "logins": add("logins")}


# ---------------------------------------------------------------------------------------------- hostile

class Hostile(Base):
    def test_flood(self):
        """Mutated/random datagrams and TCP streams, slowloris and idle connections, while a UDP and a TCP
        terminal each store every record once; the platform's memory stays bounded."""
        n = records_n(10)
        duration = 20 * SCALE
        # idle TCP connections are closed after 3 x 2 + 30 s; no rate limit: the flood must reach the parser
        p = self.platform(["--heartbeat", "2", "--rate-limit", "0"])
        # warm-up: one real session, then the baseline memory
        rc, text = self.terminal(p, self.keys[1].serial, 2)
        self.assertEqual(rc, 0, text)
        rss_before = rss_kb(p.proc.pid)
        hostile_json = os.path.join(self.tmp, "hostile.json")
        hostile = subprocess.Popen([sys.executable, HOSTILE, "--port", str(p.udp_port), "--tcp-port",
                                    str(p.tcp_port), "--source", "127.0.0.2", "--duration", str(duration),
                                    "--rate", "3000", "--slowloris", "10", "--idle", "5", "--hold-max", "50",
                                    "--keys", self.keyfile, "--json", hostile_json, "--seed", str(1 + SEED)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(hostile)
        time.sleep(1)
        spool = os.path.join(self.tmp, "spool-flood")  # one spool: the TCP run's record IDs follow the UDP run's
        rc_udp, text_udp = self.terminal(p, self.keys[0].serial, n, spool=spool)
        rc_tcp, text_tcp = self.terminal(p, self.keys[0].serial, n, tcp=True, spool=spool)
        self.assertIsNone(hostile.poll(), "the flood ended before the terminals: make it longer")
        _, err = hostile.communicate(timeout=duration + 120)
        self.assertEqual(hostile.returncode, 0, err.decode())
        rss_after, rss_peak = rss_kb(p.proc.pid), rss_kb(p.proc.pid, "VmHWM")
        self.assertIsNone(p.proc.poll(), "the platform died:\n" + p.stderr()[-3000:])
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc_udp, 0, text_udp)
        self.assertEqual(rc_tcp, 0, text_tcp)
        # the UDP terminal stored 1..n, then the TCP one (same serial, same spool IDs continue) n+1..2n
        self.assertExactlyOnce(p.db, self.keys[0].serial, range(1, 2 * n + 1))
        with open(hostile_json) as f:
            h = json.load(f)
        self.assertGreater(h["udp_sent"], 1000 * duration)
        for kind in ("slowloris", "idle"):
            closed = [c["closed_after_s"] for c in h[kind]]
            self.assertEqual(len(closed), {"slowloris": 10, "idle": 5}[kind])
            self.assertTrue(all(c is not None and c <= 45 for c in closed), "%s: closed after %r s" % (kind, closed))
        growth = rss_after - rss_before
        # AddressSanitizer keeps freed memory in quarantine (256 MB by default) and adds shadow memory: the
        # bound is for the normal build, the sanitizer build checks for leaks instead
        bound = 16 * 1024 if not sanitized(CONFIG.platform) else 320 * 1024
        self.assertLess(growth, bound, "RSS grew by %d kB during the flood" % growth)
        s = p.stats()
        report("Hostile.test_flood", udp_datagrams=h["udp_sent"], udp_bytes=h["udp_bytes"],
               udp_sources=h["udp_sources"], tcp_connections=h["tcp_connections"], tcp_messages=h["tcp_messages"],
               tcp_bytes=h["tcp_bytes"], slowloris_closed_after_s=max(h["slowloris"][i]["closed_after_s"]
                                                                      for i in range(len(h["slowloris"]))),
               idle_closed_after_s=max(c["closed_after_s"] for c in h["idle"]), duration_s=h["duration_s"],
               rss_before_kb=rss_before, rss_after_kb=rss_after, rss_peak_kb=rss_peak,
               rejected_malformed=s.get("malformed"), rejected_unknown=s.get("unknown terminal"),
               rejected_bad_digest=s.get("bad digest"), rejected_not_logged_in=s.get("not logged in"),
               tcp_closed_protocol_errors=s.get("closed on protocol errors"),
               **self.figures(p.db, self.keys[0].serial, range(1, 2 * n + 1), text_udp, text_tcp))

    def test_udp_sources_bounded(self):
        """A flood from ever new source ports: the platform remembers at most --max-udp-peers addresses,
        forgets the least recently heard, and a real terminal is not disturbed."""
        n = records_n(10)
        p = self.platform(["--max-udp-peers", "32", "--rate-limit", "0"])  # the limit would drop most sources first
        hostile = subprocess.Popen([sys.executable, HOSTILE, "--port", str(p.udp_port), "--duration",
                                    str(10 * SCALE), "--rate", "2000", "--sockets", "4", "--rotate", "5",
                                    "--keys", self.keyfile], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(hostile)
        time.sleep(0.5)
        rc, text = self.terminal(p, self.keys[0].serial, n)
        out, err = hostile.communicate(timeout=120)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc, 0, text)
        self.assertExactlyOnce(p.db, self.keys[0].serial, range(1, n + 1))
        h = json.loads(out.decode().strip().splitlines()[-1])
        forgotten = p.stats().get("UDP addresses forgotten", 0)
        self.assertGreater(h["udp_sources"], 100)
        # every source port beyond the 32 remembered was forgotten again (a few may never have arrived)
        self.assertGreaterEqual(forgotten, 0.9 * (h["udp_sources"] - 32))
        report("Hostile.test_udp_sources_bounded", udp_datagrams=h["udp_sent"], udp_sources=h["udp_sources"],
               udp_addresses_forgotten=forgotten, **self.figures(p.db, self.keys[0].serial, range(1, n + 1), text))


class RateLimit(Base):
    def test_one_source_flood(self):
        """--rate-limit 100:200 per source address: 127.0.0.2 floods at 5000 datagrams/s and gets at most
        its share; the terminal at 127.0.0.1 stores every record once."""
        n = records_n(10)
        duration = 10 * SCALE
        p = self.platform(["--rate-limit", "100:200"])
        hostile = subprocess.Popen([sys.executable, HOSTILE, "--port", str(p.udp_port), "--source", "127.0.0.2",
                                    "--duration", str(duration), "--rate", "5000", "--rotate", "0",
                                    "--keys", self.keyfile], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(hostile)
        time.sleep(0.5)
        start = time.time()
        rc, text = self.terminal(p, self.keys[0].serial, n)
        terminal_s = time.time() - start
        out, err = hostile.communicate(timeout=120)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc, 0, text)
        self.assertExactlyOnce(p.db, self.keys[0].serial, range(1, n + 1))
        h = json.loads(out.decode().strip().splitlines()[-1])
        s = p.stats()
        limited = s.get("rate-limited", 0)
        passed = h["udp_sent"] - limited
        self.assertGreater(limited, h["udp_sent"] // 2, s)
        self.assertLessEqual(passed, 100 * (h["duration_s"] + 2) + 200, "more than the flood's share passed")
        warnings = [l for l in p.stderr().splitlines() if "rate limit: 127.0.0.2" in l and "dropping" in l]
        self.assertEqual(len(warnings), 1, p.stderr()[-2000:])
        self.assertNotIn("rate limit: 127.0.0.1", p.stderr())
        report("RateLimit.test_one_source_flood", flood_datagrams=h["udp_sent"], rate_limited=limited,
               flood_passed=passed, flood_duration_s=h["duration_s"], terminal_session_s=round(terminal_s, 1),
               **self.figures(p.db, self.keys[0].serial, range(1, n + 1), text))

    def test_tcp_connection_flood(self):
        """New TCP connections count against the source's bucket too: a connection flood from 127.0.0.2 is
        cut down, a TCP terminal at 127.0.0.1 stores every record."""
        n = records_n(5)
        p = self.platform(["--rate-limit", "20:40"])
        opened = refused = 0
        socks = []
        start = time.time()
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.2", 0))
            try:
                s.connect(("127.0.0.1", p.tcp_port))
                opened += 1
                socks.append(s)
            except OSError:
                refused += 1
                s.close()
        time.sleep(0.5)
        elapsed = time.time() - start  # the bucket refills 20 a second meanwhile
        closed = 0
        for s in socks:
            s.settimeout(0.05)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except socket.timeout:
                pass
            except OSError:
                closed += 1
            s.close()
        rc, text = self.terminal(p, self.keys[0].serial, n, tcp=True)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc, 0, text)
        self.assertExactlyOnce(p.db, self.keys[0].serial, range(1, n + 1))
        admitted = 40 + 20 * (elapsed + 0.5)
        self.assertGreaterEqual(closed, 200 - admitted, "connections over the source's share: closed at once")
        report("RateLimit.test_tcp_connection_flood", connections=200, closed_at_once=closed,
               seconds=round(elapsed, 1),
               **self.figures(p.db, self.keys[0].serial, range(1, n + 1), text))


# --------------------------------------------------------------------------------------------- security

class Security(Base):
    def session(self, p):
        t = w.Terminal(("127.0.0.1", p.udp_port), self.keys[0])
        self.assertEqual(t.login(), 0)
        self.addCleanup(t.close)
        return t

    def test_bad_digest_never_stored(self):
        p = self.platform()
        t = self.session(p)
        wrong = w.Keys(self.keys[0].line)
        wrong.uplink = b"00000000"
        record = w.transparent_body(w.health_record(41))
        self.assertEqual(t.result(w.TRANSPARENT_DATA, record, keys=wrong), 3)
        # the right bytes with a broken digest, and with the digest of another session's timestamp
        raw = w.message(w.TRANSPARENT_DATA, t.seq, record, t.serial, self.keys[0], t.ts)
        t.seq += 1
        _, body = t.send_raw(raw[:-1] + bytes([raw[-1] ^ 1]))
        self.assertEqual(body[0], 3)
        self.assertEqual(t.result(w.TRANSPARENT_DATA, record, ts=t.ts - 1), 3)
        self.assertEqual(self.rows(p.db), [])
        self.assertEqual(t.result(w.TRANSPARENT_DATA, record), 0)  # the same record, signed: stored
        self.assertEqual(self.rows(p.db), [41])
        t.logout()
        self.assertEqual(p.stop(), 0)
        self.assertEqual(p.stats().get("bad digest"), 3)
        report("Security.test_bad_digest_never_stored", bad_digests_sent=3, bad_digests_stored=0)

    def test_replay_after_session_end(self):
        """Messages recorded in a session and replayed from another address after it ended: not logged in
        (9); in a later session: bad digest (3, the digest is of the old timestamp), and bytes the platform
        already refused get nothing (its duplicate cache answers only the session's address, and only requests
        that passed the security class). Nothing is stored twice."""
        p = self.platform()
        t = self.session(p)
        for rid in (7, 8):
            self.assertEqual(t.result(w.TRANSPARENT_DATA, w.transparent_body(w.health_record(rid))), 0)
        t.request(w.HEART_BEAT, b"")
        recorded = list(t.sent[1:])  # two records and a heartbeat, as an eavesdropper saw them
        self.assertTrue(t.logout())
        replayer = w.Terminal(("127.0.0.1", p.udp_port), self.keys[0])  # another address
        self.addCleanup(replayer.close)

        def replay(raw):
            h, body = replayer.send_raw(raw)
            return body[0] if body else None

        after = [replay(recorded[0]), replay(recorded[2])]
        self.assertEqual(after[0], 9, "a replayed TRANSPARENT_DATA after the session: not logged in")
        t2 = w.Terminal(("127.0.0.1", p.udp_port), self.keys[0])
        self.addCleanup(t2.close)
        time.sleep(1.1)  # a later LOGIN_ACK timestamp
        self.assertEqual(t2.login(), 0)
        later = [replay(recorded[1]), replay(recorded[0])]
        self.assertEqual(later[0], 3, "a replay in a later session: bad digest")
        self.assertIsNone(later[1], "a copy of a refused replay is not answered from the duplicate cache")
        self.assertTrue(t2.logout())
        self.assertEqual(self.rows(p.db), [7, 8])
        self.assertEqual(p.stop(), 0)
        s = p.stats()
        self.assertEqual(s.get("duplicates"), 0)
        report("Security.test_replay_after_session_end", replays=4, replays_stored=0,
               results_after_session=after, results_in_later_session=later)

    def test_unknown_terminal(self):
        p = self.platform()
        stranger = w.Keys('"ZZZ0000000000001","869999999999999","460009999999999","12345678","87654321",'
                          '"0123456789abcdeffedcba98765432100011223344556677"')
        t = w.Terminal(("127.0.0.1", p.udp_port), stranger)
        self.addCleanup(t.close)
        self.assertEqual(t.login(), 2)
        self.assertEqual(t.result(w.TRANSPARENT_DATA, w.transparent_body(w.health_record(1))), 2)
        reg = bytes([0]) + stranger.imei.encode().ljust(16, b"\0") + stranger.imsi.encode()
        h, body = t.request(w.REGISTER, reg, keys=False)
        self.assertEqual(body[0], 2)
        self.assertEqual(self.rows(p.db), [])
        self.assertEqual(p.stop(), 0)
        report("Security.test_unknown_terminal", login_result=2, data_result=2, register_result=2, stored=0)

    def test_register_cannot_redirect_session(self):
        """REGISTER carries no digest and IMEI/IMSI are printed on the device: one sent from another address
        during a session is answered (registration by IMEI), but the session's traffic stays with the
        terminal (here: the platform's LOGOUT at shutdown reaches it, not the other address)."""
        p = self.platform(["--shutdown-timeout", "2"])
        t = self.session(p)
        k = self.keys[0]
        other = w.Terminal(("127.0.0.1", p.udp_port), k, serial=b"\0" * 16)
        self.addCleanup(other.close)
        reg = bytes([0]) + k.imei.encode().ljust(16, b"\0") + k.imsi.encode()
        h, body = other.request(w.REGISTER, reg, keys=False)
        self.assertEqual(body[:1], b"\0")
        p.proc.send_signal(signal.SIGTERM)
        got = {}
        for name, x in (("terminal", t), ("other", other)):
            x.sock.settimeout(3 if name == "terminal" else 0.5)
            try:
                data, _ = x.sock.recvfrom(65535)
                got[name] = w.parse_header(data)["cmd"]
            except socket.timeout:
                got[name] = None
        self.assertEqual(got, {"terminal": w.LOGOUT, "other": None})
        self.assertEqual(p.stop(), 0)
        report("Security.test_register_cannot_redirect_session", logout_to_terminal=1, logout_to_other=0)

    def test_login_replay_during_session(self):
        """The profile signs LOGIN with timestamp 0 (section 7), so a LOGIN recorded once would verify forever;
        its System time (0x3009, under the digest) makes a copy stale. A LOGIN recorded in an earlier session
        and replayed from another address in the middle of a real terminal's session is refused (3): the
        terminal's session goes on (one login), and every record is stored once."""
        n = records_n(20)
        k = self.keys[0]
        p = self.platform()
        eavesdropped = w.Terminal(("127.0.0.1", p.udp_port), k)  # an earlier session, recorded
        self.addCleanup(eavesdropped.close)
        self.assertEqual(eavesdropped.login(), 0)
        self.assertTrue(eavesdropped.logout())
        old_login = eavesdropped.sent[0]
        time.sleep(1.1)  # the terminal's own LOGIN is newer
        term = self.start_terminal(p, k.serial, n, ["--record-interval-ms", "100", "--retries", "3",
                                                    "--backoff-ms", "200", "--login-attempts", "100"])
        self.wait_rows(p.db, k.serial, 3)
        replayer = w.Terminal(("127.0.0.1", p.udp_port), k)
        self.addCleanup(replayer.close)
        h, body = replayer.send_raw(old_login)
        result = body[0] if body else None
        rc = term.wait(timeout=120)
        text = self.proc_text(term)
        self.assertEqual(p.stop(), 0)
        self.assertNotEqual(result, 0, "the replayed LOGIN started a session")
        self.assertEqual(rc, 0, text[-3000:])
        self.assertEqual(terminal_figures(text).get("logins"), 1, "the replay broke the terminal's session")
        self.assertEqual(p.stats().get("stale logins"), 1)
        self.assertExactlyOnce(p.db, k.serial, range(1, n + 1))
        report("Security.test_login_replay_during_session", login_replay_result=result,
               **self.figures(p.db, k.serial, range(1, n + 1), text))

    def test_logs_hold_no_secrets(self):
        """Every security level, both programs with --verbose (every message logged), and every wmmp-emulate
        scenario (SECURITY_CONFIG carries the passwords): neither the passwords nor the base key (in any
        spelling) appear in a log, in stdout, or in the database."""
        k = self.keys[0]
        secrets = [k.uplink, k.downlink, k.uplink.hex().encode(), k.downlink.hex().encode(),
                   k.base_key.hex().encode(), k.base_key.hex().upper().encode(), k.base_key[:8].hex().encode(),
                   k.base_key[8:16].hex().encode(), k.base_key]
        texts = []
        for level in ("plain", "digest", "encrypted", "full"):
            p = self.platform(["--verbose", "--security", "full" if level != "plain" else "plain"], name=level)
            rc, text = self.terminal(p, k.serial, 3, ["--verbose", "--security", level], spool=os.path.join(
                self.tmp, "spool-" + level))
            self.assertEqual(p.stop(), 0)
            self.assertEqual(rc, 0, text[-2000:])
            texts += [text.encode(), p.stderr().encode(), p.stdout().encode()]
            with open(p.db, "rb") as f:
                texts.append(f.read())
        # wmmp-emulate: every scenario (the security one sends the passwords in SECURITY_CONFIG) at every level
        if CONFIG.emulate:
            listed = subprocess.run([CONFIG.emulate, "--list"], capture_output=True).stdout.decode()
            for scenario in re.search(r"scenarios: (.*)", listed).group(1).split(", "):
                for level in ("digest", "encrypted", "full"):
                    e = subprocess.run([CONFIG.emulate, "--scenario", scenario, "--security", level, "--verbose"],
                                       capture_output=True, timeout=120)
                    texts.append(e.stdout + e.stderr)
        lines = sum(t.count(b"\n") for t in texts)
        for t in texts:
            # the IMSI 460001234567890 holds the digits of the default password 12345678: it is no secret
            t = t.replace(k.imsi.encode(), b"<imsi>").replace(k.imei.encode(), b"<imei>")
            for s in secrets:
                self.assertNotIn(s, t)
        report("Security.test_logs_hold_no_secrets", log_lines=lines, secrets_checked=len(secrets), found=0)

    def test_keys_file_permissions(self):
        p = self.platform()
        loose = os.path.join(self.tmp, "loose-keys.txt")
        shutil.copy(self.keyfile, loose)
        for mode, who in ((0o600, None), (0o640, "group"), (0o604, "others"), (0o644, "group and others")):
            os.chmod(loose, mode)
            q = Platform(self.tmp, loose, name="perm%o" % mode)
            self.platforms.append(q)
            self.assertEqual(q.stop(), 0)
            t = subprocess.run([CONFIG.terminal, "--platform", p.address(), "--keys", loose, "--records", "0",
                                "--spool", os.path.join(self.tmp, "s%o" % mode)] + FAST_TERMINAL,
                               capture_output=True, timeout=60)
            for prog, text in (("wmmp-platform", q.stderr()), ("wmmp-terminal", t.stderr.decode())):
                warnings = [l for l in text.splitlines() if "warning: keys file" in l]
                if who is None:
                    self.assertEqual(warnings, [], "%s, mode %o" % (prog, mode))
                else:
                    self.assertEqual(len(warnings), 1, "%s, mode %o:\n%s" % (prog, mode, text))
                    self.assertIn("open to %s (mode 0%o)" % (who, mode), warnings[0])
                    self.assertIn("chmod 600", warnings[0])
        self.assertEqual(p.stop(), 0)


# ---------------------------------------------------------------------------------------------- attacks

def spoofer(addr="127.0.0.2", timeout=0.3):
    """A UDP socket at another loopback address: the victim whose address an off-path attacker forges."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.settimeout(timeout)
    return s


def drain(sock):
    """Bytes of every datagram that arrives until the socket stays quiet for its timeout."""
    n = 0
    while True:
        try:
            n += len(sock.recvfrom(65535)[0])
        except socket.timeout:
            return n


class Attack(Base):
    """Attacks on the emulator (docs/SECURITY.md, section Emulator): reflection and amplification, stale
    LOGINs, predictable session keys, a security downgrade, one address taking every TCP slot, the rate
    limit by default."""

    def session(self, p, **kw):
        t = w.Terminal(("127.0.0.1", p.udp_port), self.keys[0], **kw)
        self.addCleanup(t.close)
        self.assertEqual(t.login(), 0)
        return t

    def test_spoofed_replay_no_amplification(self):
        """An eavesdropper replays a session's requests with the source address of a victim, and sends
        unauthenticated requests of its own (unsigned, truncated, REGISTER, an unknown serial) from there: the
        victim gets no more bytes than were sent (per kind and in all), and the session stays bound to the
        terminal (the shutdown LOGOUT reaches it, not the victim)."""
        fw = os.path.join(self.tmp, "fw.bin")
        with open(fw, "wb") as f:
            f.write(bytes(range(256)) * 16)
        p = self.platform(["--rate-limit", "0", "--firmware", fw, "--security", "digest", "--shutdown-timeout", "2"])
        t = self.session(p)
        k = self.keys[0]
        recorded = {"LOGIN": t.sent[0]}
        t.request(w.HEART_BEAT, w.tlv(w.TAG_SIGNAL, b"\x15"))
        recorded["HEART_BEAT"] = t.sent[-1]
        t.request(w.TRANSPARENT_DATA, w.transparent_body(w.health_record(5)))
        recorded["TRANSPARENT_DATA"] = t.sent[-1]
        tags = b"".join(w.tlv(tag, b"") for tag in (0x0011, 0x4004, 0x0107, 0x0108, 0x3009))
        h, _ = t.request(w.CONFIG_REQ, tags)
        self.assertIsNotNone(h)
        recorded["CONFIG_REQ"] = t.sent[-1]
        h, _ = t.request(w.FILE_REQ, struct.pack(">IBIH", 1, 0, 0, 1024))
        self.assertIsNotNone(h)
        recorded["FILE_REQ"] = t.sent[-1]
        unsigned = w.message(w.TRANSPARENT_DATA, 900, w.transparent_body(b"x"), k.serial)
        forged = {"unsigned TRANSPARENT_DATA": unsigned,
                  "header only": b"".join(w.header(28, c, 901 + i, 0, k.serial) for i, c in enumerate(w.COMMANDS)
                                          if c != w.REGISTER),
                  "REGISTER truncated": w.header(28, w.REGISTER, 950, 0, b"\0" * 16),
                  "REGISTER": w.message(w.REGISTER, 951, bytes([0]) + k.imei.encode().ljust(16, b"\0") +
                                        k.imsi.encode(), b"\0" * 16),
                  "unknown serial": w.message(w.TRANSPARENT_DATA, 952, w.transparent_body(b"x"), "ZZZ0000000000001")}
        victim = spoofer()
        self.addCleanup(victim.close)
        figures, sent_all, got_all = {}, 0, 0
        for name, raw in list(recorded.items()) + list(forged.items()):
            msgs = [raw] if name != "header only" else [raw[i:i + 28] for i in range(0, len(raw), 28)]
            sent = got = 0
            for _ in range(3):
                for m in msgs:
                    victim.sendto(m, ("127.0.0.1", p.udp_port))
                    sent += len(m)
                got += drain(victim)
            figures[name] = round(got / sent, 2)
            sent_all += sent
            got_all += got
        factor = got_all / sent_all
        print("amplification per kind (bytes to the victim / bytes sent): %s; all: %.2f (%d / %d bytes)"
              % (figures, factor, got_all, sent_all), file=sys.stderr)
        p.proc.send_signal(signal.SIGTERM)
        t.sock.settimeout(3)
        to_terminal = None
        try:
            while to_terminal != w.LOGOUT:
                data, _ = t.sock.recvfrom(65535)
                to_terminal = w.parse_header(data)["cmd"]
        except socket.timeout:
            pass
        self.assertEqual(drain(victim), 0, "the victim got the session's LOGOUT: a replay moved the session")
        self.assertEqual(to_terminal, w.LOGOUT, "the terminal did not get the shutdown LOGOUT")
        self.assertEqual(p.stop(), 0)
        self.assertEqual({n: f for n, f in figures.items() if f > 1}, {}, "answers larger than the requests")
        self.assertLessEqual(factor, 1.0)
        report("Attack.test_spoofed_replay_no_amplification", amplification=factor, per_kind=figures)

    def test_stale_login_refused(self):
        """A LOGIN recorded in an earlier session and replayed later (from another address) is refused, as are
        LOGINs without System time or with one outside the window; a fresh LOGIN still works."""
        p = self.platform(["--security", "digest"])
        t = self.session(p)
        old_login = t.sent[0]
        self.assertTrue(t.logout())
        replayer = w.Terminal(("127.0.0.1", p.udp_port), self.keys[0], sock=spoofer(timeout=1.0))
        self.addCleanup(replayer.close)
        h, body = replayer.send_raw(old_login)
        replayed = body[0] if body else None
        stale = replayer.login(at=int(time.time()) - 3600)
        sync = w.tlv(w.TAG_SIGNAL, b"\x15")
        h, body = replayer.request(w.LOGIN, b"HT-1.0\0\0" + struct.pack(">I", w.crc32(sync)) + sync)
        timeless = body[0] if body else None
        fresh = replayer.login()
        self.assertEqual(p.stop(), 0)
        self.assertNotEqual(replayed, 0, "a replayed LOGIN started a session")
        self.assertNotEqual(stale, 0, "a LOGIN an hour old started a session")
        self.assertNotEqual(timeless, 0, "a signed LOGIN without System time started a session")
        self.assertEqual(fresh, 0)
        report("Attack.test_stale_login_refused", replayed=replayed, stale=stale, timeless=timeless, fresh=fresh)

    def test_session_keys_unpredictable(self):
        """Two platforms started with the same --seed hand out different session keys: the first 16 bytes of the
        LOGIN_ACK's 0xE040 (3DES-ECB under the base key) cover only the 0xE03B TLV's header and key."""
        blocks = []
        for run in range(2):
            p = self.platform(["--security", "encrypted", "--seed", "7"], name="keys%d" % run)
            t = w.Terminal(("127.0.0.1", p.udp_port), self.keys[0])
            self.addCleanup(t.close)
            self.assertEqual(t.login(flag=0xE0), 0)
            raw = t.login_ack
            i = 5
            e040 = None
            while i + 4 <= len(raw):
                tag, n = struct.unpack(">HH", raw[i:i + 4])
                if tag == 0xE040:
                    e040 = raw[i + 4:i + 4 + n]
                i += 4 + n
            self.assertIsNotNone(e040, "no 0xE040 in the LOGIN_ACK")
            blocks.append(e040[:16])
            t.logout()
            self.assertEqual(p.stop(), 0)
        self.assertNotEqual(blocks[0], blocks[1], "the same --seed gave the same session key")

    def test_downgrade_refused(self):
        """A terminal at digest security talking to a (fake) platform that answers everything unsigned: it never
        logs in, and says why on stderr without --verbose."""
        fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fake.bind(("127.0.0.1", 0))
        fake.settimeout(0.2)
        self.addCleanup(fake.close)
        spool = os.path.join(self.tmp, "spool-downgrade")
        args = [CONFIG.terminal, "--platform", "127.0.0.1:%d" % fake.getsockname()[1], "--keys", self.keyfile,
                "--spool", spool, "--records", "1", "--security", "digest", "--response-timeout-ms", "200",
                "--retries", "1", "--login-attempts", "2", "--backoff-ms", "100", "--record-interval-ms", "50"]
        term = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        answered = 0
        deadline = time.time() + 20
        while term.poll() is None and time.time() < deadline:
            try:
                data, addr = fake.recvfrom(65535)
            except socket.timeout:
                continue
            h = w.parse_header(data)
            if not h:
                continue
            cmd = h["cmd"]
            body = {w.LOGIN: b"\0" + struct.pack(">I", int(time.time())), w.HEART_BEAT: b"", w.LOGOUT: b""}.get(cmd, b"\0")
            fake.sendto(w.message(cmd | w.ACK, h["seq"], body, h["serial"], flag=0), addr)
            answered += 1
        if term.poll() is None:
            term.kill()
        out, err = term.communicate()
        err = err.decode("utf-8", "replace")
        self.assertNotIn("logged in (result", err, "the terminal accepted an unsigned LOGIN_ACK")
        self.assertNotEqual(term.returncode, 0, err[-2000:])
        self.assertRegex(err, r"error: .*LOGIN_ACK.*(unsigned|without a digest)", err[-2000:])
        report("Attack.test_downgrade_refused", exit_code=term.returncode, unsigned_acks=answered)

    def test_tcp_connections_per_address(self):
        """One address opening 200 TCP connections keeps at most the per-address cap (default 32); a terminal at
        another address still gets a slot and finishes."""
        p = self.platform(["--rate-limit", "0"])
        socks = []
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.2", 0))
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", p.tcp_port))
            except OSError:
                s.close()
                continue
            socks.append(s)
        time.sleep(1.0)
        open_ = 0
        for s in socks:
            s.setblocking(False)
            try:
                open_ += s.recv(1) != b""  # b"": closed by the platform
            except BlockingIOError:
                open_ += 1  # nothing to read: still open
            except OSError:
                pass
        rc, text = self.terminal(p, self.keys[0].serial, 2, tcp=True, timeout=60)
        for s in socks:
            s.close()
        self.assertEqual(rc, 0, text[-2000:])
        self.assertEqual(p.stop(), 0)
        self.assertLessEqual(open_, 32, "one address kept %d TCP connections" % open_)
        report("Attack.test_tcp_connections_per_address", attempted=200, kept=open_)

    def test_rate_limit_by_default(self):
        """Without --rate-limit, one source sending 3,000 datagrams at once is limited (docs/EMULATOR.md)."""
        p = self.platform()
        s = spoofer()
        self.addCleanup(s.close)
        junk = w.header(28, w.HEART_BEAT, 1, 0, "ZZZ0000000000001")
        for _ in range(3000):
            s.sendto(junk, ("127.0.0.1", p.udp_port))
        time.sleep(0.5)
        self.assertEqual(p.stop(), 0)
        limited = p.stats().get("rate-limited", 0)
        self.assertGreater(limited, 0, "no datagram was rate-limited: " + p.stdout()[-500:])
        report("Attack.test_rate_limit_by_default", sent=3000, rate_limited=limited)


# ----------------------------------------------------------------------------------------------- faults

class Faults(Base):
    def lossy(self, loss, seed, tcp=False, extra_both=(), n=None):
        n = n or records_n(10)
        both = list(extra_both) + (["--loss", str(loss)] if loss else [])
        seed += SEED
        p = self.platform(both + ["--seed", str(seed)])
        extra = both + ["--seed", str(seed + 1), "--retries", "15", "--login-attempts", "1000", "--backoff-ms", "200"]
        rc, text = self.terminal(p, self.keys[0].serial, n, extra, tcp=tcp, timeout=600)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc, 0, text[-3000:])
        self.assertExactlyOnce(p.db, self.keys[0].serial, range(1, n + 1))
        name = self.id().split(".", 1)[1]
        report(name, loss=loss, tcp=tcp, faults=" ".join(both), platform_duplicates=p.stats().get("duplicates"),
               **self.figures(p.db, self.keys[0].serial, range(1, n + 1), text))

    def test_loss_1(self):
        self.lossy(0.01, 101)

    def test_loss_10(self):
        self.lossy(0.10, 103)

    def test_loss_30(self):
        self.lossy(0.30, 105)

    def test_tcp_loss_10(self):
        self.lossy(0.10, 107, tcp=True)

    def test_tcp_loss_30(self):
        self.lossy(0.30, 109, tcp=True)

    def test_duplicate_reorder(self):
        """Every message sent twice with probability 0.3 and delayed 0-60 ms (so datagrams overtake each
        other), on both programs."""
        self.lossy(0, 111, extra_both=["--duplicate", "0.3", "--delay", "30+-30"])

    def test_everything(self):
        """10 % loss, duplication and reordering together, full encryption."""
        self.lossy(0.10, 113, extra_both=["--duplicate", "0.2", "--delay", "20+-20", "--security", "full"])

    def restart_platform(self, tcp):
        n = records_n(30)
        serial = self.keys[0].serial
        p = self.platform()
        term = self.start_terminal(p, serial, n, ["--record-interval-ms", "100", "--retries", "3",
                                                  "--backoff-ms", "200", "--login-attempts", "1000"], tcp=tcp)
        self.wait_rows(p.db, serial, max(3, n // 4))
        stored_before = len(self.rows(p.db, serial))
        p.proc.send_signal(signal.SIGKILL)  # mid-session, no logout, nothing flushed on purpose
        p.proc.wait()
        time.sleep(1.5)  # the terminal's requests go unanswered
        p.start()  # same ports, same database
        rc = term.wait(timeout=300)
        text = self.proc_text(term)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc, 0, text[-3000:])
        figures = terminal_figures(text)
        self.assertGreaterEqual(figures.get("logins", 0), 2, "the terminal should have logged in again")
        self.assertExactlyOnce(p.db, serial, range(1, n + 1))
        report("Faults.test_platform_restart_" + ("tcp" if tcp else "udp"), stored_before_kill=stored_before,
               platform_duplicates=p.stats().get("duplicates"), **self.figures(p.db, serial, range(1, n + 1), text))

    def test_platform_restart_udp(self):
        self.restart_platform(False)

    def test_platform_restart_tcp(self):
        self.restart_platform(True)

    def test_terminal_restart(self):
        """kill -9 of the terminal mid-session while records wait in its spool (the platform paused for a
        second), restarted on the same spool: the records it had spooled are sent by the new run, none twice;
        an ID lost by the crash was never a record."""
        n1, n2 = records_n(30), records_n(5)
        serial = self.keys[0].serial
        spool = os.path.join(self.tmp, "spool")
        p = self.platform()
        term = self.start_terminal(p, serial, n1, ["--record-interval-ms", "100"], spool=spool)
        self.wait_rows(p.db, serial, max(3, n1 // 3))
        # the platform stops answering for a second, so records pile up in the spool (and one is in flight),
        # then the terminal dies
        p.proc.send_signal(signal.SIGSTOP)
        time.sleep(1.0)
        term.send_signal(signal.SIGKILL)
        term.wait()
        p.proc.send_signal(signal.SIGCONT)
        pending = sorted(int(f) for f in os.listdir(spool) if f.isdigit())
        self.assertGreaterEqual(len(pending), 3, "records should have been waiting in the spool")
        with open(os.path.join(spool, "state")) as f:
            next_id = int(re.search(r"next_record_id (\d+)", f.read()).group(1))
        stored_at_kill = set(self.rows(p.db, serial))
        rc, text = self.terminal(p, serial, n2, spool=spool)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(rc, 0, text[-3000:])
        got = self.rows(p.db, serial)
        self.assertEqual(len(got), len(set(got)), "duplicated record IDs")
        self.assertTrue(set(pending) <= set(got), "records spooled at the crash are missing: %r"
                        % sorted(set(pending) - set(got)))
        with open(os.path.join(spool, "state")) as f:
            final_next = int(re.search(r"next_record_id (\d+)", f.read()).group(1))
        missing = set(range(1, final_next)) - set(got)
        # at most the ID taken by the crash before its record was written (spool.h): never a spooled record
        self.assertLessEqual(len(missing), 1, sorted(missing))
        self.assertTrue(missing <= set(range(next_id - 1, next_id)), (missing, next_id))
        self.assertEqual([f for f in os.listdir(spool) if f.isdigit()], [], "records left in the spool")
        report("Faults.test_terminal_restart", records_generated=len(got), records_stored=len(set(got)),
               records_duplicated=len(got) - len(set(got)), records_lost=0, pending_at_kill=len(pending),
               stored_at_kill=len(stored_at_kill), ids_skipped_by_crash=len(missing))


if __name__ == "__main__":
    testlib.main(CONFIG, ("platform", "terminal", "keys", "source-dir"), ("emulate",))
