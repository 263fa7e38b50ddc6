// SPDX-License-Identifier: GPL-2.0-or-later
/* The eight-bytes-at-a-time CRCs against the byte-wise ones, on random inputs of every length and alignment. */
#include <string.h>

#include "unit.h"
#include "wmmp_crc.h"

static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void fill(uint8_t *buf, size_t n, uint32_t *s)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)next_random(s);
}

static void test_every_length_and_alignment(void)
{
    static uint8_t buf[1100];
    uint32_t s = 0x2545F491u;
    int bad = 0;
    fill(buf, sizeof buf, &s);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += len < 80 ? 1 : 37) {
            bad += wmmp_crc16(buf + off, len) != wmmp_crc16_bytewise(0xFFFF, buf + off, len);
            bad += wmmp_crc32(buf + off, len) != wmmp_crc32_update_bytewise(0, buf + off, len);
        }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_random_inputs(void)
{
    static uint8_t buf[4096];
    uint32_t s = 7;
    int bad = 0;
    for (int round = 0; round < 500; round++) {
        size_t len = next_random(&s) % sizeof buf;
        uint32_t start = next_random(&s);
        fill(buf, len, &s);
        bad += wmmp_crc16(buf, len) != wmmp_crc16_bytewise(0xFFFF, buf, len);
        bad += wmmp_crc32_update(start, buf, len) != wmmp_crc32_update_bytewise(start, buf, len);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* all-zero and all-ones blocks (the tables' first and last entries) */
static void test_constant_blocks(void)
{
    uint8_t buf[64];
    for (int v = 0; v < 256; v += 255) {
        memset(buf, v, sizeof buf);
        CU_ASSERT_EQUAL(wmmp_crc16(buf, sizeof buf), wmmp_crc16_bytewise(0xFFFF, buf, sizeof buf));
        CU_ASSERT_EQUAL(wmmp_crc32(buf, sizeof buf), wmmp_crc32_update_bytewise(0, buf, sizeof buf));
    }
}

/* CRC-32 in pieces that split the eight-byte blocks anywhere */
static void test_crc32_pieces(void)
{
    uint8_t buf[300];
    uint32_t s = 99, whole;
    fill(buf, sizeof buf, &s);
    whole = wmmp_crc32(buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 7)
        CU_ASSERT_EQUAL(wmmp_crc32_update(wmmp_crc32(buf, cut), buf + cut, sizeof buf - cut), whole);
}

static CU_TestInfo tests[] = {
    { "every length and alignment", test_every_length_and_alignment },
    { "random inputs and starting values", test_random_inputs },
    { "all-zero and all-ones blocks", test_constant_blocks },
    { "CRC-32 in pieces", test_crc32_pieces },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(crc_sliced, tests)
