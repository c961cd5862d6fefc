/* Multitaper's DPSS under this process's OpenBLAS kernel family (tests/kernels): the
 * tapers from LAPACK's tridiagonal eigensolver are orthonormal and satisfy the
 * tridiagonal eigen-equation that defines them (Percival & Walden 1993, 8.3). */
#include <math.h>
#include "kernel_cases.h"

START_TEST(dpss_solve_their_eigen_equation)
{
    static const int64_t lengths[] = {199, 255, 256, 1001};
    enum { K = 7 };
    const double nw = 4.0, pi = 3.14159265358979323846;
    for (size_t o = 0; o < sizeof lengths / sizeof lengths[0]; o++) {
        const int64_t n = lengths[o];
        double *v = malloc(sizeof(double) * (size_t)(K * n)), ratios[K];
        ck_assert_ok(btfm_dpss(n, nw, K, 1, v, ratios));
        const double c = cos(2.0 * pi * nw / (double)n), scale = 0.25 * (double)(n * n);
        double worst_eq = 0, worst_dot = 0;
        for (int a = 0; a < K; a++) {
            const double *x = v + (size_t)a * (size_t)n;
            double lambda = 0;
            double *tx = malloc(sizeof(double) * (size_t)n);
            for (int64_t i = 0; i < n; i++) { /* tx = T x */
                double h = 0.5 * (double)(n - 1 - 2 * i);
                tx[i] = h * h * c * x[i];
                if (i > 0) tx[i] += 0.5 * (double)i * (double)(n - i) * x[i - 1];
                if (i + 1 < n) tx[i] += 0.5 * (double)(i + 1) * (double)(n - i - 1) * x[i + 1];
                lambda += x[i] * tx[i];
            }
            for (int64_t i = 0; i < n; i++)
                worst_eq = fmax(worst_eq, fabs(tx[i] - lambda * x[i]) / scale);
            free(tx);
            for (int b = 0; b <= a; b++) {
                double d = 0;
                for (int64_t i = 0; i < n; i++) d += x[i] * v[(size_t)b * (size_t)n + i];
                worst_dot = fmax(worst_dot, fabs(d - (a == b)));
            }
            ck_assert_msg(ratios[a] > 0 && ratios[a] <= 1 + 1e-12 && (a == 0 || ratios[a] <= ratios[a - 1]),
                          "n = %lld: concentration %d is %g", (long long)n, a, ratios[a]);
        }
        ck_assert_msg(worst_eq < 1e-10, "n = %lld: eigen-equation residual %g", (long long)n, worst_eq);
        ck_assert_msg(worst_dot < 1e-10, "n = %lld: orthonormality off by %g", (long long)n, worst_dot);
        free(v);
    }
}
END_TEST

TCase *kernels_spectrum(void)
{
    TCase *tc = tcase_create("spectrum");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(tc, dpss_solve_their_eigen_equation);
    return tc;
}
