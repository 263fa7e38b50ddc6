/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp_link: a terminal-side and a platform-side link wired through one fake_env (virtual clock). The
 * test moves each recorded message to the other link itself, so it can drop, repeat or damage any of
 * them: security on the wire per level, retransmission, failure, duplicates, fragments, malformed input.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"
#include "unit.h"
#include "wmmp_fragment.h"
#include "wmmp_link.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#define TS_SESSION 1767225600u /* the session's LOGIN_ACK timestamp */
#define TS_LOGIN_ACK 1767229999u
#define BIG 70000
#define MAX_EVENTS 16
#define MAX_DROPS 4
#define STEP_MS 100
#define MAX_SOAK 64

static const uint8_t session_key[] = "0123456789ABCDEF"; /* WMMP_SESSION_KEY_LEN bytes and an unused NUL */

/* What one application saw, and how it answers. */
typedef struct {
    unsigned requests, acks, failed, failures, rejected;
    wmmp_err last_reject;
    wmmp_header hdr; /* of the last request or ACK */
    uint8_t body[BIG];
    size_t body_len;
    int has_digest, digest_ok, decrypted;
    void *ack_ctx[MAX_EVENTS];
    void *failed_ctx[MAX_EVENTS];
    int auto_answer;
    uint8_t answer[BIG];
    size_t answer_len;
    int free_on_failed; /* frees its link inside request_failed */
    wmmp_link **self;
    uint32_t delivered[MAX_SOAK]; /* Sequence_IDs of the requests delivered, in order */
    uint64_t delivered_hash[MAX_SOAK];
    size_t n_delivered;
} app;

/* Drops the nth (1-based; 0: every) message to one side matching a command (and a fragment number). */
typedef struct {
    int to_platform;
    uint16_t command;
    uint16_t part;    /* 0: any; else the 0x4008 number (part, or part asked for by a control) */
    unsigned nth;
    unsigned seen;
} drop_rule;

typedef struct {
    fake_env fe;
    wmmp_terminal_keys keys;
    wmmp_link *t, *p;
    app at, ap;
    char addr_t, addr_p; /* their addresses are the emu_peer values */
    size_t delivered;
    drop_rule drops[MAX_DROPS];
    size_t n_drops;
    int duplicate_all;     /* the network delivers every message twice */
    unsigned loss_percent; /* and loses this share at random */
    emu_ms delay_max_ms;   /* and delays each copy by 1 ... this (reordering); 0: at once */
} fixture;

/* A message on its way (delayed delivery). */
typedef struct {
    fixture *fx;
    int to_platform;
    size_t len;
    uint8_t msg[];
} in_flight;

#define PEER_T(fx) ((emu_peer *)&(fx)->addr_t)
#define PEER_P(fx) ((emu_peer *)&(fx)->addr_p)

/* ---- application callbacks ---- */

static void keep_rx(app *a, const wmmp_rx *rx)
{
    a->hdr = rx->hdr;
    CU_ASSERT_FATAL(rx->body_len <= sizeof a->body);
    if (rx->body_len)
        memcpy(a->body, rx->body, rx->body_len);
    a->body_len = rx->body_len;
    a->has_digest = rx->has_digest;
    a->digest_ok = rx->digest_ok;
    a->decrypted = rx->decrypted;
}

static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void on_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    app *a = user;
    a->requests++;
    keep_rx(a, rx);
    if (a->n_delivered < MAX_SOAK) {
        a->delivered[a->n_delivered] = rx->hdr.sequence_id;
        a->delivered_hash[a->n_delivered++] = hash(rx->body, rx->body_len);
    }
    if (a->auto_answer)
        CU_ASSERT_EQUAL(wmmp_link_answer(l, &rx->hdr, a->answer, a->answer_len), WMMP_OK);
}

static void on_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *req_ctx)
{
    app *a = user;
    (void)l;
    if (a->acks < MAX_EVENTS)
        a->ack_ctx[a->acks] = req_ctx;
    a->acks++;
    keep_rx(a, rx);
}

static void on_failed(void *user, wmmp_link *l, uint16_t command_id, uint32_t sequence, void *req_ctx)
{
    app *a = user;
    (void)command_id;
    (void)sequence;
    if (a->failed < MAX_EVENTS)
        a->failed_ctx[a->failed] = req_ctx;
    a->failed++;
    if (a->free_on_failed) {
        wmmp_link_free(l);
        *a->self = NULL;
    }
}

static void on_failure(void *user, wmmp_link *l)
{
    (void)l;
    ((app *)user)->failures++;
}

static void on_rejected(void *user, wmmp_link *l, const uint8_t *msg, size_t len, wmmp_err why)
{
    app *a = user;
    (void)l;
    (void)msg;
    (void)len;
    a->rejected++;
    a->last_reject = why;
}

/* ---- the fixture ---- */

