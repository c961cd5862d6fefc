/* Saving and loading a fitted aligner through the model container (kind "aligner"):
 * the parameters, the common time series and each subject's map as named arrays. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "align_internal.h"
#include <btfm/container.h>
#include "core/persist.h"

#define ALIGNER_KIND "aligner"
#define ALIGNER_LAYOUT 1 /* version of the array layout below */

static btfm_status put_f64(btfm_container *c, const char *name, int ndim, int64_t d0,
                           int64_t d1, const double *data)
{
    const int64_t shape[2] = {d0, d1};
    return btfm_container_put(c, name, BTFM_DTYPE_F64, ndim, shape, data);
}

static btfm_status to_container(const void *obj, btfm_container **out, const char *func)
{
    const btfm_aligner *a = obj;
    if (!a->fitted)
        return btfm_fail(BTFM_E_STATE, "%s: only a fitted aligner can be saved", func);
    btfm_container *c;
    btfm_status st = btfm_container_new(&c, ALIGNER_KIND);
    if (st) return st;
    const int32_t header[3] = {ALIGNER_LAYOUT, a->method, a->n_subjects};
    const int64_t dims[2] = {a->n_times, a->n_components};
    const double fit[2] = {(double)a->iterations, a->objective};
    const int64_t three = 3, two = 2;
    if (!st) st = btfm_container_put(c, "header", BTFM_DTYPE_I32, 1, &three, header);
    if (!st) st = btfm_container_put(c, "dims", BTFM_DTYPE_I64, 1, &two, dims);
    if (!st) st = put_f64(c, "params", 1, ALIGNER_PARAM_COUNT, 0, a->params);
    if (!st) st = put_f64(c, "fit", 1, 2, 0, fit);
    if (!st) st = put_f64(c, "fit_change", 1, 1, 0, &a->change); /* since 1.3 */
    if (!st && a->n_history > 0) /* since 1.3; a fit that iterates */
        st = put_f64(c, "fit_history", 1, a->n_history, 0, a->history);
    if (!st) st = put_f64(c, "common", 2, a->n_times, a->n_components, a->common);
    for (int i = 0; i < a->n_subjects && !st; i++) {
        const align_map *m = &a->maps[i];
        char name[64];
        snprintf(name, sizeof name, "subject%d/mean", i);
        st = put_f64(c, name, 1, m->n_features, 0, m->mean);
        snprintf(name, sizeof name, "subject%d/scale", i);
        if (!st) st = put_f64(c, name, 1, m->n_features, 0, m->scale);
        snprintf(name, sizeof name, "subject%d/a", i);
        if (!st) st = put_f64(c, name, 2, m->n_features, m->rank, m->a);
        snprintf(name, sizeof name, "subject%d/b", i);
        if (!st) st = put_f64(c, name, 2, m->rank, a->n_components, m->b);
        snprintf(name, sizeof name, "subject%d/offset", i);
        if (!st) st = put_f64(c, name, 1, a->n_components, 0, m->offset);
    }
    if (st) {
        btfm_container_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

/* The shape of array `name`, which must be f64 with `ndim` dimensions. */
static btfm_status shape_of(const btfm_container *c, const char *name, int ndim,
                            int64_t *shape)
{
    int index, dtype, nd;
    int64_t sh[BTFM_CONTAINER_MAX_NDIM];
    btfm_status st = btfm_container_find(c, name, &index);
    if (!st) st = btfm_container_array_info(c, index, NULL, &dtype, &nd, sh);
    if (st) return st;
    if (dtype != BTFM_DTYPE_F64 || nd != ndim)
        return btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: array \"%s\" is %s with %d "
                         "dimensions; expected f64 with %d", name,
                         btfm_dtype_name(dtype) ? btfm_dtype_name(dtype) : "?", nd, ndim);
    for (int d = 0; d < ndim; d++) shape[d] = sh[d];
    return BTFM_OK;
}

/* Array `name` into a new buffer: f64 of shape d0 (x d1 when d1 > 0) exactly, every value
 * finite. Shapes are compared before anything is allocated, so a size comes from what the
 * file holds, never from a field alone. */
static btfm_status read_f64(const btfm_container *c, const char *name, int64_t d0, int64_t d1,
                            double **out)
{
    int64_t shape[2] = {0, 0};
    const int ndim = d1 > 0 ? 2 : 1;
    btfm_status st = shape_of(c, name, ndim, shape);
    if (st) return st;
    if (shape[0] != d0 || (ndim == 2 && shape[1] != d1))
        return btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: array \"%s\" is %lld x %lld; the "
                         "model's dimensions say %lld x %lld", name, (long long)shape[0],
                         (long long)(ndim == 2 ? shape[1] : 1), (long long)d0,
                         (long long)(ndim == 2 ? d1 : 1));
    const int64_t count = d0 * (ndim == 2 ? d1 : 1); /* bounded by the file's size */
    double *p = btfm_dense_zeros(count, 1, "btfm_aligner_load");
    if (!p) return BTFM_E_NOMEM;
    st = btfm_container_get(c, name, BTFM_DTYPE_F64, (size_t)count, p);
    for (int64_t j = 0; !st && j < count; j++)
        if (!isfinite(p[j]))
            st = btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: array \"%s\", element %lld is "
                           "%g; expected a finite number", name, (long long)j, p[j]);
    if (st) {
        btfm_free(p);
        return st;
    }
    *out = p;
    return BTFM_OK;
}

