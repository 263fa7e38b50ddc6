/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_health.h"

#include <string.h>

#include "wmmp_tables.h"

static const uint8_t magic[2] = { 'H', 'T' };

static wmmp_err put_ecg(wmmp_writer *w, const wmmp_ecg *e)
{
    size_t len = WMMP_HEALTH_ECG_HEADER_LEN + 2 * e->count;
    if (len > 0xFFFF) {
        if (w->err == WMMP_OK)
            w->err = WMMP_ERR_TOO_LONG;
        return w->err;
    }
    wmmp_put_u16(w, WMMP_HT_ECG);
    wmmp_put_u16(w, (uint16_t)len);
    wmmp_put_u16(w, e->rate);
    wmmp_put_u8(w, e->lead);
    wmmp_put_u16(w, e->resolution_nv);
    for (size_t i = 0; i < e->count; i++)
        wmmp_put_u16(w, (uint16_t)e->samples[i]);
    return w->err;
}

wmmp_err wmmp_health_encode(wmmp_writer *w, const wmmp_health_record *r)
{
    wmmp_put_bytes(w, magic, sizeof magic);
    wmmp_put_u8(w, WMMP_HEALTH_VERSION);
    wmmp_put_u8(w, 0);
    wmmp_put_u32(w, r->record_id);
    wmmp_put_u32(w, r->measured_at);
    if (r->present & WMMP_HEALTH_HAS_SUBJECT)
        wmmp_put_tlv(w, WMMP_HT_SUBJECT_ID, r->subject_id, r->subject_id_len);
    if (r->present & WMMP_HEALTH_HAS_ECG)
        put_ecg(w, &r->ecg);
    if (r->present & WMMP_HEALTH_HAS_HEART_RATE)
        wmmp_put_tlv_u16(w, WMMP_HT_HEART_RATE, r->heart_rate);
    if (r->present & WMMP_HEALTH_HAS_TEMPERATURE)
        wmmp_put_tlv_u16(w, WMMP_HT_TEMPERATURE, (uint16_t)r->temperature_centi);
    if (r->present & WMMP_HEALTH_HAS_BLOOD_PRESSURE) {
        uint8_t bp[6];
        wmmp_store16(bp, r->bp_systolic);
        wmmp_store16(bp + 2, r->bp_diastolic);
        wmmp_store16(bp + 4, r->bp_mean);
        wmmp_put_tlv(w, WMMP_HT_BLOOD_PRESSURE, bp, sizeof bp);
    }
    if (r->present & WMMP_HEALTH_HAS_PULSE_RATE)
        wmmp_put_tlv_u16(w, WMMP_HT_PULSE_RATE, r->pulse_rate);
    if (r->present & WMMP_HEALTH_HAS_SPO2)
        wmmp_put_tlv_u8(w, WMMP_HT_SPO2, r->spo2);
    if (r->present & WMMP_HEALTH_HAS_RESP_RATE)
        wmmp_put_tlv_u8(w, WMMP_HT_RESP_RATE, r->resp_rate);
    if (r->lab_count > WMMP_HEALTH_MAX_LABS || r->reminder_count > WMMP_HEALTH_MAX_REMINDERS) {
        if (w->err == WMMP_OK)
            w->err = WMMP_ERR_HEALTH_TOO_MANY;
        return w->err;
    }
    for (size_t i = 0; i < r->lab_count; i++) {
        const wmmp_lab_result *l = &r->labs[i];
        uint8_t v[WMMP_HEALTH_LAB_LEN];
        wmmp_store16(v, l->analyte);
        v[2] = l->unit;
        wmmp_store32(v + 3, (uint32_t)l->value_milli);
        v[7] = l->flag;
        wmmp_put_tlv(w, WMMP_HT_LAB_RESULT, v, sizeof v);
    }
    for (size_t i = 0; i < r->reminder_count; i++) {
        const wmmp_reminder *m = &r->reminders[i];
        if (m->text_len + 1 > 0xFFFF) {
            if (w->err == WMMP_OK)
                w->err = WMMP_ERR_TOO_LONG;
            return w->err;
        }
        wmmp_put_u16(w, WMMP_HT_REMINDER);
        wmmp_put_u16(w, (uint16_t)(1 + m->text_len));
        wmmp_put_u8(w, m->level);
        wmmp_put_bytes(w, m->text, m->text_len);
    }
    return w->err;
}

