/* Argument checks shared by the signal layer: array shapes and the NaN/Inf scan. */
#include <math.h>
#include <string.h>
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

/* An exponent of all ones is NaN or Inf: an integer test the compiler vectorizes. */
BTFM_HOT int btfm_floats_nonfinite(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return bad != 0;
}

btfm_status btfm_signal_fail_nonfinite(const char *func, int channel, int64_t sample, float value)
{
    return btfm_fail(BTFM_E_NUMERIC, "%s: channel %d, sample %lld holds %s; remove or "
                     "interpolate non-finite values first, or pass BTFM_SIGNAL_ALLOW_NONFINITE "
                     "to let them propagate", func, channel, (long long)sample,
                     isnan(value) ? "NaN" : "Inf");
}

btfm_status btfm_signal_check_finite(const char *func, const float *x, int64_t n_times,
                                     int n_channels, int64_t first_sample, unsigned flags)
{
    if (flags & BTFM_SIGNAL_ALLOW_NONFINITE) return BTFM_OK;
    const int64_t block = 1 + 4096 / n_channels;
    for (int64_t t0 = 0; t0 < n_times; t0 += block) {
        int64_t len = n_times - t0 < block ? n_times - t0 : block;
        if (btfm_floats_nonfinite(x + (size_t)t0 * (size_t)n_channels, (size_t)(len * n_channels)))
            break;
        if (t0 + len == n_times) return BTFM_OK;
    }
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * (size_t)n_channels;
        for (int c = 0; c < n_channels; c++)
            if (!isfinite(row[c])) return btfm_signal_fail_nonfinite(func, c, t + first_sample, row[c]);
    }
    return BTFM_OK;
}
