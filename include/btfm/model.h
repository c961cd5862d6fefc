/* btfm_model: linear readouts fitted with cross-validation. Ridge regression for many
 * targets with a regularization per target, banded ridge, logistic regression (binary
 * and multinomial) and the Bradley-Terry pairwise model, with predictive uncertainty,
 * sample weights, groups and splits that respect time; and the neuroscience built on
 * them (encoding models with FIR delays or the HRF, held-out scores, noise ceilings,
 * RSA, permutation tests, synthetic responses, steering directions). The equations and
 * what a score means: doc/models.md. */
#ifndef BTFM_MODEL_H
#define BTFM_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "aligner.h"
#include "dataset.h"
#include "export.h"
#include "progress.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct btfm_model btfm_model;

/* Model types. Numbers are never reused. */
typedef enum btfm_model_type {
    BTFM_MODEL_RIDGE = 1,          /* min ||y - X b - b0||^2_w + alpha ||b||^2, per target */
    BTFM_MODEL_BANDED_RIDGE = 2,   /* one regularization per feature band (btfm_model_set_bands) */
    BTFM_MODEL_LOGISTIC = 3,       /* binary or multinomial, L2 on the weights, Newton */
    BTFM_MODEL_BRADLEY_TERRY = 4,  /* pairwise preferences, L2, optional ties, Newton */
    BTFM_MODEL_TYPE_MAX_ = 0x7fffffff
} btfm_model_type;

/* Scores: what cross-validation maximizes and btfm_model_score reports. */
typedef enum btfm_score_kind {
    BTFM_SCORE_DEFAULT = 0,        /* ridge: R^2; logistic: accuracy; Bradley-Terry: log-likelihood */
    BTFM_SCORE_R2 = 1,             /* 1 - SSE / SST about the held-out mean (scikit-learn r2_score) */
    BTFM_SCORE_NEG_MSE = 2,        /* minus the mean squared error */
    BTFM_SCORE_PEARSON = 3,        /* Pearson correlation of prediction and truth */
    BTFM_SCORE_ACCURACY = 4,       /* fraction classified (or ordered) correctly */
    BTFM_SCORE_LOG_LIKELIHOOD = 5, /* mean log-probability of the outcomes (minus the log loss) */
    BTFM_SCORE_KIND_MAX_ = 0x7fffffff
} btfm_score_kind;

/* How Bradley-Terry treats ties (outcome 0.5). */
typedef enum btfm_ties {
    BTFM_TIES_NONE = 0,       /* a tie counts half a win for each side */
    BTFM_TIES_RAO_KUPPER = 1, /* P(i>j) = pi_i / (pi_i + theta pi_j), theta >= 1 fitted */
    BTFM_TIES_DAVIDSON = 2,   /* P(tie) = nu sqrt(pi_i pi_j) / (pi_i + pi_j + nu sqrt(pi_i pi_j)) */
    BTFM_TIES_MAX_ = 0x7fffffff
} btfm_ties;

/* Solvers. Ridge: one decomposition reused for every alpha. Logistic regression and
 * Bradley-Terry: 0 preconditioned L-BFGS with Newton's method as the fallback, or Newton's
 * method alone. */
typedef enum btfm_ridge_solver {
    BTFM_RIDGE_AUTO = 0,   /* primal when features <= samples, else dual */
    BTFM_RIDGE_PRIMAL = 1, /* eigendecomposition of the features' Gram matrix (thin SVD) */
    BTFM_RIDGE_DUAL = 2,   /* eigendecomposition of the samples' kernel matrix */
    BTFM_MODEL_NEWTON = 3, /* logistic regression and Bradley-Terry: Newton's method (IRLS)
                              from the start instead of quasi-Newton steps (solver 0) */
    BTFM_RIDGE_SOLVER_MAX_ = 0x7fffffff
} btfm_ridge_solver;

/* Parameters (btfm_model_set_param); see btfm_param_info(BTFM_OBJECT_MODEL) for defaults
 * and bounds. Set them before fitting. */
