/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fragments (profile section 8): the input is a series of 0x4008 values (2-byte length, value) fed to one
 * reassembly, as a receiver sees parts, repeats, aborts and controls. The body never exceeds the bound,
 * and a decoded fragment re-encodes to the same value.
 */
#include "fuzz_common.h"
#include "wmmp_fragment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = { data, size };
    wmmp_reassembly r;
    wmmp_reassembly_init(&r);
    while (in.left) {
        uint8_t flags = fuzz_u8(&in);
        size_t len;
        const uint8_t *v = fuzz_chunk(&in, &len);
        wmmp_fragment f;
        wmmp_err e = wmmp_fragment_decode(v, len, &f);
        /* the same bytes as a message body: fragment control or not */
        wmmp_is_fragment_control(flags, v, len);
        if (e != WMMP_OK)
            continue;
        if (f.data_len && (f.data < v || f.data + f.data_len > v + len))
            __builtin_trap();
        {
            uint8_t out[4 + 65535 + 8];
            wmmp_writer w;
            wmmp_writer_init(&w, out, sizeof out);
            if (wmmp_fragment_put(&w, &f) == WMMP_OK &&
                (w.len != len + 4 || memcmp(out + 4, v, len) != 0))
                __builtin_trap();
        }
        int complete = 0;
        wmmp_err a = wmmp_reassembly_add(&r, &f, &complete);
        if (r.len > WMMP_FRAGMENT_MAX_BODY || r.len > r.cap)
            __builtin_trap();
        if (a == WMMP_OK && complete)
            fuzz_use(r.buf, r.len);
        wmmp_reassembly_wanted(&r);
    }
    wmmp_reassembly_free(&r);
    return 0;
}
