/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The health record of profile section 10. */
#include <string.h>

#include "unit.h"
#include "wmmp_health.h"

static const int16_t ecg_samples[] = { 0, 150, -320, 1200, -32768, 32767, 5 };

static wmmp_health_record full_record(void)
{
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 0x01020304;
    r.measured_at = 1764028830;
    r.present = WMMP_HEALTH_HAS_SUBJECT | WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE |
                WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_PULSE_RATE |
                WMMP_HEALTH_HAS_SPO2 | WMMP_HEALTH_HAS_RESP_RATE;
    r.subject_id = "110101199003071234";
    r.subject_id_len = 18;
    r.ecg = (wmmp_ecg){ 250, 1, 1000, sizeof ecg_samples / sizeof ecg_samples[0], ecg_samples, NULL };
    r.heart_rate = 72;
    r.temperature_centi = 3685;
    r.bp_systolic = 121;
    r.bp_diastolic = 79;
    r.bp_mean = 93;
    r.pulse_rate = 71;
    r.spo2 = 98;
    r.resp_rate = 16;
    r.labs[0] = (wmmp_lab_result){ 1, 1, 142000, 0 };
    r.labs[1] = (wmmp_lab_result){ 7, 2, 3100, 1 };
    r.labs[2] = (wmmp_lab_result){ 3, 0, -7350, 3 }; /* a negative value survives the int32 */
    r.lab_count = 3;
    r.reminders[0] = (wmmp_reminder){ 0, "ok", 2 };
    r.reminders[1] = (wmmp_reminder){ 3, "\xe8\xa1\x80\xe5\x8e\x8b", 6 }; /* UTF-8 text */
    r.reminder_count = 2;
    return r;
}

static void test_round_trip_every_field(void)
{
    static uint8_t buf[1024];
    wmmp_health_record in = full_record(), out;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(wmmp_health_encode(&w, &in), WMMP_OK);
    CU_ASSERT(wmmp_health_is_record(buf, w.len));
    CU_ASSERT_EQUAL_FATAL(wmmp_health_decode(buf, w.len, &out), WMMP_OK);
    CU_ASSERT_EQUAL(out.record_id, in.record_id);
    CU_ASSERT_EQUAL(out.measured_at, in.measured_at);
    CU_ASSERT_EQUAL(out.present, in.present);
    CU_ASSERT_EQUAL(out.subject_id_len, 18);
    CU_ASSERT_EQUAL(memcmp(out.subject_id, in.subject_id, 18), 0);
    CU_ASSERT(out.ecg.rate == 250 && out.ecg.lead == 1 && out.ecg.resolution_nv == 1000);
    CU_ASSERT_EQUAL_FATAL(out.ecg.count, in.ecg.count);
    for (size_t i = 0; i < out.ecg.count; i++)
        CU_ASSERT_EQUAL(wmmp_health_ecg_sample(&out, i), ecg_samples[i]);
    CU_ASSERT_EQUAL(wmmp_health_ecg_sample(&out, out.ecg.count), 0); /* out of range reads nothing */
    CU_ASSERT(out.heart_rate == 72 && out.temperature_centi == 3685 && out.pulse_rate == 71);
    CU_ASSERT(out.bp_systolic == 121 && out.bp_diastolic == 79 && out.bp_mean == 93);
    CU_ASSERT(out.spo2 == 98 && out.resp_rate == 16);
    CU_ASSERT_EQUAL_FATAL(out.lab_count, 3);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(memcmp(&out.labs[i], &in.labs[i], sizeof in.labs[i]), 0);
    CU_ASSERT_EQUAL_FATAL(out.reminder_count, 2);
    CU_ASSERT(out.reminders[1].level == 3 && out.reminders[1].text_len == 6);
    CU_ASSERT_EQUAL(memcmp(out.reminders[1].text, in.reminders[1].text, 6), 0);
    CU_ASSERT_EQUAL(out.unknown_tags, 0);
}

/* Written by hand from profile section 10, not produced by the encoder. */
static void test_known_answer(void)
{
    uint8_t expected[64], buf[64];
    size_t n = unit_hex("4854 01 00 00000007 6925a3c0"  /* "HT", v1, flags 0, record 7, 2025-11-25 12:40:32 UTC */
                        "0111 0002 0048"                /* heart rate 72 */
                        "0112 0002 0e65"                /* 36.85 degC */
                        "0113 0006 0079 004f 005d"      /* 121/79, MAP 93 */
                        "0115 0001 62"                  /* SpO2 98 % */
                        "0120 0008 0001 01 00022ab0 02" /* hemoglobin 142.000 g/L, high */
                        "0130 0003 02 4869",            /* warning "Hi" */
                        expected, sizeof expected);
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 7;
    r.measured_at = 0x6925a3c0;
    r.present = WMMP_HEALTH_HAS_HEART_RATE | WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_BLOOD_PRESSURE |
                WMMP_HEALTH_HAS_SPO2;
    r.heart_rate = 72;
    r.temperature_centi = 3685;
    r.bp_systolic = 121;
    r.bp_diastolic = 79;
    r.bp_mean = 93;
    r.spo2 = 98;
    r.labs[0] = (wmmp_lab_result){ 1, 1, 142000, 2 };
    r.lab_count = 1;
    r.reminders[0] = (wmmp_reminder){ 2, "Hi", 2 };
    r.reminder_count = 1;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL(wmmp_health_encode(&w, &r), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, n);
    UNIT_ASSERT_BYTES(buf, expected, n);
}

