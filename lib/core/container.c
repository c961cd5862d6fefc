/* The container handle: named, typed n-dimensional arrays kept in aligned memory. */
#include <string.h>
#include "container_internal.h"
#include "param.h"

static const btfm_param_def container_params[] = {
    {"fsync", BTFM_PARAM_BOOL, 1, 0, 1,
     "Flush the file and its folder to stable storage before a save returns (0 is faster "
     "but a power cut may lose the new file; the old one is still never half-replaced)."},
};

const btfm_param_table btfm_container_param_table = {
    BTFM_OBJECT_CONTAINER, "container",
    (int)(sizeof container_params / sizeof container_params[0]), container_params,
};

static const struct { const char *name; size_t size; } dtypes[] = {
    [BTFM_DTYPE_U8] = {"u8", 1},   [BTFM_DTYPE_I32] = {"i32", 4},
    [BTFM_DTYPE_I64] = {"i64", 8}, [BTFM_DTYPE_F32] = {"f32", 4},
    [BTFM_DTYPE_F64] = {"f64", 8}, [BTFM_DTYPE_UTF8] = {"utf8", 1},
};
#define DTYPE_END ((int)(sizeof dtypes / sizeof dtypes[0]))

int btfm_container_format_version(void) { return BTFM_CONTAINER_FORMAT; }

size_t btfm_dtype_size(int dtype)
{
    return dtype > 0 && dtype < DTYPE_END ? dtypes[dtype].size : 0;
}

const char *btfm_dtype_name(int dtype)
{
    return dtype > 0 && dtype < DTYPE_END ? dtypes[dtype].name : NULL;
}

int btfm_shape_elements(int ndim, const int64_t *shape, size_t *count)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX) return -1;
        if (btfm_mul_size(n, (size_t)shape[i], &n)) return -1;
    }
    *count = n;
    return 0;
}

btfm_status btfm_container_check_name(const char *func, const char *what, const char *name,
                                      size_t len)
{
    if (len == 0 || len > BTFM_CONTAINER_MAX_NAME)
        return btfm_fail(BTFM_E_INVALID, "%s: %s must be 1 to %d bytes long, got %zu",
                         func, what, BTFM_CONTAINER_MAX_NAME, len);
    if (!btfm_utf8_valid(name, len))
        return btfm_fail(BTFM_E_INVALID, "%s: %s \"%.*s\" is not valid UTF-8 (or holds a NUL)",
                         func, what, (int)len, name);
    return BTFM_OK;
}

btfm_status btfm_container_new(btfm_container **out, const char *kind)
{
    BTFM_CHECK_ARG(out, "btfm_container_new", "out");
    *out = NULL;
    BTFM_CHECK_ARG(kind, "btfm_container_new", "kind");
    btfm_status st = btfm_container_check_name("btfm_container_new", "kind", kind, strlen(kind));
    if (st) return st;
    btfm_container *c = btfm_calloc(1, sizeof *c);
    if (!c || !(c->kind = btfm_strdup(kind))) {
        btfm_free(c);
        return btfm_fail_nomem("btfm_container_new", sizeof *c);
    }
    btfm_params_defaults(&btfm_container_param_table, c->params);
    *out = c;
    return BTFM_OK;
}

void btfm_container_free(btfm_container *c)
{
    if (!c) return;
    for (int i = 0; i < c->count; i++) {
        btfm_free(c->arrays[i].name);
        btfm_free(c->arrays[i].block);
    }
    btfm_free(c->arrays);
    btfm_free(c->kind);
    btfm_free(c);
}

btfm_status btfm_container_set_param(btfm_container *c, int param, double value)
{
    BTFM_CHECK_ARG(c, "btfm_container_set_param", "container");
    return btfm_params_set(&btfm_container_param_table, c->params, param, value,
                           "btfm_container_set_param");
}

btfm_status btfm_container_get_param(const btfm_container *c, int param, double *value)
{
    BTFM_CHECK_ARG(c, "btfm_container_get_param", "container");
    return btfm_params_get(&btfm_container_param_table, c->params, param, value,
                           "btfm_container_get_param");
}

static int find_index(const btfm_container *c, const char *name, size_t len)
{
    for (int i = 0; i < c->count; i++)
        if (strlen(c->arrays[i].name) == len && memcmp(c->arrays[i].name, name, len) == 0)
            return i;
    return -1;
}

