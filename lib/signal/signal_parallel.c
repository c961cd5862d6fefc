/* How many threads the signal layer's offline functions use: their tasks (tiles of
 * channels, blocks of output) run through btfm_parallel_for, and results do not depend on
 * the number of threads: every task runs the same code on its own channels. */
#include <stdlib.h>
#include <unistd.h>
#include "signal_internal.h"

enum { MAX_THREADS = 16 };

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
