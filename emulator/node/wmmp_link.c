/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp_link: the reliability, security and fragmentation layer both ends share (see wmmp_link.h).
 *
 * Decisions the interface leaves open, as this file implements them:
 *
 * Sending
 *   - The first Sequence_ID is 1 (readable captures, as in the generated ones); wmmp_link_set_next_sequence()
 *     changes it. A request takes its Sequence_ID when queued and is built (flag, digest, encryption) when
 *     it becomes outstanding, so requests queued before a LOGIN_ACK use the session timestamp and key.
 *   - Safe_Flag: without keys every message goes out as PLAIN (no digest means no encryption either: the
 *     profile calls ciphertext without a digest malformed). REGISTER and REGISTER_ACK are never signed;
 *     LOGIN, LOGIN_ACK, REGISTER and REGISTER_ACK are never fully encrypted (the LOGIN_ACK carries the key).
 *   - Fragment parts and fragment-control messages carry 0x10, | 0x20 (and a digest) whenever this end
 *     signs that command. Parts and controls of LOGIN / LOGIN_ACK transfers are signed with timestamp 0:
 *     the receiver cannot know a LOGIN_ACK's own timestamp before it has the whole body.
 *   - A whole LOGIN_ACK is signed (and verified) with the timestamp in its body (bytes 1-4), whatever the
 *     result; the session timestamp only when the body is shorter.
 *   - The fragment transaction ID is a per-link counter starting at 1.
 *   - Bodies longer than WMMP_FRAGMENT_MAX_BODY (after 0xE042 wrapping) are WMMP_ERR_TOO_LONG: the
 *     receiver's reassembly could not hold them. A request that can no longer be built when its turn comes
 *     (the security changed meanwhile) is reported through request_failed and not counted as a failure.
 *
 * Reliability
 *   - Retries count per part: a send-next control (or, while receiving a fragmented ACK, a new part) is
 *     progress and starts the count again. While a fragmented ACK comes in, a timeout resends the last
 *     send-next control instead of the request (a lost part or control is asked for again); before the
 *     first part it resends the request.
 *   - requests_failed counts only requests that exhausted their retries. Requests dropped by
 *     wmmp_link_reset(), aborted by the receiver (operation 2) or unbuildable are reported through
 *     request_failed but neither counted there nor towards failure_threshold. failure_threshold 0: never.
 *   - Any ACK-bit message that passes the digest check resets the consecutive-failure count (the peer is
 *     alive), also a late one.
 *
 * Receiving
 *   - The message length must equal Total_Length (WMMP_ERR_INVALID_ARGUMENT otherwise); Protocol_Version
 *     must have major 3 (0x0300, 0x0301: WMMP_ERR_BAD_VERSION otherwise). The serial is not checked.
 *   - Safe_Flag/content disagreements (wmmp_message_classify) are rejected with
 *     WMMP_ERR_FLAG_CONTENT_MISMATCH. Bit 0x10 without 0x40 (or with a body that is one 0x4008 TLV) marks a
 *     fragment message; its body must be exactly one 0x4008 TLV.
 *   - A 0xE042 body is decrypted whenever a session key is set, whatever this end's own level (a platform
 *     can tell FULL from ENCRYPTED by rx.decrypted). The link never opens or builds 0xE040 containers: the
 *     application does. A 0xE042 body without a session key: WMMP_ERR_CRYPTO. The decrypted body must be
 *     the command's prefix plus whole TLVs (FILE_REQ_ACK: prefix plus the data block its length field
 *     announces), else the TLV error is the reason: a wrong key shows up this way.
 *   - Digests: a request with a bad digest is delivered with digest_ok = 0 (the application answers result
 *     3). An ACK, fragment part of an ACK, or control with a bad digest is treated as not received: counted
 *     in bad_digests, not passed to rejected, so the request is retransmitted. One without the digest (or
 *     the 0xE042) this end's level demands is below the class (wmmp_link.h): treated as not received too,
 *     counted in below_class and reported as WMMP_ERR_SECURITY_CLASS. Without keys a digest cannot be
 *     checked: has_digest = 1, digest_ok = 0, not counted as bad, and ACKs are accepted. Requests are
 *     delivered whatever their digest: rx.has_digest tells the application. A reassembled message has has_digest /
 *     digest_ok only when every part had / passed one.
 *   - An ACK matching no outstanding request: rejected (WMMP_ERR_INVALID_ARGUMENT), except the ACK (or a
 *     control) of one of the last LATE_MEMORY requests that completed, failed or were dropped: silently
 *     ignored (logged at debug level, no counter).
 *
 * Duplicates
 *   - A request is a duplicate when command, Sequence_ID and the exact bytes (a 64-bit hash; for a
 *     fragmented request: of its last part) match an entry of the cache: a real retransmission is
 *     byte-identical, while a peer that restarted its counter sends new bytes and is served as new.
 *   - Answered: only for a copy from the peer (wmmp_link_receive_from) of a request that passed the security
 *     class -- anything else is no proof of its sender and is not answered (duplicates_refused) -- the stored
 *     ACK is sent again (part 1 of a fragmented ACK; the requester's controls fetch
 *     the rest). Delivered but not answered yet: ignored. Late copies of the parts of a finished request
 *     are ignored, its last part answered like the whole request. A delayed copy of a part older than the
 *     last one accepted (overtaken by its successor) is ignored, so that a late part 1 does not restart
 *     the transfer.
 *   - duplicate_cache 0 is treated as 1: a fragmented ACK is served from its cache entry. The default is
 *     small (4): a requester has one request in flight, so only its last request is retransmitted, and
 *     a platform keeps a link per terminal (an entry costs about 150 bytes with its ACK). A copy delayed
 *     by more than 3 later exchanges is served as new: records are stored once anyway (primary key),
 *     heartbeats and configuration are idempotent, and a late LOGIN copy starts a session as a replay
 *     does (the terminal logs in again). Nothing older is dropped instead: a restarted terminal sends
 *     its LOGIN with the same Sequence_ID and, its digest timestamp being 0, the same bytes.
 *
 * Fragments
 *   - Receiving a fragmented request: every part but the last is answered by a send-next control, a
 *     repeated part by the same control (the sender holds the timer). Receiving a fragmented ACK: repeated
 *     parts are ignored, since this end holds the timer and asks again itself; that avoids doubling every
 *     later part after one duplication.
 *   - Sending a fragmented request: a control asking for the next part advances; one asking for a part
 *     already sent is stale (a duplicate was answered) and ignored; the timer resends what is missing.
 *     Sending a fragmented ACK: every send-next is served from the cache (the requester holds the timer).
 *   - Aborts: a receiver abort of our request fails it (request_failed); a sender abort of the peer's ACK
 *     fails our request too; a sender abort of the peer's request ends that transfer and is reported
 *     through rejected (WMMP_ERR_FRAGMENT_ABORTED). When a reassembly overflows (WMMP_ERR_TOO_LONG) this
 *     end sends a receiver abort.
 *
 * The keys (wmmp_link_set_identity) and the session key are copied into the link (the caller's may go away)
 * and wiped on free; wmmp_link_use_identity keeps the caller's keys instead (a terminal's, which outlive it).
 *
 * Callbacks may call wmmp_link_request(), wmmp_link_answer(), wmmp_link_reset() and even wmmp_link_free():
 * a free inside a callback is completed when the outermost link call returns. Everything is updated before
 * env->send, but the bytes passed to send may be freed by re-entrant processing: a driver that delivers
 * synchronously must copy first (emu_env.h already asks drivers to copy).
 */
#include "wmmp_link.h"

#include <stdlib.h>
#include <string.h>

#include "wmmp_fragment.h"
#include "wmmp_message.h"
#include "wmmp_tlv.h"

#define LATE_MEMORY 16 /* finished requests whose late ACKs are ignored quietly */
#define DONE_USED WMMP_ACK_BIT /* marks a used done_cmd entry (a request's command never has the ACK bit) */
#define CONTROL_BODY_LEN (WMMP_TLV_HEADER_LEN + WMMP_FRAGMENT_HEADER_LEN)
#define LOGIN_ACK_TIMESTAMP_END 5 /* result (1) + timestamp (4) */

