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
#include "fft_kernels.h"
#undef VEC
#undef FN

#define VEC btfm_v8d
#define FN(name) name##_n
#include "fft_kernels.h"
#undef VEC
#undef FN

BTFM_HOT static void cfft_1(const btfm_cfft *p, double *d, double *w) { cfft_run_1(p, d, w); }
BTFM_HOT static void forward_1(const btfm_fft *p, double *x, double *out, double *w)
{
    real_forward_1(p, x, out, w);
}
BTFM_HOT static void inverse_1(const btfm_fft *p, const double *in, double *out, double *w)
{
    real_inverse_1(p, in, out, w);
}

BTFM_HOT BTFM_SIMD_CLONES static void cfft_n(const btfm_cfft *p, double *d, double *w)
{
    cfft_run_n(p, (btfm_v8d *)d, (btfm_v8d *)w);
}
BTFM_HOT BTFM_SIMD_CLONES static void forward_n(const btfm_fft *p, double *x, double *out, double *w)
{
    real_forward_n(p, (btfm_v8d *)x, (btfm_v8d *)out, (btfm_v8d *)w);
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
