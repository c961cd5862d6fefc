/* Argument checks shared by the signal layer: array shapes and the NaN/Inf scan. */
#include <math.h>
#include "signal_internal.h"

btfm_status btfm_signal_check_array(const char *func, const float *x, int64_t n_times,
                                    int n_channels)
{
    if (n_times < 0)
        return btfm_fail(BTFM_E_RANGE, "%s: n_times = %lld is negative", func, (long long)n_times);
    if (n_channels < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: n_channels = %d, expected at least 1", func,
                         n_channels);
    size_t bytes;
    if (btfm_mul_size((size_t)n_times, (size_t)n_channels, &bytes) ||
        btfm_mul_size(bytes, sizeof(float), &bytes) || n_times > INT64_MAX / 4)
        return btfm_fail(BTFM_E_RANGE, "%s: %lld x %d floats do not fit in memory", func,
                         (long long)n_times, n_channels);
    if (n_times > 0 && !x) return btfm_fail(BTFM_E_INVALID, "%s: the data pointer is NULL", func);
    return BTFM_OK;
}

/* x - x is 0 for finite values and NaN otherwise: a branch-free scan of a whole row. */
BTFM_HOT static int row_finite(const float *row, int n)
{
    float acc = 0;
    for (int c = 0; c < n; c++) acc += row[c] - row[c];
    return acc == 0;
}

btfm_status btfm_signal_check_finite(const char *func, const float *x, int64_t n_times,
                                     int n_channels, int64_t first_sample, unsigned flags)
{
    if (flags & BTFM_SIGNAL_ALLOW_NONFINITE) return BTFM_OK;
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * (size_t)n_channels;
        if (row_finite(row, n_channels)) continue;
        for (int c = 0; c < n_channels; c++)
            if (!isfinite(row[c]))
                return btfm_fail(BTFM_E_NUMERIC, "%s: channel %d, sample %lld holds %s; remove "
                                 "or interpolate non-finite values first, or pass "
                                 "BTFM_SIGNAL_ALLOW_NONFINITE to let them propagate", func, c,
                                 (long long)(t + first_sample), isnan(row[c]) ? "NaN" : "Inf");
    }
    return BTFM_OK;
}
