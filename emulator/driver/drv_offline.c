/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_offline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_pcap.h"
#include "drv_rng.h"
#include "drv_timerq.h"
#include "wmmp_header.h"

#define TERMINAL_IP 0x0A000002u /* 10.0.0.2 */
#define PLATFORM_IP 0x0A000001u /* 10.0.0.1 */
#define TERMINAL_PORT 40001u
#define UDP_PORT ((unsigned)WMMP_DEFAULT_UDP_PORT)
#define TCP_PORT ((unsigned)WMMP_DEFAULT_TCP_PORT)

typedef struct {
    drv_offline *d;
    drv_side side;
} side_ctx;

struct emu_peer {
    drv_side owner; /* the side that sends to it */
};

struct drv_offline {
    drv_offline_options o;
    drv_timerq *q;
    drv_rng rng;
    emu_ms now;
    side_ctx ctx[2];
    emu_env env[2];
    emu_peer peer[2];
    drv_offline_handler h[2];
    drv_offline_observer obs;
    void *obs_user;
    int down[2];
    drv_pcap *pcap;
    drv_offline_stats stats;
    /* TCP */
    int connected;
    unsigned gen;          /* +1 per connection: what was in flight on a closed one is not delivered */
    unsigned connections;  /* the next client port is TERMINAL_PORT + connections */
    drv_pcap_flow *flow;
    wmmp_pcap_time flow_ready; /* after the handshake: data of the connection's first instant comes later */
    wmmp_pcap_endpoint ep[2];
};

typedef struct {
    drv_offline *d;
    drv_side to;
    unsigned gen;
    size_t len;
    uint8_t msg[];
} in_flight;

typedef struct {
    drv_offline *d;
    drv_side to;
} close_note;

static wmmp_pcap_time ts(const drv_offline *d) { return drv_pcap_virtual(d->o.epoch, d->now); }

static wmmp_pcap_time tcp_ts(const drv_offline *d)
{
    wmmp_pcap_time t = ts(d), r = d->flow_ready;
    return (t.sec < r.sec || (t.sec == r.sec && t.usec < r.usec)) ? r : t;
}

/* ---- env functions ---- */

static emu_ms off_now(void *ctx) { return ((side_ctx *)ctx)->d->now; }

static uint32_t off_unix_time(void *ctx)
{
    drv_offline *d = ((side_ctx *)ctx)->d;
    return d->o.epoch + (uint32_t)(d->now / 1000);
}

static emu_timer off_timer_start(void *ctx, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    drv_offline *d = ((side_ctx *)ctx)->d;
    return drv_timerq_add(d->q, d->now + delay, fire, arg);
}

static void off_timer_cancel(void *ctx, emu_timer t) { drv_timerq_cancel(((side_ctx *)ctx)->d->q, t); }

static uint32_t off_random(void *ctx) { return drv_rng_next(&((side_ctx *)ctx)->d->rng); }

/* Session keys from the seed: a scenario's capture stays byte-identical (emu_env.h); offline only. */
static void off_secret_bytes_reproducible(void *ctx, uint8_t *out, size_t n)
{
    drv_rng_fill_reproducible(&((side_ctx *)ctx)->d->rng, out, n);
}

static void off_log(void *ctx, emu_log_level level, const char *line)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    side_ctx *c = ctx;
    if (level > c->d->o.log_level)
        return;
    fprintf(stderr, "%s [%llu.%03llu] %s %s: %s\n", c->d->o.prog, (unsigned long long)(c->d->now / 1000),
            (unsigned long long)(c->d->now % 1000), c->side == DRV_TERMINAL ? "terminal" : "platform", names[level],
            line);
}

static void deliver(void *arg)
{
    in_flight *m = arg;
    drv_offline *d = m->d;
    if (d->down[m->to] || (d->o.tcp && (m->gen != d->gen || !d->connected)))
        d->stats.undeliverable++;
    else if (d->h[m->to].receive) {
        d->stats.delivered[m->to]++;
        d->h[m->to].receive(d->h[m->to].user, &d->peer[m->to], m->msg, m->len);
    }
    free(m);
}

static void tcp_connect(drv_offline *d)
{
    d->ep[DRV_TERMINAL].port = (uint16_t)(TERMINAL_PORT + d->connections++);
    /* fixed initial sequence numbers per connection: reproducible flows */
    d->flow = drv_pcap_tcp_open(d->pcap, ts(d), &d->ep[DRV_TERMINAL], &d->ep[DRV_PLATFORM],
                                0x10000000u + d->connections * 0x01000000u, 0x20000000u + d->connections * 0x01000000u);
    d->flow_ready = wmmp_pcap_time_add(ts(d), 3 * WMMP_TCP_STEP_USEC);
    d->connected = 1;
    d->gen++;
}

static void record(drv_offline *d, drv_side from, const uint8_t *msg, size_t len)
{
    if (d->o.tcp)
        drv_pcap_tcp_data(d->flow, from == DRV_TERMINAL ? WMMP_TCP_FROM_CLIENT : WMMP_TCP_FROM_SERVER, tcp_ts(d), msg,
                          len);
    else
        drv_pcap_udp(d->pcap, ts(d), &d->ep[from], &d->ep[!from], msg, len);
}