int wmmp_health_is_record(const uint8_t *buf, size_t len)
{
    return buf && len >= WMMP_HEALTH_HEADER_LEN && buf[0] == 'H' && buf[1] == 'T' && buf[2] == WMMP_HEALTH_VERSION;
}

/* The value length each known tag must have; 0 = variable (checked by the caller). */
static wmmp_err check_length(const wmmp_tlv *t)
{
    size_t need = 0;
    switch (t->tag) {
    case WMMP_HT_HEART_RATE:
    case WMMP_HT_TEMPERATURE:
    case WMMP_HT_PULSE_RATE: need = 2; break;
    case WMMP_HT_SPO2:
    case WMMP_HT_RESP_RATE: need = 1; break;
    case WMMP_HT_BLOOD_PRESSURE: need = 6; break;
    case WMMP_HT_LAB_RESULT: need = WMMP_HEALTH_LAB_LEN; break;
    case WMMP_HT_ECG:
        return t->length >= WMMP_HEALTH_ECG_HEADER_LEN && (t->length - WMMP_HEALTH_ECG_HEADER_LEN) % 2 == 0
                   ? WMMP_OK
                   : WMMP_ERR_TLV_BAD_LENGTH;
    case WMMP_HT_REMINDER: return t->length >= 1 ? WMMP_OK : WMMP_ERR_TLV_BAD_LENGTH;
    default: return WMMP_OK; /* subject ID: any length; unknown tags: skipped */
    }
    return t->length == need ? WMMP_OK : WMMP_ERR_TLV_BAD_LENGTH;
}

static wmmp_err decode_tlv(wmmp_health_record *out, const wmmp_tlv *t)
{
    const uint8_t *v = t->value;
    wmmp_err e = check_length(t);
    if (e != WMMP_OK)
        return e;
    switch (t->tag) {
    case WMMP_HT_SUBJECT_ID:
        out->present |= WMMP_HEALTH_HAS_SUBJECT;
        out->subject_id = (const char *)v;
        out->subject_id_len = t->length;
        break;
    case WMMP_HT_ECG:
        out->present |= WMMP_HEALTH_HAS_ECG;
        out->ecg.rate = wmmp_load16(v);
        out->ecg.lead = v[2];
        out->ecg.resolution_nv = wmmp_load16(v + 3);
        out->ecg.count = (t->length - WMMP_HEALTH_ECG_HEADER_LEN) / 2;
        out->ecg.raw = v + WMMP_HEALTH_ECG_HEADER_LEN;
        out->ecg.samples = NULL;
        break;
    case WMMP_HT_HEART_RATE:
        out->present |= WMMP_HEALTH_HAS_HEART_RATE;
        out->heart_rate = wmmp_load16(v);
        break;
    case WMMP_HT_TEMPERATURE:
        out->present |= WMMP_HEALTH_HAS_TEMPERATURE;
        out->temperature_centi = (int16_t)wmmp_load16(v);
        break;
    case WMMP_HT_BLOOD_PRESSURE:
        out->present |= WMMP_HEALTH_HAS_BLOOD_PRESSURE;
        out->bp_systolic = wmmp_load16(v);
        out->bp_diastolic = wmmp_load16(v + 2);
        out->bp_mean = wmmp_load16(v + 4);
        break;
    case WMMP_HT_PULSE_RATE:
        out->present |= WMMP_HEALTH_HAS_PULSE_RATE;
        out->pulse_rate = wmmp_load16(v);
        break;
    case WMMP_HT_SPO2:
        out->present |= WMMP_HEALTH_HAS_SPO2;
        out->spo2 = v[0];
        break;
    case WMMP_HT_RESP_RATE:
        out->present |= WMMP_HEALTH_HAS_RESP_RATE;
        out->resp_rate = v[0];
        break;
    case WMMP_HT_LAB_RESULT: {
        if (out->lab_count == WMMP_HEALTH_MAX_LABS)
            return WMMP_ERR_HEALTH_TOO_MANY;
        wmmp_lab_result *l = &out->labs[out->lab_count++];
        l->analyte = wmmp_load16(v);
        l->unit = v[2];
        l->value_milli = (int32_t)wmmp_load32(v + 3);
        l->flag = v[7];
        break;
    }
    case WMMP_HT_REMINDER: {
        if (out->reminder_count == WMMP_HEALTH_MAX_REMINDERS)
            return WMMP_ERR_HEALTH_TOO_MANY;
        wmmp_reminder *m = &out->reminders[out->reminder_count++];
        m->level = v[0];
        m->text = (const char *)v + 1;
        m->text_len = t->length - 1u;
        break;
    }
    default:
        out->unknown_tags++;
    }
    return WMMP_OK;
}

