/* Ridge regression for many targets (Hoerl & Kennard 1970): the driver. One
 * decomposition per training set serves every alpha (the thin SVD through the Gram or the
 * kernel matrix, as scikit-learn's _RidgeGCV and himalaya do); alpha is chosen per target
 * by the closed-form leave-one-out error or by K-fold scores, then every sample refits.
 * doc/models.md has the equations. */
#include <math.h>
#include <string.h>
#include "ridge_internal.h"
#include "dense/dense.h"

void btfm_ridge_gather(const ridge_ctx *c, const float *src, int64_t ld, int64_t c0,
                       int64_t cols, const double *shift, const int64_t *rows, int64_t first,
                       int64_t count, double *out)
{
    for (int64_t r = 0; r < count; r++) {
        const int64_t i = rows ? rows[r] : first + r;
        const double s = c->w ? sqrt(c->w[i]) : 1.0;
        const float *row = src + i * ld + c0;
        double *o = out + r * cols;
        if (shift)
            for (int64_t j = 0; j < cols; j++) o[j] = s * ((double)row[j] - shift[j]);
        else
            for (int64_t j = 0; j < cols; j++) o[j] = s * (double)row[j];
    }
}

void btfm_ridge_choose(ridge_ctx *c)
{
    const int64_t t = c->t;
    if (!c->cv) {
        for (int64_t j = 0; j < t; j++) c->best[j] = 0;
        return;
    }
    if (c->per_target) {
        for (int64_t j = 0; j < t; j++) {
            int best = 0;
            for (int a = 1; a < c->n_alphas; a++)
                if (c->cv[a * t + j] > c->cv[best * t + j]) best = a;
            c->best[j] = best;
        }
        return;
    }
    int best = 0;
    double best_mean = -INFINITY;
    for (int a = 0; a < c->n_alphas; a++) {
        double sum = 0;
        for (int64_t j = 0; j < t; j++) sum += c->cv[a * t + j];
        if (a == 0 || sum / (double)t > best_mean) {
            best = a;
            best_mean = sum / (double)t;
        }
    }
    for (int64_t j = 0; j < t; j++) c->best[j] = best;
}

int64_t btfm_ridge_chunk(const ridge_ctx *c, double per_target_bytes)
{
    const double budget = 256.0 * 1024 * 1024;
    double chunk = per_target_bytes > 0 ? budget / per_target_bytes : (double)c->t;
    if (chunk < 64) chunk = 64;
    return chunk >= (double)c->t ? c->t : (int64_t)chunk;
}

double btfm_ridge_fold_score(int kind, double sw, double sy, double syy, double sp, double spp,
                             double syp)
{
    if (kind == BTFM_SCORE_R2) {
        double sst = syy - sy * sy / sw;
        double sse = syy - 2 * syp + spp;
        if (sse < 0) sse = 0;
        /* A constant held-out target: scikit-learn's r2_score gives 1 for a perfect
         * prediction, 0 otherwise. */
        if (!(sst > 1e-13 * (syy + sy * sy / sw))) return sse <= 1e-13 * syy ? 1.0 : 0.0;
        return 1.0 - sse / sst;
    }
    return btfm_model_score_moments(kind, sw, sy, syy, sp, spp, syp);
}

btfm_status btfm_ridge_fit_alloc(model_fit *fit, int64_t p, int64_t t, int dual, int64_t n,
                                 const char *func)
{
    fit->n_coef = p;
    fit->n_outputs = t;
    fit->intercept = btfm_model_doubles((size_t)t, func);
    fit->alpha = btfm_model_doubles((size_t)t, func);
    fit->noise_var = btfm_model_doubles((size_t)t, func);
    fit->center = btfm_model_doubles((size_t)p, func);
    fit->scale = btfm_model_doubles((size_t)p, func);
    if (!fit->intercept || !fit->alpha || !fit->noise_var || !fit->center || !fit->scale)
        return BTFM_E_NOMEM;
    if (dual) {
        fit->n_train = n;
        fit->train = btfm_dense_zeros(n, p, func);
        fit->dual = btfm_dense_zeros(n, t, func);
        return fit->train && fit->dual ? BTFM_OK : BTFM_E_NOMEM;
    }
    fit->coef = btfm_dense_zeros_f(p, t, func);
    return fit->coef ? BTFM_OK : BTFM_E_NOMEM;
}

