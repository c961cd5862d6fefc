/* Execution of FFT plans on batches of transforms ("lanes", spectrum_internal.h): the
 * kernels of fft_kernels.h instantiated for one transform (scalar doubles) and for
 * BTFM_FFT_LANES transforms (GCC vectors of doubles, compiled for several instruction
 * sets and picked at load time). */
#include <string.h>
#include "spectrum_internal.h"

enum { FFT_MAX_HALF = 32 }; /* generic radices up to 2 FFT_MAX_HALF + 1 (fft_plan.c: 65) */

static const double fft_no_twiddle[2] = {1.0, 0.0};

#define VEC double
#define FN(name) name##_1
#define FFT_OUTLINED BTFM_HOT __attribute__((noinline)) static
#include "fft_kernels.h"
#undef VEC
#undef FN
#undef FFT_OUTLINED

#define VEC btfm_v8d
#define FN(name) name##_n
#define FFT_OUTLINED BTFM_HOT BTFM_SIMD_CLONES __attribute__((noinline)) static
#include "fft_kernels.h"
#undef VEC
#undef FN
#undef FFT_OUTLINED

BTFM_HOT static void cfft_1(const btfm_cfft *p, double *d, double *w)
{
    const double *y = cfft_exec_1(p, d, w);
    if (y != d) memcpy(d, y, sizeof(double) * 2 * (size_t)p->n);
}
BTFM_HOT static void forward_1(const btfm_fft *p, double *x, double *out, double *w)
{
    real_forward_1(p, x, out, w);
}
BTFM_HOT static double *forward_begin_1(const btfm_fft *p, double *x, double *w)
{
    return real_forward_begin_1(p, x, w);
}
BTFM_HOT static void forward_bins_1(const btfm_fft *p, const double *z, int64_t k0, int64_t k1,
                                    double *out)
{
    real_forward_bins_1(p, z, k0, k1, out);
}
BTFM_HOT static void inverse_1(const btfm_fft *p, const double *in, double *out, double *w)
{
    real_inverse_1(p, in, out, w);
}

BTFM_HOT BTFM_SIMD_CLONES static void cfft_n(const btfm_cfft *p, double *d, double *w)
{
    const btfm_v8d *y = cfft_exec_n(p, (btfm_v8d *)d, (btfm_v8d *)w);
    if (y != (btfm_v8d *)d) memcpy(d, y, sizeof(btfm_v8d) * 2 * (size_t)p->n);
}
BTFM_HOT BTFM_SIMD_CLONES static void forward_n(const btfm_fft *p, double *x, double *out, double *w)
{
    real_forward_n(p, (btfm_v8d *)x, (btfm_v8d *)out, (btfm_v8d *)w);
}
BTFM_HOT BTFM_SIMD_CLONES static double *forward_begin_n(const btfm_fft *p, double *x, double *w)
{
    return (double *)real_forward_begin_n(p, (btfm_v8d *)x, (btfm_v8d *)w);
}
BTFM_HOT BTFM_SIMD_CLONES static void forward_bins_n(const btfm_fft *p, const double *z,
                                                     int64_t k0, int64_t k1, double *out)
{
    real_forward_bins_n(p, (const btfm_v8d *)z, k0, k1, (btfm_v8d *)out);
}
BTFM_HOT BTFM_SIMD_CLONES static void inverse_n(const btfm_fft *p, const double *in, double *out,
                                           double *w)
{
    real_inverse_n(p, (const btfm_v8d *)in, (btfm_v8d *)out, (btfm_v8d *)w);
}

void btfm_cfft_forward_lanes(const btfm_cfft *p, double *data, double *work, int lanes)
{
    if (lanes == 1)
        cfft_1(p, data, work);
    else
        cfft_n(p, data, work);
}

void btfm_fft_forward_lanes(const btfm_fft *p, double *x, double *out, double *work, int lanes)
{
    if (lanes == 1)
        forward_1(p, x, out, work);
    else
        forward_n(p, x, out, work);
}

void btfm_fft_inverse_lanes(const btfm_fft *p, const double *in, double *out, double *work,
                            int lanes)
{
    if (lanes == 1)
        inverse_1(p, in, out, work);
    else
        inverse_n(p, in, out, work);
}

double *btfm_fft_forward_begin(const btfm_fft *p, double *x, double *work, int lanes)
{
    return lanes == 1 ? forward_begin_1(p, x, work) : forward_begin_n(p, x, work);
}

void btfm_fft_forward_bins(const btfm_fft *p, const double *z, int64_t k0, int64_t k1,
                           double *out, int lanes)
{
    if (lanes == 1)
        forward_bins_1(p, z, k0, k1, out);
    else
        forward_bins_n(p, z, k0, k1, out);
}
