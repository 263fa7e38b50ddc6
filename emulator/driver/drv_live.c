/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE /* recvmmsg, sendmmsg (Linux) */
#include "drv_live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drv_glib.h"
#include "drv_net.h"
#include "drv_pcap.h"
#include "wmmp_header.h"

#define UDP_BUF 65536
#define UDP_PER_DISPATCH 64          /* datagrams read per wake-up: fairness between sockets */
#define UDP_RECV_BATCH 16            /* datagrams per recvmmsg() */
#define UDP_SEND_BATCH 64            /* datagrams per sendmmsg() */
#define UDP_SEND_BYTES (64u << 10)   /* their bytes at most (a larger datagram is sent on its own) */
#define TCP_WBUF_MAX (256u << 10)    /* queued output per connection before it is given up (4 max messages) */
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_MAX_PER_ADDRESS 32      /* one host cannot take more than this of the slots */
#define PARTIAL_TIMEOUT_MS 30000     /* a message still incomplete this long after its first byte: closed */
#define SWEEP_MS 5000
#define DEFAULT_MAX_UDP_PEERS 16384  /* UDP source addresses remembered at once */
#define UDP_IDLE_MS 600000           /* a UDP source address silent this long is forgotten */
#define RATE_MAX_SOURCES 65536       /* token buckets at once; sources beyond share one */

typedef enum { PEER_UDP, PEER_TCP_ACCEPTED, PEER_TCP_CLIENT } peer_kind;
typedef enum { TCP_IDLE, TCP_CONNECTING, TCP_OPEN } tcp_state;

typedef struct udp_sock udp_sock;

struct emu_peer {
    drv_live *d;
    peer_kind kind;
    struct sockaddr_in remote;
    wmmp_pcap_endpoint local_ep, remote_ep;
    unsigned refs;   /* the driver's own + delayed sends + pending close notifications */
    int dead;        /* accepted connection that was closed: freed when refs drop to 0 */
    unsigned gen;    /* +1 per closed connection: a handler may close and reopen during delivery */
    emu_ms last_due; /* TCP: the latest delayed send, so --delay jitter cannot reorder a stream */
    emu_ms last_rx;  /* TCP: when bytes last arrived; UDP (server side): when it was last heard or sent to */
    emu_ms partial_since; /* TCP: when the first byte of the incomplete message in rbuf arrived */
    GList lru;       /* UDP, server side: link in drv_live.udp_lru (least recently heard first) */
    udp_sock *sock;  /* UDP: the socket to send from */
    int refused;     /* UDP client: "port unreachable" reported; again only after the platform answered */
    /* TCP */
    int fd;
    tcp_state state;
    guint in_src, out_src;
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *wbuf;
    size_t wlen, wcap;
    drv_pcap_flow *flow;
    emu_peer *next_conn; /* list of TCP peers, for freeing */
};

struct udp_sock {
    drv_live *d;
    int fd;
    guint src;
    wmmp_pcap_endpoint local;
    emu_peer *fixed; /* a client's socket has one peer; a server's looks peers up by address */
};

typedef struct {
    drv_live *d;
    int fd;
    guint src;
} tcp_listener;

/* Rate limiting: one token bucket per source IPv4 address. */
typedef struct {
    uint32_t ip;
    double tokens;
    emu_ms last;
    uint64_t dropped; /* in the current episode (since the source last went over the limit) */
} rate_bucket;

struct drv_live {
    drv_glib base; /* first: the env's ctx */
    drv_live_options o;
    drv_live_handler h;
    drv_live_stats stats;
    drv_pcap *pcap;
    GPtrArray *udp_socks;      /* udp_sock* */
    GPtrArray *listeners;      /* tcp_listener* */
    GHashTable *udp_peers;     /* address key -> emu_peer* */
    GQueue udp_lru;            /* server-side UDP peers, least recently heard first */
    GHashTable *buckets;       /* source IPv4 address -> rate_bucket* */
    rate_bucket overflow;      /* shared by the sources beyond RATE_MAX_SOURCES */
    int sweeping;
    emu_peer *conns;           /* TCP peers */
    unsigned n_accepted;
    uint8_t (*udp_bufs)[UDP_BUF]; /* UDP_RECV_BATCH receive buffers */
    /* datagrams of server sockets not yet handed to the kernel (udp_flush): one sendmmsg() for all */
    struct {
        emu_peer *peer; /* referenced until sent */
        size_t off, len;
    } out[UDP_SEND_BATCH];
    unsigned n_out;
    size_t out_bytes;
    uint8_t out_buf[UDP_SEND_BYTES];
};

static void peer_unref(emu_peer *p);
static void sweep_start(drv_live *d);
static void udp_flush(drv_live *d);

/* ---- helpers ---- */

static wmmp_pcap_endpoint pcap_local(const wmmp_pcap_endpoint *local, const wmmp_pcap_endpoint *remote)
{
    wmmp_pcap_endpoint e = *local;
    if (e.addr == 0) /* bound to 0.0.0.0: loopback traffic arrived on 127.0.0.1 */
        e.addr = (remote->addr >> 24) == 127 ? remote->addr : 0;
    return e;
}

const char *drv_live_peer_name(const emu_peer *p, char *buf, size_t len)
{
    return p ? drv_net_name(&p->remote, buf, len) : "(none)";
}

