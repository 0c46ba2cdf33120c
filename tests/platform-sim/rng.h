/*
 * rng.h — hashing and seeded pseudo-random numbers for the simulator.
 *
 * Everything the simulator decides "at random" is either a pure function of
 * a hash of (seed, scope, number, ...) — so the same seed and clock give the
 * same platform state — or drawn from one seeded xoshiro256** stream (faults,
 * latency), so a run is reproducible from its seed and request order.
 */
#ifndef NT_RNG_H
#define NT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nt_rng_s {
    uint64_t s[4];
} nt_rng_t;

/* splitmix64's finaliser: a strong 64-bit mixer. */
uint64_t nt_rng_mix(uint64_t x);

/* FNV-1a over n bytes, continuing from h (start with NT_RNG_FNV_BASIS). */
#define NT_RNG_FNV_BASIS 0xcbf29ce484222325ULL
uint64_t nt_rng_fnv(uint64_t h, const void *p, size_t n);

/* A hash of the NUL-terminated string s under seed (mixed, well spread). */
uint64_t nt_rng_hash_str(uint64_t seed, const char *s);

/* Derives an independent value from h for a purpose tag and an index. */
uint64_t nt_rng_derive(uint64_t h, uint64_t purpose, uint64_t idx);

/* Maps h to a double in [0, 1). */
double nt_rng_unit(uint64_t h);

/* Seeds the stream (any seed, 0 included). */
void nt_rng_seed(nt_rng_t *r, uint64_t seed);

uint64_t nt_rng_next(nt_rng_t *r);

/* Uniform in [0, 1). */
double nt_rng_next_unit(nt_rng_t *r);

/* Uniform in [0, n); 0 when n is 0. */
uint64_t nt_rng_below(nt_rng_t *r, uint64_t n);

#endif
