/* btfm_model against independent references: ridge by the normal equations refitted on
 * every training set (leave-one-out, K folds, gaps, groups, weights, standardization,
 * both routes), logistic regression and Bradley-Terry at their optimality conditions,
 * the folds scikit-learn's KFold and LeaveOneGroupOut make, persistence, and every bad
 * input with the argument it names. */
#include <math.h>
#include <stdio.h>
#include "unit.h"
#include "model_ref.h"
#include "model/model_internal.h"

enum { N = 23, P = 5, T = 3 };
static float X[N * P], Y[N * T];

static void setup(void)
{
    ref_state = 99;
    ref_data(X, Y, N, P, T, 2.0);
}

static btfm_model *ridge(int solver, double alpha)
{
    btfm_model *m;
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_RIDGE));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_SOLVER, solver));
    ck_assert_ok(btfm_model_set_alphas(m, &alpha, 1));
    return m;
}

/* The coefficients and intercepts of a fit against ref_ridge on the rows of `use`. */
static void check_against_ref(btfm_model *m, const double *w, const char *use, double alpha,
                              int intercept, int standardize, int64_t j0, int64_t nt)
{
    float coef[P * T];
    double icpt[T], ref[P], ref_icpt;
    ck_assert_ok(btfm_model_coef(m, coef, P * T));
    ck_assert_ok(btfm_model_intercept(m, icpt, T));
    for (int64_t j = j0; j < j0 + nt; j++) {
        ref_ridge(X, Y, N, P, T, j, w, use, alpha, intercept, standardize, ref, &ref_icpt);
        ck_assert_all(k, P, fabs(coef[k * T + j] - ref[k]) <= 1e-5 * (1 + fabs(ref[k])),
                      "target %lld coefficient %lld: %g, expected %g", (long long)j,
                      (long long)k, coef[k * T + j], ref[k]);
        ck_assert_msg(fabs(icpt[j] - ref_icpt) <= 1e-4 * (1 + fabs(ref_icpt)),
                      "intercept %g, expected %g", icpt[j], ref_icpt);
    }
}

/* One alpha, both routes, with and without weights, intercept and standardization. */
START_TEST(ridge_matches_normal_equations)
{
    double w[N];
    for (int i = 0; i < N; i++) w[i] = 0.2 + (i % 5) * 0.4;
    for (int solver = 1; solver <= 2; solver++)
        for (int variant = 0; variant < 4; variant++) {
            const int weighted = variant & 1, intercept = variant != 2, standardize = variant == 3;
            btfm_model *m = ridge(solver, 3.0);
            ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_FIT_INTERCEPT, intercept));
            ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_STANDARDIZE, standardize));
            if (weighted) ck_assert_ok(btfm_model_set_sample_weight(m, w, N));
            ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
            check_against_ref(m, weighted ? w : NULL, NULL, 3.0, intercept, standardize, 0, T);
            btfm_model_free(m);
        }
}
END_TEST

/* Leave-one-out scores (minus the mean squared error) against n refits. */
START_TEST(leave_one_out_matches_refits)
{
    const double alphas[3] = {0.5, 5, 50};
    for (int solver = 1; solver <= 2; solver++) {
        btfm_model *m = ridge(solver, 1);
        ck_assert_ok(btfm_model_set_alphas(m, alphas, 3));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_SCORING, BTFM_SCORE_NEG_MSE));
        ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
        double cv[3 * T];
        ck_assert_ok(btfm_model_cv_scores(m, cv, 3 * T));
        for (int a = 0; a < 3; a++)
            for (int64_t j = 0; j < T; j++) {
                double sse = 0, coef[P], icpt;
                char use[N];
                for (int i = 0; i < N; i++) {
                    memset(use, 1, N);
                    use[i] = 0;
                    ref_ridge(X, Y, N, P, T, j, NULL, use, alphas[a], 1, 0, coef, &icpt);
                    double pred = icpt;
                    for (int k = 0; k < P; k++) pred += coef[k] * X[i * P + k];
                    sse += (Y[i * T + j] - pred) * (Y[i * T + j] - pred);
                }
                ck_assert_msg(fabs(cv[a * T + j] + sse / N) < 1e-6 * (sse / N),
                              "solver %d alpha %g target %lld: %.10g, expected %.10g", solver,
                              alphas[a], (long long)j, cv[a * T + j], -sse / N);
            }
        btfm_model_free(m);
    }
}
END_TEST

