/* An 8 x 8 float transpose in eight AVX2 registers (r[k] row k in, column k out): the
 * block step of the kernels that turn time-major samples channel-major and back. */
#ifndef BTFM_CORE_TRANSPOSE8_H
#define BTFM_CORE_TRANSPOSE8_H

#if defined(__GNUC__) && defined(__x86_64__)
#  include <immintrin.h>

#define BTFM_TRANSPOSE8_PS(r)                                                              \
    do {                                                                                   \
        __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);   \
        __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);   \
        __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);   \
        __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);   \
        __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE); \
        __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE); \
        __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE); \
        __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE); \
        r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);                                       \
        r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);                                       \
        r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);                                       \
        r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);                                       \
        r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);                                       \
        r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);                                       \
        r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);                                       \
        r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);                                       \
    } while (0)

/* Eight little-endian int16 from p as floats. */
#define BTFM_LOAD8_INT16_PS(p)                                                             \
    _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))))
#endif

#endif
