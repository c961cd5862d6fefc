/* Philox4x64-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as
 * 1, 2, 3"): the multipliers and Weyl constants of Random123, checked against its
 * known-answer vectors and NumPy's Philox in tests/sim. Normals by the ziggurat method
 * (ziggurat.h), whose rare exp and log are sim_math's (the same bits on every machine). */
#include "sim_random.h"
#include "sim_math.h"
#include "ziggurat.h"

#define PHILOX_M0 0xD2E7470EE14C6C93ULL
#define PHILOX_M1 0xCA5A826395121157ULL
#define PHILOX_W0 0x9E3779B97F4A7C15ULL
#define PHILOX_W1 0xBB67AE8584CAA73BULL

/* The 128-bit product of a and b as (hi, lo), portably. */
static void mulhilo(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

void btfm_sim_philox4x64(const uint64_t counter[4], const uint64_t key[2], uint64_t out[4])
{
    uint64_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint64_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint64_t hi0, lo0, hi1, lo1;
        mulhilo(PHILOX_M0, c0, &hi0, &lo0);
        mulhilo(PHILOX_M1, c2, &hi1, &lo1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void btfm_sim_rng_init(sim_rng *r, uint64_t seed, uint64_t purpose, uint64_t entity)
{
    r->key[0] = seed;
    r->key[1] = purpose;
    r->counter[0] = 0;
    r->counter[1] = entity;
    r->counter[2] = 0;
    r->counter[3] = 0;
    r->used = 4;
}

static inline uint64_t next_u64(sim_rng *r)
{
    if (r->used == 4) {
        btfm_sim_philox4x64(r->counter, r->key, r->block);
        r->counter[0]++;
        r->used = 0;
    }
    return r->block[r->used++];
}

uint64_t btfm_sim_rng_u64(sim_rng *r)
{
    return next_u64(r);
}

double btfm_sim_rng_uniform(sim_rng *r)
{
    /* The upper 53 bits plus half a step: the centre of one of 2^53 equal cells. */
    return ((double)(int64_t)(next_u64(r) >> 11) + 0.5) * 0x1p-53;
}

/* Ziggurat: one 64-bit word gives the layer (8 bits), the sign (1) and a 52-bit
 * abscissa; 99% of draws end at the first comparison, the rest go through the wedge test
 * or the tail (Marsaglia's exponential method), both on btfm_sim_exp / btfm_sim_log. */
static inline double normal(sim_rng *r)
{
    for (;;) {
        uint64_t bits = next_u64(r);
        int layer = (int)(bits & 0xff);
        bits >>= 8;
        int negative = (int)(bits & 1);
        uint64_t mantissa = (bits >> 1) & 0x000fffffffffffffULL;
        /* mantissa < 2^52: the signed conversion is exact, and one instruction */
        double x = (double)(int64_t)mantissa * zig_w[layer];
        if (negative) x = -x;
        if (mantissa < zig_k[layer]) return x;
        if (layer == 0) {
            for (;;) {
                double xx = -btfm_sim_log(btfm_sim_rng_uniform(r)) / ZIG_R;
                double yy = -btfm_sim_log(btfm_sim_rng_uniform(r));
                if (yy + yy > xx * xx) return (mantissa >> 8) & 1 ? -(ZIG_R + xx) : ZIG_R + xx;
            }
        }
        if ((zig_f[layer - 1] - zig_f[layer]) * btfm_sim_rng_uniform(r) + zig_f[layer] < btfm_sim_exp(-0.5 * x * x))
            return x;
    }
}

double btfm_sim_rng_normal(sim_rng *r)
{
    return normal(r);
}

void btfm_sim_rng_normals(sim_rng *r, float *out, int64_t n, size_t stride)
{
    for (int64_t i = 0; i < n; i++) out[(size_t)i * stride] = (float)normal(r);
}

uint64_t btfm_sim_rng_below(sim_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* accept [0, limit) */
    uint64_t x;
    do x = btfm_sim_rng_u64(r);
    while (x >= limit);
    return x % n;
}

void btfm_sim_rng_permutation(sim_rng *r, int64_t *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)btfm_sim_rng_below(r, (uint64_t)i + 1);
        int64_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}
