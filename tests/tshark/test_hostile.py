# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile captures (issue 13, plugin items 1, 7, 8, 10): forged by this module (python3 stdlib), then decoded
in every tshark mode an analyst uses: one-pass and two-pass (-2), each with a tree (-V), without one, and
with -T fields. None may crash tshark or make it report a dissector bug; each defense shows its expert item.

    python3 test_hostile.py --tshark T --plugin-dir P --captures C --source-dir S [--forge DIR]

With --forge DIR the module only writes its captures into DIR (for manual runs and memory measurements).
"""

import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import wmmp_tshark as ws  # noqa: E402
from wmmp_testlib import crc16, tlv  # noqa: E402

PLATFORM_PORT = 9992
TERMINAL_PORT = 40001
T0 = 1700000000

CMD_TRANSPARENT_DATA = 0x0004
CMD_FILE_REQ_ACK = 0x800D
FLAG_FRAGMENT = 0x10
TAG_FRAGMENT = 0x4008
TAG_USER_DATA = 0x4007


# ---- forging ----

def message(cmd, seq, body, serial=b"A00MS8011390002S", flag=0):
    """A WMMP message: the 28-byte header (profile section 3) and body, without digest."""
    serial = serial.ljust(16, b"\0")[:16]
    return struct.pack(">HHIHBB", 28 + len(body), cmd, seq, 0x0300, flag, 0) + serial + body


def fragment_part(transaction, total, number, data, op=0):
    return tlv(TAG_FRAGMENT, struct.pack(">HHHB", transaction, total, number, op) + data)


def transparent_body(data):
    """TRANSPARENT_DATA body: CRC-16 of the user data, then the 0x4007 TLV."""
    return struct.pack(">H", crc16(data)) + tlv(TAG_USER_DATA, data)


def _ip_checksum(header):
    s = sum(struct.unpack(">10H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_frame(payload, to_platform=True, src_ip=(10, 0, 0, 2), dst_ip=(10, 0, 0, 1)):
    """Ethernet + IPv4 + UDP around payload (UDP checksum 0: none)."""
    sport, dport = (TERMINAL_PORT, PLATFORM_PORT) if to_platform else (PLATFORM_PORT, TERMINAL_PORT)
    if not to_platform:
        src_ip, dst_ip = dst_ip, src_ip
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, bytes(src_ip), bytes(dst_ip))
    ip = ip[:10] + struct.pack(">H", _ip_checksum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path, frames, step=0.01):
    """frames: Ethernet frames, written step seconds apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            t = T0 + i * step
            secs = int(t)
            f.write(struct.pack("<IIII", secs, int(round((t - secs) * 1e6)), len(fr), len(fr)))
            f.write(fr)


def forge_nested_fragment():
    """Item 1: a fragmented body whose reassembly is itself one 0x4008 part of the same transfer (same
    transaction ID, part 2 of 2). Dissecting the reassembled body re-enters the reassembly, which returns
    the same body again: unbounded recursion before the fix."""
    tid = 77
    inner = fragment_part(tid, 2, 2, b"X" * 40)   # what the reassembled body says
    half = len(inner) // 2
    msgs = [
        message(CMD_TRANSPARENT_DATA, 1, fragment_part(tid, 2, 1, inner[:half]), flag=FLAG_FRAGMENT),
        message(CMD_TRANSPARENT_DATA, 2, fragment_part(tid, 2, 2, inner[half:]), flag=FLAG_FRAGMENT),
        message(CMD_TRANSPARENT_DATA, 3, transparent_body(b"after")),
    ]
    return [udp_frame(m) for m in msgs]


def digest_tlv():
    return tlv(0xE021, b"\x5a" * 16)


FRAG_BODY = struct.pack(">H", crc16(b"R" * 600)) + tlv(TAG_USER_DATA, b"R" * 600)   # the genuine body
FRAG_PARTS = [FRAG_BODY[0:220], FRAG_BODY[220:440], FRAG_BODY[440:]]


