/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole messages: building, parsing, the four classes and flag/content disagreement. */
#include <string.h>

#include "unit.h"
#include "wmmp_body.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

static const uint8_t session_key[] = "0123456789ABCDEF"; /* 16 bytes and a NUL that is never used */

/* Builds a CONFIG_TRAP with the given flag; encrypt: 0 none, 1 one 0xE040 TLV, 2 whole body in 0xE042. */
static size_t build(uint8_t *buf, size_t cap, uint8_t flag, int encrypt)
{
    wmmp_terminal_keys k = unit_example_keys();
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_CONFIG_TRAP, 42, flag, k.serial);
    wmmp_msg_begin(&w, buf, cap, &h);
    wmmp_put_tlv_str(&w, WMMP_TAG_APN, "CMNET");
    if (encrypt == 1) {
        uint8_t inner[16];
        wmmp_writer iw;
        wmmp_writer_init(&iw, inner, sizeof inner);
        wmmp_put_tlv_u32(&iw, WMMP_TAG_SYSTEM_TIME, 1700000000);
        wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_TLVS, k.base_key, inner, iw.len);
    }
    if (encrypt == 2)
        wmmp_msg_encrypt_body(&w, session_key);
    wmmp_signer s = { &k, WMMP_UPLINK, 99 };
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    return w.len;
}

static wmmp_msg_class class_of(const uint8_t *buf, size_t n, wmmp_err *consistency)
{
    wmmp_message m;
    wmmp_msg_class cls = WMMP_CLASS_COMMON;
    CU_ASSERT_EQUAL(wmmp_message_parse(buf, n, &m), WMMP_OK);
    *consistency = wmmp_message_classify(&m, &cls);
    return cls;
}

static void test_four_classes(void)
{
    uint8_t buf[256];
    wmmp_err e;
    size_t n = build(buf, sizeof buf, 0x00, 0);
    CU_ASSERT_EQUAL(n, 28 + 9);
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_COMMON);
    CU_ASSERT_EQUAL(e, WMMP_OK);
    n = build(buf, sizeof buf, 0x20, 0);
    CU_ASSERT_EQUAL(n, 28 + 9 + 20);
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_ACCESS);
    CU_ASSERT_EQUAL(e, WMMP_OK);
    n = build(buf, sizeof buf, 0xE0, 1);
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_ENCRYPTED);
    CU_ASSERT_EQUAL(e, WMMP_OK);
    n = build(buf, sizeof buf, 0xF0, 2);
    CU_ASSERT_EQUAL(n, 28 + 4 + 16 + 20);
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_FULLY_ENCRYPTED);
    CU_ASSERT_EQUAL(e, WMMP_OK);
}

static void test_flag_content_mismatch(void)
{
    uint8_t buf[256];
    wmmp_err e;
    size_t n = build(buf, sizeof buf, 0x00, 1); /* ciphertext without digest */
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_ENCRYPTED);
    CU_ASSERT_EQUAL(e, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    n = build(buf, sizeof buf, 0x00, 2); /* 0xE042 without digest */
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_FULLY_ENCRYPTED);
    CU_ASSERT_EQUAL(e, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    n = build(buf, sizeof buf, 0xA0, 2); /* 0xE042 without the encryption bits */
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_FULLY_ENCRYPTED);
    CU_ASSERT_EQUAL(e, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    n = build(buf, sizeof buf, 0xF0, 0); /* encryption bits on a plain body */
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_ACCESS);
    CU_ASSERT_EQUAL(e, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    n = build(buf, sizeof buf, 0x01, 0); /* reserved bit */
    CU_ASSERT_EQUAL(class_of(buf, n, &e), WMMP_CLASS_COMMON);
    CU_ASSERT_EQUAL(e, WMMP_ERR_FLAG_CONTENT_MISMATCH);
}

