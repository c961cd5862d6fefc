/* Hyperalignment (Haxby et al. 2011, Neuron), following PyMVPA's Hyperalignment:
 * level 1 grows a template from the reference subject, level 2 re-aligns each subject to
 * the leave-one-out mean for a number of passes, level 3 fits the final maps to the
 * common template. Every Procrustes step works on T-sized thin SVDs. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"

/* One subject's standardized, optionally whitened data in thin form. Regularized
 * whitening (PyMVPA's alpha) multiplies Z by v diag(1/sqrt((1-a)s^2 + a)) v^T, which on
 * the training data only rescales the singular values: sw = s / sqrt((1-a) s^2 + a). */
typedef struct hyper_subject {
    double *u, *s, *sw;
    int64_t rank;
    double v_det;
} hyper_subject;

static void hyper_subject_clear(hyper_subject *h)
{
    btfm_free(h->u);
    btfm_free(h->s);
    btfm_free(h->sw);
    memset(h, 0, sizeof *h);
}

static align_source source_of(const hyper_subject *h, int64_t n_times, int64_t n_features)
{
    align_source src = {h->u, h->sw, n_times, h->rank, n_features, h->v_det};
    return src;
}

/* Standardize x into z (T x V, caller's buffer) and decompose it. */
static btfm_status prepare(const btfm_aligner *a, const float *x, int64_t V, double *mean,
                           double *scale, double *z, hyper_subject *h, double **v_out)
{
    const int64_t T = a->n_times;
    const double alpha = ALIGN_PARAM(a, ALPHA);
    btfm_align_standardize(x, T, V, (int)ALIGN_PARAM(a, ZSCORE), mean, scale, z);
    btfm_status st = btfm_align_thin_svd(z, T, V, &h->u, &h->s, v_out, &h->rank, &h->v_det);
    if (st) return st;
    h->sw = btfm_align_doubles((size_t)h->rank, "btfm_aligner_fit");
    if (!h->sw) return BTFM_E_NOMEM;
    for (int64_t k = 0; k < h->rank; k++)
        h->sw[k] = alpha < 1.0 ? h->s[k] / sqrt((1.0 - alpha) * h->s[k] * h->s[k] + alpha)
                               : h->s[k];
    return BTFM_OK;
}

/* The level-3 map of one subject onto a->common: a = v diag(sw/s) p scale, b = qt, where
 * v = z^T u / s, so a = z^T (u diag(sw / s^2) p scale). `mapped` (may be NULL) receives
 * the aligned training data. */
static btfm_status final_map(const btfm_aligner *a, const hyper_subject *h, const double *z,
                             int64_t V, align_map *m, double *mapped)
{
    const int64_t T = a->n_times, K = a->n_components;
    align_source src = source_of(h, T, V);
    align_rotation rot;
    btfm_status st = btfm_align_procrustes(&src, a->common, K, (int)ALIGN_PARAM(a, SCALING),
                                      (int)ALIGN_PARAM(a, REFLECTION), &rot);
    if (st) return st;
    double *left = btfm_align_matrix(T, rot.rank, "btfm_aligner_fit");
    double *ud = btfm_align_matrix(T, h->rank, "btfm_aligner_fit");
    if (!left || !ud || (st = btfm_align_map_alloc(m, V, rot.rank, K))) {
        st = st ? st : BTFM_E_NOMEM;
        goto done;
    }
    for (int64_t t = 0; t < T; t++)
        for (int64_t k = 0; k < h->rank; k++)
            ud[t * h->rank + k] = h->u[t * h->rank + k] * h->sw[k] / (h->s[k] * h->s[k]);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)rot.rank,
                (blasint)h->rank, rot.scale, ud, (blasint)h->rank, rot.p, (blasint)rot.rank,
                0.0, left, (blasint)rot.rank);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)rot.rank,
                (blasint)T, 1.0, z, (blasint)V, left, (blasint)rot.rank, 0.0, m->a,
                (blasint)rot.rank);
    memcpy(m->b, rot.qt, (size_t)(rot.rank * K) * sizeof(double));
    if (mapped) st = btfm_align_rotation_apply(&src, &rot, K, mapped);
done:
    btfm_free(left);
    btfm_free(ud);
    btfm_align_rotation_clear(&rot);
    return st;
}

/* mapped = procrustes(subject -> target).apply, optionally z-scored. */
static btfm_status map_to(const btfm_aligner *a, const hyper_subject *h, int64_t V,
                          const double *target, int64_t n_target, double *mapped)
{
    align_source src = source_of(h, a->n_times, V);
    align_rotation rot;
    btfm_status st = btfm_align_procrustes(&src, target, n_target, (int)ALIGN_PARAM(a, SCALING),
                                      (int)ALIGN_PARAM(a, REFLECTION), &rot);
    if (!st) st = btfm_align_rotation_apply(&src, &rot, n_target, mapped);
    btfm_align_rotation_clear(&rot);
    return st;
}

