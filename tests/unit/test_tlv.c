/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bounded writer, reader and TLV layer. */
#include <string.h>

#include "unit.h"
#include "wmmp_tlv.h"

static void test_writer_round_trip(void)
{
    uint8_t buf[64], expected[64];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_put_u8(&w, 0x01);
    wmmp_put_u16(&w, 0x0203);
    wmmp_put_u32(&w, 0x04050607);
    wmmp_put_padded(&w, "AB", 4);
    wmmp_put_tlv_str(&w, 0x0002, "CMNET");
    wmmp_put_tlv_u16(&w, 0x4004, 300);
    CU_ASSERT_EQUAL(w.err, WMMP_OK);
    size_t n = unit_hex("01 0203 04050607 41420000 0002 0005 434d4e4554 4004 0002 012c", expected, sizeof expected);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);

    wmmp_reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint8_t pad[4];
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_get_u8(&r, &u8), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_get_u16(&r, &u16), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_get_u32(&r, &u32), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_get_bytes(&r, pad, 4), WMMP_OK);
    CU_ASSERT(u8 == 1 && u16 == 0x0203 && u32 == 0x04050607);
    wmmp_tlv t;
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT(t.tag == 2 && t.length == 5 && memcmp(t.value, "CMNET", 5) == 0 && t.offset == 11);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_tlv_u16(&t, &u16), WMMP_OK);
    CU_ASSERT_EQUAL(u16, 300);
    CU_ASSERT_EQUAL(wmmp_tlv_u32(&t, &u32), WMMP_ERR_TLV_BAD_LENGTH);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);
}

static void test_writer_never_overflows(void)
{
    uint8_t buf[8];
    memset(buf, 0xAA, sizeof buf);
    wmmp_writer w;
    wmmp_writer_init(&w, buf, 6);
    CU_ASSERT_EQUAL(wmmp_put_u32(&w, 1), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_put_u32(&w, 2), WMMP_ERR_NO_SPACE);
    CU_ASSERT_EQUAL(wmmp_put_u8(&w, 3), WMMP_ERR_NO_SPACE); /* sticky: fits, but nothing more is written */
    CU_ASSERT_EQUAL(w.len, 4);
    CU_ASSERT_EQUAL(buf[4], 0xAA);
    CU_ASSERT_EQUAL(buf[6], 0xAA);

    wmmp_writer_init(&w, buf, 6);
    CU_ASSERT_EQUAL(wmmp_put_tlv(&w, 1, "abc", 3), WMMP_ERR_NO_SPACE);
    CU_ASSERT_EQUAL(buf[6], 0xAA);
    wmmp_writer_init(&w, NULL, 100);
    CU_ASSERT_EQUAL(wmmp_put_u8(&w, 1), WMMP_ERR_NO_SPACE);

    static uint8_t big[70000];
    wmmp_writer_init(&w, big, sizeof big);
    CU_ASSERT_EQUAL(wmmp_put_tlv(&w, 1, big, 65536), WMMP_ERR_TOO_LONG);
    CU_ASSERT_EQUAL(w.len, 0);
}

static void test_tag_list(void)
{
    uint8_t buf[32], expected[32];
    const uint16_t tags[] = { 0x0002, 0x0011, 0x4004 };
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL(wmmp_put_tag_list(&w, tags, 3), WMMP_OK);
    size_t n = unit_hex("0002 0000 0011 0000 4004 0000", expected, sizeof expected);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);
}

static void test_reader_errors(void)
{
    uint8_t buf[16];
    size_t n = unit_hex("0001 0002 aa", buf, sizeof buf); /* value needs 2 bytes, 1 left */
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_reader_init(&r, buf, n);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_ERR_TLV_OVERRUN);
    CU_ASSERT_EQUAL(r.pos, 0);
    wmmp_reader_init(&r, buf, 3);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_ERR_TLV_TRUNCATED);
    wmmp_reader_init(&r, buf, 0);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);
    wmmp_reader_init(&r, NULL, 10);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);

    uint32_t v;
    wmmp_reader_init(&r, buf, 3);
    CU_ASSERT_EQUAL(wmmp_get_u32(&r, &v), WMMP_ERR_BODY_TRUNCATED);
    CU_ASSERT_EQUAL(r.pos, 0);
    CU_ASSERT_PTR_NULL(wmmp_get_view(&r, 4));

    size_t count;
    CU_ASSERT_EQUAL(wmmp_tlv_validate(buf, n, &count), WMMP_ERR_TLV_OVERRUN);
    CU_ASSERT_EQUAL(wmmp_tlv_find(buf, n, 0x0009, &t), WMMP_ERR_TLV_OVERRUN);
}

static void test_find_and_validate(void)
{
    uint8_t buf[32];
    size_t n = unit_hex("0001 0000 0002 0001 07 0003 0002 0102", buf, sizeof buf);
    size_t count = 0;
    CU_ASSERT_EQUAL(wmmp_tlv_validate(buf, n, &count), WMMP_OK);
    CU_ASSERT_EQUAL(count, 3);
    wmmp_tlv t;
    CU_ASSERT_EQUAL(wmmp_tlv_find(buf, n, 0x0002, &t), WMMP_OK);
    uint8_t v;
    CU_ASSERT_EQUAL(wmmp_tlv_u8(&t, &v), WMMP_OK);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(wmmp_tlv_find(buf, n, 0x0004, &t), WMMP_ERR_TLV_MISSING);
}

static void test_zero_length_and_max_length(void)
{
    static uint8_t buf[4 + 65535], value[65535];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL(wmmp_put_tlv(&w, 0x4007, value, sizeof value), WMMP_OK);
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_reader_init(&r, buf, w.len);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.length, 65535);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);
}

static CU_TestInfo tests[] = {
    { "writer and reader round trip", test_writer_round_trip },
    { "writer never writes past its capacity", test_writer_never_overflows },
    { "tag list with zero lengths", test_tag_list },
    { "reader errors and no movement on error", test_reader_errors },
    { "find and validate", test_find_and_validate },
    { "a 65535-byte value", test_zero_length_and_max_length },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(tlv, tests)
