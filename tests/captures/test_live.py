#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real network path: wmmp-platform and wmmp-terminal on loopback (free UDP ports, so the plugin finds
WMMP by its heuristic) while `dumpcap -i lo` captures them; the live capture must decode, with the plugin,
to the same WMMP messages as an offline run of the same flow (wmmp-emulate --scenario session --records 3):
same commands in the same order, same message classes, same results, every digest Good. Not the same
bytes: timestamps, session keys, cells and measurements differ.

The flow is run twice, with --security digest and with --security full (fully encrypted: the plugin learns
the session key from the live LOGIN_ACK and decrypts the rest).

    test_live.py --platform P --terminal T --emulate E --keys KEYS --tshark TSHARK --plugin-dir DIR
                 --dumpcap DUMPCAP

Exit status 0 when both flows match, 1 when not, 77 (ctest: skipped) when dumpcap is missing or cannot
capture on lo here (no permission, no loopback capture support), with the reason on stderr.
"""

import argparse
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "captures"))
import captures  # noqa: E402  (captures/captures.py: tshark with the plugin, sandboxed)

SKIP = 77
RECORDS = 3
FIELDS = ["wmmp.command", "wmmp.class", "wmmp.result", "wmmp.digest.status"]
COMMANDS = {1: "LOGIN", 2: "LOGOUT", 3: "HEART_BEAT", 4: "TRANSPARENT_DATA", 5: "CONFIG_GET", 6: "CONFIG_SET",
            7: "CONFIG_TRAP", 8: "REGISTER", 0xA: "CONFIG_REQ", 0xB: "REMOTE_CTRL", 0xC: "DOWNLOAD_INFO",
            0xD: "FILE_REQ", 0xE: "SECURITY_CONFIG", 0xF: "TRANSPARENT_CMD"}


class Skip(Exception):
    pass


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Dumpcap:
    """dumpcap -i lo with a BPF filter for one UDP port, until stop()."""

    def __init__(self, dumpcap, tmp, port):
        self.path = os.path.join(tmp, "live.pcapng")
        self.log = os.path.join(tmp, "dumpcap.log")
        cmd = [dumpcap, "-i", "lo", "-f", "udp port %d" % port, "-w", self.path]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        # dumpcap says "Capturing on 'Loopback: lo'" before it opens the device (and may fail then): it is
        # capturing once it has also created the file and is still running a moment later
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Skip("dumpcap cannot capture on lo (exit %d): %s" % (self.proc.returncode,
                                                                          read(self.log).strip()))
            if "Capturing on" in read(self.log) and os.path.exists(self.path):
                time.sleep(0.2)
                if self.proc.poll() is None:
                    return
                continue
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        raise Skip("dumpcap did not start capturing on lo within 15 s: " + read(self.log).strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not os.path.exists(self.path):
            raise AssertionError("dumpcap wrote no capture:\n" + read(self.log))
        return self.path


def live_run(a, tmp, security):
    """Platform and terminal over loopback UDP, captured by dumpcap; returns the capture and the records."""
    udp, tcp = free_udp_port(), free_tcp_port()
    cap = Dumpcap(a.dumpcap, tmp, udp)
    platform = None
    try:
        db = os.path.join(tmp, "platform.db")
        plog = os.path.join(tmp, "platform.log")
        with open(plog, "wb") as log:
            platform = subprocess.Popen([a.platform, "--listen", "127.0.0.1", "--udp-port", str(udp), "--tcp-port",
                                         str(tcp), "--keys", a.keys, "--db", db, "--security", security,
                                         "--heartbeat", "60"], stdout=subprocess.DEVNULL, stderr=log)
        wait_for(lambda: "listening on" in read(plog) or platform.poll() is not None, 15, "wmmp-platform")
        if platform.poll() is not None:
            raise AssertionError("wmmp-platform exited:\n" + read(plog))
        # the offline session scenario's flow: no periodic heartbeat falls inside the run (60 s), 1 s ECGs
        t = subprocess.run([a.terminal, "--platform", "127.0.0.1:%d" % udp, "--keys", a.keys, "--spool",
                            os.path.join(tmp, "spool"), "--records", str(RECORDS), "--security", security,
                            "--record-interval-ms", "200", "--heartbeat-ms", "60000", "--ecg-seconds", "1",
                            "--seed", "1"], capture_output=True, text=True, timeout=60)
        if t.returncode != 0:
            raise AssertionError("wmmp-terminal exited with %d:\n%s%s" % (t.returncode, t.stdout, t.stderr))
        platform.send_signal(signal.SIGTERM)
        if platform.wait(30) != 0:
            raise AssertionError("wmmp-platform exited with %d:\n%s" % (platform.returncode, read(plog)))
        con = sqlite3.connect(db)
        try:
            stored = con.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            con.close()
        time.sleep(0.3)  # the last datagrams reach the capture
    finally:
        if platform and platform.poll() is None:
            platform.kill()
            platform.wait()
        path = cap.stop()
    return path, stored, udp


def offline_run(a, tmp, security):
    path = os.path.join(tmp, "offline.pcap")
    p = subprocess.run([a.emulate, "--scenario", "session", "--records", str(RECORDS), "--seed", "1",
                        "--security", security, "--keys", a.keys, "--pcap", path], capture_output=True, text=True)
    if p.returncode != 0 or "check: ok" not in p.stdout:
        raise AssertionError("wmmp-emulate failed:\n" + p.stdout + p.stderr)
    return path


def messages(ts, pcap):
    """One (command, class, result, digest status) per WMMP message, in capture order."""
    out = ts.run(pcap, ["-2", "-Y", "wmmp", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"] +
                 sum((["-e", f] for f in FIELDS), []))
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        per_field = [c.split(",") if c else [] for c in cols]
        for i in range(len(per_field[0])):  # a datagram may carry several messages
            rows.append(tuple(per_field[k][i] if i < len(per_field[k]) else "" for k in range(len(FIELDS))))
    return rows


def name(cmd):
    v = int(cmd, 0)
    n = COMMANDS.get(v & 0x7FFF, "0x%04x" % v)
    return n + "_ACK" if v & 0x8000 else n


def show(rows):
    return "\n".join("  %-22s class %s result %-2s digest %s" % (name(r[0]), r[1], r[2] or "-", r[3] or "-")
                     for r in rows)


def check_flow(a, ts, security):
    tmp = tempfile.mkdtemp(prefix="wmmp-live-")
    os.chmod(tmp, 0o755)
    try:
        live, stored, port = live_run(a, tmp, security)
        offline = offline_run(a, tmp, security)
        got, want = messages(ts, live), messages(ts, offline)
        problems = []
        if stored != RECORDS:
            problems.append("the platform stored %d of %d records" % (stored, RECORDS))
        if [r[:3] for r in got] != [r[:3] for r in want]:
            problems.append("the live capture (UDP port %d) decodes to\n%s\nthe offline run to\n%s" % (
                port, show(got), show(want)))
        bad = [r for r in got if r[3] != "1"]
        if bad:
            problems.append("live messages whose digest is not Good:\n" + show(bad))
        print("security %s: live capture on lo, UDP port %d: %d WMMP messages, offline run: %d; %s" % (
            security, port, len(got), len(want), "same sequence, classes and results, digests Good"
            if not problems else "MISMATCH"))
        print(show(got))
        return problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    for opt in ("platform", "terminal", "emulate", "keys", "tshark", "plugin-dir", "dumpcap"):
        parser.add_argument("--" + opt, required=True)
    a = parser.parse_args()
    if not a.dumpcap or a.dumpcap.endswith("NOTFOUND") or not shutil.which(a.dumpcap):
        print("SKIP: no dumpcap (apt-get install wireshark-common)", file=sys.stderr)
        return SKIP
    ts = captures.Tshark(a.tshark, a.plugin_dir)
    problems = []
    try:
        for security in ("digest", "full"):
            problems += check_flow(a, ts, security)
    except Skip as e:
        print("SKIP: %s" % e, file=sys.stderr)
        return SKIP
    finally:
        ts.close()
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
