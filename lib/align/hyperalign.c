/* Hyperalignment (Haxby et al. 2011, Neuron), following PyMVPA's Hyperalignment:
 * level 1 grows a template from the reference subject, level 2 re-aligns each subject to
 * the leave-one-out mean for a number of passes, level 3 fits the final maps to the
 * common template. Every Procrustes step works on T-sized problems: each subject's thin SVD
 * is computed once, the T x V products run in single precision. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "align_internal.h"

/* One subject's standardized, optionally whitened data X in factored form: X = f w^T
 * with w (V x rank) orthonormal, and dual (T x rank) with w = Z^T dual for the
 * standardized data Z, so a map R = w p * scale applies to Z as Z^T dual p * scale.
 * Regularized whitening (PyMVPA's alpha) multiplies Z = u s v^T by
 * v diag(1/sqrt((1-a)s^2 + a)) v^T, which only rescales the singular values to
 * sw = s / sqrt((1-a) s^2 + a): f = u sw, w = v, dual = u sw / s^2. */
typedef struct hyper_subject {
    double *f, *dual;
    int64_t rank;
    double v_det;
    float *f32, *fc32; /* f and (Q f)[1:] in float, for the steps */
    double norm2;      /* ||f||^2 */
} hyper_subject;

static void hyper_subject_clear(hyper_subject *h)
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
    double *w = btfm_align_doubles((size_t)T, "btfm_aligner_fit");
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

static align_source source_of(const hyper_subject *h, int64_t n_times, int64_t n_features)
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
    h->f = btfm_align_matrix(T, r, "btfm_aligner_fit");
    h->dual = btfm_align_matrix(T, r, "btfm_aligner_fit");
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
    float *gc = btfm_malloc((size_t)(m * m) * sizeof(float));
    double *w = btfm_align_doubles((size_t)T, where);
    double *y = btfm_align_matrix(m, m, where);
    btfm_status st = (!gc || !w || !y) ? btfm_fail_nomem(where, (size_t)(m * m) * 8) : BTFM_OK;
    *used = 0;
    if (!st && m > 0) {
        btfm_align_centered_block(g, T, w, gc);
        float anorm = 0.0f, rcond = 0.0f;
        for (int64_t j = 0; j < m; j++) {
            float col = 0.0f;
            for (int64_t i = 0; i < m; i++) col += fabsf(gc[i * m + j]);
            if (col > anorm) anorm = col;
        }
        if (LAPACKE_spotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, gc, (lapack_int)m) == 0 &&
            LAPACKE_spocon(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, gc, (lapack_int)m, anorm,
                           &rcond) == 0 &&
            rcond > 1e-3f)
            *used = 1;
    }
    if (!st && *used) {
        h->rank = m;
        h->v_det = 0.0;
        h->f = btfm_align_matrix(T, m, where);
        h->dual = btfm_align_matrix(T, m, where);
        if (!h->f || !h->dual) st = BTFM_E_NOMEM;
    }
    if (!st && *used) {
        for (int64_t i = 0; i < m; i++) /* R^T (lower) */
            for (int64_t j = 0; j < m; j++) y[i * m + j] = j <= i ? gc[j * m + i] : 0.0;
        btfm_align_embed_centered(y, m, m, h->f);
        for (int64_t i = 0; i < m; i++) /* R (upper), inverted in place */
            for (int64_t j = 0; j < m; j++) y[i * m + j] = j >= i ? gc[i * m + j] : 0.0;
        lapack_int info = LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'U', 'N', (lapack_int)m, y,
                                         (lapack_int)m);
        if (info != 0)
            st = btfm_fail(BTFM_E_NUMERIC, "%s: a %lld x %lld triangular factor is singular "
                           "(LAPACK dtrtri info %d)", where, (long long)m, (long long)m,
                           (int)info);
        else
            btfm_align_embed_centered(y, m, m, h->dual);
    }
    btfm_free(gc);
    btfm_free(w);
    btfm_free(y);
    return st;
}

/* Standardize x (T x V) in place (float) with the statistics into mean/scale, and
 * decompose it once for the whole fit: for T <= V from the T x T Gram matrix
 * (single-precision product, then its Cholesky factor when well conditioned and not
 * whitening, else its eigenproblem, in single precision for a moderate spectrum),
 * otherwise through the double thin SVD. `whitened` (may be NULL) receives the data as they
 * enter the template: whitened when alpha < 1, else as they are. */