/* Global weighted means (the shift that keeps the centered sums well conditioned), the
 * weight total and the samples no fold tests. */
static btfm_status prepare(ridge_ctx *c)
{
    const int64_t n = c->n;
    c->mu_x = btfm_model_doubles((size_t)c->p, c->func);
    c->mu_y = btfm_model_doubles((size_t)c->t, c->func);
    c->best = btfm_calloc((size_t)c->t, sizeof *c->best);
    unsigned char *tested = btfm_calloc((size_t)n, 1);
    c->rest = btfm_malloc((size_t)n * sizeof *c->rest);
    if (!c->mu_x || !c->mu_y || !c->best || !tested || !c->rest) {
        btfm_free(tested);
        return btfm_fail_nomem(c->func, (size_t)n * sizeof *c->rest);
    }
    c->sw = 0;
    c->n_eff = 0;
    for (int64_t i = 0; i < n; i++) {
        double wi = ridge_w(c, i);
        c->sw += wi;
        c->n_eff += wi > 0;
        if (!c->intercept || wi == 0) continue;
        const float *xr = c->x + i * c->p, *yr = c->y + i * c->t;
        for (int64_t f = 0; f < c->p; f++) c->mu_x[f] += wi * xr[f];
        for (int64_t j = 0; j < c->t; j++) c->mu_y[j] += wi * yr[j];
    }
    for (int64_t f = 0; f < c->p; f++) c->mu_x[f] /= c->sw;
    for (int64_t j = 0; j < c->t; j++) c->mu_y[j] /= c->sw;
    const model_splits *s = c->splits;
    if (s && !s->loo)
        for (int64_t k = 0; k < s->test_start[s->n_folds]; k++) tested[s->test[k]] = 1;
    c->n_rest = 0;
    for (int64_t i = 0; i < n; i++)
        if (!tested[i]) c->rest[c->n_rest++] = i;
    btfm_free(tested);
    return BTFM_OK;
}

/* A target constant over the weighted samples cannot be regressed (nor scored). */
static btfm_status check_targets(const ridge_ctx *c)
{
    for (int64_t j = 0; j < c->t; j++) {
        double first = 0;
        int64_t i0 = -1, differs = 0;
        for (int64_t i = 0; i < c->n && !differs; i++) {
            if (ridge_w(c, i) == 0) continue;
            double v = c->y[i * c->t + j];
            if (i0 < 0) {
                i0 = i;
                first = v;
            } else if (v != first) {
                differs = 1;
            }
        }
        if (!differs)
            return btfm_fail(BTFM_E_INVALID, "%s: y: target %lld is constant (%g in every "
                             "sample); remove it or give it variance", c->func, (long long)j,
                             first);
    }
    return BTFM_OK;
}

