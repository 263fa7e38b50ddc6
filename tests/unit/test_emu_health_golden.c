// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The health generator's output pinned to the bit: CRC-32s of ECGs and of encoded records as the generator
 * made them before its speed work (the mains-hum table, the per-ECG wave shape, skipping beats and waves
 * that add exactly 0, the inline rounding). Any change of a sample changes a capture, so a speed change
 * that fails here changed the output and is wrong, whatever it saves.
 */
#include <stdlib.h>

#include "fake_env.h"
#include "health_gen.h"
#include "unit.h"
#include "wmmp_crc.h"

static void test_ecg_bits(void)
{
    static const struct {
        double rate, gain;
        size_t n;
        uint32_t crc;
        uint64_t rng_after; /* the generator's state afterwards: the same random numbers drawn */
    } cases[] = {
        { 30, 1, 15000, 0x26A64BACu, 0x0FC20D2BE51837DCull },
        { 47.5, 0.85, 501, 0x349448DFu, 0x3317C7ED9A41E8B9ull },
        { 60, 1.15, 752, 0xD89F22DEu, 0x767FC137984A443Dull },
        { 72, 1, 1003, 0x02E918D5u, 0x407A7F065A079BD3ull },
        { 88.8, 0.93, 1254, 0x40D87777u, 0x8F6EAAB716459C48ull },
        { 120, 1.07, 1505, 0xEB5588E1u, 0x10E423F7FEABD808ull },
        { 180, 1, 1756, 0x0EBEA296u, 0xABC926C1B6446796ull },
        { 240, 0.9, 2007, 0xBF83B7DAu, 0x7A4E9B29623E0D1Cull },
        { 20, 1.1, 2258, 0x7F28A430u, 0xB2692658575FB002ull },  /* clamped to 30/min */
        { 300, 1, 2509, 0x2A3BE490u, 0x3EC1A592DDC28CF8ull },   /* clamped to 240/min */
    };
    static int16_t out[15000];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        health_gen g = { .rng = 0x9E3779B97F4A7C15ull + (uint64_t)i * 7919 };
        health_gen_ecg(&g, cases[i].rate, cases[i].gain, out, cases[i].n);
        CU_ASSERT_EQUAL(wmmp_crc32((const uint8_t *)out, cases[i].n * 2), cases[i].crc);
        CU_ASSERT_EQUAL(g.rng, cases[i].rng_after);
    }
}

static void test_ecg_longer_than_the_table(void)
{
    /* past HEALTH_GEN_MAX_ECG_SECONDS the hum is computed per sample, as before */
    static int16_t out[15100];
    health_gen g = { .rng = 0x2026ull };
    health_gen_ecg(&g, 66.0, 1.0, out, 15100);
    CU_ASSERT_EQUAL(wmmp_crc32((const uint8_t *)out, sizeof out), 0xECCBFCD8u);
}

static void test_record_bytes(void)
{
    fake_env fe;
    health_gen g;
    uint32_t crc = 0;
    fake_env_init(&fe, 42);
    health_gen_init(&g, &fe.env, 3, 2);
    for (unsigned i = 0; i < 300; i++) {
        health_gen_record r;
        uint8_t *b;
        size_t len;
        CU_ASSERT_EQUAL_FATAL(health_gen_next(&g, i + 1, 1767225600 + i * 60, &r), 0);
        CU_ASSERT_EQUAL_FATAL(health_gen_encode(&r, &b, &len), 0);
        crc = wmmp_crc32_update(crc, b, len);
        free(b);
        health_gen_record_free(&r);
    }
    fake_env_free(&fe);
    CU_ASSERT_EQUAL(crc, 0x223961B9u);
}

static CU_TestInfo tests[] = {
    { "ecg_bits", test_ecg_bits },
    { "ecg_longer_than_the_table", test_ecg_longer_than_the_table },
    { "record_bytes", test_record_bytes },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_health_golden, tests)
