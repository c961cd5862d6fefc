/* Cleaning of BOLD time series in nilearn's signal.clean order: detrend, temporal
 * filter, confound regression orthogonal to the filters (Lindquist 2018: the
 * confounds are detrended and filtered like the data first), standardization. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <btfm/signal.h>
#include "glm_internal.h"

#define BUTTERWORTH_ORDER 5

/* Everything a block of voxels needs, built once from the arguments. */
typedef struct clean_plan {
    int64_t n;             /* time points */
    double t_r;
    int detrend_order;     /* -1: none */
    double *poly;          /* n x (detrend_order + 1) orthonormal, or NULL */
    int butterworth;
    double high_pass, low_pass;
    double sos[6 * 2 * BUTTERWORTH_ORDER]; /* the Butterworth cascade */
    int n_sections;
    float *filter_buffer;  /* n x GLM_BLOCK */
    double *q;             /* n x rank: orthonormal basis of the cleaned confounds */
    int64_t rank;
    int standardize;
    double *work;          /* n x GLM_BLOCK */
    const char *func;      /* the public entry point, for messages */
} clean_plan;

/* Design the Butterworth cascade as nilearn's butterworth(): band-pass with both
 * cutoffs, else high- or low-pass, order 5, at the sampling rate 1 / t_r. */
static btfm_status butterworth_design(clean_plan *plan)
{
    int kind = plan->high_pass > 0 && plan->low_pass > 0 ? BTFM_FILTER_BANDPASS
               : plan->high_pass > 0                     ? BTFM_FILTER_HIGHPASS
                                                         : BTFM_FILTER_LOWPASS;
    double f1 = kind == BTFM_FILTER_LOWPASS ? plan->low_pass : plan->high_pass;
    plan->n_sections = btfm_butter_n_sections(BUTTERWORTH_ORDER, kind);
    if (plan->n_sections < 0) return plan->n_sections;
    btfm_status st = btfm_butter(BUTTERWORTH_ORDER, kind, f1, plan->low_pass, 1.0 / plan->t_r,
                                 plan->sos, sizeof plan->sos / sizeof plan->sos[0]);
    if (st) return st;
    size_t bytes;
    if (btfm_mul_size((size_t)plan->n, GLM_BLOCK * sizeof(float), &bytes))
        return btfm_fail_nomem(plan->func, SIZE_MAX);
    plan->filter_buffer = btfm_malloc(bytes);
    return plan->filter_buffer ? BTFM_OK : btfm_fail_nomem(plan->func, bytes);
}

/* The Butterworth step on a block (n x c, time-major doubles): zero phase with
 * scipy's default odd padding (btfm_sosfiltfilt), on a float copy. */
static btfm_status butterworth_block(const clean_plan *plan, double *y, int64_t c)
{
    float *f = plan->filter_buffer;
    for (int64_t i = 0; i < plan->n * c; i++) f[i] = (float)y[i];
    btfm_status st = btfm_sosfiltfilt(plan->sos, plan->n_sections, f, plan->n, (int)c,
                                      BTFM_PAD_ODD, -1, 0, f);
    if (st) return st;
    for (int64_t i = 0; i < plan->n * c; i++) y[i] = f[i];
    return BTFM_OK;
}

/* Detrend and filter a block: the steps the data and the confounds share. */
static btfm_status detrend_filter(const clean_plan *plan, double *y, int64_t c)
{
    if (plan->poly) btfm_dense_project_out(plan->poly, plan->n, plan->detrend_order + 1, y, c,
                                         plan->work);
    return plan->butterworth ? butterworth_block(plan, y, c) : BTFM_OK;
}

/* nilearn's standardize_signal on the columns of y (n x c): z-score with ddof 0 or 1
 * (a std below machine epsilon counts as 1), or percent signal change from the mean
 * (zero where |mean| is below epsilon). */
static void standardize(double *y, int64_t n, int64_t c, int how)
{
    if (how == BTFM_STANDARDIZE_NONE) return;
    for (int64_t j = 0; j < c; j++) {
        double mean = 0;
        for (int64_t t = 0; t < n; t++) mean += y[t * c + j];
        mean /= (double)n;
        double scale;
        if (how == BTFM_STANDARDIZE_PSC) {
            scale = fabs(mean) < DBL_EPSILON ? 0.0 : 100.0 / fabs(mean);
        } else {
            double ss = 0;
            for (int64_t t = 0; t < n; t++) ss += (y[t * c + j] - mean) * (y[t * c + j] - mean);
            double sd = sqrt(ss / (double)(how == BTFM_STANDARDIZE_ZSCORE_SAMPLE ? n - 1 : n));
            scale = sd < DBL_EPSILON ? 1.0 : 1.0 / sd;
        }
        for (int64_t t = 0; t < n; t++) y[t * c + j] = (y[t * c + j] - mean) * scale;
    }
}

/* The confounds (plus the cosines of the cosine filter), detrended, filtered and
 * z-scored like nilearn's, reduced to an orthonormal basis of their span. */
