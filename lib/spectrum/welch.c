/* Welch's power spectral density (Welch 1967) with the conventions of
 * scipy.signal.welch: periodic windows, per-segment detrending, one-sided density or
 * spectrum scaling, mean or bias-corrected median over segments. Segments of
 * BTFM_FFT_LANES channels are transformed together, straight from the time-major input. */
#include <math.h>
#include <string.h>
#include "spectrum_internal.h"
#include "signal/signal_internal.h"

/* SciPy's bias of the median of n chi-square(2) periodograms relative to their mean. */
static double median_bias(int64_t n)
{
    double bias = 1.0;
    for (int64_t i = 1; i <= (n - 1) / 2; i++) bias += 1.0 / (2.0 * i + 1.0) - 1.0 / (2.0 * i);
    return bias;
}

typedef struct welch_job {
    const float *x;
    int64_t n_times;
    int n_channels;
    int64_t nperseg, step, nfft, n_freqs, n_seg;
    int detrend;
    const double *window;
    const double *bin_scale; /* scale, doubled for the one-sided bins */
    const btfm_fft *plan;
    double *seg, *spec, *work; /* nfft x L, n_freqs x 2L, plan work */
} welch_job;

/* Periodogram of segment s of channels [c0, c0 + L): written into power (n_freqs lane
 * vectors), or added to it when `accumulate` is set. */
BTFM_HOT BTFM_SIMD_CLONES static void periodogram(const welch_job *j, int64_t s, int c0,
                                             btfm_v8d *power, int accumulate)
{
    typedef btfm_v8d V;
    const int64_t n = j->nperseg;
    V *seg = (V *)j->seg;
    btfm_lanes_load(j->x, j->n_channels, s * j->step, n, c0, j->seg);
    V offset = {0}, slope = {0};
    if (j->detrend != BTFM_DETREND_NONE) {
        V sum = {0}, tsum = {0};
        const double tmid = 0.5 * (double)(n - 1);
        for (int64_t t = 0; t < n; t++) {
            sum += seg[t];
            tsum += ((double)t - tmid) * seg[t];
        }
        offset = sum / (double)n;
        if (j->detrend == BTFM_DETREND_LINEAR && n > 1) {
            /* sum (t - tmid)^2 = n (n^2 - 1) / 12 */
            slope = tsum / ((double)n * ((double)n * (double)n - 1.0) / 12.0);
            offset -= slope * tmid;
        }
    }
    for (int64_t t = 0; t < n; t++) seg[t] = (seg[t] - offset - slope * (double)t) * j->window[t];
    for (int64_t t = n; t < j->nfft; t++) seg[t] = (V){0};
    btfm_fft_forward_lanes(j->plan, j->seg, j->spec, j->work, BTFM_FFT_LANES);
    const V *spec = (const V *)j->spec;
    for (int64_t f = 0; f < j->n_freqs; f++) {
        V p = (spec[2 * f] * spec[2 * f] + spec[2 * f + 1] * spec[2 * f + 1]) * j->bin_scale[f];
        if (accumulate)
            power[f] += p;
        else
            power[f] = p;
    }
}

/* Move the values x of v[lo .. hi) for which `cond` holds to v[split ..), advancing
 * split past them, without branches on the data (random periodogram values would
 * mispredict half the time). */
#define PARTITION(cond)                                                                  \
    do {                                                                                 \
        for (int64_t i_ = lo; i_ < hi; i_++) {                                           \
            double x = v[i_];                                                            \
            v[i_] = v[split];                                                            \
            v[split] = x;                                                                \
            split += (cond);                                                             \
        }                                                                                \
    } while (0)

/* The k-th smallest of v[0 .. n) (quickselect, median-of-three pivots, three-way split
 * so that equal values cannot make it quadratic); v is reordered so that v[0 .. k) <=
 * v[k]. */
static double select_kth(double *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n;
    while (hi - lo > 1) {
        double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t split = lo;
        PARTITION(x < pivot);
        int64_t less = split;
        if (k < less) {
            hi = less;
            continue;
        }
        lo = less;
        PARTITION(x <= pivot);
        if (k < split) { /* v[less .. split) all equal the pivot */
            return pivot;
        }
        lo = split;
    }
    return v[k];
}
#undef PARTITION

/* numpy.median of v[0 .. n): the mean of the two middle values for even n. NaN when any
 * value is NaN (only reachable with BTFM_ALLOW_NONFINITE). */
