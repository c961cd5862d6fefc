/* Unit tests of the aligner: Procrustes against exact ground truths, each method on a
 * simulated shared response (known S and layouts), metrics against brute force, errors,
 * persistence. Interop against SciPy/NumPy references lives in tests/align/. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <cblas.h>
#include <stdio.h>
#include <unistd.h>
#include "unit.h"
#include "container_edit.h"
#include "progress_watch.h"
#include "align_sim.h"
#include "align/align_internal.h"

enum { NS = 4, T_TRAIN = 240, T_TEST = 160, VS = 60, KS = 5 };

/* A simulation: training and test data of NS subjects with V features each. */
typedef struct sim {
    float *train[NS + 1], *test[NS + 1];
    double *s_train, *s_test;
} sim;

static void sim_make(sim *m, int n_subjects, double noise)
{
    m->s_train = malloc(sizeof(double) * T_TRAIN * KS);
    m->s_test = malloc(sizeof(double) * T_TEST * KS);
    sim_shared(m->s_train, T_TRAIN, KS);
    sim_shared(m->s_test, T_TEST, KS);
    double *w = malloc(sizeof(double) * VS * KS);
    for (int i = 0; i < n_subjects; i++) {
        sim_layout(w, VS, KS);
        m->train[i] = malloc(sizeof(float) * T_TRAIN * VS);
        m->test[i] = malloc(sizeof(float) * T_TEST * VS);
        sim_subject(m->train[i], m->s_train, w, T_TRAIN, VS, KS, 1.0, noise);
        sim_subject(m->test[i], m->s_test, w, T_TEST, VS, KS, 1.0, noise);
    }
    free(w);
}

static void sim_free(sim *m, int n_subjects)
{
    for (int i = 0; i < n_subjects; i++) {
        free(m->train[i]);
        free(m->test[i]);
    }
    free(m->s_train);
    free(m->s_test);
}

static double mean_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

/* Segment matching of the test data after the fitted aligner's transforms. */
static double aligned_accuracy(const btfm_aligner *a, const sim *m, int n_subjects)
{
    int64_t K;
    ck_assert_ok(btfm_aligner_n_components(a, &K));
    float *all = malloc(sizeof(float) * (size_t)(n_subjects * T_TEST * K));
    for (int i = 0; i < n_subjects; i++)
        ck_assert_ok(btfm_aligner_transform(a, i, m->test[i], T_TEST, VS,
                                            all + (size_t)i * T_TEST * (size_t)K));
    double acc[NS + 1];
    ck_assert_ok(btfm_align_segment_matching(all, n_subjects, T_TEST, K, 10, acc));
    free(all);
    return mean_of(acc, n_subjects);
}

static double anatomical_accuracy(const sim *m)
{
    float *all = malloc(sizeof(float) * NS * T_TEST * VS);
    for (int i = 0; i < NS; i++) memcpy(all + (size_t)i * T_TEST * VS, m->test[i],
                                        sizeof(float) * T_TEST * VS);
    double acc[NS];
    ck_assert_ok(btfm_align_segment_matching(all, NS, T_TEST, VS, 10, acc));
    free(all);
    return mean_of(acc, NS);
}

static btfm_aligner *fit(int method, const sim *m, int n_subjects, int64_t k)
{
    btfm_aligner *a;
    ck_assert_ok(btfm_aligner_new(&a, method));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, (double)k));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_MAX_ITER, 30));
    for (int i = 0; i < n_subjects; i++)
        ck_assert_ok(btfm_aligner_add_subject(a, m->train[i], T_TRAIN, VS));
    ck_assert_ok(btfm_aligner_fit(a));
    return a;
}

/* --- Procrustes against exact answers ------------------------------------------ */

/* x (T x V) := centered standard normal draws, as the aligner centers its sources. */
static void centered_normal(double *x, int64_t T, int64_t V)
{
    for (int64_t j = 0; j < T * V; j++) x[j] = sim_normal();
    for (int64_t f = 0; f < V; f++) {
        double mean = 0;
        for (int64_t t = 0; t < T; t++) mean += x[t * V + f];
        for (int64_t t = 0; t < T; t++) x[t * V + f] -= mean / (double)T;
    }
}

/* The Procrustes source factor f = u diag(s) of a thin SVD (freed by the caller). */
static double *svd_factor(const double *u, const double *s, int64_t T, int64_t rank)
{
    double *f = malloc(sizeof(double) * (size_t)(T * rank));
    for (int64_t t = 0; t < T; t++)
        for (int64_t k = 0; k < rank; k++) f[t * rank + k] = u[t * rank + k] * s[k];
    return f;
}

/* Source X (T x V) random, target Y = c X Q for a known orthogonal Q: the solution maps
 * X exactly onto Y with scale c. */
static void check_exact_procrustes(int64_t T, int64_t V, int flip)
{
    double *x = malloc(sizeof(double) * (size_t)(T * V));
    double *q = malloc(sizeof(double) * (size_t)(V * V));
    double *y = calloc((size_t)(T * V), sizeof(double));
    double *mapped = malloc(sizeof(double) * (size_t)(T * V));
    centered_normal(x, T, V);
    sim_layout(q, V, V);
    if (flip)
        for (int64_t v = 0; v < V; v++) q[v * V] = -q[v * V];
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < V; j++)
            for (int64_t k = 0; k < V; k++) y[t * V + j] += 2.5 * x[t * V + k] * q[k * V + j];
    double *u, *s;
    int64_t rank;
    double v_det;
    ck_assert_ok(btfm_dense_thin_svd(x, T, V, &u, &s, NULL, &rank, &v_det, "aligner"));
    double *f = svd_factor(u, s, T, rank);
    align_source src = {f, T, rank, V, v_det, NULL, NULL, 0.0};
    align_rotation rot;
    ck_assert_ok(btfm_align_procrustes(&src, y, V, 1, 1, &rot));
    ck_assert_ok(btfm_align_rotation_apply(&src, &rot, V, mapped));
    ck_assert_double_eq_tol(rot.scale, 2.5, 1e-9);
    for (int64_t j = 0; j < T * V; j++) ck_assert_double_eq_tol(mapped[j], y[j], 1e-8);
    btfm_align_rotation_clear(&rot);
    btfm_free(u); /* thin-SVD outputs come from the library allocator */
    free(f);
    btfm_free(s);
    free(x);
    free(q);
    free(y);
    free(mapped);
}

/* The single-precision route (T x T Gram of the target, used when T <= V) on the same
 * exact problems: X maps onto Y = 2.5 X Q to float accuracy, and its factored rotation
 * reproduces the same image. `x_rank` > 0 makes X (and so Y) of that rank: the target's
 * Gram matrix is then singular on the centered vectors (no Cholesky factor) and X^T Y
 * rank deficient (the minimum-norm solution). */
