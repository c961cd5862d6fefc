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