static void off_send(void *ctx, emu_peer *peer, const uint8_t *msg, size_t len)
{
    side_ctx *c = ctx;
    drv_offline *d = c->d;
    drv_side from = c->side;
    int copies;
    (void)peer; /* one peer per side */
    if (d->down[from])
        return; /* a vanished side sends nothing */
    if (d->o.tcp && !d->connected) {
        if (from == DRV_PLATFORM) { /* no connection to answer on */
            d->stats.undeliverable++;
            return;
        }
        tcp_connect(d);
    }
    if (d->obs)
        d->obs(d->obs_user, from, msg, len);
    copies = drv_faults_dup(&d->o.faults, &d->rng) ? 2 : 1;
    d->stats.duplicated += (uint64_t)(copies - 1);
    for (int i = 0; i < copies; i++) {
        in_flight *m;
        d->stats.sent[from]++;
        record(d, from, msg, len);
        if (drv_faults_drop(&d->o.faults, &d->rng)) {
            d->stats.lost++;
            continue;
        }
        m = malloc(sizeof *m + len);
        if (!m)
            continue;
        m->d = d;
        m->to = !from;
        m->gen = d->gen;
        m->len = len;
        memcpy(m->msg, msg, len);
        drv_timerq_add(d->q, d->now + d->o.one_way_ms + drv_faults_delay(&d->o.faults, &d->rng), deliver,
                       m);
    }
}

static void notify_closed(void *arg)
{
    close_note *n = arg;
    drv_offline *d = n->d;
    if (d->h[n->to].closed && !d->down[n->to])
        d->h[n->to].closed(d->h[n->to].user, &d->peer[n->to]);
    free(n);
}

static void note_closed(drv_offline *d, drv_side to, emu_ms delay)
{
    close_note *n = malloc(sizeof *n);
    if (!n)
        return;
    n->d = d;
    n->to = to;
    drv_timerq_add(d->q, d->now + delay, notify_closed, n);
}

static void off_close_peer(void *ctx, emu_peer *peer)
{
    side_ctx *c = ctx;
    drv_offline *d = c->d;
    (void)peer;
    if (!d->o.tcp || !d->connected)
        return;
    drv_pcap_tcp_close(d->flow, c->side == DRV_TERMINAL ? WMMP_TCP_FROM_CLIENT : WMMP_TCP_FROM_SERVER, tcp_ts(d));
    d->flow = NULL;
    d->connected = 0;
    if (c->side == DRV_PLATFORM)
        note_closed(d, DRV_PLATFORM, 0); /* its peer is gone: platform_peer_closed() */
    note_closed(d, !c->side, d->o.one_way_ms);
}

/* ---- the driver ---- */

drv_offline *drv_offline_new(const drv_offline_options *o, char *err, size_t err_len)
{
    drv_offline *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    d->o = *o;
    if (!d->o.one_way_ms)
        d->o.one_way_ms = 20;
    if (!d->o.epoch)
        d->o.epoch = DRV_OFFLINE_EPOCH;
    if (!d->o.prog)
        d->o.prog = "wmmp-emulate";
    d->q = drv_timerq_new();
    drv_rng_seed(&d->rng, o->seed);
    d->ep[DRV_TERMINAL].addr = TERMINAL_IP;
    d->ep[DRV_TERMINAL].port = TERMINAL_PORT;
    d->ep[DRV_PLATFORM].addr = PLATFORM_IP;
    d->ep[DRV_PLATFORM].port = (uint16_t)(o->tcp ? TCP_PORT : UDP_PORT);
    for (int s = 0; s < 2; s++) {
        d->ctx[s].d = d;
        d->ctx[s].side = (drv_side)s;
        d->peer[s].owner = (drv_side)s;
        d->env[s] = (emu_env){ &d->ctx[s],      off_now,    off_unix_time, off_send,       off_timer_start,
                               off_timer_cancel, off_random, off_log,       off_close_peer, off_secret_bytes_reproducible };
    }
    if (o->pcap_path && !(d->pcap = drv_pcap_open(o->pcap_path, &d->env[DRV_TERMINAL], err, err_len))) {
        drv_offline_free(d);
        return NULL;
    }
    return d;
}

static void drop_event(void (*fire)(void *arg), void *arg, void *user)
{
    (void)user;
    if (fire == deliver || fire == notify_closed)
        free(arg); /* the scenario's own events carry its args */
}

int drv_offline_close_pcap(drv_offline *d, char *err, size_t err_len)
{
    int rc;
    if (d->flow) /* a connection still open at the end: close it on record */
        drv_pcap_tcp_close(d->flow, WMMP_TCP_FROM_CLIENT, tcp_ts(d));
    d->flow = NULL;
    rc = drv_pcap_close(d->pcap, err, err_len);
    d->pcap = NULL;
    return rc;
}

void drv_offline_free(drv_offline *d)
{
    if (!d)
        return;
    drv_offline_close_pcap(d, NULL, 0);
    drv_timerq_drain(d->q, drop_event, NULL);
    drv_timerq_free(d->q);
    free(d);
}

const emu_env *drv_offline_env(drv_offline *d, drv_side side) { return &d->env[side]; }
emu_peer *drv_offline_peer(drv_offline *d, drv_side side) { return &d->peer[side]; }
void drv_offline_set_handler(drv_offline *d, drv_side side, const drv_offline_handler *h) { d->h[side] = *h; }

void drv_offline_set_observer(drv_offline *d, drv_offline_observer obs, void *user)
{
    d->obs = obs;
    d->obs_user = user;
}


void drv_offline_set_down(drv_offline *d, drv_side side, int down) { d->down[side] = down; }

int drv_offline_step(drv_offline *d)
{
    emu_ms due;
    if (!drv_timerq_next_due(d->q, &due))
        return 0;
    if (due > d->now)
        d->now = due;
    return drv_timerq_fire_one(d->q, d->now);
}

emu_ms drv_offline_now(const drv_offline *d) { return d->now; }

emu_timer drv_offline_later(drv_offline *d, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    return drv_timerq_add(d->q, d->now + delay, fire, arg);
}

const drv_offline_stats *drv_offline_get_stats(const drv_offline *d) { return &d->stats; }