btfm_status btfm_ridge_begin(btfm_model *m, const float *x, int64_t n, int64_t p,
                             const float *y, int64_t t, int with_cv, ridge_ctx *c,
                             model_splits *splits, float **owned, btfm_progress *progress,
                             const char *func)
{
    const float *design;
    memset(splits, 0, sizeof *splits);
    memset(c, 0, sizeof *c);
    *owned = NULL;
    const model_input in = btfm_model_settings_input(m);
    int64_t width;
    btfm_status st = btfm_model_design(x, n, p, &in, m->groups, &design, owned, &width, func);
    if (st) return st;
    int scoring = (int)MODEL_PARAM(m, SCORING);
    if (scoring == BTFM_SCORE_DEFAULT) scoring = BTFM_SCORE_R2;
    *c = (ridge_ctx){
        .x = design, .y = y, .n = n, .p = width, .t = t,
        .w = m->weights, .alphas = m->alphas, .n_alphas = m->n_alphas,
        .intercept = MODEL_PARAM(m, FIT_INTERCEPT) != 0,
        .standardize = MODEL_PARAM(m, STANDARDIZE) != 0,
        .per_target = MODEL_PARAM(m, ALPHA_PER_TARGET) != 0,
        .scoring = scoring, .progress = progress, .func = func,
    };
    if (MODEL_PARAM(m, SOLVER) == BTFM_MODEL_NEWTON)
        st = btfm_fail(BTFM_E_INVALID, "%s: solver 3 (newton) applies to logistic regression "
                       "and Bradley-Terry; ridge takes 0 (auto), 1 (primal) or 2 (dual)", func);
    if (!st && scoring != BTFM_SCORE_R2 && scoring != BTFM_SCORE_NEG_MSE &&
        scoring != BTFM_SCORE_PEARSON)
        st = btfm_fail(BTFM_E_INVALID, "%s: scoring is %s; ridge is scored by r2, neg_mse or "
                       "pearson", func, btfm_model_score_name(scoring));
    if (!st && with_cv) {
        int min_test = scoring == BTFM_SCORE_NEG_MSE ? 1 : 2;
        st = btfm_model_make_splits(m, n, 1, min_test, splits, func);
        c->splits = splits;
    }
    if (!st) st = prepare(c);
    if (!st) st = check_targets(c);
    if (!st && c->splits) {
        c->cv = btfm_model_doubles((size_t)c->n_alphas * (size_t)t, func);
        if (!c->cv) st = BTFM_E_NOMEM;
    }
    return st;
}

void btfm_ridge_end(ridge_ctx *c, model_splits *splits, float *owned)
{
    btfm_free(c->cv);
    btfm_free(c->best);
    btfm_free(c->mu_x);
    btfm_free(c->mu_y);
    btfm_free(c->rest);
    btfm_model_splits_clear(splits);
    btfm_free(owned);
}

int btfm_ridge_use_dual(const btfm_model *m, int64_t n, int64_t P)
{
    const int solver = (int)MODEL_PARAM(m, SOLVER);
    return solver == BTFM_RIDGE_DUAL || (solver == BTFM_RIDGE_AUTO && P > n);
}

btfm_status btfm_ridge_share(const ridge_share *sh, double *const *ptr, const int64_t *len,
                             int count, btfm_status st)
{
    if ((st = sh->agree(sh->ctx, st))) return st;
    for (int i = 0; i < count && !st; i++) st = sh->bcast(sh->ctx, ptr[i], len[i]);
    return st;
}

btfm_status btfm_model_fit_ridge(btfm_model *m, const float *x, int64_t n, int64_t p,
                                 const float *y, int64_t t, const ridge_share *share,
                                 model_fit *fit)
{
    const char *func = "btfm_model_fit";
    ridge_ctx c;
    model_splits splits;
    float *owned = NULL;
    btfm_progress progress;
    btfm_status st = btfm_progress_start(&progress, m->progress, m->progress_user, "ridge");
    if (!st) st = btfm_ridge_begin(m, x, n, p, y, t, m->n_alphas > 1, &c, &splits, &owned,
                                   &progress, func);
    if (!st) c.share = share;
    const int dual = !st && btfm_ridge_use_dual(m, n, c.p);
    if (!st) st = btfm_ridge_fit_alloc(fit, c.p, t, dual, n, func);
    if (!st) st = dual ? btfm_ridge_dual(&c, fit) : btfm_ridge_primal(&c, fit);
    if (!st && MODEL_PARAM(m, NOISE_RANK) > 0)
        st = btfm_model_noise_factor(fit, c.x, n, y, (int64_t)MODEL_PARAM(m, NOISE_RANK), func);
    if (!st) st = btfm_progress_done(&progress, "ridge");
    if (!st) {
        fit->n_features = p;
        fit->sum_weights = c.sw;
        for (int64_t j = 0; j < t; j++) fit->alpha[j] = c.alphas[c.best[j]];
        if (c.cv) {
            fit->cv_scores = c.cv;
            fit->n_cv_alphas = c.n_alphas;
            c.cv = NULL;
        }
    }
    btfm_ridge_end(&c, &splits, owned);
    return st;
}
