/* Ridge regression internals shared by the driver (ridge.c), the primal route
 * (ridge_primal.c: the features' Gram matrix per training set), the dual route
 * (ridge_dual.c: the samples' kernel matrix) and banded ridge (banded.c). */
#ifndef BTFM_MODEL_RIDGE_INTERNAL_H
#define BTFM_MODEL_RIDGE_INTERNAL_H

#include "model_internal.h"

/* Rows converted at a time from the float inputs to double tiles. */
#define RIDGE_TILE 256

typedef struct ridge_ctx {
    /* the problem */
    const float *x;        /* n x p design */
    const float *y;        /* n x t targets */
    int64_t n, p, t;
    const double *w;       /* n weights (NULL: all 1) */
    const model_splits *splits; /* NULL: one alpha, no selection */
    const double *alphas;
    int n_alphas;
    int intercept, standardize, per_target, scoring;
    double *col_scale;     /* p extra column factors (banded ridge's sqrt(gamma)), or NULL */
    btfm_progress *progress;
    const char *func;
    const ridge_share *share; /* NULL in one process */
    /* fixed once */
    double *mu_x;          /* p: global weighted means of x (0 without intercept) */
    double *mu_y;          /* t: the same for y */
    double sw;             /* sum of weights */
    int64_t n_eff;         /* samples with a positive weight */
    int64_t *rest;         /* samples in no test list */
    int64_t n_rest;
    /* outputs, all targets */
    double *cv;            /* n_alphas x t: fold-averaged scores (NULL without selection) */
    int *best;             /* t: index of the chosen alpha */
} ridge_ctx;

/* The weight of sample i. */
static inline double ridge_w(const ridge_ctx *c, int64_t i) { return c->w ? c->w[i] : 1.0; }

/* Tiles of rows: out (count x cols, double) = sqrt(w_i) (src_i - shift) for the rows
 * `rows` (or first .. first + count when rows is NULL) of a float matrix src with row
 * stride ld, columns [c0, c0 + cols). */
void btfm_ridge_gather(const ridge_ctx *c, const float *src, int64_t ld, int64_t c0,
                       int64_t cols, const double *shift, const int64_t *rows, int64_t first,
                       int64_t count, double *out);

/* Choose each target's alpha from c->cv (first best; one shared alpha by the mean over
 * targets when per_target is 0) into c->best. */
void btfm_ridge_choose(ridge_ctx *c);

/* How many targets to process at once so that `per_target_bytes` each stays within the
 * working-memory budget. */
int64_t btfm_ridge_chunk(const ridge_ctx *c, double per_target_bytes);

/* The score of one target from moments about the training mean (see
 * btfm_model_score_moments), with scikit-learn's convention for a constant held-out
 * target under R^2. */
double btfm_ridge_fold_score(int kind, double sw, double sy, double syy, double sp, double spp,
                             double syp);

/* Allocate the fit's per-output arrays for t outputs and p design columns. */
btfm_status btfm_ridge_fit_alloc(model_fit *fit, int64_t p, int64_t t, int dual, int64_t n,
                                 const char *func);

/* Set up a ridge problem from the model's settings: the design (delays, HRF), the
 * splits when with_cv, the shifts and the target checks, c->cv allocated with splits.
 * btfm_ridge_end frees what begin made (also after a failed begin). */
btfm_status btfm_ridge_begin(btfm_model *m, const float *x, int64_t n, int64_t p,
                             const float *y, int64_t t, int with_cv, ridge_ctx *c,
                             model_splits *splits, float **owned, btfm_progress *progress,
                             const char *func);
void btfm_ridge_end(ridge_ctx *c, model_splits *splits, float *owned);
/* Whether the solver parameter (or the shape, when automatic) asks for the dual route. */
int btfm_ridge_use_dual(const btfm_model *m, int64_t n, int64_t P);

/* Routes: the cross-validation scores (c->cv) and the final fit into `fit`. */
btfm_status btfm_ridge_primal(ridge_ctx *c, model_fit *fit);
btfm_status btfm_ridge_dual(ridge_ctx *c, model_fit *fit);

/* Banded ridge: refine each target's band penalties in fit (alpha, band_weights, from
 * the random search) on the held-out squared error summed over c's K folds, by BFGS or
 * (coordinate nonzero) by exact coordinate updates (banded_gradient.c); the coefficients,
 * intercepts and noise variances refitted. */
btfm_status btfm_model_banded_gradient(const ridge_ctx *c, const int32_t *band, int n_bands,
                                       int max_iter, double tol, int coordinate,
                                       model_fit *fit);

#endif
