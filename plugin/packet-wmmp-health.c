/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-health.c: the health record of the integrated health tester (profile section 10), carried
 * as WMMP user data (TLV 0x4007): "HT" | version 1 | flags | record ID (4) | measured at (4) | TLVs (tag 2,
 * length 2).
 *
 * Found through the heuristic list "wmmp.user_data" (other application formats can join it) or forced
 * with Decode As. Every name comes from codec/wmmp_health.def; the tree is built from the tvb so each
 * field highlights its bytes. Nothing is read before its length has been checked, so a malformed TLV
 * costs only itself (or the rest of the record when it runs past the end), never the packet.
 */
#include <string.h>

#include <wireshark.h>

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/strutil.h>
#include <epan/unit_strings.h>
#include <wsutil/utf8_entities.h>

#include "packet-wmmp.h"
#include "packet-wmmp-health.h"
#include "wmmp_health.h"

static int proto_wmmp_health = -1;
static dissector_handle_t health_handle;

static int hf_magic = -1;
static int hf_version = -1;
static int hf_flags = -1;
static int hf_record_id = -1;
static int hf_time = -1;
static int hf_tag = -1;
static int hf_length = -1;
static int hf_value = -1;
static int hf_subject_id = -1;
static int hf_ecg_rate = -1;
static int hf_ecg_lead = -1;
static int hf_ecg_resolution = -1;
static int hf_ecg_count = -1;
static int hf_ecg_sample = -1;
static int hf_heart_rate = -1;
static int hf_temperature = -1;
static int hf_temperature_raw = -1;
static int hf_bp_systolic = -1;
static int hf_bp_diastolic = -1;
static int hf_bp_mean = -1;
static int hf_pulse_rate = -1;
static int hf_spo2 = -1;
static int hf_resp_rate = -1;
static int hf_lab_analyte = -1;
static int hf_lab_unit = -1;
static int hf_lab_value = -1;
static int hf_lab_flag = -1;
static int hf_reminder_level = -1;
static int hf_reminder_text = -1;

static int ett_health = -1;
static int ett_tlv = -1;
static int ett_ecg_samples = -1;

static expert_field ei_too_short = EI_INIT;
static expert_field ei_bad_magic = EI_INIT;
static expert_field ei_bad_version = EI_INIT;
static expert_field ei_unknown_tag = EI_INIT;
static expert_field ei_bad_length = EI_INIT;
static expert_field ei_overrun = EI_INIT;
static expert_field ei_tlv_truncated = EI_INIT;

/* Value names, generated from the codec's table so the plugin and the codec cannot disagree. */
static const value_string tag_vals[] = {
#define WMMP_HEALTH_TAG(t, s, n) { t, n },
#include "wmmp_health.def"
    { 0, NULL }
};

static const value_string lead_vals[] = {
#define WMMP_ECG_LEAD(v, n) { v, n },
#include "wmmp_health.def"
    { 0, NULL }
};

static const value_string analyte_vals[] = {
#define WMMP_LAB_ANALYTE(v, s, n, u) { v, n },
#include "wmmp_health.def"
    { 0, NULL }
};

static const value_string lab_unit_vals[] = {
#define WMMP_LAB_UNIT(v, n) { v, n },
#include "wmmp_health.def"
    { 0, NULL }
};

static const value_string lab_flag_vals[] = {
#define WMMP_LAB_FLAG(v, n) { v, n },
#include "wmmp_health.def"
    { 0, NULL }
};

static const value_string reminder_level_vals[] = {
#define WMMP_REMINDER_LEVEL(v, n) { v, n },
#include "wmmp_health.def"
    { 0, NULL }
};

/* Analytes as constants: HT_LAB_HEMOGLOBIN, ... */
enum {
#define WMMP_LAB_ANALYTE(v, s, n, u) HT_LAB_##s = v,
#include "wmmp_health.def"
};

/* Our own units: Wireshark's built-in ones print "98%" and "500Hz"; the record reads "98 %". */
static const unit_name_string units_ht_hz = { " Hz", NULL };
static const unit_name_string units_ht_bpm = { " bpm", NULL };
static const unit_name_string units_ht_mmhg = { " mmHg", NULL };
static const unit_name_string units_ht_percent = { " %", NULL };
static const unit_name_string units_ht_breaths = { " breaths/min", NULL };
static const unit_name_string units_ht_nv_lsb = { " nV/LSB", NULL };

/* Lab unit 0 is named "" in the table (no unit); show it as "none" rather than an empty label. */
static void fmt_lab_unit(char *s, uint32_t v)
{
    const char *name = try_val_to_str(v, lab_unit_vals);
    g_snprintf(s, ITEM_LABEL_LENGTH, "%s (%u)", name == NULL ? "Unknown" : *name ? name : "none", v);
}

/* What the Info column and the protocol item summarise; a measurement seen twice keeps its last value,
   as in the codec. */
