/* fMRI first-level analysis: cleaning of BOLD time series (nilearn's signal.clean
 * order), the SPM canonical HRF and its derivatives, design matrices from events, the
 * GLM with OLS or AR(1) prewhitening (btfm_glm), and per-event betas (LSA, LSS). */
#ifndef BTFM_GLM_H
#define BTFM_GLM_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "progress.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Arrays are time-major: data is n_times rows of n_voxels floats (C order); designs
 * and regressors are n_times rows of n_columns doubles. */

/* --- Cleaning ------------------------------------------------------------------ */

/* Temporal filters of btfm_glm_clean. Numbers are never reused. */
typedef enum btfm_clean_filter {
    BTFM_CLEAN_FILTER_NONE = 0,
    BTFM_CLEAN_FILTER_BUTTERWORTH = 1, /* order-5 Butterworth, zero phase (sosfiltfilt) */
    BTFM_CLEAN_FILTER_COSINE = 2,      /* DCT high-pass regressors among the confounds */
    BTFM_CLEAN_FILTER_MAX_ = 0x7fffffff
} btfm_clean_filter;

/* Standardization, the last step of btfm_glm_clean. */
typedef enum btfm_clean_standardize {
    BTFM_STANDARDIZE_NONE = 0,
    BTFM_STANDARDIZE_ZSCORE_SAMPLE = 1, /* zero mean, unit sample std (ddof = 1) */
    BTFM_STANDARDIZE_ZSCORE = 2,        /* zero mean, unit population std (ddof = 0) */
    BTFM_STANDARDIZE_PSC = 3,           /* percent signal change from the original mean */
    BTFM_STANDARDIZE_MAX_ = 0x7fffffff
} btfm_clean_standardize;

/* Clean `data` (n_times x n_voxels) into `out` (same shape; out == data works in
 * place), in nilearn's signal.clean order:
 *   1. with BTFM_CLEAN_FILTER_COSINE, the DCT high-pass regressors for `high_pass_hz`
 *      (btfm_glm_cosine_drift with cutoff 1 / high_pass_hz, constant excluded) join
 *      the confounds;
 *   2. detrend: remove a polynomial of degree `detrend_order` in time (0 = the mean,
 *      1 = mean and linear trend as nilearn; -1 = no detrending), from the data and
 *      from the confounds alike;
 *   3. with BTFM_CLEAN_FILTER_BUTTERWORTH: order-5 Butterworth band-pass (or high-pass
 *      when low_pass_hz is 0, low-pass when high_pass_hz is 0), applied forward and
 *      backward, to the data and to the confounds alike (Lindquist 2018);
 *   4. confound regression: the confounds (n_times x n_confounds, plus the cosines)
 *      are z-scored and the data projected out of their span (rank-revealing QR; exactly
 *      collinear confounds are dropped);
 *   5. standardize (btfm_clean_standardize); percent signal change refers to the mean
 *      the data had before cleaning.
 * t_r is the repetition time in seconds (> 0). Frequencies are in Hz, 0 = none, below
 * the Nyquist frequency 0.5 / t_r. `confounds` may be NULL (n_confounds 0). Values must
 * be finite (BTFM_E_NUMERIC names the voxel or confound and the volume). Computation
 * runs in double on blocks of voxels, so memory beyond `out` is O(n_times x 256).
 * Deprecated in favour of the clean plan below, which names every option. */
BTFM_API btfm_status btfm_glm_clean(const float *data, int64_t n_times, int64_t n_voxels,
                                    double t_r, int detrend_order, int filter,
                                    double high_pass_hz, double low_pass_hz,
                                    const float *confounds, int64_t n_confounds,
                                    int standardize, float *out);

/* A clean plan: btfm_glm_clean's options as parameters (btfm_glm_clean_plan_set_param,
 * introspectable through btfm_param_info with BTFM_OBJECT_CLEAN_PLAN), applied to any
 * number of runs. A plan is only read by its runs: one plan may serve several threads at
 * once while none changes it. */
