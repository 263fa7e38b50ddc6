/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CoAP baseline of the dissection benchmark: reads a WMMP capture made by wmmp-emulate (classic pcap,
 * Ethernet/IPv4/UDP) and writes its CoAP twin: the same number of datagrams, the same timestamps, the
 * same addresses, and UDP payloads of the same length, where every WMMP request (to port 9992) becomes a
 * confirmable POST /hr and every WMMP ACK (from port 9992) the piggybacked 2.04 Changed that answers it
 * (same Message ID and token, derived from the WMMP Sequence_ID). Port 9992 becomes CoAP's 5683.
 *
 *   bench_coap_twin WMMP.pcap COAP.pcap
 *
 * So tshark's CoAP dissector gets the same message count, the same sizes and the same request/response
 * pairing work as the WMMP dissector does on the original.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_pcap_udp.h"
#include "pcap_writer.h"

#define WMMP_PORT 9992u
#define COAP_PORT 5683u


/* A CoAP message of exactly len bytes (at least its header, options and payload marker) into out. */
static size_t coap_message(uint8_t *out, size_t len, int request, uint32_t seq)
{
    size_t n = 0;
    out[n++] = (uint8_t)(0x40 | (request ? 0x00 : 0x20) | 4); /* version 1, CON or ACK, token length 4 */
    out[n++] = request ? 0x02 : 0x44;                          /* POST, or 2.04 Changed */
    out[n++] = (uint8_t)(seq >> 8);                            /* Message ID */
    out[n++] = (uint8_t)seq;
    out[n++] = (uint8_t)(seq >> 24); /* token */
    out[n++] = (uint8_t)(seq >> 16);
    out[n++] = (uint8_t)(seq >> 8);
    out[n++] = (uint8_t)seq;
    if (request) {
        out[n++] = 0xB2; /* Uri-Path (11), 2 bytes */
        out[n++] = 'h';
        out[n++] = 'r';
        out[n++] = 0x11; /* Content-Format (12), 1 byte: 42 application/octet-stream */
        out[n++] = 42;
    }
    if (len > n + 1) {
        out[n++] = 0xFF; /* payload marker, then the payload */
        for (size_t i = 0; n < len; i++)
            out[n++] = (uint8_t)(i * 31u + seq);
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_coap_twin WMMP.pcap COAP.pcap\n");
        return 2;
    }
    bench_pcap in;
    bench_udp d;
    static uint8_t coap[BENCH_PCAP_MAX_FRAME];
    wmmp_pcap out;
    if (bench_pcap_open(&in, argv[1]) != 0)
        return 1;
    if (wmmp_pcap_open(&out, argv[2]) != WMMP_PCAP_OK) {
        perror(argv[2]);
        return 1;
    }
    unsigned long long written = 0;
    int got;
    while ((got = bench_pcap_next_udp(&in, &d)) == 1) {
        wmmp_pcap_endpoint src = { d.src_ip, d.src_port }, dst = { d.dst_ip, d.dst_port };
        int request = dst.port == WMMP_PORT;
        uint32_t seq = d.payload_len >= 8 ? bench_be32(d.payload + 4) : 0;
        if (src.port == WMMP_PORT)
            src.port = COAP_PORT;
        if (dst.port == WMMP_PORT)
            dst.port = COAP_PORT;
        size_t n = coap_message(coap, d.payload_len, request, seq);
        wmmp_pcap_time ts = { d.sec, d.usec };
        if (wmmp_pcap_write_udp(&out, ts, &src, &dst, coap, n) != WMMP_PCAP_OK) {
            perror(argv[2]);
            return 1;
        }
        written++;
    }
    if (got < 0)
        return 1;
    unsigned long long skipped = in.skipped;
    bench_pcap_close(&in);
    if (wmmp_pcap_close(&out) != WMMP_PCAP_OK) {
        perror(argv[2]);
        return 1;
    }
    fprintf(stderr, "bench_coap_twin: %llu CoAP datagrams written, %llu frames skipped\n", written, skipped);
    return 0;
}
