/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_pcap_udp.h: the UDP/IPv4 datagrams of a classic little-endian microsecond Ethernet pcap (what the
 * emulator's pcap writer makes), one at a time: the reader the bench programs share.
 */
#ifndef BENCH_PCAP_UDP_H
#define BENCH_PCAP_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_PCAP_MAX_FRAME 70000

typedef struct {
    FILE *f;
    const char *path;
    unsigned long long skipped; /* frames that are not UDP over IPv4 */
    uint8_t frame[BENCH_PCAP_MAX_FRAME];
} bench_pcap;

typedef struct {
    uint32_t sec, usec;             /* the record's time stamp */
    uint32_t src_ip, dst_ip;        /* host order */
    uint16_t src_port, dst_port;
    const uint8_t *payload;         /* into the reader's frame: valid until the next call */
    size_t payload_len;
} bench_udp;

/* 0, or -1 with the reason on stderr. */
int bench_pcap_open(bench_pcap *r, const char *path);
/* 1 with the next datagram in *d, 0 at the end, -1 on a truncated record (said on stderr). */
int bench_pcap_next_udp(bench_pcap *r, bench_udp *d);
void bench_pcap_close(bench_pcap *r);

static inline uint16_t bench_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t bench_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
