/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp_link: one terminal <-> platform association seen from one end, above the transport and below the
 * application (terminal.c, platform.c). It owns everything profile sections 7, 8 and 9 make common to both
 * sides:
 *
 *   - building messages: header (serial, own Sequence_ID counter with wrap-around), Safe_Flag by the
 *     security level, digest with the right password and timestamp, 0xE042 full-body encryption;
 *   - receiving: header checks, digest verification, decryption, fragment reassembly (answering each part
 *     but the last with a send-next control message), duplicate detection;
 *   - reliability (section 9): one request outstanding at a time, later ones queued in order; a request
 *     not acknowledged within the response timeout is sent again with the same Sequence_ID and bytes, up
 *     to the retry count; when `failure_threshold` requests in a row exhaust their retries the link
 *     reports communication failure (the application then logs out with reason 1);
 *   - answering duplicates: a request whose Sequence_ID was already answered gets the stored ACK again
 *     and is not passed to the application a second time;
 *   - fragmentation (section 8): a body longer than 900 bytes is sent as 0x4008 parts.
 *
 * Security class: an ACK, fragment part of an ACK or control without the digest this end would put on that
 * command (or, at FULL with a session key, a non-empty ACK body outside 0xE042) is below the session's class:
 * it never completes or advances a request; it counts as lost (the request is retransmitted, section 9) and
 * is reported through rejected() with WMMP_ERR_SECURITY_CLASS, so that a forged unsigned answer cannot
 * downgrade the session. REGISTER and its ACK are never signed, and a link without keys checks nothing.
 *
 * Timestamps (section 7): LOGIN is signed and verified with 0, a LOGIN_ACK with the timestamp in its own
 * body (the platform calls wmmp_link_set_timestamp() before answering a LOGIN), every other message with
 * the session timestamp set by wmmp_link_set_timestamp().
 *
 * The link is sans-IO: it sends through env->send() and keeps time with env timers only.
 */
#ifndef WMMP_LINK_H
#define WMMP_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "emu_env.h"
#include "wmmp_errors.h"
#include "wmmp_header.h"
#include "wmmp_security.h"
#include "wmmp_tables.h"

typedef struct wmmp_link wmmp_link;

/*
 * What goes on the wire (profile section 3):
 *   PLAIN      Safe_Flag 0x00 on every message.
 *   DIGEST     LOGIN 0xA0, every other message 0x20 (digest TLV appended); REGISTER 0x00.
 *   ENCRYPTED  LOGIN 0xE0; the platform's LOGIN_ACK delivers the session key in 0xE040 (the platform
 *              application puts that TLV in the body); later messages 0xE0 with digest, and TLVs the
 *              application wraps in 0xE040 are encrypted under the base key (class "encrypted").
 *   FULL       as ENCRYPTED up to the LOGIN_ACK; once a session key is set, every later message with a
 *              non-empty body is sent 0xF0 with the whole body in one 0xE042 (class "fully encrypted");
 *              empty bodies (HEART_BEAT_ACK, LOGOUT_ACK) go 0xE0.
 * REGISTER and LOGIN are never encrypted. Fragment parts carry flag 0x10 (| 0x20 with a digest); with
 * FULL the body is encrypted first and the 0xE042 TLV is what gets fragmented.
 */
typedef enum {
    WMMP_SEC_PLAIN = 0,
    WMMP_SEC_DIGEST = 1,
    WMMP_SEC_ENCRYPTED = 2,
    WMMP_SEC_FULL = 3,
} wmmp_security_level;

/* "plain", "digest", "encrypted", "full" (the programs' --security names). */
const char *wmmp_security_level_name(wmmp_security_level level);

typedef struct {
    wmmp_direction side;          /* WMMP_UPLINK: this end is the terminal (signs with the uplink password) */
    emu_ms response_timeout_ms;   /* profile default 3000 (TLV 0x0107) */
    unsigned retries;             /* retransmissions after the first send; default 3 (TLV 0x0108) */
    unsigned failure_threshold;   /* requests in a row that exhaust their retries; default 3 */
    unsigned duplicate_cache;     /* answered Sequence_IDs remembered for duplicates; default 4 */
} wmmp_link_config;

/* The defaults above. */
void wmmp_link_config_default(wmmp_link_config *cfg, wmmp_direction side);

/* One received message after security and reassembly. Valid only during the callback. */
typedef struct {
    wmmp_header hdr;          /* as received (for a reassembled message: the last part's header) */
    const uint8_t *body;      /* plaintext body: decrypted, reassembled, without the digest TLV */
    size_t body_len;
    int has_digest;           /* the message carried a digest TLV */
    int digest_ok;            /* it verified with the link's keys, timestamp and the peer's password */
    int decrypted;            /* the body came out of an 0xE042 */
} wmmp_rx;

typedef struct {
    /*
     * A new request (not a duplicate). The application answers it with wmmp_link_answer(), now or later,
     * including for a bad digest (result 3) or a terminal that is not logged in (result 9).
     */
    void (*request)(void *user, wmmp_link *l, const wmmp_rx *rx);
    /* The ACK of a request this end sent; req_ctx is what wmmp_link_request() was given. */
    void (*ack)(void *user, wmmp_link *l, const wmmp_rx *rx, void *req_ctx);
    /* A request exhausted its retries without an ACK (it is dropped; the next queued one goes out). */
    void (*request_failed)(void *user, wmmp_link *l, uint16_t command_id, uint32_t sequence, void *req_ctx);
    /* failure_threshold requests in a row failed: communication failure (profile section 9). */
    void (*failure)(void *user, wmmp_link *l);
    /*
     * A message the link could not use: malformed (header, lengths, TLVs), undecryptable, an ACK matching
     * no outstanding request, a broken fragment transfer. why says which; counted in the stats. May be NULL.
     */
    void (*rejected)(void *user, wmmp_link *l, const uint8_t *msg, size_t len, wmmp_err why);
} wmmp_link_callbacks;

