/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole messages: build one (header, body, Total_Length, digest, full-body encryption) and take one apart
 * (header checks, body and digest located, the derived message class of profile section 3).
 */
#ifndef WMMP_MESSAGE_H
#define WMMP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"
#include "wmmp_header.h"
#include "wmmp_security.h"
#include "wmmp_tlv.h"

/*
 * The four message classes of the paper (wmmp.class), declared in wmmp_values.def: WMMP_CLASS_COMMON,
 * WMMP_CLASS_ACCESS (access-security verification: digest, no ciphertext), WMMP_CLASS_ENCRYPTED (digest,
 * some TLVs inside 0xE040), WMMP_CLASS_FULLY_ENCRYPTED (digest, whole body is one 0xE042).
 */
typedef enum {
#define WMMP_MSG_CLASS_SYM(v, sym, n) WMMP_CLASS_##sym = v,
#include "wmmp_values.def"
} wmmp_msg_class;

/* How to sign a message whose header has the DIGEST flag. */
typedef struct {
    const wmmp_terminal_keys *keys;
    wmmp_direction direction;
    uint32_t timestamp; /* 0 for LOGIN; the LOGIN_ACK timestamp afterwards (profile section 7) */
} wmmp_signer;

/* Starts a message in buf: writes the header (Total_Length is fixed by wmmp_msg_finish). */
wmmp_err wmmp_msg_begin(wmmp_writer *w, uint8_t *buf, size_t cap, const wmmp_header *h);

/*
 * Replaces everything written after the header by one 0xE042 TLV holding it encrypted under the session
 * key (a fully encrypted message; the caller's header flag should be 0xF0).
 */
wmmp_err wmmp_msg_encrypt_body(wmmp_writer *w, const uint8_t session_key[WMMP_SESSION_KEY_LEN]);

/*
 * Sets Total_Length and, when the header's DIGEST flag is set, appends the digest TLV signed by signer
 * (required then; ignored otherwise). The message is buf[0, w->len).
 */
wmmp_err wmmp_msg_finish(wmmp_writer *w, const wmmp_signer *signer);

typedef struct {
    wmmp_header hdr;
    const uint8_t *msg;   /* the whole message, hdr.total_length bytes */
    const uint8_t *body;  /* after the header, before the digest TLV when there is one */
    size_t body_len;
    const uint8_t *digest; /* the 16 MD5 bytes, or NULL */
} wmmp_message;

/*
 * Locates the parts of the message at the start of buf. Header errors as wmmp_header_decode;
 * WMMP_ERR_DIGEST_MISSING when DIGEST is set but the message does not end with the digest TLV (then the
 * body runs to the end). On success the message is buf[0, m->hdr.total_length).
 */
wmmp_err wmmp_message_parse(const uint8_t *buf, size_t len, wmmp_message *m);

/*
 * The derived class of a parsed message. Returns WMMP_OK, or WMMP_ERR_FLAG_CONTENT_MISMATCH when the
 * Safe_Flag and the content disagree (ciphertext without DIGEST, 0xE042 without the encryption bits or
 * those bits on a body without ciphertext, reserved bits set); *cls is the class the content shows either way.
 */
wmmp_err wmmp_message_classify(const wmmp_message *m, wmmp_msg_class *cls);

/* The TLVs of the body after the command's fixed prefix; WMMP_ERR_BODY_TRUNCATED when the body is shorter. */
wmmp_err wmmp_message_tlvs(const wmmp_message *m, wmmp_reader *r);

#endif