/* Held-out R^2 of one fold of rows [lo, hi) trained on `use`. */
static double fold_r2(const char *use, int lo, int hi, double alpha, int64_t j, int standardize)
{
    double coef[P], icpt, sse = 0, mean = 0, sst = 0;
    ref_ridge(X, Y, N, P, T, j, NULL, use, alpha, 1, standardize, coef, &icpt);
    for (int i = lo; i < hi; i++) mean += Y[i * T + j] / (hi - lo);
    for (int i = lo; i < hi; i++) {
        double pred = icpt;
        for (int k = 0; k < P; k++) pred += coef[k] * X[i * P + k];
        sse += (Y[i * T + j] - pred) * (Y[i * T + j] - pred);
        sst += (Y[i * T + j] - mean) * (Y[i * T + j] - mean);
    }
    return 1 - sse / sst;
}

/* Three contiguous folds of 8, 8, 7 (scikit-learn's KFold), with a gap of 2 on each side
 * of the test block, standardized on each training set; then groups. */
START_TEST(kfold_gap_and_groups_match_refits)
{
    const double alphas[2] = {1, 30};
    const int bounds[4] = {0, 8, 16, 23};
    for (int solver = 1; solver <= 2; solver++) {
        btfm_model *m = ridge(solver, 1);
        ck_assert_ok(btfm_model_set_alphas(m, alphas, 2));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 3));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_GAP, 2));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_STANDARDIZE, 1));
        ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
        double cv[2 * T];
        ck_assert_ok(btfm_model_cv_scores(m, cv, 2 * T));
        for (int a = 0; a < 2; a++)
            for (int64_t j = 0; j < T; j++) {
                double mean = 0;
                for (int f = 0; f < 3; f++) {
                    char use[N];
                    for (int i = 0; i < N; i++)
                        use[i] = i < bounds[f] - 2 || i >= bounds[f + 1] + 2;
                    mean += fold_r2(use, bounds[f], bounds[f + 1], alphas[a], j, 1) / 3;
                }
                ck_assert_msg(fabs(cv[a * T + j] - mean) < 1e-7, "solver %d: %.12g, expected "
                              "%.12g", solver, cv[a * T + j], mean);
            }
        /* Groups 0..2 in runs: leave-one-group-out is the same three folds without gap. */
        int64_t groups[N];
        for (int i = 0; i < N; i++) groups[i] = 7 - (i >= 8) - (i >= 16); /* labels 7, 6, 5 */
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_GAP, 0));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 0));
        ck_assert_ok(btfm_model_set_groups(m, groups, N));
        ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
        ck_assert_ok(btfm_model_cv_scores(m, cv, 2 * T));
        double mean = 0;
        for (int f = 0; f < 3; f++) {
            char use[N];
            for (int i = 0; i < N; i++) use[i] = i < bounds[f] || i >= bounds[f + 1];
            mean += fold_r2(use, bounds[f], bounds[f + 1], alphas[1], 2, 1) / 3;
        }
        ck_assert_msg(fabs(cv[T + 2] - mean) < 1e-7, "groups: %.12g, expected %.12g",
                      cv[T + 2], mean);
        /* The chosen alpha is the first best, and the refit uses every sample. */
        double chosen[T];
        ck_assert_ok(btfm_model_alpha(m, chosen, T));
        for (int64_t j = 0; j < T; j++)
            ck_assert_double_eq(chosen[j], cv[T + j] > cv[j] ? alphas[1] : alphas[0]);
        btfm_model_free(m);
    }
}
END_TEST

