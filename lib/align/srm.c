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
    int64_t smallest = 0;
    *max_features = a->n_features[0];
    for (int i = 1; i < a->n_subjects; i++) {
        if (a->n_features[i] < a->n_features[smallest]) smallest = i;
        if (a->n_features[i] > *max_features) *max_features = a->n_features[i];
    }
    if (k == 0) {
        k = 50;
        if (k > a->n_times) k = a->n_times;
        if (k > a->n_features[smallest]) k = a->n_features[smallest];
    }
    if (k > a->n_times)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the %lld "
                         "time points; choose at most %lld", (long long)k,
                         (long long)a->n_times, (long long)a->n_times);
    if (k > a->n_features[smallest])
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds subject "
                         "%lld's %lld features", (long long)k, (long long)smallest,
                         (long long)a->n_features[smallest]);
    *K = k;
    return BTFM_OK;
}

btfm_status btfm_align_srm_prepare(btfm_aligner *a, int i, float *x, int64_t K)
{
    const int64_t T = a->n_times, V = a->n_features[i];
    align_map *m = &a->maps[i];
    btfm_status st = btfm_align_map_alloc(m, V, K, K);
    if (st) return st;
    for (int64_t k = 0; k < K; k++) m->b[k * K + k] = 1.0;
    btfm_align_standardize(x, T, V, (int)ALIGN_PARAM(a, ZSCORE), m->mean, m->scale, NULL);
    for (int64_t t = 0; t < T; t++)
        for (int64_t f = 0; f < V; f++)
            x[t * V + f] = (float)((x[t * V + f] - m->mean[f]) / m->scale[f]);
    return BTFM_OK;
}

btfm_status btfm_align_srm_update_w(const float *x, int64_t T, int64_t V, int64_t K,
                               const float *s, double *w, float *scratch, double *fit)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)K, (blasint)T,
                1.0f, x, (blasint)V, s, (blasint)K, 0.0f, scratch, (blasint)K);
    double *ad = btfm_align_matrix(V, K, "btfm_aligner_fit");
    if (!ad) return BTFM_E_NOMEM;
    for (int64_t j = 0; j < V * K; j++) ad[j] = scratch[j];
    btfm_status st = btfm_align_polar(ad, V, K, w);
    double sum = 0.0;
    for (int64_t j = 0; j < V * K; j++) sum += w[j] * ad[j];
    *fit = sum;
    btfm_free(ad);
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
        btfm_status st = btfm_align_srm_prepare(a, i, a->train[i], K);
        if (!st) st = btfm_align_random_orthonormal(a->maps[i].a, V, K,
                                               seed * 0x100000001b3ULL + (uint64_t)i);
        if (st) return st;
        double sum = 0.0;
        for (int64_t j = 0; j < a->n_times * V; j++)
            sum += (double)a->train[i][j] * a->train[i][j];
        sq_norm[i] = sum;
    }
    return BTFM_OK;
}

btfm_status btfm_align_fit_srm(btfm_aligner *a)
{
    const int N = a->n_subjects;
    const int64_t T = a->n_times;
    int64_t K, Vmax;
    btfm_status st = btfm_align_srm_components(a, &K, &Vmax);
    if (st) return st;
    double *sq_norm = btfm_align_doubles((size_t)N, "btfm_aligner_fit");
    double *shared = btfm_align_matrix(T, K, "btfm_aligner_fit");
    float *shared_f = btfm_malloc((size_t)(T * K) * sizeof(float));
    float *scratch = btfm_malloc((size_t)(Vmax * K + T * K) * sizeof(float));
    if (!sq_norm || !shared || !shared_f || !scratch) {
        st = btfm_fail_nomem("btfm_aligner_fit", 0);
        goto done;
    }
    if ((st = btfm_align_srm_start(a, K, sq_norm))) goto done;
    double total = 0.0;
    for (int i = 0; i < N; i++) total += sq_norm[i];
    for (int i = 0; i < N; i++)
        btfm_align_srm_project(a->train[i], T, a->n_features[i], K, a->maps[i].a, scratch, 1.0 / N,
                          shared);

    const int max_iter = (int)ALIGN_PARAM(a, MAX_ITER);
    const double tol = ALIGN_PARAM(a, TOL);
    double previous = INFINITY, objective = 1.0;
    int iter = 0;
    while (iter < max_iter) {
        double s2 = 0.0, fit = 0.0;
        for (int64_t j = 0; j < T * K; j++) {
            shared_f[j] = (float)shared[j];
            s2 += shared[j] * shared[j];
        }
        for (int i = 0; i < N; i++) {
            double fit_i;
            st = btfm_align_srm_update_w(a->train[i], T, a->n_features[i], K, shared_f,
                                    a->maps[i].a, scratch, &fit_i);
            if (st) goto done;
            fit += fit_i;
        }
        memset(shared, 0, (size_t)(T * K) * sizeof(double));
        for (int i = 0; i < N; i++)
            btfm_align_srm_project(a->train[i], T, a->n_features[i], K, a->maps[i].a, scratch,
                              1.0 / N, shared);
        iter++;
        /* sum ||X_i - S W_i^T||^2 with the new W and the S they were fitted to. */
        objective = (total - 2.0 * fit + N * s2) / total;
        if (fabs(previous - objective) <= tol * fabs(objective)) break;
        previous = objective;
    }
    a->common = shared;
    shared = NULL;
    a->n_components = K;
    a->iterations = iter;
    a->objective = objective;
done:
    btfm_free(sq_norm);
    btfm_free(shared);
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
    if (!x || !s || !scratch) {
        st = btfm_fail_nomem("btfm_aligner_add_subject", (size_t)(T * V) * sizeof(float));
        goto done;
    }
    memcpy(x, data, (size_t)(T * V) * sizeof(float));
    if ((st = btfm_align_srm_prepare(a, subject, x, K))) goto done;
    for (int64_t j = 0; j < T * K; j++) s[j] = (float)a->common[j];
    double fit;
    st = btfm_align_srm_update_w(x, T, V, K, s, a->maps[subject].a, scratch, &fit);
done:
    btfm_free(x);
    btfm_free(s);
    btfm_free(scratch);
    return st;
}
