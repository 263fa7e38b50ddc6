# SPDX-License-Identifier: GPL-2.0-or-later
"""tcp-split-coalesced.pcap: WMMP over TCP port 9991, with one message per segment, two messages coalesced
in one segment, and one message split across three segments."""

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "tcp-split-coalesced.pcap"
FIELDS = ["tcp.srcport", "tcp.dstport", "tcp.len", "wmmp.command", "wmmp.sequence", "wmmp.length", "wmmp.result",
          "wmmp.crc16.status", "wmmp.user_data", "wmmp.signal_level", "wmmp.response_to", "wmmp.response_in",
          "wmmp.retransmission", "wmmp.login.timestamp", "_ws.malformed", "_ws.expert.severity"]

HANDSHAKE = [1, 2, 3]
TEARDOWN = [13, 14, 15]
SPLIT = [7, 8, 9]  # the message completes in frame 9
# frame -> [(command, sequence), ...] in stream order
MESSAGES = {
    4: [("LOGIN", 1)],
    5: [("LOGIN_ACK", 1)],
    6: [("HEART_BEAT", 2), ("CONFIG_TRAP", 3)],
    9: [("TRANSPARENT_DATA", 4)],
    10: [("HEART_BEAT_ACK", 2)],
    11: [("CONFIG_TRAP_ACK", 3)],
    12: [("TRANSPARENT_DATA_ACK", 4)],
}


class Tcp(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, FIELDS)

    def test_frames(self):
        self.assertEqual(sorted(self.f), list(range(1, FRAME_COUNTS[CAP] + 1)))
        for number in range(1, FRAME_COUNTS[CAP] + 1):
            ports = {ws.as_int(self.value(self.f, number, "tcp.srcport")),
                     ws.as_int(self.value(self.f, number, "tcp.dstport"))}
            self.assertEqual(ports, {TERMINAL_PORT, PLATFORM_TCP_PORT})

    def test_messages(self):
        for number in range(1, FRAME_COUNTS[CAP] + 1):
            with self.subTest(frame=number):
                expected = MESSAGES.get(number, [])
                self.assertInts(self.f, number, "wmmp.command", [command_id(c) for c, _ in expected])
                self.assertInts(self.f, number, "wmmp.sequence", [s for _, s in expected])
                self.assertAbsent(self.f, number, "_ws.malformed")
                self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, number))

    def test_coalesced(self):
        lengths = [ws.as_int(v) for v in self.values(self.f, 6, "wmmp.length")]
        self.assertEqual(len(lengths), 2)
        self.assertEqual(sum(lengths), ws.as_int(self.value(self.f, 6, "tcp.len")))
        self.assertInt(self.f, 6, "wmmp.signal_level", CSQ)

    def test_split(self):
        total = sum(ws.as_int(self.value(self.f, n, "tcp.len")) for n in SPLIT)
        self.assertEqual([ws.as_int(self.value(self.f, n, "tcp.len")) for n in SPLIT[:2]], [10, 20])
        self.assertInt(self.f, SPLIT[-1], "wmmp.length", total)
        self.assertInt(self.f, SPLIT[-1], "wmmp.crc16.status", 1)
        self.assertHex(self.f, SPLIT[-1], "wmmp.user_data", USER_TEXT)

    def test_login(self):
        self.assertInt(self.f, 5, "wmmp.result", 0)
        self.assertTime(self.f, 5, "wmmp.login.timestamp", LOGIN_TS)

    def test_links(self):
        self.assertInt(self.f, 5, "wmmp.response_to", 4)
        self.assertInt(self.f, 10, "wmmp.response_to", 6)
        self.assertInt(self.f, 11, "wmmp.response_to", 6)
        self.assertInt(self.f, 12, "wmmp.response_to", 9)
        self.assertInts(self.f, 6, "wmmp.response_in", [10, 11])
        for number in MESSAGES:
            self.assertAbsent(self.f, number, "wmmp.retransmission")
        self.assertInt(self.f, 11, "wmmp.result", 0)
        self.assertInt(self.f, 12, "wmmp.result", 0)


if __name__ == "__main__":
    ws.main()
