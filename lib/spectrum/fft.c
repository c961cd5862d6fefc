/* The public real FFT plan (btfm_fft) and the helpers every spectral entry point shares:
 * loading channel groups into lanes, the shape and finiteness checks. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "spectrum_internal.h"
#include "dense/dense.h"

enum { MAX_FFT_LENGTH = 1 << 30 };

size_t btfm_fft_work_doubles(const btfm_fft *p, int lanes)
{
    size_t w = btfm_cfft_work_doubles(p->c, lanes);
    if (p->n % 2) w += 2 * (size_t)lanes * (size_t)p->n; /* the complex copy */
    return w;
}

void btfm_fft_free(btfm_fft *plan)
{
    if (!plan) return;
    btfm_cfft_free(plan->c);
    btfm_free(plan->twiddles);
    btfm_free(plan->work);
    btfm_free(plan->spare);
    btfm_free(plan);
}

btfm_status btfm_fft_new(btfm_fft **out, int64_t n)
{
    BTFM_CHECK_ARG(out, "btfm_fft_new", "output pointer");
    *out = NULL;
    if (n < 1 || n > MAX_FFT_LENGTH)
        return btfm_fail(BTFM_E_RANGE, "btfm_fft_new: length %lld; expected 1 to %d",
                         (long long)n, MAX_FFT_LENGTH);
    btfm_fft *p = btfm_calloc(1, sizeof *p);
    if (!p) return btfm_fail_nomem("btfm_fft_new", sizeof *p);
    p->n = n;
    btfm_status st = btfm_cfft_new(&p->c, n % 2 ? n : n / 2);
    if (!st && n % 2 == 0) {
        p->twiddles = btfm_malloc(sizeof(double) * (size_t)n);
        if (!p->twiddles) st = btfm_fail_nomem("btfm_fft_new", sizeof(double) * (size_t)n);
        const long double pi = 3.141592653589793238462643383279502884L;
        for (int64_t k = 0; !st && k < n / 2; k++) {
            long double angle = 2.0L * pi * (long double)k / (long double)n;
            p->twiddles[2 * k] = (double)cosl(angle);
            p->twiddles[2 * k + 1] = (double)-sinl(angle);
        }
    }
    if (!st) {
        size_t work = btfm_fft_work_doubles(p, 1);
        p->work = btfm_malloc(sizeof(double) * work);
        p->spare = btfm_malloc(sizeof(double) * ((size_t)n + 2) * 2);
        if (!p->work || !p->spare) st = btfm_fail_nomem("btfm_fft_new", sizeof(double) * work);
    }
    if (st) {
        btfm_fft_free(p);
        return st;
    }
    *out = p;
    return BTFM_OK;
}

int64_t btfm_fft_length(const btfm_fft *plan)
{
    if (!plan) return btfm_fail(BTFM_E_INVALID, "btfm_fft_length: plan is NULL");
    return plan->n;
}

static btfm_status check_call(const btfm_fft *plan, const void *in, const void *out,
                              const char *func)
{
    BTFM_CHECK_ARG(plan, func, "plan");
    BTFM_CHECK_ARG(in, func, "input");
    BTFM_CHECK_ARG(out, func, "output");
    return BTFM_OK;
}

btfm_status btfm_fft_rfft(btfm_fft *plan, const double *in, double *out)
{
    btfm_status st = check_call(plan, in, out, "btfm_fft_rfft");
    if (st) return st;
    double *x = plan->spare;
    memcpy(x, in, sizeof(double) * (size_t)plan->n);
    btfm_fft_forward_lanes(plan, x, out, plan->work, 1);
    return BTFM_OK;
}

btfm_status btfm_fft_irfft(btfm_fft *plan, const double *in, double *out)
{
    btfm_status st = check_call(plan, in, out, "btfm_fft_irfft");
    if (st) return st;
    /* The inverse writes its packed spectrum into `out` before reading all of `in`:
     * keep a copy when they share memory. */
    size_t bins = 2 * (size_t)(plan->n / 2 + 1);
    const double *src = in;
    if ((const double *)out < in + bins && in < out + plan->n) {
        memcpy(plan->spare, in, sizeof(double) * bins);
        src = plan->spare;
    }
    btfm_fft_inverse_lanes(plan, src, out, plan->work, 1);
    return BTFM_OK;
}