/* Both routes give the same fit, predictions and predictive deviations when p < n. */
START_TEST(primal_and_dual_agree)
{
    const double alphas[4] = {0.1, 1, 10, 100};
    float pred[2][N * T], sd[2][N * T];
    for (int solver = 1; solver <= 2; solver++) {
        btfm_model *m = ridge(solver, 1);
        ck_assert_ok(btfm_model_set_alphas(m, alphas, 4));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 4));
        ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
        ck_assert_ok(btfm_model_predict(m, pred[solver - 1], X, N, P));
        ck_assert_ok(btfm_model_predict_std(m, sd[solver - 1], X, N, P));
        btfm_model_free(m);
    }
    ck_assert_all(i, N * T, fabs(pred[0][i] - pred[1][i]) < 1e-4 * (1 + fabs(pred[0][i])),
                  "prediction %lld: %g vs %g", (long long)i, pred[0][i], pred[1][i]);
    ck_assert_all(i, N * T, fabs(sd[0][i] - sd[1][i]) < 1e-4 * sd[0][i],
                  "deviation %lld: %g vs %g", (long long)i, sd[0][i], sd[1][i]);
}
END_TEST

/* Delays: a fit with delays {0, 2} equals a fit on the design built by hand. */
START_TEST(delays_build_the_design)
{
    const int32_t delays[2] = {0, 2};
    float design[N * 2 * P];
    for (int i = 0; i < N; i++)
        for (int d = 0; d < 2; d++)
            for (int k = 0; k < P; k++)
                design[i * 2 * P + d * P + k] = i - delays[d] >= 0 ? X[(i - delays[d]) * P + k] : 0;
    btfm_model *a = ridge(0, 2.0), *b = ridge(0, 2.0);
    ck_assert_ok(btfm_model_set_delays(a, delays, 2));
    ck_assert_ok(btfm_model_fit(a, X, N, P, Y, T));
    ck_assert_ok(btfm_model_fit(b, design, N, 2 * P, Y, T));
    float ca[2 * P * T], cb[2 * P * T], pa[N * T], pb[N * T];
    ck_assert_ok(btfm_model_coef(a, ca, 2 * P * T));
    ck_assert_ok(btfm_model_coef(b, cb, 2 * P * T));
    ck_assert_all(i, 2 * P * T, fabs(ca[i] - cb[i]) < 1e-5, "coef %lld", (long long)i);
    ck_assert_ok(btfm_model_predict(a, pa, X, N, P));
    ck_assert_ok(btfm_model_predict(b, pb, design, N, 2 * P));
    ck_assert_all(i, N * T, fabs(pa[i] - pb[i]) < 1e-4, "prediction %lld", (long long)i);
    int64_t nf, nc, no;
    ck_assert_ok(btfm_model_dims(a, &nf, &nc, &no));
    ck_assert(nf == P && nc == 2 * P && no == T);
    btfm_model_free(a);
    btfm_model_free(b);
}
END_TEST

/* The penalized logistic objective's gradient vanishes at the fit (binary, weighted;
 * multinomial with smoothing). */
