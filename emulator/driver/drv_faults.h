/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault injection (--loss, --duplicate, --delay), all drawn from the run's seeded generator. Drivers apply
 * loss where they send and where they receive (so one process's --loss covers both directions),
 * duplication and delay where they send.
 */
#ifndef DRV_FAULTS_H
#define DRV_FAULTS_H

#include "drv_rng.h"
#include "emu_env.h"

typedef struct {
    double loss;      /* probability that one message is dropped */
    double duplicate; /* probability that a sent message goes out twice */
    emu_ms delay_ms;  /* extra delay of each sent message ... */
    emu_ms jitter_ms; /* ... plus or minus up to this much */
} drv_faults;

/* "MS", "MS+-J" or "MS~J" (also the UTF-8 "MS±J"): 0 on success. */
int drv_faults_parse_delay(const char *text, drv_faults *f);

/* Draws only when the fault is configured, so a run without faults draws nothing. */
static inline int drv_faults_drop(const drv_faults *f, drv_rng *r) { return f->loss > 0 && drv_rng_unit(r) < f->loss; }
static inline int drv_faults_dup(const drv_faults *f, drv_rng *r)
{
    return f->duplicate > 0 && drv_rng_unit(r) < f->duplicate;
}
emu_ms drv_faults_delay(const drv_faults *f, drv_rng *r);
/* True when any fault is configured. */
int drv_faults_any(const drv_faults *f);

#endif
