/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Known-answer tests. Every expected byte below was computed outside this code base, with the shell
 * commands quoted next to it (xxd, md5sum, openssl 3.0 `enc -des-ede -nopad`, python3 zlib), from the
 * profile's rules; the codec must reproduce them exactly.
 *
 * Keys used (docs/keys/example-keys.txt has the same terminal):
 *   serial A00MS8011390002S, IMEI 860000000000001, IMSI 460001234567890,
 *   uplink password 12345678, downlink password 87654321,
 *   base key 0123456789abcdef fedcba9876543210 0011223344556677
 */
#include <string.h>

#include "unit.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_keys.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#define SERIAL "A00MS8011390002S"
#define LOGIN_ACK_TIME 0x65A0B1C2u

/*
 * LOGIN, seq 1, flag 0xA0, software version "V1.0.0", sync CRC over the two TLVs
 * (python3 -c "import zlib;print(hex(zlib.crc32(bytes.fromhex('30060004123456783007000117'))))" -> 0x6c20fedf),
 * cell LAC 0x1234 CI 0x5678, CSQ 23, digest with timestamp 0 and the uplink password:
 *   echo -n "<bytes 0..52>00000000<IMEI hex>00<IMSI hex><'12345678' hex>" | xxd -r -p | md5sum
 */
static const char *const login_hex =
    "0049 0001 00000001 0300 a0 00 4130304d533830313133393030303253"
    "56312e302e300000 6c20fedf 3006 0004 12345678 3007 0001 17"
    "e021 0010 6590afd0f9de9c660d3cd2d46e1ee849";

/*
 * LOGIN_ACK, seq 1, flag 0xE0, result 0, timestamp 0x65a0b1c2, then 0xE040 holding session key
 * 00112233445566778899aabbccddeeff (0xE03B) and expiry 86400 (0xE03D) zero-padded to 32 bytes:
 *   echo -n e03b0010001122...eeffe03d00040001518000000000 | xxd -r -p |
 *     openssl enc -des-ede -nopad -K 0123456789abcdeffedcba9876543210 | xxd -p
 * and the digest with timestamp 0x65a0b1c2 and the downlink password 87654321.
 */
static const char *const login_ack_hex =
    "0059 8001 00000001 0300 e0 00 4130304d533830313133393030303253"
    "00 65a0b1c2"
    "e040 0020 00017ce0d3f61553121eb90f8713c9d9ab07da80997b83703e7b6b9af3b9de21"
    "e021 0010 64a2dd49cea4db343dbfbb831e54dec1";

/*
 * HEART_BEAT, seq 2, flag 0xF0 (fully encrypted): body "3007 0001 17" zero-padded to 8 bytes and
 * encrypted under the session key (openssl enc -des-ede -nopad -K 00112233445566778899aabbccddeeff),
 * digest with the LOGIN_ACK timestamp and the uplink password.
 */
static const char *const heartbeat_hex =
    "003c 0003 00000002 0300 f0 00 4130304d533830313133393030303253"
    "e042 0008 0c6a59b0b8ea46b5"
    "e021 0010 72e5b45db5aff535c95244bf42375619";

static const uint8_t session_key[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                         0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

static void test_crc_check_values(void)
{
    const uint8_t check[] = "123456789";
    CU_ASSERT_EQUAL(wmmp_crc16(check, 9), 0x29B1);
    CU_ASSERT_EQUAL(wmmp_crc32(check, 9), 0xCBF43926u);
    uint8_t sync[13];
    unit_hex("30060004123456783007000117", sync, sizeof sync);
    CU_ASSERT_EQUAL(wmmp_login_sync_crc(sync, sizeof sync), 0x6c20fedfu);
}

static void test_login_encode(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t expected[128], buf[256];
    size_t n = unit_hex(login_hex, expected, sizeof expected);
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_LOGIN, 1, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST, SERIAL);
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    wmmp_login login = { "V1.0.0", 0x6c20fedf };
    wmmp_login_put(&w, &login);
    wmmp_put_tlv_u32(&w, WMMP_TAG_CELL, 0x12345678);
    wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 23);
    wmmp_signer s = { &k, WMMP_UPLINK, 0 };
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);
}

