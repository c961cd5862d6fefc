/* First-level design matrices as nilearn builds them (make_first_level_design_matrix,
 * compute_regressor): events as boxcars on an oversampled grid, convolved with the HRF
 * kernels, sampled at the frame times; drift bases (DCT as SPM's spm_filter, or
 * orthogonalized polynomials) and the constant. */
#include <math.h>
#include <string.h>
#include "glm_internal.h"

int btfm_glm_hrf_columns(int hrf_model)
{
    switch (hrf_model) {
    case BTFM_HRF_MODEL_SPM: return 1;
    case BTFM_HRF_MODEL_SPM_DERIVATIVE: return 2;
    case BTFM_HRF_MODEL_SPM_DERIVATIVE_DISPERSION: return 3;
    default:
        return btfm_fail(BTFM_E_INVALID, "btfm_glm_hrf_columns: unknown HRF model %d; "
                         "expected 1 (spm), 2 (spm + derivative) or 3 (spm + derivative + "
                         "dispersion)", hrf_model);
    }
}

/* numpy.linspace(start, stop, n)[i]. */
static double linspace_at(double start, double stop, int64_t n, int64_t i)
{
    if (n > 1 && i == n - 1) return stop;
    return n > 1 ? (double)i * ((stop - start) / (double)(n - 1)) + start : start;
}

/* numpy.searchsorted(x, value) (side 'left') over n ascending values. */
static int64_t search_left(const double *x, int64_t n, double value)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (x[mid] < value) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static btfm_status check_timing(const char *func, double t_r, int64_t n_scans,
                                double slice_time_ref)
{
    if (!(t_r > 0) || !isfinite(t_r))
        return btfm_fail(BTFM_E_RANGE, "%s: t_r = %g s; expected a positive repetition time",
                         func, t_r);
    if (n_scans < 2 || n_scans > ((int64_t)1 << 31))
        return btfm_fail(BTFM_E_RANGE, "%s: n_scans = %lld; expected 2 .. 2^31", func,
                         (long long)n_scans);
    if (!(slice_time_ref >= 0 && slice_time_ref <= 1))
        return btfm_fail(BTFM_E_RANGE, "%s: slice_time_ref = %g; expected a fraction of the "
                         "TR in [0, 1]", func, slice_time_ref);
    return BTFM_OK;
}

/* Frame times linspace(ref t_r, (n - 1 + ref) t_r, n), as nilearn's FirstLevelModel. */
static void frame_times(double t_r, int64_t n, double slice_time_ref, double *ft)
{
    const double start = slice_time_ref * t_r, stop = ((double)(n - 1) + slice_time_ref) * t_r;
    for (int64_t i = 0; i < n; i++) ft[i] = linspace_at(start, stop, n, i);
}

/* Gram-Schmidt of the columns of x (rows x cols, stride `stride`) against the
 * preceding ones (nilearn's orthogonalize: each minus its projection on the span of
 * the previous, unnormalized). */
static void orthogonalize(double *x, int64_t rows, int64_t cols, int64_t stride)
{
    double norms[32] = {0}; /* callers pass at most 21 columns */
    double *basis = cols > 1 ? btfm_dense_zeros(rows, cols, "glm: orthogonalize") : NULL;
    if (!basis) return;
    for (int64_t j = 0; j < cols; j++) {
        for (int64_t i = 0; i < j; i++) {
            if (norms[i] == 0) continue;
            double dot = 0;
            for (int64_t t = 0; t < rows; t++) dot += basis[t * cols + i] * x[t * stride + j];
            for (int64_t t = 0; t < rows; t++) x[t * stride + j] -= dot * basis[t * cols + i];
        }
        double n2 = 0;
        for (int64_t t = 0; t < rows; t++) n2 += x[t * stride + j] * x[t * stride + j];
        norms[j] = sqrt(n2);
        for (int64_t t = 0; t < rows; t++)
            basis[t * cols + j] = norms[j] > 0 ? x[t * stride + j] / norms[j] : 0;
    }
    btfm_free(basis);
}

/* conv(boxcars, kernel)[:n_hr] for boxcars given by their steps (index, value): the
 * boxcar signal is the cumulative sum of the steps, so the convolution is the steps
 * convolved with the kernel's cumulative sum (constant after the kernel's end). */
