/* The btfm_reward_head handle: parameters, the labels a fit uses (ratings, pairs, item
 * ids, feature roles, the feature configuration), accessors of the fitted values, and
 * the helpers every part shares (annotator groups, standardization, the normal law). */
#include <math.h>
#include <string.h>
#include "reward_internal.h"
#include "dense/dense.h"

static const btfm_param_def reward_params[REWARD_PARAM_COUNT] = {
    {"mode", BTFM_PARAM_INT, BTFM_REWARD_JOINT, 1, 3,
     "Where the reward comes from (btfm_reward_mode): 1 ratings only (the RLHF baseline), "
     "2 the brain decoder only, 3 ratings and brain combined."},
    {"folds", BTFM_PARAM_INT, 5, 2, 1000,
     "Cross-validation folds, each of whole annotators (needs at least as many annotators)."},
    {"n_alphas", BTFM_PARAM_INT, 20, 1, 1000,
     "Ridge penalties tried by cross-validation, log-spaced from alpha_min to alpha_max."},
    {"alpha_min", BTFM_PARAM_REAL, 1e-1, 1e-12, 1e12, "Smallest ridge penalty tried."},
    {"alpha_max", BTFM_PARAM_REAL, 1e5, 1e-12, 1e12, "Largest ridge penalty tried."},
    {"normalize", BTFM_PARAM_BOOL, 1, 0, 1,
     "Z-score each feature within each annotator before anything else, so people with "
     "other amplitudes or noise levels (and new people) share one scale."},
    {"use_confidence", BTFM_PARAM_BOOL, 1, 0, 1,
     "Weight each rating by its confidence in the fit, and by the brain-decoded "
     "confidence when combining a rating with the brain reward."},
    {"penalty_quantile", BTFM_PARAM_REAL, 1.0 / 3.0, 0.01, 0.99,
     "Ratings below this quantile of the standardized ratings count as disliked (the "
     "negative-affect classifier's positive class)."},
    {"reliability", BTFM_PARAM_REAL, 0, 0, 0.99,
     "Share of a standardized rating's variance that is the item's reward; 0 estimates "
     "it from items rated by several annotators (0.5 when there are too few)."},
};

const btfm_param_table btfm_reward_head_param_table = {
    BTFM_OBJECT_REWARD_HEAD, "reward_head", REWARD_PARAM_COUNT, reward_params,
};

static const char *const mode_names[] = {NULL, "ratings_only", "brain_only", "joint"};
static const char *const output_names[] = {"reward", "sd", "confidence", "penalty", "novelty"};

const char *btfm_reward_mode_name(int mode)
{
    return mode >= 1 && mode <= 3 ? mode_names[mode] : NULL;
}

const char *btfm_reward_output_name(int column)
{
    return column >= 0 && column < BTFM_REWARD_N_OUTPUTS ? output_names[column] : NULL;
}

btfm_status btfm_reward_head_new(btfm_reward_head **out, int mode)
{
    BTFM_CHECK_ARG(out, "btfm_reward_head_new", "out");
    *out = NULL;
    if (!btfm_reward_mode_name(mode))
        return btfm_fail(BTFM_E_INVALID, "btfm_reward_head_new: mode is %d; expected 1 "
                         "ratings_only, 2 brain_only or 3 joint", mode);
    btfm_reward_head *h = btfm_calloc(1, sizeof *h);
    if (!h) return btfm_fail_nomem("btfm_reward_head_new", sizeof *h);
    btfm_params_defaults(&btfm_reward_head_param_table, h->params);
    h->params[BTFM_REWARD_PARAM_MODE] = mode;
    *out = h;
    return BTFM_OK;
}

void btfm_reward_fit_free(reward_fit *f)
{
    if (!f) return;
    btfm_free(f->roles);
    btfm_free(f->center);
    btfm_free(f->scale);
    btfm_free(f->weights);
    btfm_free(f->config);
    btfm_free(f);
}

void btfm_reward_head_free(btfm_reward_head *h)
{
    if (!h) return;
    btfm_free(h->ratings);
    btfm_free(h->rating_confidence);
    btfm_free(h->pairs);
    btfm_free(h->pair_weight);
    btfm_free(h->item_ids);
    btfm_free(h->roles);
    btfm_free(h->config);
    btfm_reward_fit_free(h->fit);
    btfm_free(h);
}

