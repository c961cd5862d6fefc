/* A parallel loop that reports progress and can be cancelled between batches of tasks,
 * on the caller's thread (callbacks never run on workers). */
#ifndef BTFM_CORE_PARALLEL_PROGRESS_H
#define BTFM_CORE_PARALLEL_PROGRESS_H

#include "parallel.h"
#include "progress.h"

/* btfm_parallel_for(n_threads, count, fn, ctx), with `progress` told the fraction of
 * tasks done in `stage` after each of about a hundred batches; BTFM_E_CANCELLED when
 * its callback asks to stop (the tasks of the batches before have run). Without a
 * callback, one btfm_parallel_for. */
btfm_status btfm_parallel_for_progress(btfm_progress *progress, const char *stage,
                                       int n_threads, int64_t count, btfm_task_fn fn,
                                       void *ctx);

#endif
