# SPDX-License-Identifier: GPL-2.0-or-later
"""udp-malformed.pcap: every bad datagram is decoded as far as it goes and flagged, tshark exits 0 and the
capture goes on decoding; and no other capture shows a malformed packet or an error, except the one
deliberately bad digest."""

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "udp-malformed.pcap"
FIELDS = ["frame.protocols", "wmmp.command", "wmmp.sequence", "wmmp.response_to", "_ws.malformed",
          "_ws.expert", "_ws.expert.severity", "_ws.expert.group"]


class Malformed(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, FIELDS)  # ws.run fails the test when tshark exits non-zero

    def test_every_frame_present(self):
        self.assertEqual(sorted(self.f), list(range(1, FRAME_COUNTS[CAP] + 1)))

    def test_bad_datagrams_flagged(self):
        for number, defect in MALFORMED_FRAMES.items():
            with self.subTest(frame=number, defect=defect):
                self.assertIn("wmmp", self.value(self.f, number, "frame.protocols").split(":"),
                              "frame %d (%s) is not dissected as WMMP" % (number, defect))
                self.assertProblemFlagged(self.f, number, defect)

    def test_rest_decodes(self):
        for number, cmd, seq in MALFORMED_GOOD:
            with self.subTest(frame=number):
                self.assertInt(self.f, number, "wmmp.command", command_id(cmd))
                self.assertInt(self.f, number, "wmmp.sequence", seq)
                self.assertAbsent(self.f, number, "_ws.malformed")
                self.assertFalse(any(s >= ws.SEVERITY_WARN for s in self.severities(self.f, number)),
                                 "frame %d: %r" % (number, self.values(self.f, number, "_ws.expert")))
        self.assertInt(self.f, MALFORMED_GOOD[1][0], "wmmp.response_to", MALFORMED_GOOD[0][0])


class OthersClean(ws.DecodeTest):
    """With keys, only udp-malformed.pcap may have malformed packets or errors, and udp-digest-bad.pcap its
    one bad digest."""

    def test_no_malformed_or_error(self):
        allowed = {("udp-digest-bad.pcap", DIGEST_BAD_FRAME)}
        for name in CAPTURES:
            if name == CAP:
                continue
            frames = ws.decode(name, ["wmmp.command", "_ws.malformed", "_ws.expert", "_ws.expert.severity"])
            with self.subTest(capture=name):
                self.assertEqual(len(frames), FRAME_COUNTS[name])
                self.assertTrue(any("wmmp.command" in f for f in frames.values()), "no WMMP message decoded")
                for number, layers in sorted(frames.items()):
                    if (name, number) in allowed:
                        continue
                    self.assertNotIn("_ws.malformed", layers, "%s frame %d" % (name, number))
                    self.assertNotIn(ws.SEVERITY_ERROR, self.severities(frames, number),
                                     "%s frame %d: %r" % (name, number, layers.get("_ws.expert")))


if __name__ == "__main__":
    ws.main()
