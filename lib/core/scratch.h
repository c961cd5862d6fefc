/* Large scratch blocks kept for reuse while a call has a scope open. A fit that
 * allocates the same few megabytes at every step otherwise gets fresh pages from the C
 * library each time: the kernel maps and zeroes them on first touch, which costs as much
 * as a good part of the arithmetic. A scope belongs to the thread that opened it and to
 * the worker threads of that call's parallel loops (lib/core/parallel.c passes it on);
 * scopes nest, and the outermost one's end frees its blocks. Outside a scope, get and put
 * are plain btfm_malloc and btfm_free. */
#ifndef BTFM_CORE_SCRATCH_H
#define BTFM_CORE_SCRATCH_H

#include <stddef.h>

void btfm_scratch_begin(void);
void btfm_scratch_end(void);

/* The cache of this thread's open scope (NULL: none), and a worker thread taking on the
 * cache of the call that started it (NULL: letting it go). */
typedef struct btfm_scratch btfm_scratch;
btfm_scratch *btfm_scratch_current(void);
void btfm_scratch_adopt(btfm_scratch *s);

/* A block of at least `bytes` (contents undefined), NULL when out of memory; give it
 * back with btfm_scratch_put and the same size. */
void *btfm_scratch_get(size_t bytes);
void btfm_scratch_put(void *block, size_t bytes);

#endif
