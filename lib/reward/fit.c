/* Fitting a reward head: ratings standardized within annotators, the reliability of a
 * rating from items rated twice, brain decoders (ridge on ratings, Bradley-Terry on
 * pairs, stacked) with cross-validation by annotator, the decoder's out-of-fold slope and
 * noise on the latent reward, and the confidence, penalty and novelty readouts.
 * The model and its equations: doc/rlhb.md. Everything is built aside and swapped in
 * only when the whole fit succeeded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "reward_internal.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "dense/dense.h"

typedef struct fit_data {
    const btfm_reward_head *h;
    int64_t n, d, k;          /* rows, features, folds */
    const float *xs;          /* standardized features, n x d */
    int32_t *fold;            /* fold of each row (its annotator's) */
    float *z;                 /* standardized ratings (NaN: none) */
    int64_t *rated;           /* rows with a rating */
    int64_t n_rated;
    double *alphas;
    int n_alphas;
    const char *func;
} fit_data;

static int quiet(const char *stage, double fraction, void *user)
{
    (void)stage, (void)fraction, (void)user;
    return 0;
}

/* Columns with `role` among the roles (all of value, confidence, penalty when NULL). */
static int64_t role_columns(const int32_t *roles, int64_t d, int role, int64_t *cols)
{
    int64_t c = 0;
    for (int64_t j = 0; j < d; j++)
        if (roles ? (roles[j] & role) : (role != BTFM_REWARD_ROLE_NOVELTY)) cols[c++] = j;
    return c;
}

/* rows x cols of xs (rows NULL: every row) into a new float matrix. */
static float *gather(const fit_data *fd, const int64_t *rows, int64_t n_rows,
                     const int64_t *cols, int64_t n_cols)
{
    float *out = btfm_dense_zeros_f(n_rows, n_cols, fd->func);
    if (!out) return NULL;
    for (int64_t i = 0; i < n_rows; i++) {
        const float *src = fd->xs + (size_t)(rows ? rows[i] : i) * fd->d;
        for (int64_t c = 0; c < n_cols; c++) out[i * n_cols + c] = src[cols[c]];
    }
    return out;
}

/* A model of `type` with the head's grid (or one alpha), groups (fold ids) and weights. */
static btfm_status make_model(btfm_model **m, int type, const double *alphas, int n_alphas,
                              const int64_t *groups, const double *weights, int64_t n)
{
    btfm_status st = btfm_model_new(m, type);
    if (!st) st = btfm_model_set_progress(*m, quiet, NULL);
    if (!st && alphas) st = btfm_model_set_alphas(*m, alphas, n_alphas);
    if (!st && groups && n_alphas > 1) st = btfm_model_set_param(*m, BTFM_MODEL_PARAM_CV, 1);
    if (!st && groups) st = btfm_model_set_groups(*m, groups, n);
    if (!st && weights) st = btfm_model_set_sample_weight(*m, weights, n);
    return st;
}

/* 0, 1 or 2 (meaning two or more) distinct values among n. */
static int distinct_count(const int64_t *v, int64_t n)
{
    for (int64_t i = 1; i < n; i++)
        if (v[i] != v[0]) return 2;
    return n ? 1 : 0;
}

/* The out-of-fold refits of one decoder run as one task per fold on the library's
 * threads (a fold's rows of the output belong to its task alone). */
typedef struct ridge_oof {
    const fit_data *fd;
    const float *x;        /* n_rows x n_cols */
    const int64_t *groups; /* fold of each row */
    const float *y;
    const double *weights;
    int64_t n_rows, n_cols;
    double alpha;          /* the one penalty when the training folds are one group */
    double *oof;
} ridge_oof;

