/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The M2M platform (platform.h). One wmmp_link per known terminal does security, retransmission,
 * duplicates and fragments; this file decides what each request means for the session and the database.
 *
 * Choices the profile leaves open (also in the report of the platform part):
 *   - REGISTER is answered before any link, by IMEI, whatever the header serial; the REGISTER_ACK echoes
 *     the request's header serial (all zero) and carries the keys file's serial in its body.
 *   - A LOGIN without a digest is accepted only when the platform's security is PLAIN (result 3 otherwise);
 *     a digest that is present must verify. A LOGIN whose serial is all zero gets result 6 (register first),
 *     an unknown serial result 2, a LOGIN during shutdown result 7. A refused LOGIN leaves a running
 *     session alone (the link signs a LOGIN_ACK with its own timestamp and never encrypts it).
 *   - Requests of a terminal without a session get result 9; HEART_BEAT (no result byte) is dropped and
 *     counted; LOGOUT is answered with LOGOUT_ACK (nothing to end); FILE_REQ gets FILE_REQ_ACK status 3.
 *   - When a session ends its link is replaced by a fresh one (same serial, keys, and the platform's
 *     Sequence_ID counter) so that the link's duplicate cache cannot answer a replay of the old session:
 *     a replayed request meets "not logged in" (9) instead.
 *   - Every ended session counts once: in session_timeouts when it timed out, in logouts otherwise.
 *   - A message the link rejects (framing, flag/content, decryption) is answered (5) only when its digest
 *     verifies with the session timestamp; anything else it rejects is dropped and counted.
 *   - FILE_REQ_ACK status: 0 a block, 2 the block that reaches the end (or an empty one past it), 3 abort
 *     (no firmware, malformed, not logged in). DOWNLOAD_INFO: update mode 0, URL
 *     wmmp://platform/<file name>, force 1 (an operator or scenario asked for it).
 *   - Hostile peers (issue 13, docs/SECURITY.md): a message proves its sender when its digest verifies with
 *     the session (and it is not an old Sequence_ID from elsewhere) or, in a plain session, when it comes from
 *     the session's address. Only such a message moves the session to its source, and while one that does
 *     not is processed, what goes back to its source is limited to the bytes it brought (answers beyond are
 *     withheld and counted): no reflection with amplification. Copies of answered requests are answered only
 *     to the session's address (wmmp_link_receive_from). A signed LOGIN must carry System time (0x3009)
 *     within LOGIN_WINDOW_S of the clock and newer than the last LOGIN accepted from that terminal.
 *   - CONFIG_REQ answers 0x0011/0x4004 (heartbeat), 0x0107/0x0108 (the platform's own timing), 0x3009
 *     (its clock), 0x0009/0x000A when configured; others make the result 8 and are listed with length 0.
 */
#include "platform.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_files.h"
#include "record_store.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_health.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"
#include "wmmp_tlv.h"

#define DEFAULT_HEARTBEAT_S 60
#define SILENT_INTERVALS 3
#define FILE_BLOCK_CAP 1024      /* largest FILE_REQ_ACK data block */
#define MAX_REQ_TAGS 128         /* tags one CONFIG_REQ may ask for */
#define COUNTER_FLUSH_RECORDS 32 /* counters table refreshed at least every this many records */
#define SESSION_KEY_LIFETIME_S 86400u
#define LOGIN_WINDOW_S 300       /* a signed LOGIN's System time within this of the platform's clock */


/* What a platform request was, carried as its req_ctx (a small integer, never dereferenced). */
typedef enum {
    REQ_OTHER = 0,
    REQ_LOGOUT,
    REQ_CONFIG_GET,
    REQ_CONFIG_SET,
    REQ_REMOTE_CTRL,
    REQ_DOWNLOAD_INFO,
    REQ_SECURITY_CONFIG,
} req_kind;

static void *kind_ctx(req_kind k) { return (void *)(uintptr_t)k; }
static req_kind ctx_kind(void *ctx) { return (req_kind)(uintptr_t)ctx; }

/* The platform_stats fields, in the order the counters table lists them. */
#define STATS_FIELDS(X)                                                                                    \
    X(registrations)                                                                                       \
    X(logins)                                                                                              \
    X(logins_refused)                                                                                      \
    X(logouts)                                                                                             \
    X(session_timeouts)                                                                                    \
    X(records_stored)                                                                                      \
    X(records_duplicate)                                                                                   \
    X(records_id_reused)                                                                                   \
    X(rejected_bad_digest)                                                                                 \
    X(rejected_unknown_terminal)                                                                           \
    X(rejected_not_logged_in)                                                                              \
    X(rejected_malformed)                                                                                  \
    X(messages_received)                                                                                   \
    X(messages_sent)                                                                                       \
    X(payloads_other)                                                                                      \
    X(comm_failures)                                                                                       \
    X(logins_stale)                                                                                        \
    X(answers_withheld)                                                                                    \
    X(replays_dropped)
#define COUNT_FIELD(f) +1
enum { N_STATS = 0 STATS_FIELDS(COUNT_FIELD) };

typedef struct term term;

struct platform {
    const emu_env *env;   /* the driver's */
    emu_env link_env;     /* what the links get: counts sends, drops sends to a closed peer */
    platform_config cfg;
    wmmp_link_callbacks cb;
    record_store *store;
    GHashTable *by_serial; /* serial string -> term (owned by terms) */
    struct term **by_key;  /* keys item index -> its serial's term, once looked up */
    size_t n_by_key;       /* cfg.keys->count when the platform was made */
    GPtrArray *terms;      /* in order of first contact: deterministic iteration */
    uint8_t *fw;
    size_t fw_len;
    char *fw_name, *fw_version;
    platform_stats stats;
    uint64_t base[N_STATS]; /* counters of earlier runs, from the database */
    uint64_t records_since_flush;
    /* group commit (platform_config.group_commit): the ACKs waiting for the open transaction */
    struct deferred_ack *deferred;
    size_t n_deferred, cap_deferred;
    emu_timer commit_timer;
    /* the message being received: who sent it and how much may go back there (no amplification) */
    emu_peer *rx_from;
    int rx_from_session; /* from the address its terminal's session is bound to */
    int rx_trusted;      /* it proved its sender: answers are not limited */
    size_t rx_budget;    /* bytes that may still go back to rx_from while untrusted */
    int shutting_down;
    int ready; /* platform_new completed: the counters are loaded and may be saved */
};

struct term {
    platform *p;
    const wmmp_terminal_keys *keys;
    char serial[WMMP_SERIAL_LEN + 1];
    wmmp_link *link;
    int logged_in;
    int logout_pending; /* a platform LOGOUT is outstanding */
    int64_t logout_session; /* the session it ends when acknowledged (-1: already ended) */
    int link_stale;     /* replace the link at the next point outside its callbacks */
    int rx_valid;       /* the message being received was accepted (its source becomes the peer) */
    emu_timer silence_timer, reap_timer;
    emu_ms silence_due;         /* when the session times out unless heard from again (silence_restart) */
    emu_ms silence_armed;       /* when silence_timer fires: at or before silence_due */
    int64_t session_id;
    uint32_t session_ts;        /* digest timestamp of the current (or last) session */
    wmmp_security_level level;  /* of the current (or last) session */
    uint16_t heartbeat_s;       /* expected heartbeat interval */
    uint16_t pending_heartbeat_s; /* a CONFIG_SET of 0x4004 awaiting its ACK; 0 none */
    uint32_t next_seq;          /* the platform's next Sequence_ID towards it, kept across links */
    int have_seq;
    uint32_t register_seq;      /* last REGISTER answered: a retransmission is not counted again */
    int have_register;
    unsigned link_gen;          /* +1 per replaced link: a held ACK is for the link it was asked on */
    uint32_t login_time;        /* System time of the last LOGIN accepted (freshness); 0: none yet */
    uint32_t login_seq;         /* and its Sequence_ID */
    uint32_t last_seq;          /* Sequence_ID of the last request accepted in this session */
};

/* An ACK held until the group transaction that stored what it acknowledges has committed. */
typedef struct deferred_ack {
    term *t;
    unsigned link_gen;
    wmmp_header req;
    int is_record;     /* TRANSPARENT_DATA: its result byte; else a HEART_BEAT_ACK */
    uint8_t result;
    int stored, duplicate; /* what the record counted in the statistics (undone when the commit fails) */
} deferred_ack;

#define GROUP_MAX 512 /* writes per group transaction at most */

/* ---------------------------------------------------------------- environment of the links */

static emu_ms lenv_now(void *ctx)
{
    const emu_env *e = ((platform *)ctx)->env;
    return e->now(e->ctx);
}

static uint32_t lenv_unix_time(void *ctx)
{
    const emu_env *e = ((platform *)ctx)->env;
    return e->unix_time(e->ctx);
}

/* A sender that has not proved itself gets back no more bytes than it sent (its address may be forged). */
static int within_budget(platform *p, emu_peer *peer, size_t len)
{
    if (peer != p->rx_from || p->rx_from_session || p->rx_trusted)
        return 1;
    if (len > p->rx_budget) {
        p->stats.answers_withheld++;
        emu_logf(p->env, EMU_LOG_DEBUG, "platform: %zu-byte answer to an unauthenticated sender withheld", len);
        return 0;
    }
    p->rx_budget -= len;
    return 1;
}

static void lenv_send(void *ctx, emu_peer *peer, const uint8_t *msg, size_t len)
{
    platform *p = ctx;
    if (!peer)
        return; /* the terminal's connection closed and it has not been heard from since */
    if (!within_budget(p, peer, len))
        return;
    p->stats.messages_sent++;
    p->env->send(p->env->ctx, peer, msg, len);
}

static emu_timer lenv_timer_start(void *ctx, emu_ms delay, void (*fire)(void *arg), void *arg)
{
    const emu_env *e = ((platform *)ctx)->env;
    return e->timer_start(e->ctx, delay, fire, arg);
}

static void lenv_timer_cancel(void *ctx, emu_timer t)
{
    const emu_env *e = ((platform *)ctx)->env;
    e->timer_cancel(e->ctx, t);
}

static uint32_t lenv_random(void *ctx)
{
    const emu_env *e = ((platform *)ctx)->env;
    return e->random(e->ctx);
}

static void lenv_log(void *ctx, emu_log_level level, const char *line)
{
    const emu_env *e = ((platform *)ctx)->env;
    if (e->log)
        e->log(e->ctx, level, line);
}

static void lenv_close_peer(void *ctx, emu_peer *peer)
{
    const emu_env *e = ((platform *)ctx)->env;
    if (e->close_peer && peer)
        e->close_peer(e->ctx, peer);
}

static void link_env_init(platform *p)
{
    p->link_env = (emu_env){
        .ctx = p,
        .now = lenv_now,
        .unix_time = lenv_unix_time,
        .send = lenv_send,
        .timer_start = lenv_timer_start,
        .timer_cancel = lenv_timer_cancel,
        .random = lenv_random,
        .log = lenv_log,
        .close_peer = lenv_close_peer,
    };
}

static uint32_t now_unix(const platform *p) { return p->env->unix_time(p->env->ctx); }

/* The message being received proved its sender: the session follows its source, answers are not limited. */
static void trust_sender(term *t)
{
    t->rx_valid = 1;
    t->p->rx_trusted = 1;
}

/* ---------------------------------------------------------------- small helpers */

static const char *level_name(wmmp_security_level l)
{
    static const char *const names[] = { "plain", "digest", "encrypted", "fully encrypted" };
    return (unsigned)l < 4 ? names[l] : "?";
}

/* A header serial fit for a log line: non-printable bytes become '.', all zero reads "(none)". */
static void printable_serial(const uint8_t serial[WMMP_SERIAL_LEN], char out[WMMP_SERIAL_LEN + 1])
{
    int zero = 1;
    for (size_t i = 0; i < WMMP_SERIAL_LEN; i++) {
        zero &= serial[i] == 0;
        out[i] = serial[i] >= 0x20 && serial[i] < 0x7F ? (char)serial[i] : '.';
    }
    out[WMMP_SERIAL_LEN] = '\0';
    if (zero)
        snprintf(out, WMMP_SERIAL_LEN + 1, "(none)");
}

static int serial_is_zero(const uint8_t serial[WMMP_SERIAL_LEN])
{
    for (size_t i = 0; i < WMMP_SERIAL_LEN; i++)
        if (serial[i])
            return 0;
    return 1;
}

static uint16_t default_heartbeat(const platform *p)
{
    return p->cfg.heartbeat_interval_s ? p->cfg.heartbeat_interval_s : DEFAULT_HEARTBEAT_S;
}

static int ack_has_result(uint16_t cmd)
{
    cmd = wmmp_request_of(cmd);
    uint16_t ack = (uint16_t)(cmd | WMMP_ACK_BIT);
    return !wmmp_carries_data_block(ack) && wmmp_command_prefix_len(ack) > 0;
}

/*
 * The ACK body refusing request cmd with result (LOGIN_ACK adds a timestamp, REGISTER_ACK an empty
 * serial; FILE_REQ_ACK has no result and says "abort"). 0 when the ACK cannot carry a refusal.
 */
static size_t refusal_body(uint16_t cmd, uint8_t result, uint32_t ts, const uint8_t *req, size_t req_len,
                           uint8_t *out, size_t cap)
{
    wmmp_writer w;
    wmmp_writer_init(&w, out, cap);
    cmd = wmmp_request_of(cmd);
    if (cmd == WMMP_CMD_FILE_REQ) {
        wmmp_file_ack fa = { req_len >= 4 ? wmmp_load32(req) : 0, WMMP_FILE_STATUS_ABORT, 0,
                             req_len >= 9 ? wmmp_load32(req + 5) : 0, 0, NULL };
        wmmp_file_ack_put(&w, &fa);
    } else if (!ack_has_result(cmd)) {
        return 0;
    } else if (cmd == WMMP_CMD_LOGIN) {
        wmmp_login_ack la = { result, ts };
        wmmp_login_ack_put(&w, &la);
    } else if (cmd == WMMP_CMD_REGISTER) {
        wmmp_register_ack ra = { result, "" };
        wmmp_register_ack_put(&w, &ra);
    } else {
        wmmp_result_put(&w, result);
    }
    return w.err == WMMP_OK ? w.len : 0;
}

/*
 * An ACK built here rather than by a link: for terminals the keys file does not know (or without a serial)
 * and for REGISTER. Echoes the request's Sequence_ID, serial and version; never signed (as a link never
 * signs REGISTER_ACK, and an unknown terminal has no keys).
 */
static void send_direct(platform *p, emu_peer *to, const wmmp_header *req, const uint8_t *body, size_t len)
{
    uint8_t buf[WMMP_HEADER_LEN + 64];
    wmmp_header h = *req;
    h.command_id = (uint16_t)(wmmp_request_of(req->command_id) | WMMP_ACK_BIT);
    h.safe_flag = 0;
    h.reserved = 0;
    if ((h.version >> 8) != 3)
        h.version = WMMP_VERSION_3_0;
    wmmp_writer w;
    wmmp_msg_begin(&w, buf, sizeof buf, &h);
    wmmp_put_bytes(&w, body, len);
    if (wmmp_msg_finish(&w, NULL) != WMMP_OK) {
        emu_logf(p->env, EMU_LOG_ERROR, "platform: cannot build %s: %s", wmmp_command_name(h.command_id),
                 wmmp_strerror(w.err));
        return;
    }
    lenv_send(p, to, buf, w.len);
}

/* ---------------------------------------------------------------- counters */

#define FIELD_NAME(f) #f,
#define FIELD_VALUE(f) p->stats.f,

static void counters_flush(platform *p)
{
    static const char *const names[N_STATS] = { STATS_FIELDS(FIELD_NAME) };
    uint64_t values[N_STATS] = { STATS_FIELDS(FIELD_VALUE) };
    for (size_t i = 0; i < N_STATS; i++)
        values[i] += p->base[i]; /* cumulative over runs */
    if (record_store_counters_save(p->store, names, values, N_STATS) != 0)
        emu_logf(p->env, EMU_LOG_ERROR, "platform: cannot save counters: %s", record_store_error(p->store));
    p->records_since_flush = 0;
}

static void counters_load(platform *p)
{
    static const char *const names[N_STATS] = { STATS_FIELDS(FIELD_NAME) };
    for (size_t i = 0; i < N_STATS; i++)
        if (record_store_counter_get(p->store, names[i], &p->base[i]) != 0)
            p->base[i] = 0;
}

/* ---------------------------------------------------------------- terminals and their links */

static void reap_fire(void *arg);
static void replace_link(term *t);
static void store_barrier(platform *p);

static void remember_sequence(term *t, uint32_t seq)
{
    t->next_seq = seq + 1; /* wraps 0xFFFFFFFF -> 0 as the profile wants */
    t->have_seq = 1;
}

/* Outside a session the link signs with the last session's timestamp, never encrypts. */
static wmmp_link *new_link(term *t, emu_peer *peer)
{
    platform *p = t->p;
    wmmp_link *l = wmmp_link_new(&p->link_env, peer, &p->cfg.link, &p->cb, t);
    if (!l)
        return NULL;
    wmmp_link_set_identity(l, (const uint8_t *)t->serial, t->keys);
    wmmp_link_set_security(l, t->level > WMMP_SEC_DIGEST ? WMMP_SEC_DIGEST : t->level);
    wmmp_link_set_timestamp(l, t->session_ts);
    if (t->have_seq)
        wmmp_link_set_next_sequence(l, t->next_seq);
    return l;
}

static term *term_find(const platform *p, const char *serial)
{
    return g_hash_table_lookup(p->by_serial, serial);
}

static term *term_new(platform *p, const wmmp_terminal_keys *keys)
{
    term *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->p = p;
    t->keys = keys;
    memcpy(t->serial, keys->serial, sizeof t->serial);
    t->level = WMMP_SEC_PLAIN;
    t->heartbeat_s = default_heartbeat(p);
    t->link = new_link(t, NULL);
    if (!t->link) {
        free(t);
        return NULL;
    }
    g_hash_table_insert(p->by_serial, t->serial, t);
    g_ptr_array_add(p->terms, t);
    return t;
}

/* The term of keys' serial (made at first contact); by_key spares the serial's hash look-up. */
static term *term_get(platform *p, const wmmp_terminal_keys *keys)
{
    const wmmp_keyring *kr = p->cfg.keys;
    size_t k = p->by_key && keys >= kr->items && keys < kr->items + p->n_by_key ? (size_t)(keys - kr->items) : SIZE_MAX;
    term *t = k != SIZE_MAX ? p->by_key[k] : NULL;
    if (t)
        return t;
    t = term_find(p, keys->serial);
    if (!t)
        t = term_new(p, keys);
    if (t && k != SIZE_MAX)
        p->by_key[k] = t;
    return t;
}

static void term_free(void *data)
{
    term *t = data;
    const emu_env *e = t->p->env;
    e->timer_cancel(e->ctx, t->silence_timer);
    e->timer_cancel(e->ctx, t->reap_timer);
    wmmp_link_free(t->link);
    free(t);
}

/* Called from inside the link's callbacks: the link is replaced once its code has returned. */
static void schedule_replace(term *t)
{
    t->link_stale = 1;
    if (!t->reap_timer)
        t->reap_timer = t->p->env->timer_start(t->p->env->ctx, 0, reap_fire, t);
}

static void reap_fire(void *arg)
{
    term *t = arg;
    t->reap_timer = 0;
    if (t->link_stale)
        replace_link(t);
}

/* A fresh link after a session: no duplicate cache, no session key; queued requests are dropped. */
static void replace_link(term *t)
{
    const emu_env *e = t->p->env;
    emu_peer *peer = wmmp_link_peer(t->link);
    wmmp_link *l = new_link(t, peer);
    if (!l)
        return; /* out of memory: keep the old one */
    wmmp_link_free(t->link);
    t->link = l;
    t->link_gen++;
    t->link_stale = 0;
    t->logout_pending = 0;
    t->pending_heartbeat_s = 0;
    e->timer_cancel(e->ctx, t->reap_timer);
    t->reap_timer = 0;
}

/* ---------------------------------------------------------------- sessions */

static void silence_fire(void *arg);

/* Arms the silence timer for t->silence_due (replacing one that would fire later). */
static void silence_arm(term *t, emu_ms now)
{
    const emu_env *e = t->p->env;
    e->timer_cancel(e->ctx, t->silence_timer);
    t->silence_armed = t->silence_due;
    t->silence_timer = e->timer_start(e->ctx, t->silence_due - now, silence_fire, t);
}

/*
 * The session times out SILENT_INTERVALS heartbeat intervals from now. A timer already armed for an earlier
 * time is kept (silence_fire arms it again for what remains): most requests only move the deadline, instead
 * of a cancel and a start in the timer queue per request.
 */
static void silence_restart(term *t)
{
    const emu_env *e = t->p->env;
    if (!t->logged_in) {
        e->timer_cancel(e->ctx, t->silence_timer);
        t->silence_timer = 0;
        return;
    }
    emu_ms now = e->now(e->ctx);
    t->silence_due = now + (emu_ms)SILENT_INTERVALS * t->heartbeat_s * 1000;
    if (!t->silence_timer || t->silence_armed > t->silence_due)
        silence_arm(t, now);
}

static const char *reason_text(int reason)
{
    const char *n = wmmp_logout_reason_name((unsigned)reason);
    return n ? n : "unknown reason";
}

/* Ends the session in memory and in the database; sends nothing. */
static void end_session(term *t, int reason, const char *cause)
{
    platform *p = t->p;
    if (!t->logged_in)
        return;
    t->logged_in = 0;
    p->env->timer_cancel(p->env->ctx, t->silence_timer);
    t->silence_timer = 0;
    if (strcmp(cause, "timeout") == 0)
        p->stats.session_timeouts++;
    else
        p->stats.logouts++;
    store_barrier(p);
    if (record_store_session_end(p->store, t->session_id, t->serial, now_unix(p), reason, cause) != 0)
        emu_logf(p->env, EMU_LOG_ERROR, "platform: cannot record the end of session %lld: %s",
                 (long long)t->session_id, record_store_error(p->store));
    emu_logf(p->env, EMU_LOG_INFO, "platform: session %lld of %s ended: %s (reason %d, %s)",
             (long long)t->session_id, t->serial, cause, reason, reason_text(reason));
    counters_flush(p);
}

static void silence_fire(void *arg)
{
    term *t = arg;
    t->silence_timer = 0;
    if (!t->logged_in)
        return;
    emu_ms now = t->p->env->now(t->p->env->ctx);
    if (now < t->silence_due) { /* heard from since the timer was armed */
        silence_arm(t, now);
        return;
    }
    emu_logf(t->p->env, EMU_LOG_WARN, "platform: %s silent for %u heartbeat intervals of %u s", t->serial,
             SILENT_INTERVALS, (unsigned)t->heartbeat_s);
    end_session(t, WMMP_LOGOUT_REASON_TIMEOUT, "timeout");
    replace_link(t); /* a timer of ours, not of the link: safe to replace now */
}

/* Sends a platform request on the terminal's link; 0 when queued. */
static int send_request(term *t, uint16_t cmd, const uint8_t *body, size_t len, req_kind kind)
{
    uint32_t seq = 0;
    wmmp_err e = wmmp_link_request(t->link, cmd, body, len, kind_ctx(kind), &seq);
    if (e != WMMP_OK) {
        emu_logf(t->p->env, EMU_LOG_ERROR, "platform: cannot send %s to %s: %s", wmmp_command_name(cmd),
                 t->serial, wmmp_strerror(e));
        return -1;
    }
    remember_sequence(t, seq);
    return 0;
}

static int send_logout(term *t, uint8_t reason)
{
    if (send_request(t, WMMP_CMD_LOGOUT, &reason, 1, REQ_LOGOUT) != 0)
        return -1;
    t->logout_pending = 1;
    t->logout_session = t->logged_in ? t->session_id : -1;
    return 0;
}

/* ---------------------------------------------------------------- group commit */

static void answer(term *t, const wmmp_header *req, const uint8_t *body, size_t len);

/* Commits the open group transaction and sends the ACKs it held (result 7, busy, for records it lost). */
static void group_commit(platform *p)
{
    const emu_env *e = p->env;
    if (p->commit_timer) {
        e->timer_cancel(e->ctx, p->commit_timer);
        p->commit_timer = 0;
    }
    if (!record_store_batch_open(p->store) && p->n_deferred == 0)
        return;
    int ok = record_store_batch_commit(p->store) == 0;
    if (!ok)
        emu_logf(e, EMU_LOG_ERROR, "platform: cannot commit %zu writes: %s", p->n_deferred,
                 record_store_error(p->store));
    /* answering may run callbacks that store again: take the list first */
    deferred_ack *list = p->deferred;
    size_t n = p->n_deferred;
    p->deferred = NULL;
    p->n_deferred = p->cap_deferred = 0;
    for (size_t i = 0; i < n; i++) {
        deferred_ack *d = &list[i];
        uint8_t result = d->result;
        if (!ok && d->is_record) {
            p->stats.records_stored -= (uint64_t)d->stored;
            p->stats.records_duplicate -= (uint64_t)d->duplicate;
            result = WMMP_RESULT_BUSY; /* not stored: the terminal keeps the record and sends it again */
        }
        if (d->t->link_gen != d->link_gen)
            continue; /* the link it was asked on is gone: a repeat reaches the new one */
        if (d->is_record)
            answer(d->t, &d->req, &result, 1);
        else
            answer(d->t, &d->req, NULL, 0);
    }
    free(list);
}

static void commit_fire(void *arg)
{
    platform *p = arg;
    p->commit_timer = 0;
    group_commit(p);
}

/* Before a write that commits on its own (sessions, registrations, configuration): the group goes first. */
static void store_barrier(platform *p)
{
    if (p->cfg.group_commit)
        group_commit(p);
}

/* Opens (or joins) the group transaction for a record or heartbeat status; 0 when writes are grouped now. */
static int group_join(platform *p)
{
    if (!p->cfg.group_commit)
        return -1;
    if (p->n_deferred >= GROUP_MAX)
        group_commit(p);
    if (record_store_batch_begin(p->store) != 0)
        return -1; /* a write of its own, as without group commit */
    if (!p->commit_timer) /* when the driver has handed over what arrived together */
        p->commit_timer = p->env->timer_start(p->env->ctx, 0, commit_fire, p);
    return 0;
}

/* Holds an ACK until the group commits; -1 when it cannot (then answer now). */
static int hold_ack(term *t, const wmmp_header *req, int is_record, uint8_t result, int stored, int duplicate)
{
    platform *p = t->p;
    if (p->n_deferred == p->cap_deferred) {
        size_t cap = p->cap_deferred ? p->cap_deferred * 2 : 64;
        deferred_ack *d = realloc(p->deferred, cap * sizeof *d);
        if (!d)
            return -1;
        p->deferred = d;
        p->cap_deferred = cap;
    }
    p->deferred[p->n_deferred++] = (deferred_ack){ t, t->link_gen, *req, is_record, result, stored, duplicate };
    return 0;
}

/* ---------------------------------------------------------------- answering */

static void answer(term *t, const wmmp_header *req, const uint8_t *body, size_t len)
{
    wmmp_err e = wmmp_link_answer(t->link, req, body, len);
    if (e != WMMP_OK)
        emu_logf(t->p->env, EMU_LOG_ERROR, "platform: cannot answer %s of %s: %s",
                 wmmp_command_name(req->command_id), t->serial, wmmp_strerror(e));
}

static void answer_result(term *t, const wmmp_header *req, uint8_t result)
{
    answer(t, req, &result, 1);
}

/* Refuses a request through the link when its ACK can say so; otherwise nothing is sent. */
static void refuse(term *t, const wmmp_rx *rx, uint8_t result)
{
    uint8_t body[32];
    size_t n = refusal_body(rx->hdr.command_id, result, now_unix(t->p), rx->body, rx->body_len, body, sizeof body);
    if (n)
        answer(t, &rx->hdr, body, n);
}

/* A body whose 0xE040 containers (TLVs under the base key) are opened; owned is freed by the caller. */
typedef struct {
    const uint8_t *data;
    size_t len;
    uint8_t *owned;
} body_view;

static int has_e040(const uint8_t *tlvs, size_t len)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_reader_init(&r, tlvs, len);
    while (wmmp_tlv_next(&r, &t) == WMMP_OK)
        if (t.tag == WMMP_TAG_ENCRYPTED_TLVS)
            return 1;
    return 0;
}

