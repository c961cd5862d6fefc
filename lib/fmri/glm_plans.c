/* The design and clean plans: the options of btfm_glm_design_matrix and btfm_glm_clean as
 * parameter tables (the zstd CCtx pattern), run through the same computations. */
#include <math.h>
#include "glm_internal.h"
#include "core/param.h"

/* t_r has no sensible default: 0 until set, refused when set to 0, and a plan runs only
 * once it is set. */
static btfm_status check_t_r(double t_r, const char *kind, const char *func)
{
    if (t_r > 0) return BTFM_OK;
    return btfm_fail(BTFM_E_STATE, "%s: the %s's t_r is not set; set the repetition time "
                     "in s (parameter \"t_r\") before running it", func, kind);
}

static btfm_status check_set_t_r(int param, double value, const char *func)
{
    if (param != 0 || value > 0 || isnan(value)) return BTFM_OK; /* NaN: the table's message */
    return btfm_fail(BTFM_E_RANGE, "%s: t_r = %g s; expected a positive repetition time",
                     func, value);
}

/* ---- design plan ---- */

enum { DESIGN_PARAM_COUNT = 6 };

struct btfm_glm_design_plan {
    double values[DESIGN_PARAM_COUNT];
};

static const btfm_param_def design_params[DESIGN_PARAM_COUNT] = {
    {"t_r", BTFM_PARAM_REAL, 0, 0, 1e4,
     "Repetition time in s (> 0); 0 until set, and a plan without it does not run."},
    {"slice_time_ref", BTFM_PARAM_REAL, 0, 0, 1,
     "Frame times are (i + slice_time_ref) t_r: the fraction of a volume's acquisition."},
    {"hrf_model", BTFM_PARAM_INT, BTFM_HRF_MODEL_SPM, BTFM_HRF_MODEL_SPM,
     BTFM_HRF_MODEL_SPM_DERIVATIVE_DISPERSION,
     "1 spm, 2 spm + derivative, 3 spm + derivative + dispersion."},
    {"drift_model", BTFM_PARAM_INT, BTFM_DRIFT_COSINE, BTFM_DRIFT_NONE, BTFM_DRIFT_POLYNOMIAL,
     "0 none (the constant only), 1 cosine, 2 polynomial."},
    {"drift_cutoff", BTFM_PARAM_REAL, 128, 1e-3, 1e6,
     "Cutoff period in s of the cosine drift model (SPM's default 128 s)."},
    {"drift_order", BTFM_PARAM_INT, 1, 0, 20, "Order of the polynomial drift model."},
};

const btfm_param_table btfm_design_plan_param_table = {
    BTFM_OBJECT_DESIGN_PLAN, "design_plan", DESIGN_PARAM_COUNT, design_params,
};

btfm_status btfm_glm_design_plan_new(btfm_glm_design_plan **out)
{
    BTFM_CHECK_ARG(out, "btfm_glm_design_plan_new", "out");
    *out = btfm_params_alloc(sizeof **out, &btfm_design_plan_param_table,
                             "btfm_glm_design_plan_new");
    return *out ? BTFM_OK : BTFM_E_NOMEM;
}

void btfm_glm_design_plan_free(btfm_glm_design_plan *p) { btfm_free(p); }

btfm_status btfm_glm_design_plan_set_param(btfm_glm_design_plan *p, int param, double value)
{
    BTFM_CHECK_ARG(p, "btfm_glm_design_plan_set_param", "plan");
    btfm_status st = check_set_t_r(param, value, "btfm_glm_design_plan_set_param");
    if (st) return st;
    return btfm_params_set(&btfm_design_plan_param_table, p->values, param, value,
                           "btfm_glm_design_plan_set_param");
}

btfm_status btfm_glm_design_plan_get_param(const btfm_glm_design_plan *p, int param,
                                           double *value)
{
    BTFM_CHECK_ARG(p, "btfm_glm_design_plan_get_param", "plan");
    return btfm_params_get(&btfm_design_plan_param_table, p->values, param, value,
                           "btfm_glm_design_plan_get_param");
}

btfm_status btfm_glm_design_plan_run(const btfm_glm_design_plan *p, double *out,
                                     size_t capacity, int64_t *n_columns,
                                     const double *onsets, const double *durations,
                                     const double *amplitudes, const int *conditions,
                                     int64_t n_events, int n_conditions, int64_t n_scans)
{
    static const char func[] = "btfm_glm_design_plan_run";
    BTFM_CHECK_ARG(p, func, "plan");
    const double *v = p->values;
    btfm_status st = check_t_r(v[BTFM_DESIGN_PARAM_T_R], "design plan", func);
    if (st) return st;
    const int drift = (int)v[BTFM_DESIGN_PARAM_DRIFT_MODEL];
    const btfm_design_options o = {
        v[BTFM_DESIGN_PARAM_T_R], v[BTFM_DESIGN_PARAM_SLICE_TIME_REF],
        (int)v[BTFM_DESIGN_PARAM_HRF_MODEL], drift,
        drift == BTFM_DRIFT_POLYNOMIAL ? v[BTFM_DESIGN_PARAM_DRIFT_ORDER]
                                       : v[BTFM_DESIGN_PARAM_DRIFT_CUTOFF]};
    return btfm_glm_design_compute(&o, onsets, durations, amplitudes, conditions, n_events,
                                   n_conditions, n_scans, out, capacity, n_columns, func);
}