static btfm_status prepare(const btfm_aligner *a, float *x, int64_t V, double *mean,
                           double *scale, hyper_subject *h, float *whitened)
{
    const int64_t T = a->n_times;
    const int whiten = ALIGN_PARAM(a, ALPHA) < 1.0;
    double *u = NULL, *s = NULL;
    int factored = 0; /* by a Cholesky factorization instead of the eigendecomposition */
    btfm_status st = BTFM_OK;
    btfm_align_standardize(x, T, V, (int)ALIGN_PARAM(a, ZSCORE), mean, scale);
    if (T <= V) {
        float *g = btfm_malloc((size_t)(T * T) * sizeof(float));
        float *wf = btfm_malloc((size_t)T * sizeof(float));
        double *w = btfm_align_doubles((size_t)T, "btfm_aligner_fit");
        double *gram = NULL;
        int64_t r = 0;
        if (!g || !wf || !w) st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * 4);
        h->v_det = 0.0; /* as the thin SVD by rows: det(v) is kept only for T > V */
        if (!st) {
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)V, 1.0f,
                        x, (blasint)V, 0.0f, g, (blasint)T);
            gram = btfm_align_matrix(T, T, "btfm_aligner_fit");
            if (!gram) st = BTFM_E_NOMEM;
        }
        if (!st && !whiten) st = factor_by_cholesky(T, g, h, &factored);
        if (!st && !factored) {
            for (int64_t i = 0; i < T; i++)
                for (int64_t j = i; j < T; j++) gram[i * T + j] = g[i * T + j];
            st = btfm_align_sym_eig_float(g, T, wf);
        }
        if (!st && !factored) {
            /* The float eigensolver errs by about 1e-7 of the largest eigenvalue: the
             * centering's null direction stays below 1e-6, and a kept spectrum within
             * 1e3 is resolved to 1e-4 relative. Wider spectra are solved in double from
             * the same float Gram matrix, which resolves eigenvalues to about 1e-9 of
             * the largest: directions below 1e-8 count as null. */
            while (r < T && wf[r] > wf[0] * 1e-6f && wf[r] > 0) r++;
            if (r > 0 && wf[r - 1] >= wf[0] * 1e-3f) {
                for (int64_t k = 0; k < r; k++) w[k] = wf[k];
                for (int64_t i = 0; i < T; i++)
                    for (int64_t k = 0; k < r; k++) gram[i * T + k] = g[i * T + k];
            } else {
                for (int64_t i = 0; i < T; i++)
                    for (int64_t j = 0; j < i; j++) gram[i * T + j] = gram[j * T + i];
                st = btfm_align_sym_eig(gram, T, w);
                double floor_ = w[0] > 0 ? w[0] * 1e-8 : 0.0;
                r = 0;
                while (!st && r < T && w[r] > floor_ && w[r] > 0) r++;
            }
        }
        if (!st && !factored) {
            if (r == 0) r = 1;
            h->rank = r;
            u = btfm_align_matrix(T, r, "btfm_aligner_fit");
            s = btfm_align_doubles((size_t)r, "btfm_aligner_fit");
            if (!u || !s) st = BTFM_E_NOMEM;
            for (int64_t i = 0; !st && i < T; i++)
                for (int64_t k = 0; k < r; k++) u[i * r + k] = gram[i * T + k];
            for (int64_t k = 0; !st && k < r; k++) s[k] = w[k] > 0 ? sqrt(w[k]) : 0.0;
        }
        btfm_free(g);
        btfm_free(wf);
        btfm_free(gram);
        btfm_free(w);
    } else {
        double *z = btfm_align_matrix(T, V, "btfm_aligner_fit");
        if (!z) return BTFM_E_NOMEM;
        for (int64_t j = 0; j < T * V; j++) z[j] = x[j];
        st = btfm_align_thin_svd(z, T, V, &u, &s, NULL, &h->rank, &h->v_det);
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
static void unstandardize(float *x, int64_t T, int64_t V, const double *mean,
                          const double *scale)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t f = 0; f < V; f++)
            x[t * V + f] = (float)(x[t * V + f] * scale[f] + mean[f]);
}

/* The common template as level 3's T x T route shares it among subjects: the upper
 * Cholesky factor rg of its Gram matrix on the centered vectors ((T-1) x (T-1), float)
 * and the orthonormal rows `basis` ((T-1) x K, double) with C = Q [0; rg^T basis]. */
typedef struct common_factor {
    float *rg;
    double *basis;
} common_factor;

static void common_factor_clear(common_factor *cf)
{
    btfm_free(cf->rg);
    btfm_free(cf->basis);
    cf->rg = NULL;
    cf->basis = NULL;
}

/* The factor of the template c (T x K, double) from its float Gram matrix g (upper part);
 * leaves cf empty when g is not numerically positive definite on the centered vectors
 * (level 3 then takes the factored route). */
