/* The fit's thread settings and its single-precision products split in two parts run
 * side by side, for the phases that keep OpenBLAS on one thread per caller. */
#include <cblas.h>
#include "align_internal.h"
#include "core/parallel.h"

int btfm_align_threads_begin(const btfm_aligner *a)
{
    int wanted = (int)ALIGN_PARAM(a, NUM_THREADS);
    if (wanted <= 0) return 0;
    return btfm_dense_blas_threads_push(wanted);
}

void btfm_align_threads_restore(int previous)
{
    if (previous > 0) btfm_dense_blas_threads_pop(previous);
}

int btfm_align_workers(const btfm_aligner *a)
{
    return btfm_dense_blas_workers((int)ALIGN_PARAM(a, NUM_THREADS));
}

/* The pieces of the split products below: task 0 and task 1 of one call. */
typedef struct split_call {
    int kind; /* 0 syrk, 1 trmm, 2 gemm */
    int trans;
    int64_t n, k, h;
    float alpha;
    const float *a, *b;
    int64_t lda, ldb;
    float *c;
    int64_t ldc;
} split_call;

static btfm_status split_task(void *ctx, int64_t part, int worker)
{
    const split_call *s = ctx;
    const int64_t n = s->n, k = s->k, h = s->h;
    (void)worker;
    if (s->kind == 0) { /* rows [0, h) of the upper part, or rows [h, n) */
        const CBLAS_TRANSPOSE t = s->trans ? CblasTrans : CblasNoTrans;
        const int64_t step = s->trans ? 1 : s->lda; /* from column/row i of op(A) to i + 1 */
        if (part == 0) {
            cblas_ssyrk(CblasRowMajor, CblasUpper, t, (blasint)h, (blasint)k, s->alpha, s->a,
                        (blasint)s->lda, 0.0f, s->c, (blasint)s->ldc);
            if (h < n)
                cblas_sgemm(CblasRowMajor, s->trans ? CblasTrans : CblasNoTrans,
                            s->trans ? CblasNoTrans : CblasTrans, (blasint)h, (blasint)(n - h),
                            (blasint)k, s->alpha, s->a, (blasint)s->lda, s->a + h * step,
                            (blasint)s->lda, 0.0f, s->c + h, (blasint)s->ldc);
        } else if (h < n) {
            cblas_ssyrk(CblasRowMajor, CblasUpper, t, (blasint)(n - h), (blasint)k, s->alpha,
                        s->a + h * step, (blasint)s->lda, 0.0f, s->c + h * s->ldc + h,
                        (blasint)s->ldc);
        }
    } else { /* columns [0, h) of the result, or [h, k) */
        const int64_t c0 = part == 0 ? 0 : h, cols = part == 0 ? h : k - h;
        if (cols <= 0) return BTFM_OK;
        if (s->kind == 1)
            cblas_strmm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit,
                        (blasint)n, (blasint)cols, s->alpha, s->a, (blasint)s->lda,
                        s->c + c0, (blasint)s->ldc);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)cols,
                        (blasint)s->lda, s->alpha, s->a, (blasint)s->lda, s->b + c0,
                        (blasint)s->ldb, 0.0f, s->c + c0, (blasint)s->ldc);
    }
    return BTFM_OK;
}

void btfm_align_ssyrk_split(int workers, int trans, int64_t n, int64_t k, float alpha,
                            const float *a, int64_t lda, float *c, int64_t ldc)
{
    /* Rows [0, h) of the upper triangle take h^2/2 + h (n - h) of the n^2/2 products:
     * h = (1 - 1/sqrt 2) n balances the two parts. */
    int64_t h = workers > 1 ? (int64_t)(0.2929 * (double)n) : n;
    split_call s = {0, trans, n, k, h, alpha, a, NULL, lda, 0, c, ldc};
    (void)btfm_parallel_for(workers > 1 ? 2 : 1, 2, split_task, &s);
}

void btfm_align_strmm_split(int workers, int64_t n, int64_t cols, const float *a,
                            int64_t lda, float *b, int64_t ldb)
{
    split_call s = {1, 0, n, cols, workers > 1 ? cols / 2 : cols, 1.0f, a, NULL, lda, 0, b,
                    ldb};
    (void)btfm_parallel_for(workers > 1 ? 2 : 1, 2, split_task, &s);
}

void btfm_align_sgemm_split(int workers, int64_t m, int64_t n, int64_t k, const float *a,
                            const float *b, int64_t ldb, float *c, int64_t ldc)
{
    split_call s = {2, 0, m, n, workers > 1 ? n / 2 : n, 1.0f, a, b, k, ldb, c, ldc};
    (void)btfm_parallel_for(workers > 1 ? 2 : 1, 2, split_task, &s);
}