static wmmp_link *new_link(fixture *fx, wmmp_direction side, app *a, emu_peer *to)
{
    static const wmmp_link_callbacks cb = { on_request, on_ack, on_failed, on_failure, on_rejected };
    wmmp_link_config cfg;
    wmmp_link_config_default(&cfg, side);
    wmmp_link *l = wmmp_link_new(&fx->fe.env, to, &cfg, &cb, a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    wmmp_link_set_identity(l, (const uint8_t *)fx->keys.serial, &fx->keys);
    wmmp_link_set_timestamp(l, TS_SESSION);
    return l;
}

/* Both links at one security level; with FULL or ENCRYPTED both know the session key. */
static fixture *fx_new(wmmp_security_level level)
{
    fixture *fx = calloc(1, sizeof *fx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx);
    fake_env_init(&fx->fe, 7);
    fx->keys = unit_example_keys();
    fx->t = new_link(fx, WMMP_UPLINK, &fx->at, PEER_P(fx));
    fx->p = new_link(fx, WMMP_DOWNLINK, &fx->ap, PEER_T(fx));
    fx->at.self = &fx->t;
    fx->ap.self = &fx->p;
    fx->at.auto_answer = fx->ap.auto_answer = 1;
    fx->ap.answer[0] = 0; /* result 0 */
    fx->ap.answer_len = 1;
    fx->at.answer_len = 1;
    wmmp_link_set_security(fx->t, level);
    wmmp_link_set_security(fx->p, level);
    if (level >= WMMP_SEC_ENCRYPTED) {
        wmmp_link_set_session_key(fx->t, session_key);
        wmmp_link_set_session_key(fx->p, session_key);
    }
    return fx;
}

static void fx_free(fixture *fx)
{
    wmmp_link_free(fx->t);
    wmmp_link_free(fx->p);
    CU_ASSERT_EQUAL(fake_env_timers(&fx->fe), 0); /* free cancels its timers */
    fake_env_free(&fx->fe);
    free(fx);
}

static void drop(fixture *fx, int to_platform, uint16_t command, uint16_t part, unsigned nth)
{
    CU_ASSERT_FATAL(fx->n_drops < MAX_DROPS);
    drop_rule r = { to_platform, command, part, nth, 0 };
    fx->drops[fx->n_drops++] = r;
}

/* The 0x4008 number of a fragment part or control; 0 for other messages. */
static uint16_t fragment_number(const uint8_t *msg, size_t len)
{
    wmmp_message m;
    wmmp_tlv t;
    wmmp_fragment f;
    if (wmmp_message_parse(msg, len, &m) != WMMP_OK || !(m.hdr.safe_flag & WMMP_FLAG_ENCRYPTED_OR_FRAGMENT))
        return 0;
    if (wmmp_tlv_find(m.body, m.body_len, WMMP_TAG_FRAGMENT, &t) != WMMP_OK ||
        wmmp_fragment_decode(t.value, t.length, &f) != WMMP_OK)
        return 0;
    return f.number;
}

static int dropped(fixture *fx, const fake_sent *s)
{
    int to_platform = s->peer == PEER_P(fx);
    uint16_t cmd = s->len >= 4 ? wmmp_load16(s->msg + 2) : 0;
    for (size_t i = 0; i < fx->n_drops; i++) {
        drop_rule *r = &fx->drops[i];
        if (r->to_platform != to_platform || r->command != cmd)
            continue;
        if (r->part && fragment_number(s->msg, s->len) != r->part)
            continue;
        r->seen++;
        if (r->nth == 0 || r->nth == r->seen)
            return 1;
    }
    return 0;
}

static void deliver(fixture *fx, int to_platform, const uint8_t *msg, size_t len)
{
    wmmp_link *to = to_platform ? fx->p : fx->t;
    if (to)
        wmmp_link_receive(to, msg, len);
}

static void deliver_later(void *arg)
{
    in_flight *m = arg;
    deliver(m->fx, m->to_platform, m->msg, m->len);
    free(m);
}

static void send_on(fixture *fx, const fake_sent *s)
{
    int to_platform = s->peer == PEER_P(fx);
    if (!fx->delay_max_ms) {
        deliver(fx, to_platform, s->msg, s->len);
        return;
    }
    in_flight *m = malloc(sizeof *m + s->len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    m->fx = fx;
    m->to_platform = to_platform;
    m->len = s->len;
    memcpy(m->msg, s->msg, s->len);
    emu_ms delay = 1 + fx->fe.env.random(fx->fe.env.ctx) % fx->delay_max_ms;
    fx->fe.env.timer_start(fx->fe.env.ctx, delay, deliver_later, m);
}

/* Delivers every message sent so far (and those sent in reaction) unless a rule drops it. */
static void flush(fixture *fx)
{
    while (fx->delivered < fx->fe.n_sent) {
        const fake_sent *s = &fx->fe.sent[fx->delivered++];
        if (dropped(fx, s))
            continue;
        if (fx->loss_percent && fx->fe.env.random(fx->fe.env.ctx) % 100 < fx->loss_percent)
            continue;
        for (int copy = 0; copy <= fx->duplicate_all; copy++)
            send_on(fx, s);
    }
}

/* Lets ms of virtual time pass, delivering messages as timers send them. */
static void run(fixture *fx, emu_ms ms)
{
    flush(fx);
    for (emu_ms t = 0; t < ms; t += STEP_MS) {
        fake_env_advance(&fx->fe, STEP_MS);
        flush(fx);
    }
}

static const fake_sent *sent(fixture *fx, size_t i)
{
    CU_ASSERT_FATAL(i < fx->fe.n_sent);
    return &fx->fe.sent[i];
}

static wmmp_message parsed(fixture *fx, size_t i)
{
    wmmp_message m;
    const fake_sent *s = sent(fx, i);
    CU_ASSERT_EQUAL_FATAL(wmmp_message_parse(s->msg, s->len, &m), WMMP_OK);
    CU_ASSERT_EQUAL(m.hdr.total_length, s->len);
    return m;
}

static uint8_t flag_of(fixture *fx, size_t i) { return parsed(fx, i).hdr.safe_flag; }

static wmmp_err verify(fixture *fx, size_t i, uint32_t ts, wmmp_direction dir)
{
    const fake_sent *s = sent(fx, i);
    return wmmp_digest_verify(s->msg, s->len, ts, &fx->keys, dir);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + seed + i / 253);
}

/* A TRANSPARENT_DATA body: CRC (2) + one 0x4007 TLV, len bytes in all (len >= 6). */
static size_t transparent_body(uint8_t *out, size_t len)
{
    wmmp_store16(out, 0x1234);
    wmmp_store16(out + 2, WMMP_TAG_USER_DATA);
    wmmp_store16(out + 4, (uint16_t)(len - 6));
    fill(out + 6, len - 6, 3);
    return len;
}

static const uint8_t heartbeat_body[] = { 0x30, 0x07, 0x00, 0x01, 0x15 }; /* signal level 21 */

/* ---- round trips per security level ---- */

static void test_plain_round_trip(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    int ctx = 0;
    uint32_t seq = 0;
    fx->ap.answer_len = 0; /* HEART_BEAT_ACK is empty */
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, &ctx, &seq),
                    WMMP_OK);
    CU_ASSERT_EQUAL(seq, 1);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 1);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 1);
    CU_ASSERT_EQUAL(sent(fx, 0)->len, WMMP_HEADER_LEN + sizeof heartbeat_body);
    CU_ASSERT_EQUAL(flag_of(fx, 0), 0x00);
    CU_ASSERT(sent(fx, 0)->peer == PEER_P(fx));
    UNIT_ASSERT_BYTES(parsed(fx, 0).hdr.terminal_serial, fx->keys.serial, WMMP_SERIAL_LEN);
    flush(fx);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.body_len, sizeof heartbeat_body);
    UNIT_ASSERT_BYTES(fx->ap.body, heartbeat_body, sizeof heartbeat_body);
    CU_ASSERT_EQUAL(fx->ap.has_digest, 0);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 2);
    wmmp_message ack = parsed(fx, 1);
    CU_ASSERT_EQUAL(ack.hdr.command_id, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT);
    CU_ASSERT_EQUAL(ack.hdr.sequence_id, 1);
    CU_ASSERT_EQUAL(ack.hdr.safe_flag, 0x00);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_PTR_EQUAL(fx->at.ack_ctx[0], &ctx);
    CU_ASSERT_EQUAL(fx->at.body_len, 0);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 0);
    CU_ASSERT_EQUAL(fake_env_timers(&fx->fe), 0);
    const wmmp_link_stats *st = wmmp_link_get_stats(fx->t), *sp = wmmp_link_get_stats(fx->p);
    CU_ASSERT_EQUAL(st->requests_sent, 1);
    CU_ASSERT_EQUAL(st->acks_received, 1);
    CU_ASSERT_EQUAL(st->retransmissions, 0);
    CU_ASSERT_EQUAL(sp->requests_received, 1);
    CU_ASSERT_EQUAL(sp->acks_sent, 1);
    CU_ASSERT_EQUAL(st->rejected + sp->rejected, 0);
    fx_free(fx);
}