START_TEST(logistic_is_optimal)
{
    int32_t labels[N];
    double w[N];
    for (int i = 0; i < N; i++) {
        labels[i] = (X[i * P] + 0.5 * X[i * P + 1] + ref_normal() > 1.5) + (i % 4 == 0 && i > 8);
        w[i] = 0.5 + (i % 3);
    }
    for (int run = 0; run < 3; run++) {
        /* two classes by the default solver and by Newton's method alone; three */
        const int K = run < 2 ? 2 : 3, solver = run == 1 ? BTFM_MODEL_NEWTON : 0;
        int32_t lab[N];
        for (int i = 0; i < N; i++) lab[i] = K == 2 ? labels[i] > 0 : labels[i];
        btfm_model *m;
        const double alpha = 2.0, eps = K == 3 ? 0.1 : 0.0;
        ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_LOGISTIC));
        ck_assert_ok(btfm_model_set_alphas(m, &alpha, 1));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_LABEL_SMOOTHING, eps));
        ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_SOLVER, solver));
        if (K == 2) ck_assert_ok(btfm_model_set_sample_weight(m, w, N));
        ck_assert_ok(btfm_model_fit_classes(m, X, N, P, lab));
        ck_assert_int_eq(btfm_model_n_classes(m), K);
        const int nk = K == 2 ? 1 : K;
        float coef[P * 3], prob[N * 3];
        double icpt[3], grad[(P + 1) * 3] = {0};
        ck_assert_ok(btfm_model_coef(m, coef, P * 3));
        ck_assert_ok(btfm_model_intercept(m, icpt, 3));
        ck_assert_ok(btfm_model_predict_proba(m, prob, X, N, P));
        for (int i = 0; i < N; i++)
            for (int k = 0; k < nk; k++) {
                const int cls = K == 2 ? 1 : k;
                const double target = K == 2 ? (lab[i] == 1 ? 1 - eps : eps)
                                             : (lab[i] == k ? 1 - eps : eps / (K - 1));
                const double r = (K == 2 ? w[i] : 1) * (prob[i * K + cls] - target);
                for (int j = 0; j < P; j++) grad[k * (P + 1) + j] += r * X[i * P + j];
                grad[k * (P + 1) + P] += r;
            }
        for (int k = 0; k < nk; k++)
            for (int j = 0; j < P; j++) grad[k * (P + 1) + j] += alpha * coef[j * nk + k];
        ck_assert_all(i, nk * (P + 1), fabs(grad[i]) < 1e-4, "K = %d: gradient %lld is %g", K,
                      (long long)i, grad[i]);
        btfm_model_free(m);
    }
}
END_TEST

/* Cross-validated logistic regression and Bradley-Terry with the folds on two threads
 * (the host lets the library set OpenBLAS's threads) give the same scores, choice and
 * coefficients as on one thread (BTFM_NUM_THREADS=1). */
START_TEST(cv_folds_give_the_same_fit_on_any_thread_count)
{
    enum { n = 400, p = 12, items = 60 };
    static float x[n * p];
    static int32_t lab[n];
    static int64_t pairs[2 * n];
    static float won[n];
    for (int i = 0; i < n; i++) {
        double eta = 0;
        for (int k = 0; k < p; k++) eta += (x[i * p + k] = (float)(ref_normal() + 0.1 * k)) * (k % 3 - 1);
        lab[i] = eta + ref_normal() > 0;
        pairs[2 * i] = i % items;
        pairs[2 * i + 1] = (i * 7 + 3) % items == i % items ? (i + 1) % items : (i * 7 + 3) % items;
        won[i] = ref_uniform() < 0.5 + 0.4 * tanh(x[pairs[2 * i] * p] - x[pairs[2 * i + 1] * p]);
    }
    const double alphas[10] = {1e-3, 1e-2, 0.1, 0.3, 1, 3, 10, 30, 100, 1e3};
    const int previous = btfm_set_blas_thread_control(1);
    for (int type = 0; type < 2; type++) {
        double scores[2][10], coef_d[2][p];
        for (int one = 0; one < 2; one++) {
            if (one) setenv("BTFM_NUM_THREADS", "1", 1);
            btfm_model *m;
            ck_assert_ok(btfm_model_new(&m, type ? BTFM_MODEL_BRADLEY_TERRY : BTFM_MODEL_LOGISTIC));
            ck_assert_ok(btfm_model_set_alphas(m, alphas, 10));
            if (type) ck_assert_ok(btfm_model_fit_pairs(m, x, items, p, pairs, won, n));
            else ck_assert_ok(btfm_model_fit_classes(m, x, n, p, lab));
            unsetenv("BTFM_NUM_THREADS");
            float coef[p];
            ck_assert_ok(btfm_model_cv_scores(m, scores[one], 10));
            ck_assert_ok(btfm_model_coef(m, coef, p));
            for (int k = 0; k < p; k++) coef_d[one][k] = coef[k];
            btfm_model_free(m);
        }
        ck_assert_all(a, 10, scores[0][a] == scores[1][a], "type %d alpha %lld: score %.17g "
                      "on two threads, %.17g on one", type, (long long)a, scores[0][a], scores[1][a]);
        ck_assert_all(k, p, coef_d[0][k] == coef_d[1][k], "type %d coefficient %lld: %g and %g", type, (long long)k, coef_d[0][k],
                      coef_d[1][k]);
    }
    btfm_set_blas_thread_control(previous);
}
END_TEST

