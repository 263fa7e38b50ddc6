/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every malformed-input class returns its own error, and no input whatever makes a decoder crash or
 * read outside its buffer (run under valgrind and ASan/UBSan in CI to make the second part bite).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "wmmp_body.h"
#include "wmmp_format.h"
#include "wmmp_fragment.h"
#include "wmmp_health.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#define SERIAL_HEX "4130304d533830313133393030303253"

/* A LOGIN_ACK with 0xE040 and digest (from test_known_answers.c). */
static const char *const login_ack_hex =
    "0059 8001 00000001 0300 e0 00 " SERIAL_HEX "00 65a0b1c2"
    "e040 0020 00017ce0d3f61553121eb90f8713c9d9ab07da80997b83703e7b6b9af3b9de21"
    "e021 0010 64a2dd49cea4db343dbfbb831e54dec1";

static void test_each_error_class(void)
{
    uint8_t b[128];
    wmmp_message m;
    wmmp_header h;
    size_t n;

    n = unit_hex("0020 0003 00000001 0300 00 00", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_message_parse(b, n, &m), WMMP_ERR_TRUNCATED_HEADER);
    n = unit_hex("0010 0003 00000001 0300 00 00" SERIAL_HEX, b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_header_decode(b, n, &h), WMMP_ERR_LENGTH_TOO_SMALL);
    n = unit_hex("0030 0003 00000001 0300 00 00" SERIAL_HEX "3007 0001 17", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_message_parse(b, n, &m), WMMP_ERR_LENGTH_BEYOND_BUFFER);

    /* a TLV running past the end of the body */
    n = unit_hex("0021 0003 00000001 0300 00 00" SERIAL_HEX "3007 0009 17", b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(b, n, &m), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_tlv_validate(m.body, m.body_len, NULL), WMMP_ERR_TLV_OVERRUN);
    /* fewer than 4 bytes left for a TLV header */
    n = unit_hex("0023 0003 00000001 0300 00 00" SERIAL_HEX "3007 0001 17 3007", b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(b, n, &m), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_tlv_validate(m.body, m.body_len, NULL), WMMP_ERR_TLV_TRUNCATED);
    /* DIGEST set, no digest TLV */
    n = unit_hex("0021 0003 00000001 0300 20 00" SERIAL_HEX "3007 0001 17", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_message_parse(b, n, &m), WMMP_ERR_DIGEST_MISSING);
    /* body shorter than the command's prefix (LOGIN needs 12 bytes) */
    n = unit_hex("0021 0001 00000001 0300 00 00" SERIAL_HEX "5631 2e30 00", b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(b, n, &m), WMMP_OK);
    wmmp_reader r;
    CU_ASSERT_EQUAL(wmmp_message_tlvs(&m, &r), WMMP_ERR_BODY_TRUNCATED);
    wmmp_login login;
    wmmp_reader_init(&r, m.body, m.body_len);
    CU_ASSERT_EQUAL(wmmp_login_get(&r, &login), WMMP_ERR_BODY_TRUNCATED);
    /* 0xE042 without DIGEST */
    n = unit_hex("0028 0003 00000001 0300 50 00" SERIAL_HEX "e042 0008 0c6a59b0b8ea46b5", b, sizeof b);
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(b, n, &m), WMMP_OK);
    wmmp_msg_class cls;
    CU_ASSERT_EQUAL(wmmp_message_classify(&m, &cls), WMMP_ERR_FLAG_CONTENT_MISMATCH);
    /* ciphertext not a multiple of 8 */
    uint8_t out[8];
    CU_ASSERT_EQUAL(wmmp_decrypt((const uint8_t *)"0123456789abcdef", b, 7, out), WMMP_ERR_CIPHER_LENGTH);
    /* fragment and health errors */
    wmmp_fragment f;
    CU_ASSERT_EQUAL(wmmp_fragment_decode(b, 6, &f), WMMP_ERR_FRAGMENT_TRUNCATED);
    n = unit_hex("0001 0002 0003 00", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_fragment_decode(b, n, &f), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    wmmp_health_record hr;
    n = unit_hex("4854 02 00 00000001 00000000", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &hr), WMMP_ERR_HEALTH_BAD_VERSION);
    n = unit_hex("4855 01 00 00000001 00000000", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &hr), WMMP_ERR_HEALTH_BAD_MAGIC);
}

