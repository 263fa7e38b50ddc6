// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The anchor of the capture-generation benchmark (bench/run-offline.sh): how fast a minimal generator that
 * does nothing but write the capture could go on this machine, in the same run. It reads a capture
 * (classic pcap) into memory, untimed, then writes it again the way wmmp-emulate's pcap writer does: each
 * record (its 16-byte record header and the frame) memcpy'd into a frame buffer and fwrite'n to a stdio
 * stream with the writer's buffer (WMMP_PCAP_BUFFER_SIZE: large writes to the kernel), then the file
 * closed. Timed: open to close,
 * median of REPEAT runs (wall clock, CLOCK_MONOTONIC).
 *
 *   bench_write_anchor IN.pcap OUT.pcap [REPEAT]
 *
 * prints one line: "anchor: RECORDS records, SECONDS s, MESSAGES_PER_S messages/s". The generator's time
 * divided by this time is how many times the cost of merely writing its output the generator spends.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcap_writer.h" /* WMMP_PCAP_BUFFER_SIZE */

#define GLOBAL_HEADER_LEN 24
#define RECORD_HEADER_LEN 16
#define MAX_FRAME 262144 /* pcap's usual snap length bound */

typedef struct {
    uint8_t *data;
    size_t len;
    size_t records;
} capture;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The whole file in memory, its records counted and checked (little-endian classic pcap, as ours are). */
static int load(const char *path, capture *c)
{
    FILE *f = fopen(path, "rb");
    long size;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < GLOBAL_HEADER_LEN || fseek(f, 0, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return -1;
    }
    c->len = (size_t)size;
    c->data = malloc(c->len);
    int ok = c->data && fread(c->data, 1, c->len, f) == c->len && le32(c->data) == 0xA1B2C3D4u;
    fclose(f);
    c->records = 0;
    for (size_t off = GLOBAL_HEADER_LEN; ok && off < c->len; c->records++) {
        size_t incl = off + RECORD_HEADER_LEN <= c->len ? le32(c->data + off + 8) : MAX_FRAME + 1;
        ok = incl <= MAX_FRAME && off + RECORD_HEADER_LEN + incl <= c->len;
        off += RECORD_HEADER_LEN + incl;
    }
    return ok ? 0 : -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One timed rewrite; -1 on a write error. */
static double rewrite(const capture *c, const char *out, uint8_t *frame, char *stdio_buf)
{
    double t0 = now_s();
    FILE *f = fopen(out, "wb");
    if (f)
        setvbuf(f, stdio_buf, _IOFBF, WMMP_PCAP_BUFFER_SIZE);
    if (!f || fwrite(c->data, GLOBAL_HEADER_LEN, 1, f) != 1) {
        if (f)
            fclose(f);
        return -1;
    }
    for (size_t off = GLOBAL_HEADER_LEN; off < c->len;) {
        size_t n = RECORD_HEADER_LEN + le32(c->data + off + 8);
        memcpy(frame, c->data + off, n); /* the generator builds each frame in a buffer */
        if (fwrite(frame, n, 1, f) != 1) {
            fclose(f);
            return -1;
        }
        off += n;
    }
    if (fclose(f) != 0)
        return -1;
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    capture c = { 0 };
    int repeat = argc > 3 ? atoi(argv[3]) : 5;
    if (argc < 3 || argc > 4 || repeat < 1 || repeat > 99) {
        fprintf(stderr, "usage: bench_write_anchor IN.pcap OUT.pcap [REPEAT 1-99]\n");
        return 2;
    }
    if (load(argv[1], &c) != 0) {
        fprintf(stderr, "bench_write_anchor: %s: not a readable classic little-endian pcap\n", argv[1]);
        return 1;
    }
    uint8_t *frame = malloc(RECORD_HEADER_LEN + MAX_FRAME);
    char *stdio_buf = malloc(WMMP_PCAP_BUFFER_SIZE);
    double times[99];
    for (int i = 0; i < repeat; i++) {
        if (!frame || !stdio_buf || (times[i] = rewrite(&c, argv[2], frame, stdio_buf)) < 0) {
            fprintf(stderr, "bench_write_anchor: cannot write %s\n", argv[2]);
            return 1;
        }
    }
    qsort(times, (size_t)repeat, sizeof times[0], cmp_double);
    double t = times[(repeat - 1) / 2];
    printf("anchor: %zu records, %.6f s, %.0f messages/s\n", c.records, t, t > 0 ? (double)c.records / t : 0.0);
    free(frame);
    free(stdio_buf);
    free(c.data);
    return 0;
}