/* Appends the TLVs of one 0xE040 value, decrypted; -1 when it does not decrypt to TLVs. */
static int put_opened(wmmp_writer *w, const wmmp_terminal_keys *keys, const wmmp_tlv *c)
{
    if (c->length == 0)
        return -1;
    return wmmp_put_opened_tlvs(w, keys->base_key, c->value, c->length) == WMMP_OK ? 0 : -1;
}

/* -1: an 0xE040 that does not open (the request is malformed). */
static int open_body(const term *t, const wmmp_rx *rx, body_view *v)
{
    int prefix = wmmp_command_prefix_len(rx->hdr.command_id);
    v->data = rx->body;
    v->len = rx->body_len;
    v->owned = NULL;
    if (prefix < 0 || (size_t)prefix > rx->body_len || wmmp_request_of(rx->hdr.command_id) == WMMP_CMD_FILE_REQ ||
        !has_e040(rx->body + prefix, rx->body_len - (size_t)prefix))
        return 0;
    v->owned = malloc(rx->body_len);
    if (!v->owned)
        return -1;
    wmmp_writer w;
    wmmp_writer_init(&w, v->owned, rx->body_len);
    wmmp_put_bytes(&w, rx->body, (size_t)prefix);
    wmmp_reader r;
    wmmp_tlv c;
    wmmp_reader_init(&r, rx->body + prefix, rx->body_len - (size_t)prefix);
    while (wmmp_tlv_next(&r, &c) == WMMP_OK) {
        if (c.tag != WMMP_TAG_ENCRYPTED_TLVS)
            wmmp_put_bytes(&w, rx->body + prefix + c.offset, WMMP_TLV_HEADER_LEN + c.length);
        else if (put_opened(&w, t->keys, &c) != 0)
            return -1;
    }
    v->data = v->owned;
    v->len = w.len;
    return w.err == WMMP_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- requests from a logged-in terminal */

static void malformed(term *t, const wmmp_rx *rx, const char *why)
{
    t->p->stats.rejected_malformed++;
    emu_logf(t->p->env, EMU_LOG_WARN, "platform: malformed %s from %s: %s", wmmp_command_name(rx->hdr.command_id),
             t->serial, why);
    refuse(t, rx, WMMP_RESULT_MALFORMED);
}

/* Cell (0x3006) and signal level (0x3007, or the paper's 0x0002 when one byte) from status TLVs. */
static void store_status(term *t, const uint8_t *tlvs, size_t len)
{
    int32_t lac = -1, cell = -1, csq = -1;
    wmmp_reader r;
    wmmp_tlv v;
    wmmp_reader_init(&r, tlvs, len);
    while (wmmp_tlv_next(&r, &v) == WMMP_OK) {
        if (v.tag == WMMP_TAG_CELL && v.length == 4) {
            lac = wmmp_load16(v.value);
            cell = wmmp_load16(v.value + 2);
        } else if ((v.tag == WMMP_TAG_SIGNAL_LEVEL || v.tag == WMMP_TAG_APN) && v.length == 1) {
            csq = v.value[0];
        }
    }
    if (record_store_status(t->p->store, t->serial, lac, cell, csq, now_unix(t->p)) != 0)
        emu_logf(t->p->env, EMU_LOG_ERROR, "platform: cannot store the status of %s: %s", t->serial,
                 record_store_error(t->p->store));
}

static void on_heart_beat(term *t, const wmmp_rx *rx, const body_view *b)
{
    if (wmmp_tlv_validate(b->data, b->len, NULL) != WMMP_OK) {
        malformed(t, rx, "TLVs do not parse"); /* no result byte in HEART_BEAT_ACK: dropped */
        return;
    }
    int grouped = group_join(t->p) == 0;
    store_status(t, b->data, b->len); /* last_seen_at, and the radio values it reports */
    if (!grouped || hold_ack(t, &rx->hdr, 0, 0, 0, 0) != 0)
        answer(t, &rx->hdr, NULL, 0);
}

static void on_logout(term *t, const wmmp_rx *rx, const body_view *b)
{
    int reason = b->len >= 1 ? b->data[0] : WMMP_LOGOUT_REASON_NORMAL;
    answer(t, &rx->hdr, NULL, 0);
    end_session(t, reason, "logout");
    schedule_replace(t);
}

/* A health record, stored before it is acknowledged. */
static uint8_t store_record(term *t, const uint8_t *data, size_t len)
{
    platform *p = t->p;
    wmmp_health_record rec;
    wmmp_err e = wmmp_health_decode(data, len, &rec);
    if (e != WMMP_OK) {
        p->stats.rejected_malformed++;
        emu_logf(p->env, EMU_LOG_WARN, "platform: bad health record from %s: %s", t->serial, wmmp_strerror(e));
        return WMMP_RESULT_MALFORMED;
    }
    switch (record_store_put_crc(p->store, t->serial, &rec, wmmp_crc32(data, len), now_unix(p))) {
    case RECORD_STORED:
        p->stats.records_stored++;
        if (++p->records_since_flush >= COUNTER_FLUSH_RECORDS)
            counters_flush(p);
        emu_logf(p->env, EMU_LOG_DEBUG, "platform: record %u of %s stored", (unsigned)rec.record_id, t->serial);
        return WMMP_RESULT_OK;
    case RECORD_DUPLICATE:
        p->stats.records_duplicate++;
        emu_logf(p->env, EMU_LOG_DEBUG, "platform: record %u of %s already stored (sent again): acknowledged again",
                 (unsigned)rec.record_id, t->serial);
        return WMMP_RESULT_OK;
    case RECORD_CONFLICT:
        /* not a resend: another record under an ID already used (e.g. the terminal's spool was replaced).
           Said here and to the terminal, which sends it again under a new ID (docs/PROTOCOL-NOTES.md). */
        p->stats.records_id_reused++;
        emu_logf(p->env, EMU_LOG_WARN, "platform: record %u of %s already stored, with other content: this one "
                 "is not stored; answered result %d (the terminal sends it again under a new record ID)",
                 (unsigned)rec.record_id, t->serial, WMMP_RESULT_REJECTED);
        return WMMP_RESULT_REJECTED;
    default:
        /* not stored: "busy" makes the terminal keep the record and send it again */
        emu_logf(p->env, EMU_LOG_ERROR, "platform: cannot store record %u of %s: %s", (unsigned)rec.record_id,
                 t->serial, record_store_error(p->store));
        return WMMP_RESULT_BUSY;
    }
}

static void on_transparent(term *t, const wmmp_rx *rx, const body_view *b)
{
    wmmp_transparent tr;
    wmmp_reader r;
    wmmp_reader_init(&r, b->data, b->len);
    wmmp_err e = wmmp_transparent_get(&r, &tr);
    if (e != WMMP_OK) {
        malformed(t, rx, wmmp_strerror(e));
        return;
    }
    uint8_t result = WMMP_RESULT_OK;
    if (wmmp_health_is_record(tr.user_data, tr.user_data_len)) {
        platform *p = t->p;
        uint64_t stored = p->stats.records_stored, duplicate = p->stats.records_duplicate;
        int grouped = group_join(p) == 0;
        result = store_record(t, tr.user_data, tr.user_data_len);
        /* in a group, stored (or found) is not yet on disk: the ACK waits for the commit */
        if (grouped && result == WMMP_RESULT_OK &&
            hold_ack(t, &rx->hdr, 1, result, (int)(p->stats.records_stored - stored),
                     (int)(p->stats.records_duplicate - duplicate)) == 0)
            return;
    } else {
        t->p->stats.payloads_other++;
        emu_logf(t->p->env, EMU_LOG_DEBUG, "platform: %zu bytes of other user data from %s", tr.user_data_len,
                 t->serial);
    }
    answer_result(t, &rx->hdr, result);
}

static void on_config_trap(term *t, const wmmp_rx *rx, const body_view *b)
{
    platform *p = t->p;
    if (wmmp_tlv_validate(b->data, b->len, NULL) != WMMP_OK) {
        malformed(t, rx, "TLVs do not parse");
        return;
    }
    wmmp_reader r;
    wmmp_tlv v;
    uint16_t hb;
    store_barrier(p);
    wmmp_reader_init(&r, b->data, b->len);
    while (wmmp_tlv_next(&r, &v) == WMMP_OK) {
        if (v.tag >= 0xE000)
            continue; /* security parameters: never stored */
        if (v.tag == WMMP_TAG_HEARTBEAT_INTERVAL && wmmp_tlv_u16(&v, &hb) == WMMP_OK && hb)
            t->heartbeat_s = hb;
        record_store_config_put(p->store, t->serial, v.tag, v.value, v.length, now_unix(p), "trap");
    }
    store_status(t, b->data, b->len);
    silence_restart(t); /* the interval may have changed */
    answer_result(t, &rx->hdr, WMMP_RESULT_OK);
}

/* Appends the platform's value of tag; 0 when it has none. */
static int put_config_value(term *t, wmmp_writer *w, uint16_t tag)
{
    const platform *p = t->p;
    uint32_t timeout_s = (uint32_t)(p->cfg.link.response_timeout_ms / 1000);
    switch (tag) {
    case WMMP_TAG_REPORT_PERIOD:
        wmmp_put_tlv_u32(w, tag, t->heartbeat_s);
        return 1;
    case WMMP_TAG_HEARTBEAT_INTERVAL:
        wmmp_put_tlv_u16(w, tag, t->heartbeat_s);
        return 1;
    case WMMP_TAG_RESPONSE_TIMEOUT:
        wmmp_put_tlv_u32(w, tag, timeout_s ? timeout_s : 1);
        return 1;
    case WMMP_TAG_RETRY_COUNT:
        wmmp_put_tlv_u8(w, tag, (uint8_t)(p->cfg.link.retries > 255 ? 255 : p->cfg.link.retries));
        return 1;
    case WMMP_TAG_SYSTEM_TIME:
        wmmp_put_tlv_u32(w, tag, now_unix(p));
        return 1;
    case WMMP_TAG_PLATFORM_IP:
        if (p->cfg.platform_ipv4)
            wmmp_put_tlv_u32(w, tag, p->cfg.platform_ipv4);
        return p->cfg.platform_ipv4 != 0;
    case WMMP_TAG_PLATFORM_PORT:
        if (p->cfg.platform_port)
            wmmp_put_tlv_u32(w, tag, p->cfg.platform_port);
        return p->cfg.platform_port != 0;
    default:
        return 0;
    }
}

/* CONFIG_REQ: the values it knows; result 8 and the others listed with length 0 when some are unknown. */
static void on_config_req(term *t, const wmmp_rx *rx, const body_view *b)
{
    uint16_t tags[MAX_REQ_TAGS], unknown[MAX_REQ_TAGS];
    size_t n = 0, n_unknown = 0;
    wmmp_reader r;
    wmmp_reader_init(&r, b->data, b->len);
    wmmp_err e = wmmp_tag_list_get(&r, tags, MAX_REQ_TAGS, &n);
    if (e != WMMP_OK) {
        malformed(t, rx, wmmp_strerror(e));
        return;
    }
    uint8_t *body = malloc(1 + n * 8 + 16);
    if (!body)
        return;
    wmmp_writer w;
    wmmp_writer_init(&w, body, 1 + n * 8 + 16);
    wmmp_put_u8(&w, WMMP_RESULT_OK);
    for (size_t i = 0; i < n; i++)
        if (!put_config_value(t, &w, tags[i]))
            unknown[n_unknown++] = tags[i];
    if (n_unknown) {
        body[0] = WMMP_RESULT_REJECTED;
        wmmp_put_tag_list(&w, unknown, n_unknown);
    }
    if (w.err == WMMP_OK)
        answer(t, &rx->hdr, body, w.len);
    free(body);
}

static void send_file_ack(term *t, const wmmp_header *req, uint32_t tx, uint8_t status, uint32_t offset,
                          const uint8_t *data, uint16_t len)
{
    uint8_t *body = malloc(16 + (size_t)len);
    if (!body)
        return;
    wmmp_writer w;
    wmmp_file_ack fa = { tx, status, 0, offset, len, data };
    wmmp_writer_init(&w, body, 16 + (size_t)len);
    if (wmmp_file_ack_put(&w, &fa) == WMMP_OK)
        answer(t, req, body, w.len);
    free(body);
}

/* FILE_REQ: the block at offset, status 2 with the block that reaches the end (or past it, empty). */
static void on_file_req(term *t, const wmmp_rx *rx, const body_view *b)
{
    platform *p = t->p;
    wmmp_file_req fr;
    wmmp_reader r;
    wmmp_reader_init(&r, b->data, b->len);
    if (wmmp_file_req_get(&r, &fr) != WMMP_OK || wmmp_reader_left(&r)) {
        malformed(t, rx, "not a FILE_REQ body"); /* FILE_REQ_ACK with status 3 (abort) */
        return;
    }
    if (!p->fw || fr.status == WMMP_FILE_STATUS_ABORT || fr.status == WMMP_FILE_STATUS_COMPLETE) {
        uint8_t status = p->fw && fr.status == WMMP_FILE_STATUS_COMPLETE ? WMMP_FILE_STATUS_COMPLETE : WMMP_FILE_STATUS_ABORT;
        emu_logf(p->env, EMU_LOG_INFO, "platform: firmware transfer %u to %s: %s", (unsigned)fr.transaction_id,
                 t->serial, !p->fw ? "no firmware to serve" : fr.status == WMMP_FILE_STATUS_ABORT ? "aborted" : "complete");
        send_file_ack(t, &rx->hdr, fr.transaction_id, status, fr.offset, NULL, 0);
        return;
    }
    size_t left = fr.offset < p->fw_len ? p->fw_len - fr.offset : 0;
    size_t n = fr.block_size ? fr.block_size : FILE_BLOCK_CAP;
    if (n > FILE_BLOCK_CAP)
        n = FILE_BLOCK_CAP;
    if (n > left)
        n = left;
    uint8_t status = n == left ? WMMP_FILE_STATUS_COMPLETE : WMMP_FILE_STATUS_BLOCK;
    send_file_ack(t, &rx->hdr, fr.transaction_id, status, fr.offset, n ? p->fw + fr.offset : NULL, (uint16_t)n);
}

/* A SECURITY_CONFIG from the terminal: acknowledged; its TLVs (passwords, keys) are neither stored nor logged. */
static void on_security_config(term *t, const wmmp_rx *rx, const body_view *b)
{
    if (b->len < 1 || wmmp_tlv_validate(b->data + 1, b->len - 1, NULL) != WMMP_OK) {
        malformed(t, rx, "not a SECURITY_CONFIG body");
        return;
    }
    emu_logf(t->p->env, EMU_LOG_INFO, "platform: SECURITY_CONFIG operation %u from %s", (unsigned)b->data[0],
             t->serial);
    answer_result(t, &rx->hdr, WMMP_RESULT_OK);
}

static void dispatch(term *t, const wmmp_rx *rx, const body_view *b)
{
    switch (wmmp_request_of(rx->hdr.command_id)) {
    case WMMP_CMD_HEART_BEAT:
        on_heart_beat(t, rx, b);
        break;
    case WMMP_CMD_LOGOUT:
        on_logout(t, rx, b);
        break;
    case WMMP_CMD_TRANSPARENT_DATA:
    case WMMP_CMD_TRANSPARENT_CMD:
        on_transparent(t, rx, b);
        break;
    case WMMP_CMD_CONFIG_TRAP:
        on_config_trap(t, rx, b);
        break;
    case WMMP_CMD_CONFIG_REQ:
        on_config_req(t, rx, b);
        break;
    case WMMP_CMD_FILE_REQ:
        on_file_req(t, rx, b);
        break;
    case WMMP_CMD_SECURITY_CONFIG:
        on_security_config(t, rx, b);
        break;
    default: /* commands only a platform sends */
        malformed(t, rx, "a request the platform does not take");
        break;
    }
}

/* ---------------------------------------------------------------- LOGIN */

/*
 * A refused LOGIN. The link signs a LOGIN_ACK with the timestamp in its body and never encrypts it, so the
 * refusal touches no session state; outside a session it is signed when the LOGIN was.
 */
static void refuse_login(term *t, const wmmp_rx *rx, uint8_t result, const char *why)
{
    platform *p = t->p;
    t->p->stats.logins_refused++;
    emu_logf(p->env, EMU_LOG_WARN, "platform: login of %s refused (result %u): %s", t->serial, (unsigned)result,
             why);
    if (!t->logged_in)
        wmmp_link_set_security(t->link, rx->has_digest ? WMMP_SEC_DIGEST : WMMP_SEC_PLAIN);
    refuse(t, rx, result);
}

/* What the terminal asks for (profile section 3): 0x00 plain, 0xA0 digest, 0xE0 encrypted. */
static wmmp_security_level login_level(const platform *p, const wmmp_rx *rx)
{
    uint8_t flag = rx->hdr.safe_flag;
    if (flag & WMMP_FLAG_ENCRYPTION)
        return p->cfg.security >= WMMP_SEC_ENCRYPTED ? WMMP_SEC_ENCRYPTED : WMMP_SEC_DIGEST;
    return rx->has_digest ? WMMP_SEC_DIGEST : WMMP_SEC_PLAIN;
}

/* LOGIN_ACK body: result 0, timestamp, heartbeat interval, and the session key when encrypting. */
static wmmp_err login_ack_body(term *t, wmmp_writer *w, uint32_t ts, const uint8_t *session_key)
{
    wmmp_login_ack la = { WMMP_RESULT_OK, ts };
    wmmp_login_ack_put(w, &la);
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, t->heartbeat_s);
    if (!session_key)
        return w->err;
    uint8_t plain[2 * WMMP_TLV_HEADER_LEN + WMMP_SESSION_KEY_LEN + 4];
    wmmp_writer pw;
    wmmp_writer_init(&pw, plain, sizeof plain);
    wmmp_put_tlv(&pw, WMMP_TAG_SESSION_KEY, session_key, WMMP_SESSION_KEY_LEN);
    wmmp_put_tlv_u32(&pw, WMMP_TAG_SESSION_KEY_EXPIRY, ts + SESSION_KEY_LIFETIME_S);
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, t->keys->base_key, plain, pw.len);
    memset(plain, 0, sizeof plain);
    return w->err;
}