/* LOGIN then LOGIN_ACK (its own timestamp), then a HEART_BEAT with the session timestamp. */
static void login_and_heartbeat(fixture *fx, uint8_t login_flag, uint8_t flag)
{
    uint8_t login[12] = "HT-1.0";
    uint8_t login_ack[5] = { 0 };
    wmmp_store32(login_ack + 1, TS_LOGIN_ACK);
    memcpy(fx->ap.answer, login_ack, sizeof login_ack);
    fx->ap.answer_len = sizeof login_ack;
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_LOGIN, login, sizeof login, NULL, NULL), WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(flag_of(fx, 0), login_flag);
    CU_ASSERT_EQUAL(flag_of(fx, 1), flag);
    CU_ASSERT_EQUAL(verify(fx, 0, 0, WMMP_UPLINK), WMMP_OK);
    CU_ASSERT_EQUAL(verify(fx, 1, TS_LOGIN_ACK, WMMP_DOWNLINK), WMMP_OK);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.has_digest, 1);
    CU_ASSERT_EQUAL(fx->at.digest_ok, 1);

    fx->ap.answer_len = 0;
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, NULL, NULL),
                    WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(verify(fx, 2, TS_SESSION, WMMP_UPLINK), WMMP_OK);
    CU_ASSERT_EQUAL(verify(fx, 3, TS_SESSION, WMMP_DOWNLINK), WMMP_OK);
    CU_ASSERT_EQUAL(verify(fx, 2, TS_SESSION, WMMP_DOWNLINK), WMMP_ERR_DIGEST_MISMATCH); /* the sender's password */
    CU_ASSERT_EQUAL(fx->ap.requests, 2);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 2);
    CU_ASSERT_EQUAL(fx->at.digest_ok, 1);
}

static void test_digest_round_trip(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    login_and_heartbeat(fx, 0xA0, 0x20);
    CU_ASSERT_EQUAL(flag_of(fx, 2), 0x20);
    CU_ASSERT_EQUAL(flag_of(fx, 3), 0x20);
    /* REGISTER is never signed */
    uint8_t reg[32] = { 0 };
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_REGISTER, reg, sizeof reg, NULL, NULL), WMMP_OK);
    CU_ASSERT_EQUAL(flag_of(fx, 4), 0x00);
    flush(fx);
    CU_ASSERT_EQUAL(flag_of(fx, 5), 0x00);
    CU_ASSERT_EQUAL(fx->at.acks, 3);
    CU_ASSERT_EQUAL(fx->at.has_digest, 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->bad_digests, 0);
    fx_free(fx);
}

static void test_encrypted_round_trip(void)
{
    fixture *fx = fx_new(WMMP_SEC_ENCRYPTED);
    login_and_heartbeat(fx, 0xE0, 0xE0);
    CU_ASSERT_EQUAL(flag_of(fx, 2), 0xE0); /* ENCRYPTED never uses 0xE042, even with a session key */
    CU_ASSERT_EQUAL(flag_of(fx, 3), 0xE0);
    CU_ASSERT_EQUAL(fx->ap.decrypted, 0);
    fx_free(fx);
}

static void test_full_round_trip(void)
{
    fixture *fx = fx_new(WMMP_SEC_FULL);
    login_and_heartbeat(fx, 0xE0, 0xE0); /* LOGIN / LOGIN_ACK are never fully encrypted */
    CU_ASSERT_EQUAL(flag_of(fx, 2), 0xF0);
    CU_ASSERT_EQUAL(flag_of(fx, 3), 0xE0); /* the empty HEART_BEAT_ACK */
    CU_ASSERT_EQUAL(fx->ap.decrypted, 1);
    CU_ASSERT_EQUAL(fx->ap.body_len, sizeof heartbeat_body); /* padding removed */
    UNIT_ASSERT_BYTES(fx->ap.body, heartbeat_body, sizeof heartbeat_body);

    /* a TRANSPARENT_DATA: the whole body (prefix included) in one 0xE042 */
    uint8_t body[61];
    size_t n = transparent_body(body, sizeof body);
    fx->ap.answer[0] = 0;
    fx->ap.answer_len = 1;
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_TRANSPARENT_DATA, body, n, NULL, NULL), WMMP_OK);
    flush(fx);
    wmmp_message m = parsed(fx, 4);
    wmmp_msg_class cls;
    CU_ASSERT_EQUAL(m.hdr.safe_flag, 0xF0);
    CU_ASSERT_EQUAL(wmmp_message_classify(&m, &cls), WMMP_OK);
    CU_ASSERT_EQUAL(cls, WMMP_CLASS_FULLY_ENCRYPTED);
    CU_ASSERT_EQUAL(wmmp_load16(m.body), WMMP_TAG_ENCRYPTED_BODY);
    CU_ASSERT_EQUAL(wmmp_load16(m.body + 2), wmmp_cipher_len(n));
    uint8_t plain[64];
    CU_ASSERT_EQUAL(wmmp_decrypt(session_key, m.body + 4, wmmp_cipher_len(n), plain), WMMP_OK);
    UNIT_ASSERT_BYTES(plain, body, n);
    CU_ASSERT_EQUAL(verify(fx, 4, TS_SESSION, WMMP_UPLINK), WMMP_OK);
    CU_ASSERT_EQUAL(fx->ap.body_len, n);
    UNIT_ASSERT_BYTES(fx->ap.body, body, n);
    CU_ASSERT_EQUAL(fx->ap.decrypted, 1);
    /* the one-byte result ACK is fully encrypted too, and comes out as one byte */
    CU_ASSERT_EQUAL(flag_of(fx, 5), 0xF0);
    CU_ASSERT_EQUAL(verify(fx, 5, TS_SESSION, WMMP_DOWNLINK), WMMP_OK);
    CU_ASSERT_EQUAL(fx->at.decrypted, 1);
    CU_ASSERT_EQUAL(fx->at.body_len, 1);
    CU_ASSERT_EQUAL(fx->at.body[0], 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->rejected + wmmp_link_get_stats(fx->p)->rejected, 0);
    fx_free(fx);
}

static void test_full_without_session_key(void)
{
    fixture *fx = fx_new(WMMP_SEC_FULL);
    wmmp_link_set_session_key(fx->p, NULL);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, NULL, NULL),
                    WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->ap.requests, 0);
    CU_ASSERT_EQUAL(fx->ap.rejected, 1);
    CU_ASSERT_EQUAL(fx->ap.last_reject, WMMP_ERR_CRYPTO);
    /* the wrong key: the plaintext does not parse */
    uint8_t other[] = "FEDCBA9876543210"; /* a key of WMMP_SESSION_KEY_LEN bytes, NUL unused */
    wmmp_link_set_session_key(fx->p, other);
    wmmp_link_receive(fx->p, sent(fx, 0)->msg, sent(fx, 0)->len);
    CU_ASSERT_EQUAL(fx->ap.requests, 0);
    CU_ASSERT_EQUAL(fx->ap.rejected, 2);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->rejected, 2);
    fx_free(fx);
}

