/* The public real FFT plan (btfm_fft) and the helpers every spectral entry point shares:
 * loading channel groups into lanes, the shape and finiteness checks. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "spectrum_internal.h"
#include "dense/dense.h"
#include "core/parallel.h"

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
    btfm_free(plan->rows);
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

/* Many rows: BTFM_FFT_LANES rows at a time are transposed into lanes layout (a missing
 * row reads as zeros), transformed together by the vector kernels, and transposed back;
 * groups of rows run on several threads for large batches. The buffers (one set a
 * thread) live in the plan, so repeated calls touch no fresh memory. */
static size_t rows_set_doubles(const btfm_fft *plan)
{
    const size_t L = BTFM_FFT_LANES, n = (size_t)plan->n, bins = n / 2 + 1;
    return L * n + 2 * L * bins + btfm_fft_work_doubles(plan, BTFM_FFT_LANES);
}

static btfm_status rows_buffers(btfm_fft *plan, int workers)
{
    if (plan->rows && plan->rows_workers >= workers) return BTFM_OK;
    size_t bytes = sizeof(double) * rows_set_doubles(plan) * (size_t)workers;
    double *rows = btfm_malloc_large(bytes);
    if (!rows) return btfm_fail_nomem("btfm_fft rows", bytes);
    btfm_free(plan->rows);
    plan->rows = rows;
    plan->rows_workers = workers;
    return BTFM_OK;
}

BTFM_HOT BTFM_SIMD_CLONES static void rows_to_lanes(const double *in, int64_t stride, int have,
                                                    int64_t n, double *dst)
{
    const int L = BTFM_FFT_LANES;
    if (have == L) {
        for (int64_t t = 0; t < n; t++)
            for (int l = 0; l < L; l++) dst[t * L + l] = in[l * stride + t];
        return;
    }
    for (int64_t t = 0; t < n; t++) {
        for (int l = 0; l < have; l++) dst[t * L + l] = in[l * stride + t];
        for (int l = have; l < L; l++) dst[t * L + l] = 0.0;
    }
}

/* Lanes back to rows a block of elements at a time, so that the block read once per
 * row stays in the first-level cache (a whole long signal in lanes layout does not). */
enum { ROWS_BLOCK = 256 };

BTFM_HOT BTFM_SIMD_CLONES static void lanes_to_rows(const double *src, int64_t n, int have,
                                                    int64_t stride, double *out)
{
    const int L = BTFM_FFT_LANES;
    for (int64_t t0 = 0; t0 < n; t0 += ROWS_BLOCK) {
        const int64_t t1 = t0 + ROWS_BLOCK < n ? t0 + ROWS_BLOCK : n;
        for (int l = 0; l < have; l++)
            for (int64_t t = t0; t < t1; t++) out[l * stride + t] = src[t * L + l];
    }
}

/* `count` complex elements in lanes layout to interleaved rows `stride` doubles apart,
 * and complex rows back to lanes. */
BTFM_HOT BTFM_SIMD_CLONES static void lanes_to_complex_rows(const double *src, int64_t count,
                                                            int have, int64_t stride,
                                                            double *out)
{
    const int L = BTFM_FFT_LANES;
    for (int l = 0; l < have; l++) {
        double *o = out + (size_t)l * (size_t)stride;
        for (int64_t k = 0; k < count; k++) {
            o[2 * k] = src[2 * k * L + l];
            o[2 * k + 1] = src[(2 * k + 1) * L + l];
        }
    }
}

BTFM_HOT BTFM_SIMD_CLONES static void complex_rows_to_lanes(const double *in, int64_t bins,
                                                            int have, double *dst)
{
    const int L = BTFM_FFT_LANES;
    for (int64_t k = 0; k < bins; k++) {
        for (int l = 0; l < have; l++) {
            dst[2 * k * L + l] = in[(size_t)l * 2 * (size_t)bins + 2 * k];
            dst[(2 * k + 1) * L + l] = in[(size_t)l * 2 * (size_t)bins + 2 * k + 1];
        }
        for (int l = have; l < L; l++) dst[2 * k * L + l] = dst[(2 * k + 1) * L + l] = 0.0;
    }
}