static void check_exact_procrustes_float(int64_t T, int64_t V, int64_t x_rank)
{
    double *x = malloc(sizeof(double) * (size_t)(T * V));
    double *q = malloc(sizeof(double) * (size_t)(V * V));
    double *y = calloc((size_t)(T * V), sizeof(double));
    float *yf = malloc(sizeof(float) * (size_t)(T * V));
    float *mapped = malloc(sizeof(float) * (size_t)(T * V));
    double *again = malloc(sizeof(double) * (size_t)(T * V));
    if (x_rank > 0) {
        double *low = malloc(sizeof(double) * (size_t)(T * x_rank));
        centered_normal(low, T, x_rank);
        double *mix = malloc(sizeof(double) * (size_t)(x_rank * V));
        for (int64_t j = 0; j < x_rank * V; j++) mix[j] = sim_normal();
        for (int64_t t = 0; t < T; t++)
            for (int64_t v = 0; v < V; v++) {
                double sum = 0;
                for (int64_t k = 0; k < x_rank; k++)
                    sum += low[t * x_rank + k] * mix[k * V + v];
                x[t * V + v] = sum;
            }
        free(low);
        free(mix);
    } else {
        centered_normal(x, T, V);
    }
    sim_layout(q, V, V);
    double ymax = 0;
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < V; j++) {
            for (int64_t k = 0; k < V; k++) y[t * V + j] += 2.5 * x[t * V + k] * q[k * V + j];
            yf[t * V + j] = (float)y[t * V + j];
            if (fabs(y[t * V + j]) > ymax) ymax = fabs(y[t * V + j]);
        }
    double *u, *s;
    int64_t rank;
    double v_det;
    ck_assert_ok(btfm_dense_thin_svd(x, T, V, &u, &s, NULL, &rank, &v_det, "aligner"));
    ck_assert_int_eq(rank, x_rank > 0 ? x_rank : T - 1); /* centered: one less than T */
    double *f = svd_factor(u, s, T, rank);
    align_source src = {f, T, rank, V, v_det, NULL, NULL, 0.0};
    align_rotation rot;
    ck_assert_ok(btfm_align_procrustes_float(&src, yf, V, NULL, 1, 1, mapped, NULL, NULL, &rot, NULL));
    ck_assert_int_eq(rot.rank, rank);
    ck_assert_double_eq_tol(rot.scale, 2.5, 1e-5);
    for (int64_t j = 0; j < T * V; j++) ck_assert_double_eq_tol(mapped[j], y[j], 1e-4 * ymax);
    ck_assert_ok(btfm_align_rotation_apply(&src, &rot, V, again));
    for (int64_t j = 0; j < T * V; j++) ck_assert_double_eq_tol(again[j], y[j], 1e-4 * ymax);
    btfm_align_rotation_clear(&rot);
    btfm_free(u);
    free(f);
    btfm_free(s);
    free(x);
    free(q);
    free(y);
    free(yf);
    free(mapped);
    free(again);
}

START_TEST(procrustes_float_recovers_known_rotation)
{
    check_exact_procrustes_float(12, 50, 0);
    check_exact_procrustes_float(40, 90, 0);
    check_exact_procrustes_float(40, 90, 6);
}
END_TEST

START_TEST(procrustes_recovers_known_rotation)
{
    check_exact_procrustes(40, 6, 0);  /* T > V: a unique full rotation */
    check_exact_procrustes(12, 50, 0); /* T < V: only T-sized problems */
    check_exact_procrustes(40, 6, 1);  /* a reflection, allowed by default */
}
END_TEST

/* With reflections disallowed and a target that is a reflected copy, the proper
 * rotation found has determinant +1 and a scale from the sign-corrected singular
 * values: trace(D diag(1,..,1,-1)) / ||X||^2, computed here from an independent LAPACK
 * SVD of X^T Y. */
START_TEST(procrustes_without_reflection)
{
    const int64_t T = 30, V = 4;
    double x[30 * 4], y[30 * 4] = {0}, q[16], mapped[30 * 4];
    centered_normal(x, T, V);
    sim_layout(q, V, V);
    double det_q;
    ck_assert_ok(btfm_dense_det(q, V, &det_q, "aligner"));
    if (det_q > 0) /* make Q a reflection */
        for (int64_t v = 0; v < V; v++) q[v * V + 1] = -q[v * V + 1];
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < V; j++)
            for (int64_t k = 0; k < V; k++)
                y[t * V + j] += x[t * V + k] * q[k * V + j] + 0.05 * (k == j) * sim_normal();
    double *u, *s;
    int64_t rank;
    double v_det;
    ck_assert_ok(btfm_dense_thin_svd(x, T, V, &u, &s, NULL, &rank, &v_det, "aligner"));
    double *f = svd_factor(u, s, T, rank);
    align_source src = {f, T, rank, V, v_det, NULL, NULL, 0.0};
    align_rotation rot;
    ck_assert_ok(btfm_align_procrustes(&src, y, V, 1, 0, &rot));
    /* R = v p qt: rebuild it from X's right singular vectors to check det(R) = +1. */
    double *u2, *s2, *v2;
    int64_t rank2;
    double det_v2;
    ck_assert_ok(btfm_dense_thin_svd(x, T, V, &u2, &s2, &v2, &rank2, &det_v2, "aligner"));
    double r[16] = {0}, vp[16] = {0}, det_r;
    for (int i = 0; i < V; i++)
        for (int j = 0; j < V; j++)
            for (int k = 0; k < V; k++) vp[i * V + j] += v2[i * V + k] * rot.p[k * V + j];
    for (int i = 0; i < V; i++)
        for (int j = 0; j < V; j++)
            for (int k = 0; k < V; k++) r[i * V + j] += vp[i * V + k] * rot.qt[k * V + j];
    ck_assert_ok(btfm_dense_det(r, V, &det_r, "aligner"));
    ck_assert_double_eq_tol(det_r, 1.0, 1e-9);
    /* Independent singular values of X^T Y. */
    double xty[16] = {0}, sv[4], uu[16], vt[16], superb[3];
    for (int i = 0; i < V; i++)
        for (int j = 0; j < V; j++)
            for (int t = 0; t < T; t++) xty[i * V + j] += x[t * V + i] * y[t * V + j];
    double det_xty;
    ck_assert_ok(btfm_dense_det(xty, V, &det_xty, "aligner"));
    ck_assert(det_xty < 0); /* the unconstrained optimum is a reflection */
    extern int LAPACKE_dgesvd(int, char, char, int, int, double *, int, double *, double *,
                              int, double *, int, double *);
    ck_assert_int_eq(LAPACKE_dgesvd(101, 'N', 'N', 4, 4, xty, 4, sv, uu, 4, vt, 4, superb), 0);
    double norm2 = 0;
    for (int j = 0; j < T * V; j++) norm2 += x[j] * x[j];
    ck_assert_double_eq_tol(rot.scale, (sv[0] + sv[1] + sv[2] - sv[3]) / norm2, 1e-10);
    ck_assert_ok(btfm_align_rotation_apply(&src, &rot, V, mapped));
    btfm_align_rotation_clear(&rot);
    btfm_free(u); btfm_free(s); free(f); btfm_free(u2); btfm_free(s2); btfm_free(v2);
}
END_TEST

/* --- each method on the simulation --------------------------------------------- */

