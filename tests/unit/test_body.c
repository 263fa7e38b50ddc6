/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Body prefixes of section 5: encode/decode round trips and their exact bytes. */
#include <string.h>

#include "unit.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_tables.h"

static void test_register_round_trip(void)
{
    uint8_t buf[64], expected[64];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_register reg = { 0, "860000000000001", "460001234567890" };
    CU_ASSERT_EQUAL(wmmp_register_put(&w, &reg), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, (size_t)wmmp_command_prefix_len(WMMP_CMD_REGISTER));
    size_t n = unit_hex("00 383630303030303030303030303031 00 343630303031323334353637383930", expected,
                        sizeof expected);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);

    wmmp_reader r;
    wmmp_register back;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_register_get(&r, &back), WMMP_OK);
    CU_ASSERT_STRING_EQUAL(back.imei, "860000000000001");
    CU_ASSERT_STRING_EQUAL(back.imsi, "460001234567890");
    CU_ASSERT_EQUAL(wmmp_reader_left(&r), 0);
}

static void test_register_ack_round_trip(void)
{
    uint8_t buf[32];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_register_ack ack = { 0, "A00MS8011390002S" };
    CU_ASSERT_EQUAL(wmmp_register_ack_put(&w, &ack), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, 17);
    wmmp_reader r;
    wmmp_register_ack back;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_register_ack_get(&r, &back), WMMP_OK);
    CU_ASSERT_STRING_EQUAL(back.serial, "A00MS8011390002S");
}

static void test_login_round_trip(void)
{
    uint8_t buf[32];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_login l = { "HT-2.4.1", 0xDEADBEEF }; /* exactly 8 characters: no NUL on the wire */
    CU_ASSERT_EQUAL(wmmp_login_put(&w, &l), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, 12);
    CU_ASSERT_EQUAL(buf[7], '1');
    wmmp_reader r;
    wmmp_login back;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_login_get(&r, &back), WMMP_OK);
    CU_ASSERT_STRING_EQUAL(back.software_version, "HT-2.4.1");
    CU_ASSERT_EQUAL(back.sync_crc, 0xDEADBEEF);

    wmmp_login_ack a = { 1, 1700000000 }, ab;
    wmmp_writer_init(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL(wmmp_login_ack_put(&w, &a), WMMP_OK);
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_login_ack_get(&r, &ab), WMMP_OK);
    CU_ASSERT(ab.result == 1 && ab.timestamp == 1700000000);
}

static void test_file_req_round_trip(void)
{
    uint8_t buf[64], expected[64];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_file_req q = { 0x01020304, 0, 512, 256 };
    CU_ASSERT_EQUAL(wmmp_file_req_put(&w, &q), WMMP_OK);
    size_t n = unit_hex("01020304 00 00000200 0100", expected, sizeof expected);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);
    wmmp_reader r;
    wmmp_file_req qb;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_file_req_get(&r, &qb), WMMP_OK);
    CU_ASSERT(qb.transaction_id == 0x01020304 && qb.offset == 512 && qb.block_size == 256);
}

static void test_file_ack_round_trip_and_crc(void)
{
    const uint8_t block[] = "123456789"; /* 9 bytes, without the NUL */
    uint8_t buf[64], expected[64];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_file_ack a = { 7, 0, 0, 18, sizeof block - 1, block };
    CU_ASSERT_EQUAL(wmmp_file_ack_put(&w, &a), WMMP_OK);
    /* CRC-16 of "123456789" is the check value 0x29B1 */
    size_t n = unit_hex("00000007 00 29b1 00000012 0009 313233343536373839", expected, sizeof expected);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);

    wmmp_reader r;
    wmmp_file_ack back;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_file_ack_get(&r, &back), WMMP_OK);
    CU_ASSERT_EQUAL(back.length, 9);
    UNIT_ASSERT_BYTES(back.data, block, 9);

    buf[20] ^= 0xFF; /* corrupt the data: CRC mismatch */
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_file_ack_get(&r, &back), WMMP_ERR_CRC_MISMATCH);
    wmmp_reader_init(&r, buf, w.len - 1); /* length says 9, only 8 there */
    CU_ASSERT_EQUAL(wmmp_file_ack_get(&r, &back), WMMP_ERR_BODY_TRUNCATED);
}