typedef struct {
    uint32_t record_id;
    unsigned present; /* WMMP_HEALTH_HAS_* */
    uint32_t heart_rate, pulse_rate, bp_systolic, bp_diastolic, bp_mean, spo2, resp_rate;
    int16_t temperature_centi;
    uint32_t ecg_samples;
    unsigned labs, reminders;
} ht_summary;

/* The value length each known tag's layout allows (the codec's rule, which it keeps private). */
/* A string from the record as the item text shows it (control characters escaped). format_text_string()
 * takes unsigned char * in 4.0 and char * from 4.2 on; void * converts to either. */
static const char *printable(wmem_allocator_t *scope, const uint8_t *text)
{
    return format_text_string(scope, (const void *)text);
}

static bool length_ok(uint16_t tag, unsigned len, const char **rule)
{
    switch (tag) {
    case WMMP_HT_HEART_RATE:
    case WMMP_HT_TEMPERATURE:
    case WMMP_HT_PULSE_RATE: *rule = "2 bytes"; return len == 2;
    case WMMP_HT_SPO2:
    case WMMP_HT_RESP_RATE: *rule = "1 byte"; return len == 1;
    case WMMP_HT_BLOOD_PRESSURE: *rule = "6 bytes"; return len == 6;
    case WMMP_HT_LAB_RESULT: *rule = "8 bytes"; return len == WMMP_HEALTH_LAB_LEN;
    case WMMP_HT_ECG:
        *rule = "5 bytes plus 2 per sample";
        return len >= WMMP_HEALTH_ECG_HEADER_LEN && (len - WMMP_HEALTH_ECG_HEADER_LEN) % 2 == 0;
    case WMMP_HT_REMINDER: *rule = "at least 1 byte"; return len >= 1;
    default: *rule = "any length"; return true; /* subject ID */
    }
}

/* value x 0.001 exactly, without trailing zeros: 142000 -> "142", 3100 -> "3.1", -7350 -> "-7.35". */
static const char *milli_str(wmem_allocator_t *scope, int32_t v)
{
    int64_t a = v < 0 ? -(int64_t)v : v;
    char frac[8];
    int n = 3;
    g_snprintf(frac, sizeof frac, "%03u", (unsigned)(a % 1000));
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    return wmem_strdup_printf(scope, "%s%" PRId64 "%s%s", v < 0 ? "-" : "", a / 1000, n ? "." : "",
                              frac);
}

/* 0.01 degC exactly: 3685 -> "36.85", -5 -> "-0.05". */
static const char *centi_str(wmem_allocator_t *scope, int16_t v)
{
    int a = v < 0 ? -(int)v : v;
    return wmem_strdup_printf(scope, "%s%d.%02d", v < 0 ? "-" : "", a / 100, a % 100);
}

#define ECG_SAMPLE_NAME "Sample" /* the field's name, also written into each sample's label */
#define ECG_SAMPLE_BLURB "Raw sample; microvolts = sample x resolution / 1000"

/* v in decimal at buf[n], as %d would print it; returns the new end. buf has room for 20 more bytes. */
static size_t put_int(char *buf, size_t n, int64_t v)
{
    char d[20];
    int k = 0;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        buf[n++] = '-';
    do
        d[k++] = (char)('0' + a % 10);
    while ((a /= 10) != 0);
    while (k > 0)
        buf[n++] = d[--k];
    return n;
}

/* A sample's value text, "-300 (-300 µV)": the raw value, then microvolts (raw x nanovolts per LSB / 1000).
   buf has ITEM_LABEL_LENGTH bytes. Whole microvolts are formatted by hand: printf would cost more than the
   rest of the item, and a record holds hundreds of samples. */
static void format_sample(char *buf, int16_t sample, uint32_t resolution_nv)
{
    int64_t nv = (int64_t)sample * resolution_nv;
    if (nv % 1000 != 0) {
        snprintf(buf, ITEM_LABEL_LENGTH, "%d (%.3f " UTF8_MICRO_SIGN "V)", sample, (double)nv / 1000.0);
        return;
    }
    size_t n = put_int(buf, 0, sample);
    buf[n++] = ' ';
    buf[n++] = '(';
    n = put_int(buf, n, nv / 1000);
    memcpy(buf + n, " " UTF8_MICRO_SIGN "V)", sizeof " " UTF8_MICRO_SIGN "V)");
}

/*
 * Lazily labelled samples. A record's samples share one resolution, which a BASE_CUSTOM formatter cannot be
 * told, so each of a few twins of the sample field (same name and filter, wmmp.health.ecg.sample) is bound
 * to one resolution the first time a record uses it, and keeps it for the life of the process. Their labels
 * are then made only when something shows them (-V, the GUI's details), not for every sample of every record
 * (tshark -T fields builds a visible tree but prints no labels). A record at a fifth resolution gets its
 * labels formatted at once, through hf_ecg_sample; the text is the same either way.
 */