btfm_status btfm_container_append(btfm_container *c, const char *func, const char *name,
                                  size_t name_len, int dtype, int ndim, const int64_t *shape,
                                  const void *data, btfm_array **out)
{
    btfm_status st = btfm_container_check_name(func, "array name", name, name_len);
    if (st) return st;
    if (btfm_dtype_size(dtype) == 0)
        return btfm_fail(BTFM_E_INVALID, "%s: array \"%.*s\": unknown dtype %d (expected %d to %d)",
                         func, (int)name_len, name, dtype, BTFM_DTYPE_U8, DTYPE_END - 1);
    if (ndim < 0 || ndim > BTFM_CONTAINER_MAX_NDIM)
        return btfm_fail(BTFM_E_INVALID, "%s: array \"%.*s\": ndim %d is outside [0, %d]",
                         func, (int)name_len, name, ndim, BTFM_CONTAINER_MAX_NDIM);
    if (dtype == BTFM_DTYPE_UTF8 && ndim != 1)
        return btfm_fail(BTFM_E_INVALID, "%s: text \"%.*s\" must have 1 dimension, got %d",
                         func, (int)name_len, name, ndim);
    size_t count, nbytes, alloc;
    if (btfm_shape_elements(ndim, shape, &count) ||
        btfm_mul_size(count, btfm_dtype_size(dtype), &nbytes) ||
        btfm_add_size(nbytes, BTFM_CONTAINER_ALIGN, &alloc))
        return btfm_fail(BTFM_E_INVALID, "%s: array \"%.*s\": the shape has a negative extent "
                         "or more elements than memory can hold", func, (int)name_len, name);
    if (find_index(c, name, name_len) >= 0)
        return btfm_fail(BTFM_E_STATE, "%s: the container already has an array \"%.*s\"",
                         func, (int)name_len, name);
    void *arrays = c->arrays;
    st = btfm_reserve(&arrays, &c->capacity, c->count + 1, sizeof *c->arrays, func);
    c->arrays = arrays;
    if (st) return st;
    btfm_array *a = &c->arrays[c->count];
    memset(a, 0, sizeof *a);
    a->name = btfm_malloc(name_len + 1);
    a->block = btfm_malloc(alloc);
    if (!a->name || !a->block) {
        btfm_free(a->name);
        btfm_free(a->block);
        return btfm_fail_nomem(func, alloc);
    }
    memcpy(a->name, name, name_len);
    a->name[name_len] = '\0';
    a->dtype = dtype;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    a->nbytes = nbytes;
    uintptr_t p = (uintptr_t)a->block;
    a->data = (void *)((p + BTFM_CONTAINER_ALIGN - 1) & ~(uintptr_t)(BTFM_CONTAINER_ALIGN - 1));
    if (data && nbytes) memcpy(a->data, data, nbytes);
    c->count++;
    if (out) *out = a;
    return BTFM_OK;
}

btfm_status btfm_container_put(btfm_container *c, const char *name, int dtype, int ndim,
                               const int64_t *shape, const void *data)
{
    static const char func[] = "btfm_container_put";
    BTFM_CHECK_ARG(c, func, "container");
    BTFM_CHECK_ARG(name, func, "name");
    if (ndim > 0) BTFM_CHECK_ARG(shape, func, "shape");
    size_t count;
    if (ndim >= 0 && ndim <= BTFM_CONTAINER_MAX_NDIM &&
        btfm_shape_elements(ndim, shape, &count) == 0 && count > 0)
        BTFM_CHECK_ARG(data, func, "data");
    if (dtype == BTFM_DTYPE_UTF8 && data && ndim == 1 && shape[0] >= 0 &&
        !btfm_utf8_valid(data, (size_t)shape[0]))
        return btfm_fail(BTFM_E_INVALID, "%s: text \"%s\" is not valid UTF-8 (or holds a NUL)",
                         func, name);
    return btfm_container_append(c, func, name, strlen(name), dtype, ndim, shape, data, NULL);
}

btfm_status btfm_container_put_text(btfm_container *c, const char *name, const char *text)
{
    BTFM_CHECK_ARG(text, "btfm_container_put_text", "text");
    int64_t len = (int64_t)strlen(text);
    return btfm_container_put(c, name, BTFM_DTYPE_UTF8, 1, &len, text);
}

const char *btfm_container_kind(const btfm_container *c) { return c ? c->kind : NULL; }

static int n_arrays(const btfm_container *c, const char *func)
{
    if (!c) return btfm_fail(BTFM_E_INVALID, "%s: container is NULL", func);
    return c->count;
}

