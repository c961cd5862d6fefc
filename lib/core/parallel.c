/* btfm_parallel_for: tasks handed out through an atomic counter to the caller's thread and
 * a few pthreads, which use the caller's scratch scope; a failure's message moves from the
 * worker's thread-local error to the caller's. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "parallel.h"
#include "scratch.h"

enum { MAX_THREADS = 16 };

int btfm_parallel_threads(int64_t n_tasks, double work)
{
    if (n_tasks < 2 || work < 4e6) return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("BTFM_NUM_THREADS");
    if (env && *env) n = strtol(env, NULL, 10);
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    return n < n_tasks ? (int)n : (int)n_tasks;
}

typedef struct parallel_loop {
    btfm_task_fn fn;
    void *ctx;
    int64_t count;
    atomic_llong next;
    atomic_int failed;
    btfm_scratch *scratch;  /* the caller's scratch scope, shared with the workers */
    pthread_mutex_t lock;   /* guards the failure record below */
    int64_t fail_index;
    btfm_status fail_status;
    char fail_message[1024];
} parallel_loop;

typedef struct worker {
    parallel_loop *loop;
    int index;
} worker;

static void *run_tasks(void *arg)
{
    const worker *w = arg;
    parallel_loop *loop = w->loop;
    if (w->index > 0) btfm_scratch_adopt(loop->scratch);
    while (!atomic_load(&loop->failed)) {
        int64_t i = atomic_fetch_add(&loop->next, 1);
        if (i >= loop->count) break;
        btfm_status st = loop->fn(loop->ctx, i, w->index);
        if (st == BTFM_OK) continue;
        pthread_mutex_lock(&loop->lock);
        if (i < loop->fail_index) {
            loop->fail_index = i;
            loop->fail_status = st;
            snprintf(loop->fail_message, sizeof loop->fail_message, "%s", btfm_last_error());
        }
        pthread_mutex_unlock(&loop->lock);
        atomic_store(&loop->failed, 1);
    }
    if (w->index > 0) btfm_scratch_adopt(NULL);
    return NULL;
}

btfm_status btfm_parallel_for(int n_threads, int64_t count, btfm_task_fn fn, void *ctx)
{
    if (n_threads > count) n_threads = (int)count;
    if (n_threads <= 1) {
        for (int64_t i = 0; i < count; i++) {
            btfm_status st = fn(ctx, i, 0);
            if (st) return st;
        }
        return BTFM_OK;
    }
    parallel_loop loop = {.fn = fn, .ctx = ctx, .count = count, .fail_index = count,
                          .scratch = btfm_scratch_current()};
    atomic_init(&loop.next, 0);
    atomic_init(&loop.failed, 0);
    if (pthread_mutex_init(&loop.lock, NULL) != 0)
        return btfm_parallel_for(1, count, fn, ctx);
    pthread_t threads[64];
    worker workers[64];
    int started = 0;
    if (n_threads > 64) n_threads = 64;
    /* A thread that cannot start only means fewer hands: the caller's thread runs what
     * is left. */
    for (int t = 0; t < n_threads; t++) workers[t] = (worker){&loop, t};
    while (started < n_threads - 1 &&
           pthread_create(&threads[started], NULL, run_tasks, &workers[started + 1]) == 0)
        started++;
    run_tasks(&workers[0]);
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&loop.lock);
    if (loop.fail_index < count)
        return btfm_fail(loop.fail_status, "%s", loop.fail_message);
    return BTFM_OK;
}