wmmp_err wmmp_health_decode(const uint8_t *buf, size_t len, wmmp_health_record *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || len < WMMP_HEALTH_HEADER_LEN)
        return WMMP_ERR_BODY_TRUNCATED;
    if (buf[0] != 'H' || buf[1] != 'T')
        return WMMP_ERR_HEALTH_BAD_MAGIC;
    if (buf[2] != WMMP_HEALTH_VERSION)
        return WMMP_ERR_HEALTH_BAD_VERSION;
    out->record_id = wmmp_load32(buf + 4);
    out->measured_at = wmmp_load32(buf + 8);
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_err e;
    wmmp_reader_init(&r, buf + WMMP_HEALTH_HEADER_LEN, len - WMMP_HEALTH_HEADER_LEN);
    while ((e = wmmp_tlv_next(&r, &t)) == WMMP_OK)
        if ((e = decode_tlv(out, &t)) != WMMP_OK)
            return e;
    return e == WMMP_END ? WMMP_OK : e;
}

int16_t wmmp_health_ecg_sample(const wmmp_health_record *r, size_t i)
{
    if (i >= r->ecg.count)
        return 0;
    return r->ecg.raw ? (int16_t)wmmp_load16(r->ecg.raw + 2 * i) : r->ecg.samples[i];
}

#define PAIR WMMP_VALUE_NAME_PAIR
#define LOOKUP WMMP_VALUE_NAME_LOOKUP

static const wmmp_value_name health_tag_names[] = {
#define WMMP_HEALTH_TAG(t, s, n) PAIR(t, n)
#include "wmmp_health.def"
};
LOOKUP(wmmp_health_tag_name, health_tag_names)

static const wmmp_value_name ecg_lead_names[] = {
#define WMMP_ECG_LEAD PAIR
#include "wmmp_health.def"
};
LOOKUP(wmmp_ecg_lead_name, ecg_lead_names)

static const wmmp_value_name lab_analyte_names[] = {
#define WMMP_LAB_ANALYTE(v, s, n, u) PAIR(v, n)
#include "wmmp_health.def"
};
LOOKUP(wmmp_lab_analyte_name, lab_analyte_names)

static const wmmp_value_name lab_unit_names[] = {
#define WMMP_LAB_UNIT PAIR
#include "wmmp_health.def"
};
LOOKUP(wmmp_lab_unit_name, lab_unit_names)

static const wmmp_value_name lab_flag_names[] = {
#define WMMP_LAB_FLAG PAIR
#include "wmmp_health.def"
};
LOOKUP(wmmp_lab_flag_name, lab_flag_names)

static const wmmp_value_name reminder_level_names[] = {
#define WMMP_REMINDER_LEVEL PAIR
#include "wmmp_health.def"
};
LOOKUP(wmmp_reminder_level_name, reminder_level_names)
