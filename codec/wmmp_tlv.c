/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_tlv.h"

#include <string.h>

void wmmp_writer_init(wmmp_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->err = WMMP_OK;
}

uint8_t *wmmp_put_reserve(wmmp_writer *w, size_t n)
{
    if (w->err != WMMP_OK)
        return NULL;
    if (n > w->cap - w->len) {
        w->err = WMMP_ERR_NO_SPACE;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

wmmp_err wmmp_put_u8(wmmp_writer *w, uint8_t v)
{
    uint8_t *p = wmmp_put_reserve(w, 1);
    if (p)
        *p = v;
    return w->err;
}

wmmp_err wmmp_put_u16(wmmp_writer *w, uint16_t v)
{
    uint8_t *p = wmmp_put_reserve(w, 2);
    if (p)
        wmmp_store16(p, v);
    return w->err;
}

wmmp_err wmmp_put_u32(wmmp_writer *w, uint32_t v)
{
    uint8_t *p = wmmp_put_reserve(w, 4);
    if (p)
        wmmp_store32(p, v);
    return w->err;
}

wmmp_err wmmp_put_bytes(wmmp_writer *w, const void *src, size_t n)
{
    uint8_t *p = wmmp_put_reserve(w, n);
    if (p && n)
        memcpy(p, src, n);
    return w->err;
}

wmmp_err wmmp_put_padded(wmmp_writer *w, const char *s, size_t n)
{
    uint8_t *p = wmmp_put_reserve(w, n);
    if (p) {
        size_t sl = s ? strnlen(s, n) : 0;
        memcpy(p, s, sl);
        memset(p + sl, 0, n - sl);
    }
    return w->err;
}

wmmp_err wmmp_put_tlv(wmmp_writer *w, uint16_t tag, const void *value, size_t len)
{
    if (len > 0xFFFF) {
        if (w->err == WMMP_OK)
            w->err = WMMP_ERR_TOO_LONG;
        return w->err;
    }
    wmmp_put_u16(w, tag);
    wmmp_put_u16(w, (uint16_t)len);
    return wmmp_put_bytes(w, value, len);
}

wmmp_err wmmp_put_tlv_u8(wmmp_writer *w, uint16_t tag, uint8_t v)
{
    return wmmp_put_tlv(w, tag, &v, 1);
}

wmmp_err wmmp_put_tlv_u16(wmmp_writer *w, uint16_t tag, uint16_t v)
{
    uint8_t b[2];
    wmmp_store16(b, v);
    return wmmp_put_tlv(w, tag, b, sizeof b);
}

wmmp_err wmmp_put_tlv_u32(wmmp_writer *w, uint16_t tag, uint32_t v)
{
    uint8_t b[4];
    wmmp_store32(b, v);
    return wmmp_put_tlv(w, tag, b, sizeof b);
}

wmmp_err wmmp_put_tlv_str(wmmp_writer *w, uint16_t tag, const char *s)
{
    return wmmp_put_tlv(w, tag, s, strlen(s));
}

wmmp_err wmmp_put_tag_list(wmmp_writer *w, const uint16_t *tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wmmp_put_tlv(w, tags[i], NULL, 0);
    return w->err;
}

void wmmp_reader_init(wmmp_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
}

const uint8_t *wmmp_get_view(wmmp_reader *r, size_t n)
{
    if (n > wmmp_reader_left(r))
        return NULL;
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

wmmp_err wmmp_get_u8(wmmp_reader *r, uint8_t *v)
{
    const uint8_t *p = wmmp_get_view(r, 1);
    if (!p)
        return WMMP_ERR_BODY_TRUNCATED;
    *v = *p;
    return WMMP_OK;
}

wmmp_err wmmp_get_u16(wmmp_reader *r, uint16_t *v)
{
    const uint8_t *p = wmmp_get_view(r, 2);
    if (!p)
        return WMMP_ERR_BODY_TRUNCATED;
    *v = wmmp_load16(p);
    return WMMP_OK;
}

wmmp_err wmmp_get_u32(wmmp_reader *r, uint32_t *v)
{
    const uint8_t *p = wmmp_get_view(r, 4);
    if (!p)
        return WMMP_ERR_BODY_TRUNCATED;
    *v = wmmp_load32(p);
    return WMMP_OK;
}

wmmp_err wmmp_get_bytes(wmmp_reader *r, void *out, size_t n)
{
    const uint8_t *p = wmmp_get_view(r, n);
    if (!p)
        return WMMP_ERR_BODY_TRUNCATED;
    if (n)
        memcpy(out, p, n);
    return WMMP_OK;
}

wmmp_err wmmp_tlv_next(wmmp_reader *r, wmmp_tlv *out)
{
    size_t left = wmmp_reader_left(r);
    if (left == 0)
        return WMMP_END;
    if (left < WMMP_TLV_HEADER_LEN)
        return WMMP_ERR_TLV_TRUNCATED;
    const uint8_t *p = r->buf + r->pos;
    uint16_t length = wmmp_load16(p + 2);
    if ((size_t)length > left - WMMP_TLV_HEADER_LEN)
        return WMMP_ERR_TLV_OVERRUN;
    out->tag = wmmp_load16(p);
    out->length = length;
    out->value = p + WMMP_TLV_HEADER_LEN;
    out->offset = r->pos;
    r->pos += WMMP_TLV_HEADER_LEN + (size_t)length;
    return WMMP_OK;
}

wmmp_err wmmp_tlv_find(const uint8_t *buf, size_t len, uint16_t tag, wmmp_tlv *out)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_err e;
    wmmp_reader_init(&r, buf, len);
    while ((e = wmmp_tlv_next(&r, &t)) == WMMP_OK) {
        if (t.tag == tag) {
            *out = t;
            return WMMP_OK;
        }
    }
    return e == WMMP_END ? WMMP_ERR_TLV_MISSING : e;
}

wmmp_err wmmp_tlv_validate(const uint8_t *buf, size_t len, size_t *count)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_err e;
    size_t n = 0;
    wmmp_reader_init(&r, buf, len);
    while ((e = wmmp_tlv_next(&r, &t)) == WMMP_OK)
        n++;
    if (count)
        *count = n;
    return e == WMMP_END ? WMMP_OK : e;
}

static wmmp_err tlv_fixed(const wmmp_tlv *t, size_t n)
{
    return t->length == n ? WMMP_OK : WMMP_ERR_TLV_BAD_LENGTH;
}

wmmp_err wmmp_tlv_u8(const wmmp_tlv *t, uint8_t *v)
{
    wmmp_err e = tlv_fixed(t, 1);
    if (e == WMMP_OK)
        *v = t->value[0];
    return e;
}

wmmp_err wmmp_tlv_u16(const wmmp_tlv *t, uint16_t *v)
{
    wmmp_err e = tlv_fixed(t, 2);
    if (e == WMMP_OK)
        *v = wmmp_load16(t->value);
    return e;
}

wmmp_err wmmp_tlv_u32(const wmmp_tlv *t, uint32_t *v)
{
    wmmp_err e = tlv_fixed(t, 4);
    if (e == WMMP_OK)
        *v = wmmp_load32(t->value);
    return e;
}
