/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The platform node, driven by terminal-side wmmp_links over the fake environment: every message one side
 * sends is handed to the other by pump(), so the bytes are what real terminals send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_env.h"
#include "platform.h"
#include "record_store.h"
#include "unit.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_health.h"
#include "wmmp_keys.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#define SERIAL0 "A00MS8011390002S"
#define SERIAL1 "A00MS8011390003S"
#define N_TERMS 2
#define HEARTBEAT_S 30
#define FW_LEN 2500

/* One terminal: its link and what it received. */
typedef struct {
    wmmp_link *l;
    int addr;            /* which of its two addresses it sends from (a "reconnect" switches) */
    int mute;            /* does not answer platform requests */
    unsigned acks, requests, failures, failed;
    uint16_t ack_cmd;
    uint8_t ack[2048];
    size_t ack_len;
    int ack_has_digest, ack_digest_ok, ack_decrypted;
    uint16_t req_cmd;
    uint8_t req[512];
    size_t req_len;
} tterm;

typedef struct {
    fake_env fe;
    char dir[64], db[96], fw[96];
    wmmp_keyring kr;
    platform_config cfg;
    platform *p;
    tterm t[N_TERMS];
    char peers[16]; /* [i]: terminal i -> platform; [4 + 2i + a]: the platform -> terminal i at address a */
    size_t log_lines, secret_lines, session_lines;
    uint32_t last_login_time; /* of the last LOGIN body built (each one newer) */
} harness;

static emu_peer *to_platform(harness *h, int i) { return (emu_peer *)&h->peers[i]; }
static emu_peer *term_addr(harness *h, int i, int a) { return (emu_peer *)&h->peers[4 + 2 * i + a]; }
static emu_peer *term_peer(harness *h, int i) { return term_addr(h, i, h->t[i].addr); }

/* ---- the terminal side ---- */

static void t_on_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    tterm *t = user;
    t->requests++;
    t->req_cmd = rx->hdr.command_id;
    t->req_len = rx->body_len < sizeof t->req ? rx->body_len : sizeof t->req;
    memcpy(t->req, rx->body, t->req_len);
    if (t->mute)
        return;
    uint8_t ok = 0;
    if (rx->hdr.command_id == WMMP_CMD_LOGOUT)
        wmmp_link_answer(l, &rx->hdr, NULL, 0);
    else
        wmmp_link_answer(l, &rx->hdr, &ok, 1);
}

static void t_on_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *ctx)
{
    tterm *t = user;
    (void)l;
    (void)ctx;
    t->acks++;
    t->ack_cmd = rx->hdr.command_id;
    t->ack_len = rx->body_len < sizeof t->ack ? rx->body_len : sizeof t->ack;
    memcpy(t->ack, rx->body, t->ack_len);
    t->ack_has_digest = rx->has_digest;
    t->ack_digest_ok = rx->digest_ok;
    t->ack_decrypted = rx->decrypted;
}

static void t_on_failed(void *user, wmmp_link *l, uint16_t cmd, uint32_t seq, void *ctx)
{
    (void)l;
    (void)cmd;
    (void)seq;
    (void)ctx;
    ((tterm *)user)->failed++;
}

static void t_on_failure(void *user, wmmp_link *l)
{
    (void)l;
    ((tterm *)user)->failures++;
}

static const wmmp_link_callbacks t_callbacks = { t_on_request, t_on_ack, t_on_failed, t_on_failure, NULL };

/* Terminal i's link: serial (NULL: none yet), keys (NULL: none) and security level. */
static void term_link(harness *h, int i, const char *serial, const wmmp_terminal_keys *keys, wmmp_security_level lv)
{
    wmmp_link_config lc;
    uint8_t s[WMMP_SERIAL_LEN] = { 0 };
    wmmp_link_config_default(&lc, WMMP_UPLINK);
    wmmp_link_free(h->t[i].l);
    h->t[i].l = wmmp_link_new(&h->fe.env, to_platform(h, i), &lc, &t_callbacks, &h->t[i]);
    if (serial)
        memcpy(s, serial, WMMP_SERIAL_LEN);
    wmmp_link_set_identity(h->t[i].l, s, keys);
    wmmp_link_set_security(h->t[i].l, lv);
}

/* A sent message to its destination. */
static void deliver(void *ctx, const fake_sent *s)
{
    harness *h = ctx;
    for (int i = 0; i < N_TERMS; i++) {
        if (s->peer == to_platform(h, i))
            platform_receive(h->p, term_peer(h, i), s->msg, s->len);
        else if ((s->peer == term_addr(h, i, 0) || s->peer == term_addr(h, i, 1)) && h->t[i].l)
            wmmp_link_receive(h->t[i].l, s->msg, s->len);
    }
}

/* Delivers every message sent so far (and what that causes) to its destination. */
static void pump(harness *h) { fake_env_deliver(&h->fe, deliver, h); }

static void advance(harness *h, emu_ms ms) { fake_env_advance_delivering(&h->fe, ms, 100, deliver, h); }

/* Messages sent to terminal i since message index from. */
static size_t sent_to(harness *h, int i, size_t from)
{
    size_t n = 0;
    for (size_t k = from; k < h->fe.n_sent; k++)
        n += h->fe.sent[k].peer == term_addr(h, i, 0) || h->fe.sent[k].peer == term_addr(h, i, 1);
    return n;
}

static const fake_sent *last_sent_to(harness *h, int i)
{
    for (size_t k = h->fe.n_sent; k-- > 0;)
        if (h->fe.sent[k].peer == term_addr(h, i, 0) || h->fe.sent[k].peer == term_addr(h, i, 1))
            return &h->fe.sent[k];
    return NULL;
}

static uint32_t request(harness *h, int i, uint16_t cmd, const uint8_t *body, size_t len)
{
    uint32_t seq = 0;
    CU_ASSERT_EQUAL(wmmp_link_request(h->t[i].l, cmd, body, len, NULL, &seq), WMMP_OK);
    pump(h);
    return seq;
}

/* ---- set-up ---- */

static wmmp_terminal_keys second_keys(void)
{
    wmmp_terminal_keys k = unit_example_keys();
    memcpy(k.serial, SERIAL1, sizeof k.serial);
    memcpy(k.imei, "860000000000002", 16);
    memcpy(k.imsi, "460001234567891", 16);
    k.uplink_password[0] ^= 1;
    return k;
}

static void write_firmware(const char *path)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (unsigned i = 0; i < FW_LEN; i++)
        fputc((int)((i * 131 + (i >> 8)) & 0xFF), f);
    fclose(f);
}