static void test_login_decode_and_verify(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t msg[128];
    size_t n = unit_hex(login_hex, msg, sizeof msg);
    wmmp_message m;
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(msg, n, &m), WMMP_OK);
    CU_ASSERT_EQUAL(m.body_len, 25);
    wmmp_msg_class cls;
    CU_ASSERT_EQUAL(wmmp_message_classify(&m, &cls), WMMP_OK);
    CU_ASSERT_EQUAL(cls, WMMP_CLASS_ACCESS);
    CU_ASSERT_EQUAL(wmmp_digest_verify(msg, n, 0, &k, WMMP_UPLINK), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_digest_verify(msg, n, 0, &k, WMMP_DOWNLINK), WMMP_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(wmmp_digest_verify(msg, n, 1, &k, WMMP_UPLINK), WMMP_ERR_DIGEST_MISMATCH);

    wmmp_reader r;
    wmmp_reader_init(&r, m.body, m.body_len);
    wmmp_login login;
    CU_ASSERT_EQUAL(wmmp_login_get(&r, &login), WMMP_OK);
    CU_ASSERT_STRING_EQUAL(login.software_version, "V1.0.0");
    CU_ASSERT_EQUAL(login.sync_crc, wmmp_crc32(r.buf + r.pos, wmmp_reader_left(&r)));

    msg[40] ^= 1; /* one flipped bit in the body: the digest no longer matches */
    CU_ASSERT_EQUAL(wmmp_digest_verify(msg, n, 0, &k, WMMP_UPLINK), WMMP_ERR_DIGEST_MISMATCH);
}

static void test_login_ack_encode(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t expected[128], buf[256], plain[64];
    size_t n = unit_hex(login_ack_hex, expected, sizeof expected);
    wmmp_writer inner;
    wmmp_writer_init(&inner, plain, sizeof plain);
    wmmp_put_tlv(&inner, WMMP_TAG_SESSION_KEY, session_key, sizeof session_key);
    wmmp_put_tlv_u32(&inner, WMMP_TAG_SESSION_KEY_EXPIRY, 86400);

    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_LOGIN | WMMP_ACK_BIT, 1, 0xE0, SERIAL);
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    wmmp_login_ack ack = { 0, LOGIN_ACK_TIME };
    wmmp_login_ack_put(&w, &ack);
    wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_TLVS, k.base_key, plain, inner.len);
    wmmp_signer s = { &k, WMMP_DOWNLINK, LOGIN_ACK_TIME };
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);
}

static void test_login_ack_learn_session_key(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t msg[128];
    size_t n = unit_hex(login_ack_hex, msg, sizeof msg);
    wmmp_message m;
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(msg, n, &m), WMMP_OK);
    wmmp_msg_class cls;
    CU_ASSERT_EQUAL(wmmp_message_classify(&m, &cls), WMMP_OK);
    CU_ASSERT_EQUAL(cls, WMMP_CLASS_ENCRYPTED);

    wmmp_reader r;
    wmmp_reader_init(&r, m.body, m.body_len);
    wmmp_login_ack ack;
    CU_ASSERT_EQUAL(wmmp_login_ack_get(&r, &ack), WMMP_OK);
    CU_ASSERT_EQUAL(ack.timestamp, LOGIN_ACK_TIME);
    CU_ASSERT_EQUAL(wmmp_digest_verify(msg, n, ack.timestamp, &k, WMMP_DOWNLINK), WMMP_OK);

    wmmp_tlv t;
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.tag, WMMP_TAG_ENCRYPTED_TLVS);
    uint8_t learned[16];
    uint32_t expiry = 0;
    CU_ASSERT_EQUAL(wmmp_session_key_from_e040(t.value, t.length, k.base_key, learned, &expiry), WMMP_OK);
    UNIT_ASSERT_BYTES(learned, session_key, 16);
    CU_ASSERT_EQUAL(expiry, 86400);
}

static void test_fully_encrypted_heartbeat(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t expected[128], buf[256];
    size_t n = unit_hex(heartbeat_hex, expected, sizeof expected);
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_HEART_BEAT, 2, 0xF0, SERIAL);
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 23);
    wmmp_msg_encrypt_body(&w, session_key);
    wmmp_signer s = { &k, WMMP_UPLINK, LOGIN_ACK_TIME };
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);

    /* and back: classify, verify, decrypt, strip the padding */
    wmmp_message m;
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(expected, n, &m), WMMP_OK);
    wmmp_msg_class cls;
    CU_ASSERT_EQUAL(wmmp_message_classify(&m, &cls), WMMP_OK);
    CU_ASSERT_EQUAL(cls, WMMP_CLASS_FULLY_ENCRYPTED);
    CU_ASSERT_EQUAL(wmmp_digest_verify(expected, n, LOGIN_ACK_TIME, &k, WMMP_UPLINK), WMMP_OK);
    uint8_t plain[8];
    CU_ASSERT_EQUAL(wmmp_decrypt(session_key, m.body + 4, 8, plain), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_unpadded_tlv_len(plain, 8), 5);
    CU_ASSERT_EQUAL(plain[4], 23);
}

static CU_TestInfo tests[] = {
    { "CRC check values and login sync CRC", test_crc_check_values },
    { "LOGIN with digest encodes to the expected bytes", test_login_encode },
    { "LOGIN decodes and its digest verifies", test_login_decode_and_verify },
    { "LOGIN_ACK with 0xE040 session key encodes to the expected bytes", test_login_ack_encode },
    { "LOGIN_ACK verifies and yields the session key", test_login_ack_learn_session_key },
    { "fully encrypted HEART_BEAT round trip", test_fully_encrypted_heartbeat },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(known_answers, tests)
