/* EDF/BDF sample decoding kernels: channel-contiguous little-endian int16/int24 to scaled,
 * time-major float rows, one scalar kernel and SSE2 (EDF), AVX2 and AVX-512 ones picked at
 * run time. Every kernel computes (float)((double)digital * gain + offset) with separate
 * multiply and add (no fused multiply-add), so all give bit-identical floats. */
#include <string.h>
#include "edf_internal.h"
#include "core/cpu.h"
#include "core/transpose8.h"
#if defined(__GNUC__) && defined(__x86_64__)
#  include <immintrin.h>
#  define EDF_X86 1
#endif

/* The scalar kernel on channels [j0, j1) of samples [t0, t1): also the finish of the
 * vector kernels (channels past a multiple of the block, samples past one). */
static void decode_scalar(const edf_decode *d, int j0, int j1, int64_t t0, int64_t t1)
{
    const int bps = d->bdf ? 3 : 2;
    for (int64_t t = t0; t < t1; t++) {
        float *row = d->out + (size_t)t * d->stride;
        for (int j = j0; j < j1; j++) {
            const unsigned char *p = d->src[j] + bps * t;
            double v = d->bdf ? btfm_bdf_sample(p) : btfm_edf_sample(p);
            row[j] = (float)(v * d->gain[j] + d->offset[j]);
        }
    }
}

#ifdef EDF_X86
/* SSE2: four channels by four samples, transposed in registers. */
static inline __m128 scale4(__m128 x, const double *gain, const double *offset)
{
    __m128d lo = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(x), _mm_loadu_pd(gain)), _mm_loadu_pd(offset));
    __m128d hi = _mm_add_pd(_mm_mul_pd(_mm_cvtps_pd(_mm_movehl_ps(x, x)), _mm_loadu_pd(gain + 2)),
                            _mm_loadu_pd(offset + 2));
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

static inline __m128 widen4(const unsigned char *p)
{
    __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)p); /* 4 little-endian int16 */
    return _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16));
}

static inline void store4(float *p, __m128 v, int streaming)
{
    if (streaming)
        _mm_stream_ps(p, v);
    else
        _mm_storeu_ps(p, v);
}

BTFM_HOT static void decode_sse2(const edf_decode *d, int *j_done, int64_t *t_done)
{
    const int n4 = d->n_picks & ~3;
    const int64_t c4 = d->count & ~(int64_t)3;
    const int streaming = d->streaming && (uintptr_t)d->out % 16 == 0 && d->stride % 4 == 0;
    for (int64_t t = 0; t < c4; t += 4) {
        float *row = d->out + (size_t)t * d->stride;
        const size_t s = d->stride;
        for (int j = 0; j < n4; j += 4) {
            __m128 a = widen4(d->src[j] + 2 * t), b = widen4(d->src[j + 1] + 2 * t);
            __m128 c = widen4(d->src[j + 2] + 2 * t), e = widen4(d->src[j + 3] + 2 * t);
            _MM_TRANSPOSE4_PS(a, b, c, e); /* now a = the four channels at sample t */
            store4(row + j, scale4(a, d->gain + j, d->offset + j), streaming);
            store4(row + s + j, scale4(b, d->gain + j, d->offset + j), streaming);
            store4(row + 2 * s + j, scale4(c, d->gain + j, d->offset + j), streaming);
            store4(row + 3 * s + j, scale4(e, d->gain + j, d->offset + j), streaming);
        }
    }
    *j_done = n4;
    *t_done = c4;
}

/* AVX2 and AVX-512: eight channels by eight samples; the 8 x 8 transpose in AVX2
 * registers, the scaling in two 4-double (AVX2) or one 8-double (AVX-512) step. */
#define EDF_TARGET_AVX2 __attribute__((target("avx2")))
#define EDF_TARGET_AVX512 __attribute__((target("avx2,avx512f")))


/* Eight int24 samples (24 bytes from p, nothing read past them) as floats: each sample's
 * three bytes moved to the top of a 32-bit lane, then shifted down with its sign; every
 * int24 is exact in a float. */
EDF_TARGET_AVX2 static inline __m256 load8_int24(const unsigned char *p)
{
    const __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)p);          /* 0-15 */
    const __m128i tail = _mm_loadl_epi64((const __m128i *)(const void *)(p + 16)); /* 16-23 */
    const __m128i hi = _mm_alignr_epi8(tail, lo, 12);                               /* 12-23 */
    const __m128i place = _mm_setr_epi8(-1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11);
    const __m256i v = _mm256_set_m128i(_mm_shuffle_epi8(hi, place), _mm_shuffle_epi8(lo, place));
    return _mm256_cvtepi32_ps(_mm256_srai_epi32(v, 8));
}

#define EDF_LOAD8_INT24(p) load8_int24(p)

/* The body shared by both: LOAD8(p) reads eight samples of one channel from p (BPS bytes
 * each), SCALE8(x, j) scales eight floats of channels j .. j + 7. */
