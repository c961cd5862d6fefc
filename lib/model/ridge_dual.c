/* Ridge's dual route (features outnumber samples, as in encoding models with FIR
 * delays): each training set's kernel matrix Z Z^T of the weighted, centered (and
 * standardized) design is eigendecomposed once and serves every alpha, held-out
 * predictions come from the test-by-training kernel in that eigenbasis, and leave-one-out
 * is the closed form on the whole kernel. The fit keeps the dual coefficients and the
 * training design, so prediction costs samples x (features + targets) per row. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "ridge_internal.h"
#include "dense/dense.h"

/* One training set: its rows, weights, means and kernel eigendecomposition. */
typedef struct dual_set {
    int64_t n_tr, n_te;
    int64_t *tr;      /* training rows */
    const int64_t *te;/* test rows (folds only) */
    double sw_tr;
    double *mx;       /* P: training mean of x' (0 without intercept) */
    double *factor;   /* P: column factors */
    double *zs;       /* n_tr x P: sqrt(w) (x' - mx) factor */
    double *Q;        /* n_tr x n_tr eigenvectors (columns) */
    double *lam;      /* n_tr eigenvalues, descending, >= 0 */
    double *M;        /* n_te x n_tr: test kernel in the eigenbasis */
} dual_set;

static void dset_clear(dual_set *s)
{
    btfm_free(s->tr);
    btfm_free(s->mx);
    btfm_free(s->factor);
    btfm_free(s->zs);
    btfm_free(s->Q);
    btfm_free(s->lam);
    btfm_free(s->M);
    memset(s, 0, sizeof *s);
}

static btfm_status dset_decompose(const ridge_ctx *c, dual_set *s);

