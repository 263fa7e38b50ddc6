/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The emulated health tester (emulator/node/terminal.h) against a hand-driven platform: the test owns a
 * platform-side wmmp_link, answers the terminal's requests itself and delivers messages both ways through
 * the fake environment, dropping some on purpose.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_env.h"
#include "spool.h"
#include "terminal.h"
#include "unit.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_health.h"
#include "wmmp_message.h"

#define SERIAL "A00MS8011390002S"
#define LOG_MAX 4096
#define STEP_MS 20
#define SECOND 1000
#define MINUTE 60000

/* One message on the wire, as the test saw it. */
typedef struct {
    uint16_t cmd;
    uint32_t seq;
    uint8_t flag;
    int cls;
    int from_terminal;
    int dropped;
    int serial_zero;
    uint8_t byte0;      /* first body byte of a plain message (LOGOUT reason, result) */
    uint32_t record_id; /* plain, unfragmented TRANSPARENT_DATA: the health record's ID */
} wire_entry;

/* A request the platform application got (reassembled, decrypted, not a duplicate). */
typedef struct {
    uint16_t cmd;
    uint32_t seq;
    uint32_t record_id;
    uint8_t byte0;
    int has_e040;
    uint8_t body[128];
    size_t body_len;
} got_entry;

typedef struct {
    fake_env fe;
    char dir[64];
    wmmp_terminal_keys keys;
    terminal_config cfg;
    terminal *t;
    wmmp_link *pl;
    int to_platform, to_terminal; /* their addresses are the two peers */
    size_t delivered;
    /* how the platform behaves */
    uint8_t login_result;
    uint16_t heartbeat_s;
    int answer_records;
    uint8_t record_result;
    uint32_t reused_up_to; /* the platform already holds other records with IDs 1..this: result 8 for them */
    int give_session_key;
    int config_set_after_hb;
    int blackout;
    uint16_t drop_cmd;
    int drop_count;
    const uint8_t *image;
    size_t image_len;
    /* what happened */
    wire_entry wire[LOG_MAX];
    size_t n_wire;
    got_entry got[LOG_MAX];
    size_t n_got;
    uint32_t stored[LOG_MAX];
    size_t n_stored, duplicates_stored;
    uint8_t last_ack[2048];
    size_t last_ack_len;
    uint16_t last_ack_cmd;
} harness;

static const uint8_t session_key[] = "0123456789ABCDEF"; /* 16 bytes and a NUL that is never used */

/* ---- the test's platform ---- */

static uint32_t record_id_of(const uint8_t *body, size_t len)
{
    wmmp_reader r;
    wmmp_transparent tp;
    wmmp_health_record rec;
    wmmp_reader_init(&r, body, len);
    if (wmmp_transparent_get(&r, &tp) != WMMP_OK || wmmp_health_decode(tp.user_data, tp.user_data_len, &rec) != WMMP_OK)
        return 0;
    return rec.record_id;
}

static void store_record(harness *h, uint32_t id)
{
    for (size_t i = 0; i < h->n_stored; i++)
        if (h->stored[i] == id) {
            h->duplicates_stored++; /* the platform keeps (terminal, record ID) once */
            return;
        }
    h->stored[h->n_stored++] = id;
}

static void p_answer(harness *h, const wmmp_rx *rx, const uint8_t *body, size_t len)
{
    CU_ASSERT_EQUAL(wmmp_link_answer(h->pl, &rx->hdr, body, len), WMMP_OK);
}

static void p_answer_result(harness *h, const wmmp_rx *rx, uint8_t result) { p_answer(h, rx, &result, 1); }

static void p_send(harness *h, uint16_t cmd, const uint8_t *body, size_t len)
{
    CU_ASSERT_EQUAL(wmmp_link_request(h->pl, cmd, body, len, NULL, NULL), WMMP_OK);
}

static void p_login(harness *h, const wmmp_rx *rx)
{
    uint8_t body[128], inner[64];
    wmmp_writer w, wi;
    uint32_t ts = h->fe.env.unix_time(h->fe.env.ctx);
    wmmp_link_set_timestamp(h->pl, ts);
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_login_ack a = { h->login_result, ts };
    wmmp_login_ack_put(&w, &a);
    if (h->heartbeat_s)
        wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, h->heartbeat_s);
    if (h->give_session_key) {
        wmmp_writer_init(&wi, inner, sizeof inner);
        wmmp_put_tlv(&wi, WMMP_TAG_SESSION_KEY, session_key, 16);
        wmmp_put_tlv_u32(&wi, WMMP_TAG_SESSION_KEY_EXPIRY, ts + 86400);
        wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_TLVS, h->keys.base_key, inner, wi.len);
    }
    p_answer(h, rx, body, w.len);
    if (h->give_session_key && h->login_result <= 1)
        wmmp_link_set_session_key(h->pl, session_key);
}

static void p_register(harness *h, const wmmp_rx *rx)
{
    uint8_t body[32], serial[16];
    wmmp_writer w;
    wmmp_reader r;
    wmmp_register rg;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    CU_ASSERT_EQUAL(wmmp_register_get(&r, &rg), WMMP_OK);
    CU_ASSERT_STRING_EQUAL(rg.imei, h->keys.imei);
    CU_ASSERT_STRING_EQUAL(rg.imsi, h->keys.imsi);
    wmmp_register_ack a = { 0, SERIAL };
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_register_ack_put(&w, &a);
    p_answer(h, rx, body, w.len);
    memcpy(serial, SERIAL, 16);
    wmmp_link_set_identity(h->pl, serial, &h->keys);
}

