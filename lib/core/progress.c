/* Progress callbacks: the thread's default, sub-ranges, throttling and cancellation. */
#include "progress.h"

static _Thread_local btfm_progress_fn thread_fn;
static _Thread_local void *thread_user;

void btfm_set_thread_progress(btfm_progress_fn fn, void *user)
{
    thread_fn = fn;
    thread_user = fn ? user : NULL;
}

btfm_progress_fn btfm_get_thread_progress(void **user)
{
    if (user) *user = thread_user;
    return thread_fn;
}

static btfm_status report(btfm_progress *p, const char *stage, double overall, int force)
{
    if (!p->fn) return BTFM_OK;
    if (!(overall >= 0)) overall = 0; /* NaN from 0/0 in a caller's ratio */
    if (overall > 1) overall = 1;
    double *last = p->reported ? p->reported : &p->own_reported;
    if (!force && overall < 1 && overall - *last < 0.005) return BTFM_OK;
    if (overall < *last) overall = *last; /* never backwards */
    *last = overall;
    if (p->fn(stage ? stage : "", overall, p->user) != 0)
        return btfm_fail(BTFM_E_CANCELLED, "%s: cancelled by the progress callback at %.0f%%",
                         stage && *stage ? stage : "operation", 100 * overall);
    return BTFM_OK;
}

btfm_status btfm_progress_start(btfm_progress *p, btfm_progress_fn fn, void *user,
                                const char *stage)
{
    p->fn = fn ? fn : thread_fn;
    p->user = fn ? user : thread_user;
    p->lo = 0;
    p->hi = 1;
    p->own_reported = 0;
    p->reported = NULL;
    return report(p, stage, 0, 1);
}

btfm_progress btfm_progress_part(btfm_progress *parent, double lo, double hi)
{
    btfm_progress part = *parent;
    double span = parent->hi - parent->lo;
    part.lo = parent->lo + span * lo;
    part.hi = parent->lo + span * hi;
    part.reported = parent->reported ? parent->reported : &parent->own_reported;
    return part;
}

btfm_status btfm_progress_update(btfm_progress *p, const char *stage, double fraction)
{
    if (!p || !p->fn) return BTFM_OK;
    if (!(fraction >= 0)) fraction = 0;
    if (fraction > 1) fraction = 1;
    return report(p, stage, p->lo + (p->hi - p->lo) * fraction, 0);
}

btfm_status btfm_progress_done(btfm_progress *p, const char *stage)
{
    if (!p || !p->fn) return BTFM_OK;
    return report(p, stage, p->hi, p->hi >= 1);
}