/* One message or all parts of a fragmented one, back to back in one buffer (wire_buf: after the ends). */
typedef struct {
    size_t *end; /* part i (1-based) is wire_buf()[end[i - 2] or 0, end[i - 1]) */
    uint16_t n;
    uint16_t txid; /* fragment transaction ID when n > 1 */
} wire;

typedef struct queued {
    struct queued *next;
    uint16_t command;
    uint32_t seq;
    uint8_t *body; /* NULL once built (outstanding) or when it went out at once */
    size_t len;
    void *ctx;
} queued;

/* The request in flight. */
typedef struct {
    queued *q;
    wire w;
    uint16_t part;       /* the data part in flight (1 when unfragmented) */
    unsigned tries;      /* retransmissions of what is in flight */
    emu_ms first_sent;
    uint8_t *control;    /* last send-next sent while its fragmented ACK comes in; resent on timeout */
    size_t control_len;
} outstanding;

/* A request passed to the application: pending until answered, then its ACK for duplicates. */
typedef struct {
    uint64_t fp;         /* hash of the request (its last part) as received */
    uint64_t fp_first;   /* hash of its first part (the whole message when unfragmented) */
    wire ack;
    uint32_t seq;
    uint16_t command;    /* request ID */
    uint16_t parts_sent; /* highest part of a fragmented ACK sent so far (statistics) */
    uint8_t used;
    uint8_t answered;
    uint8_t fp_known;    /* 0: answered without having been delivered (any bytes match) */
    uint8_t authentic;   /* the request passed the session's security class: its copies may be answered */
} dup_entry;

/* An incoming fragmented transfer: the codec's reassembly and whose message it is. Allocated when the first
   part comes (most links never receive a fragment); NULL is the state after wmmp_reassembly_init. */
typedef struct {
    wmmp_reassembly ra;
    uint16_t command; /* as received (ACK bit included) */
    uint32_t seq;
    uint64_t fp_first;
    int all_digest, all_ok;
} rx_transfer;

/* A received message while it is processed. */
typedef struct {
    const uint8_t *msg;
    size_t len;
    wmmp_message m;
    uint64_t fp;
    int has_digest, digest_ok, digest_bad;
} rx_msg;

/* Kept small: a platform has one per terminal, a load generator one per simulated terminal. */
struct wmmp_link {
    const emu_env *env;
    emu_peer *peer;
    const wmmp_link_callbacks *cb; /* the caller's (a static table), not a copy */
    void *user;

    const wmmp_terminal_keys *keys; /* NULL: no digests; own_keys or the caller's (wmmp_link_use_identity) */
    wmmp_terminal_keys *own_keys;   /* the copy wmmp_link_set_identity makes, allocated at the first */
    queued *head, *tail;
    outstanding *out;
    emu_timer timer;
    dup_entry *dup;    /* allocated when the first request is answered or delivered */
    uint64_t *dup_key; /* per entry: DUP_KEY(command, seq) when used, else 0 -- scanned instead of dup[] */
    rx_transfer *rx_req, *rx_ack;
    uint8_t serial[WMMP_SERIAL_LEN];
    uint8_t session_key[WMMP_SESSION_KEY_LEN];
    uint32_t timestamp;
    uint32_t next_seq;
    uint32_t queued_count;
    uint32_t response_timeout_ms; /* the configuration (wmmp_link_config), narrower */
    uint16_t failure_threshold;
    uint8_t retries;
    uint8_t side;                 /* wmmp_direction */
    uint16_t next_txid;
    uint16_t consecutive_failures;
    uint16_t dup_cap, dup_next;
    uint16_t dup_alloc; /* entries allocated: the cache grows to dup_cap as it fills */
    uint16_t busy;      /* nesting of link calls that may run callbacks */
    uint8_t level;      /* wmmp_security_level */
    uint8_t has_session_key;
    uint8_t rx_from_peer; /* the message being received came from the link's peer (wmmp_link_receive_from) */
    uint8_t doomed;       /* freed inside a callback: destroyed when busy drops to 0 */
    uint8_t done_next;
    uint16_t done_cmd[LATE_MEMORY]; /* requests that finished lately: command | DONE_USED, and Sequence_ID */
    uint32_t done_seq[LATE_MEMORY];
    wmmp_link_stats stats;
};

/* ---- small helpers ---- */

static uint64_t fingerprint(const uint8_t *p, size_t n)
{
    /* 8 bytes a step (a platform hashes every message it receives); only ever compared with the same
       peer's bytes in this process, so the function may change freely */
    uint64_t h = 0xcbf29ce484222325ULL ^ (n * 0x9E3779B97F4A7C15ULL), w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static wmmp_direction peer_direction(const wmmp_link *l)
{
    return l->side == WMMP_UPLINK ? WMMP_DOWNLINK : WMMP_UPLINK;
}

static void debug(const wmmp_link *l, const char *what, uint16_t cmd, uint32_t seq)
{
    emu_logf(l->env, EMU_LOG_DEBUG, "wmmp_link: %s: %s seq %u", what, wmmp_command_name(cmd), (unsigned)seq);
}

static void reject(wmmp_link *l, const uint8_t *msg, size_t len, wmmp_err why)
{
    l->stats.rejected++;
    emu_logf(l->env, EMU_LOG_DEBUG, "wmmp_link: rejected %zu bytes: %s", len, wmmp_strerror(why));
    if (l->cb->rejected)
        l->cb->rejected(l->user, l, msg, len, why);
}

static void enter(wmmp_link *l) { l->busy++; }
static void destroy(wmmp_link *l);
static void leave(wmmp_link *l)
{
    if (--l->busy == 0 && l->doomed)
        destroy(l);
}

static void cancel_timer(wmmp_link *l)
{
    if (l->timer)
        l->env->timer_cancel(l->env->ctx, l->timer);
    l->timer = 0;
}

/* ---- wires ---- */

static uint8_t *wire_buf(const wire *w) { return (uint8_t *)(w->end + w->n); }

static void wire_free(wire *w)
{
    free(w->end); /* one block: the part ends, then the bytes */
    memset(w, 0, sizeof *w);
}

/* One allocation for both (a cached ACK costs one block, not two). */
static wmmp_err wire_alloc(wire *w, size_t parts, size_t bytes)
{
    memset(w, 0, sizeof *w);
    w->end = calloc(1, parts * sizeof *w->end + bytes);
    if (!w->end)
        return WMMP_ERR_NO_SPACE;
    w->n = (uint16_t)parts;
    return WMMP_OK;
}

static void send_bytes(wmmp_link *l, const uint8_t *msg, size_t len)
{
    l->env->send(l->env->ctx, l->peer, msg, len);
}

/* Sends part (1-based) of w. Nothing may be touched afterwards: re-entrant processing may free w. */
static void send_part(wmmp_link *l, const wire *w, uint16_t part)
{
    size_t start = part > 1 ? w->end[part - 2] : 0;
    send_bytes(l, wire_buf(w) + start, w->end[part - 1] - start);
}

/* ---- what goes on the wire (profile section 3, wmmp_link.h) ---- */

/* REGISTER, LOGIN and their ACKs open a session: never fully encrypted (the LOGIN_ACK carries the key). */
static int is_handshake(uint16_t cmd)
{
    uint16_t r = wmmp_request_of(cmd);
    return r == WMMP_CMD_LOGIN || r == WMMP_CMD_REGISTER;
}

static int signs(const wmmp_link *l, uint16_t cmd)
{
    return l->keys && l->level >= WMMP_SEC_DIGEST && wmmp_request_of(cmd) != WMMP_CMD_REGISTER;
}

static int seals(const wmmp_link *l, uint16_t cmd, size_t len)
{
    return signs(l, cmd) && l->level == WMMP_SEC_FULL && l->has_session_key && len > 0 && !is_handshake(cmd);
}

static uint8_t whole_flag(const wmmp_link *l, uint16_t cmd, int sealed)
{
    if (!signs(l, cmd))
        return 0;
    if (l->level == WMMP_SEC_DIGEST)
        return cmd == WMMP_CMD_LOGIN ? WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST : WMMP_FLAG_DIGEST;
    uint8_t f = WMMP_FLAG_SECURITY | WMMP_FLAG_ENCRYPTION | WMMP_FLAG_DIGEST;
    return sealed ? (uint8_t)(f | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT) : f;
}

static uint8_t fragment_flag(const wmmp_link *l, uint16_t cmd)
{
    return (uint8_t)(WMMP_FLAG_ENCRYPTED_OR_FRAGMENT | (signs(l, cmd) ? WMMP_FLAG_DIGEST : 0));
}

/* Profile section 7. body NULL: a fragment part or control (LOGIN / LOGIN_ACK transfers use 0). */
static uint32_t digest_timestamp(const wmmp_link *l, uint16_t cmd, const uint8_t *body, size_t len)
{
    if (wmmp_request_of(cmd) != WMMP_CMD_LOGIN)
        return l->timestamp;
    if (!wmmp_is_ack(cmd) || !body)
        return 0;
    return len >= LOGIN_ACK_TIMESTAMP_END ? wmmp_load32(body + 1) : l->timestamp;
}

static wmmp_header make_header(const wmmp_link *l, uint16_t cmd, uint32_t seq, uint8_t flag)
{
    wmmp_header h;
    memset(&h, 0, sizeof h);
    h.total_length = WMMP_HEADER_LEN;
    h.command_id = cmd;
    h.sequence_id = seq;
    h.version = WMMP_VERSION_3_0;
    h.safe_flag = flag;
    memcpy(h.terminal_serial, l->serial, WMMP_SERIAL_LEN);
    return h;
}

static wmmp_signer make_signer(const wmmp_link *l, uint32_t timestamp)
{
    wmmp_signer s = { l->keys, (wmmp_direction)l->side, timestamp };
    return s;
}

/* The whole body as one 0xE042 TLV under the session key (malloc'ed). */
static wmmp_err seal_body(const wmmp_link *l, const uint8_t *body, size_t len, uint8_t **out, size_t *out_len)
{
    if (wmmp_cipher_len(len) > 0xFFFF)
        return WMMP_ERR_TOO_LONG;
    size_t cap = WMMP_TLV_HEADER_LEN + wmmp_cipher_len(len);
    uint8_t *buf = malloc(cap);
    if (!buf)
        return WMMP_ERR_NO_SPACE;
    wmmp_writer w;
    wmmp_writer_init(&w, buf, cap);
    wmmp_err e = wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_BODY, l->session_key, body, len);
    if (e != WMMP_OK) {
        free(buf);
        return e;
    }
    *out = buf;
    *out_len = w.len;
    return WMMP_OK;
}