static int login_body_ok(const wmmp_rx *rx)
{
    wmmp_login lg;
    wmmp_reader r;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    if (wmmp_login_get(&r, &lg) != WMMP_OK)
        return 0;
    return wmmp_tlv_validate(r.buf + r.pos, wmmp_reader_left(&r), NULL) == WMMP_OK;
}

static void start_session(term *t, const wmmp_rx *rx, uint32_t ts)
{
    platform *p = t->p;
    t->logged_in = 1;
    t->session_ts = ts;
    store_barrier(p);
    if (record_store_session_begin(p->store, t->serial, ts, &t->session_id) != 0) {
        t->session_id = -1;
        emu_logf(p->env, EMU_LOG_ERROR, "platform: cannot record the session of %s: %s", t->serial,
                 record_store_error(p->store));
    }
    if (rx->body_len > 12)
        store_status(t, rx->body + 12, rx->body_len - 12);
    p->stats.logins++;
    silence_restart(t);
    emu_logf(p->env, EMU_LOG_INFO, "platform: %s logged in (session %lld, %s, heartbeat %u s)", t->serial,
             (long long)t->session_id, level_name(t->level), (unsigned)t->heartbeat_s);
}

/*
 * Profile section 7 signs LOGIN with timestamp 0, so a recorded LOGIN would verify forever: a signed one must
 * carry System time (0x3009, under the digest) within LOGIN_WINDOW_S of the clock and newer than the last
 * LOGIN accepted from this terminal (docs/PROTOCOL-NOTES.md). NULL when fresh, else why not.
 */
