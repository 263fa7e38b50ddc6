/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The platform's record store: schema, each record once, sessions, counters, data kept across reopening. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "record_store.h"
#include "unit.h"

#define SERIAL "A00MS8011390002S"

static const int16_t ecg_samples[] = { 0, 150, -320, 1200, -32768, 32767 };

/* A temporary directory holding the database; removed with everything SQLite put next to it. */
typedef struct {
    char dir[64];
    char path[96];
} tmp_db;

static void tmp_db_init(tmp_db *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/wmmp-store-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/platform.db", t->dir);
}

static void tmp_db_remove(tmp_db *t)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char f[128];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(f, sizeof f, "%s%s", t->path, suffixes[i]);
        unlink(f);
    }
    rmdir(t->dir);
}

static record_store *open_store(const tmp_db *t)
{
    char err[256] = "";
    record_store *s = record_store_open(t->path, err, sizeof err);
    if (!s)
        fprintf(stderr, "record_store_open: %s\n", err);
    return s;
}

/* Encoded and decoded again, as the platform stores it (ECG samples point into buf). */
static wmmp_health_record decoded_record(uint8_t *buf, size_t cap, uint32_t id)
{
    wmmp_health_record r, out;
    memset(&r, 0, sizeof r);
    r.record_id = id;
    r.measured_at = 1767225600 + id;
    r.present = WMMP_HEALTH_HAS_SUBJECT | WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE |
                WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_SPO2;
    r.subject_id = "110101199003071234";
    r.subject_id_len = 18;
    r.ecg = (wmmp_ecg){ 250, 1, 1000, sizeof ecg_samples / sizeof ecg_samples[0], ecg_samples, NULL };
    r.heart_rate = 72;
    r.temperature_centi = 3685;
    r.bp_systolic = 121;
    r.bp_diastolic = 79;
    r.bp_mean = 93;
    r.spo2 = 98;
    r.labs[0] = (wmmp_lab_result){ 1, 1, 142000, 0 };
    r.labs[1] = (wmmp_lab_result){ 3, 0, -7350, 3 };
    r.lab_count = 2;
    r.reminders[0] = (wmmp_reminder){ 2, "drink water", 11 };
    r.reminder_count = 1;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    CU_ASSERT_EQUAL(wmmp_health_encode(&w, &r), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_health_decode(buf, w.len, &out), WMMP_OK);
    return out;
}

static void test_schema_created(void)
{
    static const char *const tables[] = { "records", "lab_results", "reminders", "terminals",
                                          "sessions", "config", "counters" };
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        CU_ASSERT_EQUAL(record_store_query_int(s, sql), 1);
    }
    CU_ASSERT_EQUAL(record_store_query_int(s, "PRAGMA user_version"), 2);
    /* the primary key is what makes a record unique */
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT pk FROM pragma_table_info('records') WHERE name = 'record_id'"),
                    2);
    record_store_close(s);
    tmp_db_remove(&t);
}

static void test_insert_every_value(void)
{
    uint8_t buf[512];
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    wmmp_health_record r = decoded_record(buf, sizeof buf, 7);
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 1767229999), RECORD_STORED);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT received_at FROM records WHERE record_id = 7"), 1767229999);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT measured_at FROM records"), 1767225607);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT heart_rate FROM records"), 72);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT temperature = 36.85 FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT bp_systolic * 10000 + bp_diastolic * 100 + bp_mean - 1210000"
                                              " FROM records"),
                    7993);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT spo2 FROM records"), 98);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT pulse_rate IS NULL AND resp_rate IS NULL FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT subject_id = '110101199003071234' FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT ecg_samples FROM records"), 6);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT ecg_rate * 100 + ecg_lead FROM records"), 25001);
    /* samples as on the wire: 0, 150 (0x0096), -320 (0xFEC0), ... */
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT hex(substr(ecg, 1, 6)) = '00000096FEC0' FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT length(ecg) FROM records"), 12);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM lab_results WHERE record_id = 7"), 2);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT value = -7.35 AND flag = 3 FROM lab_results WHERE seq = 1"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT level = 2 AND text = 'drink water' FROM reminders"), 1);
    record_store_close(s);
    tmp_db_remove(&t);
}

static void test_duplicate_ignored(void)
{
    uint8_t buf[512];
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    wmmp_health_record r = decoded_record(buf, sizeof buf, 1);
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 100), RECORD_STORED);
    r.heart_rate = 99; /* a changed resend of the same ID still counts as the stored one */
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 200), RECORD_DUPLICATE);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT heart_rate * 1000 + received_at FROM records"), 72100);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM lab_results"), 2);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM reminders"), 1);
    /* the same ID from another terminal is another record */
    CU_ASSERT_EQUAL(record_store_put(s, "B00MS8011390003S", &r, 300), RECORD_STORED);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 2);
    record_store_close(s);
    tmp_db_remove(&t);
}

