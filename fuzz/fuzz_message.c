/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole messages as a datagram carries them (back to back, framed by Total_Length): parse, classify, the
 * TLVs after the prefix, fragment control, and the text decoder with the example terminal's keys, which
 * verifies digests, decrypts 0xE040 / 0xE042 (learning the session key from a LOGIN_ACK earlier in the
 * input) and decodes health records.
 */
#include <stdio.h>

#include "fuzz_common.h"
#include "wmmp_format.h"
#include "wmmp_fragment.h"
#include "wmmp_message.h"

static FILE *devnull;
static wmmp_keyring kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull || wmmp_keyring_add(&kr, fuzz_keys()) != WMMP_OK)
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wmmp_decoder d;
    size_t off = 0;
    if (!devnull)
        LLVMFuzzerInitialize(NULL, NULL);
    wmmp_decoder_init(&d, &kr, (size && (data[0] & 1)) ? WMMP_DIALECT_PAPER : WMMP_DIALECT_WMMP3);
    while (off < size) {
        const uint8_t *msg = data + off;
        size_t left = size - off;
        wmmp_message m;
        wmmp_msg_class cls;
        wmmp_reader r;
        char summary[256];
        wmmp_err e = wmmp_message_parse(msg, left, &m);
        wmmp_format_summary(summary, sizeof summary, msg, left);
        if (strlen(summary) >= sizeof summary)
            __builtin_trap();
        wmmp_format_message(devnull, &d, msg, left);
        if (e != WMMP_OK && e != WMMP_ERR_DIGEST_MISSING)
            break;
        if (m.body < msg + WMMP_HEADER_LEN || m.body + m.body_len > msg + m.hdr.total_length)
            __builtin_trap();
        wmmp_message_classify(&m, &cls);
        wmmp_is_fragment_control(m.hdr.safe_flag, m.body, m.body_len);
        if (wmmp_message_tlvs(&m, &r) == WMMP_OK) {
            wmmp_tlv t;
            while (wmmp_tlv_next(&r, &t) == WMMP_OK)
                fuzz_use(t.value, t.length);
        }
        off += m.hdr.total_length;
    }
    return 0;
}