/* ---- clean plan ---- */

enum { CLEAN_PARAM_COUNT = 6 };

struct btfm_glm_clean_plan {
    double values[CLEAN_PARAM_COUNT];
};

static const btfm_param_def clean_params[CLEAN_PARAM_COUNT] = {
    {"t_r", BTFM_PARAM_REAL, 0, 0, 1e4,
     "Repetition time in s (> 0); 0 until set, and a plan without it does not run."},
    {"detrend_order", BTFM_PARAM_INT, 1, -1, 20,
     "Polynomial removed before filtering: -1 none, 0 the mean, 1 mean and linear trend."},
    {"filter", BTFM_PARAM_INT, BTFM_CLEAN_FILTER_BUTTERWORTH, BTFM_CLEAN_FILTER_NONE,
     BTFM_CLEAN_FILTER_COSINE,
     "0 none, 1 order-5 zero-phase Butterworth, 2 DCT high-pass regressors."},
    {"high_pass_hz", BTFM_PARAM_REAL, 0, 0, 1e6, "High-pass cutoff in Hz; 0 for none."},
    {"low_pass_hz", BTFM_PARAM_REAL, 0, 0, 1e6, "Low-pass cutoff in Hz; 0 for none."},
    {"standardize", BTFM_PARAM_INT, BTFM_STANDARDIZE_ZSCORE_SAMPLE, BTFM_STANDARDIZE_NONE,
     BTFM_STANDARDIZE_PSC, "0 none, 1 zscore_sample (ddof 1), 2 zscore (ddof 0), 3 percent "
     "signal change."},
};

const btfm_param_table btfm_clean_plan_param_table = {
    BTFM_OBJECT_CLEAN_PLAN, "clean_plan", CLEAN_PARAM_COUNT, clean_params,
};

btfm_status btfm_glm_clean_plan_new(btfm_glm_clean_plan **out)
{
    BTFM_CHECK_ARG(out, "btfm_glm_clean_plan_new", "out");
    *out = btfm_params_alloc(sizeof **out, &btfm_clean_plan_param_table,
                             "btfm_glm_clean_plan_new");
    return *out ? BTFM_OK : BTFM_E_NOMEM;
}

void btfm_glm_clean_plan_free(btfm_glm_clean_plan *p) { btfm_free(p); }

btfm_status btfm_glm_clean_plan_set_param(btfm_glm_clean_plan *p, int param, double value)
{
    BTFM_CHECK_ARG(p, "btfm_glm_clean_plan_set_param", "plan");
    btfm_status st = check_set_t_r(param, value, "btfm_glm_clean_plan_set_param");
    if (st) return st;
    return btfm_params_set(&btfm_clean_plan_param_table, p->values, param, value,
                           "btfm_glm_clean_plan_set_param");
}

btfm_status btfm_glm_clean_plan_get_param(const btfm_glm_clean_plan *p, int param,
                                          double *value)
{
    BTFM_CHECK_ARG(p, "btfm_glm_clean_plan_get_param", "plan");
    return btfm_params_get(&btfm_clean_plan_param_table, p->values, param, value,
                           "btfm_glm_clean_plan_get_param");
}

btfm_status btfm_glm_clean_plan_run(const btfm_glm_clean_plan *p, float *out,
                                    const float *data, int64_t n_times, int64_t n_voxels,
                                    const float *confounds, int64_t n_confounds)
{
    static const char func[] = "btfm_glm_clean_plan_run";
    BTFM_CHECK_ARG(p, func, "plan");
    const double *v = p->values;
    btfm_status st = check_t_r(v[BTFM_CLEAN_PARAM_T_R], "clean plan", func);
    if (st) return st;
    const btfm_clean_options o = {
        v[BTFM_CLEAN_PARAM_T_R], (int)v[BTFM_CLEAN_PARAM_DETREND_ORDER],
        (int)v[BTFM_CLEAN_PARAM_FILTER], v[BTFM_CLEAN_PARAM_HIGH_PASS_HZ],
        v[BTFM_CLEAN_PARAM_LOW_PASS_HZ], (int)v[BTFM_CLEAN_PARAM_STANDARDIZE]};
    return btfm_glm_clean_compute(&o, data, n_times, n_voxels, confounds, n_confounds, out,
                                  func);
}
