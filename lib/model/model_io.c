/* Saving and loading a fitted model through the model container (kind "model"): the
 * parameters, the grid and every fitted array by name; a load checks each array's type,
 * shape and values against the header before anything is handed out. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <btfm/aligner.h>
#include <btfm/container.h>
#include "model_internal.h"
#include "dense/dense.h"
#include "core/persist.h"

#define MODEL_KIND "model"
#define MODEL_LAYOUT 1 /* version of the array layout below */
#define HEADER_COUNT 10
#define DIMS_COUNT 8

/* One fitted array: its name, element type, element count and place in the fit. */
typedef struct array_spec {
    const char *name;
    int dtype;
    size_t count;
    void **data;
} array_spec;

/* The arrays a fit of this shape has (count 0: absent). */
static int array_specs(model_fit *f, array_spec *specs)
{
    const size_t P = (size_t)f->n_coef, t = (size_t)f->n_outputs, nt = (size_t)f->n_train;
    const size_t r = (size_t)f->rank, np = (size_t)f->n_par;
    int k = 0;
    specs[k++] = (array_spec){"coef", BTFM_DTYPE_F32, f->n_train ? 0 : P * t, (void **)&f->coef};
    specs[k++] = (array_spec){"train", BTFM_DTYPE_F64, nt * P, (void **)&f->train};
    specs[k++] = (array_spec){"dual", BTFM_DTYPE_F64, nt * t, (void **)&f->dual};
    specs[k++] = (array_spec){"intercept", BTFM_DTYPE_F64, t, (void **)&f->intercept};
    specs[k++] = (array_spec){"alpha", BTFM_DTYPE_F64, t, (void **)&f->alpha};
    specs[k++] = (array_spec){"cv_scores", BTFM_DTYPE_F64,
                              (size_t)f->n_cv_alphas * (size_t)btfm_model_cv_columns(f),
                              (void **)&f->cv_scores};
    specs[k++] = (array_spec){"delays", BTFM_DTYPE_I32, (size_t)f->n_delays, (void **)&f->delays};
    specs[k++] = (array_spec){"center", BTFM_DTYPE_F64, P, (void **)&f->center};
    specs[k++] = (array_spec){"scale", BTFM_DTYPE_F64, P, (void **)&f->scale};
    specs[k++] = (array_spec){"basis", BTFM_DTYPE_F64, P * r, (void **)&f->basis};
    specs[k++] = (array_spec){"eig", BTFM_DTYPE_F64, r, (void **)&f->eig};
    specs[k++] = (array_spec){"noise_var", BTFM_DTYPE_F64, t, (void **)&f->noise_var};
    specs[k++] = (array_spec){"cov", BTFM_DTYPE_F64, t * np * np, (void **)&f->cov};
    specs[k++] = (array_spec){"band", BTFM_DTYPE_I32, f->n_bands ? P : 0, (void **)&f->band};
    specs[k++] = (array_spec){"band_weights", BTFM_DTYPE_F64, (size_t)f->n_bands * t,
                              (void **)&f->band_weights};
    specs[k++] = (array_spec){"noise_factor", BTFM_DTYPE_F64, t * (size_t)f->noise_rank,
                              (void **)&f->noise_factor};
    specs[k++] = (array_spec){"noise_diag", BTFM_DTYPE_F64, f->noise_rank ? t : 0,
                              (void **)&f->noise_diag};
    return k;
}

