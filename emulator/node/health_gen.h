/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plausible health records for the integrated health tester (profile section 10; the seed paper's six
 * physiological parameters, biochemistry and medical reminders):
 *
 *   - vitals of a few subjects, each with its own baselines plus noise: heart rate ~60-100/min, body
 *     temperature 36.3-37.5 degC, blood pressure with mean = diastolic + (systolic - diastolic) / 3, pulse
 *     = heart rate +- 2, SpO2 94-99 %, respiration 12-20/min; now and then an abnormal value (fever,
 *     hypertension, tachycardia, low SpO2), which also raises a warning reminder;
 *   - every ecg_every-th record (the first included) an ECG of ecg_seconds, lead II, 250 Hz,
 *     1000 nV/LSB, from a sum-of-Gaussians PQRST model at the record's heart rate with a little heart-rate
 *     variability, baseline wander and noise;
 *   - occasional lab results (analytes 1-14 in milli-units, the table's unit, a flag from reference ranges)
 *     and reminders (level 0 info, 1 advice, 2 warning, 3 urgent).
 *
 * Deterministic: the generator seeds its own PRNG from env->random once, in health_gen_init(), so the
 * records depend only on the run's seed (--seed), not on how many random numbers other parts draw later
 * (loss injection, for example).
 */
#ifndef HEALTH_GEN_H
#define HEALTH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "emu_env.h"
#include "wmmp_health.h"

#define HEALTH_GEN_SUBJECTS 4
#define HEALTH_GEN_SUBJECT_ID_LEN 18    /* a PRC resident ID number, as read by the ID-document scanner */
#define HEALTH_GEN_ECG_RATE 250         /* Hz */
#define HEALTH_GEN_ECG_LEAD_II 1
#define HEALTH_GEN_ECG_RESOLUTION_NV 1000
#define HEALTH_GEN_MAX_ECG_SECONDS 60   /* 15000 samples: 30 kB, well inside one TLV */
#define HEALTH_GEN_DEFAULT_ECG_EVERY 5
#define HEALTH_GEN_MAX_REMINDERS 4
#define HEALTH_GEN_REMINDER_TEXT 160

typedef struct {
    char id[HEALTH_GEN_SUBJECT_ID_LEN + 1];
    double heart_rate, temperature, systolic, diastolic, spo2, resp_rate; /* baselines */
    double ecg_gain;                                                      /* R-wave size of this subject */
} health_subject;

/*
 * Per generator (one per simulated terminal, 100,000 in a load run): 56 bytes. A subject is not kept but made
 * again from the PRNG state it was first made from (subject_rng), the same draws giving the same subject.
 */
typedef struct {
    uint64_t rng;          /* own xorshift64* state, seeded from env->random */
    unsigned ecg_every;    /* every k-th record carries an ECG; 0: never */
    unsigned ecg_seconds;  /* ECG length (capped at HEALTH_GEN_MAX_ECG_SECONDS); 0: no ECG */
    uint64_t made;         /* records generated so far */
    uint64_t subject_rng[HEALTH_GEN_SUBJECTS]; /* rng before each subject was made (health_gen_init) */
} health_gen;

/* One generated record: rec points into the owned buffers below. */
typedef struct {
    wmmp_health_record rec;
    int16_t *ecg; /* owned (malloc), NULL without an ECG */
    char subject[HEALTH_GEN_SUBJECT_ID_LEN + 1];
    char texts[HEALTH_GEN_MAX_REMINDERS][HEALTH_GEN_REMINDER_TEXT];
} health_gen_record;

void health_gen_init(health_gen *g, const emu_env *env, unsigned ecg_every, unsigned ecg_seconds);

/* Fills out (record_id and measured_at as given). -1 when out of memory (out is then empty). */
int health_gen_next(health_gen *g, uint32_t record_id, uint32_t measured_at, health_gen_record *out);
void health_gen_record_free(health_gen_record *r);

/* The encoded record (profile section 10) in a malloc'd buffer; -1 when it cannot be encoded. */
int health_gen_encode(const health_gen_record *r, uint8_t **out, size_t *len);

/*
 * The ECG model alone (for tests and health_gen_next): n samples at 250 Hz of lead II at heart_rate, in
 * units of HEALTH_GEN_ECG_RESOLUTION_NV. The first R peak lies within the first RR interval.
 */
void health_gen_ecg(health_gen *g, double heart_rate, double gain, int16_t *out, size_t n);

/* The flag of profile section 10 for a lab value (milli-units) from this generator's reference ranges. */
uint8_t health_gen_lab_flag(uint16_t analyte, int32_t value_milli);

#endif
