/* Newton's method with a backtracking line search for the smooth convex objectives of
 * logistic regression and Bradley-Terry (IRLS is this method on the logistic loss), and
 * the cross-validation loop over the penalty grid those fits share. */
#include <math.h>
#include <string.h>
#include "glm_internal.h"
#include "dense/dense.h"

/* Solve h d = -g for the Newton direction; h (upper part) is destroyed. A Hessian that
 * is not numerically positive definite gets a growing multiple of the identity. */
static btfm_status direction(const newton_problem *p, double *h, const double *g, double *d,
                             double *work)
{
    const int64_t n = p->n_par;
    double diag = 0;
    for (int64_t i = 0; i < n; i++) diag += fabs(h[i * n + i]);
    diag = diag > 0 ? diag / (double)n : 1.0;
    memcpy(work, h, (size_t)(n * n) * sizeof *work);
    for (double shift = 0; shift < 1e6 * diag; shift = shift ? shift * 100 : 1e-10 * diag) {
        if (shift > 0) {
            memcpy(h, work, (size_t)(n * n) * sizeof *h);
            for (int64_t i = 0; i < n; i++) h[i * n + i] += shift;
        }
        for (int64_t i = 0; i < n; i++) d[i] = -g[i];
        if (btfm_dense_spd_solve(h, n, d, 1) == 0) return BTFM_OK;
    }
    return btfm_fail(BTFM_E_NUMERIC, "%s: the Newton system is singular even after "
                     "regularization", p->func);
}

btfm_status btfm_model_newton(const newton_problem *p, double *theta, int max_iter, double tol,
                              double *hessian)
{
    const int64_t n = p->n_par;
    double *g = btfm_model_doubles((size_t)n, p->func);
    double *h = btfm_model_doubles((size_t)(n * n), p->func);
    double *work = btfm_model_doubles((size_t)(n * n), p->func);
    double *d = btfm_model_doubles((size_t)n, p->func);
    double *trial = btfm_model_doubles((size_t)n, p->func);
    btfm_status st = g && h && work && d && trial ? BTFM_OK : BTFM_E_NOMEM;
    double f = 0;
    if (!st) st = p->eval(p->ctx, theta, &f, g, h);
    for (int it = 0; it < max_iter && !st; it++) {
        /* The objective is flat along the gauge: penalize it in the step only. */
        if (p->gauge)
            for (int64_t i = 0; i < n; i++)
                for (int64_t k = i; k < n; k++) h[i * n + k] += p->gauge[i] * p->gauge[k];
        if ((st = direction(p, h, g, d, work))) break;
        double slope = 0, step = 1.0, f_new = f;
        for (int64_t i = 0; i < n; i++) slope += g[i] * d[i];
        int accepted = 0;
        for (int halving = 0; halving < 60 && !accepted && !st; halving++, step *= 0.5) {
            for (int64_t i = 0; i < n; i++) trial[i] = theta[i] + step * d[i];
            if (p->feasible && !p->feasible(p->ctx, trial)) continue;
            st = p->eval(p->ctx, trial, &f_new, NULL, NULL);
            if (!st && isfinite(f_new) && f_new <= f + 1e-4 * step * slope) accepted = 1;
        }
        if (st || !accepted) break; /* no decrease left at this precision: converged */
        step *= 2; /* undo the last halving of the loop */
        double moved = 0, size = 0;
        for (int64_t i = 0; i < n; i++) {
            moved = fmax(moved, fabs(step * d[i]));
            theta[i] = trial[i];
            size = fmax(size, fabs(theta[i]));
        }
        f = f_new;
        st = p->eval(p->ctx, theta, &f, g, h);
        if (!st && moved <= tol * (1.0 + size)) break;
    }
    if (!st && hessian) {
        st = p->eval(p->ctx, theta, &f, g, h);
        if (!st) memcpy(hessian, h, (size_t)(n * n) * sizeof *h);
    }
    btfm_free(g);
    btfm_free(h);
    btfm_free(work);
    btfm_free(d);
    btfm_free(trial);
    return st;
}

btfm_status btfm_model_glm_cv(const btfm_model *m, const glm_ops *ops, void *ctx,
                              int64_t n_samples, int kind, int min_test, double *cv_scores,
                              int *best, btfm_progress *progress, const char *func)
{
    model_splits s;
    btfm_status st = btfm_model_make_splits(m, n_samples, 0, min_test, &s, func);
    if (st) return st;
    const int A = m->n_alphas, K = s.n_folds;
    double *theta = btfm_model_doubles((size_t)ops->n_par, func);
    double *sums = btfm_model_doubles((size_t)A, func);
    int64_t *train = btfm_malloc((size_t)n_samples * sizeof *train);
    if (!theta || !sums || !train) st = btfm_fail_nomem(func, (size_t)n_samples * sizeof *train);
    for (int f = 0; f < K && !st; f++) {
        int64_t n_train = 0;
        for (int64_t i = 0; i < n_samples; i++)
            if (btfm_model_in_train(&s, f, i)) train[n_train++] = i;
        st = ops->prepare(ctx, train, n_train);
        memset(theta, 0, (size_t)ops->n_par * sizeof *theta);
        ops->start(ctx, theta);
        for (int a = 0; a < A && !st; a++) {
            /* Warm start from the previous alpha of the grid. */
            st = ops->fit(ctx, m->alphas[a], theta, NULL);
            if (!st) sums[a] += ops->score(ctx, theta, s.test + s.test_start[f],
                                           s.test_start[f + 1] - s.test_start[f], kind);
            if (!st)
                st = btfm_progress_update(progress, "folds", (f + (a + 1.0) / A) / (K + 1.0));
        }
    }
    if (!st) {
        /* The first best in grid order, by the sum over folds (scikit-learn's choice). */
        *best = 0;
        for (int a = 1; a < A; a++)
            if (sums[a] > sums[*best]) *best = a;
        for (int a = 0; a < A; a++) cv_scores[a] = sums[a] / K;
    }
    btfm_free(theta);
    btfm_free(sums);
    btfm_free(train);
    btfm_model_splits_clear(&s);
    return st;
}
