# SPDX-License-Identifier: GPL-2.0-or-later
"""udp-every-command.pcap: the header of every message, and the body fields of every command of profile
section 5 and of its ACK (all plain, class 0), an unknown TLV and an unknown command."""

import struct

import wmmp_tshark as ws
from expected import *  # noqa: F401,F403 (the constants of the captures)

CAP = "udp-every-command.pcap"
HEADER = ["wmmp.length", "wmmp.command", "wmmp.sequence", "wmmp.version", "wmmp.safe_flag", "wmmp.reserved",
          "wmmp.terminal_id", "wmmp.class", "udp.length", "_ws.malformed", "_ws.expert.severity", "_ws.expert.group"]
BODY = """wmmp.result wmmp.register.operation wmmp.register.serial wmmp.imei wmmp.imsi wmmp.login.software_version
wmmp.login.sync_crc wmmp.login.timestamp wmmp.tlv.tag wmmp.tlv.length wmmp.tlv.value wmmp.cell.lac wmmp.cell.ci
wmmp.signal_level wmmp.signal_dbm wmmp.heartbeat_interval wmmp.crc16 wmmp.crc16.status wmmp.dest_serial
wmmp.dest_ec_code wmmp.user_data wmmp.apn wmmp.platform_ip wmmp.platform_port wmmp.report_period
wmmp.login_sync_tags wmmp.response_timeout wmmp.retry_count wmmp.system_time wmmp.alarm_code
wmmp.connect_mode wmmp.remote_ctrl.command wmmp.fw.url wmmp.fw.version wmmp.fw.length wmmp.fw.crc32
wmmp.fw.transaction_id wmmp.file.transaction_id wmmp.file.status wmmp.file.offset wmmp.file.block_size
wmmp.file.length wmmp.file.data wmmp.security.operation wmmp.security.uplink_password_expiry
wmmp.security.downlink_password_expiry wmmp.logout.reason wmmp.tlv.uint""".split()

CONFIG_GET_TAGS = [0x0002, 0x0009, 0x000A, 0x0011, 0x0025, 0x0107, 0x0108, 0x3006, 0x3007, 0x3009, 0x300D, 0x4002]


class Header(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, HEADER)

    def test_frame_count(self):
        self.assertEqual(sorted(self.f), list(range(1, FRAME_COUNTS[CAP] + 1)))

    def test_header_fields(self):
        for number, cmd, seq in EVERY_COMMAND_FRAMES:
            with self.subTest(frame=number):
                cid = cmd if isinstance(cmd, int) else command_id(cmd)
                self.assertInt(self.f, number, "wmmp.command", cid)
                self.assertInt(self.f, number, "wmmp.sequence", seq)
                # one message per datagram: Total_Length is the UDP payload
                self.assertInt(self.f, number, "wmmp.length", ws.as_int(self.value(self.f, number, "udp.length")) - 8)
                self.assertInt(self.f, number, "wmmp.version", VERSION)
                self.assertInt(self.f, number, "wmmp.safe_flag", 0)
                self.assertInt(self.f, number, "wmmp.reserved", 0)
                self.assertInt(self.f, number, "wmmp.class", 0)
                # REGISTER and its ACK travel before the terminal has a serial (all zero)
                self.assertField(self.f, number, "wmmp.terminal_id", "" if number in (1, 2) else SERIAL)

    def test_unknown_command_flagged(self):
        groups = [ws.as_int(g) for g in self.values(self.f, UNKNOWN_COMMAND_FRAME, "_ws.expert.group")]
        self.assertTrue([g for g in groups if g != ws.GROUP_SEQUENCE],
                        "frame %d: an unknown command should carry an expert item" % UNKNOWN_COMMAND_FRAME)

    def test_no_malformed_or_error(self):
        for number, _, _ in EVERY_COMMAND_FRAMES:
            with self.subTest(frame=number):
                self.assertAbsent(self.f, number, "_ws.malformed")
                self.assertNotIn(ws.SEVERITY_ERROR, self.severities(self.f, number))