static btfm_status ridge_fold(void *arg, int64_t fold, int worker)
{
    const ridge_oof *c = arg;
    const fit_data *fd = c->fd;
    const int64_t n_rows = c->n_rows, n_cols = c->n_cols;
    (void)worker;
    int64_t n_train = 0;
    for (int64_t i = 0; i < n_rows; i++) n_train += c->groups[i] != fold;
    const int64_t n_test = n_rows - n_train;
    if (!n_test) return BTFM_OK;
    btfm_status st = BTFM_OK;
    float *xt = btfm_dense_zeros_f(n_train ? n_train : 1, n_cols, fd->func);
    float *yt = btfm_dense_zeros_f(n_train ? n_train : 1, 1, fd->func);
    double *wt = c->weights ? btfm_dense_zeros(n_train ? n_train : 1, 1, fd->func) : NULL;
    float *xo = btfm_dense_zeros_f(n_test, n_cols, fd->func);
    float *pred = btfm_dense_zeros_f(n_test, 1, fd->func);
    int64_t *gt = btfm_malloc((size_t)(n_train ? n_train : 1) * sizeof *gt);
    if (!xt || !yt || (c->weights && !wt) || !xo || !pred || !gt) st = BTFM_E_NOMEM;
    int64_t t = 0, o = 0;
    for (int64_t i = 0; !st && i < n_rows; i++) {
        if (c->groups[i] != fold) {
            gt[t] = c->groups[i];
            memcpy(xt + t * n_cols, c->x + i * n_cols, (size_t)n_cols * sizeof *xt);
            yt[t] = c->y[i];
            if (wt) wt[t] = c->weights[i];
            t++;
        } else {
            memcpy(xo + o * n_cols, c->x + i * n_cols, (size_t)n_cols * sizeof *xo);
            o++;
        }
    }
    if (!st && n_train >= 2) {
        btfm_model *m = NULL;
        int inner = distinct_count(gt, n_train) > 1 && fd->n_alphas > 1;
        st = make_model(&m, BTFM_MODEL_RIDGE, inner ? fd->alphas : &c->alpha,
                        inner ? fd->n_alphas : 1, inner ? gt : NULL, wt, n_train);
        if (!st) st = btfm_model_fit(m, xt, n_train, n_cols, yt, 1);
        if (!st) st = btfm_model_predict(m, pred, xo, n_test, n_cols);
        btfm_model_free(m);
    }
    o = 0;
    for (int64_t i = 0; !st && i < n_rows; i++)
        if (c->groups[i] == fold) c->oof[i] = pred[o++];
    btfm_free(xo);
    btfm_free(gt);
    btfm_free(xt);
    btfm_free(yt);
    btfm_free(wt);
    btfm_free(pred);
    return st;
}

/* fn(ctx, f) for every fold f, on as many threads as `work` (operations per fold) is
 * worth, with OpenBLAS on one thread inside them when the host lets the library set it. */
static btfm_status on_folds(const fit_data *fd, btfm_task_fn fn, void *ctx, double work)
{
    const int threads = btfm_dense_blas_workers(btfm_parallel_threads(fd->k, work * fd->k));
    const int blas = threads > 1 ? btfm_dense_blas_threads_push(1) : 0;
    btfm_status st = btfm_parallel_for(threads, fd->k, fn, ctx);
    btfm_dense_blas_threads_pop(blas);
    return st;
}

/* Ridge of target y (one per listed row) on the given columns: coefficients into coef
 * (n_cols), intercept, chosen alpha; out-of-fold predictions (by fold, with that alpha)
 * into oof when not NULL. */
static btfm_status ridge(const fit_data *fd, const int64_t *rows, int64_t n_rows,
                         const int64_t *cols, int64_t n_cols, const float *y,
                         const double *weights, double *coef, double *intercept,
                         double *alpha, double *oof)
{
    btfm_status st = BTFM_OK;
    float *x = gather(fd, rows, n_rows, cols, n_cols);
    int64_t *groups = btfm_malloc((size_t)n_rows * sizeof *groups);
    float *c = btfm_dense_zeros_f(n_cols, 1, fd->func);
    btfm_model *m = NULL;
    if (!x || !groups || !c) st = BTFM_E_NOMEM;
    for (int64_t i = 0; !st && i < n_rows; i++) groups[i] = fd->fold[rows[i]];
    int multi = !st && distinct_count(groups, n_rows) > 1;
    if (!st) st = make_model(&m, BTFM_MODEL_RIDGE, fd->alphas, multi ? fd->n_alphas : 1,
                             multi ? groups : NULL, weights, n_rows);
    if (!st) st = btfm_model_fit(m, x, n_rows, n_cols, y, 1);
    if (!st) st = btfm_model_coef(m, c, (size_t)n_cols);
    if (!st) st = btfm_model_intercept(m, intercept, 1);
    if (!st) st = btfm_model_alpha(m, alpha, 1);
    for (int64_t j = 0; !st && j < n_cols; j++) coef[j] = c[j];
    btfm_model_free(m);
    m = NULL;
    /* Out of fold: refit without each fold, choosing alpha again inside it (nested), so
     * the held-out predictions carry no selection from the fold they predict. */
    if (!st && oof) {
        ridge_oof ctx = {fd, x, groups, y, weights, n_rows, n_cols, *alpha, oof};
        st = on_folds(fd, ridge_fold, &ctx, (double)n_rows * n_cols * n_cols);
    }
    btfm_free(x);
    btfm_free(groups);
    btfm_free(c);
    return st;
}

typedef struct bt_oof {
    const fit_data *fd;
    const float *x; /* every row's value columns, n x n_cols */
    int64_t n_cols;
    const int64_t *groups; /* fold of each pair (its chosen item's) */
    const double *w;
    double alpha;
    double *oof;
} bt_oof;

