/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_body.h"

#include <string.h>

#include "wmmp_crc.h"
#include "wmmp_tables.h"

/* Reads a fixed-width, NUL-padded ASCII field into a NUL-terminated string of n + 1 bytes. */
static wmmp_err get_padded(wmmp_reader *r, char *out, size_t n)
{
    const uint8_t *p = wmmp_get_view(r, n);
    if (!p)
        return WMMP_ERR_BODY_TRUNCATED;
    memcpy(out, p, n);
    out[n] = '\0';
    return WMMP_OK;
}

/* Runs each getter and keeps the first error, so decoders read as a list of fields. */
#define GET(call)                                                                                          \
    do {                                                                                                   \
        wmmp_err e_ = (call);                                                                              \
        if (e_ != WMMP_OK)                                                                                 \
            return e_;                                                                                     \
    } while (0)

wmmp_err wmmp_login_put(wmmp_writer *w, const wmmp_login *b)
{
    wmmp_put_padded(w, b->software_version, WMMP_SOFTWARE_VERSION_LEN);
    return wmmp_put_u32(w, b->sync_crc);
}

wmmp_err wmmp_login_get(wmmp_reader *r, wmmp_login *b)
{
    GET(get_padded(r, b->software_version, WMMP_SOFTWARE_VERSION_LEN));
    return wmmp_get_u32(r, &b->sync_crc);
}

wmmp_err wmmp_login_ack_put(wmmp_writer *w, const wmmp_login_ack *b)
{
    wmmp_put_u8(w, b->result);
    return wmmp_put_u32(w, b->timestamp);
}

wmmp_err wmmp_login_ack_get(wmmp_reader *r, wmmp_login_ack *b)
{
    GET(wmmp_get_u8(r, &b->result));
    return wmmp_get_u32(r, &b->timestamp);
}

wmmp_err wmmp_register_put(wmmp_writer *w, const wmmp_register *b)
{
    wmmp_put_u8(w, b->operation);
    wmmp_put_padded(w, b->imei, WMMP_IMEI_LEN);
    return wmmp_put_padded(w, b->imsi, WMMP_IMSI_LEN);
}

wmmp_err wmmp_register_get(wmmp_reader *r, wmmp_register *b)
{
    GET(wmmp_get_u8(r, &b->operation));
    GET(get_padded(r, b->imei, WMMP_IMEI_LEN));
    return get_padded(r, b->imsi, WMMP_IMSI_LEN);
}

wmmp_err wmmp_register_ack_put(wmmp_writer *w, const wmmp_register_ack *b)
{
    wmmp_put_u8(w, b->result);
    return wmmp_put_padded(w, b->serial, 16);
}

wmmp_err wmmp_register_ack_get(wmmp_reader *r, wmmp_register_ack *b)
{
    GET(wmmp_get_u8(r, &b->result));
    return get_padded(r, b->serial, 16);
}

wmmp_err wmmp_file_req_put(wmmp_writer *w, const wmmp_file_req *b)
{
    wmmp_put_u32(w, b->transaction_id);
    wmmp_put_u8(w, b->status);
    wmmp_put_u32(w, b->offset);
    return wmmp_put_u16(w, b->block_size);
}

wmmp_err wmmp_file_req_get(wmmp_reader *r, wmmp_file_req *b)
{
    GET(wmmp_get_u32(r, &b->transaction_id));
    GET(wmmp_get_u8(r, &b->status));
    GET(wmmp_get_u32(r, &b->offset));
    return wmmp_get_u16(r, &b->block_size);
}

wmmp_err wmmp_file_ack_put(wmmp_writer *w, const wmmp_file_ack *b)
{
    wmmp_put_u32(w, b->transaction_id);
    wmmp_put_u8(w, b->status);
    wmmp_put_u16(w, wmmp_crc16(b->data, b->length));
    wmmp_put_u32(w, b->offset);
    wmmp_put_u16(w, b->length);
    return wmmp_put_bytes(w, b->data, b->length);
}

wmmp_err wmmp_file_ack_get(wmmp_reader *r, wmmp_file_ack *b)
{
    GET(wmmp_get_u32(r, &b->transaction_id));
    GET(wmmp_get_u8(r, &b->status));
    GET(wmmp_get_u16(r, &b->crc16));
    GET(wmmp_get_u32(r, &b->offset));
    GET(wmmp_get_u16(r, &b->length));
    b->data = wmmp_get_view(r, b->length);
    if (!b->data)
        return WMMP_ERR_BODY_TRUNCATED;
    return wmmp_crc16(b->data, b->length) == b->crc16 ? WMMP_OK : WMMP_ERR_CRC_MISMATCH;
}

wmmp_err wmmp_transparent_put(wmmp_writer *w, const wmmp_transparent *b)
{
    wmmp_put_u16(w, wmmp_crc16(b->user_data, b->user_data_len));
    if (b->dest_tag)
        wmmp_put_tlv(w, b->dest_tag, b->dest, b->dest_len);
    return wmmp_put_tlv(w, WMMP_TAG_USER_DATA, b->user_data, b->user_data_len);
}

wmmp_err wmmp_transparent_get(wmmp_reader *r, wmmp_transparent *b)
{
    wmmp_tlv t;
    wmmp_err e;
    int have_data = 0;
    memset(b, 0, sizeof *b);
    GET(wmmp_get_u16(r, &b->crc16));
    while ((e = wmmp_tlv_next(r, &t)) == WMMP_OK) {
        if (t.tag == WMMP_TAG_DEST_SERIAL || t.tag == WMMP_TAG_DEST_EC_CODE) {
            b->dest_tag = t.tag;
            b->dest = t.value;
            b->dest_len = t.length;
        } else if (t.tag == WMMP_TAG_USER_DATA && !have_data) {
            b->user_data = t.value;
            b->user_data_len = t.length;
            have_data = 1;
        }
    }
    if (e != WMMP_END)
        return e;
    if (!have_data)
        return WMMP_ERR_TLV_MISSING;
    return wmmp_crc16(b->user_data, b->user_data_len) == b->crc16 ? WMMP_OK : WMMP_ERR_CRC_MISMATCH;
}

wmmp_err wmmp_tag_list_get(wmmp_reader *r, uint16_t *tags, size_t max, size_t *count)
{
    wmmp_tlv t;
    wmmp_err e;
    *count = 0;
    while ((e = wmmp_tlv_next(r, &t)) == WMMP_OK) {
        if (t.length != 0)
            return WMMP_ERR_TLV_BAD_LENGTH;
        if (*count >= max)
            return WMMP_ERR_NO_SPACE;
        tags[(*count)++] = t.tag;
    }
    return e == WMMP_END ? WMMP_OK : e;
}

uint32_t wmmp_login_sync_crc(const uint8_t *tlvs, size_t len)
{
    return wmmp_crc32(tlvs, len);
}