/* Every log line is checked for the example keys' passwords and base key. */
static void capture_log(void *ctx, emu_log_level level, const char *line)
{
    static const char *const secrets[] = { "12345678", "87654321", "0123456789", "fedcba98", "12345679" };
    harness *h = ctx; /* fe is the harness's first member */
    (void)level;
    h->log_lines++;
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(line, secrets[i]))
            h->secret_lines++;
    if (strstr(line, "logged in") || strstr(line, "ended") || strstr(line, "refused") || strstr(line, "failure"))
        h->session_lines++;
}

static harness *setup(wmmp_security_level security)
{
    harness *h = calloc(1, sizeof *h);
    fake_env_init(&h->fe, 42);
    h->fe.env.log = capture_log;
    snprintf(h->dir, sizeof h->dir, "/tmp/wmmp-platform-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(h->dir));
    snprintf(h->db, sizeof h->db, "%s/platform.db", h->dir);
    snprintf(h->fw, sizeof h->fw, "%s/ht-2.0.1.bin", h->dir);
    write_firmware(h->fw);
    wmmp_terminal_keys k0 = unit_example_keys(), k1 = second_keys();
    wmmp_keyring_add(&h->kr, &k0);
    wmmp_keyring_add(&h->kr, &k1);
    h->cfg.keys = &h->kr;
    h->cfg.db_path = h->db;
    h->cfg.firmware_path = h->fw;
    h->cfg.firmware_version = "2.0.1";
    h->cfg.security = security;
    h->cfg.heartbeat_interval_s = HEARTBEAT_S;
    wmmp_link_config_default(&h->cfg.link, WMMP_DOWNLINK);
    char err[256] = "";
    h->p = platform_new(&h->fe.env, &h->cfg, err, sizeof err);
    if (!h->p)
        fprintf(stderr, "platform_new: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->p);
    return h;
}

static void teardown(harness *h)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char f[128];
    platform_free(h->p);
    for (int i = 0; i < N_TERMS; i++)
        wmmp_link_free(h->t[i].l);
    fake_env_free(&h->fe);
    wmmp_keyring_free(&h->kr);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(f, sizeof f, "%s%s", h->db, suffixes[i]);
        unlink(f);
    }
    unlink(h->fw);
    rmdir(h->dir);
    free(h);
}

/* A query on the platform's database through a read-only connection (WAL: it sees committed rows). */
static int64_t db_int(harness *h, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(h->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- building requests ---- */

/* LOGIN with System time (0x3009) at `at` (0: the clock, and newer than the last LOGIN built here). */
static size_t login_body_at(harness *h, uint32_t at, uint8_t *buf, size_t cap)
{
    uint8_t tlvs[16];
    wmmp_writer w;
    if (!at) {
        at = h->fe.env.unix_time(h->fe.env.ctx);
        at = at > h->last_login_time ? at : h->last_login_time + 1;
        h->last_login_time = at;
    }
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 21);
    wmmp_put_tlv_u32(&w, WMMP_TAG_SYSTEM_TIME, at);
    size_t tl = w.len;
    wmmp_login lg = { "HT-1.0", wmmp_login_sync_crc(tlvs, tl) };
    wmmp_writer_init(&w, buf, cap);
    wmmp_login_put(&w, &lg);
    wmmp_put_bytes(&w, tlvs, tl);
    return w.len;
}

static size_t login_body(harness *h, uint8_t *buf, size_t cap) { return login_body_at(h, 0, buf, cap); }

/* Logs terminal i in; on success its link takes the session timestamp (and key). Returns the result. */
static int login(harness *h, int i)
{
    uint8_t body[64];
    tterm *t = &h->t[i];
    unsigned before = t->acks;
    request(h, i, WMMP_CMD_LOGIN, body, login_body(h, body, sizeof body));
    if (t->acks != before + 1 || t->ack_cmd != (WMMP_CMD_LOGIN | WMMP_ACK_BIT) || t->ack_len < 5)
        return -1;
    if (t->ack[0] == 0) {
        wmmp_link_set_timestamp(t->l, wmmp_load32(t->ack + 1));
        wmmp_tlv e040;
        if (wmmp_tlv_find(t->ack + 5, t->ack_len - 5, WMMP_TAG_ENCRYPTED_TLVS, &e040) == WMMP_OK) {
            const wmmp_terminal_keys *k = wmmp_keyring_find_serial(&h->kr, (const uint8_t *)(i ? SERIAL1 : SERIAL0));
            uint8_t key[WMMP_SESSION_KEY_LEN];
            uint32_t expiry;
            CU_ASSERT_EQUAL_FATAL(wmmp_session_key_from_e040(e040.value, e040.length, k->base_key, key, &expiry),
                                  WMMP_OK);
            wmmp_link_set_session_key(t->l, key);
        }
    }
    return t->ack[0];
}

/* A known terminal with keys and a serial, logged in at the given level. */
static void logged_in(harness *h, int i, wmmp_security_level lv)
{
    const wmmp_terminal_keys *k = &h->kr.items[i];
    term_link(h, i, k->serial, k, lv);
    CU_ASSERT_EQUAL_FATAL(login(h, i), 0);
}

static size_t record_user_data(uint32_t id, uint8_t *buf, size_t cap)
{
    static const int16_t ecg[] = { 10, -20, 300 };
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = id;
    r.measured_at = 1767225000 + id;
    r.present = WMMP_HEALTH_HAS_HEART_RATE | WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_ECG;
    r.heart_rate = 70;
    r.temperature_centi = 3672;
    r.ecg = (wmmp_ecg){ 250, 1, 1000, 3, ecg, NULL };
    r.labs[0] = (wmmp_lab_result){ 2, 2, 5400, 0 };
    r.lab_count = 1;
    r.reminders[0] = (wmmp_reminder){ 1, "rest", 4 };
    r.reminder_count = 1;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    CU_ASSERT_EQUAL(wmmp_health_encode(&w, &r), WMMP_OK);
    return w.len;
}

static size_t transparent_body(const uint8_t *data, size_t len, uint8_t *buf, size_t cap)
{
    wmmp_transparent tr = { 0, WMMP_TAG_DEST_SERIAL, (const uint8_t *)"PLATFORM", 8, data, len };
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    wmmp_transparent_put(&w, &tr);
    return w.len;
}

/* TRANSPARENT_DATA with health record id from terminal i; returns the ACK's result (-1: none). */
static int send_record(harness *h, int i, uint32_t id)
{
    uint8_t data[256], body[320];
    unsigned before = h->t[i].acks;
    size_t n = record_user_data(id, data, sizeof data);
    request(h, i, WMMP_CMD_TRANSPARENT_DATA, body, transparent_body(data, n, body, sizeof body));
    if (h->t[i].acks != before + 1 || h->t[i].ack_len < 1)
        return -1;
    return h->t[i].ack[0];
}

static int64_t records_of(harness *h, uint32_t id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM records WHERE terminal = '%s' AND record_id = %u", SERIAL0,
             (unsigned)id);
    return db_int(h, sql);
}

