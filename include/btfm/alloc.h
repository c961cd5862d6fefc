/* Allocator hook: route every allocation libbtfm makes through the host's allocator. */
#ifndef BTFM_ALLOC_H
#define BTFM_ALLOC_H

#include <stddef.h>
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(*btfm_malloc_fn)(size_t size, void *user);
typedef void *(*btfm_realloc_fn)(void *ptr, size_t size, void *user);
typedef void (*btfm_free_fn)(void *ptr, void *user);

/* Install the allocator used for every later allocation. All three functions or none
 * (all NULL restores malloc/realloc/free). Must be called before the first allocation:
 * while any memory allocated by libbtfm is still live (an open handle, say) the call
 * is refused with BTFM_E_STATE, because that memory would be freed by the wrong
 * allocator. Not thread-safe against other libbtfm calls: call it at start-up. */
BTFM_API btfm_status btfm_set_allocator(btfm_malloc_fn malloc_fn, btfm_realloc_fn realloc_fn,
                                        btfm_free_fn free_fn, void *user);

/* Number of blocks currently allocated by libbtfm (for leak checks in hosts' tests). */
BTFM_API long btfm_live_allocations(void);

#ifdef __cplusplus
}
#endif

#endif
