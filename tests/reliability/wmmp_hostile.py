#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A hostile WMMP peer: floods a platform with mutated and random datagrams and TCP streams, holds
slowloris-style partial messages and idle connections, and reports what it sent and how the platform
treated it.

    wmmp_hostile.py --port UDP_PORT [--tcp-port TCP_PORT] [--host 127.0.0.1] [--source 127.0.0.2]
                    [--duration 20] [--rate 2000] [--sockets 8] [--rotate 500] [--tcp-rate 20]
                    [--slowloris 20] [--idle 10] [--keys captures/wmmp-keys.txt] [--seed 1] [--json FILE]

UDP datagrams (--rate a second, from --sockets sockets, each replaced by a new one with a new source port
every --rotate datagrams), chosen evenly among the kinds:
    random       random bytes, 0-1500 of them
    truncated    a valid message cut short (also below the 28-byte header)
    oversize     a 65507-byte datagram (the largest UDP payload) claiming Total_Length 65535
    version      a valid message with a protocol version other than 2.x/3.x
    unknown_cmd  a command ID no profile defines
    length       Total_Length below 28, beyond the datagram, off by one
    flip         a valid message with 1-8 random bytes changed (bad digests, broken TLVs, wrong serials)
    flags        random Safe_Flag (encrypted/fragment/reserved bits without the content)
    tlv          TLV lengths that overrun the body
    trailing     a valid message with random bytes after it
    serial       a signed message from a terminal nobody knows
    replay       a message of the corpus as it is (signed with another timestamp: bad digest)
TCP (--tcp-rate connections a second): garbage streams, framed streams of mutated messages, Total_Length
below 28, 65535-byte messages, messages cut off by a close. Slowloris: --slowloris connections that send
the first bytes of a message and then one byte every 5 s; idle: --idle connections that send nothing. For
both it records whether and when the platform closed them (waiting up to --hold-max s, also after
--duration).

