/* Singular value decompositions and what is built on them: the thin SVD by LAPACK or
 * from the smaller Gram matrix (never a problem larger than min(rows, cols)), the polar
 * factor, the pseudo-inverse and minimum-norm least squares. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "dense.h"

btfm_status btfm_dense_svd(const double *x, int64_t rows, int64_t cols, double *u, double *s,
                           double *vt, const char *where)
{
    const int64_t p = rows < cols ? rows : cols;
    double *a = btfm_dense_zeros(rows, cols, where);
    if (!a) return BTFM_E_NOMEM;
    memcpy(a, x, (size_t)(rows * cols) * sizeof(double));
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)rows, (lapack_int)cols,
                                     a, (lapack_int)cols, s, u, (lapack_int)p, vt,
                                     (lapack_int)cols);
    btfm_free(a);
    if (info != 0)
        return btfm_fail(BTFM_E_NUMERIC, "%s: the SVD of a %lld x %lld matrix did not "
                         "converge (LAPACK dgesdd info %d)", where, (long long)rows,
                         (long long)cols, (int)info);
    return BTFM_OK;
}

btfm_status btfm_dense_thin_svd(const double *x, int64_t rows, int64_t cols, double **u_out,
                                double **s_out, double **v_out, int64_t *rank, double *v_det,
                                const char *where)
{
    /* Gram of the smaller side: rows x rows when rows <= cols, else cols x cols. */
    int by_rows = rows <= cols;
    int64_t n = by_rows ? rows : cols;
    double *gram = btfm_dense_zeros(n, n, where);
    double *w = btfm_dense_zeros(n, 1, where);
    double *u = NULL, *v = NULL, *s = NULL;
    btfm_status st = BTFM_OK;
    *u_out = *s_out = NULL;
    if (v_out) *v_out = NULL;
    *v_det = 0.0;
    if (!gram || !w) { st = BTFM_E_NOMEM; goto done; }
    if (by_rows)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (blasint)rows, (blasint)cols,
                    1.0, x, (blasint)cols, 0.0, gram, (blasint)n);
    else
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)cols, (blasint)rows,
                    1.0, x, (blasint)cols, 0.0, gram, (blasint)n);
    if ((st = btfm_dense_syev(gram, n, w, where))) goto done;
    int64_t r = 0;
    double floor_ = w[0] > 0 ? w[0] * 1e-14 : 0.0; /* (1e-7 s_max)^2 */
    while (r < n && w[r] > floor_ && w[r] > 0) r++;
    if (r == 0) r = 1; /* an all-zero matrix: one null direction keeps shapes valid */
    s = btfm_dense_zeros(r, 1, where);
    u = btfm_dense_zeros(rows, r, where);
    if (!s || !u) { st = BTFM_E_NOMEM; goto done; }
    for (int64_t k = 0; k < r; k++) s[k] = w[k] > 0 ? sqrt(w[k]) : 0.0;
    if (v_out || !by_rows) {
        v = btfm_dense_zeros(cols, r, where);
        if (!v) { st = BTFM_E_NOMEM; goto done; }
    }
    /* The eigenvectors are one side's singular vectors; the other side is x (or x^T)
     * times them divided by s. */
    if (by_rows) {
        for (int64_t i = 0; i < rows; i++)
            for (int64_t k = 0; k < r; k++) u[i * r + k] = gram[i * n + k];
        if (v) {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)cols, (blasint)r,
                        (blasint)rows, 1.0, x, (blasint)cols, u, (blasint)r, 0.0, v, (blasint)r);
            for (int64_t i = 0; i < cols; i++)
                for (int64_t k = 0; k < r; k++) v[i * r + k] = s[k] > 0 ? v[i * r + k] / s[k] : 0;
        }
    } else {
        for (int64_t i = 0; i < cols; i++)
            for (int64_t k = 0; k < r; k++) v[i * r + k] = gram[i * n + k];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)r,
                    (blasint)cols, 1.0, x, (blasint)cols, v, (blasint)r, 0.0, u, (blasint)r);
        for (int64_t i = 0; i < rows; i++)
            for (int64_t k = 0; k < r; k++) u[i * r + k] = s[k] > 0 ? u[i * r + k] / s[k] : 0;
        if (r == cols && (st = btfm_dense_det(v, cols, v_det, where))) goto done;
    }
    *rank = r;
    *u_out = u;
    *s_out = s;
    if (v_out) *v_out = v;
    else btfm_free(v);
    u = s = v = NULL;
