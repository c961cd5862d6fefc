/* Helpers shared by the fMRI files of lib/fmri (clean.c, hrf.c, design.c, glm.c,
 * lss.c): input checks and the blocks of voxels the computations run on in double
 * precision (the dense algebra itself is lib/dense). */
#ifndef BTFM_FMRI_GLM_INTERNAL_H
#define BTFM_FMRI_GLM_INTERNAL_H

#include <btfm/glm.h>
#include "core/internal.h"
#include "core/progress.h"
#include "dense/dense.h"

/* Voxels per block: the computations gather this many columns of a time-major float
 * array into an n_times x block double matrix, work on it with BLAS, and scatter. */
#define GLM_BLOCK 256

/* nilearn's defaults that our design functions follow. */
#define GLM_OVERSAMPLING 50
#define GLM_MIN_ONSET (-24.0)
#define GLM_HRF_LENGTH 32.0

/* BTFM_E_NUMERIC naming the first non-finite value of x (rows x cols, time-major):
 * "<func>: <what> <column>, volume <row> holds NaN; expected finite values (...)" (rows
 * for the double form). */
btfm_status btfm_glm_check_finite(const float *x, int64_t rows, int64_t cols,
                                  const char *func, const char *what);
btfm_status btfm_glm_check_finite_d(const double *x, int64_t rows, int64_t cols,
                                    const char *func, const char *what);

/* Remove a polynomial of degree `order` in time from every column of y (rows x cols):
 * projection onto the orthonormalized powers 1, t, t^2, ... `basis` holds the
 * rows x (order + 1) orthonormal basis (btfm_glm_poly_basis). */
btfm_status btfm_glm_poly_basis(int64_t rows, int order, double **basis);

/* --- hrf.c --- */

/* Samples of an HRF kernel on the grid of btfm_glm_hrf: the count (0 when the grid is
 * empty), and the values into out (that many doubles). */
int64_t btfm_glm_hrf_length(double t_r, int oversampling, double time_length);
btfm_status btfm_glm_hrf_fill(int kind, double t_r, int oversampling, double time_length,
                              double onset, double *out);

/* --- clean.c, design.c: the computations behind the old entry points and the plans ---
 * `func` names the public entry point in messages. */

/* The options of btfm_glm_clean. */
typedef struct btfm_clean_options {
    double t_r;
    int detrend_order, filter;
    double high_pass_hz, low_pass_hz;
    int standardize;
} btfm_clean_options;

btfm_status btfm_glm_clean_compute(const btfm_clean_options *o, const float *data,
                                   int64_t n_times, int64_t n_voxels, const float *confounds,
                                   int64_t n_confounds, float *out, const char *func);

/* The options of btfm_glm_design_matrix. */
typedef struct btfm_design_options {
    double t_r, slice_time_ref;
    int hrf_model, drift_model;
    double drift_param;
} btfm_design_options;

btfm_status btfm_glm_design_compute(const btfm_design_options *o, const double *onsets,
                                    const double *durations, const double *amplitudes,
                                    const int *conditions, int64_t n_events, int n_conditions,
                                    int64_t n_scans, double *out, size_t capacity,
                                    int64_t *n_columns, const char *func);

#endif