static double median(double *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (isnan(v[i])) return NAN;
    double upper = select_kth(v, n, n / 2);
    if (n % 2) return upper;
    double lower = v[0];
    for (int64_t i = 1; i < n / 2; i++) /* the largest of the lower half after selection */
        if (v[i] > lower) lower = v[i];
    return 0.5 * (lower + upper);
}

/* Check the options and resolve their defaults into *r (nperseg, noverlap, nfft). */
static btfm_status check_options(const btfm_welch_options *o, int64_t n_times, double sfreq,
                                 btfm_welch_options *r, const char *f)
{
    *r = *o;
    if (!(sfreq > 0.0) || !isfinite(sfreq))
        return btfm_fail(BTFM_E_RANGE, "%s: sfreq = %g; expected a positive sampling rate "
                         "in Hz", f, sfreq);
    btfm_status st = btfm_window_check(o->window, o->kaiser_beta, f);
    if (st) return st;
    if (o->detrend < BTFM_DETREND_NONE || o->detrend > BTFM_DETREND_LINEAR)
        return btfm_fail(BTFM_E_INVALID, "%s: detrend %d is unknown; expected 0 (none), 1 "
                         "(constant) or 2 (linear)", f, o->detrend);
    if (o->scaling != BTFM_SCALING_DENSITY && o->scaling != BTFM_SCALING_SPECTRUM)
        return btfm_fail(BTFM_E_INVALID, "%s: scaling %d is unknown; expected 0 (density) or "
                         "1 (spectrum)", f, o->scaling);
    if (o->average != BTFM_AVERAGE_MEAN && o->average != BTFM_AVERAGE_MEDIAN)
        return btfm_fail(BTFM_E_INVALID, "%s: average %d is unknown; expected 0 (mean) or 1 "
                         "(median)", f, o->average);
    if (r->nperseg == 0) r->nperseg = n_times < 256 ? n_times : 256;
    if (r->nperseg < 1 || r->nperseg > n_times)
        return btfm_fail(BTFM_E_RANGE, "%s: nperseg = %lld with %lld samples; expected 1 to "
                         "the number of samples", f, (long long)r->nperseg, (long long)n_times);
    if (r->noverlap < 0) r->noverlap = r->nperseg / 2;
    if (r->noverlap >= r->nperseg)
        return btfm_fail(BTFM_E_RANGE, "%s: noverlap = %lld; expected less than nperseg = "
                         "%lld", f, (long long)r->noverlap, (long long)r->nperseg);
    if (r->nfft == 0) r->nfft = r->nperseg;
    if (r->nfft < r->nperseg || r->nfft > (1 << 30))
        return btfm_fail(BTFM_E_RANGE, "%s: nfft = %lld; expected nperseg = %lld to 2^30", f,
                         (long long)r->nfft, (long long)r->nperseg);
    return BTFM_OK;
}

static btfm_status run(welch_job *j, int average, double *psd)
{
    enum { L = BTFM_FFT_LANES };
    const int C = j->n_channels;
    const int64_t F = j->n_freqs, S = j->n_seg;
    const int n_groups = (C + L - 1) / L;
    if (average == BTFM_AVERAGE_MEAN) {
        /* every group's sum, group-major, so a segment's data is read while cached */
        size_t bytes = sizeof(btfm_v8d) * (size_t)F * (size_t)n_groups;
        btfm_v8d *sums = btfm_calloc((size_t)F * (size_t)n_groups, sizeof(btfm_v8d));
        if (!sums) return btfm_fail_nomem("btfm_welch", bytes);
        for (int64_t s = 0; s < S; s++)
            for (int g = 0; g < n_groups; g++) periodogram(j, s, g * L, sums + g * F, s > 0);
        const double inv = 1.0 / (double)S;
        for (int g = 0; g < n_groups; g++) {
            int c0 = g * L, have = C - c0 < L ? C - c0 : L;
            for (int64_t f = 0; f < F; f++)
                for (int l = 0; l < have; l++) psd[f * C + c0 + l] = sums[g * F + f][l] * inv;
        }
        btfm_free(sums);
        return BTFM_OK;
    }
    size_t bytes;
    if (btfm_mul_size(sizeof(btfm_v8d) * (size_t)F, (size_t)S, &bytes))
        return btfm_fail(BTFM_E_RANGE, "btfm_welch: %lld segments are too many for the "
                         "median", (long long)S);
    btfm_v8d *all = btfm_malloc(bytes);
    double *column = btfm_malloc(sizeof(double) * (size_t)S * L);
    if (!all || !column) {
        btfm_free(all);
        btfm_free(column);
        return btfm_fail_nomem("btfm_welch", bytes);
    }
    const double bias = median_bias(S);
    for (int g = 0; g < n_groups; g++) {
        int c0 = g * L, have = C - c0 < L ? C - c0 : L;
        for (int64_t s = 0; s < S; s++) periodogram(j, s, c0, all + s * F, 0);
        for (int64_t f = 0; f < F; f++) {
            /* one pass over the segments gathers the bin of every lane */
            for (int64_t s = 0; s < S; s++)
                for (int l = 0; l < L; l++) column[l * S + s] = all[s * F + f][l];
            for (int l = 0; l < have; l++) psd[f * C + c0 + l] = median(column + l * S, S) / bias;
        }
    }
    btfm_free(all);
    btfm_free(column);
    return BTFM_OK;
}