static const char *login_stale(const term *t, const wmmp_rx *rx, uint32_t *at)
{
    wmmp_tlv v;
    uint32_t now = now_unix(t->p);
    if (!rx->has_digest)
        return NULL; /* a plain LOGIN proves nothing anyway (only a plain platform takes it) */
    if (wmmp_tlv_find(rx->body + 12, rx->body_len - 12, WMMP_TAG_SYSTEM_TIME, &v) != WMMP_OK ||
        wmmp_tlv_u32(&v, at) != WMMP_OK)
        return "no System time (0x3009): cannot tell it from a replay";
    if (*at > now + LOGIN_WINDOW_S || *at + LOGIN_WINDOW_S < now)
        return "System time outside the accepted window (a replay, or a clock off by minutes)";
    /* the same second is fine for another LOGIN (a terminal restarted at once starts its Sequence_IDs again;
       one process never sends two in a second), not for a copy of the last one */
    int32_t age = (int32_t)(t->login_time - *at);
    if (t->login_time && (age > 0 || (age == 0 && rx->hdr.sequence_id == t->login_seq)))
        return "older than the last LOGIN accepted, or a copy of it (a replay)";
    return NULL;
}

static void on_login(term *t, const wmmp_rx *rx)
{
    platform *p = t->p;
    if (p->shutting_down) {
        refuse_login(t, rx, WMMP_RESULT_BUSY, "platform shutting down");
        return;
    }
    if (!login_body_ok(rx)) {
        p->stats.rejected_malformed++;
        refuse_login(t, rx, WMMP_RESULT_MALFORMED, "malformed LOGIN body");
        return;
    }
    if (rx->has_digest ? !rx->digest_ok : p->cfg.security != WMMP_SEC_PLAIN) {
        p->stats.rejected_bad_digest++;
        refuse_login(t, rx, WMMP_RESULT_AUTH_FAILED, rx->has_digest ? "bad digest" : "no digest");
        return;
    }
    uint32_t at = 0;
    const char *stale = login_stale(t, rx, &at);
    if (stale) {
        p->stats.logins_stale++;
        refuse_login(t, rx, WMMP_RESULT_AUTH_FAILED, stale);
        return;
    }
    if (rx->has_digest) {
        t->login_time = at;
        t->login_seq = rx->hdr.sequence_id;
        trust_sender(t); /* a fresh signed LOGIN: its answer may carry the session key */
    }
    if (t->logged_in)
        end_session(t, WMMP_LOGOUT_REASON_NORMAL, "relogin");
    /* requests of an earlier session (a LOGOUT after a failure, say) would end or confuse this one */
    if (wmmp_link_pending(t->link))
        wmmp_link_reset(t->link);
    t->link_stale = 0; /* this link carries the new session */
    t->level = login_level(p, rx);
    t->heartbeat_s = default_heartbeat(p);
    uint32_t ts = now_unix(p);
    uint8_t key[WMMP_SESSION_KEY_LEN], body[64];
    p->env->secret_bytes(p->env->ctx, key, sizeof key); /* drawn for every LOGIN: offline runs stay alike */
    const uint8_t *session_key = t->level >= WMMP_SEC_ENCRYPTED ? key : NULL;
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    login_ack_body(t, &w, ts, session_key);
    /* the LOGIN_ACK is signed with its own timestamp and never encrypted; the key applies after it */
    wmmp_link_set_session_key(t->link, NULL);
    wmmp_link_set_security(t->link, t->level);
    wmmp_link_set_timestamp(t->link, ts);
    answer(t, &rx->hdr, body, w.len);
    if (session_key)
        wmmp_link_set_session_key(t->link, session_key);
    memset(key, 0, sizeof key);
    memset(body, 0, sizeof body);
    t->rx_valid = 1; /* a plain LOGIN too: its session lives at its address (but its answer was limited) */
    t->last_seq = rx->hdr.sequence_id;
    start_session(t, rx, ts);
}

