/* The btfm_aligner handle: parameters, subjects, the fit dispatch, and the per-subject
 * maps into and out of the common space that every method shares. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"
#include "hyper_internal.h"
#include "core/scratch.h"

static const btfm_param_def aligner_params[ALIGNER_PARAM_COUNT] = {
    {"n_features", BTFM_PARAM_INT, 0, 0, 1e6,
     "Size K of the common space; 0 means automatic (hyperalignment: the reference "
     "subject's feature count; SRM: min(50, time points, smallest feature count))."},
    {"max_iter", BTFM_PARAM_INT, 1000, 1, 1e5,
     "Most SRM iterations (block coordinate descent or EM steps): a cap for fits that "
     "do not reach tol; btfm_aligner_fit_change reports where a fit stopped."},
    {"tol", BTFM_PARAM_REAL, 1e-6, 0, 1,
     "SRM stops when the objective changes by at most tol times its value (0: run "
     "max_iter iterations)."},
    {"seed", BTFM_PARAM_INT, 0, 0, 2147483647,
     "Seed of the SRM's random orthonormal initialization."},
    {"scaling", BTFM_PARAM_BOOL, 1, 0, 1,
     "Hyperalignment: let each Procrustes map scale as well as rotate."},
    {"reflection", BTFM_PARAM_BOOL, 1, 0, 1,
     "Hyperalignment: allow reflections (0 restricts full-rank maps to proper rotations)."},
    {"reference", BTFM_PARAM_INT, -1, -1, 1e6,
     "Hyperalignment: the subject whose space seeds the template; -1 picks the one with "
     "most features (the first of equals)."},
    {"level2_passes", BTFM_PARAM_INT, 1, 0, 1000,
     "Hyperalignment: passes of level 2 (each subject re-aligned to the mean of the "
     "others)."},
    {"alpha", BTFM_PARAM_REAL, 1, 0, 1,
     "Hyperalignment: regularized whitening, data times v diag(1/sqrt((1-alpha)s^2+alpha)) "
     "v^T; 1 leaves the data as is, 0 whitens fully."},
    {"zscore", BTFM_PARAM_BOOL, 1, 0, 1,
     "Z-score each subject's features over time before fitting (the means are always "
     "removed, at fit and at transform)."},
    {"num_threads", BTFM_PARAM_INT, 0, 0, 1024,
     "Threads during this aligner's calls: OpenBLAS's count (the process-wide setting is "
     "restored afterwards), and the subjects hyperalignment fits at once, each with "
     "single-threaded OpenBLAS; 0 leaves OpenBLAS's count as it is and uses it."},
};

const btfm_param_table btfm_aligner_param_table = {
    BTFM_OBJECT_ALIGNER, "aligner", ALIGNER_PARAM_COUNT, aligner_params,
};

static const char *const method_names[] = {
    [BTFM_ALIGN_HYPERALIGNMENT] = "hyperalignment",
    [BTFM_ALIGN_SRM] = "srm",
    [BTFM_ALIGN_PROBABILISTIC_SRM] = "probabilistic_srm",
};
#define METHOD_END ((int)(sizeof method_names / sizeof method_names[0]))

const char *btfm_align_method_name(int method)
{
    return method > 0 && method < METHOD_END ? method_names[method] : NULL;
}

btfm_status btfm_align_map_alloc(align_map *m, int64_t n_features, int64_t rank,
                            int64_t n_components)
{
    const char *where = "aligner: subject map";
    memset(m, 0, sizeof *m);
    m->n_features = n_features;
    m->rank = rank;
    m->mean = btfm_dense_zeros(n_features, 1, where);
    m->scale = btfm_dense_zeros(n_features, 1, where);
    m->a = btfm_dense_zeros(n_features, rank, where);
    m->b = btfm_dense_zeros(rank, n_components, where);
    m->offset = btfm_dense_zeros(n_components, 1, where);
    if (!m->mean || !m->scale || !m->a || !m->b || !m->offset) {
        btfm_align_map_clear(m);
        return BTFM_E_NOMEM;
    }
    for (int64_t f = 0; f < n_features; f++) m->scale[f] = 1.0;
    return BTFM_OK;
}

void btfm_align_map_clear(align_map *m)
{
    btfm_free(m->mean);
    btfm_free(m->scale);
    btfm_free(m->a);
    if (!m->b_shared) btfm_free(m->b);
    btfm_free(m->offset);
    memset(m, 0, sizeof *m);
}

btfm_status btfm_aligner_new(btfm_aligner **out, int method)
{
    BTFM_CHECK_ARG(out, "btfm_aligner_new", "out");
    *out = NULL;
    if (!btfm_align_method_name(method))
        return btfm_fail(BTFM_E_INVALID, "btfm_aligner_new: unknown method %d (expected %d "
                         "hyperalignment, %d srm or %d probabilistic_srm)", method,
                         BTFM_ALIGN_HYPERALIGNMENT, BTFM_ALIGN_SRM,
                         BTFM_ALIGN_PROBABILISTIC_SRM);
    btfm_aligner *a = btfm_calloc(1, sizeof *a);
    if (!a) return btfm_fail_nomem("btfm_aligner_new", sizeof *a);
    a->method = method;
    btfm_params_defaults(&btfm_aligner_param_table, a->params);
    *out = a;
    return BTFM_OK;
}

void btfm_aligner_free(btfm_aligner *a)
{
    if (!a) return;
    for (int i = 0; i < a->n_subjects; i++) {
        if (a->train) btfm_free(a->train[i]);
        if (a->maps) btfm_align_map_clear(&a->maps[i]);
    }
    btfm_free(a->train);
    btfm_free(a->maps);
    btfm_free(a->n_features);
    btfm_free(a->common);
    btfm_free(a->basis);
    btfm_free(a->history);
    btfm_free(a);
}

btfm_status btfm_aligner_set_param(btfm_aligner *a, int param, double value)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_set_param", "aligner");
    return btfm_params_set(&btfm_aligner_param_table, a->params, param, value,
                           "btfm_aligner_set_param");
}

btfm_status btfm_aligner_get_param(const btfm_aligner *a, int param, double *value)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_get_param", "aligner");
    return btfm_params_get(&btfm_aligner_param_table, a->params, param, value,
                           "btfm_aligner_get_param");
}

int btfm_aligner_method(const btfm_aligner *a)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_method", "aligner");
    return a->method;
}

int btfm_aligner_is_fitted(const btfm_aligner *a)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_is_fitted", "aligner");
    return a->fitted;
}

/* Room for one more subject in the per-subject arrays. */
btfm_status btfm_align_grow_subjects(btfm_aligner *a)
{
    if (a->n_subjects < a->capacity) return BTFM_OK;
    int cap = a->capacity ? 2 * a->capacity : 8;
    int64_t *nf = btfm_realloc(a->n_features, (size_t)cap * sizeof *nf);
    if (nf) a->n_features = nf;
    float **train = nf ? btfm_realloc(a->train, (size_t)cap * sizeof *train) : NULL;
    if (train) a->train = train;
    align_map *maps = train ? btfm_realloc(a->maps, (size_t)cap * sizeof *maps) : NULL;
    if (!maps) return btfm_fail_nomem("btfm_aligner_add_subject", (size_t)cap * sizeof *maps);
    a->maps = maps;
    for (int i = a->capacity; i < cap; i++) {
        a->train[i] = NULL;
        memset(&a->maps[i], 0, sizeof a->maps[i]);
    }
    a->capacity = cap;
    return BTFM_OK;
}

