/* Alignment under this process's OpenBLAS kernel family (tests/kernels): the triangular
 * inverse at the orders where OpenBLAS 0.3.21's Prescott strtri crashed, hyperalignment
 * whose Cholesky factors have those orders, and both shared response models, each
 * against an exact answer. */
#include <math.h>
#include "kernel_cases.h"
#include "align_sim.h"
#include "align/align_internal.h"

/* The triangular inverse against the identity: R R^-1 = I, for R the Cholesky factor of
 * a well-conditioned random SPD matrix (odd orders from 133 crashed in strtri). */
START_TEST(triangular_inverse_at_every_order)
{
    static const int64_t orders[] = {1, 2, 64, 127, 133, 197, 199, 201, 255, 257, 300};
    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        const int64_t n = orders[o];
        float *a = malloc(sizeof(float) * (size_t)(n * n));
        float *r = malloc(sizeof(float) * (size_t)(n * n));
        double *b = malloc(sizeof(double) * (size_t)(n * n));
        for (int64_t j = 0; j < n * n; j++) b[j] = sim_normal();
        for (int64_t i = 0; i < n; i++) /* a = b b^T / n + I */
            for (int64_t j = i; j < n; j++) {
                double s = 0;
                for (int64_t k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
                a[i * n + j] = (float)(s / (double)n + (i == j));
            }
        ck_assert_int_eq(btfm_dense_chol_f(a, n), 0);
        memcpy(r, a, sizeof(float) * (size_t)(n * n));
        ck_assert_ok(btfm_dense_invert_upper_f(r, n, "kernels"));
        double worst = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i; j < n; j++) {
                double s = 0;
                for (int64_t k = i; k <= j; k++) s += (double)a[i * n + k] * r[k * n + j];
                worst = fmax(worst, fabs(s - (i == j)));
            }
        ck_assert_msg(worst < 1e-5, "n = %lld: |R R^-1 - I| reaches %g", (long long)n, worst);
        free(a);
        free(r);
        free(b);
    }
}
END_TEST

/* x := x (I - 2 v v^T) for a random unit v (T x V, row-major). */
static void reflect(float *x, int64_t T, int64_t V)
{
    double *v = malloc(sizeof(double) * (size_t)V), norm = 0;
    for (int64_t j = 0; j < V; j++) {
        v[j] = sim_normal();
        norm += v[j] * v[j];
    }
    for (int64_t j = 0; j < V; j++) v[j] /= sqrt(norm);
    for (int64_t t = 0; t < T; t++) {
        double d = 0;
        for (int64_t j = 0; j < V; j++) d += x[t * V + j] * v[j];
        for (int64_t j = 0; j < V; j++) x[t * V + j] = (float)(x[t * V + j] - 2 * d * v[j]);
    }
    free(v);
}

/* Two subjects whose data are exact rotations of each other (two reflections and a
 * permutation with signs), full rank with T < V, so each subject's decomposition takes
 * the Cholesky route with a (T-1)-sized factor (199 and 255 crashed): both land on the
 * same common-space series. */
START_TEST(hyperalignment_maps_rotated_copies_together)
{
    static const int64_t lengths[] = {200, 256};
    for (size_t o = 0; o < sizeof lengths / sizeof lengths[0]; o++) {
        const int64_t T = lengths[o], V = 2 * T, K = 20;
        float *x1 = malloc(sizeof(float) * (size_t)(T * V));
        float *x2 = malloc(sizeof(float) * (size_t)(T * V));
        float *y1 = malloc(sizeof(float) * (size_t)(T * K));
        float *y2 = malloc(sizeof(float) * (size_t)(T * K));
        for (int64_t j = 0; j < T * V; j++) x1[j] = (float)sim_normal();
        for (int64_t t = 0; t < T; t++) /* x2 = x1 with columns reversed, every other negated */
            for (int64_t j = 0; j < V; j++)
                x2[t * V + j] = (j % 2 ? -1.0f : 1.0f) * x1[t * V + (V - 1 - j)];
        reflect(x2, T, V);
        reflect(x2, T, V);
        btfm_aligner *a;
        ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, (double)K));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_ZSCORE, 0));
        ck_assert_ok(btfm_aligner_add_subject(a, x1, T, V));
        ck_assert_ok(btfm_aligner_add_subject(a, x2, T, V));
        ck_assert_ok(btfm_aligner_fit(a));
        ck_assert_ok(btfm_aligner_transform(a, 0, x1, T, V, y1));
        ck_assert_ok(btfm_aligner_transform(a, 1, x2, T, V, y2));
        double diff = 0, norm = 0;
        for (int64_t j = 0; j < T * K; j++) {
            diff += ((double)y1[j] - y2[j]) * ((double)y1[j] - y2[j]);
            norm += (double)y1[j] * y1[j];
        }
        ck_assert_msg(norm > 0 && sqrt(diff / norm) < 1e-3,
                      "T = %lld: rotated copies land %g apart (relative)", (long long)T,
                      sqrt(diff / norm));
        btfm_aligner_free(a);
        free(x1);
        free(x2);
        free(y1);
        free(y2);
    }
}
END_TEST

/* Both SRMs on noiseless data x_i = s w_i^T (orthonormal w_i): the transforms of every
 * subject agree up to float rounding, since W_i^T x_i = s for the exact solution. */
START_TEST(srm_maps_noiseless_subjects_together)
{
    enum { N = 3, T = 120, V = 90, K = 6 };
    double *s = malloc(sizeof(double) * T * K), *w = malloc(sizeof(double) * V * K);
    float *x[N], *y[N];
    sim_shared(s, T, K);
    for (int i = 0; i < N; i++) {
        sim_layout(w, V, K);
        x[i] = malloc(sizeof(float) * T * V);
        y[i] = malloc(sizeof(float) * T * K);
        sim_subject(x[i], s, w, T, V, K, 1.0, 0.0);
    }
    const int methods[] = {BTFM_ALIGN_SRM, BTFM_ALIGN_PROBABILISTIC_SRM};
    for (int m = 0; m < 2; m++) {
        btfm_aligner *a;
        ck_assert_ok(btfm_aligner_new(&a, methods[m]));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, K));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_ZSCORE, 0));
        for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_add_subject(a, x[i], T, V));
        ck_assert_ok(btfm_aligner_fit(a));
        for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_transform(a, i, x[i], T, V, y[i]));
        for (int i = 1; i < N; i++) {
            double diff = 0, norm = 0;
            for (int j = 0; j < T * K; j++) {
                diff += ((double)y[i][j] - y[0][j]) * ((double)y[i][j] - y[0][j]);
                norm += (double)y[0][j] * y[0][j];
            }
            ck_assert_msg(sqrt(diff / norm) < 1e-3, "%s: subject %d lands %g from subject 0",
                          btfm_align_method_name(methods[m]), i, sqrt(diff / norm));
        }
        btfm_aligner_free(a);
    }
    for (int i = 0; i < N; i++) {
        free(x[i]);
        free(y[i]);
    }
    free(s);
    free(w);
}
END_TEST

TCase *kernels_align(void)
{
    TCase *tc = tcase_create("align");
    unit_set_timeout(tc, 1.0); /* seconds of work on an idle machine */
    tcase_add_test(tc, triangular_inverse_at_every_order);
    tcase_add_test(tc, hyperalignment_maps_rotated_copies_together);
    tcase_add_test(tc, srm_maps_noiseless_subjects_together);
    return tc;
}
