/* Banded ridge refined by gradient steps on the band regularizations (himalaya's
 * hyper-gradient search): per target, the held-out squared error summed over the folds is
 * a smooth function of delta_b = -log lambda_b (band b's penalty lambda_b = alpha /
 * gamma_b); its gradient comes from differentiating the ridge solution implicitly, and
 * BFGS steps in the n_bands dimensions, from the random search's choice, minimize it.
 * Why BFGS: with a few bands its curvature model costs nothing and converges in a few
 * dozen steps where plain gradient descent needs hundreds. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "ridge_internal.h"
#include "core/parallel.h"
#include "dense/dense.h"

/* One training set: its Gram matrix and products in the centered, weighted design, and
 * the held-out rows centered by its means. */
typedef struct fold_data {
    double *gram;  /* P x P */
    double *xty;   /* P x t */
    double *xv;    /* n_v x P: sqrt(w) (x - training mean) */
    double *yv;    /* n_v x t: sqrt(w) (y - training mean) */
    double *yy;    /* t: the training targets' centered, weighted sums of squares */
    double sw;     /* the training weights' sum */
    int64_t n_v, n_tr;
} fold_data;

typedef struct search {
    const ridge_ctx *c;
    const int32_t *band;
    int n_bands, n_folds, max_iter;
    double tol;
    int64_t P, t;
    fold_data *folds;  /* n_folds, then the whole training set last (no held-out rows) */
    double *delta;     /* n_bands x t, in and out */
    double *loss;      /* t: the final held-out error */
    double *scratch;   /* per worker */
    int64_t per_worker;
} search;

/* Weighted means of the rows into xm (P) and ym (t). */
static void means(const ridge_ctx *c, const int64_t *rows, int64_t n, double *xm, double *ym)
{
    double sw = 0;
    memset(xm, 0, (size_t)c->p * sizeof *xm);
    memset(ym, 0, (size_t)c->t * sizeof *ym);
    for (int64_t r = 0; r < n && c->intercept; r++) {
        const double w = ridge_w(c, rows[r]);
        const float *xr = c->x + rows[r] * c->p, *yr = c->y + rows[r] * c->t;
        sw += w;
        for (int64_t k = 0; k < c->p; k++) xm[k] += w * xr[k];
        for (int64_t j = 0; j < c->t; j++) ym[j] += w * yr[j];
    }
    for (int64_t k = 0; k < c->p && sw > 0; k++) xm[k] /= sw;
    for (int64_t j = 0; j < c->t && sw > 0; j++) ym[j] /= sw;
}

static btfm_status fold_setup(const ridge_ctx *c, const int64_t *train, int64_t n_tr,
                              const int64_t *test, int64_t n_v, fold_data *fd)
{
    const int64_t P = c->p, t = c->t;
    double *xm = btfm_model_doubles((size_t)P, c->func), *ym = btfm_model_doubles((size_t)t, c->func);
    double *xt = btfm_dense_zeros(n_tr, P, c->func), *yt = btfm_dense_zeros(n_tr, t, c->func);
    fd->gram = btfm_dense_zeros(P, P, c->func);
    fd->xty = btfm_dense_zeros(P, t, c->func);
    fd->xv = n_v ? btfm_dense_zeros(n_v, P, c->func) : NULL;
    fd->yv = n_v ? btfm_dense_zeros(n_v, t, c->func) : NULL;
    fd->yy = btfm_model_doubles((size_t)t, c->func);
    fd->n_v = n_v;
    fd->n_tr = n_tr;
    btfm_status st = xm && ym && xt && yt && fd->gram && fd->xty && fd->yy &&
                             (!n_v || (fd->xv && fd->yv))
                         ? BTFM_OK
                         : BTFM_E_NOMEM;
    if (!st) {
        means(c, train, n_tr, xm, ym);
        btfm_ridge_gather(c, c->x, P, 0, P, xm, train, 0, n_tr, xt);
        btfm_ridge_gather(c, c->y, t, 0, t, ym, train, 0, n_tr, yt);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)P, (int)n_tr, 1.0, xt, (int)P,
                    0.0, fd->gram, (int)P);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)P, (int)t, (int)n_tr, 1.0, xt,
                    (int)P, yt, (int)t, 0.0, fd->xty, (int)t);
        fd->sw = 0;
        for (int64_t r = 0; r < n_tr; r++) fd->sw += ridge_w(c, train[r]);
        for (int64_t r = 0; r < n_tr; r++)
            for (int64_t j = 0; j < t; j++) fd->yy[j] += yt[r * t + j] * yt[r * t + j];
        if (n_v) {
            btfm_ridge_gather(c, c->x, P, 0, P, xm, test, 0, n_v, fd->xv);
            btfm_ridge_gather(c, c->y, t, 0, t, ym, test, 0, n_v, fd->yv);
        }
    }
    btfm_free(xm);
    btfm_free(ym);
    btfm_free(xt);
    btfm_free(yt);
    return st;
}