typedef enum btfm_model_param {
    BTFM_MODEL_PARAM_CV = 0,            /* int: 0 the type's default (ridge: leave-one-out by
                                           the closed form; others: 5 folds), 1 leave-one-out
                                           (leave-one-group-out with groups), k >= 2 k
                                           contiguous folds (of whole groups with groups) */
    BTFM_MODEL_PARAM_GAP = 1,           /* int: samples next to a test block kept out of training */
    BTFM_MODEL_PARAM_SHUFFLE = 2,       /* bool: folds over a seeded permutation (off) */
    BTFM_MODEL_PARAM_SEED = 3,          /* int: shuffle, random search, permutations, noise */
    BTFM_MODEL_PARAM_FIT_INTERCEPT = 4, /* bool: unpenalized intercept (on) */
    BTFM_MODEL_PARAM_STANDARDIZE = 5,   /* bool: z-score features on each training fold (off) */
    BTFM_MODEL_PARAM_ALPHA_PER_TARGET = 6, /* bool: ridge alpha chosen per target (on) */
    BTFM_MODEL_PARAM_SCORING = 7,       /* int: btfm_score_kind cross-validation maximizes */
    BTFM_MODEL_PARAM_MAX_ITER = 8,      /* int: Newton iterations at most */
    BTFM_MODEL_PARAM_TOL = 9,           /* real: Newton stops when a step moves no
                                           coefficient by more than tol (1 + max |coef|) */
    BTFM_MODEL_PARAM_LABEL_SMOOTHING = 10, /* real: eps in [0, 0.5): targets 1 - eps / eps */
    BTFM_MODEL_PARAM_TIES = 11,         /* int: btfm_ties */
    BTFM_MODEL_PARAM_N_ITER = 12,       /* int: banded ridge random-search draws */
    BTFM_MODEL_PARAM_HRF = 13,          /* bool: convolve features with the SPM HRF (needs t_r) */
    BTFM_MODEL_PARAM_T_R = 14,          /* real: seconds between samples for the HRF */
    BTFM_MODEL_PARAM_SOLVER = 15,       /* int: btfm_ridge_solver (BTFM_MODEL_NEWTON for
                                           logistic regression and Bradley-Terry) */
    BTFM_MODEL_PARAM_NOISE_RANK = 16,   /* int: ridge: rank of the residual covariance kept
                                           for synthetic responses (0: per target only) */
    BTFM_MODEL_PARAM_BAND_SEARCH = 17,  /* int: banded ridge: 0 random search, 1 random search
                                           then gradient (BFGS) steps on the band penalties,
                                           2 random search then exact coordinate updates of
                                           each band's penalty */
    BTFM_MODEL_PARAM_MAX_ = 0x7fffffff
} btfm_model_param;

/* Names ("ridge", "banded_ridge", "logistic", "bradley_terry"; "r2", ...; "none",
 * "rao_kupper", "davidson"); NULL when unknown. */
BTFM_API const char *btfm_model_type_name(int type);
BTFM_API const char *btfm_model_score_name(int kind);
BTFM_API const char *btfm_model_ties_name(int ties);

/* A new, unfitted model of `type` (btfm_model_type). Free with btfm_model_free. */
BTFM_API btfm_status btfm_model_new(btfm_model **out, int type);

/* Release a model. NULL is a no-op. */
BTFM_API void btfm_model_free(btfm_model *m);

BTFM_API btfm_status btfm_model_set_param(btfm_model *m, int param, double value);
BTFM_API btfm_status btfm_model_get_param(const btfm_model *m, int param, double *value);

/* The type (btfm_model_type), or a negative status for a NULL model. */
BTFM_API int btfm_model_get_type(const btfm_model *m);

/* Progress and cancellation of this model's fits (NULL: the calling thread's callback,
 * btfm_set_thread_progress). A cancelled fit returns BTFM_E_CANCELLED and leaves the
 * model as it was before the call. */
BTFM_API btfm_status btfm_model_set_progress(btfm_model *m, btfm_progress_fn fn, void *user);

/* ---- what a fit uses (copied; kept for later fits; never saved) ------------------ */

/* The regularization grid: `count` (>= 1) positive, finite penalties alpha, tried in the
 * order given (ties between scores go to the earlier one). Logistic regression and
 * Bradley-Terry minimize sum_i w_i loss_i + alpha/2 ||b||^2, so alpha = 1 / C of
 * scikit-learn's LogisticRegression. Defaults: ridge and banded ridge {0.1, 1, 10}
 * (RidgeCV); logistic and Bradley-Terry 1 / logspace(-4, 4, 10) (LogisticRegressionCV's
 * Cs = 10, largest penalty first). */
