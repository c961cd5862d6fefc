/* Crafted model files for the loaders' field checks: a saved container with one array's
 * bytes replaced (or a one-dimensional array resized), and a copy of one array. The
 * result carries a valid CRC, as a crafted or corrupted writer's file would, so only the
 * loader's own checks stand in its way. */
#ifndef BTFM_TEST_CONTAINER_EDIT_H
#define BTFM_TEST_CONTAINER_EDIT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <btfm/container.h>
#include "unit.h"

#define WHOLE_ARRAY SIZE_MAX

/* The container of `kind` saved in (blob, size) with array `name` edited: the first
 * `bytes` bytes (WHOLE_ARRAY: all of them) taken from `data`; same dtype, and the same
 * shape unless `length` >= 0 gives the array (one-dimensional) a new length, `data`
 * then holding all of it. Returns the new file's bytes (caller frees) and their count. */
static inline void *container_edit(const void *blob, size_t size, const char *kind,
                                   const char *name, const void *data, size_t bytes,
                                   int64_t length, size_t *out_size)
{
    btfm_container *in, *out;
    ck_assert_ok(btfm_container_load_buffer(&in, blob, size, kind));
    ck_assert_ok(btfm_container_new(&out, kind));
    for (int i = 0; i < btfm_container_count(in); i++) {
        const char *n;
        int dtype, ndim;
        int64_t shape[BTFM_CONTAINER_MAX_NDIM];
        const void *p;
        size_t nbytes;
        ck_assert_ok(btfm_container_array_info(in, i, &n, &dtype, &ndim, shape));
        ck_assert_ok(btfm_container_array_data(in, i, &p, &nbytes));
        void *q = NULL;
        if (strcmp(n, name) == 0 && length >= 0) {
            ck_assert_int_eq(ndim, 1);
            shape[0] = length;
            p = data;
        } else if (strcmp(n, name) == 0) {
            const size_t k = bytes == WHOLE_ARRAY ? nbytes : bytes;
            ck_assert_uint_le(k, nbytes);
            q = malloc(nbytes ? nbytes : 1);
            memcpy(q, p, nbytes);
            memcpy(q, data, k);
            p = q;
        }
        ck_assert_ok(btfm_container_put(out, n, dtype, ndim, shape, p));
        free(q);
    }
    ck_assert_ok(btfm_container_save_buffer(out, NULL, 0, out_size));
    void *result = malloc(*out_size);
    ck_assert_ok(btfm_container_save_buffer(out, result, *out_size, out_size));
    btfm_container_free(in);
    btfm_container_free(out);
    return result;
}

/* The container with the first `bytes` bytes of array `name` (WHOLE_ARRAY: all of them)
 * taken from `data`; same dtype and shape. */
static inline void *container_replace(const void *blob, size_t size, const char *kind,
                                      const char *name, const void *data, size_t bytes,
                                      size_t *out_size)
{
    return container_edit(blob, size, kind, name, data, bytes, -1, out_size);
}

/* A copy of array `name` of the container of `kind` in (blob, size); caller frees. */
static inline void *container_array_copy(const void *blob, size_t size, const char *kind,
                                         const char *name, size_t *nbytes)
{
    btfm_container *k;
    int index;
    const void *bytes;
    ck_assert_ok(btfm_container_load_buffer(&k, blob, size, kind));
    ck_assert_ok(btfm_container_find(k, name, &index));
    ck_assert_ok(btfm_container_array_data(k, index, &bytes, nbytes));
    void *copy = malloc(*nbytes ? *nbytes : 1);
    memcpy(copy, bytes, *nbytes);
    btfm_container_free(k);
    return copy;
}

#endif
