/* Steering directions in a model's activation space: the difference of two classes' mean
 * activations (the "diff-in-means" direction), or the weight vector of an L2 logistic
 * readout, as a unit vector toward class 1 with its held-out accuracy. */
#include <math.h>
#include <string.h>
#include "model_internal.h"
#include "dense/dense.h"

/* The class-mean difference d over `rows` and the midpoint threshold d . (m0 + m1) / 2. */
static btfm_status mean_difference(const float *x, int64_t p, const int32_t *labels,
                                   const int64_t *rows, int64_t n_rows, double *d,
                                   double *threshold, double *mid, const char *func)
{
    int64_t count[2] = {0, 0};
    memset(d, 0, (size_t)p * sizeof *d);
    memset(mid, 0, (size_t)p * sizeof *mid);
    for (int64_t r = 0; r < n_rows; r++) count[labels[rows[r]]]++;
    if (!count[0] || !count[1])
        return btfm_fail(BTFM_E_INVALID, "%s: labels: a training set has no sample of class %d",
                         func, count[0] ? 1 : 0);
    for (int64_t r = 0; r < n_rows; r++) {
        const int c = labels[rows[r]];
        const float *xr = x + rows[r] * p;
        for (int64_t k = 0; k < p; k++) {
            const double v = xr[k] / (double)count[c];
            d[k] += c ? v : -v;
            mid[k] += 0.5 * v;
        }
    }
    *threshold = 0;
    for (int64_t k = 0; k < p; k++) *threshold += d[k] * mid[k];
    return BTFM_OK;
}

btfm_status btfm_steering_direction(float *direction, double *accuracy, int method,
                                    const float *x, int64_t n, int64_t p, const int32_t *labels,
                                    int n_folds)
{
    const char *func = "btfm_steering_direction";
    BTFM_CHECK_ARG(direction, func, "direction");
    BTFM_CHECK_ARG(accuracy, func, "accuracy");
    BTFM_CHECK_ARG(x, func, "x");
    BTFM_CHECK_ARG(labels, func, "labels");
    if (method != BTFM_STEERING_MEAN_DIFFERENCE && method != BTFM_STEERING_LOGISTIC)
        return btfm_fail(BTFM_E_INVALID, "%s: method is %d; expected 1 mean_difference or 2 "
                         "logistic", func, method);
    if (n < 4 || p < 1 || n_folds < 2 || n_folds > n / 2)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples of %lld features in %d folds; "
                         "expected at least 2 samples a fold", func, (long long)n,
                         (long long)p, n_folds);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] != 0 && labels[i] != 1)
            return btfm_fail(BTFM_E_INVALID, "%s: labels[%lld] is %d; expected 0 or 1", func,
                             (long long)i, (int)labels[i]);
    btfm_status st = btfm_model_check_finite(x, n, p, "x", func);
    if (st) return st;
    btfm_model *m = NULL;
    float *labels_f = NULL, *prob = NULL, *coef = NULL;
    double *d = btfm_model_doubles((size_t)p, func), *mid = btfm_model_doubles((size_t)p, func);
    int64_t *rows = btfm_malloc((size_t)n * sizeof *rows);
    if (!d || !mid || !rows) st = btfm_fail_nomem(func, (size_t)n * sizeof *rows);
    model_splits s = {0};
    if (!st) st = btfm_model_new(&m, method == BTFM_STEERING_LOGISTIC ? BTFM_MODEL_LOGISTIC
                                                                     : BTFM_MODEL_RIDGE);
    if (!st) st = btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, n_folds);
    if (!st) st = btfm_model_make_splits(m, n, 0, 1, &s, func);
    if (!st && method == BTFM_STEERING_LOGISTIC) {
        /* The readout's held-out decisions: nested, its penalty by 5 inner folds. */
        labels_f = btfm_dense_zeros_f(n, 1, func);
        prob = btfm_dense_zeros_f(n, 2, func);
        if (!labels_f || !prob) st = BTFM_E_NOMEM;
        for (int64_t i = 0; !st && i < n; i++) labels_f[i] = (float)labels[i];
        if (!st) st = btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 5);
        if (!st) st = btfm_model_cross_predict(m, prob, x, n, p, labels_f, 1, n_folds);
        double correct = 0;
        for (int64_t i = 0; !st && i < n; i++) correct += (prob[2 * i + 1] > 0.5) == labels[i];
        *accuracy = correct / (double)n;
        if (!st) st = btfm_model_fit_classes(m, x, n, p, labels);
        coef = st ? NULL : btfm_dense_zeros_f(p, 1, func);
        if (!st && !coef) st = BTFM_E_NOMEM;
        if (!st) st = btfm_model_coef(m, coef, (size_t)p);
        for (int64_t k = 0; !st && k < p; k++) d[k] = coef[k];
    } else if (!st) {
        double correct = 0, threshold;
        for (int f = 0; f < s.n_folds && !st; f++) {
            int64_t n_tr = 0;
            for (int64_t i = 0; i < n; i++)
                if (btfm_model_in_train(&s, f, i)) rows[n_tr++] = i;
            st = mean_difference(x, p, labels, rows, n_tr, d, &threshold, mid, func);
            for (int64_t r = s.test_start[f]; !st && r < s.test_start[f + 1]; r++) {
                const int64_t i = s.test[r];
                double proj = 0;
                for (int64_t k = 0; k < p; k++) proj += d[k] * x[i * p + k];
                correct += (proj > threshold) == labels[i];
            }
        }
        *accuracy = correct / (double)n;
        for (int64_t i = 0; i < n && rows; i++) rows[i] = i;
        if (!st) st = mean_difference(x, p, labels, rows, n, d, &threshold, mid, func);
    }
    if (!st) {
        double norm = 0;
        for (int64_t k = 0; k < p; k++) norm += d[k] * d[k];
        if (!(norm > 0))
            st = btfm_fail(BTFM_E_NUMERIC, "%s: the classes do not differ (a zero direction)",
                           func);
        for (int64_t k = 0; !st && k < p; k++) direction[k] = (float)(d[k] / sqrt(norm));
    }
    btfm_model_splits_clear(&s);
    btfm_model_free(m);
    btfm_free(labels_f);
    btfm_free(prob);
    btfm_free(coef);
    btfm_free(d);
    btfm_free(mid);
    btfm_free(rows);
    return st;
}