static void check_method(int method, int64_t k)
{
    sim m;
    sim_make(&m, NS, 0.5);
    btfm_aligner *a = fit(method, &m, NS, k);
    double aligned = aligned_accuracy(a, &m, NS);
    double anatomical = anatomical_accuracy(&m);
    ck_assert_msg(aligned >= 0.95, "%s: segment matching %.3f after alignment",
                  btfm_align_method_name(method), aligned);
    ck_assert_msg(anatomical < 0.2, "anatomical segment matching %.3f is not near chance",
                  anatomical);
    btfm_aligner_free(a);
    sim_free(&m, NS);
}

/* Progress: what a callback sees, and a cancel that leaves the aligner as it was (the
 * truth: a fit of the same subjects by an aligner that was never cancelled). */
static void check_cancel(int method)
{
    sim m;
    sim_make(&m, NS, 0.5);
    btfm_aligner *ref = fit(method, &m, NS, KS), *a;
    ck_assert_ok(btfm_aligner_new(&a, method));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, KS));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_MAX_ITER, 30));
    for (int i = 0; i < NS; i++) ck_assert_ok(btfm_aligner_add_subject(a, m.train[i], T_TRAIN, VS));
    watched w = {0, 2, 0, 0}; /* the start, then stop at the first step */
    ck_assert_ok(btfm_aligner_set_progress(a, watch, &w));
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_CANCELLED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "cancelled by the progress callback"));
    ck_assert_int_eq(w.calls, 2);
    ck_assert_int_eq(btfm_aligner_is_fitted(a), 0);
    int n;
    ck_assert_ok(btfm_aligner_n_subjects(a, &n));
    ck_assert_int_eq(n, NS);
    int iterations;
    double objective;
    ck_assert_status(btfm_aligner_fit_info(a, &iterations, &objective), BTFM_E_STATE);
    /* the same fit afterwards, watched to the end */
    w = (watched){0, 0, 0, 0};
    ck_assert_ok(btfm_aligner_fit(a));
    ck_assert_int_eq(w.backwards, 0);
    ck_assert(w.last == 1.0 && w.calls >= 3 && w.calls <= 210);
    float *x = malloc(sizeof(float) * T_TRAIN * KS * 2), *y = x + T_TRAIN * KS;
    ck_assert_ok(btfm_aligner_common(ref, x, T_TRAIN * KS));
    ck_assert_ok(btfm_aligner_common(a, y, T_TRAIN * KS));
    double worst = 0, scale = 0;
    for (int j = 0; j < T_TRAIN * KS; j++) {
        worst = fmax(worst, fabs(x[j] - y[j]));
        scale = fmax(scale, fabs(x[j]));
    }
    ck_assert_msg(worst <= 1e-4 * scale, "common space differs by %g (scale %g)", worst, scale);
    /* the maps too, with the training means restored: new data of subject 1 */
    float *u = malloc(sizeof(float) * T_TEST * KS * 2), *v = u + T_TEST * KS;
    ck_assert_ok(btfm_aligner_transform(ref, 1, m.test[1], T_TEST, VS, u));
    ck_assert_ok(btfm_aligner_transform(a, 1, m.test[1], T_TEST, VS, v));
    worst = scale = 0;
    for (int j = 0; j < T_TEST * KS; j++) {
        worst = fmax(worst, fabs(u[j] - v[j]));
        scale = fmax(scale, fabs(u[j]));
    }
    ck_assert_msg(worst <= 1e-4 * scale, "transforms differ by %g (scale %g)", worst, scale);
    free(u);
    free(x);
    btfm_aligner_free(ref);
    btfm_aligner_free(a);
    sim_free(&m, NS);
}

START_TEST(hyperalignment_cancel_leaves_the_aligner) { check_cancel(BTFM_ALIGN_HYPERALIGNMENT); }
END_TEST
START_TEST(srm_cancel_leaves_the_aligner) { check_cancel(BTFM_ALIGN_SRM); }
END_TEST
START_TEST(prob_srm_cancel_leaves_the_aligner) { check_cancel(BTFM_ALIGN_PROBABILISTIC_SRM); }
END_TEST

START_TEST(hyperalignment_aligns_simulation) { check_method(BTFM_ALIGN_HYPERALIGNMENT, 0); }
END_TEST
START_TEST(hyperalignment_reduced_aligns_simulation) { check_method(BTFM_ALIGN_HYPERALIGNMENT, KS); }
END_TEST
START_TEST(srm_aligns_simulation) { check_method(BTFM_ALIGN_SRM, KS); }
END_TEST
START_TEST(prob_srm_aligns_simulation) { check_method(BTFM_ALIGN_PROBABILISTIC_SRM, KS); }
END_TEST

/* The fitted shared response spans the true one: regressing it on the true S leaves
 * a small residual (SRM recovers S up to a rotation within the shared space). */
static void check_shared_response(int method)
{
    sim m;
    sim_make(&m, NS, 0.3);
    btfm_aligner *a = fit(method, &m, NS, KS);
    float common[T_TRAIN * KS];
    ck_assert_ok(btfm_aligner_common(a, common, T_TRAIN * KS));
    /* Least squares common ~ S B via normal equations (K x K), per output column. */
    double sts[KS * KS] = {0}, stc[KS * KS] = {0};
    for (int t = 0; t < T_TRAIN; t++)
        for (int i = 0; i < KS; i++)
            for (int j = 0; j < KS; j++) {
                sts[i * KS + j] += m.s_train[t * KS + i] * m.s_train[t * KS + j];
                stc[i * KS + j] += m.s_train[t * KS + i] * common[t * KS + j];
            }
    extern int LAPACKE_dposv(int, char, int, int, double *, int, double *, int);
    ck_assert_int_eq(LAPACKE_dposv(101, 'U', KS, KS, sts, KS, stc, KS), 0);
    double res = 0, tot = 0;
    for (int t = 0; t < T_TRAIN; t++)
        for (int j = 0; j < KS; j++) {
            double pred = 0;
            for (int i = 0; i < KS; i++) pred += m.s_train[t * KS + i] * stc[i * KS + j];
            res += (common[t * KS + j] - pred) * (common[t * KS + j] - pred);
            tot += (double)common[t * KS + j] * common[t * KS + j];
        }
    ck_assert_msg(res / tot < 0.05, "%s: shared response residual %.4f",
                  btfm_align_method_name(method), res / tot);
    int iterations;
    double objective;
    ck_assert_ok(btfm_aligner_fit_info(a, &iterations, &objective));
    ck_assert_int_ge(iterations, 1);
    ck_assert_int_le(iterations, 30);
    btfm_aligner_free(a);
    sim_free(&m, NS);
}

START_TEST(srm_recovers_shared_response) { check_shared_response(BTFM_ALIGN_SRM); }
END_TEST
START_TEST(prob_srm_recovers_shared_response) { check_shared_response(BTFM_ALIGN_PROBABILISTIC_SRM); }
END_TEST

/* A subject added after the fit, from shared-stimulus data alone, lands in the same
 * space: its transformed test data matches the others'. Inverse transform from the
 * common space predicts a subject's own held-out responses. */