btfm_status btfm_align_append_maps(btfm_aligner *to, btfm_aligner *from)
{
    for (int i = 0; i < from->n_subjects; i++) {
        btfm_status st = btfm_align_grow_subjects(to);
        if (st) return st;
        const align_map *m = &from->maps[i];
        if (m->b_shared) { /* a map on the shared basis gets its own copy of it */
            double *b = btfm_dense_zeros(m->rank, from->n_components, "btfm_aligner");
            if (!b) return BTFM_E_NOMEM;
            memcpy(b, m->b, (size_t)(m->rank * from->n_components) * sizeof(double));
            from->maps[i].b = b;
            from->maps[i].b_shared = 0;
        }
        to->n_features[to->n_subjects] = from->n_features[i];
        to->train[to->n_subjects] = NULL;
        to->maps[to->n_subjects++] = from->maps[i];
        memset(&from->maps[i], 0, sizeof from->maps[i]);
    }
    from->n_subjects = 0;
    return BTFM_OK;
}

void btfm_align_swap(btfm_aligner *x, btfm_aligner *y)
{
    btfm_aligner t = *x;
    *x = *y;
    *y = t;
    /* the host's callback belongs to the handle, not to the fit it holds */
    y->progress_fn = x->progress_fn;
    y->progress_user = x->progress_user;
    x->progress_fn = t.progress_fn;
    x->progress_user = t.progress_user;
}