static void p_file_req(harness *h, const wmmp_rx *rx)
{
    uint8_t body[600];
    wmmp_writer w;
    wmmp_reader r;
    wmmp_file_req fr;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    CU_ASSERT_EQUAL_FATAL(wmmp_file_req_get(&r, &fr), WMMP_OK);
    wmmp_file_ack fa = { fr.transaction_id, fr.status, 0, fr.offset, 0, NULL };
    if (fr.status == 0 && fr.offset < h->image_len) {
        size_t left = h->image_len - fr.offset;
        fa.length = (uint16_t)(left < fr.block_size ? left : fr.block_size);
        fa.data = h->image + fr.offset;
    }
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_file_ack_put(&w, &fa);
    p_answer(h, rx, body, w.len);
}

static void p_config_set_heartbeat(harness *h, uint16_t seconds)
{
    uint8_t body[16];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, seconds);
    p_send(h, WMMP_CMD_CONFIG_SET, body, w.len);
}

static void log_got(harness *h, const wmmp_rx *rx)
{
    if (h->n_got >= LOG_MAX)
        return;
    got_entry *g = &h->got[h->n_got++];
    int prefix = wmmp_command_prefix_len(rx->hdr.command_id);
    wmmp_tlv t;
    memset(g, 0, sizeof *g);
    g->cmd = rx->hdr.command_id;
    g->seq = rx->hdr.sequence_id;
    g->byte0 = rx->body_len ? rx->body[0] : 0;
    g->body_len = rx->body_len < sizeof g->body ? rx->body_len : sizeof g->body;
    memcpy(g->body, rx->body, g->body_len);
    if (prefix >= 0 && (size_t)prefix <= rx->body_len)
        g->has_e040 = wmmp_tlv_find(rx->body + prefix, rx->body_len - (size_t)prefix, WMMP_TAG_ENCRYPTED_TLVS, &t) ==
                      WMMP_OK;
    if (g->cmd == WMMP_CMD_TRANSPARENT_DATA)
        g->record_id = record_id_of(rx->body, rx->body_len);
}

static void p_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    harness *h = user;
    (void)l;
    log_got(h, rx);
    switch (rx->hdr.command_id) {
    case WMMP_CMD_REGISTER: p_register(h, rx); break;
    case WMMP_CMD_LOGIN: p_login(h, rx); break;
    case WMMP_CMD_HEART_BEAT:
        p_answer(h, rx, NULL, 0);
        if (h->config_set_after_hb) {
            h->config_set_after_hb = 0;
            p_config_set_heartbeat(h, 30);
        }
        break;
    case WMMP_CMD_TRANSPARENT_DATA:
        if (h->got[h->n_got - 1].record_id <= h->reused_up_to) {
            p_answer_result(h, rx, 8); /* another record under that ID is stored: this one is not */
            break;
        }
        store_record(h, h->got[h->n_got - 1].record_id);
        if (h->answer_records)
            p_answer_result(h, rx, h->record_result);
        break;
    case WMMP_CMD_LOGOUT: p_answer(h, rx, NULL, 0); break;
    case WMMP_CMD_FILE_REQ: p_file_req(h, rx); break;
    default: p_answer_result(h, rx, 0); break;
    }
}

static void p_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *ctx)
{
    harness *h = user;
    (void)l;
    (void)ctx;
    h->last_ack_cmd = rx->hdr.command_id;
    h->last_ack_len = rx->body_len < sizeof h->last_ack ? rx->body_len : sizeof h->last_ack;
    memcpy(h->last_ack, rx->body, h->last_ack_len);
}

/* ---- delivery ---- */

static void log_wire(harness *h, const fake_sent *s, int from_terminal, int dropped)
{
    wmmp_message m;
    wmmp_msg_class cls = WMMP_CLASS_COMMON;
    if (h->n_wire >= LOG_MAX || wmmp_message_parse(s->msg, s->len, &m) != WMMP_OK)
        return;
    wire_entry *e = &h->wire[h->n_wire++];
    memset(e, 0, sizeof *e);
    wmmp_message_classify(&m, &cls);
    e->cmd = m.hdr.command_id;
    e->seq = m.hdr.sequence_id;
    e->flag = m.hdr.safe_flag;
    e->cls = (int)cls;
    e->from_terminal = from_terminal;
    e->dropped = dropped;
    e->serial_zero = 1;
    for (int i = 0; i < 16; i++)
        e->serial_zero &= m.hdr.terminal_serial[i] == 0;
    e->byte0 = m.body_len ? m.body[0] : 0;
    if (e->cmd == WMMP_CMD_TRANSPARENT_DATA && !(e->flag & 0x50))
        e->record_id = record_id_of(m.body, m.body_len);
}

static int should_drop(harness *h, const fake_sent *s)
{
    if (h->blackout)
        return 1;
    if (h->drop_count > 0 && s->len >= 4 && wmmp_load16(s->msg + 2) == h->drop_cmd) {
        h->drop_count--;
        return 1;
    }
    return 0;
}

static void deliver(harness *h)
{
    while (h->delivered < h->fe.n_sent) {
        fake_sent s = h->fe.sent[h->delivered++];
        int from_terminal = s.peer == (emu_peer *)&h->to_platform;
        int dropped = should_drop(h, &s);
        log_wire(h, &s, from_terminal, dropped);
        if (dropped)
            continue;
        if (from_terminal)
            wmmp_link_receive(h->pl, s.msg, s.len);
        else if (h->t)
            terminal_receive(h->t, s.msg, s.len);
    }
    fake_env_clear_sent(&h->fe);
    h->delivered = 0;
}

static void run(harness *h, emu_ms ms)
{
    for (emu_ms e = 0; e < ms; e += STEP_MS) {
        deliver(h);
        fake_env_advance(&h->fe, STEP_MS);
    }
    deliver(h);
}

/* Runs until the terminal is done (its code) or max ms passed (-1). */
static int run_until_done(harness *h, emu_ms max)
{
    int code = -1;
    for (emu_ms e = 0; e < max && !terminal_done(h->t, &code); e += STEP_MS) {
        deliver(h);
        fake_env_advance(&h->fe, STEP_MS);
    }
    deliver(h);
    return terminal_done(h->t, &code) ? code : -1;
}

