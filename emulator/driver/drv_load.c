/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_load.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drv_glib.h"
#include "drv_hist.h"
#include "drv_net.h"
#include "drv_pcap.h"
#include "spool.h"
#include "wmmp_header.h"

#define DEFAULT_SOCKETS 16
#define UDP_PER_DISPATCH 256
#define STOP_GRACE_MS 15000 /* after the run bound or SIGINT: time for the LOGOUTs */

typedef struct drv_load drv_load;

struct emu_peer {
    uint32_t index; /* the terminal; its socket is index % sockets (the driver is the env's ctx) */
};

/* Kept small: N of these. */
typedef struct {
    terminal *t;
    emu_peer peer;
    uint32_t req_at;   /* first transmission of the outstanding request, ms after started_at */
    uint32_t req_seq;
    uint16_t req_cmd;
    uint8_t pending;   /* a request is unanswered */
    uint8_t done;
} load_term;

typedef struct {
    uint64_t out, in, retrans, timeouts, acks;
} load_counts;

/*
 * The terminals' timers (a few live per terminal: next measurement, heartbeat, the link's response timeout):
 * a timing wheel of 1 ms slots over a slab of 32-byte entries, no allocation per timer, instead of the
 * drv_glib queue's allocated event and hash entry each. One pump on the drv_glib queue runs it, due when the
 * next non-empty slot is.
 */
#define WHEEL_SLOTS 8192u /* ms; later timers wait in their slot for their round */
#define WHEEL_NONE UINT32_MAX

typedef struct {
    void (*fire)(void *arg); /* NULL: free */
    void *arg;
    uint32_t due;            /* ms after the wheel's start */
    uint32_t gen;            /* the high half of its emu_timer id: a fired or cancelled id is never reused */
    uint32_t next, prev;     /* in its slot, or next in the free list */
} wheel_timer;

typedef struct {
    wheel_timer *t;
    uint32_t n, cap, free_head;
    uint32_t head[WHEEL_SLOTS], tail[WHEEL_SLOTS];
    uint32_t done_upto; /* every slot up to this ms has been run */
    uint32_t pump_at;   /* the pump's ms when pump_ev is set */
    emu_timer pump_ev;  /* the pump on the drv_glib queue; 0: none (no timers) */
    emu_ms start;
} timer_wheel;

typedef struct {
    drv_load *d;
    int fd;
    guint src;
    wmmp_pcap_endpoint local;
} load_sock;

struct drv_load {
    drv_glib base; /* first: the env's ctx */
    const drv_load_options *o;
    struct sockaddr_in platform;
    wmmp_pcap_endpoint platform_ep;
    load_sock *socks;
    unsigned n_socks;
    load_term *terms;
    unsigned n_terms, n_done, n_started;
    unsigned n_alloc; /* terminals created (n_terms shrinks when a signal cancels the rest) */
    drv_pcap *pcap;
    load_counts total, second;
    drv_hist *hist_total, *hist_second;
    uint64_t unroutable, dropped_in, dropped_out, send_errors;
    timer_wheel wheel;
    emu_ms started_at, last_tick;
    long rss_before_kb; /* the process before the terminals were made, for the memory per terminal */
    unsigned seconds;
    int stopping;    /* terminals were asked to log out */
    emu_ms stop_at;  /* give up waiting at this time */
    int quit;
    int exit_codes[8];
    uint8_t buf[65536];
};