/* Build training set `f` (-1: every sample): rows, means, factors, kernel, eigenbasis. */
static btfm_status dset_build(ridge_ctx *c, int f, dual_set *s)
{
    const model_splits *sp = c->splits;
    const int64_t n = c->n, P = c->p;
    const char *func = c->func;
    s->tr = btfm_malloc((size_t)n * sizeof *s->tr);
    s->mx = btfm_model_doubles((size_t)P, func);
    s->factor = btfm_model_doubles((size_t)P, func);
    double *sq = btfm_model_doubles((size_t)P, func);
    if (!s->tr || !s->mx || !s->factor || !sq) {
        btfm_free(sq);
        return BTFM_E_NOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        if (f < 0 || btfm_model_in_train(sp, f, i)) s->tr[s->n_tr++] = i;
    if (f >= 0) {
        s->te = sp->test + sp->test_start[f];
        s->n_te = sp->test_start[f + 1] - sp->test_start[f];
    }
    /* Weighted means and spreads of the training rows. */
    s->sw_tr = 0;
    for (int64_t r = 0; r < s->n_tr; r++) {
        const int64_t i = s->tr[r];
        const double wi = ridge_w(c, i);
        const float *xr = c->x + i * P;
        s->sw_tr += wi;
        for (int64_t k = 0; k < P; k++) {
            double v = xr[k] - c->mu_x[k];
            s->mx[k] += wi * v;
            sq[k] += wi * v * v;
        }
    }
    if (!(s->sw_tr > 0)) {
        btfm_free(sq);
        return btfm_fail(BTFM_E_INVALID, "%s: sample_weight: a training set has total weight "
                         "0", func);
    }
    for (int64_t k = 0; k < P; k++) {
        double mean = s->mx[k] / s->sw_tr;
        double var = sq[k] / s->sw_tr - mean * mean;
        s->mx[k] = c->intercept ? mean : 0.0;
        double sd = c->standardize ? sqrt(fmax(c->intercept ? var : sq[k] / s->sw_tr, 0)) : 1.0;
        s->factor[k] = (sd > 0 ? 1.0 / sd : 1.0) * (c->col_scale ? c->col_scale[k] : 1.0);
    }
    btfm_free(sq);
    /* The weighted, centered, scaled training rows and their kernel. */
    s->zs = btfm_dense_zeros(s->n_tr, P, func);
    s->Q = btfm_dense_zeros(s->n_tr, s->n_tr, func);
    s->lam = btfm_model_doubles((size_t)s->n_tr, func);
    if (f >= 0) s->M = btfm_dense_zeros(s->n_te, s->n_tr, func);
    if (!s->zs || !s->Q || !s->lam || (f >= 0 && !s->M)) return BTFM_E_NOMEM;
    for (int64_t r = 0; r < s->n_tr; r++) {
        const int64_t i = s->tr[r];
        const double sw = sqrt(ridge_w(c, i));
        const float *xr = c->x + i * P;
        double *z = s->zs + r * P;
        for (int64_t k = 0; k < P; k++) z[k] = sw * (xr[k] - c->mu_x[k] - s->mx[k]) * s->factor[k];
    }
    /* A distributed fit: one rank decomposes, the others receive the eigenbasis. */
    const ridge_share *sh = c->share;
    btfm_status st = !sh || sh->compute ? dset_decompose(c, s) : BTFM_OK;
    if (sh) {
        double *const ptr[3] = {s->Q, s->lam, s->M};
        const int64_t len[3] = {s->n_tr * s->n_tr, s->n_tr, s->n_te * s->n_tr};
        st = btfm_ridge_share(sh, ptr, len, f >= 0 ? 3 : 2, st);
    }
    return st;
}

/* The kernel of s's rows, its eigendecomposition and, for a fold, the test kernel in
 * that eigenbasis. */
static btfm_status dset_decompose(const ridge_ctx *c, dual_set *s)
{
    const int64_t P = c->p;
    const char *func = c->func;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)s->n_tr, (int)P, 1.0, s->zs,
                (int)P, 0.0, s->Q, (int)s->n_tr);
    btfm_status st = btfm_dense_syev(s->Q, s->n_tr, s->lam, func);
    if (st) return st;
    for (int64_t k = 0; k < s->n_tr; k++)
        if (!(s->lam[k] > 0)) s->lam[k] = 0;
    if (!s->M) return BTFM_OK; /* the final fit's set */
    /* M = (x_te - mx) factor zs^T Q: the test kernel in the eigenbasis. */
    double *zt = btfm_dense_zeros(s->n_te, P, func);
    double *kt = btfm_dense_zeros(s->n_te, s->n_tr, func);
    if (!zt || !kt) {
        btfm_free(zt);
        btfm_free(kt);
        return BTFM_E_NOMEM;
    }
    for (int64_t r = 0; r < s->n_te; r++) {
        const float *xr = c->x + s->te[r] * P;
        for (int64_t k = 0; k < P; k++)
            zt[r * P + k] = (xr[k] - c->mu_x[k] - s->mx[k]) * s->factor[k];
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->n_te, (int)s->n_tr, (int)P,
                1.0, zt, (int)P, s->zs, (int)P, 0.0, kt, (int)s->n_tr);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->n_te, (int)s->n_tr,
                (int)s->n_tr, 1.0, kt, (int)s->n_tr, s->Q, (int)s->n_tr, 0.0, s->M,
                (int)s->n_tr);
    btfm_free(zt);
    btfm_free(kt);
    return BTFM_OK;
}

/* Scratch for one chunk of nc targets. */
typedef struct dual_buf {
    double *my;  /* nc: training means of y' */
    double *ys;  /* n x nc: sqrt(w) (y' - my) of the training rows, then residuals */
    double *C;   /* n x nc: Q^T ys */
    double *DC;  /* n x nc */
    double *pred;/* n x nc */
    double *mom; /* 6 x nc */
} dual_buf;

/* my and ys for the training rows of s, targets [j0, j0 + nc). */
static void dual_targets(const ridge_ctx *c, const dual_set *s, int64_t j0, int64_t nc,
                         dual_buf *b)
{
    memset(b->my, 0, (size_t)nc * sizeof *b->my);
    if (c->intercept) {
        for (int64_t r = 0; r < s->n_tr; r++) {
            const int64_t i = s->tr[r];
            const double wi = ridge_w(c, i);
            const float *yr = c->y + i * c->t + j0;
            for (int64_t j = 0; j < nc; j++) b->my[j] += wi * (yr[j] - c->mu_y[j0 + j]);
        }
        for (int64_t j = 0; j < nc; j++) b->my[j] /= s->sw_tr;
    }
    for (int64_t j = 0; j < nc; j++) b->mom[j] = c->mu_y[j0 + j] + b->my[j];
    btfm_ridge_gather(c, c->y, c->t, j0, nc, b->mom, s->tr, 0, s->n_tr, b->ys);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->n_tr, (int)nc, (int)s->n_tr,
                1.0, s->Q, (int)s->n_tr, b->ys, (int)nc, 0.0, b->C, (int)nc);
}