static uint64_t addr_key(const struct sockaddr_in *a)
{
    return ((uint64_t)ntohl(a->sin_addr.s_addr) << 16) | ntohs(a->sin_port);
}

static emu_peer *peer_new(drv_live *d, peer_kind kind, const struct sockaddr_in *remote)
{
    emu_peer *p = g_new0(emu_peer, 1);
    p->d = d;
    p->kind = kind;
    p->remote = *remote;
    p->remote_ep = drv_net_endpoint(remote);
    p->refs = 1;
    p->fd = -1;
    return p;
}

static void peer_release_tcp(emu_peer *p)
{
    g_free(p->rbuf);
    g_free(p->wbuf);
    p->rbuf = p->wbuf = NULL;
    p->rlen = p->rcap = p->wlen = p->wcap = 0;
}

static void peer_unref(emu_peer *p)
{
    if (--p->refs > 0)
        return;
    peer_release_tcp(p);
    g_free(p);
}

/* ---- rate limiting (per source address) ---- */

static void rate_refill(const drv_live *d, rate_bucket *b, emu_ms now)
{
    if (now > b->last) {
        b->tokens += (double)(now - b->last) * d->o.rate_limit / 1000.0;
        if (b->tokens > d->o.rate_burst)
            b->tokens = d->o.rate_burst;
    }
    b->last = now;
}

static const char *ip_name(uint32_t ip, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
    return buf;
}

/* 1 when one more message or connection from this source may pass; else it is counted as dropped. */
static int rate_admit(drv_live *d, const struct sockaddr_in *from)
{
    uint32_t ip;
    emu_ms now;
    rate_bucket *b;
    if (d->o.rate_limit <= 0)
        return 1;
    ip = ntohl(from->sin_addr.s_addr);
    now = drv_glib_now();
    b = g_hash_table_lookup(d->buckets, GUINT_TO_POINTER(ip));
    if (!b) {
        if (g_hash_table_size(d->buckets) >= RATE_MAX_SOURCES) {
            b = &d->overflow;
        } else {
            b = g_new0(rate_bucket, 1);
            b->ip = ip;
            b->tokens = d->o.rate_burst;
            b->last = now;
            g_hash_table_insert(d->buckets, GUINT_TO_POINTER(ip), b);
        }
    }
    rate_refill(d, b, now);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 1;
    }
    d->stats.rate_limited++;
    if (b->dropped++ == 0) {
        char name[32];
        d->stats.rate_limited_sources++;
        emu_logf(&d->base.env, EMU_LOG_WARN, "rate limit: %s sends more than %g messages/s (burst %g); dropping the excess",
                 b == &d->overflow ? "a source beyond the table" : ip_name(ip, name, sizeof name), d->o.rate_limit,
                 d->o.rate_burst);
    }
    return 0;
}

/* Forgets sources whose bucket is full again (they are back under the limit). */
static void rate_sweep(drv_live *d, emu_ms now)
{
    GHashTableIter it;
    gpointer key, val;
    if (d->o.rate_limit <= 0)
        return;
    g_hash_table_iter_init(&it, d->buckets);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        rate_bucket *b = val;
        rate_refill(d, b, now);
        if (b->tokens < d->o.rate_burst)
            continue;
        if (b->dropped) {
            char name[32];
            emu_logf(&d->base.env, EMU_LOG_INFO, "rate limit: %s is back under the limit; %llu dropped",
                     ip_name(b->ip, name, sizeof name), (unsigned long long)b->dropped);
        }
        g_hash_table_iter_remove(&it);
    }
    rate_refill(d, &d->overflow, now);
    if (d->overflow.tokens >= d->o.rate_burst)
        d->overflow.dropped = 0;
}

/* ---- receiving: faults, recording, delivery ---- */

static void deliver(drv_live *d, emu_peer *from, const uint8_t *msg, size_t len)
{
    d->stats.received++;
    if (drv_faults_drop(&d->o.faults, &d->base.rng)) {
        d->stats.dropped_in++;
        emu_logf(&d->base.env, EMU_LOG_DEBUG, "--loss: dropped a received %zu-byte message", len);
        return;
    }
    if (d->h.receive)
        d->h.receive(d->h.user, from, msg, len);
}

/* ---- UDP ---- */

/* A server-side UDP peer was heard from or sent to: it moves to the end of the eviction order. */
static void udp_touch(drv_live *d, emu_peer *p)
{
    if (p->sock->fixed || p->dead)
        return;
    p->last_rx = drv_glib_now();
    g_queue_unlink(&d->udp_lru, &p->lru);
    g_queue_push_tail_link(&d->udp_lru, &p->lru);
}

/* Forgets a server-side UDP peer: the handler hears of it first, as of a closed connection. */
static void udp_evict(drv_live *d, emu_peer *p)
{
    uint64_t key = addr_key(&p->remote);
    g_queue_unlink(&d->udp_lru, &p->lru);
    g_hash_table_remove(d->udp_peers, &key);
    p->dead = 1; /* delayed sends still hold it; live_send ignores it from now on */
    d->stats.udp_peers--;
    d->stats.udp_peers_evicted++;
    if (d->h.closed)
        d->h.closed(d->h.user, p);
    peer_unref(p);
}

