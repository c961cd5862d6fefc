/* The model-file container: named, typed n-dimensional arrays with a CRC32 per chunk,
 * saved atomically to a file or to caller memory. Every fitted handle of libbtfm
 * (aligner, reward head, controller) saves and loads through it; hosts can use it for
 * their own arrays, and `btfm info` lists any container file. Format: doc/container.md. */
#ifndef BTFM_CONTAINER_H
#define BTFM_CONTAINER_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_container btfm_container;

/* Element types. Stored little-endian. Numbers are never reused. */
typedef enum btfm_dtype {
    BTFM_DTYPE_U8 = 1,
    BTFM_DTYPE_I32 = 2,
    BTFM_DTYPE_I64 = 3,
    BTFM_DTYPE_F32 = 4,
    BTFM_DTYPE_F64 = 5,
    BTFM_DTYPE_UTF8 = 6, /* a text: one dimension, bytes, no terminating NUL stored */
    BTFM_DTYPE_MAX_ = 0x7fffffff
} btfm_dtype;

/* Parameters (btfm_container_set_param); see btfm_param_info(BTFM_OBJECT_CONTAINER). */
typedef enum btfm_container_param {
    BTFM_CONTAINER_PARAM_FSYNC = 0, /* bool, default 1: fsync file and folder on save */
    BTFM_CONTAINER_PARAM_MAX_ = 0x7fffffff
} btfm_container_param;

#define BTFM_CONTAINER_MAX_NDIM 8
#define BTFM_CONTAINER_MAX_NAME 255 /* bytes of UTF-8, also for the kind */

/* Highest container format version this library reads and writes. */
BTFM_API int btfm_container_format_version(void);

/* Size in bytes of one element of `dtype`; 0 for an unknown dtype. */
BTFM_API size_t btfm_dtype_size(int dtype);

/* Name of a dtype ("f32"); NULL for an unknown one. */
BTFM_API const char *btfm_dtype_name(int dtype);

/* A new, empty container describing an object of `kind` (e.g. "aligner"; 1 to 255
 * bytes of UTF-8). Free with btfm_container_free. */
BTFM_API btfm_status btfm_container_new(btfm_container **out, const char *kind);

/* Release a container and every array in it. NULL is a no-op. */
BTFM_API void btfm_container_free(btfm_container *c);

BTFM_API btfm_status btfm_container_set_param(btfm_container *c, int param, double value);
BTFM_API btfm_status btfm_container_get_param(const btfm_container *c, int param,
                                              double *value);

/* Add a copy of an array. `shape` has `ndim` (0 to 8) non-negative extents; the data
 * has their product of elements, C order. Names are unique, 1 to 255 bytes of UTF-8.
 * A name that exists already is refused (BTFM_E_STATE). */
BTFM_API btfm_status btfm_container_put(btfm_container *c, const char *name, int dtype,
                                        int ndim, const int64_t *shape, const void *data);

/* Add a text (BTFM_DTYPE_UTF8, one dimension). */
BTFM_API btfm_status btfm_container_put_text(btfm_container *c, const char *name,
                                             const char *text);

/* Write the container to `path` atomically: a temporary file in the same folder is
 * written, flushed (fsync unless the fsync parameter is 0) and renamed over `path`,
 * so `path` holds either its old content or the complete new one, never a mix. */
BTFM_API btfm_status btfm_container_save(const btfm_container *c, const char *path);

/* Serialized size in bytes, the exact size btfm_container_save_buffer writes. */
BTFM_API btfm_status btfm_container_serialized_size(const btfm_container *c, size_t *size);

/* Serialize into caller memory. *written receives the size. A NULL `buffer` is a size
 * query: nothing is written and BTFM_OK is returned. When `capacity` is too small for a
 * non-NULL buffer nothing is written, *written still receives the size needed, and the
 * call returns BTFM_E_RANGE. */
BTFM_API btfm_status btfm_container_save_buffer(const btfm_container *c, void *buffer,
                                                size_t capacity, size_t *written);

/* Load a container file, or a buffer (copied, so it may be freed after the call).
 * `expected_kind` NULL accepts any kind; otherwise another kind is refused with
 * BTFM_E_KIND. Truncated data, a bad checksum, a newer format version or anything
 * malformed is refused with a message naming the byte offset; nothing is half-loaded. */
BTFM_API btfm_status btfm_container_load(btfm_container **out, const char *path,
                                         const char *expected_kind);
BTFM_API btfm_status btfm_container_load_buffer(btfm_container **out, const void *buffer,
                                                size_t size, const char *expected_kind);

/* The object kind. Owned by the container. */
BTFM_API const char *btfm_container_kind(const btfm_container *c);

/* Number of arrays, or a negative status for a NULL container. btfm_container_count is
 * its deprecated name. */
BTFM_API int btfm_container_n_arrays(const btfm_container *c);
BTFM_API int btfm_container_count(const btfm_container *c);

/* Index of the array called `name`; BTFM_E_NOTFOUND if absent. */
BTFM_API btfm_status btfm_container_find(const btfm_container *c, const char *name,
                                         int *index);

/* Describe array `index` (0 .. count-1). Output pointers may be NULL. `name` is owned
 * by the container; `shape` receives `ndim` extents and must have room for 8. */
BTFM_API btfm_status btfm_container_array_info(const btfm_container *c, int index,
                                               const char **name, int *dtype, int *ndim,
                                               int64_t *shape);

/* Read-only view of array `index`'s elements (native byte order, 64-byte aligned),
 * owned by the container and valid until it is freed. */
BTFM_API btfm_status btfm_container_array_data(const btfm_container *c, int index,
                                               const void **data, size_t *nbytes);

/* Copy the array called `name` into `out`, checking that it has `dtype` and exactly
 * `count` elements (a mismatch is BTFM_E_FORMAT with both in the message). */
BTFM_API btfm_status btfm_container_get(const btfm_container *c, const char *name,
                                        int dtype, size_t count, void *out);

/* Copy the text called `name` into `out` with a terminating NUL. When `capacity` is
 * too small nothing is written and BTFM_E_RANGE is returned; *length (may be NULL)
 * always receives the text's length in bytes without the NUL. */
BTFM_API btfm_status btfm_container_get_text(const btfm_container *c, const char *name,
                                             char *out, size_t capacity, size_t *length);

#ifdef __cplusplus
}
#endif

#endif
