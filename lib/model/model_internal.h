/* The model layer's internals shared by the files of lib/model: the handle, the fitted
 * state a fit builds and swaps in only when it succeeds, the splits, and the fits. */
#ifndef BTFM_MODEL_INTERNAL_H
#define BTFM_MODEL_INTERNAL_H

#include <btfm/model.h>
#include "core/internal.h"
#include "core/param.h"
#include "core/progress.h"

#define MODEL_PARAM_COUNT 18
#define MODEL_PARAM(m, p) ((m)->params[BTFM_MODEL_PARAM_##p])

/* What a fit produces. Rows of coef are the design's columns: the input features, once
 * per delay (delay-major), after the HRF when it is on. */
typedef struct model_fit {
    int type;
    int64_t n_features;   /* columns of x at predict */
    int64_t n_coef;       /* design columns: n_features x n_delays */
    int64_t n_outputs;
    int n_classes;        /* logistic */
    int items;            /* Bradley-Terry with free item scores (no features) */
    float *coef;          /* n_coef x n_outputs, input units (NULL for a dual fit) */
    double *intercept;    /* n_outputs */
    double *alpha;        /* n_outputs */
    int n_cv_alphas;      /* rows of cv_scores; 0 when no selection ran */
    double *cv_scores;    /* n_cv_alphas x btfm_model_cv_columns */
    /* Dual ridge (features > samples): predict = ((x - center) / scale) train^T dual. */
    int64_t n_train;
    double *train;        /* n_train x n_coef: the weighted, centered training design
                             times the column factors squared */
    double *dual;         /* n_train x n_outputs */
    /* Design transform recorded with the fit. */
    int n_delays;
    int32_t *delays;
    int hrf;
    double t_r;
    /* Uncertainty. Ridge: the posterior of the standardized coefficients,
     * s2 (V diag(1 / (eig + alpha)) V^T + [V incomplete] (I - V V^T) / alpha), from the
     * decomposition of the final fit; noise_var = s2 per output. Logistic and
     * Bradley-Terry: cov = the inverse Hessian over [standardized weights, intercept]
     * per output (n_par x n_par each). */
    double *center;       /* n_coef */
    double *scale;        /* n_coef */
    int64_t rank;
    double *basis;        /* n_coef x rank */
    double *eig;          /* rank */
    double *noise_var;    /* n_outputs */
    double sum_weights;
    int64_t n_par;
    double *cov;          /* n_outputs x n_par x n_par */
    /* Banded ridge: the band of each design column and each output's band weights. */
    int n_bands;
    int32_t *band;        /* n_coef */
    double *band_weights; /* n_bands x n_outputs */
    /* Bradley-Terry tie parameter. */
    int ties;
    double tie;
    /* Synthetic responses: the residual covariance as factor factor^T + diag(noise_diag). */
    int64_t noise_rank;
    double *noise_factor; /* n_outputs x noise_rank */
    double *noise_diag;   /* n_outputs */
    /* Neural translation: inputs are a subject's data mapped by this aligner (owned). */
    btfm_aligner *aligner;
    int aligner_subject;
} model_fit;

struct btfm_model {
    int type;
    double params[MODEL_PARAM_COUNT];
    double *alphas;
    int n_alphas;
    double *weights;
    int64_t n_weights;
    int64_t *groups;
    int64_t n_groups;
    int32_t *folds;
    int64_t n_folds;
    int32_t *bands;
    int64_t n_band_entries;
    double *band_draws;   /* n_draws x n_draw_bands, or NULL: random search */
    int n_draws, n_draw_bands;
    int32_t *delays;
    int n_delays;
    btfm_aligner *aligner; /* owned copy, or NULL */
    int aligner_subject;
    btfm_progress_fn progress;
    void *progress_user;
    model_fit *fit;
    /* The last fit when it was btfm_model_fit_mpi: this rank's targets [first, first +
     * count) of total; distributed 0 after any other fit (lib/mpi gathers by it). */
    int distributed;
    int64_t dist_first, dist_count, dist_total;
};

