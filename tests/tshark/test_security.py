# SPDX-License-Identifier: GPL-2.0-or-later
"""Digests (Good, Bad, unverified without keys), the four message classes, and decryption with the session
key learned from LOGIN_ACK: udp-figure4-digest.pcap, udp-digest-bad.pcap, udp-encrypted.pcap."""

import hashlib
import json
import os
import struct

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

FIELDS = """wmmp.command wmmp.sequence wmmp.safe_flag wmmp.safe_flag.security wmmp.safe_flag.encryption
wmmp.safe_flag.digest wmmp.safe_flag.encrypted_or_fragment wmmp.class wmmp.digest wmmp.digest.status
wmmp.decrypted wmmp.result wmmp.login.timestamp wmmp.heartbeat_interval wmmp.security.session_key
wmmp.security.session_key_expiry wmmp.signal_level wmmp.cell.lac wmmp.cell.ci wmmp.system_time wmmp.crc16.status
wmmp.health.record_id wmmp.health.heart_rate wmmp.health.spo2 wmmp.logout.reason _ws.expert
_ws.expert.severity _ws.expert.group _ws.malformed""".split()


# wmmp.digest.status takes Wireshark's checksum status values (PROTO_CHECKSUM_E_*, proto_checksum_vals).
STATUS_BAD, STATUS_GOOD, STATUS_UNVERIFIED = 0, 1, 2


def udp_payload_spans(data):
    """(start, end) in the file of the UDP payload of every frame of a classic little-endian Ethernet/IPv4
    pcap, by frame number."""
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "not a little-endian pcap"
    spans, pos, number = {}, 24, 1
    while pos < len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        ihl = (data[pos + 16 + 14] & 0x0F) * 4
        spans[number] = (pos + 16 + 14 + ihl + 8, pos + 16 + incl)
        pos += 16 + incl
        number += 1
    return spans


def udp_payloads(path):
    """The UDP payload of every frame of a classic little-endian Ethernet/IPv4 pcap, by frame number."""
    with open(path, "rb") as f:
        data = f.read()
    return {n: data[a:b] for n, (a, b) in udp_payload_spans(data).items()}


def digest(msg, timestamp, downlink):
    """MD5 of profile section 7 over a message as sent (its last 20 bytes are the digest TLV)."""
    password = DOWNLINK_PASSWORD if downlink else UPLINK_PASSWORD
    return hashlib.md5(msg[:-20] + struct.pack(">I", timestamp) + IMEI.encode() + b"\0" + IMSI.encode()
                       + password).digest()


class Figure4(ws.DecodeTest):
    CAP = "udp-figure4-digest.pcap"

    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(cls.CAP, FIELDS)
        cls.nokeys = ws.decode(cls.CAP, FIELDS, keys=False)
        cls.payloads = udp_payloads(os.path.join(ws.CONFIG.captures, cls.CAP))

    def test_capture_signed_per_profile(self):
        """Independent of the plugin: the generator signed every message as profile section 7 says."""
        for number, cmd, _ in FIGURE4_FRAMES:
            msg = self.payloads[number]
            ts = 0 if cmd == "LOGIN" else LOGIN_TS
            self.assertEqual(msg[-20:-16], b"\xe0\x21\x00\x10")
            self.assertEqual(msg[-16:], digest(msg, ts, number in FIGURE4_DOWNLINK), "frame %d" % number)

    def test_flow(self):
        for number, cmd, seq in FIGURE4_FRAMES:
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id(cmd))
                self.assertInt(self.f, number, "wmmp.sequence", seq)
                self.assertInt(self.f, number, "wmmp.safe_flag", 0xA0 if cmd == "LOGIN" else 0x20)
                self.assertInt(self.f, number, "wmmp.class", 1)

    def test_flag_bits(self):
        for number, security in ((1, True), (2, False)):
            self.assertBool(self.f, number, "wmmp.safe_flag.security", security)
            self.assertBool(self.f, number, "wmmp.safe_flag.encryption", False)
            self.assertBool(self.f, number, "wmmp.safe_flag.digest", True)
            self.assertBool(self.f, number, "wmmp.safe_flag.encrypted_or_fragment", False)

    def test_digest_good(self):
        for number, _, _ in FIGURE4_FRAMES:
            with self.subTest(frame=number):
                self.assertHex(self.f, number, "wmmp.digest", self.payloads[number][-16:])
                self.assertInt(self.f, number, "wmmp.digest.status", STATUS_GOOD)
                self.assertAbsent(self.f, number, "_ws.malformed")
                self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, number))

    def test_digest_unverified_without_keys(self):
        for number, _, _ in FIGURE4_FRAMES:
            with self.subTest(frame=number):
                self.assertInt(self.nokeys, number, "wmmp.digest.status", STATUS_UNVERIFIED)

    def test_config_set_and_result(self):
        self.assertInt(self.f, 2, "wmmp.result", 0)
        self.assertTime(self.f, 2, "wmmp.login.timestamp", LOGIN_TS)
        self.assertInt(self.f, 5, "wmmp.heartbeat_interval", 120)
        self.assertInt(self.f, 6, "wmmp.result", 0)
        self.assertInt(self.f, 7, "wmmp.crc16.status", 1)
        self.assertInt(self.f, 11, "wmmp.logout.reason", 0)