#define ECG_LAZY_SLOTS 4
static int hf_ecg_sample_lazy[ECG_LAZY_SLOTS] = { -1, -1, -1, -1 };
static uint32_t ecg_slot_resolution[ECG_LAZY_SLOTS]; /* 0: slot free (a resolution of 0 is never bound) */

#define ECG_SLOT_FORMATTER(i) \
    static void fmt_sample_slot##i(char *buf, uint32_t v) { format_sample(buf, (int16_t)v, ecg_slot_resolution[i]); }
ECG_SLOT_FORMATTER(0)
ECG_SLOT_FORMATTER(1)
ECG_SLOT_FORMATTER(2)
ECG_SLOT_FORMATTER(3)

/* The field that labels this resolution's samples lazily, or -1 when every slot holds another one. */
static int lazy_sample_field(uint32_t resolution_nv)
{
    if (resolution_nv == 0)
        return -1;
    for (int i = 0; i < ECG_LAZY_SLOTS; i++) {
        if (ecg_slot_resolution[i] == 0)
            ecg_slot_resolution[i] = resolution_nv;
        if (ecg_slot_resolution[i] == resolution_nv)
            return hf_ecg_sample_lazy[i];
    }
    return -1;
}

/* Whether sample items are worth building: a visible tree, or a filter or column asks for any twin. */
static bool samples_wanted(proto_tree *tree)
{
    if (proto_field_is_referenced(tree, hf_ecg_sample))
        return true;
    for (int i = 0; i < ECG_LAZY_SLOTS; i++)
        if (proto_field_is_referenced(tree, hf_ecg_sample_lazy[i]))
            return true;
    return false;
}

/* "Sample: -300 (-300 µV)", formatted now (resolutions without a lazy slot). */
static void add_sample_now(proto_tree *tree, tvbuff_t *tvb, int offset, uint32_t resolution_nv)
{
    int16_t sample = (int16_t)tvb_get_ntohs(tvb, offset);
    char text[ITEM_LABEL_LENGTH];
    format_sample(text, sample, resolution_nv);
    proto_tree_add_int_format(tree, hf_ecg_sample, tvb, offset, 2, sample, ECG_SAMPLE_NAME ": %s", text);
}

static void dissect_ecg(tvbuff_t *tvb, proto_tree *tt, proto_item *ti, int off, unsigned len, ht_summary *sum)
{
    uint32_t rate, lead, resolution;
    uint32_t count = (len - WMMP_HEALTH_ECG_HEADER_LEN) / 2;
    int samples_off = off + WMMP_HEALTH_ECG_HEADER_LEN;
    proto_tree_add_item_ret_uint(tt, hf_ecg_rate, tvb, off, 2, ENC_BIG_ENDIAN, &rate);
    proto_tree_add_item_ret_uint(tt, hf_ecg_lead, tvb, off + 2, 1, ENC_BIG_ENDIAN, &lead);
    proto_tree_add_item_ret_uint(tt, hf_ecg_resolution, tvb, off + 3, 2, ENC_BIG_ENDIAN, &resolution);
    proto_item *ci = proto_tree_add_uint(tt, hf_ecg_count, tvb, samples_off, len - WMMP_HEALTH_ECG_HEADER_LEN, count);
    proto_item_set_generated(ci);
    proto_item_append_text(ti, ": lead %s, %u Hz, %u samples", val_to_str_const(lead, lead_vals, "Unknown"), rate,
                           count);
    sum->present |= WMMP_HEALTH_HAS_ECG;
    sum->ecg_samples = count;
    /* Hundreds of sample items are only worth building for a tree that shows them or a filter that asks. */
    if (count == 0 || !samples_wanted(tt))
        return;
    proto_tree *st = proto_tree_add_subtree_format(tt, tvb, samples_off, 2 * count, ett_ecg_samples, NULL,
                                                   "Samples (%u)", count);
    int lazy = lazy_sample_field(resolution);
    for (uint32_t i = 0; i < count; i++) {
        int at = samples_off + 2 * (int)i;
        if (lazy >= 0)
            proto_tree_add_item(st, lazy, tvb, at, 2, ENC_BIG_ENDIAN);
        else
            add_sample_now(st, tvb, at, resolution);
    }
}

