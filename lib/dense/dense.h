/* The one place libbtfm does dense linear algebra: checked allocations and copies of
 * row-major matrices, the finite-value scan, and wrappers over OpenBLAS/LAPACKE (eigen,
 * SVD, Cholesky, QR, pseudo-inverse, least squares). Every layer above core that does
 * linear algebra goes through it. Row-major throughout; not installed. */
#ifndef BTFM_DENSE_H
#define BTFM_DENSE_H

#include <stddef.h>
#include <stdint.h>
#include "core/cpu.h"
#include "core/internal.h"

/* --- matrix.c: memory, copies, column statistics ---------------------------------- */

/* A zeroed rows x cols matrix of doubles (floats), the size checked; NULL after
 * recording BTFM_E_NOMEM with `where` when it does not fit. 0 x n gives a valid block. */
double *btfm_dense_zeros(int64_t rows, int64_t cols, const char *where);
float *btfm_dense_zeros_f(int64_t rows, int64_t cols, const char *where);

/* dst = src for rows x cols values with row strides ld_src and ld_dst (in elements),
 * converting between float and double. */
void btfm_dense_copy_fd(const float *src, int64_t ld_src, int64_t rows, int64_t cols,
                        double *dst, int64_t ld_dst);
void btfm_dense_copy_df(const double *src, int64_t ld_src, int64_t rows, int64_t cols,
                        float *dst, int64_t ld_dst);

/* Per-column mean and population standard deviation of x (rows x cols, row stride ld,
 * float), statistics in double, then x := (x - mean) / std in place, or x - mean when
 * zscore is 0 (scale then reported as 1; a constant column also gets scale 1). Returns
 * the sum of squares of the standardized values. */
double btfm_dense_standardize(float *x, int64_t rows, int64_t cols, int64_t ld, int zscore,
                              double *mean, double *scale);
/* g (rows x rows, upper part) = x x^T in double for float x (rows x cols, row stride ld),
 * the columns converted a block at a time: products of floats are exact in double, so g
 * resolves eigenvalues far below a float product's 1e-7 of the largest (what a nearly
 * rank-deficient x needs). */
btfm_status btfm_dense_gram_fd(const float *x, int64_t rows, int64_t cols, int64_t ld,
                               double *g, const char *where);

/* z-score the columns of x (rows x cols, double) in place (population std); constant
 * columns become 0. */
void btfm_dense_zscore_columns(double *x, int64_t rows, int64_t cols);

/* --- finite.c: the one finite-value scan --------------------------------------------- */

/* 1 when any of the n values at x is NaN or Inf (an integer test that vectorizes). */
int btfm_dense_any_nonfinite(const float *x, size_t n);
int btfm_dense_any_nonfinite_d(const double *x, size_t n);

/* The first non-finite value of x (rows x cols, row stride ld) in row-major order:
 * returns 1 with its row and column, or 0 when every value is finite. */
int btfm_dense_find_nonfinite(const float *x, int64_t rows, int64_t cols, int64_t ld,
                              int64_t *row, int64_t *col);
int btfm_dense_find_nonfinite_d(const double *x, int64_t rows, int64_t cols, int64_t ld,
                                int64_t *row, int64_t *col);

/* BTFM_E_NUMERIC with the one message form every layer uses:
 * "<func>: [<context>, ]<col_name> <col>, <row_name> <row> holds NaN; expected finite
 * values[ (<advice>)]" (Inf and -Inf named as such). context and advice may be NULL. */
btfm_status btfm_dense_fail_nonfinite(const char *func, const char *context,
                                      const char *col_name, int64_t col,
                                      const char *row_name, int64_t row, double value,
                                      const char *advice);

/* --- eig.c: symmetric eigenproblems ---------------------------------------------------- */

/* Eigendecomposition of the symmetric n x n m (upper part read): m is overwritten by the
 * eigenvectors (its columns) in descending order of the eigenvalues w. */
btfm_status btfm_dense_syev(double *m, int64_t n, double *w, const char *where);
/* The same in single precision (LAPACK ssyevd), for matrices formed in float. Workspace
 * from the scratch cache: callers solve many problems of one size. */
btfm_status btfm_dense_syev_f(float *m, int64_t n, float *w, const char *where);
/* The k largest eigenpairs of the symmetric n x n m (upper part read; destroyed):
 * w (k, descending) and v (n x k, the eigenvectors as columns in that order). */