BTFM_API btfm_status btfm_model_set_alphas(btfm_model *m, const double *alphas, int count);
/* The grid's length, or a negative status; the grid into `out` (capacity doubles). */
BTFM_API int btfm_model_n_alphas(const btfm_model *m);
BTFM_API btfm_status btfm_model_alphas(const btfm_model *m, double *out, size_t capacity);

/* Per-sample weights (n_samples finite values >= 0, not all 0): every loss, mean and
 * held-out score is weighted by them. NULL (count 0) removes them. For Bradley-Terry a
 * sample is a pair. */
BTFM_API btfm_status btfm_model_set_sample_weight(btfm_model *m, const double *weights,
                                                  int64_t n_samples);

/* Group labels (runs, sessions, subjects, annotators), one per sample: folds never split
 * a group (leave-one-group-out with cv = 0 or 1; cv = k >= 2: k folds of whole groups,
 * contiguous in the order groups first appear). FIR delays and the HRF do not reach
 * across a change of group. NULL removes them. */
BTFM_API btfm_status btfm_model_set_groups(btfm_model *m, const int64_t *groups,
                                           int64_t n_samples);

/* Explicit folds: test_fold[i] >= 0 is the fold in whose test set sample i is, -1 keeps
 * it in every training set (scikit-learn's PredefinedSplit). Overrides cv and groups;
 * `gap` still applies. NULL removes them. */
BTFM_API btfm_status btfm_model_set_folds(btfm_model *m, const int32_t *test_fold,
                                          int64_t n_samples);

/* Banded ridge: the band (0 .. n_bands - 1, every band used) of each input feature
 * (copied to every delay), or of each design column (n_features x delays entries). */
BTFM_API btfm_status btfm_model_set_bands(btfm_model *m, const int32_t *band,
                                          int64_t n_features);

/* Banded ridge: the band weights to try (n_draws x n_bands, each row positive and summing
 * to 1) instead of the random search's draws (himalaya's n_iter given as an array; e.g.
 * the identity is winner-take-all). NULL (0 draws) returns to the random search: n_iter
 * draws from Dirichlet distributions with concentration 0.1 and 1 in turn, the first
 * draw weighting every band equally. */
BTFM_API btfm_status btfm_model_set_band_weights(btfm_model *m, const double *weights,
                                                 int n_draws, int n_bands);

/* Finite-impulse-response delays in samples (himalaya's Delayer): the fit sees the
 * features at t - d for each d (zero before the start of the data or of a group), the
 * delays' copies side by side (delay-major). `count` 0 or NULL removes them. Delays may
 * be negative (leads); |d| < 10^6. */
BTFM_API btfm_status btfm_model_set_delays(btfm_model *m, const int32_t *delays, int count);

/* Neural translation through a fitted aligner's shared space: the model's inputs become a
 * subject's recording mapped by the aligner (btfm_aligner_transform for `subject`), so a
 * ridge fit on subject A's data and subject B's targets translates A into B through the
 * shared space, and prediction maps new recordings of A the same way. The model keeps its
 * own copy of the aligner (saved with it). NULL removes it. Ridge models only. */
BTFM_API btfm_status btfm_model_set_aligner(btfm_model *m, const btfm_aligner *aligner,
                                            int subject);

/* ---- fitting ------------------------------------------------------------------------ */

/* Ridge and banded ridge: x is n_samples x n_features, y n_samples x n_targets (floats,
 * C order, both copied as needed). Chooses alpha by cross-validation over the grid
 * (btfm_model_set_alphas; with one alpha none runs) and refits on every sample.
 * NaN/Inf is refused naming the argument, row and column; so are a target constant over
 * the samples, fewer samples than folds, and settings given for another sample count.
 * On any failure, or when cancelled, the model keeps its previous fit (if any). */
BTFM_API btfm_status btfm_model_fit(btfm_model *m, const float *x, int64_t n_samples,
                                    int64_t n_features, const float *y, int64_t n_targets);

