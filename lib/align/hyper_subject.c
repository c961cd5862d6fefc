/* Each subject's standardization and decomposition, once per hyperalignment fit: the
 * factor f with X = f w^T (w orthonormal) that every Procrustes step starts from, by a
 * Cholesky factor of the Gram matrix when it is well conditioned, else by its
 * eigenvectors (or the thin SVD when T > V). */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "hyper_internal.h"
#include "core/scratch.h"

void btfm_hyper_subject_clear(hyper_subject *h)
{
    btfm_free(h->f);
    btfm_free(h->dual);
    btfm_free(h->f32);
    btfm_free(h->fc32);
    memset(h, 0, sizeof *h);
}

/* The float copies every step of the fit starts from. */
static btfm_status subject_floats(hyper_subject *h, int64_t T)
{
    const int64_t r = h->rank;
    double *w = btfm_dense_zeros(T, 1, "btfm_aligner_fit");
    h->f32 = btfm_malloc((size_t)(T * r) * sizeof(float));
    h->fc32 = btfm_malloc((size_t)((T - 1) * r) * sizeof(float));
    btfm_status st = (!w || !h->f32 || !h->fc32)
                         ? btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * r) * sizeof(float))
                         : BTFM_OK;
    if (!st) {
        h->norm2 = 0.0;
        for (int64_t j = 0; j < T * r; j++) {
            h->f32[j] = (float)h->f[j];
            h->norm2 += h->f[j] * h->f[j];
        }
        btfm_align_center_factor(h->f32, T, r, h->fc32, w);
    }
    btfm_free(w);
    return st;
}

align_source btfm_hyper_source(const hyper_subject *h, int64_t n_times, int64_t n_features)
{
    align_source src = {h->f,     n_times,  h->rank, n_features, h->v_det,
                        h->f32, h->fc32, h->norm2};
    return src;
}

/* The factors from a thin SVD u diag(s) of the rows (alpha applied), and, when
 * `whitened` is not NULL, the whitened data u diag(sw / s) u^T z into it. */
static btfm_status factor_from_svd(const btfm_aligner *a, const double *u, const double *s,
                                   int64_t V, const float *z, hyper_subject *h,
                                   float *whitened)
{
    const int64_t T = a->n_times, r = h->rank;
    const double alpha = ALIGN_PARAM(a, ALPHA);
    h->f = btfm_dense_zeros(T, r, "btfm_aligner_fit");
    h->dual = btfm_dense_zeros(T, r, "btfm_aligner_fit");
    if (!h->f || !h->dual) return BTFM_E_NOMEM;
    for (int64_t k = 0; k < r; k++) {
        double sw = alpha < 1.0 ? s[k] / sqrt((1.0 - alpha) * s[k] * s[k] + alpha) : s[k];
        for (int64_t t = 0; t < T; t++) {
            h->f[t * r + k] = u[t * r + k] * sw;
            h->dual[t * r + k] = u[t * r + k] * sw / (s[k] * s[k]);
        }
    }
    if (!whitened) return BTFM_OK;
    float *wf = btfm_malloc((size_t)(T * T) * sizeof(float));
    float *uf = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *usf = btfm_malloc((size_t)(T * r) * sizeof(float));
    btfm_status st = (!wf || !uf || !usf)
                         ? btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float))
                         : BTFM_OK;
    if (!st) {
        for (int64_t t = 0; t < T; t++)
            for (int64_t k = 0; k < r; k++) {
                uf[t * r + k] = (float)u[t * r + k];
                usf[t * r + k] = (float)(h->f[t * r + k] / s[k]);
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)T,
                    (blasint)r, 1.0f, usf, (blasint)r, uf, (blasint)r, 0.0f, wf, (blasint)T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)V,
                    (blasint)T, 1.0f, wf, (blasint)T, z, (blasint)V, 0.0f, whitened,
                    (blasint)V);
    }
    btfm_free(wf);
    btfm_free(uf);
    btfm_free(usf);
    return st;
}

/* The factors from a Cholesky factorization of the Gram matrix g = Z Z^T (T x T, float,
 * upper part) on the centered vectors, when it is well conditioned (kappa_1 below 1e3,
 * estimated): (Q g Q)[1:, 1:] = R^T R gives f = Q [0; R^T] with f f^T = Z Z^T, and
 * dual = f (f^T f)^-1 = Q [0; R^-1]. A factorization costs a fraction of the
 * eigendecomposition, and every later step depends on Z only through f f^T (and maps
 * through dual). *used is 0 when g is too ill-conditioned (the caller decomposes it). */