def forge_spoofed_part():
    """Item 8: a signed three-part transfer (digest TLV on every part) into which an unsigned part 1 of the
    same transfer is injected, announcing itself as the only part; then an unsigned part 2 with other bytes
    into an unsigned transfer. Before the fix the injected part ended or spoiled the genuine reassembly."""
    signed = FLAG_FRAGMENT | 0x20
    m = []
    for i, part in enumerate(FRAG_PARTS[:2]):
        m.append(message(CMD_TRANSPARENT_DATA, 10 + i, fragment_part(21, 3, i + 1, part) + digest_tlv(), flag=signed))
    m.append(message(CMD_TRANSPARENT_DATA, 99, fragment_part(21, 1, 1, transparent_body(b"forged")),
                     flag=FLAG_FRAGMENT))                                                    # frame 3: injected
    m.append(message(CMD_TRANSPARENT_DATA, 12, fragment_part(21, 3, 3, FRAG_PARTS[2]) + digest_tlv(), flag=signed))
    # frames 5-8: an unsigned transfer, part 2 sent twice with other bytes the second time
    for i, part in enumerate(FRAG_PARTS[:2]):
        m.append(message(CMD_TRANSPARENT_DATA, 20 + i, fragment_part(22, 3, i + 1, part), flag=FLAG_FRAGMENT))
    m.append(message(CMD_TRANSPARENT_DATA, 98, fragment_part(22, 3, 2, b"Z" * len(FRAG_PARTS[1])),
                     flag=FLAG_FRAGMENT))                                                    # frame 7: conflicting
    m.append(message(CMD_TRANSPARENT_DATA, 22, fragment_part(22, 3, 3, FRAG_PARTS[2]), flag=FLAG_FRAGMENT))
    return [udp_frame(x) for x in m]


EO_BLOCKS = 24


def forge_export_bomb():
    """Item 7: FILE_REQ_ACK blocks of 512 bytes, each from its own terminal, each at the end of the 16 MiB
    an image may have (no DOWNLOAD_INFO): before the fix every one made Export Objects reserve 18 MiB."""
    frames = []
    data = b"\xee" * 512
    for i in range(EO_BLOCKS):
        body = struct.pack(">IBHIH", 1, 0, crc16(data), 16 * 1024 * 1024 - 512, len(data)) + data
        serial = b"EVIL%012d" % i
        frames.append(udp_frame(message(CMD_FILE_REQ_ACK, 1, body, serial=serial), to_platform=False))
    return frames


TRACK_N = 65000


def colliding_sequences(n):
    """Sequences that the unkeyed hash of the request table (h = seq ^ C, then h ^ h >> 15) put in one bucket
    for any table of up to 2^16 buckets, C being the constant of TRANSPARENT_DATA requests from the terminal
    (direction 2). n < 65536."""
    c = (CMD_TRANSPARENT_DATA << 16) ^ (2 << 1)
    seqs = []
    for a in range(1, n + 1):
        h = (a << 16) | ((a << 1) & 0xFFFF) | ((a >> 14) & 1)  # h ^ (h >> 15) == 0 in the low 16 bits
        seqs.append(h ^ c)
    return seqs


def forge_tracking(seqs):
    body = transparent_body(b"x")
    return [udp_frame(message(CMD_TRANSPARENT_DATA, s, body)) for s in seqs]


CAPTURES = {
    "hostile-nested-fragment.pcap": forge_nested_fragment,
    "hostile-spoofed-part.pcap": forge_spoofed_part,
    "hostile-export-bomb.pcap": forge_export_bomb,
    "hostile-tracking-collide.pcap": lambda: forge_tracking(colliding_sequences(TRACK_N)),
    "hostile-tracking-plain.pcap": lambda: forge_tracking(range(1, TRACK_N + 1)),
}


def forge(directory):
    os.makedirs(directory, exist_ok=True)
    for name, fn in CAPTURES.items():
        write_pcap(os.path.join(directory, name), fn())


# ---- decoding in every mode ----