/* Logistic regression: labels (n_samples ints) are classes 0 .. K - 1, every class
 * present (K >= 2; K = 2 fits one weight vector, K > 2 a multinomial model). */
BTFM_API btfm_status btfm_model_fit_classes(btfm_model *m, const float *x, int64_t n_samples,
                                            int64_t n_features, const int32_t *labels);

/* Bradley-Terry: items are rows of x (n_items x n_features), so the fitted score of an
 * item is its features times the weights (a reward model). x NULL fits one free score
 * per item instead (n_features must be n_items or 0). pairs holds n_pairs (first,
 * second) item indices; outcomes[k] is 1 when first was preferred, 0 when second was,
 * 0.5 for a tie (any value in [0, 1] with ties = none: the probability first wins);
 * outcomes NULL means first always won. Samples (weights, groups, folds) are pairs. */
BTFM_API btfm_status btfm_model_fit_pairs(btfm_model *m, const float *x, int64_t n_items,
                                          int64_t n_features, const int64_t *pairs,
                                          const float *outcomes, int64_t n_pairs);

/* 1 once fitted (or loaded), 0 before, negative status for a NULL model. */
BTFM_API int btfm_model_is_fitted(const btfm_model *m);

/* Shapes of the fit: n_features the columns predict takes, n_coef the coefficient rows
 * (n_features times the number of delays), n_outputs the values predict gives per
 * sample (ridge: targets; logistic: 1 for two classes, else the class count;
 * Bradley-Terry: 1). Any pointer may be NULL. */
BTFM_API btfm_status btfm_model_dims(const btfm_model *m, int64_t *n_features, int64_t *n_coef,
                                     int64_t *n_outputs);

/* Classes of a logistic fit (0 for other types), or a negative status. */
BTFM_API int btfm_model_n_classes(const btfm_model *m);

/* ---- fitted values (caller buffers of `capacity` elements) ---------------------------- */

/* Coefficients in the units of the inputs, n_coef x n_outputs (C order), so that
 * predict = x b + intercept. For Bradley-Terry with free item scores, the scores. */
BTFM_API btfm_status btfm_model_coef(const btfm_model *m, float *out, size_t capacity);
/* Intercepts (n_outputs; 0 without one). */
BTFM_API btfm_status btfm_model_intercept(const btfm_model *m, double *out, size_t capacity);
/* The chosen alpha of each output (n_outputs; one value repeated when shared). */
BTFM_API btfm_status btfm_model_alpha(const btfm_model *m, double *out, size_t capacity);
/* Cross-validation scores, n_alphas x n_targets for ridge and n_alphas x 1 for logistic
 * regression and Bradley-Terry (C order): the mean over folds of the held-out score
 * (btfm_score_kind of the scoring parameter) of each alpha; ridge's leave-one-out gives
 * minus the mean squared leave-one-out error (R^2 or the correlation of the leave-one-out
 * predictions when scoring asks). Banded ridge: n_draws x n_targets instead, each band
 * weighting's score at its best alpha (n_draws: the weightings given to
 * btfm_model_set_band_weights, else the n_iter parameter). BTFM_E_STATE when no selection
 * ran (one alpha). */
BTFM_API btfm_status btfm_model_cv_scores(const btfm_model *m, double *out, size_t capacity);
/* Banded ridge: the band weights each target chose, n_bands x n_targets (each column
 * sums to 1; the regularization of band b is alpha / weight: himalaya's
 * deltas = log(weight / alpha)). */
BTFM_API btfm_status btfm_model_band_weights(const btfm_model *m, double *out, size_t capacity);
/* Bradley-Terry's fitted tie parameter: Rao-Kupper's theta >= 1 (1 when no pair was a
 * tie), Davidson's nu >= 0 (0 when none was); 0 without a tie model. */
BTFM_API btfm_status btfm_model_tie_parameter(const btfm_model *m, double *value);

/* ---- prediction ------------------------------------------------------------------------ */

/* out (n_samples x n_outputs) = x b + intercept: ridge predictions, logistic decision
 * values (the log-odds of class 1 for two classes), Bradley-Terry scores. x is n_samples
 * x n_features; with delays or the HRF, its rows are consecutive samples (one group). */
BTFM_API btfm_status btfm_model_predict(const btfm_model *m, float *out, const float *x,
                                        int64_t n_samples, int64_t n_features);

