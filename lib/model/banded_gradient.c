/* Banded ridge refined on the band regularizations: per target, the held-out squared error
 * summed over the folds as a function of delta_b = -log lambda_b (band b's penalty
 * lambda_b = alpha / gamma_b), minimized from the random search's choice either by BFGS
 * on its gradient (himalaya's hyper-gradient search; the gradient by differentiating the
 * ridge solution implicitly) or by exact coordinate updates: along one band's penalty the
 * error is a rational function known in closed form from one eigendecomposition per fold
 * (below, coordinate_task), so each update is that function's minimum. Why both: BFGS
 * moves every band at once and wins when bands interact strongly; the coordinate updates
 * need no step sizes, never increase the error and reach the minimum along each band
 * exactly, also where the error is flat (a band that should be switched off). */
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
    int64_t *cols;     /* P: the columns ordered by band, band b from cols[col_start[b]] */
    int64_t col_start[65];
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

/* Coordinate updates. With A = G + diag(lambda) of a fold and U band b's columns of the
 * identity, moving lambda_b by mu gives (A + mu U U^T)^-1 = A^-1 - V diag(phi) V^T
 * (Woodbury), V = A^-1 U Q for U^T A^-1 U = Q diag(m) Q^T and phi_i = mu / (1 + mu m_i),
 * defined for every lambda_b + mu > 0 (m_i <= 1 / lambda_b). The held-out residual is
 * then r0 + sum_i phi_i s_i z_i (r0 at the current penalties, s = V^T X^T y, z_i = X_v v_i),
 * and its squared norm rr + 2 sum_i phi_i a_i + phi^T C phi with a_i = s_i z_i . r0 and
 * C_ik = s_i s_k z_i . z_k: O(p_b^2) a value, however many samples. */
typedef struct band_line {
    int K, pb;
    double rr;     /* the current error, summed over the folds */
    double lam;    /* the band's current penalty */
    double *m;     /* K x pb: eigenvalues (0 for directions the penalty does not move) */
    double *a;     /* K x pb */
    double *C;     /* K x pb x pb */
    double *phi;   /* pb */
} band_line;

static double line_error(const band_line *l, double x)
{
    const double mu = exp(x) - l->lam;
    double e = l->rr;
    for (int f = 0; f < l->K; f++) {
        const double *m = l->m + (int64_t)f * l->pb, *a = l->a + (int64_t)f * l->pb;
        const double *C = l->C + (int64_t)f * l->pb * l->pb;
        for (int i = 0; i < l->pb; i++) l->phi[i] = m[i] > 0 ? mu / (1 + mu * m[i]) : 0.0;
        for (int i = 0; i < l->pb; i++) {
            double ci = 0;
            for (int k = 0; k < l->pb; k++) ci += C[i * l->pb + k] * l->phi[k];
            e += l->phi[i] * (2 * a[i] + ci);
        }
    }
    return e;
}