MODES = {
    "1pass": [],
    "1pass-V": ["-V"],
    "1pass-fields": ["-T", "fields", "-e", "frame.number", "-e", "wmmp.command", "-e", "_ws.expert"],
    "2pass": ["-2"],
    "2pass-V": ["-2", "-V"],
    "2pass-fields": ["-2", "-T", "fields", "-e", "frame.number", "-e", "wmmp.command", "-e", "_ws.expert"],
}

_forged = None


def forged(name):
    """Path of a capture forged by this module, as tshark sees it."""
    global _forged
    sb = ws.sandbox()
    if _forged is None:
        _forged = sb.writable_dir("hostile")
        forge(_forged)
        ws._make_readable(_forged)
    return os.path.join(_forged, name)


def run_mode(name, mode, extra=()):
    """Decodes a forged capture in one mode, with Wireshark's debug settings; returns (rc, stdout, stderr)."""
    args = ["-n", "-r", forged(name)] + MODES[mode] + list(extra)
    cmd = ws.sandbox().command(args)
    # Wireshark's strict settings (as scripts/fuzz-dissector.sh): a dissector bug aborts
    cmd = cmd[:cmd.index("env") + 2] + ["WIRESHARK_ABORT_ON_DISSECTOR_BUG=1"] + cmd[cmd.index("env") + 2:]
    import subprocess
    proc = subprocess.run(cmd, capture_output=True, timeout=300)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


class HostileTest(ws.DecodeTest):
    def decode_all_modes(self, name, extra=()):
        """Every mode exits 0 without a dissector bug; returns {mode: stdout}."""
        out = {}
        for mode in MODES:
            with self.subTest(capture=name, mode=mode):
                rc, stdout, stderr = run_mode(name, mode, extra)
                self.assertEqual(rc, 0, "tshark %s on %s: exit %d (%s)\n%s" %
                                 (mode, name, rc, "signal %d" % -rc if rc < 0 else "", stderr[-2000:]))
                self.assertNotIn("Dissector bug", stdout + stderr)
                out[mode] = stdout
        return out


class NestedFragment(HostileTest):
    """Item 1: a fragment reassembled into itself."""

    def test_no_crash_any_mode(self):
        self.decode_all_modes("hostile-nested-fragment.pcap")

    def test_flagged_and_rest_decodes(self):
        out = self.decode_all_modes("hostile-nested-fragment.pcap")
        for mode in ("1pass-V", "2pass-V"):
            self.assertIn("inside a reassembled body: not reassembled again", out[mode], mode)
        for mode in ("1pass-fields", "2pass-fields"):
            rows = [r.split("\t") for r in out[mode].splitlines()]
            self.assertEqual([r[0] for r in rows], ["1", "2", "3"], mode)
            self.assertIn("inside a reassembled body", rows[1][2], mode)
            self.assertEqual(rows[2][1], "0x0004", "frame 3 decodes after the hostile one (%s)" % mode)


class SpoofedPart(HostileTest):
    """Item 8: an injected part neither ends nor spoils the transfer in progress."""

    FIELDS = ["-T", "fields", "-e", "frame.number", "-e", "wmmp.reassembled.data", "-e", "_ws.expert",
              "-E", "occurrence=a"]

    def rows(self, two_pass):
        rc, out, err = run_mode("hostile-spoofed-part.pcap", "2pass" if two_pass else "1pass", self.FIELDS)
        self.assertEqual(rc, 0, err)
        return {int(r.split("\t")[0]): r.split("\t")[1:] for r in out.splitlines()}

    def test_no_crash_any_mode(self):
        self.decode_all_modes("hostile-spoofed-part.pcap")

    def test_genuine_transfer_reassembled(self):
        for two_pass in (False, True):
            with self.subTest(two_pass=two_pass):
                rows = self.rows(two_pass)
                self.assertEqual(ws.as_hex(rows[4][0]), FRAG_BODY.hex(), "signed transfer, frame 4")
                self.assertEqual(ws.as_hex(rows[8][0]), FRAG_BODY.hex(), "unsigned transfer, frame 8")
                self.assertEqual(rows[3][0], "", "the injected part 1/1 must not reassemble")

    def test_injected_parts_flagged(self):
        for two_pass in (False, True):
            with self.subTest(two_pass=two_pass):
                rows = self.rows(two_pass)
                self.assertIn("Unsigned part 1 of signed transfer 21", rows[3][1])
                self.assertIn("Part 2 of transfer 22 differs from the one in frame 6", rows[7][1])


