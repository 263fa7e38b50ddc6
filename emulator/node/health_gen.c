/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plausible health records (health_gen.h). */
#include "health_gen.h"

#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ---- the generator's own PRNG (xorshift64*), seeded once from env->random ---- */

static uint64_t rng_next(health_gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 2685821657736338717ULL;
}

/* Uniform in (0, 1): never 0, so log() below is safe. */
static double rng_unit(health_gen *g) { return ((double)(rng_next(g) >> 11) + 0.5) / 9007199254740992.0; }

static double rng_range(health_gen *g, double lo, double hi) { return lo + (hi - lo) * rng_unit(g); }

static int rng_chance(health_gen *g, double p) { return rng_unit(g) < p; }

/* Standard normal (Box-Muller). */
static double rng_normal(health_gen *g)
{
    double u1 = rng_unit(g), u2 = rng_unit(g);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/*
 * lround() of a value already clamped to a small range, without the library call (one per ECG sample):
 * v - trunc(v) is exact below 2^52, so rounding half away from zero from it gives lround()'s result.
 */
static long round_half_away(double v)
{
    long r = (long)v; /* towards zero */
    double frac = v - (double)r;
    return frac >= 0.5 ? r + 1 : frac <= -0.5 ? r - 1 : r;
}

static long roundl_clamp(double v, long lo, long hi) { return round_half_away(clampd(v, (double)lo, (double)hi)); }

/* ---- subjects ---- */

/* GB 11643 check character of an 18-character resident ID (ISO 7064 MOD 11-2). */
static char id_check_char(const char *first17)
{
    static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char map[] = "10X98765432";
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (first17[i] - '0') * weight[i];
    return map[sum % 11];
}

static void make_subject(health_gen *g, health_subject *s)
{
    static const char *const regions[] = { "110101", "310104", "440305", "510107", "420106", "610113" };
    unsigned region = (unsigned)(rng_next(g) % (sizeof regions / sizeof regions[0]));
    unsigned year = 1940 + (unsigned)(rng_next(g) % 66), month = 1 + (unsigned)(rng_next(g) % 12);
    unsigned day = 1 + (unsigned)(rng_next(g) % 28), seq = (unsigned)(rng_next(g) % 1000);
    snprintf(s->id, sizeof s->id, "%s%04u%02u%02u%03u", regions[region], year, month, day, seq);
    s->id[17] = id_check_char(s->id);
    s->id[18] = '\0';
    s->heart_rate = rng_range(g, 64, 84);
    s->temperature = rng_range(g, 36.6, 37.0);
    s->systolic = rng_range(g, 106, 128);
    s->diastolic = rng_range(g, 66, 80);
    s->spo2 = rng_range(g, 96.5, 98.5);
    s->resp_rate = rng_range(g, 13.5, 17.0);
    s->ecg_gain = rng_range(g, 0.85, 1.15);
}

void health_gen_init(health_gen *g, const emu_env *env, unsigned ecg_every, unsigned ecg_seconds)
{
    memset(g, 0, sizeof *g);
    g->rng = ((uint64_t)env->random(env->ctx) << 32) | env->random(env->ctx);
    if (g->rng == 0)
        g->rng = 0x9E3779B97F4A7C15ULL; /* xorshift must not start at 0 */
    g->ecg_every = ecg_every;
    g->ecg_seconds = ecg_seconds > HEALTH_GEN_MAX_ECG_SECONDS ? HEALTH_GEN_MAX_ECG_SECONDS : ecg_seconds;
    for (int i = 0; i < HEALTH_GEN_SUBJECTS; i++) {
        health_subject s;
        g->subject_rng[i] = g->rng;
        make_subject(g, &s); /* for its draws: the generator's sequence goes on after the subjects */
    }
}

/* Subject i, made again from the PRNG state it was first made from: the same draws, the same subject. */
static void subject_at(const health_gen *g, unsigned i, health_subject *s)
{
    health_gen replay = *g;
    replay.rng = g->subject_rng[i];
    make_subject(&replay, s);
}

/* ---- ECG: sum of Gaussians per beat (P, Q, R, S, T), lead II ---- */

typedef struct {
    double amplitude_mv; /* at gain 1 */
    double centre_s;     /* from the R peak at 60/min */
    double width_s;      /* Gaussian sigma */
    int rate_scaled;     /* P and T move with sqrt(RR) (Bazett), QRS does not */
} ecg_wave;

static const ecg_wave pqrst[] = {
    { 0.15, -0.200, 0.025, 1 },  /* P */
    { -0.12, -0.028, 0.008, 0 }, /* Q */
    { 1.20, 0.000, 0.010, 0 },   /* R */
    { -0.28, 0.028, 0.009, 0 },  /* S */
    { 0.32, 0.300, 0.055, 1 },   /* T */
};

#define ECG_WINDOW 16 /* beats within +-1 s of a sample: at most 9 even at 240/min */

typedef struct {
    double beat[ECG_WINDOW]; /* R-peak times, oldest first */
    size_t count;
    double next;             /* the R peak after the last one in beat[] */
    double rr;               /* mean RR interval, s */
} ecg_beats;

#define N_WAVES (sizeof pqrst / sizeof pqrst[0])

/* The waves' centres and widths at one RR interval: the same for every beat of an ECG, so computed once. */
typedef struct {
    double centre[N_WAVES], width[N_WAVES];
    double reach[N_WAVES]; /* |t - centre| at or beyond this is surely beyond 5 widths (see beat_mv) */
    double first, last;    /* a beat adds nothing at t - R <= first or >= last: outside every wave's reach */
} ecg_shape;

static void shape_at(double rr, ecg_shape *sh)
{
    double stretch = clampd(sqrt(rr), 0.6, 1.3);
    sh->first = sh->last = 0; /* set by wave 0 below; initialised for GCC's -Wmaybe-uninitialized at -O2 */
    for (size_t i = 0; i < N_WAVES; i++) {
        const ecg_wave *w = &pqrst[i];
        sh->centre[i] = w->rate_scaled ? w->centre_s * stretch : w->centre_s;
        sh->width[i] = w->rate_scaled ? w->width_s * stretch : w->width_s;
        sh->reach[i] = 5 * sh->width[i] * (1 + 1e-9);
        double lo = sh->centre[i] - sh->reach[i], hi = sh->centre[i] + sh->reach[i];
        sh->first = i == 0 || lo < sh->first ? lo : sh->first;
        sh->last = i == 0 || hi > sh->last ? hi : sh->last;
    }
}

/* One beat's contribution at time t (seconds from its R peak), in mV at gain 1. */
static double beat_mv(double t, const ecg_shape *sh)
{
    double v = 0;
    for (size_t i = 0; i < N_WAVES; i++) {
        /* most waves of most beats are far from t: skip them before the division, with a margin so wide
           that rounding cannot put a skipped one inside the +-5 widths tested below (which decides) */
        double x = t - sh->centre[i];
        if (fabs(x) >= sh->reach[i])
            continue;
        double d = x / sh->width[i];
        if (d > -5 && d < 5)
            v += pqrst[i].amplitude_mv * exp(-0.5 * d * d);
    }
    return v;
}

/*
 * The mains hum at sample i, 0.004 * sin(2 pi 50 t): it does not depend on the record, so one table shared
 * by every generator (the load generator runs thousands) holds it for the longest ECG, computed once with
 * the very expression health_gen_ecg() used per sample, so every sample is the same double as before.
 */
#define ECG_MAX_SAMPLES ((size_t)HEALTH_GEN_MAX_ECG_SECONDS * HEALTH_GEN_ECG_RATE)

static double mains_hum_at(size_t i)
{
    double t = (double)i / HEALTH_GEN_ECG_RATE;
    return 0.004 * sin(2 * PI * 50 * t);
}

static const double *mains_hum_table(void)
{
    static double table[ECG_MAX_SAMPLES];
    static gsize ready;
    if (g_once_init_enter(&ready)) {
        for (size_t i = 0; i < ECG_MAX_SAMPLES; i++)
            table[i] = mains_hum_at(i);
        g_once_init_leave(&ready, 1);
    }
    return table;
}

/* Keeps the beats within 1 s of t (a whole PQRST spans less), adding the next ones with a little HRV. */
static void beats_advance(health_gen *g, ecg_beats *b, double t)
{
    while (b->count > 0 && b->beat[0] < t - 1.0) {
        memmove(b->beat, b->beat + 1, (b->count - 1) * sizeof b->beat[0]);
        b->count--;
    }
    while (b->next < t + 1.0 && b->count < ECG_WINDOW) {
        b->beat[b->count++] = b->next;
        b->next += b->rr * (1.0 + clampd(0.015 * rng_normal(g), -0.04, 0.04));
    }
}

void health_gen_ecg(health_gen *g, double heart_rate, double gain, int16_t *out, size_t n)
{
    ecg_beats b = { .count = 0, .rr = 60.0 / clampd(heart_rate, 30, 240) };
    /* the first R peak somewhere in [0.15 s, 0.15 s + RR): one beat earlier still shows its T wave */
    double first = 0.15 + rng_unit(g) * b.rr;
    b.beat[b.count++] = first - b.rr;
    b.next = first;
    double phase1 = rng_range(g, 0, 2 * PI), phase2 = rng_range(g, 0, 2 * PI);
    double scale = 1e6 / HEALTH_GEN_ECG_RESOLUTION_NV; /* LSB per mV */
    const double *hum = mains_hum_table();
    ecg_shape shape;
    shape_at(b.rr, &shape);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / HEALTH_GEN_ECG_RATE, mv = 0;
        beats_advance(g, &b, t);
        for (size_t k = 0; k < b.count; k++) {
            double from_r = t - b.beat[k];
            if (from_r > shape.first && from_r < shape.last) /* else it adds exactly 0 */
                mv += gain * beat_mv(from_r, &shape);
        }
        mv += 0.04 * sin(2 * PI * 0.3 * t + phase1) + 0.02 * sin(2 * PI * 0.05 * t + phase2); /* breathing, drift */
        mv += i < ECG_MAX_SAMPLES ? hum[i] : mains_hum_at(i);                                 /* mains hum */
        mv += 0.008 * rng_normal(g);                                                          /* EMG noise */
        out[i] = (int16_t)roundl_clamp(mv * scale, INT16_MIN, INT16_MAX);
    }
}