static void dissect_lab(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tt, proto_item *ti, int off, ht_summary *sum)
{
    uint32_t analyte, unit, flag;
    proto_tree_add_item_ret_uint(tt, hf_lab_analyte, tvb, off, 2, ENC_BIG_ENDIAN, &analyte);
    proto_tree_add_item_ret_uint(tt, hf_lab_unit, tvb, off + 2, 1, ENC_BIG_ENDIAN, &unit);
    int32_t milli = (int32_t)tvb_get_ntohl(tvb, off + 3);
    const char *unit_name = try_val_to_str(unit, lab_unit_vals);
    const char *value = "", *unit_text = "", *verdict = "";
    bool label = wmmp_tree_shown(tt); /* the texts below are labels only */
    if (label)
        value = milli_str(pinfo->pool, milli);
    if (label && unit_name == NULL)
        unit_text = wmem_strdup_printf(pinfo->pool, " (unit %u)", unit);
    else if (label && *unit_name)
        unit_text = wmem_strdup_printf(pinfo->pool, " %s", unit_name);
    /* Cross-match carries a verdict, not a quantity (profile section 10: 0 compatible, 1 incompatible). */
    if (analyte == HT_LAB_CROSS_MATCH)
        verdict = milli == 0 ? " (compatible)" : milli == 1000 ? " (incompatible)" : "";
    proto_tree_add_double_format_value(tt, hf_lab_value, tvb, off + 3, 4, milli / 1000.0, "%s%s%s", value, unit_text,
                                       verdict);
    proto_tree_add_item_ret_uint(tt, hf_lab_flag, tvb, off + 7, 1, ENC_BIG_ENDIAN, &flag);
    proto_item_append_text(ti, ": %s %s%s%s (%s)", val_to_str_const(analyte, analyte_vals, "Unknown analyte"), value,
                           unit_text, verdict, val_to_str_const(flag, lab_flag_vals, "Unknown flag"));
    sum->labs++;
}

/* A known tag whose length its layout allows: the typed value, and a one-line summary on the subtree. */
static void dissect_value(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tt, proto_item *ti, uint16_t tag, int off,
                          unsigned len, ht_summary *sum)
{
    uint32_t v;
    const uint8_t *text;
    switch (tag) {
    case WMMP_HT_SUBJECT_ID:
        proto_tree_add_item_ret_string(tt, hf_subject_id, tvb, off, len, ENC_UTF_8, pinfo->pool, &text);
        if (wmmp_tree_shown(tt))
            proto_item_append_text(ti, ": %s", printable(pinfo->pool, text));
        sum->present |= WMMP_HEALTH_HAS_SUBJECT;
        break;
    case WMMP_HT_ECG: dissect_ecg(tvb, tt, ti, off, len, sum); break;
    case WMMP_HT_HEART_RATE:
        proto_tree_add_item_ret_uint(tt, hf_heart_rate, tvb, off, 2, ENC_BIG_ENDIAN, &v);
        proto_item_append_text(ti, ": %u bpm", v);
        sum->present |= WMMP_HEALTH_HAS_HEART_RATE;
        sum->heart_rate = v;
        break;
    case WMMP_HT_TEMPERATURE: {
        int16_t centi = (int16_t)tvb_get_ntohs(tvb, off);
        const char *celsius = wmmp_tree_shown(tt) ? centi_str(pinfo->pool, centi) : "";
        /* 4.0 ignores BASE_UNIT_STRING on doubles, so the unit goes into the text here. */
        proto_tree_add_double_format_value(tt, hf_temperature, tvb, off, 2, centi / 100.0, "%s " UTF8_DEGREE_SIGN "C",
                                           celsius);
        proto_tree_add_item(tt, hf_temperature_raw, tvb, off, 2, ENC_BIG_ENDIAN);
        proto_item_append_text(ti, ": %s " UTF8_DEGREE_SIGN "C", celsius);
        sum->present |= WMMP_HEALTH_HAS_TEMPERATURE;
        sum->temperature_centi = centi;
        break;
    }
    case WMMP_HT_BLOOD_PRESSURE:
        proto_tree_add_item_ret_uint(tt, hf_bp_systolic, tvb, off, 2, ENC_BIG_ENDIAN, &sum->bp_systolic);
        proto_tree_add_item_ret_uint(tt, hf_bp_diastolic, tvb, off + 2, 2, ENC_BIG_ENDIAN, &sum->bp_diastolic);
        proto_tree_add_item_ret_uint(tt, hf_bp_mean, tvb, off + 4, 2, ENC_BIG_ENDIAN, &sum->bp_mean);
        proto_item_append_text(ti, ": %u/%u mmHg, MAP %u", sum->bp_systolic, sum->bp_diastolic, sum->bp_mean);
        sum->present |= WMMP_HEALTH_HAS_BLOOD_PRESSURE;
        break;
    case WMMP_HT_PULSE_RATE:
        proto_tree_add_item_ret_uint(tt, hf_pulse_rate, tvb, off, 2, ENC_BIG_ENDIAN, &v);
        proto_item_append_text(ti, ": %u bpm", v);
        sum->present |= WMMP_HEALTH_HAS_PULSE_RATE;
        sum->pulse_rate = v;
        break;
    case WMMP_HT_SPO2:
        proto_tree_add_item_ret_uint(tt, hf_spo2, tvb, off, 1, ENC_BIG_ENDIAN, &v);
        proto_item_append_text(ti, ": %u %%", v);
        sum->present |= WMMP_HEALTH_HAS_SPO2;
        sum->spo2 = v;
        break;
    case WMMP_HT_RESP_RATE:
        proto_tree_add_item_ret_uint(tt, hf_resp_rate, tvb, off, 1, ENC_BIG_ENDIAN, &v);
        proto_item_append_text(ti, ": %u breaths/min", v);
        sum->present |= WMMP_HEALTH_HAS_RESP_RATE;
        sum->resp_rate = v;
        break;
    case WMMP_HT_LAB_RESULT: dissect_lab(tvb, pinfo, tt, ti, off, sum); break;
    case WMMP_HT_REMINDER:
        proto_tree_add_item_ret_uint(tt, hf_reminder_level, tvb, off, 1, ENC_BIG_ENDIAN, &v);
        proto_tree_add_item_ret_string(tt, hf_reminder_text, tvb, off + 1, len - 1, ENC_UTF_8, pinfo->pool, &text);
        if (wmmp_tree_shown(tt))
            proto_item_append_text(ti, ": %s \"%s\"", val_to_str_const(v, reminder_level_vals, "Unknown level"),
                                   printable(pinfo->pool, text));
        sum->reminders++;
        break;
    default: break; /* not reached: callers pass known tags only */
    }
}