static btfm_status common_factor_init(const double *c, const float *g, int64_t T, int64_t K,
                                      common_factor *cf)
{
    const char *where = "btfm_aligner_fit";
    const int64_t m = T - 1;
    double *w = btfm_align_doubles((size_t)T, where);
    double *rd = btfm_align_matrix(m, m, where);
    cf->rg = btfm_malloc((size_t)(m * m) * sizeof(float));
    cf->basis = btfm_align_matrix(m, K, where);
    btfm_status st = (!w || !rd || !cf->rg || !cf->basis)
                         ? btfm_fail_nomem(where, (size_t)(m * K) * sizeof(double))
                         : BTFM_OK;
    if (!st) {
        btfm_align_centered_block(g, T, w, cf->rg);
        if (m == 0 || LAPACKE_spotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, cf->rg,
                                     (lapack_int)m) != 0) {
            common_factor_clear(cf);
        } else {
            /* basis = rg^-T (Q c)[1:] */
            btfm_align_project_centered(c, T, K, cf->basis);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < m; j++) rd[i * m + j] = j >= i ? cf->rg[i * m + j] : 0.0;
            cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit,
                        (blasint)m, (blasint)K, 1.0, rd, (blasint)m, cf->basis, (blasint)K);
        }
    }
    if (st) common_factor_clear(cf);
    btfm_free(w);
    btfm_free(rd);
    return st;
}

/* The level-3 map through a shared template factor: a = z^T N (V x (T-1)), b = basis
 * (shared: the fit hands the basis to the aligner once every map refers to it).
 * *done is 0 when the problem needs the factored route instead. */
static btfm_status final_map_onto(const btfm_aligner *a, const hyper_subject *h,
                                  const float *z, int64_t V, const common_factor *cf,
                                  double target_sq, align_map *m, double *sq, int *done)
{
    const int64_t T = a->n_times, K = a->n_components, n = T - 1;
    align_source src = source_of(h, T, V);
    align_rotation rot;
    *done = 0;
    if (!cf || !cf->rg || !btfm_align_procrustes_by_gram(&src, K, (int)ALIGN_PARAM(a, REFLECTION)))
        return BTFM_OK;
    float *nf = btfm_malloc((size_t)(T * n) * sizeof(float));
    float *af = btfm_malloc((size_t)(V * n) * sizeof(float));
    btfm_status st = (!nf || !af) ? btfm_fail_nomem("btfm_aligner_fit", (size_t)(V * n) * 4)
                                  : BTFM_OK;
    if (!st)
        st = btfm_align_procrustes_onto(&src, h->dual, cf->rg, (int)ALIGN_PARAM(a, SCALING),
                                        nf, &rot, done);
    if (!st && *done && !(st = btfm_align_map_alloc(m, V, n, K))) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)n,
                    (blasint)T, 1.0f, z, (blasint)V, nf, (blasint)n, 0.0f, af, (blasint)n);
        for (int64_t j = 0; j < V * n; j++) m->a[j] = af[j];
        btfm_free(m->b); /* every map shares the template's basis */
        m->b = cf->basis;
        m->b_shared = 1;
        *sq = rot.mapped_sq - 2.0 * rot.scale * rot.trace + target_sq;
    }
    btfm_free(nf);
    btfm_free(af);
    return st;
}

/* The level-3 map of one subject onto the common template `target` (T x K, float; its
 * Gram matrix `target_gram` may be NULL):
 * a = w p scale = z^T (dual p scale), b = qt. *sq receives ||X R - C||^2 from the
 * factors: ||X R||^2 - 2 scale trace + ||C||^2. */
static btfm_status final_map(const btfm_aligner *a, const hyper_subject *h, const float *z,
                             int64_t V, const float *target, const float *target_gram,
                             const common_factor *cf, double target_sq, align_map *m,
                             double *sq)
{
    const int64_t T = a->n_times, K = a->n_components;
    align_source src = source_of(h, T, V);
    align_rotation rot;
    int done;
    btfm_status st = final_map_onto(a, h, z, V, cf, target_sq, m, sq, &done);
    if (st || done) return st;
    st = btfm_align_procrustes_float(&src, target, K, target_gram,
                                                 (int)ALIGN_PARAM(a, SCALING),
                                                 (int)ALIGN_PARAM(a, REFLECTION), NULL, NULL,
                                                 &rot, NULL);
    if (st) return st;
    const int64_t r = h->rank, r2 = rot.rank;
    float *df = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *pf = btfm_malloc((size_t)(r * r2) * sizeof(float));
    float *left = btfm_malloc((size_t)(T * r2) * sizeof(float));
    float *af = btfm_malloc((size_t)(V * r2) * sizeof(float));
    if (!df || !pf || !left || !af || (st = btfm_align_map_alloc(m, V, r2, 0))) {
        st = st ? st : btfm_fail_nomem("btfm_aligner_fit", (size_t)(V * r2) * sizeof(float));
        goto done;
    }
    for (int64_t j = 0; j < T * r; j++) df[j] = (float)h->dual[j];
    for (int64_t j = 0; j < r * r2; j++) pf[j] = (float)rot.p[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r2,
                (blasint)r, (float)rot.scale, df, (blasint)r, pf, (blasint)r2, 0.0f, left,
                (blasint)r2);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)V, (blasint)r2, (blasint)T,
                1.0f, z, (blasint)V, left, (blasint)r2, 0.0f, af, (blasint)r2);
    for (int64_t j = 0; j < V * r2; j++) m->a[j] = af[j];
    /* b = qt, taken over rather than copied; offset is K zeros. */
    btfm_free(m->b);
    btfm_free(m->offset);
    m->b = rot.qt;
    rot.qt = NULL;
    m->offset = btfm_align_doubles((size_t)K, "btfm_aligner_fit");
    if (!m->offset) { st = BTFM_E_NOMEM; goto done; }
    *sq = rot.mapped_sq - 2.0 * rot.scale * rot.trace + target_sq;
