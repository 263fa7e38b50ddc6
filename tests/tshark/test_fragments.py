# SPDX-License-Identifier: GPL-2.0-or-later
"""udp-fragmented.pcap: a TRANSPARENT_DATA body over 900 bytes sent as three 0x4008 parts, the receiver's
fragment-control messages between them, reassembly in the last part, and the ordinary ACK."""

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "udp-fragmented.pcap"
FIELDS = """wmmp.command wmmp.sequence wmmp.safe_flag wmmp.class wmmp.result wmmp.fragment.transaction_id
wmmp.fragment.total wmmp.fragment.part wmmp.fragment.operation wmmp.fragment.data wmmp.fragment_control
wmmp.reassembled_in wmmp.reassembled.length wmmp.retransmission wmmp.response_to wmmp.crc16 wmmp.crc16.status
wmmp.dest_serial wmmp.health.record_id wmmp.health.time wmmp.health.ecg.rate wmmp.health.ecg.lead
wmmp.health.ecg.sample wmmp.health.heart_rate _ws.malformed _ws.expert.severity""".split()

PART_FRAMES = [1, 3, 5]
CONTROL_FRAMES = [2, 4]
ACK_FRAME = 6


def body():
    return transparent_body(fragment_record(), 0x4012, DEST_SERIAL.encode())


class Fragments(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, FIELDS)
        cls.body = body()
        cls.parts = [cls.body[i:i + FRAGMENT_MAX_DATA] for i in range(0, len(cls.body), FRAGMENT_MAX_DATA)]

    def test_layout(self):
        self.assertGreater(len(self.body), FRAGMENT_MAX_DATA)
        self.assertEqual(len(self.parts), 3)
        self.assertEqual(sorted(self.f), list(range(1, FRAME_COUNTS[CAP] + 1)))

    def test_parts(self):
        for i, number in enumerate(PART_FRAMES, 1):
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id("TRANSPARENT_DATA"))
                self.assertInt(self.f, number, "wmmp.sequence", 1)
                self.assertInt(self.f, number, "wmmp.safe_flag", 0x10)
                self.assertInt(self.f, number, "wmmp.class", 0)
                self.assertInt(self.f, number, "wmmp.fragment.transaction_id", FRAGMENT_TRANSACTION)
                self.assertInt(self.f, number, "wmmp.fragment.total", 3)
                self.assertInt(self.f, number, "wmmp.fragment.part", i)
                self.assertInt(self.f, number, "wmmp.fragment.operation", 0)
                self.assertHex(self.f, number, "wmmp.fragment.data", self.parts[i - 1])
                if number != PART_FRAMES[-1]:  # the last part holds the reassembled message itself
                    self.assertInt(self.f, number, "wmmp.reassembled_in", PART_FRAMES[-1])

    def test_same_sequence_is_not_a_retransmission(self):
        for number in range(1, FRAME_COUNTS[CAP] + 1):
            with self.subTest(frame=number):
                self.assertAbsent(self.f, number, "wmmp.retransmission")
                self.assertAbsent(self.f, number, "_ws.malformed")
                self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, number))

    def test_controls(self):
        for number, wanted in zip(CONTROL_FRAMES, (2, 3)):
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id("TRANSPARENT_DATA_ACK"))
                self.assertInt(self.f, number, "wmmp.sequence", 1)
                self.assertInt(self.f, number, "wmmp.safe_flag", 0x10)
                self.assertBool(self.f, number, "wmmp.fragment_control", True)
                self.assertInt(self.f, number, "wmmp.fragment.transaction_id", FRAGMENT_TRANSACTION)
                self.assertInt(self.f, number, "wmmp.fragment.total", 3)
                self.assertInt(self.f, number, "wmmp.fragment.part", wanted)
                self.assertInt(self.f, number, "wmmp.fragment.operation", 1)
                self.assertAbsent(self.f, number, "wmmp.result")  # no result byte in a control message

    def test_reassembled(self):
        n = PART_FRAMES[-1]
        record = fragment_record()
        self.assertInt(self.f, n, "wmmp.reassembled.length", len(self.body))
        self.assertInt(self.f, n, "wmmp.crc16", crc16(record))
        self.assertInt(self.f, n, "wmmp.crc16.status", 1)
        self.assertField(self.f, n, "wmmp.dest_serial", DEST_SERIAL)
        self.assertInt(self.f, n, "wmmp.health.record_id", 2001)
        self.assertTime(self.f, n, "wmmp.health.time", T0 + 60)
        self.assertInt(self.f, n, "wmmp.health.ecg.rate", ECG_RATE)
        self.assertInt(self.f, n, "wmmp.health.ecg.lead", ECG_LEAD_II)
        self.assertInts(self.f, n, "wmmp.health.ecg.sample", [ecg_sample(i) for i in range(FRAGMENT_ECG_SAMPLES)])
        self.assertInt(self.f, n, "wmmp.health.heart_rate", 72)
        for number in PART_FRAMES[:-1]:
            self.assertAbsent(self.f, number, "wmmp.health.record_id")

    def test_final_ack(self):
        self.assertInt(self.f, ACK_FRAME, "wmmp.command", command_id("TRANSPARENT_DATA_ACK"))
        self.assertInt(self.f, ACK_FRAME, "wmmp.sequence", 1)
        self.assertInt(self.f, ACK_FRAME, "wmmp.safe_flag", 0)
        self.assertInt(self.f, ACK_FRAME, "wmmp.result", 0)
        flags = [ws.as_bool(v) for v in self.values(self.f, ACK_FRAME, "wmmp.fragment_control")]
        self.assertNotIn(True, flags, "frame %d: the final ACK is not a control message" % ACK_FRAME)
        self.assertInt(self.f, ACK_FRAME, "wmmp.response_to", PART_FRAMES[-1])


if __name__ == "__main__":
    ws.main()