/* Logistic class probabilities, n_samples x n_classes. */
BTFM_API btfm_status btfm_model_predict_proba(const btfm_model *m, float *out, const float *x,
                                              int64_t n_samples, int64_t n_features);

/* Predictive standard deviations, n_samples x n_outputs. Ridge: of a new observation
 * under the Bayesian reading of the fit (prior b ~ N(0, s2 / alpha), noise variance s2
 * from the residuals), so prediction +- 1.645 sd is a 90% interval. Logistic and
 * Bradley-Terry: of the decision value or score under the Laplace approximation.
 * Not available for banded ridge. */
BTFM_API btfm_status btfm_model_predict_std(const btfm_model *m, float *out, const float *x,
                                            int64_t n_samples, int64_t n_features);

/* Bradley-Terry probabilities of each pair's outcomes, n_pairs x 3: first preferred,
 * tie, second preferred. x and pairs as at the fit (x NULL with free item scores). */
BTFM_API btfm_status btfm_model_predict_pairs(const btfm_model *m, double *out, const float *x,
                                              int64_t n_items, int64_t n_features,
                                              const int64_t *pairs, int64_t n_pairs);

/* ---- scores ------------------------------------------------------------------------------ */

/* Per-column scores of predictions: out[j] compares column j of y_pred with column j of
 * y_true (n_samples x n_targets each): R^2, minus the MSE or Pearson r (kind). Constant
 * truth gives R^2 1 for a perfect prediction and 0 otherwise (scikit-learn); a constant
 * column gives r = NaN. */
BTFM_API btfm_status btfm_model_score_columns(double *out, int kind, const float *y_true,
                                        const float *y_pred, int64_t n_samples,
                                        int64_t n_targets);

/* A ridge model's held-out score of each target on (x, y): out has n_targets values. */
BTFM_API btfm_status btfm_model_score(const btfm_model *m, double *out, int kind,
                                      const float *x, const float *y, int64_t n_samples,
                                      int64_t n_features, int64_t n_targets);

/* Banded ridge: which bands matter on held-out data (himalaya's r2_score_split): out
 * (n_bands x n_targets) receives each band's share of R^2, sum_i (2 y_i p_bi - p_bi
 * sum_c p_ci) / sum_i y_i^2 with y and each band's prediction p_b centered; the shares
 * of a target sum to its R^2 with centered predictions. */
BTFM_API btfm_status btfm_model_score_split(const btfm_model *m, double *out, const float *x,
                                            const float *y, int64_t n_samples,
                                            int64_t n_features, int64_t n_targets);

/* ---- encoding and decoding ------------------------------------------------------------ */

/* Held-out predictions of every sample (encoding models, decoding, brain scores): outer
 * folds, n_outer >= 2 contiguous blocks or, with n_outer 0, one per group of the model's
 * groups; the model's gap applies to them too. Each outer training set is fitted with the
 * model's settings, so its alpha is chosen by the model's own cross-validation inside it
 * (nested). The design (delays, HRF) is built once over every sample. Ridge: y and out are
 * n_samples x n_targets. Logistic: y holds the class of each sample (n_targets = 1) and
 * out the held-out class probabilities, n_samples x n_classes. The model's own fit is
 * left as it is. */
BTFM_API btfm_status btfm_model_cross_predict(const btfm_model *m, float *out, const float *x,
                                              int64_t n_samples, int64_t n_features,
                                              const float *y, int64_t n_targets, int n_outer);

/* Decoding with a permutation test: *score receives the cross-validated score of predicting
 * y (n_samples values: a continuous target for ridge, classes for logistic) from x
 * (btfm_model_cross_predict; ridge: the scoring parameter's score of the pooled held-out
 * predictions, R^2 by default; logistic: accuracy), null (n_permutations values, may be
 * NULL) the same score for seeded permutations of y (the model's seed; within groups when
 * it has groups), and *p_value = (1 + #(null >= score)) / (1 + n_permutations). Ridge
 * fits every permutation at once as extra targets. */
BTFM_API btfm_status btfm_model_permutation_test(const btfm_model *m, double *score,
                                                 double *p_value, double *null, const float *x,
                                                 int64_t n_samples, int64_t n_features,
                                                 const float *y, int n_outer,
                                                 int n_permutations);

