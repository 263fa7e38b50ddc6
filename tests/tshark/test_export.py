# SPDX-License-Identifier: GPL-2.0-or-later
"""udp-firmware.pcap: DOWNLOAD_INFO and the FILE_REQ / FILE_REQ_ACK blocks decode, and
tshark --export-objects wmmp writes the firmware image byte-identical to the one the generator wrote."""

import os

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "udp-firmware.pcap"
FIELDS = ["wmmp.command", "wmmp.sequence", "wmmp.result", "wmmp.fw.url", "wmmp.fw.version", "wmmp.fw.length",
          "wmmp.fw.crc32", "wmmp.fw.transaction_id", "wmmp.file.transaction_id", "wmmp.file.status",
          "wmmp.file.offset", "wmmp.file.block_size", "wmmp.file.length", "wmmp.file.data", "wmmp.crc16",
          "wmmp.crc16.status", "wmmp.response_to", "_ws.malformed", "_ws.expert.severity"]


class Firmware(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, FIELDS)
        cls.image = firmware_image()

    def test_reference_image(self):
        with open(os.path.join(ws.CONFIG.captures, FW_NAME), "rb") as f:
            self.assertEqual(f.read(), self.image, "the generator's image differs from expected.firmware_image()")

    def test_download_info(self):
        self.assertInt(self.f, 1, "wmmp.command", command_id("DOWNLOAD_INFO"))
        self.assertField(self.f, 1, "wmmp.fw.url", FW_URL)
        self.assertField(self.f, 1, "wmmp.fw.version", FW_VERSION)
        self.assertInt(self.f, 1, "wmmp.fw.length", FW_LENGTH)
        self.assertInt(self.f, 1, "wmmp.fw.crc32", crc32(self.image))
        self.assertInt(self.f, 1, "wmmp.fw.transaction_id", FW_TRANSACTION)
        self.assertInt(self.f, 2, "wmmp.command", command_id("DOWNLOAD_INFO_ACK"))
        self.assertInt(self.f, 2, "wmmp.result", 0)

    def test_blocks(self):
        self.assertEqual(sorted(self.f), list(range(1, FRAME_COUNTS[CAP] + 1)))
        for k in range(FIRMWARE_BLOCKS):
            req, rsp = 3 + 2 * k, 4 + 2 * k
            offset = k * FW_BLOCK
            block = self.image[offset:offset + FW_BLOCK]
            with self.subTest(block=k):
                self.assertInt(self.f, req, "wmmp.command", command_id("FILE_REQ"))
                self.assertInt(self.f, req, "wmmp.sequence", k + 1)
                self.assertInt(self.f, req, "wmmp.file.transaction_id", FW_TRANSACTION)
                self.assertInt(self.f, req, "wmmp.file.status", 0)
                self.assertInt(self.f, req, "wmmp.file.offset", offset)
                self.assertInt(self.f, req, "wmmp.file.block_size", FW_BLOCK)
                self.assertInt(self.f, rsp, "wmmp.command", command_id("FILE_REQ_ACK"))
                self.assertInt(self.f, rsp, "wmmp.response_to", req)
                self.assertInt(self.f, rsp, "wmmp.file.transaction_id", FW_TRANSACTION)
                self.assertInt(self.f, rsp, "wmmp.file.status", 0)
                self.assertInt(self.f, rsp, "wmmp.file.offset", offset)
                self.assertInt(self.f, rsp, "wmmp.file.length", len(block))
                self.assertInt(self.f, rsp, "wmmp.crc16", crc16(block))
                self.assertInt(self.f, rsp, "wmmp.crc16.status", 1)
                self.assertHex(self.f, rsp, "wmmp.file.data", block)
                for n in (req, rsp):
                    self.assertAbsent(self.f, n, "_ws.malformed")
                    self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, n))

    def test_export_objects(self):
        out = ws.sandbox().writable_dir("export")
        ws.run(["-r", ws.capture(CAP), "-q", "--export-objects", "wmmp," + out])
        files = sorted(os.listdir(out))
        self.assertTrue(files, "tshark --export-objects wmmp wrote nothing")
        contents = {}
        for name in files:
            with open(os.path.join(out, name), "rb") as f:
                contents[name] = f.read()
        matching = [n for n, data in contents.items() if data == self.image]
        self.assertTrue(matching, "no exported object equals %s; exported: %s" % (
            FW_NAME, ", ".join("%s (%d bytes)" % (n, len(d)) for n, d in contents.items())))


if __name__ == "__main__":
    ws.main()