/* Whether x (n_times x n_features) is finite with no constant feature; the message
 * names the subject, the feature and the time point. */
static btfm_status check_subject_data(const float *x, int64_t n_times, int64_t n_features,
                                      int subject, const char *func)
{
    int64_t t, f;
    if (btfm_dense_find_nonfinite(x, n_times, n_features, n_features, &t, &f)) {
        char context[32];
        snprintf(context, sizeof context, "subject %d", subject);
        return btfm_dense_fail_nonfinite(func, context, "feature", f, "time point", t,
                                         x[t * n_features + f],
                                         "drop or interpolate bad samples first");
    }
    for (f = 0; f < n_features; f++) {
        t = 1;
        while (t < n_times && x[t * n_features + f] == x[f]) t++;
        if (t == n_times)
            return btfm_fail(BTFM_E_NUMERIC, "%s: subject %d: feature %lld is constant over "
                             "time (%g at every time point); remove constant features (for "
                             "fMRI, voxels outside the brain mask) before aligning", func,
                             subject, (long long)f, (double)x[f]);
    }
    return BTFM_OK;
}

btfm_status btfm_aligner_add_subject(btfm_aligner *a, const float *data, int64_t n_times,
                                     int64_t n_features)
{
    const char *func = "btfm_aligner_add_subject";
    BTFM_CHECK_ARG(a, func, "aligner");
    BTFM_CHECK_ARG(data, func, "data");
    const int subject = a->n_subjects;
    size_t count;
    if (n_times < 2 || n_features < 1 ||
        btfm_mul_size((size_t)n_times, (size_t)n_features, &count) ||
        count > SIZE_MAX / sizeof(float))
        return btfm_fail(BTFM_E_INVALID, "%s: subject %d: %lld time points x %lld features; "
                         "expected at least 2 time points and 1 feature", func, subject,
                         (long long)n_times, (long long)n_features);
    if (subject > 0 && n_times != a->n_times)
        return btfm_fail(BTFM_E_INVALID, "%s: subject %d has %lld time points but subject 0 "
                         "has %lld; every subject must cover the same shared stimulus", func,
                         subject, (long long)n_times, (long long)a->n_times);
    btfm_status st = check_subject_data(data, n_times, n_features, subject, func);
    if (st || (st = btfm_align_grow_subjects(a))) return st;
    a->n_times = n_times;
    a->n_features[subject] = n_features;
    if (!a->fitted) {
        float *copy = btfm_malloc(count * sizeof(float));
        if (!copy) return btfm_fail_nomem(func, count * sizeof(float));
        memcpy(copy, data, count * sizeof(float));
        a->train[subject] = copy;
        a->n_subjects++;
        return BTFM_OK;
    }
    int threads = btfm_align_threads_begin(a);
    btfm_scratch_begin();
    st = a->method == BTFM_ALIGN_HYPERALIGNMENT ? btfm_align_hyper_fit_subject(a, subject, data)
                                                : btfm_align_srm_fit_subject(a, subject, data);
    btfm_scratch_end();
    btfm_align_threads_restore(threads);
    if (st) {
        btfm_align_map_clear(&a->maps[subject]);
        return st;
    }
    a->n_subjects++;
    return BTFM_OK;
}

btfm_status btfm_align_combine(const btfm_aligner *a, double *values, int64_t n, align_op op,
                               btfm_status st)
{
    return a->reduce ? a->reduce->combine(a->reduce->ctx, values, n, op, st) : st;
}

int btfm_align_global_index(const btfm_aligner *a, int i)
{
    return a->reduce ? a->reduce->first + i : i;
}

int btfm_align_total_subjects(const btfm_aligner *a)
{
    return a->reduce ? a->reduce->n_total : a->n_subjects;
}

btfm_status btfm_aligner_fit(btfm_aligner *a)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_fit", "aligner");
    return btfm_align_fit_with(a, NULL);
}

