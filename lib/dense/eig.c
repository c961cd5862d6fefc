/* Symmetric eigenproblems over LAPACK: full (double and float), the k largest of a dense
 * matrix, the k largest of a tridiagonal one. Results come largest first, the order every
 * caller wants. */
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "dense.h"
#include "core/scratch.h"

static void reverse(double *w, int64_t n)
{
    for (int64_t i = 0; i < n / 2; i++) {
        double t = w[i];
        w[i] = w[n - 1 - i];
        w[n - 1 - i] = t;
    }
}

btfm_status btfm_dense_syev(double *m, int64_t n, double *w, const char *where)
{
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, m,
                                     (lapack_int)n, w);
    if (info < 0) /* LAPACKE's input check: NaN in the matrix (an overflowed sum) */
        return btfm_fail(BTFM_E_NUMERIC, "%s: the %lld x %lld eigenproblem's matrix holds NaN "
                         "(LAPACK dsyevd info %d); its sums overflowed double: rescale the "
                         "data or the weights", where, (long long)n, (long long)n, (int)info);
    if (info != 0)
        return btfm_fail(BTFM_E_NUMERIC, "%s: the %lld x %lld eigenproblem did not converge "
                         "(LAPACK dsyevd info %d)", where, (long long)n, (long long)n,
                         (int)info);
    /* LAPACK returns ascending order; the eigenvectors are the columns of a row-major
     * matrix: reversed row by row. */
    reverse(w, n);
    for (int64_t r = 0; r < n; r++) reverse(m + r * n, n);
    return BTFM_OK;
}

btfm_status btfm_dense_syev_f(float *m, int64_t n, float *w, const char *where)
{
    /* m's row-major upper part is LAPACK's column-major lower one, so ssyevd works on a
     * plain copy; its eigenvectors (the copy's columns, ascending) come back as m's
     * columns, descending, through one transposing pass. OpenBLAS's threads slow ssyevd
     * down at the sizes used here (800: 28 ms on two threads, 25 on one): it runs on the
     * calling thread alone. */
    float lwq = 0.0f;
    lapack_int liwq = 0, info;
    info = LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, m, (lapack_int)n, w,
                               &lwq, -1, &liwq, -1);
    const size_t lwork = info == 0 ? (size_t)lwq + 1 : 0, liwork = (size_t)liwq + 1;
    const size_t zbytes = (size_t)(n * n) * sizeof(float);
    float *z = btfm_scratch_get(zbytes);
    float *work = btfm_scratch_get(lwork * sizeof(float));
    lapack_int *iwork = btfm_scratch_get(liwork * sizeof(lapack_int));
    btfm_status st = BTFM_OK;
    if (info != 0) {
        st = btfm_fail(BTFM_E_INTERNAL, "%s: the workspace query of a %lld x %lld "
                       "eigenproblem failed (LAPACK ssyevd info %d)", where, (long long)n,
                       (long long)n, (int)info);
        goto done;
    }
    if (!z || !work || !iwork) {
        st = btfm_fail_nomem(where, lwork * sizeof(float));
        goto done;
    }
    memcpy(z, m, zbytes);
    const int threads = btfm_dense_blas_threads_push(1);
    info = LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, z, (lapack_int)n, w,
                               work, (lapack_int)lwork, iwork, (lapack_int)liwork);
    btfm_dense_blas_threads_pop(threads);
    if (info != 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "%s: the %lld x %lld eigenproblem did not converge "
                       "(LAPACK ssyevd info %d)", where, (long long)n, (long long)n, (int)info);
        goto done;
    }
    enum { TILE = 32 };
    for (int64_t k0 = 0; k0 < n; k0 += TILE) /* m[i][k] = z[n-1-k][i], by tiles */
        for (int64_t i0 = 0; i0 < n; i0 += TILE)
            for (int64_t k = k0; k < k0 + TILE && k < n; k++) {
                const float *col = z + (n - 1 - k) * n;
                for (int64_t i = i0; i < i0 + TILE && i < n; i++) m[i * n + k] = col[i];
            }
    for (int64_t i = 0; i < n / 2; i++) {
        float t = w[i];
        w[i] = w[n - 1 - i];
        w[n - 1 - i] = t;
    }
done:
    btfm_scratch_put(z, zbytes);
    btfm_scratch_put(work, lwork * sizeof(float));
    btfm_scratch_put(iwork, liwork * sizeof(lapack_int));
    return st;
}

/* The k largest of n eigenpairs by LAPACK's MRRR drivers: z (n x k) receives the vectors,
 * ev (n: LAPACK may use them all) the values, support their supports (2 k). */
typedef struct range_work {
    double *z, *ev;
    lapack_int *support;
} range_work;

static btfm_status range_work_init(range_work *r, int64_t n, int64_t k, const char *where)
{
    r->z = btfm_dense_zeros(n, k, where);
    r->ev = btfm_dense_zeros(n, 1, where);
    r->support = btfm_malloc((size_t)(2 * (k > 0 ? k : 1)) * sizeof *r->support);
    if (!r->z || !r->ev) return BTFM_E_NOMEM;
    if (!r->support) return btfm_fail_nomem(where, (size_t)(2 * k) * sizeof *r->support);
    return BTFM_OK;
}

static void range_work_clear(range_work *r)
{
    btfm_free(r->z);
    btfm_free(r->ev);
    btfm_free(r->support);
}

btfm_status btfm_dense_syev_top(double *m, int64_t n, int64_t k, double *w, double *v,
                                const char *where)
{
    range_work r;
    lapack_int found = 0;
    btfm_status st = range_work_init(&r, n, k, where);
    if (st) goto done;
    /* eigenvalues n - k + 1 .. n of the ascending order: the k largest */
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)n, m,
                                     (lapack_int)n, 0.0, 0.0, (lapack_int)(n - k + 1),
                                     (lapack_int)n, 0.0, &found, r.ev, r.z, (lapack_int)k,
                                     r.support);
    if (info != 0 || found != k) {
        st = btfm_fail(BTFM_E_NUMERIC, "%s: the %lld x %lld eigenproblem did not converge "
                       "(LAPACK dsyevr info %d)", where, (long long)n, (long long)n, (int)info);
        goto done;
    }
    for (int64_t j = 0; j < k; j++) w[j] = r.ev[k - 1 - j];
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) v[i * k + j] = r.z[i * k + (k - 1 - j)];
done:
    range_work_clear(&r);
    return st;
}

btfm_status btfm_dense_tridiag_top(double *d, double *e, int64_t n, int64_t k, double *w,
                                   double *v, const char *where)
{
    range_work r;
    lapack_int found = 0;
    btfm_status st = range_work_init(&r, n, k, where);
    if (st) goto done;
    /* Column-major z: eigenvector j (ascending) is z[j * n ...]. */
    lapack_int info = LAPACKE_dstevr(LAPACK_COL_MAJOR, 'V', 'I', (lapack_int)n, d, e, 0.0, 0.0,
                                     (lapack_int)(n - k + 1), (lapack_int)n, 0.0, &found, r.ev,
                                     r.z, (lapack_int)n, r.support);
    if (info != 0 || found != k) {
        st = btfm_fail(BTFM_E_NUMERIC, "%s: the tridiagonal eigensolver (LAPACK dstevr) "
                       "failed with info %d for n = %lld", where, (int)info, (long long)n);
        goto done;
    }
    for (int64_t j = 0; j < k; j++) {
        w[j] = r.ev[k - 1 - j];
        memcpy(v + j * n, r.z + (k - 1 - j) * n, (size_t)n * sizeof(double));
    }
done:
    range_work_clear(&r);
    return st;
}