static btfm_status to_container(const void *obj, btfm_container **out, const char *func)
{
    const btfm_model *m = obj;
    if (!m->fit) return btfm_fail(BTFM_E_STATE, "%s: only a fitted model can be saved", func);
    model_fit *f = m->fit;
    btfm_container *c;
    btfm_status st = btfm_container_new(&c, MODEL_KIND);
    if (st) return st;
    const int32_t header[HEADER_COUNT] = {MODEL_LAYOUT, f->type, f->n_classes, f->items,
                                          f->n_delays, f->hrf, f->ties, f->n_bands,
                                          f->aligner != NULL, f->aligner_subject};
    const int64_t dims[DIMS_COUNT] = {f->n_features, f->n_coef, f->n_outputs, f->n_train,
                                      f->rank, f->n_par, f->n_cv_alphas, f->noise_rank};
    const double scalars[3] = {f->t_r, f->sum_weights, f->tie};
    const int64_t hn = HEADER_COUNT, dn = DIMS_COUNT, pn = MODEL_PARAM_COUNT, sn = 3;
    const int64_t an = m->n_alphas;
    st = btfm_container_put(c, "header", BTFM_DTYPE_I32, 1, &hn, header);
    if (!st) st = btfm_container_put(c, "dims", BTFM_DTYPE_I64, 1, &dn, dims);
    if (!st) st = btfm_container_put(c, "params", BTFM_DTYPE_F64, 1, &pn, m->params);
    if (!st) st = btfm_container_put(c, "scalars", BTFM_DTYPE_F64, 1, &sn, scalars);
    if (!st) st = btfm_container_put(c, "alphas", BTFM_DTYPE_F64, 1, &an, m->alphas);
    array_spec specs[20];
    const int n_specs = array_specs(f, specs);
    for (int k = 0; k < n_specs && !st; k++) {
        if (!specs[k].count) continue;
        const int64_t shape = (int64_t)specs[k].count;
        st = btfm_container_put(c, specs[k].name, specs[k].dtype, 1, &shape, *specs[k].data);
    }
    if (!st && f->aligner) {
        /* The aligner of a translation, as the bytes btfm_aligner_save_buffer writes. */
        size_t size;
        void *bytes = NULL;
        st = btfm_aligner_save_buffer(f->aligner, NULL, 0, &size);
        if (!st && !(bytes = btfm_malloc(size))) st = btfm_fail_nomem(func, size);
        if (!st) st = btfm_aligner_save_buffer(f->aligner, bytes, size, &size);
        const int64_t shape = (int64_t)size;
        if (!st) st = btfm_container_put(c, "aligner", BTFM_DTYPE_U8, 1, &shape, bytes);
        btfm_free(bytes);
    }
    if (st) {
        btfm_container_free(c);
        return st;
    }
    *out = c;
    return BTFM_OK;
}

static btfm_status bad(const char *what, const char *expected)
{
    return btfm_fail(BTFM_E_FORMAT, "btfm_model_load: %s; expected %s", what, expected);
}

/* The header and dimensions must describe a fit this library can hold. */
static btfm_status check_header(const int32_t *h, const int64_t *d)
{
    char what[160];
    if (h[0] != MODEL_LAYOUT)
        return btfm_fail(BTFM_E_VERSION, "btfm_model_load: model layout %d; this library "
                         "reads layout %d", (int)h[0], MODEL_LAYOUT);
    if (!btfm_model_type_name(h[1])) {
        snprintf(what, sizeof what, "type %d", (int)h[1]);
        return bad(what, "1 to 4");
    }
    const int64_t limit = (int64_t)1 << 40;
    for (int k = 0; k < DIMS_COUNT; k++)
        if (d[k] < 0 || d[k] > limit || (k < 3 && d[k] < 1)) {
            snprintf(what, sizeof what, "dimension %d is %lld", k, (long long)d[k]);
            return bad(what, "a count within 1 .. 2^40");
        }
    if (h[4] < 0 || h[4] > 1000 || (!h[8] && d[1] != d[0] * (h[4] ? h[4] : 1)) ||
        (h[8] && d[1] % (h[4] ? h[4] : 1) != 0)) {
        snprintf(what, sizeof what, "%lld coefficient rows for %lld features and %d delays",
                 (long long)d[1], (long long)d[0], (int)h[4]);
        return bad(what, "rows = features x delays");
    }
    if (h[1] == BTFM_MODEL_LOGISTIC && (h[2] < 2 || d[2] != (h[2] == 2 ? 1 : h[2]))) {
        snprintf(what, sizeof what, "%d classes with %lld outputs", (int)h[2], (long long)d[2]);
        return bad(what, "2 classes with 1 output or K > 2 classes with K");
    }
    if (h[5] < 0 || h[5] > 1 || h[3] < 0 || h[3] > 1 || h[6] < 0 || h[6] > 2 || h[7] < 0 ||
        h[7] > 4096 || (h[1] == BTFM_MODEL_BANDED_RIDGE) != (h[7] > 0)) {
        snprintf(what, sizeof what, "flags hrf %d, items %d, ties %d, bands %d", (int)h[5],
                 (int)h[3], (int)h[6], (int)h[7]);
        return bad(what, "hrf and items 0 or 1, ties 0 to 2, bands only for banded ridge");
    }
    if (d[3] && d[4] > d[3]) return bad("a basis wider than the training samples", "rank <= n");
    if (h[8] < 0 || h[8] > 1 || h[9] < 0 || d[7] > d[2])
        return bad("an aligner flag, subject or noise rank out of range",
                   "0 or 1, a subject >= 0, a rank <= the targets");
    if (d[4] > d[1]) return bad("a basis wider than the coefficients", "rank <= n_coef");
    return BTFM_OK;
}

