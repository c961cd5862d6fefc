/* The btfm_model handle: parameters, the settings a fit uses (grid, weights, groups,
 * folds, bands, delays), the fit dispatch that swaps in a new fit only on success, and
 * the accessors of the fitted values. */
#include <math.h>
#include <string.h>
#include <btfm/aligner.h>
#include "model_internal.h"
#include "dense/dense.h"

static const btfm_param_def model_params[MODEL_PARAM_COUNT] = {
    {"cv", BTFM_PARAM_INT, 0, 0, 1e6,
     "Cross-validation: 0 the type's default (ridge: closed-form leave-one-out; logistic "
     "and Bradley-Terry: 5 folds), 1 leave-one-out (leave-one-group-out with groups), "
     "k >= 2 k contiguous folds (of whole groups with groups)."},
    {"gap", BTFM_PARAM_INT, 0, 0, 1e9,
     "Samples on each side of a test block left out of its training set, so that "
     "autocorrelated neighbours do not leak into the score."},
    {"shuffle", BTFM_PARAM_BOOL, 0, 0, 1,
     "Assign samples to folds over a seeded permutation instead of in order (never for "
     "time series unless asked)."},
    {"seed", BTFM_PARAM_INT, 0, 0, 2147483647,
     "Seed of the shuffle, the banded random search, permutation tests and synthetic "
     "noise."},
    {"fit_intercept", BTFM_PARAM_BOOL, 1, 0, 1,
     "Fit an intercept per output, never penalized (features and targets centered on "
     "each training set)."},
    {"standardize", BTFM_PARAM_BOOL, 0, 0, 1,
     "Scale each feature to unit standard deviation on each training set before the "
     "penalty applies; coefficients are reported in the input units."},
    {"alpha_per_target", BTFM_PARAM_BOOL, 1, 0, 1,
     "Ridge: choose the regularization of each target on its own (0: one alpha for all, "
     "by the mean score over targets)."},
    {"scoring", BTFM_PARAM_INT, 0, 0, 5,
     "The held-out score cross-validation maximizes (btfm_score_kind): 0 the type's "
     "default, 1 R^2, 2 minus the MSE, 3 Pearson r, 4 accuracy, 5 log-likelihood."},
    {"max_iter", BTFM_PARAM_INT, 100, 1, 1e6,
     "Solver iterations at most (logistic regression, Bradley-Terry; banded ridge's "
     "gradient search)."},
    {"tol", BTFM_PARAM_REAL, 1e-8, 0, 1,
     "Newton stops when a step moves no coefficient by more than tol (1 + max |coef|); "
     "the fits inside cross-validation at tol or 1e-6, whichever is looser."},
    {"label_smoothing", BTFM_PARAM_REAL, 0, 0, 0.499,
     "Label smoothing eps: the observed outcome gets probability 1 - eps and the reverse "
     "eps (multinomial: eps shared by the other classes)."},
    {"ties", BTFM_PARAM_INT, 0, 0, 2,
     "Bradley-Terry ties (btfm_ties): 0 a tie counts half a win for each side, 1 "
     "Rao-Kupper, 2 Davidson."},
    {"n_iter", BTFM_PARAM_INT, 20, 1, 1e5,
     "Banded ridge: band-weight draws of the random search (the first gives every band "
     "the same weight)."},
    {"hrf", BTFM_PARAM_BOOL, 0, 0, 1,
     "Convolve every feature with the SPM canonical HRF sampled at t_r (within each "
     "group) before the fit and at prediction."},
    {"t_r", BTFM_PARAM_REAL, 0, 0, 1e4,
     "Seconds between samples (the repetition time), needed by the HRF."},
    {"solver", BTFM_PARAM_INT, 0, 0, 3,
     "Solver (btfm_ridge_solver). Ridge: 0 automatic, 1 primal (features' Gram matrix), 2 "
     "dual (samples' kernel matrix). Logistic regression and Bradley-Terry: 0 preconditioned "
     "L-BFGS with Newton's method as the fallback, 3 Newton's method (IRLS) alone."},
    {"noise_rank", BTFM_PARAM_INT, 0, 0, 1000,
     "Ridge: leading components of the residual covariance the fit keeps for synthetic "
     "responses with correlated noise (0: per-target variances only)."},
    {"band_search", BTFM_PARAM_INT, 0, 0, 2,
     "Banded ridge: 0 the random search over band weights; 1 the random search, then "
     "per target BFGS steps on the log band penalties down the gradient of the held-out "
     "squared error (himalaya's hyper-gradient search); 2 the random search, then per "
     "target exact coordinate updates of each band's penalty, the held-out error along it "
     "in closed form. 1 and 2 need K folds; max_iter steps or sweeps, stopping when no log "
     "penalty moves by more than tol."},
};