/* Another record under a stored ID (a terminal whose IDs started again) is a conflict, not a duplicate. */
static void test_reused_id_conflict(void)
{
    uint8_t buf[512];
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    wmmp_health_record r = decoded_record(buf, sizeof buf, 1);
    CU_ASSERT_EQUAL(record_store_put_crc(s, SERIAL, &r, 0x1234, 100), RECORD_STORED);
    CU_ASSERT_EQUAL(record_store_put_crc(s, SERIAL, &r, 0x1234, 101), RECORD_DUPLICATE); /* sent again */
    CU_ASSERT_EQUAL(record_store_put_crc(s, SERIAL, &r, 0x4321, 102), RECORD_CONFLICT);  /* other bytes */
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 103), RECORD_DUPLICATE);             /* CRC not known */
    r.measured_at += 60;
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 104), RECORD_CONFLICT); /* measured at another time */
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT crc32 * 1000 + received_at FROM records"), 0x1234 * 1000 + 100);
    /* a database of schema version 1 gains the column when opened */
    CU_ASSERT_EQUAL(sqlite3_exec(record_store_db(s), "ALTER TABLE records DROP COLUMN crc32; PRAGMA user_version = 1",
                                 NULL, NULL, NULL), SQLITE_OK);
    record_store_close(s);
    s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(record_store_query_int(s, "PRAGMA user_version"), 2);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records WHERE crc32 IS NULL"), 1);
    CU_ASSERT_EQUAL(record_store_put_crc(s, SERIAL, &r, 0x4321, 105), RECORD_CONFLICT);
    record_store_close(s);
    tmp_db_remove(&t);
}

static void test_sessions_and_terminals(void)
{
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(record_store_register(s, SERIAL, "860000000000001", "460001234567890", 10), 0);
    int64_t id = 0;
    CU_ASSERT_EQUAL(record_store_session_begin(s, SERIAL, 20, &id), 0);
    CU_ASSERT(id > 0);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT logged_in * 1000 + last_login_at FROM terminals"), 1020);
    CU_ASSERT_EQUAL(record_store_status(s, SERIAL, 0x1234, -1, 17, 25), 0);
    CU_ASSERT_EQUAL(record_store_status(s, SERIAL, -1, 0x0042, -1, 26), 0);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT lac = 4660 AND cell_id = 66 AND signal = 17 AND last_seen_at = 26"
                                              " FROM terminals"),
                    1);
    CU_ASSERT_EQUAL(record_store_session_end(s, id, SERIAL, 30, 4, "timeout"), 0);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT logout_at * 10 + logout_reason FROM sessions"), 304);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT logout_cause = 'timeout' FROM sessions"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT logged_in FROM terminals"), 0);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT imei = '860000000000001' FROM terminals"), 1);
    const uint8_t v[] = { 0, 0, 0, 60 };
    CU_ASSERT_EQUAL(record_store_config_put(s, SERIAL, 0x0011, v, sizeof v, 40, "trap"), 0);
    CU_ASSERT_EQUAL(record_store_config_put(s, SERIAL, 0x0011, v, 2, 41, "get"), 0);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT length(value) * 100 + updated_at FROM config"), 241);
    record_store_close(s);
    tmp_db_remove(&t);
}

static void test_counters(void)
{
    static const char *const names[] = { "records_stored", "logins" };
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    uint64_t v = 0;
    CU_ASSERT_EQUAL(record_store_counter_get(s, "logins", &v), -1);
    const uint64_t a[] = { 5, 2 }, b[] = { 7, 3 };
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, a, 2), 0);
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, b, 2), 0);
    CU_ASSERT_EQUAL(record_store_counter_get(s, "records_stored", &v), 0);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(record_store_counter_get(s, "logins", &v), 0);
    CU_ASSERT_EQUAL(v, 3);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM counters"), 2);
    record_store_close(s);
    tmp_db_remove(&t);
}

static void test_reopen_keeps_data(void)
{
    static const char *const names[] = { "records_stored" };
    uint8_t buf[512];
    tmp_db t;
    tmp_db_init(&t);
    record_store *s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    wmmp_health_record r = decoded_record(buf, sizeof buf, 42);
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 100), RECORD_STORED);
    int64_t id = 0;
    CU_ASSERT_EQUAL(record_store_session_begin(s, SERIAL, 90, &id), 0);
    const uint64_t one = 1;
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, &one, 1), 0);
    record_store_close(s); /* a run that ends with the session still open */

    s = open_store(&t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* opening alone changes nothing (readers may open the database too) */
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM sessions WHERE logout_at IS NULL"), 1);
    CU_ASSERT_EQUAL(record_store_close_stale_sessions(s), 0);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records WHERE record_id = 42"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM lab_results"), 2);
    CU_ASSERT_EQUAL(record_store_put(s, SERIAL, &r, 200), RECORD_DUPLICATE);
    uint64_t v = 0;
    CU_ASSERT_EQUAL(record_store_counter_get(s, "records_stored", &v), 0);
    CU_ASSERT_EQUAL(v, 1);
    /* the session the first run left open is closed as 'restart' and the terminal is not logged in */
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT logout_at IS NOT NULL AND logout_cause = 'restart'"
                                              " FROM sessions"),
                    1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT logged_in FROM terminals"), 0);
    record_store_close(s);
    tmp_db_remove(&t);
}

static void test_open_failure_explained(void)
{
    char err[256] = "";
    record_store *s = record_store_open("/nonexistent-dir/x/platform.db", err, sizeof err);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(strstr(err, "/nonexistent-dir/x/platform.db") != NULL);
}

static CU_TestInfo tests[] = {
    { "schema is created", test_schema_created },
    { "a record with every value", test_insert_every_value },
    { "a duplicate record is ignored", test_duplicate_ignored },
    { "another record under a stored ID is a conflict", test_reused_id_conflict },
    { "sessions, terminals and config", test_sessions_and_terminals },
    { "counters", test_counters },
    { "reopening keeps the data", test_reopen_keeps_data },
    { "an unopenable database is explained", test_open_failure_explained },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_store, tests)
