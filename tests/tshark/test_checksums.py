# SPDX-License-Identifier: GPL-2.0-or-later
"""The captures themselves, read by stock tshark without the plugin: every frame is there and every IPv4,
UDP and TCP checksum verifies (checksum status 1 = Good, 0 = Bad in Wireshark 4.0)."""

import wmmp_tshark as ws
from expected import CAPTURES, FRAME_COUNTS, PLATFORM_TCP_PORT, PLATFORM_UDP_PORT

CHECK = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
         "-d", "udp.port==%d,data" % PLATFORM_UDP_PORT, "-d", "tcp.port==%d,data" % PLATFORM_TCP_PORT]
BAD = "ip.checksum.status==0 || udp.checksum.status==0 || tcp.checksum.status==0"


class Checksums(ws.DecodeTest):
    def stock(self, args):
        return ws.run(args, plugins=False).stdout.decode("utf-8")

    def test_plugin_not_loaded(self):
        self.assertNotIn("wmmp.so", self.stock(["-G", "plugins"]))

    def test_no_bad_checksum(self):
        for name in CAPTURES:
            with self.subTest(capture=name):
                out = self.stock(["-r", ws.capture(name), "-Y", BAD] + CHECK)
                self.assertEqual(out.strip(), "", "frames with a bad checksum")

    def test_every_checksum_good(self):
        for name in CAPTURES:
            with self.subTest(capture=name):
                out = self.stock(["-r", ws.capture(name), "-T", "fields", "-E", "separator=/t", "-e", "frame.number",
                                  "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e",
                                  "tcp.checksum.status"] + CHECK)
                rows = [line.split("\t") for line in out.splitlines()]
                self.assertEqual(len(rows), FRAME_COUNTS[name])
                for number, ip, udp, tcp in rows:
                    self.assertEqual(ip, "1", "frame %s: IPv4 checksum" % number)
                    self.assertEqual(udp or tcp, "1", "frame %s: UDP/TCP checksum" % number)


if __name__ == "__main__":
    ws.main()
