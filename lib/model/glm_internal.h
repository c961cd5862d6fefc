/* What logistic regression and Bradley-Terry share: Newton's method on a smooth convex
 * objective and the cross-validation loop over the penalty grid (newton.c). */
#ifndef BTFM_MODEL_GLM_INTERNAL_H
#define BTFM_MODEL_GLM_INTERNAL_H

#include "model_internal.h"

typedef struct newton_problem {
    int64_t n_par;
    /* The objective at theta into *value; with grad and hess non-NULL also its gradient
     * (n_par) and Hessian (n_par x n_par, upper part at least). */
    btfm_status (*eval)(void *ctx, const double *theta, double *value, double *grad,
                        double *hess);
    /* 0 when theta is outside the domain (NULL: everywhere inside). */
    int (*feasible)(void *ctx, const double *theta);
    void *ctx;
    const double *gauge; /* a unit direction the objective is flat along, or NULL */
    const char *func;
} newton_problem;

/* Minimize from theta (overwritten by the minimizer) until a step moves no parameter by
 * more than tol (1 + max |theta|), or max_iter steps; `hessian` (may be NULL) receives
 * the Hessian at the result (upper part). */
btfm_status btfm_model_newton(const newton_problem *p, double *theta, int max_iter, double tol,
                              double *hessian);

/* A model the cross-validation loop can fit and score on subsets of its samples. */
typedef struct glm_ops {
    int64_t n_par;
    /* Fit on these samples from now on (standardization statistics included). */
    btfm_status (*prepare)(void *ctx, const int64_t *rows, int64_t n_rows);
    /* The starting point of a fold's first alpha (theta is zero on entry). */
    void (*start)(void *ctx, double *theta);
    /* Minimize the penalized loss with `alpha` from theta (a warm start); hessian as in
     * btfm_model_newton. */
    btfm_status (*fit)(void *ctx, double alpha, double *theta, double *hessian);
    /* The held-out score of theta on these samples (btfm_score_kind). */
    double (*score)(void *ctx, const double *theta, const int64_t *rows, int64_t n_rows,
                    int kind);
} glm_ops;

/* Fold-averaged scores of every alpha (cv_scores, n_alphas) and the chosen one (*best:
 * the first best by the sum over folds), the grid walked in order with warm starts. */
btfm_status btfm_model_glm_cv(const btfm_model *m, const glm_ops *ops, void *ctx,
                              int64_t n_samples, int kind, int min_test, double *cv_scores,
                              int *best, btfm_progress *progress, const char *func);

#endif
