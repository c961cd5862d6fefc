/* The container's in-memory layout, shared by its API (container.c) and its byte
 * format (container_format.c). */
#ifndef BTFM_CORE_CONTAINER_INTERNAL_H
#define BTFM_CORE_CONTAINER_INTERNAL_H

#include "internal.h"
#include <btfm/container.h>

#define BTFM_CONTAINER_ALIGN 64
#define BTFM_CONTAINER_FORMAT 1

typedef struct btfm_array {
    char *name;
    int dtype;
    int ndim;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    size_t nbytes;
    void *block;   /* allocation */
    void *data;    /* BTFM_CONTAINER_ALIGN-aligned inside block */
} btfm_array;

struct btfm_container {
    char *kind;
    int count;
    int64_t capacity;
    btfm_array *arrays;
    double params[1];
};

/* Element count of a shape, or -1 on overflow / negative extent. */
int btfm_shape_elements(int ndim, const int64_t *shape, size_t *count);

/* Check a name or kind: 1 to 255 bytes of UTF-8, no NUL. `what` names it in messages. */
btfm_status btfm_container_check_name(const char *func, const char *what, const char *name,
                                      size_t len);

/* Append an array whose payload is `nbytes` from `data` (NULL: leave uninitialized) and
 * return it; validates dtype, shape and name uniqueness. */
btfm_status btfm_container_append(btfm_container *c, const char *func, const char *name,
                                  size_t name_len, int dtype, int ndim, const int64_t *shape,
                                  const void *data, btfm_array **out);

#endif
