/* Reliability from several raw features of a step (ERN amplitude, band powers, pupil
 * size, a verifier's logit, in any units): P(step correct | features) by the model
 * layer's L2 logistic regression on standardized features (btfm_model, type logistic;
 * scikit-learn's StandardScaler + LogisticRegression(C = 1 / l2)), kept as weights in the
 * features' own units. Its base rate and held-out d' describe the signal to the planner. */
#include <math.h>
#include <string.h>
#include <btfm/model.h>
#include "cothb_internal.h"

void btfm_cothb_features_free(cothb_features *f)
{
    btfm_free(f->w);
    memset(f, 0, sizeof *f);
}

static btfm_status check_rows(const float *x, int64_t n_rows, int64_t n_features,
                              const char *func)
{
    for (int64_t i = 0; i < n_rows; i++)
        for (int64_t j = 0; j < n_features; j++)
            if (!isfinite(x[i * n_features + j]))
                return btfm_fail(BTFM_E_RANGE, "%s: features[%lld][%lld] = %g: expected a "
                                 "finite value", func, (long long)i, (long long)j,
                                 (double)x[i * n_features + j]);
    return BTFM_OK;
}

/* A logistic model of the controller's settings: one penalty, standardized features. */
static btfm_status new_model(btfm_model **m, double l2)
{
    btfm_status st = btfm_model_new(m, BTFM_MODEL_LOGISTIC);
    if (!st) st = btfm_model_set_alphas(*m, &l2, 1);
    if (!st) st = btfm_model_set_param(*m, BTFM_MODEL_PARAM_STANDARDIZE, 1);
    if (!st) st = btfm_model_set_param(*m, BTFM_MODEL_PARAM_SOLVER, BTFM_MODEL_NEWTON);
    if (!st) st = btfm_model_set_param(*m, BTFM_MODEL_PARAM_TOL, 1e-10);
    return st;
}

/* The equal-variance d' of the held-out probabilities (5 contiguous folds), from their
 * AUC: sqrt(2) Phi^-1(AUC), 0 when they order steps no better than chance. */
static btfm_status held_out_dprime(const btfm_model *m, const float *x, int64_t n,
                                   int64_t p, const int32_t *correct, double *dprime,
                                   const char *func)
{
    size_t bytes = (size_t)n * (sizeof(double) + 3 * sizeof(float) + sizeof(int));
    double *s = btfm_malloc(bytes); /* held-out P(correct), then the rest */
    if (!s) return btfm_fail_nomem(func, bytes);
    float *proba = (float *)(s + n), *y = proba + 2 * n;
    int *label = (int *)(y + n);
    for (int64_t i = 0; i < n; i++) y[i] = (float)correct[i];
    btfm_status st = btfm_model_cross_predict(m, proba, x, n, p, y, 1, 5);
    for (int64_t i = 0; !st && i < n; i++) {
        s[i] = proba[2 * i + 1];
        label[i] = correct[i];
    }
    double auc = st ? 0.5 : btfm_cothb_auc(s, label, n, NULL, &st, func);
    btfm_free(s);
    if (st) return st;
    *dprime = auc > 0.5 ? sqrt(2.0) * btfm_cothb_normal_quantile(fmin(auc, 1 - 1e-9)) : 0;
    return BTFM_OK;
}

