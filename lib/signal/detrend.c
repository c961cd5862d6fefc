/* Detrending along time, per channel, as scipy.signal.detrend(axis=0) without break
 * points: the mean, or the least-squares line a + b t, computed in double. */
#include <math.h>
#include <string.h>
#include "signal_internal.h"

btfm_status btfm_detrend(const float *x, int64_t n_times, int n_channels, int type,
                         unsigned flags, float *out)
{
    static const char func[] = "btfm_detrend";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    if (n_times > 0) BTFM_CHECK_ARG(out, func, "out");
    if (type != BTFM_DETREND_NONE && type != BTFM_DETREND_CONSTANT && type != BTFM_DETREND_LINEAR)
        return btfm_fail(BTFM_E_INVALID, "%s: unknown type %d (0 none, 1 constant, 2 linear)",
                         func, type);
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags)) != BTFM_OK) return st;
    if (n_times == 0) return BTFM_OK;
    const size_t C = (size_t)n_channels;
    if (type == BTFM_DETREND_NONE) {
        if (out != x) memmove(out, x, (size_t)n_times * C * sizeof *out);
        return BTFM_OK;
    }
    double *mean = btfm_calloc(2 * C, sizeof(double)), *slope = mean + C;
    if (!mean) return btfm_fail_nomem(func, 2 * C * sizeof(double));
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * C;
        for (size_t c = 0; c < C; c++) mean[c] += row[c];
    }
    for (size_t c = 0; c < C; c++) mean[c] /= (double)n_times;
    double t_mean = (n_times - 1) / 2.0;
    if (type == BTFM_DETREND_LINEAR && n_times > 1) {
        /* b = sum (t - t_mean)(x - mean) / sum (t - t_mean)^2 */
        double n = (double)n_times, t_var = n * (n * n - 1) / 12.0;
        for (int64_t t = 0; t < n_times; t++) {
            const float *row = x + (size_t)t * C;
            double dt = t - t_mean;
            for (size_t c = 0; c < C; c++) slope[c] += dt * (row[c] - mean[c]);
        }
        for (size_t c = 0; c < C; c++) slope[c] /= t_var;
    }
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * C;
        float *dst = out + (size_t)t * C;
        double dt = t - t_mean;
        for (size_t c = 0; c < C; c++) dst[c] = (float)(row[c] - (mean[c] + slope[c] * dt));
    }
    btfm_free(mean);
    return BTFM_OK;
}
