/* Saving and loading a handle through a model container of its kind (persist.h). */
#include "persist.h"

static btfm_status to_container(const btfm_persist_ops *ops, const void *obj,
                                btfm_container **out, const char *func)
{
    BTFM_CHECK_ARG(obj, func, ops->noun);
    return ops->to(obj, out, func);
}

btfm_status btfm_persist_save(const btfm_persist_ops *ops, const void *obj, const char *path,
                              const char *func)
{
    BTFM_CHECK_ARG(path, func, "path");
    btfm_container *c;
    btfm_status st = to_container(ops, obj, &c, func);
    if (st) return st;
    st = btfm_container_save(c, path);
    btfm_container_free(c);
    return st;
}

btfm_status btfm_persist_save_buffer(const btfm_persist_ops *ops, const void *obj,
                                     void *buffer, size_t capacity, size_t *written,
                                     const char *func)
{
    BTFM_CHECK_ARG(written, func, "written");
    btfm_container *c;
    btfm_status st = to_container(ops, obj, &c, func);
    if (st) return st;
    st = btfm_container_save_buffer(c, buffer, capacity, written);
    btfm_container_free(c);
    return st;
}

/* The common tail of both loads: the handle out of a loaded container. */
static btfm_status from_container(const btfm_persist_ops *ops, btfm_status loaded,
                                  btfm_container *c, void **obj, const char *func)
{
    if (loaded) return loaded;
    btfm_status st = ops->from(c, obj, func);
    btfm_container_free(c);
    if (st) *obj = NULL;
    return st;
}

btfm_status btfm_persist_load(const btfm_persist_ops *ops, void **obj, const char *path,
                              const char *func)
{
    *obj = NULL;
    BTFM_CHECK_ARG(path, func, "path");
    btfm_container *c = NULL;
    btfm_status st = btfm_container_load(&c, path, ops->kind);
    return from_container(ops, st, c, obj, func);
}

btfm_status btfm_persist_load_buffer(const btfm_persist_ops *ops, void **obj,
                                     const void *buffer, size_t size, const char *func)
{
    *obj = NULL;
    BTFM_CHECK_ARG(buffer, func, "buffer");
    btfm_container *c = NULL;
    btfm_status st = btfm_container_load_buffer(&c, buffer, size, ops->kind);
    return from_container(ops, st, c, obj, func);
}