done:
    btfm_free(df);
    btfm_free(pf);
    btfm_free(left);
    btfm_free(af);
    btfm_align_rotation_clear(&rot);
    return st;
}

/* mapped = procrustes(subject -> target).apply, `side` (may be NULL) beside it. */
static btfm_status map_to(const btfm_aligner *a, const hyper_subject *h, int64_t V,
                          const float *target, int64_t n_target, float *mapped,
                          const align_side *side)
{
    align_source src = source_of(h, a->n_times, V);
    return btfm_align_procrustes_float(&src, target, n_target, NULL,
                                       (int)ALIGN_PARAM(a, SCALING),
                                       (int)ALIGN_PARAM(a, REFLECTION), mapped, NULL, NULL,
                                       side);
}

/* z-score the columns of x (rows x cols, float) in place; `acc` has 2 cols doubles. */
static void zscore_float(float *x, int64_t rows, int64_t cols, double *acc)
{
    (void)btfm_align_standardize(x, rows, cols, 1, acc, acc + cols);
}

/* Reduce the template to its top `k` principal directions (PyMVPA's output_dim):
 * with C = u s v^T, C v_k = u_k s_k, so the eigendecomposition of the T x T Gram matrix
 * C C^T = u s^2 u^T gives the reduced template without a V-sized product. */
static btfm_status reduce_common(btfm_aligner *a, const double *common, int64_t Vc, int64_t k)
{
    const int64_t T = a->n_times;
    double *g = btfm_align_matrix(T, T, "btfm_aligner_fit");
    double *w = btfm_align_doubles((size_t)T, "btfm_aligner_fit");
    btfm_status st = (!g || !w) ? BTFM_E_NOMEM : BTFM_OK;
    double *u = btfm_align_matrix(T, k, "btfm_aligner_fit");
    lapack_int *support = btfm_malloc((size_t)(2 * k) * sizeof *support);
    lapack_int found = 0;
    if (!st && (!u || !support)) st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * k) * 8);
    if (!st) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)Vc, 1.0,
                    common, (blasint)Vc, 0.0, g, (blasint)T);
        /* the k largest eigenpairs (ascending: the last one is the largest) */
        lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)T, g,
                                         (lapack_int)T, 0.0, 0.0, (lapack_int)(T - k + 1),
                                         (lapack_int)T, 0.0, &found, w, u, (lapack_int)k,
                                         support);
        if (info != 0 || found != k)
            st = btfm_fail(BTFM_E_NUMERIC, "btfm_aligner_fit: the %lld x %lld eigenproblem of "
                           "the common template did not converge (LAPACK dsyevr info %d)",
                           (long long)T, (long long)T, (int)info);
    }
    /* A direction below 1e-7 of the largest singular value counts as null. */
    if (!st && !(w[0] > w[k - 1] * 1e-14 && w[0] > 0))
        st = btfm_fail(BTFM_E_RANGE, "btfm_aligner_fit: n_features = %lld exceeds the rank "
                       "of the common template", (long long)k);
    if (!st && !(a->common = btfm_align_matrix(T, k, "btfm_aligner_fit"))) st = BTFM_E_NOMEM;
    if (!st) { /* columns in descending order of the singular values */
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < k; j++)
                a->common[t * k + j] = u[t * k + (k - 1 - j)] * sqrt(w[k - 1 - j]);
        btfm_align_zscore_columns(a->common, T, k);
    }
    btfm_free(g);
    btfm_free(w);
    btfm_free(u);
    btfm_free(support);
    return st;
}