static wmmp_err build_single(const wmmp_link *l, uint16_t cmd, uint32_t seq, uint8_t flag, const uint8_t *body,
                             size_t len, uint32_t timestamp, wire *w)
{
    size_t total = WMMP_HEADER_LEN + len + ((flag & WMMP_FLAG_DIGEST) ? WMMP_DIGEST_TLV_LEN : 0);
    if (total > WMMP_MAX_MESSAGE)
        return WMMP_ERR_TOO_LONG;
    wmmp_err e = wire_alloc(w, 1, total);
    if (e != WMMP_OK)
        return e;
    wmmp_header h = make_header(l, cmd, seq, flag);
    wmmp_signer s = make_signer(l, timestamp);
    wmmp_writer wr;
    wmmp_msg_begin(&wr, wire_buf(w), total, &h);
    if (len)
        wmmp_put_bytes(&wr, body, len);
    e = wmmp_msg_finish(&wr, &s);
    if (e != WMMP_OK) {
        wire_free(w);
        return e;
    }
    w->end[0] = wr.len;
    return WMMP_OK;
}

/* Profile section 8: every part one 0x4008 TLV, signed on its own, same command and Sequence_ID. */
static wmmp_err build_parts(wmmp_link *l, uint16_t cmd, uint32_t seq, const uint8_t *body, size_t len, wire *w)
{
    size_t parts = wmmp_fragment_count(len);
    uint8_t flag = fragment_flag(l, cmd);
    size_t per_part = WMMP_HEADER_LEN + CONTROL_BODY_LEN + ((flag & WMMP_FLAG_DIGEST) ? WMMP_DIGEST_TLV_LEN : 0);
    size_t cap = parts * per_part + len;
    wmmp_err e = wire_alloc(w, parts, cap);
    if (e != WMMP_OK)
        return e;
    w->txid = l->next_txid++;
    wmmp_header h = make_header(l, cmd, seq, flag);
    wmmp_signer s = make_signer(l, digest_timestamp(l, cmd, NULL, 0));
    size_t off = 0;
    for (size_t i = 1; i <= parts && e == WMMP_OK; i++) {
        wmmp_writer wr;
        wmmp_msg_begin(&wr, wire_buf(w) + off, cap - off, &h);
        wmmp_fragment_put_part(&wr, body, len, w->txid, (uint16_t)i);
        e = wmmp_msg_finish(&wr, &s);
        off += wr.len;
        w->end[i - 1] = off;
    }
    if (e != WMMP_OK)
        wire_free(w);
    return e;
}

/* The plaintext body's size on the wire: what wmmp_link_request checks before queueing. */
static size_t final_len(const wmmp_link *l, uint16_t cmd, size_t len)
{
    return seals(l, cmd, len) ? WMMP_TLV_HEADER_LEN + wmmp_cipher_len(len) : len;
}

/* Everything the link sends for one request or ACK: security applied, fragmented when needed. */
static wmmp_err build_wire(wmmp_link *l, uint16_t cmd, uint32_t seq, const uint8_t *body, size_t len, wire *w)
{
    uint8_t *sealed = NULL;
    const uint8_t *final = body;
    size_t flen = len;
    int seal = seals(l, cmd, len);
    memset(w, 0, sizeof *w);
    if (seal) {
        wmmp_err e = seal_body(l, body, len, &sealed, &flen);
        if (e != WMMP_OK)
            return e;
        final = sealed;
    }
    wmmp_err e;
    if (flen > WMMP_FRAGMENT_MAX_BODY)
        e = WMMP_ERR_TOO_LONG;
    else if (flen > WMMP_FRAGMENT_MAX_DATA)
        e = build_parts(l, cmd, seq, final, flen, w);
    else
        e = build_single(l, cmd, seq, whole_flag(l, cmd, seal), final, flen, digest_timestamp(l, cmd, body, len), w);
    free(sealed);
    return e;
}

/* A fragment-control message (profile section 8): the ACK command ID, only a 0x4008 TLV. */
static wmmp_err build_control(const wmmp_link *l, uint16_t cmd, uint32_t seq, const wmmp_fragment *c, wire *w)
{
    uint8_t body[CONTROL_BODY_LEN];
    wmmp_writer bw;
    uint16_t ack = (uint16_t)(cmd | WMMP_ACK_BIT);
    wmmp_writer_init(&bw, body, sizeof body);
    wmmp_err e = wmmp_fragment_put_control(&bw, c->transaction_id, c->total, c->number, c->operation);
    if (e != WMMP_OK)
        return e;
    return build_single(l, ack, seq, fragment_flag(l, ack), body, bw.len, digest_timestamp(l, ack, NULL, 0), w);
}

static void send_control(wmmp_link *l, uint16_t cmd, uint32_t seq, const wmmp_fragment *c)
{
    wire w;
    if (build_control(l, cmd, seq, c, &w) != WMMP_OK)
        return;
    send_bytes(l, wire_buf(&w), w.end[0]);
    wire_free(&w);
}

/* ---- receiving: security ---- */