/* ---- tests ---- */

static void test_register_by_imei(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    wmmp_terminal_keys k = unit_example_keys();
    term_link(h, 0, NULL, &k, WMMP_SEC_DIGEST);
    wmmp_register rg = { 0, "", "" };
    memcpy(rg.imei, k.imei, sizeof k.imei);
    memcpy(rg.imsi, k.imsi, sizeof rg.imsi);
    uint8_t body[64];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_register_put(&w, &rg);
    size_t first = h->fe.n_sent;
    request(h, 0, WMMP_CMD_REGISTER, body, w.len);
    CU_ASSERT_EQUAL(h->t[0].acks, 1);
    CU_ASSERT_EQUAL(h->t[0].ack_cmd, WMMP_CMD_REGISTER | WMMP_ACK_BIT);
    CU_ASSERT_EQUAL_FATAL(h->t[0].ack_len, 17);
    CU_ASSERT_EQUAL(h->t[0].ack[0], 0);
    UNIT_ASSERT_BYTES(h->t[0].ack + 1, SERIAL0, 16);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->registrations, 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM terminals WHERE serial = '" SERIAL0
                              "' AND imei = '860000000000001' AND registered_at IS NOT NULL"),
                    1);
    /* the same REGISTER again (its ACK was lost): answered again, counted once */
    const fake_sent *reg = &h->fe.sent[first];
    size_t before = h->fe.n_sent;
    platform_receive(h->p, term_peer(h, 0), reg->msg, reg->len);
    CU_ASSERT_EQUAL(sent_to(h, 0, before), 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->registrations, 1);
    h->fe.delivered = h->fe.n_sent;

    /* an IMEI the keys file does not know: result 2 */
    memcpy(rg.imei, "869999999999999", 16);
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_register_put(&w, &rg);
    request(h, 0, WMMP_CMD_REGISTER, body, w.len);
    CU_ASSERT_EQUAL(h->t[0].ack[0], 2);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_unknown_terminal, 1);
    teardown(h);
}

static void test_login_good(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    tterm *t = &h->t[0];
    CU_ASSERT_EQUAL(t->ack[0], 0);
    CU_ASSERT_EQUAL(wmmp_load32(t->ack + 1), h->fe.unix_base);
    wmmp_tlv hb;
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->ack + 5, t->ack_len - 5, WMMP_TAG_HEARTBEAT_INTERVAL, &hb), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_load16(hb.value), HEARTBEAT_S);
    CU_ASSERT(t->ack_has_digest && t->ack_digest_ok); /* signed with its own timestamp */
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->logins, 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM sessions WHERE logout_at IS NULL"), 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT logged_in * 100 + signal FROM terminals"), 121); /* CSQ from the LOGIN */
    /* the session works: a heartbeat is answered, signed with the session timestamp */
    request(h, 0, WMMP_CMD_HEART_BEAT, NULL, 0);
    CU_ASSERT_EQUAL(t->ack_cmd, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT);
    CU_ASSERT(t->ack_digest_ok);
    teardown(h);
}

static void test_login_bad_digest(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    wmmp_terminal_keys wrong = unit_example_keys();
    memcpy(wrong.uplink_password, "00000000", 8);
    term_link(h, 0, SERIAL0, &wrong, WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(login(h, 0), 3);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_bad_digest, 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->logins_refused, 1);
    /* without a digest on a platform that wants one: refused as well */
    wmmp_terminal_keys k = unit_example_keys();
    term_link(h, 0, SERIAL0, &k, WMMP_SEC_PLAIN);
    CU_ASSERT_EQUAL(login(h, 0), 3);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_bad_digest, 2);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM sessions"), 0);
    teardown(h);
}

static void test_plain_platform_accepts_plain_login(void)
{
    harness *h = setup(WMMP_SEC_PLAIN);
    logged_in(h, 0, WMMP_SEC_PLAIN);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    CU_ASSERT_FALSE(h->t[0].ack_has_digest);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 0);
    CU_ASSERT_EQUAL(records_of(h, 1), 1);
    teardown(h);
}

static void test_unknown_terminal(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    term_link(h, 0, "ZZZZZZZZZZZZZZZZ", NULL, WMMP_SEC_PLAIN);
    CU_ASSERT_EQUAL(login(h, 0), 2);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 2);
    /* HEART_BEAT_ACK cannot say so: nothing is sent */
    size_t before = h->fe.n_sent;
    request(h, 0, WMMP_CMD_HEART_BEAT, NULL, 0);
    CU_ASSERT_EQUAL(sent_to(h, 0, before), 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_unknown_terminal, 3);
    /* before registration (serial all zero) a LOGIN is told to register: 6 */
    term_link(h, 0, NULL, NULL, WMMP_SEC_PLAIN);
    CU_ASSERT_EQUAL(login(h, 0), 6);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    teardown(h);
}

static void test_heart_beat_before_login(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    wmmp_terminal_keys k = unit_example_keys();
    term_link(h, 0, SERIAL0, &k, WMMP_SEC_DIGEST);
    size_t before = h->fe.n_sent;
    request(h, 0, WMMP_CMD_HEART_BEAT, NULL, 0);
    CU_ASSERT_EQUAL(sent_to(h, 0, before), 0); /* dropped: HEART_BEAT_ACK has no result byte */
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_not_logged_in, 1);
    CU_ASSERT_EQUAL(h->t[0].acks, 0);
    teardown(h);
}

