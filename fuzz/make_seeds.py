#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed corpora for the libFuzzer harnesses, cut out of WMMP captures.

    make_seeds.py OUT_DIR CAPTURE_OR_DIR... [--keys KEYS_FILE]

Reads classic pcap files (Ethernet, IPv4, UDP or TCP; a directory means every *.pcap in it), takes every
WMMP message (UDP datagrams may hold several back to back; TCP streams are reassembled per direction and
framed by Total_Length) and writes, under OUT_DIR/<harness>/, one file per distinct seed:

    header, message   every message (message also every whole datagram)
    body              a selector byte for the decoder + the body of LOGIN(_ACK), REGISTER(_ACK), FILE_REQ(_ACK),
                      TRANSPARENT_DATA/CMD, CONFIG_GET/REQ
    tlv               the TLVs after each command's fixed prefix
    health            the user data (0x4007) of TRANSPARENT_DATA, fragments reassembled
    fragment          each fragmented transfer as the harness reads it: (flags, length, 0x4008 value)...
    decrypt           0xE040 values (selectors 0 and 2), 0xE042 values (1), whole signed messages (3)
    keys              the keys file
    platform          a session's terminal-side messages as fix-up operations, and as link requests
    terminal          the platform's requests as link requests, its answers as answers

Prints how many seeds each harness got. Python 3 standard library only.
"""

import hashlib
import os
import re
import struct
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commands():
    """id -> (symbol, sender, request prefix, ack prefix) from codec/wmmp_commands.def."""
    out = {}
    with open(os.path.join(SRC, "codec", "wmmp_commands.def")) as f:
        for m in re.finditer(r"WMMP_COMMAND\((0x[0-9A-Fa-f]+),\s*(\w+),\s*\"[^\"]*\",\s*(\w+),\s*(\d+),\s*(\d+)\)",
                             f.read()):
            out[int(m.group(1), 16)] = (m.group(2), m.group(3), int(m.group(4)), int(m.group(5)))
    return out


CMDS = commands()
BODY_SELECTOR = {0x0001: 0, 0x8001: 1, 0x0008: 2, 0x8008: 3, 0x000D: 4, 0x800D: 5, 0x0004: 6, 0x000F: 7,
                 0x0005: 8, 0x000A: 8}
# fuzz_platform.c's and fuzz_terminal.c's tables of request commands (index -> command)
PLATFORM_REQUESTS = [0x1, 0x2, 0x3, 0x4, 0x7, 0x8, 0xA, 0xD, 0xE, 0xF, 0x5, 0x6, 0xB, 0xC, 0x9, 0x7FFF]
TERMINAL_REQUESTS = [0x5, 0x6, 0xB, 0xC, 0xE, 0x4, 0xF, 0x2, 0x3, 0x1, 0xD, 0x7, 0x9, 0x10, 0x7FFF, 0x8]


def packets(path):
    """(src, sport, dst, dport, proto, payload) of each IPv4 UDP/TCP packet of a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        return  # pcapng or not a capture: skipped
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype in (101, 228):  # raw IPv4
            ip = pkt
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        ip = ip[:total] if total >= ihl else ip
        src, dst, proto = ip[12:16], ip[16:20], ip[9]
        l4 = ip[ihl:]
        if proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack(">HH", l4[:4])
            yield src, sport, dst, dport, "udp", l4[8:]
        elif proto == 6 and len(l4) >= 20:
            sport, dport = struct.unpack(">HH", l4[:4])
            yield src, sport, dst, dport, "tcp", l4[(l4[12] >> 4) * 4:]


def split(buf):
    """Messages back to back, framed by Total_Length; the rest (if any) is returned too."""
    msgs = []
    while len(buf) >= 28:
        n = struct.unpack(">H", buf[:2])[0]
        if n < 28 or n > len(buf):
            break
        msgs.append(buf[:n])
        buf = buf[n:]
    return msgs, buf


def messages(path):
    """(datagram or None, message) pairs of a capture."""
    streams = {}
    for src, sport, dst, dport, proto, payload in packets(path):
        if not payload:
            continue
        if proto == "udp":
            msgs, _ = split(payload)
            for m in msgs:
                yield payload, m
        else:
            key = (src, sport, dst, dport)
            buf = streams.get(key, b"") + payload
            msgs, rest = split(buf)
            streams[key] = rest
            for m in msgs:
                yield None, m