/* The error along band b's penalty at the current ones (k->lam) into l. */
static btfm_status band_line_setup(const search *s, const work *k, int64_t j, int b, band_line *l,
                                   double *v0, double *v, double *z)
{
    const int64_t P = s->P, t = s->t, pb = l->pb;
    const int64_t *cols = s->cols + s->col_start[b];
    l->rr = 0;
    l->lam = k->lam[cols[0]];
    for (int f = 0; f < s->n_folds; f++) {
        const fold_data *fd = &s->folds[f];
        double *m = l->m + f * pb, *a = l->a + f * pb, *C = l->C + f * pb * pb;
        if (factor(s, fd, k))
            return btfm_fail(BTFM_E_NUMERIC, "%s: target %lld: a banded system is singular",
                             s->c->func, (long long)j);
        /* r0 = yv_j - xv A^-1 X^T y_j */
        cblas_dcopy((int)P, fd->xty + j, (int)t, k->w, 1);
        solve(s, k, k->w);
        cblas_dcopy((int)fd->n_v, fd->yv + j, (int)t, k->r, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)fd->n_v, (int)P, -1.0, fd->xv, (int)P,
                    k->w, 1, 1.0, k->r, 1);
        l->rr += cblas_ddot((int)fd->n_v, k->r, 1, k->r, 1);
        /* V0 = A^-1 U; its band rows are U^T A^-1 U, decomposed in C's place */
        memset(v0, 0, (size_t)(P * pb) * sizeof *v0);
        for (int64_t i = 0; i < pb; i++) v0[cols[i] * pb + i] = 1;
        btfm_dense_chol_solve(k->factor, P, v0, pb);
        for (int64_t i = 0; i < pb; i++)
            memcpy(C + i * pb, v0 + cols[i] * pb, (size_t)pb * sizeof *C);
        btfm_status st = btfm_dense_syev(C, pb, m, s->c->func);
        if (st) return st;
        /* V = V0 Q, s = V^T X^T y_j into a, Z = X_v V */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)P, (int)pb, (int)pb, 1.0, v0,
                    (int)pb, C, (int)pb, 0.0, v, (int)pb);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)P, (int)pb, 1.0, v, (int)pb, fd->xty + j,
                    (int)t, 0.0, a, 1);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)fd->n_v, (int)pb, (int)P,
                    1.0, fd->xv, (int)P, v, (int)pb, 0.0, z, (int)pb);
        /* Directions the penalty barely moves (m at rounding level) are left out: their
         * computed s_i z_i would be rounding noise multiplied by a huge phi_i. */
        const double top = m[0] > 0 ? m[0] : 0.0;
        for (int64_t i = 0; i < pb; i++) {
            if (!(m[i] > 1e-12 * top)) m[i] = 0;
            const double si = a[i];
            a[i] = si * cblas_ddot((int)fd->n_v, z + i, (int)pb, k->r, 1);
            for (int64_t q = 0; q < fd->n_v; q++) z[q * pb + i] *= si;
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)pb, (int)pb, (int)fd->n_v, 1.0,
                    z, (int)pb, z, (int)pb, 0.0, C, (int)pb);
    }
    return BTFM_OK;
}

/* The minimum of the error along the line in log lambda_b within +-12 of the current
 * value (and [-50, 50]): a scan in steps of 1/2, then golden sections to tol within 1/2
 * of the scan's best point. */
static double line_minimum(const band_line *l, double tol, double *best_error)
{
    const double x0 = log(l->lam), lo = fmax(x0 - 12, -50), hi = fmin(x0 + 12, 50);
    const int n = (int)ceil((hi - lo) / 0.5);
    double best_x = x0, best = l->rr;
    for (int i = 0; i <= n; i++) {
        const double x = i == n ? hi : lo + 0.5 * i, e = line_error(l, x);
        if (e < best) {
            best = e;
            best_x = x;
        }
    }
    /* golden sections around the scan's best point (the current value included) */
    double a = fmax(best_x - 0.5, lo), b = fmin(best_x + 0.5, hi);
    const double g = 0.5 * (sqrt(5.0) - 1);
    double c = b - g * (b - a), d = a + g * (b - a), ec = line_error(l, c),
           ed = line_error(l, d);
    while (b - a > tol && b - a > 1e-12 * (1 + fabs(a))) {
        if (ec < ed) {
            b = d;
            d = c;
            ed = ec;
            c = b - g * (b - a);
            ec = line_error(l, c);
        } else {
            a = c;
            c = d;
            ec = ed;
            d = a + g * (b - a);
            ed = line_error(l, d);
        }
    }
    const double x = ec < ed ? c : d, e = fmin(ec, ed);
    if (e < best) {
        best = e;
        best_x = x;
    }
    *best_error = best;
    return best_x;
}

/* Sweeps of exact coordinate updates over the bands for target j, until no log penalty
 * moves by more than tol in a sweep, or max_iter sweeps. */