const btfm_param_table btfm_model_param_table = {
    BTFM_OBJECT_MODEL, "model", MODEL_PARAM_COUNT, model_params,
};

static const char *const type_names[] = {
    [BTFM_MODEL_RIDGE] = "ridge",
    [BTFM_MODEL_BANDED_RIDGE] = "banded_ridge",
    [BTFM_MODEL_LOGISTIC] = "logistic",
    [BTFM_MODEL_BRADLEY_TERRY] = "bradley_terry",
};
static const char *const score_names[] = {"default", "r2", "neg_mse", "pearson", "accuracy",
                                          "log_likelihood"};
static const char *const ties_names[] = {"none", "rao_kupper", "davidson"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *btfm_model_type_name(int type)
{
    return type > 0 && type < COUNT(type_names) ? type_names[type] : NULL;
}

const char *btfm_model_score_name(int kind)
{
    return kind >= 0 && kind < COUNT(score_names) ? score_names[kind] : NULL;
}

const char *btfm_model_ties_name(int ties)
{
    return ties >= 0 && ties < COUNT(ties_names) ? ties_names[ties] : NULL;
}

double *btfm_model_doubles(size_t count, const char *where)
{
    double *p = btfm_calloc(count ? count : 1, sizeof(double));
    if (!p) btfm_fail_nomem(where, count * sizeof(double));
    return p;
}

/* The default grid of a type: RidgeCV's alphas, or 1 / LogisticRegressionCV's Cs. */
static btfm_status default_alphas(btfm_model *m)
{
    if (m->type == BTFM_MODEL_RIDGE || m->type == BTFM_MODEL_BANDED_RIDGE) {
        const double a[3] = {0.1, 1.0, 10.0};
        return btfm_model_set_alphas(m, a, 3);
    }
    double a[10];
    for (int i = 0; i < 10; i++) a[i] = 1.0 / pow(10.0, -4.0 + 8.0 * i / 9.0);
    return btfm_model_set_alphas(m, a, 10);
}

btfm_status btfm_model_new(btfm_model **out, int type)
{
    BTFM_CHECK_ARG(out, "btfm_model_new", "out");
    *out = NULL;
    if (!btfm_model_type_name(type))
        return btfm_fail(BTFM_E_INVALID, "btfm_model_new: unknown type %d (expected %d ridge, "
                         "%d banded_ridge, %d logistic or %d bradley_terry)", type,
                         BTFM_MODEL_RIDGE, BTFM_MODEL_BANDED_RIDGE, BTFM_MODEL_LOGISTIC,
                         BTFM_MODEL_BRADLEY_TERRY);
    btfm_model *m = btfm_calloc(1, sizeof *m);
    if (!m) return btfm_fail_nomem("btfm_model_new", sizeof *m);
    m->type = type;
    btfm_params_defaults(&btfm_model_param_table, m->params);
    btfm_status st = default_alphas(m);
    if (st) {
        btfm_model_free(m);
        return st;
    }
    *out = m;
    return BTFM_OK;
}

void btfm_model_fit_free(model_fit *f)
{
    if (!f) return;
    btfm_free(f->coef);
    btfm_free(f->intercept);
    btfm_free(f->alpha);
    btfm_free(f->cv_scores);
    btfm_free(f->train);
    btfm_free(f->dual);
    btfm_free(f->delays);
    btfm_free(f->center);
    btfm_free(f->scale);
    btfm_free(f->basis);
    btfm_free(f->eig);
    btfm_free(f->noise_var);
    btfm_free(f->cov);
    btfm_free(f->band);
    btfm_free(f->band_weights);
    btfm_free(f->noise_factor);
    btfm_free(f->noise_diag);
    btfm_aligner_free(f->aligner);
    btfm_free(f);
}

void btfm_model_free(btfm_model *m)
{
    if (!m) return;
    btfm_free(m->alphas);
    btfm_free(m->weights);
    btfm_free(m->groups);
    btfm_free(m->folds);
    btfm_free(m->bands);
    btfm_free(m->band_draws);
    btfm_free(m->delays);
    btfm_aligner_free(m->aligner);
    btfm_model_fit_free(m->fit);
    btfm_free(m);
}

btfm_status btfm_model_set_param(btfm_model *m, int param, double value)
{
    BTFM_CHECK_ARG(m, "btfm_model_set_param", "model");
    return btfm_params_set(&btfm_model_param_table, m->params, param, value,
                           "btfm_model_set_param");
}

btfm_status btfm_model_get_param(const btfm_model *m, int param, double *value)
{
    BTFM_CHECK_ARG(m, "btfm_model_get_param", "model");
    return btfm_params_get(&btfm_model_param_table, m->params, param, value,
                           "btfm_model_get_param");
}

int btfm_model_get_type(const btfm_model *m)
{
    BTFM_CHECK_ARG(m, "btfm_model_get_type", "model");
    return m->type;
}

btfm_status btfm_model_set_progress(btfm_model *m, btfm_progress_fn fn, void *user)
{
    BTFM_CHECK_ARG(m, "btfm_model_set_progress", "model");
    m->progress = fn;
    m->progress_user = user;
    return BTFM_OK;
}

/* Replace *dst (of *dst_count elements of `size` bytes) by a copy of src. */
static btfm_status replace_copy(void **dst, const void *src, size_t count, size_t size,
                                const char *func)
{
    void *copy = NULL;
    if (src && count) {
        copy = btfm_malloc(count * size);
        if (!copy) return btfm_fail_nomem(func, count * size);
        memcpy(copy, src, count * size);
    }
    btfm_free(*dst);
    *dst = copy;
    return BTFM_OK;
}

btfm_status btfm_model_set_alphas(btfm_model *m, const double *alphas, int count)
{
    const char *func = "btfm_model_set_alphas";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(alphas, func, "alphas");
    if (count < 1 || count > 100000)
        return btfm_fail(BTFM_E_INVALID, "%s: count is %d; expected 1 to 100000 alphas", func,
                         count);
    for (int i = 0; i < count; i++)
        if (!(alphas[i] > 0) || !isfinite(alphas[i]))
            return btfm_fail(BTFM_E_INVALID, "%s: alphas[%d] is %g; expected a positive, "
                             "finite penalty", func, i, alphas[i]);
    btfm_status st = replace_copy((void **)&m->alphas, alphas, (size_t)count, sizeof *alphas,
                                  func);
    if (!st) m->n_alphas = count;
    return st;
}

int btfm_model_n_alphas(const btfm_model *m)
{
    BTFM_CHECK_ARG(m, "btfm_model_n_alphas", "model");
    return m->n_alphas;
}

/* Copy `count` doubles to a caller buffer of `capacity`. */
static btfm_status copy_out(double *out, size_t capacity, const double *src, size_t count,
                            const char *func, const char *what)
{
    BTFM_CHECK_ARG(out, func, "out");
    if (capacity < count)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu values; the %s need %zu", func,
                         capacity, what, count);
    memcpy(out, src, count * sizeof *out);
    return BTFM_OK;
}