static emu_peer *udp_peer_for(udp_sock *s, const struct sockaddr_in *from)
{
    drv_live *d = s->d;
    uint64_t key = addr_key(from);
    emu_peer *p = g_hash_table_lookup(d->udp_peers, &key);
    if (!p) {
        if (d->stats.udp_peers >= d->o.max_udp_peers && d->udp_lru.head) {
            char name[64];
            emu_peer *old = d->udp_lru.head->data;
            emu_logf(&d->base.env, EMU_LOG_DEBUG, "UDP: %u source addresses remembered; forgetting %s",
                     d->o.max_udp_peers, drv_live_peer_name(old, name, sizeof name));
            udp_evict(d, old);
        }
        p = peer_new(d, PEER_UDP, from);
        p->sock = s;
        p->local_ep = pcap_local(&s->local, &p->remote_ep);
        p->lru.data = p;
        p->last_rx = drv_glib_now();
        g_queue_push_tail_link(&d->udp_lru, &p->lru);
        g_hash_table_insert(d->udp_peers, g_memdup2(&key, sizeof key), p);
        d->stats.udp_peers++;
        return p;
    }
    udp_touch(d, p);
    return p;
}

/*
 * A client's connected UDP socket learned (ICMP port unreachable) that nothing listens at the platform's
 * address: said at once, without --verbose, and once until the platform answers; the link retransmits.
 */
static void udp_refused(drv_live *d, emu_peer *p)
{
    char name[64];
    if (p->refused)
        return;
    p->refused = 1;
    emu_logf(&d->base.env, EMU_LOG_WARN, "UDP %s: connection refused (ICMP port unreachable): no platform listens "
             "there; still trying", drv_live_peer_name(p, name, sizeof name));
}

static void udp_datagram(udp_sock *s, const struct sockaddr_in *from, const uint8_t *msg, size_t len)
{
    drv_live *d = s->d;
    emu_peer *p;
    if (s->fixed)
        s->fixed->refused = 0;
    if (from->sin_family != AF_INET)
        return;
    if (!s->fixed && !rate_admit(d, from))
        return; /* dropped before any state is kept for it */
    p = s->fixed ? s->fixed : udp_peer_for(s, from);
    if (d->pcap) /* no clock read per datagram when nothing is recorded */
        drv_pcap_udp(d->pcap, drv_pcap_wallclock(), &p->remote_ep, &p->local_ep, msg, len);
    deliver(d, p, msg, len); /* hostile or short datagrams too: the node reports them */
}

