/* Orthogonal Procrustes through thin SVDs (Schoenemann 1966; PyMVPA's ProcrusteanMapper
 * with its scale defect fixed). For X = u s v^T (T x V, rank r <= T), X^T Y = v W with
 * W = s u^T Y (r x V'), so the rotation is v polar(W): nothing V x V is ever formed. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "align_internal.h"

void btfm_align_rotation_clear(align_rotation *r)
{
    btfm_free(r->p);
    btfm_free(r->qt);
    memset(r, 0, sizeof *r);
}

btfm_status btfm_align_procrustes(const align_source *src, const double *target,
                             int64_t n_target, int scaling, int reflection,
                             align_rotation *out)
{
    const int64_t T = src->n_times, r = src->rank;
    memset(out, 0, sizeof *out);
    double *w = btfm_align_matrix(r, n_target, "aligner: Procrustes");
    double *p = btfm_align_matrix(r, r, "aligner: Procrustes");
    double *d2 = btfm_align_doubles((size_t)r, "aligner: Procrustes");
    double *qt = NULL;
    btfm_status st = BTFM_OK;
    if (!w || !p || !d2) { st = BTFM_E_NOMEM; goto done; }

    /* W = s u^T Y, then its SVD W = p d qt from the r x r Gram matrix W W^T. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r, (blasint)n_target,
                (blasint)T, 1.0, src->u, (blasint)r, target, (blasint)n_target, 0.0, w,
                (blasint)n_target);
    for (int64_t k = 0; k < r; k++) cblas_dscal((blasint)n_target, src->s[k], w + k * n_target, 1);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)r, (blasint)n_target, 1.0, w,
                (blasint)n_target, 0.0, p, (blasint)r);
    if ((st = btfm_align_sym_eig(p, r, d2))) goto done;
    int64_t r2 = 0;
    while (r2 < r && d2[r2] > d2[0] * 1e-14 && d2[r2] > 0) r2++;
    if (r2 == 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "aligner: Procrustes: source and target are "
                       "uncorrelated (X^T Y = 0); nothing to align");
        goto done;
    }
    qt = btfm_align_matrix(r2, n_target, "aligner: Procrustes");
    if (!qt) { st = BTFM_E_NOMEM; goto done; }
    /* qt = d^-1 p^T W, using only the first r2 columns of p (row-major r x r). */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r2, (blasint)n_target,
                (blasint)r, 1.0, p, (blasint)r, w, (blasint)n_target, 0.0, qt,
                (blasint)n_target);
    double trace = 0.0;
    for (int64_t k = 0; k < r2; k++) {
        double d = sqrt(d2[k]);
        cblas_dscal((blasint)n_target, 1.0 / d, qt + k * n_target, 1);
        trace += d;
    }
    /* Compact p to r x r2. */
    for (int64_t i = 0; i < r; i++) memmove(p + i * r2, p + i * r, (size_t)r2 * sizeof(double));

    /* A reflection can only be forced when X^T Y has full rank and is square; otherwise a
     * null direction can be flipped at no cost, so every solution has a proper twin. */
    if (!reflection && src->v_det != 0.0 && r2 == r && r == src->n_features &&
        n_target == r) {
        double det_p, det_q;
        if ((st = btfm_align_det(p, r, &det_p)) || (st = btfm_align_det(qt, r, &det_q))) goto done;
        if (src->v_det * det_p * det_q < 0) {
            for (int64_t i = 0; i < r; i++) p[i * r2 + r2 - 1] = -p[i * r2 + r2 - 1];
            /* The scale uses the singular values with the sign actually applied
             * (Umeyama 1991), not PyMVPA's overwritten ones. */
            trace -= 2.0 * sqrt(d2[r2 - 1]);
        }
    }
    double norm2 = 0.0;
    for (int64_t k = 0; k < r; k++) norm2 += src->s[k] * src->s[k];
    out->scale = scaling ? trace / norm2 : 1.0;
    out->trace = trace;
    out->rank = r2;
    out->p = p;
    out->qt = qt;
    p = qt = NULL;
done:
    btfm_free(w);
    btfm_free(p);
    btfm_free(d2);
    btfm_free(qt);
    return st;
}