static void run_until_acked(harness *h, uint64_t acked, emu_ms max)
{
    for (emu_ms e = 0; e < max && terminal_get_stats(h->t)->records_acked < acked; e += STEP_MS) {
        deliver(h);
        fake_env_advance(&h->fe, STEP_MS);
    }
}

/* ---- set-up ---- */

static harness *h_new(const char *serial, unsigned records)
{
    harness *h = calloc(1, sizeof *h);
    fake_env_init(&h->fe, 1234);
    h->fe.verbose = getenv("WMMP_TEST_VERBOSE") != NULL; /* the nodes' log lines on stderr */
    snprintf(h->dir, sizeof h->dir, "/tmp/wmmp-terminal-test-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(h->dir));
    h->keys = unit_example_keys();
    h->cfg.keys = &h->keys;
    h->cfg.serial = serial;
    h->cfg.spool_dir = h->dir;
    h->cfg.records = records;
    h->cfg.security = WMMP_SEC_PLAIN;
    h->cfg.dialect = WMMP_DIALECT_WMMP3;
    h->cfg.heartbeat_ms = MINUTE;
    h->cfg.record_interval_ms = SECOND;
    h->cfg.ecg_seconds = 2; /* 1000 bytes of samples: the first record is fragmented */
    h->cfg.software_version = "HT-1.0";
    h->cfg.backoff_ms = 2 * SECOND;
    h->cfg.backoff_max_ms = 8 * SECOND;
    h->cfg.max_login_attempts = 5;
    wmmp_link_config_default(&h->cfg.link, WMMP_UPLINK);
    h->answer_records = 1;
    return h;
}

static void h_make(harness *h)
{
    static const wmmp_link_callbacks pcb = { p_request, p_ack, NULL, NULL, NULL };
    char err[256] = "";
    uint8_t serial[16] = { 0 };
    wmmp_link_config lc;
    h->t = terminal_new(&h->fe.env, (emu_peer *)&h->to_platform, &h->cfg, err, sizeof err);
    if (!h->t)
        fprintf(stderr, "terminal_new: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->t);
    wmmp_link_config_default(&lc, WMMP_DOWNLINK);
    h->pl = wmmp_link_new(&h->fe.env, (emu_peer *)&h->to_terminal, &lc, &pcb, h);
    if (h->cfg.serial)
        memcpy(serial, h->cfg.serial, 16);
    wmmp_link_set_identity(h->pl, serial, &h->keys);
    wmmp_link_set_security(h->pl, h->cfg.security);
}

static harness *h_start(const char *serial, unsigned records)
{
    harness *h = h_new(serial, records);
    h_make(h);
    terminal_start(h->t);
    return h;
}

/* Power-cycles the terminal: a new node (and platform session) on the same spool. */
static void h_restart(harness *h, unsigned records)
{
    terminal_free(h->t);
    wmmp_link_free(h->pl);
    fake_env_clear_sent(&h->fe);
    h->delivered = 0;
    h->cfg.records = records;
    h_make(h);
    terminal_start(h->t);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void h_free(harness *h)
{
    terminal_free(h->t);
    wmmp_link_free(h->pl);
    fake_env_free(&h->fe);
    remove_dir(h->dir);
    free(h);
}

/* ---- looking at what happened ---- */

static size_t got_count(const harness *h, uint16_t cmd)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_got; i++)
        n += h->got[i].cmd == cmd;
    return n;
}

static const got_entry *got_nth(const harness *h, uint16_t cmd, size_t nth)
{
    for (size_t i = 0; i < h->n_got; i++)
        if (h->got[i].cmd == cmd && nth-- == 0)
            return &h->got[i];
    return NULL;
}

static int is_fragment_control(const wire_entry *e)
{
    return (e->cmd & WMMP_ACK_BIT) && (e->flag & 0x50) == 0x10;
}

/* Is want[] a subsequence of the delivered messages (commands; a fragmented request counts by any part)? */
static int wire_has_sequence(const harness *h, const uint16_t *want, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n_wire && k < n; i++)
        if (!h->wire[i].dropped && !is_fragment_control(&h->wire[i]) && h->wire[i].cmd == want[k])
            k++;
    return k == n;
}

static size_t pending_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    while (d && (e = readdir(d)) != NULL)
        n += strlen(e->d_name) == 10 && e->d_name[0] >= '0' && e->d_name[0] <= '9';
    if (d)
        closedir(d);
    return n;
}

static int last_ack_tlv(const harness *h, uint16_t tag, wmmp_tlv *t)
{
    return h->last_ack_len >= 1 && wmmp_tlv_find(h->last_ack + 1, h->last_ack_len - 1, tag, t) == WMMP_OK;
}

/* ---- tests ---- */

static void test_registration_when_no_serial(void)
{
    harness *h = h_start(NULL, 1);
    CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_OK);
    CU_ASSERT_FATAL(h->n_got >= 2);
    CU_ASSERT_EQUAL(h->got[0].cmd, WMMP_CMD_REGISTER);
    CU_ASSERT_EQUAL(h->got[0].byte0, 0); /* first registration */
    CU_ASSERT_EQUAL(h->got[1].cmd, WMMP_CMD_LOGIN);
    CU_ASSERT_TRUE(h->wire[0].serial_zero); /* REGISTER: all-zero serial */
    for (size_t i = 1; i < h->n_wire; i++)
        if (h->wire[i].from_terminal)
            CU_ASSERT_FALSE(h->wire[i].serial_zero);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->registrations, 1);
    terminal_free(h->t);
    h->t = NULL;

    char err[128];
    spool *s = spool_open(h->dir, 0, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(spool_serial(s), SERIAL); /* persisted */
    spool_close(s);

    /* the next run knows its serial: LOGIN at once */
    h->n_got = 0;
    wmmp_link_free(h->pl);
    h_make(h);
    uint8_t serial[16];
    memcpy(serial, SERIAL, 16);
    wmmp_link_set_identity(h->pl, serial, &h->keys);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL(h->got[0].cmd, WMMP_CMD_LOGIN);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_REGISTER), 0);
    h_free(h);
}