/* What the per-subject phases of a fit share; each task writes only its subject's
 * entries. */
typedef struct hyper_fit {
    btfm_aligner *a;
    hyper_subject *hs;
    float **mapped;     /* per subject, T x Vc */
    int ref;
    int64_t Vc;
    const float *common; /* level 2: the template (T x Vc); level 3: the target */
    const float *gram;   /* level 3: the target's Gram matrix, or NULL */
    const common_factor *factor; /* level 3: the target's shared factor, or NULL */
    int *order;          /* level 1: the subjects but the reference, in order */
    int workers;         /* threads for the per-subject phases and level 1's blocks */
    double target_sq;    /* level 3: ||target||^2 */
    double *sq;          /* level 3: per subject ||X R - C||^2 */
} hyper_fit;

static btfm_status prepare_task(void *ctx, int64_t i, int worker)
{
    hyper_fit *fit = ctx;
    btfm_aligner *a = fit->a;
    /* the reference enters the template as whitened (alpha < 1) or as it is */
    return prepare(a, a->train[i], a->n_features[i], a->maps[i].mean, a->maps[i].scale,
                   &fit->hs[i], i == fit->ref ? fit->mapped[i] : NULL);
}

/* The preparation of the reference (index 0) and of the first subject of level 1. */
static btfm_status prepare_first_task(void *ctx, int64_t k, int worker)
{
    hyper_fit *fit = ctx;
    return prepare_task(ctx, k == 0 ? fit->ref : fit->order[0], worker);
}

/* Level 2 for subject i: M_i = z(P(Z_i -> z((N C - M_i) / (N - 1)))), C the plain mean of
 * the previous pass. */
BTFM_HOT static btfm_status level2_task(void *ctx, int64_t i, int worker)
{
    hyper_fit *fit = ctx;
    btfm_aligner *a = fit->a;
    const int64_t T = a->n_times, Vc = fit->Vc;
    const int N = a->n_subjects;
    float *target = btfm_malloc((size_t)(T * Vc) * sizeof(float));
    double *acc = btfm_align_doubles((size_t)(2 * Vc), "btfm_aligner_fit");
    btfm_status st = BTFM_OK;
    if (!target || !acc) {
        st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * Vc) * sizeof(float));
    } else {
        const float *mi = fit->mapped[i];
        const float n = (float)N, n1 = 1.0f / (float)(N - 1);
        for (int64_t j = 0; j < T * Vc; j++) target[j] = (n * fit->common[j] - mi[j]) * n1;
        zscore_float(target, T, Vc, acc);
        st = map_to(a, &fit->hs[i], a->n_features[i], target, Vc, fit->mapped[i], NULL);
        if (!st) zscore_float(fit->mapped[i], T, Vc, acc);
    }
    btfm_free(target);
    btfm_free(acc);
    return st;
}

/* Level 3 for subject i: its final map to the common template. */
static btfm_status level3_task(void *ctx, int64_t i, int worker)
{
    hyper_fit *fit = ctx;
    btfm_aligner *a = fit->a;
    const int64_t V = a->n_features[i];
    align_map *m = &a->maps[i];
    double *mean = m->mean, *scale = m->scale;
    m->mean = m->scale = NULL;
    btfm_align_map_clear(m);
    btfm_status st = final_map(a, &fit->hs[i], a->train[i], V, fit->common, fit->gram,
                               fit->factor, fit->target_sq, m, &fit->sq[i]);
    if (!st) {
        memcpy(m->mean, mean, (size_t)V * sizeof(double));
        memcpy(m->scale, scale, (size_t)V * sizeof(double));
        btfm_free(mean);
        btfm_free(scale);
    } else { /* keep the statistics for undoing the standardization */
        btfm_align_map_clear(m);
        m->mean = mean;
        m->scale = scale;
    }
    return st;
}

/* The template's T x V work on blocks of its columns (one block a worker): optionally
 * the plain mean of the subjects' aligned data; level 1's update with one subject's
 * aligned data L C, their z-score and C = (M + C) / 2; the z-score of the template; and
 * the blocks' share of its Gram matrix for the next Procrustes step. */
typedef struct template_blocks {
    float *const *mean_of; /* C = mean of these n_mean arrays first, or NULL */
    int n_mean;
    const float *left;     /* T x T operator (upper part), or NULL when `mapped` is formed */
    float *mapped;         /* level 1: the subject's aligned data, or NULL */
    int zscore;            /* z-score the template's columns last */
    float *common;
    float **gram;          /* per worker: its blocks' C C^T (upper part), or NULL */
    double **acc;          /* per worker: 2 x chunk doubles */
    int64_t T, Vc, chunk;
} template_blocks;

