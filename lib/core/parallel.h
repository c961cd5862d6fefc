/* A parallel loop over independent tasks on short-lived threads: the caller's thread
 * and up to n_threads - 1 more, joined before the call returns. */
#ifndef BTFM_CORE_PARALLEL_H
#define BTFM_CORE_PARALLEL_H

#include <stdint.h>
#include "internal.h"

/* One task; reports failures with btfm_fail like any libbtfm function. `worker` is the
 * index of the thread running it, in [0, n_threads): per-thread scratch buffers. */
typedef btfm_status (*btfm_task_fn)(void *ctx, int64_t index, int worker);

/* Run fn(ctx, i, worker) for i = 0 .. count - 1 on up to n_threads threads (the caller's
 * among them, worker 0; n_threads <= 1 runs them in order on the caller's thread). Indices start in
 * increasing order; after a failure no new index starts. Returns BTFM_OK, or the status
 * of the lowest failing index with its message set on the calling thread. Tasks must
 * not write shared state without their own synchronization. */
btfm_status btfm_parallel_for(int n_threads, int64_t count, btfm_task_fn fn, void *ctx);

/* Threads worth starting for n_tasks tasks doing `work` elementary operations in all: 1
 * below 4e6 (a thread costs more than it saves), else the processors online, capped by
 * the environment variable BTFM_NUM_THREADS, at most 16 and at most n_tasks. */
int btfm_parallel_threads(int64_t n_tasks, double work);

#endif