class DigestBad(ws.DecodeTest):
    CAP = "udp-digest-bad.pcap"

    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(cls.CAP, FIELDS)
        cls.nokeys = ws.decode(cls.CAP, FIELDS, keys=False)

    def test_status(self):
        for number, cmd, seq in DIGEST_BAD_FRAMES:
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id(cmd))
                self.assertInt(self.f, number, "wmmp.sequence", seq)
                self.assertInt(self.f, number, "wmmp.digest.status",
                               STATUS_BAD if number == DIGEST_BAD_FRAME else STATUS_GOOD)
                self.assertInt(self.nokeys, number, "wmmp.digest.status", STATUS_UNVERIFIED)

    def test_bad_digest_is_flagged(self):
        self.assertProblemFlagged(self.f, DIGEST_BAD_FRAME, "bad digest")


class WrongDirection(ws.DecodeTest):
    """A digest made with the other direction's password is Bad: the terminal signs with the uplink password,
    the platform with the downlink one, and the dissector must not accept the other (issue 15)."""
    CAP = "udp-figure4-digest.pcap"
    FORGED = {3: True, 4: False}  # HEART_BEAT (terminal) signed downlink, HEART_BEAT_ACK (platform) uplink

    @classmethod
    def setUpClass(cls):
        with open(ws.capture(cls.CAP), "rb") as f:
            data = bytearray(f.read())
        spans = udp_payload_spans(data)
        for number, downlink in cls.FORGED.items():
            start, end = spans[number]
            data[end - 16:end] = digest(bytes(data[start:end]), LOGIN_TS, downlink)
        path = os.path.join(ws.sandbox().writable_dir("wrong-direction"), "udp-digest-wrong-direction.pcap")
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
        cls.f = ws.decode(path, FIELDS)

    def test_other_direction_password_is_bad(self):
        for number, _, _ in FIGURE4_FRAMES:
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.digest.status",
                               STATUS_BAD if number in self.FORGED else STATUS_GOOD)
        for number in self.FORGED:
            self.assertProblemFlagged(self.f, number, "digest signed with the other direction's password")


