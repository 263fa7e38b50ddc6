// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The record store on ":memory:" (wmmp-emulate's default database): one outer transaction with savepoints
 * inside and counters written only when they moved must leave the same rows a file database would, keep a
 * write atomic and still roll a failed group back (emulator/driver/record_store.c).
 */
#include <string.h>

#include "record_store.h"
#include "unit.h"

static record_store *open_memory(void)
{
    char err[256] = "";
    record_store *s = record_store_open(":memory:", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(s);
    return s;
}

static wmmp_health_record small_record(uint32_t id)
{
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = id;
    r.measured_at = 1767225600 + id;
    r.present = WMMP_HEALTH_HAS_HEART_RATE;
    r.heart_rate = 70;
    r.labs[0] = (wmmp_lab_result){ 1, 1, 142000, 0 };
    r.lab_count = 1;
    return r;
}

static void test_counters_only_moved_ones(void)
{
    record_store *s = open_memory();
    static const char *const names[3] = { "a", "b", "c" };
    uint64_t v[3] = { 1, 2, 3 }, got = 0;
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, v, 3), 0);
    v[1] = 20;
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, v, 3), 0);
    CU_ASSERT_EQUAL(record_store_batch_begin(s), 0); /* in a group: all written */
    v[2] = 30;
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, v, 3), 0);
    CU_ASSERT_EQUAL(record_store_batch_commit(s), 0);
    v[0] = 10;
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, v, 3), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(record_store_counter_get(s, names[i], &got), 0);
        CU_ASSERT_EQUAL(got, v[i]);
    }
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM counters"), 3);
    record_store_close(s);
}

static void test_records_and_duplicates(void)
{
    record_store *s = open_memory();
    wmmp_health_record r = small_record(7);
    CU_ASSERT_EQUAL(record_store_put_crc(s, "T1", &r, 0x1234, 100), RECORD_STORED);
    CU_ASSERT_EQUAL(record_store_put_crc(s, "T1", &r, 0x1234, 101), RECORD_DUPLICATE);
    CU_ASSERT_EQUAL(record_store_put_crc(s, "T1", &r, 0x9999, 102), RECORD_CONFLICT);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM lab_results"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT received_at FROM records"), 100);
    record_store_close(s);
}

static void test_failed_group_rolled_back(void)
{
    record_store *s = open_memory();
    wmmp_health_record r = small_record(1);
    CU_ASSERT_EQUAL(record_store_put(s, "T1", &r, 100), RECORD_STORED); /* before the group: kept */
    CU_ASSERT_EQUAL(record_store_batch_begin(s), 0);
    r = small_record(2);
    CU_ASSERT_EQUAL(record_store_put(s, "T1", &r, 101), RECORD_STORED);
    /* a write that fails inside the group: the counters table is gone */
    CU_ASSERT_EQUAL(sqlite3_exec(record_store_db(s), "DROP TABLE counters", NULL, NULL, NULL), SQLITE_OK);
    static const char *const names[1] = { "x" };
    const uint64_t v[1] = { 1 };
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, v, 1), -1);
    CU_ASSERT_EQUAL(record_store_batch_commit(s), -1);
    /* the group (record 2, and the DROP made inside it) is undone; record 1 stays, the store goes on */
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT record_id FROM records"), 1);
    CU_ASSERT_EQUAL(record_store_counters_save(s, names, v, 1), 0);
    r = small_record(3);
    CU_ASSERT_EQUAL(record_store_put(s, "T1", &r, 102), RECORD_STORED);
    CU_ASSERT_EQUAL(record_store_query_int(s, "SELECT COUNT(*) FROM records"), 2);
    record_store_close(s);
}

static CU_TestInfo tests[] = {
    { "counters_only_moved_ones", test_counters_only_moved_ones },
    { "records_and_duplicates", test_records_and_duplicates },
    { "failed_group_rolled_back", test_failed_group_rolled_back },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_store_memory, tests)