btfm_status btfm_cothb_calibrate_features(btfm_cothb *c, const float *features, int64_t n_steps,
                                          int64_t n_features, const int32_t *correct, double l2)
{
    static const char func[] = "btfm_cothb_calibrate_features";
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(features, func, "features");
    BTFM_CHECK_ARG(correct, func, "correct");
    if (n_features < 1 || n_features > 4096)
        return btfm_fail(BTFM_E_INVALID, "%s: n_features = %lld: expected 1 to 4096", func,
                         (long long)n_features);
    if (n_steps < 10)
        return btfm_fail(BTFM_E_INVALID, "%s: n_steps = %lld: expected at least 10 labelled "
                         "steps", func, (long long)n_steps);
    if (!(l2 > 0) || !isfinite(l2))
        return btfm_fail(BTFM_E_RANGE, "%s: l2 = %g: expected a finite penalty > 0", func, l2);
    int64_t n_right = 0;
    for (int64_t i = 0; i < n_steps; i++) {
        if (correct[i] != 0 && correct[i] != 1)
            return btfm_fail(BTFM_E_INVALID, "%s: correct[%lld] = %d: expected 1 (correct) or "
                             "0 (wrong)", func, (long long)i, (int)correct[i]);
        n_right += correct[i];
    }
    if (n_right < 5 || n_steps - n_right < 5)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld correct and %lld wrong steps: expected at "
                         "least 5 of each", func, (long long)n_right,
                         (long long)(n_steps - n_right));
    btfm_status st = check_rows(features, n_steps, n_features, func);
    if (st) return st;
    btfm_model *m = NULL;
    cothb_features f = {0};
    f.n = n_features;
    f.w = btfm_malloc((size_t)n_features * sizeof *f.w);
    float *coef = btfm_malloc((size_t)n_features * sizeof *coef);
    if (!f.w || !coef) st = btfm_fail_nomem(func, (size_t)n_features * 12);
    if (!st) st = new_model(&m, l2);
    if (!st) st = btfm_model_fit_classes(m, features, n_steps, n_features, correct);
    if (!st) st = btfm_model_coef(m, coef, (size_t)n_features);
    if (!st) st = btfm_model_intercept(m, &f.b, 1);
    if (!st) st = held_out_dprime(m, features, n_steps, n_features, correct, &f.dprime, func);
    btfm_model_free(m);
    for (int64_t j = 0; !st && j < n_features; j++) f.w[j] = coef[j];
    btfm_free(coef);
    if (st) {
        btfm_cothb_features_free(&f);
        return st;
    }
    f.base_rate = (double)n_right / (double)n_steps;
    btfm_cothb_features_free(&c->features);
    c->features = f;
    return BTFM_OK;
}

btfm_status btfm_cothb_reliability_of_features(const btfm_cothb *c, double *probability,
                                               const float *features, int64_t n_features)
{
    static const char func[] = "btfm_cothb_reliability_of_features";
    BTFM_CHECK_ARG(probability, func, "probability");
    BTFM_CHECK_ARG(c, func, "controller");
    BTFM_CHECK_ARG(features, func, "features");
    if (!c->features.n)
        return btfm_fail(BTFM_E_STATE, "%s: no feature calibration; call "
                         "btfm_cothb_calibrate_features first", func);
    if (n_features != c->features.n)
        return btfm_fail(BTFM_E_INVALID, "%s: n_features = %lld: the calibration has %lld",
                         func, (long long)n_features, (long long)c->features.n);
    btfm_status st = check_rows(features, 1, n_features, func);
    if (st) return st;
    double z = c->features.b;
    for (int64_t j = 0; j < n_features; j++) z += c->features.w[j] * features[j];
    *probability = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
    return BTFM_OK;
}

btfm_status btfm_cothb_observe_features(btfm_cothb *c, int64_t node, int signal,
                                        const float *features, int64_t n_features)
{
    static const char func[] = "btfm_cothb_observe_features";
    BTFM_CHECK_ARG(c, func, "controller");
    if (signal < 0 || signal >= COTHB_NSIG || signal == BTFM_COTHB_SIGNAL_TERMINAL)
        return btfm_fail(BTFM_E_INVALID, "%s: signal %d: expected a probability slot (0 to %d, "
                         "not terminal)", func, signal, COTHB_NSIG - 1);
    double p;
    btfm_status st = btfm_cothb_reliability_of_features(c, &p, features, n_features);
    if (st) return st;
    double signals[COTHB_NSIG];
    for (int i = 0; i < COTHB_NSIG; i++) signals[i] = i == signal ? p : NAN;
    return btfm_cothb_observe(c, node, signals, signal + 1);
}

btfm_status btfm_cothb_feature_weights(const btfm_cothb *c, double *weights, size_t capacity,
                                       double *intercept, double *dprime)
{
    static const char func[] = "btfm_cothb_feature_weights";
    BTFM_CHECK_ARG(c, func, "controller");
    if (!c->features.n)
        return btfm_fail(BTFM_E_STATE, "%s: no feature calibration; call "
                         "btfm_cothb_calibrate_features first", func);
    if (weights && capacity < (size_t)c->features.n)
        return btfm_fail(BTFM_E_RANGE, "%s: capacity %zu: the calibration has %lld weights",
                         func, capacity, (long long)c->features.n);
    if (weights) memcpy(weights, c->features.w, (size_t)c->features.n * sizeof *weights);
    if (intercept) *intercept = c->features.b;
    if (dprime) *dprime = c->features.dprime;
    return BTFM_OK;
}

int64_t btfm_cothb_n_features(const btfm_cothb *c)
{
    if (!c) return btfm_fail(BTFM_E_INVALID, "btfm_cothb_n_features: controller is NULL");
    return c->features.n;
}