/* A Malformed expert item in the record: the WMMP message that carries it says so in Info. */
static void mark_malformed(wmmp_msg_ctx *ctx)
{
    if (ctx)
        ctx->malformed = true;
}

/* The TLVs from offset to the end of the record. */
static void dissect_tlvs(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset, ht_summary *sum,
                         wmmp_msg_ctx *ctx)
{
    int left;
    while ((left = tvb_captured_length_remaining(tvb, offset)) > 0) {
        if (left < WMMP_TLV_HEADER_LEN) {
            proto_tree_add_expert(tree, pinfo, &ei_tlv_truncated, tvb, offset, left);
            mark_malformed(ctx);
            return;
        }
        uint16_t tag = tvb_get_ntohs(tvb, offset);
        unsigned len = tvb_get_ntohs(tvb, offset + 2);
        bool fits = len <= (unsigned)(left - WMMP_TLV_HEADER_LEN);
        const char *name = try_val_to_str(tag, tag_vals);
        proto_item *ti;
        proto_tree *tt = proto_tree_add_subtree(tree, tvb, offset, fits ? WMMP_TLV_HEADER_LEN + (int)len : left,
                                                ett_tlv, &ti, name ? name : "Unknown tag");
        if (!name)
            proto_item_append_text(ti, " 0x%04x", tag);
        proto_item *tag_item = proto_tree_add_item(tt, hf_tag, tvb, offset, 2, ENC_BIG_ENDIAN);
        proto_item *len_item = proto_tree_add_item(tt, hf_length, tvb, offset + 2, 2, ENC_BIG_ENDIAN);
        int voff = offset + WMMP_TLV_HEADER_LEN;
        const char *rule;
        if (!fits) {
            /* Where the next TLV starts is unknown: show what is there and stop. */
            expert_add_info_format(pinfo, len_item, &ei_overrun,
                                   "Value of %u bytes runs past the end of the record (%d bytes left)", len,
                                   left - WMMP_TLV_HEADER_LEN);
            if (left > WMMP_TLV_HEADER_LEN)
                proto_tree_add_item(tt, hf_value, tvb, voff, left - WMMP_TLV_HEADER_LEN, ENC_NA);
            mark_malformed(ctx);
            return;
        }
        if (!name) {
            expert_add_info(pinfo, tag_item, &ei_unknown_tag);
            if (len > 0)
                proto_tree_add_item(tt, hf_value, tvb, voff, len, ENC_NA);
        } else if (!length_ok(tag, len, &rule)) {
            /* The length still frames the TLV, so the next one is found and dissection goes on. */
            expert_add_info_format(pinfo, len_item, &ei_bad_length, "%s with a %u-byte value: its layout needs %s",
                                   name, len, rule);
            mark_malformed(ctx);
            if (len > 0)
                proto_tree_add_item(tt, hf_value, tvb, voff, len, ENC_NA);
        } else {
            dissect_value(tvb, pinfo, tt, ti, tag, voff, len, sum);
        }
        offset = voff + (int)len;
    }
}

/* The summary is built for every record shown or listed (Info), so on the stack and without printf. */
typedef struct {
    char s[320]; /* the longest summary (every part, 10-digit values) is under 250 bytes */
    size_t n;
} summary_buf;

static void put_str(summary_buf *b, const char *text)
{
    size_t len = strlen(text);
    if (len > sizeof b->s - 1 - b->n)
        len = sizeof b->s - 1 - b->n;
    memcpy(b->s + b->n, text, len);
    b->n += len;
}

