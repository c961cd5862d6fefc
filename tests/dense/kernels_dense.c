/* The dense layer under this process's OpenBLAS kernel family (tests/kernels): every
 * LAPACK route it wraps, at orders around the kernels' block sizes, against exact
 * answers built from known factors. */
#include <math.h>
#include "kernel_cases.h"
#include "dense/dense.h"

/* q (n x n) = I - 2 v v^T / v^T v for v_i = sin(1.3 (i + 1)) + 0.2: symmetric, orthogonal. */
static double *reflection(int64_t n)
{
    double *q = malloc(sizeof(double) * (size_t)(n * n)), vv = 0;
    double *v = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        v[i] = sin(1.3 * (double)(i + 1)) + 0.2;
        vv += v[i] * v[i];
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) q[i * n + j] = (i == j) - 2.0 * v[i] * v[j] / vv;
    free(v);
    return q;
}

/* a = q diag(lambda_k = n - k) q, whose eigenvalues are n, n - 1, ..., 1. */
static double *known_spectrum(const double *q, int64_t n)
{
    double *a = malloc(sizeof(double) * (size_t)(n * n));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t k = 0; k < n; k++) s += q[i * n + k] * (double)(n - k) * q[j * n + k];
            a[i * n + j] = s;
        }
    return a;
}

START_TEST(eigen_svd_and_solves_at_block_orders)
{
    static const int64_t orders[] = {1, 3, 64, 97, 128, 199};
    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        const int64_t n = orders[o];
        double *q = reflection(n), *a = known_spectrum(q, n);
        const size_t nn = (size_t)(n * n);
        double *m = malloc(sizeof(double) * nn), *w = malloc(sizeof(double) * (size_t)n);
        double *pinv = malloc(sizeof(double) * nn), *u = malloc(sizeof(double) * nn);
        double *vt = malloc(sizeof(double) * nn);
        float *mf = malloc(sizeof(float) * nn), *wf = malloc(sizeof(float) * (size_t)n);
        double worst = 0, worst_f = 0;
        memcpy(m, a, sizeof(double) * nn);
        ck_assert_ok(btfm_dense_syev(m, n, w, "kernels"));
        for (int64_t k = 0; k < n; k++) worst = fmax(worst, fabs(w[k] - (double)(n - k)));
        for (size_t j = 0; j < nn; j++) mf[j] = (float)a[j];
        ck_assert_ok(btfm_dense_syev_f(mf, n, wf, "kernels"));
        for (int64_t k = 0; k < n; k++) worst_f = fmax(worst_f, fabs(wf[k] - (double)(n - k)));
        ck_assert_msg(worst_f < 1e-5 * (double)n, "n = %lld: float eigenvalues off by %g",
                      (long long)n, worst_f);
        const int64_t top = n < 5 ? n : 5;
        memcpy(m, a, sizeof(double) * nn);
        ck_assert_ok(btfm_dense_syev_top(m, n, top, w, pinv, "kernels"));
        for (int64_t k = 0; k < top; k++) worst = fmax(worst, fabs(w[k] - (double)(n - k)));
        /* singular values of the SPD a are its eigenvalues; pinv a = I; log det = log n! */
        ck_assert_ok(btfm_dense_svd(a, n, n, u, w, vt, "kernels"));
        for (int64_t k = 0; k < n; k++) worst = fmax(worst, fabs(w[k] - (double)(n - k)));
        ck_assert_ok(btfm_dense_pinv(a, n, n, -1, pinv, NULL, NULL, NULL, "kernels"));
        double ld, log_fact = lgamma((double)n + 1);
        ck_assert_int_eq(btfm_dense_spd_inverse(a, n, m, &ld), 0);
        ck_assert(fabs(ld - log_fact) < 1e-12 * (1 + log_fact));
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0, t = 0;
                for (int64_t k = 0; k < n; k++) {
                    s += pinv[i * n + k] * a[k * n + j];
                    t += m[i * n + k] * a[k * n + j];
                }
                worst = fmax(worst, fmax(fabs(s - (i == j)), fabs(t - (i == j))));
            }
        ck_assert_msg(worst < 1e-9, "n = %lld: off by %g", (long long)n, worst);
        free(q);
        free(a);
        free(m);
        free(w);
        free(pinv);
        free(mf);
        free(wf);
        free(u);
        free(vt);
    }
}
END_TEST

/* The path graph's tridiagonal spectrum, 2 cos(pi j / (n + 1)), at the multitaper's lengths. */
START_TEST(tridiagonal_at_taper_lengths)
{
    static const int64_t lengths[] = {2, 101, 256, 1001};
    for (size_t o = 0; o < sizeof lengths / sizeof lengths[0]; o++) {
        const int64_t n = lengths[o], k = n < 4 ? n : 4;
        double *d = calloc((size_t)n, sizeof(double)), *e = malloc(sizeof(double) * (size_t)n);
        double *v = malloc(sizeof(double) * (size_t)(n * k)), w[4];
        for (int64_t i = 0; i < n; i++) e[i] = 1;
        ck_assert_ok(btfm_dense_tridiag_top(d, e, n, k, w, v, "kernels"));
        for (int64_t j = 1; j <= k; j++)
            ck_assert(fabs(w[j - 1] - 2 * cos(M_PI * (double)j / (double)(n + 1))) < 1e-12);
        free(d);
        free(e);
        free(v);
    }
}
END_TEST

TCase *kernels_dense(void)
{
    TCase *tc = tcase_create("dense");
    unit_set_timeout(tc, 0.6); /* seconds of work on an idle machine */
    tcase_add_test(tc, eigen_svd_and_solves_at_block_orders);
    tcase_add_test(tc, tridiagonal_at_taper_lengths);
    return tc;
}