/* ---------------------------------------------------------------- link callbacks */

static int digest_acceptable(const term *t, const wmmp_rx *rx)
{
    if (rx->has_digest)
        return rx->digest_ok;
    return t->level == WMMP_SEC_PLAIN;
}

/* FULL and ENCRYPTED look alike at LOGIN: a fully encrypted message from the terminal decides. */
static void follow_encryption(term *t, const wmmp_rx *rx)
{
    if (rx->decrypted && t->level == WMMP_SEC_ENCRYPTED) {
        t->level = WMMP_SEC_FULL;
        wmmp_link_set_security(t->link, WMMP_SEC_FULL);
        emu_logf(t->p->env, EMU_LOG_INFO, "platform: %s sends fully encrypted messages; answering alike", t->serial);
    }
}

static void not_logged_in(term *t, const wmmp_rx *rx)
{
    uint16_t cmd = wmmp_request_of(rx->hdr.command_id);
    t->p->stats.rejected_not_logged_in++;
    emu_logf(t->p->env, EMU_LOG_DEBUG, "platform: %s from %s, which is not logged in", wmmp_command_name(cmd),
             t->serial);
    if (cmd == WMMP_CMD_LOGOUT)
        answer(t, &rx->hdr, NULL, 0); /* nothing to end: let it finish */
    else
        refuse(t, rx, WMMP_RESULT_NOT_LOGGED_IN); /* HEART_BEAT: no result byte, dropped */
}