/* Per link, so 32 bits (a platform and a load generator keep one link per terminal). */
typedef struct {
    uint32_t requests_sent;      /* first transmissions */
    uint32_t retransmissions;
    uint32_t requests_failed;    /* retries exhausted */
    uint32_t acks_received;
    uint32_t requests_received;  /* new requests passed to the application */
    uint32_t duplicates_answered;
    uint32_t duplicates_refused; /* copies from another address, or of a request below the class: not answered */
    uint32_t acks_sent;
    uint32_t rejected;
    uint32_t bad_digests;
    uint32_t below_class;        /* ACKs and controls without the digest (or 0xE042) this end's level demands */
    uint32_t fragments_sent, fragments_received;
    emu_ms last_ack_latency_ms;  /* of the last ACK, from the request's first transmission */
} wmmp_link_stats;

/* cb is referenced, not copied: it must outlive the link (a static table, as every caller has). */
wmmp_link *wmmp_link_new(const emu_env *env, emu_peer *peer, const wmmp_link_config *cfg,
                         const wmmp_link_callbacks *cb, void *user);
/* Cancels timers and frees queued requests (req_ctx is not freed: the application owns it). */
void wmmp_link_free(wmmp_link *l);

/* The 16-byte serial of the header (all zero before registration) and the keys (NULL: no digests), copied. */
void wmmp_link_set_identity(wmmp_link *l, const uint8_t serial[WMMP_SERIAL_LEN], const wmmp_terminal_keys *keys);
/* The same, but the keys are not copied: they must stay valid (and unchanged) while the link uses them. */
void wmmp_link_use_identity(wmmp_link *l, const uint8_t serial[WMMP_SERIAL_LEN], const wmmp_terminal_keys *keys);
void wmmp_link_set_security(wmmp_link *l, wmmp_security_level level);
wmmp_security_level wmmp_link_security(const wmmp_link *l);
/* The session's digest timestamp, from the last successful LOGIN_ACK (profile section 7). */
void wmmp_link_set_timestamp(wmmp_link *l, uint32_t timestamp);
/* The session key from the LOGIN_ACK's 0xE040 (FULL: later bodies go in 0xE042). NULL forgets it. */
void wmmp_link_set_session_key(wmmp_link *l, const uint8_t key[WMMP_SESSION_KEY_LEN]);
/* Where messages go (platform: the terminal's current address or TCP connection). */
void wmmp_link_set_peer(wmmp_link *l, emu_peer *peer);
emu_peer *wmmp_link_peer(const wmmp_link *l);
/* The next Sequence_ID this end uses (tests: wrap-around at 0xFFFFFFFF). */
void wmmp_link_set_next_sequence(wmmp_link *l, uint32_t seq);
/* Response timeout and retries, e.g. after a CONFIG_SET of 0x0107 / 0x0108. */
void wmmp_link_set_timing(wmmp_link *l, emu_ms response_timeout_ms, unsigned retries);

/*
 * Queues a request: command_id (no ACK bit) with body (the command's prefix and TLVs, plaintext; the link
 * adds security and fragments). Sent at once when nothing is outstanding. *seq (may be NULL) receives the
 * Sequence_ID it will carry. WMMP_ERR_TOO_LONG when the body cannot be sent even in parts.
 */
wmmp_err wmmp_link_request(wmmp_link *l, uint16_t command_id, const uint8_t *body, size_t len, void *req_ctx,
                           uint32_t *seq);

/*
 * Sends the ACK of request req (its header, as in wmmp_rx.hdr): command | 0x8000, same Sequence_ID,
 * body = the ACK body (result byte and TLVs). Stored for duplicates of that request.
 */
wmmp_err wmmp_link_answer(wmmp_link *l, const wmmp_header *req, const uint8_t *body, size_t len);

/* One whole message received from the peer (the driver has framed it). */
void wmmp_link_receive(wmmp_link *l, const uint8_t *msg, size_t len);
/*
 * The same for a message from `from` (a platform: the datagram's source or the connection), which may not be
 * the link's peer. What it causes (the ACK of a new request, controls) goes to `from`; a copy of an answered
 * request is answered only when `from` is the peer and the request passed the security class, so a replay
 * with a forged source reflects nothing. The peer is not changed: the application moves it
 * (wmmp_link_set_peer) once it trusts the message. from NULL: the peer.
 */
void wmmp_link_receive_from(wmmp_link *l, emu_peer *from, const uint8_t *msg, size_t len);

/* Drops queued and outstanding requests (their req_ctx are reported through request_failed) and any transfer
   in progress; keeps identity, keys, sequence counter and the duplicate cache. Used on logout and failure. */
void wmmp_link_reset(wmmp_link *l);

/* Requests queued or outstanding. */
size_t wmmp_link_pending(const wmmp_link *l);
const wmmp_link_stats *wmmp_link_get_stats(const wmmp_link *l);
void *wmmp_link_user(const wmmp_link *l);

#endif