int64_t btfm_welch_n_freqs(const btfm_welch_options *o, int64_t n_times, const char *func)
{
    btfm_welch_options r;
    btfm_status st = check_options(o, n_times, 1.0, &r, func);
    return st ? st : r.nfft / 2 + 1;
}

btfm_status btfm_welch_compute(const btfm_welch_options *o, const float *x, int64_t n_times,
                               int n_channels, double sfreq, double *psd, double *freqs,
                               const char *func)
{
    btfm_status st = btfm_spectrum_check_shape(x, n_times, n_channels, psd, func);
    if (st) return st;
    btfm_welch_options r;
    if ((st = check_options(o, n_times, sfreq, &r, func))) return st;
    st = btfm_spectrum_check_finite(x, 1, n_times, n_channels, r.flags, func);
    if (st) return st;
    const int64_t nperseg = r.nperseg, nfft = r.nfft;

    welch_job j = {.x = x, .n_times = n_times, .n_channels = n_channels, .nperseg = nperseg,
                   .step = nperseg - r.noverlap, .nfft = nfft, .n_freqs = nfft / 2 + 1,
                   .detrend = r.detrend};
    j.n_seg = (n_times - nperseg) / j.step + 1;
    btfm_fft *plan = NULL;
    st = btfm_fft_new(&plan, nfft);
    if (st) return st;
    const size_t L = BTFM_FFT_LANES;
    size_t work = btfm_fft_work_doubles(plan, BTFM_FFT_LANES);
    size_t total = (size_t)nperseg + (size_t)j.n_freqs + L * (size_t)nfft +
                   2 * L * (size_t)j.n_freqs + work;
    double *mem = btfm_malloc(sizeof(double) * total);
    if (!mem) {
        btfm_fft_free(plan);
        return btfm_fail_nomem(func, sizeof(double) * total);
    }
    double *win = mem, *bin_scale = win + nperseg;
    j.seg = bin_scale + j.n_freqs;
    j.spec = j.seg + L * (size_t)nfft;
    j.work = j.spec + 2 * L * (size_t)j.n_freqs;
    btfm_window_fill(r.window, r.kaiser_beta, nperseg, 1, win);
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t k = 0; k < nperseg; k++) {
        sum += win[k];
        sum_sq += win[k] * win[k];
    }
    const double scale = r.scaling == BTFM_SCALING_DENSITY ? 1.0 / (sfreq * sum_sq)
                                                           : 1.0 / (sum * sum);
    const int64_t last_doubled = nfft % 2 ? j.n_freqs - 1 : j.n_freqs - 2;
    for (int64_t f = 0; f < j.n_freqs; f++)
        bin_scale[f] = f >= 1 && f <= last_doubled ? 2.0 * scale : scale;
    j.window = win;
    j.bin_scale = bin_scale;
    j.plan = plan;
    st = run(&j, r.average, psd);
    if (!st && freqs)
        for (int64_t f = 0; f < j.n_freqs; f++) freqs[f] = (double)f * sfreq / (double)nfft;
    btfm_free(mem);
    btfm_fft_free(plan);
    return st;
}

btfm_status btfm_welch(const float *x, int64_t n_times, int n_channels, double sfreq,
                       int window, int64_t nperseg, int64_t noverlap, int64_t nfft,
                       int detrend, int scaling, int average, unsigned flags, double *psd,
                       double *freqs)
{
    if (window == BTFM_WINDOW_KAISER)
        return btfm_fail(BTFM_E_INVALID, "btfm_welch: window 4 (kaiser) needs a Kaiser beta, "
                         "which this function does not take; expected 0 (hann) to 3 (boxcar), "
                         "or a Welch plan (btfm_welch_plan_new) with kaiser_beta");
    const btfm_welch_options o = {window, 0.0, nperseg, noverlap, nfft, detrend, scaling,
                                  average, flags};
    return btfm_welch_compute(&o, x, n_times, n_channels, sfreq, psd, freqs, "btfm_welch");
}
