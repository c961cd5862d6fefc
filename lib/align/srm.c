/* Deterministic shared response model (Chen et al. 2015, NIPS; BrainIAK DetSRM): block
 * coordinate descent on sum_i ||X_i - S W_i^T||^2 with W_i^T W_i = I. The two products
 * per subject and iteration run in single precision on the float inputs (accumulated in
 * double across subjects); polar factors and objectives are double. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"

btfm_status btfm_align_srm_components(const btfm_aligner *a, int64_t *K, int64_t *max_features)
{
    int64_t k = (int64_t)ALIGN_PARAM(a, N_FEATURES);
    /* The smallest subject over every process as V 2^24 + its index (exact in a double
     * for V < 2^29), negated for a maximum, and the largest feature count. */
    const double shift = 16777216.0;
    double v[2] = {-HUGE_VAL, 0.0};
    *max_features = 1;
    for (int i = 0; i < a->n_subjects; i++) {
        const double key = (double)a->n_features[i] * shift + btfm_align_global_index(a, i);
        if (-key > v[0]) v[0] = -key;
        if (a->n_features[i] > *max_features) *max_features = a->n_features[i];
    }
    btfm_status st = btfm_align_combine(a, v, 2, ALIGN_MAX, BTFM_OK);
    if (st) return st;
    const int64_t fewest = (int64_t)floor(-v[0] / shift);
    const long long smallest = (long long)(-v[0] - (double)fewest * shift);
    if (k == 0) {
        k = 50;
        if (k > a->n_times) k = a->n_times;
        if (k > fewest) k = fewest;
    }
    if (k > a->n_times)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the %lld "
                         "time points; choose at most %lld", (long long)k,
                         (long long)a->n_times, (long long)a->n_times);
    if (k > fewest)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds subject "
                         "%lld's %lld features", (long long)k, smallest, (long long)fewest);
    *K = k;
    return BTFM_OK;
}

btfm_status btfm_align_srm_prepare(btfm_aligner *a, int i, float *x, int64_t K,
                                    double *sq_norm)
{
    const int64_t T = a->n_times, V = a->n_features[i];
    align_map *m = &a->maps[i];
    btfm_status st = btfm_align_map_alloc(m, V, K, K);
    if (st) return st;
    for (int64_t k = 0; k < K; k++) m->b[k * K + k] = 1.0;
    *sq_norm = btfm_dense_standardize(x, T, V, V, (int)ALIGN_PARAM(a, ZSCORE), m->mean, m->scale);
    return BTFM_OK;
}

btfm_status btfm_align_srm_update_w(const float *x, int64_t T, int64_t V, int64_t K,
                                    const float *s, double *w, float *scratch, double *work,
                                    double *fit)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)K, (blasint)T,
                1.0f, x, (blasint)V, s, (blasint)K, 0.0f, scratch, (blasint)K);
    for (int64_t j = 0; j < V * K; j++) work[j] = scratch[j];
    /* polar(M) = M (M^T M)^-1/2 from the K x K Gram matrix: M^T M = q diag(l) q^T, and
     * <polar(M), M> = sum sqrt(l). A (nearly) rank-deficient M, where the Gram route
     * cannot resolve the null directions, goes through the V x K SVD instead. */
    double gram[64 * 64], *g = K <= 64 ? gram : btfm_dense_zeros(K, K, "btfm_aligner_fit");
    double lam[64], *l = K <= 64 ? lam : btfm_dense_zeros(K, 1, "btfm_aligner_fit");
    btfm_status st = (!g || !l) ? BTFM_E_NOMEM : BTFM_OK;
    if (!st) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)K, (blasint)V, 1.0, work,
                    (blasint)K, 0.0, g, (blasint)K);
        st = btfm_dense_syev(g, K, l, "aligner");
    }
    if (!st && l[K - 1] > 1e-10 * l[0]) {
        double sum = 0.0;
        for (int64_t k = 0; k < K; k++) sum += sqrt(l[k]);
        /* z = q diag(l^-1/2) q^T, built into the upper part of a K x K buffer. */
        double zbuf[64 * 64], *z = K <= 64 ? zbuf : btfm_dense_zeros(K, K, "btfm_aligner_fit");
        if (!z) {
            st = BTFM_E_NOMEM;
        } else {
            for (int64_t i = 0; i < K; i++)
                for (int64_t j = 0; j < K; j++) {
                    double acc = 0.0;
                    for (int64_t k = 0; k < K; k++)
                        acc += g[i * K + k] * g[j * K + k] / sqrt(l[k]);
                    z[i * K + j] = acc;
                }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)V, (blasint)K,
                        (blasint)K, 1.0, work, (blasint)K, z, (blasint)K, 0.0, w, (blasint)K);
            *fit = sum;
            if (z != zbuf) btfm_free(z);
        }
    } else if (!st) {
        st = btfm_dense_polar(work, V, K, w, "aligner");
        double sum = 0.0;
        for (int64_t j = 0; j < V * K; j++) sum += w[j] * work[j];
        *fit = sum;
    }
    if (g != gram) btfm_free(g);
    if (l != lam) btfm_free(l);
    return st;
}

