/* Event-related potential features of epochs: mean amplitude and peak (amplitude and
 * latency) in a time window, with the window rule of MNE's Evoked.get_peak: the samples
 * whose times t satisfy t_start <= t <= t_stop exactly. */
#include <math.h>
#include "spectrum_internal.h"

/* The samples [*first, *last] of the window, after the argument checks. */
static btfm_status window(const float *epochs, int64_t n_epochs, int64_t n_times,
                          int n_channels, double sfreq, double tmin, double t_start,
                          double t_stop, unsigned flags, const void *out, const char *func,
                          int64_t *first, int64_t *last)
{
    btfm_status st = btfm_spectrum_check_shape(epochs, n_times, n_channels, out, func);
    if (st) return st;
    if (n_epochs < 1 || (uint64_t)n_epochs > (uint64_t)INT64_MAX / (uint64_t)n_times /
                                                (uint64_t)n_channels)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld epochs; expected at least 1", func,
                         (long long)n_epochs);
    if (!(sfreq > 0.0) || !isfinite(sfreq) || !isfinite(tmin))
        return btfm_fail(BTFM_E_RANGE, "%s: sfreq = %g, tmin = %g; expected a positive "
                         "sampling rate and a finite epoch start (s)", func, sfreq, tmin);
    const double t0 = btfm_sample_time(tmin, sfreq, 0);
    const double t1 = btfm_sample_time(tmin, sfreq, n_times - 1);
    if (!(t_start >= t0) || !(t_stop <= t1))
        return btfm_fail(BTFM_E_RANGE, "%s: window [%g, %g] s reaches outside the epoch's "
                         "times [%g, %g] s", func, t_start, t_stop, t0, t1);
    if (t_start > t_stop)
        return btfm_fail(BTFM_E_RANGE, "%s: window start %g s is after its stop %g s", func,
                         t_start, t_stop);
    int64_t a = 0, b = n_times - 1;
    while (a < n_times && btfm_sample_time(tmin, sfreq, a) < t_start) a++;
    while (b >= 0 && btfm_sample_time(tmin, sfreq, b) > t_stop) b--;
    if (a > b)
        return btfm_fail(BTFM_E_RANGE, "%s: window [%g, %g] s holds no sample at %g Hz; "
                         "expected a window containing at least one sample time", func,
                         t_start, t_stop, sfreq);
    *first = a;
    *last = b;
    return btfm_spectrum_check_finite(epochs, n_epochs, n_times, n_channels, flags, func);
}

btfm_status btfm_erp_mean_amplitude(const float *epochs, int64_t n_epochs, int64_t n_times,
                                    int n_channels, double sfreq, double tmin, double t_start,
                                    double t_stop, unsigned flags, double *amplitude)
{
    int64_t first, last;
    btfm_status st = window(epochs, n_epochs, n_times, n_channels, sfreq, tmin, t_start,
                            t_stop, flags, amplitude, "btfm_erp_mean_amplitude", &first, &last);
    if (st) return st;
    const int C = n_channels;
    for (int64_t e = 0; e < n_epochs; e++) {
        const float *x = epochs + (size_t)e * (size_t)n_times * (size_t)C;
        double *out = amplitude + (size_t)e * (size_t)C;
        for (int c = 0; c < C; c++) out[c] = 0.0;
        for (int64_t t = first; t <= last; t++)
            for (int c = 0; c < C; c++) out[c] += x[t * C + c];
        for (int c = 0; c < C; c++) out[c] /= (double)(last - first + 1);
    }
    return BTFM_OK;
}

btfm_status btfm_erp_peak(const float *epochs, int64_t n_epochs, int64_t n_times,
                          int n_channels, double sfreq, double tmin, double t_start,
                          double t_stop, int mode, unsigned flags, double *amplitude,
                          double *latency)
{
    const char *func = "btfm_erp_peak";
    BTFM_CHECK_ARG(latency, func, "latency");
    if (mode < BTFM_PEAK_ABS || mode > BTFM_PEAK_NEG)
        return btfm_fail(BTFM_E_INVALID, "%s: mode %d is unknown; expected 0 (abs), 1 (pos) "
                         "or 2 (neg)", func, mode);
    int64_t first, last;
    btfm_status st = window(epochs, n_epochs, n_times, n_channels, sfreq, tmin, t_start, t_stop,
                            flags, amplitude, func, &first, &last);
    if (st) return st;
    const int C = n_channels;
    for (int64_t e = 0; e < n_epochs; e++) {
        const float *x = epochs + (size_t)e * (size_t)n_times * (size_t)C;
        for (int c = 0; c < C; c++) {
            int64_t best = first;
            int nan = 0;
            for (int64_t t = first; t <= last; t++) {
                double v = x[t * C + c], top = x[best * C + c];
                if (isnan(v)) nan = 1;
                if ((mode == BTFM_PEAK_ABS && fabs(v) > fabs(top)) ||
                    (mode == BTFM_PEAK_POS && v > top) || (mode == BTFM_PEAK_NEG && v < top))
                    best = t;
            }
            double v = x[best * C + c];
            size_t k = (size_t)e * (size_t)C + (size_t)c;
            if (nan || (mode == BTFM_PEAK_POS && !(v > 0)) || (mode == BTFM_PEAK_NEG && !(v < 0))) {
                amplitude[k] = NAN;
                latency[k] = NAN;
            } else {
                amplitude[k] = v;
                latency[k] = btfm_sample_time(tmin, sfreq, best);
            }
        }
    }
    return BTFM_OK;
}