/* The scores of fold f's rows from the pairs that touch no item of fold f. */
static btfm_status bt_fold(void *arg, int64_t f, int worker)
{
    const bt_oof *c = arg;
    const fit_data *fd = c->fd;
    const btfm_reward_head *h = fd->h;
    const int64_t P = h->n_pairs;
    (void)worker;
    int64_t *sub = btfm_malloc((size_t)P * 2 * sizeof *sub);
    int64_t *gsub = btfm_malloc((size_t)P * sizeof *gsub);
    double *ws = btfm_dense_zeros(P, 1, fd->func);
    float *scores = btfm_dense_zeros_f(fd->n, 1, fd->func);
    btfm_status st = sub && gsub && ws && scores ? BTFM_OK : BTFM_E_NOMEM;
    int64_t n_sub = 0;
    for (int64_t p = 0; !st && p < P; p++)
        if (c->groups[p] != f && fd->fold[h->pairs[2 * p + 1]] != f) {
            sub[2 * n_sub] = h->pairs[2 * p];
            sub[2 * n_sub + 1] = h->pairs[2 * p + 1];
            gsub[n_sub] = c->groups[p];
            ws[n_sub++] = c->w[p];
        }
    if (!st && n_sub != P && n_sub != 0) {
        btfm_model *m = NULL;
        int inner = distinct_count(gsub, n_sub) > 1 && fd->n_alphas > 1;
        st = make_model(&m, BTFM_MODEL_BRADLEY_TERRY, inner ? fd->alphas : &c->alpha,
                        inner ? fd->n_alphas : 1, inner ? gsub : NULL, ws, n_sub);
        if (!st) st = btfm_model_fit_pairs(m, c->x, fd->n, c->n_cols, sub, NULL, n_sub);
        if (!st) st = btfm_model_predict(m, scores, c->x, fd->n, c->n_cols);
        for (int64_t i = 0; !st && i < fd->n; i++)
            if (fd->fold[i] == f) c->oof[i] = scores[i];
        btfm_model_free(m);
    }
    btfm_free(sub);
    btfm_free(gsub);
    btfm_free(ws);
    btfm_free(scores);
    return st;
}

/* Bradley-Terry on the pairs over every row's value columns: coefficients, alpha, and
 * out-of-fold scores of every row (oof, n values). */
static btfm_status bradley_terry(const fit_data *fd, const int64_t *cols, int64_t n_cols,
                                 double *coef, double *alpha, double *oof)
{
    const btfm_reward_head *h = fd->h;
    const int64_t P = h->n_pairs;
    btfm_status st = BTFM_OK;
    float *x = gather(fd, NULL, fd->n, cols, n_cols);
    int64_t *groups = btfm_malloc((size_t)P * sizeof *groups);
    double *w = btfm_dense_zeros(P, 1, fd->func);
    float *c = btfm_dense_zeros_f(n_cols, 1, fd->func);
    float *scores = btfm_dense_zeros_f(fd->n, 1, fd->func);
    btfm_model *m = NULL;
    if (!x || !groups || !w || !c || !scores) st = BTFM_E_NOMEM;
    for (int64_t p = 0; !st && p < P; p++) {
        groups[p] = fd->fold[h->pairs[2 * p]];
        w[p] = h->pair_weight ? h->pair_weight[p] : 1.0;
    }
    int multi = !st && distinct_count(groups, P) > 1;
    if (!st) st = make_model(&m, BTFM_MODEL_BRADLEY_TERRY, fd->alphas,
                             multi ? fd->n_alphas : 1, multi ? groups : NULL, w, P);
    if (!st) st = btfm_model_fit_pairs(m, x, fd->n, n_cols, h->pairs, NULL, P);
    if (!st) st = btfm_model_coef(m, c, (size_t)n_cols);
    if (!st) st = btfm_model_alpha(m, alpha, 1);
    for (int64_t j = 0; !st && j < n_cols; j++) coef[j] = c[j];
    if (!st) st = btfm_model_predict(m, scores, x, fd->n, n_cols); /* rows in no training pair */
    for (int64_t i = 0; !st && i < fd->n; i++) oof[i] = scores[i];
    btfm_model_free(m);
    m = NULL;
    if (!st) {
        bt_oof ctx = {fd, x, n_cols, groups, w, *alpha, oof};
        st = on_folds(fd, bt_fold, &ctx, (double)P * n_cols * 50 * fd->n_alphas);
    }
    btfm_free(x);
    btfm_free(groups);
    btfm_free(w);
    btfm_free(c);
    btfm_free(scores);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Ratings standardized within each annotator (btfm_reward_standardize_ratings). */
/* The labels of ratings-only mode: each row's standardized rating, and for a row
 * without one that the pairs compare, its standardized score from the preferences alone
 * (btfm_reward_pair_scores), each standardized within the annotator on its own. */
static btfm_status standardize_ratings(fit_data *fd, const int32_t *group, int64_t n_groups,
                                       reward_fit *f)
{
    const btfm_reward_head *h = fd->h;
    const int from_pairs = h->pairs && (int)h->params[BTFM_REWARD_PARAM_MODE] ==
                                           BTFM_REWARD_RATINGS_ONLY;
    btfm_status st = BTFM_OK;
    f->rating_scale = 0;
    if (h->ratings) {
        st = btfm_reward_standardize_ratings(fd->z, &f->rating_scale, h->ratings, fd->n, group,
                                             n_groups, 0, fd->func);
        if (!st && !(f->rating_scale > 0))
            st = btfm_fail(BTFM_E_INVALID, "%s: ratings: every annotator gave a single distinct "
                           "rating; expected ratings that vary within annotators", fd->func);
    } else {
        for (int64_t i = 0; i < fd->n; i++) fd->z[i] = NAN;
    }
    if (st || !from_pairs) return st;
    float *s = btfm_dense_zeros_f(fd->n, 2, fd->func);
    if (!s) return BTFM_E_NOMEM;
    float *zs = s + fd->n;
    double scale = 0;
    st = btfm_reward_pair_scores(s, (size_t)fd->n, fd->n, h->pairs, h->pair_weight, h->n_pairs,
                                 1.0);
    if (!st) st = btfm_reward_standardize_ratings(zs, &scale, s, fd->n, group, n_groups, 0,
                                                  fd->func);
    if (!st && !h->ratings) {
        if (!(scale > 0))
            st = btfm_fail(BTFM_E_INVALID, "%s: pairs: the preferences give every item the "
                           "same score; expected preferences that order items", fd->func);
        f->rating_scale = 1; /* labels in pair-score units */
    }
    for (int64_t i = 0; !st && i < fd->n; i++)
        if (isnan(fd->z[i]) && !isnan(zs[i])) fd->z[i] = zs[i];
    btfm_free(s);
    return st;
}

/* Reliability v: the mean product of the standardized ratings two different annotators
 * gave the same item (the variance they share), within [0.05, 0.95]; 0.5 with fewer
 * than ten such products. */
typedef struct keyed { int64_t item, row; } keyed;
static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->item < y->item ? -1 : x->item > y->item ? 1 : (x->row > y->row) - (x->row < y->row);
}

