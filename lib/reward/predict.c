/* Scoring items with a fitted head: the decoders folded with each annotator's
 * standardization into one small weight matrix per annotator (so a batch is one pass of
 * row products over the features), then the Gaussian combination of the brain reward
 * with the item's rating, the mode decides which of them count (doc/rlhb.md). */
#include <math.h>
#include <string.h>
#include "reward_internal.h"
#include "dense/dense.h"

/* Per group: weights G (d x 4 floats) and offsets (4) so that decoder k of a row of
 * group g is x . G[:, k] + offset[k], standardization included. */
static btfm_status fold_weights(const reward_fit *f, const float *x, int64_t n,
                                const int32_t *group, int64_t n_groups, float *G,
                                double *offset, const char *func)
{
    const int64_t d = f->n_features;
    double *mean = NULL, *inv_sd = NULL;
    btfm_status st = BTFM_OK;
    if (f->normalize) {
        mean = btfm_dense_zeros(n_groups, d, func);
        inv_sd = btfm_dense_zeros(n_groups, d, func);
        st = mean && inv_sd ? btfm_reward_group_stats(x, n, d, group, n_groups, mean, inv_sd, func)
                            : BTFM_E_NOMEM;
    }
    for (int64_t g = 0; !st && g < n_groups; g++) {
        float *Gg = G + (size_t)g * d * REWARD_N_DECODERS;
        double *off = offset + g * REWARD_N_DECODERS;
        for (int k = 0; k < REWARD_N_DECODERS; k++) off[k] = f->intercept[k];
        for (int64_t j = 0; j < d; j++) {
            /* x~ = ((x - m) r - c) / s = x (r / s) - (m r + c) / s */
            double r = f->normalize ? inv_sd[g * d + j] : 1.0, m = f->normalize ? mean[g * d + j] : 0;
            double s = f->scale[j];
            double a = s > 0 ? r / s : 0, b = s > 0 ? (m * r + f->center[j]) / s : 0;
            for (int k = 0; k < REWARD_N_DECODERS; k++) {
                double w = f->weights[j * REWARD_N_DECODERS + k];
                Gg[j * REWARD_N_DECODERS + k] = (float)(a * w);
                off[k] -= b * w;
            }
        }
    }
    btfm_free(mean);
    btfm_free(inv_sd);
    return st;
}

/* The four decoders of one row: acc[k] += x . G[:, k] (G d x 4), each lane summed in the
 * features' order in double, so every clone gives the same values. A batch's rows are
 * scored here rather than by a BLAS product with four columns, which is mostly packing
 * overhead (and OpenBLAS threads that spin between calls). */
