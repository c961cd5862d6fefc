/* Dense helpers of the align layer over OpenBLAS/LAPACKE: standardizing, thin SVDs from
 * the smaller Gram matrix (never a V x V problem when T < V), polar factors, seeded
 * orthonormal initializations and input checks. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "align_internal.h"
#include "core/parallel.h"
#include "core/scratch.h"

double *btfm_align_doubles(size_t count, const char *where)
{
    double *p = btfm_calloc(count ? count : 1, sizeof(double));
    if (!p) btfm_fail_nomem(where, count * sizeof(double));
    return p;
}

double *btfm_align_matrix(int64_t rows, int64_t cols, const char *where)
{
    size_t n;
    if (rows < 0 || cols < 0 || btfm_mul_size((size_t)rows, (size_t)cols, &n) ||
        n > SIZE_MAX / sizeof(double)) {
        btfm_fail(BTFM_E_NOMEM, "%s: a %lld x %lld matrix does not fit in memory", where,
                  (long long)rows, (long long)cols);
        return NULL;
    }
    return btfm_align_doubles(n, where);
}

double btfm_align_standardize(float *x, int64_t n_times, int64_t n_features, int zscore,
                              double *mean, double *scale)
{
    return btfm_align_standardize_ld(x, n_times, n_features, n_features, zscore, mean, scale);
}

BTFM_HOT BTFM_SIMD_CLONES double btfm_align_standardize_ld(float *x, int64_t n_times,
                                                           int64_t n_features, int64_t ld,
                                                           int zscore, double *mean,
                                                           double *scale)
{
    double sq_norm = 0.0;
    /* One pass for the statistics (sums and sums of squares in double), one to apply. */
    for (int64_t f = 0; f < n_features; f++) mean[f] = scale[f] = 0.0;
    for (int64_t t = 0; t < n_times; t++) {
        const float *row = x + t * ld;
        for (int64_t f = 0; f < n_features; f++) {
            double v = row[f];
            mean[f] += v;
            scale[f] += v * v;
        }
    }
    for (int64_t f = 0; f < n_features; f++) {
        mean[f] /= (double)n_times;
        double var = scale[f] / (double)n_times - mean[f] * mean[f];
        if (var < 0) var = 0;
        double sd = sqrt(var);
        scale[f] = zscore && sd > 0 ? sd : 1.0;
        sq_norm += (double)n_times * var / (scale[f] * scale[f]);
    }
    /* The application in float, a tile of columns at a time. */
    enum { TILE = 256 };
    float mu[TILE], inv[TILE];
    for (int64_t f0 = 0; f0 < n_features; f0 += TILE) {
        const int64_t n = n_features - f0 < TILE ? n_features - f0 : TILE;
        for (int64_t f = 0; f < n; f++) {
            mu[f] = (float)mean[f0 + f];
            inv[f] = (float)(1.0 / scale[f0 + f]);
        }
        for (int64_t t = 0; t < n_times; t++) {
            float *row = x + t * ld + f0;
            for (int64_t f = 0; f < n; f++) row[f] = (row[f] - mu[f]) * inv[f];
        }
    }
    return sq_norm;
}

void btfm_align_zscore_columns(double *x, int64_t rows, int64_t cols)
{
    double *mean = btfm_calloc((size_t)cols * 2, sizeof(double));
    if (!mean) { /* fall back to a column-at-a-time pass: same result, slower */
        for (int64_t f = 0; f < cols; f++) {
            double m = 0, v = 0;
            for (int64_t t = 0; t < rows; t++) m += x[t * cols + f];
            m /= (double)rows;
            for (int64_t t = 0; t < rows; t++) v += (x[t * cols + f] - m) * (x[t * cols + f] - m);
            double sd = sqrt(v / (double)rows);
            for (int64_t t = 0; t < rows; t++)
                x[t * cols + f] = sd > 0 ? (x[t * cols + f] - m) / sd : 0.0;
        }
        return;
    }
    double *var = mean + cols;
    for (int64_t t = 0; t < rows; t++)
        for (int64_t f = 0; f < cols; f++) mean[f] += x[t * cols + f];
    for (int64_t f = 0; f < cols; f++) mean[f] /= (double)rows;
    for (int64_t t = 0; t < rows; t++)
        for (int64_t f = 0; f < cols; f++) {
            double d = x[t * cols + f] - mean[f];
            var[f] += d * d;
        }
    for (int64_t f = 0; f < cols; f++) {
        double sd = sqrt(var[f] / (double)rows);
        var[f] = sd > 0 ? 1.0 / sd : 0.0;
    }
    for (int64_t t = 0; t < rows; t++)
        for (int64_t f = 0; f < cols; f++)
            x[t * cols + f] = (x[t * cols + f] - mean[f]) * var[f];
    btfm_free(mean);
}

