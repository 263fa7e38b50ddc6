/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_glib.h"

#include <gcrypt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "wmmp_security.h"

typedef struct {
    GSource base;
    drv_timerq *q;
} timer_source;

/* Bounded so a burst of due timers cannot starve the sockets. */
#define FIRE_PER_DISPATCH 1024

emu_ms drv_glib_now(void) { return (emu_ms)(g_get_monotonic_time() / 1000); }

static gboolean ts_prepare(GSource *s, gint *timeout)
{
    timer_source *t = (timer_source *)s;
    emu_ms due, now = (emu_ms)(g_source_get_time(s) / 1000);
    if (!drv_timerq_next_due(t->q, &due)) {
        *timeout = -1;
        return FALSE;
    }
    if (due <= now) {
        *timeout = 0;
        return TRUE;
    }
    *timeout = due - now > G_MAXINT ? G_MAXINT : (gint)(due - now);
    return FALSE;
}

static gboolean ts_check(GSource *s)
{
    timer_source *t = (timer_source *)s;
    emu_ms due;
    return drv_timerq_next_due(t->q, &due) && due <= (emu_ms)(g_source_get_time(s) / 1000);
}

static gboolean ts_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    timer_source *t = (timer_source *)s;
    emu_ms now = drv_glib_now();
    (void)cb;
    (void)data;
    for (int n = 0; n < FIRE_PER_DISPATCH && drv_timerq_fire_one(t->q, now); n++)
        ;
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = { ts_prepare, ts_check, ts_dispatch, NULL, NULL, NULL };

static emu_ms base_now(void *ctx)
{
    (void)ctx;
    return drv_glib_now();
}

static uint32_t base_unix_time(void *ctx)
{
    (void)ctx;
    return (uint32_t)time(NULL);
}

static emu_timer base_timer_start(void *ctx, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    drv_glib *g = ctx;
    return drv_timerq_add(g->timers, drv_glib_now() + delay, fire, arg);
}

static void base_timer_cancel(void *ctx, emu_timer t)
{
    drv_glib *g = ctx;
    drv_timerq_cancel(g->timers, t);
}

static uint32_t base_random(void *ctx)
{
    drv_glib *g = ctx;
    return drv_rng_next(&g->rng);
}

/* Session keys from the system's CSPRNG, never from the seeded generator (emu_env.h). */
static void base_secret_bytes(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    wmmp_crypto_init();
    gcry_randomize(out, n, GCRY_STRONG_RANDOM);
}

static void base_log(void *ctx, emu_log_level level, const char *line)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    drv_glib *g = ctx;
    emu_ms t;
    if (level > g->level)
        return;
    t = drv_glib_now() - g->started;
    fprintf(stderr, "%s [%llu.%03llu] %s: %s\n", g->prog, (unsigned long long)(t / 1000),
            (unsigned long long)(t % 1000), names[level], line);
}

void drv_glib_init(drv_glib *g, void *ctx, const char *prog, uint64_t seed, emu_log_level level)
{
    g->env.ctx = ctx;
    g->env.now = base_now;
    g->env.unix_time = base_unix_time;
    g->env.send = NULL;
    g->env.timer_start = base_timer_start;
    g->env.timer_cancel = base_timer_cancel;
    g->env.random = base_random;
    g->env.log = base_log;
    g->env.close_peer = NULL;
    g->env.secret_bytes = base_secret_bytes;
    g->timers = drv_timerq_new();
    drv_rng_seed(&g->rng, seed);
    g->level = level;
    g->prog = prog;
    g->started = drv_glib_now();
    g->source = g_source_new(&timer_source_funcs, sizeof(timer_source));
    ((timer_source *)g->source)->q = g->timers;
    g_source_attach(g->source, NULL);
}

void drv_glib_destroy(drv_glib *g)
{
    if (g->source) {
        g_source_destroy(g->source);
        g_source_unref(g->source);
        g->source = NULL;
    }
    drv_timerq_free(g->timers);
    g->timers = NULL;
}

emu_timer drv_glib_later(drv_glib *g, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    return drv_timerq_add(g->timers, drv_glib_now() + delay, fire, arg);
}

uint64_t drv_glib_default_seed(void)
{
    return (uint64_t)g_get_real_time() ^ ((uint64_t)getpid() << 32);
}
