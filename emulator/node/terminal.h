/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The integrated health tester (the seed paper's terminal): registers when it has no serial, logs in,
 * then alternates heartbeats and health records as in figure 4, answers the platform's CONFIG_GET/SET,
 * REMOTE_CTRL, DOWNLOAD_INFO (FILE_REQ loop, CRC-32 check) and SECURITY_CONFIG, and logs out.
 * Records wait in an on-disk spool until acknowledged (store and forward), so nothing is lost and no
 * record is sent as a new one twice, across platform outages and terminal restarts.
 * Sans-IO: a driver feeds it messages and runs its timers (emu_env.h).
 */
#ifndef TERMINAL_H
#define TERMINAL_H

#include <stddef.h>
#include <stdint.h>

#include "emu_env.h"
#include "wmmp_keys.h"
#include "wmmp_link.h"
#include "wmmp_tables.h"

typedef struct terminal terminal;

/* Exit codes of wmmp-terminal (also terminal_result()). */
typedef enum {
    TERMINAL_OK = 0,                /* every record acknowledged, logged out */
    TERMINAL_EXIT_USAGE = 2,        /* bad option, keys file, ... (the program's, not the node's) */
    TERMINAL_EXIT_LOGIN_REFUSED = 3,/* LOGIN_ACK or REGISTER_ACK with an error result */
    TERMINAL_EXIT_COMM_FAILURE = 4, /* communication failure (profile section 9) and no recovery */
    TERMINAL_EXIT_UNACKED = 5,      /* finished, but some records were not acknowledged (still spooled) */
} terminal_exit;

/*
 * keys, software_version and platform_name are referenced, not copied (a load generator's terminals share
 * them): they must outlive the terminal. The other strings are read by terminal_new() only.
 */
typedef struct {
    const wmmp_terminal_keys *keys; /* its IMEI/IMSI/passwords/base key; serial may be "" (then REGISTER) */
    const char *serial;             /* 16 characters, or NULL/"" to register first */
    const char *spool_dir;          /* store-and-forward directory (records, next record ID, serial) */
    unsigned records;               /* health records to send in this run */
    wmmp_security_level security;
    wmmp_dialect dialect;           /* paper: signal level as tag 0x0002 */
    emu_ms heartbeat_ms;            /* between heartbeats; default 60000 (the platform may change it) */
    emu_ms record_interval_ms;      /* between records; default (0) 5000 */
    emu_ms first_record_delay_ms;   /* after a session's first HEART_BEAT_ACK, before records flow; 0: at once */
    unsigned ecg_seconds;           /* ECG length of every 5th record, the first included (250 Hz, at most 60):
                                       over ~1.7 s the record is fragmented; default (0) 8 */
    const char *software_version;   /* LOGIN's 8-byte version, e.g. "HT-1.0" (the default) */
    wmmp_link_config link;          /* side = WMMP_UPLINK; response_timeout_ms 0: wmmp_link_config_default() */
    /* Optional (0 selects the default): */
    unsigned max_login_attempts;    /* failed REGISTER/LOGIN attempts in a row before COMM_FAILURE; 0: 10 */
    emu_ms backoff_ms;              /* wait before logging in again after a failure, doubling; 0: 5000 */
    emu_ms backoff_max_ms;          /* the longest wait; 0: 60000 */
    size_t spool_max;               /* records the spool holds at most; 0: 100000 */
    uint32_t platform_ipv4;         /* reported as TLV 0x0009 (host order, 0x7F000001 = 127.0.0.1); 0: unknown */
    uint16_t platform_port;         /* reported as TLV 0x000A; 0: 9992 */
    const char *platform_name;      /* in messages, e.g. "127.0.0.1:9992"; NULL: "the platform" */
} terminal_config;

/* 32 bits: one run of one terminal (a load generator keeps one per simulated terminal). */
typedef struct {
    uint32_t records_generated, records_sent, records_acked, records_pending;
    uint32_t heartbeats, logins, registrations, failures;
} terminal_stats;

/* NULL with a one-line reason in err (e.g. the spool cannot be created). */
terminal *terminal_new(const emu_env *env, emu_peer *platform_peer, const terminal_config *cfg, char *err,
                       size_t err_len);
void terminal_free(terminal *t);

/* Starts the run: register if needed, log in, and go. */
void terminal_start(terminal *t);
/* One whole message from the platform. */
void terminal_receive(terminal *t, const uint8_t *msg, size_t len);
/* The connection was lost (TCP closed): the terminal treats it as a communication failure. */
void terminal_connection_lost(terminal *t);
/* Asks it to log out (reason 0) after what is in flight; terminal_done() turns true when it has. */
void terminal_stop(terminal *t);
/*
 * True when the run has ended; *code (may be NULL) is its terminal_exit:
 *   TERMINAL_OK               logged out (or logged out by the platform) with every generated record acknowledged
 *   TERMINAL_EXIT_UNACKED     logged out (e.g. after terminal_stop()) with records still spooled
 *   TERMINAL_EXIT_COMM_FAILURE max_login_attempts REGISTER/LOGIN attempts in a row failed (whatever is spooled)
 *   TERMINAL_EXIT_LOGIN_REFUSED REGISTER_ACK / LOGIN_ACK with an error result, or a platform whose digests
 *                             never verify
 */
int terminal_done(const terminal *t, int *code);
const terminal_stats *terminal_get_stats(const terminal *t);
/* The terminal's link (its statistics, tests: wmmp_link_set_next_sequence()). */
wmmp_link *terminal_link(const terminal *t);

#endif
