/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The platform's SQLite database; the schema is documented in record_store.h. */
#include "record_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 2 /* 2: records.crc32 */
#define STR_(x) #x
#define STR(x) STR_(x)

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS records ("
    " terminal TEXT NOT NULL, record_id INTEGER NOT NULL,"
    " measured_at INTEGER NOT NULL, received_at INTEGER NOT NULL,"
    " subject_id TEXT, heart_rate INTEGER, temperature REAL,"
    " bp_systolic INTEGER, bp_diastolic INTEGER, bp_mean INTEGER,"
    " pulse_rate INTEGER, spo2 INTEGER, resp_rate INTEGER,"
    " ecg_rate INTEGER, ecg_lead INTEGER, ecg_resolution_nv INTEGER, ecg_samples INTEGER, ecg BLOB,"
    " lab_count INTEGER NOT NULL DEFAULT 0, reminder_count INTEGER NOT NULL DEFAULT 0,"
    " unknown_tags INTEGER NOT NULL DEFAULT 0, crc32 INTEGER,"
    " PRIMARY KEY (terminal, record_id));"
    "CREATE TABLE IF NOT EXISTS lab_results ("
    " terminal TEXT NOT NULL, record_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " analyte INTEGER NOT NULL, unit INTEGER NOT NULL, value REAL NOT NULL, flag INTEGER NOT NULL,"
    " PRIMARY KEY (terminal, record_id, seq));"
    "CREATE TABLE IF NOT EXISTS reminders ("
    " terminal TEXT NOT NULL, record_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " level INTEGER NOT NULL, text TEXT NOT NULL,"
    " PRIMARY KEY (terminal, record_id, seq));"
    "CREATE TABLE IF NOT EXISTS terminals ("
    " serial TEXT PRIMARY KEY, imei TEXT, imsi TEXT, registered_at INTEGER, last_login_at INTEGER,"
    " logged_in INTEGER NOT NULL DEFAULT 0, last_seen_at INTEGER, lac INTEGER, cell_id INTEGER,"
    " signal INTEGER);"
    "CREATE TABLE IF NOT EXISTS sessions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, terminal TEXT NOT NULL, login_at INTEGER NOT NULL,"
    " logout_at INTEGER, logout_reason INTEGER, logout_cause TEXT);"
    "CREATE INDEX IF NOT EXISTS sessions_terminal ON sessions (terminal);"
    "CREATE TABLE IF NOT EXISTS config ("
    " terminal TEXT NOT NULL, tag INTEGER NOT NULL, value BLOB, updated_at INTEGER, source TEXT,"
    " PRIMARY KEY (terminal, tag));"
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/* The prepared statements, in the order of stmt_sql. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_RECORD,
    ST_RECORD_GET,
    ST_LAB,
    ST_REMINDER,
    ST_TERMINAL_ENSURE,
    ST_REGISTER,
    ST_STATUS,
    ST_SESSION_BEGIN,
    ST_LOGIN,
    ST_SESSION_END,
    ST_LOGGED_OUT,
    ST_CONFIG,
    ST_COUNTER_SET,
    ST_COUNTER_GET,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_RECORD] = "INSERT OR IGNORE INTO records (terminal, record_id, measured_at, received_at, subject_id,"
                  " heart_rate, temperature, bp_systolic, bp_diastolic, bp_mean, pulse_rate, spo2, resp_rate,"
                  " ecg_rate, ecg_lead, ecg_resolution_nv, ecg_samples, ecg, lab_count, reminder_count,"
                  " unknown_tags, crc32) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                  " ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    [ST_RECORD_GET] = "SELECT measured_at, crc32 FROM records WHERE terminal = ?1 AND record_id = ?2",
    [ST_LAB] = "INSERT OR REPLACE INTO lab_results (terminal, record_id, seq, analyte, unit, value, flag)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_REMINDER] = "INSERT OR REPLACE INTO reminders (terminal, record_id, seq, level, text) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TERMINAL_ENSURE] = "INSERT OR IGNORE INTO terminals (serial) VALUES (?1)",
    [ST_REGISTER] = "UPDATE terminals SET imei = ?2, imsi = ?3, registered_at = ?4 WHERE serial = ?1",
    /* one statement where INSERT OR IGNORE + UPDATE were two: a heartbeat costs one write */
    [ST_STATUS] = "INSERT INTO terminals (serial, last_seen_at, lac, cell_id, signal) VALUES (?1, ?2, ?3, ?4, ?5)"
                  " ON CONFLICT (serial) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
                  " lac = COALESCE(excluded.lac, lac), cell_id = COALESCE(excluded.cell_id, cell_id),"
                  " signal = COALESCE(excluded.signal, signal)",
    [ST_SESSION_BEGIN] = "INSERT INTO sessions (terminal, login_at) VALUES (?1, ?2)",
    [ST_LOGIN] = "UPDATE terminals SET last_login_at = ?2, last_seen_at = ?2, logged_in = 1 WHERE serial = ?1",
    [ST_SESSION_END] = "UPDATE sessions SET logout_at = ?2, logout_reason = ?3, logout_cause = ?4"
                       " WHERE id = ?1 AND logout_at IS NULL",
    [ST_LOGGED_OUT] = "UPDATE terminals SET logged_in = 0 WHERE serial = ?1",
    [ST_CONFIG] = "INSERT OR REPLACE INTO config (terminal, tag, value, updated_at, source)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_COUNTER_SET] = "INSERT OR REPLACE INTO counters (name, value) VALUES (?1, ?2)",
    [ST_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?1",
};

/*
 * A database in memory (":memory:", wmmp-emulate's default) cannot be durable and nobody else can read it,
 * so paying for a transaction per write buys nothing: there the store holds one outer transaction for the
 * whole connection, and what is a transaction on a file (BEGIN, COMMIT, ROLLBACK) is a savepoint inside it
 * (SAVEPOINT, RELEASE, ROLLBACK TO + RELEASE). A write is still atomic and a failed group is still rolled
 * back, the rows are the same, and a write costs about a third less (bench/run-offline.sh). A database
 * file keeps its transactions: a record is on disk before the platform acknowledges it.
 */
static const char *const in_memory_txn_sql[3] = {
    [ST_BEGIN] = "SAVEPOINT w",
    [ST_COMMIT] = "RELEASE w",
    [ST_ROLLBACK] = "ROLLBACK TO w",
};

struct record_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    int batch;        /* a group transaction is open */
    int batch_failed; /* a write in it failed: the group is rolled back */
    int in_memory;    /* ":memory:": one outer transaction, savepoints inside (in_memory_txn_sql) */
    int bare;         /* in memory, the write under way is one statement: no savepoint (begin_one) */
    /* in memory: the counters as last saved (record_store_counters_save() skips the unchanged ones) */
    const char *const *saved_names;
    uint64_t *saved_values;
    size_t saved_n;
};

