/* The other direction: an encoding model from a host's item embeddings to annotators'
 * brain features (doc/rlhb.md), so a text reward model can learn to predict brain signals
 * beside ratings. The model layer's ridge does the fit; this file builds its rows (an
 * item's embedding for each presentation, features z-scored within each annotator) and
 * folds of whole items, and scores each feature on items the fit never saw. */
#include <math.h>
#include <string.h>
#include "reward_internal.h"
#include "dense/dense.h"

static btfm_status check(const float *embeddings, int64_t n_embeddings, int64_t dim,
                         const int64_t *items, const float *features, int64_t n_rows,
                         int64_t n_features, int folds, const char *func)
{
    if (n_embeddings < 2 || dim < 1 || n_rows < 2 || n_features < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld embeddings of %lld values, %lld rows of "
                         "%lld features; expected at least 2 embeddings, 2 rows and one value "
                         "and feature each", func, (long long)n_embeddings, (long long)dim,
                         (long long)n_rows, (long long)n_features);
    if (folds < 3)
        return btfm_fail(BTFM_E_INVALID, "%s: folds is %d; expected at least 3 (each training "
                         "set chooses its penalties over two folds or more)", func, folds);
    for (int64_t r = 0; r < n_rows; r++)
        if (items[r] < 0 || items[r] >= n_embeddings)
            return btfm_fail(BTFM_E_INVALID, "%s: items[%lld] is %lld; expected a row of the "
                             "embeddings, 0 .. %lld", func, (long long)r, (long long)items[r],
                             (long long)(n_embeddings - 1));
    int64_t row, col;
    if (btfm_dense_find_nonfinite(embeddings, n_embeddings, dim, dim, &row, &col))
        return btfm_dense_fail_nonfinite(func, "embeddings", "value", col, "item", row,
                                         embeddings[row * dim + col], NULL);
    if (btfm_dense_find_nonfinite(features, n_rows, n_features, n_features, &row, &col))
        return btfm_dense_fail_nonfinite(func, "features", "feature", col, "row", row,
                                         features[row * n_features + col], NULL);
    return BTFM_OK;
}

/* Fold of each row: the items in order of first appearance, cut into `folds` contiguous
 * blocks of whole items. */
static btfm_status item_folds(const int64_t *items, int64_t n_rows, int64_t n_embeddings,
                              int folds, int64_t *fold, const char *func)
{
    int64_t *order = btfm_malloc((size_t)n_embeddings * sizeof *order);
    if (!order) return btfm_fail_nomem(func, (size_t)n_embeddings * sizeof *order);
    int64_t used = 0;
    for (int64_t i = 0; i < n_embeddings; i++) order[i] = -1;
    for (int64_t r = 0; r < n_rows; r++)
        if (order[items[r]] < 0) order[items[r]] = used++;
    btfm_status st = BTFM_OK;
    if (used < folds)
        st = btfm_fail(BTFM_E_INVALID, "%s: the rows show %lld different items, fewer than the "
                       "%d folds of whole items", func, (long long)used, folds);
    for (int64_t r = 0; !st && r < n_rows; r++) fold[r] = order[items[r]] * folds / used;
    btfm_free(order);
    return st;
}

btfm_status btfm_reward_encoder_fit(btfm_model *model, double *held_out_r, size_t capacity,
                                    const float *embeddings, int64_t n_embeddings, int64_t dim,
                                    const int64_t *items, const float *features, int64_t n_rows,
                                    int64_t n_features, const int64_t *annotators, int folds)
{
    const char *func = "btfm_reward_encoder_fit";
    BTFM_CHECK_ARG(model, func, "model");
    BTFM_CHECK_ARG(embeddings, func, "embeddings");
    BTFM_CHECK_ARG(items, func, "items");
    BTFM_CHECK_ARG(features, func, "features");
    BTFM_CHECK_ARG(annotators, func, "annotators");
    if (btfm_model_get_type(model) != BTFM_MODEL_RIDGE)
        return btfm_fail(BTFM_E_INVALID, "%s: the model is %s; an encoder is a ridge model",
                         func, btfm_model_type_name(btfm_model_get_type(model)));
    if (held_out_r && capacity < (size_t)n_features)
        return btfm_fail(BTFM_E_RANGE, "%s: held_out_r holds %zu values; %lld features need "
                         "as many", func, capacity, (long long)n_features);
    btfm_status st = check(embeddings, n_embeddings, dim, items, features, n_rows, n_features,
                           folds, func);
    if (st) return st;
    int32_t *group = btfm_malloc((size_t)n_rows * sizeof *group);
    int64_t *fold = btfm_malloc((size_t)n_rows * sizeof *fold), n_groups = 0;
    float *x = btfm_dense_zeros_f(n_rows, dim, func), *y = btfm_dense_zeros_f(n_rows, n_features, func);
    float *pred = held_out_r ? btfm_dense_zeros_f(n_rows, n_features, func) : NULL;
    double *center = btfm_dense_zeros(n_features, 2, func), *scale = center ? center + n_features : NULL;
    if (!group || !fold || !x || !y || !center || (held_out_r && !pred))
        st = btfm_fail_nomem(func, (size_t)(n_rows * (dim + 2 * n_features)) * sizeof *x);
    if (!st) st = btfm_reward_group_ids(annotators, n_rows, group, &n_groups, func);
    if (!st) st = btfm_reward_standardize(y, features, n_rows, n_features, group, n_groups, 1,
                                          NULL, NULL, center, scale, func);
    for (int64_t j = 0; !st && j < n_features; j++)
        if (!(scale[j] > 0))
            st = btfm_fail(BTFM_E_INVALID, "%s: feature %lld is constant within every annotator "
                           "(a bad channel?); leave it out", func, (long long)j);
    if (!st) st = item_folds(items, n_rows, n_embeddings, folds, fold, func);
    for (int64_t r = 0; !st && r < n_rows; r++)
        memcpy(x + r * dim, embeddings + items[r] * dim, (size_t)dim * sizeof *x);
    /* Leave-one-group-out over the item folds, both for the held-out scores (outer) and
     * for the penalties (inner: the other folds inside each training set). */
    if (!st) st = btfm_model_set_groups(model, fold, n_rows);
    if (!st) st = btfm_model_set_param(model, BTFM_MODEL_PARAM_CV, 1);
    if (!st && held_out_r) {
        st = btfm_model_cross_predict(model, pred, x, n_rows, dim, y, n_features, 0);
        if (!st) st = btfm_model_score_columns(held_out_r, BTFM_SCORE_PEARSON, y, pred, n_rows,
                                               n_features);
    }
    if (!st) st = btfm_model_fit(model, x, n_rows, dim, y, n_features);
    btfm_free(group);
    btfm_free(fold);
    btfm_free(x);
    btfm_free(y);
    btfm_free(pred);
    btfm_free(center);
    return st;
}
