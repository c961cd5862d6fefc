/* FIR filtering by FFT overlap-save on time-major arrays: the convolution modes of
 * scipy.signal.oaconvolve, and MNE's zero-phase application of a linear-phase filter
 * (odd-reflection padding, group delay removed). BTFM_FFT_LANES channels share each
 * transform; the filter's spectrum is computed once. */
#include <math.h>
#include <string.h>
#include "spectrum_internal.h"

typedef btfm_v8d V;

/* The signal a convolution reads: x extended by `pad` samples of odd reflection at each
 * end (MNE's 'reflect_limited'; pad < n_times), zero beyond. */
typedef struct extended {
    const float *x;
    int64_t n_times, pad;
    int n_channels;
} extended;

/* 2 x[t0] - x[t] (odd reflection about t0) of channels [c0, c0 + L) into out. */
static void reflect(const extended *e, int64_t t0, int64_t t, int c0, V *out)
{
    V pivot, v;
    btfm_lanes_load(e->x, e->n_channels, t0, 1, c0, (double *)&pivot);
    btfm_lanes_load(e->x, e->n_channels, t, 1, c0, (double *)&v);
    *out = 2.0 * pivot - v;
}

/* Samples [u0, u0 + count) of the extended signal (index 0 = first padded sample). */
static void load_extended(const extended *e, int64_t u0, int64_t count, int c0, V *dst)
{
    const int64_t n = e->n_times;
    int64_t u = u0, end = u0 + count;
    while (u < end) {
        int64_t t = u - e->pad;
        if (t >= 0 && t < n) { /* the stored run, in one call */
            int64_t run = end - u < n - t ? end - u : n - t;
            btfm_lanes_load(e->x, e->n_channels, t, run, c0, (double *)(dst + (u - u0)));
            u += run;
            continue;
        }
        if (t < 0 && t >= -e->pad)
            reflect(e, 0, -t, c0, dst + (u - u0));
        else if (t >= n && t < n + e->pad)
            reflect(e, n - 1, 2 * (n - 1) - t, c0, dst + (u - u0));
        else
            dst[u - u0] = (V){0};
        u++;
    }
}

/* The FFT length with the fewest operations per output for n_taps taps and `count`
 * outputs (MNE's cost model: blocks x N (log2 N + 1)). */
static int64_t choose_nfft(int64_t n_taps, int64_t count)
{
    int64_t single = btfm_fft_good_size(count + n_taps - 1), best = single;
    double best_cost = (double)single * (log2((double)single) + 1.0);
    for (int64_t N = 64; N < single && N <= ((int64_t)1 << 24); N *= 2) {
        if (N < 2 * n_taps) continue;
        int64_t block = N - n_taps + 1, blocks = (count + block - 1) / block;
        double cost = (double)blocks * (double)N * (log2((double)N) + 1.0);
        if (cost < best_cost) {
            best_cost = cost;
            best = N;
        }
    }
    return best;
}

BTFM_HOT BTFM_SIMD_CLONES static void multiply(V *spec, const double *h, int64_t n_bins)
{
    for (int64_t f = 0; f < n_bins; f++) {
        V re = spec[2 * f], im = spec[2 * f + 1];
        spec[2 * f] = re * h[2 * f] - im * h[2 * f + 1];
        spec[2 * f + 1] = re * h[2 * f + 1] + im * h[2 * f];
    }
}

/* Outputs [first, first + count) of the full convolution of the extended signal with
 * the taps into out (count x n_channels). */
static btfm_status convolve(const extended *e, const double *taps, int64_t n_taps,
                            int64_t first, int64_t count, float *out, const char *func)
{
    enum { L = BTFM_FFT_LANES };
    const int C = e->n_channels;
    const int64_t nfft = choose_nfft(n_taps, count), block = nfft - n_taps + 1;
    const int64_t n_bins = nfft / 2 + 1;
    btfm_fft *plan = NULL;
    btfm_status st = btfm_fft_new(&plan, nfft);
    if (st) return st;
    size_t work = btfm_fft_work_doubles(plan, L);
    size_t total = 2 * (size_t)n_bins + (size_t)L * (size_t)nfft * 2 + 2 * (size_t)L * (size_t)n_bins + work;
    double *mem = btfm_malloc(sizeof(double) * total);
    if (!mem) {
        btfm_fft_free(plan);
        return btfm_fail_nomem(func, sizeof(double) * total);
    }
    double *h = mem, *seg = h + 2 * n_bins, *res = seg + (size_t)L * (size_t)nfft;
    double *spec = res + (size_t)L * (size_t)nfft, *fwork = spec + 2 * (size_t)L * (size_t)n_bins;
    memset(seg, 0, sizeof(double) * (size_t)nfft);
    memcpy(seg, taps, sizeof(double) * (size_t)n_taps);
    btfm_fft_forward_lanes(plan, seg, h, fwork, 1);

    for (int64_t k0 = first; k0 < first + count; k0 += block) {
        const int64_t n_out = first + count - k0 < block ? first + count - k0 : block;
        for (int c0 = 0; c0 < C; c0 += L) {
            const int have = C - c0 < L ? C - c0 : L;
            load_extended(e, k0 - n_taps + 1, nfft, c0, (V *)seg);
            btfm_fft_forward_lanes(plan, seg, spec, fwork, L);
            multiply((V *)spec, h, n_bins);
            btfm_fft_inverse_lanes(plan, spec, res, fwork, L);
            const V *y = (const V *)res + (n_taps - 1);
            float *dst = out + (k0 - first) * C + c0;
            if (have == L)
                for (int64_t r = 0; r < n_out; r++)
                    *(btfm_v8f *)(dst + r * C) = __builtin_convertvector(y[r], btfm_v8f);
            else
                for (int64_t r = 0; r < n_out; r++)
                    for (int l = 0; l < have; l++) dst[r * C + l] = (float)y[r][l];
        }
    }
    btfm_free(mem);
    btfm_fft_free(plan);
    return BTFM_OK;
}