/* The body length without the zero padding of a decrypted body (the codec's rule); its TLVs must parse. */
static wmmp_err unpadded_body_len(uint16_t cmd, const uint8_t *plain, size_t len, size_t *out)
{
    wmmp_err e = wmmp_unpadded_body_len(cmd, plain, len, out);
    if (e != WMMP_OK || wmmp_carries_data_block(cmd))
        return e;
    int p = wmmp_command_prefix_len(cmd);
    size_t prefix = p > 0 ? (size_t)p : 0;
    return wmmp_tlv_validate(plain + prefix, *out - prefix, NULL);
}

/* True when body is exactly one TLV with this tag; *t is that TLV. */
static int single_tlv(const uint8_t *body, size_t len, uint16_t tag, wmmp_tlv *t)
{
    wmmp_reader r;
    wmmp_reader_init(&r, body, len);
    return wmmp_tlv_next(&r, t) == WMMP_OK && t->tag == tag && wmmp_reader_left(&r) == 0;
}

/* Decrypts a body that is one 0xE042 TLV into a malloc'ed plaintext body without padding. */
static wmmp_err open_body(const wmmp_link *l, uint16_t cmd, const uint8_t *body, size_t len, uint8_t **out,
                          size_t *out_len)
{
    wmmp_tlv t;
    if (!single_tlv(body, len, WMMP_TAG_ENCRYPTED_BODY, &t))
        return WMMP_ERR_FLAG_CONTENT_MISMATCH;
    if (!l->has_session_key)
        return WMMP_ERR_CRYPTO;
    uint8_t *plain = malloc(t.length ? t.length : 1);
    if (!plain)
        return WMMP_ERR_NO_SPACE;
    wmmp_err e = t.length ? wmmp_decrypt(l->session_key, t.value, t.length, plain) : WMMP_OK;
    if (e == WMMP_OK)
        e = unpadded_body_len(cmd, plain, t.length, out_len);
    if (e != WMMP_OK) {
        free(plain);
        return e;
    }
    *out = plain;
    return WMMP_OK;
}

static void check_digest(const wmmp_link *l, rx_msg *r, uint32_t timestamp)
{
    r->has_digest = r->m.digest != NULL;
    r->digest_ok = r->has_digest && l->keys &&
                   wmmp_digest_verify(r->msg, r->len, timestamp, l->keys, peer_direction(l)) == WMMP_OK;
    /* without keys a digest cannot be checked: unverified, not bad */
    r->digest_bad = r->has_digest && l->keys && !r->digest_ok;
}

/*
 * The session's security class (wmmp_link.h): what this end demands of an ACK or control before it counts,
 * the same as what it sends -- a digest whenever it signs that command, the body in 0xE042 whenever it
 * would seal it. Anything less is treated as not received, so a forger cannot downgrade a session.
 */
static int below_class(const wmmp_link *l, const rx_msg *r, const wmmp_rx *rx)
{
    uint16_t cmd = r->m.hdr.command_id;
    if (signs(l, cmd) && !r->has_digest)
        return 1;
    return rx && seals(l, cmd, rx->body_len) && !rx->decrypted;
}

static void refuse_below_class(wmmp_link *l, const rx_msg *r)
{
    l->stats.below_class++;
    reject(l, r->msg, r->len, WMMP_ERR_SECURITY_CLASS);
}

/* ---- duplicate cache and recently finished requests ---- */

#define DUP_KEY(cmd, seq) ((uint64_t)1 << 48 | (uint64_t)(cmd) << 32 | (uint32_t)(seq))

/* Newest first (the ACK being built is for the request just delivered); keys are unique in the cache. */
static dup_entry *dup_find(wmmp_link *l, uint16_t req, uint32_t seq)
{
    uint64_t key = DUP_KEY(req, seq);
    for (size_t k = 0, i = l->dup_next; k < l->dup_alloc; k++) { /* none before the first request */
        i = i ? i - 1 : (size_t)l->dup_alloc - 1;
        if (l->dup_key[i] == key)
            return &l->dup[i];
    }
    return NULL;
}

/* The entry for (req, seq) emptied, or the oldest one reused: the cache never grows. */
static dup_entry *dup_slot(wmmp_link *l, uint16_t req, uint32_t seq)
{
    dup_entry *d = dup_find(l, req, seq);
    if (!d) {
        if (l->dup_next == l->dup_alloc) { /* filling for the first time: room for the next entries */
            size_t want = l->dup_alloc ? l->dup_alloc * 2u : 4u;
            size_t n = want < l->dup_cap ? want : l->dup_cap;
            dup_entry *grown = realloc(l->dup, n * sizeof *grown);
            uint64_t *keys = grown ? realloc(l->dup_key, n * sizeof *keys) : NULL;
            if (grown)
                l->dup = grown;
            if (keys) {
                memset(grown + l->dup_alloc, 0, (n - l->dup_alloc) * sizeof *grown);
                memset(keys + l->dup_alloc, 0, (n - l->dup_alloc) * sizeof *keys);
                l->dup_key = keys;
                l->dup_alloc = (uint16_t)n;
            } else if (!l->dup_alloc) {
                return NULL; /* out of memory before the first entry */
            } else {
                l->dup_next = 0; /* out of memory: a smaller cache */
                l->dup_cap = l->dup_alloc;
            }
        }
        d = &l->dup[l->dup_next];
        l->dup_next = (uint16_t)((l->dup_next + 1) % l->dup_cap);
    }
    wire_free(&d->ack);
    memset(d, 0, sizeof *d);
    d->used = 1;
    d->command = req;
    d->seq = seq;
    l->dup_key[d - l->dup] = DUP_KEY(req, seq);
    return d;
}

static void done_remember(wmmp_link *l, uint16_t req, uint32_t seq)
{
    l->done_cmd[l->done_next] = (uint16_t)(req | DONE_USED);
    l->done_seq[l->done_next] = seq;
    l->done_next = (uint8_t)((l->done_next + 1) % LATE_MEMORY);
}

static int done_recently(const wmmp_link *l, uint16_t req, uint32_t seq)
{
    for (size_t i = 0; i < LATE_MEMORY; i++)
        if (l->done_cmd[i] == (uint16_t)(req | DONE_USED) && l->done_seq[i] == seq)
            return 1;
    return 0;
}

static void answer_duplicate(wmmp_link *l, dup_entry *d)
{
    if (!d->answered) {
        debug(l, "repeat of a request not answered yet, ignored", d->command, d->seq);
        return;
    }
    /* a copy is no proof of its sender: only the peer's own, of a request that passed the class, is answered
       (a replay with a forged source must not reflect the stored ACK to a victim) */
    if (!l->rx_from_peer || !d->authentic) {
        l->stats.duplicates_refused++;
        debug(l, "copy from another address or of an unauthenticated request, not answered", d->command, d->seq);
        return;
    }
    l->stats.duplicates_answered++;
    send_part(l, &d->ack, 1); /* a fragmented ACK restarts: the requester's controls fetch the rest */
}

/* ---- the request queue and the outstanding request ---- */

static void queued_free(queued *q)
{
    free(q->body);
    free(q);
}

static void outstanding_free(outstanding *o)
{
    wire_free(&o->w);
    free(o->control);
    queued_free(o->q);
    free(o);
}

static void rx_transfer_clear(rx_transfer *t)
{
    wmmp_reassembly_free(&t->ra);
    t->command = 0;
    t->seq = 0;
    t->fp_first = 0;
    t->all_digest = t->all_ok = 0;
}

/* The transfer of *slot, allocated (as after rx_transfer_clear) at its first part; NULL when out of memory. */
static rx_transfer *transfer_get(rx_transfer **slot)
{
    if (!*slot && (*slot = calloc(1, sizeof **slot)) != NULL)
        wmmp_reassembly_init(&(*slot)->ra);
    return *slot;
}

/* Back to "no transfer": the memory goes too. */
static void transfer_drop(rx_transfer **slot)
{
    if (!*slot)
        return;
    wmmp_reassembly_free(&(*slot)->ra);
    free(*slot);
    *slot = NULL;
}

static void on_timeout(void *arg);

