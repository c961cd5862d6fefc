/* Re-referencing (the mean of reference channels subtracted from target channels, as
 * MNE's _apply_reference) and bad-channel interpolation by inverse-distance weighting
 * of the nearest good sensors. */
#include <math.h>
#include <string.h>
#include "signal_internal.h"

static btfm_status check_indices(const char *func, const char *what, const int *idx, int n,
                                 int n_channels)
{
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= n_channels)
            return btfm_fail(BTFM_E_RANGE, "%s: %s[%d] = %d is not a channel index in [0, %d)",
                             func, what, i, idx[i], n_channels);
    return BTFM_OK;
}

btfm_status btfm_rereference(const float *x, int64_t n_times, int n_channels, const int *refs,
                             int n_refs, const int *targets, int n_targets, unsigned flags,
                             float *out)
{
    static const char func[] = "btfm_rereference";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    if (n_times > 0) BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(refs, func, "refs");
    if (n_refs < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: n_refs = %d, expected at least one reference "
                         "channel", func, n_refs);
    if (targets && n_targets < 0)
        return btfm_fail(BTFM_E_RANGE, "%s: n_targets = %d is negative", func, n_targets);
    if ((st = check_indices(func, "refs", refs, n_refs, n_channels)) != BTFM_OK) return st;
    if (targets && (st = check_indices(func, "targets", targets, n_targets, n_channels)) != BTFM_OK)
        return st;
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags)) != BTFM_OK) return st;
    unsigned char *is_target = btfm_calloc((size_t)n_channels, 1);
    if (!is_target) return btfm_fail_nomem(func, (size_t)n_channels);
    for (int i = 0; i < (targets ? n_targets : n_channels); i++) is_target[targets ? targets[i] : i] = 1;
    btfm_rereference_rows(x, n_times, n_channels, refs, n_refs, is_target, out);
    btfm_free(is_target);
    return BTFM_OK;
}

/* The sum of a row's references in double, in REF_LANES running sums added in a fixed
 * order at the end: independent additions the CPU overlaps (and vectorizes when the
 * references are the first channels in order), with the same answer on every machine. */
enum { REF_LANES = 8 };

BTFM_HOT BTFM_SIMD_CLONES
void btfm_rereference_rows(const float *x, int64_t n_times, int n_channels, const int *refs,
                           int n_refs, const unsigned char *is_target, float *out)
{
    const size_t C = (size_t)n_channels;
    int leading = 0; /* the references are channels 0, 1, ... in order */
    while (leading < n_refs && refs[leading] == leading) leading++;
    const int in_order = leading == n_refs;
    int every = 1; /* every channel is a target: no per-channel choice */
    for (size_t c = 0; c < C; c++) every &= is_target[c] != 0;
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * C; /* out may be x */
        float *dst = out + (size_t)t * C;
        double lane[REF_LANES] = {0};
        int i = 0;
        if (in_order)
            for (; i + REF_LANES <= n_refs; i += REF_LANES)
                for (int j = 0; j < REF_LANES; j++) lane[j] += row[i + j];
        for (; i + REF_LANES <= n_refs; i += REF_LANES)
            for (int j = 0; j < REF_LANES; j++) lane[j] += row[refs[i + j]];
        for (int j = 0; i < n_refs; i++, j++) lane[j] += row[refs[i]];
        double ref = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                     ((lane[4] + lane[5]) + (lane[6] + lane[7]));
        ref /= n_refs;
        if (every)
            for (size_t c = 0; c < C; c++) dst[c] = (float)(row[c] - ref);
        else
            for (size_t c = 0; c < C; c++) dst[c] = is_target[c] ? (float)(row[c] - ref) : row[c];
    }
}

btfm_status btfm_interpolate_bads(const float *x, int64_t n_times, int n_channels,
                                  const double *positions, const unsigned char *bad,
                                  int n_neighbors, unsigned flags, float *out)
{
    static const char func[] = "btfm_interpolate_bads";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    if (n_times > 0) BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(positions, func, "positions");
    BTFM_CHECK_ARG(bad, func, "bad");
    int n_good = 0;
    for (int c = 0; c < n_channels; c++) n_good += !bad[c];
    if (n_neighbors < 1 || n_neighbors > n_good)
        return btfm_fail(BTFM_E_RANGE, "%s: n_neighbors = %d must be in [1, %d], the number of "
                         "good channels", func, n_neighbors, n_good);
    for (int i = 0; i < 3 * n_channels; i++)
        if (!isfinite(positions[i]))
            return btfm_fail(BTFM_E_NUMERIC, "%s: position %d of channel %d is not finite; "
                             "exclude channels without positions instead", func, i % 3, i / 3);
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags)) != BTFM_OK) return st;
    /* For each bad channel: its k nearest good channels and normalized 1/d^2 weights. */
    size_t k = (size_t)n_neighbors, C = (size_t)n_channels;
    int *nb = btfm_malloc(C * k * sizeof(int));
    double *w = btfm_malloc(C * k * sizeof(double)), *d2 = btfm_malloc(C * sizeof(double));
    if (!nb || !w || !d2) {
        btfm_free(nb), btfm_free(w), btfm_free(d2);
        return btfm_fail_nomem(func, C * k * (sizeof(int) + sizeof(double)));
    }
    for (size_t b = 0; b < C; b++) {
        if (!bad[b]) continue;
        for (size_t c = 0; c < C; c++) {
            double dx = positions[3 * c] - positions[3 * b], dy = positions[3 * c + 1] - positions[3 * b + 1];
            double dz = positions[3 * c + 2] - positions[3 * b + 2];
            d2[c] = bad[c] ? INFINITY : dx * dx + dy * dy + dz * dz;
        }
        double total = 0;
        int coincident = -1;
        for (size_t j = 0; j < k; j++) { /* selection of the k smallest, ties by index */
            size_t best = 0;
            for (size_t c = 1; c < C; c++) if (d2[c] < d2[best]) best = c;
            nb[b * k + j] = (int)best;
            if (d2[best] == 0 && coincident < 0) coincident = (int)j;
            w[b * k + j] = d2[best] > 0 ? 1 / d2[best] : 0;
            total += w[b * k + j];
            d2[best] = INFINITY;
        }
        for (size_t j = 0; j < k; j++) /* a good sensor at the same place takes all */
            w[b * k + j] = coincident >= 0 ? (j == (size_t)coincident) : w[b * k + j] / total;
    }
    /* In place is safe: the neighbours are good channels, which are never written. */
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + (size_t)t * C;
        float *dst = out + (size_t)t * C;
        for (size_t c = 0; c < C; c++) {
            if (!bad[c]) continue;
            double v = 0;
            for (size_t j = 0; j < k; j++) v += w[c * k + j] * row[nb[c * k + j]];
            dst[c] = (float)v;
        }
        if (dst != row)
            for (size_t c = 0; c < C; c++) if (!bad[c]) dst[c] = row[c];
    }
    btfm_free(nb), btfm_free(w), btfm_free(d2);
    return BTFM_OK;
}