static void test_record_stored_once(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    size_t first = h->fe.n_sent;
    CU_ASSERT_EQUAL(send_record(h, 0, 5), 0);
    CU_ASSERT_EQUAL(records_of(h, 5), 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT heart_rate * 10 + ecg_samples FROM records"), 703);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM lab_results WHERE value = 5.4"), 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM reminders WHERE text = 'rest'"), 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT received_at >= measured_at FROM records"), 1);

    /* the same request twice (its ACK lost): the stored ACK again, nothing stored twice */
    const fake_sent *req = &h->fe.sent[first];
    CU_ASSERT_PTR_EQUAL(req->peer, to_platform(h, 0));
    size_t before = h->fe.n_sent;
    platform_receive(h->p, term_peer(h, 0), req->msg, req->len);
    CU_ASSERT_EQUAL(sent_to(h, 0, before), 1);
    h->fe.delivered = h->fe.n_sent;
    CU_ASSERT_EQUAL(records_of(h, 5), 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->records_stored, 1);

    /* the terminal restarts: another address, a new link (its counter elsewhere), the record re-sent */
    h->t[0].addr = 1;
    const wmmp_terminal_keys *k = &h->kr.items[0];
    term_link(h, 0, k->serial, k, WMMP_SEC_DIGEST);
    wmmp_link_set_next_sequence(h->t[0].l, 100);
    advance(h, 1000);
    CU_ASSERT_EQUAL(login(h, 0), 0);
    CU_ASSERT_EQUAL(send_record(h, 0, 5), 0);
    CU_ASSERT_EQUAL(records_of(h, 5), 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->records_stored, 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->records_duplicate, 1);
    CU_ASSERT_PTR_EQUAL(last_sent_to(h, 0)->peer, term_addr(h, 0, 1)); /* answers follow the terminal */
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM sessions"), 2);
    CU_ASSERT_EQUAL(db_int(h, "SELECT logout_cause = 'relogin' FROM sessions WHERE id = 1"), 1);
    teardown(h);
}

static void test_not_logged_in_transparent(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    size_t first = h->fe.n_sent;
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 0);
    const fake_sent *old1 = &h->fe.sent[first];
    first = h->fe.n_sent;
    CU_ASSERT_EQUAL(send_record(h, 0, 3), 0);
    const fake_sent *old3 = &h->fe.sent[first];
    uint8_t reason = 0;
    request(h, 0, WMMP_CMD_LOGOUT, &reason, 1);
    CU_ASSERT_EQUAL(h->t[0].ack_cmd, WMMP_CMD_LOGOUT | WMMP_ACK_BIT);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_EQUAL(db_int(h, "SELECT logout_reason = 0 AND logout_cause = 'logout' FROM sessions"), 1);

    CU_ASSERT_EQUAL(send_record(h, 0, 2), 9);
    CU_ASSERT_EQUAL(records_of(h, 2), 0);
    /* a replay of the ended session's record: 9 as well (not the stored ACK) */
    size_t before = h->fe.n_sent;
    unsigned acks = h->t[0].acks;
    platform_receive(h->p, term_peer(h, 0), old1->msg, old1->len);
    pump(h);
    CU_ASSERT_EQUAL(sent_to(h, 0, before), 1);
    CU_ASSERT_EQUAL(h->t[0].acks, acks); /* the terminal's link no longer waits for it */
    const fake_sent *ack = last_sent_to(h, 0);
    CU_ASSERT_EQUAL(wmmp_load16(ack->msg + 2), WMMP_CMD_TRANSPARENT_DATA | WMMP_ACK_BIT);
    CU_ASSERT_EQUAL(ack->msg[WMMP_HEADER_LEN], 9);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_not_logged_in, 2);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->records_stored, 2);

    /* in a new session an old message's digest (old timestamp) fails: 3 */
    advance(h, 2000); /* a later LOGIN_ACK timestamp */
    CU_ASSERT_EQUAL(login(h, 0), 0);
    platform_receive(h->p, term_peer(h, 0), old3->msg, old3->len);
    pump(h);
    ack = last_sent_to(h, 0);
    CU_ASSERT_EQUAL(ack->msg[WMMP_HEADER_LEN], 3);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_bad_digest, 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->records_stored, 2);
    teardown(h);
}

static void test_crc_mismatch(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    uint8_t data[256], body[320];
    size_t n = transparent_body(data, record_user_data(3, data, sizeof data), body, sizeof body);
    body[0] ^= 0x55; /* the CRC-16 prefix */
    request(h, 0, WMMP_CMD_TRANSPARENT_DATA, body, n);
    CU_ASSERT_EQUAL(h->t[0].ack[0], 5);
    CU_ASSERT_EQUAL(records_of(h, 3), 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_malformed, 1);
    /* user data that is no health record: acknowledged, counted, not stored */
    n = transparent_body((const uint8_t *)"hello", 5, body, sizeof body);
    request(h, 0, WMMP_CMD_TRANSPARENT_DATA, body, n);
    CU_ASSERT_EQUAL(h->t[0].ack[0], 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->payloads_other, 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM records"), 0);
    /* a broken health record ("HT" but truncated TLVs): 5 */
    n = record_user_data(4, data, sizeof data);
    n = transparent_body(data, n - 2, body, sizeof body);
    request(h, 0, WMMP_CMD_TRANSPARENT_DATA, body, n);
    CU_ASSERT_EQUAL(h->t[0].ack[0], 5);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM records"), 0);
    teardown(h);
}

/* One FILE_REQ; the ACK's fields decoded (length -1 when it did not come). */
static int file_req(harness *h, uint32_t offset, uint16_t block, wmmp_file_ack *fa)
{
    uint8_t body[16];
    wmmp_writer w;
    wmmp_file_req fr = { 77, 0, offset, block };
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_file_req_put(&w, &fr);
    unsigned before = h->t[0].acks;
    request(h, 0, WMMP_CMD_FILE_REQ, body, w.len);
    if (h->t[0].acks != before + 1)
        return -1;
    wmmp_reader r;
    wmmp_reader_init(&r, h->t[0].ack, h->t[0].ack_len);
    return wmmp_file_ack_get(&r, fa) == WMMP_OK ? fa->length : -1;
}

static void test_file_req_blocks(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    wmmp_file_ack fa;
    CU_ASSERT_EQUAL(file_req(h, 0, 512, &fa), 512);
    CU_ASSERT(fa.transaction_id == 77 && fa.status == 0 && fa.offset == 0);
    CU_ASSERT(fa.data[1] == 131 && fa.data[511] == (uint8_t)((511 * 131 + 1) & 0xFF));
    CU_ASSERT_EQUAL(file_req(h, 1024, 4096, &fa), 1024); /* capped; sent in fragments */
    CU_ASSERT_EQUAL(fa.data[0], (uint8_t)((1024 * 131 + 4) & 0xFF));
    CU_ASSERT_EQUAL(file_req(h, 2048, 1024, &fa), FW_LEN - 2048);
    CU_ASSERT_EQUAL(fa.status, 2); /* the block that reaches the end */
    CU_ASSERT_EQUAL(file_req(h, 3000, 1024, &fa), 0);
    CU_ASSERT_EQUAL(fa.status, 2);
    teardown(h);
}

static void test_session_timeout(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    advance(h, 2 * HEARTBEAT_S * 1000);
    request(h, 0, WMMP_CMD_HEART_BEAT, NULL, 0); /* restarts the clock */
    advance(h, 3 * HEARTBEAT_S * 1000 - 1000);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    size_t before = h->fe.n_sent;
    advance(h, 2000);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_EQUAL(sent_to(h, 0, before), 0); /* nothing sent at a timeout */
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->session_timeouts, 1);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->logouts, 0);
    CU_ASSERT_EQUAL(db_int(h, "SELECT logout_reason = 4 AND logout_cause = 'timeout' FROM sessions"), 1);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 9);
    teardown(h);
}