btfm_status btfm_model_alphas(const btfm_model *m, double *out, size_t capacity)
{
    BTFM_CHECK_ARG(m, "btfm_model_alphas", "model");
    return copy_out(out, capacity, m->alphas, (size_t)m->n_alphas, "btfm_model_alphas",
                    "alphas");
}

btfm_status btfm_model_set_sample_weight(btfm_model *m, const double *weights,
                                         int64_t n_samples)
{
    const char *func = "btfm_model_set_sample_weight";
    BTFM_CHECK_ARG(m, func, "model");
    if (!weights || n_samples == 0) {
        btfm_free(m->weights);
        m->weights = NULL;
        m->n_weights = 0;
        return BTFM_OK;
    }
    if (n_samples < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: n_samples is %lld", func, (long long)n_samples);
    double total = 0;
    for (int64_t i = 0; i < n_samples; i++) {
        if (!(weights[i] >= 0) || !isfinite(weights[i]))
            return btfm_fail(BTFM_E_INVALID, "%s: weights[%lld] is %g; expected a finite "
                             "weight >= 0", func, (long long)i, weights[i]);
        total += weights[i];
    }
    if (!(total > 0))
        return btfm_fail(BTFM_E_INVALID, "%s: every weight is 0", func);
    btfm_status st = replace_copy((void **)&m->weights, weights, (size_t)n_samples,
                                  sizeof *weights, func);
    if (!st) m->n_weights = n_samples;
    return st;
}

btfm_status btfm_model_set_groups(btfm_model *m, const int64_t *groups, int64_t n_samples)
{
    const char *func = "btfm_model_set_groups";
    BTFM_CHECK_ARG(m, func, "model");
    if (n_samples < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: n_samples is %lld", func, (long long)n_samples);
    if (!groups) n_samples = 0;
    btfm_status st = replace_copy((void **)&m->groups, groups, (size_t)n_samples,
                                  sizeof *groups, func);
    if (!st) m->n_groups = n_samples;
    return st;
}

btfm_status btfm_model_set_folds(btfm_model *m, const int32_t *test_fold, int64_t n_samples)
{
    const char *func = "btfm_model_set_folds";
    BTFM_CHECK_ARG(m, func, "model");
    if (n_samples < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: n_samples is %lld", func, (long long)n_samples);
    if (!test_fold) n_samples = 0;
    for (int64_t i = 0; i < n_samples; i++)
        if (test_fold[i] < -1)
            return btfm_fail(BTFM_E_INVALID, "%s: test_fold[%lld] is %d; expected a fold "
                             ">= 0 or -1 (always trained on)", func, (long long)i,
                             (int)test_fold[i]);
    btfm_status st = replace_copy((void **)&m->folds, test_fold, (size_t)n_samples,
                                  sizeof *test_fold, func);
    if (!st) m->n_folds = n_samples;
    return st;
}

btfm_status btfm_model_set_bands(btfm_model *m, const int32_t *band, int64_t n_features)
{
    const char *func = "btfm_model_set_bands";
    BTFM_CHECK_ARG(m, func, "model");
    if (n_features < 0)
        return btfm_fail(BTFM_E_INVALID, "%s: n_features is %lld", func, (long long)n_features);
    if (!band) n_features = 0;
    for (int64_t i = 0; i < n_features; i++)
        if (band[i] < 0 || band[i] >= 4096)
            return btfm_fail(BTFM_E_INVALID, "%s: band[%lld] is %d; expected 0 to 4095", func,
                             (long long)i, (int)band[i]);
    btfm_status st = replace_copy((void **)&m->bands, band, (size_t)n_features, sizeof *band,
                                  func);
    if (!st) m->n_band_entries = n_features;
    return st;
}

btfm_status btfm_model_set_band_weights(btfm_model *m, const double *weights, int n_draws,
                                        int n_bands)
{
    const char *func = "btfm_model_set_band_weights";
    BTFM_CHECK_ARG(m, func, "model");
    if (!weights || n_draws == 0) {
        btfm_free(m->band_draws);
        m->band_draws = NULL;
        m->n_draws = m->n_draw_bands = 0;
        return BTFM_OK;
    }
    if (n_draws < 0 || n_draws > 100000 || n_bands < 1 || n_bands > 4096)
        return btfm_fail(BTFM_E_INVALID, "%s: %d draws of %d bands; expected 1 to 100000 "
                         "draws of 1 to 4096 bands", func, n_draws, n_bands);
    for (int d = 0; d < n_draws; d++) {
        double sum = 0;
        for (int b = 0; b < n_bands; b++) {
            const double v = weights[(int64_t)d * n_bands + b];
            if (!(v > 0) || !isfinite(v))
                return btfm_fail(BTFM_E_INVALID, "%s: weights[%d][%d] is %g; expected a "
                                 "positive band weight", func, d, b, v);
            sum += v;
        }
        if (fabs(sum - 1) > 1e-6)
            return btfm_fail(BTFM_E_INVALID, "%s: the weights of draw %d sum to %g; expected 1",
                             func, d, sum);
    }
    btfm_status st = replace_copy((void **)&m->band_draws, weights,
                                  (size_t)n_draws * (size_t)n_bands, sizeof *weights, func);
    if (!st) {
        m->n_draws = n_draws;
        m->n_draw_bands = n_bands;
    }
    return st;
}

btfm_status btfm_model_set_delays(btfm_model *m, const int32_t *delays, int count)
{
    const char *func = "btfm_model_set_delays";
    BTFM_CHECK_ARG(m, func, "model");
    if (count < 0 || count > 1000)
        return btfm_fail(BTFM_E_INVALID, "%s: count is %d; expected 0 to 1000 delays", func,
                         count);
    if (!delays) count = 0;
    for (int i = 0; i < count; i++)
        if (delays[i] <= -1000000 || delays[i] >= 1000000)
            return btfm_fail(BTFM_E_INVALID, "%s: delays[%d] is %d; expected |d| < 10^6", func,
                             i, (int)delays[i]);
    btfm_status st = replace_copy((void **)&m->delays, delays, (size_t)count, sizeof *delays,
                                  func);
    if (!st) m->n_delays = count;
    return st;
}

btfm_status btfm_model_set_aligner(btfm_model *m, const btfm_aligner *aligner, int subject)
{
    const char *func = "btfm_model_set_aligner";
    BTFM_CHECK_ARG(m, func, "model");
    if (!aligner) {
        btfm_aligner_free(m->aligner);
        m->aligner = NULL;
        return BTFM_OK;
    }
    if (m->type != BTFM_MODEL_RIDGE && m->type != BTFM_MODEL_BANDED_RIDGE)
        return btfm_fail(BTFM_E_STATE, "%s: translation through an aligner is for ridge models "
                         "(this one is %s)", func, btfm_model_type_name(m->type));
    int n_subjects;
    btfm_status st = btfm_aligner_n_subjects(aligner, &n_subjects);
    if (st) return st;
    if (btfm_aligner_is_fitted(aligner) != 1)
        return btfm_fail(BTFM_E_STATE, "%s: the aligner is not fitted", func);
    if (subject < 0 || subject >= n_subjects)
        return btfm_fail(BTFM_E_INVALID, "%s: subject is %d; the aligner has subjects 0 .. %d",
                         func, subject, n_subjects - 1);
    btfm_aligner *copy = btfm_model_copy_aligner(aligner, func);
    if (!copy) return btfm_last_error_status() ? btfm_last_error_status() : BTFM_E_NOMEM;
    btfm_aligner_free(m->aligner);
    m->aligner = copy;
    m->aligner_subject = subject;
    return BTFM_OK;
}

/* --- fitting --- */

/* A settings array given for another sample count is refused naming it. */
static btfm_status check_lengths(const btfm_model *m, int64_t n, const char *func,
                                 const char *samples)
{
    if (m->weights && m->n_weights != n)
        return btfm_fail(BTFM_E_INVALID, "%s: sample_weight has %lld entries but there are "
                         "%lld %s", func, (long long)m->n_weights, (long long)n, samples);
    if (m->groups && m->n_groups != n)
        return btfm_fail(BTFM_E_INVALID, "%s: groups has %lld entries but there are %lld %s",
                         func, (long long)m->n_groups, (long long)n, samples);
    if (m->folds && m->n_folds != n)
        return btfm_fail(BTFM_E_INVALID, "%s: folds has %lld entries but there are %lld %s",
                         func, (long long)m->n_folds, (long long)n, samples);
    return BTFM_OK;
}

static btfm_status check_shape(int64_t rows, int64_t cols, const char *func, const char *what,
                               const char *rows_name, const char *cols_name)
{
    size_t count;
    if (rows < 1 || cols < 1 || btfm_mul_size((size_t)rows, (size_t)cols, &count) ||
        count > SIZE_MAX / sizeof(double))
        return btfm_fail(BTFM_E_INVALID, "%s: %s is %lld %s x %lld %s; expected at least one "
                         "of each", func, what, (long long)rows, rows_name, (long long)cols,
                         cols_name);
    return BTFM_OK;
}

static btfm_status swap_in(btfm_model *m, model_fit *fit, btfm_status st)
{
    if (st) {
        btfm_model_fit_free(fit);
        return st;
    }
    btfm_model_fit_free(m->fit);
    m->fit = fit;
    m->distributed = 0;
    return BTFM_OK;
}

static model_fit *new_fit(const btfm_model *m, const char *func)
{
    model_fit *f = btfm_calloc(1, sizeof *f);
    if (!f) {
        btfm_fail_nomem(func, sizeof *f);
        return NULL;
    }
    f->type = m->type;
    if (m->aligner) {
        f->aligner = btfm_model_copy_aligner(m->aligner, func);
        f->aligner_subject = m->aligner_subject;
        if (!f->aligner) {
            btfm_free(f);
            return NULL;
        }
    }
    f->hrf = MODEL_PARAM(m, HRF) != 0;
    f->t_r = MODEL_PARAM(m, T_R);
    if (m->n_delays) {
        f->delays = btfm_malloc((size_t)m->n_delays * sizeof *f->delays);
        if (!f->delays) {
            btfm_fail_nomem(func, (size_t)m->n_delays * sizeof *f->delays);
            btfm_model_fit_free(f);
            return NULL;
        }
        memcpy(f->delays, m->delays, (size_t)m->n_delays * sizeof *f->delays);
        f->n_delays = m->n_delays;
    }
    return f;
}

btfm_status btfm_model_fit(btfm_model *m, const float *x, int64_t n_samples,
                           int64_t n_features, const float *y, int64_t n_targets)
{
    model_fit *fit = NULL;
    btfm_status st = btfm_model_fit_staged(m, x, n_samples, n_features, y, n_targets, NULL,
                                           &fit, "btfm_model_fit");
    return st ? st : swap_in(m, fit, st);
}

void btfm_model_fit_commit(btfm_model *m, model_fit *fit)
{
    swap_in(m, fit, BTFM_OK);
}

btfm_status btfm_model_fit_staged(btfm_model *m, const float *x, int64_t n_samples,
                                  int64_t n_features, const float *y, int64_t n_targets,
                                  const ridge_share *share, model_fit **out, const char *func)
{
    *out = NULL;
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(x, func, "x");
    BTFM_CHECK_ARG(y, func, "y");
    if (m->type != BTFM_MODEL_RIDGE && m->type != BTFM_MODEL_BANDED_RIDGE)
        return btfm_fail(BTFM_E_STATE, "%s: a %s model is fitted with %s", func,
                         btfm_model_type_name(m->type), m->type == BTFM_MODEL_LOGISTIC
                         ? "btfm_model_fit_classes" : "btfm_model_fit_pairs");
    btfm_status st = check_shape(n_samples, n_features, func, "x", "samples", "features");
    if (!st) st = check_shape(n_samples, n_targets, func, "y", "samples", "targets");
    if (!st) st = check_lengths(m, n_samples, func, "samples");
    if (!st) st = btfm_model_check_finite(y, n_samples, n_targets, "y", func);
    if (st) return st;
    if (MODEL_PARAM(m, HRF) && !(MODEL_PARAM(m, T_R) > 0))
        return btfm_fail(BTFM_E_INVALID, "%s: hrf is on but t_r is 0; set t_r to the seconds "
                         "between samples", func);
    model_fit *fit = new_fit(m, func);
    if (!fit) return BTFM_E_NOMEM;
    st = m->type == BTFM_MODEL_RIDGE
             ? btfm_model_fit_ridge(m, x, n_samples, n_features, y, n_targets, share, fit)
             : btfm_model_fit_banded(m, x, n_samples, n_features, y, n_targets, fit);
    if (st) btfm_model_fit_free(fit);
    else *out = fit;
    return st;
}

btfm_status btfm_model_fit_classes(btfm_model *m, const float *x, int64_t n_samples,
                                   int64_t n_features, const int32_t *labels)
{
    const char *func = "btfm_model_fit_classes";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(x, func, "x");
    BTFM_CHECK_ARG(labels, func, "labels");
    if (m->type != BTFM_MODEL_LOGISTIC)
        return btfm_fail(BTFM_E_STATE, "%s: only a logistic model is fitted to classes (this "
                         "one is %s)", func, btfm_model_type_name(m->type));
    btfm_status st = check_shape(n_samples, n_features, func, "x", "samples", "features");
    if (!st) st = check_lengths(m, n_samples, func, "samples");
    if (st) return st;
    model_fit *fit = new_fit(m, func);
    if (!fit) return BTFM_E_NOMEM;
    st = btfm_model_fit_logistic(m, x, n_samples, n_features, labels, fit);
    return swap_in(m, fit, st);
}

btfm_status btfm_model_fit_pairs(btfm_model *m, const float *x, int64_t n_items,
                                 int64_t n_features, const int64_t *pairs,
                                 const float *outcomes, int64_t n_pairs)
{
    const char *func = "btfm_model_fit_pairs";
    BTFM_CHECK_ARG(m, func, "model");
    BTFM_CHECK_ARG(pairs, func, "pairs");
    if (m->type != BTFM_MODEL_BRADLEY_TERRY)
        return btfm_fail(BTFM_E_STATE, "%s: only a bradley_terry model is fitted to pairs "
                         "(this one is %s)", func, btfm_model_type_name(m->type));
    if (!x && n_features == 0) n_features = n_items;
    btfm_status st = check_shape(n_items, n_features, func, "x", "items", "features");
    if (!st && !x && n_features != n_items)
        st = btfm_fail(BTFM_E_INVALID, "%s: x is NULL (free item scores) but n_features is "
                       "%lld; expected 0 or n_items (%lld)", func, (long long)n_features,
                       (long long)n_items);
    if (!st && n_pairs < 1)
        st = btfm_fail(BTFM_E_INVALID, "%s: n_pairs is %lld; expected at least 1", func,
                       (long long)n_pairs);
    if (!st) st = check_lengths(m, n_pairs, func, "pairs");
    if (st) return st;
    model_fit *fit = new_fit(m, func);
    if (!fit) return BTFM_E_NOMEM;
    st = btfm_model_fit_bt(m, x, n_items, n_features, pairs, outcomes, n_pairs, fit);
    return swap_in(m, fit, st);
}

/* --- fitted values --- */

int btfm_model_is_fitted(const btfm_model *m)
{
    BTFM_CHECK_ARG(m, "btfm_model_is_fitted", "model");
    return m->fit != NULL;
}

static btfm_status fitted(const btfm_model *m, const char *func)
{
    BTFM_CHECK_ARG(m, func, "model");
    if (!m->fit) return btfm_fail(BTFM_E_STATE, "%s: the model is not fitted", func);
    return BTFM_OK;
}

btfm_status btfm_model_dims(const btfm_model *m, int64_t *n_features, int64_t *n_coef,
                            int64_t *n_outputs)
{
    btfm_status st = fitted(m, "btfm_model_dims");
    if (st) return st;
    if (n_features) *n_features = m->fit->n_features;
    if (n_coef) *n_coef = m->fit->n_coef;
    if (n_outputs) *n_outputs = m->fit->n_outputs;
    return BTFM_OK;
}

int btfm_model_n_classes(const btfm_model *m)
{
    btfm_status st = fitted(m, "btfm_model_n_classes");
    return st ? st : m->fit->n_classes;
}

btfm_status btfm_model_coef(const btfm_model *m, float *out, size_t capacity)
{
    const char *func = "btfm_model_coef";
    btfm_status st = fitted(m, func);
    if (st) return st;
    BTFM_CHECK_ARG(out, func, "out");
    const model_fit *f = m->fit;
    size_t count = (size_t)(f->n_coef * f->n_outputs);
    if (capacity < count)
        return btfm_fail(BTFM_E_RANGE, "%s: out holds %zu values; the coefficients need %zu "
                         "(%lld x %lld)", func, capacity, count, (long long)f->n_coef,
                         (long long)f->n_outputs);
    if (f->coef) {
        memcpy(out, f->coef, count * sizeof *out);
        return BTFM_OK;
    }
    return btfm_model_dual_coef(f, out);
}

btfm_status btfm_model_intercept(const btfm_model *m, double *out, size_t capacity)
{
    btfm_status st = fitted(m, "btfm_model_intercept");
    return st ? st : copy_out(out, capacity, m->fit->intercept, (size_t)m->fit->n_outputs,
                              "btfm_model_intercept", "intercepts");
}

btfm_status btfm_model_alpha(const btfm_model *m, double *out, size_t capacity)
{
    btfm_status st = fitted(m, "btfm_model_alpha");
    return st ? st : copy_out(out, capacity, m->fit->alpha, (size_t)m->fit->n_outputs,
                              "btfm_model_alpha", "alphas");
}

btfm_status btfm_model_cv_scores(const btfm_model *m, double *out, size_t capacity)
{
    const char *func = "btfm_model_cv_scores";
    btfm_status st = fitted(m, func);
    if (st) return st;
    const model_fit *f = m->fit;
    if (!f->cv_scores)
        return btfm_fail(BTFM_E_STATE, "%s: no cross-validation ran (the grid has one alpha)",
                         func);
    return copy_out(out, capacity, f->cv_scores,
                    (size_t)(f->n_cv_alphas * btfm_model_cv_columns(f)), func,
                    "scores");
}

btfm_status btfm_model_band_weights(const btfm_model *m, double *out, size_t capacity)
{
    const char *func = "btfm_model_band_weights";
    btfm_status st = fitted(m, func);
    if (st) return st;
    const model_fit *f = m->fit;
    if (!f->band_weights)
        return btfm_fail(BTFM_E_STATE, "%s: only banded ridge fits have band weights", func);
    return copy_out(out, capacity, f->band_weights, (size_t)(f->n_bands * f->n_outputs), func,
                    "band weights");
}

btfm_status btfm_model_tie_parameter(const btfm_model *m, double *value)
{
    btfm_status st = fitted(m, "btfm_model_tie_parameter");
    if (st) return st;
    BTFM_CHECK_ARG(value, "btfm_model_tie_parameter", "value");
    *value = m->fit->tie;
    return BTFM_OK;
}