/* v in decimal */
static void put_uint(summary_buf *b, uint32_t v)
{
    char d[24];
    d[put_int(d, 0, v)] = '\0';
    put_str(b, d);
}

/* One part of the summary: separator, before, v, after. */
static void add_part(summary_buf *b, bool *first, const char *before, uint32_t v, const char *after)
{
    put_str(b, *first ? " " : ", ");
    *first = false;
    put_str(b, before);
    put_uint(b, v);
    put_str(b, after);
}

/* "HT #42 HR 72 bpm, SpO2 98 %, 36.85 °C, BP 121/79 mmHg, RR 16": only what the record holds. */
static void summary_str(summary_buf *b, const ht_summary *s)
{
    bool first = true;
    b->n = 0;
    put_str(b, "HT #");
    put_uint(b, s->record_id);
    if (s->present & WMMP_HEALTH_HAS_HEART_RATE)
        add_part(b, &first, "HR ", s->heart_rate, " bpm");
    if (s->present & WMMP_HEALTH_HAS_PULSE_RATE)
        add_part(b, &first, "PR ", s->pulse_rate, " bpm");
    if (s->present & WMMP_HEALTH_HAS_SPO2)
        add_part(b, &first, "SpO2 ", s->spo2, " %");
    if (s->present & WMMP_HEALTH_HAS_TEMPERATURE) {
        /* 0.01 degC exactly, as centi_str(): 3685 -> "36.85", -5 -> "-0.05" */
        int16_t t = s->temperature_centi;
        uint32_t a = t < 0 ? (uint32_t)(-(int32_t)t) : (uint32_t)t;
        char centi[3] = { (char)('0' + a % 100 / 10), (char)('0' + a % 10), '\0' };
        add_part(b, &first, t < 0 ? "-" : "", a / 100, ".");
        put_str(b, centi);
        put_str(b, " " UTF8_DEGREE_SIGN "C");
    }
    if (s->present & WMMP_HEALTH_HAS_BLOOD_PRESSURE) {
        add_part(b, &first, "BP ", s->bp_systolic, "/");
        put_uint(b, s->bp_diastolic);
        put_str(b, " mmHg");
    }
    if (s->present & WMMP_HEALTH_HAS_RESP_RATE)
        add_part(b, &first, "RR ", s->resp_rate, "");
    if (s->present & WMMP_HEALTH_HAS_ECG)
        add_part(b, &first, "ECG ", s->ecg_samples, " samples");
    if (s->labs)
        add_part(b, &first, "", s->labs, s->labs == 1 ? " lab result" : " lab results");
    if (s->reminders)
        add_part(b, &first, "", s->reminders, s->reminders == 1 ? " reminder" : " reminders");
    b->s[b->n] = '\0';
}

static int dissect_wmmp_health(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    wmmp_msg_ctx *ctx = (wmmp_msg_ctx *)data; /* may be NULL (Decode As from elsewhere) */
    int len = (int)tvb_captured_length(tvb);
    proto_item *ti = proto_tree_add_item(tree, proto_wmmp_health, tvb, 0, -1, ENC_NA);
    proto_tree *ht = proto_item_add_subtree(ti, ett_health);
    ht_summary sum;
    uint32_t version;

    /* Decode As can hand us anything: say what is wrong rather than guess at a layout. */
    if (len < WMMP_HEALTH_HEADER_LEN) {
        proto_tree_add_expert(ht, pinfo, &ei_too_short, tvb, 0, len);
        mark_malformed(ctx);
        return len;
    }
    memset(&sum, 0, sizeof sum);
    proto_item *mi = proto_tree_add_item(ht, hf_magic, tvb, 0, 2, ENC_ASCII);
    proto_item *vi = proto_tree_add_item_ret_uint(ht, hf_version, tvb, 2, 1, ENC_BIG_ENDIAN, &version);
    proto_tree_add_item(ht, hf_flags, tvb, 3, 1, ENC_BIG_ENDIAN);
    proto_tree_add_item_ret_uint(ht, hf_record_id, tvb, 4, 4, ENC_BIG_ENDIAN, &sum.record_id);
    proto_tree_add_item(ht, hf_time, tvb, 8, 4, ENC_TIME_SECS | ENC_BIG_ENDIAN);
    if (tvb_get_uint8(tvb, 0) != 'H' || tvb_get_uint8(tvb, 1) != 'T' || version != WMMP_HEALTH_VERSION) {
        if (version != WMMP_HEALTH_VERSION)
            expert_add_info(pinfo, vi, &ei_bad_version);
        else
            expert_add_info(pinfo, mi, &ei_bad_magic);
        if (len > WMMP_HEALTH_HEADER_LEN)
            proto_tree_add_item(ht, hf_value, tvb, WMMP_HEALTH_HEADER_LEN, -1, ENC_NA);
        return len;
    }

    dissect_tlvs(tvb, pinfo, ht, WMMP_HEALTH_HEADER_LEN, &sum, ctx);

    if (!wmmp_tree_shown(tree) && !pinfo->cinfo)
        return len; /* no one reads the summary */
    summary_buf summary;
    summary_str(&summary, &sum);
    if (ctx && ctx->terminal && ctx->terminal[0])
        proto_item_append_text(ti, ": %s (terminal %s)", summary.s, ctx->terminal);
    else
        proto_item_append_text(ti, ": %s", summary.s);
    col_append_fstr(pinfo->cinfo, COL_INFO, " | %s", summary.s);
    return len;
}

