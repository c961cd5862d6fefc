/* Polyphase resampling of time-major arrays: scipy.signal.resample_poly with its default
 * Kaiser window, through the filter in lib/core/polyphase.c shared with the readers.
 * Tasks are blocks of output samples, all channels of a block together so that the
 * input rows it reads stay in cache. */
#include <string.h>
#include "signal_internal.h"
#include "core/parallel_progress.h"
#include "core/polyphase.h"

enum { TILE = 16, OUT_BLOCK = 512 };

int64_t btfm_resample_poly_len(int64_t n_times, int up, int down)
{
    if (n_times < 0)
        return btfm_fail(BTFM_E_RANGE, "btfm_resample_poly: n_times = %lld is negative",
                         (long long)n_times);
    if (up < 1 || down < 1 || up > 1000000 || down > 1000000)
        return btfm_fail(BTFM_E_RANGE, "btfm_resample_poly: up = %d and down = %d must be in "
                         "[1, 1000000]", up, down);
    if (n_times > INT64_MAX / up)
        return btfm_fail(BTFM_E_RANGE, "btfm_resample_poly: %lld samples x up = %d overflows",
                         (long long)n_times, up);
    return (n_times * up + down - 1) / down;
}

typedef struct job {
    const btfm_polyphase *p;
    const float *x;
    float *out;
    int64_t n_in, n_out;
    int n_channels;
} job;

static btfm_status resample_task(void *ctx, int64_t task, int worker)
{
    (void)worker;
    const job *j = ctx;
    int64_t first = (int64_t)task * OUT_BLOCK;
    int64_t count = j->n_out - first < OUT_BLOCK ? j->n_out - first : OUT_BLOCK;
    for (int c0 = 0; c0 < j->n_channels; c0 += TILE) {
        int cw = j->n_channels - c0 < TILE ? j->n_channels - c0 : TILE;
        btfm_polyphase_apply_rows(j->p, j->x, j->n_in, j->n_channels, c0, cw, first, count,
                                  j->out + (size_t)first * (size_t)j->n_channels);
    }
    return BTFM_OK;
}

btfm_status btfm_resample_poly(const float *x, int64_t n_times, int n_channels, int up, int down,
                               unsigned flags, float *out)
{
    static const char func[] = "btfm_resample_poly";
    btfm_status st = btfm_signal_check_array(func, x, n_times, n_channels);
    if (st != BTFM_OK) return st;
    int64_t n_out = btfm_resample_poly_len(n_times, up, down);
    if (n_out < 0) return (btfm_status)n_out;
    if (n_out > 0) BTFM_CHECK_ARG(out, func, "out");
    if (n_out > 0 && (const float *)out == x)
        return btfm_fail(BTFM_E_INVALID, "%s: out must not be x (resampling reads samples "
                         "around each output)", func);
    if ((st = btfm_signal_check_finite(func, x, n_times, n_channels, 0, flags)) != BTFM_OK)
        return st;
    if (n_out == 0) return BTFM_OK;
    if (up == down) { /* as scipy: a ratio of 1 is a copy */
        memcpy(out, x, (size_t)n_times * (size_t)n_channels * sizeof(float));
        return BTFM_OK;
    }
    btfm_polyphase *p;
    if ((st = btfm_polyphase_new(&p, up, down)) != BTFM_OK) return st;
    int64_t n_tasks64 = (n_out + OUT_BLOCK - 1) / OUT_BLOCK;
    if (n_tasks64 > INT32_MAX) {
        btfm_polyphase_free(p);
        return btfm_fail(BTFM_E_RANGE, "%s: %lld output samples x %d channels is too large",
                         func, (long long)n_out, n_channels);
    }
    job j = {p, x, out, n_times, n_out, n_channels};
    int n_tasks = (int)n_tasks64;
    int n_threads = btfm_signal_threads(n_tasks, (double)n_out * n_channels * (2 * p->half_len + 1) / p->up,
                                        flags);
    /* the thread's callback, told after batches of output blocks; a cancel leaves `out`
     * incomplete (x is never written) */
    btfm_progress progress;
    st = btfm_progress_start(&progress, NULL, NULL, func);
    if (!st) st = btfm_parallel_for_progress(&progress, "samples", n_threads, n_tasks,
                                             resample_task, &j);
    btfm_polyphase_free(p);
    if (!st && btfm_progress_done(&progress, func) == BTFM_E_CANCELLED) btfm_clear_error();
    return st;
}