static void fold_clear(fold_data *fd)
{
    btfm_free(fd->gram);
    btfm_free(fd->xty);
    btfm_free(fd->xv);
    btfm_free(fd->yv);
    btfm_free(fd->yy);
}

/* Per worker: the factor (P x P), w, g, u (P each), lambda (P), the residual (n_v). */
typedef struct work {
    double *factor, *w, *g, *u, *lam, *r;
} work;

static work worker_work(const search *s, int worker)
{
    const int64_t P = s->P;
    double *base = s->scratch + (int64_t)worker * s->per_worker;
    work k = {base, base + P * P, base + P * P + P, base + P * P + 2 * P, base + P * P + 3 * P,
              base + P * P + 4 * P};
    return k;
}

/* Solve (gram + diag(lam)) v = v with the factor of that matrix in k->factor. */
static void solve(const search *s, const work *k, double *v)
{
    const int P = (int)s->P;
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, P, k->factor, P, v, 1);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, P, k->factor, P, v, 1);
}

/* Factor gram + diag(lam) into k->factor; nonzero when not positive definite. */
static int factor(const search *s, const fold_data *fd, const work *k)
{
    const int64_t P = s->P;
    for (int64_t i = 0; i < P; i++) {
        memcpy(k->factor + i * P + i, fd->gram + i * P + i, (size_t)(P - i) * sizeof *k->factor);
        k->factor[i * P + i] += k->lam[i];
    }
    return btfm_dense_chol(k->factor, P);
}

/* Target j's held-out squared error at delta (n_bands), over the folds; its gradient into
 * grad when non-NULL. HUGE_VAL when a system is singular. */
static double objective(const search *s, const work *k, int64_t j, const double *delta,
                        double *grad)
{
    const int64_t P = s->P, t = s->t;
    for (int64_t i = 0; i < P; i++) k->lam[i] = exp(-delta[s->band[i]]);
    if (grad) memset(grad, 0, (size_t)s->n_bands * sizeof *grad);
    double f = 0;
    for (int fo = 0; fo < s->n_folds; fo++) {
        const fold_data *fd = &s->folds[fo];
        if (factor(s, fd, k)) return HUGE_VAL;
        cblas_dcopy((int)P, fd->xty + j, (int)t, k->w, 1);
        solve(s, k, k->w);
        /* r = yv_j - xv w */
        cblas_dcopy((int)fd->n_v, fd->yv + j, (int)t, k->r, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)fd->n_v, (int)P, -1.0, fd->xv, (int)P,
                    k->w, 1, 1.0, k->r, 1);
        f += cblas_ddot((int)fd->n_v, k->r, 1, k->r, 1);
        if (!grad) continue;
        /* dF/dw = -2 xv^T r; dF/dlambda_i = -(A^-1 dF/dw)_i w_i; dlambda_i/ddelta = -lambda_i */
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)fd->n_v, (int)P, -2.0, fd->xv, (int)P, k->r,
                    1, 0.0, k->u, 1);
        solve(s, k, k->u);
        for (int64_t i = 0; i < P; i++) grad[s->band[i]] += k->u[i] * k->w[i] * k->lam[i];
    }
    return f;
}

/* BFGS on one target's delta with a backtracking line search; steps of at most 2 in log
 * units (a factor e^2 in a penalty). */