static void mean_of(double *const *mapped, int n, size_t count, double *out)
{
    memset(out, 0, count * sizeof(double));
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < count; j++) out[j] += mapped[i][j];
    for (size_t j = 0; j < count; j++) out[j] /= n;
}

/* Reduce the template to its top `k` principal directions (PyMVPA's output_dim). */
static btfm_status reduce_common(btfm_aligner *a, double *common, int64_t Vc, int64_t k)
{
    const int64_t T = a->n_times;
    double *u, *s, *v;
    int64_t rank;
    double det;
    btfm_status st = btfm_align_thin_svd(common, T, Vc, &u, &s, &v, &rank, &det);
    if (st) return st;
    if (k > rank) {
        st = btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the rank "
                       "%lld of the common template", (long long)k, (long long)rank);
    } else {
        a->common = btfm_align_matrix(T, k, "btfm_aligner_fit");
        if (!a->common) {
            st = BTFM_E_NOMEM;
        } else {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)k,
                        (blasint)Vc, 1.0, common, (blasint)Vc, v, (blasint)rank, 0.0,
                        a->common, (blasint)k);
            btfm_align_zscore_columns(a->common, T, k);
        }
    }
    btfm_free(u);
    btfm_free(s);
    btfm_free(v);
    return st;
}

