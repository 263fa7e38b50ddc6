/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "wmmp_keys.h"

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t unit_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int high = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '|')
            continue;
        int v = nibble(*p);
        if (v < 0 || (high < 0 && n >= cap)) {
            fprintf(stderr, "unit_hex: bad hex or overflow at \"%s\"\n", p);
            abort();
        }
        if (high < 0) {
            high = v;
        } else {
            out[n++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
    }
    if (high >= 0) {
        fprintf(stderr, "unit_hex: odd number of digits in \"%s\"\n", hex);
        abort();
    }
    return n;
}

wmmp_terminal_keys unit_example_keys(void)
{
    wmmp_terminal_keys k;
    if (wmmp_keys_parse_line(UNIT_KEYS_LINE, &k, NULL, 0) != WMMP_OK) {
        fprintf(stderr, "unit_example_keys: UNIT_KEYS_LINE does not parse\n");
        abort();
    }
    return k;
}