static btfm_status target_task(void *ctx, int64_t j, int worker)
{
    const search *s = ctx;
    const work k = worker_work(s, worker);
    const int B = s->n_bands;
    double d[64] = {0}, g[64] = {0}, gn[64], dn[64], dir[64], H[64 * 64], sv[64], yv[64];
    for (int b = 0; b < B; b++) d[b] = s->delta[b * s->t + j];
    double f = objective(s, &k, j, d, g);
    for (int a = 0; a < B; a++)
        for (int b = 0; b < B; b++) H[a * B + b] = a == b;
    for (int it = 0; it < s->max_iter && isfinite(f); it++) {
        double slope = 0, big = 0;
        for (int a = 0; a < B; a++) {
            dir[a] = 0;
            for (int b = 0; b < B; b++) dir[a] -= H[a * B + b] * g[b];
            slope += dir[a] * g[a];
            big = fmax(big, fabs(dir[a]));
        }
        if (!(slope < 0)) { /* lost descent: restart from the gradient */
            for (int a = 0; a < B; a++)
                for (int b = 0; b < B; b++) H[a * B + b] = a == b;
            slope = 0;
            big = 0;
            for (int a = 0; a < B; a++) {
                dir[a] = -g[a];
                slope -= g[a] * g[a];
                big = fmax(big, fabs(dir[a]));
            }
            if (!(slope < 0)) break;
        }
        double step = big > 2 ? 2 / big : 1.0, fn = f;
        int accepted = 0;
        for (int cut = 0; cut < 30 && !accepted; cut++, step *= 0.5) {
            for (int a = 0; a < B; a++) dn[a] = fmin(fmax(d[a] + step * dir[a], -50.0), 50.0);
            fn = objective(s, &k, j, dn, gn);
            accepted = isfinite(fn) && fn <= f + 1e-4 * step * slope;
        }
        if (!accepted) break; /* no decrease left at this precision */
        double sy = 0, moved = 0;
        for (int a = 0; a < B; a++) {
            sv[a] = dn[a] - d[a];
            yv[a] = gn[a] - g[a];
            sy += sv[a] * yv[a];
            moved = fmax(moved, fabs(sv[a]));
        }
        memcpy(d, dn, (size_t)B * sizeof *d);
        memcpy(g, gn, (size_t)B * sizeof *g);
        const double decrease = f - fn;
        f = fn;
        if (moved <= s->tol || decrease <= 1e-12 * fabs(f)) break;
        if (sy > 1e-12) { /* H = (I - rho s y^T) H (I - rho y s^T) + rho s s^T */
            double hy[64], yhy = 0;
            const double rho = 1 / sy;
            for (int a = 0; a < B; a++) {
                hy[a] = 0;
                for (int b = 0; b < B; b++) hy[a] += H[a * B + b] * yv[b];
                yhy += yv[a] * hy[a];
            }
            for (int a = 0; a < B; a++)
                for (int b = 0; b < B; b++)
                    H[a * B + b] += rho * ((1 + rho * yhy) * sv[a] * sv[b] - hy[a] * sv[b] -
                                           sv[a] * hy[b]);
        }
    }
    for (int b = 0; b < B; b++) s->delta[b * s->t + j] = d[b];
    s->loss[j] = f;
    return BTFM_OK;
}

