/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live driver: real UDP and TCP sockets (IPv4) on GLib's main loop, real time (wmmp-platform,
 * wmmp-terminal). One emu_peer per remote UDP address (kept for the run) or per TCP connection.
 *
 * TCP: non-blocking sockets; bytes are read into a per-connection buffer and framed by Total_Length, so a
 * slow sender never blocks the others. A Total_Length below 28 is a protocol error and closes that
 * connection (one log line), and so does a message still incomplete 30 s after its first byte arrived
 * (slow senders cannot hold a slot). Output that cannot be written at once waits in a bounded per-connection
 * buffer (256 KB). A client connection (the terminal's) is re-opened by the next send after it was lost.
 *
 * Faults (drv_faults.h) are applied in send and on receipt (on TCP, --delay keeps the stream's order and
 * --loss drops whole messages above TCP: application-level loss for the link's retransmissions to repair).
 * --pcap records what went on the wire: a message dropped on sending is not recorded, one dropped on
 * receipt is (it did arrive).
 *
 * Hostile peers (docs/RELIABILITY.md): with rate_limit set, every source IPv4 address has a token bucket
 * (rate_limit tokens per second, rate_burst at most); each datagram, each new TCP connection and each
 * framed TCP message from it takes one token, and without one it is dropped (the connection closed at
 * once), counted in rate_limited and not recorded in the pcap. One warning per source and episode. The
 * table of remembered UDP source addresses is bounded (max_udp_peers): an address silent for 10 minutes
 * is forgotten, and at the bound the least recently heard one is; the handler's closed() is told first,
 * as for a TCP connection, so no node keeps a forgotten peer.
 */
#ifndef DRV_LIVE_H
#define DRV_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "drv_faults.h"
#include "emu_env.h"

typedef struct drv_live drv_live;

/* wmmp-platform's rate limit when none is given (docs/EMULATOR.md): messages a second per source address;
   the burst is twice that. A real terminal sends a few a minute, a NAT gateway of hundreds a few a second. */
#define DRV_LIVE_DEFAULT_RATE_LIMIT 100

typedef struct {
    /* One whole message from peer (UDP: one datagram, TCP: one framed message). */
    void (*receive)(void *user, emu_peer *from, const uint8_t *msg, size_t len);
    /*
     * A TCP connection ended: always for accepted connections (peer is freed right after the call), and for
     * a client connection when the other end or the network ended it (the peer stays usable: the next send
     * reconnects). Called from the loop, never from inside env->send or env->close_peer.
     */
    void (*closed)(void *user, emu_peer *peer);
    void *user;
} drv_live_handler;

typedef struct {
    const char *prog;           /* prefix of log lines */
    uint64_t seed;
    emu_log_level log_level;
    drv_faults faults;
    const char *pcap_path;      /* NULL: no recording */
    unsigned max_connections;   /* accepted TCP connections at once; 0: 1024 */
    unsigned max_per_address;   /* accepted TCP connections at once from one IPv4 address; 0: 32 */
    double rate_limit;          /* messages and new connections per second per source address; 0: no limit */
    double rate_burst;          /* the bucket's size; 0: 2 x rate_limit (at least 1) */
    unsigned max_udp_peers;     /* UDP source addresses remembered at once; 0: 16384 */
    emu_ms idle_timeout_ms;     /* an accepted TCP connection silent this long is closed; 0: never */
} drv_live_options;

typedef struct {
    uint64_t sent, received;          /* messages on the wire */
    uint64_t dropped_out, dropped_in; /* by --loss */
    uint64_t duplicated, delayed;
    uint64_t send_errors;
    uint64_t tcp_accepted, tcp_refused, tcp_protocol_errors; /* errors: bad length, partial for 30 s, no reader */
    uint64_t tcp_refused_per_address; /* of tcp_refused: the address already had max_per_address open */
    uint64_t tcp_idle_closed;         /* accepted connections silent for idle_timeout_ms */
    uint64_t rate_limited;            /* datagrams, TCP messages and connections dropped by rate_limit */
    uint64_t rate_limited_sources;    /* episodes: a source going over the limit (one warning each) */
    uint64_t udp_peers, udp_peers_evicted; /* UDP source addresses remembered now, forgotten so far */
} drv_live_stats;

/* NULL with a one-line reason in err (the pcap file cannot be created). */
drv_live *drv_live_new(const drv_live_options *o, char *err, size_t err_len);
/* Closes every socket (accepted connections without calling closed) and the pcap file. */
void drv_live_free(drv_live *d);
/* 0, or -1 with the reason when the pcap recording failed. */
int drv_live_close_pcap(drv_live *d, char *err, size_t err_len);

const emu_env *drv_live_env(drv_live *d);
void drv_live_set_handler(drv_live *d, const drv_live_handler *h);
const drv_live_stats *drv_live_get_stats(const drv_live *d);

/* Server sockets. -1 with "cannot listen on UDP 127.0.0.1:9992: Address already in use" in err. */
int drv_live_listen_udp(drv_live *d, const char *addr, uint16_t port, char *err, size_t err_len);
int drv_live_listen_tcp(drv_live *d, const char *addr, uint16_t port, char *err, size_t err_len);

/* The peer a client sends to: a connected UDP socket, or a TCP connection opened now (non-blocking). */
emu_peer *drv_live_udp_client(drv_live *d, const char *host, uint16_t port, char *err, size_t err_len);
emu_peer *drv_live_tcp_client(drv_live *d, const char *host, uint16_t port, char *err, size_t err_len);

/* One iteration of the main loop (blocking until something happens when may_block). */
void drv_live_iterate(drv_live *d, int may_block);

/* "1.2.3.4:5" of a peer, for log lines. */
const char *drv_live_peer_name(const emu_peer *p, char *buf, size_t len);

#endif