static void convolve_steps(const int64_t *at, const double *value, int64_t n_steps,
                           const double *kernel, int64_t n_kernel, int64_t n_hr,
                           double *cumulative, double *tail, double *out)
{
    double c = 0;
    for (int64_t k = 0; k < n_kernel; k++) cumulative[k] = (c += kernel[k]);
    memset(out, 0, (size_t)n_hr * sizeof(double));
    memset(tail, 0, (size_t)n_hr * sizeof(double));
    for (int64_t s = 0; s < n_steps; s++) {
        int64_t i0 = at[s];
        int64_t end = i0 + n_kernel < n_hr ? i0 + n_kernel : n_hr;
        for (int64_t i = i0; i < end; i++) out[i] += value[s] * cumulative[i - i0];
        if (i0 + n_kernel < n_hr) tail[i0 + n_kernel] += value[s] * cumulative[n_kernel - 1];
    }
    double run = 0;
    for (int64_t i = 0; i < n_hr; i++) out[i] += (run += tail[i]);
}

btfm_status btfm_glm_event_regressors(const double *onsets, const double *durations,
                                      const double *amplitudes, int64_t n_events, double t_r,
                                      int64_t n_scans, double slice_time_ref, int hrf_model,
                                      double *out)
{
    static const char func[] = "btfm_glm_event_regressors";
    BTFM_CHECK_ARG(out, func, "out");
    int n_basis = btfm_glm_hrf_columns(hrf_model);
    if (n_basis < 0) return n_basis;
    btfm_status st = check_timing(func, t_r, n_scans, slice_time_ref);
    if (st) return st;
    if (n_events < 0) return btfm_fail(BTFM_E_RANGE, "%s: n_events = %lld", func,
                                       (long long)n_events);
    if (n_events > 0) {
        BTFM_CHECK_ARG(onsets, func, "onsets");
        BTFM_CHECK_ARG(durations, func, "durations");
    }
    const double run_start = slice_time_ref * t_r + GLM_MIN_ONSET;
    const double run_end = ((double)n_scans + slice_time_ref) * t_r;
    for (int64_t e = 0; e < n_events; e++) {
        double amp = amplitudes ? amplitudes[e] : 1.0;
        if (!isfinite(onsets[e]) || !isfinite(durations[e]) || !isfinite(amp))
            return btfm_fail(BTFM_E_NUMERIC, "%s: event %lld has onset %g s, duration %g s, "
                             "amplitude %g; expected finite values", func, (long long)e,
                             onsets[e], durations[e], amp);
        if (durations[e] < 0)
            return btfm_fail(BTFM_E_RANGE, "%s: event %lld has a negative duration (%g s)",
                             func, (long long)e, durations[e]);
        if (onsets[e] < run_start || onsets[e] >= run_end)
            return btfm_fail(BTFM_E_RANGE, "%s: event %lld starts at %g s, outside the run "
                             "(%lld scans of %g s: onsets from %g s to before %g s are "
                             "modelled)", func, (long long)e, onsets[e], (long long)n_scans,
                             t_r, run_start, run_end);
    }

    const int64_t n = n_scans;
    double *ft = btfm_dense_zeros(n, 1, func);
    if (!ft) return BTFM_E_NOMEM;
    frame_times(t_r, n, slice_time_ref, ft);
    /* The kernels use the smallest frame spacing as TR (nilearn's _calculate_tr). */
    double tr = INFINITY;
    for (int64_t i = 1; i < n; i++) tr = fmin(tr, ft[i] - ft[i - 1]);
    const double lo = ft[0], hi = ft[n - 1];
    const double hr_stop = hi * (1.0 + 1.0 / (double)(n - 1));
    const int64_t n_hr = (int64_t)rint((double)(n - 1) * 1.0 / (hi - lo) *
                                       ((hr_stop - lo - GLM_MIN_ONSET) * GLM_OVERSAMPLING) + 1);
    const int64_t n_kernel = btfm_glm_hrf_length(tr, GLM_OVERSAMPLING, GLM_HRF_LENGTH);
    double *hr = btfm_dense_zeros(n_hr, 1, func);
    double *kernel = btfm_dense_zeros(n_kernel, 1, func);
    double *cumulative = btfm_dense_zeros(n_kernel, 1, func);
    double *tail = btfm_dense_zeros(n_hr, 1, func);
    double *conv = btfm_dense_zeros(n_hr, 1, func);
    int64_t *at = btfm_calloc((size_t)(2 * n_events + 1), sizeof *at);
    double *value = btfm_dense_zeros(2 * n_events + 1, 1, func);
    if (!hr || !kernel || !cumulative || !tail || !conv || !at || !value) {
        st = at ? BTFM_E_NOMEM : btfm_fail_nomem(func, (size_t)n_events * sizeof *at);
        goto done;
    }
    for (int64_t i = 0; i < n_hr; i++) hr[i] = linspace_at(lo + GLM_MIN_ONSET, hr_stop, n_hr, i);
    /* Steps of the boxcars: +amplitude at the onset, -amplitude at the offset (one
     * sample later for zero durations), both clipped to the grid's last sample. */
    int64_t n_steps = 0;
    for (int64_t e = 0; e < n_events; e++) {
        double amp = amplitudes ? amplitudes[e] : 1.0;
        int64_t on = search_left(hr, n_hr, onsets[e]);
        int64_t off = search_left(hr, n_hr, onsets[e] + durations[e]);
        if (on > n_hr - 1) on = n_hr - 1;
        if (off > n_hr - 1) off = n_hr - 1;
        if (off < n_hr - 1 && off == on) off++;
        at[n_steps] = on;
        value[n_steps++] = amp;
        at[n_steps] = off;
        value[n_steps++] = -amp;
    }
    for (int b = 0; b < n_basis; b++) {
        if ((st = btfm_glm_hrf_fill(b, tr, GLM_OVERSAMPLING, GLM_HRF_LENGTH, 0.0, kernel)))
            goto done;
        convolve_steps(at, value, n_steps, kernel, n_kernel, n_hr, cumulative, tail, conv);
        /* scipy.interpolate.interp1d (linear) at the frame times. */
        for (int64_t i = 0; i < n; i++) {
            int64_t k = search_left(hr, n_hr, ft[i]);
            if (k < 1) k = 1;
            if (k > n_hr - 1) k = n_hr - 1;
            double slope = (conv[k] - conv[k - 1]) / (hr[k] - hr[k - 1]);
            out[i * n_basis + b] = slope * (ft[i] - hr[k - 1]) + conv[k - 1];
        }
    }
    orthogonalize(out, n, n_basis, n_basis);
done:
    btfm_free(ft);
    btfm_free(hr);
    btfm_free(kernel);
    btfm_free(cumulative);
    btfm_free(tail);
    btfm_free(conv);
    btfm_free(at);
    btfm_free(value);
    return st;
}

