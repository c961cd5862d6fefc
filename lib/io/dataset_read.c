/* Windowed reads: picks, and resampling of channels stored below the dataset rate. */
#include <stdio.h>
#include <string.h>
#include "dataset_internal.h"

#define NATIVE_CHUNK 65536 /* samples converted at a time by read_native */

static btfm_status check_window(const btfm_dataset *ds, int64_t first, int64_t count,
                                int64_t limit, const char *func, const char *what)
{
    if (first < 0 || count < 0 || first > limit || count > limit - first) {
        char end[48]; /* first + count may not fit */
        int64_t sum;
        if (__builtin_add_overflow(first, count, &sum))
            snprintf(end, sizeof end, "%lld + %lld", (long long)first, (long long)count);
        else
            snprintf(end, sizeof end, "%lld", (long long)sum);
        return btfm_fail(BTFM_E_RANGE, "%s: %s: samples [%lld, %s) are outside [0, %lld)%s",
                         func, ds->path, (long long)first, end, (long long)limit, what);
    }
    return BTFM_OK;
}

/* Physical values of a resampled channel at the dataset rate, into out[i * stride]. */
static btfm_status read_resampled(btfm_dataset *ds, int ch, int64_t first, int64_t count,
                                  size_t stride, float *out)
{
    btfm_channel *c = &ds->channels[ch];
    int64_t in_first, in_count;
    btfm_polyphase_input_range(c->resampler, c->n_samples, first, count, &in_first, &in_count);
    double *x = btfm_malloc((size_t)(in_count ? in_count : 1) * sizeof *x);
    if (!x) return btfm_fail_nomem("btfm_dataset_read", (size_t)in_count * sizeof *x);
    btfm_status st = in_count ? ds->driver->read_digital(ds, ch, in_first, in_count, x) : BTFM_OK;
    if (!st) {
        for (int64_t i = 0; i < in_count; i++) x[i] = x[i] * c->gain + c->offset;
        btfm_polyphase_apply(c->resampler, x, in_first, in_count, first, count, out, stride);
    }
    btfm_free(x);
    return st;
}

btfm_status btfm_dataset_read(btfm_dataset *ds, int64_t first, int64_t count, const int *picks,
                              int n_picks, float *out)
{
    static const char func[] = "btfm_dataset_read";
    BTFM_CHECK_ARG(ds, func, "dataset");
    btfm_status st = check_window(ds, first, count, ds->n_times, func, "");
    if (st) return st;
    int width = picks ? n_picks : ds->n_channels;
    if (picks && n_picks <= 0)
        return btfm_fail(BTFM_E_INVALID, "%s: %s: n_picks is %d, expected at least 1", func,
                         ds->path, n_picks);
    for (int j = 0; picks && j < n_picks; j++)
        if (picks[j] < 0 || picks[j] >= ds->n_channels)
            return btfm_fail(BTFM_E_RANGE, "%s: %s: picks[%d] = %d is outside [0, %d)", func,
                             ds->path, j, picks[j], ds->n_channels);
    if (count == 0 || width == 0) return BTFM_OK;
    BTFM_CHECK_ARG(out, func, "out");
    /* Runs of consecutive picks at the dataset rate go to the driver in one call. */
    int *all = NULL;
    if (!picks) {
        all = btfm_malloc((size_t)width * sizeof *all);
        if (!all) return btfm_fail_nomem(func, (size_t)width * sizeof *all);
        for (int j = 0; j < width; j++) all[j] = j;
        picks = all;
    }
    for (int j = 0; j < width && !st;) {
        if (ds->channels[picks[j]].resampler) {
            st = read_resampled(ds, picks[j], first, count, (size_t)width, out + j);
            j++;
            continue;
        }
        int k = j;
        while (k < width && !ds->channels[picks[k]].resampler) k++;
        st = ds->driver->read_block(ds, first, count, picks + j, k - j, (size_t)width, out + j);
        j = k;
    }
    btfm_free(all);
    return st;
}

btfm_status btfm_dataset_read_native(btfm_dataset *ds, int channel, int64_t first, int64_t count,
                                     float *out)
{
    static const char func[] = "btfm_dataset_read_native";
    BTFM_CHECK_ARG(ds, func, "dataset");
    if (channel < 0 || channel >= ds->n_channels)
        return btfm_fail(BTFM_E_RANGE, "%s: channel %d is outside [0, %d) of %s", func, channel,
                         ds->n_channels, ds->path);
    const btfm_channel *c = &ds->channels[channel];
    btfm_status st = check_window(ds, first, count, c->n_samples, func, " (native samples)");
    if (st || count == 0) return st;
    BTFM_CHECK_ARG(out, func, "out");
    int64_t chunk = count < NATIVE_CHUNK ? count : NATIVE_CHUNK;
    double *x = btfm_malloc((size_t)chunk * sizeof *x);
    if (!x) return btfm_fail_nomem(func, (size_t)chunk * sizeof *x);
    for (int64_t done = 0; done < count && !st; done += chunk) {
        int64_t n = count - done < chunk ? count - done : chunk;
        st = ds->driver->read_digital(ds, channel, first + done, n, x);
        for (int64_t i = 0; !st && i < n; i++) out[done + i] = (float)(x[i] * c->gain + c->offset);
    }
    btfm_free(x);
    return st;
}