static void test_figure4_order(void)
{
    harness *h = h_new(SERIAL, 1);
    h->cfg.security = WMMP_SEC_DIGEST;
    h->config_set_after_hb = 1;
    h_make(h);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_OK);
    /* the terminal's requests, in order */
    const uint16_t mine[] = { WMMP_CMD_LOGIN, WMMP_CMD_HEART_BEAT, WMMP_CMD_TRANSPARENT_DATA, WMMP_CMD_HEART_BEAT,
                              WMMP_CMD_LOGOUT };
    CU_ASSERT_EQUAL_FATAL(h->n_got, 5);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(h->got[i].cmd, mine[i]);
    /* the whole figure, ACKs and the platform's CONFIG_SET included */
    const uint16_t fig4[] = { 0x0001, 0x8001, 0x0003, 0x8003, 0x0006, 0x8006, 0x0004, 0x8004,
                              0x0003, 0x8003, 0x0002, 0x8002 };
    CU_ASSERT_TRUE(wire_has_sequence(h, fig4, sizeof fig4 / sizeof fig4[0]));
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x8006);
    CU_ASSERT_EQUAL(h->last_ack[0], 0); /* CONFIG_SET applied */
    CU_ASSERT_EQUAL(h->got[4].byte0, 0); /* LOGOUT reason 0 */
    /* digests on every message: LOGIN 0xA0, the others 0x20 (fragment parts 0x30) */
    for (size_t i = 0; i < h->n_wire; i++) {
        if (!h->wire[i].from_terminal)
            continue;
        uint8_t f = h->wire[i].flag;
        CU_ASSERT(h->wire[i].cmd == WMMP_CMD_LOGIN ? f == 0xA0 : (f == 0x20 || f == 0x30));
    }
    h_free(h);
}

static void test_records_acknowledged_leave_the_spool(void)
{
    harness *h = h_start(SERIAL, 6);
    CU_ASSERT_EQUAL(run_until_done(h, 5 * MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL_FATAL(h->n_stored, 6);
    for (uint32_t i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(h->stored[i], i + 1);
    CU_ASSERT_EQUAL(h->duplicates_stored, 0);
    const terminal_stats *st = terminal_get_stats(h->t);
    CU_ASSERT_EQUAL(st->records_generated, 6);
    CU_ASSERT_EQUAL(st->records_acked, 6);
    CU_ASSERT_EQUAL(st->records_pending, 0);
    CU_ASSERT_EQUAL(st->logins, 1);
    CU_ASSERT_EQUAL(pending_files(h->dir), 0);
    /* the first record had an ECG and went in parts (profile section 8) */
    CU_ASSERT(wmmp_link_get_stats(terminal_link(h->t))->fragments_sent > 0);
    h_free(h);
}

static void test_lost_ack_retransmitted_once_stored(void)
{
    harness *h = h_new(SERIAL, 2);
    h->cfg.ecg_seconds = 1; /* short records */
    h->drop_cmd = 0x8004;   /* the first TRANSPARENT_DATA_ACK is lost */
    h->drop_count = 1;
    h_make(h);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 5 * MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_TRANSPARENT_DATA), 2); /* the platform processed each once */
    CU_ASSERT(wmmp_link_get_stats(h->pl)->duplicates_answered >= 1);
    CU_ASSERT(wmmp_link_get_stats(terminal_link(h->t))->retransmissions >= 1);
    CU_ASSERT_EQUAL(h->n_stored, 2);
    CU_ASSERT_EQUAL(h->duplicates_stored, 0);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->records_acked, 2);
    /* the retransmission repeated the Sequence_ID of the first TRANSPARENT_DATA */
    uint32_t seq = got_nth(h, WMMP_CMD_TRANSPARENT_DATA, 0)->seq;
    size_t copies = 0;
    for (size_t i = 0; i < h->n_wire; i++)
        copies += h->wire[i].from_terminal && h->wire[i].cmd == WMMP_CMD_TRANSPARENT_DATA && h->wire[i].seq == seq;
    CU_ASSERT(copies >= 2);
    h_free(h);
}

static void test_comm_failure_logout_relogin_resend(void)
{
    harness *h = h_start(SERIAL, 3);
    run_until_acked(h, 1, MINUTE);
    CU_ASSERT_EQUAL_FATAL(terminal_get_stats(h->t)->records_acked, 1);
    size_t wire_before = h->n_wire;
    h->blackout = 1;
    run(h, 90 * SECOND);
    h->blackout = 0;
    CU_ASSERT_EQUAL(run_until_done(h, 10 * MINUTE), TERMINAL_OK);
    const terminal_stats *st = terminal_get_stats(h->t);
    CU_ASSERT(st->failures >= 1);
    CU_ASSERT(st->logins >= 2);
    CU_ASSERT_EQUAL(st->records_acked, 3);
    /* LOGOUT with reason 1 went out (and was lost) */
    int logout1 = 0, sent_in_blackout = 0, resent_after = 0;
    for (size_t i = wire_before; i < h->n_wire; i++) {
        const wire_entry *e = &h->wire[i];
        if (!e->from_terminal)
            continue;
        logout1 |= e->cmd == WMMP_CMD_LOGOUT && e->byte0 == 1 && e->dropped;
        sent_in_blackout |= e->cmd == WMMP_CMD_TRANSPARENT_DATA && e->dropped && e->record_id == 2;
        resent_after |= e->cmd == WMMP_CMD_TRANSPARENT_DATA && !e->dropped && e->record_id == 2;
    }
    CU_ASSERT_TRUE(logout1);
    CU_ASSERT_TRUE(sent_in_blackout); /* record 2 was in flight when the link failed ... */
    CU_ASSERT_TRUE(resent_after);     /* ... and was sent again after the new login, same record ID */
    CU_ASSERT_EQUAL(h->n_stored, 3);
    CU_ASSERT_EQUAL(h->duplicates_stored, 0);
    CU_ASSERT_EQUAL(pending_files(h->dir), 0);
    h_free(h);
}

