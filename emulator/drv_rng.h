/*
 * The run's one random generator (splitmix64): every random choice of a driver and of the nodes
 * (env->random) comes from it, so the same --seed gives the same run offline.
 */
#ifndef DRV_RNG_H
#define DRV_RNG_H

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

/* Uniform in [0, 1). */
static inline double drv_rng_unit(drv_rng *r) { return (double)(drv_rng_next64(r) >> 11) / 9007199254740992.0; }

#endif