static void test_errors(void)
{
    uint8_t b[64];
    wmmp_health_record r;
    size_t n = unit_hex("4854 01 00 00000001 00000000", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_OK); /* a record may hold no measurement */
    CU_ASSERT_EQUAL(wmmp_health_decode(b, 11, &r), WMMP_ERR_BODY_TRUNCATED);
    CU_ASSERT_EQUAL(wmmp_health_decode(NULL, 0, &r), WMMP_ERR_BODY_TRUNCATED);
    b[1] = 'X';
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_ERR_HEALTH_BAD_MAGIC);
    CU_ASSERT_FALSE(wmmp_health_is_record(b, n));
    b[1] = 'T';
    b[2] = 2;
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_ERR_HEALTH_BAD_VERSION);

    const char *bad_lengths[] = {
        "4854 01 00 00000001 00000000 0111 0001 48",          /* heart rate of 1 byte */
        "4854 01 00 00000001 00000000 0113 0004 0079 004f",   /* blood pressure without the mean */
        "4854 01 00 00000001 00000000 0110 0004 00fa 01 03",  /* ECG header cut short */
        "4854 01 00 00000001 00000000 0110 0006 00fa 01 03e8 00", /* odd sample bytes */
        "4854 01 00 00000001 00000000 0120 0007 0001 01 00000001", /* lab of 7 bytes */
        "4854 01 00 00000001 00000000 0130 0000",             /* empty reminder */
        "4854 01 00 00000001 00000000 0115 0002 6200",        /* SpO2 of 2 bytes */
    };
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        n = unit_hex(bad_lengths[i], b, sizeof b);
        CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_ERR_TLV_BAD_LENGTH);
    }
    n = unit_hex("4854 01 00 00000001 00000000 0111 0004 0048", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_ERR_TLV_OVERRUN);
    n = unit_hex("4854 01 00 00000001 00000000 0111 00", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_ERR_TLV_TRUNCATED);
}

static void test_unknown_tags_and_repeats(void)
{
    uint8_t b[64];
    wmmp_health_record r;
    size_t n = unit_hex("4854 01 00 00000001 00000000 0199 0002 abcd 0111 0002 0040 0111 0002 0050", b, sizeof b);
    CU_ASSERT_EQUAL(wmmp_health_decode(b, n, &r), WMMP_OK);
    CU_ASSERT_EQUAL(r.unknown_tags, 1);
    CU_ASSERT_EQUAL(r.heart_rate, 0x50); /* the last value wins */
}

static void test_caps(void)
{
    static uint8_t buf[2048];
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.lab_count = WMMP_HEALTH_MAX_LABS + 1;
    CU_ASSERT_EQUAL(wmmp_health_encode(&w, &r), WMMP_ERR_HEALTH_TOO_MANY);

    /* 33 lab TLVs by hand: one more than the decoder keeps */
    wmmp_writer_init(&w, buf, sizeof buf);
    r.lab_count = 0;
    wmmp_health_encode(&w, &r);
    for (int i = 0; i <= WMMP_HEALTH_MAX_LABS; i++)
        wmmp_put_tlv(&w, WMMP_HT_LAB_RESULT, "\0\1\1\0\0\0\1\0", 8);
    wmmp_health_record out;
    CU_ASSERT_EQUAL(wmmp_health_decode(buf, w.len, &out), WMMP_ERR_HEALTH_TOO_MANY);

    static int16_t many[40000];
    r.present = WMMP_HEALTH_HAS_ECG;
    r.ecg.samples = many;
    r.ecg.count = 40000; /* 80005 bytes: longer than a TLV can be */
    static uint8_t big[100000];
    wmmp_writer_init(&w, big, sizeof big);
    CU_ASSERT_EQUAL(wmmp_health_encode(&w, &r), WMMP_ERR_TOO_LONG);
}

static void test_every_truncation(void)
{
    static uint8_t buf[1024];
    wmmp_health_record in = full_record(), out;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(wmmp_health_encode(&w, &in), WMMP_OK);
    for (size_t len = 0; len < w.len; len++) {
        wmmp_err e = wmmp_health_decode(buf, len, &out);
        /* a cut exactly between two TLVs is a shorter valid record; any other cut is an error */
        if (e == WMMP_OK) {
            CU_ASSERT(len >= WMMP_HEALTH_HEADER_LEN);
        } else {
            CU_ASSERT(e == WMMP_ERR_BODY_TRUNCATED || e == WMMP_ERR_TLV_TRUNCATED || e == WMMP_ERR_TLV_OVERRUN);
        }
    }
}

static void test_names(void)
{
    CU_ASSERT_STRING_EQUAL(wmmp_health_tag_name(WMMP_HT_BLOOD_PRESSURE), "Blood pressure");
    CU_ASSERT_PTR_NULL(wmmp_health_tag_name(0x0199));
    CU_ASSERT_STRING_EQUAL(wmmp_ecg_lead_name(3), "aVR");
    CU_ASSERT_STRING_EQUAL(wmmp_ecg_lead_name(11), "V6");
    CU_ASSERT_PTR_NULL(wmmp_ecg_lead_name(12));
    CU_ASSERT_STRING_EQUAL(wmmp_lab_analyte_name(14), "Cross-match");
    CU_ASSERT_STRING_EQUAL(wmmp_lab_unit_name(2), "mmol/L");
    CU_ASSERT_STRING_EQUAL(wmmp_lab_flag_name(3), "Critical");
    CU_ASSERT_STRING_EQUAL(wmmp_reminder_level_name(3), "Urgent");
    CU_ASSERT_PTR_NULL(wmmp_reminder_level_name(4));
}

static CU_TestInfo tests[] = {
    { "round trip of every field", test_round_trip_every_field },
    { "known answer written from the profile", test_known_answer },
    { "errors", test_errors },
    { "unknown tags are skipped, repeats keep the last value", test_unknown_tags_and_repeats },
    { "caps on labs, reminders and ECG length", test_caps },
    { "every truncation", test_every_truncation },
    { "names", test_names },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(health, tests)
