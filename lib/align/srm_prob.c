/* Probabilistic shared response model (Chen et al. 2015, NIPS), the EM of BrainIAK's
 * SRM with its pitfalls fixed: each subject's mean is removed at fit and at transform,
 * and the noise trace ||X_i||^2 is taken after removing it. Model: x_i = W_i s + e_i,
 * s ~ N(0, Sigma_s), e_i ~ N(0, rho_i^2 I), W_i^T W_i = I. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"

/* inv (K x K) = m^-1 for a symmetric positive definite m; *log_det = log det m. */
static btfm_status spd_inverse(const double *m, int64_t K, double *inv, double *log_det)
{
    int info = btfm_dense_spd_inverse(m, K, inv, log_det);
    if (info != 0)
        return btfm_fail(BTFM_E_NUMERIC, "btfm_aligner_fit: probabilistic SRM: the shared "
                         "response covariance lost positive definiteness (leading minor %d of "
                         "%lld); lower n_features", info, (long long)K);
    return BTFM_OK;
}

btfm_status btfm_align_fit_srm_prob(btfm_aligner *a)
{
    const int N = a->n_subjects; /* this process's subjects */
    const int64_t T = a->n_times;
    int64_t K, Vmax;
    btfm_status st = btfm_align_srm_components(a, &K, &Vmax);
    if (st) return st;
    const int64_t TK = T * K;
    double *rho2 = btfm_dense_zeros(N > 0 ? N : 1, 1, "btfm_aligner_fit");
    double *trace_xtx = btfm_dense_zeros(N > 0 ? N : 1, 1, "btfm_aligner_fit");
    double *sigma_s = btfm_dense_zeros(K, K, "btfm_aligner_fit");
    double *inv_sigma_s = btfm_dense_zeros(K, K, "btfm_aligner_fit");
    double *sigma_rhos = btfm_dense_zeros(K, K, "btfm_aligner_fit");
    double *inv_sigma_rhos = btfm_dense_zeros(K, K, "btfm_aligner_fit");
    double *gain = btfm_dense_zeros(K, K, "btfm_aligner_fit");
    /* sum_i x_i W_i / rho_i^2, then the three sums over subjects the E-step combines */
    double *wtx = btfm_dense_zeros(TK + 3, 1, "btfm_aligner_fit");
    double *shared = btfm_dense_zeros(T, K, "btfm_aligner_fit");
    double *tmp = btfm_dense_zeros(T, K, "btfm_aligner_fit");
    float *shared_f = btfm_malloc((size_t)(T * K) * sizeof(float));
    float *scratch = btfm_malloc((size_t)(Vmax * K + T * K) * sizeof(float));
    double *work = btfm_dense_zeros(Vmax, K, "btfm_aligner_fit");
    if (!rho2 || !trace_xtx || !sigma_s || !inv_sigma_s || !sigma_rhos || !inv_sigma_rhos ||
        !gain || !wtx || !shared || !tmp || !shared_f || !scratch || !work) {
        st = btfm_fail_nomem("btfm_aligner_fit", 0);
        goto done;
    }
    /* ||X_i||^2 after centering: BrainIAK takes it before. A local failure joins the
     * next combination, so every process stops at the same step. */
    st = btfm_align_srm_start(a, K, trace_xtx);
    for (int i = 0; i < N; i++) rho2[i] = 1.0;
    for (int64_t k = 0; k < K; k++) sigma_s[k * K + k] = 1.0;

    const int max_iter = (int)ALIGN_PARAM(a, MAX_ITER);
    const double tol = ALIGN_PARAM(a, TOL);
    double previous = -INFINITY, loglike = 0.0, change = NAN;
    int iter = 0;
    while (iter < max_iter) {
        /* E-step: posterior mean of the shared response. */
        double ld_sigma, ld_rhos;
        memset(wtx, 0, (size_t)(TK + 3) * sizeof(double));
        for (int i = 0; i < N && !st; i++) {
            btfm_align_srm_project(a->train[i], T, a->n_features[i], K, a->maps[i].a, scratch,
                                   1.0 / rho2[i], wtx);
            wtx[TK] += 1.0 / rho2[i];
            wtx[TK + 1] += trace_xtx[i] / rho2[i];
            wtx[TK + 2] += log(rho2[i]) * (double)a->n_features[i];
        }
        if ((st = btfm_align_combine(a, wtx, TK + 3, ALIGN_SUM, st))) goto done;
        const double rho0 = wtx[TK], trace_x_inv = wtx[TK + 1], log_det_psi = wtx[TK + 2];
        if ((st = spd_inverse(sigma_s, K, inv_sigma_s, &ld_sigma))) goto done;
        memcpy(sigma_rhos, inv_sigma_s, (size_t)(K * K) * sizeof(double));
        for (int64_t k = 0; k < K; k++) sigma_rhos[k * K + k] += rho0;
        if ((st = spd_inverse(sigma_rhos, K, inv_sigma_rhos, &ld_rhos))) goto done;
        /* shared (time-major) = wtx (I - rho0 inv_sigma_rhos)^T sigma_s^T */
        for (int64_t i = 0; i < K; i++)
            for (int64_t j = 0; j < K; j++)
                gain[i * K + j] = (i == j ? 1.0 : 0.0) - rho0 * inv_sigma_rhos[i * K + j];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)K, (blasint)K,
                    1.0, wtx, (blasint)K, gain, (blasint)K, 0.0, tmp, (blasint)K);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)K, (blasint)K,
                    1.0, tmp, (blasint)K, sigma_s, (blasint)K, 0.0, shared, (blasint)K);
        /* The log-likelihood of the parameters the E-step used (up to a constant). */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)K,
                    (blasint)K, 1.0, wtx, (blasint)K, inv_sigma_rhos, (blasint)K, 0.0, tmp,
                    (blasint)K);
        double quad = 0.0;
        for (int64_t j = 0; j < T * K; j++) quad += tmp[j] * wtx[j];
        loglike = -0.5 * (double)T * (ld_rhos + log_det_psi + ld_sigma) - 0.5 * trace_x_inv +
                  0.5 * quad;

        /* M-step: Sigma_s, then each W_i and rho_i^2. */
        memcpy(sigma_s, inv_sigma_rhos, (size_t)(K * K) * sizeof(double));
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)K, (blasint)T, 1.0 / T,
                    shared, (blasint)K, 1.0, sigma_s, (blasint)K);
        for (int64_t i = 0; i < K; i++)
            for (int64_t j = 0; j < i; j++) sigma_s[i * K + j] = sigma_s[j * K + i];
        double trace_sigma = 0.0;
        for (int64_t k = 0; k < K; k++) trace_sigma += sigma_s[k * K + k];
        trace_sigma *= (double)T;
        for (int64_t j = 0; j < T * K; j++) shared_f[j] = (float)shared[j];
        for (int i = 0; i < N; i++) {
            const int64_t V = a->n_features[i];
            double fit;
            st = btfm_align_srm_update_w(a->train[i], T, V, K, shared_f, a->maps[i].a, scratch,
                                         work, &fit);
            if (st) break; /* reported at the next combination */
            rho2[i] = (trace_xtx[i] - 2.0 * fit + trace_sigma) / ((double)T * (double)V);
            if (!(rho2[i] > 0))
                rho2[i] = 1e-12; /* a noiseless subject: keep the precision finite */
        }
        iter++;
        if (a->history) a->history[a->n_history++] = loglike;
        change = iter > 1 ? fabs(loglike - previous) / fabs(loglike) : NAN;
        if (change <= tol) break;
        previous = loglike;
        /* A cancel joins the next combination, so that every process stops. */
        st = btfm_progress_update(a->progress, "probabilistic SRM iterations",
                                  (double)iter / max_iter);
    }
    if ((st = btfm_align_combine(a, NULL, 0, ALIGN_SUM, st))) goto done;
    a->common = shared;
    shared = NULL;
    a->n_components = K;
    a->iterations = iter;
    a->objective = loglike;
    a->change = change;
done:
    btfm_free(rho2);
    btfm_free(trace_xtx);
    btfm_free(sigma_s);
    btfm_free(inv_sigma_s);
    btfm_free(sigma_rhos);
    btfm_free(inv_sigma_rhos);
    btfm_free(gain);
    btfm_free(wtx);
    btfm_free(shared);
    btfm_free(tmp);
    btfm_free(shared_f);
    btfm_free(scratch);
    btfm_free(work);
    return st;
}