static void bad_digest(term *t, const wmmp_rx *rx)
{
    t->p->stats.rejected_bad_digest++;
    emu_logf(t->p->env, EMU_LOG_WARN, "platform: %s from %s: %s", wmmp_command_name(rx->hdr.command_id), t->serial,
             rx->has_digest ? "bad digest" : "digest missing");
    refuse(t, rx, WMMP_RESULT_AUTH_FAILED);
}

static void on_session_request(term *t, const wmmp_rx *rx);

static void on_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    term *t = user;
    (void)l;
    uint16_t cmd = wmmp_request_of(rx->hdr.command_id);
    if (cmd == WMMP_CMD_LOGIN)
        on_login(t, rx);
    else if (!t->logged_in)
        not_logged_in(t, rx);
    else if (!digest_acceptable(t, rx))
        bad_digest(t, rx);
    else
        on_session_request(t, rx);
}

/* A request of a logged-in terminal whose digest is right. */
static void on_session_request(term *t, const wmmp_rx *rx)
{
    platform *p = t->p;
    /* from elsewhere, a signed request proves its sender only when newer than the session's last one: an older
       Sequence_ID is a replay (copies of recent ones never get here: the link answers them, or not), dropped */
    int newer = (int32_t)(rx->hdr.sequence_id - t->last_seq) > 0;
    if (rx->has_digest && !p->rx_from_session && !newer) {
        p->stats.replays_dropped++;
        emu_logf(p->env, EMU_LOG_DEBUG, "platform: %s %u of %s from another address: an old one, dropped",
                 wmmp_command_name(rx->hdr.command_id), (unsigned)rx->hdr.sequence_id, t->serial);
        return;
    }
    follow_encryption(t, rx);
    if (rx->has_digest) {
        trust_sender(t);
        if (newer)
            t->last_seq = rx->hdr.sequence_id;
    } else {
        t->rx_valid = 1; /* plain session: it follows its terminal's address, untrusted answers stay limited */
        if (p->rx_from_session)
            p->rx_trusted = 1;
    }
    silence_restart(t);
    body_view b;
    if (open_body(t, rx, &b) != 0)
        malformed(t, rx, "an 0xE040 container does not decrypt");
    else
        dispatch(t, rx, &b);
    free(b.owned);
}

static void log_ack_result(term *t, const wmmp_rx *rx, uint8_t result)
{
    const char *name = wmmp_result_name(result);
    emu_logf(t->p->env, result ? EMU_LOG_WARN : EMU_LOG_INFO, "platform: %s from %s: result %u (%s)",
             wmmp_command_name(rx->hdr.command_id), t->serial, (unsigned)result, name ? name : "unknown");
}

/* CONFIG_GET_ACK: the values go to the config table (security parameters excepted). */
static void store_config_values(term *t, const uint8_t *tlvs, size_t len)
{
    wmmp_reader r;
    wmmp_tlv v;
    store_barrier(t->p);
    wmmp_reader_init(&r, tlvs, len);
    while (wmmp_tlv_next(&r, &v) == WMMP_OK)
        if (v.tag < 0xE000 && v.length)
            record_store_config_put(t->p->store, t->serial, v.tag, v.value, v.length, now_unix(t->p), "get");
}

/* The platform's LOGOUT was answered or given up: the session it was for ends, then the link is renewed. */
static void logout_done(term *t)
{
    t->logout_pending = 0;
    if (t->logged_in && t->session_id == t->logout_session)
        end_session(t, WMMP_LOGOUT_REASON_SHUTDOWN, "shutdown");
    if (!t->logged_in)
        schedule_replace(t);
}

static void on_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *req_ctx)
{
    term *t = user;
    (void)l;
    req_kind kind = ctx_kind(req_ctx);
    if (!digest_acceptable(t, rx)) {
        t->p->stats.rejected_bad_digest++;
        emu_logf(t->p->env, EMU_LOG_WARN, "platform: %s from %s: bad digest, ignored",
                 wmmp_command_name(rx->hdr.command_id), t->serial);
        if (kind == REQ_LOGOUT)
            logout_done(t);
        return;
    }
    trust_sender(t); /* the link matched it to our outstanding request, at the session's class */
    follow_encryption(t, rx);
    if (t->logged_in)
        silence_restart(t);
    if (kind == REQ_LOGOUT) {
        logout_done(t);
        return;
    }
    if (rx->body_len < 1) {
        t->p->stats.rejected_malformed++;
        return;
    }
    uint8_t result = rx->body[0];
    log_ack_result(t, rx, result);
    if (kind == REQ_CONFIG_GET)
        store_config_values(t, rx->body + 1, rx->body_len - 1);
    if (kind == REQ_CONFIG_SET && result == WMMP_RESULT_OK && t->pending_heartbeat_s) {
        t->heartbeat_s = t->pending_heartbeat_s;
        silence_restart(t);
    }
    if (kind == REQ_CONFIG_SET)
        t->pending_heartbeat_s = 0;
}

static void on_request_failed(void *user, wmmp_link *l, uint16_t command_id, uint32_t sequence, void *req_ctx)
{
    term *t = user;
    (void)l;
    emu_logf(t->p->env, EMU_LOG_WARN, "platform: %s %u to %s was never acknowledged", wmmp_command_name(command_id),
             (unsigned)sequence, t->serial);
    if (ctx_kind(req_ctx) == REQ_LOGOUT)
        logout_done(t);
    else if (ctx_kind(req_ctx) == REQ_CONFIG_SET)
        t->pending_heartbeat_s = 0;
}