static void test_no_keys(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    wmmp_link_set_identity(fx->p, (const uint8_t *)fx->keys.serial, NULL);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, NULL, NULL),
                    WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.has_digest, 1);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->bad_digests, 0);
    CU_ASSERT_EQUAL(flag_of(fx, 1), 0x00); /* no keys: never a digest */
    /* ... which a signing end takes for a forgery: below its class, not an ACK (issue 13) */
    CU_ASSERT_EQUAL(fx->at.acks, 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->below_class, 1);
    fx_free(fx);
}

/* ---- reliability ---- */

static void test_retransmit_identical(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    drop(fx, 1, WMMP_CMD_HEART_BEAT, 0, 1);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, NULL, NULL),
                    WMMP_OK);
    run(fx, 2900);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 1);
    run(fx, 200);
    CU_ASSERT_EQUAL_FATAL(fx->fe.n_sent, 3);
    CU_ASSERT_EQUAL(sent(fx, 1)->at, 3000);
    CU_ASSERT_EQUAL(sent(fx, 1)->len, sent(fx, 0)->len);
    UNIT_ASSERT_BYTES(sent(fx, 1)->msg, sent(fx, 0)->msg, sent(fx, 0)->len);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    const wmmp_link_stats *st = wmmp_link_get_stats(fx->t);
    CU_ASSERT_EQUAL(st->requests_sent, 1);
    CU_ASSERT_EQUAL(st->retransmissions, 1);
    CU_ASSERT_EQUAL(st->last_ack_latency_ms, 3000);
    fx_free(fx);
}

static void test_retries_exhausted(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    int first = 1, second = 2;
    uint32_t seq1 = 0, seq2 = 0;
    drop(fx, 1, WMMP_CMD_CONFIG_TRAP, 0, 0);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, NULL, 0, &first, &seq1), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, &second, &seq2), WMMP_OK);
    CU_ASSERT_EQUAL(seq2, seq1 + 1);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 2);
    run(fx, 4 * 3000 - 100);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 4); /* first send and 3 retries, all identical */
    for (size_t i = 1; i < 4; i++)
        UNIT_ASSERT_BYTES(sent(fx, i)->msg, sent(fx, 0)->msg, sent(fx, 0)->len);
    CU_ASSERT_EQUAL(fx->at.failed, 0);
    run(fx, 200);
    CU_ASSERT_EQUAL(fx->at.failed, 1);
    CU_ASSERT_PTR_EQUAL(fx->at.failed_ctx[0], &first);
    CU_ASSERT_EQUAL(fx->at.failures, 0);
    /* the next queued request went out and was answered */
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_PTR_EQUAL(fx->at.ack_ctx[0], &second);
    CU_ASSERT_EQUAL(parsed(fx, 4).hdr.sequence_id, seq2);
    const wmmp_link_stats *st = wmmp_link_get_stats(fx->t);
    CU_ASSERT_EQUAL(st->requests_failed, 1);
    CU_ASSERT_EQUAL(st->retransmissions, 3);
    CU_ASSERT_EQUAL(st->requests_sent, 2);
    fx_free(fx);
}

static void test_failure_after_three(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    drop(fx, 1, WMMP_CMD_HEART_BEAT, 0, 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL), WMMP_OK);
    run(fx, 3 * 4 * 3000);
    CU_ASSERT_EQUAL(fx->at.failed, 3);
    CU_ASSERT_EQUAL(fx->at.failures, 1);
    run(fx, 4 * 3000);
    CU_ASSERT_EQUAL(fx->at.failed, 4);
    CU_ASSERT_EQUAL(fx->at.failures, 1); /* the count started again */
    /* an ACK resets the count: with one failure left over, one more, a success, two more: no report */
    fx->n_drops = 0;
    drop(fx, 1, WMMP_CMD_CONFIG_TRAP, 0, 0);
    wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, NULL, 0, NULL, NULL);
    wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL);
    wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, NULL, 0, NULL, NULL);
    wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, NULL, 0, NULL, NULL);
    run(fx, 4 * 4 * 3000);
    CU_ASSERT_EQUAL(fx->at.failed, 7);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.failures, 1);
    fx_free(fx);
}

static void test_duplicate_answered_from_cache(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    drop(fx, 0, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT, 0, 1);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, NULL, NULL),
                    WMMP_OK);
    run(fx, 3100);
    CU_ASSERT_EQUAL_FATAL(fx->fe.n_sent, 4); /* request, lost ACK, request again, ACK from the cache */
    CU_ASSERT_EQUAL(sent(fx, 3)->len, sent(fx, 1)->len);
    UNIT_ASSERT_BYTES(sent(fx, 3)->msg, sent(fx, 1)->msg, sent(fx, 1)->len);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    const wmmp_link_stats *sp = wmmp_link_get_stats(fx->p);
    CU_ASSERT_EQUAL(sp->requests_received, 1);
    CU_ASSERT_EQUAL(sp->duplicates_answered, 1);
    CU_ASSERT_EQUAL(sp->acks_sent, 1);
    /* the same Sequence_ID with other bytes (a restarted peer) is a new request */
    uint8_t other[sizeof heartbeat_body];
    memcpy(other, heartbeat_body, sizeof other);
    other[4] = 9;
    wmmp_link_set_next_sequence(fx->t, 1);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, other, sizeof other, NULL, NULL), WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->ap.requests, 2);
    CU_ASSERT_EQUAL(fx->at.acks, 2);
    fx_free(fx);
}

static void test_pending_duplicate_ignored(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    fx->ap.auto_answer = 0; /* the platform application is still thinking */
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, NULL, 0, NULL, NULL), WMMP_OK);
    run(fx, 3100);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 2); /* the request twice, nothing back */
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    uint8_t result = 0;
    wmmp_header req = fx->ap.hdr;
    CU_ASSERT_EQUAL(wmmp_link_answer(fx->p, &req, &result, 1), WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.body_len, 1);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->duplicates_answered, 0);
    fx_free(fx);
}

static void test_late_and_unmatched_ack(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL), WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    /* the network repeats the ACK: ignored, not rejected */
    wmmp_link_receive(fx->t, sent(fx, 1)->msg, sent(fx, 1)->len);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.rejected, 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->rejected, 0);
    /* an ACK of a request never sent is rejected */
    fx->ap.answer_len = 0;
    wmmp_header h;
    wmmp_header_init(&h, WMMP_CMD_CONFIG_TRAP, 999, 0, NULL);
    CU_ASSERT_EQUAL(wmmp_link_answer(fx->p, &h, NULL, 0), WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.rejected, 1);
    CU_ASSERT_EQUAL(fx->at.last_reject, WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->rejected, 1);
    fx_free(fx);
}

