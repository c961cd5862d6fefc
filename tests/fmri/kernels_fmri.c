/* The fMRI GLM under this process's OpenBLAS kernel family (tests/kernels): exact fits
 * through the pivoted QR and SVD of the design, and per-event betas through the
 * Cholesky solves of LSA and LSS, at orders around those where Prescott kernels failed
 * elsewhere (133, 199 columns). */
#include <math.h>
#include "kernel_cases.h"

static uint64_t rng_state = 7;
static double normal(void)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
        u[i] = ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* y = X b exactly (X random with a constant column): OLS returns b. */
START_TEST(glm_fits_exact_data)
{
    static const int64_t widths[] = {5, 133, 199};
    for (size_t o = 0; o < sizeof widths / sizeof widths[0]; o++) {
        const int64_t p = widths[o], n = p + 101, V = 3;
        double *x = malloc(sizeof(double) * (size_t)(n * p)), *b = malloc(sizeof(double) * (size_t)(p * V));
        float *y = malloc(sizeof(float) * (size_t)(n * V)), *betas = malloc(sizeof(float) * (size_t)(p * V));
        for (int64_t j = 0; j < n * p; j++) x[j] = j % p == 0 ? 1.0 : normal();
        for (int64_t j = 0; j < p * V; j++) b[j] = normal();
        for (int64_t t = 0; t < n; t++)
            for (int64_t v = 0; v < V; v++) {
                double s = 0;
                for (int64_t k = 0; k < p; k++) s += x[t * p + k] * b[k * V + v];
                y[t * V + v] = (float)s;
            }
        btfm_glm *g;
        ck_assert_ok(btfm_glm_new(&g, x, n, p, BTFM_GLM_OLS));
        ck_assert_ok(btfm_glm_fit(g, y, n, V));
        ck_assert_ok(btfm_glm_betas(g, betas, (size_t)(p * V)));
        double worst = 0;
        for (int64_t j = 0; j < p * V; j++) worst = fmax(worst, fabs(betas[j] - b[j]));
        ck_assert_msg(worst < 1e-3, "%lld regressors: a beta is %g off", (long long)p, worst);
        btfm_glm_free(g);
        free(x);
        free(b);
        free(y);
        free(betas);
    }
}
END_TEST

/* Events with disjoint supports: LSA and LSS both give e_i^T y / e_i^T e_i. */
START_TEST(per_event_betas_of_disjoint_events)
{
    static const int64_t counts[] = {4, 133, 199};
    for (size_t o = 0; o < sizeof counts / sizeof counts[0]; o++) {
        const int64_t E = counts[o], n = 3 * E, V = 2;
        double *ev = calloc((size_t)(n * E), sizeof(double));
        float *y = malloc(sizeof(float) * (size_t)(n * V));
        float *lsa = malloc(sizeof(float) * (size_t)(E * V)), *lss = malloc(sizeof(float) * (size_t)(E * V));
        for (int64_t t = 0; t < n; t++) {
            ev[t * E + t / 3] = 1.0 + (double)(t % 3);
            for (int64_t v = 0; v < V; v++) y[t * V + v] = (float)normal();
        }
        ck_assert_ok(btfm_glm_lsa(y, n, V, ev, E, NULL, 0, lsa));
        ck_assert_ok(btfm_glm_lss(y, n, V, ev, NULL, E, NULL, 0, lss));
        double worst = 0;
        for (int64_t e = 0; e < E; e++)
            for (int64_t v = 0; v < V; v++) {
                double num = 0;
                for (int64_t k = 0; k < 3; k++)
                    num += (1.0 + (double)k) * y[(3 * e + k) * V + v];
                double want = num / 14.0; /* 1 + 4 + 9 */
                worst = fmax(worst, fmax(fabs(lsa[e * V + v] - want), fabs(lss[e * V + v] - want)));
            }
        ck_assert_msg(worst < 1e-4, "%lld events: a beta is %g off", (long long)E, worst);
        free(ev);
        free(y);
        free(lsa);
        free(lss);
    }
}
END_TEST

TCase *kernels_fmri(void)
{
    TCase *tc = tcase_create("fmri");
    unit_set_timeout(tc, 0.6); /* seconds of work on an idle machine */
    tcase_add_test(tc, glm_fits_exact_data);
    tcase_add_test(tc, per_event_betas_of_disjoint_events);
    return tc;
}
