/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixed body prefixes of profile section 5: the first input byte picks the decoder, the rest is the
 * body. Decoded values that carry a length must stay inside the body; fixed-size prefixes re-encode.
 */
#include "fuzz_common.h"
#include "wmmp_body.h"
#include "wmmp_tlv.h"

static void inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    if (n && (!p || p < buf || p + n > buf + len))
        __builtin_trap();
    if (n)
        fuzz_use(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    wmmp_reader r;
    uint8_t out[64];
    wmmp_writer w;
    wmmp_reader_init(&r, body, len);
    wmmp_writer_init(&w, out, sizeof out);
    switch (which % 9) {
    case 0: {
        wmmp_login b;
        if (wmmp_login_get(&r, &b) == WMMP_OK) {
            if (strlen(b.software_version) > WMMP_SOFTWARE_VERSION_LEN)
                __builtin_trap();
            wmmp_login_put(&w, &b);
        }
        break;
    }
    case 1: {
        wmmp_login_ack b;
        if (wmmp_login_ack_get(&r, &b) == WMMP_OK) {
            wmmp_login_ack_put(&w, &b);
            if (w.err != WMMP_OK || memcmp(out, body, w.len) != 0)
                __builtin_trap();
        }
        break;
    }
    case 2: {
        wmmp_register b;
        if (wmmp_register_get(&r, &b) == WMMP_OK) {
            if (strlen(b.imei) > WMMP_IMEI_LEN || strlen(b.imsi) > WMMP_IMSI_LEN)
                __builtin_trap();
            wmmp_register_put(&w, &b);
        }
        break;
    }
    case 3: {
        wmmp_register_ack b;
        if (wmmp_register_ack_get(&r, &b) == WMMP_OK) {
            if (strlen(b.serial) > 16)
                __builtin_trap();
            wmmp_register_ack_put(&w, &b);
        }
        break;
    }
    case 4: {
        wmmp_file_req b;
        if (wmmp_file_req_get(&r, &b) == WMMP_OK) {
            wmmp_file_req_put(&w, &b);
            if (w.err != WMMP_OK || memcmp(out, body, w.len) != 0)
                __builtin_trap();
        }
        break;
    }
    case 5: {
        wmmp_file_ack b;
        if (wmmp_file_ack_get(&r, &b) == WMMP_OK)
            inside(b.data, b.length, body, len);
        break;
    }
    case 6:
    case 7: {
        wmmp_transparent b;
        if (wmmp_transparent_get(&r, &b) == WMMP_OK) {
            inside(b.dest, b.dest_len, body, len);
            inside(b.user_data, b.user_data_len, body, len);
        }
        break;
    }
    case 8: {
        uint16_t tags[64];
        size_t count = 0;
        if (wmmp_tag_list_get(&r, tags, 64, &count) == WMMP_OK && count > 64)
            __builtin_trap();
        break;
    }
    }
    if (r.pos > r.len)
        __builtin_trap();
    return 0;
}