static void test_sequence_wrap(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    uint32_t a = 0, b = 1;
    wmmp_link_set_next_sequence(fx->t, 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, &a), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, &b), WMMP_OK);
    CU_ASSERT_EQUAL(a, 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(b, 0);
    flush(fx);
    CU_ASSERT_EQUAL(parsed(fx, 0).hdr.sequence_id, 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(parsed(fx, 1).hdr.sequence_id, 0xFFFFFFFFu);
    CU_ASSERT_EQUAL(parsed(fx, 2).hdr.sequence_id, 0);
    CU_ASSERT_EQUAL(parsed(fx, 3).hdr.sequence_id, 0);
    CU_ASSERT_EQUAL(fx->at.acks, 2);
    CU_ASSERT_EQUAL(fx->ap.requests, 2);
    fx_free(fx);
}

static void test_fifo(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    int ctx[3];
    fx->ap.auto_answer = 0;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(wmmp_link_request(fx->t, (uint16_t)(WMMP_CMD_HEART_BEAT + i), NULL, 0, &ctx[i], NULL),
                        WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 1); /* one outstanding at a time */
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 3);
    for (int i = 0; i < 3; i++) {
        wmmp_message m = parsed(fx, fx->fe.n_sent - 1);
        CU_ASSERT_EQUAL(m.hdr.command_id, WMMP_CMD_HEART_BEAT + i);
        CU_ASSERT_EQUAL(m.hdr.sequence_id, (uint32_t)(i + 1));
        wmmp_header req = fx->ap.hdr;
        CU_ASSERT_EQUAL(wmmp_link_answer(fx->p, &req, NULL, 0), WMMP_OK);
        flush(fx);
        CU_ASSERT_EQUAL(fx->at.acks, (unsigned)(i + 1));
        CU_ASSERT_PTR_EQUAL(fx->at.ack_ctx[i], &ctx[i]);
    }
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 0);
    fx_free(fx);
}

static void test_reset_and_free_in_callback(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    int ctx[3];
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, &ctx[i], NULL), WMMP_OK);
    wmmp_link_reset(fx->t);
    CU_ASSERT_EQUAL(fx->at.failed, 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_PTR_EQUAL(fx->at.failed_ctx[i], &ctx[i]);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->requests_failed, 0);
    CU_ASSERT_EQUAL(fake_env_timers(&fx->fe), 0);
    /* the late ACK of the dropped request is ignored; the sequence counter went on */
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 0);
    CU_ASSERT_EQUAL(fx->at.rejected, 0);
    uint32_t seq = 0;
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, &seq), WMMP_OK);
    CU_ASSERT_EQUAL(seq, 4);
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 1);

    /* freeing the link inside request_failed is completed once the link call returns */
    drop(fx, 1, WMMP_CMD_HEART_BEAT, 0, 0);
    fx->at.free_on_failed = 1;
    wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL);
    wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL);
    run(fx, 5 * 3000);
    CU_ASSERT_PTR_NULL(fx->t);
    CU_ASSERT_EQUAL(fx->at.failed, 4);
    fx_free(fx);
}

static void test_bad_arguments(void)
{
    fixture *fx = fx_new(WMMP_SEC_FULL);
    uint8_t *big = calloc(1, BIG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT, NULL, 0, NULL, NULL),
                    WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 5, NULL, NULL), WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, big, BIG, NULL, NULL), WMMP_ERR_TOO_LONG);
    /* fits in parts in clear but not once wrapped in 0xE042 */
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, big, WMMP_FRAGMENT_MAX_BODY - 2, NULL, NULL),
                    WMMP_ERR_TOO_LONG);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 0);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 0);
    wmmp_header h;
    wmmp_header_init(&h, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT, 1, 0, NULL);
    CU_ASSERT_EQUAL(wmmp_link_answer(fx->p, &h, NULL, 0), WMMP_ERR_INVALID_ARGUMENT);
    free(big);
    fx_free(fx);
}

/* ---- fragments ---- */

/* Checks the 0x4008 TLV of message i: command, flag, operation and number. */
static void expect_fragment(fixture *fx, size_t i, uint16_t cmd, uint8_t flag, uint8_t op, uint16_t number,
                            uint16_t total)
{
    wmmp_message m = parsed(fx, i);
    wmmp_tlv t;
    wmmp_fragment f;
    CU_ASSERT_EQUAL(m.hdr.command_id, cmd);
    CU_ASSERT_EQUAL(m.hdr.safe_flag, flag);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_find(m.body, m.body_len, WMMP_TAG_FRAGMENT, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.offset, 0);
    CU_ASSERT_EQUAL(WMMP_TLV_HEADER_LEN + t.length, m.body_len); /* the body is only the 0x4008 TLV */
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_decode(t.value, t.length, &f), WMMP_OK);
    CU_ASSERT_EQUAL(f.operation, op);
    CU_ASSERT_EQUAL(f.number, number);
    CU_ASSERT_EQUAL(f.total, total);
    if (op != WMMP_FRAGMENT_OP_DATA)
        CU_ASSERT(wmmp_is_fragment_control(m.hdr.safe_flag, m.body, m.body_len));
}

static void test_fragmented_request(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    uint8_t *body = malloc(2500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    size_t n = transparent_body(body, 2500);
    const uint16_t cmd = WMMP_CMD_TRANSPARENT_DATA, ack = cmd | WMMP_ACK_BIT;
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, cmd, body, n, NULL, NULL), WMMP_OK);
    flush(fx);
    /* part 1, send-next 2, part 2, send-next 3, part 3, ACK */
    CU_ASSERT_EQUAL_FATAL(fx->fe.n_sent, 6);
    expect_fragment(fx, 0, cmd, 0x30, WMMP_FRAGMENT_OP_DATA, 1, 3);
    expect_fragment(fx, 1, ack, 0x30, WMMP_FRAGMENT_OP_SEND_NEXT, 2, 3);
    expect_fragment(fx, 2, cmd, 0x30, WMMP_FRAGMENT_OP_DATA, 2, 3);
    expect_fragment(fx, 3, ack, 0x30, WMMP_FRAGMENT_OP_SEND_NEXT, 3, 3);
    expect_fragment(fx, 4, cmd, 0x30, WMMP_FRAGMENT_OP_DATA, 3, 3);
    for (size_t i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(parsed(fx, i).hdr.sequence_id, 1);
        CU_ASSERT_EQUAL(verify(fx, i, TS_SESSION, i % 2 ? WMMP_DOWNLINK : WMMP_UPLINK), WMMP_OK);
    }
    wmmp_message last = parsed(fx, 5);
    CU_ASSERT_EQUAL(last.hdr.command_id, ack);
    CU_ASSERT_EQUAL(last.hdr.safe_flag, 0x20);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.body_len, n);
    UNIT_ASSERT_BYTES(fx->ap.body, body, n);
    CU_ASSERT_EQUAL(fx->ap.has_digest, 1);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->fragments_sent, 3);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->fragments_received, 3);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->rejected + wmmp_link_get_stats(fx->p)->rejected, 0);
    free(body);
    fx_free(fx);
}