BTFM_HOT static btfm_status template_block(void *ctx, int64_t b, int worker)
{
    template_blocks *l = ctx;
    const int64_t T = l->T, Vc = l->Vc, c0 = b * l->chunk;
    const int64_t n = c0 + l->chunk <= Vc ? l->chunk : Vc - c0;
    if (n <= 0) return BTFM_OK;
    float *c = l->common + c0;
    double *acc = l->acc[worker];
    for (int64_t t = 0; l->mean_of && t < T; t++) { /* accumulated in double */
        for (int64_t j = 0; j < n; j++) acc[j] = 0.0;
        for (int i = 0; i < l->n_mean; i++) {
            const float *m = l->mean_of[i] + t * Vc + c0;
            for (int64_t j = 0; j < n; j++) acc[j] += m[j];
        }
        for (int64_t j = 0; j < n; j++) c[t * Vc + j] = (float)(acc[j] / l->n_mean);
    }
    if (l->mapped) {
        float *m = l->mapped + c0;
        if (l->left)
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (blasint)T, (blasint)n, 1.0f,
                        l->left, (blasint)T, c, (blasint)Vc, 0.0f, m, (blasint)Vc);
        btfm_align_standardize_ld(m, T, n, Vc, 1, acc, acc + n);
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < n; j++)
                c[t * Vc + j] = 0.5f * (m[t * Vc + j] + c[t * Vc + j]);
    }
    if (l->zscore) btfm_align_standardize_ld(c, T, n, Vc, 1, acc, acc + n);
    if (l->gram)
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)n, 1.0f, c,
                    (blasint)Vc, 1.0f, l->gram[worker], (blasint)T);
    return BTFM_OK;
}

/* Run the blocks on `workers` threads; gram[0] receives the whole C C^T. */
static btfm_status template_run(template_blocks *l, int workers)
{
    const int64_t T = l->T;
    for (int w = 0; l->gram && w < workers; w++)
        memset(l->gram[w], 0, (size_t)(T * T) * sizeof(float));
    btfm_status st = btfm_parallel_for(workers, workers, template_block, l);
    for (int w = 1; !st && l->gram && w < workers; w++)
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = i; j < T; j++) l->gram[0][i * T + j] += l->gram[w][i * T + j];
    return st;
}

/* Per-worker scratch for template_run (gram when T x T blocks are wanted). */
typedef struct template_scratch {
    float **gram;
    double **acc;
    int workers;
} template_scratch;

static void template_scratch_clear(template_scratch *ts)
{
    for (int w = 0; w < ts->workers; w++) {
        if (ts->gram) btfm_free(ts->gram[w]);
        if (ts->acc) btfm_free(ts->acc[w]);
    }
    btfm_free(ts->gram);
    btfm_free(ts->acc);
    memset(ts, 0, sizeof *ts);
}

static btfm_status template_scratch_init(template_scratch *ts, int workers, int64_t T,
                                         int64_t chunk, int with_gram)
{
    ts->workers = workers;
    ts->gram = btfm_calloc((size_t)workers, sizeof *ts->gram);
    ts->acc = btfm_calloc((size_t)workers, sizeof *ts->acc);
    btfm_status st = (!ts->gram || !ts->acc) ? btfm_fail_nomem("btfm_aligner_fit", 64) : BTFM_OK;
    for (int w = 0; !st && w < workers; w++) {
        ts->acc[w] = btfm_align_doubles((size_t)(2 * chunk), "btfm_aligner_fit");
        if (with_gram) ts->gram[w] = btfm_malloc((size_t)(T * T) * sizeof(float));
        if (!ts->acc[w] || (with_gram && !ts->gram[w]))
            st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float));
    }
    if (st) template_scratch_clear(ts);
    return st;
}

/* Column blocks of at least 16 floats, one a worker. */
static int64_t template_chunk(int64_t Vc, int workers)
{
    return ((Vc + workers - 1) / workers + 15) / 16 * 16;
}

/* The template as the plain mean of the aligned data (PyMVPA's combiner2), z-scored when
 * `zscore`, or only z-scored when mean_of is NULL. */
static btfm_status template_update(const hyper_fit *fit, float *const *mean_of, int zscore,
                                   float *common)
{
    const int W = fit->workers;
    const int64_t T = fit->a->n_times, Vc = fit->Vc, chunk = template_chunk(Vc, W);
    template_scratch ts;
    btfm_status st = template_scratch_init(&ts, W, T, chunk, 0);
    if (st) return st;
    template_blocks l = {mean_of, fit->a->n_subjects, NULL, NULL, zscore, common, NULL,
                         ts.acc, T, Vc, chunk};
    st = template_run(&l, W);
    template_scratch_clear(&ts);
    return st;
}