/* Bradley-Terry: free item scores recover the simulated ones' order; the Davidson fit's
 * gradient in the weights and in log nu vanishes. */
START_TEST(bradley_terry_is_optimal)
{
    enum { ITEMS = 6, PAIRS = 600 };
    int64_t pairs[2 * PAIRS];
    float outcome[PAIRS];
    const double truth[ITEMS] = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5};
    for (int k = 0; k < PAIRS; k++) {
        int a = k % ITEMS, b = (k / ITEMS + a + 1) % ITEMS;
        if (a == b) b = (a + 1) % ITEMS;
        pairs[2 * k] = a;
        pairs[2 * k + 1] = b;
        double u = ref_uniform(), d = truth[a] - truth[b];
        double pw = exp(d / 2) / (exp(d / 2) + exp(-d / 2) + 0.6);
        double pt = 0.6 / (exp(d / 2) + exp(-d / 2) + 0.6);
        outcome[k] = u < pw ? 1.0f : u < pw + pt ? 0.5f : 0.0f;
    }
    btfm_model *m;
    const double alpha = 0.01;
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_BRADLEY_TERRY));
    ck_assert_ok(btfm_model_set_alphas(m, &alpha, 1));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_TIES, BTFM_TIES_DAVIDSON));
    ck_assert_ok(btfm_model_fit_pairs(m, NULL, ITEMS, 0, pairs, outcome, PAIRS));
    float s[ITEMS];
    double nu;
    ck_assert_ok(btfm_model_predict(m, s, NULL, ITEMS, ITEMS));
    ck_assert_ok(btfm_model_tie_parameter(m, &nu));
    for (int i = 1; i < ITEMS; i++) ck_assert_msg(s[i] > s[i - 1], "scores %g, %g", s[i - 1], s[i]);
    double g[ITEMS + 1] = {0};
    for (int k = 0; k < PAIRS; k++) {
        const int64_t a = pairs[2 * k], b = pairs[2 * k + 1];
        const double u = (s[a] - s[b]) / 2.0, z = exp(u) + exp(-u) + nu;
        const double tw = outcome[k] == 1, tl = outcome[k] == 0, tt = outcome[k] == 0.5f;
        const double gd = 0.5 * ((exp(u) - exp(-u)) / z - (tw - tl));
        g[a] += gd;
        g[b] -= gd;
        g[ITEMS] += nu / z - tt;
    }
    for (int i = 0; i < ITEMS; i++) g[i] += alpha * s[i];
    ck_assert_all(i, ITEMS + 1, fabs(g[i]) < 1e-3, "gradient %lld is %g", (long long)i, g[i]);
    double probs[3];
    ck_assert_ok(btfm_model_predict_pairs(m, probs, NULL, ITEMS, 0, pairs, 1));
    ck_assert_double_eq_tol(probs[0] + probs[1] + probs[2], 1.0, 1e-12);
    btfm_model_free(m);
}
END_TEST

static int cancel_at_half(const char *stage, double fraction, void *user)
{
    (void)stage;
    (*(int *)user)++;
    return fraction > 0.4;
}