static void test_fragmented_request_with_loss(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    uint8_t *body = malloc(2500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    size_t n = transparent_body(body, 2500);
    const uint16_t cmd = WMMP_CMD_TRANSPARENT_DATA;
    drop(fx, 1, cmd, 2, 1);                 /* part 2 lost once */
    drop(fx, 0, cmd | WMMP_ACK_BIT, 3, 1);  /* the control asking for part 3 lost once */
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, cmd, body, n, NULL, NULL), WMMP_OK);
    run(fx, 7000);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.body_len, n);
    UNIT_ASSERT_BYTES(fx->ap.body, body, n);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.failed, 0);
    const wmmp_link_stats *st = wmmp_link_get_stats(fx->t), *sp = wmmp_link_get_stats(fx->p);
    CU_ASSERT_EQUAL(st->retransmissions, 2);
    CU_ASSERT_EQUAL(st->fragments_sent, 3);
    CU_ASSERT_EQUAL(sp->fragments_received, 3);
    CU_ASSERT_EQUAL(sp->requests_received, 1);
    CU_ASSERT_EQUAL(st->rejected + sp->rejected, 0);
    /* part 2 went three times: lost, then again after each timeout (the second for the lost control) */
    CU_ASSERT_EQUAL(fx->drops[0].seen, 3);
    fx_free(fx);
    free(body);
}

static void test_fragmented_full(void)
{
    fixture *fx = fx_new(WMMP_SEC_FULL);
    uint8_t *body = malloc(2500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    size_t n = transparent_body(body, 2500);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_TRANSPARENT_DATA, body, n, NULL, NULL), WMMP_OK);
    flush(fx);
    CU_ASSERT_EQUAL_FATAL(fx->fe.n_sent, 6);
    /* what is fragmented is the 0xE042 TLV: part 1 starts with it */
    wmmp_message m = parsed(fx, 0);
    CU_ASSERT_EQUAL(m.hdr.safe_flag, 0x30);
    CU_ASSERT_EQUAL(wmmp_load16(m.body + 11), WMMP_TAG_ENCRYPTED_BODY);
    CU_ASSERT_EQUAL(wmmp_load16(m.body + 13), wmmp_cipher_len(n));
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.decrypted, 1);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 1);
    CU_ASSERT_EQUAL(fx->ap.body_len, n);
    UNIT_ASSERT_BYTES(fx->ap.body, body, n);
    CU_ASSERT_EQUAL(flag_of(fx, 5), 0xF0);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    free(body);
    fx_free(fx);
}

/* The platform asks; the terminal's ACK is 2500 bytes (a CONFIG_GET_ACK), fetched by the platform's controls. */
static void test_fragmented_ack(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    const uint16_t cmd = WMMP_CMD_CONFIG_GET, ack = cmd | WMMP_ACK_BIT;
    fx->at.answer[0] = 0;
    wmmp_store16(fx->at.answer + 1, WMMP_TAG_USER_DATA);
    wmmp_store16(fx->at.answer + 3, 2495);
    fill(fx->at.answer + 5, 2495, 11);
    fx->at.answer_len = 2500;
    drop(fx, 0, ack, 2, 1); /* the platform's control asking for part 2 lost once */
    drop(fx, 1, ack, 3, 1); /* and the terminal's part 3 lost once */
    uint8_t tags[4] = { 0x00, 0x02, 0x00, 0x00 };
    CU_ASSERT_EQUAL(wmmp_link_request(fx->p, cmd, tags, sizeof tags, NULL, NULL), WMMP_OK);
    run(fx, 10000);
    CU_ASSERT_EQUAL(fx->at.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.acks, 1);
    CU_ASSERT_EQUAL(fx->ap.body_len, 2500);
    UNIT_ASSERT_BYTES(fx->ap.body, fx->at.answer, 2500);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 1);
    CU_ASSERT_EQUAL(fx->ap.failed, 0);
    expect_fragment(fx, 1, ack, 0x30, WMMP_FRAGMENT_OP_DATA, 1, 3);
    expect_fragment(fx, 2, ack, 0x30, WMMP_FRAGMENT_OP_SEND_NEXT, 2, 3);
    const wmmp_link_stats *st = wmmp_link_get_stats(fx->t), *sp = wmmp_link_get_stats(fx->p);
    CU_ASSERT_EQUAL(sp->retransmissions, 2); /* the control, twice */
    CU_ASSERT_EQUAL(sp->fragments_received, 3);
    CU_ASSERT_EQUAL(st->fragments_sent, 3);
    CU_ASSERT_EQUAL(st->acks_sent, 1);
    CU_ASSERT_EQUAL(st->requests_received, 1);
    CU_ASSERT_EQUAL(st->rejected + sp->rejected, 0);
    CU_ASSERT_EQUAL(fake_env_timers(&fx->fe), 0);
    fx_free(fx);
}

/* A receiver abort (operation 2) ends our transfer: request_failed, and the next request goes. */
static void test_receiver_abort(void)
{
    fixture *fx = fx_new(WMMP_SEC_PLAIN);
    uint8_t *body = malloc(2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    fill(body, 2000, 1);
    drop(fx, 1, WMMP_CMD_CONFIG_TRAP, 0, 1);
    int ctx = 0;
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, body, 2000, &ctx, NULL), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL), WMMP_OK);
    flush(fx);
    /* the abort the platform would send, built with the codec (transaction ID as in part 1) */
    wmmp_message part = parsed(fx, 0);
    uint8_t msg[64];
    wmmp_header h;
    wmmp_writer w;
    wmmp_header_init(&h, WMMP_CMD_CONFIG_TRAP | WMMP_ACK_BIT, part.hdr.sequence_id, 0x10, fx->keys.serial);
    wmmp_msg_begin(&w, msg, sizeof msg, &h);
    wmmp_fragment_put_control(&w, wmmp_load16(part.body + 4), 3, 1, WMMP_FRAGMENT_OP_RECEIVER_ABORT);
    CU_ASSERT_EQUAL(wmmp_msg_finish(&w, NULL), WMMP_OK);
    wmmp_link_receive(fx->t, msg, w.len);
    CU_ASSERT_EQUAL(fx->at.failed, 1);
    CU_ASSERT_PTR_EQUAL(fx->at.failed_ctx[0], &ctx);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->requests_failed, 0);
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    /* a repeat of the abort is late: ignored */
    wmmp_link_receive(fx->t, msg, w.len);
    CU_ASSERT_EQUAL(fx->at.rejected, 0);
    free(body);
    fx_free(fx);
}

/* ---- digests and malformed input ---- */

static void test_bad_digest(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, heartbeat_body, sizeof heartbeat_body, NULL, NULL),
                    WMMP_OK);
    /* a request with a bad digest is delivered with digest_ok = 0 (the platform answers result 3) */
    fake_sent *s = &fx->fe.sent[0];
    s->msg[s->len - 1] ^= 0x01;
    flush(fx);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->ap.has_digest, 1);
    CU_ASSERT_EQUAL(fx->ap.digest_ok, 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->bad_digests, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 1);

    /* an ACK with a bad digest counts as lost: the request goes again and the cached ACK completes it */
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_CONFIG_TRAP, NULL, 0, NULL, NULL), WMMP_OK);
    fx->ap.auto_answer = 0;
    flush(fx);
    size_t at = fx->fe.n_sent;
    wmmp_header req = fx->ap.hdr;
    uint8_t result = 0;
    CU_ASSERT_EQUAL(wmmp_link_answer(fx->p, &req, &result, 1), WMMP_OK);
    s = &fx->fe.sent[at];
    s->msg[WMMP_HEADER_LEN] ^= 0x01; /* the result byte, under the digest */
    flush(fx);
    CU_ASSERT_EQUAL(fx->at.acks, 1);
    CU_ASSERT_EQUAL(fx->at.rejected, 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->bad_digests, 1);
    run(fx, 3100);
    CU_ASSERT_EQUAL(fx->at.acks, 2);
    CU_ASSERT_EQUAL(fx->at.body[0], 0);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->duplicates_answered, 1);
    fx_free(fx);
}

