/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The health-record generator of the emulated health tester (emulator/node/health_gen.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"
#include "health_gen.h"
#include "unit.h"

/* Encodes n records of a generator seeded with seed into one malloc'd buffer. */
static uint8_t *records_bytes(uint64_t seed, unsigned n, unsigned ecg_seconds, size_t *total)
{
    fake_env fe;
    fake_env_init(&fe, seed);
    health_gen g;
    health_gen_init(&g, &fe.env, 3, ecg_seconds);
    uint8_t *all = NULL;
    *total = 0;
    for (unsigned i = 0; i < n; i++) {
        health_gen_record r;
        uint8_t *b;
        size_t len;
        CU_ASSERT_EQUAL_FATAL(health_gen_next(&g, i + 1, 1767225600 + i * 60, &r), 0);
        CU_ASSERT_EQUAL_FATAL(health_gen_encode(&r, &b, &len), 0);
        all = realloc(all, *total + len);
        memcpy(all + *total, b, len);
        *total += len;
        free(b);
        health_gen_record_free(&r);
    }
    fake_env_free(&fe);
    return all;
}

static void test_same_seed_same_bytes(void)
{
    size_t a_len, b_len, c_len;
    uint8_t *a = records_bytes(42, 20, 4, &a_len);
    uint8_t *b = records_bytes(42, 20, 4, &b_len);
    uint8_t *c = records_bytes(43, 20, 4, &c_len);
    CU_ASSERT_EQUAL(a_len, b_len);
    CU_ASSERT(a_len == b_len && memcmp(a, b, a_len) == 0);
    CU_ASSERT(a_len != c_len || memcmp(a, c, a_len) != 0);
    free(a);
    free(b);
    free(c);
}

/* Draws from env->random after init do not change the records (loss injection shares the generator). */
static void test_independent_of_later_draws(void)
{
    fake_env f1, f2;
    fake_env_init(&f1, 7);
    fake_env_init(&f2, 7);
    health_gen g1, g2;
    health_gen_init(&g1, &f1.env, 0, 0);
    health_gen_init(&g2, &f2.env, 0, 0);
    for (int i = 0; i < 100; i++)
        f2.env.random(f2.env.ctx);
    for (uint32_t id = 1; id <= 5; id++) {
        health_gen_record r1, r2;
        uint8_t *b1, *b2;
        size_t l1, l2;
        health_gen_next(&g1, id, 1000, &r1);
        health_gen_next(&g2, id, 1000, &r2);
        CU_ASSERT_EQUAL_FATAL(health_gen_encode(&r1, &b1, &l1), 0);
        CU_ASSERT_EQUAL_FATAL(health_gen_encode(&r2, &b2, &l2), 0);
        CU_ASSERT(l1 == l2 && memcmp(b1, b2, l1) == 0);
        free(b1);
        free(b2);
        health_gen_record_free(&r1);
        health_gen_record_free(&r2);
    }
    fake_env_free(&f1);
    fake_env_free(&f2);
}

static int has_reminder(const wmmp_health_record *r, uint8_t min_level, const char *word)
{
    for (size_t i = 0; i < r->reminder_count; i++)
        if (r->reminders[i].level >= min_level && strstr(r->reminders[i].text, word))
            return 1;
    return 0;
}

static int id_check_ok(const char *id)
{
    static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (id[i] < '0' || id[i] > '9')
            return 0;
        sum += (id[i] - '0') * weight[i];
    }
    return id[17] == "10X98765432"[sum % 11];
}

/* The unit the codec's table gives each analyte. */
static int expected_unit(unsigned analyte)
{
    switch (analyte) {
#define WMMP_LAB_ANALYTE(v, s, n, u) \
    case v: return u;
#include "wmmp_health.def"
    default: return -1;
    }
}

static void check_vitals(const wmmp_health_record *r)
{
    CU_ASSERT(r->heart_rate >= 60 && r->heart_rate <= 125);
    if (r->heart_rate > 100)
        CU_ASSERT(has_reminder(r, 2, "heart rate"));
    CU_ASSERT(abs((int)r->pulse_rate - (int)r->heart_rate) <= 2);
    CU_ASSERT(r->temperature_centi >= 3630 && r->temperature_centi <= 3960);
    if (r->temperature_centi > 3750)
        CU_ASSERT(has_reminder(r, 2, "High temperature"));
    CU_ASSERT(r->bp_systolic >= 95 && r->bp_systolic <= 170);
    CU_ASSERT(r->bp_diastolic >= 55 && r->bp_diastolic <= 105 && r->bp_diastolic < r->bp_systolic);
    CU_ASSERT_EQUAL(r->bp_mean, r->bp_diastolic + (r->bp_systolic - r->bp_diastolic) / 3);
    if (r->bp_systolic > 140)
        CU_ASSERT(has_reminder(r, 2, "High blood pressure"));
    CU_ASSERT(r->spo2 >= 88 && r->spo2 <= 99);
    if (r->spo2 < 94)
        CU_ASSERT(has_reminder(r, 2, "Low blood oxygen"));
    CU_ASSERT(r->resp_rate >= 12 && r->resp_rate <= 20);
}