class Encrypted(ws.DecodeTest):
    CAP = "udp-encrypted.pcap"
    DECRYPTED = {2, 3, 5, 7, 8, 9}  # frames with an 0xE040 or 0xE042 container

    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(cls.CAP, FIELDS)
        cls.nokeys = ws.decode(cls.CAP, FIELDS, keys=False)

    def decrypted(self, frames, number):
        return any(ws.as_bool(v) for v in self.values(frames, number, "wmmp.decrypted"))

    def test_classes_and_digests(self):
        for number, cmd, seq, flag, cls in ENCRYPTED_FRAMES:
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id(cmd))
                self.assertInt(self.f, number, "wmmp.sequence", seq)
                self.assertInt(self.f, number, "wmmp.safe_flag", flag)
                self.assertInt(self.f, number, "wmmp.class", cls)
                self.assertInt(self.nokeys, number, "wmmp.class", cls)  # the class needs no key
                self.assertInt(self.f, number, "wmmp.digest.status", STATUS_GOOD)
                self.assertInt(self.nokeys, number, "wmmp.digest.status", STATUS_UNVERIFIED)
                self.assertAbsent(self.f, number, "_ws.malformed")
                self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, number))

    def test_decrypted_flag(self):
        for number, _, _, _, _ in ENCRYPTED_FRAMES:
            with self.subTest(frame=number):
                self.assertEqual(self.decrypted(self.f, number), number in self.DECRYPTED, "frame %d" % number)
                self.assertFalse(self.decrypted(self.nokeys, number), "frame %d without keys" % number)

    def test_session_key_learned(self):
        self.assertInt(self.f, 2, "wmmp.result", 0)
        self.assertTime(self.f, 2, "wmmp.login.timestamp", LOGIN_TS)
        self.assertHex(self.f, 2, "wmmp.security.session_key", SESSION_KEY)
        self.assertInt(self.f, 2, "wmmp.security.session_key_expiry", SESSION_KEY_EXPIRY)
        self.assertInt(self.f, 2, "wmmp.heartbeat_interval", HEARTBEAT_INTERVAL)
        self.assertAbsent(self.nokeys, 2, "wmmp.security.session_key")

    def test_encrypted_class(self):
        """CONFIG_TRAP: signal level in clear, cell and time from inside 0xE040."""
        self.assertInt(self.f, 3, "wmmp.signal_level", CSQ)
        self.assertInt(self.f, 3, "wmmp.cell.lac", CELL_LAC)
        self.assertInt(self.f, 3, "wmmp.cell.ci", CELL_CI)
        self.assertTime(self.f, 3, "wmmp.system_time", T0)
        self.assertInt(self.nokeys, 3, "wmmp.signal_level", CSQ)
        self.assertAbsent(self.nokeys, 3, "wmmp.cell.lac")

    def test_fully_encrypted(self):
        self.assertInt(self.f, 5, "wmmp.signal_level", CSQ)
        self.assertAbsent(self.nokeys, 5, "wmmp.signal_level")
        self.assertInt(self.f, 7, "wmmp.crc16.status", 1)
        self.assertInt(self.f, 7, "wmmp.health.record_id", 3001)
        self.assertInt(self.f, 7, "wmmp.health.heart_rate", 75)
        self.assertInt(self.f, 7, "wmmp.health.spo2", 97)
        self.assertAbsent(self.nokeys, 7, "wmmp.health.record_id")
        self.assertInt(self.f, 8, "wmmp.result", 0)
        self.assertAbsent(self.nokeys, 8, "wmmp.result")
        self.assertInt(self.f, 9, "wmmp.logout.reason", 0)
        self.assertInt(self.f, 10, "wmmp.class", 1)


if __name__ == "__main__":
    ws.main()


class LaterPassesKeepTheFirst(ws.DecodeTest):
    """Digest verdicts and plaintexts are worked out once, on the first pass, and kept for later passes
    (packet-wmmp-memo.c): tshark -2 must show what a single pass shows, message by message."""
    CAPS = ("udp-encrypted.pcap", "udp-digest-bad.pcap", "udp-figure4-digest.pcap")
    KEPT = ["wmmp.digest.status", "wmmp.decrypted", "wmmp.signal_level", "wmmp.cell.lac", "wmmp.result",
            "wmmp.health.record_id", "wmmp.health.heart_rate", "wmmp.logout.reason", "wmmp.digest.expected"]

    @staticmethod
    def one_pass(capture_name):
        args = ["-r", ws.capture(capture_name), "-T", "json", "-e", "frame.number"]
        for f in LaterPassesKeepTheFirst.KEPT:
            args += ["-e", f]
        out = ws.run(args + ws.prefs()).stdout.decode("utf-8")
        return {int(p["_source"]["layers"]["frame.number"][0]): p["_source"]["layers"] for p in json.loads(out)}

    def test_two_passes_show_the_first(self):
        for cap in self.CAPS:
            single = self.one_pass(cap)
            double = ws.decode(cap, self.KEPT)
            self.assertEqual(sorted(single), sorted(double), cap)
            for number, layers in single.items():
                with self.subTest(capture=cap, frame=number):
                    for field in self.KEPT:
                        self.assertEqual(layers.get(field), double[number].get(field), field)
            if cap == "udp-encrypted.pcap":  # the kept plaintexts were used: decrypted values are there
                self.assertInt(double, 7, "wmmp.health.record_id", 3001)
