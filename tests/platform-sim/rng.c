/*
 * rng.c — splitmix64, FNV-1a and xoshiro256** (see rng.h).
 */
#include "rng.h"

#include <string.h>

uint64_t nt_rng_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t nt_rng_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t nt_rng_hash_str(uint64_t seed, const char *s)
{
    return nt_rng_mix(nt_rng_fnv(NT_RNG_FNV_BASIS ^ nt_rng_mix(seed), s, strlen(s)));
}

uint64_t nt_rng_derive(uint64_t h, uint64_t purpose, uint64_t idx)
{
    return nt_rng_mix(h ^ nt_rng_mix(purpose * 0x9e3779b97f4a7c15ULL + idx));
}

double nt_rng_unit(uint64_t h)
{
    return (double)(h >> 11) * 0x1.0p-53;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void nt_rng_seed(nt_rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        r->s[i] = nt_rng_mix(x);
    }
}

uint64_t nt_rng_next(nt_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nt_rng_next_unit(nt_rng_t *r)
{
    return nt_rng_unit(nt_rng_next(r));
}

uint64_t nt_rng_below(nt_rng_t *r, uint64_t n)
{
    return n == 0 ? 0 : nt_rng_next(r) % n;
}