void btfm_model_fit_free(model_fit *f);

typedef struct ridge_share ridge_share; /* below */

/* btfm_model_fit in two steps, for callers that decide with others whether to keep the
 * fit (the distributed fit, whose ridge decompositions come through `share`; NULL in one
 * process): the new fit into *out, the model untouched; then commit
 * swaps it in (freeing the previous one), or btfm_model_fit_free discards it. */
btfm_status btfm_model_fit_staged(btfm_model *m, const float *x, int64_t n_samples,
                                  int64_t n_features, const float *y, int64_t n_targets,
                                  const ridge_share *share, model_fit **out,
                                  const char *func);
void btfm_model_fit_commit(btfm_model *m, model_fit *fit);

/* Columns of cv_scores: one per target for ridge, one for the classifiers. */
static inline int64_t btfm_model_cv_columns(const model_fit *f)
{
    return f->type == BTFM_MODEL_RIDGE || f->type == BTFM_MODEL_BANDED_RIDGE ? f->n_outputs : 1;
}

/* A zeroed array of `count` elements, NULL after recording BTFM_E_NOMEM with `where`. */
double *btfm_model_doubles(size_t count, const char *where);

/* --- split.c: cross-validation folds --- */

/* The folds of one fit. Fold f tests samples test[test_start[f] .. test_start[f+1]) and
 * trains on every sample outside them and outside gap[gap_start[f] .. gap_start[f+1])
 * (the samples within `gap` of the test block). Indices ascend within each list. */
typedef struct model_splits {
    int n_folds;
    int loo;              /* ridge's closed-form leave-one-out: no explicit folds */
    int64_t n_samples;
    int64_t *test_start;  /* n_folds + 1 */
    int64_t *test;
    int64_t *gap_start;   /* n_folds + 1 */
    int64_t *gap;
} model_splits;

/* The folds for n_samples samples from the model's cv, gap, shuffle, seed, groups and
 * explicit folds. `closed_loo` is 1 when the caller can do leave-one-out without folds
 * (ridge): then cv = 0 or 1 without groups gives loo = 1. `min_test` is the smallest
 * test fold the scoring can use (2 for R^2 and correlations). Fails naming the argument
 * (cv, groups, folds, gap) that makes a split impossible. */
btfm_status btfm_model_make_splits(const btfm_model *m, int64_t n_samples, int closed_loo,
                                   int min_test, model_splits *out, const char *func);
void btfm_model_splits_clear(model_splits *s);

/* Whether sample i trains fold f: not in its test list nor its gap list (binary search). */
int btfm_model_in_train(const model_splits *s, int f, int64_t i);

/* --- design.c: inputs to the design the fit sees --- */

/* The inputs' map to the design: an aligner (or NULL) and its subject, FIR delays, the
 * HRF. */
typedef struct model_input {
    const btfm_aligner *aligner;
    int subject;
    const int32_t *delays;
    int n_delays;
    int hrf;
    double t_r;
} model_input;

/* The map recorded by a fit, and the one a model's settings ask for. */
model_input btfm_model_fit_input(const model_fit *f);
model_input btfm_model_settings_input(const btfm_model *m);

/* Checks x (finite, shape) and builds the design: the aligner's map, then the HRF and FIR
 * delays per group run, or x itself when none is on (*owned = NULL). `groups` may be
 * NULL. *width receives the design's columns. */
btfm_status btfm_model_design(const float *x, int64_t n_samples, int64_t n_features,
                              const model_input *in, const int64_t *groups,
                              const float **design, float **owned, int64_t *width,
                              const char *func);

