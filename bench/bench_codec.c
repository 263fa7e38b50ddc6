/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Codec throughput on one core: encode + decode round trips per second of a heartbeat and of a ~1 KB
 * health record (TRANSPARENT_DATA), each without and with the digest (signed on encode, verified on
 * decode). Prints the median of RUNS runs per case. Run on demand: bench/run-codec.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wmmp_body.h"
#include "wmmp_health.h"
#include "wmmp_keys.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#define RUNS 5

typedef struct {
    const wmmp_terminal_keys *keys;
    int signed_;
    uint8_t record[2048];
    size_t record_len;
} bench_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t encode(const bench_ctx *c, uint16_t cmd, uint32_t seq, uint8_t *buf)
{
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, cmd, seq, c->signed_ ? WMMP_FLAG_DIGEST : 0, c->keys->serial);
    wmmp_msg_begin(&w, buf, WMMP_MAX_MESSAGE, &h);
    if (cmd == WMMP_CMD_HEART_BEAT) {
        wmmp_put_tlv_u32(&w, WMMP_TAG_CELL, 0x12345678);
        wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 21);
    } else {
        wmmp_transparent t = { 0 };
        t.user_data = c->record;
        t.user_data_len = c->record_len;
        wmmp_transparent_put(&w, &t);
    }
    wmmp_signer s = { c->keys, WMMP_UPLINK, 1767225600u };
    if (wmmp_msg_finish(&w, c->signed_ ? &s : NULL) != WMMP_OK)
        abort();
    return w.len;
}

/* Everything a receiver does: parse, classify, verify, walk the body (and decode the health record). */
static unsigned decode(const bench_ctx *c, const uint8_t *buf, size_t len)
{
    wmmp_message m;
    wmmp_msg_class cls;
    wmmp_reader r;
    unsigned seen = 0;
    if (wmmp_message_parse(buf, len, &m) != WMMP_OK || wmmp_message_classify(&m, &cls) != WMMP_OK)
        abort();
    if (c->signed_ && wmmp_digest_verify(buf, len, 1767225600u, c->keys, WMMP_UPLINK) != WMMP_OK)
        abort();
    if (wmmp_message_tlvs(&m, &r) != WMMP_OK)
        abort();
    if (m.hdr.command_id == WMMP_CMD_TRANSPARENT_DATA) {
        wmmp_reader body;
        wmmp_transparent t;
        wmmp_health_record rec;
        wmmp_reader_init(&body, m.body, m.body_len);
        if (wmmp_transparent_get(&body, &t) != WMMP_OK ||
            wmmp_health_decode(t.user_data, t.user_data_len, &rec) != WMMP_OK)
            abort();
        return rec.heart_rate;
    }
    wmmp_tlv t;
    while (wmmp_tlv_next(&r, &t) == WMMP_OK)
        seen += t.tag;
    return seen;
}

static double run(const bench_ctx *c, uint16_t cmd, long iterations, size_t *msg_len)
{
    static uint8_t buf[WMMP_MAX_MESSAGE];
    volatile unsigned sink = 0;
    double t0 = now_s();
    for (long i = 0; i < iterations; i++) {
        size_t len = encode(c, cmd, (uint32_t)i, buf);
        sink += decode(c, buf, len);
        *msg_len = len;
    }
    (void)sink;
    return iterations / (now_s() - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void build_record(bench_ctx *c)
{
    static int16_t ecg[450]; /* 450 samples: a record of about 1 KB */
    for (size_t i = 0; i < sizeof ecg / sizeof ecg[0]; i++)
        ecg[i] = (int16_t)((i * 37) % 1200 - 300);
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 1;
    r.measured_at = 1767225600u;
    r.present = WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE | WMMP_HEALTH_HAS_TEMPERATURE |
                WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_SPO2 | WMMP_HEALTH_HAS_RESP_RATE;
    r.ecg = (wmmp_ecg){ 250, 1, 1000, sizeof ecg / sizeof ecg[0], ecg, NULL };
    r.heart_rate = 72;
    r.temperature_centi = 3685;
    r.bp_systolic = 121, r.bp_diastolic = 79, r.bp_mean = 93;
    r.spo2 = 98, r.resp_rate = 16;
    wmmp_writer w;
    wmmp_writer_init(&w, c->record, sizeof c->record);
    if (wmmp_health_encode(&w, &r) != WMMP_OK)
        abort();
    c->record_len = w.len;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 1000000;
    char err[160];
    wmmp_terminal_keys keys;
    const char *line = "\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"12345678\","
                       "\"87654321\",\"0123456789abcdeffedcba98765432100011223344556677\"";
    wmmp_crypto_init();
    if (wmmp_keys_parse_line(line, &keys, err, sizeof err) != WMMP_OK) {
        fprintf(stderr, "bench_codec: %s\n", err);
        return 1;
    }
    bench_ctx c = { .keys = &keys };
    build_record(&c);
    printf("case\tmessage_bytes\tround_trips_per_s_median\tmin\tmax\n");
    const struct {
        const char *name;
        uint16_t cmd;
        int signed_;
        long div; /* the record is slower: fewer iterations keep the run short */
    } cases[] = {
        { "heartbeat", WMMP_CMD_HEART_BEAT, 0, 1 },
        { "heartbeat+digest", WMMP_CMD_HEART_BEAT, 1, 1 },
        { "health_record_1KB", WMMP_CMD_TRANSPARENT_DATA, 0, 4 },
        { "health_record_1KB+digest", WMMP_CMD_TRANSPARENT_DATA, 1, 4 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double rates[RUNS];
        size_t len = 0;
        c.signed_ = cases[k].signed_;
        for (int i = 0; i < RUNS; i++)
            rates[i] = run(&c, cases[k].cmd, iterations / cases[k].div, &len);
        qsort(rates, RUNS, sizeof rates[0], cmp_double);
        printf("%s\t%zu\t%.0f\t%.0f\t%.0f\n", cases[k].name, len, rates[RUNS / 2], rates[0], rates[RUNS - 1]);
    }
    return 0;
}