btfm_status btfm_reward_head_set_param(btfm_reward_head *h, int param, double value)
{
    BTFM_CHECK_ARG(h, "btfm_reward_head_set_param", "head");
    return btfm_params_set(&btfm_reward_head_param_table, h->params, param, value,
                           "btfm_reward_head_set_param");
}

btfm_status btfm_reward_head_get_param(const btfm_reward_head *h, int param, double *value)
{
    BTFM_CHECK_ARG(h, "btfm_reward_head_get_param", "head");
    return btfm_params_get(&btfm_reward_head_param_table, h->params, param, value,
                           "btfm_reward_head_get_param");
}

btfm_status btfm_reward_head_set_progress(btfm_reward_head *h, btfm_progress_fn fn, void *user)
{
    BTFM_CHECK_ARG(h, "btfm_reward_head_set_progress", "head");
    h->progress = fn;
    h->progress_user = user;
    return BTFM_OK;
}

/* A copy of count elements of size bytes (NULL for none), or an error. */
static btfm_status copy_of(void **dst, const void *src, int64_t count, size_t size,
                           const char *func)
{
    *dst = NULL;
    if (!src || count <= 0) return BTFM_OK;
    *dst = btfm_malloc((size_t)count * size);
    if (!*dst) return btfm_fail_nomem(func, (size_t)count * size);
    memcpy(*dst, src, (size_t)count * size);
    return BTFM_OK;
}

btfm_status btfm_reward_head_set_ratings(btfm_reward_head *h, const float *ratings,
                                         const float *confidence, int64_t n_items)
{
    const char *func = "btfm_reward_head_set_ratings";
    BTFM_CHECK_ARG(h, func, "head");
    if (ratings && n_items < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_items is %lld; expected at least 1", func,
                         (long long)n_items);
    for (int64_t i = 0; ratings && i < n_items; i++)
        if (isinf(ratings[i]))
            return btfm_fail(BTFM_E_NUMERIC, "%s: ratings[%lld] is infinite; expected a "
                             "finite rating or NaN for none", func, (long long)i);
    for (int64_t i = 0; ratings && confidence && i < n_items; i++)
        if (!(confidence[i] > 0) || !isfinite(confidence[i]))
            return btfm_fail(BTFM_E_NUMERIC, "%s: confidence[%lld] is %g; expected a finite "
                             "value > 0", func, (long long)i, confidence[i]);
    void *r, *c = NULL;
    btfm_status st = copy_of(&r, ratings, n_items, sizeof(float), func);
    if (!st && ratings) st = copy_of(&c, confidence, n_items, sizeof(float), func);
    if (st) {
        btfm_free(r);
        return st;
    }
    btfm_free(h->ratings);
    btfm_free(h->rating_confidence);
    h->ratings = r;
    h->rating_confidence = c;
    h->n_ratings = ratings ? n_items : 0;
    return BTFM_OK;
}

btfm_status btfm_reward_head_set_pairs(btfm_reward_head *h, const int64_t *pairs,
                                       const float *weight, int64_t n_pairs)
{
    const char *func = "btfm_reward_head_set_pairs";
    BTFM_CHECK_ARG(h, func, "head");
    if (pairs && n_pairs < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_pairs is %lld; expected at least 1", func,
                         (long long)n_pairs);
    for (int64_t k = 0; pairs && k < n_pairs; k++) {
        if (pairs[2 * k] < 0 || pairs[2 * k + 1] < 0)
            return btfm_fail(BTFM_E_INVALID, "%s: pairs row %lld names item %lld; expected "
                             "item indices >= 0", func, (long long)k,
                             (long long)(pairs[2 * k] < 0 ? pairs[2 * k] : pairs[2 * k + 1]));
        if (pairs[2 * k] == pairs[2 * k + 1])
            return btfm_fail(BTFM_E_INVALID, "%s: pairs row %lld compares item %lld with "
                             "itself", func, (long long)k, (long long)pairs[2 * k]);
        if (weight && (!(weight[k] >= 0) || !isfinite(weight[k])))
            return btfm_fail(BTFM_E_NUMERIC, "%s: weight[%lld] is %g; expected a finite "
                             "value >= 0", func, (long long)k, weight[k]);
    }
    void *p, *w = NULL;
    btfm_status st = copy_of(&p, pairs, 2 * n_pairs, sizeof(int64_t), func);
    if (!st && pairs) st = copy_of(&w, weight, n_pairs, sizeof(float), func);
    if (st) {
        btfm_free(p);
        return st;
    }
    btfm_free(h->pairs);
    btfm_free(h->pair_weight);
    h->pairs = p;
    h->pair_weight = w;
    h->n_pairs = pairs ? n_pairs : 0;
    return BTFM_OK;
}