static btfm_status confound_basis(clean_plan *plan, const float *confounds,
                                  int64_t n_confounds, int cosine)
{
    const int64_t n = plan->n;
    int64_t n_cos = 0;
    double *cos_basis = NULL;
    btfm_status st = BTFM_OK;
    if (cosine) {
        int64_t cols;
        if ((st = btfm_glm_cosine_drift(n, plan->t_r, 1.0 / plan->high_pass, NULL, 0, &cols)))
            return st;
        cos_basis = btfm_dense_zeros(n, cols, plan->func);
        if (!cos_basis) return BTFM_E_NOMEM;
        st = btfm_glm_cosine_drift(n, plan->t_r, 1.0 / plan->high_pass, cos_basis,
                                   (size_t)(n * cols), &cols);
        n_cos = cols - 1; /* the constant is left out: the data are centred */
        if (!st && n_cos == 0)
            btfm_warn("%s: a %g s run is too short for a %g Hz cosine high-pass; no cosine "
                      "regressor", plan->func, (double)n * plan->t_r, plan->high_pass);
    }
    const int64_t k = n_confounds + n_cos;
    double *x = st || k == 0 ? NULL : btfm_dense_zeros(n, k, plan->func);
    if (!st && k > 0 && !x) st = BTFM_E_NOMEM;
    if (!st && k > 0) {
        for (int64_t t = 0; t < n; t++) {
            for (int64_t j = 0; j < n_confounds; j++) x[t * k + j] = confounds[t * n_confounds + j];
            for (int64_t j = 0; j < n_cos; j++)
                x[t * k + n_confounds + j] = cos_basis[t * (n_cos + 1) + j];
        }
        /* In blocks: the work buffer holds GLM_BLOCK columns. */
        for (int64_t j0 = 0; !st && j0 < k; j0 += GLM_BLOCK) {
            int64_t c = k - j0 < GLM_BLOCK ? k - j0 : GLM_BLOCK;
            double *block = btfm_dense_zeros(n, c, plan->func);
            if (!block) { st = BTFM_E_NOMEM; break; }
            for (int64_t t = 0; t < n; t++) memcpy(block + t * c, x + t * k + j0,
                                                   (size_t)c * sizeof(double));
            st = detrend_filter(plan, block, c);
            standardize(block, n, c, BTFM_STANDARDIZE_ZSCORE);
            for (int64_t t = 0; t < n; t++) memcpy(x + t * k + j0, block + t * c,
                                                   (size_t)c * sizeof(double));
            btfm_free(block);
        }
        if (!st)
            st = btfm_dense_basis(x, n, k, 1e-10, &plan->q, &plan->rank, NULL, plan->func);
    }
    btfm_free(x);
    btfm_free(cos_basis);
    return st;
}

static btfm_status check_args(const btfm_clean_options *o, const float *data, int64_t n_times,
                              int64_t n_voxels, const float *confounds, int64_t n_confounds,
                              const float *out, const char *func)
{
    const double t_r = o->t_r, high_pass = o->high_pass_hz, low_pass = o->low_pass_hz;
    const int detrend_order = o->detrend_order, filter = o->filter, how = o->standardize;
    BTFM_CHECK_ARG(data, func, "data");
    BTFM_CHECK_ARG(out, func, "out");
    if (n_times < 2 || n_voxels < 1)
        return btfm_fail(BTFM_E_RANGE, "%s: data of %lld volumes x %lld voxels; expected at "
                         "least 2 volumes and 1 voxel", func, (long long)n_times,
                         (long long)n_voxels);
    if (!(t_r > 0) || !isfinite(t_r))
        return btfm_fail(BTFM_E_RANGE, "%s: t_r = %g s; expected a positive repetition time",
                         func, t_r);
    if (detrend_order < -1 || detrend_order > 20 || detrend_order >= n_times)
        return btfm_fail(BTFM_E_RANGE, "%s: detrend order %d; expected -1 (none) to "
                         "min(20, n_times - 1)", func, detrend_order);
    if (filter < BTFM_CLEAN_FILTER_NONE || filter > BTFM_CLEAN_FILTER_COSINE)
        return btfm_fail(BTFM_E_INVALID, "%s: unknown filter %d; expected 0 (none), 1 "
                         "(butterworth) or 2 (cosine)", func, filter);
    if (how < BTFM_STANDARDIZE_NONE || how > BTFM_STANDARDIZE_PSC)
        return btfm_fail(BTFM_E_INVALID, "%s: unknown standardization %d; expected 0 (none), "
                         "1 (zscore_sample), 2 (zscore) or 3 (psc)", func, how);
    const double nyquist = 0.5 / t_r;
    if (!(high_pass >= 0 && high_pass < nyquist) || !(low_pass >= 0 && low_pass < nyquist))
        return btfm_fail(BTFM_E_RANGE, "%s: high_pass = %g Hz, low_pass = %g Hz; expected 0 "
                         "(none) or a frequency below the Nyquist frequency %g Hz", func,
                         high_pass, low_pass, nyquist);
    if (filter == BTFM_CLEAN_FILTER_BUTTERWORTH && high_pass > 0 && low_pass > 0 &&
        high_pass >= low_pass)
        return btfm_fail(BTFM_E_RANGE, "%s: high_pass %g Hz >= low_pass %g Hz; a band-pass "
                         "needs high_pass < low_pass", func, high_pass, low_pass);
    if (filter == BTFM_CLEAN_FILTER_COSINE && (high_pass <= 0 || low_pass > 0))
        return btfm_fail(BTFM_E_RANGE, "%s: the cosine filter is a high-pass: expected "
                         "high_pass > 0 Hz and low_pass 0 (got %g and %g)", func, high_pass,
                         low_pass);
    if (n_confounds < 0 || (n_confounds > 0 && !confounds))
        return btfm_fail(BTFM_E_INVALID, "%s: %lld confounds at %p", func,
                         (long long)n_confounds, (const void *)confounds);
    btfm_status st = btfm_glm_check_finite(data, n_times, n_voxels, func, "voxel");
    if (!st && n_confounds > 0)
        st = btfm_glm_check_finite(confounds, n_times, n_confounds, func, "confound");
    return st;
}

