/* Orthonormal bases by QR: the span of given columns (rank-revealing, with pivoting), the
 * projection onto its complement, and seeded random orthonormal matrices. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "dense.h"
#include "core/random.h"

btfm_status btfm_dense_basis(const double *x, int64_t rows, int64_t cols, double tol,
                             double **q_out, int64_t *rank_out, int64_t *dependent,
                             const char *where)
{
    *q_out = NULL;
    *rank_out = 0;
    if (dependent) *dependent = -1;
    if (cols == 0) return BTFM_OK;
    double *a = btfm_dense_zeros(rows, cols, where);
    double *tau = btfm_dense_zeros(cols, 1, where);
    lapack_int *jpvt = btfm_calloc((size_t)cols, sizeof *jpvt);
    double *q = NULL;
    btfm_status st = BTFM_OK;
    if (!a || !tau || !jpvt) {
        st = jpvt ? BTFM_E_NOMEM : btfm_fail_nomem(where, (size_t)cols * sizeof *jpvt);
        goto done;
    }
    memcpy(a, x, (size_t)(rows * cols) * sizeof(double));
    lapack_int info = LAPACKE_dgeqp3(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, a,
                                     (lapack_int)cols, jpvt, tau);
    if (info != 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "%s: QR of a %lld x %lld matrix failed (LAPACK dgeqp3 "
                       "info %d)", where, (long long)rows, (long long)cols, (int)info);
        goto done;
    }
    int64_t kmax = rows < cols ? rows : cols, rank = 0;
    double r00 = fabs(a[0]);
    while (rank < kmax && r00 > 0 && fabs(a[rank * cols + rank]) > tol * r00) rank++;
    if (dependent && rank < cols) *dependent = jpvt[rank] - 1;
    if (rank > 0) {
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)rank,
                              (lapack_int)rank, a, (lapack_int)cols, tau);
        if (info != 0) {
            st = btfm_fail(BTFM_E_NUMERIC, "%s: forming Q failed (LAPACK dorgqr info %d)",
                           where, (int)info);
            goto done;
        }
        q = btfm_dense_zeros(rows, rank, where);
        if (!q) { st = BTFM_E_NOMEM; goto done; }
        for (int64_t t = 0; t < rows; t++)
            memcpy(q + t * rank, a + t * cols, (size_t)rank * sizeof(double));
    }
    *q_out = q;
    *rank_out = rank;
done:
    btfm_free(a);
    btfm_free(tau);
    btfm_free(jpvt);
    return st;
}

void btfm_dense_project_out(const double *q, int64_t rows, int64_t rank, double *y,
                            int64_t cols, double *work)
{
    if (rank == 0 || cols == 0) return;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)rank, (blasint)cols,
                (blasint)rows, 1.0, q, (blasint)rank, y, (blasint)cols, 0.0, work,
                (blasint)cols);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)cols,
                (blasint)rank, -1.0, q, (blasint)rank, work, (blasint)cols, 1.0, y,
                (blasint)cols);
}

static double uniform01(uint64_t *state)
{
    return ((double)(btfm_splitmix64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

btfm_status btfm_dense_random_orthonormal(double *out, int64_t rows, int64_t cols,
                                          uint64_t seed, const char *where)
{
    uint64_t state = seed;
    for (int64_t i = 0; i < rows * cols; i += 2) { /* Box-Muller pairs */
        double r = sqrt(-2.0 * log(uniform01(&state)));
        double phi = 6.283185307179586 * uniform01(&state);
        out[i] = r * cos(phi);
        if (i + 1 < rows * cols) out[i + 1] = r * sin(phi);
    }
    double *tau = btfm_dense_zeros(cols, 1, where);
    if (!tau) return BTFM_E_NOMEM;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, out,
                                     (lapack_int)cols, tau);
    if (info == 0)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols,
                              (lapack_int)cols, out, (lapack_int)cols, tau);
    btfm_free(tau);
    if (info != 0)
        return btfm_fail(BTFM_E_NUMERIC, "%s: QR of the random initialization failed "
                         "(LAPACK info %d)", where, (int)info);
    return BTFM_OK;
}