btfm_status btfm_reward_head_set_items(btfm_reward_head *h, const int64_t *item_ids,
                                       int64_t n_items)
{
    const char *func = "btfm_reward_head_set_items";
    BTFM_CHECK_ARG(h, func, "head");
    void *p;
    btfm_status st = copy_of(&p, item_ids, n_items, sizeof(int64_t), func);
    if (st) return st;
    btfm_free(h->item_ids);
    h->item_ids = p;
    h->n_item_ids = item_ids ? n_items : 0;
    return BTFM_OK;
}

btfm_status btfm_reward_head_set_roles(btfm_reward_head *h, const int32_t *roles,
                                       int64_t n_features)
{
    const char *func = "btfm_reward_head_set_roles";
    BTFM_CHECK_ARG(h, func, "head");
    for (int64_t j = 0; roles && j < n_features; j++)
        if (roles[j] < 0 || roles[j] > 15)
            return btfm_fail(BTFM_E_INVALID, "%s: roles[%lld] is %d; expected a set of "
                             "btfm_reward_role bits (0 .. 15)", func, (long long)j, roles[j]);
    void *p;
    btfm_status st = copy_of(&p, roles, n_features, sizeof(int32_t), func);
    if (st) return st;
    btfm_free(h->roles);
    h->roles = p;
    h->n_roles = roles ? n_features : 0;
    return BTFM_OK;
}

btfm_status btfm_reward_head_set_feature_config(btfm_reward_head *h, const char *config)
{
    const char *func = "btfm_reward_head_set_feature_config";
    BTFM_CHECK_ARG(h, func, "head");
    void *p;
    btfm_status st = copy_of(&p, config, config ? (int64_t)strlen(config) + 1 : 0, 1, func);
    if (st) return st;
    btfm_free(h->config);
    h->config = p;
    return BTFM_OK;
}

int btfm_reward_head_is_fitted(const btfm_reward_head *h)
{
    BTFM_CHECK_ARG(h, "btfm_reward_head_is_fitted", "head");
    return h->fit != NULL;
}

static btfm_status need_fit(const btfm_reward_head *h, const char *func)
{
    BTFM_CHECK_ARG(h, func, "head");
    if (!h->fit)
        return btfm_fail(BTFM_E_STATE, "%s: the head is not fitted (call "
                         "btfm_reward_head_fit or load one)", func);
    return BTFM_OK;
}

int64_t btfm_reward_head_n_features(const btfm_reward_head *h)
{
    btfm_status st = need_fit(h, "btfm_reward_head_n_features");
    return st ? st : h->fit->n_features;
}

btfm_status btfm_reward_head_summary(const btfm_reward_head *h, double *reliability,
                                     double *brain_slope, double *brain_noise, double *alpha)
{
    btfm_status st = need_fit(h, "btfm_reward_head_summary");
    if (st) return st;
    if (reliability) *reliability = h->fit->reliability;
    if (brain_slope) *brain_slope = h->fit->brain_slope;
    if (brain_noise) *brain_noise = h->fit->brain_noise;
    if (alpha) *alpha = h->fit->alpha;
    return BTFM_OK;
}

btfm_status btfm_reward_head_weights(const btfm_reward_head *h, float *out, size_t capacity,
                                     double *intercept)
{
    const char *func = "btfm_reward_head_weights";
    btfm_status st = need_fit(h, func);
    if (st) return st;
    BTFM_CHECK_ARG(out, func, "out");
    const reward_fit *f = h->fit;
    if (capacity < (size_t)f->n_features)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu floats; the weights need %lld", func,
                         capacity, (long long)f->n_features);
    for (int64_t j = 0; j < f->n_features; j++)
        out[j] = (float)f->weights[j * REWARD_N_DECODERS];
    if (intercept) *intercept = f->intercept[0];
    return BTFM_OK;
}