btfm_status btfm_model_banded_gradient(const ridge_ctx *c, const int32_t *band, int n_bands,
                                       int max_iter, double tol, model_fit *fit)
{
    const char *func = c->func;
    const model_splits *sp = c->splits;
    if (!sp || sp->loo || sp->n_folds < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: band_search 1 (gradient) needs K folds: set cv "
                         ">= 2 or groups", func);
    if (c->standardize)
        return btfm_fail(BTFM_E_INVALID, "%s: band_search 1 (gradient) works on the features "
                         "as given; standardize them first or set standardize 0", func);
    if (n_bands > 64)
        return btfm_fail(BTFM_E_INVALID, "%s: band_search 1 (gradient) takes at most 64 bands "
                         "(%d given)", func, n_bands);
    const int64_t P = c->p, t = c->t, n = c->n;
    const int K = sp->n_folds;
    search s = {c, band, n_bands, K, max_iter, tol, P, t, NULL, NULL, NULL, NULL, 0};
    s.folds = btfm_calloc((size_t)K + 1, sizeof *s.folds);
    int64_t *train = btfm_malloc((size_t)(n > 0 ? n : 1) * sizeof *train);
    s.delta = btfm_model_doubles((size_t)n_bands * (size_t)t, func);
    s.loss = btfm_model_doubles((size_t)t, func);
    btfm_status st = s.folds && train && s.delta && s.loss ? BTFM_OK : BTFM_E_NOMEM;
    for (int f = 0; f <= K && !st; f++) {
        int64_t n_tr = 0;
        for (int64_t i = 0; i < n; i++)
            if ((f == K || btfm_model_in_train(sp, f, i)) && ridge_w(c, i) > 0) train[n_tr++] = i;
        const int64_t *test = f < K ? sp->test + sp->test_start[f] : NULL;
        const int64_t n_v = f < K ? sp->test_start[f + 1] - sp->test_start[f] : 0;
        st = fold_setup(c, train, n_tr, test, n_v, &s.folds[f]);
    }
    /* The start: the random search's choice, delta_b = log(gamma_b / alpha). */
    for (int64_t j = 0; j < t && !st; j++)
        for (int b = 0; b < n_bands; b++)
            s.delta[b * t + j] = log(fmax(fit->band_weights[b * t + j], 1e-300) / fit->alpha[j]);
    int64_t n_v_max = 0;
    for (int f = 0; f < K && !st; f++) n_v_max = s.folds[f].n_v > n_v_max ? s.folds[f].n_v : n_v_max;
    const int workers = btfm_dense_blas_workers(
        btfm_parallel_threads(t, (double)t * K * 40 * (double)P * P * P / 3));
    s.per_worker = P * P + 4 * P + n_v_max;
    if (!st && !(s.scratch = btfm_model_doubles((size_t)(s.per_worker * workers), func)))
        st = BTFM_E_NOMEM;
    const int blas = workers > 1 ? btfm_dense_blas_threads_push(1) : 0;
    if (!st) st = btfm_parallel_for(workers, t, target_task, &s);
    btfm_dense_blas_threads_pop(blas);
    /* The refit on every training sample at each target's penalties. */
    const fold_data *all = st ? NULL : &s.folds[K];
    double *xm = st ? NULL : btfm_model_doubles((size_t)P, func);
    double *ym = st ? NULL : btfm_model_doubles((size_t)t, func);
    if (!st && (!xm || !ym)) st = BTFM_E_NOMEM;
    if (!st) {
        int64_t n_tr = 0;
        for (int64_t i = 0; i < n; i++)
            if (ridge_w(c, i) > 0) train[n_tr++] = i;
        means(c, train, n_tr, xm, ym);
    }
    const work k = st ? (work){0} : worker_work(&s, 0);
    for (int64_t j = 0; j < t && !st; j++) {
        double total = 0;
        for (int b = 0; b < n_bands; b++) total += exp(s.delta[b * t + j]);
        for (int64_t i = 0; i < P; i++) k.lam[i] = exp(-s.delta[band[i] * t + j]);
        if (factor(&s, all, &k)) {
            st = btfm_fail(BTFM_E_NUMERIC, "%s: target %lld: the banded system is singular",
                           func, (long long)j);
            break;
        }
        cblas_dcopy((int)P, all->xty + j, (int)t, k.w, 1);
        solve(&s, &k, k.w);
        double icpt = c->intercept ? ym[j] : 0.0;
        for (int64_t i = 0; i < P; i++) {
            fit->coef[i * t + j] = (float)k.w[i];
            icpt -= xm[i] * k.w[i];
        }
        fit->intercept[j] = icpt;
        /* The noise variance as the ridge routes estimate it: the residual sum of squares
         * over n_eff - df - intercept, df = trace(A^-1 G) = P - sum_i lambda_i (A^-1)_ii. */
        double rss = all->yy[j], df = (double)P;
        for (int64_t i = 0; i < P; i++) {
            double gw = 0;
            for (int64_t l = 0; l < P; l++)
                gw += all->gram[(i < l ? i * P + l : l * P + i)] * k.w[l];
            rss += k.w[i] * gw - 2 * k.w[i] * all->xty[i * t + j];
            memset(k.u, 0, (size_t)P * sizeof *k.u);
            k.u[i] = 1;
            solve(&s, &k, k.u);
            df -= k.lam[i] * k.u[i];
        }
        const double dof = (double)c->n_eff - df - (c->intercept ? 1 : 0);
        fit->noise_var[j] = fmax(rss, 0) / all->sw * (double)c->n_eff / (dof > 1 ? dof : 1);
        /* alpha / gamma_b = lambda_b with the weights summing to 1 */
        fit->alpha[j] = 1 / total;
        for (int b = 0; b < n_bands; b++)
            fit->band_weights[b * t + j] = exp(s.delta[b * t + j]) / total;
    }
    btfm_free(xm);
    btfm_free(ym);
    for (int f = 0; f <= K && s.folds; f++) fold_clear(&s.folds[f]);
    btfm_free(s.folds);
    btfm_free(train);
    btfm_free(s.delta);
    btfm_free(s.loss);
    btfm_free(s.scratch);
    return st;
}
