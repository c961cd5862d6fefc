/* Unit tests of the fMRI layer (include/btfm/glm.h) against closed forms: the HRF's
 * normalization and its sampling on the design grid, DCT orthonormality, plateaus of
 * long blocks, exact fits, the one-sample t test, per-event betas of disjoint events,
 * cleaning of signals whose answer is known; and every error path. Comparisons with
 * NumPy/SciPy references live in tests/glm/. */
#include <math.h>
#include <stdio.h>
#include "unit.h"
#include "progress_watch.h"

/* A deterministic standard normal stream (Box-Muller on a 64-bit LCG). */
static uint64_t rng_state = 42;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void)
{
    return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static void assert_message(const char *needle)
{
    ck_assert_msg(strstr(btfm_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"",
                  btfm_last_error(), needle);
}

START_TEST(hrf_normalized_and_peaks_at_5s)
{
    int64_t n;
    ck_assert_ok(btfm_glm_hrf(BTFM_HRF_SPM, 1.0, 100, 32.0, 0.0, NULL, 0, &n));
    ck_assert_int_eq(n, 3200);
    double *h = malloc(sizeof(double) * (size_t)n);
    ck_assert_ok(btfm_glm_hrf(BTFM_HRF_SPM, 1.0, 100, 32.0, 0.0, h, (size_t)n, &n));
    double sum = 0;
    int64_t peak = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += h[i];
        if (h[i] > h[peak]) peak = i;
    }
    ck_assert_double_eq_tol(sum, 1.0, 1e-12);
    /* gamma(6, 1) has its mode at 5 s; the density is shifted by dt = 0.01 s and the
     * grid spacing is 32 / 3199 s. */
    ck_assert_double_eq_tol(peak * 32.0 / 3199.0, 5.01, 0.011);
    /* The time derivative is (h(onset) - h(onset + 0.1)) / 0.1 by definition. */
    double *d = malloc(sizeof(double) * (size_t)n), *h2 = malloc(sizeof(double) * (size_t)n);
    ck_assert_ok(btfm_glm_hrf(BTFM_HRF_SPM_TIME_DERIVATIVE, 1.0, 100, 32.0, 0.0, d, (size_t)n, &n));
    ck_assert_ok(btfm_glm_hrf(BTFM_HRF_SPM, 1.0, 100, 32.0, 0.1, h2, (size_t)n, &n));
    for (int64_t i = 0; i < n; i++) ck_assert_double_eq_tol(d[i], (h[i] - h2[i]) / 0.1, 1e-12);
    free(h);
    free(h2);
    free(d);
}
END_TEST

START_TEST(cosine_drift_is_orthonormal)
{
    const int64_t n = 300;
    int64_t cols;
    ck_assert_ok(btfm_glm_cosine_drift(n, 2.0, 128.0, NULL, 0, &cols));
    ck_assert_int_eq(cols, (int64_t)floor(2.0 * 300 * 2.0 / 128.0) + 1); /* 9 cosines + 1 */
    double *x = malloc(sizeof(double) * (size_t)(n * cols));
    ck_assert_ok(btfm_glm_cosine_drift(n, 2.0, 128.0, x, (size_t)(n * cols), &cols));
    for (int64_t a = 0; a < cols; a++)
        for (int64_t b = 0; b < cols; b++) {
            double dot = 0;
            for (int64_t t = 0; t < n; t++) dot += x[t * cols + a] * x[t * cols + b];
            double want = a == b ? (a == cols - 1 ? (double)n : 1.0) : 0.0;
            ck_assert_double_eq_tol(dot, want, 1e-9);
        }
    ck_assert_status(btfm_glm_cosine_drift(n, 2.0, 128.0, x, 10, &cols), BTFM_E_RANGE);
    ck_assert_status(btfm_glm_cosine_drift(n, 2.0, 0.0, x, (size_t)(n * cols), &cols),
                     BTFM_E_RANGE);
    free(x);
}
END_TEST

/* An impulse on the design grid: the regressor sampled at frame i is the HRF sample
 * at (frame time - onset) / dt. t_r 2 s, 100 scans: the grid starts at -24 s with steps
 * of 0.04 s; onset 10.01 s rounds up to the grid point 10.04 s (index 851). */
START_TEST(impulse_samples_the_hrf)
{
    double onset = 10.01, duration = 0.0, x[100];
    ck_assert_ok(btfm_glm_event_regressors(&onset, &duration, NULL, 1, 2.0, 100, 0.0,
                                           BTFM_HRF_MODEL_SPM, x));
    double h[800];
    int64_t n;
    ck_assert_ok(btfm_glm_hrf(BTFM_HRF_SPM, 2.0, 50, 32.0, 0.0, h, 800, &n));
    for (int i = 0; i < 100; i++) {
        int64_t k = 50 * i + 600 - 851;
        double want = k >= 0 && k < n ? h[k] : 0.0;
        ck_assert_msg(fabs(x[i] - want) < 1e-12, "frame %d: %g, expected %g", i, x[i], want);
    }
}
END_TEST

/* A 100 s block reaches the HRF's total (1 per unit amplitude and grid step) once the
 * response has settled. */
START_TEST(long_block_plateau)
{
    double onset = 0.0, duration = 100.0, amplitude = 2.5, x[3 * 80];
    ck_assert_ok(btfm_glm_event_regressors(&onset, &duration, &amplitude, 1, 2.0, 80, 0.0,
                                           BTFM_HRF_MODEL_SPM_DERIVATIVE_DISPERSION, x));
    for (int i = 20; i < 50; i++) ck_assert_double_eq_tol(x[3 * i], 2.5, 1e-9);
    ck_assert_int_eq(btfm_glm_hrf_columns(BTFM_HRF_MODEL_SPM_DERIVATIVE_DISPERSION), 3);
    /* The derivative columns were orthogonalized against the main one. */
    double dot = 0;
    for (int i = 0; i < 80; i++) dot += x[3 * i] * x[3 * i + 1];
    ck_assert_double_eq_tol(dot, 0.0, 1e-9);
}
END_TEST

START_TEST(design_matrix_layout)
{
    double onsets[] = {10, 40, 70, 100}, durations[] = {2, 2, 2, 2};
    int conditions[] = {0, 1, 0, 1};
    int64_t cols;
    ck_assert_ok(btfm_glm_design_matrix(onsets, durations, NULL, conditions, 4, 2, 2.0, 80,
                                        0.0, BTFM_HRF_MODEL_SPM_DERIVATIVE,
                                        BTFM_DRIFT_POLYNOMIAL, 2, NULL, 0, &cols));
    ck_assert_int_eq(cols, 2 * 2 + 3);
    double *x = malloc(sizeof(double) * (size_t)(80 * cols)), one[160];
    ck_assert_ok(btfm_glm_design_matrix(onsets, durations, NULL, conditions, 4, 2, 2.0, 80,
                                        0.0, BTFM_HRF_MODEL_SPM_DERIVATIVE,
                                        BTFM_DRIFT_POLYNOMIAL, 2, x, (size_t)(80 * cols),
                                        &cols));
    double on1[] = {40, 100}, du1[] = {2, 2};
    ck_assert_ok(btfm_glm_event_regressors(on1, du1, NULL, 2, 2.0, 80, 0.0,
                                           BTFM_HRF_MODEL_SPM_DERIVATIVE, one));
    for (int t = 0; t < 80; t++) {
        ck_assert_double_eq_tol(x[t * cols + 2], one[2 * t], 1e-15);
        ck_assert_double_eq_tol(x[t * cols + 3], one[2 * t + 1], 1e-15);
        ck_assert_double_eq(x[t * cols + cols - 1], 1.0);
        /* the linear drift is t / t_max, orthogonalized against the constant */
        ck_assert_double_eq_tol(x[t * cols + 4], t / 79.0 - 0.5, 1e-12);
    }
    conditions[1] = conditions[3] = 0;
    ck_assert_status(btfm_glm_design_matrix(onsets, durations, NULL, conditions, 4, 2, 2.0, 80,
                                            0.0, 1, 1, 128, x, (size_t)(80 * cols), &cols),
                     BTFM_E_RANGE);
    assert_message("condition 1 has no events");
    free(x);
}
END_TEST

/* y = X b exactly: OLS and AR(1) both return b with zero residual variance. */
START_TEST(glm_exact_fit)
{
    enum { N = 120, P = 3, V = 5 };
    double x[N * P];
    float y[N * V];
    for (int t = 0; t < N; t++) {
        x[t * P] = 1.0;
        x[t * P + 1] = sin(t * 0.1);
        x[t * P + 2] = (double)t / N;
        for (int v = 0; v < V; v++)
            y[t * V + v] = (float)(2.0 + v * x[t * P + 1] - 3.0 * x[t * P + 2]);
    }
    for (int noise = BTFM_GLM_OLS; noise <= BTFM_GLM_AR1; noise++) {
        btfm_glm *g;
        ck_assert_ok(btfm_glm_new(&g, x, N, P, noise));
        ck_assert_ok(btfm_glm_fit(g, y, N, V));
        float b[P * V], var[V];
        ck_assert_ok(btfm_glm_betas(g, b, P * V));
        ck_assert_ok(btfm_glm_residual_variance(g, var, V));
        for (int v = 0; v < V; v++) {
            ck_assert_double_eq_tol(b[v], 2.0, 1e-4);
            ck_assert_double_eq_tol(b[V + v], v, 1e-4);
            ck_assert_double_eq_tol(b[2 * V + v], -3.0, 1e-4);
            ck_assert_double_le(var[v], 1e-9);
        }
        int64_t p, nv, dof;
        ck_assert_ok(btfm_glm_dims(g, &p, &nv, &dof));
        ck_assert_int_eq(p, P);
        ck_assert_int_eq(nv, V);
        ck_assert_int_eq(dof, N - P);
        btfm_glm_free(g);
    }
}
END_TEST

/* An intercept-only OLS model is the one-sample t test: t = mean / (s / sqrt(n)). */
START_TEST(glm_one_sample_t)
{
    enum { N = 50 };
    double x[N];
    float y[N];
    double mean = 0, ss = 0;
    for (int t = 0; t < N; t++) {
        x[t] = 1.0;
        y[t] = (float)(0.3 + normal());
        mean += y[t];
    }
    mean /= N;
    for (int t = 0; t < N; t++) ss += (y[t] - mean) * (y[t] - mean);
    double s2 = ss / (N - 1);
    btfm_glm *g;
    ck_assert_ok(btfm_glm_new(&g, x, N, 1, BTFM_GLM_OLS));
    ck_assert_ok(btfm_glm_fit(g, y, N, 1));
    double c = 1.0;
    float effect, var, t;
    ck_assert_ok(btfm_glm_contrast(g, &c, 1, &effect, &var, &t));
    ck_assert_double_eq_tol(effect, mean, 1e-6);
    ck_assert_double_eq_tol(var, s2 / N, 1e-6);
    ck_assert_double_eq_tol(t, mean / sqrt(s2 / N), 1e-4);
    ck_assert_status(btfm_glm_contrast(g, &c, 2, &effect, &var, &t), BTFM_E_RANGE);
    btfm_glm_free(g);
}
END_TEST

/* AR(1) noise with a known coefficient: the binned estimate lands within 0.05 of it
 * on a long series, and is a multiple of 0.01. */
START_TEST(glm_ar1_recovers_coefficient)
{
    enum { N = 4000, V = 3 };
    const double rho[V] = {0.0, 0.4, 0.7};
    double *x = malloc(sizeof(double) * N * 2);
    float *y = malloc(sizeof(float) * N * V);
    double e[V] = {0};
    for (int t = 0; t < N; t++) {
        x[2 * t] = 1.0;
        x[2 * t + 1] = cos(t * 0.05);
        for (int v = 0; v < V; v++) {
            e[v] = rho[v] * e[v] + normal();
            y[t * V + v] = (float)(5.0 + x[2 * t + 1] + e[v]);
        }
    }
    btfm_glm *g;
    ck_assert_ok(btfm_glm_new(&g, x, N, 2, BTFM_GLM_AR1));
    ck_assert_ok(btfm_glm_fit(g, y, N, V));
    float ar[V], b[2 * V];
    ck_assert_ok(btfm_glm_ar1(g, ar, V));
    ck_assert_ok(btfm_glm_betas(g, b, 2 * V));
    for (int v = 0; v < V; v++) {
        ck_assert_double_eq_tol(ar[v], rho[v], 0.05);
        ck_assert_double_eq_tol(ar[v] * 100, round(ar[v] * 100), 1e-4);
        ck_assert_double_eq_tol(b[V + v], 1.0, 0.15);
    }
    btfm_glm_free(g);
    free(x);
    free(y);
}
END_TEST

/* Events with disjoint supports: LSA and LSS both reduce to e_i^T y / e_i^T e_i. */
START_TEST(per_event_betas_of_disjoint_events)
{
    enum { N = 60, E = 4, V = 3 };
    double ev[N * E] = {0};
    float y[N * V];
    for (int t = 0; t < N; t++) {
        int e = t / 15;
        ev[t * E + e] = 1.0 + (t % 15) * 0.1;
        for (int v = 0; v < V; v++) y[t * V + v] = (float)normal();
    }
    float lsa[E * V], lss[E * V];
    ck_assert_ok(btfm_glm_lsa(y, N, V, ev, E, NULL, 0, lsa));
    ck_assert_ok(btfm_glm_lss(y, N, V, ev, NULL, E, NULL, 0, lss));
    int conditions[E] = {0, 1, 0, 1};
    float lss_c[E * V];
    ck_assert_ok(btfm_glm_lss(y, N, V, ev, conditions, E, NULL, 0, lss_c));
    for (int e = 0; e < E; e++)
        for (int v = 0; v < V; v++) {
            double num = 0, den = 0;
            for (int t = 0; t < N; t++) {
                num += ev[t * E + e] * y[t * V + v];
                den += ev[t * E + e] * ev[t * E + e];
            }
            ck_assert_double_eq_tol(lsa[e * V + v], num / den, 1e-5);
            ck_assert_double_eq_tol(lss[e * V + v], num / den, 1e-5);
            ck_assert_double_eq_tol(lss_c[e * V + v], num / den, 1e-5);
        }
}
END_TEST

/* A refit cancelled part way leaves the previous fit, bit for bit; LSS and LSA stop on
 * the thread's callback. Three blocks of voxels give the callback places to stop. */
START_TEST(cancel_leaves_the_previous_fit)
{
    enum { N = 40, P = 2, V = 600 };
    double x[N * P];
    float *y = malloc(sizeof(float) * N * V * 2), *y2 = y + N * V;
    for (int t = 0; t < N; t++) {
        x[t * P] = 1.0;
        x[t * P + 1] = sin(t * 0.3);
        for (int v = 0; v < V; v++) {
            y[t * V + v] = (float)(1.0 + 0.01 * v * x[t * P + 1] + 0.1 * normal());
            y2[t * V + v] = (float)normal();
        }
    }
    btfm_glm *g;
    ck_assert_ok(btfm_glm_new(&g, x, N, P, BTFM_GLM_AR1));
    watched w = {0, 0, 0, 0};
    ck_assert_ok(btfm_glm_set_progress(g, watch, &w));
    ck_assert_ok(btfm_glm_fit(g, y, N, V));
    ck_assert(w.last == 1.0 && w.backwards == 0 && w.calls >= 4 && w.calls <= 210);
    float *before = malloc(sizeof(float) * P * V * 2), *after = before + P * V;
    ck_assert_ok(btfm_glm_betas(g, before, P * V));
    for (int stop = 2; stop <= 4; stop++) { /* in the OLS pass, and in the AR(1) refit */
        w = (watched){0, stop, 0, 0};
        ck_assert_status(btfm_glm_fit(g, y2, N, V), BTFM_E_CANCELLED);
        ck_assert_int_eq(w.calls, stop);
        ck_assert_ok(btfm_glm_betas(g, after, P * V));
        ck_assert_mem_eq(before, after, sizeof(float) * P * V);
    }
    ck_assert_ok(btfm_glm_set_progress(g, NULL, NULL));
    btfm_glm_free(g);
    /* LSS and LSA: one event per 10 volumes */
    enum { E = 4 };
    double ev[N * E] = {0};
    for (int t = 0; t < N; t++) ev[t * E + t / 10] = 1.0;
    float *betas = malloc(sizeof(float) * E * V * 4), *wide = malloc(sizeof(float) * N * V * 4);
    for (int j = 0; j < N * V * 4; j++) wide[j] = (float)normal();
    w = (watched){0, 2, 0, 0};
    btfm_set_thread_progress(watch, &w);
    ck_assert_status(btfm_glm_lss(wide, N, V * 4, ev, NULL, E, NULL, 0, betas), BTFM_E_CANCELLED);
    w = (watched){0, 2, 0, 0};
    ck_assert_status(btfm_glm_lsa(wide, N, V * 4, ev, E, NULL, 0, betas), BTFM_E_CANCELLED);
    w = (watched){0, 0, 0, 0};
    ck_assert_ok(btfm_glm_lss(wide, N, V * 4, ev, NULL, E, NULL, 0, betas));
    ck_assert(w.last == 1.0 && w.backwards == 0);
    btfm_set_thread_progress(NULL, NULL);
    free(betas);
    free(wide);
    free(before);
    free(y);
}
END_TEST

/* Cleaning signals with known answers. */
START_TEST(clean_closed_forms)
{
    enum { N = 100, V = 2 };
    float x[N * V], out[N * V], conf[N];
    for (int t = 0; t < N; t++) {
        conf[t] = (float)sin(t * 0.3);
        x[t * V] = (float)(50.0 + 0.2 * t);           /* a line */
        x[t * V + 1] = (float)(200.0 + 3.0 * conf[t]); /* a constant plus the confound */
    }
    /* Detrending a line, and regressing out the confound, leave nothing. */
    ck_assert_ok(btfm_glm_clean(x, N, V, 2.0, 1, BTFM_CLEAN_FILTER_NONE, 0, 0, conf, 1,
                                BTFM_STANDARDIZE_NONE, out));
    for (int i = 0; i < N * V; i++) ck_assert_double_eq_tol(out[i], 0.0, 1e-4);
    /* Percent signal change without detrending: (x - mean) / |mean| * 100. */
    ck_assert_ok(btfm_glm_clean(x, N, V, 2.0, -1, BTFM_CLEAN_FILTER_NONE, 0, 0, NULL, 0,
                                BTFM_STANDARDIZE_PSC, out));
    double mean0 = 50.0 + 0.2 * (N - 1) / 2.0;
    for (int t = 0; t < N; t++)
        ck_assert_double_eq_tol(out[t * V], (0.2 * t + 50.0 - mean0) / mean0 * 100.0, 1e-3);
    /* z-score with ddof = 1: mean 0, sample variance 1. */
    ck_assert_ok(btfm_glm_clean(x, N, V, 2.0, -1, BTFM_CLEAN_FILTER_NONE, 0, 0, NULL, 0,
                                BTFM_STANDARDIZE_ZSCORE_SAMPLE, out));
    for (int v = 0; v < V; v++) {
        double m = 0, ss = 0;
        for (int t = 0; t < N; t++) m += out[t * V + v];
        m /= N;
        for (int t = 0; t < N; t++) ss += (out[t * V + v] - m) * (out[t * V + v] - m);
        ck_assert_double_eq_tol(m, 0.0, 1e-6);
        ck_assert_double_eq_tol(ss / (N - 1), 1.0, 1e-5);
    }
    /* A slow cosine inside the DCT high-pass band is removed by the cosine filter. */
    for (int t = 0; t < N; t++)
        x[t * V] = (float)(10.0 + cos(3.14159265358979 * 2 * (t + 0.5) / N));
    ck_assert_ok(btfm_glm_clean(x, N, V, 2.0, 0, BTFM_CLEAN_FILTER_COSINE, 0.01, 0, NULL, 0,
                                BTFM_STANDARDIZE_NONE, out));
    for (int t = 0; t < N; t++) ck_assert_double_eq_tol(out[t * V], 0.0, 1e-4);
}
END_TEST

/* The design and clean plans share one computation with the deprecated entry points:
 * identical bytes for each option set, and a clear error until t_r is set. */
START_TEST(plans_match_the_old_entry_points)
{
    double onsets[] = {10, 40, 70, 100, 13}, durations[] = {2, 0, 2, 5, 1}, amp[] = {1, 2, 1, 1,
                                                                                    0.5};
    int conditions[] = {0, 1, 0, 1, 2};
    btfm_glm_design_plan *d;
    ck_assert_ok(btfm_glm_design_plan_new(&d));
    int64_t cols;
    ck_assert_status(btfm_glm_design_plan_run(d, NULL, 0, &cols, onsets, durations, amp,
                                              conditions, 5, 3, 79), BTFM_E_STATE);
    assert_message("t_r is not set");
    ck_assert_status(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_T_R, 0), BTFM_E_RANGE);
    assert_message("t_r = 0 s");
    ck_assert_ok(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_T_R, 1.5));
    static double a[79 * 20], b[79 * 20];
    /* hrf_model, drift_model, drift_param (the cutoff or the order), slice_time_ref */
    const double sets[][4] = {{1, 1, 128, 0}, {2, 2, 3, 0.5}, {3, 0, 0, 1}, {1, 1, 40, 0.25}};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        const double *o = sets[k];
        ck_assert_ok(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_HRF_MODEL, o[0]));
        ck_assert_ok(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_DRIFT_MODEL, o[1]));
        if (o[1] == BTFM_DRIFT_COSINE)
            ck_assert_ok(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_DRIFT_CUTOFF, o[2]));
        if (o[1] == BTFM_DRIFT_POLYNOMIAL)
            ck_assert_ok(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_DRIFT_ORDER, o[2]));
        ck_assert_ok(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_SLICE_TIME_REF, o[3]));
        int64_t ca, cb;
        ck_assert_ok(btfm_glm_design_matrix(onsets, durations, amp, conditions, 5, 3, 1.5, 79,
                                            o[3], (int)o[0], (int)o[1], o[2], a, 79 * 20, &ca));
        ck_assert_ok(btfm_glm_design_plan_run(d, NULL, 0, &cb, onsets, durations, amp,
                                              conditions, 5, 3, 79));
        ck_assert_int_eq(ca, cb);
        ck_assert_ok(btfm_glm_design_plan_run(d, b, 79 * 20, &cb, onsets, durations, amp,
                                              conditions, 5, 3, 79));
        ck_assert_mem_eq(a, b, (size_t)(79 * ca) * sizeof(double));
    }
    ck_assert_status(btfm_glm_design_plan_run(d, b, 10, &cols, onsets, durations, amp,
                                              conditions, 5, 3, 79), BTFM_E_RANGE);
    assert_message("btfm_glm_design_plan_run");
    ck_assert_status(btfm_glm_design_plan_set_param(d, BTFM_DESIGN_PARAM_HRF_MODEL, 0),
                     BTFM_E_RANGE);
    ck_assert_str_eq(btfm_object_kind_name(BTFM_OBJECT_DESIGN_PLAN), "design_plan");
    btfm_glm_design_plan_free(d);

    enum { N = 61, V = 5 }; /* a prime number of volumes */
    static float x[N * V], conf[N * 2], ca[N * V], cb[N * V];
    for (int t = 0; t < N; t++) {
        conf[2 * t] = (float)sin(0.4 * t);
        conf[2 * t + 1] = (float)(t % 3);
        for (int v = 0; v < V; v++)
            x[t * V + v] = (float)(100 + v + 0.1 * t + sin(0.05 * t * (v + 1)) + conf[2 * t]);
    }
    btfm_glm_clean_plan *c;
    ck_assert_ok(btfm_glm_clean_plan_new(&c));
    ck_assert_status(btfm_glm_clean_plan_run(c, cb, x, N, V, NULL, 0), BTFM_E_STATE);
    ck_assert_ok(btfm_glm_clean_plan_set_param(c, BTFM_CLEAN_PARAM_T_R, 2.0));
    /* detrend_order, filter, high_pass, low_pass, standardize, confounds */
    const double cs[][6] = {{1, 1, 0, 0, 1, 0},   {0, 1, 0.01, 0.1, 2, 2},
                            {-1, 2, 0.02, 0, 3, 1}, {2, 1, 0, 0.2, 0, 2}};
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        const double *o = cs[k];
        for (int i = 0; i < 5; i++) ck_assert_ok(btfm_glm_clean_plan_set_param(c, i + 1, o[i]));
        const int64_t nc = (int64_t)o[5];
        float *cf = nc == 2 ? conf : NULL;
        float one[N];
        if (nc == 1)
            for (int t = 0; t < N; t++) one[t] = conf[2 * t];
        if (nc == 1) cf = one;
        ck_assert_ok(btfm_glm_clean(x, N, V, 2.0, (int)o[0], (int)o[1], o[2], o[3], cf, nc,
                                    (int)o[4], ca));
        ck_assert_ok(btfm_glm_clean_plan_run(c, cb, x, N, V, cf, nc));
        ck_assert_mem_eq(ca, cb, sizeof ca);
    }
    ck_assert_ok(btfm_glm_clean_plan_set_param(c, BTFM_CLEAN_PARAM_LOW_PASS_HZ, 0.3));
    ck_assert_status(btfm_glm_clean_plan_run(c, cb, x, N, V, NULL, 0), BTFM_E_RANGE);
    assert_message("btfm_glm_clean_plan_run: high_pass");
    double v;
    ck_assert_ok(btfm_glm_clean_plan_get_param(c, BTFM_CLEAN_PARAM_T_R, &v));
    ck_assert(v == 2.0);
    int param;
    ck_assert_ok(btfm_param_find(BTFM_OBJECT_CLEAN_PLAN, "standardize", &param));
    ck_assert_int_eq(param, BTFM_CLEAN_PARAM_STANDARDIZE);
    btfm_glm_clean_plan_free(c);
    btfm_glm_clean_plan_free(NULL);
    btfm_glm_design_plan_free(NULL);
}
END_TEST