typedef struct btfm_glm_clean_plan btfm_glm_clean_plan;

typedef enum btfm_clean_param {
    BTFM_CLEAN_PARAM_T_R = 0,           /* real: repetition time, s (must be set) */
    BTFM_CLEAN_PARAM_DETREND_ORDER = 1, /* int: -1 none .. 20 (1) */
    BTFM_CLEAN_PARAM_FILTER = 2,        /* int: btfm_clean_filter (butterworth) */
    BTFM_CLEAN_PARAM_HIGH_PASS_HZ = 3,  /* real: 0 = none (0) */
    BTFM_CLEAN_PARAM_LOW_PASS_HZ = 4,   /* real: 0 = none (0) */
    BTFM_CLEAN_PARAM_STANDARDIZE = 5,   /* int: btfm_clean_standardize (zscore_sample) */
    BTFM_CLEAN_PARAM_MAX_ = 0x7fffffff
} btfm_clean_param;

/* A plan with the defaults above; t_r must be set before it runs (BTFM_E_STATE). Free
 * with btfm_glm_clean_plan_free; NULL is a no-op there. */
BTFM_API btfm_status btfm_glm_clean_plan_new(btfm_glm_clean_plan **out);
BTFM_API void btfm_glm_clean_plan_free(btfm_glm_clean_plan *p);
BTFM_API btfm_status btfm_glm_clean_plan_set_param(btfm_glm_clean_plan *p, int param,
                                                   double value);
BTFM_API btfm_status btfm_glm_clean_plan_get_param(const btfm_glm_clean_plan *p, int param,
                                                   double *value);
/* Clean `data` (n_times x n_voxels) into `out` as btfm_glm_clean with the plan's options;
 * identical to it. */
BTFM_API btfm_status btfm_glm_clean_plan_run(const btfm_glm_clean_plan *p, float *out,
                                             const float *data, int64_t n_times,
                                             int64_t n_voxels, const float *confounds,
                                             int64_t n_confounds);

/* The discrete cosine (DCT-II) high-pass basis of SPM (spm_filter) and nilearn
 * (create_cosine_drift): column k (k = 1 .. order) is sqrt(2 / n) cos(pi k (t + 1/2) / n),
 * t = 0 .. n_times - 1, with order = min(n_times - 1, floor(2 n_times t_r / cutoff_s)),
 * followed by a constant column of ones. Frequencies below 1 / cutoff_s Hz are spanned
 * (SPM's default cutoff is 128 s). `out` receives n_times x (order + 1) doubles;
 * *n_columns receives order + 1 (call with out = NULL, capacity 0 to ask). */
BTFM_API btfm_status btfm_glm_cosine_drift(int64_t n_times, double t_r, double cutoff_s,
                                           double *out, size_t capacity,
                                           int64_t *n_columns);

/* --- HRF ----------------------------------------------------------------------- */

/* HRF shapes. Numbers are never reused. */
typedef enum btfm_hrf_kind {
    BTFM_HRF_SPM = 0,                   /* canonical double gamma */
    BTFM_HRF_SPM_TIME_DERIVATIVE = 1,   /* (hrf(onset) - hrf(onset + 0.1 s)) / 0.1 */
    BTFM_HRF_SPM_DISPERSION_DERIVATIVE = 2, /* (hrf(disp 1) - hrf(disp 1.01)) / 0.01 */
    BTFM_HRF_KIND_MAX_ = 0x7fffffff
} btfm_hrf_kind;

/* The SPM canonical HRF as nilearn's spm_hrf: on the grid of n = rint(time_length /
 * dt) points linspace(0, time_length, n) - onset with dt = t_r / oversampling,
 * h = gamma(6, scale 1) - 0.167 gamma(16, scale 1) densities (both shifted by dt),
 * normalized to sum 1; or one of its derivatives (btfm_hrf_kind). `out` receives n
 * doubles; *n_samples receives n (out = NULL, capacity 0 to ask). */
