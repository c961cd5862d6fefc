/* The model layer under this process's OpenBLAS kernel family (tests/kernels): ridge by
 * both routes at orders around the kernels' block sizes (the primal Gram's and the dual
 * kernel's eigendecompositions), checked against the normal equations, and a logistic
 * fit whose Newton systems and Laplace inverse have those orders, checked by its gradient. */
#include <math.h>
#include "kernel_cases.h"
#include "model_ref.h"

/* |(X_c^T X_c + alpha I) b - X_c^T y_c| relative to |X_c^T y_c| for target 0. */
static double normal_residual(const float *x, const float *y, int64_t n, int64_t p,
                              int64_t t, const float *coef, double alpha)
{
    double *mx = calloc((size_t)p, sizeof(double)), my = 0, worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        my += y[i * t] / (double)n;
        for (int64_t k = 0; k < p; k++) mx[k] += x[i * p + k] / (double)n;
    }
    double *xb = calloc((size_t)n, sizeof(double));
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < p; k++) xb[i] += (x[i * p + k] - mx[k]) * coef[k * t];
    for (int64_t k = 0; k < p; k++) {
        double lhs = alpha * coef[k * t], rhs = 0;
        for (int64_t i = 0; i < n; i++) {
            double xc = x[i * p + k] - mx[k];
            lhs += xc * xb[i];
            rhs += xc * (y[i * t] - my);
        }
        worst = fmax(worst, fabs(lhs - rhs));
        scale = fmax(scale, fabs(rhs));
    }
    free(mx);
    free(xb);
    return worst / scale;
}

START_TEST(ridge_at_block_orders)
{
    static const int64_t orders[][2] = {{300, 127}, {300, 197}, {260, 255}, {199, 257}};
    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        const int64_t n = orders[o][0], p = orders[o][1], t = 2;
        float *x = malloc(sizeof(float) * (size_t)(n * p)), *y = malloc(sizeof(float) * (size_t)(n * t));
        float *coef = malloc(sizeof(float) * (size_t)(p * t));
        ref_state = 7 + o;
        ref_data(x, y, n, p, t, 5.0);
        for (int solver = 1; solver <= 2; solver++) {
            btfm_model *m;
            const double alphas[2] = {10, 1000};
            ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_RIDGE));
            ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_SOLVER, solver));
            ck_assert_ok(btfm_model_set_alphas(m, alphas, 2));
            ck_assert_ok(btfm_model_fit(m, x, n, p, y, t));
            double chosen[2];
            ck_assert_ok(btfm_model_alpha(m, chosen, 2));
            ck_assert_ok(btfm_model_coef(m, coef, (size_t)(p * t)));
            double r = normal_residual(x, y, n, p, t, coef, chosen[0]);
            ck_assert_msg(r < 1e-5, "n %lld p %lld solver %d: normal equations off by %g",
                          (long long)n, (long long)p, solver, r);
            btfm_model_free(m);
        }
        free(x);
        free(y);
        free(coef);
    }
}
END_TEST

START_TEST(logistic_at_block_orders)
{
    const int64_t n = 400, p = 199; /* Newton systems and the Laplace inverse of order 200 */
    float *x = malloc(sizeof(float) * (size_t)(n * p)), *y = malloc(sizeof(float) * (size_t)n);
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)n);
    float *coef = malloc(sizeof(float) * (size_t)p), *prob = malloc(sizeof(float) * (size_t)(2 * n));
    ref_state = 3;
    ref_data(x, y, n, p, 1, 1.0);
    double mean = 0;
    for (int64_t i = 0; i < n; i++) mean += y[i] / (double)n;
    for (int64_t i = 0; i < n; i++) labels[i] = y[i] + 10 * ref_normal() > mean;
    btfm_model *m;
    const double alpha = 50;
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_LOGISTIC));
    ck_assert_ok(btfm_model_set_alphas(m, &alpha, 1));
    ck_assert_ok(btfm_model_fit_classes(m, x, n, p, labels));
    ck_assert_ok(btfm_model_coef(m, coef, (size_t)p));
    ck_assert_ok(btfm_model_predict_proba(m, prob, x, n, p));
    /* The gradient relative to the size of its terms (probabilities and coefficients come
     * back in float). */
    double worst = 0, bias = 0;
    for (int64_t k = 0; k < p; k++) {
        double g = alpha * coef[k], size = 0;
        for (int64_t i = 0; i < n; i++) {
            g += (prob[2 * i + 1] - labels[i]) * x[i * p + k];
            size += fabs(x[i * p + k]);
        }
        worst = fmax(worst, fabs(g) / size);
    }
    for (int64_t i = 0; i < n; i++) bias += prob[2 * i + 1] - labels[i];
    ck_assert_msg(worst < 1e-5 && fabs(bias) < 1e-3 * n * 1e-3, "gradient %g, intercept "
                  "gradient %g", worst, bias);
    float sd[1];
    ck_assert_ok(btfm_model_predict_std(m, sd, x, 1, p));
    ck_assert(sd[0] > 0 && isfinite(sd[0]));
    btfm_model_free(m);
    free(x);
    free(y);
    free(labels);
    free(coef);
    free(prob);
}
END_TEST

TCase *kernels_model(void)
{
    TCase *tc = tcase_create("model");
    unit_set_timeout(tc, 3);
    tcase_add_test(tc, ridge_at_block_orders);
    tcase_add_test(tc, logistic_at_block_orders);
    return tc;
}
