/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The offline driver (wmmp-emulate): a terminal and a platform in one process on a virtual clock, at full
 * speed. One queue of (time, order) events holds both sides' timers and the messages in flight; every
 * message takes one_way_ms (plus --delay) to arrive; all randomness (the nodes' and the faults') comes from
 * one generator seeded with --seed. Nothing depends on the real clock, so the same options and seed give
 * the same run and a byte-identical capture.
 *
 * The capture shows the wire between fixed addresses: terminal 10.0.0.2:40001, platform 10.0.0.1:9992
 * (UDP) or :9991 (TCP, a flow with its handshake per connection; a reconnect uses the next client port),
 * timestamps = epoch + virtual time. --loss models the network: a lost message is recorded when sent and
 * never arrives (each message is lost with probability P once, whichever side sent it).
 */
#ifndef DRV_OFFLINE_H
#define DRV_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "drv_faults.h"
#include "emu_env.h"

typedef struct drv_offline drv_offline;

typedef enum { DRV_TERMINAL = 0, DRV_PLATFORM = 1 } drv_side;

#define DRV_OFFLINE_EPOCH 1767225600u /* 2026-01-01T00:00:00Z */

typedef struct {
    void (*receive)(void *user, emu_peer *from, const uint8_t *msg, size_t len);
    /* TCP: the connection ended (for the platform also after its own close_peer). */
    void (*closed)(void *user, emu_peer *peer);
    void *user;
} drv_offline_handler;

/* Called for every message as it is put on the wire (before loss), e.g. to count or to trigger actions. */
typedef void (*drv_offline_observer)(void *user, drv_side from, const uint8_t *msg, size_t len);

typedef struct {
    const char *prog;
    uint64_t seed;
    int tcp;
    drv_faults faults;
    emu_ms one_way_ms;      /* 0: 20 */
    uint32_t epoch;         /* 0: DRV_OFFLINE_EPOCH */
    const char *pcap_path;  /* NULL: no recording */
    emu_log_level log_level;
} drv_offline_options;

typedef struct {
    uint64_t sent[2];       /* by side */
    uint64_t delivered[2];  /* to side */
    uint64_t lost, duplicated, undeliverable;
} drv_offline_stats;

drv_offline *drv_offline_new(const drv_offline_options *o, char *err, size_t err_len);
void drv_offline_free(drv_offline *d);
int drv_offline_close_pcap(drv_offline *d, char *err, size_t err_len);

const emu_env *drv_offline_env(drv_offline *d, drv_side side);
/* The peer side sends to (the terminal's platform; the platform's terminal). */
emu_peer *drv_offline_peer(drv_offline *d, drv_side side);
void drv_offline_set_handler(drv_offline *d, drv_side side, const drv_offline_handler *h);
void drv_offline_set_observer(drv_offline *d, drv_offline_observer obs, void *user);
/* A side that is down receives nothing (it has vanished from the network). */
void drv_offline_set_down(drv_offline *d, drv_side side, int down);

/* Runs the next event (advancing the clock to it): 0 when nothing is left. */
int drv_offline_step(drv_offline *d);
emu_ms drv_offline_now(const drv_offline *d);
/* An action of the scenario on the virtual clock. */
emu_timer drv_offline_later(drv_offline *d, emu_ms delay, void (*fire)(void *arg), void *arg);
const drv_offline_stats *drv_offline_get_stats(const drv_offline *d);

#endif