/* A failed or cancelled fit keeps the previous one; a saved model predicts the same. */
START_TEST(failures_keep_the_fit_and_saves_round_trip)
{
    const double alphas[3] = {1, 10, 100};
    btfm_model *m = ridge(0, 1);
    ck_assert_ok(btfm_model_set_alphas(m, alphas, 3));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 3));
    ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
    float before[N * T], after[N * T];
    ck_assert_ok(btfm_model_predict(m, before, X, N, P));
    float bad[N * P];
    memcpy(bad, X, sizeof bad);
    bad[7 * P + 3] = NAN;
    ck_assert_status(btfm_model_fit(m, bad, N, P, Y, T), BTFM_E_NUMERIC);
    ck_assert_msg(strstr(btfm_last_error(), "x, column 3, row 7 holds NaN"), "%s",
                  btfm_last_error());
    int calls = 0;
    ck_assert_ok(btfm_model_set_progress(m, cancel_at_half, &calls));
    ck_assert_status(btfm_model_fit(m, X, N, P, Y, T), BTFM_E_CANCELLED);
    ck_assert_int_gt(calls, 1);
    ck_assert_ok(btfm_model_set_progress(m, NULL, NULL));
    ck_assert_ok(btfm_model_predict(m, after, X, N, P));
    ck_assert_all(i, N * T, before[i] == after[i], "prediction %lld changed", (long long)i);
    /* Save to memory and load. */
    size_t size;
    ck_assert_ok(btfm_model_save_buffer(m, NULL, 0, &size));
    unsigned char *buf = malloc(size);
    ck_assert_ok(btfm_model_save_buffer(m, buf, size, &size));
    btfm_model *l;
    ck_assert_ok(btfm_model_load_buffer(&l, buf, size));
    ck_assert_ok(btfm_model_predict(l, after, X, N, P));
    ck_assert_all(i, N * T, before[i] == after[i], "loaded prediction %lld differs", (long long)i);
    double cv[3 * T], cvl[3 * T];
    ck_assert_ok(btfm_model_cv_scores(m, cv, 3 * T));
    ck_assert_ok(btfm_model_cv_scores(l, cvl, 3 * T));
    ck_assert_all(i, 3 * T, cv[i] == cvl[i], "cv score %lld", (long long)i);
    btfm_model_free(l);
    /* A flipped byte is a checksum error; a truncated buffer is refused. */
    buf[size / 2] ^= 0x40;
    ck_assert_int_ne(btfm_model_load_buffer(&l, buf, size), BTFM_OK);
    ck_assert_ptr_null(l);
    buf[size / 2] ^= 0x40;
    ck_assert_int_ne(btfm_model_load_buffer(&l, buf, size - 9), BTFM_OK);
    free(buf);
    btfm_model_free(m);
}
END_TEST

/* A container of kind "model" whose arrays disagree with its header is refused. */
START_TEST(inconsistent_files_are_refused)
{
    btfm_model *m = ridge(1, 1);
    ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
    size_t size;
    ck_assert_ok(btfm_model_save_buffer(m, NULL, 0, &size));
    void *buf = malloc(size);
    ck_assert_ok(btfm_model_save_buffer(m, buf, size, &size));
    btfm_container *c, *d;
    ck_assert_ok(btfm_container_load_buffer(&c, buf, size, "model"));
    /* Rebuild it with one scale negative, then with a coefficient array too short. */
    for (int variant = 0; variant < 2; variant++) {
        ck_assert_ok(btfm_container_new(&d, "model"));
        for (int k = 0; k < btfm_container_count(c); k++) {
            const char *name;
            int dtype, ndim;
            int64_t shape[8];
            const void *data;
            size_t nbytes;
            ck_assert_ok(btfm_container_array_info(c, k, &name, &dtype, &ndim, shape));
            ck_assert_ok(btfm_container_array_data(c, k, &data, &nbytes));
            void *copy = malloc(nbytes ? nbytes : 1);
            memcpy(copy, data, nbytes);
            if (variant == 0 && strcmp(name, "scale") == 0) ((double *)copy)[2] = -1;
            if (variant == 1 && strcmp(name, "coef") == 0) shape[0]--;
            ck_assert_ok(btfm_container_put(d, name, dtype, ndim, shape, copy));
            free(copy);
        }
        size_t dsize;
        ck_assert_ok(btfm_container_save_buffer(d, NULL, 0, &dsize));
        void *dbuf = malloc(dsize);
        ck_assert_ok(btfm_container_save_buffer(d, dbuf, dsize, &dsize));
        btfm_model *l;
        ck_assert_status(btfm_model_load_buffer(&l, dbuf, dsize), BTFM_E_FORMAT);
        ck_assert_msg(strstr(btfm_last_error(), variant == 0 ? "scale" : "coef"), "%s",
                      btfm_last_error());
        free(dbuf);
        btfm_container_free(d);
    }
    btfm_container_free(c);
    free(buf);
    btfm_model_free(m);
}
END_TEST

