/* Is a reliability signal worth using? From labelled steps: how well the raw scores
 * separate correct from wrong steps (AUC with DeLong's 1988 interval, and the
 * equal-variance Gaussian sensitivity d' = sqrt(2) Phi^-1(AUC)), and how well the
 * calibrated probabilities match outcomes out of sample (k-fold cross-validated expected
 * calibration error over 10 equal-width bins, Brier score, log loss), next to the raw
 * scores' calibration error when they already are probabilities. */
#include <math.h>
#include "cothb_internal.h"

static const char *const item_names[] = {
    "n", "base_rate", "auc", "auc_low", "auc_high", "dprime", "ece_raw", "ece", "brier",
    "brier_base_rate", "log_loss",
};
#define N_ITEMS ((int)(sizeof item_names / sizeof item_names[0]))
_Static_assert(sizeof item_names / sizeof item_names[0] == BTFM_COTHB_QUALITY_LOG_LOSS + 1,
               "one name per quality item");

const char *btfm_cothb_quality_name(int item)
{
    return item >= 0 && item < N_ITEMS ? item_names[item] : NULL;
}

int btfm_cothb_quality_count(void) { return N_ITEMS; }

/* Inverse of the standard normal distribution function (Acklam's rational
 * approximation, relative error 1.2e-9, refined by one Halley step on erfc). */
double btfm_cothb_normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (!(p > 0)) return p == 0 ? -INFINITY : NAN;
    if (!(p < 1)) return p == 1 ? INFINITY : NAN;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double q = sqrt(-2 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * 2.5066282746310002 * exp(x * x / 2); /* sqrt(2 pi) */
    return x - u / (1 + x * u / 2);
}

/* Expected calibration error over 10 equal-width bins of the predicted probability. */
static double ece(const double *p, const int *y, int64_t n)
{
    double sum_p[10] = {0}, sum_y[10] = {0}, count[10] = {0};
    for (int64_t i = 0; i < n; i++) {
        int bin = (int)(p[i] * 10);
        if (bin > 9) bin = 9;
        if (bin < 0) bin = 0;
        sum_p[bin] += p[i];
        sum_y[bin] += y[i];
        count[bin]++;
    }
    double e = 0;
    for (int b = 0; b < 10; b++)
        if (count[b] > 0) e += fabs(sum_p[b] - sum_y[b]) / (double)n;
    return e;
}

/* Out-of-fold probabilities: fold f holds the steps i with i % folds == f. */
static btfm_status cross_validated(int method, const double *s, const int *y, int64_t n,
                                   int folds, double *out, const char *func)
{
    if (folds <= 1 || method == BTFM_COTHB_CALIBRATION_NONE) {
        cothb_map m = {0};
        btfm_status st = btfm_cothb_map_fit(&m, method, s, y, n, func);
        for (int64_t i = 0; !st && i < n; i++) out[i] = btfm_cothb_map_apply(&m, s[i]);
        btfm_cothb_map_free(&m);
        return st;
    }
    size_t bytes = (size_t)n * (sizeof(double) + sizeof(int));
    double *train_s = btfm_malloc(bytes);
    if (!train_s) return btfm_fail_nomem(func, bytes);
    int *train_y = (int *)(train_s + n);
    btfm_status st = BTFM_OK;
    for (int f = 0; f < folds && !st; f++) {
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++)
            if (i % folds != f) {
                train_s[k] = s[i];
                train_y[k++] = y[i];
            }
        cothb_map m = {0};
        st = btfm_cothb_map_fit(&m, method, train_s, train_y, k, func);
        for (int64_t i = f; !st && i < n; i += folds) out[i] = btfm_cothb_map_apply(&m, s[i]);
        btfm_cothb_map_free(&m);
    }
    btfm_free(train_s);
    return st;
}

btfm_status btfm_cothb_signal_quality(const double *scores, const int *correct, int64_t n,
                                      int method, int folds, double *report, int n_report)
{
    static const char func[] = "btfm_cothb_signal_quality";
    BTFM_CHECK_ARG(scores, func, "scores");
    BTFM_CHECK_ARG(correct, func, "correct");
    BTFM_CHECK_ARG(report, func, "report");
    if (n_report < 1 || n_report > N_ITEMS)
        return btfm_fail(BTFM_E_INVALID, "%s: n_report = %d: expected 1 to %d", func, n_report,
                         N_ITEMS);
    if (folds < 0 || folds > n / 2)
        return btfm_fail(BTFM_E_INVALID, "%s: folds = %d: expected 0 or 1 (fit and evaluate "
                         "on all steps) or 2 to n/2 = %lld", func, folds, (long long)(n / 2));
    int64_t n_pos = 0;
    btfm_status st = btfm_cothb_map_check(method, scores, correct, n, &n_pos, func);
    if (st) return st;
    double *p = btfm_malloc((size_t)n * sizeof *p);
    if (!p) return btfm_fail_nomem(func, (size_t)n * sizeof *p);
    double out[N_ITEMS];
    double se = NAN;
    double auc = btfm_cothb_auc(scores, correct, n, &se, &st, func);
    if (!st) st = cross_validated(method, scores, correct, n, folds, p, func);
    if (st) {
        btfm_free(p);
        return st;
    }
    double base = (double)n_pos / (double)n;
    out[BTFM_COTHB_QUALITY_N] = (double)n;
    out[BTFM_COTHB_QUALITY_BASE_RATE] = base;
    out[BTFM_COTHB_QUALITY_AUC] = auc;
    out[BTFM_COTHB_QUALITY_AUC_LOW] = fmax(0, auc - 1.959963984540054 * se);
    out[BTFM_COTHB_QUALITY_AUC_HIGH] = fmin(1, auc + 1.959963984540054 * se);
    out[BTFM_COTHB_QUALITY_DPRIME] = sqrt(2.0) * btfm_cothb_normal_quantile(auc);
    int probabilities = 1;
    for (int64_t i = 0; i < n; i++) probabilities &= scores[i] >= 0 && scores[i] <= 1;
    out[BTFM_COTHB_QUALITY_ECE_RAW] = probabilities ? ece(scores, correct, n) : NAN;
    out[BTFM_COTHB_QUALITY_ECE] = ece(p, correct, n);
    double brier = 0, log_loss = 0;
    for (int64_t i = 0; i < n; i++) {
        double q = fmin(fmax(p[i], 1e-15), 1 - 1e-15);
        brier += (p[i] - correct[i]) * (p[i] - correct[i]);
        log_loss -= correct[i] ? log(q) : log1p(-q);
    }
    out[BTFM_COTHB_QUALITY_BRIER] = brier / (double)n;
    out[BTFM_COTHB_QUALITY_BRIER_BASE_RATE] = base * (1 - base);
    out[BTFM_COTHB_QUALITY_LOG_LOSS] = log_loss / (double)n;
    btfm_free(p);
    for (int i = 0; i < n_report; i++) report[i] = out[i];
    return BTFM_OK;
}
