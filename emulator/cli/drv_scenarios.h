/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The scenarios of wmmp-emulate: a terminal configuration, actions of the platform triggered by what goes
 * over the wire (always run from the event queue, never inside a node's send), and the check that says
 * whether the run showed what it should.
 */
#ifndef DRV_SCENARIOS_H
#define DRV_SCENARIOS_H

#include <stddef.h>
#include <stdint.h>

#include "drv_offline.h"
#include "platform.h"
#include "terminal.h"

#define DRV_RUN_MAX_WIRE 4096
#define DRV_REASON_SEALED (-2)

typedef struct drv_scenario drv_scenario;

/* One run of a scenario: what scenarios act on and what they observed. */
typedef struct {
    const drv_scenario *sc;
    drv_offline *d;
    platform *p;
    terminal *t;
    const char *serial;
    unsigned records;
    uint16_t heartbeat_s;       /* the terminal's heartbeat interval in seconds */
    /* observed on the wire, in order (before loss) */
    uint16_t wire[DRV_RUN_MAX_WIRE];
    drv_side wire_from[DRV_RUN_MAX_WIRE];
    size_t n_wire;
    uint64_t by_cmd[2][16];     /* [ack][command & 0x0F] */
    uint64_t fragments;         /* messages with the fragment bit but no encryption bit */
    int terminal_logout_reason; /* of the terminal's last LOGOUT, -1: none, DRV_REASON_SEALED: encrypted */
    unsigned logouts_after_down;  /* terminal LOGOUTs once the platform vanished */
    int step;                   /* the scenario's own progress */
    int wrapped;                /* the terminal sent requests with Sequence_ID 0xFFFFFFFF and then 0 */
    uint32_t last_seq;
    int platform_down;
    unsigned preloaded;         /* records the scenario put into the spool (drv_scenario.preload) */
    const wmmp_terminal_keys *keys; /* the terminal's */
} drv_run;

struct drv_scenario {
    const char *name;
    const char *what;
    unsigned records;           /* default --records */
    emu_ms heartbeat_ms, record_interval_ms;
    unsigned ecg_seconds;
    double loss;                /* default --loss */
    int plain;                  /* default --security plain (figure 4: common messages); else digest */
    int needs_firmware;
    int expected_exit;          /* the terminal's exit code this scenario must end with */
    /* the terminal's link and login timing (0: defaults) */
    emu_ms response_timeout_ms;
    unsigned retries, max_login_attempts;
    emu_ms backoff_ms;
    /* called once the nodes exist, before the terminal starts (may be NULL) */
    void (*setup)(drv_run *r);
    void (*on_wire)(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len);
    /* 0 when the run showed what the scenario is about; else -1 with why. */
    int (*check)(const drv_run *r, char *why, size_t why_len);
    /* the terminal's pause between a session's first HEART_BEAT_ACK and its first record (0: none) */
    emu_ms first_record_delay_ms;
    /* the terminal starts without a serial: REGISTER / REGISTER_ACK before LOGIN */
    int unregistered;
    /*
     * Called before the terminal exists (may be NULL): puts records of the scenario's own making into the
     * terminal's spool, which it sends before any it measures. Returns how many, or -1 with why.
     */
    int (*preload)(drv_run *r, const char *spool_dir, uint32_t measured_at, char *why, size_t why_len);
};

const drv_scenario *drv_scenario_find(const char *name);
/* "figure4, session, ..." */
const char *drv_scenario_names(void);
/* The i-th scenario (NULL past the last), for --list. */
const drv_scenario *drv_scenario_at(size_t i);
/* Records what went on the wire and runs the scenario's triggers (a drv_offline_observer). */
void drv_run_observe(void *run, drv_side from, const uint8_t *msg, size_t len);

#endif