class Bodies(ws.DecodeTest):
    @classmethod
    def setUpClass(cls):
        cls.f = ws.decode(CAP, BODY)

    def test_register(self):
        self.assertInt(self.f, 1, "wmmp.register.operation", 0)
        self.assertField(self.f, 1, "wmmp.imei", IMEI)
        self.assertField(self.f, 1, "wmmp.imsi", IMSI)
        self.assertInt(self.f, 2, "wmmp.result", 0)
        self.assertField(self.f, 2, "wmmp.register.serial", SERIAL)

    def test_login(self):
        self.assertField(self.f, 3, "wmmp.login.software_version", SOFTWARE_VERSION)
        self.assertInt(self.f, 3, "wmmp.login.sync_crc", crc32(sync_tlvs()))
        self.assertInts(self.f, 3, "wmmp.tlv.tag", [0x3006, 0x3007])
        self.assertInts(self.f, 3, "wmmp.cell.lac", [CELL_LAC])
        self.assertInts(self.f, 3, "wmmp.cell.ci", [CELL_CI])
        self.assertInt(self.f, 3, "wmmp.signal_level", CSQ)
        self.assertInt(self.f, 3, "wmmp.signal_dbm", signal_dbm(CSQ))

    def test_login_ack(self):
        self.assertInt(self.f, 4, "wmmp.result", 0)
        self.assertTime(self.f, 4, "wmmp.login.timestamp", LOGIN_TS)
        self.assertInt(self.f, 4, "wmmp.heartbeat_interval", HEARTBEAT_INTERVAL)

    def test_heart_beat(self):
        self.assertInt(self.f, 5, "wmmp.signal_level", CSQ)
        self.assertInt(self.f, 5, "wmmp.signal_dbm", signal_dbm(CSQ))
        self.assertAbsent(self.f, 6, "wmmp.result")
        self.assertAbsent(self.f, 6, "wmmp.tlv.tag")

    def test_transparent_data(self):
        self.assertInt(self.f, 7, "wmmp.crc16", crc16(USER_TEXT))
        self.assertInt(self.f, 7, "wmmp.crc16.status", 1)
        self.assertField(self.f, 7, "wmmp.dest_serial", DEST_SERIAL)
        self.assertHex(self.f, 7, "wmmp.user_data", USER_TEXT)
        self.assertInt(self.f, 8, "wmmp.result", 0)

    def test_config_get(self):
        self.assertInts(self.f, 9, "wmmp.tlv.tag", CONFIG_GET_TAGS)
        self.assertInts(self.f, 9, "wmmp.tlv.length", [0] * len(CONFIG_GET_TAGS))

    def test_config_get_ack(self):
        n = 10
        self.assertInt(self.f, n, "wmmp.result", 0)
        self.assertInts(self.f, n, "wmmp.tlv.tag", CONFIG_GET_TAGS)
        self.assertField(self.f, n, "wmmp.apn", "CMNET")
        self.assertField(self.f, n, "wmmp.platform_ip", "10.0.0.1")
        self.assertInt(self.f, n, "wmmp.platform_port", PLATFORM_UDP_PORT)
        self.assertInt(self.f, n, "wmmp.report_period", 300)
        self.assertInts(self.f, n, "wmmp.login_sync_tags", [0x3006, 0x3007])
        self.assertInt(self.f, n, "wmmp.response_timeout", 3)
        self.assertInt(self.f, n, "wmmp.retry_count", 3)
        self.assertInt(self.f, n, "wmmp.cell.lac", CELL_LAC)
        self.assertInt(self.f, n, "wmmp.cell.ci", CELL_CI)
        self.assertInt(self.f, n, "wmmp.signal_level", CSQ)
        self.assertInt(self.f, n, "wmmp.signal_dbm", signal_dbm(CSQ))
        self.assertTime(self.f, n, "wmmp.system_time", T0)
        self.assertInt(self.f, n, "wmmp.alarm_code", 0)
        self.assertInt(self.f, n, "wmmp.connect_mode", 1)

    def test_config_set(self):
        self.assertInt(self.f, 11, "wmmp.heartbeat_interval", 120)
        self.assertInt(self.f, 11, "wmmp.platform_port", 9993)
        # rejected: result 8 and the rejected tag with length 0
        self.assertInt(self.f, 12, "wmmp.result", 8)
        self.assertInts(self.f, 12, "wmmp.tlv.tag", [0x000A])
        self.assertInts(self.f, 12, "wmmp.tlv.length", [0])
        self.assertAbsent(self.f, 12, "wmmp.platform_port")

    def test_config_trap(self):
        self.assertInt(self.f, 13, "wmmp.cell.lac", CELL_LAC)
        self.assertInt(self.f, 13, "wmmp.cell.ci", CELL_CI)
        self.assertInt(self.f, 13, "wmmp.signal_level", CSQ)
        self.assertTime(self.f, 13, "wmmp.system_time", T0)
        self.assertInt(self.f, 13, "wmmp.alarm_code", 1)
        self.assertInt(self.f, 14, "wmmp.result", 0)

    def test_config_req(self):
        self.assertInts(self.f, 15, "wmmp.tlv.tag", [0x0002, 0x4004])
        self.assertInts(self.f, 15, "wmmp.tlv.length", [0, 0])
        self.assertInt(self.f, 16, "wmmp.result", 0)
        self.assertField(self.f, 16, "wmmp.apn", "CMNET")
        self.assertInt(self.f, 16, "wmmp.heartbeat_interval", 120)

    def test_remote_ctrl(self):
        self.assertInt(self.f, 17, "wmmp.remote_ctrl.command", 2)
        self.assertInt(self.f, 18, "wmmp.result", 0)

    def test_download_info(self):
        image = firmware_image()
        self.assertField(self.f, 19, "wmmp.fw.url", FW_URL)
        self.assertField(self.f, 19, "wmmp.fw.version", FW_VERSION)
        self.assertInt(self.f, 19, "wmmp.fw.length", FW_LENGTH)
        self.assertInt(self.f, 19, "wmmp.fw.crc32", crc32(image))
        self.assertInt(self.f, 19, "wmmp.fw.transaction_id", FW_TRANSACTION)
        self.assertInt(self.f, 20, "wmmp.result", 0)

    def test_file_req(self):
        block = firmware_image()[:FW_BLOCK]
        self.assertInt(self.f, 21, "wmmp.file.transaction_id", FW_TRANSACTION)
        self.assertInt(self.f, 21, "wmmp.file.status", 0)
        self.assertInt(self.f, 21, "wmmp.file.offset", 0)
        self.assertInt(self.f, 21, "wmmp.file.block_size", FW_BLOCK)
        self.assertInt(self.f, 22, "wmmp.file.transaction_id", FW_TRANSACTION)
        self.assertInt(self.f, 22, "wmmp.file.status", 0)
        self.assertInt(self.f, 22, "wmmp.crc16", crc16(block))
        self.assertInt(self.f, 22, "wmmp.crc16.status", 1)
        self.assertInt(self.f, 22, "wmmp.file.offset", 0)
        self.assertInt(self.f, 22, "wmmp.file.length", FW_BLOCK)
        self.assertHex(self.f, 22, "wmmp.file.data", block)
        self.assertAbsent(self.f, 22, "wmmp.tlv.tag")  # a data block, not TLVs

    def test_security_config(self):
        self.assertInt(self.f, 23, "wmmp.security.operation", 1)
        self.assertInt(self.f, 23, "wmmp.security.uplink_password_expiry", 2592000)
        self.assertInt(self.f, 23, "wmmp.security.downlink_password_expiry", 2592000)
        self.assertInt(self.f, 24, "wmmp.result", 0)

    def test_transparent_cmd(self):
        self.assertInt(self.f, 25, "wmmp.crc16", crc16(CMD_TEXT))
        self.assertInt(self.f, 25, "wmmp.crc16.status", 1)
        self.assertField(self.f, 25, "wmmp.dest_ec_code", EC_CODE)
        self.assertHex(self.f, 25, "wmmp.user_data", CMD_TEXT)
        self.assertInt(self.f, 26, "wmmp.result", 0)

    def test_unknown_tlv(self):
        n = UNKNOWN_TAG_FRAME
        self.assertInts(self.f, n, "wmmp.tlv.tag", [0x3007, UNKNOWN_TAG])
        self.assertInt(self.f, n, "wmmp.signal_level", CSQ)
        values = [ws.as_hex(v) for v in self.values(self.f, n, "wmmp.tlv.value")]
        self.assertIn(struct.pack(">H", UNKNOWN_TAG_VALUE).hex(), values, "frame %d: raw value of tag 0x9001" % n)
        self.assertAbsent(self.f, n, "wmmp.tlv.uint")  # typed only once the user names it (test_dialect)

    def test_unknown_command(self):
        n = UNKNOWN_COMMAND_FRAME
        self.assertInts(self.f, n, "wmmp.tlv.tag", [0x3007])  # the body as raw TLVs

    def test_logout(self):
        self.assertInt(self.f, 30, "wmmp.logout.reason", 0)
        self.assertAbsent(self.f, 31, "wmmp.result")


if __name__ == "__main__":
    ws.main()