/* Noise models of synthetic responses. */
typedef enum btfm_noise_kind {
    BTFM_NOISE_NONE = 0,       /* the prediction alone */
    BTFM_NOISE_INDEPENDENT = 1,/* per target, with its residual variance */
    BTFM_NOISE_LOW_RANK = 2,   /* the residual covariance's noise_rank leading components
                                  plus the rest per target */
    BTFM_NOISE_KIND_MAX_ = 0x7fffffff
} btfm_noise_kind;

/* Synthetic responses of a ridge (encoding) model to new inputs: predictions plus
 * Gaussian noise of `noise` (btfm_noise_kind) drawn from `seed`; out is n_samples x
 * n_targets. BTFM_NOISE_LOW_RANK needs a fit made with noise_rank > 0. */
BTFM_API btfm_status btfm_model_synthesize(const btfm_model *m, float *out, const float *x,
                                           int64_t n_samples, int64_t n_features, int noise,
                                           uint64_t seed);

/* The same as a dataset every other layer reads like a recording: n_samples x n_targets
 * channels sampled at sfreq Hz (btfm_dataset_from_array; channel names, types and units from
 * `like` when it has n_targets channels, e.g. the recording the model was fitted on). */
BTFM_API btfm_status btfm_model_synthesize_dataset(const btfm_model *m, btfm_dataset **out,
                                                   const float *x, int64_t n_samples,
                                                   int64_t n_features, int noise, uint64_t seed,
                                                   double sfreq, const btfm_dataset *like);

/* Steering directions: how a unit vector in a model's activation space is chosen. */
typedef enum btfm_steering_method {
    BTFM_STEERING_MEAN_DIFFERENCE = 1, /* mean of class 1 minus mean of class 0 */
    BTFM_STEERING_LOGISTIC = 2,        /* the weights of an L2 logistic readout (its penalty
                                          by 5-fold cross-validation) */
    BTFM_STEERING_METHOD_MAX_ = 0x7fffffff
} btfm_steering_method;

/* A unit direction (n_features floats, pointing toward class 1) separating activations x
 * (n_samples x n_features) of two classes (labels 0 and 1), fitted on every sample, and
 * *accuracy, the held-out accuracy of classifying by it over n_folds contiguous folds (the
 * projection against the midpoint of the training class means; the logistic readout's
 * decision). For hosts that add the direction to activations. */
BTFM_API btfm_status btfm_steering_direction(float *direction, double *accuracy, int method,
                                             const float *x, int64_t n_samples,
                                             int64_t n_features, const int32_t *labels,
                                             int n_folds);

/* ---- noise ceilings --------------------------------------------------------------------- */

/* Split-half reliability of the mean over n_repeats presentations of one stimulus (data:
 * n_repeats x n_samples x n_targets): the correlation of the means of two halves of the
 * repeats (odd and even repeats with n_splits 0, else averaged over n_splits seeded random
 * halvings), stepped up by Spearman-Brown to all repeats, out[j] = 2 r / (1 + r). It is the
 * noise ceiling of R^2 against the repeat mean; its square root that of a correlation. */
BTFM_API btfm_status btfm_noise_ceiling_split_half(double *out, const float *data,
                                                   int n_repeats, int64_t n_samples,
                                                   int64_t n_targets, int n_splits,
                                                   uint64_t seed);

/* Schoppe et al. (2016): from the signal power SP = (Var(sum_n R_n) - sum_n Var(R_n)) /
 * (N (N - 1)) of the repeats (data as above), cc_max[j] = sqrt(SP / Var(mean)), the largest
 * correlation any model can reach with the repeat mean; and, with a prediction (n_samples x
 * n_targets; cc_norm and prediction may be NULL), cc_norm[j] = Cov(prediction, mean) /
 * sqrt(Var(prediction) SP), the correlation as a fraction of what is explainable. SP <= 0
 * gives NaN. Variances as the reference code computes them (1/T, signal power 1/(T-1)). */
BTFM_API btfm_status btfm_noise_ceiling_ccnorm(double *cc_max, double *cc_norm,
                                               const float *data, int n_repeats,
                                               int64_t n_samples, int64_t n_targets,
                                               const float *prediction);

