/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run's one random generator (splitmix64): every random choice of a driver and of the nodes
 * (env->random) comes from it, so the same --seed gives the same run offline. It is predictable by design:
 * keys come from it only in offline runs (drv_rng_fill_reproducible), live drivers use a CSPRNG.
 */
#ifndef DRV_RNG_H
#define DRV_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} drv_rng;

static inline void drv_rng_seed(drv_rng *r, uint64_t seed) { r->state = seed; }

static inline uint64_t drv_rng_next64(drv_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t drv_rng_next(drv_rng *r) { return (uint32_t)(drv_rng_next64(r) >> 32); }

/* n bytes, 4 per draw: key material for reproducible offline captures only (predictable from the seed). */
static inline void drv_rng_fill_reproducible(drv_rng *r, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = drv_rng_next(r);
        for (size_t k = 0; k < 4 && i + k < n; k++)
            out[i + k] = (uint8_t)(v >> (8 * k)); /* little-endian: the bytes the platform once memcpy'd */
    }
}

/* Uniform in [0, 1). */
static inline double drv_rng_unit(drv_rng *r) { return (double)(drv_rng_next64(r) >> 11) / 9007199254740992.0; }

#endif
