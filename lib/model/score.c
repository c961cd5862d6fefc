/* Scores of predictions per column: R^2 (scikit-learn's r2_score, including its
 * convention for a constant truth), minus the mean squared error, and Pearson r; from
 * weighted moments (cross-validation) or from the values themselves. */
#include <math.h>
#include "model_internal.h"
#include "dense/dense.h"

double btfm_model_score_moments(int kind, double sw, double sy, double syy, double sp,
                                double spp, double syp)
{
    const double sse = fmax(syy - 2 * syp + spp, 0);
    if (kind == BTFM_SCORE_NEG_MSE) return -sse / sw;
    const double sst = syy - sy * sy / sw;
    if (kind == BTFM_SCORE_R2) return sst > 0 ? 1.0 - sse / sst : (sse > 0 ? 0.0 : 1.0);
    const double spc = spp - sp * sp / sw, cov = syp - sy * sp / sw;
    if (!(sst > 0) || !(spc > 0)) return NAN;
    return cov / sqrt(sst * spc);
}

btfm_status btfm_model_score_columns(double *out, int kind, const float *y_true,
                                     const float *y_pred, int64_t n_samples, int64_t n_targets)
{
    const char *func = "btfm_model_score_columns";
    BTFM_CHECK_ARG(out, func, "out");
    BTFM_CHECK_ARG(y_true, func, "y_true");
    BTFM_CHECK_ARG(y_pred, func, "y_pred");
    if (kind != BTFM_SCORE_R2 && kind != BTFM_SCORE_NEG_MSE && kind != BTFM_SCORE_PEARSON &&
        kind != BTFM_SCORE_DEFAULT)
        return btfm_fail(BTFM_E_INVALID, "%s: kind is %d; expected r2 (1), neg_mse (2) or "
                         "pearson (3)", func, kind);
    if (kind == BTFM_SCORE_DEFAULT) kind = BTFM_SCORE_R2;
    if (n_samples < 1 || n_targets < 1)
        return btfm_fail(BTFM_E_INVALID, "%s: %lld samples x %lld targets; expected at least "
                         "one of each", func, (long long)n_samples, (long long)n_targets);
    btfm_status st = btfm_model_check_finite(y_true, n_samples, n_targets, "y_true", func);
    if (!st) st = btfm_model_check_finite(y_pred, n_samples, n_targets, "y_pred", func);
    if (st) return st;
    double *mean_t = btfm_model_doubles((size_t)n_targets * 2, func);
    double *mom = btfm_model_doubles((size_t)n_targets * 4, func);
    if (!mean_t || !mom) {
        btfm_free(mean_t);
        btfm_free(mom);
        return BTFM_E_NOMEM;
    }
    double *mean_p = mean_t + n_targets;
    /* Two passes: the means, then sums of centered products. */
    for (int64_t i = 0; i < n_samples; i++)
        for (int64_t j = 0; j < n_targets; j++) {
            mean_t[j] += y_true[i * n_targets + j];
            mean_p[j] += y_pred[i * n_targets + j];
        }
    for (int64_t j = 0; j < n_targets; j++) {
        mean_t[j] /= (double)n_samples;
        mean_p[j] /= (double)n_samples;
    }
    double *stt = mom, *spp = mom + n_targets, *stp = mom + 2 * n_targets;
    double *sse_ = mom + 3 * n_targets;
    for (int64_t i = 0; i < n_samples; i++)
        for (int64_t j = 0; j < n_targets; j++) {
            double a = y_true[i * n_targets + j] - mean_t[j];
            double b = y_pred[i * n_targets + j] - mean_p[j];
            stt[j] += a * a;
            spp[j] += b * b;
            stp[j] += a * b;
            double r = (double)y_true[i * n_targets + j] - y_pred[i * n_targets + j];
            sse_[j] += r * r;
        }
    for (int64_t j = 0; j < n_targets; j++) {
        const double n = (double)n_samples, sse = sse_[j];
        if (kind == BTFM_SCORE_NEG_MSE)
            out[j] = -fmax(sse, 0) / n;
        else if (kind == BTFM_SCORE_R2)
            out[j] = stt[j] > 0 ? 1.0 - fmax(sse, 0) / stt[j] : (sse > 0 ? 0.0 : 1.0);
        else
            out[j] = stt[j] > 0 && spp[j] > 0 ? stp[j] / sqrt(stt[j] * spp[j]) : NAN;
    }
    btfm_free(mean_t);
    btfm_free(mom);
    return BTFM_OK;
}
