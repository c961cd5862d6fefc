/* Held-out predictions for encoding and decoding models: outer folds around the model's
 * own (inner) cross-validation, the design built once over every sample; and the
 * permutation test of a decoder's held-out score (Ojala & Garriga 2010), ridge fitting
 * every permutation at once as extra targets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model_internal.h"
#include "core/random.h"
#include "dense/dense.h"

/* A model with m's settings for one outer training set: the same type, parameters, grid
 * and bands; no delays, HRF or aligner (the design is already built); weights, groups and
 * explicit folds restricted to `rows`, the folds renumbered in order of appearance. */
static btfm_status inner_model(const btfm_model *m, const int64_t *rows, int64_t n_rows,
                               int64_t width, int per_target, btfm_model **out,
                               const char *func)
{
    btfm_model *in;
    btfm_status st = btfm_model_new(&in, m->type);
    if (st) return st;
    for (int k = 0; k < MODEL_PARAM_COUNT && !st; k++) st = btfm_model_set_param(in, k, m->params[k]);
    if (!st) st = btfm_model_set_param(in, BTFM_MODEL_PARAM_HRF, 0);
    if (!st && per_target) st = btfm_model_set_param(in, BTFM_MODEL_PARAM_ALPHA_PER_TARGET, 1);
    if (!st) st = btfm_model_set_alphas(in, m->alphas, m->n_alphas);
    if (!st && m->band_draws)
        st = btfm_model_set_band_weights(in, m->band_draws, m->n_draws, m->n_draw_bands);
    int32_t *band = NULL, *folds = NULL;
    int64_t *groups = NULL;
    double *weights = NULL;
    if (!st && m->bands) {
        /* per design column: bands given per input feature repeat over the delays */
        const int64_t base = m->n_band_entries == width ? width : m->n_band_entries;
        if (!(band = btfm_malloc((size_t)width * sizeof *band))) st = btfm_fail_nomem(func, 4);
        for (int64_t k = 0; !st && k < width; k++) band[k] = m->bands[k % base];
        if (!st) st = btfm_model_set_bands(in, band, width);
    }
    if (!st && m->weights) {
        if (!(weights = btfm_model_doubles((size_t)n_rows, func))) st = BTFM_E_NOMEM;
        for (int64_t r = 0; !st && r < n_rows; r++) weights[r] = m->weights[rows[r]];
        if (!st) st = btfm_model_set_sample_weight(in, weights, n_rows);
    }
    if (!st && m->groups) {
        if (!(groups = btfm_malloc((size_t)n_rows * sizeof *groups))) st = btfm_fail_nomem(func, 8);
        for (int64_t r = 0; !st && r < n_rows; r++) groups[r] = m->groups[rows[r]];
        if (!st) st = btfm_model_set_groups(in, groups, n_rows);
    }
    if (!st && m->folds) {
        int32_t max = -1;
        for (int64_t i = 0; i < m->n_folds; i++) max = m->folds[i] > max ? m->folds[i] : max;
        int32_t *renumber = btfm_malloc(((size_t)max + 2) * sizeof *renumber);
        folds = btfm_malloc((size_t)n_rows * sizeof *folds);
        if (!renumber || !folds) st = btfm_fail_nomem(func, (size_t)n_rows * sizeof *folds);
        int32_t next = 0;
        for (int32_t k = 0; !st && k <= max; k++) renumber[k] = -1;
        for (int64_t r = 0; !st && r < n_rows; r++) {
            const int32_t f = m->folds[rows[r]];
            if (f >= 0 && renumber[f] < 0) renumber[f] = next++;
            folds[r] = f < 0 ? -1 : renumber[f];
        }
        if (!st) st = btfm_model_set_folds(in, folds, n_rows);
        btfm_free(renumber);
    }
    btfm_free(band);
    btfm_free(folds);
    btfm_free(groups);
    btfm_free(weights);
    if (st) {
        btfm_model_free(in);
        return st;
    }
    *out = in;
    return BTFM_OK;
}