static void test_restart_resends_and_continues_ids(void)
{
    harness *h = h_new(SERIAL, 3);
    h->answer_records = 0; /* the platform takes records but its ACKs never come */
    h_make(h);
    terminal_start(h->t);
    run(h, 2500);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->records_generated, 3);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->records_pending, 3);
    CU_ASSERT_EQUAL(h->n_stored, 1); /* record 1 arrived, unacknowledged */

    h->answer_records = 1;
    h->n_got = 0;
    h_restart(h, 2);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->records_pending, 4); /* and the first new one, measured at start */
    CU_ASSERT_EQUAL(run_until_done(h, 5 * MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL_FATAL(got_count(h, WMMP_CMD_TRANSPARENT_DATA), 5);
    for (size_t i = 0; i < 5; i++) /* pending ones first, in ID order, then the new IDs 4 and 5 */
        CU_ASSERT_EQUAL(got_nth(h, WMMP_CMD_TRANSPARENT_DATA, i)->record_id, i + 1);
    CU_ASSERT_EQUAL(h->n_stored, 5);
    CU_ASSERT_EQUAL(h->duplicates_stored, 1); /* record 1, sent by both runs, stored once */
    CU_ASSERT_EQUAL(pending_files(h->dir), 0);
    h_free(h);
}

/* A session that stays open: one record now, the second in 10 minutes. */
static harness *h_session(wmmp_security_level level)
{
    harness *h = h_new(SERIAL, 2);
    h->cfg.record_interval_ms = 10 * MINUTE;
    h->cfg.security = level;
    h_make(h);
    terminal_start(h->t);
    run(h, 2 * SECOND);
    return h;
}

static void config_get(harness *h, const uint16_t *tags, size_t n)
{
    uint8_t body[128];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tag_list(&w, tags, n);
    h->last_ack_len = 0;
    p_send(h, WMMP_CMD_CONFIG_GET, body, w.len);
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x8005);
}

static uint32_t tlv_value(const wmmp_tlv *t)
{
    uint32_t v = 0;
    for (size_t i = 0; i < t->length && i < 4; i++)
        v = v << 8 | t->value[i];
    return v;
}

static void test_config_get_set(void)
{
    harness *h = h_session(WMMP_SEC_PLAIN);
    wmmp_tlv t;
    const uint16_t ask[] = { WMMP_TAG_APN, WMMP_TAG_HEARTBEAT_INTERVAL, WMMP_TAG_RESPONSE_TIMEOUT, 0x1234 };
    config_get(h, ask, 4);
    CU_ASSERT_EQUAL(h->last_ack[0], 8); /* 0x1234 is unknown */
    CU_ASSERT_TRUE_FATAL(last_ack_tlv(h, WMMP_TAG_APN, &t));
    CU_ASSERT(t.length == 5 && memcmp(t.value, "CMNET", 5) == 0);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_HEARTBEAT_INTERVAL, &t) && tlv_value(&t) == 60);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_RESPONSE_TIMEOUT, &t) && tlv_value(&t) == 3);
    CU_ASSERT_TRUE(last_ack_tlv(h, 0x1234, &t) && t.length == 0);

    /* CONFIG_SET: heartbeat 30 s, timeout 5 s, 2 retries */
    uint8_t body[64];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 30);
    wmmp_put_tlv_u32(&w, WMMP_TAG_RESPONSE_TIMEOUT, 5);
    wmmp_put_tlv_u8(&w, WMMP_TAG_RETRY_COUNT, 2);
    p_send(h, WMMP_CMD_CONFIG_SET, body, w.len);
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x8006);
    CU_ASSERT(h->last_ack_len == 1 && h->last_ack[0] == 0);
    const uint16_t ask2[] = { WMMP_TAG_RESPONSE_TIMEOUT, WMMP_TAG_RETRY_COUNT, WMMP_TAG_REPORT_PERIOD };
    config_get(h, ask2, 3);
    CU_ASSERT_EQUAL(h->last_ack[0], 0);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_RESPONSE_TIMEOUT, &t) && tlv_value(&t) == 5);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_RETRY_COUNT, &t) && tlv_value(&t) == 2);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_REPORT_PERIOD, &t) && tlv_value(&t) == 30);
    size_t hb = got_count(h, WMMP_CMD_HEART_BEAT);
    run(h, 95 * SECOND);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_HEART_BEAT) - hb, 3); /* every 30 s now */

    /* one read-only parameter rejects the whole CONFIG_SET */
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 10);
    wmmp_put_tlv(&w, WMMP_TAG_CELL, "\x12\x34\x56\x78", 4);
    p_send(h, WMMP_CMD_CONFIG_SET, body, w.len);
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack[0], 8);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_CELL, &t) && t.length == 0);
    CU_ASSERT_FALSE(last_ack_tlv(h, WMMP_TAG_HEARTBEAT_INTERVAL, &t));
    const uint16_t ask3[] = { WMMP_TAG_HEARTBEAT_INTERVAL };
    config_get(h, ask3, 1);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_HEARTBEAT_INTERVAL, &t) && tlv_value(&t) == 30);

    /* no tags: the whole table */
    config_get(h, NULL, 0);
    CU_ASSERT_EQUAL(h->last_ack[0], 0);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_PROTOCOL_VERSION, &t) && t.length == 3);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_FIRMWARE_VERSION, &t) && memcmp(t.value, "HT-1.0", 6) == 0);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_TERMINAL_SERIAL, &t) && memcmp(t.value, SERIAL, 16) == 0);

    terminal_stop(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL(got_nth(h, WMMP_CMD_LOGOUT, 0)->byte0, 0);
    h_free(h);
}