static btfm_status reliability(const fit_data *fd, const int32_t *group, double *v)
{
    const btfm_reward_head *h = fd->h;
    *v = h->params[BTFM_REWARD_PARAM_RELIABILITY];
    if (*v > 0) return BTFM_OK;
    *v = 0.5;
    if (!h->item_ids) return BTFM_OK;
    keyed *k = btfm_malloc((size_t)(fd->n_rated ? fd->n_rated : 1) * sizeof *k);
    if (!k) return btfm_fail_nomem(fd->func, (size_t)fd->n_rated * sizeof *k);
    for (int64_t r = 0; r < fd->n_rated; r++)
        k[r] = (keyed){h->item_ids[fd->rated[r]], fd->rated[r]};
    qsort(k, (size_t)fd->n_rated, sizeof *k, cmp_keyed);
    double sum = 0, count = 0;
    for (int64_t a = 0; a < fd->n_rated;) {
        int64_t b = a;
        while (b < fd->n_rated && k[b].item == k[a].item) b++;
        for (int64_t i = a; i < b; i++)
            for (int64_t j = i + 1; j < b; j++)
                if (group[k[i].row] != group[k[j].row]) {
                    sum += (double)fd->z[k[i].row] * fd->z[k[j].row];
                    count += 1;
                }
        a = b;
    }
    btfm_free(k);
    if (count >= 10) *v = fmin(0.95, fmax(0.05, sum / count));
    return BTFM_OK;
}

/* beta and sigma_b^2 of the out-of-fold brain reward b on the rated rows: the covariance
 * of z and b is beta v; the correlation is shrunk as an adjusted R^2 (n_params decoders
 * stacked) so a decoder that carries nothing gets no weight. */
static void brain_model(const fit_data *fd, const double *b, double v, int n_params,
                        reward_fit *f)
{
    double mz = 0, mb = 0, szz = 0, sbb = 0, szb = 0;
    const double n = (double)fd->n_rated;
    for (int64_t r = 0; r < fd->n_rated; r++) {
        mz += fd->z[fd->rated[r]];
        mb += b[fd->rated[r]];
    }
    mz /= n;
    mb /= n;
    for (int64_t r = 0; r < fd->n_rated; r++) {
        double dz = fd->z[fd->rated[r]] - mz, db = b[fd->rated[r]] - mb;
        szz += dz * dz;
        sbb += db * db;
        szb += dz * db;
    }
    f->brain_slope = 0;
    f->brain_noise = sbb > 0 ? sbb / (n - 1) : 1;
    if (!(szz > 0) || !(sbb > 0) || szb <= 0 || n < 4) return;
    double r = szb / sqrt(szz * sbb);
    /* A decoder whose held-out correlation is not above chance at the one-sided 5% level
     * gets no weight (the margin that keeps joint from trailing ratings-only on noise). */
    if (r * sqrt((n - 2) / (1 - r * r)) < 1.645) return;
    double r2 = r * r - (1 - r * r) * n_params / (n - n_params - 1);
    if (r2 <= 0) return;
    double var_b = sbb / (n - 1), sd_z = sqrt(szz / (n - 1));
    double cov = sqrt(r2) * sd_z * sqrt(var_b);
    f->brain_slope = cov / v;
    f->brain_noise = fmax(var_b - f->brain_slope * f->brain_slope * v, 0.05 * var_b);
}

/* The adjusted R^2 (one predictor) of predictions p of y, or 0 when they do not covary
 * positively. */