/* Level 1: the template grows subject by subject from the reference (in `common`). Each
 * step's T x T algebra runs on the caller's thread, its eigendecomposition beside the
 * preparation of the next subject, its T x V products and z-scores on column blocks. */
static btfm_status level1(hyper_fit *fit, float *common)
{
    btfm_aligner *a = fit->a;
    const int N = a->n_subjects, W = fit->workers;
    const int64_t T = a->n_times, Vc = fit->Vc, chunk = template_chunk(Vc, W);
    const int scaling = (int)ALIGN_PARAM(a, SCALING), reflection = (int)ALIGN_PARAM(a, REFLECTION);
    const int by_gram = T <= Vc; /* whether any step can take the T x T route */
    float *left = by_gram ? btfm_malloc((size_t)(T * T) * sizeof(float)) : NULL;
    template_scratch ts = {0};
    btfm_status st = (by_gram && !left)
                         ? btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float))
                         : template_scratch_init(&ts, W, T, chunk, by_gram);
    template_blocks l = {NULL, 0, NULL, NULL, 1, common, by_gram ? ts.gram : NULL, ts.acc,
                         T, Vc, chunk};
    if (!st) {
        memcpy(common, fit->mapped[fit->ref], (size_t)(T * Vc) * sizeof(float));
        st = template_run(&l, W);
    }
    for (int s = 0; !st && s < N - 1; s++) {
        const int i = fit->order[s];
        const int64_t V = a->n_features[i];
        /* the last step has no preparation beside it, but still its workers */
        align_side side = {s + 1 < N - 1 ? prepare_task : NULL, fit,
                           s + 1 < N - 1 ? fit->order[s + 1] : 0, W};
        align_source src = source_of(&fit->hs[i], T, V);
        l.left = by_gram && btfm_align_procrustes_by_gram(&src, Vc, reflection) ? left : NULL;
        if (l.left)
            st = btfm_align_procrustes_float(&src, common, Vc, ts.gram[0], scaling, reflection,
                                             NULL, left, NULL, &side);
        else
            st = map_to(a, &fit->hs[i], V, common, Vc, fit->mapped[i], &side);
        l.mapped = fit->mapped[i];
        if (!st) st = template_run(&l, W);
    }
    template_scratch_clear(&ts);
    btfm_free(left);
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
    float **mapped = btfm_calloc((size_t)N, sizeof *mapped);
    float *common = btfm_malloc((size_t)(T * Vc) * sizeof(float));
    double *sq = btfm_align_doubles((size_t)N, "btfm_aligner_fit");
    double *common_d = NULL;
    float *target = NULL, *gram = NULL;
    int prepared = 0; /* training copies that may be standardized in place */
    int *order = btfm_malloc((size_t)N * sizeof *order);
    common_factor factor = {NULL, NULL};
    hyper_fit fit = {.a = a, .hs = hs, .mapped = mapped, .ref = ref, .Vc = Vc, .sq = sq,
                     .order = order, .workers = btfm_align_workers(a)};
    /* Every phase spreads its own work over the workers, with OpenBLAS on one thread per
     * caller: OpenBLAS's own threads would keep spinning between calls and take a core
     * from the workers. */
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads > 1) openblas_set_num_threads(1);
    btfm_status st = BTFM_OK;
    if (!hs || !mapped || !common || !sq || !order) {
        st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * Vc) * sizeof(float));
        goto done;
    }
    for (int i = 0; i < N && !st; i++) {
        mapped[i] = btfm_malloc((size_t)(T * Vc) * sizeof(float));
        if (!mapped[i]) st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * Vc) * 4);
    }
    /* Statistics start as mean 0, scale 1, so undoing a subject never reached is a no-op. */
    for (int i = 0; i < N && !st; i++)
        if (!(st = btfm_align_map_alloc(&a->maps[i], a->n_features[i], 0, 0)))
            prepared = i + 1;
    for (int i = 0, s = 0; i < N; i++)
        if (i != ref) order[s++] = i;
    /* The reference and the first subject of level 1 are prepared side by side; every
     * later subject beside the eigendecomposition of the level-1 step before its own,
     * so that level 1's sequential steps leave no core idle. */
    if (st || (st = btfm_parallel_for(fit.workers, N > 1 ? 2 : 1, prepare_first_task, &fit)))
        goto done;
    if ((st = level1(&fit, common))) goto done;
    if ((st = template_update(&fit, mapped, 0, common))) goto done;

    /* Level 2: each subject against the mean of the others, `level2_passes` times; the
     * subjects of a pass are independent. As in PyMVPA, the template stays the plain
     * mean between passes and is z-scored once at the end. */
    fit.common = common;
    for (int pass = 0; pass < (int)ALIGN_PARAM(a, LEVEL2_PASSES); pass++) {
        if ((st = btfm_parallel_for(fit.workers, N, level2_task, &fit))) goto done;
        if ((st = template_update(&fit, mapped, 0, common))) goto done;
    }
    if ((st = template_update(&fit, NULL, 1, common))) goto done;
    for (int i = 0; i < N; i++) { /* the aligned data are no longer needed */
        btfm_free(mapped[i]);
        mapped[i] = NULL;
    }

    common_d = btfm_align_matrix(T, Vc, "btfm_aligner_fit");
    if (!common_d) { st = BTFM_E_NOMEM; goto done; }
    for (int64_t j = 0; j < T * Vc; j++) common_d[j] = common[j];
    if (K > 0 && K < Vc) {
        if (blas_threads > 1) openblas_set_num_threads(blas_threads);
        st = reduce_common(a, common_d, Vc, K);
        if (blas_threads > 1) openblas_set_num_threads(1);
        if (st) goto done;
        a->n_components = K;
    } else {
        a->common = common_d;
        common_d = NULL;
        a->n_components = Vc;
    }

    /* Level 3: the final map of every subject to the common template (whose Gram matrix
     * every subject's T x T route shares). */
    const int64_t Kc = a->n_components;
    target = common; /* T x Vc floats hold the T x Kc target */
    for (int64_t j = 0; j < T * Kc; j++) {
        target[j] = (float)a->common[j];
        fit.target_sq += a->common[j] * a->common[j];
    }
    if (T <= Kc) {
        gram = btfm_malloc((size_t)(T * T) * sizeof(float));
        if (!gram) {
            st = btfm_fail_nomem("btfm_aligner_fit", (size_t)(T * T) * sizeof(float));
            goto done;
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)Kc, 1.0f,
                    target, (blasint)Kc, 0.0f, gram, (blasint)T);
        if ((st = common_factor_init(a->common, gram, T, Kc, &factor))) goto done;
    }
    fit.common = target;
    fit.gram = gram;
    fit.factor = &factor;
    if ((st = btfm_parallel_for(fit.workers, N, level3_task, &fit))) goto done;
    a->basis = factor.basis; /* the maps refer to it */
    factor.basis = NULL;
    double total = 0.0;
    for (int i = 0; i < N; i++) total += sq[i];
    a->objective = (total > 0 ? total : 0.0) / ((double)N * (double)T * (double)Kc);
    a->iterations = 0;
