/* The neuroscience of the model layer against closed forms: RDMs and their comparisons on
 * hand-computed cases, noise ceilings at their limits, nested held-out predictions
 * against refits by the normal equations, steering directions, synthetic responses and
 * permutation tests (seeded, on the (k + 1) / (P + 1) lattice). */
#include <math.h>
#include "unit.h"
#include "model_ref.h"

START_TEST(rdm_closed_forms)
{
    /* Three conditions on two channels: squared distances / 2. */
    const float patterns[6] = {0, 0, 3, 4, 6, 8};
    double d[3];
    ck_assert_int_eq(btfm_rdm_size(3), 3);
    ck_assert_ok(btfm_rdm(d, BTFM_RDM_EUCLIDEAN, patterns, 1, 3, 2, NULL));
    ck_assert(d[0] == 12.5 && d[1] == 50 && d[2] == 12.5);
    /* Correlation distance: (3,4) and (6,8) are perfectly correlated. */
    ck_assert_ok(btfm_rdm(d, BTFM_RDM_CORRELATION, patterns + 2, 1, 2, 2, NULL));
    ck_assert_double_eq_tol(d[0], 0.0, 1e-12);
    /* Crossnobis of two identical folds is the Euclidean RDM. */
    float folds[12];
    memcpy(folds, patterns, sizeof patterns);
    memcpy(folds + 6, patterns, sizeof patterns);
    ck_assert_ok(btfm_rdm(d, BTFM_RDM_CROSSNOBIS, folds, 2, 3, 2, NULL));
    ck_assert(d[0] == 12.5 && d[1] == 50 && d[2] == 12.5);
    /* tau-a with ties: a = (1, 2, 2, 3), b = (1, 3, 2, 2): pairs (i<j) give
     * + + + 0 - 0 -> C - D = 2, over 6 pairs. */
    const double a[4] = {1, 2, 2, 3}, b[4] = {1, 3, 2, 2};
    double v;
    ck_assert_ok(btfm_rdm_compare(&v, BTFM_RDM_KENDALL_TAU_A, a, b, 4));
    ck_assert_double_eq_tol(v, 2.0 / 6.0, 1e-12);
    /* rho-a: centred ranks (-1.5, 0, 0, 1.5) and (-1.5, 1.5, 0, 0): 12 * 2.25 / 60. */
    ck_assert_ok(btfm_rdm_compare(&v, BTFM_RDM_RHO_A, a, b, 4));
    ck_assert_double_eq_tol(v, 12 * 2.25 / 60, 1e-12);
    /* Identical subjects: both ceilings are 1. */
    const double rdms[8] = {1, 4, 2, 8, 1, 4, 2, 8};
    double lo, up;
    ck_assert_ok(btfm_rdm_noise_ceiling(&lo, &up, BTFM_RDM_SPEARMAN, rdms, 2, 4));
    ck_assert_double_eq_tol(lo, 1.0, 1e-12);
    ck_assert_double_eq_tol(up, 1.0, 1e-12);
    ck_assert_status(btfm_rdm(d, BTFM_RDM_CROSSNOBIS, patterns, 1, 3, 2, NULL), BTFM_E_INVALID);
}
END_TEST

START_TEST(noise_ceilings_at_their_limits)
{
    enum { R = 4, N = 40, T = 2 };
    float data[R * N * T];
    ref_state = 5;
    for (int i = 0; i < N * T; i++) {
        const double s = ref_normal();
        for (int r = 0; r < R; r++) data[r * N * T + i] = (float)s;
    }
    /* Noise-free repeats: reliability 1; CC_max sqrt(T / (T - 1)) by the reference's mix
     * of 1/(T-1) in the signal power and 1/T in the variance. */
    double out[T], cmax[T], cnorm[T];
    ck_assert_ok(btfm_noise_ceiling_split_half(out, data, R, N, T, 0, 0));
    ck_assert_all(j, T, fabs(out[j] - 1) < 1e-6, "reliability %g", out[j]);
    ck_assert_ok(btfm_noise_ceiling_ccnorm(cmax, cnorm, data, R, N, T, data));
    ck_assert_all(j, T, fabs(cmax[j] - sqrt(N / (N - 1.0))) < 1e-6, "cc_max %g", cmax[j]);
    /* Repeats that cancel (target 0 flips sign each repeat): no signal power, NaN. */
    for (int i = 0; i < N; i++)
        for (int r = 0; r < R; r++) data[r * N * T + i * T] = (float)((r % 2 ? 1 : -1) * (1 + i % 3));
    ck_assert_ok(btfm_noise_ceiling_ccnorm(cmax, NULL, data, R, N, T, NULL));
    ck_assert(isnan(cmax[0]) && !isnan(cmax[1]));
    ck_assert_status(btfm_noise_ceiling_split_half(out, data, 1, N, T, 0, 0), BTFM_E_INVALID);
}
END_TEST