static double adjusted_r2(const double *p, const float *y, int64_t n)
{
    double mp = 0, my = 0, spp = 0, syy = 0, spy = 0;
    for (int64_t i = 0; i < n; i++) mp += p[i], my += y[i];
    mp /= (double)n, my /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        spp += (p[i] - mp) * (p[i] - mp);
        syy += (y[i] - my) * (y[i] - my);
        spy += (p[i] - mp) * (y[i] - my);
    }
    if (n < 4 || !(spp > 0) || !(syy > 0) || spy <= 0) return 0;
    double r2 = spy * spy / (spp * syy);
    r2 -= (1 - r2) / ((double)n - 2);
    return r2 > 0 ? r2 : 0;
}

/* Put coefficients of selected columns into column `which` of the fit's weights. */
static void place(reward_fit *f, int which, const int64_t *cols, int64_t n_cols,
                  const double *coef, double scale)
{
    for (int64_t c = 0; c < n_cols; c++)
        f->weights[cols[c] * REWARD_N_DECODERS + which] += scale * coef[c];
}

static btfm_status check_inputs(const btfm_reward_head *h, const float *x, int64_t n,
                                int64_t d, const int64_t *annotators, const char *func)
{
    BTFM_CHECK_ARG(h, func, "head");
    BTFM_CHECK_ARG(x, func, "features");
    BTFM_CHECK_ARG(annotators, func, "annotators");
    if (n < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: n_items is %lld: an empty session; expected at "
                         "least one item", func, (long long)n);
    if (d < 1 || d > ((int64_t)1 << 31))
        return btfm_fail(BTFM_E_INVALID, "%s: n_features is %lld; expected 1 .. 2^31", func,
                         (long long)d);
    int64_t row, col;
    if (btfm_dense_find_nonfinite(x, n, d, d, &row, &col))
        return btfm_dense_fail_nonfinite(func, "features", "feature", col, "item", row,
                                         x[row * d + col], NULL);
    if (!h->ratings && !h->pairs)
        return btfm_fail(BTFM_E_STATE, "%s: no labels: give ratings "
                         "(btfm_reward_head_set_ratings) or pairs (btfm_reward_head_set_pairs)",
                         func);
    if (h->ratings && h->n_ratings != n)
        return btfm_fail(BTFM_E_INVALID, "%s: ratings were given for %lld items; the features "
                         "have %lld", func, (long long)h->n_ratings, (long long)n);
    if (h->item_ids && h->n_item_ids != n)
        return btfm_fail(BTFM_E_INVALID, "%s: item ids were given for %lld items; the features "
                         "have %lld", func, (long long)h->n_item_ids, (long long)n);
    if (h->roles && h->n_roles != d)
        return btfm_fail(BTFM_E_INVALID, "%s: roles were given for %lld features; the features "
                         "have %lld", func, (long long)h->n_roles, (long long)d);
    for (int64_t p = 0; p < 2 * h->n_pairs; p++)
        if (h->pairs[p] >= n)
            return btfm_fail(BTFM_E_INVALID, "%s: pairs row %lld names item %lld; the features "
                             "have %lld items (0 .. %lld)", func, (long long)(p / 2),
                             (long long)h->pairs[p], (long long)n, (long long)(n - 1));
    if (h->ratings) {
        int64_t first = -1, distinct = 0;
        for (int64_t i = 0; i < n && distinct < 2; i++)
            if (!isnan(h->ratings[i])) {
                if (first < 0) first = i, distinct = 1;
                else if (h->ratings[i] != h->ratings[first]) distinct = 2;
            }
        if (distinct < 2)
            return btfm_fail(BTFM_E_INVALID, "%s: ratings: %s; expected at least two distinct "
                             "ratings", func, first < 0 ? "every rating is NaN (none given)"
                                                       : "a single distinct rating");
    }
    return BTFM_OK;
}

