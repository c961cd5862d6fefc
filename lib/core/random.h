/* splitmix64 (Steele, Lea & Flood 2014): the small, well-mixed generator behind every
 * seeded draw of the library. Its stream is part of a seed's meaning (saved models and
 * traces depend on it), so it never changes. */
#ifndef BTFM_CORE_RANDOM_H
#define BTFM_CORE_RANDOM_H

#include <stdint.h>

static inline uint64_t btfm_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