BTFM_API btfm_status btfm_glm_hrf(int kind, double t_r, int oversampling,
                                  double time_length, double onset, double *out,
                                  size_t capacity, int64_t *n_samples);

/* --- Design matrices ------------------------------------------------------------- */

/* HRF models of a design: 1, 2 or 3 columns per condition. */
typedef enum btfm_hrf_model {
    BTFM_HRF_MODEL_SPM = 1,                       /* 'spm' */
    BTFM_HRF_MODEL_SPM_DERIVATIVE = 2,            /* 'spm + derivative' */
    BTFM_HRF_MODEL_SPM_DERIVATIVE_DISPERSION = 3, /* 'spm + derivative + dispersion' */
    BTFM_HRF_MODEL_MAX_ = 0x7fffffff
} btfm_hrf_model;

/* Drift models of a design: every one ends with the constant column. */
typedef enum btfm_drift_model {
    BTFM_DRIFT_NONE = 0,       /* the constant only */
    BTFM_DRIFT_COSINE = 1,     /* drift_param = cutoff period in seconds (e.g. 128) */
    BTFM_DRIFT_POLYNOMIAL = 2, /* drift_param = order (nilearn's drift_order) */
    BTFM_DRIFT_MODEL_MAX_ = 0x7fffffff
} btfm_drift_model;

/* Columns per condition of an HRF model (1, 2 or 3); a negative status if unknown. */
BTFM_API int btfm_glm_hrf_columns(int hrf_model);

/* The regressors of one condition as nilearn's compute_regressor: its events (onset,
 * duration in seconds; amplitude, NULL = 1) drawn as boxcars on a grid 50 times finer
 * than t_r starting 24 s before the first frame, convolved with the HRF model's
 * kernels, sampled by linear interpolation at the frame times
 * (i + slice_time_ref) * t_r, i = 0 .. n_scans - 1, and the derivative columns
 * orthogonalized against the preceding ones. `out` receives n_scans x
 * btfm_glm_hrf_columns(hrf_model) doubles. Events must have finite values, duration
 * >= 0, and onsets within [-24 s, n_scans * t_r); slice_time_ref is in [0, 1]. */
BTFM_API btfm_status btfm_glm_event_regressors(const double *onsets, const double *durations,
                                               const double *amplitudes, int64_t n_events,
                                               double t_r, int64_t n_scans,
                                               double slice_time_ref, int hrf_model,
                                               double *out);

/* The drift columns of a design (nilearn's make_first_level_design_matrix): cosines
 * (btfm_glm_cosine_drift) or polynomials (t / t_max)^k, k = 1 .. order,
 * orthogonalized in order, at the frame times; then the constant. `out` receives
 * n_scans x n columns; *n_columns receives n (out = NULL, capacity 0 to ask). */
BTFM_API btfm_status btfm_glm_drift(int64_t n_scans, double t_r, double slice_time_ref,
                                    int drift_model, double drift_param, double *out,
                                    size_t capacity, int64_t *n_columns);

/* A whole design: for each condition 0 .. n_conditions - 1 (conditions[i] names event
 * i's) its btfm_glm_event_regressors columns, then btfm_glm_drift's columns.
 * `out` receives n_scans x n doubles; *n_columns receives n (out = NULL, capacity 0
 * to ask). Nuisance regressors (motion, ...) go between the two in nilearn's layout:
 * build the parts separately when you need them. Deprecated in favour of the design
 * plan below, which names every option. */
BTFM_API btfm_status btfm_glm_design_matrix(const double *onsets, const double *durations,
                                            const double *amplitudes, const int *conditions,
                                            int64_t n_events, int n_conditions, double t_r,
                                            int64_t n_scans, double slice_time_ref,
                                            int hrf_model, int drift_model,
                                            double drift_param, double *out,
                                            size_t capacity, int64_t *n_columns);

