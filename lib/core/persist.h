/* Handles kept as model containers of one kind (aligner, model, reward head, CoTHB
 * controller): the save and load calls of every such handle go through here, so the
 * argument checks, the container's lifetime and the kind check are written once. */
#ifndef BTFM_CORE_PERSIST_H
#define BTFM_CORE_PERSIST_H

#include "internal.h"
#include <btfm/container.h>

typedef struct btfm_persist_ops {
    const char *kind; /* the container kind the handle is saved as */
    const char *noun; /* the handle in messages: "aligner", "head", ... */
    /* A new container holding `obj`; `func` names the public call in messages. */
    btfm_status (*to)(const void *obj, btfm_container **out, const char *func);
    /* A new handle read from `c` (already of `kind`); nothing is left on failure. */
    btfm_status (*from)(const btfm_container *c, void **out, const char *func);
} btfm_persist_ops;

btfm_status btfm_persist_save(const btfm_persist_ops *ops, const void *obj, const char *path,
                              const char *func);
btfm_status btfm_persist_save_buffer(const btfm_persist_ops *ops, const void *obj,
                                     void *buffer, size_t capacity, size_t *written,
                                     const char *func);
/* The caller checks its typed output pointer, then receives the handle in *obj
 * (NULL on failure). */
btfm_status btfm_persist_load(const btfm_persist_ops *ops, void **obj, const char *path,
                              const char *func);
btfm_status btfm_persist_load_buffer(const btfm_persist_ops *ops, void **obj,
                                     const void *buffer, size_t size, const char *func);

#endif