int btfm_container_n_arrays(const btfm_container *c)
{
    return n_arrays(c, "btfm_container_n_arrays");
}

int btfm_container_count(const btfm_container *c) { return n_arrays(c, "btfm_container_count"); }

btfm_status btfm_container_find(const btfm_container *c, const char *name, int *index)
{
    BTFM_CHECK_ARG(c, "btfm_container_find", "container");
    BTFM_CHECK_ARG(name, "btfm_container_find", "name");
    BTFM_CHECK_ARG(index, "btfm_container_find", "index");
    int i = find_index(c, name, strlen(name));
    if (i < 0)
        return btfm_fail(BTFM_E_NOTFOUND, "btfm_container_find: container \"%s\" has no array "
                         "\"%s\"", c->kind, name);
    *index = i;
    return BTFM_OK;
}

static btfm_status check_index(const btfm_container *c, int index, const char *func)
{
    BTFM_CHECK_ARG(c, func, "container");
    if (index < 0 || index >= c->count)
        return btfm_fail(BTFM_E_RANGE, "%s: index %d is outside [0, %d) for container \"%s\"",
                         func, index, c->count, c->kind);
    return BTFM_OK;
}

btfm_status btfm_container_array_info(const btfm_container *c, int index, const char **name,
                                      int *dtype, int *ndim, int64_t *shape)
{
    btfm_status st = check_index(c, index, "btfm_container_array_info");
    if (st) return st;
    const btfm_array *a = &c->arrays[index];
    if (name) *name = a->name;
    if (dtype) *dtype = a->dtype;
    if (ndim) *ndim = a->ndim;
    if (shape)
        for (int i = 0; i < a->ndim; i++) shape[i] = a->shape[i];
    return BTFM_OK;
}

btfm_status btfm_container_array_data(const btfm_container *c, int index, const void **data,
                                      size_t *nbytes)
{
    btfm_status st = check_index(c, index, "btfm_container_array_data");
    if (st) return st;
    if (data) *data = c->arrays[index].data;
    if (nbytes) *nbytes = c->arrays[index].nbytes;
    return BTFM_OK;
}

static btfm_status lookup(const btfm_container *c, const char *name, int dtype,
                          const char *func, const btfm_array **out)
{
    BTFM_CHECK_ARG(c, func, "container");
    BTFM_CHECK_ARG(name, func, "name");
    int i = find_index(c, name, strlen(name));
    if (i < 0)
        return btfm_fail(BTFM_E_NOTFOUND, "%s: container \"%s\" has no array \"%s\"", func,
                         c->kind, name);
    const btfm_array *a = &c->arrays[i];
    if (a->dtype != dtype)
        return btfm_fail(BTFM_E_FORMAT, "%s: array \"%s\" of container \"%s\" holds %s, "
                         "expected %s", func, name, c->kind, btfm_dtype_name(a->dtype),
                         btfm_dtype_name(dtype) ? btfm_dtype_name(dtype) : "an unknown dtype");
    *out = a;
    return BTFM_OK;
}

btfm_status btfm_container_get(const btfm_container *c, const char *name, int dtype,
                               size_t count, void *out)
{
    const btfm_array *a;
    btfm_status st = lookup(c, name, dtype, "btfm_container_get", &a);
    if (st) return st;
    size_t have = a->nbytes / btfm_dtype_size(dtype);
    if (have != count)
        return btfm_fail(BTFM_E_FORMAT, "btfm_container_get: array \"%s\" of container \"%s\" "
                         "has %zu elements, expected %zu", name, c->kind, have, count);
    if (count) BTFM_CHECK_ARG(out, "btfm_container_get", "out");
    if (count) memcpy(out, a->data, a->nbytes);
    return BTFM_OK;
}

btfm_status btfm_container_get_text(const btfm_container *c, const char *name, char *out,
                                    size_t capacity, size_t *length)
{
    const btfm_array *a;
    btfm_status st = lookup(c, name, BTFM_DTYPE_UTF8, "btfm_container_get_text", &a);
    if (st) return st;
    if (length) *length = a->nbytes;
    if (!out || capacity <= a->nbytes)
        return btfm_fail(BTFM_E_RANGE, "btfm_container_get_text: text \"%s\" needs %zu bytes "
                         "with its NUL, the buffer has %zu", name, a->nbytes + 1,
                         out ? capacity : 0);
    memcpy(out, a->data, a->nbytes);
    out[a->nbytes] = '\0';
    return BTFM_OK;
}
