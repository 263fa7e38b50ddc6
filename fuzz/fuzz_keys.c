/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The keys file of profile section 11, line by line: a parsed line formats and parses back the same. */
#include <stdlib.h>

#include "fuzz_common.h"
#include "wmmp_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = text, *next; line; line = next) {
        wmmp_terminal_keys k, again;
        char err[256], out[512];
        memset(&k, 0, sizeof k);
        memset(&again, 0, sizeof again);
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (wmmp_keys_parse_line(line, &k, err, sizeof err) != WMMP_OK)
            continue;
        if (wmmp_keys_format_line(&k, out, sizeof out) != WMMP_OK ||
            wmmp_keys_parse_line(out, &again, err, sizeof err) != WMMP_OK || memcmp(&k, &again, sizeof k) != 0)
            __builtin_trap();
    }
    free(text);
    return 0;
}
