/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small writer of classic pcap files (LINKTYPE_ETHERNET) for UDP datagrams and TCP flows, with correct
 * IPv4, UDP and TCP checksums. Used by the capture generator and the emulator. The output depends only
 * on the calls made: MAC addresses are derived from the IPv4 addresses, the IP ID is a per-file counter
 * and every timestamp comes from the caller, so the same calls always give the same bytes.
 *
 * Addresses and ports are in host order. Every function returns WMMP_PCAP_OK or an error; after an I/O
 * error the file is in an unknown state and should only be closed.
 */
#ifndef WMMP_PCAP_WRITER_H
#define WMMP_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    WMMP_PCAP_OK = 0,
    WMMP_PCAP_ERR_IO,        /* open, write or close failed: see errno */
    WMMP_PCAP_ERR_TOO_LONG,  /* the payload does not fit one IPv4 packet */
    WMMP_PCAP_ERR_INVALID,   /* NULL argument, closed file, flow in the wrong state */
} wmmp_pcap_err;

/* A constant English message for any code; never NULL. */
const char *wmmp_pcap_strerror(wmmp_pcap_err err);

/* Largest payload: IPv4 total length is 16 bits (65535 - 20 IPv4 - 8 UDP / 20 TCP header bytes). */
#define WMMP_PCAP_MAX_UDP_PAYLOAD 65507u
#define WMMP_PCAP_MAX_TCP_PAYLOAD 65495u

typedef struct {
    uint32_t sec;  /* Unix seconds */
    uint32_t usec; /* 0 ... 999999 */
} wmmp_pcap_time;

/* Adds usec microseconds to t (carrying into seconds). */
wmmp_pcap_time wmmp_pcap_time_add(wmmp_pcap_time t, uint64_t usec);

typedef struct {
    uint32_t addr; /* IPv4, host order: 10.0.0.1 is 0x0A000001 */
    uint16_t port;
} wmmp_pcap_endpoint;

/*
 * The stdio buffer of a capture: a million-message capture is ~180 MB, which the default 4 KiB buffer
 * hands to the kernel in 45,000 write() calls; 64 KiB makes that ~2,800, and bench_write_anchor (which uses
 * the same size) rewrites such a capture in ~0.15 s instead of ~0.23 s. 1 MiB was no faster.
 */
#define WMMP_PCAP_BUFFER_SIZE (64u * 1024u)

typedef struct {
    FILE *fp;
    char *buf;      /* fp's buffer (WMMP_PCAP_BUFFER_SIZE), freed after fclose */
    uint16_t ip_id; /* next IPv4 identification */
} wmmp_pcap;

/* Creates (truncates) path and writes the file header. */
wmmp_pcap_err wmmp_pcap_open(wmmp_pcap *p, const char *path);
/* Closes the file; WMMP_PCAP_ERR_IO when buffered data could not be written. Safe on a closed p. */
wmmp_pcap_err wmmp_pcap_close(wmmp_pcap *p);

wmmp_pcap_err wmmp_pcap_write_udp(wmmp_pcap *p, wmmp_pcap_time ts, const wmmp_pcap_endpoint *src,
                                  const wmmp_pcap_endpoint *dst, const uint8_t *payload, size_t len);

/* The two directions of a TCP flow. */
typedef enum { WMMP_TCP_FROM_CLIENT = 0, WMMP_TCP_FROM_SERVER = 1 } wmmp_tcp_dir;

/*
 * One TCP connection. next_seq[d] is the sequence number the side d sends next; a segment acknowledges
 * everything the other side has sent so far.
 */
typedef struct {
    wmmp_pcap *pcap;
    wmmp_pcap_endpoint end[2]; /* [WMMP_TCP_FROM_CLIENT] = client, [WMMP_TCP_FROM_SERVER] = server */
    uint32_t next_seq[2];
    int state; /* internal: 0 new, 1 established, 2 closed */
} wmmp_tcp_flow;

/* Initial sequence numbers are given by the caller, so flows are reproducible. Writes nothing. */
void wmmp_tcp_flow_init(wmmp_tcp_flow *f, wmmp_pcap *p, const wmmp_pcap_endpoint *client,
                        const wmmp_pcap_endpoint *server, uint32_t client_isn, uint32_t server_isn);

/* Time between the packets of a handshake or teardown: SYN at ts, SYN-ACK at ts + step, ACK at ts + 2 steps. */
#define WMMP_TCP_STEP_USEC 100u

/* SYN, SYN-ACK, ACK. */
wmmp_pcap_err wmmp_tcp_handshake(wmmp_tcp_flow *f, wmmp_pcap_time ts);

/* One segment (PSH, ACK) carrying len > 0 bytes from dir; the caller decides how to split a stream. */
wmmp_pcap_err wmmp_tcp_send(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts, const uint8_t *data,
                            size_t len);

/* A bare ACK from dir of everything the other side sent. */
wmmp_pcap_err wmmp_tcp_ack(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts);

/* FIN-ACK from dir, FIN-ACK from the other side, final ACK from dir. */
wmmp_pcap_err wmmp_tcp_close(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts);

#endif