btfm_status btfm_fft_rfft_f32(btfm_fft *plan, const float *in, float *out)
{
    btfm_status st = check_call(plan, in, out, "btfm_fft_rfft_f32");
    if (st) return st;
    const int64_t n = plan->n, bins = 2 * (n / 2 + 1);
    double *x = plan->spare, *y = plan->spare + n; /* spare holds 2 n + 4 doubles */
    for (int64_t t = 0; t < n; t++) x[t] = in[t];
    btfm_fft_forward_lanes(plan, x, y, plan->work, 1);
    for (int64_t k = 0; k < bins; k++) out[k] = (float)y[k];
    return BTFM_OK;
}

btfm_status btfm_fft_irfft_f32(btfm_fft *plan, const float *in, float *out)
{
    btfm_status st = check_call(plan, in, out, "btfm_fft_irfft_f32");
    if (st) return st;
    const int64_t n = plan->n, bins = 2 * (n / 2 + 1);
    double *spec = plan->spare, *y = plan->spare + bins;
    for (int64_t k = 0; k < bins; k++) spec[k] = in[k];
    btfm_fft_inverse_lanes(plan, spec, y, plan->work, 1);
    for (int64_t t = 0; t < n; t++) out[t] = (float)y[t];
    return BTFM_OK;
}

BTFM_HOT BTFM_SIMD_CLONES void btfm_lanes_load(const float *x, int n_channels, int64_t t0,
                                          int64_t count, int c0, double *dst)
{
    const int L = BTFM_FFT_LANES;
    const float *src = x + t0 * n_channels + c0;
    btfm_v8d *out = (btfm_v8d *)dst;
    if (c0 + L <= n_channels) {
        for (int64_t t = 0; t < count; t++, src += n_channels)
            out[t] = __builtin_convertvector(*(const btfm_v8f *)src, btfm_v8d);
        return;
    }
    const int have = n_channels - c0;
    for (int64_t t = 0; t < count; t++, src += n_channels, dst += L) {
        for (int l = 0; l < have; l++) dst[l] = src[l];
        for (int l = have; l < L; l++) dst[l] = 0.0;
    }
}

btfm_status btfm_spectrum_check_shape(const void *x, int64_t n_times, int n_channels,
                                      const void *out, const char *func)
{
    BTFM_CHECK_ARG(x, func, "input");
    BTFM_CHECK_ARG(out, func, "output");
    size_t count;
    if (n_times < 1 || n_channels < 1 || (uint64_t)n_times > (uint64_t)INT64_MAX / 8 ||
        btfm_mul_size((size_t)n_times, (size_t)n_channels, &count))
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples x %d channels; expected at least "
                         "1 sample and 1 channel", func, (long long)n_times, n_channels);
    return BTFM_OK;
}

btfm_status btfm_spectrum_check_finite(const float *x, int64_t n_epochs, int64_t n_times,
                                       int n_channels, unsigned flags, const char *func)
{
    int64_t row, c;
    if ((flags & BTFM_ALLOW_NONFINITE) ||
        !btfm_dense_find_nonfinite(x, n_epochs * n_times, n_channels, n_channels, &row, &c))
        return BTFM_OK;
    char context[32];
    snprintf(context, sizeof context, "epoch %lld", (long long)(row / n_times));
    return btfm_dense_fail_nonfinite(func, n_epochs > 1 ? context : NULL, "channel", c,
                                     "sample", row % n_times, x[row * n_channels + c],
                                     "or pass BTFM_ALLOW_NONFINITE");
}

double btfm_sample_time(double tmin, double sfreq, int64_t i)
{
    return ((double)llround(tmin * sfreq) + (double)i) / sfreq;
}