START_TEST(errors_are_named)
{
    float x[40 * 3] = {0}, out[40 * 3];
    for (int i = 0; i < 120; i++) x[i] = (float)(i % 7);
    ck_assert_status(btfm_glm_clean(NULL, 40, 3, 2.0, 1, 0, 0, 0, NULL, 0, 0, out),
                     BTFM_E_INVALID);
    ck_assert_status(btfm_glm_clean(x, 40, 3, 0.0, 1, 0, 0, 0, NULL, 0, 0, out), BTFM_E_RANGE);
    assert_message("t_r = 0");
    ck_assert_status(btfm_glm_clean(x, 40, 3, 2.0, 1, 7, 0, 0, NULL, 0, 0, out),
                     BTFM_E_INVALID);
    ck_assert_status(btfm_glm_clean(x, 40, 3, 2.0, 1, BTFM_CLEAN_FILTER_BUTTERWORTH, 0.3, 0,
                                    NULL, 0, 0, out), BTFM_E_RANGE);
    assert_message("Nyquist");
    ck_assert_status(btfm_glm_clean(x, 40, 3, 2.0, 1, BTFM_CLEAN_FILTER_BUTTERWORTH, 0.1, 0.05,
                                    NULL, 0, 0, out), BTFM_E_RANGE);
    ck_assert_status(btfm_glm_clean(x, 40, 3, 2.0, 1, 0, 0, 0, NULL, 2, 0, out), BTFM_E_INVALID);
    x[3 * 3 + 2] = INFINITY;
    ck_assert_status(btfm_glm_clean(x, 40, 3, 2.0, 1, 0, 0, 0, NULL, 0, 0, out), BTFM_E_NUMERIC);
    assert_message("voxel 2, volume 3");
    x[3 * 3 + 2] = 0;

    int64_t n;
    ck_assert_status(btfm_glm_hrf(9, 2.0, 50, 32, 0, NULL, 0, &n), BTFM_E_INVALID);
    ck_assert_status(btfm_glm_hrf(0, -1.0, 50, 32, 0, NULL, 0, &n), BTFM_E_RANGE);
    ck_assert_status(btfm_glm_hrf(0, 2.0, 50, 32, 0, NULL, 0, NULL), BTFM_E_INVALID);
    ck_assert_int_lt(btfm_glm_hrf_columns(0), 0);

    double onset = 300.0, dur = 1.0, reg[40];
    ck_assert_status(btfm_glm_event_regressors(&onset, &dur, NULL, 1, 2.0, 40, 0.0, 1, reg),
                     BTFM_E_RANGE);
    assert_message("event 0 starts at 300 s, outside the run");
    onset = -30.0;
    ck_assert_status(btfm_glm_event_regressors(&onset, &dur, NULL, 1, 2.0, 40, 0.0, 1, reg),
                     BTFM_E_RANGE);
    onset = 10.0;
    dur = -1.0;
    ck_assert_status(btfm_glm_event_regressors(&onset, &dur, NULL, 1, 2.0, 40, 0.0, 1, reg),
                     BTFM_E_RANGE);
    dur = NAN;
    ck_assert_status(btfm_glm_event_regressors(&onset, &dur, NULL, 1, 2.0, 40, 0.0, 1, reg),
                     BTFM_E_NUMERIC);
    dur = 1.0;
    ck_assert_status(btfm_glm_event_regressors(&onset, &dur, NULL, 1, 0.0, 40, 0.0, 1, reg),
                     BTFM_E_RANGE);
    ck_assert_status(btfm_glm_event_regressors(&onset, &dur, NULL, 1, 2.0, 40, 1.5, 1, reg),
                     BTFM_E_RANGE);
    ck_assert_status(btfm_glm_drift(40, 2.0, 0.0, 9, 0, NULL, 0, &n), BTFM_E_INVALID);

    /* Designs: singular (column 2 = column 0 + column 1), not fitted, bad data. */
    double design[40 * 3];
    for (int t = 0; t < 40; t++) {
        design[3 * t] = 1.0;
        design[3 * t + 1] = t;
        design[3 * t + 2] = 1.0 + t;
    }
    btfm_glm *g = (btfm_glm *)&g;
    ck_assert_status(btfm_glm_new(&g, design, 40, 3, BTFM_GLM_OLS), BTFM_E_NUMERIC);
    ck_assert_ptr_null(g);
    assert_message("singular");
    ck_assert_status(btfm_glm_new(&g, design, 40, 2, 5), BTFM_E_INVALID);
    ck_assert_status(btfm_glm_new(&g, design, 2, 3, BTFM_GLM_OLS), BTFM_E_RANGE);
    ck_assert_status(btfm_glm_new(NULL, design, 40, 2, BTFM_GLM_OLS), BTFM_E_INVALID);
    for (int t = 0; t < 40; t++) design[2 * t] = 1.0, design[2 * t + 1] = t;
    ck_assert_ok(btfm_glm_new(&g, design, 40, 2, BTFM_GLM_AR1));
    float b[6];
    ck_assert_status(btfm_glm_betas(g, b, 6), BTFM_E_STATE);
    ck_assert_status(btfm_glm_fit(g, x, 39, 3), BTFM_E_RANGE);
    x[5 * 3 + 1] = NAN;
    ck_assert_status(btfm_glm_fit(g, x, 40, 3), BTFM_E_NUMERIC);
    assert_message("voxel 1, volume 5");
    x[5 * 3 + 1] = 1;
    ck_assert_ok(btfm_glm_fit(g, x, 40, 3));
    ck_assert_status(btfm_glm_betas(g, b, 5), BTFM_E_RANGE);
    ck_assert_ok(btfm_glm_betas(g, b, 6));
    ck_assert_status(btfm_glm_fit(NULL, x, 40, 3), BTFM_E_INVALID);
    btfm_glm_free(g);
    btfm_glm_free(NULL);
    ck_assert_str_eq(btfm_glm_noise_name(BTFM_GLM_AR1), "ar1");
    ck_assert_ptr_null(btfm_glm_noise_name(0));

    /* Per-event betas: an all-zero event, bad conditions, too few volumes. */
    double ev[40 * 2] = {0};
    for (int t = 0; t < 20; t++) ev[2 * t] = 1.0;
    float betas[2 * 3];
    ck_assert_status(btfm_glm_lss(x, 40, 3, ev, NULL, 2, NULL, 0, betas), BTFM_E_NUMERIC);
    assert_message("event 1 is all zeros");
    for (int t = 20; t < 40; t++) ev[2 * t + 1] = 1.0;
    int bad[2] = {0, -1};
    ck_assert_status(btfm_glm_lss(x, 40, 3, ev, bad, 2, NULL, 0, betas), BTFM_E_RANGE);
    ck_assert_status(btfm_glm_lsa(x, 2, 3, ev, 2, NULL, 0, betas), BTFM_E_RANGE);
    ck_assert_status(btfm_glm_lsa(x, 40, 3, ev, 2, NULL, 1, betas), BTFM_E_INVALID);
    /* Nuisance = the sum of the two events: LSA is singular. */
    double nuis[40];
    for (int t = 0; t < 40; t++) nuis[t] = 1.0;
    ck_assert_status(btfm_glm_lsa(x, 40, 3, ev, 2, nuis, 1, betas), BTFM_E_NUMERIC);
    assert_message("singular");
}
END_TEST

static Suite *glm_suite(void)
{
    Suite *s = suite_create("glm");
    TCase *tc = tcase_create("glm");
    unit_set_timeout(tc, 0.3); /* seconds of work on an idle machine */
    tcase_add_test(tc, hrf_normalized_and_peaks_at_5s);
    tcase_add_test(tc, cosine_drift_is_orthonormal);
    tcase_add_test(tc, impulse_samples_the_hrf);
    tcase_add_test(tc, long_block_plateau);
    tcase_add_test(tc, design_matrix_layout);
    tcase_add_test(tc, glm_exact_fit);
    tcase_add_test(tc, glm_one_sample_t);
    tcase_add_test(tc, glm_ar1_recovers_coefficient);
    tcase_add_test(tc, per_event_betas_of_disjoint_events);
    tcase_add_test(tc, cancel_leaves_the_previous_fit);
    tcase_add_test(tc, clean_closed_forms);
    tcase_add_test(tc, errors_are_named);
    tcase_add_test(tc, plans_match_the_old_entry_points);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(glm_suite)