btfm_status btfm_dense_syev_top(double *m, int64_t n, int64_t k, double *w, double *v,
                                const char *where);
/* The k largest eigenpairs of the symmetric tridiagonal matrix with diagonal d (n) and
 * off-diagonal e (n - 1), both destroyed: w (k, descending) and v (k x n, the
 * eigenvectors as rows in that order). */
btfm_status btfm_dense_tridiag_top(double *d, double *e, int64_t n, int64_t k, double *w,
                                   double *v, const char *where);

/* --- svd.c: singular value decompositions and what is built on them ---------------------- */

/* Thin SVD x = u diag(s) vt of x (rows x cols) by LAPACK's divide and conquer on a copy:
 * u (rows x p), s (p, descending), vt (p x cols), p = min(rows, cols). */
btfm_status btfm_dense_svd(const double *x, int64_t rows, int64_t cols, double *u, double *s,
                           double *vt, const char *where);

/* Thin SVD of x (rows x cols) from the smaller Gram matrix, never a problem larger than
 * min(rows, cols): u (rows x rank), s (rank, descending), and v (cols x rank) when v_out
 * is not NULL, all allocated. Singular values below 1e-7 of the largest are dropped
 * (the Gram route resolves no finer); an all-zero x keeps one null direction. *v_det
 * receives det(v) when rows > cols and v is square (rank == cols), else 0. */
btfm_status btfm_dense_thin_svd(const double *x, int64_t rows, int64_t cols, double **u_out,
                                double **s_out, double **v_out, int64_t *rank, double *v_det,
                                const char *where);

/* out (rows x cols, rows >= cols) = U V^T of the thin SVD of m: the matrix with
 * orthonormal columns closest to m (its polar factor). */
btfm_status btfm_dense_polar(const double *m, int64_t rows, int64_t cols, double *out,
                             const char *where);

/* The pseudo-inverse of x (rows x cols): pinv (cols x rows) = V diag(1/s) U^T over the
 * singular values above rcond * s_max (rcond < 0: NumPy's default max(rows, cols) *
 * DBL_EPSILON), and when cov is not NULL cov (cols x cols) = pinv pinv^T
 * (= (x^T x)^-1 at full column rank). *rank (may be NULL) receives the number of values
 * kept, *cond (may be NULL) s_max / s_min over all min(rows, cols) of them (Inf when
 * s_min is 0). */
btfm_status btfm_dense_pinv(const double *x, int64_t rows, int64_t cols, double rcond,
                            double *pinv, double *cov, int64_t *rank, double *cond,
                            const char *where);

/* The minimum-norm least-squares solution beta (cols x n_rhs) of x beta = y for x
 * (rows x cols) and y (rows x n_rhs), as numpy.linalg.lstsq: singular values at or
 * below rcond * s_max count as 0 (rcond < 0: max(rows, cols) * DBL_EPSILON). *rank (may
 * be NULL) receives the effective rank. */
btfm_status btfm_dense_lstsq(const double *x, int64_t rows, int64_t cols, const double *y,
                             int64_t n_rhs, double rcond, double *beta, int64_t *rank,
                             const char *where);

/* --- solve.c: LU, Cholesky and symmetric positive definite systems ----------------------- */

/* Determinant of the square n x n m (LU of a copy). */
btfm_status btfm_dense_det(const double *m, int64_t n, double *det, const char *where);

/* The upper Cholesky factor of the symmetric positive definite n x n a, in place
 * (upper part read and written: a = R^T R; the strictly lower part is left alone).
 * Returns 0, or k > 0 when the leading minor of order k is not positive definite. */
int btfm_dense_chol(double *a, int64_t n);
/* b (n x cols) := (R^T R)^-1 b for R from btfm_dense_chol. */
void btfm_dense_chol_solve(const double *r, int64_t n, double *b, int64_t cols);
/* b (n x cols) := a^-1 b for the symmetric positive definite a (n x n, upper part read,
 * overwritten by its factor). Returns 0, or as btfm_dense_chol. */
int btfm_dense_spd_solve(double *a, int64_t n, double *b, int64_t cols);
/* b (rows x n) := b a^-1, the same from the right, without transposed copies. */
int btfm_dense_spd_solve_right(double *a, int64_t n, double *b, int64_t rows);
/* inv (n x n, full) = m^-1 and *log_det = log det m for the symmetric positive definite
 * m (upper part read). Returns 0, or as btfm_dense_chol when m is not positive definite
 * (numerically). */
