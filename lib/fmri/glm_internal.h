/* Helpers shared by the fMRI files of lib/signal (clean.c, hrf.c, design.c, glm.c,
 * lss.c): input checks, orthonormal bases by rank-revealing QR, and the blocks of
 * voxels the computations run on in double precision. */
#ifndef BTFM_SIGNAL_GLM_INTERNAL_H
#define BTFM_SIGNAL_GLM_INTERNAL_H

#include <btfm/glm.h>
#include "core/internal.h"

/* Voxels per block: the computations gather this many columns of a time-major float
 * array into an n_times x block double matrix, work on it with BLAS, and scatter. */
#define GLM_BLOCK 256

/* nilearn's defaults that our design functions follow. */
#define GLM_OVERSAMPLING 50
#define GLM_MIN_ONSET (-24.0)
#define GLM_HRF_LENGTH 32.0

/* A zeroed array of rows x cols doubles (size checked), or NULL after recording
 * BTFM_E_NOMEM with `where`. */
double *btfm_glm_doubles(int64_t rows, int64_t cols, const char *where);

/* BTFM_E_NUMERIC naming the first non-finite value of x (rows x cols, time-major):
 * "<func>: <what> <column>, volume <row> is nan; expected finite values". */
btfm_status btfm_glm_check_finite(const float *x, int64_t rows, int64_t cols,
                                  const char *func, const char *what);
btfm_status btfm_glm_check_finite_d(const double *x, int64_t rows, int64_t cols,
                                    const char *func, const char *what);

/* Copy columns [first, first + count) of x (rows x stride floats) into block
 * (rows x count doubles), and back. */
void btfm_glm_gather(const float *x, int64_t rows, int64_t stride, int64_t first,
                     int64_t count, double *block);
void btfm_glm_scatter(const double *block, int64_t rows, int64_t count, float *x,
                      int64_t stride, int64_t first);

/* An orthonormal basis of the span of x (rows x cols, rows >= 1) by QR with column
 * pivoting: *q (rows x *rank, allocated) spans the columns whose |R_jj| exceeds
 * tol * |R_00|. When `dependent` is not NULL it receives the first column (original
 * index) left out, or -1 when x has full column rank. */
btfm_status btfm_glm_basis(const double *x, int64_t rows, int64_t cols, double tol,
                           double **q, int64_t *rank, int64_t *dependent);

/* y (rows x cols) -= q (q^T y) for q (rows x rank) with orthonormal columns. `work`
 * holds rank x cols doubles. */
void btfm_glm_project_out(const double *q, int64_t rows, int64_t rank, double *y,
                          int64_t cols, double *work);

/* Remove a polynomial of degree `order` in time from every column of y (rows x cols):
 * projection onto the orthonormalized powers 1, t, t^2, ... `basis` holds the
 * rows x (order + 1) orthonormal basis (btfm_glm_poly_basis). */
btfm_status btfm_glm_poly_basis(int64_t rows, int order, double **basis);

/* The pseudo-inverse of x (rows x cols, full column rank): pinv (cols x rows) and
 * cov = (x^T x)^-1 (cols x cols), through the SVD. */
btfm_status btfm_glm_pinv(const double *x, int64_t rows, int64_t cols, double *pinv,
                          double *cov, const char *func);

/* --- hrf.c --- */

/* Samples of an HRF kernel on the grid of btfm_glm_hrf: the count (0 when the grid is
 * empty), and the values into out (that many doubles). */
int64_t btfm_glm_hrf_length(double t_r, int oversampling, double time_length);
btfm_status btfm_glm_hrf_fill(int kind, double t_r, int oversampling, double time_length,
                              double onset, double *out);

#endif
