// SPDX-License-Identifier: GPL-2.0-or-later
/* The codec's MD5 (wmmp_md5.h): RFC 1321's test suite, and libgcrypt's MD5 on random inputs of every
   length 0..2000, whole and split into pieces (the digest hashes message and trailer as two pieces). */
#include <gcrypt.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "wmmp_md5.h"

static void md5_of(const void *data, size_t len, uint8_t out[WMMP_MD5_LEN])
{
    wmmp_md5_ctx c;
    wmmp_md5_init(&c);
    wmmp_md5_update(&c, data, len);
    wmmp_md5_final(&c, out);
}

static void test_rfc1321_suite(void)
{
    /* RFC 1321, appendix A.5 */
    static const char *const cases[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t want[WMMP_MD5_LEN], got[WMMP_MD5_LEN];
        unit_hex(cases[i][1], want, sizeof want);
        md5_of(cases[i][0], strlen(cases[i][0]), got);
        UNIT_ASSERT_BYTES(got, want, WMMP_MD5_LEN);
    }
}

/* A fixed xorshift32, so a failure is the same every run. */
static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_against_libgcrypt(void)
{
    static uint8_t data[2000];
    uint32_t seed = 0x1321u;
    int mismatches = 0;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)next_random(&seed);
    wmmp_crypto_init();
    for (size_t len = 0; len <= sizeof data; len++) {
        uint8_t want[WMMP_MD5_LEN], whole[WMMP_MD5_LEN], split[WMMP_MD5_LEN];
        gcry_md_hash_buffer(GCRY_MD_MD5, want, data, len);
        md5_of(data, len, whole);
        /* the same bytes in random pieces (0 bytes included) */
        wmmp_md5_ctx c;
        wmmp_md5_init(&c);
        for (size_t off = 0; off < len;) {
            size_t piece = next_random(&seed) % 131;
            if (piece > len - off)
                piece = len - off;
            wmmp_md5_update(&c, data + off, piece);
            off += piece;
        }
        wmmp_md5_final(&c, split);
        if (memcmp(whole, want, WMMP_MD5_LEN) != 0 || memcmp(split, want, WMMP_MD5_LEN) != 0) {
            if (mismatches++ < 5)
                fprintf(stderr, "md5: length %zu differs from libgcrypt\n", len);
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static CU_TestInfo tests[] = {
    { "rfc1321_suite", test_rfc1321_suite },
    { "against_libgcrypt", test_against_libgcrypt },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(md5, tests)