static void test_login_encrypted(void)
{
    harness *h = setup(WMMP_SEC_FULL);
    wmmp_terminal_keys k = unit_example_keys();
    term_link(h, 0, SERIAL0, &k, WMMP_SEC_FULL);
    uint8_t body[64];
    request(h, 0, WMMP_CMD_LOGIN, body, login_body(h, body, sizeof body));
    tterm *t = &h->t[0];
    CU_ASSERT_EQUAL_FATAL(t->ack_len > 5, 1);
    CU_ASSERT_EQUAL(t->ack[0], 0);
    CU_ASSERT(t->ack_digest_ok);
    CU_ASSERT_EQUAL(h->fe.sent[h->fe.n_sent - 1].msg[10], 0xE0); /* the LOGIN_ACK: encrypted class */
    uint32_t ts = wmmp_load32(t->ack + 1);
    wmmp_tlv e040;
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->ack + 5, t->ack_len - 5, WMMP_TAG_ENCRYPTED_TLVS, &e040), WMMP_OK);
    uint8_t key[WMMP_SESSION_KEY_LEN], zero[WMMP_SESSION_KEY_LEN] = { 0 };
    uint32_t expiry = 0;
    CU_ASSERT_EQUAL_FATAL(wmmp_session_key_from_e040(e040.value, e040.length, k.base_key, key, &expiry), WMMP_OK);
    CU_ASSERT(memcmp(key, zero, sizeof key) != 0);
    CU_ASSERT_EQUAL(expiry, ts + 86400);
    wmmp_link_set_timestamp(t->l, ts);
    wmmp_link_set_session_key(t->l, key);

    /* fully encrypted from now on: the platform decrypts, stores, and answers 0xF0 */
    size_t before = h->fe.n_sent;
    CU_ASSERT_EQUAL(send_record(h, 0, 9), 0);
    CU_ASSERT_EQUAL(h->fe.sent[before].msg[10], 0xF0);
    CU_ASSERT_EQUAL(last_sent_to(h, 0)->msg[10], 0xF0);
    CU_ASSERT(t->ack_decrypted);
    CU_ASSERT_EQUAL(records_of(h, 9), 1);
    teardown(h);
}

static void test_shutdown_logs_everyone_out(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    logged_in(h, 1, WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 2);
    CU_ASSERT_FALSE(platform_idle(h->p));
    h->t[1].mute = 1; /* one terminal never answers */
    platform_shutdown(h->p);
    CU_ASSERT_FALSE(platform_idle(h->p));
    pump(h);
    for (int i = 0; i < N_TERMS; i++) {
        CU_ASSERT_EQUAL(h->t[i].requests, 1);
        CU_ASSERT_EQUAL(h->t[i].req_cmd, WMMP_CMD_LOGOUT);
        CU_ASSERT(h->t[i].req_len == 1 && h->t[i].req[0] == 2);
    }
    CU_ASSERT_FALSE(platform_idle(h->p)); /* terminal 1 has not answered */
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    /* a LOGIN now is refused: busy */
    CU_ASSERT_EQUAL(login(h, 0), 7);
    advance(h, 4 * 3000 + 500); /* the LOGOUT to terminal 1 exhausts its retries */
    CU_ASSERT_TRUE(platform_idle(h->p));
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM sessions WHERE logout_reason = 2 AND logout_cause = 'shutdown'"),
                    2);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM terminals WHERE logged_in = 1"), 0);
    CU_ASSERT_EQUAL(db_int(h, "SELECT value FROM counters WHERE name = 'logins'"), 2);
    teardown(h);
}

static void test_communication_failure(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    h->t[0].mute = 1;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(platform_remote_ctrl(h->p, SERIAL0, 4), 0);
    advance(h, 3 * 4 * 3000 + 500);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->comm_failures, 1);
    CU_ASSERT_EQUAL(h->t[0].req_cmd, WMMP_CMD_LOGOUT);
    CU_ASSERT(h->t[0].req_len == 1 && h->t[0].req[0] == 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT logout_reason = 1 AND logout_cause = 'failure' FROM sessions"), 1);
    advance(h, 4 * 3000 + 500);
    CU_ASSERT_TRUE(platform_idle(h->p));
    CU_ASSERT_EQUAL(h->t[0].requests, 4); /* three REMOTE_CTRL, one LOGOUT: no second LOGOUT */

    /* again, but the terminal logs in anew while the LOGOUT is outstanding: the new session stays */
    h->t[0].mute = 0;
    CU_ASSERT_EQUAL(login(h, 0), 0);
    h->t[0].mute = 1;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(platform_remote_ctrl(h->p, SERIAL0, 4), 0);
    advance(h, 3 * 4 * 3000 + 500);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_FALSE(platform_idle(h->p)); /* the LOGOUT is outstanding */
    advance(h, 1000);
    CU_ASSERT_EQUAL(login(h, 0), 0);
    advance(h, 4 * 3000 + 500);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->comm_failures, 2);
    teardown(h);
}