static btfm_status load_subject(const btfm_container *c, btfm_aligner *a, int i)
{
    char name[64];
    int64_t sa[2], sb[2];
    snprintf(name, sizeof name, "subject%d/a", i);
    btfm_status st = shape_of(c, name, 2, sa);
    snprintf(name, sizeof name, "subject%d/b", i);
    if (!st) st = shape_of(c, name, 2, sb);
    if (st) return st;
    if (sb[0] != sa[1] || sb[1] != a->n_components || sa[0] < 1 || sa[1] < 1)
        return btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: subject %d's map has shapes "
                         "%lld x %lld and %lld x %lld; expected V x r and r x %lld", i,
                         (long long)sa[0], (long long)sa[1], (long long)sb[0],
                         (long long)sb[1], (long long)a->n_components);
    align_map *m = &a->maps[i];
    m->n_features = sa[0];
    m->rank = sa[1];
    a->n_features[i] = sa[0];
    snprintf(name, sizeof name, "subject%d/mean", i);
    st = read_f64(c, name, sa[0], 0, &m->mean);
    snprintf(name, sizeof name, "subject%d/scale", i);
    if (!st) st = read_f64(c, name, sa[0], 0, &m->scale);
    snprintf(name, sizeof name, "subject%d/a", i);
    if (!st) st = read_f64(c, name, sa[0], sa[1], &m->a);
    snprintf(name, sizeof name, "subject%d/b", i);
    if (!st) st = read_f64(c, name, sb[0], sb[1], &m->b);
    snprintf(name, sizeof name, "subject%d/offset", i);
    if (!st) st = read_f64(c, name, a->n_components, 0, &m->offset);
    for (int64_t f = 0; !st && f < m->n_features; f++)
        if (!(m->scale[f] > 0))
            st = btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: subject %d: scale of feature "
                           "%lld is %g; expected a positive number", i, (long long)f,
                           m->scale[f]);
    return st;
}