/* Communication failure (profile section 9): LOGOUT reason 1, once, and the session is over. */
static void on_failure(void *user, wmmp_link *l)
{
    term *t = user;
    (void)l;
    if (!t->logged_in || t->logout_pending)
        return;
    t->p->stats.comm_failures++;
    emu_logf(t->p->env, EMU_LOG_WARN, "platform: communication failure with %s", t->serial);
    if (send_logout(t, WMMP_LOGOUT_REASON_COMM_FAILURE) != 0)
        schedule_replace(t);
    end_session(t, WMMP_LOGOUT_REASON_COMM_FAILURE, "failure");
}

/*
 * A message the link could not use (framing, flag/content, decryption, fragments, an ACK matching nothing).
 * A request of a logged-in terminal is answered (5, or 4 for a version) only when its digest proves it
 * came from the terminal: an ACK sent through the link is also what the link repeats for that
 * Sequence_ID, and a corrupted or forged copy must not decide the answer to the real request.
 */
static void on_rejected(void *user, wmmp_link *l, const uint8_t *msg, size_t len, wmmp_err why)
{
    term *t = user;
    (void)l;
    wmmp_header h;
    if (why == WMMP_ERR_DIGEST_MISMATCH || why == WMMP_ERR_DIGEST_MISSING)
        t->p->stats.rejected_bad_digest++;
    else
        t->p->stats.rejected_malformed++;
    emu_logf(t->p->env, EMU_LOG_DEBUG, "platform: unusable message from %s: %s", t->serial, wmmp_strerror(why));
    if (!t->logged_in || wmmp_header_decode(msg, len, &h) != WMMP_OK || h.total_length != len ||
        wmmp_is_ack(h.command_id) || !wmmp_command_lookup(h.command_id) || !ack_has_result(h.command_id) ||
        !(h.safe_flag & WMMP_FLAG_DIGEST) ||
        (h.safe_flag & (WMMP_FLAG_ENCRYPTED_OR_FRAGMENT | WMMP_FLAG_ENCRYPTION)) == WMMP_FLAG_ENCRYPTED_OR_FRAGMENT ||
        wmmp_digest_verify(msg, len, t->session_ts, t->keys, WMMP_UPLINK) != WMMP_OK)
        return; /* dropped: not answerable, not provably the terminal's, or a fragment (the link's business) */
    uint8_t body[32];
    size_t n = refusal_body(h.command_id, why == WMMP_ERR_BAD_VERSION ? 4 : WMMP_RESULT_MALFORMED, now_unix(t->p),
                            msg + WMMP_HEADER_LEN, len - WMMP_HEADER_LEN, body, sizeof body);
    if (n)
        answer(t, &h, body, n);
}

/* ---------------------------------------------------------------- receiving */

/* REGISTER: by IMEI (the keys file decides the serial), answered outside any link. */
static void on_register(platform *p, emu_peer *from, const uint8_t *msg, size_t len, const wmmp_header *h)
{
    wmmp_message m;
    wmmp_register reg;
    wmmp_reader r;
    uint8_t body[32];
    uint8_t result = WMMP_RESULT_OK;
    const wmmp_terminal_keys *keys = NULL;
    if (wmmp_message_parse(msg, len, &m) != WMMP_OK) {
        result = WMMP_RESULT_MALFORMED;
    } else {
        wmmp_reader_init(&r, m.body, m.body_len);
        if (wmmp_register_get(&r, &reg) != WMMP_OK || wmmp_tlv_validate(r.buf + r.pos, wmmp_reader_left(&r), NULL))
            result = WMMP_RESULT_MALFORMED;
        else if (p->shutting_down)
            result = WMMP_RESULT_BUSY;
        else if (!(keys = wmmp_keyring_find_imei(p->cfg.keys, reg.imei)))
            result = WMMP_RESULT_UNKNOWN_TERMINAL;
        else if (strcmp(keys->imsi, reg.imsi) != 0 ||
                 (m.digest && wmmp_digest_verify(msg, m.hdr.total_length, 0, keys, WMMP_UPLINK) != WMMP_OK))
            result = WMMP_RESULT_AUTH_FAILED;
    }
    if (result == WMMP_RESULT_MALFORMED)
        p->stats.rejected_malformed++;
    else if (result == WMMP_RESULT_UNKNOWN_TERMINAL)
        p->stats.rejected_unknown_terminal++;
    else if (result == WMMP_RESULT_AUTH_FAILED)
        p->stats.rejected_bad_digest++;
    wmmp_writer w;
    wmmp_register_ack ra = { result, "" };
    if (result == WMMP_RESULT_OK)
        memcpy(ra.serial, keys->serial, sizeof ra.serial);
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_register_ack_put(&w, &ra);
    term *t = result == WMMP_RESULT_OK ? term_get(p, keys) : NULL;
    if (t && !(t->have_register && t->register_seq == h->sequence_id)) {
        t->have_register = 1;
        t->register_seq = h->sequence_id;
        p->stats.registrations++;
        store_barrier(p);
        if (record_store_register(p->store, t->serial, keys->imei, keys->imsi, now_unix(p)) != 0)
            emu_logf(p->env, EMU_LOG_ERROR, "platform: cannot record the registration of %s: %s", t->serial,
                     record_store_error(p->store));
        emu_logf(p->env, EMU_LOG_INFO, "platform: IMEI %s registered as %s", keys->imei, t->serial);
    } else if (result != WMMP_RESULT_OK) {
        emu_logf(p->env, EMU_LOG_WARN, "platform: REGISTER refused (result %u)", (unsigned)result);
    }
    /* REGISTER is unsigned and IMEI/IMSI are no secret: it must not move (or keep alive) a running session,
       whose address only its own signed messages set (docs/RELIABILITY.md) */
    if (t && !t->logged_in)
        wmmp_link_set_peer(t->link, from);
    send_direct(p, from, h, body, w.len);
}

/* A terminal the keys file does not know (or without a serial): refused in the ACK when it has a result. */
static void on_stranger(platform *p, emu_peer *from, const wmmp_header *h, const uint8_t *body)
{
    char serial[WMMP_SERIAL_LEN + 1];
    uint16_t cmd = wmmp_request_of(h->command_id);
    int unregistered = serial_is_zero(h->terminal_serial);
    p->stats.rejected_unknown_terminal++;
    printable_serial(h->terminal_serial, serial);
    if (cmd == WMMP_CMD_LOGIN && !wmmp_is_ack(h->command_id)) {
        p->stats.logins_refused++;
        emu_logf(p->env, EMU_LOG_WARN, "platform: login of %s refused: %s", serial,
                 unregistered ? "not registered" : "unknown terminal");
    } else {
        emu_logf(p->env, EMU_LOG_DEBUG, "platform: %s from unknown terminal %s", wmmp_command_name(h->command_id),
                 serial);
    }
    if (wmmp_is_ack(h->command_id))
        return;
    uint8_t result = cmd == WMMP_CMD_LOGIN && unregistered ? WMMP_RESULT_NOT_REGISTERED : WMMP_RESULT_UNKNOWN_TERMINAL;
    uint8_t ack[32];
    size_t n = refusal_body(cmd, result, now_unix(p), body, h->total_length - WMMP_HEADER_LEN, ack, sizeof ack);
    if (n)
        send_direct(p, from, h, ack, n);
}

/* Through the terminal's link; the source becomes its peer only when the message was good. */
static void deliver(term *t, emu_peer *from, const uint8_t *msg, size_t len)
{
    if (t->link_stale)
        replace_link(t);
    t->p->rx_from_session = from == wmmp_link_peer(t->link);
    t->rx_valid = 0;
    wmmp_link_receive_from(t->link, from, msg, len); /* answers go where the request came from */
    if (t->rx_valid)
        wmmp_link_set_peer(t->link, from);
    if (t->link_stale)
        replace_link(t);
}

static void receive(platform *p, emu_peer *from, const uint8_t *msg, size_t len);

void platform_receive(platform *p, emu_peer *from, const uint8_t *msg, size_t len)
{
    p->rx_from = from;
    p->rx_from_session = 0;
    p->rx_trusted = 0;
    p->rx_budget = len;
    receive(p, from, msg, len);
    p->rx_from = NULL;
}

static void receive(platform *p, emu_peer *from, const uint8_t *msg, size_t len)
{
    wmmp_header h;
    p->stats.messages_received++;
    if (!msg || wmmp_header_decode(msg, len, &h) != WMMP_OK || !wmmp_command_lookup(h.command_id)) {
        p->stats.rejected_malformed++; /* nothing to answer with */
        emu_logf(p->env, EMU_LOG_DEBUG, "platform: dropped %zu bytes that are not a WMMP message", len);
        return;
    }
    if (h.command_id == WMMP_CMD_REGISTER) {
        on_register(p, from, msg, len, &h);
        return;
    }
    const wmmp_terminal_keys *keys =
        serial_is_zero(h.terminal_serial) ? NULL : wmmp_keyring_find_serial(p->cfg.keys, h.terminal_serial);
    if (!keys) {
        on_stranger(p, from, &h, msg + WMMP_HEADER_LEN);
        return;
    }
    term *t = term_get(p, keys);
    if (!t) {
        emu_logf(p->env, EMU_LOG_ERROR, "platform: out of memory");
        return;
    }
    deliver(t, from, msg, len);
}

void platform_peer_closed(platform *p, emu_peer *peer)
{
    for (guint i = 0; i < p->terms->len; i++) {
        term *t = g_ptr_array_index(p->terms, i);
        if (wmmp_link_peer(t->link) == peer)
            wmmp_link_set_peer(t->link, NULL);
    }
}

/* ---------------------------------------------------------------- shutdown */

void platform_shutdown(platform *p)
{
    size_t n = 0;
    p->shutting_down = 1;
    store_barrier(p);
    for (guint i = 0; i < p->terms->len; i++) {
        term *t = g_ptr_array_index(p->terms, i);
        if (!t->logged_in || t->logout_pending)
            continue;
        wmmp_link_reset(t->link); /* the LOGOUT goes first; nothing else is worth waiting for */
        if (send_logout(t, WMMP_LOGOUT_REASON_SHUTDOWN) != 0)
            end_session(t, WMMP_LOGOUT_REASON_SHUTDOWN, "shutdown");
        n++;
    }
    emu_logf(p->env, EMU_LOG_INFO, "platform: shutting down, logging out %zu terminal(s)", n);
    counters_flush(p);
}