static void check_labs(const wmmp_health_record *r)
{
    for (size_t i = 0; i < r->lab_count; i++) {
        const wmmp_lab_result *l = &r->labs[i];
        CU_ASSERT(l->analyte >= 1 && l->analyte <= 14);
        CU_ASSERT_EQUAL(l->unit, expected_unit(l->analyte));
        CU_ASSERT(l->value_milli >= 0);
        CU_ASSERT_EQUAL(l->flag, health_gen_lab_flag(l->analyte, l->value_milli));
        if (l->analyte == 14)
            CU_ASSERT(l->value_milli == 0 || l->value_milli == 1000);
        for (size_t j = 0; j < i; j++)
            CU_ASSERT(r->labs[j].analyte != l->analyte);
    }
}

static void test_plausible_ranges(void)
{
    fake_env fe;
    fake_env_init(&fe, 2026);
    health_gen g;
    health_gen_init(&g, &fe.env, 5, 2);
    unsigned normal_temp = 0, with_labs = 0, with_reminders = 0, with_ecg = 0, fevers = 0;
    const unsigned n = 600;
    for (unsigned i = 0; i < n; i++) {
        health_gen_record gr;
        CU_ASSERT_EQUAL_FATAL(health_gen_next(&g, i + 1, 5000 + i, &gr), 0);
        const wmmp_health_record *r = &gr.rec;
        CU_ASSERT_EQUAL(r->record_id, i + 1);
        CU_ASSERT_EQUAL(r->measured_at, 5000 + i);
        CU_ASSERT(r->subject_id_len == 18 && id_check_ok(r->subject_id));
        check_vitals(r);
        check_labs(r);
        normal_temp += r->temperature_centi >= 3630 && r->temperature_centi <= 3750;
        fevers += r->temperature_centi > 3750;
        with_labs += r->lab_count > 0;
        with_reminders += r->reminder_count > 0;
        if (r->present & WMMP_HEALTH_HAS_ECG) {
            with_ecg++;
            CU_ASSERT_EQUAL(i % 5, 0); /* every 5th, the first included */
            CU_ASSERT(r->ecg.rate == 250 && r->ecg.lead == 1 && r->ecg.resolution_nv == 1000);
            CU_ASSERT_EQUAL(r->ecg.count, 500);
        }
        health_gen_record_free(&gr);
    }
    CU_ASSERT(normal_temp > n * 9 / 10); /* mostly normal ... */
    CU_ASSERT(fevers > 0);              /* ... with an occasional fever */
    CU_ASSERT(with_labs > n / 20 && with_labs < n / 3);
    CU_ASSERT(with_reminders > n / 20);
    CU_ASSERT_EQUAL(with_ecg, n / 5);
    fake_env_free(&fe);
}

/* R peaks: maxima of the regions above half the largest sample. Returns how many, positions in pos. */
static size_t r_peaks(const int16_t *x, size_t n, size_t *pos, size_t max)
{
    int16_t top = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] > top)
            top = x[i];
    size_t count = 0;
    for (size_t i = 0; i < n && count < max;) {
        if (x[i] <= top / 2) {
            i++;
            continue;
        }
        size_t best = i;
        for (; i < n && x[i] > top / 2; i++)
            if (x[i] > x[best])
                best = i;
        pos[count++] = best;
    }
    return count;
}

static void check_rr(const int16_t *x, size_t n, double heart_rate)
{
    size_t pos[256];
    size_t peaks = r_peaks(x, n, pos, 256);
    double rr = 250.0 * 60.0 / heart_rate; /* samples */
    double beats = n / rr;
    CU_ASSERT(peaks + 1 >= (size_t)beats && peaks <= (size_t)beats + 1);
    CU_ASSERT_FATAL(peaks >= 2);
    for (size_t i = 1; i < peaks; i++)
        CU_ASSERT(fabs((double)(pos[i] - pos[i - 1]) - rr) <= rr * 0.08 + 1);
    double mean = (double)(pos[peaks - 1] - pos[0]) / (double)(peaks - 1);
    CU_ASSERT(fabs(mean - rr) <= rr * 0.03);
}

