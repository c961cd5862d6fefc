/* What logistic regression and Bradley-Terry share: Newton's method on a smooth convex
 * objective, the binary logistic loss (binary.c) and the cross-validation loop over the
 * penalty grid (newton.c). */
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

/* The binary logistic objective sum_r w_r (log(1 + e^eta_r) - t_r eta_r) + alpha/2 |theta_p|^2
 * over the design rows z_r, eta_r = z_r . theta (binary.c): two-class logistic regression
 * (z_r = ((x_first[r] - center) / scale, 1)) and Bradley-Terry (z_r = (x_first[r] -
 * x_second[r]) / scale). The caller owns the inputs and fills them before
 * btfm_model_binary_design; the rest is the solver's. */
typedef struct binary_logit {
    const float *x;        /* n_items x p features, row-major */
    const int64_t *first;  /* n: each row's item */
    const int64_t *second; /* n: the item it is compared with, or NULL */
    const double *center;  /* p, or NULL (not used with second) */
    const double *scale;   /* p */
    const double *t;       /* n targets in [0, 1] */
    const double *w;       /* n weights, or NULL for 1 */
    int64_t n, n_items, p, q; /* q = p + intercept: theta's length */
    int intercept;         /* an unpenalized last coefficient */
    int newton;            /* Newton's method alone, no quasi-Newton steps */
    /* The preconditioner's Gram matrix of every row (q x q, upper part) with the total of
     * their weights, or NULL: a training set then takes it scaled by its share of the
     * weight instead of forming its own (the preconditioner only steers the steps; the
     * gradient and the stopping rule stay exact). */
    const double *shared_gram;
    double shared_weight;
    double alpha;
    const char *func;
    double *gram, *factor, *scratch, *work, *rho, *eta, *item;
    int64_t *active, n_active; /* pairs: the items the design's rows compare */
    int stored, head; /* quasi-Newton pairs kept from the previous penalty */
} binary_logit;

/* Workspace for up to n_max rows over n_items items of p features; clear frees it (also
 * after a failed init). */
btfm_status btfm_model_binary_init(binary_logit *b, int64_t n_max, int64_t n_items, int64_t p,
                                   int intercept, const char *func);
void btfm_model_binary_clear(binary_logit *b);
/* Use the first n rows from now on (forms their weighted Gram matrix). */
btfm_status btfm_model_binary_design(binary_logit *b, int64_t n);
/* Minimize with penalty alpha from theta (a warm start; overwritten by the minimizer):
 * preconditioned L-BFGS until a full step moves no parameter by more than
 * tol (1 + max |theta|), Newton's method after max_iter steps without that (or from the
 * start with b->newton); hessian (may
 * be NULL) receives the Hessian at the result (upper part). */
btfm_status btfm_model_binary_fit(binary_logit *b, double alpha, double *theta, int max_iter,
                                  double tol, double *hessian);

/* x . u for float x and double u, the same value from every vectorized clone. */
double btfm_model_dot_fd(const float *x, const double *u, int64_t p);

/* A model the cross-validation loop can fit and score on subsets of its samples. */
typedef struct glm_ops {
    int64_t n_par;
    /* Fit on these samples from now on (standardization statistics included). */
    btfm_status (*prepare)(void *ctx, const int64_t *rows, int64_t n_rows);
    /* The starting point of a fold's first alpha (theta is zero on entry). */
    void (*start)(void *ctx, double *theta);
    /* Minimize the penalized loss with `alpha` from theta (a warm start) to tolerance tol
     * (as btfm_model_newton's); hessian as in btfm_model_newton. */
    btfm_status (*fit)(void *ctx, double alpha, double tol, double *theta, double *hessian);
    /* The held-out score of theta on these samples (btfm_score_kind). */
    double (*score)(void *ctx, const double *theta, const int64_t *rows, int64_t n_rows,
                    int kind);
} glm_ops;

/* The tolerance of the fits inside cross-validation: the model's tol, at least this.
 * Those fits only score held-out samples and warm-start the next penalty; a step of
 * 1e-6 relative changes no held-out prediction that a tighter fit would not (and is as
 * strict as scikit-learn's own fold fits at tol 1e-6); the refit keeps the model's tol. */
#define GLM_CV_TOL 1e-6

/* Fold-averaged scores of every alpha (cv_scores, n_alphas) and the chosen one (*best:
 * the first best by the sum over folds), each fold walking the grid in order with warm
 * starts. The folds run on up to n_ctx threads, thread w fitting through ctxs[w] (each a
 * context of its own, prepared by the fold it runs); the scores do not depend on the
 * number. start (n_par, may be NULL) receives the folds' mean solution at the chosen
 * alpha, the refit's starting point. */
btfm_status btfm_model_glm_cv(const btfm_model *m, const glm_ops *ops, void *const *ctxs,
                              int n_ctx, int64_t n_samples, int kind, int min_test,
                              double *cv_scores, int *best, double *start,
                              btfm_progress *progress, const char *func);

/* Worker threads worth giving the cross-validation of a fit of n_par parameters on
 * n_samples rows: 1 without a grid, for small work, or while OpenBLAS's own threads
 * have the cores and the host keeps its thread count (doc/THREADING.md). */
int btfm_model_glm_workers(const btfm_model *m, int64_t n_samples, int64_t n_par);

#endif
