// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the lean load-mode terminal relies on: the memory spool (SPOOL_MEMORY: one entry array, freed when
 * empty), a small health generator, and the link's two ways of holding the keys (wmmp_link_set_identity copies them,
 * wmmp_link_use_identity references the terminal's): both must put the same bytes on the wire.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"
#include "health_gen.h"
#include "spool.h"
#include "unit.h"
#include "wmmp_link.h"
#include "wmmp_tables.h"

static void add_text(spool *s, const char *text, uint32_t *id)
{
    CU_ASSERT_EQUAL_FATAL(spool_take_id(s, id), SPOOL_OK);
    CU_ASSERT_EQUAL_FATAL(spool_add(s, *id, (const uint8_t *)text, strlen(text)), SPOOL_OK);
}

static void check_text(const spool *s, uint32_t id, const char *text)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(spool_read(s, id, &bytes, &len), SPOOL_OK);
    CU_ASSERT_EQUAL(len, strlen(text));
    CU_ASSERT_EQUAL(memcmp(bytes, text, len), 0);
    free(bytes);
}

static void test_memory_spool(void)
{
    char err[256];
    uint32_t a, b, c, d, e;
    spool *s = spool_open(SPOOL_MEMORY, 3, err, sizeof err), *other = spool_open(SPOOL_MEMORY, 0, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    CU_ASSERT_STRING_EQUAL(spool_dir(s), SPOOL_MEMORY);
    add_text(s, "a", &a);
    add_text(s, "bb", &b);
    add_text(s, "ccc", &c);
    CU_ASSERT_EQUAL(a, 1);
    CU_ASSERT_EQUAL(c, 3);
    CU_ASSERT_EQUAL(spool_count(s), 3);
    CU_ASSERT_EQUAL(spool_count(other), 0); /* spools in memory are separate */
    CU_ASSERT_TRUE(spool_full(s));
    CU_ASSERT_EQUAL(spool_take_id(s, &d), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_add(s, d, (const uint8_t *)"d", 1), SPOOL_ERR_FULL);

    CU_ASSERT_EQUAL(spool_remove(s, b), SPOOL_OK); /* from the middle */
    CU_ASSERT_EQUAL(spool_count(s), 2);
    CU_ASSERT_EQUAL(spool_id_at(s, 0), a);
    CU_ASSERT_EQUAL(spool_id_at(s, 1), c);
    check_text(s, a, "a");
    check_text(s, c, "ccc");
    CU_ASSERT_EQUAL(spool_remove(s, a), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_remove(s, c), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_count(s), 0); /* empty: no array left */
    CU_ASSERT_EQUAL(spool_remove(s, c), SPOOL_ERR_ABSENT);
    CU_ASSERT_FALSE(spool_contains(s, a));

    add_text(s, "eeeee", &e); /* and again after being empty, IDs never reused */
    CU_ASSERT_EQUAL(e, d + 1);
    CU_ASSERT_EQUAL(spool_count(s), 1);
    check_text(s, e, "eeeee");
    spool_close(s); /* with a record still in it */
    spool_close(other);
}

/* One signed HEART_BEAT from a fresh terminal-side link whose keys were given one way or the other. */
static void heartbeat_bytes(int copied, uint8_t *out, size_t cap, size_t *len)
{
    static const wmmp_link_callbacks none = { NULL, NULL, NULL, NULL, NULL };
    static const uint8_t body[] = { 0x00, 0x02, 0x00, 0x01, 0x17 }; /* one TLV, any will do */
    wmmp_terminal_keys keys = unit_example_keys(), caller = keys;
    wmmp_link_config cfg;
    fake_env fe;
    fake_env_init(&fe, 1);
    wmmp_link_config_default(&cfg, WMMP_UPLINK);
    wmmp_link *l = wmmp_link_new(&fe.env, NULL, &cfg, &none, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    if (copied) {
        wmmp_link_set_identity(l, (const uint8_t *)keys.serial, &caller);
        memset(&caller, 0xA5, sizeof caller); /* the caller's copy may change or go: the link has its own */
    } else {
        wmmp_link_use_identity(l, (const uint8_t *)keys.serial, &keys);
    }
    wmmp_link_set_security(l, WMMP_SEC_DIGEST);
    wmmp_link_set_timestamp(l, 0x12345678);
    CU_ASSERT_EQUAL_FATAL(wmmp_link_request(l, WMMP_CMD_HEART_BEAT, body, sizeof body, NULL, NULL), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(fe.n_sent, 1);
    CU_ASSERT_FATAL(fe.sent[0].len <= cap);
    memcpy(out, fe.sent[0].msg, fe.sent[0].len);
    *len = fe.sent[0].len;
    wmmp_link_free(l);
    fake_env_free(&fe);
}

static void test_keys_copied_or_referenced(void)
{
    uint8_t a[256], b[256];
    size_t la = 0, lb = 0;
    heartbeat_bytes(1, a, sizeof a, &la);
    heartbeat_bytes(0, b, sizeof b, &lb);
    CU_ASSERT_EQUAL_FATAL(la, lb);
    CU_ASSERT_EQUAL(memcmp(a, b, la), 0);
    CU_ASSERT_TRUE(wmmp_has_digest_tlv(a, la));
}

/* Every simulated terminal has a health generator: its subjects are made again from saved PRNG states rather
   than kept (they were 320 of its 344 bytes); emu_health_golden checks they come out the same. */
static void test_health_gen_small(void)
{
    CU_ASSERT(sizeof(health_gen) <= 64);
}

static CU_TestInfo tests[] = {
    { "memory spool: IDs in order, bytes kept, empty and used again", test_memory_spool },
    { "link: keys copied or referenced sign the same bytes", test_keys_copied_or_referenced },
    { "health generator: at most 64 bytes a terminal", test_health_gen_small },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_lean, tests)
