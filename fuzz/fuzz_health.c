/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The health record of profile section 10: decode; every pointer stays inside the input; a decoded record
 * re-encodes and decodes to the same values.
 */
#include <stdlib.h>

#include "fuzz_common.h"
#include "wmmp_health.h"

static void inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
    const uint8_t *b = p;
    if (n && (!b || b < buf || b + n > buf + len))
        __builtin_trap();
    if (n)
        fuzz_use(b, n);
}

static int same(const wmmp_health_record *a, const wmmp_health_record *b)
{
    if (a->record_id != b->record_id || a->measured_at != b->measured_at || a->present != b->present ||
        a->lab_count != b->lab_count || a->reminder_count != b->reminder_count)
        return 0;
    if ((a->present & WMMP_HEALTH_HAS_SUBJECT) &&
        (a->subject_id_len != b->subject_id_len || memcmp(a->subject_id, b->subject_id, a->subject_id_len)))
        return 0;
    if ((a->present & WMMP_HEALTH_HAS_ECG) &&
        (a->ecg.count != b->ecg.count || a->ecg.rate != b->ecg.rate || a->ecg.lead != b->ecg.lead ||
         a->ecg.resolution_nv != b->ecg.resolution_nv || memcmp(a->ecg.raw, b->ecg.raw, a->ecg.count * 2)))
        return 0;
    if (a->heart_rate != b->heart_rate || a->temperature_centi != b->temperature_centi ||
        a->bp_systolic != b->bp_systolic || a->bp_diastolic != b->bp_diastolic || a->bp_mean != b->bp_mean ||
        a->pulse_rate != b->pulse_rate || a->spo2 != b->spo2 || a->resp_rate != b->resp_rate)
        return 0;
    for (size_t i = 0; i < a->lab_count; i++)
        if (a->labs[i].analyte != b->labs[i].analyte || a->labs[i].unit != b->labs[i].unit ||
            a->labs[i].value_milli != b->labs[i].value_milli || a->labs[i].flag != b->labs[i].flag)
            return 0;
    for (size_t i = 0; i < a->reminder_count; i++)
        if (a->reminders[i].level != b->reminders[i].level || a->reminders[i].text_len != b->reminders[i].text_len ||
            memcmp(a->reminders[i].text, b->reminders[i].text, a->reminders[i].text_len))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wmmp_health_record rec, again;
    int is = wmmp_health_is_record(data, size);
    wmmp_err e = wmmp_health_decode(data, size, &rec);
    if (e == WMMP_OK && !is)
        __builtin_trap();
    if (e != WMMP_OK)
        return 0;
    if (rec.lab_count > WMMP_HEALTH_MAX_LABS || rec.reminder_count > WMMP_HEALTH_MAX_REMINDERS)
        __builtin_trap();
    if (rec.present & WMMP_HEALTH_HAS_SUBJECT)
        inside(rec.subject_id, rec.subject_id_len, data, size);
    if (rec.present & WMMP_HEALTH_HAS_ECG)
        inside(rec.ecg.raw, rec.ecg.count * 2, data, size);
    for (size_t i = 0; i < rec.reminder_count; i++)
        inside(rec.reminders[i].text, rec.reminders[i].text_len, data, size);
    for (size_t i = 0; i < rec.lab_count; i++) {
        const char *n = wmmp_lab_analyte_name(rec.labs[i].analyte);
        if (n)
            fuzz_use(n, strlen(n));
    }

    /* re-encode: the encoder takes ECG samples as int16 values */
    int16_t *samples = malloc((rec.ecg.count ? rec.ecg.count : 1) * sizeof *samples);
    uint8_t *buf = malloc(size + 64);
    wmmp_writer w;
    if (!samples || !buf)
        abort();
    if (rec.present & WMMP_HEALTH_HAS_ECG)
        for (size_t i = 0; i < rec.ecg.count; i++)
            samples[i] = wmmp_health_ecg_sample(&rec, i);
    rec.ecg.samples = samples;
    wmmp_writer_init(&w, buf, size + 64);
    /* at most the input's size: unknown tags and repeats are dropped, nothing is added but a header */
    if (wmmp_health_encode(&w, &rec) != WMMP_OK || w.len > size)
        __builtin_trap();
    if (wmmp_health_decode(buf, w.len, &again) != WMMP_OK || !same(&rec, &again))
        __builtin_trap();
    free(samples);
    free(buf);
    return 0;
}
