/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TLV reader, validate and find agree with each other; a fully parsed sequence re-encodes byte for byte. */
#include <stdlib.h>

#include "fuzz_common.h"
#include "wmmp_tables.h"
#include "wmmp_tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_err e;
    size_t n = 0, counted = 0;
    uint8_t *copy = malloc(size ? size : 1);
    wmmp_writer w;
    wmmp_writer_init(&w, copy, size);
    wmmp_reader_init(&r, data, size);
    while ((e = wmmp_tlv_next(&r, &t)) == WMMP_OK) {
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        if (t.value < data || t.value + t.length > data + size || t.offset + 4 + t.length > size)
            __builtin_trap();
        fuzz_use(t.value, t.length);
        wmmp_tlv_u8(&t, &u8);
        wmmp_tlv_u16(&t, &u16);
        wmmp_tlv_u32(&t, &u32);
        wmmp_tag_lookup(t.tag, WMMP_DIALECT_WMMP3);
        wmmp_tag_lookup(t.tag, WMMP_DIALECT_PAPER);
        wmmp_put_tlv(&w, t.tag, t.value, t.length);
        n++;
    }
    if (r.pos > size)
        __builtin_trap();
    wmmp_err v = wmmp_tlv_validate(data, size, &counted);
    if ((e == WMMP_END) != (v == WMMP_OK))
        __builtin_trap();
    if (e == WMMP_END) {
        if (counted != n || w.err != WMMP_OK || w.len != size || (size && memcmp(copy, data, size) != 0))
            __builtin_trap();
    }
    if (size >= 2) {
        wmmp_tlv f;
        if (wmmp_tlv_find(data, size, wmmp_load16(data), &f) == WMMP_OK && f.tag != wmmp_load16(data))
            __builtin_trap();
    }
    free(copy);
    return 0;
}
