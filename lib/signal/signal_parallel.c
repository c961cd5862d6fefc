/* A parallel loop for the signal layer's offline functions: independent tasks (tiles of
 * channels) shared by a few threads created for the call. Results do not depend on the
 * number of threads: every task runs the same code on its own channels. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "signal_internal.h"

enum { MAX_THREADS = 16 };

typedef struct loop {
    void (*fn)(void *ctx, int task, int worker);
    void *ctx;
    int n_tasks;
    atomic_int next;
} loop;

typedef struct worker_arg {
    loop *l;
    int worker;
} worker_arg;

static void *run_worker(void *arg)
{
    worker_arg *w = arg;
    for (int task; (task = atomic_fetch_add(&w->l->next, 1)) < w->l->n_tasks;)
        w->l->fn(w->l->ctx, task, w->worker);
    return NULL;
}

int btfm_signal_threads(int n_tasks, double work, unsigned flags)
{
    if ((flags & BTFM_SIGNAL_SINGLE_THREAD) || n_tasks < 2 || work < 4e6) return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("BTFM_NUM_THREADS");
    if (env && *env) n = strtol(env, NULL, 10);
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    return n < n_tasks ? (int)n : n_tasks;
}

void btfm_signal_parallel(int n_tasks, int n_threads, void (*fn)(void *ctx, int task, int worker),
                          void *ctx)
{
    loop l = {fn, ctx, n_tasks, 0};
    worker_arg args[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int started = 0;
    if (n_threads > MAX_THREADS) n_threads = MAX_THREADS;
    for (int i = 1; i < n_threads; i++) {
        args[i] = (worker_arg){&l, i};
        if (pthread_create(&threads[started + 1], NULL, run_worker, &args[i]) != 0) break;
        started++;
    }
    args[0] = (worker_arg){&l, 0};
    run_worker(&args[0]);
    for (int i = 1; i <= started; i++) pthread_join(threads[i], NULL);
}
