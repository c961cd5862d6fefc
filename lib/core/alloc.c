/* The allocator hook: every allocation of libbtfm goes through here, and the count of
 * live blocks tells whether the allocator may still be changed. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#if defined(__linux__)
#  include <sys/mman.h>
#  include <unistd.h>
#endif
#include <btfm/alloc.h>

static void *libc_malloc(size_t size, void *user) { (void)user; return malloc(size); }
static void *libc_realloc(void *p, size_t size, void *user) { (void)user; return realloc(p, size); }
static void libc_free(void *p, void *user) { (void)user; free(p); }

static btfm_malloc_fn malloc_hook = libc_malloc;
static btfm_realloc_fn realloc_hook = libc_realloc;
static btfm_free_fn free_hook = libc_free;
static void *hook_user;
static atomic_long live_blocks;

btfm_status btfm_set_allocator(btfm_malloc_fn malloc_fn, btfm_realloc_fn realloc_fn,
                               btfm_free_fn free_fn, void *user)
{
    int given = (malloc_fn != NULL) + (realloc_fn != NULL) + (free_fn != NULL);
    if (given != 0 && given != 3)
        return btfm_fail(BTFM_E_INVALID,
                         "btfm_set_allocator: give malloc, realloc and free together "
                         "(or all NULL for the C library's), got %d of 3", given);
    long live = atomic_load(&live_blocks);
    if (live != 0)
        return btfm_fail(BTFM_E_STATE,
                         "btfm_set_allocator: %ld blocks allocated by libbtfm are still live; "
                         "install the allocator before creating any handle", live);
    if (given == 0) {
        malloc_hook = libc_malloc;
        realloc_hook = libc_realloc;
        free_hook = libc_free;
        hook_user = NULL;
    } else {
        malloc_hook = malloc_fn;
        realloc_hook = realloc_fn;
        free_hook = free_fn;
        hook_user = user;
    }
    return BTFM_OK;
}

long btfm_live_allocations(void) { return atomic_load(&live_blocks); }

void *btfm_malloc(size_t size)
{
    void *p = malloc_hook(size ? size : 1, hook_user);
    if (p) atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *btfm_calloc(size_t count, size_t size)
{
    size_t total;
    if (btfm_mul_size(count, size, &total)) return NULL;
    void *p = btfm_malloc(total);
    if (p) memset(p, 0, total);
    return p;
}

void *btfm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL) return btfm_malloc(size);
    return realloc_hook(ptr, size ? size : 1, hook_user);
}

void btfm_free(void *ptr)
{
    if (ptr == NULL) return;
    atomic_fetch_sub(&live_blocks, 1);
    free_hook(ptr, hook_user);
}

btfm_status btfm_reserve(void **array, int64_t *capacity, int64_t need, size_t size,
                         const char *what)
{
    if (need <= *capacity) return BTFM_OK;
    int64_t cap = *capacity ? *capacity : 64;
    while (cap < need) cap *= 2;
    size_t bytes;
    if (btfm_mul_size((size_t)cap, size, &bytes)) return btfm_fail_nomem(what, SIZE_MAX);
    void *grown = btfm_realloc(*array, bytes);
    if (!grown) return btfm_fail_nomem(what, bytes);
    *array = grown;
    *capacity = cap;
    return BTFM_OK;
}

char *btfm_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = btfm_malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

void *btfm_malloc_large(size_t size)
{
    void *p = btfm_malloc(size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (p && size >= ((size_t)4 << 20)) {
        /* The whole 2 MB pages inside the block; advice only, so a refusal is ignored. */
        uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t end = ((uintptr_t)p + size) & ~(huge - 1);
        if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
    }
#endif
    return p;
}

#if defined(__linux__) && defined(MADV_DONTFORK) && defined(MADV_DOFORK)
/* `advice` for the whole pages inside [p, p + size); advice only, a refusal is ignored. */
static void advise_pages(void *p, size_t size, int advice)
{
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~((uintptr_t)page - 1);
    if (p && page > 0 && end > start) (void)madvise((void *)start, end - start, advice);
}
#endif

void *btfm_malloc_unshared(size_t size)
{
    void *p = btfm_malloc_large(size);
#if defined(__linux__) && defined(MADV_DONTFORK) && defined(MADV_DOFORK)
    advise_pages(p, size, MADV_DONTFORK);
#endif
    return p;
}

void btfm_free_unshared(void *p, size_t size)
{
#if defined(__linux__) && defined(MADV_DONTFORK) && defined(MADV_DOFORK)
    /* the pages may go back to the heap: children must inherit whatever uses them next */
    advise_pages(p, size, MADV_DOFORK);
#else
    (void)size;
#endif
    btfm_free(p);
}