static btfm_status fit_all(fit_data *fd, const int32_t *group, int64_t n_groups, reward_fit *f,
                           btfm_progress *prog)
{
    const btfm_reward_head *h = fd->h;
    const int64_t n = fd->n, d = fd->d;
    btfm_status st = BTFM_OK;
    int64_t *cols = btfm_malloc((size_t)d * sizeof *cols);
    double *coef = btfm_dense_zeros(d, 1, fd->func), *coef2 = btfm_dense_zeros(d, 1, fd->func);
    double *b1 = btfm_dense_zeros(n, 1, fd->func), *b2 = btfm_dense_zeros(n, 1, fd->func);
    double *wts = btfm_dense_zeros(n, 1, fd->func);
    float *y = btfm_dense_zeros_f(n, 1, fd->func);
    if (!cols || !coef || !coef2 || !b1 || !b2 || !wts || !y) st = BTFM_E_NOMEM;
    const int use_conf = h->params[BTFM_REWARD_PARAM_USE_CONFIDENCE] != 0;
    double *w = NULL;
    const int pair_labels = h->pairs && (int)h->params[BTFM_REWARD_PARAM_MODE] ==
                                            BTFM_REWARD_RATINGS_ONLY;
    if (!st && (h->ratings || pair_labels)) {
        st = standardize_ratings(fd, group, n_groups, f);
        for (int64_t i = 0; !st && i < n; i++)
            if (!isnan(fd->z[i])) fd->rated[fd->n_rated++] = i;
        for (int64_t r = 0; r < fd->n_rated; r++) {
            y[r] = fd->z[fd->rated[r]];
            wts[r] = use_conf && h->rating_confidence && !isnan(h->ratings[fd->rated[r]])
                         ? h->rating_confidence[fd->rated[r]]
                         : 1;
        }
        w = use_conf && h->rating_confidence ? wts : NULL;
        if (!st) st = reliability(fd, group, &f->reliability);
        f->has_ratings = 1;
    }
    if (!st) st = btfm_progress_update(prog, "reward decoder", 0.1);
    const int64_t nv = st ? 0 : role_columns(h->roles, d, BTFM_REWARD_ROLE_VALUE, cols);
    double intercept = 0, alpha = 0, c0 = 0, c1 = 1, c2 = 0;
    if (!st && nv == 0)
        st = btfm_fail(BTFM_E_INVALID, "%s: no feature has the value role (roles)", fd->func);
    if (!st && f->has_ratings) {
        double *oof = btfm_dense_zeros(fd->n_rated, 1, fd->func);
        st = oof ? ridge(fd, fd->rated, fd->n_rated, cols, nv, y, w, coef, &intercept, &alpha,
                         oof)
                 : BTFM_E_NOMEM;
        for (int64_t r = 0; !st && r < fd->n_rated; r++) b1[fd->rated[r]] = oof[r];
        btfm_free(oof);
    }
    if (!st) st = btfm_progress_update(prog, "pairwise decoder", 0.4);
    double alpha_bt = 0;
    if (!st && h->pairs) st = bradley_terry(fd, cols, nv, coef2, &alpha_bt, b2);
    if (!st) st = btfm_progress_update(prog, "combining", 0.7);
    if (!st && f->has_ratings && h->pairs) {
        /* Stack: z ~ c0 + c1 b1 + c2 b2 on the rated rows (out of fold). */
        double *a = btfm_dense_zeros(fd->n_rated, 3, fd->func), *t = btfm_dense_zeros(fd->n_rated, 1, fd->func);
        double beta[3];
        if (!a || !t) st = BTFM_E_NOMEM;
        for (int64_t r = 0; !st && r < fd->n_rated; r++) {
            a[3 * r] = 1;
            a[3 * r + 1] = b1[fd->rated[r]];
            a[3 * r + 2] = b2[fd->rated[r]];
            t[r] = fd->z[fd->rated[r]];
        }
        if (!st) st = btfm_dense_lstsq(a, fd->n_rated, 3, t, 1, -1, beta, NULL, fd->func);
        if (!st) {
            c0 = beta[0], c1 = beta[1], c2 = beta[2];
            if (c1 < 0 || c2 < 0) c0 = 0, c1 = c2 < 0, c2 = c2 < 0 ? 0 : 1;
            if (c2 > 0 && c1 == 0) {
                /* b2 alone: its scale onto z by least squares. */
                double sxy = 0, sxx = 0, mz = 0, mb = 0;
                for (int64_t r = 0; r < fd->n_rated; r++) mz += t[r], mb += a[3 * r + 2];
                mz /= fd->n_rated, mb /= fd->n_rated;
                for (int64_t r = 0; r < fd->n_rated; r++) {
                    sxy += (a[3 * r + 2] - mb) * (t[r] - mz);
                    sxx += (a[3 * r + 2] - mb) * (a[3 * r + 2] - mb);
                }
                c2 = sxx > 0 && sxy > 0 ? sxy / sxx : 0;
                c0 = mz - c2 * mb;
                c1 = c2 > 0 ? 0 : 1;
            }
        }
        btfm_free(a);
        btfm_free(t);
    } else if (!f->has_ratings) {
        c1 = 0, c2 = 1;
    }
    if (!st) {
        for (int64_t i = 0; i < n; i++) b1[i] = c0 + c1 * (b1[i] + 0) + c2 * b2[i];
        /* b1 held ridge predictions including the intercept already. */
        place(f, 0, cols, nv, coef, c1);
        place(f, 0, cols, nv, coef2, c2);
        f->intercept[0] = c0 + c1 * intercept;
        f->alpha = c1 > 0 ? alpha : alpha_bt;
        if (f->has_ratings) {
            brain_model(fd, b1, f->reliability, (c1 > 0) + (c2 > 0) > 1 ? 2 : 1, f);
        } else {
            double m = 0, q = 0;
            for (int64_t i = 0; i < n; i++) m += b1[i];
            m /= n;
            for (int64_t i = 0; i < n; i++) q += (b1[i] - m) * (b1[i] - m);
            f->intercept[0] -= m;
            f->brain_sd = n > 1 ? sqrt(q / (n - 1)) : 0;
            f->brain_slope = NAN;
            f->brain_noise = NAN;
            f->reliability = NAN;
        }
    }
    if (!st) st = btfm_progress_update(prog, "confidence and penalty", 0.8);
    /* Rating reliability from the brain: a ridge of rating confidence. */
    if (!st && f->has_ratings && use_conf && h->rating_confidence) {
        const int64_t nc = role_columns(h->roles, d, BTFM_REWARD_ROLE_CONFIDENCE, cols);
        double m = 0;
        int varies = 0;
        for (int64_t r = 0; r < fd->n_rated; r++) {
            y[r] = h->rating_confidence[fd->rated[r]];
            m += y[r];
            varies |= y[r] != y[0];
        }
        f->confidence_mean = m / fd->n_rated;
        double *oof = nc > 0 && varies ? btfm_dense_zeros(fd->n_rated, 1, fd->func) : NULL;
        if (nc > 0 && varies && !oof) st = BTFM_E_NOMEM;
        if (oof) {
            double ic, ac;
            memset(coef, 0, (size_t)d * sizeof *coef);
            st = ridge(fd, fd->rated, fd->n_rated, cols, nc, y, NULL, coef, &ic, &ac, oof);
            /* Kept only as far as it predicts held-out confidence: its adjusted R^2. */
            double gain = st ? 0 : adjusted_r2(oof, y, fd->n_rated);
            if (!st && gain > 0) {
                place(f, 1, cols, nc, coef, 1.0);
                f->intercept[1] = ic;
                f->confidence_gain = gain;
                f->has_confidence = 1;
            }
            btfm_free(oof);
        }
    }
    /* Negative affect: logistic regression of "disliked" (z below its quantile). */
    if (!st && f->has_ratings) {
        const double q = h->params[BTFM_REWARD_PARAM_PENALTY_QUANTILE];
        double *sorted = btfm_dense_zeros(fd->n_rated, 1, fd->func);
        int32_t *labels = btfm_malloc((size_t)fd->n_rated * sizeof *labels);
        int64_t *groups = btfm_malloc((size_t)fd->n_rated * sizeof *groups);
        const int64_t np = role_columns(h->roles, d, BTFM_REWARD_ROLE_PENALTY, cols);
        if (!sorted || !labels || !groups) st = BTFM_E_NOMEM;
        for (int64_t r = 0; !st && r < fd->n_rated; r++) sorted[r] = fd->z[fd->rated[r]];
        if (!st) qsort(sorted, (size_t)fd->n_rated, sizeof *sorted, cmp_double);
        double cut = st ? 0 : sorted[(int64_t)floor(q * (double)(fd->n_rated - 1))];
        int64_t pos = 0;
        for (int64_t r = 0; !st && r < fd->n_rated; r++) {
            labels[r] = fd->z[fd->rated[r]] <= cut;
            pos += labels[r];
            groups[r] = fd->fold[fd->rated[r]];
        }
        f->penalty_threshold = btfm_reward_phi_inv(q) * sqrt(f->reliability);
        if (!st && np > 0 && pos >= 2 && fd->n_rated - pos >= 2) {
            float *x = gather(fd, fd->rated, fd->n_rated, cols, np);
            float *c = btfm_dense_zeros_f(np, 1, fd->func);
            btfm_model *m = NULL;
            int multi = distinct_count(groups, fd->n_rated) > 1;
            st = x && c ? make_model(&m, BTFM_MODEL_LOGISTIC, NULL, multi ? 10 : 1,
                                     multi ? groups : NULL, NULL, fd->n_rated)
                        : BTFM_E_NOMEM;
            if (!st && !multi) {
                const double one = 1.0;
                st = btfm_model_set_alphas(m, &one, 1);
            }
            if (!st) st = btfm_model_fit_classes(m, x, fd->n_rated, np, labels);
            if (!st) st = btfm_model_coef(m, c, (size_t)np);
            if (!st) st = btfm_model_intercept(m, &f->intercept[2], 1);
            for (int64_t j = 0; !st && j < np; j++) coef[j] = c[j];
            if (!st) {
                place(f, 2, cols, np, coef, 1.0);
                f->has_penalty = 1;
            }
            btfm_model_free(m);
            btfm_free(x);
            btfm_free(c);
        }
        btfm_free(sorted);
        btfm_free(labels);
        btfm_free(groups);
    }
    /* Novelty: the mean of the novelty features, standardized over the training rows. */
    if (!st) {
        const int64_t nn = h->roles ? role_columns(h->roles, d, BTFM_REWARD_ROLE_NOVELTY, cols) : 0;
        if (nn > 0) {
            double m = 0, qq = 0;
            for (int64_t c = 0; c < nn; c++) f->weights[cols[c] * REWARD_N_DECODERS + 3] = 1.0 / nn;
            for (int64_t i = 0; i < n; i++) {
                double s = 0;
                for (int64_t c = 0; c < nn; c++) s += fd->xs[i * d + cols[c]];
                b2[i] = s / nn;
                m += b2[i];
            }
            m /= n;
            for (int64_t i = 0; i < n; i++) qq += (b2[i] - m) * (b2[i] - m);
            f->novelty_center = m;
            f->novelty_scale = n > 1 && qq > 0 ? sqrt(qq / (n - 1)) : 1;
            f->has_novelty = 1;
        }
    }
    btfm_free(cols);
    btfm_free(coef);
    btfm_free(coef2);
    btfm_free(b1);
    btfm_free(b2);
    btfm_free(wts);
    btfm_free(y);
    return st;
}