/* Feeds msg to the platform link and expects one more rejection and nothing delivered. */
static void expect_rejected(fixture *fx, const uint8_t *msg, size_t len, wmmp_err why)
{
    unsigned before = fx->ap.rejected;
    wmmp_link_receive(fx->p, msg, len);
    CU_ASSERT_EQUAL(fx->ap.rejected, before + 1);
    if (why != WMMP_OK)
        CU_ASSERT_EQUAL(fx->ap.last_reject, why);
    CU_ASSERT_EQUAL(fx->ap.requests, 0);
}

/* A terminal message built with the codec: flag, body, signed when the flag asks. */
static size_t raw(fixture *fx, uint8_t *out, size_t cap, uint16_t cmd, uint8_t flag, const uint8_t *body, size_t len)
{
    wmmp_header h;
    wmmp_writer w;
    wmmp_signer s = { &fx->keys, WMMP_UPLINK, TS_SESSION };
    wmmp_header_init(&h, cmd, 77, flag, fx->keys.serial);
    wmmp_msg_begin(&w, out, cap, &h);
    wmmp_put_bytes(&w, body, len);
    CU_ASSERT_EQUAL_FATAL(wmmp_msg_finish(&w, &s), WMMP_OK);
    return w.len;
}

static void test_malformed(void)
{
    fixture *fx = fx_new(WMMP_SEC_FULL);
    uint8_t msg[256], good[256];
    size_t n = raw(fx, good, sizeof good, WMMP_CMD_HEART_BEAT, 0x20, heartbeat_body, sizeof heartbeat_body);

    /* random bytes of every length up to 200 */
    for (size_t len = 0; len <= 200; len++) {
        for (size_t i = 0; i < len; i++)
            msg[i] = (uint8_t)fx->fe.env.random(fx->fe.env.ctx);
        expect_rejected(fx, msg, len, WMMP_OK);
    }
    /* a good message cut at every length, and with a byte too many */
    for (size_t len = 0; len < n; len++)
        expect_rejected(fx, good, len, WMMP_OK);
    memcpy(msg, good, n);
    msg[n] = 0;
    expect_rejected(fx, msg, n + 1, WMMP_ERR_INVALID_ARGUMENT);
    /* Total_Length too small, too big */
    memcpy(msg, good, n);
    wmmp_store16(msg, 20);
    expect_rejected(fx, msg, n, WMMP_ERR_LENGTH_TOO_SMALL);
    wmmp_store16(msg, (uint16_t)(n + 8));
    expect_rejected(fx, msg, n, WMMP_ERR_LENGTH_BEYOND_BUFFER);
    /* version 2.0 */
    memcpy(msg, good, n);
    wmmp_store16(msg + 8, 0x0200);
    expect_rejected(fx, msg, n, WMMP_ERR_BAD_VERSION);
    /* DIGEST set without the digest TLV */
    size_t m = raw(fx, msg, sizeof msg, WMMP_CMD_HEART_BEAT, 0x00, heartbeat_body, sizeof heartbeat_body);
    msg[10] = 0x20;
    expect_rejected(fx, msg, m, WMMP_ERR_DIGEST_MISSING);
    /* a reserved flag bit */
    m = raw(fx, msg, sizeof msg, WMMP_CMD_HEART_BEAT, 0x01, heartbeat_body, sizeof heartbeat_body);
    expect_rejected(fx, msg, m, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    /* fragment flag with a short 0x4008 (4 of 7 bytes), with a TLV overrun, and with another TLV */
    static const uint8_t short_fragment[] = { 0x40, 0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02 };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_TRANSPARENT_DATA, 0x10, short_fragment, sizeof short_fragment);
    expect_rejected(fx, msg, m, WMMP_ERR_FRAGMENT_TRUNCATED);
    static const uint8_t overrun[] = { 0x40, 0x08, 0x00, 0x40, 0x00, 0x01, 0x00, 0x02 };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_TRANSPARENT_DATA, 0x10, overrun, sizeof overrun);
    expect_rejected(fx, msg, m, WMMP_ERR_TLV_OVERRUN);
    m = raw(fx, msg, sizeof msg, WMMP_CMD_TRANSPARENT_DATA, 0x30, heartbeat_body, sizeof heartbeat_body);
    expect_rejected(fx, msg, m, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    /* a fragment numbered 0, and part 2 without part 1 */
    static const uint8_t zero_part[] = { 0x40, 0x08, 0x00, 0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0xAA };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_TRANSPARENT_DATA, 0x30, zero_part, sizeof zero_part);
    expect_rejected(fx, msg, m, WMMP_ERR_FRAGMENT_BAD_NUMBER);
    static const uint8_t part2[] = { 0x40, 0x08, 0x00, 0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0xAA };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_TRANSPARENT_DATA, 0x30, part2, sizeof part2);
    expect_rejected(fx, msg, m, WMMP_ERR_FRAGMENT_OUT_OF_ORDER);
    /* 0xE042 with a ciphertext length that is not a multiple of 8 */
    static const uint8_t bad_cipher[] = { 0xE0, 0x42, 0x00, 0x05, 1, 2, 3, 4, 5 };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_HEART_BEAT, 0xF0, bad_cipher, sizeof bad_cipher);
    expect_rejected(fx, msg, m, WMMP_ERR_CIPHER_LENGTH);
    /* 0xE042 without the digest */
    static const uint8_t cipher[] = { 0xE0, 0x42, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8 };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_HEART_BEAT, 0x50, cipher, sizeof cipher);
    expect_rejected(fx, msg, m, WMMP_ERR_FLAG_CONTENT_MISMATCH);
    /* an unsolicited control */
    static const uint8_t control[] = { 0x40, 0x08, 0x00, 0x07, 0x00, 0x01, 0x00, 0x03, 0x00, 0x02, 0x01 };
    m = raw(fx, msg, sizeof msg, WMMP_CMD_TRANSPARENT_DATA | WMMP_ACK_BIT, 0x30, control, sizeof control);
    expect_rejected(fx, msg, m, WMMP_ERR_INVALID_ARGUMENT);

    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->p)->rejected, fx->ap.rejected);
    CU_ASSERT_EQUAL(fx->fe.n_sent, 0); /* nothing answered */
    /* and the link still works */
    wmmp_link_receive(fx->p, good, n);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    fx_free(fx);
}

/* ---- a faulty network ---- */

/* Request k of the soak: small or fragmented, its content fixed by k. */
static size_t soak_body(uint8_t *out, unsigned k)
{
    size_t len = k % 3 == 0 ? 2500 : 40 + k;
    wmmp_store16(out, (uint16_t)k);
    wmmp_store16(out + 2, WMMP_TAG_USER_DATA);
    wmmp_store16(out + 4, (uint16_t)(len - 6));
    fill(out + 6, len - 6, k);
    return len;
}