static void test_config_req_and_trap(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    static const uint16_t tags[] = { WMMP_TAG_HEARTBEAT_INTERVAL, WMMP_TAG_REPORT_PERIOD, WMMP_TAG_APN };
    uint8_t body[64];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tag_list(&w, tags, 3);
    request(h, 0, WMMP_CMD_CONFIG_REQ, body, w.len);
    tterm *t = &h->t[0];
    CU_ASSERT_EQUAL(t->ack[0], 8); /* the APN is not the platform's to tell */
    wmmp_tlv v;
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->ack + 1, t->ack_len - 1, WMMP_TAG_HEARTBEAT_INTERVAL, &v), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_load16(v.value), HEARTBEAT_S);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->ack + 1, t->ack_len - 1, WMMP_TAG_REPORT_PERIOD, &v), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_load32(v.value), HEARTBEAT_S);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->ack + 1, t->ack_len - 1, WMMP_TAG_APN, &v), WMMP_OK);
    CU_ASSERT_EQUAL(v.length, 0);

    /* CONFIG_TRAP: remembered, and a new heartbeat interval moves the session timeout */
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 100);
    wmmp_put_tlv_str(&w, WMMP_TAG_APN, "CMNET");
    wmmp_put_tlv(&w, WMMP_TAG_UPLINK_PASSWORD, "12345678", 8);
    request(h, 0, WMMP_CMD_CONFIG_TRAP, body, w.len);
    CU_ASSERT_EQUAL(t->ack[0], 0);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM config WHERE source = 'trap'"), 2); /* not the password */
    CU_ASSERT_EQUAL(db_int(h, "SELECT CAST(value AS TEXT) = 'CMNET' FROM config WHERE tag = 2"), 1);
    advance(h, 200 * 1000);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    teardown(h);
}

static void test_platform_commands(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(platform_remote_ctrl(h->p, SERIAL0, 2), -1); /* not logged in */
    logged_in(h, 0, WMMP_SEC_DIGEST);
    tterm *t = &h->t[0];
    static const uint16_t tags[] = { WMMP_TAG_APN };
    CU_ASSERT_EQUAL(platform_config_get(h->p, SERIAL0, tags, 1), 0);
    pump(h);
    CU_ASSERT_EQUAL(t->req_cmd, WMMP_CMD_CONFIG_GET);
    uint8_t tlvs[16];
    wmmp_writer w;
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 45);
    CU_ASSERT_EQUAL(platform_config_set(h->p, SERIAL0, tlvs, w.len), 0);
    pump(h);
    CU_ASSERT_EQUAL(t->req_cmd, WMMP_CMD_CONFIG_SET);
    UNIT_ASSERT_BYTES(t->req, tlvs, w.len);
    CU_ASSERT_EQUAL(platform_download_info(h->p, SERIAL0), 0);
    pump(h);
    CU_ASSERT_EQUAL(t->req_cmd, WMMP_CMD_DOWNLOAD_INFO);
    wmmp_tlv v;
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->req, t->req_len, WMMP_TAG_FIRMWARE_LENGTH, &v), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_load32(v.value), FW_LEN);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->req, t->req_len, WMMP_TAG_UPDATE_URL, &v), WMMP_OK);
    CU_ASSERT(v.length == 28 && memcmp(v.value, "wmmp://platform/ht-2.0.1.bin", 28) == 0);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(t->req, t->req_len, WMMP_TAG_FIRMWARE_CRC32, &v), WMMP_OK);
    CU_ASSERT_EQUAL(platform_remote_ctrl(h->p, SERIAL0, 4), 0);
    pump(h);
    CU_ASSERT_EQUAL(t->req_cmd, WMMP_CMD_REMOTE_CTRL);
    CU_ASSERT_EQUAL(platform_security_config(h->p, SERIAL0, 1, tlvs, w.len), 0);
    pump(h);
    CU_ASSERT_EQUAL(t->req_cmd, WMMP_CMD_SECURITY_CONFIG);
    CU_ASSERT_EQUAL(t->requests, 5);
    CU_ASSERT_EQUAL(platform_config_set(h->p, SERIAL0, (const uint8_t *)"\x00\x01\x00", 3), -1); /* bad TLVs */
    CU_ASSERT_EQUAL(platform_config_get(h->p, "NOSUCHTERMINAL00", tags, 1), -1);
    /* the accepted CONFIG_SET moved the expected heartbeat to 45 s: silence ends the session after 135 s */
    advance(h, 130 * 1000);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    advance(h, 10 * 1000);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    teardown(h);
}

/* Garbage, truncations and bit flips of a valid request: no crash, nothing stored, all counted. */
static void test_hostile_input(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    uint8_t data[256], body[320], junk[600];
    size_t n = transparent_body(data, record_user_data(11, data, sizeof data), body, sizeof body);
    size_t first = h->fe.n_sent;
    request(h, 0, WMMP_CMD_TRANSPARENT_DATA, body, n);
    CU_ASSERT_EQUAL(records_of(h, 11), 1);
    const fake_sent *good = &h->fe.sent[first];
    CU_ASSERT_FATAL(good->len <= sizeof junk);
    uint64_t received = platform_get_stats(h->p)->messages_received;
    platform_receive(h->p, term_peer(h, 0), NULL, 0);
    platform_receive(h->p, term_peer(h, 0), good->msg, 27);
    for (unsigned i = 0; i < 2000; i++) {
        size_t len = good->len;
        memcpy(junk, good->msg, len);
        uint32_t r = h->fe.env.random(h->fe.env.ctx);
        if (i % 3 == 0) {
            len = r % good->len; /* truncated */
        } else {
            for (unsigned k = 0; k <= r % 4; k++) /* a few bytes changed, anywhere after the serial */
                junk[28 + (h->fe.env.random(h->fe.env.ctx) % (len - 28))] ^= (uint8_t)(1 + (r >> 8) % 255);
            if (i % 7 == 0)
                wmmp_store16(junk, (uint16_t)(r >> 16)); /* a lying Total_Length */
        }
        platform_receive(h->p, term_peer(h, 0), junk, len);
    }
    for (unsigned i = 0; i < 200; i++) {
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (uint8_t)h->fe.env.random(h->fe.env.ctx);
        platform_receive(h->p, term_peer(h, 0), junk, 1 + i * 3 % sizeof junk);
    }
    const platform_stats *st = platform_get_stats(h->p);
    CU_ASSERT_EQUAL(st->messages_received, received + 2202);
    CU_ASSERT_EQUAL(st->records_stored, 1);
    CU_ASSERT(st->rejected_malformed + st->rejected_bad_digest + st->rejected_unknown_terminal >= 2000);
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM records"), 1);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    h->fe.delivered = h->fe.n_sent;
    CU_ASSERT_EQUAL(send_record(h, 0, 12), 0); /* still in business */
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM records"), 2);
    teardown(h);
}