static void download_info(harness *h, const char *version, uint32_t length, uint32_t crc, uint32_t txn)
{
    uint8_t body[128];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_str(&w, WMMP_TAG_UPDATE_URL, "http://fw.example/ht.bin");
    wmmp_put_tlv_str(&w, WMMP_TAG_FIRMWARE_VERSION_NEW, version);
    wmmp_put_tlv_u32(&w, WMMP_TAG_FIRMWARE_LENGTH, length);
    wmmp_put_tlv_u32(&w, WMMP_TAG_FIRMWARE_CRC32, crc);
    wmmp_put_tlv_u32(&w, WMMP_TAG_UPDATE_TRANSACTION, txn);
    p_send(h, WMMP_CMD_DOWNLOAD_INFO, body, w.len);
}

static const got_entry *last_trap(const harness *h)
{
    size_t n = got_count(h, WMMP_CMD_CONFIG_TRAP);
    return n ? got_nth(h, WMMP_CMD_CONFIG_TRAP, n - 1) : NULL;
}

static void test_download_file_req_crc_report(void)
{
    static uint8_t image[2000];
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7 + (i >> 5));
    harness *h = h_session(WMMP_SEC_PLAIN);
    h->image = image;
    h->image_len = sizeof image;
    download_info(h, "HT-2.0.1", sizeof image, wmmp_crc32(image, sizeof image), 77);
    run(h, 5 * SECOND);
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x800C);
    CU_ASSERT_EQUAL(h->last_ack[0], 0);
    CU_ASSERT_EQUAL_FATAL(got_count(h, WMMP_CMD_FILE_REQ), 4); /* 512 + 512 + 512 + 464 */
    for (size_t i = 0; i < 4; i++) {
        const got_entry *g = got_nth(h, WMMP_CMD_FILE_REQ, i);
        CU_ASSERT_EQUAL(wmmp_load32(g->body), 77);          /* transaction ID from 0x1009 */
        CU_ASSERT_EQUAL(g->body[4], 0);                     /* request block */
        CU_ASSERT_EQUAL(wmmp_load32(g->body + 5), i * 512); /* offset */
        CU_ASSERT_EQUAL(wmmp_load16(g->body + 9), 512);     /* block size */
    }
    const got_entry *trap = last_trap(h);
    wmmp_tlv t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(trap);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(trap->body, trap->body_len, WMMP_TAG_FIRMWARE_VERSION_CUR, &t), WMMP_OK);
    CU_ASSERT(t.length == 8 && memcmp(t.value, "HT-2.0.1", 8) == 0);

    /* a damaged image: CRC-32 mismatch, FILE_REQ status 3, no report, the old version stays */
    size_t traps = got_count(h, WMMP_CMD_CONFIG_TRAP);
    download_info(h, "HT-3.0", sizeof image, wmmp_crc32(image, sizeof image) ^ 1, 78);
    run(h, 5 * SECOND);
    CU_ASSERT_EQUAL_FATAL(got_count(h, WMMP_CMD_FILE_REQ), 9);
    CU_ASSERT_EQUAL(got_nth(h, WMMP_CMD_FILE_REQ, 8)->body[4], 3);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_CONFIG_TRAP), traps);
    const uint16_t ask[] = { WMMP_TAG_FIRMWARE_VERSION };
    config_get(h, ask, 1);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_FIRMWARE_VERSION, &t) && memcmp(t.value, "HT-2.0.1", 8) == 0);

    /* an announcement without length, CRC and transaction: result 8 naming them */
    uint8_t body[16];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_str(&w, WMMP_TAG_FIRMWARE_VERSION_NEW, "X");
    p_send(h, WMMP_CMD_DOWNLOAD_INFO, body, w.len);
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack[0], 8);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_FIRMWARE_CRC32, &t) && t.length == 0);
    h_free(h);
}

static void test_done_codes(void)
{
    for (uint8_t result = 2; result <= 3; result++) {
        harness *h = h_new(SERIAL, 1);
        h->login_result = result;
        h_make(h);
        terminal_start(h->t);
        CU_ASSERT_EQUAL(run_until_done(h, MINUTE), TERMINAL_EXIT_LOGIN_REFUSED);
        h_free(h);
    }

    /* records refused: the run ends, they stay spooled */
    harness *h = h_new(SERIAL, 1);
    h->record_result = 5;
    h_make(h);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_EXIT_UNACKED);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_TRANSPARENT_DATA), 3);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_LOGOUT), 1);
    CU_ASSERT_EQUAL(pending_files(h->dir), 1);
    h_free(h);

    /* nobody answers: a few attempts, then COMM_FAILURE */
    h = h_new(SERIAL, 1);
    h->cfg.max_login_attempts = 3;
    h->blackout = 1;
    h_make(h);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 5 * MINUTE), TERMINAL_EXIT_COMM_FAILURE);
    size_t logins = 0;
    for (size_t i = 0; i < h->n_wire; i++)
        logins += h->wire[i].cmd == WMMP_CMD_LOGIN;
    CU_ASSERT_EQUAL(logins, 3 * 4); /* 3 attempts of 1 + 3 retransmissions */
    CU_ASSERT_EQUAL(pending_files(h->dir), 1); /* the record waits for the next run */
    h_free(h);
}

/* A platform that stored other records under IDs 1 and 2 (this terminal's spool started again): result 8,
   and the terminal sends those records again under new IDs: every record stored once, none lost. */
static void test_reused_ids_renumbered(void)
{
    harness *h = h_new(SERIAL, 3);
    h->cfg.ecg_seconds = 1;
    h->reused_up_to = 2;
    h_make(h);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 5 * MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL(h->n_stored, 3);
    CU_ASSERT_EQUAL(h->duplicates_stored, 0);
    for (size_t i = 0; i < h->n_stored; i++)
        CU_ASSERT(h->stored[i] > 2);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->records_acked, 3);
    CU_ASSERT_EQUAL(pending_files(h->dir), 0);
    h_free(h);
}

