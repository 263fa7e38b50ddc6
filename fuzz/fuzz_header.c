/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The 28-byte header: decode, the heuristic signature, encode round trip. */
#include "fuzz_common.h"
#include "wmmp_header.h"
#include "wmmp_tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wmmp_header h;
    wmmp_err e = wmmp_header_decode(data, size, &h);
    int plausible = wmmp_header_plausible(data, size);
    if (size < WMMP_HEADER_LEN) {
        if (e != WMMP_ERR_TRUNCATED_HEADER || plausible)
            __builtin_trap();
        return 0;
    }
    uint8_t out[WMMP_HEADER_LEN];
    char serial[WMMP_SERIAL_LEN + 1];
    wmmp_header_encode(&h, out);
    if (memcmp(out, data, WMMP_HEADER_LEN) != 0) /* every header field is kept as it was */
        __builtin_trap();
    if (plausible && e != WMMP_OK) /* the signature implies a decodable header */
        __builtin_trap();
    if (e == WMMP_OK && (h.total_length < WMMP_HEADER_LEN || h.total_length > size))
        __builtin_trap();
    wmmp_serial_str(h.terminal_serial, serial);
    fuzz_use(serial, strlen(serial));
    const char *name = wmmp_command_name(h.command_id);
    if (name)
        fuzz_use(name, strlen(name));
    return 0;
}