static void test_transparent_round_trip(void)
{
    const uint8_t data[] = { 'H', 'T', 1, 0 };
    uint8_t buf[64], expected[64];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_transparent t = { 0, WMMP_TAG_DEST_EC_CODE, (const uint8_t *)"EC01", 4, data, sizeof data };
    CU_ASSERT_EQUAL(wmmp_transparent_put(&w, &t), WMMP_OK);
    uint16_t crc = wmmp_crc16(data, sizeof data);
    uint8_t crc_bytes[2] = { (uint8_t)(crc >> 8), (uint8_t)crc };
    size_t n = unit_hex("0000 4014 0004 45433031 4007 0004 48540100", expected, sizeof expected);
    memcpy(expected, crc_bytes, 2);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);

    wmmp_reader r;
    wmmp_transparent back;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_transparent_get(&r, &back), WMMP_OK);
    CU_ASSERT_EQUAL(back.dest_tag, WMMP_TAG_DEST_EC_CODE);
    CU_ASSERT_EQUAL(back.user_data_len, 4);

    buf[0] ^= 1;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_transparent_get(&r, &back), WMMP_ERR_CRC_MISMATCH);
    wmmp_reader_init(&r, buf, 2 + 8); /* no user-data TLV */
    CU_ASSERT_EQUAL(wmmp_transparent_get(&r, &back), WMMP_ERR_TLV_MISSING);
}

static void test_tag_list_get(void)
{
    uint8_t buf[32];
    uint16_t tags[2];
    size_t count;
    wmmp_reader r;
    size_t n = unit_hex("0002 0000 0011 0000", buf, sizeof buf);
    wmmp_reader_init(&r, buf, n);
    CU_ASSERT_EQUAL(wmmp_tag_list_get(&r, tags, 2, &count), WMMP_OK);
    CU_ASSERT(count == 2 && tags[0] == 2 && tags[1] == 0x11);
    n = unit_hex("0002 0000 0011 0000 4004 0000", buf, sizeof buf);
    wmmp_reader_init(&r, buf, n);
    CU_ASSERT_EQUAL(wmmp_tag_list_get(&r, tags, 2, &count), WMMP_ERR_NO_SPACE);
    n = unit_hex("0002 0001 00", buf, sizeof buf);
    wmmp_reader_init(&r, buf, n);
    CU_ASSERT_EQUAL(wmmp_tag_list_get(&r, tags, 2, &count), WMMP_ERR_TLV_BAD_LENGTH);
}

static void test_every_prefix_truncation(void)
{
    uint8_t buf[64];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_register reg = { 1, "860000000000001", "460001234567890" };
    wmmp_register_put(&w, &reg);
    for (size_t len = 0; len < w.len; len++) {
        wmmp_reader r;
        wmmp_register back;
        wmmp_reader_init(&r, buf, len);
        CU_ASSERT_EQUAL(wmmp_register_get(&r, &back), WMMP_ERR_BODY_TRUNCATED);
    }
    for (size_t len = 0; len < 12; len++) {
        wmmp_reader r;
        wmmp_login back;
        wmmp_reader_init(&r, buf, len);
        CU_ASSERT_EQUAL(wmmp_login_get(&r, &back), WMMP_ERR_BODY_TRUNCATED);
    }
}

static CU_TestInfo tests[] = {
    { "REGISTER round trip and bytes", test_register_round_trip },
    { "REGISTER_ACK round trip", test_register_ack_round_trip },
    { "LOGIN and LOGIN_ACK round trip", test_login_round_trip },
    { "FILE_REQ round trip and bytes", test_file_req_round_trip },
    { "FILE_REQ_ACK round trip and CRC check", test_file_ack_round_trip_and_crc },
    { "TRANSPARENT_DATA round trip and CRC check", test_transparent_round_trip },
    { "tag lists", test_tag_list_get },
    { "every truncation of a prefix is an error", test_every_prefix_truncation },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(body, tests)