btfm_status btfm_reward_head_check_config(const btfm_reward_head *h, const char *config)
{
    const char *func = "btfm_reward_head_check_config";
    btfm_status st = need_fit(h, func);
    if (st) return st;
    const char *mine = h->fit->config ? h->fit->config : "";
    const char *theirs = config ? config : "";
    if (strcmp(mine, theirs) != 0)
        return btfm_fail(BTFM_E_INVALID, "%s: the features were made with \"%s\"; the head "
                         "was fitted on features made with \"%s\"", func, theirs, mine);
    return BTFM_OK;
}

/* ---- shared helpers ------------------------------------------------------------------ */

btfm_status btfm_reward_group_ids(const int64_t *ids, int64_t n, int32_t *group,
                                  int64_t *n_groups, const char *func)
{
    /* Open addressing on a power-of-two table twice the size of the input (at most). */
    int64_t cap = 16;
    while (cap < 2 * n && cap < ((int64_t)1 << 40)) cap *= 2;
    int64_t *keys = btfm_malloc((size_t)cap * sizeof *keys);
    int32_t *vals = btfm_malloc((size_t)cap * sizeof *vals);
    if (!keys || !vals) {
        btfm_free(keys);
        btfm_free(vals);
        return btfm_fail_nomem(func, (size_t)cap * 12);
    }
    for (int64_t k = 0; k < cap; k++) vals[k] = -1;
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t hash = (uint64_t)ids[i] * 0x9E3779B97F4A7C15ULL;
        int64_t k = (int64_t)(hash >> 20) & (cap - 1);
        while (vals[k] >= 0 && keys[k] != ids[i]) k = (k + 1) & (cap - 1);
        if (vals[k] < 0) {
            if (count >= INT32_MAX) {
                btfm_free(keys);
                btfm_free(vals);
                return btfm_fail(BTFM_E_RANGE, "%s: more than 2^31 annotators", func);
            }
            keys[k] = ids[i];
            vals[k] = (int32_t)count++;
        }
        group[i] = vals[k];
    }
    btfm_free(keys);
    btfm_free(vals);
    *n_groups = count;
    return BTFM_OK;
}

/* s += row and q += (row - m)^2, element by element (no reordered sums: every clone
 * gives the same values); the statistics' two passes over the features. */
BTFM_HOT BTFM_SIMD_CLONES static void add_row(double *s, const float *row, int64_t d)
{
    for (int64_t j = 0; j < d; j++) s[j] += row[j];
}

BTFM_HOT BTFM_SIMD_CLONES static void add_square(double *q, const double *m, const float *row,
                                                 int64_t d)
{
    for (int64_t j = 0; j < d; j++) {
        double v = row[j] - m[j];
        q[j] += v * v;
    }
}

btfm_status btfm_reward_group_stats(const float *x, int64_t n, int64_t d, const int32_t *group,
                                   int64_t n_groups, double *mean, double *inv_sd,
                                   const char *func)
{
    double *cnt = btfm_dense_zeros(n_groups, 1, func);
    if (!cnt) return BTFM_E_NOMEM;
    memset(mean, 0, (size_t)n_groups * (size_t)d * sizeof *mean);
    memset(inv_sd, 0, (size_t)n_groups * (size_t)d * sizeof *inv_sd);
    for (int64_t i = 0; i < n; i++) {
        cnt[group[i]] += 1;
        add_row(mean + (size_t)group[i] * d, x + (size_t)i * d, d);
    }
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t j = 0; j < d; j++) mean[g * d + j] /= cnt[g] > 0 ? cnt[g] : 1;
    for (int64_t i = 0; i < n; i++)
        add_square(inv_sd + (size_t)group[i] * d, mean + (size_t)group[i] * d,
                   x + (size_t)i * d, d);
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t j = 0; j < d; j++) {
            double var = cnt[g] > 1 ? inv_sd[g * d + j] / (cnt[g] - 1) : 0;
            inv_sd[g * d + j] = var > 0 ? 1.0 / sqrt(var) : 0.0;
        }
    btfm_free(cnt);
    return BTFM_OK;
}