/* ---- reminders ---- */

static void add_reminder(health_gen_record *out, uint8_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_reminder(health_gen_record *out, uint8_t level, const char *fmt, ...)
{
    size_t i = out->rec.reminder_count;
    if (i >= HEALTH_GEN_MAX_REMINDERS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->texts[i], sizeof out->texts[i], fmt, ap);
    va_end(ap);
    out->rec.reminders[i] = (wmmp_reminder){ level, out->texts[i], strlen(out->texts[i]) };
    out->rec.reminder_count++;
}

/* ---- vitals ---- */

#define DEG_C "\xc2\xb0" "C"

static void gen_heart(health_gen *g, const health_subject *s, health_gen_record *out)
{
    wmmp_health_record *r = &out->rec;
    if (rng_chance(g, 0.03)) {
        r->heart_rate = (uint16_t)roundl_clamp(rng_range(g, 101, 125), 101, 125);
        add_reminder(out, 2, "Fast heart rate: %u /min at rest, rest and measure again", r->heart_rate);
    } else {
        r->heart_rate = (uint16_t)roundl_clamp(s->heart_rate + 3.0 * rng_normal(g), 60, 100);
    }
    r->pulse_rate = (uint16_t)(r->heart_rate + (int)(rng_next(g) % 5) - 2);
}

static void gen_temperature(health_gen *g, const health_subject *s, health_gen_record *out)
{
    wmmp_health_record *r = &out->rec;
    if (rng_chance(g, 0.05)) {
        r->temperature_centi = (int16_t)roundl_clamp(rng_range(g, 37.6, 39.6) * 100, 3760, 3960);
        int t = r->temperature_centi;
        add_reminder(out, t >= 3900 ? 3 : 2, "High temperature: %d.%d " DEG_C ", consult a doctor", t / 100,
                     t % 100 / 10);
    } else {
        r->temperature_centi = (int16_t)roundl_clamp((s->temperature + 0.12 * rng_normal(g)) * 100, 3630, 3750);
    }
}

static void gen_blood_pressure(health_gen *g, const health_subject *s, health_gen_record *out)
{
    wmmp_health_record *r = &out->rec;
    long sys, dia;
    if (rng_chance(g, 0.04)) {
        sys = roundl_clamp(rng_range(g, 141, 170), 141, 170);
        dia = roundl_clamp(rng_range(g, 90, 105), 90, 105);
    } else {
        sys = roundl_clamp(s->systolic + 5.0 * rng_normal(g), 95, 139);
        dia = roundl_clamp(s->diastolic + 4.0 * rng_normal(g), 60, 89);
    }
    if (dia > sys - 25)
        dia = sys - 25; /* keep a plausible pulse pressure */
    r->bp_systolic = (uint16_t)sys;
    r->bp_diastolic = (uint16_t)dia;
    r->bp_mean = (uint16_t)(dia + (sys - dia) / 3);
    if (sys > 140 || dia >= 90)
        add_reminder(out, 2, "High blood pressure: %ld/%ld mmHg, consult a doctor", sys, dia);
    else if (sys >= 130 || dia >= 85)
        add_reminder(out, 1, "Blood pressure slightly elevated: %ld/%ld mmHg, measure again next week", sys, dia);
}

static void gen_breathing(health_gen *g, const health_subject *s, health_gen_record *out)
{
    wmmp_health_record *r = &out->rec;
    if (rng_chance(g, 0.02)) {
        r->spo2 = (uint8_t)roundl_clamp(rng_range(g, 88, 93.5), 88, 93);
        add_reminder(out, r->spo2 < 90 ? 3 : 2, "Low blood oxygen: SpO2 %u %%, consult a doctor", r->spo2);
    } else {
        r->spo2 = (uint8_t)roundl_clamp(s->spo2 + 0.8 * rng_normal(g), 94, 99);
    }
    r->resp_rate = (uint8_t)roundl_clamp(s->resp_rate + 1.2 * rng_normal(g), 12, 20);
}

/* ---- lab results ---- */

typedef struct {
    uint16_t analyte;
    uint8_t unit;
    const char *name;
    double mean, sd;          /* of this population */
    double low, high;         /* reference range */
    double crit_low, crit_high;
    int decimals;             /* for reminder texts */
} lab_ref;

static const lab_ref lab_refs[] = {
    { 1, 1, "Hemoglobin", 140, 14, 120, 160, 70, 200, 0 },
    { 2, 2, "Glucose", 5.2, 0.8, 3.9, 6.1, 2.8, 25, 1 },
    { 3, 0, "pH", 7.40, 0.025, 7.35, 7.45, 7.20, 7.60, 2 },
    { 4, 3, "pCO2", 40, 3.5, 35, 45, 20, 70, 0 },
    { 5, 3, "pO2", 92, 7, 80, 100, 50, 500, 0 },
    { 6, 2, "Na+", 140, 2.5, 135, 145, 120, 160, 0 },
    { 7, 2, "K+", 4.2, 0.35, 3.5, 5.1, 2.8, 6.2, 1 },
    { 8, 2, "Cl-", 102, 2.5, 98, 107, 80, 120, 0 },
    { 9, 2, "Ionized Ca2+", 1.22, 0.06, 1.12, 1.32, 0.8, 1.6, 2 },
    { 10, 4, "Prothrombin time", 12.2, 0.8, 11.0, 13.5, 0, 30, 1 },
    { 11, 0, "INR", 1.0, 0.1, 0.8, 1.2, 0, 5.0, 2 },
    { 12, 4, "APTT", 30, 3, 25, 35, 0, 100, 0 },
    { 13, 1, "Fibrinogen", 3.0, 0.5, 2.0, 4.0, 1.0, 8.0, 1 },
};

#define CROSS_MATCH 14

static const lab_ref *lab_find(uint16_t analyte)
{
    for (size_t i = 0; i < sizeof lab_refs / sizeof lab_refs[0]; i++)
        if (lab_refs[i].analyte == analyte)
            return &lab_refs[i];
    return NULL;
}

uint8_t health_gen_lab_flag(uint16_t analyte, int32_t value_milli)
{
    if (analyte == CROSS_MATCH)
        return value_milli == 0 ? 0 : 3; /* an incompatible cross-match stops a transfusion */
    const lab_ref *ref = lab_find(analyte);
    if (!ref)
        return 0;
    double v = value_milli / 1000.0;
    if (v < ref->crit_low || v > ref->crit_high)
        return 3;
    return v < ref->low ? 1 : v > ref->high ? 2 : 0;
}

static const char *lab_unit_text(uint8_t unit) { return unit == 0 ? "" : wmmp_lab_unit_name(unit); }

static void lab_reminder(health_gen_record *out, const lab_ref *ref, const wmmp_lab_result *lr)
{
    const char *unit = lab_unit_text(lr->unit), *sep = *unit ? " " : "";
    double v = lr->value_milli / 1000.0;
    if (lr->flag == 3)
        add_reminder(out, 3, "Critical %s: %.*f%s%s, seek medical care now", ref->name, ref->decimals, v, sep, unit);
    else if (lr->flag)
        add_reminder(out, 1, "%s %.*f%s%s is %s the reference range (%.*f-%.*f), repeat the test", ref->name,
                     ref->decimals, v, sep, unit, lr->flag == 1 ? "below" : "above", ref->decimals, ref->low,
                     ref->decimals, ref->high);
}

static void gen_one_lab(health_gen *g, health_gen_record *out, uint16_t analyte)
{
    wmmp_health_record *r = &out->rec;
    wmmp_lab_result *lr = &r->labs[r->lab_count++];
    if (analyte == CROSS_MATCH) {
        lr->analyte = CROSS_MATCH;
        lr->unit = 0;
        lr->value_milli = rng_chance(g, 0.05) ? 1000 : 0; /* 1 incompatible, 0 compatible */
        lr->flag = health_gen_lab_flag(CROSS_MATCH, lr->value_milli);
        if (lr->flag)
            add_reminder(out, 3, "Cross-match incompatible: do not transfuse this unit");
        return;
    }
    const lab_ref *ref = lab_find(analyte);
    double sd = rng_chance(g, 0.1) ? ref->sd * 3 : ref->sd; /* now and then a sick patient */
    double v = clampd(ref->mean + sd * rng_normal(g), 0, ref->mean * 4);
    lr->analyte = analyte;
    lr->unit = ref->unit;
    lr->value_milli = (int32_t)lround(v * 1000);
    lr->flag = health_gen_lab_flag(analyte, lr->value_milli);
    lab_reminder(out, ref, lr);
}

/* 1-3 distinct analytes, as one cartridge of the tester measures a few at a time. */
static void gen_labs(health_gen *g, health_gen_record *out)
{
    unsigned n = 1 + (unsigned)(rng_next(g) % 3);
    uint16_t picked[3];
    for (unsigned i = 0; i < n; i++) {
        uint16_t a;
        int dup;
        do {
            a = (uint16_t)(1 + rng_next(g) % 14);
            dup = 0;
            for (unsigned j = 0; j < i; j++)
                dup |= picked[j] == a;
        } while (dup);
        picked[i] = a;
        gen_one_lab(g, out, a);
    }
}

/* ---- records ---- */

static int gen_ecg_for(health_gen *g, const health_subject *s, health_gen_record *out)
{
    size_t n = (size_t)g->ecg_seconds * HEALTH_GEN_ECG_RATE;
    out->ecg = malloc(n * sizeof *out->ecg);
    if (!out->ecg)
        return -1;
    health_gen_ecg(g, out->rec.heart_rate, s->ecg_gain, out->ecg, n);
    out->rec.present |= WMMP_HEALTH_HAS_ECG;
    out->rec.ecg = (wmmp_ecg){ HEALTH_GEN_ECG_RATE, HEALTH_GEN_ECG_LEAD_II, HEALTH_GEN_ECG_RESOLUTION_NV, n,
                               out->ecg, NULL };
    return 0;
}

int health_gen_next(health_gen *g, uint32_t record_id, uint32_t measured_at, health_gen_record *out)
{
    memset(out, 0, sizeof *out);
    health_subject subject;
    subject_at(g, (unsigned)(rng_next(g) % HEALTH_GEN_SUBJECTS), &subject);
    const health_subject *s = &subject;
    wmmp_health_record *r = &out->rec;
    r->record_id = record_id;
    r->measured_at = measured_at;
    memcpy(out->subject, s->id, sizeof out->subject);
    r->subject_id = out->subject;
    r->subject_id_len = HEALTH_GEN_SUBJECT_ID_LEN;
    r->present = WMMP_HEALTH_HAS_SUBJECT | WMMP_HEALTH_HAS_HEART_RATE | WMMP_HEALTH_HAS_TEMPERATURE |
                 WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_PULSE_RATE | WMMP_HEALTH_HAS_SPO2 |
                 WMMP_HEALTH_HAS_RESP_RATE;
    gen_heart(g, s, out);
    gen_temperature(g, s, out);
    gen_blood_pressure(g, s, out);
    gen_breathing(g, s, out);
    if (g->ecg_every && g->ecg_seconds && g->made % g->ecg_every == 0 && gen_ecg_for(g, s, out) < 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    if (rng_chance(g, 0.15))
        gen_labs(g, out);
    if (r->reminder_count == 0 && rng_chance(g, 0.1))
        add_reminder(out, 0, "All measurements within normal ranges");
    g->made++;
    return 0;
}

void health_gen_record_free(health_gen_record *r)
{
    free(r->ecg);
    memset(r, 0, sizeof *r);
}

int health_gen_encode(const health_gen_record *r, uint8_t **out, size_t *len)
{
    /* header + vitals, labs and reminders fit easily in 4 kB; the ECG adds its samples */
    size_t cap = 4096 + r->rec.ecg.count * 2;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    if (wmmp_health_encode(&w, &r->rec) != WMMP_OK) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = w.len;
    return 0;
}
