# SPDX-License-Identifier: GPL-2.0-or-later
"""Just enough WMMP-T 3.0 in Python (standard library only) for the reliability tests and the hostile peer:
headers, TLVs, the MD5 digest of profile section 7, CRC-16/CCITT-FALSE, health records (section 10), and
a small digest-level terminal (LOGIN, HEART_BEAT, TRANSPARENT_DATA, LOGOUT) over UDP. No 3DES: sessions it
opens are digest-level (Safe_Flag 0xA0 / 0x20), which every platform security level accepts.
"""

import hashlib
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from wmmp_testlib import crc16, crc32, tlv  # noqa: E402,F401 (crc32 for the tests that import this module)

HEADER_LEN = 28
VERSION = 0x0300
LOGIN, LOGOUT, HEART_BEAT, TRANSPARENT_DATA = 0x0001, 0x0002, 0x0003, 0x0004
CONFIG_GET, CONFIG_SET, CONFIG_TRAP, REGISTER = 0x0005, 0x0006, 0x0007, 0x0008
CONFIG_REQ, REMOTE_CTRL, DOWNLOAD_INFO, FILE_REQ = 0x000A, 0x000B, 0x000C, 0x000D
SECURITY_CONFIG, TRANSPARENT_CMD = 0x000E, 0x000F
COMMANDS = [LOGIN, LOGOUT, HEART_BEAT, TRANSPARENT_DATA, CONFIG_GET, CONFIG_SET, CONFIG_TRAP, REGISTER,
            CONFIG_REQ, REMOTE_CTRL, DOWNLOAD_INFO, FILE_REQ, SECURITY_CONFIG, TRANSPARENT_CMD]
ACK = 0x8000
FLAG_SECURITY, FLAG_ENCRYPTION, FLAG_DIGEST, FLAG_FRAGMENT = 0x80, 0x40, 0x20, 0x10
TAG_SIGNAL, TAG_CELL, TAG_USER_DATA, TAG_FRAGMENT, TAG_DIGEST = 0x3007, 0x3006, 0x4007, 0x4008, 0xE021
TAG_SYSTEM_TIME = 0x3009


class Keys:
    """One line of the keys file (profile section 11)."""

    def __init__(self, line):
        f = [x.strip().strip('"') for x in line.strip().split(",")]
        self.serial, self.imei, self.imsi = f[0], f[1], f[2]
        self.uplink, self.downlink = f[3].encode(), f[4].encode()
        self.base_key = bytes.fromhex(f[5])
        self.line = line.strip()

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return [cls(l) for l in f if l.startswith('"')]


def header(total, cmd, seq, flag, serial, version=VERSION, reserved=0):
    s = serial.encode() if isinstance(serial, str) else serial
    return struct.pack(">HHIHBB", total, cmd, seq & 0xFFFFFFFF, version, flag, reserved) + s[:16].ljust(16, b"\0")


def digest(covered, ts, keys, uplink=True):
    pw = keys.uplink if uplink else keys.downlink
    return hashlib.md5(covered + struct.pack(">I", ts) + keys.imei.encode().ljust(16, b"\0")[:16] +
                       keys.imsi.encode()[:15].ljust(15, b"\0") + pw).digest()


def message(cmd, seq, body, serial, keys=None, ts=0, flag=None, uplink=True):
    """A whole message; signed (digest TLV appended) when keys are given."""
    if flag is None:
        flag = (0xA0 if cmd == LOGIN else FLAG_DIGEST) if keys else 0
    total = HEADER_LEN + len(body) + (20 if flag & FLAG_DIGEST else 0)
    m = header(total, cmd, seq, flag, serial) + body
    if flag & FLAG_DIGEST:
        m += struct.pack(">HH", TAG_DIGEST, 16) + (digest(m, ts, keys, uplink) if keys else b"\0" * 16)
    return m


def parse_header(m):
    if len(m) < HEADER_LEN:
        return None
    total, cmd, seq, ver, flag, res = struct.unpack(">HHIHBB", m[:12])
    return {"total": total, "cmd": cmd, "seq": seq, "version": ver, "flag": flag, "serial": m[12:28]}


def health_record(record_id, measured_at=None, heart_rate=72, spo2=98, temp_centi=3685, ecg=()):
    """A health record (profile section 10): vitals and an optional short ECG."""
    if measured_at is None:
        measured_at = int(time.time())
    t = tlv(0x0111, struct.pack(">H", heart_rate)) + tlv(0x0112, struct.pack(">h", temp_centi))
    t += tlv(0x0113, struct.pack(">HHH", 121, 79, 93)) + tlv(0x0115, bytes([spo2])) + tlv(0x0116, bytes([16]))
    if ecg:
        t += tlv(0x0110, struct.pack(">HBH", 250, 1, 1000) + b"".join(struct.pack(">h", s) for s in ecg))
    return b"HT\x01\x00" + struct.pack(">II", record_id, measured_at) + t


def transparent_body(user_data):
    return struct.pack(">H", crc16(user_data)) + tlv(TAG_USER_DATA, user_data)