static void expect_error(btfm_status st, btfm_status expected, const char *needle)
{
    ck_assert_msg(st == expected, "status %s (%s), expected %s", btfm_status_name(st),
                  btfm_last_error(), btfm_status_name(expected));
    ck_assert_msg(strstr(btfm_last_error(), needle), "message \"%s\" lacks \"%s\"",
                  btfm_last_error(), needle);
}

/* Every bad input names its argument. */
START_TEST(bad_inputs_name_the_argument)
{
    const double alphas[2] = {1, 10};
    btfm_model *m = ridge(0, 1);
    ck_assert_ok(btfm_model_set_alphas(m, alphas, 2));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 30));
    expect_error(btfm_model_fit(m, X, N, P, Y, T), BTFM_E_INVALID, "cv is 30 folds");
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 3));
    float flat[N * T];
    memcpy(flat, Y, sizeof flat);
    for (int i = 0; i < N; i++) flat[i * T + 1] = 4.5f;
    expect_error(btfm_model_fit(m, X, N, P, flat, T), BTFM_E_INVALID, "y: target 1 is constant");
    int64_t groups[N];
    for (int i = 0; i < N; i++) groups[i] = 3;
    ck_assert_ok(btfm_model_set_groups(m, groups, N));
    expect_error(btfm_model_fit(m, X, N, P, Y, T), BTFM_E_INVALID, "groups: every sample is in group 3");
    groups[5] = 9;
    ck_assert_ok(btfm_model_set_groups(m, groups, N));
    expect_error(btfm_model_fit(m, X, N, P, Y, T), BTFM_E_INVALID, "group 9 has 1 sample");
    ck_assert_ok(btfm_model_set_groups(m, groups, N - 1));
    expect_error(btfm_model_fit(m, X, N, P, Y, T), BTFM_E_INVALID, "groups has 22 entries");
    ck_assert_ok(btfm_model_set_groups(m, NULL, 0));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_GAP, 2));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 0));
    expect_error(btfm_model_fit(m, X, N, P, Y, T), BTFM_E_INVALID, "gap is 2");
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_GAP, 0));
    float out[N * T];
    expect_error(btfm_model_predict(m, out, X, N, P), BTFM_E_STATE, "not fitted");
    ck_assert_ok(btfm_model_fit(m, X, N, P, Y, T));
    expect_error(btfm_model_predict(m, out, X, N, P - 1), BTFM_E_INVALID, "x has 4 features");
    expect_error(btfm_model_set_alphas(m, (const double[]){1, -2}, 2), BTFM_E_INVALID, "alphas[1]");
    expect_error(btfm_model_set_sample_weight(m, (const double[]){1, NAN}, 2), BTFM_E_INVALID,
                 "weights[1]");
    expect_error(btfm_model_fit_classes(m, X, N, P, (const int32_t[N]){0}), BTFM_E_STATE,
                 "only a logistic model");
    btfm_model_free(m);
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_LOGISTIC));
    int32_t labels[N];
    for (int i = 0; i < N; i++) labels[i] = i % 2 ? 2 : 0;
    expect_error(btfm_model_fit_classes(m, X, N, P, labels), BTFM_E_INVALID, "class 1 never occurs");
    btfm_model_free(m);
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_BRADLEY_TERRY));
    const int64_t pairs[4] = {0, 1, 2, 2};
    expect_error(btfm_model_fit_pairs(m, NULL, 3, 0, pairs, NULL, 2), BTFM_E_INVALID, "pairs[1]");
    btfm_model_free(m);
    expect_error(btfm_model_new(&m, 9), BTFM_E_INVALID, "unknown type 9");
}
END_TEST