/* Rows of a float matrix (cols wide) gathered into out. */
static void gather(const float *src, int64_t cols, const int64_t *rows, int64_t count, float *out)
{
    for (int64_t r = 0; r < count; r++)
        memcpy(out + r * cols, src + rows[r] * cols, (size_t)cols * sizeof *out);
}

/* Classes of a logistic target column: whole numbers 0 .. K-1. */
static btfm_status class_labels(const float *y, int64_t n, int32_t *labels, int *classes,
                                const char *func)
{
    int32_t max = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(y[i] >= 0 && y[i] < 100000 && y[i] == floorf(y[i])))
            return btfm_fail(BTFM_E_INVALID, "%s: y[%lld] is %g; a logistic model decodes "
                             "classes 0 .. K - 1", func, (long long)i, y[i]);
        labels[i] = (int32_t)y[i];
        max = labels[i] > max ? labels[i] : max;
    }
    *classes = max + 1;
    return BTFM_OK;
}

static btfm_status cross_predict(const btfm_model *m, float *out, const float *x, int64_t n,
                                 int64_t p, const float *y, int64_t t, int n_outer,
                                 int per_target, const char *func)
{
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(x, func, "x");
    BTFM_CHECK_ARG(y, func, "y");
    const int logistic = m->type == BTFM_MODEL_LOGISTIC;
    if (m->type == BTFM_MODEL_BRADLEY_TERRY)
        return btfm_fail(BTFM_E_STATE, "%s: Bradley-Terry models compare pairs; "
                         "cross-validate them with the model's own cv", func);
    if (n < 2 || p < 1 || t < 1 || (logistic && t != 1))
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples, %lld features, %lld targets; "
                         "expected at least 2 samples%s", func, (long long)n, (long long)p,
                         (long long)t, logistic ? " and one column of classes" : "");
    if (n_outer == 1 || n_outer < 0 || (n_outer == 0 && !m->groups))
        return btfm_fail(BTFM_E_INVALID, "%s: n_outer is %d; expected >= 2 folds, or 0 with "
                         "groups (one fold per group)", func, n_outer);
    if ((m->weights && m->n_weights != n) || (m->groups && m->n_groups != n) ||
        (m->folds && m->n_folds != n))
        return btfm_fail(BTFM_E_INVALID, "%s: the model's weights, groups or folds were given "
                         "for another number of samples than %lld", func, (long long)n);
    btfm_status st = btfm_model_check_finite(y, n, t, "y", func);
    int32_t *labels = NULL;
    int K = 0;
    if (!st && logistic) {
        labels = btfm_malloc((size_t)n * sizeof *labels);
        st = labels ? class_labels(y, n, labels, &K, func) : btfm_fail_nomem(func, 4 * (size_t)n);
    }
    const model_input in = btfm_model_settings_input(m);
    const float *design = NULL;
    float *owned = NULL;
    int64_t width = 0;
    if (!st) st = btfm_model_design(x, n, p, &in, m->groups, &design, &owned, &width, func);
    /* The outer folds: the splits of a model with cv = n_outer (or groups) and m's gap. */
    btfm_model *outer = NULL;
    model_splits s = {0};
    if (!st) st = btfm_model_new(&outer, BTFM_MODEL_RIDGE);
    if (!st) st = btfm_model_set_param(outer, BTFM_MODEL_PARAM_CV, n_outer ? n_outer : 1);
    if (!st) st = btfm_model_set_param(outer, BTFM_MODEL_PARAM_GAP, MODEL_PARAM(m, GAP));
    if (!st && !n_outer) st = btfm_model_set_groups(outer, m->groups, n);
    if (!st) st = btfm_model_make_splits(outer, n, 0, 1, &s, func);
    const int64_t width_out = logistic ? K : t;
    int64_t *rows = st ? NULL : btfm_malloc((size_t)n * sizeof *rows);
    float *dx = st ? NULL : btfm_dense_zeros_f(n, width, func);
    float *dy = st ? NULL : btfm_dense_zeros_f(n, t, func);
    float *po = st ? NULL : btfm_dense_zeros_f(n, width_out, func);
    int32_t *lab = st ? NULL : btfm_malloc((size_t)n * sizeof *lab);
    if (!st && (!rows || !dx || !dy || !po || !lab)) st = btfm_fail_nomem(func, (size_t)n * 8);
    btfm_progress progress;
    if (!st) st = btfm_progress_start(&progress, m->progress, m->progress_user, "folds");
    for (int f = 0; f < s.n_folds && !st; f++) {
        int64_t n_tr = 0;
        for (int64_t i = 0; i < n; i++)
            if (btfm_model_in_train(&s, f, i)) rows[n_tr++] = i;
        btfm_model *inner;
        st = inner_model(m, rows, n_tr, width, per_target, &inner, func);
        if (st) break;
        gather(design, width, rows, n_tr, dx);
        if (logistic) {
            for (int64_t r = 0; r < n_tr; r++) lab[r] = labels[rows[r]];
            st = btfm_model_fit_classes(inner, dx, n_tr, width, lab);
            if (!st && btfm_model_n_classes(inner) != K)
                st = btfm_fail(BTFM_E_INVALID, "%s: outer fold %d's training set lacks class "
                               "%d; use folds that keep every class", func, f, K - 1);
        } else {
            gather(y, t, rows, n_tr, dy);
            st = btfm_model_fit(inner, dx, n_tr, width, dy, t);
        }
        const int64_t *test = s.test + s.test_start[f], n_te = s.test_start[f + 1] - s.test_start[f];
        if (!st) {
            gather(design, width, test, n_te, dx);
            st = logistic ? btfm_model_predict_proba(inner, po, dx, n_te, width)
                          : btfm_model_predict(inner, po, dx, n_te, width);
        }
        for (int64_t r = 0; !st && r < n_te; r++)
            memcpy(out + test[r] * width_out, po + r * width_out, (size_t)width_out * sizeof *out);
        btfm_model_free(inner);
        if (!st) st = btfm_progress_update(&progress, "folds", (f + 1.0) / s.n_folds);
    }
    btfm_free(rows);
    btfm_free(dx);
    btfm_free(dy);
    btfm_free(po);
    btfm_free(lab);
    btfm_free(labels);
    btfm_free(owned);
    btfm_model_splits_clear(&s);
    btfm_model_free(outer);
    return st;
}