static btfm_status check_rows(const btfm_fft *plan, const void *in, int64_t n_rows,
                              const void *out, const char *func)
{
    btfm_status st = check_call(plan, in, out, func);
    if (st) return st;
    if (n_rows < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: n_rows is %lld, expected at least 0", func,
                         (long long)n_rows);
    return BTFM_OK;
}

typedef struct rows_job {
    btfm_fft *plan;
    const double *in;
    double *out;
    int64_t n_rows;
    int inverse;
} rows_job;

static btfm_status rows_task(void *ctx, int64_t group, int worker)
{
    const rows_job *j = ctx;
    const btfm_fft *plan = j->plan;
    const int64_t n = plan->n, bins = n / 2 + 1, r = group * BTFM_FFT_LANES;
    const int have = j->n_rows - r < BTFM_FFT_LANES ? (int)(j->n_rows - r) : BTFM_FFT_LANES;
    double *x = plan->rows + rows_set_doubles(plan) * (size_t)worker;
    double *spec = x + BTFM_FFT_LANES * n, *work = spec + 2 * BTFM_FFT_LANES * bins;
    if (j->inverse) {
        complex_rows_to_lanes(j->in + r * 2 * bins, bins, have, spec);
        btfm_fft_inverse_lanes(plan, spec, x, work, BTFM_FFT_LANES);
        lanes_to_rows(x, n, have, n, j->out + r * n);
    } else {
        /* bins made and moved to the rows a block at a time, while the block is in cache */
        rows_to_lanes(j->in + r * n, n, have, n, x);
        const double *z = btfm_fft_forward_begin(plan, x, work, BTFM_FFT_LANES);
        for (int64_t k0 = 0; k0 < bins; k0 += ROWS_BLOCK) {
            const int64_t k1 = k0 + ROWS_BLOCK < bins ? k0 + ROWS_BLOCK : bins;
            btfm_fft_forward_bins(plan, z, k0, k1, spec, BTFM_FFT_LANES);
            lanes_to_complex_rows(spec, k1 - k0, have, 2 * bins, j->out + (r * bins + k0) * 2);
        }
    }
    return BTFM_OK;
}

static btfm_status run_rows(btfm_fft *plan, const double *in, int64_t n_rows, double *out,
                            int inverse, const char *func)
{
    btfm_status st = check_rows(plan, in, n_rows, out, func);
    if (st || n_rows == 0) return st;
    const int64_t groups = (n_rows + BTFM_FFT_LANES - 1) / BTFM_FFT_LANES;
    /* About 5 m log2 m operations a row (m: the complex length, Bluestein's counted
     * twice), against ten times the usual threshold: a thread pays only when each gets
     * tens of milliseconds, since on a loaded machine it may wait that long to start. */
    const double m = (double)(plan->c->inner ? 2 * plan->c->inner->n : plan->c->n);
    const int threads = btfm_parallel_threads(groups, 0.5 * (double)n_rows * m * log2(m + 1));
    if ((st = rows_buffers(plan, threads))) return st;
    rows_job job = {plan, in, out, n_rows, inverse};
    return btfm_parallel_for(threads, groups, rows_task, &job);
}

btfm_status btfm_fft_rfft_rows(btfm_fft *plan, const double *in, int64_t n_rows, double *out)
{
    return run_rows(plan, in, n_rows, out, 0, "btfm_fft_rfft_rows");
}

btfm_status btfm_fft_irfft_rows(btfm_fft *plan, const double *in, int64_t n_rows, double *out)
{
    return run_rows(plan, in, n_rows, out, 1, "btfm_fft_irfft_rows");
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