static void check_new_subject_and_inverse(int method, int64_t k)
{
    sim m;
    sim_make(&m, NS + 1, 0.3);
    btfm_aligner *a = fit(method, &m, NS, k);
    ck_assert_ok(btfm_aligner_add_subject(a, m.train[NS], T_TRAIN, VS));
    int n;
    ck_assert_ok(btfm_aligner_n_subjects(a, &n));
    ck_assert_int_eq(n, NS + 1);
    double acc = aligned_accuracy(a, &m, NS + 1);
    ck_assert_msg(acc >= 0.95, "%s: accuracy %.3f with the added subject",
                  btfm_align_method_name(method), acc);

    /* Predict subject 1's test data from subject 0's through the common space; compare
     * with the noiseless truth's correlation. */
    int64_t K;
    ck_assert_ok(btfm_aligner_n_components(a, &K));
    float *shared = malloc(sizeof(float) * (size_t)(T_TEST * K));
    float *pred = malloc(sizeof(float) * T_TEST * VS);
    ck_assert_ok(btfm_aligner_transform(a, 0, m.test[0], T_TEST, VS, shared));
    ck_assert_ok(btfm_aligner_inverse_transform(a, 1, shared, T_TEST, K, pred));
    double sxy = 0, sxx = 0, syy = 0;
    for (int j = 0; j < T_TEST * VS; j++) {
        sxy += (double)pred[j] * m.test[1][j];
        sxx += (double)pred[j] * pred[j];
        syy += (double)m.test[1][j] * m.test[1][j];
    }
    double r = sxy / sqrt(sxx * syy);
    /* The signal explains 5/(5 + 0.09*60) of subject 1's variance: r <= ~0.69. */
    /* Signal variance 5 x 4/3 (AR(1) components) against noise 60 x 0.09 gives SNR 1.23.
     * An isometric translation carries subject 0's noise along: r ~ SNR/(1+SNR) = 0.55
     * (hyperalignment, full space); projecting onto the K shared dimensions first
     * drops it: r ~ sqrt(SNR/(1+SNR)) = 0.74 (SRM). Chance is 0. */
    double expected = method == BTFM_ALIGN_HYPERALIGNMENT ? 0.55 : 0.74;
    ck_assert_msg(r > expected - 0.08, "%s: cross-subject prediction r = %.3f, expected "
                  "about %.2f", btfm_align_method_name(method), r, expected);
    free(shared);
    free(pred);
    btfm_aligner_free(a);
    sim_free(&m, NS + 1);
}

START_TEST(srm_new_subject_and_inverse) { check_new_subject_and_inverse(BTFM_ALIGN_SRM, KS); }
END_TEST
START_TEST(hyper_new_subject_and_inverse) { check_new_subject_and_inverse(BTFM_ALIGN_HYPERALIGNMENT, 0); }
END_TEST

/* No scaling, no reflection, a chosen reference and several level-2 passes still align;
 * regularized whitening (which on isotropic noise weighs noise directions up) still
 * aligns far better than anatomy. Its exact values are checked against PyMVPA's
 * algorithm in tests/align/. */
START_TEST(hyperalignment_options)
{
    sim m;
    sim_make(&m, NS, 0.5);
    btfm_aligner *a;
    ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_SCALING, 0));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_REFLECTION, 0));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_LEVEL2_PASSES, 3));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_REFERENCE, 2));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_NUM_THREADS, 1));
    for (int i = 0; i < NS; i++) ck_assert_ok(btfm_aligner_add_subject(a, m.train[i], T_TRAIN, VS));
    ck_assert_ok(btfm_aligner_fit(a));
    double acc = aligned_accuracy(a, &m, NS);
    ck_assert_msg(acc >= 0.95, "accuracy %.3f", acc);
    btfm_aligner_free(a);
    ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_ALPHA, 0.99));
    for (int i = 0; i < NS; i++) ck_assert_ok(btfm_aligner_add_subject(a, m.train[i], T_TRAIN, VS));
    ck_assert_ok(btfm_aligner_fit(a));
    acc = aligned_accuracy(a, &m, NS);
    ck_assert_msg(acc >= 0.5 && anatomical_accuracy(&m) < 0.2, "whitened accuracy %.3f", acc);
    btfm_aligner_free(a);
    sim_free(&m, NS);
}
END_TEST

/* --- persistence ----------------------------------------------------------------- */

START_TEST(save_load_round_trip)
{
    sim m;
    sim_make(&m, NS, 0.5);
    for (int method = 1; method <= 3; method++) {
        btfm_aligner *a = fit(method, &m, NS, KS), *b = NULL, *c = NULL;
        char path[] = "/tmp/btfm-align-XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_ok(btfm_aligner_save(a, path));
        ck_assert_ok(btfm_aligner_load(&b, path));
        unlink(path);
        size_t size = 0, written = 0;
        ck_assert_ok(btfm_aligner_save_buffer(a, NULL, 0, &size));
        void *buf = malloc(size);
        ck_assert_ok(btfm_aligner_save_buffer(a, buf, size, &written));
        ck_assert_ok(btfm_aligner_load_buffer(&c, buf, written));
        free(buf);
        ck_assert_int_eq(btfm_aligner_method(b), method);
        float ya[T_TEST * KS], yb[T_TEST * KS], yc[T_TEST * KS];
        ck_assert_ok(btfm_aligner_transform(a, 2, m.test[2], T_TEST, VS, ya));
        ck_assert_ok(btfm_aligner_transform(b, 2, m.test[2], T_TEST, VS, yb));
        ck_assert_ok(btfm_aligner_transform(c, 2, m.test[2], T_TEST, VS, yc));
        ck_assert_mem_eq(ya, yb, sizeof ya);
        ck_assert_mem_eq(ya, yc, sizeof ya);
        /* A container of another kind is refused. */
        btfm_container *other;
        ck_assert_ok(btfm_container_new(&other, "not-an-aligner"));
        ck_assert_ok(btfm_container_save_buffer(other, NULL, 0, &size));
        buf = malloc(size);
        ck_assert_ok(btfm_container_save_buffer(other, buf, size, &written));
        btfm_aligner *d = NULL;
        ck_assert_status(btfm_aligner_load_buffer(&d, buf, written), BTFM_E_KIND);
        ck_assert_ptr_null(d);
        free(buf);
        btfm_container_free(other);
        btfm_aligner_free(a);
        btfm_aligner_free(b);
        btfm_aligner_free(c);
    }
    sim_free(&m, NS);
}
END_TEST

/* Every field of a loaded model is checked against the shapes and for finiteness before
 * it sizes an allocation: dims whose product is 2^31 or wraps, a NaN in the fit
 * information or in the maps are refused, not loaded as garbage. */