btfm_status btfm_align_rotation_apply(const align_source *src, const align_rotation *r,
                                 int64_t n_target, double *mapped)
{
    const int64_t T = src->n_times, rank = src->rank;
    double *left = btfm_align_matrix(T, r->rank, "aligner: Procrustes");
    if (!left) return BTFM_E_NOMEM;
    double *us = btfm_align_matrix(T, rank, "aligner: Procrustes");
    if (!us) {
        btfm_free(left);
        return BTFM_E_NOMEM;
    }
    for (int64_t t = 0; t < T; t++)
        for (int64_t k = 0; k < rank; k++) us[t * rank + k] = src->u[t * rank + k] * src->s[k];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r->rank,
                (blasint)rank, r->scale, us, (blasint)rank, r->p, (blasint)r->rank, 0.0, left,
                (blasint)r->rank);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)n_target,
                (blasint)r->rank, 1.0, left, (blasint)r->rank, r->qt, (blasint)n_target, 0.0,
                mapped, (blasint)n_target);
    btfm_free(us);
    btfm_free(left);
    return BTFM_OK;
}

/* Whether the reflection constraint can bite: X^T Y square and of full rank. */
static int reflection_applies(const align_source *src, int64_t n_target, int reflection)
{
    return !reflection && src->v_det != 0.0 && src->rank == src->n_features &&
           n_target == src->rank;
}

/* The double-precision route above, on float target and output. */
static btfm_status procrustes_double(const align_source *src, const float *target,
                                     int64_t n_target, int scaling, int reflection,
                                     float *mapped, align_rotation *out)
{
    const int64_t T = src->n_times;
    double *y = btfm_align_matrix(T, n_target, "aligner: Procrustes");
    double *m = mapped ? btfm_align_matrix(T, n_target, "aligner: Procrustes") : NULL;
    align_rotation rot;
    btfm_status st = (!y || (mapped && !m)) ? BTFM_E_NOMEM : BTFM_OK;
    if (!st) {
        for (int64_t j = 0; j < T * n_target; j++) y[j] = target[j];
        st = btfm_align_procrustes(src, y, n_target, scaling, reflection, &rot);
    }
    if (!st && mapped) {
        st = btfm_align_rotation_apply(src, &rot, n_target, m);
        for (int64_t j = 0; !st && j < T * n_target; j++) mapped[j] = (float)m[j];
    }
    if (!st && out) *out = rot;
    else if (!st) btfm_align_rotation_clear(&rot);
    btfm_free(y);
    btfm_free(m);
    return st;
}

