/* Shared by the Check suites that test allocation failures. */
#ifndef BTFM_TESTS_COUNTING_ALLOC_H
#define BTFM_TESTS_COUNTING_ALLOC_H

#include <stdlib.h>

/* A counting allocator for btfm_set_allocator: refuses every call once `budget` (>= 0)
 * calls were made, counts live blocks. Used by the allocation-failure tests. */
static struct { long calls, live, budget; } counter;

static inline void *count_malloc(size_t n, void *user)
{
    (void)user;
    if (counter.budget >= 0 && counter.calls >= counter.budget) return NULL;
    counter.calls++;
    void *p = malloc(n);
    if (p) counter.live++;
    return p;
}

static inline void *count_realloc(void *p, size_t n, void *user)
{
    (void)user;
    if (counter.budget >= 0 && counter.calls >= counter.budget) return NULL;
    counter.calls++;
    return realloc(p, n);
}

static inline void count_free(void *p, void *user)
{
    (void)user;
    if (p) counter.live--;
    free(p);
}

#endif
