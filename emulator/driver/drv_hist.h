/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A latency histogram with 1 ms buckets up to 10 s (the rest in one bucket): exact p50/p99 in little memory. */
#ifndef DRV_HIST_H
#define DRV_HIST_H

#include <stdint.h>

#include "emu_env.h"

#define DRV_HIST_MAX_MS 10000

typedef struct {
    uint32_t bucket[DRV_HIST_MAX_MS + 1];
    uint64_t count;
    uint64_t sum_ms;
    emu_ms max_ms;
} drv_hist;

void drv_hist_reset(drv_hist *h);
void drv_hist_add(drv_hist *h, emu_ms ms);
/* The smallest latency with at least q (0..1) of the samples at or below it; 0 when empty. */
emu_ms drv_hist_quantile(const drv_hist *h, double q);

#endif
