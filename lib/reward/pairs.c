/* Items' scores from pairwise preferences alone: a Bradley-Terry model with one free
 * strength per item and a Gaussian prior (ridge), what ratings-only mode uses for items
 * labelled by preferences (doc/rlhb.md). The model layer's free-score Bradley-Terry does
 * the fit, over the items the pairs name only. */
#include <math.h>
#include <string.h>
#include "reward_internal.h"

btfm_status btfm_reward_pair_scores(float *out, size_t capacity, int64_t n_items,
                                    const int64_t *pairs, const float *weight, int64_t n_pairs,
                                    double alpha)
{
    const char *func = "btfm_reward_pair_scores";
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(pairs, func, "pairs");
    if (n_items < 2 || n_pairs < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld items, %lld pairs; expected at least two "
                         "items and one pair", func, (long long)n_items, (long long)n_pairs);
    if (capacity < (size_t)n_items)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu floats; %lld items need as many",
                         func, capacity, (long long)n_items);
    if (!(alpha > 0) || !isfinite(alpha))
        return btfm_fail(BTFM_E_INVALID, "%s: alpha is %g; expected a finite penalty > 0", func,
                         alpha);
    for (int64_t p = 0; p < n_pairs; p++) {
        const int64_t a = pairs[2 * p], b = pairs[2 * p + 1];
        if (a < 0 || a >= n_items || b < 0 || b >= n_items || a == b)
            return btfm_fail(BTFM_E_INVALID, "%s: pairs row %lld is (%lld, %lld); expected two "
                             "different items of 0 .. %lld", func, (long long)p, (long long)a,
                             (long long)b, (long long)(n_items - 1));
        if (weight && !(weight[p] >= 0 && isfinite(weight[p])))
            return btfm_fail(BTFM_E_INVALID, "%s: weight[%lld] is %g; expected a finite value "
                             ">= 0", func, (long long)p, weight[p]);
    }
    /* The items the pairs name, numbered compactly: the fit has one parameter each. */
    int64_t *index = btfm_malloc((size_t)n_items * sizeof *index);
    int64_t *local = btfm_malloc((size_t)n_pairs * 2 * sizeof *local);
    double *w = weight ? btfm_malloc((size_t)n_pairs * sizeof *w) : NULL;
    float *scores = NULL;
    btfm_model *m = NULL;
    btfm_status st = index && local && (!weight || w) ? BTFM_OK
                                                      : btfm_fail_nomem(func, (size_t)n_items * 8);
    int64_t used = 0;
    for (int64_t i = 0; !st && i < n_items; i++) index[i] = -1;
    for (int64_t k = 0; !st && k < 2 * n_pairs; k++) {
        if (index[pairs[k]] < 0) index[pairs[k]] = used++;
        local[k] = index[pairs[k]];
    }
    for (int64_t p = 0; w && p < n_pairs; p++) w[p] = weight[p];
    if (!st && !(scores = btfm_malloc((size_t)used * sizeof *scores)))
        st = btfm_fail_nomem(func, (size_t)used * sizeof *scores);
    if (!st) st = btfm_model_new(&m, BTFM_MODEL_BRADLEY_TERRY);
    if (!st) st = btfm_model_set_alphas(m, &alpha, 1);
    if (!st && w) st = btfm_model_set_sample_weight(m, w, n_pairs);
    if (!st) st = btfm_model_fit_pairs(m, NULL, used, used, local, NULL, n_pairs);
    if (!st) st = btfm_model_coef(m, scores, (size_t)used);
    for (int64_t i = 0; !st && i < n_items; i++)
        out[i] = index[i] < 0 ? NAN : scores[index[i]];
    btfm_model_free(m);
    btfm_free(index);
    btfm_free(local);
    btfm_free(w);
    btfm_free(scores);
    return st;
}