/* The folds themselves: KFold sizes (n % k leading folds one larger), gaps, groups. */
START_TEST(splits_follow_kfold_and_groups)
{
    btfm_model *m;
    ck_assert_ok(btfm_model_new(&m, BTFM_MODEL_RIDGE));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 3));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_GAP, 1));
    model_splits s;
    ck_assert_ok(btfm_model_make_splits(m, 10, 1, 1, &s, "test"));
    ck_assert_int_eq(s.n_folds, 3);
    const int64_t starts[4] = {0, 4, 7, 10};
    for (int f = 0; f < 3; f++) {
        ck_assert_int_eq(s.test_start[f + 1] - s.test_start[f], starts[f + 1] - starts[f]);
        ck_assert_int_eq(s.test[s.test_start[f]], starts[f]);
    }
    /* Fold 1 tests 4..6 and leaves out 3 and 7. */
    ck_assert_int_eq(s.gap_start[2] - s.gap_start[1], 2);
    ck_assert(!btfm_model_in_train(&s, 1, 3) && !btfm_model_in_train(&s, 1, 7));
    ck_assert(btfm_model_in_train(&s, 1, 2) && btfm_model_in_train(&s, 1, 8));
    btfm_model_splits_clear(&s);
    /* Groups in two folds: whole groups, contiguous in order of appearance. */
    const int64_t groups[10] = {5, 5, 2, 2, 2, 9, 9, 1, 1, 1};
    ck_assert_ok(btfm_model_set_groups(m, groups, 10));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 2));
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_GAP, 0));
    ck_assert_ok(btfm_model_make_splits(m, 10, 1, 1, &s, "test"));
    ck_assert_int_eq(s.test_start[1], 5); /* groups 5 and 2 first */
    btfm_model_splits_clear(&s);
    /* Leave-one-group-out: folds in the order of the sorted labels (1, 2, 5, 9). */
    ck_assert_ok(btfm_model_set_param(m, BTFM_MODEL_PARAM_CV, 0));
    ck_assert_ok(btfm_model_make_splits(m, 10, 1, 1, &s, "test"));
    ck_assert_int_eq(s.n_folds, 4);
    ck_assert_int_eq(s.test[s.test_start[0]], 7);
    ck_assert_int_eq(s.test[s.test_start[3]], 5);
    btfm_model_splits_clear(&s);
    btfm_model_free(m);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_add_checked_fixture(tc, setup, NULL);
    unit_set_timeout(tc, 2);
    tcase_add_test(tc, ridge_matches_normal_equations);
    tcase_add_test(tc, leave_one_out_matches_refits);
    tcase_add_test(tc, kfold_gap_and_groups_match_refits);
    tcase_add_test(tc, primal_and_dual_agree);
    tcase_add_test(tc, delays_build_the_design);
    tcase_add_test(tc, logistic_is_optimal);
    tcase_add_test(tc, bradley_terry_is_optimal);
    tcase_add_test(tc, cv_folds_give_the_same_fit_on_any_thread_count);
    tcase_add_test(tc, failures_keep_the_fit_and_saves_round_trip);
    tcase_add_test(tc, inconsistent_files_are_refused);
    tcase_add_test(tc, bad_inputs_name_the_argument);
    tcase_add_test(tc, splits_follow_kfold_and_groups);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(model_suite)
