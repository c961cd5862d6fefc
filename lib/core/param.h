/* Parameter tables: each handle type declares its tunables once, and set/get/info all
 * go through this one mechanism (validation, bounds, messages). */
#ifndef BTFM_CORE_PARAM_H
#define BTFM_CORE_PARAM_H

#include "internal.h"
#include <btfm/param.h>

typedef struct btfm_param_def {
    const char *name;        /* lower_snake_case, unique within the table */
    int type;                /* btfm_param_type */
    double default_value;
    double min_value;
    double max_value;
    const char *description; /* one sentence */
} btfm_param_def;

typedef struct btfm_param_table {
    int kind;                /* btfm_object_kind */
    const char *kind_name;   /* "container" */
    int count;
    const btfm_param_def *defs;
} btfm_param_table;

/* Fill `values` (count entries) with the defaults. */
void btfm_params_defaults(const btfm_param_table *table, double *values);

/* Validate and store values[param] = value; `func` names the caller in messages. */
btfm_status btfm_params_set(const btfm_param_table *table, double *values, int param,
                            double value, const char *func);

/* Read values[param] into *value after checking `param`. */
btfm_status btfm_params_get(const btfm_param_table *table, const double *values, int param,
                            double *value, const char *func);

/* A plan, a handle that holds only parameters (the zstd CCtx pattern): `size` bytes,
 * zeroed, whose first member is an array of table->count doubles, set to the defaults.
 * NULL after recording BTFM_E_NOMEM with `func`. Freed with btfm_free. */
void *btfm_params_alloc(size_t size, const btfm_param_table *table, const char *func);

/* The registry (lib/registry.c): the table of `kind`, or NULL. */
const btfm_param_table *btfm_param_table_of(int kind);

#endif
