# SPDX-License-Identifier: GPL-2.0-or-later
"""What the Python tests share: the checksums of profile section 13, TLV bytes, free loopback ports, the
fast timing options of the emulator programs, and a wmmp-platform process on loopback.

Imported by tests/e2e, tests/reliability and tests/tshark (each puts tests/ on sys.path).
"""

import argparse
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest
import zlib

# short heartbeats and timeouts, so that tests finish in seconds (the profile's defaults are minutes)
FAST_TERMINAL = ["--heartbeat-ms", "1000", "--record-interval-ms", "50", "--response-timeout-ms", "250",
                 "--retries", "8"]
FAST_PLATFORM = ["--heartbeat", "5", "--response-timeout-ms", "250", "--retries", "8"]


def crc16(data):
    """CRC-16/CCITT-FALSE (profile section 13)."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def tlv(tag, value):
    return struct.pack(">HH", tag, len(value)) + value


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Platform:
    """wmmp-platform (the program at path `program`) on loopback ports (free ones unless given) with its
    database in tmp; start() again after stop() or kill() restarts it on the same ports and database."""

    def __init__(self, program, tmp, keys, extra=(), name="platform", udp_port=None, tcp_port=None, db=None):
        self.program, self.tmp, self.keys, self.extra, self.name = program, tmp, keys, list(extra), name
        self.udp_port = udp_port or free_port(socket.SOCK_DGRAM)
        self.tcp_port = tcp_port or free_port(socket.SOCK_STREAM)
        self.db = db or os.path.join(tmp, name + ".db")
        self.runs = 0
        self.start()

    def start(self):
        self.runs += 1
        self.log = os.path.join(self.tmp, "%s-%d.log" % (self.name, self.runs))
        self.out = os.path.join(self.tmp, "%s-%d.out" % (self.name, self.runs))
        args = [self.program, "--listen", "127.0.0.1", "--udp-port", str(self.udp_port), "--tcp-port",
                str(self.tcp_port), "--keys", self.keys, "--db", self.db] + FAST_PLATFORM + self.extra
        with open(self.out, "wb") as out, open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=out, stderr=log)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("wmmp-platform exited with %d:\n%s" % (self.proc.returncode, self.stderr()))
            if "listening on" in self.stderr():
                return
            time.sleep(0.05)
        self.kill()
        raise AssertionError("wmmp-platform did not start:\n" + self.stderr())

    def stderr(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stdout(self):
        with open(self.out, errors="replace") as f:
            return f.read()

    def address(self, tcp=False):
        return "127.0.0.1:%d" % (self.tcp_port if tcp else self.udp_port)

    def stop(self, timeout=30):
        """SIGTERM, then its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("wmmp-platform did not exit within %d s of SIGTERM:\n%s" % (timeout, self.stderr()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stats(self):
        """The counters of the exit line (after stop())."""
        line = [l for l in self.stdout().splitlines() if "records stored" in l]
        if not line:
            return {}
        out = {}
        for m in re.finditer(r"([a-zA-Z][a-zA-Z /-]*?) (\d+)", line[-1]):
            out[m.group(1).strip().split(": ")[-1]] = int(m.group(2))
        return out


def main(config, required, optional=()):
    """Fills config from --OPTION VALUE arguments (as ctest passes them), then runs the tests named in the
    remaining arguments (Class.test_name)."""
    parser = argparse.ArgumentParser(add_help=False)
    for opt in required:
        parser.add_argument("--" + opt, required=True)
    for opt in optional:
        parser.add_argument("--" + opt, default=None)
    args, rest = parser.parse_known_args()
    for key, value in vars(args).items():
        setattr(config, key, value)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
