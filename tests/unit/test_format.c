/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text decoder used by the tools and the emulator's logs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "wmmp_format.h"
#include "wmmp_keys.h"

#define SERIAL_HEX "4130304d533830313133393030303253"

/* The known-answer LOGIN, LOGIN_ACK and fully encrypted HEART_BEAT (test_known_answers.c). */
static const char *const session[] = {
    "0049 0001 00000001 0300 a0 00 " SERIAL_HEX "56312e302e300000 6c20fedf 3006 0004 12345678 3007 0001 17"
    "e021 0010 6590afd0f9de9c660d3cd2d46e1ee849",
    "0059 8001 00000001 0300 e0 00 " SERIAL_HEX "00 65a0b1c2"
    "e040 0020 00017ce0d3f61553121eb90f8713c9d9ab07da80997b83703e7b6b9af3b9de21"
    "e021 0010 64a2dd49cea4db343dbfbb831e54dec1",
    "003c 0003 00000002 0300 f0 00 " SERIAL_HEX "e042 0008 0c6a59b0b8ea46b5"
    "e021 0010 72e5b45db5aff535c95244bf42375619",
};

/* Decodes the session with a decoder and returns everything printed (caller frees). */
static char *decode_session(const wmmp_keyring *kr)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    wmmp_decoder d;
    wmmp_decoder_init(&d, kr, WMMP_DIALECT_WMMP3);
    for (size_t i = 0; i < sizeof session / sizeof session[0]; i++) {
        uint8_t msg[128];
        size_t n = unit_hex(session[i], msg, sizeof msg);
        wmmp_format_message(out, &d, msg, n);
    }
    fclose(out);
    return text;
}

static void test_summary_lines(void)
{
    uint8_t msg[128];
    char s[160];
    size_t n = unit_hex(session[1], msg, sizeof msg);
    wmmp_format_summary(s, sizeof s, msg, n);
    CU_ASSERT_STRING_EQUAL(s, "LOGIN_ACK seq=1 A00MS8011390002S result=Success");
    n = unit_hex("001d 0002 00000007 0300 00 00 " SERIAL_HEX "01", msg, sizeof msg);
    wmmp_format_summary(s, sizeof s, msg, n);
    CU_ASSERT_STRING_EQUAL(s, "LOGOUT seq=7 A00MS8011390002S reason=Communication failure");
    n = unit_hex("001c 0008 00000001 0300 00 00 00000000000000000000000000000000", msg, sizeof msg);
    wmmp_format_summary(s, sizeof s, msg, n);
    CU_ASSERT_STRING_EQUAL(s, "REGISTER seq=1 (unregistered)");
    wmmp_format_summary(s, sizeof s, msg, 10);
    CU_ASSERT_STRING_EQUAL(s, "[truncated header: fewer than 28 bytes]");
    wmmp_format_summary(s, 12, msg, n); /* truncated output stays a string */
    CU_ASSERT_EQUAL(strlen(s), 11);
}

static void test_with_keys(void)
{
    wmmp_keyring kr = { 0 };
    wmmp_terminal_keys k;
    CU_ASSERT_EQUAL_FATAL(wmmp_keys_parse_line(UNIT_KEYS_LINE, &k, NULL, 0), WMMP_OK);
    wmmp_keyring_add(&kr, &k);
    char *text = decode_session(&kr);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "LOGIN seq=1 A00MS8011390002S\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "software version: \"V1.0.0\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLV 0x3007 Signal level (1): CSQ 23 (-67 dBm)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLV 0x3006 Cell (LAC, Cell ID) (4): LAC 0x1234, Cell ID 0x5678"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "6590afd0f9de9c660d3cd2d46e1ee849 good (uplink password)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "64a2dd49cea4db343dbfbb831e54dec1 good (downlink password)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLV 0xe03b Session key (16): 00112233445566778899aabbccddeeff"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "class: Fully encrypted\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "decrypted with the session key"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "72e5b45db5aff535c95244bf42375619 good (uplink password)"));
    CU_ASSERT_PTR_NULL(strstr(text, "BAD"));
    free(text);
    wmmp_keyring_free(&kr);
}

static void test_without_keys(void)
{
    char *text = decode_session(NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "unverified (no keys)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLV 0xe040 Encrypted TLVs (base key) (32): 32 bytes of ciphertext\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "Session key (16)"));
    free(text);
}

static void test_bad_digest_is_reported(void)
{
    wmmp_keyring kr = { 0 };
    wmmp_terminal_keys k;
    CU_ASSERT_EQUAL_FATAL(wmmp_keys_parse_line(UNIT_KEYS_LINE, &k, NULL, 0), WMMP_OK);
    k.uplink_password[0] = 'X';
    wmmp_keyring_add(&kr, &k);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    wmmp_decoder d;
    wmmp_decoder_init(&d, &kr, WMMP_DIALECT_WMMP3);
    uint8_t msg[128];
    size_t n = unit_hex(session[0], msg, sizeof msg);
    wmmp_format_message(out, &d, msg, n);
    fclose(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, " BAD\n"));
    free(text);
    wmmp_keyring_free(&kr);
}

static void test_paper_dialect(void)
{
    uint8_t msg[64];
    size_t n = unit_hex("0021 0003 00000001 0300 00 00 " SERIAL_HEX "0002 0001 14", msg, sizeof msg);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    wmmp_decoder d;
    wmmp_decoder_init(&d, NULL, WMMP_DIALECT_PAPER);
    wmmp_format_message(out, &d, msg, n);
    wmmp_decoder_init(&d, NULL, WMMP_DIALECT_WMMP3);
    wmmp_format_message(out, &d, msg, n);
    fclose(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Signal level (paper dialect) (1): CSQ 20 (-73 dBm)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLV 0x0002 M2M APN (1): 14"));
    free(text);
}

static CU_TestInfo tests[] = {
    { "summary lines", test_summary_lines },
    { "with keys: digests good, session key learned, body decrypted", test_with_keys },
    { "without keys: unverified, ciphertext shown", test_without_keys },
    { "a bad digest is reported", test_bad_digest_is_reported },
    { "the paper dialect reads 0x0002 as the signal level", test_paper_dialect },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(format, tests)