btfm_status btfm_align_fit_with(btfm_aligner *a, const align_reduce *r)
{
    btfm_status st = BTFM_OK;
    if (a->fitted)
        st = btfm_fail(BTFM_E_STATE, "btfm_aligner_fit: already fitted; add further "
                       "subjects with btfm_aligner_add_subject, or start a new aligner");
    a->reduce = r;
    /* Room for the objective after each iteration (hyperalignment does not iterate); a
     * failure here joins the combination below, so that every process stops alike. */
    const int max_iter = (int)ALIGN_PARAM(a, MAX_ITER);
    double *history = NULL;
    if (!st && a->method != BTFM_ALIGN_HYPERALIGNMENT && max_iter >= 1 &&
        !(history = btfm_malloc((size_t)max_iter * sizeof *history)))
        st = btfm_fail_nomem("btfm_aligner_fit", (size_t)max_iter * sizeof *history);
    const int total = btfm_align_total_subjects(a);
    if (!st && total < 2)
        st = btfm_fail(BTFM_E_STATE, "btfm_aligner_fit: %d subject%s added; alignment "
                       "needs at least 2", total, total == 1 ? "" : "s");
    btfm_progress progress;
    if (!st) st = btfm_progress_start(&progress, a->progress_fn, a->progress_user,
                                      "alignment fit");
    /* Every process stops alike, also when one of them was cancelled at the start. */
    st = btfm_align_combine(a, NULL, 0, ALIGN_SUM, st);
    if (st) {
        a->reduce = NULL;
        btfm_free(history);
        return st;
    }
    btfm_free(a->history);
    a->history = history;
    a->n_history = 0;
    btfm_dense_check_kernels("aligner");
    int threads = btfm_align_threads_begin(a);
    btfm_scratch_begin();
    a->progress = &progress;
    switch (a->method) {
    case BTFM_ALIGN_HYPERALIGNMENT: st = btfm_align_fit_hyperalignment(a); break;
    case BTFM_ALIGN_SRM: st = btfm_align_fit_srm(a); break;
    default: st = btfm_align_fit_srm_prob(a); break;
    }
    a->progress = NULL;
    btfm_scratch_end();
    btfm_align_threads_restore(threads);
    a->reduce = NULL;
    /* A stop asked at the last report comes after the work: the fit is kept. */
    if (!st && btfm_progress_done(&progress, "alignment fit") == BTFM_E_CANCELLED)
        btfm_clear_error();
    if (st) {
        /* Nothing half-fitted: the maps go, the training copies stay for another try, as
         * they were (hyperalignment restores its own; the SRMs standardized them in
         * place with the means and scales in the maps, which a map that was never
         * prepared holds as 0 and 1). */
        for (int i = 0; a->method != BTFM_ALIGN_HYPERALIGNMENT && i < a->n_subjects; i++)
            if (a->maps[i].mean && a->maps[i].scale)
                btfm_hyper_unstandardize(a->train[i], a->n_times, a->n_features[i],
                                         a->maps[i].mean, a->maps[i].scale);
        for (int i = 0; i < a->n_subjects; i++) btfm_align_map_clear(&a->maps[i]);
        a->n_history = 0;
        btfm_free(a->common);
        btfm_free(a->basis);
        a->common = NULL;
        a->basis = NULL;
        a->n_components = 0;
        return st;
    }
    for (int i = 0; i < a->n_subjects; i++) {
        btfm_free(a->train[i]);
        a->train[i] = NULL;
    }
    a->fitted = 1;
    return BTFM_OK;
}

btfm_status btfm_aligner_set_progress(btfm_aligner *a, btfm_progress_fn fn, void *user)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_set_progress", "aligner");
    a->progress_fn = fn;
    a->progress_user = user;
    return BTFM_OK;
}

btfm_status btfm_aligner_n_subjects(const btfm_aligner *a, int *n_subjects)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_n_subjects", "aligner");
    BTFM_CHECK_ARG(n_subjects, "btfm_aligner_n_subjects", "n_subjects");
    *n_subjects = a->n_subjects;
    return BTFM_OK;
}

btfm_status btfm_aligner_n_times(const btfm_aligner *a, int64_t *n_times)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_n_times", "aligner");
    BTFM_CHECK_ARG(n_times, "btfm_aligner_n_times", "n_times");
    *n_times = a->n_times;
    return BTFM_OK;
}

static btfm_status require_fitted(const btfm_aligner *a, const char *func)
{
    if (!a->fitted)
        return btfm_fail(BTFM_E_STATE, "%s: the aligner is not fitted yet (call "
                         "btfm_aligner_fit first)", func);
    return BTFM_OK;
}

btfm_status btfm_aligner_n_components(const btfm_aligner *a, int64_t *n_components)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_n_components", "aligner");
    BTFM_CHECK_ARG(n_components, "btfm_aligner_n_components", "n_components");
    btfm_status st = require_fitted(a, "btfm_aligner_n_components");
    if (st) return st;
    *n_components = a->n_components;
    return BTFM_OK;
}