static void test_parse_locates_body_and_digest(void)
{
    uint8_t buf[256];
    size_t n = build(buf, sizeof buf, 0x20, 0);
    wmmp_message m;
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(buf, n + 10, &m), WMMP_OK); /* trailing bytes are not ours */
    CU_ASSERT_EQUAL(m.hdr.total_length, n);
    CU_ASSERT_EQUAL(m.body_len, 9);
    CU_ASSERT_PTR_EQUAL(m.digest, buf + n - 16);
    wmmp_reader r;
    wmmp_tlv t;
    CU_ASSERT_EQUAL(wmmp_message_tlvs(&m, &r), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.tag, WMMP_TAG_APN);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);

    buf[10] = 0x00; /* without the flag, the digest TLV is just another TLV of the body */
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(buf, n, &m), WMMP_OK);
    CU_ASSERT_PTR_NULL(m.digest);
    CU_ASSERT_EQUAL(m.body_len, 29);
}

static void test_digest_flag_without_digest(void)
{
    uint8_t buf[256];
    size_t n = build(buf, sizeof buf, 0x00, 0);
    buf[10] = 0x20;
    wmmp_message m;
    CU_ASSERT_EQUAL(wmmp_message_parse(buf, n, &m), WMMP_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(m.body_len, 9);
}

static void test_body_shorter_than_prefix(void)
{
    uint8_t buf[64];
    size_t n = unit_hex("0020 0008 00000001 0300 00 00 00000000000000000000000000000000 00 383630", buf, sizeof buf);
    wmmp_message m;
    wmmp_reader r;
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(buf, n, &m), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_message_tlvs(&m, &r), WMMP_ERR_BODY_TRUNCATED);
    CU_ASSERT_EQUAL(wmmp_reader_left(&r), 0);
}

static void test_too_long(void)
{
    static uint8_t buf[70000], big[65535];
    wmmp_terminal_keys k = unit_example_keys();
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_TRANSPARENT_DATA, 1, WMMP_FLAG_DIGEST, k.serial);
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    CU_ASSERT_EQUAL(w.cap, WMMP_MAX_MESSAGE);
    wmmp_put_tlv(&w, WMMP_TAG_USER_DATA, big, 65535 - 28 - 4 - 20 + 1); /* one byte too many with the digest */
    wmmp_signer s = { &k, WMMP_UPLINK, 0 };
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, &s), WMMP_ERR_TOO_LONG);

    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    wmmp_put_tlv(&w, WMMP_TAG_USER_DATA, big, 65535 - 28 - 4 - 20);
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, 65535);
    CU_ASSERT_EQUAL(wmmp_digest_verify(buf, w.len, 0, &k, WMMP_UPLINK), WMMP_OK);
}

static void test_figure4_flow_round_trips(void)
{
    /* Each command of the paper's figure 4 builds and parses back with its name and sequence. */
    const uint16_t flow[] = { 0x0001, 0x8001, 0x0003, 0x8003, 0x0006, 0x8006,
                              0x0004, 0x8004, 0x0003, 0x8003, 0x0002, 0x8002 };
    for (size_t i = 0; i < sizeof flow / sizeof flow[0]; i++) {
        uint8_t buf[128];
        wmmp_header h;
        wmmp_writer w;
        wmmp_header_init(&h, flow[i], (uint32_t)(i / 2 + 1), 0, "A00MS8011390002S");
        wmmp_msg_begin(&w, buf, sizeof buf, &h);
        int prefix = wmmp_command_prefix_len(flow[i]);
        for (int b = 0; b < prefix; b++)
            wmmp_put_u8(&w, 0);
        CU_ASSERT_EQUAL(wmmp_msg_finish(&w, NULL), WMMP_OK);
        wmmp_message m;
        CU_ASSERT_EQUAL(wmmp_message_parse(buf, w.len, &m), WMMP_OK);
        CU_ASSERT_EQUAL(m.hdr.command_id, flow[i]);
        CU_ASSERT_EQUAL(m.body_len, (size_t)prefix);
    }
}

static CU_TestInfo tests[] = {
    { "the four message classes", test_four_classes },
    { "flag and content disagree", test_flag_content_mismatch },
    { "parse locates body, TLVs and digest", test_parse_locates_body_and_digest },
    { "DIGEST set but no digest TLV", test_digest_flag_without_digest },
    { "body shorter than the command prefix", test_body_shorter_than_prefix },
    { "65535 bytes is the limit, digest included", test_too_long },
    { "figure-4 commands round trip", test_figure4_flow_round_trips },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(message, tests)