/* Values the fit relies on. */
static btfm_status check_values(const model_fit *f)
{
    const int64_t P = f->n_coef, t = f->n_outputs;
    for (int64_t j = 0; j < t; j++)
        if (!(f->alpha[j] >= 0) || !isfinite(f->alpha[j]) || !isfinite(f->intercept[j]))
            return bad("a non-finite or negative alpha or intercept", "finite values");
    for (int64_t k = 0; k < P; k++)
        if (!(f->scale[k] > 0) || !isfinite(f->scale[k]) || !isfinite(f->center[k]))
            return bad("a scale that is not positive and finite", "positive scales");
    for (int64_t k = 0; k < f->rank; k++)
        if (!(f->eig[k] >= 0) || !isfinite(f->eig[k]))
            return bad("a negative or non-finite eigenvalue", "eigenvalues >= 0");
    for (int64_t j = 0; j < t; j++)
        if (!(f->noise_var[j] >= 0) || !isfinite(f->noise_var[j]))
            return bad("a negative noise variance", "variances >= 0");
    for (int d = 0; d < f->n_delays; d++)
        if (f->delays[d] <= -1000000 || f->delays[d] >= 1000000)
            return bad("a delay of a million samples or more", "|delay| < 10^6");
    for (int64_t k = 0; f->band && k < P; k++)
        if (f->band[k] < 0 || f->band[k] >= f->n_bands)
            return bad("a band index outside the bands", "0 .. n_bands - 1");
    if (f->hrf && !(f->t_r > 0)) return bad("the HRF without a repetition time", "t_r > 0");
    for (int64_t j = 0; f->noise_diag && j < t; j++)
        if (!(f->noise_diag[j] >= 0) || !isfinite(f->noise_diag[j]))
            return bad("a negative noise variance", "variances >= 0");
    if (f->coef && btfm_dense_any_nonfinite(f->coef, (size_t)(P * t)))
        return bad("non-finite coefficients", "finite values");
    const double *checked[] = {f->train, f->dual, f->basis, f->cov, f->band_weights,
                               f->noise_factor};
    const size_t counts[] = {(size_t)(f->n_train * P), (size_t)(f->n_train * t),
                             (size_t)(P * f->rank), (size_t)(t * f->n_par * f->n_par),
                             (size_t)(f->n_bands * t), (size_t)(t * f->noise_rank)};
    for (int k = 0; k < 6; k++)
        if (checked[k] && btfm_dense_any_nonfinite_d(checked[k], counts[k]))
            return bad("non-finite fitted values", "finite values");
    return BTFM_OK;
}

/* The translation's aligner: it must map the recorded subject's features into as many
 * components as the coefficients have rows per delay. */
static btfm_status load_aligner(const btfm_container *c, model_fit *f)
{
    int index, dtype, ndim;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    const void *data;
    size_t nbytes;
    btfm_status st = btfm_container_find(c, "aligner", &index);
    if (!st) st = btfm_container_array_info(c, index, NULL, &dtype, &ndim, shape);
    if (!st && (dtype != BTFM_DTYPE_U8 || ndim != 1)) st = bad("an aligner that is not bytes", "u8");
    if (!st) st = btfm_container_array_data(c, index, &data, &nbytes);
    if (!st) st = btfm_aligner_load_buffer(&f->aligner, data, nbytes);
    if (st) return st;
    int n_subjects;
    int64_t features, components;
    st = btfm_aligner_n_subjects(f->aligner, &n_subjects);
    if (!st && f->aligner_subject >= n_subjects)
        return bad("an aligner without the recorded subject", "the subject of the fit");
    if (!st) st = btfm_aligner_subject_features(f->aligner, f->aligner_subject, &features);
    if (!st) st = btfm_aligner_n_components(f->aligner, &components);
    if (!st && (features != f->n_features ||
                components * (f->n_delays ? f->n_delays : 1) != f->n_coef))
        return bad("an aligner whose shape does not match the coefficients",
                   "the subject's features in, one row per component and delay out");
    return st;
}

