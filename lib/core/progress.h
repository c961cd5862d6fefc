/* Progress reporting inside the library: one operation's callback, the part of the whole
 * that a sub-step covers, and cancellation turned into BTFM_E_CANCELLED. */
#ifndef BTFM_CORE_PROGRESS_H
#define BTFM_CORE_PROGRESS_H

#include <btfm/progress.h>
#include "internal.h"

typedef struct btfm_progress {
    btfm_progress_fn fn; /* NULL: report nothing, never cancel */
    void *user;
    double lo, hi;       /* this step's share of the whole operation */
    double *reported;    /* last fraction passed on (shared by the sub-steps of one operation) */
    double own_reported;
} btfm_progress;

/* Start an operation: `fn` (a handle's callback) or, when it is NULL, the calling
 * thread's callback. Reports fraction 0 with `stage`. */
btfm_status btfm_progress_start(btfm_progress *p, btfm_progress_fn fn, void *user,
                                const char *stage);

/* A sub-step covering [lo, hi] of `parent`'s range (fractions of the parent). */
btfm_progress btfm_progress_part(btfm_progress *parent, double lo, double hi);

/* Report `fraction` (of this step) done in `stage`. Calls the callback only when the
 * overall fraction moved by at least 0.5% (or reached 1); returns BTFM_E_CANCELLED, with
 * a message naming `stage`, when the callback asks to stop. Call only on the thread
 * that made the library call. */
btfm_status btfm_progress_update(btfm_progress *p, const char *stage, double fraction);

/* Report the operation finished (fraction 1). */
btfm_status btfm_progress_done(btfm_progress *p, const char *stage);

#endif