The corpus is built from the keys file (wmmp_wire.corpus): LOGINs of the known serial carry broken digests,
so nothing here can log the real terminal in. Prints a JSON summary (also to --json).
"""

import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wmmp_wire as w  # noqa: E402

KNOWN = set(w.COMMANDS) | {c | w.ACK for c in w.COMMANDS}
UDP_KINDS = ["random", "truncated", "oversize", "version", "unknown_cmd", "length", "flip", "flags", "tlv",
             "trailing", "serial", "replay"]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.d = {"udp_sent": 0, "udp_bytes": 0, "udp_send_errors": 0, "udp_answers": 0, "udp_sources": 0,
                  "udp_kinds": {k: 0 for k in UDP_KINDS}, "tcp_connections": 0, "tcp_refused": 0,
                  "tcp_messages": 0, "tcp_bytes": 0, "tcp_answers_bytes": 0, "tcp_kinds": {},
                  "slowloris": [], "idle": []}

    def add(self, key, n=1, sub=None):
        with self.lock:
            if sub is None:
                self.d[key] += n
            else:
                self.d[key][sub] = self.d[key].get(sub, 0) + n


def mutate(kind, rng, corpus):
    m = bytearray(rng.choice(corpus))
    if kind == "random":
        return os.urandom(rng.randrange(0, 1500))
    if kind == "truncated":
        return bytes(m[:rng.randrange(0, len(m))])
    if kind == "oversize":
        return struct.pack(">H", 65535) + bytes(m[2:28]) + os.urandom(65507 - 28)
    if kind == "version":
        v = rng.choice([0x0000, 0x0100, 0x0400, 0x0A00, 0xFFFF, rng.randrange(0x0400, 0x10000)])
        m[8:10] = struct.pack(">H", v)
        return bytes(m)
    if kind == "unknown_cmd":
        c = rng.randrange(0, 0x10000)
        while c in KNOWN:
            c = rng.randrange(0, 0x10000)
        m[2:4] = struct.pack(">H", c)
        return bytes(m)
    if kind == "length":
        n = rng.choice([rng.randrange(0, 28), len(m) - 1, len(m) + 1, rng.randrange(len(m) + 1, 65536)])
        m[0:2] = struct.pack(">H", n)
        return bytes(m)
    if kind == "flip":
        for _ in range(rng.randrange(1, 9)):
            m[rng.randrange(len(m))] = rng.randrange(256)
        return bytes(m)
    if kind == "flags":
        m[10] = rng.randrange(256)
        return bytes(m)
    if kind == "tlv":
        if len(m) >= 32:
            pos = rng.randrange(28, len(m) - 3)
            m[pos + 2:pos + 4] = struct.pack(">H", rng.choice([0xFFFF, len(m), rng.randrange(0x10000)]))
        return bytes(m)
    if kind == "trailing":
        return bytes(m) + os.urandom(rng.randrange(1, 200))
    if kind == "serial":
        m[12:28] = w.random_serial(rng).encode()
        return bytes(m)
    return bytes(m)  # replay


def udp_flood(a, stats, corpus, stop):
    rng = random.Random(a.seed)
    socks = []

    def new_sock():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        if a.source:
            s.bind((a.source, 0))
        stats.add("udp_sources")
        return s

    socks = [new_sock() for _ in range(a.sockets)]
    target = (a.host, a.port)
    interval = 1.0 / a.rate if a.rate > 0 else 0
    next_t = time.time()
    i = 0
    while not stop.is_set():
        kind = UDP_KINDS[i % len(UDP_KINDS)]
        data = mutate(kind, rng, corpus)
        s = socks[i % len(socks)]
        try:
            s.sendto(data, target)
            stats.add("udp_sent")
            stats.add("udp_bytes", len(data))
            stats.add("udp_kinds", 1, kind)
        except OSError:
            stats.add("udp_send_errors")
        i += 1
        if i % 64 == 0:  # drain answers so they are counted (and the kernel's buffers stay empty)
            for s2 in socks:
                while True:
                    try:
                        s2.recv(65535)
                        stats.add("udp_answers")
                    except OSError:
                        break
        if a.rotate and i % a.rotate == 0:
            k = rng.randrange(len(socks))
            socks[k].close()
            socks[k] = new_sock()
        if interval:
            next_t += interval
            delay = next_t - time.time()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1:
                next_t = time.time()  # cannot keep up: do not burst to catch up
    for s in socks:
        s.close()


def tcp_connect(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.source:
        s.bind((a.source, 0))
    s.settimeout(2)
    s.connect((a.host, a.tcp_port))
    return s


def tcp_flood(a, stats, corpus, stop):
    rng = random.Random(a.seed + 1)
    kinds = ["garbage", "stream", "short_length", "huge", "cut"]
    i = 0
    interval = 1.0 / a.tcp_rate
    while not stop.is_set():
        kind = kinds[i % len(kinds)]
        i += 1
        try:
            s = tcp_connect(a)
        except OSError:
            stats.add("tcp_refused")
            time.sleep(interval)
            continue
        stats.add("tcp_connections")
        stats.add("tcp_kinds", 1, kind)
        try:
            if kind == "garbage":
                data = os.urandom(rng.randrange(1, 4096))
            elif kind == "stream":
                msgs = []
                for _ in range(20):
                    m = bytearray(rng.choice(corpus))
                    for _ in range(rng.randrange(0, 4)):
                        m[rng.randrange(2, len(m))] = rng.randrange(256)  # framing kept
                    msgs.append(bytes(m))
                stats.add("tcp_messages", len(msgs))
                data = b"".join(msgs)
            elif kind == "short_length":
                data = struct.pack(">H", rng.randrange(0, 28)) + os.urandom(40)
            elif kind == "huge":
                data = struct.pack(">H", 65535) + rng.choice(corpus)[2:28] + os.urandom(65535 - 28)
            else:
                m = rng.choice(corpus)
                data = m[:rng.randrange(1, len(m))]
            s.sendall(data)
            stats.add("tcp_bytes", len(data))
            s.settimeout(0.2)
            try:
                while True:
                    got = s.recv(65535)
                    if not got:
                        break
                    stats.add("tcp_answers_bytes", len(got))
            except OSError:
                pass
        except OSError:
            pass
        finally:
            s.close()
        stop.wait(interval)


def hold(a, stats, key, n, corpus, stop, trickle):
    """Connections that the platform should close: partial messages trickling in (slowloris) or silence."""
    conns = []
    for _ in range(n):
        try:
            s = tcp_connect(a)
        except OSError:
            stats.add("tcp_refused")
            continue
        if trickle:
            m = corpus[0]
            s.sendall(struct.pack(">H", 4000) + m[2:10])  # promises 4000 bytes, sends 10
        s.setblocking(False)
        conns.append({"sock": s, "opened": time.time(), "closed_after": None, "sent": 10 if trickle else 0})
    last_trickle = started = time.time()
    while time.time() - started < a.hold_max and any(c["closed_after"] is None for c in conns):
        for c in conns:
            if c["closed_after"] is not None:
                continue
            try:
                got = c["sock"].recv(4096)
                if not got:
                    c["closed_after"] = time.time() - c["opened"]
            except BlockingIOError:
                pass
            except OSError:
                c["closed_after"] = time.time() - c["opened"]
        if trickle and time.time() - last_trickle >= 5:
            last_trickle = time.time()
            for c in conns:
                if c["closed_after"] is None:
                    try:
                        c["sock"].send(b"\x00")
                        c["sent"] += 1
                    except OSError:
                        c["closed_after"] = time.time() - c["opened"]
        time.sleep(0.2)
    for c in conns:
        c["sock"].close()
        with stats.lock:
            stats.d[key].append({"closed_after_s": None if c["closed_after"] is None else round(c["closed_after"], 1),
                                 "bytes_sent": c["sent"]})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True, help="the platform's UDP port (0: no UDP flood)")
    p.add_argument("--tcp-port", type=int, default=0, help="the platform's TCP port (0: no TCP attacks)")
    p.add_argument("--source", default=None, help="local address to send from, e.g. 127.0.0.2")
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--rate", type=float, default=2000, help="datagrams a second (0: as fast as possible)")
    p.add_argument("--sockets", type=int, default=8)
    p.add_argument("--rotate", type=int, default=500, help="new source port every N datagrams (0: never)")
    p.add_argument("--tcp-rate", type=float, default=20, help="hostile TCP connections a second")
    p.add_argument("--slowloris", type=int, default=0, help="slowloris connections")
    p.add_argument("--idle", type=int, default=0, help="idle connections")
    p.add_argument("--hold-max", type=float, default=60,
                   help="seconds to wait for the platform to close the slowloris and idle connections")
    p.add_argument("--keys", default=os.path.join(os.path.dirname(__file__), "..", "..", "captures", "wmmp-keys.txt"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)

    keys = w.Keys.load(a.keys)[0]
    corpus = w.corpus(keys, random.Random(a.seed), 96)
    stats = Stats()
    stop = threading.Event()
    threads = []
    if a.port:
        threads.append(threading.Thread(target=udp_flood, args=(a, stats, corpus, stop)))
    if a.tcp_port:
        threads.append(threading.Thread(target=tcp_flood, args=(a, stats, corpus, stop)))
        if a.slowloris:
            threads.append(threading.Thread(target=hold, args=(a, stats, "slowloris", a.slowloris, corpus, stop, True)))
        if a.idle:
            threads.append(threading.Thread(target=hold, args=(a, stats, "idle", a.idle, corpus, stop, False)))
    start = time.time()
    for t in threads:
        t.daemon = True
        t.start()
    stop.wait(a.duration)
    stop.set()
    for t in threads:
        t.join(a.hold_max + 30)
    stats.d["duration_s"] = round(time.time() - start, 1)
    out = json.dumps(stats.d, sort_keys=True)
    if a.json:
        with open(a.json, "w") as f:
            f.write(out + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
