# SPDX-License-Identifier: GPL-2.0-or-later
"""What tools/wmmp_gen_test_captures.c puts into the captures: the same constants, written again here so
the tests state their expectations independently of tshark's output. Change both files together.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from wmmp_testlib import crc16, crc32, tlv  # noqa: E402,F401 (used here and by the tests' star import)

T0 = 1767225600            # 2026-01-01T00:00:00Z, first packet of every capture
STEP = 0.1                 # seconds between consecutive packets
RETRY = 3.0                # response timeout before a retransmission
LOGIN_TS = T0              # timestamp in every LOGIN_ACK
PLATFORM_SEQ0 = 1001       # first platform Sequence_ID; the terminal starts at 1
TERMINAL_PORT = 40001
PLATFORM_UDP_PORT = 9992
PLATFORM_TCP_PORT = 9991

SERIAL = "A00MS8011390002S"
IMEI = "860000000000001"
IMSI = "460001234567890"
UPLINK_PASSWORD = b"12345678"
DOWNLINK_PASSWORD = b"87654321"
BASE_KEY = bytes.fromhex("0123456789abcdeffedcba98765432100011223344556677")
KEYS_UAT = ('uat:wmmp_keys:"%s","%s","%s","%s","%s","%s"'
            % (SERIAL, IMEI, IMSI, UPLINK_PASSWORD.decode(), DOWNLINK_PASSWORD.decode(), BASE_KEY.hex()))

VERSION = 0x0300
SOFTWARE_VERSION = "HT-1.0"
CELL_LAC = 0x25A0
CELL_CI = 0x1F41
CSQ = 21
HEARTBEAT_INTERVAL = 60
DEST_SERIAL = "A00MS8011390001S"
USER_TEXT = b"hello platform"
CMD_TEXT = b"LED ON"
EC_CODE = "100861"
SESSION_KEY = b"WMMP-session-key"
SESSION_KEY_EXPIRY = 86400
UNKNOWN_TAG = 0x9001
UNKNOWN_TAG_VALUE = 2150
UNKNOWN_COMMAND = 0x0077
PAPER_SIGNAL = 18
USER_TAG_UAT = 'uat:wmmp_tags:"9001","Room temperature","uint16"'

FW_NAME = "ht-2.0.1.bin"
FW_URL = "http://fw.example.com/ht-2.0.1.bin"
FW_VERSION = "2.0.1"
FW_LENGTH = 3000
FW_TRANSACTION = 123456
FW_BLOCK = 512

ECG_RATE = 250
ECG_LEAD_II = 1
ECG_RESOLUTION = 1000
PANEL_ECG_SAMPLES = 250
FRAGMENT_ECG_SAMPLES = 1000
FRAGMENT_TRANSACTION = 7
FRAGMENT_MAX_DATA = 900

ACK = 0x8000
CMD = {
    "LOGIN": 0x0001, "LOGOUT": 0x0002, "HEART_BEAT": 0x0003, "TRANSPARENT_DATA": 0x0004, "CONFIG_GET": 0x0005,
    "CONFIG_SET": 0x0006, "CONFIG_TRAP": 0x0007, "REGISTER": 0x0008, "CONFIG_REQ": 0x000A,
    "REMOTE_CTRL": 0x000B, "DOWNLOAD_INFO": 0x000C, "FILE_REQ": 0x000D, "SECURITY_CONFIG": 0x000E,
    "TRANSPARENT_CMD": 0x000F,
}


def command_id(name):
    """'LOGIN' -> 0x0001, 'LOGIN_ACK' -> 0x8001."""
    if name.endswith("_ACK"):
        return CMD[name[:-4]] | ACK
    return CMD[name]


def sync_tlvs():
    """The login sync TLVs: cell, then signal level."""
    return tlv(0x3006, struct.pack(">HH", CELL_LAC, CELL_CI)) + tlv(0x3007, bytes([CSQ]))


def signal_dbm(csq):
    return -113 + 2 * csq


def ecg_sample(i):
    return (i * 37) % 401 - 200


def firmware_image():
    img = bytearray(((i * 131 + (i >> 8)) & 0xFF) for i in range(FW_LENGTH))
    img[0:10] = b"HTFW-2.0.1"
    return bytes(img)


def health_header(record_id, measured_at):
    return b"HT" + bytes([1, 0]) + struct.pack(">II", record_id, measured_at)


def ecg_tlv(n):
    samples = b"".join(struct.pack(">h", ecg_sample(i)) for i in range(n))
    return tlv(0x0110, struct.pack(">HBH", ECG_RATE, ECG_LEAD_II, ECG_RESOLUTION) + samples)


def fragment_record():
    """The record of udp-fragmented.pcap: ECG of 1000 samples and heart rate 72."""
    return health_header(2001, T0 + 60) + ecg_tlv(FRAGMENT_ECG_SAMPLES) + tlv(0x0111, struct.pack(">H", 72))


def transparent_body(user_data, dest_tag=None, dest=b""):
    body = struct.pack(">H", crc16(user_data))
    if dest_tag is not None:
        body += tlv(dest_tag, dest)
    return body + tlv(0x4007, user_data)


# ---- the health panel (udp-health-panel.pcap) ----

PANEL_RECORD_ID = 1001
PANEL_TIME = T0 + 30
PANEL_SUBJECT = "110101199003071234"
PANEL_VITALS = {"heart_rate": 72, "temperature": 36.85, "bp.systolic": 121, "bp.diastolic": 79, "bp.mean": 93,
                "pulse_rate": 73, "spo2": 98, "resp_rate": 16}
# (analyte, unit, value x 0.001, flag): all 14 analytes of profile section 10
PANEL_LABS = [(1, 1, 142000, 0), (2, 2, 11200, 2), (3, 0, 7400, 0), (4, 3, 40000, 0), (5, 3, 95000, 0),
              (6, 2, 140000, 0), (7, 2, 3200, 1), (8, 2, 102000, 0), (9, 2, 1150, 0), (10, 4, 13500, 0),
              (11, 0, 1100, 0), (12, 4, 45000, 2), (13, 1, 1200, 3), (14, 0, 0, 0)]
PANEL_REMINDERS = [(0, "All vital signs recorded"), (1, "Drink more water"),
                   (2, "Glucose above range: repeat the test"), (3, "Fibrinogen critical: see a doctor now")]

# ---- frame layouts: (frame number, command name, Sequence_ID) ----

EVERY_COMMAND_FRAMES = [
    (1, "REGISTER", 1), (2, "REGISTER_ACK", 1), (3, "LOGIN", 2), (4, "LOGIN_ACK", 2),
    (5, "HEART_BEAT", 3), (6, "HEART_BEAT_ACK", 3), (7, "TRANSPARENT_DATA", 4), (8, "TRANSPARENT_DATA_ACK", 4),
    (9, "CONFIG_GET", 1001), (10, "CONFIG_GET_ACK", 1001), (11, "CONFIG_SET", 1002), (12, "CONFIG_SET_ACK", 1002),
    (13, "CONFIG_TRAP", 5), (14, "CONFIG_TRAP_ACK", 5), (15, "CONFIG_REQ", 6), (16, "CONFIG_REQ_ACK", 6),
    (17, "REMOTE_CTRL", 1003), (18, "REMOTE_CTRL_ACK", 1003), (19, "DOWNLOAD_INFO", 1004),
    (20, "DOWNLOAD_INFO_ACK", 1004), (21, "FILE_REQ", 7), (22, "FILE_REQ_ACK", 7),
    (23, "SECURITY_CONFIG", 1005), (24, "SECURITY_CONFIG_ACK", 1005), (25, "TRANSPARENT_CMD", 1006),
    (26, "TRANSPARENT_CMD_ACK", 1006), (27, "CONFIG_TRAP", 8), (28, "CONFIG_TRAP_ACK", 8),
    (29, UNKNOWN_COMMAND, 9), (30, "LOGOUT", 10), (31, "LOGOUT_ACK", 10),
]
UNKNOWN_TAG_FRAME = 27
UNKNOWN_COMMAND_FRAME = 29

FIGURE4_FRAMES = [
    (1, "LOGIN", 1), (2, "LOGIN_ACK", 1), (3, "HEART_BEAT", 2), (4, "HEART_BEAT_ACK", 2),
    (5, "CONFIG_SET", 1001), (6, "CONFIG_SET_ACK", 1001), (7, "TRANSPARENT_DATA", 3),
    (8, "TRANSPARENT_DATA_ACK", 3), (9, "HEART_BEAT", 4), (10, "HEART_BEAT_ACK", 4), (11, "LOGOUT", 5),
    (12, "LOGOUT_ACK", 5),
]
# Frames sent by the platform (signed with the downlink password); the others come from the terminal.
FIGURE4_DOWNLINK = {2, 4, 5, 8, 10, 12}

DIGEST_BAD_FRAMES = [(1, "LOGIN", 1), (2, "LOGIN_ACK", 1), (3, "HEART_BEAT", 2), (4, "HEART_BEAT_ACK", 2),
                     (5, "LOGOUT", 3), (6, "LOGOUT_ACK", 3)]
DIGEST_BAD_FRAME = 3

# (frame, command, sequence, Safe_Flag, class)
ENCRYPTED_FRAMES = [
    (1, "LOGIN", 1, 0xE0, 1), (2, "LOGIN_ACK", 1, 0xE0, 2), (3, "CONFIG_TRAP", 2, 0xE0, 2),
    (4, "CONFIG_TRAP_ACK", 2, 0x20, 1), (5, "HEART_BEAT", 3, 0xF0, 3), (6, "HEART_BEAT_ACK", 3, 0x20, 1),
    (7, "TRANSPARENT_DATA", 4, 0xF0, 3), (8, "TRANSPARENT_DATA_ACK", 4, 0xF0, 3), (9, "LOGOUT", 5, 0xF0, 3),
    (10, "LOGOUT_ACK", 5, 0x20, 1),
]

RETRANSMISSION_FRAMES = [
    (1, "HEART_BEAT", 1), (2, "HEART_BEAT", 1), (3, "HEART_BEAT_ACK", 1), (4, "CONFIG_TRAP", 2),
    (5, "CONFIG_TRAP_ACK", 2), (6, "CONFIG_TRAP_ACK", 2), (7, "TRANSPARENT_DATA_ACK", 99), (8, "CONFIG_REQ", 3),
]

FIRMWARE_BLOCKS = (FW_LENGTH + FW_BLOCK - 1) // FW_BLOCK

# udp-malformed.pcap: frames 1-10 each have one defect; 11 and 12 are a good HEART_BEAT exchange.
MALFORMED_FRAMES = {
    1: "10-byte datagram",
    2: "Total_Length 20",
    3: "Total_Length beyond the datagram",
    4: "TLV length runs past the end",
    5: "DIGEST flag without digest TLV",
    6: "0xE042 without DIGEST",
    7: "zero-length TLV for a tag that needs a value",
    8: "REGISTER with a truncated prefix",
    9: "fragment TLV shorter than 7 bytes",
    10: "health record with a bad TLV length",
}
MALFORMED_GOOD = [(11, "HEART_BEAT", 11), (12, "HEART_BEAT_ACK", 11)]

CAPTURES = [
    "udp-every-command.pcap", "udp-figure4-digest.pcap", "udp-digest-bad.pcap", "udp-encrypted.pcap",
    "udp-fragmented.pcap", "udp-health-panel.pcap", "udp-retransmission.pcap", "tcp-split-coalesced.pcap",
    "udp-firmware.pcap", "udp-paper-dialect.pcap", "udp-malformed.pcap",
]
FRAME_COUNTS = {
    "udp-every-command.pcap": 31, "udp-figure4-digest.pcap": 12, "udp-digest-bad.pcap": 6,
    "udp-encrypted.pcap": 10, "udp-fragmented.pcap": 6, "udp-health-panel.pcap": 2,
    "udp-retransmission.pcap": 8, "tcp-split-coalesced.pcap": 15, "udp-firmware.pcap": 2 + 2 * FIRMWARE_BLOCKS,
    "udp-paper-dialect.pcap": 4, "udp-malformed.pcap": 12,
}
