# SPDX-License-Identifier: GPL-2.0-or-later
"""TLV naming preferences: the seed paper's dialect (tag 0x0002 is the signal level) on
udp-paper-dialect.pcap, and a user-named tag (wmmp_tags table) on the unknown TLV of udp-every-command.pcap."""

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "udp-paper-dialect.pcap"
FIELDS = ["wmmp.command", "wmmp.tlv.tag", "wmmp.apn", "wmmp.signal_level", "wmmp.signal_dbm", "wmmp.cell.lac",
          "_ws.malformed", "_ws.expert.severity"]
PAPER = ["wmmp.dialect:paper"]
SIGNAL_FRAMES = [1, 3]  # HEART_BEAT and CONFIG_TRAP with tag 0x0002


class PaperDialect(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.default = ws.decode(CAP, FIELDS)
        cls.paper = ws.decode(CAP, FIELDS, options=PAPER)

    def test_commands(self):
        for frames in (self.default, self.paper):
            self.assertEqual(sorted(frames), list(range(1, FRAME_COUNTS[CAP] + 1)))
            self.assertInt(frames, 1, "wmmp.command", command_id("HEART_BEAT"))
            self.assertInt(frames, 3, "wmmp.command", command_id("CONFIG_TRAP"))
            self.assertInt(frames, 3, "wmmp.cell.lac", CELL_LAC)

    def test_paper_reads_signal_level(self):
        for number in SIGNAL_FRAMES:
            with self.subTest(frame=number):
                self.assertInts(self.paper, number, "wmmp.tlv.tag", [0x0002] if number == 1 else [0x0002, 0x3006])
                self.assertInt(self.paper, number, "wmmp.signal_level", PAPER_SIGNAL)
                self.assertInt(self.paper, number, "wmmp.signal_dbm", signal_dbm(PAPER_SIGNAL))
                self.assertAbsent(self.paper, number, "wmmp.apn")
                self.assertAbsent(self.paper, number, "_ws.malformed")

    def test_default_reads_apn(self):
        for number in SIGNAL_FRAMES:
            with self.subTest(frame=number):
                self.assertEqual(len(self.values(self.default, number, "wmmp.apn")), 1, "frame %d: wmmp.apn" % number)
                self.assertAbsent(self.default, number, "wmmp.signal_level")


class UserTag(ws.DecodeTest):
    CAP = "udp-every-command.pcap"
    FIELDS = ["wmmp.tlv.tag", "wmmp.tlv.uint", "wmmp.signal_level"]

    def test_user_tag_typed(self):
        frames = ws.decode(self.CAP, self.FIELDS, options=[USER_TAG_UAT])
        n = UNKNOWN_TAG_FRAME
        self.assertInts(frames, n, "wmmp.tlv.tag", [0x3007, UNKNOWN_TAG])
        self.assertInt(frames, n, "wmmp.tlv.uint", UNKNOWN_TAG_VALUE)
        self.assertInt(frames, n, "wmmp.signal_level", CSQ)  # built-in tags keep their meaning

    def test_user_tag_named(self):
        text = ws.verbose(self.CAP, UNKNOWN_TAG_FRAME, options=[USER_TAG_UAT])
        self.assertIn("Room temperature", text)
        self.assertNotIn("Room temperature", ws.verbose(self.CAP, UNKNOWN_TAG_FRAME))


if __name__ == "__main__":
    ws.main()
