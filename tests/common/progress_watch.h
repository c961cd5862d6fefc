/* A progress callback for the tests of cancellation: counts its calls, counts fractions
 * that go backwards, and cancels at its cancel_at-th call (0: never). */
#ifndef BTFM_TEST_PROGRESS_WATCH_H
#define BTFM_TEST_PROGRESS_WATCH_H

#include "unit.h"

typedef struct watched { int calls, cancel_at, backwards; double last; } watched;

static int watch(const char *stage, double fraction, void *user)
{
    watched *w = user;
    ck_assert_ptr_nonnull(stage);
    if (fraction < w->last) w->backwards++;
    w->last = fraction;
    return ++w->calls == w->cancel_at;
}

#endif
