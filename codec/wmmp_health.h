/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The health record of the integrated health tester (profile section 10), carried as the user data of
 * TRANSPARENT_DATA:
 *   "HT" | version 0x01 | flags 0 | record ID (4) | measured at (4, Unix s) | TLVs (tag 2, length 2)
 * Tags, ECG leads, lab analytes, units, flags and reminder levels are declared in wmmp_health.def.
 */
#ifndef WMMP_HEALTH_H
#define WMMP_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"
#include "wmmp_tlv.h"

#define WMMP_HEALTH_HEADER_LEN 12
#define WMMP_HEALTH_VERSION 1
#define WMMP_HEALTH_MAX_LABS 32
#define WMMP_HEALTH_MAX_REMINDERS 16
#define WMMP_HEALTH_ECG_HEADER_LEN 5 /* rate (2) + lead (1) + resolution (2) */
#define WMMP_HEALTH_LAB_LEN 8        /* analyte (2) + unit (1) + value (4) + flag (1) */

/* Health-record tags as constants: WMMP_HT_SUBJECT_ID, ... */
enum {
#define WMMP_HEALTH_TAG(tag, sym, name) WMMP_HT_##sym = tag,
#include "wmmp_health.def"
};

/* Which single-valued measurements a record holds (wmmp_health_record.present). */
enum {
    WMMP_HEALTH_HAS_SUBJECT = 1 << 0,
    WMMP_HEALTH_HAS_ECG = 1 << 1,
    WMMP_HEALTH_HAS_HEART_RATE = 1 << 2,
    WMMP_HEALTH_HAS_TEMPERATURE = 1 << 3,
    WMMP_HEALTH_HAS_BLOOD_PRESSURE = 1 << 4,
    WMMP_HEALTH_HAS_PULSE_RATE = 1 << 5,
    WMMP_HEALTH_HAS_SPO2 = 1 << 6,
    WMMP_HEALTH_HAS_RESP_RATE = 1 << 7,
};

typedef struct {
    uint16_t analyte;    /* WMMP_LAB_ANALYTE values */
    uint8_t unit;        /* WMMP_LAB_UNIT values */
    int32_t value_milli; /* value x 0.001 */
    uint8_t flag;        /* 0 normal, 1 low, 2 high, 3 critical */
} wmmp_lab_result;

typedef struct {
    uint8_t level;    /* 0 info, 1 advice, 2 warning, 3 urgent */
    const char *text; /* UTF-8, not NUL-terminated */
    size_t text_len;
} wmmp_reminder;

typedef struct {
    uint16_t rate;          /* Hz */
    uint8_t lead;           /* WMMP_ECG_LEAD values */
    uint16_t resolution_nv; /* nanovolts per LSB */
    size_t count;           /* samples */
    const int16_t *samples; /* encoder input */
    const uint8_t *raw;     /* decoder output: count big-endian int16, inside the decoded buffer */
} wmmp_ecg;

/*
 * One record. The decoder points subject_id, ecg.raw and reminder texts into the buffer it was given
 * (no allocation). A measurement that appears twice keeps its last value.
 */
typedef struct {
    uint32_t record_id;
    uint32_t measured_at;
    unsigned present; /* WMMP_HEALTH_HAS_* bits */
    const char *subject_id;
    size_t subject_id_len;
    wmmp_ecg ecg;
    uint16_t heart_rate;       /* beats/min */
    int16_t temperature_centi; /* 0.01 degC */
    uint16_t bp_systolic, bp_diastolic, bp_mean; /* mmHg */
    uint16_t pulse_rate;       /* beats/min */
    uint8_t spo2;              /* % */
    uint8_t resp_rate;         /* breaths/min */
    wmmp_lab_result labs[WMMP_HEALTH_MAX_LABS];
    size_t lab_count;
    wmmp_reminder reminders[WMMP_HEALTH_MAX_REMINDERS];
    size_t reminder_count;
    size_t unknown_tags; /* decoder: TLVs with tags it does not know, skipped */
} wmmp_health_record;

/* Writes the whole record: header, then TLVs in table order (subject, ECG, vitals, labs, reminders). */
wmmp_err wmmp_health_encode(wmmp_writer *w, const wmmp_health_record *r);

/*
 * Decodes a record: WMMP_ERR_BODY_TRUNCATED (under 12 bytes), HEALTH_BAD_MAGIC, HEALTH_BAD_VERSION,
 * TLV framing errors, TLV_BAD_LENGTH (a known tag with a length its layout does not allow),
 * HEALTH_TOO_MANY (more lab results or reminders than the caps).
 */
wmmp_err wmmp_health_decode(const uint8_t *buf, size_t len, wmmp_health_record *out);

/* Sample i of a decoded ECG (i < ecg.count). */
int16_t wmmp_health_ecg_sample(const wmmp_health_record *r, size_t i);

/* The recognition test: at least 12 bytes, "HT", version 1. */
int wmmp_health_is_record(const uint8_t *buf, size_t len);

/* Names from wmmp_health.def; NULL for values without one. */
const char *wmmp_health_tag_name(unsigned tag);
const char *wmmp_ecg_lead_name(unsigned v);
const char *wmmp_lab_analyte_name(unsigned v);
const char *wmmp_lab_unit_name(unsigned v);
const char *wmmp_lab_flag_name(unsigned v);
const char *wmmp_reminder_level_name(unsigned v);

#endif
