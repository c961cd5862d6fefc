/* Batches of a parallel loop with a progress report between them. */
#include "parallel_progress.h"

enum { BATCHES = 100 }; /* about as many reports as a callback is promised */

typedef struct batch {
    btfm_task_fn fn;
    void *ctx;
    int64_t first;
} batch;

static btfm_status batch_task(void *ctx, int64_t index, int worker)
{
    const batch *b = ctx;
    return b->fn(b->ctx, b->first + index, worker);
}

btfm_status btfm_parallel_for_progress(btfm_progress *progress, const char *stage,
                                       int n_threads, int64_t count, btfm_task_fn fn,
                                       void *ctx)
{
    if (!progress || !progress->fn) return btfm_parallel_for(n_threads, count, fn, ctx);
    /* at least a task per thread in a batch, so that the threads stay busy */
    int64_t size = count / BATCHES;
    if (size < n_threads) size = n_threads;
    if (size < 1) size = 1;
    btfm_status st = BTFM_OK;
    for (int64_t first = 0; !st && first < count; first += size) {
        batch b = {fn, ctx, first};
        st = btfm_parallel_for(n_threads, count - first < size ? count - first : size,
                               batch_task, &b);
        if (!st && first + size < count) /* after the last batch the work is done */
            st = btfm_progress_update(progress, stage, (double)(first + size) / count);
    }
    return st;
}