static btfm_status factor_by_cholesky(int64_t T, const float *g, hyper_subject *h, int *used)
{
    const char *where = "btfm_aligner_fit";
    const int64_t m = T - 1;
    const size_t gbytes = (size_t)(m * m) * sizeof(float), ybytes = (size_t)(m * m) * 8;
    float *gc = btfm_scratch_get(gbytes);
    double *w = btfm_dense_zeros(T, 1, where);
    double *y = btfm_scratch_get(ybytes);
    btfm_status st = (!gc || !w || !y) ? btfm_fail_nomem(where, ybytes) : BTFM_OK;
    *used = 0;
    if (!st && m > 0) {
        btfm_align_centered_block(g, T, w, gc);
        /* the 1-norm: the largest row sum of |gc|, from its upper part */
        for (int64_t i = 0; i < m; i++) w[i] = 0.0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = i; j < m; j++) {
                double v = fabs(gc[i * m + j]);
                w[i] += v;
                if (j != i) w[j] += v;
            }
        double anorm = 0.0;
        for (int64_t i = 0; i < m; i++) anorm = w[i] > anorm ? w[i] : anorm;
        *used = btfm_dense_chol_f(gc, m) == 0 &&
                btfm_dense_rcond_f(gc, m, (float)anorm) > 1e-3f;
    }
    if (!st && *used) {
        h->rank = m;
        h->v_det = 0.0;
        /* both written in full below */
        h->f = btfm_malloc((size_t)(T * m) * sizeof(double));
        h->dual = btfm_malloc((size_t)(T * m) * sizeof(double));
        if (!h->f || !h->dual) st = btfm_fail_nomem(where, (size_t)(T * m) * sizeof(double));
    }
    if (!st && *used) {
        /* R^T (lower), by tiles of R's rows */
        enum { TILE = 32 };
        memset(y, 0, (size_t)(m * m) * sizeof(double));
        for (int64_t i0 = 0; i0 < m; i0 += TILE)
            for (int64_t j0 = i0; j0 < m; j0 += TILE)
                for (int64_t i = i0; i < i0 + TILE && i < m; i++)
                    for (int64_t j = j0 > i ? j0 : i; j < j0 + TILE && j < m; j++)
                        y[j * m + i] = gc[i * m + j];
        btfm_align_embed_centered(y, m, m, h->f);
        /* R^-1 (upper): in float, as every step uses it (R's condition is below about
         * 30 here, so the inverse keeps float accuracy) */
        if (!(st = btfm_dense_invert_upper_f(gc, m, where))) {
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < m; j++) y[i * m + j] = j >= i ? gc[i * m + j] : 0.0;
            btfm_align_embed_centered(y, m, m, h->dual);
        }
    }
    btfm_scratch_put(gc, gbytes);
    btfm_free(w);
    btfm_scratch_put(y, ybytes);
    return st;
}

/* Standardize x (T x V) in place (float) with the statistics into mean/scale, and
 * decompose it once for the whole fit: for T <= V from the T x T Gram matrix
 * (single-precision product, then its Cholesky factor when well conditioned and not
 * whitening, else its eigenproblem, in single precision for a moderate spectrum),
 * otherwise through the double thin SVD. `whitened` (may be NULL) receives the data as they
 * enter the template: whitened when alpha < 1, else as they are. */