btfm_status btfm_model_cross_predict(const btfm_model *m, float *out, const float *x,
                                     int64_t n_samples, int64_t n_features, const float *y,
                                     int64_t n_targets, int n_outer)
{
    return cross_predict(m, out, x, n_samples, n_features, y, n_targets, n_outer, 0,
                         "btfm_model_cross_predict");
}

typedef struct keyed {
    int64_t group, index;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* perm := a seeded permutation of 0 .. n-1 (Fisher-Yates over splitmix64), within each
 * group when groups is not NULL: sample i takes the value of sample perm[i]. `work` holds
 * n entries. */
static void permute(int64_t *perm, int64_t n, const int64_t *groups, keyed *work,
                    uint64_t *state)
{
    for (int64_t i = 0; i < n; i++) work[i] = (keyed){groups ? groups[i] : 0, i};
    if (groups) qsort(work, (size_t)n, sizeof *work, cmp_keyed);
    for (int64_t i = 0; i < n; i++) perm[i] = work[i].index; /* values, shuffled per block */
    for (int64_t start = 0; start < n;) {
        int64_t end = start + 1;
        while (end < n && work[end].group == work[start].group) end++;
        for (int64_t i = end - 1; i > start; i--) {
            int64_t j = start + (int64_t)(btfm_splitmix64(state) % (uint64_t)(i - start + 1));
            int64_t tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        start = end;
    }
    /* position work[k].index receives value perm[k]: reorder through the keys */
    for (int64_t k = 0; k < n; k++) work[k].group = perm[k];
    for (int64_t k = 0; k < n; k++) perm[work[k].index] = work[k].group;
}

btfm_status btfm_model_permutation_test(const btfm_model *m, double *score, double *p_value,
                                        double *null, const float *x, int64_t n, int64_t p,
                                        const float *y, int n_outer, int n_permutations)
{
    const char *func = "btfm_model_permutation_test";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(score, func, "score");
    BTFM_CHECK_ARG(p_value, func, "p_value");
    BTFM_CHECK_ARG(y, func, "y");
    if (n_permutations < 1 || n_permutations > 1000000)
        return btfm_fail(BTFM_E_INVALID, "%s: n_permutations is %d; expected 1 to 10^6", func,
                         n_permutations);
    if (n < 2) return btfm_fail(BTFM_E_INVALID, "%s: n_samples is %lld", func, (long long)n);
    const int logistic = m->type == BTFM_MODEL_LOGISTIC;
    int kind = (int)MODEL_PARAM(m, SCORING);
    if (kind == BTFM_SCORE_DEFAULT) kind = logistic ? BTFM_SCORE_ACCURACY : BTFM_SCORE_R2;
    if (logistic && kind != BTFM_SCORE_ACCURACY)
        return btfm_fail(BTFM_E_INVALID, "%s: a logistic decoder is tested by accuracy", func);
    const int64_t P = n_permutations, cols = logistic ? 1 : 1 + P;
    float *Y = btfm_dense_zeros_f(n, cols, func);
    int64_t *perm = btfm_malloc((size_t)n * sizeof *perm);
    keyed *work = btfm_malloc((size_t)n * sizeof *work);
    double *scores = btfm_model_doubles((size_t)(1 + P), func);
    float *pred = NULL;
    btfm_status st = Y && perm && work && scores ? BTFM_OK : btfm_fail_nomem(func, (size_t)n * 16);
    uint64_t state = (uint64_t)MODEL_PARAM(m, SEED) ^ 0x7065726d75746521ULL;
    if (!st && !logistic) {
        /* Every permutation is one more target of a single ridge fit. */
        for (int64_t k = 0; k <= P; k++) {
            if (k) permute(perm, n, m->groups, work, &state);
            for (int64_t i = 0; i < n; i++) Y[i * cols + k] = y[k ? perm[i] : i];
        }
        if (!(pred = btfm_dense_zeros_f(n, cols, func))) st = BTFM_E_NOMEM;
        if (!st) st = cross_predict(m, pred, x, n, p, Y, cols, n_outer, 1, func);
        if (!st) st = btfm_model_score_columns(scores, kind, Y, pred, n, cols);
    }
    for (int64_t k = 0; !st && logistic && k <= P; k++) {
        if (k) permute(perm, n, m->groups, work, &state);
        for (int64_t i = 0; i < n; i++) Y[i] = y[k ? perm[i] : i];
        int K = 0;
        for (int64_t i = 0; i < n; i++) K = Y[i] + 1 > K ? (int)Y[i] + 1 : K;
        btfm_free(pred);
        if (!(pred = btfm_dense_zeros_f(n, K > 0 ? K : 1, func))) st = BTFM_E_NOMEM;
        if (!st) st = cross_predict(m, pred, x, n, p, Y, 1, n_outer, 0, func);
        double correct = 0;
        for (int64_t i = 0; !st && i < n; i++) {
            int best = 0;
            for (int c = 1; c < K; c++)
                if (pred[i * K + c] > pred[i * K + best]) best = c;
            correct += best == (int)Y[i];
        }
        scores[k] = correct / (double)n;
    }
    if (!st) {
        int64_t above = 0;
        for (int64_t k = 1; k <= P; k++) above += scores[k] >= scores[0];
        *score = scores[0];
        *p_value = (1.0 + (double)above) / (1.0 + (double)P);
        if (null) memcpy(null, scores + 1, (size_t)P * sizeof *null);
    }
    btfm_free(Y);
    btfm_free(perm);
    btfm_free(work);
    btfm_free(scores);
    btfm_free(pred);
    return st;
}
