/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fake emu_env of fake_env.h. */
#include "fake_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static emu_ms fe_now(void *ctx) { return ((fake_env *)ctx)->now; }

static uint32_t fe_unix_time(void *ctx)
{
    fake_env *fe = ctx;
    return fe->unix_base + (uint32_t)(fe->now / 1000);
}

static void fe_send(void *ctx, emu_peer *peer, const uint8_t *msg, size_t len)
{
    fake_env *fe = ctx;
    if (fe->n_sent >= FAKE_ENV_MAX_SENT)
        abort(); /* a test that sends this much is broken */
    fake_sent *s = &fe->sent[fe->n_sent++];
    s->peer = peer;
    s->msg = malloc(len ? len : 1);
    memcpy(s->msg, msg, len);
    s->len = len;
    s->at = fe->now;
}

static emu_timer fe_timer_start(void *ctx, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    fake_env *fe = ctx;
    if (fe->n_timers >= FAKE_ENV_MAX_TIMERS)
        abort();
    fake_timer *t = &fe->timers[fe->n_timers++];
    t->id = ++fe->next_id;
    t->due = fe->now + delay;
    t->fire = fire;
    t->arg = arg;
    return t->id;
}

static void fe_timer_cancel(void *ctx, emu_timer id)
{
    fake_env *fe = ctx;
    for (size_t i = 0; i < fe->n_timers; i++) {
        if (fe->timers[i].id == id) {
            fe->timers[i] = fe->timers[--fe->n_timers];
            return;
        }
    }
}

static uint32_t fe_random(void *ctx)
{
    fake_env *fe = ctx;
    /* xorshift64*: small, deterministic, good enough for tests */
    fe->rng ^= fe->rng >> 12;
    fe->rng ^= fe->rng << 25;
    fe->rng ^= fe->rng >> 27;
    return (uint32_t)((fe->rng * 2685821657736338717ULL) >> 32);
}

/* Deterministic like the rest of the fake (tests of the key path, not of its randomness). */
static void fe_secret_bytes(void *ctx, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)fe_random(ctx);
}

static void fe_log(void *ctx, emu_log_level level, const char *line)
{
    fake_env *fe = ctx;
    if (fe->verbose)
        fprintf(stderr, "[%llu ms] %d %s\n", (unsigned long long)fe->now, (int)level, line);
}

static void fe_close_peer(void *ctx, emu_peer *peer)
{
    (void)peer;
    ((fake_env *)ctx)->closed_peers++;
}

void fake_env_init(fake_env *fe, uint64_t seed)
{
    memset(fe, 0, sizeof *fe);
    fe->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    fe->unix_base = 1767225600; /* 2026-01-01T00:00:00Z */
    fe->env.ctx = fe;
    fe->env.now = fe_now;
    fe->env.unix_time = fe_unix_time;
    fe->env.send = fe_send;
    fe->env.timer_start = fe_timer_start;
    fe->env.timer_cancel = fe_timer_cancel;
    fe->env.random = fe_random;
    fe->env.log = fe_log;
    fe->env.close_peer = fe_close_peer;
    fe->env.secret_bytes = fe_secret_bytes;
}

void fake_env_clear_sent(fake_env *fe)
{
    for (size_t i = 0; i < fe->n_sent; i++)
        free(fe->sent[i].msg);
    fe->n_sent = 0;
    fe->delivered = 0;
}

void fake_env_deliver(fake_env *fe, fake_deliver_fn deliver, void *ctx)
{
    while (fe->delivered < fe->n_sent) {
        const fake_sent *s = &fe->sent[fe->delivered++];
        deliver(ctx, s);
    }
    if (fe->recycle && fe->n_sent > FAKE_ENV_MAX_SENT / 2)
        fake_env_clear_sent(fe);
}

void fake_env_advance_delivering(fake_env *fe, emu_ms ms, emu_ms step, fake_deliver_fn deliver, void *ctx)
{
    for (emu_ms done = 0; done < ms; done += step) {
        fake_env_advance(fe, ms - done < step ? ms - done : step);
        fake_env_deliver(fe, deliver, ctx);
    }
}

void fake_env_free(fake_env *fe) { fake_env_clear_sent(fe); }

size_t fake_env_timers(const fake_env *fe) { return fe->n_timers; }

void fake_env_advance(fake_env *fe, emu_ms ms)
{
    emu_ms end = fe->now + ms;
    for (;;) {
        size_t best = fe->n_timers;
        for (size_t i = 0; i < fe->n_timers; i++)
            if (fe->timers[i].due <= end &&
                (best == fe->n_timers || fe->timers[i].due < fe->timers[best].due ||
                 (fe->timers[i].due == fe->timers[best].due && fe->timers[i].id < fe->timers[best].id)))
                best = i;
        if (best == fe->n_timers)
            break;
        fake_timer t = fe->timers[best];
        fe->timers[best] = fe->timers[--fe->n_timers];
        if (t.due > fe->now)
            fe->now = t.due;
        t.fire(t.arg);
    }
    fe->now = end;
}
