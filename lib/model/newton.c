/* Newton's method with a backtracking line search for the smooth convex objectives of
 * logistic regression and Bradley-Terry (IRLS is this method on the logistic loss), and
 * the cross-validation loop over the penalty grid those fits share. */
#include <math.h>
#include <string.h>
#include "glm_internal.h"
#include "core/parallel_progress.h"
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

/* The folds of one cross-validation run; each fold's path is written to its own rows. */
typedef struct cv_run {
    const btfm_model *m;
    const glm_ops *ops;
    void *const *ctxs;   /* one per worker */
    const model_splits *s;
    int64_t n_samples;
    int kind;
    double tol;          /* the folds' fits: max(tol, GLM_CV_TOL) */
    int64_t *train;      /* n_samples per worker */
    double *path;        /* per fold and alpha: the solution (n_par) */
    double *scores;      /* per fold and alpha */
} cv_run;

/* One fold's walk along the grid, warm-started from the previous alpha. */
static btfm_status fold_task(void *arg, int64_t f, int worker)
{
    const cv_run *c = arg;
    const model_splits *s = c->s;
    const int A = c->m->n_alphas;
    const int64_t np = c->ops->n_par;
    void *ctx = c->ctxs[worker];
    int64_t *train = c->train + worker * c->n_samples, n_train = 0;
    for (int64_t i = 0; i < c->n_samples; i++)
        if (btfm_model_in_train(s, (int)f, i)) train[n_train++] = i;
    btfm_status st = c->ops->prepare(ctx, train, n_train);
    double *theta = c->path + f * A * np;
    memset(theta, 0, (size_t)np * sizeof *theta);
    c->ops->start(ctx, theta);
    for (int a = 0; a < A && !st; a++, theta += np) {
        if (a) memcpy(theta, theta - np, (size_t)np * sizeof *theta);
        st = c->ops->fit(ctx, c->m->alphas[a], c->tol, theta, NULL);
        if (!st)
            c->scores[f * A + a] = c->ops->score(ctx, theta, s->test + s->test_start[f],
                                                 s->test_start[f + 1] - s->test_start[f],
                                                 c->kind);
    }
    return st;
}

int btfm_model_glm_workers(const btfm_model *m, int64_t n_samples, int64_t n_par)
{
    if (m->n_alphas < 2) return 1;
    /* about 20 gradient passes over the training rows per alpha and fold */
    const double work = 20.0 * 5 * (double)m->n_alphas * (double)n_samples * (double)n_par;
    return btfm_dense_blas_workers(btfm_parallel_threads(16, work));
}

btfm_status btfm_model_glm_cv(const btfm_model *m, const glm_ops *ops, void *const *ctxs,
                              int n_ctx, int64_t n_samples, int kind, int min_test,
                              double *cv_scores, int *best, double *start,
                              btfm_progress *progress, const char *func)
{
    model_splits s;
    btfm_status st = btfm_model_make_splits(m, n_samples, 0, min_test, &s, func);
    if (st) return st;
    const int A = m->n_alphas, K = s.n_folds;
    const int64_t np = ops->n_par;
    cv_run c = {m, ops, ctxs, &s, n_samples, kind, fmax(MODEL_PARAM(m, TOL), GLM_CV_TOL), NULL,
                NULL, NULL};
    c.path = btfm_model_doubles((size_t)K * (size_t)A * (size_t)np, func);
    c.scores = btfm_model_doubles((size_t)K * (size_t)A, func);
    c.train = btfm_malloc((size_t)n_ctx * (size_t)n_samples * sizeof *c.train);
    if (!c.path || !c.scores || !c.train)
        st = btfm_fail_nomem(func, (size_t)n_ctx * (size_t)n_samples * sizeof *c.train);
    /* Folds on the workers, OpenBLAS on one thread each meanwhile (the workers exist only
     * when the host lets the library set OpenBLAS's threads, or it runs one). */
    const int workers = n_ctx < K ? n_ctx : K;
    const int blas = workers > 1 ? btfm_dense_blas_threads_push(1) : 0;
    if (!st) st = btfm_parallel_for_progress(progress, "folds", workers, K, fold_task, &c);
    btfm_dense_blas_threads_pop(blas);
    if (!st) {
        /* The first best in grid order, by the sum over folds in fold order
         * (scikit-learn's choice); the same sums for any number of workers. */
        double best_sum = 0;
        for (int a = 0; a < A; a++) {
            double sum = 0;
            for (int f = 0; f < K; f++) sum += c.scores[f * A + a];
            cv_scores[a] = sum / K;
            if (a == 0 || sum > best_sum) {
                *best = a;
                best_sum = sum;
            }
        }
        /* The refit starts from the folds' mean solution at that alpha, as scikit-learn's
         * LogisticRegressionCV does. */
        if (start) {
            memset(start, 0, (size_t)np * sizeof *start);
            for (int f = 0; f < K; f++)
                for (int64_t j = 0; j < np; j++)
                    start[j] += c.path[((int64_t)f * A + *best) * np + j] / K;
        }
    }
    btfm_free(c.path);
    btfm_free(c.scores);
    btfm_free(c.train);
    btfm_model_splits_clear(&s);
    return st;
}
