/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_hist.h"

#include <math.h>
#include <string.h>

void drv_hist_reset(drv_hist *h) { memset(h, 0, sizeof *h); }

void drv_hist_add(drv_hist *h, emu_ms ms)
{
    h->bucket[ms > DRV_HIST_MAX_MS ? DRV_HIST_MAX_MS : ms]++;
    h->count++;
    h->sum_ms += ms;
    if (ms > h->max_ms)
        h->max_ms = ms;
}

emu_ms drv_hist_quantile(const drv_hist *h, double q)
{
    uint64_t need, seen = 0;
    if (h->count == 0)
        return 0;
    need = (uint64_t)ceil(q * (double)h->count);
    if (need == 0)
        need = 1;
    for (emu_ms i = 0; i <= DRV_HIST_MAX_MS; i++) {
        seen += h->bucket[i];
        if (seen >= need)
            return i == DRV_HIST_MAX_MS ? h->max_ms : i;
    }
    return h->max_ms;
}