/* Fold scores of every alpha for targets [j0, j0 + nc), added to c->cv. */
static void dual_fold_scores(ridge_ctx *c, const dual_set *s, int64_t j0, int64_t nc,
                             dual_buf *b)
{
    const int64_t nt = s->n_tr, t = c->t;
    dual_targets(c, s, j0, nc, b);
    for (int a = 0; a < c->n_alphas; a++) {
        for (int64_t k = 0; k < nt; k++) {
            const double d = 1.0 / (s->lam[k] + c->alphas[a]);
            for (int64_t j = 0; j < nc; j++) b->DC[k * nc + j] = d * b->C[k * nc + j];
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->n_te, (int)nc, (int)nt,
                    1.0, s->M, (int)nt, b->DC, (int)nc, 0.0, b->pred, (int)nc);
        double sw = 0;
        memset(b->mom, 0, (size_t)(5 * nc) * sizeof *b->mom);
        double *sy = b->mom, *syy = sy + nc, *sp = syy + nc, *spp = sp + nc, *syp = spp + nc;
        for (int64_t r = 0; r < s->n_te; r++) {
            const int64_t i = s->te[r];
            const double wi = ridge_w(c, i);
            const float *yr = c->y + i * t + j0;
            const double *pr = b->pred + r * nc;
            sw += wi;
            for (int64_t j = 0; j < nc; j++) {
                const double yv = (double)yr[j] - c->mu_y[j0 + j] - b->my[j];
                sy[j] += wi * yv;
                syy[j] += wi * yv * yv;
                sp[j] += wi * pr[j];
                spp[j] += wi * pr[j] * pr[j];
                syp[j] += wi * yv * pr[j];
            }
        }
        for (int64_t j = 0; j < nc; j++)
            c->cv[a * t + j0 + j] +=
                btfm_ridge_fold_score(c->scoring, sw, sy[j], syy[j], sp[j], spp[j], syp[j]);
    }
}

/* Leave-one-out scores on the whole kernel: residuals Q diag(alpha / (lam + alpha)) C
 * over 1 - h_ii. */
static btfm_status dual_loo_scores(ridge_ctx *c, const dual_set *s, int64_t j0, int64_t nc,
                                   dual_buf *b)
{
    const int64_t n = s->n_tr, t = c->t;
    double *h = btfm_model_doubles((size_t)n, c->func);
    double *mom = btfm_dense_zeros(6, nc, c->func);
    if (!h || !mom) {
        btfm_free(h);
        btfm_free(mom);
        return BTFM_E_NOMEM;
    }
    dual_targets(c, s, j0, nc, b);
    for (int a = 0; a < c->n_alphas; a++) {
        const double alpha = c->alphas[a];
        for (int64_t k = 0; k < n; k++) {
            const double e = alpha / (s->lam[k] + alpha);
            for (int64_t j = 0; j < nc; j++) b->DC[k * nc + j] = e * b->C[k * nc + j];
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)nc, (int)n, 1.0,
                    s->Q, (int)n, b->DC, (int)nc, 0.0, b->pred, (int)nc);
        for (int64_t r = 0; r < n; r++) {
            double hi = c->intercept ? ridge_w(c, s->tr[r]) / s->sw_tr : 0.0;
            const double *q = s->Q + r * n;
            for (int64_t k = 0; k < n; k++) hi += q[k] * q[k] * s->lam[k] / (s->lam[k] + alpha);
            h[r] = 1.0 / (1.0 - hi);
        }
        memset(mom, 0, (size_t)(6 * nc) * sizeof *mom);
        for (int64_t r = 0; r < n; r++) {
            const int64_t i = s->tr[r];
            const double wi = ridge_w(c, i);
            const double *res = b->pred + r * nc;
            const float *yr = c->y + i * t + j0;
            for (int64_t j = 0; j < nc; j++) {
                const double e = res[j] * h[r];
                mom[j] += e * e;
                if (wi <= 0 || (c->scoring != BTFM_SCORE_PEARSON && c->scoring != BTFM_SCORE_R2))
                    continue;
                const double yv = (double)yr[j] - c->mu_y[j0 + j] - b->my[j];
                const double pv = yv - e / sqrt(wi);
                mom[nc + j] += wi * yv;
                mom[2 * nc + j] += wi * yv * yv;
                mom[3 * nc + j] += wi * pv;
                mom[4 * nc + j] += wi * pv * pv;
                mom[5 * nc + j] += wi * yv * pv;
            }
        }
        for (int64_t j = 0; j < nc; j++) {
            double score;
            if (c->scoring == BTFM_SCORE_NEG_MSE) {
                score = -mom[j] / (double)n;
            } else if (c->scoring == BTFM_SCORE_R2) {
                double sst = mom[2 * nc + j] - mom[nc + j] * mom[nc + j] / s->sw_tr;
                score = sst > 0 ? 1.0 - mom[j] / sst : 0.0;
            } else {
                score = btfm_model_score_moments(BTFM_SCORE_PEARSON, s->sw_tr, mom[nc + j],
                                                 mom[2 * nc + j], mom[3 * nc + j],
                                                 mom[4 * nc + j], mom[5 * nc + j]);
            }
            c->cv[a * t + j0 + j] = score;
        }
    }
    btfm_free(h);
    btfm_free(mom);
    return BTFM_OK;
}