def max_rss_kib(args):
    """tshark's peak resident set (KiB), from GNU time."""
    cmd = ["/usr/bin/time", "-f", "RSS=%M"] + ws.sandbox().command(args)
    import subprocess
    proc = subprocess.run(cmd, capture_output=True, timeout=600)
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise AssertionError("tshark %s: exit %d\n%s" % (" ".join(args), proc.returncode, err[-2000:]))
    return int(err.rsplit("RSS=", 1)[1].split()[0])


class ExportBomb(HostileTest):
    """Item 7: Export Objects memory is capped per capture, with an expert item."""

    CAP_MB = 16

    def test_no_crash_any_mode(self):
        self.decode_all_modes("hostile-export-bomb.pcap")

    def test_limit_flagged(self):
        rc, out, err = run_mode("hostile-export-bomb.pcap", "2pass-fields",
                                ["-o", "wmmp.export_max_mb:%d" % self.CAP_MB])
        self.assertEqual(rc, 0, err)
        limited = [r for r in out.splitlines() if "Export Objects limit" in r]
        # 16 MiB admits one image reaching the 16 MiB end; the 23 others are refused
        self.assertEqual(len(limited), EO_BLOCKS - 1, out)

    @unittest.skipUnless(os.path.exists("/usr/bin/time"), "needs GNU time")
    def test_memory_bounded(self):
        cap = forged("hostile-export-bomb.pcap")
        for two_pass in ([], ["-2"]):
            with self.subTest(two_pass=bool(two_pass)):
                outdir = ws.sandbox().writable_dir("eo")
                opts = ["-o", "wmmp.export_max_mb:%d" % self.CAP_MB]
                base = max_rss_kib(["-n", "-r", cap, "-q"] + two_pass + opts)
                rss = max_rss_kib(["-n", "-r", cap, "-q", "--export-objects", "wmmp," + outdir] + two_pass + opts)
                # the images may reserve the cap plus an eighth for their bitmaps
                self.assertLess(rss - base, self.CAP_MB * 1024 * 9 // 8 + 16 * 1024,
                                "export objects grew tshark by %d KiB (cap %d MiB)" % (rss - base, self.CAP_MB))


class TrackingCollisions(HostileTest):
    """Item 10: sequences chosen to collide in the request table do not make the decode quadratic."""

    def test_no_crash_any_mode(self):
        self.decode_all_modes("hostile-tracking-collide.pcap")

    def test_not_quadratic(self):
        import time
        times = {}
        for name in ("hostile-tracking-plain.pcap", "hostile-tracking-collide.pcap"):
            start = time.monotonic()
            rc, out, err = run_mode(name, "2pass")  # not -q: tshark -q alone skips dissection
            times[name] = time.monotonic() - start
            self.assertEqual(rc, 0, err)
        plain, collide = times["hostile-tracking-plain.pcap"], times["hostile-tracking-collide.pcap"]
        self.assertLess(collide, 1.5 * plain + 1.0,
                        "%d colliding requests: %.1f s, %d plain ones: %.1f s" % (TRACK_N, collide, TRACK_N, plain))

    def test_limit_flagged(self):
        rc, out, err = run_mode("hostile-tracking-plain.pcap", "1pass-fields",
                                ["-o", "wmmp.tracking_max_exchanges:1000", "-c", "1010"])
        self.assertEqual(rc, 0, err)
        rows = out.splitlines()
        self.assertNotIn("Tracking limit", "".join(rows[:1000]))
        self.assertTrue(all("Tracking limit of 1000 exchanges reached" in r for r in rows[1000:]), rows[1000:])


if __name__ == "__main__":
    if "--forge" in sys.argv:
        forge(sys.argv[sys.argv.index("--forge") + 1])
        sys.exit(0)
    ws.main()
