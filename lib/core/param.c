/* Validation and storage of handle parameters against their tables. */
#include <math.h>
#include "param.h"

const char *btfm_param_type_name(int type)
{
    switch (type) {
    case BTFM_PARAM_REAL: return "real";
    case BTFM_PARAM_INT: return "int";
    case BTFM_PARAM_BOOL: return "bool";
    default: return NULL;
    }
}

static btfm_status check_index(const btfm_param_table *table, int param, const char *func)
{
    if (param < 0 || param >= table->count)
        return btfm_fail(BTFM_E_INVALID, "%s: %s has no parameter %d (it has %d, numbered 0 to %d)",
                         func, table->kind_name, param, table->count, table->count - 1);
    return BTFM_OK;
}

void btfm_params_defaults(const btfm_param_table *table, double *values)
{
    for (int i = 0; i < table->count; i++) values[i] = table->defs[i].default_value;
}

btfm_status btfm_params_set(const btfm_param_table *table, double *values, int param,
                            double value, const char *func)
{
    btfm_status st = check_index(table, param, func);
    if (st) return st;
    const btfm_param_def *d = &table->defs[param];
    if (!isfinite(value))
        return btfm_fail(BTFM_E_RANGE, "%s: %s %s = %g: expected a finite %s in [%g, %g]",
                         func, table->kind_name, d->name, value, btfm_param_type_name(d->type),
                         d->min_value, d->max_value);
    if (d->type != BTFM_PARAM_REAL && value != floor(value))
        return btfm_fail(BTFM_E_RANGE, "%s: %s %s = %g: expected a whole number (%s) in [%g, %g]",
                         func, table->kind_name, d->name, value, btfm_param_type_name(d->type),
                         d->min_value, d->max_value);
    if (value < d->min_value || value > d->max_value)
        return btfm_fail(BTFM_E_RANGE, "%s: %s %s = %g is outside its bounds [%g, %g]",
                         func, table->kind_name, d->name, value, d->min_value, d->max_value);
    values[param] = value;
    return BTFM_OK;
}

btfm_status btfm_params_get(const btfm_param_table *table, const double *values, int param,
                            double *value, const char *func)
{
    BTFM_CHECK_ARG(value, func, "value");
    btfm_status st = check_index(table, param, func);
    if (st) return st;
    *value = values[param];
    return BTFM_OK;
}

void *btfm_params_alloc(size_t size, const btfm_param_table *table, const char *func)
{
    double *values = btfm_calloc(1, size);
    if (!values) {
        btfm_fail_nomem(func, size);
        return NULL;
    }
    btfm_params_defaults(table, values);
    return values;
}