static void test_counters_persist(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 0);
    platform_free(h->p); /* without shutdown: the session is closed as 'exit' */
    CU_ASSERT_EQUAL(db_int(h, "SELECT value FROM counters WHERE name = 'records_stored'"), 1);
    CU_ASSERT_EQUAL(db_int(h, "SELECT logout_cause = 'exit' FROM sessions"), 1);
    char err[256];
    h->p = platform_new(&h->fe.env, &h->cfg, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->p);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->records_stored, 0); /* this run's */
    h->fe.delivered = h->fe.n_sent;
    CU_ASSERT_EQUAL(login(h, 0), 0);
    CU_ASSERT_EQUAL(send_record(h, 0, 2), 0);
    platform_shutdown(h->p);
    pump(h);
    CU_ASSERT_TRUE(platform_idle(h->p));
    CU_ASSERT_EQUAL(db_int(h, "SELECT value FROM counters WHERE name = 'records_stored'"), 2); /* cumulative */
    CU_ASSERT_EQUAL(db_int(h, "SELECT value FROM counters WHERE name = 'logins'"), 2);
    teardown(h);
}

static void test_peer_closed(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    platform_peer_closed(h->p, term_addr(h, 0, 0)); /* its TCP connection closed */
    size_t before = h->fe.n_sent;
    CU_ASSERT_EQUAL(platform_remote_ctrl(h->p, SERIAL0, 4), 0);
    CU_ASSERT_EQUAL(h->fe.n_sent, before); /* nowhere to send it */
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    /* the terminal is back on a new connection: the retransmission finds it */
    h->t[0].addr = 1;
    request(h, 0, WMMP_CMD_HEART_BEAT, NULL, 0);
    CU_ASSERT_PTR_EQUAL(last_sent_to(h, 0)->peer, term_addr(h, 0, 1));
    advance(h, 3500);
    CU_ASSERT_EQUAL(h->t[0].requests, 1);
    CU_ASSERT_EQUAL(h->t[0].req_cmd, WMMP_CMD_REMOTE_CTRL);
    /* a message from elsewhere that fails its digest does not move the terminal */
    wmmp_terminal_keys wrong = unit_example_keys();
    memcpy(wrong.uplink_password, "00000000", 8);
    wmmp_link_set_identity(h->t[0].l, (const uint8_t *)SERIAL0, &wrong);
    h->t[0].addr = 0;
    request(h, 0, WMMP_CMD_HEART_BEAT, NULL, 0);
    CU_ASSERT_EQUAL(platform_get_stats(h->p)->rejected_bad_digest, 1);
    CU_ASSERT_EQUAL(platform_remote_ctrl(h->p, SERIAL0, 5), 0);
    CU_ASSERT_PTR_EQUAL(last_sent_to(h, 0)->peer, term_addr(h, 0, 1));
    teardown(h);
}

/* One line per session event, and never a password or key, whatever passes through. */
static void test_logs_keep_secrets(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    wmmp_terminal_keys wrong = unit_example_keys();
    memcpy(wrong.uplink_password, "00000000", 8);
    term_link(h, 0, SERIAL0, &wrong, WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(login(h, 0), 3);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    uint8_t tlvs[64];
    wmmp_writer w;
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv(&w, WMMP_TAG_UPLINK_PASSWORD, "12345679", 8);
    wmmp_put_tlv(&w, WMMP_TAG_DOWNLINK_PASSWORD, "87654321", 8);
    CU_ASSERT_EQUAL(platform_security_config(h->p, SERIAL0, 1, tlvs, w.len), 0);
    pump(h);
    request(h, 0, WMMP_CMD_CONFIG_TRAP, tlvs, w.len);
    request(h, 0, WMMP_CMD_SECURITY_CONFIG, tlvs, w.len);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 0);
    uint8_t reason = 0;
    request(h, 0, WMMP_CMD_LOGOUT, &reason, 1);
    CU_ASSERT(h->log_lines > 0);
    CU_ASSERT_EQUAL(h->secret_lines, 0);
    CU_ASSERT_EQUAL(h->session_lines, 3); /* refused, logged in, ended */
    CU_ASSERT_EQUAL(db_int(h, "SELECT COUNT(*) FROM config"), 0); /* passwords are not stored either */
    teardown(h);
}

static void test_bad_config(void)
{
    fake_env fe;
    wmmp_keyring kr = { 0 };
    platform_config cfg;
    char err[256] = "";
    fake_env_init(&fe, 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.keys = &kr;
    cfg.db_path = "/nonexistent-dir/x/platform.db";
    CU_ASSERT_PTR_NULL(platform_new(&fe.env, &cfg, err, sizeof err));
    CU_ASSERT(strstr(err, "/nonexistent-dir") != NULL);
    cfg.db_path = ":memory:";
    cfg.firmware_path = "/nonexistent-dir/fw.bin";
    CU_ASSERT_PTR_NULL(platform_new(&fe.env, &cfg, err, sizeof err));
    CU_ASSERT(strstr(err, "fw.bin") != NULL);
    fake_env_free(&fe);
}

/* ---- issue 13: hostile peers ---- */

/* The last message terminal i sent to the platform (its bytes, for a replay). */
static const fake_sent *last_from(harness *h, int i)
{
    for (size_t k = h->fe.n_sent; k-- > 0;)
        if (h->fe.sent[k].peer == to_platform(h, i))
            return &h->fe.sent[k];
    return NULL;
}

/* Bytes the platform sent to one address since message index from. */
static size_t bytes_to(harness *h, emu_peer *to, size_t from)
{
    size_t n = 0;
    for (size_t k = from; k < h->fe.n_sent; k++)
        if (h->fe.sent[k].peer == to)
            n += h->fe.sent[k].len;
    return n;
}

/* Replays of a session's requests with a spoofed source: nothing goes there, the session stays put. */
static void test_spoofed_replay_not_answered(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    emu_peer *victim = term_addr(h, 0, 1);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    uint8_t login[128];
    const fake_sent *s = last_from(h, 0);
    CU_ASSERT_FATAL(s && s->len <= sizeof login);
    size_t login_len = s->len;
    memcpy(login, s->msg, login_len);
    CU_ASSERT_EQUAL(send_record(h, 0, 1), 0);
    s = last_from(h, 0);
    uint8_t record[512];
    size_t record_len = s->len;
    memcpy(record, s->msg, record_len);
    size_t mark = h->fe.n_sent;
    for (int k = 0; k < 3; k++) {
        platform_receive(h->p, victim, record, record_len);
        platform_receive(h->p, victim, login, login_len);
        pump(h);
    }
    CU_ASSERT_EQUAL(bytes_to(h, victim, mark), 0);
    CU_ASSERT_EQUAL(records_of(h, 1), 1);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 1);
    /* the session is still bound to the terminal's address: a platform request goes there */
    uint16_t tag = WMMP_TAG_HEARTBEAT_INTERVAL;
    mark = h->fe.n_sent;
    CU_ASSERT_EQUAL(platform_config_get(h->p, SERIAL0, &tag, 1), 0);
    CU_ASSERT(bytes_to(h, term_addr(h, 0, 0), mark) > 0);
    CU_ASSERT_EQUAL(bytes_to(h, victim, mark), 0);
    teardown(h);
}

