/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_fragment.h"

#include <stdlib.h>
#include <string.h>

#include "wmmp_tables.h"

/* The largest data a 0x4008 value can carry: its length field is 16 bits. */
#define FRAGMENT_MAX_TLV_DATA (0xFFFFu - WMMP_FRAGMENT_HEADER_LEN)

static int numbers_valid(uint16_t total, uint16_t number)
{
    return total != 0 && number != 0 && number <= total;
}

/* Records an argument error in the writer like any writer failure, so checking w->err at the end works. */
static wmmp_err writer_fail(wmmp_writer *w, wmmp_err err)
{
    if (w->err == WMMP_OK)
        w->err = err;
    return w->err;
}

wmmp_err wmmp_fragment_decode(const uint8_t *value, size_t len, wmmp_fragment *out)
{
    if (!out || (!value && len))
        return WMMP_ERR_INVALID_ARGUMENT;
    if (len < WMMP_FRAGMENT_HEADER_LEN)
        return WMMP_ERR_FRAGMENT_TRUNCATED;
    out->transaction_id = wmmp_load16(value);
    out->total = wmmp_load16(value + 2);
    out->number = wmmp_load16(value + 4);
    out->operation = value[6];
    out->data_len = len - WMMP_FRAGMENT_HEADER_LEN;
    out->data = out->data_len ? value + WMMP_FRAGMENT_HEADER_LEN : NULL;
    return numbers_valid(out->total, out->number) ? WMMP_OK : WMMP_ERR_FRAGMENT_BAD_NUMBER;
}

wmmp_err wmmp_fragment_put(wmmp_writer *w, const wmmp_fragment *f)
{
    if (!w)
        return WMMP_ERR_INVALID_ARGUMENT;
    if (w->err != WMMP_OK)
        return w->err;
    if (!f || (!f->data && f->data_len))
        return writer_fail(w, WMMP_ERR_INVALID_ARGUMENT);
    if (!numbers_valid(f->total, f->number))
        return writer_fail(w, WMMP_ERR_FRAGMENT_BAD_NUMBER);
    if (f->data_len > FRAGMENT_MAX_TLV_DATA)
        return writer_fail(w, WMMP_ERR_TOO_LONG);

    /* One reservation for the whole TLV, so a full buffer leaves no half-written fragment behind. */
    size_t value_len = WMMP_FRAGMENT_HEADER_LEN + f->data_len;
    uint8_t *p = wmmp_put_reserve(w, WMMP_TLV_HEADER_LEN + value_len);
    if (!p)
        return w->err;
    wmmp_store16(p, WMMP_TAG_FRAGMENT);
    wmmp_store16(p + 2, (uint16_t)value_len);
    wmmp_store16(p + 4, f->transaction_id);
    wmmp_store16(p + 6, f->total);
    wmmp_store16(p + 8, f->number);
    p[10] = f->operation;
    if (f->data_len)
        memcpy(p + 11, f->data, f->data_len);
    return WMMP_OK;
}

size_t wmmp_fragment_count(size_t body_len)
{
    if (body_len <= WMMP_FRAGMENT_MAX_DATA)
        return 1;
    return body_len / WMMP_FRAGMENT_MAX_DATA + (body_len % WMMP_FRAGMENT_MAX_DATA != 0);
}

wmmp_err wmmp_fragment_put_part(wmmp_writer *w, const uint8_t *body, size_t body_len, uint16_t transaction_id,
                                uint16_t number)
{
    if (!w)
        return WMMP_ERR_INVALID_ARGUMENT;
    if (w->err != WMMP_OK)
        return w->err;
    if (!body && body_len)
        return writer_fail(w, WMMP_ERR_INVALID_ARGUMENT);
    size_t total = wmmp_fragment_count(body_len);
    if (total > WMMP_FRAGMENT_MAX_PARTS)
        return writer_fail(w, WMMP_ERR_TOO_LONG);
    if (number == 0 || number > total)
        return writer_fail(w, WMMP_ERR_FRAGMENT_BAD_NUMBER);

    size_t offset = (size_t)(number - 1) * WMMP_FRAGMENT_MAX_DATA;
    size_t left = body_len - offset;
    wmmp_fragment part = {
        .transaction_id = transaction_id,
        .total = (uint16_t)total,
        .number = number,
        .operation = WMMP_FRAGMENT_OP_DATA,
        .data = body_len ? body + offset : NULL,
        .data_len = left < WMMP_FRAGMENT_MAX_DATA ? left : WMMP_FRAGMENT_MAX_DATA,
    };
    return wmmp_fragment_put(w, &part);
}

wmmp_err wmmp_fragment_put_control(wmmp_writer *w, uint16_t transaction_id, uint16_t total, uint16_t number,
                                   uint8_t operation)
{
    if (!w)
        return WMMP_ERR_INVALID_ARGUMENT;
    if (w->err != WMMP_OK)
        return w->err;
    if (operation != WMMP_FRAGMENT_OP_SEND_NEXT && operation != WMMP_FRAGMENT_OP_RECEIVER_ABORT &&
        operation != WMMP_FRAGMENT_OP_SENDER_ABORT)
        return writer_fail(w, WMMP_ERR_INVALID_ARGUMENT);
    wmmp_fragment control = {
        .transaction_id = transaction_id,
        .total = total,
        .number = number,
        .operation = operation,
    };
    return wmmp_fragment_put(w, &control);
}