/* Up to UDP_PER_DISPATCH datagrams, UDP_RECV_BATCH per system call, delivered in the order they came. */
static gboolean udp_readable(gint fd, GIOCondition cond, gpointer data)
{
    udp_sock *s = data;
    drv_live *d = s->d;
    struct mmsghdr mm[UDP_RECV_BATCH];
    struct iovec iov[UDP_RECV_BATCH];
    struct sockaddr_in from[UDP_RECV_BATCH];
    (void)cond;
    udp_flush(d); /* what the timers answered goes out before more is read */
    for (int done = 0; done < UDP_PER_DISPATCH;) {
        unsigned want = MIN(UDP_RECV_BATCH, UDP_PER_DISPATCH - done);
        for (unsigned i = 0; i < want; i++) {
            iov[i] = (struct iovec){ d->udp_bufs[i], UDP_BUF };
            mm[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i],
                                             .msg_iovlen = 1 };
        }
        int n = recvmmsg(fd, mm, want, 0, NULL);
        if (n <= 0) {
            if (n < 0 && errno == ECONNREFUSED && s->fixed)
                udp_refused(d, s->fixed);
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                emu_logf(&d->base.env, EMU_LOG_DEBUG, "UDP receive: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++)
            udp_datagram(s, &from[i], d->udp_bufs[i], mm[i].msg_len);
        done += n;
    }
    udp_flush(d);
    return G_SOURCE_CONTINUE;
}

static udp_sock *udp_sock_add(drv_live *d, int fd, emu_peer *fixed)
{
    udp_sock *s = g_new0(udp_sock, 1);
    s->d = d;
    s->fd = fd;
    s->fixed = fixed;
    s->local = drv_net_local(fd);
    s->src = g_unix_fd_add(fd, G_IO_IN, udp_readable, s);
    g_ptr_array_add(d->udp_socks, s);
    return s;
}

int drv_live_listen_udp(drv_live *d, const char *addr, uint16_t port, char *err, size_t err_len)
{
    struct sockaddr_in a;
    int fd;
    if (drv_net_resolve(addr, port, &a, err, err_len))
        return -1;
    if ((fd = drv_net_udp_socket(&a)) < 0) {
        snprintf(err, err_len, "cannot listen on UDP %s:%u: %s", addr, port, strerror(errno));
        return -1;
    }
    udp_sock_add(d, fd, NULL);
    sweep_start(d);
    return 0;
}

emu_peer *drv_live_udp_client(drv_live *d, const char *host, uint16_t port, char *err, size_t err_len)
{
    struct sockaddr_in a;
    emu_peer *p;
    int fd;
    if (drv_net_resolve(host, port, &a, err, err_len))
        return NULL;
    if ((fd = drv_net_udp_socket(NULL)) < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        snprintf(err, err_len, "cannot open a UDP socket to %s:%u: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    p = peer_new(d, PEER_UDP, &a);
    p->sock = udp_sock_add(d, fd, p);
    p->local_ep = p->sock->local;
    {
        uint64_t key = addr_key(&a); /* owned by the table, freed with the others */
        g_hash_table_insert(d->udp_peers, g_memdup2(&key, sizeof key), p);
    }
    return p;
}

/* What follows one datagram's send: counted, the peer moved up, recorded; or the error said. */
static void udp_sent(drv_live *d, emu_peer *p, const uint8_t *msg, size_t len, int ok)
{
    if (!ok) {
        char name[64];
        d->stats.send_errors++;
        /* ECONNREFUSED: an earlier datagram found no listener; the link retransmits */
        if (errno == ECONNREFUSED && p->sock->fixed)
            udp_refused(d, p);
        else
            emu_logf(&d->base.env, errno == ECONNREFUSED ? EMU_LOG_DEBUG : EMU_LOG_WARN, "UDP send to %s: %s",
                     drv_live_peer_name(p, name, sizeof name), strerror(errno));
        return;
    }
    d->stats.sent++;
    udp_touch(d, p);
    if (d->pcap) /* no clock read per datagram when nothing is recorded */
        drv_pcap_udp(d->pcap, drv_pcap_wallclock(), &p->local_ep, &p->remote_ep, msg, len);
}

/* Hands the queued datagrams to the kernel, in order; each is then counted (or its error said) as it was sent. */
static void udp_flush(drv_live *d)
{
    struct mmsghdr mm[UDP_SEND_BATCH];
    struct iovec iov[UDP_SEND_BATCH];
    unsigned n = d->n_out, i = 0;
    if (n == 0)
        return;
    d->n_out = 0; /* udp_sent may log, nothing it does sends */
    d->out_bytes = 0;
    for (unsigned k = 0; k < n; k++) {
        emu_peer *p = d->out[k].peer;
        iov[k] = (struct iovec){ d->out_buf + d->out[k].off, d->out[k].len };
        mm[k].msg_hdr = (struct msghdr){ .msg_name = &p->remote, .msg_namelen = sizeof p->remote, .msg_iov = &iov[k],
                                         .msg_iovlen = 1 };
    }
    /* one call per run of datagrams from the same socket */
    while (i < n) {
        int fd = d->out[i].peer->sock->fd;
        unsigned run = 1;
        while (i + run < n && d->out[i + run].peer->sock->fd == fd)
            run++;
        int sent = sendmmsg(fd, mm + i, run, 0);
        unsigned ok = sent > 0 ? (unsigned)sent : 0;
        for (unsigned k = i; k < i + ok; k++)
            udp_sent(d, d->out[k].peer, iov[k].iov_base, iov[k].iov_len, 1);
        if (ok < run) { /* the one after the last sent failed (errno); those after it are tried again */
            udp_sent(d, d->out[i + ok].peer, iov[i + ok].iov_base, iov[i + ok].iov_len, 0);
            ok++;
        }
        i += ok;
    }
    for (unsigned k = 0; k < n; k++)
        peer_unref(d->out[k].peer);
}

static void udp_transmit(drv_live *d, emu_peer *p, const uint8_t *msg, size_t len)
{
    ssize_t n;
    /* a server's datagrams wait for the next udp_flush (sendmmsg), unless recorded: the capture keeps its order */
    if (!p->sock->fixed && !d->pcap && len <= UDP_SEND_BYTES) {
        if (d->n_out == UDP_SEND_BATCH || d->out_bytes + len > UDP_SEND_BYTES)
            udp_flush(d);
        d->out[d->n_out].peer = p;
        d->out[d->n_out].off = d->out_bytes;
        d->out[d->n_out].len = len;
        memcpy(d->out_buf + d->out_bytes, msg, len);
        d->n_out++;
        d->out_bytes += len;
        p->refs++;
        return;
    }
    udp_flush(d); /* in order */
    if (p->sock->fixed)
        n = send(p->sock->fd, msg, len, 0);
    else
        n = sendto(p->sock->fd, msg, len, 0, (const struct sockaddr *)&p->remote, sizeof p->remote);
    udp_sent(d, p, msg, len, n >= 0);
}

/* ---- TCP ---- */

static wmmp_tcp_dir out_dir(const emu_peer *p)
{
    return p->kind == PEER_TCP_CLIENT ? WMMP_TCP_FROM_CLIENT : WMMP_TCP_FROM_SERVER;
}

static void notify_closed(void *arg)
{
    emu_peer *p = arg;
    drv_live *d = p->d;
    if (d->h.closed)
        d->h.closed(d->h.user, p);
    peer_unref(p);
}

static void unlink_conn(drv_live *d, emu_peer *p)
{
    for (emu_peer **pp = &d->conns; *pp; pp = &(*pp)->next_conn)
        if (*pp == p) {
            *pp = p->next_conn;
            return;
        }
}

/*
 * Ends a connection. by_remote: the other side (or the network) ended it (for the pcap teardown's order).
 * notify: tell the handler (from the loop, so no node is re-entered).
 */
static void tcp_close(emu_peer *p, int by_remote, int notify)
{
    drv_live *d = p->d;
    wmmp_tcp_dir first = by_remote ? !out_dir(p) : out_dir(p);
    if (p->state == TCP_IDLE)
        return;
    if (p->in_src)
        g_source_remove(p->in_src);
    if (p->out_src)
        g_source_remove(p->out_src);
    p->in_src = p->out_src = 0;
    close(p->fd);
    p->fd = -1;
    p->gen++;
    drv_pcap_tcp_close(p->flow, first, drv_pcap_wallclock());
    p->flow = NULL;
    p->state = TCP_IDLE;
    p->rlen = p->wlen = 0;
    if (p->kind == PEER_TCP_ACCEPTED) {
        p->dead = 1;
        d->n_accepted--;
        unlink_conn(d, p);
        if (notify) {
            p->refs++; /* held by the notification; the driver's own reference goes now */
            drv_glib_later(&d->base, 0, notify_closed, p);
        }
        peer_unref(p);
    } else if (notify) {
        p->refs++;
        drv_glib_later(&d->base, 0, notify_closed, p);
    }
}

static void tcp_protocol_error(emu_peer *p, const char *why)
{
    char name[64];
    p->d->stats.tcp_protocol_errors++;
    emu_logf(&p->d->base.env, EMU_LOG_WARN, "TCP %s: %s; closing the connection",
             drv_live_peer_name(p, name, sizeof name), why);
    tcp_close(p, 0, 1);
}

static gboolean tcp_writable(gint fd, GIOCondition cond, gpointer data);

static void tcp_flush(emu_peer *p)
{
    while (p->wlen > 0) {
        ssize_t n = send(p->fd, p->wbuf, p->wlen, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            {
                char name[64];
                emu_logf(&p->d->base.env, EMU_LOG_WARN, "TCP send to %s: %s",
                         drv_live_peer_name(p, name, sizeof name), strerror(errno));
            }
            tcp_close(p, 1, 1);
            return;
        }
        memmove(p->wbuf, p->wbuf + n, p->wlen - (size_t)n);
        p->wlen -= (size_t)n;
    }
    if (p->wlen > 0 && !p->out_src)
        p->out_src = g_unix_fd_add(p->fd, G_IO_OUT, tcp_writable, p);
    else if (p->wlen == 0 && p->out_src) {
        g_source_remove(p->out_src);
        p->out_src = 0;
    }
}

static gboolean tcp_writable(gint fd, GIOCondition cond, gpointer data)
{
    emu_peer *p = data;
    (void)fd;
    (void)cond;
    p->out_src = 0; /* tcp_flush adds it again when output is left */
    tcp_flush(p);
    return G_SOURCE_REMOVE;
}

static gboolean tcp_readable(gint fd, GIOCondition cond, gpointer data)
{
    emu_peer *p = data;
    drv_live *d = p->d;
    unsigned gen = p->gen;
    ssize_t n;
    (void)cond;
    if (p->rcap - p->rlen < 4096 && p->rcap < WMMP_MAX_MESSAGE) {
        p->rcap = p->rcap ? MIN(p->rcap * 2, (size_t)WMMP_MAX_MESSAGE) : 4096;
        p->rbuf = g_realloc(p->rbuf, p->rcap);
    }
    n = recv(fd, p->rbuf + p->rlen, p->rcap - p->rlen, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        p->in_src = 0; /* removed by returning G_SOURCE_REMOVE */
        tcp_close(p, 1, 1);
        return G_SOURCE_REMOVE;
    }
    if (n < 0)
        return G_SOURCE_CONTINUE;
    if (p->rlen == 0)
        p->partial_since = drv_glib_now();
    p->rlen += (size_t)n;
    p->last_rx = drv_glib_now();
    p->refs++; /* the handler may close this connection */
    while (p->rlen >= 2 && p->gen == gen) {
        size_t len = ((size_t)p->rbuf[0] << 8) | p->rbuf[1];
        if (len < WMMP_HEADER_LEN) {
            char why[64];
            snprintf(why, sizeof why, "Total_Length %zu is below 28", len);
            tcp_protocol_error(p, why);
            break;
        }
        if (p->rlen < len) {
            if (p->rcap < len) { /* at most 65535: the 16-bit length bounds every buffer */
                p->rcap = len;
                p->rbuf = g_realloc(p->rbuf, p->rcap);
            }
            break;
        }
        if (p->kind != PEER_TCP_ACCEPTED || rate_admit(d, &p->remote)) {
            drv_pcap_tcp_data(p->flow, !out_dir(p), drv_pcap_wallclock(), p->rbuf, len);
            deliver(d, p, p->rbuf, len);
            if (p->gen != gen)
                break;
        }
        memmove(p->rbuf, p->rbuf + len, p->rlen - len);
        p->rlen -= len;
        p->partial_since = p->last_rx; /* what is left (if anything) started arriving with this read */
    }
    {
        int same = p->gen == gen; /* else tcp_close removed this source */
        peer_unref(p);
        return same ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    }
}

static void tcp_open(emu_peer *p, wmmp_pcap_endpoint local)
{
    drv_live *d = p->d;
    uint32_t isn_a = drv_rng_next(&d->base.rng), isn_b = drv_rng_next(&d->base.rng);
    p->local_ep = local;
    p->state = TCP_OPEN;
    if (p->kind == PEER_TCP_CLIENT)
        p->flow = drv_pcap_tcp_open(d->pcap, drv_pcap_wallclock(), &p->local_ep, &p->remote_ep, isn_a, isn_b);
    else
        p->flow = drv_pcap_tcp_open(d->pcap, drv_pcap_wallclock(), &p->remote_ep, &p->local_ep, isn_a, isn_b);
    p->in_src = g_unix_fd_add(p->fd, G_IO_IN, tcp_readable, p);
}

/* Records queued whole messages (written while connecting) once the handshake is on record. */
static void record_queued(emu_peer *p)
{
    size_t off = 0;
    while (p->wlen - off >= WMMP_HEADER_LEN) {
        size_t len = ((size_t)p->wbuf[off] << 8) | p->wbuf[off + 1];
        if (len < WMMP_HEADER_LEN || len > p->wlen - off)
            len = p->wlen - off;
        drv_pcap_tcp_data(p->flow, out_dir(p), drv_pcap_wallclock(), p->wbuf + off, len);
        p->d->stats.sent++;
        off += len;
    }
}

static void connect_failed(emu_peer *p, int e)
{
    char name[64];
    emu_logf(&p->d->base.env, EMU_LOG_WARN, "cannot connect to TCP %s: %s (%zu bytes not sent)",
             drv_live_peer_name(p, name, sizeof name), strerror(e), p->wlen);
    if (p->out_src)
        g_source_remove(p->out_src);
    p->out_src = 0;
    close(p->fd);
    p->fd = -1;
    p->wlen = 0;
    p->state = TCP_IDLE;
}

static gboolean tcp_connected(gint fd, GIOCondition cond, gpointer data)
{
    emu_peer *p = data;
    int e = 0;
    socklen_t elen = sizeof e;
    (void)cond;
    p->out_src = 0;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
        e = errno;
    if (e) {
        connect_failed(p, e);
        return G_SOURCE_REMOVE;
    }
    tcp_open(p, drv_net_local(fd));
    record_queued(p);
    tcp_flush(p);
    return G_SOURCE_REMOVE;
}

static void tcp_connect(emu_peer *p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || drv_net_nonblock(fd) < 0) {
        emu_logf(&p->d->base.env, EMU_LOG_ERROR, "TCP socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    p->fd = fd;
    p->state = TCP_CONNECTING;
    if (connect(fd, (struct sockaddr *)&p->remote, sizeof p->remote) == 0) {
        tcp_open(p, drv_net_local(fd));
        return;
    }
    if (errno != EINPROGRESS) {
        connect_failed(p, errno);
        return;
    }
    p->out_src = g_unix_fd_add(fd, G_IO_OUT, tcp_connected, p);
}

emu_peer *drv_live_tcp_client(drv_live *d, const char *host, uint16_t port, char *err, size_t err_len)
{
    struct sockaddr_in a;
    emu_peer *p;
    if (drv_net_resolve(host, port, &a, err, err_len))
        return NULL;
    p = peer_new(d, PEER_TCP_CLIENT, &a);
    p->next_conn = d->conns;
    d->conns = p;
    tcp_connect(p);
    return p;
}

static void tcp_transmit(drv_live *d, emu_peer *p, const uint8_t *msg, size_t len)
{
    if (p->dead)
        return;
    if (p->state == TCP_IDLE) {
        if (p->kind != PEER_TCP_CLIENT)
            return;
        tcp_connect(p); /* the terminal's connection was lost: open a new one */
        if (p->state == TCP_IDLE)
            return;
    }
    if (p->wlen + len > TCP_WBUF_MAX) {
        tcp_protocol_error(p, "the peer does not read (output buffer full)");
        return;
    }
    if (p->wcap < p->wlen + len) {
        p->wcap = MAX(p->wlen + len, p->wcap * 2);
        p->wbuf = g_realloc(p->wbuf, p->wcap);
    }
    memcpy(p->wbuf + p->wlen, msg, len);
    p->wlen += len;
    if (p->state == TCP_OPEN) { /* else counted and recorded once connected (record_queued) */
        d->stats.sent++;
        drv_pcap_tcp_data(p->flow, out_dir(p), drv_pcap_wallclock(), msg, len);
        tcp_flush(p);
    }
}

/*
 * Every 5 s: closes accepted connections stuck on a partial message (however slowly its bytes trickle in)
 * or silent for idle_timeout_ms, so slow or hostile senders cannot hold slots; forgets UDP source
 * addresses silent for 10 minutes and rate-limit buckets that are full again.
 */
static void sweep(void *arg)
{
    drv_live *d = arg;
    emu_ms now = drv_glib_now();
    for (emu_peer *p = d->conns, *next; p; p = next) {
        next = p->next_conn; /* tcp_close unlinks p */
        if (p->kind != PEER_TCP_ACCEPTED || p->state != TCP_OPEN)
            continue;
        if (p->rlen > 0 && now - p->partial_since >= PARTIAL_TIMEOUT_MS) {
            tcp_protocol_error(p, "a message still incomplete after 30 s");
        } else if (d->o.idle_timeout_ms && now - p->last_rx >= d->o.idle_timeout_ms) {
            char name[64];
            d->stats.tcp_idle_closed++;
            emu_logf(&d->base.env, EMU_LOG_INFO, "TCP %s silent for %llu s; closing the connection",
                     drv_live_peer_name(p, name, sizeof name), (unsigned long long)(d->o.idle_timeout_ms / 1000));
            tcp_close(p, 0, 1);
        }
    }
    while (d->udp_lru.head) {
        emu_peer *p = d->udp_lru.head->data;
        if (now - p->last_rx < UDP_IDLE_MS)
            break;
        udp_evict(d, p);
    }
    rate_sweep(d, now);
    drv_glib_later(&d->base, SWEEP_MS, sweep, d);
}

static void sweep_start(drv_live *d)
{
    if (!d->sweeping)
        drv_glib_later(&d->base, SWEEP_MS, sweep, d);
    d->sweeping = 1;
}

/* Accepted connections open now from the address of `from` (closed ones are off the list). */
static unsigned open_from(const drv_live *d, const struct sockaddr_in *from)
{
    unsigned n = 0;
    for (const emu_peer *p = d->conns; p; p = p->next_conn)
        n += p->kind == PEER_TCP_ACCEPTED && p->remote.sin_addr.s_addr == from->sin_addr.s_addr;
    return n;
}

static gboolean tcp_acceptable(gint fd, GIOCondition cond, gpointer data)
{
    tcp_listener *l = data;
    drv_live *d = l->d;
    (void)cond;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        int c = accept(fd, (struct sockaddr *)&from, &flen);
        char name[64];
        emu_peer *p;
        if (c < 0)
            break;
        if (from.sin_family != AF_INET || drv_net_nonblock(c) < 0 || !rate_admit(d, &from)) {
            close(c);
            continue;
        }
        if (d->n_accepted >= d->o.max_connections) {
            d->stats.tcp_refused++;
            emu_logf(&d->base.env, EMU_LOG_WARN, "TCP %s refused: %u connections already open",
                     drv_net_name(&from, name, sizeof name), d->n_accepted);
            close(c);
            continue;
        }
        if (open_from(d, &from) >= d->o.max_per_address) {
            d->stats.tcp_refused++;
            if (d->stats.tcp_refused_per_address++ == 0) /* once: a host at its cap would flood the log */
                emu_logf(&d->base.env, EMU_LOG_WARN, "TCP %s refused: %u connections from that address already "
                         "open (--max-connections-per-address); further refusals are counted only",
                         drv_net_name(&from, name, sizeof name), d->o.max_per_address);
            close(c);
            continue;
        }
        p = peer_new(d, PEER_TCP_ACCEPTED, &from);
        p->fd = c;
        p->next_conn = d->conns;
        d->conns = p;
        d->n_accepted++;
        d->stats.tcp_accepted++;
        p->last_rx = drv_glib_now(); /* the idle timeout counts from the connection */
        tcp_open(p, drv_net_local(c));
        emu_logf(&d->base.env, EMU_LOG_DEBUG, "TCP connection from %s", drv_net_name(&from, name, sizeof name));
    }
    return G_SOURCE_CONTINUE;
}

int drv_live_listen_tcp(drv_live *d, const char *addr, uint16_t port, char *err, size_t err_len)
{
    struct sockaddr_in a;
    tcp_listener *l;
    int one = 1, fd;
    if (drv_net_resolve(addr, port, &a, err, err_len))
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || drv_net_nonblock(fd) < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) {
        snprintf(err, err_len, "cannot listen on TCP %s:%u: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    l = g_new0(tcp_listener, 1);
    l->d = d;
    l->fd = fd;
    l->src = g_unix_fd_add(fd, G_IO_IN, tcp_acceptable, l);
    sweep_start(d);
    g_ptr_array_add(d->listeners, l);
    return 0;
}

/* ---- the env: send with faults, close_peer ---- */

static void transmit(drv_live *d, emu_peer *p, const uint8_t *msg, size_t len)
{
    if (p->kind == PEER_UDP)
        udp_transmit(d, p, msg, len);
    else
        tcp_transmit(d, p, msg, len);
}

typedef struct {
    emu_peer *peer;
    size_t len;
    uint8_t msg[];
} delayed_send;

static void delayed_fire(void *arg)
{
    delayed_send *s = arg;
    emu_peer *p = s->peer;
    transmit(p->d, p, s->msg, s->len);
    peer_unref(p);
    g_free(s);
}

static void live_send(void *ctx, emu_peer *p, const uint8_t *msg, size_t len)
{
    drv_live *d = ctx;
    const drv_faults *f = &d->o.faults;
    int copies;
    if (!p || p->dead)
        return;
    if (drv_faults_drop(f, &d->base.rng)) {
        d->stats.dropped_out++;
        emu_logf(&d->base.env, EMU_LOG_DEBUG, "--loss: dropped an outgoing %zu-byte message", len);
        return;
    }
    copies = drv_faults_dup(f, &d->base.rng) ? 2 : 1;
    d->stats.duplicated += (uint64_t)(copies - 1);
    for (int i = 0; i < copies; i++) {
        emu_ms delay = drv_faults_delay(f, &d->base.rng), now = drv_glib_now();
        if (p->kind != PEER_UDP && p->last_due > now + delay)
            delay = p->last_due - now;
        if (delay == 0) {
            transmit(d, p, msg, len);
            continue;
        }
        delayed_send *s = g_malloc(sizeof *s + len);
        s->peer = p;
        s->len = len;
        memcpy(s->msg, msg, len);
        p->refs++;
        p->last_due = now + delay;
        d->stats.delayed++;
        drv_glib_later(&d->base, delay, delayed_fire, s);
    }
}

static void live_close_peer(void *ctx, emu_peer *p)
{
    (void)ctx;
    if (p && p->kind != PEER_UDP && !p->dead)
        tcp_close(p, 0, p->kind == PEER_TCP_ACCEPTED); /* the terminal closed its own: no news to it */
}

/* ---- lifetime ---- */

drv_live *drv_live_new(const drv_live_options *o, char *err, size_t err_len)
{
    drv_live *d = g_new0(drv_live, 1);
    d->o = *o;
    if (!d->o.max_connections)
        d->o.max_connections = DEFAULT_MAX_CONNECTIONS;
    if (!d->o.max_per_address)
        d->o.max_per_address = DEFAULT_MAX_PER_ADDRESS;
    if (!d->o.max_udp_peers)
        d->o.max_udp_peers = DEFAULT_MAX_UDP_PEERS;
    if (d->o.rate_limit > 0 && d->o.rate_burst <= 0)
        d->o.rate_burst = d->o.rate_limit * 2;
    if (d->o.rate_limit > 0 && d->o.rate_burst < 1)
        d->o.rate_burst = 1;
    d->overflow.tokens = d->o.rate_burst;
    g_queue_init(&d->udp_lru);
    d->buckets = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    drv_glib_init(&d->base, d, o->prog, o->seed, o->log_level);
    d->base.env.send = live_send;
    d->base.env.close_peer = live_close_peer;
    d->udp_socks = g_ptr_array_new();
    d->listeners = g_ptr_array_new();
    d->udp_peers = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    d->udp_bufs = g_malloc(UDP_RECV_BATCH * sizeof *d->udp_bufs);
    if (o->pcap_path && !(d->pcap = drv_pcap_open(o->pcap_path, &d->base.env, err, err_len))) {
        drv_live_free(d);
        return NULL;
    }
    return d;
}

int drv_live_close_pcap(drv_live *d, char *err, size_t err_len)
{
    int rc;
    for (emu_peer *p = d->conns; p; p = p->next_conn) { /* teardowns before the file closes */
        drv_pcap_tcp_close(p->flow, out_dir(p), drv_pcap_wallclock());
        p->flow = NULL;
    }
    rc = drv_pcap_close(d->pcap, err, err_len);
    d->pcap = NULL;
    return rc;
}

/* Pending delayed sends and close notifications at exit: free them without running them. */
static void drop_event(void (*fire)(void *arg), void *arg, void *user)
{
    emu_peer *p = NULL;
    (void)user;
    if (fire == delayed_fire) {
        p = ((delayed_send *)arg)->peer;
        g_free(arg);
    } else if (fire == notify_closed)
        p = arg;
    if (p && p->dead)
        peer_unref(p); /* a closed connection lives only in these events */
    else if (p)
        p->refs--;     /* freed below with the live ones */
}

void drv_live_free(drv_live *d)
{
    GHashTableIter it;
    gpointer key, val;
    if (!d)
        return;
    udp_flush(d);
    drv_live_close_pcap(d, NULL, 0);
    drv_timerq_drain(d->base.timers, drop_event, NULL);
    drv_glib_destroy(&d->base);
    while (d->conns) {
        emu_peer *p = d->conns;
        d->conns = p->next_conn;
        if (p->in_src)
            g_source_remove(p->in_src);
        if (p->out_src)
            g_source_remove(p->out_src);
        if (p->fd >= 0)
            close(p->fd);
        peer_release_tcp(p);
        g_free(p);
    }
    g_hash_table_iter_init(&it, d->udp_peers);
    while (g_hash_table_iter_next(&it, &key, &val))
        g_free(val);
    g_hash_table_destroy(d->udp_peers);
    g_hash_table_destroy(d->buckets);
    for (guint i = 0; i < d->udp_socks->len; i++) {
        udp_sock *s = g_ptr_array_index(d->udp_socks, i);
        g_source_remove(s->src);
        close(s->fd);
        g_free(s);
    }
    g_ptr_array_free(d->udp_socks, TRUE);
    for (guint i = 0; i < d->listeners->len; i++) {
        tcp_listener *l = g_ptr_array_index(d->listeners, i);
        g_source_remove(l->src);
        close(l->fd);
        g_free(l);
    }
    g_ptr_array_free(d->listeners, TRUE);
    g_free(d->udp_bufs);
    g_free(d);
}

const emu_env *drv_live_env(drv_live *d) { return &d->base.env; }
void drv_live_set_handler(drv_live *d, const drv_live_handler *h) { d->h = *h; }
const drv_live_stats *drv_live_get_stats(const drv_live *d) { return &d->stats; }

void drv_live_iterate(drv_live *d, int may_block)
{
    g_main_context_iteration(NULL, may_block);
    udp_flush(d); /* what the timers sent */
}