START_TEST(loaded_models_are_validated)
{
    sim m;
    sim_make(&m, 2, 0.5);
    btfm_aligner *a = fit(BTFM_ALIGN_SRM, &m, 2, KS), *b = (btfm_aligner *)1;
    size_t n = 0, size;
    ck_assert_ok(btfm_aligner_save_buffer(a, NULL, 0, &n));
    void *buf = malloc(n);
    ck_assert_ok(btfm_aligner_save_buffer(a, buf, n, &n));
    const int64_t big[2] = {(int64_t)1 << 26, (int64_t)1 << 5}, wraps[2] = {(int64_t)1 << 62, 8};
    const double nan_fit[2] = {NAN, 0.5}, inf_fit[2] = {3, INFINITY}, nan = NAN, neg = -1;
    const struct { const char *name; const void *data; size_t bytes; const char *message; } cases[] = {
        {"dims", big, sizeof big, "array \"common\" is 240 x 5; the model's dimensions say "
                                  "67108864 x 32"},
        {"dims", wraps, sizeof wraps, "the model's dimensions say 4611686018427387904 x 8"},
        {"fit", nan_fit, sizeof nan_fit, "fit information (nan iterations"},
        {"fit", inf_fit, sizeof inf_fit, "objective inf)"},
        {"common", &nan, sizeof nan, "array \"common\", element 0 is nan; expected a finite"},
        {"subject1/a", &nan, sizeof nan, "array \"subject1/a\", element 0 is nan"},
        {"fit_change", &neg, sizeof neg, "final objective change -1"},
        {"fit_history", &nan, sizeof nan, "array \"fit_history\", element 0 is nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        void *bad = container_replace(buf, n, "aligner",
                                      cases[i].name, cases[i].data, cases[i].bytes, &size);
        ck_assert_status(btfm_aligner_load_buffer(&b, bad, size), BTFM_E_FORMAT);
        ck_assert_ptr_null(b);
        ck_assert_msg(strstr(btfm_last_error(), cases[i].message), "%s: %s", cases[i].name,
                      btfm_last_error());
        free(bad);
    }
    /* the history holds one value an iteration: one iteration more in the fit
     * information and the history no longer matches */
    int iterations;
    double objective;
    ck_assert_ok(btfm_aligner_fit_info(a, &iterations, &objective));
    const double more[2] = {iterations + 1, objective};
    void *longer = container_replace(buf, n, "aligner", "fit", more, sizeof more, &size);
    ck_assert_status(btfm_aligner_load_buffer(&b, longer, size), BTFM_E_FORMAT);
    ck_assert_msg(strstr(btfm_last_error(), "array \"fit_history\" is"), "%s", btfm_last_error());
    free(longer);
    /* unchanged, the same file loads */
    void *same = container_replace(buf, n, "aligner", "fit", &nan, 0, &size);
    ck_assert_ok(btfm_aligner_load_buffer(&b, same, size));
    btfm_aligner_free(b);
    free(same);
    free(buf);
    btfm_aligner_free(a);
    sim_free(&m, 2);
}
END_TEST

/* Fits on several threads at once with different thread counts, the library allowed to
 * set OpenBLAS's process-wide thread count for each: every fit gives the template of its
 * one-thread fit alone, and afterwards the count is the host's, however they interleaved. */
typedef struct threaded_fit {
    const sim *m;
    int threads;
    const float *expect; /* the one-thread template, 40 x VS */
    double worst;
} threaded_fit;

static void fit_template(const sim *m, int threads, float *common)
{
    btfm_aligner *a;
    ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_NUM_THREADS, threads));
    for (int i = 0; i < 2; i++) ck_assert_ok(btfm_aligner_add_subject(a, m->train[i], 40, VS));
    ck_assert_ok(btfm_aligner_fit(a));
    ck_assert_ok(btfm_aligner_common(a, common, 40 * VS));
    btfm_aligner_free(a);
}

static void *fit_in_thread(void *arg)
{
    threaded_fit *f = arg;
    float got[40 * VS];
    for (int round = 0; round < UNIT_SIZE(3, 1); round++) {
        fit_template(f->m, f->threads, got);
        for (int j = 0; j < 40 * VS; j++)
            f->worst = fmax(f->worst, fabs((double)got[j] - f->expect[j]));
    }
    return NULL;
}