def tlvs(buf):
    out, pos = [], 0
    while pos + 4 <= len(buf):
        tag, n = struct.unpack(">HH", buf[pos:pos + 4])
        if pos + 4 + n > len(buf):
            break
        out.append((tag, buf[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


def body_of(m):
    """The body without the digest TLV."""
    body = m[28:]
    if m[10] & 0x20 and len(body) >= 20 and body[-20:-16] == b"\xe0\x21\x00\x10":
        body = body[:-20]
    return body


def prefix_len(cmd):
    c = CMDS.get(cmd & 0x7FFF)
    if not c:
        return 0
    return c[3] if cmd & 0x8000 else c[2]


def uplink(cmd):
    """Sent by the terminal: its requests and the ACKs of the platform's."""
    c = CMDS.get(cmd & 0x7FFF)
    sender = c[1] if c else "WMMP_SENDER_BOTH"
    if cmd & 0x8000:
        return sender != "WMMP_SENDER_TERMINAL"
    return sender != "WMMP_SENDER_PLATFORM"


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, harness, data):
        if not data or len(data) > 70000:
            return
        d = os.path.join(self.out, harness)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        path = os.path.join(d, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count[harness] = self.count.get(harness, 0) + 1


def chunk(data):
    return struct.pack(">H", len(data)) + data


def main(argv):
    args = [a for a in argv[1:]]
    keys = os.path.join(SRC, "captures", "wmmp-keys.txt")
    if "--keys" in args:
        i = args.index("--keys")
        keys = args[i + 1]
        del args[i:i + 2]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    out, inputs = args[0], args[1:]
    files = []
    for p in inputs:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".pcap"))
        else:
            files.append(p)
    s = Seeds(out)
    with open(keys, "rb") as f:
        s.add("keys", f.read())
    for path in files:
        up_fixups, up_requests, down_requests, down_answers = [], [], [], []
        transfers = {}
        for datagram, m in messages(path):
            cmd = struct.unpack(">H", m[2:4])[0]
            body = body_of(m)
            s.add("header", m)
            s.add("message", m)
            if datagram is not None and datagram != m:
                s.add("message", datagram)
            if m[10] & 0x20:
                s.add("decrypt", b"\x03" + m)
            if cmd in BODY_SELECTOR:
                s.add("body", bytes([BODY_SELECTOR[cmd]]) + body)
            s.add("tlv", body[prefix_len(cmd):])
            parts = tlvs(body)
            for tag, value in parts:
                if tag == 0xE040:
                    s.add("decrypt", b"\x00" + value)
                    s.add("decrypt", b"\x02" + value)
                elif tag == 0xE042:
                    s.add("decrypt", b"\x01" + bytes(range(16)) + value)
            if m[10] & 0x10 and len(parts) == 1 and parts[0][0] == 0x4008 and len(parts[0][1]) >= 7:
                value = parts[0][1]
                tid, total, number, op = struct.unpack(">HHHB", value[:7])
                key = (uplink(cmd), cmd, tid)
                t = transfers.setdefault(key, {"seq": b"", "data": b""})
                t["seq"] += bytes([m[10]]) + chunk(value)
                if op == 0:
                    t["data"] += value[7:]
                    if number == total:
                        s.add("fragment", t["seq"])
                        whole = t["data"]
                        transfers.pop(key)
                        if cmd & 0x7FFF in (0x4, 0xF) and not cmd & 0x8000:
                            for tag, value in tlvs(whole[2:]):
                                if tag == 0x4007:
                                    s.add("health", value)
                continue
            if cmd in (0x0004, 0x000F):
                for tag, value in tlvs(body[2:]):
                    if tag == 0x4007:
                        s.add("health", value)
            # the node harnesses: operations in the harnesses' formats
            if uplink(cmd):
                up_fixups.append(b"\x02" + chunk(m))
                if not cmd & 0x8000 and cmd in PLATFORM_REQUESTS:
                    up_requests.append(bytes([PLATFORM_REQUESTS.index(cmd) << 2]) + chunk(body))
            else:
                if not cmd & 0x8000 and cmd in TERMINAL_REQUESTS:
                    down_requests.append(bytes([TERMINAL_REQUESTS.index(cmd) << 3]) + chunk(body))
                elif cmd & 0x8000:
                    down_answers.append(b"\x01" + chunk(body) + b"\x03\x00\x40")
        for level in (0, 1):
            mode = 0x10 | level | (level << 2)
            if up_fixups:
                s.add("platform", bytes([mode]) + b"".join(up_fixups[:48]))
            if up_requests:
                s.add("platform", bytes([mode]) + b"".join(up_requests[:48]) + b"\x03\x10\x00")
            if down_requests:
                s.add("terminal", bytes([level]) + b"".join(down_requests[:48]) + b"\x03\x02\x00")
            if down_answers:
                s.add("terminal", bytes([0x80 | level]) + b"\x03\x00\x40" + b"".join(down_answers[:32]))
    for h in sorted(s.count):
        print("%s: %d seeds" % (h, s.count[h]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