wmmp_err drv_load_keyring(const wmmp_terminal_keys *tmpl, unsigned n, wmmp_keyring *kr)
{
    for (unsigned i = 1; i <= n; i++) {
        wmmp_terminal_keys k = *tmpl;
        wmmp_err e;
        snprintf(k.serial, sizeof k.serial, "LOAD%012u", i);
        snprintf(k.imei, sizeof k.imei, "86%013u", i);
        snprintf(k.imsi, sizeof k.imsi, "46000%010u", i);
        if ((e = wmmp_keyring_add(kr, &k)) != WMMP_OK)
            return e;
    }
    return WMMP_OK;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the terminals' timers ---- */

static uint32_t wheel_now(const timer_wheel *w) { return (uint32_t)(drv_glib_now() - w->start); }

static void wheel_init(timer_wheel *w)
{
    w->free_head = WHEEL_NONE;
    for (unsigned i = 0; i < WHEEL_SLOTS; i++)
        w->head[i] = w->tail[i] = WHEEL_NONE;
    w->start = drv_glib_now();
}

static void slot_unlink(timer_wheel *w, uint32_t i)
{
    wheel_timer *e = &w->t[i];
    uint32_t s = e->due % WHEEL_SLOTS;
    if (e->prev == WHEEL_NONE)
        w->head[s] = e->next;
    else
        w->t[e->prev].next = e->next;
    if (e->next == WHEEL_NONE)
        w->tail[s] = e->prev;
    else
        w->t[e->next].prev = e->prev;
}

static void entry_free(timer_wheel *w, uint32_t i)
{
    w->t[i].fire = NULL;
    w->t[i].next = w->free_head;
    w->free_head = i;
}

static void wheel_pump(void *arg);

/* The pump at ms `at` (now or later), unless it is due earlier already. */
static void pump_at(drv_load *d, uint32_t at)
{
    timer_wheel *w = &d->wheel;
    uint32_t now = wheel_now(w);
    if (w->pump_ev && (int32_t)(at - w->pump_at) >= 0)
        return;
    if (w->pump_ev)
        drv_timerq_cancel(d->base.timers, w->pump_ev);
    w->pump_at = at;
    w->pump_ev = drv_glib_later(&d->base, (int32_t)(at - now) > 0 ? at - now : 0, wheel_pump, d);
}

static emu_timer load_timer_start(void *ctx, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    drv_load *d = ctx;
    timer_wheel *w = &d->wheel;
    uint32_t i, now = wheel_now(w), due;
    if (w->free_head != WHEEL_NONE) {
        i = w->free_head;
        w->free_head = w->t[i].next;
    } else {
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 1024;
            w->t = g_renew(wheel_timer, w->t, w->cap);
        }
        i = w->n++;
        w->t[i].gen = 0;
    }
    due = delay > UINT32_MAX / 2 ? now + UINT32_MAX / 2 : now + (uint32_t)delay;
    if ((int32_t)(due - w->done_upto) <= 0) /* its slot has been run: the next one */
        due = w->done_upto + 1;
    wheel_timer *e = &w->t[i];
    e->fire = fire;
    e->arg = arg;
    e->due = due;
    e->gen++;
    e->next = WHEEL_NONE; /* appended: timers due in the same ms fire in start order */
    e->prev = w->tail[due % WHEEL_SLOTS];
    if (e->prev == WHEEL_NONE)
        w->head[due % WHEEL_SLOTS] = i;
    else
        w->t[e->prev].next = i;
    w->tail[due % WHEEL_SLOTS] = i;
    pump_at(d, due);
    return (emu_timer)e->gen << 32 | (i + 1);
}

static void load_timer_cancel(void *ctx, emu_timer id)
{
    timer_wheel *w = &((drv_load *)ctx)->wheel;
    uint32_t i = (uint32_t)id - 1;
    if (id == 0 || i >= w->n || !w->t[i].fire || w->t[i].gen != (uint32_t)(id >> 32))
        return;
    slot_unlink(w, i);
    entry_free(w, i);
}

/* Runs the slots of every ms up to now (each timer taken off before it fires: it may start or cancel others). */
static void wheel_pump(void *arg)
{
    drv_load *d = arg;
    timer_wheel *w = &d->wheel;
    uint32_t now = wheel_now(w);
    w->pump_ev = 0;
    while ((int32_t)(now - w->done_upto) > 0) {
        uint32_t tick = w->done_upto + 1, s = tick % WHEEL_SLOTS, i = w->head[s];
        while (i != WHEEL_NONE) {
            if (w->t[i].due != tick) { /* a later round */
                i = w->t[i].next;
                continue;
            }
            void (*fire)(void *) = w->t[i].fire;
            void *farg = w->t[i].arg;
            slot_unlink(w, i);
            entry_free(w, i);
            fire(farg);
            i = w->head[s]; /* the slot may have changed meanwhile */
        }
        w->done_upto = tick;
    }
    /* the next slot with a timer (one of a later round at worst); the starts meanwhile move it earlier */
    for (uint32_t k = 1; k <= WHEEL_SLOTS && !d->quit; k++)
        if (w->head[(w->done_upto + k) % WHEEL_SLOTS] != WHEEL_NONE) {
            pump_at(d, w->done_upto + k);
            break;
        }
}