static void arm_timer(wmmp_link *l)
{
    cancel_timer(l);
    l->timer = l->env->timer_start(l->env->ctx, l->response_timeout_ms, on_timeout, l);
}

/* Sends what is in flight (the part, or the last control for an incoming ACK) and (re)arms the timer. */
static void transmit(wmmp_link *l, outstanding *o)
{
    arm_timer(l); /* first: a driver delivering synchronously may complete the request inside send */
    if (o->control)
        send_bytes(l, o->control, o->control_len);
    else
        send_part(l, &o->w, o->part);
}

/* Takes the outstanding request off the link; the caller reports and frees it. */
static outstanding *detach_outstanding(wmmp_link *l)
{
    outstanding *o = l->out;
    l->out = NULL;
    cancel_timer(l);
    transfer_drop(&l->rx_ack);
    done_remember(l, o->q->command, o->q->seq);
    return o;
}

static void report_failed(wmmp_link *l, const queued *q)
{
    if (l->cb->request_failed)
        l->cb->request_failed(l->user, l, q->command, q->seq, q->ctx);
}

/*
 * Makes q (taken off the queue) outstanding: builds its wire from body (q's own copy, freed here since the wire
 * is all a retransmission needs, or the caller's when nothing waited) and sends it. 0 when it cannot be built
 * (reported through request_failed, q freed).
 */
static int launch(wmmp_link *l, queued *q, const uint8_t *body, size_t len)
{
    outstanding *o = calloc(1, sizeof *o);
    wmmp_err e = o ? build_wire(l, q->command, q->seq, body, len, &o->w) : WMMP_ERR_NO_SPACE;
    free(q->body);
    q->body = NULL;
    q->len = 0;
    if (e != WMMP_OK) {
        emu_logf(l->env, EMU_LOG_WARN, "wmmp_link: cannot send %s: %s", wmmp_command_name(q->command),
                 wmmp_strerror(e));
        free(o);
        report_failed(l, q);
        queued_free(q);
        return 0;
    }
    o->q = q;
    o->part = 1;
    o->first_sent = l->env->now(l->env->ctx);
    l->out = o;
    transfer_drop(&l->rx_ack);
    l->stats.requests_sent++;
    if (o->w.n > 1)
        l->stats.fragments_sent++;
    transmit(l, o);
    return 1;
}

static void start_next(wmmp_link *l)
{
    while (!l->doomed && !l->out && l->head) {
        queued *q = l->head;
        l->head = q->next;
        if (!l->head)
            l->tail = NULL;
        l->queued_count--;
        q->next = NULL;
        launch(l, q, q->body, q->len);
    }
}

/* Retries exhausted (profile section 9). */
static void fail_outstanding(wmmp_link *l)
{
    outstanding *o = detach_outstanding(l);
    l->stats.requests_failed++;
    int failure = l->failure_threshold && ++l->consecutive_failures >= l->failure_threshold;
    if (failure)
        l->consecutive_failures = 0;
    debug(l, "retries exhausted", o->q->command, o->q->seq);
    report_failed(l, o->q);
    outstanding_free(o);
    if (l->doomed)
        return;
    if (failure && l->cb->failure)
        l->cb->failure(l->user, l);
    start_next(l);
}

/* The peer ended the transfer: the request cannot complete, but the link works. */
static void abort_outstanding(wmmp_link *l)
{
    outstanding *o = detach_outstanding(l);
    debug(l, "transfer aborted by the peer", o->q->command, o->q->seq);
    report_failed(l, o->q);
    outstanding_free(o);
    start_next(l);
}

static void complete_request(wmmp_link *l, const wmmp_rx *rx)
{
    outstanding *o = detach_outstanding(l);
    l->stats.acks_received++;
    l->stats.last_ack_latency_ms = l->env->now(l->env->ctx) - o->first_sent;
    if (l->cb->ack)
        l->cb->ack(l->user, l, rx, o->q->ctx);
    outstanding_free(o);
    start_next(l);
}

static void on_timeout(void *arg)
{
    wmmp_link *l = arg;
    l->timer = 0;
    outstanding *o = l->out;
    if (!o)
        return;
    enter(l);
    if (o->tries < l->retries) {
        o->tries++;
        l->stats.retransmissions++;
        transmit(l, o);
    } else {
        fail_outstanding(l);
    }
    leave(l);
}

static int matches_outstanding(const wmmp_link *l, uint16_t cmd, uint32_t seq)
{
    return l->out && l->out->q->command == wmmp_request_of(cmd) && l->out->q->seq == seq;
}

/* ---- receiving whole messages ---- */

static void deliver_request(wmmp_link *l, const rx_msg *r, uint64_t fp_first, const wmmp_rx *rx)
{
    dup_entry *d = dup_slot(l, wmmp_request_of(rx->hdr.command_id), rx->hdr.sequence_id);
    if (d) { /* NULL: out of memory, delivered without duplicate detection */
        d->fp = r->fp;
        d->fp_first = fp_first;
        d->fp_known = 1;
        d->authentic = !r->digest_bad && !(signs(l, rx->hdr.command_id) && !rx->has_digest);
    }
    l->stats.requests_received++;
    if (l->cb->request)
        l->cb->request(l->user, l, rx);
}

static void rx_request(wmmp_link *l, const rx_msg *r, const wmmp_rx *rx)
{
    if (r->digest_bad)
        l->stats.bad_digests++;
    dup_entry *d = dup_find(l, wmmp_request_of(rx->hdr.command_id), rx->hdr.sequence_id);
    if (d && (!d->fp_known || d->fp == r->fp)) {
        answer_duplicate(l, d);
        return;
    }
    deliver_request(l, r, r->fp, rx);
}

/* An ACK-bit message with a bad digest counts as not received; any other proves the peer is alive. */
static int ack_usable(wmmp_link *l, const rx_msg *r, const wmmp_rx *rx)
{
    if (r->digest_bad) {
        l->stats.bad_digests++;
        debug(l, "bad digest, ignored", r->m.hdr.command_id, r->m.hdr.sequence_id);
        return 0;
    }
    if (below_class(l, r, rx)) {
        refuse_below_class(l, r);
        return 0;
    }
    l->consecutive_failures = 0;
    return 1;
}

static void unmatched(wmmp_link *l, const rx_msg *r)
{
    uint16_t cmd = r->m.hdr.command_id;
    if (done_recently(l, wmmp_request_of(cmd), r->m.hdr.sequence_id)) {
        debug(l, "late ACK ignored", cmd, r->m.hdr.sequence_id);
        return;
    }
    reject(l, r->msg, r->len, WMMP_ERR_INVALID_ARGUMENT);
}

static void rx_ack(wmmp_link *l, const rx_msg *r, const wmmp_rx *rx)
{
    if (!ack_usable(l, r, rx))
        return;
    if (!matches_outstanding(l, rx->hdr.command_id, rx->hdr.sequence_id)) {
        unmatched(l, r);
        return;
    }
    complete_request(l, rx);
}

static void rx_whole(wmmp_link *l, rx_msg *r)
{
    wmmp_msg_class cls;
    wmmp_err e = wmmp_message_classify(&r->m, &cls);
    if (e != WMMP_OK) {
        reject(l, r->msg, r->len, e);
        return;
    }
    uint16_t cmd = r->m.hdr.command_id;
    uint8_t *plain = NULL;
    wmmp_rx rx = { r->m.hdr, r->m.body, r->m.body_len, 0, 0, 0 };
    if (cls == WMMP_CLASS_FULLY_ENCRYPTED) {
        e = open_body(l, cmd, r->m.body, r->m.body_len, &plain, &rx.body_len);
        if (e != WMMP_OK) {
            reject(l, r->msg, r->len, e);
            return;
        }
        rx.body = plain;
        rx.decrypted = 1;
    }
    check_digest(l, r, digest_timestamp(l, cmd, rx.body, rx.body_len));
    rx.has_digest = r->has_digest;
    rx.digest_ok = r->digest_ok;
    if (wmmp_is_ack(cmd))
        rx_ack(l, r, &rx);
    else
        rx_request(l, r, &rx);
    free(plain);
}

