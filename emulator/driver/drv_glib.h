/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the live and load drivers share: an emu_env on GLib's default main context with the monotonic
 * clock, the wall clock, the seeded generator, a stderr logger, and timers from a drv_timerq run by one
 * GSource. A driver embeds drv_glib as its FIRST member and points env.ctx at itself, so the functions
 * below can treat ctx as the drv_glib; it then fills env.send and env.close_peer.
 */
#ifndef DRV_GLIB_H
#define DRV_GLIB_H

#include <glib.h>

#include "drv_rng.h"
#include "drv_timerq.h"
#include "emu_env.h"

typedef struct {
    emu_env env;
    drv_timerq *timers;
    GSource *source;
    drv_rng rng;
    emu_log_level level; /* lines above it are not printed */
    const char *prog;
    emu_ms started;
} drv_glib;

void drv_glib_init(drv_glib *g, void *ctx, const char *prog, uint64_t seed, emu_log_level level);
void drv_glib_destroy(drv_glib *g);

/* Monotonic milliseconds. */
emu_ms drv_glib_now(void);
/* A timer for the driver itself (0 delay: at the next loop iteration, in start order). */
emu_timer drv_glib_later(drv_glib *g, emu_ms delay, void (*fire)(void *arg), void *arg);

/* A seed from the clock and the process id, for runs without --seed. */
uint64_t drv_glib_default_seed(void);

#endif