static btfm_status check_subject(const btfm_aligner *a, int subject, const char *func)
{
    if (subject < 0 || subject >= a->n_subjects)
        return btfm_fail(BTFM_E_RANGE, "%s: subject %d does not exist (the aligner has %d, "
                         "numbered from 0)", func, subject, a->n_subjects);
    return BTFM_OK;
}

btfm_status btfm_aligner_subject_features(const btfm_aligner *a, int subject,
                                          int64_t *n_features)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_subject_features", "aligner");
    BTFM_CHECK_ARG(n_features, "btfm_aligner_subject_features", "n_features");
    btfm_status st = check_subject(a, subject, "btfm_aligner_subject_features");
    if (st) return st;
    *n_features = a->n_features[subject];
    return BTFM_OK;
}

btfm_status btfm_aligner_fit_info(const btfm_aligner *a, int *iterations, double *objective)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_fit_info", "aligner");
    btfm_status st = require_fitted(a, "btfm_aligner_fit_info");
    if (st) return st;
    if (iterations) *iterations = a->iterations;
    if (objective) *objective = a->objective;
    return BTFM_OK;
}

btfm_status btfm_aligner_fit_change(const btfm_aligner *a, double *change)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_fit_change", "aligner");
    BTFM_CHECK_ARG(change, "btfm_aligner_fit_change", "change");
    btfm_status st = require_fitted(a, "btfm_aligner_fit_change");
    if (!st) *change = a->change;
    return st;
}

btfm_status btfm_aligner_fit_history(const btfm_aligner *a, double *out, size_t capacity,
                                     int *n_iterations)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_fit_history", "aligner");
    BTFM_CHECK_ARG(n_iterations, "btfm_aligner_fit_history", "n_iterations");
    btfm_status st = require_fitted(a, "btfm_aligner_fit_history");
    if (st) return st;
    *n_iterations = a->n_history;
    size_t n = (size_t)a->n_history < capacity ? (size_t)a->n_history : capacity;
    if (n) BTFM_CHECK_ARG(out, "btfm_aligner_fit_history", "out");
    for (size_t i = 0; i < n; i++) out[i] = a->history[i];
    return BTFM_OK;
}

btfm_status btfm_aligner_common(const btfm_aligner *a, float *out, size_t capacity)
{
    BTFM_CHECK_ARG(a, "btfm_aligner_common", "aligner");
    BTFM_CHECK_ARG(out, "btfm_aligner_common", "out");
    btfm_status st = require_fitted(a, "btfm_aligner_common");
    if (st) return st;
    size_t count = (size_t)(a->n_times * a->n_components);
    if (capacity < count)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_common: capacity %zu floats is less "
                         "than the %lld x %lld common time series", capacity,
                         (long long)a->n_times, (long long)a->n_components);
    for (size_t j = 0; j < count; j++) out[j] = (float)a->common[j];
    return BTFM_OK;
}

/* Shared argument checks of transform (inverse = 0) and inverse_transform (1): the
 * input has `width` columns, which must be the subject's features or the common size. */
static btfm_status check_map_call(const btfm_aligner *a, int subject, const void *in,
                                  int64_t n_times, int64_t width, int inverse, const void *out,
                                  const char *func)
{
    BTFM_CHECK_ARG(a, func, "aligner");
    BTFM_CHECK_ARG(in, func, "data");
    BTFM_CHECK_ARG(out, func, "out");
    btfm_status st = require_fitted(a, func);
    if (!st) st = check_subject(a, subject, func);
    if (st) return st;
    int64_t expected = inverse ? a->n_components : a->n_features[subject];
    if (width != expected)
        return btfm_fail(BTFM_E_INVALID, "%s: subject %d: %lld columns given but %s has %lld",
                         func, subject, (long long)width,
                         inverse ? "the common space" : "the subject", (long long)expected);
    if (n_times < 1 || (uint64_t)n_times > SIZE_MAX / 8 / (uint64_t)(width + 1) /
                                               (uint64_t)(a->n_features[subject] + 1))
        return btfm_fail(BTFM_E_INVALID, "%s: n_times = %lld; expected at least 1", func,
                         (long long)n_times);
    return BTFM_OK;
}

static btfm_status check_finite_rows(const float *x, int64_t rows, int64_t cols,
                                     const char *func)
{
    int64_t t, j;
    if (!btfm_dense_find_nonfinite(x, rows, cols, cols, &t, &j)) return BTFM_OK;
    return btfm_dense_fail_nonfinite(func, NULL, "column", j, "time point", t,
                                     x[t * cols + j], NULL);
}