static btfm_status coordinate_task(void *ctx, int64_t j, int worker)
{
    const search *s = ctx;
    const work k = worker_work(s, worker);
    const int B = s->n_bands, K = s->n_folds;
    const int64_t P = s->P;
    int64_t pb_max = 0, n_v_max = 0;
    for (int b = 0; b < B; b++)
        pb_max = s->col_start[b + 1] - s->col_start[b] > pb_max ? s->col_start[b + 1] - s->col_start[b]
                                                               : pb_max;
    for (int f = 0; f < K; f++) n_v_max = s->folds[f].n_v > n_v_max ? s->folds[f].n_v : n_v_max;
    double *buf = btfm_model_doubles((size_t)(K * pb_max * (pb_max + 2) + pb_max +
                                              2 * P * pb_max + n_v_max * pb_max),
                                     s->c->func);
    if (!buf) return BTFM_E_NOMEM;
    band_line l = {K, 0, 0, 0, buf, buf + K * pb_max, buf + 2 * K * pb_max,
                   buf + K * pb_max * (pb_max + 2)};
    double *v0 = l.phi + pb_max, *v = v0 + P * pb_max, *z = v + P * pb_max;
    double d[64], err = HUGE_VAL;
    btfm_status st = BTFM_OK;
    for (int b = 0; b < B; b++) d[b] = s->delta[b * s->t + j];
    for (int sweep = 0; sweep < s->max_iter && !st; sweep++) {
        double moved = 0;
        const double before = err;
        for (int b = 0; b < B && !st; b++) {
            for (int64_t i = 0; i < P; i++) k.lam[i] = exp(-d[s->band[i]]);
            l.pb = (int)(s->col_start[b + 1] - s->col_start[b]);
            st = band_line_setup(s, &k, j, b, &l, v0, v, z);
            if (st) break;
            double e;
            const double x = line_minimum(&l, s->tol, &e);
            err = l.rr;
            if (e < l.rr) { /* only a decrease moves the penalty */
                moved = fmax(moved, fabs(x - log(l.lam)));
                d[b] = -x;
                err = e;
            }
        }
        if (moved <= s->tol || (sweep > 0 && !(err < before - 1e-12 * fabs(before)))) break;
    }
    for (int b = 0; b < B; b++) s->delta[b * s->t + j] = d[b];
    s->loss[j] = err;
    btfm_free(buf);
    return st;
}

btfm_status btfm_model_banded_gradient(const ridge_ctx *c, const int32_t *band, int n_bands,
                                       int max_iter, double tol, int coordinate,
                                       model_fit *fit)
{
    const char *func = c->func;
    const model_splits *sp = c->splits;
    if (!sp || sp->loo || sp->n_folds < 2)
        return btfm_fail(BTFM_E_INVALID, "%s: band_search %d needs K folds: set cv >= 2 or "
                         "groups", func, coordinate ? 2 : 1);
    if (c->standardize)
        return btfm_fail(BTFM_E_INVALID, "%s: band_search %d works on the features as given; "
                         "standardize them first or set standardize 0", func, coordinate ? 2 : 1);
    if (n_bands > 64)
        return btfm_fail(BTFM_E_INVALID, "%s: band_search %d takes at most 64 bands (%d "
                         "given)", func, coordinate ? 2 : 1, n_bands);
    const int64_t P = c->p, t = c->t, n = c->n;
    const int K = sp->n_folds;
    search s = {c, band, n_bands, K, max_iter, tol, P, t, NULL, NULL, NULL, NULL, 0, NULL, {0}};
    s.folds = btfm_calloc((size_t)K + 1, sizeof *s.folds);
    s.cols = btfm_malloc((size_t)P * sizeof *s.cols);
    int64_t *train = btfm_malloc((size_t)(n > 0 ? n : 1) * sizeof *train);
    s.delta = btfm_model_doubles((size_t)n_bands * (size_t)t, func);
    s.loss = btfm_model_doubles((size_t)t, func);
    btfm_status st = s.folds && train && s.delta && s.loss && s.cols ? BTFM_OK : BTFM_E_NOMEM;
    for (int b = 0, next = 0; b < n_bands && !st; b++) {
        s.col_start[b] = next;
        for (int64_t i = 0; i < P; i++)
            if (band[i] == b) s.cols[next++] = i;
        s.col_start[b + 1] = next;
    }
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
    if (!st) st = btfm_parallel_for(workers, t, coordinate ? coordinate_task : target_task, &s);
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
    btfm_free(s.cols);
    return st;
}