int btfm_dense_spd_inverse(const double *m, int64_t n, double *inv, double *log_det);

/* Row-major n x n float matrices given by their upper part, in place: the upper Cholesky
 * factor R (a = R^T R; returns 0, or as btfm_dense_chol; an empty matrix gives 1), the
 * reciprocal condition estimate of a from R and a's 1-norm (0 on failure), and R's
 * inverse in its upper part (BTFM_E_NUMERIC when R is singular). */
int btfm_dense_chol_f(float *a, int64_t n);
float btfm_dense_rcond_f(const float *r, int64_t n, float anorm);
btfm_status btfm_dense_invert_upper_f(float *r, int64_t n, const char *where);

/* --- qr.c: orthonormal bases ------------------------------------------------------------- */

/* An orthonormal basis of the span of x (rows x cols, rows >= 1) by QR with column
 * pivoting: *q (rows x *rank, allocated; NULL when the rank is 0) spans the columns whose
 * |R_jj| exceeds tol * |R_00|. When `dependent` is not NULL it receives the first column
 * (original index) left out, or -1 when x has full column rank. */
btfm_status btfm_dense_basis(const double *x, int64_t rows, int64_t cols, double tol,
                             double **q, int64_t *rank, int64_t *dependent, const char *where);

/* y (rows x cols) -= q (q^T y) for q (rows x rank) with orthonormal columns. `work`
 * holds rank x cols doubles. */
void btfm_dense_project_out(const double *q, int64_t rows, int64_t rank, double *y,
                            int64_t cols, double *work);

/* out (rows x cols, rows >= cols) with orthonormal columns drawn from `seed`: the Q of a
 * Gaussian matrix from splitmix64 and Box-Muller (the stream is part of the seed's
 * meaning: saved models depend on it). */
btfm_status btfm_dense_random_orthonormal(double *out, int64_t rows, int64_t cols,
                                          uint64_t seed, const char *where);

/* --- blas.c: the BLAS the library runs on -------------------------------------------------- */

/* Warn once a process (log level warning, `who` naming the caller) when OpenBLAS picked
 * kernels for a lower instruction set than the CPU offers (its release falls back for
 * CPU models it does not know, down to Prescott's SSE3), naming the OPENBLAS_CORETYPE
 * that fixes it; not when OPENBLAS_CORETYPE chose them. */
void btfm_dense_check_kernels(const char *who);

/* The instruction set a kernel family of OpenBLAS ("Prescott", "Haswell", "SkylakeX",
 * ...) is written for; BTFM_ISA_UNKNOWN for a name it does not know. */
btfm_isa btfm_dense_kernel_isa(const char *family);

/* OpenBLAS's process-wide thread count set to `wanted` (<= 0: left) for the duration of a
 * call, when the host allowed it (btfm_set_blas_thread_control), returning the count
 * before for the matching pop, or 0 when nothing changed. Pushes and pops pair up on each
 * thread; when the last one of all threads pops, the count the host had before the first
 * push is restored, however the calls interleaved. */
int btfm_dense_blas_threads_push(int wanted);
void btfm_dense_blas_threads_pop(int previous);

/* How many threads of its own a call that also uses BLAS may run: `wanted` (<= 0:
 * OpenBLAS's count), or 1 while OpenBLAS runs threads the library may not switch off. */
int btfm_dense_blas_workers(int wanted);

/* The OPENBLAS_CORETYPE to suggest when `family` uses a lower instruction set than
 * `cpu`: "SkylakeX", "Haswell", "Sandybridge", "Nehalem", "Penryn" or "Core2"; NULL when
 * it does not (or either is unknown). */
const char *btfm_dense_kernel_upgrade(const char *family, btfm_isa cpu);

/* What OpenBLAS reports: its kernel family, its build configuration
 * (openblas_get_config), its thread count, and its threading ("pthreads", "openmp",
 * "sequential"). Static strings. */
const char *btfm_dense_blas_kernels(void);
const char *btfm_dense_blas_config(void);
int btfm_dense_blas_threads(void);
const char *btfm_dense_blas_threading(void);

#endif