BTFM_HOT BTFM_SIMD_CLONES static void decode_row(double *acc, const float *x, const float *G,
                                                 int64_t d)
{
    double a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int64_t j = 0; j < d; j++) {
        const double v = x[j];
        const float *g = G + j * REWARD_N_DECODERS;
        a0 += v * g[0], a1 += v * g[1], a2 += v * g[2], a3 += v * g[3];
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

static double logistic(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

void btfm_reward_combine(const reward_fit *f, int mode, const double *decoders, double z,
                         float *o)
{
    const int use_rating = mode != BTFM_REWARD_BRAIN_ONLY;
    const int use_brain = mode != BTFM_REWARD_RATINGS_ONLY;
    const double v = f->reliability;
    const double brain_prec = f->brain_slope > 0 ? f->brain_slope * f->brain_slope / f->brain_noise : 0;
    const double brain_gain = f->brain_slope > 0 ? f->brain_slope / f->brain_noise : 0;
    const double b = decoders[0], conf = decoders[1], pen = decoders[2], nov = decoders[3];
    double mu, sd, p_conf, p_pen;
    if (f->has_ratings) {
        double prec = 1.0 / v, num = 0;
        if (use_rating && !isnan(z)) {
            double w = 1;
            if (use_brain && f->has_confidence && f->confidence_mean > 0)
                w = fmin(2.0, fmax(0.5, 1 + f->confidence_gain * (conf / f->confidence_mean - 1)));
            double ty = w / (1.0 - v);
            prec += ty;
            num += ty * z;
        }
        if (use_brain) {
            prec += brain_prec;
            num += brain_gain * b;
        }
        mu = num / prec;
        sd = 1.0 / sqrt(prec);
        p_conf = btfm_reward_phi(mu / sd);
        p_pen = use_brain && f->has_penalty ? logistic(pen)
                                            : btfm_reward_phi((f->penalty_threshold - mu) / sd);
    } else {
        mu = b;
        sd = NAN;
        p_conf = logistic(b);
        p_pen = 1 - p_conf;
    }
    o[BTFM_REWARD_OUT_REWARD] = (float)mu;
    o[BTFM_REWARD_OUT_SD] = (float)sd;
    o[BTFM_REWARD_OUT_CONFIDENCE] = (float)p_conf;
    o[BTFM_REWARD_OUT_PENALTY] = (float)p_pen;
    o[BTFM_REWARD_OUT_NOVELTY] =
        f->has_novelty ? (float)((nov - f->novelty_center) / f->novelty_scale) : 0.0f;
}

btfm_status btfm_reward_fold_single(const btfm_reward_head *h, double *weights, double *offset,
                                    const char *func)
{
    const reward_fit *f = h->fit;
    if (!f) return btfm_fail(BTFM_E_STATE, "%s: the reward head is not fitted", func);
    if (f->normalize)
        return btfm_fail(BTFM_E_INVALID, "%s: the reward head standardizes features within "
                         "each annotator's batch, which one row at a time cannot do; fit it "
                         "with normalize 0 to score a stream", func);
    for (int k = 0; k < REWARD_N_DECODERS; k++) offset[k] = f->intercept[k];
    for (int64_t j = 0; j < f->n_features; j++) {
        const double sc = f->scale[j];
        for (int k = 0; k < REWARD_N_DECODERS; k++) {
            double w = f->weights[j * REWARD_N_DECODERS + k];
            weights[j * REWARD_N_DECODERS + k] = sc > 0 ? w / sc : 0;
            offset[k] -= sc > 0 ? f->center[j] / sc * w : 0;
        }
    }
    return BTFM_OK;
}

btfm_status btfm_reward_head_predict(const btfm_reward_head *h, float *out, size_t capacity,
                                     const float *features, int64_t n_items, int64_t n_features,
                                     const int64_t *annotators, const float *ratings)
{
    const char *func = "btfm_reward_head_predict";
    BTFM_CHECK_ARG(h, func, "head");
    if (!h->fit)
        return btfm_fail(BTFM_E_STATE, "%s: the head is not fitted (call btfm_reward_head_fit "
                         "or load one)", func);
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(features, func, "features");
    BTFM_CHECK_ARG(annotators, func, "annotators");
    const reward_fit *f = h->fit;
    const int64_t n = n_items, d = f->n_features;
    if (n < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_items is %lld; expected at least one item",
                         func, (long long)n);
    if (n_features != d)
        return btfm_fail(BTFM_E_INVALID, "%s: n_features is %lld; the head was fitted on %lld "
                         "features", func, (long long)n_features, (long long)d);
    if (capacity / BTFM_REWARD_N_OUTPUTS < (size_t)n)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu floats; %lld items need %lld", func,
                         capacity, (long long)n, (long long)n * BTFM_REWARD_N_OUTPUTS);
    int64_t row, col;
    if (btfm_dense_find_nonfinite(features, n, d, d, &row, &col))
        return btfm_dense_fail_nonfinite(func, "features", "feature", col, "item", row,
                                         features[row * d + col], NULL);
    const int mode = (int)h->params[BTFM_REWARD_PARAM_MODE];
    if (!f->has_ratings && mode == BTFM_REWARD_RATINGS_ONLY)
        return btfm_fail(BTFM_E_STATE, "%s: mode ratings_only needs a head fitted on ratings; "
                         "this one was fitted on pairs alone", func);
    int32_t *group = btfm_malloc((size_t)n * sizeof *group);
    float *z = ratings ? btfm_dense_zeros_f(n, 1, func) : NULL;
    int64_t n_groups = 0;
    btfm_status st = group && (!ratings || z) ? BTFM_OK : btfm_fail_nomem(func, (size_t)n * 8);
    if (!st) st = btfm_reward_group_ids(annotators, n, group, &n_groups, func);
    if (!st && f->normalize) {
        int64_t *count = btfm_calloc((size_t)n_groups, sizeof *count);
        if (!count) st = btfm_fail_nomem(func, (size_t)n_groups * 8);
        for (int64_t i = 0; !st && i < n; i++) count[group[i]]++;
        for (int64_t i = 0; !st && i < n; i++)
            if (count[group[i]] < 2)
                st = btfm_fail(BTFM_E_INVALID, "%s: annotators: annotator %lld has one item in "
                               "this batch; per-annotator normalization needs at least two "
                               "(score an annotator's items together, or fit with normalize "
                               "0)", func, (long long)annotators[i]);
        btfm_free(count);
    }
    double scale;
    if (!st && ratings) {
        for (int64_t i = 0; i < n && !st; i++)
            if (isinf(ratings[i]))
                st = btfm_fail(BTFM_E_NUMERIC, "%s: ratings[%lld] is infinite; expected a "
                               "rating or NaN for none", func, (long long)i);
        if (!st) st = btfm_reward_standardize_ratings(z, &scale, ratings, n, group, n_groups,
                                                      f->rating_scale, func);
    }
    float *G = st ? NULL : btfm_dense_zeros_f(n_groups * d, REWARD_N_DECODERS, func);
    double *offset = st ? NULL : btfm_dense_zeros(n_groups, REWARD_N_DECODERS, func);
    if (!st && (!G || !offset)) st = BTFM_E_NOMEM;
    if (!st) st = fold_weights(f, features, n, group, n_groups, G, offset, func);
    for (int64_t i = 0; !st && i < n; i++) {
        const double *off = offset + (size_t)group[i] * REWARD_N_DECODERS;
        double decoders[REWARD_N_DECODERS] = {off[0], off[1], off[2], off[3]};
        decode_row(decoders, features + (size_t)i * d, G + (size_t)group[i] * d * REWARD_N_DECODERS, d);
        btfm_reward_combine(f, mode, decoders, z ? z[i] : NAN, out + (size_t)i * BTFM_REWARD_N_OUTPUTS);
    }
    btfm_free(group);
    btfm_free(z);
    btfm_free(G);
    btfm_free(offset);
    return st;
}