btfm_status btfm_glm_clean_compute(const btfm_clean_options *o, const float *data,
                                   int64_t n_times, int64_t n_voxels, const float *confounds,
                                   int64_t n_confounds, float *out, const char *func)
{
    btfm_status st = check_args(o, data, n_times, n_voxels, confounds, n_confounds, out, func);
    if (st) return st;
    const double t_r = o->t_r, high_pass_hz = o->high_pass_hz, low_pass_hz = o->low_pass_hz;
    const int detrend_order = o->detrend_order, filter = o->filter, how = o->standardize;
    const int64_t n = n_times, V = n_voxels;
    clean_plan plan = {0};
    plan.n = n;
    plan.t_r = t_r;
    plan.detrend_order = detrend_order;
    plan.butterworth = filter == BTFM_CLEAN_FILTER_BUTTERWORTH &&
                       (high_pass_hz > 0 || low_pass_hz > 0);
    plan.high_pass = high_pass_hz;
    plan.low_pass = low_pass_hz;
    plan.standardize = how;
    plan.func = func;
    double *y = btfm_dense_zeros(n, GLM_BLOCK, func);
    double mean[GLM_BLOCK];
    /* The work buffer holds the widest projection: both bases have at most n columns. */
    plan.work = btfm_dense_zeros(n, GLM_BLOCK, func);
    if (!y || !plan.work) { st = BTFM_E_NOMEM; goto done; }
    if (detrend_order >= 0 && (st = btfm_glm_poly_basis(n, detrend_order, &plan.poly)))
        goto done;
    if (plan.butterworth && (st = butterworth_design(&plan))) goto done;
    if (n_confounds > 0 || filter == BTFM_CLEAN_FILTER_COSINE)
        if ((st = confound_basis(&plan, confounds, n_confounds,
                                 filter == BTFM_CLEAN_FILTER_COSINE)))
            goto done;
    /* nilearn adds the original mean back before standardizing when the data were
     * filtered, or detrended for percent signal change. */
    const int restore_mean = plan.butterworth ||
                             (detrend_order >= 0 && how == BTFM_STANDARDIZE_PSC);
    for (int64_t v0 = 0; v0 < V; v0 += GLM_BLOCK) {
        int64_t c = V - v0 < GLM_BLOCK ? V - v0 : GLM_BLOCK;
        btfm_dense_copy_fd(data + v0, V, n, c, y, c);
        for (int64_t j = 0; j < c; j++) mean[j] = 0;
        for (int64_t t = 0; t < n; t++)
            for (int64_t j = 0; j < c; j++) mean[j] += y[t * c + j];
        for (int64_t j = 0; j < c; j++) mean[j] /= (double)n;
        if ((st = detrend_filter(&plan, y, c))) goto done;
        btfm_dense_project_out(plan.q, n, plan.rank, y, c, plan.work);
        if (restore_mean)
            for (int64_t t = 0; t < n; t++)
                for (int64_t j = 0; j < c; j++) y[t * c + j] += mean[j];
        standardize(y, n, c, how);
        btfm_dense_copy_df(y, c, n, c, out + v0, V);
    }
done:
    btfm_free(y);
    btfm_free(plan.work);
    btfm_free(plan.poly);
    btfm_free(plan.q);
    btfm_free(plan.filter_buffer);
    return st;
}

btfm_status btfm_glm_clean(const float *data, int64_t n_times, int64_t n_voxels, double t_r,
                           int detrend_order, int filter, double high_pass_hz,
                           double low_pass_hz, const float *confounds, int64_t n_confounds,
                           int how, float *out)
{
    const btfm_clean_options o = {t_r, detrend_order, filter, high_pass_hz, low_pass_hz, how};
    return btfm_glm_clean_compute(&o, data, n_times, n_voxels, confounds, n_confounds, out,
                                  "btfm_glm_clean");
}