/* Every request is acknowledged or reported failed once, delivered at most once and intact. */
static void soak(wmmp_security_level level, int duplicate_all, unsigned loss_percent, emu_ms delay_max_ms,
                 unsigned requests)
{
    fixture *fx = fx_new(level);
    uint8_t *body = malloc(2500);
    uint64_t expected[MAX_SOAK];
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_FATAL(requests <= MAX_SOAK);
    fx->duplicate_all = duplicate_all;
    fx->loss_percent = loss_percent;
    fx->delay_max_ms = delay_max_ms;
    for (unsigned k = 0; k < requests; k++) {
        size_t n = soak_body(body, k);
        expected[k] = hash(body, n);
        CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_TRANSPARENT_DATA, body, n, NULL, NULL), WMMP_OK);
    }
    run(fx, (emu_ms)requests * 3 * 4 * 3000 + delay_max_ms);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 0);
    CU_ASSERT_EQUAL(fx->at.acks + fx->at.failed, requests);
    if (!loss_percent && delay_max_ms < 3000)
        CU_ASSERT_EQUAL(fx->at.acks, requests);
    for (size_t i = 0; i < fx->ap.n_delivered; i++) {
        uint32_t seq = fx->ap.delivered[i];
        CU_ASSERT_FATAL(seq >= 1 && seq <= requests);
        CU_ASSERT_EQUAL(fx->ap.delivered_hash[i], expected[seq - 1]);
        if (i)
            CU_ASSERT(seq > fx->ap.delivered[i - 1]); /* once each, in order */
    }
    CU_ASSERT(fx->ap.n_delivered >= fx->at.acks);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->rejected + wmmp_link_get_stats(fx->p)->rejected, 0);
    CU_ASSERT_EQUAL(fake_env_timers(&fx->fe), 0);
    free(body);
    fx_free(fx);
}

static void test_duplicating_network(void)
{
    soak(WMMP_SEC_DIGEST, 1, 0, 0, 12);
    soak(WMMP_SEC_FULL, 1, 0, 0, 12);
}

static void test_lossy_network(void)
{
    soak(WMMP_SEC_DIGEST, 0, 25, 0, 40);
    soak(WMMP_SEC_FULL, 1, 25, 0, 40);
}

/* Delays up to twice the response timeout: retransmissions overtaken, late ACKs, late parts. */
static void test_reordering_network(void)
{
    soak(WMMP_SEC_PLAIN, 0, 0, 2000, 30);
    soak(WMMP_SEC_DIGEST, 1, 10, 6000, 40);
    soak(WMMP_SEC_FULL, 1, 20, 4000, 40);
}

/*
 * Issue 13, items 3 and 4: an ACK or control below this end's security class never completes (or advances)
 * a request -- unsigned at DIGEST, unsealed at FULL; it counts as lost and the request is retransmitted.
 */
static void test_ack_below_class_ignored(void)
{
    fixture *fx = fx_new(WMMP_SEC_DIGEST);
    wmmp_link_set_security(fx->p, WMMP_SEC_PLAIN); /* a forger's answers carry no digest */
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_HEART_BEAT, NULL, 0, NULL, NULL), WMMP_OK);
    run(fx, 100);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 0);
    CU_ASSERT_EQUAL(wmmp_link_pending(fx->t), 1);
    CU_ASSERT_EQUAL(fx->at.last_reject, WMMP_ERR_SECURITY_CLASS); /* reported, so the application can say so */
    run(fx, 20000);
    CU_ASSERT_EQUAL(fx->at.acks, 0);
    CU_ASSERT_EQUAL(fx->at.failed, 1);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->retransmissions, 3);
    fx_free(fx);

    /* FULL: a signed ACK whose body is not in 0xE042 */
    fx = fx_new(WMMP_SEC_FULL);
    wmmp_link_set_security(fx->p, WMMP_SEC_ENCRYPTED);
    uint8_t body[64];
    size_t n = transparent_body(body, sizeof body);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_TRANSPARENT_DATA, body, n, NULL, NULL), WMMP_OK);
    run(fx, 100);
    CU_ASSERT_EQUAL(fx->ap.requests, 1);
    CU_ASSERT_EQUAL(fx->at.acks, 0);
    fx_free(fx);

    /* an unsigned send-next control does not advance a signed fragmented request */
    fx = fx_new(WMMP_SEC_DIGEST);
    wmmp_link_set_security(fx->p, WMMP_SEC_PLAIN);
    uint8_t *big = malloc(2500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    n = transparent_body(big, 2500);
    CU_ASSERT_EQUAL(wmmp_link_request(fx->t, WMMP_CMD_TRANSPARENT_DATA, big, n, NULL, NULL), WMMP_OK);
    run(fx, 100);
    CU_ASSERT_EQUAL(wmmp_link_get_stats(fx->t)->fragments_sent, 1);
    CU_ASSERT_EQUAL(fx->ap.requests, 0);
    free(big);
    fx_free(fx);
}

static CU_TestInfo tests[] = {
    {"plain round trip", test_plain_round_trip},
    {"digest: LOGIN 0xA0, LOGIN_ACK own timestamp, 0x20", test_digest_round_trip},
    {"encrypted: 0xE0", test_encrypted_round_trip},
    {"full: 0xF0 with 0xE042, empty bodies 0xE0", test_full_round_trip},
    {"full without or with a wrong session key: rejected", test_full_without_session_key},
    {"no keys: no digest, received digests unverified", test_no_keys},
    {"retransmission after the timeout, identical bytes", test_retransmit_identical},
    {"retries exhausted: request_failed, next request", test_retries_exhausted},
    {"three failures in a row: failure once", test_failure_after_three},
    {"duplicate request answered from the cache", test_duplicate_answered_from_cache},
    {"repeat of an unanswered request ignored", test_pending_duplicate_ignored},
    {"late ACK ignored, unmatched ACK rejected", test_late_and_unmatched_ack},
    {"sequence wraps 0xFFFFFFFF -> 0", test_sequence_wrap},
    {"FIFO, one outstanding", test_fifo},
    {"reset, and free inside a callback", test_reset_and_free_in_callback},
    {"bad arguments and too long", test_bad_arguments},
    {"fragmented request: 2500 bytes in 3 parts", test_fragmented_request},
    {"fragmented request: lost part and lost control", test_fragmented_request_with_loss},
    {"fragmented fully encrypted request", test_fragmented_full},
    {"fragmented ACK with losses", test_fragmented_ack},
    {"receiver abort fails the request", test_receiver_abort},
    {"bad digest: request delivered, ACK ignored", test_bad_digest},
    {"malformed input rejected", test_malformed},
    {"network duplicating everything", test_duplicating_network},
    {"network losing a quarter", test_lossy_network},
    {"network delaying and reordering", test_reordering_network},
    {"an ACK or control below the security class is ignored", test_ack_below_class_ignored},
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_link, tests)