void btfm_align_srm_project(const float *x, int64_t T, int64_t V, int64_t K, const double *w,
                       float *w_f, double weight, double *accum)
{
    for (int64_t j = 0; j < V * K; j++) w_f[j] = (float)w[j];
    float *out = (float *)w_f + V * K; /* the caller's scratch holds V x K + T x K floats */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)K, (blasint)V,
                1.0f, x, (blasint)V, w_f, (blasint)K, 0.0f, out, (blasint)K);
    for (int64_t j = 0; j < T * K; j++) accum[j] += weight * out[j];
}

btfm_status btfm_align_srm_start(btfm_aligner *a, int64_t K, double *sq_norm)
{
    const uint64_t seed = (uint64_t)ALIGN_PARAM(a, SEED);
    for (int i = 0; i < a->n_subjects; i++) {
        const int64_t V = a->n_features[i];
        btfm_status st = btfm_align_srm_prepare(a, i, a->train[i], K, &sq_norm[i]);
        if (!st) st = btfm_dense_random_orthonormal(a->maps[i].a, V, K,
                                                    seed * 0x100000001b3ULL +
                                                        (uint64_t)btfm_align_global_index(a, i),
                                                    "btfm_aligner_fit");
        if (st) return st;
    }
    return BTFM_OK;
}

/* One subject's W update in Gram form, for T <= V: with A = X X^T (T x T, computed once),
 * X^T S has Gram matrix S^T A S = q diag(l) q^T (K x K), so W = X^T S z with
 * z = q diag(l^-1/2) q^T and X W = A S z: an iteration costs T x T x K, not T x V x K, and
 * W itself is formed once at the end. Returns 0 when X^T S is (nearly) rank deficient,
 * which the direct route handles. */
static int gram_update(const float *gram, int64_t T, int64_t K, const double *s,
                       const float *s_f, float *as_f, double *as, double *z, double *fit,
                       double weight, double *s_next)
{
    double c[64 * 64], l[64];
    cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (blasint)T, (blasint)K, 1.0f, gram,
                (blasint)T, s_f, (blasint)K, 0.0f, as_f, (blasint)K);
    for (int64_t j = 0; j < T * K; j++) as[j] = as_f[j];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)K, (blasint)K, (blasint)T,
                1.0, s, (blasint)K, as, (blasint)K, 0.0, c, (blasint)K);
    if (btfm_dense_syev(c, K, l, "aligner") != BTFM_OK || !(l[K - 1] > 1e-10 * l[0])) return 0;
    double sum = 0.0;
    for (int64_t k = 0; k < K; k++) sum += sqrt(l[k]);
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = 0; j < K; j++) {
            double acc = 0.0;
            for (int64_t k = 0; k < K; k++) acc += c[i * K + k] * c[j * K + k] / sqrt(l[k]);
            z[i * K + j] = acc;
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)K, (blasint)K,
                weight, as, (blasint)K, z, (blasint)K, 1.0, s_next, (blasint)K);
    *fit = sum;
    return 1;
}

