/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cryptography of a WMMP capture done by the codec alone: for every message on port 9992, the MD5 a
 * digest check computes (when DIGEST is set) and the 3DES decryption of its top-level 0xE040 / 0xE042
 * containers. That is the work keys add to a decode, without Wireshark: bench/run-dissect.sh adds it to the
 * data baseline to give the lowest ratio a decode with keys can reach. The payloads are read into memory
 * first; the crypto loop runs RUNS times and the median is printed:
 *
 *   bench_crypto_alone CAPTURE KEYS_FILE  ->  "messages digests cipher_bytes seconds"
 *
 * The key is the keys file's first line (timing does not depend on which key).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_pcap_udp.h"
#include "wmmp_header.h"
#include "wmmp_keys.h"
#include "wmmp_security.h"
#include "wmmp_tables.h"

#define RUNS 5
#define WMMP_PORT 9992u


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The WMMP payloads of the capture, back to back; lens[i] is the i-th datagram's length. */
typedef struct {
    uint8_t *bytes;
    size_t len, cap;
    uint32_t *lens;
    size_t count, lens_cap;
} payloads;

static void add_payload(payloads *p, const uint8_t *data, uint32_t len)
{
    if (p->len + len > p->cap) {
        p->cap = (p->cap + len) * 2;
        p->bytes = realloc(p->bytes, p->cap);
    }
    if (p->count == p->lens_cap) {
        p->lens_cap = p->lens_cap ? p->lens_cap * 2 : 1024;
        p->lens = realloc(p->lens, p->lens_cap * sizeof *p->lens);
    }
    if (!p->bytes || !p->lens) {
        fprintf(stderr, "bench_crypto_alone: out of memory\n");
        exit(1);
    }
    memcpy(p->bytes + p->len, data, len);
    p->len += len;
    p->lens[p->count++] = len;
}

static int read_capture(const char *path, payloads *p)
{
    static bench_pcap in; /* its frame buffer is large */
    bench_udp d;
    int got;
    if (bench_pcap_open(&in, path) != 0)
        return -1;
    while ((got = bench_pcap_next_udp(&in, &d)) == 1)
        if (d.src_port == WMMP_PORT || d.dst_port == WMMP_PORT)
            add_payload(p, d.payload, (uint32_t)d.payload_len);
    bench_pcap_close(&in);
    return got < 0 ? -1 : 0;
}

typedef struct {
    unsigned long messages, digests, cipher_bytes;
} counts;

/* One pass over every message of every datagram: the MD5 of a digest check and the 3DES of containers. */
static void crypto_pass(const payloads *p, const wmmp_terminal_keys *keys, counts *c)
{
    static uint8_t plain[65536];
    uint8_t md5[WMMP_DIGEST_LEN];
    const uint8_t *d = p->bytes;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < p->count; d += p->lens[i], i++) {
        size_t off = 0, len = p->lens[i];
        while (len - off >= WMMP_HEADER_LEN) {
            const uint8_t *msg = d + off;
            size_t total = bench_be16(msg);
            if (total < WMMP_HEADER_LEN || total > len - off)
                break;
            c->messages++;
            size_t body_end = total;
            if ((msg[10] & WMMP_FLAG_DIGEST) && total >= WMMP_HEADER_LEN + WMMP_DIGEST_TLV_LEN) {
                body_end = total - WMMP_DIGEST_TLV_LEN;
                wmmp_digest_compute(msg, body_end, 0, keys, WMMP_UPLINK, md5);
                c->digests++;
            }
            /* the top-level TLVs: after the command's fixed prefix, unless the whole body is one 0xE042 */
            size_t t = WMMP_HEADER_LEN;
            int prefix = wmmp_command_prefix_len(bench_be16(msg + 2));
            if (body_end - t >= 4 && bench_be16(msg + t) != WMMP_TAG_ENCRYPTED_BODY && prefix > 0)
                t += (size_t)prefix;
            while (t <= body_end && body_end - t >= 4) {
                uint16_t tag = bench_be16(msg + t), tlen = bench_be16(msg + t + 2);
                if (tlen > body_end - t - 4)
                    break;
                if ((tag == WMMP_TAG_ENCRYPTED_TLVS || tag == WMMP_TAG_ENCRYPTED_BODY) && tlen % 8 == 0) {
                    wmmp_decrypt(keys->base_key, msg + t + 4, tlen, plain);
                    c->cipher_bytes += tlen;
                }
                t += 4u + tlen;
            }
            off += total;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_crypto_alone CAPTURE KEYS_FILE\n");
        return 2;
    }
    wmmp_keyring kr;
    char err[200];
    memset(&kr, 0, sizeof kr);
    if (wmmp_keyring_load(&kr, argv[2], err, sizeof err) != WMMP_OK || kr.count == 0) {
        fprintf(stderr, "bench_crypto_alone: %s\n", kr.count ? err : "no keys");
        return 1;
    }
    payloads p;
    memset(&p, 0, sizeof p);
    if (read_capture(argv[1], &p) != 0)
        return 1;
    double t[RUNS];
    counts c;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        crypto_pass(&p, &kr.items[0], &c);
        t[r] = now_s() - t0;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    printf("%lu %lu %lu %.4f\n", c.messages, c.digests, c.cipher_bytes, t[RUNS / 2]);
    return 0;
}