/* The dual coefficients, intercepts and noise variances of targets [j0, j0 + nc). */
static void dual_final(ridge_ctx *c, const dual_set *s, const double *train_center,
                       int64_t j0, int64_t nc, dual_buf *b, model_fit *fit)
{
    const int64_t n = s->n_tr, t = c->t;
    dual_targets(c, s, j0, nc, b);
    double *rss = b->mom, *df = rss + nc;
    memset(rss, 0, (size_t)(2 * nc) * sizeof *rss);
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < nc; j++) {
            const double alpha = c->alphas[c->best[j0 + j]], lam = s->lam[k];
            const double ck = b->C[k * nc + j], e = alpha / (lam + alpha);
            b->DC[k * nc + j] = ck / (lam + alpha);
            rss[j] += e * e * ck * ck;
            df[j] += lam / (lam + alpha);
        }
    /* A = Q diag(1 / (lam + alpha)) C: the dual coefficients of sqrt(w)-weighted rows. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)nc, (int)n, 1.0, s->Q,
                (int)n, b->DC, (int)nc, 0.0, b->pred, (int)nc);
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < nc; j++) fit->dual[r * t + j0 + j] = b->pred[r * nc + j];
    for (int64_t j = 0; j < nc; j++) {
        double icpt = 0;
        if (c->intercept) {
            icpt = c->mu_y[j0 + j] + b->my[j];
            for (int64_t r = 0; r < n; r++) icpt -= train_center[r] * b->pred[r * nc + j];
        }
        fit->intercept[j0 + j] = icpt;
        double dof = (double)c->n_eff - df[j] - (c->intercept ? 1 : 0);
        fit->noise_var[j0 + j] = rss[j] / s->sw_tr * (double)c->n_eff / (dof > 1 ? dof : 1);
    }
}

/* The fit's copy of the training design (zs times the factors, so that predictions are
 * (train x)^T dual + intercept), the posterior basis zs^T Q lam^-1/2 over the positive
 * eigenvalues, and train (mu_x + mx) for the intercepts. */
static btfm_status dual_keep(ridge_ctx *c, const dual_set *s, model_fit *fit,
                             double *train_center)
{
    const int64_t n = s->n_tr, P = c->p;
    for (int64_t k = 0; k < P; k++) {
        fit->center[k] = c->mu_x[k] + s->mx[k];
        fit->scale[k] = 1.0 / s->factor[k];
    }
    for (int64_t r = 0; r < n; r++) {
        double dot = 0;
        for (int64_t k = 0; k < P; k++) {
            const double v = s->zs[r * P + k] * s->factor[k];
            fit->train[r * P + k] = v;
            dot += v * fit->center[k];
        }
        train_center[r] = dot;
    }
    int64_t rank = 0;
    while (rank < n && s->lam[rank] > 1e-12 * s->lam[0]) rank++;
    fit->rank = rank;
    fit->eig = btfm_model_doubles((size_t)(rank ? rank : 1), c->func);
    fit->basis = btfm_dense_zeros(P, rank ? rank : 1, c->func);
    if (!fit->eig || !fit->basis) return BTFM_E_NOMEM;
    if (!rank) return BTFM_OK;
    double *qs = btfm_dense_zeros(n, rank, c->func);
    if (!qs) return BTFM_E_NOMEM;
    for (int64_t r = 0; r < n; r++)
        for (int64_t k = 0; k < rank; k++) qs[r * rank + k] = s->Q[r * n + k] / sqrt(s->lam[k]);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)P, (int)rank, (int)n, 1.0, s->zs,
                (int)P, qs, (int)rank, 0.0, fit->basis, (int)rank);
    memcpy(fit->eig, s->lam, (size_t)rank * sizeof *fit->eig);
    btfm_free(qs);
    return BTFM_OK;
}

