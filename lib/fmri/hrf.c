/* The SPM canonical haemodynamic response (Friston 1998; spm_hrf) as nilearn samples
 * it: a difference of two gamma densities on an oversampled grid, normalized to sum 1,
 * and its finite-difference time and dispersion derivatives. */
#include <math.h>
#include "glm_internal.h"

/* The canonical shape: peak delay 6 s, undershoot 16 s, unit dispersions, and the
 * undershoot ratio nilearn uses (0.167, SPM's 1/6 rounded). */
#define HRF_DELAY 6.0
#define HRF_UNDERSHOOT 16.0
#define HRF_RATIO 0.167
/* Finite-difference steps of the derivatives (nilearn, SPM): onset 0.1 s, dispersion 0.01. */
#define HRF_ONSET_STEP 0.1
#define HRF_DISPERSION_STEP 0.01

/* scipy.stats.gamma.pdf(x, shape, loc, scale); 0 at and below loc (shape > 1). */
static double gamma_pdf(double x, double shape, double loc, double scale)
{
    double z = (x - loc) / scale;
    if (!(z > 0)) return 0.0;
    return exp((shape - 1.0) * log(z) - z - lgamma(shape)) / scale;
}

int64_t btfm_glm_hrf_length(double t_r, int oversampling, double time_length)
{
    double n = rint(time_length / (t_r / oversampling));
    return n > 0 ? (int64_t)n : 0;
}

/* nilearn's _gamma_difference_hrf with a peak dispersion `dispersion`. */
static btfm_status gamma_difference(double t_r, int oversampling, double time_length,
                                    double onset, double dispersion, double *out)
{
    const double dt = t_r / oversampling;
    const int64_t n = btfm_glm_hrf_length(t_r, oversampling, time_length);
    /* numpy.linspace(0, time_length, n): i * step, the last point exactly time_length. */
    const double step = n > 1 ? time_length / (double)(n - 1) : 0.0;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = (i == n - 1 && n > 1 ? time_length : (double)i * step) - onset;
        double h = gamma_pdf(t, HRF_DELAY / dispersion, dt, dispersion) -
                   HRF_RATIO * gamma_pdf(t, HRF_UNDERSHOOT, dt, 1.0);
        out[i] = h;
        sum += h;
    }
    if (!(sum != 0) || !isfinite(sum))
        return btfm_fail(BTFM_E_NUMERIC, "btfm_glm_hrf: the HRF sums to %g on a %g s grid "
                         "with onset %g s; expected the response to fall inside the kernel",
                         sum, time_length, onset);
    for (int64_t i = 0; i < n; i++) out[i] /= sum;
    return BTFM_OK;
}

btfm_status btfm_glm_hrf_fill(int kind, double t_r, int oversampling, double time_length,
                              double onset, double *out)
{
    const int64_t n = btfm_glm_hrf_length(t_r, oversampling, time_length);
    btfm_status st = gamma_difference(t_r, oversampling, time_length, onset, 1.0, out);
    if (st || kind == BTFM_HRF_SPM) return st;
    /* Derivatives are (h - h_shifted) / step; the shifted kernel lives on the stack
     * when small. */
    double stack[4096];
    double *other = n <= 4096 ? stack : btfm_malloc((size_t)n * sizeof(double));
    if (!other) return btfm_fail_nomem("btfm_glm_hrf", (size_t)n * sizeof(double));
    double step;
    if (kind == BTFM_HRF_SPM_TIME_DERIVATIVE) {
        step = HRF_ONSET_STEP;
        st = gamma_difference(t_r, oversampling, time_length, onset + step, 1.0, other);
    } else {
        step = HRF_DISPERSION_STEP;
        st = gamma_difference(t_r, oversampling, time_length, onset, 1.0 + step, other);
    }
    for (int64_t i = 0; !st && i < n; i++) out[i] = 1.0 / step * (out[i] - other[i]);
    if (other != stack) btfm_free(other);
    return st;
}

btfm_status btfm_glm_hrf(int kind, double t_r, int oversampling, double time_length,
                         double onset, double *out, size_t capacity, int64_t *n_samples)
{
    static const char func[] = "btfm_glm_hrf";
    BTFM_CHECK_ARG(n_samples, func, "n_samples");
    if (kind < BTFM_HRF_SPM || kind > BTFM_HRF_SPM_DISPERSION_DERIVATIVE)
        return btfm_fail(BTFM_E_INVALID, "%s: unknown HRF kind %d; expected 0 (spm), 1 (time "
                         "derivative) or 2 (dispersion derivative)", func, kind);
    if (!(t_r > 0) || !isfinite(t_r))
        return btfm_fail(BTFM_E_RANGE, "%s: t_r = %g s; expected a positive repetition time",
                         func, t_r);
    if (oversampling < 1 || oversampling > 10000)
        return btfm_fail(BTFM_E_RANGE, "%s: oversampling = %d; expected 1 .. 10000", func,
                         oversampling);
    if (!(time_length > 0) || !isfinite(time_length) || !isfinite(onset))
        return btfm_fail(BTFM_E_RANGE, "%s: time_length = %g s, onset = %g s; expected a "
                         "positive length and a finite onset", func, time_length, onset);
    const double n = rint(time_length / (t_r / oversampling));
    if (n < 2 || n > 1e8)
        return btfm_fail(BTFM_E_RANGE, "%s: time_length %g s at %g s steps gives %g samples; "
                         "expected 2 .. 1e8", func, time_length, t_r / oversampling, n);
    *n_samples = (int64_t)n;
    if (!out && capacity == 0) return BTFM_OK;
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity < (size_t)n)
        return btfm_fail(BTFM_E_RANGE, "%s: the buffer holds %zu values; %lld needed", func,
                         capacity, (long long)n);
    return btfm_glm_hrf_fill(kind, t_r, oversampling, time_length, onset, out);
}