static void remote_ctrl(harness *h, uint8_t command)
{
    uint8_t body[8];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_u8(&w, WMMP_TAG_REMOTE_CTRL_CMD, command);
    p_send(h, WMMP_CMD_REMOTE_CTRL, body, w.len);
}

static void test_reboot_and_platform_logout(void)
{
    harness *h = h_session(WMMP_SEC_DIGEST);
    size_t first = h->n_got;
    remote_ctrl(h, 2); /* reboot */
    run(h, 3 * SECOND);
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x800B);
    CU_ASSERT_EQUAL(h->last_ack[0], 0);
    CU_ASSERT_FATAL(h->n_got >= first + 2);
    CU_ASSERT_EQUAL(h->got[first].cmd, WMMP_CMD_LOGOUT);
    CU_ASSERT_EQUAL(h->got[first].byte0, 0);
    CU_ASSERT_EQUAL(h->got[first + 1].cmd, WMMP_CMD_LOGIN);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->logins, 2);

    uint8_t reason = 2; /* platform shutdown */
    p_send(h, WMMP_CMD_LOGOUT, &reason, 1);
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x8002);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->logins, 2);
    run(h, 5 * SECOND); /* the back-off, then a new login */
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->logins, 3);

    remote_ctrl(h, 9); /* not supported */
    run(h, SECOND);
    wmmp_tlv t;
    CU_ASSERT_EQUAL(h->last_ack[0], 8);
    CU_ASSERT_TRUE(last_ack_tlv(h, WMMP_TAG_REMOTE_CTRL_CMD, &t) && t.length == 0);
    remote_ctrl(h, 0xB); /* report sync TLVs */
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack[0], 0);
    const got_entry *trap = last_trap(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(trap);
    CU_ASSERT_EQUAL(wmmp_tlv_find(trap->body, trap->body_len, WMMP_TAG_CELL, &t), WMMP_OK);

    uint8_t sec[1] = { 0 };
    p_send(h, WMMP_CMD_SECURITY_CONFIG, sec, 1);
    run(h, SECOND);
    CU_ASSERT_EQUAL(h->last_ack_cmd, 0x800E);
    CU_ASSERT_EQUAL(h->last_ack[0], 0);
    h_free(h);
}

static int any_class(const harness *h, uint16_t cmd, int cls)
{
    for (size_t i = 0; i < h->n_wire; i++)
        if (h->wire[i].from_terminal && h->wire[i].cmd == cmd && h->wire[i].cls == cls)
            return 1;
    return 0;
}

static void test_security_classes(void)
{
    for (int level = WMMP_SEC_PLAIN; level <= WMMP_SEC_FULL; level++) {
        harness *h = h_new(SERIAL, 2);
        h->cfg.security = (wmmp_security_level)level;
        h->cfg.ecg_seconds = 1;
        h->give_session_key = level >= WMMP_SEC_ENCRYPTED;
        h->login_result = 1; /* ask for the sync parameters too (CONFIG_TRAP) */
        h_make(h);
        terminal_start(h->t);
        CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_OK);
        CU_ASSERT_EQUAL(h->n_stored, 2);
        CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_CONFIG_TRAP), 1);
        switch (level) {
        case WMMP_SEC_PLAIN: CU_ASSERT_TRUE(any_class(h, WMMP_CMD_HEART_BEAT, WMMP_CLASS_COMMON)); break;
        case WMMP_SEC_DIGEST: CU_ASSERT_TRUE(any_class(h, WMMP_CMD_HEART_BEAT, WMMP_CLASS_ACCESS)); break;
        case WMMP_SEC_ENCRYPTED:
            CU_ASSERT_TRUE(any_class(h, WMMP_CMD_HEART_BEAT, WMMP_CLASS_ENCRYPTED));
            CU_ASSERT_TRUE(any_class(h, WMMP_CMD_CONFIG_TRAP, WMMP_CLASS_ENCRYPTED));
            CU_ASSERT_TRUE(got_nth(h, WMMP_CMD_CONFIG_TRAP, 0)->has_e040);
            break;
        default:
            CU_ASSERT_TRUE(any_class(h, WMMP_CMD_TRANSPARENT_DATA, WMMP_CLASS_FULLY_ENCRYPTED));
            CU_ASSERT_TRUE(any_class(h, WMMP_CMD_HEART_BEAT, WMMP_CLASS_FULLY_ENCRYPTED));
            break;
        }
        h_free(h);
    }
}

static void test_paper_dialect(void)
{
    harness *h = h_new(SERIAL, 1);
    h->cfg.dialect = WMMP_DIALECT_PAPER;
    h_make(h);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_OK);
    wmmp_tlv t;
    const got_entry *login = got_nth(h, WMMP_CMD_LOGIN, 0), *hb = got_nth(h, WMMP_CMD_HEART_BEAT, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(login);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hb);
    CU_ASSERT_EQUAL(wmmp_tlv_find(login->body + 12, login->body_len - 12, 0x0002, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.length, 1);
    CU_ASSERT_EQUAL(wmmp_load32(login->body + 8), wmmp_login_sync_crc(login->body + 12, login->body_len - 12));
    CU_ASSERT_EQUAL(wmmp_tlv_find(hb->body, hb->body_len, 0x0002, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.length, 1);
    CU_ASSERT_NOT_EQUAL(wmmp_tlv_find(hb->body, hb->body_len, WMMP_TAG_SIGNAL_LEVEL, &t), WMMP_OK);
    h_free(h);
}

static void test_sequence_wraps(void)
{
    harness *h = h_new(SERIAL, 3);
    h->cfg.ecg_seconds = 1;
    h_make(h);
    wmmp_link_set_next_sequence(terminal_link(h->t), 0xFFFFFFFE);
    terminal_start(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 2 * MINUTE), TERMINAL_OK);
    CU_ASSERT_FATAL(h->n_got >= 4);
    CU_ASSERT_EQUAL(h->got[0].seq, 0xFFFFFFFE);
    CU_ASSERT_EQUAL(h->got[1].seq, 0xFFFFFFFF);
    CU_ASSERT_EQUAL(h->got[2].seq, 0);
    CU_ASSERT_EQUAL(h->got[3].seq, 1);
    CU_ASSERT_EQUAL(h->n_stored, 3);
    h_free(h);
}

