/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The M2M platform (profile sections 5, 7, 9, 10): accepts registrations and logins of the terminals in
 * its keys file, answers their requests with the profile's result codes, stores their health records in
 * SQLite exactly once, serves firmware, starts platform-side commands, and ends silent sessions.
 * Sans-IO: a driver feeds it messages and runs its timers (emu_env.h).
 */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "emu_env.h"
#include "wmmp_keys.h"
#include "wmmp_link.h"

typedef struct platform platform;

typedef struct {
    const wmmp_keyring *keys;      /* the terminals it knows (profile section 11); not copied: keep it alive */
    const char *db_path;           /* SQLite database (created when missing) */
    const char *firmware_path;     /* image served by FILE_REQ (NULL: none) */
    const char *firmware_version;  /* announced in DOWNLOAD_INFO (0x1005) */
    wmmp_security_level security;  /* the most it offers: ENCRYPTED/FULL deliver a session key in LOGIN_ACK */
    uint16_t heartbeat_interval_s; /* sent in LOGIN_ACK (0x4004); sessions end after 3 silent intervals */
    wmmp_link_config link;         /* side = WMMP_DOWNLINK */
    uint32_t platform_ipv4;        /* CONFIG_REQ 0x0009 (host order); 0: unknown, answered as unsupported */
    uint32_t platform_port;        /* CONFIG_REQ 0x000A; 0: unknown */
    /*
     * Group commit (0: off, one transaction per write as always). On: the health records and heartbeat
     * statuses that arrive together (until the driver runs its timers again, at most 512) share one SQLite
     * transaction, and their ACKs are held until it committed -- a record is still on disk before its ACK,
     * at a fraction of the commits. Everything else commits on its own, after the group. The ACKs leave
     * from a timer, so an offline run's event order (and capture) would differ: wmmp-platform turns it on.
     */
    int group_commit;
} platform_config;

/* Counters, also kept in the database (table counters) and printed at exit. */
typedef struct {
    uint64_t registrations, logins, logins_refused, logouts, session_timeouts;
    uint64_t records_stored, records_duplicate;
    uint64_t records_id_reused; /* another record under a stored record's ID: not stored, answered result 8 */
    uint64_t rejected_bad_digest;      /* result 3 */
    uint64_t rejected_unknown_terminal;/* result 2 */
    uint64_t rejected_not_logged_in;   /* result 9 */
    uint64_t rejected_malformed;       /* result 5, or dropped when unanswerable */
    uint64_t messages_received, messages_sent;
    uint64_t payloads_other;           /* TRANSPARENT_DATA/CMD user data that is not a health record (ACKed) */
    uint64_t comm_failures;            /* links that reported communication failure (LOGOUT reason 1 sent) */
    uint64_t logins_stale;             /* signed LOGINs refused (3) for System time: missing, outside the window, replayed */
    uint64_t answers_withheld;         /* answers larger than what an unauthenticated sender sent: not sent */
    uint64_t replays_dropped;          /* signed requests of an old Sequence_ID from another address */
} platform_stats;

/* NULL with a one-line reason in err (e.g. the database cannot be opened). */
platform *platform_new(const emu_env *env, const platform_config *cfg, char *err, size_t err_len);
void platform_free(platform *p);

/* One whole message from peer (a UDP source address or a TCP connection). */
void platform_receive(platform *p, emu_peer *from, const uint8_t *msg, size_t len);
/* A TCP connection closed: sessions on it lose their peer (they end when silent). */
void platform_peer_closed(platform *p, emu_peer *peer);

/* Shutdown: sends LOGOUT (reason 2, platform shutdown) to every logged-in terminal. */
void platform_shutdown(platform *p);
/* True when no terminal is logged in and nothing is outstanding (the driver may exit). */
int platform_idle(const platform *p);

/* Platform-initiated commands to a logged-in terminal (scenarios, operator); -1 when it is not logged in. */
int platform_config_get(platform *p, const char *serial, const uint16_t *tags, size_t n);
int platform_config_set(platform *p, const char *serial, const uint8_t *tlvs, size_t len);
int platform_remote_ctrl(platform *p, const char *serial, uint8_t command);
int platform_download_info(platform *p, const char *serial); /* announces firmware_path */
int platform_security_config(platform *p, const char *serial, uint8_t operation, const uint8_t *tlvs, size_t len);

const platform_stats *platform_get_stats(const platform *p);
/* Logged-in terminals. */
size_t platform_sessions(const platform *p);

#endif