static btfm_status from_container(const btfm_container *c, void **out, const char *func)
{
    (void)func; /* messages name btfm_model_load for both loads */
    int32_t h[HEADER_COUNT];
    int64_t d[DIMS_COUNT];
    double params[MODEL_PARAM_COUNT], scalars[3];
    btfm_status st = btfm_container_get(c, "header", BTFM_DTYPE_I32, HEADER_COUNT, h);
    if (!st) st = btfm_container_get(c, "dims", BTFM_DTYPE_I64, DIMS_COUNT, d);
    /* Files of earlier releases have fewer parameters: the rest keep their defaults. */
    int index = 0, dtype = 0, ndim = 0;
    int64_t shape[BTFM_CONTAINER_MAX_NDIM];
    if (!st) st = btfm_container_find(c, "params", &index);
    if (!st) st = btfm_container_array_info(c, index, NULL, &dtype, &ndim, shape);
    if (!st && (ndim != 1 || shape[0] < 17 || shape[0] > MODEL_PARAM_COUNT))
        st = bad("a params array of another shape", "17 to 18 parameters (one per "
                 "btfm_model_param)");
    const int n_params = st ? 0 : (int)shape[0];
    if (!st) st = btfm_container_get(c, "params", BTFM_DTYPE_F64, (size_t)n_params, params);
    if (!st) st = btfm_container_get(c, "scalars", BTFM_DTYPE_F64, 3, scalars);
    if (!st) st = check_header(h, d);
    if (st) return st;
    btfm_model *m;
    if ((st = btfm_model_new(&m, h[1]))) return st;
    for (int p = 0; p < n_params && !st; p++)
        st = btfm_model_set_param(m, p, params[p]);
    if (!st) st = btfm_container_find(c, "alphas", &index);
    if (!st) st = btfm_container_array_info(c, index, NULL, &dtype, &ndim, shape);
    if (!st && (dtype != BTFM_DTYPE_F64 || ndim != 1 || shape[0] < 1 || shape[0] > 100000))
        st = bad("an alphas array that is not 1 to 100000 doubles", "the grid");
    if (!st) {
        double *grid = btfm_model_doubles((size_t)shape[0], "btfm_model_load");
        st = grid ? btfm_container_get(c, "alphas", BTFM_DTYPE_F64, (size_t)shape[0], grid)
                  : BTFM_E_NOMEM;
        if (!st) st = btfm_model_set_alphas(m, grid, (int)shape[0]);
        btfm_free(grid);
    }
    model_fit *f = st ? NULL : btfm_calloc(1, sizeof *f);
    if (!st && !f) st = btfm_fail_nomem("btfm_model_load", sizeof *f);
    if (!st) {
        *f = (model_fit){.type = h[1], .n_classes = h[2], .items = h[3], .n_delays = h[4],
                         .hrf = h[5], .ties = h[6], .n_bands = h[7], .aligner_subject = h[9],
                         .n_features = d[0], .n_coef = d[1], .n_outputs = d[2],
                         .n_train = d[3], .rank = d[4], .n_par = d[5],
                         .n_cv_alphas = (int)d[6], .noise_rank = d[7], .t_r = scalars[0],
                         .sum_weights = scalars[1], .tie = scalars[2]};
        m->fit = f;
        array_spec specs[20];
        const int n_specs = array_specs(f, specs);
        for (int k = 0; k < n_specs && !st; k++) {
            const size_t size = btfm_dtype_size(specs[k].dtype), count = specs[k].count;
            if (!count) continue;
            void *p = btfm_malloc(count * size);
            if (!p) {
                st = btfm_fail_nomem("btfm_model_load", count * size);
                break;
            }
            *specs[k].data = p;
            st = btfm_container_get(c, specs[k].name, specs[k].dtype, count, p);
        }
        if (!st && (!f->intercept || !f->alpha || !f->center || !f->scale ||
                    (!f->coef && !f->n_train)))
            st = bad("a fit without its coefficients, intercepts, alphas or scales",
                     "every array of the fit");
        if (!st) st = check_values(f);
        if (!st && h[8]) st = load_aligner(c, f);
    }
    if (!st && f->cv_scores == NULL) f->n_cv_alphas = 0;
    if (st) {
        btfm_model_free(m);
        return st;
    }
    *out = m;
    return BTFM_OK;
}

static const btfm_persist_ops model_persist = {MODEL_KIND, "model", to_container, from_container};

btfm_status btfm_model_save(const btfm_model *m, const char *path)
{
    return btfm_persist_save(&model_persist, m, path, "btfm_model_save");
}

btfm_status btfm_model_save_buffer(const btfm_model *m, void *buffer, size_t capacity,
                                  size_t *written)
{
    return btfm_persist_save_buffer(&model_persist, m, buffer, capacity, written,
                                    "btfm_model_save_buffer");
}

btfm_status btfm_model_load(btfm_model **out, const char *path)
{
    BTFM_CHECK_ARG(out, "btfm_model_load", "out");
    void *m;
    btfm_status st = btfm_persist_load(&model_persist, &m, path, "btfm_model_load");
    *out = m;
    return st;
}

btfm_status btfm_model_load_buffer(btfm_model **out, const void *buffer, size_t size)
{
    BTFM_CHECK_ARG(out, "btfm_model_load_buffer", "out");
    void *m;
    btfm_status st = btfm_persist_load_buffer(&model_persist, &m, buffer, size,
                                              "btfm_model_load_buffer");
    *out = m;
    return st;
}