/* ---- measuring at the driver ---- */


static void observe_out(drv_load *d, load_term *lt, const uint8_t *msg, size_t len)
{
    uint16_t cmd;
    uint32_t seq;
    d->total.out++;
    d->second.out++;
    if (len < WMMP_HEADER_LEN)
        return;
    cmd = be16(msg + 2);
    seq = be32(msg + 4);
    if (cmd & 0x8000)
        return; /* our ACKs of the platform's requests */
    if (lt->pending && lt->req_seq == seq && lt->req_cmd == cmd) {
        d->total.retrans++;
        d->second.retrans++;
        return;
    }
    if (lt->pending) { /* a new request while the last is unanswered: it was given up */
        d->total.timeouts++;
        d->second.timeouts++;
    }
    lt->pending = 1;
    lt->req_seq = seq;
    lt->req_cmd = cmd;
    lt->req_at = (uint32_t)(drv_glib_now() - d->started_at);
}

static void observe_in(drv_load *d, load_term *lt, const uint8_t *msg, size_t len)
{
    d->total.in++;
    d->second.in++;
    if (len < WMMP_HEADER_LEN || !(be16(msg + 2) & 0x8000) || !lt->pending || be32(msg + 4) != lt->req_seq)
        return;
    emu_ms lat = (uint32_t)(drv_glib_now() - d->started_at) - lt->req_at;
    lt->pending = 0;
    d->total.acks++;
    d->second.acks++;
    drv_hist_add(d->hist_total, lat);
    drv_hist_add(d->hist_second, lat);
}

/* ---- the env's send and the sockets ---- */

static void transmit(drv_load *d, uint32_t index, const uint8_t *msg, size_t len)
{
    load_sock *s = &d->socks[index % d->n_socks];
    if (send(s->fd, msg, len, 0) < 0) {
        d->send_errors++;
        return;
    }
    observe_out(d, &d->terms[index], msg, len);
    drv_pcap_udp(d->pcap, drv_pcap_wallclock(), &s->local, &d->platform_ep, msg, len);
}

typedef struct {
    drv_load *d;
    uint32_t index;
    size_t len;
    uint8_t msg[];
} delayed_send;

static void delayed_fire(void *arg)
{
    delayed_send *s = arg;
    transmit(s->d, s->index, s->msg, s->len);
    g_free(s);
}

static void load_send(void *ctx, emu_peer *p, const uint8_t *msg, size_t len)
{
    drv_load *d = ctx;
    int copies;
    if (drv_faults_drop(&d->o->faults, &d->base.rng)) {
        d->dropped_out++;
        return;
    }
    copies = drv_faults_dup(&d->o->faults, &d->base.rng) ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        emu_ms delay = drv_faults_delay(&d->o->faults, &d->base.rng);
        delayed_send *s;
        if (delay == 0) {
            transmit(d, p->index, msg, len);
            continue;
        }
        s = g_malloc(sizeof *s + len);
        s->d = d;
        s->index = p->index;
        s->len = len;
        memcpy(s->msg, msg, len);
        drv_glib_later(&d->base, delay, delayed_fire, s);
    }
}

static void load_close_peer(void *ctx, emu_peer *p)
{
    (void)ctx;
    (void)p; /* UDP only */
}

/*
 * The terminal a message is for, by its header's serial: terminal i (0-based) has serial "LOAD" and i + 1 in
 * 12 digits (drv_load_keyring), checked against the keyring's. NULL when none.
 */
static load_term *route(drv_load *d, const uint8_t serial[WMMP_SERIAL_LEN])
{
    static const char prefix[] = "LOAD";
    uint64_t n = 0;
    if (memcmp(serial, prefix, 4) != 0)
        return NULL;
    for (int i = 4; i < WMMP_SERIAL_LEN; i++) {
        if (serial[i] < '0' || serial[i] > '9')
            return NULL;
        n = n * 10 + (unsigned)(serial[i] - '0');
    }
    if (n == 0 || n > d->n_alloc || memcmp(d->o->keys->items[n - 1].serial, serial, WMMP_SERIAL_LEN) != 0)
        return NULL;
    return &d->terms[n - 1];
}