btfm_status btfm_align_procrustes_float(const align_source *src, const float *target,
                                        int64_t n_target, int scaling, int reflection,
                                        float *mapped, align_rotation *out)
{
    const int64_t T = src->n_times, r = src->rank;
    if (out) memset(out, 0, sizeof *out);
    /* The T x T route pays off when the target is wider than it is long; otherwise (and
     * for the rare square full-rank case without reflections) the r-sized route does. */
    if (T > n_target || reflection_applies(src, n_target, reflection))
        return procrustes_double(src, target, n_target, scaling, reflection, mapped, out);
    const char *where = "aligner: Procrustes";
    float *g = btfm_malloc((size_t)(T * T) * sizeof(float));
    float *f = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *fp = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *fpd = btfm_malloc((size_t)(T * r) * sizeof(float));
    float *hf = btfm_malloc((size_t)(r * r) * sizeof(float));
    double *h = btfm_align_matrix(r, r, where);
    double *d2 = btfm_align_doubles((size_t)r, where);
    double *p = NULL, *qt = NULL;
    btfm_status st = BTFM_OK;
    if (!g || !f || !fp || !fpd || !hf || !h || !d2) {
        st = btfm_fail_nomem(where, (size_t)(T * T) * sizeof(double));
        goto done;
    }
    /* F = u s (T x r). G = Y Y^T (T x T); H = F^T G F = M M^T for M = s u^T Y, the
     * r x V matrix with X^T Y = v M, so H = p d^2 p^T gives the SVD of X^T Y. */
    for (int64_t t = 0; t < T; t++)
        for (int64_t k = 0; k < r; k++) f[t * r + k] = (float)(src->u[t * r + k] * src->s[k]);
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)T, (blasint)n_target, 1.0f,
                target, (blasint)n_target, 0.0f, g, (blasint)T);
    cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (blasint)T, (blasint)r, 1.0f, g,
                (blasint)T, f, (blasint)r, 0.0f, fp, (blasint)r);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r, (blasint)r, (blasint)T,
                1.0f, f, (blasint)r, fp, (blasint)r, 0.0f, hf, (blasint)r);
    for (int64_t i = 0; i < r; i++) /* symmetrize while widening */
        for (int64_t j = i; j < r; j++)
            h[i * r + j] = h[j * r + i] = 0.5 * ((double)hf[i * r + j] + (double)hf[j * r + i]);
    if ((st = btfm_align_sym_eig(h, r, d2))) goto done;
    /* H comes from single-precision products, which resolve its eigenvalues to about
     * 1e-9 of the largest: directions below 1e-8 count as null (minimum norm). */
    int64_t r2 = 0;
    while (r2 < r && d2[r2] > d2[0] * 1e-8 && d2[r2] > 0) r2++;
    if (r2 == 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "aligner: Procrustes: source and target are "
                       "uncorrelated (X^T Y = 0); nothing to align");
        goto done;
    }
    double trace = 0.0, norm2 = 0.0;
    for (int64_t k = 0; k < r2; k++) trace += sqrt(d2[k]);
    for (int64_t k = 0; k < r; k++) norm2 += src->s[k] * src->s[k];
    const double scale = scaling ? trace / norm2 : 1.0;
    /* fp = F p (T x r2), fpd = F p d^-1. */
    for (int64_t i = 0; i < r; i++)
        for (int64_t k = 0; k < r2; k++) hf[i * r2 + k] = (float)h[i * r + k];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)r2,
                (blasint)r, 1.0f, f, (blasint)r, hf, (blasint)r2, 0.0f, fp, (blasint)r2);
    if (out) {
        p = btfm_align_matrix(r, r2, where);
        qt = btfm_align_matrix(r2, n_target, where);
        if (!p || !qt) { st = BTFM_E_NOMEM; goto done; }
    }
    for (int64_t t = 0; t < T; t++)
        for (int64_t k = 0; k < r2; k++)
            fpd[t * r2 + k] = (float)(fp[t * r2 + k] / sqrt(d2[k]));
    if (mapped) { /* X R = scale F p d^-1 p^T F^T Y = L Y with L = scale fpd fp^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)T,
                    (blasint)r2, (float)scale, fpd, (blasint)r2, fp, (blasint)r2, 0.0f, g,
                    (blasint)T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)T, (blasint)n_target,
                    (blasint)T, 1.0f, g, (blasint)T, target, (blasint)n_target, 0.0f, mapped,
                    (blasint)n_target);
    }
    if (out) { /* qt = d^-1 p^T F^T Y = fpd^T Y; p compacted to r x r2 */
        float *qf = btfm_malloc((size_t)(r2 * n_target) * sizeof(float));
        if (!qf) { st = btfm_fail_nomem(where, (size_t)(r2 * n_target) * sizeof(float)); goto done; }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)r2, (blasint)n_target,
                    (blasint)T, 1.0f, fpd, (blasint)r2, target, (blasint)n_target, 0.0f, qf,
                    (blasint)n_target);
        for (int64_t j = 0; j < r2 * n_target; j++) qt[j] = qf[j];
        btfm_free(qf);
        for (int64_t i = 0; i < r; i++)
            for (int64_t k = 0; k < r2; k++) p[i * r2 + k] = h[i * r + k];
        out->rank = r2;
        out->p = p;
        out->qt = qt;
        out->scale = scale;
        out->trace = trace;
        p = qt = NULL;
    }
done:
    btfm_free(g);
    btfm_free(f);
    btfm_free(fp);
    btfm_free(fpd);
    btfm_free(hf);
    btfm_free(h);
    btfm_free(d2);
    btfm_free(p);
    btfm_free(qt);
    return st;
}