/* ---- receiving fragments ---- */

/* Profile section 8: bit 0x10 means "fragment" unless 0x40 says "encrypted"; a lone 0x4008 TLV settles it. */
static int is_fragment_message(const wmmp_message *m)
{
    wmmp_tlv t;
    uint8_t f = m->hdr.safe_flag;
    if (!(f & WMMP_FLAG_ENCRYPTED_OR_FRAGMENT))
        return 0;
    return !(f & WMMP_FLAG_ENCRYPTION) || single_tlv(m->body, m->body_len, WMMP_TAG_FRAGMENT, &t);
}

static wmmp_err fragment_of(const wmmp_message *m, wmmp_fragment *f)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_reader_init(&r, m->body, m->body_len);
    wmmp_err e = wmmp_tlv_next(&r, &t);
    if (e == WMMP_END)
        return WMMP_ERR_TLV_MISSING;
    if (e != WMMP_OK)
        return e;
    if (t.tag != WMMP_TAG_FRAGMENT || wmmp_reader_left(&r) != 0)
        return WMMP_ERR_FLAG_CONTENT_MISMATCH; /* the flag says fragment, the body is something else */
    return wmmp_fragment_decode(t.value, t.length, f);
}

static void note_part_digest(rx_transfer *t, const rx_msg *r, int first)
{
    if (first) {
        t->all_digest = 1;
        t->all_ok = 1;
    }
    t->all_digest &= r->has_digest;
    t->all_ok &= r->digest_ok;
}

static void start_transfer(rx_transfer *t, const rx_msg *r)
{
    rx_transfer_clear(t);
    t->command = r->m.hdr.command_id;
    t->seq = r->m.hdr.sequence_id;
    t->fp_first = r->fp;
}

static int same_transfer(const rx_transfer *t, const rx_msg *r)
{
    return t && (t->ra.active || t->ra.total) && t->command == r->m.hdr.command_id && t->seq == r->m.hdr.sequence_id;
}

/*
 * A delayed copy of a part before the last one accepted (a retransmission overtaken by the next part).
 * The codec would call it out of order, or restart the transfer for a part 1: it is ignored instead.
 */
static int earlier_part(const rx_transfer *t, const rx_msg *r, const wmmp_fragment *f)
{
    return same_transfer(t, r) && t->ra.active && f->transaction_id == t->ra.transaction_id &&
           f->total == t->ra.total && f->number + 1 < t->ra.next;
}

/* The whole body is delivered; the buffer is taken from the reassembly so callbacks may reset the link. */
static void deliver_reassembled(wmmp_link *l, const rx_msg *r, rx_transfer *t)
{
    uint8_t *whole = t->ra.buf;
    uint8_t *plain = NULL;
    uint64_t fp_first = t->fp_first;
    wmmp_tlv tlv;
    wmmp_rx rx = { r->m.hdr, whole, t->ra.len, t->all_digest, t->all_ok, 0 };
    t->ra.buf = NULL;
    t->ra.cap = 0;
    if (single_tlv(whole, rx.body_len, WMMP_TAG_ENCRYPTED_BODY, &tlv)) {
        wmmp_err e = open_body(l, rx.hdr.command_id, whole, rx.body_len, &plain, &rx.body_len);
        if (e != WMMP_OK) {
            reject(l, r->msg, r->len, e);
            free(whole);
            return;
        }
        rx.body = plain;
        rx.decrypted = 1;
    }
    if (wmmp_is_ack(rx.hdr.command_id) && below_class(l, r, &rx))
        refuse_below_class(l, r); /* the parts were signed, the whole is not sealed: the timer asks again */
    else if (wmmp_is_ack(rx.hdr.command_id))
        complete_request(l, &rx);
    else
        deliver_request(l, r, fp_first, &rx);
    free(plain);
    free(whole);
}

/* A reassembly error; an overflow also tells the sender to stop. */
static void part_refused(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f, wmmp_err e)
{
    if (e == WMMP_ERR_TOO_LONG) {
        wmmp_fragment abort_ = { f->transaction_id, f->total, f->number, WMMP_FRAGMENT_OP_RECEIVER_ABORT, NULL, 0 };
        send_control(l, wmmp_request_of(r->m.hdr.command_id), r->m.hdr.sequence_id, &abort_);
    }
    reject(l, r->msg, r->len, e);
}

static void ask_next(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f, uint16_t wanted)
{
    wmmp_fragment c = { f->transaction_id, f->total, wanted, WMMP_FRAGMENT_OP_SEND_NEXT, NULL, 0 };
    send_control(l, wmmp_request_of(r->m.hdr.command_id), r->m.hdr.sequence_id, &c);
}

/* A copy of a part of a request already delivered: its last part is answered like the whole request. */
static int late_request_part(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f)
{
    if (same_transfer(l->rx_req, r) && l->rx_req->ra.active)
        return 0;
    dup_entry *d = dup_find(l, r->m.hdr.command_id, r->m.hdr.sequence_id);
    if (!d || (f->number == 1 && d->fp_known && d->fp_first != r->fp))
        return 0; /* a new request that reuses the Sequence_ID */
    if (f->number == f->total && (!d->fp_known || d->fp == r->fp))
        answer_duplicate(l, d);
    else
        debug(l, "late fragment of a finished request, ignored", d->command, d->seq);
    return 1;
}

static void rx_request_part(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f)
{
    if (late_request_part(l, r, f) || earlier_part(l->rx_req, r, f))
        return;
    rx_transfer *t = transfer_get(&l->rx_req);
    if (!t) {
        reject(l, r->msg, r->len, WMMP_ERR_NO_SPACE);
        return;
    }
    if (!same_transfer(t, r)) {
        if (f->number != 1) {
            reject(l, r->msg, r->len, WMMP_ERR_FRAGMENT_OUT_OF_ORDER);
            return;
        }
        start_transfer(t, r);
    }
    int complete = 0;
    wmmp_err e = wmmp_reassembly_add(&t->ra, f, &complete);
    if (e == WMMP_ERR_FRAGMENT_DUPLICATE) {
        if (t->ra.active) /* the control was lost: the same one again */
            ask_next(l, r, f, wmmp_reassembly_wanted(&t->ra));
        return;
    }
    if (e != WMMP_OK) {
        part_refused(l, r, f, e);
        return;
    }
    l->stats.fragments_received++;
    if (r->digest_bad)
        l->stats.bad_digests++;
    if (f->number == 1)
        t->fp_first = r->fp;
    note_part_digest(t, r, f->number == 1);
    if (!complete)
        ask_next(l, r, f, wmmp_reassembly_wanted(&t->ra));
    else
        deliver_reassembled(l, r, t);
}

/* Asks for the next part of the ACK and keeps the control for retransmission: this end holds the timer. */
static void ask_next_ack_part(wmmp_link *l, const wmmp_fragment *f, uint16_t wanted)
{
    outstanding *o = l->out;
    wmmp_fragment c = { f->transaction_id, f->total, wanted, WMMP_FRAGMENT_OP_SEND_NEXT, NULL, 0 };
    wire w;
    if (build_control(l, o->q->command, o->q->seq, &c, &w) != WMMP_OK)
        return;
    uint8_t *control = malloc(w.end[0]);
    if (!control) {
        wire_free(&w);
        return;
    }
    memcpy(control, wire_buf(&w), w.end[0]);
    free(o->control);
    o->control = control;
    o->control_len = w.end[0];
    wire_free(&w);
    o->tries = 0;
    transmit(l, o);
}