_login_times = {}  # serial -> System time of its last LOGIN: each LOGIN newer than the last (docs/PROTOCOL-NOTES.md)


def login_body(signal=21, serial=None, at=None):
    """LOGIN body with its freshness: System time (0x3009), inside the sync TLVs and so under the digest."""
    if at is None:
        at = max(int(time.time()), _login_times.get(serial, 0) + 1)
        _login_times[serial] = at
    sync = tlv(TAG_SIGNAL, bytes([signal])) + tlv(TAG_SYSTEM_TIME, struct.pack(">I", at))
    return b"HT-1.0\0\0" + struct.pack(">I", crc32(sync)) + sync


class Terminal:
    """A digest-level terminal over UDP, driven step by step (no retransmission: tests use loopback)."""

    def __init__(self, addr, keys, timeout=2.0, serial=None, sock=None):
        self.addr, self.keys = addr, keys
        self.serial = serial or keys.serial
        self.sock = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.seq = 1
        self.ts = 0
        self.sent = []  # every message sent, for replays

    def request(self, cmd, body, keys=None, ts=None, raw=None):
        """Sends a request and returns (ack header, ack body) or (None, None) on timeout."""
        if raw is None:
            k = self.keys if keys is None else keys
            raw = message(cmd, self.seq, body, self.serial, k or None, self.ts if ts is None else ts)
            self.seq += 1
        self.sent.append(raw)
        return self.send_raw(raw)

    def send_raw(self, raw, expect=True):
        self.sock.sendto(raw, self.addr)
        if not expect:
            return None, None
        want = parse_header(raw)
        deadline = time.time() + self.sock.gettimeout()
        while time.time() < deadline:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            h = parse_header(data)
            if h and want and h["cmd"] == want["cmd"] | ACK and h["seq"] == want["seq"]:
                body = data[HEADER_LEN:h["total"]]
                if h["flag"] & FLAG_DIGEST and len(body) >= 20:
                    body = body[:-20]
                return h, body
        return None, None

    def login(self, flag=None, at=None):
        body = login_body(serial=self.serial, at=at)
        if flag is None:
            h, body = self.request(LOGIN, body)
        else:
            raw = message(LOGIN, self.seq, body, self.serial, self.keys, 0, flag=flag)
            self.seq += 1
            h, body = self.request(LOGIN, None, raw=raw)
        self.login_ack = body
        if h is None:
            return None
        if body and body[0] in (0, 1):
            self.ts = struct.unpack(">I", body[1:5])[0]
        return body[0] if body else None

    def result(self, cmd, body, **kw):
        h, b = self.request(cmd, body, **kw)
        return b[0] if h is not None and b else None

    def logout(self):
        h, _ = self.request(LOGOUT, b"\x00")
        return h is not None

    def close(self):
        self.sock.close()


def random_serial(rng):
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(16))


def corpus(keys, rng, count=64):
    """Valid-looking messages of every command, for mutation: signed with the keys (a made-up timestamp, so
    their digests do not verify in a session), and some with unknown serials. A LOGIN is signed with
    timestamp 0 and would verify anywhere (profile section 7): the LOGINs of the known serial get a broken
    digest, so the corpus cannot log the real terminal in by replay."""
    out = []
    for i in range(count):
        cmd = COMMANDS[i % len(COMMANDS)]
        serial = keys.serial if i % 3 else random_serial(rng)
        if cmd == LOGIN:
            body = login_body(rng.randrange(32), at=rng.randrange(1 << 32))
        elif cmd == TRANSPARENT_DATA:
            body = transparent_body(health_record(100000 + i, ecg=[rng.randrange(-500, 500) for _ in range(20)]))
        elif cmd == REGISTER:
            body = bytes([0]) + keys.imei.encode().ljust(16, b"\0") + keys.imsi.encode()[:15]
        elif cmd == HEART_BEAT:
            body = tlv(TAG_CELL, b"\x12\x34\x56\x78") + tlv(TAG_SIGNAL, b"\x15")
        elif cmd == LOGOUT:
            body = b"\x00"
        elif cmd == FILE_REQ:
            body = struct.pack(">IBIH", 7, 0, 512 * i, 512)
        elif cmd in (CONFIG_GET, CONFIG_REQ):
            body = b"".join(struct.pack(">HH", t, 0) for t in (0x0011, 0x0107, 0x4004))
        else:
            body = bytes([0]) + tlv(0x4004, b"\x00\x3c")
        ack = rng.random() < 0.2
        m = message(cmd | (ACK if ack else 0), rng.randrange(1, 1 << 32), body, serial, keys, rng.randrange(1 << 32))
        if cmd == LOGIN:
            m = m[:-1] + bytes([m[-1] ^ 0xFF])
        out.append(m)
    # a fragmented TRANSPARENT_DATA part
    frag = struct.pack(">HHHB", 9, 3, 1, 0) + os.urandom(64)
    out.append(message(TRANSPARENT_DATA, 77, tlv(TAG_FRAGMENT, frag), keys.serial, keys, 5, flag=0x30))
    return out