btfm_status btfm_aligner_transform(const btfm_aligner *a, int subject, const float *data,
                                   int64_t n_times, int64_t n_features, float *out)
{
    const char *func = "btfm_aligner_transform";
    btfm_status st = check_map_call(a, subject, data, n_times, n_features, 0, out, func);
    if (st) return st;
    if ((st = check_finite_rows(data, n_times, n_features, func))) return st;
    const align_map *m = &a->maps[subject];
    const int64_t V = m->n_features, r = m->rank, K = a->n_components;
    /* Single precision products (the inputs and outputs are float): z a, then (z a) b. */
    float *z = btfm_malloc((size_t)(n_times * V) * sizeof(float));
    float *af = btfm_malloc((size_t)(V * r) * sizeof(float));
    float *bf = btfm_malloc((size_t)(r * K) * sizeof(float));
    float *za = btfm_malloc((size_t)(n_times * r) * sizeof(float));
    if (!z || !af || !bf || !za) {
        st = btfm_fail_nomem(func, (size_t)(n_times * V) * sizeof(float));
        goto done;
    }
    for (int64_t t = 0; t < n_times; t++)
        for (int64_t f = 0; f < V; f++)
            z[t * V + f] = (float)((data[t * V + f] - m->mean[f]) / m->scale[f]);
    for (int64_t j = 0; j < V * r; j++) af[j] = (float)m->a[j];
    for (int64_t j = 0; j < r * K; j++) bf[j] = (float)m->b[j];
    int threads = btfm_align_threads_begin(a);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n_times, (blasint)r,
                (blasint)V, 1.0f, z, (blasint)V, af, (blasint)r, 0.0f, za, (blasint)r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n_times, (blasint)K,
                (blasint)r, 1.0f, za, (blasint)r, bf, (blasint)K, 0.0f, out, (blasint)K);
    btfm_align_threads_restore(threads);
    for (int64_t t = 0; t < n_times; t++)
        for (int64_t k = 0; k < K; k++) out[t * K + k] += (float)m->offset[k];
done:
    btfm_free(z);
    btfm_free(af);
    btfm_free(bf);
    btfm_free(za);
    return st;
}

btfm_status btfm_aligner_inverse_transform(const btfm_aligner *a, int subject,
                                           const float *shared, int64_t n_times,
                                           int64_t n_components, float *out)
{
    const char *func = "btfm_aligner_inverse_transform";
    btfm_status st = check_map_call(a, subject, shared, n_times, n_components, 1, out, func);
    if (st) return st;
    if ((st = check_finite_rows(shared, n_times, n_components, func))) return st;
    const align_map *m = &a->maps[subject];
    const int64_t V = m->n_features, r = m->rank, K = a->n_components;
    /* The least-squares inverse of y = z a b + offset: b has orthonormal rows, so
     * z = (y - offset) b^T (a^T a)^-1 a^T (for SRM a^T a = I and this is y W^T). */
    double *y = btfm_dense_zeros(n_times, K, func);
    double *c = btfm_dense_zeros(n_times, r, func);
    double *gram = btfm_dense_zeros(r, r, func);
    double *z = btfm_dense_zeros(n_times, V, func);
    if (!y || !c || !gram || !z) { st = BTFM_E_NOMEM; goto done; }
    for (int64_t t = 0; t < n_times; t++)
        for (int64_t k = 0; k < K; k++) y[t * K + k] = shared[t * K + k] - m->offset[k];
    int threads = btfm_align_threads_begin(a);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n_times, (blasint)r,
                (blasint)K, 1.0, y, (blasint)K, m->b, (blasint)K, 0.0, c, (blasint)r);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)r, (blasint)V, 1.0, m->a,
                (blasint)r, 0.0, gram, (blasint)r);
    int info = btfm_dense_spd_solve_right(gram, r, c, n_times); /* c := c gram^-1 */
    btfm_align_threads_restore(threads);
    if (info != 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "%s: subject %d's map is singular (leading minor %d)",
                       func, subject, info);
        goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n_times, (blasint)V,
                (blasint)r, 1.0, c, (blasint)r, m->a, (blasint)r, 0.0, z, (blasint)V);
    for (int64_t t = 0; t < n_times; t++)
        for (int64_t f = 0; f < V; f++)
            out[t * V + f] = (float)(z[t * V + f] * m->scale[f] + m->mean[f]);
done:
    btfm_free(y);
    btfm_free(c);
    btfm_free(gram);
    btfm_free(z);
    return st;
}