static void rx_ack_part(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f)
{
    if (!ack_usable(l, r, NULL))
        return;
    if (!matches_outstanding(l, r->m.hdr.command_id, r->m.hdr.sequence_id)) {
        unmatched(l, r);
        return;
    }
    if (earlier_part(l->rx_ack, r, f))
        return;
    rx_transfer *t = transfer_get(&l->rx_ack);
    if (!t) {
        reject(l, r->msg, r->len, WMMP_ERR_NO_SPACE);
        return;
    }
    if (f->number == 1 && !same_transfer(t, r))
        start_transfer(t, r);
    int complete = 0;
    wmmp_err e = wmmp_reassembly_add(&t->ra, f, &complete);
    if (e == WMMP_ERR_FRAGMENT_DUPLICATE)
        return; /* our timer asks again if needed */
    if (e != WMMP_OK) {
        part_refused(l, r, f, e);
        return;
    }
    l->stats.fragments_received++;
    note_part_digest(t, r, f->number == 1);
    if (!complete)
        ask_next_ack_part(l, f, wmmp_reassembly_wanted(&t->ra));
    else
        deliver_reassembled(l, r, t);
}

/* A control about our fragmented request. */
static void control_for_request(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f)
{
    outstanding *o = l->out;
    if (f->total != o->w.n) {
        reject(l, r->msg, r->len, WMMP_ERR_FRAGMENT_MISMATCH);
        return;
    }
    if (f->operation == WMMP_FRAGMENT_OP_RECEIVER_ABORT) {
        abort_outstanding(l);
        return;
    }
    if (f->operation != WMMP_FRAGMENT_OP_SEND_NEXT) {
        reject(l, r->msg, r->len, WMMP_ERR_INVALID_ARGUMENT);
        return;
    }
    if (f->number <= o->part || o->control)
        return; /* stale: a repeated part was answered again; the timer resends what is missing */
    if (f->number != o->part + 1) {
        reject(l, r->msg, r->len, WMMP_ERR_FRAGMENT_OUT_OF_ORDER);
        return;
    }
    o->part = f->number;
    o->tries = 0;
    l->stats.fragments_sent++;
    transmit(l, o);
}

/* A control about a fragmented ACK we sent: served from the duplicate cache. */
static void control_for_answer(wmmp_link *l, const rx_msg *r, dup_entry *d, const wmmp_fragment *f)
{
    if (f->total != d->ack.n) {
        reject(l, r->msg, r->len, WMMP_ERR_FRAGMENT_MISMATCH);
        return;
    }
    if (f->operation == WMMP_FRAGMENT_OP_RECEIVER_ABORT) {
        debug(l, "the receiver aborted our fragmented ACK", d->command, d->seq);
        return;
    }
    if (f->operation != WMMP_FRAGMENT_OP_SEND_NEXT) {
        reject(l, r->msg, r->len, WMMP_ERR_INVALID_ARGUMENT);
        return;
    }
    if (f->number > d->parts_sent) {
        d->parts_sent = f->number;
        l->stats.fragments_sent++;
    }
    send_part(l, &d->ack, f->number);
}

/* The sender of a transfer to us gave up: a fragmented ACK (our request fails) or request. */
static int sender_abort(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f)
{
    uint16_t req = wmmp_request_of(r->m.hdr.command_id);
    uint32_t seq = r->m.hdr.sequence_id;
    const rx_transfer *ta = l->rx_ack, *tr = l->rx_req;
    if (matches_outstanding(l, req, seq) && ta && ta->ra.active && ta->ra.transaction_id == f->transaction_id) {
        abort_outstanding(l);
        return 1;
    }
    if (tr && tr->ra.active && wmmp_request_of(tr->command) == req && tr->seq == seq &&
        tr->ra.transaction_id == f->transaction_id) {
        transfer_drop(&l->rx_req);
        reject(l, r->msg, r->len, WMMP_ERR_FRAGMENT_ABORTED);
        return 1;
    }
    return 0;
}

static void rx_control(wmmp_link *l, const rx_msg *r, const wmmp_fragment *f)
{
    uint16_t req = wmmp_request_of(r->m.hdr.command_id);
    uint32_t seq = r->m.hdr.sequence_id;
    if (r->digest_bad) {
        l->stats.bad_digests++;
        debug(l, "control with a bad digest, ignored", r->m.hdr.command_id, seq);
        return;
    }
    if (below_class(l, r, NULL)) {
        refuse_below_class(l, r);
        return;
    }
    if (wmmp_is_ack(r->m.hdr.command_id))
        l->consecutive_failures = 0;
    if (f->operation == WMMP_FRAGMENT_OP_SENDER_ABORT && sender_abort(l, r, f))
        return;
    if (matches_outstanding(l, req, seq) && l->out->w.n > 1 && f->transaction_id == l->out->w.txid) {
        control_for_request(l, r, f);
        return;
    }
    dup_entry *d = dup_find(l, req, seq);
    if (d && d->answered && d->ack.n > 1 && f->transaction_id == d->ack.txid && l->rx_from_peer) {
        control_for_answer(l, r, d, f);
        return;
    }
    unmatched(l, r);
}

static void rx_fragment(wmmp_link *l, rx_msg *r)
{
    wmmp_fragment f;
    wmmp_err e = fragment_of(&r->m, &f);
    if (e != WMMP_OK) {
        reject(l, r->msg, r->len, e);
        return;
    }
    check_digest(l, r, digest_timestamp(l, r->m.hdr.command_id, NULL, 0));
    if (f.operation == WMMP_FRAGMENT_OP_DATA) {
        if (wmmp_is_ack(r->m.hdr.command_id))
            rx_ack_part(l, r, &f);
        else
            rx_request_part(l, r, &f);
    } else if (f.operation <= WMMP_FRAGMENT_OP_SENDER_ABORT) {
        rx_control(l, r, &f);
    } else {
        reject(l, r->msg, r->len, WMMP_ERR_INVALID_ARGUMENT);
    }
}

static wmmp_err check_message(const uint8_t *msg, size_t len, wmmp_message *m)
{
    wmmp_err e = wmmp_message_parse(msg, len, m);
    if (e != WMMP_OK)
        return e;
    if (m->hdr.total_length != len)
        return WMMP_ERR_INVALID_ARGUMENT; /* the driver frames whole messages: extra bytes are an error */
    if ((m->hdr.version >> 8) != (WMMP_VERSION_3_0 >> 8))
        return WMMP_ERR_BAD_VERSION;
    return WMMP_OK;
}

/* ---- the interface ---- */

const char *wmmp_security_level_name(wmmp_security_level level)
{
    static const char *const names[] = { "plain", "digest", "encrypted", "full" };
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "?";
}

void wmmp_link_config_default(wmmp_link_config *cfg, wmmp_direction side)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->side = side;
    cfg->response_timeout_ms = 3000;
    cfg->retries = 3;
    cfg->failure_threshold = 3;
    cfg->duplicate_cache = 4;
}

wmmp_link *wmmp_link_new(const emu_env *env, emu_peer *peer, const wmmp_link_config *cfg,
                         const wmmp_link_callbacks *cb, void *user)
{
    if (!env)
        return NULL;
    wmmp_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    wmmp_link_config c;
    l->env = env;
    l->peer = peer;
    if (cfg)
        c = *cfg;
    else
        wmmp_link_config_default(&c, WMMP_UPLINK);
    l->side = (uint8_t)c.side;
    wmmp_link_set_timing(l, c.response_timeout_ms, c.retries);
    l->failure_threshold = (uint16_t)(c.failure_threshold > UINT16_MAX ? UINT16_MAX : c.failure_threshold);
    static const wmmp_link_callbacks none;
    l->cb = cb ? cb : &none;
    l->user = user;
    l->next_seq = 1;
    l->next_txid = 1;
    l->rx_from_peer = 1;
    l->dup_cap = (uint16_t)(c.duplicate_cache == 0 ? 1 : c.duplicate_cache > UINT16_MAX ? UINT16_MAX
                                                                                 : c.duplicate_cache);
    wmmp_crypto_init();
    return l;
}

/* Zeroes secrets in a way the compiler may not drop as a dead store before free(). */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