done:
    if (blas_threads > 1) openblas_set_num_threads(blas_threads);
    if (st)
        for (int i = 0; i < prepared; i++)
            if (a->maps[i].mean && a->maps[i].scale)
                unstandardize(a->train[i], T, a->n_features[i], a->maps[i].mean,
                              a->maps[i].scale);
    for (int i = 0; hs && i < N; i++) hyper_subject_clear(&hs[i]);
    for (int i = 0; mapped && i < N; i++) btfm_free(mapped[i]);
    btfm_free(hs);
    btfm_free(order);
    btfm_free(mapped);
    btfm_free(common);
    btfm_free(sq);
    btfm_free(gram);
    btfm_free(common_d);
    common_factor_clear(&factor);
    return st;
}

btfm_status btfm_align_hyper_fit_subject(btfm_aligner *a, int subject, const float *data)
{
    const int64_t T = a->n_times, V = a->n_features[subject], K = a->n_components;
    hyper_subject h = {0};
    double *mean = btfm_align_doubles((size_t)V, "btfm_aligner_add_subject");
    double *scale = btfm_align_doubles((size_t)V, "btfm_aligner_add_subject");
    float *z = btfm_malloc((size_t)(T * V) * sizeof(float));
    float *target = btfm_malloc((size_t)(T * K) * sizeof(float));
    btfm_status st = (!mean || !scale || !z || !target)
                         ? btfm_fail_nomem("btfm_aligner_add_subject", (size_t)(T * V) * 4)
                         : BTFM_OK;
    double sq;
    if (!st) {
        memcpy(z, data, (size_t)(T * V) * sizeof(float));
        for (int64_t j = 0; j < T * K; j++) target[j] = (float)a->common[j];
        st = prepare(a, z, V, mean, scale, &h, NULL);
    }
    if (!st) st = final_map(a, &h, z, V, target, NULL, NULL, 0.0, &a->maps[subject], &sq);
    if (!st) {
        memcpy(a->maps[subject].mean, mean, (size_t)V * sizeof(double));
        memcpy(a->maps[subject].scale, scale, (size_t)V * sizeof(double));
    }
    hyper_subject_clear(&h);
    btfm_free(mean);
    btfm_free(scale);
    btfm_free(z);
    btfm_free(target);
    return st;
}