#define EDF_DECODE8_BODY(LOAD8, BPS, SCALE8)                                               \
    const int n8 = d->n_picks & ~7;                                                        \
    const int64_t c8 = d->count & ~(int64_t)7;                                             \
    const int streaming = d->streaming && (uintptr_t)d->out % 32 == 0 && d->stride % 8 == 0; \
    const size_t s = d->stride;                                                            \
    for (int64_t t = 0; t < c8; t += 8) {                                                  \
        float *row = d->out + (size_t)t * s;                                               \
        for (int j = 0; j < n8; j += 8) {                                                  \
            __m256 r[8];                                                                   \
            for (int k = 0; k < 8; k++)                                                    \
                r[k] = LOAD8(d->src[j + k] + (BPS) * t);                                   \
            BTFM_TRANSPOSE8_PS(r);                                                         \
            for (int k = 0; k < 8; k++) {                                                  \
                __m256 v = SCALE8(r[k], j);                                                \
                if (streaming)                                                             \
                    _mm256_stream_ps(row + (size_t)k * s + j, v);                          \
                else                                                                       \
                    _mm256_storeu_ps(row + (size_t)k * s + j, v);                          \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    *j_done = n8;                                                                          \
    *t_done = c8;

EDF_TARGET_AVX2 static inline __m256 scale8_avx2(__m256 x, const double *gain,
                                                 const double *offset)
{
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    lo = _mm256_add_pd(_mm256_mul_pd(lo, _mm256_loadu_pd(gain)), _mm256_loadu_pd(offset));
    hi = _mm256_add_pd(_mm256_mul_pd(hi, _mm256_loadu_pd(gain + 4)), _mm256_loadu_pd(offset + 4));
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

EDF_TARGET_AVX512 static inline __m256 scale8_avx512(__m256 x, const double *gain,
                                                     const double *offset)
{
    __m512d v = _mm512_mul_pd(_mm512_cvtps_pd(x), _mm512_loadu_pd(gain));
    return _mm512_cvtpd_ps(_mm512_add_pd(v, _mm512_loadu_pd(offset)));
}

#define SCALE_AVX2(x, j) scale8_avx2(x, d->gain + (j), d->offset + (j))
#define SCALE_AVX512(x, j) scale8_avx512(x, d->gain + (j), d->offset + (j))

BTFM_HOT EDF_TARGET_AVX2 static void decode_avx2(const edf_decode *d, int *j_done, int64_t *t_done)
{
    EDF_DECODE8_BODY(BTFM_LOAD8_INT16_PS, 2, SCALE_AVX2)
}

BTFM_HOT EDF_TARGET_AVX512 static void decode_avx512(const edf_decode *d, int *j_done,
                                                     int64_t *t_done)
{
    EDF_DECODE8_BODY(BTFM_LOAD8_INT16_PS, 2, SCALE_AVX512)
}

BTFM_HOT EDF_TARGET_AVX2 static void decode_bdf_avx2(const edf_decode *d, int *j_done,
                                                     int64_t *t_done)
{
    EDF_DECODE8_BODY(EDF_LOAD8_INT24, 3, SCALE_AVX2)
}

BTFM_HOT EDF_TARGET_AVX512 static void decode_bdf_avx512(const edf_decode *d, int *j_done,
                                                         int64_t *t_done)
{
    EDF_DECODE8_BODY(EDF_LOAD8_INT24, 3, SCALE_AVX512)
}
#endif

edf_kernel btfm_edf_best_kernel(void)
{
#ifdef EDF_X86
    btfm_isa isa = btfm_cpu_isa();
    if (isa >= BTFM_ISA_AVX512) return EDF_KERNEL_AVX512;
    if (isa >= BTFM_ISA_AVX2) return EDF_KERNEL_AVX2;
    return EDF_KERNEL_SSE2;
#else
    return EDF_KERNEL_SCALAR;
#endif
}

void btfm_edf_decode(const edf_decode *d, edf_kernel kernel)
{
    int j_done = 0;
    int64_t t_done = 0;
#ifdef EDF_X86
    /* int24 needs SSSE3's byte shuffle: BDF has the AVX2 and AVX-512 kernels only */
    if (kernel == EDF_KERNEL_AVX512 && btfm_cpu_isa() >= BTFM_ISA_AVX512)
        (d->bdf ? decode_bdf_avx512 : decode_avx512)(d, &j_done, &t_done);
    else if (kernel >= EDF_KERNEL_AVX2 && btfm_cpu_isa() >= BTFM_ISA_AVX2)
        (d->bdf ? decode_bdf_avx2 : decode_avx2)(d, &j_done, &t_done);
    else if (kernel >= EDF_KERNEL_SSE2 && !d->bdf)
        decode_sse2(d, &j_done, &t_done);
    if (d->streaming) _mm_sfence(); /* order the streaming stores before the plain ones */
#else
    (void)kernel;
#endif
    decode_scalar(d, j_done, d->n_picks, 0, t_done);   /* channels past the blocks */
    decode_scalar(d, 0, d->n_picks, t_done, d->count); /* samples past the blocks */
}
