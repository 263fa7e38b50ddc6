/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fragmentation (profile section 8). A body longer than 900 bytes travels as parts, each part's body being
 * one TLV 0x4008 whose value is
 *
 *     transaction ID (2) | total parts (2) | part number (2, from 1) | operation (1) | data (<= 900)
 *
 * The receiver answers every part but the last with a fragment-control message (the same TLV with no data
 * and operation "send next"), and either side may end the transfer with an abort.
 */
#ifndef WMMP_FRAGMENT_H
#define WMMP_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"
#include "wmmp_header.h"
#include "wmmp_security.h"
#include "wmmp_tlv.h"

#define WMMP_FRAGMENT_MAX_DATA 900
#define WMMP_FRAGMENT_HEADER_LEN 7 /* transaction ID, total, part number, operation */
#define WMMP_FRAGMENT_MAX_PARTS 0xFFFF

/* A reassembled body must fit one unfragmented message: header + body + digest TLV <= 65535. */
#define WMMP_FRAGMENT_MAX_BODY (WMMP_MAX_MESSAGE - WMMP_HEADER_LEN - WMMP_DIGEST_TLV_LEN)

/* The operation byte: WMMP_FRAGMENT_OP_DATA, ... (declared in wmmp_values.def, names by wmmp_fragment_op_name()). */
enum {
#define WMMP_FRAGMENT_OP_SYM(v, sym, n) WMMP_FRAGMENT_OP_##sym = v,
#include "wmmp_values.def"
};

typedef struct wmmp_fragment {
    uint16_t transaction_id;
    uint16_t total;  /* parts in the whole transfer */
    uint16_t number; /* this part, 1 ... total */
    uint8_t operation;
    const uint8_t *data; /* decode: points into the TLV value; NULL when data_len is 0 */
    size_t data_len;
} wmmp_fragment;

/*
 * Decodes the value of a 0x4008 TLV (not the tag and length). WMMP_ERR_FRAGMENT_TRUNCATED when len < 7;
 * WMMP_ERR_FRAGMENT_BAD_NUMBER when total is 0, or number is 0 or above total (a send-next asks for a part
 * that exists, so control messages follow the same rule). *out is filled whenever the 7 bytes were there,
 * so a dissector can still show a bad fragment. The operation is not checked: unknown values are shown,
 * not rejected.
 */
wmmp_err wmmp_fragment_decode(const uint8_t *value, size_t len, wmmp_fragment *out);

/*
 * Appends f as one whole 0x4008 TLV, or nothing at all. WMMP_ERR_FRAGMENT_BAD_NUMBER for numbers decode
 * would reject, WMMP_ERR_TOO_LONG when the value would not fit a 16-bit length, WMMP_ERR_NO_SPACE.
 * Like every writer call, a failure is recorded in w->err (sticky).
 */
wmmp_err wmmp_fragment_put(wmmp_writer *w, const wmmp_fragment *f);

/*
 * Parts needed to carry body_len bytes, 900 per part; at least 1. Only bodies longer than
 * WMMP_FRAGMENT_MAX_DATA are fragmented: callers send a body of 900 bytes or less unfragmented, so a
 * result of 1 means "do not fragment". A result above WMMP_FRAGMENT_MAX_PARTS cannot be sent.
 */
size_t wmmp_fragment_count(size_t body_len);

/*
 * Appends part `number` (1-based) of body as one 0x4008 TLV with operation 0 (data): the part's body of a
 * message that has WMMP_FLAG_ENCRYPTED_OR_FRAGMENT set. WMMP_ERR_TOO_LONG when the body needs more than
 * 65535 parts, WMMP_ERR_FRAGMENT_BAD_NUMBER when number is 0 or above wmmp_fragment_count(body_len).
 */
wmmp_err wmmp_fragment_put_part(wmmp_writer *w, const uint8_t *body, size_t body_len, uint16_t transaction_id,
                                uint16_t number);

/*
 * Appends the body of a fragment-control message: a 0x4008 TLV without data, with operation 1 (send next:
 * number is the part wanted next), 2 (receiver abort) or 3 (sender abort). WMMP_ERR_INVALID_ARGUMENT for
 * any other operation, WMMP_ERR_FRAGMENT_BAD_NUMBER as for decode.
 */
wmmp_err wmmp_fragment_put_control(wmmp_writer *w, uint16_t transaction_id, uint16_t total, uint16_t number,
                                   uint8_t operation);

/*
 * True when a message is a fragment-control message rather than an ordinary one (e.g. an ACK whose body
 * starts with a result byte): safe_flag has bit 0x10 and body is exactly one 0x4008 TLV with a 7-byte value
 * (profile section 8, last paragraph). body is the body before the digest TLV, as wmmp_message gives it.
 * The test is structural only; decode the TLV to check its numbers.
 */
int wmmp_is_fragment_control(uint8_t safe_flag, const uint8_t *body, size_t body_len);

/*
 * Receiver side: joins the data parts of one transfer in order.
 *
 * After a transfer completes, active and next are 0 but transaction_id and total are kept, so that a
 * retransmitted last part is still recognised as a duplicate (the caller then sends its final ACK again).
 */
typedef struct wmmp_reassembly {
    uint16_t transaction_id;
    uint16_t total;
    uint16_t next;  /* part wanted next while active; 0 otherwise */
    uint8_t *buf;   /* the body so far, owned (free with wmmp_reassembly_free) */
    size_t len;
    size_t cap;
    int active;     /* a transfer is in progress: parts 1 ... next - 1 are in buf */
} wmmp_reassembly;

void wmmp_reassembly_init(wmmp_reassembly *r);
/* Releases the buffer; r is then as after wmmp_reassembly_init and may be used again. */
void wmmp_reassembly_free(wmmp_reassembly *r);

/*
 * Feeds one received fragment. *complete (may be NULL) is set to 1 when this was the last part: then
 * r->buf / r->len hold the whole body, valid until the next add or free; otherwise it is set to 0.
 *
 *   - part 1 starts a transfer, discarding any unfinished one;
 *   - parts must then arrive in order 1 ... total: WMMP_ERR_FRAGMENT_OUT_OF_ORDER;
 *   - a repeat of the part just accepted (also the last part of a completed transfer):
 *     WMMP_ERR_FRAGMENT_DUPLICATE, so the caller can answer the retransmission again;
 *   - a different transaction ID or total during a transfer: WMMP_ERR_FRAGMENT_MISMATCH;
 *   - operation 2 or 3 ends the transfer: WMMP_ERR_FRAGMENT_ABORTED (unless it names another transaction
 *     than the one in progress: WMMP_ERR_FRAGMENT_MISMATCH);
 *   - operation 1 or an unknown operation is not a data part: WMMP_ERR_INVALID_ARGUMENT;
 *   - numbers decode would reject: WMMP_ERR_FRAGMENT_BAD_NUMBER;
 *   - a body growing beyond WMMP_FRAGMENT_MAX_BODY: WMMP_ERR_TOO_LONG, and the transfer ends;
 *   - memory exhausted: WMMP_ERR_NO_SPACE.
 * Every other error leaves r unchanged.
 */
wmmp_err wmmp_reassembly_add(wmmp_reassembly *r, const wmmp_fragment *f, int *complete);

/* The part number to ask for in a send-next control message; 0 when no transfer is in progress. */
uint16_t wmmp_reassembly_wanted(const wmmp_reassembly *r);

#endif
