/* Square systems: the determinant by LU, Cholesky factors and symmetric positive
 * definite solves and inverses. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "dense.h"
#include "core/scratch.h"

btfm_status btfm_dense_det(const double *m, int64_t n, double *det, const char *where)
{
    double *lu = btfm_dense_zeros(n, n, where);
    lapack_int *piv = btfm_malloc((size_t)(n ? n : 1) * sizeof *piv);
    if (!lu || !piv) {
        btfm_free(lu);
        btfm_free(piv);
        return btfm_fail_nomem(where, (size_t)n * sizeof *piv);
    }
    memcpy(lu, m, (size_t)(n * n) * sizeof(double));
    lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, lu,
                                     (lapack_int)n, piv);
    double d = 1.0;
    if (info > 0) {
        d = 0.0;
    } else {
        for (int64_t i = 0; i < n; i++) d *= lu[i * n + i] * (piv[i] != i + 1 ? -1.0 : 1.0);
    }
    btfm_free(lu);
    btfm_free(piv);
    if (info < 0) return btfm_fail(BTFM_E_INTERNAL, "%s: dgetrf argument %d", where, (int)-info);
    *det = d;
    return BTFM_OK;
}

int btfm_dense_chol(double *a, int64_t n)
{
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, a, (lapack_int)n);
    return info < 0 ? (int)n + 1 : (int)info;
}

void btfm_dense_chol_solve(const double *r, int64_t n, double *b, int64_t cols)
{
    LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, (lapack_int)cols, r, (lapack_int)n, b,
                   (lapack_int)cols);
}

int btfm_dense_spd_solve(double *a, int64_t n, double *b, int64_t cols)
{
    lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, (lapack_int)cols, a,
                                    (lapack_int)n, b, (lapack_int)cols);
    return info < 0 ? (int)n + 1 : (int)info;
}

int btfm_dense_spd_solve_right(double *a, int64_t n, double *b, int64_t rows)
{
    /* b a^-1 = (a^-1 b^T)^T: row-major b is b^T in column-major order, and the row-major
     * upper triangle of a is the column-major lower one. */
    lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (lapack_int)n, (lapack_int)rows, a,
                                    (lapack_int)n, b, (lapack_int)n);
    return info < 0 ? (int)n + 1 : (int)info;
}

int btfm_dense_spd_inverse(const double *m, int64_t n, double *inv, double *log_det)
{
    memcpy(inv, m, (size_t)(n * n) * sizeof(double));
    int info = btfm_dense_chol(inv, n);
    if (info != 0) return info;
    double ld = 0.0;
    for (int64_t k = 0; k < n; k++) ld += 2.0 * log(inv[k * n + k]);
    *log_det = ld;
    lapack_int status = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)n, inv, (lapack_int)n);
    if (status != 0) return status < 0 ? (int)n + 1 : (int)status;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < i; j++) inv[i * n + j] = inv[j * n + i];
    return 0;
}

/* A row-major upper triangle is LAPACK's column-major lower one: LAPACK works on it in
 * place, without LAPACKE's transposed copies. */
int btfm_dense_chol_f(float *a, int64_t n)
{
    if (n < 1) return 1;
    lapack_int info = LAPACKE_spotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, a, (lapack_int)n);
    return info < 0 ? (int)n + 1 : (int)info;
}

float btfm_dense_rcond_f(const float *r, int64_t n, float anorm)
{
    float rcond = 0.0f;
    if (LAPACKE_spocon(LAPACK_COL_MAJOR, 'L', (lapack_int)n, r, (lapack_int)n, anorm, &rcond))
        return 0.0f;
    return rcond;
}

/* R^-1 by a triangular solve against the identity, not LAPACK's strtri: OpenBLAS 0.3.21's
 * strtri crashes under its Prescott kernels (the family it picks on CPUs it does not
 * know) for orders such as 197, 199, 201 and 255; its trsm is sound at every order. */
btfm_status btfm_dense_invert_upper_f(float *r, int64_t n, const char *where)
{
    for (int64_t i = 0; i < n; i++)
        if (r[i * n + i] == 0.0f)
            return btfm_fail(BTFM_E_NUMERIC, "%s: a %lld x %lld triangular factor is singular",
                             where, (long long)n, (long long)n);
    const size_t bytes = (size_t)(n * n) * sizeof(float);
    float *x = btfm_scratch_get(bytes);
    if (!x) return btfm_fail_nomem(where, bytes);
    memset(x, 0, bytes);
    for (int64_t i = 0; i < n; i++) x[i * n + i] = 1.0f;
    cblas_strsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (blasint)n,
                (blasint)n, 1.0f, r, (blasint)n, x, (blasint)n);
    for (int64_t i = 0; i < n; i++)
        memcpy(r + i * n + i, x + i * n + i, (size_t)(n - i) * sizeof(float));
    btfm_scratch_put(x, bytes);
    return BTFM_OK;
}