START_TEST(concurrent_fits_leave_the_blas_thread_count_alone)
{
    sim m;
    sim_make(&m, 2, 0.5);
    const int host = openblas_get_num_threads(), control = btfm_set_blas_thread_control(1);
    static float expect[40 * VS];
    fit_template(&m, 1, expect);
    openblas_set_num_threads(3);
    threaded_fit fits[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        fits[i] = (threaded_fit){&m, 1 + i % 2, expect, 0};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, fit_in_thread, &fits[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    ck_assert_int_eq(openblas_get_num_threads(), 3);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fits[i].worst <= 1e-4, "fit %d on %d threads differs from one thread's by %g",
                      i, fits[i].threads, fits[i].worst);
    openblas_set_num_threads(host);
    btfm_set_blas_thread_control(control);
    sim_free(&m, 2);
}
END_TEST

/* OpenBLAS's thread count as each allocation of a fit sees it: the fit changes it only
 * when the host allowed it, and leaves it as the host set it afterwards either way. */
static struct { atomic_int lo, hi; } blas_seen;

static void *seeing_malloc(size_t n, void *user)
{
    (void)user;
    const int t = openblas_get_num_threads();
    if (t < atomic_load(&blas_seen.lo)) atomic_store(&blas_seen.lo, t);
    if (t > atomic_load(&blas_seen.hi)) atomic_store(&blas_seen.hi, t);
    return malloc(n);
}

static void *seeing_realloc(void *p, size_t n, void *user) { (void)user; return realloc(p, n); }
static void seeing_free(void *p, void *user) { (void)user; free(p); }

START_TEST(blas_thread_count_changes_only_when_allowed)
{
    sim m;
    sim_make(&m, 2, 0.5);
    const int host = openblas_get_num_threads();
    ck_assert_int_eq(btfm_get_blas_thread_control(), 0); /* the default */
    openblas_set_num_threads(3);
    float common[40 * VS];
    for (int allowed = 0; allowed <= 1; allowed++) {
        ck_assert_int_eq(btfm_set_blas_thread_control(allowed), 0);
        atomic_store(&blas_seen.lo, 1000);
        atomic_store(&blas_seen.hi, 0);
        ck_assert_ok(btfm_set_allocator(seeing_malloc, seeing_realloc, seeing_free, NULL));
        fit_template(&m, 2, common);
        ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
        ck_assert_int_eq(atomic_load(&blas_seen.hi), 3);
        ck_assert_int_eq(atomic_load(&blas_seen.lo), allowed ? 1 : 3);
        ck_assert_int_eq(openblas_get_num_threads(), 3);
        ck_assert_int_eq(btfm_set_blas_thread_control(0), allowed);
    }
    openblas_set_num_threads(host);
    sim_free(&m, 2);
}
END_TEST

/* --- metrics against brute force -------------------------------------------------- */

/* Explicit window vectors, mean of the other subjects, Pearson r, BrainIAK's exclusion. */
static double brute_segment_matching(const float *data, int N, int T, int V, int w, int s)
{
    int nseg = T - w, correct = 0;
    double *a = malloc(sizeof(double) * (size_t)(w * V)), *b = malloc(sizeof(double) * (size_t)(w * V));
    for (int i = 0; i < nseg; i++) {
        for (int l = 0; l < w * V; l++) a[l] = data[(size_t)s * T * V + (size_t)(i * V + l)];
        int best = -1;
        double best_r = -INFINITY;
        for (int j = 0; j < nseg; j++) {
            if (abs(i - j) < w && i != j) continue;
            for (int l = 0; l < w * V; l++) {
                b[l] = 0;
                for (int o = 0; o < N; o++)
                    if (o != s) b[l] += data[(size_t)o * T * V + (size_t)(j * V + l)] / (N - 1);
            }
            double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
            for (int l = 0; l < w * V; l++) { ma += a[l]; mb += b[l]; }
            ma /= w * V;
            mb /= w * V;
            for (int l = 0; l < w * V; l++) {
                sab += (a[l] - ma) * (b[l] - mb);
                saa += (a[l] - ma) * (a[l] - ma);
                sbb += (b[l] - mb) * (b[l] - mb);
            }
            double r = sab / sqrt(saa * sbb);
            if (r > best_r) { best_r = r; best = j; }
        }
        correct += best == i;
    }
    free(a);
    free(b);
    return (double)correct / nseg;
}

START_TEST(segment_matching_matches_brute_force)
{
    enum { N = 3, T = 40, V = 4, W = 3 };
    float data[N * T * V];
    for (int j = 0; j < N * T * V; j++) data[j] = (float)sim_normal();
    for (int t = 0; t < T; t++) /* a weak shared component so accuracy is not trivial */
        for (int v = 0; v < V; v++) {
            float c = (float)(0.8 * sim_normal());
            for (int s = 0; s < N; s++) data[(s * T + t) * V + v] += c;
        }
    double acc[N];
    ck_assert_ok(btfm_align_segment_matching(data, N, T, V, W, acc));
    for (int s = 0; s < N; s++)
        ck_assert_double_eq_tol(acc[s], brute_segment_matching(data, N, T, V, W, s), 1e-12);
    ck_assert_status(btfm_align_segment_matching(data, N, T, V, 20, acc), BTFM_E_RANGE);
    ck_assert_status(btfm_align_segment_matching(data, 1, T, V, W, acc), BTFM_E_INVALID);
}
END_TEST

/* Feature 0 identical in all subjects (r = 1). Feature 1 holds a = (1,-1,0,0,0),
 * b = (1,0,-1,0,0), c = (0,1,-1,0,0): pairwise r = 0.5, -0.5, 0.5, so the Fisher-z mean
 * is tanh(atanh(0.5) / 3). */
START_TEST(isc_known_correlations)
{
    enum { N = 3, T = 5, V = 2 };
    const float base[T] = {1, 2, 0, 4, 3};
    const float f1[N][T] = {{1, -1, 0, 0, 0}, {1, 0, -1, 0, 0}, {0, 1, -1, 0, 0}};
    float data[N * T * V];
    for (int s = 0; s < N; s++)
        for (int t = 0; t < T; t++) {
            data[(s * T + t) * V] = base[t];
            data[(s * T + t) * V + 1] = f1[s][t];
        }
    double isc[V];
    ck_assert_ok(btfm_align_isc(data, N, T, V, 1, isc));
    ck_assert_double_eq_tol(isc[0], 1.0, 1e-12);
    ck_assert_double_eq_tol(isc[1], tanh(atanh(0.5) / 3.0), 1e-12);
    /* Leave-one-out: a against (b+c)/2 = (.5,.5,-1,0,0) has r = 0; b against
     * (a+c)/2 = (.5,0,-.5,0,0) has r = 1; c against (a+b)/2 = (1,-.5,-.5,0,0) has
     * r = (-.5+.5)/... = 0 -> tanh(mean(0, inf, 0)) = 1. */
    ck_assert_ok(btfm_align_isc(data, N, T, V, 0, isc));
    ck_assert_double_eq_tol(isc[0], 1.0, 1e-12);
    ck_assert_double_eq_tol(isc[1], 1.0, 1e-12);
    ck_assert_status(btfm_align_isc(data, N, T, V, 2, isc), BTFM_E_INVALID);
}
END_TEST

/* Two classes whose centroids differ in pattern; every subject's samples are the
 * class pattern plus small noise, so classification is perfect; with labels shuffled
 * relative to the patterns of one subject it fails for that subject. */
START_TEST(classification_by_centroids)
{
    enum { N = 3, T = 20, V = 6 };
    const float pattern[2][V] = {{1, -1, 1, -1, 1, -1}, {-1, -1, 1, 1, 0, 0}};
    float data[N * T * V];
    int labels[T];
    for (int t = 0; t < T; t++) labels[t] = t % 2;
    for (int s = 0; s < N; s++)
        for (int t = 0; t < T; t++)
            for (int v = 0; v < V; v++)
                data[(s * T + t) * V + v] =
                    pattern[(s == 2) ? 1 - labels[t] : labels[t]][v] + 0.1f * (float)sim_normal();
    double acc[N];
    ck_assert_ok(btfm_align_classification(data, labels, N, T, V, acc));
    ck_assert_double_eq_tol(acc[2], 0.0, 1e-12); /* its classes are swapped */
    int bad[T];
    memcpy(bad, labels, sizeof bad);
    bad[3] = -1;
    ck_assert_status(btfm_align_classification(data, bad, N, T, V, acc), BTFM_E_RANGE);
    /* Subjects 0 and 1 agree with each other: drop the swapped one. */
    ck_assert_ok(btfm_align_classification(data, labels, 2, T, V, acc));
    ck_assert_double_eq_tol(acc[0], 1.0, 1e-12);
    ck_assert_double_eq_tol(acc[1], 1.0, 1e-12);
}
END_TEST

/* --- bad input ------------------------------------------------------------------ */

START_TEST(bad_input_is_refused)
{
    sim m;
    sim_make(&m, NS, 0.5);
    btfm_aligner *a = NULL;
    ck_assert_status(btfm_aligner_new(&a, 0), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_new(&a, 4), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_new(NULL, 1), BTFM_E_INVALID);
    ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_SRM));
    ck_assert_status(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_TOL, NAN), BTFM_E_RANGE);
    ck_assert_status(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_ALPHA, 1.5), BTFM_E_RANGE);
    ck_assert_status(btfm_aligner_set_param(a, 99, 1), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_add_subject(a, NULL, T_TRAIN, VS), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_STATE);

    /* NaN: named by subject, time point and feature. */
    float *x = malloc(sizeof(float) * T_TRAIN * VS);
    memcpy(x, m.train[0], sizeof(float) * T_TRAIN * VS);
    x[7 * VS + 3] = NAN;
    ck_assert_status(btfm_aligner_add_subject(a, x, T_TRAIN, VS), BTFM_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "subject 0, feature 3, time point 7 holds NaN"));
    /* A constant feature. */
    memcpy(x, m.train[0], sizeof(float) * T_TRAIN * VS);
    for (int t = 0; t < T_TRAIN; t++) x[t * VS + 11] = 2.0f;
    ck_assert_status(btfm_aligner_add_subject(a, x, T_TRAIN, VS), BTFM_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "subject 0: feature 11 is constant"));
    free(x);
    /* Mismatched T names both subjects. */
    ck_assert_ok(btfm_aligner_add_subject(a, m.train[0], T_TRAIN, VS));
    ck_assert_status(btfm_aligner_add_subject(a, m.train[1], T_TRAIN - 1, VS), BTFM_E_INVALID);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "subject 1 has 239 time points but subject 0 has 240"));
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_STATE); /* one subject */
    ck_assert_ok(btfm_aligner_add_subject(a, m.train[1], T_TRAIN, VS));
    /* K larger than T, and than the features. */
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, T_TRAIN + 1));
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "exceeds the 240 time points"));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, VS + 1));
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_RANGE);
    /* Not fitted yet. */
    float out[T_TEST * KS];
    int64_t k;
    ck_assert_status(btfm_aligner_transform(a, 0, m.test[0], T_TEST, VS, out), BTFM_E_STATE);
    ck_assert_status(btfm_aligner_n_components(a, &k), BTFM_E_STATE);
    ck_assert_status(btfm_aligner_save_buffer(a, NULL, 0, &(size_t){0}), BTFM_E_STATE);
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, KS));
    ck_assert_ok(btfm_aligner_fit(a));
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_STATE);
    /* Wrong sizes, subjects and values at transform time. */
    ck_assert_status(btfm_aligner_transform(a, 0, m.test[0], T_TEST, VS - 1, out), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_transform(a, 5, m.test[0], T_TEST, VS, out), BTFM_E_RANGE);
    ck_assert_status(btfm_aligner_transform(a, -1, m.test[0], T_TEST, VS, out), BTFM_E_RANGE);
    ck_assert_status(btfm_aligner_transform(NULL, 0, m.test[0], T_TEST, VS, out), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_inverse_transform(a, 0, out, T_TEST, KS + 1, m.test[0]),
                     BTFM_E_INVALID);
    float bad_shared[2 * KS] = {0};
    bad_shared[KS + 1] = INFINITY;
    float back[2 * VS];
    ck_assert_status(btfm_aligner_inverse_transform(a, 0, bad_shared, 2, KS, back), BTFM_E_NUMERIC);
    /* After the fit, a new subject must match the training length. */
    ck_assert_status(btfm_aligner_add_subject(a, m.test[0], T_TEST, VS), BTFM_E_INVALID);
    ck_assert_status(btfm_aligner_common(a, out, 3), BTFM_E_RANGE);
    btfm_aligner_free(a);
    btfm_aligner_free(NULL);
    ck_assert_int_eq(btfm_aligner_method(NULL), BTFM_E_INVALID);
    sim_free(&m, NS);
}
END_TEST