static btfm_status buf_alloc(dual_buf *b, int64_t n, int64_t nc, const char *func)
{
    b->my = btfm_model_doubles((size_t)nc, func);
    b->ys = btfm_dense_zeros(n, nc, func);
    b->C = btfm_dense_zeros(n, nc, func);
    b->DC = btfm_dense_zeros(n, nc, func);
    b->pred = btfm_dense_zeros(n, nc, func);
    b->mom = btfm_dense_zeros(6, nc, func);
    return b->my && b->ys && b->C && b->DC && b->pred && b->mom ? BTFM_OK : BTFM_E_NOMEM;
}

static void buf_clear(dual_buf *b)
{
    btfm_free(b->my);
    btfm_free(b->ys);
    btfm_free(b->C);
    btfm_free(b->DC);
    btfm_free(b->pred);
    btfm_free(b->mom);
}

btfm_status btfm_ridge_dual(ridge_ctx *c, model_fit *fit)
{
    const model_splits *sp = c->splits;
    const int loo = sp && sp->loo;
    const int K = sp && !loo ? sp->n_folds : 0;
    const int64_t chunk = btfm_ridge_chunk(c, 8.0 * (double)c->n * 5);
    dual_buf b = {0};
    btfm_status st = buf_alloc(&b, c->n, chunk, c->func);
    /* Folds one after the other, each over every chunk of targets. */
    for (int f = 0; f < K && !st; f++) {
        dual_set s = {0};
        st = dset_build(c, f, &s);
        btfm_progress part = btfm_progress_part(c->progress, 0.9 * f / (K + 1.0),
                                                0.9 * (f + 1) / (K + 1.0));
        for (int64_t j0 = 0; j0 < c->t && !st; j0 += chunk) {
            int64_t nc = c->t - j0 < chunk ? c->t - j0 : chunk;
            dual_fold_scores(c, &s, j0, nc, &b);
            st = btfm_progress_update(&part, "folds", (double)(j0 + nc) / c->t);
        }
        dset_clear(&s);
    }
    if (!st && K)
        for (int64_t i = 0; i < (int64_t)c->n_alphas * c->t; i++) c->cv[i] /= K;
    /* Every sample: leave-one-out scores, the choice, then the final fit. */
    dual_set s = {0};
    double *train_center = NULL;
    if (!st) st = dset_build(c, -1, &s);
    for (int64_t j0 = 0; loo && j0 < c->t && !st; j0 += chunk) {
        int64_t nc = c->t - j0 < chunk ? c->t - j0 : chunk;
        st = dual_loo_scores(c, &s, j0, nc, &b);
    }
    if (!st) {
        btfm_ridge_choose(c);
        train_center = btfm_model_doubles((size_t)c->n, c->func);
        st = train_center ? dual_keep(c, &s, fit, train_center) : BTFM_E_NOMEM;
    }
    btfm_progress part = btfm_progress_part(c->progress, 0.9 * K / (K + 1.0), 1.0);
    for (int64_t j0 = 0; j0 < c->t && !st; j0 += chunk) {
        int64_t nc = c->t - j0 < chunk ? c->t - j0 : chunk;
        dual_final(c, &s, train_center, j0, nc, &b, fit);
        st = btfm_progress_update(&part, "targets", (double)(j0 + nc) / c->t);
    }
    btfm_free(train_center);
    dset_clear(&s);
    buf_clear(&b);
    return st;
}

btfm_status btfm_model_dual_coef(const model_fit *f, float *out)
{
    /* coef (P x t) = train^T dual, a block of targets at a time. */
    const int64_t P = f->n_coef, t = f->n_outputs, block = 1024;
    double *tmp = btfm_dense_zeros(P, t < block ? t : block, "btfm_model_coef");
    if (!tmp) return BTFM_E_NOMEM;
    for (int64_t j0 = 0; j0 < t; j0 += block) {
        const int64_t nc = t - j0 < block ? t - j0 : block;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)P, (int)nc, (int)f->n_train,
                    1.0, f->train, (int)P, f->dual + j0, (int)t, 0.0, tmp, (int)nc);
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = 0; j < nc; j++) out[i * t + j0 + j] = (float)tmp[i * nc + j];
    }
    btfm_free(tmp);
    return BTFM_OK;
}
