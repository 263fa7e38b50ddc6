/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake emu_env for unit tests of the emulator's sans-IO nodes: a virtual clock whose timers fire only
 * when the test advances time, and a record of every message sent (to which peer). Deterministic.
 */
#ifndef FAKE_ENV_H
#define FAKE_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "emu_env.h"

#define FAKE_ENV_MAX_SENT 4096
#define FAKE_ENV_MAX_TIMERS 1024

typedef struct {
    emu_peer *peer;
    uint8_t *msg; /* owned */
    size_t len;
    emu_ms at;
} fake_sent;

typedef struct {
    emu_timer id;
    emu_ms due;
    void (*fire)(void *arg);
    void *arg;
} fake_timer;

typedef struct {
    emu_env env;          /* pass &fe.env to the node under test */
    emu_ms now;
    uint32_t unix_base;   /* unix_time() = unix_base + now / 1000 */
    uint64_t rng;
    fake_sent sent[FAKE_ENV_MAX_SENT];
    size_t n_sent;
    size_t delivered;     /* sent[] before this index went through fake_env_deliver() (or are to be skipped) */
    int recycle;          /* fake_env_deliver() clears sent[] once half full: for long runs that never read it */
    fake_timer timers[FAKE_ENV_MAX_TIMERS];
    size_t n_timers;
    emu_timer next_id;
    int verbose;          /* print log lines */
    size_t closed_peers;
} fake_env;

void fake_env_init(fake_env *fe, uint64_t seed);
void fake_env_free(fake_env *fe);
/* Moves the clock forward by ms, firing due timers in time order (timers started meanwhile too). */
void fake_env_advance(fake_env *fe, emu_ms ms);
/* Forgets the recorded messages. */
void fake_env_clear_sent(fake_env *fe);
/* Called by fake_env_deliver() for each recorded message, in the order sent. */
typedef void (*fake_deliver_fn)(void *ctx, const fake_sent *s);
/* Passes every message recorded since the last delivery (and what delivering them sends) to deliver. */
void fake_env_deliver(fake_env *fe, fake_deliver_fn deliver, void *ctx);
/* Moves the clock forward by ms in steps of at most step ms, delivering what was sent after each step. */
void fake_env_advance_delivering(fake_env *fe, emu_ms ms, emu_ms step, fake_deliver_fn deliver, void *ctx);
/* Pending timers. */
size_t fake_env_timers(const fake_env *fe);

#endif