int wmmp_is_fragment_control(uint8_t safe_flag, const uint8_t *body, size_t body_len)
{
    if (!(safe_flag & WMMP_FLAG_ENCRYPTED_OR_FRAGMENT) || !body)
        return 0;
    if (body_len != WMMP_TLV_HEADER_LEN + WMMP_FRAGMENT_HEADER_LEN)
        return 0;
    return wmmp_load16(body) == WMMP_TAG_FRAGMENT && wmmp_load16(body + 2) == WMMP_FRAGMENT_HEADER_LEN;
}

void wmmp_reassembly_init(wmmp_reassembly *r)
{
    memset(r, 0, sizeof *r);
}

void wmmp_reassembly_free(wmmp_reassembly *r)
{
    free(r->buf);
    wmmp_reassembly_init(r);
}

/* Forgets the transfer but keeps the buffer for the next one. */
static void reassembly_reset(wmmp_reassembly *r)
{
    r->transaction_id = 0;
    r->total = 0;
    r->next = 0;
    r->len = 0;
    r->active = 0;
}

/* Makes room for need bytes (need <= WMMP_FRAGMENT_MAX_BODY); on failure the buffer is as it was. */
static wmmp_err reassembly_reserve(wmmp_reassembly *r, size_t need)
{
    if (need <= r->cap)
        return WMMP_OK;
    /* Doubling keeps a long transfer from reallocating at every part. */
    size_t cap = r->cap ? r->cap : 2 * WMMP_FRAGMENT_MAX_DATA;
    while (cap < need)
        cap *= 2;
    if (cap > WMMP_FRAGMENT_MAX_BODY)
        cap = WMMP_FRAGMENT_MAX_BODY;
    uint8_t *buf = realloc(r->buf, cap);
    if (!buf)
        return WMMP_ERR_NO_SPACE;
    r->buf = buf;
    r->cap = cap;
    return WMMP_OK;
}

static int is_repeat_of_last_accepted(const wmmp_reassembly *r, const wmmp_fragment *f)
{
    /* A completed transfer (inactive, total kept) last accepted its final part. */
    int completed = !r->active && r->total != 0;
    if (!r->active && !completed)
        return 0;
    uint16_t last = completed ? r->total : (uint16_t)(r->next - 1);
    return f->transaction_id == r->transaction_id && f->total == r->total && f->number == last;
}

wmmp_err wmmp_reassembly_add(wmmp_reassembly *r, const wmmp_fragment *f, int *complete)
{
    if (complete)
        *complete = 0;
    if (!r || !f || (!f->data && f->data_len))
        return WMMP_ERR_INVALID_ARGUMENT;

    if (f->operation == WMMP_FRAGMENT_OP_RECEIVER_ABORT || f->operation == WMMP_FRAGMENT_OP_SENDER_ABORT) {
        /* A stray abort of another transaction must not end the one in progress. */
        if (r->active && f->transaction_id != r->transaction_id)
            return WMMP_ERR_FRAGMENT_MISMATCH;
        reassembly_reset(r);
        return WMMP_ERR_FRAGMENT_ABORTED;
    }
    if (f->operation != WMMP_FRAGMENT_OP_DATA)
        return WMMP_ERR_INVALID_ARGUMENT;
    if (!numbers_valid(f->total, f->number))
        return WMMP_ERR_FRAGMENT_BAD_NUMBER;

    /* Checked before "part 1 restarts", so a retransmitted part 1 does not look like a new transfer. */
    if (is_repeat_of_last_accepted(r, f))
        return WMMP_ERR_FRAGMENT_DUPLICATE;

    int starts = f->number == 1;
    if (!starts) {
        if (!r->active)
            return WMMP_ERR_FRAGMENT_OUT_OF_ORDER;
        if (f->transaction_id != r->transaction_id || f->total != r->total)
            return WMMP_ERR_FRAGMENT_MISMATCH;
        if (f->number != r->next)
            return WMMP_ERR_FRAGMENT_OUT_OF_ORDER;
    }

    size_t kept = starts ? 0 : r->len;
    if (f->data_len > WMMP_FRAGMENT_MAX_BODY - kept) {
        reassembly_reset(r); /* it can never complete */
        return WMMP_ERR_TOO_LONG;
    }
    wmmp_err err = reassembly_reserve(r, kept + f->data_len);
    if (err != WMMP_OK)
        return err;

    if (starts) {
        r->transaction_id = f->transaction_id;
        r->total = f->total;
        r->len = 0;
        r->active = 1;
    }
    if (f->data_len)
        memcpy(r->buf + r->len, f->data, f->data_len);
    r->len += f->data_len;
    if (f->number == r->total) {
        /* next stays 0 here: total + 1 would not fit 16 bits when total is 65535. */
        r->active = 0;
        r->next = 0;
        if (complete)
            *complete = 1;
    } else {
        r->next = (uint16_t)(f->number + 1);
    }
    return WMMP_OK;
}

uint16_t wmmp_reassembly_wanted(const wmmp_reassembly *r)
{
    return r && r->active ? r->next : 0;
}
