/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Digest and 3DES behaviour beyond the known-answer vectors. */
#include <string.h>

#include "unit.h"
#include "wmmp_message.h"
#include "wmmp_security.h"
#include "wmmp_tables.h"

static const uint8_t key16[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                   0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };

static void test_des_vector(void)
{
    /* echo -n 0123456789abcdef0123456789abcdef | openssl enc -des-ede -nopad \
     *     -K 0123456789abcdeffedcba9876543210 | xxd -p   (the plaintext is ASCII text) */
    const uint8_t *plain = (const uint8_t *)"0123456789abcdef0123456789abcdef";
    uint8_t expected[32], out[32];
    unit_hex("3bfd3355a8582f5e b2c7b637b2807225 3bfd3355a8582f5e b2c7b637b2807225", expected, sizeof expected);
    CU_ASSERT_EQUAL(wmmp_encrypt(key16, plain, 32, out), WMMP_OK);
    UNIT_ASSERT_BYTES(out, expected, 32);
    CU_ASSERT_EQUAL(wmmp_decrypt(key16, out, 32, out), WMMP_OK);
    UNIT_ASSERT_BYTES(out, plain, 32);
}

static void test_zero_padding(void)
{
    uint8_t buf[16] = { 1, 2, 3, 4, 5 };
    CU_ASSERT_EQUAL(wmmp_cipher_len(0), 0);
    CU_ASSERT_EQUAL(wmmp_cipher_len(5), 8);
    CU_ASSERT_EQUAL(wmmp_cipher_len(8), 8);
    CU_ASSERT_EQUAL(wmmp_cipher_len(9), 16);
    CU_ASSERT_EQUAL(wmmp_encrypt(key16, buf, 5, buf), WMMP_OK); /* in place */
    CU_ASSERT_EQUAL(wmmp_decrypt(key16, buf, 8, buf), WMMP_OK);
    const uint8_t expect[8] = { 1, 2, 3, 4, 5, 0, 0, 0 };
    UNIT_ASSERT_BYTES(buf, expect, 8);
    CU_ASSERT_EQUAL(wmmp_decrypt(key16, buf, 7, buf), WMMP_ERR_CIPHER_LENGTH);
}

static void test_weak_key_still_works(void)
{
    /* 0101010101010101 is a weak DES key; a peer may still have been configured with it */
    uint8_t weak[16], block[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, copy[8];
    memset(weak, 0x01, sizeof weak);
    memcpy(copy, block, 8);
    CU_ASSERT_EQUAL(wmmp_encrypt(weak, block, 8, block), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_decrypt(weak, block, 8, block), WMMP_OK);
    UNIT_ASSERT_BYTES(block, copy, 8);
}

static void test_unpadded_len(void)
{
    uint8_t p[24];
    size_t n = unit_hex("3007 0001 17 000000", p, sizeof p);
    CU_ASSERT_EQUAL(wmmp_unpadded_tlv_len(p, n), 5);
    n = unit_hex("3007 0001 17 0000 0000 0000 0000", p, sizeof p); /* 11 bytes: an empty TLV 0000, then padding */
    CU_ASSERT_EQUAL(wmmp_unpadded_tlv_len(p, n), 9);
    n = unit_hex("3006 0004 00000000", p, sizeof p); /* zero value bytes belong to the TLV */
    CU_ASSERT_EQUAL(wmmp_unpadded_tlv_len(p, n), 8);
    n = unit_hex("3006 0009 0000", p, sizeof p); /* overrun: leave everything to the TLV parser */
    CU_ASSERT_EQUAL(wmmp_unpadded_tlv_len(p, n), n);
}

static void test_digest_covers_everything(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t buf[128];
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_HEART_BEAT, 9, WMMP_FLAG_DIGEST, k.serial);
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 20);
    wmmp_signer s = { &k, WMMP_UPLINK, 1234 };
    CU_ASSERT_EQUAL_FATAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_digest_verify(buf, w.len, 1234, &k, WMMP_UPLINK), WMMP_OK);
    /* every covered byte matters */
    for (size_t i = 0; i < w.len - WMMP_DIGEST_LEN; i++) {
        if (i >= w.len - WMMP_DIGEST_TLV_LEN)
            break; /* the digest TLV's own tag/length are checked as the TLV */
        buf[i] ^= 0x01;
        CU_ASSERT_NOT_EQUAL(wmmp_digest_verify(buf, w.len, 1234, &k, WMMP_UPLINK), WMMP_OK);
        buf[i] ^= 0x01;
    }
    /* and every key component */
    wmmp_terminal_keys bad = k;
    bad.imei[3] = '9';
    CU_ASSERT_EQUAL(wmmp_digest_verify(buf, w.len, 1234, &bad, WMMP_UPLINK), WMMP_ERR_DIGEST_MISMATCH);
    bad = k;
    bad.imsi[14] = '1';
    CU_ASSERT_EQUAL(wmmp_digest_verify(buf, w.len, 1234, &bad, WMMP_UPLINK), WMMP_ERR_DIGEST_MISMATCH);
    bad = k;
    bad.uplink_password[0] = 'x';
    CU_ASSERT_EQUAL(wmmp_digest_verify(buf, w.len, 1234, &bad, WMMP_UPLINK), WMMP_ERR_DIGEST_MISMATCH);
}

static void test_digest_missing(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    uint8_t buf[64];
    size_t n = unit_hex("0021 0003 00000001 0300 20 00 4130304d533830313133393030303253 3007 0001 17", buf,
                        sizeof buf);
    CU_ASSERT_EQUAL(wmmp_digest_verify(buf, n, 0, &k, WMMP_UPLINK), WMMP_ERR_DIGEST_MISSING);
    CU_ASSERT_FALSE(wmmp_has_digest_tlv(buf, 10));
}

static void test_finish_requires_signer(void)
{
    uint8_t buf[64];
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_HEART_BEAT, 1, WMMP_FLAG_DIGEST, "A00MS8011390002S");
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, NULL), WMMP_ERR_INVALID_ARGUMENT);
}

static void test_session_key_errors(void)
{
    uint8_t base[24] = { 0 }, sk[16], cipher[16] = { 0 };
    uint32_t expiry;
    memcpy(base, key16, 16);
    CU_ASSERT_EQUAL(wmmp_session_key_from_e040(cipher, 7, base, sk, &expiry), WMMP_ERR_CIPHER_LENGTH);
    uint8_t plain[8];
    unit_hex("3007 0001 17 000000", plain, sizeof plain); /* no 0xE03B inside */
    wmmp_encrypt(base, plain, 8, cipher);
    CU_ASSERT_EQUAL(wmmp_session_key_from_e040(cipher, 8, base, sk, &expiry), WMMP_ERR_TLV_MISSING);
    unit_hex("e03b 0002 aabb 0000", plain, sizeof plain); /* a session key of the wrong size */
    wmmp_encrypt(base, plain, 8, cipher);
    CU_ASSERT_EQUAL(wmmp_session_key_from_e040(cipher, 8, base, sk, &expiry), WMMP_ERR_TLV_BAD_LENGTH);
}

static CU_TestInfo tests[] = {
    { "3DES-ECB against openssl des-ede", test_des_vector },
    { "zero padding to 8 bytes", test_zero_padding },
    { "a weak DES key still encrypts and decrypts", test_weak_key_still_works },
    { "padding is stripped from decrypted TLVs", test_unpadded_len },
    { "digest covers every byte and every key", test_digest_covers_everything },
    { "digest missing", test_digest_missing },
    { "a digest message needs a signer", test_finish_requires_signer },
    { "session key extraction errors", test_session_key_errors },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(security, tests)
