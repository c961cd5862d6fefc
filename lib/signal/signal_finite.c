/* Argument checks shared by the signal layer: array shapes and the NaN/Inf check (the
 * scan itself is lib/dense). */
#include <math.h>
#include <string.h>
#include "signal_internal.h"
#include "dense/dense.h"

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

btfm_status btfm_signal_fail_nonfinite(const char *func, int channel, int64_t sample, float value)
{
    return btfm_dense_fail_nonfinite(func, NULL, "channel", channel, "sample", sample, value,
                                     "remove or interpolate them first, or pass "
                                     "BTFM_ALLOW_NONFINITE to let them propagate");
}

btfm_status btfm_signal_check_finite(const char *func, const float *x, int64_t n_times,
                                     int n_channels, int64_t first_sample, unsigned flags)
{
    int64_t t, c;
    if ((flags & BTFM_ALLOW_NONFINITE) ||
        !btfm_dense_find_nonfinite(x, n_times, n_channels, n_channels, &t, &c))
        return BTFM_OK;
    return btfm_signal_fail_nonfinite(func, (int)c, t + first_sample,
                                      x[(size_t)t * (size_t)n_channels + (size_t)c]);
}
