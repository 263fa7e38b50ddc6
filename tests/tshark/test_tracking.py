# SPDX-License-Identifier: GPL-2.0-or-later
"""Request/ACK links, response times and retransmissions: every pair of udp-every-command.pcap, and the
odd cases of udp-retransmission.pcap (a retransmitted request, a duplicate ACK, an ACK without request,
a request never answered)."""

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

FIELDS = ["wmmp.command", "wmmp.sequence", "wmmp.response_in", "wmmp.response_to", "wmmp.response_time",
          "wmmp.retransmission", "_ws.expert.severity", "_ws.malformed"]


class EveryCommandPairs(ws.DecodeTest):
    CAP = "udp-every-command.pcap"

    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(cls.CAP, FIELDS)

    def test_pairs(self):
        frames = {n: (cmd, seq) for n, cmd, seq in EVERY_COMMAND_FRAMES}
        for number, cmd, seq in EVERY_COMMAND_FRAMES:
            if isinstance(cmd, int) or cmd.endswith("_ACK"):
                continue
            with self.subTest(frame=number):
                # in this capture every request is answered by the next frame
                self.assertEqual(frames[number + 1], (cmd + "_ACK", seq))
                self.assertInt(self.f, number, "wmmp.response_in", number + 1)
                self.assertInt(self.f, number + 1, "wmmp.response_to", number)
                self.assertFloat(self.f, number + 1, "wmmp.response_time", STEP)
                self.assertAbsent(self.f, number, "wmmp.retransmission")
                self.assertAbsent(self.f, number + 1, "wmmp.retransmission")

    def test_unknown_command_unanswered(self):
        self.assertAbsent(self.f, UNKNOWN_COMMAND_FRAME, "wmmp.response_in")


class Retransmission(ws.DecodeTest):
    CAP = "udp-retransmission.pcap"

    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(cls.CAP, FIELDS)

    def test_frames(self):
        self.assertEqual(sorted(self.f), list(range(1, FRAME_COUNTS[self.CAP] + 1)))
        for number, cmd, seq in RETRANSMISSION_FRAMES:
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id(cmd))
                self.assertInt(self.f, number, "wmmp.sequence", seq)
                self.assertAbsent(self.f, number, "_ws.malformed")

    def test_retransmitted_request(self):
        self.assertAbsent(self.f, 1, "wmmp.retransmission")
        self.assertInt(self.f, 1, "wmmp.response_in", 3)
        self.assertInt(self.f, 2, "wmmp.retransmission", 1)  # frame number of the first transmission
        self.assertTrue(self.severities(self.f, 2), "frame 2: a retransmission carries an expert item")
        # the ACK answers the request first sent in frame 1
        self.assertInt(self.f, 3, "wmmp.response_to", 1)
        self.assertFloat(self.f, 3, "wmmp.response_time", RETRY + STEP)
        self.assertAbsent(self.f, 3, "wmmp.retransmission")

    def test_duplicate_ack(self):
        self.assertInt(self.f, 4, "wmmp.response_in", 5)
        self.assertInt(self.f, 5, "wmmp.response_to", 4)
        self.assertFloat(self.f, 5, "wmmp.response_time", STEP)
        self.assertAbsent(self.f, 5, "wmmp.retransmission")
        self.assertInt(self.f, 6, "wmmp.retransmission", 5)

    def test_ack_without_request(self):
        self.assertAbsent(self.f, 7, "wmmp.response_to")
        self.assertTrue(self.severities(self.f, 7), "frame 7: an ACK without request carries an expert item")

    def test_request_never_answered(self):
        self.assertAbsent(self.f, 8, "wmmp.response_in")
        self.assertTrue(self.severities(self.f, 8), "frame 8: an unanswered request carries an expert item")


if __name__ == "__main__":
    ws.main()