/* Fewer time points than features (the fMRI shape), where hyperalignment and the SRM
 * take their T x T routes: the SRM maps stay orthonormal, and hyperalignment's reported
 * objective is its definition, the mean squared distance of the aligned training data
 * to the common template. */
START_TEST(wide_data_fits)
{
    enum { N = 3, T = 40, V = 100, K = 4 };
    double *s = malloc(sizeof(double) * T * K), *w = malloc(sizeof(double) * V * K);
    float *x[N];
    sim_shared(s, T, K);
    for (int i = 0; i < N; i++) {
        x[i] = malloc(sizeof(float) * T * V);
        sim_layout(w, V, K);
        sim_subject(x[i], s, w, T, V, K, 1.0, 0.3);
    }
    /* SRM: W_i^T W_i = I, read back through the transform of the identity (plus the
     * subject mean, which the transform removes; zscore off so the scale is 1). */
    btfm_aligner *a;
    ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_SRM));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, K));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_ZSCORE, 0));
    for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_add_subject(a, x[i], T, V));
    ck_assert_ok(btfm_aligner_fit(a));
    float *eye = malloc(sizeof(float) * V * V), *wt = malloc(sizeof(float) * V * K);
    for (int i = 0; i < N; i++) {
        double mean[V] = {0};
        for (int t = 0; t < T; t++)
            for (int f = 0; f < V; f++) mean[f] += x[i][t * V + f] / (double)T;
        for (int r = 0; r < V; r++)
            for (int f = 0; f < V; f++) eye[r * V + f] = (float)((r == f) + mean[f]);
        ck_assert_ok(btfm_aligner_transform(a, i, eye, V, V, wt));
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++) {
                double dot = 0;
                for (int f = 0; f < V; f++) dot += (double)wt[f * K + k] * wt[f * K + l];
                ck_assert_double_eq_tol(dot, k == l, 1e-4);
            }
    }
    btfm_aligner_free(a);
    /* Hyperalignment, full and reduced template, with and without whitening. */
    const double settings[][2] = {{0, 1.0}, {K, 1.0}, {0, 0.9}};
    for (int c = 0; c < 3; c++) {
        ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, settings[c][0]));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_ALPHA, settings[c][1]));
        for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_add_subject(a, x[i], T, V));
        ck_assert_ok(btfm_aligner_fit(a));
        int64_t Kc;
        double objective;
        ck_assert_ok(btfm_aligner_n_components(a, &Kc));
        ck_assert_ok(btfm_aligner_fit_info(a, NULL, &objective));
        float *common = malloc(sizeof(float) * (size_t)(T * Kc));
        float *img = malloc(sizeof(float) * (size_t)(T * Kc));
        ck_assert_ok(btfm_aligner_common(a, common, (size_t)(T * Kc)));
        double sq = 0;
        for (int i = 0; i < N; i++) {
            ck_assert_ok(btfm_aligner_transform(a, i, x[i], T, V, img));
            for (int64_t j = 0; j < T * Kc; j++) sq += (img[j] - common[j]) * (img[j] - common[j]);
        }
        sq /= (double)N * T * (double)Kc;
        ck_assert_msg(fabs(objective - sq) <= 1e-3 * sq, "setting %d: objective %g, "
                      "mean squared distance %g", c, objective, sq);
        /* A reloaded copy (its maps own what the fitted ones may share) transforms the
         * same, after the original is gone. */
        size_t size = 0, written = 0;
        ck_assert_ok(btfm_aligner_save_buffer(a, NULL, 0, &size));
        void *buf = malloc(size);
        ck_assert_ok(btfm_aligner_save_buffer(a, buf, size, &written));
        btfm_aligner *copy;
        ck_assert_ok(btfm_aligner_load_buffer(&copy, buf, written));
        free(buf);
        ck_assert_ok(btfm_aligner_transform(a, 1, x[1], T, V, common));
        btfm_aligner_free(a);
        a = copy;
        ck_assert_ok(btfm_aligner_transform(a, 1, x[1], T, V, img));
        ck_assert_mem_eq(common, img, sizeof(float) * (size_t)(T * Kc));
        free(common);
        free(img);
        btfm_aligner_free(a);
    }
    /* n_features = T is allowed by the time points but not by the rank of the centered
     * template (T - 1). */
    ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, T));
    for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_add_subject(a, x[i], T, V));
    ck_assert_status(btfm_aligner_fit(a), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "exceeds the rank of the common template"));
    ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_N_FEATURES, T - 1));
    ck_assert_ok(btfm_aligner_fit(a));
    btfm_aligner_free(a);
    for (int i = 0; i < N; i++) free(x[i]);
    free(eye);
    free(wt);
    free(s);
    free(w);
}
END_TEST

/* A thread-safe allocator that fails once `budget` calls have been served (-1: never),
 * so failures also strike inside the fit's worker threads. */
static struct { atomic_long calls, live; long budget; } pool;