btfm_status btfm_align_fit_hyperalignment(btfm_aligner *a)
{
    const int N = a->n_subjects;
    const int64_t T = a->n_times;
    int ref = (int)ALIGN_PARAM(a, REFERENCE);
    if (ref >= N)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: reference = %d but there are only "
                         "%d subjects (numbered from 0; -1 picks the one with most features)",
                         ref, N);
    if (ref < 0) {
        ref = 0;
        for (int i = 1; i < N; i++)
            if (a->n_features[i] > a->n_features[ref]) ref = i;
    }
    const int64_t Vc = a->n_features[ref];
    const int64_t K = (int64_t)ALIGN_PARAM(a, N_FEATURES);
    if (K > T)
        return btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the %lld "
                         "time points", (long long)K, (long long)T);
    hyper_subject *hs = btfm_calloc((size_t)N, sizeof *hs);
    double **mapped = btfm_calloc((size_t)N, sizeof *mapped);
    double *common = btfm_align_matrix(T, Vc, "btfm_aligner_fit");
    double *z = NULL, *v_ref = NULL;
    btfm_status st = BTFM_OK;
    if (!hs || !mapped || !common) { st = btfm_fail_nomem("btfm_aligner_fit", 0); goto done; }
    for (int i = 0; i < N && !st; i++) {
        mapped[i] = btfm_align_matrix(T, Vc, "btfm_aligner_fit");
        if (!mapped[i]) st = BTFM_E_NOMEM;
    }
    for (int i = 0; i < N && !st; i++) {
        const int64_t V = a->n_features[i];
        z = btfm_align_matrix(T, V, "btfm_aligner_fit");
        if (!z) { st = BTFM_E_NOMEM; break; }
        if (!(st = btfm_align_map_alloc(&a->maps[i], V, 0, 0)))
            st = prepare(a, a->train[i], V, a->maps[i].mean, a->maps[i].scale, z, &hs[i],
                         i == ref ? &v_ref : NULL);
        if (!st && i == ref) { /* the reference as whitened: u diag(sw) v^T */
            if (ALIGN_PARAM(a, ALPHA) < 1.0) {
                double *us = btfm_align_matrix(T, hs[i].rank, "btfm_aligner_fit");
                if (!us) { st = BTFM_E_NOMEM; break; }
                for (int64_t t = 0; t < T; t++)
                    for (int64_t k = 0; k < hs[i].rank; k++)
                        us[t * hs[i].rank + k] = hs[i].u[t * hs[i].rank + k] * hs[i].sw[k];
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)V,
                            (blasint)hs[i].rank, 1.0, us, (blasint)hs[i].rank, v_ref,
                            (blasint)hs[i].rank, 0.0, mapped[i], (blasint)V);
                btfm_free(us);
            } else {
                memcpy(mapped[i], z, (size_t)(T * V) * sizeof(double));
            }
        }
        btfm_free(z);
        z = NULL;
    }
    if (st) goto done;

    /* Level 1: the template grows subject by subject from the reference. */
    memcpy(common, mapped[ref], (size_t)(T * Vc) * sizeof(double));
    btfm_align_zscore_columns(common, T, Vc);
    for (int i = 0; i < N; i++) {
        if (i == ref) continue;
        if ((st = map_to(a, &hs[i], a->n_features[i], common, Vc, mapped[i]))) goto done;
        btfm_align_zscore_columns(mapped[i], T, Vc);
        for (int64_t j = 0; j < T * Vc; j++) common[j] = 0.5 * (mapped[i][j] + common[j]);
        btfm_align_zscore_columns(common, T, Vc);
    }
    mean_of(mapped, N, (size_t)(T * Vc), common);
    btfm_align_zscore_columns(common, T, Vc);

    /* Level 2: each subject against the mean of the others, `level2_passes` times. */
    z = btfm_align_matrix(T, Vc, "btfm_aligner_fit"); /* the leave-one-out template */
    if (!z) { st = BTFM_E_NOMEM; goto done; }
    for (int pass = 0; pass < (int)ALIGN_PARAM(a, LEVEL2_PASSES); pass++) {
        for (int i = 0; i < N; i++) {
            for (int64_t j = 0; j < T * Vc; j++)
                z[j] = (N * common[j] - mapped[i][j]) / (N - 1);
            btfm_align_zscore_columns(z, T, Vc);
            if ((st = map_to(a, &hs[i], a->n_features[i], z, Vc, mapped[i]))) goto done;
        }
        mean_of(mapped, N, (size_t)(T * Vc), common);
        btfm_align_zscore_columns(common, T, Vc);
    }
    btfm_free(z);
    z = NULL;

    if (K > 0 && K < Vc) {
        if ((st = reduce_common(a, common, Vc, K))) goto done;
        a->n_components = K;
    } else {
        a->common = common;
        common = NULL;
        a->n_components = Vc;
    }

    /* Level 3: the final map of every subject to the common template. */
    double sq = 0.0;
    for (int i = 0; i < N; i++) {
        const int64_t V = a->n_features[i];
        z = btfm_align_matrix(T, V, "btfm_aligner_fit");
        if (!z) { st = BTFM_E_NOMEM; goto done; }
        double *mean = a->maps[i].mean, *scale = a->maps[i].scale;
        a->maps[i].mean = a->maps[i].scale = NULL;
        btfm_align_map_clear(&a->maps[i]);
        btfm_align_standardize(a->train[i], T, V, (int)ALIGN_PARAM(a, ZSCORE), mean, scale, z);
        st = final_map(a, &hs[i], z, V, &a->maps[i], mapped[i]);
        if (!st) {
            memcpy(a->maps[i].mean, mean, (size_t)V * sizeof(double));
            memcpy(a->maps[i].scale, scale, (size_t)V * sizeof(double));
        }
        btfm_free(mean);
        btfm_free(scale);
        btfm_free(z);
        z = NULL;
        if (st) goto done;
        for (int64_t j = 0; j < T * a->n_components; j++) {
            double d = mapped[i][j] - a->common[j];
            sq += d * d;
        }
    }
    a->objective = sq / ((double)N * (double)T * (double)a->n_components);
    a->iterations = 0;
done:
    for (int i = 0; hs && i < N; i++) hyper_subject_clear(&hs[i]);
    for (int i = 0; mapped && i < N; i++) btfm_free(mapped[i]);
    btfm_free(hs);
    btfm_free(mapped);
    btfm_free(common);
    btfm_free(z);
    btfm_free(v_ref);
    return st;
}

btfm_status btfm_align_hyper_fit_subject(btfm_aligner *a, int subject, const float *data)
{
    const int64_t T = a->n_times, V = a->n_features[subject];
    hyper_subject h = {0};
    double *mean = btfm_align_doubles((size_t)V, "btfm_aligner_add_subject");
    double *scale = btfm_align_doubles((size_t)V, "btfm_aligner_add_subject");
    double *z = btfm_align_matrix(T, V, "btfm_aligner_add_subject");
    btfm_status st = (!mean || !scale || !z) ? BTFM_E_NOMEM : BTFM_OK;
    if (!st) st = prepare(a, data, V, mean, scale, z, &h, NULL);
    if (!st) st = final_map(a, &h, z, V, &a->maps[subject], NULL);
    if (!st) {
        memcpy(a->maps[subject].mean, mean, (size_t)V * sizeof(double));
        memcpy(a->maps[subject].scale, scale, (size_t)V * sizeof(double));
    }
    hyper_subject_clear(&h);
    btfm_free(mean);
    btfm_free(scale);
    btfm_free(z);
    return st;
}