btfm_status btfm_reward_standardize(float *out, const float *x, int64_t n, int64_t d,
                                    const int32_t *group, int64_t n_groups, int normalize,
                                    const double *center, const double *scale,
                                    double *center_out, double *scale_out, const char *func)
{
    memcpy(out, x, (size_t)n * (size_t)d * sizeof *out);
    if (normalize) {
        double *mean = btfm_dense_zeros(n_groups, d, func);
        double *inv_sd = btfm_dense_zeros(n_groups, d, func);
        btfm_status st = mean && inv_sd ? btfm_reward_group_stats(x, n, d, group, n_groups,
                                                                  mean, inv_sd, func)
                                        : BTFM_E_NOMEM;
        for (int64_t i = 0; !st && i < n; i++) {
            const double *m = mean + (size_t)group[i] * d, *r = inv_sd + (size_t)group[i] * d;
            float *row = out + (size_t)i * d;
            for (int64_t j = 0; j < d; j++) row[j] = (float)((row[j] - m[j]) * r[j]);
        }
        btfm_free(mean);
        btfm_free(inv_sd);
        if (st) return st;
    }
    if (!center) {
        for (int64_t j = 0; j < d; j++) {
            double m = 0, q = 0;
            for (int64_t i = 0; i < n; i++) m += out[(size_t)i * d + j];
            m /= n;
            for (int64_t i = 0; i < n; i++) {
                double v = out[(size_t)i * d + j] - m;
                q += v * v;
            }
            double sd = n > 1 ? sqrt(q / (n - 1)) : 0;
            center_out[j] = m;
            scale_out[j] = sd > 0 ? sd : 0;
        }
        center = center_out;
        scale = scale_out;
    }
    for (int64_t i = 0; i < n; i++) {
        float *row = out + (size_t)i * d;
        for (int64_t j = 0; j < d; j++)
            row[j] = scale[j] > 0 ? (float)((row[j] - center[j]) / scale[j]) : 0.0f;
    }
    return BTFM_OK;
}

btfm_status btfm_reward_standardize_ratings(float *z, double *pooled_sd, const float *ratings,
                                            int64_t n, const int32_t *group, int64_t n_groups,
                                            double fallback_sd, const char *func)
{
    double *sum = btfm_dense_zeros(n_groups, 3, func);
    if (!sum) return BTFM_E_NOMEM;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(ratings[i])) {
            sum[3 * group[i]] += ratings[i];
            sum[3 * group[i] + 2] += 1;
        }
    for (int64_t g = 0; g < n_groups; g++)
        if (sum[3 * g + 2] > 0) sum[3 * g] /= sum[3 * g + 2];
    double pooled = 0, dof = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(ratings[i])) {
            double v = ratings[i] - sum[3 * group[i]];
            sum[3 * group[i] + 1] += v * v;
            pooled += v * v;
        }
    for (int64_t g = 0; g < n_groups; g++)
        if (sum[3 * g + 2] > 0) dof += sum[3 * g + 2] - 1;
    pooled = dof > 0 ? sqrt(pooled / dof) : 0;
    if (!(pooled > 0)) pooled = fallback_sd;
    for (int64_t i = 0; i < n; i++) {
        double cnt = sum[3 * group[i] + 2];
        double sd = cnt >= 3 ? sqrt(sum[3 * group[i] + 1] / (cnt - 1)) : 0;
        if (!(sd > 0)) sd = pooled;
        z[i] = isnan(ratings[i]) || !(sd > 0) ? NAN
                                              : (float)((ratings[i] - sum[3 * group[i]]) / sd);
    }
    *pooled_sd = pooled;
    btfm_free(sum);
    return BTFM_OK;
}

double btfm_reward_phi(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

double btfm_reward_phi_inv(double p)
{
    /* Bisection on the distribution function: 60 halvings reach double precision. */
    double lo = -40, hi = 40;
    for (int k = 0; k < 100; k++) {
        double mid = 0.5 * (lo + hi);
        if (btfm_reward_phi(mid) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}
