/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The environment a protocol node (terminal, platform, link) runs in. Nodes never touch sockets, clocks
 * or files of the network directly: they call these functions, and a driver implements them:
 *
 *   live driver     GLib main loop, real UDP/TCP sockets, real time (wmmp-platform, wmmp-terminal)
 *   offline driver  both sides in one process, a virtual clock, in-memory delivery (wmmp-emulate)
 *   load driver     many terminals over a few sockets on one GLib loop (wmmp-terminal --load)
 *
 * so the same protocol code runs live, reproducibly offline, and at scale. Fault injection (loss,
 * duplication, delay) and pcap recording live in the drivers, in send() and on receive.
 */
#ifndef EMU_ENV_H
#define EMU_ENV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t emu_ms;    /* monotonic milliseconds (virtual in offline mode) */
typedef uint64_t emu_timer; /* 0 means "no timer" */

/*
 * One remote endpoint as the driver sees it: a UDP address or a TCP connection. Owned by the driver,
 * opaque to nodes, valid until the driver says it is gone (e.g. platform_peer_closed()).
 */
typedef struct emu_peer emu_peer;

typedef enum { EMU_LOG_ERROR, EMU_LOG_WARN, EMU_LOG_INFO, EMU_LOG_DEBUG } emu_log_level;

typedef struct emu_env {
    void *ctx; /* the driver's; passed to every function below */

    emu_ms (*now)(void *ctx);
    /* Unix seconds of the wall clock (virtual in offline mode): LOGIN_ACK timestamps, record times. */
    uint32_t (*unix_time)(void *ctx);

    /*
     * Transmits one whole WMMP message to peer. The driver copies the bytes before returning; it may
     * drop, duplicate or delay the message (fault injection) and records what really went out.
     */
    void (*send)(void *ctx, emu_peer *peer, const uint8_t *msg, size_t len);

    /* Calls fire(arg) once after delay ms. A cancelled or fired timer's id is never reused. */
    emu_timer (*timer_start)(void *ctx, emu_ms delay, void (*fire)(void *arg), void *arg);
    void (*timer_cancel)(void *ctx, emu_timer t); /* no-op for 0 or a timer that already fired */

    /* 32 random bits from the run's seeded generator (--seed): faults, measurements -- never secrets. */
    uint32_t (*random)(void *ctx);

    /* One line, no newline. Never pass passwords or keys. */
    void (*log)(void *ctx, emu_log_level level, const char *line);

    /* Ends a TCP connection (no-op for UDP peers). */
    void (*close_peer)(void *ctx, emu_peer *peer);

    /*
     * n bytes of key material (session keys). Live drivers: the system's CSPRNG (libgcrypt, strong
     * randomness), whatever --seed says; the offline driver: its seeded generator, so that a scenario's
     * capture is reproducible byte for byte -- keys nobody may rely on.
     */
    void (*secret_bytes)(void *ctx, uint8_t *out, size_t n);
} emu_env;

/* printf-style logging through env->log. */
void emu_logf(const emu_env *env, emu_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A uniform double in [0, 1) from env->random (fault injection, noise). */
double emu_random_unit(const emu_env *env);

#endif