/* ---- representational similarity analysis ---------------------------------------------- */

/* Dissimilarity measures of RDMs (rsatoolbox's calc_rdm). */
typedef enum btfm_rdm_kind {
    BTFM_RDM_CORRELATION = 1, /* 1 - Pearson r of two conditions' patterns */
    BTFM_RDM_EUCLIDEAN = 2,   /* squared Euclidean distance / channels */
    BTFM_RDM_CROSSNOBIS = 3,  /* cross-validated Mahalanobis distance / channels */
    BTFM_RDM_KIND_MAX_ = 0x7fffffff
} btfm_rdm_kind;

/* RDM comparisons (rsatoolbox's compare). */
typedef enum btfm_rdm_comparison {
    BTFM_RDM_SPEARMAN = 1,
    BTFM_RDM_KENDALL_TAU_A = 2, /* (concordant - discordant) / (n (n - 1) / 2), no tie
                                   correction: favours no model for predicting ties */
    BTFM_RDM_RHO_A = 3,         /* 12 sum r_a r_b / (n^3 - n), centred ranks */
    BTFM_RDM_PEARSON = 4,
    BTFM_RDM_COSINE = 5,
    BTFM_RDM_COMPARISON_MAX_ = 0x7fffffff
} btfm_rdm_comparison;

/* Names ("correlation", ...; "spearman", "kendall_tau_a", ...); NULL if unknown. */
BTFM_API const char *btfm_rdm_name(int kind);
BTFM_API const char *btfm_rdm_comparison_name(int method);

/* Entries of the RDM of n conditions: n (n - 1) / 2 (0 below 2 conditions). */
BTFM_API int64_t btfm_rdm_size(int64_t n_conditions);

/* The RDM of n_conditions activity patterns over n_channels as its upper triangle in row
 * order ((0,1), (0,2), ..., (1,2), ...; rsatoolbox's vector form) into out. Correlation
 * and Euclidean take one set of patterns (n_folds 1, n_conditions x n_channels). Crossnobis
 * takes n_folds >= 2 independent estimates (runs; n_folds x n_conditions x n_channels) and
 * averages over folds d = (u_i - u_j)_A P (u_i - u_j)_B^T / n_channels with B one fold and A
 * the mean of the others (Walther 2016: unbiased, so it can be negative); `precision`
 * (n_channels x n_channels, the inverse noise covariance, e.g. from GLM residuals) may be
 * NULL for the identity. */
BTFM_API btfm_status btfm_rdm(double *out, int kind, const float *patterns, int n_folds,
                              int64_t n_conditions, int64_t n_channels,
                              const double *precision);

/* Compare two RDMs (n_entries each) by `method` (btfm_rdm_comparison) into *out. */
BTFM_API btfm_status btfm_rdm_compare(double *out, int method, const double *a, const double *b,
                                      int64_t n_entries);

/* The noise ceiling of comparisons by `method` with n_subjects RDMs (n_subjects x
 * n_entries) as rsatoolbox's boot_noise_ceiling without bootstrap: lower = the mean over
 * subjects of compare(pool(the others), subject), upper = the same with pool(all), which
 * includes the subject. Pooling suits the method: averaged ranks (Spearman, tau-a,
 * rho-a), averaged z-scores (Pearson), averaged RMS-normalized RDMs (cosine). A model RDM
 * can hope for a comparison between the two. */
BTFM_API btfm_status btfm_rdm_noise_ceiling(double *lower, double *upper, int method,
                                            const double *rdms, int n_subjects,
                                            int64_t n_entries);

/* ---- persistence --------------------------------------------------------------------------- */

/* Save / load a fitted model through the model container (kind "model"); the buffer
 * variants behave like btfm_container_save_buffer / _load_buffer. Every loaded field is
 * validated; a damaged or inconsistent file is refused, never half-loaded. */
BTFM_API btfm_status btfm_model_save(const btfm_model *m, const char *path);
BTFM_API btfm_status btfm_model_save_buffer(const btfm_model *m, void *buffer, size_t capacity,
                                            size_t *written);
BTFM_API btfm_status btfm_model_load(btfm_model **out, const char *path);
BTFM_API btfm_status btfm_model_load_buffer(btfm_model **out, const void *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif
