/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_faults.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_ms(const char *s, char **end, emu_ms *out)
{
    unsigned long long v;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, end, 10);
    if (errno || v > 3600000ull) /* an hour is more than any test wants */
        return -1;
    *out = v;
    return 0;
}

int drv_faults_parse_delay(const char *text, drv_faults *f)
{
    char *end;
    emu_ms delay, jitter = 0;
    if (parse_ms(text, &end, &delay))
        return -1;
    if (*end) {
        const char *j;
        if (!strncmp(end, "+-", 2))
            j = end + 2;
        else if (!strncmp(end, "\xc2\xb1", 2)) /* ± */
            j = end + 2;
        else if (*end == '~')
            j = end + 1;
        else
            return -1;
        if (parse_ms(j, &end, &jitter) || *end)
            return -1;
    }
    f->delay_ms = delay;
    f->jitter_ms = jitter;
    return 0;
}

emu_ms drv_faults_delay(const drv_faults *f, drv_rng *r)
{
    int64_t d = (int64_t)f->delay_ms;
    if (f->jitter_ms)
        d += (int64_t)(drv_rng_next64(r) % (2 * f->jitter_ms + 1)) - (int64_t)f->jitter_ms;
    return d > 0 ? (emu_ms)d : 0;
}

int drv_faults_any(const drv_faults *f)
{
    return f->loss > 0 || f->duplicate > 0 || f->delay_ms > 0 || f->jitter_ms > 0;
}