btfm_status btfm_align_fit_srm(btfm_aligner *a)
{
    const int N = a->n_subjects; /* this process's subjects */
    const double n_all = btfm_align_total_subjects(a);
    const int64_t T = a->n_times;
    int64_t K, Vmax;
    btfm_status st = btfm_align_srm_components(a, &K, &Vmax);
    if (st) return st;
    /* The Gram form needs small K x K buffers on the stack and pays off when T <= V. */
    const int use_gram = K <= 64;
    const int64_t TK = T * K;
    /* S's sums carry one more slot: the scalar each step combines along with them. */
    double *sq_norm = btfm_dense_zeros(N > 0 ? N : 1, 1, "btfm_aligner_fit");
    double *shared = btfm_dense_zeros(TK + 1, 1, "btfm_aligner_fit");
    double *previous_s = btfm_dense_zeros(TK + 1, 1, "btfm_aligner_fit");
    double *as = btfm_dense_zeros(T, K, "btfm_aligner_fit");
    double *work = btfm_dense_zeros(Vmax, K, "btfm_aligner_fit");
    double *zs = btfm_dense_zeros((N > 0 ? N : 1) * K * K, 1, "btfm_aligner_fit");
    float **gram = btfm_calloc((size_t)(N > 0 ? N : 1), sizeof *gram);
    int *pending = btfm_calloc((size_t)(N > 0 ? N : 1), sizeof *pending); /* W still to form */
    float *shared_f = btfm_malloc((size_t)TK * sizeof(float));
    float *scratch = btfm_malloc((size_t)(Vmax * K + TK) * sizeof(float));
    if (!sq_norm || !shared || !previous_s || !as || !work || !zs || !gram || !pending ||
        !shared_f || !scratch) {
        st = btfm_fail_nomem("btfm_aligner_fit", 0);
        goto done;
    }
    /* Local failures join the next combination, so every process stops at the same step. */
    st = btfm_align_srm_start(a, K, sq_norm);
    for (int i = 0; i < N && !st; i++) {
        const int64_t V = a->n_features[i];
        shared[TK] += sq_norm[i];
        btfm_align_srm_project(a->train[i], T, V, K, a->maps[i].a, scratch, 1.0 / n_all, shared);
        if (!use_gram || T > V) continue;
        if (!(gram[i] = btfm_malloc((size_t)(T * T) * sizeof(float)))) {
            st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float));
            break;
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)V, 1.0f,
                    a->train[i], (blasint)V, 0.0f, gram[i], (blasint)T);
    }
    if ((st = btfm_align_combine(a, shared, TK + 1, ALIGN_SUM, st))) goto done;
    const double total = shared[TK];

    const int max_iter = (int)ALIGN_PARAM(a, MAX_ITER);
    const double tol = ALIGN_PARAM(a, TOL);
    double previous = INFINITY, objective = 1.0, change = NAN;
    int iter = 0;
    while (iter < max_iter) {
        double s2 = 0.0, fit = 0.0;
        double *swap = previous_s;
        previous_s = shared;
        shared = swap;
        for (int64_t j = 0; j < TK; j++) {
            shared_f[j] = (float)previous_s[j];
            s2 += previous_s[j] * previous_s[j];
        }
        memset(shared, 0, (size_t)(TK + 1) * sizeof(double));
        for (int i = 0; i < N && !st; i++) {
            double fit_i;
            pending[i] = gram[i] && gram_update(gram[i], T, K, previous_s, shared_f,
                                                scratch, as,
                                                zs + (size_t)i * (size_t)(K * K), &fit_i,
                                                1.0 / n_all, shared);
            if (!pending[i]) { /* the direct route: W from X^T S, then X W */
                st = btfm_align_srm_update_w(a->train[i], T, a->n_features[i], K, shared_f,
                                             a->maps[i].a, scratch, work, &fit_i);
                if (st) break;
                btfm_align_srm_project(a->train[i], T, a->n_features[i], K, a->maps[i].a,
                                       scratch, 1.0 / n_all, shared);
            }
            fit += fit_i;
        }
        shared[TK] = fit;
        if ((st = btfm_align_combine(a, shared, TK + 1, ALIGN_SUM, st))) goto done;
        fit = shared[TK];
        iter++;
        /* sum ||X_i - S W_i^T||^2 with the new W and the S they were fitted to. */
        objective = (total - 2.0 * fit + n_all * s2) / total;
        if (a->history) a->history[a->n_history++] = objective;
        change = iter > 1 ? fabs(previous - objective) / fabs(objective) : NAN;
        if (change <= tol) break;
        previous = objective;
        /* at most max_iter iterations; the tolerance may end the fit sooner */
        /* A cancel joins the next combination, so that every process stops. */
        st = btfm_progress_update(a->progress, "SRM iterations", (double)iter / max_iter);
    }
    if ((st = btfm_align_combine(a, NULL, 0, ALIGN_SUM, st))) goto done;
    /* W = X^T S z for the subjects updated in Gram form (S of the last update). */
    for (int i = 0; i < N; i++) {
        if (!pending[i]) continue;
        const int64_t V = a->n_features[i];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)K, (blasint)T,
                    1.0f, a->train[i], (blasint)V, shared_f, (blasint)K, 0.0f, scratch,
                    (blasint)K);
        for (int64_t j = 0; j < V * K; j++) work[j] = scratch[j];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)V, (blasint)K,
                    (blasint)K, 1.0, work, (blasint)K, zs + (size_t)i * (size_t)(K * K),
                    (blasint)K, 0.0, a->maps[i].a, (blasint)K);
    }
    a->common = shared; /* T x K (the extra slot is never read) */
    shared = NULL;
    a->n_components = K;
    a->iterations = iter;
    a->objective = objective;
    a->change = change;
