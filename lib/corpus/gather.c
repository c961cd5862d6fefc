/* A window of a corpus binary (time x channel int16 or float16) as float32 channel x time
 * rows, the loader's batch assembly. The AVX2 kernel transposes 8 x 8 blocks in registers
 * and may stream its stores past the caches; it and the scalar loop both compute
 * (float)int16 * scale in float, so they give identical rows. */
#include <string.h>
#include "loader_internal.h"
#include "core/cpu.h"
#include "core/transpose8.h"

static inline float int16_at(const unsigned char *q)
{
    return (float)(int16_t)(uint16_t)(q[0] | q[1] << 8);
}

/* Channels [c0, Cr) of samples [t0, t1), and every channel of the samples after. */
static void gather_scalar(const corpus_rec *r, const unsigned char *base, int64_t T,
                          int64_t c0, int64_t t0, int64_t t1, float *out)
{
    int64_t Cr = r->n_channels;
    for (int64_t c = c0; c < Cr; c++) {
        float *dst = out + c * T;
        for (int64_t t = t0; t < t1; t++) {
            const unsigned char *q = base + 2 * (t * Cr + c);
            dst[t] = r->dtype == BTFM_CORPUS_INT16 ? int16_at(q) * r->scale[c]
                                                   : btfm_half_to_float((uint16_t)(q[0] | q[1] << 8));
        }
    }
    if (t1 < T) gather_scalar(r, base, T, 0, t1, T, out);
}

#if defined(__GNUC__) && defined(__x86_64__)
#  define GATHER_AVX2 1
/* Batches from this size on are written past the caches: the consumer reads them long
 * after (a ring of such batches exceeds any cache), so loading each line before
 * overwriting it would only double the memory traffic. */
#  define GATHER_STREAM_BYTES ((size_t)8 << 20)
/* Sixteen samples of eight channels a step: each channel's 64 bytes stored back to back,
 * so streamed stores fill whole cache lines. */
__attribute__((target("avx2"))) BTFM_HOT static void
gather_int16_avx2(const corpus_rec *r, const unsigned char *base, int64_t T, float *out,
                  int streaming)
{
    int64_t Cr = r->n_channels, C8 = Cr & ~(int64_t)7, T16 = T & ~(int64_t)15;
    for (int64_t t = 0; t < T16; t += 16) {
        for (int64_t c = 0; c < C8; c += 8) {
            __m256 a[8], b[8];
            for (int k = 0; k < 8; k++) {
                a[k] = BTFM_LOAD8_INT16_PS(base + 2 * ((t + k) * Cr + c));
                b[k] = BTFM_LOAD8_INT16_PS(base + 2 * ((t + 8 + k) * Cr + c));
            }
            BTFM_TRANSPOSE8_PS(a);
            BTFM_TRANSPOSE8_PS(b);
            for (int k = 0; k < 8; k++) {
                __m256 s = _mm256_set1_ps(r->scale[c + k]);
                float *dst = out + (c + k) * T + t;
                if (streaming) {
                    _mm256_stream_ps(dst, _mm256_mul_ps(a[k], s));
                    _mm256_stream_ps(dst + 8, _mm256_mul_ps(b[k], s));
                } else {
                    _mm256_storeu_ps(dst, _mm256_mul_ps(a[k], s));
                    _mm256_storeu_ps(dst + 8, _mm256_mul_ps(b[k], s));
                }
            }
        }
    }
    if (streaming) _mm_sfence(); /* the streamed rows before whatever the caller stores next */
    gather_scalar(r, base, T, C8, 0, T16, out);
}
#endif

int btfm_corpus_gather_kernel(size_t batch_bytes)
{
#ifdef GATHER_AVX2
    if (btfm_cpu_isa() >= BTFM_ISA_AVX2)
        return batch_bytes >= GATHER_STREAM_BYTES ? BTFM_GATHER_STREAM : BTFM_GATHER_AVX2;
#endif
    (void)batch_bytes;
    return BTFM_GATHER_SCALAR;
}

void btfm_corpus_gather(const corpus_rec *r, int64_t start, int64_t T, int64_t C, int kernel,
                        float *out)
{
    const unsigned char *base = r->map + 2 * start * r->n_channels;
#ifdef GATHER_AVX2
    if (kernel != BTFM_GATHER_SCALAR && r->dtype == BTFM_CORPUS_INT16) {
        int streaming = kernel == BTFM_GATHER_STREAM && (uintptr_t)out % 32 == 0 && T % 8 == 0;
        gather_int16_avx2(r, base, T, out, streaming);
    } else
#endif
    {
        (void)kernel;
        gather_scalar(r, base, T, 0, 0, T, out);
    }
    for (int64_t c = r->n_channels; c < C; c++) memset(out + c * T, 0, (size_t)T * sizeof(float));
}
