/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_message.h"

#include <stdlib.h>
#include <string.h>

#include "wmmp_tables.h"

wmmp_err wmmp_msg_begin(wmmp_writer *w, uint8_t *buf, size_t cap, const wmmp_header *h)
{
    wmmp_writer_init(w, buf, cap > WMMP_MAX_MESSAGE ? WMMP_MAX_MESSAGE : cap);
    uint8_t *p = wmmp_put_reserve(w, WMMP_HEADER_LEN);
    if (p)
        wmmp_header_encode(h, p);
    return w->err;
}

wmmp_err wmmp_msg_encrypt_body(wmmp_writer *w, const uint8_t session_key[WMMP_SESSION_KEY_LEN])
{
    if (w->err != WMMP_OK)
        return w->err;
    if (w->len < WMMP_HEADER_LEN)
        return w->err = WMMP_ERR_INVALID_ARGUMENT;
    size_t plain_len = w->len - WMMP_HEADER_LEN;
    uint8_t *plain = malloc(plain_len ? plain_len : 1);
    if (!plain)
        return w->err = WMMP_ERR_NO_SPACE;
    memcpy(plain, w->buf + WMMP_HEADER_LEN, plain_len);
    w->len = WMMP_HEADER_LEN;
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_BODY, session_key, plain, plain_len);
    free(plain);
    return w->err;
}

wmmp_err wmmp_msg_finish(wmmp_writer *w, const wmmp_signer *signer)
{
    if (w->err != WMMP_OK)
        return w->err;
    if (w->len < WMMP_HEADER_LEN)
        return w->err = WMMP_ERR_INVALID_ARGUMENT;
    int digest = (w->buf[10] & WMMP_FLAG_DIGEST) != 0;
    if (digest && (!signer || !signer->keys))
        return w->err = WMMP_ERR_INVALID_ARGUMENT;
    size_t total = w->len + (digest ? WMMP_DIGEST_TLV_LEN : 0);
    if (total > WMMP_MAX_MESSAGE)
        return w->err = WMMP_ERR_TOO_LONG;
    wmmp_store16(w->buf, (uint16_t)total);
    if (!digest)
        return WMMP_OK;
    size_t covered = w->len;
    uint8_t *t = wmmp_put_reserve(w, WMMP_DIGEST_TLV_LEN);
    if (!t)
        return w->err;
    wmmp_store16(t, WMMP_TAG_DIGEST);
    wmmp_store16(t + 2, WMMP_DIGEST_LEN);
    wmmp_digest_compute(w->buf, covered, signer->timestamp, signer->keys, signer->direction, t + 4);
    return WMMP_OK;
}

wmmp_err wmmp_message_parse(const uint8_t *buf, size_t len, wmmp_message *m)
{
    memset(m, 0, sizeof *m);
    wmmp_err e = wmmp_header_decode(buf, len, &m->hdr);
    if (e != WMMP_OK)
        return e;
    size_t total = m->hdr.total_length;
    m->msg = buf;
    m->body = buf + WMMP_HEADER_LEN;
    m->body_len = total - WMMP_HEADER_LEN;
    if (!(m->hdr.safe_flag & WMMP_FLAG_DIGEST))
        return WMMP_OK;
    if (m->body_len < WMMP_DIGEST_TLV_LEN || !wmmp_has_digest_tlv(buf, total))
        return WMMP_ERR_DIGEST_MISSING;
    m->body_len -= WMMP_DIGEST_TLV_LEN;
    m->digest = buf + total - WMMP_DIGEST_LEN;
    return WMMP_OK;
}

wmmp_err wmmp_message_tlvs(const wmmp_message *m, wmmp_reader *r)
{
    int prefix = wmmp_command_prefix_len(m->hdr.command_id);
    if (prefix < 0)
        prefix = 0; /* unknown command: try the whole body as TLVs */
    if ((size_t)prefix > m->body_len) {
        wmmp_reader_init(r, NULL, 0);
        return WMMP_ERR_BODY_TRUNCATED;
    }
    wmmp_reader_init(r, m->body + prefix, m->body_len - (size_t)prefix);
    return WMMP_OK;
}

/* True when the body is exactly one TLV with this tag. */
static int body_is_single_tlv(const wmmp_message *m, uint16_t tag)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_reader_init(&r, m->body, m->body_len);
    return wmmp_tlv_next(&r, &t) == WMMP_OK && t.tag == tag && wmmp_reader_left(&r) == 0;
}

static int has_tlv(const wmmp_message *m, uint16_t tag)
{
    wmmp_reader r;
    wmmp_tlv t;
    if (wmmp_carries_data_block(m->hdr.command_id))
        return 0;
    if (wmmp_message_tlvs(m, &r) != WMMP_OK)
        return 0;
    while (wmmp_tlv_next(&r, &t) == WMMP_OK)
        if (t.tag == tag)
            return 1;
    return 0;
}

wmmp_err wmmp_message_classify(const wmmp_message *m, wmmp_msg_class *cls)
{
    uint8_t flag = m->hdr.safe_flag;
    int digest = (flag & WMMP_FLAG_DIGEST) != 0;
    int fully = body_is_single_tlv(m, WMMP_TAG_ENCRYPTED_BODY);
    int partly = !fully && has_tlv(m, WMMP_TAG_ENCRYPTED_TLVS);
    int enc_bits = (flag & (WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT)) ==
                   (WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT);

    if (fully)
        *cls = WMMP_CLASS_FULLY_ENCRYPTED;
    else if (partly)
        *cls = WMMP_CLASS_ENCRYPTED;
    else if (digest)
        *cls = WMMP_CLASS_ACCESS;
    else
        *cls = WMMP_CLASS_COMMON;

    if ((flag & WMMP_FLAG_RESERVED_MASK) || ((fully || partly) && !digest) || (fully && !enc_bits) ||
        (enc_bits && !fully && !partly))
        return WMMP_ERR_FLAG_CONTENT_MISMATCH;
    return WMMP_OK;
}
