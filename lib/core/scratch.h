/* Large scratch blocks kept for reuse while some computation has a scope open. A fit
 * that allocates the same few megabytes at every step otherwise gets fresh pages from
 * the C library each time: the kernel maps and zeroes them on first touch, which costs
 * as much as a good part of the arithmetic. Outside a scope, get and put are plain
 * btfm_malloc and btfm_free. Thread-safe; scopes nest and may overlap across threads,
 * and the last one to close frees the cached blocks. */
#ifndef BTFM_CORE_SCRATCH_H
#define BTFM_CORE_SCRATCH_H

#include <stddef.h>

void btfm_scratch_begin(void);
void btfm_scratch_end(void);

/* A block of at least `bytes` (contents undefined), NULL when out of memory; give it
 * back with btfm_scratch_put and the same size. */
void *btfm_scratch_get(size_t bytes);
void btfm_scratch_put(void *block, size_t bytes);

#endif
