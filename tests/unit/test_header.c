/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The 28-byte header, the heuristic signature and the sequence counter. */
#include <string.h>

#include "unit.h"
#include "wmmp_header.h"
#include "wmmp_tables.h"

/* The real fragment-abort example of profile section 8. */
static const char *const abort_example =
    "0027 8005 00000005 0300 10 00 41485731303030313038414231323334 4008 0007 0000 0003 0003 02";

static void test_decode_real_example(void)
{
    uint8_t msg[64];
    size_t n = unit_hex(abort_example, msg, sizeof msg);
    CU_ASSERT_EQUAL(n, 0x27);
    wmmp_header h;
    CU_ASSERT_EQUAL_FATAL(wmmp_header_decode(msg, n, &h), WMMP_OK);
    CU_ASSERT_EQUAL(h.total_length, 0x27);
    CU_ASSERT_EQUAL(h.command_id, 0x8005);
    CU_ASSERT_EQUAL(h.sequence_id, 5);
    CU_ASSERT_EQUAL(h.version, 0x0300);
    CU_ASSERT_EQUAL(h.safe_flag, WMMP_FLAG_ENCRYPTED_OR_FRAGMENT);
    CU_ASSERT_EQUAL(h.reserved, 0);
    char serial[17];
    wmmp_serial_str(h.terminal_serial, serial);
    CU_ASSERT_STRING_EQUAL(serial, "AHW1000108AB1234");
    CU_ASSERT(wmmp_header_plausible(msg, n));
}

static void test_encode_round_trip(void)
{
    wmmp_header h, back;
    wmmp_header_init(&h, WMMP_CMD_CONFIG_SET, 0xFFFFFFFFu, 0x20, "A00MS8011390002S");
    h.total_length = 28;
    uint8_t buf[WMMP_HEADER_LEN];
    wmmp_header_encode(&h, buf);
    CU_ASSERT_EQUAL(wmmp_header_decode(buf, sizeof buf, &back), WMMP_OK);
    CU_ASSERT_EQUAL(memcmp(&h, &back, sizeof h), 0);
    CU_ASSERT_EQUAL(buf[8], 0x03);
    CU_ASSERT_EQUAL(buf[9], 0x00);
}

static void test_unregistered_serial_is_zero(void)
{
    wmmp_header h;
    wmmp_header_init(&h, WMMP_CMD_REGISTER, 1, 0, NULL);
    for (int i = 0; i < WMMP_SERIAL_LEN; i++)
        CU_ASSERT_EQUAL(h.terminal_serial[i], 0);
}

static void test_length_errors(void)
{
    uint8_t msg[64];
    size_t n = unit_hex(abort_example, msg, sizeof msg);
    wmmp_header h;
    for (size_t len = 0; len < WMMP_HEADER_LEN; len++)
        CU_ASSERT_EQUAL(wmmp_header_decode(msg, len, &h), WMMP_ERR_TRUNCATED_HEADER);
    CU_ASSERT_EQUAL(wmmp_header_decode(NULL, 100, &h), WMMP_ERR_TRUNCATED_HEADER);
    CU_ASSERT_EQUAL(wmmp_header_decode(msg, n - 1, &h), WMMP_ERR_LENGTH_BEYOND_BUFFER);
    CU_ASSERT_EQUAL(h.command_id, 0x8005); /* still filled for display */
    msg[0] = 0;
    msg[1] = 27;
    CU_ASSERT_EQUAL(wmmp_header_decode(msg, n, &h), WMMP_ERR_LENGTH_TOO_SMALL);
    CU_ASSERT_FALSE(wmmp_header_plausible(msg, n));
}

static void test_plausible(void)
{
    uint8_t msg[64];
    size_t n = unit_hex(abort_example, msg, sizeof msg);
    msg[8] = 0x02; /* version 2.x is accepted by the signature */
    CU_ASSERT(wmmp_header_plausible(msg, n));
    msg[8] = 0x04;
    CU_ASSERT_FALSE(wmmp_header_plausible(msg, n));
    msg[8] = 0x03;
    msg[11] = 1; /* reserved must be 0 */
    CU_ASSERT_FALSE(wmmp_header_plausible(msg, n));
    msg[11] = 0;
    msg[3] = 0x09; /* 0x8009: unknown command */
    CU_ASSERT_FALSE(wmmp_header_plausible(msg, n));
}

static void test_sequence_wraps(void)
{
    wmmp_seq s = { 0xFFFFFFFEu };
    CU_ASSERT_EQUAL(wmmp_seq_take(&s), 0xFFFFFFFEu);
    CU_ASSERT_EQUAL(wmmp_seq_take(&s), 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(wmmp_seq_take(&s), 0u);
    CU_ASSERT_EQUAL(wmmp_seq_take(&s), 1u);
}

static CU_TestInfo tests[] = {
    { "decode the real fragment-abort example", test_decode_real_example },
    { "encode/decode round trip", test_encode_round_trip },
    { "serial is all zero before registration", test_unregistered_serial_is_zero },
    { "truncated header and bad Total_Length", test_length_errors },
    { "heuristic signature", test_plausible },
    { "sequence counter wraps to 0", test_sequence_wraps },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(header, tests)
