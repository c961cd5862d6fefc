/* How many threads the signal layer's offline functions use: their tasks (tiles of
 * channels, blocks of output) run through btfm_parallel_for, and results do not depend on
 * the number of threads: every task runs the same code on its own channels. */
#include "core/parallel.h"
#include "signal_internal.h"

int btfm_signal_threads(int n_tasks, double work, unsigned flags)
{
    return (flags & BTFM_SIGNAL_SINGLE_THREAD) ? 1 : btfm_parallel_threads(n_tasks, work);
}