static gboolean sock_readable(gint fd, GIOCondition cond, gpointer data)
{
    load_sock *s = data;
    drv_load *d = s->d;
    (void)cond;
    for (int i = 0; i < UDP_PER_DISPATCH; i++) {
        load_term *lt;
        ssize_t n = recv(fd, d->buf, sizeof d->buf, 0);
        if (n < 0)
            break;
        drv_pcap_udp(d->pcap, drv_pcap_wallclock(), &d->platform_ep, &s->local, d->buf, (size_t)n);
        if (drv_faults_drop(&d->o->faults, &d->base.rng)) {
            d->dropped_in++;
            continue;
        }
        if (n < WMMP_HEADER_LEN) {
            d->unroutable++;
            continue;
        }
        if (!(lt = route(d, d->buf + 12)) || !lt->t) {
            d->unroutable++;
            continue;
        }
        observe_in(d, lt, d->buf, (size_t)n);
        terminal_receive(lt->t, d->buf, (size_t)n);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- progress ---- */

static void check_done(drv_load *d)
{
    for (unsigned i = 0; i < d->n_started; i++) {
        load_term *lt = &d->terms[i];
        int code;
        if (lt->done || !terminal_done(lt->t, &code))
            continue;
        lt->done = 1;
        d->n_done++;
        d->exit_codes[code >= 0 && code < 8 ? code : 7]++;
    }
    if (d->n_done == d->n_terms)
        d->quit = 1;
}

static void stop_all(drv_load *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    d->stop_at = drv_glib_now() + STOP_GRACE_MS;
    emu_logf(&d->base.env, EMU_LOG_WARN, "%s: asking %u terminals to log out", why, d->n_terms - d->n_done);
    for (unsigned i = 0; i < d->n_started; i++)
        if (!d->terms[i].done)
            terminal_stop(d->terms[i].t);
}

/* The stats line of the last second (or of the part of a second before the end). */
static void print_line(drv_load *d, emu_ms now)
{
    double secs = now > d->last_tick ? (double)(now - d->last_tick) / 1000.0 : 1e-3;
    d->seconds++;
    if (!d->o->quiet)
        fprintf(stderr,
                "%s [%4us] terminals started %u/%u, done %u | msgs/s out %.0f in %.0f | retransmissions %llu "
                "timeouts %llu | ACK latency p50 %llu ms p99 %llu ms (%llu ACKs)\n",
                d->o->prog, d->seconds, d->n_started, d->n_terms, d->n_done, (double)d->second.out / secs,
                (double)d->second.in / secs, (unsigned long long)d->second.retrans,
                (unsigned long long)d->second.timeouts, (unsigned long long)drv_hist_quantile(d->hist_second, 0.5),
                (unsigned long long)drv_hist_quantile(d->hist_second, 0.99), (unsigned long long)d->second.acks);
    memset(&d->second, 0, sizeof d->second);
    drv_hist_reset(d->hist_second);
    d->last_tick = now;
}

static void tick(void *arg)
{
    drv_load *d = arg;
    emu_ms now = drv_glib_now();
    check_done(d);
    if (now - d->last_tick >= 1000)
        print_line(d, now);
    if (!d->stopping && d->o->max_run_ms && now - d->started_at >= d->o->max_run_ms)
        stop_all(d, "run time bound reached");
    if (d->stopping && now >= d->stop_at) {
        emu_logf(&d->base.env, EMU_LOG_ERROR, "%u terminals did not finish; giving up", d->n_terms - d->n_done);
        d->quit = 1;
    }
    if (!d->quit)
        drv_glib_later(&d->base, 100, tick, d);
}

/* Starts every terminal whose turn in the ramp has come, then waits for the next turn. */
static void start_due(void *arg)
{
    drv_load *d = arg;
    emu_ms now = drv_glib_now(), due = now;
    while (d->n_started < d->n_terms && !d->stopping) {
        due = d->started_at + d->o->ramp_ms * d->n_started / d->n_terms;
        if (due > now)
            break;
        terminal_start(d->terms[d->n_started++].t);
    }
    if (d->n_started < d->n_terms && !d->stopping)
        drv_glib_later(&d->base, due - now, start_due, d);
}

static gboolean on_signal(gpointer data)
{
    drv_load *d = data;
    if (d->stopping)
        d->quit = 1; /* a second signal: leave now */
    else {
        stop_all(d, "signal");
        /* terminals not started yet end now */
        d->n_terms = d->n_started;
    }
    return G_SOURCE_CONTINUE;
}

/* ---- the run ---- */

/* VmRSS or VmHWM of this process in kB (Linux), -1 when unknown. */
static long proc_status_kb(const char *field)
{
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* CPU seconds of this process so far (user, system). */
static void cpu_seconds(double *user, double *sys)
{
    struct rusage ru;
    *user = *sys = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
        *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
}

static void print_json(drv_load *d, FILE *out, emu_ms elapsed)
{
    double secs = elapsed ? (double)elapsed / 1000.0 : 1e-3, cpu_user, cpu_sys;
    uint64_t records = 0, acked = 0, pending = 0, logins = 0;
    cpu_seconds(&cpu_user, &cpu_sys);
    for (unsigned i = 0; i < d->n_started; i++) {
        const terminal_stats *st = terminal_get_stats(d->terms[i].t);
        records += st->records_sent;
        acked += st->records_acked;
        pending += st->records_pending;
        logins += st->logins;
    }
    fprintf(out,
            "{\"terminals\": %u, \"started\": %u, \"done\": %u, \"ok\": %d, \"exit_codes\": {\"0\": %d, \"3\": %d, "
            "\"4\": %d, \"5\": %d, \"other\": %d}, \"sockets\": %u, \"duration_s\": %.3f, \"logins\": %llu, "
            "\"records_sent\": %llu, \"records_acked\": %llu, \"records_pending\": %llu, \"messages_sent\": %llu, "
            "\"messages_received\": %llu, \"messages_per_s\": %.1f, \"retransmissions\": %llu, \"timeouts\": %llu, "
            "\"acks\": %llu, \"ack_latency_ms\": {\"p50\": %llu, \"p99\": %llu, \"max\": %llu, \"mean\": %.2f}, "
            "\"dropped_sent\": %llu, \"dropped_received\": %llu, \"unroutable\": %llu, \"send_errors\": %llu, "
            "\"rss_kb\": {\"before_terminals\": %ld, \"end\": %ld, \"peak\": %ld}, "
            "\"cpu_s\": {\"user\": %.3f, \"system\": %.3f}}\n",
            d->n_terms, d->n_started, d->n_done, d->exit_codes[0], d->exit_codes[0], d->exit_codes[3],
            d->exit_codes[4], d->exit_codes[5],
            d->n_done - (unsigned)(d->exit_codes[0] + d->exit_codes[3] + d->exit_codes[4] + d->exit_codes[5]),
            d->n_socks, secs, (unsigned long long)logins, (unsigned long long)records, (unsigned long long)acked,
            (unsigned long long)pending, (unsigned long long)d->total.out, (unsigned long long)d->total.in,
            (double)(d->total.out + d->total.in) / secs, (unsigned long long)d->total.retrans,
            (unsigned long long)d->total.timeouts, (unsigned long long)d->total.acks,
            (unsigned long long)drv_hist_quantile(d->hist_total, 0.5),
            (unsigned long long)drv_hist_quantile(d->hist_total, 0.99), (unsigned long long)d->hist_total->max_ms,
            d->hist_total->count ? (double)d->hist_total->sum_ms / (double)d->hist_total->count : 0.0,
            (unsigned long long)d->dropped_out, (unsigned long long)d->dropped_in, (unsigned long long)d->unroutable,
            (unsigned long long)d->send_errors, d->rss_before_kb, proc_status_kb("VmRSS"), proc_status_kb("VmHWM"),
            cpu_user, cpu_sys);
}

/* One descriptor per spool lock and socket: raise the soft limit to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int setup(drv_load *d, char *err, size_t err_len)
{
    const drv_load_options *o = d->o;
    if (drv_net_resolve(o->host, o->port, &d->platform, err, err_len))
        return -1;
    d->platform_ep = drv_net_endpoint(&d->platform);
    if (o->pcap_path && !(d->pcap = drv_pcap_open(o->pcap_path, &d->base.env, err, err_len)))
        return -1;
    d->n_socks = o->sockets ? o->sockets : DEFAULT_SOCKETS;
    if (d->n_socks > d->n_terms)
        d->n_socks = d->n_terms;
    d->socks = g_new0(load_sock, d->n_socks);
    for (unsigned i = 0; i < d->n_socks; i++) {
        load_sock *s = &d->socks[i];
        s->d = d;
        s->fd = drv_net_udp_socket(NULL);
        if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&d->platform, sizeof d->platform) < 0) {
            snprintf(err, err_len, "cannot open UDP socket %u to %s:%u: %s", i, o->host, o->port, strerror(errno));
            return -1;
        }
        s->local = drv_net_local(s->fd);
        s->src = g_unix_fd_add(s->fd, G_IO_IN, sock_readable, s);
    }
    raise_fd_limit();
    for (unsigned i = 0; i < d->n_terms; i++) {
        load_term *lt = &d->terms[i];
        terminal_config cfg = o->tmpl;
        /* no base: the spools live in memory (nothing to sync or keep: a load run's spools are thrown away) */
        char *dir = o->spool_base ? g_build_filename(o->spool_base, o->keys->items[i].serial, NULL)
                                  : g_strdup(SPOOL_MEMORY);
        char why[256];
        cfg.keys = &o->keys->items[i];
        cfg.serial = o->keys->items[i].serial;
        cfg.spool_dir = dir;
        lt->peer.index = i;
        lt->t = terminal_new(&d->base.env, &lt->peer, &cfg, why, sizeof why);
        g_free(dir);
        d->n_alloc = i + 1;
        if (!lt->t) {
            snprintf(err, err_len, "terminal %s: %s", cfg.serial, why);
            return -1;
        }
    }
    return 0;
}

/* Delayed sends still queued at the end are freed; the other events (tick, starts) own nothing. */
static void drop_event(void (*fire)(void *arg), void *arg, void *user)
{
    (void)user;
    if (fire == delayed_fire)
        g_free(arg);
}

static void teardown(drv_load *d)
{
    for (unsigned i = 0; i < d->n_alloc; i++)
        if (d->terms[i].t)
            terminal_free(d->terms[i].t);
    drv_pcap_close(d->pcap, NULL, 0);
    drv_timerq_drain(d->base.timers, drop_event, NULL);
    drv_glib_destroy(&d->base);
    for (unsigned i = 0; d->socks && i < d->n_socks; i++) {
        if (d->socks[i].src)
            g_source_remove(d->socks[i].src);
        if (d->socks[i].fd >= 0)
            close(d->socks[i].fd);
    }
    g_free(d->socks);
    g_free(d->terms);
    g_free(d->hist_total);
    g_free(d->hist_second);
    g_free(d->wheel.t);
}

int drv_load_run(const drv_load_options *o, FILE *json, char *err, size_t err_len)
{
    drv_load *d = g_new0(drv_load, 1);
    guint sig_int, sig_term;
    int rc = 0;
    d->o = o;
    d->n_terms = (unsigned)o->keys->count;
    drv_glib_init(&d->base, d, o->prog, o->seed, o->log_level);
    d->base.env.send = load_send;
    d->base.env.close_peer = load_close_peer;
    d->base.env.timer_start = load_timer_start;
    d->base.env.timer_cancel = load_timer_cancel;
    wheel_init(&d->wheel);
    d->terms = g_new0(load_term, d->n_terms);
    d->hist_total = g_new0(drv_hist, 1);
    d->hist_second = g_new0(drv_hist, 1);
    d->rss_before_kb = proc_status_kb("VmRSS");
    if (d->n_terms == 0) {
        snprintf(err, err_len, "no terminals to run");
        rc = -1;
    } else if (setup(d, err, err_len) < 0)
        rc = -1;
    if (rc == 0) {
        sig_int = g_unix_signal_add(SIGINT, on_signal, d);
        sig_term = g_unix_signal_add(SIGTERM, on_signal, d);
        d->started_at = d->last_tick = drv_glib_now();
        drv_glib_later(&d->base, 0, start_due, d);
        drv_glib_later(&d->base, 100, tick, d);
        while (!d->quit)
            g_main_context_iteration(NULL, TRUE);
        g_source_remove(sig_int);
        g_source_remove(sig_term);
        check_done(d);
        if (d->second.out || d->second.in)
            print_line(d, drv_glib_now());
        print_json(d, json, drv_glib_now() - d->started_at);
        for (int c = 1; c < 8 && rc == 0; c++)
            if (d->exit_codes[c])
                rc = c;
        if (rc == 0 && d->n_done < d->n_terms)
            rc = TERMINAL_EXIT_COMM_FAILURE;
    }
    teardown(d);
    g_free(d);
    return rc;
}