btfm_status btfm_glm_cosine_drift(int64_t n_times, double t_r, double cutoff_s, double *out,
                                  size_t capacity, int64_t *n_columns)
{
    static const char func[] = "btfm_glm_cosine_drift";
    BTFM_CHECK_ARG(n_columns, func, "n_columns");
    btfm_status st = check_timing(func, t_r, n_times, 0.0);
    if (st) return st;
    if (!(cutoff_s > 0) || isnan(cutoff_s))
        return btfm_fail(BTFM_E_RANGE, "%s: cutoff = %g s; expected a positive period (SPM's "
                         "default is 128 s)", func, cutoff_s);
    /* nilearn: order = min(n - 1, floor(2 n high_pass dt)), high_pass = 1 / cutoff. */
    double order_d = floor(2.0 * (double)n_times * (1.0 / cutoff_s) * t_r);
    int64_t order = order_d < (double)(n_times - 1) ? (int64_t)order_d : n_times - 1;
    *n_columns = order + 1;
    if (!out && capacity == 0) return BTFM_OK;
    BTFM_CHECK_ARG(out, func, "out");
    const int64_t cols = order + 1;
    if (capacity / (size_t)cols < (size_t)n_times)
        return btfm_fail(BTFM_E_RANGE, "%s: the buffer holds %zu values; %lld x %lld needed",
                         func, capacity, (long long)n_times, (long long)cols);
    const double normalizer = sqrt(2.0 / (double)n_times);
    const double pi = 3.14159265358979323846;
    for (int64_t t = 0; t < n_times; t++) {
        for (int64_t k = 1; k <= order; k++)
            out[t * cols + k - 1] = normalizer * cos((pi / (double)n_times) *
                                                     ((double)t + 0.5) * (double)k);
        out[t * cols + order] = 1.0;
    }
    return BTFM_OK;
}

