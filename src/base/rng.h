// Seeded, portable random numbers (xoshiro256**, seeded through splitmix64), so a seed gives the
// same stream on every machine and thread count.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
    int has_spare;   // Box-Muller produces two normals; the second is kept here
    double spare;
} rng;

void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
uint64_t rng_below(rng *r, uint64_t n);     // uniform in [0, n), unbiased
double rng_uniform(rng *r);                  // uniform in [0, 1)
double rng_normal(rng *r);                   // standard normal
void rng_shuffle_u32(rng *r, uint32_t *a, size_t n);
// An independent stream for (seed, index): for per-thread or per-item generators.
void rng_seed_stream(rng *r, uint64_t seed, uint64_t index);