done:
    for (int i = 0; gram && i < N; i++) btfm_free(gram[i]);
    btfm_free(gram);
    btfm_free(pending);
    btfm_free(zs);
    btfm_free(sq_norm);
    btfm_free(shared);
    btfm_free(previous_s);
    btfm_free(as);
    btfm_free(work);
    btfm_free(shared_f);
    btfm_free(scratch);
    return st;
}

btfm_status btfm_align_srm_fit_subject(btfm_aligner *a, int subject, const float *data)
{
    const int64_t T = a->n_times, V = a->n_features[subject], K = a->n_components;
    btfm_status st;
    float *x = btfm_malloc((size_t)(T * V) * sizeof(float));
    float *s = btfm_malloc((size_t)(T * K) * sizeof(float));
    float *scratch = btfm_malloc((size_t)(V * K) * sizeof(float));
    double *work = btfm_dense_zeros(V, K, "btfm_aligner_add_subject");
    if (!x || !s || !scratch || !work) {
        st = btfm_fail_nomem("btfm_aligner_add_subject", (size_t)(T * V) * sizeof(float));
        goto done;
    }
    memcpy(x, data, (size_t)(T * V) * sizeof(float));
    double sq_norm, fit;
    if ((st = btfm_align_srm_prepare(a, subject, x, K, &sq_norm))) goto done;
    for (int64_t j = 0; j < T * K; j++) s[j] = (float)a->common[j];
    st = btfm_align_srm_update_w(x, T, V, K, s, a->maps[subject].a, scratch, work, &fit);
done:
    btfm_free(x);
    btfm_free(s);
    btfm_free(scratch);
    btfm_free(work);
    return st;
}