/* A copy of an aligner through its buffer form, or NULL after recording the failure. */
btfm_aligner *btfm_model_copy_aligner(const btfm_aligner *a, const char *func);
/* The first non-finite value of a float matrix as an error naming `what`. */
btfm_status btfm_model_check_finite(const float *x, int64_t rows, int64_t cols,
                                    const char *what, const char *func);

/* --- ridge.c, ridge_primal.c, ridge_dual.c --- */

/* Everything the ridge fits share: the design and targets, weights, folds, grid. */
typedef struct ridge_problem {
    const float *x;      /* n x p design */
    const float *y;      /* n x t */
    int64_t n, p, t;
    const double *w;     /* n weights or NULL */
    const model_splits *splits;
    const double *alphas;
    int n_alphas;
    int intercept, standardize, per_target, scoring;
    const int32_t *band; /* banded ridge: band of each column, else NULL */
    const double *gamma; /* banded ridge: one band-weight draw per band, else NULL */
    int n_bands;
    btfm_progress *progress;
} ridge_problem;

/* A distributed fit's decompositions (lib/mpi): one rank computes every training set's
 * decomposition and the others receive it instead of computing it. Each share point is
 * agree(st) on every rank holding targets, then, when no rank failed, bcast of the
 * decomposition's arrays from the computing rank in the same order on every rank. */
struct ridge_share {
    int compute;  /* this rank computes and sends */
    btfm_status (*agree)(void *ctx, btfm_status st);
    btfm_status (*bcast)(void *ctx, double *values, int64_t n);
    void *ctx;
};

/* A share point: agree on st, then the arrays (ptr[i], len[i]) from the computing rank. */
btfm_status btfm_ridge_share(const ridge_share *sh, double *const *ptr, const int64_t *len,
                             int count, btfm_status st);

/* The CV scores of every alpha for targets [t0, t1): scores (n_alphas x (t1 - t0),
 * row stride `ld`) receive the fold-averaged held-out score. */
typedef struct ridge_cache ridge_cache;

btfm_status btfm_model_fit_ridge(btfm_model *m, const float *x, int64_t n, int64_t p,
                                 const float *y, int64_t t, const ridge_share *share,
                                 model_fit *fit);
/* Primal coefficients of a dual ridge fit (n_coef x n_outputs, C order). */
btfm_status btfm_model_dual_coef(const model_fit *f, float *out);
btfm_status btfm_model_fit_banded(btfm_model *m, const float *x, int64_t n, int64_t p,
                                  const float *y, int64_t t, model_fit *fit);

/* --- logistic.c, bradley_terry.c, newton.c --- */

btfm_status btfm_model_fit_logistic(btfm_model *m, const float *x, int64_t n, int64_t p,
                                    const int32_t *labels, model_fit *fit);
btfm_status btfm_model_fit_bt(btfm_model *m, const float *x, int64_t n_items, int64_t p,
                              const int64_t *pairs, const float *outcomes, int64_t n_pairs,
                              model_fit *fit);

/* --- predict.c --- */

/* out (n x n_outputs) = design (n x n_coef) coefficients + intercept, or the dual form. */
btfm_status btfm_model_linear(const model_fit *f, const float *design, int64_t n, float *out,
                              const char *func);

/* --- synth.c --- */

/* The fit's low-rank-plus-diagonal residual covariance from its training design and
 * targets (noise_rank components). */
btfm_status btfm_model_noise_factor(model_fit *f, const float *design, int64_t n,
                                    const float *y, int64_t rank, const char *func);

/* Seeded draws shared by the layer (splitmix64; the stream is part of a seed's meaning). */
double btfm_model_uniform(uint64_t *state);
double btfm_model_normal(uint64_t *state);

/* --- score.c --- */

/* R^2, -MSE or Pearson r of one column from its weighted moments about any origin:
 * sw = sum w, sy = sum w y, syy = sum w y^2, sp, spp, syp likewise for the prediction. */
double btfm_model_score_moments(int kind, double sw, double sy, double syy, double sp,
                                double spp, double syp);

#endif