btfm_status btfm_glm_drift(int64_t n_scans, double t_r, double slice_time_ref, int drift_model,
                           double drift_param, double *out, size_t capacity, int64_t *n_columns)
{
    static const char func[] = "btfm_glm_drift";
    BTFM_CHECK_ARG(n_columns, func, "n_columns");
    btfm_status st = check_timing(func, t_r, n_scans, slice_time_ref);
    if (st) return st;
    if (drift_model == BTFM_DRIFT_COSINE) {
        double *ft = btfm_dense_zeros(n_scans, 1, func);
        if (!ft) return BTFM_E_NOMEM;
        frame_times(t_r, n_scans, slice_time_ref, ft);
        double dt = (ft[n_scans - 1] - ft[0]) / (double)(n_scans - 1);
        btfm_free(ft);
        return btfm_glm_cosine_drift(n_scans, dt, drift_param, out, capacity, n_columns);
    }
    int64_t order;
    if (drift_model == BTFM_DRIFT_NONE) {
        order = 0;
    } else if (drift_model == BTFM_DRIFT_POLYNOMIAL) {
        if (!(drift_param >= 0 && drift_param <= 20) || drift_param != floor(drift_param))
            return btfm_fail(BTFM_E_RANGE, "%s: polynomial drift order %g; expected a whole "
                             "number 0 .. 20", func, drift_param);
        order = (int64_t)drift_param;
        if (order >= n_scans)
            return btfm_fail(BTFM_E_RANGE, "%s: polynomial drift order %lld needs more than "
                             "%lld scans", func, (long long)order, (long long)n_scans);
    } else {
        return btfm_fail(BTFM_E_INVALID, "%s: unknown drift model %d; expected 0 (none), 1 "
                         "(cosine) or 2 (polynomial)", func, drift_model);
    }
    const int64_t cols = order + 1;
    *n_columns = cols;
    if (!out && capacity == 0) return BTFM_OK;
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity / (size_t)cols < (size_t)n_scans)
        return btfm_fail(BTFM_E_RANGE, "%s: the buffer holds %zu values; %lld x %lld needed",
                         func, capacity, (long long)n_scans, (long long)cols);
    double *ft = btfm_dense_zeros(n_scans, 1, func);
    double *pol = btfm_dense_zeros(n_scans, cols, func);
    if (!ft || !pol) {
        btfm_free(ft);
        btfm_free(pol);
        return BTFM_E_NOMEM;
    }
    frame_times(t_r, n_scans, slice_time_ref, ft);
    const double tmax = ft[n_scans - 1];
    for (int64_t t = 0; t < n_scans; t++)
        for (int64_t k = 0; k < cols; k++) pol[t * cols + k] = pow(ft[t] / tmax, (double)k);
    orthogonalize(pol, n_scans, cols, cols);
    /* nilearn moves the constant to the end: columns 1 .. order, then 0. */
    for (int64_t t = 0; t < n_scans; t++) {
        for (int64_t k = 1; k < cols; k++) out[t * cols + k - 1] = pol[t * cols + k];
        out[t * cols + cols - 1] = pol[t * cols];
    }
    btfm_free(ft);
    btfm_free(pol);
    return BTFM_OK;
}