btfm_status btfm_reward_head_fit(btfm_reward_head *h, const float *features, int64_t n_items,
                                 int64_t n_features, const int64_t *annotators)
{
    const char *func = "btfm_reward_head_fit";
    btfm_status st = check_inputs(h, features, n_items, n_features, annotators, func);
    if (st) return st;
    const int64_t n = n_items, d = n_features;
    const int k = (int)h->params[BTFM_REWARD_PARAM_FOLDS];
    btfm_progress prog;
    st = btfm_progress_start(&prog, h->progress, h->progress_user, "reward head");
    if (st) return st;
    fit_data fd = {.h = h, .n = n, .d = d, .k = k, .func = func};
    int32_t *group = btfm_malloc((size_t)n * sizeof *group);
    fd.fold = btfm_malloc((size_t)n * sizeof *fd.fold);
    fd.z = btfm_dense_zeros_f(n, 1, func);
    fd.rated = btfm_malloc((size_t)n * sizeof *fd.rated);
    float *xs = btfm_dense_zeros_f(n, d, func);
    reward_fit *f = btfm_calloc(1, sizeof *f);
    int64_t n_groups = 0;
    if (!group || !fd.fold || !fd.z || !fd.rated || !xs || !f) st = btfm_fail_nomem(func, 0);
    if (f) {
        f->roles = btfm_malloc((size_t)d * sizeof *f->roles);
        f->center = btfm_dense_zeros(d, 1, func);
        f->scale = btfm_dense_zeros(d, 1, func);
        f->weights = btfm_dense_zeros(d, REWARD_N_DECODERS, func);
        f->config = btfm_malloc(h->config ? strlen(h->config) + 1 : 1);
        if (!st && (!f->roles || !f->center || !f->scale || !f->weights || !f->config))
            st = btfm_fail_nomem(func, (size_t)d * 48);
    }
    if (!st) st = btfm_reward_group_ids(annotators, n, group, &n_groups, func);
    if (!st && n_groups < k)
        st = btfm_fail(BTFM_E_INVALID, "%s: annotators: %lld distinct annotator%s, fewer than "
                       "the %d folds of the cross-validation by annotator; record more "
                       "annotators or lower the folds parameter", func, (long long)n_groups,
                       n_groups == 1 ? "" : "s", k);
    if (!st) {
        for (int64_t i = 0; i < n; i++) fd.fold[i] = group[i] % k;
        f->n_features = d;
        f->normalize = h->params[BTFM_REWARD_PARAM_NORMALIZE] != 0;
        for (int64_t j = 0; j < d; j++)
            f->roles[j] = h->roles ? h->roles[j]
                                   : BTFM_REWARD_ROLE_VALUE | BTFM_REWARD_ROLE_CONFIDENCE |
                                         BTFM_REWARD_ROLE_PENALTY;
        strcpy(f->config, h->config ? h->config : "");
        f->reliability = 0.5;
        st = btfm_reward_standardize(xs, features, n, d, group, n_groups, f->normalize, NULL,
                                     NULL, f->center, f->scale, func);
    }
    int n_alphas = (int)h->params[BTFM_REWARD_PARAM_N_ALPHAS];
    double lo = h->params[BTFM_REWARD_PARAM_ALPHA_MIN], hi = h->params[BTFM_REWARD_PARAM_ALPHA_MAX];
    if (!st && !(lo <= hi))
        st = btfm_fail(BTFM_E_INVALID, "%s: alpha_min (%g) exceeds alpha_max (%g)", func, lo, hi);
    fd.alphas = st ? NULL : btfm_dense_zeros(n_alphas, 1, func);
    if (!st && !fd.alphas) st = BTFM_E_NOMEM;
    for (int a = 0; !st && a < n_alphas; a++)
        fd.alphas[a] = n_alphas == 1 ? lo : lo * pow(hi / lo, (double)a / (n_alphas - 1));
    fd.n_alphas = n_alphas;
    fd.xs = xs;
    if (!st) st = fit_all(&fd, group, n_groups, f, &prog);
    if (!st) st = btfm_progress_done(&prog, "reward head");
    btfm_free(group);
    btfm_free(fd.fold);
    btfm_free(fd.z);
    btfm_free(fd.rated);
    btfm_free(fd.alphas);
    btfm_free(xs);
    if (st) {
        btfm_reward_fit_free(f);
        return st;
    }
    btfm_reward_fit_free(h->fit);
    h->fit = f;
    return BTFM_OK;
}