int platform_idle(const platform *p)
{
    if (p->n_deferred > 0 || record_store_batch_open(p->store))
        return 0;
    for (guint i = 0; i < p->terms->len; i++) {
        const term *t = g_ptr_array_index(p->terms, i);
        if (t->logged_in || t->logout_pending || wmmp_link_pending(t->link))
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- platform-initiated commands */

static term *session_of(platform *p, const char *serial)
{
    term *t = serial ? term_find(p, serial) : NULL;
    return t && t->logged_in && !t->logout_pending ? t : NULL;
}

/* Sends body built in w (heap buffer buf) as cmd; frees buf. */
static int send_built(term *t, uint16_t cmd, uint8_t *buf, const wmmp_writer *w, req_kind kind)
{
    int rc = w->err == WMMP_OK ? send_request(t, cmd, buf, w->len, kind) : -1;
    free(buf);
    return rc;
}

int platform_config_get(platform *p, const char *serial, const uint16_t *tags, size_t n)
{
    term *t = session_of(p, serial);
    if (!t || (n && !tags))
        return -1;
    uint8_t *buf = malloc(n * WMMP_TLV_HEADER_LEN + 1);
    if (!buf)
        return -1;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, n * WMMP_TLV_HEADER_LEN + 1);
    wmmp_put_tag_list(&w, tags, n);
    emu_logf(p->env, EMU_LOG_INFO, "platform: CONFIG_GET of %zu tag(s) to %s", n, serial);
    return send_built(t, WMMP_CMD_CONFIG_GET, buf, &w, REQ_CONFIG_GET);
}

int platform_config_set(platform *p, const char *serial, const uint8_t *tlvs, size_t len)
{
    term *t = session_of(p, serial);
    if (!t || (len && !tlvs) || wmmp_tlv_validate(tlvs, len, NULL) != WMMP_OK)
        return -1;
    wmmp_tlv v;
    uint16_t hb = 0;
    if (wmmp_tlv_find(tlvs, len, WMMP_TAG_HEARTBEAT_INTERVAL, &v) == WMMP_OK)
        wmmp_tlv_u16(&v, &hb);
    if (send_request(t, WMMP_CMD_CONFIG_SET, tlvs, len, REQ_CONFIG_SET) != 0)
        return -1;
    t->pending_heartbeat_s = hb; /* applied when the terminal accepts it */
    emu_logf(p->env, EMU_LOG_INFO, "platform: CONFIG_SET of %zu bytes to %s", len, serial);
    return 0;
}

int platform_remote_ctrl(platform *p, const char *serial, uint8_t command)
{
    term *t = session_of(p, serial);
    if (!t)
        return -1;
    uint8_t body[8];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tlv_u8(&w, WMMP_TAG_REMOTE_CTRL_CMD, command);
    const char *name = wmmp_remote_cmd_name(command);
    emu_logf(p->env, EMU_LOG_INFO, "platform: REMOTE_CTRL %u (%s) to %s", (unsigned)command, name ? name : "?",
             serial);
    return send_request(t, WMMP_CMD_REMOTE_CTRL, body, w.len, REQ_REMOTE_CTRL);
}

int platform_download_info(platform *p, const char *serial)
{
    term *t = session_of(p, serial);
    if (!t || !p->fw)
        return -1;
    size_t cap = 128 + strlen(p->fw_name) + strlen(p->fw_version);
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    char url[256];
    snprintf(url, sizeof url, "wmmp://platform/%s", p->fw_name);
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    wmmp_put_tlv_u8(&w, WMMP_TAG_UPDATE_MODE, 0);
    wmmp_put_tlv_str(&w, WMMP_TAG_UPDATE_URL, url);
    wmmp_put_tlv_str(&w, WMMP_TAG_FIRMWARE_VERSION_NEW, p->fw_version);
    wmmp_put_tlv_u32(&w, WMMP_TAG_FIRMWARE_LENGTH, (uint32_t)p->fw_len);
    wmmp_put_tlv_u32(&w, WMMP_TAG_FIRMWARE_CRC32, wmmp_crc32(p->fw, p->fw_len));
    wmmp_put_tlv_u32(&w, WMMP_TAG_UPDATE_TRANSACTION, p->env->random(p->env->ctx));
    wmmp_put_tlv_u8(&w, WMMP_TAG_FORCE_UPDATE, 1);
    emu_logf(p->env, EMU_LOG_INFO, "platform: DOWNLOAD_INFO %s (%zu bytes, version %s) to %s", url, p->fw_len,
             p->fw_version, serial);
    return send_built(t, WMMP_CMD_DOWNLOAD_INFO, buf, &w, REQ_DOWNLOAD_INFO);
}

int platform_security_config(platform *p, const char *serial, uint8_t operation, const uint8_t *tlvs, size_t len)
{
    term *t = session_of(p, serial);
    if (!t || (len && !tlvs) || wmmp_tlv_validate(tlvs, len, NULL) != WMMP_OK)
        return -1;
    size_t cap = 1 + WMMP_TLV_HEADER_LEN + wmmp_cipher_len(len) + len;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    wmmp_put_u8(&w, operation);
    /* passwords and keys travel under the base key unless the whole body is encrypted anyway */
    if (t->level == WMMP_SEC_ENCRYPTED && len)
        wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_TLVS, t->keys->base_key, tlvs, len);
    else
        wmmp_put_bytes(&w, tlvs, len);
    emu_logf(p->env, EMU_LOG_INFO, "platform: SECURITY_CONFIG operation %u to %s", (unsigned)operation, serial);
    int rc = w.err == WMMP_OK ? send_request(t, WMMP_CMD_SECURITY_CONFIG, buf, w.len, REQ_SECURITY_CONFIG) : -1;
    memset(buf, 0, cap);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- life cycle */

const platform_stats *platform_get_stats(const platform *p) { return &p->stats; }

size_t platform_sessions(const platform *p)
{
    size_t n = 0;
    for (guint i = 0; i < p->terms->len; i++)
        n += ((const term *)g_ptr_array_index(p->terms, i))->logged_in != 0;
    return n;
}

static int load_firmware(platform *p, const char *path, char *err, size_t err_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char why[256];
    if (emu_file_read(path, &data, &len, why, sizeof why) != 0) {
        snprintf(err, err_len, "firmware %s: %s", path, why);
        return -1;
    }
    if (len > UINT32_MAX) {
        snprintf(err, err_len, "firmware %s: larger than 4 GiB", path);
        free(data);
        return -1;
    }
    p->fw = data;
    gchar *base = g_path_get_basename(path);
    p->fw_name = strdup(base);
    g_free(base);
    p->fw_len = len;
    if (!p->fw || !p->fw_name) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

platform *platform_new(const emu_env *env, const platform_config *cfg, char *err, size_t err_len)
{
    if (!env || !cfg || !cfg->keys || !cfg->db_path) {
        snprintf(err, err_len, "platform: keys and database are required");
        return NULL;
    }
    platform *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    p->env = env;
    p->cfg = *cfg;
    if (!p->cfg.link.response_timeout_ms) /* a zeroed config: the profile's defaults */
        wmmp_link_config_default(&p->cfg.link, WMMP_DOWNLINK);
    p->cfg.link.side = WMMP_DOWNLINK;
    p->cb = (wmmp_link_callbacks){ on_request, on_ack, on_request_failed, on_failure, on_rejected };
    link_env_init(p);
    p->by_serial = g_hash_table_new(g_str_hash, g_str_equal);
    p->by_key = calloc(cfg->keys->count ? cfg->keys->count : 1, sizeof *p->by_key); /* NULL: look-ups by serial */
    p->n_by_key = p->by_key ? cfg->keys->count : 0;
    p->terms = g_ptr_array_new_with_free_func(term_free);
    p->fw_version = strdup(cfg->firmware_version ? cfg->firmware_version : "unknown");
    p->store = record_store_open(cfg->db_path, err, err_len);
    if (!p->store || !p->fw_version || (cfg->firmware_path && load_firmware(p, cfg->firmware_path, err, err_len))) {
        platform_free(p);
        return NULL;
    }
    if (record_store_close_stale_sessions(p->store) != 0)
        emu_logf(env, EMU_LOG_WARN, "platform: cannot close the sessions of an earlier run: %s",
                 record_store_error(p->store));
    p->cfg.db_path = p->cfg.firmware_path = p->cfg.firmware_version = NULL; /* not kept: copies above */
    counters_load(p);
    p->ready = 1;
    wmmp_crypto_init();
    emu_logf(env, EMU_LOG_INFO, "platform: %zu terminal(s) known, security %s, heartbeat %u s%s%s",
             cfg->keys->count, level_name(cfg->security), (unsigned)default_heartbeat(p),
             p->fw ? ", firmware " : "", p->fw ? p->fw_name : "");
    return p;
}

void platform_free(platform *p)
{
    if (!p)
        return;
    if (p->store)
        store_barrier(p);
    if (p->terms) {
        for (guint i = 0; i < p->terms->len; i++) {
            term *t = g_ptr_array_index(p->terms, i);
            if (t->logged_in)
                end_session(t, WMMP_LOGOUT_REASON_SHUTDOWN, "exit"); /* no LOGOUT could be sent */
        }
        if (p->ready)
            counters_flush(p);
    }
    if (p->by_serial)
        g_hash_table_destroy(p->by_serial); /* its keys live in the terms */
    if (p->terms)
        g_ptr_array_free(p->terms, TRUE);
    record_store_close(p->store);
    free(p->deferred);
    free(p->by_key);
    free(p->fw);
    free(p->fw_name);
    free(p->fw_version);
    free(p);
}
