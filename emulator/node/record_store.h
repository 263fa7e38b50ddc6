/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The platform's SQLite database (--db): health records stored exactly once per (terminal, record ID),
 * registrations, sessions, reported configuration and counters. Every write is one transaction; a record
 * is committed (WAL, synchronous=NORMAL) before record_store_put() returns, so the platform ACKs it only
 * once it is on disk.
 *
 * Schema (user_version 1; created when missing, kept when present):
 *
 *   records      one row per health record (profile section 10); a value the record lacks is NULL
 *     terminal TEXT, record_id INTEGER          PRIMARY KEY (terminal, record_id)
 *     measured_at INTEGER, received_at INTEGER  Unix seconds (the record's time; the platform's clock)
 *     subject_id TEXT, heart_rate INTEGER, temperature REAL (deg C), bp_systolic INTEGER,
 *     bp_diastolic INTEGER, bp_mean INTEGER, pulse_rate INTEGER, spo2 INTEGER, resp_rate INTEGER,
 *     ecg_rate INTEGER (Hz), ecg_lead INTEGER, ecg_resolution_nv INTEGER, ecg_samples INTEGER (count),
 *     ecg BLOB (the samples as on the wire: big-endian int16), lab_count INTEGER, reminder_count INTEGER,
 *     unknown_tags INTEGER (record TLVs the codec does not know, skipped)
 *     crc32 INTEGER (of the record's bytes, NULL when not known; added in schema version 2)
 *   lab_results  terminal TEXT, record_id INTEGER, seq INTEGER (0.. in record order), analyte INTEGER,
 *                unit INTEGER, value REAL, flag INTEGER              PRIMARY KEY (terminal, record_id, seq)
 *   reminders    terminal TEXT, record_id INTEGER, seq INTEGER, level INTEGER, text TEXT
 *                                                                    PRIMARY KEY (terminal, record_id, seq)
 *   terminals    serial TEXT PRIMARY KEY, imei TEXT, imsi TEXT, registered_at INTEGER, last_login_at INTEGER,
 *                logged_in INTEGER (0/1), last_seen_at INTEGER, lac INTEGER, cell_id INTEGER,
 *                signal INTEGER (CSQ; from HEART_BEAT / LOGIN / CONFIG_TRAP TLVs 0x3006, 0x3007)
 *   sessions     id INTEGER PRIMARY KEY AUTOINCREMENT, terminal TEXT, login_at INTEGER,
 *                logout_at INTEGER (NULL while open), logout_cause TEXT, logout_reason INTEGER (the
 *                profile's LOGOUT reason) by cause:
 *                  'logout'   the terminal logged out        reason: the one in its LOGOUT
 *                  'timeout'  3 silent heartbeat intervals   4 (logical-connection timeout)
 *                  'failure'  communication failure          1 (LOGOUT reason 1 sent)
 *                  'shutdown' platform shutdown              2 (LOGOUT reason 2 sent)
 *                  'relogin'  a new LOGIN replaced it        0
 *                  'exit'     platform freed without shutdown 2 (nothing sent)
 *                  'restart'  found open by the next run     NULL
 *   config       terminal TEXT, tag INTEGER, value BLOB, updated_at INTEGER, source TEXT ('trap', 'get')
 *                                                                    PRIMARY KEY (terminal, tag)
 *   counters     name TEXT PRIMARY KEY, value INTEGER (the platform_stats names, cumulative over runs)
 */
#ifndef RECORD_STORE_H
#define RECORD_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "wmmp_health.h"

typedef struct record_store record_store;

/*
 * Group commit: between record_store_batch_begin() and record_store_batch_commit() every write below joins
 * one transaction, and nothing is durable before the commit: a caller that answers only after a write is on
 * disk must hold its answers until record_store_batch_commit() returned 0. When a write in the group fails
 * (it returns its error as usual), the whole group is rolled back and the commit returns -1; writes after
 * the failure fail at once. record_store_close() commits an open group.
 */
int record_store_batch_begin(record_store *s);
int record_store_batch_commit(record_store *s);
int record_store_batch_open(const record_store *s);

/* Opens or creates the database; NULL with a one-line reason in err. */
record_store *record_store_open(const char *path, char *err, size_t err_len);
void record_store_close(record_store *s);
/* The last SQLite error message (for logs). */
const char *record_store_error(const record_store *s);

typedef enum {
    RECORD_STORED = 0,    /* a new row, committed */
    RECORD_DUPLICATE = 1, /* (terminal, record_id) was already there, the same record: nothing changed */
    RECORD_CONFLICT = 2,  /* (terminal, record_id) was already there with another record (another measured_at
                             or CRC-32): nothing changed; the terminal reused the ID (docs/PROTOCOL-NOTES.md) */
    RECORD_FAILED = -1,   /* database error: nothing stored (record_store_error() says why) */
} record_store_result;

/* Stores one decoded record and its lab results and reminders in one transaction. */
record_store_result record_store_put(record_store *s, const char *terminal, const wmmp_health_record *r,
                                     uint32_t received_at);
/* The same, with the CRC-32 of the record's bytes (column crc32), which tells a resent record (same bytes)
   from another one under the same ID (RECORD_CONFLICT); record_store_put() compares measured_at only. */
record_store_result record_store_put_crc(record_store *s, const char *terminal, const wmmp_health_record *r,
                                         uint32_t crc32, uint32_t received_at);

/* Functions below return 0 on success, -1 on a database error. */

/* For the platform at start: sessions a previous run left open are closed ('restart'), logged_in cleared. */
int record_store_close_stale_sessions(record_store *s);

/* A registration: creates the terminal or updates its IMEI, IMSI and registered_at. */
int record_store_register(record_store *s, const char *serial, const char *imei, const char *imsi, uint32_t at);
/* Radio status: lac/cell_id/signal < 0 leave the stored value unchanged; last_seen_at = at. */
int record_store_status(record_store *s, const char *serial, int32_t lac, int32_t cell_id, int32_t signal,
                        uint32_t at);
/* Opens a session (terminal row created if missing, logged_in = 1); *id receives the session's id. */
int record_store_session_begin(record_store *s, const char *serial, uint32_t at, int64_t *id);
/* Closes session id (logged_in = 0 for its terminal). */
int record_store_session_end(record_store *s, int64_t id, const char *serial, uint32_t at, int reason,
                             const char *cause);
/* Remembers one configuration value reported by (or read from) a terminal. */
int record_store_config_put(record_store *s, const char *serial, uint16_t tag, const uint8_t *value, size_t len,
                            uint32_t at, const char *source);

/* Counters: all n written in one transaction (INSERT OR REPLACE). */
int record_store_counters_save(record_store *s, const char *const *names, const uint64_t *values, size_t n);
/* 0 with *value, or -1 when the counter is absent or on error. */
int record_store_counter_get(record_store *s, const char *name, uint64_t *value);

/* The first column of the first row of a query (tests, reports); -1 on error or no row. */
int64_t record_store_query_int(record_store *s, const char *sql);
/* The connection, for ad-hoc queries (tests); owned by the store. */
sqlite3 *record_store_db(record_store *s);

#endif