/* Runs every decoder of the codec over the bytes; the result does not matter, surviving does. */
static void decode_everything(const uint8_t *p, size_t n, FILE *sink)
{
    wmmp_message m;
    wmmp_header h;
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_msg_class cls;
    wmmp_decoder d;
    wmmp_decoder_init(&d, NULL, WMMP_DIALECT_WMMP3);
    wmmp_header_decode(p, n, &h);
    wmmp_header_plausible(p, n);
    if (wmmp_message_parse(p, n, &m) == WMMP_OK) {
        wmmp_message_classify(&m, &cls);
        if (wmmp_message_tlvs(&m, &r) == WMMP_OK)
            while (wmmp_tlv_next(&r, &t) == WMMP_OK)
                ;
    }
    wmmp_format_message(sink, &d, p, n);
    char summary[64];
    wmmp_format_summary(summary, sizeof summary, p, n);

    /* every prefix decoder on the raw bytes */
    wmmp_login a;
    wmmp_login_ack b;
    wmmp_register c;
    wmmp_register_ack e;
    wmmp_file_req f;
    wmmp_file_ack g;
    wmmp_transparent tr;
    uint16_t tags[8];
    size_t count;
    wmmp_reader_init(&r, p, n), wmmp_login_get(&r, &a);
    wmmp_reader_init(&r, p, n), wmmp_login_ack_get(&r, &b);
    wmmp_reader_init(&r, p, n), wmmp_register_get(&r, &c);
    wmmp_reader_init(&r, p, n), wmmp_register_ack_get(&r, &e);
    wmmp_reader_init(&r, p, n), wmmp_file_req_get(&r, &f);
    wmmp_reader_init(&r, p, n), wmmp_file_ack_get(&r, &g);
    wmmp_reader_init(&r, p, n), wmmp_transparent_get(&r, &tr);
    wmmp_reader_init(&r, p, n), wmmp_tag_list_get(&r, tags, 8, &count);
    wmmp_tlv_validate(p, n, NULL);

    wmmp_fragment fr;
    wmmp_fragment_decode(p, n, &fr);
    wmmp_is_fragment_control(0x10, p, n);
    wmmp_health_record hr;
    if (wmmp_health_decode(p, n, &hr) == WMMP_OK)
        for (size_t i = 0; i < hr.ecg.count; i++)
            wmmp_health_ecg_sample(&hr, i);
    wmmp_unpadded_tlv_len(p, n);
    uint8_t key[24] = { 1 }, sk[16];
    uint32_t expiry;
    wmmp_session_key_from_e040(p, n, key, sk, &expiry);
}

/* Each input goes into an exactly-sized heap block, so an overread hits valgrind's/ASan's redzone. */
static void decode_copy(const uint8_t *p, size_t n, FILE *sink)
{
    uint8_t *copy = malloc(n ? n : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    memcpy(copy, p, n);
    decode_everything(copy, n, sink);
    free(copy);
}

static void test_every_truncation(void)
{
    uint8_t msg[128];
    size_t n = unit_hex(login_ack_hex, msg, sizeof msg);
    FILE *sink = fopen("/dev/null", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sink);
    for (size_t len = 0; len <= n; len++) {
        decode_copy(msg, len, sink);
        /* and the same prefix claiming its own length, so the body decoders see it */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, msg, len);
        if (len >= 2) {
            copy[0] = (uint8_t)(len >> 8);
            copy[1] = (uint8_t)len;
        }
        decode_everything(copy, len, sink);
        free(copy);
    }
    fclose(sink);
}

/* xorshift32: deterministic, so a failure is reproducible */
static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_random_bytes(void)
{
    FILE *sink = fopen("/dev/null", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sink);
    uint32_t seed = 0x12345678;
    uint8_t buf[512];
    for (int i = 0; i < 3000; i++) {
        size_t n = next_random(&seed) % sizeof buf;
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)next_random(&seed);
        if (n >= 28 && (i & 1)) {
            /* half the cases get a believable header so the body paths are reached */
            buf[0] = (uint8_t)(n >> 8);
            buf[1] = (uint8_t)n;
            buf[2] = (i & 2) ? 0x80 : 0x00;
            buf[3] = (uint8_t)(1 + next_random(&seed) % 15);
            buf[8] = 3;
            buf[11] = 0;
        }
        decode_copy(buf, n, sink);
    }
    fclose(sink);
}

static void test_mutated_valid_message(void)
{
    FILE *sink = fopen("/dev/null", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sink);
    uint8_t msg[128], m2[128];
    size_t n = unit_hex(login_ack_hex, msg, sizeof msg);
    uint32_t seed = 42;
    for (int i = 0; i < 3000; i++) {
        memcpy(m2, msg, n);
        int flips = 1 + (int)(next_random(&seed) % 4);
        for (int k = 0; k < flips; k++)
            m2[28 + next_random(&seed) % (n - 28)] = (uint8_t)next_random(&seed);
        decode_copy(m2, n, sink);
    }
    fclose(sink);
}

static CU_TestInfo tests[] = {
    { "each malformed-input class returns its error", test_each_error_class },
    { "every truncation of a valid message", test_every_truncation },
    { "3000 random inputs", test_random_bytes },
    { "3000 mutations of a valid message", test_mutated_valid_message },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(malformed, tests)