done:
    btfm_free(gram);
    btfm_free(w);
    btfm_free(u);
    btfm_free(s);
    btfm_free(v);
    return st;
}

/* The thin SVD of x into freshly allocated u (rows x p), s (p) and vt (p x cols). */
static btfm_status svd_alloc(const double *x, int64_t rows, int64_t cols, double **u,
                             double **s, double **vt, const char *where)
{
    const int64_t p = rows < cols ? rows : cols;
    *u = btfm_dense_zeros(rows, p, where);
    *s = btfm_dense_zeros(p, 1, where);
    *vt = btfm_dense_zeros(p, cols, where);
    if (!*u || !*s || !*vt) return BTFM_E_NOMEM;
    return btfm_dense_svd(x, rows, cols, *u, *s, *vt, where);
}

btfm_status btfm_dense_polar(const double *m, int64_t rows, int64_t cols, double *out,
                             const char *where)
{
    double *u, *s, *vt;
    btfm_status st = svd_alloc(m, rows, cols, &u, &s, &vt, where);
    if (!st)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)cols,
                    (blasint)cols, 1.0, u, (blasint)cols, vt, (blasint)cols, 0.0, out,
                    (blasint)cols);
    btfm_free(u);
    btfm_free(s);
    btfm_free(vt);
    return st;
}

/* The count of singular values (descending s, p of them) above rcond * s_max. */
static int64_t kept(const double *s, int64_t p, int64_t rows, int64_t cols, double rcond)
{
    if (rcond < 0) rcond = (double)(rows > cols ? rows : cols) * DBL_EPSILON;
    int64_t r = 0;
    while (r < p && s[r] > rcond * s[0]) r++;
    return r;
}

btfm_status btfm_dense_pinv(const double *x, int64_t rows, int64_t cols, double rcond,
                            double *pinv, double *cov, int64_t *rank, double *cond,
                            const char *where)
{
    const int64_t p = rows < cols ? rows : cols;
    double *u, *s, *vt;
    btfm_status st = svd_alloc(x, rows, cols, &u, &s, &vt, where);
    if (st) goto done;
    const int64_t r = kept(s, p, rows, cols, rcond);
    if (rank) *rank = r;
    if (cond) *cond = p > 0 && s[p - 1] > 0 ? s[0] / s[p - 1] : INFINITY;
    /* pinv = V diag(1/s) U^T over the kept values: scale the rows of vt, then
     * (vt^T)(U^T) on the first r of them. */
    for (int64_t k = 0; k < r; k++) cblas_dscal((blasint)cols, 1.0 / s[k], vt + k * cols, 1);
    memset(pinv, 0, (size_t)(cols * rows) * sizeof(double));
    if (cov) memset(cov, 0, (size_t)(cols * cols) * sizeof(double));
    if (r == 0) goto done;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, (blasint)cols, (blasint)rows, (blasint)r,
                1.0, vt, (blasint)cols, u, (blasint)p, 0.0, pinv, (blasint)rows);
    if (cov)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)cols, (blasint)cols,
                    (blasint)r, 1.0, vt, (blasint)cols, vt, (blasint)cols, 0.0, cov,
                    (blasint)cols);
done:
    btfm_free(u);
    btfm_free(s);
    btfm_free(vt);
    return st;
}

btfm_status btfm_dense_lstsq(const double *x, int64_t rows, int64_t cols, const double *y,
                             int64_t n_rhs, double rcond, double *beta, int64_t *rank,
                             const char *where)
{
    double *pinv = btfm_dense_zeros(cols, rows, where);
    if (!pinv) return BTFM_E_NOMEM;
    btfm_status st = btfm_dense_pinv(x, rows, cols, rcond, pinv, NULL, rank, NULL, where);
    if (!st && n_rhs > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)cols, (blasint)n_rhs,
                    (blasint)rows, 1.0, pinv, (blasint)rows, y, (blasint)n_rhs, 0.0, beta,
                    (blasint)n_rhs);
    btfm_free(pinv);
    return st;
}