int64_t btfm_fir_output_length(int64_t n_times, int64_t n_taps, int mode)
{
    if (n_times < 1 || n_taps < 1)
        return btfm_fail(BTFM_E_INVALID, "btfm_fir_output_length: %lld samples and %lld "
                         "taps; expected at least one of each", (long long)n_times,
                         (long long)n_taps);
    switch (mode) {
    case BTFM_CONV_FULL: return n_times + n_taps - 1;
    case BTFM_CONV_SAME: return n_times;
    case BTFM_CONV_VALID:
        if (n_times < n_taps)
            return btfm_fail(BTFM_E_RANGE, "btfm_fir_output_length: 'valid' mode needs at "
                             "least as many samples (%lld) as taps (%lld)",
                             (long long)n_times, (long long)n_taps);
        return n_times - n_taps + 1;
    default:
        return btfm_fail(BTFM_E_INVALID, "btfm_fir_output_length: mode %d is unknown; "
                         "expected 0 (full), 1 (same) or 2 (valid)", mode);
    }
}

static btfm_status check_args(const float *x, int64_t n_times, int n_channels,
                              const double *taps, int64_t n_taps, unsigned flags,
                              const float *out, int64_t n_out, const char *func)
{
    btfm_status st = btfm_spectrum_check_shape(x, n_times, n_channels, out, func);
    if (st) return st;
    BTFM_CHECK_ARG(taps, func, "taps");
    if (n_taps < 1 || n_taps > (1 << 24))
        return btfm_fail(BTFM_E_RANGE, "%s: %lld taps; expected 1 to 2^24", func,
                         (long long)n_taps);
    for (int64_t k = 0; k < n_taps; k++)
        if (!isfinite(taps[k]))
            return btfm_fail(BTFM_E_NUMERIC, "%s: tap %lld is %g; expected finite taps", func,
                             (long long)k, taps[k]);
    const float *x_end = x + n_times * n_channels, *out_end = out + n_out * n_channels;
    if (out < x_end && x < out_end)
        return btfm_fail(BTFM_E_INVALID, "%s: the output overlaps the input; expected "
                         "separate buffers", func);
    return btfm_spectrum_check_finite(x, 1, n_times, n_channels, flags, func);
}

btfm_status btfm_fir_apply(const float *x, int64_t n_times, int n_channels, const double *taps,
                           int64_t n_taps, int mode, unsigned flags, float *out)
{
    const char *func = "btfm_fir_apply";
    if (mode < BTFM_CONV_FULL || mode > BTFM_CONV_VALID)
        return btfm_fail(BTFM_E_INVALID, "%s: mode %d is unknown; expected 0 (full), 1 "
                         "(same) or 2 (valid)", func, mode);
    if (mode == BTFM_CONV_VALID && n_times >= 1 && n_taps > n_times)
        return btfm_fail(BTFM_E_RANGE, "%s: 'valid' mode needs at least as many samples "
                         "(%lld) as taps (%lld)", func, (long long)n_times, (long long)n_taps);
    int64_t n_out = mode == BTFM_CONV_FULL ? n_times + n_taps - 1
                  : mode == BTFM_CONV_SAME ? n_times : n_times - n_taps + 1;
    btfm_status st = check_args(x, n_times, n_channels, taps, n_taps, flags, out, n_out, func);
    if (st) return st;
    int64_t first = mode == BTFM_CONV_FULL ? 0
                  : mode == BTFM_CONV_SAME ? (n_taps - 1) / 2 : n_taps - 1;
    extended e = {x, n_times, 0, n_channels};
    return convolve(&e, taps, n_taps, first, n_out, out, func);
}

btfm_status btfm_fir_zero_phase(const float *x, int64_t n_times, int n_channels,
                                const double *taps, int64_t n_taps, unsigned flags, float *out)
{
    const char *func = "btfm_fir_zero_phase";
    btfm_status st = check_args(x, n_times, n_channels, taps, n_taps, flags, out, n_times, func);
    if (st) return st;
    if (n_taps % 2 == 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld taps; a zero-phase FIR filter needs an "
                         "odd number of taps (a whole-sample group delay)", func,
                         (long long)n_taps);
    const int64_t pad = (n_taps < n_times ? n_taps : n_times) - 1;
    extended e = {x, n_times, pad, n_channels};
    return convolve(&e, taps, n_taps, (n_taps - 1) / 2 + pad, n_times, out, func);
}