static void test_ecg_r_peak_spacing(void)
{
    fake_env fe;
    fake_env_init(&fe, 99);
    health_gen g;
    health_gen_init(&g, &fe.env, 1, 10);
    static int16_t ecg[2500];
    const double rates[] = { 50, 72, 96, 120 };
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        health_gen_ecg(&g, rates[k], 1.0, ecg, 2500);
        check_rr(ecg, 2500, rates[k]);
        /* lead II amplitudes: R about 1.2 mV, S below the baseline */
        int16_t hi = INT16_MIN, lo = INT16_MAX;
        for (size_t i = 0; i < 2500; i++) {
            hi = ecg[i] > hi ? ecg[i] : hi;
            lo = ecg[i] < lo ? ecg[i] : lo;
        }
        CU_ASSERT(hi > 1000 && hi < 1500);
        CU_ASSERT(lo < -100 && lo > -600);
    }
    fake_env_free(&fe);
}

/* Through the codec: a decoded ECG record's R peaks match its heart-rate TLV. */
static void test_ecg_record_round_trip(void)
{
    fake_env fe;
    fake_env_init(&fe, 5);
    health_gen g;
    health_gen_init(&g, &fe.env, 1, 8);
    health_gen_record gr;
    uint8_t *buf;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(health_gen_next(&g, 77, 1234, &gr), 0);
    CU_ASSERT_EQUAL_FATAL(health_gen_encode(&gr, &buf, &len), 0);
    CU_ASSERT(len > 4000); /* longer than 900 bytes: the link fragments it */
    wmmp_health_record d;
    CU_ASSERT_EQUAL_FATAL(wmmp_health_decode(buf, len, &d), WMMP_OK);
    CU_ASSERT_EQUAL(d.record_id, 77);
    CU_ASSERT_EQUAL_FATAL(d.ecg.count, 2000);
    static int16_t x[2000];
    for (size_t i = 0; i < d.ecg.count; i++)
        x[i] = wmmp_health_ecg_sample(&d, i);
    check_rr(x, d.ecg.count, d.heart_rate);
    free(buf);
    health_gen_record_free(&gr);
    fake_env_free(&fe);
}

static void test_ecg_options(void)
{
    fake_env fe;
    fake_env_init(&fe, 1);
    health_gen g;
    health_gen_record r;
    health_gen_init(&g, &fe.env, 0, 10); /* never */
    health_gen_next(&g, 1, 0, &r);
    CU_ASSERT_FALSE(r.rec.present & WMMP_HEALTH_HAS_ECG);
    CU_ASSERT_PTR_NULL(r.ecg);
    health_gen_record_free(&r);
    health_gen_init(&g, &fe.env, 1, 1000); /* capped */
    health_gen_next(&g, 1, 0, &r);
    CU_ASSERT_EQUAL(r.rec.ecg.count, HEALTH_GEN_MAX_ECG_SECONDS * 250);
    uint8_t *b;
    size_t len;
    CU_ASSERT_EQUAL(health_gen_encode(&r, &b, &len), 0);
    free(b);
    health_gen_record_free(&r);
    fake_env_free(&fe);
}

static void test_lab_flags(void)
{
    CU_ASSERT_EQUAL(health_gen_lab_flag(7, 4200), 0);  /* K+ 4.2 */
    CU_ASSERT_EQUAL(health_gen_lab_flag(7, 3300), 1);  /* low */
    CU_ASSERT_EQUAL(health_gen_lab_flag(7, 5600), 2);  /* high */
    CU_ASSERT_EQUAL(health_gen_lab_flag(7, 6500), 3);  /* critical */
    CU_ASSERT_EQUAL(health_gen_lab_flag(3, 7150), 3);  /* pH 7.15 */
    CU_ASSERT_EQUAL(health_gen_lab_flag(14, 0), 0);    /* compatible */
    CU_ASSERT_EQUAL(health_gen_lab_flag(14, 1000), 3); /* incompatible */
}

static CU_TestInfo tests[] = {
    { "same seed, same bytes", test_same_seed_same_bytes },
    { "independent of later env->random draws", test_independent_of_later_draws },
    { "plausible vitals, labs and reminders", test_plausible_ranges },
    { "ECG R peaks at the RR interval", test_ecg_r_peak_spacing },
    { "ECG record through the codec", test_ecg_record_round_trip },
    { "ECG every k-th record, length capped", test_ecg_options },
    { "lab flags from reference ranges", test_lab_flags },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_health_gen, tests)
