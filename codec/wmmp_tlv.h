/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded big-endian byte writer and reader, and the TLV layer on top of them (profile section 4:
 * Tag (2) | Length (2) | Value). Neither can touch a byte outside its buffer: the writer's error is sticky
 * (after the first failure nothing more is written), and every reader call checks what is left first.
 */
#ifndef WMMP_TLV_H
#define WMMP_TLV_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"

#define WMMP_TLV_HEADER_LEN 4

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    wmmp_err err; /* first failure, sticky */
} wmmp_writer;

void wmmp_writer_init(wmmp_writer *w, uint8_t *buf, size_t cap);
wmmp_err wmmp_put_u8(wmmp_writer *w, uint8_t v);
wmmp_err wmmp_put_u16(wmmp_writer *w, uint16_t v);
wmmp_err wmmp_put_u32(wmmp_writer *w, uint32_t v);
wmmp_err wmmp_put_bytes(wmmp_writer *w, const void *p, size_t n);
/* Copies up to n bytes of s and pads with 0x00 to exactly n bytes (fixed-width string fields). */
wmmp_err wmmp_put_padded(wmmp_writer *w, const char *s, size_t n);
/* Reserves n bytes and returns where they start (NULL on failure), for values written afterwards. */
uint8_t *wmmp_put_reserve(wmmp_writer *w, size_t n);

wmmp_err wmmp_put_tlv(wmmp_writer *w, uint16_t tag, const void *value, size_t len);
wmmp_err wmmp_put_tlv_u8(wmmp_writer *w, uint16_t tag, uint8_t v);
wmmp_err wmmp_put_tlv_u16(wmmp_writer *w, uint16_t tag, uint16_t v);
wmmp_err wmmp_put_tlv_u32(wmmp_writer *w, uint16_t tag, uint32_t v);
wmmp_err wmmp_put_tlv_str(wmmp_writer *w, uint16_t tag, const char *s);
/* A request for values: each tag with length 0 (CONFIG_GET, CONFIG_REQ, rejected tags). */
wmmp_err wmmp_put_tag_list(wmmp_writer *w, const uint16_t *tags, size_t n);

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
} wmmp_reader;

typedef struct {
    uint16_t tag;
    uint16_t length;
    const uint8_t *value; /* points into the reader's buffer */
    size_t offset;        /* of the tag, from the start of the reader's buffer */
} wmmp_tlv;

void wmmp_reader_init(wmmp_reader *r, const uint8_t *buf, size_t len);
static inline size_t wmmp_reader_left(const wmmp_reader *r) { return r->len - r->pos; }
wmmp_err wmmp_get_u8(wmmp_reader *r, uint8_t *v);
wmmp_err wmmp_get_u16(wmmp_reader *r, uint16_t *v);
wmmp_err wmmp_get_u32(wmmp_reader *r, uint32_t *v);
wmmp_err wmmp_get_bytes(wmmp_reader *r, void *out, size_t n);
/* Returns a pointer to the next n bytes and skips them; NULL (nothing consumed) when fewer are left. */
const uint8_t *wmmp_get_view(wmmp_reader *r, size_t n);

/*
 * Next TLV: WMMP_OK with *out filled, WMMP_END when the reader is exactly at its end, or
 * WMMP_ERR_TLV_TRUNCATED / WMMP_ERR_TLV_OVERRUN (the reader does not move on an error).
 */
wmmp_err wmmp_tlv_next(wmmp_reader *r, wmmp_tlv *out);
/* First TLV with this tag in buf; WMMP_ERR_TLV_MISSING when absent, or the parse error met first. */
wmmp_err wmmp_tlv_find(const uint8_t *buf, size_t len, uint16_t tag, wmmp_tlv *out);
/* Checks that buf is a whole sequence of TLVs; *count gets how many (may be NULL). */
wmmp_err wmmp_tlv_validate(const uint8_t *buf, size_t len, size_t *count);

/* Typed values; WMMP_ERR_TLV_BAD_LENGTH when the length does not fit the type. */
wmmp_err wmmp_tlv_u8(const wmmp_tlv *t, uint8_t *v);
wmmp_err wmmp_tlv_u16(const wmmp_tlv *t, uint16_t *v);
wmmp_err wmmp_tlv_u32(const wmmp_tlv *t, uint32_t *v);

/* Big-endian loads and stores on raw bytes (callers check bounds). */
static inline uint16_t wmmp_load16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t wmmp_load32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void wmmp_store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wmmp_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