/* An unsigned message of len bytes (header + body) for a command, serial given. */
static size_t forged(uint8_t *buf, size_t cap, uint16_t cmd, uint32_t seq, const char *serial, const uint8_t *body,
                     size_t len)
{
    wmmp_header hd;
    wmmp_writer w;
    memset(&hd, 0, sizeof hd);
    hd.command_id = cmd;
    hd.sequence_id = seq;
    hd.version = WMMP_VERSION_3_0;
    if (serial)
        memcpy(hd.terminal_serial, serial, WMMP_SERIAL_LEN);
    wmmp_msg_begin(&w, buf, cap, &hd);
    if (len)
        wmmp_put_bytes(&w, body, len);
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, NULL), WMMP_OK);
    return w.len;
}

/* Unauthenticated senders get no more bytes than they sent: per message and in all (issue 13, items 5, 11). */
static void test_no_amplification(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    emu_peer *victim = term_addr(h, 0, 1);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    static const uint16_t cmds[] = { WMMP_CMD_LOGIN, WMMP_CMD_LOGOUT, WMMP_CMD_HEART_BEAT, WMMP_CMD_TRANSPARENT_DATA,
                                     WMMP_CMD_CONFIG_TRAP, WMMP_CMD_REGISTER, WMMP_CMD_CONFIG_REQ, WMMP_CMD_FILE_REQ,
                                     WMMP_CMD_SECURITY_CONFIG, WMMP_CMD_TRANSPARENT_CMD };
    static const char *const serials[] = { SERIAL0, "ZZZ0000000000001", NULL };
    uint8_t msg[256], data[8] = "x", body[64];
    size_t in = 0, out = 0, worst_in = 0, worst_out = 0;
    uint32_t seq = 1000;
    size_t tdlen = transparent_body(data, 1, body, sizeof body);
    for (size_t si = 0; si < 3; si++)
        for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++)
            for (int with_body = 0; with_body < 2; with_body++) {
                size_t n = forged(msg, sizeof msg, cmds[c], seq++, serials[si], body, with_body ? tdlen : 0);
                size_t mark = h->fe.n_sent;
                platform_receive(h->p, victim, msg, n);
                pump(h);
                size_t o = bytes_to(h, victim, mark);
                in += n;
                out += o;
                if (o > n && (!worst_in || o * worst_in > worst_out * n)) {
                    worst_in = n;
                    worst_out = o;
                }
            }
    if (worst_in)
        fprintf(stderr, "\n    worst answer: %zu bytes to %zu in; all %zu out, %zu in\n", worst_out, worst_in, out, in);
    CU_ASSERT_EQUAL(worst_in, 0);
    CU_ASSERT(out <= in);
    teardown(h);
}

/* A LOGIN recorded earlier is refused later, as is one outside the time window (issue 13, item 6). */
static void test_stale_login_refused(void)
{
    harness *h = setup(WMMP_SEC_DIGEST);
    emu_peer *victim = term_addr(h, 0, 1);
    logged_in(h, 0, WMMP_SEC_DIGEST);
    uint8_t old[128], body[64];
    const fake_sent *s = last_from(h, 0);
    size_t old_len = s->len;
    memcpy(old, s->msg, old_len);
    request(h, 0, WMMP_CMD_LOGOUT, (const uint8_t *)"\0", 1);
    advance(h, 2000);
    CU_ASSERT_EQUAL_FATAL(platform_sessions(h->p), 0);
    platform_receive(h->p, victim, old, old_len); /* the old LOGIN, replayed */
    pump(h);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    /* signed and fresh-looking, but an hour old */
    unsigned acks = h->t[0].acks;
    request(h, 0, WMMP_CMD_LOGIN, body, login_body_at(h, h->fe.env.unix_time(h->fe.env.ctx) - 3600, body, sizeof body));
    CU_ASSERT_EQUAL(h->t[0].acks, acks + 1);
    CU_ASSERT(h->t[0].ack_len >= 1 && h->t[0].ack[0] == 3);
    CU_ASSERT_EQUAL(platform_sessions(h->p), 0);
    CU_ASSERT_EQUAL(login(h, 0), 0); /* a fresh one works */
    teardown(h);
}

static CU_TestInfo tests[] = {
    { "REGISTER by IMEI assigns the keys file's serial", test_register_by_imei },
    { "LOGIN: result 0, timestamp, heartbeat interval", test_login_good },
    { "LOGIN with a bad or missing digest: 3", test_login_bad_digest },
    { "a plain platform takes a plain LOGIN", test_plain_platform_accepts_plain_login },
    { "unknown terminal: 2; no serial: 6", test_unknown_terminal },
    { "HEART_BEAT before LOGIN is dropped and counted", test_heart_beat_before_login },
    { "a record is stored once (duplicate, reconnect)", test_record_stored_once },
    { "not logged in: 9, not stored; replays rejected", test_not_logged_in_transparent },
    { "CRC mismatch: 5; other user data: 0", test_crc_mismatch },
    { "FILE_REQ serves the firmware in blocks", test_file_req_blocks },
    { "a session ends after 3 silent heartbeat intervals", test_session_timeout },
    { "LOGIN with encryption delivers a session key", test_login_encrypted },
    { "shutdown logs everyone out", test_shutdown_logs_everyone_out },
    { "communication failure: LOGOUT reason 1 once", test_communication_failure },
    { "CONFIG_REQ and CONFIG_TRAP", test_config_req_and_trap },
    { "platform-initiated commands", test_platform_commands },
    { "hostile input", test_hostile_input },
    { "counters persist and accumulate", test_counters_persist },
    { "a closed connection, then a new one", test_peer_closed },
    { "logs: session events, no secrets", test_logs_keep_secrets },
    { "bad configuration is explained", test_bad_config },
    { "a spoofed replay is not answered and does not move the session", test_spoofed_replay_not_answered },
    { "unauthenticated senders get no more bytes than they sent", test_no_amplification },
    { "a replayed or stale LOGIN is refused", test_stale_login_refused },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_platform, tests)
