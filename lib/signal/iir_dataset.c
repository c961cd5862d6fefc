/* Filtering whole datasets: into caller memory or into a new in-memory dataset with the
 * same channels and events. Stim channels hold event codes and are copied unfiltered. */
#include <string.h>
#include "signal_internal.h"
#include "io/dataset_internal.h"

btfm_status btfm_dataset_filter(btfm_dataset *ds, const double *sos, int n_sections,
                                unsigned flags, float *out)
{
    static const char func[] = "btfm_dataset_filter";
    BTFM_CHECK_ARG(ds, func, "dataset");
    BTFM_CHECK_ARG(out, func, "out");
    int64_t n_times = btfm_dataset_n_times(ds);
    int n_channels = btfm_dataset_n_channels(ds);
    btfm_status st = btfm_dataset_read(ds, 0, n_times, NULL, 0, out);
    if (st != BTFM_OK) return st;
    int n_stim = 0;
    for (int c = 0; c < n_channels; c++) n_stim += btfm_dataset_channel_type(ds, c) == BTFM_CH_STIM;
    float *stim = NULL;
    if (n_stim > 0) {
        stim = btfm_malloc((size_t)n_times * (size_t)n_stim * sizeof(float));
        if (!stim) return btfm_fail_nomem(func, (size_t)n_times * (size_t)n_stim * sizeof(float));
        for (int64_t t = 0, k = 0; t < n_times; t++)
            for (int c = 0; c < n_channels; c++)
                if (btfm_dataset_channel_type(ds, c) == BTFM_CH_STIM) stim[k++] = out[(size_t)t * n_channels + c];
    }
    st = btfm_sosfiltfilt(sos, n_sections, out, n_times, n_channels, BTFM_PAD_ODD, -1, flags, out);
    if (st == BTFM_OK && stim)
        for (int64_t t = 0, k = 0; t < n_times; t++)
            for (int c = 0; c < n_channels; c++)
                if (btfm_dataset_channel_type(ds, c) == BTFM_CH_STIM) out[(size_t)t * n_channels + c] = stim[k++];
    btfm_free(stim);
    return st;
}

btfm_status btfm_dataset_filtered(btfm_dataset **out, btfm_dataset *ds, const double *sos,
                                  int n_sections, unsigned flags)
{
    static const char func[] = "btfm_dataset_filtered";
    BTFM_CHECK_ARG(out, func, "out");
    *out = NULL;
    BTFM_CHECK_ARG(ds, func, "dataset");
    int64_t n_times = btfm_dataset_n_times(ds);
    int n_channels = btfm_dataset_n_channels(ds);
    size_t n = (size_t)n_times * (size_t)n_channels;
    float *data = btfm_malloc_large((n ? n : 1) * sizeof(float));
    if (!data) return btfm_fail_nomem(func, n * sizeof(float));
    btfm_status st = btfm_dataset_filter(ds, sos, n_sections, flags, data);
    if (st) {
        btfm_free(data);
        return st;
    }
    /* n_times, n_channels >= 1 here: a dataset has at least one channel and sample */
    return btfm_dataset_adopt_array(out, data, n_times, n_channels, btfm_dataset_sfreq(ds), ds);
}
