/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CRC-16/CCITT-FALSE and CRC-32 against independent reference values. */
#include <string.h>

#include "unit.h"
#include "wmmp_crc.h"

static void test_check_values(void)
{
    const uint8_t *check = (const uint8_t *)"123456789";
    CU_ASSERT_EQUAL(wmmp_crc16(check, 9), 0x29B1);
    CU_ASSERT_EQUAL(wmmp_crc32(check, 9), 0xCBF43926u);
}

static void test_empty_input(void)
{
    CU_ASSERT_EQUAL(wmmp_crc16(NULL, 0), 0xFFFF);
    CU_ASSERT_EQUAL(wmmp_crc32(NULL, 0), 0);
}

/* python3: zlib.crc32(b"The quick brown fox jumps over the lazy dog") == 0x414fa339;
 * CRC-16/CCITT-FALSE of the same text is 0x8FDD (a bit-by-bit python3 loop: poly 0x1021, init 0xFFFF). */
static void test_longer_text(void)
{
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CU_ASSERT_EQUAL(wmmp_crc32((const uint8_t *)fox, strlen(fox)), 0x414FA339u);
    CU_ASSERT_EQUAL(wmmp_crc16((const uint8_t *)fox, strlen(fox)), 0x8FDD);
}

static void test_crc32_chains(void)
{
    const uint8_t *check = (const uint8_t *)"123456789";
    uint32_t c = wmmp_crc32_update(0, check, 4);
    c = wmmp_crc32_update(c, check + 4, 5);
    CU_ASSERT_EQUAL(c, 0xCBF43926u);
}

static CU_TestInfo tests[] = {
    { "check values of section 13", test_check_values },
    { "empty input", test_empty_input },
    { "a longer text", test_longer_text },
    { "CRC-32 can be computed in pieces", test_crc32_chains },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(crc, tests)