/* A design plan: btfm_glm_design_matrix's options as parameters
 * (btfm_glm_design_plan_set_param, introspectable through btfm_param_info with
 * BTFM_OBJECT_DESIGN_PLAN), applied to any number of event lists. A plan is only read by
 * its runs: one plan may serve several threads at once while none changes it. */
typedef struct btfm_glm_design_plan btfm_glm_design_plan;

typedef enum btfm_design_param {
    BTFM_DESIGN_PARAM_T_R = 0,            /* real: repetition time, s (must be set) */
    BTFM_DESIGN_PARAM_SLICE_TIME_REF = 1, /* real: 0 .. 1 (0) */
    BTFM_DESIGN_PARAM_HRF_MODEL = 2,      /* int: btfm_hrf_model (spm) */
    BTFM_DESIGN_PARAM_DRIFT_MODEL = 3,    /* int: btfm_drift_model (cosine) */
    BTFM_DESIGN_PARAM_DRIFT_CUTOFF = 4,   /* real: cosine cutoff period, s (128) */
    BTFM_DESIGN_PARAM_DRIFT_ORDER = 5,    /* int: polynomial order (1) */
    BTFM_DESIGN_PARAM_MAX_ = 0x7fffffff
} btfm_design_param;

/* A plan with the defaults above; t_r must be set before it runs (BTFM_E_STATE). Free
 * with btfm_glm_design_plan_free; NULL is a no-op there. */
BTFM_API btfm_status btfm_glm_design_plan_new(btfm_glm_design_plan **out);
BTFM_API void btfm_glm_design_plan_free(btfm_glm_design_plan *p);
BTFM_API btfm_status btfm_glm_design_plan_set_param(btfm_glm_design_plan *p, int param,
                                                    double value);
BTFM_API btfm_status btfm_glm_design_plan_get_param(const btfm_glm_design_plan *p,
                                                    int param, double *value);
/* The design of n_scans frames for the events, as btfm_glm_design_matrix with the plan's
 * options (the cutoff or the order as drift_param, by the drift model); identical to it.
 * *n_columns receives the column count (out = NULL, capacity 0 to ask). */
BTFM_API btfm_status btfm_glm_design_plan_run(const btfm_glm_design_plan *p, double *out,
                                              size_t capacity, int64_t *n_columns,
                                              const double *onsets, const double *durations,
                                              const double *amplitudes, const int *conditions,
                                              int64_t n_events, int n_conditions,
                                              int64_t n_scans);

/* --- GLM ----------------------------------------------------------------------- */

typedef struct btfm_glm btfm_glm;

/* Noise models of btfm_glm. Numbers are never reused. */
typedef enum btfm_glm_noise {
    BTFM_GLM_OLS = 1, /* ordinary least squares */
    BTFM_GLM_AR1 = 2, /* nilearn's run_glm(noise_model='ar1') */
    BTFM_GLM_NOISE_MAX_ = 0x7fffffff
} btfm_glm_noise;

/* Name of a noise model ("ols", "ar1"); NULL if unknown. */
BTFM_API const char *btfm_glm_noise_name(int noise_model);

/* A GLM over `design` (n_times x n_regressors doubles, copied). The design must have
 * full column rank (BTFM_E_NUMERIC names a column that depends on the others) and
 * finite values. Free with btfm_glm_free. */
BTFM_API btfm_status btfm_glm_new(btfm_glm **out, const double *design, int64_t n_times,
                                  int64_t n_regressors, int noise_model);

/* Release a GLM. NULL is a no-op. */
BTFM_API void btfm_glm_free(btfm_glm *g);