const char *record_store_error(const record_store *s) { return sqlite3_errmsg(s->db); }
sqlite3 *record_store_db(record_store *s) { return s->db; }

/* Runs a prepared statement to completion and resets it (bindings are cleared for the next use). */
static int run(record_store *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Undoes the open transaction (in memory: the savepoint, which ROLLBACK TO keeps, so it is released too). */
static void rollback(record_store *s)
{
    if (s->in_memory) {
        run(s, ST_ROLLBACK);
        run(s, ST_COMMIT);
    } else if (!sqlite3_get_autocommit(s->db)) {
        run(s, ST_ROLLBACK);
    }
}

/*
 * One write's transaction. Inside a group transaction a write is not atomic on its own: when it fails the
 * whole group is lost (batch_failed), which record_store_batch_commit() reports, so nothing it held is
 * acknowledged (savepoints would keep the other writes, at twice the statements per write).
 */
static int begin(record_store *s)
{
    if (s->batch)
        return s->batch_failed ? -1 : 0;
    return run(s, ST_BEGIN);
}

/*
 * The transaction of a write that is one statement. In memory it takes no savepoint: SQLite undoes a failed
 * statement on its own, and a savepoint would copy every page the statement changes into its journal.
 * Heartbeat statuses and most records (those without lab results or reminders) are such writes.
 */
static int begin_one(record_store *s)
{
    if (s->in_memory && !s->batch) {
        s->bare = 1;
        return 0;
    }
    return begin(s);
}

/* Commits, or rolls back when ok is false or the commit fails; returns 0 only when committed. */
static int finish(record_store *s, int ok)
{
    if (s->bare) {
        s->bare = 0;
        return ok ? 0 : -1;
    }
    if (s->batch) {
        if (!ok)
            s->batch_failed = 1;
        return ok ? 0 : -1;
    }
    if (ok && run(s, ST_COMMIT) == 0)
        return 0;
    rollback(s);
    return -1;
}

int record_store_batch_begin(record_store *s)
{
    if (s->batch)
        return 0;
    if (run(s, ST_BEGIN) != 0)
        return -1;
    s->batch = 1;
    return 0;
}

int record_store_batch_open(const record_store *s) { return s->batch; }

int record_store_batch_commit(record_store *s)
{
    if (!s->batch)
        return 0;
    s->batch = 0;
    if (!s->batch_failed && run(s, ST_COMMIT) == 0)
        return 0;
    s->batch_failed = 0;
    rollback(s);
    return -1;
}

static void bind_text(sqlite3_stmt *st, int i, const char *text, size_t len)
{
    sqlite3_bind_text(st, i, text, (int)len, SQLITE_STATIC); /* every binding is stepped before it returns */
}

static void bind_str(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Binds v when the record has the measurement (bit), NULL otherwise. */
static void bind_opt(sqlite3_stmt *st, int i, unsigned present, unsigned bit, int64_t v)
{
    if (present & bit)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* The samples as on the wire (big-endian int16): the decoder's raw bytes, or the encoder's input converted. */
static void bind_ecg(sqlite3_stmt *st, int i, const wmmp_ecg *ecg)
{
    size_t n = ecg->count * 2;
    if (ecg->raw || !ecg->samples || n == 0) {
        sqlite3_bind_blob64(st, i, ecg->raw ? (const void *)ecg->raw : "", ecg->raw ? n : 0, SQLITE_STATIC);
        return;
    }
    uint8_t *be = malloc(n);
    if (!be) {
        sqlite3_bind_null(st, i);
        return;
    }
    for (size_t k = 0; k < ecg->count; k++) {
        be[2 * k] = (uint8_t)((uint16_t)ecg->samples[k] >> 8);
        be[2 * k + 1] = (uint8_t)ecg->samples[k];
    }
    sqlite3_bind_blob64(st, i, be, n, SQLITE_TRANSIENT);
    free(be);
}

static void bind_record(sqlite3_stmt *st, const char *terminal, const wmmp_health_record *r, uint32_t received_at)
{
    unsigned has = r->present;
    bind_str(st, 1, terminal);
    sqlite3_bind_int64(st, 2, r->record_id);
    sqlite3_bind_int64(st, 3, r->measured_at);
    sqlite3_bind_int64(st, 4, received_at);
    if (has & WMMP_HEALTH_HAS_SUBJECT)
        bind_text(st, 5, r->subject_id, r->subject_id_len);
    bind_opt(st, 6, has, WMMP_HEALTH_HAS_HEART_RATE, r->heart_rate);
    if (has & WMMP_HEALTH_HAS_TEMPERATURE)
        sqlite3_bind_double(st, 7, r->temperature_centi / 100.0);
    bind_opt(st, 8, has, WMMP_HEALTH_HAS_BLOOD_PRESSURE, r->bp_systolic);
    bind_opt(st, 9, has, WMMP_HEALTH_HAS_BLOOD_PRESSURE, r->bp_diastolic);
    bind_opt(st, 10, has, WMMP_HEALTH_HAS_BLOOD_PRESSURE, r->bp_mean);
    bind_opt(st, 11, has, WMMP_HEALTH_HAS_PULSE_RATE, r->pulse_rate);
    bind_opt(st, 12, has, WMMP_HEALTH_HAS_SPO2, r->spo2);
    bind_opt(st, 13, has, WMMP_HEALTH_HAS_RESP_RATE, r->resp_rate);
    bind_opt(st, 14, has, WMMP_HEALTH_HAS_ECG, r->ecg.rate);
    bind_opt(st, 15, has, WMMP_HEALTH_HAS_ECG, r->ecg.lead);
    bind_opt(st, 16, has, WMMP_HEALTH_HAS_ECG, r->ecg.resolution_nv);
    bind_opt(st, 17, has, WMMP_HEALTH_HAS_ECG, (int64_t)r->ecg.count);
    if (has & WMMP_HEALTH_HAS_ECG)
        bind_ecg(st, 18, &r->ecg);
    sqlite3_bind_int64(st, 19, (int64_t)r->lab_count);
    sqlite3_bind_int64(st, 20, (int64_t)r->reminder_count);
    sqlite3_bind_int64(st, 21, (int64_t)r->unknown_tags);
}

static int put_labs(record_store *s, const char *terminal, const wmmp_health_record *r)
{
    sqlite3_stmt *st = s->st[ST_LAB];
    for (size_t i = 0; i < r->lab_count; i++) {
        const wmmp_lab_result *l = &r->labs[i];
        bind_str(st, 1, terminal);
        sqlite3_bind_int64(st, 2, r->record_id);
        sqlite3_bind_int64(st, 3, (int64_t)i);
        sqlite3_bind_int64(st, 4, l->analyte);
        sqlite3_bind_int64(st, 5, l->unit);
        sqlite3_bind_double(st, 6, l->value_milli / 1000.0);
        sqlite3_bind_int64(st, 7, l->flag);
        if (run(s, ST_LAB) != 0)
            return -1;
    }
    return 0;
}

static int put_reminders(record_store *s, const char *terminal, const wmmp_health_record *r)
{
    sqlite3_stmt *st = s->st[ST_REMINDER];
    for (size_t i = 0; i < r->reminder_count; i++) {
        const wmmp_reminder *m = &r->reminders[i];
        bind_str(st, 1, terminal);
        sqlite3_bind_int64(st, 2, r->record_id);
        sqlite3_bind_int64(st, 3, (int64_t)i);
        sqlite3_bind_int64(st, 4, m->level);
        bind_text(st, 5, m->text ? m->text : "", m->text ? m->text_len : 0);
        if (run(s, ST_REMINDER) != 0)
            return -1;
    }
    return 0;
}

/* The stored row of (terminal, record ID) is another record than r (crc < 0: not known). */
static int other_record(record_store *s, const char *terminal, const wmmp_health_record *r, int64_t crc)
{
    sqlite3_stmt *st = s->st[ST_RECORD_GET];
    int other = 0;
    bind_str(st, 1, terminal);
    sqlite3_bind_int64(st, 2, r->record_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        other = sqlite3_column_int64(st, 0) != (int64_t)r->measured_at ||
                (crc >= 0 && sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_int64(st, 1) != crc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return other;
}

static record_store_result put(record_store *s, const char *terminal, const wmmp_health_record *r, int64_t crc,
                               uint32_t received_at)
{
    /* without lab results and reminders a record is one INSERT (the SELECT after a duplicate only reads) */
    if ((r->lab_count == 0 && r->reminder_count == 0 ? begin_one(s) : begin(s)) != 0)
        return RECORD_FAILED;
    bind_record(s->st[ST_RECORD], terminal, r, received_at);
    if (crc >= 0)
        sqlite3_bind_int64(s->st[ST_RECORD], 22, crc);
    int ok = run(s, ST_RECORD) == 0;
    /* INSERT OR IGNORE changed nothing: the record is already stored, and so are its children. */
    int fresh = ok && sqlite3_changes(s->db) > 0;
    int conflict = ok && !fresh && other_record(s, terminal, r, crc);
    if (fresh)
        ok = put_labs(s, terminal, r) == 0 && put_reminders(s, terminal, r) == 0;
    if (finish(s, ok) != 0)
        return RECORD_FAILED;
    return fresh ? RECORD_STORED : conflict ? RECORD_CONFLICT : RECORD_DUPLICATE;
}

record_store_result record_store_put(record_store *s, const char *terminal, const wmmp_health_record *r,
                                     uint32_t received_at)
{
    return put(s, terminal, r, -1, received_at);
}

record_store_result record_store_put_crc(record_store *s, const char *terminal, const wmmp_health_record *r,
                                         uint32_t crc32, uint32_t received_at)
{
    return put(s, terminal, r, (int64_t)crc32, received_at);
}

static int ensure_terminal(record_store *s, const char *serial)
{
    bind_str(s->st[ST_TERMINAL_ENSURE], 1, serial);
    return run(s, ST_TERMINAL_ENSURE);
}

int record_store_register(record_store *s, const char *serial, const char *imei, const char *imsi, uint32_t at)
{
    if (begin(s) != 0)
        return -1;
    int ok = ensure_terminal(s, serial) == 0;
    sqlite3_stmt *st = s->st[ST_REGISTER];
    bind_str(st, 1, serial);
    bind_str(st, 2, imei);
    bind_str(st, 3, imsi);
    sqlite3_bind_int64(st, 4, at);
    ok = ok && run(s, ST_REGISTER) == 0;
    return finish(s, ok);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int32_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

int record_store_status(record_store *s, const char *serial, int32_t lac, int32_t cell_id, int32_t signal,
                        uint32_t at)
{
    if (begin_one(s) != 0)
        return -1;
    sqlite3_stmt *st = s->st[ST_STATUS];
    bind_str(st, 1, serial);
    sqlite3_bind_int64(st, 2, at);
    bind_opt_int(st, 3, lac);
    bind_opt_int(st, 4, cell_id);
    bind_opt_int(st, 5, signal);
    return finish(s, run(s, ST_STATUS) == 0);
}

int record_store_session_begin(record_store *s, const char *serial, uint32_t at, int64_t *id)
{
    if (begin(s) != 0)
        return -1;
    int ok = ensure_terminal(s, serial) == 0;
    bind_str(s->st[ST_SESSION_BEGIN], 1, serial);
    sqlite3_bind_int64(s->st[ST_SESSION_BEGIN], 2, at);
    ok = ok && run(s, ST_SESSION_BEGIN) == 0;
    if (ok)
        *id = sqlite3_last_insert_rowid(s->db);
    bind_str(s->st[ST_LOGIN], 1, serial);
    sqlite3_bind_int64(s->st[ST_LOGIN], 2, at);
    ok = ok && run(s, ST_LOGIN) == 0;
    return finish(s, ok);
}

int record_store_session_end(record_store *s, int64_t id, const char *serial, uint32_t at, int reason,
                             const char *cause)
{
    if (begin(s) != 0)
        return -1;
    sqlite3_stmt *st = s->st[ST_SESSION_END];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int(st, 3, reason);
    bind_str(st, 4, cause);
    int ok = run(s, ST_SESSION_END) == 0;
    bind_str(s->st[ST_LOGGED_OUT], 1, serial);
    ok = ok && run(s, ST_LOGGED_OUT) == 0;
    return finish(s, ok);
}

int record_store_config_put(record_store *s, const char *serial, uint16_t tag, const uint8_t *value, size_t len,
                            uint32_t at, const char *source)
{
    sqlite3_stmt *st = s->st[ST_CONFIG];
    if (s->batch && begin(s) != 0)
        return -1;
    bind_str(st, 1, serial);
    sqlite3_bind_int(st, 2, tag);
    if (len)
        sqlite3_bind_blob64(st, 3, value, len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 3, 0);
    sqlite3_bind_int64(st, 4, at);
    bind_str(st, 5, source);
    if (s->batch)
        return finish(s, run(s, ST_CONFIG) == 0);
    return run(s, ST_CONFIG); /* one statement: its own transaction */
}

/*
 * In memory nobody else writes the counters, so a row that already holds its value needs no write (the
 * platform saves all of them every 32 records, and most have not moved): the rows are the same. A file
 * database is written in full, as another run may have changed it, and so is a group (the group may still
 * be rolled back, after which the remembered values would lie).
 */
static int counter_unchanged(const record_store *s, const char *const *names, const uint64_t *values, size_t n,
                             size_t i)
{
    return s->in_memory && !s->batch && s->saved_names == names && s->saved_n == n && s->saved_values[i] == values[i];
}

static void counters_remember(record_store *s, const char *const *names, const uint64_t *values, size_t n)
{
    s->saved_names = NULL;
    if (!s->in_memory || s->batch)
        return;
    if (s->saved_n != n) {
        free(s->saved_values);
        s->saved_values = malloc(n * sizeof *values);
    }
    s->saved_names = s->saved_values ? names : NULL;
    s->saved_n = s->saved_values ? n : 0;
    if (s->saved_values)
        memcpy(s->saved_values, values, n * sizeof *values);
}

int record_store_counters_save(record_store *s, const char *const *names, const uint64_t *values, size_t n)
{
    if (begin(s) != 0)
        return -1;
    int ok = 1;
    sqlite3_stmt *st = s->st[ST_COUNTER_SET];
    for (size_t i = 0; ok && i < n; i++) {
        if (counter_unchanged(s, names, values, n, i))
            continue;
        bind_str(st, 1, names[i]);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)values[i]);
        ok = run(s, ST_COUNTER_SET) == 0;
    }
    if (finish(s, ok) != 0) {
        s->saved_names = NULL; /* rolled back: write them all next time */
        return -1;
    }
    counters_remember(s, names, values, n);
    return 0;
}

int record_store_counter_get(record_store *s, const char *name, uint64_t *value)
{
    sqlite3_stmt *st = s->st[ST_COUNTER_GET];
    bind_str(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *value = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int64_t record_store_query_int(record_store *s, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static int exec(record_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int record_store_close_stale_sessions(record_store *s)
{
    /* the end of such a session is the last time its terminal was heard from */
    static const char sql[] = "UPDATE sessions SET logout_at = MAX(login_at, COALESCE((SELECT last_seen_at"
                              " FROM terminals WHERE serial = sessions.terminal), login_at)),"
                              " logout_cause = 'restart' WHERE logout_at IS NULL;"
                              "UPDATE terminals SET logged_in = 0 WHERE logged_in != 0;";
    if (begin(s) != 0)
        return -1;
    return finish(s, exec(s, sql) == 0);
}

static int setup(record_store *s)
{
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    /* WAL: readers (reports, tests) never block the platform; NORMAL: a commit survives a crash of the
       process, which is what an emulator needs, at a fraction of FULL's fsyncs. */
    if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;") != 0)
        return -1;
    /* in memory: 1 KiB pages, as every savepoint copies each page it first changes into its journal (about
       a fifth fewer instructions in SQLite per record than with 4 KiB pages; the fastest of 512 to 4096) */
    if (s->in_memory && exec(s, "PRAGMA page_size=1024") != 0)
        return -1;
    int64_t version = record_store_query_int(s, "PRAGMA user_version");
    if (version > SCHEMA_VERSION)
        return -2;
    if (exec(s, schema_sql) != 0)
        return -1;
    /* a database of schema version 1 (CREATE TABLE IF NOT EXISTS kept its records table) */
    if (record_store_query_int(s, "SELECT COUNT(*) FROM pragma_table_info('records') WHERE name = 'crc32'") == 0 &&
        exec(s, "ALTER TABLE records ADD COLUMN crc32 INTEGER") != 0)
        return -1;
    if (exec(s, "PRAGMA user_version = " STR(SCHEMA_VERSION)) != 0)
        return -1;
    for (int i = 0; i < ST__COUNT; i++) {
        const char *sql = s->in_memory && i <= ST_ROLLBACK ? in_memory_txn_sql[i] : stmt_sql[i];
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
            return -1;
    }
    /* in memory: the outer transaction, held until the connection closes */
    return s->in_memory ? exec(s, "BEGIN") : 0;
}

record_store *record_store_open(const char *path, char *err, size_t err_len)
{
    record_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    /* SQLite's memory statistics cost a global mutex and two counters per allocation, and nothing here reads
       them; the setting must come before the library initialises (a later call is refused, harmlessly). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    s->in_memory = strcmp(path, ":memory:") == 0;
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    int st = rc == SQLITE_OK ? setup(s) : -1;
    if (st != 0) {
        if (st == -2)
            snprintf(err, err_len, "%s: database schema is newer than this program", path);
        else
            snprintf(err, err_len, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        record_store_close(s);
        return NULL;
    }
    return s;
}

void record_store_close(record_store *s)
{
    if (!s)
        return;
    record_store_batch_commit(s);
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s->saved_values);
    free(s);
}