btfm_status btfm_align_sym_eig(double *m, int64_t n, double *w)
{
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, m,
                                     (lapack_int)n, w);
    if (info != 0)
        return btfm_fail(BTFM_E_NUMERIC, "aligner: the %lld x %lld eigenproblem did not "
                         "converge (LAPACK dsyevd info %d)", (long long)n, (long long)n,
                         (int)info);
    /* LAPACK returns ascending order; the callers want the largest first (the
     * eigenvectors are the columns of a row-major matrix: reversed row by row). */
    for (int64_t i = 0; i < n / 2; i++) {
        double t = w[i];
        w[i] = w[n - 1 - i];
        w[n - 1 - i] = t;
    }
    for (int64_t r = 0; r < n; r++) {
        double *row = m + r * n;
        for (int64_t i = 0; i < n / 2; i++) {
            double t = row[i];
            row[i] = row[n - 1 - i];
            row[n - 1 - i] = t;
        }
    }
    return BTFM_OK;
}

btfm_status btfm_align_sym_eig_float(float *m, int64_t n, float *w)
{
    /* m's row-major upper part is LAPACK's column-major lower one, so ssyevd works on a
     * plain copy; its eigenvectors (the copy's columns, ascending) come back as m's
     * columns, descending, through one transposing pass. The workspace comes from the
     * scratch cache: a fit solves many problems of one size. OpenBLAS's threads slow
     * ssyevd down at the sizes used here (800: 28 ms on two threads, 25 on one): it runs
     * on the calling thread alone. */
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
        st = btfm_fail(BTFM_E_INTERNAL, "aligner: the workspace query of a %lld x %lld "
                       "eigenproblem failed (LAPACK ssyevd info %d)", (long long)n,
                       (long long)n, (int)info);
        goto done;
    }
    if (!z || !work || !iwork) {
        st = btfm_fail_nomem("aligner: eigenproblem", lwork * sizeof(float));
        goto done;
    }
    memcpy(z, m, zbytes);
    int threads = openblas_get_num_threads();
    if (threads > 1) openblas_set_num_threads(1);
    info = LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)n, z, (lapack_int)n, w,
                               work, (lapack_int)lwork, iwork, (lapack_int)liwork);
    if (threads > 1) openblas_set_num_threads(threads);
    if (info != 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "aligner: the %lld x %lld eigenproblem did not "
                       "converge (LAPACK ssyevd info %d)", (long long)n, (long long)n,
                       (int)info);
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

btfm_status btfm_align_det(const double *m, int64_t n, double *det)
{
    double *lu = btfm_align_matrix(n, n, "aligner: determinant");
    lapack_int *piv = btfm_malloc((size_t)(n ? n : 1) * sizeof *piv);
    if (!lu || !piv) {
        btfm_free(lu);
        btfm_free(piv);
        return btfm_fail_nomem("aligner: determinant", (size_t)n * sizeof *piv);
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
    if (info < 0) return btfm_fail(BTFM_E_INTERNAL, "aligner: dgetrf argument %d", (int)-info);
    *det = d;
    return BTFM_OK;
}

btfm_status btfm_align_thin_svd(const double *x, int64_t rows, int64_t cols, double **u_out,
                           double **s_out, double **v_out, int64_t *rank, double *v_det)
{
    /* Gram of the smaller side: rows x rows when rows <= cols, else cols x cols. */
    int by_rows = rows <= cols;
    int64_t n = by_rows ? rows : cols;
    double *gram = btfm_align_matrix(n, n, "aligner: thin SVD");
    double *w = btfm_align_doubles((size_t)n, "aligner: thin SVD");
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
    if ((st = btfm_align_sym_eig(gram, n, w))) goto done;
    int64_t r = 0;
    double floor_ = w[0] > 0 ? w[0] * 1e-14 : 0.0; /* (1e-7 s_max)^2 */
    while (r < n && w[r] > floor_ && w[r] > 0) r++;
    if (r == 0) r = 1; /* an all-zero matrix: one null direction keeps shapes valid */
    s = btfm_align_doubles((size_t)r, "aligner: thin SVD");
    u = btfm_align_matrix(rows, r, "aligner: thin SVD");
    if (!s || !u) { st = BTFM_E_NOMEM; goto done; }
    for (int64_t k = 0; k < r; k++) s[k] = w[k] > 0 ? sqrt(w[k]) : 0.0;
    if (v_out || !by_rows) {
        v = btfm_align_matrix(cols, r, "aligner: thin SVD");
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
        if (r == cols && (st = btfm_align_det(v, cols, v_det))) goto done;
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

btfm_status btfm_align_polar(const double *m, int64_t rows, int64_t cols, double *out)
{
    double *copy = btfm_align_matrix(rows, cols, "aligner: polar factor");
    double *s = btfm_align_doubles((size_t)cols, "aligner: polar factor");
    double *vt = btfm_align_matrix(cols, cols, "aligner: polar factor");
    double *u = btfm_align_matrix(rows, cols, "aligner: polar factor");
    btfm_status st = BTFM_OK;
    if (!copy || !s || !vt || !u) { st = BTFM_E_NOMEM; goto done; }
    memcpy(copy, m, (size_t)(rows * cols) * sizeof(double));
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)rows, (lapack_int)cols,
                                     copy, (lapack_int)cols, s, u, (lapack_int)cols, vt,
                                     (lapack_int)cols);
    if (info != 0) {
        st = btfm_fail(BTFM_E_NUMERIC, "aligner: the SVD of a %lld x %lld matrix did not "
                       "converge (LAPACK dgesdd info %d)", (long long)rows, (long long)cols,
                       (int)info);
        goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)cols,
                (blasint)cols, 1.0, u, (blasint)cols, vt, (blasint)cols, 0.0, out, (blasint)cols);
done:
    btfm_free(copy);
    btfm_free(s);
    btfm_free(vt);
    btfm_free(u);
    return st;
}