static void destroy(wmmp_link *l)
{
    cancel_timer(l);
    if (l->own_keys)
        wipe(l->own_keys, sizeof *l->own_keys);
    free(l->own_keys);
    wipe(l->session_key, sizeof l->session_key);
    if (l->out)
        outstanding_free(l->out);
    for (queued *q = l->head, *next; q; q = next) {
        next = q->next;
        queued_free(q);
    }
    for (size_t i = 0; i < l->dup_alloc; i++)
        wire_free(&l->dup[i].ack);
    free(l->dup);
    free(l->dup_key);
    transfer_drop(&l->rx_req);
    transfer_drop(&l->rx_ack);
    free(l);
}

void wmmp_link_free(wmmp_link *l)
{
    if (!l)
        return;
    if (l->busy) { /* inside a callback: the caller still uses l */
        l->doomed = 1;
        cancel_timer(l);
        return;
    }
    destroy(l);
}

void wmmp_link_use_identity(wmmp_link *l, const uint8_t serial[WMMP_SERIAL_LEN], const wmmp_terminal_keys *keys)
{
    if (serial)
        memcpy(l->serial, serial, WMMP_SERIAL_LEN);
    else
        memset(l->serial, 0, WMMP_SERIAL_LEN);
    l->keys = keys;
}

void wmmp_link_set_identity(wmmp_link *l, const uint8_t serial[WMMP_SERIAL_LEN], const wmmp_terminal_keys *keys)
{
    static const wmmp_terminal_keys unusable; /* out of memory: every digest fails (never "no keys": that
                                                 would accept unsigned answers) */
    if (keys && !l->own_keys && !(l->own_keys = malloc(sizeof *l->own_keys))) {
        wmmp_link_use_identity(l, serial, &unusable);
        return;
    }
    if (keys && keys != l->own_keys)
        *l->own_keys = *keys;
    wmmp_link_use_identity(l, serial, keys ? l->own_keys : NULL);
}

void wmmp_link_set_security(wmmp_link *l, wmmp_security_level level) { l->level = (uint8_t)level; }
wmmp_security_level wmmp_link_security(const wmmp_link *l) { return (wmmp_security_level)l->level; }
void wmmp_link_set_timestamp(wmmp_link *l, uint32_t timestamp) { l->timestamp = timestamp; }

void wmmp_link_set_session_key(wmmp_link *l, const uint8_t key[WMMP_SESSION_KEY_LEN])
{
    l->has_session_key = key != NULL;
    if (key)
        memcpy(l->session_key, key, WMMP_SESSION_KEY_LEN);
    else
        memset(l->session_key, 0, WMMP_SESSION_KEY_LEN);
}

void wmmp_link_set_peer(wmmp_link *l, emu_peer *peer) { l->peer = peer; }
emu_peer *wmmp_link_peer(const wmmp_link *l) { return l->peer; }
void wmmp_link_set_next_sequence(wmmp_link *l, uint32_t seq) { l->next_seq = seq; }

void wmmp_link_set_timing(wmmp_link *l, emu_ms response_timeout_ms, unsigned retries)
{
    /* kept in 32 and 8 bits: 49 days and 255 retries are beyond any configuration */
    l->response_timeout_ms = response_timeout_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)response_timeout_ms;
    l->retries = (uint8_t)(retries > UINT8_MAX ? UINT8_MAX : retries);
}

wmmp_err wmmp_link_request(wmmp_link *l, uint16_t command_id, const uint8_t *body, size_t len, void *req_ctx,
                           uint32_t *seq)
{
    if (!l || (!body && len) || wmmp_is_ack(command_id) || l->doomed)
        return WMMP_ERR_INVALID_ARGUMENT;
    if (len > WMMP_FRAGMENT_MAX_BODY || final_len(l, command_id, len) > WMMP_FRAGMENT_MAX_BODY)
        return WMMP_ERR_TOO_LONG;
    /* nothing in flight or waiting: it goes out at once, built from the caller's body (no copy kept) */
    int now = !l->out && !l->head;
    queued *q = calloc(1, sizeof *q);
    if (q && !now)
        q->body = malloc(len ? len : 1);
    if (!q || (!now && !q->body)) {
        free(q);
        return WMMP_ERR_NO_SPACE;
    }
    if (len && !now)
        memcpy(q->body, body, len);
    q->len = now ? 0 : len;
    q->command = command_id;
    q->seq = l->next_seq++; /* unsigned: wraps 0xFFFFFFFF -> 0 */
    q->ctx = req_ctx;
    if (seq)
        *seq = q->seq;
    enter(l);
    if (now) {
        launch(l, q, body, len);
    } else {
        if (l->tail)
            l->tail->next = q;
        else
            l->head = q;
        l->tail = q;
        l->queued_count++;
        start_next(l);
    }
    leave(l);
    return WMMP_OK;
}

wmmp_err wmmp_link_answer(wmmp_link *l, const wmmp_header *req, const uint8_t *body, size_t len)
{
    if (!l || !req || (!body && len) || wmmp_is_ack(req->command_id) || l->doomed)
        return WMMP_ERR_INVALID_ARGUMENT;
    wire w;
    uint16_t cmd = (uint16_t)(req->command_id | WMMP_ACK_BIT);
    wmmp_err e = build_wire(l, cmd, req->sequence_id, body, len, &w);
    if (e != WMMP_OK)
        return e;
    dup_entry *d = dup_find(l, req->command_id, req->sequence_id);
    if (!d) /* never delivered (or evicted): remember it anyway, for any bytes */
        d = dup_slot(l, req->command_id, req->sequence_id);
    if (!d) {
        wire_free(&w);
        return WMMP_ERR_NO_SPACE;
    }
    wire_free(&d->ack);
    d->ack = w;
    d->answered = 1;
    d->parts_sent = 1;
    l->stats.acks_sent++;
    if (w.n > 1)
        l->stats.fragments_sent++;
    send_part(l, &d->ack, 1);
    return WMMP_OK;
}

void wmmp_link_receive(wmmp_link *l, const uint8_t *msg, size_t len) { wmmp_link_receive_from(l, NULL, msg, len); }

static void receive_one(wmmp_link *l, const uint8_t *msg, size_t len);

void wmmp_link_receive_from(wmmp_link *l, emu_peer *from, const uint8_t *msg, size_t len)
{
    if (!l || l->doomed)
        return;
    enter(l);
    emu_peer *bound = l->peer;
    if (from)
        l->peer = from; /* what this message causes goes back where it came from */
    l->rx_from_peer = !from || from == bound;
    receive_one(l, msg, len);
    l->peer = bound; /* the application moves it once it trusts the source */
    l->rx_from_peer = 1;
    leave(l);
}

static void receive_one(wmmp_link *l, const uint8_t *msg, size_t len)
{
    rx_msg r;
    memset(&r, 0, sizeof r);
    r.msg = msg;
    r.len = len;
    wmmp_err e = check_message(msg, len, &r.m);
    if (e != WMMP_OK) {
        reject(l, msg, len, e);
    } else {
        r.fp = fingerprint(msg, len);
        if (is_fragment_message(&r.m))
            rx_fragment(l, &r);
        else
            rx_whole(l, &r);
    }
}

void wmmp_link_reset(wmmp_link *l)
{
    if (!l || l->doomed)
        return;
    enter(l);
    /* Everything is taken off the link first: callbacks may queue new requests meanwhile. */
    outstanding *o = l->out ? detach_outstanding(l) : NULL;
    queued *q = l->head;
    l->head = l->tail = NULL;
    l->queued_count = 0;
    transfer_drop(&l->rx_req);
    transfer_drop(&l->rx_ack);
    l->consecutive_failures = 0;
    if (o) {
        report_failed(l, o->q);
        outstanding_free(o);
    }
    while (q) {
        queued *next = q->next;
        if (!l->doomed)
            report_failed(l, q);
        queued_free(q);
        q = next;
    }
    leave(l);
}

size_t wmmp_link_pending(const wmmp_link *l) { return l->queued_count + (l->out ? 1 : 0); }
const wmmp_link_stats *wmmp_link_get_stats(const wmmp_link *l) { return &l->stats; }
void *wmmp_link_user(const wmmp_link *l) { return l->user; }
