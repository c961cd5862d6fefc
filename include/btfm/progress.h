/* Progress and cancellation of long work (fits, large filters, indexing, builds).
 * A handle that runs long work has its own `btfm_<object>_set_progress`; calls that take
 * no such handle use the calling thread's callback (btfm_set_thread_progress). */
#ifndef BTFM_PROGRESS_H
#define BTFM_PROGRESS_H

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Told the current stage ("level 1", "fold 3 of 5"; static or valid for the call only)
 * and the fraction of the whole operation done, in [0, 1], non-decreasing within one
 * operation; the last call of a successful operation has fraction 1. Return 0 to go on,
 * non-zero to cancel: the operation stops at its next check, frees what it made, leaves
 * its handle as it was before the call, and returns BTFM_E_CANCELLED. Called only on the
 * thread that made the library call, never from the library's worker threads, and at
 * most about a hundred times per operation; it must not call libbtfm on the same handle. */
typedef int (*btfm_progress_fn)(const char *stage, double fraction, void *user);

/* The calling thread's progress callback (NULL: none), used by long calls made from this
 * thread that take no handle with a callback of its own (btfm_bids_index, btfm_filtfilt on
 * large inputs, btfm_glm_lss, ...). Thread-local: it never affects other threads. */
BTFM_API void btfm_set_thread_progress(btfm_progress_fn fn, void *user);

/* The calling thread's callback and its user pointer (NULL when none). */
BTFM_API btfm_progress_fn btfm_get_thread_progress(void **user);

#ifdef __cplusplus
}
#endif

#endif