/* splitmix64: a small, well-mixed generator; the stream is part of the seed's meaning. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state)
{
    return ((double)(splitmix64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

btfm_status btfm_align_random_orthonormal(double *out, int64_t rows, int64_t cols, uint64_t seed)
{
    uint64_t state = seed;
    for (int64_t i = 0; i < rows * cols; i += 2) { /* Box-Muller pairs */
        double r = sqrt(-2.0 * log(uniform01(&state)));
        double phi = 6.283185307179586 * uniform01(&state);
        out[i] = r * cos(phi);
        if (i + 1 < rows * cols) out[i + 1] = r * sin(phi);
    }
    double *tau = btfm_align_doubles((size_t)cols, "aligner: initialization");
    if (!tau) return BTFM_E_NOMEM;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, out,
                                     (lapack_int)cols, tau);
    if (info == 0)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols,
                              (lapack_int)cols, out, (lapack_int)cols, tau);
    btfm_free(tau);
    if (info != 0)
        return btfm_fail(BTFM_E_NUMERIC, "aligner: QR of the random initialization failed "
                         "(LAPACK info %d)", (int)info);
    return BTFM_OK;
}

btfm_status btfm_align_check_subject(const float *x, int64_t n_times, int64_t n_features,
                                int subject, const char *func)
{
    for (int64_t t = 0; t < n_times; t++)
        for (int64_t f = 0; f < n_features; f++)
            if (!isfinite(x[t * n_features + f]))
                return btfm_fail(BTFM_E_NUMERIC, "%s: subject %d: time point %lld, feature "
                                 "%lld is %g; expected finite values (drop or interpolate "
                                 "bad samples first)", func, subject, (long long)t,
                                 (long long)f, (double)x[t * n_features + f]);
    for (int64_t f = 0; f < n_features; f++) {
        int64_t t = 1;
        while (t < n_times && x[t * n_features + f] == x[f]) t++;
        if (t == n_times)
            return btfm_fail(BTFM_E_NUMERIC, "%s: subject %d: feature %lld is constant over "
                             "time (%g at every time point); remove constant features (for "
                             "fMRI, voxels outside the brain mask) before aligning", func,
                             subject, (long long)f, (double)x[f]);
    }
    return BTFM_OK;
}

void btfm_align_check_kernels(void)
{
    /* Once a process: an OpenBLAS release older than the CPU may fall back to its AVX2
     * kernels, which run the single-precision products at about half the speed of its
     * AVX-512 ones. Not when OPENBLAS_CORETYPE chose them. */
    static atomic_int told;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    const char *core = openblas_get_corename();
    if (!core || getenv("OPENBLAS_CORETYPE") || atomic_exchange(&told, 1)) return;
    __builtin_cpu_init();
    if ((!strcmp(core, "Haswell") || !strcmp(core, "Zen")) &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        btfm_warn("aligner: OpenBLAS picked its '%s' (AVX2) kernels on this AVX-512 CPU; "
                  "OPENBLAS_CORETYPE=SkylakeX in the environment of the process makes its "
                  "products about twice as fast", core);
#else
    (void)told;
#endif
}

int btfm_align_threads_begin(const btfm_aligner *a)
{
    int wanted = (int)ALIGN_PARAM(a, NUM_THREADS);
    if (wanted <= 0) return 0;
    int previous = openblas_get_num_threads();
    openblas_set_num_threads(wanted);
    return previous;
}

void btfm_align_threads_restore(int previous)
{
    if (previous > 0) openblas_set_num_threads(previous);
}

int btfm_align_workers(const btfm_aligner *a)
{
    int wanted = (int)ALIGN_PARAM(a, NUM_THREADS);
    return wanted > 0 ? wanted : openblas_get_num_threads();
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