/* The codec's recognition rule: at least 12 bytes, "HT", version 1. */
static wmmp_heur_bool dissect_wmmp_health_heur(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    if (tvb_captured_length(tvb) < WMMP_HEALTH_HEADER_LEN ||
        !wmmp_health_is_record(tvb_get_ptr(tvb, 0, WMMP_HEALTH_HEADER_LEN), WMMP_HEALTH_HEADER_LEN))
        return false;
    dissect_wmmp_health(tvb, pinfo, tree, data);
    return true;
}

void proto_register_wmmp_health(void)
{
    static hf_register_info hf[] = {
        { &hf_magic, { "Magic", "wmmp.health.magic", FT_STRING, BASE_NONE, NULL, 0x0, "\"HT\"", HFILL } },
        { &hf_version, { "Version", "wmmp.health.version", FT_UINT8, BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_flags, { "Flags", "wmmp.health.flags", FT_UINT8, BASE_HEX, NULL, 0x0, NULL, HFILL } },
        { &hf_record_id,
          { "Record ID", "wmmp.health.record_id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Increases by one per record on a device", HFILL } },
        { &hf_time,
          { "Measured at", "wmmp.health.time", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, NULL, 0x0, NULL, HFILL } },
        { &hf_tag, { "Tag", "wmmp.health.tag", FT_UINT16, BASE_HEX, VALS(tag_vals), 0x0, NULL, HFILL } },
        { &hf_length, { "Length", "wmmp.health.length", FT_UINT16, BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_value,
          { "Value", "wmmp.health.value", FT_BYTES, BASE_NONE, NULL, 0x0,
            "Undecoded bytes: unknown tag, bad length, or not a version 1 record", HFILL } },
        { &hf_subject_id,
          { "Subject ID", "wmmp.health.subject_id", FT_STRING, BASE_NONE, NULL, 0x0,
            "Read from the ID-document scanner", HFILL } },
        { &hf_ecg_rate,
          { "Sample rate", "wmmp.health.ecg.rate", FT_UINT16, BASE_DEC | BASE_UNIT_STRING, UNS(&units_ht_hz), 0x0,
            NULL, HFILL } },
        { &hf_ecg_lead, { "Lead", "wmmp.health.ecg.lead", FT_UINT8, BASE_DEC, VALS(lead_vals), 0x0, NULL, HFILL } },
        { &hf_ecg_resolution,
          { "Resolution", "wmmp.health.ecg.resolution", FT_UINT16, BASE_DEC | BASE_UNIT_STRING,
            UNS(&units_ht_nv_lsb), 0x0, "Nanovolts per LSB of a sample", HFILL } },
        { &hf_ecg_count,
          { "Sample count", "wmmp.health.ecg.count", FT_UINT32, BASE_DEC, NULL, 0x0, NULL, HFILL } },
        { &hf_ecg_sample,
          { ECG_SAMPLE_NAME, "wmmp.health.ecg.sample", FT_INT16, BASE_DEC, NULL, 0x0, ECG_SAMPLE_BLURB, HFILL } },
#define ECG_LAZY_SAMPLE(i) \
        { &hf_ecg_sample_lazy[i], \
          { ECG_SAMPLE_NAME, "wmmp.health.ecg.sample", FT_INT16, BASE_CUSTOM, CF_FUNC(fmt_sample_slot##i), 0x0, \
            ECG_SAMPLE_BLURB, HFILL } },
        ECG_LAZY_SAMPLE(0) ECG_LAZY_SAMPLE(1) ECG_LAZY_SAMPLE(2) ECG_LAZY_SAMPLE(3)
        { &hf_heart_rate,
          { "Heart rate", "wmmp.health.heart_rate", FT_UINT16, BASE_DEC | BASE_UNIT_STRING, UNS(&units_ht_bpm), 0x0,
            NULL, HFILL } },
        { &hf_temperature,
          { "Body temperature", "wmmp.health.temperature", FT_DOUBLE, BASE_NONE, NULL, 0x0, NULL,
            HFILL } },
        { &hf_temperature_raw,
          { "Raw temperature", "wmmp.health.temperature.raw", FT_INT16, BASE_DEC, NULL, 0x0,
            "In 0.01 " UTF8_DEGREE_SIGN "C", HFILL } },
        { &hf_bp_systolic,
          { "Systolic", "wmmp.health.bp.systolic", FT_UINT16, BASE_DEC | BASE_UNIT_STRING, UNS(&units_ht_mmhg), 0x0,
            NULL, HFILL } },
        { &hf_bp_diastolic,
          { "Diastolic", "wmmp.health.bp.diastolic", FT_UINT16, BASE_DEC | BASE_UNIT_STRING, UNS(&units_ht_mmhg),
            0x0, NULL, HFILL } },
        { &hf_bp_mean,
          { "Mean arterial pressure", "wmmp.health.bp.mean", FT_UINT16, BASE_DEC | BASE_UNIT_STRING,
            UNS(&units_ht_mmhg), 0x0, NULL, HFILL } },
        { &hf_pulse_rate,
          { "Pulse rate", "wmmp.health.pulse_rate", FT_UINT16, BASE_DEC | BASE_UNIT_STRING, UNS(&units_ht_bpm), 0x0,
            NULL, HFILL } },
        { &hf_spo2,
          { "SpO2", "wmmp.health.spo2", FT_UINT8, BASE_DEC | BASE_UNIT_STRING, UNS(&units_ht_percent), 0x0,
            "Blood oxygen saturation", HFILL } },
        { &hf_resp_rate,
          { "Respiratory rate", "wmmp.health.resp_rate", FT_UINT8, BASE_DEC | BASE_UNIT_STRING,
            UNS(&units_ht_breaths), 0x0, NULL, HFILL } },
        { &hf_lab_analyte,
          { "Analyte", "wmmp.health.lab.analyte", FT_UINT16, BASE_DEC, VALS(analyte_vals), 0x0, NULL, HFILL } },
        { &hf_lab_unit,
          { "Unit", "wmmp.health.lab.unit", FT_UINT8, BASE_CUSTOM, CF_FUNC(fmt_lab_unit), 0x0, NULL, HFILL } },
        { &hf_lab_value,
          { "Value", "wmmp.health.lab.value", FT_DOUBLE, BASE_NONE, NULL, 0x0, "The int32 on the wire x 0.001",
            HFILL } },
        { &hf_lab_flag,
          { "Flag", "wmmp.health.lab.flag", FT_UINT8, BASE_DEC, VALS(lab_flag_vals), 0x0, NULL, HFILL } },
        { &hf_reminder_level,
          { "Level", "wmmp.health.reminder.level", FT_UINT8, BASE_DEC, VALS(reminder_level_vals), 0x0, NULL,
            HFILL } },
        { &hf_reminder_text,
          { "Text", "wmmp.health.reminder.text", FT_STRING, BASE_NONE, NULL, 0x0, NULL, HFILL } },
    };
    static int *ett[] = { &ett_health, &ett_tlv, &ett_ecg_samples };
    static ei_register_info ei[] = {
        { &ei_too_short,
          { "wmmp.health.too_short", PI_MALFORMED, PI_ERROR, "Too short for a health record (12-byte header)",
            EXPFILL } },
        { &ei_bad_magic,
          { "wmmp.health.bad_magic", PI_PROTOCOL, PI_WARN, "Not a health record: does not start with \"HT\"",
            EXPFILL } },
        { &ei_bad_version,
          { "wmmp.health.bad_version", PI_PROTOCOL, PI_WARN, "Unsupported health record version (only 1 is known)",
            EXPFILL } },
        { &ei_unknown_tag,
          { "wmmp.health.unknown_tag", PI_UNDECODED, PI_NOTE, "Unknown health record tag, shown raw", EXPFILL } },
        { &ei_bad_length,
          { "wmmp.health.bad_length", PI_MALFORMED, PI_WARN, "Length not allowed by this tag's layout", EXPFILL } },
        { &ei_overrun,
          { "wmmp.health.overrun", PI_MALFORMED, PI_ERROR, "TLV runs past the end of the record", EXPFILL } },
        { &ei_tlv_truncated,
          { "wmmp.health.tlv_truncated", PI_MALFORMED, PI_ERROR, "Truncated TLV header at the end of the record",
            EXPFILL } },
    };

    proto_wmmp_health = proto_register_protocol("WMMP Health Record", "WMMP-HT", "wmmp.health");
    proto_register_field_array(proto_wmmp_health, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert_register_protocol(proto_wmmp_health), ei, array_length(ei));
    health_handle = register_dissector("wmmp.health", dissect_wmmp_health, proto_wmmp_health);
}

/* The list and the Decode As table belong to the core, created in proto_register_wmmp (before any handoff). */
void proto_reg_handoff_wmmp_health(void)
{
    heur_dissector_add(WMMP_USER_DATA_HEUR_LIST, dissect_wmmp_health_heur, "WMMP health record over user data",
                       "wmmp_health_ud", proto_wmmp_health, HEURISTIC_ENABLE);
    dissector_add_for_decode_as(WMMP_USER_DATA_TABLE, health_handle);
}