btfm_status btfm_glm_design_compute(const btfm_design_options *o, const double *onsets,
                                    const double *durations, const double *amplitudes,
                                    const int *conditions, int64_t n_events, int n_conditions,
                                    int64_t n_scans, double *out, size_t capacity,
                                    int64_t *n_columns, const char *func)
{
    const double t_r = o->t_r, slice_time_ref = o->slice_time_ref, drift_param = o->drift_param;
    const int hrf_model = o->hrf_model, drift_model = o->drift_model;
    BTFM_CHECK_ARG(n_columns, func, "n_columns");
    int n_basis = btfm_glm_hrf_columns(hrf_model);
    if (n_basis < 0) return n_basis;
    if (n_conditions < 0 || n_events < 0 || (n_events > 0 && n_conditions < 1))
        return btfm_fail(BTFM_E_RANGE, "%s: %lld events in %d conditions", func,
                         (long long)n_events, n_conditions);
    if (n_events > 0) BTFM_CHECK_ARG(conditions, func, "conditions");
    for (int64_t e = 0; e < n_events; e++)
        if (conditions[e] < 0 || conditions[e] >= n_conditions)
            return btfm_fail(BTFM_E_RANGE, "%s: event %lld has condition %d; expected 0 .. %d",
                             func, (long long)e, conditions[e], n_conditions - 1);
    for (int c = 0; c < n_conditions; c++) {
        int64_t e = 0;
        while (e < n_events && conditions[e] != c) e++;
        if (e == n_events)
            return btfm_fail(BTFM_E_RANGE, "%s: condition %d has no events; its regressor "
                             "would be all zeros", func, c);
    }
    int64_t n_drift;
    btfm_status st = btfm_glm_drift(n_scans, t_r, slice_time_ref, drift_model, drift_param,
                                    NULL, 0, &n_drift);
    if (st) return st;
    const int64_t n_task = (int64_t)n_conditions * n_basis, cols = n_task + n_drift;
    *n_columns = cols;
    if (!out && capacity == 0) return BTFM_OK;
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity / (size_t)cols < (size_t)n_scans)
        return btfm_fail(BTFM_E_RANGE, "%s: the buffer holds %zu values; %lld x %lld needed",
                         func, capacity, (long long)n_scans, (long long)cols);
    double *on = btfm_dense_zeros(n_events + 1, 1, func);
    double *dur = btfm_dense_zeros(n_events + 1, 1, func);
    double *amp = btfm_dense_zeros(n_events + 1, 1, func);
    double *part = btfm_dense_zeros(n_scans, n_basis > n_drift ? n_basis : n_drift, func);
    if (!on || !dur || !amp || !part) { st = BTFM_E_NOMEM; goto done; }
    for (int c = 0; !st && c < n_conditions; c++) {
        int64_t m = 0;
        for (int64_t e = 0; e < n_events; e++)
            if (conditions[e] == c) {
                on[m] = onsets[e];
                dur[m] = durations[e];
                amp[m++] = amplitudes ? amplitudes[e] : 1.0;
            }
        st = btfm_glm_event_regressors(on, dur, amp, m, t_r, n_scans, slice_time_ref,
                                       hrf_model, part);
        for (int64_t t = 0; !st && t < n_scans; t++)
            memcpy(out + t * cols + (int64_t)c * n_basis, part + t * n_basis,
                   (size_t)n_basis * sizeof(double));
    }
    if (!st) st = btfm_glm_drift(n_scans, t_r, slice_time_ref, drift_model, drift_param, part,
                                 (size_t)(n_scans * n_drift), &n_drift);
    for (int64_t t = 0; !st && t < n_scans; t++)
        memcpy(out + t * cols + n_task, part + t * n_drift, (size_t)n_drift * sizeof(double));
done:
    btfm_free(on);
    btfm_free(dur);
    btfm_free(amp);
    btfm_free(part);
    return st;
}

btfm_status btfm_glm_design_matrix(const double *onsets, const double *durations,
                                   const double *amplitudes, const int *conditions,
                                   int64_t n_events, int n_conditions, double t_r,
                                   int64_t n_scans, double slice_time_ref, int hrf_model,
                                   int drift_model, double drift_param, double *out,
                                   size_t capacity, int64_t *n_columns)
{
    const btfm_design_options o = {t_r, slice_time_ref, hrf_model, drift_model, drift_param};
    return btfm_glm_design_compute(&o, onsets, durations, amplitudes, conditions, n_events,
                                   n_conditions, n_scans, out, capacity, n_columns,
                                   "btfm_glm_design_matrix");
}