/* Fit every voxel of `data` (n_times x n_voxels, finite). OLS: betas = pinv(X) y,
 * residual variance = |y - X betas|^2 / (n_times - n_regressors). AR(1), as nilearn:
 * the lag-1 autocorrelation of each voxel's OLS residuals, truncated toward zero to a
 * multiple of 0.01, groups the voxels; each group is refitted on whitened data and
 * design (row t minus rho times row t - 1, the first row kept), and the residual
 * variance is that of the whitened residuals. A refit replaces a previous fit once it
 * succeeds; a failed one leaves the previous fit. */
BTFM_API btfm_status btfm_glm_fit(btfm_glm *g, const float *data, int64_t n_times,
                                  int64_t n_voxels);

/* Report the progress of btfm_glm_fit to `fn` (NULL: the calling thread's callback,
 * btfm_set_thread_progress): stages "OLS fit" and "AR(1) refit". A callback that asks
 * to stop ends the fit with BTFM_E_CANCELLED and the previous fit (if any) in place, as
 * after any failed refit. Since 1.3. */
BTFM_API btfm_status btfm_glm_set_progress(btfm_glm *g, btfm_progress_fn fn, void *user);

/* Dimensions: regressors, voxels of the last fit (0 before), residual degrees of
 * freedom (n_times - n_regressors). Any pointer may be NULL. */
BTFM_API btfm_status btfm_glm_dims(const btfm_glm *g, int64_t *n_regressors,
                                   int64_t *n_voxels, int64_t *dof);

/* After a fit: betas (n_regressors x n_voxels), residual variance (n_voxels) and the
 * binned AR(1) coefficient of each voxel (n_voxels; 0 for OLS), into caller buffers of
 * `capacity` floats. */
BTFM_API btfm_status btfm_glm_betas(const btfm_glm *g, float *out, size_t capacity);
BTFM_API btfm_status btfm_glm_residual_variance(const btfm_glm *g, float *out,
                                                size_t capacity);
BTFM_API btfm_status btfm_glm_ar1(const btfm_glm *g, float *out, size_t capacity);

/* A t contrast `contrast` (n_regressors weights) on every voxel: effect = c.betas,
 * variance = sigma^2 c (Xw^T Xw)^-1 c^T with the voxel's whitened design Xw, t =
 * effect / sqrt(variance). Each output (n_voxels floats) may be NULL. */
BTFM_API btfm_status btfm_glm_contrast(const btfm_glm *g, const double *contrast,
                                       int64_t n_regressors, float *effect, float *variance,
                                       float *t);

/* --- Per-event betas ------------------------------------------------------------- */

/* btfm_glm_lsa and btfm_glm_lss report progress to the calling thread's callback
 * (btfm_set_thread_progress); a cancel returns BTFM_E_CANCELLED with `betas` incomplete. */

/* Least-squares-all: one model with every event's regressor (`events`, n_times x
 * n_events, e.g. one btfm_glm_event_regressors column per event) and the nuisance
 * regressors (`nuisance`, n_times x n_nuisance: drifts, constant, motion...; may be
 * NULL with n_nuisance 0). `betas` receives the n_events x n_voxels event betas. */
BTFM_API btfm_status btfm_glm_lsa(const float *data, int64_t n_times, int64_t n_voxels,
                                  const double *events, int64_t n_events,
                                  const double *nuisance, int64_t n_nuisance, float *betas);

/* Least-squares-separate (Mumford 2012): for each event a model with its regressor,
 * one regressor summing every other event (conditions == NULL) or one per condition
 * summing the other events of that condition (conditions: n_events labels in
 * 0 .. n_events - 1), and the nuisance regressors; `betas` receives each event's own
 * beta (n_events x n_voxels). The models share everything but two columns, so the
 * cost is one pass of n_events x n_times x n_voxels multiply-adds, not n_events fits. */
BTFM_API btfm_status btfm_glm_lss(const float *data, int64_t n_times, int64_t n_voxels,
                                  const double *events, const int *conditions,
                                  int64_t n_events, const double *nuisance,
                                  int64_t n_nuisance, float *betas);

#ifdef __cplusplus
}
#endif

#endif