static void test_connection_lost(void)
{
    harness *h = h_start(SERIAL, 3);
    run_until_acked(h, 1, MINUTE);
    size_t logouts = got_count(h, WMMP_CMD_LOGOUT);
    terminal_connection_lost(h->t);
    CU_ASSERT_EQUAL(run_until_done(h, 5 * MINUTE), TERMINAL_OK);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->failures, 1);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->logins, 2);
    CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_LOGOUT), logouts + 1); /* only the final one */
    CU_ASSERT_EQUAL(h->n_stored, 3);
    h_free(h);
}

/* Nothing heard for 3 heartbeat intervals ends the logical connection: LOGOUT reason 4. */
static void test_connection_timeout(void)
{
    harness *h = h_new(SERIAL, 2);
    h->cfg.record_interval_ms = 10 * MINUTE;
    h->cfg.link.failure_threshold = 0; /* only the silence can tell */
    h_make(h);
    terminal_start(h->t);
    run(h, 2 * SECOND);
    h->blackout = 1;
    run(h, 5 * MINUTE);
    int reason4 = 0;
    for (size_t i = 0; i < h->n_wire; i++)
        reason4 |= h->wire[i].from_terminal && h->wire[i].cmd == WMMP_CMD_LOGOUT && h->wire[i].byte0 == 4;
    CU_ASSERT_TRUE(reason4);
    CU_ASSERT_EQUAL(terminal_get_stats(h->t)->failures, 1);
    h->blackout = 0;
    terminal_stop(h->t);
    CU_ASSERT(run_until_done(h, 5 * MINUTE) >= 0);
    h_free(h);
}

static void test_spool_in_use_and_bad_config(void)
{
    harness *h = h_new(SERIAL, 1);
    char err[256] = "";
    h->cfg.spool_dir = "";
    CU_ASSERT_PTR_NULL(terminal_new(&h->fe.env, NULL, &h->cfg, err, sizeof err));
    CU_ASSERT(strlen(err) > 0);
    h->cfg.spool_dir = h->dir;
    h->cfg.serial = "A00MS8011390002SX";
    CU_ASSERT_PTR_NULL(terminal_new(&h->fe.env, NULL, &h->cfg, err, sizeof err));
    h->cfg.serial = SERIAL;
    h_free(h);
}

/* ---- issue 13, item 3: no downgrade ---- */

static size_t error_lines, downgrade_lines;

static void count_errors(void *ctx, emu_log_level level, const char *line)
{
    (void)ctx;
    if (level == EMU_LOG_ERROR) {
        error_lines++;
        downgrade_lines += strstr(line, "LOGIN_ACK") != NULL;
    }
}

/* A terminal at DIGEST (or FULL) whose platform answers unsigned never logs in, and says why as an error. */
static void test_unsigned_login_ack_refused(void)
{
    static const wmmp_security_level levels[] = { WMMP_SEC_DIGEST, WMMP_SEC_FULL };
    for (size_t i = 0; i < 2; i++) {
        harness *h = h_new(SERIAL, 1);
        h->cfg.security = levels[i];
        h->cfg.max_login_attempts = 2;
        h->fe.env.log = count_errors;
        error_lines = downgrade_lines = 0;
        h_make(h);
        wmmp_link_set_security(h->pl, WMMP_SEC_PLAIN); /* the forger: answers without a digest */
        terminal_start(h->t);
        int code = run_until_done(h, 5 * MINUTE);
        CU_ASSERT_EQUAL(terminal_get_stats(h->t)->logins, 0);
        CU_ASSERT_EQUAL(code, TERMINAL_EXIT_COMM_FAILURE);
        CU_ASSERT_EQUAL(got_count(h, WMMP_CMD_HEART_BEAT), 0);
        CU_ASSERT(downgrade_lines >= 1);
        h_free(h);
    }
}

static CU_TestInfo tests[] = {
    { "registers when it has no serial, keeps the serial", test_registration_when_no_serial },
    { "figure 4: LOGIN, HEART_BEAT, TRANSPARENT_DATA, HEART_BEAT, LOGOUT", test_figure4_order },
    { "acknowledged records leave the spool", test_records_acknowledged_leave_the_spool },
    { "lost ACK: retransmission, duplicate answered, stored once", test_lost_ack_retransmitted_once_stored },
    { "communication failure: LOGOUT 1, login again, same record ID", test_comm_failure_logout_relogin_resend },
    { "restart resends pending records and continues IDs", test_restart_resends_and_continues_ids },
    { "CONFIG_GET and CONFIG_SET", test_config_get_set },
    { "DOWNLOAD_INFO, FILE_REQ loop, CRC-32 check, report", test_download_file_req_crc_report },
    { "done codes", test_done_codes },
    { "REMOTE_CTRL reboot, platform LOGOUT, SECURITY_CONFIG", test_reboot_and_platform_logout },
    { "all four message classes", test_security_classes },
    { "paper dialect", test_paper_dialect },
    { "Sequence_ID wraps around", test_sequence_wraps },
    { "connection lost", test_connection_lost },
    { "logical connection timeout", test_connection_timeout },
    { "bad configuration", test_spool_in_use_and_bad_config },
    { "an unsigned LOGIN_ACK is refused: no downgrade", test_unsigned_login_ack_refused },
    { "record IDs the platform holds other records under: sent again under new IDs", test_reused_ids_renumbered },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_terminal, tests)