static btfm_status from_container(const btfm_container *c, void **out, const char *func)
{
    (void)func; /* messages name btfm_aligner_load for both loads */
    int32_t header[3];
    int64_t dims[2];
    double params[ALIGNER_PARAM_COUNT], fit[2];
    btfm_status st = btfm_container_get(c, "header", BTFM_DTYPE_I32, 3, header);
    if (!st) st = btfm_container_get(c, "dims", BTFM_DTYPE_I64, 2, dims);
    if (!st) st = btfm_container_get(c, "params", BTFM_DTYPE_F64, ALIGNER_PARAM_COUNT, params);
    if (!st) st = btfm_container_get(c, "fit", BTFM_DTYPE_F64, 2, fit);
    if (st) return st;
    if (header[0] != ALIGNER_LAYOUT)
        return btfm_fail(BTFM_E_VERSION, "btfm_aligner_load: aligner layout %d; this library "
                         "reads layout %d", (int)header[0], ALIGNER_LAYOUT);
    if (header[2] < 1 || dims[0] < 1 || dims[1] < 1 || dims[1] > (int64_t)1 << 31)
        return btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: %d subjects, %lld time points, "
                         "%lld components; expected positive counts", (int)header[2],
                         (long long)dims[0], (long long)dims[1]);
    if (!(fit[0] >= 0 && fit[0] <= 1e5 && fit[0] == floor(fit[0])) || !isfinite(fit[1]))
        return btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: fit information (%g iterations, "
                         "objective %g); expected 0 to 100000 iterations and a finite objective",
                         fit[0], fit[1]);
    btfm_aligner *a;
    if ((st = btfm_aligner_new(&a, header[1]))) return btfm_fail(BTFM_E_FORMAT,
        "btfm_aligner_load: unknown method %d", (int)header[1]);
    for (int p = 0; p < ALIGNER_PARAM_COUNT && !st; p++)
        st = btfm_aligner_set_param(a, p, params[p]);
    a->n_times = dims[0];
    a->n_components = dims[1];
    a->iterations = (int)fit[0];
    a->objective = fit[1];
    a->change = NAN; /* files before 1.3 lack it */
    int index;
    if (!st && !btfm_container_find(c, "fit_change", &index)) {
        st = btfm_container_get(c, "fit_change", BTFM_DTYPE_F64, 1, &a->change);
        if (!st && !(isnan(a->change) || (a->change >= 0 && isfinite(a->change))))
            st = btfm_fail(BTFM_E_FORMAT, "btfm_aligner_load: final objective change %g; "
                           "expected a finite non-negative number or NaN", a->change);
    }
    /* the objective after each iteration, one per iteration (files before 1.3 lack it) */
    if (!st && !btfm_container_find(c, "fit_history", &index) &&
        !(st = read_f64(c, "fit_history", a->iterations, 0, &a->history)))
        a->n_history = a->iterations;
    a->fitted = 1;
    if (!st) st = read_f64(c, "common", dims[0], dims[1], &a->common);
    for (int i = 0; i < header[2] && !st; i++) {
        if ((st = btfm_align_grow_subjects(a))) break;
        a->n_subjects++;
        st = load_subject(c, a, i);
    }
    if (st) {
        btfm_aligner_free(a);
        return st;
    }
    *out = a;
    return BTFM_OK;
}

static const btfm_persist_ops aligner_persist = {ALIGNER_KIND, "aligner", to_container,
                                                  from_container};

btfm_status btfm_aligner_save(const btfm_aligner *a, const char *path)
{
    return btfm_persist_save(&aligner_persist, a, path, "btfm_aligner_save");
}

btfm_status btfm_aligner_save_buffer(const btfm_aligner *a, void *buffer, size_t capacity,
                                     size_t *written)
{
    return btfm_persist_save_buffer(&aligner_persist, a, buffer, capacity, written,
                                    "btfm_aligner_save_buffer");
}

btfm_status btfm_aligner_load(btfm_aligner **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_aligner_load", "out");
    void *a;
    btfm_status st = btfm_persist_load(&aligner_persist, &a, path, "btfm_aligner_load");
    *out = a;
    return st;
}

btfm_status btfm_aligner_load_buffer(btfm_aligner **out, const void *buffer, size_t size)
{
    BTFM_CHECK_ARG(out, "btfm_aligner_load_buffer", "out");
    void *a;
    btfm_status st = btfm_persist_load_buffer(&aligner_persist, &a, buffer, size,
                                              "btfm_aligner_load_buffer");
    *out = a;
    return st;
}