btfm_status btfm_hyper_prepare(const btfm_aligner *a, float *x, int64_t V, double *mean,
                           double *scale, hyper_subject *h, float *whitened)
{
    const int64_t T = a->n_times;
    const int whiten = ALIGN_PARAM(a, ALPHA) < 1.0;
    double *u = NULL, *s = NULL;
    int factored = 0; /* by a Cholesky factorization instead of the eigendecomposition */
    btfm_status st = BTFM_OK;
    btfm_dense_standardize(x, T, V, V, (int)ALIGN_PARAM(a, ZSCORE), mean, scale);
    if (T <= V) {
        const size_t gbytes = (size_t)(T * T) * sizeof(float);
        float *g = btfm_scratch_get(gbytes);
        float *wf = btfm_malloc((size_t)T * sizeof(float));
        double *w = btfm_dense_zeros(T, 1, "btfm_aligner_fit");
        double *gram = NULL;
        int64_t r = 0;
        if (!g || !wf || !w) st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * 4);
        h->v_det = 0.0; /* as the thin SVD by rows: det(v) is kept only for T > V */
        if (!st) {
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)V, 1.0f,
                        x, (blasint)V, 0.0f, g, (blasint)T);
        }
        if (!st && !whiten) st = factor_by_cholesky(T, g, h, &factored);
        if (!st && !factored && !(gram = btfm_dense_zeros(T, T, "btfm_aligner_fit")))
            st = BTFM_E_NOMEM;
        if (!st && !factored) {
            for (int64_t i = 0; i < T; i++)
                for (int64_t j = i; j < T; j++) gram[i * T + j] = g[i * T + j];
            st = btfm_dense_syev_f(g, T, wf, "aligner");
        }
        if (!st && !factored) {
            /* The float eigensolver errs by about 1e-7 of the largest eigenvalue: the
             * centering's null direction stays below 1e-6, and a kept spectrum within
             * 1e3 is resolved to 1e-4 relative. Wider spectra (T close to V, or nearly
             * dependent time points) are solved in double from a Gram matrix formed in
             * double: the float one carries errors of 1e-7 of its largest eigenvalue into
             * the weakest directions, which the maps divide by their singular values
             * (a held-out transform off by percents at T = V). Directions below 1e-8 of
             * the largest eigenvalue count as null. */
            while (r < T && wf[r] > wf[0] * 1e-6f && wf[r] > 0) r++;
            if (r > 0 && wf[r - 1] >= wf[0] * 1e-3f) {
                for (int64_t k = 0; k < r; k++) w[k] = wf[k];
                for (int64_t i = 0; i < T; i++)
                    for (int64_t k = 0; k < r; k++) gram[i * T + k] = g[i * T + k];
            } else {
                st = btfm_dense_gram_fd(x, T, V, V, gram, "btfm_aligner_fit");
                for (int64_t i = 0; !st && i < T; i++)
                    for (int64_t j = 0; j < i; j++) gram[i * T + j] = gram[j * T + i];
                if (!st) st = btfm_dense_syev(gram, T, w, "aligner");
                double floor_ = w[0] > 0 ? w[0] * 1e-8 : 0.0;
                r = 0;
                while (!st && r < T && w[r] > floor_ && w[r] > 0) r++;
            }
        }
        if (!st && !factored) {
            if (r == 0) r = 1;
            h->rank = r;
            u = btfm_dense_zeros(T, r, "btfm_aligner_fit");
            s = btfm_dense_zeros(r, 1, "btfm_aligner_fit");
            if (!u || !s) st = BTFM_E_NOMEM;
            for (int64_t i = 0; !st && i < T; i++)
                for (int64_t k = 0; k < r; k++) u[i * r + k] = gram[i * T + k];
            for (int64_t k = 0; !st && k < r; k++) s[k] = w[k] > 0 ? sqrt(w[k]) : 0.0;
        }
        btfm_scratch_put(g, gbytes);
        btfm_free(wf);
        btfm_free(gram);
        btfm_free(w);
    } else {
        double *z = btfm_dense_zeros(T, V, "btfm_aligner_fit");
        if (!z) return BTFM_E_NOMEM;
        for (int64_t j = 0; j < T * V; j++) z[j] = x[j];
        st = btfm_dense_thin_svd(z, T, V, &u, &s, NULL, &h->rank, &h->v_det, "aligner");
        btfm_free(z);
    }
    if (!st && !factored) st = factor_from_svd(a, u, s, V, x, h, whiten ? whitened : NULL);
    if (!st && whitened && !whiten) memcpy(whitened, x, (size_t)(T * V) * sizeof(float));
    if (!st && T > 1) st = subject_floats(h, T);
    btfm_free(u);
    btfm_free(s);
    return st;
}

/* Undo the in-place standardization of a training copy (after a failed fit, so a
 * retry starts from the data as added, up to float rounding). */
void btfm_hyper_unstandardize(float *x, int64_t T, int64_t V, const double *mean,
                          const double *scale)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t f = 0; f < V; f++)
            x[t * V + f] = (float)(x[t * V + f] * scale[f] + mean[f]);
}