/* Two outer folds of a one-alpha ridge: each half predicted by a refit on the other. */
START_TEST(cross_predict_matches_refits)
{
    enum { N = 30, P = 4, T = 2 };
    float x[N * P], y[N * T], out[N * T];
    ref_state = 11;
    ref_data(x, y, N, P, T, 1.0);
    btfm_model *m;
    const double alpha = 2.0;
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_RIDGE));
    ck_assert_ok(btfm_model_set_alphas(m, &alpha, 1));
    ck_assert_ok(btfm_model_cross_predict(m, out, x, N, P, y, T, 2));
    ck_assert_int_eq(btfm_model_is_fitted(m), 0);
    for (int f = 0; f < 2; f++) {
        char use[N];
        for (int i = 0; i < N; i++) use[i] = (i < N / 2) != (f == 0);
        for (int64_t j = 0; j < T; j++) {
            double coef[P], icpt;
            ref_ridge(x, y, N, P, T, j, NULL, use, alpha, 1, 0, coef, &icpt);
            for (int i = 0; i < N; i++) {
                if (use[i]) continue;
                double pred = icpt;
                for (int k = 0; k < P; k++) pred += coef[k] * x[i * P + k];
                ck_assert_msg(fabs(out[i * T + j] - pred) < 1e-4 * (1 + fabs(pred)),
                              "sample %d target %lld: %g, expected %g", i, (long long)j,
                              out[i * T + j], pred);
            }
        }
    }
    /* Synthetic responses without noise are the predictions; with noise, seeded. */
    ck_assert_ok(btfm_model_fit(m, x, N, P, y, T));
    float pred[N * T], a[N * T], b[N * T];
    ck_assert_ok(btfm_model_predict(m, pred, x, N, P));
    ck_assert_ok(btfm_model_synthesize(m, a, x, N, P, BTFM_NOISE_NONE, 1));
    ck_assert_all(i, N * T, a[i] == pred[i], "noise-free sample %lld", (long long)i);
    ck_assert_ok(btfm_model_synthesize(m, a, x, N, P, BTFM_NOISE_INDEPENDENT, 7));
    ck_assert_ok(btfm_model_synthesize(m, b, x, N, P, BTFM_NOISE_INDEPENDENT, 7));
    ck_assert_all(i, N * T, a[i] == b[i] && a[i] != pred[i], "seeded sample %lld", (long long)i);
    ck_assert_status(btfm_model_synthesize(m, a, x, N, P, BTFM_NOISE_LOW_RANK, 7), BTFM_E_STATE);
    /* Permutation tests: seeded, p on the lattice (k + 1) / 21. */
    double score, p1, p2, null[20];
    ck_assert_ok(btfm_model_permutation_test(m, &score, &p1, null, x, N, P, y, 3, 20));
    ck_assert_ok(btfm_model_permutation_test(m, &score, &p2, NULL, x, N, P, y, 3, 20));
    ck_assert(p1 == p2 && fabs(p1 * 21 - round(p1 * 21)) < 1e-9 && p1 <= 2.0 / 21);
    btfm_model_free(m);
}
END_TEST

START_TEST(steering_points_between_the_means)
{
    enum { N = 40 };
    float x[N * 2];
    int32_t labels[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 2;
        x[2 * i] = (float)(labels[i] ? 1 : -1) + (float)((i % 5) - 2) * 0.1f;
        x[2 * i + 1] = (float)((i * 7) % 5 - 2);
    }
    float dir[2];
    double acc;
    ck_assert_ok(btfm_steering_direction(dir, &acc, BTFM_STEERING_MEAN_DIFFERENCE, x, N, 2,
                                         labels, 4));
    ck_assert_msg(dir[0] > 0.99 && acc == 1.0, "direction (%g, %g), accuracy %g", dir[0],
                  dir[1], acc);
    labels[3] = 2;
    ck_assert_status(btfm_steering_direction(dir, &acc, 1, x, N, 2, labels, 4), BTFM_E_INVALID);
}
END_TEST

static Suite *neuro_suite(void)
{
    Suite *s = suite_create("neuro");
    TCase *tc = tcase_create("neuro");
    unit_set_timeout(tc, 2);
    tcase_add_test(tc, rdm_closed_forms);
    tcase_add_test(tc, noise_ceilings_at_their_limits);
    tcase_add_test(tc, cross_predict_matches_refits);
    tcase_add_test(tc, steering_points_between_the_means);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(neuro_suite)