static void *pool_malloc(size_t n, void *user)
{
    (void)user;
    if (pool.budget >= 0 && atomic_fetch_add(&pool.calls, 1) >= pool.budget) return NULL;
    void *p = malloc(n);
    if (p) atomic_fetch_add(&pool.live, 1);
    return p;
}
static void *pool_realloc(void *p, size_t n, void *user)
{
    (void)user;
    if (pool.budget >= 0 && atomic_fetch_add(&pool.calls, 1) >= pool.budget) return NULL;
    return realloc(p, n);
}
static void pool_free(void *p, void *user)
{
    (void)user;
    if (p) atomic_fetch_sub(&pool.live, 1);
    free(p);
}

/* Hyperalignment's per-subject phases run on num_threads threads: every thread count
 * gives the template of the one-thread fit, and an allocation failure anywhere (worker
 * threads included) fails the fit with BTFM_E_NOMEM, leaks nothing, and leaves the
 * training data as added, so the same handle then refits to that same template. */
START_TEST(hyperalignment_threads_agree_and_fail_cleanly)
{
    enum { N = 4, T = 40, V = 90, K = 3 };
    double *s = malloc(sizeof(double) * T * K), *w = malloc(sizeof(double) * V * K);
    float *x[N], *expect = malloc(sizeof(float) * T * V), *got = malloc(sizeof(float) * T * V);
    sim_shared(s, T, K);
    for (int i = 0; i < N; i++) {
        x[i] = malloc(sizeof(float) * T * V);
        sim_layout(w, V, K);
        sim_subject(x[i], s, w, T, V, K, 1.0, 0.3);
    }
    const int threads[] = {1, 2, 3, 0};
    const int control = btfm_set_blas_thread_control(1); /* the library's own threads */
    for (int c = 0; c < 4; c++) {
        btfm_aligner *a;
        ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_NUM_THREADS, threads[c]));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_LEVEL2_PASSES, 2));
        for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_add_subject(a, x[i], T, V));
        ck_assert_ok(btfm_aligner_fit(a));
        ck_assert_ok(btfm_aligner_common(a, c == 0 ? expect : got, (size_t)(T * V)));
        for (int64_t j = 0; c > 0 && j < T * V; j++)
            ck_assert_double_eq_tol(got[j], expect[j], 1e-4);
        btfm_aligner_free(a);
    }
    ck_assert_ok(btfm_set_allocator(pool_malloc, pool_realloc, pool_free, NULL));
    int failures = 0, succeeded = 0;
    const long step = UNIT_SIZE(7, 41); /* a failure at every 7th (41st) allocation */
    for (long budget = 0; budget < 2000 && !succeeded; budget += step) {
        btfm_aligner *a = NULL;
        atomic_store(&pool.calls, 0);
        atomic_store(&pool.live, 0);
        pool.budget = -1;
        ck_assert_ok(btfm_aligner_new(&a, BTFM_ALIGN_HYPERALIGNMENT));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_NUM_THREADS, 2));
        ck_assert_ok(btfm_aligner_set_param(a, BTFM_ALIGNER_PARAM_LEVEL2_PASSES, 2));
        for (int i = 0; i < N; i++) ck_assert_ok(btfm_aligner_add_subject(a, x[i], T, V));
        atomic_store(&pool.calls, 0);
        pool.budget = budget;
        btfm_status st = btfm_aligner_fit(a);
        pool.budget = -1;
        ck_assert_msg(st == BTFM_OK || st == BTFM_E_NOMEM, "budget %ld: %s", budget,
                      btfm_last_error());
        if (st == BTFM_E_NOMEM) {
            failures++;
            ck_assert_ptr_nonnull(strstr(btfm_last_error(), "allocate"));
            ck_assert_ok(btfm_aligner_fit(a)); /* the same data, restored */
        } else {
            succeeded = 1;
        }
        ck_assert_ok(btfm_aligner_common(a, got, (size_t)(T * V)));
        ck_assert_all(j, T * V, fabs(got[j] - expect[j]) <= 1e-4, "budget %ld (%s): "
                      "common[%lld] = %g, expected %g", budget, st ? "refit" : "fit",
                      (long long)j, (double)got[j], (double)expect[j]);
        btfm_aligner_free(a);
        ck_assert_msg(atomic_load(&pool.live) == 0, "budget %ld leaked %ld blocks", budget,
                      (long)atomic_load(&pool.live));
    }
    ck_assert(succeeded);
    ck_assert_int_gt(failures, UNIT_SIZE(10, 2));
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
    btfm_set_blas_thread_control(control);
    for (int i = 0; i < N; i++) free(x[i]);
    free(expect);
    free(got);
    free(s);
    free(w);
}
END_TEST

START_TEST(params_are_registered)
{
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_ALIGNER), "aligner");
    ck_assert_int_eq(btfm_param_count(BTFM_OBJECT_ALIGNER), ALIGNER_PARAM_COUNT);
    int p;
    ck_assert_ok(btfm_param_find(BTFM_OBJECT_ALIGNER, "level2_passes", &p));
    ck_assert_int_eq(p, BTFM_ALIGNER_PARAM_LEVEL2_PASSES);
    ck_assert(btfm_has_capability("align"));
    ck_assert_str_eq(btfm_align_method_name(BTFM_ALIGN_PROBABILISTIC_SRM), "probabilistic_srm");
    ck_assert_ptr_null(btfm_align_method_name(0));
}
END_TEST

static Suite *align_suite(void)
{
    Suite *s = suite_create("align");
    TCase *tc = tcase_create("align");
    unit_set_timeout(tc, 2.0); /* seconds of work on an idle machine */
    tcase_add_test(tc, procrustes_recovers_known_rotation);
    tcase_add_test(tc, procrustes_without_reflection);
    tcase_add_test(tc, procrustes_float_recovers_known_rotation);
    tcase_add_test(tc, hyperalignment_aligns_simulation);
    tcase_add_test(tc, hyperalignment_cancel_leaves_the_aligner);
    tcase_add_test(tc, srm_cancel_leaves_the_aligner);
    tcase_add_test(tc, prob_srm_cancel_leaves_the_aligner);
    tcase_add_test(tc, hyperalignment_reduced_aligns_simulation);
    tcase_add_test(tc, srm_aligns_simulation);
    tcase_add_test(tc, prob_srm_aligns_simulation);
    tcase_add_test(tc, srm_recovers_shared_response);
    tcase_add_test(tc, prob_srm_recovers_shared_response);
    tcase_add_test(tc, srm_new_subject_and_inverse);
    tcase_add_test(tc, hyper_new_subject_and_inverse);
    tcase_add_test(tc, hyperalignment_options);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, loaded_models_are_validated);
    tcase_add_test(tc, concurrent_fits_leave_the_blas_thread_count_alone);
    tcase_add_test(tc, blas_thread_count_changes_only_when_allowed);
    tcase_add_test(tc, segment_matching_matches_brute_force);
    tcase_add_test(tc, isc_known_correlations);
    tcase_add_test(tc, classification_by_centroids);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, wide_data_fits);
    tcase_add_test(tc, params_are_registered);
    tcase_add_test(tc, hyperalignment_threads_agree_and_fail_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(align_suite)
